//! HTTP hardening (issue 7, part 3) against a mini site built by the real build pipeline
//! and served in-process through `app(state)`: path traversal in every path parameter,
//! the request limits, CORS, and the security headers of the HTML pages.
//!
//! Oracles: a secret file planted above the site, next to it and inside the generation
//! directory (unlisted) whose bytes must never come back; the recipes written here; the
//! CSP rules of the issue (no inline script: every `<script>` of our pages has a `src` or is
//! a JSON-LD data block, and no `style` attribute or `<style>` element on the portal
//! pages); hyper's documented default of 100 headers per request.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri, header};
use http_body_util::BodyExt;
use portale::config;
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use serde_json::Value;
use tower::ServiceExt;

const SECRET: &str = "PORTALE-SECRET-7f3a9c";
const BASEMAP: &str = "https://tiles.example.org/styles/positron/style.json";

const SCUOLE: &str = r#"[dataset]
title = "Scuole"
description = "Due scuole di Capannori"
themes = ["EDUC"]
keywords = ["scuole"]
frequency = "ANNUAL"

[source]
files = ["scuole.csv"]

[geometry]
lon = "LON"
lat = "LAT"

[tiles]
max_zoom = 12
"#;

const SCUOLE_CSV: &str = "CODICE;DENOMINAZIONE;LON;LAT\r\nLU001;Primaria Lammari;10.50;43.78\r\nLU002;Infanzia Segromigno;10.65;43.93\r\n";

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    site: PathBuf,
}

fn build_site(map: &str) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    common::write_sources(
        &root,
        &common::capannori_catalog(map),
        "scuole",
        SCUOLE,
        &[("scuole.csv", SCUOLE_CSV.as_bytes())],
    );
    let site = common::build_site(&root);
    // The secret: above the site, next to the generations, and inside the current
    // generation without being listed in its manifest.
    fs::write(root.join("secret.txt"), SECRET).unwrap();
    fs::write(site.join("secret.txt"), SECRET).unwrap();
    let layout = SiteLayout::new(&site);
    let current = fs::read_to_string(layout.current_file()).unwrap();
    let generation = layout.generation_dir(current.trim());
    fs::write(layout.generations_dir().join("secret.txt"), SECRET).unwrap();
    fs::write(generation.join("secret.txt"), SECRET).unwrap();
    fs::write(generation.join("datasets").join("secret.txt"), SECRET).ok();
    Site {
        _dir: dir,
        root,
        site,
    }
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| build_site(""))
}

fn router() -> Router {
    app(AppState::open(&site().site).unwrap())
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The message of an error answer: `error.message`, or an OGC exception's
    /// `description` (the OGC API's own shape, with its `code`).
    fn error_message(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body).unwrap();
        match v["error"]["message"].as_str() {
            Some(m) => m.to_string(),
            None => {
                assert_eq!(v["code"], "InvalidParameterValue", "{v}");
                v["description"].as_str().unwrap().to_string()
            }
        }
    }
}

async fn send(router: &Router, req: Request<Body>) -> Reply {
    let res = router.clone().oneshot(req).await.unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.into_body().collect().await.unwrap().to_bytes(),
    }
}

