#!/usr/bin/env python3
"""Writes the vocabulary tables that src/catalog/terms.rs embeds, from the staged copies of
the AgID and ISTAT vocabularies (see /work/shared/data/SOURCES.md).

usage: make_tables.py SHARED_DATA_DIR OUT_DIR

- istat_cities.txt: one line per municipality of the ISTAT "Elenco comuni italiani" 2023,
  `<ISTAT code> <start of validity>` (fixed width, sorted by code), the start of validity
  being the one of the current record of the AgID territorial-classifications/cities
  vocabulary: together they form the vocabulary's URI
  https://w3id.org/italia/controlled-vocabulary/territorial-classifications/cities/<code>-(<date>).
  When AgID lists two current records for a code, the later one is kept.
- eurovoc_subthemes.tsv: the AgID theme → sub-theme mapping (EuroVoc URI, EU theme code,
  Italian and English labels), tab-separated, sorted by URI.
"""
import csv
import sys
from pathlib import Path

data, out = Path(sys.argv[1]), Path(sys.argv[2])

istat = set()
with open(data / "reference/Elenco-comuni-italiani_2023_istat_cp1252.csv", encoding="cp1252", newline="") as f:
    rows = csv.reader(f, delimiter=";")
    next(rows)
    for r in rows:
        if len(r) > 4 and len(r[4]) == 6:
            istat.add(r[4])

current = {}
with open(data / "dcat/vocabularies/agid_cities.csv", encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        if r["DATA_FINE_VALIDITA"] != "31-12-9999" or r["CODICE_COMUNE"] not in istat:
            continue
        d, m, y = r["DATA_INIZIO_VALIDITA"].split("-")
        iso = f"{y}-{m}-{d}"
        code = r["CODICE_COMUNE"]
        current[code] = max(current.get(code, iso), iso)

with open(out / "istat_cities.txt", "w", encoding="ascii", newline="\n") as f:
    for code in sorted(current):
        f.write(f"{code} {current[code]}\n")

rows = []
with open(data / "dcat/vocabularies/agid_theme-subtheme-mapping.csv", encoding="utf-8", newline="") as f:
    for r in csv.DictReader(f):
        rows.append((r["uri_2_livello"], r["codice_1_livello"], r["label_2_livello_it"], r["label_2_livello_en"]))
with open(out / "eurovoc_subthemes.tsv", "w", encoding="utf-8", newline="\n") as f:
    for row in sorted(rows):
        assert all("\t" not in c and "\n" not in c for c in row)
        f.write("\t".join(row) + "\n")
print(f"{len(current)} municipalities, {len(rows)} sub-themes")
