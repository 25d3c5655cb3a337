//! Vector tiles for every layer: a build-time tiler writing one PMTiles v3 archive of MVT
//! tiles per layer, and the TileJSON and MapLibre style documents that describe it.
//!
//! ```no_run
//! # fn run(table: &portale::etl::table::Table) -> Result<(), portale::tiles::TileError> {
//! use portale::tiles::{TilingOptions, write_pmtiles};
//!
//! let opts = TilingOptions::new("scuole");
//! let report = write_pmtiles(table, &opts, std::path::Path::new("scuole.pmtiles"))?;
//! println!("z{}–z{}, {} tiles", report.min_zoom, report.max_zoom, report.tile_count);
//! # Ok(()) }
//! ```
//!
//! What the tiles are (DOMAIN.md §4): MVT 2.1, one layer named after the dataset, extent
//! 4096, a 64-unit buffer, exterior rings clockwise on screen, every published column as a
//! typed attribute (strings, integers as `uint`/`sint`, numbers as `double`, booleans;
//! dates as ISO 8601 strings; nulls left out), feature ids `row + 1`. Web Mercator, XYZ
//! scheme, zooms from 0 (or the recipe's `min_zoom`) to a maximum guessed from the data
//! (or the recipe's `max_zoom`). The archive stores gzipped tiles, identical tiles once,
//! and metadata with `vector_layers`, name, description, attribution, bounds, centre and
//! zooms (the last three also in the header, where PMTiles readers look first). How the pyramid is made is documented in `tiler.rs`.
//!
//! Module map: [`mercator`] (projection, tile math), `clip.rs` (cutting shapes to tiles),
//! `encode.rs` (quantisation, winding, MVT encoding), `tiler.rs` (zooms, simplification,
//! thinning, size cap, threads), [`tilejson`] (TileJSON 3.0.0 and MapLibre style).
//!
//! Pitfalls: the archive is written straight to the given path (the build writes into a
//! generation that is not served yet). A layer whose rows all lack a geometry gets an
//! archive without tiles. The size cap counts uncompressed bytes, as tippecanoe does.

mod clip;
mod encode;
pub mod mercator;
pub mod tilejson;
mod tiler;

use std::collections::HashSet;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geozero::mvt::TileValue;
use pmtiles::{Compression, PmTilesWriter, TileType};

use crate::etl::table::Table;
use crate::etl::write::cells::{Cell, Columns, IsoDate, IsoDatetime, Kind, rechunked};
use crate::model::{DatasetMeta, FieldType, ZoomDrops};

pub use encode::EXTENT;
pub use tiler::{BUFFER, MAX_TILE_BYTES, MAX_ZOOM};

/// Media type of one MVT tile.
pub const MVT_MEDIA_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// Media type of a PMTiles archive (none is registered; this is the one in use).
pub const PMTILES_MEDIA_TYPE: &str = "application/vnd.pmtiles";

/// Why a layer could not be tiled.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: cannot write the PMTiles archive: {source}", .path.display())]
    Archive {
        path: PathBuf,
        #[source]
        source: pmtiles::PmtError,
    },
    #[error("layer {layer:?}: the table has no geometries, so it cannot be tiled")]
    NoGeometries { layer: String },
    #[error("layer {layer:?}: {problem}")]
    Columns { layer: String, problem: String },
    #[error("layer {layer:?}: min_zoom {min} is greater than max_zoom {max}")]
    ZoomRange { layer: String, min: u8, max: u8 },
    #[error("layer {layer:?}, row {row}, tile {tile}: cannot encode the geometry: {detail}")]
    Encode {
        layer: String,
        row: u64,
        tile: String,
        detail: String,
    },
    #[error("tiler: {0}")]
    Internal(String),
}

/// How to tile a layer.
#[derive(Debug, Clone)]
pub struct TilingOptions {
    /// MVT layer name (the dataset id).
    pub layer: String,
    /// Lowest zoom (default 0).
    pub min_zoom: Option<u8>,
    /// Highest zoom (default: guessed from the data, see `tiler.rs`).
    pub max_zoom: Option<u8>,
    /// Human-readable name for the archive's metadata.
    pub name: String,
    pub description: String,
    /// Attribution shown by map clients, e.g. `© Comune di Capannori (CC-BY-4.0)`.
    pub attribution: String,
    /// Worker threads; 0 means as many as the machine has.
    pub threads: usize,
}

