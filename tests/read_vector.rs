//! Vector readers on real data: Desio's defibrillators (GeoJSON, and the Shapefile,
//! GeoPackage, FlatGeobuf and KML that GDAL's ogr2ogr made from it) and Florence's KML.
//! Expected values come from the files and from GDAL's `ogrinfo` (see SOURCES.md).

use std::collections::BTreeSet;
use std::path::PathBuf;

use geo_types::{Geometry, Point};
use portale::etl::read::{SourceFormat, SourceOptions, read_source};
use portale::etl::table::RawTable;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/read")
        .join(name)
}

fn read(name: &str, format: SourceFormat) -> RawTable {
    read_source(&fixture(name), format, &SourceOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn cell(t: &RawTable, col: &str, row: usize) -> Option<String> {
    t.df.column(col)
        .unwrap_or_else(|e| panic!("{e}; columns: {:?}", t.df.get_column_names()))
        .str()
        .unwrap()
        .get(row)
        .map(str::to_string)
}

fn column(t: &RawTable, col: &str) -> Vec<Option<String>> {
    (0..t.len()).map(|i| cell(t, col, i)).collect()
}

fn detected<'a>(t: &'a RawTable, key: &str) -> Option<&'a str> {
    t.detected
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn point(t: &RawTable, row: usize) -> Point<f64> {
    match t.geoms.as_ref().expect("geometries")[row].as_ref() {
        Some(Geometry::Point(p)) => *p,
        other => panic!("expected a point, got {other:?}"),
    }
}

fn assert_close(p: Point<f64>, x: f64, y: f64) {
    assert!(
        (p.x() - x).abs() < 1e-6 && (p.y() - y).abs() < 1e-6,
        "{p:?} != ({x}, {y})"
    );
}

const FIRST_TITLE: &str = "SOCIETA’ DI SCHERMA, VIA SANTA CATERINA 13";

#[test]
fn geojson_with_string_coordinates() {
    let t = read("desio_defibrillatori.geojson", SourceFormat::Geojson);
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(4326));
    assert_eq!(t.rows[0], 1);
    assert_eq!(t.df.width(), 10);
    // 24 points, two coordinates each, all written as JSON strings.
    assert_eq!(detected(&t, "coordinates_as_strings"), Some("48"));
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
    assert_eq!(
        cell(&t, "availability", 0).as_deref(),
        Some("disponibilità struttura ospitante")
    );
    assert_eq!(cell(&t, "host", 0), None);
    assert_eq!(cell(&t, "marker-color", 0).as_deref(), Some("#E56C69"));
    assert_close(point(&t, 0), 9.205079, 45.626687);
    assert_close(point(&t, 23), 9.2101803, 45.6140767);
}

#[test]
fn shapefile_in_gauss_boaga_with_esri_prj() {
    let t = read("desio_dae_3003.shp", SourceFormat::Shapefile);
    assert_eq!(t.len(), 24);
    // The .prj is ESRI WKT without AUTHORITY: found by name.
    assert_eq!(t.crs, Some(3003));
    assert_eq!(detected(&t, "encoding"), Some("utf-8"));
    assert_eq!(detected(&t, "encoding_source"), Some(".cpg"));
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
    // dBase field names are cut at 10 characters.
    assert_eq!(
        cell(&t, "availabili", 0).as_deref(),
        Some("disponibilità struttura ospitante")
    );
    assert_eq!(cell(&t, "lastVerifi", 0), None);
    // ogrinfo: POINT (1516014.28585294 5052612.02150578)
    assert_close(point(&t, 0), 1516014.28585294, 5052612.02150578);
    let geojson = read("desio_defibrillatori.geojson", SourceFormat::Geojson);
    assert_eq!(column(&t, "title"), column(&geojson, "title"));
}

#[test]
fn zipped_windows_1252_shapefile() {
    let t = read("desio_dae_cp1252.zip", SourceFormat::Shapefile);
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(3003));
    assert_eq!(detected(&t, "encoding"), Some("windows-1252"));
    // ’ and à are single Windows-1252 bytes (0x92, 0xE0) in this .dbf.
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
    assert_eq!(
        cell(&t, "availabili", 0).as_deref(),
        Some("disponibilità struttura ospitante")
    );
    assert_close(point(&t, 0), 1516014.28585294, 5052612.02150578);
}

#[test]
fn shapefile_without_cpg_defaults_to_windows_1252() {
    let dir = tempfile::tempdir().unwrap();
    let zip = std::fs::File::open(fixture("desio_dae_cp1252.zip")).unwrap();
    let mut archive = zip::ZipArchive::new(zip).unwrap();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.enclosed_name().unwrap();
        if name.extension().unwrap() == "cpg" {
            continue;
        }
        let out = dir.path().join(name.file_name().unwrap());
        std::io::copy(&mut entry, &mut std::fs::File::create(out).unwrap()).unwrap();
    }
    let t = read_source(
        &dir.path().join("desio_dae_cp1252.shp"),
        SourceFormat::Shapefile,
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(detected(&t, "encoding"), Some("windows-1252"));
    assert_eq!(detected(&t, "encoding_source"), Some("default"));
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
}

