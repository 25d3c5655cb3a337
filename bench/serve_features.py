#!/usr/bin/env python3
"""The feature side of bench/serve_features.sh: the bbox list and the same-answer check.

    serve_features.py bboxes GEOJSON LIST INFO [N]   N (default 1,000) random bboxes
    serve_features.py check LIST OUT PORTALE-ITEMS PYGEOAPI-ITEMS FGB
                                                     compares the two servers' answers

`bboxes` draws, with a fixed seed, N boxes inside Italy as a map client would send
them: the centre is a random point of the bounding box of a random municipality (so
boxes fall on land, weighted by the number of municipalities, not by area), the width a
random 0.02-1.0 degrees of longitude and the height 0.75 times the width (a landscape
viewport at Italian latitudes), rounded to 6 decimals. Each line of LIST is the query
string `limit=100&bbox=W,S,E,N&f=json`; INFO (JSON) records the seed and the list's
SHA-256.

`check` takes about 20 boxes of LIST and for each asks:
- Portale `PORTALE-ITEMS?limit=100&bbox=...&f=json`: numberMatched and the ids returned;
- pygeoapi `PYGEOAPI-ITEMS?...&resulttype=hits` for its numberMatched (its OGR provider
  reports the count only in hits mode) and the same query as measured for the ids;
- GDAL (`ogrinfo -ro -so -spat W S E N FGB`) for the count, as a third opinion.
It writes OUT (JSON) and exits 1 when the counts or the ids differ.
"""

import hashlib
import json
import random
import re
import subprocess
import sys
import urllib.request

SEED = "portale-bench-serve-features-1"
CHECK_SAMPLE = 20


def cmd_bboxes(geojson, list_path, info_path, n):
    with open(geojson, encoding="utf-8") as f:
        features = json.load(f)["features"]
    envelopes = []
    for feat in features:
        xs, ys = [], []
        stack = [feat["geometry"]["coordinates"]]
        while stack:
            c = stack.pop()
            if c and isinstance(c[0], (int, float)):
                xs.append(c[0])
                ys.append(c[1])
            else:
                stack.extend(c)
        envelopes.append((min(xs), min(ys), max(xs), max(ys)))
    rng = random.Random(SEED)
    lines = []
    for _ in range(n):
        w, s, e, nn = rng.choice(envelopes)
        cx, cy = rng.uniform(w, e), rng.uniform(s, nn)
        width = rng.uniform(0.02, 1.0)
        height = 0.75 * width
        box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
        lines.append("limit=100&bbox=" + ",".join(f"{v:.6f}" for v in box) + "&f=json")
    text = "\n".join(lines) + "\n"
    with open(list_path, "w", encoding="ascii") as out:
        out.write(text)
    info = {"bboxes": n, "seed": SEED, "sha256": hashlib.sha256(text.encode("ascii")).hexdigest()}
    with open(info_path, "w", encoding="utf-8") as out:
        json.dump(info, out, indent=1)
    print(f"serve_features.py: {n:,} bboxes written to {list_path}")


def get_json(url):
    with urllib.request.urlopen(url, timeout=60) as resp:
        return resp.status, json.loads(resp.read())


def gdal_count(fgb, box):
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", "-spat", *[str(v) for v in box], fgb],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"^Feature Count: (\d+)", out, re.MULTILINE)
    return int(m.group(1)) if m else None


def cmd_check(list_path, out_path, portale, pygeoapi, fgb):
    with open(list_path, encoding="ascii") as f:
        queries = [line.strip() for line in f if line.strip()]
    step = max(1, len(queries) // CHECK_SAMPLE)
    sample = queries[::step][:CHECK_SAMPLE]
    rows, problems = [], []
    for q in sample:
        box = [float(v) for v in re.search(r"bbox=([^&]+)", q).group(1).split(",")]
        st_p, p = get_json(f"{portale}?{q}")
        st_g, g = get_json(f"{pygeoapi}?{q}")
        st_h, h = get_json(f"{pygeoapi}?{q}&resulttype=hits")
        row = {
            "bbox": box,
            "portale_matched": p.get("numberMatched"),
            "portale_returned": len(p.get("features", [])),
            "pygeoapi_matched": h.get("numberMatched"),
            "pygeoapi_returned": len(g.get("features", [])),
            "gdal_matched": gdal_count(fgb, box),
        }
        ids_p = [ft.get("id") for ft in p.get("features", [])]
        ids_g = [ft.get("id") for ft in g.get("features", [])]
        row["same_ids"] = ids_p == ids_g
        row["same_id_set"] = set(map(str, ids_p)) == set(map(str, ids_g))
        rows.append(row)
        if (st_p, st_g, st_h) != (200, 200, 200):
            problems.append(f"{q}: status Portale {st_p}, pygeoapi {st_g}/{st_h}")
        if not (row["portale_matched"] == row["pygeoapi_matched"] == row["gdal_matched"]):
            problems.append(f"{q}: numberMatched Portale {row['portale_matched']}, pygeoapi "
                            f"{row['pygeoapi_matched']}, GDAL {row['gdal_matched']}")
        if not row["same_id_set"]:
            problems.append(f"{q}: the features returned differ "
                            f"({len(ids_p)} from Portale, {len(ids_g)} from pygeoapi)")
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump({"sample": len(sample), "rows": rows, "problems": problems}, out, indent=1)
    for r in rows:
        print(f"serve_features.py: bbox {r['bbox']}: matched Portale {r['portale_matched']}, "
              f"pygeoapi {r['pygeoapi_matched']}, GDAL {r['gdal_matched']}; returned "
              f"{r['portale_returned']}/{r['pygeoapi_returned']}; same ids {r['same_ids']}")
    for p in problems:
        print(f"serve_features.py: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "bboxes":
        cmd_bboxes(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) > 5 else 1000)
        return 0
    if len(argv) == 7 and argv[1] == "check":
        return cmd_check(*argv[2:7])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
