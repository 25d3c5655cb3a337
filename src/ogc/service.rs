//! The framework-free core of OGC API – Features: one [`OgcService`] per generation
//! answers a [`Request`] (endpoint, path ids, query pairs, `Accept`) with a [`Reply`]
//! (media type, body, `Content-Crs`, alternate links) or an [`OgcError`]. The HTTP adapter
//! (`server::ogc`) only translates.
//!
//! Collections are the datasets with a layer and a FlatGeobuf distribution; their ids are
//! the dataset ids. Feature ids are the `fid` column (row number, 1-based), the `id` of
//! the same row in the GeoJSON download.
//!
//! Items: the filters (`bbox`, `datetime`, `name=value`, `filter`) are ANDed; `bbox` and
//! spatial CQL2 predicates narrow the candidates through the layer's R-tree
//! ([`super::source`]) before the exact tests. `datetime` applies to the layer's first
//! date or datetime field and is ignored (as pygeoapi does) when there is none.

use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};
use geo::Intersects;
use geo_types::{Geometry, Polygon, Rect};
use serde_json::{Map, Value as Json, json};

use super::api::{self, DEFAULT_LIMIT, Endpoint, MAX_LIMIT, Param, Params};
use super::cql2::{self, CmpOp, Expr, Filter, Scalar, Schema};
use super::crs::{CRS84, RequestCrs, offered_uris};
use super::error::OgcError;
use super::format::Format;
use super::geojson::{self, Shape};
use super::html;
use super::source::{Feature, Found, LayerFile, Selection};
use super::value::{Value, parse_date, parse_timestamp};
use crate::model::{Catalog, Dataset, Distribution, FieldType};
use crate::server::Urls;

/// The name of the geometry in queryables and filters.
pub const GEOMETRY: &str = "geometry";

/// Media types of the API.
pub mod media {
    pub const JSON: &str = "application/json";
    pub const GEOJSON: &str = "application/geo+json";
    pub const SCHEMA: &str = "application/schema+json";
    pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
    pub const HTML: &str = "text/html; charset=utf-8";
}

/// The conformance classes implemented.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
];

/// One request, already split by the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub endpoint: Endpoint,
    pub collection: Option<&'a str>,
    pub feature: Option<&'a str>,
    /// Decoded query pairs, in request order.
    pub query: &'a [(String, String)],
    /// The `Accept` header.
    pub accept: Option<&'a str>,
}

/// A link, as in every OGC API document and in the `Link` header.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub rel: String,
    pub href: String,
    pub media_type: String,
    pub title: Option<String>,
}

impl Link {
    fn new(rel: &str, href: String, media_type: &str) -> Link {
        Link {
            rel: rel.to_string(),
            href,
            media_type: media_type.to_string(),
            title: None,
        }
    }

    fn titled(mut self, title: impl Into<String>) -> Link {
        self.title = Some(title.into());
        self
    }

    fn to_json(&self) -> Json {
        let mut o = json!({"href": self.href, "rel": self.rel, "type": self.media_type});
        if let Some(t) = &self.title {
            o["title"] = json!(t);
        }
        o
    }
}

/// An answer: what to send and the headers that go with it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub media_type: &'static str,
    pub body: Vec<u8>,
    /// `Content-Crs` (items and features).
    pub content_crs: Option<String>,
    /// The other representations, for the `Link` header.
    pub alternates: Vec<Link>,
}

struct Collection {
    dataset: Dataset,
    layer: LayerFile,
    /// Index of the first date or datetime field: what `datetime` filters.
    temporal: Option<usize>,
    tiles: bool,
}

/// OGC API – Features over one generation's layers.
pub struct OgcService {
    title: String,
    description: String,
    urls: Urls,
    /// Sorted by id.
    collections: Vec<Collection>,
}

impl std::fmt::Debug for OgcService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OgcService")
            .field("collections", &self.collections.len())
            .finish()
    }
}

