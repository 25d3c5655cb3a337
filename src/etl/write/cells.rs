//! Typed, row-by-row access to the columns of a [`Table`](crate::etl::table::Table) frame,
//! shared by the writers that stream rows (CSV, JSON, GeoJSON, FlatGeobuf, GeoPackage).
//!
//! Columns are downcast once to their typed chunked arrays, so reading a cell is an index
//! into an Arrow buffer instead of a dynamically typed `AnyValue`. The frame should be
//! rechunked first ([`Columns::new`] does it on a cheap clone): indexing a chunked array
//! with many chunks walks the chunk list.
//!
//! Dates and datetimes leave here as chrono values; [`IsoDate`] and [`IsoDatetime`] give
//! the one ISO 8601 text form every text format uses.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::{
    BooleanChunked, DataFrame, DataType, Float64Chunked, Int32Chunked, Int64Chunked, StringChunked,
    TimeUnit,
};

use super::WriteError;

/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// The type of a column, as far as the writers care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Int,
    Float,
    Bool,
    Date,
    Datetime,
}

/// One cell. `Float` may be NaN or infinite; writers decide what that becomes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    /// A naive date and time (Portale's polars has no time-zone support: Datetime
    /// columns carry no zone).
    Datetime(NaiveDateTime),
}

enum Data<'a> {
    Str(&'a StringChunked),
    Int(&'a Int64Chunked),
    Float(&'a Float64Chunked),
    Bool(&'a BooleanChunked),
    Date(&'a Int32Chunked),
    Datetime {
        phys: &'a Int64Chunked,
        unit: TimeUnit,
    },
}

/// A typed view of one column.
pub(crate) struct Col<'a> {
    pub name: &'a str,
    data: Data<'a>,
}

impl<'a> Col<'a> {
    pub fn kind(&self) -> Kind {
        match self.data {
            Data::Str(_) => Kind::Str,
            Data::Int(_) => Kind::Int,
            Data::Float(_) => Kind::Float,
            Data::Bool(_) => Kind::Bool,
            Data::Date(_) => Kind::Date,
            Data::Datetime { .. } => Kind::Datetime,
        }
    }

    /// The cell at `row`; `Null` past the end.
    pub fn get(&self, row: usize) -> Cell<'a> {
        let cell = match &self.data {
            Data::Str(ca) => ca.get(row).map(Cell::Str),
            Data::Int(ca) => ca.get(row).map(Cell::Int),
            Data::Float(ca) => ca.get(row).map(Cell::Float),
            Data::Bool(ca) => ca.get(row).map(Cell::Bool),
            // Out-of-range values (beyond chrono's ±262,000 years) cannot come out of a
            // parsed source file; they read as null rather than as a wrong date.
            Data::Date(ca) => ca
                .get(row)
                .and_then(|days| days.checked_add(UNIX_EPOCH_DAYS_FROM_CE))
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .map(Cell::Date),
            Data::Datetime { phys, unit } => phys
                .get(row)
                .and_then(|v| match unit {
                    TimeUnit::Milliseconds => DateTime::from_timestamp_millis(v),
                    TimeUnit::Microseconds => DateTime::from_timestamp_micros(v),
                    TimeUnit::Nanoseconds => Some(DateTime::from_timestamp_nanos(v)),
                })
                .map(|dt| Cell::Datetime(dt.naive_utc())),
        };
        cell.unwrap_or(Cell::Null)
    }
}

/// Typed views of every column of a frame, in frame order.
pub(crate) struct Columns<'a> {
    pub cols: Vec<Col<'a>>,
    pub height: usize,
}

impl<'a> Columns<'a> {
    /// Views of `df`'s columns; `path` only names the file in errors.
    ///
    /// `df` should be single-chunk ([`rechunked`]) for fast row access.
    pub fn new(df: &'a DataFrame, path: &Path) -> Result<Columns<'a>, WriteError> {
        let mut cols = Vec::with_capacity(df.width());
        for column in df.columns() {
            let name = column.name().as_str();
            let unsupported = || WriteError::UnsupportedColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                dtype: column.dtype().to_string(),
            };
            // The downcasts cannot fail after the dtype match; map them to the same error
            // rather than panicking should polars ever disagree.
            let data = match column.dtype() {
                DataType::String => Data::Str(column.str().map_err(|_| unsupported())?),
                DataType::Int64 => Data::Int(column.i64().map_err(|_| unsupported())?),
                DataType::Float64 => Data::Float(column.f64().map_err(|_| unsupported())?),
                DataType::Boolean => Data::Bool(column.bool().map_err(|_| unsupported())?),
                DataType::Date => Data::Date(column.date().map_err(|_| unsupported())?.physical()),
                DataType::Datetime(unit, _) => Data::Datetime {
                    phys: column.datetime().map_err(|_| unsupported())?.physical(),
                    unit: *unit,
                },
                _ => return Err(unsupported()),
            };
            cols.push(Col { name, data });
        }
        Ok(Columns {
            cols,
            height: df.height(),
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &'a str> + Clone + '_ {
        self.cols.iter().map(|c| c.name)
    }
}

/// A single-chunk copy of `df` (cheap when it already is one: columns are shared).
pub(crate) fn rechunked(df: &DataFrame) -> DataFrame {
    let mut df = df.clone();
    df.rechunk_mut();
    df
}

/// `YYYY-MM-DD`.
pub(crate) struct IsoDate(pub NaiveDate);

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

/// `YYYY-MM-DDTHH:MM:SS`, then `.fff` (or 6 or 9 digits) when the fraction is not zero.
pub(crate) struct IsoDatetime(pub NaiveDateTime);

impl fmt::Display for IsoDatetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.f"))
    }
}

/// A name not in `taken` (compared case-insensitively, as SQLite and most readers do):
/// `base`, else `base_1`, `base_2`, ...
pub(crate) fn unique_name<'n>(base: &str, taken: impl Iterator<Item = &'n str> + Clone) -> String {
    let free = |candidate: &str| !taken.clone().any(|t| t.eq_ignore_ascii_case(candidate));
    if free(base) {
        return base.to_string();
    }
    (1..)
        .map(|i| format!("{base}_{i}"))
        .find(|candidate| free(candidate))
        .unwrap_or_else(|| base.to_string())
}
