//! Where the search index lives in the site, and how it is replaced.
//!
//! ```text
//! site/search/
//!   CURRENT                   name of the index being served (replaced by rename)
//!   .lock                     held (flock) while an index is written
//!   <name>/                   an index (tantivy files, the synonyms list, ...)
//!   <name>/portale-index.json what it was built from: IndexMeta
//!   .tmp-<name>/              an index being written (never served)
//! ```
//!
//! One index holds our own datasets (from a generation's manifest) and every harvested
//! record (every store of `site/federation/`, republished or not). [`refresh`] writes a new
//! one when its inputs changed: it is called by `portale build` for the generation about
//! to be published (before that generation's `CURRENT` is switched, so both flip
//! together), by `portale harvest` after the stores are written, and forced by
//! `portale index` ([`rebuild`]).
//!
//! Publication works like the generations': the index is written into `.tmp-<name>/`,
//! fsynced, renamed to `<name>/`, and `CURRENT` is replaced by a rename, so a server
//! reading `CURRENT` sees the old index or the new one, never half of one. A refresh killed
//! midway leaves at most a `.tmp-*` folder, which the next refresh removes; the served
//! index is untouched. The two indexes served before the current one are kept (a server
//! may still be reading them), older ones are pruned.
//!
//! Pitfalls:
//! - builds, harvests and `portale index` may run at once: every writer takes the
//!   blocking lock on `site/search/.lock` ([`lock`]) first, and the lock is always taken
//!   last (after the build's or the harvest's own), so the three never deadlock;
//! - the inputs of an index ([`IndexMeta`]: the generation's name, a fingerprint of the
//!   federation stores, the synonyms and Portale's version) decide whether a refresh is
//!   needed; a build that changed nothing still refreshes an index that is missing or was
//!   built from other inputs;
//! - which harvested records are `published` is decided from the stores read once for the
//!   index (those with `republish` set, the same selection as
//!   [`crate::federation::republished`]) and [`Republished::from_stores`], with the
//!   generation's base URL, so the flag matches what our DCAT and CKAN outputs carry.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::index::write_index;
use super::{SearchDoc, SearchError, Synonyms};
use crate::catalog::federated::Republished;
use crate::federation::{SourceStore, StoreError};
use crate::model::Manifest;
use crate::store::SiteLayout;

/// The file of an index folder that says what the index was built from.
pub const META_FILE: &str = "portale-index.json";
/// How many indexes are kept besides the served one.
pub const KEEP_OLD_INDEXES: usize = 2;
/// Version of [`IndexMeta`] and of the way documents are made: a change rebuilds indexes.
pub const META_VERSION: u32 = 1;

/// What an index was built from, and what it holds (`<name>/portale-index.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub version: u32,
    /// The generation whose datasets it holds; `None` before the first build.
    pub generation: Option<String>,
    /// SHA-256 of what the index holds of the federation stores (sources, their
    /// `republish` flag and URL, the records' keys and content hashes).
    pub federation: String,
    /// SHA-256 of the synonyms list, in its text form.
    pub synonyms: String,
    pub portale_version: String,
    /// Records in the index: our own datasets and harvested records.
    pub docs: u64,
    pub local: u64,
    pub harvested: u64,
    /// Harvested records our DCAT and CKAN outputs republish.
    pub published_harvested: u64,
    /// Bytes of the index files.
    pub bytes: u64,
    /// When it was written (RFC 3339, UTC).
    pub built_at: String,
}

impl IndexMeta {
    fn same_inputs(&self, other: &IndexMeta) -> bool {
        self.version == other.version
            && self.generation == other.generation
            && self.federation == other.federation
            && self.synonyms == other.synonyms
            && self.portale_version == other.portale_version
    }
}

/// What a refresh did.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshReport {
    /// The index served now: the new one, or the one already served when nothing changed.
    pub index: String,
    /// True when the served index already had these inputs and nothing was written.
    pub up_to_date: bool,
    pub meta: IndexMeta,
    pub elapsed: Duration,
}

/// Paths inside `site/search/`.
#[derive(Debug, Clone)]
pub struct SearchLayout {
    dir: PathBuf,
}

