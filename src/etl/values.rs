//! Parsing of text cells as Italian municipal software writes them: comma decimals with
//! `.` thousands (`1.234,50`), `dd/mm/yyyy` and `dd-mm-yyyy` dates, codes with leading
//! zeros that must stay text (`046007`, `00123`).
//!
//! Pitfalls: Rust's `f64::from_str` accepts `inf` and `NaN`, which no table means as
//! numbers, so number syntax is checked by hand before parsing; a value with a leading
//! zero is a code, not a number, when inferring types.

use chrono::{NaiveDate, NaiveDateTime};

use crate::model::FieldType;

/// Date formats tried, in order, when the recipe does not state one.
pub const DATE_FORMATS: &[&str] = &["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d"];

/// Date-time formats tried, in order.
pub const DATETIME_FORMATS: &[&str] = &[
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Human form of a chrono format for error messages (`%d/%m/%Y` → `dd/mm/yyyy`).
pub fn human_format(fmt: &str) -> String {
    fmt.replace("%d", "dd")
        .replace("%m", "mm")
        .replace("%Y", "yyyy")
        .replace("%y", "yy")
        .replace("%H", "hh")
        .replace("%M", "mm")
        .replace("%S", "ss")
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `1.234.567` on `sep` and checks the groups are thousands groups.
fn thousands_groups(int_part: &str, sep: char) -> Option<String> {
    let groups: Vec<&str> = int_part.split(sep).collect();
    if groups.len() < 2 {
        return None;
    }
    let first_ok = (1..=3).contains(&groups[0].len()) && digits(groups[0]);
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3 && digits(g));
    (first_ok && rest_ok).then(|| groups.concat())
}

/// Parses a number written with `decimal` as decimal separator (and the other of `.`/`,`
/// as an optional thousands separator). Returns `None` for anything else.
pub fn parse_number(text: &str, decimal: char) -> Option<f64> {
    let s = text.trim();
    let (sign, body) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let thousands = if decimal == ',' { '.' } else { ',' };
    // Scientific notation: only with a '.' decimal point (as programs export it).
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) if decimal == '.' => (&body[..i], Some(&body[i + 1..])),
        _ => (body, None),
    };
    let (int_part, frac_part) = match mantissa.rsplit_once(decimal) {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let int_clean = if int_part.contains(thousands) {
        thousands_groups(int_part, thousands)?
    } else {
        int_part.to_string()
    };
    if !(digits(&int_clean) || (int_clean.is_empty() && frac_part.is_some())) {
        return None;
    }
    let mut normal = format!(
        "{sign}{}",
        if int_clean.is_empty() {
            "0"
        } else {
            &int_clean
        }
    );
    if let Some(f) = frac_part {
        if !digits(f) {
            return None;
        }
        normal.push('.');
        normal.push_str(f);
    }
    if let Some(e) = exponent {
        let e_body = e.strip_prefix(['-', '+']).unwrap_or(e);
        if !digits(e_body) {
            return None;
        }
        normal.push('e');
        normal.push_str(e);
    }
    normal.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Parses a number in either convention when the stated one fails on a lone `.`
/// decimal point: `12.5` with decimal `,`.
pub fn parse_number_lenient(text: &str, decimal: char) -> Option<f64> {
    parse_number(text, decimal).or_else(|| {
        if decimal == ',' {
            let s = text.trim();
            let body = s.strip_prefix('-').unwrap_or(s);
            let (i, f) = body.split_once('.')?;
            if digits(i) && digits(f) && f.len() != 3 {
                return s.parse::<f64>().ok().filter(|v| v.is_finite());
            }
        }
        None
    })
}

/// Parses an integer (thousands separators allowed, a zero fraction tolerated).
pub fn parse_integer(text: &str, decimal: char) -> Option<i64> {
    let s = text.trim();
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits(body) {
        return s.parse::<i64>().ok();
    }
    let v = parse_number(s, decimal)?;
    (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "vero" | "t" => Some(true),
        "false" | "falso" | "f" => Some(false),
        _ => None,
    }
}

pub fn parse_date(text: &str, fmt: &str) -> Option<NaiveDate> {
    let s = text.trim();
    NaiveDate::parse_from_str(s, fmt).ok().or_else(|| {
        // "15/03/2024 00:00:00" in a date column: keep the date when the time is midnight.
        DATETIME_FORMATS.iter().find_map(|f| {
            NaiveDateTime::parse_from_str(s, f)
                .ok()
                .filter(|dt| dt.time() == chrono::NaiveTime::MIN && f.starts_with(&fmt[..2]))
                .map(|dt| dt.date())
        })
    })
}

pub fn parse_datetime(text: &str, fmt: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text.trim(), fmt).ok()
}

