//! Operations: request ids, the access log, `GET /-/metrics` (Prometheus text format 0.0.4)
//! and the shutdown signal.
//!
//! [`observe`] is one middleware around every route (and the fallbacks). For each request it
//!
//! - takes the client's `X-Request-Id` when it is sane (1 to 64 characters of
//!   `[A-Za-z0-9._-]`), otherwise makes one (16 hex digits), sends it back in the response's
//!   `X-Request-Id` and opens a `request{id=...}` tracing span around the handler, so every
//!   log line a handler writes carries it; [`current_request_id`] gives it to
//!   [`super::ApiError`]'s JSON body (`error.request_id`);
//! - writes one access-log line at `info` with target `portale::access`: method, route
//!   template (axum's [`MatchedPath`], `unmatched` for the 404 fallback), the raw path
//!   (escaped and truncated, see [`log_safe`]), status, latency in ms, bytes when the body
//!   length is known, and the generation that answered;
//! - counts it in [`Metrics`]: requests by route, method and status, and a latency
//!   histogram per route.
//!
//! Pitfalls: labels must have bounded cardinality, so routes are templates (never raw
//! paths) and methods outside the standard ones are counted as `OTHER`. The latency is
//! measured until the response head is ready: the streaming of a large download body is
//! not included. User-controlled strings (the path) are escaped before they reach the log,
//! so a request cannot forge a log line in the text format; the JSON format escapes by
//! itself. The download counts in `/-/metrics` are those of [`super::downloads`], which
//! survive restarts (they are read back from `site/stats/downloads.json`).

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tracing::Instrument;

use super::{AppState, Current, GENERATION_HEADER};

tokio::task_local! {
    /// The id of the request being answered, for [`current_request_id`].
    static REQUEST_ID: String;
}

/// The id of the request this task is answering (inside [`observe`]), e.g. for an error
/// body; `None` outside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The request and response header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The media type of the Prometheus text exposition format 0.0.4.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the latency histogram's buckets; `+Inf` is implicit.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The longest raw path written to the access log, in characters (before escaping).
const LOGGED_PATH_CHARS: usize = 200;

/// The route label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// True if `id` may be echoed as a request id: 1 to 64 characters of `[A-Za-z0-9._-]`.
pub fn is_sane_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Makes request ids: 16 hex digits, unique within the process (a bijective mix of a
/// counter and a per-process random seed), different across restarts.
#[derive(Debug)]
struct IdMaker {
    seed: u64,
    next: AtomicU64,
}

impl IdMaker {
    fn new() -> IdMaker {
        // RandomState is seeded from the operating system's randomness.
        IdMaker {
            seed: RandomState::new().hash_one(std::process::id()),
            next: AtomicU64::new(0),
        }
    }

    fn make(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}", splitmix64(self.seed.wrapping_add(n)))
    }
}

