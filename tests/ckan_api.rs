//! The CKAN Action API in-process (`tower::ServiceExt::oneshot` on `app(state)`), against
//! two sites:
//! * the demo catalogue (`catalog/` and `datasets/` of this repository), built by the real
//!   build into a temporary directory;
//! * a synthetic catalogue whose manifest the test writes itself: 23 datasets with three
//!   publishers (one with an upper-case IPA code), several themes, licences, keywords a
//!   CKAN tag cannot hold, and `modified` dates spread over three years, so that filters,
//!   ranges and facets have something to tell apart; and a generated 10,000-dataset
//!   manifest for the `rows=1000` crawl.
//!
//! Oracles: expected sets and counts are computed here from the manifest (the model
//! types, with chrono for dates), never from the API's own output; the dict shapes are
//! checked against a real CKAN + ckanext-dcatapit `package_show` answer
//! (`tests/fixtures/ckan/dati-trentino_package_show.json`, from dati.trentino.it) and
//! against the key lists of CKAN's `default_create_package_schema` /
//! `default_show_package_schema` (ckan/logic/schema.py, CKAN 2.10); sub-themes against
//! the AgID theme → sub-theme CSV (`tests/fixtures/ckan/agid_theme-subtheme-mapping.csv`);
//! name and tag rules are CKAN's `name_validator` (`[a-z0-9_-]{2,100}`) and
//! `tag_name_validator` (`[\w \-.]{2,100}`) written out here.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{DateTime, NaiveDateTime, Utc};
use http_body_util::BodyExt;
use portale::config;
use portale::model::{
    Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Distribution, Extent, MANIFEST_VERSION,
    Manifest, QualityReport, TemporalExtent,
};
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use serde_json::Value;
use tower::ServiceExt;

const SYN_BASE: &str = "https://dati.example.it/capannori";

struct Site {
    /// One router per site, so that its CKAN catalogue is built once (as in `serve`).
    router: Router,
    manifest: Manifest,
}

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ckan"))
}

/// The demo catalogue, built once.
fn demo() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ckan_api_demo");
        let _ = fs::remove_dir_all(&root);
        let config = config::load_site(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let layout = SiteLayout::new(root.join("site"));
        let opts = BuildOptions {
            jobs: 2,
            keep_going: false,
        };
        build::build(&config, &layout, &opts, &Silent).unwrap();
        let name = layout.current_generation().unwrap().unwrap();
        let manifest = layout.read_manifest(&name).unwrap();
        Site {
            router: app(AppState::open(&root.join("site")).unwrap()),
            manifest,
        }
    })
}

fn agent(name: &str, ipa: &str) -> Agent {
    Agent {
        name: name.into(),
        identifier: ipa.into(),
    }
}

fn catalog(base: &str) -> Catalog {
    Catalog {
        title: "Dati aperti di prova".into(),
        description: "Catalogo sintetico".into(),
        publisher: agent("Comune di Capannori", "c_b648"),
        base_url: base.into(),
        homepage: "https://www.comune.capannori.lu.it".into(),
        languages: vec!["it".into(), "en".into()],
        default_license: "A21_CCBY40".into(),
        contact_point: ContactPoint {
            name: "URP".into(),
            email: "urp@example.it".into(),
            url: None,
        },
        istat_code: Some("046007".into()),
        territory_bbox: None,
        basemap_style: None,
    }
}

fn distribution(id: &str, file: &str, format: &str, media_type: &str, i: usize) -> Distribution {
    Distribution {
        file: file.into(),
        format: format.into(),
        media_type: media_type.into(),
        byte_size: 1000 + i as u64,
        sha256: format!("{:064x}", i * 7919 + file.len()),
        rows: 10 + i as u64,
        path: format!("datasets/{id}/{file}"),
    }
}

const PUBLISHERS: [(&str, &str); 3] = [
    ("Comune di Capannori", "c_b648"),
    ("Provincia Autonoma di Trento", "p_TN"),
    ("Istituto Nazionale di Statistica", "istat"),
];
const THEME_SETS: [&[&str]; 4] = [&["EDUC"], &["ENVI", "REGI"], &["TRAN"], &["GOVE", "EDUC"]];
const LICENSES: [&str; 3] = ["A21_CCBY40", "A29_IODL20", "A11_CCO10"];

/// One synthetic dataset (`i` picks every property, deterministically).
fn synthetic_dataset(i: usize) -> Dataset {
    let id = format!("ds-{i:05}");
    let (pname, pipa) = PUBLISHERS[i % 3];
    let themes: Vec<String> = THEME_SETS[i % 4].iter().map(|t| t.to_string()).collect();
    let mut keywords = vec!["scuola primaria".to_string(), format!("tema {}", i % 5)];
    if i.is_multiple_of(4) {
        keywords.push("scuola dell'infanzia".into());
    }
    if i.is_multiple_of(6) {
        // Nothing a CKAN tag can hold: left out.
        keywords.push("«»".into());
    }
    let month = 1 + (i * 5) % 12;
    let year = 2023 + (i % 3);
    let modified = format!(
        "{year}-{month:02}-{:02}T{:02}:30:00.{:06}Z",
        1 + i % 27,
        i % 24,
        i * 37 % 1_000_000
    );
    let mut distributions = vec![
        distribution(&id, &format!("{id}.csv"), "CSV", "text/csv", i),
        distribution(&id, &format!("{id}.json"), "JSON", "application/json", i),
    ];
    if i.is_multiple_of(3) {
        distributions.push(distribution(
            &id,
            &format!("{id}.geojson"),
            "GEOJSON",
            "application/geo+json",
            i,
        ));
    }
    let title = match i % 5 {
        0 => format!("Scuole statali, elenco {i}"),
        1 => format!("Mense scolastiche {i}"),
        2 => format!("Raccolta rifiuti {i}"),
        3 => format!("Fermate autobus {i}"),
        _ => format!("Bilancio comunale {i}"),
    };
    Dataset {
        id: id.clone(),
        meta: DatasetMeta {
            title,
            description: format!("Descrizione del dataset numero {i}"),
            themes,
            subthemes: vec![
                "http://eurovoc.europa.eu/100217".into(),
                "http://eurovoc.europa.eu/100242".into(),
                "http://eurovoc.europa.eu/100212".into(),
            ],
            keywords,
            frequency: "ANNUAL".into(),
            license: LICENSES[i % 3].into(),
            publisher: agent(pname, pipa),
            rights_holder: agent(pname, pipa),
            contact_point: ContactPoint {
                name: "URP".into(),
                email: "urp@example.it".into(),
                url: None,
            },
            conforms_to: vec![],
            temporal: i.is_multiple_of(2).then(|| TemporalExtent {
                start: "2020-01-01".into(),
                end: i.is_multiple_of(4).then(|| "2020-12-31".into()),
            }),
            demo_data: false,
            issued: None,
        },
        fields: vec![],
        rows: 10 + i as u64,
        extent: Extent::default(),
        layer: None,
        distributions,
        quality: QualityReport::default(),
        modified,
        input_hash: "0".repeat(64),
        pictures: Vec::new(),
        tiles: None,
    }
}

