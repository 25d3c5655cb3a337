#!/usr/bin/env bash
# The ETL benchmark: Portale side by side with GDAL's ogr2ogr, in one run.
#
#   bench/etl.sh [--gdal-only] [--no-write] [N]        (N rows, default 1000000)
#
# 1. Generates once (bench/gen_csv.py, deterministic) an Italian-style CSV of N rows
#    (Windows-1252, ";", CRLF, comma decimals, dd/mm/yyyy, EPSG:3003) and a Portale site
#    around it in bench/out/site/ (git-ignored); regenerated only when N or the generator
#    changes.
# 2. Measures with GNU time (`/usr/bin/time -v`: wall time, CPU time, max RSS):
#    - Portale: `portale build --jobs 1` of that site from scratch, writing CSV, GeoJSON,
#      GeoParquet and FlatGeobuf (WGS84) in one build; then the same build with nothing
#      changed;
#    - ogr2ogr: the same conversions with the same reprojection (EPSG:3003 -> 4326), one
#      ogr2ogr per format, run one after the other (their times are summed), preceded by
#      the Windows-1252 -> UTF-8 transcoding GDAL 3.6's CSV driver cannot do itself; and,
#      as references: ogr2ogr converting once to FlatGeobuf and deriving the other formats
#      from it ("chained"), and ogr2ogr without transcoding or type fixes ("plain", output
#      not equivalent: see BENCHMARKS.md);
#    - the whole demo site of this repository built from scratch into a fresh folder, then
#      rebuilt with nothing changed.
# 3. Prints a Markdown table and replaces (same date and N) or appends a dated section in
#    BENCHMARKS.md (bench/report.py), unless --no-write.
#
# --gdal-only measures only the ogr2ogr side (no Portale binary needed).
# The Portale binary is $PORTALE_BIN if set (with $PORTALE_COMMIT, the commit it was built
# from, for the report); otherwise ${CARGO_TARGET_DIR:-<repo>/target}
# /release/portale, built with `cargo build --release` when missing or older than src/,
# Cargo.toml or Cargo.lock.
#
# Never run this as a test: it is a measurement, and its numbers depend on the machine.

set -euo pipefail

GDAL_ONLY=0
WRITE=1
N=1000000
for arg in "$@"; do
    case "$arg" in
        --gdal-only) GDAL_ONLY=1 ;;
        --no-write) WRITE=0 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *[!0-9]*|'') echo "bench/etl.sh: unexpected argument '$arg' (usage: bench/etl.sh [--gdal-only] [--no-write] [N])" >&2; exit 2 ;;
        *) N=$arg ;;
    esac
done
if [ "$N" -lt 1 ]; then
    echo "bench/etl.sh: N must be at least 1" >&2
    exit 2
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=bench/out
SITE_ROOT=$OUT/site
CSV=$SITE_ROOT/datasets/bench/bench.csv
GDAL_DIR=$OUT/gdal
TIMES=$OUT/times

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "bench/etl.sh: $1 not found: $2" >&2
        exit 1
    fi
}
if [ ! -x /usr/bin/time ] || ! /usr/bin/time -v true >/dev/null 2>&1; then
    echo "bench/etl.sh: GNU time is needed at /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2
    exit 1
fi
need ogr2ogr "install GDAL (Debian/Ubuntu: apt-get install gdal-bin)"
need ogrinfo "install GDAL (Debian/Ubuntu: apt-get install gdal-bin)"
need iconv "install the C library's iconv (Debian/Ubuntu: libc-bin)"
need python3 "install Python 3"

# --- The Portale binary ----------------------------------------------------------------
BIN=""
if [ "$GDAL_ONLY" = 0 ]; then
    if [ -n "${PORTALE_BIN:-}" ]; then
        BIN=$PORTALE_BIN
    else
        TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
        BIN=$TARGET_DIR/release/portale
        if [ ! -x "$BIN" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$BIN" -print -quit)" ]; then
            need cargo "install Rust (https://rustup.rs)"
            echo "bench/etl.sh: building the release binary ($BIN is missing or older than the sources)" >&2
            CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --locked
        fi
    fi
    if [ ! -x "$BIN" ]; then
        echo "bench/etl.sh: no Portale binary at $BIN" >&2
        exit 1
    fi
fi

# --- The data, generated once ----------------------------------------------------------
STAMP="n=$N gen=$(sha256sum bench/gen_csv.py | cut -c1-16)"
if [ ! -f "$CSV" ] || [ "$(cat $OUT/site.stamp 2>/dev/null)" != "$STAMP" ]; then
    echo "bench/etl.sh: generating $N rows into $SITE_ROOT" >&2
    rm -rf "$SITE_ROOT" "$OUT/site.stamp"
    python3 bench/gen_csv.py "$N" "$SITE_ROOT"
    echo "$STAMP" > "$OUT/site.stamp"
fi

rm -rf "$TIMES"
mkdir -p "$TIMES"
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)

# measure NAME CMD...: runs CMD under GNU time; its resources go to $TIMES/NAME.time, its
# output to $TIMES/NAME.log, its arguments (NUL-separated) to $TIMES/NAME.cmd. Stops the run if CMD fails.
measure() {
    local name=$1
    shift
    printf '%s\0' "$@" > "$TIMES/$name.cmd"
    echo "bench/etl.sh: $name" >&2
    if ! /usr/bin/time -v -o "$TIMES/$name.time" "$@" > "$TIMES/$name.log" 2>&1; then
        echo "bench/etl.sh: $name failed; its output ($TIMES/$name.log) ends with:" >&2
        tail -n 20 "$TIMES/$name.log" >&2
        exit 1
    fi
}

# Both sides read the CSV from the page cache.
cat "$CSV" > /dev/null

