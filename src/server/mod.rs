//! The HTTP server: `pub fn app(state) -> axum::Router`, reading only the files that the
//! current generation's manifest lists.
//!
//! [`AppState::open`] loads the generation that `site/CURRENT` names; [`app`] builds the
//! router; [`serve`] / [`serve_listener`] run it with graceful shutdown. A watcher
//! ([`AppState::spawn_watcher`]) polls `CURRENT` and swaps a new generation in atomically,
//! and `site/search/CURRENT` for the search index ([`AppState::search`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), portale::server::ServerError> {
//! use std::time::Duration;
//! use portale::server::{AppState, serve_listener};
//!
//! let state = AppState::open(std::path::Path::new("site"))?;
//! state.spawn_watcher(Duration::from_secs(2));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await
//!     .map_err(|source| portale::server::ServerError::Serve { source })?;
//! serve_listener(state, listener, portale::server::ops::shutdown_signal()).await
//! # }
//! ```
//!
//! Routes (one file per family):
//!
//! | route | file |
//! |---|---|
//! | `GET/HEAD /` (home page), `/datasets` (the catalogue search page), HTML | [`pages`] |
//! | `GET/HEAD /map` (the map explorer), `/map/style.json` (its MapLibre style) | [`map_page`] |
//! | `GET/HEAD /about` (the data and the APIs), HTML | [`about_page`] |
//! | `GET/HEAD /static/{path}` (CSS, JS, fonts embedded in the binary) | [`assets`] |
//! | `GET/HEAD /datasets.json` (search), `/suggest.json` (completions) | [`search`] |
//! | `GET/HEAD /datasets/{id}` (the dataset page, HTML; 303 to a twin by `Accept`) | [`dataset_page`], through [`datasets`] |
//! | `GET/HEAD /datasets/{id}.json` | [`datasets`] |
//! | `GET/HEAD /datasets/{id}/pictures/{file}` (charts, thumbnails) | [`files`] |
//! | `GET/HEAD /catalog.ttl`, `/catalog.rdf`, `/catalog.jsonld`, `/datasets/{id}.{ttl,rdf,jsonld}` | [`dcat`] |
//! | `GET/HEAD /sitemap.xml`, `/robots.txt` | [`discovery`] |
//! | `GET/HEAD /datasets/{id}/files/{file}` | [`files`] |
//! | `GET/HEAD /-/health` | [`health`] |
//! | `GET/HEAD /-/harvest` (the last harvest report) | [`harvest`] |
//! | `GET/HEAD /-/metrics` (Prometheus text format; request ids and the access log too) | [`ops`] |
//! | `GET/HEAD /ogc`, `/ogc/...` (OGC API – Features) | [`ogc`] |
//! | `GET/POST /api/3/action/{action}`, `/api/action/{action}`, `GET /api/3` (CKAN) | [`ckan`] |
//! | `GET/HEAD /tiles/{layer}/{z}/{x}/{y}.mvt`, `/tiles/{layer}.json`, `/tiles/{layer}.pmtiles`, `/styles/{layer}.json` | [`tiles`] |
//!
//! Every response, errors included, carries `X-Portale-Generation`: the generation that
//! answered it. A request pins one generation when it starts ([`pin_generation`]) and
//! handlers read it through the [`Current`] extractor, so the header and the body always
//! agree even when the generation is swapped mid-request. Errors have one JSON shape
//! ([`ApiError`]); unknown paths are 404 and wrong methods 405.
//!
//! Pitfalls: URLs come only from [`Urls`] and the catalogue's `base_url`, never from the
//! request's `Host`. Downloads are not compressed on the fly (that would break
//! `Content-Length`, `ETag` and `Range`).

pub mod about_page;
pub mod assets;
mod body;
pub mod ckan;
pub mod dataset_page;
pub mod datasets;
pub mod dcat;
pub mod discovery;
pub mod downloads;
pub mod error;
pub mod federated;
pub mod files;
pub mod harvest;
pub mod health;
pub mod map_page;
pub mod ogc;
pub mod ops;
pub mod pages;
pub mod search;
mod search_cache;
pub mod security;
pub mod state;
pub mod tiles;
pub mod urls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, ServerError};
pub use state::{AppState, Generation, SearchIndex};
pub use urls::Urls;

/// The response header naming the generation that answered.
pub const GENERATION_HEADER: &str = "x-portale-generation";

