//! Bad input: each case asserts the error text (file, line or row, column, value, what
//! was expected) and that the generation being served is left byte-identical.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use portale::config;
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};

const CATALOG: &str = r#"[catalog]
title = "Dati aperti di prova"
description = "Catalogo di prova"
base_url = "http://127.0.0.1:8080"
homepage = "https://www.comune.capannori.lu.it"
languages = ["it", "en"]
default_license = "A21_CCBY40"
istat_code = "046007"
territory_bbox = [10.487, 43.750, 10.659, 43.943]

[publisher]
name = "Comune di Capannori"
ipa = "c_b648"

[contact_point]
name = "Ufficio Sistemi Informativi"
email = "opendata@comune.capannori.lu.it"
"#;

const GOOD_RECIPE: &str = r#"[dataset]
title = "Scuole"
description = "Elenco delle scuole"
themes = ["EDUC"]
keywords = ["scuole"]
frequency = "ANNUAL"

[source]
files = ["scuole.csv"]
"#;

const GOOD_CSV: &str =
    "CODICE;NOME;ALUNNI\r\nLU001;Primaria Capannori;120\r\nLU002;Infanzia Lammari;45\r\n";

/// A site with one good dataset, built once: the generation a bad build must not touch.
struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    site: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("catalog")).unwrap();
        fs::write(root.join("catalog/catalog.toml"), CATALOG).unwrap();
        let s = Site {
            site: root.join("site"),
            root,
            _dir: dir,
        };
        s.dataset(
            "scuole",
            GOOD_RECIPE,
            &[("scuole.csv", GOOD_CSV.as_bytes())],
        );
        let config = config::load_site(&s.root).unwrap();
        build::build(&config, &s.layout(), &opts(), &Silent).unwrap();
        s
    }

    fn layout(&self) -> SiteLayout {
        SiteLayout::new(&self.site)
    }

    fn dataset(&self, id: &str, recipe: &str, files: &[(&str, &[u8])]) {
        let d = self.root.join("datasets").join(id);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("dataset.toml"), recipe).unwrap();
        for (name, bytes) in files {
            fs::write(d.join(name), bytes).unwrap();
        }
    }

    /// Every file of the site except the lock and tmp/, with its bytes.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(base).unwrap().to_path_buf();
                if rel.starts_with("tmp") || rel.ends_with(".lock") {
                    continue;
                }
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.insert(rel, fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.site, &self.site, &mut out);
        out
    }

    /// Runs a build that must fail; returns the error text and checks the site is untouched.
    fn fails(&self) -> String {
        let before = self.snapshot();
        let current = self.layout().current_generation().unwrap();
        let message = match config::load_site(&self.root) {
            Err(e) => e.to_string(),
            Ok(config) => match build::build(&config, &self.layout(), &opts(), &Silent) {
                Ok(r) => panic!(
                    "the build should have failed, it published {:?}",
                    r.generation
                ),
                Err(e) => e.to_string(),
            },
        };
        assert_eq!(self.layout().current_generation().unwrap(), current);
        assert!(
            before == self.snapshot(),
            "the served site changed after a failed build"
        );
        message
    }
}

fn opts() -> BuildOptions {
    BuildOptions {
        jobs: 2,
        keep_going: false,
    }
}

fn recipe_with(extra: &str) -> String {
    format!("{GOOD_RECIPE}{extra}")
}

fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "expected {p:?} in the error:\n{msg}");
    }
}

#[test]
fn unknown_recipe_key_names_line_and_nearest_key() {
    let s = Site::new();
    let r = GOOD_RECIPE.replace("title = \"Scuole\"", "titel = \"Scuole\"");
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "datasets/scuole/dataset.toml",
            "line 2",
            "unknown key `titel`",
            "did you mean `title`?",
        ],
    );
}

#[test]
fn wrong_type_names_line() {
    let s = Site::new();
    s.dataset("scuole", &recipe_with("header_row = \"uno\"\n"), &[]);
    let m = s.fails();
    assert_has(&m, &["dataset.toml, line 10", "wrong type"]);
}

