//! The free-text `q` of CKAN's `package_search` and of the DCAT catalogue, matched by the
//! catalogue's search engine ([`SearchEngine::matching`]) at the catalogue level
//! (`actions::call_with`, `dcat::paginate_searched`), without HTTP.
//!
//! The catalogue: five own datasets on distinct subjects (schools, traffic fines, waste,
//! pharmacies, bus stops), one harvested record republished from the source `toscana`
//! (schools of the province) and, in the engine only, one harvested record that is not
//! republished (it must never come out of CKAN or DCAT).
//!
//! Oracles: which dataset a query must find is a fact of Italian written here (the titles
//! say "Scuole", the query says "scuola"; "multe" and "sanzioni" are a group of the
//! built-in synonyms list, `src/search/synonyms.txt`; "sculoe" is "scuole" with two
//! letters swapped); the CKAN name of a republished record is `{source}_{key}` as CKAN
//! harvesters see it (documented in `catalog::ckan::dict::federated_name`); orders under
//! `sort=score desc` are computed here from scores a test matcher hands in, or from the
//! engine's own `matching` answer when the point is that CKAN follows the engine.

use std::cell::Cell;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use portale::catalog::ckan::{CkanCatalog, actions};
use portale::catalog::dcat::{self, CatalogQuery};
use portale::catalog::federated::{Republished, RepublishedDistribution, RepublishedRecord};
use portale::catalog::{FreeTextSearch, search_key};
use portale::model::{
    Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Distribution, Extent, MANIFEST_VERSION,
    Manifest, QualityReport,
};
use portale::search::{Origin, SearchDoc, SearchEngine, SearchError, Synonyms};
use portale::server::Urls;
use serde_json::{Map, Value};

const BASE: &str = "https://dati.example.it";
const SOURCE: &str = "toscana";
const FED_KEY: &str = "0123456789abcdef";
/// The CKAN name of the republished record: `{source}_{key}`.
const FED_NAME: &str = "toscana_0123456789abcdef";

fn agent(name: &str, ipa: &str) -> Agent {
    Agent {
        name: name.into(),
        identifier: ipa.into(),
    }
}

fn contact() -> ContactPoint {
    ContactPoint {
        name: "URP".into(),
        email: "urp@example.it".into(),
        url: None,
    }
}

/// An own dataset: id, title, description, keywords, theme, modified.
type Own = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
);

const OWN: [Own; 5] = [
    (
        "scuole",
        "Scuole dell'infanzia e primarie",
        "Elenco degli istituti statali e paritari del territorio comunale",
        &["istruzione"],
        "EDUC",
        "2025-03-01T10:00:00Z",
    ),
    (
        "sanzioni",
        "Sanzioni al codice della strada",
        "Importi elevati dalla polizia municipale, per mese",
        &["polizia municipale"],
        "JUST",
        "2025-02-01T10:00:00Z",
    ),
    (
        "rifiuti",
        "Produzione di rifiuti urbani",
        "Tonnellate prodotte per frazione merceologica",
        &["ambiente"],
        "ENVI",
        "2024-06-01T10:00:00Z",
    ),
    (
        "farmacie",
        "Farmacie",
        "Indirizzi e orari delle farmacie comunali",
        &["salute"],
        "HEAL",
        "2024-01-01T10:00:00Z",
    ),
    (
        "fermate",
        "Fermate degli autobus",
        "Posizione delle fermate del trasporto pubblico locale",
        &["trasporti"],
        "TRAN",
        "2023-09-01T10:00:00Z",
    ),
];

fn dataset(i: usize) -> Dataset {
    let (id, title, description, keywords, theme, modified) = OWN[i];
    Dataset {
        id: id.into(),
        meta: DatasetMeta {
            title: title.into(),
            description: description.into(),
            themes: vec![theme.into()],
            subthemes: vec![],
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            frequency: "ANNUAL".into(),
            license: "A21_CCBY40".into(),
            publisher: agent("Comune di Capannori", "c_b648"),
            rights_holder: agent("Comune di Capannori", "c_b648"),
            contact_point: contact(),
            conforms_to: vec![],
            temporal: None,
            demo_data: false,
            issued: None,
        },
        fields: vec![],
        rows: 10,
        extent: Extent::default(),
        layer: None,
        distributions: vec![Distribution {
            file: format!("{id}.csv"),
            format: "CSV".into(),
            media_type: "text/csv".into(),
            byte_size: 100,
            sha256: "0".repeat(64),
            rows: 10,
            path: format!("datasets/{id}/{id}.csv"),
        }],
        quality: QualityReport::default(),
        modified: modified.into(),
        input_hash: "0".repeat(64),
        pictures: Vec::new(),
        tiles: None,
    }
}

