//! The writers, checked by reading their files back with readers that are not ours:
//! the `csv` crate, serde_json, the `geojson` crate, polars' Parquet reader (plus the `geo`
//! metadata key), flatgeobuf's reader, and SQL queries on the GeoPackage tables.
//! Expected values are the literals the tables are built from, never our own output.
//!
//! `write_sample_outputs` also writes a sample set (and `expected.json`, derived from the
//! same literals) into `$PORTALE_SAMPLE_OUT` when set, for
//! `tests/conformance/check_outputs.py`, which checks it with GDAL and pyarrow.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader, GeometryType};
use geo_types::{
    Coord, Geometry, LineString, MultiPolygon, Point, Polygon, coord, line_string, point, polygon,
};
use geozero::ToGeo;
use polars::prelude::*;
use portale::etl::table::Table;
use portale::etl::write::{OutputFormat, WriteError, record_count, write_table};

// ---------------------------------------------------------------------------------------
// Sample tables (the literals every expectation below is derived from)
// ---------------------------------------------------------------------------------------

const NOMI: [Option<&str>; 5] = [
    Some("Scuola \"Carducci\", plesso nord"),
    Some("via Roma 1\nsecondo piano"),
    Some("à è ì ò ù"),
    None,
    Some(""),
];
const CODICI: [Option<&str>; 5] = [Some("046007"), Some("55012"), None, Some("0"), Some("x")];
const ALUNNI: [Option<i64>; 5] = [
    Some(120),
    None,
    Some(-5),
    Some(9_007_199_254_740_993),
    Some(0),
];
const SUPERFICI: [Option<f64>; 5] = [Some(1234.5), None, Some(0.1), Some(f64::NAN), Some(1e21)];
const ATTIVE: [Option<bool>; 5] = [Some(true), Some(false), None, Some(true), Some(false)];
const DATE: [Option<(i32, u32, u32)>; 5] = [
    Some((2024, 3, 1)),
    None,
    Some((1999, 12, 31)),
    Some((1970, 1, 1)),
    Some((1900, 2, 28)),
];
/// (date, h, m, s, ms)
type Stamp = ((i32, u32, u32), u32, u32, u32, u32);
const AGGIORNATI: [Option<Stamp>; 5] = [
    Some(((2024, 3, 1), 10, 20, 30, 123)),
    Some(((2023, 12, 31), 23, 59, 59, 0)),
    None,
    Some(((1970, 1, 1), 0, 0, 0, 0)),
    Some(((2000, 6, 15), 8, 5, 0, 0)),
];

fn days(d: (i32, u32, u32)) -> i32 {
    let date = NaiveDate::from_ymd_opt(d.0, d.1, d.2).unwrap();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    (date - epoch).num_days() as i32
}

