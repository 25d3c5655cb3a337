//! The map explorer (`/map`, `/map/style.json`), the home page's map teaser, the layers'
//! thumbnails in the search results and the search page's area filter, against mini sites
//! built by the real build pipeline and served in-process through `app(state)`.
//!
//! Site A: the Capannori boundary (polygon layer, theme REGI), two schools (points, EDUC),
//! a school-bus route (a line, TRAN) and a table without geometry. Site B: the boundary
//! alone, with `[map] basemap_style` set.
//!
//! Oracles: the recipes and CSVs written here (ids, titles, themes, row counts, the
//! geometry kinds), the EU theme labels as the Publications Office table spells them
//! (copied here, not read from `vocab`), the public base URL of `catalog.toml`, the
//! manifest written by the build (picture files), byte counts of the responses.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use portale::config::{self, CatalogConfig};
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use serde_json::Value;
use tower::ServiceExt;

const BASE: &str = "https://dati.example.it/capannori";
const BASEMAP: &str = "https://tiles.example.org/styles/positron/style.json";

const CONFINE: &str = r#"[dataset]
title = "Confine comunale"
description = "Il confine del Comune di Capannori"
themes = ["REGI"]
keywords = ["confini"]
frequency = "ANNUAL"

[source]
files = ["capannori.geojson"]
format = "geojson"

[tiles]
max_zoom = 12
"#;

const SCUOLE: &str = r#"[dataset]
title = "Scuole"
description = "Due scuole di Capannori"
themes = ["EDUC"]
keywords = ["scuole"]
frequency = "ANNUAL"

[source]
files = ["scuole.csv"]

[geometry]
lon = "LON"
lat = "LAT"
"#;

const SCUOLE_CSV: &str = "CODICE;DENOMINAZIONE;LON;LAT\r\nLU001;Primaria Lammari;10.50;43.78\r\nLU002;Infanzia Segromigno;10.65;43.93\r\n";

const PERCORSI: &str = r#"[dataset]
title = "Percorso scuolabus"
description = "Un percorso dello scuolabus"
themes = ["TRAN", "EDUC"]
keywords = ["scuolabus"]
frequency = "ANNUAL"

[source]
files = ["percorsi.csv"]

[geometry]
wkt = "GEOM"
"#;

const PERCORSI_CSV: &str = "LINEA,GEOM\nA,\"LINESTRING (10.52 43.80, 10.56 43.84, 10.60 43.85)\"\n";

const ALBO: &str = r#"[dataset]
title = "Albo pretorio"
description = "Atti"
themes = ["GOVE"]
keywords = ["albo"]
frequency = "IRREG"

[source]
files = ["albo.csv"]
"#;

struct Site {
    _dir: tempfile::TempDir,
    site: PathBuf,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn build_site(map: &str, with_others: bool) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    fs::create_dir_all(root.join("catalog")).unwrap();
    fs::write(
        root.join("catalog/catalog.toml"),
        common::capannori_catalog(map),
    )
    .unwrap();
    let dataset = |id: &str, recipe: &str, files: &[(&str, Vec<u8>)]| {
        let d = root.join("datasets").join(id);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("dataset.toml"), recipe).unwrap();
        for (name, bytes) in files {
            fs::write(d.join(name), bytes).unwrap();
        }
    };
    dataset(
        "confine",
        CONFINE,
        &[(
            "capannori.geojson",
            fs::read(fixture("capannori_046007.geojson")).unwrap(),
        )],
    );
    if with_others {
        dataset("scuole", SCUOLE, &[("scuole.csv", SCUOLE_CSV.into())]);
        dataset(
            "percorsi",
            PERCORSI,
            &[("percorsi.csv", PERCORSI_CSV.into())],
        );
        dataset(
            "albo",
            ALBO,
            &[("albo.csv", "numero,oggetto\n1,Ordinanza\n".into())],
        );
    }
    let config = config::load_site(&root).unwrap();
    let site = root.join("site");
    let layout = SiteLayout::new(&site);
    let opts = BuildOptions {
        jobs: 2,
        keep_going: false,
    };
    build::build(&config, &layout, &opts, &Silent).unwrap();
    Site { _dir: dir, site }
}

