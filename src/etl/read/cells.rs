//! What the readers share: cleaning a cell (trim, missing markers to null), naming
//! columns from header cells, voting on the decimal separator, and building the
//! all-`String` polars frame of a [`RawTable`].
//!
//! Pitfalls:
//! * header cells come quoted across lines (ISTAT) or padded (`Data Atto `): internal
//!   whitespace, newlines included, collapses to one space;
//! * a number such as `1.894` is ambiguous: Italian thousands or a decimal. It does not
//!   vote unless nothing else does, and then a run of such values means thousands
//!   separators, hence a `,` decimal (`Stato-Civile-2023.csv` of Torre Annunziata);
//! * the frame is built with polars' string builders, one per column, so a million-row
//!   CSV costs no allocation per cell.

use std::collections::HashMap;
use std::path::Path;

use geo_types::Geometry;
use polars::prelude::{Column, DataFrame, IntoColumn, PlSmallStr, StringChunkedBuilder};

use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

/// Missing-value markers used when the recipe names none.
pub(crate) const DEFAULT_MISSING: [&str; 3] = ["-", "n.d.", "N.D."];

/// Trims cells and turns the empty string and the missing-value markers into nulls.
#[derive(Debug, Clone)]
pub(crate) struct Cleaner {
    missing: Vec<String>,
}

impl Cleaner {
    pub(crate) fn new(opts: &SourceOptions) -> Cleaner {
        let missing = if opts.missing.is_empty() {
            DEFAULT_MISSING.iter().map(|s| s.to_string()).collect()
        } else {
            opts.missing.iter().map(|s| s.trim().to_string()).collect()
        };
        Cleaner { missing }
    }

    #[inline]
    pub(crate) fn clean<'a>(&self, raw: &'a str) -> Option<&'a str> {
        let t = raw.trim();
        if t.is_empty() || self.missing.iter().any(|m| m == t) {
            None
        } else {
            Some(t)
        }
    }
}

/// Column names from raw header cells: whitespace collapsed, `column_N` for an empty
/// cell, and an error naming both columns when two cells carry the same name.
pub(crate) fn header_names(
    file: &Path,
    row: Option<u64>,
    raw: &[String],
) -> Result<Vec<String>, ReadError> {
    let mut names = Vec::with_capacity(raw.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(raw.len());
    for (i, cell) in raw.iter().enumerate() {
        let mut name = cell.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            name = format!("column_{}", i + 1);
        }
        if let Some(first) = seen.get(&name) {
            let mut err = ReadError::new(
                file,
                format!(
                    "duplicate column name \"{name}\": columns {} and {} of the header have \
                     the same name; rename one of them in the source file",
                    first + 1,
                    i + 1
                ),
            )
            .in_column(name.clone());
            if let Some(r) = row {
                err = err.at_row(r);
            }
            return Err(err);
        }
        seen.insert(name.clone(), i);
        names.push(name);
    }
    Ok(names)
}

/// Whether a trimmed cell looks like a number (digits with optional sign, separators,
/// percent sign); used by header-row detection.
pub(crate) fn looks_numeric(cell: &str) -> bool {
    let t = cell.trim().trim_end_matches('%').trim_end();
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    !t.is_empty()
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
}

/// Evidence about the decimal separator gathered from numeric-looking cells.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DecimalVotes {
    /// Values only readable with a `,` decimal: `12,5`, `1.234,56`.
    comma: u64,
    /// Values only readable with a `.` decimal: `12.5`, `1,234.56`, `1471208.59574`.
    dot: u64,
    /// `1.894`, `12.345.678`: `.` thousands (so `,` decimal) or a `.` decimal.
    dot_grouped: u64,
    /// `1,894`: `,` thousands (so `.` decimal) or a `,` decimal.
    comma_grouped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumberShape {
    Comma,
    Dot,
    DotGrouped,
    CommaGrouped,
}

impl DecimalVotes {
    #[inline]
    pub(crate) fn observe(&mut self, cell: &str) {
        match number_shape(cell.as_bytes()) {
            Some(NumberShape::Comma) => self.comma += 1,
            Some(NumberShape::Dot) => self.dot += 1,
            Some(NumberShape::DotGrouped) => self.dot_grouped += 1,
            Some(NumberShape::CommaGrouped) => self.comma_grouped += 1,
            None => {}
        }
    }

