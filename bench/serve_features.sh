#!/usr/bin/env bash
# The feature-serving benchmark: Portale's OGC API – Features against pygeoapi 0.24 on the
# same FlatGeobuf file, in one run.
#
#   bench/serve_features.sh [--no-write]
#
# 1. Builds (once; bench/serve_lib.sh) the Portale site of all 7,899 Italian
#    municipalities in bench/out/serve/italy/ (git-ignored), and draws with a fixed seed
#    1,000 random bboxes inside Italy (bench/serve_features.py), one query string
#    `limit=100&bbox=W,S,E,N&f=json` a line.
# 2. Sets up pygeoapi (PYGEOAPI_VENV, default bench/out/serve/pygeoapi-venv, created with
#    Python >= 3.12 when missing: pygeoapi==0.24.0, gunicorn, gevent (and packaging, which
#    gunicorn's gevent worker imports) and GDAL's Python
#    bindings matching `gdal-config --version`) with one collection whose OGR provider
#    reads the layer's FlatGeobuf, the very file Portale serves (the FlatGeobuf driver
#    answers a bbox through the file's packed R-tree).
# 3. Starts both on core 0 (`taskset -c 0`) and checks on ~20 boxes that Portale,
#    pygeoapi and GDAL (`ogrinfo -spat`) agree on the number of matches and that both
#    servers return the same features.
# 4. Measures each server alone: a warm-up of WARMUP_SECONDS (default 10, discarded), then
#    wrk on core 1 for WRK_SECONDS (default 30) cycling through the boxes, with
#    WRK_CONNECTIONS (default 16) connections, then again with one connection (the
#    latency of a lone client); the server's CPU time over each run is read from /proc.
#    - Portale: `portale serve`, /ogc/collections/comuni-italia/items;
#    - pygeoapi: as its Docker image runs it in production (docker/entrypoint.sh):
#      `gunicorn --workers 4 --worker-class=gevent pygeoapi.flask_app:APP`,
#      /collections/comuni-italia/items.
# 5. Prints a Markdown report and replaces (same date) or appends a dated section in
#    BENCHMARKS.md (bench/serve_report.py), unless --no-write.
#
# The Portale binary is $PORTALE_BIN (with $PORTALE_COMMIT) or the target/release one,
# built when stale; it is copied before use. Never run this as a test: it is a
# measurement, and its numbers depend on the machine.

set -euo pipefail

WRITE=1
for arg in "$@"; do
    case "$arg" in
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
        *) echo "bench/serve_features.sh: unexpected argument '$arg' (usage: bench/serve_features.sh [--no-write])" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out/serve
RUNS=$OUT/features-runs
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
PORT_PORTALE=${PORT_PORTALE:-8101}
PORT_PYGEOAPI=${PORT_PYGEOAPI:-8104}
PYGEOAPI_VERSION=0.24.0
# shellcheck source=bench/serve_lib.sh
. bench/serve_lib.sh

serve_machine_checks
serve_need ogrinfo "install GDAL (Debian: apt-get install gdal-bin)"
serve_need gdal-config "install GDAL's headers (Debian: apt-get install libgdal-dev), needed for its Python bindings"

# --- pygeoapi ----------------------------------------------------------------------------
VENV=${PYGEOAPI_VENV:-$OUT/pygeoapi-venv}
if [ ! -x "$VENV/bin/gunicorn" ] || ! "$VENV/bin/python" -c 'import osgeo.ogr, gevent, packaging, pygeoapi' 2>/dev/null; then
    PY=${PYGEOAPI_PYTHON:-}
    if [ -z "$PY" ]; then
        for c in python3.13 python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3" python3; do
            if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
                PY=$c
                break
            fi
        done
    fi
    if [ -z "$PY" ]; then
        echo "bench/serve_features.sh: pygeoapi $PYGEOAPI_VERSION needs Python >= 3.12; set PYGEOAPI_PYTHON" >&2
        exit 1
    fi
    echo "bench/serve_features.sh: creating $VENV with $PY" >&2
    "$PY" -m venv "$VENV"
    "$VENV/bin/pip" install -q "pygeoapi==$PYGEOAPI_VERSION" gunicorn gevent packaging "GDAL==$(gdal-config --version)"
