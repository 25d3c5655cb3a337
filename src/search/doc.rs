//! [`SearchDoc`]: one searchable record, the same shape for our own datasets and the
//! harvested ones, so that one index and one ranking serve both.
//!
//! [`SearchDoc::from_dataset`] makes one from a dataset of the served generation's
//! manifest, [`SearchDoc::from_federated`] from a harvested record of the federation
//! store. Both fill [`SearchDoc::summary`], the JSON object a search result shows.
//!
//! Pitfalls:
//! - the summary holds only paths relative to the public base URL (`/datasets/<id>`): the
//!   server learns its base URL at start-up (`--public-url`) and prefixes them; harvested
//!   records keep the origin's absolute URLs (their landing page, their downloads);
//! - facet values must not split one value into several spellings: formats, licences and
//!   frequencies are normalised to their vocabulary codes (`CSV`, `A21_CCBY40`, `MONTHLY`)
//!   when they are recognised, and kept as the origin wrote them otherwise;
//! - a dataset without an extent of its own is given the territory's (as our DCAT output
//!   gives it as `dct:spatial`), so that a map search finds the municipality's tables; a
//!   dataset about the municipality (no extent, or one inside the territory) is given the
//!   territory's name as a place. The name comes from the publisher's (`Comune di
//!   Capannori` gives `Capannori`): Portale holds the ISTAT codes of the municipalities,
//!   not their names.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::catalog::federated::{agid_licence, instant};
use crate::catalog::terms;
use crate::model::{Catalog, Dataset, FederatedRecord, TemporalExtent};
use crate::vocab;

/// Where a record comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// One of our own datasets.
    Local,
    /// A record harvested from the named source (`[[harvest]] name`).
    Harvested { source: String },
}

impl Origin {
    /// The facet value: `local`, or the source's name.
    pub fn facet_value(&self) -> &str {
        match self {
            Origin::Local => "local",
            Origin::Harvested { source } => source,
        }
    }
}

/// One record of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchDoc {
    /// Unique in the index: the dataset id for our own datasets, `<source>/<key>` for a
    /// harvested record (its federation-store key).
    pub key: String,
    pub origin: Origin,
    /// Whether our DCAT and CKAN outputs publish the record (always for our own datasets;
    /// for a harvested one, when its source is republished and the record passed the
    /// checks of [`crate::catalog::federated`]).
    pub published: bool,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// EU data-theme codes; their Italian and English labels are indexed too.
    pub themes: Vec<String>,
    pub publisher: Option<String>,
    pub rights_holder: Option<String>,
    /// EU file-type codes of the distributions (`CSV`, `GEOJSON`), without repeats.
    pub formats: Vec<String>,
    /// AgID licence id (`A21_CCBY40`) when known, else the origin's licence text.
    pub license: Option<String>,
    /// EU frequency code (`MONTHLY`), else the origin's text.
    pub frequency: Option<String>,
    /// Column names of the dataset's tables and layers.
    pub fields: Vec<String>,
    /// Names of the places the dataset covers (`Capannori`, `Provincia di Lucca`).
    pub places: Vec<String>,
    /// Temporal coverage: start, and end (open when `None`).
    pub temporal: Option<(NaiveDate, Option<NaiveDate>)>,
    /// WGS84 extent `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    pub modified: Option<DateTime<Utc>>,
    /// What a result shows of the record (title, links, formats, ...), returned as is in
    /// [`super::Hit::summary`]. Paths in it are relative to the public base URL, which
    /// the server may only learn at start-up.
    pub summary: serde_json::Value,
}