#[test]
fn missing_source_file_suggests_the_near_one() {
    let s = Site::new();
    s.dataset(
        "scuole",
        &GOOD_RECIPE.replace("scuole.csv", "scuola.csv"),
        &[],
    );
    let m = s.fails();
    assert_has(
        &m,
        &[
            "line 9",
            "source file \"scuola.csv\" not found",
            "did you mean \"scuole.csv\"?",
        ],
    );
}

#[test]
fn unknown_theme_is_refused() {
    let s = Site::new();
    s.dataset("scuole", &GOOD_RECIPE.replace("\"EDUC\"", "\"EDU\""), &[]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "line 4",
            "\"EDU\" is not an EU data-theme code",
            "did you mean \"EDUC\"?",
        ],
    );
}

#[test]
fn unknown_frequency_is_refused() {
    let s = Site::new();
    s.dataset(
        "scuole",
        &GOOD_RECIPE.replace("\"ANNUAL\"", "\"ANUAL\""),
        &[],
    );
    let m = s.fails();
    assert_has(
        &m,
        &[
            "line 6",
            "not an EU frequency code",
            "did you mean \"ANNUAL\"?",
        ],
    );
}

#[test]
fn unknown_licence_is_refused() {
    let s = Site::new();
    s.dataset(
        "scuole",
        &GOOD_RECIPE.replace("frequency", "license = \"CC-BY-9.0\"\nfrequency"),
        &[],
    );
    let m = s.fails();
    assert_has(&m, &["line 6", "\"CC-BY-9.0\" is not an AgID licence id"]);
}

#[test]
fn invalid_dataset_id_is_refused() {
    let s = Site::new();
    s.dataset(
        "Scuole_2024",
        GOOD_RECIPE,
        &[("scuole.csv", GOOD_CSV.as_bytes())],
    );
    let m = s.fails();
    assert_has(&m, &["\"Scuole_2024\" is not a valid dataset id"]);
}