/// Picks the date format under which the most of `samples` parse (all of them ideally).
pub fn detect_date_format<'a>(
    samples: impl Iterator<Item = &'a str> + Clone,
) -> Option<(&'static str, usize)> {
    DATE_FORMATS
        .iter()
        .map(|f| {
            (
                *f,
                samples
                    .clone()
                    .filter(|s| parse_date(s, f).is_some())
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
}

pub fn detect_datetime_format<'a>(
    samples: impl Iterator<Item = &'a str> + Clone,
) -> Option<(&'static str, usize)> {
    DATETIME_FORMATS
        .iter()
        .map(|f| {
            (
                *f,
                samples
                    .clone()
                    .filter(|s| parse_datetime(s, f).is_some())
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
}

/// A code-like value: a leading zero followed by more digits (`046007`, `00123`), or a
/// digit string too long to be a quantity (tax numbers, phone numbers).
fn looks_like_code(s: &str) -> bool {
    let body = s.trim();
    digits(body) && ((body.len() > 1 && body.starts_with('0')) || body.len() > 15)
}

/// Infers the type of a column from all its non-missing values.
/// Returns the type and, for dates, the format that parses every value.
pub fn infer_type<'a>(
    values: impl Iterator<Item = &'a str> + Clone,
    decimal: char,
) -> (FieldType, Option<&'static str>) {
    let mut any = false;
    let mut all_int = true;
    let mut all_num = true;
    let mut all_bool = true;
    for v in values.clone() {
        any = true;
        if looks_like_code(v) {
            return (FieldType::String, None);
        }
        if all_bool && parse_bool(v).is_none() {
            all_bool = false;
        }
        if all_int
            && !(digits(v.trim().strip_prefix('-').unwrap_or(v.trim())) && v.trim().len() <= 15)
        {
            all_int = false;
        }
        if all_num && parse_number(v, decimal).is_none() {
            all_num = false;
        }
        if !all_bool && !all_int && !all_num {
            break;
        }
    }
    if !any {
        return (FieldType::String, None);
    }
    if all_bool {
        return (FieldType::Boolean, None);
    }
    if all_int {
        return (FieldType::Integer, None);
    }
    if all_num {
        return (FieldType::Number, None);
    }
    let total = values.clone().count();
    if let Some((fmt, n)) = detect_date_format(values.clone())
        && n == total
    {
        return (FieldType::Date, Some(fmt));
    }
    if let Some((fmt, n)) = detect_datetime_format(values)
        && n == total
    {
        return (FieldType::Datetime, Some(fmt));
    }
    (FieldType::String, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_numbers() {
        assert_eq!(parse_number("1.234,50", ','), Some(1234.5));
        assert_eq!(parse_number("12,5", ','), Some(12.5));
        assert_eq!(parse_number("-0,25", ','), Some(-0.25));
        assert_eq!(parse_number("1.234", ','), Some(1234.0));
        assert_eq!(parse_number("1234", ','), Some(1234.0));
        assert_eq!(parse_number("12.34.5", ','), None);
        assert_eq!(parse_number("1,234.5", '.'), Some(1234.5));
        assert_eq!(parse_number("1e3", '.'), Some(1000.0));
        assert_eq!(parse_number("inf", '.'), None);
        assert_eq!(parse_number("NaN", '.'), None);
        assert_eq!(parse_number("abc", ','), None);
        assert_eq!(parse_number("", ','), None);
        assert_eq!(parse_number_lenient("12.5", ','), Some(12.5));
        assert_eq!(parse_number_lenient("1625432,18", ','), Some(1625432.18));
    }

    #[test]
    fn integers_and_codes() {
        assert_eq!(parse_integer("1.500", ','), Some(1500));
        assert_eq!(parse_integer("42", ','), Some(42));
        assert_eq!(parse_integer("4,5", ','), None);
        let codes = ["046007", "001001"];
        assert_eq!(infer_type(codes.iter().copied(), ',').0, FieldType::String);
        let ints = ["55012", "7"];
        assert_eq!(infer_type(ints.iter().copied(), ',').0, FieldType::Integer);
        let nums = ["1.234,50", "3"];
        assert_eq!(infer_type(nums.iter().copied(), ',').0, FieldType::Number);
    }

    #[test]
    fn italian_dates() {
        assert_eq!(
            parse_date("15/03/2024", "%d/%m/%Y"),
            NaiveDate::from_ymd_opt(2024, 3, 15)
        );
        assert_eq!(
            parse_date("15-03-2024", "%d-%m-%Y"),
            NaiveDate::from_ymd_opt(2024, 3, 15)
        );
        assert_eq!(parse_date("31/02/2024", "%d/%m/%Y"), None);
        assert_eq!(
            parse_date("15/03/2024 00:00:00", "%d/%m/%Y"),
            NaiveDate::from_ymd_opt(2024, 3, 15)
        );
        let v = ["01/02/2024", "28/02/2024"];
        assert_eq!(
            infer_type(v.iter().copied(), ','),
            (FieldType::Date, Some("%d/%m/%Y"))
        );
        let v = ["01-02-2024", "28-02-2024"];
        assert_eq!(
            infer_type(v.iter().copied(), ','),
            (FieldType::Date, Some("%d-%m-%Y"))
        );
        assert_eq!(human_format("%d/%m/%Y"), "dd/mm/yyyy");
    }
}
