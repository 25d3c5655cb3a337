#!/usr/bin/env python3
"""Check the files Portale's writers produce with tools that are not Portale.

Usage:  check_outputs.py DIR [--quiet]

The writers' sample set:
  PORTALE_SAMPLE_OUT=/tmp/portale-sample cargo test --test write_outputs write_sample_outputs
  tests/conformance/check_outputs.py /tmp/portale-sample

Walks DIR (a sample set written by `cargo test --test write_outputs write_sample_outputs`
with PORTALE_SAMPLE_OUT=DIR, or a whole built site) and checks every file by extension:

  .geojson  parsed with Python's json: RFC 7946 FeatureCollection, no `crs`, at most 7
            decimals, exterior rings counter-clockwise and holes clockwise (shoelace);
            GDAL's `ogrinfo -ro -al -so` opens it, and its feature count and extent agree
            with the ones computed here from the coordinates.
  .fgb      `ogrinfo` opens it; count and extent agree with the sibling .geojson (rows
            with a geometry: FlatGeobuf leaves out the others, like GDAL does).
  .gpkg     `ogrinfo` opens it; SQLite header (application_id, user_version), row count
            and gpkg_contents extent checked with Python's sqlite3; GDAL's validate_gpkg.py
            when it is installed (Debian: python3-gdal).
  .parquet  pyarrow reads it: row count, the `geo` metadata key (GeoParquet: version,
            primary_column present and binary, encoding WKB, geometry_types, bbox against
            the sibling .geojson); `ogrinfo` too when GDAL has a Parquet driver.
  .csv      UTF-8 without BOM, CRLF record ends, a header of unique names (Python's csv).
  .json     parses; beside a .csv of the same name it must be an array of objects with
            the CSV's header as keys and one object per record.

When the directory of a file holds `expected.json` ({stem: {"features": N,
"features_with_geometry": M, "extent": [minx, miny, maxx, maxy] | null}}), counts and
extents are also compared with it. Other extensions are ignored.

Exit status 1 when any check fails, 0 otherwise. Needs: GDAL's ogrinfo (gdal-bin) for
the geo formats and pyarrow for Parquet; a missing tool is a failure, not a skip, except
GDAL's optional Parquet driver and validate_gpkg.py, which are reported as notes.
"""

import argparse
import csv
import io
import json
import math
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

# ogrinfo prints extents with 6 decimals; GeoJSON coordinates are rounded to 7.
TOLERANCE = 1.5e-6

GPKG_APPLICATION_ID = 0x47504B47
VALIDATE_GPKG_PATHS = [
    Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"),
    Path("/usr/share/doc/python3-gdal/examples/validate_gpkg.py"),
]


class Report:
    def __init__(self, quiet):
        self.quiet = quiet
        self.failures = []
        self.notes = []
        self.checked = 0

    def fail(self, path, message):
        self.failures.append(f"FAIL {path}: {message}")
        print(self.failures[-1])

    def note(self, message):
        if message not in self.notes:
            self.notes.append(message)
            print(f"NOTE {message}")

    def ok(self, path, message):
        if not self.quiet:
            print(f"ok   {path}: {message}")


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def close(a, b):
    return abs(a - b) <= TOLERANCE


def same_extent(a, b):
    if a is None or b is None:
        return a is None and b is None
    return all(close(x, y) for x, y in zip(a, b))


def fmt_extent(e):
    return "none" if e is None else "[" + ", ".join(f"{v:.7f}" for v in e) + "]"


def expected_for(path):
    """The expectations for this file's stem from expected.json next to it, or None."""
    exp = path.parent / "expected.json"
    if not exp.is_file():
        return None
    try:
        return json.loads(exp.read_text(encoding="utf-8")).get(path.stem)
    except (ValueError, OSError):
        return None


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


_gdal_formats = None


def gdal_has_driver(name):
    global _gdal_formats
    if _gdal_formats is None:
        if shutil.which("ogrinfo") is None:
            _gdal_formats = ""
        else:
            _gdal_formats = run(["ogrinfo", "--formats"]).stdout
    return re.search(rf"^\s*{re.escape(name)}\s", _gdal_formats, re.M) is not None


