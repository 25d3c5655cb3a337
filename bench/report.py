#!/usr/bin/env python3
"""Turns the measurements of bench/etl.sh into a Markdown report and a dated section of
BENCHMARKS.md.

Reads the `/usr/bin/time -v` outputs (`NAME.time`) and command lines (`NAME.cmd`) that
etl.sh leaves in bench/out/times/, checks that every FlatGeobuf written holds N features
(with GDAL's ogrinfo, so a build that silently dropped rows cannot look fast), prints the
report, and with --write replaces the section of the same date and row count in
BENCHMARKS.md, or appends one. Only measured numbers are written: a missing measurement
is reported as not measured, never estimated.
"""

import argparse
import datetime
import glob
import os
import platform
import re
import shlex
import subprocess
import sys

# Goals of the issue.
GOAL_RATIO = 0.33            # Portale's wall time / ogr2ogr's
GOAL_RSS_BYTES = 1_000_000_000
GOAL_DEMO_S = 10.0
GOAL_REBUILD_S = 1.0

FORMATS = [("csv", "CSV"), ("geojson", "GeoJSON"), ("geoparquet", "GeoParquet"), ("fgb", "FlatGeobuf")]
EXT = {"csv": ".csv", "geojson": ".geojson", "geoparquet": ".parquet", "fgb": ".fgb"}


def parse_time(path):
    """Wall seconds, CPU seconds and max RSS bytes from a GNU `time -v` report."""
    text = open(path, encoding="utf-8", errors="replace").read()

    def field(label):
        m = re.search(r"^\s*" + re.escape(label) + r":\s*(.+)$", text, re.M)
        if not m:
            raise ValueError(f"{path}: no '{label}' line in the GNU time report")
        return m.group(1).strip()

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) * 1024
    return {"wall": wall, "cpu": cpu, "rss": rss}


def load(times, name):
    path = os.path.join(times, name + ".time")
    if not os.path.exists(path):
        return None
    m = parse_time(path)
    m["cmd"] = command(times, name)
    return m


def quote(arg):
    """Shell quoting that keeps SQL readable: double quotes around single-quoted literals."""
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    if "'" in arg and not re.search(r'["$`\\!]', arg):
        return '"' + arg + '"'
    return shlex.quote(arg)


def command(times, name):
    """The command line etl.sh measured as `name`, ready to paste into a shell."""
    with open(os.path.join(times, name + ".cmd"), encoding="utf-8") as f:
        args = f.read().split("\0")
    return " ".join(quote(a) for a in args if a)


def s(x):
    # GNU time reports wall time in hundredths of a second.
    return "< 0.01 s" if x < 0.005 else f"{x:.2f} s"


def mb(b):
    return f"{b / 1e6:,.0f} MB"


def size(path):
    return f"{os.path.getsize(path) / 1e6:,.1f} MB" if path and os.path.exists(path) else "–"


def feature_count(path):
    """Feature count of a vector file according to GDAL's ogrinfo (None if unreadable)."""
    try:
        out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"^Feature Count: (\d+)", out, re.M)
    return int(m.group(1)) if m else None


def compare_csv(portale_csv, gdal_csv, rows=1000):
    """Problems found comparing the first `rows` rows of the two CSVs (both keep source
    order): attributes must be equal and positions within 1e-6 degrees (Portale rounds
    to 7 decimals). Returns (problems, largest position difference in degrees)."""
    import csv
    import itertools

    with open(portale_csv, encoding="utf-8", newline="") as pf, \
            open(gdal_csv, encoding="utf-8", newline="") as gf:
        pairs = list(itertools.islice(zip(csv.DictReader(pf), csv.DictReader(gf)), rows))
    problems, worst = [], 0.0
    text_cols = ["id", "codice", "denominazione", "frazione", "data"]
    num_cols = ["importo", "coord_x", "coord_y"]
    for line, (p, g) in enumerate(pairs, start=2):
        try:
            bad = [c for c in text_cols if p[c] != g[c]]
            bad += [c for c in num_cols if float(p[c]) != float(g[c])]
            d = max(abs(float(p["longitude"]) - float(g["X"])), abs(float(p["latitude"]) - float(g["Y"])))
        except (KeyError, ValueError) as e:
            problems.append(f"line {line}: cannot compare ({e!r})")
            continue
        worst = max(worst, d)
        if bad:
            problems.append(f"line {line}: {', '.join(bad)} differ")
        if d > 1e-6:
            problems.append(f"line {line}: positions differ by {d:.2e} degrees")
    if not pairs:
        problems.append("no rows to compare")
    return problems[:5], worst, len(pairs)


def portale_files(site):
    """The published files of dataset `bench` in the current generation of `site`."""
    try:
        gen = open(os.path.join(site, "CURRENT"), encoding="utf-8").read().strip()
    except OSError:
        return {}
    files = {}
    for path in glob.glob(os.path.join(site, "generations", gen, "datasets", "bench", "*")):
        for key, ext in EXT.items():
            if path.endswith(ext):
                files[key] = path
    return files


