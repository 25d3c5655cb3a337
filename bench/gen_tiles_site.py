#!/usr/bin/env python3
"""Writes the Portale site of the tiling benchmark around a GeoJSON file.

    python3 bench/gen_tiles_site.py SOURCE.geojson OUT_DIR [MIN_ZOOM MAX_ZOOM]

writes

    OUT_DIR/catalog/catalog.toml                         a catalogue (no territory box)
    OUT_DIR/datasets/comuni-italia/dataset.toml          the recipe (docs/RECIPES.md)
    OUT_DIR/datasets/comuni-italia/comuni-italia.geojson a byte-for-byte copy of SOURCE

The recipe keeps every property of the source (so Portale's tiles carry the same
attributes as tippecanoe's, which keeps them all), declares the code columns as strings
(`001001` keeps its leading zeros, as in the GeoJSON), turns the territory check off (the
municipalities of all of Italy are not inside one municipality's box), asks only for CSV
among the data formats (so a build does little besides reading, validating and tiling)
and sets the zoom range with `[tiles]`.

Pitfall: `[tiles]` is only understood by a Portale with the tiler; an older binary rejects
the recipe (strict parsing), which is why bench/tiles.sh --tippecanoe-only never runs
Portale.
"""

import os
import shutil
import sys

DATASET = "comuni-italia"

CATALOG = """\
# Catalogue of the tiling benchmark site (bench/gen_tiles_site.py). Format: docs/RECIPES.md.

[catalog]
title = "Benchmark: confini dei comuni italiani"
description = "Sito generato da bench/gen_tiles_site.py per misurare la produzione delle tessere vettoriali."
base_url = "http://127.0.0.1:8080"
homepage = "https://www.comune.capannori.lu.it"
languages = ["it"]
default_license = "A21_CCBY40"

[publisher]
name = "Comune di Capannori"
ipa = "c_b648"

[contact_point]
name = "Ufficio Sistemi Informativi"
email = "opendata@comune.capannori.lu.it"
"""

RECIPE = """\
# Recipe of the tiling benchmark (bench/gen_tiles_site.py). Format: docs/RECIPES.md.
# Source: openpolis/geojson-italy (ISTAT 2023 limits, CC-BY 4.0), see
# /work/shared/data/SOURCES.md, benchmark/limits_IT_municipalities_2023.geojson.

[dataset]
title = "Confini dei comuni italiani (ISTAT 2023)"
description = "I confini amministrativi generalizzati dei comuni italiani, limiti ISTAT 2023 (Openpolis, CC-BY 4.0)."
themes = ["REGI"]
keywords = ["confini", "comuni"]
frequency = "ANNUAL"
rights_holder = {{ name = "Istituto Nazionale di Statistica - ISTAT", ipa = "istat" }}
demo_data = false

[source]
files = ["{dataset}.geojson"]
format = "geojson"

[schema]
keep_unlisted = true

[[column]]
source = "com_istat_code"
type = "string"
required = true
unique = true

[[column]]
source = "prov_istat_code"
type = "string"

[[column]]
source = "reg_istat_code"
type = "string"

[geometry]
check_territory = false

[output]
formats = ["csv"]

[tiles]
min_zoom = {min_zoom}
max_zoom = {max_zoom}
"""


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: gen_tiles_site.py SOURCE.geojson OUT_DIR [MIN_ZOOM MAX_ZOOM]")
    source, out = sys.argv[1], sys.argv[2]
    min_zoom, max_zoom = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) == 5 else (0, 12)
    if not 0 <= min_zoom <= max_zoom:
        sys.exit(f"gen_tiles_site.py: bad zoom range {min_zoom}-{max_zoom}")
    ds_dir = os.path.join(out, "datasets", DATASET)
    os.makedirs(os.path.join(out, "catalog"), exist_ok=True)
    os.makedirs(ds_dir, exist_ok=True)
    with open(os.path.join(out, "catalog", "catalog.toml"), "w", encoding="utf-8") as f:
        f.write(CATALOG)
    with open(os.path.join(ds_dir, "dataset.toml"), "w", encoding="utf-8") as f:
        f.write(RECIPE.format(dataset=DATASET, min_zoom=min_zoom, max_zoom=max_zoom))
    shutil.copyfile(source, os.path.join(ds_dir, DATASET + ".geojson"))


if __name__ == "__main__":
    main()
