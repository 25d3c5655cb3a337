//! `GET /about`: "the data and the APIs", the page that tells citizens where the data come
//! from and under which licence, and developers which machine interfaces the portal offers,
//! with working example URLs taken from the current generation (a real dataset id, a real
//! layer) so that every example can be clicked.
//!
//! The prose lives in `static/templates/about.html` in Italian and English; this module
//! gathers the facts: the publisher and contact point, the default licence, how many
//! datasets and layers are published, the harvest sources whose records the catalogue
//! shows (from the search index's `origin` facet), and the example URLs (all from
//! [`super::urls::Urls`], so they honour `--public-url`).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::pages::{Frame, Section, Texts, html, lang_pairs, texts_of};
use super::search::with_query as link;
use super::{AppState, Current};
use crate::search::{Facet, SearchRequest};
use crate::vocab;

/// One machine interface with an example URL.
pub struct Api {
    pub name: &'static str,
    pub what: &'static str,
    pub example: String,
}

/// A harvested portal and how many of its records the catalogue shows.
pub struct Source {
    pub name: String,
    pub records: u64,
}

#[derive(Template)]
#[template(path = "about.html")]
pub struct AboutPage {
    pub t: &'static Texts,
    pub frame: Frame,
    pub en: bool,
    pub publisher: String,
    pub contact_name: String,
    pub contact_email: String,
    pub licence_label: String,
    pub licence_uri: String,
    pub datasets: usize,
    pub layers: usize,
    pub built_at: String,
    pub apis: Vec<Api>,
    pub sources: Vec<Source>,
    pub harvest_report: String,
    pub search_url: String,
}

/// The handler.
pub async fn about(
    State(state): State<AppState>,
    Current(generation): Current,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let query: Vec<(String, String)> = query.map(|Query(q)| q).unwrap_or_default();
    let t = texts_of(&query);
    let en = t.lang == "en";
    let urls = generation.urls();
    let manifest = generation.manifest();
    let catalog = &manifest.catalog;
    let other_lang_url = if en {
        urls.absolute("/about")
    } else {
        link(&urls.absolute("/about"), &[("lang".into(), "en".into())])
    };
    let licence = vocab::license(&catalog.default_license);
    let (licence_label, licence_uri) = match licence {
        Some(l) => (
            if en { l.label_en } else { l.label_it }.to_string(),
            l.uri(),
        ),
        None => (catalog.default_license.clone(), String::new()),
    };
    let dataset = manifest.datasets.first().map(|d| d.id.as_str());
    let layer = manifest
        .datasets
        .iter()
        .find(|d| d.tiles.is_some())
        .map(|d| d.id.as_str());
    let table_file = manifest
        .datasets
        .first()
        .and_then(|d| d.distributions.first().map(|f| (d.id.as_str(), f)));

    let mut apis = vec![Api {
        name: if en { "Search" } else { "Ricerca" },
        what: if en {
            "the catalogue search as JSON: q, facet filters, bbox, page"
        } else {
            "la ricerca nel catalogo in JSON: q, filtri, bbox, pagine"
        },
        example: link(
            &urls.datasets_json(),
            &[("q".into(), if en { "school" } else { "scuole" }.into())],
        ),
    }];
    if let Some(id) = dataset {
        apis.push(Api {
            name: "Dataset",
            what: if en {
                "everything known about one dataset, as JSON"
            } else {
                "tutto ciò che si sa di un dataset, in JSON"
            },
            example: urls.dataset_json(id),
        });
    }
    if let Some((id, f)) = table_file {
        apis.push(Api {
            name: if en { "Downloads" } else { "Download" },
            what: if en {
                "the files, with ETag, SHA-256 checksums and byte ranges"
            } else {
                "i file, con ETag, checksum SHA-256 e richieste parziali (Range)"
            },
            example: urls.file(id, &f.file),
        });
    }
    apis.push(Api {
        name: "DCAT-AP_IT",
        what: if en {
            "the catalogue for harvesters (dati.gov.it, regional portals): Turtle, RDF/XML, JSON-LD, paged"
        } else {
            "il catalogo per gli harvester (dati.gov.it, portali regionali): Turtle, RDF/XML, JSON-LD, a pagine"
        },
        example: urls.absolute("/catalog.ttl"),
    });
    apis.push(Api {
        name: "CKAN API",
        what: if en {
            "the read-only part of CKAN's Action API (package_search, package_show, ...)"
        } else {
            "la parte in sola lettura della Action API di CKAN (package_search, package_show, ...)"
        },
        example: link(
            &urls.absolute("/api/3/action/package_search"),
            &[("rows".into(), "5".into())],
        ),
    });
    apis.push(Api {
        name: "OGC API – Features",
        what: if en {
            "the layers' features for GIS clients (QGIS, GDAL, ArcGIS), GeoJSON, CQL2 filters"
        } else {
            "gli elementi dei livelli per i GIS (QGIS, GDAL, ArcGIS), GeoJSON, filtri CQL2"
        },
        example: urls.ogc(""),
    });
    if let Some(l) = layer {
        apis.push(Api {
            name: if en {
                "Vector tiles"
            } else {
                "Tile vettoriali"
            },
            what: if en {
                "Mapbox Vector Tiles (TileJSON 3.0.0), the PMTiles archive and a MapLibre style"
            } else {
                "tile vettoriali Mapbox (TileJSON 3.0.0), l'archivio PMTiles e uno stile MapLibre"
            },
            example: urls.tilejson(l),
        });
    }
    apis.push(Api {
        name: "Sitemap",
        what: if en {
            "every page, for search engines"
        } else {
            "tutte le pagine, per i motori di ricerca"
        },
        example: urls.absolute("/sitemap.xml"),
    });

    // The harvest sources, as the search index counts them.
    let sources = state
        .search()
        .and_then(|engine| {
            engine
                .search(&SearchRequest {
                    limit: 0,
                    highlight: false,
                    ..Default::default()
                })
                .ok()
        })
        .map(|found| {
            found
                .facets
                .iter()
                .filter(|(f, _)| *f == Facet::Origin)
                .flat_map(|(_, v)| v.iter())
                .filter(|c| c.value != "local")
                .map(|c| Source {
                    name: c.value.clone(),
                    records: c.count,
                })
                .collect()
        })
        .unwrap_or_default();

    let page = AboutPage {
        t,
        frame: Frame::new(&generation, t, Section::About, other_lang_url),
        en,
        publisher: catalog.publisher.name.clone(),
        contact_name: catalog.contact_point.name.clone(),
        contact_email: catalog.contact_point.email.clone(),
        licence_label,
        licence_uri,
        datasets: manifest.datasets.len(),
        layers: manifest
            .datasets
            .iter()
            .filter(|d| d.tiles.is_some())
            .count(),
        built_at: manifest
            .built_at
            .chars()
            .take(16)
            .collect::<String>()
            .replace('T', " "),
        apis,
        sources,
        harvest_report: urls.absolute("/-/harvest"),
        search_url: link(&urls.absolute("/datasets"), &lang_pairs(t)),
    };
    html(StatusCode::OK, page.render())
}
