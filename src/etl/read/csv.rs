//! CSV reader: the format most municipal tables arrive in (DOMAIN.md §6).
//!
//! The steps, in order: read the bytes; decode them (the recipe's encoding, else a UTF-8
//! BOM, else valid UTF-8, else Windows-1252); detect the delimiter among `;` `,` tab `|`
//! by how consistently it splits the first 50 records; find the header row (the first
//! well-filled record whose cells are mostly not numbers, so sparse title lines above
//! the table are skipped: [`detect_header_line`]); then parse everything with the `csv`
//! crate and build the text columns.
//!
//! Pitfalls this reader exists for:
//! * ISTAT's list quotes header cells across lines, in a CRLF file, in Windows-1252;
//! * a stray quote makes a CSV parser swallow the rest of the file into one cell. The
//!   `csv` crate accepts that silently, so an unterminated quote at the end of the file
//!   and records of the wrong width are errors naming the line where the record began;
//! * `csv` reports the position *before* a record, which is on the previous line when
//!   the file uses CRLF or has blank lines: [`record_start`] skips to the real start;
//! * values stay text, so `046007` keeps its leading zero and `1.234,56` its comma.

use std::borrow::Cow;
use std::path::Path;

use ::csv::{ByteRecord, Position, ReaderBuilder};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

/// A single field larger than this is an error (a runaway quote, or not a table).
pub(crate) const MAX_FIELD_BYTES: usize = 1 << 20;

/// Records looked at to detect the delimiter and the header row.
const SAMPLE_RECORDS: usize = 50;

/// Bytes looked at to detect the delimiter and the header row.
const SAMPLE_BYTES: usize = 1 << 20;

const DELIMITERS: [u8; 4] = [b';', b',', b'\t', b'|'];

/// Header candidates looked at for one whose cells are mostly not numbers.
const HEADER_CANDIDATES: usize = 5;

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    read_bytes(path, &bytes, opts)
}

