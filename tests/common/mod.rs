//! What several integration tests share: the catalogues of small test sites.

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
