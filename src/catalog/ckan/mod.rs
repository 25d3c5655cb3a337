//! A read-only subset of the CKAN Action API v3 over the served manifest, so that CKAN
//! harvesters (ckanext-harvest, the regional dati.toscana.it), ckanapi and udata can
//! read Portale's catalogue as if it were a CKAN.
//!
//! [`CkanCatalog::new`] turns a generation's [`Manifest`] into package dicts (built once,
//! serialised once, kept as JSON text), organizations (publishers), groups (EU data
//! themes), tags and licences, plus a [`query::SearchIndex`] for `package_search`.
//! [`actions::call`] runs one action on it and returns the `result` as JSON text
//! ([`actions::call_with`] with the catalogue's search engine, which then matches
//! `package_search`'s free-text `q`: [`CkanCatalog::package_of_search_key`] maps the
//! engine's record keys back to packages);
//! [`actions::envelope_ok`] / [`actions::envelope_error`] wrap it the way CKAN does. The
//! HTTP side (routes, GET and POST parameter parsing) is `crate::server::ckan`.
//!
//! ```
//! use portale::catalog::ckan::{actions, CkanCatalog};
//! use portale::model::{Agent, Catalog, ContactPoint, Manifest, MANIFEST_VERSION};
//! use portale::server::Urls;
//!
//! let agent = Agent { name: "Comune di Capannori".into(), identifier: "c_b648".into() };
//! let manifest = Manifest {
//!     version: MANIFEST_VERSION,
//!     generation: "g1".into(),
//!     built_at: "2026-01-01T00:00:00Z".into(),
//!     portale_version: "0.1.0".into(),
//!     catalog: Catalog {
//!         title: "Dati aperti".into(),
//!         description: "Catalogo".into(),
//!         publisher: agent,
//!         base_url: "https://dati.example.it".into(),
//!         homepage: "https://www.example.it".into(),
//!         languages: vec!["it".into()],
//!         default_license: "A21_CCBY40".into(),
//!         contact_point: ContactPoint { name: "URP".into(), email: "urp@example.it".into(), url: None },
//!         istat_code: None,
//!         territory_bbox: None,
//!         basemap_style: None,
//!     },
//!     datasets: vec![],
//! };
//! let ckan = CkanCatalog::new(&manifest, &Urls::new(&manifest.catalog.base_url));
//! let result = actions::call(&ckan, "package_list", &serde_json::Map::new()).unwrap();
//! assert_eq!(result, "[]");
//! ```
//!
//! Pitfalls:
//! * Determinism: the same manifest gives byte-identical answers (ckanext-harvest aborts
//!   when two consecutive pages are byte-identical, and caches compare bodies), so there
//!   are no hash maps in any output order and every sort ends on a unique key.
//! * Federated (harvested) datasets must stay out of these outputs unless configured,
//!   or portals harvest each other in circles: [`CkanCatalog::new`] serves exactly the
//!   manifest's `datasets`; [`CkanCatalog::with_republished`] adds the records of the
//!   sources marked `republish = true` ([`crate::catalog::federated`]), named
//!   `{source}_{key}` ([`dict::federated_name`]) and marked with `harvest_*` extras.

pub mod actions;
pub mod dict;
pub mod query;
pub mod subthemes;
pub mod uuid;

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use self::dict::{
    CkanLicense, GroupRef, LicenseDict, OrganizationDict, PackageContext, ThemeGroup,
    ckan_timestamp, parse_instant,
};
use self::query::{DocText, EngineScores, SearchDoc, SearchIndex};
use self::uuid::ckan_id;
use crate::catalog::federated::{Republished, RepublishedRecord};
use crate::model::{Agent, Manifest};
use crate::server::Urls;

/// One package: its dict as JSON text and the keys its lists are ordered by.
#[derive(Debug)]
pub struct Package {
    pub id: String,
    pub name: String,
    pub metadata_modified: NaiveDateTime,
    /// The serialised package dict.
    pub json: String,
    /// Index into [`CkanCatalog::organizations`].
    pub organization: usize,
    /// Indices into [`CkanCatalog::groups`].
    pub groups: Vec<usize>,
    /// For a republished harvested record, the dataset at its origin (landing page, else
    /// URI): where `/dataset/{name}` sends a browser.
    pub origin: Option<String>,
}

/// What a package is built from.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Own(&'a crate::model::Dataset),
    Republished(&'a RepublishedRecord),
}

