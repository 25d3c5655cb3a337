//! GeoJSON (RFC 7946): one FeatureCollection, longitude/latitude WGS84, coordinates
//! rounded to 7 decimals (about 1 cm; RFC 7946 §11.2 recommends 6), exterior rings
//! counter-clockwise and holes clockwise (§3.1.6), typed properties, `id` = row number
//! (1-based, the GeoPackage `fid` of the same row), `geometry: null` for rows without one.
//!
//! Streamed like the JSON writer: the collection's envelope is written by hand, each
//! feature by serde_json (geometries through the `geojson` crate), one feature per line,
//! so a million-point layer never sits in memory as one JSON value.
//!
//! The collection carries a `name` member (the layer name), the foreign member GDAL
//! writes and reads as the layer name; RFC 7946 forbids `crs`, so there is none.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use geo_types::Geometry;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::WriteError;
use super::cells::Columns;
use super::geometry::{PreparedGeoms, rounded};
use super::json_writer::RowObject;

pub(crate) fn write(
    columns: &Columns<'_>,
    geoms: &PreparedGeoms<'_>,
    path: &Path,
    layer_name: &str,
) -> Result<(), WriteError> {
    let file = File::create(path).map_err(|e| WriteError::io(path, "creating the file", e))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let io = |e| WriteError::io(path, "writing the file", e);

    out.write_all(b"{\"type\":\"FeatureCollection\",\"name\":")
        .map_err(io)?;
    serde_json::to_writer(&mut out, layer_name)
        .map_err(|e| WriteError::encode(path, "writing the layer name", e))?;
    out.write_all(b",\"features\":[").map_err(io)?;
    for (row, geom) in geoms.geoms.iter().enumerate() {
        out.write_all(if row == 0 { b"\n" } else { b",\n" })
            .map_err(io)?;
        let feature = Feature {
            id: row + 1,
            geometry: geom.as_ref().map(|g| to_geojson(g)),
            properties: RowObject {
                columns,
                row,
                extra: &[],
            },
        };
        serde_json::to_writer(&mut out, &feature)
            .map_err(|e| WriteError::encode(path, format!("writing feature {}", row + 1), e))?;
    }
    out.write_all(if geoms.geoms.is_empty() {
        b"]}\n".as_slice()
    } else {
        b"\n]}\n".as_slice()
    })
    .map_err(io)?;
    out.flush().map_err(io)
}

fn to_geojson(geom: &Geometry<f64>) -> geojson::Geometry {
    geojson::Geometry::new(geojson::Value::from(&rounded(geom)))
}

struct Feature<'c, 'a> {
    id: usize,
    geometry: Option<geojson::Geometry>,
    properties: RowObject<'c, 'a>,
}

impl Serialize for Feature<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", "Feature")?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("geometry", &self.geometry)?;
        map.serialize_entry("properties", &self.properties)?;
        map.end()
    }
}
