//! The served generation and how it is swapped.
//!
//! [`AppState`] holds the current [`Generation`] in an [`ArcSwap`]: each request takes one
//! `Arc<Generation>` when it starts (see [`super::pin_generation`]) and uses only that, so a
//! request never mixes two generations even when `CURRENT` changes while it runs. A
//! download started on an old generation keeps reading the old files: generations are
//! immutable, the builder prunes old ones only after several newer builds, and an open file
//! stays readable on Unix even after it is unlinked.
//!
//! A generation is checked when it is loaded, so that handlers can trust it: dataset ids
//! and file names are URL-safe, every distribution path stays inside the generation
//! directory, checksums and media types are well formed. A generation that fails the
//! checks is never served; on reload the old one stays.
//!
//! The search index ([`crate::search::publish`]) is loaded beside the generation, from
//! the folder `site/search/CURRENT` names, and swapped the same way when that file
//! changes ([`AppState::reload_search_if_changed`]). It is optional: without an index
//! (a site built before search existed, or one whose index cannot be opened) everything
//! else is served and the search routes answer 503.
//!
//! Pitfall: loading reads files with blocking I/O. [`AppState::open`] runs before the
//! server starts; the watcher calls [`AppState::reload_if_changed`] and
//! [`AppState::reload_search_if_changed`] through `spawn_blocking`.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use std::{fs, io};

use arc_swap::{ArcSwap, ArcSwapOption};
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};

use super::error::ServerError;
use super::tiles::TileReaders;
use super::urls::Urls;
use crate::model::{Dataset, Distribution, MANIFEST_VERSION, Manifest};
use crate::search::SearchEngine;
use crate::search::publish::{IndexMeta, SearchLayout};
use crate::store::{SiteLayout, is_generation_name};

/// One loaded, checked generation: its manifest and where its files live.
#[derive(Debug)]
pub struct Generation {
    name: String,
    /// `name` as a header value, made once rather than per response.
    name_header: Option<axum::http::HeaderValue>,
    dir: PathBuf,
    manifest: Manifest,
    built_at: DateTime<Utc>,
    /// The latest `modified` of the datasets (the catalogue's `dct:modified`), read once.
    datasets_modified: Option<DateTime<Utc>>,
    urls: Urls,
    /// The layers' tile archives, opened on first use.
    tile_readers: TileReaders,
}

impl Generation {
    /// Reads and checks the manifest of generation `name` in `layout`.
    pub fn load(layout: &SiteLayout, name: &str) -> Result<Generation, ServerError> {
        Self::load_with(layout, name, None)
    }

