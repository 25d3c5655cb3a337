//! What several integration tests share: the catalogues of small test sites, a small
//! dataset of bus stops, and writing and building a site's sources.

use std::fs;
use std::path::{Path, PathBuf};

/// `catalog/catalog.toml` of a test site (no territory, so any coordinates are accepted).
#[allow(dead_code)] // not every test binary uses it
pub const CATALOG: &str = r#"[catalog]
title = "Prova"
description = "Catalogo di prova"
base_url = "http://127.0.0.1:8080"
homepage = "https://example.org"

[publisher]
name = "Comune di Prova"
ipa = "c_b648"

[contact_point]
name = "Ufficio"
email = "opendata@example.org"
"#;

/// `catalog/catalog.toml` of a test site of Capannori (its territory box, its publisher),
/// with `extra` TOML appended (e.g. a `[map]` section).
#[allow(dead_code)] // not every test binary builds a Capannori site
pub fn capannori_catalog(extra: &str) -> String {
    format!(
        r#"[catalog]
title = "Dati aperti di prova"
description = "Catalogo di prova"
base_url = "https://dati.example.it/capannori/"
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
{extra}"#
    )
}

/// `dataset.toml` of `fermate`: two bus stops with Italian decimal commas ([`FERMATE_CSV`]).
#[allow(dead_code)]
pub const FERMATE_RECIPE: &str = r#"[dataset]
title = "Fermate"
description = "Fermate di prova"
themes = ["TRAN"]
keywords = ["fermate"]
frequency = "ANNUAL"

[source]
files = ["fermate.csv"]

[geometry]
lon = "LON"
lat = "LAT"
check_territory = false
"#;

/// `fermate.csv`, the data of [`FERMATE_RECIPE`].
#[allow(dead_code)]
pub const FERMATE_CSV: &str =
    "NOME;LON;LAT\r\nLammari;10,5651;43,8712\r\nMarlia;10,5532;43,8802\r\n";

/// Writes the sources of a one-dataset site under `root`: `catalog/catalog.toml` and
/// `datasets/<id>/` with its `dataset.toml` and the data `files` (name, content).
#[allow(dead_code)]
pub fn write_sources(root: &Path, catalog: &str, id: &str, recipe: &str, files: &[(&str, &[u8])]) {
    fs::create_dir_all(root.join("catalog")).unwrap();
    fs::write(root.join("catalog/catalog.toml"), catalog).unwrap();
    let ds = root.join("datasets").join(id);
    fs::create_dir_all(&ds).unwrap();
    fs::write(ds.join("dataset.toml"), recipe).unwrap();
    for (name, content) in files {
        fs::write(ds.join(name), content).unwrap();
    }
}

/// Builds the sources under `root` into `root/site` in this process and returns that path.
#[allow(dead_code)]
pub fn build_site(root: &Path) -> PathBuf {
    use portale::store::SiteLayout;
    use portale::store::build::{self, BuildOptions, Silent};
    let config = portale::config::load_site(root).unwrap();
    let site = root.join("site");
    let opts = BuildOptions {
        jobs: 2,
        keep_going: false,
    };
    build::build(&config, &SiteLayout::new(&site), &opts, &Silent).unwrap();
    site
}
