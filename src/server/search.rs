//! `GET/HEAD /datasets.json` (the catalogue search) and `GET/HEAD /suggest.json`
//! (as-you-type completions), answered by the search index the server has loaded
//! ([`super::AppState::search`]): our own datasets and the harvested records.
//!
//! `/datasets.json` takes
//!
//! | parameter | meaning |
//! |---|---|
//! | `q` | the words searched for: `scuole primarie`, `"raccolta differenziata"`, `-calendario` |
//! | `theme`, `publisher`, `format`, `license`, `keyword`, `frequency`, `origin` | facet filters, each repeatable (`theme=EDUC&theme=TRAN`: either), all facets named must match |
//! | `bbox` | `minx,miny,maxx,maxy` in WGS84 degrees: records whose extent intersects it |
//! | `start`, `end` | `YYYY-MM-DD`: records whose temporal coverage overlaps the period |
//! | `modified_since` | a date or an RFC 3339 instant |
//! | `sort` | `relevance` (default), `modified`, `title` |
//! | `page`, `per_page` | 1-based page, 1 to 100 results a page (default 20) |
//! | `facets` | `false` to skip the facet counts |
//!
//! and answers `{"total", "page", "per_page", "pages", "results", "facets", "relaxed",
//! "links"}`. Each result is the record's summary ([`crate::search::SearchDoc::summary`])
//! with absolute URLs (`url`: our dataset's page, or a harvested record's page at its
//! origin; its downloads' `url`), its `score` and the highlighted `title_html` and
//! `snippet_html` (HTML-escaped text with the matched words in `<mark>`, `null` when
//! nothing matched there). Facet values of themes, frequencies and licences carry their
//! Italian `label`.
//!
//! `/suggest.json?q=scuo&limit=8` answers `{"q", "words": [{"value", "count"}],
//! "datasets": [{"id", "title", "url"}]}` (`url` is `null` for harvested records).
//!
//! Pitfalls: an unknown or repeated single-valued parameter is a 400 naming it (a typo
//! such as `thema=EDUC` must not silently return everything); empty values (`bbox=` from
//! an HTML form) count as absent. Without a loaded index both routes answer 503 with a
//! JSON error saying how to build one. Deep pages cost memory in the engine, so at most
//! the first [`MAX_OFFSET`] results can be paged through.
//!
//! Answers are kept per index for repeated requests ([`super::search_cache`]); the
//! `X-Portale-Cache` header says `hit` or `miss`.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::search_cache::{self, ResponseCache};
use super::urls::Urls;
use super::{AppState, Current};
use crate::catalog::percent_encode;
use crate::search::{Facet, Hit, MAX_QUERY_CHARS, SearchError, SearchRequest, Sort};
use crate::vocab;

/// Results a page when `per_page` is not given.
pub const DEFAULT_PER_PAGE: usize = 20;
/// The largest `per_page`.
pub const MAX_PER_PAGE: usize = 100;
/// How deep pages may go: `(page - 1) * per_page` at most this.
pub const MAX_OFFSET: usize = 100_000;
/// Suggestions when `limit` is not given, and the largest `limit`.
pub const DEFAULT_SUGGESTIONS: usize = 8;
pub const MAX_SUGGESTIONS: usize = 20;

/// The parameters of `/datasets.json`.
const SEARCH_PARAMS: [&str; 16] = [
    "q",
    "theme",
    "publisher",
    "format",
    "license",
    "keyword",
    "frequency",
    "origin",
    "bbox",
    "start",
    "end",
    "modified_since",
    "sort",
    "page",
    "per_page",
    "facets",
];

/// The parameters of `/suggest.json`.
const SUGGEST_PARAMS: [&str; 2] = ["q", "limit"];

/// The Italian label of a facet value, for themes, frequencies and licences.
pub fn facet_label(facet: Facet, value: &str) -> Option<&'static str> {
    match facet {
        Facet::Theme => vocab::theme_labels(value).map(|(it, _)| it),
        Facet::Frequency => vocab::frequency_labels(value).map(|(it, _)| it),
        Facet::License => vocab::license(value).map(|l| l.label_it),
        _ => None,
    }
}

/// A search request read from the query string, with what its links repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub request: SearchRequest,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
    /// The non-empty parameters but `page`, in the order given: the links' query.
    pub kept: Vec<(String, String)>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// Names not in `known`, as a 400 listing them and what the route takes.
