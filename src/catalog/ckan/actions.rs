//! The actions of the CKAN Action API v3 that Portale answers, their parameters and
//! errors, and the response envelope — independent of HTTP (the server passes the
//! parameters in as a JSON object, whether they came from a query string, a form or a
//! JSON body).
//!
//! | action | parameters (others are ignored, as CKAN ignores them) |
//! |---|---|
//! | `package_list` | `limit`, `offset` (0 or absent: all) |
//! | `package_show` | `id` (name or id), or `name_or_id` |
//! | `package_search` | `q`, `fq`, `fq_list`, `rows` (default 10, at most 1000), `start`, `sort`, `facet`, `facet.field`, `facet.limit`, `facet.mincount` |
//! | `current_package_list_with_resources` | `limit` (default 10, at most 1000), `offset`, `page` |
//! | `organization_list`, `group_list` | `all_fields`, `sort` (`title`, `name`, `package_count` + `asc`/`desc`), `limit`, `offset`, `organizations` / `groups` |
//! | `organization_show`, `group_show` | `id` (name or id), `include_datasets` |
//! | `tag_list` | `query`, `all_fields`, `vocabulary_id` |
//! | `license_list`, `status_show`, `site_read` | — |
//! | `help_show` | `name` |
//!
//! Errors are CKAN's ([`CkanError`]): 404 "Not Found Error", 409 "Validation Error"
//! (`{"field": ["message"]}` plus a `message` summing them up), 400 "Search Query Error"
//! (a `sort` without a direction), 409 "Search Error" (a `q`/`fq` the search cannot
//! parse, a `sort` on an unknown field: what CKAN turns Solr's errors into), 400 "Bad
//! Request" (an unknown action, request data that is not a JSON object) and 403
//! "Authorization Error" for CKAN's write actions (this API is read-only).
//!
//! `package_search`'s free-text `q` (words, no `field:` syntax) goes through the
//! catalogue's search engine when the caller hands one in ([`call_with`] and a
//! [`FreeTextSearch`], normally [`crate::search::SearchEngine::matching`]), so that the
//! same words find the same datasets here, in `/datasets.json` and in the DCAT
//! catalogue; the engine's records that are not packages here (harvested records that
//! are not republished) are ignored. [`call`] (a site without a search index) evaluates
//! it as CKAN's DisMax instead ([`super::query`]). `fq`, a `q` with field syntax,
//! sorting, paging and facets are the same either way. An engine failure is a 409
//! "Search Error", as CKAN answers when Solr fails.
//!
//! Pitfall: CKAN answers an unknown action with a bare JSON string; here it gets the
//! same envelope as every other error, so that clients can always read `success`.

use serde::Serialize;
use serde_json::{Map, Value};

use super::CkanCatalog;
use super::query::{DEFAULT_SORT, QueryError, QueryKind, SearchRequest};
use crate::catalog::FreeTextSearch;
use crate::search::SearchError;

/// Action parameters: a JSON object (query-string values are strings).
pub type Params = Map<String, Value>;

/// The `ckan_version` `status_show` reports: the CKAN release whose API this mirrors.
pub const CKAN_VERSION: &str = "2.10.0";

/// Most rows `package_search` returns (CKAN's `ckan.search.rows_max`).
pub const ROWS_MAX: u64 = 1000;

/// Most filter queries and most facet fields one search may ask for: each costs a pass
/// over the matches, so an unbounded list would let one request take the server's time.
pub const MAX_LIST: usize = 100;

/// An action's failure, as CKAN reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CkanError {
    #[error("Not found: {0}")]
    NotFound(String),
    /// `(field, message)` pairs.
    #[error("Validation Error: {}", summary(.0))]
    Validation(Vec<(String, String)>),
    #[error("Search Query is invalid: {0}")]
    SearchQuery(String),
    #[error("Search error: {0}")]
    Search(String),
    #[error("Bad request - {0}")]
    BadRequest(String),
    #[error("Access denied: {0}")]
    Authorization(String),
}

fn summary(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(f, m)| format!("{f}: {m}"))
        .collect::<Vec<_>>()
        .join("; ")
}