fn millis(v: Stamp) -> i64 {
    let (d, h, m, s, ms) = v;
    NaiveDate::from_ymd_opt(d.0, d.1, d.2)
        .unwrap()
        .and_hms_milli_opt(h, m, s, ms)
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

/// Five rows covering every column type, nulls in each, quotes, commas, newlines and
/// accented letters.
fn attributes() -> DataFrame {
    let date = Series::new("data".into(), DATE.map(|d| d.map(days)))
        .cast(&DataType::Date)
        .unwrap();
    let aggiornato = Series::new("aggiornato".into(), AGGIORNATI.map(|v| v.map(millis)))
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .unwrap();
    DataFrame::new_infer_height(vec![
        Column::new("nome".into(), NOMI),
        Column::new("codice".into(), CODICI),
        Column::new("alunni".into(), ALUNNI),
        Column::new("superficie".into(), SUPERFICI),
        Column::new("attiva".into(), ATTIVE),
        date.into_column(),
        aggiornato.into_column(),
    ])
    .unwrap()
}

fn first_rows(df: &DataFrame, n: usize) -> DataFrame {
    df.slice(0, n)
}

/// Points around Capannori; the fourth row has no geometry.
fn points() -> Vec<Option<Geometry<f64>>> {
    vec![
        Some(point!(x: 10.5734567891, y: 43.8423456789).into()),
        Some(point!(x: 10.6012345, y: 43.7934567).into()),
        Some(point!(x: 10.4987654, y: 43.9012345).into()),
        None,
    ]
}
const POINTS_EXTENT: [f64; 4] = [10.4987654, 43.7934567, 10.6012345, 43.9012345];

/// A polygon with a hole, exterior clockwise and hole counter-clockwise (the wrong way
/// round for RFC 7946); one vertex with more than 7 decimals.
fn clockwise_polygon() -> Polygon<f64> {
    polygon!(
        exterior: [
            (x: 10.50, y: 43.80),
            (x: 10.50, y: 43.85),
            (x: 10.5612345678, y: 43.8587654321),
            (x: 10.56, y: 43.80),
            (x: 10.50, y: 43.80),
        ],
        interiors: [[
            (x: 10.52, y: 43.82),
            (x: 10.54, y: 43.82),
            (x: 10.54, y: 43.83),
            (x: 10.52, y: 43.83),
            (x: 10.52, y: 43.82),
        ]],
    )
}

/// The same polygon as RFC 7946 wants it, coordinates rounded to 7 decimals.
fn expected_ccw_rounded() -> Vec<Vec<Vec<f64>>> {
    vec![
        vec![
            vec![10.50, 43.80],
            vec![10.56, 43.80],
            vec![10.5612346, 43.8587654],
            vec![10.50, 43.85],
            vec![10.50, 43.80],
        ],
        vec![
            vec![10.52, 43.82],
            vec![10.52, 43.83],
            vec![10.54, 43.83],
            vec![10.54, 43.82],
            vec![10.52, 43.82],
        ],
    ]
}

fn two_squares() -> MultiPolygon<f64> {
    MultiPolygon::new(vec![
        polygon![(x: 10.60, y: 43.90), (x: 10.62, y: 43.90), (x: 10.62, y: 43.92), (x: 10.60, y: 43.92)],
        polygon![(x: 10.63, y: 43.90), (x: 10.64, y: 43.90), (x: 10.64, y: 43.91), (x: 10.63, y: 43.91)],
    ])
}

/// Polygon with hole, multipolygon, no geometry.
fn areas() -> Vec<Option<Geometry<f64>>> {
    vec![
        Some(clockwise_polygon().into()),
        Some(two_squares().into()),
        None,
    ]
}
const AREAS_EXTENT: [f64; 4] = [10.50, 43.80, 10.64, 43.92];

/// Point, line and polygon: a layer without one geometry type.
fn mixed() -> Vec<Option<Geometry<f64>>> {
    vec![
        Some(point!(x: 10.55, y: 43.85).into()),
        Some(line_string![(x: 10.51, y: 43.81), (x: 10.57, y: 43.86)].into()),
        Some(polygon![(x: 10.60, y: 43.90), (x: 10.62, y: 43.90), (x: 10.61, y: 43.93)].into()),
    ]
}
const MIXED_EXTENT: [f64; 4] = [10.51, 43.81, 10.62, 43.93];

fn layer(geoms: Vec<Option<Geometry<f64>>>) -> Table {
    let df = first_rows(&attributes(), geoms.len());
    Table {
        df,
        geoms: Some(geoms),
    }
}

fn tabular() -> Table {
    Table {
        df: attributes(),
        geoms: None,
    }
}

fn empty_layer() -> Table {
    Table {
        df: first_rows(&attributes(), 0),
        geoms: Some(Vec::new()),
    }
}

fn write(table: &Table, format: OutputFormat, dir: &Path, stem: &str) -> PathBuf {
    let path = dir.join(format!("{stem}.{}", format.extension()));
    write_table(table, format, &path, stem).unwrap_or_else(|e| panic!("{e}"));
    path
}

// ---------------------------------------------------------------------------------------
// OutputFormat
// ---------------------------------------------------------------------------------------

#[test]
fn output_format_metadata() {
    let ext: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.extension()).collect();
    assert_eq!(ext, ["csv", "json", "geojson", "parquet", "fgb", "gpkg"]);
    assert_eq!(OutputFormat::Geojson.media_type(), "application/geo+json");
    assert_eq!(
        OutputFormat::Gpkg.media_type(),
        "application/geopackage+sqlite3"
    );
    assert_eq!(
        OutputFormat::Geoparquet.media_type(),
        "application/vnd.apache.parquet"
    );
    assert!(!OutputFormat::Csv.needs_geometry());
    assert!(!OutputFormat::Json.needs_geometry());
    assert!(OutputFormat::Fgb.needs_geometry());
    assert_eq!(
        serde_json::to_string(&OutputFormat::Geoparquet).unwrap(),
        "\"geoparquet\""
    );
    assert_eq!(
        OutputFormat::from_extension("GPKG"),
        Some(OutputFormat::Gpkg)
    );
    assert_eq!(OutputFormat::from_extension("shp"), None);
}

/// Every EU file-type code we use must be a concept of the EU file-type table that
/// Portale's DCAT vocabularies come from (fixture: `eu-op_filetypes-filtered.rdf`).
#[test]
fn eu_format_codes_are_vocabulary_concepts() {
    let rdf = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eu-op_filetypes-filtered.rdf"),
    )
    .unwrap();
    let prefix =
        "<skos:Concept rdf:about=\"http://publications.europa.eu/resource/authority/file-type/";
    let concepts: BTreeSet<&str> = rdf
        .split(prefix)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(concepts.len() > 100, "parsed {} concepts", concepts.len());
    for format in OutputFormat::ALL {
        assert!(
            concepts.contains(format.eu_format_code()),
            "{format}: {} is not in the vocabulary",
            format.eu_format_code()
        );
    }
}

// ---------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------

