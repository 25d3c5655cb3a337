//! Catalogue search: one tantivy index over our own datasets and the harvested records,
//! behind `/datasets.json`, the suggestions endpoint, CKAN's `package_search` and the DCAT
//! catalogue's `q`.
//!
//! The parts:
//! * [`analysis`]: the Italian and English analyzers (stop words, elisions, accent
//!   folding, Snowball stemming) and the language guess for harvested text;
//! * [`synonyms`]: the editable list of equivalent words and phrases (`catalog/synonyms.txt`,
//!   else the built-in list), expanded at query time;
//! * [`doc`]: [`SearchDoc`], one searchable record, made from a manifest dataset or a
//!   federated record;
//! * [`schema`] and [`index`]: the tantivy schema and the writer;
//! * [`query`]: the user's query text (words, `"phrases"`, `-excluded`) turned into a
//!   tantivy query with field boosts, synonyms and typo tolerance;
//! * [`engine`]: [`SearchEngine`], which opens an index and answers [`SearchRequest`]s
//!   with hits, facet counts and highlighted snippets, and completes prefixes.
//!
//! Where the index lives (`site/search/`) and when it is rebuilt (after `build` and
//! `harvest`) is [`publish`]'s business.

pub mod analysis;
pub mod columns;
pub mod doc;
pub mod engine;
pub mod highlight;
pub mod index;
pub mod publish;
pub mod query;
pub mod schema;
pub mod synonyms;

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

pub use doc::{Origin, SearchDoc};
pub use engine::SearchEngine;
pub use synonyms::Synonyms;

/// Longest query text accepted, in characters: a longer `q` is an error, not truncated.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words and phrases in a query (each costs a clause per field and, misspelt, a
/// search of the dictionary): a longer query is an error.
pub const MAX_QUERY_WORDS: usize = 32;
/// Largest page of results.
pub const MAX_LIMIT: usize = 1000;

/// Why a search or an index operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// A request the engine cannot answer as asked (too long, a reversed range, ...);
    /// the message is for the user.
    #[error("{0}")]
    BadRequest(String),
    /// The index folder cannot be opened or written.
    #[error("search index {}: {source}", .path.display())]
    Index {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("search index {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error inside tantivy while searching.
    #[error("search failed: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The synonyms file is malformed.
    #[error("{}:{line}: {problem}", .path.display())]
    Synonyms {
        path: PathBuf,
        line: usize,
        problem: String,
    },
}

/// A facet: a field whose values are counted over the matches and can filter them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// EU data-theme code (`EDUC`).
    Theme,
    /// Publisher name.
    Publisher,
    /// File format: EU file-type code (`CSV`, `GEOJSON`).
    Format,
    /// Licence: AgID licence id (`A21_CCBY40`), else what the origin gave.
    License,
    /// Keyword, as written.
    Keyword,
    /// EU frequency code (`MONTHLY`).
    Frequency,
    /// `local` for our own datasets, the harvest source's name for harvested records.
    Origin,
}

impl Facet {
    pub const ALL: [Facet; 7] = [
        Facet::Theme,
        Facet::Publisher,
        Facet::Format,
        Facet::License,
        Facet::Keyword,
        Facet::Frequency,
        Facet::Origin,
    ];

    /// The name used in URLs (`theme=EDUC`) and in the JSON answer.
    pub fn name(self) -> &'static str {
        match self {
            Facet::Theme => "theme",
            Facet::Publisher => "publisher",
            Facet::Format => "format",
            Facet::License => "license",
            Facet::Keyword => "keyword",
            Facet::Frequency => "frequency",
            Facet::Origin => "origin",
        }
    }

    pub fn from_name(name: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The order of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first; without query words, the most recently modified first.
    #[default]
    Relevance,
    /// Most recently modified first.
    Modified,
    /// By title, A to Z (accents and case ignored).
    Title,
}

impl Sort {
    pub fn name(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Modified => "modified",
            Sort::Title => "title",
        }
    }

    pub fn from_name(name: &str) -> Option<Sort> {
        [Sort::Relevance, Sort::Modified, Sort::Title]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// One search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The user's words: `scuole primarie`, `"raccolta differenziata"`, `-calendario`.
    /// Empty matches every record.
    pub q: String,
    /// Facet filters: a record matches when, for every facet named, it has one of the
    /// values given (OR within a facet, AND across facets).
    pub filters: Vec<(Facet, Vec<String>)>,
    /// WGS84 `[min_lon, min_lat, max_lon, max_lat]`: records whose extent intersects it.
    /// Records without an extent never match a bbox.
    pub bbox: Option<[f64; 4]>,
    /// Records whose temporal coverage overlaps `[start, end]` (either end open).
    /// Records without a temporal coverage never match.
    pub temporal: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Records modified at or after this instant.
    pub modified_since: Option<DateTime<Utc>>,
    /// Only the records our DCAT and CKAN outputs publish (our own and republished ones).
    pub only_published: bool,
    pub sort: Sort,
    pub offset: usize,
    /// At most [`MAX_LIMIT`].
    pub limit: usize,
    /// Count the facets of the matches.
    pub facets: bool,
    /// Highlight the query words in the hits' title and description.
    pub highlight: bool,
}

impl Default for SearchRequest {
    fn default() -> SearchRequest {
        SearchRequest {
            q: String::new(),
            filters: Vec::new(),
            bbox: None,
            temporal: None,
            modified_since: None,
            only_published: false,
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            facets: true,
            highlight: true,
        }
    }
}

/// A matching record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// [`SearchDoc::key`].
    pub key: String,
    /// Relevance score (0 when the query has no words).
    pub score: f32,
    /// [`SearchDoc::summary`], as stored.
    pub summary: serde_json::Value,
    /// The title with the matched words in `<mark>`, HTML-escaped; `None` without a match
    /// in it or when not asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_html: Option<String>,
    /// A fragment of the description around the matched words, HTML-escaped, words in
    /// `<mark>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet_html: Option<String>,
}

/// A facet value and how many matches have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// The answer to a [`SearchRequest`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// How many records match.
    pub total: u64,
    /// The requested page of them.
    pub hits: Vec<Hit>,
    /// Per facet, the values of the matches, most frequent first (ties by value); empty
    /// when not asked for.
    pub facets: Vec<(Facet, Vec<FacetCount>)>,
    /// True when no record had every query word, and the results are those with most of
    /// them instead.
    pub relaxed: bool,
}

/// As-you-type completions of a partial query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestions {
    /// Whole words of the index that complete the last word typed, the most frequent
    /// first, each with the number of records holding it (the other words typed must
    /// match too).
    pub words: Vec<FacetCount>,
    /// Records matching the words typed, the last taken as a prefix: key and title.
    pub records: Vec<(String, String)>,
}