impl CkanError {
    fn invalid(field: &str, message: impl Into<String>) -> CkanError {
        CkanError::Validation(vec![(field.to_string(), message.into())])
    }

    /// The HTTP status CKAN answers with.
    pub fn status(&self) -> u16 {
        match self {
            CkanError::NotFound(_) => 404,
            CkanError::Validation(_) | CkanError::Search(_) => 409,
            CkanError::SearchQuery(_) | CkanError::BadRequest(_) => 400,
            CkanError::Authorization(_) => 403,
        }
    }

    /// CKAN's `__type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            CkanError::NotFound(_) => "Not Found Error",
            CkanError::Validation(_) => "Validation Error",
            CkanError::SearchQuery(_) => "Search Query Error",
            CkanError::Search(_) => "Search Error",
            CkanError::BadRequest(_) => "Bad Request",
            CkanError::Authorization(_) => "Authorization Error",
        }
    }

    /// The `error` object of the envelope.
    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("__type".into(), Value::from(self.type_name()));
        error.insert("message".into(), Value::from(self.to_string()));
        if let CkanError::Validation(fields) = self {
            for (field, message) in fields {
                error.insert(field.clone(), Value::from(vec![message.clone()]));
            }
        }
        Value::Object(error)
    }
}

impl From<QueryError> for CkanError {
    fn from(e: QueryError) -> CkanError {
        match e {
            QueryError::SortOrder { .. } => CkanError::SearchQuery(e.to_string()),
            QueryError::Syntax { .. } | QueryError::SortField { .. } => {
                CkanError::Search(e.to_string())
            }
        }
    }
}

impl From<SearchError> for CkanError {
    fn from(e: SearchError) -> CkanError {
        match e {
            SearchError::BadRequest(message) => CkanError::Search(message),
            other => {
                // The details (the index's path) are for the log, not for the client.
                tracing::error!("package_search: the search engine failed: {other}");
                CkanError::Search("the search index cannot answer".to_string())
            }
        }
    }
}

/// The actions answered, with the text `help_show` gives for each.
pub const ACTIONS: &[(&str, &str)] = &[
    (
        "package_list",
        "Return a list of the names of the site's datasets (packages), sorted by name.\n\n:param limit: if given, the list of datasets will be broken into pages of at most ``limit`` datasets per page\n:param offset: when ``limit`` is given, the offset to start returning packages from",
    ),
    (
        "package_show",
        "Return the metadata of a dataset (package) and its resources.\n\n:param id: the id or name of the dataset",
    ),
    (
        "package_search",
        "Searches for packages satisfying a given search criteria (Solr syntax: q, fq, sort, rows, start, facet.field, facet.limit, facet.mincount).\n\n:param q: the search query (default ``*:*``)\n:param fq: any filter queries to apply\n:param sort: sorting of the search results (default ``score desc, metadata_modified desc``)\n:param rows: the maximum number of matching rows to return (default 10, at most 1000)\n:param start: the offset in the complete result for where the set of returned datasets should begin\n:param facet.field: the fields to facet upon (a JSON list)",
    ),
    (
        "current_package_list_with_resources",
        "Return a list of the site's datasets (packages) and their resources, most recently modified first.\n\n:param limit: the number of datasets to return (default 10, at most 1000)\n:param offset: the offset to start returning datasets from\n:param page: with ``limit``, the page to return (1-based)",
    ),
    (
        "organization_list",
        "Return a list of the names of the site's organizations (publishers).\n\n:param all_fields: return full organization dictionaries instead of just names\n:param sort: ``name``, ``title`` or ``package_count`` with ``asc`` or ``desc`` (default ``title asc``)\n:param limit: the maximum number of organizations returned\n:param offset: when ``limit`` is given, the offset to start returning organizations from\n:param organizations: a list of names of the organizations to return",
    ),
    (
        "organization_show",
        "Return the details of an organization.\n\n:param id: the id or name of the organization\n:param include_datasets: include a list of the organization's datasets",
    ),
    (
        "group_list",
        "Return a list of the names of the site's groups: the EU data themes of the catalogue.\n\n:param all_fields: return full group dictionaries instead of just names\n:param sort: ``name``, ``title`` or ``package_count`` with ``asc`` or ``desc`` (default ``title asc``)\n:param limit: the maximum number of groups returned\n:param offset: when ``limit`` is given, the offset to start returning groups from\n:param groups: a list of names of the groups to return",
    ),
    (
        "group_show",
        "Return the details of a group (an EU data theme).\n\n:param id: the id or name of the group\n:param include_datasets: include a list of the group's datasets",
    ),
    (
        "tag_list",
        "Return a list of the site's tags.\n\n:param query: a tag name query to search for\n:param all_fields: return full tag dictionaries instead of just names\n:param vocabulary_id: the id or name of a vocabulary (none exist here)",
    ),
    (
        "license_list",
        "Return the list of licenses used by the site's datasets.",
    ),
    (
        "status_show",
        "Return a dictionary with information about the site's configuration.",
    ),
    ("site_read", "Return ``True``."),
    (
        "help_show",
        "Return the help string for a particular API action.\n\n:param name: Action function name (eg `package_search`)",
    ),
];