fn check_names(query: &[(String, String)], known: &[&str], route: &str) -> Result<(), ApiError> {
    let mut unknown: Vec<&str> = Vec::new();
    for (name, _) in query {
        if !known.contains(&name.as_str()) && !unknown.contains(&name.as_str()) {
            unknown.push(name);
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = unknown.iter().map(|n| format!("{n:?}")).collect();
    Err(bad(format!(
        "unknown parameter{} {}; {route} takes: {}",
        if unknown.len() > 1 { "s" } else { "" },
        names.join(", "),
        known.join(", ")
    )))
}

/// The one value of a single-valued parameter (empty counts as absent).
fn single<'a>(query: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = query.iter().filter(|(n, _)| n == name).map(|(_, v)| v);
    let first = values.next();
    if values.next().is_some() {
        return Err(bad(format!(
            "parameter {name:?} is given more than once; it takes one value"
        )));
    }
    Ok(first.map(|v| v.trim()).filter(|v| !v.is_empty()))
}

fn number(name: &str, value: &str, min: usize, max: usize) -> Result<usize, ApiError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            bad(format!(
                "{name}={value:?}: expected a whole number from {min} to {max}"
            ))
        })
}

/// `minx,miny,maxx,maxy` in WGS84 degrees.
pub fn parse_bbox(value: &str) -> Result<[f64; 4], String> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let expected = "expected minx,miny,maxx,maxy: four numbers in WGS84 degrees, longitudes \
                    from -180 to 180, latitudes from -90 to 90, each min at most its max";
    if parts.len() != 4 {
        return Err(format!(
            "bbox={value:?} has {} values; {expected}",
            parts.len()
        ));
    }
    let mut b = [0.0; 4];
    for (slot, part) in b.iter_mut().zip(&parts) {
        *slot = part
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("bbox={value:?}: {part:?} is not a number; {expected}"))?;
    }
    let [minx, miny, maxx, maxy] = b;
    let lon = -180.0..=180.0;
    let lat = -90.0..=90.0;
    if !(lon.contains(&minx) && lon.contains(&maxx)) {
        return Err(format!(
            "bbox={value:?}: a longitude is outside -180..180; {expected}"
        ));
    }
    if !(lat.contains(&miny) && lat.contains(&maxy)) {
        return Err(format!(
            "bbox={value:?}: a latitude is outside -90..90; {expected}"
        ));
    }
    if minx > maxx || miny > maxy {
        return Err(format!(
            "bbox={value:?}: a minimum is above its maximum; {expected}"
        ));
    }
    Ok(b)
}

fn parse_date(name: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| bad(format!("{name}={value:?}: expected a date YYYY-MM-DD")))
}

/// A date (its midnight, UTC) or an RFC 3339 instant.
fn parse_instant(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            bad(format!(
                "{name}={value:?}: expected a date YYYY-MM-DD or an RFC 3339 date and time \
                 (2026-03-01T10:00:00Z)"
            ))
        })
}

/// Reads `/datasets.json`'s parameters.
pub fn parse_search(query: &[(String, String)]) -> Result<SearchParams, ApiError> {
    check_names(query, &SEARCH_PARAMS, "/datasets.json")?;
    let mut request = SearchRequest::default();
    let q = single(query, "q")?.unwrap_or("");
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(format!(
            "q is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    request.q = q.to_string();
    for facet in Facet::ALL {
        let values: Vec<String> = query
            .iter()
            .filter(|(n, _)| n == facet.name())
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !values.is_empty() {
            request.filters.push((facet, values));
        }
    }
    if let Some(v) = single(query, "bbox")? {
        request.bbox = Some(parse_bbox(v).map_err(bad)?);
    }
    let start = single(query, "start")?
        .map(|v| parse_date("start", v))
        .transpose()?;
    let end = single(query, "end")?
        .map(|v| parse_date("end", v))
        .transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(bad(format!("start {s} is after end {e}")));
    }
    if start.is_some() || end.is_some() {
        request.temporal = Some((start, end));
    }
    request.modified_since = single(query, "modified_since")?
        .map(|v| parse_instant("modified_since", v))
        .transpose()?;
    if let Some(v) = single(query, "sort")? {
        request.sort = Sort::from_name(v)
            .ok_or_else(|| bad(format!("sort={v:?}: expected relevance, modified or title")))?;
    }
    let page = single(query, "page")?
        .map(|v| number("page", v, 1, MAX_OFFSET + 1))
        .transpose()?
        .unwrap_or(1);
    let per_page = single(query, "per_page")?
        .map(|v| number("per_page", v, 1, MAX_PER_PAGE))
        .transpose()?
        .unwrap_or(DEFAULT_PER_PAGE);
    let offset = (page - 1) * per_page;
    if offset > MAX_OFFSET {
        return Err(bad(format!(
            "page {page} starts after result {MAX_OFFSET}: only the first {MAX_OFFSET} results \
             can be paged through; narrow the search with q or the filters"
        )));
    }
    if let Some(v) = single(query, "facets")? {
        request.facets = match v {
            "true" => true,
            "false" => false,
            _ => return Err(bad(format!("facets={v:?}: expected true or false"))),
        };
    }
    request.offset = offset;
    request.limit = per_page;
    let kept = query
        .iter()
        .filter(|(n, v)| n != "page" && !v.trim().is_empty())
        .cloned()
        .collect();
    Ok(SearchParams {
        request,
        page,
        per_page,
        kept,
    })
}

/// The URL of page `page` of the same search.
fn page_url(urls: &Urls, kept: &[(String, String)], page: usize) -> String {
    let mut pairs = kept.to_vec();
    pairs.push(("page".into(), page.to_string()));
    with_query(&urls.datasets_json(), &pairs)
}

/// `base?pairs`, percent-encoded (`base` alone without pairs); the pages' links too.
pub fn with_query(base: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return base.to_string();
    }
    let q: Vec<String> = pairs
        .iter()
        .map(|(n, v)| format!("{}={}", percent_encode(n), percent_encode(v)))
        .collect();
    format!("{base}?{}", q.join("&"))
}

