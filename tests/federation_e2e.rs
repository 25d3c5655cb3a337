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
    }
}

/// The files of dataset `n`: a CSV, and a GeoJSON for every third one.
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

fn dataset(n: usize, files: &[(String, Vec<u8>)]) -> Dataset {
    let id = format!("ds-{n:04}");
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
            title: format!("Dataset {n} \"prova\" & co. (città) a < b"),
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
        tiles: None,
    }
}

/// A site of `count` generated datasets, files written.
fn generated_site(dir: &Path, count: usize) {
    let name = "g1";
    let generation = dir.join("generations").join(name);
    let mut datasets = Vec::new();
    for n in 1..=count {
        let files = files_of(n);
        let ddir = generation.join("datasets").join(format!("ds-{n:04}"));
        fs::create_dir_all(&ddir).unwrap();
        for (file, bytes) in &files {
            fs::write(ddir.join(file), bytes).unwrap();
        }
        datasets.push(dataset(n, &files));
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
    generated_site(dir.path(), 230);
    let first = serve(dir.path()).await;
    // DCAT: pages of 100 (100, 100, 30); CKAN: rows=100 (100, 100, 30, then empty).
    harvest_and_check(&first, (3, 4)).await;
}
