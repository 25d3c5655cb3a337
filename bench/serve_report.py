#!/usr/bin/env python3
"""Turns the measurements of bench/serve_tiles.sh and bench/serve_features.sh into a
Markdown report and a dated section of BENCHMARKS.md.

    serve_report.py tiles|features --runs DIR --commit C --loadavg L --loadavg-end L
        --versions V --connections N --threads T --seconds S --warmup W
        [--martin-missing REASON] [--write BENCHMARKS.md]

Reads what the scripts leave in DIR: `NAME.wrk` (wrk's output, whose `WRK_JSON` line
bench/serve_wrk.lua prints), `NAME.cmd` and `NAME.server.cmd` (NUL-separated command
lines), `NAME.cpu` (the server's CPU seconds before and after the measured run, and the
run's start and end), the list's `*.info.json` and the same-answer `check.json`. Prints
the report and, with --write, replaces the section of the same kind and date in
BENCHMARKS.md or adds one at the end of the kind's chapter (`## Tile serving...` /
`## Feature serving...`). Only measured numbers are written: a server that was not
measured is reported as such, with the reason. Exit status 1 when a same-answer check
failed or a run of Portale had errors (a competitor's errors are reported, not fatal).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import sys

GOAL_TILES_VS_MARTIN = 1.5
GOAL_TILES_VS_NGINX = 0.7
GOAL_FEATURES_VS_PYGEOAPI = 30.0
GOAL_FEATURES_P99_MS = 20.0
SATURATED = 0.9     # a server using less than this share of its core was not the bottleneck

CHAPTERS = {
    "tiles": "## Tile serving: Portale against Martin and nginx",
    "features": "## Feature serving: Portale against pygeoapi",
    "load": "## Load: a mixed workload on one server",
}


def wrk_result(runs, name):
    path = os.path.join(runs, name + ".wrk")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("WRK_JSON "):
                r = json.loads(line[len("WRK_JSON "):])
                break
        else:
            raise ValueError(f"{path}: no WRK_JSON line (wrk failed?)")
    with open(os.path.join(runs, name + ".cpu"), encoding="utf-8") as f:
        cpu0, cpu1, t0, t1 = (float(v) for v in f.read().split())
    with open(os.path.join(runs, name + ".wrktime"), encoding="utf-8") as f:
        user, system, wall = (float(v) for v in f.read().split()[-3:])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["server_cpu_share"] = (cpu1 - cpu0) / (t1 - t0)
    r["wrk_cpu_share"] = (user + system) / wall
    r["error_total"] = sum(r["errors"].values())
    return r


def quote(arg):
    # Paths inside the repository are shown relative to it (the scripts run from there).
    arg = arg.replace(os.getcwd() + os.sep, "")
    return arg if re.fullmatch(r"[\w@%+=:,./{}-]+", arg) else shlex.quote(arg)


def command(runs, name):
    """The command line a script recorded as `name` (NUL-terminated arguments, some of
    them empty), ready to paste into a shell."""
    path = os.path.join(runs, name + ".cmd")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        args = f.read().split("\0")
    if args and args[-1] == "":
        args.pop()
    return " ".join(quote(a) for a in args)


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def ms(us):
    return f"{us / 1000:.2f} ms" if us < 10_000 else f"{us / 1000:.1f} ms"


def machine(args):
    cpu = next((line.split(":", 1)[1].strip() for line in read_text("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.machine())
    mem = next(int(line.split()[1]) for line in read_text("/proc/meminfo").splitlines()
               if line.startswith("MemTotal"))
    return (f"`nproc` {os.cpu_count()} ({cpu}); {mem / 1024 / 1024:.1f} GiB RAM; "
            f"{platform.system()} {platform.release()}; {args.versions}; "
            f"Portale commit {args.commit}; load average at start {args.loadavg}, "
            f"at end {args.loadavg_end}")


def verdict(ok):
    return "met" if ok else "**not met**"


def run_row(label, r):
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if v) or "0"
    return (f"| {label} | {r['rps']:,.0f} | {ms(r['latency_us']['p50'])} | {ms(r['latency_us']['p99'])} "
            f"| {ms(r['latency_us']['max'])} | {r['requests']:,} | {errors} "
            f"| {r['bytes'] / max(r['requests'], 1):,.0f} | {r['server_cpu_share'] * 100:.0f} % "
            f"| {r['wrk_cpu_share'] * 100:.0f} % |")


RUN_HEADER = ("| server | requests/s | p50 | p99 | max | requests | errors | bytes read per request "
              "(headers included) | server CPU (share of core 0) | wrk CPU (share of core 1) |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
NOT_MEASURED = "| {label} | not measured: {reason} | | | | | | | | |"


def settings_line(args, connections=None):
    conns = connections or f"{args.connections} connections"
    return (f"wrk: {args.threads} thread, {conns}, {args.warmup} s warm-up (discarded) then "
            f"{args.seconds} s measured, per server; server on core 0, wrk on core 1; one server "
            f"running at a time.")


def commands_block(args, names):
    lines = ["<details><summary>Commands measured</summary>", "", "```sh"]
    for name in names:
        for suffix, what in ((".server", "server"), ("", "load")):
            cmd = command(args.runs, name + suffix)
            if cmd:
                lines.append(f"# {name}: {what}")
                lines.append(cmd)
    lines += ["```", "", "</details>"]
    return lines


def unsaturated_note(results):
    """Says which runs left the server's core partly idle, and what held them back."""
    by_wrk, neither, both = [], [], []
    for label, r in results:
        if not r:
            continue
        text = f"{label}: server {r['server_cpu_share'] * 100:.0f} %, wrk {r['wrk_cpu_share'] * 100:.0f} %"
        if r["server_cpu_share"] < SATURATED:
            (by_wrk if r["wrk_cpu_share"] >= SATURATED else neither).append(text)
        elif r["wrk_cpu_share"] >= SATURATED:
            both.append(text)
    notes = []
    if both:
        notes.append("Both cores busy: " + "; ".join(both) + ". wrk was at its own limit too, so "
                     "the server might have answered more with a faster load generator.")
    if by_wrk:
        notes.append("Held back by the load generator (wrk's core busy, the server's not): "
                     + "; ".join(by_wrk) + ". These requests/s are lower bounds of what the "
                     "server can do, and a ratio against them is unfavourable to Portale.")
    if neither:
        notes.append("Neither side's core saturated: " + "; ".join(neither) + ". Both were "
                     "waiting, on each other or on other processes sharing the cores (see the "
                     "load average).")
    return " ".join(notes) if notes else None


