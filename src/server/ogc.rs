//! The HTTP adapter of OGC API – Features: `GET/HEAD /ogc/...`, one route per entry of
//! [`crate::ogc::api::ROUTES`] (the table the OpenAPI document is generated from).
//!
//! Each handler takes the pinned generation, the path ids, the decoded query pairs and the
//! `Accept` header, hands them to the generation's [`OgcService`] on the blocking pool
//! (layer files are read with blocking I/O) and turns the [`Reply`] into a response:
//! `Content-Type`, `Content-Crs`, a `Link` header to the other representations. Errors
//! are OGC exceptions, `{"code", "description"}` with their status; internal details are
//! logged, never sent.
//!
//! One `OgcService` is kept per live generation ([`Services`]): it owns the per-layer
//! lazy state (header facts, fid indexes) and is dropped with the generation.
//!
//! At most one request per core runs on the blocking pool at a time; the others wait in
//! line (a fair semaphore). Without the line, 16 concurrent pages become 16 threads sharing
//! one core: every request then takes as long as the sum of the others, and a heavy page
//! (hundreds of polygons) the longest of all. In line, each runs to completion in turn.

use std::sync::{Arc, Mutex, PoisonError, Weak};

use axum::extract::rejection::{QueryRejection, RawPathParamsRejection};
use axum::extract::{Query, RawPathParams};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use tokio::sync::Semaphore;

use super::Current;
use super::state::{AppState, Generation};
use crate::ogc::api::{Endpoint, ROUTES};
use crate::ogc::{OgcError, OgcService, Reply, Request};

/// A generation (held weakly, so that it can be dropped) and its service.
type Entry = (Weak<Generation>, Arc<OgcService>);

/// The OGC API services of the generations still in use, created on first use, and the
/// line of requests waiting for a core.
#[derive(Debug, Clone)]
pub struct Services {
    inner: Arc<Mutex<Vec<Entry>>>,
    workers: Arc<Semaphore>,
}

impl Default for Services {
    fn default() -> Services {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Services {
            inner: Arc::default(),
            workers: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Services {
    /// The service of generation `g`, created the first time it is asked for.
    pub fn for_generation(&self, g: &Arc<Generation>) -> Arc<OgcService> {
        let mut list = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // Forget generations nobody holds any more (this also rules out a new generation
        // reusing a dead one's address).
        list.retain(|(w, _)| w.strong_count() > 0);
        if let Some((_, s)) = list
            .iter()
            .find(|(w, _)| std::ptr::eq(w.as_ptr(), Arc::as_ptr(g)))
        {
            return s.clone();
        }
        let service = Arc::new(OgcService::new(
            &g.manifest().catalog,
            g.urls().clone(),
            g.datasets(),
            |d| g.file_path(d),
        ));
        list.push((Arc::downgrade(g), service.clone()));
        service
    }
}

/// The `/ogc` routes, to merge into the application router.
pub fn routes() -> Router<AppState> {
    let services = Services::default();
    let mut router = Router::new();
    for route in ROUTES {
        let endpoint = route.endpoint;
        let handler = get(
            move |Current(generation): Current,
                  Extension(services): Extension<Services>,
                  path: Result<RawPathParams, RawPathParamsRejection>,
                  query: Result<Query<Vec<(String, String)>>, QueryRejection>,
                  headers: HeaderMap| async move {
                handle(endpoint, generation, services, path, query, headers).await
            },
        );
        if route.path == "/" {
            router = router
                .route("/ogc", handler.clone())
                .route("/ogc/", handler);
        } else {
            router = router.route(&format!("/ogc{}", route.path), handler);
        }
    }
    router.layer(Extension(services))
}

async fn handle(
    endpoint: Endpoint,
    generation: Arc<Generation>,
    services: Services,
    path: Result<RawPathParams, RawPathParamsRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(e) => {
            return exception(&OgcError::invalid(format!(
                "the query string cannot be decoded: {}",
                e.body_text()
            )));
        }
    };
    let (mut collection, mut feature) = (None, None);
    match &path {
        Ok(params) => {
            for (key, value) in params.iter() {
                match key {
                    "collectionId" => collection = Some(value.to_string()),
                    "featureId" => feature = Some(value.to_string()),
                    _ => {}
                }
            }
        }
        // Routes without captures have no parameters at all.
        Err(RawPathParamsRejection::MissingPathParams(_)) => {}
        Err(_) => return exception(&OgcError::not_found("no such resource")),
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let service = services.for_generation(&generation);
    let Ok(permit) = services.workers.clone().acquire_owned().await else {
        return exception(&OgcError::internal("the OGC API worker line is closed"));
    };
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        service.handle(&Request {
            endpoint,
            collection: collection.as_deref(),
            feature: feature.as_deref(),
            query: &query,
            accept: accept.as_deref(),
        })
    })
    .await;
    match outcome {
        Ok(Ok(reply)) => respond(reply),
        Ok(Err(e)) => exception(&e),
        Err(join) => exception(&OgcError::internal(format!(
            "the OGC API task failed: {join}"
        ))),
    }
}

fn respond(reply: Reply) -> Response {
    let mut response = (StatusCode::OK, reply.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.media_type),
    );
    if let Some(crs) = reply
        .content_crs
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert("content-crs", crs);
    }
    let link = reply
        .alternates
        .iter()
        .map(|l| format!("<{}>; rel=\"{}\"; type=\"{}\"", l.href, l.rel, l.media_type))
        .collect::<Vec<_>>()
        .join(", ");
    if let Ok(value) = HeaderValue::from_str(&link)
        && !link.is_empty()
    {
        headers.insert(header::LINK, value);
    }
    response
}

fn exception(e: &OgcError) -> Response {
    if let Some(detail) = e.detail() {
        tracing::error!("OGC API: {detail}");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&e.to_json()).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
