//! Harvested records republished in our own DCAT and CKAN outputs: only those of the
//! sources marked `republish = true`, and only the records that our outputs can carry
//! without becoming invalid.
//!
//! [`Republished::from_stores`] takes the stores of the republished sources
//! ([`crate::federation::republished`]) and checks every record against what DCAT-AP_IT
//! makes mandatory and what Portale's own datasets always have: a description, a
//! modification date, at least one EU data theme, an EU frequency, a publisher and a
//! rights holder each with a name and an identifier, a contact point with an e-mail
//! address, and at least one distribution, each with an access URL, an EU file type and
//! an AgID licence (its own, else the record's). A record lacking any of these is left out
//! and listed in [`Republished::skipped`] with the reason, never published half-filled:
//! harvesters downstream would copy the hole, or the whole catalogue page would fail the
//! validators. Non-EU themes of a record that also has EU ones are dropped.
//!
//! What is kept of the origin: the dataset's URI (when the origin gave one), its
//! identifier (as `dct:identifier` and as an `adms:Identifier`), its landing page, its
//! publisher and rights holder, its distributions' URLs. The nodes the origin did not
//! name (distributions, agents, contact point, periods, the identifier) get URIs under
//! `{base}/federated/{key}` ([`crate::server::Urls::federated_record`]), never fragments
//! of the origin's URIs, which are not ours to define.
//!
//! Pitfalls:
//! - a record whose URI or landing page is under our own base URL is our own dataset come
//!   back through another portal: it is left out (a harvesting circle);
//! - two sources republishing the same dataset URI: the first (by source name) wins, the
//!   others are skipped as duplicates, so that the graph never holds two descriptions of
//!   one node;
//! - the order (source name, then original id) is stable, so catalogue pages stay stable.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::terms;
use crate::federation::SourceStore;
use crate::model::{Agent, ContactPoint, FederatedAgent, FederatedRecord, TemporalExtent};
use crate::vocab::{self, License};

/// A distribution of a republished record, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RepublishedDistribution {
    pub title: Option<String>,
    pub description: Option<String>,
    /// The origin's access URL, else its download URL.
    pub access_url: String,
    pub download_url: Option<String>,
    /// EU file-type code (`CSV`).
    pub format: String,
    pub media_type: Option<String>,
    pub byte_size: Option<u64>,
    pub license: &'static License,
}

/// A harvested record that our outputs can carry.
#[derive(Debug, Clone, PartialEq)]
pub struct RepublishedRecord {
    /// The harvest source's name and URL.
    pub source: String,
    pub source_url: String,
    /// The record's key in the federation store (`[0-9a-f]{16}`).
    pub key: String,
    /// The identifier at the origin.
    pub original_id: String,
    /// The dataset's URI at the origin, when it had one that is a valid IRI.
    pub uri: Option<String>,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// EU data-theme codes.
    pub themes: Vec<String>,
    /// EU frequency code.
    pub frequency: String,
    pub publisher: Agent,
    pub rights_holder: Agent,
    /// The contact point; without a name at the origin, named after the publisher.
    pub contact_point: ContactPoint,
    /// The record's licence, when the origin gave an AgID one.
    pub license: Option<&'static License>,
    /// ISO 8601 date or date-time, as the origin gave it.
    pub issued: Option<String>,
    pub modified: String,
    /// `modified` as an instant (a date is its midnight, UTC).
    pub modified_at: DateTime<Utc>,
    pub landing_page: Option<String>,
    pub temporal: Option<TemporalExtent>,
    /// Place URIs of the spatial coverage.
    pub places: Vec<String>,
    /// WGS84 bounding box of the spatial coverage.
    pub bbox: Option<[f64; 4]>,
    pub distributions: Vec<RepublishedDistribution>,
}

impl RepublishedRecord {
    /// The record's licence, else its first distribution's.
    pub fn main_license(&self) -> Option<&'static License> {
        self.license
            .or_else(|| self.distributions.first().map(|d| d.license))
    }
}

/// A record of a republished source left out of our outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRepublish {
    pub source: String,
    pub original_id: String,
    pub reason: String,
}

/// The records our outputs republish, and those they leave out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Republished {
    /// By source name, then original id.
    pub records: Vec<RepublishedRecord>,
    pub skipped: Vec<SkippedRepublish>,
}