/// The router with every route, the generation pinning middleware and request tracing.
pub fn app(state: AppState) -> Router {
    // The pages and their assets are compressed on the fly; the downloads and tiles are
    // not (their Content-Length, ETag and ranges are the files').
    let ui = Router::new()
        .route("/", get(pages::home))
        .route("/datasets", get(pages::datasets))
        .route("/datasets/{file}", get(datasets::one))
        .route("/map", get(map_page::map_page))
        .route("/map/style.json", get(map_page::style_json))
        .route("/about", get(about_page::about))
        .route("/static/{*path}", get(assets::asset))
        .layer(CompressionLayer::new());
    Router::new()
        .merge(ui)
        .route("/datasets.json", get(search::datasets))
        .route("/suggest.json", get(search::suggest))
        .route("/datasets/{id}/files/{file}", get(files::download))
        .route("/datasets/{id}/pictures/{file}", get(files::picture))
        .route("/-/health", get(health::health))
        .route("/-/harvest", get(harvest::report))
        .route("/-/metrics", get(ops::metrics))
        .merge(ogc::routes())
        .merge(dcat::routes())
        .merge(discovery::routes())
        .merge(ckan::routes())
        .route("/tiles/{file}", get(tiles::layer_file))
        .route("/tiles/{layer}/{z}/{x}/{y}", get(tiles::tile))
        .route("/styles/{file}", get(tiles::style))
        // Must come after the routes: it applies to the routes already added.
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        // Traversal, limits, timeout, CORS and security headers (inside pin_generation).
        .layer(middleware::from_fn_with_state(
            security::Limits::default(),
            security::guard,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            pin_generation,
        ))
        // Request ids, the access log and the metrics; outside pin_generation, so it sees
        // the X-Portale-Generation header of every answer.
        .layer(middleware::from_fn_with_state(
            ops::Metrics::shared(),
            ops::observe,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The generation a request was pinned to; extract it in handlers.
#[derive(Debug, Clone)]
pub struct Current(pub Arc<Generation>);

impl FromRequestParts<AppState> for Current {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Current, Infallible> {
        // Without the middleware (a handler mounted elsewhere), take the current one.
        Ok(parts
            .extensions
            .get::<Current>()
            .cloned()
            .unwrap_or_else(|| Current(state.current())))
    }
}

/// Middleware: pins the current generation for the whole request and names it in the
/// response's `X-Portale-Generation` header.
pub async fn pin_generation(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let generation = state.current();
    req.extensions_mut().insert(Current(generation.clone()));
    let mut response = next.run(req).await;
    // Generation names are `[0-9A-Za-z-]` (checked when CURRENT is read).
    if let Some(value) = generation.name_header() {
        response
            .headers_mut()
            .insert(GENERATION_HEADER, value.clone());
    }
    response
}

/// Binds `addr` and serves until `shutdown` resolves; see [`serve_listener`].
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    serve_listener(state, listener, shutdown).await
}

/// How long a client may take to send a request's head (request line and headers) on an
/// HTTP/1 connection, counted from its first byte, before the connection is closed. hyper's
/// own default value; `axum::serve` runs hyper without a timer, which leaves it off, so a
/// client sending one header line a minute (slow-loris) held its connection for ever.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves on an already bound listener (the caller knows the address, e.g. after binding
/// port 0) until `shutdown` resolves, then waits for requests in flight to finish.
pub async fn serve_listener(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_listener_with(state, listener, shutdown, HEADER_READ_TIMEOUT).await
}

/// [`serve_listener`] with another header-read timeout (the tests use a short one).
///
/// The accept loop is `axum::serve`'s, on hyper-util's connection builder with a timer, so
/// that hyper's `header_read_timeout` applies: one task per connection, HTTP/1.1 with
/// upgrades or HTTP/2 by prior knowledge, `TCP_NODELAY` set. On shutdown the listener is
/// closed, every connection is told to finish the request it is answering and close, and
/// the call returns once they all have.
pub async fn serve_listener_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_read_timeout: std::time::Duration,
) -> Result<(), ServerError> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    match listener.local_addr() {
        Ok(addr) => tracing::info!(%addr, generation = %state.current().name(), "serving"),
        Err(e) => tracing::warn!("cannot read the listening address: {e}"),
    }
    let counts = state.clone();
    let app = app(state);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    // Connections wait on `closing` (its sender is dropped at shutdown) and each holds a
    // clone of `open` until it ends, so `open_tx.closed()` says when they all have.
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(());
    let (open_tx, open_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let service = TowerToHyperService::new(
            app.clone()
                .map_request(|req: Request<hyper::body::Incoming>| req.map(axum::body::Body::new)),
        );
        let builder = builder.clone();
        let mut closing = closing_rx.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let mut told = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!("connection ended: {e}");
                        }
                        break;
                    }
                    _ = closing.changed(), if !told => {
                        told = true;
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(open);
        });
    }
    drop(listener);
    drop(closing_tx);
    drop(closing_rx);
    drop(open_rx);
    open_tx.closed().await;
    counts.downloads().save_if_changed();
    tracing::info!("server stopped");
    Ok(())
}

/// What the accept loop does when `accept` fails: nothing for a connection that went away
/// before it was accepted; otherwise (out of file descriptors, mostly) it logs and waits a
/// second, as hyper and axum do, rather than spin.
async fn accept_failed(e: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accepting a connection failed: {e}; retrying in 1 s");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}
