//! `GET/HEAD /-/harvest`: the last harvest report (`site/federation/report.json`), for
//! people checking what `portale harvest` did and for monitoring.
//!
//! The report lives in the site directory, beside the generations: it is read on each
//! request (it changes whenever a harvest runs, independently of the served generation).
//! Before the first harvest the answer is a 404 saying so.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::federation::{FederationLayout, HarvestReport};

pub async fn report(State(state): State<AppState>) -> Result<Response, ApiError> {
    let path = FederationLayout::new(state.site_dir()).report_path();
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found(
                "no harvest has run on this site yet (portale harvest)",
            ));
        }
        Err(e) => return Err(ApiError::internal(format!("{}: {e}", path.display()))),
    };
    let report: HarvestReport = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
    let mut response = Json(report).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