#[test]
fn reserved_dataset_id_is_refused() {
    let s = Site::new();
    s.dataset("api", GOOD_RECIPE, &[("scuole.csv", GOOD_CSV.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["\"api\" is a reserved route name"]);
}

#[test]
fn unknown_catalog_key_suggests_nearest() {
    let s = Site::new();
    fs::write(
        s.root.join("catalog/catalog.toml"),
        CATALOG.replace("homepage =", "home_page ="),
    )
    .unwrap();
    let m = s.fails();
    assert_has(
        &m,
        &[
            "catalog/catalog.toml",
            "line 5",
            "unknown key `home_page`",
            "did you mean `homepage`?",
        ],
    );
}

#[test]
fn unsupported_crs_is_refused() {
    let s = Site::new();
    let r = recipe_with("\n[geometry]\nx = \"X\"\ny = \"Y\"\ncrs = 9999\n");
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(&m, &["line 14", "EPSG:9999 is not supported"]);
}

#[test]
fn broken_quote_names_the_line() {
    let s = Site::new();
    let csv =
        "CODICE;NOME;ALUNNI\r\nLU001;\"Primaria Capannori;120\r\nLU002;Infanzia Lammari;45\r\n";
    s.dataset("scuole", GOOD_RECIPE, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["scuole.csv", "line 2"]);
}

#[test]
fn windows_1252_declared_as_utf8_is_explained() {
    let s = Site::new();
    let mut csv = b"CODICE;NOME;ALUNNI\r\nLU001;Localit".to_vec();
    csv.push(0xE0); // 'à' in Windows-1252
    csv.extend_from_slice(b" Marlia;120\r\n");
    s.dataset(
        "scuole",
        &recipe_with("encoding = \"utf-8\"\n"),
        &[("scuole.csv", &csv)],
    );
    let m = s.fails();
    assert_has(&m, &["scuole.csv, row 2", "encoding = \"windows-1252\""]);
}

#[test]
fn empty_file_is_refused() {
    let s = Site::new();
    s.dataset("scuole", GOOD_RECIPE, &[("scuole.csv", b"")]);
    let m = s.fails();
    assert_has(&m, &["scuole.csv", "empty"]);
}

#[test]
fn header_without_rows_is_refused() {
    let s = Site::new();
    s.dataset(
        "scuole",
        GOOD_RECIPE,
        &[("scuole.csv", b"CODICE;NOME;ALUNNI\r\n")],
    );
    let m = s.fails();
    assert_has(&m, &["scuole.csv", "no data rows"]);
}

#[test]
fn ragged_row_names_line_and_counts() {
    let s = Site::new();
    let csv = "CODICE;NOME;ALUNNI\r\nLU001;Primaria Capannori;120\r\nLU002;Infanzia Lammari\r\n";
    s.dataset("scuole", GOOD_RECIPE, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["scuole.csv, row 3", "2 fields, expected 3"]);
}

#[test]
fn ten_megabyte_field_is_refused() {
    let s = Site::new();
    let mut csv = String::from("CODICE;NOME;ALUNNI\r\nLU001;");
    csv.push_str(&"x".repeat(10 * 1024 * 1024));
    csv.push_str(";120\r\n");
    s.dataset("scuole", GOOD_RECIPE, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["scuole.csv", "row 2", "NOME"]);
}

#[test]
fn duplicate_ids_are_rejected_with_the_first_row() {
    let s = Site::new();
    let csv = "CODICE;NOME;ALUNNI\r\nLU001;Primaria Capannori;120\r\nLU001;Infanzia Lammari;45\r\n";
    let r = recipe_with("max_rejected = 0.0\n\n[[column]]\nsource = \"CODICE\"\nunique = true\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "scuole.csv, row 3",
            "column \"CODICE\"",
            "value \"LU001\"",
            "duplicate value (first seen on row 2)",
        ],
    );
}

#[test]
fn impossible_coordinates_are_rejected() {
    let s = Site::new();
    let csv = "CODICE;X;Y\r\nLU001;1625432,18;4853210,55\r\nLU002;0;0\r\n";
    let r = recipe_with("max_rejected = 0.0\n\n[geometry]\nx = \"X\"\ny = \"Y\"\ncrs = 3003\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["scuole.csv, row 3", "geometry rejected"]);
}

#[test]
fn invalid_wkt_is_rejected() {
    let s = Site::new();
    let csv =
        "CODICE;GEOM\r\nLU001;POINT(10.6 43.85)\r\nLU002;POLYGON((10.6 43.85, 10.61 43.85\r\n";
    let r = recipe_with("max_rejected = 0.0\n\n[geometry]\nwkt = \"GEOM\"\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(
        &m,
        &["scuole.csv, row 3", "column \"GEOM\"", "not valid WKT"],
    );
}

#[test]
fn self_intersecting_polygon_that_cannot_be_kept_is_reported() {
    let s = Site::new();
    // A ring with fewer than four positions cannot be a polygon at all.
    let csv = "CODICE;GEOM\r\nLU001;POINT(10.6 43.85)\r\nLU002;POLYGON((10.6 43.85, 10.61 43.86, 10.6 43.85))\r\n";
    let r = recipe_with("max_rejected = 0.0\n\n[geometry]\nwkt = \"GEOM\"\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["scuole.csv, row 3", "geometry rejected"]);
}

#[test]
fn missing_column_suggests_the_near_one() {
    let s = Site::new();
    let r = recipe_with("\n[[column]]\nsource = \"ALUNI\"\n");
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "dataset.toml, line 12",
            "column \"ALUNI\" is not in the source",
            "did you mean \"ALUNNI\"?",
        ],
    );
}

#[test]
fn non_number_in_integer_column() {
    let s = Site::new();
    let csv =
        "CODICE;NOME;ALUNNI\r\nLU001;Primaria Capannori;120\r\nLU002;Infanzia Lammari;quaranta\r\n";
    let r =
        recipe_with("max_rejected = 0.0\n\n[[column]]\nsource = \"ALUNNI\"\ntype = \"integer\"\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "scuole.csv, row 3",
            "column \"ALUNNI\"",
            "value \"quaranta\"",
            "not an integer",
        ],
    );
}

