//! The HTTP server against a site written by the test itself: two generations with real
//! files, manifests built from the model types and SHA-256 computed here with `sha2`.
//!
//! In-process tests call `app(state)` with `tower::ServiceExt::oneshot`; the last test
//! serves on 127.0.0.1:0 and downloads with reqwest while `CURRENT` is swapped.
//!
//! Oracles: expected bytes are the bytes the test wrote (slices of them for ranges),
//! expected ETags are SHA-256 digests computed here, expected `Last-Modified` strings come
//! from GNU `date -u -d <built_at> '+%a, %d %b %Y %H:%M:%S GMT'`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use portale::model::{
    Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Distribution, Extent, Field, FieldType,
    GeometryType, Layer, MANIFEST_VERSION, Manifest, QualityReport,
};
use portale::search::Synonyms;
use portale::search::publish::refresh;
use portale::server::{AppState, ServerError, app, serve_listener};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const BASE: &str = "https://dati.example.it/capannori";
/// `date -u -d 2026-03-01T10:20:30Z '+%a, %d %b %Y %H:%M:%S GMT'`
const G1_LAST_MODIFIED: &str = "Sun, 01 Mar 2026 10:20:30 GMT";
/// `date -u -d 2026-03-02T08:00:00Z '+%a, %d %b %Y %H:%M:%S GMT'`
const G2_LAST_MODIFIED: &str = "Mon, 02 Mar 2026 08:00:00 GMT";

const SCUOLE_G1: &str = "codice,nome,comune\nLUEE80101X,Scuola primaria \"Giosuè Carducci\",Capannori\nLUAA80102Y,Scuola dell'infanzia Lammari,Capannori\n";
const SCUOLE_G2: &str = "codice,nome,comune\nLUEE80101X,Scuola primaria \"Giosuè Carducci\",Capannori\nLUAA80102Y,Scuola dell'infanzia Lammari,Capannori\nLUMM80103Z,Scuola secondaria di primo grado Enrico Pea,Capannori\n";
const SCUOLE_GEOJSON: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[10.5736,43.8417]},"properties":{"codice":"LUEE80101X"}}]}"#;
const ALBO_CSV: &str = "numero,oggetto,data\n1,Ordinanza viabilità,2026-01-15\n";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic bytes (xorshift), so that a large file has no repeating pattern that
/// could hide an offset error.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

struct FileSpec {
    file: &'static str,
    format: &'static str,
    media_type: &'static str,
    bytes: Vec<u8>,
}

fn file(
    file: &'static str,
    format: &'static str,
    media_type: &'static str,
    bytes: &[u8],
) -> FileSpec {
    FileSpec {
        file,
        format,
        media_type,
        bytes: bytes.to_vec(),
    }
}

struct DatasetSpec {
    id: &'static str,
    title: &'static str,
    geo: bool,
    files: Vec<FileSpec>,
}

fn agent() -> Agent {
    Agent {
        name: "Comune di Capannori".into(),
        identifier: "c_b648".into(),
    }
}

fn contact() -> ContactPoint {
    ContactPoint {
        name: "Ufficio SIT".into(),
        email: "sit@example.it".into(),
        url: None,
    }
}

fn catalog() -> Catalog {
    Catalog {
        title: "Dati aperti del Comune di Capannori".into(),
        description: "Catalogo di prova".into(),
        publisher: agent(),
        base_url: BASE.into(),
        homepage: "https://www.comune.capannori.lu.it".into(),
        languages: vec!["it".into()],
        default_license: "CC-BY-4.0".into(),
        contact_point: contact(),
        istat_code: Some("046007".into()),
        territory_bbox: Some([10.49, 43.78, 10.67, 43.91]),
        basemap_style: None,
    }
}

