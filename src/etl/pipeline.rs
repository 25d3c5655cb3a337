//! One dataset through the ETL, in memory: read every source file, apply the schema,
//! build and check geometries, drop rejected rows, filter, derive, aggregate, and drop
//! personal data. The result is a [`Table`] and the facts the manifest records about it
//! (fields, extent, layer, quality report). Nothing is written here: `portale check`
//! runs exactly this, and `portale build` writes what it returns.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use geo::BoundingRect;
use geo_types::Geometry;
use polars::prelude::*;

use super::geometry::{self, GeometryStepError};
use super::read::{self, ReadError};
use super::schema::{self, SchemaError};
use super::table::{RawTable, Table};
use super::transform::{self, TransformError, Working};
use crate::config::{CatalogConfig, ConfigError, Recipe};
use crate::model::{
    Detected, Extent, Field, FieldType, GeometryType, Layer, QualityReport, Rejection,
    TemporalExtent,
};

/// How many rejections are kept, with their details, in the quality report.
pub const MAX_LISTED_REJECTIONS: usize = 200;

/// The stages a dataset goes through, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Read,
    Validate,
    Geometry,
    Transform,
    Write,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Read => "reading",
            Stage::Validate => "validating",
            Stage::Geometry => "geometries",
            Stage::Transform => "transforming",
            Stage::Write => "writing",
        }
    }
}

/// Why a dataset could not be processed. Every message names the file and, where there
/// is one, the row, the column, the value and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Geometry(#[from] GeometryStepError),
    #[error(transparent)]
    Transform(#[from] TransformError),
    #[error("{0}")]
    Other(String),
    #[error(
        "{rejected} of {read} rows were rejected, more than the {max_pct}% the recipe allows (max_rejected in [source]); the first ones:\n{}",
        list_rejections(.first)
    )]
    TooManyRejected {
        read: u64,
        rejected: u64,
        max_pct: String,
        first: Vec<Rejection>,
    },
}

