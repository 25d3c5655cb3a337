#!/usr/bin/env bash
# Where Portale's serving time goes: profiles `portale serve` under the load of a serving
# benchmark and buckets the samples into the stages of a request.
#
#   bench/serve_profile.sh tiles|features [--no-write]
#
# Builds (once) the Italy site of bench/serve_tiles.sh / bench/serve_features.sh and
# their lists, starts Portale on core 0, puts wrk on core 1 with the benchmark's load
# (tiles: the viewer list, 64 connections, gzip; features: the bboxes, 16 connections),
# and after WARMUP_SECONDS (default 10) records PROFILE_SECONDS (default 10) of the
# server with `perf record -e cpu-clock --call-graph dwarf` (Debian linux-perf; software
# clock, as this machine's hardware counters are not available). bench/serve_profile.py
# then buckets the samples (`perf script`) and replaces (same date) or adds a dated
# section under "Where Portale's serving time goes" in BENCHMARKS.md, unless --no-write.
#
# The profiler costs the server some throughput: the rate printed is the one under
# profiling, not a benchmark result. The Portale binary is $PORTALE_BIN (with
# $PORTALE_COMMIT) or the target/release one, as for the benchmarks.

set -euo pipefail

KIND=""
WRITE=1
for arg in "$@"; do
    case "$arg" in
        tiles|features) KIND=$arg ;;
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "bench/serve_profile.sh: unexpected argument '$arg' (usage: bench/serve_profile.sh tiles|features [--no-write])" >&2; exit 2 ;;
    esac
done
if [ -z "$KIND" ]; then
    echo "bench/serve_profile.sh: say tiles or features" >&2
    exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out/serve
RUNS=$OUT/profile-$KIND
PORT=${PORT_PORTALE:-8101}
PROFILE_SECONDS=${PROFILE_SECONDS:-10}
FREQUENCY=${PROFILE_FREQUENCY:-499}
# shellcheck source=bench/serve_lib.sh
. bench/serve_lib.sh

serve_machine_checks
serve_need perf "install perf (Debian: apt-get install linux-perf)"

rm -rf "$RUNS"
mkdir -p "$RUNS"
trap 'server_stop portale' EXIT
serve_portale_bin
serve_italy_site "$OUT/italy" "$PORT"

if [ "$KIND" = tiles ]; then
    LIST=$OUT/tiles-viewer.list
    python3 bench/serve_tiles.py urls viewer "$SITE_ARCHIVE" "$LIST" "$RUNS/list.info.json" 10000
    PREFIX=/tiles/comuni-italia/ SUFFIX=.mvt ENCODING=gzip CONNS=64
else
    LIST=$OUT/bboxes.list
    python3 bench/serve_features.py bboxes "$OUT/italy/datasets/comuni-italia/limits_IT_municipalities_2023.geojson" \
        "$LIST" "$RUNS/list.info.json" 1000
    PREFIX=/ogc/collections/comuni-italia/items? SUFFIX="" ENCODING="" CONNS=16
fi
FIRST=$(head -n 1 "$LIST")

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
server_start portale "$BIN" serve --site "$OUT/italy/site" --addr "127.0.0.1:$PORT"
wait_http portale "http://127.0.0.1:$PORT$PREFIX$FIRST$SUFFIX"
PID=$(server_pid portale)
WRK=(taskset -c 1 wrk -t1 "-c$CONNS" --timeout 10s -s bench/serve_wrk.lua
    "-d$((WARMUP_SECONDS + PROFILE_SECONDS + 2))s" "http://127.0.0.1:$PORT" -- "$LIST" "$PREFIX" "$SUFFIX" "$ENCODING")
PERF=(perf record -e cpu-clock -F "$FREQUENCY" --call-graph dwarf,16384 -p "$PID" -o "$RUNS/perf.data"
    -- sleep "$PROFILE_SECONDS")
echo "bench/serve_profile.sh: $KIND: load for $((WARMUP_SECONDS + PROFILE_SECONDS + 2)) s, profiling $PROFILE_SECONDS s of it" >&2
"${WRK[@]}" > "$RUNS/wrk.out" 2>&1 &
WRK_PID=$!
sleep "$WARMUP_SECONDS"
"${PERF[@]}" > "$RUNS/perf-record.log" 2>&1
wait "$WRK_PID"
server_stop portale
RPS=$(sed -n 's/^Requests\/sec: *//p' "$RUNS/wrk.out")
echo "bench/serve_profile.sh: reading the samples (perf script; takes a minute or two)" >&2
perf script -i "$RUNS/perf.data" -F comm,ip,sym > "$RUNS/perf.script" 2> "$RUNS/perf-script.log"

# The commands, for the report (the profiler's target shown as <server-pid>).
printf '%s\0' taskset -c 0 "$BIN" serve --site "$OUT/italy/site" --addr "127.0.0.1:$PORT" > "$RUNS/server.cmd"
printf '%s\0' "${WRK[@]}" > "$RUNS/load.cmd"
printf '%s\0' "${PERF[@]/#$PID/<server-pid>}" > "$RUNS/profile.cmd"
printf '%s\0' perf script -i "$RUNS/perf.data" -F comm,ip,sym > "$RUNS/samples.cmd"
MACHINE_PERF=$(perf --version) COMMIT=$PORTALE_COMMIT_MEASURED LOADAVG=$LOADAVG_START RPS=${RPS:-0} \
CONNS=$CONNS ENCODING=$ENCODING FREQUENCY=$FREQUENCY PROFILE_SECONDS=$PROFILE_SECONDS WARMUP=$WARMUP_SECONDS \
python3 - "$RUNS" <<'EOF'
import json, os, platform, shlex, sys
runs, env = sys.argv[1], os.environ
def cmd(name):
    with open(os.path.join(runs, name + ".cmd"), encoding="utf-8") as f:
        args = f.read().split("\0")[:-1]
    safe = lambda a: a and all(c.isalnum() or c in "_@%+=:,./{}<>-" for c in a)
    return " ".join(a if safe(a) else shlex.quote(a) for a in args)
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
json.dump({
    "machine": f"`nproc` {os.cpu_count()} ({cpu}); {platform.system()} {platform.release()}; {env['MACHINE_PERF']}",
    "commit": env["COMMIT"],
    "loadavg": env["LOADAVG"],
    "load": env["CONNS"] + " connections" + (", `Accept-Encoding: gzip`" if env["ENCODING"] else ""),
    "rps": float(env["RPS"]),
    "frequency": int(env["FREQUENCY"]),
    "seconds": int(env["PROFILE_SECONDS"]),
    "commands": ["# server", cmd("server"), "# load", cmd("load"),
                 f"# profile, after {env['WARMUP']} s of load", cmd("profile"), "# samples", cmd("samples")],
}, open(os.path.join(runs, "meta.json"), "w"), indent=1)
EOF
ARGS=("$KIND" "$RUNS/perf.script" --meta "$RUNS/meta.json")
if [ "$WRITE" = 1 ]; then ARGS+=(--write BENCHMARKS.md); fi
python3 bench/serve_profile.py "${ARGS[@]}"
