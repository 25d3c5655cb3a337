//! The one error type of the OGC API core: an OGC exception (`code`, `description`) with
//! its HTTP status, and, apart from it, what only the log may see.
//!
//! The `description` goes to the client as it is: it names the parameter, the value and
//! what was expected, never a path on disk or an I/O error. Internal failures carry their
//! details in `detail`, which the HTTP adapter logs and never sends.

use std::fmt;

/// OGC API exception codes (OGC API – Common, OWS exception codes), each with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionCode {
    /// 400: a parameter is unknown, repeated or has a value the server cannot use.
    InvalidParameterValue,
    /// 404: no collection or feature with that id.
    NotFound,
    /// 500: the server failed (a layer file that cannot be read, ...).
    ServerError,
}

impl ExceptionCode {
    /// The HTTP status code.
    pub fn status(self) -> u16 {
        match self {
            ExceptionCode::InvalidParameterValue => 400,
            ExceptionCode::NotFound => 404,
            ExceptionCode::ServerError => 500,
        }
    }

    /// The code as OGC spells it in the exception JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionCode::InvalidParameterValue => "InvalidParameterValue",
            ExceptionCode::NotFound => "NotFound",
            ExceptionCode::ServerError => "ServerError",
        }
    }
}

impl fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OGC exception: what went wrong, safe to show, and (for server errors) what to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OgcError {
    code: ExceptionCode,
    description: String,
    detail: Option<String>,
}

impl OgcError {
    /// 400 InvalidParameterValue.
    pub fn invalid(description: impl Into<String>) -> OgcError {
        OgcError {
            code: ExceptionCode::InvalidParameterValue,
            description: description.into(),
            detail: None,
        }
    }

    /// 400 for parameter `name`: "parameter `name`: <problem>".
    pub fn param(name: &str, problem: impl fmt::Display) -> OgcError {
        OgcError::invalid(format!("parameter {name}: {problem}"))
    }

    /// 404 NotFound.
    pub fn not_found(description: impl Into<String>) -> OgcError {
        OgcError {
            code: ExceptionCode::NotFound,
            description: description.into(),
            detail: None,
        }
    }

    /// 500 ServerError: the client sees a generic message, `detail` is for the log.
    pub fn internal(detail: impl fmt::Display) -> OgcError {
        OgcError {
            code: ExceptionCode::ServerError,
            description: "internal server error".to_string(),
            detail: Some(detail.to_string()),
        }
    }

    pub fn code(&self) -> ExceptionCode {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The message for the client.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// What to log and never send (server errors only).
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// The exception document: `{"code": ..., "description": ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code.as_str(),
            "description": self.description,
        })
    }
}
