//! HTTP hardening in one middleware ([`guard`]): path-traversal refusal, request limits, a
//! per-request timeout, CORS for the read-only APIs and the security headers.
//!
//! Mounted once in [`super::app`], inside `pin_generation` (so its own error answers carry
//! `X-Portale-Generation` too) and outside every route and fallback:
//!
//! | rule | answer |
//! |---|---|
//! | a path with `..`/`.` segments (raw or `%2e`), an encoded separator (`%2f`, `%5c`), an encoded `%` (`%25`, double encoding), NUL (`%00`), a backslash or an empty inner segment (`//etc/passwd`) | 400 |
//! | a query string longer than [`Limits::max_query_bytes`] | 414 |
//! | `q` / `fq` / `filter` / `bbox` longer than their caps (every route: search, CKAN, DCAT, OGC) | 400 naming the parameter and the cap |
//! | a request body longer than [`Limits::max_body_bytes`] (only CKAN's POST has one) | 413 |
//! | no response head (body upload included) after [`Limits::timeout`] | 503 |
//!
//! The errors have the one JSON shape of [`ApiError`], except under `/ogc`, where they are
//! OGC exceptions (`code`, `description`) as its OpenAPI document declares, and under
//! CKAN's `/api/3/action/...` and `/api/action/...`, where they come in CKAN's envelope
//! (`help`, `success: false`, `error.__type`, `error.message`), which ckanapi reads; the
//! status stays the guard's (400, 413, 414, 503).
//!
//! CORS: `Access-Control-Allow-Origin: *` on GET/HEAD answers of the read-only APIs
//! ([`is_read_api`]) that are not HTML; a preflight `OPTIONS` for GET or HEAD on those paths
//! answers 204 allowing GET and HEAD only. HTML pages, `/static/` and every other method
//! (CKAN's POST) get no CORS header, so browsers keep them same-origin.
//!
//! Headers: `X-Content-Type-Options: nosniff` on every answer; on HTML answers a
//! `Content-Security-Policy` without inline scripts ([`content_security_policy`]),
//! `Referrer-Policy: strict-origin-when-cross-origin` and `X-Frame-Options: DENY`.
//!
//! Pitfalls:
//! - The timeout covers producing the response head only: a download's body streams after
//!   the middleware returned and is never cut.
//! - The OGC HTML pages (`/ogc...`) carry one `<style>` element, so their CSP allows
//!   `'unsafe-inline'` styles (scripts stay `'self'` only); the portal pages allow none.
//! - An external basemap (`[map] basemap_style` in `catalog.toml`) is allowed by the origin
//!   of its style URL only (in `connect-src` and `img-src`): a style whose tiles or glyphs
//!   live on another origin needs that origin to be the same one.
//! - Header size and count are hyper's defaults: at most 100 headers and about 400 KiB of
//!   head per request, answered 431 by hyper. A request head must arrive within
//!   [`super::HEADER_READ_TIMEOUT`] (30 s) of its first byte, or hyper closes the
//!   connection (slow-loris); the accept loop of [`super::serve_listener`] gives hyper the
//!   timer this needs. Idle kept-alive connections are not timed out by Portale: a reverse
//!   proxy in front bounds them.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Current;
use super::error::ApiError;

/// The caps [`guard`] enforces. [`Limits::default`] is what the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request body, in bytes (CKAN's POST is the only route reading one).
    pub max_body_bytes: usize,
    /// Longest query string, in bytes, still percent-encoded.
    pub max_query_bytes: usize,
    /// Longest `q` (free text), in characters, decoded; the search engine's own cap.
    pub max_q_chars: usize,
    /// Longest `fq` (CKAN filter query), in characters, decoded.
    pub max_fq_chars: usize,
    /// Longest `filter` (OGC CQL2 text), in characters, decoded.
    pub max_filter_chars: usize,
    /// Longest `bbox`, in characters, decoded (6 numbers with 17 significant digits fit).
    pub max_bbox_chars: usize,
    /// Longest wait for a handler's response head.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 64 * 1024,
            max_query_bytes: 8 * 1024,
            max_q_chars: crate::search::MAX_QUERY_CHARS,
            max_fq_chars: 2_000,
            max_filter_chars: 4_096,
            max_bbox_chars: 256,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The answer to a request the guard refuses: the OGC API's exception shape (`code`,
