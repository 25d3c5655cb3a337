#!/usr/bin/env python3
"""Check a running Portale's map layers with independent clients.

usage: check_tiles.py BASE_URL MANIFEST_JSON

For every dataset the manifest lists with tiles:
  - /tiles/{id}.json validates against the TileJSON 3.0.0 JSON Schema (jsonschema), its
    tile URL template is built from the public URL (the server runs with --public-url BASE_URL), its layer is the archive's;
  - /tiles/{id}.pmtiles answers a Range request, and the whole archive, read by the
    `pmtiles` package, has an MVT header with the manifest's zooms, tile counts and
    distinct contents, and metadata whose vector_layers name the layer;
  - every tile of the archive is fetched from /tiles/{id}/{z}/{x}/{y}.mvt (gzip
    negotiated by `requests`) and decoded by `mapbox-vector-tile`: one layer with the
    expected name, the same features as the archive's copy, coordinates within the
    extent plus buffer; at the maximum zoom the distinct feature ids number the layer's
    features (when nothing was dropped there);
  - a tile inside the bounds but absent from the archive is 204, one beyond the maximum
    zoom is 404;
  - /styles/{id}.json is a MapLibre style (version 8) whose vector source points at the
    TileJSON.

The schema file tilejson-3.0.0.schema.json is vendored next to this script from
https://github.com/mapbox/tilejson-spec/blob/master/3.0.0/schema.json (commit f44702e).
"""
import gzip
import json
import math
import os
import sys

import jsonschema
import mapbox_vector_tile
import requests
from pmtiles.reader import MemorySource, Reader, all_tiles

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL", msg)


def tile_of(lon, lat, z):
    """The OSM wiki's slippy-map tile numbers."""
    n = 2 ** z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def decode(raw):
    return mapbox_vector_tile.decode(raw, default_options={"y_coord_down": True})


def coords(geometry):
    """Every (x, y) of a decoded geometry."""
    def walk(c):
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            yield c
        elif isinstance(c, (list, tuple)):
            for item in c:
                yield from walk(item)
    yield from walk(geometry["coordinates"])