#[test]
fn csv_is_rfc4180_with_typed_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&tabular(), OutputFormat::Csv, dir.path(), "scuole");
    let bytes = fs::read(&path).unwrap();
    assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no BOM");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("nome,codice,alunni,superficie,attiva,data,aggiornato\r\n"));
    // Every record ends with CRLF; the only bare LF is the one inside the quoted field.
    assert!(text.ends_with("\r\n"));
    assert_eq!(text.matches("\r\n").count(), 6);
    assert_eq!(text.matches('\n').count(), 7);
    assert!(text.contains("\"Scuola \"\"Carducci\"\", plesso nord\""));

    let mut reader = csv::ReaderBuilder::new().from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "nome",
            "codice",
            "alunni",
            "superficie",
            "attiva",
            "data",
            "aggiornato"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        rows[0],
        [
            "Scuola \"Carducci\", plesso nord",
            "046007",
            "120",
            "1234.5",
            "true",
            "2024-03-01",
            "2024-03-01T10:20:30.123"
        ]
    );
    assert_eq!(
        rows[1],
        [
            "via Roma 1\nsecondo piano",
            "55012",
            "",
            "",
            "false",
            "",
            "2023-12-31T23:59:59"
        ]
    );
    assert_eq!(rows[2][0], "à è ì ò ù");
    assert_eq!(rows[2][1], "");
    assert_eq!(rows[2][3], "0.1");
    assert_eq!(rows[2][4], "");
    assert_eq!(rows[2][5], "1999-12-31");
    assert_eq!(rows[3][0], "", "null string");
    assert_eq!(rows[3][2], "9007199254740993");
    assert_eq!(rows[3][3], "", "NaN has no CSV form");
    assert_eq!(rows[3][6], "1970-01-01T00:00:00");
    assert_eq!(rows[4][3], "1000000000000000000000", "no exponent");
    assert_eq!(rows[4][5], "1900-02-28");
}

#[test]
fn csv_point_layer_gets_longitude_latitude() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(points()), OutputFormat::Csv, dir.path(), "punti");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[7..], ["longitude", "latitude"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][7], "10.5734568");
    assert_eq!(&rows[0][8], "43.8423457");
    assert_eq!(&rows[1][7], "10.6012345");
    assert_eq!((&rows[3][7], &rows[3][8]), ("", ""), "null geometry");
}

#[test]
fn csv_polygon_layer_has_no_geometry_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(areas()), OutputFormat::Csv, dir.path(), "aree");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(reader.headers().unwrap().len(), 7);
    assert_eq!(reader.records().count(), 3);
}

#[test]
fn csv_coordinate_columns_do_not_clobber_existing_ones() {
    let mut table = layer(points());
    table
        .df
        .with_column(Column::new("longitude".into(), ["a", "b", "c", "d"]))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&table, OutputFormat::Csv, dir.path(), "punti");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[7..], ["longitude", "longitude_1", "latitude"]);
    let first = reader.records().next().unwrap().unwrap();
    assert_eq!(&first[7], "a");
    assert_eq!(&first[8], "10.5734568");
}

// ---------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------

#[test]
fn json_is_an_array_of_typed_objects() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&tabular(), OutputFormat::Json, dir.path(), "scuole");
    let value: serde_json::Value =
        serde_json::from_reader(BufReader::new(File::open(&path).unwrap())).unwrap();
    let rows = value.as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let first = rows[0].as_object().unwrap();
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "nome",
            "codice",
            "alunni",
            "superficie",
            "attiva",
            "data",
            "aggiornato"
        ]
    );
    assert_eq!(first["nome"], "Scuola \"Carducci\", plesso nord");
    assert_eq!(first["codice"], "046007");
    assert_eq!(first["alunni"], 120);
    assert_eq!(first["superficie"], 1234.5);
    assert_eq!(first["attiva"], true);
    assert_eq!(first["data"], "2024-03-01");
    assert_eq!(first["aggiornato"], "2024-03-01T10:20:30.123");
    assert_eq!(rows[1]["nome"], "via Roma 1\nsecondo piano");
    assert!(rows[1]["alunni"].is_null());
    assert!(rows[1]["data"].is_null());
    assert_eq!(rows[2]["nome"], "à è ì ò ù");
    assert!(rows[2]["attiva"].is_null());
    assert!(rows[3]["nome"].is_null());
    assert_eq!(rows[3]["alunni"].as_i64(), Some(9_007_199_254_740_993));
    assert!(rows[3]["superficie"].is_null(), "NaN becomes null");
    assert_eq!(rows[4]["nome"], "");
    assert_eq!(rows[4]["superficie"], 1e21);
}

#[test]
fn json_point_layer_gets_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(points()), OutputFormat::Json, dir.path(), "punti");
    let value: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(value[0]["longitude"], 10.5734568);
    assert_eq!(value[0]["latitude"], 43.8423457);
    assert!(value[3]["longitude"].is_null());
}

// ---------------------------------------------------------------------------------------
// GeoJSON
// ---------------------------------------------------------------------------------------

fn read_geojson(path: &Path) -> geojson::FeatureCollection {
    let text = fs::read_to_string(path).unwrap();
    match text.parse::<geojson::GeoJson>().unwrap() {
        geojson::GeoJson::FeatureCollection(fc) => fc,
        other => panic!("not a FeatureCollection: {other:?}"),
    }
}

