//! The tile routes against a mini site built by the real build pipeline: the Capannori
//! boundary (a polygon layer), two school points (a point layer with a label column) and
//! a table without geometry. Requests go in-process through `app(state)`.
//!
//! Oracles: tile numbers from the OSM slippy-map formula (evaluated with Python), the
//! layer's bounds from the coordinates of the fixture file, the archive's ETag as the
//! SHA-256 of the file on disk computed here, header bytes at the offsets of the PMTiles
//! v3 specification, tiles decoded with geozero's prost types.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use geozero::mvt::tile::GeomType;
use geozero::mvt::{Message, Tile};
use http_body_util::BodyExt;
use portale::config;
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const BASE: &str = "https://dati.example.it/capannori";

const CATALOG: &str = r#"[catalog]
title = "Dati aperti di prova"
description = "Catalogo di prova"
base_url = "https://dati.example.it/capannori/"
homepage = "https://www.comune.capannori.lu.it"
languages = ["it", "en"]
default_license = "A21_CCBY40"
istat_code = "046007"
territory_bbox = [10.40, 43.70, 10.75, 44.00]

[publisher]
name = "Comune di Capannori"
ipa = "c_b648"

[contact_point]
name = "Ufficio Sistemi Informativi"
email = "opendata@comune.capannori.lu.it"
"#;

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
description = "Due scuole"
themes = ["EDUC"]
keywords = ["scuole"]
frequency = "ANNUAL"

[source]
files = ["scuole.csv"]

[geometry]
lon = "LON"
lat = "LAT"

[tiles]
min_zoom = 2
max_zoom = 14
"#;

const SCUOLE_CSV: &str = "CODICE;DENOMINAZIONE;LON;LAT\r\nLU001;Primaria Lammari;10.50;43.78\r\nLU002;Infanzia Segromigno;10.65;43.93\r\n";

const ALBO: &str = r#"[dataset]
title = "Albo"
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
    generation: String,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Built once for every test of this file.
fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("catalog")).unwrap();
        fs::write(root.join("catalog/catalog.toml"), CATALOG).unwrap();
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
        dataset("scuole", SCUOLE, &[("scuole.csv", SCUOLE_CSV.into())]);
        dataset(
            "albo",
            ALBO,
            &[("albo.csv", "numero,oggetto\n1,Ordinanza\n".into())],
        );
        let config = config::load_site(&root).unwrap();
        let site = root.join("site");
        let layout = SiteLayout::new(&site);
        let opts = BuildOptions {
            jobs: 2,
            keep_going: false,
        };
        let report = build::build(&config, &layout, &opts, &Silent).unwrap();
        Site {
            _dir: dir,
            site,
            generation: report.generation.unwrap(),
        }
    })
}

fn router() -> Router {
    app(AppState::open(&site().site).unwrap())
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes(),
    }
}

async fn get(uri: &str) -> Reply {
    request(Method::GET, uri, &[]).await
}