pub(super) fn read_bytes(
    path: &Path,
    bytes: &[u8],
    opts: &SourceOptions,
) -> Result<RawTable, ReadError> {
    let mut detected = Vec::new();
    let text = decode(path, bytes, opts, &mut detected)?;
    if text.trim().is_empty() {
        return Err(ReadError::new(path, "the file is empty"));
    }
    let text = text.as_bytes();

    let delimiter = match opts.delimiter {
        Some(d) => d,
        None => {
            let d = detect_delimiter(text);
            detected.push(("delimiter".to_string(), delimiter_name(d)));
            d
        }
    };
    let header_line = match opts.header_row {
        Some(line) => line as u64,
        None => {
            let line = detect_header_line(text, delimiter);
            detected.push(("header_row".to_string(), line.to_string()));
            line
        }
    };

    let mut rdr = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    let mut record = ByteRecord::new();
    let cleaner = Cleaner::new(opts);

    // Find the header record.
    let header = loop {
        let (start, line) = match next_record(path, &mut rdr, &mut record, text)? {
            Some(at) => at,
            None => {
                return Err(ReadError::new(
                    path,
                    format!("no header: the file ends before line {header_line}"),
                ));
            }
        };
        check_unterminated(path, text, start, line, &record, delimiter, &rdr, None)?;
        if line < header_line {
            continue;
        }
        if line > header_line {
            return Err(ReadError::new(
                path,
                format!(
                    "header_row = {header_line}, but no record starts on that line (the next \
                     one starts on line {line}): it is blank or inside a quoted cell"
                ),
            )
            .at_row(header_line));
        }
        let mut raw = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            if field.len() > MAX_FIELD_BYTES {
                return Err(oversized(path, line, &format!("column_{}", i + 1), field));
            }
            raw.push(String::from_utf8_lossy(field).into_owned());
        }
        break (cells::header_names(path, Some(line), &raw)?, line);
    };
    let (names, header_line) = header;
    let width = names.len();

    // Rough row count so the builders allocate once.
    let capacity = text.iter().filter(|&&b| b == b'\n').count();
    let mut columns = ColumnsBuilder::with_columns(&names, cleaner, capacity);
    let mut rows = Vec::with_capacity(capacity);
    let mut to_skip = opts.skip_rows;
    let mut blank = 0usize;

    while let Some((start, line)) = next_record(path, &mut rdr, &mut record, text)? {
        check_unterminated(
            path,
            text,
            start,
            line,
            &record,
            delimiter,
            &rdr,
            Some(&names),
        )?;
        if record
            .iter()
            .all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
        {
            blank += 1;
            continue;
        }
        if to_skip > 0 {
            to_skip -= 1;
            continue;
        }
        if record.len() != width {
            return Err(wrong_width(
                path,
                (line, start),
                header_line,
                width,
                &record,
                &names,
                text,
            ));
        }
        for (i, field) in record.iter().enumerate() {
            if field.len() > MAX_FIELD_BYTES {
                return Err(oversized(path, line, &names[i], field));
            }
            let value = std::str::from_utf8(field).map_err(|e| {
                ReadError::new(path, format!("invalid UTF-8 in the cell: {e}"))
                    .at_row(line)
                    .in_column(names[i].clone())
            })?;
            columns.push(i, Some(value));
        }
        columns.end_row();
        rows.push(line);
    }
    if rows.is_empty() {
        return Err(ReadError::new(
            path,
            format!("no data rows: the file has only the header (line {header_line})"),
        ));
    }
    if blank > 0 {
        detected.push(("blank_rows_skipped".to_string(), blank.to_string()));
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

/// Decodes the file to UTF-8 text, without copying when it already is UTF-8.
fn decode<'a>(
    path: &Path,
    bytes: &'a [u8],
    opts: &SourceOptions,
    detected: &mut Vec<(String, String)>,
) -> Result<Cow<'a, str>, ReadError> {
    let stated = match opts.encoding.as_deref() {
        Some(label) => Some(Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            ReadError::new(
                path,
                format!(
                    "unknown encoding \"{label}\": use \"utf-8\" or \"windows-1252\" \
                     (also \"latin1\", \"iso-8859-1\")"
                ),
            )
        })?),
        None => None,
    };
    // A byte-order mark is stronger evidence than any recipe.
    if let Some((bom_encoding, bom_len)) = Encoding::for_bom(bytes) {
        if stated.is_none() || stated != Some(bom_encoding) {
            detected.push(("encoding".to_string(), encoding_name(bom_encoding)));
        }
        let body = &bytes[bom_len..];
        if bom_encoding == UTF_8 {
            return utf8(path, body, true);
        }
        let (text, _) = bom_encoding.decode_without_bom_handling(body);
        return Ok(text);
    }
    match stated {
        Some(enc) if enc == UTF_8 => utf8(path, bytes, false),
        Some(enc) => {
            let (text, _) = enc.decode_without_bom_handling(bytes);
            Ok(text)
        }
        None => match std::str::from_utf8(bytes) {
            Ok(text) => {
                detected.push(("encoding".to_string(), encoding_name(UTF_8)));
                Ok(Cow::Borrowed(text))
            }
            Err(_) => {
                detected.push(("encoding".to_string(), encoding_name(WINDOWS_1252)));
                let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
                Ok(text)
            }
        },
    }
}

/// The bytes as UTF-8, or an error pointing at the first invalid byte's line.
fn utf8<'a>(path: &Path, bytes: &'a [u8], had_bom: bool) -> Result<Cow<'a, str>, ReadError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
            let line_start = bytes[..offset]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let line_end = bytes[offset..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
                .map_or(bytes.len(), |p| offset + p);
            let (as_1252, _) =
                WINDOWS_1252.decode_without_bom_handling(&bytes[line_start..line_end]);
            let snippet: String = as_1252.chars().take(80).collect();
            let stated = if had_bom {
                "the file starts with a UTF-8 byte-order mark"
            } else {
                "the recipe says encoding = \"utf-8\""
            };
            Err(ReadError::new(
                path,
                format!(
                    "{stated}, but byte 0x{:02X} on line {line} (offset {offset}) is not valid \
                     UTF-8; the file looks like Windows-1252 (read that way, the line is \
                     \"{snippet}\"): set encoding = \"windows-1252\" in the recipe's [source]",
                    bytes[offset]
                ),
            )
            .at_row(line))
        }
    }
}

