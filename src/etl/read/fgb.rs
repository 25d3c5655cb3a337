//! FlatGeobuf reader, with the `flatgeobuf` crate (no HTTP) and geozero.
//!
//! Columns are those declared in the header, in order (a feature carrying a column the
//! header lacks adds it); values become text: integers as they are, floats without
//! `.0` when whole, booleans `true`/`false`, JSON and datetimes as their text, binary
//! as hex. Properties a feature omits are nulls. The CRS is the header's when its
//! organization is EPSG (or unnamed with a positive code).
//!
//! Pitfall: the file is read sequentially through the whole spatial index; nothing is
//! filtered by bounding box here.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};
use geozero::error::GeozeroError;
use geozero::{ColumnValue, PropertyProcessor, ToGeo};

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::io(path, e))?;
    let fgb = |e: flatgeobuf::Error| ReadError::new(path, format!("FlatGeobuf: {e}"));
    let reader = FgbReader::open(BufReader::new(file)).map_err(fgb)?;
    let header = reader.header();
    let names_raw: Vec<String> = header
        .columns()
        .map(|cols| cols.iter().map(|c| c.name().to_string()).collect())
        .unwrap_or_default();
    let crs = header.crs().and_then(|c| {
        let org_is_epsg = c.org().is_none_or(|o| o.eq_ignore_ascii_case("EPSG"));
        (org_is_epsg && c.code() > 0).then(|| c.code() as u32)
    });
    let count = header.features_count() as usize;
    let names = cells::header_names(path, None, &names_raw)?;

    let mut columns = ColumnsBuilder::with_columns(&names, Cleaner::new(opts), count);
    let mut rows = Vec::with_capacity(count);
    let mut geoms = Vec::with_capacity(count);
    let mut features = reader.select_all().map_err(fgb)?;
    let mut row = 0u64;
    while let Some(feature) = features.next().map_err(fgb)? {
        row += 1;
        let mut props = Props {
            columns: &mut columns,
        };
        feature
            .process_properties(&mut props)
            .map_err(|e| ReadError::new(path, format!("invalid properties: {e}")).at_row(row))?;
        let geometry =
            match feature.geometry() {
                Some(_) => Some(feature.to_geo().map_err(|e| {
                    ReadError::new(path, format!("invalid geometry: {e}")).at_row(row)
                })?),
                None => None,
            };
        columns.end_row();
        rows.push(row);
        geoms.push(geometry);
    }
    if rows.is_empty() {
        return Err(ReadError::new(path, "the FlatGeobuf has no features"));
    }
    cells::finish_table(
        path,
        columns,
        opts,
        Extras {
            rows,
            geoms: Some(geoms),
            crs,
            detected: Vec::new(),
        },
    )
}

/// Collects one feature's properties into the builder's current row.
struct Props<'a> {
    columns: &'a mut ColumnsBuilder,
}

impl PropertyProcessor for Props<'_> {
    fn property(
        &mut self,
        _idx: usize,
        name: &str,
        value: &ColumnValue,
    ) -> Result<bool, GeozeroError> {
        let text = match value {
            ColumnValue::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e7 {
                    format!("{}", *f as i64)
                } else {
                    f.to_string()
                }
            }
            ColumnValue::Double(f) => cells::format_float(*f),
            ColumnValue::Binary(b) => hex::encode(b),
            other => other.to_string(),
        };
        let c = self.columns.column(name);
        self.columns.push(c, Some(&text));
        Ok(false)
    }
}