impl SearchDoc {
    /// The record of one of our own datasets, from the served generation's manifest.
    pub fn from_dataset(ds: &Dataset, catalog: &Catalog) -> SearchDoc {
        let meta = &ds.meta;
        let formats = unique(ds.distributions.iter().map(|d| d.format.trim().to_string()));
        let license = non_empty(&meta.license)
            .map(|l| vocab::license(&l).map(|x| x.id.to_string()).unwrap_or(l));
        let mut places = Vec::new();
        if covers_territory(catalog, ds) {
            places.push(territory_name(catalog));
        }
        let temporal = meta
            .temporal
            .as_ref()
            .or(ds.extent.temporal.as_ref())
            .and_then(temporal);
        let modified = instant(&ds.modified);
        let geometry_type = ds.layer.as_ref().map(|l| l.geometry_type.as_str());
        let distributions: Vec<serde_json::Value> = ds
            .distributions
            .iter()
            .map(|d| {
                json!({
                    "format": d.format,
                    "media_type": d.media_type,
                    "byte_size": d.byte_size,
                    "path": format!("/datasets/{}/files/{}", ds.id, d.file),
                })
            })
            .collect();
        let mut summary = json!({
            "id": ds.id,
            "title": meta.title,
            "description": meta.description,
            "themes": meta.themes,
            "keywords": meta.keywords,
            "modified": ds.modified,
            "formats": formats,
            "rows": ds.rows,
            "origin": Origin::Local.facet_value(),
            "path": format!("/datasets/{}", ds.id),
            "distributions": distributions,
        });
        if let Some(map) = summary.as_object_mut() {
            if let Some(g) = geometry_type {
                map.insert("geometry_type".into(), json!(g));
            }
            if let Some(b) = ds.extent.bbox.filter(|b| valid_bbox(*b)) {
                map.insert("bbox".into(), json!(b));
            }
        }
        SearchDoc {
            key: ds.id.clone(),
            origin: Origin::Local,
            published: true,
            title: meta.title.clone(),
            description: meta.description.clone(),
            keywords: meta.keywords.clone(),
            themes: meta.themes.clone(),
            publisher: non_empty(&meta.publisher.name),
            rights_holder: non_empty(&meta.rights_holder.name),
            formats,
            license,
            frequency: non_empty(&meta.frequency),
            fields: ds.fields.iter().map(|f| f.name.clone()).collect(),
            places,
            temporal,
            bbox: crate::catalog::dcat::coverage_bbox(catalog, ds),
            modified,
            summary,
        }
    }

