//! `GET/HEAD /-/health`: liveness, which generation is served, and which search index
//! (for deploy scripts and for checking that a rebuild or a harvest was picked up).
//!
//! `search` is `null` when no search index is loaded (the search routes then answer
//! 503); otherwise it names the index, the generation it was built from (which may lag
//! the served one for the moment between the two switches) and its records.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{AppState, Current};

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    generation: &'a str,
    built_at: &'a str,
    datasets: usize,
    search: Option<SearchHealth>,
}

#[derive(Serialize)]
struct SearchHealth {
    index: String,
    generation: Option<String>,
    records: u64,
    built_at: Option<String>,
}

pub async fn health(State(state): State<AppState>, Current(generation): Current) -> Response {
    let search = state.search_index().map(|s| SearchHealth {
        index: s.name().to_string(),
        generation: s.meta().and_then(|m| m.generation.clone()),
        records: s.engine().num_docs(),
        built_at: s.meta().map(|m| m.built_at.clone()),
    });
    let mut response = Json(Health {
        status: "ok",
        generation: generation.name(),
        built_at: &generation.manifest().built_at,
        datasets: generation.datasets().len(),
        search,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
