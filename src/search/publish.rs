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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;
    use crate::federation::FederationLayout;
    use crate::model::{
        Agent, Catalog, ContactPoint, Dataset, DatasetMeta, Extent, FederatedAgent,
        FederatedContact, FederatedDistribution, FederatedRecord, MANIFEST_VERSION, QualityReport,
    };

    fn agent(name: &str) -> Agent {
        Agent {
            name: name.into(),
            identifier: "c_b648".into(),
        }
    }

    fn contact() -> ContactPoint {
        ContactPoint {
            name: "Ufficio".into(),
            email: "u@example.it".into(),
            url: None,
        }
    }

    fn dataset(id: &str, title: &str) -> Dataset {
        Dataset {
            id: id.into(),
            meta: DatasetMeta {
                title: title.into(),
                description: format!("Descrizione di {title}"),
                themes: vec!["EDUC".into()],
                subthemes: vec![],
                keywords: vec![],
                frequency: "ANNUAL".into(),
                license: "CC-BY-4.0".into(),
                publisher: agent("Comune di Capannori"),
                rights_holder: agent("Comune di Capannori"),
                contact_point: contact(),
                conforms_to: vec![],
                temporal: None,
                demo_data: false,
                issued: None,
            },
            fields: vec![],
            rows: 1,
            extent: Extent::default(),
            layer: None,
            distributions: vec![],
            quality: QualityReport::default(),
            modified: "2026-03-01T10:00:00Z".into(),
            input_hash: "0".repeat(64),
            pictures: Vec::new(),
            tiles: None,
        }
    }

    fn manifest(generation: &str, datasets: Vec<Dataset>) -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            generation: generation.into(),
            built_at: "2026-03-01T10:00:00Z".into(),
            portale_version: "0.1.0".into(),
            catalog: Catalog {
                title: "Dati".into(),
                description: "Catalogo".into(),
                publisher: agent("Comune di Capannori"),
                base_url: "https://dati.example.it".into(),
                homepage: "https://example.it".into(),
                languages: vec!["it".into()],
                default_license: "CC-BY-4.0".into(),
                contact_point: contact(),
                istat_code: Some("046007".into()),
                territory_bbox: Some([10.49, 43.78, 10.67, 43.91]),
                basemap_style: None,
            },
            datasets,
        }
    }

    /// A harvested record with everything our outputs need to republish it
    /// (the checks of `crate::catalog::federated`).
    fn record(source: &str, id: &str, key: &str) -> FederatedRecord {
        let agent = Some(FederatedAgent {
            name: "Provincia di Lucca".into(),
            identifier: Some("p_lu".into()),
        });
        FederatedRecord {
            source: source.into(),
            key: key.into(),
            original_id: id.into(),
            uri: Some(format!("https://origin.example/d/{id}")),
            title: format!("Fermate {id}"),
            description: "Le fermate degli autobus".into(),
            keywords: vec!["autobus".into()],
            themes: vec!["TRAN".into()],
            publisher: agent.clone(),
            rights_holder: agent,
            contact_point: Some(FederatedContact {
                name: None,
                email: Some("a@example.org".into()),
                url: None,
            }),
            license: Some("CC-BY-4.0".into()),
            frequency: Some("ANNUAL".into()),
            issued: None,
            modified: Some("2025-01-02".into()),
            landing_page: Some(format!("https://origin.example/p/{id}")),
            harvested_from: "https://origin.example/catalog.ttl".into(),
            distributions: vec![FederatedDistribution {
                title: None,
                description: None,
                access_url: None,
                download_url: Some("https://origin.example/f.csv".into()),
                format: Some("CSV".into()),
                media_type: None,
                license: None,
                byte_size: None,
            }],
            spatial: None,
            temporal: None,
            sanitized: vec![],
            defects: vec![],
            hash: format!("hash-{id}"),
            harvested_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn store(source: &str, republish: bool, records: Vec<FederatedRecord>) -> SourceStore {
        SourceStore {
            version: 1,
            source: source.into(),
            kind: SourceKind::Dcat,
            url: format!("https://{source}.example/catalog.ttl"),
            republish,
            updated_at: "2026-01-01T00:00:00Z".into(),
            last_complete_crawl: None,
            records,
        }
    }

    #[test]
    fn index_names() {
        assert!(is_index_name("i20260301T100000000Z-00ab"));
        assert!(is_index_name("i2"));
        assert!(!is_index_name("i"));
        assert!(!is_index_name("g20260301"));
        assert!(!is_index_name("i../x"));
        assert!(!is_index_name(".tmp-i1"));
        assert!(!is_index_name(&format!("i{}", "1".repeat(80))));
    }

    #[test]
    fn current_is_read_and_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let layout = SearchLayout::new(tmp.path());
        assert_eq!(layout.current().unwrap(), None);
        fs::create_dir_all(layout.dir()).unwrap();
        fs::write(layout.current_file(), "i1-ab\n").unwrap();
        assert_eq!(layout.current().unwrap().as_deref(), Some("i1-ab"));
        fs::write(layout.current_file(), "../../etc\n").unwrap();
        let e = layout.current().unwrap_err().to_string();
        assert!(
            e.contains("CURRENT") && e.contains("not a search index name"),
            "{e}"
        );
    }

    #[test]
    fn documents_of_a_generation_and_the_stores() {
        let m = manifest("g1", vec![dataset("scuole", "Scuole")]);
        let mut incomplete = record("rep", "b", "00000000000000b0");
        incomplete.contact_point = None;
        let stores = vec![
            store(
                "rep",
                true,
                vec![record("rep", "a", "00000000000000a0"), incomplete],
            ),
            store(
                "other",
                false,
                vec![record("other", "c", "00000000000000c0")],
            ),
        ];
        let (docs, counts) = documents(Some(&m), &stores);
        assert_eq!(counts, (1, 3, 1));
        let published: Vec<(&str, bool)> =
            docs.iter().map(|d| (d.key.as_str(), d.published)).collect();
        assert_eq!(
            published,
            [
                ("scuole", true),
                ("rep/00000000000000a0", true),
                // No contact point: our outputs leave it out.
                ("rep/00000000000000b0", false),
                // Complete, but its source is not republished.
                ("other/00000000000000c0", false),
            ]
        );
        // A record under our own base URL is our dataset come back: not republished.
        let mut back = record("rep", "d", "00000000000000d0");
        back.landing_page = Some("https://dati.example.it/datasets/scuole".into());
        let (docs, _) = documents(Some(&m), &[store("rep", true, vec![back])]);
        assert!(!docs[1].published);
        // A duplicated key is indexed once.
        let a = record("rep", "a", "00000000000000a0");
        let (docs, counts) = documents(None, &[store("rep", false, vec![a.clone(), a])]);
        assert_eq!((docs.len(), counts), (1, (0, 1, 0)));
    }

    #[test]
    fn the_fingerprint_follows_what_the_index_holds() {
        let a = || store("a", true, vec![record("a", "1", "0000000000000001")]);
        let b = || store("b", false, vec![record("b", "2", "0000000000000002")]);
        let base = federation_fingerprint(&[a(), b()]);
        assert_eq!(base, federation_fingerprint(&[b(), a()]));
        let mut changed = a();
        changed.records[0].hash = "other".into();
        assert_ne!(base, federation_fingerprint(&[changed, b()]));
        let mut flag = a();
        flag.republish = false;
        assert_ne!(base, federation_fingerprint(&[flag, b()]));
        // The bookkeeping of a record does not matter.
        let mut later = a();
        later.records[0].harvested_at = "2027-01-01T00:00:00Z".into();
        assert_eq!(base, federation_fingerprint(&[later, b()]));
        assert_ne!(base, federation_fingerprint(&[a()]));
    }

    fn site_with_generation(m: &Manifest) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let layout = SiteLayout::new(tmp.path());
        fs::create_dir_all(layout.generation_dir(&m.generation)).unwrap();
        fs::write(
            layout.manifest_path(&m.generation),
            serde_json::to_vec(m).unwrap(),
        )
        .unwrap();
        fs::write(layout.current_file(), format!("{}\n", m.generation)).unwrap();
        tmp
    }

    #[test]
    fn refresh_publishes_skips_rebuilds_and_prunes() {
        let m = manifest("g1", vec![dataset("scuole", "Scuole")]);
        let tmp = site_with_generation(&m);
        let site = tmp.path();
        let layout = SearchLayout::new(site);
        let synonyms = Synonyms::built_in();

        let first = refresh(site, &synonyms, None).unwrap();
        assert!(!first.up_to_date);
        assert_eq!(
            layout.current().unwrap().as_deref(),
            Some(first.index.as_str())
        );
        let meta = layout.read_meta(&first.index).unwrap();
        assert_eq!(meta, first.meta);
        assert_eq!(meta.generation.as_deref(), Some("g1"));
        assert_eq!((meta.docs, meta.local, meta.harvested), (1, 1, 0));
        assert!(meta.bytes > 0);

        // Same inputs: nothing written.
        let again = refresh(site, &synonyms, Some(("g1", &m))).unwrap();
        assert!(again.up_to_date);
        assert_eq!(again.index, first.index);

        // A harvest adds records: a new index.
        FederationLayout::new(site)
            .write_store(&store(
                "rep",
                true,
                vec![record("rep", "a", "00000000000000a0")],
            ))
            .unwrap();
        let harvested = refresh(site, &synonyms, None).unwrap();
        assert!(!harvested.up_to_date);
        assert_ne!(harvested.index, first.index);
        assert_eq!(
            (harvested.meta.harvested, harvested.meta.published_harvested),
            (1, 1)
        );

        // Other synonyms: a new index.
        let other = Synonyms::parse("multe, sanzioni\n", Path::new("s.txt")).unwrap();
        let resyn = refresh(site, &other, None).unwrap();
        assert!(!resyn.up_to_date);

        // Forced, and pruned down to the served index and the two before it.
        let mut names = vec![first.index, harvested.index, resyn.index];
        for _ in 0..2 {
            let r = rebuild(site, &other, None).unwrap();
            assert!(!r.up_to_date);
            names.push(r.index);
        }
        let mut on_disk: Vec<String> = fs::read_dir(layout.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| is_index_name(n))
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, names[names.len() - 3..]);
        assert_eq!(layout.current().unwrap().as_ref(), names.last());
    }

    #[test]
    fn leftovers_of_a_killed_refresh_are_removed_and_a_failed_one_changes_nothing() {
        let m = manifest("g1", vec![dataset("scuole", "Scuole")]);
        let tmp = site_with_generation(&m);
        let site = tmp.path();
        let layout = SearchLayout::new(site);
        let synonyms = Synonyms::built_in();
        let served = refresh(site, &synonyms, None).unwrap().index;
        let served_meta = fs::read(layout.index_dir(&served).join(META_FILE)).unwrap();

        // What a refresh killed midway leaves: a half-written folder and CURRENT.tmp.
        let half = layout.dir().join(".tmp-i20990101T000000000Z-0001");
        fs::create_dir_all(&half).unwrap();
        fs::write(half.join("garbage"), "half an index").unwrap();
        fs::write(
            layout.dir().join("CURRENT.tmp"),
            "i20990101T000000000Z-0001\n",
        )
        .unwrap();
        assert_eq!(layout.current().unwrap().as_deref(), Some(served.as_str()));

        // A store that cannot be read: the refresh fails and nothing changes.
        let federation = FederationLayout::new(site);
        fs::create_dir_all(federation.dir()).unwrap();
        fs::write(federation.store_path("rotto"), "{ not json").unwrap();
        let e = refresh(site, &synonyms, None).unwrap_err().to_string();
        assert!(e.contains("rotto.json"), "{e}");
        assert_eq!(layout.current().unwrap().as_deref(), Some(served.as_str()));
        assert_eq!(
            fs::read(layout.index_dir(&served).join(META_FILE)).unwrap(),
            served_meta
        );
        // The leftovers are gone (the failed refresh cleaned them before failing).
        assert!(!half.exists());
        assert!(!layout.dir().join("CURRENT.tmp").exists());
        let entries: Vec<String> = fs::read_dir(layout.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with(".tmp-"))
            .collect();
        assert!(entries.is_empty(), "{entries:?}");

        fs::remove_file(federation.store_path("rotto")).unwrap();
        let next = refresh(site, &synonyms, None).unwrap();
        assert!(next.up_to_date);
        assert_eq!(next.index, served);
    }

    #[test]
    fn without_a_generation_only_the_harvested_records() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path();
        FederationLayout::new(site)
            .write_store(&store(
                "rep",
                false,
                vec![record("rep", "a", "00000000000000a0")],
            ))
            .unwrap();
        let r = refresh(site, &Synonyms::built_in(), None).unwrap();
        assert_eq!(r.meta.generation, None);
        assert_eq!((r.meta.local, r.meta.harvested), (0, 1));
    }
}
