#!/usr/bin/env bash
# The load benchmark: one Portale server under a mixed workload for 60 s (issue 7, part 1).
#
#   bench/load.sh [--no-write]
#
# 1. Builds (once; bench/serve_lib.sh) a site of the demo catalogue (catalog/, datasets/)
#    plus the layer of all 7,899 Italian municipalities (z0-z12 tiles) in
#    bench/out/load/ (git-ignored).
# 2. Starts `portale serve` on core 0 (`taskset -c 0`) with its default logging (the
#    access log at info, to a file), and a sampler of its resident memory (/proc, every
#    0.5 s, for the whole run).
# 3. Draws the mixed list from what the server publishes (bench/load.py urls: tiles 50 %,
#    feature queries 20 %, search 20 %, catalogue 10 %; 20,000 requests, fixed seed) and
#    checks that every distinct URL answers 200 (bench/load.py check).
# 4. wrk on core 1 (`taskset -c 1`), WRK_THREADS (1) thread, `Accept-Encoding: gzip`,
#    walking the list (bench/serve_wrk.lua), once per level of WRK_LEVELS ("16 64"
#    connections): a warm-up of WARMUP_SECONDS (30, discarded), then WRK_SECONDS (60)
#    measured, with a `/-/metrics` scrape before and after for the per-route figures.
#    The goals are judged on the first level (16 connections, as for the feature-serving
#    goal); 64 connections, past the server's saturation, is reported as a reference.
# 5. Judges the issue's goals (no unexpected error: none from wrk, no status other than
#    2xx in the server's counters, no `ERROR` in its log; p99 < 50 ms; resident memory
#    growing < 10 % over the judged run, the medians of its first and last 10 s
#    compared), prints a Markdown report and replaces (same
#    date) or appends a dated section in BENCHMARKS.md (bench/load.py report), unless
#    --no-write. Exit status 1 when a goal is not met.
#
# The Portale binary is $PORTALE_BIN (with $PORTALE_COMMIT) or the target/release one,
# built when stale; it is copied before use. Never run this as a test: it is a
# measurement, and its numbers depend on the machine.

set -euo pipefail

WRITE=1
for arg in "$@"; do
    case "$arg" in
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
        *) echo "bench/load.sh: unexpected argument '$arg' (usage: bench/load.sh [--no-write])" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out/load
RUNS=$OUT/runs
WRK_LEVELS=${WRK_LEVELS:-16 64}
WRK_CONNECTIONS=${WRK_LEVELS%% *}
WRK_SECONDS=${WRK_SECONDS:-60}
PORT=${PORT_PORTALE:-8111}
LIST_SIZE=${LIST_SIZE:-20000}
# Longer than the serving benchmarks' 10 s: the heap reaches its working set (blocking
# threads started, caches filled) before the memory is judged.
WARMUP_SECONDS=${WARMUP_SECONDS:-30}
# shellcheck source=bench/serve_lib.sh
. bench/serve_lib.sh

serve_machine_checks
python3 -c 'import pmtiles' 2>/dev/null || { echo "bench/load.sh: the Python package pmtiles is needed (pip install pmtiles)" >&2; exit 1; }

rm -rf "$RUNS"
mkdir -p "$RUNS" "$OUT/site-root"
serve_portale_bin

# The demo catalogue plus the municipalities, served at this port.
SITE_ROOT=$OUT/site-root
mkdir -p "$SITE_ROOT/catalog" "$SITE_ROOT/datasets"
sed "s|^base_url = .*|base_url = \"http://127.0.0.1:$PORT\"|" catalog/catalog.toml > "$SITE_ROOT/catalog/catalog.toml"
for d in datasets/*/; do
    id=$(basename "$d")
    rsync -a --delete "$d" "$SITE_ROOT/datasets/$id/"
done
cp datasets/README.md "$SITE_ROOT/datasets/" 2>/dev/null || true
italy_dataset "$SITE_ROOT"
# shellcheck disable=SC2046
build_site_once "$SITE_ROOT" "$SITE_ROOT/catalog/catalog.toml" "${ITALY_STAMP_INPUTS[@]}" \
    $(find "$SITE_ROOT/datasets" -type f ! -path '*/comuni-italia/*' | LC_ALL=C sort)
SITE=$SITE_ROOT/site

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
server_start load "$BIN" serve --site "$SITE" --addr "127.0.0.1:$PORT"
trap 'touch "$RUNS/rss.stop"; server_stop load' EXIT
wait_http load "http://127.0.0.1:$PORT/-/health"
python3 bench/load.py rss "$(server_pid load)" "$RUNS/rss.txt" "$RUNS/rss.stop" &
RSS_PID=$!

python3 bench/load.py urls "http://127.0.0.1:$PORT" "$SITE" "$RUNS" "$LIST_SIZE"
python3 bench/load.py check "http://127.0.0.1:$PORT" "$RUNS"

# One measured run per level of concurrency, the first judged, on the same server (so the
# memory is followed across all of them); /-/metrics is scraped right before and after each.
for conns in $WRK_LEVELS; do
    BEFORE_MEASURE="python3 bench/load.py metrics http://127.0.0.1:$PORT $RUNS/metrics.before.c$conns"
    measure_wrk "load@c$conns" "http://127.0.0.1:$PORT" "$RUNS/load.list" "" "" gzip "$conns"
    python3 bench/load.py metrics "http://127.0.0.1:$PORT" "$RUNS/metrics.after.c$conns"
done
sleep 1
touch "$RUNS/rss.stop"
wait "$RSS_PID" || true
server_stop load
trap - EXIT
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)
grep -c -E '(^| )ERROR |"level":"ERROR"' "$RUNS/load.server.log" > "$RUNS/server.errors" || true

VERSIONS="wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null || echo '?')"
WRITE_ARGS=()
if [ "$WRITE" = 1 ]; then WRITE_ARGS=(--write BENCHMARKS.md); fi
python3 bench/load.py report --runs "$RUNS" --commit "$PORTALE_COMMIT_MEASURED" \
    --loadavg "$LOADAVG" --loadavg-end "$LOADAVG_END" --versions "$VERSIONS" \
    --levels "$WRK_LEVELS" --threads "$WRK_THREADS" --seconds "$WRK_SECONDS" \
    --warmup "$WARMUP_SECONDS" "${WRITE_ARGS[@]}"
