//! CKAN source: the Action API's `package_search`, paged as ckanext-harvest pages it.
//!
//! `GET {portal}/api/3/action/package_search?rows=100&start=N&sort=id asc[&fq=...]`, with
//! `start` advancing by the number of results, until a page with no results. Sorting by id
//! keeps the order stable while the portal changes during the crawl. Two byte-identical
//! pages in a row, or a page holding only records already read (a server ignoring
//! `start`), stop the crawl as a loop.
//!
//! Package dicts are mapped with the ckanext-dcatapit fields, read both as top-level keys
//! (how ckanext-scheming returns them) and as `extras` (how ckanext-dcat stores them):
//! `identifier`, `holder_name`/`holder_identifier`, `publisher_name`/`publisher_identifier`,
//! `theme` / `themes_aggregate`, `frequency`, `issued`, `modified`, `temporal_coverage`
//! (or `temporal_start`/`temporal_end`), `geographical_name`,
//! `geographical_geonames_url`, `spatial` (GeoJSON, ckanext-spatial), `uri`.
//!
//! Pitfalls: ckanext-dcatapit stores lists as JSON text inside strings
//! (`"[{\"theme\": \"EDUC\", ...}]"`) or as Postgres arrays (`"{DEU,ITA}"`); both are read.
//! Its dates are often day-first (`"04-08-2021"`): they are rewritten to ISO 8601 and the
//! record gets the `date-not-iso` defect. The record's identity is the package `id` (a
//! UUID that survives renames), not `identifier`, which publishers edit.

use reqwest::Url;
use serde_json::{Map, Value};

use super::{Crawl, Defect, Draft};
use crate::model::{FederatedAgent, FederatedContact, FederatedDistribution, FederatedSpatial};

/// Rows asked for per page (ckanext-harvest's value).
pub const ROWS: usize = 100;

const EU_THEME: &str = "http://publications.europa.eu/resource/authority/data-theme/";
const EU_FREQUENCY: &str = "http://publications.europa.eu/resource/authority/frequency/";

/// The `package_search` endpoint and the portal's base URL for a configured source URL.
pub fn endpoint(url: &str) -> Result<(Url, String), String> {
    let trimmed = url.trim().trim_end_matches('/');
    let (search, portal) = if let Some(base) = trimmed
        .strip_suffix("/api/3/action/package_search")
        .or_else(|| trimmed.strip_suffix("/api/action/package_search"))
    {
        (trimmed.to_string(), base.to_string())
    } else {
        (
            format!("{trimmed}/api/3/action/package_search"),
            trimmed.to_string(),
        )
    };
    let search = Url::parse(&search).map_err(|e| format!("{url}: not a URL: {e}"))?;
    Ok((search, portal))
}

/// The URL of the page starting at `start`.
pub fn page_url(search: &Url, start: usize, fq: Option<&str>) -> Url {
    let mut url = search.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("rows", &ROWS.to_string());
        q.append_pair("start", &start.to_string());
        q.append_pair("sort", "id asc");
        if let Some(fq) = fq {
            q.append_pair("fq", fq);
        }
    }
    url
}

/// Crawls a CKAN source.
pub(crate) async fn crawl(crawl: &mut Crawl) {
    let (search, portal) = match endpoint(&crawl.source.url) {
        Ok(e) => e,
        Err(e) => {
            crawl.fail(e);
            return;
        }
    };
    let fq = crawl.source.fq.clone();
    let mut start = 0usize;
    let mut declared: Option<u64> = None;
    loop {
        let url = page_url(&search, start, fq.as_deref());
        let Some(page) = crawl.fetch(url.clone(), "application/json").await else {
            return;
        };
        let (count, results) = match read_page(&page.body) {
            Ok(r) => r,
            Err(e) => {
                crawl.fail(format!("{url}: {e}"));
                return;
            }
        };
        if declared.is_none() {
            declared = count;
        }
        if results.is_empty() {
            crawl.page_read();
            if let Some(count) = declared
                && count != crawl.records_found()
            {
                crawl.warn(format!(
                    "package_search declared count {count}, but the pages held {} packages",
                    crawl.records_found()
                ));
            }
            return;
        }
        let ids: Vec<String> = results.iter().filter_map(package_id).collect();
        if ids.len() == results.len() && crawl.all_seen(ids.iter().map(String::as_str)) {
            crawl.stop(format!(
                "loop: {url} returned only packages already read (the server ignores start?)"
            ));
            return;
        }
        let n = results.len();
        let page_str = url.to_string();
        for pkg in &results {
            let mapped =
                map_package(pkg, &portal).finish(&crawl.source.name, &page_str, &crawl.now);
            crawl.add(mapped);
        }
        crawl.page_read();
        start += n;
    }
}