impl SearchLayout {
    /// The search folder of the site at `site`.
    pub fn new(site: &Path) -> SearchLayout {
        SearchLayout {
            dir: site.join("search"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file naming the served index.
    pub fn current_file(&self) -> PathBuf {
        self.dir.join("CURRENT")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(".lock")
    }

    pub fn index_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The name of the served index; `None` before the first one. A `CURRENT` that does
    /// not hold an index name is an error (it could point anywhere).
    pub fn current(&self) -> Result<Option<String>, SearchError> {
        let path = self.current_file();
        match fs::read_to_string(&path) {
            Ok(s) => {
                let name = s.trim();
                if is_index_name(name) {
                    Ok(Some(name.to_string()))
                } else {
                    Err(SearchError::Io {
                        path,
                        source: io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!(
                                "{name:?} is not a search index name (i followed by 0-9, A-Z, a-z, -)"
                            ),
                        ),
                    })
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SearchError::Io { path, source }),
        }
    }

    /// Reads what index `name` was built from.
    pub fn read_meta(&self, name: &str) -> Result<IndexMeta, SearchError> {
        let path = self.index_dir(name).join(META_FILE);
        let bytes = fs::read(&path).map_err(|source| SearchError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| SearchError::Io {
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })
    }
}

/// Index names: `i` followed by `[0-9A-Za-z-]`, so that `CURRENT` can only name a folder
/// of `site/search/`.
pub fn is_index_name(name: &str) -> bool {
    (2..=80).contains(&name.len())
        && name.starts_with('i')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Held while an index is written; released when dropped or when the process dies.
#[derive(Debug)]
pub struct SearchLock {
    _file: File,
    site: PathBuf,
}

/// Takes the search lock of the site (an exclusive `flock` on `site/search/.lock`),
/// waiting for another writer to finish.
pub fn lock(site: &Path) -> Result<SearchLock, SearchError> {
    let layout = SearchLayout::new(site);
    fs::create_dir_all(layout.dir()).map_err(io_err(layout.dir()))?;
    let path = layout.lock_path();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err(&path))?;
    file.lock().map_err(io_err(&path))?;
    Ok(SearchLock {
        _file: file,
        site: site.to_path_buf(),
    })
}

/// Makes the served index hold `generation`'s datasets (else those of the generation
/// `site/CURRENT` names, if any) and every harvested record, unless the served index was
/// built from the same inputs. Takes the search lock.
pub fn refresh(
    site: &Path,
    synonyms: &Synonyms,
    generation: Option<(&str, &Manifest)>,
) -> Result<RefreshReport, SearchError> {
    let guard = lock(site)?;
    refresh_locked(&guard, synonyms, generation, false)
}

/// As [`refresh`], but writes a new index even when the served one has the same inputs.
pub fn rebuild(
    site: &Path,
    synonyms: &Synonyms,
    generation: Option<(&str, &Manifest)>,
) -> Result<RefreshReport, SearchError> {
    let guard = lock(site)?;
    refresh_locked(&guard, synonyms, generation, true)
}

/// [`refresh`] of the served generation with the synonyms of the catalogue folder
/// `catalog_dir` (`synonyms.txt`, else the built-in list): what a harvest runs once its
/// stores are written.
pub fn refresh_for_catalog(site: &Path, catalog_dir: &Path) -> Result<RefreshReport, SearchError> {
    let synonyms = Synonyms::for_catalog(catalog_dir)?;
    refresh(site, &synonyms, None)
}

/// [`refresh`] (or with `force`, [`rebuild`]) for a caller that already holds the lock,
/// to do more before releasing it (the build switches its generation's `CURRENT`).
pub fn refresh_locked(
    lock: &SearchLock,
    synonyms: &Synonyms,
    generation: Option<(&str, &Manifest)>,
    force: bool,
) -> Result<RefreshReport, SearchError> {
    let started = Instant::now();
    let site = lock.site.as_path();
    let layout = SearchLayout::new(site);
    clean_leftovers(&layout)?;

    let read;
    let generation = match generation {
        Some(g) => Some(g),
        None => {
            read = current_generation(site)?;
            read.as_ref().map(|(n, m)| (n.as_str(), m))
        }
    };
    let stores = crate::federation::load_all(site).map_err(store_err)?;
    let inputs = IndexMeta {
        version: META_VERSION,
        generation: generation.map(|(n, _)| n.to_string()),
        federation: federation_fingerprint(&stores),
        synonyms: hex::encode(Sha256::digest(synonyms.to_text().as_bytes())),
        portale_version: crate::VERSION.to_string(),
        docs: 0,
        local: 0,
        harvested: 0,
        published_harvested: 0,
        bytes: 0,
        built_at: String::new(),
    };
    let current = layout.current()?;
    if !force
        && let Some(name) = &current
        && layout.index_dir(name).is_dir()
        && let Ok(meta) = layout.read_meta(name)
        && meta.same_inputs(&inputs)
    {
        prune(&layout, name);
        return Ok(RefreshReport {
            index: name.clone(),
            up_to_date: true,
            meta,
            elapsed: started.elapsed(),
        });
    }

    let (docs, counts) = documents(generation.map(|(_, m)| m), &stores);
    let name = new_index_name(&layout);
    let tmp = layout.dir().join(format!(".tmp-{name}"));
    let written = write_new(&layout, &tmp, &name, &docs, synonyms, inputs, counts);
    let meta = match written {
        Ok(meta) => meta,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    set_current(&layout, &name)?;
    tracing::info!(
        index = %name,
        generation = meta.generation.as_deref().unwrap_or("-"),
        docs = meta.docs,
        bytes = meta.bytes,
        "published the search index"
    );
    prune(&layout, &name);
    Ok(RefreshReport {
        index: name,
        up_to_date: false,
        meta,
        elapsed: started.elapsed(),
    })
}

/// Counts of the documents of an index: own, harvested, harvested and republished.
type Counts = (u64, u64, u64);

/// The index's documents: the manifest's datasets, then every harvested record.
pub fn documents(manifest: Option<&Manifest>, stores: &[SourceStore]) -> (Vec<SearchDoc>, Counts) {
    let mut docs = Vec::new();
    let mut keys = HashSet::new();
    if let Some(m) = manifest {
        for d in &m.datasets {
            if keys.insert(d.id.clone()) {
                docs.push(SearchDoc::from_dataset(d, &m.catalog));
            }
        }
    }
    let local = docs.len() as u64;
    let base = manifest.map(|m| m.catalog.base_url.as_str()).unwrap_or("");
    let republished_stores: Vec<SourceStore> =
        stores.iter().filter(|s| s.republish).cloned().collect();
    let republished = Republished::from_stores(&republished_stores, base);
    let published: HashSet<(&str, &str)> = republished
        .records
        .iter()
        .map(|r| (r.source.as_str(), r.key.as_str()))
        .collect();
    let (mut harvested, mut published_harvested) = (0, 0);
    for store in stores {
        for r in &store.records {
            let is_published = published.contains(&(store.source.as_str(), r.key.as_str()));
            let doc = SearchDoc::from_federated(r, is_published);
            if !keys.insert(doc.key.clone()) {
                tracing::warn!(
                    source = %store.source,
                    key = %r.key,
                    "a harvested record appears twice in its store; the first is indexed"
                );
                continue;
            }
            harvested += 1;
            published_harvested += u64::from(is_published);
            docs.push(doc);
        }
    }
    (docs, (local, harvested, published_harvested))
}

/// SHA-256 of what the index takes from the stores.
fn federation_fingerprint(stores: &[SourceStore]) -> String {
    let mut sorted: Vec<&SourceStore> = stores.iter().collect();
    sorted.sort_by(|a, b| a.source.cmp(&b.source));
    let mut h = Sha256::new();
    for s in sorted {
        for part in [
            s.source.as_str(),
            s.url.as_str(),
            if s.republish { "1" } else { "0" },
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for r in &s.records {
            h.update(r.key.as_bytes());
            h.update([0]);
            h.update(r.hash.as_bytes());
            h.update([0]);
        }
        h.update([1]);
    }
    hex::encode(h.finalize())
}

fn current_generation(site: &Path) -> Result<Option<(String, Manifest)>, SearchError> {
    let layout = SiteLayout::new(site);
    let name = layout
        .current_generation()
        .map_err(io_err(&layout.current_file()))?;
    match name {
        None => Ok(None),
        Some(name) => {
            let manifest = layout
                .read_manifest(&name)
                .map_err(io_err(&layout.manifest_path(&name)))?;
            Ok(Some((name, manifest)))
        }
    }
}

/// Writes the index and its meta file into `tmp`, fsyncs, and renames it to `name`.
fn write_new(
    layout: &SearchLayout,
    tmp: &Path,
    name: &str,
    docs: &[SearchDoc],
    synonyms: &Synonyms,
    inputs: IndexMeta,
    (local, harvested, published_harvested): Counts,
) -> Result<IndexMeta, SearchError> {
    let stats = write_index(docs, synonyms, tmp)?;
    let meta = IndexMeta {
        docs: stats.docs,
        local,
        harvested,
        published_harvested,
        bytes: stats.bytes,
        built_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ..inputs
    };
    let path = tmp.join(META_FILE);
    let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| SearchError::Io {
        path: path.clone(),
        source: io::Error::other(e),
    })?;
    write_synced(&path, &bytes)?;
    sync_dir(tmp)?;
    let dir = layout.index_dir(name);
    fs::rename(tmp, &dir).map_err(io_err(&dir))?;
    sync_dir(layout.dir())?;
    Ok(meta)
}

/// Replaces `CURRENT` with `name` by a rename.
fn set_current(layout: &SearchLayout, name: &str) -> Result<(), SearchError> {
    let tmp = layout.dir().join("CURRENT.tmp");
    write_synced(&tmp, format!("{name}\n").as_bytes())?;
    let current = layout.current_file();
    if let Err(e) = fs::rename(&tmp, &current) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&current)(e));
    }
    sync_dir(layout.dir())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), SearchError> {
    let mut f = File::create(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))
}