#[test]
fn impossible_date() {
    let s = Site::new();
    let csv = "CODICE;APERTURA\r\nLU001;15/09/2024\r\nLU002;31/02/2024\r\n";
    let r =
        recipe_with("max_rejected = 0.0\n\n[[column]]\nsource = \"APERTURA\"\ntype = \"date\"\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "row 3",
            "value \"31/02/2024\"",
            "not a valid date in the form dd/mm/yyyy",
        ],
    );
}

#[test]
fn missing_required_value() {
    let s = Site::new();
    let csv = "CODICE;NOME;ALUNNI\r\nLU001;Primaria Capannori;120\r\nLU002;n.d.;45\r\n";
    let r = recipe_with("max_rejected = 0.0\n\n[[column]]\nsource = \"NOME\"\nrequired = true\n");
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["row 3", "column \"NOME\"", "missing required value"]);
}

#[test]
fn value_not_allowed() {
    let s = Site::new();
    let csv = "CODICE;STATO\r\nLU001;ATTIVA\r\nLU002;CHIUSA\r\n";
    let r = recipe_with(
        "max_rejected = 0.0\n\n[[column]]\nsource = \"STATO\"\nvalues = [\"ATTIVA\", \"CESSATA\"]\n",
    );
    s.dataset("scuole", &r, &[("scuole.csv", csv.as_bytes())]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "row 3",
            "value \"CHIUSA\"",
            "not one of the allowed values (ATTIVA, CESSATA)",
        ],
    );
}

