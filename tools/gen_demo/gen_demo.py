#!/usr/bin/env python3
"""Generate the demonstration tables of the Capannori demo catalogue.

The Comune di Capannori has no public export of its internal systems (SUAP, SUED,
school transport, waste, police fines, school canteens), so the demo ships realistic
*invented* exports of them, written the way Italian municipal software writes files:
Windows-1252, `;` separators, CRLF, comma decimals with `.` thousands, dd/mm/yyyy dates,
upper-case headers, Gauss-Boaga (EPSG:3003) coordinates with comma decimals.

Every point is drawn inside the real Capannori boundary
(datasets/confine-comunale/capannori_046007.geojson, ISTAT/Openpolis) and every file
carries a few deliberately malformed rows, each listed in malformed_rows.csv and in
README.md, so that tests can assert that the ETL rejects exactly those rows.

Run from the repository root (Python 3.11, `pip install pyproj shapely`):

    python3 tools/gen_demo/gen_demo.py           # regenerate, then verify
    python3 tools/gen_demo/gen_demo.py --check   # only verify the committed files

The output is deterministic: each dataset has its own `random.Random` seeded with a fixed
string, and the 4326 -> 3003 transformation is a fixed PROJ pipeline (EPSG:1660 Helmert,
what PROJ and cs2cs use without the IGM grids).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, shape
from shapely.ops import nearest_points

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / "datasets"
HERE = Path(__file__).resolve().parent
BOUNDARY = DATASETS / "confine-comunale" / "capannori_046007.geojson"
SCHOOLS = DATASETS / "scuole-statali" / "scuole-statali-capannori-2025-26_MIM.csv"
MALFORMED_CSV = HERE / "malformed_rows.csv"
README = HERE / "README.md"

SEED = "capannori-046007"

# Monte Mario -> WGS 84 (4), EPSG:1660, position vector; the operation PROJ 9 picks for
# EPSG:4326 -> EPSG:3003 on the mainland (checked against cs2cs). Fixed here so that the
# output does not depend on which grids a machine has installed.
PIPELINE_4326_TO_3003 = (
    "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
    "+step +proj=push +v_3 +step +proj=cart +ellps=WGS84 "
    "+step +inv +proj=helmert +x=-104.1 +y=-49.1 +z=-9.9 +rx=0.971 +ry=-2.917 +rz=0.714 "
    "+s=-11.68 +convention=position_vector "
    "+step +inv +proj=cart +ellps=intl +step +proj=pop +v_3 "
    "+step +proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=1500000 +y_0=0 +ellps=intl"
)
TO_3003 = Transformer.from_pipeline(PIPELINE_4326_TO_3003)

# The catalogue's territory_bbox (catalog/catalog.toml): the bad coordinates must fall
# outside it, since a bbox check is what rejects them.
TERRITORY_BBOX = (10.486, 43.749, 10.659, 43.943)


def to_3003(lon: float, lat: float) -> tuple[float, float]:
    x, y = TO_3003.transform(lon, lat)
    return x, y


def to_4326(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_3003.transform(x, y, direction="INVERSE")
    return lon, lat


# --------------------------------------------------------------------------- geography

BOUNDARY_4326 = shape(json.loads(BOUNDARY.read_text(encoding="utf-8"))["features"][0]["geometry"])
BOUNDARY_3003 = shapely.transform(
    BOUNDARY_4326, lambda xy: np.column_stack(TO_3003.transform(xy[:, 0], xy[:, 1])))
# Points are drawn 100 m inside the boundary, so that any correct datum shift keeps them in.
INNER = BOUNDARY_3003.buffer(-100)
# Frazione centres are kept 400 m inside (a few approximate centres fall just outside the
# generalised boundary and are pulled in).
CORE = BOUNDARY_3003.buffer(-400)


@dataclass
class Frazione:
    name: str
    lon: float
    lat: float
    weight: float  # rough share of population and activities
    streets: list[str]
    x: float = 0.0
    y: float = 0.0


# Approximate centres (WGS84) of the frazioni of Capannori. Street lists mix streets named
# in the MIM school registry (Via del Casalino, Via Lombarda, Via Cortinella, Via dei Bocchi,
# Via Sarzanese, Via di Coselli, ...) with common Italian street names.
FRAZIONI = [
    Frazione("Capannori", 10.5735, 43.8420, 6, ["Piazza Aldo Moro", "Via del Popolo", "Via Carlo Piaggia", "Via del Casalino", "Via Romana", "Via della Madonnina", "Via Guglielmo Marconi", "Via Dante Alighieri"]),
    Frazione("Lammari", 10.5600, 43.8690, 7, ["Viale Europa", "Via Lombarda", "Via Eugenio Montale", "Via delle Ville", "Via della Chiesa di Lammari", "Via Giacomo Puccini", "Via dei Pieroni", "Località Salanetti"]),
    Frazione("Marlia", 10.5480, 43.8760, 7, ["Via Cortinella", "Viale Europa", "Via delle Ville", "Via Paolinelli", "Via della Stazione", "Via Giuseppe Mazzini", "Via di Piaggiori", "Via Niccolò Tommaseo"]),
    Frazione("Segromigno in Monte", 10.5880, 43.8880, 4, ["Via del Centro", "Via delle Ville", "Via della Chiesa di Segromigno", "Via di Piaggiori", "Località Indiana", "Via di Valgiano"]),
    Frazione("Segromigno in Piano", 10.5900, 43.8640, 5, ["Via dei Bocchi", "Via di Piaggiori", "Via Romana", "Via Luigi Boccherini", "Via della Madonna", "Via di Sotto"]),
    Frazione("Camigliano", 10.6150, 43.8790, 4, ["Via Stradone di Camigliano", "Via delle Ralle", "Località Pianacce", "Via della Chiesa di Camigliano", "Via di Santa Caterina"]),
    Frazione("San Colombano", 10.6230, 43.8630, 3, ["Via di Rimortoli", "Via della Chiesa di San Colombano", "Via Pesciatina", "Via del Poggio"]),
    Frazione("Lunata", 10.5560, 43.8410, 5, ["Via Pesciatina", "Via Guido Rossa", "Via della Chiesa di Lunata", "Via di Tiglio", "Via Ciarpi", "Via Giuseppe Garibaldi"]),
    Frazione("Colle di Compito", 10.5940, 43.7880, 2, ["Via Nuova", "Via di Colle", "Via della Chiesa di Colle", "Località Le Piagge"]),
    Frazione("Pieve di Compito", 10.6040, 43.7940, 2, ["Via della Pieve", "Via di Compito", "Via del Rio Guappero", "Località San Michele"]),
    Frazione("Massa Macinaia", 10.5460, 43.7950, 2, ["Via di Massa Macinaia", "Via del Mulino", "Via della Chiesa di Massa", "Località Il Poggio"]),
    Frazione("Ruota", 10.6200, 43.7830, 1, ["Via di Ruota", "Via delle Fornaci", "Località Campo di Ruota"]),
    Frazione("San Gennaro", 10.6210, 43.9020, 1, ["Via della Chiesa di San Gennaro", "Via del Colle", "Via di Tofori"]),
    Frazione("Tofori", 10.6350, 43.8990, 1, ["Via di Tofori", "Via del Castello", "Località Pieve Vecchia"]),
    Frazione("Matraia", 10.5830, 43.9100, 1, ["Via di Matraia", "Via della Chiesa di Matraia", "Località Fontana"]),
    Frazione("Valgiano", 10.6000, 43.8950, 1, ["Via di Valgiano", "Via delle Vigne", "Località Poggio"]),
    Frazione("Zone", 10.5610, 43.8460, 2, ["Via di Zone", "Via Pesciatina", "Via della Pieve di Zone"]),
    Frazione("Tassignano", 10.5800, 43.8340, 3, ["Via dell'Aeroporto", "Via di Tassignano", "Via Fratelli Cervi", "Via Immagine dell'Osso"]),
    Frazione("Paganico", 10.5720, 43.8290, 2, ["Via di Paganico", "Via della Chiesa di Paganico", "Via Antonio Gramsci"]),
    Frazione("Toringo", 10.6030, 43.8520, 1, ["Via di Toringo", "Via del Fosso", "Via dei Pardini"]),
    Frazione("Verciano", 10.5650, 43.8320, 2, ["Via di Verciano", "Via della Libertà", "Via Giacomo Matteotti"]),
    Frazione("Gragnano", 10.6130, 43.8700, 2, ["Via della Chiesa di Gragnano", "Località Borgonuovo", "Via di Gragnano"]),
    Frazione("San Leonardo in Treponzio", 10.5230, 43.8120, 2, ["Via Sarzanese", "Via di Sottomonte", "Via della Chiesa di San Leonardo"]),
    Frazione("Badia di Cantignano", 10.5290, 43.8040, 2, ["Via di Coselli", "Via della Badia", "Via di Cantignano"]),
    Frazione("Guamo", 10.5470, 43.8090, 3, ["Via di Sottomonte", "Via di Guamo", "Via della Chiesa di Guamo", "Via Cesare Battisti"]),
    Frazione("Coselli", 10.5380, 43.8130, 1, ["Via di Coselli", "Via del Colle di Coselli"]),
    Frazione("Vorno", 10.5570, 43.8010, 2, ["Via di Vorno", "Via della Pieve di Vorno", "Località Pinta"]),
    Frazione("Carraia", 10.6100, 43.8360, 2, ["Via di Carraia", "Via del Fanucchi", "Via della Chiesa di Carraia"]),
    Frazione("Parezzana", 10.5900, 43.8230, 1, ["Via di Parezzana", "Via del Rogio"]),
    Frazione("Pieve di San Paolo", 10.5500, 43.8250, 2, ["Via di Pieve San Paolo", "Via Sant'Ermete", "Via della Canonica"]),
    Frazione("Santa Margherita", 10.6210, 43.8470, 1, ["Via di Santa Margherita", "Via Pesciatina"]),
    Frazione("Castelvecchio di Compito", 10.6110, 43.7800, 1, ["Via di Castelvecchio", "Via della Rocca"]),
    Frazione("Sant'Andrea di Compito", 10.6300, 43.7900, 1, ["Via di Sant'Andrea", "Via dei Camelieti", "Località Borgo"]),
    Frazione("San Giusto di Compito", 10.6190, 43.7980, 1, ["Via di San Giusto", "Via del Compito"]),
    Frazione("Colognora di Compito", 10.6250, 43.7730, 1, ["Via Circonvallazione", "Via di Colognora"]),
    Frazione("Lappato", 10.6050, 43.8620, 2, ["Via Sant'Antonio", "Via di Lappato"]),
    Frazione("Tempagnano", 10.5420, 43.8350, 2, ["Via di Tempagnano", "Via della Chiesa di Tempagnano"]),
    Frazione("San Ginese di Compito", 10.6480, 43.8040, 1, ["Via di San Ginese", "Via del Porto"]),
    Frazione("Petrognano", 10.6040, 43.8880, 1, ["Via di Petrognano", "Via della Fattoria"]),
    Frazione("Sant'Andrea in Caprile", 10.6340, 43.8630, 1, ["Via di Sant'Andrea in Caprile", "Via del Ponte"]),
]
FRAZ = {f.name: f for f in FRAZIONI}


def _place_frazioni() -> None:
    for f in FRAZIONI:
        x, y = to_3003(f.lon, f.lat)
        p = Point(x, y)
        if not CORE.contains(p):
            p = nearest_points(CORE, p)[0]
            # step a little further in, off the edge of the core polygon
            c = CORE.centroid
            p = Point(p.x + (c.x - p.x) * 0.02, p.y + (c.y - p.y) * 0.02)
        f.x, f.y = p.x, p.y


_place_frazioni()


def point_near(rng: random.Random, f: Frazione, sigma: float = 350.0) -> tuple[float, float]:
    """A point around a frazione centre, inside the municipality (100 m margin)."""
    for _ in range(1000):
        x = rng.gauss(f.x, sigma)
        y = rng.gauss(f.y, sigma)
        if INNER.contains(Point(x, y)):
            return round(x, 2), round(y, 2)
    raise RuntimeError(f"cannot place a point near {f.name}")


def pick_frazione(rng: random.Random) -> Frazione:
    return rng.choices(FRAZIONI, weights=[f.weight for f in FRAZIONI])[0]


# Places outside the territory bbox, for the deliberately wrong coordinates.
PISA_CENTRO = to_3003(10.4017, 43.7167)
VIAREGGIO = to_3003(10.2486, 43.8687)

# --------------------------------------------------------------------------- formatting


def it_num(value: float, decimals: int = 2, thousands: bool = True) -> str:
    """1234.5 -> '1.234,50' (Italian: comma decimals, dot thousands)."""
    s = f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"
    return s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def coord(v: float) -> str:
    """A projected coordinate as management software writes it: '1625432,18'."""
    return it_num(v, 2, thousands=False)


def it_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def rand_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


# --------------------------------------------------------------------------- people

NOMI_M = ["Marco", "Luca", "Andrea", "Francesco", "Lorenzo", "Matteo", "Giuseppe", "Paolo", "Stefano",
          "Roberto", "Simone", "Gabriele", "Tommaso", "Riccardo", "Niccolò", "Nicolò", "Alessandro",
          "Davide", "Giovanni", "Massimo", "Fabrizio", "Claudio", "Enrico", "Mauro", "Piero", "Giacomo"]
NOMI_F = ["Giulia", "Chiara", "Elena", "Sara", "Martina", "Anna", "Maria", "Federica", "Valentina",
          "Silvia", "Alessandra", "Irene", "Beatrice", "Aurora", "Francesca", "Laura", "Paola", "Cristina",
          "Monica", "Barbara", "Lucia", "Caterina", "Noemi", "Benedetta"]
COGNOMI = ["Pardini", "Lazzareschi", "Del Prete", "Giannini", "Bertolucci", "Lencioni", "Marchetti",
           "Nottoli", "Lucchesi", "Matteucci", "Puccinelli", "Pieroni", "Tognetti", "Martinelli", "Biagini",
           "Baroni", "Paoli", "Giusti", "Benedetti", "Menchini", "Franceschini", "Dinelli", "Pellegrini",
           "Bonini", "Bernardini", "Guidi", "Nieri", "Landucci", "Citti", "Della Santina", "Dell'Innocenti",
           "Ghilarducci", "Pellegrinetti", "Ricci", "Luporini", "Bianchini", "Cecchetti", "Nicolini",
           "Fanucchi", "Lunardi", "Tambellini", "Ciardella", "Giorgi", "Rossi", "Moriconi", "Bertocchini",
           "Gemignani", "Puccetti", "Orsucci", "Michelotti", "Sodini", "Petrini", "Simonetti", "Casali",
           "D'Angelo", "Esposito", "Romano", "Hoxha", "Chen"]
# Belfiore codes of birthplaces: Lucca, Capannori, Porcari, Altopascio, Pisa, Firenze, Roma,
# Napoli, Palermo, Pescia, Viareggio; Z100 Albania, Z210 China (foreign-born).
LUOGHI_NASCITA = ["E715", "E715", "E715", "B648", "B648", "G882", "A241", "G702", "D612", "H501",
                  "F839", "G273", "G491", "L833", "Z100", "Z210"]


@dataclass
class Persona:
    nome: str
    cognome: str
    femmina: bool
    nascita: date
    luogo: str

    @property
    def nome_completo(self) -> str:
        return f"{self.cognome.upper()} {self.nome.upper()}"

    @property
    def codice_fiscale(self) -> str:
        return codice_fiscale(self)


def persona(rng: random.Random, min_age: int = 20, max_age: int = 80, ref: date = date(2025, 6, 30)) -> Persona:
    femmina = rng.random() < 0.45
    nome = rng.choice(NOMI_F if femmina else NOMI_M)
    cognome = rng.choice(COGNOMI)
    nascita = rand_date(rng, ref - timedelta(days=365 * max_age), ref - timedelta(days=365 * min_age))
    return Persona(nome, cognome, femmina, nascita, rng.choice(LUOGHI_NASCITA))


def _letters(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().upper()
    return re.sub(r"[^A-Z]", "", s)


def _cf_part(s: str, is_name: bool) -> str:
    s = _letters(s)
    cons = [c for c in s if c not in "AEIOU"]
    voc = [c for c in s if c in "AEIOU"]
    if is_name and len(cons) >= 4:
        cons = [cons[0], cons[2], cons[3]]
    return ("".join(cons + voc) + "XXX")[:3]


_CF_ODD = {
    **dict(zip("0123456789", [1, 0, 5, 7, 9, 13, 15, 17, 19, 21])),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23])),
}
_CF_EVEN = {**{str(i): i for i in range(10)}, **{c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}}


def codice_fiscale(p: Persona) -> str:
    """The 16-character Italian tax code of an invented person (with a correct check letter)."""
    mesi = "ABCDEHLMPRST"
    giorno = p.nascita.day + (40 if p.femmina else 0)
    body = (_cf_part(p.cognome, False) + _cf_part(p.nome, True) + f"{p.nascita.year % 100:02d}"
            + mesi[p.nascita.month - 1] + f"{giorno:02d}" + p.luogo)
    total = sum(_CF_ODD[c] if i % 2 == 0 else _CF_EVEN[c] for i, c in enumerate(body))
    return body + chr(ord("A") + total % 26)


def targa(rng: random.Random) -> str:
    """An Italian plate in the 1994- format AA 000 AA (letters without I, O, Q, U)."""
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    first = rng.choice("BCDEFG") + rng.choice(letters)
    return f"{first}{rng.randrange(1000):03d}{rng.choice(letters)}{rng.choice(letters)}"


# --------------------------------------------------------------------------- writing and bookkeeping


@dataclass
class Bad:
    """A deliberately malformed row: inserted at `index` among the data rows."""
    row: list[str]
    column: str
    value: str
    problem: str


MALFORMED: list[dict[str, str]] = []


def write_table(dataset: str, filename: str, header: list[str], rows: list[list[str]],
                bad: list[tuple[int, Bad]]) -> Path:
    """Write a Windows-1252, `;`, CRLF table; insert the bad rows at their positions and
    record their 1-based line numbers (header = line 1)."""
    out = list(rows)
    for index, b in sorted(bad, key=lambda t: t[0]):
        out.insert(index, b.row)
    lines_of = {id(b.row): None for _, b in bad}
    for i, r in enumerate(out):
        if id(r) in lines_of:
            lines_of[id(r)] = i + 2
    for _, b in sorted(bad, key=lambda t: t[0]):
        MALFORMED.append({"dataset": dataset, "file": filename, "line": str(lines_of[id(b.row)]),
                          "column": b.column, "value": b.value, "problem": b.problem})
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(header)
    for r in out:
        assert len(r) == len(header), (filename, r)
        w.writerow(r)
    path = DATASETS / dataset / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode("cp1252"))  # strict: fails on a non-cp1252 character
    return path


def positions(rng: random.Random, n_rows: int, k: int) -> list[int]:
    """k distinct insertion points spread over the file (never before the first data row)."""
    return sorted(rng.sample(range(1, n_rows), k))


# --------------------------------------------------------------------------- 5. SUAP

ATECO = [
    # code, description, weight, (min m2, max m2) or None when there is no sales/work area
    ("47.11.10", "Ipermercati", 1, (2500, 6000)),
    ("47.11.20", "Supermercati", 4, (400, 2500)),
    ("47.11.40", "Minimercati ed altri esercizi non specializzati di alimentari vari", 10, (40, 250)),
    ("47.24.10", "Commercio al dettaglio di pane", 6, (20, 90)),
    ("47.21.01", "Commercio al dettaglio di frutta e verdura fresca", 6, (25, 120)),
    ("47.22.00", "Commercio al dettaglio di carni e di prodotti a base di carne", 5, (25, 110)),
    ("47.26.00", "Commercio al dettaglio di generi di monopolio (tabaccherie)", 6, (20, 80)),
    ("47.73.10", "Farmacie", 3, (60, 250)),
    ("47.30.00", "Commercio al dettaglio di carburante per autotrazione", 3, (30, 150)),
    ("47.71.10", "Commercio al dettaglio di confezioni per adulti", 8, (30, 400)),
    ("47.52.10", "Commercio al dettaglio di ferramenta, vernici, vetro piano e materiale elettrico e termoidraulico", 5, (60, 900)),
    ("47.62.10", "Commercio al dettaglio di giornali, riviste e periodici", 3, (15, 60)),
    ("47.76.10", "Commercio al dettaglio di fiori e piante", 4, (30, 600)),
    ("47.59.10", "Commercio al dettaglio di mobili per la casa", 4, (200, 2500)),
    ("47.64.10", "Commercio al dettaglio di articoli sportivi, biciclette e articoli per il tempo libero", 3, (60, 800)),
    ("47.81.01", "Commercio al dettaglio ambulante di prodotti ortofrutticoli", 5, None),
    ("56.10.11", "Ristorazione con somministrazione", 14, (60, 400)),
    ("56.10.20", "Ristorazione senza somministrazione con preparazione di cibi da asporto", 6, (30, 120)),
    ("56.10.30", "Gelaterie e pasticcerie", 5, (30, 150)),
    ("56.30.00", "Bar e altri esercizi simili senza cucina", 16, (30, 200)),
    ("55.10.00", "Alberghi", 2, (300, 2500)),
    ("55.20.51", "Affittacamere per brevi soggiorni, case ed appartamenti per vacanze, bed and breakfast, residence", 10, (60, 600)),
    ("96.02.01", "Servizi dei saloni di barbiere e parrucchiere", 12, (25, 120)),
    ("96.02.02", "Servizi degli istituti di bellezza", 7, (25, 150)),
    ("45.20.10", "Riparazioni meccaniche di autoveicoli", 7, (80, 600)),
    ("45.20.20", "Riparazione di carrozzerie di autoveicoli", 4, (100, 700)),
    ("93.13.00", "Gestione di palestre", 2, (150, 1200)),
    ("17.12.00", "Fabbricazione di carta e cartone", 3, (3000, 40000)),
    ("17.21.00", "Fabbricazione di carta e cartone ondulato e di imballaggi di carta e cartone", 4, (1500, 20000)),
    ("17.22.00", "Fabbricazione di prodotti igienico-sanitari e per uso domestico in carta e ovatta di cellulosa", 3, (2000, 30000)),
    ("10.71.10", "Produzione di prodotti di panetteria freschi", 4, (60, 400)),
    ("11.02.10", "Produzione di vini da tavola e v.q.p.r.d.", 3, (100, 1500)),
    ("01.21.00", "Coltivazione di uva", 3, None),
    ("01.26.00", "Coltivazione di frutti oleosi", 3, None),
    ("41.20.00", "Costruzione di edifici residenziali e non residenziali", 6, None),
    ("43.21.01", "Installazione di impianti elettrici in edifici o in altre opere di costruzione", 6, None),
    ("43.22.01", "Installazione di impianti idraulici, di riscaldamento e di condizionamento dell'aria", 6, None),
    ("49.41.00", "Trasporto di merci su strada", 5, None),
    ("49.32.10", "Trasporto con taxi", 1, None),
    ("75.00.00", "Servizi veterinari", 1, (60, 300)),
]

INSEGNE = {
    "56.30.00": ["Bar Centrale", "Bar Sport", "Caffè della Piazza", "Bar La Pieve", "Caffetteria Il Ritrovo"],
    "56.10.11": ["Trattoria", "Ristorante", "Osteria", "Pizzeria"],
    "47.24.10": ["Forno", "Panificio"],
    "96.02.01": ["Parrucchiera", "Barbiere", "Acconciature"],
    "96.02.02": ["Centro estetico", "Estetica"],
    "45.20.10": ["Autofficina", "Officina meccanica"],
    "45.20.20": ["Carrozzeria"],
    "55.20.51": ["Affittacamere", "B&B", "Casa vacanze"],
    "47.21.01": ["Frutta e verdura"],
    "47.22.00": ["Macelleria"],
    "47.26.00": ["Tabaccheria"],
    "56.10.30": ["Pasticceria", "Gelateria"],
}
FORME = ["", "", "", "", " S.n.c.", " S.a.s.", " S.r.l.", " S.r.l.s."]


def ragione_sociale(rng: random.Random, ateco: str, titolare: Persona, frazione: Frazione) -> str:
    big = ateco.startswith(("17.", "47.11.10", "47.11.20", "55.10"))
    if big:
        base = rng.choice([f"Cartiera {rng.choice(COGNOMI)}", f"{rng.choice(COGNOMI)} Group",
                           f"{rng.choice(COGNOMI)} & {rng.choice(COGNOMI)}", f"Industrie {rng.choice(COGNOMI)}"])
        if ateco.startswith("47.11"):
            base = rng.choice(["Supermercato", "Market", "Conad", "Coop", "Sigma"]) + f" {frazione.name}"
        if ateco.startswith("55.10"):
            base = f"Hotel {rng.choice(['Villa', 'Le Ville', 'La Corte', 'Il Frantoio'])} {frazione.name}"
        return base + rng.choice([" S.p.A.", " S.r.l."])
    forma = rng.choice(FORME)
    if ateco in INSEGNE and rng.random() < 0.7:
        insegna = rng.choice(INSEGNE[ateco])
        if not forma:
            return f"{insegna} di {titolare.cognome} {titolare.nome}"
        return f"{insegna} {rng.choice([titolare.cognome, frazione.name])}{forma}"
    if not forma:
        return f"{titolare.cognome} {titolare.nome}"
    if forma == " S.n.c.":
        return f"{titolare.cognome} & {rng.choice(COGNOMI)}{forma}"
    if forma == " S.a.s.":
        return f"{titolare.cognome} {titolare.nome} & C. S.a.s."
    return f"{titolare.cognome} {rng.choice(['Servizi', 'Commercio', 'Costruzioni', 'Impianti', 'Group'])}{forma}"


def civico(rng: random.Random) -> str:
    n = str(rng.randrange(1, 420))
    r = rng.random()
    if r < 0.08:
        n += "/" + rng.choice("ABC")
    elif r < 0.11:
        n = "snc"
    return n


def gen_attivita() -> None:
    rng = random.Random(SEED + "-attivita-produttive")
    header = ["COD_PRATICA", "RAGIONE_SOCIALE", "CODICE_ATECO", "DESCRIZIONE_ATTIVITA", "INDIRIZZO", "CIVICO",
              "FRAZIONE", "DATA_AVVIO", "DATA_CESSAZIONE", "STATO", "SUPERFICIE_MQ", "TITOLARE",
              "CODICE_FISCALE_TITOLARE", "COORD_X", "COORD_Y"]
    rows: list[list[str]] = []
    seq_by_year: dict[int, int] = {}
    weights = [a[2] for a in ATECO]
    # the export is sorted by practice code, i.e. by start date
    for avvio in sorted(rand_date(rng, date(1978, 1, 1), date(2025, 10, 31)) for _ in range(2000)):
        code, desc, _w, area = rng.choices(ATECO, weights=weights)[0]
        fr = pick_frazione(rng)
        if code.startswith("17."):
            fr = FRAZ[rng.choice(["Lammari", "Lunata", "Segromigno in Piano", "Carraia", "Tassignano", "Zone"])]
        seq_by_year[avvio.year] = seq_by_year.get(avvio.year, 0) + 1
        cod = f"SUAP/{avvio.year}/{seq_by_year[avvio.year]:05d}"
        r = rng.random()
        stato = "ATTIVA" if r < 0.78 else ("CESSATA" if r < 0.96 else "SOSPESA")
        cess = ""
        ref = date(2025, 6, 30)
        if stato == "CESSATA":
            end = rand_date(rng, min(avvio + timedelta(days=200), date(2025, 10, 31)), date(2025, 11, 15))
            cess, ref = it_date(end), end
        tit = persona(rng, 24, 80, ref=ref)  # the last holder, who may have taken over later
        sup = it_num(rng.uniform(*area)) if area else ""
        x, y = point_near(rng, fr, 300 if not code.startswith("17.") else 500)
        rows.append([cod, ragione_sociale(rng, code, tit, fr), code, desc, rng.choice(fr.streets), civico(rng),
                     fr.name, it_date(avvio), cess, stato, sup, tit.nome_completo, tit.codice_fiscale,
                     coord(x), coord(y)])
    pos = positions(rng, len(rows), 8)

    def variant(_n: int) -> list[str]:
        return list(rows[rng.randrange(len(rows))])

    bad: list[tuple[int, Bad]] = []
    r = variant(0); r[0] = "SUAP/2024/09001"; r[7] = "31/02/2024"
    bad.append((pos[0], Bad(r, "DATA_AVVIO", "31/02/2024", "impossible date (31 February)")))
    r = variant(1); r[0] = "SUAP/2023/09002"; r[13] = "0,00"; r[14] = "0,00"
    bad.append((pos[1], Bad(r, "COORD_X;COORD_Y", "0,00;0,00", "coordinates 0,0: far outside the territory")))
    r = variant(2); r[0] = "SUAP/2022/09003"; x, y = to_3003(10.5620, 43.8650)
    r[13], r[14] = coord(y), coord(x)
    bad.append((pos[2], Bad(r, "COORD_X;COORD_Y", f"{r[13]};{r[14]}", "easting and northing swapped: outside the territory")))
    r = variant(3); r[0] = "SUAP/2021/09004"; r[10] = "80 mq"
    bad.append((pos[3], Bad(r, "SUPERFICIE_MQ", "80 mq", "not a number in a numeric column")))
    r = variant(4); r[0] = "SUAP/2020/09005"; r[1] = ""
    bad.append((pos[4], Bad(r, "RAGIONE_SOCIALE", "", "missing required value")))
    r = variant(5); r[7] = "n.d."; r[0] = "SUAP/2019/09006"
    bad.append((pos[5], Bad(r, "DATA_AVVIO", "n.d.", "missing required value (n.d.)")))
    r = variant(6); r[9] = "CHIUSA"; r[0] = "SUAP/2018/09007"
    bad.append((pos[6], Bad(r, "STATO", "CHIUSA", "value not among the allowed ones (ATTIVA, CESSATA, SOSPESA)")))
    # a repeated key: copy an earlier good row's code (the earlier row stays valid)
    dup_of = rows[rng.randrange(pos[7] - 1)]
    r = variant(7); r[0] = dup_of[0]
    bad.append((pos[7], Bad(r, "COD_PRATICA", dup_of[0], "duplicate of an earlier COD_PRATICA (unique)")))
    write_table("attivita-produttive", "suap_attivita_produttive.csv", header, rows, bad)


# --------------------------------------------------------------------------- 6. SUED

TIPI_PRATICA = [
    ("Permesso di costruire", 14), ("Permesso di costruire in sanatoria", 4), ("SCIA", 26),
    ("SCIA alternativa al permesso di costruire", 5), ("CILA", 34), ("CILAS (Superbonus)", 10),
    ("Attestazione di conformità in sanatoria", 7),
]
INTERVENTI = [
    ("Manutenzione straordinaria", 30, False), ("Ristrutturazione edilizia conservativa", 14, False),
    ("Ristrutturazione edilizia ricostruttiva", 6, True), ("Nuova costruzione", 8, True),
    ("Ampliamento volumetrico", 8, True), ("Restauro e risanamento conservativo", 6, False),
    ("Cambio di destinazione d'uso", 5, False), ("Installazione impianto fotovoltaico", 9, False),
    ("Efficientamento energetico (cappotto termico)", 8, False), ("Recinzione e sistemazioni esterne", 6, False),
    ("Realizzazione di piscina pertinenziale", 2, True), ("Demolizione senza ricostruzione", 2, False),
]
DESTINAZIONI = ["Residenziale"] * 8 + ["Produttiva", "Commerciale", "Agricola", "Direzionale", "Turistico-ricettiva"]


def gen_permessi() -> None:
    rng = random.Random(SEED + "-permessi-edilizi")
    # NB: the trailing space in "DATA_RILASCIO " is deliberate (padded headers are common);
    # readers trim header cells.
    header = ["NUM_PRATICA", "TIPO", "DATA_PRESENTAZIONE", "DATA_RILASCIO ", "STATO_PRATICA", "INTERVENTO",
              "DESTINAZIONE_USO", "INDIRIZZO", "CIVICO", "FRAZIONE", "FOGLIO", "PARTICELLA", "VOLUME_MC",
              "RICHIEDENTE", "COORD_X", "COORD_Y"]
    rows: list[list[str]] = []
    per_year: dict[int, int] = {}
    dates = sorted(rand_date(rng, date(2019, 1, 2), date(2025, 10, 31)) for _ in range(1500))
    for pres in dates:
        per_year[pres.year] = per_year.get(pres.year, 0) + 1
        num = f"{pres.year}/{per_year[pres.year]:04d}"
        tipo = rng.choices([t for t, _ in TIPI_PRATICA], weights=[w for _, w in TIPI_PRATICA])[0]
        interv, _w, volumetric = rng.choices(INTERVENTI, weights=[w for _, w, _ in INTERVENTI])[0]
        if tipo.startswith("CILA"):
            while volumetric:
                interv, _w, volumetric = rng.choices(INTERVENTI, weights=[w for _, w, _ in INTERVENTI])[0]
        rilascio = ""
        if tipo.startswith(("Permesso", "Attestazione")):
            done = pres + timedelta(days=rng.randrange(35, 240))
            if done > date(2025, 11, 15) or rng.random() < 0.06:
                rilascio, stato = "n.d.", "In istruttoria"
            else:
                rilascio = it_date(done)
                stato = "Rilasciato" if rng.random() < 0.93 else "Diniego"
                if stato == "Diniego":
                    rilascio = "n.d."
        else:
            stato = rng.choices(["Efficace", "Archiviata", "Sospesa per integrazioni"], weights=[88, 6, 6])[0]
        vol = it_num(rng.uniform(40, 450) if interv.startswith(("Ampl", "Real")) else rng.uniform(150, 2600)) \
            if volumetric else "0,00"
        fr = pick_frazione(rng)
        x, y = point_near(rng, fr, 380)
        foglio = str(rng.randrange(1, 112))
        part = str(rng.randrange(1, 2400))
        if rng.random() < 0.05:
            part += "/" + rng.choice("ab")
        rows.append([num, tipo, it_date(pres), rilascio, stato, interv, rng.choice(DESTINAZIONI),
                     rng.choice(fr.streets), civico(rng), fr.name, foglio, part, vol,
                     persona(rng, 25, 85).nome_completo, coord(x), coord(y)])
    pos = positions(rng, len(rows), 7)

    def variant() -> list[str]:
        return list(rows[rng.randrange(len(rows))])

    bad: list[tuple[int, Bad]] = []
    r = variant(); r[0] = "2024/9001"; r[2] = "31/02/2024"
    bad.append((pos[0], Bad(r, "DATA_PRESENTAZIONE", "31/02/2024", "impossible date (31 February)")))
    r = variant(); r[0] = "2023/9002"; x, y = PISA_CENTRO; r[14], r[15] = coord(x), coord(y)
    bad.append((pos[1], Bad(r, "COORD_X;COORD_Y", f"{r[14]};{r[15]}", "point in the centre of Pisa: outside the territory")))
    r = variant(); r[0] = "2022/9003"; r[12] = "da definire"
    bad.append((pos[2], Bad(r, "VOLUME_MC", "da definire", "not a number in a numeric column")))
    r = variant(); r[0] = ""
    bad.append((pos[3], Bad(r, "NUM_PRATICA", "", "missing required value")))
    r = variant(); r[0] = "2021/9005"; r[1] = "DIA"
    bad.append((pos[4], Bad(r, "TIPO", "DIA", "value not among the allowed ones (DIA was abolished)")))
    r = variant(); r[0] = "2020/9006"; r[14] = "1625O12,40"
    bad.append((pos[5], Bad(r, "COORD_X", "1625O12,40", "letter O instead of a zero in a coordinate")))
    r = variant(); r[0] = "2025/9007"; r[2] = "15/13/2025"
    bad.append((pos[6], Bad(r, "DATA_PRESENTAZIONE", "15/13/2025", "impossible date (month 13)")))
    write_table("permessi-edilizi", "sued_pratiche_edilizie.csv", header, rows, bad)


# --------------------------------------------------------------------------- 7. school transport

# Destination schools (MIM codes) and the frazione where each stands.
ROUTES = [
    ("L01", ["Matraia", "Valgiano", "Segromigno in Monte", "Petrognano"], "LUMM835018", "Camigliano", 15),
    ("L02", ["San Gennaro", "Tofori", "Gragnano"], "LUEE83506E", "Camigliano", 12),
    ("L03", ["Santa Margherita", "Sant'Andrea in Caprile", "San Colombano", "Lappato"], "LUEE83503B", "Segromigno in Piano", 13),
    ("L04", ["Marlia", "Lammari"], "LUMM83801Q", "Lammari", 16),
    ("L05", ["Zone", "Lunata", "Tempagnano", "Pieve di San Paolo", "Verciano"], "LUMM836014", "Capannori", 15),
    ("L06", ["Toringo", "Carraia", "Parezzana"], "LUEE836048", "Capannori", 14),
    ("L07", ["Paganico", "Tassignano"], "LUEE836037", "Capannori", 11),
    ("L08", ["Badia di Cantignano", "Coselli", "Guamo"], "LUMM83701X", "San Leonardo in Treponzio", 14),
    ("L09", ["Vorno", "Massa Macinaia"], "LUEE837022", "Guamo", 12),
    ("L10", ["Colognora di Compito", "Castelvecchio di Compito", "Sant'Andrea di Compito", "Pieve di Compito"],
     "LUEE837011", "Colle di Compito", 15),
    ("L11", ["Ruota", "San Giusto di Compito"], "LUEE837044", "San Ginese di Compito", 12),
]
LANDMARKS = ["chiesa", "piazza", "scuola", "circolo", "bivio", "cimitero", "farmacia", "fontana", "ponte", "ex scuola"]


def read_schools() -> dict[str, dict[str, str]]:
    with SCHOOLS.open(encoding="utf-8", newline="") as f:
        return {r["CODICESCUOLA"]: r for r in csv.DictReader(f)}


def nearest_frazione(x: float, y: float) -> Frazione:
    return min(FRAZIONI, key=lambda f: (f.x - x) ** 2 + (f.y - y) ** 2)


def _inside_line(pts: list[tuple[float, float]]) -> bool:
    return INNER.contains(LineString(pts))


def gen_scuolabus() -> None:
    rng = random.Random(SEED + "-scuolabus")
    schools = read_schools()
    stop_header = ["COD_FERMATA", "COD_LINEA", "PROGRESSIVO", "DENOMINAZIONE FERMATA", "FRAZIONE",
                   "ORARIO_ANDATA", "ORARIO_RITORNO", "SCUOLA_DESTINAZIONE", "COORD_X", "COORD_Y"]
    route_header = ["COD_LINEA", "DESCRIZIONE", "SCUOLA_DESTINAZIONE", "DENOMINAZIONE_SCUOLA", "NUM_FERMATE",
                    "LUNGHEZZA_KM", "POSTI_MEZZO", "ORARIO_PARTENZA", "ORARIO_ARRIVO", "GEOMETRIA"]
    stops: list[list[str]] = []
    routes: list[list[str]] = []
    for code, via, school, school_fraz, n_stops in ROUTES:
        waypoints = [(FRAZ[n].x, FRAZ[n].y) for n in via] + [(FRAZ[school_fraz].x, FRAZ[school_fraz].y)]
        path = LineString(waypoints)
        if not INNER.contains(path):
            raise RuntimeError(f"route {code} leaves the municipality")
        school_xy = (round(FRAZ[school_fraz].x, 2), round(FRAZ[school_fraz].y, 2))
        pts: list[tuple[float, float]] = []
        for k in range(n_stops):
            base = path.interpolate(path.length * k / n_stops)
            for _ in range(200):
                x, y = round(rng.gauss(base.x, 60), 2), round(rng.gauss(base.y, 60), 2)
                if INNER.contains(Point(x, y)) and (not pts or _inside_line([pts[-1], (x, y)])):
                    break
            else:
                x, y = round(base.x, 2), round(base.y, 2)
            pts.append((x, y))
        line_pts = pts + [school_xy]
        length_km = LineString(line_pts).length * 1.25 / 1000  # roads are longer than the straight legs
        t = 7 * 60 + rng.randrange(5, 25)
        start = t
        ritorno_end = (16 * 60 + 15) if school.startswith("LUEE") else (13 * 60 + 5)
        times: list[int] = []
        for k in range(n_stops):
            times.append(t)
            t += rng.randrange(2, 5)
        arrival = t + rng.randrange(3, 7)
        if arrival > 8 * 60 + 10:  # keep the arrival before school starts: shift the run earlier
            shift = arrival - (8 * 60 + 5)
            times = [v - shift for v in times]
            start -= shift
            arrival -= shift
        back = ritorno_end + rng.randrange(5, 10)
        used_names: set[str] = set()
        for k, ((x, y), tt) in enumerate(zip(pts, times), start=1):
            fr = nearest_frazione(x, y)
            name = f"{fr.name} - {rng.choice(fr.streets)} ({rng.choice(LANDMARKS)})"
            while name in used_names:
                name = f"{fr.name} - {rng.choice(fr.streets)} ({rng.choice(LANDMARKS)})"
            used_names.add(name)
            ret = back + (n_stops - k) * 3
            stops.append([f"{code}-{k:02d}", code, str(k), name, fr.name, f"{tt // 60:02d}:{tt % 60:02d}",
                          f"{ret // 60:02d}:{ret % 60:02d}", school, coord(x), coord(y)])
        wkt = "LINESTRING (" + ", ".join(f"{x:.2f} {y:.2f}" for x, y in line_pts) + ")"
        desc = f"Linea {int(code[1:])} - {via[0]} / {school_fraz}"
        routes.append([code, desc, school, schools[school]["DENOMINAZIONESCUOLA"], str(n_stops),
                       it_num(length_km, 1), str(rng.choice([28, 32, 45, 54])),
                       f"{start // 60:02d}:{start % 60:02d}", f"{arrival // 60:02d}:{arrival % 60:02d}", wkt])

    pos = positions(rng, len(stops), 5)

    def vstop() -> list[str]:
        return list(stops[rng.randrange(len(stops))])

    bad: list[tuple[int, Bad]] = []
    r = vstop(); r[0] = "L04-90"; r[8] = "0"; r[9] = "0"
    bad.append((pos[0], Bad(r, "COORD_X;COORD_Y", "0;0", "coordinates 0,0: far outside the territory")))
    r = vstop(); r[0] = "L06-91"; x, y = VIAREGGIO; r[8], r[9] = coord(x), coord(y)
    bad.append((pos[1], Bad(r, "COORD_X;COORD_Y", f"{r[8]};{r[9]}", "point in Viareggio: outside the territory")))
    r = vstop(); r[0] = "L02-92"; r[1] = ""
    bad.append((pos[2], Bad(r, "COD_LINEA", "", "missing required value")))
    r = vstop(); r[0] = "L09-93"; r[9] = "4853120,5O"
    bad.append((pos[3], Bad(r, "COORD_Y", "4853120,5O", "not a number (letter O in the decimals)")))
    r = vstop(); r[0] = "L01-94"; x, y = (float(v.replace(",", ".")) for v in (r[8], r[9])); r[8], r[9] = coord(y), coord(x)
    bad.append((pos[4], Bad(r, "COORD_X;COORD_Y", f"{r[8]};{r[9]}", "easting and northing swapped: outside the territory")))
    write_table("fermate-scuolabus", "fermate_scuolabus.csv", stop_header, stops, bad)

    rpos = [3, 7, 10]
    bad = []
    r = list(routes[0]); r[0] = "L91"; r[9] = r[9][:60]
    bad.append((rpos[0], Bad(r, "GEOMETRIA", r[9], "truncated WKT (the export cut the cell at 60 characters)")))
    r = list(routes[4]); r[0] = "L92"
    lonlat = [to_4326(*(float(v) for v in p.split(" "))) for p in r[9][len("LINESTRING ("):-1].split(", ")]
    r[9] = "LINESTRING (" + ", ".join(f"{lo:.6f} {la:.6f}" for lo, la in lonlat) + ")"
    bad.append((rpos[1], Bad(r, "GEOMETRIA", r[9][:40] + "...", "WGS84 lon/lat written in an EPSG:3003 column: outside the territory")))
    r = list(routes[7]); r[0] = ""
    bad.append((rpos[2], Bad(r, "COD_LINEA", "", "missing required value")))
    write_table("percorsi-scuolabus", "percorsi_scuolabus.csv", route_header, routes, bad)


# --------------------------------------------------------------------------- 8. waste

CENTRI = [
    ("CR01", "Centro di raccolta Salanetti", "Centro di raccolta comunale", "Lunata", "Località Salanetti",
     "Lun-Sab 8:00-12:30; Mar e Gio anche 14:30-17:30",
     "Ingombranti, RAEE, Sfalci e potature, Legno, Metalli, Oli vegetali esausti, Pile e farmaci, Inerti da piccole demolizioni, Pneumatici", 2400),
    ("CR02", "Isola ecologica Marlia", "Isola ecologica", "Marlia", "Via della Stazione",
     "Mer e Sab 8:30-12:30", "Ingombranti, RAEE, Sfalci e potature, Oli vegetali esausti, Pile", 650),
    ("CR03", "Isola ecologica Guamo", "Isola ecologica", "Guamo", "Via di Guamo",
     "Mar e Ven 8:30-12:30", "Ingombranti, RAEE, Sfalci e potature, Legno, Pile e farmaci", 580),
    ("CR04", "Punto sfalci Colle di Compito", "Punto di conferimento sfalci", "Colle di Compito", "Località Le Piagge",
     "Sab 8:00-12:00 (marzo-novembre)", "Sfalci e potature", 300),
    ("CR05", "Ecofurgone Segromigno in Piano", "Ecofurgone (punto di sosta)", "Segromigno in Piano", "Via dei Bocchi",
     "1° e 3° giovedì del mese 9:00-12:00", "Piccoli RAEE, Pile, Farmaci, Oli vegetali esausti, Toner", 0),
    ("CR06", "Ecofurgone Camigliano", "Ecofurgone (punto di sosta)", "Camigliano", "Via Stradone di Camigliano",
     "2° e 4° giovedì del mese 9:00-12:00", "Piccoli RAEE, Pile, Farmaci, Oli vegetali esausti, Toner", 0),
    ("CR07", "Centro del riuso Lammari", "Centro del riuso", "Lammari", "Località Salanetti",
     "Mar, Gio e Sab 9:00-12:30", "Mobili, Oggetti in buono stato, Giocattoli, Libri, Abbigliamento", 420),
]


def gen_centri() -> None:
    rng = random.Random(SEED + "-centri-raccolta")
    header = ["CODICE", "DENOMINAZIONE", "TIPOLOGIA", "FRAZIONE", "INDIRIZZO", "GESTORE", "ORARIO APERTURA",
              "MATERIALI ACCETTATI", "SUPERFICIE_MQ", "COORD_X", "COORD_Y"]
    rows = []
    for code, name, tipo, fraz, addr, hours, mats, area in CENTRI:
        x, y = point_near(rng, FRAZ[fraz], 250)
        rows.append([code, name, tipo, fraz, addr, "Ascit S.p.A.", hours, mats,
                     it_num(area) if area else "", coord(x), coord(y)])
    bad: list[tuple[int, Bad]] = []
    r = list(rows[1]); r[0] = "CR91"; r[1] = "Isola ecologica Zone"; r[9] = "0,00"; r[10] = "0,00"
    bad.append((2, Bad(r, "COORD_X;COORD_Y", "0,00;0,00", "coordinates 0,0 (never geocoded)")))
    r = list(rows[2]); r[0] = "CR92"; r[1] = ""
    bad.append((4, Bad(r, "DENOMINAZIONE", "", "missing required value")))
    r = list(rows[3]); r[0] = "CR93"; r[1] = "Punto sfalci Ruota"; r[8] = "da verificare"
    bad.append((6, Bad(r, "SUPERFICIE_MQ", "da verificare", "not a number in a numeric column")))
    write_table("centri-raccolta-rifiuti", "centri_raccolta.csv", header, rows, bad)


GIORNI = ["Lunedì", "Martedì", "Mercoledì", "Giovedì", "Venerdì", "Sabato"]
MATERIALI = {
    "Organico": ("Mastello marrone", "settimanale"),
    "Carta": ("Mastello bianco o sacco di carta", "settimanale"),
    "Multimateriale": ("Sacco giallo trasparente (plastica, lattine, tetrapak)", "settimanale"),
    "Indifferenziato": ("Sacco grigio con codice utenza", "quindicinale"),
    "Vetro": ("Mastello verde", "quindicinale"),
}


def gen_calendario() -> None:
    rng = random.Random(SEED + "-calendario")
    header = ["ID_TURNO", "ZONA", "FRAZIONE", "GIORNO", "MATERIALE", "FREQUENZA", "CONTENITORE",
              "ESPOSIZIONE", "FASCIA_RACCOLTA", "VALIDO_DAL", "NOTE"]
    zones = "ABCDEF"
    rows: list[list[str]] = []
    n = 0
    for i, fr in enumerate(sorted(FRAZIONI, key=lambda f: f.name)):
        zona = f"Zona {zones[i % len(zones)]}"
        zi = i % len(zones)
        plan = {
            "Organico": [GIORNI[zi % 2], GIORNI[2 + zi % 2], GIORNI[5 - zi % 2]],
            "Carta": [GIORNI[(zi + 1) % 6]],
            "Multimateriale": [GIORNI[(zi + 3) % 6]],
            "Indifferenziato": [GIORNI[(zi + 4) % 6]],
            "Vetro": [GIORNI[(zi + 2) % 6]],
        }
        fascia = rng.choice(["06:00-13:00", "05:30-12:30", "06:00-12:00"])
        for mat, days in plan.items():
            cont, freq = MATERIALI[mat]
            for d in days:
                n += 1
                note = ""
                if mat == "Indifferenziato":
                    note = "Settimane pari"
                elif mat == "Vetro":
                    note = "Settimane dispari"
                elif mat == "Organico" and d == "Sabato":
                    note = "Nelle settimane con festività infrasettimanali la raccolta è anticipata"
                rows.append([str(n), zona, fr.name, d, mat, freq, cont,
                             "Dalle 21:00 del giorno precedente alle 5:30", fascia, "01/01/2026", note])
    pos = positions(rng, len(rows), 4)
    bad: list[tuple[int, Bad]] = []
    r = list(rows[10]); r[0] = "9001"; r[9] = "31/02/2026"
    bad.append((pos[0], Bad(r, "VALIDO_DAL", "31/02/2026", "impossible date (31 February)")))
    r = list(rows[40]); r[0] = "9002"; r[4] = "Plastica"
    bad.append((pos[1], Bad(r, "MATERIALE", "Plastica", "value not among the allowed materials")))
    r = list(rows[70]); r[0] = "9003"; r[2] = ""
    bad.append((pos[2], Bad(r, "FRAZIONE", "", "missing required value")))
    r = list(rows[100]); r[0] = "9004"; r[3] = "Domenca"
    bad.append((pos[3], Bad(r, "GIORNO", "Domenca", "value not among the allowed days (misspelt)")))
    write_table("calendario-porta-a-porta", "calendario_porta_a_porta.csv", header, rows, bad)


# --------------------------------------------------------------------------- 9. fines

VIE_VERBALI = [
    # street, weight
    ("Via Romana", 14), ("Via Pesciatina", 16), ("Viale Europa", 12), ("Via delle Ville", 8),
    ("Via Sarzanese", 7), ("Via di Tiglio", 6), ("Piazza Aldo Moro", 9), ("Via del Casalino", 4),
    ("Via Carlo Piaggia", 4), ("Via Lombarda", 6), ("Via Cortinella", 3), ("Via dei Bocchi", 4),
    ("Via di Sottomonte", 5), ("Via Stradone di Camigliano", 4), ("Via di Carraia", 4), ("Via di Vorno", 3),
    ("Via di Coselli", 2), ("Via dell'Aeroporto", 5), ("Via Guido Rossa", 3), ("Via di Piaggiori", 3),
    ("Via di San Ginese", 2), ("Via Nuova", 2), ("Via della Madonnina", 2), ("Via di Castelvecchio", 1),
    ("Via del Popolo", 3), ("Via di Zone", 2), ("Via Ciarpi", 2), ("Via di Tassignano", 3),
]
ARTICOLI = [
    # article, paragraph, description, amount (EUR), weight
    ("7", "15", "Sosta oltre il tempo consentito", 42.00, 18),
    ("158", "2", "Divieto di sosta", 42.00, 20),
    ("158", "2-bis", "Sosta su stallo riservato a persone con disabilità", 168.00, 3),
    ("142", "7", "Eccesso di velocità fino a 10 km/h", 42.00, 16),
    ("142", "8", "Eccesso di velocità tra 10 e 40 km/h", 173.00, 12),
    ("142", "9", "Eccesso di velocità tra 40 e 60 km/h", 543.00, 2),
    ("146", "3", "Passaggio con semaforo rosso", 167.00, 4),
    ("172", "1", "Mancato uso delle cinture di sicurezza", 83.00, 5),
    ("173", "2", "Uso del telefono alla guida", 165.00, 6),
    ("80", "14", "Veicolo non sottoposto a revisione", 173.00, 6),
    ("193", "2", "Circolazione senza copertura assicurativa", 866.00, 3),
    ("180", "7", "Mancata esibizione dei documenti", 42.00, 3),
    ("141", "2", "Velocità non commisurata alle condizioni della strada", 42.00, 2),
]


def gen_sanzioni() -> None:
    rng = random.Random(SEED + "-sanzioni")
    header = ["NUM_VERBALE", "DATA_VIOLAZIONE", "ORA", "VIA", "ARTICOLO_CDS", "COMMA", "DESCRIZIONE",
              "IMPORTO", "TIPO_VEICOLO", "TARGA", "AGENTE_ACCERTATORE"]
    days = sorted(rand_date(rng, date(2024, 1, 1), date(2025, 12, 31)) for _ in range(3000))
    seq: dict[int, int] = {}
    rows: list[list[str]] = []
    agenti = [f"MATR. {n:04d}" for n in rng.sample(range(100, 999), 14)]
    for d in days:
        seq[d.year] = seq.get(d.year, 0) + 1
        art, comma, desc, amount, _w = rng.choices(ARTICOLI, weights=[a[4] for a in ARTICOLI])[0]
        via = rng.choices([v for v, _ in VIE_VERBALI], weights=[w for _, w in VIE_VERBALI])[0]
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 10, 10, 9, 8, 8, 9, 10, 10, 9, 7, 5, 4, 2, 1])[0]
        veic = rng.choices(["Autovettura", "Autocarro", "Motociclo", "Ciclomotore"], weights=[80, 10, 7, 3])[0]
        rows.append([f"{d.year}/{seq[d.year]:06d}", it_date(d), f"{hour:02d}:{rng.randrange(60):02d}", via, art,
                     comma, desc, it_num(amount), veic, targa(rng), rng.choice(agenti)])
    pos = positions(rng, len(rows), 6)

    def v() -> list[str]:
        return list(rows[rng.randrange(len(rows))])

    bad: list[tuple[int, Bad]] = []
    r = v(); r[0] = "2024/900001"; r[1] = "31/02/2024"
    bad.append((pos[0], Bad(r, "DATA_VIOLAZIONE", "31/02/2024", "impossible date (31 February)")))
    r = v(); r[0] = "2024/900002"; r[7] = "42,OO"
    bad.append((pos[1], Bad(r, "IMPORTO", "42,OO", "not a number (letters O instead of zeros)")))
    r = v(); r[0] = ""
    bad.append((pos[2], Bad(r, "NUM_VERBALE", "", "missing required value")))
    r = v(); r[0] = "2025/900004"; r[1] = ""
    bad.append((pos[3], Bad(r, "DATA_VIOLAZIONE", "", "missing required value")))
    r = v(); r[0] = "2025/900005"; r[7] = "-42,00"
    bad.append((pos[4], Bad(r, "IMPORTO", "-42,00", "negative amount, below min = 0")))
    dup = rows[rng.randrange(pos[5] - 1)]
    r = v(); r[0] = dup[0]
    bad.append((pos[5], Bad(r, "NUM_VERBALE", dup[0], "duplicate of an earlier NUM_VERBALE (unique)")))
    write_table("sanzioni-codice-strada", "verbali_cds.csv", header, rows, bad)


# --------------------------------------------------------------------------- 10. canteens

MESI = [(9, 2025, 12), (10, 2025, 22), (11, 2025, 19), (12, 2025, 14), (1, 2026, 17), (2, 2026, 19),
        (3, 2026, 22), (4, 2026, 16), (5, 2026, 20), (6, 2026, 6)]
ORDINE = {"SCUOLA INFANZIA": "Infanzia", "SCUOLA PRIMARIA": "Primaria", "SCUOLA PRIMO GRADO": "Secondaria di primo grado"}


def gen_pasti() -> None:
    rng = random.Random(SEED + "-pasti")
    schools = read_schools()
    header = ["CODICE_SCUOLA", "DENOMINAZIONE_SCUOLA", "ORDINE_SCUOLA", "MESE", "GIORNI_SERVIZIO",
              "PASTI_EROGATI", "PASTI_VEGETARIANI", "PASTI_DIETE_SPECIALI", "COSTO_TOTALE"]
    rows: list[list[str]] = []
    for code, s in schools.items():
        kind = s["DESCRIZIONETIPOLOGIAGRADOISTRUZIONESCUOLA"]
        if kind not in ORDINE:
            continue
        pupils = {"SCUOLA INFANZIA": rng.randrange(35, 95), "SCUOLA PRIMARIA": rng.randrange(70, 240),
                  "SCUOLA PRIMO GRADO": rng.randrange(25, 90)}[kind]
        veg_share = rng.uniform(0.03, 0.10)
        diet_share = rng.uniform(0.02, 0.06)
        unit = {"SCUOLA INFANZIA": 5.10, "SCUOLA PRIMARIA": 5.45, "SCUOLA PRIMO GRADO": 5.60}[kind]
        for month, year, days in MESI:
            if month == 6 and kind == "SCUOLA INFANZIA":
                days = 21  # infanzia stays open until the end of June
            if kind == "SCUOLA PRIMO GRADO" and days > 0:
                days = max(1, days * 2 // 5)  # two afternoons a week (tempo prolungato)
            meals = int(pupils * days * rng.uniform(0.84, 0.94))
            veg = int(meals * veg_share * rng.uniform(0.85, 1.15))
            diet = int(meals * diet_share * rng.uniform(0.85, 1.15))
            cost = meals * unit * rng.uniform(0.99, 1.01)
            rows.append([code, s["DENOMINAZIONESCUOLA"], ORDINE[kind], f"{month:02d}/{year}", str(days),
                         str(meals), str(veg), str(diet), it_num(cost)])
    pos = positions(rng, len(rows), 4)
    bad: list[tuple[int, Bad]] = []
    r = list(rows[12]); r[5] = "circa 900"
    bad.append((pos[0], Bad(r, "PASTI_EROGATI", "circa 900", "not a number in an integer column")))
    r = list(rows[47]); r[8] = ""
    bad.append((pos[1], Bad(r, "COSTO_TOTALE", "", "missing required value")))
    r = list(rows[88]); r[3] = "13/2025"
    bad.append((pos[2], Bad(r, "MESE", "13/2025", "value not among the allowed months (month 13)")))
    r = list(rows[150]); r[6] = "-12"
    bad.append((pos[3], Bad(r, "PASTI_VEGETARIANI", "-12", "negative count, below min = 0")))
    write_table("pasti-mense-scolastiche", "pasti_mense_scolastiche.csv", header, rows, bad)


# --------------------------------------------------------------------------- verification


def _num(s: str) -> float:
    return float(s.replace(".", "").replace(",", "."))


def read_back(dataset: str, filename: str) -> list[list[str]]:
    raw = (DATASETS / dataset / filename).read_bytes()
    assert b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n"), f"{filename}: not CRLF throughout"
    text = raw.decode("cp1252")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def verify() -> None:
    """Re-read every generated file; every good point must lie inside the real boundary
    (converted back to WGS84) and every listed bad row must be where the list says."""
    with MALFORMED_CSV.open(encoding="utf-8", newline="") as f:
        malformed = list(csv.DictReader(f, delimiter=";"))
    bad_lines: dict[str, set[int]] = {}
    for m in malformed:
        bad_lines.setdefault(m["file"], set()).add(int(m["line"]))
    minx, miny, maxx, maxy = TERRITORY_BBOX
    point_files = {
        "suap_attivita_produttive.csv": "attivita-produttive", "sued_pratiche_edilizie.csv": "permessi-edilizi",
        "fermate_scuolabus.csv": "fermate-scuolabus", "centri_raccolta.csv": "centri-raccolta-rifiuti",
    }
    for filename, dataset in point_files.items():
        rows = read_back(dataset, filename)
        header = [h.strip() for h in rows[0]]
        ix, iy = header.index("COORD_X"), header.index("COORD_Y")
        checked = 0
        for line, r in enumerate(rows[1:], start=2):
            assert len(r) == len(header), f"{filename}:{line}: {len(r)} cells"
            if line in bad_lines.get(filename, set()):
                continue
            lon, lat = to_4326(_num(r[ix]), _num(r[iy]))
            assert BOUNDARY_4326.contains(Point(lon, lat)), f"{filename}:{line}: {lon},{lat} outside Capannori"
            checked += 1
        print(f"  {filename}: {checked} points inside the boundary, {len(bad_lines.get(filename, ()))} malformed rows")
    rows = read_back("percorsi-scuolabus", "percorsi_scuolabus.csv")
    for line, r in enumerate(rows[1:], start=2):
        if line in bad_lines["percorsi_scuolabus.csv"]:
            continue
        coords = [tuple(map(float, p.split(" "))) for p in r[-1][len("LINESTRING ("):-1].split(", ")]
        ll = LineString([to_4326(x, y) for x, y in coords])
        assert BOUNDARY_4326.contains(ll), f"percorsi:{line}: route leaves Capannori"
    print(f"  percorsi_scuolabus.csv: {len(rows) - 1 - len(bad_lines['percorsi_scuolabus.csv'])} routes inside the boundary")
    # every bad coordinate is outside the territory bbox, so a bbox check rejects it
    for m in malformed:
        if m["column"] == "COORD_X;COORD_Y":
            xs, ys = m["value"].split(";")
            lon, lat = to_4326(_num(xs), _num(ys))
            # a failed transformation (inf) is a rejection too
            assert not math.isfinite(lon) or not (minx <= lon <= maxx and miny <= lat <= maxy), m
    # the listed lines hold the listed values
    for m in malformed:
        rows = read_back(m["dataset"], m["file"])
        header = [h.strip() for h in rows[0]]
        r = rows[int(m["line"]) - 1]
        if ";" in m["column"]:
            cols = m["column"].split(";")
            assert ";".join(r[header.index(c)] for c in cols) == m["value"], m
        elif not m["value"].endswith("..."):
            assert r[header.index(m["column"])] == m["value"], (m, r)
    print(f"  {len(malformed)} malformed rows found at their documented lines")


def write_malformed_docs() -> None:
    with MALFORMED_CSV.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["dataset", "file", "line", "column", "value", "problem"],
                           delimiter=";", lineterminator="\n")
        w.writeheader()
        w.writerows(MALFORMED)
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- malformed:start -->", "<!-- malformed:end -->"
    table = ["| dataset | file | line | column | value | what is wrong |", "|---|---|---|---|---|---|"]
    for m in MALFORMED:
        value = m["value"].replace("|", "\\|") if m["value"] else "(empty)"
        table.append(f"| {m['dataset']} | {m['file']} | {m['line']} | {m['column']} | `{value}` | {m['problem']} |")
    a, b = text.index(start) + len(start), text.index(end)
    README.write_text(text[:a] + "\n" + "\n".join(table) + "\n" + text[b:], encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only verify the committed files")
    args = ap.parse_args()
    if not args.check:
        for gen in (gen_attivita, gen_permessi, gen_scuolabus, gen_centri, gen_calendario, gen_sanzioni, gen_pasti):
            gen()
        write_malformed_docs()
        print(f"generated; {len(MALFORMED)} malformed rows listed in {MALFORMED_CSV.relative_to(ROOT)}")
    verify()
    return 0


if __name__ == "__main__":
    sys.exit(main())
