//! OGC API – Features in-process (`tower::ServiceExt::oneshot` on `app(state)`), against a
//! site made by the real build from three datasets:
//! * `punti`: 25 points given in EPSG:3003 (a CSV), three of them the Capannori points of
//!   `tests/fixtures/cs2cs/expected.csv`;
//! * `confine`: the Capannori boundary polygon (`tests/fixtures/capannori_046007.geojson`);
//! * `griglia`: 10,005 points in WGS84, to page past the 10,000 `limit` cap.
//!
//! Oracles: reprojected coordinates come from PROJ's `cs2cs` (the committed
//! `expected.csv`); expected feature sets are computed here from the generation's GeoJSON
//! download (a different writer and reader than the FlatGeobuf file the API serves), with
//! plain comparisons on its coordinates and properties.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use portale::config;
use portale::model::Manifest;
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use serde_json::Value;
use tower::ServiceExt;

const BASE: &str = "http://127.0.0.1:8080";

const CATALOG: &str = r#"[catalog]
title = "Dati aperti di prova"
description = "Catalogo di prova per l'OGC API"
base_url = "http://127.0.0.1:8080"
homepage = "https://www.comune.capannori.lu.it"
languages = ["it", "en"]
default_license = "A21_CCBY40"
istat_code = "046007"
territory_bbox = [10.48, 43.74, 10.67, 43.95]

[publisher]
name = "Comune di Capannori"
ipa = "c_b648"

[contact_point]
name = "Ufficio SIT"
email = "sit@comune.capannori.lu.it"
"#;

const PUNTI: &str = r#"[dataset]
title = "Punti <di> prova"
description = "Venticinque punti in Gauss-Boaga"
themes = ["REGI"]
keywords = ["prova"]
frequency = "ANNUAL"

[source]
files = ["punti.csv"]

[geometry]
x = "x"
y = "y"
crs = 3003
"#;

const CONFINE: &str = r#"[dataset]
title = "Confine comunale"
description = "Il confine di Capannori"
themes = ["REGI"]
keywords = ["confini"]
frequency = "ANNUAL"

[source]
files = ["capannori_046007.geojson"]
format = "geojson"
"#;

const GRIGLIA: &str = r#"[dataset]
title = "Griglia"
description = "Diecimila punti"
themes = ["REGI"]
keywords = ["prova"]
frequency = "ANNUAL"

[source]
files = ["griglia.csv"]

[geometry]
lon = "lon"
lat = "lat"
"#;

const FRAZIONI: [&str; 4] = ["Lammari", "Marlia", "Segromigno in Monte", "Capannori"];
const GRID: usize = 10_005;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// cs2cs rows: (epsg, place) → (x, y easting-first, lon, lat).
fn cs2cs() -> BTreeMap<(u32, String), (f64, f64, f64, f64)> {
    let text = fs::read_to_string(fixtures().join("cs2cs/expected.csv")).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        out.insert(
            (c[0].parse().unwrap(), c[5].to_string()),
            (
                c[1].parse().unwrap(),
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
            ),
        );
    }
    out
}

const PLACES: [&str; 3] = ["capannori", "capannori-sw", "capannori-ne"];

fn punti_csv() -> String {
    let expected = cs2cs();
    let mut csv = String::from("nome,frazione,numero,data,x,y\n");
    for i in 1..=25usize {
        let (x, y) = match PLACES.get(i - 1) {
            Some(place) => {
                let (x, y, _, _) = expected[&(3003, place.to_string())];
                (x, y)
            }
            None => (
                1_620_000.0 + ((i * 523) % 12_000) as f64,
                4_846_000.0 + ((i * 811) % 19_000) as f64,
            ),
        };
        csv.push_str(&format!(
            "Punto {i:02},{},{},2024-01-{i:02},{x},{y}\n",
            FRAZIONI[i % 4],
            i * 10
        ));
    }
    csv
}