impl TilingOptions {
    /// Options with defaults: zooms guessed, name = layer, no description or attribution.
    pub fn new(layer: &str) -> TilingOptions {
        TilingOptions {
            layer: layer.to_string(),
            min_zoom: None,
            max_zoom: None,
            name: layer.to_string(),
            description: String::new(),
            attribution: String::new(),
            threads: 0,
        }
    }
}

/// What [`write_pmtiles`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TilingReport {
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// `[west, south, east, north]` of the features, degrees.
    pub bounds: [f64; 4],
    /// `[longitude, latitude, zoom]`.
    pub center: [f64; 3],
    /// Tiles with at least one feature.
    pub tile_count: u64,
    /// Distinct tile contents.
    pub tile_contents: u64,
    /// Largest uncompressed tile, bytes.
    pub largest_tile_bytes: u64,
    /// Tiles per zoom (index `z - min_zoom`).
    pub tiles_per_zoom: Vec<u64>,
    /// What was left out, per zoom.
    pub dropped: Vec<ZoomDrops>,
    pub elapsed: Duration,
}

/// The attribution of a dataset's tiles: its rights holder and licence.
pub fn attribution(meta: &DatasetMeta) -> String {
    // The licence's short name ("CC BY 4.0", in the AgID label's last parentheses), else
    // its id as the recipe gives it.
    let licence = crate::vocab::license(&meta.license)
        .and_then(|l| {
            let (_, tail) = l.label_it.rsplit_once('(')?;
            tail.strip_suffix(')')
        })
        .unwrap_or(&meta.license);
    format!("© {}, {licence}", meta.rights_holder.name)
}

/// The name TileJSON's `vector_layers[].fields` gives a column type.
pub fn field_type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Integer | FieldType::Number => "Number",
        FieldType::Boolean => "Boolean",
        FieldType::String | FieldType::Date | FieldType::Datetime => "String",
    }
}

fn kind_type_name(k: Kind) -> &'static str {
    field_type_name(match k {
        Kind::Str => FieldType::String,
        Kind::Int => FieldType::Integer,
        Kind::Float => FieldType::Number,
        Kind::Bool => FieldType::Boolean,
        Kind::Date => FieldType::Date,
        Kind::Datetime => FieldType::Datetime,
    })
}

fn tile_value(cell: Cell<'_>) -> Option<TileValue> {
    Some(match cell {
        Cell::Null => return None,
        Cell::Str(s) => TileValue::Str(s.to_string()),
        Cell::Int(i) if i >= 0 => TileValue::Uint(i as u64),
        Cell::Int(i) => TileValue::Sint(i),
        Cell::Float(f) if f.is_finite() => TileValue::Double(f),
        Cell::Float(_) => return None,
        Cell::Bool(b) => TileValue::Bool(b),
        Cell::Date(d) => TileValue::Str(IsoDate(d).to_string()),
        Cell::Datetime(t) => TileValue::Str(IsoDatetime(t).to_string()),
    })
}

/// The zoom that frames `bounds` in about 1024×1024 pixels of 512-pixel tiles.
fn center_zoom(bounds: [f64; 4], min: u8, max: u8) -> u8 {
    let (x0, y1) = mercator::lonlat_to_world(bounds[0], bounds[1]);
    let (x1, y0) = mercator::lonlat_to_world(bounds[2], bounds[3]);
    let w = (x1 - x0).max(y1 - y0);
    let z = if w > 0.0 {
        (2.0 / w).log2().floor()
    } else {
        f64::from(max)
    };
    z.clamp(f64::from(min), f64::from(max)) as u8
}

/// Tiles bare geometries (no attributes) at zooms `min..=max` on one thread, as
/// [`write_pmtiles`] does, and returns each tile's coordinates and uncompressed MVT size
/// instead of writing an archive. For the fuzz targets (`crate::fuzzing`), which need the
/// tiler without a polars table or a file.
pub(crate) fn tile_geometries(
    layer: &str,
    geoms: &[Option<geo_types::Geometry<f64>>],
    min: u8,
    max: u8,
) -> Result<Vec<(pmtiles::TileCoord, usize)>, TileError> {
    let layer = tiler::Layer::new(layer, Vec::new(), geoms, |_| Vec::new());
    let mut out = Vec::new();
    layer.tile(min, max.min(MAX_ZOOM), 1, |_, zoom| {
        out.extend(zoom.tiles.iter().map(|t| (t.coord, t.raw_len)));
        Ok(())
    })?;
    Ok(out)
}