/// Writes `site/generations/<name>/` with the files and a manifest listing them.
fn write_generation(site: &Path, name: &str, built_at: &str, specs: &[DatasetSpec]) -> Manifest {
    let dir = site.join("generations").join(name);
    let mut datasets = Vec::new();
    for spec in specs {
        let ddir = dir.join("datasets").join(spec.id);
        fs::create_dir_all(&ddir).unwrap();
        let mut distributions = Vec::new();
        for f in &spec.files {
            fs::write(ddir.join(f.file), &f.bytes).unwrap();
            distributions.push(Distribution {
                file: f.file.into(),
                format: f.format.into(),
                media_type: f.media_type.into(),
                byte_size: f.bytes.len() as u64,
                sha256: sha256_hex(&f.bytes),
                rows: 2,
                path: format!("datasets/{}/{}", spec.id, f.file),
            });
        }
        datasets.push(Dataset {
            id: spec.id.into(),
            meta: DatasetMeta {
                title: spec.title.into(),
                description: format!("Descrizione di {}", spec.title),
                themes: vec!["EDUC".into()],
                subthemes: vec![],
                keywords: vec!["scuole".into(), "istruzione".into()],
                frequency: "ANNUAL".into(),
                license: "CC-BY-4.0".into(),
                publisher: agent(),
                rights_holder: agent(),
                contact_point: contact(),
                conforms_to: vec![],
                temporal: None,
                demo_data: false,
                issued: None,
            },
            fields: vec![Field {
                name: "codice".into(),
                field_type: FieldType::String,
                description: None,
                source: Some("CODICE".into()),
                required: true,
                unique: true,
                nulls: 0,
            }],
            rows: 2,
            extent: Extent {
                bbox: spec.geo.then_some([10.5736, 43.8417, 10.6, 43.85]),
                temporal: None,
            },
            layer: spec.geo.then_some(Layer {
                geometry_type: GeometryType::Point,
                source_crs: 3003,
                features: 2,
            }),
            distributions,
            quality: QualityReport {
                rows_read: 3,
                rows_kept: 2,
                rows_rejected: 1,
                ..QualityReport::default()
            },
            modified: built_at.into(),
            input_hash: "0".repeat(64),
            pictures: Vec::new(),
            tiles: None,
        });
    }
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        generation: name.into(),
        built_at: built_at.into(),
        portale_version: "0.1.0".into(),
        catalog: catalog(),
        datasets,
    };
    fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    manifest
}

/// Replaces `CURRENT` by a rename, as the builder does.
fn set_current(site: &Path, name: &str) {
    let tmp = site.join(format!("CURRENT.{name}.tmp"));
    fs::write(&tmp, format!("{name}\n")).unwrap();
    fs::rename(&tmp, site.join("CURRENT")).unwrap();
}

fn big_g1() -> Vec<u8> {
    noise(200_000, 7)
}

