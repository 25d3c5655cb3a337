//! Writing an index: [`write_index`] puts a set of [`SearchDoc`]s and the synonyms list
//! into a folder that [`super::SearchEngine::open`] reads.
//!
//! The folder holds tantivy's files and `synonyms.txt` (the list the index was built
//! with). The index is written once and never updated: a new set of records is a new
//! folder. It is merged into a single segment, which keeps facet counting and sorting to
//! one pass over one set of columns.
//!
//! Titles are ranked once here (`title_rank`: accents and case folded, then by key) so
//! that sorting by title is sorting by an integer.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use tantivy::schema::Field;
use tantivy::{Index, IndexWriter, TantivyDocument};

use super::analysis::{self, Lang};
use super::schema::{FLAG_BBOX, FLAG_PUBLISHED, FLAG_TEMPORAL, Fields};
use super::{Origin, SearchDoc, SearchError, Synonyms};
use crate::vocab;

/// The synonyms list stored in an index folder.
pub const SYNONYMS_FILE: &str = "synonyms.txt";

/// What [`write_index`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexStats {
    pub docs: u64,
    /// Bytes of the index folder.
    pub bytes: u64,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SearchError + '_ {
    move |source| SearchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn tv(path: &Path) -> impl FnOnce(tantivy::TantivyError) -> SearchError + '_ {
    move |source| SearchError::Index {
        path: path.to_path_buf(),
        source,
    }
}

/// Small stored-document blocks: a page of hits reads 20 records at random places, and
/// each read decompresses the record's whole block (16 KB by default).
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_blocksize: 4096,
        ..Default::default()
    }
}

/// Registers the analyzers an index of this schema needs.
pub(crate) fn prepare(index: &Index) {
    analysis::register(index.tokenizers());
    analysis::register(index.fast_field_tokenizer());
}

/// Writes an index of `docs` into the empty or absent folder `dir`, with `synonyms`
/// stored beside it, fsynced. Keys must be unique.
pub fn write_index(
    docs: &[SearchDoc],
    synonyms: &Synonyms,
    dir: &Path,
) -> Result<IndexStats, SearchError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (schema, fields) = Fields::schema();
    let index = Index::builder()
        .schema(schema)
        .settings(settings())
        .create_in_dir(dir)
        .map_err(tv(dir))?;
    prepare(&index);
    fill(&index, &fields, docs).map_err(|e| match e {
        SearchError::Tantivy(source) => SearchError::Index {
            path: dir.to_path_buf(),
            source,
        },
        other => other,
    })?;
    let syn_path = dir.join(SYNONYMS_FILE);
    write_synced(&syn_path, synonyms.to_text().as_bytes())?;
    sync_dir(dir)?;
    Ok(IndexStats {
        docs: docs.len() as u64,
        bytes: folder_bytes(dir)?,
    })
}

/// An index of `docs` in memory.
pub(crate) fn in_memory(docs: &[SearchDoc]) -> Result<(Index, Fields), SearchError> {
    let (schema, fields) = Fields::schema();
    let index = Index::builder()
        .schema(schema)
        .settings(settings())
        .create_in_ram()?;
    prepare(&index);
    fill(&index, &fields, docs)?;
    Ok((index, fields))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), SearchError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

fn sync_dir(dir: &Path) -> Result<(), SearchError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(io(dir))
}

fn folder_bytes(dir: &Path) -> Result<u64, SearchError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let meta = entry.metadata().map_err(io(&entry.path()))?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn fill(index: &Index, fields: &Fields, docs: &[SearchDoc]) -> Result<(), SearchError> {
    let mut seen = HashSet::with_capacity(docs.len());
    for d in docs {
        if !seen.insert(d.key.as_str()) {
            return Err(SearchError::BadRequest(format!(
                "two search records have the key {:?}",
                d.key
            )));
        }
    }
    // Title order: folded title, then key.
    let mut order: Vec<(String, &str, usize)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (analysis::fold(&d.title).join(" "), d.key.as_str(), i))
        .collect();
    order.sort();
    let mut rank = vec![0u64; docs.len()];
    for (r, (_, _, i)) in order.iter().enumerate() {
        rank[*i] = r as u64;
    }

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, 64_000_000 * threads)?;
    for (i, d) in docs.iter().enumerate() {
        writer.add_document(to_tantivy(fields, d, rank[i], i as u64))?;
    }
    writer.commit()?;
    let segments = index.searchable_segment_ids()?;
    if segments.len() > 1 {
        writer.merge(&segments).wait()?;
    }
    writer.wait_merging_threads()?;
    Ok(())
}

/// Days since 0001-01-01: the temporal columns' unit.
pub(crate) fn days(d: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&d))
}

/// The language a record's text is indexed in.
pub(crate) fn language(d: &SearchDoc) -> Lang {
    match d.origin {
        Origin::Local => Lang::It,
        Origin::Harvested { .. } => {
            analysis::guess_language(&format!("{} {}", d.title, d.description))
        }
    }
}

