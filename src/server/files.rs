//! `GET/HEAD /datasets/{id}/files/{file}`: downloads, with validators, conditional
//! requests and single byte ranges (RFC 9110 §8.8, §13, §14). `/datasets/{id}/pictures/{file}`
//! serves the pictures made at build time for the web pages ([`crate::model::Picture`]) the
//! same way.
//!
//! Security: the request's file name is never joined to a path. It is looked up among the
//! distributions that the manifest lists for the dataset, and only the path written in the
//! manifest (checked at load time to stay inside the generation) is opened. Anything else,
//! `..`, percent-encoded separators, a file on disk that the manifest does not list, is a
//! 404.
//!
//! Validators: `ETag` is the strong tag `"<sha256>"` (the content hash, so equal bytes in
//! two generations share it); `Last-Modified` is the generation's `built_at`.
//!
//! Order of evaluation (RFC 9110 §13.2.2): `If-None-Match` (weak comparison) or, only
//! without it, `If-Modified-Since` → 304; then `Range`, used only on GET and only if
//! `If-Range` is absent or matches (strong comparison, or the exact `Last-Modified` date).
//! One range → 206; an unsatisfiable one → 416 with `Content-Range: bytes */len`; several
//! ranges or a malformed header → 200 with the whole file (RFC 9110 allows ignoring Range).
//! `If-Match` and `If-Unmodified-Since` are not evaluated.

use std::io::SeekFrom;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use tokio::io::AsyncSeekExt;

use super::body::FileBody;
use super::error::ApiError;
use super::state::Generation;
use super::{AppState, Current};
use crate::model::Distribution;

const CACHE_CONTROL: &str = "public, max-age=300";

/// The download handler. A whole file sent (`GET`, 200) counts as one download of the
/// dataset ([`super::downloads`]).
pub async fn download(
    State(state): State<AppState>,
    Current(generation): Current,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path((id, file))) = path else {
        return Err(ApiError::not_found("no such file"));
    };
    let Some(dataset) = generation.dataset(&id) else {
        return Err(ApiError::not_found(format!("no dataset with id {id:?}")));
    };
    let Some(distribution) = dataset.distributions.iter().find(|d| d.file == file) else {
        return Err(ApiError::not_found(format!(
            "dataset {id:?} has no file {file:?}"
        )));
    };
    let response = serve_file(
        &generation,
        ServedFile::from(distribution),
        &method,
        &headers,
    )
    .await?;
    if method == Method::GET && response.status() == StatusCode::OK {
        state.downloads().record(&id);
    }
    Ok(response)
}

/// The pictures' handler (charts, thumbnails).
pub async fn picture(
    Current(generation): Current,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path((id, file))) = path else {
        return Err(ApiError::not_found("no such picture"));
    };
    let Some(dataset) = generation.dataset(&id) else {
        return Err(ApiError::not_found(format!("no dataset with id {id:?}")));
    };
    let Some(p) = dataset.pictures.iter().find(|p| p.file == file) else {
        return Err(ApiError::not_found(format!(
            "dataset {id:?} has no picture {file:?}"
        )));
    };
    let served = ServedFile {
        name: &p.file,
        path: &p.path,
        byte_size: p.byte_size,
        sha256: &p.sha256,
        media_type: &p.media_type,
        inline: true,
    };
    serve_file(&generation, served, &method, &headers).await
}

/// A file of a generation, as the manifest describes it: what [`serve_file`] needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServedFile<'a> {
    /// File name, for `Content-Disposition`.
    pub name: &'a str,
    /// Path relative to the generation directory (checked at load time).
    pub path: &'a str,
    pub byte_size: u64,
    pub sha256: &'a str,
    pub media_type: &'a str,
    /// `Content-Disposition: inline` (pictures shown in pages) rather than `attachment`.
    pub inline: bool,
}

impl<'a> From<&'a Distribution> for ServedFile<'a> {
    fn from(d: &'a Distribution) -> ServedFile<'a> {
        ServedFile {
            name: &d.file,
            path: &d.path,
            byte_size: d.byte_size,
            sha256: &d.sha256,
            media_type: &d.media_type,
            inline: false,
        }
    }
}