    /// The separator the evidence points to, `None` when there is none.
    pub(crate) fn decide(&self) -> Option<char> {
        if self.comma + self.dot > 0 {
            return Some(if self.comma > self.dot { ',' } else { '.' });
        }
        // Only ambiguous values: a run of them is far more likely to be thousands.
        if self.dot_grouped >= 3 && self.dot_grouped > self.comma_grouped {
            return Some(',');
        }
        if self.comma_grouped >= 3 && self.comma_grouped > self.dot_grouped {
            return Some('.');
        }
        None
    }
}

/// Classifies a trimmed cell by its separators; `None` when it is not a plain number
/// or has no separator at all.
fn number_shape(cell: &[u8]) -> Option<NumberShape> {
    let first = *cell.first()?;
    if !(first.is_ascii_digit() || first == b'-' || first == b'+') {
        return None;
    }
    let body = if first == b'-' || first == b'+' {
        &cell[1..]
    } else {
        cell
    };
    let (mut dots, mut commas, mut last_sep) = (0usize, 0usize, None);
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'0'..=b'9' => {}
            b'.' => {
                dots += 1;
                last_sep = Some(i);
            }
            b',' => {
                commas += 1;
                last_sep = Some(i);
            }
            _ => return None,
        }
    }
    let last = last_sep?;
    if last == 0 || last + 1 == body.len() {
        return None;
    }
    let groups_of_three = |sep: u8| {
        let mut parts = body.split(|&b| b == sep);
        let head = parts.next().unwrap_or_default();
        (1..=3).contains(&head.len())
            && head[0] != b'0'
            && parts.all(|p| p.len() == 3 && p.iter().all(u8::is_ascii_digit))
    };
    match (dots, commas) {
        (0, 1) => {
            if groups_of_three(b',') {
                Some(NumberShape::CommaGrouped)
            } else {
                Some(NumberShape::Comma)
            }
        }
        (1, 0) => {
            if groups_of_three(b'.') {
                Some(NumberShape::DotGrouped)
            } else {
                Some(NumberShape::Dot)
            }
        }
        (_, 0) => groups_of_three(b'.').then_some(NumberShape::Comma),
        (0, _) => groups_of_three(b',').then_some(NumberShape::Dot),
        _ => {
            // Both: the last separator is the decimal one, if it appears once.
            if body[last] == b',' && commas == 1 {
                Some(NumberShape::Comma)
            } else if body[last] == b'.' && dots == 1 {
                Some(NumberShape::Dot)
            } else {
                None
            }
        }
    }
}

/// Builds the text columns of a [`RawTable`], row by row, with columns known up front
/// (CSV, spreadsheets, dBase) or discovered as records arrive (GeoJSON, KML).
pub(crate) struct ColumnsBuilder {
    names: Vec<String>,
    index: HashMap<String, usize>,
    cols: Vec<StringChunkedBuilder>,
    lens: Vec<usize>,
    height: usize,
    capacity: usize,
    cleaner: Cleaner,
    votes: DecimalVotes,
}

impl ColumnsBuilder {
    pub(crate) fn new(cleaner: Cleaner) -> ColumnsBuilder {
        ColumnsBuilder {
            names: Vec::new(),
            index: HashMap::new(),
            cols: Vec::new(),
            lens: Vec::new(),
            height: 0,
            capacity: 0,
            cleaner,
            votes: DecimalVotes::default(),
        }
    }

    /// A builder with the given (already unique) columns and room for `capacity` rows.
    pub(crate) fn with_columns(
        names: &[String],
        cleaner: Cleaner,
        capacity: usize,
    ) -> ColumnsBuilder {
        let mut b = ColumnsBuilder::new(cleaner);
        b.capacity = capacity;
        for n in names {
            b.column(n);
        }
        b
    }

    /// Index of the column `name`, created (with nulls for the rows so far) if new.
    pub(crate) fn column(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len();
        let mut builder =
            StringChunkedBuilder::new(PlSmallStr::from_str(name), self.capacity.max(self.height));
        for _ in 0..self.height {
            builder.append_null();
        }
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), i);
        self.cols.push(builder);
        self.lens.push(self.height);
        i
    }

    /// Sets column `col` of the current row from a raw cell (cleaned here). A second
    /// value for the same column and row is ignored.
    #[inline]
    pub(crate) fn push(&mut self, col: usize, raw: Option<&str>) {
        if self.lens[col] > self.height {
            return;
        }
        match raw.and_then(|r| self.cleaner.clean(r)) {
            Some(v) => {
                self.votes.observe(v);
                self.cols[col].append_value(v);
            }
            None => self.cols[col].append_null(),
        }
        self.lens[col] += 1;
    }

    /// Ends the current row, filling the columns it did not set with nulls.
    #[inline]
    pub(crate) fn end_row(&mut self) {
        for (len, col) in self.lens.iter_mut().zip(self.cols.iter_mut()) {
            if *len == self.height {
                col.append_null();
                *len += 1;
            }
        }
        self.height += 1;
    }

    /// The frame and the decimal-separator evidence.
    pub(crate) fn finish(self, file: &Path) -> Result<(DataFrame, DecimalVotes), ReadError> {
        let height = self.height;
        let columns: Vec<Column> = self
            .cols
            .into_iter()
            .map(|b| b.finish().into_column())
            .collect();
        let df = DataFrame::new(height, columns)
            .map_err(|e| ReadError::new(file, format!("cannot build the table: {e}")))?;
        Ok((df, self.votes))
    }
}

