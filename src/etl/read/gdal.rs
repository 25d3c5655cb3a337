//! GDAL reader (cargo feature `gdal`): the long tail of vector formats (MapInfo TAB,
//! DXF, GML, ODS through OGR, File Geodatabase, ...), through Debian's libgdal.
//!
//! The layer is the recipe's `layer`, else the first one (reported). Fields become
//! text through GDAL's own formatting (`OGR_F_GetFieldAsString`), nulls stay null;
//! geometries are exported as WKB and read into geo-types with geozero. The CRS is the
//! layer's EPSG code: its authority when it has one, else what GDAL identifies.
//!
//! Pitfall: rusqlite's bundled SQLite is linked into the same binary, and its `sqlite3_*`
//! symbols clash with the system libsqlite3 that GDAL and SpatiaLite use: GDAL opening
//! any SQLite-based file (GeoPackage, SpatiaLite, MBTiles) crashes the process inside
//! `spatialite_init_ex`. Such files are refused here with an error naming `format = "gpkg"`
//! (the pure-Rust GeoPackage reader); they are recognised by the SQLite file header.
//!
//! Pitfall: since GDAL 3, a CRS such as EPSG:4326 is latitude-first. OGR vector drivers
//! already hand features over in the traditional GIS order (longitude first, the
//! "data axis to CRS axis mapping 2,1" that `ogrinfo` prints), and the spatial reference
//! we inspect is set to `AxisMappingStrategy::TraditionalGisOrder` so any use of it
//! agrees with the coordinates we return.

use std::path::Path;

use ::gdal::Dataset;
use ::gdal::spatial_ref::AxisMappingStrategy;
use ::gdal::vector::LayerAccess;
use geozero::ToGeo;
use geozero::wkb::Wkb;

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    if is_sqlite(path) {
        return Err(ReadError::new(
            path,
            "this is an SQLite database (GeoPackage, SpatiaLite, MBTiles), which GDAL cannot \
             open inside portale (its SQLite clashes with the one portale bundles): use \
             format = \"gpkg\" for a GeoPackage, or convert the file with ogr2ogr",
        ));
    }
    let gdal = |e: ::gdal::errors::GdalError| ReadError::new(path, format!("GDAL: {e}"));
    let dataset = Dataset::open(path)
        .map_err(|e| ReadError::new(path, format!("GDAL cannot open it: {e}")))?;
    let mut detected = Vec::new();
    let layer_names: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let mut layer = match &opts.layer {
        Some(name) => dataset.layer_by_name(name).map_err(|_| {
            ReadError::new(
                path,
                format!(
                    "no layer named \"{name}\"; the file has: {}",
                    layer_names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
        None => {
            if layer_names.is_empty() {
                return Err(ReadError::new(
                    path,
                    "GDAL finds no vector layer in the file",
                ));
            }
            detected.push(("layer".to_string(), layer_names[0].clone()));
            dataset.layer(0).map_err(gdal)?
        }
    };
    let crs = layer.spatial_ref().and_then(|mut srs| {
        srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let is_epsg = |s: &::gdal::spatial_ref::SpatialRef| {
            s.auth_name()
                .is_some_and(|a| a.eq_ignore_ascii_case("EPSG"))
        };
        if !is_epsg(&srs) {
            srs.auto_identify_epsg().ok()?;
        }
        if is_epsg(&srs) {
            srs.auth_code().ok().and_then(|c| u32::try_from(c).ok())
        } else {
            None
        }
    });
    let raw_names: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let names = cells::header_names(path, None, &raw_names)?;
    let count = layer.feature_count() as usize;

    let mut columns = ColumnsBuilder::with_columns(&names, Cleaner::new(opts), count);
    let mut rows = Vec::with_capacity(count);
    let mut geoms = Vec::with_capacity(count);
    let mut row = 0u64;
    for feature in layer.features() {
        row += 1;
        for (i, name) in names.iter().enumerate() {
            let value = feature.field_as_string(i).map_err(|e| {
                ReadError::new(path, format!("GDAL: {e}"))
                    .at_row(row)
                    .in_column(name.clone())
            })?;
            columns.push(i, value.as_deref());
        }
        let geometry = match feature.geometry() {
            Some(g) if !g.is_empty() => {
                let wkb = g.wkb().map_err(|e| {
                    ReadError::new(path, format!("GDAL cannot export the geometry: {e}"))
                        .at_row(row)
                })?;
                Some(Wkb(wkb).to_geo().map_err(|e| {
                    ReadError::new(path, format!("invalid geometry: {e}")).at_row(row)
                })?)
            }
            _ => None,
        };
        columns.end_row();
        rows.push(row);
        geoms.push(geometry);
    }
    if rows.is_empty() {
        return Err(ReadError::new(path, "the layer has no features"));
    }
    let has_geometry = geoms.iter().any(Option::is_some);
    cells::finish_table(
        path,
        columns,
        opts,
        Extras {
            rows,
            geoms: has_geometry.then_some(geoms),
            crs: if has_geometry { crs } else { None },
            detected,
        },
    )
}

/// Whether the file starts with the SQLite header.
fn is_sqlite(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == SQLITE_MAGIC
}
