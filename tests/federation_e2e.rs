//! Portale harvesting Portale: a first site is served by the real router (`app`) on a
//! loopback port, and a second site harvests it with `portale::federation::harvest`, as
//! `portale harvest` would, over DCAT (Turtle, RDF/XML and JSON-LD, hydra-paged) and over
//! the CKAN Action API (`package_search` paged by `start`/`rows`).
//!
//! Two first sites:
//! - the demo catalogue of this repository (`catalog/`, `datasets/`), built by the real
//!   build into a temporary directory;
//! - a generated catalogue of 230 datasets (files written by the test), so that the DCAT
//!   crawl reads three hydra pages and the CKAN crawl four `package_search` pages.
//!
//! Oracles: expected ids, titles, themes, publishers and file URLs come from the first
//! site's manifest, read by the test (model types) and mapped through the public URL
//! contract (ARCHITECTURE.md: `/datasets/{id}`, `/datasets/{id}/files/{file}`; CKAN's
//! `/dataset/{name}`); downloaded bytes are compared with the SHA-256 of the files on
//! disk, hashed here. Nothing expected is read from the harvester's or the server's
//! own output.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use portale::config::{HarvestSource, Limits, Schedule, SourceKind};
use portale::federation::{self, CrawlStatus, FederationLayout, HarvestReport, SourceReport};
use portale::model::{
    Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Distribution, Extent, FederatedRecord,
    MANIFEST_VERSION, Manifest, QualityReport, TemporalExtent,
};
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// A first site being served.
struct Served {
    /// `http://127.0.0.1:P`, the public base URL the server writes into every link.
    base: String,
    manifest: Manifest,
    generation_dir: PathBuf,
}

/// Serves the site at `site` with the real router on 127.0.0.1:0; its public base URL is
/// set to the bound address, so that hydra links and download URLs point at this server.
async fn serve(site: &Path) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::open_with(site, Some(base.clone())).unwrap();
    let layout = SiteLayout::new(site);
    let name = layout.current_generation().unwrap().unwrap();
    let manifest = layout.read_manifest(&name).unwrap();
    let generation_dir = layout.generation_dir(&name);
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    Served {
        base,
        manifest,
        generation_dir,
    }
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
            timeout: Duration::from_secs(60),
            ..Limits::default()
        },
    }
}

/// The four ways a second Portale can harvest the first.
fn sources_of(first: &Served) -> Vec<HarvestSource> {
    vec![
        source(
            "first-ttl",
            SourceKind::Dcat,
            format!("{}/catalog.ttl", first.base),
        ),
        source(
            "first-rdf",
            SourceKind::Dcat,
            format!("{}/catalog.rdf", first.base),
        ),
        source(
            "first-jsonld",
            SourceKind::Dcat,
            format!("{}/catalog.jsonld", first.base),
        ),
        source("first-ckan", SourceKind::Ckan, first.base.clone()),
    ]
}

fn entry<'a>(report: &'a HarvestReport, name: &str) -> &'a SourceReport {
    report
        .source(name)
        .unwrap_or_else(|| panic!("no report entry for {name}: {report:#?}"))
}

fn records(site: &Path, name: &str) -> Vec<FederatedRecord> {
    FederationLayout::new(site)
        .read_store(name)
        .unwrap()
        .unwrap_or_else(|| panic!("no store for {name}"))
        .records
}

/// The dataset id a record stands for, through the URL contract: DCAT records land on
/// `{base}/datasets/{id}`, CKAN records on `{base}/dataset/{id}` (the package name).
fn dataset_id_of(record: &FederatedRecord, base: &str, kind: SourceKind) -> String {
    let prefix = match kind {
        SourceKind::Dcat => format!("{base}/datasets/"),
        SourceKind::Ckan => format!("{base}/dataset/"),
    };
    let landing = record
        .landing_page
        .as_deref()
        .unwrap_or_else(|| panic!("record without landing page: {record:#?}"));
    landing
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("landing page {landing} is not under {prefix}"))
        .to_string()
}

/// Whitespace-insensitive text, for descriptions (the harvester normalises spacing).
fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

fn agent_pair(a: &Agent) -> (String, Option<String>) {
    (a.name.clone(), Some(a.identifier.clone()))
}