    /// As [`Generation::load`], with the public base URL replaced by `public_url` (set
    /// when Portale runs behind a reverse proxy or on another address than the one the
    /// catalogue was built for). Every URL the server writes then starts with it.
    pub fn load_with(
        layout: &SiteLayout,
        name: &str,
        public_url: Option<&str>,
    ) -> Result<Generation, ServerError> {
        let path = layout.manifest_path(name);
        let bytes = fs::read(&path).map_err(|source| ServerError::ReadManifest {
            path: path.clone(),
            source,
        })?;
        let mut manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| ServerError::InvalidManifest {
                path: path.clone(),
                problem: e.to_string(),
            })?;
        let invalid = |problem: String| ServerError::InvalidManifest {
            path: path.clone(),
            problem,
        };
        if manifest.version != MANIFEST_VERSION {
            return Err(invalid(format!(
                "manifest version {} is not the version {MANIFEST_VERSION} this Portale reads",
                manifest.version
            )));
        }
        if manifest.generation != name {
            return Err(invalid(format!(
                "it names generation {:?} but lives in the directory of generation {name:?}",
                manifest.generation
            )));
        }
        let built_at = DateTime::parse_from_rfc3339(&manifest.built_at)
            .map_err(|e| {
                invalid(format!(
                    "built_at {:?} is not an RFC 3339 date and time: {e}",
                    manifest.built_at
                ))
            })?
            .with_timezone(&Utc);
        if let Some(url) = public_url {
            manifest.catalog.base_url = url.trim_end_matches('/').to_string();
        }
        let base = &manifest.catalog.base_url;
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(invalid(format!(
                "catalog.base_url {base:?} is not an absolute http(s) URL"
            )));
        }
        check_datasets(&manifest.datasets).map_err(invalid)?;
        manifest.datasets.sort_by(|a, b| a.id.cmp(&b.id));
        let urls = Urls::new(&manifest.catalog.base_url);
        let datasets_modified = manifest
            .datasets
            .iter()
            .filter_map(|d| DateTime::parse_from_rfc3339(&d.modified).ok())
            .map(|t| t.with_timezone(&Utc))
            .max();
        Ok(Generation {
            name: name.to_string(),
            name_header: axum::http::HeaderValue::from_str(name).ok(),
            dir: layout.generation_dir(name),
            manifest,
            built_at,
            datasets_modified,
            urls,
            tile_readers: TileReaders::default(),
        })
    }

    /// The generation's name (what `CURRENT` holds).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The generation's name as an `X-Portale-Generation` header value.
    pub fn name_header(&self) -> Option<&axum::http::HeaderValue> {
        self.name_header.as_ref()
    }

    /// The generation's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest; its datasets are sorted by id.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// When the generation was built: the `Last-Modified` of its files.
    pub fn built_at(&self) -> DateTime<Utc> {
        self.built_at
    }

    /// The latest `modified` of the generation's datasets, if any can be read.
    pub fn datasets_modified(&self) -> Option<DateTime<Utc>> {
        self.datasets_modified
    }

    /// The URL builder for this generation's catalogue base URL.
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The tile archives of this generation's layers (opened lazily, closed with it).
    pub fn tile_readers(&self) -> &TileReaders {
        &self.tile_readers
    }

    /// The datasets, sorted by id.
    pub fn datasets(&self) -> &[Dataset] {
        &self.manifest.datasets
    }

    pub fn dataset(&self, id: &str) -> Option<&Dataset> {
        let datasets = &self.manifest.datasets;
        datasets
            .binary_search_by(|d| d.id.as_str().cmp(id))
            .ok()
            .and_then(|i| datasets.get(i))
    }

    /// Where a distribution of this generation lives on disk. Its path was checked at load
    /// time to be relative and free of `..`.
    pub fn file_path(&self, distribution: &Distribution) -> PathBuf {
        self.dir.join(&distribution.path)
    }
}