async fn get(router: &Router, uri: &str) -> Reply {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// Every route with a path parameter; `{P}` is where the payload goes.
const ROUTES: &[&str] = &[
    "/{P}",
    "/datasets/{P}",
    "/datasets/{P}.json",
    "/datasets/{P}.ttl",
    "/datasets/{P}/files/scuole.csv",
    "/datasets/scuole/files/{P}",
    "/datasets/{P}/pictures/thumbnail.svg",
    "/datasets/scuole/pictures/{P}",
    "/tiles/{P}",
    "/tiles/{P}.json",
    "/tiles/{P}.pmtiles",
    "/tiles/{P}/1/1/1.mvt",
    "/tiles/scuole/{P}/1/1.mvt",
    "/tiles/scuole/1/{P}/1.mvt",
    "/tiles/scuole/1/1/{P}",
    "/styles/{P}",
    "/styles/{P}.json",
    "/static/{P}",
    "/static/css/{P}",
    "/map/{P}",
    "/ogc/{P}",
    "/ogc/collections/{P}",
    "/ogc/collections/{P}/items",
    "/ogc/collections/scuole/items/{P}",
    "/ogc/collections/{P}/items/1",
    "/ogc/collections/{P}/queryables",
    "/api/3/action/{P}",
    "/api/action/{P}",
    "/dataset/{P}",
    "/-/{P}",
];

fn payloads(root: &Path) -> Vec<String> {
    let absolute = root.join("secret.txt").to_string_lossy().into_owned();
    let mut p: Vec<String> = [
        "..",
        ".",
        "../secret.txt",
        "../../secret.txt",
        "../../../secret.txt",
        "../../../../secret.txt",
        "%2e%2e",
        "%2E%2E/secret.txt",
        "%2e%2e%2fsecret.txt",
        "..%2fsecret.txt",
        "..%2F..%2Fsecret.txt",
        "..%5csecret.txt",
        "..%5C..%5Csecret.txt",
        "%252e%252e%252fsecret.txt",
        "%252e%252e/secret.txt",
        "secret.txt%00.json",
        "secret.txt%00",
        "..\\secret.txt",
        "%2fetc%2fpasswd",
        "/etc/passwd",
        "secret.txt",
        "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    p.push(absolute.clone());
    p.push(absolute.replace('/', "%2f"));
    p
}

#[tokio::test]
async fn traversal_in_every_path_parameter_is_refused() {
    let router = router();
    let mut checked = 0;
    for route in ROUTES {
        for payload in payloads(&site().root) {
            let uri = route.replace("{P}", &payload);
            // A URI that does not even parse never reaches the router (hyper answers 400).
            if uri.parse::<Uri>().is_err() {
                continue;
            }
            let reply = get(&router, &uri).await;
            assert!(
                reply.status.is_client_error(),
                "{uri}: {} {}",
                reply.status,
                reply.text()
            );
            assert!(!reply.text().contains(SECRET), "{uri} leaked the secret");
            assert!(
                !reply.text().contains("root:x:0"),
                "{uri} leaked /etc/passwd"
            );
            for value in reply.headers.values() {
                assert!(!String::from_utf8_lossy(value.as_bytes()).contains(SECRET));
            }
            checked += 1;
        }
    }
    // Every route × payload but the few URIs that do not parse (raw backslash).
    assert!(
        checked >= ROUTES.len() * (payloads(&site().root).len() - 1),
        "{checked}"
    );
}

#[tokio::test]
async fn encoded_traversal_is_400_with_the_json_error_shape() {
    let router = router();
    let reply = get(&router, "/datasets/scuole/files/..%2f..%2fsecret.txt").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error_message().contains("%2F"), "{}", reply.text());
    // Listed files still download.
    let reply = get(&router, "/datasets/scuole/files/scuole.csv").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains("Primaria Lammari"));
}

/// `<script>` tags without `src` that are not JSON-LD data blocks, `style="` attributes
/// and `<style>` elements: what `script-src 'self'; style-src 'self'` would block.
fn inline_code(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in html.match_indices("<script") {
        let tag = &html[i..i + html[i..].find('>').unwrap()];
        if !tag.contains(" src=") && !tag.contains("type=\"application/ld+json\"") {
            found.push(tag.to_string());
        }
    }
    if html.contains(" style=\"") || html.contains(" style='") {
        found.push("a style attribute".into());
    }
    if html.contains("<style") {
        found.push("a <style> element".into());
    }
    found
}

#[tokio::test]
async fn html_pages_carry_the_security_headers_and_no_inline_code() {
    let router = router();
    for uri in ["/", "/datasets", "/datasets/scuole", "/map", "/about"] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        let csp = reply.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self';"), "{uri}: {csp}");
        assert!(csp.contains("style-src 'self';"), "{uri}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{uri}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{uri}");
        assert_eq!(
            reply.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("access-control-allow-origin"), None, "{uri}");
        assert_eq!(inline_code(&reply.text()), Vec::<String>::new(), "{uri}");
    }
    // The OGC pages have one <style>: allowed there, scripts still not.
    let reply = get(&router, "/ogc/collections?f=html").await;
    assert_eq!(reply.status, StatusCode::OK);
    let csp = reply.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self';") && csp.contains("'unsafe-inline'"));
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert!(!reply.text().contains("<script"));
}

#[tokio::test]
async fn machine_answers_get_nosniff_and_cors_but_no_page_headers() {
    let router = router();
    for uri in [
        "/datasets.json",
        "/suggest.json?q=scu",
        "/datasets/scuole.json",
        "/datasets/scuole/files/scuole.csv",
        "/catalog.ttl",
        "/ogc/collections?f=json",
        "/ogc/collections/scuole/items?f=json",
        "/api/3/action/package_list",
        "/tiles/scuole.json",
        "/styles/scuole.json",
        "/map/style.json",
        "/-/health",
    ] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text());
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{uri}"
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("content-security-policy"), None, "{uri}");
    }
    // Assets are for our own pages only.
    let reply = get(&router, "/static/css/portale.css").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), None);
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
}

