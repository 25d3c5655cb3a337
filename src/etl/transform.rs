//! Recipe transforms, in order: row filters, derived columns, aggregation by group.
//!
//! Aggregation is how a table holding personal data (one row per fine, per person) turns
//! into something publishable: counts and sums by month and street. Groups smaller than
//! `min_count` are dropped so that a group of one cannot reveal an individual. An
//! aggregated table has no geometry.

use chrono::NaiveDate;
use polars::prelude::*;

use super::schema::ColumnPlan;
use crate::config::recipe::{DeriveFn, FilterOp, FilterSpec, Recipe};
use crate::model::FieldType;

/// A table in the middle of the pipeline: typed frame, geometries and source rows aligned.
pub struct Working {
    pub df: DataFrame,
    pub geoms: Option<Vec<Option<geo_types::Geometry<f64>>>>,
    pub rows: Vec<u64>,
    pub columns: Vec<ColumnPlan>,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransformError {
    pub message: String,
}

fn err(recipe: &Recipe, span: std::ops::Range<usize>, message: String) -> TransformError {
    TransformError {
        message: recipe.error(span, message).to_string(),
    }
}

fn column_names(w: &Working) -> Vec<String> {
    w.columns.iter().map(|c| c.name.clone()).collect()
}

fn find<'a>(
    recipe: &Recipe,
    w: &'a Working,
    name: &str,
    span: std::ops::Range<usize>,
    what: &str,
) -> Result<&'a ColumnPlan, TransformError> {
    w.columns.iter().find(|c| c.name == name).ok_or_else(|| {
        let names = column_names(w);
        let mut msg = format!("{what} refers to column {name:?}, which the table does not have");
        if let Some(n) = crate::vocab::nearest(name, names.iter().map(|s| s.as_str())) {
            msg.push_str(&format!("; did you mean {n:?}?"));
        }
        msg.push_str(&format!(" (columns: {})", names.join(", ")));
        err(recipe, span, msg)
    })
}

/// Keeps the rows at `keep` (a boolean mask) in the frame, the geometries and the rows.
pub fn retain(w: &mut Working, keep: &BooleanChunked) -> Result<(), TransformError> {
    w.df = w.df.filter(keep).map_err(|e| TransformError {
        message: format!("internal: filtering rows failed: {e}"),
    })?;
    let flags: Vec<bool> = keep.iter().map(|b| b.unwrap_or(false)).collect();
    if let Some(g) = w.geoms.take() {
        w.geoms = Some(
            g.into_iter()
                .zip(flags.iter())
                .filter_map(|(g, k)| k.then_some(g))
                .collect(),
        );
    }
    w.rows = w
        .rows
        .iter()
        .zip(flags.iter())
        .filter_map(|(r, k)| k.then_some(*r))
        .collect();
    Ok(())
}

fn literal(
    recipe: &Recipe,
    f: &FilterSpec,
    v: &toml::Value,
    t: FieldType,
) -> Result<Expr, TransformError> {
    let bad = |what: &str| {
        err(
            recipe,
            f.column.span(),
            format!("filter on {:?}: {what}", f.column.get_ref()),
        )
    };
    Ok(match (t, v) {
        (FieldType::Date, toml::Value::String(s)) => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| bad(&format!("{s:?} is not a date in the form YYYY-MM-DD")))?;
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            lit((d - epoch).num_days() as i32).cast(DataType::Date)
        }
        (FieldType::String, toml::Value::String(s)) => lit(s.clone()),
        (FieldType::Integer, toml::Value::Integer(i)) => lit(*i),
        (FieldType::Number, toml::Value::Integer(i)) => lit(*i as f64),
        (FieldType::Number, toml::Value::Float(x))
        | (FieldType::Integer, toml::Value::Float(x)) => lit(*x),
        (FieldType::Boolean, toml::Value::Boolean(b)) => lit(*b),
        (t, v) => {
            return Err(bad(&format!(
                "value {v} does not fit a {} column",
                t.as_str()
            )));
        }
    })
}