/// What a reader hands to [`finish_table`] besides the columns.
pub(crate) struct Extras {
    pub rows: Vec<u64>,
    pub geoms: Option<Vec<Option<Geometry<f64>>>>,
    pub crs: Option<u32>,
    pub detected: Vec<(String, String)>,
}

/// Assembles the [`RawTable`]: decides the decimal separator (the recipe's, else the
/// detected one, reported) and checks that rows and geometries align with the frame.
pub(crate) fn finish_table(
    file: &Path,
    columns: ColumnsBuilder,
    opts: &SourceOptions,
    extras: Extras,
) -> Result<RawTable, ReadError> {
    let Extras {
        rows,
        geoms,
        crs,
        mut detected,
    } = extras;
    let (df, votes) = columns.finish(file)?;
    let decimal = match opts.decimal {
        Some(d) => d,
        None => {
            let d = votes.decide().unwrap_or('.');
            detected.push(("decimal".to_string(), d.to_string()));
            d
        }
    };
    let aligned = rows.len() == df.height() && geoms.as_ref().is_none_or(|g| g.len() == rows.len());
    if !aligned {
        return Err(ReadError::new(
            file,
            format!(
                "internal error: {} rows, {} row numbers and {} geometries do not align",
                df.height(),
                rows.len(),
                geoms.as_ref().map_or(0, Vec::len)
            ),
        ));
    }
    Ok(RawTable {
        df,
        rows,
        geoms,
        crs,
        decimal,
        detected,
    })
}

/// Formats a floating-point value as text: integers without `.0`, others in the
/// shortest form that reads back as the same value, never in exponent notation.
pub(crate) fn format_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_shapes() {
        assert_eq!(number_shape(b"48,98"), Some(NumberShape::Comma));
        assert_eq!(number_shape(b"1.234,56"), Some(NumberShape::Comma));
        assert_eq!(number_shape(b"12.5"), Some(NumberShape::Dot));
        assert_eq!(number_shape(b"1471208.59574"), Some(NumberShape::Dot));
        assert_eq!(number_shape(b"1,234.5"), Some(NumberShape::Dot));
        assert_eq!(number_shape(b"1.894"), Some(NumberShape::DotGrouped));
        assert_eq!(number_shape(b"0.894"), Some(NumberShape::Dot));
        assert_eq!(number_shape(b"12.345.678"), Some(NumberShape::Comma));
        assert_eq!(number_shape(b"046007"), None);
        assert_eq!(number_shape(b"01/01/2023"), None);
        assert_eq!(number_shape(b"1."), None);
        assert_eq!(number_shape(b"-3,5"), Some(NumberShape::Comma));
    }

    #[test]
    fn votes_prefer_unambiguous_evidence() {
        let mut v = DecimalVotes::default();
        for c in ["1.894", "2.048", "1.026"] {
            v.observe(c);
        }
        assert_eq!(v.decide(), Some(','));
        v.observe("12.5");
        assert_eq!(v.decide(), Some('.'));
        assert_eq!(DecimalVotes::default().decide(), None);
    }

    #[test]
    fn headers_are_collapsed_and_checked() {
        let f = Path::new("x.csv");
        let raw = vec![
            " Codice dell'Unità \n(valida a fini statistici)".to_string(),
            String::new(),
        ];
        let names = header_names(f, Some(1), &raw).unwrap();
        assert_eq!(
            names,
            ["Codice dell'Unità (valida a fini statistici)", "column_2"]
        );
        let err = header_names(f, Some(1), &["a".into(), "b".into(), "a ".into()]).unwrap_err();
        assert!(err.to_string().contains("columns 1 and 3"), "{err}");
    }

    #[test]
    fn floats_as_text() {
        assert_eq!(format_float(12.0), "12");
        assert_eq!(format_float(12.5), "12.5");
        assert_eq!(format_float(-0.25), "-0.25");
        assert_eq!(format_float(1e20), "100000000000000000000");
    }
}
