//! [`SearchEngine`]: an opened index answering searches, suggestions and CKAN/DCAT `q`.

use std::path::Path;

use super::{SearchDoc, SearchError, SearchRequest, SearchResults, Suggestions, Synonyms};

/// An opened search index. Cheap to share (`Arc`); every method takes `&self` and may be
/// called from many threads at once.
pub struct SearchEngine {}

impl SearchEngine {
    /// Opens the index written by [`super::index::write_index`] in `dir`.
    pub fn open(dir: &Path) -> Result<SearchEngine, SearchError> {
        let _ = dir;
        todo!()
    }

    /// An index of `docs` held in memory (tests, and sites without an index on disk).
    pub fn in_memory(docs: &[SearchDoc], synonyms: &Synonyms) -> Result<SearchEngine, SearchError> {
        let _ = (docs, synonyms);
        todo!()
    }

    /// How many records the index holds.
    pub fn num_docs(&self) -> u64 {
        todo!()
    }

    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        let _ = req;
        todo!()
    }

    /// Completions of `prefix` (the words typed so far, the last one unfinished): at most
    /// `limit` words and `limit` records.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Result<Suggestions, SearchError> {
        let _ = (prefix, limit);
        todo!()
    }

    /// The keys of every record matching the query words `q` (as in [`SearchRequest::q`])
    /// with their scores, in no particular order: for CKAN's `package_search` and the DCAT
    /// catalogue, which filter and order them themselves.
    pub fn matching(&self, q: &str) -> Result<Vec<(String, f32)>, SearchError> {
        let _ = q;
        todo!()
    }
}
