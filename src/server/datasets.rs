//! `GET/HEAD /datasets/{id}.json`: one dataset with everything the manifest knows about
//! it. (`/datasets.json`, the catalogue search, is [`super::search`].)
//!
//! The JSON shapes here are a public contract: change them additively. The views borrow
//! from the manifest and leave out build internals (distribution paths on disk, the build
//! cache key); every URL comes from [`super::urls::Urls`].
//!
//! `/datasets/{id}.json` also carries the dataset's MQA-style quality score
//! (`quality_score`, [`crate::catalog::quality`], with the downloads checked on disk) and
//! its schema.org `Dataset` JSON-LD (`schema_org`, [`crate::catalog::schema_org`]).
//!
//! Pitfall: axum allows one parameter per path segment, so `/datasets/{id}.json` cannot be
//! a route: `/datasets/{file}` is captured and the extension is stripped here. `.json` is
//! answered here, `.ttl`, `.rdf` and `.jsonld` by [`super::dcat`]. The bare
//! `/datasets/{id}` (the datasets' `dcat:accessURL` and landing page) is the HTML page
//! ([`super::dataset_page`]) for browsers, for `*/*` and without `Accept`; a client that
//! prefers JSON or an RDF syntax gets 303 See Other to that twin
//! ([`super::dataset_page::negotiate`]). An unknown id is a 404 page for a client naming
//! `text/html` in `Accept`, the JSON error otherwise.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Current;
use super::dataset_page::{self, Wanted};
use super::error::ApiError;
use super::state::Generation;
use super::urls::Urls;
use crate::catalog::dcat::Context;
use crate::catalog::quality::{self, FileState, QualityScore, Served};
use crate::catalog::{CatalogUris, RdfSyntax, schema_org};
use crate::model::{Dataset, DatasetMeta, Distribution, Extent, Field, Layer, QualityReport};

#[derive(Serialize)]
struct DatasetView<'a> {
    id: &'a str,
    meta: &'a DatasetMeta,
    fields: &'a [Field],
    rows: u64,
    extent: &'a Extent,
    #[serde(skip_serializing_if = "Option::is_none")]
    layer: Option<&'a Layer>,
    modified: &'a str,
    distributions: Vec<DistributionView<'a>>,
    quality: &'a QualityReport,
    quality_score: QualityScore,
    schema_org: serde_json::Value,
    links: Vec<Link>,
}

#[derive(Serialize)]
struct DistributionView<'a> {
    file: &'a str,
    format: &'a str,
    media_type: &'a str,
    byte_size: u64,
    rows: u64,
    url: String,
    checksum: Checksum<'a>,
}

/// `spdx:checksum` in JSON form.
#[derive(Serialize)]
struct Checksum<'a> {
    algorithm: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct Link {
    rel: &'static str,
    href: String,
    #[serde(rename = "type")]
    media_type: &'static str,
}

fn distribution_view<'a>(urls: &Urls, id: &str, d: &'a Distribution) -> DistributionView<'a> {
    DistributionView {
        file: &d.file,
        format: &d.format,
        media_type: &d.media_type,
        byte_size: d.byte_size,
        rows: d.rows,
        url: urls.file(id, &d.file),
        checksum: Checksum {
            algorithm: "SHA-256",
            value: &d.sha256,
        },
    }
}

/// A dataset's links: itself, its page, and for layers the services that serve it.
fn dataset_links(urls: &Urls, d: &crate::model::Dataset, page: &str) -> Vec<Link> {
    let id = d.id.as_str();
    let mut links = vec![
        Link {
            rel: "self",
            href: urls.dataset_json(id),
            media_type: "application/json",
        },
        Link {
            rel: "alternate",
            href: page.to_string(),
            media_type: "text/html",
        },
    ];
    let uris = CatalogUris::new(urls);
    for syntax in RdfSyntax::ALL {
        links.push(Link {
            rel: "alternate",
            href: uris.dataset_document(id, syntax),
            media_type: syntax.media_type(),
        });
    }
    if d.layer.is_some() {
        links.push(Link {
            rel: "ogc-features",
            href: urls.ogc(&format!("/collections/{id}")),
            media_type: "application/json",
        });
    }
    if d.tiles.is_some() {
        links.push(Link {
            rel: "tilejson",
            href: urls.tilejson(id),
            media_type: "application/json",
        });
        links.push(Link {
            rel: "pmtiles",
            href: urls.pmtiles(id),
            media_type: crate::tiles::PMTILES_MEDIA_TYPE,
        });
        links.push(Link {
            rel: "style",
            href: urls.style(id),
            media_type: "application/json",
        });
    }
    links
}