def list_line(info):
    zooms = sorted(int(z) for z in info["urls_by_zoom"])
    per_zoom = ", ".join(f"z{z} {info['urls_by_zoom'][str(z)]:,}" for z in zooms)
    return (f"{info['urls']:,} URLs, {info['distinct_urls']:,} distinct ({per_zoom}); bodies "
            f"{info['body_bytes_mean']:,.0f} bytes on average, {info['body_bytes_max']:,} at most; "
            f"SHA-256 `{info['sha256'][:16]}…` (seed `{info['seed']}`)")


def report_tiles(args):
    today = datetime.date.today().isoformat()
    info = read_json(os.path.join(args.runs, "tiles-viewer.info.json"))
    info_u = read_json(os.path.join(args.runs, "tiles-uniform.info.json"))
    check = read_json(os.path.join(args.runs, "check.json"))
    servers = ["portale"] + ([] if args.martin_missing else ["martin"]) + ["nginx"]
    labels = {"portale": "Portale (`portale serve`)", "martin": "Martin (same .pmtiles)",
              "nginx": "nginx (same tiles as static files; ceiling)"}
    res = {(s, mix): wrk_result(args.runs, s + ("" if mix == "viewer" else "@uniform"))
           for s in servers for mix in ("viewer", "uniform")}
    zooms = sorted(int(z) for z in info["urls_by_zoom"])
    lines = []
    add = lines.append
    add(f"<!-- bench:serve-tiles date={today} -->")
    add(f"### {today}: tile serving, {info['urls']:,} URLs, z{zooms[0]}–z{zooms[-1]}")
    add("")
    add(f"Machine: {machine(args)}.")
    add("")
    add("Reproduce: `MARTIN_BIN=<martin> bench/serve_tiles.sh`.")
    add("")
    add(f"Archive: `{os.path.basename(info['archive'])}` as built by the Portale commit above, "
        f"{info['archive_bytes'] / 1e6:.1f} MB, {info['tiles_in_archive']:,} tiles "
        f"({info['tile_compression']}).")
    add("")
    add(settings_line(args))
    add("")
    bad = []
    for mix, inf in (("viewer", info), ("uniform", info_u)):
        if mix == "viewer":
            add(f"Viewer mix (the goals are judged on it): {list_line(inf)}.")
        else:
            add(f"Uniform mix (reference: every tile equally likely, mostly z12): {list_line(inf)}.")
        add("")
        add(RUN_HEADER)
        for s in ("portale", "martin", "nginx"):
            if s not in servers:
                add(NOT_MEASURED.format(label="Martin", reason=args.martin_missing))
                continue
            add(run_row(labels[s], res[(s, mix)]))
            if res[(s, mix)]["error_total"]:
                bad.append(f"{s} ({mix})")
        add("")
    p = res[("portale", "viewer")]
    add("| goal | measured | |")
    add("|---|---:|---|")
    if not args.martin_missing:
        r = p["rps"] / res[("martin", "viewer")]["rps"]
        add(f"| Portale ≥ {GOAL_TILES_VS_MARTIN}× Martin's requests/s | {r:.2f}× | {verdict(r >= GOAL_TILES_VS_MARTIN)} |")
    else:
        add(f"| Portale ≥ {GOAL_TILES_VS_MARTIN}× Martin's requests/s | not measured | |")
    r = p["rps"] / res[("nginx", "viewer")]["rps"]
    add(f"| Portale ≥ {GOAL_TILES_VS_NGINX}× nginx's requests/s | {r:.2f}× | {verdict(r >= GOAL_TILES_VS_NGINX)} |")
    pu = res[("portale", "uniform")]
    if not args.martin_missing:
        add(f"| same against Martin, uniform mix | {pu['rps'] / res[('martin', 'uniform')]['rps']:.2f}× | (reference) |")
    add(f"| same against nginx, uniform mix | {pu['rps'] / res[('nginx', 'uniform')]['rps']:.2f}× | (reference) |")
    add("")
    note = unsaturated_note([(f"{s} ({mix} mix)", res[(s, mix)]) for s in servers for mix in ("viewer", "uniform")])
    if note:
        add(note)
        add("")
    problems = []
    parts = []
    for name, r in check["servers"].items():
        parts.append(f"{name} {r['identical']}/{check['sample']}")
        if r["problem_count"]:
            problems.append(f"{name}: {r['problem_count']} differ, e.g. " + "; ".join(r["problems"][:2]))
    if problems:
        add("**Same-bytes check failed:** " + " — ".join(problems) + ".")
    else:
        types = "; ".join(f"{name} `{'`, `'.join(sorted(map(str, r['content_types'])))}`"
                          for name, r in check["servers"].items())
        add(f"Same-bytes check: {check['sample']} tiles of the viewer list fetched from each server "
            "with `Accept-Encoding: gzip` came back with status 200, `Content-Encoding: gzip` and "
            f"the archive's exact bytes ({', '.join(parts)}). Content-Type: {types}.")
    if bad:
        add("")
        add(f"**Errors during the runs:** {', '.join(bad)} (see the tables).")
    add("")
    names = []
    for s in servers:
        names += [s, s + "@uniform"]
    lines += commands_block(args, names)
    add("<!-- /bench:serve-tiles -->")
    return "\n".join(lines) + "\n", bool(problems or any(b.startswith("portale") for b in bad))