fn write_site(dir: &Path, n: usize) -> Site {
    let _ = fs::remove_dir_all(dir);
    let name = "g20260301T102030000Z-0001";
    let gen_dir = dir.join("generations").join(name);
    fs::create_dir_all(&gen_dir).unwrap();
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        generation: name.into(),
        built_at: "2026-03-01T10:20:30Z".into(),
        portale_version: "0.1.0".into(),
        catalog: catalog(SYN_BASE),
        datasets: (0..n).map(synthetic_dataset).collect(),
    };
    fs::write(
        gen_dir.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    fs::write(dir.join("CURRENT"), name).unwrap();
    Site {
        router: app(AppState::open(dir).unwrap()),
        manifest,
    }
}

fn synthetic() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        write_site(
            &Path::new(env!("CARGO_TARGET_TMPDIR")).join("ckan_api_syn"),
            23,
        )
    })
}

/// Query parameters of a search.
type Params<'a> = Vec<(&'a str, &'a str)>;

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn result(&self) -> Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let v = self.json();
        assert_eq!(v["success"], true);
        v["result"].clone()
    }

    fn error(&self, status: StatusCode, kind: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let v = self.json();
        assert_eq!(v["success"], false);
        assert_eq!(v["error"]["__type"], kind, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        assert!(v["help"].as_str().is_some(), "{v}");
        v["error"].clone()
    }
}

async fn send(
    router: Router,
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: &str,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let response = router
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(site: &Site, uri: &str) -> Answer {
    send(site.router.clone(), Method::GET, uri, None, "").await
}

async fn post_json(site: &Site, uri: &str, body: &Value) -> Answer {
    send(
        site.router.clone(),
        Method::POST,
        uri,
        Some("application/json"),
        &body.to_string(),
    )
    .await
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn search_uri(params: &[(&str, &str)]) -> String {
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("/api/3/action/package_search?{}", q.join("&"))
}

/// Names of the datasets a search returns (all pages of 1000).
async fn search_names(site: &Site, params: &[(&str, &str)]) -> BTreeSet<String> {
    let mut p: Vec<(&str, &str)> = params.to_vec();
    p.push(("rows", "1000"));
    let r = get(site, &search_uri(&p)).await.result();
    let names: BTreeSet<String> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        r["count"].as_u64(),
        Some(names.len() as u64),
        "count and results differ"
    );
    names
}

fn names_where(site: &Site, pred: impl Fn(&Dataset) -> bool) -> BTreeSet<String> {
    site.manifest
        .datasets
        .iter()
        .filter(|d| pred(d))
        .map(|d| d.id.clone())
        .collect()
}

fn modified_of(d: &Dataset) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&d.modified)
        .unwrap()
        .with_timezone(&Utc)
}

