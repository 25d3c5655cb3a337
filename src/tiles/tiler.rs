//! The zoom pyramid: which features go into which tile at which zoom, and how much of them.
//!
//! For every zoom from the layer's maximum down to its minimum the geometries are
//! simplified (Douglas–Peucker, geo's `Simplify`) in tile units, each zoom from the next
//! finer one with half a unit of tolerance, so the total error stays within one tile unit
//! (tippecanoe's tolerance) while each step only sees the vertices the previous one kept.
//! Then, zoom by zoom from the minimum up, each feature is cut into the tiles it touches
//! (recursive halving of its tile range, clipping with a 64-unit buffer; see `clip.rs`),
//! rounded to the 4096 grid and encoded; tiles are assembled, capped at 500 KB, gzipped,
//! and handed over in PMTiles tile-id order.
//!
//! What happens below the maximum zoom, as tippecanoe does by default:
//!
//! * **Point thinning**: at each zoom below the maximum, at most one point feature per
//!   32×32-unit cell (2×2 pixels of a 256-pixel tile) is kept: the first in table order.
//!   Cells nest from zoom to zoom, so a point shown at one zoom is shown at every finer one.
//! * **Tiny polygons**: a polygon feature smaller than 8×8 units is not drawn; its area is
//!   added to its tile's account, and each time the account reaches 64 units² the feature
//!   that filled it is drawn as an 8×8 square at its centre. The total inked area stays
//!   about right (a field of small buildings remains a grey patch) without slivers.
//! * **500 KB cap**: a tile whose encoding exceeds [`MAX_TILE_BYTES`] loses its densest
//!   features, those closest to their predecessor along a Hilbert curve, until it fits.
//!
//! Every drop is counted per zoom in the report.
//!
//! The maximum zoom, unless the recipe sets it, is guessed like tippecanoe's `-zg`: the
//! zoom where one tile unit is at most half the distance between nearby features (the
//! geometric mean of the distances between features consecutive along a Hilbert curve,
//! 1.5 standard deviations down in log space) and at most an eighth of the typical
//! distance between the vertices of lines and polygons; at least 12, so that nothing is
//! drawn more than about a metre off when over-zoomed to street level (tippecanoe's guess
//! can say z8 for a bus route digitised every 200 m, whose tile unit is then 38 m); at
//! most 16.
//!
//! Pitfalls: the work is split across threads by contiguous feature ranges and by tiles,
//! and the results are put back in order, so the archive is byte-for-byte reproducible.
//! Tile-range recursion keeps a polygon the size of Italy at z16 to O(vertices · log tiles)
//! rather than O(vertices · tiles); its interior tiles all encode to the same bytes and are
//! stored once by the PMTiles writer.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use geo::{Area, Simplify};
use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use geozero::mvt::TileValue;
use pmtiles::{Compression, Compressor, TileCoord, TileId};

use super::TileError;
use super::clip::{self, Axis, Shape};
use super::encode::{self, EXTENT, EncodedGeometry, TileFeature};
use super::mercator;
use crate::model::ZoomDrops;

/// Buffer around each tile, in tile units (64 of 4096, tippecanoe's and Martin's default).
pub const BUFFER: u32 = 64;
/// Largest uncompressed tile, in bytes (tippecanoe's default `--maximum-tile-bytes`).
pub const MAX_TILE_BYTES: usize = 500_000;
/// Highest maximum zoom the tiler guesses or accepts.
pub const MAX_ZOOM: u8 = 16;
/// Lowest guessed maximum zoom: one tile unit is 2.4 m at the equator.
const MIN_GUESSED_MAX_ZOOM: u8 = 12;
/// Douglas–Peucker tolerance of each simplification step, in tile units.
const SIMPLIFY_STEP: f64 = 0.5;
/// Side of a point-thinning cell, in tile units.
const THIN_CELL: f64 = 32.0;
/// Side of the square a tiny polygon becomes, in tile units.
const TINY_SIDE: f64 = 8.0;
const TINY_AREA: f64 = TINY_SIDE * TINY_SIDE;
/// Zoom of the Hilbert curve that orders features (cells of about 2.4 m).
const ORDER_ZOOM: u8 = 24;

