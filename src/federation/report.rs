//! The harvest report: what the last harvest of each source did, saved as
//! `site/federation/report.json` and served at `/-/harvest`.
//!
//! The report keeps one entry per configured source: a run of some sources (a schedule, or
//! `portale harvest --source`) replaces their entries and keeps the others. Lists that a
//! broken source could make huge (skipped records, sanitised records) are capped at
//! [`MAX_LISTED`] entries; their counts are always complete.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::SourceKind;

/// Version of the report format.
pub const REPORT_VERSION: u32 = 1;

/// Most entries a report lists per source in `skipped` and `sanitized`.
pub const MAX_LISTED: usize = 500;

/// `site/federation/report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HarvestReport {
    pub version: u32,
    /// When the report was last written (RFC 3339, UTC).
    pub updated_at: String,
    /// One entry per configured source, in `catalog.toml` order.
    pub sources: Vec<SourceReport>,
    /// Sources no longer configured whose records were removed by the last harvest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_sources: Vec<String>,
}

impl HarvestReport {
    pub fn source(&self, name: &str) -> Option<&SourceReport> {
        self.sources.iter().find(|s| s.name == name)
    }
}

/// How a source's crawl ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CrawlStatus {
    /// Every page was read: records missing from the crawl were deleted.
    Complete,
    /// Some pages were read, then the crawl stopped (a limit, a loop, a failing page): new
    /// and changed records were stored, nothing was deleted.
    Partial,
    /// Nothing usable was read: the previous records are kept unchanged.
    Failed,
}

impl CrawlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CrawlStatus::Complete => "complete",
            CrawlStatus::Partial => "partial",
            CrawlStatus::Failed => "failed",
        }
    }
}

/// What the last harvest of one source did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceReport {
    pub name: String,
    pub kind: SourceKind,
    pub url: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: String,
    pub status: CrawlStatus,
    /// Why the crawl stopped before its end (for `partial` and `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_because: Option<String>,
    /// Pages fetched and read.
    pub pages: u32,
    /// Bytes of the pages read.
    pub bytes: u64,
    pub records: RecordCounts,
    /// Records left out, with the reason (the first [`MAX_LISTED`]).
    #[serde(default)]
    pub skipped: Vec<SkippedRecord>,
    /// Metadata defects of the imported records: defect code → number of records.
    #[serde(default)]
    pub defects: BTreeMap<String, u64>,
    /// Records whose text held markup that was removed (the first [`MAX_LISTED`]).
    #[serde(default)]
    pub sanitized: Vec<SanitizedRecord>,
    /// Things worth knowing that did not stop the crawl (e.g. a `hydra:totalItems` that
    /// does not match the records found).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Errors: the page or the local problem that stopped or failed the crawl.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// Record counts of one crawl.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCounts {
    /// Valid records read in this crawl.
    pub found: u64,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Previous records missing from a complete crawl, removed.
    pub deleted: u64,
    /// Previous records missing from an incomplete crawl, kept until a complete one.
    pub not_seen_kept: u64,
    /// Records left out as malformed or duplicated.
    pub skipped: u64,
    /// Records of the source stored after this harvest.
    pub stored: u64,
}

/// A record that was not imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRecord {
    /// Its identifier or URI at the origin, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its title (plain text), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The page it was found on.
    pub page: String,
    pub reason: String,
}

/// A record whose text was cleaned of markup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SanitizedRecord {
    pub id: String,
    pub fields: Vec<String>,
}
