#!/usr/bin/env python3
"""The workload side of bench/load.sh: the mixed URL list, the all-answer check, the
memory sampler and the report.

    load.py urls BASE SITE OUT [N]      the mixed list of N (default 20,000) requests
    load.py check BASE OUT              every distinct URL of the list once: all must be 200
    load.py rss PID FILE STOP           samples the server's memory every 0.5 s until STOP exists
    load.py metrics BASE FILE           a /-/metrics scrape, saved as is
    load.py report --runs DIR ... [--write BENCHMARKS.md]

`urls` asks the running server what it publishes (`/map/style.json` for the tile layers,
`/ogc/collections` and their items for the feature collections, `/datasets.json` for the
datasets and the words of their titles and keywords) and reads every tile of the site's
PMTiles archives (the `pmtiles` package, PyPI). It then draws, with a fixed seed, a list
of N request paths in the issue's shares (tiles 50 %, feature queries 20 %, search 20 %,
catalogue 10 %; within each, the mix in `MIX` below), shuffles it so the kinds interleave,
and writes OUT/load.list (one path a line, for bench/serve_wrk.lua), OUT/load.tsv (kind
and path) and OUT/load.info.json (counts per kind and request, the seed, the SHA-256).

- Tiles: half from the 7,899-municipality layer, half shared equally by the demo's layers;
  within a layer the `viewer` zoom mix of bench/serve_tiles.py (zooms 6 and up an equal
  share each, the zooms below 6 one share together), tiles that exist drawn uniformly.
- Features: half on the municipalities, half shared by the demo's collections; per
  collection bbox pages (`limit=100`), single features, CQL2 attribute filters and pages
  at an offset, with values taken from the collection's own features.
- Search: the HTML search page, `/datasets.json`, CKAN `package_search` (some with an
  `fq`) and `/suggest.json`, on words of the catalogue's titles and keywords.
- Catalogue: the home page, dataset pages and their JSON twins, CKAN `package_show` and
  `package_list`, the DCAT-AP_IT feed in Turtle, `/about` and `/map`.

`check` fetches every distinct path once with `Accept-Encoding: gzip` (as wrk then does)
and fails unless all answer 200: wrk counts any other status as an error, so a list with
a 404 in it would hide real errors. It records the body sizes per kind.
"""

import argparse
import collections
import datetime
import gzip
import hashlib
import http.client
import json
import os
import random
import re
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_tiles import open_archive, zoom_shares  # noqa: E402
from pmtiles.reader import all_tiles  # noqa: E402
import serve_report  # noqa: E402

SEED = "portale-bench-load-1"
ITALY_LAYER = "comuni-italia"
SHARES = {"tiles": 0.50, "features": 0.20, "search": 0.20, "catalogue": 0.10}
MIX = {
    "features": {"bbox": 0.50, "item": 0.20, "filter": 0.15, "offset": 0.15},
    "search": {"html": 0.30, "json": 0.25, "ckan": 0.30, "suggest": 0.15},
    "catalogue": {"home": 0.20, "page": 0.30, "twin": 0.15, "package_show": 0.15,
                  "turtle": 0.05, "package_list": 0.05, "about": 0.05, "map": 0.05},
}
GOAL_P99_MS = 50.0
GOAL_RSS_GROWTH = 0.10
WINDOW = 10   # seconds at each end of the judged run whose memory samples are compared


class Client:
    """One kept-alive HTTP/1.1 connection to BASE."""

    def __init__(self, base):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn = None

    def get(self, path, gzip_ok=False):
        headers = {"Accept-Encoding": "gzip"} if gzip_ok else {}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request("GET", path, headers=headers)
                resp = self.conn.getresponse()
                body = resp.read()
                return resp.status, dict(resp.getheaders()), body
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, path):
        status, _, body = self.get(path)
        if status != 200:
            sys.exit(f"load.py: GET {path} answered {status}: {body[:300]!r}")
        return json.loads(body)