fn list_rejections(r: &[Rejection]) -> String {
    r.iter()
        .map(|r| format!("  - {}", describe_rejection(r)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line describing a rejected row: file, row, column, value, reason.
pub fn describe_rejection(r: &Rejection) -> String {
    let mut s = format!("{}, row {}", r.file, r.row);
    if let Some(c) = &r.column {
        s.push_str(&format!(", column {c:?}"));
    }
    if let Some(v) = &r.value {
        s.push_str(&format!(", value {v:?}"));
    }
    s.push_str(&format!(": {}", r.reason));
    s
}

/// A processed dataset, ready to be written.
pub struct Processed {
    pub table: Table,
    pub fields: Vec<Field>,
    pub extent: Extent,
    pub layer: Option<Layer>,
    pub quality: QualityReport,
}

/// Reads every source file of the recipe and stacks them (same columns required).
pub fn read_sources(recipe: &Recipe) -> Result<(RawTable, Vec<(usize, String)>), EtlError> {
    let format = recipe.source_format().ok_or_else(|| {
        EtlError::Config(recipe.error(
            recipe.file.source.files.span(),
            "cannot tell the source format from the file extension: set [source] format",
        ))
    })?;
    let opts = recipe.source_options();
    let mut acc: Option<RawTable> = None;
    // (first row index of each file, file name) to label rejections.
    let mut starts = Vec::new();
    for (name, path) in recipe
        .file
        .source
        .files
        .get_ref()
        .iter()
        .zip(recipe.source_paths())
    {
        let raw = read::read_source(&path, format, &opts)?;
        match acc.as_mut() {
            None => {
                starts.push((0, name.clone()));
                acc = Some(raw);
            }
            Some(a) => {
                let first: Vec<String> =
                    a.df.get_column_names()
                        .iter()
                        .map(|s| s.to_string())
                        .collect();
                let these: Vec<String> = raw
                    .df
                    .get_column_names()
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                if first != these {
                    return Err(EtlError::Other(format!(
                        "{}: its columns ({}) differ from those of {} ({}); files listed together must have the same columns",
                        path.display(),
                        these.join(", "),
                        starts
                            .first()
                            .map(|s: &(usize, String)| s.1.as_str())
                            .unwrap_or_default(),
                        first.join(", ")
                    )));
                }
                starts.push((a.df.height(), name.clone()));
                a.df.vstack_mut(&raw.df).map_err(|e| {
                    EtlError::Other(format!("{}: cannot append its rows: {e}", path.display()))
                })?;
                a.rows.extend(raw.rows);
                match (&mut a.geoms, raw.geoms) {
                    (Some(g), Some(r)) => g.extend(r),
                    (None, None) => {}
                    _ => {
                        return Err(EtlError::Other(format!(
                            "{}: mixes files with and without geometries",
                            recipe.path.display()
                        )));
                    }
                }
                for d in raw.detected {
                    if !a.detected.contains(&d) {
                        a.detected.push(d);
                    }
                }
            }
        }
    }
    let raw = acc.ok_or_else(|| {
        EtlError::Config(recipe.error(recipe.file.source.files.span(), "no source files listed"))
    })?;
    Ok((raw, starts))
}

fn file_for(starts: &[(usize, String)], index: usize) -> &str {
    starts
        .iter()
        .rev()
        .find(|(s, _)| *s <= index)
        .map(|(_, n)| n.as_str())
        .unwrap_or("")
}

/// Runs the whole ETL for one recipe, in memory.
pub fn process(
    recipe: &Recipe,
    catalog: &CatalogConfig,
    progress: &dyn Fn(Stage),
) -> Result<Processed, EtlError> {
    progress(Stage::Read);
    let (raw, starts) = read_sources(recipe)?;
    let first_file = starts.first().map(|s| s.1.clone()).unwrap_or_default();
    let rows_read = raw.df.height() as u64;
    if rows_read == 0 {
        return Err(EtlError::Other(format!(
            "{}: the source has a header but no data rows",
            recipe.dir.join(&first_file).display()
        )));
    }

    progress(Stage::Validate);
    let consumed: HashSet<String> = geometry::consumed_columns(recipe);
    let typed = schema::apply(recipe, &raw, &first_file, &consumed)?;
    let mut errors = typed.errors;

    progress(Stage::Geometry);
    let geo = geometry::build(
        recipe,
        &raw,
        catalog.catalog.territory_bbox,
        &first_file,
        &mut errors,
    )?;

    // Label each rejection with its own file when several files were stacked.
    if starts.len() > 1 {
        for (i, r) in errors.list.iter_mut() {
            r.file = file_for(&starts, *i).to_string();
        }
    }
    let rejected = errors.count() as u64;
    let max = recipe.max_rejected();
    if rejected > 0 && rejected as f64 > max * rows_read as f64 {
        let mut first: Vec<Rejection> = errors.list.iter().map(|(_, r)| r.clone()).collect();
        first.sort_by_key(|r| (r.file.clone(), r.row));
        first.truncate(10);
        return Err(EtlError::TooManyRejected {
            read: rows_read,
            rejected,
            max_pct: format!("{}", (max * 1000.0).round() / 10.0),
            first,
        });
    }

    // Personal columns, recorded before transforms (aggregation drops them from the plan).
    let personal: Vec<(String, String)> = typed
        .columns
        .iter()
        .filter(|c| c.personal)
        .map(|c| {
            (
                c.name.clone(),
                c.source.clone().unwrap_or_else(|| c.name.clone()),
            )
        })
        .collect();
    let mut w = Working {
        df: typed.df,
        geoms: geo.geoms,
        rows: raw.rows.clone(),
        columns: typed.columns,
    };
    let keep = errors.keep_mask();
    transform::retain(&mut w, &keep)?;

    progress(Stage::Transform);
    let rows_filtered = transform::filters(recipe, &mut w)?;
    transform::derive(recipe, &mut w)?;
    transform::aggregate(recipe, &mut w)?;

    // Personal data never leaves the ETL.
    let mut personal_dropped = Vec::new();
    for (name, source) in &personal {
        if w.df.get_column_index(name).is_some() {
            w.df =
                w.df.drop(name)
                    .map_err(|e| EtlError::Other(format!("internal: cannot drop {name}: {e}")))?;
        }
        personal_dropped.push(source.clone());
    }
    w.columns.retain(|c| !c.personal);
    if w.df.height() == 0 {
        return Err(EtlError::Other(format!(
            "{}: no rows left to publish after validation and filters ({rows_read} read, {rejected} rejected, {rows_filtered} filtered out)",
            recipe.path.display()
        )));
    }

    let fields = fields_of(&w);
    let bbox = w.geoms.as_ref().and_then(|g| bbox_of(g.iter().flatten()));
    let temporal = recipe
        .file
        .dataset
        .temporal
        .as_ref()
        .map(|t| TemporalExtent {
            start: t.get_ref().start.clone(),
            end: t.get_ref().end.clone(),
        })
        .or_else(|| temporal_of(&w.df, &fields));
    let layer = w.geoms.as_ref().map(|g| Layer {
        geometry_type: geometry_type_of(g.iter().flatten()),
        source_crs: geo.source_crs.unwrap_or(4326),
        features: g.iter().flatten().count() as u64,
    });

    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (_, r) in &errors.list {
        *counts.entry(reason_kind(&r.reason)).or_default() += 1;
    }
    let mut listed: Vec<Rejection> = errors.list.into_iter().map(|(_, r)| r).collect();
    listed.sort_by_key(|r| (r.file.clone(), r.row));
    listed.truncate(MAX_LISTED_REJECTIONS);
    let mut detected: Vec<Detected> = raw
        .detected
        .iter()
        .map(|(p, v)| Detected {
            file: first_file.clone(),
            property: p.clone(),
            value: v.clone(),
        })
        .collect();
    detected.extend(typed.detected.into_iter().map(|(p, v)| Detected {
        file: first_file.clone(),
        property: p,
        value: v,
    }));
    let quality = QualityReport {
        rows_read,
        rows_kept: w.df.height() as u64,
        rows_rejected: rejected,
        rows_filtered,
        rejections: listed,
        rejection_counts: counts,
        geometries_repaired: geo.repaired,
        geometries_rejected: geo.rejected,
        repairs: geo
            .repairs
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect(),
        personal_data_dropped: personal_dropped,
        detected,
    };
    Ok(Processed {
        table: Table {
            df: w.df,
            geoms: w.geoms.map(|g| g.into_iter().collect()),
        },
        fields,
        extent: Extent { bbox, temporal },
        layer,
        quality,
    })
}

/// The reason without its details, to count rejections by kind.
fn reason_kind(reason: &str) -> String {
    let cut = reason
        .find(" (")
        .into_iter()
        .chain(reason.find(": "))
        .min()
        .unwrap_or(reason.len());
    reason[..cut].to_string()
}

fn fields_of(w: &Working) -> Vec<Field> {
    w.columns
        .iter()
        .map(|c| Field {
            name: c.name.clone(),
            field_type: c.field_type,
            description: c.description.clone(),
            source: c.source.clone(),
            required: c.required,
            unique: c.unique,
            nulls: w
                .df
                .column(&c.name)
                .map(|col| col.null_count() as u64)
                .unwrap_or(0),
        })
        .collect()
}

/// First and last date over the table's date columns.
fn temporal_of(df: &DataFrame, fields: &[Field]) -> Option<TemporalExtent> {
    let mut lo: Option<i32> = None;
    let mut hi: Option<i32> = None;
    for f in fields.iter().filter(|f| f.field_type == FieldType::Date) {
        let Ok(col) = df.column(&f.name) else {
            continue;
        };
        let Ok(phys) = col
            .as_materialized_series()
            .to_physical_repr()
            .cast(&DataType::Int32)
        else {
            continue;
        };
        let Ok(ca) = phys.i32() else { continue };
        if let Some(m) = ca.min() {
            lo = Some(lo.map_or(m, |l| l.min(m)));
        }
        if let Some(m) = ca.max() {
            hi = Some(hi.map_or(m, |h| h.max(m)));
        }
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let day = |d: i32| {
        (epoch + chrono::Duration::days(d as i64))
            .format("%Y-%m-%d")
            .to_string()
    };
    Some(TemporalExtent {
        start: day(lo?),
        end: hi.map(day),
    })
}

/// WGS84 bbox of geometries.
pub fn bbox_of<'a>(geoms: impl Iterator<Item = &'a Geometry<f64>>) -> Option<[f64; 4]> {
    let mut out: Option<[f64; 4]> = None;
    for g in geoms {
        if let Some(r) = g.bounding_rect() {
            let b = [r.min().x, r.min().y, r.max().x, r.max().y];
            out = Some(match out {
                None => b,
                Some(o) => [
                    o[0].min(b[0]),
                    o[1].min(b[1]),
                    o[2].max(b[2]),
                    o[3].max(b[3]),
                ],
            });
        }
    }
    out
}

/// The layer's geometry type: the single type present, or `Geometry` when mixed.
/// Single and multi parts of one kind are reported as the multi type.
pub fn geometry_type_of<'a>(geoms: impl Iterator<Item = &'a Geometry<f64>>) -> GeometryType {
    let mut kinds = BTreeSet::new();
    for g in geoms {
        kinds.insert(match g {
            Geometry::Point(_) => "Point",
            Geometry::MultiPoint(_) => "MultiPoint",
            Geometry::LineString(_) | Geometry::Line(_) => "LineString",
            Geometry::MultiLineString(_) => "MultiLineString",
            Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
            Geometry::MultiPolygon(_) => "MultiPolygon",
            Geometry::GeometryCollection(_) => "Geometry",
        });
    }
    let v: Vec<&str> = kinds.into_iter().collect();
    match v.as_slice() {
        ["Point"] => GeometryType::Point,
        ["MultiPoint"] | ["MultiPoint", "Point"] => GeometryType::MultiPoint,
        ["LineString"] => GeometryType::LineString,
        ["LineString", "MultiLineString"] | ["MultiLineString"] => GeometryType::MultiLineString,
        ["Polygon"] => GeometryType::Polygon,
        ["MultiPolygon", "Polygon"] | ["MultiPolygon"] => GeometryType::MultiPolygon,
        _ => GeometryType::Geometry,
    }
}

/// Convenience for callers holding a path: the file name as shown in messages.
pub fn display_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| p.display().to_string())
}