/// SplitMix64's finalizer: a bijection of u64, so distinct inputs give distinct ids.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `s` made safe for a text log line: at most `max_chars` characters, anything outside
/// printable ASCII (newlines, escape sequences, spaces, non-ASCII) written as `\xNN` or
/// `\u{NNNN}`, and backslashes doubled, so the result is one unambiguous token.
pub fn log_safe(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars) + 8);
    let mut chars = s.chars();
    for c in chars.by_ref().take(max_chars) {
        match c {
            '\\' => out.push_str("\\\\"),
            '!'..='~' => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

/// The method as a bounded label: the standard methods by name, any other as `OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// What is kept per route template.
#[derive(Debug, Default)]
struct RouteStats {
    /// Requests by (method, status).
    requests: BTreeMap<(&'static str, u16), u64>,
    /// Requests per latency bucket, not cumulative (the last one is `+Inf` only).
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    sum_seconds: f64,
    count: u64,
}

/// The request counters and latency histograms, shared by every route of one router.
///
/// One short `Mutex` section per request (a map lookup and a few additions); routes are
/// inserted once, on their first request.
#[derive(Debug)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    in_flight: AtomicI64,
    ids: IdMaker,
    started: SystemTime,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            routes: Mutex::new(BTreeMap::new()),
            in_flight: AtomicI64::new(0),
            ids: IdMaker::new(),
            started: SystemTime::now(),
        }
    }

    /// A new registry to hand to [`observe`] with `from_fn_with_state`.
    pub fn shared() -> Arc<Metrics> {
        Arc::new(Metrics::new())
    }

    /// Counts one answered request of `route` (a template or `unmatched`).
    pub fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let stats = match routes.get_mut(route) {
            Some(s) => s,
            None => routes.entry(route.to_string()).or_default(),
        };
        *stats
            .requests
            .entry((method_label(method), status))
            .or_insert(0) += 1;
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|le| seconds <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(b) = stats.buckets.get_mut(bucket) {
            *b += 1;
        }
        stats.sum_seconds += seconds;
        stats.count += 1;
    }

    /// A new request id (see [`is_sane_request_id`] for the ones taken from clients).
    pub fn new_request_id(&self) -> String {
        self.ids.make()
    }

    /// The request metrics in the Prometheus text format (without the site's gauges).
    pub fn render_requests(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        out.push_str(
            "# HELP portale_http_requests_total HTTP requests answered, by route template, \
             method and status.\n# TYPE portale_http_requests_total counter\n",
        );
        for (route, stats) in routes.iter() {
            let route = escape_label(route);
            for ((method, status), n) in &stats.requests {
                let _ = writeln!(
                    out,
                    "portale_http_requests_total{{route=\"{route}\",method=\"{method}\",\
                     status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str(
            "# HELP portale_http_request_duration_seconds Time to answer a request (until \
             the response head), by route template.\n\
             # TYPE portale_http_request_duration_seconds histogram\n",
        );
        for (route, stats) in routes.iter() {
            let route = escape_label(route);
            let mut cumulative = 0;
            for (le, n) in LATENCY_BUCKETS.iter().zip(stats.buckets.iter()) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "portale_http_request_duration_seconds_bucket{{route=\"{route}\",\
                     le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "portale_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 portale_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 portale_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                stats.count, stats.sum_seconds, stats.count
            );
        }
        drop(routes);
        let _ = writeln!(
            out,
            "# HELP portale_http_requests_in_flight Requests being answered.\n\
             # TYPE portale_http_requests_in_flight gauge\n\
             portale_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        if let Ok(t) = self.started.duration_since(UNIX_EPOCH) {
            let _ = writeln!(
                out,
                "# HELP process_start_time_seconds Start time of the process since the Unix \
                 epoch.\n# TYPE process_start_time_seconds gauge\n\
                 process_start_time_seconds {}",
                t.as_secs_f64()
            );
        }
    }
}