def split(n, weights):
    """n split by the weights (largest remainder, so the parts add up to n)."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(weights, key=lambda k: counts[k] - exact[k])[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def tile_paths(generation, layers, n, rng):
    """n tile paths over the layers (their archives in the generation's folder): half on the
    municipalities, half shared by the rest."""
    demo = [layer for layer in layers if layer != ITALY_LAYER]
    if ITALY_LAYER not in layers or not demo:
        sys.exit(f"load.py: the site must publish {ITALY_LAYER} and the demo's layers; it has {layers}")
    weights = {ITALY_LAYER: 0.5, **{layer: 0.5 / len(demo) for layer in demo}}
    paths = []
    for layer, share in split(n, weights).items():
        folder = os.path.join(generation, "datasets", layer)
        archives = [f for f in os.listdir(folder) if f.endswith(".pmtiles")]
        if len(archives) != 1:
            sys.exit(f"load.py: expected one .pmtiles in {folder}, found {archives}")
        by_zoom = collections.defaultdict(list)
        with open_archive(os.path.join(folder, archives[0])) as (get_bytes, _reader):
            for (z, x, y), _data in all_tiles(get_bytes):
                by_zoom[z].append((x, y))
        for z, count in sorted(zoom_shares(sorted(by_zoom), share).items()):
            tiles = sorted(by_zoom[z])
            paths += [f"/tiles/{layer}/{z}/{x}/{y}.mvt" for x, y in (rng.choice(tiles) for _ in range(count))]
    return paths


def point_of(geometry):
    """A vertex of the geometry (its first), or None."""
    c = geometry.get("coordinates") if geometry else None
    while isinstance(c, list) and c and isinstance(c[0], list):
        c = c[0]
    return (c[0], c[1]) if isinstance(c, list) and len(c) >= 2 else None


def feature_paths(client, collections_doc, n, rng):
    """n OGC API Features requests: half on the municipalities, half shared by the rest."""
    ids = [c["id"] for c in collections_doc["collections"]]
    demo = [c for c in ids if c != ITALY_LAYER]
    weights = {ITALY_LAYER: 0.5, **{c: 0.5 / len(demo) for c in demo}}
    paths = []
    for coll, share in split(n, weights).items():
        base = f"/ogc/collections/{urllib.parse.quote(coll)}/items"
        page = client.json(f"{base}?limit=1000&f=json")
        feats = page["features"]
        matched = page.get("numberMatched", len(feats))
        if not feats:
            sys.exit(f"load.py: collection {coll} has no feature")
        points = [p for p in (point_of(f.get("geometry")) for f in feats) if p]
        # String properties with a value shared by several features make useful filters.
        values = collections.Counter(
            (k, v) for f in feats for k, v in (f.get("properties") or {}).items()
            if isinstance(v, str) and 0 < len(v) <= 40 and "'" not in v)
        filters = [kv for kv, count in values.most_common() if count >= 2][:40] or list(values)[:40]
        width = 1.0 if coll == ITALY_LAYER else 0.05
        for kind, count in split(share, MIX["features"]).items():
            for _ in range(count):
                if kind == "bbox" or (kind == "filter" and not filters):
                    cx, cy = rng.choice(points)
                    w = rng.uniform(width / 50, width)
                    h = 0.75 * w
                    box = ",".join(f"{v:.6f}" for v in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
                    paths.append((kind, f"{base}?limit=100&bbox={box}&f=json"))
                elif kind == "item":
                    fid = urllib.parse.quote(str(rng.choice(feats)["id"]), safe="")
                    paths.append((kind, f"{base}/{fid}?f=json"))
                elif kind == "filter":
                    key, value = rng.choice(filters)
                    cql = urllib.parse.quote(f"{key}='{value}'", safe="")
                    paths.append((kind, f"{base}?limit=50&filter={cql}&filter-lang=cql2-text&f=json"))
                else:
                    offset = rng.randrange(0, max(matched - 50, 1))
                    paths.append((kind, f"{base}?limit=50&offset={offset}&f=json"))
    return paths


WORD = re.compile(r"[a-zàèéìòù]{4,}")


def catalogue_datasets(client):
    datasets, page = [], 1
    while True:
        doc = client.json(f"/datasets.json?per_page=100&page={page}")
        datasets += doc["results"]
        if page >= doc["pages"]:
            return datasets
        page += 1


def search_paths(datasets, n, rng):
    words = sorted({w for d in datasets
                    for w in WORD.findall((d["title"] + " " + " ".join(d.get("keywords", []))).lower())})
    themes = sorted({t for d in datasets for t in d.get("themes", [])})
    formats = sorted({f for d in datasets for f in d.get("formats", [])})
    q = lambda: urllib.parse.quote(rng.choice(words))  # noqa: E731
    paths = []
    for kind, count in split(n, MIX["search"]).items():
        for i in range(count):
            if kind == "html":
                extra = f"&theme={rng.choice(themes)}" if i % 4 == 0 else ""
                paths.append((kind, f"/datasets?q={q()}{extra}"))
            elif kind == "json":
                paths.append((kind, f"/datasets.json?q={q()}"))
            elif kind == "ckan":
                extra = f"&fq=res_format:{rng.choice(formats)}" if i % 3 == 0 else ""
                paths.append((kind, f"/api/3/action/package_search?q={q()}&rows=10{extra}"))
            else:
                word = rng.choice(words)
                paths.append((kind, f"/suggest.json?q={urllib.parse.quote(word[: rng.randint(3, 5)])}"))
    return paths


def catalogue_paths(datasets, n, rng):
    ids = sorted(d["id"] for d in datasets)
    fixed = {"home": "/", "turtle": "/catalog.ttl", "package_list": "/api/3/action/package_list",
             "about": "/about", "map": "/map"}
    paths = []
    for kind, count in split(n, MIX["catalogue"]).items():
        for _ in range(count):
            ds = urllib.parse.quote(rng.choice(ids))
            path = fixed.get(kind) or {
                "page": f"/datasets/{ds}",
                "twin": f"/datasets/{ds}.json",
                "package_show": f"/api/3/action/package_show?id={ds}",
            }[kind]
            paths.append((kind, path))
    return paths


def cmd_urls(base, site, out, n):
    rng = random.Random(SEED)
    client = Client(base)
    counts = split(n, SHARES)
    current = open(os.path.join(site, "CURRENT"), encoding="utf-8").read().strip()
    generation = os.path.join(site, "generations", current)
    # The style's sources that are layers of this site (an external basemap's are not).
    layers = sorted(layer for layer in client.json("/map/style.json")["sources"]
                    if os.path.isdir(os.path.join(generation, "datasets", layer)))
    datasets = catalogue_datasets(client)
    rows = [("tiles/" + p.split("/")[2], p) for p in tile_paths(generation, layers, counts["tiles"], rng)]
    rows += [("features/" + k, p) for k, p in feature_paths(client, client.json("/ogc/collections?f=json"),
                                                             counts["features"], rng)]
    rows += [("search/" + k, p) for k, p in search_paths(datasets, counts["search"], rng)]
    rows += [("catalogue/" + k, p) for k, p in catalogue_paths(datasets, counts["catalogue"], rng)]
    rng.shuffle(rows)
    text = "".join(p + "\n" for _, p in rows)
    with open(os.path.join(out, "load.list"), "w", encoding="ascii") as f:
        f.write(text)
    with open(os.path.join(out, "load.tsv"), "w", encoding="ascii") as f:
        f.write("".join(f"{k}\t{p}\n" for k, p in rows))
    per_kind = collections.Counter(k for k, _ in rows)
    info = {
        "urls": len(rows),
        "distinct_urls": len({p for _, p in rows}),
        "shares": {k: sum(v for kk, v in per_kind.items() if kk.split("/")[0] == k) for k in SHARES},
        "per_kind": dict(sorted(per_kind.items())),
        "layers": layers,
        "datasets": len(datasets),
        "seed": SEED,
        "sha256": hashlib.sha256(text.encode("ascii")).hexdigest(),
    }
    with open(os.path.join(out, "load.info.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    print(f"load.py: {info['urls']:,} requests ({info['distinct_urls']:,} distinct): "
          + ", ".join(f"{k} {v:,}" for k, v in info["shares"].items()))


def cmd_check(base, out):
    client = Client(base)
    rows = [line.rstrip("\n").split("\t", 1) for line in open(os.path.join(out, "load.tsv"), encoding="ascii")]
    seen, sizes, bad = {}, collections.defaultdict(list), []
    for kind, path in rows:
        if path not in seen:
            status, headers, body = client.get(path, gzip_ok=True)
            if status != 200:
                bad.append(f"{status} {path}")
            wire = len(body)
            if headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            seen[path] = (wire, len(body))
        sizes[kind.split("/")[0]].append(seen[path])
    result = {
        "distinct_checked": len(seen),
        "not_200": bad,
        "per_share": {k: {"requests": len(v), "wire_bytes_mean": sum(w for w, _ in v) / len(v),
                          "body_bytes_mean": sum(b for _, b in v) / len(v),
                          "wire_bytes_max": max(w for w, _ in v)} for k, v in sizes.items()},
    }
    with open(os.path.join(out, "check.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    if bad:
        sys.stderr.write(f"load.py: {len(bad)} of {len(seen):,} distinct URLs did not answer 200:\n  "
                         + "\n  ".join(bad[:20]) + "\n")
        return 1
    print(f"load.py: all {len(seen):,} distinct URLs answered 200")
    return 0


def memory(pid):
    """VmRSS, RssAnon and RssFile of the process, in KiB (None once it is gone)."""
    try:
        text = open(f"/proc/{pid}/status", encoding="ascii").read()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return tuple(int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon", "RssFile"))


def cmd_rss(pid, path, stop):
    with open(path, "w", encoding="ascii") as f:
        while not os.path.exists(stop):
            m = memory(pid)
            if m is None:
                break
            f.write(f"{time.time():.3f} {m[0]} {m[1]} {m[2]}\n")
            f.flush()
            time.sleep(0.5)
    return 0


def cmd_metrics(base, path):
    status, _, body = Client(base).get("/-/metrics")
    if status != 200:
        sys.exit(f"load.py: /-/metrics answered {status}")
    with open(path, "wb") as f:
        f.write(body)
    return 0


METRIC = re.compile(r"^(portale_http_request_duration_seconds_(?:bucket|count|sum)|portale_http_requests_total)"
                    r"\{((?:\w+=\"(?:[^\"\\]|\\.)*\",?)*)\} (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(path):
    """{(name, labels...): value} for the request counters and latency histograms (label
    values may hold braces: routes are templates like `/tiles/{layer}/{z}/{x}/{y}`)."""
    out = {}
    for line in open(path, encoding="utf-8"):
        m = METRIC.match(line.strip())
        if m:
            out[(m.group(1), tuple(LABEL.findall(m.group(2))))] = float(m.group(3))
    return out


def route_table(before, after):
    """Per route: requests, mean latency, share within 10 ms and 50 ms (server side, to the
    response head), from the difference of two scrapes."""
    diff = {k: v - before.get(k, 0.0) for k, v in after.items()}
    routes = {}
    for (name, labels), v in diff.items():
        lab = dict(labels)
        if name.endswith("_count") and v > 0:
            routes[lab["route"]] = {"requests": int(v)}
    for route, r in routes.items():
        r["mean_ms"] = 1000 * diff[("portale_http_request_duration_seconds_sum", (("route", route),))] / r["requests"]
        for le in ("0.01", "0.05"):
            key = ("portale_http_request_duration_seconds_bucket", (("route", route), ("le", le)))
            r[f"within_{le}"] = diff.get(key, 0.0) / r["requests"]
        r["status"] = {dict(labels)["status"]: int(v) for (name, labels), v in diff.items()
                       if name == "portale_http_requests_total" and dict(labels)["route"] == route and v > 0}
    return dict(sorted(routes.items(), key=lambda kv: -kv[1]["requests"]))


def rss_series(path):
    return [tuple(float(v) for v in line.split()) for line in open(path, encoding="ascii") if line.strip()]


def at(series, t):
    """The last sample taken at or before t (the first one if none)."""
    best = series[0]
    for s in series:
        if s[0] <= t:
            best = s
    return best


def mib(kib):
    return f"{kib / 1024:,.1f} MiB"


def cmd_report(args):
    runs = args.runs
    levels = [int(c) for c in args.levels.split()]
    info = serve_report.read_json(os.path.join(runs, "load.info.json"))
    check = serve_report.read_json(os.path.join(runs, "check.json"))
    results = {c: serve_report.wrk_result(runs, f"load@c{c}") for c in levels}
    windows = {}
    for c in levels:
        with open(os.path.join(runs, f"load@c{c}.cpu"), encoding="utf-8") as f:
            windows[c] = tuple(float(v) for v in f.read().split()[2:])
    series = rss_series(os.path.join(runs, "rss.txt"))
    judged = levels[0]
    r = results[judged]
    start, last_all = series[0], series[-1]
    first, last = at(series, windows[judged][0]), at(series, windows[judged][1])
    peak = max(series, key=lambda s: s[1])
    # Growth is judged on the medians of the run's first and last WINDOW seconds: single
    # samples swing by ±10 MiB as pages are freed and reused, which at 60 MiB of heap is
    # more than the 10 % being judged.
    t0, t1 = windows[judged]
    head = [s[1] for s in series if t0 <= s[0] <= t0 + WINDOW]
    tail = [s[1] for s in series if t1 - WINDOW <= s[0] <= t1]
    growth = (statistics.median(tail) - statistics.median(head)) / statistics.median(head)
    during = [s[1] for s in series if t0 <= s[0] <= t1]
    routes = {c: route_table(parse_metrics(os.path.join(runs, f"metrics.before.c{c}")),
                             parse_metrics(os.path.join(runs, f"metrics.after.c{c}"))) for c in levels}
    server_errors = int(open(os.path.join(runs, "server.errors"), encoding="utf-8").read().strip() or 0)
    p99_ms = r["latency_us"]["p99"] / 1000
    not_ok = {k: v for c in levels for route in routes[c].values() for k, v in route["status"].items()
              if not k.startswith("2")}
    wrk_errors = sum(x["error_total"] for x in results.values())
    errors_ok = wrk_errors == 0 and not not_ok and server_errors == 0
    today = datetime.date.today().isoformat()
    lines = []
    add = lines.append
    add(f"<!-- bench:serve-load date={today} -->")
    add(f"### {today}: mixed load, demo catalogue plus the 7,899 municipalities, {args.seconds} s")
    add("")
    add(f"Machine: {serve_report.machine(args)}.")
    add("")
    add("Reproduce: `bench/load.sh`.")
    add("")
    shares = ", ".join(f"{k} {v:,}" for k, v in info["shares"].items())
    add(f"List: {info['urls']:,} requests ({info['distinct_urls']:,} distinct; {shares}), "
        f"SHA-256 `{info['sha256'][:16]}…` (seed `{info['seed']}`), over the {info['datasets']} datasets "
        f"and the tile layers {', '.join(f'`{x}`' for x in info['layers'])}. Every distinct URL answered 200 "
        f"before the runs ({check['distinct_checked']:,} checked).")
    add("")
    add("| kind | requests in the list | mean bytes on the wire | largest |")
    add("|---|---:|---:|---:|")
    for k, v in check["per_share"].items():
        add(f"| {k} | {v['requests']:,} | {v['wire_bytes_mean']:,.0f} | {v['wire_bytes_max']:,} |")
    add("")
    add(f"wrk: {args.threads} thread, `Accept-Encoding: gzip`, per level of concurrency a "
        f"{args.warmup} s warm-up (discarded) then {args.seconds} s measured, one level after the other "
        f"on the same server; server on core 0, wrk on core 1. The goals are judged at {judged} "
        f"connections; the other levels are references.")
    add("")
    add(serve_report.RUN_HEADER)
    for c in levels:
        add(serve_report.run_row(f"Portale, {c} connections" + ("" if c == judged else " (reference)"),
                                 results[c]))
    add("")
    add(f"Resident memory of the server (VmRSS = anonymous + file-backed, sampled every 0.5 s): "
        f"at start {mib(start[1])} ({mib(start[2])} + {mib(start[3])}); when the judged run began, "
        f"after the check and the warm-up, {mib(first[1])} ({mib(first[2])} + {mib(first[3])}); at its "
        f"end {mib(last[1])} ({mib(last[2])} + {mib(last[3])}); after all the runs {mib(last_all[1])}; "
        f"highest {mib(peak[1])}. During the judged run: from {mib(min(during))} to {mib(max(during))}; "
        f"median of its first {WINDOW} s {mib(statistics.median(head))}, of its last {WINDOW} s "
        f"{mib(statistics.median(tail))}.")
    add("")
    add("| goal | measured | |")
    add("|---|---:|---|")
    errors_text = (f"wrk {wrk_errors}, non-2xx {sum(not_ok.values())}, "
                   f"server log errors {server_errors} (all runs)")
    add(f"| no unexpected error | {errors_text} | {serve_report.verdict(errors_ok)} |")
    add(f"| p99 < {GOAL_P99_MS:.0f} ms at {judged} connections | {serve_report.ms(r['latency_us']['p99'])} "
        f"| {serve_report.verdict(p99_ms < GOAL_P99_MS)} |")
    add(f"| resident memory grows < {GOAL_RSS_GROWTH * 100:.0f} % over the judged run (medians of its first "
        f"and last {WINDOW} s) | {growth * 100:+.1f} % "
        f"| {serve_report.verdict(growth < GOAL_RSS_GROWTH)} |")
    for c in levels[1:]:
        add(f"| same p99, {c} connections | {serve_report.ms(results[c]['latency_us']['p99'])} | (reference) |")
    add(f"| resident memory, judged run's start to the end of all runs | "
        f"{(last_all[1] - first[1]) / first[1] * 100:+.1f} % | (reference) |")
    add("")
    add("Per route at {} connections, from the server's own `/-/metrics` (latency to the response "
        "head, so a large body's streaming is not counted; the shares come from the histogram's "
        "buckets):".format(judged))
    add("")
    add("| route | requests | share | mean | within 10 ms | within 50 ms |")
    add("|---|---:|---:|---:|---:|---:|")
    total = sum(v["requests"] for v in routes[judged].values())
    for route, v in routes[judged].items():
        add(f"| `{route}` | {v['requests']:,} | {v['requests'] / total * 100:.1f} % | {v['mean_ms']:.2f} ms "
            f"| {v['within_0.01'] * 100:.2f} % | {v['within_0.05'] * 100:.2f} % |")
    add("")
    lines.extend(serve_report.commands_block(args, ["load"] + [f"load@c{c}" for c in levels]))
    add("<!-- /bench:serve-load -->")
    add("")
    section = "\n".join(lines)
    sys.stdout.write(section)
    if args.write:
        serve_report.write_section(args.write, section, "load", today)
        sys.stderr.write(f"bench/load.py: section written to {args.write}\n")
    return 0 if errors_ok and p99_ms < GOAL_P99_MS and growth < GOAL_RSS_GROWTH else 1


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "urls":
        cmd_urls(rest[0], rest[1], rest[2], int(rest[3]) if len(rest) > 3 else 20_000)
        return 0
    if cmd == "check":
        return cmd_check(rest[0], rest[1])
    if cmd == "rss":
        return cmd_rss(int(rest[0]), rest[1], rest[2])
    if cmd == "metrics":
        return cmd_metrics(rest[0], rest[1])
    if cmd == "report":
        p = argparse.ArgumentParser(prog="load.py report")
        p.add_argument("--runs", required=True)
        p.add_argument("--commit", required=True)
        p.add_argument("--loadavg", required=True)
        p.add_argument("--loadavg-end", required=True)
        p.add_argument("--versions", required=True)
        p.add_argument("--levels", required=True, help="the connection counts run, the judged first")
        p.add_argument("--threads", type=int, required=True)
        p.add_argument("--seconds", type=int, required=True)
        p.add_argument("--warmup", type=int, required=True)
        p.add_argument("--write", metavar="BENCHMARKS.md")
        return cmd_report(p.parse_args(rest))
    sys.exit(f"load.py: unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    sys.exit(main())
