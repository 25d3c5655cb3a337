//! GeoPackage 1.3 with rusqlite's bundled SQLite: one feature table named
//! after the layer, indexed by the `gpkg_rtree_index` extension.
//!
//! Why 1.3 and not 1.4: for what this writer emits, the two differ only in
//! `user_version` and in three of the R-tree triggers. GDAL before 3.8 (Debian 12 ships 3.6, Ubuntu
//! 22.04 3.4, and with them many QGIS installs) warns that a 10400 file "may only be
//! partially supported", and its `validate_gpkg.py` rejects the 1.4 trigger set; a 1.3
//! file opens silently and passes GDAL 3.6's validator (`check_outputs.py` runs it).
//!
//! What the file holds:
//! * `application_id` 0x47504B47 ("GPKG") and `user_version` 10300;
//! * `gpkg_spatial_ref_sys` with the three rows the specification requires (-1, 0,
//!   4326), `gpkg_contents` (with the layer's extent), `gpkg_geometry_columns`,
//!   `gpkg_extensions`;
//! * the feature table: `fid INTEGER PRIMARY KEY AUTOINCREMENT` (= row number, 1-based,
//!   the GeoJSON `id`), the geometry column `geom`, then the attributes typed `TEXT`,
//!   `INTEGER`, `REAL`, `BOOLEAN` (0/1), `DATE` (`YYYY-MM-DD`) and `DATETIME`;
//! * geometries as GeoPackageBinary (geozero's `Geopackage` WKB dialect): `GP`, version 0,
//!   flags (little-endian, envelope `[minx, maxx, miny, maxy]` except for points, the
//!   empty bit for empty geometries), srs_id 4326, then little-endian ISO WKB;
//! * `rtree_<table>_<geom>` filled while rows are inserted, then the six triggers of the
//!   extension (insert, update1-4, delete) that keep it in sync for anyone who edits the
//!   file later (they call `ST_*` functions that GDAL and QGIS provide).
//!
//! Everything happens in one transaction with the rollback journal off and
//! `synchronous=OFF`: the caller writes into a temporary generation directory, so a crash
//! leaves only a file nobody will publish, and a million rows take seconds.
//!
//! Pitfalls:
//! * The GeoPackage way to declare one geometry type per column means `Polygon` +
//!   `MultiPolygon` layers are declared `MULTIPOLYGON` and their polygons promoted;
//!   mixed layers are declared `GEOMETRY`.
//! * `fid` and `geom` are renamed `fid_1`, `geom_1`, ... when the table already has a
//!   column of that name (SQLite names are case-insensitive).
//! * DATETIME values of naive columns carry no `Z` (the specification's form is UTC with
//!   `Z`; adding it would silently move local times). SQLite stores NaN as NULL.
//! * `gpkg_contents.last_change` is the write time, so two writes of the same table
//!   differ in those bytes.
//! * An existing file at the path is replaced: SQLite would otherwise add to it.

use std::path::Path;

use geo::BoundingRect;
use geo_types::Geometry;
use geozero::{CoordDimensions, ToWkb};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, Transaction, params};

use super::WriteError;
use super::cells::{Cell, Columns, IsoDate, IsoDatetime, Kind, unique_name};
use super::geometry::{GeomType, PreparedGeoms, promoted};

/// "GPKG" as a big-endian 32-bit integer (GeoPackage 1.2 and later).
const APPLICATION_ID: i32 = 0x4750_4B47;
/// GeoPackage 1.3.0 (see the module docs for why not 1.4).
const USER_VERSION: i32 = 10300;
const SRS_ID: i32 = 4326;