/// CKAN actions that change data: refused with 403, as CKAN refuses an anonymous caller.
const WRITE_ACTIONS: &[&str] = &[
    "package_create",
    "package_update",
    "package_patch",
    "package_delete",
    "dataset_purge",
    "resource_create",
    "resource_update",
    "resource_patch",
    "resource_delete",
    "organization_create",
    "organization_update",
    "organization_patch",
    "organization_delete",
    "group_create",
    "group_update",
    "group_patch",
    "group_delete",
    "tag_create",
    "user_create",
];

/// Whether `action` is answered (known actions never give "Bad Request").
pub fn is_known(action: &str) -> bool {
    ACTIONS.iter().any(|(a, _)| *a == action) || WRITE_ACTIONS.contains(&action)
}

/// The `help` URL of an action: `{base}/api/3/action/help_show?name={action}` (the name is
/// left out when it is not a plain identifier, rather than echoing arbitrary input).
pub fn help_url(base: &str, action: &str) -> String {
    let plain = !action.is_empty()
        && action.len() <= 100
        && action
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain {
        format!("{base}/api/3/action/help_show?name={action}")
    } else {
        format!("{base}/api/3/action/help_show")
    }
}

fn json_string(s: &str) -> String {
    Value::from(s).to_string()
}

/// `{"help": …, "success": true, "result": …}` with `result` already JSON text.
pub fn envelope_ok(help: &str, result: &str) -> String {
    format!(
        "{{\"help\":{},\"success\":true,\"result\":{result}}}",
        json_string(help)
    )
}

/// `{"help": …, "error": {…}, "success": false}`.
pub fn envelope_error(help: &str, error: &CkanError) -> String {
    format!(
        "{{\"help\":{},\"error\":{},\"success\":false}}",
        json_string(help),
        error.to_json()
    )
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    // Plain structs, strings and numbers: serialisation cannot fail.
    serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!("cannot serialise a CKAN result: {e}");
        "null".to_string()
    })
}

fn raw_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push(']');
    out
}

// ---------------------------------------------------------------------------------------
// Parameters

fn get<'a>(params: &'a Params, key: &str) -> Option<&'a Value> {
    params.get(key).filter(|v| !v.is_null())
}

fn string(params: &Params, key: &str) -> Result<Option<String>, CkanError> {
    match get(params, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.to_string())),
        Some(_) => Err(CkanError::invalid(key, "Must be a string")),
    }
}

fn integer(params: &Params, key: &str) -> Result<Option<i64>, CkanError> {
    let invalid = || CkanError::invalid(key, "Invalid integer");
    match get(params, key) {
        None => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
            _ => Err(invalid()),
        },
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| invalid()),
        Some(_) => Err(invalid()),
    }
}

fn natural(params: &Params, key: &str) -> Result<Option<u64>, CkanError> {
    match integer(params, key)? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| CkanError::invalid(key, "Must be a natural number")),
    }
}

