//! The dictionaries of the CKAN Action API (package, resource, tag, group, organization,
//! licence) built from the served manifest, in the shapes CKAN 2.10 with
//! ckanext-dcatapit returns and a receiving CKAN accepts.
//!
//! Choices a receiver depends on (the reasons are in DOMAIN.md §2):
//!
//! * `id`: a UUIDv8 of `<catalogue IPA>:<dataset id>` ([`super::uuid`]); `name`: the
//!   dataset id (already `[a-z0-9-]{2,100}`, a valid CKAN name).
//! * Dates (`metadata_created`, `metadata_modified`, resource `created`,
//!   `last_modified`): `YYYY-MM-DDTHH:MM:SS.ffffff` in UTC, without `Z`, from the
//!   manifest's `modified` (ckanext-harvest compares them as strings).
//!   `metadata_created` is the recipe's `issued` when it is earlier, else `modified`.
//! * DCAT-AP_IT fields go into `extras` under ckanext-dcatapit's names, because
//!   ckanext-harvest's CKAN harvester creates packages with CKAN's core schema: extras
//!   survive, unknown top-level keys are dropped. No extra repeats a core field.
//!   `theme` (and `themes_aggregate`, its dcatapit 2 name) hold the aggregate
//!   `[{"theme": "EDUC", "subthemes": [...]}]`, each sub-theme under the theme the AgID
//!   mapping puts it ([`super::subthemes`]); sub-themes that belong to none of the
//!   dataset's themes are left out, as a DCAT-AP_IT CKAN would reject them.
//! * Licence: `license_id` is the SPDX-style alias Portale recipes accept
//!   ([`crate::vocab::LICENSE_ALIASES`], e.g. `CC-BY-4.0`, `IODL-2.0`), or the AgID id when
//!   the licence has none (`A24_CCBY25`); `license_url` is the AgID vocabulary URI, which
//!   ckanext-dcatapit resolves to its licence tree; `license_title` the Italian label.
//!   Every resource carries `license_type` (the AgID URI) and `distribution_format` (the
//!   EU file-type code), the dcatapit resource fields.
//! * Tags: keywords with characters outside CKAN's `[\w \-.]` get them replaced by
//!   spaces; keywords that are then shorter than 2 characters are left out and listed in
//!   [`super::CkanCatalog::skipped_keywords`]; longer than 100 are cut.
//! * Groups are the EU data themes, named by their lower-case code (`educ`), titled in
//!   Italian; the organization is the publisher, named by its lower-case IPA code.
//! * Left out for want of data in the manifest: `geographical_name` and
//!   `geographical_geonames_url` (Capannori is in neither vocabulary), `creator`,
//!   `alternate_identifier`, `is_version_of`. The bounding box is the `spatial` extra
//!   (GeoJSON, what ckanext-spatial indexes).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use super::subthemes;
use super::uuid::ckan_id;
use crate::catalog::federated::RepublishedRecord;
use crate::model::{Catalog, Dataset, Distribution, TemporalExtent};
use crate::server::Urls;
use crate::vocab;

/// CKAN's timestamp format (Python's `datetime.isoformat()` with microseconds).
pub fn ckan_timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// Parses an RFC 3339 timestamp or a plain date into UTC.
pub fn parse_instant(s: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc).naive_utc())
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
                .ok()?
                .and_hms_opt(0, 0, 0)
        })
}

#[derive(Debug, Clone, Serialize)]
pub struct ExtraDict {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagDict {
    pub display_name: String,
    pub id: String,
    pub name: String,
    pub state: &'static str,
    pub vocabulary_id: Option<String>,
}

/// A group as it appears inside a package dict.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRef {
    pub description: String,
    pub display_name: String,
    pub id: String,
    pub image_display_url: String,
    pub name: String,
    pub title: String,
}