/// EPSG:4326 as the GeoPackage specification defines its row of `gpkg_spatial_ref_sys` (the WKT GDAL
/// writes too).
const WGS84_WKT: &str = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,\
298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,\
AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],\
AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],AUTHORITY[\"EPSG\",\"4326\"]]";

const CORE_TABLES: &str = "
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
";

pub(crate) fn write(
    columns: &Columns<'_>,
    geoms: &PreparedGeoms<'_>,
    path: &Path,
    layer_name: &str,
) -> Result<(), WriteError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(WriteError::io(path, "removing the previous file", e)),
    }
    let sql = |context: &str| {
        let context = context.to_string();
        move |e: rusqlite::Error| WriteError::encode(path, context, e)
    };
    let mut conn = Connection::open(path).map_err(sql("creating the SQLite database"))?;
    conn.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID};
         PRAGMA user_version = {USER_VERSION};
         PRAGMA journal_mode = OFF;
         PRAGMA synchronous = OFF;"
    ))
    .map_err(sql("setting the GeoPackage header"))?;

    let tx = conn
        .transaction()
        .map_err(sql("starting the transaction"))?;
    tx.execute_batch(CORE_TABLES)
        .map_err(sql("creating the GeoPackage tables"))?;
    insert_spatial_ref_sys(&tx).map_err(sql("filling gpkg_spatial_ref_sys"))?;

    let layer_type = geoms.layer_type();
    let fid = unique_name("fid", columns.names());
    let geom = unique_name("geom", columns.names().chain([fid.as_str()]));
    let table = quote(layer_name);
    let rtree = quote(&format!("rtree_{layer_name}_{geom}"));

    let mut create = format!(
        "CREATE TABLE {table} ({} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {} {}",
        quote(&fid),
        quote(&geom),
        type_name(layer_type),
    );
    for col in &columns.cols {
        create.push_str(&format!(", {} {}", quote(col.name), sql_type(col.kind())));
    }
    create.push_str(");");
    tx.execute_batch(&create)
        .map_err(sql("creating the feature table"))?;
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy);"
    ))
    .map_err(sql("creating the R-tree"))?;

    insert_rows(
        &tx, columns, geoms, layer_type, &table, &fid, &geom, &rtree, path,
    )?;

    let bbox = geoms
        .bbox
        .map(|b| (b.min().x, b.min().y, b.max().x, b.max().y));
    tx.execute(
        "INSERT INTO gpkg_contents
           (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, '', ?2, ?3, ?4, ?5, ?6)",
        params![
            layer_name,
            bbox.map(|b| b.0),
            bbox.map(|b| b.1),
            bbox.map(|b| b.2),
            bbox.map(|b| b.3),
            SRS_ID
        ],
    )
    .map_err(sql("filling gpkg_contents"))?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, ?2, ?3, ?4, 0, 0)",
        params![layer_name, geom, type_name(layer_type), SRS_ID],
    )
    .map_err(sql("filling gpkg_geometry_columns"))?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, ?2, 'gpkg_rtree_index',
           'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        params![layer_name, geom],
    )
    .map_err(sql("filling gpkg_extensions"))?;
    tx.execute_batch(&rtree_triggers(
        &table,
        &quote(&fid),
        &quote(&geom),
        &rtree,
        layer_name,
        &geom,
    ))
    .map_err(sql("creating the R-tree triggers"))?;
    tx.commit().map_err(sql("committing"))?;
    conn.close()
        .map_err(|(_, e)| WriteError::encode(path, "closing the database", e))
}

fn insert_spatial_ref_sys(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare(
        "INSERT INTO gpkg_spatial_ref_sys
           (srs_name, srs_id, organization, organization_coordsys_id, definition, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        "Undefined cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined cartesian coordinate reference system"
    ])?;
    stmt.execute(params![
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system"
    ])?;
    stmt.execute(params![
        "WGS 84 geodetic",
        SRS_ID,
        "EPSG",
        SRS_ID,
        WGS84_WKT,
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"
    ])?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_rows(
    tx: &Transaction<'_>,
    columns: &Columns<'_>,
    geoms: &PreparedGeoms<'_>,
    layer_type: Option<GeomType>,
    table: &str,
    fid: &str,
    geom: &str,
    rtree: &str,
    path: &Path,
) -> Result<(), WriteError> {
    let mut names = vec![quote(fid), quote(geom)];
    names.extend(columns.names().map(quote));
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let insert_sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        placeholders.join(", ")
    );
    let prepare_error = |e| WriteError::encode(path, "preparing the inserts", e);
    let mut insert = tx.prepare(&insert_sql).map_err(prepare_error)?;
    let mut index = tx
        .prepare(&format!("INSERT INTO {rtree} VALUES (?1, ?2, ?3, ?4, ?5)"))
        .map_err(prepare_error)?;

    for (row, g) in geoms.geoms.iter().enumerate() {
        let row_error =
            |e: rusqlite::Error| WriteError::encode(path, format!("row {}: inserting", row + 1), e);
        let fid = row as i64 + 1;
        insert.raw_bind_parameter(1, fid).map_err(row_error)?;
        let mut envelope = None;
        match g {
            None => insert.raw_bind_parameter(2, None::<Vec<u8>>),
            Some(g) => {
                let g = promoted(g, layer_type);
                let blob = gpkg_blob(&g).map_err(|e| {
                    WriteError::encode(
                        path,
                        format!("row {}: encoding the geometry as GeoPackageBinary", row + 1),
                        e,
                    )
                })?;
                envelope = g.bounding_rect();
                insert.raw_bind_parameter(2, blob)
            }
        }
        .map_err(row_error)?;
        for (i, col) in columns.cols.iter().enumerate() {
            insert
                .raw_bind_parameter(i + 3, to_sql(col.get(row)))
                .map_err(row_error)?;
        }
        insert.raw_execute().map_err(row_error)?;
        if let Some(r) = envelope {
            index
                .execute(params![fid, r.min().x, r.max().x, r.min().y, r.max().y])
                .map_err(row_error)?;
        }
    }
    Ok(())
}

