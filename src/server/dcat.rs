//! The DCAT-AP_IT catalogue over HTTP: `GET/HEAD /catalog.ttl`, `/catalog.rdf`,
//! `/catalog.jsonld` (hydra-paged, `page`, `modified_since`, `q`) and the per-dataset twins
//! `/datasets/{id}.ttl|.rdf|.jsonld` (dispatched here by [`super::datasets::one`]). The
//! catalogue's URI, `/catalog`, answers 303 See Other to the document in the syntax the
//! `Accept` header prefers (Turtle by default), so that the URI dereferences.
//!
//! Handlers parse the request and hand the work to [`crate::catalog::dcat`] on the
//! blocking pool (a page of 100 datasets is a few thousand triples to build and write).
//! Content types are exactly `text/turtle`, `application/rdf+xml` and
//! `application/ld+json`; HEAD is answered by axum's `get` routing (same headers, no body).
//!
//! The catalogue's `q` is matched by the site's search engine ([`AppState::search`]),
//! else (a site without an index) as a substring ([`dcat::paginate_searched`]); a `q` the
//! engine refuses (too long) is a 400.
//!
//! The catalogue pages also hold the harvested records of the sources marked
//! `republish = true` ([`crate::catalog::federated`], read through
//! [`super::federated::RepublishedCache`]), after our own datasets; they have no twin here.
//!
//! Errors: a bad `page` (`0`, junk) or `modified_since` is a 400, a page past the last one
//! a 404; a record that cannot be written is a 500 for the whole document, never a page
//! with the dataset silently left out (harvesters delete what a crawl does not return).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::Current;
use super::error::ApiError;
use super::federated::RepublishedCache;
use super::state::{AppState, Generation};
use crate::catalog::dcat::{self, CatalogQuery, Context};
use crate::catalog::federated::Republished;
use crate::catalog::{CatalogUris, FreeTextSearch, RdfSyntax};
use crate::search::SearchError;

/// The catalogue routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/catalog", get(catalog_resource))
        .route("/catalog.ttl", get(catalog_turtle))
        .route("/catalog.rdf", get(catalog_rdf_xml))
        .route("/catalog.jsonld", get(catalog_json_ld))
        .layer(Extension(Arc::new(RepublishedCache::default())))
}

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The RDF syntax an `Accept` header prefers (highest `q`, the first listed on a tie), or
/// `None` when it names none of the three.
pub fn preferred_syntax(headers: &HeaderMap) -> Option<RdfSyntax> {
    let accept = headers.get(header::ACCEPT)?.to_str().ok()?;
    let mut best: Option<(f32, RdfSyntax)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let Some(syntax) = RdfSyntax::ALL
            .into_iter()
            .find(|s| s.media_type() == media_type)
        else {
            continue;
        };
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, syntax));
        }
    }
    best.map(|(_, s)| s)
}

/// 303 See Other to `target`.
pub fn see_other(target: &str) -> Result<Response, ApiError> {
    let location = HeaderValue::from_str(target)
        .map_err(|e| ApiError::internal(format!("Location header {target:?}: {e}")))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// `/catalog`, the catalogue's URI: 303 to `/catalog.{ttl,rdf,jsonld}`.
async fn catalog_resource(
    Current(generation): Current,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let syntax = preferred_syntax(&headers).unwrap_or(RdfSyntax::Turtle);
    see_other(&CatalogUris::new(generation.urls()).catalog_document(syntax))
}

async fn catalog_turtle(
    current: Current,
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<RepublishedCache>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    catalog(current, state, cache, query, RdfSyntax::Turtle).await
}

async fn catalog_rdf_xml(
    current: Current,
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<RepublishedCache>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    catalog(current, state, cache, query, RdfSyntax::RdfXml).await
}

async fn catalog_json_ld(
    current: Current,
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<RepublishedCache>>,
    query: Pairs,
) -> Result<Response, ApiError> {
    catalog(current, state, cache, query, RdfSyntax::JsonLd).await
}

/// The latest `modified` of the generation's datasets and of the republished records,
/// else when the generation was built: the catalogue's `dct:modified`.
fn catalogue_modified(generation: &Generation, republished: &Republished) -> String {
    generation
        .datasets_modified()
        .into_iter()
        .chain(republished.records.iter().map(|r| r.modified_at))
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
    state: AppState,
    cache: Arc<RepublishedCache>,
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
    let engine = state.search();
    let bytes = tokio::task::spawn_blocking(move || {
        let g = &generation;
        let republished = cache
            .get(state.site_dir(), g.urls().base())
            .map_err(|e| ApiError::internal(format!("the harvested records: {e}")))?;
        let matching = engine.as_deref().map(|e| move |q: &str| e.matching(q));
        let search = matching.as_ref().map(|m| m as FreeTextSearch<'_>);
        let page = dcat::paginate_searched(g.datasets(), &republished, &query, search)
            .map_err(|e| match e {
                SearchError::BadRequest(message) => ApiError::new(StatusCode::BAD_REQUEST, message),
                other => ApiError::internal(format!("the search index: {other}")),
            })?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "page {} is past the last page of the catalogue",
                    query.page
                ))
            })?;
        let ctx = Context::new(&g.manifest().catalog, CatalogUris::new(g.urls()));
        let modified = catalogue_modified(g, &republished);
        let graph = dcat::catalog_page_graph(&ctx, &modified, &page, &query, syntax)
            .map_err(ApiError::internal)?;
        dcat::serialize(graph.iter(), syntax).map_err(ApiError::internal)
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
        dcat::serialize(graph.iter(), syntax).map_err(ApiError::internal)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the dataset task failed: {e}")))??;
    Ok(rdf_response(bytes, syntax))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<RdfSyntax> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        preferred_syntax(&headers)
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(accept("text/turtle"), Some(RdfSyntax::Turtle));
        assert_eq!(
            accept("text/html, application/rdf+xml;q=0.9, text/turtle;q=0.5"),
            Some(RdfSyntax::RdfXml)
        );
        assert_eq!(
            accept("application/ld+json, application/rdf+xml"),
            Some(RdfSyntax::JsonLd)
        );
        assert_eq!(accept("text/turtle;q=0, application/json"), None);
        assert_eq!(accept("text/html,*/*"), None);
        assert_eq!(preferred_syntax(&HeaderMap::new()), None);
    }
}