/// One feature of the layer, projected.
#[derive(Debug)]
struct Feature {
    /// Row in the table (the MVT feature id is `row + 1`).
    row: usize,
    /// World coordinates (see [`mercator`]).
    shapes: Vec<Shape>,
    centre: Coord<f64>,
    hilbert: u64,
    /// Area in world units² when every shape is a polygon, else `None`.
    polygon_area: Option<f64>,
    /// Whether every shape is a point.
    is_point: bool,
}

/// What the tiler needs of a layer, prepared once.
pub(crate) struct Layer {
    pub name: String,
    /// Column names, indexed by the attributes' column indices.
    pub keys: Vec<String>,
    features: Vec<Feature>,
    /// Attributes of each feature (same order as `features`).
    values: Vec<Vec<(usize, TileValue)>>,
    /// `[west, south, east, north]` of every geometry, degrees.
    pub bounds: [f64; 4],
}

/// One encoded tile.
#[derive(Debug)]
pub(crate) struct EncodedTile {
    pub coord: TileCoord,
    /// Uncompressed MVT size.
    pub raw_len: usize,
    pub gzip: Vec<u8>,
}

/// The tiles of one zoom, sorted by tile id, and what was dropped there.
#[derive(Debug)]
pub(crate) struct ZoomTiles {
    pub tiles: Vec<EncodedTile>,
    pub drops: ZoomDrops,
}