fn sync_dir(path: &Path) -> Result<(), SearchError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(path))
}

/// A new index name, after every existing one (names sort by time).
fn new_index_name(layout: &SearchLayout) -> String {
    let now = chrono::Utc::now();
    let base = format!(
        "i{}-{:04x}",
        now.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xffff
    );
    let mut name = base.clone();
    let mut n = 1;
    while layout.index_dir(&name).exists() || layout.dir().join(format!(".tmp-{name}")).exists() {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

/// Removes what a killed refresh left: `.tmp-*` folders and `CURRENT.tmp`. Only called
/// under the lock, so nothing is writing them.
fn clean_leftovers(layout: &SearchLayout) -> Result<(), SearchError> {
    let entries = fs::read_dir(layout.dir()).map_err(io_err(layout.dir()))?;
    for entry in entries {
        let entry = entry.map_err(io_err(layout.dir()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with(".tmp-") || name == "CURRENT.tmp" {
            tracing::info!(path = %path.display(), "removing what a killed refresh left");
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            removed.map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Removes the indexes older than the [`KEEP_OLD_INDEXES`] before `current` (never
/// `current`). Failures are logged: a left-over folder costs only disk space.
fn prune(layout: &SearchLayout, current: &str) {
    let Ok(entries) = fs::read_dir(layout.dir()) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_index_name(n) && n != current)
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(KEEP_OLD_INDEXES);
    for n in names.into_iter().take(excess) {
        let dir = layout.index_dir(&n);
        if let Err(e) = fs::remove_dir_all(&dir) {
            tracing::warn!(path = %dir.display(), "cannot remove an old search index: {e}");
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SearchError + '_ {
    move |source| SearchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn store_err(e: StoreError) -> SearchError {
    let message = e.to_string();
    match e {
        StoreError::Io { path, source } => SearchError::Io { path, source },
        StoreError::Invalid { path, .. } | StoreError::Locked { path } => SearchError::Io {
            path,
            source: io::Error::new(io::ErrorKind::InvalidData, message),
        },
    }
}
