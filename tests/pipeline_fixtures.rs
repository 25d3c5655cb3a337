//! The whole ETL (recipe → read → schema → geometry → transforms) on real municipal
//! files. Expected values come from the files themselves and, for coordinates, from
//! PROJ's `cs2cs` (Debian proj-bin 9.1.1), computed once and written here.

mod common;
use common::CATALOG;

use std::path::{Path, PathBuf};

use geo::Winding;
use geo_types::Geometry;
use polars::prelude::*;
use portale::config::{CatalogConfig, Recipe};
use portale::etl::pipeline::{self, Processed};
use portale::model::{FieldType, GeometryType};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Runs the pipeline on `files` (fixtures copied into a dataset folder) with `recipe`.
fn run(recipe: &str, files: &[(&str, &str)]) -> Processed {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("datasets").join("prova");
    std::fs::create_dir_all(&ds).unwrap();
    for (name, from) in files {
        std::fs::copy(fixture(from), ds.join(name)).unwrap();
    }
    let path = ds.join("dataset.toml");
    std::fs::write(&path, recipe).unwrap();
    let catalog = CatalogConfig::parse(Path::new("catalog.toml"), CATALOG).unwrap();
    let r = Recipe::load(&path).unwrap();
    r.validate(&catalog).unwrap();
    pipeline::process(&r, &catalog, &|_| {}).unwrap()
}

fn meta(files: &str) -> String {
    format!(
        "[dataset]\ntitle = \"t\"\ndescription = \"d\"\nthemes = [\"GOVE\"]\nkeywords = [\"k\"]\nfrequency = \"ANNUAL\"\n\n[source]\nfiles = [{files}]\n"
    )
}

fn field_type(p: &Processed, name: &str) -> FieldType {
    p.fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}: {:?}", p.fields))
        .field_type
}

fn str_at(p: &Processed, col: &str, i: usize) -> Option<String> {
    let c = p.table.df.column(col).unwrap();
    c.str().unwrap().get(i).map(|s| s.to_string())
}

fn f64_at(p: &Processed, col: &str, i: usize) -> Option<f64> {
    let c = p.table.df.column(col).unwrap();
    c.f64().unwrap().get(i)
}

#[test]
fn alessandria_trees_are_reprojected_from_gauss_boaga_like_cs2cs() {
    let recipe = format!(
        "{}\n[geometry]\nx = \"CoordX\"\ny = \"CoordY\"\ncrs = 3003\n",
        meta("\"alberi.csv\"")
    );
    let p = run(&recipe, &[("alberi.csv", "read/alessandria_alberi.csv")]);
    assert_eq!(p.quality.rows_read, 300);
    assert_eq!(p.table.len(), 300);
    let layer = p.layer.as_ref().unwrap();
    assert_eq!(layer.geometry_type, GeometryType::Point);
    assert_eq!(layer.source_crs, 3003);
    // `echo "1471208.59574 4973349.35375" | cs2cs -f "%.9f" EPSG:3003 EPSG:4326`
    // → 44.912816464 8.634909549
    let Some(Geometry::Point(pt)) = &p.table.geoms.as_ref().unwrap()[0] else {
        panic!("first geometry is not a point")
    };
    assert!((pt.x() - 8.634909549).abs() < 1e-7, "lon {}", pt.x());
    assert!((pt.y() - 44.912816464).abs() < 1e-7, "lat {}", pt.y());
    // The coordinates are the geometry, not attributes; the ISO date stays a date.
    assert!(p.table.df.column("coordx").is_err());
    assert_eq!(field_type(&p, "datacensimento"), FieldType::Date);
    assert_eq!(
        str_at(&p, "essenza", 0).as_deref(),
        Some("Fraxinus Excelsior")
    );
}

