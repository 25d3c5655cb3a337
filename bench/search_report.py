#!/usr/bin/env python3
"""Turns the measurements of bench/search.sh into a Markdown report and a dated section of
BENCHMARKS.md.

    search_report.py --runs DIR --site DIR --records N --commit C --loadavg L
        --loadavg-end L --versions V --connections N --threads T --seconds S --warmup W
        --generator-stamp H [--write BENCHMARKS.md]

Reads what bench/search.sh leaves in DIR: `inprocess.json` (the SEARCH_BENCH_JSON summary
of examples/search_bench.rs) and `inprocess.cmd`; `index.time` (GNU `time -v` of
`portale index`), `index.cmd`, `index.meta.json` (the index's portale-index.json) and
`index.bytes`; `lists.info.json` (bench/search_urls.py lists); `check.json`
(bench/search_urls.py check); `cpus_seen` (`nproc` under the server's affinity) and
`threads` (the server's thread names and counts); `server.vmhwm`; and per wrk run `NAME.wrk`, `NAME.cmd`, `NAME.cpu`, `NAME.wrktime` (as
bench/serve_report.py reads them). Prints the report and, with --write, replaces the
section of the same date and record count in BENCHMARKS.md or adds it at the end of the
chapter `## Catalogue search`. Only measured numbers are written. Exit status 1 when the
same-answer check failed or a wrk run had errors.
"""

import argparse
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report as etl_report  # noqa: E402  (GNU time parsing)
import serve_report as sr  # noqa: E402  (wrk results, machine line, tables)

GOAL_P50_MS = 1.0
GOAL_P99_MS = 5.0
GOAL_BUILD_S = 30.0
GOAL_RPS = 5000.0
CHAPTER = "## Catalogue search: index build, in-process latency, `/datasets.json`"

KIND_LABELS = {
    "word": "one word",
    "two_words": "two words",
    "phrase": "`\"phrase\"`",
    "typo": "typo (edit distance 1)",
    "synonym": "synonym-list word",
    "folding_english": "accents, elisions, English",
    "exclusion": "`-excluded` word",
    "facets_only": "facet filters, no words",
    "word_facets": "word + facet filters",
    "bbox": "bbox (half with a word)",
    "temporal": "temporal overlap",
    "modified_since": "modified since",
    "sort": "sort by modified / title",
    "page": "pages 2–5",
    "suggest": "completion (`suggest`)",
    "searches": "**all searches**",
    "ALL": "**all 1,000**",
}


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_text(path, default=""):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def ms(x):
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def latency_row(label, st, found=None):
    found_cell = "" if found is None else f" | {found:,.0f}"
    return (f"| {label} | {st['calls']:,} | {ms(st['p50'])} | {ms(st['p90'])} | {ms(st['p99'])} "
            f"| {ms(st['max'])} | {ms(st['mean'])}{found_cell} |")