#[test]
fn geojson_is_rfc7946() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &layer(areas()),
        OutputFormat::Geojson,
        dir.path(),
        "aree-verdi",
    );
    let fc = read_geojson(&path);
    assert_eq!(fc.features.len(), 3);
    assert_eq!(fc.foreign_members.as_ref().unwrap()["name"], "aree-verdi");
    assert!(!fc.foreign_members.unwrap().contains_key("crs"));

    let first = &fc.features[0];
    assert_eq!(first.id, Some(geojson::feature::Id::Number(1.into())));
    match &first.geometry.as_ref().unwrap().value {
        geojson::Value::Polygon(rings) => assert_eq!(rings, &expected_ccw_rounded()),
        other => panic!("expected a Polygon, got {other:?}"),
    }
    let props = first.properties.as_ref().unwrap();
    assert_eq!(props["alunni"], 120);
    assert_eq!(props["data"], "2024-03-01");

    match &fc.features[1].geometry.as_ref().unwrap().value {
        geojson::Value::MultiPolygon(polys) => {
            assert_eq!(polys.len(), 2);
            assert_eq!(
                polys[1][0],
                vec![
                    vec![10.63, 43.90],
                    vec![10.64, 43.90],
                    vec![10.64, 43.91],
                    vec![10.63, 43.91],
                    vec![10.63, 43.90]
                ]
            );
        }
        other => panic!("expected a MultiPolygon, got {other:?}"),
    }
    let third = &fc.features[2];
    assert!(third.geometry.is_none(), "null geometry stays null");
    assert_eq!(third.properties.as_ref().unwrap()["nome"], "à è ì ò ù");
}

#[test]
fn geojson_points_are_rounded_to_7_decimals() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(points()), OutputFormat::Geojson, dir.path(), "punti");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("[10.5734568,43.8423457]"), "{text}");
    let fc = read_geojson(&path);
    assert_eq!(fc.features.len(), 4);
    assert_eq!(
        fc.features[3].id,
        Some(geojson::feature::Id::Number(4.into()))
    );
}

// ---------------------------------------------------------------------------------------
// GeoParquet
// ---------------------------------------------------------------------------------------

fn read_parquet(path: &Path) -> (DataFrame, serde_json::Value) {
    let mut reader = ParquetReader::new(File::open(path).unwrap());
    let metadata = reader.get_metadata().unwrap().clone();
    let geo = metadata
        .key_value_metadata()
        .as_ref()
        .and_then(|kv| kv.iter().find(|kv| kv.key == "geo"))
        .and_then(|kv| kv.value.clone())
        .expect("a `geo` key");
    let df = ParquetReader::new(File::open(path).unwrap())
        .finish()
        .unwrap();
    (df, serde_json::from_str(&geo).unwrap())
}

#[test]
fn geoparquet_has_wkb_and_geo_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &layer(areas()),
        OutputFormat::Geoparquet,
        dir.path(),
        "aree",
    );
    let (df, geo) = read_parquet(&path);
    assert_eq!(df.height(), 3);
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "nome",
            "codice",
            "alunni",
            "superficie",
            "attiva",
            "data",
            "aggiornato",
            "geometry"
        ]
    );
    assert_eq!(df.column("data").unwrap().dtype(), &DataType::Date);
    assert_eq!(
        df.column("aggiornato").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, None)
    );
    assert_eq!(
        df.column("nome").unwrap().str().unwrap().get(2),
        Some("à è ì ò ù")
    );
    assert_eq!(df.column("alunni").unwrap().i64().unwrap().get(1), None);

    let wkb = df.column("geometry").unwrap().binary().unwrap();
    let first = geozero::wkb::Wkb(wkb.get(0).unwrap().to_vec())
        .to_geo()
        .unwrap();
    let Geometry::Polygon(poly) = first else {
        panic!("expected a Polygon, got {first:?}")
    };
    // Unrounded, rewound: exterior counter-clockwise, hole clockwise.
    let exterior: Vec<Coord<f64>> = poly.exterior().coords().copied().collect();
    assert_eq!(
        exterior,
        [
            coord! {x: 10.50, y: 43.80},
            coord! {x: 10.56, y: 43.80},
            coord! {x: 10.5612345678, y: 43.8587654321},
            coord! {x: 10.50, y: 43.85},
            coord! {x: 10.50, y: 43.80},
        ]
    );
    assert_eq!(poly.interiors()[0].0[1], coord! {x: 10.52, y: 43.83});
    let second = geozero::wkb::Wkb(wkb.get(1).unwrap().to_vec())
        .to_geo()
        .unwrap();
    assert_eq!(second, Geometry::MultiPolygon(two_squares()));
    assert_eq!(wkb.get(2), None, "null geometry");

    assert_eq!(geo["version"], "1.1.0");
    assert_eq!(geo["primary_column"], "geometry");
    let column = &geo["columns"]["geometry"];
    assert_eq!(column["encoding"], "WKB");
    let types: BTreeSet<&str> = column["geometry_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(["Polygon", "MultiPolygon"]));
    assert!(column.get("crs").is_none(), "omitted crs means OGC:CRS84");
    let bbox: Vec<f64> = column["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(bbox, AREAS_EXTENT);
}

#[test]
fn geoparquet_geometry_column_name_avoids_clashes() {
    let mut table = layer(points());
    table
        .df
        .with_column(Column::new("geometry".into(), ["a", "b", "c", "d"]))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&table, OutputFormat::Geoparquet, dir.path(), "punti");
    let (df, geo) = read_parquet(&path);
    assert_eq!(geo["primary_column"], "geometry_1");
    assert_eq!(
        df.column("geometry").unwrap().str().unwrap().get(0),
        Some("a")
    );
    assert_eq!(df.column("geometry_1").unwrap().dtype(), &DataType::Binary);
}

