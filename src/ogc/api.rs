//! The API's routes and parameters, defined once: the HTTP adapter registers exactly
//! [`ROUTES`], the request checks accept exactly each route's [`Param`]s (anything else is
//! a 400), and [`openapi`] describes both, so `/ogc/api` cannot drift from what is served.
//!
//! Paths are relative to `/ogc` and use `{collectionId}` / `{featureId}` captures, a syntax
//! axum and OpenAPI share. The OpenAPI document expands the collection paths once per
//! collection (as pygeoapi does), so each collection's items path lists its own
//! queryable properties as parameters.

use serde_json::{Map, Value as Json, json};

use super::crs::{CRS84, offered_uris};
use super::error::OgcError;
use crate::model::{Dataset, FieldType};

/// What a route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Landing,
    Api,
    Conformance,
    Collections,
    Collection,
    Queryables,
    Items,
    Item,
}

/// A query parameter of the API (besides the queryable properties of `items`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Param {
    F,
    Limit,
    Offset,
    Bbox,
    BboxCrs,
    Datetime,
    Crs,
    Filter,
    FilterLang,
    FilterCrs,
}

/// One route: path (relative to `/ogc`), what it serves, its summary and parameters.
#[derive(Debug)]
pub struct Route {
    pub endpoint: Endpoint,
    pub path: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
}

const ITEMS_PARAMS: &[Param] = &[
    Param::F,
    Param::Limit,
    Param::Offset,
    Param::Bbox,
    Param::BboxCrs,
    Param::Datetime,
    Param::Crs,
    Param::Filter,
    Param::FilterLang,
    Param::FilterCrs,
];

/// Every route of the API, in the order the OpenAPI document lists them.
pub const ROUTES: &[Route] = &[
    Route {
        endpoint: Endpoint::Landing,
        path: "/",
        summary: "Pagina iniziale dell'API (landing page)",
        params: &[Param::F],
    },
    Route {
        endpoint: Endpoint::Api,
        path: "/api",
        summary: "Questo documento OpenAPI 3.0 (API definition)",
        params: &[Param::F],
    },
    Route {
        endpoint: Endpoint::Conformance,
        path: "/conformance",
        summary: "Classi di conformità implementate (conformance declaration)",
        params: &[Param::F],
    },
    Route {
        endpoint: Endpoint::Collections,
        path: "/collections",
        summary: "Le raccolte di oggetti geografici (feature collections)",
        params: &[Param::F],
    },
    Route {
        endpoint: Endpoint::Collection,
        path: "/collections/{collectionId}",
        summary: "Descrizione della raccolta (collection)",
        params: &[Param::F],
    },
    Route {
        endpoint: Endpoint::Queryables,
        path: "/collections/{collectionId}/queryables",
        summary: "Proprietà interrogabili, JSON Schema (queryables)",
        params: &[Param::F],
    },
    Route {
        endpoint: Endpoint::Items,
        path: "/collections/{collectionId}/items",
        summary: "Oggetti della raccolta, con filtri e paginazione (features)",
        params: ITEMS_PARAMS,
    },
    Route {
        endpoint: Endpoint::Item,
        path: "/collections/{collectionId}/items/{featureId}",
        summary: "Un oggetto della raccolta (feature)",
        params: &[Param::F, Param::Crs],
    },
];

/// The route serving `endpoint`.
pub fn route(endpoint: Endpoint) -> &'static Route {
    // Every endpoint has exactly one route; the fallback is never taken.
    ROUTES
        .iter()
        .find(|r| r.endpoint == endpoint)
        .unwrap_or(&ROUTES[0])
}

