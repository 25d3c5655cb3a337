//! The server's two error types: [`ServerError`] for starting, reloading and running the
//! server (returned to the CLI), and [`ApiError`], the one error every HTTP handler answers
//! with.
//!
//! Every HTTP error has the same JSON shape, `{"error": {"status": 404, "message": "...",
//! "request_id": "..."}}` (`request_id` is the response's `X-Request-Id`, absent when the
//! error is made outside a request, see [`super::ops`]).
//! The message is safe to show to anyone: internal details (paths on disk, I/O errors) go
//! to the log through [`ApiError::internal`] and never into a response body.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why the server could not start, reload a generation or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// `site/CURRENT` does not exist: `portale build` never finished.
    #[error("no generation has been built yet in {}: run `portale build`", .site.display())]
    NoGeneration { site: PathBuf },

    /// `site/CURRENT` exists but cannot be read or does not hold a generation name.
    #[error("cannot read the current generation from {}: {source}", .path.display())]
    ReadCurrent {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A generation's `manifest.json` cannot be read.
    #[error("cannot read manifest {}: {source}", .path.display())]
    ReadManifest {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A generation's `manifest.json` is not valid JSON for [`crate::model::Manifest`], or
    /// breaks a rule the server relies on (unique ids, safe file names and paths, ...).
    #[error("invalid manifest {}: {problem}", .path.display())]
    InvalidManifest { path: PathBuf, problem: String },

    /// The search index that `site/search/CURRENT` names cannot be opened.
    #[error("cannot load the search index {}: {source}", .path.display())]
    SearchIndex {
        path: PathBuf,
        #[source]
        source: crate::search::SearchError,
    },

    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },

    /// The server stopped on an I/O error.
    #[error("the HTTP server failed: {source}")]
    Serve {
        #[source]
        source: io::Error,
    },
}

/// An HTTP error answer: a status and a message safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Set for 416 answers: the representation length, sent as `Content-Range: bytes */len`.
    unsatisfiable_range_of: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            unsatisfiable_range_of: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this resource",
        )
    }

    /// 416 Range Not Satisfiable for a representation of `len` bytes.
    pub fn range_not_satisfiable(len: u64) -> ApiError {
        ApiError {
            status: StatusCode::RANGE_NOT_SATISFIABLE,
            message: format!("the requested range is not satisfiable: the file has {len} bytes"),
            unsatisfiable_range_of: Some(len),
        }
    }

    /// 500 Internal Server Error. `detail` is logged, never sent to the client.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {detail}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    status: u16,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                status: self.status.as_u16(),
                message: &self.message,
                request_id: super::ops::current_request_id(),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(len) = self.unsatisfiable_range_of {
            // Digits only: always a valid header value.
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
        }
        response
    }
}

/// Router fallback: no route matches the path.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

/// Router fallback for a path that exists with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
