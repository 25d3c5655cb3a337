//! The schema.org `Dataset` of a dataset, as JSON-LD: what Google Dataset Search and
//! other search engines read from a dataset page (`<script type="application/ld+json">`).
//!
//! It carries the properties those crawlers use: name, description, url, identifier,
//! keywords, license, creator and publisher, distribution (`DataDownload` with
//! `contentUrl` and `encodingFormat`), spatial coverage (a `GeoShape` box), temporal
//! coverage (an ISO 8601 interval), dates and language. Every URL comes from the served
//! base URL.
//!
//! Pitfalls: a schema.org `GeoShape` box is "south west north east", latitude first,
//! unlike the lon/lat order everywhere else in Portale; an open interval is written
//! `start/..` as schema.org's `temporalCoverage` documentation shows.

use serde_json::{Value, json};

use super::dcat::{self, Context};
use crate::model::{Agent, Dataset};
use crate::vocab;

fn organization(agent: &Agent) -> Value {
    json!({
        "@type": "Organization",
        "name": agent.name,
        "identifier": agent.identifier,
    })
}

/// Latitude-first `"south west north east"` box of a `[min_lon, min_lat, max_lon, max_lat]`
/// bounding box.
pub fn geo_box(b: [f64; 4]) -> String {
    format!("{} {} {} {}", b[1], b[0], b[3], b[2])
}

/// The schema.org `Dataset` JSON-LD object of a dataset.
pub fn dataset(ctx: &Context<'_>, d: &Dataset) -> Value {
    let m = &d.meta;
    let id = d.id.as_str();
    let mut out = serde_json::Map::new();
    out.insert("@context".into(), json!("https://schema.org/"));
    out.insert("@type".into(), json!("Dataset"));
    out.insert("@id".into(), json!(ctx.dataset_uri(id)));
    out.insert("name".into(), json!(m.title));
    out.insert("description".into(), json!(m.description));
    out.insert("url".into(), json!(ctx.uris.dataset(id)));
    out.insert("identifier".into(), json!(ctx.dataset_identifier(id)));
    out.insert("keywords".into(), json!(m.keywords));
    out.insert("inLanguage".into(), json!(ctx.language()));
    out.insert("isAccessibleForFree".into(), json!(true));
    if let Some(licence) = vocab::license(&m.license) {
        out.insert("license".into(), json!(licence.uri()));
    }
    out.insert("creator".into(), organization(&m.rights_holder));
    out.insert("publisher".into(), organization(&m.publisher));
    if let Some(modified) = dcat::datetime_lexical(&d.modified) {
        out.insert("dateModified".into(), json!(modified));
    }
    if let Some(issued) = &m.issued {
        out.insert("datePublished".into(), json!(issued));
    }
    let distributions: Vec<Value> = d
        .distributions
        .iter()
        .map(|x| {
            json!({
                "@type": "DataDownload",
                "name": x.file,
                "contentUrl": ctx.uris.file(id, &x.file),
                "encodingFormat": x.media_type,
                "contentSize": format!("{} B", x.byte_size),
            })
        })
        .collect();
    out.insert("distribution".into(), Value::Array(distributions));
    if let Some(bbox) = dcat::coverage_bbox(ctx.catalog, d) {
        let mut place = json!({
            "@type": "Place",
            "geo": { "@type": "GeoShape", "box": geo_box(bbox) },
        });
        if let Some(uri) = dcat::municipality_uri(ctx.catalog, d) {
            place["sameAs"] = json!(uri);
        }
        out.insert("spatialCoverage".into(), place);
    }
    if let Some(t) = m.temporal.as_ref().or(d.extent.temporal.as_ref()) {
        let end = t.end.as_deref().unwrap_or("..");
        out.insert(
            "temporalCoverage".into(),
            json!(format!("{}/{end}", t.start)),
        );
    }
    out.insert(
        "includedInDataCatalog".into(),
        json!({
            "@type": "DataCatalog",
            "name": ctx.catalog.title,
            "url": ctx.uris.home(),
        }),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_is_latitude_first() {
        // Capannori's territory: west 10.486, south 43.749, east 10.659, north 43.943.
        assert_eq!(
            geo_box([10.486, 43.749, 10.659, 43.943]),
            "43.749 10.486 43.943 10.659"
        );
    }
}
