//! Spreadsheet reader (XLSX, XLSM, XLS, ODS) through calamine.
//!
//! The sheet is the recipe's `sheet`, else the first one (reported). The header row is
//! found as in CSV: among the first rows at least half as filled as most rows, the first
//! whose cells are mostly not numbers, so sparse title rows and notes above the table
//! are skipped. Cells become text:
//! integers without `.0`, other numbers with a `.` decimal at Excel's 15 significant
//! digits (so `0.1+0.2` reads `0.3`, as Excel shows it), dates as ISO `YYYY-MM-DD`
//! (with `THH:MM:SS` when there is a time), error cells as their code (`#DIV/0!`) so the
//! schema step reports them.
//!
//! Pitfalls: a sheet's used range often includes formatted but empty rows and columns;
//! empty rows are skipped and a column with neither header nor data is dropped. `rows`
//! holds the sheet's own row numbers (1-based), as a user sees them in Excel.

use std::path::Path;

use calamine::{Data, Reader};

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

/// Rows looked at to detect the header row.
const SAMPLE_ROWS: usize = 50;

/// Header candidates looked at for one whose cells are mostly not numbers.
const HEADER_CANDIDATES: usize = 5;

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    let mut detected = Vec::new();
    let mut workbook = calamine::open_workbook_auto(path)
        .map_err(|e| ReadError::new(path, format!("cannot open the spreadsheet: {e}")))?;
    let names = workbook.sheet_names();
    let sheet = match &opts.sheet {
        Some(s) => {
            if !names.iter().any(|n| n == s) {
                return Err(ReadError::new(
                    path,
                    format!(
                        "no sheet named \"{s}\"; the workbook has: {}",
                        quoted_list(&names)
                    ),
                ));
            }
            s.clone()
        }
        None => {
            let first = names
                .first()
                .ok_or_else(|| ReadError::new(path, "the workbook has no sheets"))?
                .clone();
            detected.push(("sheet".to_string(), first.clone()));
            first
        }
    };
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| ReadError::new(path, format!("cannot read sheet \"{sheet}\": {e}")))?;
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let first_row = u64::from(first_row);

    // Every row as text cells, with its 1-based sheet row; empty rows left out.
    let mut table: Vec<(u64, Vec<Option<String>>)> = Vec::with_capacity(range.height());
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<Option<String>> = row.iter().map(cell_text).collect();
        if cells
            .iter()
            .any(|c| c.as_deref().is_some_and(|s| !s.trim().is_empty()))
        {
            table.push((first_row + i as u64 + 1, cells));
        }
    }
    if table.is_empty() {
        return Err(ReadError::new(path, format!("sheet \"{sheet}\" is empty")));
    }

    let header_index = match opts.header_row {
        Some(r) => table
            .iter()
            .position(|(row, _)| *row == r as u64)
            .ok_or_else(|| {
                ReadError::new(
                    path,
                    format!("header_row = {r}, but row {r} of sheet \"{sheet}\" is empty"),
                )
                .at_row(r as u64)
            })?,
        None => {
            let i = detect_header(&table);
            detected.push(("header_row".to_string(), table[i].0.to_string()));
            i
        }
    };
    let (header_row, header_cells) = &table[header_index];
    let header_row = *header_row;
    let mut data: Vec<&(u64, Vec<Option<String>>)> = table[header_index + 1..]
        .iter()
        .skip(opts.skip_rows)
        .collect();
    if data.is_empty() {
        return Err(ReadError::new(
            path,
            format!("no data rows: sheet \"{sheet}\" has only the header (row {header_row})"),
        ));
    }

    // Keep the columns that have a header or some data.
    let width = header_cells.len();
    let keep: Vec<usize> = (0..width)
        .filter(|&c| {
            let filled = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
            filled(&header_cells[c]) || data.iter().any(|(_, r)| r.get(c).is_some_and(filled))
        })
        .collect();
    // An empty header cell is named after its sheet column (`column_3` for C).
    let raw_names: Vec<String> = keep
        .iter()
        .map(|&c| match header_cells[c].as_deref() {
            Some(h) if !h.trim().is_empty() => h.to_string(),
            _ => format!("column_{}", c + 1),
        })
        .collect();
    let names = cells::header_names(path, Some(header_row), &raw_names)?;

    let mut columns = ColumnsBuilder::with_columns(&names, Cleaner::new(opts), data.len());
    let mut rows = Vec::with_capacity(data.len());
    for (row, cells) in data.drain(..) {
        for (k, &c) in keep.iter().enumerate() {
            columns.push(k, cells.get(c).and_then(|v| v.as_deref()));
        }
        columns.end_row();
        rows.push(*row);
    }
    cells::finish_table(
        path,
        columns,
        opts,
        Extras {
            rows,
            geoms: None,
            crs: None,
            detected,
        },
    )
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Index in `table` of the header: as in CSV, among the first rows at least half as
/// filled as most rows, the first whose cells are mostly not numbers, else the first.
fn detect_header(table: &[(u64, Vec<Option<String>>)]) -> usize {
    let sample = &table[..table.len().min(SAMPLE_ROWS)];
    let filled = |r: &[Option<String>]| r.iter().filter(|c| c.is_some()).count();
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for (_, r) in sample {
        let n = filled(r);
        match counts.iter_mut().find(|(w, _)| *w == n) {
            Some((_, k)) => *k += 1,
            None => counts.push((n, 1)),
        }
    }
    let mode = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .map_or(1, |(w, _)| w);
    let candidates: Vec<usize> = (0..sample.len())
        .filter(|&i| filled(&sample[i].1) * 2 >= mode)
        .take(HEADER_CANDIDATES)
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&i| {
            let r = &sample[i].1;
            let numeric = r
                .iter()
                .flatten()
                .filter(|c| cells::looks_numeric(c))
                .count();
            numeric * 2 < filled(r)
        })
        .or_else(|| candidates.first().copied())
        .unwrap_or(0)
}

/// A cell as text; `None` for an empty cell.
fn cell_text(cell: &Data) -> Option<String> {
    match cell {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(excel_number(*f)),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(dt) => {
            let v = dt.as_f64();
            if dt.is_duration() {
                return Some(duration_text(v));
            }
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            Some(if (0.0..1.0).contains(&v) {
                // A time of day without a date.
                format!("{h:02}:{mi:02}:{s:02}")
            } else if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else if ms == 0 {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}")
            })
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(e.to_string()),
    }
}

/// A number as Excel shows it: rounded to 15 significant digits, no exponent.
fn excel_number(v: f64) -> String {
    let rounded: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    cells::format_float(rounded)
}

/// A duration in days as `H:MM:SS` (hours may exceed 24).
fn duration_text(days: f64) -> String {
    let total = (days * 86_400.0).round() as i64;
    let sign = if total < 0 { "-" } else { "" };
    let total = total.abs();
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        (total / 60) % 60,
        total % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_excel_shows_them() {
        assert_eq!(excel_number(0.1 + 0.2), "0.3");
        assert_eq!(excel_number(42.0), "42");
        assert_eq!(excel_number(1471208.59574), "1471208.59574");
        assert_eq!(duration_text(1.5), "36:00:00");
    }
}