/// A hit as the answer shows it: the summary with absolute URLs, the score, the
/// highlights.
fn result(urls: &Urls, hit: Hit) -> Value {
    let mut obj = match hit.summary {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let url = match obj.remove("path") {
        Some(Value::String(path)) => Value::String(urls.absolute(&path)),
        _ => obj.get("landing_page").cloned().unwrap_or(Value::Null),
    };
    obj.insert("url".into(), url);
    if let Some(Value::Array(distributions)) = obj.get_mut("distributions") {
        for d in distributions.iter_mut() {
            if let Value::Object(d) = d
                && let Some(Value::String(path)) = d.remove("path")
            {
                d.insert("url".into(), Value::String(urls.absolute(&path)));
            }
        }
    }
    obj.insert("score".into(), json!(hit.score));
    obj.insert("title_html".into(), json!(hit.title_html));
    obj.insert("snippet_html".into(), json!(hit.snippet_html));
    Value::Object(obj)
}

fn no_index() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the search index has not been built: run `portale index` (or `portale build`) on \
         the server's site",
    )
}

fn search_error(e: SearchError) -> ApiError {
    match e {
        SearchError::BadRequest(message) => bad(message),
        other => ApiError::internal(other),
    }
}

fn decoded(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    query.map(|Query(q)| q).map_err(|e| {
        bad(format!(
            "the query string cannot be decoded: {}",
            e.body_text()
        ))
    })
}

/// `/datasets.json`: the catalogue search.
pub async fn datasets(
    State(state): State<AppState>,
    Current(generation): Current,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = decoded(query)?;
    let params = parse_search(&query)?;
    let index = state.search_index().ok_or_else(no_index)?;
    let key = search_cache::key("/datasets.json", generation.name(), raw.as_deref());
    if let Some(body) = index.responses().get(&key) {
        return Ok(json_response(body, "hit"));
    }
    let found = index
        .engine()
        .search(&params.request)
        .map_err(search_error)?;
    let urls = generation.urls();
    let per_page = params.per_page;
    let total = found.total;
    let pages = usize::try_from(total)
        .unwrap_or(usize::MAX)
        .div_ceil(per_page);
    let last = pages.max(1);
    let link = |p: usize| Value::String(page_url(urls, &params.kept, p));
    let links = json!({
        "self": link(params.page),
        "next": if params.page < pages { link(params.page + 1) } else { Value::Null },
        "prev": if params.page > 1 { link((params.page - 1).min(last)) } else { Value::Null },
        "first": link(1),
        "last": link(last),
    });
    let mut facets = Map::new();
    for (facet, counts) in found.facets {
        let values: Vec<Value> = counts
            .into_iter()
            .map(|c| {
                let mut o = Map::new();
                if let Some(label) = facet_label(facet, &c.value) {
                    o.insert("label".into(), json!(label));
                }
                o.insert("value".into(), json!(c.value));
                o.insert("count".into(), json!(c.count));
                Value::Object(o)
            })
            .collect();
        facets.insert(facet.name().into(), Value::Array(values));
    }
    let results: Vec<Value> = found.hits.into_iter().map(|h| result(urls, h)).collect();
    let body = json!({
        "total": total,
        "page": params.page,
        "per_page": per_page,
        "pages": pages,
        "results": results,
        "facets": facets,
        "relaxed": found.relaxed,
        "links": links,
    });
    Ok(cached(index.responses(), key, &body))
}