fn site_a() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| build_site("", true))
}

fn site_b() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| build_site(&format!("\n[map]\nbasemap_style = \"{BASEMAP}\"\n"), false))
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn get_from(site: &Site, uri: &str) -> Reply {
    let router: Router = app(AppState::open(&site.site).unwrap());
    let res = router
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes(),
    }
}

async fn get(uri: &str) -> Reply {
    get_from(site_a(), uri).await
}

/// The `<fieldset>`s of the layer list: (legend, the `data-layer` ids inside).
fn fieldsets(html: &str) -> Vec<(String, Vec<String>)> {
    html.split("<fieldset")
        .skip(1)
        .map(|part| {
            let part = part.split("</fieldset>").next().unwrap();
            let legend = part
                .split("<legend class=\"h6\">")
                .nth(1)
                .unwrap()
                .split("</legend>")
                .next()
                .unwrap()
                .to_string();
            let ids = part
                .split("data-layer=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap().to_string())
                .collect();
            (legend, ids)
        })
        .collect()
}

/// Every string in a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn map_lists_every_layer_by_theme_with_labelled_checkboxes() {
    let r = get("/map").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(header::CONTENT_TYPE), "text/html; charset=utf-8");
    let html = r.text();
    assert!(html.contains("<html lang=\"it\">"));
    // Grouped by the first theme, in the EU vocabulary's order (EDUC < REGI < TRAN).
    assert_eq!(
        fieldsets(&html),
        vec![
            (
                "Istruzione, cultura e sport".to_string(),
                vec!["scuole".to_string()]
            ),
            ("Regioni e città".to_string(), vec!["confine".to_string()]),
            ("Trasporti".to_string(), vec!["percorsi".to_string()]),
        ]
    );
    assert!(!html.contains("data-layer=\"albo\""), "a table is no layer");
    for (id, title, geometry) in [
        ("scuole", "Scuole", "2 punti"),
        ("confine", "Confine comunale", "1 area"),
        ("percorsi", "Percorso scuolabus", "1 linea"),
    ] {
        assert!(
            html.contains(&format!(
                "<input class=\"form-check-input\" type=\"checkbox\" id=\"layer-{id}\" data-layer=\"{id}\""
            )),
            "{id}"
        );
        let label = format!("<label class=\"form-check-label\" for=\"layer-{id}\">");
        let at = html.find(&label).unwrap_or_else(|| panic!("label of {id}"));
        let label_text = &html[at..at + html[at..].find("</label>").unwrap()];
        assert!(label_text.contains(title), "{label_text}");
        assert!(html.contains(&format!("{geometry} · <a href=\"{BASE}/datasets/{id}\">")));
    }
    // The boundary is the basemap: its layer starts unchecked, the others checked.
    assert!(html.contains("data-layer=\"scuole\" data-title=\"Scuole\""));
    let checked = |id: &str| {
        let at = html.find(&format!("id=\"layer-{id}\"")).unwrap();
        html[at..at + html[at..].find('>').unwrap()].contains(" checked")
    };
    assert!(checked("scuole") && checked("percorsi") && !checked("confine"));
    // The map has an accessible name, a no-script text, the module and its style.
    assert!(html.contains(
        "id=\"map\" class=\"portale-map\" role=\"region\" aria-label=\"Mappa interattiva"
    ));
    assert!(html.contains("<noscript>"));
    assert!(html.contains(&format!(
        "<script type=\"module\" src=\"{BASE}/static/js/map.js?v="
    )));
    assert!(html.contains(&format!("data-style=\"{BASE}/map/style.json\"")));
    // Opens on the territory of catalog.toml; the area link works without JavaScript.
    assert!(html.contains("data-bounds=\"10.4860,43.7490,10.6590,43.9430\""));
    assert!(html.contains(&format!(
        "id=\"search-area\" href=\"{BASE}/datasets?bbox=10.4860%2C43.7490%2C10.6590%2C43.9430\">Cerca i dati in quest&#39;area</a>"
    )) || html.contains(&format!(
        "id=\"search-area\" href=\"{BASE}/datasets?bbox=10.4860,43.7490,10.6590,43.9430\">Cerca i dati in quest&#39;area</a>"
    )), "{html}");
}