    /// The record of a harvested dataset; `published` says whether our DCAT and CKAN
    /// outputs republish it (see [`SearchDoc::published`]).
    pub fn from_federated(rec: &FederatedRecord, published: bool) -> SearchDoc {
        let key = format!("{}/{}", rec.source, rec.key);
        let formats = unique(
            rec.distributions
                .iter()
                .filter_map(|d| d.format.as_deref())
                .filter_map(file_type),
        );
        let license = rec
            .license
            .as_deref()
            .or_else(|| rec.distributions.iter().find_map(|d| d.license.as_deref()))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                agid_licence(l)
                    .map(|x| x.id.to_string())
                    .unwrap_or_else(|| l.to_string())
            });
        let frequency = rec
            .frequency
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                let code = f
                    .trim_end_matches('/')
                    .strip_prefix(terms::FREQUENCY_BASE)
                    .unwrap_or(f);
                let upper = code.to_ascii_uppercase();
                if vocab::is_frequency(&upper) {
                    upper
                } else {
                    f.to_string()
                }
            });
        let spatial = rec.spatial.as_ref();
        let bbox = spatial.and_then(|s| s.bbox).filter(|b| valid_bbox(*b));
        let places = spatial.map(|s| s.names.clone()).unwrap_or_default();
        let modified = rec.modified.as_deref().and_then(instant);
        let distributions: Vec<serde_json::Value> = rec
            .distributions
            .iter()
            .map(|d| {
                let mut o = serde_json::Map::new();
                for (k, v) in [
                    ("title", &d.title),
                    ("format", &d.format),
                    ("media_type", &d.media_type),
                    ("access_url", &d.access_url),
                    ("download_url", &d.download_url),
                ] {
                    if let Some(v) = v {
                        o.insert(k.into(), json!(v));
                    }
                }
                serde_json::Value::Object(o)
            })
            .collect();
        let mut summary = json!({
            "id": key,
            "title": rec.title,
            "description": rec.description,
            "themes": rec.themes,
            "keywords": rec.keywords,
            "formats": formats,
            "origin": rec.source,
            "source": rec.source,
            "original_id": rec.original_id,
            "published": published,
            "distributions": distributions,
        });
        if let Some(map) = summary.as_object_mut() {
            for (k, v) in [
                ("modified", &rec.modified),
                ("landing_page", &rec.landing_page),
                ("uri", &rec.uri),
            ] {
                if let Some(v) = v {
                    map.insert(k.into(), json!(v));
                }
            }
            if let Some(p) = &rec.publisher {
                map.insert("publisher".into(), json!(p.name));
            }
            if let Some(b) = bbox {
                map.insert("bbox".into(), json!(b));
            }
        }
        SearchDoc {
            key,
            origin: Origin::Harvested {
                source: rec.source.clone(),
            },
            published,
            title: rec.title.clone(),
            description: rec.description.clone(),
            keywords: rec.keywords.clone(),
            themes: rec.themes.clone(),
            publisher: rec.publisher.as_ref().and_then(|a| non_empty(&a.name)),
            rights_holder: rec.rights_holder.as_ref().and_then(|a| non_empty(&a.name)),
            formats,
            license,
            frequency,
            fields: Vec::new(),
            places,
            temporal: rec.temporal.as_ref().and_then(temporal),
            bbox,
            modified,
            summary,
        }
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The values in their first order, without repeats or empty ones.
fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// An EU file-type code from a harvested format (a code in any case, or its URI); other
/// formats upper-cased, so that `csv` and `CSV` are one facet value.
fn file_type(format: &str) -> Option<String> {
    let f = format.trim().trim_end_matches('/');
    if f.is_empty() {
        return None;
    }
    let code = f.strip_prefix(terms::FILE_TYPE_BASE).unwrap_or(f);
    let upper = code.to_ascii_uppercase();
    if terms::is_file_type(&upper) {
        Some(upper)
    } else {
        Some(f.to_uppercase())
    }
}

/// A WGS84 box with finite, ordered corners.
fn valid_bbox(b: [f64; 4]) -> bool {
    b.iter().all(|v| v.is_finite())
        && b[0] <= b[2]
        && b[1] <= b[3]
        && (-180.0..=180.0).contains(&b[0])
        && (-180.0..=180.0).contains(&b[2])
        && (-90.0..=90.0).contains(&b[1])
        && (-90.0..=90.0).contains(&b[3])
}

/// A temporal coverage as dates; `None` when its start is not an ISO 8601 date. An end
/// that cannot be read leaves the coverage open.
fn temporal(t: &TemporalExtent) -> Option<(NaiveDate, Option<NaiveDate>)> {
    let start = instant(&t.start)?.date_naive();
    let end = t
        .end
        .as_deref()
        .and_then(instant)
        .map(|e| e.date_naive())
        .filter(|e| *e >= start);
    Some((start, end))
}

/// Whether the dataset is about the catalogue's territory: it has no extent of its own,
/// or its extent lies inside the territory (with about 100 m of tolerance, as the DCAT
/// output decides its municipality).
fn covers_territory(catalog: &Catalog, ds: &Dataset) -> bool {
    const TOLERANCE: f64 = 0.001;
    match (ds.extent.bbox, catalog.territory_bbox) {
        (None, _) => true,
        (Some(d), Some(t)) => {
            d[0] >= t[0] - TOLERANCE
                && d[1] >= t[1] - TOLERANCE
                && d[2] <= t[2] + TOLERANCE
                && d[3] <= t[3] + TOLERANCE
        }
        (Some(_), None) => false,
    }
}

