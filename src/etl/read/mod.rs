//! Readers: one per source format, each turning a file into a [`RawTable`] of text cells
//! (and geometries for vector formats). Detection of encoding, delimiter, decimal
//! separator and header row happens here; what was detected is reported in
//! `RawTable::detected`.

use std::path::{Path, PathBuf};

use super::table::RawTable;

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
            "kml" => SourceFormat::Kml,
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