/// An organization as it appears inside a package dict and in `organization_list`.
#[derive(Debug, Clone, Serialize)]
pub struct OrganizationDict {
    pub approval_status: &'static str,
    pub created: String,
    pub description: String,
    pub id: String,
    /// The IPA code (ckanext-dcatapit's organization field).
    pub identifier: String,
    pub image_url: String,
    pub is_organization: bool,
    pub name: String,
    pub state: &'static str,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceDict {
    pub cache_last_updated: Option<String>,
    pub cache_url: Option<String>,
    pub created: String,
    pub datastore_active: bool,
    pub description: String,
    pub distribution_format: String,
    pub format: String,
    pub hash: String,
    pub id: String,
    pub last_modified: String,
    pub license_type: String,
    pub metadata_modified: String,
    pub mimetype: String,
    pub mimetype_inner: Option<String>,
    pub name: String,
    pub package_id: String,
    pub position: usize,
    pub resource_type: Option<String>,
    pub size: u64,
    pub state: &'static str,
    pub url: String,
    pub url_type: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageDict {
    pub author: Option<String>,
    pub author_email: Option<String>,
    pub extras: Vec<ExtraDict>,
    pub groups: Vec<GroupRef>,
    pub id: String,
    pub isopen: bool,
    pub license_id: String,
    pub license_title: String,
    pub license_url: String,
    pub maintainer: String,
    pub maintainer_email: String,
    pub metadata_created: String,
    pub metadata_modified: String,
    pub name: String,
    pub notes: String,
    pub num_resources: usize,
    pub num_tags: usize,
    pub organization: OrganizationDict,
    pub owner_org: String,
    pub private: bool,
    pub relationships_as_object: Vec<String>,
    pub relationships_as_subject: Vec<String>,
    pub resources: Vec<ResourceDict>,
    pub state: &'static str,
    pub tags: Vec<TagDict>,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
    pub version: Option<String>,
}

/// A licence in CKAN's licence-register shape (`license_list`).
#[derive(Debug, Clone, Serialize)]
pub struct LicenseDict {
    pub domain_content: bool,
    pub domain_data: bool,
    pub domain_software: bool,
    pub family: String,
    pub id: String,
    pub is_generic: bool,
    pub maintainer: String,
    pub od_conformance: &'static str,
    pub osd_conformance: &'static str,
    pub status: &'static str,
    pub title: String,
    pub url: String,
}

/// How a recipe's licence appears in CKAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CkanLicense {
    pub id: String,
    pub title: String,
    pub url: String,
    pub open: bool,
}

impl CkanLicense {
    /// The CKAN form of an AgID licence id or alias (see the module docs).
    pub fn of(license: &str) -> CkanLicense {
        match vocab::license(license) {
            Some(l) => CkanLicense {
                id: vocab::LICENSE_ALIASES
                    .iter()
                    .find(|(_, agid)| *agid == l.id)
                    .map_or(l.id, |(alias, _)| *alias)
                    .to_string(),
                title: l.label_it.to_string(),
                url: l.uri(),
                open: l.is_open(),
            },
            None => CkanLicense {
                id: license.to_string(),
                title: license.to_string(),
                url: String::new(),
                open: false,
            },
        }
    }

    pub fn dict(&self) -> LicenseDict {
        LicenseDict {
            domain_content: false,
            domain_data: true,
            domain_software: false,
            family: String::new(),
            id: self.id.clone(),
            is_generic: false,
            maintainer: String::new(),
            od_conformance: if self.open {
                "approved"
            } else {
                "not reviewed"
            },
            osd_conformance: "not reviewed",
            status: "active",
            title: self.title.clone(),
            url: self.url.clone(),
        }
    }
}

/// A theme group: the EU data theme `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeGroup {
    pub code: String,
    pub name: String,
    pub title: String,
    pub uri: String,
    pub id: String,
}

/// Base URI of the EU data-theme vocabulary.
pub const THEME_BASE: &str = "http://publications.europa.eu/resource/authority/data-theme/";

