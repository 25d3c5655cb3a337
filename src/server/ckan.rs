//! `GET/POST /api/3/action/{action}` and `/api/action/{action}` (the CKAN Action API v3
//! subset of [`crate::catalog::ckan`]), `GET /api/3` (`{"version": 3}`), and
//! `GET /dataset/{name or id}`: CKAN's dataset page, which harvesters link to as the
//! "original" of what they copied (ckanext-harvest's `get_original_url`), redirected
//! (301) to Portale's own dataset page.
//!
//! Parameters are read as CKAN reads them: a form body (a single `{json}=1` key is the
//! old clients' JSON-in-a-form), else the query string, else a JSON object body; repeated
//! query parameters become lists. Answers are `application/json;charset=utf-8` with CKAN's
//! envelope and status codes.
//!
//! The catalogue's dicts are built once per generation, on the first API request that
//! needs them (on a blocking thread: 10,000 datasets take a moment), and kept in a cache
//! owned by this router; a request pinned to another generation rebuilds it, and so does
//! a change of the harvested records republished with our own datasets
//! ([`super::federated::RepublishedCache`], checked on every request). The cache only
//! holds data derived from the immutable generation and the federation store, so
//! replicas stay stateless. `/dataset/{name}` of a republished record sends the browser
//! (302) to the dataset at its origin.
//!
//! `package_search`'s free-text `q` is matched by the site's search engine
//! ([`AppState::search`], the index served beside the generation), so that it finds what
//! `/datasets.json` finds; a site without an index gets CKAN's DisMax evaluation
//! ([`crate::catalog::ckan::query`]). The engine is asked on the request's thread: a
//! `matching` call is a few milliseconds of CPU at most.

use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::federated::RepublishedCache;
use super::{AppState, Current, Generation};
use crate::catalog::FreeTextSearch;
use crate::catalog::ckan::CkanCatalog;
use crate::catalog::ckan::actions::{self, CkanError, Params};
use crate::catalog::federated::Republished;

/// The media type of every answer, as CKAN writes it.
pub const CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// The routes; merge them into the app router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/3", get(api_version))
        .route("/api/3/", get(api_version))
        .route("/api/3/action/{action}", get(action).post(action))
        .route("/api/action/{action}", get(action).post(action))
        .route("/dataset/{id}", get(dataset_page))
        .layer(Extension(Arc::new(CkanCache::default())))
}

/// The catalogue built for the generation (and republished records) last asked for.
#[derive(Default)]
pub struct CkanCache {
    current: ArcSwapOption<Cached>,
    /// Serialises builds so that concurrent first requests build once.
    building: Mutex<()>,
    republished: RepublishedCache,
}

struct Cached {
    generation: Arc<Generation>,
    republished: Arc<Republished>,
    catalog: CkanCatalog,
}

impl CkanCache {
    fn cached(
        &self,
        generation: &Arc<Generation>,
        republished: &Arc<Republished>,
    ) -> Option<Arc<Cached>> {
        self.current.load_full().filter(|c| {
            Arc::ptr_eq(&c.generation, generation) && Arc::ptr_eq(&c.republished, republished)
        })
    }

    /// The catalogue of `generation` and of the records the site at `site` republishes,
    /// built if needed (blocking).
    fn get_or_build(
        &self,
        generation: &Arc<Generation>,
        site: &std::path::Path,
    ) -> Result<Arc<Cached>, crate::federation::StoreError> {
        let republished = self.republished.get(site, generation.urls().base())?;
        if let Some(c) = self.cached(generation, &republished) {
            return Ok(c);
        }
        let _guard = self.building.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = self.cached(generation, &republished) {
            return Ok(c);
        }
        let started = std::time::Instant::now();
        let catalog =
            CkanCatalog::with_republished(generation.manifest(), generation.urls(), &republished);
        tracing::info!(
            generation = %generation.name(),
            packages = catalog.packages.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "built the CKAN API catalogue"
        );
        let cached = Arc::new(Cached {
            generation: generation.clone(),
            republished,
            catalog,
        });
        self.current.store(Some(cached.clone()));
        Ok(cached)
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// `GET /api/3`.
pub async fn api_version() -> Response {
    json_response(StatusCode::OK, "{\"version\":3}".to_string())
}

/// Groups `(key, value)` pairs as CKAN's `mixed()` does: one value stays a string,
/// several become a list.
fn mixed(pairs: Vec<(String, String)>) -> Params {
    let mut out = Map::new();
    for (key, value) in pairs {
        match out.get_mut(&key) {
            None => {
                out.insert(key, Value::String(value));
            }
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value)]);
            }
        }
    }
    out
}