/// Serves a file listed in the manifest with validators, conditional requests and single
/// byte ranges (see the module documentation).
pub(crate) async fn serve_file(
    generation: &Arc<Generation>,
    distribution: ServedFile<'_>,
    method: &Method,
    request: &HeaderMap,
) -> Result<Response, ApiError> {
    let len = distribution.byte_size;
    let etag = format!("\"{}\"", distribution.sha256);
    let last_modified = http_date(generation.built_at());

    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, header_value(&etag)?);
    headers.insert(header::LAST_MODIFIED, header_value(&last_modified)?);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    if not_modified(request, distribution.sha256, generation.built_at()) {
        // Without it axum would add `Content-Length: 0`, which RFC 9110 §8.6 forbids on a
        // 304 unless it equals the length a 200 would have.
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }

    headers.insert(
        header::CONTENT_TYPE,
        header_value(&content_type(distribution.media_type))?,
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&format!(
            "{}; filename=\"{}\"",
            if distribution.inline {
                "inline"
            } else {
                "attachment"
            },
            distribution.name
        ))?,
    );

    let range = if method == Method::GET
        && if_range_matches(request, distribution.sha256, generation.built_at())
    {
        match request
            .get(header::RANGE)
            .map(|v| parse_range(v.as_bytes(), len))
        {
            Some(RangeRequest::Unsatisfiable) => return Err(ApiError::range_not_satisfiable(len)),
            Some(RangeRequest::Single(r)) => Some(r),
            Some(RangeRequest::Ignore) | None => None,
        }
    } else {
        None
    };

    let (status, start, count) = match range {
        Some(r) => {
            headers.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {}-{}/{len}", r.start, r.end))?,
            );
            (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1)
        }
        None => (StatusCode::OK, 0, len),
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));

    if method == Method::HEAD {
        return Ok((status, headers).into_response());
    }

    let path = generation.dir().join(distribution.path);
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::internal(format!("opening {}: {e}", path.display())))?;
    let on_disk = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal(format!("reading metadata of {}: {e}", path.display())))?
        .len();
    if on_disk != len {
        return Err(ApiError::internal(format!(
            "{} has {on_disk} bytes but the manifest of generation {} says {len}",
            path.display(),
            generation.name()
        )));
    }
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::internal(format!("seeking in {}: {e}", path.display())))?;
    }
    let body = Body::new(FileBody::new(file, count, path));
    Ok((status, headers, body).into_response())
}

fn header_value(s: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(s).map_err(|e| ApiError::internal(format!("header value {s:?}: {e}")))
}