/// What the generation holds for each of a dataset's downloads.
async fn file_states(generation: &Generation, d: &Dataset) -> Vec<FileState> {
    let mut states = Vec::with_capacity(d.distributions.len());
    for x in &d.distributions {
        let state = match tokio::fs::metadata(generation.file_path(x)).await {
            Ok(m) if m.is_file() && m.len() == x.byte_size => FileState::Present,
            Ok(m) if m.is_file() => FileState::WrongSize { on_disk: m.len() },
            _ => FileState::Missing,
        };
        states.push(state);
    }
    states
}

/// `/datasets/{id}.json`, `.ttl`, `.rdf`, `.jsonld`: one dataset; `/datasets/{id}`: its
/// page, or 303 to the twin `Accept` prefers.
pub async fn one(
    Current(generation): Current,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(segment)) = path else {
        return Err(ApiError::not_found("no such dataset"));
    };
    if let Some((id, extension)) = segment.rsplit_once('.')
        && let Some(syntax) = RdfSyntax::from_extension(extension)
    {
        return super::dcat::dataset_document(generation, id.to_string(), syntax).await;
    }
    let query: Vec<(String, String)> = query.map(|Query(q)| q).unwrap_or_default();
    if let Some(d) = generation.dataset(&segment) {
        let urls = generation.urls();
        let target = match dataset_page::negotiate(&headers) {
            Wanted::Html => {
                let served = Served {
                    page_answers: true,
                    files: file_states(&generation, d).await,
                };
                return Ok(dataset_page::page(&generation, d, &query, served).await);
            }
            Wanted::Rdf(syntax) => CatalogUris::new(urls).dataset_document(&segment, syntax),
            Wanted::Json => urls.dataset_json(&segment),
        };
        let mut response = super::dcat::see_other(&target)?;
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Accept"));
        return Ok(response);
    }
    let Some(id) = segment.strip_suffix(".json") else {
        if dataset_page::accepts_html(&headers) {
            return Ok(dataset_page::not_found_page(&generation, &query, &segment));
        }
        return Err(ApiError::not_found(format!(
            "no representation {segment:?}: add .json, .ttl, .rdf or .jsonld to a dataset id"
        )));
    };
    let Some(d) = generation.dataset(id) else {
        return Err(ApiError::not_found(format!("no dataset with id {id:?}")));
    };
    let urls = generation.urls();
    let page = urls.dataset_page(id);
    let ctx = Context::new(&generation.manifest().catalog, CatalogUris::new(urls));
    let served = Served {
        // This handler answers the dataset page (the accessURL) for every id it knows.
        page_answers: true,
        files: file_states(&generation, d).await,
    };
    let view = DatasetView {
        id: &d.id,
        meta: &d.meta,
        fields: &d.fields,
        rows: d.rows,
        extent: &d.extent,
        layer: d.layer.as_ref(),
        modified: &d.modified,
        distributions: d
            .distributions
            .iter()
            .map(|x| distribution_view(urls, id, x))
            .collect(),
        quality: &d.quality,
        quality_score: quality::score(&ctx, d, &served),
        schema_org: schema_org::dataset(&ctx, d),
        links: dataset_links(urls, d, &page),
    };
    let mut response = Json(view).into_response();
    let link = format!("<{page}>; rel=\"alternate\"; type=\"text/html\"");
    let link = HeaderValue::from_str(&link)
        .map_err(|e| ApiError::internal(format!("Link header {link:?}: {e}")))?;
    response.headers_mut().insert(header::LINK, link);
    Ok(response)
}