// ---------------------------------------------------------------------------------------
// FlatGeobuf
// ---------------------------------------------------------------------------------------

/// A feature's geometry (when it has one) and its properties as text.
type FgbFeature = (
    Option<Geometry<f64>>,
    std::collections::HashMap<String, String>,
);

struct FgbContents {
    geometry_type: GeometryType,
    index_node_size: u16,
    crs_code: i32,
    count: u64,
    columns: Vec<String>,
    features: Vec<FgbFeature>,
}

fn read_fgb(path: &Path) -> FgbContents {
    let mut file = BufReader::new(File::open(path).unwrap());
    let reader = FgbReader::open(&mut file).unwrap();
    let header = reader.header();
    let geometry_type = header.geometry_type();
    let index_node_size = header.index_node_size();
    let crs_code = header.crs().map(|c| c.code()).unwrap_or(0);
    let count = header.features_count();
    let columns = header
        .columns()
        .map(|cols| cols.iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default();
    let mut iter = reader.select_all().unwrap();
    let mut features = Vec::new();
    while let Some(feature) = iter.next().unwrap() {
        let geometry = feature.geometry().map(|_| feature.to_geo().unwrap());
        features.push((geometry, feature.properties().unwrap()));
    }
    FgbContents {
        geometry_type,
        index_node_size,
        crs_code,
        count,
        columns,
        features,
    }
}

#[test]
fn fgb_points_are_indexed_and_typed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(points()), OutputFormat::Fgb, dir.path(), "punti");
    let fgb = read_fgb(&path);
    assert_eq!(fgb.geometry_type, GeometryType::Point);
    assert_eq!(fgb.crs_code, 4326);
    assert_eq!(fgb.count, 3);
    assert!(fgb.index_node_size > 0, "packed R-tree present");
    assert_eq!(
        fgb.columns,
        [
            "fid",
            "nome",
            "codice",
            "alunni",
            "superficie",
            "attiva",
            "data",
            "aggiornato"
        ]
    );
    // Features come in Hilbert order: find them by name.
    let by_name = |name: &str| {
        fgb.features
            .iter()
            .find(|(_, p)| p.get("nome").map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no feature {name:?}"))
    };
    let (geom, props) = by_name("via Roma 1\nsecondo piano");
    assert_eq!(
        geom.as_ref().unwrap(),
        &Geometry::Point(Point::new(10.6012345, 43.7934567))
    );
    assert_eq!(props["codice"], "55012");
    // fid is the row number in the table (1-based), whatever the Hilbert order.
    assert_eq!(props["fid"], "2");
    assert_eq!(by_name("Scuola \"Carducci\", plesso nord").1["fid"], "1");
    assert!(!props.contains_key("alunni"), "null is absent");
    assert_eq!(props["attiva"], "false");
    let (_, props) = by_name("à è ì ò ù");
    assert_eq!(props["alunni"], "-5");
    assert_eq!(props["fid"], "3");
    assert_eq!(props["data"], "1999-12-31");
    assert!(!props.contains_key("attiva"));

    // The index answers a bounding-box query (only the first point is in this box).
    let mut file = BufReader::new(File::open(&path).unwrap());
    let mut hits = FgbReader::open(&mut file)
        .unwrap()
        .select_bbox(10.57, 43.84, 10.58, 43.85)
        .unwrap();
    let mut names = Vec::new();
    while let Some(f) = hits.next().unwrap() {
        names.push(f.property::<String>("nome").unwrap());
    }
    assert_eq!(names, ["Scuola \"Carducci\", plesso nord"]);
}

#[test]
fn fgb_leaves_out_rows_without_geometry_and_promotes_polygons() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(areas()), OutputFormat::Fgb, dir.path(), "aree");
    let fgb = read_fgb(&path);
    assert_eq!(fgb.geometry_type, GeometryType::MultiPolygon);
    assert_eq!(fgb.count, 2, "the row without geometry is not in the file");
    assert_eq!(fgb.features.len(), 2);
    assert!(fgb.index_node_size > 0);
    let by_first_name = |name: &str| {
        fgb.features
            .iter()
            .find(|(_, p)| p.get("nome").map(String::as_str) == Some(name))
            .and_then(|(g, _)| g.clone())
            .unwrap_or_else(|| panic!("no feature {name:?}"))
    };
    let expected_first = MultiPolygon::new(vec![Polygon::new(
        LineString::from(vec![
            (10.50, 43.80),
            (10.56, 43.80),
            (10.5612345678, 43.8587654321),
            (10.50, 43.85),
            (10.50, 43.80),
        ]),
        vec![LineString::from(vec![
            (10.52, 43.82),
            (10.52, 43.83),
            (10.54, 43.83),
            (10.54, 43.82),
            (10.52, 43.82),
        ])],
    )]);
    assert_eq!(
        by_first_name("Scuola \"Carducci\", plesso nord"),
        Geometry::MultiPolygon(expected_first)
    );
    assert_eq!(
        by_first_name("via Roma 1\nsecondo piano"),
        Geometry::MultiPolygon(two_squares())
    );
}