/// `description`, as its OpenAPI document declares) under `/ogc`, CKAN's envelope under
/// its action routes, [`ApiError`]'s elsewhere.
fn reject(path: &str, e: ApiError) -> Response {
    let action = path
        .strip_prefix("/api/3/action/")
        .or_else(|| path.strip_prefix("/api/action/"));
    if let Some(action) = action {
        let kind = match e.status() {
            s if s.is_server_error() => "Internal Server Error",
            StatusCode::NOT_FOUND => "Not Found Error",
            _ => "Bad Request",
        };
        // The action name as CKAN's help link has it; the guard knows no public URL, so
        // the link is relative.
        let help = crate::catalog::ckan::actions::help_url("", action);
        let body = serde_json::json!({
            "help": help,
            "success": false,
            "error": {"__type": kind, "message": e.message()},
        });
        return (
            e.status(),
            [(header::CONTENT_TYPE, super::ckan::CONTENT_TYPE)],
            body.to_string(),
        )
            .into_response();
    }
    if path == "/ogc" || path.starts_with("/ogc/") {
        let code = match e.status() {
            StatusCode::NOT_FOUND => "NotFound",
            s if s.is_server_error() => "ServerError",
            _ => "InvalidParameterValue",
        };
        let body = serde_json::json!({"code": code, "description": e.message()});
        return (
            e.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    e.into_response()
}

/// The middleware; mount it with `axum::middleware::from_fn_with_state(Limits::default(), guard)`.
pub async fn guard(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if let Err(e) = check_path(&path) {
        return finish(reject(&path, e), &method, &path, None);
    }
    if let Err(e) = check_query(req.uri().query(), &limits) {
        return finish(reject(&path, e), &method, &path, None);
    }
    if method == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && let Some(response) = preflight(&path, req.headers())
    {
        return finish(response, &method, &path, None);
    }
    let basemap = req.extensions().get::<Current>().and_then(|Current(g)| {
        g.manifest()
            .catalog
            .basemap_style
            .as_deref()
            .and_then(origin_of)
            .map(str::to_string)
    });
    // The body is read inside the timeout too: a slow upload cannot hold a task forever.
    let work = async {
        let req = limit_body(req, limits.max_body_bytes).await?;
        Ok::<_, ApiError>(next.run(req).await)
    };
    let response = match tokio::time::timeout(limits.timeout, work).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => reject(&path, e),
        Err(_) => {
            tracing::warn!(%path, "no response after {:?}", limits.timeout);
            reject(
                &path,
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "the server did not answer within {} seconds; try again later",
                        limits.timeout.as_secs()
                    ),
                ),
            )
        }
    };
    finish(response, &method, &path, basemap.as_deref())
}

/// Refuses paths that try to leave a resource's name: see the module table.
pub fn check_path(path: &str) -> Result<(), ApiError> {
    let refuse = |what: &str| {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the path contains {what}, which no resource name has"),
        ))
    };
    let lower = path.to_ascii_lowercase();
    for (needle, what) in [
        ("%2f", "an encoded '/' (%2F)"),
        ("%5c", "an encoded '\\' (%5C)"),
        ("%00", "an encoded NUL (%00)"),
        ("%25", "an encoded '%' (%25, double encoding)"),
    ] {
        if lower.contains(needle) {
            return refuse(what);
        }
    }
    if path.contains('\\') {
        return refuse("a backslash");
    }
    if path.bytes().any(|b| b.is_ascii_control()) {
        return refuse("a control character");
    }
    let dotted = lower.replace("%2e", ".");
    let segments: Vec<&str> = dotted.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        if *segment == "." || *segment == ".." {
            return refuse("a '.' or '..' segment");
        }
        if segment.is_empty() && i + 1 < segments.len() {
            return refuse("an empty segment ('//')");
        }
    }
    Ok(())
}

/// Caps the query string and the free-text parameters, wherever they appear.
pub fn check_query(query: Option<&str>, limits: &Limits) -> Result<(), ApiError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return Ok(());
    };
    if query.len() > limits.max_query_bytes {
        return Err(ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!(
                "the query string has {} bytes; at most {} are accepted",
                query.len(),
                limits.max_query_bytes
            ),
        ));
    }
    // A query string that does not decode is the handler's to refuse, with its own words.
    let Ok(Query(pairs)) = Query::<Vec<(String, String)>>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .unwrap_or_else(|_| axum::http::Uri::from_static("/")),
    ) else {
        return Ok(());
    };
    for (name, value) in &pairs {
        let cap = match name.as_str() {
            "q" => limits.max_q_chars,
            "fq" => limits.max_fq_chars,
            "filter" => limits.max_filter_chars,
            "bbox" => limits.max_bbox_chars,
            _ => continue,
        };
        let chars = value.chars().count();
        if chars > cap {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("{name} has {chars} characters; at most {cap} are accepted"),
            ));
        }
    }
    Ok(())
}