/// A site with g1 (current) and g2. Datasets are listed out of id order on purpose.
fn site() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path();
    write_generation(
        site,
        "g1",
        "2026-03-01T10:20:30Z",
        &[
            DatasetSpec {
                id: "scuole",
                title: "Scuole",
                geo: true,
                files: vec![
                    file("scuole.csv", "CSV", "text/csv", SCUOLE_G1.as_bytes()),
                    file(
                        "scuole.geojson",
                        "GEOJSON",
                        "application/geo+json",
                        SCUOLE_GEOJSON.as_bytes(),
                    ),
                ],
            },
            DatasetSpec {
                id: "albo-pretorio",
                title: "Albo pretorio",
                geo: false,
                files: vec![
                    file("albo-pretorio.csv", "CSV", "text/csv", ALBO_CSV.as_bytes()),
                    file("archivio.bin", "BIN", "application/octet-stream", &big_g1()),
                ],
            },
        ],
    );
    // On disk in the generation, but not in the manifest: must never be served.
    fs::write(
        site.join("generations/g1/datasets/scuole/segreto.csv"),
        "password,123\n",
    )
    .unwrap();
    write_generation(
        site,
        "g2",
        "2026-03-02T08:00:00Z",
        &[
            DatasetSpec {
                id: "scuole",
                title: "Scuole",
                geo: true,
                files: vec![file("scuole.csv", "CSV", "text/csv", SCUOLE_G2.as_bytes())],
            },
            DatasetSpec {
                id: "parcheggi",
                title: "Parcheggi",
                geo: true,
                files: vec![file("parcheggi.csv", "CSV", "text/csv", b"id\n1\n")],
            },
        ],
    );
    set_current(site, "g1");
    // The search index of g1, as `portale build` publishes it with the generation.
    refresh(site, &Synonyms::built_in(), None).unwrap();
    tmp
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn assert_error(&self, status: StatusCode) {
        assert_eq!(self.status, status, "body: {:?}", self.body);
        assert!(self.header("content-type").starts_with("application/json"));
        let json = self.json();
        assert_eq!(json["error"]["status"], status.as_u16());
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

async fn get(router: &Router, uri: &str) -> Reply {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_with(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    send(router, req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn open_without_current_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = AppState::open(tmp.path()).unwrap_err();
    assert!(matches!(err, ServerError::NoGeneration { .. }));
    let message = err.to_string();
    assert!(
        message.contains("no generation has been built yet in")
            && message.contains(&tmp.path().display().to_string())
            && message.contains("run `portale build`"),
        "{message}"
    );
}

#[tokio::test]
async fn listing_by_title_with_absolute_urls() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    let r = get(&router, "/datasets.json?sort=title").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-portale-generation"), "g1");
    let json = r.json();
    assert_eq!(json["total"], 2);
    let ids: Vec<&str> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["albo-pretorio", "scuole"]);

    let albo = &json["results"][0];
    assert_eq!(albo["title"], "Albo pretorio");
    assert_eq!(albo["origin"], "local");
    assert_eq!(albo["url"], format!("{BASE}/datasets/albo-pretorio"));
    assert!(albo.get("path").is_none());
    assert!(albo.get("geometry_type").is_none() && albo.get("bbox").is_none());
    assert_eq!(
        albo["distributions"][1]["url"],
        format!("{BASE}/datasets/albo-pretorio/files/archivio.bin")
    );
    assert_eq!(albo["distributions"][1]["byte_size"], 200_000);

    let scuole = &json["results"][1];
    assert_eq!(scuole["geometry_type"], "Point");
    assert_eq!(
        scuole["bbox"],
        serde_json::json!([10.5736, 43.8417, 10.6, 43.85])
    );
    assert_eq!(scuole["themes"], serde_json::json!(["EDUC"]));
    assert_eq!(
        scuole["keywords"],
        serde_json::json!(["scuole", "istruzione"])
    );
    assert_eq!(scuole["modified"], "2026-03-01T10:20:30Z");
    assert_eq!(scuole["rows"], 2);
    assert_eq!(
        scuole["distributions"][0],
        serde_json::json!({
            "format": "CSV",
            "media_type": "text/csv",
            "url": format!("{BASE}/datasets/scuole/files/scuole.csv"),
            "byte_size": SCUOLE_G1.len(),
        })
    );

    // HEAD: same headers, no body.
    let head = send(
        &router,
        Request::head("/datasets.json?sort=title")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), r.body.len().to_string());
}

#[tokio::test]
async fn dataset_json_has_everything_with_checksums_and_links() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    let r = get(&router, "/datasets/scuole.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("application/json"));
    assert_eq!(
        r.header("link"),
        format!("<{BASE}/datasets/scuole>; rel=\"alternate\"; type=\"text/html\"")
    );
    let json = r.json();
    assert_eq!(json["id"], "scuole");
    assert_eq!(json["meta"]["title"], "Scuole");
    assert_eq!(json["meta"]["publisher"]["identifier"], "c_b648");
    assert_eq!(json["fields"][0]["name"], "codice");
    assert_eq!(json["fields"][0]["type"], "string");
    assert_eq!(json["rows"], 2);
    assert_eq!(json["extent"]["bbox"][0], 10.5736);
    assert_eq!(json["layer"]["geometry_type"], "Point");
    assert_eq!(json["layer"]["source_crs"], 3003);
    assert_eq!(json["quality"]["rows_rejected"], 1);
    assert_eq!(json["modified"], "2026-03-01T10:20:30Z");
    let csv = &json["distributions"][0];
    assert_eq!(csv["file"], "scuole.csv");
    assert_eq!(
        csv["url"],
        format!("{BASE}/datasets/scuole/files/scuole.csv")
    );
    assert_eq!(csv["byte_size"], SCUOLE_G1.len());
    assert_eq!(csv["media_type"], "text/csv");
    assert_eq!(
        csv["checksum"],
        serde_json::json!({"algorithm": "SHA-256", "value": sha256_hex(SCUOLE_G1.as_bytes())})
    );
    // Build internals stay private.
    assert!(csv.get("path").is_none());
    assert!(json.get("input_hash").is_none());
    let links = json["links"].as_array().unwrap();
    assert!(links.contains(&serde_json::json!({
        "rel": "self", "href": format!("{BASE}/datasets/scuole.json"), "type": "application/json"
    })));
    assert!(links.contains(&serde_json::json!({
        "rel": "alternate", "href": format!("{BASE}/datasets/scuole"), "type": "text/html"
    })));
}

