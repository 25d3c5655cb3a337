#!/usr/bin/env python3
"""The tile side of bench/serve_tiles.sh: the URL list, the static copy nginx serves, and
the same-bytes check.

    serve_tiles.py urls ARCHIVE LIST INFO [N]    a fixed list of N (default 10,000) tiles
    serve_tiles.py extract ARCHIVE DIR           every tile to DIR/z/x/y.mvt, bytes as stored
    serve_tiles.py check ARCHIVE LIST OUT NAME=TEMPLATE...
                                                 fetches a sample of LIST from each server

`urls` reads every tile the PMTiles archive holds (the `pmtiles` package, PyPI) and draws
the list with a fixed seed: each zoom of the archive gets an equal share of the requests,
as a map viewer asks for about as many tiles per view at any zoom, and within a zoom the
tiles are drawn uniformly, with replacement, from those that exist. Low zooms, which hold
few tiles, therefore come back often (they are the hottest tiles of a real map), high
zooms are a long tail. The list is shuffled so that zooms interleave, and written one
`z/x/y` a line; INFO (JSON) records per-zoom counts, the sizes of the listed tiles and the
list's SHA-256, for the report. Only tiles that exist are listed: every server must
answer 200 with the same bytes, so nothing is measured on 204s or 404s.

`extract` writes the stored bytes (gzip-compressed, as the archive keeps them), so nginx
serves exactly what the tile servers serve.

`check` fetches every k-th listed tile (about 200) from each server with
`Accept-Encoding: gzip` and compares status, `Content-Type`, `Content-Encoding` and the
body bytes with the archive's own bytes for that tile (the oracle is the file, not a
server). TEMPLATE is a URL with `{z}`, `{x}` and `{y}`. The result goes to OUT (JSON); the
exit status is 1 when any server differs.
"""

import collections
import hashlib
import http.client
import json
import mmap
import os
import random
import sys
import urllib.parse

try:
    from pmtiles.reader import Reader, MmapSource, all_tiles
    from pmtiles.tile import Compression
except ImportError:
    sys.exit("serve_tiles.py: the Python package pmtiles is needed (pip install pmtiles)")

SEED = "portale-bench-serve-tiles-1"
MVT_TYPE = "application/vnd.mapbox-vector-tile"
CHECK_SAMPLE = 200


def open_archive(path):
    f = open(path, "rb")
    get_bytes = MmapSource(f)
    return f, get_bytes, Reader(get_bytes)


def cmd_urls(archive, list_path, info_path, n):
    f, get_bytes, reader = open_archive(archive)
    with f:
        by_zoom = collections.defaultdict(list)
        sizes = {}
        for (z, x, y), data in all_tiles(get_bytes):
            by_zoom[z].append((x, y))
            sizes[(z, x, y)] = len(data)
        header = reader.header()
    if not by_zoom:
        sys.exit(f"serve_tiles.py: {archive} holds no tile")
    rng = random.Random(SEED)
    zooms = sorted(by_zoom)
    picked = []
    for i, z in enumerate(zooms):
        # Equal shares; the first n % len(zooms) zooms get one more.
        share = n // len(zooms) + (1 if i < n % len(zooms) else 0)
        tiles = sorted(by_zoom[z])
        picked += [(z, *rng.choice(tiles)) for _ in range(share)]
    rng.shuffle(picked)
    lines = [f"{z}/{x}/{y}" for z, x, y in picked]
    text = "\n".join(lines) + "\n"
    with open(list_path, "w", encoding="ascii") as out:
        out.write(text)
    listed_sizes = [sizes[t] for t in picked]
    info = {
        "archive": archive,
        "archive_bytes": os.path.getsize(archive),
        "tile_compression": Compression(header["tile_compression"]).name.lower(),
        "tiles_in_archive": len(sizes),
        "tiles_in_archive_by_zoom": {str(z): len(by_zoom[z]) for z in zooms},
        "urls": len(lines),
        "distinct_urls": len(set(lines)),
        "urls_by_zoom": {str(z): sum(1 for t in picked if t[0] == z) for z in zooms},
        "body_bytes_total": sum(listed_sizes),
        "body_bytes_mean": sum(listed_sizes) / len(listed_sizes),
        "body_bytes_max": max(listed_sizes),
        "seed": SEED,
        "sha256": hashlib.sha256(text.encode("ascii")).hexdigest(),
    }
    with open(info_path, "w", encoding="utf-8") as out:
        json.dump(info, out, indent=1)
    print(f"serve_tiles.py: {len(lines):,} URLs ({info['distinct_urls']:,} distinct) "
          f"from {len(sizes):,} tiles in z{zooms[0]}-z{zooms[-1]}")


