#!/usr/bin/env bash
# The tile-serving benchmark: Portale, Martin and nginx serving the same tiles, in one run.
#
#   bench/serve_tiles.sh [--no-write]
#
# 1. Builds (once; bench/serve_lib.sh) a Portale site of all 7,899 Italian municipalities
#    with z0-z12 vector tiles in bench/out/serve/italy/ (git-ignored), and from its
#    PMTiles archive (bench/serve_tiles.py):
#    - two fixed lists of 10,000 z/x/y tiles that exist in the archive (fixed seeds), the
#      same for the three servers: `viewer`, the mix of a map visitor (equal shares for
#      z6-z12, one share for z0-z5 together; the goals are judged on it), and `uniform`,
#      every tile equally likely (mostly z12's small tiles; a reference);
#    - the archive's tiles as static files z/x/y.mvt, gzip-compressed as stored, for nginx.
# 2. Starts the three servers, each on core 0 (`taskset -c 0`), and checks that a sample
#    of 200 tiles of the viewer list comes back from each with status 200, the MVT media
#    type, `Content-Encoding: gzip` and bodies byte-identical to the archive's.
# 3. Measures each server alone: started, then for each list a warm-up of WARMUP_SECONDS
#    (default 10, discarded) and wrk on core 1 (`taskset -c 1`) for WRK_SECONDS (default
#    30) with WRK_THREADS (1) threads and WRK_CONNECTIONS (default 64) connections,
#    cycling through the list with `Accept-Encoding: gzip` (bench/serve_wrk.lua); the
#    server's CPU time over each run is read from /proc; then stopped.
#    - Portale: `portale serve` of the site, /tiles/comuni-italia/{z}/{x}/{y}.mvt;
#    - Martin (`$MARTIN_BIN`, else `martin` on PATH) serving the same .pmtiles file with
#      one worker, /{source}/{z}/{x}/{y}; not measured (and said so) when missing;
#    - nginx (Debian) serving the extracted files with `add_header Content-Encoding gzip`,
#      one worker, tuned as a ceiling (no access log, sendfile, open_file_cache,
#      unlimited keep-alive requests).
# 4. Prints a Markdown report and replaces (same date) or appends a dated section in
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
        *) echo "bench/serve_tiles.sh: unexpected argument '$arg' (usage: bench/serve_tiles.sh [--no-write])" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out/serve
RUNS=$OUT/tiles-runs
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
PORT_PORTALE=${PORT_PORTALE:-8101}
PORT_MARTIN=${PORT_MARTIN:-8102}
PORT_NGINX=${PORT_NGINX:-8103}
# shellcheck source=bench/serve_lib.sh
. bench/serve_lib.sh

serve_machine_checks
serve_need nginx "install nginx (Debian: apt-get install nginx)"
python3 -c 'import pmtiles' 2>/dev/null || { echo "bench/serve_tiles.sh: the Python package pmtiles is needed (pip install pmtiles)" >&2; exit 1; }
MARTIN=${MARTIN_BIN:-$(command -v martin || true)}
MARTIN_MISSING=""
if [ -z "$MARTIN" ] || [ ! -x "$MARTIN" ]; then
    MARTIN_MISSING="no Martin binary (set MARTIN_BIN; install with \`cargo install martin@1.14.0 --locked --no-default-features --features pmtiles,mbtiles --root DIR\`)"
fi

rm -rf "$RUNS"
mkdir -p "$RUNS"
trap 'for s in portale martin nginx; do server_stop $s; done' EXIT
serve_portale_bin
serve_italy_site "$OUT/italy" "$PORT_PORTALE"
ARCHIVE=$SITE_ARCHIVE
LAYER=comuni-italia

# --- The list and the static copy ------------------------------------------------------
LIST=$OUT/tiles-viewer.list
LIST_UNIFORM=$OUT/tiles-uniform.list
python3 bench/serve_tiles.py urls viewer "$ARCHIVE" "$LIST" "$RUNS/tiles-viewer.info.json" 10000
python3 bench/serve_tiles.py urls uniform "$ARCHIVE" "$LIST_UNIFORM" "$RUNS/tiles-uniform.info.json" 10000
STATIC=$OUT/nginx-tiles
STAMP="$(sha256sum "$ARCHIVE" | cut -c1-16) $(sha256sum bench/serve_tiles.py | cut -c1-16)"
if [ "$(cat "$STATIC.stamp" 2>/dev/null)" != "$STAMP" ]; then
    rm -rf "$STATIC" "$STATIC.stamp"
    python3 bench/serve_tiles.py extract "$ARCHIVE" "$STATIC/tiles"
    echo "$STAMP" > "$STATIC.stamp"
fi

