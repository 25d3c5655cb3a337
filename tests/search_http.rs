//! `/datasets.json` (the catalogue search) and `/suggest.json` through the in-process
//! router, over a site the test writes itself: a generation of three datasets and two
//! federation stores of three harvested records, indexed by `search::publish::refresh`
//! as `portale build` and `portale harvest` do.
//!
//! The last test runs `build::build` on a small catalogue: the index is published with
//! the generation, refreshed when missing or when the synonyms change, and an index that
//! cannot be written fails the build with nothing published.
//!
//! Oracles: which records must match a filter is decided by the records written here
//! (their themes, extents, dates are chosen so that each filter selects a known subset);
//! the expected counts are those subsets' sizes, counted by hand from the definitions
//! below. URLs are the catalogue's base URL followed by the documented paths.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use portale::config::SourceKind;
use portale::federation::{FederationLayout, SourceStore};
use portale::model::{
    Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Distribution, Extent, FederatedAgent,
    FederatedContact, FederatedDistribution, FederatedRecord, FederatedSpatial, GeometryType,
    Layer, MANIFEST_VERSION, Manifest, QualityReport, TemporalExtent,
};
use portale::search::Synonyms;
use portale::search::publish::{SearchLayout, refresh};
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildError, BuildOptions, Silent};
use serde_json::{Value, json};
use tower::ServiceExt;

const BASE: &str = "https://dati.example.it/capannori";
/// Capannori's extent, as `catalog.toml`'s `territory_bbox` gives it.
const TERRITORY: [f64; 4] = [10.49, 43.78, 10.67, 43.91];

fn agent(name: &str) -> Agent {
    Agent {
        name: name.into(),
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

struct Own {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    theme: &'static str,
    keywords: &'static [&'static str],
    formats: &'static [&'static str],
    frequency: &'static str,
    license: &'static str,
    bbox: Option<[f64; 4]>,
    temporal: Option<(&'static str, Option<&'static str>)>,
}

/// Our three datasets.
const OWN: [Own; 3] = [
    Own {
        id: "scuole",
        title: "Scuole primarie e dell'infanzia",
        description: "Le scuole del territorio comunale con indirizzo e codice meccanografico.",
        theme: "EDUC",
        keywords: &["scuole", "istruzione"],
        formats: &["CSV", "GEOJSON"],
        frequency: "ANNUAL",
        license: "CC-BY-4.0",
        bbox: Some([10.55, 43.83, 10.60, 43.86]),
        temporal: Some(("2024-09-01", Some("2025-06-30"))),
    },
    Own {
        id: "raccolta-rifiuti",
        title: "Calendario della raccolta differenziata",
        description: "I giorni di raccolta porta a porta di carta, plastica e organico.",
        theme: "ENVI",
        keywords: &["rifiuti", "ambiente"],
        formats: &["CSV"],
        frequency: "MONTHLY",
        license: "CC-BY-4.0",
        bbox: None,
        temporal: None,
    },
    Own {
        id: "fermate-bus",
        title: "Fermate degli autobus",
        description: "Le fermate del trasporto pubblico locale.",
        theme: "TRAN",
        keywords: &["trasporti", "autobus"],
        formats: &["CSV", "GEOJSON"],
        frequency: "IRREG",
        license: "CC0-1.0",
        bbox: Some([10.50, 43.80, 10.65, 43.90]),
        temporal: None,
    },
];

fn dataset(o: &Own) -> Dataset {
    let distributions = o
        .formats
        .iter()
        .map(|f| {
            let ext = f.to_ascii_lowercase();
            Distribution {
                file: format!("{}.{ext}", o.id),
                format: f.to_string(),
                media_type: if *f == "CSV" {
                    "text/csv".into()
                } else {
                    "application/geo+json".into()
                },
                byte_size: 100,
                sha256: "0".repeat(64),
                rows: 10,
                path: format!("datasets/{}/{}.{ext}", o.id, o.id),
            }
        })
        .collect();
    Dataset {
        id: o.id.into(),
        meta: DatasetMeta {
            title: o.title.into(),
            description: o.description.into(),
            themes: vec![o.theme.into()],
            subthemes: vec![],
            keywords: o.keywords.iter().map(|k| k.to_string()).collect(),
            frequency: o.frequency.into(),
            license: o.license.into(),
            publisher: agent("Comune di Capannori"),
            rights_holder: agent("Comune di Capannori"),
            contact_point: contact(),
            conforms_to: vec![],
            temporal: o.temporal.map(|(s, e)| TemporalExtent {
                start: s.into(),
                end: e.map(str::to_string),
            }),
            demo_data: false,
            issued: None,
        },
        fields: vec![],
        rows: 10,
        extent: Extent {
            bbox: o.bbox,
            temporal: None,
        },
        layer: o.bbox.map(|_| Layer {
            geometry_type: GeometryType::Point,
            source_crs: 3003,
            features: 10,
        }),
        distributions,
        quality: QualityReport::default(),
        modified: "2026-03-01T10:00:00Z".into(),
        input_hash: "0".repeat(64),
        pictures: Vec::new(),
        tiles: None,
    }
}

fn manifest(generation: &str, datasets: Vec<Dataset>) -> Manifest {
    Manifest {
        version: MANIFEST_VERSION,
        generation: generation.into(),
        built_at: "2026-03-01T10:00:00Z".into(),
        portale_version: "0.1.0".into(),
        catalog: Catalog {
            title: "Dati aperti del Comune di Capannori".into(),
            description: "Catalogo di prova".into(),
            publisher: agent("Comune di Capannori"),
            base_url: BASE.into(),
            homepage: "https://www.comune.capannori.lu.it".into(),
            languages: vec!["it".into()],
            default_license: "CC-BY-4.0".into(),
            contact_point: contact(),
            istat_code: Some("046007".into()),
            territory_bbox: Some(TERRITORY),
            basemap_style: None,
        },
        datasets,
    }
}