/// Dataset ids as the architecture fixes them: `[a-z0-9-]{2,100}`.
fn is_dataset_id(id: &str) -> bool {
    (2..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// File names that can go into a URL path segment and a `Content-Disposition` header as
/// they are: `[A-Za-z0-9._-]`, not starting with a dot.
fn is_safe_file_name(name: &str) -> bool {
    (1..=200).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn is_relative_inside(path: &str) -> bool {
    let path = Path::new(path);
    path.components().next().is_some()
        && path.components().all(|c| matches!(c, Component::Normal(_)))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_datasets(datasets: &[Dataset]) -> Result<(), String> {
    let mut ids = HashSet::new();
    for dataset in datasets {
        let id = &dataset.id;
        if !is_dataset_id(id) {
            return Err(format!(
                "dataset id {id:?} is not 2 to 100 characters of a-z, 0-9 and -"
            ));
        }
        if !ids.insert(id.as_str()) {
            return Err(format!("dataset id {id:?} appears twice"));
        }
        let mut files = HashSet::new();
        if let Some(t) = &dataset.tiles {
            if !is_safe_file_name(&t.file) || !is_relative_inside(&t.path) {
                return Err(format!(
                    "dataset {id:?}: tile archive {:?} at {:?} is not a safe file name inside \
                     the generation directory",
                    t.file, t.path
                ));
            }
            if !is_sha256_hex(&t.sha256) {
                return Err(format!(
                    "dataset {id:?}, tile archive: sha256 {:?} is not 64 lowercase hex digits",
                    t.sha256
                ));
            }
            if t.min_zoom > t.max_zoom || t.max_zoom > crate::tiles::MAX_ZOOM {
                return Err(format!(
                    "dataset {id:?}, tile archive: zooms {}..={} are not a valid range",
                    t.min_zoom, t.max_zoom
                ));
            }
            files.insert(t.file.as_str());
        }
        for d in &dataset.distributions {
            let file = &d.file;
            if !is_safe_file_name(file) {
                return Err(format!(
                    "dataset {id:?}: file name {file:?} is not 1 to 200 characters of \
                     A-Z, a-z, 0-9, '.', '_' and '-' (not starting with '.')"
                ));
            }
            if !files.insert(file.as_str()) {
                return Err(format!("dataset {id:?}: file {file:?} appears twice"));
            }
            if !is_relative_inside(&d.path) {
                return Err(format!(
                    "dataset {id:?}, file {file:?}: path {:?} is not a relative path inside \
                     the generation directory",
                    d.path
                ));
            }
            if !is_sha256_hex(&d.sha256) {
                return Err(format!(
                    "dataset {id:?}, file {file:?}: sha256 {:?} is not 64 lowercase hex digits",
                    d.sha256
                ));
            }
            if HeaderValue::from_str(&d.media_type).is_err() || d.media_type.is_empty() {
                return Err(format!(
                    "dataset {id:?}, file {file:?}: media_type {:?} is not a valid media type",
                    d.media_type
                ));
            }
        }
        for p in &dataset.pictures {
            let file = &p.file;
            if !is_safe_file_name(file) || !is_relative_inside(&p.path) {
                return Err(format!(
                    "dataset {id:?}: picture {file:?} at {:?} is not a safe file name inside \
                     the generation directory",
                    p.path
                ));
            }
            if !files.insert(file.as_str()) {
                return Err(format!("dataset {id:?}: file {file:?} appears twice"));
            }
            if !is_sha256_hex(&p.sha256) {
                return Err(format!(
                    "dataset {id:?}, picture {file:?}: sha256 {:?} is not 64 lowercase hex digits",
                    p.sha256
                ));
            }
            if HeaderValue::from_str(&p.media_type).is_err() || p.media_type.is_empty() {
                return Err(format!(
                    "dataset {id:?}, picture {file:?}: media_type {:?} is not a valid media type",
                    p.media_type
                ));
            }
        }
    }
    Ok(())
}

/// A loaded search index: the engine and what `site/search/` says about it.
pub struct SearchIndex {
    name: String,
    /// What the index was built from; `None` when its meta file cannot be read (the
    /// index itself opened).
    meta: Option<IndexMeta>,
    engine: Arc<SearchEngine>,
    /// Answers given from this index, for repeated requests.
    responses: super::search_cache::ResponseCache,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("name", &self.name)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index `name` of `site/search/`.
    pub fn load(layout: &SearchLayout, name: &str) -> Result<SearchIndex, ServerError> {
        let dir = layout.index_dir(name);
        let engine = SearchEngine::open(&dir).map_err(|source| ServerError::SearchIndex {
            path: dir.clone(),
            source,
        })?;
        let meta = match layout.read_meta(name) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(index = %name, "the search index has no readable meta file: {e}");
                None
            }
        };
        Ok(SearchIndex {
            name: name.to_string(),
            meta,
            engine: Arc::new(engine),
            responses: Default::default(),
        })
    }

    /// The answers already given from this index.
    pub fn responses(&self) -> &super::search_cache::ResponseCache {
        &self.responses
    }

    /// The index's name (what `site/search/CURRENT` holds).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the index was built from (its generation, when).
    pub fn meta(&self) -> Option<&IndexMeta> {
        self.meta.as_ref()
    }

    pub fn engine(&self) -> &Arc<SearchEngine> {
        &self.engine
    }
}

/// What every handler shares: the site and the generation being served. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    layout: SiteLayout,
    current: ArcSwap<Generation>,
    /// The search index, when one is built and opens.
    search: ArcSwapOption<SearchIndex>,
    /// Serializes reloads so that two watchers never load the same generation twice.
    reloading: Mutex<()>,
    /// Public base URL replacing the catalogue's `base_url` (`--public-url`).
    public_url: Option<String>,
    /// Downloads per dataset, kept in `site/stats/`.
    downloads: super::downloads::DownloadCounts,
}

impl AppState {
    /// Opens `site_dir` and loads the generation that `CURRENT` names.
    pub fn open(site_dir: &Path) -> Result<AppState, ServerError> {
        Self::open_with(site_dir, None)
    }

    /// As [`AppState::open`], serving every generation under `public_url` instead of the
    /// catalogue's `base_url`.
    pub fn open_with(site_dir: &Path, public_url: Option<String>) -> Result<AppState, ServerError> {
        let layout = SiteLayout::new(site_dir);
        let name = read_current(&layout)?;
        let generation = Generation::load_with(&layout, &name, public_url.as_deref())?;
        tracing::info!(
            generation = %name,
            datasets = generation.datasets().len(),
            "serving generation"
        );
        let search = match load_search(&SearchLayout::new(site_dir)) {
            Ok(Some(index)) => {
                tracing::info!(index = %index.name(), docs = index.engine().num_docs(), "serving search index");
                Some(Arc::new(index))
            }
            Ok(None) => {
                tracing::warn!(
                    "no search index in {}: /datasets.json and /suggest.json answer 503 until \
                     `portale index` or `portale build` writes one",
                    site_dir.display()
                );
                None
            }
            Err(e) => {
                tracing::error!(
                    "{e}; /datasets.json and /suggest.json answer 503 until it is rebuilt"
                );
                None
            }
        };
        Ok(AppState {
            inner: Arc::new(Inner {
                layout,
                current: ArcSwap::from_pointee(generation),
                search: ArcSwapOption::new(search),
                reloading: Mutex::new(()),
                public_url,
                downloads: super::downloads::DownloadCounts::open(site_dir),
            }),
        })
    }

    /// The download counts (see [`super::downloads`]).
    pub fn downloads(&self) -> &super::downloads::DownloadCounts {
        &self.inner.downloads
    }

    /// The site directory.
    pub fn site_dir(&self) -> &Path {
        self.inner.layout.root()
    }

    /// The generation being served now. Hold the `Arc` for the whole of a request.
    pub fn current(&self) -> Arc<Generation> {
        self.inner.current.load_full()
    }

    /// The search engine being served now, if an index is loaded.
    pub fn search(&self) -> Option<Arc<SearchEngine>> {
        self.inner.search.load_full().map(|s| s.engine.clone())
    }

    /// The loaded search index with its name and meta, if any.
    pub fn search_index(&self) -> Option<Arc<SearchIndex>> {
        self.inner.search.load_full()
    }

    /// Reads `site/search/CURRENT`; if it names another index than the one loaded, opens
    /// it and swaps it in. Returns whether a swap happened. On error, or when `CURRENT`
    /// has gone, nothing changes and the old index (if any) keeps being served.
    pub fn reload_search_if_changed(&self) -> Result<bool, ServerError> {
        let _guard = self
            .inner
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let layout = SearchLayout::new(self.inner.layout.root());
        let name = layout
            .current()
            .map_err(|source| ServerError::SearchIndex {
                path: layout.current_file(),
                source,
            })?;
        let Some(name) = name else {
            return Ok(false);
        };
        let old = self.inner.search.load();
        if old.as_ref().is_some_and(|o| o.name == name) {
            return Ok(false);
        }
        let index = SearchIndex::load(&layout, &name)?;
        tracing::info!(
            from = old.as_ref().map(|o| o.name.as_str()).unwrap_or("none"),
            to = %name,
            docs = index.engine.num_docs(),
            "switching search index"
        );
        self.inner.search.store(Some(Arc::new(index)));
        Ok(true)
    }

    /// Reads `CURRENT`; if it names another generation than the one served, loads it and
    /// swaps it in. Returns whether a swap happened. On error nothing changes and the old
    /// generation keeps being served.
    pub fn reload_if_changed(&self) -> Result<bool, ServerError> {
        let _guard = self
            .inner
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let name = read_current(&self.inner.layout)?;
        let old = self.inner.current.load();
        if old.name() == name {
            return Ok(false);
        }
        let generation =
            Generation::load_with(&self.inner.layout, &name, self.inner.public_url.as_deref())?;
        tracing::info!(
            from = %old.name(),
            to = %name,
            datasets = generation.datasets().len(),
            "switching generation"
        );
        self.inner.current.store(Arc::new(generation));
        Ok(true)
    }

    /// Starts a task that calls [`AppState::reload_if_changed`] and
    /// [`AppState::reload_search_if_changed`] every `every`, and writes the download
    /// counts when they changed. Errors are logged (once until
    /// they change) and the old generation and index stay served. The task runs
    /// until the returned handle is aborted or the runtime shuts down.
    ///
    /// Must be called from within a Tokio runtime, like `tokio::spawn`.
    pub fn spawn_watcher(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut last_error: Option<String> = None;
            loop {
                ticks.tick().await;
                let attempt = state.clone();
                let outcome = tokio::task::spawn_blocking(move || {
                    attempt.downloads().save_if_changed();
                    let generation = attempt.reload_if_changed().map_err(|e| e.to_string());
                    let search = attempt
                        .reload_search_if_changed()
                        .map_err(|e| e.to_string());
                    match (generation, search) {
                        (Ok(_), Ok(_)) => Ok(()),
                        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
                        (Err(g), Err(s)) => Err(format!("{g}; {s}")),
                    }
                })
                .await
                .map_err(|e| format!("the reload task failed: {e}"))
                .and_then(|r| r);
                match outcome {
                    Ok(_) => {
                        if last_error.take().is_some() {
                            tracing::info!(
                                generation = %state.current().name(),
                                "generation and search index reloads work again"
                            );
                        }
                    }
                    Err(message) => {
                        if last_error.as_deref() != Some(message.as_str()) {
                            tracing::error!(
                                generation = %state.current().name(),
                                "cannot reload, still serving the old generation and search index: {message}"
                            );
                            last_error = Some(message);
                        }
                    }
                }
            }
        })
    }
}

