#!/usr/bin/env python3
"""OGC API – Features of a running Portale, read by real clients, against its manifest.

usage: check_ogc.py BASE_URL MANIFEST_JSON

The layers are the manifest's datasets with a FlatGeobuf distribution; the expected
feature count is that distribution's `rows`, the expected extent the dataset's bbox.
  - GDAL: `ogrinfo -ro -so OAPIF:BASE/ogc LAYER` reports the count and the extent;
    `ogr2ogr -f GPKG out.gpkg OAPIF:BASE/ogc LAYER` copies the same count (GDAL pages
    through the `next` links).
  - OWSLib's Features client: conformance (Part 1 core and GeoJSON), the collection ids,
    items with bbox and limit (every feature inside the box, at most `limit`), and
    `next`-link paging until numberMatched features were seen, each once.
  - PyPI ogctests, Part 1 core (pytest, offline against this URL).
The server's `base_url` must be BASE_URL: clients follow the links it writes.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)
    return cond


def layers(manifest):
    out = []
    for d in manifest["datasets"]:
        fgb = [x for x in d["distributions"] if x["media_type"] == "application/flatgeobuf"]
        if d.get("layer") and fgb:
            out.append((d["id"], fgb[0]["rows"], d["extent"].get("bbox")))
    return sorted(out)


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def ogrinfo_summary(source, layer):
    p = run(["ogrinfo", "-ro", "-so", source, layer])
    if not check(p.returncode == 0, f"ogrinfo {source} {layer}: {p.stderr.strip()[-300:]}"):
        return None, None
    count = re.search(r"Feature Count: (\d+)", p.stdout)
    ext = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", p.stdout)
    return (int(count.group(1)) if count else None,
            [float(v) for v in ext.groups()] if ext else None)


def check_gdal(base, expected):
    source = f"OAPIF:{base}/ogc"
    with tempfile.TemporaryDirectory() as tmp:
        for layer, rows, bbox in expected:
            count, extent = ogrinfo_summary(source, layer)
            check(count == rows, f"ogrinfo OAPIF {layer}: {count} features, manifest {rows}")
            if bbox and extent:
                check(all(abs(a - b) < 1e-5 for a, b in zip(extent, bbox)),
                      f"ogrinfo OAPIF {layer}: extent {extent} != manifest {bbox}")
            out = Path(tmp) / f"{layer}.gpkg"
            p = run(["ogr2ogr", "-f", "GPKG", str(out), source, layer])
            if check(p.returncode == 0, f"ogr2ogr {layer}: {p.stderr.strip()[-300:]}"):
                copied, _ = ogrinfo_summary(str(out), layer)
                check(copied == rows, f"ogr2ogr {layer}: copied {copied} features, manifest {rows}")
            print(f"ok   GDAL OAPIF {layer}: {count} features, copied to GeoPackage")


def inside(feature, box):
    """Whether a feature's coordinates reach into the box (points: lie in it)."""
    def coords(c):
        if isinstance(c[0], (int, float)):
            yield c
        else:
            for x in c:
                yield from coords(x)
    x1, y1, x2, y2 = box
    pts = list(coords(feature["geometry"]["coordinates"]))
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    # Envelope overlap: true for every feature that meets the box.
    return min(xs) <= x2 and max(xs) >= x1 and min(ys) <= y2 and max(ys) >= y1


def check_owslib(base, expected):
    from owslib.ogcapi.features import Features

    api = Features(f"{base}/ogc")
    conformance = api.conformance()["conformsTo"]
    for c in ("core", "geojson", "oas30", "html"):
        uri = f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}"
        check(uri in conformance, f"OWSLib: conformance lacks {uri}")
    ids = sorted(c["id"] for c in api.collections()["collections"])
    check(ids == [layer for layer, _, _ in expected], f"OWSLib: collections {ids}")
    for layer, rows, bbox in expected:
        # Paging through next links, as a client does.
        seen, params, pages = [], {"limit": 7}, 0
        while True:
            page = api.collection_items(layer, **params)
            pages += 1
            matched = page["numberMatched"]
            check(page["numberReturned"] == len(page["features"]),
                  f"OWSLib {layer}: numberReturned {page['numberReturned']} != {len(page['features'])}")
            seen += [f["id"] for f in page["features"]]
            nxt = [l["href"] for l in page["links"] if l["rel"] == "next"]
            if not nxt or pages > rows + 2:
                break
            params = {k: v for k, v in parse_qsl(urlsplit(nxt[0]).query) if k != "f"}
        check(matched == rows, f"OWSLib {layer}: numberMatched {matched}, manifest {rows}")
        check(len(seen) == rows and len(set(seen)) == rows,
              f"OWSLib {layer}: paging saw {len(seen)} features ({len(set(seen))} distinct) of {rows}")
        if bbox:
            x1, y1, x2, y2 = bbox
            box = [x1, y1, (x1 + x2) / 2, (y1 + y2) / 2]
            page = api.collection_items(layer, bbox=box, limit=5)
            check(len(page["features"]) <= 5, f"OWSLib {layer}: limit 5 returned {len(page['features'])}")
            check(all(inside(f, box) for f in page["features"]),
                  f"OWSLib {layer}: a feature outside bbox {box}")
            check(page["numberMatched"] <= rows, f"OWSLib {layer}: bbox matched more than the layer")
        print(f"ok   OWSLib {layer}: {len(seen)} features in {pages} pages of 7")


def check_ogctests(base):
    import ogctests

    package = Path(ogctests.__file__).parent
    env = dict(os.environ, INSTANCE_URL=f"{base}/ogc")
    # `python -m ogctests` does not load the package's conftest.py (pytest stops at the
    # rootdir it picks), so its fixtures are loaded as a plugin.
    p = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "ogctests.conftest",
         str(package / "features" / "core")],
        capture_output=True, text=True, env=env, timeout=600, cwd=tempfile.gettempdir())
    summary = (p.stdout.strip().splitlines() or ["no output"])[-1]
    if check(p.returncode == 0, f"ogctests Part 1 core: {summary}"):
        print(f"ok   ogctests Part 1 core: {summary}")
    else:
        print(p.stdout[-4000:])


def main(base, manifest_path):
    base = base.rstrip("/")
    manifest = json.load(open(manifest_path))
    expected = layers(manifest)
    check(len(expected) > 0, "the manifest has no layer")
    check_gdal(base, expected)
    check_owslib(base, expected)
    check_ogctests(base)
    if failures:
        print(f"{len(failures)} OGC API check(s) failed")
        sys.exit(1)
    print(f"OGC API: {len(expected)} layers read by GDAL, OWSLib and ogctests")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
