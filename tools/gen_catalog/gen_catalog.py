#!/usr/bin/env python3
"""Writes a synthetic Portale site of N datasets, without running the ETL: a generation
with a manifest.json and small real files (their sizes and SHA-256 in the manifest), and
CURRENT naming it. `portale serve --site DIR` serves it like a built site.

usage: gen_catalog.py [--site DIR] [--datasets 1000] [--base-url http://127.0.0.1:8080]
                      [--profile dcat|search] [--harvested PERCENT] [--queries FILE]

Two profiles:
- `dcat` (the default; the catalogue crawl benchmark and the conformance tests): one
  publisher, a few topics, the edge cases below, small real files;
- `search` (the search benchmark, bench/search.sh): Italian public-sector vocabulary,
  ~220 publishers, a share of harvested records in site/federation/ (--harvested,
  default 25 %), and with --queries the benchmark's fixed mix of 1,000 queries; see
  search_catalog.py. `--datasets` then counts own and harvested records together.

Deterministic (no RNG): dataset n always gets the same id, text, themes, dates and files,
so catalogue benchmarks and validity checks are comparable from run to run. The records
exercise what the DCAT writer must get right: every EU theme and several frequencies and
AgID licences, EuroVoc sub-themes of the right theme, other rights holders, standards
given as URIs and as plain names, layers inside and outside the territory, open and
closed temporal coverage, and titles/keywords with quotes, `<`, `&`, apostrophes,
newlines and accents.

The manifest follows src/model/mod.rs (MANIFEST_VERSION 1); `portale serve` refuses a
manifest that does not, so a drift shows at once.
"""
import argparse
import hashlib
import json
import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

THEMES = ["AGRI", "ECON", "EDUC", "ENER", "ENVI", "GOVE", "HEAL", "INTR", "JUST", "REGI", "SOCI", "TECH", "TRAN"]
FREQUENCIES = ["ANNUAL", "MONTHLY", "IRREG", "QUARTERLY", "WEEKLY", "DAILY", "NEVER"]
LICENCES = ["A21_CCBY40", "A11_CCO10", "A29_IODL20", "A31_CCBYSA40", "A310_ODBL", "CC-BY-4.0"]
TOPICS = ["scuole", "rifiuti", "parcheggi", "biblioteche", "farmacie", "piste ciclabili", "aree verdi",
          "impianti sportivi", "fontanelle", "defibrillatori", "mercati", "cimiteri", "asili nido"]
PLACES = ["Capannori", "Lammari", "Marlia", "Segromigno in Monte", "Camigliano", "Porcari", "Lunata",
          "Colle di Compito", "Pieve di Compito", "San Colombano"]
TERRITORY = [10.486, 43.749, 10.659, 43.943]
PUBLISHER = {"name": "Comune di Capannori", "identifier": "c_b648"}
OTHER_HOLDERS = [
    {"name": "Istituto Nazionale di Statistica - ISTAT", "identifier": "istat"},
    {"name": "Regione Toscana", "identifier": "r_toscan"},
]
CONTACT = {"name": "Ufficio Sistemi Informativi", "email": "opendata@comune.capannori.lu.it",
           "url": "https://www.comune.capannori.lu.it"}


def subthemes_by_theme():
    out = {}
    with open(ROOT / "src/catalog/eurovoc_subthemes.tsv", encoding="utf-8") as f:
        for line in f:
            uri, theme, _, _ = line.rstrip("\n").split("\t")
            out.setdefault(theme, []).append(uri)
    return out


def write_file(gen_dir, ds_id, name, data, fmt, media_type, rows):
    rel = f"datasets/{ds_id}/{name}"
    path = gen_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {
        "file": name,
        "format": fmt,
        "media_type": media_type,
        "byte_size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": rows,
        "path": rel,
    }


