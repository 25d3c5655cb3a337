# Shared pieces of the serving benchmarks (bench/serve_tiles.sh, bench/serve_features.sh).
# Sourced, not run. Expects ROOT (the repository) and RUNS (the folder of this run's
# measurements) to be set, and `set -euo pipefail`.
#
# - serve_portale_bin: the Portale release binary to measure (PORTALE_BIN, or the
#   target/release one, built when missing or stale), copied to RUNS so that a rebuild
#   during the run cannot swap it;
# - serve_italy_site DIR PORT: the Portale site of all 7,899 Italian municipalities
#   (z0–z12 tiles, FlatGeobuf), built once into DIR/site; italy_dataset ROOT writes that
#   dataset's folder, build_site_once DIR INPUTS... builds a site unless already built;
# - server_start NAME CMD...: starts a server on core 0 (`taskset -c 0`) in its own
#   process group; server_stop NAME ends that group;
# - measure_wrk NAME URL LIST PREFIX SUFFIX ENCODING: a warm-up, then the measured wrk run
#   on core 1 (`taskset -c 1`), with the server's CPU time over the measured run; the
#   command in BEFORE_MEASURE, when set, runs between the two;
# - the run's settings: WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS, WARMUP_SECONDS.
#
# Pitfall: everything a server starts (nginx's worker, gunicorn's workers, Portale's
# blocking threads) inherits the affinity of `taskset -c 0`, so "one core" holds for the
# whole server, and its CPU time is summed over its process group.

WRK_THREADS=${WRK_THREADS:-1}
WRK_SECONDS=${WRK_SECONDS:-30}
WARMUP_SECONDS=${WARMUP_SECONDS:-10}

serve_need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "bench: $1 not found: $2" >&2
        exit 1
    fi
}

serve_machine_checks() {
    serve_need taskset "install util-linux"
    serve_need wrk "install wrk (Debian: apt-get install wrk)"
    serve_need curl "install curl"
    serve_need python3 "install Python 3"
    if [ ! -x /usr/bin/time ] || ! /usr/bin/time -f %e true >/dev/null 2>&1; then
        echo "bench: GNU time is needed at /usr/bin/time (Debian: apt-get install time)" >&2
        exit 1
    fi
    if [ "$(nproc --all)" -lt 2 ]; then
        echo "bench: two cores are needed (server on core 0, wrk on core 1)" >&2
        exit 1
    fi
}