impl Republished {
    /// Checks the records of `stores` (the sources to republish); `own_base` is our public
    /// base URL, to recognise our own datasets coming back.
    pub fn from_stores(stores: &[SourceStore], own_base: &str) -> Republished {
        let mut stores: Vec<&SourceStore> = stores.iter().collect();
        stores.sort_by(|a, b| a.source.cmp(&b.source));
        let own = format!("{}/", own_base.trim_end_matches('/'));
        let mut out = Republished::default();
        let mut uris = std::collections::HashSet::new();
        for store in stores {
            for r in &store.records {
                let checked = check(r, store, &own).and_then(|c| match &c.uri {
                    Some(uri) if !uris.insert(uri.clone()) => Err(format!(
                        "dataset URI {uri} is already republished from another source"
                    )),
                    _ => Ok(c),
                });
                match checked {
                    Ok(c) => out.records.push(c),
                    Err(reason) => out.skipped.push(SkippedRepublish {
                        source: store.source.clone(),
                        original_id: r.original_id.clone(),
                        reason,
                    }),
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The AgID licence a harvested licence names: an AgID id or URI, or an SPDX-style alias.
pub fn agid_licence(value: &str) -> Option<&'static License> {
    let v = value.trim().trim_end_matches('/');
    let id = v
        .strip_prefix(vocab::LICENSE_BASE)
        .or_else(|| v.strip_prefix("http://w3id.org/italia/controlled-vocabulary/licences/"))
        .unwrap_or(v);
    vocab::license(id)
}

/// An ISO 8601 date or date-time as an instant (a date at midnight UTC, a date-time
/// without offset taken as UTC).
pub fn instant(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
}

fn agent(role: &str, a: Option<&FederatedAgent>) -> Result<Agent, String> {
    let a = a.ok_or_else(|| format!("no {role}"))?;
    let identifier = a
        .identifier
        .clone()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| format!("the {role} {:?} has no identifier", a.name))?;
    Ok(Agent {
        name: a.name.clone(),
        identifier,
    })
}

fn file_type(format: &str) -> Option<String> {
    let f = format.trim().trim_end_matches('/');
    let code = f.strip_prefix(terms::FILE_TYPE_BASE).unwrap_or(f);
    let upper = code.to_ascii_uppercase();
    terms::is_file_type(&upper).then_some(upper)
}

fn web_iri(value: &str) -> bool {
    (value.starts_with("http://") || value.starts_with("https://"))
        && oxrdf::NamedNodeRef::new(value).is_ok()
}

/// Whether a record can be republished, and its checked form.
fn check(r: &FederatedRecord, store: &SourceStore, own: &str) -> Result<RepublishedRecord, String> {
    if r.key.len() != 16 || !r.key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the store key {:?} is not 16 hex digits", r.key));
    }
    for link in [&r.uri, &r.landing_page].into_iter().flatten() {
        if link.starts_with(own) {
            return Err(format!(
                "{link} is under this portal's own base URL: our own dataset come back"
            ));
        }
    }
    if r.description.trim().is_empty() {
        return Err("no description".into());
    }
    let modified = r.modified.clone().ok_or("no modification date")?;
    let modified_at = instant(&modified)
        .ok_or_else(|| format!("modification date {modified:?} is not ISO 8601"))?;
    if let Some(issued) = &r.issued
        && instant(issued).is_none()
    {
        return Err(format!("issued {issued:?} is not ISO 8601"));
    }
    let themes: Vec<String> = r
        .themes
        .iter()
        .filter(|t| vocab::is_theme(t))
        .cloned()
        .collect();
    if themes.is_empty() {
        return Err(format!("no EU data theme (themes: {:?})", r.themes));
    }
    let frequency = r
        .frequency
        .clone()
        .filter(|f| vocab::is_frequency(f))
        .ok_or_else(|| format!("no EU frequency (frequency: {:?})", r.frequency))?;
    let publisher = agent("publisher", r.publisher.as_ref())?;
    let rights_holder = agent("rights holder", r.rights_holder.as_ref())?;
    let contact = r.contact_point.as_ref().ok_or("no contact point")?;
    let email = contact
        .email
        .clone()
        .filter(|e| e.contains('@'))
        .ok_or("the contact point has no e-mail address")?;
    let contact_point = ContactPoint {
        name: contact
            .name
            .clone()
            .unwrap_or_else(|| publisher.name.clone()),
        email,
        url: contact.url.clone().filter(|u| web_iri(u)),
    };
    let license = r.license.as_deref().and_then(agid_licence);
    if r.distributions.is_empty() {
        return Err("no distribution".into());
    }
    let mut distributions = Vec::with_capacity(r.distributions.len());
    for (n, d) in r.distributions.iter().enumerate() {
        let at = format!("distribution {}", n + 1);
        let access_url = d
            .access_url
            .clone()
            .or_else(|| d.download_url.clone())
            .filter(|u| web_iri(u))
            .ok_or_else(|| format!("{at} has no access URL"))?;
        let download_url = d.download_url.clone().filter(|u| web_iri(u));
        let format = d
            .format
            .as_deref()
            .and_then(file_type)
            .ok_or_else(|| format!("{at}: format {:?} is not an EU file type", d.format))?;
        let license = match &d.license {
            Some(l) => agid_licence(l)
                .ok_or_else(|| format!("{at}: licence {l:?} is not in the AgID vocabulary"))?,
            None => license.ok_or_else(|| {
                format!(
                    "{at} has no licence, and the record's ({:?}) is not in the AgID vocabulary",
                    r.license
                )
            })?,
        };
        distributions.push(RepublishedDistribution {
            title: d.title.clone(),
            description: d.description.clone(),
            access_url,
            download_url,
            format,
            media_type: d.media_type.clone(),
            byte_size: d.byte_size,
            license,
        });
    }
    let temporal = match &r.temporal {
        Some(t)
            if instant(&t.start).is_some()
                && t.end.as_deref().is_none_or(|e| instant(e).is_some()) =>
        {
            Some(t.clone())
        }
        Some(t) => return Err(format!("temporal coverage {t:?} is not ISO 8601")),
        None => None,
    };
    let spatial = r.spatial.clone().unwrap_or_default();
    Ok(RepublishedRecord {
        source: store.source.clone(),
        source_url: store.url.clone(),
        key: r.key.clone(),
        original_id: r.original_id.clone(),
        uri: r.uri.clone().filter(|u| web_iri(u)),
        title: r.title.clone(),
        description: r.description.clone(),
        keywords: r.keywords.clone(),
        themes,
        frequency,
        publisher,
        rights_holder,
        contact_point,
        license,
        issued: r.issued.clone(),
        modified,
        modified_at,
        landing_page: r.landing_page.clone().filter(|u| web_iri(u)),
        temporal,
        places: spatial.uris.into_iter().filter(|u| web_iri(u)).collect(),
        bbox: spatial
            .bbox
            .filter(|b| b.iter().all(|v| v.is_finite()) && b[0] <= b[2] && b[1] <= b[3]),
        distributions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;
    use crate::model::{FederatedContact, FederatedDistribution, FederatedSpatial};

    fn agent(name: &str, id: Option<&str>) -> Option<FederatedAgent> {
        Some(FederatedAgent {
            name: name.into(),
            identifier: id.map(str::to_string),
        })
    }

    /// A record with everything our outputs need.
    fn complete(id: &str) -> FederatedRecord {
        FederatedRecord {
            source: "s".into(),
            key: format!("{:016x}", id.len() * 7919 + id.as_bytes()[0] as usize),
            original_id: id.into(),
            uri: Some(format!("https://origin.example/d/{id}")),
            title: "T".into(),
            description: "D".into(),
            keywords: vec!["k".into()],
            themes: vec!["TRAN".into(), "Mobilità".into()],
            publisher: agent("Provincia", Some("p_lu")),
            rights_holder: agent("Provincia", Some("p_lu")),
            contact_point: Some(FederatedContact {
                name: None,
                email: Some("a@example.org".into()),
                url: Some("javascript:x".into()),
            }),
            license: Some("CC-BY-4.0".into()),
            frequency: Some("ANNUAL".into()),
            issued: None,
            modified: Some("2025-01-02".into()),
            landing_page: Some(format!("https://origin.example/p/{id}")),
            harvested_from: "p".into(),
            distributions: vec![FederatedDistribution {
                title: None,
                description: None,
                access_url: None,
                download_url: Some("https://origin.example/f.csv".into()),
                format: Some(
                    "http://publications.europa.eu/resource/authority/file-type/CSV".into(),
                ),
                media_type: None,
                license: None,
                byte_size: None,
            }],
            spatial: Some(FederatedSpatial {
                uris: vec!["not a uri".into()],
                names: vec![],
                geometry: None,
                bbox: Some([f64::NAN, 0.0, 1.0, 1.0]),
            }),
            temporal: None,
            sanitized: vec![],
            defects: vec![],
            hash: "h".into(),
            harvested_at: "t".into(),
        }
    }

    fn store(name: &str, records: Vec<FederatedRecord>) -> SourceStore {
        SourceStore {
            version: 1,
            source: name.into(),
            kind: SourceKind::Dcat,
            url: format!("https://{name}.example/catalog.ttl"),
            republish: true,
            updated_at: String::new(),
            last_complete_crawl: None,
            records,
        }
    }

    fn reason(r: FederatedRecord) -> String {
        let out = Republished::from_stores(&[store("s", vec![r])], "https://own.example");
        assert!(out.records.is_empty());
        out.skipped[0].reason.clone()
    }

    #[test]
    fn a_complete_record_is_kept_with_what_our_outputs_can_carry() {
        let out =
            Republished::from_stores(&[store("s", vec![complete("a")])], "https://own.example");
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let r = &out.records[0];
        assert_eq!(r.themes, ["TRAN"], "the non-EU theme is dropped");
        assert_eq!(
            r.contact_point.name, "Provincia",
            "named after the publisher"
        );
        assert_eq!(r.contact_point.url, None, "not a web URL");
        assert_eq!(r.license.map(|l| l.id), Some("A21_CCBY40"));
        let d = &r.distributions[0];
        assert_eq!(
            d.access_url, "https://origin.example/f.csv",
            "the download URL stands in"
        );
        assert_eq!((d.format.as_str(), d.license.id), ("CSV", "A21_CCBY40"));
        assert!(
            r.places.is_empty() && r.bbox.is_none(),
            "unusable spatial data is dropped"
        );
        assert_eq!(r.source_url, "https://s.example/catalog.ttl");
        assert_eq!(r.modified_at.to_rfc3339(), "2025-01-02T00:00:00+00:00");
    }

    #[test]
    fn incomplete_records_are_left_out_with_the_reason() {
        let mut r = complete("a");
        r.description = " ".into();
        assert_eq!(reason(r), "no description");
        let mut r = complete("a");
        r.modified = Some("2025-13-01".into());
        assert!(reason(r).contains("not ISO 8601"));
        let mut r = complete("a");
        r.themes = vec!["Mobilità".into()];
        assert!(reason(r).starts_with("no EU data theme"));
        let mut r = complete("a");
        r.frequency = Some("ogni tanto".into());
        assert!(reason(r).starts_with("no EU frequency"));
        let mut r = complete("a");
        r.rights_holder = agent("Ufficio", None);
        assert_eq!(reason(r), "the rights holder \"Ufficio\" has no identifier");
        let mut r = complete("a");
        r.contact_point = Some(FederatedContact {
            name: Some("x".into()),
            email: None,
            url: Some("https://x.example".into()),
        });
        assert_eq!(reason(r), "the contact point has no e-mail address");
        let mut r = complete("a");
        r.distributions.clear();
        assert_eq!(reason(r), "no distribution");
        let mut r = complete("a");
        r.distributions[0].format = Some("XLSX-ish".into());
        assert!(reason(r).contains("is not an EU file type"));
        let mut r = complete("a");
        r.license = Some("https://example.org/mia".into());
        assert!(reason(r).contains("has no licence, and the record's"));
        let mut r = complete("a");
        r.distributions[0].license = Some("https://example.org/mia".into());
        assert!(reason(r).contains("is not in the AgID vocabulary"));
        let mut r = complete("a");
        r.key = "../x".into();
        assert!(reason(r).contains("not 16 hex digits"));
    }

    #[test]
    fn circles_and_duplicates_are_left_out() {
        let mut own = complete("a");
        own.landing_page = Some("https://own.example/datasets/a".into());
        let out = Republished::from_stores(
            &[
                store("z-second", vec![complete("b")]),
                store("a-first", vec![complete("b"), own]),
            ],
            "https://own.example/",
        );
        assert_eq!(out.records.len(), 1);
        assert_eq!(out.records[0].source, "a-first", "sources in name order");
        let reasons: Vec<&str> = out.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(
            reasons[0].contains("our own dataset come back"),
            "{reasons:?}"
        );
        assert!(reasons[1].contains("already republished"), "{reasons:?}");
    }

    #[test]
    fn licences_by_id_alias_or_uri() {
        for v in [
            "A29_IODL20",
            "IODL-2.0",
            "https://w3id.org/italia/controlled-vocabulary/licences/A29_IODL20",
            "http://w3id.org/italia/controlled-vocabulary/licences/A29_IODL20/",
        ] {
            assert_eq!(agid_licence(v).map(|l| l.id), Some("A29_IODL20"), "{v}");
        }
        assert!(agid_licence("https://creativecommons.org/licenses/by/4.0/").is_none());
    }
}
