#!/usr/bin/env python3
"""Where Portale's serving time goes: buckets a `perf script` of `portale serve` under load
(bench/serve_profile.sh) into the stages of a request, and writes a dated section of
BENCHMARKS.md.

    serve_profile.py KIND SCRIPT --meta META.json [--write BENCHMARKS.md]

KIND is `tiles` or `features`; SCRIPT is the output of `perf script -F comm,ip,sym` of a
`perf record --call-graph dwarf` of the server; META (JSON) carries what the shell script
knows (commands, rates, machine facts). Each sample is walked from its leaf towards the
root and counted in the bucket of the first frame that matches one (below; some match
only when called from a given function; catch-all buckets are tried only after the
others found nothing); a sample with no such frame is "other". So every sample is counted once and the shares add up
to 100 %. The report also lists the functions with the most samples of their own
(where the leaf is), with the allocator's functions summed as one line.

Pitfall: the release binary has no debug info; frames come from its symbol table and
DWARF unwinding of `.eh_frame`, so inlined functions are charged to their caller.
"""

import argparse
import collections
import datetime
import json
import re
import sys

BUCKETS = {
    "features": [
        ("writing coordinates: rounding and formatting (`geojson::Writer`)", re.compile(
            r"portale::ogc::geojson::Writer|portale::ogc::geojson::digits")),
        ("writing properties, links and the page envelope (`geojson::write_feature`, serde_json)", re.compile(
            r"portale::ogc::geojson::write_feature|portale::ogc::geojson::json")),
        ("decoding geometries for the exact bbox test (`LayerFile::geometry`, geozero `GeoWriter`, geo's `Intersects`)", re.compile(
            r"portale::ogc::source::LayerFile::geometry|geo::algorithm::intersects")),
        ("decoding properties (`LayerFile::properties`)", re.compile(
            r"portale::ogc::source::LayerFile::(properties|fid_and_properties|found)")),
        ("the rest of the query: R-tree search, candidates (`LayerFile::query`)", re.compile(
            r"portale::ogc::source::LayerFile::query")),
        ("the rest of the OGC handler (`OgcService::items`: parameters, links)", re.compile(
            r"portale::ogc::service::OgcService::items")),
        ("HTTP: hyper reading requests and writing responses to the socket", re.compile(
            r"hyper::proto::h1")),
    ],
    "tiles": [
        ("the tile handler: PMTiles directory lookup, headers (`server::tiles::tile`)", re.compile(
            r"portale::server::tiles::tile")),
        ("routing and middleware (axum, tower, generation pinning)", re.compile(
            r"axum::routing|axum::middleware|tower::|portale::server::pin_generation")),
        ("HTTP: writing responses to the socket (hyper `poll_flush`/`poll_write`, kernel send)", re.compile(
            r"hyper::proto::h1::io::Buffered<.*>::poll_flush|hyper::proto::h1::dispatch::Dispatcher<.*>::poll_write")),
        ("HTTP: reading and parsing requests (hyper `poll_read_head`, kernel receive)", re.compile(
            r"hyper::proto::h1::conn::Conn<.*>::poll_read|hyper::proto::h1::io::Buffered<.*>::parse")),
    ],
}
# Buckets tried only when no frame of a sample matched one above (they would otherwise
# shadow the more specific buckets of frames nearer the root).
FALLBACK = {
    "features": [],
    "tiles": [("HTTP: the rest of hyper's connection loop", re.compile(r"hyper::"))],
}
ALLOCATOR = re.compile(r"^(malloc|_int_malloc|_int_free|cfree@.*|free|realloc|_int_realloc|malloc_consolidate"
                       r"|unlink_chunk.*|__rust_alloc|__rust_dealloc|__rust_realloc|__rustc::__r.*alloc.*"
                       r"|alloc_perturb|tcache_.*|__GI___libc_(malloc|free|realloc)|checked_request2size"
                       r"|tag_new_usable|_int_free_.*)( \(inlined\))?$")


def samples(path):
    """Yields each sample's frames, leaf first, as symbol names."""
    frames = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(("\t", " ")):
                parts = line.strip().split(None, 1)
                frames.append(parts[1] if len(parts) > 1 else "[unknown]")
            elif line.strip() == "":
                if frames:
                    yield frames
                frames = []
        if frames:
            yield frames