fn boolean(params: &Params, key: &str) -> Result<Option<bool>, CkanError> {
    match get(params, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) => Ok(Some(n.as_f64() != Some(0.0))),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "y" | "t" | "1" => Ok(Some(true)),
            "false" | "no" | "off" | "n" | "f" | "0" | "" => Ok(Some(false)),
            _ => Err(CkanError::invalid(key, format!("{s:?} is not a boolean"))),
        },
        Some(_) => Err(CkanError::invalid(key, "Must be a boolean")),
    }
}

/// A list of strings, given as a JSON list or as a string holding one.
fn string_list(params: &Params, key: &str) -> Result<Option<Vec<String>>, CkanError> {
    let value = match get(params, key) {
        None => return Ok(None),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map_err(|_| CkanError::invalid(key, "Could not parse as valid JSON"))?,
        Some(v) => v.clone(),
    };
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(CkanError::invalid(key, "Not a list of strings")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Err(CkanError::invalid(key, "Not a list")),
    }
}

/// A string or a list of strings (a repeated query parameter).
fn strings(params: &Params, key: &str) -> Result<Vec<String>, CkanError> {
    match get(params, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(CkanError::invalid(key, "Must be a string")),
            })
            .collect(),
        Some(_) => Ok(string(params, key)?.into_iter().collect()),
    }
}

fn required(params: &Params, key: &str) -> Result<String, CkanError> {
    string(params, key)?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| CkanError::invalid(key, "Missing value"))
}

fn page<T>(items: Vec<T>, offset: u64, limit: Option<u64>) -> Vec<T> {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    items.into_iter().skip(offset).take(limit).collect()
}

// ---------------------------------------------------------------------------------------
// Actions

/// Runs `action` and returns its `result` as JSON text; `package_search` evaluates a
/// free-text `q` as DisMax (for a site without a search index).
pub fn call(catalog: &CkanCatalog, action: &str, params: &Params) -> Result<String, CkanError> {
    call_with(catalog, action, params, None)
}

/// [`call`], `package_search` matching a free-text `q` with `search` when given.
pub fn call_with(
    catalog: &CkanCatalog,
    action: &str,
    params: &Params,
    search: Option<FreeTextSearch<'_>>,
) -> Result<String, CkanError> {
    match action {
        "package_list" => package_list(catalog, params),
        "package_show" => package_show(catalog, params),
        "package_search" => package_search(catalog, params, search),
        "current_package_list_with_resources" => current_package_list(catalog, params),
        "organization_list" => group_list(catalog, params, Kind::Organization),
        "organization_show" => group_show(catalog, params, Kind::Organization),
        "group_list" => group_list(catalog, params, Kind::Group),
        "group_show" => group_show(catalog, params, Kind::Group),
        "tag_list" => tag_list(catalog, params),
        "license_list" => Ok(to_json(&catalog.licenses)),
        "status_show" => Ok(status_show(catalog)),
        "site_read" => Ok("true".to_string()),
        "help_show" => help_show(params),
        a if WRITE_ACTIONS.contains(&a) => Err(CkanError::Authorization(format!(
            "this catalogue is read-only: {a} is not available"
        ))),
        other => Err(CkanError::BadRequest(format!(
            "Action name not known: {}",
            other.chars().take(100).collect::<String>()
        ))),
    }
}

fn package_list(catalog: &CkanCatalog, params: &Params) -> Result<String, CkanError> {
    // CKAN: a limit or offset of 0 is no limit / no offset.
    let limit = natural(params, "limit")?.filter(|l| *l > 0);
    let offset = natural(params, "offset")?.unwrap_or(0);
    let names: Vec<&str> = catalog.packages.iter().map(|p| p.name.as_str()).collect();
    Ok(to_json(&page(names, offset, limit)))
}