fn to_tantivy(f: &Fields, d: &SearchDoc, title_rank: u64, ord: u64) -> TantivyDocument {
    let lang = language(d);
    let mut doc = TantivyDocument::default();
    // Every text value also goes, unstemmed, to the dictionary of words.
    let words = f.words;
    let text = |doc: &mut TantivyDocument, field: Field, value: &str| {
        if !value.trim().is_empty() {
            doc.add_text(field, value);
            if field != f.title_head && field != f.complete {
                doc.add_text(words, value);
            }
        }
    };
    text(&mut doc, f.title.get(lang), &d.title);
    let head = analysis::analyze(&d.title, lang);
    text(
        &mut doc,
        f.title_head,
        &head.iter().take(2).cloned().collect::<Vec<_>>().join(" "),
    );
    text(&mut doc, f.description.get(lang), &d.description);
    for k in &d.keywords {
        text(&mut doc, f.keywords.get(lang), k);
    }
    for t in &d.themes {
        match vocab::theme_labels(t) {
            Some((it, en)) => {
                text(&mut doc, f.themes.it, it);
                text(&mut doc, f.themes.en, en);
            }
            // A theme outside the EU vocabulary, as the origin wrote it.
            None => text(&mut doc, f.themes.get(lang), t),
        }
    }
    let other = f.other.get(lang);
    for v in std::iter::once(&d.key)
        .chain(d.publisher.iter())
        .chain(d.rights_holder.iter())
        .chain(d.places.iter())
        .chain(d.fields.iter())
        .chain(d.formats.iter())
    {
        text(&mut doc, other, v);
    }
    if let Some(l) = &d.license {
        match vocab::license(l) {
            Some(lic) => {
                text(&mut doc, f.other.it, lic.label_it);
                text(&mut doc, f.other.en, lic.label_en);
            }
            None => text(&mut doc, other, l),
        }
    }
    if let Some(fr) = &d.frequency {
        match vocab::frequency_labels(fr) {
            Some((it, en)) => {
                text(&mut doc, f.other.it, it);
                text(&mut doc, f.other.en, en);
            }
            None => text(&mut doc, other, fr),
        }
    }
    for v in std::iter::once(&d.title)
        .chain(d.keywords.iter())
        .chain(d.places.iter())
    {
        text(&mut doc, f.complete, v);
    }

    doc.add_text(f.key, &d.key);
    let mut distinct = HashSet::new();
    let mut facet = |doc: &mut TantivyDocument, field: Field, value: &str| {
        let v = value.trim();
        if !v.is_empty() && distinct.insert((field, v.to_string())) {
            doc.add_text(field, v);
        }
    };
    for t in &d.themes {
        facet(&mut doc, f.theme, t);
    }
    if let Some(p) = &d.publisher {
        facet(&mut doc, f.publisher, p);
    }
    for x in &d.formats {
        facet(&mut doc, f.format, x);
    }
    if let Some(l) = &d.license {
        facet(&mut doc, f.license, l);
    }
    for k in &d.keywords {
        facet(&mut doc, f.keyword, k);
    }
    if let Some(fr) = &d.frequency {
        facet(&mut doc, f.frequency, fr);
    }
    facet(&mut doc, f.origin, d.origin.facet_value());

    doc.add_i64(
        f.modified,
        d.modified.map(|m| m.timestamp()).unwrap_or(i64::MIN),
    );
    doc.add_u64(f.title_rank, title_rank);
    doc.add_u64(f.ord, ord);
    let mut flags = 0;
    if d.published {
        flags |= FLAG_PUBLISHED;
    }
    let bbox = d.bbox.filter(|b| b.iter().all(|v| v.is_finite()));
    if bbox.is_some() {
        flags |= FLAG_BBOX;
    }
    if d.temporal.is_some() {
        flags |= FLAG_TEMPORAL;
    }
    doc.add_u64(f.flags, flags);
    let [x0, y0, x1, y1] = bbox.unwrap_or([0.0; 4]);
    doc.add_f64(f.min_x, x0);
    doc.add_f64(f.min_y, y0);
    doc.add_f64(f.max_x, x1);
    doc.add_f64(f.max_y, y1);
    let (start, end) = match d.temporal {
        Some((s, e)) => (days(s), e.map(days).unwrap_or(i64::MAX)),
        None => (0, 0),
    };
    doc.add_i64(f.t_start, start);
    doc.add_i64(f.t_end, end);
    // Serialising a serde_json::Value cannot fail.
    doc.add_bytes(
        f.summary,
        &serde_json::to_vec(&d.summary).unwrap_or_default(),
    );
    doc
}

/// The folder's synonyms list.
pub(crate) fn read_synonyms(dir: &Path) -> Result<Synonyms, SearchError> {
    let path: PathBuf = dir.join(SYNONYMS_FILE);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    Synonyms::parse(&text, &path)
}