fn preflight(uri: &str, method: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri(uri)
        .header(header::ORIGIN, "https://elsewhere.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn cors_preflight_allows_get_and_head_on_apis_only() {
    let router = router();
    let reply = send(&router, preflight("/ogc/collections", "GET")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("GET, HEAD")
    );
    let reply = send(&router, preflight("/tiles/scuole/1/1/1.mvt", "HEAD")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    // Other methods, and the pages: no CORS header at all.
    for (uri, method) in [
        ("/api/3/action/package_search", "POST"),
        ("/datasets.json", "DELETE"),
        ("/", "GET"),
        ("/datasets/scuole", "GET"),
        ("/static/css/portale.css", "GET"),
    ] {
        let reply = send(&router, preflight(uri, method)).await;
        assert!(reply.status.is_client_error(), "{uri} {method}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            None,
            "{uri} {method}"
        );
        assert_eq!(reply.header("access-control-allow-methods"), None);
    }
    // CKAN's POST answers, but same-origin only.
    let req = Request::post("/api/3/action/package_list")
        .header(header::ORIGIN, "https://elsewhere.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let reply = send(&router, req).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn query_parameters_have_caps_naming_the_parameter() {
    let router = router();
    let long_q = "scuola ".repeat(80);
    for (uri, param, cap) in [
        (format!("/datasets.json?q={long_q}"), "q", "500"),
        (
            format!("/api/3/action/package_search?q={long_q}"),
            "q",
            "500",
        ),
        (format!("/catalog.ttl?q={long_q}"), "q", "500"),
        (
            format!("/api/3/action/package_search?fq={}", "tags:a ".repeat(300)),
            "fq",
            "2000",
        ),
        (
            format!(
                "/ogc/collections/scuole/items?filter={}",
                "CODICE='LU001' OR ".repeat(250)
            ),
            "filter",
            "4096",
        ),
        (
            format!("/ogc/collections/scuole/items?bbox={}", "10.5,".repeat(60)),
            "bbox",
            "256",
        ),
    ] {
        let uri = uri.replace(' ', "%20").replace('\'', "%27");
        let reply = get(&router, &uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        // Each API answers in its own error shape (the OGC API's is in its OpenAPI,
        // CKAN's is the envelope ckanapi reads).
        let v: Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            uri.starts_with("/ogc/"),
            v.get("code").is_some(),
            "{uri}: {v}"
        );
        if uri.starts_with("/api/3/action/") {
            assert_eq!(v["success"], false, "{v}");
            assert_eq!(v["error"]["__type"], "Bad Request", "{v}");
            assert_eq!(
                v["help"], "/api/3/action/help_show?name=package_search",
                "{v}"
            );
        } else {
            assert!(v.get("success").is_none(), "{uri}: {v}");
        }
        let message = reply.error_message();
        assert!(
            message.starts_with(param) && message.contains(cap),
            "{message}"
        );
    }
    // The whole query string.
    let reply = get(&router, &format!("/datasets.json?x={}", "a".repeat(9000))).await;
    assert_eq!(reply.status, StatusCode::URI_TOO_LONG);
    // bbox: only 4 or 6 finite numbers (the OGC handler's own checks).
    for bbox in [
        "10.5,43.8,10.6",
        "10.5,43.8,inf,43.9",
        "NaN,43.8,10.6,43.9",
        "1,2,3,4,5",
    ] {
        let reply = get(
            &router,
            &format!("/ogc/collections/scuole/items?bbox={bbox}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bbox}");
        assert!(reply.text().contains("bbox"), "{}", reply.text());
    }
    // limit: a whole number from 1; larger ones count as the maximum (OGC API's rule).
    let reply = get(&router, "/ogc/collections/scuole/items?limit=0").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = get(
        &router,
        "/ogc/collections/scuole/items?limit=99999999&f=json",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    // Under the caps everything still works.
    let reply = get(
        &router,
        "/ogc/collections/scuole/items?bbox=10.4,43.7,10.7,43.95&f=json",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn request_bodies_are_capped_at_64_kib() {
    let router = router();
    let big = format!("{{\"q\": \"{}\"}}", "a".repeat(70 * 1024));
    let req = Request::post("/api/3/action/package_search")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len().to_string())
        .body(Body::from(big.clone()))
        .unwrap();
    let reply = send(&router, req).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        reply.error_message().contains("65536 bytes"),
        "{}",
        reply.text()
    );
    // Without a Content-Length (chunked): cut while reading.
    let req = Request::post("/api/3/action/package_search")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    assert_eq!(
        send(&router, req).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let req = Request::post("/api/3/action/package_search")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"q\": \"scuole\"}"))
        .unwrap();
    assert_eq!(send(&router, req).await.status, StatusCode::OK);
}

#[tokio::test]
async fn external_basemap_origin_is_allowed_by_the_csp() {
    static SITE: OnceLock<Site> = OnceLock::new();
    let site =
        SITE.get_or_init(|| build_site(&format!("\n[map]\nbasemap_style = \"{BASEMAP}\"\n")));
    let router = app(AppState::open(&site.site).unwrap());
    let reply = get(&router, "/map").await;
    assert_eq!(reply.status, StatusCode::OK);
    let csp = reply.header("content-security-policy").unwrap();
    assert!(
        csp.contains("connect-src 'self' https://tiles.example.org;"),
        "{csp}"
    );
    assert!(csp.contains("img-src 'self' data: blob: https://tiles.example.org;"));
    // The site without a basemap allows only itself.
    let reply = get(&router_default(), "/map").await;
    assert!(
        reply
            .header("content-security-policy")
            .unwrap()
            .contains("connect-src 'self';")
    );
}

fn router_default() -> Router {
    router()
}

/// A client that sends its request head slowly (slow-loris) is cut off once the
/// header-read timeout has passed, while the server keeps answering others.
#[tokio::test]
async fn a_slow_request_head_is_cut_off() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::open(&site().site).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(portale::server::serve_listener_with(
        state,
        listener,
        async {
            let _ = stopped.await;
        },
        Duration::from_millis(800),
    ));
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /-/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One more header line every 300 ms: the head never ends.
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let closed = loop {
        tokio::select! {
            read = slow.read(&mut buf) => match read {
                Ok(0) | Err(_) => break true,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            },
            () = tokio::time::sleep(Duration::from_millis(300)) => {
                if started.elapsed() > Duration::from_secs(10) {
                    break false;
                }
                if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
                    break true;
                }
            }
        }
    };
    let took = started.elapsed();
    assert!(closed, "the connection was still open after {took:?}");
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(5),
        "closed after {took:?}, the timeout is 800 ms"
    );
    let text = String::from_utf8_lossy(&out);
    assert!(
        out.is_empty() || text.starts_with("HTTP/1.1 408"),
        "answered {text}"
    );
    // A prompt client on the same server is answered.
    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    ok.write_all(b"GET /-/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    ok.read_to_end(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// hyper's defaults, kept: more than 100 headers is refused with 431 before any handler
/// runs.
#[tokio::test]
async fn too_many_headers_are_refused_by_hyper() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::open(&site().site).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(portale::server::serve_listener(state, listener, async {
        let _ = stopped.await;
    }));
    let ask = |headers: usize| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut req = String::from("GET /-/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        for i in 0..headers {
            req.push_str(&format!("X-Pad-{i}: {i}\r\n"));
        }
        req.push_str("\r\n");
        stream.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    };
    let fine = ask(50).await;
    assert!(fine.starts_with("HTTP/1.1 200"), "{fine}");
    let refused = ask(150).await;
    assert!(refused.starts_with("HTTP/1.1 431"), "{refused}");
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// The site of `tests/fixtures/hostile`: metadata and cells carrying HTML and scripts.
fn hostile_site() -> &'static (tempfile::TempDir, PathBuf) {
    static SITE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    SITE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile");
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let config = config::load_site(&root).unwrap();
        let opts = BuildOptions {
            jobs: 2,
            keep_going: false,
        };
        build::build(&config, &SiteLayout::new(&site), &opts, &Silent).unwrap();
        (dir, site)
    })
}

#[tokio::test]
async fn hostile_metadata_is_rendered_as_text() {
    let router = app(AppState::open(&hostile_site().1).unwrap());
    for uri in [
        "/",
        "/datasets",
        "/datasets?q=scuole",
        "/datasets/ostile",
        "/map",
        "/about",
        "/ogc/collections/ostile/items?f=html",
        "/ogc/collections/ostile?f=html",
    ] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        let html = reply.text();
        let lower = html.to_ascii_lowercase();
        for tag in [
            "<script>window",
            "<img src=x",
            "<svg onload",
            "<b onmouseover",
            "href=\"javascript:",
            "src=\"javascript:",
        ] {
            assert!(!lower.contains(tag), "{uri} has {tag:?}");
        }
        // Only our own scripts and the JSON-LD data block.
        assert!(
            inline_code(&html)
                .iter()
                .all(|t| t.contains("<style") && uri.starts_with("/ogc")),
            "{uri}: {:?}",
            inline_code(&html)
        );
    }
    // The payload is shown, escaped, where the title goes.
    let page = get(&router, "/datasets/ostile").await.text();
    assert!(page.contains("Scuole &#60;script&#62;window.__pwned=1&#60;/script&#62;"));
}