fn package_show(catalog: &CkanCatalog, params: &Params) -> Result<String, CkanError> {
    let key = match string(params, "id")?.filter(|s| !s.is_empty()) {
        Some(id) => id,
        None => {
            required(params, "name_or_id").map_err(|_| CkanError::invalid("id", "Missing value"))?
        }
    };
    catalog
        .package(&key)
        .map(|p| p.json.clone())
        .ok_or_else(|| CkanError::NotFound(format!("no dataset with name or id {key:?}")))
}

fn rows(params: &Params, key: &str) -> Result<u64, CkanError> {
    Ok(natural(params, key)?.unwrap_or(10).min(ROWS_MAX))
}

fn package_search(
    catalog: &CkanCatalog,
    params: &Params,
    search: Option<FreeTextSearch<'_>>,
) -> Result<String, CkanError> {
    let mut fq = strings(params, "fq")?;
    if let Some(list) = string_list(params, "fq_list")? {
        fq.extend(list);
    }
    let facets_on = boolean(params, "facet")?.unwrap_or(true);
    let facet_fields = if facets_on {
        string_list(params, "facet.field")?.unwrap_or_default()
    } else {
        Vec::new()
    };
    if fq.len() > MAX_LIST {
        return Err(CkanError::invalid(
            "fq",
            format!("at most {MAX_LIST} filter queries"),
        ));
    }
    if facet_fields.len() > MAX_LIST {
        return Err(CkanError::invalid(
            "facet.field",
            format!("at most {MAX_LIST} fields"),
        ));
    }
    let sort = string(params, "sort")?.filter(|s| !s.trim().is_empty());
    let req = SearchRequest {
        q: string(params, "q")?,
        fq,
        sort: sort.clone(),
        start: usize::try_from(natural(params, "start")?.unwrap_or(0)).unwrap_or(usize::MAX),
        rows: usize::try_from(rows(params, "rows")?).unwrap_or(usize::MAX),
        facet_fields,
        facet_limit: integer(params, "facet.limit")?.unwrap_or(50),
        facet_mincount: natural(params, "facet.mincount")?.unwrap_or(1),
    };
    let engine = match (QueryKind::of(req.q.as_deref()), search, &req.q) {
        (QueryKind::FreeText, Some(search), Some(q)) => {
            Some(catalog.engine_scores(&search(q.trim())?))
        }
        _ => None,
    };
    let outcome = catalog.index.search_with(&req, engine.as_ref())?;

    let mut facets = Map::new();
    let mut search_facets = Map::new();
    for (field, items) in &outcome.facets {
        let mut counts = Map::new();
        let mut listed = Vec::new();
        for (value, count) in items {
            counts.insert(value.clone(), Value::from(*count));
            let display = display_name(catalog, field, value);
            listed.push(serde_json::json!({
                "name": value,
                "display_name": display,
                "count": count,
            }));
        }
        facets.insert(field.clone(), Value::Object(counts));
        search_facets.insert(
            field.clone(),
            serde_json::json!({ "title": field, "items": listed }),
        );
    }
    // The index's documents are in the order of `catalog.packages`.
    let results = raw_array(
        outcome
            .page
            .iter()
            .filter_map(|&i| catalog.packages.get(i).map(|p| p.json.as_str())),
    );
    Ok(format!(
        "{{\"count\":{},\"facets\":{},\"results\":{results},\"sort\":{},\"search_facets\":{}}}",
        outcome.count,
        Value::Object(facets),
        json_string(sort.as_deref().unwrap_or(DEFAULT_SORT)),
        Value::Object(search_facets),
    ))
}

fn display_name(catalog: &CkanCatalog, field: &str, value: &str) -> String {
    let found = match field {
        "groups" => catalog.group(value).map(|g| g.theme.title.clone()),
        "organization" => catalog.organization(value).map(|o| o.dict.title.clone()),
        "license_id" => catalog
            .licenses
            .iter()
            .find(|l| l.id == value)
            .map(|l| l.title.clone()),
        _ => None,
    };
    found
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| value.to_string())
}

