//! Harvesting other portals in (`portale::federation`), against servers the tests start
//! on 127.0.0.1:0 inside their own Tokio runtime: no network.
//!
//! - The 14 real DCAT-AP_IT catalogues of `fixtures/harvest/catalogs`, served as RDF/XML.
//!   Oracle: `fixtures/harvest/expected.csv`, written by `expected.py` with rdflib (dataset
//!   nodes, importable datasets, distributions, and per defect the datasets having it).
//! - A fake CKAN serving `package_search` pages built from the real dati.trentino.it
//!   package of `fixtures/harvest/ckan` (expected values read from that file).
//! - Catalogues written by the tests (Turtle, JSON-LD, RDF/XML) for paging and incremental
//!   updates: the expected counts are the datasets the test wrote.
//! - Hostile servers written on raw TCP (a looping next link, a page repeating itself, a
//!   200 MB body streamed from a generator, invalid RDF, script tags in titles, servers
//!   that stall): each must be contained, reported, and leave the previous records as
//!   they were and the served generation untouched.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use portale::config::{CatalogConfig, HarvestSource, Limits, Schedule, SourceKind};
use portale::federation::{self, CrawlStatus, FederationLayout, HarvestReport, SourceReport};
use portale::model::{FederatedRecord, MANIFEST_VERSION, Manifest};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/harvest")
}

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn source(name: &str, kind: SourceKind, url: String) -> HarvestSource {
    HarvestSource {
        name: name.into(),
        kind,
        url,
        schedule: Schedule::Manual,
        fq: None,
        republish: false,
        limits: Limits {
            timeout: Duration::from_secs(10),
            ..Limits::default()
        },
    }
}

/// A site with one (empty) generation being served, as `portale build` leaves it.
fn site_with_generation() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let catalog = CatalogConfig::parse(Path::new("catalog/catalog.toml"), common::CATALOG)
        .unwrap()
        .catalog;
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        generation: "g1".into(),
        built_at: "2026-03-01T10:20:30Z".into(),
        portale_version: portale::VERSION.into(),
        catalog,
        datasets: vec![],
    };
    let gen_dir = dir.path().join("generations/g1");
    fs::create_dir_all(&gen_dir).unwrap();
    fs::write(
        gen_dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    fs::write(dir.path().join("CURRENT"), "g1\n").unwrap();
    dir
}

/// Every file outside `federation/`, with its bytes: what harvesting must never change.
fn generation_snapshot(site: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel.starts_with("federation") {
                continue;
            }
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(site, site, &mut out);
    out
}

fn store(site: &Path, name: &str) -> Vec<FederatedRecord> {
    FederationLayout::new(site)
        .read_store(name)
        .unwrap()
        .unwrap_or_else(|| panic!("no store for {name}"))
        .records
}

fn entry<'a>(report: &'a HarvestReport, name: &str) -> &'a SourceReport {
    report
        .source(name)
        .unwrap_or_else(|| panic!("no report entry for {name}: {report:#?}"))
}

// ---------------------------------------------------------------------------------------
// The 14 real catalogues
// ---------------------------------------------------------------------------------------

type Files = Arc<BTreeMap<String, Vec<u8>>>;

