//! FlatGeobuf, written with the `flatgeobuf` crate's [`FgbWriter`]: header with CRS
//! EPSG:4326 (x = longitude), typed columns, features sorted along a Hilbert curve and
//! indexed by the packed Hilbert R-tree that lets the server and HTTP-range clients read
//! a bounding box without scanning the file.
//!
//! Column types: String → `String`, Int64 → `Long`, Float64 → `Double`, Boolean → `Bool`,
//! Date and Datetime → `DateTime` (ISO 8601 text, the only temporal type FlatGeobuf has).
//! Nulls are simply absent from a feature's property buffer, as the format intends.
//!
//! Geometry type: the layer's single type (`Polygon` + `MultiPolygon` layers are
//! declared `MultiPolygon` and their polygons promoted); `Unknown` for mixed layers,
//! where every feature then carries its own type.
//!
//! Pitfalls:
//! * Rows without a geometry (null or empty) are **left out**, exactly as GDAL's
//!   FlatGeobuf driver does: the `flatgeobuf` crate can only write a feature with a
//!   geometry, and an empty one makes GDAL stop reading the file ("Unexpected nullptr:
//!   parts data"). The other formats keep those rows; the FlatGeobuf feature count is
//!   the number of rows with a geometry.
//! * Features are reordered along the Hilbert curve of the index: row order is not
//!   preserved. The first column, `fid` (`Long`, flagged `primary_key` and `unique`), holds
//!   the row number (1-based, the `id` of the same row in the GeoJSON download and the
//!   GeoPackage `fid`), so that a feature keeps one id across formats and the OGC API can
//!   name it. GDAL still numbers features in file order and shows `fid` as a plain field.
//!   When the table has a column called `fid` already, ours is `fid_1` (then `fid_2`, ...),
//!   like the GeoPackage writer: readers find it as the first column with `primary_key`.
//! * An empty layer is written without the index (GDAL refuses a zero-item R-tree), and
//!   its header envelope is the crate's empty extent `[inf, inf, -inf, -inf]`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geo::BoundingRect;
use geozero::{ColumnValue, FeatureProcessor, GeozeroGeometry, PropertyProcessor};

use super::WriteError;
use super::cells::{Cell, Columns, IsoDate, IsoDatetime, Kind, unique_name};
use super::geometry::{GeomType, PreparedGeoms, promoted};

pub(crate) fn write(
    columns: &Columns<'_>,
    geoms: &PreparedGeoms<'_>,
    path: &Path,
    layer_name: &str,
) -> Result<(), WriteError> {
    let layer_type = geoms.layer_type();
    let options = FgbWriterOptions {
        // A zero-item tree cannot be read back by GDAL.
        write_index: geoms.missing < geoms.geoms.len(),
        // We declare the type ourselves: detection would take the first feature's type
        // and then reject a mixed layer.
        detect_type: false,
        promote_to_multi: false,
        crs: FgbCrs {
            org: Some("EPSG"),
            code: 4326,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(layer_name, fgb_type(layer_type), options)
        .map_err(|e| WriteError::encode(path, "creating the FlatGeobuf writer", e))?;
    let fid = unique_name("fid", columns.names());
    fgb.add_column(&fid, ColumnType::Long, |_, args| {
        args.nullable = false;
        args.unique = true;
        args.primary_key = true;
    });
    for col in &columns.cols {
        fgb.add_column(col.name, column_type(col.kind()), |_, args| {
            args.nullable = true;
        });
    }

    let mut text = String::new();
    for (row, geom) in geoms.geoms.iter().enumerate() {
        let Some(geom) = geom.as_ref().filter(|g| g.bounding_rect().is_some()) else {
            continue;
        };
        let feature_error =
            |e| WriteError::encode(path, format!("row {}: encoding the feature", row + 1), e);
        promoted(geom, layer_type)
            .process_geom(&mut fgb)
            .map_err(feature_error)?;
        fgb.property(0, &fid, &ColumnValue::Long(row as i64 + 1))
            .map_err(feature_error)?;
        for (i, col) in columns.cols.iter().enumerate() {
            text.clear();
            let value = match col.get(row) {
                Cell::Null => continue,
                Cell::Str(s) => ColumnValue::String(s),
                Cell::Int(v) => ColumnValue::Long(v),
                Cell::Float(v) => ColumnValue::Double(v),
                Cell::Bool(v) => ColumnValue::Bool(v),
                // Writing into a String cannot fail.
                Cell::Date(d) => {
                    let _ = write!(text, "{}", IsoDate(d));
                    ColumnValue::DateTime(&text)
                }
                Cell::Datetime(dt) => {
                    let _ = write!(text, "{}", IsoDatetime(dt));
                    ColumnValue::DateTime(&text)
                }
            };
            fgb.property(i + 1, col.name, &value)
                .map_err(feature_error)?;
        }
        fgb.feature_end(row as u64).map_err(feature_error)?;
    }

    let file = File::create(path).map_err(|e| WriteError::io(path, "creating the file", e))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    fgb.write(&mut out)
        .map_err(|e| WriteError::encode(path, "writing the FlatGeobuf file", e))?;
    out.flush()
        .map_err(|e| WriteError::io(path, "flushing the file", e))
}

fn fgb_type(layer_type: Option<GeomType>) -> GeometryType {
    match layer_type {
        Some(GeomType::Point) => GeometryType::Point,
        Some(GeomType::LineString) => GeometryType::LineString,
        Some(GeomType::Polygon) => GeometryType::Polygon,
        Some(GeomType::MultiPoint) => GeometryType::MultiPoint,
        Some(GeomType::MultiLineString) => GeometryType::MultiLineString,
        Some(GeomType::MultiPolygon) => GeometryType::MultiPolygon,
        Some(GeomType::GeometryCollection) => GeometryType::GeometryCollection,
        None => GeometryType::Unknown,
    }
}

fn column_type(kind: Kind) -> ColumnType {
    match kind {
        Kind::Str => ColumnType::String,
        Kind::Int => ColumnType::Long,
        Kind::Float => ColumnType::Double,
        Kind::Bool => ColumnType::Bool,
        Kind::Date | Kind::Datetime => ColumnType::DateTime,
    }
}
