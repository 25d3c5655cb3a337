//! Harvesting other portals in: remote CKAN and DCAT catalogues become federated records.
//!
//! `portale harvest` (and the schedule in `portale serve --root` / `portale up`) crawls every
//! `[[harvest]]` source of `catalog.toml` ([`crate::config::HarvestSource`]):
//!
//! - [`ckan`]: a CKAN Action API, paged the way ckanext-harvest pages it
//!   (`package_search?rows=100&start=N&sort=id asc` until an empty page), package dicts
//!   mapped with the ckanext-dcatapit fields (holder, publisher, themes, frequency, ...).
//! - [`dcat`]: DCAT-AP / DCAT-AP_IT RDF (Turtle, RDF/XML, JSON-LD, N-Triples, chosen by
//!   `Content-Type`, else by extension, else by the first bytes), following `hydra:next` or
//!   `hydra:nextPage` (both paging styles, as Portale's own `/catalog.ttl` writes them).
//!
//! Each crawl runs under the source's [`Limits`](crate::config::Limits) ([`client`]):
//! response size, pages, per-request timeout and total time; a next link already seen or
//! a page identical to the previous one stops it (loop detection). Records are cleaned
//! ([`clean`]: markup removed from text, dates to ISO 8601, only web URLs kept),
//! malformed ones (no title, no identifier, bad dates) are skipped with the reason, and
//! what is left is merged into the source's store ([`store`]) incrementally. The outcome
//! of each crawl goes into the harvest report ([`report`]), saved in the site and served
//! at `/-/harvest`.
//!
//! Pitfalls, each learnt from a harvester that got it wrong:
//! - Records missing from a crawl are deleted only after a *complete* crawl of the source;
//!   a failed or partial crawl (a limit, a loop, a failing page) deletes nothing
//!   (DOMAIN.md §1: an incomplete page is worse than an error).
//! - Federated records live in `site/federation/`, never in a generation: harvesting
//!   never changes the served generation of our own datasets, and our DCAT and CKAN outputs
//!   must read them only through [`store::republished`] / [`store::republishable`], which
//!   honour `republish` (then [`crate::catalog::federated`] decides which records those
//!   outputs can carry).
//! - Remote text is untrusted: it is stored as plain text (the record names what was
//!   sanitised), and pages must still escape it.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let root = std::path::Path::new(".");
//! let config = portale::config::CatalogConfig::load(&root.join("catalog/catalog.toml"))?;
//! let report = portale::federation::harvest(&root.join("site"), &config.harvest, None).await?;
//! for s in &report.sources {
//!     println!("{}: {} ({} new)", s.name, s.status.as_str(), s.records.new);
//! }
//! # Ok(()) }
//! ```

pub mod ckan;
pub mod clean;
pub mod client;
pub mod dcat;
pub mod report;
pub mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Url;
use sha2::{Digest, Sha256};

use crate::config::{HarvestSource, Schedule, SourceKind};
use crate::model::{
    FederatedAgent, FederatedContact, FederatedDistribution, FederatedRecord, FederatedSpatial,
    TemporalExtent,
};
use client::{Fetched, Fetcher};
pub use report::{
    CrawlStatus, HarvestReport, MAX_LISTED, RecordCounts, SanitizedRecord, SkippedRecord,
    SourceReport,
};
pub use store::{FederationLayout, SourceStore, StoreError, load_all, republishable, republished};

/// Why a harvest could not run at all (problems of one source go into its report).
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no [[harvest]] source is named {name:?} (configured: {known})")]
    UnknownSource { name: String, known: String },
    #[error("the harvest task failed: {0}")]
    Task(String),
}

/// A metadata defect of a harvested record that did not prevent its import. The codes
/// appear in [`FederatedRecord::defects`] and, counted, in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Defect {
    /// No `dct:identifier`: the dataset URI stands in for it.
    NoIdentifier,
    NoDescription,
    NoModified,
    NoTheme,
    /// A theme that is not an EU data-theme (a literal, another vocabulary, a typo).
    ThemeNotEuVocabulary,
    NoFrequency,
    NoRightsHolder,
    NoContactPoint,
    /// A contact point without a vCard type (often a homepage URL instead of a vcard:Kind).
    ContactPointNotVcard,
    NoDistribution,
    /// An empty `dct:license` (the empty `<dct:license/>` many generators write).
    EmptyLicence,
    /// A CKAN package without licence.
    NoLicence,
    DistributionWithoutLicence,
    DistributionWithoutAccessUrl,
    DistributionWithoutFormat,
    /// A date written day-first (`04-08-2021`) or with a space, rewritten to ISO 8601.
    DateNotIso,
    /// A spatial geometry that is neither WKT nor GeoJSON in WGS84.
    SpatialUnreadable,
    /// A link that is not an http(s)/ftp URL (`javascript:`, relative), left out.
    UrlNotWeb,
}