impl<'a> Entry<'a> {
    fn name(&self) -> String {
        match self {
            Entry::Own(d) => d.id.clone(),
            Entry::Republished(r) => dict::federated_name(r),
        }
    }

    /// The record's key in the search index ([`crate::search::SearchDoc::key`]).
    fn search_key(&self) -> String {
        match self {
            Entry::Own(d) => d.id.clone(),
            Entry::Republished(r) => crate::catalog::search_key(&r.source, &r.key),
        }
    }

    fn publisher(&self) -> &'a Agent {
        match self {
            Entry::Own(d) => &d.meta.publisher,
            Entry::Republished(r) => &r.publisher,
        }
    }

    fn themes(&self) -> &'a [String] {
        match self {
            Entry::Own(d) => &d.meta.themes,
            Entry::Republished(r) => &r.themes,
        }
    }

    /// `(created, modified)`: created is `issued` when earlier than modified.
    fn dates(&self, fallback: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
        let (modified, issued) = match self {
            Entry::Own(d) => (
                parse_instant(&d.modified).unwrap_or(fallback),
                d.meta.issued.as_deref(),
            ),
            Entry::Republished(r) => (r.modified_at.naive_utc(), r.issued.as_deref()),
        };
        let created = issued
            .and_then(parse_instant)
            .filter(|issued| *issued < modified)
            .unwrap_or(modified);
        (created, modified)
    }
}

/// An organization (a publisher) and its packages.
#[derive(Debug)]
pub struct Organization {
    pub dict: OrganizationDict,
    /// Indices into [`CkanCatalog::packages`], by name.
    pub packages: Vec<usize>,
}

/// A theme group and its packages.
#[derive(Debug)]
pub struct Group {
    pub theme: ThemeGroup,
    pub created: String,
    /// Indices into [`CkanCatalog::packages`], by name.
    pub packages: Vec<usize>,
}

/// Site facts for `status_show` and help URLs.
#[derive(Debug, Clone)]
pub struct Site {
    pub title: String,
    pub description: String,
    /// Public base URL, no trailing slash.
    pub url: String,
    /// Main language (ISO 639-1).
    pub locale: String,
    pub portale_version: String,
}

/// The catalogue as the CKAN API serves it; immutable once built.
#[derive(Debug)]
pub struct CkanCatalog {
    pub site: Site,
    /// By name.
    pub packages: Vec<Package>,
    by_name: HashMap<String, usize>,
    by_id: HashMap<String, usize>,
    /// Search-index key ([`crate::search::SearchDoc::key`]) → index into `packages`.
    by_search_key: HashMap<String, usize>,
    /// Same order as `packages`.
    pub index: SearchIndex,
    /// By name.
    pub organizations: Vec<Organization>,
    /// By name.
    pub groups: Vec<Group>,
    /// Tag name → number of packages, by name.
    pub tags: BTreeMap<String, usize>,
    /// The licences in use, by id.
    pub licenses: Vec<LicenseDict>,
    /// `(dataset id, keyword)` for keywords that cannot be CKAN tags.
    pub skipped_keywords: Vec<(String, String)>,
}

/// A CKAN organization name (`[a-z0-9_-]{2,100}`) from an IPA code.
fn organization_name(identifier: &str) -> String {
    let mut name: String = identifier
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    if name.len() < 2 {
        name = format!("org-{name}");
    }
    name
}

impl CkanCatalog {
    /// Builds every dict of the catalogue from `manifest`, with URLs from `urls`.
    pub fn new(manifest: &Manifest, urls: &Urls) -> CkanCatalog {
        Self::with_republished(manifest, urls, &Republished::default())
    }

