//! The documents that tell map clients about a layer's tiles: TileJSON 3.0.0 and a
//! MapLibre GL style (version 8). Plain functions of the manifest; the server decides the
//! URLs (from the catalogue's public base URL) and sends the JSON.
//!
//! Pitfalls:
//!
//! * TileJSON 3.0.0 requires `tilejson`, `tiles` and `vector_layers`, each layer with `id`
//!   and `fields` (an object, empty when there are none). Field values are the type names
//!   tippecanoe uses (`String`, `Number`, `Boolean`); the specification allows any string.
//! * MapLibre's `geometry-type` expression says `MultiPolygon` for multi-part features in
//!   recent versions and `Polygon` in older ones: the style's filters accept both.
//! * A style with a `symbol` layer needs a `glyphs` URL, and Portale serves no glyphs
//!   (no npm package ships them; the demo font server would be an outside request from
//!   every page with a map). So the style draws no text labels; it names the field that
//!   would label the features in its metadata (`portale:label_field`) for clients that
//!   bring their own fonts, and the pages show attributes in popups instead.

use serde_json::{Value, json};

use super::{attribution, field_type_name};
use crate::model::{Dataset, FieldType, GeometryType, TileSet};

/// Colours of Bootstrap Italia (the Italian public administration's design system).
const BLUE: &str = "#0066cc";
const DARK_BLUE: &str = "#004d99";
const GREEN: &str = "#008758";
const BACKGROUND: &str = "#f5f7fa";

/// Column names that make good labels, best first (Italian and English).
const LABEL_COLUMNS: &[&str] = &[
    "denominazione",
    "nome",
    "name",
    "titolo",
    "title",
    "descrizione",
    "comune",
    "via",
    "indirizzo",
];

/// The `vector_layers` entry of a layer.
pub fn vector_layer(dataset: &Dataset, tiles: &TileSet) -> Value {
    let fields: serde_json::Map<String, Value> = dataset
        .fields
        .iter()
        .map(|f| (f.name.clone(), field_type_name(f.field_type).into()))
        .collect();
    json!({
        "id": tiles.layer,
        "description": dataset.meta.title,
        "minzoom": tiles.min_zoom,
        "maxzoom": tiles.max_zoom,
        "fields": fields,
    })
}

/// TileJSON 3.0.0 for a layer; `tiles_url` is the `{z}/{x}/{y}` URL template.
pub fn tilejson(dataset: &Dataset, tiles: &TileSet, tiles_url: &str) -> Value {
    json!({
        "tilejson": "3.0.0",
        "name": dataset.meta.title,
        "description": dataset.meta.description,
        "attribution": attribution(&dataset.meta),
        "scheme": "xyz",
        "tiles": [tiles_url],
        "minzoom": tiles.min_zoom,
        "maxzoom": tiles.max_zoom,
        "bounds": tiles.bounds,
        "center": tiles.center,
        "vector_layers": [vector_layer(dataset, tiles)],
    })
}

/// The column a label layer shows: the first string column named like a name.
pub fn label_field(dataset: &Dataset) -> Option<&str> {
    let strings = || {
        dataset
            .fields
            .iter()
            .filter(|f| f.field_type == FieldType::String)
    };
    LABEL_COLUMNS.iter().find_map(|want| {
        strings()
            .find(|f| f.name == *want)
            .or_else(|| strings().find(|f| f.name.starts_with(&format!("{want}_"))))
            .map(|f| f.name.as_str())
    })
}

/// Whether a layer needs style layers for points, lines and polygons (all three for mixed
/// or unknown geometries).
pub fn drawn_kinds(dataset: &Dataset) -> (bool, bool, bool) {
    let kind = dataset
        .layer
        .as_ref()
        .map_or(GeometryType::Geometry, |l| l.geometry_type);
    match kind {
        GeometryType::Point | GeometryType::MultiPoint => (true, false, false),
        GeometryType::LineString | GeometryType::MultiLineString => (false, true, false),
        GeometryType::Polygon | GeometryType::MultiPolygon => (false, false, true),
        GeometryType::Geometry => (true, true, true),
    }
}

/// A MapLibre GL style (v8) drawing the layer over a plain background; `tilejson_url` is
/// the layer's TileJSON.
pub fn style(dataset: &Dataset, tiles: &TileSet, tilejson_url: &str) -> Value {
    let source = dataset.id.as_str();
    let (points, lines, polygons) = drawn_kinds(dataset);
    let is = |types: [&str; 2]| json!(["match", ["geometry-type"], types, true, false]);
    let base = |id: &str, kind: &str, filter: Value| {
        json!({
            "id": format!("{source}-{id}"),
            "type": kind,
            "source": source,
            "source-layer": tiles.layer,
            "filter": filter,
        })
    };
    let with = |mut layer: Value, key: &str, value: Value| {
        if let Some(obj) = layer.as_object_mut() {
            obj.insert(key.to_string(), value);
        }
        layer
    };
    let mut layers = vec![json!({
        "id": "background",
        "type": "background",
        "paint": {"background-color": BACKGROUND},
    })];
    if polygons {
        let filter = is(["Polygon", "MultiPolygon"]);
        layers.push(with(
            base("fill", "fill", filter.clone()),
            "paint",
            json!({"fill-color": BLUE, "fill-opacity": 0.2}),
        ));
        layers.push(with(
            base("outline", "line", filter),
            "paint",
            json!({
                "line-color": DARK_BLUE,
                "line-width": ["interpolate", ["linear"], ["zoom"], 6, 0.5, 14, 2],
            }),
        ));
    }
    if lines {
        let line = with(
            base("line", "line", is(["LineString", "MultiLineString"])),
            "paint",
            json!({
                "line-color": GREEN,
                "line-width": ["interpolate", ["linear"], ["zoom"], 6, 1, 16, 4],
            }),
        );
        layers.push(with(
            line,
            "layout",
            json!({"line-cap": "round", "line-join": "round"}),
        ));
    }
    if points {
        layers.push(with(
            base("circle", "circle", is(["Point", "MultiPoint"])),
            "paint",
            json!({
                "circle-color": BLUE,
                "circle-radius": ["interpolate", ["linear"], ["zoom"], 6, 2.5, 16, 7],
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1.5,
            }),
        ));
    }
    let label = label_field(dataset);
    json!({
        "version": 8,
        "name": dataset.meta.title,
        "metadata": {"portale:dataset": dataset.id, "portale:label_field": label},
        "center": [tiles.center[0], tiles.center[1]],
        "zoom": tiles.center[2],
        "sources": {
            source: {
                "type": "vector",
                "url": tilejson_url,
                "attribution": attribution(&dataset.meta),
            }
        },
        "layers": layers,
    })
}