impl Param {
    pub const ALL: [Param; 10] = [
        Param::F,
        Param::Limit,
        Param::Offset,
        Param::Bbox,
        Param::BboxCrs,
        Param::Datetime,
        Param::Crs,
        Param::Filter,
        Param::FilterLang,
        Param::FilterCrs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Param::F => "f",
            Param::Limit => "limit",
            Param::Offset => "offset",
            Param::Bbox => "bbox",
            Param::BboxCrs => "bbox-crs",
            Param::Datetime => "datetime",
            Param::Crs => "crs",
            Param::Filter => "filter",
            Param::FilterLang => "filter-lang",
            Param::FilterCrs => "filter-crs",
        }
    }

    pub fn from_name(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.name() == name)
    }

    fn description(self) -> &'static str {
        match self {
            Param::F => {
                "Formato della risposta: `json` o `html`; prevale sull'intestazione Accept. \
                 Response format, overrides the Accept header."
            }
            Param::Limit => {
                "Numero massimo di oggetti nella pagina (predefinito 10; oltre 10000 vale \
                 10000). Page size (default 10, values above 10000 are clamped)."
            }
            Param::Offset => {
                "Oggetti da saltare: la pagina inizia dall'oggetto `offset` (da 0); i link \
                 `next` e `prev` lo impostano. Features to skip (paging)."
            }
            Param::Bbox => {
                "Riquadro: x1,y1,x2,y2 (o 6 numeri con le quote) in `bbox-crs`, nell'ordine \
                 degli assi di quel sistema. Only features meeting the box."
            }
            Param::BboxCrs => "Sistema di riferimento di `bbox` (predefinito CRS84). CRS of bbox.",
            Param::Datetime => {
                "Istante o intervallo (`inizio/fine`, `..` per aperto) sulla prima colonna \
                 di data della raccolta. Instant or interval on the first date field."
            }
            Param::Crs => {
                "Sistema di riferimento delle geometrie nella risposta, nel suo ordine degli \
                 assi (EPSG:4326 e 6707 hanno prima la latitudine/nord). Response CRS."
            }
            Param::Filter => "Filtro CQL2 (testo o JSON secondo `filter-lang`). CQL2 filter.",
            Param::FilterLang => "Linguaggio del filtro: cql2-text (predefinito) o cql2-json.",
            Param::FilterCrs => {
                "Sistema di riferimento delle geometrie nel filtro (predefinito CRS84)."
            }
        }
    }

    fn schema(self) -> Json {
        let crs =
            || json!({"type": "string", "format": "uri", "enum": offered_uris(), "default": CRS84});
        match self {
            Param::F => json!({"type": "string", "enum": ["json", "html"]}),
            Param::Limit => {
                json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT})
            }
            Param::Offset => json!({"type": "integer", "minimum": 0, "default": 0}),
            Param::Bbox => json!({
                "type": "array", "minItems": 4, "maxItems": 6,
                "items": {"type": "number"}
            }),
            Param::BboxCrs | Param::Crs | Param::FilterCrs => crs(),
            // An empty value is refused (400), so the schema says so.
            Param::Datetime | Param::Filter => json!({"type": "string", "minLength": 1}),
            Param::FilterLang => {
                json!({"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"})
            }
        }
    }

    fn openapi(self) -> Json {
        // `style: form, explode: false`, as the OpenAPI fragments of OGC 17-069r4 give them.
        json!({
            "name": self.name(),
            "in": "query",
            "required": false,
            "description": self.description(),
            "schema": self.schema(),
            "style": "form",
            "explode": false,
        })
    }
}

/// `limit` when absent.
pub const DEFAULT_LIMIT: u64 = 10;
/// The largest page; larger `limit`s are clamped to it.
pub const MAX_LIMIT: u64 = 10_000;

/// A request's query parameters, checked against a route: each known at most once.
#[derive(Debug, Default)]
pub struct Params<'a> {
    standard: Vec<(Param, &'a str)>,
    /// `name=value` pairs naming queryable properties (items only).
    pub properties: Vec<(&'a str, &'a str)>,
}

impl<'a> Params<'a> {
    /// Checks `query` against `route`: a parameter that is neither the route's nor (for
    /// items) one of `properties` is a 400, and so is one given twice.
    pub fn check(
        route: &Route,
        query: &'a [(String, String)],
        properties: &[&str],
    ) -> Result<Params<'a>, OgcError> {
        let mut out = Params::default();
        for (name, value) in query {
            let known = Param::from_name(name).filter(|p| route.params.contains(p));
            let seen = out.standard.iter().any(|(p, _)| p.name() == name)
                || out.properties.iter().any(|(n, _)| n == name);
            if seen {
                return Err(OgcError::param(name, "given more than once"));
            }
            match known {
                Some(p) => out.standard.push((p, value)),
                None if route.endpoint == Endpoint::Items
                    && properties.contains(&name.as_str()) =>
                {
                    out.properties.push((name, value))
                }
                None => {
                    let mut allowed: Vec<&str> = route.params.iter().map(|p| p.name()).collect();
                    if route.endpoint == Endpoint::Items {
                        allowed.extend(properties);
                    }
                    return Err(OgcError::invalid(format!(
                        "unknown parameter {name:?}; this resource takes: {}",
                        allowed.join(", ")
                    )));
                }
            }
        }
        Ok(out)
    }

    pub fn get(&self, p: Param) -> Option<&'a str> {
        self.standard.iter().find(|(q, _)| *q == p).map(|(_, v)| *v)
    }
}