    /// [`CkanCatalog::new`] plus the republished harvested records.
    pub fn with_republished(
        manifest: &Manifest,
        urls: &Urls,
        republished: &Republished,
    ) -> CkanCatalog {
        let catalog = &manifest.catalog;
        let fallback = parse_instant(&manifest.built_at).unwrap_or_default();

        let mut datasets: Vec<(String, Entry<'_>)> = manifest
            .datasets
            .iter()
            .map(Entry::Own)
            .chain(republished.records.iter().map(Entry::Republished))
            .map(|e| (e.name(), e))
            .collect();
        datasets.sort_by(|a, b| a.0.cmp(&b.0));
        let datasets: Vec<Entry<'_>> = datasets.into_iter().map(|(_, e)| e).collect();

        // Dates first: organizations and groups are "created" with their first package.
        let dates: Vec<(NaiveDateTime, NaiveDateTime)> =
            datasets.iter().map(|d| d.dates(fallback)).collect();

        // Organizations: one per publisher IPA code, the first name seen (by dataset id).
        let mut publishers: BTreeMap<String, (Agent, NaiveDateTime)> = BTreeMap::new();
        for (d, (created, _)) in datasets.iter().zip(&dates) {
            let p = d.publisher();
            let entry = publishers
                .entry(p.identifier.clone())
                .or_insert_with(|| (p.clone(), *created));
            entry.1 = entry.1.min(*created);
        }
        let mut taken: HashMap<String, usize> = HashMap::new();
        let mut organizations: Vec<Organization> = publishers
            .into_iter()
            .map(|(identifier, (agent, created))| {
                let mut name = organization_name(&identifier);
                if taken.contains_key(&name) {
                    let suffix = &ckan_id(&identifier)[..8];
                    name = format!("{}-{suffix}", &name[..name.len().min(91)]);
                }
                taken.insert(name.clone(), 0);
                Organization {
                    dict: OrganizationDict {
                        approval_status: "approved",
                        created: ckan_timestamp(&created),
                        description: String::new(),
                        id: ckan_id(&format!("organization:{identifier}")),
                        identifier,
                        image_url: String::new(),
                        is_organization: true,
                        name,
                        state: "active",
                        title: agent.name,
                        kind: "organization",
                    },
                    packages: Vec::new(),
                }
            })
            .collect();
        organizations.sort_by(|a, b| a.dict.name.cmp(&b.dict.name));
        let org_of: HashMap<String, usize> = organizations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.dict.identifier.clone(), i))
            .collect();