fn griglia_csv() -> String {
    let mut csv = String::from("n,lon,lat\n");
    for i in 0..GRID {
        let lon = 10.50 + (i % 100) as f64 * 0.0015;
        let lat = 43.76 + (i / 100) as f64 * 0.0015;
        csv.push_str(&format!("{i},{lon:.4},{lat:.4}\n"));
    }
    csv
}

struct Site {
    state: AppState,
    generation: PathBuf,
    manifest: Manifest,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ogc_api_site");
        let _ = fs::remove_dir_all(&root);
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
        dataset("punti", PUNTI, &[("punti.csv", punti_csv().into_bytes())]);
        dataset(
            "confine",
            CONFINE,
            &[(
                "capannori_046007.geojson",
                fs::read(fixtures().join("capannori_046007.geojson")).unwrap(),
            )],
        );
        dataset(
            "griglia",
            GRIGLIA,
            &[("griglia.csv", griglia_csv().into_bytes())],
        );
        let config = config::load_site(&root).unwrap();
        let layout = SiteLayout::new(root.join("site"));
        let opts = BuildOptions {
            jobs: 2,
            keep_going: false,
        };
        build::build(&config, &layout, &opts, &Silent).unwrap();
        let name = layout.current_generation().unwrap().unwrap();
        let manifest = layout.read_manifest(&name).unwrap();
        Site {
            state: AppState::open(&root.join("site")).unwrap(),
            generation: layout.generation_dir(&name),
            manifest,
        }
    })
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

async fn get_with(uri: &str, accept: Option<&str>) -> Answer {
    let uri = uri.strip_prefix(BASE).unwrap_or(uri);
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let response = app(site().state.clone())
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(uri: &str) -> Answer {
    get_with(uri, None).await
}

async fn get_json(uri: &str) -> Value {
    let a = get(uri).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text());
    a.json()
}

fn enc(s: &str) -> String {
    portale::ogc::service::encode(s)
}

/// The GeoJSON download of a dataset: id → feature.
fn download(id: &str) -> BTreeMap<u64, Value> {
    let d = site().manifest.dataset(id).unwrap();
    let dist = d
        .distributions
        .iter()
        .find(|x| x.media_type == "application/geo+json")
        .unwrap();
    let doc: Value =
        serde_json::from_slice(&fs::read(site().generation.join(&dist.path)).unwrap()).unwrap();
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["geometry"].is_null())
        .map(|f| (f["id"].as_u64().unwrap(), f.clone()))
        .collect()
}

fn ids(page: &Value) -> Vec<u64> {
    page["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_u64().unwrap())
        .collect()
}

fn link<'a>(doc: &'a Value, rel: &str) -> Option<&'a str> {
    doc["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == rel)
        .map(|l| l["href"].as_str().unwrap())
}

/// Follows `next` links from `first`; every id once, in order.
async fn all_pages(first: &str) -> (u64, Vec<u64>, usize) {
    let mut url = first.to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut matched = None;
    loop {
        let page = get_json(&url).await;
        pages += 1;
        let m = page["numberMatched"].as_u64().unwrap();
        assert_eq!(
            *matched.get_or_insert(m),
            m,
            "numberMatched changed while paging"
        );
        assert_eq!(
            page["numberReturned"].as_u64().unwrap() as usize,
            ids(&page).len()
        );
        seen.extend(ids(&page));
        match link(&page, "next") {
            Some(next) => url = next.to_string(),
            None => break,
        }
        assert!(pages < 10_000, "paging does not end");
    }
    (matched.unwrap_or(0), seen, pages)
}

fn assert_exception(a: &Answer, status: StatusCode, code: &str, mentions: &str) {
    assert_eq!(a.status, status, "{}", a.text());
    assert!(a.header("content-type").starts_with("application/json"));
    let e = a.json();
    assert_eq!(e["code"], code, "{e}");
    let d = e["description"].as_str().unwrap();
    assert!(d.contains(mentions), "{mentions:?} not in {d:?}");
}

