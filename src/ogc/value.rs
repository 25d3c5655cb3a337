//! Typed property values, as read from a layer file and as written in filters.
//!
//! FlatGeobuf stores dates and datetimes as ISO 8601 text; the manifest's field types say
//! which is which, so they are parsed here into [`Value::Date`] and [`Value::Timestamp`]
//! and compared as instants, not as strings. Output goes back to the exact text the other
//! downloads use (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS[.fff]`).
//!
//! Pitfall: datetimes are naive (Portale's tables carry no time zone); a filter's
//! `TIMESTAMP('...Z')` or an offset is converted to UTC and compared with them as if they
//! were UTC.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::model::FieldType;

/// One property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

/// The kinds values are compared within; comparing across kinds is a filter error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Boolean,
    Temporal,
}

impl Kind {
    pub fn of_field(t: FieldType) -> Kind {
        match t {
            FieldType::String => Kind::Text,
            FieldType::Integer | FieldType::Number => Kind::Number,
            FieldType::Boolean => Kind::Boolean,
            FieldType::Date | FieldType::Datetime => Kind::Temporal,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Temporal => "date/time",
        }
    }
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::Str(_) => Kind::Text,
            Value::Int(_) | Value::Num(_) => Kind::Number,
            Value::Bool(_) => Kind::Boolean,
            Value::Date(_) | Value::Timestamp(_) => Kind::Temporal,
        }
    }

    /// Orders two values of one kind; `None` across kinds or with NaN.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Num(b)) => (*a as f64).partial_cmp(b),
            (Value::Num(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Num(a), Value::Num(b)) => a.partial_cmp(b),
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
            (Value::Date(a), Value::Timestamp(b)) => Some(midnight(*a).cmp(b)),
            (Value::Timestamp(a), Value::Date(b)) => Some(a.cmp(&midnight(*b))),
            _ => None,
        }
    }

    /// The value as JSON, dates as the ISO text of the downloads.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Int(v) => serde_json::Value::from(*v),
            // NaN and infinities have no JSON form: null, as the GeoJSON download does.
            Value::Num(v) => serde_json::Number::from_f64(*v)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Bool(v) => serde_json::Value::Bool(*v),
            Value::Date(_) | Value::Timestamp(_) => serde_json::Value::String(self.to_string()),
        }
    }

    /// Parses `text` as a value of field type `t` (query parameters `?name=value`).
    pub fn parse_as(t: FieldType, text: &str) -> Result<Value, String> {
        match t {
            FieldType::String => Ok(Value::Str(text.to_string())),
            FieldType::Integer => text
                .parse::<i64>()
                .map(Value::Int)
                .or_else(|_| text.parse::<f64>().map(Value::Num))
                .map_err(|_| format!("{text:?} is not an integer")),
            FieldType::Number => text
                .parse::<f64>()
                .map(Value::Num)
                .map_err(|_| format!("{text:?} is not a number")),
            FieldType::Boolean => match text {
                "true" | "TRUE" | "True" | "1" => Ok(Value::Bool(true)),
                "false" | "FALSE" | "False" | "0" => Ok(Value::Bool(false)),
                _ => Err(format!("{text:?} is not true or false")),
            },
            FieldType::Date => parse_date(text)
                .map(Value::Date)
                .ok_or_else(|| format!("{text:?} is not a date YYYY-MM-DD")),
            FieldType::Datetime => parse_timestamp(text)
                .map(Value::Timestamp)
                .or_else(|| parse_date(text).map(Value::Date))
                .ok_or_else(|| format!("{text:?} is not a date and time YYYY-MM-DDTHH:MM:SS")),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Int(v) => write!(f, "{v}"),
            Value::Num(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::Timestamp(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.f")),
        }
    }
}

fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// `YYYY-MM-DDTHH:MM:SS[.f]` with an optional `Z` or offset (converted to UTC); a space
/// instead of `T` is accepted.
pub fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.naive_utc());
    }
    let text = text.strip_suffix('Z').unwrap_or(text);
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_across_int_and_float() {
        assert_eq!(
            Value::Int(3).compare(&Value::Num(2.5)),
            Some(Ordering::Greater)
        );
        assert_eq!(Value::Str("3".into()).compare(&Value::Int(3)), None);
    }

    #[test]
    fn dates_and_timestamps() {
        let d = Value::parse_as(FieldType::Date, "2024-03-01").unwrap();
        assert_eq!(d.to_string(), "2024-03-01");
        let t = parse_timestamp("2024-03-01T10:00:00+01:00").unwrap();
        assert_eq!(
            Value::Timestamp(t).to_string(),
            "2024-03-01T09:00:00",
            "offsets are converted to UTC"
        );
        assert_eq!(
            d.compare(&Value::Timestamp(t)),
            Some(Ordering::Less),
            "a date is its midnight"
        );
        assert!(Value::parse_as(FieldType::Date, "01/03/2024").is_err());
    }
}