/// Applies `[[filter]]`; returns the number of rows filtered out.
pub fn filters(recipe: &Recipe, w: &mut Working) -> Result<u64, TransformError> {
    let mut dropped = 0u64;
    for f in &recipe.file.filter {
        let plan = find(recipe, w, f.column.get_ref(), f.column.span(), "a filter")?.clone();
        let c = col(plan.name.as_str());
        let need_value = !matches!(f.op, FilterOp::IsNull | FilterOp::NotNull);
        let value = match (&f.value, need_value) {
            (Some(v), true) => Some(v),
            (None, true) => {
                return Err(err(
                    recipe,
                    f.column.span(),
                    format!("filter on {:?} needs a value", f.column.get_ref()),
                ));
            }
            _ => None,
        };
        let expr = match f.op {
            FilterOp::IsNull => c.is_null(),
            FilterOp::NotNull => c.is_not_null(),
            FilterOp::In | FilterOp::NotIn => {
                let Some(toml::Value::Array(items)) = value else {
                    return Err(err(
                        recipe,
                        f.column.span(),
                        "in / not_in need a list value, e.g. value = [\"A\", \"B\"]".into(),
                    ));
                };
                let mut any: Option<Expr> = None;
                for item in items {
                    let e = c.clone().eq(literal(recipe, f, item, plan.field_type)?);
                    any = Some(match any {
                        Some(a) => a.or(e),
                        None => e,
                    });
                }
                let any = any.unwrap_or(lit(false));
                if f.op == FilterOp::In { any } else { any.not() }
            }
            op => {
                let Some(v) = value else {
                    return Err(err(recipe, f.column.span(), "filter needs a value".into()));
                };
                let l = literal(recipe, f, v, plan.field_type)?;
                match op {
                    FilterOp::Eq => c.eq(l),
                    FilterOp::Ne => c.neq(l),
                    FilterOp::Gt => c.gt(l),
                    FilterOp::Ge => c.gt_eq(l),
                    FilterOp::Lt => c.lt(l),
                    _ => c.lt_eq(l),
                }
            }
        };
        let mask =
            w.df.clone()
                .lazy()
                .select([expr.fill_null(lit(false)).alias("__keep")])
                .collect()
                .map_err(|e| err(recipe, f.column.span(), format!("filter failed: {e}")))?;
        let keep = mask
            .column("__keep")
            .and_then(|c| c.bool().cloned())
            .map_err(|e| err(recipe, f.column.span(), format!("filter failed: {e}")))?;
        let before = w.df.height();
        retain(w, &keep)?;
        dropped += (before - w.df.height()) as u64;
    }
    Ok(dropped)
}

/// Applies `[[derive]]`.
pub fn derive(recipe: &Recipe, w: &mut Working) -> Result<(), TransformError> {
    for d in &recipe.file.derive {
        let name = d.name.get_ref();
        if w.columns.iter().any(|c| &c.name == name) {
            return Err(err(
                recipe,
                d.name.span(),
                format!("derived column {name:?} already exists"),
            ));
        }
        let from = find(
            recipe,
            w,
            d.from.get_ref(),
            d.from.span(),
            "a derived column",
        )?
        .clone();
        let c = col(from.name.as_str());
        let is_date = matches!(from.field_type, FieldType::Date | FieldType::Datetime);
        let (expr, t) = match d.function {
            DeriveFn::Year | DeriveFn::Month | DeriveFn::YearMonth if !is_date => {
                return Err(err(
                    recipe,
                    d.from.span(),
                    format!(
                        "{:?} is a {} column; year, month and year_month need a date",
                        from.name,
                        from.field_type.as_str()
                    ),
                ));
            }
            DeriveFn::Upper | DeriveFn::Lower | DeriveFn::Trim
                if from.field_type != FieldType::String =>
            {
                return Err(err(
                    recipe,
                    d.from.span(),
                    format!(
                        "{:?} is a {} column; upper, lower and trim need text",
                        from.name,
                        from.field_type.as_str()
                    ),
                ));
            }
            DeriveFn::Year => (c.dt().year().cast(DataType::Int64), FieldType::Integer),
            DeriveFn::Month => (c.dt().month().cast(DataType::Int64), FieldType::Integer),
            DeriveFn::YearMonth => (c.dt().to_string("%Y-%m"), FieldType::String),
            DeriveFn::Upper => (c.str().to_uppercase(), FieldType::String),
            DeriveFn::Lower => (c.str().to_lowercase(), FieldType::String),
            DeriveFn::Trim => (
                c.str().strip_chars(lit(LiteralValue::untyped_null())),
                FieldType::String,
            ),
        };
        w.df =
            w.df.clone()
                .lazy()
                .with_column(expr.alias(name.as_str()))
                .collect()
                .map_err(|e| {
                    err(
                        recipe,
                        d.name.span(),
                        format!("derived column {name:?} failed: {e}"),
                    )
                })?;
        w.columns.push(ColumnPlan {
            name: name.clone(),
            source: None,
            field_type: t,
            description: None,
            required: false,
            unique: false,
            personal: false,
        });
    }
    Ok(())
}