/// The index `site/search/CURRENT` names, opened; `None` when there is none yet.
fn load_search(layout: &SearchLayout) -> Result<Option<SearchIndex>, ServerError> {
    let name = layout
        .current()
        .map_err(|source| ServerError::SearchIndex {
            path: layout.current_file(),
            source,
        })?;
    name.map(|n| SearchIndex::load(layout, &n)).transpose()
}

fn read_current(layout: &SiteLayout) -> Result<String, ServerError> {
    match layout.current_generation() {
        Ok(Some(name)) if is_generation_name(&name) => Ok(name),
        Ok(Some(name)) => Err(ServerError::ReadCurrent {
            path: layout.current_file(),
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name:?} is not a generation name"),
            ),
        }),
        Ok(None) => Err(ServerError::NoGeneration {
            site: layout.root().to_path_buf(),
        }),
        Err(source) => Err(ServerError::ReadCurrent {
            path: layout.current_file(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_ids() {
        assert!(is_dataset_id("scuole-2024"));
        assert!(!is_dataset_id("a"));
        assert!(!is_dataset_id("Scuole"));
        assert!(!is_dataset_id("../x"));
        assert!(!is_dataset_id(&"a".repeat(101)));
    }

    #[test]
    fn file_names() {
        assert!(is_safe_file_name("scuole_2024.geo.json"));
        assert!(!is_safe_file_name(".."));
        assert!(!is_safe_file_name(".hidden"));
        assert!(!is_safe_file_name("a/b.csv"));
        assert!(!is_safe_file_name("a b.csv"));
        assert!(!is_safe_file_name("a\"b.csv"));
        assert!(!is_safe_file_name(""));
    }

    #[test]
    fn paths_stay_inside() {
        assert!(is_relative_inside("datasets/scuole/scuole.csv"));
        assert!(!is_relative_inside("../CURRENT"));
        assert!(!is_relative_inside("datasets/../../CURRENT"));
        assert!(!is_relative_inside("/etc/passwd"));
        assert!(!is_relative_inside("./datasets/x.csv"));
        assert!(!is_relative_inside(""));
    }

    #[test]
    fn sha256_hex() {
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex("abc"));
    }
}
