//! Bounded fetching: one response at a time, never more than the source's limits allow.
//!
//! A harvested portal is not trusted to behave. The body is read chunk by chunk and the
//! read stops (and the connection is dropped) as soon as it passes `max_bytes`, so a
//! 200 MB answer costs at most `max_bytes` of memory; a `Content-Length` above the limit
//! is refused before reading anything. Every request runs under a timeout covering
//! headers and body together (a server that stalls mid-body is cut off), shortened to
//! what is left of the whole crawl's time budget.
//!
//! `file:///absolute/path` URLs are read from disk under the same size limit, for DCAT
//! catalogues kept as files.

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::config::Limits;

/// The `User-Agent` Portale harvests with.
pub const USER_AGENT: &str = concat!("Portale/", env!("CARGO_PKG_VERSION"), " (harvester)");

/// Why a page could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connection refused, DNS failure, TLS error, broken transfer...
    #[error("{url}: {detail}")]
    Request { url: String, detail: String },

    /// No complete answer within the per-request timeout.
    #[error("{url}: no complete answer within {} s (timeout_seconds)", .after.as_secs_f64())]
    Timeout { url: String, after: Duration },

    /// The crawl's whole time budget (`max_seconds`) ran out.
    #[error("{url}: the crawl's time limit of {} s (max_seconds) ran out", .limit.as_secs())]
    Deadline { url: String, limit: Duration },

    /// A non-2xx status.
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },

    /// The body is larger than `max_bytes`.
    #[error("{url}: the response is larger than the limit of {max} bytes (max_bytes){}",
        .declared.map(|d| format!("; it declares Content-Length {d}")).unwrap_or_default())]
    TooLarge {
        url: String,
        max: u64,
        declared: Option<u64>,
    },

    /// A `file://` URL that cannot be read.
    #[error("{url}: cannot read the file: {source}")]
    File {
        url: String,
        #[source]
        source: std::io::Error,
    },

    /// A URL with a scheme Portale does not fetch.
    #[error("{url}: only http, https and file URLs can be harvested")]
    Scheme { url: String },

    /// The HTTP client could not be built (TLS setup).
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
}

/// One fetched page.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL that answered (after redirects).
    pub url: Url,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Fetches pages for one crawl, under one source's limits.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    limits: Limits,
    deadline: Instant,
}

impl Fetcher {
    /// A fetcher whose time budget (`limits.max_duration`) starts now.
    pub fn new(limits: Limits) -> Result<Fetcher, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher {
            client,
            limits,
            deadline: Instant::now() + limits.max_duration,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Fetches `url` asking for `accept`, within the limits.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched, FetchError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(FetchError::Deadline {
                url: url.to_string(),
                limit: self.limits.max_duration,
            });
        }
        let budget = left.min(self.limits.timeout);
        match url.scheme() {
            "http" | "https" => {}
            "file" => return self.read_file(url).await,
            _ => {
                return Err(FetchError::Scheme {
                    url: url.to_string(),
                });
            }
        }
        match tokio::time::timeout(budget, self.http_get(url, accept)).await {
            Ok(result) => result,
            Err(_) if budget < self.limits.timeout => Err(FetchError::Deadline {
                url: url.to_string(),
                limit: self.limits.max_duration,
            }),
            Err(_) => Err(FetchError::Timeout {
                url: url.to_string(),
                after: budget,
            }),
        }
    }

    async fn http_get(&self, url: &Url, accept: &str) -> Result<Fetched, FetchError> {
        // reqwest's messages repeat the URL, which the error already names.
        let request_error = |e: reqwest::Error| FetchError::Request {
            url: url.to_string(),
            detail: error_chain(&e.without_url()),
        };
        let mut response = self
            .client
            .get(url.clone())
            .header(ACCEPT, accept)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let max = self.limits.max_bytes;
        if let Some(declared) = response.content_length()
            && declared > max
        {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                max,
                declared: Some(declared),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let final_url = response.url().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if body.len() as u64 + chunk.len() as u64 > max {
                // Dropping the response closes the connection: the rest is never read.
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    max,
                    declared: None,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            url: final_url,
            content_type,
            body,
        })
    }

    async fn read_file(&self, url: &Url) -> Result<Fetched, FetchError> {
        let file_error = |source| FetchError::File {
            url: url.to_string(),
            source,
        };
        let path = url.to_file_path().map_err(|()| {
            file_error(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not an absolute local path",
            ))
        })?;
        let max = self.limits.max_bytes;
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            let mut body = Vec::new();
            std::fs::File::open(&path)?
                .take(max + 1)
                .read_to_end(&mut body)?;
            Ok(body)
        })
        .await
        .map_err(|e| file_error(std::io::Error::other(e.to_string())))?
        .map_err(file_error)?;
        if read.len() as u64 > max {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                max,
                declared: None,
            });
        }
        Ok(Fetched {
            url: url.clone(),
            content_type: None,
            body: read,
        })
    }
}

/// reqwest's error and its causes on one line ("error sending request: connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
