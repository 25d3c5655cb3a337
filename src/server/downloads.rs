//! Download counts, for the home page's "most downloaded" datasets.
//!
//! A download is counted when a file is sent whole: a `GET` of
//! `/datasets/{id}/files/{file}` answered 200. `HEAD`, 304 and partial (206) answers are
//! not counted: GDAL's `/vsicurl/` and PMTiles readers make many range requests for one
//! use, and a revalidation is not a new download.
//!
//! The counts live in memory and are written to `site/stats/downloads.json` (a JSON object
//! `{"dataset id": count}`) by the watcher when they changed and when the server stops,
//! through a temporary file and a rename, so a crash loses at most the last seconds and
//! never leaves half a file. They survive new generations (they are keyed by dataset id).
//! A file that cannot be read is logged and set aside as `downloads.json.bad`, not
//! overwritten; a directory that cannot be written is logged once and the counts stay in
//! memory. Several replicas behind a load balancer each count their own downloads.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The counts and where they are kept.
#[derive(Debug)]
pub struct DownloadCounts {
    path: PathBuf,
    counts: Mutex<HashMap<String, u64>>,
    dirty: AtomicBool,
    /// Set after a failed write, so the failure is logged once.
    failing: AtomicBool,
}

impl DownloadCounts {
    /// The counts kept under `site_dir/stats/`, read from there when present.
    pub fn open(site_dir: &Path) -> DownloadCounts {
        let path = site_dir.join("stats").join("downloads.json");
        let counts = match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<HashMap<String, u64>>(&bytes) {
                Ok(c) => c,
                Err(e) => {
                    let bad = path.with_extension("json.bad");
                    tracing::error!(
                        "{}: not a JSON object of download counts ({e}); moved to {} and \
                         counting from zero",
                        path.display(),
                        bad.display()
                    );
                    if let Err(e) = fs::rename(&path, &bad) {
                        tracing::error!("{}: cannot move it aside: {e}", path.display());
                    }
                    HashMap::new()
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => {
                tracing::error!("{}: cannot read: {e}; counting from zero", path.display());
                HashMap::new()
            }
        };
        DownloadCounts {
            path,
            counts: Mutex::new(counts),
            dirty: AtomicBool::new(false),
            failing: AtomicBool::new(false),
        }
    }

    /// Counts one download of a file of dataset `id`.
    pub fn record(&self, id: &str) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(id.to_string()).or_insert(0) += 1;
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// The count of dataset `id`.
    pub fn get(&self, id: &str) -> u64 {
        self.counts
            .lock()
            .map(|c| c.get(id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// The `n` most downloaded of the datasets `keep` accepts (ties by id), most first.
    pub fn top(&self, n: usize, keep: impl Fn(&str) -> bool) -> Vec<(String, u64)> {
        let Ok(c) = self.counts.lock() else {
            return Vec::new();
        };
        let mut v: Vec<(String, u64)> = c
            .iter()
            .filter(|(id, n)| **n > 0 && keep(id))
            .map(|(id, n)| (id.clone(), *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Writes the counts if they changed since the last write.
    pub fn save_if_changed(&self) {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let snapshot = match self.counts.lock() {
            Ok(c) => c.clone(),
            Err(_) => return,
        };
        match self.write(&snapshot) {
            Ok(()) => {
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::info!("{}: download counts are written again", self.path.display());
                }
            }
            Err(e) => {
                // Try again at the next call.
                self.dirty.store(true, Ordering::Release);
                if !self.failing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        "{}: cannot write the download counts ({e}); they are kept in memory",
                        self.path.display()
                    );
                }
            }
        }
    }

    fn write(&self, counts: &HashMap<String, u64>) -> io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let sorted: std::collections::BTreeMap<&String, &u64> = counts.iter().collect();
        let bytes = serde_json::to_vec_pretty(&sorted).map_err(io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_survive_a_restart_and_a_bad_file_is_set_aside() {
        let tmp = tempfile::tempdir().unwrap();
        let c = DownloadCounts::open(tmp.path());
        for id in ["b", "a", "b", "c", "b", "a"] {
            c.record(id);
        }
        assert_eq!(
            c.top(2, |_| true),
            vec![("b".to_string(), 3), ("a".to_string(), 2)]
        );
        assert_eq!(c.top(5, |id| id != "b").len(), 2);
        c.save_if_changed();
        let again = DownloadCounts::open(tmp.path());
        assert_eq!((again.get("a"), again.get("b"), again.get("c")), (2, 3, 1));

        let file = tmp.path().join("stats/downloads.json");
        fs::write(&file, b"{not json").unwrap();
        let fresh = DownloadCounts::open(tmp.path());
        assert_eq!(fresh.get("b"), 0);
        assert_eq!(
            fs::read(tmp.path().join("stats/downloads.json.bad")).unwrap(),
            b"{not json"
        );
    }

    #[test]
    fn an_unwritable_directory_keeps_the_counts_in_memory() {
        let tmp = tempfile::tempdir().unwrap();
        // `stats` is a file, so the directory cannot be made.
        fs::write(tmp.path().join("stats"), b"").unwrap();
        let c = DownloadCounts::open(tmp.path());
        c.record("a");
        c.save_if_changed();
        assert_eq!(c.get("a"), 1);
        assert!(c.dirty.load(Ordering::Acquire), "retried at the next call");
    }
}
