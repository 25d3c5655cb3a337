//! The synonyms list: groups of words or phrases a search treats as equivalent
//! (`multe, sanzioni`), expanded at query time.
//!
//! The list is a text file, `catalog/synonyms.txt` beside `catalog.toml`: one group per
//! line, members separated by commas, `#` starts a comment. Without that file the built-in
//! list (`src/search/synonyms.txt`) is used. The list in force is stored with the index, so
//! the server expands queries with the list the index was built with.

use std::path::Path;

use super::SearchError;

/// The built-in list.
pub const BUILT_IN: &str = include_str!("synonyms.txt");

/// Groups of equivalent words or phrases, as written (analysis happens at query time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Synonyms {
    pub groups: Vec<Vec<String>>,
}

impl Synonyms {
    /// The built-in list.
    pub fn built_in() -> Synonyms {
        // The built-in text is part of the program and checked by a unit test.
        Synonyms::parse(BUILT_IN, Path::new("src/search/synonyms.txt")).unwrap_or_default()
    }

    /// Reads a list from its text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Synonyms, SearchError> {
        let mut groups = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let members: Vec<String> = line
                .split(',')
                .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            if members.iter().any(|m| m.is_empty()) {
                return Err(SearchError::Synonyms {
                    path: path.to_path_buf(),
                    line: i + 1,
                    problem: format!(
                        "an empty member in {line:?}: expected words separated by commas"
                    ),
                });
            }
            if members.len() < 2 {
                return Err(SearchError::Synonyms {
                    path: path.to_path_buf(),
                    line: i + 1,
                    problem: format!(
                        "{line:?} has one member: a group needs two or more, separated by commas"
                    ),
                });
            }
            groups.push(members);
        }
        Ok(Synonyms { groups })
    }

    /// The list of the catalogue folder `catalog_dir` (`synonyms.txt`), else the built-in one.
    pub fn for_catalog(catalog_dir: &Path) -> Result<Synonyms, SearchError> {
        let path = catalog_dir.join("synonyms.txt");
        match std::fs::read_to_string(&path) {
            Ok(text) => Synonyms::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Synonyms::built_in()),
            Err(source) => Err(SearchError::Io { path, source }),
        }
    }

    /// The list as text, in the file's format.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for g in &self.groups {
            out.push_str(&g.join(", "));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_list_parses() {
        let s = Synonyms::parse(BUILT_IN, Path::new("synonyms.txt")).unwrap();
        assert!(s.groups.len() >= 3);
        assert!(
            s.groups
                .iter()
                .any(|g| g.contains(&"multe".to_string()) && g.contains(&"sanzioni".to_string()))
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e =
            Synonyms::parse("# c\nmulte, sanzioni\nscuolabus\n", Path::new("s.txt")).unwrap_err();
        assert!(e.to_string().starts_with("s.txt:3:"), "{e}");
        let e = Synonyms::parse("a,,b", Path::new("s.txt")).unwrap_err();
        assert!(e.to_string().contains("empty member"), "{e}");
    }

    #[test]
    fn round_trip() {
        let s = Synonyms::parse("a b ,c\nd,e # x\n", Path::new("s")).unwrap();
        assert_eq!(s.groups, vec![vec!["a b", "c"], vec!["d", "e"]]);
        assert_eq!(Synonyms::parse(&s.to_text(), Path::new("s")).unwrap(), s);
    }
}