/// The OpenAPI 3.0 document of the API for these collections.
pub fn openapi(title: &str, description: &str, server: &str, collections: &[&Dataset]) -> Json {
    let mut paths = Map::new();
    for r in ROUTES {
        if r.path.contains("{collectionId}") {
            for d in collections {
                let path = r.path.replace("{collectionId}", &d.id);
                paths.insert(path, json!({"get": operation(r, Some(d))}));
            }
        } else {
            paths.insert(r.path.to_string(), json!({"get": operation(r, None)}));
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": title,
            "description": description,
            "version": crate::VERSION,
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": "Capabilities", "description": "Pagina iniziale, conformità, raccolte"},
            {"name": "Data", "description": "Oggetti geografici"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "responses": {
                "400": response("Parametro non valido (InvalidParameterValue)", "application/json", "#/components/schemas/exception"),
                "404": response("Risorsa inesistente (NotFound)", "application/json", "#/components/schemas/exception"),
                "500": response("Errore del server (ServerError)", "application/json", "#/components/schemas/exception"),
            }
        }
    })
}

fn response(description: &str, media: &str, schema: &str) -> Json {
    json!({
        "description": description,
        "content": {media: {"schema": {"$ref": schema}}}
    })
}

fn field_schema(t: FieldType) -> Json {
    match t {
        FieldType::String => json!({"type": "string"}),
        FieldType::Integer => json!({"type": "integer"}),
        FieldType::Number => json!({"type": "number"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Datetime => json!({"type": "string", "format": "date-time"}),
    }
}

fn operation(r: &Route, d: Option<&Dataset>) -> Json {
    let suffix = d.map(|d| format!("_{}", d.id)).unwrap_or_default();
    let (id, tag, media, schema) = match r.endpoint {
        Endpoint::Landing => (
            "getLandingPage",
            "Capabilities",
            "application/json",
            "landingPage",
        ),
        Endpoint::Api => (
            "getApiDefinition",
            "Capabilities",
            "application/vnd.oai.openapi+json;version=3.0",
            "openapi",
        ),
        Endpoint::Conformance => (
            "getConformance",
            "Capabilities",
            "application/json",
            "confClasses",
        ),
        Endpoint::Collections => (
            "getCollections",
            "Capabilities",
            "application/json",
            "collections",
        ),
        Endpoint::Collection => (
            "describeCollection",
            "Capabilities",
            "application/json",
            "collection",
        ),
        Endpoint::Queryables => (
            "getQueryables",
            "Capabilities",
            "application/schema+json",
            "queryables",
        ),
        Endpoint::Items => (
            "getFeatures",
            "Data",
            "application/geo+json",
            "featureCollectionGeoJSON",
        ),
        Endpoint::Item => (
            "getFeature",
            "Data",
            "application/geo+json",
            "featureGeoJSON",
        ),
    };
    let mut params: Vec<Json> = r.params.iter().map(|p| p.openapi()).collect();
    if r.endpoint == Endpoint::Item {
        params.insert(
            0,
            json!({
                "name": "featureId", "in": "path", "required": true,
                "description": "Identificativo dell'oggetto: il numero di riga (da 1), lo stesso `id` del download GeoJSON.",
                "schema": {"type": "integer", "minimum": 1}
            }),
        );
    }
    if let (Endpoint::Items, Some(d)) = (r.endpoint, d) {
        for f in &d.fields {
            if Param::from_name(&f.name).is_some() {
                continue;
            }
            params.push(json!({
                "name": f.name, "in": "query", "required": false,
                "description": format!(
                    "Solo gli oggetti con {} uguale al valore. {}",
                    f.name,
                    f.description.as_deref().unwrap_or("")
                ).trim_end().to_string(),
                "schema": field_schema(f.field_type),
                "style": "form",
                "explode": false,
            }));
        }
    }
    let mut responses = Map::new();
    let mut content = Map::new();
    content.insert(
        media.to_string(),
        json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}}),
    );
    content.insert(
        "text/html".to_string(),
        json!({"schema": {"type": "string"}}),
    );
    responses.insert(
        "200".into(),
        json!({"description": "OK", "content": content}),
    );
    responses.insert("400".into(), json!({"$ref": "#/components/responses/400"}));
    if d.is_some() {
        responses.insert("404".into(), json!({"$ref": "#/components/responses/404"}));
    }
    responses.insert("500".into(), json!({"$ref": "#/components/responses/500"}));
    let summary = match d {
        Some(d) => format!("{}: {}", r.summary, d.meta.title),
        None => r.summary.to_string(),
    };
    json!({
        "operationId": format!("{id}{suffix}"),
        "summary": summary,
        "tags": [tag],
        "parameters": params,
        "responses": responses,
    })
}