impl Defect {
    pub const ALL: [Defect; 18] = [
        Defect::NoIdentifier,
        Defect::NoDescription,
        Defect::NoModified,
        Defect::NoTheme,
        Defect::ThemeNotEuVocabulary,
        Defect::NoFrequency,
        Defect::NoRightsHolder,
        Defect::NoContactPoint,
        Defect::ContactPointNotVcard,
        Defect::NoDistribution,
        Defect::EmptyLicence,
        Defect::NoLicence,
        Defect::DistributionWithoutLicence,
        Defect::DistributionWithoutAccessUrl,
        Defect::DistributionWithoutFormat,
        Defect::DateNotIso,
        Defect::SpatialUnreadable,
        Defect::UrlNotWeb,
    ];

    /// The stable code used in records and reports.
    pub fn code(self) -> &'static str {
        match self {
            Defect::NoIdentifier => "no-identifier",
            Defect::NoDescription => "no-description",
            Defect::NoModified => "no-modified",
            Defect::NoTheme => "no-theme",
            Defect::ThemeNotEuVocabulary => "theme-not-eu-vocabulary",
            Defect::NoFrequency => "no-frequency",
            Defect::NoRightsHolder => "no-rights-holder",
            Defect::NoContactPoint => "no-contact-point",
            Defect::ContactPointNotVcard => "contact-point-not-vcard",
            Defect::NoDistribution => "no-distribution",
            Defect::EmptyLicence => "empty-licence",
            Defect::NoLicence => "no-licence",
            Defect::DistributionWithoutLicence => "distribution-without-licence",
            Defect::DistributionWithoutAccessUrl => "distribution-without-access-url",
            Defect::DistributionWithoutFormat => "distribution-without-format",
            Defect::DateNotIso => "date-not-iso",
            Defect::SpatialUnreadable => "spatial-unreadable",
            Defect::UrlNotWeb => "url-not-web",
        }
    }
}

/// A record as a source mapped it, before cleaning: [`Draft::finish`] cleans it and
/// decides whether it is imported or skipped.
#[derive(Debug, Clone, Default)]
pub(crate) struct Draft {
    pub original_id: Option<String>,
    pub uri: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub keywords: Vec<String>,
    pub themes: Vec<String>,
    pub publisher: Option<FederatedAgent>,
    pub rights_holder: Option<FederatedAgent>,
    pub contact_point: Option<FederatedContact>,
    pub license: Option<String>,
    pub frequency: Option<String>,
    pub issued: Option<String>,
    pub modified: Option<String>,
    pub landing_page: Option<String>,
    pub distributions: Vec<FederatedDistribution>,
    pub spatial: Option<FederatedSpatial>,
    /// Raw start and end.
    pub temporal: Option<(String, Option<String>)>,
    pub defects: BTreeSet<Defect>,
    /// Set when the source itself says the record must not be imported (a deleted or
    /// private CKAN package): the reason.
    pub skip: Option<String>,
}

/// What a page holds for the crawl: imported records or skipped ones.
pub(crate) type Mapped = Result<FederatedRecord, SkippedRecord>;

/// Cleans text fields and remembers which ones held markup.
#[derive(Default)]
struct Cleaner {
    sanitized: BTreeSet<String>,
    defects: BTreeSet<Defect>,
}

impl Cleaner {
    /// One-line text (titles, names, keywords): `None` when nothing is left.
    fn line(&mut self, field: &str, raw: Option<&str>) -> Option<String> {
        let (t, changed) = clean::plain_text(raw?, false);
        if changed {
            self.sanitized.insert(field.to_string());
        }
        (!t.is_empty()).then_some(t)
    }