def dataset(n, gen_dir, subthemes):
    ds_id = f"dataset-{n:05d}"
    topic = TOPICS[n % len(TOPICS)]
    place = PLACES[n % len(PLACES)]
    theme = THEMES[n % len(THEMES)]
    themes = [theme] if n % 7 else [theme, THEMES[(n + 5) % len(THEMES)]]
    subs = subthemes.get(theme, [])
    layer = n % 4 == 0
    outside = n % 20 == 0  # a province-scale layer: no municipality in dct:spatial
    rows = 3 + n % 5
    csv = "id,nome,frazione\n" + "".join(f"{i},\"{topic} {i}\",{place}\n" for i in range(rows))
    records = [{"id": i, "nome": f"{topic} {i}", "frazione": place} for i in range(rows)]
    files = [
        write_file(gen_dir, ds_id, f"{ds_id}.csv", csv.encode(), "CSV", "text/csv", rows),
        write_file(gen_dir, ds_id, f"{ds_id}.json", json.dumps(records, ensure_ascii=False).encode(),
                   "JSON", "application/json", rows),
    ]
    bbox = None
    if layer:
        if outside:
            bbox = [10.143, 43.749, 10.738, 44.285]
        else:
            dx, dy = (n % 13) * 0.005, (n % 17) * 0.004
            bbox = [TERRITORY[0] + dx, TERRITORY[1] + dy, TERRITORY[0] + dx + 0.05, TERRITORY[1] + dy + 0.06]
        features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [bbox[0] + 0.001 * i, bbox[1] + 0.001 * i]},
                     "properties": r} for i, r in enumerate(records)]
        files.append(write_file(gen_dir, ds_id, f"{ds_id}.geojson",
                                json.dumps({"type": "FeatureCollection", "features": features}).encode(),
                                "GEOJSON", "application/geo+json", rows))
    start = datetime(2015, 1, 1) + timedelta(days=n % 3000)
    temporal = None
    if n % 6:
        temporal = {"start": start.strftime("%Y-%m-%d")}
        if n % 2:
            temporal["end"] = (start + timedelta(days=365)).strftime("%Y-%m-%d")
    modified = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(hours=n * 7, seconds=n % 60)
    title = f"{topic.capitalize()} a {place} n. {n}"
    if n % 9 == 0:
        title += ' – "edizione" <speciale> & l’ultima'
    description = (f"Elenco di {topic} nella frazione di {place} (Comune di Capannori), record n. {n}.\n"
                   f"Dati dimostrativi generati da tools/gen_catalog per i test del catalogo DCAT-AP_IT; "
                   f"caratteri speciali: à è é ì ò ù, \"virgolette\", <tag>, & e l'apostrofo.")
    holder = PUBLISHER if n % 5 else OTHER_HOLDERS[n % len(OTHER_HOLDERS)]
    conforms = []
    if n % 11 == 0:
        conforms = ["https://www.istat.it/it/archivio/6789", "Regolamento comunale n. 12/2020"]
    meta = {
        "title": title,
        "description": description,
        "themes": themes,
        "subthemes": [subs[n % len(subs)]] if subs else [],
        "keywords": [topic, place, f"anno {2015 + n % 10}", "dati, aperti"],
        "frequency": FREQUENCIES[n % len(FREQUENCIES)],
        "license": LICENCES[n % len(LICENCES)],
        "publisher": PUBLISHER,
        "rights_holder": holder,
        "contact_point": CONTACT,
        "conforms_to": conforms,
        "demo_data": True,
    }
    if temporal:
        meta["temporal"] = temporal
    if n % 3:
        meta["issued"] = (start + timedelta(days=30)).strftime("%Y-%m-%d")
    ds = {
        "id": ds_id,
        "meta": meta,
        "fields": [
            {"name": "id", "type": "integer", "required": True, "unique": True, "nulls": 0},
            {"name": "nome", "type": "string", "required": True, "unique": False, "nulls": 0},
            {"name": "frazione", "type": "string", "required": False, "unique": False, "nulls": 0},
        ],
        "rows": rows,
        "extent": {},
        "distributions": files,
        "quality": {
            "rows_read": rows, "rows_kept": rows, "rows_rejected": 0, "rows_filtered": 0,
            "rejections": [], "rejection_counts": {}, "geometries_repaired": 0, "geometries_rejected": 0,
            "repairs": [], "personal_data_dropped": [], "detected": [],
        },
        "modified": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input_hash": hashlib.sha256(ds_id.encode()).hexdigest(),
    }
    if bbox:
        ds["extent"]["bbox"] = bbox
        ds["layer"] = {"geometry_type": "Point", "source_crs": 4326, "features": rows}
    if temporal:
        ds["extent"]["temporal"] = temporal
    return ds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--site", help="the site folder to write (search profile: optional with --queries)")
    ap.add_argument("--datasets", type=int, default=1000)
    ap.add_argument("--base-url", default="http://127.0.0.1:8080")
    ap.add_argument("--profile", choices=["dcat", "search"], default="dcat")
    ap.add_argument("--harvested", type=int, default=25, metavar="PERCENT",
                    help="search profile: share of harvested records, 0-100 (default 25)")
    ap.add_argument("--queries", metavar="FILE",
                    help="search profile: also write the benchmark's query mix (JSON lines) to FILE")
    a = ap.parse_args()
    if a.site is None and not (a.profile == "search" and a.queries):
        ap.error("--site is needed (only --profile search --queries FILE writes the queries alone)")
    site = Path(a.site) if a.site else None
    if a.profile == "search":
        if not 0 <= a.harvested <= 100:
            ap.error(f"--harvested must be a percentage from 0 to 100, found {a.harvested}")
        sys.path.insert(0, str(HERE))
        import search_catalog
        if a.queries:
            search_catalog.write_queries(a.queries)
            print(f"1000 queries in {a.queries}")
        if site is None:
            return
        own, harvested = search_catalog.write_site(site, a.datasets, a.harvested, a.base_url, PUBLISHER, CONTACT)
        print(f"{own} own datasets in {site / 'generations' / f'gsearch{a.datasets}'}, "
              f"{harvested} harvested records in {site / 'federation'}")
        return
    if a.queries:
        ap.error("--queries needs --profile search")
    name = f"gsynth{a.datasets}"
    gen_dir = site / "generations" / name
    gen_dir.mkdir(parents=True, exist_ok=True)
    subthemes = subthemes_by_theme()
    datasets = [dataset(n, gen_dir, subthemes) for n in range(1, a.datasets + 1)]
    manifest = {
        "version": 1,
        "generation": name,
        "built_at": "2026-01-01T00:00:00Z",
        "portale_version": "synthetic",
        "catalog": {
            "title": "Dati aperti del Comune di Capannori (catalogo sintetico)",
            "description": f"Catalogo sintetico di {a.datasets} dataset per i test e i benchmark di Portale.",
            "publisher": PUBLISHER,
            "base_url": a.base_url.rstrip("/"),
            "homepage": "https://www.comune.capannori.lu.it",
            "languages": ["it", "en"],
            "default_license": "A21_CCBY40",
            "contact_point": CONTACT,
            "istat_code": "046007",
            "territory_bbox": TERRITORY,
        },
        "datasets": datasets,
    }
    (gen_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp = site / f"CURRENT.{name}.tmp"
    tmp.write_text(name + "\n")
    os.replace(tmp, site / "CURRENT")
    print(f"{a.datasets} datasets in {gen_dir}")


if __name__ == "__main__":
    main()
