//! `GET/HEAD /-/health`: liveness, and which generation is served (for deploy scripts and
//! for checking that a rebuild was picked up).

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Current;

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    generation: &'a str,
    built_at: &'a str,
    datasets: usize,
}

pub async fn health(Current(generation): Current) -> Response {
    let mut response = Json(Health {
        status: "ok",
        generation: generation.name(),
        built_at: &generation.manifest().built_at,
        datasets: generation.datasets().len(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