fi
PYGEOAPI_INSTALLED=$("$VENV/bin/python" -c 'import pygeoapi; print(pygeoapi.__version__)')
if [ "$PYGEOAPI_INSTALLED" != "$PYGEOAPI_VERSION" ]; then
    echo "bench/serve_features.sh: $VENV has pygeoapi $PYGEOAPI_INSTALLED, not $PYGEOAPI_VERSION" >&2
    exit 1
fi

rm -rf "$RUNS"
mkdir -p "$RUNS"
trap 'for s in portale pygeoapi; do server_stop $s; done' EXIT
serve_portale_bin
serve_italy_site "$OUT/italy" "$PORT_PORTALE"
FGB=$(cd "$(dirname "$SITE_FGB")" && pwd)/$(basename "$SITE_FGB")
LAYER=comuni-italia
FGB_LAYER=$(ogrinfo -ro -so "$FGB" | sed -n 's/^1: \([^ ]*\).*/\1/p')

LIST=$OUT/bboxes.list
python3 bench/serve_features.py bboxes "$OUT/italy/datasets/comuni-italia/limits_IT_municipalities_2023.geojson" \
    "$LIST" "$RUNS/bboxes.info.json" 1000

PG=$(cd "$RUNS" && pwd)/pygeoapi
mkdir -p "$PG"
cat > "$PG/config.yml" <<EOF
# Written by bench/serve_features.sh: pygeoapi serving the municipalities layer.
server:
  bind:
    host: 127.0.0.1
    port: $PORT_PYGEOAPI
  url: http://127.0.0.1:$PORT_PYGEOAPI
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages:
    - en-US
  limits:
    default_items: 10
    max_items: 10000
  map:
    url: https://tile.openstreetmap.org/{z}/{x}/{y}.png
    attribution: OpenStreetMap
logging:
  level: ERROR
metadata:
  identification:
    title: Portale benchmark
    description: The municipalities layer of bench/serve_features.sh
    keywords:
      - benchmark
    keywords_type: theme
    terms_of_service: https://creativecommons.org/licenses/by/4.0/
    url: http://127.0.0.1:$PORT_PYGEOAPI
  license:
    name: CC-BY 4.0
    url: https://creativecommons.org/licenses/by/4.0/
  provider:
    name: Portale benchmark
    url: http://127.0.0.1:$PORT_PYGEOAPI
  contact:
    name: Portale benchmark
    email: bench@example.org
resources:
  $LAYER:
    type: collection
    title: Confini dei comuni italiani 2023
    description: All 7,899 Italian municipalities
    keywords:
      - comuni
    extents:
      spatial:
        bbox: [6.62, 35.49, 18.53, 47.10]
        crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84
    providers:
      - type: feature
        name: OGR
        data:
          source_type: FlatGeobuf
          source: $FGB
          source_capabilities:
            paging: true
        id_field: fid
        layer: $FGB_LAYER
EOF
PYGEOAPI_CONFIG=$PG/config.yml PYGEOAPI_OPENAPI=$PG/openapi.yml \
    "$VENV/bin/pygeoapi" openapi generate "$PG/config.yml" --output-file "$PG/openapi.yml" > "$PG/openapi.log" 2>&1 || {
    echo "bench/serve_features.sh: pygeoapi openapi generate failed:" >&2
    cat "$PG/openapi.log" >&2
    exit 1
}

