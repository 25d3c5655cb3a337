//! The tiler on edge cases: a polygon the size of Italy spanning many tiles, rings with
//! holes across tile edges, a multipolygon cut by tile edges, a layer of one point, a
//! layer dense enough to hit the 500 KB cap, identical tiles stored once.
//!
//! Each archive is read back with the pmtiles crate's reader, tiles are decoded with
//! geozero's prost types and a command decoder written here from the MVT 2.1 spec, and
//! compared with independent expectations: tile numbers from the OSM slippy-map formula
//! (evaluated with Python), areas from geo's boolean intersection of the projected input
//! with each tile square, header fields read at the byte offsets of the PMTiles v3 spec.

use std::collections::BTreeMap;
use std::path::Path;

use geo::{Area, BooleanOps};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Rect};
use geozero::mvt::tile::{GeomType, Value};
use geozero::mvt::{Message, Tile};
use pmtiles::{AsyncPmTilesReader, TileCoord};
use polars::prelude::*;
use portale::etl::table::Table;
use portale::tiles::{MAX_TILE_BYTES, TilingOptions, TilingReport, write_pmtiles};

const EXTENT: f64 = 4096.0;
const BUFFER: f64 = 64.0;

/// Web Mercator world coordinates in [0, 1], y down (the OSM wiki's formula).
fn world(lon: f64, lat: f64) -> (f64, f64) {
    let x = (lon + 180.0) / 360.0;
    let y = (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0;
    (x, y)
}

struct Archive {
    header: Vec<u8>,
    metadata: serde_json::Value,
    /// Decompressed tiles by (z, x, y).
    tiles: BTreeMap<(u8, u32, u32), Vec<u8>>,
    file_size: u64,
}

fn u64_at(h: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(h[offset..offset + 8].try_into().unwrap())
}

/// Reads every tile of zooms `min..=max` whose tile touches `bbox` (one tile of margin).
fn read_archive(path: &Path, bbox: [f64; 4], min: u8, max: u8) -> Archive {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let reader = AsyncPmTilesReader::new_with_path(path).await.unwrap();
        let metadata: serde_json::Value =
            serde_json::from_str(&reader.get_metadata().await.unwrap()).unwrap();
        let mut tiles = BTreeMap::new();
        for z in min..=max {
            let n = 1u32 << z;
            let (x0, y0) = world(bbox[0], bbox[3]);
            let (x1, y1) = world(bbox[2], bbox[1]);
            let t = |w: f64| ((w * f64::from(n)).floor() as i64).clamp(0, i64::from(n) - 1) as u32;
            for x in t(x0).saturating_sub(1)..=(t(x1) + 1).min(n - 1) {
                for y in t(y0).saturating_sub(1)..=(t(y1) + 1).min(n - 1) {
                    let coord = TileCoord::new(z, x, y).unwrap();
                    if let Some(data) = reader.get_tile_decompressed(coord).await.unwrap() {
                        tiles.insert((z, x, y), data.to_vec());
                    }
                }
            }
        }
        let header = std::fs::read(path).unwrap()[..127].to_vec();
        Archive {
            header,
            metadata,
            tiles,
            file_size: std::fs::metadata(path).unwrap().len(),
        }
    })
}

/// One decoded feature: id, type, parts (rings closed by repeating the first point).
struct Decoded {
    id: Option<u64>,
    kind: GeomType,
    parts: Vec<Vec<(i64, i64)>>,
    tags: Vec<(String, Value)>,
}

/// Decodes MVT command integers (MVT 2.1 §4.3): MoveTo = 1, LineTo = 2, ClosePath = 7,
/// parameters zigzag-encoded deltas.
fn decode_commands(cmds: &[u32], kind: GeomType) -> Vec<Vec<(i64, i64)>> {
    let zigzag = |v: u32| -> i64 { i64::from((v >> 1) as i32 ^ -((v & 1) as i32)) };
    let mut parts: Vec<Vec<(i64, i64)>> = Vec::new();
    let (mut x, mut y) = (0i64, 0i64);
    let mut i = 0;
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, cmds[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    x += zigzag(cmds[i]);
                    y += zigzag(cmds[i + 1]);
                    i += 2;
                    if id == 1 {
                        parts.push(Vec::new());
                    }
                    parts.last_mut().unwrap().push((x, y));
                }
            }
            7 => {
                assert_eq!(kind, GeomType::Polygon, "ClosePath outside a polygon");
                let first = parts.last().unwrap()[0];
                parts.last_mut().unwrap().push(first);
            }
            other => panic!("unknown command {other}"),
        }
    }
    parts
}