impl OgcService {
    /// The service for `datasets`: every dataset with a layer and a FlatGeobuf
    /// distribution is a collection; `file_path` says where a distribution lives.
    pub fn new(
        catalog: &Catalog,
        urls: Urls,
        datasets: &[Dataset],
        file_path: impl Fn(&Distribution) -> PathBuf,
    ) -> OgcService {
        let mut collections: Vec<Collection> = datasets
            .iter()
            .filter(|d| d.layer.is_some())
            .filter_map(|d| {
                let fgb = d
                    .distributions
                    .iter()
                    .find(|x| x.media_type == "application/flatgeobuf")?;
                Some(Collection {
                    layer: LayerFile::new(file_path(fgb), d.fields.clone()),
                    temporal: d.fields.iter().position(|f| {
                        matches!(f.field_type, FieldType::Date | FieldType::Datetime)
                    }),
                    tiles: d.tiles.is_some(),
                    dataset: d.clone(),
                })
            })
            .collect();
        collections.sort_by(|a, b| a.dataset.id.cmp(&b.dataset.id));
        OgcService {
            title: catalog.title.clone(),
            description: catalog.description.clone(),
            urls,
            collections,
        }
    }

    /// The collection ids, sorted.
    pub fn collection_ids(&self) -> impl Iterator<Item = &str> {
        self.collections.iter().map(|c| c.dataset.id.as_str())
    }

    fn collection(&self, id: &str) -> Result<&Collection, OgcError> {
        self.collections
            .binary_search_by(|c| c.dataset.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.collections.get(i))
            .ok_or_else(|| OgcError::not_found(format!("no collection {id:?}")))
    }

    /// Answers one request.
    pub fn handle(&self, req: &Request<'_>) -> Result<Reply, OgcError> {
        let route = api::route(req.endpoint);
        let collection = req.collection.map(|id| self.collection(id)).transpose()?;
        let properties: Vec<&str> = collection
            .map(|c| {
                c.dataset
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .filter(|n| Param::from_name(n).is_none())
                    .collect()
            })
            .unwrap_or_default();
        let params = Params::check(route, req.query, &properties)?;
        let format = Format::negotiate(params.get(Param::F), req.accept)?;
        match (req.endpoint, collection) {
            (Endpoint::Landing, _) => Ok(self.landing(format)),
            (Endpoint::Api, _) => self.api(format),
            (Endpoint::Conformance, _) => Ok(self.conformance(format)),
            (Endpoint::Collections, _) => self.collections(format),
            (Endpoint::Collection, Some(c)) => self.describe(c, format),
            (Endpoint::Queryables, Some(c)) => Ok(self.queryables(c, format)),
            (Endpoint::Items, Some(c)) => self.items(c, &params, req.query, format),
            (Endpoint::Item, Some(c)) => self.item(c, req.feature.unwrap_or(""), &params, format),
            (_, None) => Err(OgcError::not_found("no collection given")),
        }
    }

    fn self_links(&self, url: &str, format: Format, json_type: &str) -> (Vec<Link>, Vec<Link>) {
        let json_link = |rel: &str| Link::new(rel, format!("{url}?f=json"), json_type);
        let html_link = |rel: &str| Link::new(rel, format!("{url}?f=html"), "text/html");
        match format {
            Format::Json => (
                vec![json_link("self"), html_link("alternate")],
                vec![html_link("alternate")],
            ),
            Format::Html => (
                vec![html_link("self"), json_link("alternate")],
                vec![json_link("alternate")],
            ),
        }
    }

    fn reply(
        &self,
        format: Format,
        json_type: &'static str,
        doc: &Json,
        alternates: Vec<Link>,
        html: impl FnOnce(&Json) -> String,
    ) -> Reply {
        let (media_type, body) = match format {
            // Serializing a `serde_json::Value` cannot fail.
            Format::Json => (json_type, serde_json::to_vec(doc).unwrap_or_default()),
            Format::Html => (media::HTML, html(doc).into_bytes()),
        };
        Reply {
            media_type,
            body,
            content_crs: None,
            alternates,
        }
    }

    /// A reply whose JSON body is already written (items, item); the HTML page is made
    /// from the same document.
    fn reply_bytes(
        &self,
        format: Format,
        json_type: &'static str,
        body: Vec<u8>,
        alternates: Vec<Link>,
        html: impl FnOnce(&Json) -> String,
    ) -> Result<Reply, OgcError> {
        let (media_type, body) = match format {
            Format::Json => (json_type, body),
            Format::Html => {
                let doc: Json = serde_json::from_slice(&body).map_err(OgcError::internal)?;
                (media::HTML, html(&doc).into_bytes())
            }
        };
        Ok(Reply {
            media_type,
            body,
            content_crs: None,
            alternates,
        })
    }

