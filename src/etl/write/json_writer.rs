//! JSON: an array with one object per row, keys in column order, typed values (numbers
//! as numbers, booleans, `null`, dates and datetimes as ISO 8601 strings).
//!
//! Streamed: each row is serialized by serde_json straight into a buffered file, one
//! object per line, so memory does not grow with the table. Non-finite floats become
//! `null` (JSON has no NaN). Integers beyond 2^53 are written exactly, but JavaScript
//! clients will round them. Point layers get `longitude` and `latitude` members (WGS84,
//! 7 decimals), like the CSV.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use geo_types::Geometry;
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::WriteError;
use super::cells::{Cell, Columns, IsoDate, IsoDatetime, unique_name};
use super::geometry::{is_point_layer, round7};

pub(crate) fn write(
    columns: &Columns<'_>,
    geoms: Option<&[Option<Geometry<f64>>]>,
    path: &Path,
) -> Result<(), WriteError> {
    let file = File::create(path).map_err(|e| WriteError::io(path, "creating the file", e))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let io = |e| WriteError::io(path, "writing the file", e);

    let points = geoms.filter(|g| is_point_layer(g));
    let lon = unique_name("longitude", columns.names());
    let lat = unique_name("latitude", columns.names().chain([lon.as_str()]));

    out.write_all(b"[").map_err(io)?;
    for row in 0..columns.height {
        out.write_all(if row == 0 { b"\n" } else { b",\n" })
            .map_err(io)?;
        let coords = points.map(|p| match &p[row] {
            Some(Geometry::Point(p)) => [(lon.as_str(), Some(p.x())), (lat.as_str(), Some(p.y()))],
            _ => [(lon.as_str(), None), (lat.as_str(), None)],
        });
        let object = RowObject {
            columns,
            row,
            extra: coords.as_ref().map_or(&[], |c| c.as_slice()),
        };
        serde_json::to_writer(&mut out, &object)
            .map_err(|e| WriteError::encode(path, format!("writing row {}", row + 1), e))?;
    }
    out.write_all(if columns.height == 0 {
        b"]\n"
    } else {
        b"\n]\n"
    })
    .map_err(io)?;
    out.flush().map_err(io)
}

/// One row as a JSON object: the columns, then `extra` members (coordinates rounded to
/// 7 decimals).
pub(crate) struct RowObject<'c, 'a> {
    pub columns: &'c Columns<'a>,
    pub row: usize,
    pub extra: &'c [(&'c str, Option<f64>)],
}

impl Serialize for RowObject<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.cols.len() + self.extra.len()))?;
        for col in &self.columns.cols {
            map.serialize_entry(col.name, &CellValue(col.get(self.row)))?;
        }
        for (name, value) in self.extra {
            map.serialize_entry(name, &value.map(round7))?;
        }
        map.end()
    }
}

/// A cell as a typed JSON value.
pub(crate) struct CellValue<'a>(pub Cell<'a>);

impl Serialize for CellValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Null => serializer.serialize_none(),
            Cell::Str(s) => serializer.serialize_str(s),
            Cell::Int(v) => serializer.serialize_i64(v),
            Cell::Float(v) if v.is_finite() => serializer.serialize_f64(v),
            Cell::Float(_) => serializer.serialize_none(),
            Cell::Bool(v) => serializer.serialize_bool(v),
            Cell::Date(d) => serializer.collect_str(&IsoDate(d)),
            Cell::Datetime(dt) => serializer.collect_str(&IsoDatetime(dt)),
        }
    }
}