fn encoding_name(enc: &'static Encoding) -> String {
    enc.name().to_ascii_lowercase()
}

fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "\\t".to_string(),
        _ => (d as char).to_string(),
    }
}

/// The first `SAMPLE_BYTES` of the text, cut after a line end, and whether it was cut.
fn sample(text: &[u8]) -> (&[u8], bool) {
    if text.len() <= SAMPLE_BYTES {
        return (text, false);
    }
    let cut = text[..SAMPLE_BYTES]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(SAMPLE_BYTES, |p| p + 1);
    (&text[..cut], true)
}

/// The first records of the sample as (start line, fields), blank lines left out.
fn sample_records(text: &[u8], delimiter: u8) -> Vec<(u64, Vec<String>)> {
    let (sample, truncated) = sample(text);
    let mut rdr = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(sample);
    let mut out = Vec::new();
    let mut record = ByteRecord::new();
    while out.len() < SAMPLE_RECORDS {
        let pos = rdr.position().clone();
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
        let at_end = rdr.position().byte() as usize >= sample.len();
        if truncated && at_end {
            // May be cut in the middle.
            break;
        }
        let fields: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let (_, line) = record_start(sample, &pos);
        out.push((line, fields));
    }
    out
}

/// The most frequent field count and how many records have it (ties: the larger count).
fn modal_width(records: &[(u64, Vec<String>)]) -> (usize, usize) {
    let mut counts: Vec<(usize, usize)> = Vec::new();
    for (_, fields) in records {
        match counts.iter_mut().find(|(w, _)| *w == fields.len()) {
            Some((_, n)) => *n += 1,
            None => counts.push((fields.len(), 1)),
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .unwrap_or((1, 0))
}

/// The delimiter that splits the first records most consistently into more than one
/// field; `,` when none does (a one-column file).
fn detect_delimiter(text: &[u8]) -> u8 {
    let mut best: Option<(u8, f64, usize)> = None;
    for &d in &DELIMITERS {
        let records = sample_records(text, d);
        if records.is_empty() {
            continue;
        }
        let (width, freq) = modal_width(&records);
        if width < 2 {
            continue;
        }
        let consistency = freq as f64 / records.len() as f64;
        let better = match best {
            None => true,
            Some((_, c, w)) => {
                consistency > c + 1e-9 || ((consistency - c).abs() <= 1e-9 && width > w)
            }
        };
        if better {
            best = Some((d, consistency, width));
        }
    }
    best.map_or(b',', |(d, _, _)| d)
}

/// The line of the header. Title lines above a table are sparse, so the candidates are
/// the records with at least half as many filled cells as most records have fields;
/// among the first few, the first whose filled cells are mostly not numbers wins (a row
/// of column numbers above the header is skipped), else the first candidate. The
/// header's own width is not required to match: a header one field short or long is
/// then reported as a width error on the next line rather than silently skipped.
fn detect_header_line(text: &[u8], delimiter: u8) -> u64 {
    let records = sample_records(text, delimiter);
    let (width, _) = modal_width(&records);
    let filled = |fields: &[String]| fields.iter().filter(|f| !f.trim().is_empty()).count();
    let candidates: Vec<&(u64, Vec<String>)> = records
        .iter()
        .filter(|(_, f)| filled(f) * 2 >= width && filled(f) > 0)
        .take(HEADER_CANDIDATES)
        .collect();
    candidates
        .iter()
        .find(|(_, f)| {
            let numeric = f.iter().filter(|c| cells::looks_numeric(c)).count();
            numeric * 2 < filled(f)
        })
        .or_else(|| candidates.first())
        .map_or_else(
            || records.first().map_or(1, |(line, _)| *line),
            |(line, _)| *line,
        )
}

/// Where a record really starts: `csv` positions it after the previous record, which
/// can be before a CRLF's `\n` or before blank lines (which `csv` skips).
fn record_start(text: &[u8], before: &Position) -> (usize, u64) {
    let mut byte = before.byte() as usize;
    let mut line = before.line();
    while let Some(&b) = text.get(byte) {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
        byte += 1;
    }
    (byte, line)
}

/// Reads the next record; its start byte and line, or `None` at the end.
fn next_record(
    path: &Path,
    rdr: &mut ::csv::Reader<&[u8]>,
    record: &mut ByteRecord,
    text: &[u8],
) -> Result<Option<(usize, u64)>, ReadError> {
    let before = rdr.position().clone();
    match rdr.read_byte_record(record) {
        Ok(true) => Ok(Some(record_start(text, &before))),
        Ok(false) => Ok(None),
        Err(e) => {
            let (_, line) = record_start(text, &before);
            Err(ReadError::new(path, format!("cannot parse the CSV: {e}")).at_row(line))
        }
    }
}

/// An error when this record runs to the end of the file inside a quoted field that
/// is never closed. `csv` ends such a record silently at end of file.
#[allow(clippy::too_many_arguments)]
fn check_unterminated(
    path: &Path,
    text: &[u8],
    start: usize,
    line: u64,
    record: &ByteRecord,
    delimiter: u8,
    rdr: &::csv::Reader<&[u8]>,
    names: Option<&[String]>,
) -> Result<(), ReadError> {
    let end = rdr.position().byte() as usize;
    if end < text.len() || record.is_empty() || start >= text.len() {
        return Ok(());
    }
    let raw = &text[start..];
    let last_index = record.len() - 1;
    let last = record.get(last_index).unwrap_or_default();
    let has_newline = last.iter().any(|&b| b == b'\n' || b == b'\r');
    let unterminated = if has_newline {
        // Only a quoted field holds a newline; a closed one ends the file with `"`.
        raw.trim_ascii_end().last() != Some(&b'"')
    } else if raw.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
        false
    } else {
        // No newline at the end: `..;"abc` ends with the field right after a quote.
        raw.len() > last.len()
            && raw.ends_with(last)
            && raw[raw.len() - last.len() - 1] == b'"'
            && (raw.len() - last.len() - 1 == 0 || raw[raw.len() - last.len() - 2] == delimiter)
    };
    if !unterminated {
        return Ok(());
    }
    let newlines_before: u64 = record
        .iter()
        .take(last_index)
        .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
        .sum();
    let quote_line = line + newlines_before;
    let mut err = ReadError::new(
        path,
        format!(
            "unterminated quoted field: the quote opened on line {quote_line} is never closed, \
             so everything to the end of the file ({} lines) would be one cell; fix the quote \
             in the source file",
            last.iter().filter(|&&b| b == b'\n').count() + 1
        ),
    )
    .at_row(quote_line);
    if let Some(name) = names.and_then(|n| n.get(last_index)) {
        err = err.in_column(name.clone());
    }
    Err(err)
}

fn oversized(path: &Path, line: u64, column: &str, field: &[u8]) -> ReadError {
    let lines = field.iter().filter(|&&b| b == b'\n').count();
    let hint = if lines > 0 {
        format!(" (it spans {} lines: is a quote unbalanced?)", lines + 1)
    } else {
        String::new()
    };
    ReadError::new(
        path,
        format!(
            "field of {} bytes exceeds the 1 MiB limit (record on line {line}){hint}",
            field.len()
        ),
    )
    .at_row(line)
    .in_column(column.to_string())
}

fn wrong_width(
    path: &Path,
    (line, start): (u64, usize),
    header_line: u64,
    width: usize,
    record: &ByteRecord,
    names: &[String],
    text: &[u8],
) -> ReadError {
    let raw = &text[start.min(text.len())..];
    let raw = &raw[..raw
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .unwrap_or(raw.len())];
    let shown: String = String::from_utf8_lossy(raw).chars().take(120).collect();
    let mut message = format!(
        "the record on line {line} has {} fields, expected {width} as in the header on \
         line {header_line} (the line reads \"{shown}\")",
        record.len()
    );
    // A field spanning lines in a record of the wrong width is the mark of a stray quote.
    let mut field_line = line;
    for (i, f) in record.iter().enumerate() {
        let newlines = f.iter().filter(|&&b| b == b'\n').count() as u64;
        if newlines > 0 {
            let column = names
                .get(i)
                .map_or_else(|| format!("column_{}", i + 1), Clone::clone);
            message.push_str(&format!(
                "; the quoted cell in column \"{column}\" starting on line {field_line} runs \
                 over {} lines: a quote is probably unbalanced",
                newlines + 1
            ));
            break;
        }
        field_line += newlines;
    }
    ReadError::new(path, message).at_row(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(text: &str, opts: &SourceOptions) -> Result<RawTable, ReadError> {
        read_bytes(Path::new("t.csv"), text.as_bytes(), opts)
    }

    fn cell(t: &RawTable, col: &str, row: usize) -> Option<String> {
        t.df.column(col)
            .unwrap()
            .str()
            .unwrap()
            .get(row)
            .map(str::to_string)
    }

    #[test]
    fn crlf_and_blank_lines_keep_line_numbers() {
        let t = read_str("a;b\r\n1;2\r\n\r\n3;4\r\n", &SourceOptions::default()).unwrap();
        assert_eq!(t.rows, vec![2, 4]);
        let t = read_str("a;b\n\n\n1;2\n", &SourceOptions::default()).unwrap();
        assert_eq!(t.rows, vec![4]);
    }

    #[test]
    fn title_lines_before_the_header_are_skipped() {
        let text = "Comune di Capannori;;\nElenco scuole;;\nnome;codice;alunni\nA;046007;10\nB;046007;20\n";
        let t = read_str(text, &SourceOptions::default()).unwrap();
        assert_eq!(t.rows, vec![4, 5]);
        assert_eq!(cell(&t, "codice", 0).as_deref(), Some("046007"));
        assert!(t.detected.contains(&("header_row".into(), "3".into())));
    }

    #[test]
    fn header_one_field_short_is_an_error_not_a_skipped_line() {
        // Data rows end with a delimiter, the header does not.
        let err = read_str("a;b;c\n1;2;3;\n4;5;6;\n", &SourceOptions::default()).unwrap_err();
        assert_eq!(err.row, Some(2));
        assert!(err.message.contains("4 fields, expected 3"), "{err}");
        assert!(err.message.contains("\"1;2;3;\""), "{err}");
    }

    #[test]
    fn column_numbers_above_the_header_are_skipped() {
        let t = read_str(
            "1;2;3\nnome;codice;note\nA;046007;x\n",
            &SourceOptions::default(),
        )
        .unwrap();
        assert_eq!(t.rows, vec![3]);
        assert_eq!(cell(&t, "codice", 0).as_deref(), Some("046007"));
    }

    #[test]
    fn unterminated_quote_without_final_newline() {
        let err = read_str("a;b\n1;\"2", &SourceOptions::default()).unwrap_err();
        assert!(err.message.contains("unterminated"), "{err}");
        assert_eq!(err.row, Some(2));
    }

    #[test]
    fn closed_quote_at_end_is_fine() {
        let t = read_str("a;b\n1;\"x\ny\"", &SourceOptions::default()).unwrap();
        assert_eq!(cell(&t, "b", 0).as_deref(), Some("x\ny"));
    }

    #[test]
    fn missing_markers_and_padding() {
        let t = read_str("a;b;c\n - ; n.d. ; x \n", &SourceOptions::default()).unwrap();
        assert_eq!(cell(&t, "a", 0), None);
        assert_eq!(cell(&t, "b", 0), None);
        assert_eq!(cell(&t, "c", 0).as_deref(), Some("x"));
    }
}
