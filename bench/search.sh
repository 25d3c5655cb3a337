#!/usr/bin/env bash
# The catalogue search benchmark (issue 5): a generated catalogue of N records (default
# 100,000) with Italian vocabulary, indexed and queried in-process, then served.
#
#   bench/search.sh [N] [--no-write]
#
# 1. Generates (once per N and generator version) the site bench/out/search/site-N with
#    `tools/gen_catalog/gen_catalog.py --profile search` (deterministic: own datasets in a
#    generation, 25 % harvested records in five federation stores) and the fixed mix of
#    1,000 queries bench/out/search/queries.jsonl (tools/gen_catalog/search_catalog.py).
# 2. In-process, on core 0: `search_bench` (examples/search_bench.rs) reads the site,
#    makes the documents as `portale index` does, times `write_index` and the index's
#    size, then runs the mix once as a warm-up and INPROCESS_ROUNDS times (default 3)
#    measured: latency percentiles overall and per kind of query; it also writes each
#    search's number of matches.
# 3. `portale index --site` on core 0, timed with GNU time (the command a user runs:
#    reading the site, making the documents, writing and publishing the index).
# 4. `portale serve` of the site on core 0 (`taskset -c 0`: the async runtime sees one
#    CPU and starts one worker thread; the script records its threads). A
#    sample of the searches and completions is fetched and checked against the in-process
#    run (same `total`, facet counts present; bench/search_urls.py check). Then wrk on
#    core 1 (bench/serve_wrk.lua) cycles through the 930 searches of the mix as
#    `/datasets.json?...` URLs (bench/search_urls.py lists): WRK_CONNECTIONS (default 16)
#    connections, then 1 (a lone client's latency), then the 70 completions as
#    `/suggest.json?q=...` with WRK_CONNECTIONS; each a WARMUP_SECONDS (10) warm-up,
#    discarded, then WRK_SECONDS (30) measured, with the server's CPU time from /proc.
# 5. Prints a Markdown report and replaces (same date) or appends a dated section of
#    BENCHMARKS.md (bench/search_report.py), unless --no-write.
#
# Binaries: $PORTALE_BIN (with $PORTALE_COMMIT) or target/release/portale, and
# $SEARCH_BENCH_BIN or target/release/examples/search_bench, each built when missing or
# older than the sources, and copied before use. Never run this as a test: it is a
# measurement, and its numbers depend on the machine (run it on an idle one).

set -euo pipefail

N=100000
WRITE=1
for arg in "$@"; do
    case "$arg" in
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        ''|*[!0-9]*) echo "bench/search.sh: unexpected argument '$arg' (usage: bench/search.sh [N] [--no-write])" >&2; exit 2 ;;
        *) N=$arg ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out/search
RUNS=$OUT/runs-$N
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
INPROCESS_ROUNDS=${INPROCESS_ROUNDS:-3}
PORT=${PORT_PORTALE:-8111}
# shellcheck source=bench/serve_lib.sh
. bench/serve_lib.sh

serve_machine_checks
rm -rf "$RUNS"
mkdir -p "$RUNS"
trap 'server_stop portale' EXIT
serve_portale_bin

# --- The in-process benchmark's binary ---------------------------------------------------
if [ -n "${SEARCH_BENCH_BIN:-}" ]; then
    src=$SEARCH_BENCH_BIN
else
    target=${CARGO_TARGET_DIR:-$ROOT/target}
    src=$target/release/examples/search_bench
    if [ ! -x "$src" ] || [ -n "$(find src examples Cargo.toml Cargo.lock -newer "$src" -print -quit)" ]; then
        serve_need cargo "install Rust (https://rustup.rs)"
        echo "bench: building the search_bench example ($src is missing or older than the sources)" >&2
        CARGO_TARGET_DIR=$target cargo build --release --locked --example search_bench
    fi
fi
if [ ! -x "$src" ]; then
    echo "bench: no search_bench binary at $src" >&2
    exit 1
fi
EXAMPLE=$RUNS/search_bench
cp "$src" "$EXAMPLE"