fn json_object(bytes: &[u8]) -> Result<Params, CkanError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| CkanError::BadRequest(format!("JSON Error: Error decoding JSON data: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(CkanError::BadRequest(format!(
            "JSON Error: Request data JSON decoded to {} but it needs to be a dictionary.",
            truncate(&other.to_string(), 100)
        ))),
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

async fn params(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Params, CkanError> {
    let query: Vec<(String, String)> = match uri.query() {
        Some(q) if !q.is_empty() => Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|Query(pairs)| pairs)
            .map_err(|e| CkanError::BadRequest(format!("cannot read the query string: {e}")))?,
        _ => Vec::new(),
    };
    if method != Method::POST {
        return Ok(mixed(query));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") && !body.is_empty() {
        let request = Request::builder()
            .method(Method::POST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .map_err(|e| CkanError::BadRequest(format!("cannot read the form: {e}")))?;
        let Form(pairs): Form<Vec<(String, String)>> = Form::from_request(request, &())
            .await
            .map_err(|e| CkanError::BadRequest(format!("cannot read the form: {e}")))?;
        // Old clients post the JSON object as the only key of a form.
        if let [(key, value)] = pairs.as_slice()
            && (value.is_empty() || value == "1")
            && key.trim_start().starts_with('{')
        {
            return json_object(key.as_bytes());
        }
        return Ok(mixed(pairs));
    }
    if !query.is_empty() {
        return Ok(mixed(query));
    }
    if body.iter().all(u8::is_ascii_whitespace) || content_type.starts_with("multipart/form-data") {
        return Ok(Map::new());
    }
    json_object(&body)
}

/// The catalogue of `generation`, from the cache or built, on a blocking thread (the
/// federation store is checked on every call).
async fn catalogue(
    cache: &Arc<CkanCache>,
    generation: &Arc<Generation>,
    state: &AppState,
) -> Result<Arc<Cached>, ()> {
    let (cache, generation, state) = (cache.clone(), generation.clone(), state.clone());
    match tokio::task::spawn_blocking(move || cache.get_or_build(&generation, state.site_dir()))
        .await
    {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => {
            tracing::error!("cannot read the harvested records to republish: {e}");
            Err(())
        }
        Err(e) => {
            tracing::error!("building the CKAN catalogue failed: {e}");
            Err(())
        }
    }
}

/// `GET /dataset/{name or id}`: 301 to the dataset's page.
pub async fn dataset_page(
    Current(generation): Current,
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<CkanCache>>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(key)) = path else {
        return Err(ApiError::not_found("no such dataset"));
    };
    let cached = catalogue(&cache, &generation, &state)
        .await
        .map_err(|()| ApiError::internal("the CKAN catalogue could not be built"))?;
    let Some(package) = cached.catalog.package(&key) else {
        return Err(ApiError::not_found("no dataset with this name or id"));
    };
    let (status, url) = match &package.origin {
        Some(origin) => (StatusCode::FOUND, origin.clone()),
        None => (
            StatusCode::MOVED_PERMANENTLY,
            generation.urls().dataset_page(&package.name),
        ),
    };
    let location = HeaderValue::from_str(&url)
        .map_err(|e| ApiError::internal(format!("Location {url:?}: {e}")))?;
    Ok((status, [(header::LOCATION, location)]).into_response())
}

/// `GET/POST /api/3/action/{action}` and `/api/action/{action}`.
#[allow(clippy::too_many_arguments)]
pub async fn action(
    Current(generation): Current,
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<CkanCache>>,
    path: Result<Path<String>, PathRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = path.map(|Path(a)| a).unwrap_or_default();
    let base = generation.urls().base().to_string();
    let help = actions::help_url(&base, &name);
    let fail = |e: CkanError| {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        json_response(status, actions::envelope_error(&help, &e))
    };
    if !actions::is_known(&name) {
        return fail(CkanError::BadRequest(format!(
            "Action name not known: {}",
            name.chars().take(100).collect::<String>()
        )));
    }
    let params = match params(&method, &uri, &headers, body).await {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let cached = match catalogue(&cache, &generation, &state).await {
        Ok(c) => c,
        Err(()) => {
            let mut error = Map::new();
            error.insert("__type".into(), "Internal Server Error".into());
            error.insert("message".into(), "Internal Server Error".into());
            let body = format!(
                "{{\"help\":{},\"error\":{},\"success\":false}}",
                Value::from(help.as_str()),
                Value::Object(error)
            );
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, body);
        }
    };
    let engine = state.search();
    let matching = engine.as_deref().map(|e| move |q: &str| e.matching(q));
    let search = matching.as_ref().map(|m| m as FreeTextSearch<'_>);
    match actions::call_with(&cached.catalog, &name, &params, search) {
        Ok(result) => json_response(StatusCode::OK, actions::envelope_ok(&help, &result)),
        Err(e) => fail(e),
    }
}