#[tokio::test]
async fn map_query_picks_the_area_and_the_layers() {
    let html = get("/map?bbox=10.5,43.8,10.6,43.9&layers=confine")
        .await
        .text();
    assert!(html.contains("data-bounds=\"10.5000,43.8000,10.6000,43.9000\""));
    // The territory stays the "zoom to the municipality" target.
    assert!(html.contains("data-home=\"10.4860,43.7490,10.6590,43.9430\""));
    let checked: Vec<&str> = ["confine", "scuole", "percorsi"]
        .into_iter()
        .filter(|id| {
            let at = html.find(&format!("id=\"layer-{id}\"")).unwrap();
            html[at..at + html[at..].find('>').unwrap()].contains(" checked")
        })
        .collect();
    assert_eq!(checked, vec!["confine"]);
    let bad = get("/map?bbox=10.5,43.8,10.6").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("has 3 values"));
}

#[tokio::test]
async fn english_map() {
    let html = get("/map?lang=en").await.text();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<h1>Data map</h1>"));
    let legends: Vec<String> = fieldsets(&html).into_iter().map(|(l, _)| l).collect();
    assert_eq!(
        legends,
        vec![
            "Education, culture and sport",
            "Regions and cities",
            "Transport"
        ]
    );
    assert!(html.contains(&format!("href=\"{BASE}/datasets/scuole?lang=en\"")));
    assert!(html.contains("2 points"));
    assert!(html.contains("Search the data in this area"));
    assert!(html.contains(&format!("data-search=\"{BASE}/datasets?lang=en\"")));
    // The language switch leads back to the Italian page.
    assert!(html.contains(&format!("<a href=\"{BASE}/map\" hreflang=\"it\"")));
}

