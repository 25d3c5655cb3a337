//! The catalogue as other systems read it: DCAT-AP_IT RDF for harvesters ([`dcat`]),
//! the CKAN Action API's package dicts and search ([`ckan`]),
//! schema.org `Dataset` JSON-LD for search engines ([`schema_org`]) and the MQA-style
//! metadata quality score ([`quality`]), all computed from the served manifest.
//!
//! The modules are framework-free: they take model types and the server's URL builder
//! ([`crate::server::Urls`], through [`CatalogUris`]) and return graphs, bytes or
//! serde values; `src/server/dcat.rs` and `src/server/discovery.rs` adapt them to HTTP.
//!
//! ```
//! use portale::catalog::{CatalogUris, RdfSyntax, dcat};
//! use portale::model::{Agent, Catalog, ContactPoint};
//! use portale::server::Urls;
//!
//! let catalog = Catalog {
//!     title: "Dati aperti".into(),
//!     description: "Il catalogo".into(),
//!     publisher: Agent { name: "Comune di Capannori".into(), identifier: "c_b648".into() },
//!     base_url: "https://dati.example.it".into(),
//!     homepage: "https://www.comune.capannori.lu.it".into(),
//!     languages: vec!["it".into()],
//!     default_license: "A21_CCBY40".into(),
//!     contact_point: ContactPoint { name: "Ufficio".into(), email: "od@example.it".into(), url: None },
//!     istat_code: Some("046007".into()),
//!     territory_bbox: None,
//!     basemap_style: None,
//! };
//! let urls = Urls::new(&catalog.base_url);
//! let ctx = dcat::Context::new(&catalog, CatalogUris::new(&urls));
//! let query = dcat::CatalogQuery::from_pairs([("page", "1")])?;
//! let page = dcat::paginate(&[], &query).expect("page 1 always exists");
//! let triples = dcat::catalog_page_graph(&ctx, "2026-01-01T00:00:00Z", &page, &query, RdfSyntax::Turtle)?;
//! let turtle = dcat::serialize(triples.iter(), RdfSyntax::Turtle)?;
//! assert!(String::from_utf8_lossy(&turtle).contains("dcatapit:Catalog"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod ckan;
pub mod dcat;
pub mod federated;
pub mod quality;
pub mod schema_org;
mod shapes;
pub mod terms;
mod uris;

pub use uris::{CatalogUris, RdfSyntax, percent_encode};

/// A full-text search over the catalogue: the keys ([`crate::search::SearchDoc::key`])
/// and scores of every record matching the free text given, in any order — what
/// [`crate::search::SearchEngine::matching`] answers. CKAN's `package_search` and the
/// DCAT catalogue's `q` take one, so that the same words find the same datasets there
/// and in `/datasets.json`; without one (a site without a search index) they fall back
/// to their own matching.
pub type FreeTextSearch<'a> =
    &'a dyn Fn(&str) -> Result<Vec<(String, f32)>, crate::search::SearchError>;

/// The search-index key ([`crate::search::SearchDoc::key`]) of the harvested record `key`
/// of the federation store of `source`: `<source>/<key>`. Our own datasets' key is their
/// id.
pub fn search_key(source: &str, key: &str) -> String {
    format!("{source}/{key}")
}

/// Why a catalogue document could not be written. Each variant names the record and the
/// value; none of them should happen for a manifest that `portale build` checked.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A URI built from the base URL and a recorded value is not a valid IRI.
    #[error("{what}: {value:?} is not a valid IRI ({problem})")]
    Iri {
        what: String,
        value: String,
        problem: String,
    },
    /// A date in the manifest cannot be read.
    #[error("{what}: {value:?} is not a date (YYYY-MM-DD) or an RFC 3339 date and time")]
    Date { what: String, value: String },
    /// A code is not in the controlled vocabulary it must come from.
    #[error("{what}: {value:?} is not {expected}")]
    Vocabulary {
        what: String,
        value: String,
        expected: String,
    },
    /// The RDF serialiser failed (it writes to memory, so this is a bug).
    #[error("cannot write the graph as {syntax:?}: {source}")]
    Serialize {
        syntax: RdfSyntax,
        #[source]
        source: std::io::Error,
    },
}
