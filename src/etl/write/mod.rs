//! Writers: one per published format, each writing a typed [`Table`] to a file.
//!
//! [`write_table`] is the single entry point: it checks the table once (supported column
//! types, geometries aligned with rows, geometries present for the geo formats), prepares
//! the geometries the way every geo format wants them, and hands over to the writer of
//! the requested [`OutputFormat`]:
//!
//! | format | file | what it holds |
//! |---|---|---|
//! | [`OutputFormat::Csv`] | `.csv` | RFC 4180: UTF-8 without BOM, `,`, CRLF, header row; point layers get `longitude`,`latitude` |
//! | [`OutputFormat::Json`] | `.json` | an array of objects, one per row, typed values; point layers get `longitude`,`latitude` |
//! | [`OutputFormat::Geojson`] | `.geojson` | RFC 7946 FeatureCollection, coordinates rounded to 7 decimals |
//! | [`OutputFormat::Geoparquet`] | `.parquet` | GeoParquet 1.1: the attributes plus a WKB `geometry` column and the `geo` metadata key |
//! | [`OutputFormat::Fgb`] | `.fgb` | FlatGeobuf with its packed Hilbert R-tree; rows without geometry left out |
//! | [`OutputFormat::Gpkg`] | `.gpkg` | GeoPackage 1.3 feature table with an R-tree spatial index |
//!
//! Writers write straight to the given path (creating or replacing it). Atomicity is the
//! caller's business: it writes into a temporary generation directory and publishes the
//! directory as a whole; after an error, a partial file may be left at the path.
//!
//! # Pitfalls
//!
//! * Geometries are WGS84 longitude/latitude, x = longitude everywhere, also in GeoPackage
//!   and FlatGeobuf where EPSG:4326's official axis order is latitude first: both formats
//!   store x/y in traditional GIS order by definition.
//! * Polygon rings are re-oriented on the way out (exterior counter-clockwise, holes
//!   clockwise, RFC 7946 §3.1.6 and GeoParquet's `orientation`), whatever the source did;
//!   the openpolis boundaries, for one, come clockwise.
//! * Layers mixing `Polygon` and `MultiPolygon` (likewise lines and points) are declared as
//!   the multi type in FlatGeobuf and GeoPackage, and their single geometries are promoted,
//!   because both formats declare one geometry type per layer. Truly mixed layers are
//!   declared `Unknown`/`GEOMETRY`.
//! * Float `NaN` and infinities have no JSON representation: they are written as `null`
//!   (JSON, GeoJSON) or an empty cell (CSV); SQLite stores NaN as NULL; Parquet and
//!   FlatGeobuf keep them. CSV cannot tell a null from an empty string.
//! * Datetime columns are naive (Portale's polars is built without time zones): text
//!   formats write them as `YYYY-MM-DDTHH:MM:SS[.fff]` without a `Z`; Parquet keeps the
//!   typed timestamp. Any time zone a column might carry is ignored.
//! * Rows whose geometry is null are kept in every format but FlatGeobuf, which (like
//!   GDAL's driver) leaves them out: see `fgb_writer.rs`.

pub(crate) mod cells;
mod csv_writer;
mod fgb_writer;
mod geojson_writer;
mod geometry;
mod geoparquet_writer;
mod gpkg_writer;
mod json_writer;

use std::fmt;
use std::path::{Path, PathBuf};

use super::table::Table;
use cells::Columns;
use geometry::PreparedGeoms;

/// The formats Portale publishes a table in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Csv,
    Json,
    Geojson,
    Geoparquet,
    Fgb,
    Gpkg,
}

