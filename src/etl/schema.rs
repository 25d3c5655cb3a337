//! The schema step: from text cells to typed columns, with the recipe's checks.
//!
//! Each `[[column]]` of the recipe picks a source column, renames it, types it and checks
//! it (required, unique, allowed values, range). Unlisted columns are published with an
//! inferred type unless `keep_unlisted = false`. A cell that does not fit rejects its row
//! (with file, row, column, value and the reason in the quality report) instead of
//! stopping the build; the pipeline fails the build when too many rows are rejected.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use polars::prelude::*;

use super::table::RawTable;
use super::values::{self, human_format};
use crate::config::recipe::{ColumnSpec, Recipe, normalise_name};
use crate::model::{FieldType, Rejection};

/// Rows rejected so far, at most one reason kept per row.
#[derive(Debug, Default, Clone)]
pub struct RowErrors {
    rejected: Vec<bool>,
    pub list: Vec<(usize, Rejection)>,
}

impl RowErrors {
    pub fn new(rows: usize) -> RowErrors {
        RowErrors {
            rejected: vec![false; rows],
            list: Vec::new(),
        }
    }

    /// Records the first reason a row is rejected.
    pub fn reject(&mut self, index: usize, rejection: Rejection) {
        if let Some(slot) = self.rejected.get_mut(index)
            && !*slot
        {
            *slot = true;
            self.list.push((index, rejection));
        }
    }

    pub fn is_rejected(&self, index: usize) -> bool {
        self.rejected.get(index).copied().unwrap_or(false)
    }

    pub fn count(&self) -> usize {
        self.list.len()
    }

    /// Mask of the rows to keep.
    pub fn keep_mask(&self) -> BooleanChunked {
        BooleanChunked::from_iter_values("keep".into(), self.rejected.iter().map(|r| !r))
    }
}

/// A column as it will be published (or used and then dropped, when personal).
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    pub name: String,
    pub source: Option<String>,
    pub field_type: FieldType,
    pub description: Option<String>,
    pub required: bool,
    pub unique: bool,
    pub personal: bool,
}

/// Output of the schema step.
pub struct Typed {
    /// Typed columns, all source rows (rejected rows are marked in `errors`, not removed).
    pub df: DataFrame,
    pub columns: Vec<ColumnPlan>,
    pub errors: RowErrors,
    pub detected: Vec<(String, String)>,
}

/// A schema problem that stops the build (not a bad cell): a missing column, say.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SchemaError {
    pub message: String,
}

/// Applies the recipe's schema to `raw`. `exclude` lists source columns consumed by the
/// geometry step, which are not published unless the recipe lists them.
pub fn apply(
    recipe: &Recipe,
    raw: &RawTable,
    file_label: &str,
    exclude: &HashSet<String>,
) -> Result<Typed, SchemaError> {
    let source_names: Vec<String> = raw
        .df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let listed: HashMap<&str, &ColumnSpec> = recipe
        .file
        .column
        .iter()
        .map(|c| (c.source.get_ref().as_str(), c))
        .collect();
    for c in &recipe.file.column {
        if !source_names.iter().any(|n| n == c.source.get_ref()) {
            let mut message = format!(
                "{}, line {}: column {:?} is not in the source {file_label}",
                recipe.path.display(),
                recipe.line(c.source.span()).unwrap_or(0),
                c.source.get_ref()
            );
            if let Some(n) =
                crate::vocab::nearest(c.source.get_ref(), source_names.iter().map(|s| s.as_str()))
            {
                message.push_str(&format!("; did you mean {n:?}?"));
            }
            message.push_str(&format!(" (its columns: {})", source_names.join(", ")));
            return Err(SchemaError { message });
        }
    }
    let keep_unlisted = recipe
        .file
        .schema
        .as_ref()
        .map(|s| s.keep_unlisted)
        .unwrap_or(true);

    // Output order: listed columns in recipe order, then unlisted ones in source order.
    let mut order: Vec<(String, Option<&ColumnSpec>)> = recipe
        .file
        .column
        .iter()
        .map(|c| (c.source.get_ref().clone(), Some(c)))
        .collect();
    if keep_unlisted {
        for n in &source_names {
            if !listed.contains_key(n.as_str()) && !exclude.contains(n) {
                order.push((n.clone(), None));
            }
        }
    }

    let height = raw.df.height();
    let mut errors = RowErrors::new(height);
    let mut detected = Vec::new();
    let mut out_columns = Vec::with_capacity(order.len());
    let mut plans = Vec::with_capacity(order.len());
    let mut used_names = HashSet::new();
    let date_format = recipe.file.source.date_format.clone();

    for (source, spec) in order {
        let name = spec
            .map(crate::config::recipe::published_name)
            .unwrap_or_else(|| normalise_name(&source));
        if !used_names.insert(name.clone()) {
            return Err(SchemaError {
                message: format!(
                    "{}: two source columns would be published as {name:?}; list one of them in a [[column]] with another name",
                    recipe.path.display()
                ),
            });
        }
        let col = raw.df.column(&source).map_err(|e| SchemaError {
            message: format!("internal: column {source:?} vanished: {e}"),
        })?;
        let text = col.str().map_err(|e| SchemaError {
            message: format!("internal: column {source:?} is not text: {e}"),
        })?;
        let present: Vec<&str> = text.iter().flatten().collect();
        let non_null = || present.iter().copied();

        let (field_type, mut fmt) = match spec.and_then(|s| s.field_type) {
            Some(t) => (t, None),
            None => {
                // A date format stated in the recipe wins over detection: "01/02/2023"
                // is ambiguous, the recipe is not.
                let stated = date_format.as_deref().filter(|f| {
                    !present.is_empty()
                        && present.iter().all(|v| values::parse_date(v, f).is_some())
                });
                match stated {
                    Some(f) => (FieldType::Date, Some(leak_format(f))),
                    None => values::infer_type(non_null(), raw.decimal),
                }
            }
        };
        if field_type == FieldType::Date && fmt.is_none() {
            fmt = match &date_format {
                Some(f) => Some(leak_format(f)),
                None => values::detect_date_format(non_null().take(2000)).map(|(f, _)| f),
            };
        }
        if field_type == FieldType::Datetime && fmt.is_none() {
            fmt = values::detect_datetime_format(non_null().take(2000)).map(|(f, _)| f);
        }
        if matches!(field_type, FieldType::Date | FieldType::Datetime)
            && date_format.is_none()
            && let Some(f) = fmt
        {
            detected.push((format!("date format of {source:?}"), human_format(f)));
        }

        let ctx = CellCtx {
            raw,
            file_label,
            column: &source,
        };
        let column = convert(&ctx, text, field_type, fmt, raw.decimal, &name, &mut errors);
        if let Some(spec) = spec {
            check_constraints(
                &ctx,
                spec,
                &column,
                field_type,
                fmt,
                raw.decimal,
                &mut errors,
            );
        }
        out_columns.push(column);
        plans.push(ColumnPlan {
            name,
            source: Some(source.clone()),
            field_type,
            description: spec.and_then(|s| s.description.clone()),
            required: spec.map(|s| s.required).unwrap_or(false),
            unique: spec.map(|s| s.unique).unwrap_or(false),
            personal: spec.map(|s| s.personal).unwrap_or(false),
        });
    }

    let df = DataFrame::new(height, out_columns).map_err(|e| SchemaError {
        message: format!("internal: cannot assemble the typed table: {e}"),
    })?;
    Ok(Typed {
        df,
        columns: plans,
        errors,
        detected,
    })
}