#[test]
fn brescia_dates_follow_the_recipe_format() {
    // The file is not dd/mm/yyyy as its portal says: it has "01/14/2023". Without a
    // stated format the ambiguous column stays text rather than being misread...
    let p = run(
        &meta("\"accessi.csv\""),
        &[("accessi.csv", "read/brescia_accessi_ps_2023.csv")],
    );
    assert_eq!(field_type(&p, "data"), FieldType::String);
    // ... and with the format the recipe states, every row is a date.
    let recipe = format!("{}date_format = \"%m/%d/%Y\"\n", meta("\"accessi.csv\""));
    let p = run(
        &recipe,
        &[("accessi.csv", "read/brescia_accessi_ps_2023.csv")],
    );
    assert_eq!(p.table.len(), 200);
    assert_eq!(field_type(&p, "data"), FieldType::Date);
    assert_eq!(field_type(&p, "accessi"), FieldType::Integer);
    let d = p
        .table
        .df
        .column("data")
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::String)
        .unwrap();
    assert_eq!(d.str().unwrap().get(0), Some("2023-01-01"));
    let t = p.extent.temporal.as_ref().unwrap();
    assert_eq!(t.start, "2023-01-01");
    let d14 = d
        .str()
        .unwrap()
        .iter()
        .flatten()
        .filter(|s| *s == "2023-01-14")
        .count();
    assert_eq!(d14, 11, "grep -c '^01/14/2023' gives 11");
    // "030159 - P.O. ..." is text, kept whole.
    assert!(str_at(&p, "presidio", 0).unwrap().starts_with("030159 - "));
}

#[test]
fn lizzano_bom_and_comma_decimals() {
    let p = run(
        &meta("\"pop.csv\""),
        &[("pop.csv", "read/lizzano_popolazione.csv")],
    );
    // The BOM is not part of the first header.
    assert_eq!(p.fields[0].name, "anno");
    assert_eq!(field_type(&p, "anno"), FieldType::Integer);
    assert_eq!(field_type(&p, "perc_m"), FieldType::Number);
    assert_eq!(f64_at(&p, "perc_m", 0), Some(48.98));
    assert_eq!(f64_at(&p, "perc_f", 0), Some(51.02));
}

#[test]
fn giovinazzo_quoted_comma_decimals() {
    let p = run(
        &meta("\"pop.csv\""),
        &[("pop.csv", "read/giovinazzo_popolazione.csv")],
    );
    assert_eq!(
        field_type(&p, "percentuale_matrimoni_civili"),
        FieldType::Number
    );
    assert_eq!(
        f64_at(&p, "percentuale_matrimoni_civili", 0),
        Some(35.95505618)
    );
    assert_eq!(
        f64_at(&p, "percentuale_matrimoni_religiosi", 1),
        Some(28.125)
    );
}

#[test]
fn istat_list_in_windows_1252_keeps_codes_as_text() {
    let p = run(
        &meta("\"comuni.csv\""),
        &[("comuni.csv", "read/istat_comuni_2023_cp1252.csv")],
    );
    let codes = p
        .fields
        .iter()
        .find(|f| f.name.starts_with("codice_comune_formato_alfanumerico"))
        .expect("ISTAT alphanumeric code column");
    assert_eq!(codes.field_type, FieldType::String);
    assert_eq!(str_at(&p, &codes.name, 0).as_deref(), Some("001001"));
    assert!(
        p.quality
            .detected
            .iter()
            .any(|d| d.property == "encoding" && d.value == "windows-1252")
    );
    // "Agliè" decoded from Windows-1252.
    let names = p
        .fields
        .iter()
        .find(|f| f.name == "denominazione_in_italiano")
        .unwrap();
    let col = p.table.df.column(&names.name).unwrap();
    assert!(col.str().unwrap().iter().flatten().any(|n| n == "Agliè"));
}

#[test]
fn desio_geojson_points() {
    let p = run(
        &meta("\"dae.geojson\""),
        &[("dae.geojson", "read/desio_defibrillatori.geojson")],
    );
    assert_eq!(p.table.len(), 24);
    assert_eq!(p.layer.as_ref().unwrap().geometry_type, GeometryType::Point);
    let b = p.extent.bbox.unwrap();
    // Desio (MB): around 9.21 E, 45.62 N.
    assert!(
        b[0] > 9.1 && b[2] < 9.3 && b[1] > 45.5 && b[3] < 45.7,
        "{b:?}"
    );
}