#[test]
fn record_count_matches_what_readers_see() {
    let table = layer(areas());
    let dir = tempfile::tempdir().unwrap();
    let path = write(&table, OutputFormat::Fgb, dir.path(), "aree");
    assert_eq!(
        record_count(&table, OutputFormat::Fgb),
        read_fgb(&path).count
    );
    let path = write(&table, OutputFormat::Geojson, dir.path(), "aree");
    assert_eq!(
        record_count(&table, OutputFormat::Geojson),
        read_geojson(&path).features.len() as u64
    );
    assert_eq!(record_count(&tabular(), OutputFormat::Csv), 5);
}

#[test]
fn fgb_fid_column_is_renamed_when_the_table_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut table = layer(points());
    table
        .df
        .with_column(Column::new("fid".into(), [7i64, 8, 9, 10]))
        .unwrap();
    let path = write(&table, OutputFormat::Fgb, dir.path(), "punti");
    let fgb = read_fgb(&path);
    assert_eq!(fgb.columns[0], "fid_1");
    assert!(fgb.columns.contains(&"fid".to_string()));
    let mut file = BufReader::new(File::open(&path).unwrap());
    let reader = FgbReader::open(&mut file).unwrap();
    let first = reader.header().columns().unwrap().get(0);
    assert!(first.primary_key() && first.unique() && !first.nullable());
    // Row 2 (1-based) holds the table's own fid 8.
    let row2 = fgb
        .features
        .iter()
        .find(|(_, p)| p["fid_1"] == "2")
        .unwrap();
    assert_eq!(row2.1["fid"], "8");
}

#[test]
fn fgb_mixed_layer_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(mixed()), OutputFormat::Fgb, dir.path(), "misto");
    let fgb = read_fgb(&path);
    assert_eq!(fgb.geometry_type, GeometryType::Unknown);
    assert_eq!(fgb.count, 3);
    let kinds: BTreeSet<&str> = fgb
        .features
        .iter()
        .map(|(g, _)| match g.as_ref().unwrap() {
            Geometry::Point(_) => "Point",
            Geometry::LineString(_) => "LineString",
            Geometry::Polygon(_) => "Polygon",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, BTreeSet::from(["Point", "LineString", "Polygon"]));
}

// ---------------------------------------------------------------------------------------
// GeoPackage
// ---------------------------------------------------------------------------------------

