//! Documentation is tested: every key the recipe and catalogue parsers accept must appear,
//! with an example, in docs/RECIPES.md. The list of keys comes from the parsers themselves
//! (the "valid keys here" list of the unknown-key error), so a new key without
//! documentation fails this test.

use std::path::Path;

use portale::config::{CatalogConfig, Recipe};

const RECIPE: &str = r#"[dataset]
title = "t"
description = "d"
themes = ["EDUC"]
keywords = ["k"]
frequency = "ANNUAL"
temporal = { start = "2024-01-01" }
rights_holder = { name = "n", ipa = "c_b648" }
contact_point = { name = "n", email = "a@b.it" }

[source]
files = ["a.csv"]

[schema]

[[column]]
source = "A"

[geometry]

[[filter]]
column = "a"
op = "eq"

[[derive]]
name = "b"
from = "a"
fn = "year"

[aggregate]
group_by = ["a"]

[output]

[tiles]
"#;

const CATALOG: &str = r#"[catalog]
title = "t"
description = "d"
base_url = "http://127.0.0.1:8080"
homepage = "https://example.org"

[publisher]
name = "n"
ipa = "c_b648"

[contact_point]
name = "n"
email = "a@b.it"

[[harvest]]
name = "h1"
kind = "dcat"
url = "https://example.org/catalog.ttl"

[harvest.limits]
max_pages = 1
"#;

/// Inserts an unknown key after `anchor` and returns the valid keys the parser lists.
fn keys_after(text: &str, anchor: &str, parse: impl Fn(&str) -> String) -> Vec<String> {
    let injected = if anchor.is_empty() {
        format!("zzz_unknown_key = 1\n{text}")
    } else if anchor.ends_with('}') {
        // An inline table: add the key inside the braces.
        text.replacen(
            anchor,
            &format!("{}, zzz_unknown_key = 1 }}", &anchor[..anchor.len() - 2]),
            1,
        )
    } else {
        text.replacen(anchor, &format!("{anchor}\nzzz_unknown_key = 1"), 1)
    };
    let msg = parse(&injected);
    let list = msg
        .split("(valid keys here: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no key list after {anchor:?} in: {msg}"));
    let list = list.split(')').next().unwrap_or_default();
    list.split(", ").map(|s| s.trim().to_string()).collect()
}

#[test]
fn every_key_is_documented_with_an_example() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/RECIPES.md"))
            .unwrap();
    let recipe_err = |t: &str| {
        Recipe::parse(Path::new("datasets/x/dataset.toml"), t)
            .unwrap_err()
            .to_string()
    };
    let catalog_err = |t: &str| {
        CatalogConfig::parse(Path::new("catalog/catalog.toml"), t)
            .unwrap_err()
            .to_string()
    };
    let mut checked = 0;
    for anchor in [
        "",
        "[dataset]",
        "[source]",
        "[schema]",
        "[[column]]",
        "[geometry]",
        "[[filter]]",
        "[[derive]]",
        "[aggregate]",
        "[output]",
        "[tiles]",
        "temporal = { start = \"2024-01-01\" }",
        "rights_holder = { name = \"n\", ipa = \"c_b648\" }",
        "contact_point = { name = \"n\", email = \"a@b.it\" }",
    ] {
        for key in keys_after(RECIPE, anchor, recipe_err) {
            let documented = docs.contains(&format!("\n{key} ="))
                || docs.contains(&format!("{{ {key} ="))
                || docs.contains(&format!(", {key} ="))
                || docs.contains(&format!("[{key}]"))
                || docs.contains(&format!("[[{key}]]"));
            assert!(
                documented,
                "recipe key `{key}` (after {anchor:?}) has no example in docs/RECIPES.md"
            );
            checked += 1;
        }
    }
    for anchor in [
        "",
        "[catalog]",
        "[publisher]",
        "[contact_point]",
        "[[harvest]]",
        "[harvest.limits]",
    ] {
        for key in keys_after(CATALOG, anchor, catalog_err) {
            let documented =
                docs.contains(&format!("\n{key} =")) || docs.contains(&format!("[{key}]"));
            assert!(
                documented,
                "catalogue key `{key}` (after {anchor:?}) has no example in docs/RECIPES.md"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 60,
        "only {checked} keys found: the key lists were not read"
    );
}
