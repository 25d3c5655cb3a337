//! The federated records store: `site/federation/`, apart from our own generations.
//!
//! ```text
//! site/federation/
//!   <source>.json     one SourceStore per harvest source (its records, sorted by original id)
//!   report.json       the last harvest report (HarvestReport), served at /-/harvest
//!   lock              held (flock) while a harvest runs, so two never write at once
//! ```
//!
//! Files are written like the generation store writes its manifest: into a temporary file
//! next to the target, fsynced, renamed over the target, and the directory fsynced; a
//! reader sees the old file or the new one, never half of one. Nothing here touches
//! `CURRENT` or `generations/`: harvesting never changes the served generation.
//!
//! Incremental updates ([`merge`]): a record whose content hash is unchanged is kept as
//! it was (its `harvested_at` too); a changed one is replaced; records missing from the
//! crawl are deleted only when the crawl was complete.
//!
//! What other parts of Portale read: [`load_all`] (every source's records, for search and
//! pages), and for our own DCAT and CKAN outputs, so that portals do not harvest each
//! other in circles, only the sources marked `republish = true`: [`republishable`] when
//! the `[[harvest]]` configuration is at hand, [`republished`] when only the site is
//! (`portale serve --site`): it trusts the flag each store records. The harvest keeps
//! that flag in step with the configuration ([`super::harvest`] rewrites it for every
//! configured source at each run), so turning `republish` on or off takes effect at the
//! next `portale harvest`, of any source.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::report::HarvestReport;
use crate::config::{HarvestSource, SourceKind};
use crate::model::FederatedRecord;

/// Version of the source store format.
pub const STORE_VERSION: u32 = 1;

/// A problem reading or writing the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: not a valid {what}: {problem}", .path.display())]
    Invalid {
        path: PathBuf,
        what: &'static str,
        problem: String,
    },
    #[error(
        "another harvest is running on this site (it holds {}); try again when it has finished",
        .path.display()
    )]
    Locked { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `site/federation/<source>.json`: one source's records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStore {
    pub version: u32,
    pub source: String,
    pub kind: SourceKind,
    pub url: String,
    /// The source's `republish` setting when it was last harvested.
    pub republish: bool,
    /// When the records last changed (RFC 3339, UTC).
    pub updated_at: String,
    /// When the last complete crawl finished, if one ever did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_complete_crawl: Option<String>,
    /// Sorted by `original_id`.
    pub records: Vec<FederatedRecord>,
}

/// Paths inside `site/federation/`.
#[derive(Debug, Clone)]
pub struct FederationLayout {
    dir: PathBuf,
}