/// Reads the body up to `max` bytes (413 beyond) and puts it back in the request.
async fn limit_body(req: Request, max: usize) -> Result<Request, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {max} bytes, the most accepted"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether `path` is one of the read-only APIs that any origin may read (CORS `*`):
/// everything but the HTML pages, their assets and CKAN's `/dataset/{name}` redirect.
pub fn is_read_api(path: &str) -> bool {
    // The metrics are for the operator's scraper, not for other sites' scripts.
    if path == "/-/metrics" {
        return false;
    }
    const PREFIXES: [&str; 9] = [
        "/ogc",
        "/api/",
        "/tiles/",
        "/styles/",
        "/catalog.",
        "/-/",
        "/map/style.json",
        "/datasets.json",
        "/suggest.json",
    ];
    if PREFIXES.iter().any(|p| path.starts_with(p))
        || ["/api", "/catalog", "/sitemap.xml"].contains(&path)
    {
        return true;
    }
    match path.strip_prefix("/datasets/") {
        // Downloads, pictures and the dataset's machine twins; not its HTML page.
        Some(rest) => match rest.split_once('/') {
            Some((_, sub)) => sub.starts_with("files/") || sub.starts_with("pictures/"),
            None => [".json", ".jsonld", ".ttl", ".rdf"]
                .iter()
                .any(|ext| rest.ends_with(ext)),
        },
        None => false,
    }
}

/// The answer to a CORS preflight for a read-only API asking for GET or HEAD; `None` lets
/// the router answer (405 without CORS headers: the browser refuses the real request).
fn preflight(path: &str, headers: &HeaderMap) -> Option<Response> {
    let asked = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)?;
    if !is_read_api(path) || !(asked == "GET" || asked == "HEAD") {
        return None;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "Accept, Accept-Language, Range, If-None-Match, If-Modified-Since",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    Some(response)
}

/// Headers the browser lets a cross-origin script read, besides the safelisted ones.
const EXPOSE_HEADERS: &str =
    "ETag, Content-Range, Accept-Ranges, Content-Length, Link, X-Portale-Generation, X-Request-Id";