def report_features(args):
    today = datetime.date.today().isoformat()
    info = read_json(os.path.join(args.runs, "bboxes.info.json"))
    check = read_json(os.path.join(args.runs, "check.json"))
    runs = {n: wrk_result(args.runs, n) for n in ("portale", "pygeoapi", "portale@c1", "pygeoapi@c1")}
    lines = []
    add = lines.append
    add(f"<!-- bench:serve-features date={today} -->")
    add(f"### {today}: feature serving, `items?limit=100&bbox=<random>`, {info['bboxes']:,} bboxes")
    add("")
    add(f"Machine: {machine(args)}.")
    add("")
    add("Reproduce: `bench/serve_features.sh`.")
    add("")
    add(f"List: {info['bboxes']:,} bboxes, SHA-256 `{info['sha256'][:16]}…` (seed `{info['seed']}`). "
        + settings_line(args, f"{args.connections} connections, then 1"))
    add("")
    add(RUN_HEADER)
    for name, label in (("portale", f"Portale, {args.connections} connections"),
                        ("pygeoapi", f"pygeoapi, {args.connections} connections"),
                        ("portale@c1", "Portale, 1 connection"),
                        ("pygeoapi@c1", "pygeoapi, 1 connection")):
        add(run_row(label, runs[name]))
    add("")
    p, g = runs["portale"], runs["pygeoapi"]
    p1, g1 = runs["portale@c1"], runs["pygeoapi@c1"]
    ratio, ratio1 = p["rps"] / g["rps"], p1["rps"] / g1["rps"]
    p99, p99_1 = p["latency_us"]["p99"] / 1000, p1["latency_us"]["p99"] / 1000
    add("| goal | measured | |")
    add("|---|---:|---|")
    add(f"| Portale ≥ {GOAL_FEATURES_VS_PYGEOAPI:.0f}× pygeoapi's requests/s ({args.connections} connections) "
        f"| {ratio:.1f}× | {verdict(ratio >= GOAL_FEATURES_VS_PYGEOAPI)} |")
    add(f"| same, 1 connection | {ratio1:.1f}× | (reference) |")
    add(f"| Portale p99 < {GOAL_FEATURES_P99_MS:.0f} ms ({args.connections} connections) "
        f"| {p99:.1f} ms | {verdict(p99 < GOAL_FEATURES_P99_MS)} |")
    add(f"| same, 1 connection | {p99_1:.1f} ms | {verdict(p99_1 < GOAL_FEATURES_P99_MS)} |")
    add("")
    note = unsaturated_note([("Portale", p), ("pygeoapi", g)])
    if note:
        add(note)
        add("")
    rows = check["rows"]
    agree = sum(1 for r in rows if r["portale_matched"] == r["pygeoapi_matched"] == r["gdal_matched"])
    same_ids = sum(1 for r in rows if r["same_ids"])
    matched = sorted(r["portale_matched"] for r in rows if r["portale_matched"] is not None)
    if check["problems"]:
        add("**Same-answer check failed:** " + "; ".join(check["problems"][:3]) + ".")
    else:
        add(f"Same-answer check: on {len(rows)} of the boxes (numberMatched from {matched[0]} to "
            f"{matched[-1]}), Portale, pygeoapi (`resulttype=hits`) and GDAL (`ogrinfo -spat`) "
            f"agree on numberMatched ({agree}/{len(rows)}), and both servers return the same "
            f"features ({len(rows) - sum(1 for r in rows if not r['same_id_set'])}/{len(rows)}; "
            f"in the same order: {same_ids}/{len(rows)}).")
    sizes = {}
    for name in ("portale", "pygeoapi"):
        path = os.path.join(args.runs, f"{name}.sample.json")
        if os.path.exists(path):
            sizes[name] = os.path.getsize(path)
    if len(sizes) == 2:
        add("")
        add(f"The same page (the list's first box) is {sizes['portale']:,} bytes from Portale and "
            f"{sizes['pygeoapi']:,} from pygeoapi: Portale writes coordinates with 7 decimals, "
            "pygeoapi (GDAL's `ExportToJson`) with up to 15 or more. pygeoapi's OGR provider "
            "reports numberMatched only for `resulttype=hits`, so its measured pages do not "
            "count the matches; Portale's do.")
    bad = [n for n, r in runs.items() if r["error_total"]]
    if bad:
        add("")
        add(f"**Errors during the runs:** {', '.join(bad)} (see the table; a timeout is a "
            "request unanswered after wrk's 10 s).")
    add("")
    lines += commands_block(args, ["portale", "portale@c1", "pygeoapi", "pygeoapi@c1"])
    add("<!-- /bench:serve-features -->")
    return "\n".join(lines) + "\n", bool(check["problems"] or any(b.startswith("portale") for b in bad))