#[test]
fn geo_format_on_a_table_is_refused() {
    let s = Site::new();
    let r = recipe_with("\n[output]\nformats = [\"csv\", \"geojson\"]\n");
    s.dataset("scuole", &r, &[("scuole.csv", GOOD_CSV.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["\"geojson\" needs geometries"]);
}

#[test]
fn unknown_output_format_suggests_nearest() {
    let s = Site::new();
    let r = recipe_with("\n[output]\nformats = [\"csv\", \"geoparket\"]\n");
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(
        &m,
        &[
            "line 12",
            "unknown output format \"geoparket\"",
            "did you mean \"geoparquet\"?",
        ],
    );
}

#[test]
fn filter_on_unknown_column() {
    let s = Site::new();
    let r = recipe_with("\n[[filter]]\ncolumn = \"alunni_totali\"\nop = \"gt\"\nvalue = 10\n");
    s.dataset("scuole", &r, &[("scuole.csv", GOOD_CSV.as_bytes())]);
    let m = s.fails();
    assert_has(
        &m,
        &["line 12", "\"alunni_totali\"", "did you mean \"alunni\"?"],
    );
}

#[test]
fn grouping_by_personal_data_is_refused() {
    let s = Site::new();
    let r = recipe_with(
        "\n[[column]]\nsource = \"NOME\"\npersonal = true\n\n[aggregate]\ngroup_by = [\"nome\"]\ncount = \"n\"\n",
    );
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(&m, &["cannot group by \"nome\": it is personal data"]);
}

#[test]
fn geometry_column_not_in_source() {
    let s = Site::new();
    let r = recipe_with("\n[geometry]\nlon = \"LON\"\nlat = \"LAT\"\n");
    s.dataset("scuole", &r, &[("scuole.csv", GOOD_CSV.as_bytes())]);
    let m = s.fails();
    assert_has(&m, &["geometry column \"LON\" is not in the source"]);
}

#[test]
fn invalid_geojson_is_refused() {
    let s = Site::new();
    let r = GOOD_RECIPE.replace("scuole.csv", "scuole.geojson");
    s.dataset(
        "scuole",
        &r,
        &[(
            "scuole.geojson",
            b"{\"type\": \"FeatureCollection\", \"features\": [",
        )],
    );
    let m = s.fails();
    assert_has(&m, &["scuole.geojson"]);
}

#[test]
fn zip_slip_is_refused() {
    use std::io::Write;
    let s = Site::new();
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("../evil.shp", o).unwrap();
        z.write_all(b"not a shapefile").unwrap();
        z.finish().unwrap();
    }
    let r = GOOD_RECIPE.replace("scuole.csv", "scuole.zip");
    s.dataset("scuole", &r, &[("scuole.zip", buf.get_ref())]);
    let m = s.fails();
    assert_has(&m, &["scuole.zip", "../evil.shp"]);
    assert!(!s.root.join("datasets/evil.shp").exists());
}

#[test]
fn a_good_change_after_failures_publishes() {
    let s = Site::new();
    let first = s.layout().current_generation().unwrap().unwrap();
    let csv = "CODICE;NOME;ALUNNI\r\nLU001;Primaria Capannori;121\r\nLU002;Infanzia Lammari;45\r\n";
    s.dataset("scuole", GOOD_RECIPE, &[("scuole.csv", csv.as_bytes())]);
    let config = config::load_site(&s.root).unwrap();
    let report = build::build(&config, &s.layout(), &opts(), &Silent).unwrap();
    let second = report.generation.unwrap();
    assert_ne!(first, second);
    let m = s.layout().read_manifest(&second).unwrap();
    assert_eq!(m.datasets[0].rows, 2);
    // Nothing changed: no new generation.
    let again = build::build(&config, &s.layout(), &opts(), &Silent).unwrap();
    assert!(again.up_to_date);
    assert_eq!(again.generation.as_deref(), Some(second.as_str()));
}

#[test]
fn keep_going_publishes_the_good_and_keeps_the_last_good_version_of_the_bad() {
    let s = Site::new();
    let first = s.layout().current_generation().unwrap().unwrap();
    let old = s.layout().read_manifest(&first).unwrap();
    // A second, good dataset, and the first one broken.
    s.dataset("mense", GOOD_RECIPE, &[("scuole.csv", GOOD_CSV.as_bytes())]);
    s.dataset(
        "scuole",
        GOOD_RECIPE,
        &[("scuole.csv", b"CODICE;NOME\r\n\"LU001;x\r\n")],
    );
    let config = config::load_site(&s.root).unwrap();
    let keep = BuildOptions {
        jobs: 2,
        keep_going: true,
    };
    let report = build::build(&config, &s.layout(), &keep, &Silent).unwrap();
    let failed: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, build::Status::Failed(_)))
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(failed, ["scuole"]);
    let new = s
        .layout()
        .read_manifest(report.generation.as_deref().unwrap())
        .unwrap();
    let ids: Vec<&str> = new.datasets.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["mense", "scuole"]);
    // The broken dataset is served as it was, byte for byte.
    assert_eq!(new.dataset("scuole"), old.dataset("scuole"));
    for d in &new.dataset("scuole").unwrap().distributions {
        let (sha, size) =
            build::file_digest(&s.layout().generation_dir(&new.generation).join(&d.path)).unwrap();
        assert_eq!((sha.as_str(), size), (d.sha256.as_str(), d.byte_size));
    }
}

#[test]
fn tile_zooms_out_of_range_are_refused() {
    let s = Site::new();
    let r = recipe_with("\n[tiles]\nmin_zoom = 9\nmax_zoom = 17\n");
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(
        &m,
        &["line 13", "zoom 17 is beyond the highest tile zoom, 16"],
    );
    let r = recipe_with("\n[tiles]\nmin_zoom = 9\nmax_zoom = 4\n");
    s.dataset("scuole", &r, &[]);
    let m = s.fails();
    assert_has(&m, &["line 12", "min_zoom 9 is greater than max_zoom 4"]);
}
