#!/usr/bin/env python3
"""Apply the demo recipes to their CSV sources, in Python, and compare the rows they reject
with the list of deliberately malformed rows (malformed_rows.csv).

This is a second opinion on the demo data, written from docs/RECIPES.md alone and
independent of Portale's ETL: it reads each CSV source with the options of its recipe
(encoding, delimiter, decimal, date format, missing values), checks every `[[column]]` rule
(type, required, unique, values, min, max), converts `[geometry]` coordinates or WKT with
PROJ (pyproj) and checks them against the catalogue's territory_bbox, then reports, per
dataset, the rows read, the rows rejected and whether the rejected lines are exactly the
documented ones. It also checks that every recipe names only source columns that exist.

Run from the repository root: `python3 tools/gen_demo/check_recipes.py` (needs pyproj,
shapely). Exit status 1 when a dataset disagrees with the list.

Pitfalls it mirrors on purpose: header cells are trimmed and their inner whitespace
collapsed; a `missing` value (default "-", "n.d.", "N.D.") counts as an empty cell; numbers
use the recipe's decimal separator and "." as thousands separator when the decimal is ",".
"""

from __future__ import annotations

import csv
import io
import re
import sys
import tomllib
from datetime import datetime
from pathlib import Path

from pyproj import Transformer
from shapely import wkt as shapely_wkt
from shapely.errors import ShapelyError

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_MISSING = ["-", "n.d.", "N.D."]


def parse_number(s: str, decimal: str) -> float:
    t = s.strip()
    if decimal == ",":
        if not re.fullmatch(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?", t):
            raise ValueError(f"not a number: {s!r}")
        t = t.replace(".", "").replace(",", ".")
    elif not re.fullmatch(r"[+-]?\d+(\.\d+)?", t):
        raise ValueError(f"not a number: {s!r}")
    return float(t)


def parse_integer(s: str, decimal: str) -> int:
    v = parse_number(s, decimal)
    if v != int(v):
        raise ValueError(f"not an integer: {s!r}")
    return int(v)


def check_dataset(ds_dir: Path, bbox: list[float]) -> tuple[int, set[int], list[str]]:
    recipe = tomllib.loads((ds_dir / "dataset.toml").read_text(encoding="utf-8"))
    src = recipe["source"]
    problems: list[str] = []
    rejected: set[int] = set()
    rows_read = 0
    for name in src["files"]:
        raw = (ds_dir / name).read_bytes()
        text = raw.decode("cp1252" if src.get("encoding") == "windows-1252" else "utf-8-sig")
        delim = src.get("delimiter", ";")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
        header = [re.sub(r"\s+", " ", h).strip() for h in rows[0]]
        decimal = src.get("decimal", ".")
        date_fmt = src.get("date_format", "%d/%m/%Y")
        missing = set(src.get("missing", DEFAULT_MISSING))
        cols = recipe.get("column", [])
        for c in cols:
            if c["source"] not in header:
                problems.append(f"{name}: recipe column {c['source']!r} not in header")
        geo = recipe.get("geometry", {})
        for key in ("x", "y", "wkt", "lon", "lat"):
            if key in geo and geo[key] not in header:
                problems.append(f"{name}: geometry column {geo[key]!r} not in header")
        if problems:
            return 0, set(), problems
        transformer = None
        if "crs" in geo:
            transformer = Transformer.from_crs(f"EPSG:{geo['crs']}", "EPSG:4326", always_xy=True)
        seen: dict[str, set[str]] = {c["source"]: set() for c in cols if c.get("unique")}
        for line, r in enumerate(rows[1:], start=2):
            rows_read += 1
            cell = dict(zip(header, r))
            reasons = []
            for c in cols:
                v = cell[c["source"]].strip()
                if v == "" or v in missing:
                    if c.get("required"):
                        reasons.append(f"{c['source']}: missing")
                    continue
                try:
                    typ = c.get("type", "string")
                    val: object = v
                    if typ == "integer":
                        val = parse_integer(v, decimal)
                    elif typ == "number":
                        val = parse_number(v, decimal)
                    elif typ == "date":
                        val = datetime.strptime(v, date_fmt).date()
                    if "values" in c and v not in c["values"]:
                        raise ValueError(f"{v!r} not allowed")
                    if "min" in c and val < c["min"]:  # type: ignore[operator]
                        raise ValueError(f"{v!r} < min")
                    if "max" in c and val > c["max"]:  # type: ignore[operator]
                        raise ValueError(f"{v!r} > max")
                except ValueError as e:
                    reasons.append(f"{c['source']}: {e}")
                    continue
                if c.get("unique"):
                    if v in seen[c["source"]]:
                        reasons.append(f"{c['source']}: duplicate {v!r}")
                    seen[c["source"]].add(v)
            if transformer is not None and not reasons:
                try:
                    if "x" in geo:
                        pts = [(parse_number(cell[geo["x"]], decimal), parse_number(cell[geo["y"]], decimal))]
                    else:
                        g = shapely_wkt.loads(cell[geo["wkt"]])
                        pts = list(g.coords)
                    ll = [transformer.transform(x, y) for x, y in pts]
                    if geo.get("check_territory", True) and not all(
                            bbox[0] <= lo <= bbox[2] and bbox[1] <= la <= bbox[3] for lo, la in ll):
                        reasons.append("geometry outside territory_bbox")
                except (ValueError, ShapelyError) as e:
                    reasons.append(f"geometry: {e}")
            if reasons:
                rejected.add(line)
    return rows_read, rejected, problems


def main() -> int:
    catalog = tomllib.loads((ROOT / "catalog" / "catalog.toml").read_text(encoding="utf-8"))
    bbox = catalog["catalog"]["territory_bbox"]
    expected: dict[str, set[int]] = {}
    with (HERE / "malformed_rows.csv").open(encoding="utf-8", newline="") as f:
        for m in csv.DictReader(f, delimiter=";"):
            expected.setdefault(m["dataset"], set()).add(int(m["line"]))
    ok = True
    for ds_dir in sorted(p.parent for p in (ROOT / "datasets").glob("*/dataset.toml")):
        recipe = tomllib.loads((ds_dir / "dataset.toml").read_text(encoding="utf-8"))
        if recipe["source"].get("format", "csv") != "csv":
            continue
        n, rejected, problems = check_dataset(ds_dir, bbox)
        want = expected.get(ds_dir.name, set())
        share = len(rejected) / n if n else 0.0
        limit = recipe["source"].get("max_rejected", 0.05)
        status = "ok" if (rejected == want and not problems and share <= limit) else "MISMATCH"
        ok &= status == "ok"
        print(f"{ds_dir.name:28s} read {n:5d}  rejected {len(rejected):2d} ({share:.1%}, limit {limit:.0%})  {status}")
        for p in problems:
            print("   ", p)
        if rejected != want:
            print(f"    unexpected rejections: {sorted(rejected - want)}; not rejected: {sorted(want - rejected)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
