//! `catalog/catalog.toml`: the publisher, the public base URL, the defaults and the
//! remote catalogues to harvest (`[[harvest]]`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_spanned::Spanned;

use super::harvest::{self, HarvestSection, HarvestSource};
use super::{ConfigError, ConfigErrors, line_of, parse_toml};
use crate::model::{Agent, Catalog, ContactPoint};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub catalog: CatalogSection,
    pub publisher: PublisherSection,
    pub contact_point: ContactSection,
    /// Remote catalogues to harvest (`[[harvest]]`, see [`super::harvest`]).
    #[serde(default)]
    pub harvest: Vec<HarvestSection>,
    /// The map explorer (`[map]`, optional).
    #[serde(default)]
    pub map: Option<MapSection>,
}

/// `[map]`: settings of the map explorer (`/map`).
///
/// ```toml
/// [map]
/// # A MapLibre style drawn under the layers instead of the offline basemap made from the
/// # catalogue's boundary layers. The visitors' browsers fetch it (and its tiles, fonts
/// # and sprites) from that server.
/// basemap_style = "https://tiles.example.org/styles/positron/style.json"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSection {
    #[serde(default)]
    pub basemap_style: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSection {
    pub title: String,
    pub description: String,
    pub base_url: Spanned<String>,
    pub homepage: String,
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    #[serde(default = "default_license")]
    pub default_license: Spanned<String>,
    #[serde(default)]
    pub istat_code: Option<String>,
    #[serde(default)]
    pub territory_bbox: Option<Spanned<[f64; 4]>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherSection {
    pub name: String,
    pub ipa: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSection {
    pub name: String,
    pub email: Spanned<String>,
    #[serde(default)]
    pub url: Option<String>,
}

fn default_languages() -> Vec<String> {
    vec!["it".to_string()]
}

fn default_license() -> Spanned<String> {
    Spanned::new(0..0, "A21_CCBY40".to_string())
}

/// The parsed and validated catalogue configuration.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    pub path: PathBuf,
    /// The file's bytes, part of every dataset's build cache key.
    pub text: String,
    pub catalog: Catalog,
    /// The `[[harvest]]` sources, in file order.
    pub harvest: Vec<HarvestSource>,
}

impl CatalogConfig {
    pub fn load(path: &Path) -> Result<CatalogConfig, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                path,
                None,
                format!("cannot read the catalogue configuration: {e}"),
            )])
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<CatalogConfig, ConfigErrors> {
        let file: CatalogFile = parse_toml(path, text).map_err(|e| ConfigErrors(vec![e]))?;
        let mut errors = Vec::new();
        let at = |span: std::ops::Range<usize>| Some(line_of(text, span.start));

        let base_url = file
            .catalog
            .base_url
            .get_ref()
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            errors.push(ConfigError::new(
                path,
                at(file.catalog.base_url.span()),
                format!("base_url must be an absolute http(s) URL, found {base_url:?}"),
            ));
        }
        let license = file.catalog.default_license.get_ref();
        let license_id = match crate::vocab::license(license) {
            Some(l) => l.id.to_string(),
            None => {
                errors.push(license_error(
                    path,
                    at(file.catalog.default_license.span()),
                    license,
                ));
                license.clone()
            }
        };
        let ipa = file.publisher.ipa.get_ref();
        if !valid_ipa(ipa) {
            errors.push(ConfigError::new(
                path,
                at(file.publisher.ipa.span()),
                format!("publisher ipa {ipa:?} is not an IPA code (lower-case letters, digits and _, e.g. \"c_b648\")"),
            ));
        }
        let email = file.contact_point.email.get_ref();
        if !valid_email(email) {
            errors.push(ConfigError::new(
                path,
                at(file.contact_point.email.span()),
                format!("contact_point email {email:?} is not an e-mail address"),
            ));
        }
        if file.catalog.languages.is_empty() {
            errors.push(ConfigError::new(
                path,
                None,
                "languages must list at least one language",
            ));
        }
        let territory_bbox = match &file.catalog.territory_bbox {
            Some(b) => {
                let [x0, y0, x1, y1] = *b.get_ref();
                if !(x0 < x1
                    && y0 < y1
                    && (-180.0..=180.0).contains(&x0)
                    && (-180.0..=180.0).contains(&x1)
                    && (-90.0..=90.0).contains(&y0)
                    && (-90.0..=90.0).contains(&y1))
                {
                    errors.push(ConfigError::new(
                        path,
                        at(b.span()),
                        "territory_bbox must be [min_lon, min_lat, max_lon, max_lat] in WGS84 degrees, with min < max",
                    ));
                }
                Some(*b.get_ref())
            }
            None => None,
        };
        let basemap_style = match file.map.as_ref().and_then(|m| m.basemap_style.as_ref()) {
            Some(url) => {
                let u = url.get_ref().trim();
                let rest = u
                    .strip_prefix("https://")
                    .or_else(|| u.strip_prefix("http://"));
                if !rest.is_some_and(|r| {
                    !r.is_empty()
                        && !r.starts_with('/')
                        && !r.contains(char::is_whitespace)
                        && !u.contains(['"', '<', '>'])
                }) {
                    errors.push(ConfigError::new(
                        path,
                        at(url.span()),
                        format!(
                            "[map] basemap_style must be an absolute http(s) URL of a MapLibre style (e.g. \"https://tiles.example.org/style.json\"), found {u:?}"
                        ),
                    ));
                }
                Some(u.to_string())
            }
            None => None,
        };
        let harvest = harvest::validate(path, text, &file.harvest, &mut errors);
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let publisher = Agent {
            name: file.publisher.name.clone(),
            identifier: ipa.clone(),
        };
        Ok(CatalogConfig {
            path: path.to_path_buf(),
            text: text.to_string(),
            catalog: Catalog {
                title: file.catalog.title,
                description: file.catalog.description,
                publisher,
                base_url,
                homepage: file.catalog.homepage,
                languages: file.catalog.languages,
                default_license: license_id,
                contact_point: ContactPoint {
                    name: file.contact_point.name,
                    email: email.clone(),
                    url: file.contact_point.url,
                },
                istat_code: file.catalog.istat_code,
                territory_bbox,
                basemap_style,
            },
            harvest,
        })
    }
}

pub(crate) fn license_error(path: &Path, line: Option<usize>, value: &str) -> ConfigError {
    let ids = crate::vocab::LICENSES
        .iter()
        .map(|l| l.id)
        .chain(crate::vocab::LICENSE_ALIASES.iter().map(|a| a.0));
    let mut msg = format!("{value:?} is not an AgID licence id");
    if let Some(near) = crate::vocab::nearest(value, ids) {
        msg.push_str(&format!("; did you mean {near:?}?"));
    }
    msg.push_str(
        " (e.g. \"A21_CCBY40\" for CC BY 4.0, \"A11_CCO10\" for CC0; see docs/RECIPES.md)",
    );
    ConfigError::new(path, line, msg)
}

pub(crate) fn valid_ipa(ipa: &str) -> bool {
    !ipa.is_empty()
        && ipa.len() <= 40
        && ipa
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(crate) fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !email.contains(char::is_whitespace)
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}