/// The harvested records of one source against the first site's manifest: each dataset
/// exactly once, with its title, description, themes, publisher and files. Returns the
/// file URLs the records name, for downloading.
fn check_records(first: &Served, recs: &[FederatedRecord], kind: SourceKind) -> Vec<String> {
    let m = &first.manifest;
    let by_id: BTreeMap<&str, &Dataset> = m.datasets.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut urls = Vec::new();
    for r in recs {
        let id = dataset_id_of(r, &first.base, kind);
        *seen.entry(id.clone()).or_default() += 1;
        let d = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("record for {id}, which the manifest does not hold"));
        let what = format!("{kind} record of {id}");
        if kind == SourceKind::Dcat {
            assert_eq!(
                r.original_id,
                format!("{}:{id}", m.catalog.publisher.identifier),
                "{what}"
            );
        } else {
            // CKAN identifies packages by a UUID.
            assert_eq!(r.original_id.len(), 36, "{what}: {}", r.original_id);
        }
        assert_eq!(r.title, d.meta.title, "{what}");
        assert_eq!(words(&r.description), words(&d.meta.description), "{what}");
        assert_eq!(sorted(&r.themes), sorted(&d.meta.themes), "{what}");
        assert_eq!(
            r.frequency.as_deref(),
            Some(d.meta.frequency.as_str()),
            "{what}"
        );
        let publisher = r.publisher.as_ref().expect("publisher");
        assert_eq!(
            (publisher.name.clone(), publisher.identifier.clone()),
            agent_pair(&d.meta.publisher),
            "{what}"
        );
        let holder = r.rights_holder.as_ref().expect("rights holder");
        assert_eq!(
            (holder.name.clone(), holder.identifier.clone()),
            agent_pair(&d.meta.rights_holder),
            "{what}"
        );
        assert_eq!(
            r.modified.as_deref().map(|s| &s[..10]),
            Some(&d.modified[..10]),
            "{what}"
        );
        assert!(r.sanitized.is_empty(), "{what}: {:?}", r.sanitized);
        assert!(
            r.defects.is_empty(),
            "{what}: Portale's own output has defects {:?}",
            r.defects
        );

        // Files: one distribution per file, at the URL the contract gives it.
        let expected: BTreeMap<String, &Distribution> = d
            .distributions
            .iter()
            .map(|x| (format!("{}/datasets/{id}/files/{}", first.base, x.file), x))
            .collect();
        let mut got: BTreeMap<String, Option<u64>> = BTreeMap::new();
        for x in &r.distributions {
            // DCAT has a download URL (the access URL is the dataset page); a CKAN
            // resource has only `url`, read as the access URL.
            let url = match kind {
                SourceKind::Dcat => {
                    assert_eq!(
                        x.access_url.as_deref(),
                        Some(format!("{}/datasets/{id}", first.base).as_str()),
                        "{what}"
                    );
                    x.download_url.clone()
                }
                SourceKind::Ckan => x.access_url.clone(),
            }
            .unwrap_or_else(|| panic!("{what}: a distribution without URL: {x:#?}"));
            let file = expected
                .get(&url)
                .unwrap_or_else(|| panic!("{what}: unexpected distribution URL {url}"));
            assert_eq!(x.format.as_deref(), Some(file.format.as_str()), "{what}");
            got.insert(url, x.byte_size);
        }
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{what}"
        );
        for (url, size) in &got {
            let on_disk = fs::metadata(first.generation_dir.join(&expected[url].path))
                .unwrap()
                .len();
            assert_eq!(*size, Some(on_disk), "{what}: {url}");
        }
        urls.extend(got.into_keys());
    }
    let expected_ids: BTreeMap<String, usize> =
        m.datasets.iter().map(|d| (d.id.clone(), 1)).collect();
    assert_eq!(seen, expected_ids, "{kind}: every dataset exactly once");
    urls
}

/// Every URL answers 200 with the bytes of the file on disk.
async fn download_all(first: &Served, urls: &[String]) {
    let by_url: BTreeMap<String, PathBuf> = first
        .manifest
        .datasets
        .iter()
        .flat_map(|d| {
            d.distributions.iter().map(|x| {
                (
                    format!("{}/datasets/{}/files/{}", first.base, d.id, x.file),
                    first.generation_dir.join(&x.path),
                )
            })
        })
        .collect();
    let client = reqwest::Client::new();
    for url in urls {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{url}");
        let body = response.bytes().await.unwrap();
        let expected = fs::read(&by_url[url]).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&body)),
            hex::encode(Sha256::digest(&expected)),
            "{url}"
        );
    }
}