# --- The catalogue and the query mix -----------------------------------------------------
SITE=$OUT/site-$N
QUERIES=$OUT/queries.jsonl
GEN=(tools/gen_catalog/gen_catalog.py tools/gen_catalog/search_catalog.py tools/gen_catalog/search_vocab.py)
stamp="$(cat "${GEN[@]}" | sha256sum | cut -c1-16) $N"
if [ ! -f "$SITE/CURRENT" ] || [ "$(cat "$SITE.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "bench: generating $N records in $SITE" >&2
    rm -rf "$SITE" "$SITE.stamp"
    python3 tools/gen_catalog/gen_catalog.py --profile search --site "$SITE" --datasets "$N" \
        --base-url "http://127.0.0.1:$PORT" > "$RUNS/generate.log"
    echo "$stamp" > "$SITE.stamp"
fi
python3 tools/gen_catalog/gen_catalog.py --profile search --queries "$QUERIES" > /dev/null
python3 bench/search_urls.py lists "$QUERIES" "$RUNS" > /dev/null

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- 1. In-process -----------------------------------------------------------------------
echo "bench: in-process: index build and $INPROCESS_ROUNDS measured round(s) of the mix" >&2
INPROCESS_CMD=(taskset -c 0 "$EXAMPLE" --site "$SITE" --queries "$QUERIES" --index "$RUNS/index"
    --rounds "$INPROCESS_ROUNDS" --json "$RUNS/inprocess.json" --totals "$RUNS/totals.jsonl")
printf '%s\0' "${INPROCESS_CMD[@]}" > "$RUNS/inprocess.cmd"
"${INPROCESS_CMD[@]}" > "$RUNS/inprocess.log" 2>&1 || {
    echo "bench: search_bench failed; $RUNS/inprocess.log ends with:" >&2
    tail -n 20 "$RUNS/inprocess.log" >&2
    exit 1
}
grep -E '^(write_index|ALL|searches)' "$RUNS/inprocess.log" >&2 || true
rm -rf "$RUNS/index"

# --- 2. `portale index` ------------------------------------------------------------------
echo "bench: portale index --site $SITE" >&2
rm -rf "$SITE/search"
# --root: a folder without catalog/synonyms.txt, so the built-in synonyms are used, as in-process.
mkdir -p "$RUNS/root"
INDEX_CMD=(taskset -c 0 "$BIN" index --root "$RUNS/root" --site "$SITE")
printf '%s\0' "${INDEX_CMD[@]}" > "$RUNS/index.cmd"
/usr/bin/time -v -o "$RUNS/index.time" "${INDEX_CMD[@]}" > "$RUNS/index.log" 2>&1 || {
    echo "bench: portale index failed; $RUNS/index.log ends with:" >&2
    tail -n 20 "$RUNS/index.log" >&2
    exit 1
}
INDEX_NAME=$(cat "$SITE/search/CURRENT")
cp "$SITE/search/$INDEX_NAME/portale-index.json" "$RUNS/index.meta.json"
du -sb "$SITE/search/$INDEX_NAME" | cut -f1 > "$RUNS/index.bytes"

# --- 3. Served ---------------------------------------------------------------------------
URL=http://127.0.0.1:$PORT
server_start portale "$BIN" serve --site "$SITE" --addr "127.0.0.1:$PORT"
wait_http portale "$URL/datasets.json?q=rifiuti"
PID=$(server_pid portale)
# The CPUs the server sees: tokio starts one worker thread per CPU of the affinity mask
# (std::thread::available_parallelism), so `taskset -c 0` gives it one.
taskset -c 0 nproc > "$RUNS/cpus_seen"
CHECK_OK=1
python3 bench/search_urls.py check "$QUERIES" "$RUNS/totals.jsonl" "$URL" "$RUNS/check.json" \
    > "$RUNS/check.log" 2>&1 || CHECK_OK=0
if [ "$CHECK_OK" = 0 ]; then
    echo "bench: the server's answers differ from the in-process ones (see $RUNS/check.log); measuring anyway, the report says so" >&2
fi
curl -s -o "$RUNS/datasets.sample.json" "$URL/datasets.json?$(head -n 1 "$RUNS/datasets.list")"
curl -s -o "$RUNS/suggest.sample.json" "$URL/suggest.json?$(head -n 1 "$RUNS/suggest.list")"

measure_wrk portale "$URL" "$RUNS/datasets.list" "/datasets.json?" "" ""
measure_wrk portale@c1 "$URL" "$RUNS/datasets.list" "/datasets.json?" "" "" 1
measure_wrk portale@suggest "$URL" "$RUNS/suggest.list" "/suggest.json?" "" ""
grep VmHWM "/proc/$PID/status" | awk '{print $2 * 1024}' > "$RUNS/server.vmhwm" || true
# The server's threads after the runs (workers and blocking-pool threads share a name).
{ cat /proc/"$PID"/task/*/comm 2>/dev/null || true; } | sort | uniq -c | awk '{print $2 " " $1}' > "$RUNS/threads"
server_stop portale
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- Report ------------------------------------------------------------------------------
VERSIONS="wrk $( (wrk -v 2>&1 || true) | head -n 1 | awk '{print $2}'); Python $(python3 -c 'import platform; print(platform.python_version())')"
REPORT_ARGS=(--runs "$RUNS" --site "$SITE" --records "$N" --commit "$PORTALE_COMMIT_MEASURED"
    --loadavg "$LOADAVG_START" --loadavg-end "$LOADAVG_END" --versions "$VERSIONS"
    --connections "$WRK_CONNECTIONS" --threads "$WRK_THREADS" --seconds "$WRK_SECONDS"
    --warmup "$WARMUP_SECONDS" --generator-stamp "${stamp%% *}")
if [ "$WRITE" = 1 ]; then REPORT_ARGS+=(--write BENCHMARKS.md); fi
python3 bench/search_report.py "${REPORT_ARGS[@]}"