/// The `count` and `results` of a `package_search` answer.
pub fn read_page(body: &[u8]) -> Result<(Option<u64>, Vec<Value>), String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not JSON ({e}); is this a CKAN API?"))?;
    if v.get("success").and_then(Value::as_bool) != Some(true) {
        let message = v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(format!(
            "the CKAN API did not answer \"success\": true ({message})"
        ));
    }
    let result = v
        .get("result")
        .ok_or("the answer has no \"result\"; is this a CKAN API?")?;
    let results = result
        .get("results")
        .and_then(Value::as_array)
        .ok_or("the answer's result has no \"results\" list")?;
    Ok((result.get("count").and_then(Value::as_u64), results.clone()))
}

fn package_id(pkg: &Value) -> Option<String> {
    str_of(pkg.get("id")).or_else(|| str_of(pkg.get("name")))
}

/// A string, number or boolean as trimmed text; `None` when empty or absent.
fn str_of(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// A package field: the top-level key, else the `extras` entry.
fn field(pkg: &Map<String, Value>, key: &str) -> Option<String> {
    str_of(pkg.get(key)).or_else(|| {
        pkg.get("extras")?
            .as_array()?
            .iter()
            .find(|e| e.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|e| str_of(e.get("value")))
    })
}

/// A field holding a list: JSON text, a Postgres array `{A,B}`, or comma-separated text.
fn list_field(value: &str) -> Vec<Value> {
    let t = value.trim();
    if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(t) {
        return a;
    }
    let inner = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    inner
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .map(Value::String)
        .collect()
}

fn theme_code(raw: &str) -> Option<String> {
    let t = raw.trim();
    let code = t.strip_prefix(EU_THEME).unwrap_or(t).trim_end_matches('/');
    let upper = code.to_ascii_uppercase();
    crate::vocab::is_theme(&upper).then_some(upper)
}

/// Maps a package dict to a draft record, noting its defects.
pub(crate) fn map_package(pkg: &Value, portal: &str) -> Draft {
    let mut draft = Draft::default();
    let Some(pkg) = pkg.as_object() else {
        return draft;
    };
    draft.original_id = str_of(pkg.get("id")).or_else(|| str_of(pkg.get("name")));
    let name = str_of(pkg.get("name"));
    draft.uri = field(pkg, "uri");
    draft.landing_page = name
        .as_deref()
        .or(draft.original_id.as_deref())
        .map(|n| format!("{portal}/dataset/{n}"));
    draft.title = str_of(pkg.get("title"));
    draft.description = str_of(pkg.get("notes"));
    if draft.description.is_none() {
        draft.defects.insert(Defect::NoDescription);
    }
    if let Some(state) = str_of(pkg.get("state"))
        && state != "active"
    {
        // A deleted or draft package that a search still returned: not imported.
        draft.skip = Some(format!("the package's state is {state:?}, not \"active\""));
    }
    if pkg.get("private").and_then(Value::as_bool) == Some(true) {
        draft.skip = Some("the package is private".to_string());
    }
    draft.keywords = pkg
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| match t {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => {
                        str_of(o.get("display_name")).or_else(|| str_of(o.get("name")))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();

    let mut raw_themes: Vec<String> = Vec::new();
    for key in ["theme", "themes_aggregate", "dcat_theme"] {
        if let Some(v) = field(pkg, key) {
            for item in list_field(&v) {
                let theme = match &item {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => str_of(o.get("theme")),
                    _ => None,
                };
                raw_themes.extend(theme);
            }
        }
    }
    if raw_themes.is_empty() {
        // Without DCAT-AP_IT themes, CKAN groups are the closest thing.
        if let Some(groups) = pkg.get("groups").and_then(Value::as_array) {
            for g in groups {
                raw_themes.extend(
                    str_of(g.get("title"))
                        .or_else(|| str_of(g.get("display_name")))
                        .or_else(|| str_of(g.get("name"))),
                );
            }
        }
    }
    if raw_themes.is_empty() {
        draft.defects.insert(Defect::NoTheme);
    }
    for t in raw_themes {
        match theme_code(&t) {
            Some(code) => draft.themes.push(code),
            None => {
                draft.defects.insert(Defect::ThemeNotEuVocabulary);
                draft.themes.push(t);
            }
        }
    }

    let org = pkg.get("organization").and_then(Value::as_object);
    draft.publisher = match field(pkg, "publisher_name") {
        Some(name) => Some(FederatedAgent {
            name,
            identifier: field(pkg, "publisher_identifier"),
        }),
        None => org.and_then(|o| {
            Some(FederatedAgent {
                name: str_of(o.get("title")).or_else(|| str_of(o.get("name")))?,
                identifier: str_of(o.get("name")),
            })
        }),
    };
    draft.rights_holder = field(pkg, "holder_name").map(|name| FederatedAgent {
        name,
        identifier: field(pkg, "holder_identifier"),
    });
    if draft.rights_holder.is_none() {
        draft.defects.insert(Defect::NoRightsHolder);
    }
    let contact_name = field(pkg, "contact_name")
        .or_else(|| field(pkg, "maintainer"))
        .or_else(|| field(pkg, "author"));
    let contact_email = field(pkg, "contact_email")
        .or_else(|| field(pkg, "maintainer_email"))
        .or_else(|| field(pkg, "author_email"));
    draft.contact_point =
        (contact_name.is_some() || contact_email.is_some()).then_some(FederatedContact {
            name: contact_name,
            email: contact_email,
            url: None,
        });
    if draft.contact_point.is_none() {
        draft.defects.insert(Defect::NoContactPoint);
    }
    draft.license = field(pkg, "license_url")
        .filter(|u| super::clean::web_url(u).is_some())
        .or_else(|| field(pkg, "license_id"))
        .or_else(|| field(pkg, "license_title"));
    if draft.license.is_none() {
        draft.defects.insert(Defect::NoLicence);
    }
    draft.frequency = field(pkg, "frequency").map(|f| {
        let code = f.strip_prefix(EU_FREQUENCY).unwrap_or(&f).to_string();
        let upper = code.to_ascii_uppercase();
        if crate::vocab::is_frequency(&upper) {
            upper
        } else {
            f
        }
    });
    if draft.frequency.is_none() {
        draft.defects.insert(Defect::NoFrequency);
    }
    draft.issued = field(pkg, "issued").or_else(|| field(pkg, "metadata_created"));
    draft.modified = field(pkg, "modified").or_else(|| field(pkg, "metadata_modified"));
    if draft.modified.is_none() {
        draft.defects.insert(Defect::NoModified);
    }
    draft.temporal = field(pkg, "temporal_coverage")
        .and_then(|tc| {
            list_field(&tc).into_iter().find_map(|item| {
                let start = str_of(item.get("temporal_start"))?;
                Some((start, str_of(item.get("temporal_end"))))
            })
        })
        .or_else(|| {
            let start = field(pkg, "temporal_start")?;
            Some((start, field(pkg, "temporal_end")))
        });

    let mut spatial = FederatedSpatial::default();
    if let Some(name) = field(pkg, "geographical_name") {
        spatial.names.push(name);
    }
    if let Some(uri) = field(pkg, "geographical_geonames_url") {
        spatial.uris.push(uri);
    }
    if let Some(geom) = field(pkg, "spatial") {
        spatial.bbox = super::clean::geometry_bbox(&geom);
        if spatial.bbox.is_none() {
            draft.defects.insert(Defect::SpatialUnreadable);
        }
        spatial.geometry = Some(geom);
    }
    if spatial != FederatedSpatial::default() {
        draft.spatial = Some(spatial);
    }

    let resources = pkg
        .get("resources")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if resources.is_empty() {
        draft.defects.insert(Defect::NoDistribution);
    }
    for r in &resources {
        let access_url = str_of(r.get("access_url")).or_else(|| str_of(r.get("url")));
        if access_url.is_none() {
            draft.defects.insert(Defect::DistributionWithoutAccessUrl);
        }
        let format = str_of(r.get("distribution_format")).or_else(|| str_of(r.get("format")));
        if format.is_none() {
            draft.defects.insert(Defect::DistributionWithoutFormat);
        }
        draft.distributions.push(FederatedDistribution {
            title: str_of(r.get("name")),
            description: str_of(r.get("description")),
            access_url,
            download_url: str_of(r.get("download_url")),
            format,
            media_type: str_of(r.get("mimetype")),
            license: str_of(r.get("license_type"))
                .or_else(|| str_of(r.get("license")))
                .or_else(|| draft.license.clone()),
            byte_size: r.get("size").and_then(|s| match s {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }),
        });
    }
    draft
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let (s, p) = endpoint("https://dati.toscana.it/").unwrap();
        assert_eq!(
            s.as_str(),
            "https://dati.toscana.it/api/3/action/package_search"
        );
        assert_eq!(p, "https://dati.toscana.it");
        let (s, p) = endpoint("http://h/x/api/action/package_search").unwrap();
        assert_eq!(s.as_str(), "http://h/x/api/action/package_search");
        assert_eq!(p, "http://h/x");
        let u = page_url(&s, 200, Some("organization:capannori"));
        assert_eq!(
            u.as_str(),
            "http://h/x/api/action/package_search?rows=100&start=200&sort=id+asc&fq=organization%3Acapannori"
        );
    }

    #[test]
    fn lists_in_all_their_shapes() {
        assert_eq!(
            list_field("{DEU,ITA}"),
            [Value::from("DEU"), Value::from("ITA")]
        );
        assert_eq!(
            list_field("[\"a\", \"b\"]"),
            [Value::from("a"), Value::from("b")]
        );
        assert_eq!(list_field("ECON"), [Value::from("ECON")]);
        assert_eq!(
            theme_code("http://publications.europa.eu/resource/authority/data-theme/EDUC"),
            Some("EDUC".into())
        );
        assert_eq!(theme_code("educ"), Some("EDUC".into()));
        assert_eq!(theme_code("Istruzione"), None);
    }

    #[test]
    fn inactive_packages_are_skipped() {
        let pkg = serde_json::json!({"id": "x", "title": "T", "state": "deleted"});
        let err = map_package(&pkg, "http://p")
            .finish("s", "page", "now")
            .unwrap_err();
        assert_eq!(
            err.reason,
            "the package's state is \"deleted\", not \"active\""
        );
    }
}
