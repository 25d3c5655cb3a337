//! The DCAT-AP_IT catalogue over HTTP: `GET/HEAD /catalog.ttl`, `/catalog.rdf`,
//! `/catalog.jsonld` (hydra-paged, `page`, `modified_since`, `q`) and the per-dataset twins
//! `/datasets/{id}.ttl|.rdf|.jsonld` (dispatched here by [`super::datasets::one`]).
//!
//! Handlers parse the request and hand the work to [`crate::catalog::dcat`] on the
//! blocking pool (a page of 100 datasets is a few thousand triples to build and write).
//! Content types are exactly `text/turtle`, `application/rdf+xml` and
//! `application/ld+json`; HEAD is answered by axum's `get` routing (same headers, no body).
//!
//! Errors: a bad `page` (`0`, junk) or `modified_since` is a 400, a page past the last one
//! a 404; a record that cannot be written is a 500 for the whole document, never a page
//! with the dataset silently left out (harvesters delete what a crawl does not return).

use axum::Router;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};

use super::Current;
use super::error::ApiError;
use super::state::{AppState, Generation};
use crate::catalog::dcat::{self, CatalogQuery, Context};
use crate::catalog::{CatalogUris, RdfSyntax};

/// The catalogue routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalog.ttl", get(catalog_turtle))
        .route("/catalog.rdf", get(catalog_rdf_xml))
        .route("/catalog.jsonld", get(catalog_json_ld))
}

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

async fn catalog_turtle(current: Current, query: Pairs) -> Result<Response, ApiError> {
    catalog(current, query, RdfSyntax::Turtle).await
}

async fn catalog_rdf_xml(current: Current, query: Pairs) -> Result<Response, ApiError> {
    catalog(current, query, RdfSyntax::RdfXml).await
}

async fn catalog_json_ld(current: Current, query: Pairs) -> Result<Response, ApiError> {
    catalog(current, query, RdfSyntax::JsonLd).await
}

/// The latest `modified` of the generation's datasets, else when it was built: the
/// catalogue's `dct:modified`.
fn catalogue_modified(generation: &Generation) -> String {
    generation
        .datasets()
        .iter()
        .filter_map(|d| DateTime::parse_from_rfc3339(&d.modified).ok())
        .map(|t| t.with_timezone(&Utc))
        .max()
        .unwrap_or_else(|| generation.built_at())
        .to_rfc3339()
}

fn rdf_response(bytes: Vec<u8>, syntax: RdfSyntax) -> Response {
    let mut response = bytes.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(syntax.media_type()),
    );
    response
}

async fn catalog(
    Current(generation): Current,
    query: Pairs,
    syntax: RdfSyntax,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the query string cannot be read: {e}"),
        )
    })?;
    let query = CatalogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let bytes = tokio::task::spawn_blocking(move || {
        let g = &generation;
        let page = dcat::paginate(g.datasets(), &query).ok_or_else(|| {
            ApiError::not_found(format!(
                "page {} is past the last page of the catalogue",
                query.page
            ))
        })?;
        let ctx = Context::new(&g.manifest().catalog, CatalogUris::new(g.urls()));
        let graph = dcat::catalog_page_graph(&ctx, &catalogue_modified(g), &page, &query, syntax)
            .map_err(ApiError::internal)?;
        dcat::serialize(&graph, syntax).map_err(ApiError::internal)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the catalogue task failed: {e}")))??;
    Ok(rdf_response(bytes, syntax))
}

/// `/datasets/{id}.{ttl,rdf,jsonld}`: the dataset's triples, as in the catalogue.
pub async fn dataset_document(
    generation: std::sync::Arc<Generation>,
    id: String,
    syntax: RdfSyntax,
) -> Result<Response, ApiError> {
    if generation.dataset(&id).is_none() {
        return Err(ApiError::not_found(format!("no dataset with id {id:?}")));
    }
    let bytes = tokio::task::spawn_blocking(move || {
        let g = &generation;
        let d = g
            .dataset(&id)
            .ok_or_else(|| ApiError::not_found(format!("no dataset with id {id:?}")))?;
        let ctx = Context::new(&g.manifest().catalog, CatalogUris::new(g.urls()));
        let graph = dcat::dataset_graph(&ctx, d).map_err(ApiError::internal)?;
        dcat::serialize(&graph, syntax).map_err(ApiError::internal)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the dataset task failed: {e}")))??;
    Ok(rdf_response(bytes, syntax))
}
