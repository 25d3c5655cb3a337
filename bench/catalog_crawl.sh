#!/usr/bin/env bash
# The catalogue crawl benchmark: a generated catalogue of N datasets (default 10,000,
# tools/gen_catalog/gen_catalog.py, deterministic), served by the release binary on core
# 0; a harvester-like client on core 1 crawls /catalog.ttl through its hydra pages (100
# datasets a page) and, when the CKAN API is there, package_search with rows=1000
# (bench/catalog_crawl.py). Reported: the time of each crawl (goal: under 3 s each) and
# the server's peak resident memory (VmHWM) after both.
#
#   bench/catalog_crawl.sh [N]
#
# The Portale binary is $PORTALE_BIN or target/release/portale, built when stale
# (bench/serve_lib.sh). Three crawls are made; the first warms the page cache and is
# reported apart. Never run this as a test: it is a measurement.

set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=${1:-10000}
RUNS=$ROOT/bench/out/catalog_crawl
mkdir -p "$RUNS"
# shellcheck source=bench/serve_lib.sh
source bench/serve_lib.sh
serve_need taskset "install util-linux"
serve_need python3 "install Python 3"
serve_portale_bin

site=$RUNS/site-$N
if [ ! -f "$site/CURRENT" ]; then
    echo "bench: generating $N datasets in $site" >&2
    python3 tools/gen_catalog/gen_catalog.py --site "$site" --datasets "$N" > /dev/null
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
url=http://127.0.0.1:$port
trap 'server_stop portale' EXIT
server_start portale "$BIN" serve --site "$site" --addr "127.0.0.1:$port" --public-url "$url"
wait_http portale "$url/-/health"
pid=$(server_pid portale)

for run in warm-up 1 2; do
    result=$(taskset -c 1 python3 bench/catalog_crawl.py "$url" "$N")
    echo "$run: $result"
done
# The server's process is the group leader started by setsid; taskset execs the binary.
echo "server peak memory: $(grep VmHWM "/proc/$pid/status" | awk '{print $2, $3}')"
echo "binary: $PORTALE_COMMIT_MEASURED; datasets: $N; $(nproc) cores; load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
