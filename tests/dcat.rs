//! The DCAT-AP_IT catalogue, the RDF twins, discovery and the quality score, in-process
//! against sites the test writes itself (manifests from the model types, files with
//! SHA-256 computed here).
//!
//! Oracles: the expected ids, counts and pages are computed by the test from the datasets
//! it wrote; the RDF is read back with oxrdfio's parsers (not our writer) and compared as
//! triple sets; the quality points expected for a broken download are worked out by hand
//! from the MQA weights (DOMAIN.md §7). The validity of the RDF against pySHACL and the
//! AgID rules is checked by `tests/conformance/check_dcat.py` on the served demo.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::Path;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use oxrdf::{NamedOrBlankNode, Term, Triple};
use oxrdfio::{RdfFormat, RdfParser};
use portale::model::{
    Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Distribution, Extent, GeometryType, Layer,
    MANIFEST_VERSION, Manifest, QualityReport, TemporalExtent,
};
use portale::server::{AppState, app};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const BASE: &str = "https://dati.example.it/capannori";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

fn agent() -> Agent {
    Agent {
        name: "Comune di Capannori".into(),
        identifier: "c_b648".into(),
    }
}

fn catalog() -> Catalog {
    Catalog {
        title: "Dati aperti del Comune di Capannori".into(),
        description: "Catalogo di prova".into(),
        publisher: agent(),
        base_url: BASE.into(),
        homepage: "https://www.comune.capannori.lu.it".into(),
        languages: vec!["it".into(), "en".into()],
        default_license: "A21_CCBY40".into(),
        contact_point: ContactPoint {
            name: "Ufficio SIT".into(),
            email: "sit@example.it".into(),
            // The homepage, as in the demo: the catalogue also describes this node.
            url: Some("https://www.comune.capannori.lu.it".into()),
        },
        istat_code: Some("046007".into()),
        territory_bbox: Some([10.486, 43.749, 10.659, 43.943]),
        basemap_style: None,
    }
}

/// Dataset number `n`: a layer every third one, titles with characters every syntax
/// escapes differently, modified in January or March 2026.
fn dataset(n: usize, files: &[(String, Vec<u8>)]) -> Dataset {
    let id = format!("ds-{n:04}");
    let layer = n.is_multiple_of(3);
    let distributions = files
        .iter()
        .map(|(file, bytes)| {
            let (format, media_type) = if file.ends_with(".csv") {
                ("CSV", "text/csv")
            } else {
                ("GEOJSON", "application/geo+json")
            };
            Distribution {
                file: file.clone(),
                format: format.into(),
                media_type: media_type.into(),
                byte_size: bytes.len() as u64,
                sha256: hex::encode(Sha256::digest(bytes)),
                rows: 1,
                path: format!("datasets/{id}/{file}"),
            }
        })
        .collect();
    Dataset {
        id: id.clone(),
        meta: DatasetMeta {
            title: format!(
                "Dataset {n} \"prova\" <{}> & co.",
                if n.is_multiple_of(2) {
                    "pari"
                } else {
                    "dispari"
                }
            ),
            description: format!(
                "Descrizione del dataset {n}:\nrighe, \\ barre e accenti (città)."
            ),
            themes: vec![["EDUC", "GOVE", "ENVI"][n % 3].into()],
            subthemes: vec!["http://eurovoc.europa.eu/100227".into()],
            keywords: vec![format!("parola{n}"), "Scuole".into()],
            frequency: "ANNUAL".into(),
            license: "A21_CCBY40".into(),
            publisher: agent(),
            rights_holder: if n.is_multiple_of(4) {
                Agent {
                    name: "Istituto Nazionale di Statistica".into(),
                    identifier: "istat".into(),
                }
            } else {
                agent()
            },
            contact_point: catalog().contact_point,
            conforms_to: if n.is_multiple_of(5) {
                vec![
                    "https://www.istat.it/it/archivio/6789".into(),
                    "Norma interna 12".into(),
                ]
            } else {
                vec![]
            },
            temporal: Some(TemporalExtent {
                start: "2024-01-01".into(),
                end: (n.is_multiple_of(2)).then(|| "2024-12-31".into()),
            }),
            demo_data: false,
            issued: Some("2025-06-30".into()),
        },
        fields: vec![],
        rows: 1,
        extent: Extent {
            bbox: layer.then_some([10.55, 43.80, 10.60, 43.85]),
            temporal: None,
        },
        layer: layer.then_some(Layer {
            geometry_type: GeometryType::Point,
            source_crs: 3003,
            features: 1,
        }),
        distributions,
        quality: QualityReport::default(),
        modified: if n.is_multiple_of(2) {
            "2026-01-10T08:00:00Z".into()
        } else {
            "2026-03-10T08:00:00.123456Z".into()
        },
        input_hash: "0".repeat(64),
        pictures: Vec::new(),
        tiles: None,
    }
}