struct Harvested {
    source: &'static str,
    key: &'static str,
    title: &'static str,
    theme: &'static str,
    format: &'static str,
    bbox: Option<[f64; 4]>,
    modified: &'static str,
    temporal: Option<&'static str>,
}

/// The harvested records: two of a republished source, one of another.
const HARVESTED: [Harvested; 3] = [
    Harvested {
        source: "provincia",
        key: "00000000000000a1",
        title: "Edifici scolastici della provincia",
        theme: "EDUC",
        format: "CSV",
        // The province of Lucca.
        bbox: Some([10.10, 43.70, 10.80, 44.30]),
        modified: "2025-01-02",
        temporal: None,
    },
    Harvested {
        source: "provincia",
        key: "00000000000000a2",
        title: "Musei e biblioteche",
        theme: "EDUC",
        format: "CSV",
        bbox: None,
        modified: "2024-05-01",
        temporal: None,
    },
    Harvested {
        source: "regione",
        key: "00000000000000b1",
        title: "Farmacie della Toscana",
        theme: "HEAL",
        format: "XLSX",
        // Tuscany.
        bbox: Some([9.68, 42.23, 12.37, 44.47]),
        modified: "2026-02-01",
        temporal: Some("2020-01-01"),
    },
];

fn record(h: &Harvested) -> FederatedRecord {
    let publisher = Some(FederatedAgent {
        name: if h.source == "provincia" {
            "Provincia di Lucca".into()
        } else {
            "Regione Toscana".into()
        },
        identifier: Some("p_lu".into()),
    });
    FederatedRecord {
        source: h.source.into(),
        key: h.key.into(),
        original_id: format!("{}-{}", h.source, h.key),
        uri: Some(format!("https://{}.example/dataset/{}", h.source, h.key)),
        title: h.title.into(),
        description: format!("{} (dati harvested)", h.title),
        keywords: vec![],
        themes: vec![h.theme.into()],
        publisher: publisher.clone(),
        rights_holder: publisher,
        contact_point: Some(FederatedContact {
            name: None,
            email: Some("opendata@example.org".into()),
            url: None,
        }),
        license: Some("CC-BY-4.0".into()),
        frequency: Some("ANNUAL".into()),
        issued: None,
        modified: Some(h.modified.into()),
        landing_page: Some(format!("https://{}.example/p/{}", h.source, h.key)),
        harvested_from: format!("https://{}.example/catalog.ttl", h.source),
        distributions: vec![FederatedDistribution {
            title: None,
            description: None,
            access_url: Some(format!("https://{}.example/f/{}", h.source, h.key)),
            download_url: None,
            format: Some(h.format.into()),
            media_type: None,
            license: None,
            byte_size: None,
        }],
        spatial: h.bbox.map(|b| FederatedSpatial {
            bbox: Some(b),
            ..FederatedSpatial::default()
        }),
        temporal: h.temporal.map(|s| TemporalExtent {
            start: s.into(),
            end: None,
        }),
        sanitized: vec![],
        defects: vec![],
        hash: format!("hash-{}", h.key),
        harvested_at: "2026-03-01T00:00:00Z".into(),
    }
}

fn write_store(site: &Path, source: &str, republish: bool, records: Vec<FederatedRecord>) {
    FederationLayout::new(site)
        .write_store(&SourceStore {
            version: 1,
            source: source.into(),
            kind: SourceKind::Dcat,
            url: format!("https://{source}.example/catalog.ttl"),
            republish,
            updated_at: "2026-03-01T00:00:00Z".into(),
            last_complete_crawl: None,
            records,
        })
        .unwrap();
}

fn write_generation(site: &Path, m: &Manifest) {
    let dir = site.join("generations").join(&m.generation);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("manifest.json"), serde_json::to_vec(m).unwrap()).unwrap();
    let tmp = site.join("CURRENT.tmp");
    fs::write(&tmp, format!("{}\n", m.generation)).unwrap();
    fs::rename(&tmp, site.join("CURRENT")).unwrap();
}

/// The site, without its search index.
fn unindexed_site() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path();
    write_generation(site, &manifest("g1", OWN.iter().map(dataset).collect()));
    let records = |source: &str| {
        HARVESTED
            .iter()
            .filter(|h| h.source == source)
            .map(record)
            .collect::<Vec<_>>()
    };
    write_store(site, "provincia", true, records("provincia"));
    write_store(site, "regione", false, records("regione"));
    tmp
}

/// The site with its index, and the router serving it.
fn indexed() -> (tempfile::TempDir, AppState, Router) {
    let tmp = unindexed_site();
    refresh(tmp.path(), &Synonyms::built_in(), None).unwrap();
    let state = AppState::open(tmp.path()).unwrap();
    let router = app(state.clone());
    (tmp, state, router)
}

struct Reply {
    status: StatusCode,
    body: Bytes,
    content_length: Option<String>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A JSON error of this status; returns its message.
    fn error(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "{:?}", self.body);
        let json = self.json();
        assert_eq!(json["error"]["status"], status.as_u16());
        json["error"]["message"].as_str().unwrap().to_string()
    }
}

async fn request(router: &Router, method: &str, uri: &str) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_length = res
        .headers()
        .get("content-length")
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        body,
        content_length,
    }
}

async fn get(router: &Router, uri: &str) -> Reply {
    request(router, "GET", uri).await
}