impl ThemeGroup {
    pub fn of(code: &str) -> ThemeGroup {
        let title = vocab::THEMES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(code, |(_, it, _)| *it);
        let uri = format!("{THEME_BASE}{code}");
        ThemeGroup {
            code: code.to_string(),
            name: code.to_ascii_lowercase(),
            title: title.to_string(),
            id: ckan_id(&uri),
            uri,
        }
    }

    pub fn reference(&self) -> GroupRef {
        GroupRef {
            description: self.uri.clone(),
            display_name: self.title.clone(),
            id: self.id.clone(),
            image_display_url: String::new(),
            name: self.name.clone(),
            title: self.title.clone(),
        }
    }
}

/// A keyword as a CKAN tag name (`[\w \-.]{2,100}`), or `None` if nothing usable is left.
pub fn tag_name(keyword: &str) -> Option<String> {
    let replaced: String = keyword
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ') {
                c
            } else {
                ' '
            }
        })
        .collect();
    let collapsed = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = collapsed.chars().take(100).collect();
    let cut = cut.trim_end().to_string();
    (cut.chars().count() >= 2).then_some(cut)
}

/// ISO 639-1 → the EU language authority code ckanext-dcatapit stores.
fn eu_language(code: &str) -> Option<&'static str> {
    Some(match code {
        "it" => "ITA",
        "en" => "ENG",
        "de" => "DEU",
        "fr" => "FRA",
        "es" => "SPA",
        "sl" => "SLV",
        "pt" => "POR",
        "nl" => "NLD",
        _ => return None,
    })
}

/// The CKAN `format` of a distribution: the names CKAN's resource-format list uses.
pub fn resource_format(dataset: &Dataset, d: &Distribution) -> String {
    match d.media_type.as_str() {
        "text/csv" => "CSV",
        "application/json" => "JSON",
        "application/geo+json" => "GeoJSON",
        "application/geopackage+sqlite3" => "GeoPackage",
        "application/flatgeobuf" => "FlatGeobuf",
        "application/vnd.apache.parquet" if dataset.layer.is_some() => "GeoParquet",
        "application/vnd.apache.parquet" => "Parquet",
        _ => return d.format.clone(),
    }
    .to_string()
}

/// The `theme` aggregate: each theme with the sub-themes the AgID mapping allows under it.
pub fn theme_aggregate(themes: &[String], subthemes: &[String]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = themes
        .iter()
        .map(|t| {
            let subs: Vec<&String> = subthemes
                .iter()
                .filter(|s| subthemes::allowed(t, s))
                .collect();
            serde_json::json!({ "theme": t, "subthemes": subs })
        })
        .collect();
    serde_json::Value::Array(items)
}

fn temporal_json(t: &TemporalExtent) -> serde_json::Value {
    let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
    match &t.end {
        Some(end) => {
            serde_json::json!([{ "temporal_start": day(&t.start), "temporal_end": day(end) }])
        }
        None => serde_json::json!([{ "temporal_start": day(&t.start) }]),
    }
}

/// Everything a package dict needs besides the dataset.
pub struct PackageContext<'a> {
    pub catalog: &'a Catalog,
    pub urls: &'a Urls,
    pub organization: &'a OrganizationDict,
    pub created: NaiveDateTime,
    pub modified: NaiveDateTime,
}

/// The tags of `keywords`, and the keywords that cannot be tags.
fn tags_of(keywords: &[String]) -> (Vec<TagDict>, Vec<String>) {
    let mut skipped = Vec::new();
    let mut tag_names: Vec<String> = Vec::new();
    for keyword in keywords {
        match tag_name(keyword) {
            Some(name) => tag_names.push(name),
            None => skipped.push(keyword.clone()),
        }
    }
    tag_names.sort();
    tag_names.dedup();
    let tags = tag_names
        .into_iter()
        .map(|name| TagDict {
            display_name: name.clone(),
            id: ckan_id(&format!("tag:{name}")),
            name,
            state: "active",
            vocabulary_id: None,
        })
        .collect();
    (tags, skipped)
}