#[tokio::test]
async fn unknown_things_are_json_404_and_wrong_methods_405() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    for uri in [
        "/nope",
        "/datasets/nope.json",
        // `.ttl` and the bare id exist for known datasets (tests/dcat.rs); not for others.
        "/datasets/nope.ttl",
        "/datasets/nope",
        "/datasets/scuole.xml",
        "/datasets/scuole/files/nope.csv",
        "/datasets/nope/files/scuole.csv",
        "/datasets/%ff.json",
    ] {
        let r = get(&router, uri).await;
        r.assert_error(StatusCode::NOT_FOUND);
        assert_eq!(r.header("x-portale-generation"), "g1", "{uri}");
    }
    for (method, uri) in [
        (Method::POST, "/datasets.json"),
        (Method::DELETE, "/datasets/scuole/files/scuole.csv"),
        (Method::PUT, "/-/health"),
    ] {
        let r = send(
            &router,
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        r.assert_error(StatusCode::METHOD_NOT_ALLOWED);
        assert!(r.header("allow").contains("GET"), "{uri}");
    }
}

#[tokio::test]
async fn health_names_the_generation() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    let r = get(&router, "/-/health").await;
    assert_eq!(r.status, StatusCode::OK);
    let mut health = r.json();
    // The search index the build published (its name is a time stamp).
    let search = health.as_object_mut().unwrap().remove("search").unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "generation": "g1", "built_at": "2026-03-01T10:20:30Z", "datasets": 2})
    );
    assert_eq!(search["generation"], "g1");
    assert_eq!(search["records"], 2);
    assert!(search["index"].as_str().unwrap().starts_with('i'));
}

