#!/usr/bin/env python3
"""Deterministic generator of the ETL benchmark's input: an Italian-style CSV and a Portale
site around it.

    python3 bench/gen_csv.py N OUT_DIR

writes

    OUT_DIR/catalog/catalog.toml          the demo catalogue (Comune di Capannori)
    OUT_DIR/datasets/bench/dataset.toml   the recipe (docs/RECIPES.md)
    OUT_DIR/datasets/bench/bench.csv      N rows, as municipal software exports them

The CSV is what a municipal back office writes: Windows-1252, `;` separator, CRLF line
ends, comma decimals (`1625432,18`), `.` thousands in amounts (`1.234,50`), dd/mm/yyyy
dates, accented text, a code with leading zeros (`046007`), and Gauss-Boaga coordinates
(EPSG:3003) inside E 1,619,000-1,633,000, N 4,845,000-4,867,000 (Capannori).

Determinism: no RNG seeded from time, and not even Python's `random`, whose methods have
changed between versions. Every value comes from splitmix64 of the row number, so the same
N gives the same bytes on any machine and Python 3 version, and the first rows of a large
file equal the rows of a small one.
"""

import datetime
import os
import sys

MASK = (1 << 64) - 1

# ISTAT codes of the 33 municipalities of the province of Lucca (046001-046036, with gaps:
# the merged ones are missing), as text with their leading zero.
CODICI = [
    "046001", "046002", "046003", "046004", "046005", "046006", "046007", "046008",
    "046009", "046010", "046011", "046013", "046014", "046015", "046016", "046017",
    "046018", "046019", "046020", "046021", "046022", "046023", "046024", "046025",
    "046026", "046027", "046028", "046029", "046030", "046031", "046033", "046035",
    "046036",
]

# Frazioni of Capannori (with the apostrophes and accents the real names have).
FRAZIONI = [
    "Capannori", "Lammari", "Marlia", "Segromigno in Monte", "Segromigno in Piano",
    "Camigliano", "San Colombano", "Lunata", "Tassignano", "Toringo", "Colognora di Compito",
    "Ruota", "Gragnano", "San Gennaro", "Matraia", "Valgiano", "Pieve di Compito",
    "Sant'Andrea di Compito", "Castelvecchio di Compito", "Massa Macinaia", "Guamo", "Vorno",
    "Coselli", "Verciano", "Paganico", "Carraia", "Badia di Cantignano", "Parezzana",
    "Pieve San Paolo", "San Ginese di Compito", "Colle di Compito", "Santa Margherita",
    "Zone", "Sant'Andrea in Caprile", "Tofori", "Petrognano",
]

TIPI = [
    "Caffè", "Società Agricola", "Pasticceria", "Libreria", "Farmacia", "Attività Artigiana",
    "Edicola", "Ferramenta", "Trattoria", "Falegnameria", "Lavanderia", "Calzoleria",
    "Macelleria", "Gelateria", "Università Popolare", "Associazione Pro Loco",
]
NOMI = [
    "dell'Angolo", "di Niccolò", "La Città", "Perù", "del Borgo", "Santa Lucia", "Ai Tigli",
    "Garibaldi", "L'Àncora", "Così Com'è", "del Ponte", "Bellavista", "Da Mirò", "Il Glicine",
    "Gioventù", "Lucchese",
]

E_MIN, E_MAX = 1_619_000, 1_633_000
N_MIN, N_MAX = 4_845_000, 4_867_000
DAY0 = datetime.date(2000, 1, 1)
DAYS = (datetime.date(2025, 12, 31) - DAY0).days + 1

HEADER = ["ID", "CODICE", "DENOMINAZIONE", "FRAZIONE", "DATA", "IMPORTO", "COORD_X", "COORD_Y"]


