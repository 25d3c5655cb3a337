#!/usr/bin/env bash
# Runs every fuzz target for N seconds each (default 600), one job, then merges the inputs
# that found new coverage into the kept corpus (fuzz/corpus/<target>/) and prints, per
# target, the executions, the time run and the coverage reached.
#
#   fuzz/run.sh [seconds] [target ...]
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Builds without
# a sanitizer (`-s none`: the harnesses are safe Rust; panics, timeouts and OOMs are what
# is looked for) and with debug assertions (`-a`: integer overflow panics). New inputs go
# to fuzz/work/<target>/ (git-ignored); logs to fuzz/logs/<target>.log; crashes to
# fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(csv_read recipe cql2_text cql2_json ckan_fq pmtiles_read mvt_encode)
fi
flags=(-s none -a)
cargo +nightly fuzz build "${flags[@]}"
mkdir -p logs work
printf '%-14s %8s %12s %8s %8s %s\n' target seconds executions cov ft result
for t in "${targets[@]}"; do
  mkdir -p "work/$t" "corpus/$t" "artifacts/$t"
  status=ok
  cargo +nightly fuzz run "${flags[@]}" "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"logs/$t.log" 2>&1 || status=CRASH
  # Keep in the repo only the inputs that add coverage to the kept corpus.
  cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "work/$t" -- -merge=1 \
    >"logs/$t.merge.log" 2>&1 || true
  # Keep the repo small: at most $CORPUS_CAP (default 200) found inputs per target
  # besides the hand-made seed-* and hand-* files (an arbitrary, name-ordered subset).
  ls "corpus/$t" | grep -vE '^(seed|hand)-' | sort | tail -n +$(( ${CORPUS_CAP:-200} + 1 )) \
    | sed "s|^|corpus/$t/|" | xargs -r rm --
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' | tail -1)
  took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "logs/$t.log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "logs/$t.log" | tail -1 | grep -o '[0-9]*')
  printf '%-14s %8s %12s %8s %8s %s\n' "$t" "${took:-?}" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$status"
done