def write_section(path, section, kind, date):
    """Replaces the section of the same kind and date, or adds it at the end of the kind's
    chapter (before the next `## ` heading), or appends the chapter."""
    text = read_text(path) if os.path.exists(path) else "# Benchmarks\n"
    tag = f"bench:serve-{kind}"
    pattern = re.compile(r"<!-- " + re.escape(tag) + r" date=" + re.escape(date) + r" -->.*?<!-- /"
                         + re.escape(tag) + r" -->\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        heading = CHAPTERS[kind]
        start = text.find(heading + "\n")
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + heading + "\n\n" + section
        else:
            nxt = text.find("\n## ", start + len(heading))
            end = len(text) if nxt < 0 else nxt + 1
            before = text[:end].rstrip("\n") + "\n\n" + section
            text = before + ("\n" + text[end:] if end < len(text) else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=["tiles", "features"])
    p.add_argument("--runs", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--loadavg", required=True)
    p.add_argument("--loadavg-end", required=True)
    p.add_argument("--versions", required=True)
    p.add_argument("--connections", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--seconds", type=int, required=True)
    p.add_argument("--warmup", type=int, required=True)
    p.add_argument("--martin-missing", default="")
    p.add_argument("--write", metavar="BENCHMARKS.md")
    args = p.parse_args()
    section, bad = (report_tiles if args.kind == "tiles" else report_features)(args)
    sys.stdout.write(section)
    if args.write:
        write_section(args.write, section, args.kind, datetime.date.today().isoformat())
        sys.stderr.write(f"bench/serve_report.py: section written to {args.write}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