# nginx: one worker on core 0, everything under $RUNS/nginx, serving $STATIC.
NGINX_PREFIX=$(cd "$RUNS" && pwd)/nginx
mkdir -p "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
cat > "$NGINX_PREFIX/nginx.conf" <<EOF
# Written by bench/serve_tiles.sh: nginx as the ceiling of tile serving.
worker_processes 1;
daemon off;
user root;
pid $NGINX_PREFIX/nginx.pid;
error_log $NGINX_PREFIX/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    open_file_cache max=100000 inactive=120s;
    open_file_cache_valid 120s;
    client_body_temp_path $NGINX_PREFIX/tmp/body;
    proxy_temp_path $NGINX_PREFIX/tmp/proxy;
    fastcgi_temp_path $NGINX_PREFIX/tmp/fastcgi;
    uwsgi_temp_path $NGINX_PREFIX/tmp/uwsgi;
    scgi_temp_path $NGINX_PREFIX/tmp/scgi;
    types { application/vnd.mapbox-vector-tile mvt; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$PORT_NGINX;
        root $(cd "$STATIC" && pwd);
        location /tiles/ {
            add_header Content-Encoding gzip;
            add_header Cache-Control "public, max-age=86400";
            add_header Access-Control-Allow-Origin *;
        }
    }
}
EOF

MARTIN_SOURCE=$(basename "$ARCHIVE" .pmtiles)
PORTALE_CMD=("$BIN" serve --site "$OUT/italy/site" --addr "127.0.0.1:$PORT_PORTALE")
MARTIN_CMD=("$MARTIN" --listen-addresses "127.0.0.1:$PORT_MARTIN" --workers 1 "$ARCHIVE")
NGINX_CMD=(nginx -p "$NGINX_PREFIX" -c "$NGINX_PREFIX/nginx.conf" -e "$NGINX_PREFIX/logs/error.log")
PORTALE_TILE="http://127.0.0.1:$PORT_PORTALE/tiles/$LAYER/{z}/{x}/{y}.mvt"
MARTIN_TILE="http://127.0.0.1:$PORT_MARTIN/$MARTIN_SOURCE/{z}/{x}/{y}"
NGINX_TILE="http://127.0.0.1:$PORT_NGINX/tiles/{z}/{x}/{y}.mvt"
FIRST=$(head -n 1 "$LIST")
url_of() { local t=$1 z x y; IFS=/ read -r z x y <<< "$FIRST"; t=${t//\{z\}/$z}; t=${t//\{x\}/$x}; echo "${t//\{y\}/$y}"; }

start() { # start NAME: starts the server NAME and waits for its first listed tile
    case "$1" in
        portale) server_start portale "${PORTALE_CMD[@]}"; wait_http portale "$(url_of "$PORTALE_TILE")" ;;
        martin) server_start martin "${MARTIN_CMD[@]}"; wait_http martin "$(url_of "$MARTIN_TILE")" ;;
        nginx) server_start nginx "${NGINX_CMD[@]}"; wait_http nginx "$(url_of "$NGINX_TILE")" ;;
    esac
}

SERVERS=(portale)
CHECK=("portale=$PORTALE_TILE")
if [ -z "$MARTIN_MISSING" ]; then SERVERS+=(martin); CHECK+=("martin=$MARTIN_TILE"); fi
SERVERS+=(nginx)
CHECK+=("nginx=$NGINX_TILE")

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Same bytes from every server ------------------------------------------------------
for s in "${SERVERS[@]}"; do start "$s"; done
CHECK_OK=1
python3 bench/serve_tiles.py check "$ARCHIVE" "$LIST" "$RUNS/check.json" "${CHECK[@]}" || CHECK_OK=0
for s in "${SERVERS[@]}"; do server_stop "$s"; done
if [ "$CHECK_OK" = 0 ]; then
    echo "bench/serve_tiles.sh: the servers do not all return the archive's bytes (see $RUNS/check.json); measuring anyway, the report says so" >&2
fi

# --- One server at a time --------------------------------------------------------------
for s in "${SERVERS[@]}"; do
    start "$s"
    case "$s" in
        portale) base="http://127.0.0.1:$PORT_PORTALE"; prefix="/tiles/$LAYER/"; suffix=".mvt" ;;
        martin) base="http://127.0.0.1:$PORT_MARTIN"; prefix="/$MARTIN_SOURCE/"; suffix="" ;;
        nginx) base="http://127.0.0.1:$PORT_NGINX"; prefix="/tiles/"; suffix=".mvt" ;;
    esac
    measure_wrk "$s" "$base" "$LIST" "$prefix" "$suffix" gzip
    measure_wrk "$s@uniform" "$base" "$LIST_UNIFORM" "$prefix" "$suffix" gzip
    server_stop "$s"
done
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Report ----------------------------------------------------------------------------
VERSIONS="wrk $( (wrk -v 2>&1 || true) | head -n 1 | awk '{print $2}'); $(nginx -v 2>&1 | sed 's/^nginx version: //')"
if [ -z "$MARTIN_MISSING" ]; then VERSIONS="$VERSIONS; $("$MARTIN" --version 2>&1 | head -n 1)"; fi
REPORT_ARGS=(tiles --runs "$RUNS" --commit "$PORTALE_COMMIT_MEASURED" --loadavg "$LOADAVG_START"
    --loadavg-end "$LOADAVG_END" --versions "$VERSIONS" --connections "$WRK_CONNECTIONS"
    --threads "$WRK_THREADS" --seconds "$WRK_SECONDS" --warmup "$WARMUP_SECONDS")
if [ -n "$MARTIN_MISSING" ]; then REPORT_ARGS+=(--martin-missing "$MARTIN_MISSING"); fi
if [ "$WRITE" = 1 ]; then REPORT_ARGS+=(--write BENCHMARKS.md); fi
python3 bench/serve_report.py "${REPORT_ARGS[@]}"