/// A record without what depends on the source it came through.
fn portable(r: &FederatedRecord) -> FederatedRecord {
    let mut r = r.clone();
    r.source.clear();
    r.key.clear();
    r.hash.clear();
    r.harvested_from.clear();
    r.harvested_at.clear();
    r
}

/// Harvests `first` into a fresh second site over the four sources and checks everything
/// the module docs promise; `pages` are the expected (DCAT, CKAN) page counts.
async fn harvest_and_check(first: &Served, pages: (u32, u32)) {
    let n = first.manifest.datasets.len() as u64;
    let second = tempfile::tempdir().unwrap();
    let sources = sources_of(first);
    let report = federation::harvest(second.path(), &sources, None)
        .await
        .unwrap();
    for s in &sources {
        let e = entry(&report, &s.name);
        assert_eq!(e.status, CrawlStatus::Complete, "{}: {e:#?}", s.name);
        assert!(e.errors.is_empty(), "{}: {:?}", s.name, e.errors);
        assert!(e.warnings.is_empty(), "{}: {:?}", s.name, e.warnings);
        assert!(e.skipped.is_empty(), "{}: {:?}", s.name, e.skipped);
        assert!(e.defects.is_empty(), "{}: {:?}", s.name, e.defects);
        assert_eq!(e.records.found, n, "{}", s.name);
        assert_eq!(e.records.new, n, "{}", s.name);
        assert_eq!(e.records.stored, n, "{}", s.name);
        let expected_pages = match s.kind {
            SourceKind::Dcat => pages.0,
            SourceKind::Ckan => pages.1,
        };
        assert_eq!(e.pages, expected_pages, "{}", s.name);
    }

    let ttl = records(second.path(), "first-ttl");
    let urls = check_records(first, &ttl, SourceKind::Dcat);
    download_all(first, &urls).await;
    let ckan = records(second.path(), "first-ckan");
    let ckan_urls = check_records(first, &ckan, SourceKind::Ckan);
    assert_eq!(
        ckan_urls.iter().collect::<BTreeSet<_>>(),
        urls.iter().collect::<BTreeSet<_>>(),
        "CKAN resources and DCAT distributions name the same files"
    );

    // The three RDF syntaxes are one graph: the same records.
    let ttl_portable: Vec<FederatedRecord> = ttl.iter().map(portable).collect();
    for name in ["first-rdf", "first-jsonld"] {
        let other: Vec<FederatedRecord> =
            records(second.path(), name).iter().map(portable).collect();
        assert_eq!(other, ttl_portable, "{name} differs from first-ttl");
    }

    // Nothing changed at the first site: a second harvest finds every record unchanged.
    let again = federation::harvest(second.path(), &sources, None)
        .await
        .unwrap();
    for s in &sources {
        let e = entry(&again, &s.name);
        assert_eq!(e.status, CrawlStatus::Complete, "{}", s.name);
        let c = &e.records;
        assert_eq!(
            (c.found, c.new, c.updated, c.unchanged, c.deleted, c.stored),
            (n, 0, 0, n, 0, n),
            "{}",
            s.name
        );
    }
    assert_eq!(
        records(second.path(), "first-ttl"),
        ttl,
        "records kept as they were"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_portale_harvests_the_demo_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    let config = portale::config::load_site(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let layout = SiteLayout::new(&site);
    let options = BuildOptions {
        jobs: 2,
        keep_going: false,
    };
    tokio::task::block_in_place(|| build::build(&config, &layout, &options, &Silent)).unwrap();
    let first = serve(&site).await;
    assert_eq!(first.manifest.datasets.len(), 12);
    // 12 datasets: one catalogue page; CKAN: one page of results, then the empty one.
    harvest_and_check(&first, (1, 2)).await;
}

// ---------------------------------------------------------------------------------------
// A generated catalogue, larger than a page
// ---------------------------------------------------------------------------------------

const THEMES: [&[&str]; 4] = [&["EDUC"], &["ENVI", "REGI"], &["TRAN"], &["GOVE", "EDUC"]];

fn agent(name: &str, ipa: &str) -> Agent {
    Agent {
        name: name.into(),
        identifier: ipa.into(),
    }
}

fn catalog() -> Catalog {
    Catalog {
        title: "Dati aperti di prova".into(),
        description: "Catalogo generato".into(),
        publisher: agent("Comune di Capannori", "c_b648"),
        // Replaced by the served address (`AppState::open_with`).
        base_url: "https://dati.example.it/capannori".into(),
        homepage: "https://www.comune.capannori.lu.it".into(),
        languages: vec!["it".into()],
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

/// The files of dataset `n`: a CSV, and a GeoJSON for every third one.
fn files_of(prefix: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    let id = format!("{prefix}-{n:04}");
    let mut files = vec![(format!("{id}.csv"), format!("id,n\n{n},{n}\n").into_bytes())];
    if n.is_multiple_of(3) {
        files.push((
            format!("{id}.geojson"),
            br#"{"type":"FeatureCollection","features":[]}"#.to_vec(),
        ));
    }
    files
}

fn dataset(prefix: &str, n: usize, files: &[(String, Vec<u8>)]) -> Dataset {
    let id = format!("{prefix}-{n:04}");
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
    let publisher = agent("Comune di Capannori", "c_b648");
    Dataset {
        id,
        meta: DatasetMeta {
            // Characters every syntax escapes differently, and a lone `<` that is text.
            title: format!("Dataset {prefix} {n} \"prova\" & co. (città) a < b"),
            description: format!("Descrizione del dataset {n}:\nrighe, \\ barre e accenti."),
            themes: THEMES[n % 4].iter().map(|t| t.to_string()).collect(),
            subthemes: vec![],
            keywords: vec![format!("parola{n}"), "scuole".into()],
            frequency: ["ANNUAL", "MONTHLY", "IRREG"][n % 3].into(),
            license: "A21_CCBY40".into(),
            publisher: publisher.clone(),
            rights_holder: if n.is_multiple_of(4) {
                agent("Istituto Nazionale di Statistica", "istat")
            } else {
                publisher
            },
            contact_point: catalog().contact_point,
            conforms_to: vec![],
            temporal: Some(TemporalExtent {
                start: "2024-01-01".into(),
                end: n.is_multiple_of(2).then(|| "2024-12-31".into()),
            }),
            demo_data: false,
            issued: Some("2025-06-30".into()),
        },
        fields: vec![],
        rows: 1,
        extent: Extent::default(),
        layer: None,
        distributions,
        quality: QualityReport::default(),
        modified: format!("2026-0{}-{:02}T08:00:00Z", 1 + n % 3, 1 + n % 28),
        input_hash: "0".repeat(64),
        pictures: Vec::new(),
        tiles: None,
    }
}

/// A site of `count` generated datasets with ids `{prefix}-NNNN`, files written.
fn generated_site(dir: &Path, prefix: &str, count: usize) {
    let name = "g1";
    let generation = dir.join("generations").join(name);
    let mut datasets = Vec::new();
    for n in 1..=count {
        let files = files_of(prefix, n);
        let ddir = generation.join("datasets").join(format!("{prefix}-{n:04}"));
        fs::create_dir_all(&ddir).unwrap();
        for (file, bytes) in &files {
            fs::write(ddir.join(file), bytes).unwrap();
        }
        datasets.push(dataset(prefix, n, &files));
    }
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        generation: name.into(),
        built_at: "2026-03-11T09:00:00Z".into(),
        portale_version: "0.1.0".into(),
        catalog: catalog(),
        datasets,
    };
    fs::write(
        generation.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    fs::write(dir.join("CURRENT"), format!("{name}\n")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_portale_pages_through_a_catalogue_of_230_datasets() {
    let dir = tempfile::tempdir().unwrap();
    generated_site(dir.path(), "ds", 230);
    let first = serve(dir.path()).await;
    // DCAT: pages of 100 (100, 100, 30); CKAN: rows=100 (100, 100, 30, then empty).
    harvest_and_check(&first, (3, 4)).await;
}

// ---------------------------------------------------------------------------------------
// Republishing: records of `republish = true` sources in our own DCAT and CKAN outputs
// ---------------------------------------------------------------------------------------

/// A small DCAT-AP_IT catalogue at `base`: one complete dataset, one without frequency,
/// one whose distribution has a licence outside the AgID vocabulary. Only the first can
/// be republished.
fn other_catalogue(base: &str) -> String {
    let dataset = |name: &str, frequency: bool, licence: &str| {
        format!(
            r#"<{base}/d/{name}> a dcat:Dataset ;
  dct:identifier "p_lu:{name}" ;
  dct:title "Piste ciclabili {name}"@it ;
  dct:description "Le piste ciclabili della provincia ({name})."@it ;
  dct:modified "2025-05-04"^^xsd:date ;
  dcat:theme <http://publications.europa.eu/resource/authority/data-theme/TRAN> ;
  {frequency}
  dct:publisher <{base}/org/p_lu> ;
  dct:rightsHolder <{base}/org/p_lu> ;
  dcat:contactPoint <{base}/d/{name}#cp> ;
  dcat:landingPage <{base}/pages/{name}> ;
  dcat:keyword "bici"@it ;
  dcat:distribution <{base}/d/{name}#csv> .
<{base}/d/{name}#cp> a vcard:Organization ; vcard:fn "Ufficio mobilità" ;
  vcard:hasEmail <mailto:mobilita@example.org> .
<{base}/d/{name}#csv> a dcat:Distribution ;
  dcat:accessURL <{base}/files/{name}.csv> ;
  dcat:downloadURL <{base}/files/{name}.csv> ;
  dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ;
  dct:license <{licence}> .
"#,
            frequency = if frequency {
                "dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/ANNUAL> ;"
            } else {
                ""
            }
        )
    };
    let agid = "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40";
    format!(
        r#"@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{base}/catalog> a dcat:Catalog ; dct:title "Provincia"@it ;
  dcat:dataset <{base}/d/good>, <{base}/d/nofreq>, <{base}/d/badlicence> .
<{base}/org/p_lu> a foaf:Agent ; foaf:name "Provincia di Lucca" ; dct:identifier "p_lu" .
{}{}{}"#,
        dataset("good", true, agid),
        dataset("nofreq", false, agid),
        dataset("badlicence", true, "http://example.org/licenza-propria"),
    )
}

/// Serves [`other_catalogue`] at `/catalog.ttl`; returns its base URL.
async fn serve_other() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let body = other_catalogue(&base);
    let router = axum::Router::new().route(
        "/catalog.ttl",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/turtle")], body) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// The datasets a DCAT crawl of `base`'s catalogue lists (following `hydra:next`), in
/// page order, with the number of pages and the `hydra:totalItems` of the first; `query`
/// (`?q=...`, or empty) filters.
async fn crawl_catalogue(base: &str, query: &str) -> (Vec<String>, usize, u64) {
    use oxrdf::{NamedNodeRef, Term};
    let dataset_p = NamedNodeRef::new("http://www.w3.org/ns/dcat#dataset").unwrap();
    let next_p = NamedNodeRef::new("http://www.w3.org/ns/hydra/core#next").unwrap();
    let total_p = NamedNodeRef::new("http://www.w3.org/ns/hydra/core#totalItems").unwrap();
    let catalog = oxrdf::NamedNode::new(format!("{base}/catalog")).unwrap();
    let client = reqwest::Client::new();
    let mut url = Some(format!("{base}/catalog.ttl{query}"));
    let (mut datasets, mut pages, mut total) = (Vec::new(), 0, None);
    while let Some(u) = url.take() {
        let response = client.get(&u).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{u}");
        let body = response.bytes().await.unwrap();
        let mut graph = oxrdf::Graph::new();
        for t in oxrdfio::RdfParser::from_format(oxrdfio::RdfFormat::Turtle).for_slice(&body) {
            let q = t.unwrap();
            graph.insert(oxrdf::TripleRef::new(&q.subject, &q.predicate, &q.object));
        }
        pages += 1;
        let mut on_page: Vec<String> = graph
            .objects_for_subject_predicate(&catalog, dataset_p)
            .filter_map(|o| match o {
                oxrdf::TermRef::NamedNode(n) => Some(n.as_str().to_string()),
                _ => None,
            })
            .collect();
        assert!(on_page.len() <= 100, "{u}: {} datasets", on_page.len());
        on_page.sort();
        datasets.extend(on_page);
        for t in graph.iter() {
            let term: Term = t.object.into_owned();
            if t.predicate == next_p
                && let Term::NamedNode(n) = &term
            {
                url = Some(n.as_str().to_string());
            }
            if t.predicate == total_p
                && total.is_none()
                && let Term::Literal(l) = &term
            {
                total = l.value().parse().ok();
            }
        }
    }
    (datasets, pages, total.expect("hydra:totalItems"))
}

async fn ckan_result(base: &str, path: &str) -> serde_json::Value {
    let response = reqwest::get(format!("{base}/api/3/action/{path}"))
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK, "{path}");
    let v: serde_json::Value = response.json().await.unwrap();
    assert_eq!(v["success"], true, "{path}: {v}");
    v["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republished_sources_reach_our_dcat_and_ckan_outputs_and_only_them() {
    // A: the origin, 120 datasets. P: another portal with one republishable record of three.
    let a_dir = tempfile::tempdir().unwrap();
    generated_site(a_dir.path(), "a", 120);
    let a = serve(a_dir.path()).await;
    let p = serve_other().await;
    // B: 30 datasets of its own; harvests A twice (DCAT republished, CKAN not) and P.
    let b_dir = tempfile::tempdir().unwrap();
    generated_site(b_dir.path(), "b", 30);
    let mut a_dcat = source(
        "a-dcat",
        SourceKind::Dcat,
        format!("{}/catalog.ttl", a.base),
    );
    a_dcat.republish = true;
    let a_ckan = source("a-ckan", SourceKind::Ckan, a.base.clone());
    let mut other = source("other", SourceKind::Dcat, format!("{p}/catalog.ttl"));
    other.republish = true;
    let sources = vec![a_dcat.clone(), a_ckan.clone(), other.clone()];
    let report = federation::harvest(b_dir.path(), &sources, None)
        .await
        .unwrap();
    for s in &sources {
        assert_eq!(
            entry(&report, &s.name).status,
            CrawlStatus::Complete,
            "{}",
            s.name
        );
    }
    assert_eq!(entry(&report, "other").records.found, 3);
    let b = serve(b_dir.path()).await;

    // B's catalogue: its own 30, then A's 120 and P's complete record; never A's CKAN copy.
    let (listed, pages, total) = crawl_catalogue(&b.base, "").await;
    assert_eq!((listed.len(), total, pages), (151, 151, 2));
    let distinct: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(distinct.len(), 151, "every dataset once");
    let own: Vec<String> = (1..=30)
        .map(|n| format!("{}/datasets/b-{n:04}#dataset", b.base))
        .collect();
    // A page is a graph, without order inside it: "own first" means all of them on page 1
    // (`crawl_catalogue` sorts each page by URI, and the two servers' random ports decide
    // which base sorts first).
    let first_page: BTreeSet<&String> = listed[..100].iter().collect();
    assert!(
        own.iter().all(|u| first_page.contains(u)),
        "our own datasets on the first page"
    );
    let from_a: BTreeSet<String> = listed
        .iter()
        .filter_map(|u| u.strip_prefix(&format!("{}/datasets/", a.base)))
        .map(|u| u.trim_end_matches("#dataset").to_string())
        .collect();
    let a_ids: BTreeSet<String> = a.manifest.datasets.iter().map(|d| d.id.clone()).collect();
    assert_eq!(from_a, a_ids, "A's datasets under their original URIs");
    assert!(listed.contains(&format!("{p}/d/good")));
    assert!(
        !listed
            .iter()
            .any(|u| u.contains("nofreq") || u.contains("badlicence"))
    );
    // The catalogue's filters apply to them too.
    let (found, _, total) = crawl_catalogue(&b.base, "?q=ciclabili").await;
    assert_eq!((found, total), (vec![format!("{p}/d/good")], 1));
    let (found, _, _) = crawl_catalogue(&b.base, "?modified_since=2026-02-01").await;
    let since: BTreeSet<String> = a
        .manifest
        .datasets
        .iter()
        .map(|d| (&a.base, d))
        .chain(b.manifest.datasets.iter().map(|d| (&b.base, d)))
        .filter(|(_, d)| d.modified.as_str() >= "2026-02-01")
        .map(|(base, d)| format!("{base}/datasets/{}#dataset", d.id))
        .collect();
    assert!(!since.is_empty() && since.len() < 150);
    assert_eq!(found.into_iter().collect::<BTreeSet<_>>(), since);

    // B's CKAN API: the same 151, the republished ones marked with where they came from.
    let names = ckan_result(&b.base, "package_list").await;
    let names: Vec<String> = serde_json::from_value(names).unwrap();
    assert_eq!(names.len(), 151);
    let search = ckan_result(&b.base, "package_search?rows=0").await;
    assert_eq!(search["count"], 151);
    let good_name = names
        .iter()
        .find(|n| n.starts_with("other_"))
        .expect("P's record in package_list");
    let good = ckan_result(&b.base, &format!("package_show?id={good_name}")).await;
    let extra = |key: &str| {
        good["extras"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .map(|e| e["value"].as_str().unwrap().to_string())
    };
    assert_eq!(extra("harvest_source").as_deref(), Some("other"));
    assert_eq!(
        extra("harvest_source_url"),
        Some(format!("{p}/catalog.ttl"))
    );
    assert_eq!(extra("harvest_url"), Some(format!("{p}/pages/good")));
    assert_eq!(extra("uri"), Some(format!("{p}/d/good")));
    assert_eq!(extra("publisher_identifier").as_deref(), Some("p_lu"));
    assert_eq!(good["title"], "Piste ciclabili good");
    assert_eq!(good["resources"][0]["url"], format!("{p}/files/good.csv"));
    assert_eq!(good["organization"]["title"], "Provincia di Lucca");
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/dataset/{good_name}", b.base))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), reqwest::StatusCode::FOUND);
    assert_eq!(
        redirect.headers()["location"].to_str().unwrap(),
        format!("{p}/pages/good")
    );

    // C harvests B: what B republishes travels on, with A's original links and no defect.
    let c_dir = tempfile::tempdir().unwrap();
    let c_sources = vec![
        source(
            "b-dcat",
            SourceKind::Dcat,
            format!("{}/catalog.ttl", b.base),
        ),
        source("b-ckan", SourceKind::Ckan, b.base.clone()),
    ];
    let c_report = federation::harvest(c_dir.path(), &c_sources, None)
        .await
        .unwrap();
    for s in &c_sources {
        let e = entry(&c_report, &s.name);
        assert_eq!(e.status, CrawlStatus::Complete, "{}", s.name);
        assert_eq!(e.records.found, 151, "{}", s.name);
        assert!(e.warnings.is_empty(), "{}: {:?}", s.name, e.warnings);
        assert!(e.defects.is_empty(), "{}: {:?}", s.name, e.defects);
    }
    let via_b = records(c_dir.path(), "b-dcat");
    let a_part: Vec<FederatedRecord> = via_b
        .iter()
        .filter(|r| {
            r.landing_page
                .as_deref()
                .is_some_and(|l| l.starts_with(&format!("{}/datasets/", a.base)))
        })
        .cloned()
        .collect();
    check_records(&a, &a_part, SourceKind::Dcat);
    let titles = |recs: &[FederatedRecord]| -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in recs {
            *out.entry(r.title.clone()).or_default() += 1;
        }
        out
    };
    let mut expected_titles: BTreeMap<String, usize> = BTreeMap::new();
    for d in a.manifest.datasets.iter().chain(&b.manifest.datasets) {
        *expected_titles.entry(d.meta.title.clone()).or_default() += 1;
    }
    expected_titles.insert("Piste ciclabili good".into(), 1);
    assert_eq!(titles(&via_b), expected_titles);
    assert_eq!(titles(&records(c_dir.path(), "b-ckan")), expected_titles);

    // Turning republish off takes effect at the next harvest of any source: B's outputs
    // drop A's records without a restart.
    a_dcat.republish = false;
    let only = ["other".to_string()];
    federation::harvest(b_dir.path(), &[a_dcat.clone(), a_ckan, other], Some(&only))
        .await
        .unwrap();
    let (listed, pages, total) = crawl_catalogue(&b.base, "").await;
    assert_eq!((listed.len(), total, pages), (31, 31, 1));
    let search = ckan_result(&b.base, "package_search?rows=0").await;
    assert_eq!(search["count"], 31);
}