#[tokio::test]
async fn style_names_only_our_server() {
    let r = get("/map/style.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let style = r.json();
    assert_eq!(style["version"], 8);
    assert!(style.get("glyphs").is_none() && style.get("sprite").is_none());
    let mut all = Vec::new();
    strings(&style, &mut all);
    let urls: Vec<&String> = all
        .iter()
        .filter(|s| s.contains("://") || s.starts_with("//"))
        .collect();
    assert!(!urls.is_empty());
    for u in urls {
        assert!(u.starts_with(&format!("{BASE}/")), "{u}");
    }
    let sources = style["sources"].as_object().unwrap();
    let mut ids: Vec<&String> = sources.keys().collect();
    ids.sort();
    assert_eq!(ids, vec!["confine", "percorsi", "scuole"]);
    assert_eq!(
        sources["scuole"]["tiles"][0],
        format!("{BASE}/tiles/scuole/{{z}}/{{x}}/{{y}}.mvt")
    );
    let layers = style["layers"].as_array().unwrap();
    for l in layers {
        assert_ne!(l["type"], "symbol", "text would need glyphs");
        if let Some(src) = l.get("source").and_then(Value::as_str) {
            assert!(sources.contains_key(src));
        }
    }
    // The offline basemap: a background and the boundary layer, drawn first.
    assert_eq!(layers[0]["type"], "background");
    assert!(layers.iter().any(|l| l["id"] == "basemap-confine-line"));
    // Every layer has style layers tagged with its id, of its geometry's kind.
    let kinds = |id: &str| -> Vec<String> {
        layers
            .iter()
            .filter(|l| l["metadata"]["portale:layer"] == id)
            .map(|l| l["type"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds("scuole"), vec!["circle"]);
    assert_eq!(kinds("percorsi"), vec!["line"]);
    assert_eq!(kinds("confine"), vec!["fill", "line"]);
    assert!(style["metadata"].get("portale:basemap").is_none());
    // Drawn areas, then lines, then points.
    let position = |id: &str| layers.iter().position(|l| l["id"] == id).unwrap();
    assert!(position("confine-fill") < position("percorsi-line"));
    assert!(position("percorsi-line") < position("scuole-circle"));
}

#[tokio::test]
async fn the_basemap_option_replaces_our_basemap() {
    let style = get_from(site_b(), "/map/style.json").await.json();
    assert_eq!(style["metadata"]["portale:basemap"], BASEMAP);
    let layers = style["layers"].as_array().unwrap();
    assert!(
        layers
            .iter()
            .all(|l| l["metadata"].get("portale:role").is_none()),
        "no basemap of ours"
    );
    // The boundary is still a layer of its own.
    assert!(
        layers
            .iter()
            .any(|l| l["metadata"]["portale:layer"] == "confine")
    );
}

#[test]
fn the_basemap_option_is_checked() {
    let path = Path::new("catalog/catalog.toml");
    let ok = CatalogConfig::parse(
        path,
        &common::capannori_catalog(&format!("\n[map]\nbasemap_style = \"{BASEMAP}\"\n")),
    )
    .unwrap();
    assert_eq!(ok.catalog.basemap_style.as_deref(), Some(BASEMAP));
    let none = CatalogConfig::parse(path, &common::capannori_catalog("")).unwrap();
    assert_eq!(none.catalog.basemap_style, None);
    for bad in [
        "tiles.example.org/style.json",
        "ftp://tiles.example.org/style.json",
        "https://",
        "https://tiles.example.org/a b.json",
    ] {
        let text = common::capannori_catalog(&format!("\n[map]\nbasemap_style = \"{bad}\"\n"));
        let err = CatalogConfig::parse(path, &text).unwrap_err().to_string();
        assert!(err.contains("catalog/catalog.toml"), "{err}");
        assert!(err.contains("basemap_style"), "{err}");
        // The line of the key: the last line of the file.
        let line = text.lines().count();
        assert!(err.contains(&line.to_string()), "{err}");
    }
    let unknown = CatalogConfig::parse(
        path,
        &common::capannori_catalog("\n[map]\nbasemap = \"x\"\n"),
    )
    .unwrap_err()
    .to_string();
    assert!(unknown.contains("basemap_style"), "{unknown}");
}

/// The thumbnail a dataset's manifest entry lists (read from the generation's manifest).
fn thumbnail_of(site: &Site, id: &str) -> (String, String) {
    let current = fs::read_to_string(site.site.join("CURRENT")).unwrap();
    let manifest: Value = serde_json::from_slice(
        &fs::read(
            site.site
                .join("generations")
                .join(current.trim())
                .join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let d = manifest["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap();
    let p = d["pictures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "thumbnail")
        .unwrap();
    (
        p["file"].as_str().unwrap().to_string(),
        p["alt"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn layers_have_thumbnails_served_as_svg() {
    for (id, alt) in [
        ("scuole", "Mappa in miniatura: 2 punti di “Scuole”"),
        (
            "confine",
            "Mappa in miniatura: 1 area di “Confine comunale”",
        ),
        (
            "percorsi",
            "Mappa in miniatura: 1 linea di “Percorso scuolabus”",
        ),
    ] {
        let (file, got_alt) = thumbnail_of(site_a(), id);
        assert_eq!(file, "thumbnail.svg");
        assert_eq!(got_alt, alt);
        let r = get(&format!("/datasets/{id}/pictures/{file}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header(header::CONTENT_TYPE), "image/svg+xml");
        let svg = r.text();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.len() < 16 * 1024, "{id}: {} bytes", svg.len());
    }
    // A table has none.
    let current = fs::read_to_string(site_a().site.join("CURRENT")).unwrap();
    assert!(
        !site_a()
            .site
            .join("generations")
            .join(current.trim())
            .join("datasets/albo/thumbnail.svg")
            .exists()
    );
}

#[tokio::test]
async fn home_has_a_map_teaser() {
    let html = get("/").await.text();
    // The municipality boundary's thumbnail links to the map.
    let teaser = format!(
        "<a href=\"{BASE}/map\" class=\"d-block\">\n        <img src=\"{BASE}/datasets/confine/pictures/thumbnail.svg\" alt=\"Mappa in miniatura: 1 area di “Confine comunale”\""
    );
    assert!(html.contains(&teaser), "{html}");
    assert!(html.contains("Esplora la mappa dei dati"));
    // The other layers' thumbnails link to their pages.
    for id in ["percorsi", "scuole"] {
        assert!(html.contains(&format!(
            "<a href=\"{BASE}/datasets/{id}\"><img src=\"{BASE}/datasets/{id}/pictures/thumbnail.svg\""
        )));
    }
    let en = get("/?lang=en").await.text();
    assert!(en.contains(&format!(
        "<a href=\"{BASE}/map?lang=en\" class=\"d-block\">"
    )));
    assert!(en.contains("Explore the data map"));
}

#[tokio::test]
async fn results_show_layer_thumbnails() {
    let html = get("/datasets?sort=title").await.text();
    // One result per dataset; only the layers have a picture.
    assert_eq!(
        html.matches("<li class=\"card portale-result mb-3\">")
            .count(),
        4
    );
    assert_eq!(html.matches("/pictures/thumbnail.svg\"").count(), 3);
    assert!(html.contains(&format!(
        "<img src=\"{BASE}/datasets/scuole/pictures/thumbnail.svg\" alt=\"Mappa in miniatura: 2 punti di “Scuole”\""
    )));
    assert!(!html.contains("/datasets/albo/pictures/"));
}

#[tokio::test]
async fn the_area_filter_is_shown_and_removable() {
    let html = get("/datasets?q=scuole&bbox=10.5,43.8,10.6,43.9")
        .await
        .text();
    assert!(html.contains("Area della mappa (ovest, sud – est, nord): <span class=\"text-nowrap\">10.5000, 43.8000 – 10.6000, 43.9000</span>"), "{html}");
    assert!(html.contains(&format!(
        "<a href=\"{BASE}/datasets?q=scuole\">✕ Togli il filtro dell&#39;area</a>"
    )));
    assert!(html.contains(&format!(
        "<a href=\"{BASE}/map?bbox=10.5000%2C43.8000%2C10.6000%2C43.9000\">Vedi l&#39;area sulla mappa</a>"
    )) || html.contains(&format!(
        "<a href=\"{BASE}/map?bbox=10.5000,43.8000,10.6000,43.9000\">Vedi l&#39;area sulla mappa</a>"
    )), "{html}");
    // No area, no filter.
    let plain = get("/datasets?q=scuole").await.text();
    assert!(!plain.contains("Area della mappa"));
    assert!(plain.contains(&format!(
        "<a href=\"{BASE}/map\">Cerca i dati in un&#39;area della mappa</a>"
    )));
    let en = get("/datasets?bbox=10.5,43.8,10.6,43.9&lang=en")
        .await
        .text();
    assert!(en.contains("Map area (west, south – east, north)"));
    assert!(en.contains(&format!(
        "<a href=\"{BASE}/datasets?lang=en\">✕ Remove the area filter</a>"
    )));
}

#[tokio::test]
async fn the_sitemap_lists_the_map() {
    let xml = get("/sitemap.xml").await.text();
    assert!(xml.contains(&format!("<loc>{BASE}/map</loc>")));
}

/// The page, its stylesheets and scripts but MapLibre's stay within 100 KB.
#[tokio::test]
async fn the_map_page_weighs_less_than_100_kb() {
    let html = get("/map").await;
    let text = html.text();
    let mut total = html.body.len();
    let mut assets = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in text.split(attr).skip(1) {
            let url = part.split('"').next().unwrap().split('?').next().unwrap();
            if (url.ends_with(".css") || url.ends_with(".js") || url.ends_with(".mjs"))
                && !url.contains("/maplibre-gl/")
            {
                assets.push(url.strip_prefix(BASE).unwrap().to_string());
            }
        }
    }
    assert!(assets.iter().any(|a| a == "/static/js/map.js"));
    assert!(assets.iter().any(|a| a == "/static/css/map.css"));
    for a in &assets {
        let r = get(a).await;
        assert_eq!(r.status, StatusCode::OK, "{a}");
        total += r.body.len();
    }
    eprintln!("/map weighs {total} bytes without MapLibre: {assets:?}");
    assert!(total <= 100 * 1024, "{total} bytes: {assets:?}");
}