fn manifest() -> Manifest {
    Manifest {
        version: MANIFEST_VERSION,
        generation: "g1".into(),
        built_at: "2026-01-01T00:00:00Z".into(),
        portale_version: "0.1.0".into(),
        catalog: Catalog {
            title: "Dati aperti".into(),
            description: "Catalogo".into(),
            publisher: agent("Comune di Capannori", "c_b648"),
            base_url: BASE.into(),
            homepage: "https://www.comune.capannori.lu.it".into(),
            languages: vec!["it".into()],
            default_license: "A21_CCBY40".into(),
            contact_point: contact(),
            istat_code: Some("046007".into()),
            territory_bbox: None,
            basemap_style: None,
        },
        datasets: (0..OWN.len()).map(dataset).collect(),
    }
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The republished record: schools of the province, from another publisher.
fn republished() -> Republished {
    let licence = portale::vocab::license("A21_CCBY40").unwrap();
    let publisher = agent("Provincia di Lucca", "p_lu");
    Republished {
        records: vec![RepublishedRecord {
            source: SOURCE.into(),
            source_url: "https://dati.toscana.it/".into(),
            key: FED_KEY.into(),
            original_id: "scuole-provincia".into(),
            uri: Some("https://dati.toscana.it/dataset/scuole-provincia".into()),
            title: "Scuole superiori della provincia".into(),
            description: "Sedi delle scuole secondarie di secondo grado".into(),
            keywords: vec!["istruzione".into()],
            themes: vec!["EDUC".into()],
            frequency: "ANNUAL".into(),
            publisher: publisher.clone(),
            rights_holder: publisher,
            contact_point: contact(),
            license: Some(licence),
            issued: None,
            modified: "2025-01-15".into(),
            modified_at: instant("2025-01-15T00:00:00Z"),
            landing_page: Some("https://dati.toscana.it/dataset/scuole-provincia".into()),
            temporal: None,
            places: vec![],
            bbox: None,
            distributions: vec![RepublishedDistribution {
                title: None,
                description: None,
                access_url: "https://dati.toscana.it/scuole.csv".into(),
                download_url: None,
                format: "CSV".into(),
                media_type: None,
                byte_size: None,
                license: licence,
            }],
        }],
        skipped: vec![],
    }
}

fn search_doc(
    key: String,
    origin: Origin,
    published: bool,
    title: &str,
    description: &str,
    keywords: &[&str],
) -> SearchDoc {
    SearchDoc {
        key,
        origin,
        published,
        title: title.into(),
        description: description.into(),
        keywords: keywords.iter().map(|k| k.to_string()).collect(),
        themes: vec![],
        publisher: None,
        rights_holder: None,
        formats: vec!["CSV".into()],
        license: None,
        frequency: None,
        fields: vec![],
        places: vec![],
        temporal: None,
        bbox: None,
        modified: None,
        summary: Value::Null,
    }
}

/// The engine's records: the own datasets, the republished record, and a harvested record
/// of a source that is not republished.
fn engine() -> SearchEngine {
    let mut docs: Vec<SearchDoc> = OWN
        .iter()
        .map(|(id, title, description, keywords, _, _)| {
            search_doc(
                id.to_string(),
                Origin::Local,
                true,
                title,
                description,
                keywords,
            )
        })
        .collect();
    let r = &republished().records[0];
    let keywords: Vec<&str> = r.keywords.iter().map(String::as_str).collect();
    docs.push(search_doc(
        search_key(&r.source, &r.key),
        Origin::Harvested {
            source: SOURCE.into(),
        },
        true,
        &r.title,
        &r.description,
        &keywords,
    ));
    docs.push(search_doc(
        search_key("altrove", "fedcba9876543210"),
        Origin::Harvested {
            source: "altrove".into(),
        },
        false,
        "Scuole paritarie",
        "Scuole non statali",
        &[],
    ));
    SearchEngine::in_memory(&docs, &Synonyms::built_in()).unwrap()
}

fn ckan() -> CkanCatalog {
    CkanCatalog::with_republished(&manifest(), &Urls::new(BASE), &republished())
}

fn params(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn search(
    catalog: &CkanCatalog,
    pairs: &[(&str, Value)],
    matcher: Option<FreeTextSearch<'_>>,
) -> Result<Value, actions::CkanError> {
    let text = actions::call_with(catalog, "package_search", &params(pairs), matcher)?;
    Ok(serde_json::from_str(&text).unwrap())
}

fn names(result: &Value) -> Vec<String> {
    result["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn name_set(result: &Value) -> BTreeSet<String> {
    names(result).into_iter().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn q(text: &str) -> (&'static str, Value) {
    ("q", Value::from(text))
}

#[test]
fn package_search_q_goes_through_the_engine() {
    let (catalog, engine) = (ckan(), engine());
    let matcher = |q: &str| engine.matching(q);
    let with_engine = |pairs: &[(&str, Value)]| search(&catalog, pairs, Some(&matcher)).unwrap();

    // Stemming: the singular finds the plural, in our dataset and in the republished
    // record; the record of the source that is not republished never comes out.
    let r = with_engine(&[q("scuola")]);
    assert_eq!(name_set(&r), set(&["scuole", FED_NAME]));
    assert_eq!(r["count"], 2);

    // A synonym of the built-in list: DisMax (no engine) knows nothing of it.
    assert_eq!(name_set(&with_engine(&[q("multe")])), set(&["sanzioni"]));
    assert!(names(&search(&catalog, &[q("multe")], None).unwrap()).is_empty());

    // A typo: two letters swapped in a word of six.
    assert!(names(&with_engine(&[q("sculoe")])).contains(&"scuole".to_string()));
    assert!(names(&search(&catalog, &[q("sculoe")], None).unwrap()).is_empty());

    // Nothing matches: an empty page, not an error.
    let r = with_engine(&[q("astronavi")]);
    assert_eq!(r["count"], 0);
    assert!(names(&r).is_empty());
}

#[test]
fn fq_sort_rows_and_facets_apply_to_the_engine_matches() {
    let (catalog, engine) = (ckan(), engine());
    let matcher = |q: &str| engine.matching(q);
    let with_engine = |pairs: &[(&str, Value)]| search(&catalog, pairs, Some(&matcher)).unwrap();

    // fq keeps its exact Solr semantics: our organization, or the other one.
    assert_eq!(
        name_set(&with_engine(&[
            q("scuola"),
            ("fq", "organization:c_b648".into())
        ])),
        set(&["scuole"])
    );
    assert_eq!(
        name_set(&with_engine(&[
            q("scuola"),
            ("fq", "-organization:c_b648".into())
        ])),
        set(&[FED_NAME])
    );
    assert_eq!(
        name_set(&with_engine(&[q("scuola"), ("fq", "groups:educ".into())])),
        set(&["scuole", FED_NAME])
    );
    assert!(names(&with_engine(&[q("scuola"), ("fq", "groups:heal".into())])).is_empty());
    assert_eq!(
        names(&with_engine(&[q("farmacia"), ("fq", "groups:heal".into())])),
        ["farmacie"]
    );

    // Sorting by another field, and paging.
    let r = with_engine(&[q("scuola"), ("sort", "name asc".into())]);
    assert_eq!(names(&r), ["scuole", FED_NAME]);
    let r = with_engine(&[
        q("scuola"),
        ("sort", "name asc".into()),
        ("rows", "1".into()),
        ("start", "1".into()),
    ]);
    assert_eq!(names(&r), [FED_NAME]);
    assert_eq!(r["count"], 2);

    // Facets count the matches.
    let r = with_engine(&[q("scuola"), ("facet.field", "[\"organization\"]".into())]);
    assert_eq!(r["facets"]["organization"]["c_b648"], 1);
    assert_eq!(r["facets"]["organization"]["p_lu"], 1);
    assert_eq!(r["facets"]["organization"].as_object().unwrap().len(), 2);
}

#[test]
fn sort_by_score_follows_the_engine() {
    let catalog = ckan();
    // Scores chosen here; a key CKAN does not publish is ignored.
    let matcher = |_: &str| -> Result<Vec<(String, f32)>, SearchError> {
        Ok(vec![
            ("farmacie".into(), 3.0),
            ("scuole".into(), 9.5),
            ("fermate".into(), 0.25),
            (search_key(SOURCE, FED_KEY), 5.0),
            ("altrove/fedcba9876543210".into(), 100.0),
            ("no-such-dataset".into(), 50.0),
        ])
    };
    let r = search(
        &catalog,
        &[q("qualsiasi"), ("sort", "score desc".into())],
        Some(&matcher),
    )
    .unwrap();
    assert_eq!(names(&r), ["scuole", FED_NAME, "farmacie", "fermate"]);
    assert_eq!(r["count"], 4);
    // The default sort is by score too.
    let r = search(&catalog, &[q("qualsiasi")], Some(&matcher)).unwrap();
    assert_eq!(names(&r), ["scuole", FED_NAME, "farmacie", "fermate"]);
    let r = search(
        &catalog,
        &[q("qualsiasi"), ("sort", "score asc".into())],
        Some(&matcher),
    )
    .unwrap();
    assert_eq!(names(&r), ["fermate", "farmacie", FED_NAME, "scuole"]);
    // Equal scores: the next sort key decides.
    let equal = |_: &str| -> Result<Vec<(String, f32)>, SearchError> {
        Ok(vec![("farmacie".into(), 1.0), ("fermate".into(), 1.0)])
    };
    let r = search(
        &catalog,
        &[q("x"), ("sort", "score desc, metadata_modified asc".into())],
        Some(&equal),
    )
    .unwrap();
    // fermate was modified in 2023, farmacie in 2024.
    assert_eq!(names(&r), ["fermate", "farmacie"]);

    // With the real engine: CKAN's order is the engine's score order.
    let engine = engine();
    let matcher = |q: &str| engine.matching(q);
    let words = "scuole istruzione";
    let mut expected: Vec<(String, f32)> = engine
        .matching(words)
        .unwrap()
        .into_iter()
        .filter_map(|(key, score)| {
            let name = if key == search_key(SOURCE, FED_KEY) {
                FED_NAME.to_string()
            } else if OWN.iter().any(|d| d.0 == key) {
                key
            } else {
                return None;
            };
            Some((name, score))
        })
        .collect();
    assert!(expected.len() >= 2, "{expected:?}");
    expected.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    // The record with the words in its title and its description scores higher: an order
    // by score differs from the order by name.
    assert_eq!(expected[0].0, FED_NAME, "{expected:?}");
    assert!(expected[0].1 > expected[1].1, "{expected:?}");
    let r = search(
        &catalog,
        &[q(words), ("sort", "score desc, name asc".into())],
        Some(&matcher),
    )
    .unwrap();
    assert_eq!(
        names(&r),
        expected.into_iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
}

#[test]
fn field_syntax_and_match_all_stay_with_the_solr_evaluator() {
    let catalog = ckan();
    let calls = Cell::new(0);
    let counting = |_: &str| -> Result<Vec<(String, f32)>, SearchError> {
        calls.set(calls.get() + 1);
        Ok(vec![])
    };
    let r = search(&catalog, &[q("title:scuola")], Some(&counting)).unwrap();
    assert_eq!(name_set(&r), set(&["scuole", FED_NAME]));
    let r = search(&catalog, &[q("organization:p_lu")], Some(&counting)).unwrap();
    assert_eq!(names(&r), [FED_NAME]);
    for all in ["*:*", "", "*"] {
        let r = search(&catalog, &[q(all)], Some(&counting)).unwrap();
        assert_eq!(r["count"], 6, "{all:?}");
    }
    let r = search(&catalog, &[("fq", "tags:salute".into())], Some(&counting)).unwrap();
    assert_eq!(names(&r), ["farmacie"]);
    assert_eq!(calls.get(), 0, "the engine was asked");
    // Free text is.
    search(&catalog, &[q("farmacia")], Some(&counting)).unwrap();
    assert_eq!(calls.get(), 1);
}

#[test]
fn engine_errors_are_ckan_search_errors() {
    let catalog = ckan();
    let refusing = |_: &str| -> Result<Vec<(String, f32)>, SearchError> {
        Err(SearchError::BadRequest(
            "the query is longer than 500 characters".into(),
        ))
    };
    let e = search(&catalog, &[q("scuole")], Some(&refusing)).unwrap_err();
    assert_eq!(e.status(), 409);
    assert_eq!(e.type_name(), "Search Error");
    assert!(e.to_string().contains("longer than 500"), "{e}");

    let failing = |_: &str| -> Result<Vec<(String, f32)>, SearchError> {
        Err(SearchError::Io {
            path: "/srv/site/search/i1".into(),
            source: std::io::Error::other("disk gone"),
        })
    };
    let e = search(&catalog, &[q("scuole")], Some(&failing)).unwrap_err();
    assert_eq!(e.status(), 409);
    assert!(!e.to_string().contains("/srv/site"), "{e}");

    // A real engine refuses a query that is too long.
    let engine = engine();
    let matcher = |q: &str| engine.matching(q);
    let long = "scuole ".repeat(100);
    let e = search(&catalog, &[q(&long)], Some(&matcher)).unwrap_err();
    assert_eq!(e.status(), 409);
}

fn catalog_query(pairs: &[(&str, &str)]) -> CatalogQuery {
    CatalogQuery::from_pairs(pairs.iter().copied()).unwrap()
}

/// Ids of a DCAT page: own datasets, then `source/key` of the republished records.
fn page_ids(page: &dcat::Page<'_>) -> Vec<String> {
    page.datasets
        .iter()
        .map(|d| d.id.clone())
        .chain(page.federated.iter().map(|r| search_key(&r.source, &r.key)))
        .collect()
}

#[test]
fn dcat_catalogue_q_uses_the_engine_matches() {
    let (manifest, republished, engine) = (manifest(), republished(), engine());
    let matcher = |q: &str| engine.matching(q);
    let page = |pairs: &[(&str, &str)], with_engine: bool| {
        let query = catalog_query(pairs);
        let m: Option<FreeTextSearch<'_>> = if with_engine { Some(&matcher) } else { None };
        dcat::paginate_searched(&manifest.datasets, &republished, &query, m)
            .unwrap()
            .map(|p| (page_ids(&p), p.total))
    };
    let fed = search_key(SOURCE, FED_KEY);

    // The singular finds the plural; the substring match without an engine does not.
    assert_eq!(
        page(&[("q", "Scuola")], true),
        Some((vec!["scuole".to_string(), fed.clone()], 2))
    );
    assert_eq!(page(&[("q", "scuola")], false), Some((vec![], 0)));
    // Synonyms and typos.
    assert_eq!(
        page(&[("q", "multe")], true),
        Some((vec!["sanzioni".to_string()], 1))
    );
    assert!(
        page(&[("q", "sculoe")], true)
            .unwrap()
            .0
            .contains(&"scuole".to_string())
    );
    // modified_since still filters: the republished record is of 2025-01-15.
    assert_eq!(
        page(&[("q", "scuola"), ("modified_since", "2025-02-01")], true),
        Some((vec!["scuole".to_string()], 1))
    );
    assert_eq!(
        page(&[("q", "scuola"), ("modified_since", "2025-03-02")], true),
        Some((vec![], 0))
    );
    // Without q the engine is not needed: every dataset and record, in id order.
    assert_eq!(
        page(&[], true).unwrap().0,
        [
            "farmacie",
            "fermate",
            "rifiuti",
            "sanzioni",
            "scuole",
            fed.as_str()
        ]
    );
    // Past the last page.
    assert_eq!(page(&[("q", "scuola"), ("page", "2")], true), None);

    // The engine's errors are the caller's.
    let refusing = |_: &str| -> Result<Vec<(String, f32)>, SearchError> {
        Err(SearchError::BadRequest("too long".into()))
    };
    let query = catalog_query(&[("q", "scuole")]);
    let e = dcat::paginate_searched(&manifest.datasets, &republished, &query, Some(&refusing));
    assert!(matches!(e, Err(SearchError::BadRequest(_))));
}

#[test]
fn the_same_words_find_the_same_datasets_in_ckan_and_dcat() {
    let (manifest, republished, engine) = (manifest(), republished(), engine());
    let catalog = ckan();
    let matcher = |q: &str| engine.matching(q);
    for words in [
        "scuola", "multe", "farmacia", "autobus", "rifiuti", "sculoe",
    ] {
        let ckan: BTreeSet<String> = name_set(
            &search(
                &catalog,
                &[q(words), ("rows", "1000".into())],
                Some(&matcher),
            )
            .unwrap(),
        )
        .into_iter()
        .map(|n| {
            if n == FED_NAME {
                search_key(SOURCE, FED_KEY)
            } else {
                n
            }
        })
        .collect();
        let query = catalog_query(&[("q", words)]);
        let dcat: BTreeSet<String> =
            dcat::paginate_searched(&manifest.datasets, &republished, &query, Some(&matcher))
                .unwrap()
                .map(|p| page_ids(&p).into_iter().collect())
                .unwrap_or_default();
        assert_eq!(ckan, dcat, "{words}");
        assert!(!ckan.is_empty(), "{words}: nothing found");
    }
}