impl FederationLayout {
    /// The federation folder of the site at `site`.
    pub fn new(site: &Path) -> FederationLayout {
        FederationLayout {
            dir: site.join("federation"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<source>.json`; source names are `[a-z0-9-]` (checked by the configuration).
    pub fn store_path(&self, source: &str) -> PathBuf {
        self.dir.join(format!("{source}.json"))
    }

    pub fn report_path(&self) -> PathBuf {
        self.dir.join("report.json")
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join("lock")
    }

    /// Reads a source's records; `None` before its first harvest.
    pub fn read_store(&self, source: &str) -> Result<Option<SourceStore>, StoreError> {
        let path = self.store_path(source);
        read_json(&path, "federated records store")
    }

    /// Writes a source's records atomically.
    pub fn write_store(&self, store: &SourceStore) -> Result<(), StoreError> {
        write_json_atomic(&self.store_path(&store.source), store)
    }

    /// Removes a source's records (a source no longer configured).
    pub fn remove_store(&self, source: &str) -> Result<(), StoreError> {
        let path = self.store_path(source);
        match fs::remove_file(&path) {
            Ok(()) => sync_dir(&self.dir).map_err(io_err(&self.dir)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// The names of the sources that have a store.
    pub fn stored_sources(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.dir)(e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
            .filter(|n| n != "report")
            .collect();
        names.sort();
        Ok(names)
    }

    /// The last harvest report; `None` before the first harvest.
    pub fn read_report(&self) -> Result<Option<HarvestReport>, StoreError> {
        read_json(&self.report_path(), "harvest report")
    }

    pub fn write_report(&self, report: &HarvestReport) -> Result<(), StoreError> {
        write_json_atomic(&self.report_path(), report)
    }

    /// Takes the harvest lock (an exclusive `flock` on `lock`, released when the guard is
    /// dropped or the process dies, so a crash leaves no stale lock).
    pub fn lock(&self) -> Result<HarvestLock, StoreError> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let path = self.lock_path();
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(HarvestLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::Locked { path }),
            Err(fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }
}

/// Held while a harvest writes the store.
#[derive(Debug)]
pub struct HarvestLock {
    _file: File,
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<Option<T>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| StoreError::Invalid {
            path: path.to_path_buf(),
            what,
            problem: e.to_string(),
        })
}

/// Writes `value` as JSON to `path`: temporary file, fsync, rename, fsync of the folder.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| StoreError::Io {
        path: path.to_path_buf(),
        source: io::Error::other(e),
    })?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(path)(e));
    }
    sync_dir(dir).map_err(io_err(dir))
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// The outcome of merging a crawl into the previous records.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The records to store, sorted by `original_id`.
    pub records: Vec<FederatedRecord>,
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub not_seen_kept: u64,
}

impl Merged {
    /// Whether the stored records differ from the previous ones.
    pub fn changed(&self) -> bool {
        self.new + self.updated + self.deleted > 0
    }
}

/// Merges the records of a crawl into the previous ones. Records are matched by
/// `original_id`; an unchanged `hash` keeps the previous record as it was. Previous
/// records the crawl did not see are deleted only if `complete`.
pub fn merge(
    previous: &[FederatedRecord],
    crawled: Vec<FederatedRecord>,
    complete: bool,
) -> Merged {
    let old: HashMap<&str, &FederatedRecord> = previous
        .iter()
        .map(|r| (r.original_id.as_str(), r))
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut records = Vec::with_capacity(crawled.len().max(previous.len()));
    let (mut new, mut updated, mut unchanged) = (0, 0, 0);
    for r in crawled {
        if !seen.insert(r.original_id.clone()) {
            continue;
        }
        match old.get(r.original_id.as_str()) {
            None => {
                new += 1;
                records.push(r);
            }
            Some(o) if o.hash == r.hash => {
                unchanged += 1;
                records.push((*o).clone());
            }
            Some(_) => {
                updated += 1;
                records.push(r);
            }
        }
    }
    let (mut deleted, mut not_seen_kept) = (0, 0);
    for o in previous {
        if seen.contains(&o.original_id) {
            continue;
        }
        if complete {
            deleted += 1;
        } else {
            not_seen_kept += 1;
            records.push(o.clone());
        }
    }
    records.sort_by(|a, b| a.original_id.cmp(&b.original_id));
    Merged {
        records,
        new,
        updated,
        unchanged,
        deleted,
        not_seen_kept,
    }
}

/// Every stored source with its records (for search and the pages showing them).
pub fn load_all(site: &Path) -> Result<Vec<SourceStore>, StoreError> {
    let layout = FederationLayout::new(site);
    let mut out = Vec::new();
    for name in layout.stored_sources()? {
        if let Some(s) = layout.read_store(&name)? {
            out.push(s);
        }
    }
    Ok(out)
}

/// The records our own DCAT and CKAN outputs may include: those of the sources that
/// `sources` (the current `[[harvest]]` configuration) marks `republish = true`. Records of
/// every other source stay out, whatever their store says.
pub fn republishable(
    site: &Path,
    sources: &[HarvestSource],
) -> Result<Vec<FederatedRecord>, StoreError> {
    let layout = FederationLayout::new(site);
    let mut out = Vec::new();
    for s in sources.iter().filter(|s| s.republish) {
        if let Some(store) = layout.read_store(&s.name)? {
            out.extend(store.records);
        }
    }
    Ok(out)
}

/// The stores our own outputs republish when no configuration is at hand: those whose
/// recorded `republish` flag is set, in source-name order (their records sorted by
/// original id). See the module docs for how the flag follows the configuration.
pub fn republished(site: &Path) -> Result<Vec<SourceStore>, StoreError> {
    Ok(load_all(site)?
        .into_iter()
        .filter(|s| s.republish)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, hash: &str) -> FederatedRecord {
        FederatedRecord {
            source: "s".into(),
            key: id.into(),
            original_id: id.into(),
            uri: None,
            title: id.into(),
            description: String::new(),
            keywords: vec![],
            themes: vec![],
            publisher: None,
            rights_holder: None,
            contact_point: None,
            license: None,
            frequency: None,
            issued: None,
            modified: None,
            landing_page: None,
            harvested_from: "p".into(),
            distributions: vec![],
            spatial: None,
            temporal: None,
            sanitized: vec![],
            defects: vec![],
            hash: hash.into(),
            harvested_at: format!("t-{hash}"),
        }
    }

    #[test]
    fn merge_counts_and_keeps_unchanged_records_as_they_were() {
        let previous = vec![rec("a", "1"), rec("b", "1"), rec("c", "1")];
        let crawled = vec![rec("b", "2"), rec("a", "1"), rec("d", "1")];
        let m = merge(&previous, crawled.clone(), true);
        assert_eq!((m.new, m.updated, m.unchanged, m.deleted), (1, 1, 1, 1));
        let ids: Vec<&str> = m.records.iter().map(|r| r.original_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d"]);
        assert_eq!(m.records[1].hash, "2");

        let m = merge(&previous, crawled, false);
        assert_eq!((m.deleted, m.not_seen_kept), (0, 1));
        assert_eq!(m.records.len(), 4);
    }
}