# The binary measured, as a private copy in $RUNS; sets BIN and PORTALE_COMMIT_MEASURED.
serve_portale_bin() {
    local src
    if [ -n "${PORTALE_BIN:-}" ]; then
        src=$PORTALE_BIN
    else
        local target=${CARGO_TARGET_DIR:-$ROOT/target}
        src=$target/release/portale
        if [ ! -x "$src" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$src" -print -quit)" ]; then
            serve_need cargo "install Rust (https://rustup.rs)"
            echo "bench: building the release binary ($src is missing or older than the sources)" >&2
            CARGO_TARGET_DIR=$target cargo build --release --locked
        fi
    fi
    if [ ! -x "$src" ]; then
        echo "bench: no Portale binary at $src" >&2
        exit 1
    fi
    BIN=$RUNS/portale
    cp "$src" "$BIN"
    PORTALE_COMMIT_MEASURED=${PORTALE_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
    if [ -z "${PORTALE_COMMIT:-}" ] && [ -n "$(git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
        PORTALE_COMMIT_MEASURED="$PORTALE_COMMIT_MEASURED (with uncommitted changes to the sources)"
    fi
}

# italy_dataset ROOT: writes ROOT/datasets/comuni-italia (its recipe, and the municipalities'
# GeoJSON copied in when it differs). Sets ITALY_STAMP_INPUTS (the files a build reads).
italy_dataset() {
    local root=$1
    local data=${ITALY_GEOJSON:-$ROOT/../shared/data/benchmark/limits_IT_municipalities_2023.geojson}
    if [ ! -f "$data" ]; then
        data=/work/shared/data/benchmark/limits_IT_municipalities_2023.geojson
    fi
    if [ ! -f "$data" ]; then
        echo "bench: the municipalities GeoJSON is missing (set ITALY_GEOJSON to limits_IT_municipalities_2023.geojson)" >&2
        exit 1
    fi
    mkdir -p "$root/datasets/comuni-italia"
    cat > "$root/datasets/comuni-italia/dataset.toml" <<'EOF'
# Benchmark layer: all Italian municipalities (bench/serve_tiles.sh, bench/serve_features.sh, bench/load.sh).
[dataset]
title = "Confini dei comuni italiani 2023"
description = "I confini di tutti i 7.899 comuni italiani (ISTAT 2023, da openpolis/geojson-italy), per i benchmark di Portale."
themes = ["REGI"]
keywords = ["confini", "comuni"]
frequency = "ANNUAL"

[source]
files = ["limits_IT_municipalities_2023.geojson"]

[geometry]
check_territory = false

[tiles]
min_zoom = 0
max_zoom = 12

[output]
formats = ["fgb"]
EOF
    local src=$root/datasets/comuni-italia/limits_IT_municipalities_2023.geojson
    if ! cmp -s "$data" "$src"; then cp "$data" "$src"; fi
    ITALY_STAMP_INPUTS=("$root/datasets/comuni-italia/dataset.toml" "$src")
}

# build_site_once DIR INPUTS...: `portale build` of DIR into DIR/site, unless it was already
# built by the same binary from the same inputs (their SHA-256, kept in DIR/site.stamp).
build_site_once() {
    local dir=$1
    shift
    local stamp
    stamp="$(cat "$BIN" "$@" | sha256sum | cut -c1-16)"
    if [ ! -f "$dir/site/CURRENT" ] || [ "$(cat "$dir/site.stamp" 2>/dev/null)" != "$stamp" ]; then
        echo "bench: building the site in $dir (z0-z12 tiles of Italy; takes a while)" >&2
        rm -rf "$dir/site" "$dir/site.stamp"
        "$BIN" build --root "$dir" --site "$dir/site" > "$dir/build.log" 2>&1 || {
            echo "bench: portale build failed; $dir/build.log ends with:" >&2
            tail -n 20 "$dir/build.log" >&2
            exit 1
        }
        echo "$stamp" > "$dir/site.stamp"
    fi
}

# serve_italy_site DIR PORT: a site of the 7,899 municipalities in DIR, built to DIR/site
# unless already built from the same input, recipe and binary. Sets SITE_ARCHIVE (the
# layer's PMTiles) and SITE_FGB (its FlatGeobuf).
serve_italy_site() {
    local dir=$1 port=$2
    mkdir -p "$dir/catalog"
    sed "s|^base_url = .*|base_url = \"http://127.0.0.1:$port\"|" catalog/catalog.toml > "$dir/catalog/catalog.toml"
    italy_dataset "$dir"
    build_site_once "$dir" "$dir/catalog/catalog.toml" "${ITALY_STAMP_INPUTS[@]}"
    local gen
    gen=$(cat "$dir/site/CURRENT")
    SITE_ARCHIVE=$(find "$dir/site/generations/$gen" -name '*.pmtiles' | head -n 1)
    SITE_FGB=$(find "$dir/site/generations/$gen" -name '*.fgb' | head -n 1)
    if [ -z "$SITE_ARCHIVE" ] || [ -z "$SITE_FGB" ]; then
        echo "bench: the built site has no PMTiles or no FlatGeobuf under $dir/site/generations/$gen" >&2
        exit 1
    fi
}

# server_start NAME CMD...: CMD on core 0, its own process group, output to $RUNS/NAME.server.log.
server_start() {
    local name=$1
    shift
    printf '%s\0' taskset -c 0 "$@" > "$RUNS/$name.server.cmd"
    setsid taskset -c 0 "$@" > "$RUNS/$name.server.log" 2>&1 < /dev/null &
    eval "SERVER_PID_${name//-/_}=$!"
}

server_pid() {
    local var="SERVER_PID_${1//-/_}"
    echo "${!var:-}"
}

server_stop() {
    local pid
    pid=$(server_pid "$1")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    eval "SERVER_PID_${1//-/_}="
}

# wait_http NAME URL: waits (60 s at most) until URL answers 200; fails if the server died.
wait_http() {
    local name=$1 url=$2 pid
    pid=$(server_pid "$name")
    for _ in $(seq 1 600); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench: $name exited; $RUNS/$name.server.log ends with:" >&2
            tail -n 20 "$RUNS/$name.server.log" >&2
            return 1
        fi
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench: $name did not answer 200 at $url within 60 s" >&2
    return 1
}

# CPU seconds (user + system) used so far by the process group PGID.
group_cpu_seconds() {
    python3 - "$1" <<'EOF'
import os, sys
pgid, ticks = int(sys.argv[1]), 0
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    if int(fields[2]) == pgid:          # pgrp
        ticks += int(fields[11]) + int(fields[12])   # utime + stime
print(ticks / os.sysconf("SC_CLK_TCK"))
EOF
}

# measure_wrk NAME BASE-URL LIST PREFIX SUFFIX ENCODING [CONNECTIONS]: warm-up (discarded),
# then the measured run. Leaves $RUNS/NAME.wrk (wrk's output with its WRK_JSON line),
# $RUNS/NAME.cmd (the wrk command), $RUNS/NAME.cpu (the server's CPU seconds before and
# after the measured run, and its start and end) and $RUNS/NAME.wrktime (wrk's own user
# and system CPU seconds and wall seconds, from GNU time).
measure_wrk() {
    local name=$1 base=$2 list=$3 prefix=$4 suffix=$5 encoding=$6 conns=${7:-$WRK_CONNECTIONS}
    local server=${name%%@*}
    local pid
    pid=$(server_pid "$server")
    local wrk_cmd=(wrk "-t$WRK_THREADS" "-c$conns" --timeout 10s --latency -s bench/serve_wrk.lua)
    echo "bench: $name: warm-up ${WARMUP_SECONDS} s" >&2
    taskset -c 1 "${wrk_cmd[@]}" "-d${WARMUP_SECONDS}s" "$base" -- "$list" "$prefix" "$suffix" "$encoding" \
        > "$RUNS/$name.warmup.wrk" 2>&1
    if [ -n "${BEFORE_MEASURE:-}" ]; then eval "$BEFORE_MEASURE"; fi
    echo "bench: $name: ${WRK_SECONDS} s with $conns connections" >&2
    printf '%s\0' taskset -c 1 "${wrk_cmd[@]}" "-d${WRK_SECONDS}s" "$base" -- "$list" "$prefix" "$suffix" "$encoding" \
        > "$RUNS/$name.cmd"
    local cpu0 cpu1 t0 t1
    cpu0=$(group_cpu_seconds "$pid")
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S %e' -o "$RUNS/$name.wrktime" \
        taskset -c 1 "${wrk_cmd[@]}" "-d${WRK_SECONDS}s" "$base" -- "$list" "$prefix" "$suffix" "$encoding" \
        > "$RUNS/$name.wrk" 2>&1
    t1=$(date +%s.%N)
    cpu1=$(group_cpu_seconds "$pid")
    echo "$cpu0 $cpu1 $t0 $t1" > "$RUNS/$name.cpu"
    if ! grep -q '^WRK_JSON ' "$RUNS/$name.wrk"; then
        echo "bench: $name: wrk printed no summary; its output:" >&2
        cat "$RUNS/$name.wrk" >&2
        return 1
    fi
    grep -E 'Requests/sec|Non-2xx|Socket errors' "$RUNS/$name.wrk" >&2 || true
}