def ogrinfo(path, report):
    """[{name, count, extent, geometry}] as GDAL reports them, or None on failure."""
    if shutil.which("ogrinfo") is None:
        report.fail(path, "ogrinfo not found (apt-get install gdal-bin)")
        return None
    proc = run(["ogrinfo", "-ro", "-al", "-so", str(path)])
    for line in proc.stderr.splitlines():
        if line.startswith("Warning"):
            report.note(f"{path.name}: GDAL {line.strip()}")
    if proc.returncode != 0 or "successful" not in proc.stdout:
        report.fail(path, f"ogrinfo cannot open it: {proc.stderr.strip() or proc.stdout.strip()}")
        return None
    if "ERROR" in proc.stderr:
        report.fail(path, f"ogrinfo reported errors: {proc.stderr.strip()}")
    layers = []
    for block in re.split(r"^Layer name: ", proc.stdout, flags=re.M)[1:]:
        name = block.splitlines()[0].strip()
        count = re.search(r"^Feature Count: (-?\d+)", block, re.M)
        extent = re.search(
            r"^Extent: \(([-\d.e+]+), ([-\d.e+]+)\) - \(([-\d.e+]+), ([-\d.e+]+)\)", block, re.M
        )
        geometry = re.search(r"^Geometry: (.+)$", block, re.M)
        layers.append(
            {
                "name": name,
                "count": int(count.group(1)) if count else None,
                "extent": [float(extent.group(i)) for i in range(1, 5)] if extent else None,
                "geometry": geometry.group(1) if geometry else None,
            }
        )
    if len(layers) != 1:
        report.fail(path, f"expected one layer, GDAL sees {len(layers)}")
        return None
    return layers[0]