def machine(args):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return (f"`nproc` {len(os.sched_getaffinity(0))} ({cpu}); "
            f"{mem / 1024 / 1024:.1f} GiB RAM; {platform.system()} {platform.release()}; "
            f"{args.gdal_version}; Portale commit {args.commit}; "
            f"load average at start {args.loadavg}")


def verdict(ok):
    return "met" if ok else "**not met**"


def report(args):
    t = args.times
    today = datetime.date.today().isoformat()
    lines = []
    add = lines.append
    add(f"<!-- bench:etl date={today} n={args.n} -->")
    add(f"### {today}: ETL, {args.n:,} rows" + (" (ogr2ogr side only)" if args.gdal_only else ""))
    add("")
    add(f"Machine: {machine(args)}.")
    add("")
    add("Reproduce: `bench/etl.sh" + (" --gdal-only" if args.gdal_only else "") + f" {args.n}`.")
    add("")

    iconv = load(t, "gdal-iconv")
    gdal_formats = [k for k, _ in FORMATS if os.path.exists(os.path.join(t, f"gdal-equivalent-{k}.time"))]
    eq = {k: load(t, f"gdal-equivalent-{k}") for k in gdal_formats}
    plain = {k: load(t, f"gdal-plain-{k}") for k in gdal_formats}
    eq_wall = iconv["wall"] + sum(m["wall"] for m in eq.values())
    eq_cpu = iconv["cpu"] + sum(m["cpu"] for m in eq.values())
    eq_rss = max([iconv["rss"]] + [m["rss"] for m in eq.values()])
    plain_wall = sum(m["wall"] for m in plain.values())
    plain_cpu = sum(m["cpu"] for m in plain.values())
    plain_rss = max(m["rss"] for m in plain.values())
    names = ", ".join(label for k, label in FORMATS if k in gdal_formats)
    derived = [k for k in gdal_formats if k != "fgb"]
    chained = {k: load(t, f"gdal-chained-{k}") for k in derived}
    chained_wall = iconv["wall"] + eq["fgb"]["wall"] + sum(m["wall"] for m in chained.values())
    chained_cpu = iconv["cpu"] + eq["fgb"]["cpu"] + sum(m["cpu"] for m in chained.values())
    chained_rss = max([iconv["rss"], eq["fgb"]["rss"]] + [m["rss"] for m in chained.values()])

    build = None if args.gdal_only else load(t, "portale-build")
    counts_bad = []
    pfiles = portale_files(args.site) if build else {}
    for label, path in [("ogr2ogr FlatGeobuf", os.path.join(args.gdal_dir, "equivalent", "bench.fgb")),
                        ("Portale FlatGeobuf", pfiles.get("fgb"))]:
        if path is None or (label.startswith("Portale") and not build):
            continue
        n = feature_count(path)
        if n != args.n:
            counts_bad.append(f"{label} ({path}) holds {n} features, not {args.n}")

    same = None
    if build and "csv" in pfiles:
        same = compare_csv(pfiles["csv"], os.path.join(args.gdal_dir, "equivalent", "bench.csv"))
        if same[0]:
            counts_bad.append("Portale's and ogr2ogr's CSVs differ: " + "; ".join(same[0]))

    add("| run | wall | CPU (user+sys) | max RSS |")
    add("|---|---:|---:|---:|")
    if build:
        add(f"| Portale: one `build --jobs 1` writing CSV, GeoJSON, GeoParquet, FlatGeobuf | {s(build['wall'])} | {s(build['cpu'])} | {mb(build['rss'])} |")
    add(f"| ogr2ogr, same output: transcoding + {len(eq)} conversions ({names}), summed | {s(eq_wall)} | {s(eq_cpu)} | {mb(eq_rss)} |")
    add(f"| ↳ `iconv` Windows-1252 → UTF-8 | {s(iconv['wall'])} | {s(iconv['cpu'])} | {mb(iconv['rss'])} |")
    for k, label in FORMATS:
        if k in eq:
            add(f"| ↳ `ogr2ogr -f {label}` with the SQL type fixes | {s(eq[k]['wall'])} | {s(eq[k]['cpu'])} | {mb(eq[k]['rss'])} |")
    add(f"| reference: ogr2ogr chained, same output: transcoding + the FlatGeobuf above + {' and '.join(dict(FORMATS)[k] for k in derived)} from it, summed | {s(chained_wall)} | {s(chained_cpu)} | {mb(chained_rss)} |")
    for k, label in FORMATS:
        if k in chained:
            add(f"| ↳ `ogr2ogr -f {label}` from the FlatGeobuf | {s(chained[k]['wall'])} | {s(chained[k]['cpu'])} | {mb(chained[k]['rss'])} |")
    add(f"| reference: ogr2ogr without transcoding or type fixes ({names}), summed | {s(plain_wall)} | {s(plain_cpu)} | {mb(plain_rss)} |")
    for k, label in FORMATS:
        if k in plain:
            add(f"| ↳ `ogr2ogr -f {label}`, plain | {s(plain[k]['wall'])} | {s(plain[k]['cpu'])} | {mb(plain[k]['rss'])} |")
    rebuild = demo = demo_re = None
    if build:
        rebuild = load(t, "portale-rebuild")
        demo = load(t, "demo-build")
        demo_re = load(t, "demo-rebuild")
        add(f"| Portale: the same build again, nothing changed | {s(rebuild['wall'])} | {s(rebuild['cpu'])} | {mb(rebuild['rss'])} |")
        add(f"| Portale: the whole demo site (`build --root .`) into a fresh folder | {s(demo['wall'])} | {s(demo['cpu'])} | {mb(demo['rss'])} |")
        add(f"| Portale: the demo site again, nothing changed | {s(demo_re['wall'])} | {s(demo_re['cpu'])} | {mb(demo_re['rss'])} |")
    add("")

    if build:
        ratio = build["wall"] / eq_wall
        add("| goal | measured | |")
        add("|---|---:|---|")
        add(f"| Portale wall time ≤ {GOAL_RATIO}× ogr2ogr's (same output) | {ratio:.2f}× | {verdict(ratio <= GOAL_RATIO)} |")
        add(f"| same, against the chained ogr2ogr reference | {build['wall'] / chained_wall:.2f}× | (reference) |")
        add(f"| same, against the plain ogr2ogr reference | {build['wall'] / plain_wall:.2f}× | (reference) |")
        add(f"| Portale peak memory ≤ 1 GB | {mb(build['rss'])} | {verdict(build['rss'] <= GOAL_RSS_BYTES)} |")
        add(f"| whole demo built < {GOAL_DEMO_S:.0f} s | {s(demo['wall'])} | {verdict(demo['wall'] < GOAL_DEMO_S)} |")
        add(f"| rebuild with nothing changed < {GOAL_REBUILD_S:.0f} s (demo) | {s(demo_re['wall'])} | {verdict(demo_re['wall'] < GOAL_REBUILD_S)} |")
        add(f"| rebuild with nothing changed < {GOAL_REBUILD_S:.0f} s ({args.n:,}-row site) | {s(rebuild['wall'])} | {verdict(rebuild['wall'] < GOAL_REBUILD_S)} |")
        add("")

    add("Output sizes:")
    add("")
    add("| format | Portale | ogr2ogr (same output) |")
    add("|---|---:|---:|")
    for k, label in FORMATS:
        gpath = os.path.join(args.gdal_dir, "equivalent", "bench" + EXT[k])
        add(f"| {label} | {size(pfiles.get(k)) if build else 'not measured'} | {size(gpath) if k in eq else 'no driver'} |")
    add("")
    if counts_bad:
        add("**Check failed:** " + "; ".join(counts_bad) + ".")
    else:
        checked = "both FlatGeobuf files hold" if build else "ogr2ogr's FlatGeobuf holds"
        add(f"Row-count check (`ogrinfo`): {checked} {args.n:,} features.")
        if same:
            add("")
            add(f"Same-output check: the first {same[2]:,} rows of Portale's and ogr2ogr's CSVs "
                f"have equal attributes, and positions {same[1]:.1e} degrees apart at most "
                "(Portale writes 7 decimals).")
    if not args.gdal_parquet:
        add("")
        add(f"This GDAL ({args.gdal_version.split(',')[0]}) has no Parquet driver, so ogr2ogr "
            "converts to CSV, GeoJSON and FlatGeobuf only; Portale's time includes GeoParquet "
            "as well (and everything else a build does), so the ratio is unfavourable to Portale.")
    add("")
    add("<details><summary>Commands measured</summary>")
    add("")
    add("```sh")
    for name in sorted(os.listdir(t)):
        if name.endswith(".cmd"):
            add(f"# {name[:-4]}")
            add(command(t, name[:-4]))
    add("```")
    add("")
    add("</details>")
    add("<!-- /bench:etl -->")
    return "\n".join(lines) + "\n", counts_bad


def write_section(path, section, date, n):
    """Replaces the section of the same date and N in `path`, or appends it."""
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
    pattern = re.compile(
        r"<!-- bench:etl date=" + re.escape(date) + r" n=" + str(n) + r" -->.*?<!-- /bench:etl -->\n?",
        re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--times", required=True)
    p.add_argument("--site", required=True)
    p.add_argument("--gdal-dir", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--gdal-version", required=True)
    p.add_argument("--loadavg", required=True)
    p.add_argument("--gdal-parquet", type=int, choices=[0, 1], required=True)
    p.add_argument("--gdal-only", action="store_true")
    p.add_argument("--write", metavar="BENCHMARKS.md")
    args = p.parse_args()
    section, bad = report(args)
    sys.stdout.write(section)
    if args.write:
        write_section(args.write, section, datetime.date.today().isoformat(), args.n)
        sys.stderr.write(f"bench/report.py: section written to {args.write}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