/// `/datasets.json?...`, 200, as JSON.
async fn search(router: &Router, query: &str) -> Value {
    let r = get(router, &format!("/datasets.json?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
    r.json()
}

fn ids(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn keys(list: &[&str]) -> Vec<String> {
    sorted(list.iter().map(|s| s.to_string()).collect())
}

const PL_SCUOLE: &str = "provincia/00000000000000a1";
const PL_MUSEI: &str = "provincia/00000000000000a2";
const RT_FARMACIE: &str = "regione/00000000000000b1";

#[tokio::test]
async fn words_find_the_right_record() {
    let (_tmp, _state, router) = indexed();

    let a = search(&router, "q=scuole").await;
    assert_eq!(ids(&a)[0], "scuole", "{a:#}");
    assert!(!ids(&a).contains(&"raccolta-rifiuti".to_string()));
    let top = &a["results"][0];
    assert_eq!(top["url"], format!("{BASE}/datasets/scuole"));
    assert_eq!(top["origin"], "local");
    assert!(top["score"].as_f64().unwrap() > 0.0);
    assert!(
        top["title_html"]
            .as_str()
            .is_some_and(|t| t.contains("<mark>")),
        "{top:#}"
    );
    assert_eq!(
        top["distributions"][0]["url"],
        format!("{BASE}/datasets/scuole/files/scuole.csv")
    );

    let a = search(&router, "q=raccolta+differenziata").await;
    assert_eq!(ids(&a)[0], "raccolta-rifiuti");

    // A harvested record: its URL is its page at the origin.
    let a = search(&router, "q=farmacie").await;
    assert_eq!(ids(&a)[0], RT_FARMACIE);
    let top = &a["results"][0];
    assert_eq!(top["origin"], "regione");
    assert_eq!(top["url"], "https://regione.example/p/00000000000000b1");
    assert_eq!(top["published"], false);

    // Words that are nowhere: nothing, and no error.
    let a = search(&router, "q=xylofono+zeppelin").await;
    assert_eq!(a["total"], 0);
    assert_eq!(a["results"], json!([]));
}

#[tokio::test]
async fn facets_count_the_matches_and_filter_them() {
    let (_tmp, _state, router) = indexed();

    let all = search(&router, "").await;
    assert_eq!(all["total"], 6);
    let theme = all["facets"]["theme"].as_array().unwrap();
    assert_eq!(
        theme[0],
        json!({"label": "Istruzione, cultura e sport", "value": "EDUC", "count": 3})
    );
    let counts: Vec<(&str, u64)> = theme
        .iter()
        .map(|v| (v["value"].as_str().unwrap(), v["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        sorted(counts.iter().map(|(v, c)| format!("{v}:{c}")).collect()),
        keys(&["EDUC:3", "ENVI:1", "HEAL:1", "TRAN:1"])
    );
    let origin: Vec<(String, u64)> = all["facets"]["origin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        origin,
        [
            ("local".to_string(), 3),
            ("provincia".to_string(), 2),
            ("regione".to_string(), 1)
        ]
    );
    let frequency = all["facets"]["frequency"].as_array().unwrap();
    assert!(frequency.contains(&json!({"label": "mensile", "value": "MONTHLY", "count": 1})));
    // CC0-1.0 is the alias of A11_CCO10; the others are CC-BY-4.0, A21_CCBY40.
    let license = all["facets"]["license"].as_array().unwrap();
    assert!(
        license
            .iter()
            .any(|v| v["value"] == "A21_CCBY40" && v["count"] == 5 && v["label"].is_string())
    );
    assert!(
        license
            .iter()
            .any(|v| v["value"] == "A11_CCO10" && v["count"] == 1)
    );

    // One facet value, then two of the same facet (either), then two facets (both).
    let educ = search(&router, "theme=EDUC").await;
    assert_eq!(educ["total"], 3);
    assert_eq!(sorted(ids(&educ)), keys(&["scuole", PL_SCUOLE, PL_MUSEI]));
    assert_eq!(
        educ["facets"]["theme"],
        json!([{"label": "Istruzione, cultura e sport", "value": "EDUC", "count": 3}])
    );
    let either = search(&router, "theme=EDUC&theme=HEAL").await;
    assert_eq!(either["total"], 4);
    let both = search(&router, "theme=EDUC&origin=local").await;
    assert_eq!(ids(&both), ["scuole"]);
    let geojson = search(&router, "format=GEOJSON").await;
    assert_eq!(sorted(ids(&geojson)), keys(&["scuole", "fermate-bus"]));
    let xlsx = search(&router, "format=XLSX&facets=false").await;
    assert_eq!(ids(&xlsx), [RT_FARMACIE]);
    assert_eq!(xlsx["facets"], json!({}));
    let publisher = search(&router, "publisher=Provincia+di+Lucca").await;
    assert_eq!(publisher["total"], 2);
    let none = search(&router, "theme=AGRI").await;
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn bbox_time_and_modified_filters() {
    let (_tmp, _state, router) = indexed();

    // Inside Capannori: every record with an extent there (a table gets the territory's);
    // the museums have no extent and never match a bbox.
    let a = search(&router, "bbox=10.56,43.84,10.58,43.85").await;
    assert_eq!(
        sorted(ids(&a)),
        keys(&[
            "scuole",
            "raccolta-rifiuti",
            "fermate-bus",
            PL_SCUOLE,
            RT_FARMACIE
        ])
    );
    // North of the province, outside Capannori.
    let a = search(&router, "bbox=10.2,44.1,10.3,44.2").await;
    assert_eq!(sorted(ids(&a)), keys(&[PL_SCUOLE, RT_FARMACIE]));
    // The sea off Sardinia.
    let a = search(&router, "bbox=8.0,40.0,8.1,40.1").await;
    assert_eq!(a["total"], 0);

    // The school year 2024/25 overlaps January 2025; the pharmacies' open period too.
    let a = search(&router, "start=2025-01-01&end=2025-02-01").await;
    assert_eq!(sorted(ids(&a)), keys(&["scuole", RT_FARMACIE]));
    let a = search(&router, "start=2026-01-01").await;
    assert_eq!(ids(&a), [RT_FARMACIE]);

    // Modified on 2026-03-01 (ours) and 2026-02-01 (the pharmacies).
    let a = search(&router, "modified_since=2026-01-01").await;
    assert_eq!(
        sorted(ids(&a)),
        keys(&["scuole", "raccolta-rifiuti", "fermate-bus", RT_FARMACIE])
    );
    let a = search(&router, "modified_since=2026-03-01T10:00:01Z").await;
    assert_eq!(a["total"], 0);
    let a = search(&router, "sort=modified&per_page=6").await;
    assert_eq!(ids(&a)[3], RT_FARMACIE);
    assert_eq!(ids(&a)[5], PL_MUSEI);
}

#[tokio::test]
async fn pages_and_links() {
    let (_tmp, _state, router) = indexed();
    let mut seen = Vec::new();
    let mut uri =
        "/datasets.json?sort=title&per_page=2&origin=local&origin=provincia&origin=regione"
            .to_string();
    let mut pages = 0;
    loop {
        let r = get(&router, &uri).await;
        assert_eq!(r.status, StatusCode::OK);
        let a = r.json();
        pages += 1;
        assert_eq!(
            (a["total"].as_u64(), a["pages"].as_u64()),
            (Some(6), Some(3))
        );
        assert_eq!(a["page"], pages);
        assert_eq!(a["per_page"], 2);
        assert_eq!(a["results"].as_array().unwrap().len(), 2);
        seen.extend(ids(&a));
        let links = &a["links"];
        let this = links["self"].as_str().unwrap();
        assert!(
            this.starts_with(&format!("{BASE}/datasets.json?")),
            "{this}"
        );
        assert!(this.contains("per_page=2") && this.contains("sort=title"));
        assert!(this.ends_with(&format!("page={pages}")), "{this}");
        assert!(links["first"].as_str().unwrap().ends_with("page=1"));
        assert!(links["last"].as_str().unwrap().ends_with("page=3"));
        if pages == 1 {
            assert_eq!(links["prev"], Value::Null);
        } else {
            let prev = links["prev"].as_str().unwrap();
            assert!(prev.ends_with(&format!("page={}", pages - 1)), "{prev}");
        }
        match links["next"].as_str() {
            Some(next) => uri = next.strip_prefix(BASE).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    // Every record once, in title order.
    let mut titles_order = seen.clone();
    titles_order.dedup();
    assert_eq!(titles_order.len(), 6);
    assert_eq!(
        seen,
        [
            "raccolta-rifiuti",
            PL_SCUOLE,
            RT_FARMACIE,
            "fermate-bus",
            PL_MUSEI,
            "scuole"
        ]
    );

    // Beyond the last page: an empty page, not an error.
    let a = search(&router, "per_page=2&page=9").await;
    assert_eq!(a["results"], json!([]));
    assert_eq!(a["links"]["next"], Value::Null);
    assert!(a["links"]["prev"].as_str().unwrap().ends_with("page=3"));
    // Defaults.
    let a = search(&router, "").await;
    assert_eq!(
        (a["page"].as_u64(), a["per_page"].as_u64()),
        (Some(1), Some(20))
    );
    assert_eq!(a["relaxed"], false);
}

#[tokio::test]
async fn bad_requests_are_400_naming_the_problem() {
    let (_tmp, _state, router) = indexed();
    for (query, needle) in [
        ("thema=EDUC", "\"thema\""),
        ("q=a&q=b", "more than once"),
        ("bbox=10,43,11", "bbox"),
        ("bbox=10,44,11,43", "bbox"),
        ("bbox=190,0,191,1", "bbox"),
        ("bbox=0,-95,1,0", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("sort=popularity", "sort"),
        ("start=2025-02-30", "start"),
        ("start=2025-06-01&end=2025-01-01", "after"),
        ("modified_since=yesterday", "modified_since"),
        ("facets=maybe", "facets"),
    ] {
        let r = get(&router, &format!("/datasets.json?{query}")).await;
        let message = r.error(StatusCode::BAD_REQUEST);
        assert!(message.contains(needle), "{query}: {message}");
    }
    let long = "a".repeat(501);
    get(&router, &format!("/datasets.json?q={long}"))
        .await
        .error(StatusCode::BAD_REQUEST);
    let r = get(&router, "/suggest.json?q=scu&lmit=3").await;
    assert!(r.error(StatusCode::BAD_REQUEST).contains("\"lmit\""));
    for limit in ["0", "21", "x"] {
        get(&router, &format!("/suggest.json?q=scu&limit={limit}"))
            .await
            .error(StatusCode::BAD_REQUEST);
    }
    // Empty form fields count as absent.
    let a = search(&router, "q=&bbox=&theme=&start=&page=").await;
    assert_eq!(a["total"], 6);
}

#[tokio::test]
async fn suggestions_complete_the_last_word() {
    let (_tmp, _state, router) = indexed();
    let r = get(&router, "/suggest.json?q=scuo").await;
    assert_eq!(r.status, StatusCode::OK);
    let s = r.json();
    assert_eq!(s["q"], "scuo");
    let words = s["words"].as_array().unwrap();
    assert!(!words.is_empty(), "{s:#}");
    for w in words {
        assert!(w["value"].as_str().unwrap().starts_with("scuo"), "{w}");
        assert!(w["count"].as_u64().unwrap() >= 1);
    }
    let datasets = s["datasets"].as_array().unwrap();
    assert!(
        datasets.contains(&json!({
            "id": "scuole",
            "title": "Scuole primarie e dell'infanzia",
            "url": format!("{BASE}/datasets/scuole"),
        })),
        "{s:#}"
    );
    assert!(
        datasets
            .iter()
            .all(|d| d["id"] != "fermate-bus" && d["id"] != "raccolta-rifiuti")
    );

    let s = get(&router, "/suggest.json?q=far&limit=1").await.json();
    assert!(s["words"].as_array().unwrap().len() <= 1);
    let datasets = s["datasets"].as_array().unwrap();
    assert_eq!(datasets.len(), 1);
    assert_eq!(datasets[0]["id"], RT_FARMACIE);
    assert_eq!(datasets[0]["url"], Value::Null);

    let s = get(&router, "/suggest.json?q=").await.json();
    assert_eq!(s, json!({"q": "", "words": [], "datasets": []}));

    // HEAD answers like GET, without a body.
    let get_reply = get(&router, "/suggest.json?q=scuo").await;
    let head = request(&router, "HEAD", "/suggest.json?q=scuo").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.content_length, get_reply.content_length);
    let head = request(&router, "HEAD", "/datasets.json?q=scuole").await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn without_an_index_the_search_is_503_and_the_rest_works() {
    let tmp = unindexed_site();
    let state = AppState::open(tmp.path()).unwrap();
    assert!(state.search().is_none());
    let router = app(state);
    for uri in [
        "/datasets.json",
        "/datasets.json?q=scuole",
        "/suggest.json?q=scu",
    ] {
        let message = get(&router, uri)
            .await
            .error(StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            message.contains("portale index") && message.contains("portale build"),
            "{message}"
        );
        // No path of the server's disk in the answer.
        assert!(!message.contains(&tmp.path().display().to_string()));
    }
    // Bad parameters are still 400: the request is checked first.
    get(&router, "/datasets.json?thema=x")
        .await
        .error(StatusCode::BAD_REQUEST);
    let health = get(&router, "/-/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["search"], Value::Null);
    assert_eq!(
        get(&router, "/datasets/scuole.json").await.status,
        StatusCode::OK
    );

    // CURRENT naming an index that is not there: served without search, no panic.
    let layout = SearchLayout::new(tmp.path());
    fs::create_dir_all(layout.dir()).unwrap();
    fs::write(layout.current_file(), "i20260101T000000000Z-0001\n").unwrap();
    let state = AppState::open(tmp.path()).unwrap();
    assert!(state.search().is_none());
    assert!(state.reload_search_if_changed().is_err());
    get(&app(state), "/datasets.json")
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_refresh_is_picked_up_by_reload_and_by_the_watcher() {
    let (tmp, state, router) = indexed();
    let site = tmp.path();
    let first = state.search_index().unwrap();
    assert_eq!(first.meta().unwrap().generation.as_deref(), Some("g1"));
    assert_eq!(first.engine().num_docs(), 6);
    assert!(!state.reload_search_if_changed().unwrap());

    // A harvest brings a new record; the refresh publishes an index holding it.
    let mut new = record(&HARVESTED[0]);
    new.key = "00000000000000a3".into();
    new.original_id = "provincia-a3".into();
    new.title = "Piste ciclabili".into();
    new.hash = "hash-a3".into();
    let mut records: Vec<FederatedRecord> = HARVESTED[..2].iter().map(record).collect();
    records.push(new);
    write_store(site, "provincia", true, records);
    let refreshed = refresh(site, &Synonyms::built_in(), None).unwrap();
    assert!(!refreshed.up_to_date);
    assert_eq!(search(&router, "q=ciclabili").await["total"], 0);
    assert!(state.reload_search_if_changed().unwrap());
    assert_eq!(state.search().unwrap().num_docs(), 7);
    let health = get(&router, "/-/health").await.json();
    assert_eq!(health["search"]["index"], refreshed.index.as_str());
    assert_eq!(health["search"]["records"], 7);
    assert_eq!(health["search"]["generation"], "g1");
    let a = search(&router, "q=ciclabili").await;
    assert_eq!(ids(&a), ["provincia/00000000000000a3"]);
    // The old engine, held by a request that started before, still answers.
    assert_eq!(first.engine().num_docs(), 6);

    // The watcher does the same on its own.
    let watcher = state.spawn_watcher(Duration::from_millis(10));
    let ours: Vec<Dataset> = OWN.iter().map(dataset).collect();
    let mut g2 = manifest("g2", ours);
    g2.datasets[0].meta.title = "Asili nido".into();
    write_generation(site, &g2);
    refresh(site, &Synonyms::built_in(), None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if search(&router, "q=asili").await["total"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the watcher never loaded the new index"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    watcher.abort();
    assert_eq!(
        state
            .search_index()
            .unwrap()
            .meta()
            .unwrap()
            .generation
            .as_deref(),
        Some("g2")
    );
}

#[tokio::test]
async fn killed_or_failed_refreshes_leave_the_served_index() {
    let (tmp, state, router) = indexed();
    let site = tmp.path();
    let layout = SearchLayout::new(site);
    let served = layout.current().unwrap().unwrap();
    let before = search(&router, "q=scuole").await;

    // What a refresh killed while writing leaves behind.
    let half = layout.dir().join(".tmp-i20990101T000000000Z-0002");
    fs::create_dir_all(&half).unwrap();
    fs::write(half.join("meta.json"), "{\"half\":").unwrap();
    fs::write(
        layout.dir().join("CURRENT.tmp"),
        "i20990101T000000000Z-0002\n",
    )
    .unwrap();
    assert!(!state.reload_search_if_changed().unwrap());
    assert_eq!(search(&router, "q=scuole").await, before);

    // A refresh that fails (a store it cannot read) publishes nothing.
    fs::write(
        FederationLayout::new(site).store_path("rotta"),
        "{\"version\": 1, \"records\": [",
    )
    .unwrap();
    assert!(refresh(site, &Synonyms::built_in(), None).is_err());
    assert_eq!(layout.current().unwrap().as_deref(), Some(served.as_str()));
    assert!(!state.reload_search_if_changed().unwrap());
    assert_eq!(search(&router, "q=scuole").await, before);
    // A fresh server opens the same index.
    let again = AppState::open(site).unwrap();
    assert_eq!(again.search_index().unwrap().name(), served);

    // Once the store is fixed, the next refresh finds nothing to do and the leftovers
    // are gone.
    fs::remove_file(FederationLayout::new(site).store_path("rotta")).unwrap();
    let r = refresh(site, &Synonyms::built_in(), None).unwrap();
    assert!(r.up_to_date);
    assert!(!half.exists());
    assert!(!layout.dir().join("CURRENT.tmp").exists());
}

#[tokio::test]
async fn urls_follow_the_public_url() {
    let tmp = unindexed_site();
    refresh(tmp.path(), &Synonyms::built_in(), None).unwrap();
    let public = "https://opendata.example.org/portale";
    let router = app(AppState::open_with(tmp.path(), Some(public.into())).unwrap());
    let a = search(&router, "q=scuole&per_page=1").await;
    assert_eq!(a["results"][0]["url"], format!("{public}/datasets/scuole"));
    assert!(
        a["links"]["self"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{public}/datasets.json?"))
    );
    let s = get(&router, "/suggest.json?q=scuo").await.json();
    assert!(s.to_string().contains(public) && !s.to_string().contains(BASE));
}

const RECIPE: &str = r#"[dataset]
title = "Fermate dello scuolabus"
description = "Le fermate del trasporto scolastico"
themes = ["TRAN"]
keywords = ["fermate"]
frequency = "ANNUAL"

[source]
files = ["fermate.csv"]

[geometry]
lon = "LON"
lat = "LAT"
"#;

#[tokio::test]
async fn build_publishes_the_index_with_its_generation() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("catalog")).unwrap();
    fs::write(root.join("catalog/catalog.toml"), common::CATALOG).unwrap();
    let ds = root.join("datasets/fermate");
    fs::create_dir_all(&ds).unwrap();
    fs::write(ds.join("dataset.toml"), RECIPE).unwrap();
    let csv = ds.join("fermate.csv");
    fs::write(&csv, "NOME,LON,LAT\nLammari,10.5651,43.8712\n").unwrap();
    let site = root.join("site");
    let layout = SiteLayout::new(&site);
    let search_layout = SearchLayout::new(&site);
    let opts = BuildOptions {
        jobs: 1,
        keep_going: false,
    };
    let build = || {
        let cfg = portale::config::load_site(root).unwrap();
        build::build(&cfg, &layout, &opts, &Silent)
    };

    let first = build().unwrap();
    let generation = layout.current_generation().unwrap().unwrap();
    let index = first.search.as_ref().unwrap();
    assert!(!index.up_to_date);
    assert_eq!(
        search_layout.current().unwrap().as_deref(),
        Some(index.index.as_str())
    );
    let meta = search_layout.read_meta(&index.index).unwrap();
    assert_eq!(meta.generation.as_deref(), Some(generation.as_str()));
    assert_eq!(meta.local, 1);
    let router = app(AppState::open(&site).unwrap());
    let a = search(&router, "q=scuolabus").await;
    assert_eq!(ids(&a), ["fermate"]);

    // Nothing changed: nothing rewritten.
    let again = build().unwrap();
    assert!(again.up_to_date);
    assert!(again.search.as_ref().unwrap().up_to_date);
    assert_eq!(again.search.unwrap().index, index.index);

    // The index went missing: an up-to-date build writes it again.
    fs::remove_dir_all(search_layout.dir()).unwrap();
    let rebuilt = build().unwrap();
    assert!(rebuilt.up_to_date);
    assert!(!rebuilt.search.as_ref().unwrap().up_to_date);
    assert!(search_layout.current().unwrap().is_some());

    // New synonyms: a new index for the same generation.
    fs::write(root.join("catalog/synonyms.txt"), "pulmino, scuolabus\n").unwrap();
    let synonyms = build().unwrap();
    assert!(synonyms.up_to_date);
    let with_synonyms = synonyms.search.unwrap();
    assert!(!with_synonyms.up_to_date);
    assert_eq!(
        with_synonyms.meta.generation.as_deref(),
        Some(generation.as_str())
    );

    // A malformed list fails the build before any work, naming the line.
    fs::write(root.join("catalog/synonyms.txt"), "pulmino\n").unwrap();
    let e = build().unwrap_err();
    assert!(matches!(e, BuildError::Search(_)), "{e}");
    assert!(e.to_string().contains("synonyms.txt:1"), "{e}");
    fs::remove_file(root.join("catalog/synonyms.txt")).unwrap();

    // New data, but the index cannot be written (a federation store it cannot read):
    // the build fails and neither the generation nor the index changes.
    let served_index = search_layout.current().unwrap();
    fs::write(
        &csv,
        "NOME,LON,LAT\nLammari,10.5651,43.8712\nMarlia,10.5532,43.8802\n",
    )
    .unwrap();
    fs::create_dir_all(site.join("federation")).unwrap();
    fs::write(site.join("federation/rotta.json"), "[").unwrap();
    let e = build().unwrap_err();
    assert!(matches!(e, BuildError::Search(_)), "{e}");
    assert!(e.to_string().contains("rotta.json"), "{e}");
    assert_eq!(
        layout.current_generation().unwrap(),
        Some(generation.clone())
    );
    assert_eq!(search_layout.current().unwrap(), served_index);
    let generations: Vec<String> = fs::read_dir(layout.generations_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(generations, std::slice::from_ref(&generation));

    // Fixed: the next build publishes both.
    fs::remove_file(site.join("federation/rotta.json")).unwrap();
    let fixed = build().unwrap();
    let new_generation = fixed.generation.clone().unwrap();
    assert_ne!(new_generation, generation);
    let index = fixed.search.unwrap();
    assert_eq!(
        index.meta.generation.as_deref(),
        Some(new_generation.as_str())
    );
    assert_eq!(search_layout.current().unwrap(), Some(index.index));
}

#[tokio::test]
async fn repeated_requests_are_answered_from_the_cache() {
    let (_tmp, state, router) = indexed();
    let cache_of = |res: &axum::response::Response| {
        res.headers()
            .get("x-portale-cache")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let call = |uri: &'static str| {
        let router = router.clone();
        async move {
            let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
            let res = router.oneshot(req).await.unwrap();
            let cache = cache_of(&res);
            let ctype = res.headers()["content-type"].to_str().unwrap().to_string();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (cache, ctype, body)
        }
    };
    let first = call("/datasets.json?q=scuole&per_page=2").await;
    assert_eq!(first.0.as_deref(), Some("miss"));
    assert_eq!(first.1, "application/json");
    let again = call("/datasets.json?q=scuole&per_page=2").await;
    assert_eq!(again.0.as_deref(), Some("hit"));
    assert_eq!(again.2, first.2);
    // Another query, another answer.
    let other = call("/datasets.json?q=scuole&per_page=1").await;
    assert_eq!(other.0.as_deref(), Some("miss"));
    assert_ne!(other.2, first.2);
    // Suggestions too, apart from searches with the same query string.
    assert_eq!(
        call("/suggest.json?q=scuo").await.0.as_deref(),
        Some("miss")
    );
    assert_eq!(call("/suggest.json?q=scuo").await.0.as_deref(), Some("hit"));
    assert_eq!(
        call("/datasets.json?q=scuo").await.0.as_deref(),
        Some("miss")
    );
    // Errors are not kept.
    let bad = call("/datasets.json?thema=EDUC").await;
    assert_eq!(bad.0, None);
    assert_eq!(call("/datasets.json?thema=EDUC").await.0, None);
    assert_eq!(state.search_index().unwrap().responses().len(), 4);
}

#[tokio::test]
async fn the_search_page_is_html_with_results_facets_and_a_language_switch() {
    let (_tmp, _state, router) = indexed();
    let req = Request::builder()
        .uri("/datasets?q=scuola")
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let body =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.contains(r#"<html lang="it">"#));
    assert!(body.contains("Catalogo dei dati"));
    // The result, its highlighted title, a link to its page.
    assert!(
        body.contains("<mark>Scuole</mark> primarie e dell&#39;infanzia"),
        "{body}"
    );
    assert!(
        body.contains(r#"href="https://dati.example.it/capannori/datasets/scuole""#),
        "{body}"
    );
    // The query is kept in the form, escaped; the facets are links that add a filter.
    assert!(body.contains(r#"value="scuola""#));
    assert!(body.contains("/datasets?q=scuola&#38;theme=EDUC"), "{body}");
    // The page works without JavaScript: no inline script, only the suggestions'
    // module, which the form does not need.
    assert_eq!(body.matches("<script").count(), 1, "{body}");
    assert!(body.contains(&format!(
        r#"<script type="module" src="{BASE}/static/js/suggest.js?v="#
    )));

    // A filter applied: its link removes it; the English page.
    let r = get(&router, "/datasets?q=scuola&theme=EDUC&lang=en").await;
    assert_eq!(r.status, StatusCode::OK);
    let en = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(en.contains(r#"<html lang="en">"#));
    assert!(en.contains("Data catalogue"));
    assert!(en.contains(r#"aria-current="true">✓ "#), "{en}");
    assert!(en.contains("/datasets?q=scuola&#38;lang=en"), "{en}");
    // The switch back to Italian keeps the search.
    assert!(
        en.contains(
            r#"href="https://dati.example.it/capannori/datasets?q=scuola&#38;theme=EDUC" hreflang="it""#
        ),
        "{en}"
    );

    // A hostile query is text, never markup.
    let r = get(&router, "/datasets?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    let hostile = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(!hostile.contains("<script>"), "{hostile}");
    assert_eq!(
        hostile.matches("<script").count(),
        1,
        "only the suggestions' module"
    );
    assert!(
        hostile.contains("&lt;script&gt;") || hostile.contains("&#60;script&#62;"),
        "{hostile}"
    );

    // A bad parameter is a 400 page naming it.
    let r = get(&router, "/datasets?thema=EDUC").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let bad = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        bad.contains("Richiesta non valida") && bad.contains("thema"),
        "{bad}"
    );
}

#[tokio::test]
async fn the_home_page_lists_themes_with_counts_and_the_latest_datasets() {
    let (_tmp, _state, router) = indexed();
    let r = get(&router, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    let body = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(body.contains(r#"<html lang="it">"#));
    assert!(
        body.contains(r#"action="https://dati.example.it/capannori/datasets""#),
        "{body}"
    );
    // Every theme of the records, with its number of records (as /datasets.json counts).
    let all = search(&router, "facets=true").await;
    for t in all["facets"]["theme"].as_array().unwrap() {
        let code = t["value"].as_str().unwrap();
        let count = t["count"].as_u64().unwrap();
        let link = format!(r#"href="https://dati.example.it/capannori/datasets?theme={code}">"#);
        let at = body
            .find(&link)
            .unwrap_or_else(|| panic!("no link {link}: {body}"));
        let badge = format!(r#"<span class="badge bg-secondary">{count}</span>"#);
        assert!(body[at..].contains(&badge), "{code}: {count}");
    }
    // The most recently modified record first among the latest.
    let newest = search(&router, "sort=modified&per_page=1").await;
    let title = newest["results"][0]["title"].as_str().unwrap();
    let latest = &body[body.find(r#"id="latest""#).unwrap()..];
    // Its date, for machines and in Italian words.
    let day = &newest["results"][0]["modified"].as_str().unwrap()[..10];
    let mesi = [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ];
    let (y, m, d) = (&day[..4], &day[5..7], &day[8..10]);
    let words = format!(
        "{} {} {y}",
        d.trim_start_matches('0'),
        mesi[m.parse::<usize>().unwrap() - 1]
    );
    assert!(
        latest.contains(&format!(r#"<time datetime="{day}">{words}</time>"#)),
        "{words}: {latest}"
    );
    assert!(
        latest.contains(&title.replace('\'', "&#39;")),
        "{title}: {latest}"
    );
    assert_eq!(body.matches("<script").count(), 1, "{body}");
    assert!(body.contains(&format!(
        r#"<script type="module" src="{BASE}/static/js/suggest.js?v="#
    )));
    assert!(body.contains(
        r#"list="q-suggestions" data-suggest="https://dati.example.it/capannori/suggest.json""#
    ));
    // Nothing downloaded yet.
    assert!(body.contains("Nessun file è stato ancora scaricato."));
    // English.
    let en = String::from_utf8(get(&router, "/?lang=en").await.body.to_vec()).unwrap();
    assert!(en.contains(r#"<html lang="en">"#) && en.contains("Recently updated"));
    assert!(en.contains("datasets?theme=EDUC&#38;lang=en"), "{en}");
}

#[tokio::test]
async fn the_about_page_gives_working_examples_of_every_api() {
    let (_tmp, state, router) = indexed();
    let r = get(&router, "/about").await;
    assert_eq!(r.status, StatusCode::OK);
    let body = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(body.contains(r#"<html lang="it">"#) && body.contains("Le API"));
    let manifest = state.current().manifest().clone();
    assert!(
        body.contains(&format!(
            "pubblica su questo portale {} dataset",
            manifest.datasets.len()
        )),
        "{body}"
    );
    // Every example URL is on this portal and answers 200.
    let examples: Vec<&str> = body
        .split("<td class=\"portale-break\"><a href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert!(examples.len() >= 6, "{body}");
    for url in &examples {
        let url = url.replace("&#38;", "&");
        let path = url
            .strip_prefix(BASE)
            .unwrap_or_else(|| panic!("{url} is not on {BASE}"));
        if path.contains("/files/") {
            // This site's generation lists files it does not hold: the download must be
            // one the manifest lists.
            assert!(
                manifest.datasets.iter().any(|d| d
                    .distributions
                    .iter()
                    .any(|f| path == format!("/datasets/{}/files/{}", d.id, f.file))),
                "{url}"
            );
            continue;
        }
        assert_eq!(get(&router, path).await.status, StatusCode::OK, "{url}");
    }
    // The harvested sources with their records, as the search counts them.
    let all = search(&router, "facets=true").await;
    for o in all["facets"]["origin"].as_array().unwrap() {
        let name = o["value"].as_str().unwrap();
        if name != "local" {
            let line = format!("<li>{name}: {} schede</li>", o["count"]);
            assert!(body.contains(&line), "{line}: {body}");
        }
    }
    // The frame: the main menu marks the current page; the English page.
    assert!(
        body.contains(r#"href="https://dati.example.it/capannori/about" aria-current="page""#),
        "{body}"
    );
    let en = String::from_utf8(get(&router, "/about?lang=en").await.body.to_vec()).unwrap();
    assert!(
        en.contains(r#"<html lang="en">"#) && en.contains("The APIs"),
        "{en}"
    );
    assert!(
        en.contains("/about?lang=en\" aria-current=\"page\""),
        "{en}"
    );
}

#[tokio::test]
async fn the_stylesheets_are_served_from_the_binary_with_validators() {
    let (_tmp, _state, router) = indexed();
    let page = String::from_utf8(get(&router, "/").await.body.to_vec()).unwrap();
    let css = format!("{BASE}/static/vendor/bootstrap-italia/bootstrap-italia.min.css");
    assert!(page.contains(&format!(r#"href="{css}?v="#)), "{page}");
    let r = get(
        &router,
        "/static/vendor/bootstrap-italia/bootstrap-italia.min.css",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // The file is the one in the repository (the oracle: the bytes on disk).
    let on_disk = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("static/vendor/bootstrap-italia/bootstrap-italia.min.css"),
    )
    .unwrap();
    assert_eq!(r.body.as_ref(), on_disk.as_slice());
    let req = Request::builder()
        .uri("/static/vendor/bootstrap-italia/bootstrap-italia.min.css")
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
    // The page's versioned URL is the content's hash: cached for good.
    let at = page.find(&format!("{css}?v=")).unwrap() + css.len();
    let versioned = &page[at..at + page[at..].find('"').unwrap()];
    assert_eq!(versioned, format!("?v={}", &etag[1..13]));
    let req = Request::builder()
        .uri(format!(
            "/static/vendor/bootstrap-italia/bootstrap-italia.min.css{versioned}"
        ))
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let req = Request::builder()
        .uri("/static/css/portale.css")
        .header("if-none-match", "\"nope\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        router.clone().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
    let req = Request::builder()
        .uri("/static/vendor/bootstrap-italia/bootstrap-italia.min.css")
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        router.clone().oneshot(req).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );
    // Compressed when asked.
    let req = Request::builder()
        .uri("/static/vendor/bootstrap-italia/bootstrap-italia.min.css")
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    // Templates are not served; paths leaving static/ are refused before routing (400,
    // src/server/security.rs).
    assert_eq!(
        get(&router, "/static/templates/base.html").await.status,
        StatusCode::NOT_FOUND
    );
    for bad in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/vendor/%2e%2e/%2e%2e/Cargo.toml",
    ] {
        assert_eq!(
            get(&router, bad).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}
