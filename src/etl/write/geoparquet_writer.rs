//! GeoParquet 1.1: the attribute columns as they are typed in the frame, plus a
//! `geometry` Binary column of ISO WKB (little-endian, 2D), and the file-level key-value
//! metadata key `geo` that makes a Parquet file a GeoParquet file:
//!
//! ```json
//! {"version":"1.1.0","primary_column":"geometry",
//!  "columns":{"geometry":{"encoding":"WKB","geometry_types":["Polygon","MultiPolygon"],
//!                         "bbox":[minx,miny,maxx,maxy],"orientation":"counterclockwise"}}}
//! ```
//!
//! `crs` is omitted, which the specification defines as OGC:CRS84 (longitude/latitude
//! WGS84): exactly what the table holds. `orientation` is stated because the writers
//! rewind every polygon. WKB comes from geozero, the Parquet file from polars'
//! writer, whose `with_key_value_metadata` carries the `geo` key (no hand-written Parquet).
//!
//! Pitfalls: the geometry column is named `geometry` unless the table already has a
//! column of that name, then `geometry_1` and so on (`primary_column` says which).
//! Compression is Snappy, the codec every Parquet reader (GDAL's Arrow driver, DuckDB,
//! pyarrow, older Spark) has; zstd would be ~20% smaller.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use geozero::{CoordDimensions, ToWkb};
use polars::prelude::{
    BinaryChunked, IntoColumn, IntoSeries, KeyValueMetadata, NewChunkedArray, ParquetCompression,
    ParquetWriter, PlSmallStr,
};
use serde_json::json;

use super::WriteError;
use super::cells::unique_name;
use super::geometry::PreparedGeoms;
use crate::etl::table::Table;

pub(crate) fn write(
    table: &Table,
    geoms: &PreparedGeoms<'_>,
    path: &Path,
) -> Result<(), WriteError> {
    let names: Vec<&str> = table
        .df
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    let geometry = unique_name("geometry", names.iter().copied());

    let mut wkbs = Vec::with_capacity(geoms.geoms.len());
    for (row, geom) in geoms.geoms.iter().enumerate() {
        let wkb = match geom {
            Some(g) => Some(g.to_wkb(CoordDimensions::xy()).map_err(|e| {
                WriteError::encode(
                    path,
                    format!("row {}: encoding the geometry as WKB", row + 1),
                    e,
                )
            })?),
            None => None,
        };
        wkbs.push(wkb);
    }
    let column =
        BinaryChunked::from_iter_options(PlSmallStr::from(geometry.as_str()), wkbs.into_iter())
            .into_series()
            .into_column();
    let mut df = table.df.clone();
    df.with_column(column)
        .map_err(|e| WriteError::encode(path, "adding the geometry column", e))?;

    let metadata = geo_metadata(&geometry, geoms);
    let file = File::create(path).map_err(|e| WriteError::io(path, "creating the file", e))?;
    ParquetWriter::new(BufWriter::with_capacity(1 << 16, file))
        .with_compression(ParquetCompression::Snappy)
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
            "geo".to_string(),
            metadata.to_string(),
        )])))
        .finish(&mut df)
        .map_err(|e| WriteError::encode(path, "writing the Parquet file", e))?;
    Ok(())
}

/// The `geo` metadata value (GeoParquet 1.1.0 schema).
fn geo_metadata(column: &str, geoms: &PreparedGeoms<'_>) -> serde_json::Value {
    let types: Vec<&str> = geoms.types.iter().map(|t| t.name()).collect();
    let mut spec = json!({
        "encoding": "WKB",
        "geometry_types": types,
        "orientation": "counterclockwise",
    });
    if let (Some(bbox), Some(obj)) = (geoms.bbox, spec.as_object_mut()) {
        obj.insert(
            "bbox".to_string(),
            json!([bbox.min().x, bbox.min().y, bbox.max().x, bbox.max().y]),
        );
    }
    json!({
        "version": "1.1.0",
        "primary_column": column,
        "columns": { column: spec },
    })
}