def cmd_extract(archive, out_dir):
    f, get_bytes, reader = open_archive(archive)
    count = total = 0
    with f:
        for (z, x, y), data in all_tiles(get_bytes):
            d = os.path.join(out_dir, str(z), str(x))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, f"{y}.mvt"), "wb") as out:
                out.write(data)
            count += 1
            total += len(data)
    print(f"serve_tiles.py: {count:,} tiles ({total / 1e6:.1f} MB as stored) written to {out_dir}")


def fetch(conns, url):
    """GET `url` with Accept-Encoding: gzip on a kept-alive connection per host."""
    parts = urllib.parse.urlsplit(url)
    key = parts.netloc
    for attempt in (0, 1):
        conn = conns.get(key)
        if conn is None:
            conn = conns[key] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""),
                         headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), resp.getheader("Content-Encoding"), resp.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            del conns[key]
            if attempt:
                raise
    raise AssertionError("unreachable")


def cmd_check(archive, list_path, out_path, servers):
    with open(list_path, encoding="ascii") as f:
        tiles = [tuple(int(v) for v in line.split("/")) for line in f if line.strip()]
    step = max(1, len(tiles) // CHECK_SAMPLE)
    sample = tiles[::step][:CHECK_SAMPLE]
    fh, get_bytes, reader = open_archive(archive)
    conns = {}
    result = {"sample": len(sample), "servers": {}}
    bad = False
    with fh:
        expected = {t: reader.get(*t) for t in sample}
        for name, template in servers:
            problems = []
            identical = 0
            for z, x, y in sample:
                url = template.format(z=z, x=x, y=y)
                try:
                    status, ctype, cenc, body = fetch(conns, url)
                except (http.client.HTTPException, OSError) as e:
                    problems.append(f"{url}: {e}")
                    continue
                want = expected[(z, x, y)]
                wrong = []
                if status != 200:
                    wrong.append(f"status {status}")
                if (ctype or "").split(";")[0].strip() != MVT_TYPE:
                    wrong.append(f"Content-Type {ctype!r}")
                if (cenc or "").lower() != "gzip":
                    wrong.append(f"Content-Encoding {cenc!r}")
                if body != want:
                    wrong.append(f"body of {len(body)} bytes differs from the archive's {len(want)}")
                if wrong:
                    problems.append(f"{url}: " + ", ".join(wrong))
                else:
                    identical += 1
            result["servers"][name] = {"identical": identical, "problems": problems[:5],
                                       "problem_count": len(problems)}
            bad = bad or bool(problems)
            print(f"serve_tiles.py: {name}: {identical}/{len(sample)} tiles byte-identical to the archive")
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "urls":
        n = int(argv[5]) if len(argv) > 5 else 10_000
        cmd_urls(argv[2], argv[3], argv[4], n)
        return 0
    if len(argv) == 4 and argv[1] == "extract":
        cmd_extract(argv[2], argv[3])
        return 0
    if len(argv) >= 6 and argv[1] == "check":
        servers = []
        for spec in argv[5:]:
            name, sep, template = spec.partition("=")
            if not sep:
                sys.exit(f"serve_tiles.py: expected NAME=TEMPLATE, got {spec!r}")
            servers.append((name, template))
        return cmd_check(argv[2], argv[3], argv[4], servers)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
