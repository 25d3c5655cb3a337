//! What several integration tests share: the catalogue of a small test site.

/// `catalog/catalog.toml` of a test site (no territory, so any coordinates are accepted).
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
