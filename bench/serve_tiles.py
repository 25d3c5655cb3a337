#!/usr/bin/env python3
"""The tile side of bench/serve_tiles.sh: the URL list, the static copy nginx serves, and
the same-bytes check.

    serve_tiles.py urls MIX ARCHIVE LIST INFO [N]
                                                 a fixed list of N (default 10,000) tiles;
                                                 MIX is viewer or uniform
    serve_tiles.py extract ARCHIVE DIR           every tile to DIR/z/x/y.mvt, bytes as stored
    serve_tiles.py check ARCHIVE LIST OUT NAME=TEMPLATE...
                                                 fetches a sample of LIST from each server

`urls` reads every tile the PMTiles archive holds (the `pmtiles` package, PyPI) and draws
the list with a fixed seed, in one of two mixes:

- `viewer` (the one the goals are judged on): what map visitors ask for. MapLibre shows
  Italy whole on a 1280x800 screen at zoom 6 (512-px tiles), and a visitor zooming from
  there to a municipality (z12) looks at about as many tiles at every zoom: zooms 6 and
  up get an equal share each, and the zooms below 6 (views wider than Italy, asked for
  when zooming out) share one such share among them. Within a zoom, tiles are drawn
  uniformly, with replacement, from those that exist, so the few low-zoom tiles come
  back often (the hottest tiles of a real map) and high zooms are a long tail.
- `uniform` (a reference): every tile of the archive equally likely, so about 70 % of the
  requests are for z12's small tiles: it weighs per-request overhead rather than bytes.

The list is shuffled so that zooms interleave, and written one `z/x/y` a line; INFO
(JSON) records per-zoom counts, the sizes of the listed tiles and the list's SHA-256,
for the report. Only tiles that exist are listed: every server must answer 200 with the
same bytes, so nothing is measured on 204s or 404s.

`extract` writes the stored bytes (gzip-compressed, as the archive keeps them), so nginx
serves exactly what the tile servers serve.

`check` fetches every k-th listed tile (about 200) from each server with
`Accept-Encoding: gzip` and checks status 200, `Content-Encoding: gzip` and the body
bytes against the archive's own bytes for that tile (the oracle is the file, not a
server). The `Content-Type` each server sends is recorded, not judged: Martin sends
`application/x-protobuf` where Portale and the nginx configuration send
`application/vnd.mapbox-vector-tile`, for the same bytes. TEMPLATE is a URL with `{z}`, `{x}` and `{y}`. The result goes to OUT (JSON); the
exit status is 1 when any server differs.
"""

import collections
import contextlib
import hashlib
import http.client
import json
import os
import random
import sys
import urllib.parse

try:
    from pmtiles.reader import MmapSource, Reader, all_tiles
    from pmtiles.tile import Compression
except ImportError:
    sys.exit("serve_tiles.py: the Python package pmtiles is needed (pip install pmtiles)")

SEED = "portale-bench-serve-tiles-1"
VIEW_ZOOM = 6      # the zoom at which a 1280x800 map shows all of Italy (512-px tiles)
CHECK_SAMPLE = 200


@contextlib.contextmanager
def open_archive(path):
    """The archive's byte reader and a `pmtiles` Reader over it, memory-mapped."""
    with open(path, "rb") as f:
        get_bytes = MmapSource(f)
        yield get_bytes, Reader(get_bytes)


def zoom_shares(zooms, n):
    """How many of the n requests go to each zoom (largest remainder, so they add to n)."""
    low = [z for z in zooms if z < VIEW_ZOOM]
    weights = {z: 1.0 if z >= VIEW_ZOOM else 1.0 / len(low) for z in zooms}
    total = sum(weights.values())
    exact = {z: n * w / total for z, w in weights.items()}
    counts = {z: int(v) for z, v in exact.items()}
    for z in sorted(zooms, key=lambda z: (counts[z] - exact[z], z))[: n - sum(counts.values())]:
        counts[z] += 1
    return counts


def cmd_urls(mix, archive, list_path, info_path, n):
    if mix not in ("viewer", "uniform"):
        sys.exit(f"serve_tiles.py: the mix is viewer or uniform, not {mix!r}")
    with open_archive(archive) as (get_bytes, reader):
        by_zoom = collections.defaultdict(list)
        sizes = {}
        for (z, x, y), data in all_tiles(get_bytes):
            by_zoom[z].append((x, y))
            sizes[(z, x, y)] = len(data)
        header = reader.header()
    if not by_zoom:
        sys.exit(f"serve_tiles.py: {archive} holds no tile")
    rng = random.Random(f"{SEED}-{mix}")
    zooms = sorted(by_zoom)
    if mix == "viewer":
        picked = []
        for z, share in sorted(zoom_shares(zooms, n).items()):
            tiles = sorted(by_zoom[z])
            picked += [(z, *rng.choice(tiles)) for _ in range(share)]
    else:
        every = sorted(sizes)
        picked = [rng.choice(every) for _ in range(n)]
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
        "mix": mix,
        "seed": f"{SEED}-{mix}",
        "sha256": hashlib.sha256(text.encode("ascii")).hexdigest(),
    }
    with open(info_path, "w", encoding="utf-8") as out:
        json.dump(info, out, indent=1)
    print(f"serve_tiles.py: {len(lines):,} URLs ({info['distinct_urls']:,} distinct) "
          f"from {len(sizes):,} tiles in z{zooms[0]}-z{zooms[-1]}")


def cmd_extract(archive, out_dir):
    count = total = 0
    with open_archive(archive) as (get_bytes, _reader):
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
    conns = {}
    result = {"sample": len(sample), "servers": {}}
    bad = False
    with open_archive(archive) as (_get_bytes, reader):
        expected = {t: reader.get(*t) for t in sample}
        for name, template in servers:
            problems = []
            identical = 0
            types = {}
            for z, x, y in sample:
                url = template.format(z=z, x=x, y=y)
                try:
                    status, ctype, cenc, body = fetch(conns, url)
                except (http.client.HTTPException, OSError) as e:
                    problems.append(f"{url}: {e}")
                    continue
                want = expected[(z, x, y)]
                types[ctype] = types.get(ctype, 0) + 1
                wrong = []
                if status != 200:
                    wrong.append(f"status {status}")
                if (cenc or "").lower() != "gzip":
                    wrong.append(f"Content-Encoding {cenc!r}")
                if body != want:
                    wrong.append(f"body of {len(body)} bytes differs from the archive's {len(want)}")
                if wrong:
                    problems.append(f"{url}: " + ", ".join(wrong))
                else:
                    identical += 1
            result["servers"][name] = {"identical": identical, "problems": problems[:5],
                                       "problem_count": len(problems), "content_types": types}
            bad = bad or bool(problems)
            print(f"serve_tiles.py: {name}: {identical}/{len(sample)} tiles byte-identical to the archive")
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
    return 1 if bad else 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "urls":
        n = int(argv[6]) if len(argv) > 6 else 10_000
        cmd_urls(argv[2], argv[3], argv[4], argv[5], n)
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