    fn landing(&self, format: Format) -> Reply {
        let url = self.urls.ogc("");
        let (mut links, alternates) = self.self_links(&url, format, media::JSON);
        let api = self.urls.ogc("/api");
        let conformance = self.urls.ogc("/conformance");
        let data = self.urls.ogc("/collections");
        links.extend([
            Link::new("service-desc", format!("{api}?f=json"), media::OPENAPI)
                .titled("Definizione dell'API (OpenAPI 3.0)"),
            Link::new("service-doc", format!("{api}?f=html"), "text/html")
                .titled("Documentazione dell'API"),
            Link::new("conformance", conformance.clone(), media::JSON)
                .titled("Classi di conformità"),
            Link::new(
                "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                conformance,
                media::JSON,
            ),
            Link::new("data", data.clone(), media::JSON).titled("Raccolte"),
            Link::new(
                "http://www.opengis.net/def/rel/ogc/1.0/data",
                data,
                media::JSON,
            ),
        ]);
        let doc = json!({
            "title": self.title,
            "description": self.description,
            "links": links.iter().map(Link::to_json).collect::<Vec<_>>(),
        });
        self.reply(format, media::JSON, &doc, alternates, html::landing)
    }

    fn conformance(&self, format: Format) -> Reply {
        let url = self.urls.ogc("/conformance");
        let (links, alternates) = self.self_links(&url, format, media::JSON);
        let doc = json!({
            "conformsTo": CONFORMANCE,
            "links": links.iter().map(Link::to_json).collect::<Vec<_>>(),
        });
        self.reply(format, media::JSON, &doc, alternates, html::conformance)
    }

    fn api(&self, format: Format) -> Result<Reply, OgcError> {
        let datasets: Vec<&Dataset> = self.collections.iter().map(|c| &c.dataset).collect();
        let doc = api::openapi(
            &format!("{}: OGC API – Features", self.title),
            &self.description,
            &self.urls.ogc(""),
            &datasets,
        );
        let url = self.urls.ogc("/api");
        let (_, alternates) = self.self_links(&url, format, media::OPENAPI);
        Ok(self.reply(format, media::OPENAPI, &doc, alternates, html::api))
    }

    fn collection_doc(&self, c: &Collection, format: Format) -> Result<Json, OgcError> {
        let d = &c.dataset;
        let url = self.urls.ogc(&format!("/collections/{}", d.id));
        let (mut links, _) = self.self_links(&url, format, media::JSON);
        let items = format!("{url}/items");
        links.extend([
            Link::new("items", format!("{items}?f=json"), media::GEOJSON)
                .titled("Oggetti (GeoJSON)"),
            Link::new("items", format!("{items}?f=html"), "text/html").titled("Oggetti (HTML)"),
            Link::new(
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                format!("{url}/queryables?f=json"),
                media::SCHEMA,
            )
            .titled("Proprietà interrogabili"),
            Link::new("describedby", self.urls.dataset_json(&d.id), media::JSON)
                .titled("Scheda del dataset"),
        ]);
        for x in &d.distributions {
            links.push(
                Link::new("enclosure", self.urls.file(&d.id, &x.file), &x.media_type)
                    .titled(format!("Download {}", x.file)),
            );
        }
        if c.tiles {
            links.push(
                Link::new("related", self.urls.tilejson(&d.id), media::JSON)
                    .titled("Tessere vettoriali (TileJSON 3.0.0)"),
            );
        }
        let mut extent = Map::new();
        if let Some(b) = d.extent.bbox {
            extent.insert("spatial".into(), json!({"bbox": [b], "crs": CRS84}));
        }
        if let Some(t) = d.extent.temporal.as_ref().or(d.meta.temporal.as_ref()) {
            extent.insert(
                "temporal".into(),
                json!({
                    "interval": [[rfc3339(&t.start), t.end.as_deref().map(rfc3339)]],
                    "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
                }),
            );
        }
        let mut doc = json!({
            "id": d.id,
            "title": d.meta.title,
            "description": d.meta.description,
            "keywords": d.meta.keywords,
            "itemType": "feature",
            "crs": offered_uris(),
            "storageCrs": CRS84,
            "links": links.iter().map(Link::to_json).collect::<Vec<_>>(),
        });
        if !extent.is_empty() {
            doc["extent"] = Json::Object(extent);
        }
        if let Some(layer) = &d.layer {
            doc["x-portale-geometry-type"] = json!(layer.geometry_type.as_str());
            doc["x-portale-features"] = json!(c.layer.count().map_err(OgcError::internal)?);
        }
        Ok(doc)
    }