async fn serve_rdf_file(State(files): State<Files>, UrlPath(file): UrlPath<String>) -> Response {
    match files.get(&file) {
        Some(bytes) => (
            [(header::CONTENT_TYPE, "application/rdf+xml")],
            bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn read_catalogues() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in fs::read_dir(fixtures().join("catalogs")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        files.insert(name, fs::read(&p).unwrap());
    }
    files
}

fn source_name(file: &str) -> String {
    file.trim_end_matches("_catalog.rdf").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_14_real_catalogues_import_with_their_defects_reported() {
    let files: Files = Arc::new(read_catalogues());
    assert_eq!(files.len(), 14);
    let addr = serve(
        Router::new()
            .route("/catalogs/{file}", get(serve_rdf_file))
            .with_state(files.clone()),
    )
    .await;
    let sources: Vec<HarvestSource> = files
        .keys()
        .map(|f| {
            source(
                &source_name(f),
                SourceKind::Dcat,
                format!("http://{addr}/catalogs/{f}"),
            )
        })
        .collect();
    let site = site_with_generation();
    let before = generation_snapshot(site.path());
    let report = federation::harvest(site.path(), &sources, None)
        .await
        .unwrap();
    assert_eq!(generation_snapshot(site.path()), before);
    assert_eq!(report.sources.len(), 14);

    let csv = fs::read_to_string(fixtures().join("expected.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut checked = 0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let file = cells[0];
        let num = |col: &str| -> u64 {
            let i = header.iter().position(|h| *h == col).unwrap();
            cells[i].parse().unwrap()
        };
        let name = source_name(file);
        let s = entry(&report, &name);
        assert_eq!(s.status, CrawlStatus::Complete, "{name}: {s:#?}");
        assert_eq!(s.pages, 1, "{name}");
        assert_eq!(s.records.found, num("imported"), "{name}");
        assert_eq!(s.records.new, num("imported"), "{name}");
        assert_eq!(
            s.records.skipped,
            num("datasets") - num("imported"),
            "{name}"
        );
        assert_eq!(s.records.stored, num("imported"), "{name}");
        assert!(s.errors.is_empty(), "{name}: {:?}", s.errors);
        let records = store(site.path(), &name);
        assert_eq!(records.len() as u64, num("imported"), "{name}");
        let distributions: usize = records.iter().map(|r| r.distributions.len()).sum();
        assert_eq!(distributions as u64, num("distributions"), "{name}");
        for code in &header[4..] {
            assert_eq!(
                s.defects.get(*code).copied().unwrap_or(0),
                num(code),
                "{name}: defect {code} (report: {:?})",
                s.defects
            );
            let with: usize = records
                .iter()
                .filter(|r| r.defects.iter().any(|d| d == code))
                .count();
            assert_eq!(with as u64, num(code), "{name}: records with {code}");
        }
        let url = format!("http://{addr}/catalogs/{file}");
        for r in &records {
            assert_eq!(r.source, name);
            assert_eq!(r.harvested_from, url);
            assert_eq!(r.key, federation::record_key(&name, &r.original_id));
            assert!(!r.title.is_empty());
        }
        checked += 1;
    }
    assert_eq!(checked, 14);
    // The real defects the catalogues are known for are among those reported.
    assert_eq!(
        entry(&report, "comune-giovinazzo").defects["no-distribution"],
        2
    );
    assert_eq!(
        entry(&report, "comune-alessandria").defects["empty-licence"],
        5
    );

    // One record in full; every expected value is read from comune-lizzano_catalog.rdf.
    let r = &store(site.path(), "comune-lizzano")[0];
    assert_eq!(r.original_id, "c_e630:popolazione");
    assert_eq!(
        r.uri.as_deref(),
        Some("https://github.com/RTDLIZZANO/Comune_di_Lizzano/popolazione")
    );
    assert_eq!(r.title, "popolazione");
    assert_eq!(r.description, "Fornisce i dati della popolazione residente");
    assert_eq!(r.keywords, ["Età", "Lizzano", "Residenti"]);
    assert_eq!(r.themes, ["SOCI"]);
    assert_eq!(r.frequency.as_deref(), Some("ANNUAL"));
    assert_eq!(r.issued.as_deref(), Some("2025-12-19"));
    assert_eq!(r.modified.as_deref(), Some("2025-12-19"));
    assert_eq!(
        r.landing_page.as_deref(),
        Some("https://github.com/RTDLIZZANO/Comune_di_Lizzano/")
    );
    let publisher = r.publisher.as_ref().unwrap();
    assert_eq!(publisher.name, "Comune di Lizzano");
    assert_eq!(publisher.identifier.as_deref(), Some("c_e630"));
    assert_eq!(r.rights_holder, r.publisher);
    let contact = r.contact_point.as_ref().unwrap();
    assert_eq!(contact.name.as_deref(), Some("Comune di Lizzano"));
    assert_eq!(
        contact.email.as_deref(),
        Some("servizifinanziari@comune.lizzano.ta.it")
    );
    assert_eq!(
        contact.url.as_deref(),
        Some("https://www.comune.lizzano.ta.it")
    );
    assert_eq!(
        r.license.as_deref(),
        Some("https://creativecommons.org/licenses/by/4.0/")
    );
    assert_eq!(r.distributions.len(), 1);
    let d = &r.distributions[0];
    assert_eq!(
        d.access_url.as_deref(),
        Some(
            "https://raw.githubusercontent.com/RTDLIZZANO/Comune%5Fdi%5FLizzano/refs/heads/main/dataset%5Fpopolazione.csv"
        )
    );
    assert_eq!(d.format.as_deref(), Some("CSV"));
    assert_eq!(d.title.as_deref(), Some("Dati popolazione"));
    assert_eq!(
        d.description.as_deref(),
        Some("File in formato CSV per l'interoperabilità")
    );
    assert_eq!(
        d.license.as_deref(),
        Some("https://creativecommons.org/licenses/by/4.0/")
    );
    assert_eq!(r.defects, ["empty-licence"]);
    assert!(r.sanitized.is_empty());

    // A second harvest of unchanged catalogues: every record unchanged, kept as it was.
    let first: BTreeMap<String, Vec<FederatedRecord>> = files
        .keys()
        .map(|f| (source_name(f), store(site.path(), &source_name(f))))
        .collect();
    let again = federation::harvest(site.path(), &sources, None)
        .await
        .unwrap();
    for s in &again.sources {
        assert_eq!(s.status, CrawlStatus::Complete, "{}", s.name);
        assert_eq!(
            (s.records.new, s.records.updated, s.records.deleted),
            (0, 0, 0),
            "{}",
            s.name
        );
        assert_eq!(s.records.unchanged, s.records.found, "{}", s.name);
        assert_eq!(store(site.path(), &s.name), first[&s.name], "{}", s.name);
    }
    assert_eq!(generation_snapshot(site.path()), before);
}

// ---------------------------------------------------------------------------------------
// CKAN
// ---------------------------------------------------------------------------------------

struct FakeCkan {
    packages: Vec<Value>,
    requests: Mutex<Vec<HashMap<String, String>>>,
}

async fn package_search(
    State(ckan): State<Arc<FakeCkan>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    ckan.requests.lock().unwrap().push(q.clone());
    let rows: usize = q.get("rows").and_then(|r| r.parse().ok()).unwrap_or(10);
    let start: usize = q.get("start").and_then(|r| r.parse().ok()).unwrap_or(0);
    let mut sorted = ckan.packages.clone();
    if q.get("sort").map(String::as_str) == Some("id asc") {
        sorted.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    }
    let results: Vec<Value> = sorted.into_iter().skip(start).take(rows).collect();
    axum::Json(json!({
        "help": "http://fake/api/3/action/help_show?name=package_search",
        "success": true,
        "result": {"count": ckan.packages.len(), "sort": q.get("sort"), "results": results, "facets": {}, "search_facets": {}}
    }))
    .into_response()
}

fn trentino() -> Value {
    let text = fs::read_to_string(fixtures().join("ckan/dati-trentino_package_show.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ckan_portal_is_paged_by_id_until_an_empty_page() {
    let real = trentino();
    let mut packages = vec![real.clone()];
    for i in 1..250 {
        let mut p = real.clone();
        p["id"] = json!(format!("{i:04}-0000-test"));
        p["name"] = json!(format!("dataset-{i:04}"));
        p["title"] = json!(format!("Dataset di prova {i}"));
        packages.push(p);
    }
    packages[7]["title"] = json!("");
    packages[8]["state"] = json!("deleted");
    let ckan = Arc::new(FakeCkan {
        packages,
        requests: Mutex::new(Vec::new()),
    });
    let addr = serve(
        Router::new()
            .route("/portale/api/3/action/package_search", get(package_search))
            .with_state(ckan.clone()),
    )
    .await;
    let mut src = source(
        "trentino",
        SourceKind::Ckan,
        format!("http://{addr}/portale/"),
    );
    src.fq = Some("organization:pat".into());
    let site = site_with_generation();
    let report = federation::harvest(site.path(), &[src], None)
        .await
        .unwrap();
    let s = entry(&report, "trentino");
    assert_eq!(s.status, CrawlStatus::Complete, "{s:#?}");

    // ckanext-harvest's pattern: rows=100, start 0, 100, 200, then the empty page at 250.
    let requests = ckan.requests.lock().unwrap().clone();
    let starts: Vec<&str> = requests.iter().map(|q| q["start"].as_str()).collect();
    assert_eq!(starts, ["0", "100", "200", "250"]);
    for q in &requests {
        assert_eq!(q["rows"], "100");
        assert_eq!(q["sort"], "id asc");
        assert_eq!(q["fq"], "organization:pat");
    }
    assert_eq!(s.pages, 4);
    assert_eq!(s.records.found, 248);
    assert_eq!(s.records.skipped, 2);
    assert_eq!(s.records.stored, 248);
    let reasons: Vec<&str> = s.skipped.iter().map(|k| k.reason.as_str()).collect();
    assert!(reasons.contains(&"no title"), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("\"deleted\"")),
        "{reasons:?}"
    );
    // The real package: every expected value comes from the fixture.
    let records = store(site.path(), "trentino");
    let r = records
        .iter()
        .find(|r| r.original_id == real["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(r.title, real["title"].as_str().unwrap());
    assert!(r.description.starts_with(
        "Il dataset raccoglie l'elenco delle organizzazioni che aderiscono al progetto EuregioFamilyPass"
    ));
    assert!(
        r.description
            .contains(".\n\nI dati sono georeferenziati, e c'è un link")
    );
    let mut tags: Vec<String> = real["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["display_name"].as_str().unwrap().to_string())
        .collect();
    tags.sort();
    assert_eq!(r.keywords, tags);
    assert_eq!(
        r.keywords.len(),
        real["num_tags"].as_u64().unwrap() as usize
    );
    // themes_aggregate [{"theme": "EDUC"}, {"theme": "INTR"}] and the theme extra's URIs.
    assert_eq!(r.themes, ["EDUC", "INTR"]);
    let publisher = r.publisher.as_ref().unwrap();
    assert_eq!(publisher.name, "Provincia Autonoma di Trento");
    assert_eq!(publisher.identifier.as_deref(), Some("p_TN"));
    let holder = r.rights_holder.as_ref().unwrap();
    assert_eq!(holder.name, real["holder_name"].as_str().unwrap());
    assert_eq!(
        holder.identifier.as_deref(),
        Some(real["holder_identifier"].as_str().unwrap())
    );
    assert_eq!(r.frequency.as_deref(), Some("IRREG"));
    // "issued": "04-08-2021", "modified": "01-08-2022" (day first) in the fixture.
    assert_eq!(r.issued.as_deref(), Some("2021-08-04"));
    assert_eq!(r.modified.as_deref(), Some("2022-08-01"));
    assert_eq!(
        r.license.as_deref(),
        Some("https://creativecommons.org/licenses/by/4.0/deed.it")
    );
    let contact = r.contact_point.as_ref().unwrap();
    assert_eq!(
        contact.name.as_deref(),
        Some("Agenzia per la coesione sociale")
    );
    assert_eq!(
        contact.email.as_deref(),
        Some("agenzia.coesionesociale@provincia.tn.it")
    );
    assert_eq!(
        r.landing_page,
        Some(format!(
            "http://{addr}/portale/dataset/elenco-aderenti-euregio-family-pass"
        ))
    );
    let spatial = r.spatial.as_ref().unwrap();
    assert_eq!(spatial.names, ["ITA_TRT"]);
    assert_eq!(spatial.uris, ["http://www.geonames.org/3165241/"]);
    let mut urls: Vec<&str> = real["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["url"].as_str().unwrap())
        .collect();
    urls.sort();
    let got: Vec<&str> = r
        .distributions
        .iter()
        .map(|d| d.access_url.as_deref().unwrap())
        .collect();
    assert_eq!(got, urls);
    let mut formats: Vec<&str> = r
        .distributions
        .iter()
        .map(|d| d.format.as_deref().unwrap())
        .collect();
    formats.sort();
    assert_eq!(formats, ["CSV", "CSV", "JSON"]);
    // The day-first dates are the package's only defect.
    assert_eq!(r.defects, ["date-not-iso"]);
    assert_eq!(s.defects.get("date-not-iso"), Some(&248));
    assert_eq!(s.defects.len(), 1, "{:?}", s.defects);
}

// ---------------------------------------------------------------------------------------
// Catalogues written by the tests: hydra paging in Turtle, JSON-LD and RDF/XML
// ---------------------------------------------------------------------------------------

/// Pages served by path; the test changes them between harvests.
#[derive(Default)]
struct Pages {
    pages: Mutex<HashMap<String, (StatusCode, &'static str, String)>>,
}

impl Pages {
    fn set(&self, path: &str, content_type: &'static str, body: String) {
        self.pages
            .lock()
            .unwrap()
            .insert(path.to_string(), (StatusCode::OK, content_type, body));
    }
    fn fail(&self, path: &str) {
        self.pages.lock().unwrap().insert(
            path.to_string(),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "boom".into(),
            ),
        );
    }
}

async fn serve_page(State(pages): State<Arc<Pages>>, UrlPath(path): UrlPath<String>) -> Response {
    match pages.pages.lock().unwrap().get(&path) {
        Some((status, ct, body)) => {
            (*status, [(header::CONTENT_TYPE, *ct)], body.clone()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn pages_server() -> (SocketAddr, Arc<Pages>) {
    let pages = Arc::new(Pages::default());
    let addr = serve(
        Router::new()
            .route("/{*path}", get(serve_page))
            .with_state(pages.clone()),
    )
    .await;
    (addr, pages)
}

/// A DCAT-AP_IT page in Turtle, with hydra paging as Portale writes it (both predicate
/// sets on a hydra:PagedCollection named like the page).
fn turtle_page(page: &str, datasets: &[(&str, &str)], next: Option<&str>, total: usize) -> String {
    let mut t = String::from(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n\
         @prefix dcatapit: <http://dati.gov.it/onto/dcatapit#> .\n\
         @prefix dct: <http://purl.org/dc/terms/> .\n\
         @prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n\
         @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n",
    );
    for (id, title) in datasets {
        t.push_str(&format!(
            "<https://example.org/dataset/{id}> a dcat:Dataset, dcatapit:Dataset ;\n\
             dct:identifier \"c_b648:{id}\" ; dct:title \"{title}\"@it ;\n\
             dct:description \"Descrizione di {id}\"@it ;\n\
             dct:modified \"2026-01-10\"^^xsd:date ;\n\
             dcat:theme <http://publications.europa.eu/resource/authority/data-theme/GOVE> ;\n\
             dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://example.org/files/{id}.csv> ;\n\
               dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ] .\n"
        ));
    }
    t.push_str(&format!(
        "<{page}> a hydra:PagedCollection ; hydra:totalItems {total} ; hydra:itemsPerPage 2"
    ));
    if let Some(next) = next {
        t.push_str(&format!(" ; hydra:next <{next}> ; hydra:nextPage <{next}>"));
    }
    t.push_str(" .\n");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_in_turtle_jsonld_and_rdfxml_with_both_hydra_styles() {
    let (addr, pages) = pages_server().await;
    let base = format!("http://{addr}");
    // Page 1: Turtle, only the deprecated hydra:nextPage, as a relative literal (ckanext-dcat).
    pages.set(
        "p1.ttl",
        "text/turtle",
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n\
         @prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n\
         <https://example.org/d/uno> a dcat:Dataset ; dct:identifier \"uno\" ; dct:title \"Uno\" .\n\
         [] a hydra:PagedCollection ; hydra:totalItems 3 ; hydra:nextPage \"p2.jsonld\" .\n"
            .into(),
    );
    // Page 2: JSON-LD with an inline context and hydra:next.
    pages.set(
        "p2.jsonld",
        "application/ld+json",
        json!({
            "@context": {
                "dcat": "http://www.w3.org/ns/dcat#",
                "dct": "http://purl.org/dc/terms/",
                "hydra": "http://www.w3.org/ns/hydra/core#"
            },
            "@graph": [
                {"@id": "https://example.org/d/due", "@type": "dcat:Dataset",
                 "dct:identifier": "due", "dct:title": {"@value": "Due", "@language": "it"},
                 "dcat:keyword": ["uno", "due"]},
                {"@id": format!("{base}/p2.jsonld"), "@type": "hydra:PagedCollection",
                 "hydra:next": {"@id": format!("{base}/p3.rdf")}}
            ]
        })
        .to_string(),
    );
    // Page 3: RDF/XML served as text/plain (as raw.githubusercontent.com does): the
    // extension decides. No next link: the last page.
    pages.set(
        "p3.rdf",
        "text/plain; charset=utf-8",
        r#"<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://example.org/d/tre">
    <dct:identifier>tre</dct:identifier>
    <dct:title xml:lang="en">Three</dct:title>
    <dct:title xml:lang="it">Tre</dct:title>
  </dcat:Dataset>
</rdf:RDF>"#
            .into(),
    );
    let site = site_with_generation();
    let src = source("misto", SourceKind::Dcat, format!("{base}/p1.ttl"));
    let report = federation::harvest(site.path(), std::slice::from_ref(&src), None)
        .await
        .unwrap();
    let s = entry(&report, "misto");
    assert_eq!(s.status, CrawlStatus::Complete, "{s:#?}");
    assert_eq!(s.pages, 3);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let records = store(site.path(), "misto");
    let titles: Vec<&str> = records.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Due", "Tre", "Uno"]);
    assert_eq!(records[0].keywords, ["due", "uno"]);

    // A hydra:totalItems that does not match what the pages held is reported.
    pages.set(
        "p1.ttl",
        "text/turtle",
        turtle_page(&format!("{base}/p1.ttl"), &[("a", "A")], None, 5),
    );
    let report = federation::harvest(site.path(), &[src], None)
        .await
        .unwrap();
    let s = entry(&report, "misto");
    assert_eq!(s.status, CrawlStatus::Complete);
    assert_eq!(s.records.deleted, 3);
    assert!(
        s.warnings[0].contains("hydra:totalItems 5"),
        "{:?}",
        s.warnings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_updates_and_deletions_only_after_a_complete_crawl() {
    let (addr, pages) = pages_server().await;
    let p1 = format!("http://{addr}/cat/p1.ttl");
    let p2 = format!("http://{addr}/cat/p2.ttl");
    let set = |one: &[(&str, &str)], two: &[(&str, &str)]| {
        let total = one.len() + two.len();
        pages.set(
            "cat/p1.ttl",
            "text/turtle",
            turtle_page(&p1, one, Some(&p2), total),
        );
        pages.set(
            "cat/p2.ttl",
            "text/turtle",
            turtle_page(&p2, two, None, total),
        );
    };
    let src = source("comune", SourceKind::Dcat, p1.clone());
    let site = site_with_generation();
    let run = |src: HarvestSource| {
        let site = site.path().to_path_buf();
        async move {
            let report = federation::harvest(&site, &[src], None).await.unwrap();
            entry(&report, "comune").clone()
        }
    };
    let counts = |s: &SourceReport| {
        let r = &s.records;
        (
            r.new,
            r.updated,
            r.unchanged,
            r.deleted,
            r.not_seen_kept,
            r.stored,
        )
    };

    set(&[("a", "A"), ("b", "B")], &[("c", "C"), ("d", "D")]);
    let s = run(src.clone()).await;
    assert_eq!(s.status, CrawlStatus::Complete);
    assert_eq!(s.pages, 2);
    assert_eq!(counts(&s), (4, 0, 0, 0, 0, 4));
    let first = store(site.path(), "comune");

    // Nothing changed: every record kept as it was (its harvested_at too).
    let s = run(src.clone()).await;
    assert_eq!(counts(&s), (0, 0, 4, 0, 0, 4));
    assert_eq!(store(site.path(), "comune"), first);

    // One title changed: 1 updated.
    set(&[("a", "A"), ("b", "B")], &[("c", "C nuovo"), ("d", "D")]);
    let s = run(src.clone()).await;
    assert_eq!(counts(&s), (0, 1, 3, 0, 0, 4));
    let now = store(site.path(), "comune");
    assert_eq!(now[0], first[0]);
    assert_eq!(now[2].title, "C nuovo");
    assert_ne!(now[2].hash, first[2].hash);

    // d removed at the origin, complete crawl: deleted.
    set(&[("a", "A"), ("b", "B")], &[("c", "C nuovo")]);
    let s = run(src.clone()).await;
    assert_eq!(s.status, CrawlStatus::Complete);
    assert_eq!(counts(&s), (0, 0, 3, 1, 0, 3));

    // Page 2 fails: partial crawl, c is not deleted.
    pages.fail("cat/p2.ttl");
    let s = run(src.clone()).await;
    assert_eq!(s.status, CrawlStatus::Partial);
    assert!(
        s.stopped_because
            .as_deref()
            .unwrap()
            .contains("HTTP status 500"),
        "{s:#?}"
    );
    assert_eq!(counts(&s), (0, 0, 2, 0, 1, 3));
    let ids: Vec<String> = store(site.path(), "comune")
        .into_iter()
        .map(|r| r.original_id)
        .collect();
    assert_eq!(ids, ["c_b648:a", "c_b648:b", "c_b648:c"]);

    // The page limit makes a crawl partial too, and it deletes nothing.
    set(&[("a", "A"), ("b", "B")], &[]);
    let mut limited = src.clone();
    limited.limits.max_pages = 1;
    let s = run(limited).await;
    assert_eq!(s.status, CrawlStatus::Partial);
    assert!(s.stopped_because.as_deref().unwrap().contains("max_pages"));
    assert_eq!(counts(&s), (0, 0, 2, 0, 1, 3));

    // The first page fails: failed, the records stay as they were.
    let before = store(site.path(), "comune");
    pages.fail("cat/p1.ttl");
    let s = run(src.clone()).await;
    assert_eq!(s.status, CrawlStatus::Failed);
    assert_eq!(s.records.stored, 3);
    assert_eq!(store(site.path(), "comune"), before);
}

// ---------------------------------------------------------------------------------------
// Hostile sources, on raw TCP
// ---------------------------------------------------------------------------------------

async fn read_request(stream: &TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if stream.readable().await.is_err() {
            break;
        }
        match stream.try_read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn write_all(stream: &TcpStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        stream.writable().await?;
        match stream.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn ok_head(content_type: &str, length: Option<u64>) -> String {
    let mut h = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n");
    if let Some(l) = length {
        h.push_str(&format!("Content-Length: {l}\r\n"));
    }
    h.push_str("\r\n");
    h
}

/// The Lizzano catalogue with a hydra next link added before `</rdf:RDF>`.
fn with_next(catalogue: &str, page: &str, next: &str) -> String {
    catalogue.replace(
        "</rdf:RDF>",
        &format!(
            "<hydra:PagedCollection rdf:about=\"{page}\"><hydra:next rdf:resource=\"{next}\"/></hydra:PagedCollection>\n</rdf:RDF>"
        ),
    )
}

async fn respond(stream: &TcpStream, body: String) {
    let head = ok_head("application/rdf+xml", Some(body.len() as u64));
    let _ = write_all(stream, format!("{head}{body}").as_bytes()).await;
}

const BIG: u64 = 200 * 1024 * 1024;

struct Hostile {
    on: AtomicBool,
    big_sent: AtomicU64,
    chunked_sent: AtomicU64,
    catalogue: String,
}

async fn hostile_connection(stream: TcpStream, h: Arc<Hostile>, addr: SocketAddr) {
    let request = read_request(&stream).await;
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let file = path.split('?').next().unwrap_or("").to_string();
    let good = h.catalogue.clone();
    if !h.on.load(Ordering::SeqCst) || file == "/good.rdf" {
        return respond(&stream, good).await;
    }
    let url = |p: &str| format!("http://{addr}{p}");
    match file.as_str() {
        "/loop1.rdf" => {
            respond(
                &stream,
                with_next(&good, &url("/loop1.rdf"), &url("/loop2.rdf")),
            )
            .await
        }
        "/loop2.rdf" => {
            respond(
                &stream,
                with_next(&good, &url("/loop2.rdf"), &url("/loop1.rdf")),
            )
            .await
        }
        // The same bytes whatever the query: its relative next link leads to itself again.
        "/same.rdf" => respond(&stream, with_next(&good, "", "same.rdf?again")).await,
        "/big.rdf" => {
            let head = ok_head("application/rdf+xml", Some(BIG));
            if write_all(&stream, head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < BIG && write_all(&stream, &chunk).await.is_ok() {
                sent += chunk.len() as u64;
                h.big_sent.store(sent, Ordering::SeqCst);
            }
        }
        "/chunked.rdf" => {
            // No Content-Length: the body ends when the connection closes, after 200 MB.
            let head = ok_head("application/rdf+xml", None);
            if write_all(&stream, head.as_bytes()).await.is_err() {
                return;
            }
            let opening = b"<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">";
            let _ = write_all(&stream, opening).await;
            let chunk = b"<!-- padding -->".repeat(4096);
            let mut sent = opening.len() as u64;
            while sent < BIG && write_all(&stream, &chunk).await.is_ok() {
                sent += chunk.len() as u64;
                h.chunked_sent.store(sent, Ordering::SeqCst);
            }
        }
        "/invalid.rdf" => respond(&stream, good[..good.len() / 2].to_string()).await,
        "/script.rdf" => {
            let body = good
                .replace(
                    "<dct:title>popolazione</dct:title>",
                    "<dct:title>&lt;script&gt;alert('x')&lt;/script&gt;popolazione &lt;b&gt;2025&lt;/b&gt;</dct:title>",
                )
                .replace(
                    "<dct:description>Fornisce i dati della popolazione residente</dct:description>",
                    "<dct:description><![CDATA[<p>Fornisce <a href=\"javascript:alert(1)\">i dati</a></p><SCRIPT>steal(document.cookie)</SCRIPT><img src=x onerror=alert(2)>]]></dct:description>",
                );
            respond(&stream, body).await
        }
        "/stall.rdf" => {
            // Headers and the start of the body, then nothing.
            let head = ok_head("application/rdf+xml", Some(good.len() as u64));
            let _ = write_all(&stream, format!("{head}{}", &good[..100]).as_bytes()).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        "/silent.rdf" => tokio::time::sleep(Duration::from_secs(60)).await,
        _ => {
            let _ = write_all(
                &stream,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sources_are_contained_and_leave_the_records_intact() {
    let catalogue =
        fs::read_to_string(fixtures().join("catalogs/comune-lizzano_catalog.rdf")).unwrap();
    let hostile = Arc::new(Hostile {
        on: AtomicBool::new(false),
        big_sent: AtomicU64::new(0),
        chunked_sent: AtomicU64::new(0),
        catalogue,
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let h = hostile.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(hostile_connection(stream, h.clone(), addr));
        }
    });
    let names = [
        "good", "loop1", "same", "big", "chunked", "invalid", "script", "stall", "silent",
    ];
    let sources: Vec<HarvestSource> = names
        .iter()
        .map(|n| {
            let mut s = source(n, SourceKind::Dcat, format!("http://{addr}/{n}.rdf"));
            s.limits = Limits {
                max_bytes: 1_000_000,
                max_pages: 10,
                timeout: Duration::from_secs(1),
                max_duration: Duration::from_secs(30),
            };
            s
        })
        .collect();
    let site = site_with_generation();
    let generation = generation_snapshot(site.path());

    // First every source behaves: one record each.
    let report = federation::harvest(site.path(), &sources, None)
        .await
        .unwrap();
    for n in names {
        let s = entry(&report, n);
        assert_eq!(s.status, CrawlStatus::Complete, "{n}: {s:#?}");
        assert_eq!(s.records.stored, 1, "{n}");
    }
    let before: BTreeMap<&str, Vec<FederatedRecord>> =
        names.iter().map(|n| (*n, store(site.path(), n))).collect();

    // Then they turn hostile.
    hostile.on.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let report = federation::harvest(site.path(), &sources, None)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    let status = |n: &str| entry(&report, n).status;
    let why = |n: &str| {
        entry(&report, n)
            .stopped_because
            .clone()
            .unwrap_or_default()
    };

    assert_eq!(status("good"), CrawlStatus::Complete);
    assert_eq!(entry(&report, "good").records.unchanged, 1);

    assert_eq!(status("loop1"), CrawlStatus::Partial, "{}", why("loop1"));
    assert!(
        why("loop1").contains("loop: the next link"),
        "{}",
        why("loop1")
    );
    assert!(why("loop1").contains("/loop1.rdf"), "{}", why("loop1"));
    assert_eq!(entry(&report, "loop1").pages, 2);

    assert_eq!(status("same"), CrawlStatus::Partial, "{}", why("same"));
    assert!(
        why("same").contains("identical to the previous page"),
        "{}",
        why("same")
    );

    assert_eq!(status("big"), CrawlStatus::Failed);
    assert!(
        why("big").contains("larger than the limit of 1000000 bytes"),
        "{}",
        why("big")
    );
    assert!(
        why("big").contains("Content-Length 209715200"),
        "{}",
        why("big")
    );

    assert_eq!(status("chunked"), CrawlStatus::Failed);
    assert!(
        why("chunked").contains("larger than the limit of 1000000 bytes"),
        "{}",
        why("chunked")
    );
    // The client stopped reading: far less than the 200 MB was ever sent (what was sent
    // beyond 1 MB sat in the kernel's socket buffers).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = hostile.chunked_sent.load(Ordering::SeqCst);
    assert!(sent < 64 * 1024 * 1024, "the server sent {sent} bytes");
    let sent = hostile.big_sent.load(Ordering::SeqCst);
    assert!(sent < 64 * 1024 * 1024, "the server sent {sent} bytes");

    assert_eq!(status("invalid"), CrawlStatus::Failed);
    assert!(
        why("invalid").contains("invalid RDF/XML"),
        "{}",
        why("invalid")
    );

    for n in ["stall", "silent"] {
        assert_eq!(status(n), CrawlStatus::Failed, "{n}");
        assert!(
            why(n).contains("no complete answer within 1 s"),
            "{n}: {}",
            why(n)
        );
    }

    // Every failed or partial source kept its records exactly.
    for n in [
        "loop1", "same", "big", "chunked", "invalid", "stall", "silent",
    ] {
        assert_eq!(store(site.path(), n), before[n], "{n}");
        assert_eq!(entry(&report, n).records.deleted, 0, "{n}");
        assert_eq!(entry(&report, n).records.stored, 1, "{n}");
        assert!(!entry(&report, n).errors.is_empty() || status(n) == CrawlStatus::Partial);
    }

    // Script in the title and description: stored as plain text, and reported.
    let s = entry(&report, "script");
    assert_eq!(s.status, CrawlStatus::Complete);
    assert_eq!(s.records.updated, 1);
    assert_eq!(s.sanitized.len(), 1);
    assert_eq!(s.sanitized[0].fields, ["description", "title"]);
    let r = &store(site.path(), "script")[0];
    assert_eq!(r.title, "popolazione 2025");
    assert_eq!(r.description, "Fornisce i dati");
    assert_eq!(r.sanitized, ["description", "title"]);
    let stored = fs::read_to_string(FederationLayout::new(site.path()).store_path("script"))
        .unwrap()
        .to_ascii_lowercase();
    for bad in [
        "<script",
        "alert(",
        "steal(",
        "onerror",
        "javascript:",
        "<img",
        "<a ",
    ] {
        assert!(!stored.contains(bad), "{bad} in the stored record");
    }

    // The served generation never changed, and the report is in the site.
    assert_eq!(generation_snapshot(site.path()), generation);
    let saved = FederationLayout::new(site.path())
        .read_report()
        .unwrap()
        .unwrap();
    assert_eq!(saved, report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ignoring_start_is_stopped_as_a_loop() {
    let packages: Vec<Value> = (0..150)
        .map(|i| {
            let mut p = trentino();
            p["id"] = json!(format!("{i:04}"));
            p
        })
        .collect();
    // A CKAN that always answers the first page, whatever `start` says.
    let first = json!({"success": true, "result": {"count": 150, "results": packages[..100]}});
    let body = first.to_string();
    let addr = serve(Router::new().route(
        "/api/3/action/package_search",
        get(move || {
            let body = body.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], body) }
        }),
    ))
    .await;
    let site = site_with_generation();
    let src = source("broken", SourceKind::Ckan, format!("http://{addr}"));
    let report = federation::harvest(site.path(), &[src], None)
        .await
        .unwrap();
    let s = entry(&report, "broken");
    assert_eq!(s.status, CrawlStatus::Partial);
    assert!(
        s.stopped_because
            .as_deref()
            .unwrap()
            .contains("identical to the previous page"),
        "{s:#?}"
    );
    assert_eq!(s.records.stored, 100);
}

// ---------------------------------------------------------------------------------------
// Configuration, report route, republishing hook
// ---------------------------------------------------------------------------------------

#[test]
fn harvest_sources_in_catalog_toml() {
    let text = format!(
        "{}\n[[harvest]]\nname = \"toscana\"\nkind = \"ckan\"\nurl = \"https://dati.toscana.it\"\n\
         schedule = \"daily\"\nfq = \"organization:comune-di-capannori\"\n\n\
         [harvest.limits]\nmax_bytes = 10000000\ntimeout_seconds = 30\n\n\
         [[harvest]]\nname = \"regione\"\nkind = \"dcat\"\nurl = \"https://example.org/catalog.ttl\"\n\
         schedule = \"every 30 minutes\"\nrepublish = true\n",
        common::CATALOG
    );
    let c = CatalogConfig::parse(Path::new("catalog/catalog.toml"), &text).unwrap();
    assert_eq!(c.harvest.len(), 2);
    let t = &c.harvest[0];
    assert_eq!(t.kind, SourceKind::Ckan);
    assert_eq!(t.schedule, Schedule::Every(Duration::from_secs(86_400)));
    assert_eq!(t.fq.as_deref(), Some("organization:comune-di-capannori"));
    assert_eq!(t.limits.max_bytes, 10_000_000);
    assert_eq!(t.limits.timeout, Duration::from_secs(30));
    assert_eq!(t.limits.max_pages, Limits::default().max_pages);
    assert!(!t.republish);
    let r = &c.harvest[1];
    assert_eq!(r.schedule, Schedule::Every(Duration::from_secs(1800)));
    assert!(r.republish);

    let err = |extra: &str| {
        CatalogConfig::parse(
            Path::new("catalog/catalog.toml"),
            &format!("{}\n{extra}", common::CATALOG),
        )
        .unwrap_err()
        .to_string()
    };
    // `extra` starts on the line after the catalogue and a blank line.
    let first = common::CATALOG.lines().count() + 2;
    let e = err("[[harvest]]\nname = \"x1\"\nkind = \"csw\"\nurl = \"https://a.it\"\n");
    assert!(
        e.contains(&format!("line {}", first + 2)) && e.contains("`ckan`"),
        "{e}"
    );
    let e = err(
        "[[harvest]]\nname = \"x1\"\nkind = \"dcat\"\nurl = \"https://a.it\"\nschedule = \"sometimes\"\n",
    );
    assert!(
        e.contains(&format!("line {}", first + 4)) && e.contains("every N minutes"),
        "{e}"
    );
    let e =
        err("[[harvest]]\nname = \"x1\"\nkind = \"dcat\"\nurl = \"https://a.it\"\nfq = \"a:b\"\n");
    assert!(e.contains("fq is a CKAN filter"), "{e}");
    let e = err("[[harvest]]\nname = \"x1\"\nkind = \"ckan\"\nurl = \"ftp://a.it\"\n");
    assert!(e.contains("not an absolute http(s) URL"), "{e}");
    let e = err("[[harvest]]\nname = \"Toscana\"\nkind = \"ckan\"\nurl = \"https://a.it\"\n");
    assert!(e.contains("a-z, 0-9 and -"), "{e}");
    let e = err(
        "[[harvest]]\nname = \"x1\"\nkind = \"ckan\"\nurl = \"https://a.it\"\n[[harvest]]\nname = \"x1\"\nkind = \"ckan\"\nurl = \"https://b.it\"\n",
    );
    assert!(e.contains("used by two"), "{e}");
    let e = err(
        "[[harvest]]\nname = \"x1\"\nkind = \"ckan\"\nurl = \"https://a.it\"\n[harvest.limits]\nmax_byte = 5\n",
    );
    assert!(e.contains("did you mean `max_bytes`"), "{e}");
    let e = err(
        "[[harvest]]\nname = \"x1\"\nkind = \"ckan\"\nurl = \"https://a.it\"\n[harvest.limits]\ntimeout_seconds = 0\n",
    );
    assert!(e.contains("timeout_seconds must be 1 to 3600"), "{e}");
}

async fn get_harvest(site: &Path) -> (StatusCode, Value) {
    let state = portale::server::AppState::open(site).unwrap();
    let response = portale::server::app(state)
        .oneshot(Request::get("/-/harvest").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_served_at_dash_harvest_and_republishing_is_opt_in() {
    let site = site_with_generation();
    let (status, body) = get_harvest(site.path()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no harvest")
    );

    let (addr, pages) = pages_server().await;
    pages.set(
        "a.ttl",
        "text/turtle",
        turtle_page(&format!("http://{addr}/a.ttl"), &[("x", "X")], None, 1),
    );
    pages.set(
        "b.ttl",
        "text/turtle",
        turtle_page(
            &format!("http://{addr}/b.ttl"),
            &[("y", "Y"), ("z", "Z")],
            None,
            2,
        ),
    );
    let a = source("uno", SourceKind::Dcat, format!("http://{addr}/a.ttl"));
    let mut b = source("due", SourceKind::Dcat, format!("http://{addr}/b.ttl"));
    b.republish = true;
    let report = federation::harvest(site.path(), &[a.clone(), b.clone()], None)
        .await
        .unwrap();
    let (status, body) = get_harvest(site.path()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::to_value(&report).unwrap());
    assert_eq!(body["sources"][0]["name"], "uno");
    assert_eq!(body["sources"][0]["status"], "complete");
    assert_eq!(body["sources"][1]["records"]["new"], 2);

    // Only the source configured with republish = true reaches our own outputs.
    let out = federation::republishable(site.path(), &[a.clone(), b.clone()]).unwrap();
    let ids: Vec<&str> = out.iter().map(|r| r.original_id.as_str()).collect();
    assert_eq!(ids, ["c_b648:y", "c_b648:z"]);
    assert_eq!(federation::load_all(site.path()).unwrap().len(), 2);

    // Harvesting one source keeps the other's report entry; dropping a source from the
    // configuration removes its records at the next full harvest.
    let only = ["uno".to_string()];
    let report = federation::harvest(site.path(), &[a.clone(), b.clone()], Some(&only))
        .await
        .unwrap();
    assert_eq!(report.sources.len(), 2);
    assert_eq!(entry(&report, "due").records.new, 2);
    let err = federation::harvest(
        site.path(),
        std::slice::from_ref(&a),
        Some(&["tre".to_string()]),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no [[harvest]] source is named \"tre\"")
    );
    let report = federation::harvest(site.path(), &[a], None).await.unwrap();
    assert_eq!(report.removed_sources, ["due"]);
    assert!(
        FederationLayout::new(site.path())
            .read_store("due")
            .unwrap()
            .is_none()
    );
    assert_eq!(report.sources.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_harvests_never_write_at_once() {
    let site = site_with_generation();
    let layout = FederationLayout::new(site.path());
    let _held = layout.lock().unwrap();
    let err = federation::harvest(site.path(), &[], None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("another harvest is running"),
        "{err}"
    );
}