fn schemas() -> Json {
    let link = json!({
        "type": "object", "required": ["href", "rel"],
        "properties": {
            "href": {"type": "string"}, "rel": {"type": "string"},
            "type": {"type": "string"}, "title": {"type": "string"}
        }
    });
    let links = json!({"type": "array", "items": {"$ref": "#/components/schemas/link"}});
    json!({
        "exception": {
            "type": "object", "required": ["code"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}}
        },
        "link": link,
        "landingPage": {
            "type": "object", "required": ["links"],
            "properties": {"title": {"type": "string"}, "description": {"type": "string"}, "links": links}
        },
        "openapi": {"type": "object"},
        "confClasses": {
            "type": "object", "required": ["conformsTo"],
            "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}
        },
        "collection": {
            "type": "object", "required": ["id", "links"],
            "properties": {
                "id": {"type": "string"}, "title": {"type": "string"},
                "description": {"type": "string"}, "links": links,
                "extent": {"type": "object"}, "itemType": {"type": "string"},
                "crs": {"type": "array", "items": {"type": "string"}},
                "storageCrs": {"type": "string"}
            }
        },
        "collections": {
            "type": "object", "required": ["links", "collections"],
            "properties": {
                "links": links,
                "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}
            }
        },
        "queryables": {"type": "object"},
        "featureGeoJSON": {
            "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "id": {"type": "integer"},
                "geometry": {"type": "object", "nullable": true},
                "properties": {"type": "object", "nullable": true},
                "links": links
            }
        },
        "featureCollectionGeoJSON": {
            "type": "object", "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                "links": links,
                "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn unknown_and_repeated_parameters() {
        let items = route(Endpoint::Items);
        let query = q(&[("limit", "5"), ("frazione", "Lammari")]);
        let p = Params::check(items, &query, &["frazione"]).unwrap();
        assert_eq!(p.get(Param::Limit), Some("5"));
        assert_eq!(p.properties, [("frazione", "Lammari")]);
        let query = q(&[("limti", "5")]);
        let e = Params::check(items, &query, &["frazione"]).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.description().contains("\"limti\""), "{e}");
        let query = q(&[("limit", "5"), ("limit", "6")]);
        assert!(Params::check(items, &query, &[]).is_err());
        // Properties are items parameters only.
        let query = q(&[("frazione", "Lammari")]);
        assert!(Params::check(route(Endpoint::Collection), &query, &["frazione"]).is_err());
        let query = q(&[("bbox", "1,2,3,4")]);
        assert!(Params::check(route(Endpoint::Item), &query, &[]).is_err());
    }

    #[test]
    fn every_endpoint_has_one_route() {
        for e in [
            Endpoint::Landing,
            Endpoint::Api,
            Endpoint::Conformance,
            Endpoint::Collections,
            Endpoint::Collection,
            Endpoint::Queryables,
            Endpoint::Items,
            Endpoint::Item,
        ] {
            assert_eq!(ROUTES.iter().filter(|r| r.endpoint == e).count(), 1);
            assert_eq!(route(e).endpoint, e);
        }
    }
}