fn decode(raw: &[u8], layer: &str) -> Vec<Decoded> {
    let tile = Tile::decode(raw).unwrap();
    assert_eq!(tile.layers.len(), 1);
    let l = &tile.layers[0];
    assert_eq!(l.name, layer);
    assert_eq!(l.version, 2);
    assert_eq!(l.extent, Some(4096));
    l.features
        .iter()
        .map(|f| Decoded {
            id: f.id,
            kind: f.r#type(),
            parts: decode_commands(&f.geometry, f.r#type()),
            tags: f
                .tags
                .chunks(2)
                .map(|kv| {
                    (
                        l.keys[kv[0] as usize].clone(),
                        l.values[kv[1] as usize].clone(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// Twice the surveyor's-formula area in tile coordinates (y down).
fn area2(ring: &[(i64, i64)]) -> i64 {
    ring.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

/// Checks every coordinate is within the buffered extent and polygons follow MVT 2.1
/// §4.3.4.4: each polygon starts with a positive-area exterior ring; no ring has zero area.
fn check_structure(features: &[Decoded]) {
    for f in features {
        for part in &f.parts {
            for &(x, y) in part {
                assert!(
                    (-BUFFER as i64..=(EXTENT + BUFFER) as i64).contains(&x)
                        && (-BUFFER as i64..=(EXTENT + BUFFER) as i64).contains(&y),
                    "coordinate ({x}, {y}) outside extent + buffer"
                );
            }
        }
        if f.kind == GeomType::Polygon {
            assert!(
                area2(&f.parts[0]) > 0,
                "a polygon feature must start with an exterior ring"
            );
            for ring in &f.parts {
                assert!(ring.len() >= 4, "ring of {} points", ring.len());
                assert_ne!(area2(ring), 0, "zero-area ring");
            }
        }
    }
}

/// The features' polygons (exteriors with their holes) as geo polygons in tile units.
fn polygons(features: &[Decoded]) -> MultiPolygon<f64> {
    let mut out: Vec<Polygon<f64>> = Vec::new();
    for f in features.iter().filter(|f| f.kind == GeomType::Polygon) {
        for ring in &f.parts {
            let ls = LineString(
                ring.iter()
                    .map(|&(x, y)| Coord {
                        x: x as f64,
                        y: y as f64,
                    })
                    .collect(),
            );
            if area2(ring) > 0 {
                out.push(Polygon::new(ls, vec![]));
            } else {
                out.last_mut().unwrap().interiors_push(ls);
            }
        }
    }
    MultiPolygon(out)
}

/// Area of the features inside the tile proper (buffer excluded), tile units².
fn visible_area(features: &[Decoded]) -> f64 {
    let square = Rect::new(
        Coord { x: 0.0, y: 0.0 },
        Coord {
            x: EXTENT,
            y: EXTENT,
        },
    )
    .to_polygon();
    polygons(features).intersection(&square).unsigned_area()
}

/// A polygon's area in tile units² at zoom `z`, projected here.
fn projected_area(p: &Polygon<f64>, z: u8) -> f64 {
    let s = f64::from(1u32 << z) * EXTENT;
    let proj = |l: &LineString<f64>| {
        LineString(
            l.0.iter()
                .map(|c| {
                    let (x, y) = world(c.x, c.y);
                    Coord { x: x * s, y: y * s }
                })
                .collect(),
        )
    };
    Polygon::new(proj(p.exterior()), p.interiors().iter().map(proj).collect()).unsigned_area()
}

/// How far the tiled area may be from the projected one: every boundary point moves by
/// at most one unit of simplification plus half a unit of rounding in each axis, so the
/// area changes by at most the perimeter times 1.75 units.
fn area_tolerance(polygons: &[Polygon<f64>], z: u8) -> f64 {
    let s = f64::from(1u32 << z) * EXTENT;
    let perimeter = |l: &LineString<f64>| -> f64 {
        l.0.windows(2)
            .map(|w| {
                let (a, b) = (world(w[0].x, w[0].y), world(w[1].x, w[1].y));
                ((a.0 - b.0) * s).hypot((a.1 - b.1) * s)
            })
            .sum()
    };
    polygons
        .iter()
        .map(|p| perimeter(p.exterior()) + p.interiors().iter().map(perimeter).sum::<f64>())
        .sum::<f64>()
        * 1.75
}

fn layer_table(geoms: Vec<Option<Geometry<f64>>>) -> Table {
    let n = geoms.len();
    let names: Vec<String> = (0..n).map(|i| format!("elemento {i}")).collect();
    let df = DataFrame::new_infer_height(vec![
        Column::new("nome".into(), names),
        Column::new(
            "numero".into(),
            (0..n as i64).map(|i| i - 1).collect::<Vec<_>>(),
        ),
    ])
    .unwrap();
    Table {
        df,
        geoms: Some(geoms),
    }
}

fn tile_it(table: &Table, layer: &str, min: u8, max: u8) -> (TilingReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = TilingOptions::new(layer);
    opts.min_zoom = Some(min);
    opts.max_zoom = Some(max);
    opts.threads = 2;
    let report = write_pmtiles(table, &opts, &dir.path().join("t.pmtiles")).unwrap();
    (report, dir)
}

/// A wobbly ring of `n` vertices around (`lon`, `lat`) with radii in degrees.
fn wobbly(lon: f64, lat: f64, rx: f64, ry: f64, n: usize) -> LineString<f64> {
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = 1.0 + 0.08 * (a * 17.0).sin() + 0.03 * (a * 131.0).cos();
            Coord {
                x: lon + rx * r * a.cos(),
                y: lat + ry * r * a.sin(),
            }
        })
        .collect();
    pts.push(pts[0]);
    LineString(pts)
}

#[test]
fn italy_sized_polygon_covers_its_area_and_repeats_interior_tiles_once() {
    // About 1,000 km by 1,100 km, 3,000 vertices, centred on Italy.
    let polygon = Polygon::new(wobbly(12.5, 42.0, 6.0, 5.0, 3000), vec![]);
    let table = layer_table(vec![Some(polygon.clone().into())]);
    let (report, dir) = tile_it(&table, "italia", 0, 9);
    let archive = read_archive(&dir.path().join("t.pmtiles"), [5.5, 36.5, 19.5, 47.5], 0, 9);
    assert_eq!(report.tile_count as usize, archive.tiles.len());
    for z in 0..=9u8 {
        let mut area = 0.0;
        for ((tz, _, _), raw) in archive.tiles.range((z, 0, 0)..=(z, u32::MAX, u32::MAX)) {
            assert_eq!(*tz, z);
            let features = decode(raw, "italia");
            check_structure(&features);
            area += visible_area(&features);
        }
        let expected = projected_area(&polygon, z);
        let tolerance = area_tolerance(std::slice::from_ref(&polygon), z);
        assert!(
            (area - expected).abs() <= tolerance,
            "z{z}: tiled area {area} vs {expected} (tolerance {tolerance})"
        );
    }
    // Interior tiles are the same full square: stored once.
    let h = &archive.header;
    let (addressed, contents) = (u64_at(h, 72), u64_at(h, 88));
    assert_eq!(addressed, report.tile_count);
    assert!(
        contents < addressed,
        "{contents} contents for {addressed} tiles"
    );
    assert_eq!(contents, report.tile_contents);
    let stored: u64 = archive.tiles.len() as u64;
    assert!(stored > 100, "only {stored} tiles");
    // Header: MVT (1), gzip tiles (2), zooms 0–9.
    assert_eq!((h[98], h[99], h[100], h[101]), (2, 1, 0, 9));
    assert!(archive.file_size > 16_384);
}

#[test]
fn holes_across_a_tile_edge_stay_holes() {
    // The z10 column boundary x = 542 is at 10.546875 E: the hole straddles it.
    let exterior = LineString::from(vec![
        (10.50, 43.80),
        (10.60, 43.80),
        (10.60, 43.90),
        (10.50, 43.90),
        (10.50, 43.80),
    ]);
    let hole = LineString::from(vec![
        (10.53, 43.83),
        (10.53, 43.86),
        (10.56, 43.86),
        (10.56, 43.83),
        (10.53, 43.83),
    ]);
    let polygon = Polygon::new(exterior, vec![hole]);
    let table = layer_table(vec![Some(polygon.clone().into())]);
    let (_, dir) = tile_it(&table, "fori", 10, 12);
    let archive = read_archive(
        &dir.path().join("t.pmtiles"),
        [10.5, 43.8, 10.6, 43.9],
        10,
        12,
    );
    for z in 10..=12u8 {
        let mut area = 0.0;
        let mut holes = 0;
        for ((tz, x, _), raw) in &archive.tiles {
            if *tz != z {
                continue;
            }
            let features = decode(raw, "fori");
            check_structure(&features);
            holes += features
                .iter()
                .flat_map(|f| &f.parts)
                .filter(|r| area2(r) < 0)
                .count();
            area += visible_area(&features);
            if z == 10 {
                assert!([541, 542].contains(x), "unexpected column {x}");
            }
        }
        assert!(
            holes >= 2,
            "z{z}: the hole is cut in two tiles, found {holes} hole rings"
        );
        let expected = projected_area(&polygon, z);
        let tolerance = area_tolerance(std::slice::from_ref(&polygon), z);
        assert!(
            (area - expected).abs() <= tolerance,
            "z{z}: {area} vs {expected} (tolerance {tolerance})"
        );
    }
}

#[test]
fn multipolygon_crossing_tile_edges_keeps_valid_parts() {
    let parts = vec![
        Polygon::new(wobbly(10.55, 43.85, 0.05, 0.03, 200), vec![]),
        Polygon::new(wobbly(10.70, 43.80, 0.02, 0.02, 100), vec![]),
        Polygon::new(
            wobbly(10.40, 43.95, 0.08, 0.05, 300),
            vec![
                wobbly(10.40, 43.95, 0.02, 0.01, 50)
                    .into_iter()
                    .rev()
                    .collect(),
            ],
        ),
    ];
    let mp = MultiPolygon(parts.clone());
    let table = layer_table(vec![Some(mp.into())]);
    let (_, dir) = tile_it(&table, "parti", 8, 13);
    let archive = read_archive(
        &dir.path().join("t.pmtiles"),
        [10.3, 43.7, 10.8, 44.05],
        8,
        13,
    );
    for z in 8..=13u8 {
        let mut area = 0.0;
        let mut tiles = 0;
        for ((tz, _, _), raw) in &archive.tiles {
            if *tz != z {
                continue;
            }
            tiles += 1;
            let features = decode(raw, "parti");
            assert!(features.iter().all(|f| f.id == Some(1)));
            check_structure(&features);
            area += visible_area(&features);
        }
        let expected: f64 = parts.iter().map(|p| projected_area(p, z)).sum();
        let tolerance = area_tolerance(&parts, z);
        assert!(
            (area - expected).abs() <= tolerance,
            "z{z}: {area} vs {expected} (tolerance {tolerance}) over {tiles} tiles"
        );
        if z >= 10 {
            assert!(tiles > 1, "z{z}: the parts should span several tiles");
        }
    }
}

#[test]
fn one_point_is_in_exactly_one_tile_per_zoom() {
    // Capannori town hall. Expected tiles from the OSM slippy-map formula evaluated with
    // Python; at no zoom is the point within 64/4096 of a tile edge, so the buffer adds
    // no neighbour.
    let expected: [(u32, u32); 17] = [
        (0, 0),
        (1, 0),
        (2, 1),
        (4, 2),
        (8, 5),
        (16, 11),
        (33, 23),
        (67, 46),
        (135, 93),
        (271, 186),
        (542, 372),
        (1084, 745),
        (2168, 1491),
        (4336, 2983),
        (8673, 5967),
        (17346, 11935),
        (34692, 23870),
    ];
    let df = DataFrame::new_infer_height(vec![
        Column::new("denominazione".into(), ["Municipio"]),
        Column::new("piani".into(), [3i64]),
        Column::new("quota".into(), [-2.5f64]),
        Column::new("aperto".into(), [true]),
        Column::new("nota".into(), [None::<&str>]),
    ])
    .unwrap();
    let table = Table {
        df,
        geoms: Some(vec![Some(Point::new(10.5731, 43.8416).into())]),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pmtiles");
    let report = write_pmtiles(&table, &TilingOptions::new("municipio"), &path).unwrap();
    // A single point: no spacing to guess from, the floor of the guess applies.
    assert_eq!((report.min_zoom, report.max_zoom), (0, 12));
    let archive = read_archive(&path, [10.5731, 43.8416, 10.5731, 43.8416], 0, 12);
    assert_eq!(archive.tiles.len(), 13);
    for z in 0..=12u8 {
        let found: Vec<_> = archive.tiles.keys().filter(|k| k.0 == z).collect();
        let (x, y) = expected[usize::from(z)];
        assert_eq!(found, vec![&(z, x, y)], "z{z}");
        let features = decode(&archive.tiles[&(z, x, y)], "municipio");
        assert_eq!(features.len(), 1);
        let f = &features[0];
        assert_eq!(f.id, Some(1));
        assert_eq!(f.kind, GeomType::Point);
        assert_eq!(f.parts.len(), 1);
        check_structure(&features);
        // Typed attributes; the null is left out.
        let tag = |k: &str| f.tags.iter().find(|t| t.0 == k).map(|t| t.1.clone());
        assert_eq!(
            tag("denominazione").unwrap().string_value.as_deref(),
            Some("Municipio")
        );
        assert_eq!(tag("piani").unwrap().uint_value, Some(3));
        assert_eq!(tag("quota").unwrap().double_value, Some(-2.5));
        assert_eq!(tag("aperto").unwrap().bool_value, Some(true));
        assert!(tag("nota").is_none());
    }
    let layers = &archive.metadata["vector_layers"];
    assert_eq!(layers[0]["id"], "municipio");
    assert_eq!(layers[0]["maxzoom"], 12);
    let md = &archive.metadata;
    assert_eq!(
        md["bounds"],
        serde_json::json!([10.5731, 43.8416, 10.5731, 43.8416])
    );
    assert_eq!(md["center"][0], 10.5731);
    // PMTiles v3 header: bounds as 10⁷-scaled integers at bytes 102..118.
    let i32_at = |o: usize| i32::from_le_bytes(archive.header[o..o + 4].try_into().unwrap());
    assert_eq!((i32_at(102), i32_at(106)), (105_731_000, 438_416_000));
    assert_eq!(layers[0]["fields"]["piani"], "Number");
    assert_eq!(layers[0]["fields"]["aperto"], "Boolean");
    assert_eq!(layers[0]["fields"]["denominazione"], "String");
}

#[test]
fn point_on_a_tile_edge_is_in_both_buffers() {
    // 11.25 E is the boundary between z5 columns 16 and 17 ((11.25 + 180) / 360 · 32 = 17).
    let table = layer_table(vec![Some(Point::new(11.25, 43.84).into())]);
    let (_, dir) = tile_it(&table, "bordo", 5, 5);
    let archive = read_archive(
        &dir.path().join("t.pmtiles"),
        [11.25, 43.84, 11.25, 43.84],
        5,
        5,
    );
    let columns: Vec<u32> = archive.tiles.keys().map(|k| k.1).collect();
    assert_eq!(columns, vec![16, 17]);
    let left = decode(&archive.tiles.values().next().unwrap()[..], "bordo");
    assert_eq!(left[0].parts[0][0].0, 4096);
}

#[test]
fn dense_layer_is_capped_at_500_kb_and_drops_are_reported() {
    // 25,000 points in a 1.3 km × 1.8 km box with unique 38-character names: about 1.5 MB
    // in one tile at the maximum zoom, where points are never thinned.
    let n = 25_000usize;
    let geoms: Vec<Option<Geometry<f64>>> = (0..n)
        .map(|i| {
            let (a, b) = ((i % 158) as f64, (i / 158) as f64);
            Some(Point::new(10.70 + a * 0.0001, 43.84 + b * 0.0001).into())
        })
        .collect();
    let names: Vec<String> = (0..n)
        .map(|i| format!("{i:08}-abcdefghijklmnopqrstuvwxyz01"))
        .collect();
    let table = Table {
        df: DataFrame::new_infer_height(vec![Column::new("nome".into(), names)]).unwrap(),
        geoms: Some(geoms),
    };
    let (report, dir) = tile_it(&table, "fitto", 0, 9);
    let archive = read_archive(
        &dir.path().join("t.pmtiles"),
        [10.70, 43.84, 10.72, 43.86],
        0,
        9,
    );
    let mut at_max = 0;
    for ((z, _, _), raw) in &archive.tiles {
        assert!(raw.len() <= MAX_TILE_BYTES, "z{z}: {} bytes", raw.len());
        let features = decode(raw, "fitto");
        check_structure(&features);
        if *z == 9 {
            at_max += features.len();
        }
    }
    let drops = &report.dropped[9];
    assert_eq!(drops.zoom, 9);
    assert!(drops.size_cap > 0);
    assert_eq!(drops.thinned_points, 0);
    // Each point lies in one z9 tile (the box starts 0.15° east of the z9 column edge at
    // 10.546875 E, far beyond the buffer), so shown plus dropped is every point.
    assert_eq!(at_max as u64 + drops.size_cap, n as u64);
    assert!(report.largest_tile_bytes <= MAX_TILE_BYTES as u64);
    assert!(report.largest_tile_bytes > MAX_TILE_BYTES as u64 * 8 / 10);
    // Below the maximum zoom, points are thinned instead.
    assert!(report.dropped[5].thinned_points > 0);
}

#[test]
fn tiny_polygons_become_squares_below_the_maximum_zoom() {
    // 400 buildings of 10 m × 10 m in a 2 km grid.
    let geoms: Vec<Option<Geometry<f64>>> = (0..400)
        .map(|i| {
            let (x, y) = (
                10.56 + (i % 20) as f64 * 0.001,
                43.84 + (i / 20) as f64 * 0.001,
            );
            let d = 0.0001;
            Some(
                Polygon::new(
                    LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]),
                    vec![],
                )
                .into(),
            )
        })
        .collect();
    let table = layer_table(geoms);
    let (report, dir) = tile_it(&table, "edifici", 10, 16);
    let archive = read_archive(
        &dir.path().join("t.pmtiles"),
        [10.56, 43.84, 10.58, 43.86],
        10,
        16,
    );
    let count = |z: u8| -> usize {
        archive
            .tiles
            .iter()
            .filter(|(k, _)| k.0 == z)
            .map(|(_, raw)| decode(raw, "edifici").len())
            .sum()
    };
    // At z16 every building is drawn (a few cross tile edges and count twice).
    assert!(count(16) >= 400);
    assert_eq!(report.dropped[6].tiny_polygons, 0);
    // At z10 a building is about 1.2 × 1.6 units: all are tiny, all in tile 542/372, and
    // each 64 units² of their total area is drawn as one 8 × 8 square.
    assert_eq!(report.dropped[0].tiny_polygons, 400);
    let total: f64 = table
        .geoms
        .iter()
        .flatten()
        .flatten()
        .map(|g| match g {
            Geometry::Polygon(p) => projected_area(p, 10),
            _ => 0.0,
        })
        .sum();
    assert_eq!(
        count(10),
        (total / 64.0).floor() as usize,
        "total area {total}"
    );
}

#[test]
fn zoom_range_is_checked() {
    let table = layer_table(vec![Some(Point::new(10.5, 43.8).into())]);
    let dir = tempfile::tempdir().unwrap();
    let mut opts = TilingOptions::new("x");
    opts.min_zoom = Some(9);
    opts.max_zoom = Some(4);
    let err = write_pmtiles(&table, &opts, &dir.path().join("t.pmtiles")).unwrap_err();
    assert!(
        err.to_string()
            .contains("min_zoom 9 is greater than max_zoom 4"),
        "{err}"
    );
}

#[test]
fn layer_without_any_geometry_gets_an_empty_archive() {
    let table = layer_table(vec![None, None]);
    let (report, dir) = tile_it(&table, "vuoto", 0, 12);
    assert_eq!(report.tile_count, 0);
    let archive = read_archive(
        &dir.path().join("t.pmtiles"),
        [10.0, 43.0, 11.0, 44.0],
        0,
        3,
    );
    assert!(archive.tiles.is_empty());
    assert_eq!(&archive.header[..8], b"PMTiles\x03");
    assert_eq!(u64_at(&archive.header, 72), 0);
}