    /// Multi-line text (descriptions).
    fn multi(&mut self, field: &str, raw: Option<&str>) -> Option<String> {
        let (t, changed) = clean::plain_text(raw?, true);
        if changed {
            self.sanitized.insert(field.to_string());
        }
        (!t.is_empty()).then_some(t)
    }

    /// A link: kept only if it is a web URL.
    fn web(&mut self, raw: Option<&str>) -> Option<String> {
        let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
        let url = clean::web_url(raw);
        if url.is_none() {
            self.defects.insert(Defect::UrlNotWeb);
        }
        url
    }

    fn date(&mut self, what: &str, raw: Option<&str>) -> Result<Option<String>, String> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(r) => {
                let d = clean::date(r).map_err(|e| format!("bad {what} date: {e}"))?;
                if d.rewritten {
                    self.defects.insert(Defect::DateNotIso);
                }
                Ok(Some(d.value))
            }
        }
    }

    fn list(&mut self, field: &str, raw: &[String]) -> Vec<String> {
        let mut out: Vec<String> = raw
            .iter()
            .filter_map(|k| self.line(field, Some(k)))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    fn agent(&mut self, field: &str, a: Option<&FederatedAgent>) -> Option<FederatedAgent> {
        let a = a?;
        let name = self.line(field, Some(&a.name))?;
        let identifier = self.line(field, a.identifier.as_deref());
        Some(FederatedAgent { name, identifier })
    }
}

impl Draft {
    /// Cleans the draft into a record, or says why it is skipped.
    pub fn finish(self, source: &str, page: &str, now: &str) -> Mapped {
        let mut c = Cleaner {
            defects: self.defects.clone(),
            ..Cleaner::default()
        };
        let title = c.line("title", self.title.as_deref());
        let original_id = c.line("original_id", self.original_id.as_deref());
        let skip = |reason: String| SkippedRecord {
            id: original_id.clone().or_else(|| self.uri.clone()),
            title: title.clone(),
            page: page.to_string(),
            reason,
        };
        if let Some(reason) = &self.skip {
            return Err(skip(reason.clone()));
        }
        let Some(id) = original_id.clone() else {
            return Err(skip(
                "no identifier (neither dct:identifier nor a dataset URI / CKAN id)".into(),
            ));
        };
        let Some(title) = title.clone() else {
            return Err(skip("no title".into()));
        };
        let issued = c.date("issued", self.issued.as_deref()).map_err(skip)?;
        let modified = c.date("modified", self.modified.as_deref()).map_err(skip)?;
        let temporal = match &self.temporal {
            None => None,
            Some((start, end)) => {
                let start = c.date("temporal start", Some(start)).map_err(skip)?;
                let end = c.date("temporal end", end.as_deref()).map_err(skip)?;
                start.map(|start| TemporalExtent { start, end })
            }
        };
        let description = c
            .multi("description", self.description.as_deref())
            .unwrap_or_default();
        let keywords = c.list("keywords", &self.keywords);
        let themes = c.list("themes", &self.themes);
        let publisher = c.agent("publisher", self.publisher.as_ref());
        let rights_holder = c.agent("rights_holder", self.rights_holder.as_ref());
        let landing_page = c.web(self.landing_page.as_deref());
        let contact_point = self.contact_point.as_ref().and_then(|cp| {
            let name = c.line("contact_point", cp.name.as_deref());
            let email = c
                .line("contact_point", cp.email.as_deref())
                .map(|e| e.trim_start_matches("mailto:").to_string())
                .filter(|e| !e.is_empty());
            let url = c.web(cp.url.as_deref());
            (name.is_some() || email.is_some() || url.is_some()).then_some(FederatedContact {
                name,
                email,
                url,
            })
        });
        let mut distributions: Vec<FederatedDistribution> = self
            .distributions
            .iter()
            .map(|d| FederatedDistribution {
                title: c.line("distributions", d.title.as_deref()),
                description: c.multi("distributions", d.description.as_deref()),
                access_url: c.web(d.access_url.as_deref()),
                download_url: c.web(d.download_url.as_deref()),
                format: c.line("distributions", d.format.as_deref()),
                media_type: c.line("distributions", d.media_type.as_deref()),
                license: c.line("distributions", d.license.as_deref()),
                byte_size: d.byte_size,
            })
            .collect();
        distributions.sort_by(|a, b| {
            (&a.access_url, &a.download_url, &a.title, &a.format).cmp(&(
                &b.access_url,
                &b.download_url,
                &b.title,
                &b.format,
            ))
        });
        let spatial = self.spatial.as_ref().map(|s| {
            let mut uris = s.uris.clone();
            uris.sort();
            uris.dedup();
            FederatedSpatial {
                uris,
                names: c.list("spatial", &s.names),
                geometry: s.geometry.clone(),
                bbox: s.bbox,
            }
        });
        let license = c.line("license", self.license.as_deref());
        let frequency = c.line("frequency", self.frequency.as_deref());
        let uri = self.uri.as_deref().and_then(clean::web_url);

        let mut record = FederatedRecord {
            source: source.to_string(),
            key: String::new(),
            original_id: id.clone(),
            uri,
            title,
            description,
            keywords,
            themes,
            publisher,
            rights_holder,
            contact_point,
            license,
            frequency,
            issued,
            modified,
            landing_page,
            harvested_from: String::new(),
            distributions,
            spatial,
            temporal,
            sanitized: c.sanitized.into_iter().collect(),
            defects: c.defects.iter().map(|d| d.code().to_string()).collect(),
            hash: String::new(),
            harvested_at: String::new(),
        };
        record.hash = content_hash(&record);
        record.key = record_key(source, &id);
        record.harvested_from = page.to_string();
        record.harvested_at = now.to_string();
        Ok(record)
    }
}