/// The theme groups of EU theme codes, by name.
fn groups_of(themes: &[String]) -> Vec<GroupRef> {
    let mut themes: Vec<ThemeGroup> = themes.iter().map(|t| ThemeGroup::of(t)).collect();
    themes.sort_by(|a, b| a.name.cmp(&b.name));
    themes.dedup_by(|a, b| a.name == b.name);
    themes.iter().map(ThemeGroup::reference).collect()
}

/// The CKAN name of a republished harvested record: `{source}_{key}`. Our dataset ids
/// never hold `_`, so it never collides with one of them.
pub fn federated_name(r: &RepublishedRecord) -> String {
    format!("{}_{}", r.source, r.key)
}

/// The package dict of a republished harvested record ([`crate::catalog::federated`]):
/// the origin's title, text, agents, licence and resource URLs, `url` its landing page,
/// and extras naming where it came from: `harvest_source` (the source's name),
/// `harvest_source_url` (the URL harvested) and `harvest_url` (the dataset at the origin:
/// its landing page, else its URI), plus `uri` when the origin gave one (what ckanext-dcat
/// reads as the dataset's URI). Also returns the keywords that could not be tags.
pub fn federated_package(
    r: &RepublishedRecord,
    ctx: &PackageContext<'_>,
) -> (PackageDict, Vec<String>) {
    let id = ckan_id(&format!("federated:{}:{}", r.source, r.original_id));
    let created = ckan_timestamp(&ctx.created);
    let modified = ckan_timestamp(&ctx.modified);
    let licence = r.main_license().map(|l| CkanLicense::of(l.id));
    let (tags, skipped) = tags_of(&r.keywords);
    let resources: Vec<ResourceDict> = r
        .distributions
        .iter()
        .enumerate()
        .map(|(position, d)| ResourceDict {
            cache_last_updated: None,
            cache_url: None,
            created: created.clone(),
            datastore_active: false,
            description: d.description.clone().unwrap_or_default(),
            distribution_format: d.format.clone(),
            format: d.format.clone(),
            hash: String::new(),
            id: ckan_id(&format!(
                "federated:{}:{}/{position}",
                r.source, r.original_id
            )),
            last_modified: modified.clone(),
            license_type: d.license.uri(),
            metadata_modified: modified.clone(),
            mimetype: d.media_type.clone().unwrap_or_default(),
            mimetype_inner: None,
            name: d.title.clone().unwrap_or_else(|| r.title.clone()),
            package_id: id.clone(),
            position,
            resource_type: None,
            size: d.byte_size.unwrap_or(0),
            state: "active",
            url: d
                .download_url
                .clone()
                .unwrap_or_else(|| d.access_url.clone()),
            url_type: None,
        })
        .collect();
    let origin = r.landing_page.clone().or_else(|| r.uri.clone());
    let mut extras = dcatapit_extras(
        &r.original_id,
        theme_aggregate(&r.themes, &[]).to_string(),
        &r.frequency,
        (&r.rights_holder.name, &r.rights_holder.identifier),
        (&r.publisher.name, &r.publisher.identifier),
        ctx.modified.format("%Y-%m-%d").to_string(),
    );
    extras.push(("harvest_source".into(), r.source.clone()));
    extras.push(("harvest_source_url".into(), r.source_url.clone()));
    if let Some(origin) = &origin {
        extras.push(("harvest_url".into(), origin.clone()));
    }
    if let Some(uri) = &r.uri {
        extras.push(("uri".into(), uri.clone()));
    }
    if let Some(issued) = r.issued.as_deref().and_then(parse_instant) {
        extras.push(("issued".into(), issued.format("%Y-%m-%d").to_string()));
    }
    if let Some(t) = &r.temporal {
        extras.push(("temporal_coverage".into(), temporal_json(t).to_string()));
    }
    if let Some([w, s, e, n]) = r.bbox {
        let polygon = serde_json::json!({
            "type": "Polygon",
            "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
        });
        extras.push(("spatial".into(), polygon.to_string()));
    }
    extras.sort();
    let dict = PackageDict {
        author: None,
        author_email: None,
        extras: extras
            .into_iter()
            .map(|(key, value)| ExtraDict { key, value })
            .collect(),
        groups: groups_of(&r.themes),
        id: id.clone(),
        isopen: licence.as_ref().is_some_and(|l| l.open),
        license_id: licence.as_ref().map(|l| l.id.clone()).unwrap_or_default(),
        license_title: licence
            .as_ref()
            .map(|l| l.title.clone())
            .unwrap_or_default(),
        license_url: licence.map(|l| l.url).unwrap_or_default(),
        maintainer: r.contact_point.name.clone(),
        maintainer_email: r.contact_point.email.clone(),
        metadata_created: created,
        metadata_modified: modified,
        name: federated_name(r),
        notes: r.description.clone(),
        num_resources: resources.len(),
        num_tags: tags.len(),
        organization: ctx.organization.clone(),
        owner_org: ctx.organization.id.clone(),
        private: false,
        relationships_as_object: Vec::new(),
        relationships_as_subject: Vec::new(),
        resources,
        state: "active",
        tags,
        title: r.title.clone(),
        kind: "dataset",
        url: origin.unwrap_or_default(),
        version: None,
    };
    (dict, skipped)
}