fn current_package_list(catalog: &CkanCatalog, params: &Params) -> Result<String, CkanError> {
    let limit = rows(params, "limit")?;
    let offset = match natural(params, "offset")? {
        Some(o) => o,
        None => match integer(params, "page")? {
            Some(p) if p < 1 => {
                return Err(CkanError::invalid("page", "Must be a positive integer"));
            }
            Some(p) => (p as u64 - 1).saturating_mul(limit),
            None => 0,
        },
    };
    let mut order: Vec<&super::Package> = catalog.packages.iter().collect();
    order.sort_by(|a, b| {
        b.metadata_modified
            .cmp(&a.metadata_modified)
            .then_with(|| a.id.cmp(&b.id))
    });
    let page = page(order, offset, Some(limit));
    Ok(raw_array(page.iter().map(|p| p.json.as_str())))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Organization,
    Group,
}

/// An organization or group in CKAN's `group_show` / `all_fields` shape.
#[derive(Serialize)]
struct GroupDict<'a> {
    approval_status: &'static str,
    created: &'a str,
    description: &'a str,
    display_name: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    identifier: Option<&'a str>,
    image_display_url: &'a str,
    image_url: &'a str,
    is_organization: bool,
    name: &'a str,
    num_followers: u64,
    package_count: usize,
    state: &'static str,
    title: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

struct Entry<'a> {
    dict: GroupDict<'a>,
    packages: &'a [usize],
}

fn entries(catalog: &CkanCatalog, kind: Kind) -> Vec<Entry<'_>> {
    match kind {
        Kind::Organization => catalog
            .organizations
            .iter()
            .map(|o| Entry {
                dict: GroupDict {
                    approval_status: "approved",
                    created: &o.dict.created,
                    description: &o.dict.description,
                    display_name: &o.dict.title,
                    id: &o.dict.id,
                    identifier: Some(&o.dict.identifier),
                    image_display_url: &o.dict.image_url,
                    image_url: &o.dict.image_url,
                    is_organization: true,
                    name: &o.dict.name,
                    num_followers: 0,
                    package_count: o.packages.len(),
                    state: "active",
                    title: &o.dict.title,
                    kind: "organization",
                },
                packages: &o.packages,
            })
            .collect(),
        Kind::Group => catalog
            .groups
            .iter()
            .map(|g| Entry {
                dict: GroupDict {
                    approval_status: "approved",
                    created: &g.created,
                    description: &g.theme.uri,
                    display_name: &g.theme.title,
                    id: &g.theme.id,
                    identifier: None,
                    image_display_url: "",
                    image_url: "",
                    is_organization: false,
                    name: &g.theme.name,
                    num_followers: 0,
                    package_count: g.packages.len(),
                    state: "active",
                    title: &g.theme.title,
                    kind: "group",
                },
                packages: &g.packages,
            })
            .collect(),
    }
}

fn group_list(catalog: &CkanCatalog, params: &Params, kind: Kind) -> Result<String, CkanError> {
    let filter_key = match kind {
        Kind::Organization => "organizations",
        Kind::Group => "groups",
    };
    let all_fields = boolean(params, "all_fields")?.unwrap_or(false);
    let limit = natural(params, "limit")?.filter(|l| *l > 0);
    let offset = natural(params, "offset")?.unwrap_or(0);
    let only = string_list(params, filter_key)?;
    let sort = string(params, "sort")?.unwrap_or_else(|| "title asc".to_string());
    let words: Vec<&str> = sort.split_whitespace().collect();
    let (field, desc) = match words.as_slice() {
        [field] => (*field, false),
        [field, "asc"] => (*field, false),
        [field, "desc"] => (*field, true),
        _ => {
            return Err(CkanError::invalid(
                "sort",
                format!("Cannot sort by {sort:?}"),
            ));
        }
    };
    let mut list = entries(catalog, kind);
    if let Some(only) = &only {
        list.retain(|e| only.iter().any(|n| n == e.dict.name));
    }
    match field {
        "name" => list.sort_by(|a, b| a.dict.name.cmp(b.dict.name)),
        "title" => list.sort_by(|a, b| {
            a.dict
                .title
                .cmp(b.dict.title)
                .then_with(|| a.dict.name.cmp(b.dict.name))
        }),
        "package_count" | "packages" => list.sort_by(|a, b| {
            a.dict
                .package_count
                .cmp(&b.dict.package_count)
                .then_with(|| a.dict.name.cmp(b.dict.name))
        }),
        other => {
            return Err(CkanError::invalid(
                "sort",
                format!("Cannot sort by field `{other}`"),
            ));
        }
    }
    if desc {
        list.reverse();
    }
    let list = page(list, offset, limit);
    if all_fields {
        let dicts: Vec<&GroupDict<'_>> = list.iter().map(|e| &e.dict).collect();
        Ok(to_json(&dicts))
    } else {
        let names: Vec<&str> = list.iter().map(|e| e.dict.name).collect();
        Ok(to_json(&names))
    }
}