def splitmix64(x):
    """The splitmix64 mixer: a well-distributed 64-bit hash of x."""
    z = (x + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def comma(value_cents):
    """1234 cents -> '12,34' (no thousands separator: how coordinates are exported)."""
    return f"{value_cents // 100},{value_cents % 100:02d}"


def importo(cents):
    """123450 cents -> '1.234,50' (dot thousands, comma decimals)."""
    euros = f"{cents // 100:,}".replace(",", ".")
    return f"{euros},{cents % 100:02d}"


def row(i):
    """The fields of row i (1-based), as text."""
    h = [splitmix64(i * 8 + k) for k in range(8)]
    codice = CODICI[h[0] % len(CODICI)]
    denominazione = f"{TIPI[h[1] % len(TIPI)]} {NOMI[(h[1] >> 16) % len(NOMI)]} n. {h[1] >> 40 & 0x3FF}"
    frazione = FRAZIONI[h[2] % len(FRAZIONI)]
    data = (DAY0 + datetime.timedelta(days=h[3] % DAYS)).strftime("%d/%m/%Y")
    cents = h[4] % 500_000_00  # up to 499.999,99 euro
    x = E_MIN * 100 + h[5] % ((E_MAX - E_MIN) * 100 + 1)
    y = N_MIN * 100 + h[6] % ((N_MAX - N_MIN) * 100 + 1)
    return [str(i), codice, denominazione, frazione, data, importo(cents), comma(x), comma(y)]


CATALOG = """\
# Catalogue of the ETL benchmark site (bench/gen_csv.py): the demo catalogue of the Comune
# di Capannori. Format: docs/RECIPES.md.

[catalog]
title = "Dati aperti del Comune di Capannori (benchmark)"
description = "Catalogo generato da bench/gen_csv.py per il benchmark ETL di Portale contro ogr2ogr: contiene un solo dataset dimostrativo con dati inventati."
base_url = "http://127.0.0.1:8080"
homepage = "https://www.comune.capannori.lu.it"
languages = ["it", "en"]
default_license = "A21_CCBY40"
istat_code = "046007"
territory_bbox = [10.486, 43.749, 10.659, 43.943]

[publisher]
name = "Comune di Capannori"
ipa = "c_b648"

[contact_point]
name = "Ufficio Sistemi Informativi"
email = "opendata@comune.capannori.lu.it"
url = "https://www.comune.capannori.lu.it"
"""

RECIPE = """\
# DEMO DATA (bench/gen_csv.py, {n} rows): the input of the ETL benchmark (bench/etl.sh),
# an export as municipal software writes it (Windows-1252, ";", CRLF, comma decimals,
# dd/mm/yyyy, EPSG:3003). Format: docs/RECIPES.md.

[dataset]
title = "Benchmark ETL: pratiche dimostrative"
description = "Tabella generata da bench/gen_csv.py per misurare Portale contro ogr2ogr sulla stessa conversione. Dati dimostrativi: nomi, codici, importi e posizioni sono inventati."
themes = ["GOVE"]
keywords = ["benchmark", "dati dimostrativi"]
frequency = "IRREG"
demo_data = true

[source]
files = ["bench.csv"]
format = "csv"
encoding = "windows-1252"
delimiter = ";"
decimal = ","
date_format = "%d/%m/%Y"
header_row = 1

[schema]
keep_unlisted = false

[[column]]
source = "ID"
name = "id"
type = "integer"
description = "Identificativo della pratica"
required = true

[[column]]
source = "CODICE"
name = "codice"
type = "string"
description = "Codice ISTAT del Comune (testo, con lo zero iniziale)"

[[column]]
source = "DENOMINAZIONE"
name = "denominazione"
type = "string"
description = "Denominazione"

[[column]]
source = "FRAZIONE"
name = "frazione"
type = "string"
description = "Frazione"

[[column]]
source = "DATA"
name = "data"
type = "date"
description = "Data della pratica"

[[column]]
source = "IMPORTO"
name = "importo"
type = "number"
description = "Importo in euro"

[[column]]
source = "COORD_X"
name = "coord_x"
type = "number"
description = "Coordinata est Gauss-Boaga (EPSG:3003), in metri"
required = true

[[column]]
source = "COORD_Y"
name = "coord_y"
type = "number"
description = "Coordinata nord Gauss-Boaga (EPSG:3003), in metri"
required = true

[geometry]
x = "COORD_X"
y = "COORD_Y"
crs = 3003
check_territory = false

[output]
formats = ["csv", "geojson", "geoparquet", "fgb"]
name = "bench"
"""


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main(argv):
    if len(argv) != 3 or not argv[1].isdigit() or int(argv[1]) < 1:
        sys.stderr.write("usage: gen_csv.py N OUT_DIR   (N >= 1 rows)\n")
        return 2
    n, out = int(argv[1]), argv[2]
    write_text(os.path.join(out, "catalog", "catalog.toml"), CATALOG)
    ds = os.path.join(out, "datasets", "bench")
    write_text(os.path.join(ds, "dataset.toml"), RECIPE.format(n=n))
    csv_path = os.path.join(ds, "bench.csv")
    tmp = csv_path + ".tmp"
    # Fields never contain ';', '"' or line breaks, so joining is exact CSV.
    with open(tmp, "w", encoding="cp1252", newline="") as f:
        f.write(";".join(HEADER) + "\r\n")
        batch = []
        for i in range(1, n + 1):
            batch.append(";".join(row(i)) + "\r\n")
            if len(batch) == 10_000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))
    os.replace(tmp, csv_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
