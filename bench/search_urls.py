#!/usr/bin/env python3
"""The HTTP side of the search benchmark (bench/search.sh): the query mix as URL lists,
and the check that the server answers them as the engine does in-process.

    search_urls.py lists QUERIES OUTDIR
        writes OUTDIR/datasets.list (the 930 searches of the mix as `/datasets.json`
        query strings, one a line, for bench/serve_wrk.lua), OUTDIR/suggest.list (the 70
        completions as `/suggest.json` query strings) and OUTDIR/lists.info.json (counts
        and SHA-256 of each list).

    search_urls.py check QUERIES TOTALS BASE OUT.json [--sample 100]
        fetches a fixed sample of the searches from BASE/datasets.json and of the
        completions from BASE/suggest.json, and checks that each answers 200 with JSON,
        that a search's `total` equals the number of matches the in-process run found
        (TOTALS, from `search_bench --totals`) and that it carries facet counts. Writes
        the findings to OUT.json; exit status 1 when any differs.

QUERIES is the mix of tools/gen_catalog/search_catalog.py (`write_queries`).

The URL parameters are those of `/datasets.json`: `q`, one parameter per facet named as
in the JSON answer (`theme`, `publisher`, `format`, `license`, `keyword`, `frequency`,
`origin`), repeated for several values (OR within a facet, AND across facets), `bbox`
as `W,S,E,N`, `start` and `end` (`YYYY-MM-DD`, either may be left out: temporal
overlap), `modified_since` (RFC 3339), `sort` (`relevance`, `modified`, `title`) and
`page` (1-based, 20 results a page by default); facet counts are on by default (see
src/server/search.rs). `/suggest.json` takes `q` (and `limit`, 8 by default, as
search_bench asks). `to_params` is the only place that knows them.
"""
import argparse
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

DATASETS = "/datasets.json"
SUGGEST = "/suggest.json"


def read_mix(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def to_params(q):
    """The query string of one search of the mix."""
    params = []
    if q["q"]:
        params.append(("q", q["q"]))
    for facet in sorted(q["filters"]):
        for value in q["filters"][facet]:
            params.append((facet, value))
    if q["bbox"]:
        params.append(("bbox", ",".join(repr(float(x)) for x in q["bbox"])))
    if q["temporal"]:
        start, end = q["temporal"]
        if start:
            params.append(("start", start))
        if end:
            params.append(("end", end))
    if q["modified_since"]:
        params.append(("modified_since", q["modified_since"]))
    if q["sort"] != "relevance":
        params.append(("sort", q["sort"]))
    if q["page"] != 1:
        params.append(("page", str(q["page"])))
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote)


def suggest_params(q):
    return urllib.parse.urlencode([("q", q["q"])], quote_via=urllib.parse.quote)


def write_list(path, lines):
    text = "".join(line + "\n" for line in lines)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return {"lines": len(lines), "distinct": len(set(lines)),
            "sha256": hashlib.sha256(text.encode()).hexdigest()}


def cmd_lists(args):
    mix = read_mix(args.queries)
    searches = [q for q in mix if q["kind"] != "suggest"]
    suggests = [q for q in mix if q["kind"] == "suggest"]
    os.makedirs(args.outdir, exist_ok=True)
    info = {
        "queries": len(mix),
        "queries_sha256": hashlib.sha256(open(args.queries, "rb").read()).hexdigest(),
        "datasets": write_list(os.path.join(args.outdir, "datasets.list"), [to_params(q) for q in searches]),
        "suggest": write_list(os.path.join(args.outdir, "suggest.list"), [suggest_params(q) for q in suggests]),
        "kinds": {},
    }
    for q in mix:
        info["kinds"][q["kind"]] = info["kinds"].get(q["kind"], 0) + 1
    with open(os.path.join(args.outdir, "lists.info.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)
    print(f"{info['datasets']['lines']} searches, {info['suggest']['lines']} completions in {args.outdir}")


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def cmd_check(args):
    mix = read_mix(args.queries)
    totals = {}
    with open(args.totals, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                t = json.loads(line)
                totals[t["id"]] = t["total"]
    searches = [q for q in mix if q["kind"] != "suggest"]
    suggests = [q for q in mix if q["kind"] == "suggest"]
    # A fixed sample spread over the mix (every kind is represented: the mix is in kind order).
    step = max(1, len(searches) // args.sample)
    sample = searches[::step][:args.sample] + suggests[::max(1, len(suggests) // 10)][:10]
    rows, problems = [], []
    for q in sample:
        if q["kind"] == "suggest":
            url = f"{args.base}{SUGGEST}?{suggest_params(q)}"
        else:
            url = f"{args.base}{DATASETS}?{to_params(q)}"
        status, ctype, body = fetch(url)
        row = {"id": q["id"], "kind": q["kind"], "url": url, "status": status}
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if status != 200 or doc is None:
            problems.append(f"#{q['id']} {url}: status {status}, {ctype}, {body[:200]!r}")
        elif q["kind"] != "suggest":
            row["total"] = doc.get("total")
            row["expected"] = totals.get(q["id"])
            if row["total"] != row["expected"]:
                problems.append(f"#{q['id']} {url}: total {row['total']}, in-process {row['expected']}")
            if not doc.get("facets"):
                problems.append(f"#{q['id']} {url}: no facet counts in the answer")
        rows.append(row)
    out = {"sample": len(sample), "searches": sum(1 for q in sample if q["kind"] != "suggest"),
           "rows": rows, "problems": problems}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
    for p in problems[:10]:
        print("search_urls.py check: " + p, file=sys.stderr)
    print(f"checked {len(sample)} requests: {len(problems)} problem(s)")
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lists")
    p.add_argument("queries")
    p.add_argument("outdir")
    p = sub.add_parser("check")
    p.add_argument("queries")
    p.add_argument("totals")
    p.add_argument("base")
    p.add_argument("out")
    p.add_argument("--sample", type=int, default=100)
    args = ap.parse_args()
    if args.cmd == "lists":
        cmd_lists(args)
        return 0
    return cmd_check(args)


if __name__ == "__main__":
    sys.exit(main())
