//! `[[harvest]]` sections of `catalog/catalog.toml`: the remote catalogues `portale harvest`
//! pulls in as federated records.
//!
//! ```toml
//! [[harvest]]
//! name = "toscana"                       # [a-z0-9-], names site/federation/<name>.json
//! kind = "ckan"                          # "ckan" (Action API) or "dcat" (DCAT-AP / DCAT-AP_IT RDF)
//! url = "https://dati.toscana.it"
//! schedule = "daily"                     # "manual" (default), "hourly", "daily", "weekly", "every 30 minutes"
//! fq = "organization:comune-di-capannori" # CKAN only: a Solr filter for package_search
//! republish = false                      # true: include the records in our DCAT and CKAN outputs
//! [harvest.limits]
//! max_bytes = 50000000                   # per response
//! max_pages = 1000
//! timeout_seconds = 60                   # per request
//! max_seconds = 1800                     # the whole crawl of the source
//! ```
//!
//! Pitfall: the limits are what keep a broken or hostile portal from filling the disk or
//! hanging the harvest forever; they have safe defaults and cannot be switched off.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_spanned::Spanned;

use super::{ConfigError, line_of};

/// Default per-response size limit: 50 MB.
pub const DEFAULT_MAX_BYTES: u64 = 50_000_000;
/// Default number of pages fetched from one source in one crawl.
pub const DEFAULT_MAX_PAGES: u32 = 1000;
/// Default per-request timeout, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;
/// Default limit on one source's whole crawl, in seconds.
pub const DEFAULT_MAX_SECONDS: u64 = 1800;
/// The shortest interval a schedule may ask for.
pub const MIN_SCHEDULE_MINUTES: u64 = 5;

/// One `[[harvest]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarvestSection {
    pub name: Spanned<String>,
    pub kind: Spanned<SourceKind>,
    pub url: Spanned<String>,
    #[serde(default)]
    pub schedule: Option<Spanned<String>>,
    #[serde(default)]
    pub fq: Option<Spanned<String>>,
    #[serde(default)]
    pub republish: bool,
    #[serde(default)]
    pub limits: Option<Spanned<LimitsSection>>,
}

/// `[harvest.limits]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    #[serde(default)]
    pub max_bytes: Option<u64>,
    #[serde(default)]
    pub max_pages: Option<u32>,
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    #[serde(default)]
    pub max_seconds: Option<u64>,
}

/// What kind of catalogue a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A CKAN Action API (`{url}/api/3/action/package_search`).
    Ckan,
    /// A DCAT-AP / DCAT-AP_IT RDF document (Turtle, RDF/XML, JSON-LD), hydra-paged or not.
    Dcat,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Ckan => "ckan",
            SourceKind::Dcat => "dcat",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When `portale serve --root` / `portale up` harvest a source by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Only when `portale harvest` is run.
    Manual,
    /// Whenever this long has passed since the source's last harvest started.
    Every(Duration),
}

impl Schedule {
    /// Parses `manual`, `hourly`, `daily`, `weekly` or `every N minutes|hours|days`.
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let t = text.trim().to_ascii_lowercase();
        let minutes = match t.as_str() {
            "manual" => return Ok(Schedule::Manual),
            "hourly" => 60,
            "daily" => 24 * 60,
            "weekly" => 7 * 24 * 60,
            _ => {
                let words: Vec<&str> = t.split_whitespace().collect();
                let (n, unit) = match words.as_slice() {
                    ["every", n, unit] => (*n, *unit),
                    _ => return Err(schedule_help(text)),
                };
                let n: u64 = n.parse().map_err(|_| schedule_help(text))?;
                let per = match unit.trim_end_matches('s') {
                    "minute" => 1,
                    "hour" => 60,
                    "day" => 24 * 60,
                    _ => return Err(schedule_help(text)),
                };
                n.checked_mul(per).ok_or_else(|| schedule_help(text))?
            }
        };
        if minutes < MIN_SCHEDULE_MINUTES {
            return Err(format!(
                "schedule {text:?} is too frequent: harvest at most every {MIN_SCHEDULE_MINUTES} minutes"
            ));
        }
        Ok(Schedule::Every(Duration::from_secs(minutes * 60)))
    }
}

fn schedule_help(text: &str) -> String {
    format!(
        "schedule {text:?} is not one of \"manual\", \"hourly\", \"daily\", \"weekly\" or \
         \"every N minutes\" / \"every N hours\" / \"every N days\""
    )
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Manual => f.write_str("manual"),
            Schedule::Every(d) => write!(f, "every {} minutes", d.as_secs() / 60),
        }
    }
}

/// The limits a crawl of one source obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest response body read, in bytes; a longer one is cut off and the page fails.
    pub max_bytes: u64,
    /// Most pages fetched in one crawl; reaching it makes the crawl partial.
    pub max_pages: u32,
    /// Longest wait for one response, headers and body together.
    pub timeout: Duration,
    /// Longest time the whole crawl of the source may take.
    pub max_duration: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_pages: DEFAULT_MAX_PAGES,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
            max_duration: Duration::from_secs(DEFAULT_MAX_SECONDS),
        }
    }
}

/// One validated harvest source.
#[derive(Debug, Clone, PartialEq)]
pub struct HarvestSource {
    /// `[a-z0-9-]{2,60}`, unique in the catalogue.
    pub name: String,
    pub kind: SourceKind,
    /// CKAN: the portal's base URL (or its full `package_search` URL). DCAT: the URL of the
    /// catalogue (its first page), `http(s)://` or `file:///absolute/path`.
    pub url: String,
    pub schedule: Schedule,
    /// CKAN only: a Solr filter query sent as `fq` with every `package_search`.
    pub fq: Option<String>,
    /// Include the records in our own DCAT and CKAN outputs.
    pub republish: bool,
    pub limits: Limits,
}