/// The territory's name: the publisher's without the `Comune di` in front.
fn territory_name(catalog: &Catalog) -> String {
    let name = catalog.publisher.name.trim();
    // Only these: `Comune della Spezia` is La Spezia, `Comune dell'Aquila` L'Aquila.
    const PREFIXES: [&str; 2] = ["comune di ", "città di "];
    let lower = name.to_lowercase();
    for p in PREFIXES {
        // Lower-casing keeps the byte length of these prefixes (ASCII and `à`), so the
        // offset is valid in `name` too (`get` checks it anyway).
        if lower.starts_with(p)
            && let Some(rest) = name.get(p.len()..)
            && !rest.trim().is_empty()
        {
            return rest.trim().to_string();
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Agent, ContactPoint, DatasetMeta, Distribution, Extent, FederatedAgent,
        FederatedDistribution, FederatedSpatial, Field, FieldType, GeometryType, Layer,
        QualityReport,
    };
    use chrono::TimeZone;

    fn agent(name: &str) -> Agent {
        Agent {
            name: name.into(),
            identifier: "c_b648".into(),
        }
    }

    fn catalog() -> Catalog {
        Catalog {
            title: "Dati aperti".into(),
            description: "Catalogo".into(),
            publisher: agent("Comune di Capannori"),
            base_url: "https://dati.example.it".into(),
            homepage: "https://example.it".into(),
            languages: vec!["it".into()],
            default_license: "CC-BY-4.0".into(),
            contact_point: ContactPoint {
                name: "Ufficio".into(),
                email: "u@example.it".into(),
                url: None,
            },
            istat_code: Some("046007".into()),
            territory_bbox: Some([10.49, 43.78, 10.67, 43.91]),
            basemap_style: None,
        }
    }

    fn dist(file: &str, format: &str) -> Distribution {
        Distribution {
            file: file.into(),
            format: format.into(),
            media_type: "text/csv".into(),
            byte_size: 10,
            sha256: "0".repeat(64),
            rows: 2,
            path: format!("datasets/scuole/{file}"),
        }
    }

    fn dataset(bbox: Option<[f64; 4]>) -> Dataset {
        Dataset {
            id: "scuole".into(),
            meta: DatasetMeta {
                title: "Scuole".into(),
                description: "Le scuole del comune".into(),
                themes: vec!["EDUC".into()],
                subthemes: vec![],
                keywords: vec!["scuole".into(), "istruzione".into()],
                frequency: "ANNUAL".into(),
                license: "CC-BY-4.0".into(),
                publisher: agent("Comune di Capannori"),
                rights_holder: agent("Ufficio scuola"),
                contact_point: ContactPoint {
                    name: "Ufficio".into(),
                    email: "u@example.it".into(),
                    url: None,
                },
                conforms_to: vec![],
                temporal: Some(TemporalExtent {
                    start: "2024-09-01".into(),
                    end: Some("2025-06-30".into()),
                }),
                demo_data: false,
                issued: None,
            },
            fields: vec![Field {
                name: "codice_meccanografico".into(),
                field_type: FieldType::String,
                description: None,
                source: None,
                required: true,
                unique: true,
                nulls: 0,
            }],
            rows: 42,
            extent: Extent {
                bbox,
                temporal: None,
            },
            layer: bbox.map(|_| Layer {
                geometry_type: GeometryType::Point,
                source_crs: 3003,
                features: 42,
            }),
            distributions: vec![
                dist("scuole.csv", "CSV"),
                dist("scuole.geojson", "GEOJSON"),
                dist("scuole.parquet", "BIN"),
                dist("scuole.fgb", "BIN"),
            ],
            quality: QualityReport::default(),
            modified: "2026-03-01T10:20:30Z".into(),
            input_hash: "0".repeat(64),
            pictures: Vec::new(),
            tiles: None,
        }
    }

    #[test]
    fn own_dataset() {
        let d = SearchDoc::from_dataset(&dataset(Some([10.5, 43.8, 10.6, 43.85])), &catalog());
        assert_eq!(d.key, "scuole");
        assert_eq!(d.origin, Origin::Local);
        assert!(d.published);
        assert_eq!(d.formats, ["CSV", "GEOJSON", "BIN"]);
        // `CC-BY-4.0` is the AgID alias of A21_CCBY40 (src/vocab.rs, LICENSE_ALIASES).
        assert_eq!(d.license.as_deref(), Some("A21_CCBY40"));
        assert_eq!(d.frequency.as_deref(), Some("ANNUAL"));
        assert_eq!(d.publisher.as_deref(), Some("Comune di Capannori"));
        assert_eq!(d.rights_holder.as_deref(), Some("Ufficio scuola"));
        assert_eq!(d.fields, ["codice_meccanografico"]);
        assert_eq!(d.places, ["Capannori"]);
        assert_eq!(
            d.temporal,
            Some((
                NaiveDate::from_ymd_opt(2024, 9, 1).unwrap(),
                NaiveDate::from_ymd_opt(2025, 6, 30)
            ))
        );
        assert_eq!(d.bbox, Some([10.5, 43.8, 10.6, 43.85]));
        assert_eq!(
            d.modified,
            Some(Utc.with_ymd_and_hms(2026, 3, 1, 10, 20, 30).unwrap())
        );
        let s = &d.summary;
        assert_eq!(s["id"], "scuole");
        assert_eq!(s["path"], "/datasets/scuole");
        assert_eq!(s["origin"], "local");
        assert_eq!(s["rows"], 42);
        assert_eq!(s["geometry_type"], "Point");
        assert_eq!(s["bbox"], json!([10.5, 43.8, 10.6, 43.85]));
        assert_eq!(s["formats"], json!(["CSV", "GEOJSON", "BIN"]));
        assert_eq!(
            s["distributions"][0]["path"],
            "/datasets/scuole/files/scuole.csv"
        );
        // Relative paths only: the base URL is the server's business.
        assert!(!s.to_string().contains("https://"));
    }

    #[test]
    fn tables_get_the_territory_and_outside_data_no_place() {
        let table = SearchDoc::from_dataset(&dataset(None), &catalog());
        assert_eq!(table.bbox, Some([10.49, 43.78, 10.67, 43.91]));
        assert_eq!(table.places, ["Capannori"]);
        assert!(table.summary.get("bbox").is_none());
        assert!(table.summary.get("geometry_type").is_none());

        let outside = SearchDoc::from_dataset(&dataset(Some([9.0, 43.0, 11.0, 44.0])), &catalog());
        assert!(outside.places.is_empty());
        assert_eq!(outside.bbox, Some([9.0, 43.0, 11.0, 44.0]));
    }

    #[test]
    fn territory_names() {
        let mut c = catalog();
        for (publisher, place) in [
            ("Comune di Capannori", "Capannori"),
            ("COMUNE DI LUCCA", "LUCCA"),
            ("Comune dell'Aquila", "Comune dell'Aquila"),
            ("Città di Torino", "Torino"),
            ("Provincia di Lucca", "Provincia di Lucca"),
            ("Comune di ", "Comune di"),
        ] {
            c.publisher.name = publisher.into();
            assert_eq!(territory_name(&c), place, "{publisher}");
        }
    }

    fn record() -> FederatedRecord {
        FederatedRecord {
            source: "toscana".into(),
            key: "0123456789abcdef".into(),
            original_id: "rt-scuole".into(),
            uri: Some("https://dati.toscana.it/dataset/rt-scuole".into()),
            title: "Scuole della Toscana".into(),
            description: "Anagrafe".into(),
            keywords: vec!["scuole".into()],
            themes: vec!["EDUC".into(), "Istruzione".into()],
            publisher: Some(FederatedAgent {
                name: "Regione Toscana".into(),
                identifier: Some("r_toscan".into()),
            }),
            rights_holder: None,
            contact_point: None,
            license: None,
            frequency: Some(
                "http://publications.europa.eu/resource/authority/frequency/MONTHLY".into(),
            ),
            issued: None,
            modified: Some("2025-01-31".into()),
            landing_page: Some("https://dati.toscana.it/dataset/rt-scuole".into()),
            harvested_from: "https://dati.toscana.it/catalog.ttl".into(),
            distributions: vec![
                FederatedDistribution {
                    title: Some("CSV".into()),
                    description: None,
                    access_url: Some("https://dati.toscana.it/s.csv".into()),
                    download_url: None,
                    format: Some("csv".into()),
                    media_type: None,
                    license: Some(
                        "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40".into(),
                    ),
                    byte_size: None,
                },
                FederatedDistribution {
                    title: None,
                    description: None,
                    access_url: None,
                    download_url: None,
                    format: Some(
                        "http://publications.europa.eu/resource/authority/file-type/CSV".into(),
                    ),
                    media_type: None,
                    license: None,
                    byte_size: None,
                },
                FederatedDistribution {
                    title: None,
                    description: None,
                    access_url: None,
                    download_url: None,
                    format: Some("Shapefile zippato".into()),
                    media_type: None,
                    license: None,
                    byte_size: None,
                },
            ],
            spatial: Some(FederatedSpatial {
                uris: vec![],
                names: vec!["Toscana".into()],
                geometry: None,
                bbox: Some([9.68, 42.23, 12.37, 44.47]),
            }),
            temporal: Some(TemporalExtent {
                start: "2020-01-01T00:00:00Z".into(),
                end: None,
            }),
            sanitized: vec![],
            defects: vec![],
            hash: "h".into(),
            harvested_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn harvested_record() {
        let d = SearchDoc::from_federated(&record(), false);
        assert_eq!(d.key, "toscana/0123456789abcdef");
        assert_eq!(
            d.origin,
            Origin::Harvested {
                source: "toscana".into()
            }
        );
        assert_eq!(d.origin.facet_value(), "toscana");
        assert!(!d.published);
        assert_eq!(d.formats, ["CSV", "SHAPEFILE ZIPPATO"]);
        // No record licence: the first distribution's, by its AgID URI.
        assert_eq!(d.license.as_deref(), Some("A21_CCBY40"));
        assert_eq!(d.frequency.as_deref(), Some("MONTHLY"));
        assert_eq!(d.publisher.as_deref(), Some("Regione Toscana"));
        assert_eq!(d.rights_holder, None);
        assert_eq!(d.places, ["Toscana"]);
        assert_eq!(d.bbox, Some([9.68, 42.23, 12.37, 44.47]));
        assert_eq!(
            d.temporal,
            Some((NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(), None))
        );
        assert_eq!(
            d.modified,
            Some(Utc.with_ymd_and_hms(2025, 1, 31, 0, 0, 0).unwrap())
        );
        let s = &d.summary;
        assert_eq!(s["id"], "toscana/0123456789abcdef");
        assert_eq!(s["source"], "toscana");
        assert_eq!(s["origin"], "toscana");
        assert_eq!(s["original_id"], "rt-scuole");
        assert_eq!(
            s["landing_page"],
            "https://dati.toscana.it/dataset/rt-scuole"
        );
        assert_eq!(s["published"], false);
        assert_eq!(
            s["distributions"][0]["access_url"],
            "https://dati.toscana.it/s.csv"
        );
        assert!(s.get("path").is_none());
        assert!(SearchDoc::from_federated(&record(), true).published);
    }

    #[test]
    fn unknown_licences_and_frequencies_are_kept_as_written() {
        let mut r = record();
        r.license = Some("Licenza comunale".into());
        r.frequency = Some("ogni tanto".into());
        r.spatial = Some(FederatedSpatial {
            bbox: Some([200.0, 0.0, 201.0, 1.0]),
            ..FederatedSpatial::default()
        });
        r.temporal = Some(TemporalExtent {
            start: "non so".into(),
            end: None,
        });
        let d = SearchDoc::from_federated(&r, false);
        assert_eq!(d.license.as_deref(), Some("Licenza comunale"));
        assert_eq!(d.frequency.as_deref(), Some("ogni tanto"));
        assert_eq!(d.bbox, None);
        assert_eq!(d.temporal, None);
    }
}