#[tokio::test]
async fn download_has_validators_and_honours_if_none_match() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    let uri = "/datasets/scuole/files/scuole.csv";
    let etag = format!("\"{}\"", sha256_hex(SCUOLE_G1.as_bytes()));

    let r = get(&router, uri).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, SCUOLE_G1.as_bytes());
    assert_eq!(r.header("content-type"), "text/csv; charset=utf-8");
    assert_eq!(r.header("content-length"), SCUOLE_G1.len().to_string());
    assert_eq!(r.header("etag"), etag);
    assert_eq!(r.header("last-modified"), G1_LAST_MODIFIED);
    assert_eq!(r.header("accept-ranges"), "bytes");
    assert_eq!(r.header("cache-control"), "public, max-age=300");
    assert_eq!(
        r.header("content-disposition"),
        "attachment; filename=\"scuole.csv\""
    );
    assert_eq!(r.header("x-portale-generation"), "g1");

    let geojson = get(&router, "/datasets/scuole/files/scuole.geojson").await;
    assert_eq!(geojson.body, SCUOLE_GEOJSON.as_bytes());
    assert_eq!(
        geojson.header("content-type"),
        "application/geo+json; charset=utf-8"
    );
    let bin = get(&router, "/datasets/albo-pretorio/files/archivio.bin").await;
    assert_eq!(bin.header("content-type"), "application/octet-stream");
    assert_eq!(bin.body, big_g1());

    for inm in [
        etag.clone(),
        format!("W/{etag}"),
        "*".to_string(),
        format!("\"0000\", {etag}"),
    ] {
        let r = get_with(&router, uri, &[("if-none-match", &inm)]).await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{inm}");
        assert!(r.body.is_empty());
        // RFC 9110 §8.6: only the length a 200 would have, if any.
        if let Some(cl) = r.headers.get("content-length") {
            assert_eq!(cl.to_str().unwrap(), SCUOLE_G1.len().to_string());
        }
        assert_eq!(r.header("etag"), etag);
    }
    let r = get_with(&router, uri, &[("if-none-match", "\"0000\"")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, SCUOLE_G1.as_bytes());

    let r = get_with(&router, uri, &[("if-modified-since", G1_LAST_MODIFIED)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = get_with(
        &router,
        uri,
        &[("if-modified-since", "Sat, 28 Feb 2026 10:20:30 GMT")],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // If-None-Match wins over If-Modified-Since.
    let r = get_with(
        &router,
        uri,
        &[
            ("if-none-match", "\"0000\""),
            ("if-modified-since", G1_LAST_MODIFIED),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn ranges() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    let uri = "/datasets/albo-pretorio/files/archivio.bin";
    let all = big_g1();
    let len = all.len();
    let etag = format!("\"{}\"", sha256_hex(&all));

    // Spans several 64 KiB chunks.
    for (range, start, end) in [
        ("bytes=0-9", 0, 9),
        ("bytes=65530-140000", 65530, 140000),
        ("bytes=199990-", 199990, len - 1),
        ("bytes=-5", len - 5, len - 1),
        ("bytes=100-999999", 100, len - 1),
        ("bytes=-999999", 0, len - 1),
    ] {
        let r = get_with(&router, uri, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.header("content-range"),
            format!("bytes {start}-{end}/{len}")
        );
        assert_eq!(r.header("content-length"), (end - start + 1).to_string());
        assert_eq!(r.header("etag"), etag);
        assert_eq!(r.body, all[start..=end], "{range}");
    }

    for range in [format!("bytes={len}-"), "bytes=-0".to_string()] {
        let r = get_with(&router, uri, &[("range", &range)]).await;
        r.assert_error(StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(r.header("content-range"), format!("bytes */{len}"));
    }

    // Several ranges, other units and nonsense: the whole file.
    for range in ["bytes=0-1,4-5", "items=0-1", "bytes=9-2", "bytes=x-y"] {
        let r = get_with(&router, uri, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::OK, "{range}");
        assert_eq!(r.body.len(), len);
        assert!(r.headers.get("content-range").is_none());
    }

    // If-Range: the range applies only if the validator matches (strongly).
    let r = get_with(&router, uri, &[("range", "bytes=0-3"), ("if-range", &etag)]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, all[..4]);
    let r = get_with(
        &router,
        uri,
        &[("range", "bytes=0-3"), ("if-range", G1_LAST_MODIFIED)],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    for stale in [
        "\"0000\"".to_string(),
        format!("W/{etag}"),
        G2_LAST_MODIFIED.to_string(),
    ] {
        let r = get_with(
            &router,
            uri,
            &[("range", "bytes=0-3"), ("if-range", &stale)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{stale}");
        assert_eq!(r.body, all);
    }
}

#[tokio::test]
async fn head_has_length_and_no_body() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    let r = send(
        &router,
        Request::head("/datasets/albo-pretorio/files/archivio.bin")
            .header("range", "bytes=0-9")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    // Range is defined for GET only (RFC 9110 §14.2): HEAD describes the whole file.
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-length"), "200000");
    assert_eq!(r.header("etag"), format!("\"{}\"", sha256_hex(&big_g1())));
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn traversal_is_400_and_unlisted_files_404() {
    let tmp = site();
    let router = app(AppState::open(tmp.path()).unwrap());
    // Traversal shapes are refused before routing (400, src/server/security.rs); names
    // that are not listed in the manifest are 404.
    let refused = [
        "/datasets/scuole/files/..%2Fmanifest.json",
        "/datasets/scuole/files/%2e%2e%2fmanifest.json",
        "/datasets/scuole/files/%2E%2E%2F%2E%2E%2F%2E%2E%2FCURRENT",
        "/datasets/scuole/files/..%5C..%5Cmanifest.json",
        "/datasets/scuole/files/../../manifest.json",
        "/datasets/scuole/files/%2Fetc%2Fpasswd",
        "/datasets/scuole/files/datasets%2Fscuole%2Fscuole.csv",
        "/datasets/scuole/files/scuole.csv%00",
        "/datasets/scuole/files/scuole.csv%2F",
        "/datasets/scuole/files/.",
        "/datasets/..%2F..%2Fgenerations%2Fg1/files/manifest.json",
    ];
    for uri in refused.into_iter().chain([
        "/datasets/scuole/files/segreto.csv",
        "/datasets/scuole/files/manifest.json",
        "/datasets/scuole/files/%ff",
        "/datasets/albo-pretorio/files/scuole.csv",
    ]) {
        let r = get(&router, uri).await;
        r.assert_error(if refused.contains(&uri) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::NOT_FOUND
        });
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !body.contains("password") && !body.contains("\"generation\""),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn manifest_with_an_escaping_path_is_refused() {
    let tmp = site();
    let site = tmp.path();
    let mut manifest = write_generation(
        site,
        "g3",
        "2026-03-03T08:00:00Z",
        &[DatasetSpec {
            id: "scuole",
            title: "Scuole",
            geo: false,
            files: vec![file("scuole.csv", "CSV", "text/csv", b"a\n")],
        }],
    );
    manifest.datasets[0].distributions[0].path = "../../CURRENT".into();
    fs::write(
        site.join("generations/g3/manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();

    let state = AppState::open(site).unwrap();
    set_current(site, "g3");
    let err = state.reload_if_changed().unwrap_err();
    assert!(matches!(err, ServerError::InvalidManifest { .. }));
    assert!(err.to_string().contains("../../CURRENT"), "{err}");
    // The old generation keeps being served.
    let r = get(&app(state.clone()), "/-/health").await;
    assert_eq!(r.header("x-portale-generation"), "g1");

    let err = AppState::open(site).unwrap_err();
    assert!(err.to_string().contains("g3"), "{err}");
}

#[tokio::test]
async fn reload_switches_generation_and_content() {
    let tmp = site();
    let state = AppState::open(tmp.path()).unwrap();
    let router = app(state.clone());
    assert!(!state.reload_if_changed().unwrap());

    let old = state.current();
    set_current(tmp.path(), "g2");
    assert!(state.reload_if_changed().unwrap());
    assert!(!state.reload_if_changed().unwrap());
    // A holder of the old Arc still sees the old generation.
    assert_eq!(old.name(), "g1");
    assert_eq!(state.current().name(), "g2");

    let r = get(&router, "/datasets/scuole/files/scuole.csv").await;
    assert_eq!(r.header("x-portale-generation"), "g2");
    assert_eq!(r.body, SCUOLE_G2.as_bytes());
    assert_eq!(
        r.header("etag"),
        format!("\"{}\"", sha256_hex(SCUOLE_G2.as_bytes()))
    );
    assert_eq!(r.header("last-modified"), G2_LAST_MODIFIED);
    // The index follows when `site/search/CURRENT` names g2's.
    refresh(tmp.path(), &Synonyms::built_in(), None).unwrap();
    assert!(state.reload_search_if_changed().unwrap());
    assert!(!state.reload_search_if_changed().unwrap());
    let list = get(&router, "/datasets.json?sort=title").await.json();
    assert_eq!(list["results"][0]["id"], "parcheggi");
    assert_eq!(list["total"], 2);
    get(&router, "/datasets/albo-pretorio.json")
        .await
        .assert_error(StatusCode::NOT_FOUND);

    // CURRENT naming a generation that does not exist: error, g2 stays.
    set_current(tmp.path(), "g9");
    assert!(matches!(
        state.reload_if_changed(),
        Err(ServerError::ReadManifest { .. })
    ));
    assert_eq!(state.current().name(), "g2");
    // CURRENT holding something that is no generation name.
    fs::write(tmp.path().join("CURRENT"), "../../etc\n").unwrap();
    assert!(matches!(
        state.reload_if_changed(),
        Err(ServerError::ReadCurrent { .. })
    ));
    assert_eq!(
        get(&router, "/-/health")
            .await
            .header("x-portale-generation"),
        "g2"
    );
}

#[tokio::test]
async fn watcher_picks_up_a_new_generation() {
    let tmp = site();
    let state = AppState::open(tmp.path()).unwrap();
    let router = app(state.clone());
    let watcher = state.spawn_watcher(Duration::from_millis(10));
    // A broken CURRENT first: the watcher logs and keeps serving g1.
    set_current(tmp.path(), "g9");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        get(&router, "/-/health")
            .await
            .header("x-portale-generation"),
        "g1"
    );
    set_current(tmp.path(), "g2");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = get(&router, "/-/health").await;
        if r.header("x-portale-generation") == "g2" {
            assert_eq!(r.json()["generation"], "g2");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the watcher never switched to g2"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!watcher.is_finished());
    watcher.abort();
}

/// Real sockets: downloads while `CURRENT` flips between two generations. Every response
/// must be complete and belong to one generation: body SHA-256 = ETag = that generation's.
#[test]
fn downloads_stay_consistent_while_generations_swap() {
    const LEN: usize = 4 * 1024 * 1024;
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().to_path_buf();
    let mut contents = BTreeMap::new();
    for (name, built_at, seed) in [
        ("ga", "2026-03-01T10:20:30Z", 11),
        ("gb", "2026-03-02T08:00:00Z", 12),
    ] {
        let bytes = noise(LEN, seed);
        write_generation(
            &site,
            name,
            built_at,
            &[DatasetSpec {
                id: "grande",
                title: "Grande",
                geo: false,
                files: vec![file(
                    "grande.bin",
                    "BIN",
                    "application/octet-stream",
                    &bytes,
                )],
            }],
        );
        contents.insert(
            name.to_string(),
            (format!("\"{}\"", sha256_hex(&bytes)), bytes),
        );
    }
    let contents = Arc::new(contents);
    set_current(&site, "ga");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = AppState::open(&site).unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve_listener(state.clone(), listener, async {
        let _ = stopped.await;
    }));
    let watcher = {
        let _guard = rt.enter();
        state.spawn_watcher(Duration::from_millis(2))
    };
    let url = format!("http://{addr}/datasets/grande/files/grande.bin");
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();

    // HEAD through hyper keeps Content-Length.
    let head = client.head(&url).send().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], LEN.to_string().as_str());

    // A 304 through hyper: no body, and no `Content-Length: 0`.
    let not_modified = client
        .get(&url)
        .header("if-none-match", contents["ga"].0.as_str())
        .send()
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    if let Some(cl) = not_modified.headers().get("content-length") {
        assert_eq!(cl, LEN.to_string().as_str());
    }
    assert!(not_modified.bytes().unwrap().is_empty());

    // A download in flight across a swap finishes with the old generation's bytes.
    let in_flight = client.get(&url).send().unwrap();
    assert_eq!(in_flight.headers()["x-portale-generation"], "ga");
    set_current(&site, "gb");
    state.reload_if_changed().unwrap();
    assert_eq!(state.current().name(), "gb");
    let fresh = client
        .get(format!("http://{addr}/-/health"))
        .send()
        .unwrap();
    assert_eq!(fresh.headers()["x-portale-generation"], "gb");
    let body = in_flight.bytes().unwrap();
    assert_eq!(body.len(), LEN);
    assert_eq!(body, contents["ga"].1);

    // Now flip CURRENT continuously while two clients download.
    let done = Arc::new(AtomicBool::new(false));
    let swapper = {
        let done = done.clone();
        let site = site.clone();
        std::thread::spawn(move || {
            let mut flips = 0u32;
            while !done.load(Ordering::Relaxed) {
                set_current(&site, if flips.is_multiple_of(2) { "ga" } else { "gb" });
                flips += 1;
                std::thread::sleep(Duration::from_millis(3));
            }
            flips
        })
    };
    let clients: Vec<_> = (0..2)
        .map(|worker| {
            let client = client.clone();
            let url = url.clone();
            let contents = contents.clone();
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut seen = BTreeMap::<String, u32>::new();
                let mut n = 0u32;
                while n < 12 || (seen.len() < 2 && Instant::now() < deadline) {
                    let ranged = (n + worker).is_multiple_of(3);
                    let mut req = client.get(&url);
                    if ranged {
                        req = req.header("range", "bytes=1000000-3000000");
                    }
                    let res = req.send().unwrap();
                    let generation = res.headers()["x-portale-generation"]
                        .to_str()
                        .unwrap()
                        .to_string();
                    let (etag, bytes) = &contents[&generation];
                    assert_eq!(res.headers()["etag"], etag.as_str());
                    let announced: usize = res.headers()["content-length"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    let status = res.status();
                    let body = res.bytes().unwrap();
                    assert_eq!(body.len(), announced);
                    if ranged {
                        assert_eq!(status, 206);
                        assert_eq!(body, bytes[1_000_000..=3_000_000]);
                    } else {
                        assert_eq!(status, 200);
                        assert_eq!(&format!("\"{}\"", sha256_hex(&body)), etag);
                    }
                    *seen.entry(generation).or_default() += 1;
                    n += 1;
                }
                seen
            })
        })
        .collect();
    let mut seen = BTreeMap::<String, u32>::new();
    for c in clients {
        for (g, n) in c.join().unwrap() {
            *seen.entry(g).or_default() += n;
        }
    }
    done.store(true, Ordering::Relaxed);
    let flips = swapper.join().unwrap();
    assert!(flips > 2);
    assert_eq!(
        seen.len(),
        2,
        "both generations should have answered: {seen:?}"
    );

    watcher.abort();
    drop(client);
    stop.send(()).unwrap();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(20), server)
            .await
            .expect("graceful shutdown timed out")
            .unwrap()
            .unwrap();
    });
}

#[tokio::test]
async fn whole_downloads_are_counted_and_kept_across_restarts() {
    let tmp = site();
    let state = AppState::open(tmp.path()).unwrap();
    let router = app(state.clone());
    let uri = "/datasets/scuole/files/scuole.csv";
    let etag = format!("\"{}\"", sha256_hex(SCUOLE_G1.as_bytes()));
    // Counted: two whole GETs of scuole's files, one of albo-pretorio's.
    assert_eq!(get(&router, uri).await.status, StatusCode::OK);
    assert_eq!(
        get(&router, "/datasets/scuole/files/scuole.geojson")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        get(&router, "/datasets/albo-pretorio/files/albo-pretorio.csv")
            .await
            .status,
        StatusCode::OK
    );
    // Not counted: a HEAD, a revalidation, a range, a missing file.
    let head = send(&router, Request::head(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(head.status, StatusCode::OK);
    let r = get_with(&router, uri, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = get_with(&router, uri, &[("range", "bytes=0-9")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    let r = get(&router, "/datasets/scuole/files/nope.csv").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(state.downloads().get("scuole"), 2);
    assert_eq!(state.downloads().get("albo-pretorio"), 1);
    // The home page lists them, most first.
    let home = String::from_utf8(get(&router, "/").await.body.to_vec()).unwrap();
    let popular = &home[home.find(r#"id="popular""#).unwrap()..];
    let scuole = popular
        .find("/datasets/scuole\">Scuole</a> <span class=\"small\">2 download</span>")
        .unwrap_or_else(|| panic!("{popular}"));
    let albo = popular
        .find(">Albo pretorio</a> <span class=\"small\">1 download</span>")
        .unwrap_or_else(|| panic!("{popular}"));
    assert!(scuole < albo);

    // Written by the server and read back by the next one.
    state.downloads().save_if_changed();
    let on_disk: Value =
        serde_json::from_slice(&fs::read(tmp.path().join("stats/downloads.json")).unwrap())
            .unwrap();
    assert_eq!(on_disk, json!({"albo-pretorio": 1, "scuole": 2}));
    let again = AppState::open(tmp.path()).unwrap();
    assert_eq!(again.downloads().get("scuole"), 2);
}