fn files_of(n: usize) -> Vec<(String, Vec<u8>)> {
    let id = format!("ds-{n:04}");
    let mut files = vec![(format!("{id}.csv"), format!("id,n\n{n},{n}\n").into_bytes())];
    if n.is_multiple_of(3) {
        files.push((
            format!("{id}.geojson"),
            br#"{"type":"FeatureCollection","features":[]}"#.to_vec(),
        ));
    }
    files
}

/// A site with `count` datasets (files written, listed in id order reversed on purpose).
fn site(count: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let name = "g1";
    let dir = tmp.path().join("generations").join(name);
    let mut datasets = Vec::new();
    for n in (1..=count).rev() {
        let files = files_of(n);
        let ddir = dir.join("datasets").join(format!("ds-{n:04}"));
        fs::create_dir_all(&ddir).unwrap();
        for (file, bytes) in &files {
            fs::write(ddir.join(file), bytes).unwrap();
        }
        datasets.push(dataset(n, &files));
    }
    write_manifest(tmp.path(), name, datasets);
    tmp
}

fn write_manifest(site: &Path, name: &str, datasets: Vec<Dataset>) {
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        generation: name.into(),
        built_at: "2026-03-11T09:00:00Z".into(),
        portale_version: "0.1.0".into(),
        catalog: catalog(),
        datasets,
    };
    let dir = site.join("generations").join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    fs::write(site.join("CURRENT"), format!("{name}\n")).unwrap();
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

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

async fn send(router: &Router, method: Method, uri: &str) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "evil.example:9999")
        .body(Body::empty())
        .unwrap();
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
    send(router, Method::GET, uri).await
}

fn format_of(extension: &str) -> RdfFormat {
    match extension {
        "ttl" => RdfFormat::Turtle,
        "rdf" => RdfFormat::RdfXml,
        _ => RdfFormat::JsonLd {
            profile: oxrdfio::JsonLdProfileSet::empty(),
        },
    }
}

/// Parses a document with oxrdfio's parser; fails on any blank node (every node must
/// have a URI).
fn parse(bytes: &[u8], extension: &str) -> HashSet<Triple> {
    RdfParser::from_format(format_of(extension))
        .for_slice(bytes)
        .map(|q| {
            let q = q.unwrap_or_else(|e| panic!("cannot parse the {extension} document: {e}"));
            assert!(
                matches!(q.subject, NamedOrBlankNode::NamedNode(_))
                    && !matches!(q.object, Term::BlankNode(_)),
                "blank node in {q}"
            );
            Triple::new(q.subject, q.predicate, q.object)
        })
        .collect()
}

fn iri(t: &Term) -> Option<&str> {
    match t {
        Term::NamedNode(n) => Some(n.as_str()),
        _ => None,
    }
}

fn subject(t: &Triple) -> &str {
    match &t.subject {
        NamedOrBlankNode::NamedNode(n) => n.as_str(),
        NamedOrBlankNode::BlankNode(b) => b.as_str(),
    }
}

fn objects<'a>(g: &'a HashSet<Triple>, s: &str, p: &str) -> Vec<&'a Term> {
    g.iter()
        .filter(|t| subject(t) == s && t.predicate.as_str() == p)
        .map(|t| &t.object)
        .collect()
}

fn the_iri(g: &HashSet<Triple>, s: &str, p: &str) -> Option<String> {
    let found = objects(g, s, p);
    assert!(found.len() <= 1, "{s} has {} {p}", found.len());
    found.first().and_then(|o| iri(o)).map(str::to_string)
}

/// The triples reachable from `start` by following object IRIs.
fn closure(g: &HashSet<Triple>, start: &str) -> HashSet<Triple> {
    let mut seen = HashSet::from([start.to_string()]);
    let mut todo = vec![start.to_string()];
    let mut out = HashSet::new();
    while let Some(s) = todo.pop() {
        for t in g.iter().filter(|t| subject(t) == s) {
            out.insert(t.clone());
            if let Some(o) = iri(&t.object)
                && seen.insert(o.to_string())
            {
                todo.push(o.to_string());
            }
        }
    }
    out
}