fn group_show(catalog: &CkanCatalog, params: &Params, kind: Kind) -> Result<String, CkanError> {
    let id = required(params, "id")?;
    let include_datasets = boolean(params, "include_datasets")?.unwrap_or(false);
    let found = match kind {
        Kind::Organization => catalog.organization(&id).map(|o| o.dict.name.as_str()),
        Kind::Group => catalog.group(&id).map(|g| g.theme.name.as_str()),
    };
    let what = match kind {
        Kind::Organization => "organization",
        Kind::Group => "group",
    };
    let Some(name) = found else {
        return Err(CkanError::NotFound(format!(
            "no {what} with name or id {id:?}"
        )));
    };
    let all = entries(catalog, kind);
    let Some(entry) = all.iter().find(|e| e.dict.name == name) else {
        return Err(CkanError::NotFound(format!(
            "no {what} with name or id {id:?}"
        )));
    };
    let mut json = to_json(&entry.dict);
    // Append the lists CKAN's group_show carries, before the closing brace.
    json.pop();
    json.push_str(",\"extras\":[],\"groups\":[],\"tags\":[],\"users\":[]");
    if include_datasets {
        let packages = entry
            .packages
            .iter()
            .take(usize::try_from(ROWS_MAX).unwrap_or(usize::MAX))
            .filter_map(|&i| catalog.packages.get(i).map(|p| p.json.as_str()));
        json.push_str(",\"packages\":");
        json.push_str(&raw_array(packages));
    }
    json.push('}');
    Ok(json)
}

fn tag_list(catalog: &CkanCatalog, params: &Params) -> Result<String, CkanError> {
    if let Some(vocabulary) = string(params, "vocabulary_id")?.filter(|s| !s.is_empty()) {
        return Err(CkanError::NotFound(format!(
            "Could not find vocabulary {vocabulary:?}"
        )));
    }
    let query = string(params, "query")?.map(|q| q.to_lowercase());
    let all_fields = boolean(params, "all_fields")?.unwrap_or(false);
    let names: Vec<&str> = catalog
        .tags
        .keys()
        .map(String::as_str)
        .filter(|t| {
            query
                .as_deref()
                .is_none_or(|q| t.to_lowercase().contains(q))
        })
        .collect();
    if all_fields {
        let dicts: Vec<Value> = names
            .iter()
            .map(|name| {
                serde_json::json!({
                    "display_name": name,
                    "id": super::uuid::ckan_id(&format!("tag:{name}")),
                    "name": name,
                    "state": "active",
                    "vocabulary_id": null,
                })
            })
            .collect();
        Ok(to_json(&dicts))
    } else {
        Ok(to_json(&names))
    }
}

fn status_show(catalog: &CkanCatalog) -> String {
    let site = &catalog.site;
    to_json(&serde_json::json!({
        "site_title": site.title,
        "site_description": site.description,
        "site_url": site.url,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": null,
        "locale_default": site.locale,
        "extensions": ["portale"],
        "portale_version": site.portale_version,
    }))
}

fn help_show(params: &Params) -> Result<String, CkanError> {
    let name = required(params, "name")?;
    ACTIONS
        .iter()
        .find(|(a, _)| *a == name)
        .map(|(_, doc)| json_string(doc))
        .ok_or_else(|| CkanError::NotFound("Action function not found".to_string()))
}