    fn collections(&self, format: Format) -> Result<Reply, OgcError> {
        let url = self.urls.ogc("/collections");
        let (links, alternates) = self.self_links(&url, format, media::JSON);
        let collections = self
            .collections
            .iter()
            .map(|c| self.collection_doc(c, Format::Json))
            .collect::<Result<Vec<_>, _>>()?;
        let doc = json!({
            "links": links.iter().map(Link::to_json).collect::<Vec<_>>(),
            "collections": collections,
            "crs": offered_uris(),
        });
        Ok(self.reply(format, media::JSON, &doc, alternates, html::collections))
    }

    fn describe(&self, c: &Collection, format: Format) -> Result<Reply, OgcError> {
        let url = self.urls.ogc(&format!("/collections/{}", c.dataset.id));
        let (_, alternates) = self.self_links(&url, format, media::JSON);
        let doc = self.collection_doc(c, format)?;
        Ok(self.reply(format, media::JSON, &doc, alternates, html::collection))
    }

    fn queryables(&self, c: &Collection, format: Format) -> Reply {
        let d = &c.dataset;
        let url = self.urls.ogc(&format!("/collections/{}/queryables", d.id));
        let (_, alternates) = self.self_links(&url, format, media::SCHEMA);
        let mut properties = Map::new();
        let geometry_type = d
            .layer
            .as_ref()
            .map_or("Geometry", |l| l.geometry_type.as_str());
        properties.insert(
            GEOMETRY.into(),
            json!({
                "title": "Geometria",
                "description": format!("La geometria dell'oggetto ({geometry_type}); nei filtri con S_INTERSECTS e le altre funzioni spaziali"),
                "format": format!("geometry-{}", geometry_format(geometry_type)),
                "x-ogc-role": "primary-geometry",
            }),
        );
        for f in &d.fields {
            let mut schema = match f.field_type {
                FieldType::String => json!({"type": "string"}),
                FieldType::Integer => json!({"type": "integer"}),
                FieldType::Number => json!({"type": "number"}),
                FieldType::Boolean => json!({"type": "boolean"}),
                FieldType::Date => json!({"type": "string", "format": "date"}),
                FieldType::Datetime => json!({"type": "string", "format": "date-time"}),
            };
            schema["title"] = json!(f.name);
            if let Some(desc) = &f.description {
                schema["description"] = json!(desc);
            }
            properties.insert(f.name.clone(), schema);
        }
        let doc = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": url,
            "type": "object",
            "title": d.meta.title,
            "properties": properties,
            "additionalProperties": false,
        });
        self.reply(format, media::SCHEMA, &doc, alternates, html::queryables)
    }

    fn items(
        &self,
        c: &Collection,
        params: &Params<'_>,
        query: &[(String, String)],
        format: Format,
    ) -> Result<Reply, OgcError> {
        let d = &c.dataset;
        let limit = match params.get(Param::Limit) {
            None => DEFAULT_LIMIT,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(0) | Err(_) => {
                    return Err(OgcError::param(
                        "limit",
                        format!(
                            "{v:?} is not a whole number from 1 (larger than {MAX_LIMIT} counts as {MAX_LIMIT})"
                        ),
                    ));
                }
                Ok(n) => n.min(MAX_LIMIT),
            },
        };
        let offset = match params.get(Param::Offset) {
            None => 0,
            Some(v) => v.trim().parse::<u64>().map_err(|_| {
                OgcError::param("offset", format!("{v:?} is not a whole number from 0"))
            })?,
        };
        let crs = match params.get(Param::Crs) {
            Some(v) => RequestCrs::parse("crs", v)?,
            None => RequestCrs::crs84(),
        };
        let bbox_crs = match params.get(Param::BboxCrs) {
            Some(v) => RequestCrs::parse("bbox-crs", v)?,
            None => RequestCrs::crs84(),
        };
        let bbox = params
            .get(Param::Bbox)
            .map(|v| parse_bbox(v, &bbox_crs))
            .transpose()?;

        let schema = Schema {
            fields: &d.fields,
            geometry: GEOMETRY,
        };
        // The query parameters as one CQL2 expression, so they share its evaluation.
        let mut conditions: Vec<Expr> = Vec::new();
        for (name, text) in &params.properties {
            let Some(field) = d.fields.iter().find(|f| f.name == *name) else {
                continue;
            };
            let value =
                Value::parse_as(field.field_type, text).map_err(|e| OgcError::param(name, e))?;
            conditions.push(Expr::Compare(
                CmpOp::Eq,
                Scalar::Property(field.name.clone()),
                Scalar::Literal(value),
            ));
        }
        if let (Some(text), Some(i)) = (params.get(Param::Datetime), c.temporal) {
            let field = &d.fields[i];
            let (low, high) = parse_datetime(text)?;
            let property = || Scalar::Property(field.name.clone());
            if let Some(low) = low {
                conditions.push(Expr::Compare(CmpOp::Ge, property(), Scalar::Literal(low)));
            }
            if let Some(high) = high {
                conditions.push(Expr::Compare(CmpOp::Le, property(), Scalar::Literal(high)));
            }
        }
        let from_params = if conditions.is_empty() {
            None
        } else {
            Some(
                cql2::compile(&Expr::And(conditions), schema, &RequestCrs::crs84())
                    .map_err(|e| OgcError::invalid(e.0))?,
            )
        };
        let filter = match params.get(Param::Filter) {
            None => None,
            Some(text) => {
                let filter_crs = match params.get(Param::FilterCrs) {
                    Some(v) => RequestCrs::parse("filter-crs", v)?,
                    None => RequestCrs::crs84(),
                };
                let expr = match params.get(Param::FilterLang).unwrap_or("cql2-text") {
                    "cql2-text" => cql2::parse_text(text),
                    "cql2-json" => cql2::parse_json(text),
                    other => {
                        return Err(OgcError::param(
                            "filter-lang",
                            format!("{other:?} is not cql2-text or cql2-json"),
                        ));
                    }
                }
                .map_err(|e| OgcError::param("filter", e))?;
                Some(
                    cql2::compile(&expr, schema, &filter_crs)
                        .map_err(|e| OgcError::param("filter", e))?,
                )
            }
        };

        let envelope = [
            bbox.as_ref().map(|b| b.rect),
            filter.as_ref().and_then(Filter::envelope),
        ]
        .into_iter()
        .flatten()
        .reduce(intersect_rects);
        let test = |f: &Feature| {
            bbox.as_ref().is_none_or(|b| b.meets(&f.geometry))
                && from_params.as_ref().is_none_or(|p| p.test(f))
                && filter.as_ref().is_none_or(|p| p.test(f))
        };
        let filtered = bbox.is_some() || from_params.is_some() || filter.is_some();
        let mut test_fields = vec![false; d.fields.len()];
        for f in [&from_params, &filter].into_iter().flatten() {
            f.mark_fields(&mut test_fields);
        }
        let selection = Selection {
            envelope,
            envelope_is_the_test: bbox.as_ref().is_some_and(|b| b.polygon.is_none())
                && from_params.is_none()
                && filter.is_none(),
            test: if filtered { Some(&test) } else { None },
            test_needs_geometry: bbox.is_some()
                || from_params.as_ref().is_some_and(Filter::uses_geometry)
                || filter.as_ref().is_some_and(Filter::uses_geometry),
            test_fields: Some(&test_fields),
        };
        let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
        let page = c
            .layer
            .query(&selection, offset, limit_usize)
            .map_err(OgcError::internal)?;

        let url = self.urls.ogc(&format!("/collections/{}/items", d.id));
        let kept: Vec<(&str, &str)> = query
            .iter()
            .filter(|(k, _)| k != "f" && k != "offset")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let page_url = |offset: u64, f: &str| {
            let mut pairs = kept.clone();
            let offset = offset.to_string();
            if offset != "0" {
                pairs.push(("offset", &offset));
            }
            pairs.push(("f", f));
            with_query(&url, &pairs)
        };
        let (json_f, html_f) = ("json", "html");
        let mut links = match format {
            Format::Json => vec![
                Link::new("self", page_url(offset, json_f), media::GEOJSON),
                Link::new("alternate", page_url(offset, html_f), "text/html"),
            ],
            Format::Html => vec![
                Link::new("self", page_url(offset, html_f), "text/html"),
                Link::new("alternate", page_url(offset, json_f), media::GEOJSON),
            ],
        };
        let alternates = vec![links[1].clone()];
        let (this_f, this_type) = match format {
            Format::Json => (json_f, media::GEOJSON),
            Format::Html => (html_f, "text/html"),
        };
        let returned = page.features.len() as u64;
        if offset.saturating_add(returned) < page.matched && returned > 0 {
            links.push(
                Link::new("next", page_url(offset + returned, this_f), this_type)
                    .titled("Pagina successiva"),
            );
        }
        if offset > 0 {
            links.push(
                Link::new(
                    "prev",
                    page_url(offset.saturating_sub(limit), this_f),
                    this_type,
                )
                .titled("Pagina precedente"),
            );
        }
        links.push(
            Link::new(
                "collection",
                self.urls.ogc(&format!("/collections/{}", d.id)),
                media::JSON,
            )
            .titled(d.meta.title.clone()),
        );
        let returned_links = Json::Array(links.iter().map(Link::to_json).collect());
        let body = (|| -> Result<Vec<u8>, OgcError> {
            let internal = OgcError::internal;
            let coordinates = page.features.iter().map(Found::coordinate_count).sum();
            let mut out = Vec::with_capacity(geojson::size_hint(
                coordinates,
                page.features.len(),
                d.fields.len(),
            ));
            out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"numberMatched\":");
            geojson::json(&mut out, &page.matched).map_err(internal)?;
            out.extend_from_slice(b",\"numberReturned\":");
            geojson::json(&mut out, &returned).map_err(internal)?;
            out.extend_from_slice(b",\"timeStamp\":");
            geojson::json(
                &mut out,
                &Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .map_err(internal)?;
            out.extend_from_slice(b",\"links\":");
            geojson::json(&mut out, &returned_links).map_err(internal)?;
            out.extend_from_slice(b",\"features\":[");
            for (i, f) in page.features.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // CRS84 is the file's own: written straight from it; any other CRS
                // needs the geometry decoded and transformed first.
                let transformed;
                let shape = if crs.is_crs84() {
                    Shape::Found(f)
                } else {
                    let mut g = f.decode_geometry().map_err(internal)?;
                    crs.transform_from_wgs84(&mut g)?;
                    transformed = g;
                    Shape::Decoded(&transformed)
                };
                geojson::write_feature(
                    &mut out,
                    &d.fields,
                    f.fid,
                    shape,
                    &f.properties,
                    &crs,
                    None,
                )
                .map_err(internal)?;
            }
            out.extend_from_slice(b"]}");
            Ok(out)
        })()?;
        let mut reply = self.reply_bytes(format, media::GEOJSON, body, alternates, |doc| {
            html::items(doc, &d.id, &d.meta.title, &d.fields)
        })?;
        reply.content_crs = Some(format!("<{}>", crs.uri()));
        Ok(reply)
    }

    fn item(
        &self,
        c: &Collection,
        fid: &str,
        params: &Params<'_>,
        format: Format,
    ) -> Result<Reply, OgcError> {
        let d = &c.dataset;
        let not_found =
            || OgcError::not_found(format!("no feature {fid:?} in collection {:?}", d.id));
        let number = fid.parse::<u64>().map_err(|_| not_found())?;
        let crs = match params.get(Param::Crs) {
            Some(v) => RequestCrs::parse("crs", v)?,
            None => RequestCrs::crs84(),
        };
        let feature = c
            .layer
            .feature(number)
            .map_err(OgcError::internal)?
            .ok_or_else(not_found)?;
        let collection_url = self.urls.ogc(&format!("/collections/{}", d.id));
        let url = format!("{collection_url}/items/{number}");
        let crs_query = params
            .get(Param::Crs)
            .map(|_| format!("crs={}&", encode(crs.uri())))
            .unwrap_or_default();
        let json_link =
            |rel: &str| Link::new(rel, format!("{url}?{crs_query}f=json"), media::GEOJSON);
        let html_link = |rel: &str| Link::new(rel, format!("{url}?{crs_query}f=html"), "text/html");
        let (mut links, alternates) = match format {
            Format::Json => (
                vec![json_link("self"), html_link("alternate")],
                vec![html_link("alternate")],
            ),
            Format::Html => (
                vec![html_link("self"), json_link("alternate")],
                vec![json_link("alternate")],
            ),
        };
        links.push(
            Link::new("collection", collection_url, media::JSON).titled(d.meta.title.clone()),
        );
        let mut feature = feature;
        crs.transform_from_wgs84(&mut feature.geometry)?;
        let links = Json::Array(links.iter().map(Link::to_json).collect());
        let mut body = Vec::new();
        geojson::write_feature(
            &mut body,
            &d.fields,
            feature.fid,
            Shape::Decoded(&feature.geometry),
            &feature.properties,
            &crs,
            Some(&links),
        )
        .map_err(OgcError::internal)?;
        let mut reply = self.reply_bytes(format, media::GEOJSON, body, alternates, |doc| {
            html::item(doc, &d.id, &d.meta.title, &d.fields)
        })?;
        reply.content_crs = Some(format!("<{}>", crs.uri()));
        Ok(reply)
    }
}