/// chrono wants a `&'static str` in our tables; recipe formats are few and live for the
/// whole build, so leaking the handful of strings is the simple and honest choice.
fn leak_format(f: &str) -> &'static str {
    Box::leak(f.to_string().into_boxed_str())
}

struct CellCtx<'a> {
    raw: &'a RawTable,
    file_label: &'a str,
    column: &'a str,
}

impl CellCtx<'_> {
    fn rejection(&self, index: usize, value: Option<&str>, reason: String) -> Rejection {
        Rejection {
            file: self.file_label.to_string(),
            row: self
                .raw
                .rows
                .get(index)
                .copied()
                .unwrap_or(index as u64 + 1),
            column: Some(self.column.to_string()),
            value: value.map(|v| truncate(v, 200)),
            reason,
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        s.to_string()
    } else {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

fn convert(
    ctx: &CellCtx,
    text: &StringChunked,
    field_type: FieldType,
    fmt: Option<&'static str>,
    decimal: char,
    name: &str,
    errors: &mut RowErrors,
) -> Column {
    let name: PlSmallStr = name.into();
    match field_type {
        FieldType::String => text.clone().with_name(name).into_column(),
        FieldType::Integer => {
            let ca: Int64Chunked = text
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.and_then(|s| {
                        let p = values::parse_integer(s, decimal);
                        if p.is_none() {
                            errors.reject(i, ctx.rejection(i, Some(s), "not an integer".into()));
                        }
                        p
                    })
                })
                .collect();
            ca.with_name(name).into_column()
        }
        FieldType::Number => {
            let ca: Float64Chunked = text
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.and_then(|s| {
                        let p = values::parse_number_lenient(s, decimal);
                        if p.is_none() {
                            let sep = if decimal == ',' { "1.234,5" } else { "1,234.5" };
                            errors.reject(
                                i,
                                ctx.rejection(
                                    i,
                                    Some(s),
                                    format!("not a number (expected e.g. {sep})"),
                                ),
                            );
                        }
                        p
                    })
                })
                .collect();
            ca.with_name(name).into_column()
        }
        FieldType::Boolean => {
            let ca: BooleanChunked = text
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.and_then(|s| {
                        let p = values::parse_bool(s);
                        if p.is_none() {
                            errors.reject(
                                i,
                                ctx.rejection(
                                    i,
                                    Some(s),
                                    "not a boolean (expected true or false)".into(),
                                ),
                            );
                        }
                        p
                    })
                })
                .collect();
            ca.with_name(name).into_column()
        }
        FieldType::Date => {
            let f = fmt.unwrap_or("%d/%m/%Y");
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let ca: Int32Chunked = text
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.and_then(|s| match values::parse_date(s, f) {
                        Some(d) => Some((d - epoch).num_days() as i32),
                        None => {
                            errors.reject(
                                i,
                                ctx.rejection(
                                    i,
                                    Some(s),
                                    format!("not a valid date in the form {}", human_format(f)),
                                ),
                            );
                            None
                        }
                    })
                })
                .collect();
            ca.with_name(name).into_date().into_column()
        }
        FieldType::Datetime => {
            let f = fmt.unwrap_or("%d/%m/%Y %H:%M:%S");
            let ca: Int64Chunked = text
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.and_then(|s| match values::parse_datetime(s, f) {
                        Some(dt) => Some(dt.and_utc().timestamp_millis()),
                        None => {
                            errors.reject(
                                i,
                                ctx.rejection(
                                    i,
                                    Some(s),
                                    format!(
                                        "not a valid date and time in the form {}",
                                        human_format(f)
                                    ),
                                ),
                            );
                            None
                        }
                    })
                })
                .collect();
            ca.with_name(name)
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_column()
        }
    }
}