#[test]
fn gpkg_is_a_valid_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &layer(areas()),
        OutputFormat::Gpkg,
        dir.path(),
        "aree-verdi",
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    let pragma = |name: &str| -> i64 {
        db.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(pragma("application_id"), 0x4750_4B47);
    assert_eq!(pragma("user_version"), 10300);
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let fk: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);

    let srs: Vec<(i64, String, i64)> = db
        .prepare("SELECT srs_id, organization, organization_coordsys_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        srs,
        [
            (-1, "NONE".to_string(), -1),
            (0, "NONE".to_string(), 0),
            (4326, "EPSG".to_string(), 4326)
        ]
    );

    let (data_type, identifier, min_x, min_y, max_x, max_y, srs_id): (
        String,
        String,
        f64,
        f64,
        f64,
        f64,
        i64,
    ) = db
        .query_row(
            "SELECT data_type, identifier, min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents WHERE table_name = 'aree-verdi'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
        )
        .unwrap();
    assert_eq!(
        (data_type.as_str(), identifier.as_str(), srs_id),
        ("features", "aree-verdi", 4326)
    );
    assert_eq!([min_x, min_y, max_x, max_y], AREAS_EXTENT);
    let last_change: String = db
        .query_row("SELECT last_change FROM gpkg_contents", [], |r| r.get(0))
        .unwrap();
    assert!(
        last_change.ends_with('Z') && last_change.contains('T'),
        "{last_change}"
    );

    let (column, type_name, z, m): (String, String, i64, i64) = db
        .query_row(
            "SELECT column_name, geometry_type_name, z, m FROM gpkg_geometry_columns WHERE table_name = 'aree-verdi' AND srs_id = 4326",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (column.as_str(), type_name.as_str(), z, m),
        ("geom", "MULTIPOLYGON", 0, 0)
    );

    let extension: (String, String, String) = db
        .query_row(
            "SELECT column_name, extension_name, scope FROM gpkg_extensions WHERE table_name = 'aree-verdi'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        extension,
        (
            "geom".into(),
            "gpkg_rtree_index".into(),
            "write-only".into()
        )
    );
    let rtree_sql: String = db
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'rtree_aree-verdi_geom'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(rtree_sql.contains("USING rtree(id, minx, maxx, miny, maxy)"));
    let triggers: BTreeSet<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'aree-verdi'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected: BTreeSet<String> = [
        "insert", "update1", "update2", "update3", "update4", "delete",
    ]
    .iter()
    .map(|s| format!("rtree_aree-verdi_geom_{s}"))
    .collect();
    assert_eq!(triggers, expected);

    // The feature table: declared types, stored types, values.
    let declared: Vec<(String, String)> = db
        .prepare("SELECT name, type FROM pragma_table_info('aree-verdi') ORDER BY cid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let declared: Vec<(&str, &str)> = declared
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        declared,
        [
            ("fid", "INTEGER"),
            ("geom", "MULTIPOLYGON"),
            ("nome", "TEXT"),
            ("codice", "TEXT"),
            ("alunni", "INTEGER"),
            ("superficie", "REAL"),
            ("attiva", "BOOLEAN"),
            ("data", "DATE"),
            ("aggiornato", "DATETIME")
        ]
    );
    type Row = (
        i64,
        String,
        Option<String>,
        Option<i64>,
        Option<f64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = db
        .prepare("SELECT fid, typeof(geom), nome, alunni, superficie, attiva, data, aggiornato FROM \"aree-verdi\" ORDER BY fid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0],
        (
            1,
            "blob".into(),
            Some("Scuola \"Carducci\", plesso nord".into()),
            Some(120),
            Some(1234.5),
            Some(1),
            Some("2024-03-01".into()),
            Some("2024-03-01T10:20:30.123".into())
        )
    );
    assert_eq!(rows[1].3, None);
    assert_eq!(rows[1].5, Some(0));
    assert_eq!(rows[2].1, "null", "null geometry is SQL NULL");
    assert_eq!(rows[2].2.as_deref(), Some("à è ì ò ù"));

    // GeoPackageBinary header, by hand: "GP", version 0, flags = little-endian +
    // envelope type 1 ([minx, maxx, miny, maxy]), srs_id 4326.
    let blob: Vec<u8> = db
        .query_row("SELECT geom FROM \"aree-verdi\" WHERE fid = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(&blob[0..2], b"GP");
    assert_eq!(blob[2], 0);
    assert_eq!(blob[3], 0b0000_0011);
    assert_eq!(i32::from_le_bytes(blob[4..8].try_into().unwrap()), 4326);
    let envelope: Vec<f64> = (0..4)
        .map(|i| f64::from_le_bytes(blob[8 + 8 * i..16 + 8 * i].try_into().unwrap()))
        .collect();
    assert_eq!(envelope, [10.60, 10.64, 43.90, 43.92]);
    assert_eq!(blob[40], 1, "WKB little-endian");
    assert_eq!(
        u32::from_le_bytes(blob[41..45].try_into().unwrap()),
        6,
        "MultiPolygon"
    );
    let geom = geozero::wkb::GpkgWkb(blob).to_geo().unwrap();
    assert_eq!(geom, Geometry::MultiPolygon(two_squares()));
    // The single polygon was promoted to the declared MULTIPOLYGON.
    let blob: Vec<u8> = db
        .query_row("SELECT geom FROM \"aree-verdi\" WHERE fid = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(u32::from_le_bytes(blob[41..45].try_into().unwrap()), 6);

    // The R-tree holds the two geometries and answers a window query.
    let indexed: i64 = db
        .query_row("SELECT count(*) FROM \"rtree_aree-verdi_geom\"", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(indexed, 2);
    let hit: i64 = db
        .query_row(
            "SELECT id FROM \"rtree_aree-verdi_geom\" WHERE maxx >= 10.63 AND minx <= 10.65 AND maxy >= 43.905 AND miny <= 43.95",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hit, 2);
}

#[test]
fn gpkg_points_have_no_envelope_and_mixed_layers_are_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&layer(points()), OutputFormat::Gpkg, dir.path(), "punti");
    let db = rusqlite::Connection::open(&path).unwrap();
    let blob: Vec<u8> = db
        .query_row("SELECT geom FROM punti WHERE fid = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(blob[3], 0b0000_0001, "little-endian, no envelope");
    assert_eq!(blob.len(), 8 + 21);
    let x = f64::from_le_bytes(blob[13..21].try_into().unwrap());
    let y = f64::from_le_bytes(blob[21..29].try_into().unwrap());
    assert_eq!((x, y), (10.5734567891, 43.8423456789));
    let type_name: String = db
        .query_row(
            "SELECT geometry_type_name FROM gpkg_geometry_columns",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(type_name, "POINT");
    let bbox: (f64, f64, f64, f64) = db
        .query_row(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!([bbox.0, bbox.1, bbox.2, bbox.3], POINTS_EXTENT);

    let path = write(&layer(mixed()), OutputFormat::Gpkg, dir.path(), "misto");
    let db = rusqlite::Connection::open(&path).unwrap();
    let type_name: String = db
        .query_row(
            "SELECT geometry_type_name FROM gpkg_geometry_columns",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(type_name, "GEOMETRY");
}

#[test]
fn gpkg_replaces_an_existing_file_and_renames_clashing_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gpkg");
    fs::write(&path, b"not a database").unwrap();
    let mut table = layer(points());
    table
        .df
        .with_column(Column::new("FID".into(), [7i64, 8, 9, 10]))
        .unwrap();
    write_table(&table, OutputFormat::Gpkg, &path, "punti").unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    let names: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('punti') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names[0], "fid_1");
    assert_eq!(names[1], "geom");
    assert!(names.contains(&"FID".to_string()));
    let fid: i64 = db
        .query_row("SELECT \"FID\" FROM punti WHERE fid_1 = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fid, 8);
}

// ---------------------------------------------------------------------------------------
// Empty tables and errors
// ---------------------------------------------------------------------------------------

#[test]
fn empty_tables_are_written_by_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let table = empty_layer();

    let path = write(&table, OutputFormat::Csv, dir.path(), "vuoto");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    assert_eq!(reader.headers().unwrap().len(), 7);
    assert_eq!(reader.records().count(), 0);

    let path = write(&table, OutputFormat::Json, dir.path(), "vuoto");
    let value: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(value, serde_json::json!([]));

    let path = write(&table, OutputFormat::Geojson, dir.path(), "vuoto");
    assert!(read_geojson(&path).features.is_empty());

    let path = write(&table, OutputFormat::Geoparquet, dir.path(), "vuoto");
    let (df, geo) = read_parquet(&path);
    assert_eq!(df.height(), 0);
    assert_eq!(df.width(), 8);
    assert_eq!(
        geo["columns"]["geometry"]["geometry_types"],
        serde_json::json!([])
    );

    let path = write(&table, OutputFormat::Fgb, dir.path(), "vuoto");
    let fgb = read_fgb(&path);
    assert_eq!(fgb.count, 0);
    assert_eq!(fgb.columns.len(), 8, "fid and the 7 columns");

    let path = write(&table, OutputFormat::Gpkg, dir.path(), "vuoto");
    let db = rusqlite::Connection::open(&path).unwrap();
    let count: i64 = db
        .query_row("SELECT count(*) FROM vuoto", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
    let min_x: Option<f64> = db
        .query_row("SELECT min_x FROM gpkg_contents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(min_x, None);
}

#[test]
fn geo_formats_refuse_tables_without_geometry() {
    let dir = tempfile::tempdir().unwrap();
    for format in OutputFormat::ALL {
        let path = dir.path().join(format!("x.{}", format.extension()));
        let result = write_table(&tabular(), format, &path, "x");
        if format.needs_geometry() {
            match result {
                Err(WriteError::NoGeometry { path: p, format: f }) => {
                    assert_eq!((p, f), (path.clone(), format));
                }
                other => panic!("{format}: expected NoGeometry, got {other:?}"),
            }
            assert!(!path.exists(), "{format}: nothing written");
        } else {
            result.unwrap();
        }
    }
}

#[test]
fn misaligned_geometries_and_unsupported_columns_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.geojson");
    let mut table = layer(points());
    table.geoms.as_mut().unwrap().pop();
    let err = write_table(&table, OutputFormat::Geojson, &path, "x").unwrap_err();
    assert!(
        matches!(
            err,
            WriteError::Misaligned {
                rows: 4,
                geoms: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("x.geojson"), "{err}");

    let table = Table {
        df: DataFrame::new_infer_height(vec![Column::new("piano".into(), [1i32, 2])]).unwrap(),
        geoms: None,
    };
    let path = dir.path().join("x.csv");
    let err = write_table(&table, OutputFormat::Csv, &path, "x").unwrap_err();
    match &err {
        WriteError::UnsupportedColumn { column, dtype, .. } => {
            assert_eq!(column, "piano");
            assert_eq!(dtype, "i32");
        }
        other => panic!("expected UnsupportedColumn, got {other:?}"),
    }
    assert_eq!(err.path(), path);

    let err = write_table(
        &tabular(),
        OutputFormat::Csv,
        Path::new("/nonexistent/dir/x.csv"),
        "x",
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::Io { .. }), "{err:?}");
}

// ---------------------------------------------------------------------------------------
// Sample set for tests/conformance/check_outputs.py
// ---------------------------------------------------------------------------------------

/// Writes every format of four layers (points with a null geometry, polygons, mixed
/// types, empty) and one plain table, plus `expected.json` (feature
/// counts and extents from the literals above) into `$PORTALE_SAMPLE_OUT`, or a temporary
/// directory when unset.
#[test]
fn write_sample_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("PORTALE_SAMPLE_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    fs::create_dir_all(&dir).unwrap();

    // (stem, table, rows, rows with a geometry, extent)
    let layers = [
        ("punti", layer(points()), 4, 3, Some(POINTS_EXTENT)),
        ("aree-verdi", layer(areas()), 3, 2, Some(AREAS_EXTENT)),
        ("misto", layer(mixed()), 3, 3, Some(MIXED_EXTENT)),
        ("vuoto", empty_layer(), 0, 0, None),
    ];
    let mut expected = serde_json::Map::new();
    for (stem, table, rows, with_geometry, extent) in &layers {
        for format in OutputFormat::ALL {
            let path = write(table, format, &dir, stem);
            assert!(fs::metadata(&path).unwrap().len() > 0, "{}", path.display());
        }
        expected.insert(
            stem.to_string(),
            serde_json::json!({
                "features": rows,
                "features_with_geometry": with_geometry,
                "extent": extent,
            }),
        );
    }
    for format in [OutputFormat::Csv, OutputFormat::Json] {
        write(&tabular(), format, &dir, "scuole");
    }
    expected.insert("scuole".into(), serde_json::json!({ "features": 5 }));
    fs::write(
        dir.join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap(),
    )
    .unwrap();
}