/// Applies `[aggregate]`; the result has one row per group, sorted by the group columns.
pub fn aggregate(recipe: &Recipe, w: &mut Working) -> Result<(), TransformError> {
    let Some(a) = &recipe.file.aggregate else {
        return Ok(());
    };
    let mut plans = Vec::new();
    let mut keys = Vec::new();
    for g in a.group_by.get_ref() {
        let plan = find(recipe, w, g, a.group_by.span(), "group_by")?;
        if plan.personal {
            return Err(err(
                recipe,
                a.group_by.span(),
                format!("cannot group by {g:?}: it is personal data"),
            ));
        }
        keys.push(col(g.as_str()));
        plans.push(plan.clone());
    }
    let count_name = a.count.clone().unwrap_or_else(|| "__count".to_string());
    let mut aggs = vec![len().cast(DataType::Int64).alias(count_name.as_str())];
    for (out, input) in &a.sum {
        let plan = find(recipe, w, input, a.group_by.span(), "sum")?;
        let t = match plan.field_type {
            FieldType::Integer => FieldType::Integer,
            FieldType::Number => FieldType::Number,
            other => {
                return Err(err(
                    recipe,
                    a.group_by.span(),
                    format!("cannot sum {input:?}: it is a {} column", other.as_str()),
                ));
            }
        };
        let dtype = if t == FieldType::Integer {
            DataType::Int64
        } else {
            DataType::Float64
        };
        aggs.push(col(input.as_str()).sum().cast(dtype).alias(out.as_str()));
        plans.push(ColumnPlan {
            name: out.clone(),
            source: None,
            field_type: t,
            description: Some(format!("somma di {input}")),
            required: false,
            unique: false,
            personal: false,
        });
    }
    if a.count.is_some() {
        plans.insert(
            a.group_by.get_ref().len(),
            ColumnPlan {
                name: count_name.clone(),
                source: None,
                field_type: FieldType::Integer,
                description: Some("numero di righe del gruppo".into()),
                required: true,
                unique: false,
                personal: false,
            },
        );
    }
    let sort_names: Vec<PlSmallStr> = a
        .group_by
        .get_ref()
        .iter()
        .map(|s| s.as_str().into())
        .collect();
    let lf =
        w.df.clone()
            .lazy()
            .group_by(keys)
            .agg(aggs)
            .filter(col(count_name.as_str()).gt_eq(lit(a.min_count as i64)))
            .sort(
                sort_names,
                SortMultipleOptions::default().with_nulls_last(true),
            );
    let df = lf.collect().map_err(|e| {
        err(
            recipe,
            a.group_by.span(),
            format!("aggregation failed: {e}"),
        )
    })?;
    // Column order: group keys, count, sums (as in `plans`).
    let order: Vec<PlSmallStr> = plans.iter().map(|p| p.name.as_str().into()).collect();
    w.df = df.select(order).map_err(|e| {
        err(
            recipe,
            a.group_by.span(),
            format!("aggregation failed: {e}"),
        )
    })?;
    w.rows = (1..=w.df.height() as u64).collect();
    w.geoms = None;
    w.columns = plans;
    Ok(())
}