def check_layer(base, manifest, ds, schema):
    t = ds["tiles"]
    lid = ds["id"]
    # The server runs with --public-url BASE_URL, so every URL it writes starts with it.
    base_url = base.rstrip("/")

    r = requests.get(f"{base}/tiles/{lid}.json", timeout=10)
    check(r.status_code == 200, f"{lid}: TileJSON status {r.status_code}")
    tj = r.json()
    try:
        jsonschema.validate(tj, schema)
    except jsonschema.ValidationError as e:
        check(False, f"{lid}: TileJSON does not validate: {e.message}")
    check(tj.get("tiles") == [f"{base_url}/tiles/{lid}/{{z}}/{{x}}/{{y}}.mvt"], f"{lid}: tiles {tj.get('tiles')}")
    check([v["id"] for v in tj.get("vector_layers", [])] == [t["layer"]], f"{lid}: vector_layers ids")
    check((tj.get("minzoom"), tj.get("maxzoom")) == (t["min_zoom"], t["max_zoom"]), f"{lid}: TileJSON zooms")
    fields = tj["vector_layers"][0]["fields"]
    check(sorted(fields) == sorted(f["name"] for f in ds["fields"]), f"{lid}: TileJSON fields {sorted(fields)}")

    rr = requests.get(f"{base}/tiles/{lid}.pmtiles", headers={"Range": "bytes=0-126"}, timeout=10)
    check(rr.status_code == 206 and len(rr.content) == 127, f"{lid}: pmtiles Range gave {rr.status_code}, {len(rr.content)} bytes")
    whole = requests.get(f"{base}/tiles/{lid}.pmtiles", timeout=30)
    check(whole.status_code == 200 and len(whole.content) == t["byte_size"], f"{lid}: pmtiles download")
    reader = Reader(MemorySource(whole.content))
    h = reader.header()
    check(h["tile_type"].name == "MVT", f"{lid}: tile type {h['tile_type']}")
    check(h["tile_compression"].name == "GZIP", f"{lid}: tile compression {h['tile_compression']}")
    check((h["min_zoom"], h["max_zoom"]) == (t["min_zoom"], t["max_zoom"]), f"{lid}: header zooms {h['min_zoom']}..{h['max_zoom']}")
    check(h["addressed_tiles_count"] == t["tile_count"], f"{lid}: {h['addressed_tiles_count']} addressed tiles, manifest {t['tile_count']}")
    check(h["tile_contents_count"] == t["tile_contents"], f"{lid}: {h['tile_contents_count']} contents, manifest {t['tile_contents']}")
    md = reader.metadata()
    check([v["id"] for v in md.get("vector_layers", [])] == [t["layer"]], f"{lid}: archive metadata vector_layers")

    archived = {}
    for (z, x, y), data in all_tiles(reader.get_bytes):
        archived[(z, x, y)] = decode(gzip.decompress(data))
    check(len(archived) == t["tile_count"], f"{lid}: {len(archived)} tiles in the archive")

    ids_at_max = set()
    for (z, x, y), expected in sorted(archived.items()):
        r = requests.get(f"{base}/tiles/{lid}/{z}/{x}/{y}.mvt", timeout=10)
        where = f"{lid} {z}/{x}/{y}"
        check(r.status_code == 200, f"{where}: status {r.status_code}")
        check(r.headers.get("content-type") == "application/vnd.mapbox-vector-tile", f"{where}: content type")
        check(r.headers.get("content-encoding") == "gzip", f"{where}: not gzip for a gzip-accepting client")
        got = decode(r.content)
        check(list(got) == [t["layer"]], f"{where}: layers {list(got)}")
        layer = got.get(t["layer"], {"features": [], "extent": 0})
        check(layer.get("extent") == 4096, f"{where}: extent {layer.get('extent')}")
        feats = layer["features"]
        check(len(feats) == len(expected[t["layer"]]["features"]), f"{where}: {len(feats)} features, archive has {len(expected[t['layer']]['features'])}")
        check(len(feats) > 0, f"{where}: a stored tile without features")
        for f in feats:
            for c in coords(f["geometry"]):
                check(-64 <= c[0] <= 4160 and -64 <= c[1] <= 4160, f"{where}: coordinate {c} outside extent + buffer")
            if z == t["max_zoom"]:
                ids_at_max.add(f["id"])
    dropped_at_max = next((d for d in t["dropped"] if d["zoom"] == t["max_zoom"]), {})
    if dropped_at_max.get("size_cap", 0) == 0:
        check(len(ids_at_max) == ds["layer"]["features"], f"{lid}: {len(ids_at_max)} distinct features at z{t['max_zoom']}, the layer has {ds['layer']['features']}")

    # An empty tile inside the bounds: 204. Beyond the maximum zoom: 404.
    w, s, e, n = t["bounds"]
    z = t["max_zoom"]
    x0, y0 = tile_of(w, n, z)
    x1, y1 = tile_of(e, s, z)
    empty = next(((x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1) if (z, x, y) not in archived), None)
    if empty:
        r = requests.get(f"{base}/tiles/{lid}/{z}/{empty[0]}/{empty[1]}.mvt", timeout=10)
        check(r.status_code == 204, f"{lid}: empty tile {z}/{empty[0]}/{empty[1]} gave {r.status_code}")
    cx, cy = tile_of((w + e) / 2, (s + n) / 2, z + 1)
    r = requests.get(f"{base}/tiles/{lid}/{z + 1}/{cx}/{cy}.mvt", timeout=10)
    check(r.status_code == 404, f"{lid}: beyond max zoom gave {r.status_code}")

    st = requests.get(f"{base}/styles/{lid}.json", timeout=10)
    check(st.status_code == 200, f"{lid}: style status {st.status_code}")
    style = st.json()
    check(style.get("version") == 8, f"{lid}: style version")
    check(style.get("sources", {}).get(lid, {}).get("url") == f"{base_url}/tiles/{lid}.json", f"{lid}: style source url")
    check(all(l.get("source-layer") == t["layer"] for l in style.get("layers", []) if "source" in l), f"{lid}: style source-layer")
    return len(archived)


def main(base, manifest_path):
    manifest = json.load(open(manifest_path))
    schema = json.load(open(os.path.join(HERE, "tilejson-3.0.0.schema.json")))
    layers = [d for d in manifest["datasets"] if d.get("layer")]
    check(all(d.get("tiles") for d in layers), "a layer without tiles")
    tiles = 0
    for ds in layers:
        if ds.get("tiles"):
            tiles += check_layer(base, manifest, ds, schema)
    if failures:
        print(f"check_tiles: {len(failures)} failure(s)")
        sys.exit(1)
    print(f"check_tiles: {len(layers)} layers, {tiles} tiles decoded and compared, TileJSON valid")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2])