/// The manifest's media type, with `; charset=utf-8` for text and JSON types (our writers
/// always write UTF-8) unless it already carries parameters.
fn content_type(media_type: &str) -> String {
    let essence = media_type.trim().to_ascii_lowercase();
    let textual = essence.starts_with("text/")
        || essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if textual && !essence.contains(';') {
        format!("{media_type}; charset=utf-8")
    } else {
        media_type.to_string()
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an HTTP date in IMF-fixdate form; the obsolete forms are not accepted (the
/// header is then ignored, which is always allowed).
fn parse_http_date(value: &HeaderValue) -> Option<DateTime<Utc>> {
    let s = value.to_str().ok()?;
    DateTime::parse_from_rfc2822(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// One entity tag of an `If-None-Match` / `If-Match` list.
#[derive(Debug, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a str,
}

/// Parses `*` (returned as `None`) or a comma-separated list of entity tags. Malformed
/// members end the list: what was parsed before them still counts.
fn parse_etag_list(value: &str) -> Option<Vec<EntityTag<'_>>> {
    if value.trim() == "*" {
        return None;
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let Some(quoted) = after.strip_prefix('"') else {
            break;
        };
        let Some(end) = quoted.find('"') else {
            break;
        };
        tags.push(EntityTag {
            weak,
            opaque: &quoted[..end],
        });
        rest = &quoted[end + 1..];
    }
    Some(tags)
}

/// Whether an `If-None-Match` header matches the entity tag `opaque` (weak comparison);
/// `None` when the request has no usable `If-None-Match`.
pub(crate) fn if_none_match(request: &HeaderMap, opaque: &str) -> Option<bool> {
    let value = request.get(header::IF_NONE_MATCH)?.to_str().ok()?;
    Some(match parse_etag_list(value) {
        None => true,
        Some(tags) => tags.iter().any(|t| t.opaque == opaque),
    })
}

/// Whether a GET/HEAD can be answered with 304 Not Modified.
fn not_modified(request: &HeaderMap, sha256: &str, built_at: DateTime<Utc>) -> bool {
    if let Some(value) = request.get(header::IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        return match parse_etag_list(value) {
            None => true,
            // Weak comparison: W/"x" matches "x".
            Some(tags) => tags.iter().any(|t| t.opaque == sha256),
        };
    }
    if let Some(since) = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(parse_http_date)
    {
        // HTTP dates have whole seconds.
        return built_at.timestamp() <= since.timestamp();
    }
    false
}

/// Whether `If-Range` (if present) lets the Range header apply.
fn if_range_matches(request: &HeaderMap, sha256: &str, built_at: DateTime<Utc>) -> bool {
    let Some(value) = request.get(header::IF_RANGE) else {
        return true;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let text = text.trim();
    if text.starts_with('"') || text.starts_with("W/") {
        // Strong comparison: a weak tag never matches.
        return matches!(
            parse_etag_list(text).as_deref(),
            Some([EntityTag { weak: false, opaque }]) if *opaque == sha256
        );
    }
    parse_http_date(value).is_some_and(|date| date.timestamp() == built_at.timestamp())
}

/// An inclusive byte range inside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteRange {
    start: u64,
    end: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// One satisfiable range: answer 206.
    Single(ByteRange),
    /// A well-formed single range that selects nothing: answer 416.
    Unsatisfiable,
    /// Several ranges, another unit or a malformed header: answer 200 with everything.
    Ignore,
}

/// Parses a `Range` header against a representation of `len` bytes (RFC 9110 §14.1.2).
fn parse_range(value: &[u8], len: u64) -> RangeRequest {
    let Ok(value) = std::str::from_utf8(value) else {
        return RangeRequest::Ignore;
    };
    let Some((unit, set)) = value.trim().split_once('=') else {
        return RangeRequest::Ignore;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return RangeRequest::Ignore;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeRequest::Ignore;
    };
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Digits only: an overflow means "larger than any file".
        Some(s.parse().unwrap_or(u64::MAX))
    };
    match (first.is_empty(), last.is_empty()) {
        // "-n": the last n bytes.
        (true, false) => {
            let Some(n) = number(last) else {
                return RangeRequest::Ignore;
            };
            if n == 0 || len == 0 {
                return RangeRequest::Unsatisfiable;
            }
            RangeRequest::Single(ByteRange {
                start: len - n.min(len),
                end: len - 1,
            })
        }
        // "a-" or "a-b".
        (false, _) => {
            let Some(start) = number(first) else {
                return RangeRequest::Ignore;
            };
            let end = if last.is_empty() {
                u64::MAX
            } else {
                match number(last) {
                    Some(end) if end >= start => end,
                    _ => return RangeRequest::Ignore,
                }
            };
            if start >= len {
                return RangeRequest::Unsatisfiable;
            }
            RangeRequest::Single(ByteRange {
                start,
                end: end.min(len - 1),
            })
        }
        (true, true) => RangeRequest::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(start: u64, end: u64) -> RangeRequest {
        RangeRequest::Single(ByteRange { start, end })
    }

    #[test]
    fn ranges_from_rfc_9110_examples() {
        // RFC 9110 §14.1.2 examples on a 10000-byte representation.
        assert_eq!(parse_range(b"bytes=0-499", 10000), single(0, 499));
        assert_eq!(parse_range(b"bytes=500-999", 10000), single(500, 999));
        assert_eq!(parse_range(b"bytes=-500", 10000), single(9500, 9999));
        assert_eq!(parse_range(b"bytes=9500-", 10000), single(9500, 9999));
        assert_eq!(parse_range(b"bytes=0-0,-1", 10000), RangeRequest::Ignore);
    }

    #[test]
    fn range_edges() {
        assert_eq!(parse_range(b"bytes=5-1000000", 10), single(5, 9));
        assert_eq!(parse_range(b"bytes=-100", 10), single(0, 9));
        assert_eq!(parse_range(b"BYTES = 1-2", 10), single(1, 2));
        assert_eq!(
            parse_range(b"bytes=99999999999999999999999-", 10),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range(b"bytes=10-", 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(b"bytes=-0", 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(b"bytes=0-", 0), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(b"bytes=5-4", 10), RangeRequest::Ignore);
        assert_eq!(parse_range(b"bytes=-", 10), RangeRequest::Ignore);
        assert_eq!(parse_range(b"bytes=a-b", 10), RangeRequest::Ignore);
        assert_eq!(parse_range(b"bytes=+1-2", 10), RangeRequest::Ignore);
        assert_eq!(parse_range(b"items=0-1", 10), RangeRequest::Ignore);
        assert_eq!(parse_range(b"0-1", 10), RangeRequest::Ignore);
    }

    #[test]
    fn etag_lists() {
        assert_eq!(parse_etag_list("*"), None);
        assert_eq!(
            parse_etag_list(r#""a", W/"b",  "c,d""#),
            Some(vec![
                EntityTag {
                    weak: false,
                    opaque: "a"
                },
                EntityTag {
                    weak: true,
                    opaque: "b"
                },
                EntityTag {
                    weak: false,
                    opaque: "c,d"
                },
            ])
        );
        assert_eq!(parse_etag_list("garbage"), Some(vec![]));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("text/csv"), "text/csv; charset=utf-8");
        assert_eq!(
            content_type("application/geo+json"),
            "application/geo+json; charset=utf-8"
        );
        assert_eq!(
            content_type("application/json"),
            "application/json; charset=utf-8"
        );
        assert_eq!(
            content_type("text/csv; charset=windows-1252"),
            "text/csv; charset=windows-1252"
        );
        assert_eq!(
            content_type("application/vnd.apache.parquet"),
            "application/vnd.apache.parquet"
        );
    }

    #[test]
    fn http_dates_round_trip() {
        let t = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z")
            .unwrap()
            .with_timezone(&Utc);
        // RFC 9110 §5.6.7's example.
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        let parsed =
            parse_http_date(&HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT")).unwrap();
        assert_eq!(parsed, t);
    }
}