/// `geometry-point`, `geometry-multipolygon`, ... (OGC API – Features Part 5 formats).
fn geometry_format(t: &str) -> String {
    if t == "Geometry" {
        "any".into()
    } else {
        t.to_ascii_lowercase()
    }
}

/// `2024-01-01` → `2024-01-01T00:00:00Z`; datetimes get a `Z` when they have no zone.
fn rfc3339(s: &str) -> String {
    if let Some(d) = parse_date(s) {
        return format!("{}T00:00:00Z", d.format("%Y-%m-%d"));
    }
    match parse_timestamp(s) {
        Some(t) => t.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => s.to_string(),
    }
}

/// A `bbox` parameter: the WGS84 envelope for the index and the exact shape to meet.
struct BboxFilter {
    rect: Rect<f64>,
    /// `None` when the box is CRS84 (the rectangle is exact).
    polygon: Option<Polygon<f64>>,
}

impl BboxFilter {
    fn meets(&self, g: &Geometry<f64>) -> bool {
        match &self.polygon {
            None => g.intersects(&self.rect),
            Some(p) => g.intersects(p),
        }
    }
}

fn parse_bbox(text: &str, crs: &RequestCrs) -> Result<BboxFilter, OgcError> {
    let numbers = text
        .split(',')
        .map(|s| s.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| OgcError::param("bbox", format!("{text:?} is not a list of numbers")))?;
    let [a1, b1, a2, b2] = match numbers[..] {
        [a1, b1, a2, b2] => [a1, b1, a2, b2],
        [a1, b1, _, a2, b2, _] => [a1, b1, a2, b2],
        _ => {
            return Err(OgcError::param(
                "bbox",
                format!(
                    "{} numbers; give 4 (x1,y1,x2,y2) or 6 (with heights)",
                    numbers.len()
                ),
            ));
        }
    };
    if a1 > a2 || b1 > b2 {
        return Err(OgcError::param(
            "bbox",
            "the lower corner comes first (boxes crossing the antimeridian are not supported)",
        ));
    }
    if crs.is_crs84() {
        if a1 < -180.0 || a2 > 180.0 || b1 < -90.0 || b2 > 90.0 {
            return Err(OgcError::param(
                "bbox",
                "longitudes go from -180 to 180 and latitudes from -90 to 90 (CRS84)",
            ));
        }
        return Ok(BboxFilter {
            rect: Rect::new((a1, b1), (a2, b2)),
            polygon: None,
        });
    }
    let (polygon, rect) = crs.bbox_to_wgs84([a1, b1, a2, b2])?;
    Ok(BboxFilter {
        rect,
        polygon: Some(polygon),
    })
}

