//! Reads `catalog/catalog.toml` and `datasets/*/dataset.toml`, strictly.
//!
//! Every error names the file and the line, and for a misspelt key the nearest valid key:
//! a municipal clerk editing a recipe must be able to fix it from the message alone.
//! Parsing (serde with `deny_unknown_fields`) catches unknown keys and wrong types;
//! [`validate`](recipe::Recipe::validate) then checks values against the vocabularies and the
//! file system. Checks that need the source data (does a column exist?) happen in the ETL,
//! which reports them against the recipe line too.
//!
//! The reference of every key, with examples, is `docs/RECIPES.md`; a test keeps the two
//! in step.

pub mod catalog;
pub mod harvest;
pub mod recipe;

use std::fmt;
use std::path::{Path, PathBuf};

pub use catalog::CatalogConfig;
pub use harvest::{HarvestSource, Limits, Schedule, SourceKind};
pub use recipe::Recipe;

/// A configuration error, located in a file (and a line when there is one).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}, line {line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(file: &Path, line: Option<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Several configuration errors, all reported at once.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses TOML text into `T`, turning serde's errors into a located, helpful message.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
) -> Result<T, ConfigError> {
    toml::from_str::<T>(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        ConfigError::new(file, line, explain_toml_error(e.message()))
    })
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" into a suggestion.
fn explain_toml_error(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((unknown, tail)) = rest.split_once('`')
    {
        let valid: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        let mut out = format!("unknown key `{unknown}`");
        if let Some(near) = crate::vocab::nearest(unknown, valid.iter().copied()) {
            out.push_str(&format!("; did you mean `{near}`?"));
        }
        if !valid.is_empty() {
            out.push_str(&format!(" (valid keys here: {})", valid.join(", ")));
        }
        return out;
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((field, _)) = rest.split_once('`')
    {
        return format!("missing required key `{field}`");
    }
    message.replace("invalid type:", "wrong type:")
}

/// A whole site configuration: the catalogue and every dataset recipe.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub root: PathBuf,
    pub catalog: CatalogConfig,
    /// Recipes sorted by dataset id.
    pub recipes: Vec<Recipe>,
}

/// Reads `root/catalog/catalog.toml` and every `root/datasets/*/dataset.toml`, and
/// validates them. All errors found are returned together.
pub fn load_site(root: &Path) -> Result<SiteConfig, ConfigErrors> {
    let mut errors = Vec::new();
    let catalog_path = root.join("catalog").join("catalog.toml");
    let catalog = match CatalogConfig::load(&catalog_path) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e.0);
            None
        }
    };
    let datasets_dir = root.join("datasets");
    let mut recipes = Vec::new();
    match std::fs::read_dir(&datasets_dir) {
        Ok(entries) => {
            let mut dirs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            for dir in dirs {
                let recipe_path = dir.join("dataset.toml");
                if !recipe_path.exists() {
                    // Folders without a recipe (documentation, generators) are not datasets.
                    continue;
                }
                match Recipe::load(&recipe_path) {
                    Ok(r) => {
                        if let Some(cat) = &catalog
                            && let Err(e) = r.validate(cat)
                        {
                            errors.extend(e.0);
                            continue;
                        }
                        recipes.push(r);
                    }
                    Err(e) => errors.extend(e.0),
                }
            }
        }
        Err(e) => errors.push(ConfigError::new(
            &datasets_dir,
            None,
            format!("cannot read the datasets folder: {e}"),
        )),
    }
    if recipes.is_empty() && errors.is_empty() {
        errors.push(ConfigError::new(
            &datasets_dir,
            None,
            "no dataset recipes found (expected datasets/<id>/dataset.toml)",
        ));
    }
    match catalog {
        Some(catalog) if errors.is_empty() => Ok(SiteConfig {
            root: root.to_path_buf(),
            catalog,
            recipes,
        }),
        _ => Err(ConfigErrors(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_suggests_the_nearest() {
        let msg = explain_toml_error(
            "unknown field `titel`, expected one of `title`, `description`, `themes`",
        );
        assert!(msg.contains("did you mean `title`?"), "{msg}");
    }

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