#[test]
fn geopackage_first_layer() {
    let t = read("desio_dae.gpkg", SourceFormat::Gpkg);
    assert_eq!(detected(&t, "layer"), Some("defibrillatori"));
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(4326));
    // The fid primary key and the geometry column are not attributes.
    assert_eq!(t.df.width(), 10);
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
    assert_eq!(cell(&t, "lastVerifiedAt", 0), None);
    assert_close(point(&t, 0), 9.205079, 45.626687);
    let geojson = read("desio_defibrillatori.geojson", SourceFormat::Geojson);
    assert_eq!(column(&t, "title"), column(&geojson, "title"));
    assert_eq!(column(&t, "availability"), column(&geojson, "availability"));
}

#[test]
fn geopackage_unknown_layer_lists_layers() {
    let opts = SourceOptions {
        layer: Some("ospedali".into()),
        ..SourceOptions::default()
    };
    let err = read_source(&fixture("desio_dae.gpkg"), SourceFormat::Gpkg, &opts).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("desio_dae.gpkg"), "{msg}");
    assert!(
        msg.contains("\"ospedali\"") && msg.contains("\"defibrillatori\""),
        "{msg}"
    );
}

#[test]
fn flatgeobuf_in_spatial_index_order() {
    let t = read("desio_dae.fgb", SourceFormat::Fgb);
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(4326));
    assert_eq!(t.df.width(), 10);
    // ogrinfo's first feature: features are stored in Hilbert order, not the source's.
    assert_eq!(
        cell(&t, "title", 0).as_deref(),
        Some("NUOVO CIMITERO COMUNALE, PIAZZALE DIVINA MISERICORDIA")
    );
    assert_close(point(&t, 0), 9.209982, 45.604717);
    let geojson = read("desio_defibrillatori.geojson", SourceFormat::Geojson);
    let titles = |t: &RawTable| column(t, "title").into_iter().collect::<BTreeSet<_>>();
    assert_eq!(titles(&t), titles(&geojson));
}

#[test]
fn kml_schema_data_written_by_gdal() {
    let t = read("desio_dae.kml", SourceFormat::Kml);
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(4326));
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
    assert_eq!(
        cell(&t, "title", 1).as_deref(),
        Some("CENTRO RICREATIVO \" IL GIRASOLE\", VIA S.PIETRO 14")
    );
    assert_eq!(
        cell(&t, "description", 0).as_deref(),
        Some("POSTAZIONE CON DEFIBRILLATORE DAE")
    );
    assert_close(point(&t, 0), 9.205079, 45.626687);
    let geojson = read("desio_defibrillatori.geojson", SourceFormat::Geojson);
    assert_eq!(column(&t, "title"), column(&geojson, "title"));
}

#[test]
fn kml_florence_fountains() {
    let t = read("firenze_fontanelli.kml", SourceFormat::Kml);
    assert_eq!(t.len(), 30);
    assert_eq!(cell(&t, "name", 0).as_deref(), Some("3 GAVINANA GALLUZZO"));
    // Attributes sit in an HTML table inside the description; it stays text.
    assert!(
        cell(&t, "description", 0)
            .unwrap()
            .contains("<td>Via del Paradiso</td>")
    );
    assert_close(point(&t, 0), 11.289223, 43.755975);
}

#[test]
fn kml_florence_cycle_paths_multigeometry() {
    let t = read("firenze_ciclabili.kml", SourceFormat::Kml);
    assert_eq!(t.len(), 8);
    assert_eq!(
        cell(&t, "name", 0).as_deref(),
        Some("percorsi_ciclabili.fid--3164a58f_135e27f0ca1_713")
    );
    match t.geoms.as_ref().unwrap()[0].as_ref() {
        Some(Geometry::GeometryCollection(gc)) => {
            assert_eq!(gc.0.len(), 2);
            match &gc.0[1] {
                Geometry::LineString(ls) => {
                    let first = ls.0[0];
                    assert!((first.x - 11.30475678).abs() < 1e-9);
                    assert!((first.y - 43.75129055).abs() < 1e-9);
                }
                other => panic!("expected a line, got {other:?}"),
            }
        }
        other => panic!("expected a collection, got {other:?}"),
    }
}

/// The GDAL reader (cargo feature `gdal`) on the shapefile: the same values as the
/// pure-Rust reader, which `ogrinfo` confirms.
#[cfg(feature = "gdal")]
#[test]
fn gdal_reads_shapefile() {
    let t = read("desio_dae_3003.shp", SourceFormat::Gdal);
    assert_eq!(detected(&t, "layer"), Some("desio_dae_3003"));
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(3003));
    assert_eq!(cell(&t, "title", 0).as_deref(), Some(FIRST_TITLE));
    assert_eq!(
        cell(&t, "availabili", 0).as_deref(),
        Some("disponibilità struttura ospitante")
    );
    assert_eq!(cell(&t, "lastVerifi", 0), None);
    assert_close(point(&t, 0), 1516014.28585294, 5052612.02150578);
}

/// KML through GDAL: EPSG:4326 must come out longitude first.
#[cfg(feature = "gdal")]
#[test]
fn gdal_reads_kml_lon_lat() {
    let t = read("desio_dae.kml", SourceFormat::Gdal);
    assert_eq!(t.len(), 24);
    assert_eq!(t.crs, Some(4326));
    assert_close(point(&t, 0), 9.205079, 45.626687);
}

/// GDAL cannot open SQLite-based files inside portale (symbol clash with rusqlite's
/// bundled SQLite, a crash): the reader refuses them and points to `format = "gpkg"`.
#[cfg(feature = "gdal")]
#[test]
fn gdal_refuses_sqlite_files() {
    let err = read_source(
        &fixture("desio_dae.gpkg"),
        SourceFormat::Gdal,
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("format = \"gpkg\""), "{err}");
}
