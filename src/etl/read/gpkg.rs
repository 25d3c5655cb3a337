//! GeoPackage reader, with rusqlite and geozero's `GpkgWkb` (geozero's own `with-gpkg`
//! would pull a second sqlite).
//!
//! The layer is the recipe's `layer`, else the first feature table of `gpkg_contents`
//! (the first attribute table when there is none), reported. Columns are the table's,
//! minus the geometry column and the integer primary key (GDAL's FID); values become
//! text (integers as is, reals without `.0` when whole, blobs as hex). The CRS is the
//! layer's `srs_id` when `gpkg_spatial_ref_sys` says its organization is EPSG.
//!
//! Pitfall: table and column names come from the file, so they are quoted as SQL
//! identifiers, never pasted into a query as they are.

use std::path::Path;

use geozero::ToGeo;
use geozero::wkb::GpkgWkb;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    if !path.exists() {
        return Err(ReadError::new(path, "no such file"));
    }
    let sql = |e: rusqlite::Error| ReadError::new(path, format!("GeoPackage: {e}"));
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| ReadError::new(path, format!("cannot open the GeoPackage: {e}")))?;
    let has_contents: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name = 'gpkg_contents'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(|e| ReadError::new(path, format!("not a GeoPackage (not SQLite?): {e}")))?;
    if !has_contents {
        return Err(ReadError::new(
            path,
            "not a GeoPackage: the database has no gpkg_contents table",
        ));
    }
    let mut stmt = conn
        .prepare(
            "SELECT table_name, data_type FROM gpkg_contents \
             WHERE data_type IN ('features', 'attributes') \
             ORDER BY data_type <> 'features', rowid",
        )
        .map_err(sql)?;
    let layers: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    drop(stmt);
    let mut detected = Vec::new();
    let layer = match &opts.layer {
        Some(l) => layers
            .iter()
            .find(|(name, _)| name == l)
            .or_else(|| layers.iter().find(|(name, _)| name.eq_ignore_ascii_case(l)))
            .map(|(name, _)| name.clone())
            .ok_or_else(|| {
                ReadError::new(
                    path,
                    format!(
                        "no layer named \"{l}\"; the GeoPackage has: {}",
                        layers
                            .iter()
                            .map(|(n, _)| format!("\"{n}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
        None => {
            let (first, _) = layers
                .first()
                .ok_or_else(|| ReadError::new(path, "the GeoPackage has no feature table"))?;
            detected.push(("layer".to_string(), first.clone()));
            first.clone()
        }
    };

    // Geometry column and CRS.
    let geometry: Option<(String, i64)> = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?1)",
            [&layer],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sql)?;
    let crs = match &geometry {
        Some((_, srs_id)) => conn
            .query_row(
                "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
                [srs_id],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()
            .map_err(sql)?
            .filter(|(org, _)| org.eq_ignore_ascii_case("EPSG"))
            .and_then(|(_, id)| u32::try_from(id).ok()),
        None => None,
    };
    let geom_col = geometry.as_ref().map(|(c, _)| c.clone());

    // Attribute columns: all but the geometry and the integer primary key.
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote_ident(&layer)))
        .map_err(sql)?;
    let info: Vec<(String, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(5)?)))
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    drop(stmt);
    let pk_count = info.iter().filter(|(_, _, pk)| *pk > 0).count();
    let attributes: Vec<String> = info
        .iter()
        .filter(|(name, ty, pk)| {
            let is_fid = *pk > 0 && pk_count == 1 && ty.eq_ignore_ascii_case("INTEGER");
            let is_geom = geom_col
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case(name));
            !is_fid && !is_geom
        })
        .map(|(name, _, _)| name.clone())
        .collect();
    let names = cells::header_names(path, None, &attributes)?;

    let mut select: Vec<String> = attributes.iter().map(|c| quote_ident(c)).collect();
    if let Some(g) = &geom_col {
        select.push(quote_ident(g));
    }
    if select.is_empty() {
        return Err(ReadError::new(
            path,
            format!("layer \"{layer}\" has no columns"),
        ));
    }
    let query = format!("SELECT {} FROM {}", select.join(", "), quote_ident(&layer));
    let mut stmt = conn.prepare(&query).map_err(sql)?;
    let mut result = stmt.query([]).map_err(sql)?;

    let mut columns = ColumnsBuilder::with_columns(&names, Cleaner::new(opts), 0);
    let mut rows = Vec::new();
    let mut geoms = Vec::new();
    let mut row = 0u64;
    while let Some(r) = result.next().map_err(sql)? {
        row += 1;
        for (i, name) in names.iter().enumerate() {
            let value = r.get_ref(i).map_err(|e| {
                ReadError::new(path, format!("{e}"))
                    .at_row(row)
                    .in_column(name.clone())
            })?;
            let text = value_text(value);
            columns.push(i, text.as_deref());
        }
        if geom_col.is_some() {
            let g = match r.get_ref(attributes.len()).map_err(sql)? {
                ValueRef::Blob(b) => Some(GpkgWkb(b).to_geo().map_err(|e| {
                    ReadError::new(path, format!("invalid geometry: {e}")).at_row(row)
                })?),
                ValueRef::Null => None,
                other => {
                    return Err(ReadError::new(
                        path,
                        format!("geometry is a {:?}, not a blob", other.data_type()),
                    )
                    .at_row(row));
                }
            };
            geoms.push(g);
        }
        columns.end_row();
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ReadError::new(
            path,
            format!("layer \"{layer}\" has no features"),
        ));
    }
    cells::finish_table(
        path,
        columns,
        opts,
        Extras {
            rows,
            geoms: geom_col.map(|_| geoms),
            crs,
            detected,
        },
    )
}

/// An SQL identifier, double-quoted with inner quotes doubled.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn value_text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(cells::format_float(f)),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Some(hex::encode(b)),
    }
}
