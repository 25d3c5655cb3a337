"""The search benchmark's catalogue (gen_catalog.py --profile search): N records with
Italian public-sector vocabulary, our own datasets in a generation's manifest and a
share of harvested records in `site/federation/<source>.json`, plus the benchmark's fixed
mix of queries.

Determinism: no RNG library. Every record draws from its own xorshift64* generator
seeded with the first 8 bytes of SHA-256 of `portale-search-bench-1/<n>` (xorshift64*:
Vigna 2016, shifts 12, 25, 27, multiplier 0x2545F4914F6CDD1D), so record n is the same
whatever N is: the catalogue of 10,000 is the first 10,000 records of the catalogue of
100,000. The query mix has its own generator (seed `portale-search-bench-queries-1`) and
does not depend on N either.

What the records look like (search_vocab.py has the words):
- own datasets (about 75 %): a topic of municipal open data (contributions, waste,
  fines, school buses, budgets, ...) with its EU themes, keywords and columns, published
  by one of ~220 Italian municipalities, metropolitan cities, provinces and regions;
  titles such as "Contributi alle associazioni sportive 2023 - Comune di Lucca";
  descriptions of 2-5 sentences; layers (topics with a geometry) with a bbox around the
  publisher; a temporal coverage for most; modification dates 2016-2026;
- harvested records (about 25 %), from five sources (CKAN and DCAT, some republished),
  each with the publishers of its region (dati.gov.it's: all of Italy, 8 % in English);
  licences as the origin gives them (AgID URIs, CKAN ids, titles), wider formats (XLSX,
  PDF, SHP, ...), place names and sometimes a bbox.

Pitfall: no distribution file is written (the search benchmark never downloads one;
100,000 datasets would be ~250,000 files); the manifest's sizes and hashes describe files
that do not exist, so downloads and the quality score of `/datasets/{id}.json` are not
meaningful on this site. Searching and listing are.
"""
import hashlib
import json
import os
import unicodedata
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import search_vocab as V

SEED = "portale-search-bench-1"
QUERY_SEED = "portale-search-bench-queries-1"
MASK = (1 << 64) - 1


class Rng:
    """xorshift64* seeded from SHA-256 of a text."""

    def __init__(self, seed):
        s = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little")
        self.s = s or 0x9E3779B97F4A7C15

    def next(self):
        x = self.s
        x ^= x >> 12
        x ^= (x << 25) & MASK
        x ^= x >> 27
        self.s = x
        return (x * 0x2545F4914F6CDD1D) & MASK

    def below(self, n):
        """An integer in [0, n)."""
        return (self.next() >> 11) % n

    def unit(self):
        """A float in [0, 1)."""
        return (self.next() >> 11) / float(1 << 53)

    def uniform(self, a, b):
        return a + (b - a) * self.unit()

    def chance(self, p):
        return self.unit() < p

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def weighted(self, pairs):
        total = sum(w for _, w in pairs)
        r = self.below(total)
        for value, w in pairs:
            if r < w:
                return value
            r -= w
        return pairs[-1][0]

    def sample(self, seq, k):
        """k distinct items of seq, in seq's order."""
        idx = list(range(len(seq)))
        chosen = set()
        for _ in range(min(k, len(seq))):
            i = idx.pop(self.below(len(idx)))
            chosen.add(i)
        return [seq[i] for i in sorted(chosen)]


# --- Publishers ------------------------------------------------------------------------