fn dataset_uri(n: usize) -> String {
    format!("{BASE}/datasets/ds-{n:04}#dataset")
}

fn page_datasets(g: &HashSet<Triple>) -> Vec<String> {
    objects(g, &format!("{BASE}/catalog"), &format!("{DCAT}dataset"))
        .into_iter()
        .filter_map(|o| iri(o).map(str::to_string))
        .collect()
}

#[tokio::test]
async fn content_types_and_head() {
    let tmp = site(3);
    let router = app(AppState::open(tmp.path()).unwrap());
    for (ext, media_type) in [
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
        ("jsonld", "application/ld+json"),
    ] {
        for uri in [
            format!("/catalog.{ext}"),
            format!("/datasets/ds-0003.{ext}"),
        ] {
            let r = get(&router, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
            assert_eq!(r.header("content-type"), media_type, "{uri}");
            assert!(!parse(&r.body, ext).is_empty());
            let h = send(&router, Method::HEAD, &uri).await;
            assert_eq!(h.status, StatusCode::OK, "HEAD {uri}");
            assert_eq!(h.header("content-type"), media_type, "HEAD {uri}");
            assert!(h.body.is_empty(), "HEAD {uri} has a body");
        }
    }
    // Unknown dataset, unknown syntax.
    assert_eq!(
        get(&router, "/datasets/nope.ttl").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, "/datasets/ds-0003.n3").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&router, Method::POST, "/catalog.ttl").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn three_syntaxes_hold_the_same_triples() {
    let tmp = site(7);
    let router = app(AppState::open(tmp.path()).unwrap());
    let read = |ext: &'static str| {
        let router = router.clone();
        async move {
            let r = get(&router, &format!("/catalog.{ext}")).await;
            // The paging links point to the syntax asked for: compare them as Turtle's.
            parse(&r.body, ext)
                .into_iter()
                .map(|t| {
                    let fix = |s: &str| s.replace(&format!("/catalog.{ext}?"), "/catalog.ttl?");
                    let subject = oxrdf::NamedNode::new(fix(subject(&t))).unwrap();
                    let object = match &t.object {
                        Term::NamedNode(n) => {
                            oxrdf::NamedNode::new(fix(n.as_str())).unwrap().into()
                        }
                        other => other.clone(),
                    };
                    Triple::new(subject, t.predicate.clone(), object)
                })
                .collect::<HashSet<_>>()
        }
    };
    let turtle = read("ttl").await;
    assert_eq!(read("rdf").await, turtle);
    assert_eq!(read("jsonld").await, turtle);
    // Literals survive the escaping of every syntax.
    let title = objects(&turtle, &dataset_uri(2), "http://purl.org/dc/terms/title");
    assert_eq!(
        title,
        vec![&Term::Literal(
            oxrdf::Literal::new_language_tagged_literal("Dataset 2 \"prova\" <pari> & co.", "it")
                .unwrap()
        )]
    );
}

#[tokio::test]
async fn dataset_twin_is_its_part_of_the_catalogue() {
    let tmp = site(12);
    let router = app(AppState::open(tmp.path()).unwrap());
    for ext in ["ttl", "rdf", "jsonld"] {
        let page = parse(&get(&router, &format!("/catalog.{ext}")).await.body, ext);
        assert_eq!(page_datasets(&page).len(), 12);
        for n in 1..=12 {
            let twin = parse(
                &get(&router, &format!("/datasets/ds-{n:04}.{ext}"))
                    .await
                    .body,
                ext,
            );
            let part = closure(&page, &dataset_uri(n));
            assert!(part.len() > 50, "ds-{n:04}: only {} triples", part.len());
            assert_eq!(
                twin, part,
                "ds-{n:04}.{ext} differs from its part of the catalogue"
            );
            // The twin holds nothing of the catalogue or its paging.
            assert!(twin.iter().all(|t| !subject(t).ends_with("/catalog")));
        }
    }
}

