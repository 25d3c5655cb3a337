//! [`SearchDoc`]: one searchable record, the same shape for our own datasets and the
//! harvested ones, so that one index and one ranking serve both.

use chrono::{DateTime, NaiveDate, Utc};

/// Where a record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// One of our own datasets.
    Local,
    /// A record harvested from the named source (`[[harvest]] name`).
    Harvested { source: String },
}

impl Origin {
    /// The facet value: `local`, or the source's name.
    pub fn facet_value(&self) -> &str {
        match self {
            Origin::Local => "local",
            Origin::Harvested { source } => source,
        }
    }
}

/// One record of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// Unique in the index: the dataset id for our own datasets, `<source>/<key>` for a
    /// harvested record (its federation-store key).
    pub key: String,
    pub origin: Origin,
    /// Whether our DCAT and CKAN outputs publish the record (always for our own datasets;
    /// for a harvested one, when its source is republished and the record passed the
    /// checks of [`crate::catalog::federated`]).
    pub published: bool,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// EU data-theme codes; their Italian and English labels are indexed too.
    pub themes: Vec<String>,
    pub publisher: Option<String>,
    pub rights_holder: Option<String>,
    /// EU file-type codes of the distributions (`CSV`, `GEOJSON`), without repeats.
    pub formats: Vec<String>,
    /// AgID licence id (`A21_CCBY40`) when known, else the origin's licence text.
    pub license: Option<String>,
    /// EU frequency code (`MONTHLY`), else the origin's text.
    pub frequency: Option<String>,
    /// Column names of the dataset's tables and layers.
    pub fields: Vec<String>,
    /// Names of the places the dataset covers (`Capannori`, `Provincia di Lucca`).
    pub places: Vec<String>,
    /// Temporal coverage: start, and end (open when `None`).
    pub temporal: Option<(NaiveDate, Option<NaiveDate>)>,
    /// WGS84 extent `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    pub modified: Option<DateTime<Utc>>,
    /// What a result shows of the record (title, links, formats, ...), returned as is in
    /// [`super::Hit::summary`]. Paths in it are relative to the public base URL, which
    /// the server may only learn at start-up.
    pub summary: serde_json::Value,
}
