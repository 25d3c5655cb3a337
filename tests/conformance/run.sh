#!/usr/bin/env bash
# Conformance stage: build the demo catalogue with the real binary, serve it on a free
# loopback port, and let independent clients read what it publishes:
#   - GDAL's ogrinfo on every GeoJSON, FlatGeobuf and GeoPackage file (and over HTTP
#     with /vsicurl/, which needs working Range requests);
#   - pyarrow on every GeoParquet file;
#   - an HTTP client on the JSON API and the downloads (ETag, Range, checksums);
#   - GDAL (OAPIF driver), OWSLib and ogctests on the OGC API – Features, and schemathesis
#     on its OpenAPI document.
#   - mapbox-vector-tile, pmtiles and jsonschema on the map layers (tiles, archives,
#     TileJSON 3.0.0, styles).
#   - rdflib and pySHACL on the DCAT-AP_IT catalogue (AgID rules, SEMIC DCAT-AP 3.0.1
#     shapes, the three syntaxes, hydra paging, dataset twins, quality scores), for the
#     demo and for a generated catalogue of 1,000 datasets.
#   - ckanapi and a replay of ckanext-harvest's gather stage on the CKAN Action API.
#   - Debian's Chromium driven by playwright-core on the web pages (search, facets, language,
#     downloads, map), axe-core and Lighthouse; screenshots in target/screenshots/
#     (tests/conformance/browser/check_browser.mjs; `npm ci` there first, as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --bin portale
BIN="$TARGET/debug/portale"

work=$(mktemp -d)
# The servers write their download counts when they stop: wait for them before removing.
trap 'kill "${server_pid:-}" "${ogc_pid:-}" "${synth_pid:-}" "${repub_pid:-}" "${hostile_pid:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

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
# Clients follow the links the server writes, so the server is told its own address as
# the public URL (the demo catalogue's base_url names port 8080).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
url="http://127.0.0.1:$port"
"$BIN" serve --site "$work/site" --addr "127.0.0.1:$port" --public-url "$url" --log-format json > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "serving" "$work/serve.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "serving" "$work/serve.log" || { cat "$work/serve.log"; echo "server did not start"; exit 1; }
echo "server at $url"
manifest="$work/site/generations/$gen/manifest.json"
python3 tests/conformance/check_http.py "$url" "$manifest"

echo "--- OGC API – Features: GDAL, OWSLib, ogctests"
python3 tests/conformance/check_ogc.py "$url" "$manifest"

echo "--- schemathesis on the OGC API's OpenAPI document: no server error, no response contradicting it"
# Excluded checks: positive_data_acceptance (a schema-valid `filter` or `datetime` can still
# be a CQL2 or date syntax error, which JSON Schema cannot express: 400 is right) and
# negative_data_rejection (OGC API – Features requires a `limit` above the maximum to be
# clamped, not refused, and property filters compare leniently).
st run "$url/ogc/api" --url "$url/ogc" --max-examples 30 --workers 1 --seed 20261128 \
  --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
  --no-color > "$work/schemathesis.txt" 2>&1 || { cat "$work/schemathesis.txt"; exit 1; }
grep -E "generated|No issues" "$work/schemathesis.txt"

echo "--- vector tiles: mapbox-vector-tile, pmtiles, TileJSON schema"
python3 tests/conformance/check_tiles.py "$url" "$manifest"

echo "--- DCAT-AP_IT: AgID rules, SEMIC shapes, three syntaxes, hydra crawl, twins, quality"
python3 tests/conformance/check_dcat.py "$url" "$manifest" --expect-excellent

echo "--- DCAT-AP_IT on a generated catalogue of 1,000 datasets"
python3 tools/gen_catalog/gen_catalog.py --site "$work/synth" --datasets 1000 > /dev/null
# The generator writes a generation, not its search index: `portale index` makes it.
"$BIN" index --site "$work/synth" | tail -n 1
synth_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
synth_url="http://127.0.0.1:$synth_port"
"$BIN" serve --site "$work/synth" --addr "127.0.0.1:$synth_port" --public-url "$synth_url" > "$work/synth.log" 2>&1 &
synth_pid=$!
for _ in $(seq 1 100); do
  grep -q "serving" "$work/synth.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "serving" "$work/synth.log" || { cat "$work/synth.log"; echo "server did not start"; exit 1; }
python3 tests/conformance/check_dcat.py "$synth_url" "$work/synth/generations/gsynth1000/manifest.json" --twins 25
echo "--- CKAN Action API: ckanapi, ckanext-harvest's gather"
python3 tests/conformance/check_ckan.py "$url" "$manifest"

echo "--- operations: /-/metrics parsed by prometheus_client, JSON logs with request ids"
python3 tests/conformance/check_metrics.py "$url" "$manifest" "$work/serve.log"

echo "--- republishing: a second site harvests the demo and a file catalogue with republish = true"
# Its catalogue then holds its own 12 datasets, the demo's 12 under their original URIs
# and the 2 complete records of tests/fixtures/federation/republish_other.ttl (its 5
# incomplete ones are left out): still 0 AgID errors and 0 SHACL violations.
mkdir -p "$work/root2/catalog"
cp catalog/catalog.toml "$work/root2/catalog/catalog.toml"
cat >> "$work/root2/catalog/catalog.toml" <<TOML

[[harvest]]
name = "demo"
kind = "dcat"
url = "$url/catalog.ttl"
republish = true

[[harvest]]
name = "other"
kind = "dcat"
url = "file://$PWD/tests/fixtures/federation/republish_other.ttl"
republish = true
TOML
cp -r "$work/site" "$work/site2"
"$BIN" harvest --root "$work/root2" --site "$work/site2" | tail -n 4
repub_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
repub_url="http://127.0.0.1:$repub_port"
"$BIN" serve --site "$work/site2" --addr "127.0.0.1:$repub_port" --public-url "$repub_url" > "$work/repub.log" 2>&1 &
repub_pid=$!
for _ in $(seq 1 100); do
  grep -q "serving" "$work/repub.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "serving" "$work/repub.log" || { cat "$work/repub.log"; echo "server did not start"; exit 1; }
python3 tests/conformance/check_dcat.py --validate "$repub_url/catalog.ttl" --expect-datasets 26

echo "--- web pages in Chromium: search, facets, language, downloads, map, axe-core, Lighthouse"
[ -d tests/conformance/browser/node_modules ] || {
  echo "tests/conformance/browser/node_modules is missing: run 'npm ci --prefix tests/conformance/browser' (as .ci/run does)"
  exit 1
}
# A small site whose metadata carries HTML and script payloads (tests/fixtures/hostile):
# the browser check visits it and asserts every payload stays inert text.
"$BIN" build --root tests/fixtures/hostile --site "$work/hostile" | tail -n 2
hostile_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
hostile_url="http://127.0.0.1:$hostile_port"
"$BIN" serve --site "$work/hostile" --addr "127.0.0.1:$hostile_port" --public-url "$hostile_url" > "$work/hostile.log" 2>&1 &
hostile_pid=$!
for _ in $(seq 1 100); do
  grep -q "serving" "$work/hostile.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "serving" "$work/hostile.log" || { cat "$work/hostile.log"; echo "server did not start"; exit 1; }
node tests/conformance/browser/check_browser.mjs "$url" "$manifest" "$hostile_url"
echo "conformance: ok"
