//! CSV (RFC 4180): UTF-8 without BOM, `,` separator, CRLF line ends, a header row,
//! fields quoted only when they hold `,`, `"`, CR or LF (quotes doubled), `.` decimals,
//! ISO 8601 dates.
//!
//! Written with the `csv` crate rather than polars' `CsvWriter`, whose float and
//! datetime formatting we do not control.
//!
//! Null and the empty string both become an empty field: CSV has no way to tell them
//! apart. Floats use Rust's shortest round-trip form, never an exponent (`1e21` is
//! written in full), so every spreadsheet reads them. For a point layer, `longitude` and
//! `latitude` (WGS84, 7 decimals) are appended; other layers carry no geometry here.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use ::csv::{QuoteStyle, Terminator, WriterBuilder};
use geo_types::Geometry;

use super::WriteError;
use super::cells::{Cell, Columns, IsoDate, IsoDatetime, unique_name};
use super::geometry::is_point_layer;

pub(crate) fn write(
    columns: &Columns<'_>,
    geoms: Option<&[Option<Geometry<f64>>]>,
    path: &Path,
) -> Result<(), WriteError> {
    let file = File::create(path).map_err(|e| WriteError::io(path, "creating the file", e))?;
    let mut out = WriterBuilder::new()
        .delimiter(b',')
        .terminator(Terminator::CRLF)
        .quote_style(QuoteStyle::Necessary)
        .from_writer(BufWriter::with_capacity(1 << 16, file));

    let points = geoms.filter(|g| is_point_layer(g));
    let mut header: Vec<String> = columns.names().map(str::to_string).collect();
    if points.is_some() {
        let lon = unique_name("longitude", columns.names());
        let lat = unique_name("latitude", columns.names().chain([lon.as_str()]));
        header.push(lon);
        header.push(lat);
    }
    out.write_record(&header)
        .map_err(|e| WriteError::encode(path, "writing the header row", e))?;

    // One reusable text buffer per column: no allocation per cell.
    let mut fields: Vec<String> = vec![String::new(); header.len()];
    for row in 0..columns.height {
        for (field, col) in fields.iter_mut().zip(&columns.cols) {
            field.clear();
            format_cell(field, col.get(row));
        }
        if let Some(points) = points {
            let n = fields.len();
            fields[n - 2].clear();
            fields[n - 1].clear();
            if let Some(Geometry::Point(p)) = &points[row] {
                // Writing into a String cannot fail.
                let _ = write!(fields[n - 2], "{:.7}", p.x());
                let _ = write!(fields[n - 1], "{:.7}", p.y());
            }
        }
        out.write_record(&fields)
            .map_err(|e| WriteError::encode(path, format!("writing data row {}", row + 1), e))?;
    }
    // csv's flush also flushes the BufWriter and the file under it.
    out.flush()
        .map_err(|e| WriteError::io(path, "flushing the file", e))
}

fn format_cell(out: &mut String, cell: Cell<'_>) {
    // `write!` into a String cannot fail.
    let _ = match cell {
        Cell::Null => Ok(()),
        Cell::Str(s) => {
            out.push_str(s);
            Ok(())
        }
        Cell::Int(v) => write!(out, "{v}"),
        Cell::Float(v) if v.is_finite() => write!(out, "{v}"),
        Cell::Float(_) => Ok(()),
        Cell::Bool(v) => write!(out, "{v}"),
        Cell::Date(d) => write!(out, "{}", IsoDate(d)),
        Cell::Datetime(dt) => write!(out, "{}", IsoDatetime(dt)),
    };
}
