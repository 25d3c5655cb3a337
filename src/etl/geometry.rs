//! The geometry step: makes one WGS84 lon/lat geometry per row, from coordinate columns,
//! a WKT column or the geometries of a vector source, then checks and repairs it.
//!
//! A row whose geometry cannot be made or repaired is rejected with the reason (and the
//! coordinates) in the quality report; a wrong CRS setting stops the build instead.
//! Pitfall: data files write coordinates easting first whatever the CRS's official axis
//! order, so x/y columns are always (easting, northing).

use std::collections::{BTreeMap, HashSet};

use geo_types::{Geometry, Point, Rect, coord};
use wkt::TryFromWkt;

use super::schema::RowErrors;
use super::table::RawTable;
use super::values;
use crate::config::recipe::Recipe;
use crate::geo::crs::Crs;
use crate::geo::validate::check_and_repair;
use crate::model::Rejection;

/// What the geometry step produced.
#[derive(Debug, Default)]
pub struct GeomOutcome {
    /// One WGS84 geometry per raw row (`None` for rejected rows), or `None` for a table.
    pub geoms: Option<Vec<Option<Geometry<f64>>>>,
    /// EPSG code of the source coordinates.
    pub source_crs: Option<u32>,
    pub repaired: u64,
    pub rejected: u64,
    /// Count of each kind of repair.
    pub repairs: BTreeMap<String, u64>,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct GeometryStepError {
    pub message: String,
}

/// Source columns the geometry step consumes (not published as attributes).
pub fn consumed_columns(recipe: &Recipe) -> HashSet<String> {
    let mut out = HashSet::new();
    if let Some(g) = &recipe.file.geometry {
        for c in [&g.lon, &g.lat, &g.x, &g.y, &g.wkt].into_iter().flatten() {
            out.insert(c.get_ref().clone());
        }
    }
    out
}

enum Kind<'a> {
    LonLat(&'a str, &'a str),
    Xy(&'a str, &'a str),
    Wkt(&'a str),
    File,
}

/// Builds and validates the geometries of `raw` (all rows; rejected rows get `None`).
pub fn build(
    recipe: &Recipe,
    raw: &RawTable,
    territory: Option<[f64; 4]>,
    file_label: &str,
    errors: &mut RowErrors,
) -> Result<GeomOutcome, GeometryStepError> {
    let spec = recipe.file.geometry.as_ref();
    let kind = match spec {
        Some(g) => match (&g.lon, &g.lat, &g.x, &g.y, &g.wkt) {
            (Some(lon), Some(lat), _, _, _) => Kind::LonLat(lon.get_ref(), lat.get_ref()),
            (_, _, Some(x), Some(y), _) => Kind::Xy(x.get_ref(), y.get_ref()),
            (_, _, _, _, Some(w)) => Kind::Wkt(w.get_ref()),
            _ if raw.geoms.is_some() => Kind::File,
            _ => {
                return Err(GeometryStepError {
                    message: format!(
                        "{}: [geometry] names no columns and {file_label} carries no geometries: set lon/lat, x/y or wkt",
                        recipe.path.display()
                    ),
                });
            }
        },
        None if raw.geoms.is_some() => Kind::File,
        None => return Ok(GeomOutcome::default()),
    };
    let stated_crs = spec.and_then(|g| g.crs.as_ref()).map(|c| *c.get_ref());
    let epsg = match kind {
        Kind::LonLat(..) => 4326,
        Kind::Xy(..) => stated_crs.ok_or_else(|| GeometryStepError {
            message: format!("{}: [geometry] with x/y needs crs", recipe.path.display()),
        })?,
        Kind::Wkt(_) => stated_crs.unwrap_or(4326),
        Kind::File => match stated_crs.or(raw.crs) {
            Some(c) => c,
            None => {
                return Err(GeometryStepError {
                    message: format!(
                        "{file_label} does not declare its coordinate reference system (no .prj or srs): set [geometry] crs = <EPSG code> in {}",
                        recipe.path.display()
                    ),
                });
            }
        },
    };
    let crs = Crs::from_epsg(epsg).map_err(|e| GeometryStepError {
        message: format!("{file_label}: {e}"),
    })?;
    let check_territory = spec.map(|g| g.check_territory).unwrap_or(true);
    let territory_rect = territory
        .filter(|_| check_territory)
        .map(|[x0, y0, x1, y1]| Rect::new(coord! {x: x0, y: y0}, coord! {x: x1, y: y1}));

    let height = raw.df.height();
    let text_col = |name: &str| -> Result<polars::prelude::StringChunked, GeometryStepError> {
        let col = raw.df.column(name).map_err(|_| {
            let names: Vec<String> = raw
                .df
                .get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect();
            let mut message = format!(
                "{}: geometry column {name:?} is not in the source {file_label}",
                recipe.path.display()
            );
            if let Some(n) = crate::vocab::nearest(name, names.iter().map(|s| s.as_str())) {
                message.push_str(&format!("; did you mean {n:?}?"));
            }
            GeometryStepError { message }
        })?;
        col.str().cloned().map_err(|e| GeometryStepError {
            message: format!("internal: geometry column {name:?} is not text: {e}"),
        })
    };
    let reject = |errors: &mut RowErrors,
                  i: usize,
                  column: Option<&str>,
                  value: Option<String>,
                  reason: String| {
        errors.reject(
            i,
            Rejection {
                file: file_label.to_string(),
                row: raw.rows.get(i).copied().unwrap_or(i as u64 + 1),
                column: column.map(|c| c.to_string()),
                value,
                reason,
            },
        );
    };

    let mut source: Vec<Option<Geometry<f64>>> = Vec::with_capacity(height);
    match kind {
        Kind::LonLat(a, b) | Kind::Xy(a, b) => {
            let xs = text_col(a)?;
            let ys = text_col(b)?;
            for (i, (x, y)) in xs.iter().zip(ys.iter()).enumerate() {
                let g = match (x, y) {
                    (Some(xt), Some(yt)) => {
                        match (
                            values::parse_number_lenient(xt, raw.decimal),
                            values::parse_number_lenient(yt, raw.decimal),
                        ) {
                            (Some(xv), Some(yv)) => Some(Geometry::Point(Point::new(xv, yv))),
                            (None, _) => {
                                reject(
                                    errors,
                                    i,
                                    Some(a),
                                    Some(xt.to_string()),
                                    "coordinate is not a number".into(),
                                );
                                None
                            }
                            (_, None) => {
                                reject(
                                    errors,
                                    i,
                                    Some(b),
                                    Some(yt.to_string()),
                                    "coordinate is not a number".into(),
                                );
                                None
                            }
                        }
                    }
                    _ => {
                        reject(
                            errors,
                            i,
                            Some(if x.is_none() { a } else { b }),
                            None,
                            "missing coordinates".into(),
                        );
                        None
                    }
                };
                source.push(g);
            }
        }
        Kind::Wkt(w) => {
            let col = text_col(w)?;
            for (i, v) in col.iter().enumerate() {
                let g = match v {
                    Some(text) => match Geometry::<f64>::try_from_wkt_str(text) {
                        Ok(g) => Some(g),
                        Err(e) => {
                            reject(
                                errors,
                                i,
                                Some(w),
                                Some(text.chars().take(80).collect()),
                                format!("not valid WKT: {e}"),
                            );
                            None
                        }
                    },
                    None => {
                        reject(errors, i, Some(w), None, "missing geometry".into());
                        None
                    }
                };
                source.push(g);
            }
        }
        Kind::File => {
            let geoms = raw.geoms.as_deref().unwrap_or(&[]);
            for i in 0..height {
                let g = geoms.get(i).cloned().flatten();
                if g.is_none() {
                    reject(errors, i, None, None, "feature without geometry".into());
                }
                source.push(g);
            }
        }
    }

    let mut outcome = GeomOutcome {
        source_crs: Some(epsg),
        ..GeomOutcome::default()
    };
    let mut out = Vec::with_capacity(height);
    for (i, g) in source.into_iter().enumerate() {
        let Some(mut g) = g else {
            out.push(None);
            continue;
        };
        if errors.is_rejected(i) {
            out.push(None);
            continue;
        }
        if epsg != 4326
            && let Err(e) = crs.to_wgs84_geometry(&mut g)
        {
            outcome.rejected += 1;
            reject(
                errors,
                i,
                None,
                None,
                format!("cannot reproject from EPSG:{epsg}: {e}"),
            );
            out.push(None);
            continue;
        }
        let (g, homogenised) = homogenise(g);
        if homogenised {
            *outcome
                .repairs
                .entry("made a multi-part geometry of a collection of one kind".to_string())
                .or_default() += 1;
        }
        match check_and_repair(g, territory_rect.as_ref()) {
            Ok(repaired) => {
                if !repaired.repairs.is_empty() {
                    outcome.repaired += 1;
                    for r in &repaired.repairs {
                        *outcome.repairs.entry(r.to_string()).or_default() += 1;
                    }
                }
                out.push(Some(repaired.geometry));
            }
            Err(problem) => {
                outcome.rejected += 1;
                reject(
                    errors,
                    i,
                    None,
                    None,
                    format!("geometry rejected: {problem}"),
                );
                out.push(None);
            }
        }
    }
    outcome.geoms = Some(out);
    Ok(outcome)
}

/// A collection holding parts of one kind (KML's MultiGeometry of lines, say) becomes the
/// matching multi geometry, which every output format and map client understands.
/// Returns the geometry and whether it changed.
pub fn homogenise(g: Geometry<f64>) -> (Geometry<f64>, bool) {
    use geo_types::{MultiLineString, MultiPoint, MultiPolygon};
    let Geometry::GeometryCollection(gc) = g else {
        return (g, false);
    };
    let mut points = Vec::new();
    let mut lines = Vec::new();
    let mut polys = Vec::new();
    let mut other = false;
    for part in &gc.0 {
        match part {
            Geometry::Point(p) => points.push(*p),
            Geometry::MultiPoint(mp) => points.extend(mp.0.iter().copied()),
            Geometry::LineString(l) => lines.push(l.clone()),
            Geometry::MultiLineString(ml) => lines.extend(ml.0.iter().cloned()),
            Geometry::Polygon(p) => polys.push(p.clone()),
            Geometry::MultiPolygon(mp) => polys.extend(mp.0.iter().cloned()),
            _ => other = true,
        }
    }
    let kinds = [!points.is_empty(), !lines.is_empty(), !polys.is_empty()]
        .iter()
        .filter(|k| **k)
        .count();
    if other || kinds != 1 {
        return (Geometry::GeometryCollection(gc), false);
    }
    let out = if !points.is_empty() {
        Geometry::MultiPoint(MultiPoint(points))
    } else if !lines.is_empty() {
        Geometry::MultiLineString(MultiLineString(lines))
    } else {
        Geometry::MultiPolygon(MultiPolygon(polys))
    };
    (out, true)
}
