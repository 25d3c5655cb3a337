//! GeoJSON reader: a FeatureCollection, a single Feature or a bare Geometry.
//!
//! Properties become text columns in first-seen order: strings as they are, numbers as
//! their JSON text, booleans `true`/`false`, `null` as null, objects and arrays as JSON
//! text. A feature-level `id` becomes an `id` column when no property has that name.
//! Geometries go through the `geojson` crate to geo-types, in the file's CRS: WGS84
//! unless an old-style (2008) `crs` member names another one, which is honoured and
//! reported. Rings are left as they come; the geometry step rewinds them.
//!
//! Pitfall seen in real data: Desio's `defibrillatori.geojson` writes every coordinate
//! as a JSON string (`["9.205079", "45.626687"]`), which GDAL and the `geojson` crate
//! reject. Numeric strings inside `coordinates` are converted to numbers and the count
//! is reported as `coordinates_as_strings`, so the data is read and the defect is seen.

use std::path::Path;

use geo_types::Geometry;
use serde_json::{Map, Value};

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::new(path, "the file is empty"));
    }
    let root: Value = serde_json::from_slice(bytes).map_err(|e| {
        ReadError::new(
            path,
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let mut detected = Vec::new();
    let crs = match root.get("crs") {
        Some(member) => {
            let code = crs_member_epsg(member).ok_or_else(|| {
                ReadError::new(
                    path,
                    format!("unrecognised \"crs\" member {member}: expected an EPSG code"),
                )
            })?;
            detected.push(("crs".to_string(), format!("EPSG:{code}")));
            code
        }
        None => 4326,
    };

    let features: Vec<Value> = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match root {
            Value::Object(mut o) => match o.remove("features") {
                Some(Value::Array(features)) => features,
                _ => {
                    return Err(ReadError::new(
                        path,
                        "the FeatureCollection has no \"features\" array",
                    ));
                }
            },
            _ => Vec::new(),
        },
        Some("Feature") => vec![root],
        Some(
            "Point" | "MultiPoint" | "LineString" | "MultiLineString" | "Polygon" | "MultiPolygon"
            | "GeometryCollection",
        ) => {
            let mut feature = Map::new();
            feature.insert("type".into(), Value::String("Feature".into()));
            feature.insert("geometry".into(), root);
            feature.insert("properties".into(), Value::Object(Map::new()));
            vec![Value::Object(feature)]
        }
        other => {
            return Err(ReadError::new(
                path,
                format!(
                    "not GeoJSON: the top-level \"type\" is {}, expected FeatureCollection, \
                     Feature or a geometry type",
                    other.map_or_else(|| "missing".to_string(), |t| format!("\"{t}\""))
                ),
            ));
        }
    };
    if features.is_empty() {
        return Err(ReadError::new(path, "no features: the collection is empty"));
    }

    let has_id_property = features.iter().any(|f| {
        f.get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.contains_key("id"))
    });
    let mut columns = ColumnsBuilder::new(Cleaner::new(opts));
    let mut rows = Vec::with_capacity(features.len());
    let mut geoms = Vec::with_capacity(features.len());
    let mut string_coordinates = 0usize;
    for (i, mut value) in features.into_iter().enumerate() {
        let row = i as u64 + 1;
        if let Some(g) = value.get_mut("geometry") {
            string_coordinates += numbers_from_strings(g);
        }
        let feature = match value {
            Value::Object(o) => ::geojson::Feature::from_json_object(o),
            _ => {
                return Err(ReadError::new(path, "feature is not a JSON object").at_row(row));
            }
        }
        .map_err(|e| ReadError::new(path, format!("invalid feature: {e}")).at_row(row))?;
        let geometry =
            match feature.geometry {
                Some(g) => Some(Geometry::<f64>::try_from(&g.value).map_err(|e| {
                    ReadError::new(path, format!("invalid geometry: {e}")).at_row(row)
                })?),
                None => None,
            };
        if let (Some(id), false) = (&feature.id, has_id_property) {
            let text = match id {
                ::geojson::feature::Id::String(s) => s.clone(),
                ::geojson::feature::Id::Number(n) => n.to_string(),
            };
            let c = columns.column("id");
            columns.push(c, Some(&text));
        }
        for (key, v) in feature.properties.iter().flatten() {
            let c = columns.column(key);
            let text = json_text(v);
            columns.push(c, text.as_deref());
        }
        columns.end_row();
        rows.push(row);
        geoms.push(geometry);
    }
    if string_coordinates > 0 {
        detected.push((
            "coordinates_as_strings".to_string(),
            string_coordinates.to_string(),
        ));
    }
    cells::finish_table(
        path,
        columns,
        opts,
        Extras {
            rows,
            geoms: Some(geoms),
            crs: Some(crs),
            detected,
        },
    )
}

/// A property value as text; `None` for JSON null.
pub(crate) fn json_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => Some(v.to_string()),
    }
}

/// Converts numeric strings inside a geometry's `coordinates` (and nested
/// `geometries`) to JSON numbers; returns how many it converted.
fn numbers_from_strings(geometry: &mut Value) -> usize {
    fn in_coordinates(v: &mut Value) -> usize {
        match v {
            Value::Array(items) => items.iter_mut().map(in_coordinates).sum(),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => match serde_json::Number::from_f64(f) {
                    Some(n) => {
                        *v = Value::Number(n);
                        1
                    }
                    None => 0,
                },
                _ => 0,
            },
            _ => 0,
        }
    }
    let Some(obj) = geometry.as_object_mut() else {
        return 0;
    };
    let mut n = 0;
    if let Some(c) = obj.get_mut("coordinates") {
        n += in_coordinates(c);
    }
    if let Some(Value::Array(parts)) = obj.get_mut("geometries") {
        n += parts.iter_mut().map(numbers_from_strings).sum::<usize>();
    }
    n
}

/// The EPSG code of an old-style GeoJSON `crs` member:
/// `{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3003"}}` (also
/// `EPSG:3003`, OGC CRS84) or `{"type": "EPSG", "properties": {"code": 3003}}`.
fn crs_member_epsg(member: &Value) -> Option<u32> {
    let props = member.get("properties")?;
    if let Some(code) = props.get("code") {
        return code
            .as_u64()
            .and_then(|c| u32::try_from(c).ok())
            .or_else(|| code.as_str()?.trim().parse().ok());
    }
    let name = props.get("name")?.as_str()?.trim();
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("CRS84") || upper.ends_with("CRS:84") {
        return Some(4326);
    }
    if !upper.contains("EPSG") {
        return None;
    }
    // The code is the last run of digits: `urn:ogc:def:crs:EPSG::3003`, `EPSG:3003`,
    // `urn:ogc:def:crs:EPSG:6.6:3003`, `http://www.opengis.net/def/crs/EPSG/0/3003`.
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn crs_members() {
        let m = json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3003"}});
        assert_eq!(crs_member_epsg(&m), Some(3003));
        let m = json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}});
        assert_eq!(crs_member_epsg(&m), Some(4326));
        let m = json!({"type": "EPSG", "properties": {"code": 25832}});
        assert_eq!(crs_member_epsg(&m), Some(25832));
        let m = json!({"type": "name", "properties": {"name": "Monte Mario"}});
        assert_eq!(crs_member_epsg(&m), None);
    }

    #[test]
    fn string_coordinates_are_converted() {
        let mut g = json!({"type": "Point", "coordinates": ["9.2", "45.6"]});
        assert_eq!(numbers_from_strings(&mut g), 2);
        assert_eq!(g, json!({"type": "Point", "coordinates": [9.2, 45.6]}));
    }
}
