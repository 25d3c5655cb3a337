//! `GET/HEAD /static/{path}`: the web UI's stylesheets, scripts and fonts, embedded in the
//! binary from `static/` at compile time (the templates excepted: askama compiles them).
//!
//! `static/vendor/` holds the third-party assets (MapLibre GL JS, Bootstrap Italia, the
//! Titillium Web fonts) that `tools/vendor/vendor.sh` installs from npm with a lockfile;
//! they are committed, so a build needs cargo only and the site never asks a CDN.
//!
//! Validators: the `ETag` is the file's SHA-256 computed at compile time, and a matching
//! `If-None-Match` gets a 304. The pages link to `{path}?v={first 12 hex digits of the
//! SHA-256}` ([`versioned`]): such a URL names one content forever, so it is cached for a
//! year (`immutable`), and a new binary changes the URL. A URL without `v` (scripts
//! importing modules, MapLibre's worker with its own `?v=` of the library version) is
//! revalidated after an hour.
//!
//! Security: the path is only ever a key into the embedded table; nothing is read from disk,
//! so `..` or an encoded separator can only miss (404).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use super::error::ApiError;
use super::files::if_none_match;

#[derive(Embed)]
#[folder = "static/"]
#[exclude = "templates/*"]
struct Assets;

const CACHE_CONTROL: &str = "public, max-age=3600";
const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The first 12 hex digits of an embedded file's SHA-256, its version in URLs.
fn version(path: &str) -> Option<String> {
    Assets::get(path).map(|f| hex::encode(&f.metadata.sha256_hash()[..6]))
}

/// `{static_base}/{path}?v={version}`: the URL of an embedded file that the pages link to.
/// A file that is not embedded gets no version (and will answer 404).
pub fn versioned(static_base: &str, path: &str) -> String {
    match version(path) {
        Some(v) => format!("{static_base}/{path}?v={v}"),
        None => format!("{static_base}/{path}"),
    }
}

/// The media type served for a file name, by its extension.
fn media_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("txt") | None => "text/plain; charset=utf-8",
        Some(_) => "application/octet-stream",
    }
}

/// Whether a file is embedded (for tests and the templates' sanity checks).
pub fn exists(path: &str) -> bool {
    Assets::get(path).is_some()
}

/// The handler.
pub async fn asset(
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let Ok(Path(path)) = path else {
        return Err(ApiError::not_found("no such file"));
    };
    let Some(file) = Assets::get(&path) else {
        return Err(ApiError::not_found(format!("no static file {path:?}")));
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let current = format!("v={}", &etag[1..13]);
    let cache = if query.is_some_and(|q| q.split('&').any(|p| p == current)) {
        CACHE_IMMUTABLE
    } else {
        CACHE_CONTROL
    };
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    );
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type(&path)),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if if_none_match(&headers, &etag[1..etag.len() - 1]) == Some(true) {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    Ok((StatusCode::OK, out, file.data.into_owned()).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_files_are_embedded_and_templates_are_not() {
        assert!(exists("vendor/maplibre-gl/maplibre-gl.mjs"));
        assert!(exists("vendor/maplibre-gl/maplibre-gl-worker.mjs"));
        assert!(exists("vendor/bootstrap-italia/bootstrap-italia.min.css"));
        assert!(exists("css/portale.css"));
        assert!(!exists("templates/base.html"));
        assert!(!exists("../Cargo.toml"));
    }

    #[test]
    fn versions_are_the_content_hash() {
        let url = versioned("https://x.it/static", "css/portale.css");
        let file = Assets::get("css/portale.css").unwrap();
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(&file.data));
        assert_eq!(
            url,
            format!("https://x.it/static/css/portale.css?v={}", &sha[..12])
        );
        assert_eq!(versioned("/s", "nope.css"), "/s/nope.css");
    }

    #[test]
    fn media_types_by_extension() {
        assert_eq!(media_type("a/b.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(media_type("x.woff2"), "font/woff2");
        assert_eq!(media_type("VERSIONS"), "text/plain; charset=utf-8");
    }
}