/// SHA-256 of the record with its bookkeeping fields blanked.
fn content_hash(record: &FederatedRecord) -> String {
    let mut r = record.clone();
    r.key.clear();
    r.hash.clear();
    r.harvested_from.clear();
    r.harvested_at.clear();
    let bytes = serde_json::to_vec(&r).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// 16 hex digits of SHA-256(source, newline, original id): stable and URL-safe.
pub fn record_key(source: &str, original_id: &str) -> String {
    let digest = Sha256::digest(format!("{source}\n{original_id}").as_bytes());
    hex::encode(&digest[..8])
}

/// One crawl of one source: the pages read, the records found and why it stopped.
pub(crate) struct Crawl {
    pub source: HarvestSource,
    fetcher: Fetcher,
    /// `harvested_at` of the records of this crawl.
    pub now: String,
    pages: u32,
    pages_read: u32,
    bytes: u64,
    seen_urls: HashSet<String>,
    last_page_hash: Option<Vec<u8>>,
    records: Vec<FederatedRecord>,
    ids: HashMap<String, String>,
    skipped: Vec<SkippedRecord>,
    skipped_count: u64,
    warnings: Vec<String>,
    errors: Vec<String>,
    stopped_because: Option<String>,
}

impl Crawl {
    fn new(source: HarvestSource, fetcher: Fetcher, now: String) -> Crawl {
        Crawl {
            source,
            fetcher,
            now,
            pages: 0,
            pages_read: 0,
            bytes: 0,
            seen_urls: HashSet::new(),
            last_page_hash: None,
            records: Vec::new(),
            ids: HashMap::new(),
            skipped: Vec::new(),
            skipped_count: 0,
            warnings: Vec::new(),
            errors: Vec::new(),
            stopped_because: None,
        }
    }

    /// Fetches the next page unless a limit or a loop stops the crawl (then `None`, with
    /// the reason recorded).
    pub async fn fetch(&mut self, url: Url, accept: &str) -> Option<Fetched> {
        if self.pages >= self.fetcher.limits().max_pages {
            self.stop(format!(
                "the limit of {} pages (max_pages) was reached before {url}",
                self.fetcher.limits().max_pages
            ));
            return None;
        }
        if !self.seen_urls.insert(url.to_string()) {
            self.stop(format!(
                "loop: the next link {url} points to a page already read"
            ));
            return None;
        }
        let page = match self.fetcher.get(&url, accept).await {
            Ok(p) => p,
            Err(e) => {
                self.fail(e.to_string());
                return None;
            }
        };
        self.pages += 1;
        self.bytes += page.body.len() as u64;
        if page.url != url && !self.seen_urls.insert(page.url.to_string()) {
            self.stop(format!(
                "loop: {url} redirects to {}, a page already read",
                page.url
            ));
            return None;
        }
        let hash = Sha256::digest(&page.body).to_vec();
        if self.last_page_hash.as_ref() == Some(&hash) {
            self.stop(format!(
                "loop: the page {url} is identical to the previous page"
            ));
            return None;
        }
        self.last_page_hash = Some(hash);
        Some(page)
    }

    /// The crawl stops early for `reason` (a limit or a loop).
    pub fn stop(&mut self, reason: String) {
        tracing::warn!(source = %self.source.name, "harvest stopped: {reason}");
        self.stopped_because.get_or_insert(reason);
    }

    /// The crawl stops on an error (a page that cannot be fetched or read).
    pub fn fail(&mut self, error: String) {
        tracing::warn!(source = %self.source.name, "harvest error: {error}");
        self.errors.push(error.clone());
        self.stopped_because.get_or_insert(error);
    }

    pub fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// A page was read to its end.
    pub fn page_read(&mut self) {
        self.pages_read += 1;
    }

    /// Whether every record id of `ids` was already read in this crawl.
    pub fn all_seen<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        ids.all(|id| self.ids.contains_key(id))
    }

    /// Adds a page's record (or its skipping); a second record with the same identifier
    /// is skipped.
    pub fn add(&mut self, mapped: Mapped) {
        match mapped {
            Ok(record) => {
                if let Some(first) = self.ids.get(&record.original_id) {
                    let skip = SkippedRecord {
                        id: Some(record.original_id.clone()),
                        title: Some(record.title.clone()),
                        page: record.harvested_from.clone(),
                        reason: format!(
                            "duplicate identifier: a record with the same id was read on {first}"
                        ),
                    };
                    self.skip(skip);
                } else {
                    self.ids
                        .insert(record.original_id.clone(), record.harvested_from.clone());
                    self.records.push(record);
                }
            }
            Err(skip) => self.skip(skip),
        }
    }

    fn skip(&mut self, skip: SkippedRecord) {
        self.skipped_count += 1;
        if self.skipped.len() < MAX_LISTED {
            self.skipped.push(skip);
        }
    }

    pub fn records_found(&self) -> u64 {
        self.records.len() as u64 + self.skipped_count
    }

    fn status(&self) -> CrawlStatus {
        match (&self.stopped_because, self.pages_read) {
            (None, _) => CrawlStatus::Complete,
            (Some(_), 0) => CrawlStatus::Failed,
            (Some(_), _) => CrawlStatus::Partial,
        }
    }
}

