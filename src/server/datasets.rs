//! `GET/HEAD /datasets.json` (the catalogue listing) and `GET/HEAD /datasets/{id}.json`
//! (one dataset with everything the manifest knows about it).
//!
//! The JSON shapes here are a public contract: change them additively. The views borrow
//! from the manifest and leave out build internals (distribution paths on disk, the build
//! cache key); every URL comes from [`super::urls::Urls`].
//!
//! Pitfall: axum allows one parameter per path segment, so `/datasets/{id}.json` cannot be
//! a route: `/datasets/{file}` is captured and the extension is stripped here. Only
//! `.json` is known for now; other extensions (`.ttl`, `.rdf`, `.jsonld`) and the bare
//! `/datasets/{id}` HTML page answer 404 until they are implemented.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Current;
use super::error::ApiError;
use super::urls::Urls;
use crate::model::{
    Dataset, DatasetMeta, Distribution, Extent, Field, GeometryType, Layer, QualityReport,
};

#[derive(Serialize)]
struct Listing<'a> {
    count: usize,
    datasets: Vec<Summary<'a>>,
}

#[derive(Serialize)]
struct Summary<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    themes: &'a [String],
    keywords: &'a [String],
    modified: &'a str,
    rows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    geometry_type: Option<GeometryType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bbox: Option<[f64; 4]>,
    url: String,
    distributions: Vec<DistributionSummary<'a>>,
}

#[derive(Serialize)]
struct DistributionSummary<'a> {
    format: &'a str,
    media_type: &'a str,
    url: String,
    byte_size: u64,
}

/// `/datasets.json`: every dataset of the generation, ordered by id.
pub async fn list(Current(generation): Current) -> Response {
    let urls = generation.urls();
    let datasets: Vec<Summary<'_>> = generation
        .datasets()
        .iter()
        .map(|d| summary(urls, d))
        .collect();
    Json(Listing {
        count: datasets.len(),
        datasets,
    })
    .into_response()
}

fn summary<'a>(urls: &Urls, d: &'a Dataset) -> Summary<'a> {
    Summary {
        id: &d.id,
        title: &d.meta.title,
        description: &d.meta.description,
        themes: &d.meta.themes,
        keywords: &d.meta.keywords,
        modified: &d.modified,
        rows: d.rows,
        geometry_type: d.layer.as_ref().map(|l| l.geometry_type),
        bbox: d.extent.bbox,
        url: urls.dataset_json(&d.id),
        distributions: d
            .distributions
            .iter()
            .map(|x| DistributionSummary {
                format: &x.format,
                media_type: &x.media_type,
                url: urls.file(&d.id, &x.file),
                byte_size: x.byte_size,
            })
            .collect(),
    }
}

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

/// `/datasets/{id}.json`: one dataset.
pub async fn one(
    Current(generation): Current,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(segment)) = path else {
        return Err(ApiError::not_found("no such dataset"));
    };
    let Some(id) = segment.strip_suffix(".json") else {
        return Err(ApiError::not_found(format!(
            "no representation {segment:?}: add .json to a dataset id"
        )));
    };
    let Some(d) = generation.dataset(id) else {
        return Err(ApiError::not_found(format!("no dataset with id {id:?}")));
    };
    let urls = generation.urls();
    let page = urls.dataset_page(id);
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
        links: dataset_links(urls, d, &page),
    };
    let mut response = Json(view).into_response();
    let link = format!("<{page}>; rel=\"alternate\"; type=\"text/html\"");
    let link = HeaderValue::from_str(&link)
        .map_err(|e| ApiError::internal(format!("Link header {link:?}: {e}")))?;
    response.headers_mut().insert(header::LINK, link);
    Ok(response)
}
