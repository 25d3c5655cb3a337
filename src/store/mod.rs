//! The `site/` layout, generations and their atomic publication, the build cache.
//!
//! ```text
//! site/
//!   CURRENT                      name of the generation being served (replaced by rename)
//!   manifest.json                a copy of the served generation's manifest (convenience)
//!   generations/<gen>/manifest.json
//!   generations/<gen>/datasets/<id>/<file>     published files, listed in the manifest
//!   tmp/                         generations being built (never served)
//! ```
//!
//! A generation is immutable once `CURRENT` names it. `build` writes a new one under
//! `tmp/`, fsyncs it, moves it into `generations/` and then replaces `CURRENT` with a
//! rename, so a reader sees either the old or the new name, never a half-written file.

pub mod build;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::Manifest;

/// Paths inside a `site/` directory.
#[derive(Debug, Clone)]
pub struct SiteLayout {
    root: PathBuf,
}

impl SiteLayout {
    pub fn new(root: impl Into<PathBuf>) -> SiteLayout {
        SiteLayout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file naming the served generation.
    pub fn current_file(&self) -> PathBuf {
        self.root.join("CURRENT")
    }

    pub fn generations_dir(&self) -> PathBuf {
        self.root.join("generations")
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn generation_dir(&self, generation: &str) -> PathBuf {
        self.generations_dir().join(generation)
    }

    pub fn manifest_path(&self, generation: &str) -> PathBuf {
        self.generation_dir(generation).join("manifest.json")
    }

    /// The name of the served generation, or `None` before the first successful build.
    pub fn current_generation(&self) -> io::Result<Option<String>> {
        match fs::read_to_string(self.current_file()) {
            Ok(s) => {
                let name = s.trim();
                if name.is_empty() || !is_generation_name(name) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} does not name a generation: {name:?}",
                            self.current_file().display()
                        ),
                    ));
                }
                Ok(Some(name.to_string()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reads the manifest of a generation.
    pub fn read_manifest(&self, generation: &str) -> io::Result<Manifest> {
        let path = self.manifest_path(generation);
        let bytes = fs::read(&path)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }
}

/// Generation names are `g` followed by `[0-9A-Za-z-]`; anything else in CURRENT is refused,
/// so that CURRENT can never point outside `generations/`.
pub fn is_generation_name(name: &str) -> bool {
    name.len() > 1
        && name.len() <= 80
        && name.starts_with('g')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