/// RFC 3339 UTC with milliseconds: the timestamps of records, stores and reports.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Runs blocking store I/O off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, HarvestError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HarvestError::Task(e.to_string()))?
        .map_err(HarvestError::from)
}

/// Harvests `sources` (all of them, or those named in `only`) into the site at `site`,
/// updates `site/federation/report.json` and returns the report. Without `only`, the
/// records of sources no longer configured are removed.
///
/// Problems of a source (unreachable, invalid, over a limit) are in its report entry,
/// not errors: the error cases are local (the store cannot be written, another harvest
/// holds the lock, `only` names an unknown source).
pub async fn harvest(
    site: &Path,
    sources: &[HarvestSource],
    only: Option<&[String]>,
) -> Result<HarvestReport, HarvestError> {
    if let Some(only) = only {
        for name in only {
            if !sources.iter().any(|s| &s.name == name) {
                return Err(HarvestError::UnknownSource {
                    name: name.clone(),
                    known: sources
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
    }
    let layout = FederationLayout::new(site);
    let lock_layout = layout.clone();
    let _lock = blocking(move || lock_layout.lock()).await?;
    let mut ran: Vec<SourceReport> = Vec::new();
    for source in sources {
        if only.is_some_and(|o| !o.contains(&source.name)) {
            continue;
        }
        tracing::info!(source = %source.name, url = %source.url, "harvesting");
        ran.push(harvest_source(&layout, source).await);
    }
    // The stores of sources not crawled now (or whose crawl failed) keep the `republish`
    // flag of their last harvest: bring it in step with the configuration, since
    // `portale serve --site` reads only the flag.
    for source in sources {
        let l = layout.clone();
        let (name, republish) = (source.name.clone(), source.republish);
        let synced = blocking(move || match l.read_store(&name)? {
            Some(mut store) if store.republish != republish => {
                store.republish = republish;
                l.write_store(&store)
            }
            _ => Ok(()),
        })
        .await;
        if let Err(e) = synced {
            // An unreadable store is already reported by its source's crawl.
            tracing::warn!(source = %source.name, "cannot update the republish flag: {e}");
        }
    }
    let mut removed_sources = Vec::new();
    if only.is_none() {
        let l = layout.clone();
        for name in blocking(move || l.stored_sources()).await? {
            if !sources.iter().any(|s| s.name == name) {
                let l = layout.clone();
                let n = name.clone();
                blocking(move || l.remove_store(&n)).await?;
                tracing::info!(source = %name, "removed the records of a source no longer configured");
                removed_sources.push(name);
            }
        }
    }
    let l = layout.clone();
    let previous = blocking(move || l.read_report()).await.unwrap_or_else(|e| {
        tracing::warn!("the previous harvest report is unreadable and is replaced: {e}");
        None
    });
    let mut entries = Vec::new();
    for s in sources {
        if let Some(r) = ran.iter().find(|r| r.name == s.name) {
            entries.push(r.clone());
        } else if let Some(old) = previous.as_ref().and_then(|p| p.source(&s.name)) {
            entries.push(old.clone());
        }
    }
    let report = HarvestReport {
        version: report::REPORT_VERSION,
        updated_at: timestamp(Utc::now()),
        sources: entries,
        removed_sources,
    };
    let l = layout.clone();
    let r = report.clone();
    blocking(move || l.write_report(&r)).await?;
    Ok(report)
}

/// Crawls one source and merges the result into its store. Never fails: problems are in
/// the returned report.
async fn harvest_source(layout: &FederationLayout, source: &HarvestSource) -> SourceReport {
    let started_at = Utc::now();
    let started = timestamp(started_at);
    let mut report = SourceReport {
        name: source.name.clone(),
        kind: source.kind,
        url: source.url.clone(),
        started: started.clone(),
        finished: started.clone(),
        status: CrawlStatus::Failed,
        stopped_because: None,
        pages: 0,
        bytes: 0,
        records: RecordCounts::default(),
        skipped: Vec::new(),
        defects: BTreeMap::new(),
        sanitized: Vec::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
    };
    let l = layout.clone();
    let name = source.name.clone();
    let previous = match blocking(move || l.read_store(&name)).await {
        Ok(p) => p,
        Err(e) => {
            let msg = format!(
                "cannot read the previous records, so nothing is harvested (fix or remove the file): {e}"
            );
            report.stopped_because = Some(msg.clone());
            report.errors.push(msg);
            report.finished = timestamp(Utc::now());
            return report;
        }
    };
    let previous_count = previous.as_ref().map_or(0, |p| p.records.len() as u64);
    let fetcher = match Fetcher::new(source.limits) {
        Ok(f) => f,
        Err(e) => {
            report.stopped_because = Some(e.to_string());
            report.errors.push(e.to_string());
            report.records.stored = previous_count;
            report.finished = timestamp(Utc::now());
            return report;
        }
    };
    let mut crawl = Crawl::new(source.clone(), fetcher, started.clone());
    match source.kind {
        SourceKind::Ckan => ckan::crawl(&mut crawl).await,
        SourceKind::Dcat => dcat::crawl(&mut crawl).await,
    }
    let status = crawl.status();
    report.status = status;
    report.pages = crawl.pages;
    report.bytes = crawl.bytes;
    report.stopped_because = crawl.stopped_because.take();
    report.warnings = std::mem::take(&mut crawl.warnings);
    report.errors = std::mem::take(&mut crawl.errors);
    report.skipped = std::mem::take(&mut crawl.skipped);
    report.records.skipped = crawl.skipped_count;
    report.records.found = crawl.records.len() as u64;
    for r in &crawl.records {
        for d in &r.defects {
            *report.defects.entry(d.clone()).or_insert(0) += 1;
        }
        if !r.sanitized.is_empty() && report.sanitized.len() < MAX_LISTED {
            report.sanitized.push(SanitizedRecord {
                id: r.original_id.clone(),
                fields: r.sanitized.clone(),
            });
        }
    }
    if status == CrawlStatus::Failed {
        report.records.not_seen_kept = previous_count;
        report.records.stored = previous_count;
        report.finished = timestamp(Utc::now());
        return report;
    }
    let complete = status == CrawlStatus::Complete;
    let previous_records = previous
        .as_ref()
        .map(|p| p.records.as_slice())
        .unwrap_or(&[]);
    let merged = store::merge(
        previous_records,
        std::mem::take(&mut crawl.records),
        complete,
    );
    report.records.new = merged.new;
    report.records.updated = merged.updated;
    report.records.unchanged = merged.unchanged;
    report.records.deleted = merged.deleted;
    report.records.not_seen_kept = merged.not_seen_kept;
    report.records.stored = merged.records.len() as u64;
    let finished = timestamp(Utc::now());
    let updated_at = match &previous {
        Some(p) if !merged.changed() => p.updated_at.clone(),
        _ => finished.clone(),
    };
    let last_complete_crawl = if complete {
        Some(finished.clone())
    } else {
        previous
            .as_ref()
            .and_then(|p| p.last_complete_crawl.clone())
    };
    let store = SourceStore {
        version: store::STORE_VERSION,
        source: source.name.clone(),
        kind: source.kind,
        url: source.url.clone(),
        republish: source.republish,
        updated_at,
        last_complete_crawl,
        records: merged.records,
    };
    let l = layout.clone();
    if let Err(e) = blocking(move || l.write_store(&store)).await {
        let msg = format!("cannot save the records; the previous ones are kept: {e}");
        report.status = CrawlStatus::Failed;
        report.stopped_because.get_or_insert(msg.clone());
        report.errors.push(msg);
        report.records.stored = previous_count;
    }
    report.finished = timestamp(Utc::now());
    report
}

/// The sources whose schedule makes them due at `now`: never harvested, or harvested
/// (started) longer ago than their interval. Manual sources are never due.
pub fn due_sources(
    sources: &[HarvestSource],
    report: Option<&HarvestReport>,
    now: DateTime<Utc>,
) -> Vec<String> {
    sources
        .iter()
        .filter_map(|s| {
            let Schedule::Every(every) = s.schedule else {
                return None;
            };
            let last = report
                .and_then(|r| r.source(&s.name))
                .and_then(|r| DateTime::parse_from_rfc3339(&r.started).ok())
                .map(|t| t.with_timezone(&Utc));
            let due = match last {
                None => true,
                Some(t) => {
                    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
                    now.signed_duration_since(t) >= every
                }
            };
            due.then(|| s.name.clone())
        })
        .collect()
}

/// Runs the scheduled harvests for ever: every `tick`, harvests the sources that
/// [`due_sources`] names, then refreshes the search index
/// ([`crate::search::publish::refresh_for_catalog`], with the synonyms of `catalog_dir`,
/// the folder of `catalog.toml`). Meant to be spawned next to the server (`portale serve
/// --root`, `portale up`); a harvest already running (the lock is held) is waited for by
/// simply trying again at the next tick.
pub async fn run_schedule(
    site: PathBuf,
    sources: Vec<HarvestSource>,
    tick: Duration,
    catalog_dir: PathBuf,
) {
    if sources.iter().all(|s| s.schedule == Schedule::Manual) {
        return;
    }
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let layout = FederationLayout::new(&site);
        let report = match blocking(move || layout.read_report()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(
                    "cannot read the harvest report, harvesting every scheduled source: {e}"
                );
                None
            }
        };
        let due = due_sources(&sources, report.as_ref(), Utc::now());
        if due.is_empty() {
            continue;
        }
        match harvest(&site, &sources, Some(&due)).await {
            Ok(report) => {
                for s in report.sources.iter().filter(|s| due.contains(&s.name)) {
                    tracing::info!(
                        source = %s.name,
                        status = s.status.as_str(),
                        new = s.records.new,
                        updated = s.records.updated,
                        deleted = s.records.deleted,
                        skipped = s.records.skipped,
                        "scheduled harvest finished"
                    );
                }
                let (site, catalog_dir) = (site.clone(), catalog_dir.clone());
                let refreshed = tokio::task::spawn_blocking(move || {
                    crate::search::publish::refresh_for_catalog(&site, &catalog_dir)
                })
                .await;
                match refreshed {
                    Ok(Ok(r)) if !r.up_to_date => tracing::info!(
                        index = %r.index,
                        docs = r.meta.docs,
                        "search index refreshed after the scheduled harvest"
                    ),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(
                        "cannot refresh the search index after the scheduled harvest; \
                         the previous one stays served: {e}"
                    ),
                    Err(e) => tracing::error!("the search index task failed: {e}"),
                }
            }
            Err(HarvestError::Store(StoreError::Locked { .. })) => {
                tracing::info!("a harvest is already running; the scheduled one waits");
            }
            Err(e) => tracing::error!("scheduled harvest failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;

    fn source(name: &str, schedule: Schedule) -> HarvestSource {
        HarvestSource {
            name: name.into(),
            kind: SourceKind::Dcat,
            url: "https://example.org/catalog.ttl".into(),
            schedule,
            fq: None,
            republish: false,
            limits: Limits::default(),
        }
    }

    fn entry(name: &str, started: &str) -> SourceReport {
        SourceReport {
            name: name.into(),
            kind: SourceKind::Dcat,
            url: String::new(),
            started: started.into(),
            finished: started.into(),
            status: CrawlStatus::Complete,
            stopped_because: None,
            pages: 1,
            bytes: 1,
            records: RecordCounts::default(),
            skipped: vec![],
            defects: BTreeMap::new(),
            sanitized: vec![],
            warnings: vec![],
            errors: vec![],
        }
    }

    #[test]
    fn schedule_due() {
        let hourly = Schedule::Every(Duration::from_secs(3600));
        let sources = [
            source("a", hourly),
            source("b", hourly),
            source("c", Schedule::Manual),
            source("d", hourly),
        ];
        let report = HarvestReport {
            version: 1,
            updated_at: String::new(),
            sources: vec![
                entry("a", "2026-01-01T10:00:00.000Z"),
                entry("b", "2026-01-01T10:30:00.000Z"),
                entry("c", "2026-01-01T00:00:00.000Z"),
            ],
            removed_sources: vec![],
        };
        let now = DateTime::parse_from_rfc3339("2026-01-01T11:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(due_sources(&sources, Some(&report), now), ["a", "d"]);
        assert_eq!(due_sources(&sources, None, now), ["a", "b", "d"]);
    }

    #[test]
    fn finish_skips_malformed_and_cleans() {
        let d = Draft {
            original_id: Some("x".into()),
            title: Some("  ".into()),
            ..Draft::default()
        };
        assert_eq!(d.finish("s", "p", "t").unwrap_err().reason, "no title");
        let d = Draft {
            title: Some("t".into()),
            ..Draft::default()
        };
        assert!(
            d.finish("s", "p", "t")
                .unwrap_err()
                .reason
                .contains("no identifier")
        );
        let d = Draft {
            original_id: Some("x".into()),
            title: Some("t".into()),
            modified: Some("31/02/2020".into()),
            ..Draft::default()
        };
        assert!(
            d.finish("s", "p", "t")
                .unwrap_err()
                .reason
                .contains("bad modified date")
        );
        let d = Draft {
            original_id: Some("x".into()),
            title: Some("Scuole <script>alert(1)</script>".into()),
            landing_page: Some("javascript:alert(1)".into()),
            modified: Some("04-08-2021".into()),
            ..Draft::default()
        };
        let r = d.finish("s", "p", "t").unwrap();
        assert_eq!(r.title, "Scuole");
        assert_eq!(r.sanitized, ["title"]);
        assert_eq!(r.landing_page, None);
        assert_eq!(r.modified.as_deref(), Some("2021-08-04"));
        assert!(r.defects.contains(&"url-not-web".to_string()));
        assert!(r.defects.contains(&"date-not-iso".to_string()));
        assert_eq!(r.key.len(), 16);
    }

    #[test]
    fn hash_ignores_bookkeeping() {
        let d = Draft {
            original_id: Some("x".into()),
            title: Some("t".into()),
            ..Draft::default()
        };
        let a = d.clone().finish("s", "page1", "t1").unwrap();
        let b = d.finish("s", "page2", "t2").unwrap();
        assert_eq!(a.hash, b.hash);
        let c = Draft {
            original_id: Some("x".into()),
            title: Some("t2".into()),
            ..Draft::default()
        }
        .finish("s", "page1", "t1")
        .unwrap();
        assert_ne!(a.hash, c.hash);
    }
}