PORTALE_CMD=("$BIN" serve --site "$OUT/italy/site" --addr "127.0.0.1:$PORT_PORTALE")
PYGEOAPI_CMD=(env "PYGEOAPI_CONFIG=$PG/config.yml" "PYGEOAPI_OPENAPI=$PG/openapi.yml"
    "$VENV/bin/gunicorn" --workers 4 --worker-class=gevent --timeout 6000
    --bind "127.0.0.1:$PORT_PYGEOAPI" pygeoapi.flask_app:APP)
PORTALE_ITEMS="http://127.0.0.1:$PORT_PORTALE/ogc/collections/$LAYER/items"
PYGEOAPI_ITEMS="http://127.0.0.1:$PORT_PYGEOAPI/collections/$LAYER/items"
FIRST=$(head -n 1 "$LIST")

start() {
    case "$1" in
        portale) server_start portale "${PORTALE_CMD[@]}"; wait_http portale "$PORTALE_ITEMS?$FIRST" ;;
        pygeoapi) server_start pygeoapi "${PYGEOAPI_CMD[@]}"; wait_http pygeoapi "$PYGEOAPI_ITEMS?$FIRST" ;;
    esac
}

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Same answers ------------------------------------------------------------------------
start portale
start pygeoapi
CHECK_OK=1
python3 bench/serve_features.py check "$LIST" "$RUNS/check.json" "$PORTALE_ITEMS" "$PYGEOAPI_ITEMS" "$FGB" \
    > "$RUNS/check.log" 2>&1 || CHECK_OK=0
# One response of each, to record sizes and headers.
curl -s -D "$RUNS/portale.sample.headers" -o "$RUNS/portale.sample.json" "$PORTALE_ITEMS?$FIRST"
curl -s -D "$RUNS/pygeoapi.sample.headers" -o "$RUNS/pygeoapi.sample.json" "$PYGEOAPI_ITEMS?$FIRST"
server_stop portale
server_stop pygeoapi
if [ "$CHECK_OK" = 0 ]; then
    echo "bench/serve_features.sh: the servers disagree (see $RUNS/check.log); measuring anyway, the report says so" >&2
fi

# --- One server at a time ----------------------------------------------------------------
for s in portale pygeoapi; do
    start "$s"
    case "$s" in
        portale) base="http://127.0.0.1:$PORT_PORTALE"; prefix="/ogc/collections/$LAYER/items?" ;;
        pygeoapi) base="http://127.0.0.1:$PORT_PYGEOAPI"; prefix="/collections/$LAYER/items?" ;;
    esac
    measure_wrk "$s" "$base" "$LIST" "$prefix" "" ""
    measure_wrk "$s@c1" "$base" "$LIST" "$prefix" "" "" 1
    server_stop "$s"
done
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Report ------------------------------------------------------------------------------
VERSIONS="wrk $( (wrk -v 2>&1 || true) | head -n 1 | awk '{print $2}'); pygeoapi $PYGEOAPI_INSTALLED"
VERSIONS="$VERSIONS (Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())'))"
VERSIONS="$VERSIONS; gunicorn $("$VENV/bin/python" -c 'import gunicorn; print(gunicorn.__version__)')"
VERSIONS="$VERSIONS; gevent $("$VENV/bin/python" -c 'import gevent; print(gevent.__version__)')"
VERSIONS="$VERSIONS; GDAL $("$VENV/bin/python" -c 'from osgeo import gdal; print(gdal.__version__)')"
REPORT_ARGS=(features --runs "$RUNS" --commit "$PORTALE_COMMIT_MEASURED" --loadavg "$LOADAVG_START"
    --loadavg-end "$LOADAVG_END" --versions "$VERSIONS" --connections "$WRK_CONNECTIONS"
    --threads "$WRK_THREADS" --seconds "$WRK_SECONDS" --warmup "$WARMUP_SECONDS")
if [ "$WRITE" = 1 ]; then REPORT_ARGS+=(--write BENCHMARKS.md); fi
python3 bench/serve_report.py "${REPORT_ARGS[@]}"