impl OutputFormat {
    /// Every format, in the order distributions are usually listed.
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Csv,
        OutputFormat::Json,
        OutputFormat::Geojson,
        OutputFormat::Geoparquet,
        OutputFormat::Fgb,
        OutputFormat::Gpkg,
    ];

    /// The format's usual name, for people (`GeoParquet`, where the EU code says `BIN`).
    pub fn display_name(self) -> &'static str {
        match self {
            OutputFormat::Csv => "CSV",
            OutputFormat::Json => "JSON",
            OutputFormat::Geojson => "GeoJSON",
            OutputFormat::Geoparquet => "GeoParquet",
            OutputFormat::Fgb => "FlatGeobuf",
            OutputFormat::Gpkg => "GeoPackage",
        }
    }

    /// The format a distribution's media type names, if it is one Portale writes.
    pub fn from_media_type(media_type: &str) -> Option<OutputFormat> {
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.media_type() == media_type)
    }

    /// File name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Json => "json",
            OutputFormat::Geojson => "geojson",
            OutputFormat::Geoparquet => "parquet",
            OutputFormat::Fgb => "fgb",
            OutputFormat::Gpkg => "gpkg",
        }
    }

    /// IANA media type (`dcat:mediaType`, `Content-Type` of downloads).
    ///
    /// `application/vnd.apache.parquet` is registered with IANA (2024);
    /// `application/flatgeobuf` is what the FlatGeobuf project and GDAL use, it is not
    /// registered; `application/geopackage+sqlite3` is OGC's registered type.
    pub fn media_type(self) -> &'static str {
        match self {
            OutputFormat::Csv => "text/csv",
            OutputFormat::Json => "application/json",
            OutputFormat::Geojson => "application/geo+json",
            OutputFormat::Geoparquet => "application/vnd.apache.parquet",
            OutputFormat::Fgb => "application/flatgeobuf",
            OutputFormat::Gpkg => "application/geopackage+sqlite3",
        }
    }

    /// Code in the EU Publications Office file-type vocabulary, the last segment of
    /// `http://publications.europa.eu/resource/authority/file-type/<CODE>` used as
    /// `dct:format`.
    ///
    /// The vocabulary Portale ships (`eu-op_filetypes-filtered.rdf` and
    /// `eu-op-full_filetypes-skos-ap-act.rdf`) has `CSV`, `JSON`, `GEOJSON` and `GPKG`,
    /// but no code for Apache Parquet nor for FlatGeobuf. Both are given `BIN`
    /// ("Binary Data"), the closest existing concept: a format-specific code that is not
    /// in the vocabulary would fail the DCAT-AP_IT checks, while the exact format stays
    /// visible in `dcat:mediaType`. Switch to the dedicated codes once the vocabulary
    /// carries them.
    pub fn eu_format_code(self) -> &'static str {
        match self {
            OutputFormat::Csv => "CSV",
            OutputFormat::Json => "JSON",
            OutputFormat::Geojson => "GEOJSON",
            OutputFormat::Geoparquet | OutputFormat::Fgb => "BIN",
            OutputFormat::Gpkg => "GPKG",
        }
    }

    /// Whether the format is only meaningful for a layer (a table with geometries).
    pub fn needs_geometry(self) -> bool {
        match self {
            OutputFormat::Csv | OutputFormat::Json => false,
            OutputFormat::Geojson
            | OutputFormat::Geoparquet
            | OutputFormat::Fgb
            | OutputFormat::Gpkg => true,
        }
    }

    /// The format a file name's extension stands for.
    pub fn from_extension(ext: &str) -> Option<OutputFormat> {
        let ext = ext.trim_start_matches('.');
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.extension().eq_ignore_ascii_case(ext))
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputFormat::Csv => "CSV",
            OutputFormat::Json => "JSON",
            OutputFormat::Geojson => "GeoJSON",
            OutputFormat::Geoparquet => "GeoParquet",
            OutputFormat::Fgb => "FlatGeobuf",
            OutputFormat::Gpkg => "GeoPackage",
        })
    }
}