/// Names that would clash with the files Portale keeps next to the source stores.
const RESERVED_NAMES: &[&str] = &["report", "lock"];

fn valid_name(name: &str) -> bool {
    (2..=60).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !RESERVED_NAMES.contains(&name)
}

/// Validates the `[[harvest]]` tables; every problem is pushed to `errors`.
pub fn validate(
    path: &Path,
    text: &str,
    sections: &[HarvestSection],
    errors: &mut Vec<ConfigError>,
) -> Vec<HarvestSource> {
    let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
    let mut out: Vec<HarvestSource> = Vec::new();
    for s in sections {
        let before = errors.len();
        let name = s.name.get_ref().clone();
        if !valid_name(&name) {
            errors.push(ConfigError::new(
                path,
                at(s.name.span()),
                format!(
                    "harvest name {name:?} must be 2 to 60 characters of a-z, 0-9 and - \
                     (and not {})",
                    RESERVED_NAMES.join(" or ")
                ),
            ));
        } else if out.iter().any(|o| o.name == name) {
            errors.push(ConfigError::new(
                path,
                at(s.name.span()),
                format!("harvest name {name:?} is used by two [[harvest]] sources"),
            ));
        }
        let kind = *s.kind.get_ref();
        let url = s.url.get_ref().trim().to_string();
        match reqwest::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            Ok(u) if u.scheme() == "file" && kind == SourceKind::Dcat => {}
            Ok(u) if u.scheme() == "file" => errors.push(ConfigError::new(
                path,
                at(s.url.span()),
                format!("harvest {name:?}: a CKAN source needs an http(s) URL, found {url:?}"),
            )),
            _ => errors.push(ConfigError::new(
                path,
                at(s.url.span()),
                format!(
                    "harvest {name:?}: url {url:?} is not an absolute http(s) URL{}",
                    if kind == SourceKind::Dcat {
                        " or a file:///absolute/path"
                    } else {
                        ""
                    }
                ),
            )),
        }
        let schedule = match &s.schedule {
            None => Schedule::Manual,
            Some(sp) => Schedule::parse(sp.get_ref()).unwrap_or_else(|e| {
                errors.push(ConfigError::new(
                    path,
                    at(sp.span()),
                    format!("harvest {name:?}: {e}"),
                ));
                Schedule::Manual
            }),
        };
        if let Some(fq) = &s.fq
            && kind != SourceKind::Ckan
        {
            errors.push(ConfigError::new(
                path,
                at(fq.span()),
                format!("harvest {name:?}: fq is a CKAN filter, but the source is {kind}"),
            ));
        }
        let mut limits = Limits::default();
        if let Some(l) = &s.limits {
            let line = at(l.span());
            let l = l.get_ref();
            if let Some(b) = l.max_bytes {
                if b < 1024 {
                    errors.push(ConfigError::new(
                        path,
                        line,
                        format!("harvest {name:?}: max_bytes must be at least 1024, found {b}"),
                    ));
                }
                limits.max_bytes = b;
            }
            if let Some(p) = l.max_pages {
                if p == 0 {
                    errors.push(ConfigError::new(
                        path,
                        line,
                        format!("harvest {name:?}: max_pages must be at least 1"),
                    ));
                }
                limits.max_pages = p;
            }
            if let Some(t) = l.timeout_seconds {
                if !(1..=3600).contains(&t) {
                    errors.push(ConfigError::new(
                        path,
                        line,
                        format!("harvest {name:?}: timeout_seconds must be 1 to 3600, found {t}"),
                    ));
                }
                limits.timeout = Duration::from_secs(t);
            }
            if let Some(t) = l.max_seconds {
                if t == 0 {
                    errors.push(ConfigError::new(
                        path,
                        line,
                        format!("harvest {name:?}: max_seconds must be at least 1"),
                    ));
                }
                limits.max_duration = Duration::from_secs(t);
            }
        }
        if errors.len() == before {
            out.push(HarvestSource {
                name,
                kind,
                url,
                schedule,
                fq: s.fq.as_ref().map(|f| f.get_ref().clone()),
                republish: s.republish,
                limits,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(Schedule::parse("manual"), Ok(Schedule::Manual));
        assert_eq!(
            Schedule::parse("daily"),
            Ok(Schedule::Every(Duration::from_secs(86_400)))
        );
        assert_eq!(
            Schedule::parse("every 30 minutes"),
            Ok(Schedule::Every(Duration::from_secs(1800)))
        );
        assert_eq!(
            Schedule::parse("Every 2 hours"),
            Ok(Schedule::Every(Duration::from_secs(7200)))
        );
        assert_eq!(
            Schedule::parse("every 1 day"),
            Ok(Schedule::Every(Duration::from_secs(86_400)))
        );
        assert!(Schedule::parse("every 1 minute").is_err());
        assert!(Schedule::parse("*/5 * * * *").is_err());
        assert!(Schedule::parse("every x hours").is_err());
    }

    #[test]
    fn names() {
        assert!(valid_name("toscana"));
        assert!(valid_name("dati-gov-it"));
        assert!(!valid_name("report"));
        assert!(!valid_name("Toscana"));
        assert!(!valid_name("../x"));
        assert!(!valid_name("x"));
    }
}