impl Layer {
    /// Projects the geometries; `values[i]` are the attributes of row `rows[i]`.
    pub fn new(
        name: &str,
        keys: Vec<String>,
        geoms: &[Option<Geometry<f64>>],
        mut values: impl FnMut(usize) -> Vec<(usize, TileValue)>,
    ) -> Layer {
        let mut features = Vec::new();
        let mut attrs = Vec::new();
        let mut bounds = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (row, geom) in geoms.iter().enumerate() {
            let Some(geom) = geom else { continue };
            let mut shapes = Vec::new();
            to_shapes(geom, &mut shapes, &mut bounds);
            let Some(b) = shapes.iter().filter_map(clip::bounds).reduce(|a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            }) else {
                continue;
            };
            let centre = Coord {
                x: (b[0] + b[2]) / 2.0,
                y: (b[1] + b[3]) / 2.0,
            };
            let polygon_area = shapes
                .iter()
                .map(|s| match s {
                    Shape::Polygons(p) => Some(p.unsigned_area()),
                    _ => None,
                })
                .sum::<Option<f64>>();
            let is_point = shapes.iter().all(|s| matches!(s, Shape::Points(_)));
            features.push(Feature {
                row,
                shapes,
                centre,
                hilbert: hilbert(centre),
                polygon_area,
                is_point,
            });
            attrs.push(values(row));
        }
        if features.is_empty() {
            bounds = [0.0; 4];
        }
        Layer {
            name: name.to_string(),
            keys,
            features,
            values: attrs,
            bounds,
        }
    }

    /// Number of features with a geometry.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// The maximum zoom guessed from the data (see the module documentation).
    pub fn guess_max_zoom(&self) -> u8 {
        let mut order: Vec<&Feature> = self.features.iter().collect();
        order.sort_by_key(|f| (f.hilbert, f.row));
        let mut spacing = LogStats::default();
        for pair in order.windows(2) {
            let (a, b) = (pair[0].centre, pair[1].centre);
            spacing.add(((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt());
        }
        let mut vertices = LogStats::default();
        for f in &self.features {
            for s in &f.shapes {
                let mut add_path = |path: &[Coord<f64>]| {
                    for w in path.windows(2) {
                        vertices
                            .add(((w[0].x - w[1].x).powi(2) + (w[0].y - w[1].y).powi(2)).sqrt());
                    }
                };
                match s {
                    Shape::Points(_) => {}
                    Shape::Lines(l) => l.0.iter().for_each(|l| add_path(&l.0)),
                    Shape::Polygons(p) => p.0.iter().for_each(|p| {
                        add_path(&p.exterior().0);
                        p.interiors().iter().for_each(|h| add_path(&h.0));
                    }),
                }
            }
        }
        let mut zoom: i32 = 0;
        if let Some((mean, sd)) = spacing.mean_sd() {
            let nearby = (mean - 1.5 * sd).exp();
            zoom = zoom.max(zoom_for_unit(nearby / 2.0));
        }
        if let Some((mean, _)) = vertices.mean_sd() {
            zoom = zoom.max(zoom_for_unit(mean.exp() / 8.0));
        }
        zoom.clamp(i32::from(MIN_GUESSED_MAX_ZOOM), i32::from(MAX_ZOOM)) as u8
    }

    /// Tiles zooms `min..=max`, handing each zoom's tiles to `sink` in ascending order.
    ///
    /// Zooms are made from the maximum down, each simplified from the one above, so only
    /// two zooms' geometries are alive at once; the encoded tiles are kept until the end
    /// (they are what the archive will hold) and handed over from the minimum up, the
    /// order of PMTiles tile ids.
    pub fn tile(
        &self,
        min: u8,
        max: u8,
        threads: usize,
        mut sink: impl FnMut(u8, ZoomTiles) -> Result<(), TileError>,
    ) -> Result<(), TileError> {
        let point_min_zoom = self.point_min_zooms(min, max);
        let mut done: Vec<(u8, ZoomTiles)> = Vec::with_capacity(usize::from(max - min) + 1);
        let mut level: Vec<Vec<Shape>> = Vec::new();
        for z in (min..=max).rev() {
            let started = Instant::now();
            let previous = (z < max).then_some(level.as_slice());
            level = self.simplified(previous, z, max, threads)?;
            let simplified = started.elapsed();
            let tiles = self.tile_zoom(z, max, &level, &point_min_zoom, threads)?;
            tracing::debug!(
                layer = %self.name,
                zoom = z,
                tiles = tiles.tiles.len(),
                ?simplified,
                elapsed = ?started.elapsed(),
                "zoom tiled"
            );
            done.push((z, tiles));
        }
        for (z, tiles) in done.into_iter().rev() {
            sink(z, tiles)?;
        }
        Ok(())
    }

    /// Each feature's shapes in tile units of zoom `z`, simplified from `previous` (the
    /// shapes of zoom `z + 1`) or, at the maximum zoom, from the projected geometry;
    /// empty for tiny polygons, which are never clipped.
    fn simplified(
        &self,
        previous: Option<&[Vec<Shape>]>,
        z: u8,
        max: u8,
        threads: usize,
    ) -> Result<Vec<Vec<Shape>>, TileError> {
        let chunks = chunk_ranges(self.features.len(), threads);
        let scale = units_per_world(max);
        let parts = parallel(chunks.len(), threads, |i| {
            chunks[i]
                .clone()
                .map(|k| {
                    let f = &self.features[k];
                    if self.is_tiny(f, z, max) {
                        return Vec::new();
                    }
                    match previous {
                        Some(previous) => previous[k]
                            .iter()
                            .map(|s| simplify(&scaled(s, 0.5)))
                            .collect(),
                        None => f
                            .shapes
                            .iter()
                            .map(|s| simplify(&scaled(s, scale)))
                            .collect(),
                    }
                })
                .collect::<Vec<_>>()
        })?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Whether a polygon feature is drawn as part of the tiny-polygon account at zoom `z`.
    fn is_tiny(&self, f: &Feature, z: u8, max: u8) -> bool {
        z < max
            && f.polygon_area
                .is_some_and(|a| a * units_per_world(z).powi(2) < TINY_AREA)
    }

    /// For each feature, the lowest zoom where point thinning keeps it (`min` for
    /// non-points).
    fn point_min_zooms(&self, min: u8, max: u8) -> Vec<u8> {
        let mut min_zoom: Vec<u8> = self
            .features
            .iter()
            .map(|f| if f.is_point { max } else { min })
            .collect();
        let mut cells = std::collections::HashSet::new();
        for z in (min..max).rev() {
            cells.clear();
            let cell = THIN_CELL / units_per_world(z);
            for (f, mz) in self.features.iter().zip(min_zoom.iter_mut()) {
                if !f.is_point || *mz != z + 1 {
                    continue;
                }
                let key = ((f.centre.x / cell) as u64, (f.centre.y / cell) as u64);
                if cells.insert(key) {
                    *mz = z;
                }
            }
        }
        min_zoom
    }

    fn tile_zoom(
        &self,
        z: u8,
        max: u8,
        geoms: &[Vec<Shape>],
        point_min_zoom: &[u8],
        threads: usize,
    ) -> Result<ZoomTiles, TileError> {
        let mut drops = ZoomDrops {
            zoom: z,
            thinned_points: 0,
            tiny_polygons: 0,
            size_cap: 0,
        };
        // Phase 1: cut features into tiles.
        let chunks = chunk_ranges(self.features.len(), threads);
        let cut = parallel(chunks.len(), threads, |i| {
            let mut pieces: Vec<Piece> = Vec::new();
            let mut tiny: Vec<Piece> = Vec::new();
            let mut error = None;
            for k in chunks[i].clone() {
                let f = &self.features[k];
                if point_min_zoom[k] > z {
                    continue;
                }
                if self.is_tiny(f, z, max) {
                    let area = f.polygon_area.unwrap_or(0.0) * units_per_world(z).powi(2);
                    if let Some(p) = tiny_piece(f, k, z, area) {
                        tiny.push(p);
                    }
                    continue;
                }
                for shape in &geoms[k] {
                    cut_into_tiles(shape, z, &mut |x, y, clipped| {
                        let (ox, oy) = (
                            f64::from(x) * f64::from(EXTENT),
                            f64::from(y) * f64::from(EXTENT),
                        );
                        let Some(g) = encode::quantise(&clipped, ox, oy) else {
                            return;
                        };
                        match encode::encode_geometry(&g) {
                            Ok(geometry) => pieces.push(Piece {
                                tile: tile_id(z, x, y),
                                x,
                                y,
                                feature: k,
                                geometry,
                                tiny_area: 0.0,
                            }),
                            Err(e) => {
                                error.get_or_insert((f.row, x, y, e));
                            }
                        }
                    });
                }
            }
            match error {
                Some((row, x, y, detail)) => Err(TileError::Encode {
                    layer: self.name.clone(),
                    row: row as u64 + 1,
                    tile: format!("{z}/{x}/{y}"),
                    detail,
                }),
                None => Ok((pieces, tiny)),
            }
        })?;
        let mut pieces = Vec::new();
        let mut tiny = Vec::new();
        for r in cut {
            let (p, t) = r?;
            pieces.extend(p);
            tiny.extend(t);
        }
        drops.thinned_points = point_min_zoom.iter().filter(|&&m| m > z).count() as u64;
        drops.tiny_polygons = tiny.len() as u64;
        pieces.extend(tiny);
        // Stable: pieces of one feature keep their order.
        pieces.sort_by_key(|p| (p.tile, p.feature));

        // Phase 2: assemble, cap, encode and compress each tile.
        let mut groups: Vec<Range<usize>> = Vec::new();
        let mut start = 0;
        for i in 1..=pieces.len() {
            if i == pieces.len() || pieces[i].tile != pieces[start].tile {
                if i > start {
                    groups.push(start..i);
                }
                start = i;
            }
        }
        let group_chunks = chunk_ranges(groups.len(), threads);
        let encoded = parallel(group_chunks.len(), threads, |i| {
            let compressor: Box<dyn Compressor> = Compression::Gzip.into();
            let mut out = Vec::new();
            let mut dropped = 0u64;
            for g in group_chunks[i].clone() {
                let tile_pieces = &pieces[groups[g].clone()];
                let (raw, d) = self.assemble(z, tile_pieces);
                dropped += d;
                let Some(raw) = raw else { continue };
                let first = &tile_pieces[0];
                let mut gzip = Vec::with_capacity(raw.len() / 3 + 32);
                compressor
                    .compress(&mut |w| w.write_all(&raw), &mut gzip)
                    .map_err(|e| TileError::Internal(format!("gzip: {e}")))?;
                let coord = TileCoord::new(z, first.x, first.y)
                    .map_err(|e| TileError::Internal(e.to_string()))?;
                out.push(EncodedTile {
                    coord,
                    raw_len: raw.len(),
                    gzip,
                });
            }
            Ok::<_, TileError>((out, dropped))
        })?;
        let mut tiles = Vec::with_capacity(groups.len());
        for r in encoded {
            let (t, d) = r?;
            tiles.extend(t);
            drops.size_cap += d;
        }
        Ok(ZoomTiles { tiles, drops })
    }

    /// Encodes one tile's pieces (sorted by feature), turning tiny polygons into squares and
    /// dropping the densest features above the size cap. Returns the MVT bytes (`None` if
    /// nothing is left) and the number of features dropped by the cap.
    fn assemble(&self, z: u8, pieces: &[Piece]) -> (Option<Vec<u8>>, u64) {
        let mut account = 0.0;
        let mut squares: Vec<(usize, EncodedGeometry)> = Vec::new();
        let mut drawn: Vec<(usize, &EncodedGeometry)> = Vec::with_capacity(pieces.len());
        for p in pieces {
            if p.tiny_area > 0.0 {
                account += p.tiny_area;
                if account >= TINY_AREA {
                    account -= TINY_AREA;
                    if let Some(square) = tiny_square(&self.features[p.feature], z, p.x, p.y) {
                        squares.push((p.feature, square));
                    }
                }
            } else {
                drawn.push((p.feature, &p.geometry));
            }
        }
        drawn.extend(squares.iter().map(|(f, g)| (*f, g)));
        drawn.sort_by_key(|(f, _)| *f);
        if drawn.is_empty() {
            return (None, 0);
        }
        let encode = |keep: &dyn Fn(usize) -> bool| -> Vec<u8> {
            let features: Vec<TileFeature<'_>> = drawn
                .iter()
                .filter(|(f, _)| keep(*f))
                .map(|(f, g)| TileFeature {
                    id: self.features[*f].row as u64 + 1,
                    geometry: g,
                    attributes: &self.values[*f],
                })
                .collect();
            encode::encode_tile(&self.name, &self.keys, &features)
        };
        let raw = encode(&|_| true);
        if raw.len() <= MAX_TILE_BYTES {
            return (Some(raw), 0);
        }
        // Over the cap: drop the densest features first, the ones closest to their
        // predecessor along the Hilbert curve.
        let mut unique: Vec<usize> = drawn.iter().map(|(f, _)| *f).collect();
        unique.dedup();
        unique.sort_by_key(|&f| (self.features[f].hilbert, f));
        let mut gaps: Vec<(f64, usize)> = Vec::with_capacity(unique.len());
        for (i, &f) in unique.iter().enumerate() {
            let gap = match i.checked_sub(1).map(|j| unique[j]) {
                Some(prev) => {
                    let (a, b) = (self.features[prev].centre, self.features[f].centre);
                    ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
                }
                None => f64::INFINITY,
            };
            gaps.push((gap, f));
        }
        gaps.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut dropped = vec![false; self.features.len()];
        let mut n_dropped = 0usize;
        let mut size = raw.len();
        loop {
            let alive = unique.len() - n_dropped;
            if alive == 0 {
                return (None, n_dropped as u64);
            }
            let ratio = MAX_TILE_BYTES as f64 * 0.95 / size as f64;
            let keep = ((alive as f64 * ratio).floor() as usize).min(alive - 1);
            for &(_, f) in gaps.iter().skip(n_dropped).take(alive - keep) {
                dropped[f] = true;
            }
            n_dropped += alive - keep;
            let raw = encode(&|f| !dropped[f]);
            size = raw.len();
            if size <= MAX_TILE_BYTES {
                let empty = n_dropped == unique.len();
                return ((!empty).then_some(raw), n_dropped as u64);
            }
        }
    }
}

/// A feature's share of one tile at one zoom.
#[derive(Debug)]
struct Piece {
    tile: u64,
    x: u32,
    y: u32,
    /// Index into `Layer::features`.
    feature: usize,
    geometry: EncodedGeometry,
    /// Area in tile units² when this piece is a tiny polygon's contribution, else 0.
    tiny_area: f64,
}

/// The tiny-polygon contribution of a feature at zoom `z`: to the tile of its centre.
fn tiny_piece(f: &Feature, k: usize, z: u8, area: f64) -> Option<Piece> {
    let n = mercator::tiles_at(z);
    let tile_of = |w: f64| ((w * f64::from(n)).floor().max(0.0) as u32).min(n - 1);
    let (x, y) = (tile_of(f.centre.x), tile_of(f.centre.y));
    Some(Piece {
        tile: tile_id(z, x, y),
        x,
        y,
        feature: k,
        geometry: EncodedGeometry {
            geom_type: geozero::mvt::tile::GeomType::Polygon,
            commands: Vec::new(),
        },
        // A zero-area polygon still counts as a contribution.
        tiny_area: area.max(f64::MIN_POSITIVE),
    })
}

/// The square a tiny polygon is drawn as, centred on the feature, in tile `x`/`y`.
fn tiny_square(f: &Feature, z: u8, x: u32, y: u32) -> Option<EncodedGeometry> {
    let s = units_per_world(z);
    let (cx, cy) = (f.centre.x * s, f.centre.y * s);
    let h = TINY_SIDE / 2.0;
    let ring = LineString(vec![
        Coord {
            x: cx - h,
            y: cy - h,
        },
        Coord {
            x: cx + h,
            y: cy - h,
        },
        Coord {
            x: cx + h,
            y: cy + h,
        },
        Coord {
            x: cx - h,
            y: cy + h,
        },
        Coord {
            x: cx - h,
            y: cy - h,
        },
    ]);
    let shape = Shape::Polygons(MultiPolygon(vec![Polygon::new(ring, vec![])]));
    let e = f64::from(EXTENT);
    let g = encode::quantise(&shape, f64::from(x) * e, f64::from(y) * e)?;
    encode::encode_geometry(&g).ok()
}

/// Tile units per world unit at zoom `z`.
fn units_per_world(z: u8) -> f64 {
    f64::from(mercator::tiles_at(z)) * f64::from(EXTENT)
}

/// The zoom where a tile unit is at most `want` world units.
fn zoom_for_unit(want: f64) -> i32 {
    if want.is_nan() || want <= 0.0 || !want.is_finite() {
        return i32::from(MAX_ZOOM);
    }
    let z = (1.0 / (f64::from(EXTENT) * want)).log2().ceil();
    if z.is_finite() {
        z.clamp(-1.0, 64.0) as i32
    } else {
        i32::from(MAX_ZOOM)
    }
}

fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    TileCoord::new(z, x, y)
        .map(|c| TileId::from(c).value())
        .unwrap_or(u64::MAX)
}

/// Hilbert index of a world position at [`ORDER_ZOOM`].
fn hilbert(c: Coord<f64>) -> u64 {
    let n = 1u32 << ORDER_ZOOM;
    let cell = |w: f64| ((w * f64::from(n)).floor().max(0.0) as u32).min(n - 1);
    tile_id(ORDER_ZOOM, cell(c.x), cell(c.y))
}

/// Mean and standard deviation of the logarithms of positive values.
#[derive(Default)]
struct LogStats {
    n: u64,
    sum: f64,
    sum_sq: f64,
}

impl LogStats {
    fn add(&mut self, v: f64) {
        if v > 0.0 && v.is_finite() {
            let l = v.ln();
            self.n += 1;
            self.sum += l;
            self.sum_sq += l * l;
        }
    }

    fn mean_sd(&self) -> Option<(f64, f64)> {
        (self.n > 0).then(|| {
            let n = self.n as f64;
            let mean = self.sum / n;
            (mean, (self.sum_sq / n - mean * mean).max(0.0).sqrt())
        })
    }
}

/// A geometry as shapes in world coordinates; grows `bounds` (degrees).
fn to_shapes(geom: &Geometry<f64>, out: &mut Vec<Shape>, bounds: &mut [f64; 4]) {
    let mut project = |c: &Coord<f64>| -> Coord<f64> {
        if c.x.is_finite() && c.y.is_finite() {
            bounds[0] = bounds[0].min(c.x);
            bounds[1] = bounds[1].min(c.y);
            bounds[2] = bounds[2].max(c.x);
            bounds[3] = bounds[3].max(c.y);
        }
        let (x, y) = mercator::lonlat_to_world(c.x, c.y);
        Coord { x, y }
    };
    let mut path = |l: &LineString<f64>| -> LineString<f64> {
        LineString(l.0.iter().map(&mut project).collect())
    };
    match geom {
        Geometry::Point(p) => out.push(Shape::Points(MultiPoint(vec![Point(
            path(&LineString(vec![p.0])).0[0],
        )]))),
        Geometry::MultiPoint(mp) => {
            let line = path(&LineString(mp.0.iter().map(|p| p.0).collect()));
            out.push(Shape::Points(MultiPoint(
                line.0.into_iter().map(Point).collect(),
            )));
        }
        Geometry::Line(l) => out.push(Shape::Lines(MultiLineString(vec![path(&LineString(
            vec![l.start, l.end],
        ))]))),
        Geometry::LineString(l) => out.push(Shape::Lines(MultiLineString(vec![path(l)]))),
        Geometry::MultiLineString(ml) => out.push(Shape::Lines(MultiLineString(
            ml.0.iter().map(&mut path).collect(),
        ))),
        Geometry::Polygon(p) => out.push(Shape::Polygons(MultiPolygon(vec![project_polygon(
            p, &mut path,
        )]))),
        Geometry::MultiPolygon(mp) => out.push(Shape::Polygons(MultiPolygon(
            mp.0.iter().map(|p| project_polygon(p, &mut path)).collect(),
        ))),
        Geometry::Rect(r) => out.push(Shape::Polygons(MultiPolygon(vec![project_polygon(
            &r.to_polygon(),
            &mut path,
        )]))),
        Geometry::Triangle(t) => out.push(Shape::Polygons(MultiPolygon(vec![project_polygon(
            &t.to_polygon(),
            &mut path,
        )]))),
        Geometry::GeometryCollection(gc) => {
            for g in &gc.0 {
                to_shapes(g, out, bounds);
            }
        }
    }
    out.retain(|s| match s {
        Shape::Points(p) => !p.0.is_empty(),
        Shape::Lines(l) => l.0.iter().any(|l| l.0.len() >= 2),
        Shape::Polygons(p) => p.0.iter().any(|p| p.exterior().0.len() >= 4),
    });
}

fn project_polygon(
    p: &Polygon<f64>,
    path: &mut impl FnMut(&LineString<f64>) -> LineString<f64>,
) -> Polygon<f64> {
    Polygon::new(path(p.exterior()), p.interiors().iter().map(path).collect())
}

fn scaled(shape: &Shape, s: f64) -> Shape {
    let c = |c: &Coord<f64>| Coord {
        x: c.x * s,
        y: c.y * s,
    };
    let line = |l: &LineString<f64>| LineString(l.0.iter().map(c).collect());
    match shape {
        Shape::Points(p) => Shape::Points(MultiPoint(p.0.iter().map(|p| Point(c(&p.0))).collect())),
        Shape::Lines(l) => Shape::Lines(MultiLineString(l.0.iter().map(line).collect())),
        Shape::Polygons(p) => Shape::Polygons(MultiPolygon(
            p.0.iter()
                .map(|p| Polygon::new(line(p.exterior()), p.interiors().iter().map(line).collect()))
                .collect(),
        )),
    }
}

fn simplify(shape: &Shape) -> Shape {
    match shape {
        Shape::Points(_) => shape.clone(),
        Shape::Lines(l) => Shape::Lines(l.simplify(SIMPLIFY_STEP)),
        Shape::Polygons(p) => Shape::Polygons(p.simplify(SIMPLIFY_STEP)),
    }
}

/// Cuts a shape (tile units of zoom `z`) into the buffered tiles it touches and calls
/// `emit(x, y, clipped)` for each non-empty piece.
fn cut_into_tiles(shape: &Shape, z: u8, emit: &mut impl FnMut(u32, u32, Shape)) {
    let Some(b) = clip::bounds(shape) else { return };
    let n = mercator::tiles_at(z);
    let e = f64::from(EXTENT);
    let buffer = f64::from(BUFFER);
    let tile_of = |v: f64| -> u32 { ((v / e).floor().max(0.0) as u32).min(n - 1) };
    let (x0, x1) = (tile_of(b[0] - buffer), tile_of(b[2] + buffer));
    let (y0, y1) = (tile_of(b[1] - buffer), tile_of(b[3] + buffer));
    split(shape, [x0, y0, x1, y1], emit);
}

/// Recursive halving of an inclusive tile range `[x0, y0, x1, y1]`.
fn split(shape: &Shape, r: [u32; 4], emit: &mut impl FnMut(u32, u32, Shape)) {
    let e = f64::from(EXTENT);
    let buffer = f64::from(BUFFER);
    let [x0, y0, x1, y1] = r;
    if x0 == x1 && y0 == y1 {
        let rect = [
            f64::from(x0) * e - buffer,
            f64::from(y0) * e - buffer,
            f64::from(x0 + 1) * e + buffer,
            f64::from(y0 + 1) * e + buffer,
        ];
        if let Some(c) = clip::clip_rect(shape, rect) {
            emit(x0, y0, c);
        }
        return;
    }
    if x1 - x0 >= y1 - y0 {
        let mid = x0 + (x1 - x0) / 2;
        let left = (f64::from(x0) * e - buffer, f64::from(mid + 1) * e + buffer);
        let right = (
            f64::from(mid + 1) * e - buffer,
            f64::from(x1 + 1) * e + buffer,
        );
        if let Some(s) = clip::clip_axis(shape, left.0, left.1, Axis::X) {
            split(&s, [x0, y0, mid, y1], emit);
        }
        if let Some(s) = clip::clip_axis(shape, right.0, right.1, Axis::X) {
            split(&s, [mid + 1, y0, x1, y1], emit);
        }
    } else {
        let mid = y0 + (y1 - y0) / 2;
        let top = (f64::from(y0) * e - buffer, f64::from(mid + 1) * e + buffer);
        let bottom = (
            f64::from(mid + 1) * e - buffer,
            f64::from(y1 + 1) * e + buffer,
        );
        if let Some(s) = clip::clip_axis(shape, top.0, top.1, Axis::Y) {
            split(&s, [x0, y0, x1, mid], emit);
        }
        if let Some(s) = clip::clip_axis(shape, bottom.0, bottom.1, Axis::Y) {
            split(&s, [x0, mid + 1, x1, y1], emit);
        }
    }
}

/// `0..n` cut into contiguous ranges, several per thread for balance.
fn chunk_ranges(n: usize, threads: usize) -> Vec<Range<usize>> {
    if n == 0 {
        return Vec::new();
    }
    let pieces = if threads <= 1 {
        1
    } else {
        (threads * 8).min(n)
    };
    let size = n.div_ceil(pieces);
    (0..n).step_by(size).map(|s| s..(s + size).min(n)).collect()
}

/// Runs `work(i)` for `i in 0..jobs` on up to `threads` threads; results in index order.
fn parallel<R: Send>(
    jobs: usize,
    threads: usize,
    work: impl Fn(usize) -> R + Sync,
) -> Result<Vec<R>, TileError> {
    if threads <= 1 || jobs <= 1 {
        return Ok((0..jobs).map(work).collect());
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(jobs))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs {
                            break;
                        }
                        mine.push((i, work(i)));
                    }
                    mine
                })
            })
            .collect();
        let mut all = Vec::with_capacity(jobs);
        for h in handles {
            match h.join() {
                Ok(mine) => all.extend(mine),
                Err(_) => return Err(TileError::Internal("a tiling thread panicked".into())),
            }
        }
        Ok(all)
    })?;
    done.sort_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_everything_once() {
        for (n, t) in [(0, 2), (1, 2), (7, 1), (100, 2), (17, 3)] {
            let chunks = chunk_ranges(n, t);
            let covered: Vec<usize> = chunks.into_iter().flatten().collect();
            assert_eq!(covered, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn parallel_keeps_order() {
        let r = parallel(50, 2, |i| i * 2).unwrap();
        assert_eq!(r, (0..50).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn zoom_for_a_unit() {
        // One tile unit at z10 is 1/(1024·4096) of the world.
        let unit10 = 1.0 / (1024.0 * 4096.0);
        assert_eq!(zoom_for_unit(unit10), 10);
        assert_eq!(zoom_for_unit(unit10 * 0.99), 11);
    }
}