#[tokio::test]
async fn landing_conformance_and_collections() {
    let landing = get_json("/ogc").await;
    for l in landing["links"].as_array().unwrap() {
        assert!(l["type"].is_string(), "link without type: {l}");
        assert!(
            l["href"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:8080/ogc")
        );
    }
    let desc = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "service-desc")
        .unwrap();
    assert_eq!(desc["type"], "application/vnd.oai.openapi+json;version=3.0");
    for rel in ["self", "alternate", "service-doc", "conformance", "data"] {
        assert!(link(&landing, rel).is_some(), "no {rel} link");
    }
    assert_eq!(get("/ogc/").await.status, StatusCode::OK);

    let conf = get_json("/ogc/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for c in ["core", "geojson", "html", "oas30"] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}");
        assert!(classes.contains(&uri.as_str()), "{uri}");
    }
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"));
    assert!(classes.contains(&"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text"));

    let all = get_json("/ogc/collections").await;
    let listed: Vec<&str> = all["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["confine", "griglia", "punti"]);
    let c = get_json("/ogc/collections/punti").await;
    let manifest = site().manifest.dataset("punti").unwrap();
    let bbox: Vec<f64> = serde_json::from_value(c["extent"]["spatial"]["bbox"][0].clone()).unwrap();
    assert_eq!(bbox, manifest.extent.bbox.unwrap());
    assert_eq!(
        c["extent"]["spatial"]["crs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    assert_eq!(
        c["storageCrs"],
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    );
    let crs: Vec<&str> = c["crs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for code in [3003, 6707, 7791, 25832, 32632, 3857, 4326] {
        assert!(crs.contains(&format!("http://www.opengis.net/def/crs/EPSG/0/{code}").as_str()));
    }
    let items = c["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "items" && l["type"] == "application/geo+json")
        .unwrap();
    assert_eq!(
        items["href"],
        "http://127.0.0.1:8080/ogc/collections/punti/items?f=json"
    );
    assert!(link(&c, "http://www.opengis.net/def/rel/ogc/1.0/queryables").is_some());

    let missing = get("/ogc/collections/nessuna").await;
    assert_exception(&missing, StatusCode::NOT_FOUND, "NotFound", "nessuna");
}

#[tokio::test]
async fn paging_reaches_number_matched_and_matches_the_download() {
    let expected: Vec<u64> = download("punti").keys().copied().collect();
    assert_eq!(expected.len(), 25);
    let (matched, seen, pages) = all_pages("/ogc/collections/punti/items?limit=10").await;
    assert_eq!(matched, 25);
    assert_eq!(pages, 3);
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "a feature came twice");
    assert_eq!(unique.into_iter().collect::<Vec<_>>(), expected);

    let second = get_json("/ogc/collections/punti/items?limit=10&offset=10").await;
    let prev = link(&second, "prev").unwrap();
    assert!(prev.ends_with("items?limit=10&f=json"), "{prev}");
    let first = get_json(prev).await;
    assert_eq!(&ids(&first)[..], &seen[..10]);
    let default = get_json("/ogc/collections/punti/items").await;
    assert_eq!(default["numberReturned"], 10, "limit defaults to 10");

    let past = get_json("/ogc/collections/punti/items?offset=30").await;
    assert_eq!(
        (
            past["numberMatched"].as_u64(),
            past["numberReturned"].as_u64()
        ),
        (Some(25), Some(0))
    );
    assert!(link(&past, "next").is_none());
}

#[tokio::test]
async fn limit_is_clamped_to_10000() {
    let page = get_json("/ogc/collections/griglia/items?limit=20000").await;
    assert_eq!(page["numberMatched"], GRID);
    assert_eq!(page["numberReturned"], 10_000);
    let next = link(&page, "next").unwrap();
    assert!(next.contains("offset=10000"), "{next}");
    let rest = get_json(next).await;
    assert_eq!(rest["numberReturned"], GRID - 10_000);
    assert!(link(&rest, "next").is_none());
    let all: BTreeSet<u64> = ids(&page).into_iter().chain(ids(&rest)).collect();
    assert_eq!(all, (1..=GRID as u64).collect());
    for bad in ["0", "-1", "abc", "1.5"] {
        let a = get(&format!("/ogc/collections/punti/items?limit={bad}")).await;
        assert_exception(
            &a,
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            "limit",
        );
    }
}

#[tokio::test]
async fn unknown_or_repeated_parameter_is_a_400() {
    let a = get("/ogc/collections/punti/items?limt=10").await;
    assert_exception(
        &a,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        "\"limt\"",
    );
    let a = get("/ogc/collections/punti/items?limit=1&limit=2").await;
    assert_exception(
        &a,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        "more than once",
    );
    let a = get("/ogc/collections?bbox=1,2,3,4").await;
    assert_exception(
        &a,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        "\"bbox\"",
    );
    let a = get("/ogc/collections/punti/items?f=xml").await;
    assert_exception(&a, StatusCode::BAD_REQUEST, "InvalidParameterValue", "f");
}

fn coords(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

/// Ids of download features whose point lies in the box (lon/lat).
fn points_in(id: &str, [x1, y1, x2, y2]: [f64; 4]) -> Vec<u64> {
    download(id)
        .into_iter()
        .filter(|(_, f)| {
            let (x, y) = coords(f);
            (x1..=x2).contains(&x) && (y1..=y2).contains(&y)
        })
        .map(|(i, _)| i)
        .collect()
}

async fn matched_ids(url: &str) -> Vec<u64> {
    let (matched, mut seen, _) = all_pages(url).await;
    assert_eq!(matched as usize, seen.len(), "{url}");
    seen.sort_unstable();
    seen
}

#[tokio::test]
async fn bbox_selects_what_the_download_has_inside() {
    for b in [
        [10.49, 43.75, 10.56, 43.85],
        [10.55, 43.80, 10.66, 43.94],
        [10.4999, 43.7599, 10.5001, 43.7601],
        [0.0, 0.0, 1.0, 1.0],
    ] {
        let expected = points_in("punti", b);
        let url = format!(
            "/ogc/collections/punti/items?limit=7&bbox={},{},{},{}",
            b[0], b[1], b[2], b[3]
        );
        assert_eq!(matched_ids(&url).await, expected, "{url}");
        // 6 numbers: heights are ignored.
        let url = format!(
            "/ogc/collections/punti/items?bbox={},{},-100,{},{},100&limit=100",
            b[0], b[1], b[2], b[3]
        );
        assert_eq!(matched_ids(&url).await, expected, "{url}");
        // EPSG:4326 is latitude first.
        let url = format!(
            "/ogc/collections/punti/items?bbox={},{},{},{}&bbox-crs={}&limit=100",
            b[1],
            b[0],
            b[3],
            b[2],
            enc("http://www.opengis.net/def/crs/EPSG/0/4326")
        );
        assert_eq!(matched_ids(&url).await, expected, "{url}");
    }
    // A box around the Capannori point in Gauss-Boaga (cs2cs coordinates).
    let (x, y, lon, lat) = cs2cs()[&(3003, "capannori".to_string())];
    let url = format!(
        "/ogc/collections/punti/items?bbox={},{},{},{}&bbox-crs=EPSG:3003",
        x - 5.0,
        y - 5.0,
        x + 5.0,
        y + 5.0
    );
    let page = get_json(&url).await;
    assert_eq!(page["numberMatched"], 1);
    let (plon, plat) = coords(&page["features"][0]);
    assert!((plon - lon).abs() < 1e-7 && (plat - lat).abs() < 1e-7);
    for bad in ["1,2,3", "10.6,43.8,10.5,43.9", "a,b,c,d"] {
        let a = get(&format!("/ogc/collections/punti/items?bbox={bad}")).await;
        assert_exception(&a, StatusCode::BAD_REQUEST, "InvalidParameterValue", "bbox");
    }
}

#[tokio::test]
async fn polygon_bbox_is_exact_not_just_the_envelope() {
    use geo::Intersects;
    let feature = download("confine").into_values().next().unwrap();
    let geometry: geo_types::Geometry<f64> =
        geojson::Geometry::from_json_value(feature["geometry"].clone())
            .unwrap()
            .value
            .try_into()
            .unwrap();
    let [x1, y1, x2, y2] = site()
        .manifest
        .dataset("confine")
        .unwrap()
        .extent
        .bbox
        .unwrap();
    // Small boxes at the corners of the envelope and at its centre.
    let d = 0.004;
    let mut outside = 0;
    for (cx, cy) in [
        (x1 + d, y1 + d),
        (x2 - d, y1 + d),
        (x1 + d, y2 - d),
        (x2 - d, y2 - d),
        ((x1 + x2) / 2.0, (y1 + y2) / 2.0),
    ] {
        let rect = geo_types::Rect::new((cx - d / 2.0, cy - d / 2.0), (cx + d / 2.0, cy + d / 2.0));
        let expected = u64::from(geometry.intersects(&rect));
        outside += 1 - expected;
        let url = format!(
            "/ogc/collections/confine/items?bbox={},{},{},{}",
            cx - d / 2.0,
            cy - d / 2.0,
            cx + d / 2.0,
            cy + d / 2.0
        );
        assert_eq!(get_json(&url).await["numberMatched"], expected, "{url}");
    }
    assert!(outside > 0, "no test box fell outside the polygon");
}

#[tokio::test]
async fn crs_output_follows_cs2cs_and_the_axis_order() {
    let expected = cs2cs();
    let download = download("punti");
    let fid = *download
        .iter()
        .find(|(_, f)| f["properties"]["nome"] == "Punto 01")
        .unwrap()
        .0;
    for code in [3003, 6707, 7791, 25832, 32632, 3857, 4326] {
        let (x, y, _, _) = expected[&(code, "capannori".to_string())];
        let northing_first = matches!(code, 4326 | 6707);
        let (a, b) = if northing_first { (y, x) } else { (x, y) };
        let uri = format!("http://www.opengis.net/def/crs/EPSG/0/{code}");
        for url in [
            format!("/ogc/collections/punti/items/{fid}?crs={}", enc(&uri)),
            format!(
                "/ogc/collections/punti/items?crs={}&nome={}",
                enc(&uri),
                enc("Punto 01")
            ),
        ] {
            let answer = get(&url).await;
            assert_eq!(answer.status, StatusCode::OK, "{url}: {}", answer.text());
            assert_eq!(answer.header("content-crs"), format!("<{uri}>"));
            let doc = answer.json();
            let f = if doc["type"] == "Feature" {
                doc.clone()
            } else {
                doc["features"][0].clone()
            };
            let (ga, gb) = coords(&f);
            // Metres to 1 cm; degrees to 1e-7 (the source point is 1e-8° off the place).
            let tol = if code == 4326 { 1e-7 } else { 0.01 };
            assert!(
                (ga - a).abs() < tol && (gb - b).abs() < tol,
                "EPSG:{code}: got ({ga}, {gb}), cs2cs says ({a}, {b})"
            );
        }
    }
    let plain = get(&format!("/ogc/collections/punti/items/{fid}")).await;
    assert_eq!(
        plain.header("content-crs"),
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    let a = get("/ogc/collections/punti/items?crs=EPSG:2000").await;
    assert_exception(&a, StatusCode::BAD_REQUEST, "InvalidParameterValue", "crs");
}

#[tokio::test]
async fn single_features_match_the_download() {
    for (fid, expected) in download("punti") {
        let f = get_json(&format!("/ogc/collections/punti/items/{fid}")).await;
        assert_eq!(f["id"], fid);
        assert_eq!(f["properties"], expected["properties"], "fid {fid}");
        assert_eq!(f["geometry"], expected["geometry"], "fid {fid}");
        assert!(link(&f, "collection").is_some());
    }
    let a = get("/ogc/collections/punti/items/99999").await;
    assert_exception(&a, StatusCode::NOT_FOUND, "NotFound", "99999");
    let a = get("/ogc/collections/punti/items/abc").await;
    assert_exception(&a, StatusCode::NOT_FOUND, "NotFound", "abc");
}

fn download_ids(id: &str, keep: impl Fn(&Value) -> bool) -> Vec<u64> {
    download(id)
        .into_iter()
        .filter(|(_, f)| keep(&f["properties"]))
        .map(|(i, _)| i)
        .collect()
}

#[tokio::test]
async fn property_and_datetime_filters() {
    let url = "/ogc/collections/punti/items?frazione=Lammari&limit=3";
    let expected = download_ids("punti", |p| p["frazione"] == "Lammari");
    assert!(!expected.is_empty());
    assert_eq!(matched_ids(url).await, expected);
    let url = "/ogc/collections/punti/items?numero=120";
    assert_eq!(
        matched_ids(url).await,
        download_ids("punti", |p| p["numero"] == 120)
    );
    let a = get("/ogc/collections/punti/items?numero=molti").await;
    assert_exception(
        &a,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        "numero",
    );

    let date = |p: &Value| p["data"].as_str().unwrap().to_string();
    let url = "/ogc/collections/punti/items?datetime=2024-01-05/2024-01-10";
    let expected = download_ids("punti", |p| {
        ("2024-01-05".."2024-01-11").contains(&date(p).as_str())
    });
    assert_eq!(expected.len(), 6);
    assert_eq!(matched_ids(url).await, expected);
    let url = "/ogc/collections/punti/items?datetime=../2024-01-03";
    assert_eq!(matched_ids(url).await.len(), 3);
    let url = "/ogc/collections/punti/items?datetime=2024-01-07";
    assert_eq!(
        matched_ids(url).await,
        download_ids("punti", |p| date(p) == "2024-01-07")
    );
    let url = format!(
        "/ogc/collections/punti/items?datetime={}",
        enc("2024-01-20T00:00:00Z/..")
    );
    assert_eq!(matched_ids(&url).await.len(), 6);
    let a = get("/ogc/collections/punti/items?datetime=ieri").await;
    assert_exception(
        &a,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        "datetime",
    );
}

#[tokio::test]
async fn cql2_text_and_json_filters() {
    type Keep = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(&str, &str, Keep)> = vec![
        (
            "numero >= 100 AND frazione <> 'Marlia'",
            r#"{"op":"and","args":[{"op":">=","args":[{"property":"numero"},100]},{"op":"<>","args":[{"property":"frazione"},"Marlia"]}]}"#,
            Box::new(|p| p["numero"].as_i64().unwrap() >= 100 && p["frazione"] != "Marlia"),
        ),
        (
            "frazione LIKE 'Segromigno%' OR NOT (numero < 240)",
            r#"{"op":"or","args":[{"op":"like","args":[{"property":"frazione"},"Segromigno%"]},{"op":"not","args":[{"op":"<","args":[{"property":"numero"},240]}]}]}"#,
            Box::new(|p| {
                p["frazione"].as_str().unwrap().starts_with("Segromigno")
                    || p["numero"].as_i64().unwrap() >= 240
            }),
        ),
        (
            "nome IN ('Punto 02', 'Punto 17') AND data > DATE('2024-01-05')",
            r#"{"op":"and","args":[{"op":"in","args":[{"property":"nome"},["Punto 02","Punto 17"]]},{"op":">","args":[{"property":"data"},{"date":"2024-01-05"}]}]}"#,
            Box::new(|p| p["nome"] == "Punto 17"),
        ),
        (
            "numero BETWEEN 50 AND 90 AND data IS NOT NULL",
            r#"{"op":"and","args":[{"op":"between","args":[{"property":"numero"},50,90]},{"op":"not","args":[{"op":"isNull","args":[{"property":"data"}]}]}]}"#,
            Box::new(|p| (50..=90).contains(&p["numero"].as_i64().unwrap())),
        ),
    ];
    for (text, json, keep) in &cases {
        let expected = download_ids("punti", keep);
        assert!(!expected.is_empty(), "{text}");
        let url = format!("/ogc/collections/punti/items?filter={}&limit=4", enc(text));
        assert_eq!(matched_ids(&url).await, expected, "{text}");
        let url = format!(
            "/ogc/collections/punti/items?filter={}&filter-lang=cql2-json&limit=4",
            enc(json)
        );
        assert_eq!(matched_ids(&url).await, expected, "{json}");
    }

    // Spatial: a polygon in CRS84 and the same box in Gauss-Boaga through filter-crs.
    let b = [10.49, 43.75, 10.56, 43.85];
    let expected = points_in("punti", b);
    let wkt = format!(
        "S_INTERSECTS(geometry, POLYGON(({x1} {y1}, {x2} {y1}, {x2} {y2}, {x1} {y2}, {x1} {y1})))",
        x1 = b[0],
        y1 = b[1],
        x2 = b[2],
        y2 = b[3]
    );
    let url = format!(
        "/ogc/collections/punti/items?filter={}&limit=100",
        enc(&wkt)
    );
    assert_eq!(matched_ids(&url).await, expected);
    let json = format!(
        r#"{{"op":"s_intersects","args":[{{"property":"geometry"}},{{"bbox":[{},{},{},{}]}}]}}"#,
        b[0], b[1], b[2], b[3]
    );
    let url = format!(
        "/ogc/collections/punti/items?filter={}&filter-lang=cql2-json&limit=100",
        enc(&json)
    );
    assert_eq!(matched_ids(&url).await, expected);
    // A spatial predicate under NOT and OR still gets every geometry decoded; an
    // attribute-only filter is tested without them: both give the downloads' answer.
    let outside = download("punti")
        .into_iter()
        .find(|(i, _)| !expected.contains(i))
        .map(|(_, f)| f["properties"]["nome"].as_str().unwrap().to_string())
        .unwrap();
    let text = format!("NOT (NOT {wkt}) OR nome = '{outside}'");
    let mut either: Vec<u64> = expected
        .iter()
        .copied()
        .chain(download_ids("punti", |p| p["nome"] == outside.as_str()))
        .collect();
    either.sort_unstable();
    either.dedup();
    assert!(
        either.len() > expected.len(),
        "the attribute side adds features"
    );
    let mut got = matched_ids(&format!(
        "/ogc/collections/punti/items?filter={}&limit=100",
        enc(&text)
    ))
    .await;
    got.sort_unstable();
    assert_eq!(got, either, "{text}");
    let (x, y, _, _) = cs2cs()[&(3003, "capannori".to_string())];
    let text = format!(
        "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))",
        x - 5.0,
        y - 5.0,
        x + 5.0,
        y + 5.0
    );
    let url = format!(
        "/ogc/collections/punti/items?filter={}&filter-crs={}",
        enc(&text),
        enc("http://www.opengis.net/def/crs/EPSG/0/3003")
    );
    assert_eq!(
        matched_ids(&url).await,
        download_ids("punti", |p| p["nome"] == "Punto 01")
    );

    for (filter, mention) in [
        ("numero >", "end of the filter"),
        ("nessuna = 1", "unknown property"),
        ("numero = 'dieci'", "cannot compare"),
    ] {
        let a = get(&format!(
            "/ogc/collections/punti/items?filter={}",
            enc(filter)
        ))
        .await;
        assert_exception(
            &a,
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            mention,
        );
    }
    let a = get("/ogc/collections/punti/items?filter=TRUE&filter-lang=ecql").await;
    assert_exception(
        &a,
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        "filter-lang",
    );
}

#[tokio::test]
async fn queryables_are_a_json_schema_of_the_fields() {
    let a = get("/ogc/collections/punti/queryables").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header("content-type"), "application/schema+json");
    let q = a.json();
    assert_eq!(q["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(q["type"], "object");
    let names: BTreeSet<&str> = q["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected: BTreeSet<&str> = site()
        .manifest
        .dataset("punti")
        .unwrap()
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    expected.insert("geometry");
    assert_eq!(names, expected);
    assert_eq!(q["properties"]["numero"]["type"], "integer");
    assert_eq!(q["properties"]["data"]["format"], "date");
    assert_eq!(q["properties"]["geometry"]["format"], "geometry-point");
}

#[tokio::test]
async fn openapi_lists_every_served_path() {
    let a = get("/ogc/api").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header("content-type"),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let doc = a.json();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["servers"][0]["url"], "http://127.0.0.1:8080/ogc");
    let paths: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let mut served = BTreeSet::new();
    for route in portale::ogc::api::ROUTES {
        if route.path.contains("{collectionId}") {
            for id in ["confine", "griglia", "punti"] {
                served.insert(route.path.replace("{collectionId}", id));
            }
        } else {
            served.insert(route.path.to_string());
        }
    }
    assert_eq!(paths, served);
    for path in &paths {
        let url = format!("/ogc{}", path.replace("{featureId}", "1"));
        let url = if path == "/" { "/ogc".to_string() } else { url };
        assert_eq!(get(&url).await.status, StatusCode::OK, "{url}");
        // Every documented query parameter is accepted.
        for p in doc["paths"][path]["get"]["parameters"].as_array().unwrap() {
            if p["in"] != "query" {
                continue;
            }
            let name = p["name"].as_str().unwrap();
            let value = match name {
                "f" => "json".to_string(),
                "bbox" => "10,43,11,44".to_string(),
                "limit" | "numero" => "1".to_string(),
                "offset" => "0".to_string(),
                "filter" => "TRUE".to_string(),
                "filter-lang" => "cql2-text".to_string(),
                "datetime" | "data" => "2024-01-01".to_string(),
                n if n.ends_with("crs") => enc("http://www.opengis.net/def/crs/EPSG/0/3003"),
                // Queryable properties: a value of the documented schema.
                _ => match (p["schema"]["type"].as_str(), p["schema"]["format"].as_str()) {
                    (Some("integer" | "number"), _) => "1".to_string(),
                    (Some("boolean"), _) => "true".to_string(),
                    (_, Some("date")) => "2024-01-01".to_string(),
                    (_, Some("date-time")) => "2024-01-01T00:00:00".to_string(),
                    _ => "x".to_string(),
                },
            };
            let sep = if url.contains('?') { '&' } else { '?' };
            let with = format!("{url}{sep}{name}={value}");
            assert_eq!(get(&with).await.status, StatusCode::OK, "{with}");
        }
    }
    let items = &doc["paths"]["/collections/punti/items"]["get"]["parameters"];
    let names: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for n in [
        "bbox",
        "limit",
        "offset",
        "datetime",
        "crs",
        "bbox-crs",
        "filter",
        "filter-lang",
        "frazione",
    ] {
        assert!(names.contains(&n), "{n}");
    }
}

#[tokio::test]
async fn html_pages_and_negotiation() {
    let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for path in [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/punti",
        "/ogc/collections/punti/items",
        "/ogc/collections/punti/items/1",
        "/ogc/collections/punti/queryables",
        "/ogc/api",
    ] {
        let a = get_with(path, Some(firefox)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(
            a.header("content-type"),
            "text/html; charset=utf-8",
            "{path}"
        );
        let html = a.text();
        assert!(
            html.starts_with("<!doctype html>") && html.contains("lang=\"it\""),
            "{path}"
        );
        assert!(a.header("link").contains("rel=\"alternate\""), "{path}");
        let json = get(&format!("{path}?f=json")).await;
        assert!(
            !json.header("content-type").starts_with("text/html"),
            "{path}"
        );
        let forced = get_with(&format!("{path}?f=json"), Some(firefox)).await;
        assert_eq!(forced.header("content-type"), json.header("content-type"));
    }
    // Titles from data are escaped.
    let page = get("/ogc/collections/punti?f=html").await.text();
    assert!(page.contains("Punti &lt;di&gt; prova") && !page.contains("Punti <di>"));
    let items = get("/ogc/collections/punti/items?f=html&limit=2")
        .await
        .text();
    assert!(items.contains("rel=\"next\""));
}