/// `[west, south, east, north]` of every coordinate of the fixture, read here.
fn fixture_bounds() -> [f64; 4] {
    let v: Value =
        serde_json::from_slice(&fs::read(fixture("capannori_046007.geojson")).unwrap()).unwrap();
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for ring in v["features"][0]["geometry"]["coordinates"]
        .as_array()
        .unwrap()
    {
        for c in ring.as_array().unwrap() {
            let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
    }
    b
}

#[tokio::test]
async fn tilejson_follows_the_3_0_0_shape_with_public_urls() {
    let r = get("/tiles/confine.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header(header::CONTENT_TYPE)
            .starts_with("application/json")
    );
    assert_eq!(r.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    let j = r.json();
    assert_eq!(j["tilejson"], "3.0.0");
    assert_eq!(
        j["tiles"],
        serde_json::json!([format!("{BASE}/tiles/confine/{{z}}/{{x}}/{{y}}.mvt")])
    );
    assert_eq!(j["minzoom"], 0);
    assert_eq!(j["maxzoom"], 12);
    assert_eq!(j["vector_layers"][0]["id"], "confine");
    assert_eq!(j["vector_layers"][0]["fields"]["com_istat_code"], "String");
    let bounds: Vec<f64> = j["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (got, want) in bounds.iter().zip(fixture_bounds()) {
        assert!((got - want).abs() < 1e-9, "{bounds:?}");
    }
    let attribution = j["attribution"].as_str().unwrap();
    assert!(attribution.contains("Comune di Capannori"), "{attribution}");
    // The licence by its short name, not its AgID id.
    assert!(attribution.ends_with(", CC BY 4.0"), "{attribution}");
}

#[tokio::test]
async fn tile_is_gzip_when_accepted_and_plain_otherwise() {
    // Capannori town hall (10.5731 E, 43.8416 N) lies in z12 tile 2168/1491.
    let uri = "/tiles/confine/12/2168/1491.mvt";
    let gz = request(Method::GET, uri, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(
        gz.header(header::CONTENT_TYPE),
        "application/vnd.mapbox-vector-tile"
    );
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(gz.header(header::VARY), "accept-encoding");
    assert_eq!(gz.header(header::CACHE_CONTROL), "public, max-age=86400");
    assert_eq!(&gz.body[..2], &[0x1f, 0x8b], "gzip magic");

    let plain = get(uri).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.header(header::CONTENT_ENCODING), "");
    assert_ne!(gz.header(header::ETAG), plain.header(header::ETAG));
    let tile = Tile::decode(&plain.body[..]).unwrap();
    assert_eq!(tile.layers.len(), 1);
    assert_eq!(tile.layers[0].name, "confine");
    assert_eq!(tile.layers[0].features.len(), 1);
    assert_eq!(tile.layers[0].features[0].r#type(), GeomType::Polygon);
    assert_eq!(
        plain.header(header::CONTENT_LENGTH),
        plain.body.len().to_string()
    );

    // Conditional request with the tag just received.
    let etag = gz.header(header::ETAG).to_string();
    let again = request(
        Method::GET,
        uri,
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let head = request(Method::HEAD, uri, &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header(header::CONTENT_LENGTH),
        plain.body.len().to_string()
    );
}

#[tokio::test]
async fn empty_inside_is_204_and_outside_or_beyond_is_404() {
    // The schools are at the corners of a 12 km box; the z14 tile of its middle
    // (10.575 E, 43.855 N → 8673/5966 by the slippy-map formula) holds neither.
    let r = get("/tiles/scuole/14/8673/5966.mvt").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.body.is_empty());
    // Primaria Lammari (10.50 E, 43.78 N) is in z14 tile 8669/5971.
    let r = get("/tiles/scuole/14/8669/5971.mvt").await;
    assert_eq!(r.status, StatusCode::OK);
    let tile = Tile::decode(&r.body[..]).unwrap();
    assert_eq!(tile.layers[0].features.len(), 1);
    for (uri, why) in [
        ("/tiles/scuole/14/0/0.mvt", "outside the bounds"),
        ("/tiles/scuole/15/17339/11942.mvt", "beyond max zoom"),
        ("/tiles/scuole/1/1/0.mvt", "below min zoom"),
        ("/tiles/scuole/14/8669/5971", "no .mvt"),
        ("/tiles/scuole/14/8669/x.mvt", "not a number"),
        ("/tiles/scuole/3/8/0.mvt", "x outside the grid"),
        ("/tiles/nessuno/1/0/0.mvt", "unknown layer"),
        ("/tiles/albo/1/0/0.mvt", "a table"),
        ("/tiles/albo.json", "a table"),
        ("/tiles/scuole.geojson", "unknown representation"),
        ("/styles/albo.json", "a table"),
    ] {
        let r = get(uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}: {why}");
        assert_eq!(r.json()["error"]["status"], 404, "{uri}");
    }
}

#[tokio::test]
async fn archive_is_served_with_ranges() {
    let s = site();
    let path = s
        .site
        .join("generations")
        .join(&s.generation)
        .join("datasets/confine/confine.pmtiles");
    let bytes = fs::read(&path).unwrap();
    let sha = hex::encode(Sha256::digest(&bytes));

    let r = request(
        Method::GET,
        "/tiles/confine.pmtiles",
        &[("range", "bytes=0-126")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.header(header::CONTENT_TYPE), "application/vnd.pmtiles");
    assert_eq!(r.header(header::ETAG), format!("\"{sha}\""));
    assert_eq!(
        r.header(header::CONTENT_RANGE),
        format!("bytes 0-126/{}", bytes.len())
    );
    assert_eq!(r.header(header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert_eq!(&r.body[..], &bytes[..127]);
    // PMTiles v3: magic "PMTiles", version 3; byte 99 tile type 1 (MVT), 100/101 zooms.
    assert_eq!(&r.body[..8], b"PMTiles\x03");
    assert_eq!((r.body[99], r.body[100], r.body[101]), (1, 0, 12));

    let head = request(Method::HEAD, "/tiles/confine.pmtiles", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header(header::CONTENT_LENGTH), bytes.len().to_string());
    assert_eq!(head.header(header::ACCEPT_RANGES), "bytes");
}

#[tokio::test]
async fn styles_paint_by_geometry_and_name_the_label_field() {
    let r = get("/styles/scuole.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let s = r.json();
    assert_eq!(s["version"], 8);
    assert_eq!(s["sources"]["scuole"]["type"], "vector");
    assert_eq!(
        s["sources"]["scuole"]["url"],
        format!("{BASE}/tiles/scuole.json")
    );
    let layers = s["layers"].as_array().unwrap();
    let types: Vec<&str> = layers.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["background", "circle"]);
    assert_eq!(layers[1]["source-layer"], "scuole");
    // No text labels (they would need glyphs from outside): the label field is named.
    assert_eq!(s["metadata"]["portale:label_field"], "denominazione");
    assert!(s.get("glyphs").is_none());

    let r = get("/styles/confine.json").await;
    let s = r.json();
    let types: Vec<&str> = s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    assert_eq!(&types[..3], &["background", "fill", "line"]);
}
