//! Readers: one per source format, each turning a file into a [`RawTable`] of text cells
//! (and geometries for vector formats). Detection of encoding, delimiter, decimal
//! separator and header row happens here; what was detected is reported in
//! `RawTable::detected`.
//!
//! [`read_source`] is the one entry point; it dispatches to one file per format:
//! `csv.rs` (the important one: Italian municipal exports), `xlsx.rs` (also `.xls`, `.ods`),
//! `geojson.rs`, `shapefile.rs` (also zipped), `gpkg.rs`, `kml.rs` (also KMZ), `fgb.rs`, and
//! `gdal.rs` behind the `gdal` cargo feature. `cells.rs` holds what they share: cell
//! cleaning, header naming, decimal-separator detection and the column builder.
//!
//! Every reader keeps values as text: typing happens in the schema step, which is why
//! codes such as ISTAT `046007` survive with their leading zeros. Geometries stay in the
//! source CRS; the geometry step reprojects and repairs them.
//!
//! Pitfalls worth knowing before touching a reader:
//! * a cell is trimmed and the missing-value markers (`-`, `n.d.`, `N.D.` unless the
//!   recipe says otherwise) become nulls in every format, not only in CSV;
//! * `rows` is the physical line of a CSV record's *first* line (records can span lines),
//!   the sheet row for spreadsheets, and the 1-based feature number for vector formats;
//! * errors must name the file, and the row and column whenever there is one: users fix
//!   their exports from these messages.

use std::path::{Path, PathBuf};

use super::table::RawTable;

mod cells;
mod csv;
mod fgb;
#[cfg(feature = "gdal")]
mod gdal;
mod geojson;
mod gpkg;
mod kml;
mod shapefile;
mod xlsx;

pub use crate::geo::crs::epsg_from_prj;

/// Source formats a recipe can name (`[source] format = "..."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Csv,
    Xlsx,
    Geojson,
    Shapefile,
    Gpkg,
    Kml,
    Fgb,
    /// Any vector format GDAL opens (cargo feature `gdal`).
    Gdal,
}

impl SourceFormat {
    /// The format implied by a file name's extension.
    pub fn from_path(path: &Path) -> Option<SourceFormat> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let ext = name.rsplit('.').next()?;
        Some(match ext {
            "csv" | "txt" | "tsv" => SourceFormat::Csv,
            "xlsx" | "xlsm" | "xls" | "ods" => SourceFormat::Xlsx,
            "geojson" | "json" => SourceFormat::Geojson,
            "shp" | "zip" => SourceFormat::Shapefile,
            "gpkg" => SourceFormat::Gpkg,
            "kml" | "kmz" => SourceFormat::Kml,
            "fgb" => SourceFormat::Fgb,
            _ => return None,
        })
    }
}

/// How to read a source file; `None` means "detect it".
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `utf-8` or `windows-1252` (also `latin1`/`iso-8859-1`, read as windows-1252).
    pub encoding: Option<String>,
    pub delimiter: Option<u8>,
    /// `.` or `,`.
    pub decimal: Option<char>,
    /// 1-based line of the header row.
    pub header_row: Option<usize>,
    /// Data rows to skip right after the header (notes, units).
    pub skip_rows: usize,
    /// Cell values meaning "missing" besides the empty cell (default: `-`, `n.d.`).
    pub missing: Vec<String>,
    /// Worksheet name (XLSX); the first sheet when absent.
    pub sheet: Option<String>,
    /// Layer name (GeoPackage, GDAL); the first layer when absent.
    pub layer: Option<String>,
}

/// A read failure: always names the file, and the row and column when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", location(.row, .column))]
pub struct ReadError {
    pub file: PathBuf,
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

fn location(row: &Option<u64>, column: &Option<String>) -> String {
    match (row, column) {
        (Some(r), Some(c)) => format!(", row {r}, column \"{c}\""),
        (Some(r), None) => format!(", row {r}"),
        (None, Some(c)) => format!(", column \"{c}\""),
        (None, None) => String::new(),
    }
}

impl ReadError {
    /// An error about the file as a whole.
    pub fn new(file: &Path, message: impl Into<String>) -> ReadError {
        ReadError {
            file: file.to_path_buf(),
            row: None,
            column: None,
            message: message.into(),
        }
    }

    /// The same error, located at a row (1-based line, sheet row or feature number).
    pub fn at_row(mut self, row: u64) -> ReadError {
        self.row = Some(row);
        self
    }

    /// The same error, located in a column.
    pub fn in_column(mut self, column: impl Into<String>) -> ReadError {
        self.column = Some(column.into());
        self
    }

    /// An I/O failure while reading `file`.
    pub(crate) fn io(file: &Path, err: std::io::Error) -> ReadError {
        ReadError::new(file, format!("cannot read the file: {err}"))
    }
}

/// Reads CSV bytes already in memory as the CSV reader reads a file's bytes: the same
/// decoding, delimiter and header detection and errors. `path` only names the file in
/// errors. Public for the fuzz targets and their regression test (`crate::fuzzing`);
/// the build reads files through [`read_source`].
pub fn read_csv_bytes(
    path: &Path,
    bytes: &[u8],
    opts: &SourceOptions,
) -> Result<RawTable, ReadError> {
    csv::read_bytes(path, bytes, opts)
}

/// Reads a source file into a [`RawTable`].
///
/// `opts` says what the recipe states; everything else (encoding, delimiter, header row,
/// decimal separator, sheet, layer) is detected and reported in `RawTable::detected`.
pub fn read_source(
    path: &Path,
    format: SourceFormat,
    opts: &SourceOptions,
) -> Result<RawTable, ReadError> {
    if let Some(d) = opts.decimal
        && d != '.'
        && d != ','
    {
        return Err(ReadError::new(
            path,
            format!("decimal separator '{d}' is not supported: use '.' or ','"),
        ));
    }
    match format {
        SourceFormat::Csv => csv::read(path, opts),
        SourceFormat::Xlsx => xlsx::read(path, opts),
        SourceFormat::Geojson => geojson::read(path, opts),
        SourceFormat::Shapefile => shapefile::read(path, opts),
        SourceFormat::Gpkg => gpkg::read(path, opts),
        SourceFormat::Kml => kml::read(path, opts),
        SourceFormat::Fgb => fgb::read(path, opts),
        #[cfg(feature = "gdal")]
        SourceFormat::Gdal => gdal::read(path, opts),
        #[cfg(not(feature = "gdal"))]
        SourceFormat::Gdal => Err(ReadError::new(
            path,
            "format \"gdal\" needs GDAL, but this portale binary was built without the `gdal` \
             cargo feature: rebuild with `cargo build --release --features gdal` (needs \
             libgdal-dev), or convert the file to GeoPackage, GeoJSON or FlatGeobuf",
        )),
    }
}