fn is_ckan_name(s: &str) -> bool {
    (2..=100).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_ckan_tag(s: &str) -> bool {
    (2..=100).contains(&s.chars().count())
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | ' ' | '-' | '.'))
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff`, nothing more.
fn is_ckan_timestamp(s: &str) -> bool {
    s.len() == 26 && NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.6f").is_ok()
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn api_root_and_every_action_answer_with_the_envelope() {
    let site = demo();
    let r = get(site, "/api/3").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), serde_json::json!({"version": 3}));

    let first = &site.manifest.datasets[0].id;
    let calls = [
        ("package_list", String::new()),
        ("package_show", format!("id={first}")),
        ("package_search", String::new()),
        ("current_package_list_with_resources", String::new()),
        ("organization_list", String::new()),
        ("organization_show", "id=c_b648".to_string()),
        ("group_list", String::new()),
        ("group_show", "id=educ".to_string()),
        ("tag_list", String::new()),
        ("license_list", String::new()),
        ("status_show", String::new()),
        ("site_read", String::new()),
        ("help_show", "name=package_search".to_string()),
    ];
    let base = &site.manifest.catalog.base_url;
    for (action, query) in calls {
        let uri = format!("/api/3/action/{action}?{query}");
        let r = get(site, &uri).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.headers["content-type"], "application/json;charset=utf-8",
            "{uri}"
        );
        let v = r.json();
        assert_eq!(v["success"], true, "{uri}");
        assert_eq!(
            v["help"],
            format!("{base}/api/3/action/help_show?name={action}"),
            "{uri}"
        );
        assert!(v.get("result").is_some(), "{uri}");
        // The unversioned path answers the same bytes.
        let r2 = get(site, &format!("/api/action/{action}?{query}")).await;
        assert_eq!(r.body, r2.body, "{uri} vs /api/action");
        // HEAD answers without a body.
        let h = send(site.router.clone(), Method::HEAD, &uri, None, "").await;
        assert_eq!(h.status, StatusCode::OK, "HEAD {uri}");
        assert!(h.body.is_empty(), "HEAD {uri}");
    }
    assert_eq!(get(site, "/api/3/action/site_read").await.result(), true);
    // CKAN's dataset page, which harvesters link to, redirects to ours, by name or id.
    let p = get(site, &format!("/api/3/action/package_show?id={first}"))
        .await
        .result();
    for key in [first.as_str(), p["id"].as_str().unwrap()] {
        let r = get(site, &format!("/dataset/{key}")).await;
        assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            r.headers["location"],
            format!("{base}/datasets/{first}").as_str()
        );
    }
    assert_eq!(
        get(site, "/dataset/no-such-dataset").await.status,
        StatusCode::NOT_FOUND
    );
    let status = get(site, "/api/3/action/status_show").await.result();
    assert_eq!(status["ckan_version"], "2.10.0");
    assert_eq!(status["site_url"], base.as_str());
    assert!(status["extensions"].is_array());
}

#[tokio::test]
async fn errors_have_ckan_types_and_status_codes() {
    let site = demo();
    let r = get(site, "/api/3/action/no_such_action").await;
    r.error(StatusCode::BAD_REQUEST, "Bad Request");
    let r = get(site, "/api/3/action/package_show?id=no-such-dataset").await;
    r.error(StatusCode::NOT_FOUND, "Not Found Error");
    let e = get(site, "/api/3/action/package_show")
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    assert_eq!(e["id"], serde_json::json!(["Missing value"]));
    let e = get(site, "/api/3/action/package_search?rows=abc")
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    assert_eq!(e["rows"], serde_json::json!(["Invalid integer"]));
    let e = get(site, "/api/3/action/package_search?start=-1")
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    assert_eq!(e["start"], serde_json::json!(["Must be a natural number"]));
    let e = get(site, &search_uri(&[("facet.field", "tags")]))
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    assert!(e["facet.field"].is_array());
    // Bounded work per request: at most 100 facet fields and filter queries.
    let fields = serde_json::to_string(&vec!["tags"; 101]).unwrap();
    get(site, &search_uri(&[("facet.field", &fields)]))
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    let many = serde_json::to_string(&vec!["tags:a"; 101]).unwrap();
    get(site, &search_uri(&[("fq_list", &many)]))
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    // A sort without direction: CKAN's "Invalid sort parameter" Search Query Error (400).
    get(site, &search_uri(&[("sort", "id")]))
        .await
        .error(StatusCode::BAD_REQUEST, "Search Query Error");
    get(site, &search_uri(&[("sort", "id upwards")]))
        .await
        .error(StatusCode::BAD_REQUEST, "Search Query Error");
    // Solr errors become CKAN's Search Error (409).
    get(site, &search_uri(&[("sort", "colour asc")]))
        .await
        .error(StatusCode::CONFLICT, "Search Error");
    get(site, &search_uri(&[("fq", "tags:(scuole")]))
        .await
        .error(StatusCode::CONFLICT, "Search Error");
    get(
        site,
        &search_uri(&[("fq", "metadata_modified:[ieri TO *]")]),
    )
    .await
    .error(StatusCode::CONFLICT, "Search Error");
    get(site, &search_uri(&[("q", "title:(scuole")]))
        .await
        .error(StatusCode::CONFLICT, "Search Error");
    get(site, "/api/3/action/group_show?id=zzzz")
        .await
        .error(StatusCode::NOT_FOUND, "Not Found Error");
    get(site, "/api/3/action/organization_show?id=zzzz")
        .await
        .error(StatusCode::NOT_FOUND, "Not Found Error");
    get(site, "/api/3/action/help_show?name=zzzz")
        .await
        .error(StatusCode::NOT_FOUND, "Not Found Error");
    get(site, "/api/3/action/tag_list?vocabulary_id=x")
        .await
        .error(StatusCode::NOT_FOUND, "Not Found Error");
    get(site, "/api/3/action/organization_list?sort=colour%20asc")
        .await
        .error(StatusCode::CONFLICT, "Validation Error");
    // Write actions are refused: the API is read-only.
    post_json(
        site,
        "/api/3/action/package_create",
        &serde_json::json!({"name": "x"}),
    )
    .await
    .error(StatusCode::FORBIDDEN, "Authorization Error");
    // Request data must be a JSON object.
    let r = send(
        site.router.clone(),
        Method::POST,
        "/api/3/action/package_list",
        Some("application/json"),
        "[1, 2]",
    )
    .await;
    r.error(StatusCode::BAD_REQUEST, "Bad Request");
    let r = send(
        site.router.clone(),
        Method::POST,
        "/api/3/action/package_list",
        Some("application/json"),
        "{not json",
    )
    .await;
    r.error(StatusCode::BAD_REQUEST, "Bad Request");
    // Unknown parameters are ignored.
    let a = get(site, "/api/3/action/package_list?colour=blue")
        .await
        .result();
    let b = get(site, "/api/3/action/package_list").await.result();
    assert_eq!(a, b);
}

#[tokio::test]
async fn get_and_post_bodies_are_equivalent_and_answers_deterministic() {
    let site = synthetic();
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "package_search",
            vec![
                ("q", "scuole"),
                ("fq", "organization:c_b648"),
                ("rows", "3"),
                ("start", "1"),
                ("sort", "name desc"),
                ("facet.field", "[\"tags\",\"groups\"]"),
            ],
        ),
        ("package_show", vec![("id", "ds-00004")]),
        ("package_list", vec![("limit", "5"), ("offset", "2")]),
        (
            "current_package_list_with_resources",
            vec![("limit", "4"), ("offset", "1")],
        ),
        ("organization_list", vec![("all_fields", "true")]),
        (
            "group_show",
            vec![("id", "educ"), ("include_datasets", "true")],
        ),
        ("tag_list", vec![("query", "scuola")]),
    ];
    for (action, params) in cases {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        let uri = format!("/api/3/action/{action}?{}", query.join("&"));
        let g1 = get(site, &uri).await;
        let g2 = get(site, &uri).await;
        assert_eq!(
            g1.status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&g1.body)
        );
        assert_eq!(g1.body, g2.body, "{uri}: two identical requests differ");
        // POST with a JSON body (strings, as a client copying the query would send).
        let obj: serde_json::Map<String, Value> = params
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        let p = post_json(
            site,
            &format!("/api/3/action/{action}"),
            &Value::Object(obj.clone()),
        )
        .await;
        assert_eq!(g1.body, p.body, "{uri}: GET and POST JSON differ");
        // POST with a form body, and the old clients' JSON-as-form-key.
        let f = send(
            site.router.clone(),
            Method::POST,
            &format!("/api/3/action/{action}"),
            Some("application/x-www-form-urlencoded"),
            &query.join("&"),
        )
        .await;
        assert_eq!(g1.body, f.body, "{uri}: GET and POST form differ");
        let legacy = format!("{}=1", enc(&Value::Object(obj).to_string()));
        let l = send(
            site.router.clone(),
            Method::POST,
            &format!("/api/3/action/{action}"),
            Some("application/x-www-form-urlencoded"),
            &legacy,
        )
        .await;
        assert_eq!(g1.body, l.body, "{uri}: GET and POST legacy form differ");
    }
    // JSON-typed values (numbers, a real list) mean the same as their string forms.
    let typed = post_json(site, "/api/3/action/package_search", &serde_json::json!({"rows": 3, "start": 1, "q": "scuole", "fq": "organization:c_b648", "sort": "name desc", "facet.field": ["tags", "groups"]})).await;
    let stringly = get(
        site,
        &search_uri(&[
            ("q", "scuole"),
            ("fq", "organization:c_b648"),
            ("rows", "3"),
            ("start", "1"),
            ("sort", "name desc"),
            ("facet.field", "[\"tags\",\"groups\"]"),
        ]),
    )
    .await;
    assert_eq!(typed.body, stringly.body);
}

/// Keys of CKAN 2.10's `default_create_package_schema` and `default_show_package_schema`
/// (ckan/logic/schema.py): no extra may use one.
const CKAN_CORE_KEYS: &[&str] = &[
    "__before",
    "id",
    "name",
    "title",
    "author",
    "author_email",
    "maintainer",
    "maintainer_email",
    "license_id",
    "notes",
    "url",
    "version",
    "state",
    "type",
    "owner_org",
    "private",
    "__extras",
    "__junk",
    "resources",
    "tags",
    "tag_string",
    "plugin_data",
    "extras",
    "save",
    "return_to",
    "relationships_as_object",
    "relationships_as_subject",
    "groups",
    "isopen",
    "license_url",
    "metadata_created",
    "metadata_modified",
    "creator_user_id",
    "num_resources",
    "num_tags",
    "organization",
    "tracking_summary",
    "license_title",
];

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `reference` that we must have is there, with the same JSON type unless
/// the reference has null there.
fn assert_shape(ours: &Value, reference: &Value, skip: &[&str], what: &str) {
    for (k, rv) in reference.as_object().unwrap() {
        if skip.contains(&k.as_str()) {
            continue;
        }
        let Some(ov) = ours.get(k) else {
            panic!("{what}: key {k:?} of a real CKAN answer is missing");
        };
        if !rv.is_null() && !ov.is_null() {
            assert_eq!(
                json_kind(ov),
                json_kind(rv),
                "{what}: {k:?} has another JSON type"
            );
        }
    }
}

#[tokio::test]
async fn package_dicts_are_what_a_ckan_receiver_accepts() {
    let site = demo();
    let reference: Value = serde_json::from_slice(
        &fs::read(fixtures().join("dati-trentino_package_show.json")).unwrap(),
    )
    .unwrap();
    let reference = &reference["result"];
    // Top-level keys of the reference that ckanext-dcatapit adds (they are extras here,
    // see src/catalog/ckan/dict.rs) or that other extensions add.
    let dcatapit_top_level = [
        "alternate_identifier",
        "conforms_to",
        "creator",
        "fields_description",
        "frequency",
        "geographical_geonames_url",
        "geographical_name",
        "identifier",
        "is_version_of",
        "issued",
        "language",
        "modified",
        "publisher_identifier",
        "publisher_name",
        "temporal_coverage",
        "themes_aggregate",
        "holder_name",
        "holder_identifier",
        "dataset_is_local",
        "creator_user_id",
    ];
    let pairs: Vec<(String, String)> =
        fs::read_to_string(fixtures().join("agid_theme-subtheme-mapping.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split("\",\"").collect();
                (c[1].to_string(), c[4].to_string())
            })
            .collect();
    let base = &site.manifest.catalog.base_url;
    let mut ids = HashSet::new();
    for d in &site.manifest.datasets {
        let p = get(site, &format!("/api/3/action/package_show?id={}", d.id))
            .await
            .result();
        assert_shape(&p, reference, &dcatapit_top_level, "package");
        assert_shape(
            &p["organization"],
            &reference["organization"],
            &[],
            "organization",
        );
        for (ours, theirs) in [
            (&p["resources"][0], &reference["resources"][0]),
            (&p["tags"][0], &reference["tags"][0]),
            (&p["groups"][0], &reference["groups"][0]),
        ] {
            assert_shape(ours, theirs, &["lang"], "resource/tag/group");
        }
        // Core facts.
        assert_eq!(p["name"], d.id.as_str());
        assert!(is_ckan_name(p["name"].as_str().unwrap()));
        assert!(
            ids.insert(p["id"].as_str().unwrap().to_string()),
            "duplicate id"
        );
        let id = p["id"].as_str().unwrap();
        assert!(uuid_like(id), "{id}");
        // package_show by id gives the same dict.
        let by_id = get(site, &format!("/api/3/action/package_show?id={id}"))
            .await
            .result();
        assert_eq!(by_id, p);
        assert_eq!(p["title"], d.meta.title.as_str());
        assert_eq!(p["notes"], d.meta.description.as_str());
        assert_eq!(p["state"], "active");
        assert_eq!(p["type"], "dataset");
        assert_eq!(p["private"], false);
        assert_eq!(p["url"], format!("{base}/datasets/{}", d.id));
        assert_eq!(
            p["organization"]["name"],
            d.meta.publisher.identifier.to_lowercase()
        );
        assert_eq!(p["owner_org"], p["organization"]["id"]);
        assert!(is_ckan_name(p["organization"]["name"].as_str().unwrap()));
        let modified = modified_of(d)
            .naive_utc()
            .format("%Y-%m-%dT%H:%M:%S%.6f")
            .to_string();
        assert_eq!(p["metadata_modified"], modified.as_str());
        for key in ["metadata_created", "metadata_modified"] {
            assert!(
                is_ckan_timestamp(p[key].as_str().unwrap()),
                "{key}: {}",
                p[key]
            );
        }
        assert_eq!(
            p["license_url"],
            format!(
                "https://w3id.org/italia/controlled-vocabulary/licences/{}",
                d.meta.license
            )
        );
        // Resources are the distributions, in order.
        let res = p["resources"].as_array().unwrap();
        assert_eq!(
            p["num_resources"].as_u64(),
            Some(d.distributions.len() as u64)
        );
        assert_eq!(res.len(), d.distributions.len());
        for (i, (r, dist)) in res.iter().zip(&d.distributions).enumerate() {
            assert_eq!(
                r["url"],
                format!("{base}/datasets/{}/files/{}", d.id, dist.file)
            );
            assert_eq!(r["hash"], dist.sha256.as_str());
            assert_eq!(r["size"].as_u64(), Some(dist.byte_size));
            assert_eq!(r["mimetype"], dist.media_type.as_str());
            assert_eq!(r["position"].as_u64(), Some(i as u64));
            assert_eq!(r["package_id"], id);
            assert_eq!(r["license_type"], p["license_url"]);
            assert_eq!(r["distribution_format"], dist.format.as_str());
            assert!(is_ckan_timestamp(r["created"].as_str().unwrap()));
            assert!(is_ckan_timestamp(r["last_modified"].as_str().unwrap()));
        }
        // Tags obey CKAN's rules; groups are the themes.
        let tags = p["tags"].as_array().unwrap();
        assert_eq!(p["num_tags"].as_u64(), Some(tags.len() as u64));
        for t in tags {
            assert!(is_ckan_tag(t["name"].as_str().unwrap()), "tag {t}");
            assert!(t["vocabulary_id"].is_null());
        }
        let groups: BTreeSet<String> = p["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap().to_string())
            .collect();
        let themes: BTreeSet<String> = d.meta.themes.iter().map(|t| t.to_lowercase()).collect();
        assert_eq!(groups, themes);
        // Extras: dcatapit names, never a core key, no key twice.
        let extras: BTreeMap<String, String> = p["extras"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["key"].as_str().unwrap().to_string(),
                    e["value"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            extras.len(),
            p["extras"].as_array().unwrap().len(),
            "an extra key twice"
        );
        for k in extras.keys() {
            assert!(
                !CKAN_CORE_KEYS.contains(&k.as_str()),
                "extra {k:?} is a core field"
            );
        }
        assert_eq!(extras["identifier"], format!("c_b648:{}", d.id));
        assert_eq!(extras["frequency"], d.meta.frequency);
        assert_eq!(extras["holder_identifier"], d.meta.rights_holder.identifier);
        assert_eq!(extras["holder_name"], d.meta.rights_holder.name);
        assert_eq!(extras["publisher_identifier"], d.meta.publisher.identifier);
        assert_eq!(extras["publisher_name"], d.meta.publisher.name);
        assert_eq!(extras["modified"], &modified[..10]);
        let theme: Value = serde_json::from_str(&extras["theme"]).unwrap();
        assert_eq!(extras["themes_aggregate"], extras["theme"]);
        let listed: Vec<&str> = theme
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["theme"].as_str().unwrap())
            .collect();
        assert_eq!(
            listed,
            d.meta.themes.iter().map(String::as_str).collect::<Vec<_>>()
        );
        for t in theme.as_array().unwrap() {
            let code = t["theme"].as_str().unwrap();
            for s in t["subthemes"].as_array().unwrap() {
                let s = s.as_str().unwrap();
                assert!(
                    pairs.iter().any(|(c, u)| c == code && u == s),
                    "{s} is not a sub-theme of {code}"
                );
            }
            // Every recipe sub-theme the mapping allows under this theme is there.
            for s in &d.meta.subthemes {
                if pairs.iter().any(|(c, u)| c == code && u == s) {
                    assert!(
                        t["subthemes"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|x| x == s.as_str()),
                        "{s} missing under {code}"
                    );
                }
            }
        }
        if let Some(t) = &d.meta.temporal {
            let tc: Value = serde_json::from_str(&extras["temporal_coverage"]).unwrap();
            assert_eq!(tc[0]["temporal_start"], t.start.as_str());
            if let Some(end) = &t.end {
                assert_eq!(tc[0]["temporal_end"], end.as_str());
            }
        }
    }
    // Every demo keyword became a tag (none is unusable); apostrophes became spaces.
    let p = get(site, "/api/3/action/package_show?id=scuole-statali")
        .await
        .result();
    let tags: Vec<&str> = p["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"scuola dell infanzia"), "{tags:?}");
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
}

#[tokio::test]
async fn sort_id_asc_paging_gives_every_dataset_once() {
    for site in [demo(), synthetic()] {
        let all: BTreeSet<String> = site
            .manifest
            .datasets
            .iter()
            .map(|d| d.id.clone())
            .collect();
        let mut seen = Vec::new();
        let mut previous: Option<Bytes> = None;
        let mut start = 0;
        loop {
            let uri = search_uri(&[
                ("rows", "2"),
                ("start", &start.to_string()),
                ("sort", "id asc"),
            ]);
            let r = get(site, &uri).await;
            let v = r.result();
            assert_eq!(v["count"].as_u64(), Some(all.len() as u64));
            assert_eq!(v["sort"], "id asc");
            if let Some(prev) = &previous {
                assert_ne!(prev, &r.body, "two consecutive pages are byte-identical");
            }
            let page: Vec<(String, String)> = v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    (
                        d["id"].as_str().unwrap().to_string(),
                        d["name"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 2);
            seen.extend(page);
            previous = Some(r.body);
            start += 2;
        }
        let names: BTreeSet<String> = seen.iter().map(|(_, n)| n.clone()).collect();
        assert_eq!(seen.len(), all.len(), "a dataset came twice");
        assert_eq!(names, all);
        let ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "not in id order");
    }
}

#[tokio::test]
async fn fq_forms_harvesters_send_select_what_the_manifest_says() {
    let site = synthetic();
    let lower = |d: &Dataset| d.meta.publisher.identifier.to_lowercase();
    let cases: Vec<(Params<'_>, BTreeSet<String>)> = vec![
        (
            vec![("fq", "organization:c_b648")],
            names_where(site, |d| lower(d) == "c_b648"),
        ),
        (
            vec![("fq", "organization:p_tn")],
            names_where(site, |d| d.meta.publisher.identifier == "p_TN"),
        ),
        (
            vec![("fq", "-organization:c_b648")],
            names_where(site, |d| lower(d) != "c_b648"),
        ),
        (
            vec![("fq", "organization:c_b648 OR organization:istat")],
            names_where(site, |d| ["c_b648", "istat"].contains(&lower(d).as_str())),
        ),
        (
            vec![("fq", "-organization:c_b648 -organization:istat")],
            names_where(site, |d| !["c_b648", "istat"].contains(&lower(d).as_str())),
        ),
        (
            vec![("fq", "groups:educ")],
            names_where(site, |d| d.meta.themes.iter().any(|t| t == "EDUC")),
        ),
        (
            vec![("fq", "groups:envi OR groups:tran")],
            names_where(site, |d| {
                d.meta.themes.iter().any(|t| t == "ENVI" || t == "TRAN")
            }),
        ),
        (
            vec![("fq", "(groups:envi OR groups:tran) AND -organization:istat")],
            names_where(site, |d| {
                d.meta.themes.iter().any(|t| t == "ENVI" || t == "TRAN") && lower(d) != "istat"
            }),
        ),
        (
            vec![("fq", "tags:\"scuola dell infanzia\"")],
            names_where(site, |d| {
                d.meta.keywords.iter().any(|k| k == "scuola dell'infanzia")
            }),
        ),
        (
            vec![("fq", "tags:tema\\ 3")],
            names_where(site, |d| d.meta.keywords.iter().any(|k| k == "tema 3")),
        ),
        (
            vec![("fq", "res_format:GeoJSON")],
            names_where(site, |d| {
                d.distributions
                    .iter()
                    .any(|x| x.media_type == "application/geo+json")
            }),
        ),
        (
            vec![("fq", "-res_format:GeoJSON")],
            names_where(site, |d| {
                !d.distributions
                    .iter()
                    .any(|x| x.media_type == "application/geo+json")
            }),
        ),
        (
            vec![("fq", "license_id:IODL-2.0")],
            names_where(site, |d| d.meta.license == "A29_IODL20"),
        ),
        (
            vec![("fq", "license_id:\"CC0-1.0\"")],
            names_where(site, |d| d.meta.license == "A11_CCO10"),
        ),
        (
            vec![("fq", "name:ds-00007")],
            names_where(site, |d| d.id == "ds-00007"),
        ),
        (
            vec![("fq", "name:ds-0001*")],
            names_where(site, |d| d.id.starts_with("ds-0001")),
        ),
        (
            vec![("fq", "holder_identifier:istat")],
            names_where(site, |d| d.meta.rights_holder.identifier == "istat"),
        ),
        (
            vec![("fq", "num_resources:3")],
            names_where(site, |d| d.distributions.len() == 3),
        ),
        (
            vec![("fq", "organization:c_b648"), ("q", "statali")],
            names_where(site, |d| {
                lower(d) == "c_b648" && d.meta.title.starts_with("Scuole statali")
            }),
        ),
        // Italian stemming: "scuole" and "scuola" share a stem, and every dataset has the
        // keyword "scuola primaria".
        (vec![("q", "scuole")], names_where(site, |_| true)),
        (
            vec![("fq_list", "[\"groups:educ\", \"-organization:istat\"]")],
            names_where(site, |d| {
                d.meta.themes.iter().any(|t| t == "EDUC") && lower(d) != "istat"
            }),
        ),
        (
            vec![("q", "title:mense OR title:rifiuti")],
            names_where(site, |d| {
                d.meta.title.starts_with("Mense") || d.meta.title.starts_with("Raccolta")
            }),
        ),
        (vec![("q", "*:*")], names_where(site, |_| true)),
        // The theme URIs in the JSON extras are not searchable text.
        (vec![("q", "eurovoc")], BTreeSet::new()),
        (vec![("q", "")], names_where(site, |_| true)),
    ];
    for (params, expected) in cases {
        assert!(
            !expected.is_empty() || params.iter().any(|(k, _)| *k == "q"),
            "{params:?}: empty oracle"
        );
        let got = search_names(site, &params).await;
        assert_eq!(got, expected, "{params:?}");
    }
    // An id filter with the UUID from package_show.
    let id = get(site, "/api/3/action/package_show?id=ds-00011")
        .await
        .result()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        search_names(site, &[("fq", &format!("id:{id}"))]).await,
        names_where(site, |d| d.id == "ds-00011")
    );
    assert_eq!(
        search_names(site, &[("fq", &format!("id:\"{id}\" OR name:ds-00001"))]).await,
        names_where(site, |d| d.id == "ds-00011" || d.id == "ds-00001")
    );
}

#[tokio::test]
async fn metadata_modified_ranges_filter_like_solr() {
    let site = synthetic();
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    for since in [
        "2024-01-01T00:00:00Z",
        "2024-06-15T12:00:00.500000Z",
        "2025-03-01T00:00:00Z",
        "2030-01-01T00:00:00Z",
    ] {
        let x = at(since);
        let got = search_names(
            site,
            &[("fq", &format!("metadata_modified:[{since} TO *]"))],
        )
        .await;
        assert_eq!(
            got,
            names_where(site, |d| modified_of(d) >= x),
            "since {since}"
        );
        let got = search_names(
            site,
            &[("fq", &format!("metadata_modified:[* TO {since}]"))],
        )
        .await;
        assert_eq!(
            got,
            names_where(site, |d| modified_of(d) <= x),
            "until {since}"
        );
        let got = search_names(
            site,
            &[("fq", &format!("metadata_modified:{{{since} TO *]"))],
        )
        .await;
        assert_eq!(
            got,
            names_where(site, |d| modified_of(d) > x),
            "after {since}"
        );
    }
    // The exact instant of one dataset: inclusive bounds keep it, exclusive drop it.
    let d = &site.manifest.datasets[5];
    let exact = d.modified.clone();
    let got = search_names(
        site,
        &[("fq", &format!("metadata_modified:[{exact} TO {exact}]"))],
    )
    .await;
    assert!(got.contains(&d.id), "{exact}");
    let got = search_names(
        site,
        &[("fq", &format!("metadata_modified:{{{exact} TO *]"))],
    )
    .await;
    assert!(!got.contains(&d.id));
    // The incremental harvest: ckanext-harvest's exact fq shape (isoformat + Z, OR'd
    // organizations joined by a space).
    let x = at("2024-01-01T00:00:00Z");
    let fq = "organization:c_b648 OR organization:istat metadata_modified:[2024-01-01T00:00:00.000000Z TO *]";
    let got = search_names(site, &[("fq", fq)]).await;
    let expected = names_where(site, |d| {
        ["c_b648", "istat"].contains(&d.meta.publisher.identifier.to_lowercase().as_str())
            && modified_of(d) >= x
    });
    assert_eq!(got, expected);
    // metadata_modified desc orders by the manifest's dates.
    let r = get(
        site,
        &search_uri(&[("sort", "metadata_modified desc"), ("rows", "1000")]),
    )
    .await
    .result();
    let order: Vec<String> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let mut expected: Vec<&Dataset> = site.manifest.datasets.iter().collect();
    expected.sort_by_key(|d| std::cmp::Reverse(modified_of(d)));
    assert_eq!(
        order,
        expected.iter().map(|d| d.id.clone()).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn sorts_rows_and_start() {
    let site = synthetic();
    let names = |v: &Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut by_name: Vec<String> = site
        .manifest
        .datasets
        .iter()
        .map(|d| d.id.clone())
        .collect();
    by_name.sort();
    let r = get(
        site,
        &search_uri(&[("sort", "name asc"), ("rows", "5"), ("start", "3")]),
    )
    .await
    .result();
    assert_eq!(names(&r), by_name[3..8]);
    let r = get(
        site,
        &search_uri(&[("sort", "name desc"), ("rows", "1000")]),
    )
    .await
    .result();
    assert_eq!(names(&r), by_name.iter().rev().cloned().collect::<Vec<_>>());
    let mut by_title: Vec<&Dataset> = site.manifest.datasets.iter().collect();
    by_title.sort_by(|a, b| a.meta.title.as_bytes().cmp(b.meta.title.as_bytes()));
    let r = get(
        site,
        &search_uri(&[("sort", "title_string asc"), ("rows", "1000")]),
    )
    .await
    .result();
    assert_eq!(
        names(&r),
        by_title.iter().map(|d| d.id.clone()).collect::<Vec<_>>()
    );
    // rows defaults to 10 and is capped at 1000; start past the end is an empty page.
    let r = get(site, &search_uri(&[])).await.result();
    assert_eq!(r["results"].as_array().unwrap().len(), 10);
    assert_eq!(r["count"].as_u64(), Some(23));
    assert_eq!(r["sort"], "score desc, metadata_modified desc");
    let r = get(site, &search_uri(&[("rows", "5000")])).await.result();
    assert_eq!(r["results"].as_array().unwrap().len(), 23);
    let r = get(site, &search_uri(&[("start", "500")])).await.result();
    assert!(r["results"].as_array().unwrap().is_empty());
    assert_eq!(r["count"].as_u64(), Some(23));
    let r = get(site, &search_uri(&[("rows", "0")])).await.result();
    assert!(r["results"].as_array().unwrap().is_empty());
    // The default order: equal scores, then metadata_modified desc.
    let r = get(site, &search_uri(&[("q", "statali"), ("rows", "1000")]))
        .await
        .result();
    let got = names(&r);
    let mut expected: Vec<&Dataset> = site
        .manifest
        .datasets
        .iter()
        .filter(|d| d.meta.title.starts_with("Scuole statali"))
        .collect();
    expected.sort_by_key(|d| std::cmp::Reverse(modified_of(d)));
    assert_eq!(
        got,
        expected.iter().map(|d| d.id.clone()).collect::<Vec<_>>()
    );
    // q terms are matched case-insensitively against title, notes, tags and name.
    assert_eq!(
        search_names(site, &[("q", "MENSE")]).await,
        names_where(site, |d| d.meta.title.starts_with("Mense"))
    );
    assert_eq!(
        search_names(site, &[("q", "numero")]).await,
        names_where(site, |_| true)
    );
    assert_eq!(
        search_names(site, &[("q", "ds-00003")]).await,
        names_where(site, |d| d.id == "ds-00003")
    );
    assert_eq!(
        search_names(site, &[("q", "\"tema 2\"")]).await,
        names_where(site, |d| d.meta.keywords.iter().any(|k| k == "tema 2"))
    );
}

#[tokio::test]
async fn facets_count_what_the_manifest_holds() {
    for site in [demo(), synthetic()] {
        let fields =
            "[\"groups\",\"organization\",\"license_id\",\"res_format\",\"holder_identifier\"]";
        let r = get(
            site,
            &search_uri(&[
                ("facet.field", fields),
                ("facet.limit", "-1"),
                ("rows", "0"),
            ]),
        )
        .await
        .result();
        // Oracles: themes lower-cased; publishers' IPA codes lower-cased; the licence's
        // SPDX-style alias as the recipes spell it (vocab::LICENSE_ALIASES, written out
        // here) or the AgID id; formats by media type as CKAN's format list names them.
        let aliases = [
            ("A11_CCO10", "CC0-1.0"),
            ("A21_CCBY40", "CC-BY-4.0"),
            ("A29_IODL20", "IODL-2.0"),
        ];
        let formats = [
            ("text/csv", "CSV"),
            ("application/json", "JSON"),
            ("application/geo+json", "GeoJSON"),
            ("application/geopackage+sqlite3", "GeoPackage"),
            ("application/flatgeobuf", "FlatGeobuf"),
            ("application/vnd.apache.parquet", "GeoParquet"),
        ];
        let mut expected: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
        for d in &site.manifest.datasets {
            let mut add = |field: &'static str, values: BTreeSet<String>| {
                for v in values {
                    *expected.entry(field).or_default().entry(v).or_default() += 1;
                }
            };
            add(
                "groups",
                d.meta.themes.iter().map(|t| t.to_lowercase()).collect(),
            );
            add(
                "organization",
                [d.meta.publisher.identifier.to_lowercase()].into(),
            );
            let lic = aliases
                .iter()
                .find(|(a, _)| *a == d.meta.license)
                .map_or(d.meta.license.clone(), |(_, s)| s.to_string());
            add("license_id", [lic].into());
            add(
                "res_format",
                d.distributions
                    .iter()
                    .map(|x| {
                        formats
                            .iter()
                            .find(|(m, _)| *m == x.media_type)
                            .unwrap()
                            .1
                            .to_string()
                    })
                    .collect(),
            );
            add(
                "holder_identifier",
                [d.meta.rights_holder.identifier.clone()].into(),
            );
        }
        for (field, counts) in &expected {
            let got: BTreeMap<String, u64> = r["facets"][field]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                .collect();
            assert_eq!(&got, counts, "facet {field}");
            let items = r["search_facets"][field]["items"].as_array().unwrap();
            assert_eq!(r["search_facets"][field]["title"], *field);
            assert_eq!(items.len(), counts.len());
            for it in items {
                assert_eq!(
                    it["count"].as_u64(),
                    counts.get(it["name"].as_str().unwrap()).copied()
                );
                assert!(it["display_name"].as_str().is_some_and(|s| !s.is_empty()));
            }
            let c: Vec<u64> = items.iter().map(|i| i["count"].as_u64().unwrap()).collect();
            assert!(
                c.windows(2).all(|w| w[0] >= w[1]),
                "facet {field} not by count"
            );
        }
        // Group and organization facets show titles.
        let items = r["search_facets"]["groups"]["items"].as_array().unwrap();
        let educ = items.iter().find(|i| i["name"] == "educ").unwrap();
        assert_eq!(educ["display_name"], "Istruzione, cultura e sport");
        // Facets count the whole result, not the page; facet.limit cuts.
        let r2 = get(
            site,
            &search_uri(&[
                ("facet.field", "[\"groups\"]"),
                ("rows", "1"),
                ("facet.limit", "1"),
            ]),
        )
        .await
        .result();
        let only: Vec<(&String, &Value)> =
            r2["facets"]["groups"].as_object().unwrap().iter().collect();
        assert_eq!(only.len(), 1);
        let max = expected["groups"].values().max().copied();
        assert_eq!(only[0].1.as_u64(), max);
        // No facet.field: empty facets, as CKAN.
        let r3 = get(site, &search_uri(&[])).await.result();
        assert_eq!(r3["facets"], serde_json::json!({}));
        assert_eq!(r3["search_facets"], serde_json::json!({}));
    }
}

#[tokio::test]
async fn lists_organizations_groups_tags_and_licences() {
    let site = synthetic();
    let orgs = get(site, "/api/3/action/organization_list?sort=name%20asc")
        .await
        .result();
    let expected: BTreeSet<String> = PUBLISHERS
        .iter()
        .map(|(_, ipa)| ipa.to_lowercase())
        .collect();
    let names: Vec<String> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, expected.iter().cloned().collect::<Vec<_>>());
    let full = get(
        site,
        "/api/3/action/organization_list?all_fields=true&sort=package_count%20desc",
    )
    .await
    .result();
    for o in full.as_array().unwrap() {
        let ipa = o["identifier"].as_str().unwrap();
        let count = site
            .manifest
            .datasets
            .iter()
            .filter(|d| d.meta.publisher.identifier == ipa)
            .count();
        assert_eq!(o["package_count"].as_u64(), Some(count as u64));
        assert_eq!(o["is_organization"], true);
        let show = get(
            site,
            &format!(
                "/api/3/action/organization_show?id={}&include_datasets=true",
                o["name"].as_str().unwrap()
            ),
        )
        .await
        .result();
        assert_eq!(show["package_count"], o["package_count"]);
        assert_eq!(show["packages"].as_array().unwrap().len(), count);
        // By id too.
        let by_id = get(
            site,
            &format!(
                "/api/3/action/organization_show?id={}",
                o["id"].as_str().unwrap()
            ),
        )
        .await
        .result();
        assert_eq!(by_id["name"], o["name"]);
    }
    let counts: Vec<u64> = full
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["package_count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));
    let paged = get(
        site,
        "/api/3/action/organization_list?sort=name%20asc&limit=1&offset=1",
    )
    .await
    .result();
    assert_eq!(paged, serde_json::json!([names[1]]));

    // Groups: the EU themes in use, lower-case codes, Italian titles (the AgID CSV's
    // level-1 labels; it misspells TRAN as "Transporti").
    let labels: BTreeMap<String, String> =
        fs::read_to_string(fixtures().join("agid_theme-subtheme-mapping.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split("\",\"").collect();
                (c[1].to_string(), c[2].replace("Transporti", "Trasporti"))
            })
            .collect();
    let groups = get(
        site,
        "/api/3/action/group_list?all_fields=true&sort=name%20asc",
    )
    .await
    .result();
    let themes: BTreeSet<String> = site
        .manifest
        .datasets
        .iter()
        .flat_map(|d| d.meta.themes.clone())
        .collect();
    let got: Vec<String> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        themes.iter().map(|t| t.to_lowercase()).collect::<Vec<_>>()
    );
    for g in groups.as_array().unwrap() {
        let code = g["name"].as_str().unwrap().to_uppercase();
        assert_eq!(g["title"].as_str().unwrap(), labels[&code]);
        assert_eq!(g["is_organization"], false);
        let count = site
            .manifest
            .datasets
            .iter()
            .filter(|d| d.meta.themes.contains(&code))
            .count();
        assert_eq!(g["package_count"].as_u64(), Some(count as u64));
        let show = get(
            site,
            &format!(
                "/api/3/action/group_show?id={}",
                g["name"].as_str().unwrap()
            ),
        )
        .await
        .result();
        assert_eq!(show["package_count"], g["package_count"]);
        assert!(show.get("packages").is_none());
    }
    let plain = get(site, "/api/3/action/group_list").await.result();
    assert!(plain.as_array().unwrap().iter().all(|g| g.is_string()));

    // Tags: every tag of every package, sorted, once.
    let mut all_tags = BTreeSet::new();
    for d in &site.manifest.datasets {
        let p = get(site, &format!("/api/3/action/package_show?id={}", d.id))
            .await
            .result();
        for t in p["tags"].as_array().unwrap() {
            all_tags.insert(t["name"].as_str().unwrap().to_string());
        }
        // The unusable keyword is left out, the others kept.
        let kept = d.meta.keywords.iter().filter(|k| *k != "«»").count();
        assert_eq!(p["num_tags"].as_u64(), Some(kept as u64), "{}", d.id);
    }
    let tags = get(site, "/api/3/action/tag_list").await.result();
    let got: Vec<String> = tags
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, all_tags.iter().cloned().collect::<Vec<_>>());
    let filtered = get(site, "/api/3/action/tag_list?query=SCUOLA")
        .await
        .result();
    assert_eq!(
        filtered,
        serde_json::json!(["scuola dell infanzia", "scuola primaria"])
    );
    let full = get(
        site,
        "/api/3/action/tag_list?all_fields=true&query=primaria",
    )
    .await
    .result();
    assert_eq!(full[0]["name"], "scuola primaria");

    // Licences: those in use, in CKAN's licence shape.
    let lic = get(site, "/api/3/action/license_list").await.result();
    let ids: BTreeSet<String> = lic
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        ["CC-BY-4.0", "CC0-1.0", "IODL-2.0"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    for l in lic.as_array().unwrap() {
        for key in [
            "domain_content",
            "domain_data",
            "domain_software",
            "family",
            "id",
            "is_generic",
            "maintainer",
            "od_conformance",
            "osd_conformance",
            "status",
            "title",
            "url",
        ] {
            assert!(l.get(key).is_some(), "licence without {key}");
        }
        assert_eq!(l["od_conformance"], "approved");
    }
}

#[tokio::test]
async fn current_package_list_with_resources_pages_by_modification() {
    let site = synthetic();
    let mut expected: Vec<&Dataset> = site.manifest.datasets.iter().collect();
    expected.sort_by_key(|d| std::cmp::Reverse(modified_of(d)));
    let expected: Vec<String> = expected.iter().map(|d| d.id.clone()).collect();
    let names = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let first = names(
        get(site, "/api/3/action/current_package_list_with_resources")
            .await
            .result(),
    );
    assert_eq!(first, expected[..10]);
    let page = names(
        get(
            site,
            "/api/3/action/current_package_list_with_resources?limit=5&offset=5",
        )
        .await
        .result(),
    );
    assert_eq!(page, expected[5..10]);
    let page = names(
        get(
            site,
            "/api/3/action/current_package_list_with_resources?limit=5&page=3",
        )
        .await
        .result(),
    );
    assert_eq!(page, expected[10..15]);
    let all = get(
        site,
        "/api/3/action/current_package_list_with_resources?limit=100",
    )
    .await
    .result();
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|p| p["resources"].as_array().is_some_and(|r| !r.is_empty()))
    );
    assert_eq!(names(all), expected);
    // package_list: names, sorted, with limit and offset.
    let list = get(site, "/api/3/action/package_list?limit=3&offset=4")
        .await
        .result();
    let mut sorted: Vec<String> = site
        .manifest
        .datasets
        .iter()
        .map(|d| d.id.clone())
        .collect();
    sorted.sort();
    assert_eq!(list, serde_json::json!(sorted[4..7]));
}

/// The benchmark's shape in a test: 10,000 datasets, `rows=1000` pages in `id` order
/// until an empty page; every dataset exactly once. (The timing printed is a debug
/// build's; BENCHMARKS.md has the release numbers.)
#[tokio::test]
async fn crawl_of_ten_thousand_datasets_with_rows_1000() {
    let site = write_site(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("ckan_api_10k"),
        10_000,
    );
    let started = Instant::now();
    let mut names = HashSet::new();
    let mut pages = 0;
    let mut start = 0;
    loop {
        let r = get(
            &site,
            &search_uri(&[
                ("rows", "1000"),
                ("start", &start.to_string()),
                ("sort", "id asc"),
            ]),
        )
        .await;
        let v = r.result();
        let results = v["results"].as_array().unwrap();
        if results.is_empty() {
            break;
        }
        for p in results {
            assert!(
                names.insert(p["name"].as_str().unwrap().to_string()),
                "twice: {}",
                p["name"]
            );
        }
        pages += 1;
        start += 1000;
    }
    assert_eq!(names.len(), 10_000);
    assert_eq!(pages, 10);
    eprintln!(
        "10,000-dataset crawl (debug build, first request builds the catalogue): {:?}",
        started.elapsed()
    );
}
