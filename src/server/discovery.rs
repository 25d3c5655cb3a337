//! Discovery for crawlers: `GET/HEAD /sitemap.xml` (the home page, the map, every dataset page
//! and the DCAT catalogue documents, with their last modification) and `/robots.txt`
//! (everything allowed, the sitemap named), both from the public base URL.
//!
//! A sitemap holds at most 50,000 URLs (sitemaps.org); past that `/sitemap.xml` becomes a
//! sitemap index whose parts are `/sitemap.xml?page=N`.
//!
//! Pitfall: URLs in XML are escaped (`&` in a base URL with a query would otherwise break
//! the document); robots.txt lives at the host's root, so behind a path prefix the proxy
//! must forward `/robots.txt` to it.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};

use super::Current;
use super::error::ApiError;
use super::state::AppState;
use crate::catalog::{CatalogUris, RdfSyntax};

/// URLs per sitemap file (the sitemaps.org limit).
pub const SITEMAP_LIMIT: usize = 50_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
}

fn lastmod(rfc3339: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(rfc3339).ok().map(|t| {
        t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    })
}

fn xml_response(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    response
}

async fn sitemap(
    Current(generation): Current,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, m);
    let Query(pairs) = query.map_err(|e| bad(format!("the query string cannot be read: {e}")))?;
    let page = match pairs.iter().find(|(k, _)| k == "page") {
        Some((_, v)) => Some(
            v.parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(format!("page {v:?} is not a page number (from 1)")))?,
        ),
        None => None,
    };
    let uris = CatalogUris::new(generation.urls());
    let built = generation
        .built_at()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    // (URL, last modification), home and catalogue documents first.
    let mut entries: Vec<(String, String)> = vec![
        (uris.home(), built.clone()),
        (generation.urls().absolute("/map"), built.clone()),
    ];
    for syntax in RdfSyntax::ALL {
        entries.push((uris.catalog_document(syntax), built.clone()));
    }
    for d in generation.datasets() {
        let modified = lastmod(&d.modified).unwrap_or_else(|| built.clone());
        entries.push((uris.dataset(&d.id), modified));
    }
    let parts = entries.len().div_ceil(SITEMAP_LIMIT);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if parts > 1 && page.is_none() {
        xml.push_str("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for n in 1..=parts {
            let loc = format!("{}?page={n}", uris.sitemap());
            let _ = writeln!(
                xml,
                "  <sitemap><loc>{}</loc><lastmod>{built}</lastmod></sitemap>",
                crate::xml::escape(&loc)
            );
        }
        xml.push_str("</sitemapindex>\n");
        return Ok(xml_response(xml));
    }
    let page = page.unwrap_or(1);
    if page > parts.max(1) {
        return Err(ApiError::not_found(format!(
            "sitemap page {page} is past the last one ({parts})"
        )));
    }
    xml.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (loc, modified) in entries
        .iter()
        .skip((page - 1) * SITEMAP_LIMIT)
        .take(SITEMAP_LIMIT)
    {
        let _ = writeln!(
            xml,
            "  <url><loc>{}</loc><lastmod>{modified}</lastmod></url>",
            crate::xml::escape(loc)
        );
    }
    xml.push_str("</urlset>\n");
    Ok(xml_response(xml))
}

async fn robots(Current(generation): Current) -> Response {
    let uris = CatalogUris::new(generation.urls());
    let body = format!("User-agent: *\nAllow: /\n\nSitemap: {}\n", uris.sitemap());
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
