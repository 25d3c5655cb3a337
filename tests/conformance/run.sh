#!/usr/bin/env bash
# Conformance stage: build the demo catalogue with the real binary, serve it on a free
# loopback port, and let independent clients read what it publishes:
#   - GDAL's ogrinfo on every GeoJSON, FlatGeobuf and GeoPackage file (and over HTTP
#     with /vsicurl/, which needs working Range requests);
#   - pyarrow on every GeoParquet file;
#   - an HTTP client on the JSON API and the downloads (ETag, Range, checksums);
#   - GDAL (OAPIF driver), OWSLib and ogctests on the OGC API – Features.
#   - mapbox-vector-tile, pmtiles and jsonschema on the map layers (tiles, archives,
#     TileJSON 3.0.0, styles).
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --bin portale
BIN="$TARGET/debug/portale"

work=$(mktemp -d)
trap 'kill "${server_pid:-}" "${ogc_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "--- portale check"
"$BIN" check --root . > "$work/check.txt"
tail -n 1 "$work/check.txt"

echo "--- portale build (demo catalogue)"
"$BIN" build --root . --site "$work/site"
echo "--- rebuild with nothing changed"
"$BIN" build --root . --site "$work/site" | tail -n 1

gen=$(cat "$work/site/CURRENT")
echo "--- independent readers on generation $gen"
python3 tests/conformance/check_outputs.py "$work/site/generations/$gen"

echo "--- serving"
"$BIN" serve --site "$work/site" --addr 127.0.0.1:0 > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "serving" "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n 1 || true)
[ -n "$url" ] || { cat "$work/serve.log"; echo "server did not start"; exit 1; }
echo "server at $url"
python3 tests/conformance/check_http.py "$url" "$work/site/generations/$gen/manifest.json"

echo "--- OGC API – Features: GDAL, OWSLib, ogctests"
# Clients follow the links the server writes from catalog.base_url, so this server is
# built with base_url set to the address it listens on (a copy of the catalogue, the same
# datasets).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$work/ogc-root"
cp -r catalog "$work/ogc-root/"
ln -s "$PWD/datasets" "$work/ogc-root/datasets"
sed -i "s|^base_url = .*|base_url = \"http://127.0.0.1:$port\"|" "$work/ogc-root/catalog/catalog.toml"
"$BIN" build --root "$work/ogc-root" --site "$work/ogc-site" | tail -n 1
"$BIN" serve --site "$work/ogc-site" --addr "127.0.0.1:$port" > "$work/ogc-serve.log" 2>&1 &
ogc_pid=$!
for _ in $(seq 1 100); do
  grep -q "serving" "$work/ogc-serve.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "serving" "$work/ogc-serve.log" || { cat "$work/ogc-serve.log"; echo "OGC server did not start"; exit 1; }
ogc_gen=$(cat "$work/ogc-site/CURRENT")
python3 tests/conformance/check_ogc.py "http://127.0.0.1:$port" "$work/ogc-site/generations/$ogc_gen/manifest.json"
python3 tests/conformance/check_tiles.py "$url" "$work/site/generations/$gen/manifest.json"
echo "conformance: ok"
