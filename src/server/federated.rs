//! The harvested records our DCAT catalogue and CKAN API republish
//! ([`crate::catalog::federated`]), read from `site/federation/` and cached.
//!
//! The federation store changes whenever a harvest runs, independently of the served
//! generation, and `portale serve --site` has no `catalog.toml`: what to republish is the
//! `republish` flag each source's store records ([`crate::federation::republished`]).
//! [`RepublishedCache::get`] checks the store folder on every call (one `read_dir` and a
//! `stat` per file: the names, sizes and modification times of its `.json` files) and
//! reloads only when that changed; stores are replaced by rename, so a reload never sees
//! half a file.
//!
//! Pitfall: a store that cannot be read is an error for the whole answer (a 500), never an
//! answer without its records: harvesters downstream delete what a crawl misses.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwapOption;

use crate::catalog::federated::Republished;
use crate::federation::{FederationLayout, StoreError};

/// Name, size and modification time of every `.json` file of the store folder.
type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

fn fingerprint(dir: &Path) -> Result<Fingerprint, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StoreError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        if let Ok(meta) = entry.metadata() {
            out.push((name, meta.len(), meta.modified().ok()));
        }
    }
    out.sort();
    Ok(out)
}

struct Loaded {
    fingerprint: Fingerprint,
    base: String,
    republished: Arc<Republished>,
}

/// The republished records, reloaded when the store folder changes.
#[derive(Default)]
pub struct RepublishedCache {
    current: ArcSwapOption<Loaded>,
    /// Serialises reloads.
    loading: Mutex<()>,
}

impl RepublishedCache {
    /// The records to republish for the site at `site`, whose public base URL is `base`
    /// (blocking: reads the store folder). The same `Arc` comes back while nothing changed.
    pub fn get(&self, site: &Path, base: &str) -> Result<Arc<Republished>, StoreError> {
        let dir = FederationLayout::new(site).dir().to_path_buf();
        let fp = fingerprint(&dir)?;
        let fresh = |l: &Loaded| l.fingerprint == fp && l.base == base;
        if let Some(l) = self.current.load_full().filter(|l| fresh(l)) {
            return Ok(l.republished.clone());
        }
        let _guard = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = self.current.load_full().filter(|l| fresh(l)) {
            return Ok(l.republished.clone());
        }
        let stores = crate::federation::republished(site)?;
        let republished = Arc::new(Republished::from_stores(&stores, base));
        if !republished.skipped.is_empty() {
            tracing::warn!(
                skipped = republished.skipped.len(),
                first = ?republished.skipped.first(),
                "harvested records of republished sources left out of the DCAT and CKAN \
                 outputs: they lack what those outputs must carry"
            );
        }
        tracing::info!(
            records = republished.records.len(),
            "loaded the harvested records to republish"
        );
        self.current.store(Some(Arc::new(Loaded {
            fingerprint: fp,
            base: base.to_string(),
            republished: republished.clone(),
        })));
        Ok(republished)
    }
}