/// `datetime`: an instant (`2024-01-01`, `2024-01-01T10:00:00Z`) or an interval
/// `start/end` with `..` or an empty side for open ends. A date as an instant or an end is
/// the whole day.
fn parse_datetime(text: &str) -> Result<(Option<Value>, Option<Value>), OgcError> {
    let bad = |part: &str| {
        OgcError::param(
            "datetime",
            format!("{part:?} is not a date (YYYY-MM-DD), an RFC 3339 date and time, or '..'"),
        )
    };
    let start = |s: &str| -> Result<Option<Value>, OgcError> {
        if s.is_empty() || s == ".." {
            return Ok(None);
        }
        parse_date(s)
            .map(Value::Date)
            .or_else(|| parse_timestamp(s).map(Value::Timestamp))
            .map(Some)
            .ok_or_else(|| bad(s))
    };
    let end = |s: &str| -> Result<Option<Value>, OgcError> {
        if s.is_empty() || s == ".." {
            return Ok(None);
        }
        if let Some(d) = parse_date(s) {
            let last = d
                .and_hms_nano_opt(23, 59, 59, 999_999_999)
                .ok_or_else(|| bad(s))?;
            return Ok(Some(Value::Timestamp(last)));
        }
        parse_timestamp(s)
            .map(|t| Some(Value::Timestamp(t)))
            .ok_or_else(|| bad(s))
    };
    match text.split_once('/') {
        Some((a, b)) => {
            let (low, high) = (start(a.trim())?, end(b.trim())?);
            if let (Some(l), Some(h)) = (&low, &high)
                && l.compare(h) == Some(std::cmp::Ordering::Greater)
            {
                return Err(OgcError::param(
                    "datetime",
                    "the interval ends before it starts",
                ));
            }
            Ok((low, high))
        }
        None => {
            let t = text.trim();
            if t == ".." || t.is_empty() {
                return Err(bad(t));
            }
            Ok((start(t)?, end(t)?))
        }
    }
}