/// A bound from the recipe converted to the column's physical number (days for dates).
fn bound(v: &toml::Value, t: FieldType) -> Option<f64> {
    match (v, t) {
        (toml::Value::Integer(i), _) => Some(*i as f64),
        (toml::Value::Float(f), _) => Some(*f),
        (toml::Value::String(s), FieldType::Date)
        | (toml::Value::String(s), FieldType::Datetime) => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
            let days = (d - epoch).num_days() as f64;
            Some(if t == FieldType::Date {
                days
            } else {
                days * 86_400_000.0
            })
        }
        (toml::Value::Datetime(dt), FieldType::Date)
        | (toml::Value::Datetime(dt), FieldType::Datetime) => {
            let date = dt.date?;
            let d = NaiveDate::from_ymd_opt(date.year as i32, date.month as u32, date.day as u32)?;
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
            let days = (d - epoch).num_days() as f64;
            Some(if t == FieldType::Date {
                days
            } else {
                days * 86_400_000.0
            })
        }
        _ => None,
    }
}

fn check_constraints(
    ctx: &CellCtx,
    spec: &ColumnSpec,
    column: &Column,
    field_type: FieldType,
    _fmt: Option<&'static str>,
    _decimal: char,
    errors: &mut RowErrors,
) {
    let raw_text = ctx
        .raw
        .df
        .column(ctx.column)
        .ok()
        .and_then(|c| c.str().ok().cloned());
    let raw_at = |i: usize| -> Option<String> {
        raw_text
            .as_ref()
            .and_then(|t| t.get(i).map(|s| s.to_string()))
    };
    let series = column.as_materialized_series();
    let height = series.len();

    if spec.required {
        for i in 0..height {
            if raw_at(i).is_none() {
                errors.reject(i, ctx.rejection(i, None, "missing required value".into()));
            }
        }
    }
    if let Some(allowed) = &spec.values {
        let set: HashSet<&str> = allowed.iter().map(|s| s.as_str()).collect();
        for i in 0..height {
            if let Some(v) = raw_at(i)
                && !set.contains(v.as_str())
            {
                errors.reject(
                    i,
                    ctx.rejection(
                        i,
                        Some(&v),
                        format!("not one of the allowed values ({})", allowed.join(", ")),
                    ),
                );
            }
        }
    }
    if spec.min.is_some() || spec.max.is_some() {
        let lo = spec.min.as_ref().and_then(|v| bound(v, field_type));
        let hi = spec.max.as_ref().and_then(|v| bound(v, field_type));
        if let Ok(phys) = series.to_physical_repr().cast(&DataType::Float64)
            && let Ok(ca) = phys.f64()
        {
            for (i, v) in ca.iter().enumerate() {
                let Some(v) = v else { continue };
                let low = lo.is_some_and(|l| v < l);
                let high = hi.is_some_and(|h| v > h);
                if low || high {
                    let range = format!(
                        "{} to {}",
                        spec.min
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or("-∞".into()),
                        spec.max
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or("+∞".into())
                    );
                    errors.reject(
                        i,
                        ctx.rejection(
                            i,
                            raw_at(i).as_deref(),
                            format!("outside the allowed range {range}"),
                        ),
                    );
                }
            }
        }
    }
    if spec.unique {
        let mut seen: HashMap<String, u64> = HashMap::new();
        for i in 0..height {
            if errors.is_rejected(i) {
                continue;
            }
            let Some(v) = raw_at(i) else { continue };
            let row = ctx.raw.rows.get(i).copied().unwrap_or(i as u64 + 1);
            match seen.get(&v) {
                Some(first) => errors.reject(
                    i,
                    ctx.rejection(
                        i,
                        Some(&v),
                        format!("duplicate value (first seen on row {first})"),
                    ),
                ),
                None => {
                    seen.insert(v, row);
                }
            }
        }
    }
}