/// CORS and security headers for every answer.
fn finish(mut response: Response, method: &Method, path: &str, basemap: Option<&str>) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let read = method == Method::GET || method == Method::HEAD;
    if read && is_read_api(path) && !is_html {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    } else if *method != Method::OPTIONS || !h.contains_key(header::ACCESS_CONTROL_ALLOW_METHODS) {
        h.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        h.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    if is_html {
        let csp = content_security_policy(path.starts_with("/ogc"), basemap);
        match HeaderValue::from_str(&csp) {
            Ok(v) => {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            // Unreachable: the basemap origin is checked by `origin_of`.
            Err(_) => {
                h.insert(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static("default-src 'none'"),
                );
            }
        }
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// The CSP of the HTML pages: scripts, workers and connections from the site itself only
/// (MapLibre's worker may be a `blob:`), no inline script, no framing. `inline_styles`
/// allows `<style>` elements (the OGC pages); `basemap` is an external basemap's origin.
pub fn content_security_policy(inline_styles: bool, basemap: Option<&str>) -> String {
    let extra = basemap.map(|o| format!(" {o}")).unwrap_or_default();
    let style = if inline_styles {
        "'self' 'unsafe-inline'"
    } else {
        "'self'"
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src {style}; \
         img-src 'self' data: blob:{extra}; worker-src 'self' blob:; child-src 'self' blob:; \
         connect-src 'self'{extra}; font-src 'self'; object-src 'none'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
}

/// `https://host[:port]` of an absolute http(s) URL, when it is plain enough to put in a
/// CSP (letters, digits, `.`, `-`, `:` in the authority; no user info).
pub fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = if url.starts_with("https://") {
        8
    } else if url.starts_with("http://") {
        7
    } else {
        return None;
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    let plain = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    plain.then(|| &url[..authority_end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    #[test]
    fn traversal_paths_are_refused() {
        for bad in [
            "/datasets/..",
            "/datasets/../etc/passwd",
            "/static/%2e%2e/secret",
            "/static/%2E%2e/secret",
            "/tiles/a%2fb",
            "/tiles/a%5Cb",
            "/tiles/%252e%252e",
            "/datasets/x%00.json",
            "/datasets/a\\b",
            "/static//etc/passwd",
            "/datasets/./x",
        ] {
            assert_eq!(
                check_path(bad).map_err(|e| e.status()),
                Err(StatusCode::BAD_REQUEST),
                "{bad}"
            );
        }
        for good in [
            "/",
            "/ogc/",
            "/datasets/scuole.json",
            "/static/vendor/maplibre-gl/maplibre-gl.js",
            "/tiles/scuole/12/2170/1487.mvt",
            "/datasets/a..b",
        ] {
            assert!(check_path(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn free_text_parameters_are_capped() {
        let limits = Limits::default();
        let q = format!("q={}", "a".repeat(501));
        let e = check_query(Some(&q), &limits).unwrap_err();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(e.message().contains("q has 501") && e.message().contains("500"));
        assert!(check_query(Some(&format!("q={}", "è".repeat(500))), &limits).is_ok());
        let filter = format!("filter={}", "x".repeat(4097));
        assert!(check_query(Some(&filter), &limits).is_err());
        let long = "a=b&".repeat(2049);
        assert_eq!(
            check_query(Some(&long), &limits).unwrap_err().status(),
            StatusCode::URI_TOO_LONG
        );
        assert!(check_query(Some("bbox=10.5,43.8,10.6,43.9"), &limits).is_ok());
    }

    #[test]
    fn read_apis_and_pages() {
        for api in [
            "/datasets.json",
            "/datasets/scuole.json",
            "/datasets/scuole.ttl",
            "/datasets/scuole/files/scuole.csv",
            "/datasets/scuole/pictures/thumb.svg",
            "/ogc/collections",
            "/api/3/action/package_list",
            "/tiles/scuole.json",
            "/catalog.ttl",
        ] {
            assert!(is_read_api(api), "{api}");
        }
        for page in [
            "/",
            "/datasets",
            "/datasets/scuole",
            "/map",
            "/about",
            "/static/css/portale.css",
            "/dataset/scuole",
            "/-/metrics",
        ] {
            assert!(!is_read_api(page), "{page}");
        }
    }

    #[test]
    fn basemap_origins() {
        assert_eq!(
            origin_of("https://tiles.example.org/styles/positron/style.json"),
            Some("https://tiles.example.org")
        );
        assert_eq!(
            origin_of("http://localhost:8081"),
            Some("http://localhost:8081")
        );
        assert_eq!(origin_of("https://a.org; script-src *"), None);
        assert_eq!(origin_of("https://user@a.org/x"), None);
        assert_eq!(origin_of("data:text/html,x"), None);
        let csp = content_security_policy(false, Some("https://tiles.example.org"));
        assert!(
            csp.contains("connect-src 'self' https://tiles.example.org;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self';"), "{csp}");
    }

    fn slow_router(limits: Limits) -> Router {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/fast",
                get(|| async { "ok" }).post(|b: String| async move { b }),
            )
            .layer(axum::middleware::from_fn_with_state(limits, guard))
    }

    #[tokio::test]
    async fn slow_handlers_time_out_with_503() {
        let limits = Limits {
            timeout: Duration::from_millis(50),
            ..Limits::default()
        };
        let res = slow_router(limits)
            .oneshot(Request::get("/slow").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(res.into_body(), 10_000).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"]["status"], 503);
    }

    #[tokio::test]
    async fn bodies_are_capped_even_when_chunked() {
        let limits = Limits {
            max_body_bytes: 10,
            ..Limits::default()
        };
        // No Content-Length header: the body is read and cut when it passes the cap.
        let req = Request::post("/fast")
            .body(Body::from("123456789012"))
            .unwrap();
        let res = slow_router(limits).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = axum::body::to_bytes(res.into_body(), 10_000).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains("10 bytes"));
        // A declared length over the cap is refused before reading.
        let req = Request::post("/fast")
            .header(header::CONTENT_LENGTH, "1000000")
            .body(Body::from("x"))
            .unwrap();
        let res = slow_router(limits).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let req = Request::post("/fast")
            .body(Body::from("0123456789"))
            .unwrap();
        let res = slow_router(limits).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}