/// The package dict of a dataset; also returns the keywords that could not be tags.
pub fn package(dataset: &Dataset, ctx: &PackageContext<'_>) -> (PackageDict, Vec<String>) {
    let meta = &dataset.meta;
    let catalog = ctx.catalog;
    let identifier = format!("{}:{}", catalog.publisher.identifier, dataset.id);
    let id = ckan_id(&identifier);
    let created = ckan_timestamp(&ctx.created);
    let modified = ckan_timestamp(&ctx.modified);
    let license = CkanLicense::of(&meta.license);

    let (tags, skipped) = tags_of(&meta.keywords);
    let groups = groups_of(&meta.themes);

    let resources: Vec<ResourceDict> = dataset
        .distributions
        .iter()
        .enumerate()
        .map(|(position, d)| ResourceDict {
            cache_last_updated: None,
            cache_url: None,
            created: created.clone(),
            datastore_active: false,
            description: format!(
                "{} righe in formato {}",
                d.rows,
                resource_format(dataset, d)
            ),
            distribution_format: d.format.clone(),
            format: resource_format(dataset, d),
            hash: d.sha256.clone(),
            id: ckan_id(&format!("{identifier}/{}", d.file)),
            last_modified: modified.clone(),
            license_type: license.url.clone(),
            metadata_modified: modified.clone(),
            mimetype: d.media_type.clone(),
            mimetype_inner: None,
            name: d.file.clone(),
            package_id: id.clone(),
            position,
            resource_type: None,
            size: d.byte_size,
            state: "active",
            url: ctx.urls.file(&dataset.id, &d.file),
            url_type: None,
        })
        .collect();

    let mut extras = dcatapit_extras(
        &identifier,
        theme_aggregate(&meta.themes, &meta.subthemes).to_string(),
        &meta.frequency,
        (&meta.rights_holder.name, &meta.rights_holder.identifier),
        (&meta.publisher.name, &meta.publisher.identifier),
        ctx.modified.format("%Y-%m-%d").to_string(),
    );
    if let Some(issued) = meta.issued.as_deref().and_then(parse_instant) {
        extras.push(("issued".into(), issued.format("%Y-%m-%d").to_string()));
    }
    if let Some(t) = meta.temporal.as_ref().or(dataset.extent.temporal.as_ref()) {
        extras.push(("temporal_coverage".into(), temporal_json(t).to_string()));
    }
    if let Some(lang) = catalog.languages.first().and_then(|l| eu_language(l)) {
        extras.push(("language".into(), lang.to_string()));
    }
    if !meta.conforms_to.is_empty() {
        let standards: Vec<serde_json::Value> = meta
            .conforms_to
            .iter()
            .map(|s| serde_json::json!({ "identifier": s }))
            .collect();
        extras.push((
            "conforms_to".into(),
            serde_json::Value::Array(standards).to_string(),
        ));
    }
    if let Some([w, s, e, n]) = dataset.extent.bbox {
        let polygon = serde_json::json!({
            "type": "Polygon",
            "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
        });
        extras.push(("spatial".into(), polygon.to_string()));
    }
    if meta.demo_data {
        extras.push(("demo_data".into(), "true".into()));
    }
    extras.sort();

    let dict = PackageDict {
        author: None,
        author_email: None,
        extras: extras
            .into_iter()
            .map(|(key, value)| ExtraDict { key, value })
            .collect(),
        groups,
        id: id.clone(),
        isopen: license.open,
        license_id: license.id,
        license_title: license.title,
        license_url: license.url,
        maintainer: meta.contact_point.name.clone(),
        maintainer_email: meta.contact_point.email.clone(),
        metadata_created: created,
        metadata_modified: modified,
        name: dataset.id.clone(),
        notes: meta.description.clone(),
        num_resources: resources.len(),
        num_tags: tags.len(),
        organization: ctx.organization.clone(),
        owner_org: ctx.organization.id.clone(),
        private: false,
        relationships_as_object: Vec::new(),
        relationships_as_subject: Vec::new(),
        resources,
        state: "active",
        tags,
        title: meta.title.clone(),
        kind: "dataset",
        url: ctx.urls.dataset_page(&dataset.id),
        version: None,
    };
    (dict, skipped)
}