/// A JSON answer; `cache` (`hit` or `miss`) says whether it was kept from before.
fn json_response(body: Bytes, cache: &'static str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                HeaderName::from_static("x-portale-cache"),
                HeaderValue::from_static(cache),
            ),
        ],
        body,
    )
        .into_response()
}

/// Serialises `body`, keeps it in `cache` under `key`, answers it.
fn cached(cache: &ResponseCache, key: String, body: &Value) -> Response {
    // Serialising a `Value` cannot fail.
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    cache.put(key, bytes.clone());
    json_response(bytes, "miss")
}

/// `/suggest.json`: completions of what was typed so far.
pub async fn suggest(
    State(state): State<AppState>,
    Current(generation): Current,
    RawQuery(raw): RawQuery,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = decoded(query)?;
    check_names(&query, &SUGGEST_PARAMS, "/suggest.json")?;
    // The typed text is kept as is: a trailing space means the last word is finished.
    let q = match query.iter().filter(|(n, _)| n == "q").count() {
        0 => "",
        1 => query
            .iter()
            .find(|(n, _)| n == "q")
            .map(|(_, v)| v.as_str())
            .unwrap_or(""),
        _ => {
            return Err(bad(
                "parameter \"q\" is given more than once; it takes one value",
            ));
        }
    };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(format!(
            "q is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    let limit = single(&query, "limit")?
        .map(|v| number("limit", v, 1, MAX_SUGGESTIONS))
        .transpose()?
        .unwrap_or(DEFAULT_SUGGESTIONS);
    let index = state.search_index().ok_or_else(no_index)?;
    let key = search_cache::key("/suggest.json", generation.name(), raw.as_deref());
    if let Some(body) = index.responses().get(&key) {
        return Ok(json_response(body, "hit"));
    }
    let engine = index.engine();
    let urls = generation.urls();
    let (words, datasets) = if q.trim().is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let s = engine.suggest(q, limit).map_err(search_error)?;
        let words = s
            .words
            .into_iter()
            .map(|w| json!({"value": w.value, "count": w.count}))
            .collect();
        let datasets = s
            .records
            .into_iter()
            .map(|(key, title)| {
                // Our own datasets' keys are their ids; harvested ones are `source/key`.
                let url = if key.contains('/') {
                    Value::Null
                } else {
                    Value::String(urls.dataset_page(&key))
                };
                json!({"id": key, "title": title, "url": url})
            })
            .collect();
        (words, datasets)
    };
    let body = json!({"q": q, "words": words, "datasets": datasets});
    Ok(cached(index.responses(), key, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_become_a_request() {
        let p = parse_search(&pairs(&[
            ("q", "scuole primarie"),
            ("theme", "EDUC"),
            ("theme", "TRAN"),
            ("format", "CSV"),
            ("bbox", "10.5, 43.8,10.6,43.9"),
            ("start", "2024-01-01"),
            ("modified_since", "2026-03-01"),
            ("sort", "title"),
            ("page", "3"),
            ("per_page", "10"),
            ("facets", "false"),
            ("origin", ""),
        ]))
        .unwrap();
        let r = &p.request;
        assert_eq!(r.q, "scuole primarie");
        assert_eq!(
            r.filters,
            vec![
                (Facet::Theme, vec!["EDUC".to_string(), "TRAN".to_string()]),
                (Facet::Format, vec!["CSV".to_string()]),
            ]
        );
        assert_eq!(r.bbox, Some([10.5, 43.8, 10.6, 43.9]));
        assert_eq!(
            r.temporal,
            Some((NaiveDate::from_ymd_opt(2024, 1, 1), None))
        );
        assert_eq!(
            r.modified_since,
            DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
                .ok()
                .map(|t| t.with_timezone(&Utc))
        );
        assert_eq!(r.sort, Sort::Title);
        assert_eq!((r.offset, r.limit, p.page, p.per_page), (20, 10, 3, 10));
        assert!(!r.facets);
        // `page` and empty values are not repeated in the links.
        assert!(p.kept.iter().all(|(n, v)| n != "page" && !v.is_empty()));
        assert_eq!(p.kept.len(), 10);
    }

    #[test]
    fn defaults() {
        let p = parse_search(&[]).unwrap();
        assert_eq!(p.request, SearchRequest::default());
        assert_eq!((p.page, p.per_page), (1, DEFAULT_PER_PAGE));
    }

    #[test]
    fn bad_parameters_are_named() {
        for (query, needle) in [
            (
                vec![("thema", "EDUC"), ("zz", "1")],
                "unknown parameters \"thema\", \"zz\"",
            ),
            (
                vec![("q", "a"), ("q", "b")],
                "\"q\" is given more than once",
            ),
            (vec![("page", "0")], "page=\"0\""),
            (vec![("per_page", "101")], "per_page=\"101\""),
            (vec![("per_page", "x")], "per_page=\"x\""),
            (vec![("sort", "date")], "sort=\"date\""),
            (vec![("facets", "no")], "facets=\"no\""),
            (vec![("start", "2024-13-01")], "start=\"2024-13-01\""),
            (
                vec![("start", "2025-01-01"), ("end", "2024-01-01")],
                "is after end",
            ),
            (vec![("modified_since", "ieri")], "modified_since=\"ieri\""),
            (
                vec![("page", "2000"), ("per_page", "100")],
                "only the first 100000",
            ),
            (vec![("bbox", "1,2,3")], "has 3 values"),
        ] {
            let e = parse_search(&pairs(&query)).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
            assert!(e.message().contains(needle), "{query:?}: {}", e.message());
        }
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(parse_search(&pairs(&[("q", &long)])).is_err());
    }

    #[test]
    fn bboxes() {
        assert_eq!(
            parse_bbox("-180,-90,180,90"),
            Ok([-180.0, -90.0, 180.0, 90.0])
        );
        for b in [
            "10,43,9,44",
            "10,44,11,43",
            "-181,0,0,1",
            "0,-91,1,0",
            "0,0,181,1",
            "0,0,1,NaN",
            "0,0,1,inf",
            "a,b,c,d",
            "1,2,3,4,5",
            "",
        ] {
            assert!(parse_bbox(b).is_err(), "{b}");
        }
    }

    #[test]
    fn labels() {
        assert_eq!(
            facet_label(Facet::Theme, "EDUC"),
            Some("Istruzione, cultura e sport")
        );
        assert_eq!(facet_label(Facet::Frequency, "MONTHLY"), Some("mensile"));
        assert_eq!(
            facet_label(Facet::License, "A21_CCBY40"),
            Some("Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)")
        );
        assert_eq!(facet_label(Facet::Format, "CSV"), None);
        assert_eq!(facet_label(Facet::Theme, "Istruzione"), None);
    }

    /// The table against the EU frequency vocabulary itself: every EU frequency code of
    /// [`vocab::FREQUENCIES`] has the vocabulary's Italian `skos:prefLabel`.
    #[test]
    fn frequency_labels_are_the_vocabulary_ones() {
        use oxrdf::{NamedNodeRef, NamedOrBlankNode, Term};
        use oxrdfio::{RdfFormat, RdfParser};
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/eu-op_frequencies-filtered.rdf"
        );
        let bytes = std::fs::read(path).unwrap();
        let pref_label =
            NamedNodeRef::new("http://www.w3.org/2004/02/skos/core#prefLabel").unwrap();
        let mut labels = std::collections::BTreeMap::new();
        for quad in RdfParser::from_format(RdfFormat::RdfXml).for_slice(&bytes) {
            let quad = quad.unwrap();
            if quad.predicate.as_ref() != pref_label {
                continue;
            }
            let (NamedOrBlankNode::NamedNode(s), Term::Literal(l)) = (&quad.subject, &quad.object)
            else {
                continue;
            };
            if let Some(lang) = l.language().filter(|l| ["it", "en"].contains(l))
                && let Some(code) = s
                    .as_str()
                    .strip_prefix("http://publications.europa.eu/resource/authority/frequency/")
            {
                labels.insert((code.to_string(), lang.to_string()), l.value().to_string());
            }
        }
        assert_eq!(labels.len(), 2 * vocab::FREQUENCIES.len());
        let label = |code: &str, lang: &str| labels.get(&(code.to_string(), lang.to_string()));
        for code in vocab::FREQUENCIES {
            assert_eq!(
                facet_label(Facet::Frequency, code),
                label(code, "it").map(String::as_str),
                "{code}"
            );
            let (it, en) = vocab::frequency_labels(code).unwrap();
            assert_eq!(Some(&it.to_string()), label(code, "it"), "{code}");
            assert_eq!(Some(&en.to_string()), label(code, "en"), "{code}");
        }
        assert_eq!(vocab::FREQUENCY_LABELS.len(), vocab::FREQUENCIES.len());
    }
}