def ring_area2(ring):
    """Twice the signed area (shoelace): positive when counter-clockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:]))


def decimals(v):
    text = repr(float(v))
    if "e" in text or "E" in text:
        mantissa, exp = re.split("[eE]", text)
        frac = mantissa.split(".")[1] if "." in mantissa else ""
        return max(0, len(frac.rstrip("0")) - int(exp))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def positions(geometry):
    """Every position of a GeoJSON geometry."""
    t = geometry["type"]
    c = geometry.get("coordinates")
    if t == "Point":
        yield c
    elif t in ("MultiPoint", "LineString"):
        yield from c
    elif t in ("MultiLineString", "Polygon"):
        for part in c:
            yield from part
    elif t == "MultiPolygon":
        for poly in c:
            for ring in poly:
                yield from ring
    elif t == "GeometryCollection":
        for g in geometry["geometries"]:
            yield from positions(g)
    else:
        raise ValueError(f"unknown geometry type {t!r}")


def polygons(geometry):
    t = geometry["type"]
    if t == "Polygon":
        yield geometry["coordinates"]
    elif t == "MultiPolygon":
        yield from geometry["coordinates"]
    elif t == "GeometryCollection":
        for g in geometry["geometries"]:
            yield from polygons(g)


_geojson_cache = {}


def geojson_facts(path):
    """(features, features with geometry, extent, failures) computed from the JSON."""
    if path in _geojson_cache:
        return _geojson_cache[path]
    problems = []
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("type") != "FeatureCollection":
        problems.append(f"type is {doc.get('type')!r}, not FeatureCollection")
    if "crs" in doc:
        problems.append("has a `crs` member (RFC 7946 §4 removed it)")
    features = doc.get("features", [])
    with_geometry = 0
    xs, ys = [], []
    for i, f in enumerate(features, 1):
        if f.get("type") != "Feature":
            problems.append(f"feature {i}: type {f.get('type')!r}")
            continue
        if "properties" not in f:
            problems.append(f"feature {i}: no `properties` member")
        g = f.get("geometry")
        if g is None:
            continue
        pts = list(positions(g))
        if not pts:
            continue
        with_geometry += 1
        for p in pts:
            if len(p) < 2 or not all(isinstance(v, (int, float)) for v in p):
                problems.append(f"feature {i}: bad position {p!r}")
                continue
            if decimals(p[0]) > 7 or decimals(p[1]) > 7:
                problems.append(f"feature {i}: more than 7 decimals in {p!r}")
            if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
                problems.append(f"feature {i}: {p!r} is not longitude/latitude")
            xs.append(p[0])
            ys.append(p[1])
        for poly in polygons(g):
            for k, ring in enumerate(poly):
                area = ring_area2(ring)
                if area == 0:
                    continue
                if k == 0 and area < 0:
                    problems.append(f"feature {i}: exterior ring is clockwise")
                if k > 0 and area > 0:
                    problems.append(f"feature {i}: hole {k} is counter-clockwise")
    extent = [min(xs), min(ys), max(xs), max(ys)] if xs else None
    facts = (len(features), with_geometry, extent, problems)
    _geojson_cache[path] = facts
    return facts


def compare_expected(path, report, count, extent=None, count_key="features", has_extent=True):
    exp = expected_for(path)
    if exp is None:
        return
    if count_key in exp and count != exp[count_key]:
        report.fail(path, f"{count} features, expected {exp[count_key]} ({count_key})")
    if has_extent and "extent" in exp and not same_extent(extent, exp["extent"]):
        report.fail(path, f"extent {fmt_extent(extent)}, expected {fmt_extent(exp['extent'])}")


def sibling(path, ext):
    s = path.with_suffix(ext)
    return s if s.is_file() else None


# ---------------------------------------------------------------------------------------
# Per-format checks
# ---------------------------------------------------------------------------------------


def check_geojson(path, report):
    try:
        count, with_geometry, extent, problems = geojson_facts(path)
    except (ValueError, KeyError, TypeError) as e:
        report.fail(path, f"not valid GeoJSON: {e}")
        return
    for p in problems:
        report.fail(path, p)
    layer = ogrinfo(path, report)
    if layer is None:
        return
    if layer["count"] != count:
        report.fail(path, f"GDAL counts {layer['count']} features, the JSON has {count}")
    if not same_extent(layer["extent"], extent):
        report.fail(
            path, f"GDAL extent {fmt_extent(layer['extent'])} != computed {fmt_extent(extent)}"
        )
    compare_expected(path, report, count, extent)
    report.ok(path, f"{count} features, extent {fmt_extent(extent)}")


def check_fgb(path, report):
    layer = ogrinfo(path, report)
    if layer is None:
        return
    compare_expected(path, report, layer["count"], layer["extent"], "features_with_geometry")
    geojson = sibling(path, ".geojson")
    if geojson is not None:
        try:
            _, with_geometry, extent, _ = geojson_facts(geojson)
        except (ValueError, KeyError, TypeError):
            with_geometry, extent = None, None
        if with_geometry is not None and layer["count"] != with_geometry:
            report.fail(
                path,
                f"{layer['count']} features, the GeoJSON has {with_geometry} with a geometry",
            )
        if with_geometry and not same_extent(layer["extent"], extent):
            report.fail(
                path,
                f"extent {fmt_extent(layer['extent'])} != GeoJSON {fmt_extent(extent)}",
            )
    report.ok(path, f"{layer['count']} features ({layer['geometry']})")


def run_validate_gpkg(path, report):
    script = next((p for p in VALIDATE_GPKG_PATHS if p.is_file()), None)
    if script is None:
        report.note("GDAL's validate_gpkg.py not found (apt-get install python3-gdal): skipped")
        return
    # The script needs the GDAL Python bindings, which live with the system interpreter.
    for python in ("/usr/bin/python3", sys.executable):
        probe = run([python, "-c", "import osgeo.gdal"])
        if probe.returncode == 0:
            proc = run([python, str(script), str(path)])
            if proc.returncode != 0:
                lines = (proc.stderr or proc.stdout).strip().splitlines() or ["failed"]
                report.fail(path, f"validate_gpkg.py: {lines[-1]}")
            return
    report.note("no Python with GDAL bindings for validate_gpkg.py: skipped")


def check_gpkg(path, report):
    with open(path, "rb") as f:
        header = f.read(100)
    if not header.startswith(b"SQLite format 3\x00"):
        report.fail(path, "not an SQLite database")
        return
    application_id = int.from_bytes(header[68:72], "big")
    user_version = int.from_bytes(header[60:64], "big")
    if application_id != GPKG_APPLICATION_ID:
        report.fail(path, f"application_id 0x{application_id:08X}, expected 0x47504B47")
    if not 10200 <= user_version < 20000:
        report.fail(path, f"user_version {user_version} is not a GeoPackage 1.x version")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            report.fail(path, f"integrity_check: {integrity}")
        tables = db.execute(
            "SELECT table_name, min_x, min_y, max_x, max_y FROM gpkg_contents "
            "WHERE data_type = 'features'"
        ).fetchall()
        if len(tables) != 1:
            report.fail(path, f"{len(tables)} feature tables, expected 1")
            return
        table, *bbox = tables[0]
        rows = db.execute(f'SELECT count(*) FROM "{table.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
        srs = {r[0] for r in db.execute("SELECT srs_id FROM gpkg_spatial_ref_sys")}
        if not {-1, 0, 4326} <= srs:
            report.fail(path, f"gpkg_spatial_ref_sys lacks required rows: has {sorted(srs)}")
        gc = db.execute(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
        ).fetchone()
        if gc is None or gc[1] != 4326:
            report.fail(path, f"gpkg_geometry_columns row for {table!r}: {gc}")
        if gc is not None:
            rtree = db.execute(
                "SELECT count(*) FROM gpkg_extensions WHERE table_name = ? AND column_name = ? "
                "AND extension_name = 'gpkg_rtree_index'",
                (table, gc[0]),
            ).fetchone()[0]
            if rtree != 1:
                report.fail(path, "no gpkg_rtree_index extension row: the layer is not indexed")
    except sqlite3.Error as e:
        report.fail(path, f"SQLite: {e}")
        return
    finally:
        db.close()
    contents_extent = None if bbox[0] is None else list(bbox)

    layer = ogrinfo(path, report)
    if layer is not None:
        if layer["count"] != rows:
            report.fail(path, f"GDAL counts {layer['count']} features, the table has {rows} rows")
        if not same_extent(layer["extent"], contents_extent):
            report.fail(
                path,
                f"GDAL extent {fmt_extent(layer['extent'])} != gpkg_contents "
                f"{fmt_extent(contents_extent)}",
            )
    compare_expected(path, report, rows, contents_extent)
    geojson = sibling(path, ".geojson")
    if geojson is not None:
        try:
            count, _, extent, _ = geojson_facts(geojson)
            if count != rows:
                report.fail(path, f"{rows} rows, the GeoJSON has {count} features")
            if not same_extent(contents_extent, extent):
                report.fail(
                    path, f"extent {fmt_extent(contents_extent)} != GeoJSON {fmt_extent(extent)}"
                )
        except (ValueError, KeyError, TypeError):
            pass
    run_validate_gpkg(path, report)
    report.ok(path, f"table {table!r}, {rows} rows, extent {fmt_extent(contents_extent)}")


def check_parquet(path, report):
    try:
        import pyarrow.parquet as pq
        import pyarrow as pa
    except ImportError:
        report.fail(path, "pyarrow is not installed (pip install pyarrow)")
        return
    try:
        pf = pq.ParquetFile(path)
        table = pf.read()
    except Exception as e:  # pyarrow raises several exception types
        report.fail(path, f"pyarrow cannot read it: {e}")
        return
    rows = table.num_rows
    kv = pf.metadata.metadata or {}
    geo_raw = kv.get(b"geo")
    if geo_raw is None:
        report.fail(path, "no `geo` key in the file metadata: not GeoParquet")
        return
    try:
        geo = json.loads(geo_raw)
    except ValueError as e:
        report.fail(path, f"`geo` metadata is not JSON: {e}")
        return
    version = geo.get("version", "")
    if not re.fullmatch(r"1\.\d+\.\d+(-.+)?", version):
        report.fail(path, f"geo.version {version!r}")
    primary = geo.get("primary_column")
    columns = geo.get("columns", {})
    if primary not in columns:
        report.fail(path, f"primary_column {primary!r} not described in geo.columns")
        return
    if primary not in table.column_names:
        report.fail(path, f"primary_column {primary!r} is not a column of the file")
        return
    if not (pa.types.is_binary(table.schema.field(primary).type)
            or pa.types.is_large_binary(table.schema.field(primary).type)
            or pa.types.is_binary_view(table.schema.field(primary).type)):
        report.fail(path, f"{primary} has type {table.schema.field(primary).type}, not binary")
    spec = columns[primary]
    if spec.get("encoding") != "WKB":
        report.fail(path, f"encoding {spec.get('encoding')!r}, expected WKB")
    known = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
             "GeometryCollection"}
    types = spec.get("geometry_types")
    if not isinstance(types, list) or any(t.removesuffix(" Z") not in known for t in types):
        report.fail(path, f"geometry_types {types!r}")
    if "crs" in spec and spec["crs"] is None:
        report.note(f"{path.name}: crs is null (undefined CRS)")
    bbox = spec.get("bbox")
    compare_expected(path, report, rows, bbox)
    geojson = sibling(path, ".geojson")
    if geojson is not None:
        try:
            count, _, extent, _ = geojson_facts(geojson)
            if count != rows:
                report.fail(path, f"{rows} rows, the GeoJSON has {count} features")
            if not same_extent(bbox, extent):
                report.fail(path, f"bbox {fmt_extent(bbox)} != GeoJSON {fmt_extent(extent)}")
        except (ValueError, KeyError, TypeError):
            pass
    if gdal_has_driver("Parquet"):
        layer = ogrinfo(path, report)
        if layer is not None and layer["count"] != rows:
            report.fail(path, f"GDAL counts {layer['count']} features, pyarrow {rows} rows")
    else:
        report.note("GDAL has no Parquet driver here (Debian 12's GDAL 3.6 lacks it): "
                    "ogrinfo check of .parquet skipped")
    report.ok(path, f"{rows} rows, geo {version}, {primary}: {types}, bbox {fmt_extent(bbox)}")


def csv_rows(path):
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    return raw, text, list(csv.reader(io.StringIO(text, newline="")))


def check_csv(path, report):
    try:
        raw, text, rows = csv_rows(path)
    except UnicodeDecodeError as e:
        report.fail(path, f"not UTF-8: {e}")
        return
    except csv.Error as e:
        report.fail(path, f"not parseable CSV: {e}")
        return
    if raw.startswith(b"\xef\xbb\xbf"):
        report.fail(path, "starts with a BOM")
    if not rows:
        report.fail(path, "no header row")
        return
    # Every LF must end a record with CR before it, except LFs inside quoted fields.
    embedded = sum(field.count("\n") for row in rows for field in row)
    bare = len(re.findall(r"(?<!\r)\n", text))
    if bare != embedded or not text.endswith("\r\n"):
        report.fail(path, f"records do not all end with CRLF ({bare - embedded} bare LF)")
    header = rows[0]
    if len(set(header)) != len(header) or any(h == "" for h in header):
        report.fail(path, f"header names empty or repeated: {header}")
    ragged = [i for i, r in enumerate(rows[1:], 2) if len(r) != len(header)]
    if ragged:
        report.fail(path, f"records with a different field count: lines {ragged[:5]}")
    compare_expected(path, report, len(rows) - 1, has_extent=False)
    report.ok(path, f"{len(rows) - 1} records, {len(header)} columns")


def check_json(path, report):
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        report.fail(path, f"not valid JSON: {e}")
        return
    csv_path = sibling(path, ".csv")
    if not isinstance(doc, list) or (csv_path is None and expected_for(path) is None):
        # Not a row array published beside a CSV (a manifest, a TileJSON...): parsing is
        # all there is to check.
        report.ok(path, "valid JSON")
        return
    if not all(isinstance(r, dict) for r in doc):
        report.fail(path, "a row array must hold only objects")
        return
    compare_expected(path, report, len(doc), has_extent=False)
    if csv_path is not None:
        try:
            _, _, rows = csv_rows(csv_path)
        except (UnicodeDecodeError, csv.Error):
            rows = None
        if rows:
            if len(rows) - 1 != len(doc):
                report.fail(path, f"{len(doc)} objects, the CSV has {len(rows) - 1} records")
            for i, obj in enumerate(doc, 1):
                if list(obj.keys()) != rows[0]:
                    report.fail(path, f"object {i} keys {list(obj.keys())} != CSV header {rows[0]}")
                    break
    report.ok(path, f"{len(doc)} objects")


CHECKS = {
    ".geojson": check_geojson,
    ".fgb": check_fgb,
    ".gpkg": check_gpkg,
    ".parquet": check_parquet,
    ".csv": check_csv,
    ".json": check_json,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="directory to walk")
    parser.add_argument("--quiet", action="store_true", help="print only failures and notes")
    args = parser.parse_args()
    if not args.dir.is_dir():
        print(f"{args.dir}: not a directory", file=sys.stderr)
        return 2
    report = Report(args.quiet)
    for path in sorted(p for p in args.dir.rglob("*") if p.is_file()):
        check = CHECKS.get(path.suffix.lower())
        if check is None or path.name == "expected.json":
            continue
        report.checked += 1
        try:
            check(path, report)
        except Exception as e:  # a crash in one check must not hide the others
            report.fail(path, f"checker crashed: {type(e).__name__}: {e}")
    print(f"{report.checked} files checked, {len(report.failures)} failures, "
          f"{len(report.notes)} notes")
    if report.checked == 0:
        print("nothing to check", file=sys.stderr)
        return 1
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