def report(args):
    today = datetime.date.today().isoformat()
    inp = read_json(os.path.join(args.runs, "inprocess.json"))
    lists = read_json(os.path.join(args.runs, "lists.info.json"))
    meta = read_json(os.path.join(args.runs, "index.meta.json"))
    index_time = etl_report.parse_time(os.path.join(args.runs, "index.time"))
    index_bytes = int(read_text(os.path.join(args.runs, "index.bytes"), "0"))
    check = read_json(os.path.join(args.runs, "check.json"))
    cpus_seen = read_text(os.path.join(args.runs, "cpus_seen"), "?")
    threads = ", ".join(f"{n} × `{name}`" for name, n in
                        (line.rsplit(" ", 1) for line in read_text(os.path.join(args.runs, "threads")).splitlines()
                         if " " in line))
    vmhwm = read_text(os.path.join(args.runs, "server.vmhwm"))
    runs = {n: sr.wrk_result(args.runs, n) for n in ("portale", "portale@c1", "portale@suggest")}

    lines = []
    add = lines.append
    add(f"<!-- bench:search date={today} records={args.records} -->")
    add(f"### {today}: catalogue search, {args.records:,} records")
    add("")
    add(f"Machine: {sr.machine(args)}.")
    add("")
    add(f"Reproduce: `bench/search.sh {args.records}`.")
    add("")
    add(f"Catalogue: {inp['docs']:,} records, {inp['local']:,} own datasets and {inp['harvested']:,} "
        f"harvested ({inp['published_harvested']:,} of them republished), from "
        f"`gen_catalog.py --profile search` (generator files' SHA-256 `{args.generator_stamp}…`). "
        f"Query mix: {lists['queries']:,} queries (SHA-256 `{lists['queries_sha256'][:16]}…`), "
        f"{lists['datasets']['lines']} searches ({lists['datasets']['distinct']} distinct) and "
        f"{lists['suggest']['lines']} completions; every search with facet counts and highlighting, "
        f"{inp['page_size']} results a page.")
    add("")

    # Build.
    build_ok = inp["build_s"] < GOAL_BUILD_S
    add("| index build | time | |")
    add("|---|---:|---|")
    add(f"| `write_index` of the {inp['docs']:,} documents, in-process | {inp['build_s']:.2f} s "
        f"| goal < {GOAL_BUILD_S:.0f} s: {sr.verdict(build_ok)} |")
    add(f"| reading the site and making the documents, in-process | {inp['read_site_s'] + inp['documents_s']:.2f} s "
        f"| (reference) |")
    add(f"| `portale index --site` (all of it, and publishing) | {index_time['wall']:.2f} s "
        f"(peak memory {index_time['rss'] / 1e6:,.0f} MB) | (reference) |")
    add("")
    add(f"Index size: {inp['index_bytes'] / 1e6:,.1f} MB written in-process, "
        f"{index_bytes / 1e6:,.1f} MB as `portale index` published it ({meta.get('docs', 0):,} documents); "
        f"opened in {inp['open_ms']:.1f} ms.")
    add("")

    # In-process latency.
    add(f"In-process latency, ms ({inp['rounds']} measured round(s) of the mix after a warm-up, one "
        "query at a time on one thread, nearest-rank percentiles):")
    add("")
    add("| queries | calls | p50 | p90 | p99 | max | mean |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for kind, st in inp["by_kind"].items():
        add(latency_row(KIND_LABELS.get(kind, kind), st))
    add(latency_row(KIND_LABELS["searches"], inp["searches_latency_ms"]))
    add(latency_row(KIND_LABELS["ALL"], inp["latency_ms"]))
    add("")
    add("Slowest calls: " + "; ".join(
        f"{s['ms']:.2f} ms `{s['query']}` ({s['kind']}, {s['found']:,} found)" for s in inp["slowest"]) + ".")
    add("")

    # HTTP.
    add(f"Served: `portale serve` on core 0 (`taskset -c 0`: the process sees {cpus_seen} CPU, so its "
        f"runtime starts one worker thread per CPU seen; its threads after the runs: {threads or 'not read'}); "
        f"wrk on core 1: {args.threads} thread, {args.connections} connections, then 1, each run a "
        f"{args.warmup} s warm-up (discarded) then {args.seconds} s measured, cycling through the "
        f"{lists['datasets']['lines']} searches of the mix; the completions run cycles through its "
        f"{lists['suggest']['lines']} `suggest` queries.")
    add("")
    add(sr.RUN_HEADER.replace("| server |", "| run |"))
    labels = (("portale", f"`/datasets.json`, {args.connections} connections"),
              ("portale@c1", "`/datasets.json`, 1 connection"),
              ("portale@suggest", f"`/suggest.json`, {args.connections} connections"))
    for name, label in labels:
        add(sr.run_row(label, runs[name]))
    add("")
    p, p1 = runs["portale"], runs["portale@c1"]
    overall = inp["latency_ms"]
    add("| goal | measured | |")
    add("|---|---:|---|")
    add(f"| p50 < {GOAL_P50_MS:.0f} ms, in-process (all 1,000) | {ms(overall['p50'])} ms "
        f"| {sr.verdict(overall['p50'] < GOAL_P50_MS)} |")
    add(f"| p99 < {GOAL_P99_MS:.0f} ms, in-process (all 1,000) | {ms(overall['p99'])} ms "
        f"| {sr.verdict(overall['p99'] < GOAL_P99_MS)} |")
    add(f"| build < {GOAL_BUILD_S:.0f} s (`write_index`) | {inp['build_s']:.1f} s | {sr.verdict(build_ok)} |")
    add(f"| ≥ {GOAL_RPS:,.0f} requests/s, `/datasets.json` on one core ({args.connections} connections) "
        f"| {p['rps']:,.0f} | {sr.verdict(p['rps'] >= GOAL_RPS)} |")
    add(f"| same, 1 connection | {p1['rps']:,.0f} | (reference) |")
    add("")
    note = sr.unsaturated_note([("`/datasets.json`", p), ("`/suggest.json`", runs["portale@suggest"])])
    if note:
        add(note)
        add("")
    if vmhwm:
        add(f"Server peak resident memory after the runs: {int(vmhwm) / 1e6:,.0f} MB (VmHWM).")
        add("")
    if check["problems"]:
        add(f"**Same-answer check failed** ({len(check['problems'])} of {check['sample']} requests): "
            + "; ".join(check["problems"][:3]) + ".")
    else:
        add(f"Same-answer check: {check['searches']} searches of the mix (every kind) answered 200 with the "
            f"same `total` as in-process and with facet counts, and {check['sample'] - check['searches']} "
            "completions answered 200 with JSON.")
    bad = [n for n, r in runs.items() if r["error_total"]]
    if bad:
        add("")
        add(f"**Errors during the runs:** {', '.join(bad)} (see the table).")
    add("")
    lines += commands(args)
    add("<!-- /bench:search -->")
    return "\n".join(lines) + "\n", bool(check["problems"] or bad)


def commands(args):
    out = ["<details><summary>Commands measured</summary>", "", "```sh"]
    for name, what in (("inprocess", "in-process"), ("index", "index build"),
                       ("portale.server", "server"), ("portale", "load, /datasets.json"),
                       ("portale@c1", "load, /datasets.json, 1 connection"),
                       ("portale@suggest", "load, /suggest.json")):
        cmd = sr.command(args.runs, name)
        if cmd:
            out.append(f"# {what}")
            out.append(cmd)
    out += ["```", "", "</details>"]
    return out


def write_section(path, section, date, records):
    """Replaces the section of the same date and record count, or adds it at the end of
    the chapter (before the next `## ` heading), or appends the chapter."""
    text = sr.read_text(path) if os.path.exists(path) else "# Benchmarks\n"
    pattern = re.compile(r"<!-- bench:search date=" + re.escape(date) + r" records=" + str(records)
                         + r" -->.*?<!-- /bench:search -->\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        start = text.find(CHAPTER + "\n")
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + CHAPTER + "\n\n" + section
        else:
            nxt = text.find("\n## ", start + len(CHAPTER))
            end = len(text) if nxt < 0 else nxt + 1
            before = text[:end].rstrip("\n") + "\n\n" + section
            text = before + ("\n" + text[end:] if end < len(text) else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--records", type=int, required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--loadavg", required=True)
    p.add_argument("--loadavg-end", required=True)
    p.add_argument("--versions", required=True)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--generator-stamp", required=True)
    p.add_argument("--write", metavar="BENCHMARKS.md")
    args = p.parse_args()
    section, bad = report(args)
    sys.stdout.write(section)
    if args.write:
        write_section(args.write, section, datetime.date.today().isoformat(), args.records)
        sys.stderr.write(f"bench/search_report.py: section written to {args.write}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