/// A failure to write one output file. Every variant names the file; the underlying
/// error, when there is one, is the [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A geo format was asked for a table without geometries.
    #[error("{}: {format} needs geometries, but the table has none", .path.display())]
    NoGeometry { path: PathBuf, format: OutputFormat },

    /// `Table::geoms` does not have one entry per row.
    #[error("{}: the table has {rows} rows but {geoms} geometries", .path.display())]
    Misaligned {
        path: PathBuf,
        rows: usize,
        geoms: usize,
    },

    /// A column type outside the set the schema step produces.
    #[error(
        "{}: column \"{column}\" has type {dtype}; the writers take String, Int64, Float64, \
         Boolean, Date and Datetime columns",
        .path.display()
    )]
    UnsupportedColumn {
        path: PathBuf,
        column: String,
        dtype: String,
    },

    /// Reading or writing the file itself failed. The message includes the cause (a full
    /// disk, a file too large): the build reports this error by its message alone.
    #[error("{}: {context}: {source}", .path.display())]
    Io {
        path: PathBuf,
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// An encoder (polars, SQLite, FlatGeobuf, WKB, JSON, CSV) refused the data, or
    /// could not write it; the message includes the encoder's own error.
    #[error("{}: {context}: {source}", .path.display())]
    Encode {
        path: PathBuf,
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl WriteError {
    /// The file that could not be written.
    pub fn path(&self) -> &Path {
        match self {
            WriteError::NoGeometry { path, .. }
            | WriteError::Misaligned { path, .. }
            | WriteError::UnsupportedColumn { path, .. }
            | WriteError::Io { path, .. }
            | WriteError::Encode { path, .. } => path,
        }
    }

    pub(crate) fn io(path: &Path, context: impl Into<String>, source: std::io::Error) -> Self {
        WriteError::Io {
            path: path.to_path_buf(),
            context: context.into(),
            source,
        }
    }

    pub(crate) fn encode(
        path: &Path,
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        WriteError::Encode {
            path: path.to_path_buf(),
            context: context.into(),
            source: source.into(),
        }
    }
}

/// How many records (rows, features) [`write_table`] puts in a file of `format` for
/// `table`: every row, except in FlatGeobuf, which holds only the rows with a non-empty
/// geometry. Meant for the manifest's `rows`.
pub fn record_count(table: &Table, format: OutputFormat) -> u64 {
    let count = match (format, &table.geoms) {
        (OutputFormat::Fgb, Some(geoms)) => geoms
            .iter()
            .flatten()
            .filter(|g| geo::BoundingRect::bounding_rect(*g).is_some())
            .count(),
        (OutputFormat::Fgb, None) => 0,
        _ => table.df.height(),
    };
    count as u64
}

/// Writes `table` to `path` in `format`, creating or truncating the file.
///
/// `layer_name` names the layer inside the formats that have one (the GeoJSON `name`
/// member, the FlatGeobuf header, the GeoPackage table); the others ignore it.
///
/// Tables without geometries can be written only as CSV and JSON; the geo formats return
/// [`WriteError::NoGeometry`]. When the table has geometries, CSV and JSON carry them
/// only for point layers, as `longitude` and `latitude` columns.
pub fn write_table(
    table: &Table,
    format: OutputFormat,
    path: &Path,
    layer_name: &str,
) -> Result<(), WriteError> {
    let df = cells::rechunked(&table.df);
    let columns = Columns::new(&df, path)?;
    let geoms = match &table.geoms {
        Some(geoms) => {
            if geoms.len() != table.df.height() {
                return Err(WriteError::Misaligned {
                    path: path.to_path_buf(),
                    rows: table.df.height(),
                    geoms: geoms.len(),
                });
            }
            Some(geoms.as_slice())
        }
        None => None,
    };
    let prepare = || match geoms {
        Some(geoms) => Ok(PreparedGeoms::new(geoms)),
        None => Err(WriteError::NoGeometry {
            path: path.to_path_buf(),
            format,
        }),
    };
    match format {
        OutputFormat::Csv => csv_writer::write(&columns, geoms, path),
        OutputFormat::Json => json_writer::write(&columns, geoms, path),
        OutputFormat::Geojson => geojson_writer::write(&columns, &prepare()?, path, layer_name),
        OutputFormat::Geoparquet => geoparquet_writer::write(table, &prepare()?, path),
        OutputFormat::Fgb => fgb_writer::write(&columns, &prepare()?, path, layer_name),
        OutputFormat::Gpkg => gpkg_writer::write(&columns, &prepare()?, path, layer_name),
    }
}