fn intersect_rects(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    let min = (a.min().x.max(b.min().x), a.min().y.max(b.min().y));
    let max = (a.max().x.min(b.max().x), a.max().y.min(b.max().y));
    if min.0 <= max.0 && min.1 <= max.1 {
        Rect::new(min, max)
    } else {
        // Nothing can match both; `a` still bounds every match (there are none).
        a
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    if q.is_empty() {
        url.to_string()
    } else {
        format!("{url}?{}", q.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_intervals() {
        let (l, h) = parse_datetime("2024-01-01/..").unwrap();
        assert_eq!(l, Some(Value::Date(parse_date("2024-01-01").unwrap())));
        assert_eq!(h, None);
        let (l, h) = parse_datetime("2024-01-31").unwrap();
        assert_eq!(l.unwrap().to_string(), "2024-01-31");
        assert_eq!(h.unwrap().to_string(), "2024-01-31T23:59:59.999999999");
        assert!(parse_datetime("2024-02-01/2024-01-01").is_err());
        assert!(parse_datetime("ieri").is_err());
        assert!(parse_datetime("..").is_err());
        let (l, h) = parse_datetime("../2024-01-01T10:00:00Z").unwrap();
        assert_eq!(
            (l, h.unwrap().to_string()),
            (None, "2024-01-01T10:00:00".to_string())
        );
    }

    #[test]
    fn bbox_checks() {
        let crs84 = RequestCrs::crs84();
        assert!(parse_bbox("10.5,43.8,10.6,43.9", &crs84).is_ok());
        assert!(parse_bbox("10.5,43.8,0,10.6,43.9,100", &crs84).is_ok());
        assert!(parse_bbox("10.6,43.8,10.5,43.9", &crs84).is_err());
        assert!(parse_bbox("10.5,43.8,10.6", &crs84).is_err());
        assert!(parse_bbox("a,b,c,d", &crs84).is_err());
        assert!(parse_bbox("10,43,200,44", &crs84).is_err());
    }

    #[test]
    fn query_encoding() {
        assert_eq!(encode("nome = 'a b'"), "nome%20%3D%20%27a%20b%27");
        assert_eq!(
            with_query("http://x/items", &[("bbox", "1,2"), ("f", "json")]),
            "http://x/items?bbox=1%2C2&f=json"
        );
    }
}