/// GeoPackageBinary: header with the envelope (none for points, whose envelope is the
/// point), then ISO WKB; the empty flag for geometries without coordinates.
fn gpkg_blob(g: &Geometry<f64>) -> geozero::error::Result<Vec<u8>> {
    let rect = g.bounding_rect();
    let envelope = match (g, rect) {
        (Geometry::Point(_), _) | (_, None) => Vec::new(),
        (_, Some(r)) => vec![r.min().x, r.max().x, r.min().y, r.max().y],
    };
    let mut blob = g.to_gpkg_wkb(CoordDimensions::xy(), Some(SRS_ID), envelope)?;
    if rect.is_none() && blob.len() > 3 {
        // Flags byte: bit 4 = empty geometry (GeoPackage 2.1.3.1.1).
        blob[3] |= 0b0001_0000;
    }
    Ok(blob)
}

fn to_sql(cell: Cell<'_>) -> ToSqlOutput<'_> {
    match cell {
        Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Cell::Str(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Cell::Int(v) => ToSqlOutput::Owned(Value::Integer(v)),
        Cell::Float(v) => ToSqlOutput::Owned(Value::Real(v)),
        Cell::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(v))),
        Cell::Date(d) => ToSqlOutput::Owned(Value::Text(IsoDate(d).to_string())),
        Cell::Datetime(dt) => ToSqlOutput::Owned(Value::Text(IsoDatetime(dt).to_string())),
    }
}

fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "TEXT",
        Kind::Int => "INTEGER",
        Kind::Float => "REAL",
        Kind::Bool => "BOOLEAN",
        Kind::Date => "DATE",
        Kind::Datetime => "DATETIME",
    }
}

fn type_name(layer_type: Option<GeomType>) -> &'static str {
    match layer_type {
        Some(GeomType::Point) => "POINT",
        Some(GeomType::LineString) => "LINESTRING",
        Some(GeomType::Polygon) => "POLYGON",
        Some(GeomType::MultiPoint) => "MULTIPOINT",
        Some(GeomType::MultiLineString) => "MULTILINESTRING",
        Some(GeomType::MultiPolygon) => "MULTIPOLYGON",
        Some(GeomType::GeometryCollection) => "GEOMETRYCOLLECTION",
        None => "GEOMETRY",
    }
}

/// An SQL identifier in double quotes, inner quotes doubled.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The spatial index triggers of GeoPackage 1.3 (Annex F.3); `t`, `i`, `c` and `rtree`
/// are quoted identifiers. (GeoPackage 1.4 replaces `update1`/`update3` with
/// `update5`-`update7`; see the module docs for why this file is 1.3.)
fn rtree_triggers(
    t: &str,
    i: &str,
    c: &str,
    rtree: &str,
    table_name: &str,
    column: &str,
) -> String {
    let trigger = |suffix: &str| quote(&format!("rtree_{table_name}_{column}_{suffix}"));
    let values =
        format!("NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})");
    format!(
        "CREATE TRIGGER {insert} AFTER INSERT ON {t}
  WHEN (new.{c} NOT NULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO {rtree} VALUES ({values});
END;
CREATE TRIGGER {update1} AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  INSERT OR REPLACE INTO {rtree} VALUES ({values});
END;
CREATE TRIGGER {update2} AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} = NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM {rtree} WHERE id = OLD.{i};
END;
CREATE TRIGGER {update3} AFTER UPDATE OF {c} ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM {rtree} WHERE id = OLD.{i};
  INSERT OR REPLACE INTO {rtree} VALUES ({values});
END;
CREATE TRIGGER {update4} AFTER UPDATE ON {t}
  WHEN OLD.{i} != NEW.{i} AND (NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))
BEGIN
  DELETE FROM {rtree} WHERE id IN (OLD.{i}, NEW.{i});
END;
CREATE TRIGGER {delete} AFTER DELETE ON {t}
  WHEN old.{c} NOT NULL
BEGIN
  DELETE FROM {rtree} WHERE id = OLD.{i};
END;",
        insert = trigger("insert"),
        update1 = trigger("update1"),
        update2 = trigger("update2"),
        update3 = trigger("update3"),
        update4 = trigger("update4"),
        delete = trigger("delete"),
    )
}
