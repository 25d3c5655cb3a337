//! Writing an index: [`write_index`] puts a set of [`SearchDoc`]s and the synonyms list
//! into a folder that [`super::SearchEngine::open`] reads.

use std::path::Path;

use super::{SearchDoc, SearchError, Synonyms};

/// What [`write_index`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexStats {
    pub docs: u64,
    /// Bytes of the index folder.
    pub bytes: u64,
}

/// Writes an index of `docs` into the empty or absent folder `dir`, with `synonyms`
/// stored beside it, fsynced. Keys must be unique.
pub fn write_index(
    docs: &[SearchDoc],
    synonyms: &Synonyms,
    dir: &Path,
) -> Result<IndexStats, SearchError> {
    let _ = (docs, synonyms, dir);
    todo!()
}