#[test]
fn firenze_kml_lines() {
    let p = run(
        &meta("\"ciclabili.kml\""),
        &[("ciclabili.kml", "read/firenze_ciclabili.kml")],
    );
    assert_eq!(p.table.len(), 8);
    // Each Placemark is a MultiGeometry of a label Point and the LineString
    // (`grep -c '<MultiGeometry>'` = `grep -c '<LineString>'` = `grep -c '<Point>'` = 8):
    // a mixed collection stays a collection, and the layer says so.
    assert_eq!(
        p.layer.as_ref().unwrap().geometry_type,
        GeometryType::Geometry
    );
    for g in p.table.geoms.as_ref().unwrap().iter().flatten() {
        let Geometry::GeometryCollection(gc) = g else {
            panic!("{g:?}")
        };
        assert!(gc.0.iter().any(|p| matches!(p, Geometry::LineString(_))));
    }
    let b = p.extent.bbox.unwrap();
    // Florence: around 11.25 E, 43.77 N.
    assert!(
        b[0] > 11.1 && b[2] < 11.4 && b[1] > 43.7 && b[3] < 43.9,
        "{b:?}"
    );
}

#[test]
fn openpolis_clockwise_boundary_is_rewound() {
    let p = run(
        &meta("\"confine.geojson\""),
        &[("confine.geojson", "capannori_046007.geojson")],
    );
    let Some(Geometry::Polygon(poly)) = &p.table.geoms.as_ref().unwrap()[0] else {
        panic!("not a polygon")
    };
    assert!(poly.exterior().is_ccw());
    assert_eq!(p.quality.geometries_repaired, 1);
    assert!(
        p.quality.repairs.iter().any(|r| r.contains("rewound")),
        "{:?}",
        p.quality.repairs
    );
}

#[test]
fn aggregation_publishes_no_personal_data() {
    let csv = "VERBALE;DATA;VIA;TARGA;IMPORTO\r\n1;03/01/2024;Via Romana;AB123CD;42,00\r\n2;15/01/2024;Via Romana;EF456GH;87,50\r\n3;20/01/2024;Via Romana;AB123CD;42,00\r\n4;02/02/2024;Via di Tiglio;ZZ999ZZ;168,00\r\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v.csv"), csv).unwrap();
    let recipe = format!(
        "{}\n[[column]]\nsource = \"TARGA\"\npersonal = true\n\n[[column]]\nsource = \"DATA\"\ntype = \"date\"\n\n[[derive]]\nname = \"mese\"\nfrom = \"data\"\nfn = \"year_month\"\n\n[aggregate]\ngroup_by = [\"mese\", \"via\"]\ncount = \"verbali\"\nsum = {{ importo_totale = \"importo\" }}\nmin_count = 2\n",
        meta("\"v.csv\"")
    );
    let ds = dir.path().join("datasets/prova");
    std::fs::create_dir_all(&ds).unwrap();
    std::fs::copy(dir.path().join("v.csv"), ds.join("v.csv")).unwrap();
    std::fs::write(ds.join("dataset.toml"), &recipe).unwrap();
    let catalog = CatalogConfig::parse(Path::new("catalog.toml"), CATALOG).unwrap();
    let r = Recipe::load(&ds.join("dataset.toml")).unwrap();
    let p = pipeline::process(&r, &catalog, &|_| {}).unwrap();
    // Only January on Via Romana has 2+ fines: one group of 3.
    assert_eq!(p.table.len(), 1);
    let names: Vec<&str> = p.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["mese", "via", "verbali", "importo_totale"]);
    assert_eq!(str_at(&p, "mese", 0).as_deref(), Some("2024-01"));
    assert_eq!(
        p.table.df.column("verbali").unwrap().i64().unwrap().get(0),
        Some(3)
    );
    assert_eq!(f64_at(&p, "importo_totale", 0), Some(171.5));
    assert!(
        p.quality
            .personal_data_dropped
            .contains(&"TARGA".to_string())
    );
}