def ascii_fold(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _ipa(prefix, name):
    letters = "".join(c for c in ascii_fold(name).lower() if c.isalpha())
    return f"{prefix}_{letters[:8]}"


def _publishers():
    region_bbox = {short: bbox for _, short, bbox in V.REGIONS}
    region_pub = {short: name for name, short, _ in V.REGIONS}
    where = {name: (region, lon, lat) for name, region, lon, lat in V.COMUNI}
    out = []
    for name, region, lon, lat in V.COMUNI:
        out.append({"name": f"Comune di {name}", "identifier": _ipa("c", name), "kind": "comune",
                    "place": name, "region": region, "centre": (lon, lat), "radius": 0.06})
    for name in V.METRO_CITIES:
        region, lon, lat = where[name]
        out.append({"name": f"Città metropolitana di {name}", "identifier": _ipa("m", name), "kind": "metro",
                    "place": name, "region": region, "centre": (lon, lat), "radius": 0.35})
    for name in V.PROVINCES:
        region, lon, lat = where[name]
        out.append({"name": f"Provincia di {name}", "identifier": _ipa("p", name), "kind": "provincia",
                    "place": name, "region": region, "centre": (lon, lat), "radius": 0.3})
    for name, short, bbox in V.REGIONS:
        out.append({"name": name, "identifier": _ipa("r", short), "kind": "regione", "place": short,
                    "region": short, "centre": ((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2),
                    "bbox": bbox})
    for p in out:
        p["region_publisher"] = region_pub[p["region"]]
        p["region_bbox"] = region_bbox[p["region"]]
    return out


PUBLISHERS = _publishers()
BY_REGION = {}
for _p in PUBLISHERS:
    BY_REGION.setdefault(_p["region"], []).append(_p)


def pick_publisher(rng, region=None):
    pool = BY_REGION[region] if region else PUBLISHERS
    kind = rng.weighted([("comune", 80), ("metro", 7), ("provincia", 5), ("regione", 8)])
    of_kind = [p for p in pool if p["kind"] == kind] or pool
    return rng.pick(of_kind)


# --- Pieces of a record ----------------------------------------------------------------

def slug(text, words=4):
    out = []
    for w in ascii_fold(text).lower().replace("'", " ").split():
        w = "".join(c for c in w if c.isalnum())
        if w and len(out) < words:
            out.append(w)
    return "-".join(out)


def lower_first(text):
    return text[:1].lower() + text[1:]


def bbox_around(rng, pub):
    if "bbox" in pub:
        w, s, e, n = pub["bbox"]
        if rng.chance(0.5):
            return [w, s, e, n]
        # A part of the region.
        dx, dy = (e - w) * rng.uniform(0.15, 0.5), (n - s) * rng.uniform(0.15, 0.5)
        x, y = rng.uniform(w, e - dx), rng.uniform(s, n - dy)
        return [round(x, 5), round(y, 5), round(x + dx, 5), round(y + dy, 5)]
    lon, lat = pub["centre"]
    r = pub["radius"]
    rx, ry = r * rng.uniform(0.3, 1.0), r * rng.uniform(0.3, 1.0) * 0.75
    ox, oy = r * rng.uniform(-0.3, 0.3), r * rng.uniform(-0.3, 0.3)
    return [round(lon + ox - rx, 5), round(lat + oy - ry, 5), round(lon + ox + rx, 5), round(lat + oy + ry, 5)]


def temporal(rng):
    if rng.chance(0.25):
        return None
    start = date(2008, 1, 1) + timedelta(days=rng.below(17 * 365))
    if rng.chance(0.4):
        start = date(start.year, 1, 1)
    shape = rng.weighted([("year", 50), ("open", 20), ("years", 30)])
    out = {"start": start.isoformat()}
    if shape == "year":
        out["end"] = (date(start.year + 1, start.month, min(start.day, 28)) - timedelta(days=1)).isoformat()
    elif shape == "years":
        out["end"] = date(start.year + 1 + rng.below(8), 12, 31).isoformat()
    return out


def modified(rng):
    t = datetime(2016, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.below(10 * 365 * 86400 + 180 * 86400))
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def field_type(name):
    if name.startswith("data") or name in ("scadenza",):
        return "date"
    if name in ("anno", "eta", "mese", "posti", "iscritti", "alunni", "voti", "numero", "civico") or \
            name.startswith(("numero_", "posti_", "visitatori")):
        return "integer"
    if name.startswith(("importo", "superficie", "lunghezza", "potenza", "temperatura", "pm", "tonnellate",
                        "percentuale", "valore", "spesa", "gettito", "stanziamento", "canone", "compenso")):
        return "number"
    return "string"


def title_it(rng, topic, pub, year, place):
    t = topic[0]
    form = rng.weighted([("year_pub", 30), ("pub", 15), ("place_year", 15), ("span", 10),
                         ("place_word", 10), ("elenco", 10), ("year", 10)])
    if form == "year_pub":
        return f"{t} {year} - {pub['name']}"
    if form == "pub":
        return f"{t} - {pub['name']}"
    if form == "place_year":
        return f"{t} ({place}, {year})"
    if form == "span":
        return f"{t} {year - 1 - rng.below(6)}-{year}"
    if form == "place_word":
        return f"{t}: {rng.pick(V.PLACE_WORDS)}, {place}"
    if form == "elenco":
        return f"Elenco: {lower_first(t)} di {place}"
    return f"{t} {year}"


def title_en(rng, topic, pub, year, place):
    t = topic[0]
    form = rng.weighted([("pub", 40), ("year", 30), ("place", 30)])
    if form == "pub":
        return f"{t} - {pub['name']}"
    if form == "year":
        return f"{t} {year}"
    return f"{t} in {place}"


def description(rng, topic, pub, year, place, freq, english):
    ctx = {
        "what": lower_first(topic[0]), "place": place, "year": year, "publisher": pub["name"],
        "freq_it": V.FREQ_IT.get(freq, "irregolare"), "freq_en": V.FREQ_EN.get(freq, "irregularly"),
        "columns": ", ".join(f.replace("_", " ") for f in topic[3]),
        "office": rng.pick(V.OFFICES), "partner": rng.pick(V.PARTNERS),
        "start_year": year - 1 - rng.below(10),
    }
    pool = V.SENTENCES_EN if english else V.SENTENCES_IT
    k = 2 + rng.below(4)
    first, rest = pool[0], pool[1:]
    sentences = [first] + rng.sample(rest, k - 1)
    return " ".join(s.format(**ctx) for s in sentences)


def keywords(rng, topic, place, year):
    kw = rng.sample(topic[2], 2 + rng.below(len(topic[2]) - 1))
    if rng.chance(0.5):
        kw.append(place)
    if rng.chance(0.3):
        kw.append(str(year))
    return kw


def themes(rng, topic):
    th = list(topic[1])
    if len(th) > 1 and rng.chance(0.4):
        th = th[:1]
    return th


def place_of(rng, pub):
    if pub["place"] == "Capannori" and rng.chance(0.5):
        return rng.pick(V.FRAZIONI_CAPANNORI)
    return pub["place"]


def is_harvested(n, share_percent):
    # A fixed, spread-out pattern (7919 is prime), the same whatever N is.
    return (n * 7919) % 100 < share_percent


# --- Own datasets ----------------------------------------------------------------------

def own_dataset(n):
    rng = Rng(f"{SEED}/{n}")
    topic = rng.pick(V.TOPICS)
    pub = pick_publisher(rng)
    year = 2012 + rng.below(14)
    place = place_of(rng, pub)
    freq = rng.weighted(V.FREQUENCIES)
    ds_id = f"{slug(topic[0])}-{n:06d}"
    geometry = topic[4]
    rows = 5 + rng.below(20000)
    formats = rng.pick(V.OWN_LAYER_FORMATS if geometry else V.OWN_TABLE_FORMATS)
    dists = []
    for fmt in formats:
        ext = V.FILE_EXT[fmt]
        if fmt == "BIN":
            ext = rng.pick(["fgb", "parquet"])
        name = f"{ds_id}.{ext}"
        dists.append({
            "file": name, "format": fmt,
            "media_type": "application/vnd.apache.parquet" if ext == "parquet" else V.MEDIA_TYPES[fmt],
            "byte_size": rows * (40 + rng.below(200)),
            "sha256": hashlib.sha256(name.encode()).hexdigest(),
            "rows": rows, "path": f"datasets/{ds_id}/{name}",
        })
    fields = [{"name": f, "type": field_type(f), "required": i == 0, "unique": i == 0, "nulls": 0}
              for i, f in enumerate(topic[3])]
    tmp = temporal(rng)
    meta = {
        "title": title_it(rng, topic, pub, year, place),
        "description": description(rng, topic, pub, year, place, freq, False),
        "themes": themes(rng, topic),
        "subthemes": [],
        "keywords": keywords(rng, topic, place, year),
        "frequency": freq,
        "license": rng.weighted(V.LICENCES),
        "publisher": {"name": pub["name"], "identifier": pub["identifier"]},
        "rights_holder": {"name": pub["name"], "identifier": pub["identifier"]},
        "contact_point": {"name": f"Ufficio {rng.pick(V.OFFICES)}",
                          "email": f"opendata@{slug(pub['place'], 3).replace('-', '')}.example.it"},
        "conforms_to": [],
        "demo_data": True,
    }
    if tmp:
        meta["temporal"] = tmp
    if rng.chance(0.6):
        meta["issued"] = (date(year, 1, 1) + timedelta(days=rng.below(365))).isoformat()
    ds = {
        "id": ds_id,
        "meta": meta,
        "fields": fields,
        "rows": rows,
        "extent": {},
        "distributions": dists,
        "quality": {
            "rows_read": rows, "rows_kept": rows, "rows_rejected": 0, "rows_filtered": 0,
            "rejections": [], "rejection_counts": {}, "geometries_repaired": 0, "geometries_rejected": 0,
            "repairs": [], "personal_data_dropped": [], "detected": [],
        },
        "modified": modified(rng),
        "input_hash": hashlib.sha256(ds_id.encode()).hexdigest(),
    }
    if geometry:
        ds["extent"]["bbox"] = bbox_around(rng, pub)
        ds["layer"] = {"geometry_type": geometry, "source_crs": rng.pick([4326, 3003, 6707, 32632]),
                       "features": rows}
    if tmp:
        ds["extent"]["temporal"] = tmp
    return ds


# --- Harvested records -----------------------------------------------------------------

def harvested_record(n):
    """(source name, record dict in FederatedRecord's field order)."""
    rng = Rng(f"{SEED}/{n}")
    src = rng.weighted([(s, s[5]) for s in V.HARVEST_SOURCES])
    name, kind, url, _republish, region, _share, english_share = src
    english = rng.chance(english_share)
    topic = rng.pick(V.TOPICS_EN if english else V.TOPICS)
    pub = pick_publisher(rng, region)
    year = 2012 + rng.below(14)
    place = place_of(rng, pub)
    freq = rng.weighted(V.FREQUENCIES)
    title = (title_en if english else title_it)(rng, topic, pub, year, place)
    if kind == "ckan":
        original_id = "%08x-%04x-4%03x-a%03x-%012x" % (rng.next() >> 32, rng.below(1 << 16), rng.below(1 << 12),
                                                       rng.below(1 << 12), rng.next() >> 16)
        uri = f"{url}/dataset/{original_id}" if rng.chance(0.5) else None
        landing = f"{url}/dataset/{slug(title, 8)}-{n}"
        harvested_from = f"{url}/api/3/action/package_search?rows=1000&start={(n // 1000) * 1000}"
    else:
        original_id = f"{pub['identifier']}:{slug(topic[0])}-{n}"
        uri = f"{url}/dataset/{pub['identifier']}-{n}"
        landing = f"{url}/dataset/{pub['identifier']}-{n}.html"
        harvested_from = f"{url}?page={1 + n // 100}"
    lic_id = rng.weighted(V.LICENCES)
    lic_form = rng.weighted(V.LICENCE_ORIGIN_FORMS)
    licence = {"uri": f"https://w3id.org/italia/controlled-vocabulary/licences/{lic_id}",
               "ckan_id": V.LICENCE_CKAN_IDS[lic_id], "title": V.LICENCE_TITLES[lic_id]}[lic_form]
    th = themes(rng, topic)
    if rng.chance(0.05):
        th = th + [rng.pick(["Ambiente", "Mobilità e trasporti", "http://www.eurovoc.europa.eu/100149"])]
    dists = []
    for i in range(1 + rng.below(4)):
        fmt = rng.weighted(V.HARVESTED_FORMATS)
        file_url = f"{url}/download/{slug(title, 3)}-{n}-{i}.{fmt.lower()}"
        d = {"title": f"{topic[0]} ({fmt})", "access_url": landing, "download_url": file_url,
             "format": fmt, "media_type": V.MEDIA_TYPES[fmt]}
        if rng.chance(0.3):
            d["byte_size"] = 1000 + rng.below(5_000_000)
        dists.append(d)
    tmp = temporal(rng)
    spatial = {"names": [place] + ([pub["region"]] if rng.chance(0.4) else [])}
    if topic[4] and rng.chance(0.7):
        spatial["bbox"] = bbox_around(rng, pub)
    rec = {
        "source": name,
        "key": hashlib.sha256(f"{name}\n{original_id}".encode()).hexdigest()[:16],
        "original_id": original_id,
    }
    if uri:
        rec["uri"] = uri
    rec.update({
        "title": title,
        "description": description(rng, topic, pub, year, place, freq, english),
        "keywords": keywords(rng, topic, place, year),
        "themes": th,
        "publisher": {"name": pub["name"], "identifier": pub["identifier"]},
        "rights_holder": {"name": pub["name"], "identifier": pub["identifier"]},
        "contact_point": {"name": f"Ufficio {rng.pick(V.OFFICES)}",
                          "email": f"opendata@{slug(pub['place'], 3).replace('-', '')}.example.it"},
        "license": licence,
        "frequency": freq if rng.chance(0.9) else V.FREQ_IT.get(freq, "irregolare"),
        "issued": (date(year, 1, 1) + timedelta(days=rng.below(365))).isoformat(),
        "modified": modified(rng),
        "landing_page": landing,
        "harvested_from": harvested_from,
        "distributions": dists,
        "spatial": spatial,
    })
    if tmp:
        rec["temporal"] = tmp
    # The content hash as the harvester makes it: SHA-256 of the compact JSON of the
    # record with its bookkeeping fields blank.
    blank = dict(rec, key="", harvested_from="", hash="", harvested_at="")
    rec["hash"] = hashlib.sha256(json.dumps(blank, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    rec["harvested_at"] = "2026-01-01T00:00:00Z"
    return name, rec


# --- The site --------------------------------------------------------------------------

def write_json_atomic(path, value):
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, path)


def write_site(site, total, harvested_percent, base_url, publisher, contact):
    """Writes generation `gsearch<total>` (own datasets) and the federation stores;
    returns (own, harvested) counts."""
    site = Path(site)
    name = f"gsearch{total}"
    gen_dir = site / "generations" / name
    gen_dir.mkdir(parents=True, exist_ok=True)
    datasets = []
    stores = {s[0]: [] for s in V.HARVEST_SOURCES}
    for n in range(1, total + 1):
        if is_harvested(n, harvested_percent):
            src, rec = harvested_record(n)
            stores[src].append(rec)
        else:
            datasets.append(own_dataset(n))
    manifest = {
        "version": 1,
        "generation": name,
        "built_at": "2026-01-01T00:00:00Z",
        "portale_version": "synthetic",
        "catalog": {
            "title": "Catalogo sintetico per il benchmark della ricerca",
            "description": f"Catalogo sintetico di {total} record (dataset propri e federati) per il benchmark "
                           "della ricerca di Portale.",
            "publisher": publisher,
            "base_url": base_url.rstrip("/"),
            "homepage": "https://www.comune.capannori.lu.it",
            "languages": ["it", "en"],
            "default_license": "A21_CCBY40",
            "contact_point": contact,
            # No territory: this catalogue aggregates ~220 publishers, so a dataset
            # without a bbox of its own must not inherit one municipality's (Portale
            # gives tables the catalogue's territory as their coverage).
            "istat_code": None,
            "territory_bbox": None,
        },
        "datasets": datasets,
    }
    write_json_atomic(gen_dir / "manifest.json", manifest)
    fed = site / "federation"
    fed.mkdir(parents=True, exist_ok=True)
    for name_, kind, url, republish, *_ in V.HARVEST_SOURCES:
        records = sorted(stores[name_], key=lambda r: r["original_id"])
        write_json_atomic(fed / f"{name_}.json", {
            "version": 1, "source": name_, "kind": kind, "url": url, "republish": republish,
            "updated_at": "2026-01-01T00:00:00Z", "last_complete_crawl": "2026-01-01T00:00:00Z",
            "records": records,
        })
    tmp = site / f"CURRENT.{name}.tmp"
    tmp.write_text(name + "\n")
    os.replace(tmp, site / "CURRENT")
    return len(datasets), sum(len(r) for r in stores.values())


# --- The query mix ---------------------------------------------------------------------

# Words of the records, stemmed differently from how they appear (the analyzer must
# bring them together): singular where the records say plural and the reverse.
STEM_VARIANTS = ["scuola", "farmacia", "parcheggio", "biblioteca", "multa", "albero", "fermata",
                 "contributo", "associazione", "museo", "impianto", "cimitero", "mercato", "evento",
                 "sanzione", "verbale", "incidente", "famiglia", "delibera", "appalto", "pagamento",
                 "imposta", "tributo", "sentiero", "spiaggia", "pozzo", "sorgente", "orto", "negozio"]
SYNONYM_QUERIES = ["multe", "sanzioni", "contravvenzioni", "verbali", "scuolabus", "trasporto scolastico",
                   "nettezza urbana", "igiene urbana", "rifiuti", "raccolta differenziata", "mense",
                   "refezione scolastica", "ristorazione scolastica", "permessi edilizi", "titoli edilizi",
                   "edilizia privata", "negozi", "esercizi commerciali", "commercio", "confini",
                   "limiti amministrativi", "municipalità", "isola ecologica", "centro di raccolta",
                   "stazione ecologica"]
FOLDING_QUERIES = ["citta", "qualita dell aria", "qualità dell'aria", "dell'ambiente", "l'aria", "menu scuole",
                   "attivita produttive", "mobilita sostenibile", "eta popolazione", "Forli", "Citta di Castello",
                   "sanita", "Reggio nell Emilia", "L'Aquila", "dell'ente", "all'aperto",
                   "schools", "air quality", "bus stops", "population by age", "waste recycling", "pharmacies",
                   "cycling", "road accidents", "tourism", "flood risk", "charging stations", "budget",
                   "hotels", "public transport", "recycling rates", "electric cars", "drugstores",
                   "injuries", "hazard", "residents", "pupils", "revenue", "bike lanes", "pollution"]
EXCLUSIONS = ["rifiuti -calendario", "scuole -infanzia", "contributi -sportive", "parcheggi -disabili",
              "bilancio -rendiconto", "elezioni -seggi", "trasporto -scolastico", "verde -orti",
              "energia -fotovoltaico", "turismo -musei"]
OWN_ORIGIN_VALUES = ["local"] + [s[0] for s in V.HARVEST_SOURCES]


STOP = {"della", "delle", "dello", "degli", "dell", "alle", "agli", "allo", "dalla", "dalle", "nella", "nelle",
        "sulla", "sulle", "dati", "elenco", "comunali", "comunale", "pubblici", "pubblico", "pubblica",
        "pubbliche"}


def _content_words(text):
    out = []
    for w in text.replace("(", " ").replace(")", " ").replace(":", " ").replace(",", " ").split():
        w = w.strip("'").lower()
        if len(w) >= 4 and w.isalpha() and w not in STOP:
            out.append(w)
    return out


def _title_phrase(topic):
    """The title's first words as written, up to the second content word: "zone a
    traffico", "raccolta differenziata"."""
    words = topic[0].replace(":", " ").replace("(", " ").replace(")", " ").replace(",", " ").split()
    content = 0
    for i, w in enumerate(words):
        if _content_words(w):
            content += 1
            if content == 2:
                return " ".join(words[:i + 1]).lower()
    return None


def _typo(rng, word):
    i = 1 + rng.below(len(word) - 2)
    op = rng.below(3)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        c = "aeiourstnl"[rng.below(10)]
        if c == word[i]:
            c = "x"
        return word[:i] + c + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:] if word[i] != word[i + 1] else word[:i] + word[i + 1:]


def _filters(rng, how_many, topic=None):
    """Facet filters whose values exist in the catalogue; with `topic`, the theme and
    keyword filters are the topic's (as a user narrows a search for its words)."""
    kinds = rng.sample(["theme", "publisher", "format", "license", "keyword", "frequency", "origin"], how_many)
    out = {}
    for k in kinds:
        if k == "theme" and topic:
            out[k] = [rng.pick(topic[1])]
        elif k == "keyword" and topic:
            out[k] = [rng.pick(topic[2])]
        elif k == "theme":
            out[k] = [rng.pick(V.TOPICS)[1][0]]
            if rng.chance(0.2):
                out[k].append(rng.pick(["ENVI", "EDUC", "TRAN", "GOVE"]))
        elif k == "publisher":
            out[k] = [pick_publisher(rng)["name"]]
        elif k == "format":
            out[k] = [rng.weighted([("CSV", 50), ("GEOJSON", 15), ("JSON", 15), ("XLSX", 10), ("PDF", 5), ("SHP", 5)])]
        elif k == "license":
            out[k] = [rng.weighted(V.LICENCES)]
        elif k == "keyword":
            out[k] = [rng.pick(rng.pick(V.TOPICS)[2])]
        elif k == "frequency":
            out[k] = [rng.weighted(V.FREQUENCIES)]
        else:
            out[k] = [rng.pick(OWN_ORIGIN_VALUES)]
    # De-duplicate the values of a facet, keeping their order.
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


def _word(rng, topic=None):
    topic = topic or rng.pick(V.TOPICS)
    source = rng.weighted([("kw", 50), ("title", 35), ("stem", 10), ("place", 5)])
    if source == "kw":
        return rng.pick([w for kw in topic[2] for w in _content_words(kw)] or _content_words(topic[0]))
    if source == "title":
        return rng.pick(_content_words(topic[0]))
    if source == "stem":
        return rng.pick(STEM_VARIANTS)
    return pick_publisher(rng)["place"]


def _two_words(rng):
    topic = rng.pick(V.TOPICS)
    words = _content_words(topic[0]) + [w for kw in topic[2] for w in _content_words(kw)]
    if rng.chance(0.3):
        return f"{rng.pick(words)} {pick_publisher(rng)['place']}"
    a = rng.pick(words)
    b = rng.pick([w for w in words if w != a] or words)
    return f"{a} {b}"


def _bbox_query(rng):
    if rng.chance(0.2):
        w, s, e, n = rng.pick(V.REGIONS)[2]
        return [w, s, e, n]
    pub = rng.pick([p for p in PUBLISHERS if p["kind"] == "comune"])
    lon, lat = pub["centre"]
    r = rng.uniform(0.05, 0.4)
    return [round(lon - r, 4), round(lat - r * 0.75, 4), round(lon + r, 4), round(lat + r * 0.75, 4)]


def _temporal_query(rng):
    y = 2008 + rng.below(18)
    shape = rng.weighted([("range", 60), ("from", 20), ("until", 20)])
    if shape == "range":
        return [f"{y}-01-01", f"{y + rng.below(3)}-12-31"]
    if shape == "from":
        return [f"{y}-01-01", None]
    return [None, f"{y}-12-31"]


def query_mix():
    """The fixed mix of 1,000 queries: a list of dicts (see write_queries)."""
    rng = Rng(QUERY_SEED)
    plan = [("word", 140), ("two_words", 140), ("phrase", 70), ("typo", 70), ("synonym", 60),
            ("folding_english", 40), ("exclusion", 20), ("facets_only", 60), ("word_facets", 90),
            ("bbox", 60), ("temporal", 40), ("modified_since", 20), ("sort", 60), ("page", 60),
            ("suggest", 70)]
    assert sum(c for _, c in plan) == 1000
    phrases = sorted({kw for t in V.TOPICS for kw in t[2] if " " in kw} |
                     {p for p in map(_title_phrase, V.TOPICS) if p})
    long_words = sorted({w for t in V.TOPICS for w in _content_words(t[0]) + [x for kw in t[2] for x in _content_words(kw)]
                         if len(w) >= 5})
    queries = []
    for kind, count in plan:
        for i in range(count):
            q = {"kind": kind, "q": "", "filters": {}, "bbox": None, "temporal": None,
                 "modified_since": None, "sort": "relevance", "page": 1}
            if kind == "word":
                q["q"] = _word(rng)
            elif kind == "two_words":
                q["q"] = _two_words(rng)
            elif kind == "phrase":
                q["q"] = f'"{rng.pick(phrases)}"'
            elif kind == "typo":
                q["q"] = _typo(rng, rng.pick(long_words))
            elif kind == "synonym":
                q["q"] = SYNONYM_QUERIES[i % len(SYNONYM_QUERIES)]
            elif kind == "folding_english":
                q["q"] = FOLDING_QUERIES[i % len(FOLDING_QUERIES)]
            elif kind == "exclusion":
                q["q"] = EXCLUSIONS[i % len(EXCLUSIONS)]
            elif kind == "facets_only":
                q["filters"] = _filters(rng, 1 + rng.below(2))
            elif kind == "word_facets":
                topic = rng.pick(V.TOPICS)
                q["q"] = _word(rng, topic)
                q["filters"] = _filters(rng, 1 + rng.below(2), topic)
            elif kind == "bbox":
                q["bbox"] = _bbox_query(rng)
                if rng.chance(0.5):
                    q["q"] = _word(rng)
            elif kind == "temporal":
                q["temporal"] = _temporal_query(rng)
                if rng.chance(0.6):
                    q["q"] = _word(rng)
            elif kind == "modified_since":
                q["modified_since"] = f"{2020 + rng.below(6)}-{1 + rng.below(12):02d}-01T00:00:00Z"
                if rng.chance(0.5):
                    q["q"] = _word(rng)
            elif kind == "sort":
                q["sort"] = rng.pick(["modified", "title"])
                if rng.chance(0.6):
                    q["q"] = _word(rng)
                elif rng.chance(0.5):
                    q["filters"] = _filters(rng, 1)
            elif kind == "page":
                q["page"] = 2 + rng.below(4)
                q["q"] = _word(rng) if rng.chance(0.7) else ""
            elif kind == "suggest":
                full = rng.pick(phrases) if rng.chance(0.3) else rng.pick(long_words)
                cut = 2 + rng.below(max(1, len(full) - 2))
                q["q"] = full[:cut].rstrip() or full[:2]
            queries.append(q)
    for i, q in enumerate(queries):
        q["id"] = i
    return queries


def write_queries(path):
    """One JSON object a line: id, kind, q, filters ({facet: [values]}), bbox
    ([w, s, e, n] or null), temporal ([start or null, end or null] or null),
    modified_since (RFC 3339 or null), sort (relevance|modified|title), page (1-based,
    20 results a page). `kind` "suggest" is a completion of `q`, not a search."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for q in query_mix():
            f.write(json.dumps(q, ensure_ascii=False, separators=(",", ":")) + "\n")
    os.replace(tmp, path)