#[tokio::test]
async fn paging_crawl_returns_every_dataset_once_in_id_order() {
    let tmp = site(250);
    let router = app(AppState::open(tmp.path()).unwrap());
    let mut url = format!("{BASE}/catalog.ttl");
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    while pages.len() < 10 {
        let path = url.strip_prefix(BASE).unwrap().to_string();
        let r = get(&router, &path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let g = parse(&r.body, "ttl");
        let this = if pages.is_empty() {
            format!("{BASE}/catalog.ttl?page=1")
        } else {
            url.clone()
        };
        let total = objects(&g, &this, &format!("{HYDRA}totalItems"));
        assert_eq!(total.len(), 1, "{this} has no hydra:totalItems");
        assert!(matches!(total[0], Term::Literal(l) if l.value() == "250"));
        assert!(
            matches!(objects(&g, &this, &format!("{HYDRA}itemsPerPage"))[0], Term::Literal(l) if l.value() == "100")
        );
        for (new, old) in [
            ("first", "firstPage"),
            ("last", "lastPage"),
            ("next", "nextPage"),
            ("previous", "previousPage"),
        ] {
            assert_eq!(
                the_iri(&g, &this, &format!("{HYDRA}{new}")),
                the_iri(&g, &this, &format!("{HYDRA}{old}")),
                "{this}: hydra:{new} and hydra:{old} differ"
            );
        }
        assert_eq!(
            the_iri(&g, &this, &format!("{HYDRA}first")).as_deref(),
            Some(format!("{BASE}/catalog.ttl?page=1").as_str())
        );
        assert_eq!(
            the_iri(&g, &this, &format!("{HYDRA}last")).as_deref(),
            Some(format!("{BASE}/catalog.ttl?page=3").as_str())
        );
        let mut ids = page_datasets(&g);
        ids.sort();
        pages.push(ids.len());
        seen.extend(ids);
        match the_iri(&g, &this, &format!("{HYDRA}next")) {
            Some(next) => url = next,
            None => break,
        }
    }
    assert_eq!(pages, vec![100, 100, 50]);
    let expected: Vec<String> = (1..=250).map(dataset_uri).collect();
    assert_eq!(
        seen, expected,
        "a crawl must see every dataset once, in id order"
    );

    // Page 2 links back to page 1.
    let g = parse(&get(&router, "/catalog.ttl?page=2").await.body, "ttl");
    assert_eq!(
        the_iri(
            &g,
            &format!("{BASE}/catalog.ttl?page=2"),
            &format!("{HYDRA}previous")
        )
        .as_deref(),
        Some(format!("{BASE}/catalog.ttl?page=1").as_str())
    );
    for bad in [
        "page=0",
        "page=-1",
        "page=abc",
        "page=",
        "page=1&page=2",
        "modified_since=yesterday",
    ] {
        let r = get(&router, &format!("/catalog.ttl?{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.json()["error"]["status"], 400);
    }
    assert_eq!(
        get(&router, "/catalog.rdf?page=4").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn modified_since_and_q_filter_and_are_kept_in_links() {
    let tmp = site(250);
    let router = app(AppState::open(tmp.path()).unwrap());
    // Odd datasets were modified in March 2026 (125 of them), even ones in January.
    let r = get(&router, "/catalog.ttl?modified_since=2026-02-01").await;
    let g = parse(&r.body, "ttl");
    let this = format!("{BASE}/catalog.ttl?page=1&modified_since=2026-02-01T00%3A00%3A00Z");
    assert!(
        matches!(objects(&g, &this, &format!("{HYDRA}totalItems"))[0], Term::Literal(l) if l.value() == "125"),
        "{}",
        r.text()
    );
    assert_eq!(
        the_iri(&g, &this, &format!("{HYDRA}next")).as_deref(),
        Some(format!("{BASE}/catalog.ttl?page=2&modified_since=2026-02-01T00%3A00%3A00Z").as_str())
    );
    let ids = page_datasets(&g);
    assert_eq!(ids.len(), 100);
    assert!(ids.iter().all(|id| {
        let n: usize = id[id.len() - 12..id.len() - 8].parse().unwrap();
        n % 2 == 1
    }));
    // Inclusive bound: the March datasets were modified at 08:00:00.123456.
    let g = parse(
        &get(
            &router,
            "/catalog.ttl?modified_since=2026-03-10T08:00:00.123456Z",
        )
        .await
        .body,
        "ttl",
    );
    assert_eq!(page_datasets(&g).len(), 100);
    let g = parse(
        &get(&router, "/catalog.ttl?modified_since=2026-03-10T08:00:01Z")
            .await
            .body,
        "ttl",
    );
    assert_eq!(page_datasets(&g).len(), 0);

    // q: case-insensitive, on title, description and keywords.
    let g = parse(&get(&router, "/catalog.ttl?q=PAROLA17").await.body, "ttl");
    let mut ids = page_datasets(&g);
    ids.sort();
    let expected: Vec<String> = [17, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179]
        .into_iter()
        .map(dataset_uri)
        .collect();
    assert_eq!(ids, expected);
    let g = parse(
        &get(&router, "/catalog.ttl?q=%3Cdispari%3E").await.body,
        "ttl",
    );
    let this = format!("{BASE}/catalog.ttl?page=1&q=%3Cdispari%3E");
    assert!(
        matches!(objects(&g, &this, &format!("{HYDRA}totalItems"))[0], Term::Literal(l) if l.value() == "125")
    );
}

#[tokio::test]
async fn every_uri_comes_from_the_public_base_url() {
    let tmp = site(6);
    let router = app(AppState::open(tmp.path()).unwrap());
    // Vocabularies Portale links to; everything else must be under the base URL.
    let vocabularies = [
        "http://www.w3.org/",
        "http://purl.org/dc/terms/",
        "http://dati.gov.it/onto/dcatapit#",
        "http://xmlns.com/foaf/0.1/",
        "http://spdx.org/rdf/terms#",
        "http://www.opengis.net/ont/geosparql#",
        "http://publications.europa.eu/resource/authority/",
        "http://eurovoc.europa.eu/",
        "https://w3id.org/italia/controlled-vocabulary/",
        "https://www.iana.org/assignments/media-types/",
        "https://www.istat.it/",
        "https://www.comune.capannori.lu.it",
        "mailto:",
    ];
    for uri in [
        "/catalog.ttl",
        "/datasets/ds-0003.ttl",
        "/datasets/ds-0005.jsonld",
    ] {
        let r = get(&router, uri).await;
        assert!(
            !r.text().contains("evil.example"),
            "{uri} uses the Host header"
        );
        let ext = uri.rsplit('.').next().unwrap();
        for t in parse(&r.body, ext) {
            for term in [Some(subject(&t)), iri(&t.object)].into_iter().flatten() {
                assert!(
                    term.starts_with(&format!("{BASE}/"))
                        || vocabularies.iter().any(|v| term.starts_with(v)),
                    "{uri}: {term} is neither under {BASE} nor a vocabulary term"
                );
            }
        }
    }
    let g = parse(&get(&router, "/datasets/ds-0003.ttl").await.body, "ttl");
    let dist = format!("{BASE}/datasets/ds-0003#distribution-ds-0003.csv");
    assert_eq!(
        the_iri(&g, &dist, &format!("{DCAT}downloadURL")).as_deref(),
        Some(format!("{BASE}/datasets/ds-0003/files/ds-0003.csv").as_str())
    );
    assert_eq!(
        the_iri(&g, &dist, &format!("{DCAT}accessURL")).as_deref(),
        Some(format!("{BASE}/datasets/ds-0003").as_str())
    );
    // Both types on every DCAT-AP_IT node.
    for (class, it_class) in [("Dataset", "Dataset"), ("Distribution", "Distribution")] {
        let dcat: BTreeSet<&str> = g
            .iter()
            .filter(|t| {
                t.predicate.as_str() == RDF_TYPE
                    && iri(&t.object) == Some(&format!("{DCAT}{class}"))
            })
            .map(subject)
            .collect();
        let dcatapit: BTreeSet<&str> = g
            .iter()
            .filter(|t| {
                t.predicate.as_str() == RDF_TYPE
                    && iri(&t.object)
                        == Some(&format!("http://dati.gov.it/onto/dcatapit#{it_class}"))
            })
            .map(subject)
            .collect();
        assert!(!dcat.is_empty());
        assert_eq!(dcat, dcatapit, "{class}");
    }
}

#[tokio::test]
async fn sitemap_and_robots() {
    let tmp = site(4);
    let router = app(AppState::open(tmp.path()).unwrap());
    let r = get(&router, "/robots.txt").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/plain"));
    assert!(r.text().contains("User-agent: *\nAllow: /"));
    assert!(r.text().contains(&format!("Sitemap: {BASE}/sitemap.xml")));
    let r = get(&router, "/sitemap.xml").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("application/xml"));
    let locs: Vec<&str> = r
        .text()
        .split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap())
        .collect();
    let mut expected = vec![
        format!("{BASE}/"),
        format!("{BASE}/map"),
        format!("{BASE}/catalog.ttl"),
        format!("{BASE}/catalog.rdf"),
        format!("{BASE}/catalog.jsonld"),
    ];
    expected.extend((1..=4).map(|n| format!("{BASE}/datasets/ds-{n:04}")));
    assert_eq!(locs, expected);
    assert!(r.text().contains("<lastmod>2026-01-10T08:00:00Z</lastmod>"));
    assert_eq!(
        get(&router, "/sitemap.xml?page=0").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get(&router, "/sitemap.xml?page=2").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn dataset_json_has_score_and_schema_org_and_the_page_redirects() {
    let tmp = site(6);
    // Break ds-0006's GeoJSON (wrong size) and remove ds-0003's: the score must notice.
    let dir = tmp.path().join("generations/g1/datasets");
    fs::write(dir.join("ds-0006/ds-0006.geojson"), b"{}").unwrap();
    fs::remove_file(dir.join("ds-0003/ds-0003.geojson")).unwrap();
    let router = app(AppState::open(tmp.path()).unwrap());

    // Without Accept, the dataset's URI is its HTML page (tests/dataset_page.rs); a
    // client asking for JSON is sent to the JSON twin.
    let r = get(&router, "/datasets/ds-0002").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/html"));
    let req = Request::get("/datasets/ds-0002")
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        format!("{BASE}/datasets/ds-0002.json").as_str()
    );
    // Dataset and catalogue URIs dereference to the RDF an Accept header asks for.
    for (accept, path, target) in [
        ("text/turtle", "/datasets/ds-0002", "/datasets/ds-0002.ttl"),
        (
            "application/rdf+xml;q=0.9, application/ld+json;q=0.5",
            "/datasets/ds-0002",
            "/datasets/ds-0002.rdf",
        ),
        ("application/ld+json", "/catalog", "/catalog.jsonld"),
        ("text/html", "/catalog", "/catalog.ttl"),
    ] {
        let req = Request::get(path)
            .header("accept", accept)
            .body(Body::empty())
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path} {accept}");
        assert_eq!(
            res.headers()["location"],
            format!("{BASE}{target}").as_str(),
            "{path} {accept}"
        );
    }

    let json = get(&router, "/datasets/ds-0002.json").await.json();
    let q = &json["quality_score"];
    // ds-0002 has everything: one CSV distribution, temporal, issued, spatial (territory).
    assert_eq!(q["max"], 405);
    assert_eq!(q["points"], 405, "{q:#}");
    assert_eq!(q["rating"], "Excellent");
    assert_eq!(
        json["quality"]["rows_read"], 0,
        "the ETL report is kept apart"
    );

    // ds-0003: 2 distributions, one missing on disk: downloadURL answers 30 × 1/2 = 15.
    let q = get(&router, "/datasets/ds-0003.json").await.json()["quality_score"].clone();
    let access = q["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Accessibility")
        .unwrap();
    let answers = access["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "downloadURL answers")
        .unwrap();
    assert_eq!(answers["points"], 15);
    assert!(
        answers["reason"]
            .as_str()
            .unwrap()
            .contains("ds-0003.geojson is missing")
    );
    assert_eq!(q["points"], 405 - 15);
    let q = get(&router, "/datasets/ds-0006.json").await.json()["quality_score"].clone();
    assert_eq!(q["points"], 405 - 15);
    assert!(q.to_string().contains("ds-0006.geojson has 2 bytes"));

    let s = &json["schema_org"];
    assert_eq!(s["@type"], "Dataset");
    assert_eq!(s["@context"], "https://schema.org/");
    assert_eq!(s["url"], format!("{BASE}/datasets/ds-0002"));
    assert_eq!(s["identifier"], "c_b648:ds-0002");
    assert_eq!(
        s["license"],
        "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"
    );
    assert_eq!(s["distribution"][0]["@type"], "DataDownload");
    assert_eq!(
        s["distribution"][0]["contentUrl"],
        format!("{BASE}/datasets/ds-0002/files/ds-0002.csv")
    );
    assert_eq!(s["distribution"][0]["encodingFormat"], "text/csv");
    // The territory box, latitude first: south west north east.
    assert_eq!(
        s["spatialCoverage"]["geo"]["box"],
        "43.749 10.486 43.943 10.659"
    );
    assert_eq!(s["temporalCoverage"], "2024-01-01/2024-12-31");
    assert_eq!(
        get(&router, "/datasets/ds-0001.json").await.json()["schema_org"]["temporalCoverage"],
        "2024-01-01/.."
    );
    assert_eq!(s["creator"]["identifier"], "c_b648");
    assert_eq!(s["publisher"]["name"], "Comune di Capannori");
}