/// A label value escaped as the text format requires: `\`, `"` and newline.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Resident memory of this process from `/proc/self/status` (`VmRSS`), on Linux.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The middleware: request id, tracing span, access log and metrics (see the module docs).
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let id = match req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        Some(id) if is_sane_request_id(id) => id.to_string(),
        _ => metrics.new_request_id(),
    };
    // Sane ids and made ones are always valid header values.
    let id_header = HeaderValue::from_str(&id).ok();
    if let Some(v) = &id_header {
        req.headers_mut().insert(REQUEST_ID_HEADER, v.clone());
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED.to_string());
    let method = req.method().clone();
    let path = log_safe(req.uri().path(), LOGGED_PATH_CHARS);
    req.extensions_mut().insert(metrics.clone());

    let span = tracing::info_span!("request", id = %id);
    metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();

    let status = response.status().as_u16();
    metrics.record(&route, &method, status, elapsed);
    if let Some(v) = id_header {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let bytes = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .or_else(|| axum::body::HttpBody::size_hint(response.body()).exact());
    let generation = response
        .headers()
        .get(GENERATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    span.in_scope(|| {
        tracing::info!(
            target: "portale::access",
            method = %method,
            route = %log_safe(&route, LOGGED_PATH_CHARS),
            path = %path,
            status,
            latency_ms = (elapsed * 1e6).round() / 1e3,
            bytes,
            generation = %generation,
            "request"
        );
    });
    response
}

/// `GET/HEAD /-/metrics`: the Prometheus text exposition format 0.0.4.
pub async fn metrics(
    State(state): State<AppState>,
    Current(generation): Current,
    Extension(metrics): Extension<Arc<Metrics>>,
) -> Response {
    let mut out = String::with_capacity(8192);
    metrics.render_requests(&mut out);
    let _ = writeln!(
        out,
        "# HELP portale_build_info The Portale version and the generation being served.\n\
         # TYPE portale_build_info gauge\n\
         portale_build_info{{version=\"{}\",generation=\"{}\"}} 1",
        escape_label(env!("CARGO_PKG_VERSION")),
        escape_label(generation.name())
    );
    let age = (Utc::now() - generation.built_at()).num_milliseconds() as f64 / 1000.0;
    let _ = writeln!(
        out,
        "# HELP portale_generation_age_seconds Seconds since the served generation was built.\n\
         # TYPE portale_generation_age_seconds gauge\n\
         portale_generation_age_seconds {age}\n\
         # HELP portale_generation_datasets Datasets in the served generation.\n\
         # TYPE portale_generation_datasets gauge\n\
         portale_generation_datasets {}",
        generation.datasets().len()
    );
    if let Some(index) = state.search_index() {
        let _ = writeln!(
            out,
            "# HELP portale_search_index_records Records in the served search index.\n\
             # TYPE portale_search_index_records gauge\n\
             portale_search_index_records {}",
            index.engine().num_docs()
        );
    }
    out.push_str(
        "# HELP portale_downloads_total Whole-file downloads per dataset (kept across \
         restarts in site/stats/downloads.json).\n# TYPE portale_downloads_total counter\n",
    );
    let mut downloads = state.downloads().top(usize::MAX, |_| true);
    downloads.sort();
    for (dataset, n) in downloads {
        let _ = writeln!(
            out,
            "portale_downloads_total{{dataset=\"{}\"}} {n}",
            escape_label(&dataset)
        );
    }
    if let Some(rss) = resident_memory_bytes() {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\n\
             process_resident_memory_bytes {rss}"
        );
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what systemd and container runtimes
/// send), and logs which one; give it to [`super::serve_listener`].
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {
                        tracing::info!("received Ctrl-C: stopping after the requests in flight");
                    }
                    _ = term.recv() => {
                        tracing::info!("received SIGTERM: stopping after the requests in flight");
                    }
                }
                return;
            }
            Err(e) => tracing::warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops"),
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::error!("cannot listen for Ctrl-C ({e}); stopping");
        return;
    }
    tracing::info!("received Ctrl-C: stopping after the requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids() {
        assert!(is_sane_request_id("abc-123.X_y"));
        assert!(is_sane_request_id(&"a".repeat(64)));
        assert!(!is_sane_request_id(&"a".repeat(65)));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("a b"));
        assert!(!is_sane_request_id("a\nb"));
        assert!(!is_sane_request_id("<script>"));
        assert!(!is_sane_request_id("àèì"));
    }

    #[test]
    fn made_ids_are_sane_and_distinct() {
        let m = IdMaker::new();
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| m.make()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 16
            && id.bytes().all(|b| b.is_ascii_hexdigit())
            && is_sane_request_id(id)));
    }

    #[test]
    fn log_safe_cannot_break_a_line() {
        let forged = "/a\n2026-11-28T00:00:00Z  INFO forged\r\x1b[31m \\ è";
        let safe = log_safe(forged, 200);
        assert!(safe.chars().all(|c| c.is_ascii_graphic()), "{safe}");
        assert_eq!(
            safe,
            "/a\\x0a2026-11-28T00:00:00Z\\x20\\x20INFO\\x20forged\\x0d\\x1b[31m\\x20\\\\\\x20\\u{e8}"
        );
        assert_eq!(log_safe("abcdef", 3), "abc...");
        assert_eq!(log_safe("abc", 3), "abc");
    }

    #[test]
    fn label_escaping() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::new();
        for s in [0.0005, 0.003, 0.003, 0.2, 20.0] {
            m.record("/x", &Method::GET, 200, s);
        }
        m.record("/x", &Method::from_bytes(b"BREW").unwrap(), 405, 0.0);
        let mut out = String::new();
        m.render_requests(&mut out);
        for line in [
            "portale_http_requests_total{route=\"/x\",method=\"GET\",status=\"200\"} 5",
            "portale_http_requests_total{route=\"/x\",method=\"OTHER\",status=\"405\"} 1",
            "portale_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.001\"} 2",
            "portale_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 4",
            "portale_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.1\"} 4",
            "portale_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.25\"} 5",
            "portale_http_request_duration_seconds_bucket{route=\"/x\",le=\"10\"} 5",
            "portale_http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6",
            "portale_http_request_duration_seconds_count{route=\"/x\"} 6",
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line} in\n{out}");
        }
    }
}
