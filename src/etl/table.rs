//! The two in-memory tables that flow through the ETL.
//!
//! * [`RawTable`] is what a reader produces: every attribute as text (a polars `String`
//!   column, missing values as nulls), the source row number of each record for error
//!   messages, and the geometries when the source format carries them.
//! * [`Table`] is what the schema step produces and the writers consume: typed polars
//!   columns, and WGS84 lon/lat geometries aligned row by row with the frame.
//!
//! Geometries live beside the frame, not in it: `geoms[i]` belongs to row `i` of `df`.
//! Every step that drops or reorders rows must do the same to `geoms` and `rows`.

use geo_types::Geometry;
use polars::prelude::DataFrame;

/// Text table as read from a source file, before types are applied.
#[derive(Debug, Clone)]
pub struct RawTable {
    /// All columns are `DataType::String`; missing values (empty, `-`, `n.d.`) are null.
    /// Column names are the source headers, trimmed, in source order.
    pub df: DataFrame,
    /// 1-based source row of each record: the physical line for CSV (the record's first
    /// line), the sheet row for XLSX, the feature number for vector formats.
    pub rows: Vec<u64>,
    /// Geometries in the source CRS when the format carries them (GeoJSON, Shapefile, ...).
    pub geoms: Option<Vec<Option<Geometry<f64>>>>,
    /// EPSG code of `geoms` when the source declares it (a `.prj`, a GeoPackage srs_id, ...).
    pub crs: Option<u32>,
    /// Decimal separator used by numbers in the text cells (`.` or `,`).
    pub decimal: char,
    /// What was detected rather than stated in the recipe: `(property, value)`,
    /// e.g. `("encoding", "windows-1252")`, `("delimiter", ";")`.
    pub detected: Vec<(String, String)>,
}

impl RawTable {
    pub fn len(&self) -> usize {
        self.df.height()
    }

    pub fn is_empty(&self) -> bool {
        self.df.height() == 0
    }
}

/// Typed table ready to be written.
#[derive(Debug, Clone)]
pub struct Table {
    /// Typed columns: String, Int64, Float64, Boolean, Date or Datetime(ms).
    pub df: DataFrame,
    /// WGS84 lon/lat geometries, one per row of `df`, when the dataset is a layer.
    pub geoms: Option<Vec<Option<Geometry<f64>>>>,
}

impl Table {
    pub fn len(&self) -> usize {
        self.df.height()
    }

    pub fn is_empty(&self) -> bool {
        self.df.height() == 0
    }
}