# --- ogr2ogr ---------------------------------------------------------------------------
# GDAL 3.6's CSV driver detects the ";" separator, and with ";" it reads "1625432,18" as
# 1625432.18 in the X/Y columns (which it keeps as real fields, published as Portale
# publishes them: the recipe lists them), so coordinates need no help. It does not transcode, and
# it cannot read "1.234,50" or dd/mm/yyyy as numbers or dates, nor keep "046007" a string
# under AUTODETECT_TYPE (it becomes 46007): the SQLite dialect fixes the types, as a GDAL
# user would, to publish what Portale publishes.
GDAL_HAS_PARQUET=0
if ogrinfo --formats | grep -q '^ *Parquet '; then GDAL_HAS_PARQUET=1; fi
rm -rf "$GDAL_DIR"
mkdir -p "$GDAL_DIR/equivalent" "$GDAL_DIR/plain"
OPEN=(-oo X_POSSIBLE_NAMES=COORD_X -oo Y_POSSIBLE_NAMES=COORD_Y)
REPROJECT=(-s_srs EPSG:3003 -t_srs EPSG:4326)
SQL="SELECT CAST(ID AS INTEGER) AS id, CODICE AS codice, DENOMINAZIONE AS denominazione, \
FRAZIONE AS frazione, substr(DATA, 7, 4) || '-' || substr(DATA, 4, 2) || '-' || substr(DATA, 1, 2) AS data, \
CAST(REPLACE(REPLACE(IMPORTO, '.', ''), ',', '.') AS REAL) AS importo, \
COORD_X AS coord_x, COORD_Y AS coord_y, GEOMETRY FROM bench"
UTF8=$GDAL_DIR/bench.csv

measure gdal-iconv iconv -f WINDOWS-1252 -t UTF-8 -o "$UTF8" "$CSV"
gdal() { # gdal VARIANT FORMAT-NAME OUTPUT-FILE INPUT DRIVER-AND-LAYER-OPTIONS...
    local variant=$1 fmt=$2 file=$3 input=$4
    shift 4
    local sql=()
    if [ "$variant" = equivalent ]; then sql=(-dialect SQLITE -sql "$SQL"); fi
    measure "gdal-$variant-$fmt" ogr2ogr "$@" "${OPEN[@]}" "${REPROJECT[@]}" "${sql[@]}" \
        -nln bench "$GDAL_DIR/$variant/$file" "$input"
}
for variant in equivalent plain; do
    if [ "$variant" = equivalent ]; then input=$UTF8; else input=$CSV; fi
    gdal "$variant" csv bench.csv "$input" -f CSV -lco GEOMETRY=AS_XY
    gdal "$variant" geojson bench.geojson "$input" -f GeoJSON -lco RFC7946=YES -lco COORDINATE_PRECISION=7
    if [ "$GDAL_HAS_PARQUET" = 1 ]; then
        gdal "$variant" geoparquet bench.parquet "$input" -f Parquet
    fi
    gdal "$variant" fgb bench.fgb "$input" -f FlatGeobuf
done
# Reference: a GDAL user who converts (and reprojects, and fixes types) once, to the
# FlatGeobuf measured above, and derives the other formats from it.
mkdir -p "$GDAL_DIR/chained"
FGB=$GDAL_DIR/equivalent/bench.fgb
measure gdal-chained-csv ogr2ogr -f CSV -lco GEOMETRY=AS_XY -nln bench "$GDAL_DIR/chained/bench.csv" "$FGB"
measure gdal-chained-geojson ogr2ogr -f GeoJSON -lco RFC7946=YES -lco COORDINATE_PRECISION=7 \
    -nln bench "$GDAL_DIR/chained/bench.geojson" "$FGB"
if [ "$GDAL_HAS_PARQUET" = 1 ]; then
    measure gdal-chained-geoparquet ogr2ogr -f Parquet -nln bench "$GDAL_DIR/chained/bench.parquet" "$FGB"
fi

# --- Portale ---------------------------------------------------------------------------
if [ "$GDAL_ONLY" = 0 ]; then
    rm -rf "$SITE_ROOT/site"
    measure portale-build "$BIN" build --root "$SITE_ROOT" --site "$SITE_ROOT/site" --jobs 1
    measure portale-rebuild "$BIN" build --root "$SITE_ROOT" --site "$SITE_ROOT/site" --jobs 1
    DEMO_SITE=$OUT/demo-site
    rm -rf "$DEMO_SITE"
    measure demo-build "$BIN" build --root . --site "$DEMO_SITE"
    measure demo-rebuild "$BIN" build --root . --site "$DEMO_SITE"
fi

# --- Report ----------------------------------------------------------------------------
# The code measured: HEAD, and whether the sources differ from it (bench/ and
# BENCHMARKS.md, which this script writes, do not count).
# $PORTALE_COMMIT names it instead when $PORTALE_BIN was built from another checkout.
COMMIT=${PORTALE_COMMIT:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}
if [ -z "${PORTALE_COMMIT:-}" ] && [ -n "$(git status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    COMMIT="$COMMIT (with uncommitted changes to the sources)"
fi
REPORT_ARGS=(--n "$N" --times "$TIMES" --site "$SITE_ROOT/site" --gdal-dir "$GDAL_DIR"
    --commit "$COMMIT" --gdal-version "$(ogr2ogr --version)" --loadavg "$LOADAVG_START"
    --gdal-parquet "$GDAL_HAS_PARQUET")
if [ "$GDAL_ONLY" = 1 ]; then REPORT_ARGS+=(--gdal-only); fi
if [ "$WRITE" = 1 ]; then REPORT_ARGS+=(--write BENCHMARKS.md); fi
python3 bench/report.py "${REPORT_ARGS[@]}"