/// The ckanext-dcatapit extras every package carries, own or republished: identifier, the
/// theme aggregate (under `theme` and its dcatapit 2 name `themes_aggregate`), frequency,
/// rights holder and publisher (name, IPA code), modification date.
fn dcatapit_extras(
    identifier: &str,
    aggregate: String,
    frequency: &str,
    (holder_name, holder_id): (&str, &str),
    (publisher_name, publisher_id): (&str, &str),
    modified: String,
) -> Vec<(String, String)> {
    vec![
        ("identifier".into(), identifier.to_string()),
        ("theme".into(), aggregate.clone()),
        ("themes_aggregate".into(), aggregate),
        ("frequency".into(), frequency.to_string()),
        ("holder_name".into(), holder_name.to_string()),
        ("holder_identifier".into(), holder_id.to_string()),
        ("publisher_name".into(), publisher_name.to_string()),
        ("publisher_identifier".into(), publisher_id.to_string()),
        ("modified".into(), modified),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_ckan_tag_rules() {
        assert_eq!(
            tag_name("scuola dell'infanzia").as_deref(),
            Some("scuola dell infanzia")
        );
        assert_eq!(
            tag_name("attività produttive").as_deref(),
            Some("attività produttive")
        );
        assert_eq!(tag_name("CO2/PM10").as_deref(), Some("CO2 PM10"));
        assert_eq!(tag_name("x"), None);
        assert_eq!(tag_name("«»"), None);
        assert_eq!(tag_name(&"a".repeat(150)).map(|t| t.len()), Some(100));
    }

    #[test]
    fn timestamps_have_microseconds_and_no_zone() {
        let t = parse_instant("2026-11-28T17:03:45.078584Z").unwrap();
        assert_eq!(ckan_timestamp(&t), "2026-11-28T17:03:45.078584");
        let t = parse_instant("2026-11-28T18:03:45+01:00").unwrap();
        assert_eq!(ckan_timestamp(&t), "2026-11-28T17:03:45.000000");
        let t = parse_instant("2024-05-01").unwrap();
        assert_eq!(ckan_timestamp(&t), "2024-05-01T00:00:00.000000");
    }
}