        // Groups: one per theme in use.
        let mut themes: BTreeMap<String, (ThemeGroup, NaiveDateTime)> = BTreeMap::new();
        for (d, (created, _)) in datasets.iter().zip(&dates) {
            for code in d.themes() {
                let g = ThemeGroup::of(code);
                let entry = themes
                    .entry(g.name.clone())
                    .or_insert_with(|| (g, *created));
                entry.1 = entry.1.min(*created);
            }
        }
        let mut groups: Vec<Group> = themes
            .into_values()
            .map(|(theme, created)| Group {
                theme,
                created: ckan_timestamp(&created),
                packages: Vec::new(),
            })
            .collect();
        let group_of: HashMap<String, usize> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.theme.name.clone(), i))
            .collect();

        let mut packages = Vec::with_capacity(datasets.len());
        let mut search_keys = Vec::with_capacity(datasets.len());
        let mut docs = Vec::with_capacity(datasets.len());
        let mut tags: BTreeMap<String, usize> = BTreeMap::new();
        let mut licenses: BTreeMap<String, LicenseDict> = BTreeMap::new();
        let mut skipped_keywords = Vec::new();
        for (d, (created, modified)) in datasets.iter().zip(&dates) {
            let i = packages.len();
            let org_index = org_of.get(&d.publisher().identifier).copied().unwrap_or(0);
            let Some(org) = organizations.get_mut(org_index) else {
                continue;
            };
            let ctx = PackageContext {
                catalog,
                urls,
                organization: &org.dict,
                created: *created,
                modified: *modified,
            };
            let (dict, skipped, origin) = match d {
                Entry::Own(d) => {
                    let (dict, skipped) = dict::package(d, &ctx);
                    (dict, skipped, None)
                }
                Entry::Republished(r) => {
                    let (dict, skipped) = dict::federated_package(r, &ctx);
                    let origin = Some(dict.url.clone()).filter(|u| !u.is_empty());
                    (dict, skipped, origin)
                }
            };
            org.packages.push(i);
            if !skipped.is_empty() {
                tracing::warn!(
                    dataset = %dict.name,
                    keywords = ?skipped,
                    "keywords left out of the CKAN tags: nothing usable is left once the \
                     characters CKAN refuses are removed"
                );
            }
            skipped_keywords.extend(skipped.into_iter().map(|k| (dict.name.clone(), k)));
            let license = match d {
                Entry::Own(d) => Some(CkanLicense::of(&d.meta.license)),
                Entry::Republished(r) => r.main_license().map(|l| CkanLicense::of(l.id)),
            };
            if let Some(license) = license {
                licenses
                    .entry(license.id.clone())
                    .or_insert_with(|| license.dict());
            }
            for t in &dict.tags {
                *tags.entry(t.name.clone()).or_default() += 1;
            }
            let mut group_indices = Vec::new();
            for g in &dict.groups {
                if let Some(&gi) = group_of.get(&g.name) {
                    groups[gi].packages.push(i);
                    group_indices.push(gi);
                }
            }
            docs.push(search_doc(
                &dict,
                &org.dict,
                &dict.groups,
                *created,
                *modified,
            ));
            let json = match serde_json::to_string(&dict) {
                Ok(json) => json,
                Err(e) => {
                    // Plain structs of strings and numbers: serialisation cannot fail.
                    tracing::error!(dataset = %dict.name, "cannot serialise the package dict: {e}");
                    "{}".to_string()
                }
            };
            search_keys.push(d.search_key());
            packages.push(Package {
                id: dict.id,
                name: dict.name,
                metadata_modified: *modified,
                json,
                organization: org_index,
                groups: group_indices,
                origin,
            });
        }
        let by_name = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        let by_id = packages
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let by_search_key = search_keys
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        CkanCatalog {
            site: Site {
                title: catalog.title.clone(),
                description: catalog.description.clone(),
                url: urls.base().to_string(),
                locale: catalog
                    .languages
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "it".into()),
                portale_version: manifest.portale_version.clone(),
            },
            packages,
            by_name,
            by_id,
            by_search_key,
            index: SearchIndex::new(docs),
            organizations,
            groups,
            tags,
            licenses: licenses.into_values().collect(),
            skipped_keywords,
        }
    }

    /// A package by name or id.
    pub fn package(&self, name_or_id: &str) -> Option<&Package> {
        self.by_name
            .get(name_or_id)
            .or_else(|| self.by_id.get(name_or_id))
            .and_then(|&i| self.packages.get(i))
    }

    /// The index into [`CkanCatalog::packages`] of the package of a search-index record
    /// ([`crate::search::SearchDoc::key`]: the dataset id of our own datasets,
    /// `<source>/<federation key>` of a republished record); `None` for a record the
    /// CKAN API does not publish.
    pub fn package_of_search_key(&self, key: &str) -> Option<usize> {
        self.by_search_key.get(key).copied()
    }

    /// The search engine's matches as [`EngineScores`] over the packages; the records
    /// this catalogue does not publish are left out.
    pub fn engine_scores(&self, matches: &[(String, f32)]) -> EngineScores {
        let mut scores = EngineScores::none(self.packages.len());
        for (key, score) in matches {
            if let Some(i) = self.package_of_search_key(key) {
                scores.insert(i, *score);
            }
        }
        scores
    }

    /// An organization by name or id.
    pub fn organization(&self, name_or_id: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|o| o.dict.name == name_or_id || o.dict.id == name_or_id)
    }

    /// A group by name or id (the theme code is accepted in any case).
    pub fn group(&self, name_or_id: &str) -> Option<&Group> {
        let lower = name_or_id.to_ascii_lowercase();
        self.groups
            .iter()
            .find(|g| g.theme.name == lower || g.theme.id == name_or_id)
    }
}

fn search_doc(
    dict: &dict::PackageDict,
    org: &OrganizationDict,
    groups: &[GroupRef],
    created: NaiveDateTime,
    modified: NaiveDateTime,
) -> (SearchDoc, DocText) {
    let doc = SearchDoc {
        id: dict.id.clone(),
        name: dict.name.clone(),
        title: dict.title.clone(),
        url: dict.url.clone(),
        organization: Some((org.name.clone(), org.title.clone(), org.id.clone())),
        groups: groups
            .iter()
            .map(|g| (g.name.clone(), g.title.clone()))
            .collect(),
        tags: dict.tags.iter().map(|t| t.name.clone()).collect(),
        res_formats: dict.resources.iter().map(|r| r.format.clone()).collect(),
        res_urls: dict.resources.iter().map(|r| r.url.clone()).collect(),
        license_id: dict.license_id.clone(),
        extras: dict
            .extras
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect(),
        metadata_modified: modified,
        metadata_created: created,
        num_resources: i64::try_from(dict.num_resources).unwrap_or(i64::MAX),
        num_tags: i64::try_from(dict.num_tags).unwrap_or(i64::MAX),
        ..SearchDoc::default()
    };
    let text = DocText {
        notes: dict.notes.clone(),
        res_names: dict.resources.iter().map(|r| r.name.clone()).collect(),
        res_descriptions: dict
            .resources
            .iter()
            .map(|r| r.description.clone())
            .collect(),
    };
    (doc, text)
}