def first_bucket(buckets, frames):
    """The bucket of the frame nearest the leaf that matches one (None if no frame does)."""
    for i, frame in enumerate(frames):
        parent = frames[i + 1] if i + 1 < len(frames) else ""
        for b in buckets:
            if b[1].search(frame) and (len(b) < 3 or b[2].search(parent)):
                return b[0]
    return None


def analyse(kind, path):
    buckets = BUCKETS[kind]
    counts = collections.Counter()
    leaves = collections.Counter()
    total = 0
    for frames in samples(path):
        total += 1
        leaf = frames[0]
        leaves["the allocator (malloc, free and friends, summed)" if ALLOCATOR.match(leaf) else leaf] += 1
        hit = first_bucket(buckets, frames) or first_bucket(FALLBACK[kind], frames)
        counts[hit or "other (runtime, kernel, the rest)"] += 1
    return total, counts, leaves


def short(symbol, width=110):
    symbol = symbol.replace("|", "\\|")
    return symbol if len(symbol) <= width else symbol[: width - 1] + "…"


def report(kind, total, counts, leaves, meta):
    today = datetime.date.today().isoformat()
    lines = [f"<!-- bench:serve-profile-{kind} date={today} -->",
             f"### {today}: where Portale's time goes, {'tile' if kind == 'tiles' else 'feature'} serving",
             "",
             (f"Machine: {meta['machine']}; Portale commit {meta['commit']}; load average at start "
              f"{meta['loadavg']}."),
             "",
             (f"Reproduce: `bench/serve_profile.sh {kind}`. The server ran on core 0 under the load "
              f"of the {kind} benchmark (wrk on core 1: {meta['load']}), at {meta['rps']:,.0f} requests/s "
              f"during the profile; `perf record -e cpu-clock -F {meta['frequency']} --call-graph dwarf` "
              f"took {total:,} samples of it in {meta['seconds']} s."),
             "",
             "| stage (first matching frame from the leaf up) | share of samples |",
             "|---|---:|"]
    labels = [b[0] for b in BUCKETS[kind] + FALLBACK[kind]] + ["other (runtime, kernel, the rest)"]
    for label in labels:
        lines.append(f"| {label} | {100 * counts[label] / total:.1f} % |")
    lines += ["", "Functions with the most samples of their own (leaf):", "",
              "| function | share |", "|---|---:|"]
    for sym, n in leaves.most_common(12):
        lines.append(f"| `{short(sym)}` | {100 * n / total:.1f} % |")
    lines += ["", "<details><summary>Commands</summary>", "", "```sh"]
    lines += [c for c in meta["commands"]]
    lines += ["```", "", "</details>", f"<!-- /bench:serve-profile-{kind} -->"]
    return "\n".join(lines) + "\n"


CHAPTER = "## Where Portale's serving time goes"


def write_section(path, section, kind, date):
    """Replaces the same kind and date, or adds the section at the end of the chapter."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tag = f"bench:serve-profile-{kind}"
    pattern = re.compile(r"<!-- " + re.escape(tag) + r" date=" + re.escape(date) + r" -->.*?<!-- /"
                         + re.escape(tag) + r" -->\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        start = text.find(CHAPTER + "\n")
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + CHAPTER + "\n\n" + section
        else:
            nxt = text.find("\n## ", start + len(CHAPTER))
            end = len(text) if nxt < 0 else nxt + 1
            text = text[:end].rstrip("\n") + "\n\n" + section + ("\n" + text[end:] if end < len(text) else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=sorted(BUCKETS))
    p.add_argument("script")
    p.add_argument("--meta", required=True)
    p.add_argument("--write", metavar="BENCHMARKS.md")
    args = p.parse_args()
    with open(args.meta, encoding="utf-8") as f:
        meta = json.load(f)
    total, counts, leaves = analyse(args.kind, args.script)
    if total == 0:
        sys.exit(f"serve_profile.py: no sample in {args.script}")
    section = report(args.kind, total, counts, leaves, meta)
    sys.stdout.write(section)
    if args.write:
        write_section(args.write, section, args.kind, datetime.date.today().isoformat())
        sys.stderr.write(f"serve_profile.py: section written to {args.write}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