/// Tiles the layer of `table` and writes the PMTiles archive at `path`.
pub fn write_pmtiles(
    table: &Table,
    opts: &TilingOptions,
    path: &Path,
) -> Result<TilingReport, TileError> {
    let started = Instant::now();
    let geoms = table
        .geoms
        .as_ref()
        .ok_or_else(|| TileError::NoGeometries {
            layer: opts.layer.clone(),
        })?;
    let df = rechunked(&table.df);
    let columns = Columns::new(&df, path).map_err(|e| TileError::Columns {
        layer: opts.layer.clone(),
        problem: e.to_string(),
    })?;
    if geoms.len() != columns.height {
        return Err(TileError::Columns {
            layer: opts.layer.clone(),
            problem: format!("{} geometries for {} rows", geoms.len(), columns.height),
        });
    }
    let keys: Vec<String> = columns.names().map(String::from).collect();
    let layer = tiler::Layer::new(&opts.layer, keys.clone(), geoms, |row| {
        columns
            .cols
            .iter()
            .enumerate()
            .filter_map(|(i, c)| tile_value(c.get(row)).map(|v| (i, v)))
            .collect()
    });

    let max_zoom = match opts.max_zoom {
        Some(z) => z.min(MAX_ZOOM),
        None => layer.guess_max_zoom().max(opts.min_zoom.unwrap_or(0)),
    };
    let min_zoom = opts.min_zoom.unwrap_or(0);
    if min_zoom > max_zoom {
        return Err(TileError::ZoomRange {
            layer: opts.layer.clone(),
            min: min_zoom,
            max: max_zoom,
        });
    }
    let bounds = layer.bounds;
    let center = [
        (bounds[0] + bounds[2]) / 2.0,
        (bounds[1] + bounds[3]) / 2.0,
        f64::from(center_zoom(bounds, min_zoom, max_zoom)),
    ];

    let mut fields = serde_json::Map::new();
    for (c, key) in columns.cols.iter().zip(&keys) {
        fields.insert(key.clone(), kind_type_name(c.kind()).into());
    }
    let metadata = serde_json::json!({
        "name": opts.name,
        "description": opts.description,
        "attribution": opts.attribution,
        "type": "overlay",
        "format": "pbf",
        "generator": format!("portale {}", crate::VERSION),
        "bounds": bounds,
        "center": center,
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "vector_layers": [{
            "id": opts.layer,
            "description": opts.description,
            "minzoom": min_zoom,
            "maxzoom": max_zoom,
            "fields": fields,
        }],
    });

    let file = File::create(path).map_err(|source| TileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let archive_err = |source| TileError::Archive {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .precompressed(Compression::Gzip)
        .internal_compression(Compression::Gzip)
        .min_zoom(min_zoom)
        .max_zoom(max_zoom)
        .bounds(bounds[0], bounds[1], bounds[2], bounds[3])
        .center(center[0], center[1])
        .center_zoom(center[2] as u8)
        .metadata(metadata.to_string())
        .create(file)
        .map_err(archive_err)?;

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let mut report = TilingReport {
        min_zoom,
        max_zoom,
        bounds,
        center,
        tile_count: 0,
        tile_contents: 0,
        largest_tile_bytes: 0,
        tiles_per_zoom: Vec::new(),
        dropped: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut contents: HashSet<(u64, usize)> = HashSet::new();
    layer.tile(min_zoom, max_zoom, threads, |_, zoom| {
        for t in &zoom.tiles {
            writer.add_tile(t.coord, &t.gzip).map_err(archive_err)?;
            let mut h = DefaultHasher::new();
            t.gzip.hash(&mut h);
            contents.insert((h.finish(), t.gzip.len()));
            report.largest_tile_bytes = report.largest_tile_bytes.max(t.raw_len as u64);
        }
        report.tile_count += zoom.tiles.len() as u64;
        report.tiles_per_zoom.push(zoom.tiles.len() as u64);
        report.dropped.push(zoom.drops);
        Ok(())
    })?;
    writer.finalize().map_err(archive_err)?;
    report.tile_contents = contents.len() as u64;
    report.elapsed = started.elapsed();
    tracing::debug!(
        layer = %opts.layer,
        features = layer.len(),
        tiles = report.tile_count,
        elapsed = ?report.elapsed,
        "tiled"
    );
    Ok(report)
}
