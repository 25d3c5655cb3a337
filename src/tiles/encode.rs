//! From clipped shapes to MVT 2.1 bytes: quantisation to the tile's integer grid, ring
//! orientation, and the protobuf encoding (geozero's MVT writer and prost types: the
//! command integers and the protobuf wire format are not written by hand here).
//!
//! Pitfalls:
//!
//! * MVT wants exterior rings with a positive surveyor's-formula area in tile coordinates,
//!   where `y` grows downwards: they look clockwise on screen, the opposite of RFC 7946.
//!   Every ring is re-oriented here from its role (exterior or hole), whatever the source
//!   did, because clipping and rounding can also flip a sliver.
//! * Rounding can collapse a ring to a line or a line to a point: such parts are dropped,
//!   and a polygon whose exterior collapses is dropped with its holes.
//! * geozero's writer omits a ring's closing point and emits `ClosePath`, so rings handed to
//!   it must be closed and have at least three distinct points.

use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Polygon};
use geozero::ToMvt;
use geozero::mvt::tile::{self, GeomType};
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue};

use super::clip::Shape;

/// The MVT extent: tile coordinates run from 0 to 4096.
pub const EXTENT: u32 = 4096;

fn round(c: Coord<f64>, ox: f64, oy: f64) -> Coord<f64> {
    Coord {
        x: (c.x - ox).round(),
        y: (c.y - oy).round(),
    }
}

/// Rounds a ring or line to the grid, dropping consecutive duplicates.
fn round_path(path: &[Coord<f64>], ox: f64, oy: f64) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(path.len());
    for &c in path {
        let r = round(c, ox, oy);
        if out.last() != Some(&r) {
            out.push(r);
        }
    }
    out
}

/// Twice the signed area by the surveyor's formula, in tile coordinates (`y` down): positive
/// for a ring that looks clockwise on screen. Exact: coordinates are small integers.
pub fn ring_area2(ring: &[Coord<f64>]) -> i64 {
    ring.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            (a.x as i64) * (b.y as i64) - (b.x as i64) * (a.y as i64)
        })
        .sum()
}

/// A closed, rounded ring oriented as asked, or `None` if it has no area left.
fn quantise_ring(ring: &[Coord<f64>], ox: f64, oy: f64, exterior: bool) -> Option<LineString<f64>> {
    let mut r = round_path(ring, ox, oy);
    if let (Some(&first), Some(&last)) = (r.first(), r.last())
        && first != last
    {
        r.push(first);
    }
    if r.len() < 4 {
        return None;
    }
    let area2 = ring_area2(&r);
    if area2 == 0 {
        return None;
    }
    if (area2 > 0) != exterior {
        r.reverse();
    }
    Some(LineString(r))
}

/// A clipped shape in global tile units at some zoom, moved to the tile whose top-left
/// corner is `(ox, oy)`, rounded, cleaned and oriented. `None` when nothing drawable is
/// left.
pub(crate) fn quantise(shape: &Shape, ox: f64, oy: f64) -> Option<Geometry<f64>> {
    match shape {
        Shape::Points(points) => {
            let pts: Vec<_> = points
                .0
                .iter()
                .map(|p| geo_types::Point(round(p.0, ox, oy)))
                .collect();
            match pts.len() {
                0 => None,
                1 => Some(Geometry::Point(pts[0])),
                _ => Some(Geometry::MultiPoint(MultiPoint(pts))),
            }
        }
        Shape::Lines(lines) => {
            let mut out: Vec<LineString<f64>> = lines
                .0
                .iter()
                .map(|l| round_path(&l.0, ox, oy))
                .filter(|l| l.len() >= 2)
                .map(LineString)
                .collect();
            match out.len() {
                0 => None,
                1 => out.pop().map(Geometry::LineString),
                _ => Some(Geometry::MultiLineString(MultiLineString(out))),
            }
        }
        Shape::Polygons(polygons) => {
            let mut out: Vec<Polygon<f64>> = Vec::new();
            for p in &polygons.0 {
                let Some(exterior) = quantise_ring(&p.exterior().0, ox, oy, true) else {
                    continue;
                };
                let holes = p
                    .interiors()
                    .iter()
                    .filter_map(|h| quantise_ring(&h.0, ox, oy, false))
                    .collect();
                out.push(Polygon::new(exterior, holes));
            }
            match out.len() {
                0 => None,
                1 => out.pop().map(Geometry::Polygon),
                _ => Some(Geometry::MultiPolygon(MultiPolygon(out))),
            }
        }
    }
}

/// One feature's encoded geometry (command integers) and type, computed once per tile.
#[derive(Debug, Clone)]
pub(crate) struct EncodedGeometry {
    pub geom_type: GeomType,
    pub commands: Vec<u32>,
}

/// Encodes a quantised geometry as MVT command integers.
pub(crate) fn encode_geometry(geom: &Geometry<f64>) -> Result<EncodedGeometry, String> {
    let feature = geom.to_mvt_unscaled().map_err(|e| e.to_string())?;
    Ok(EncodedGeometry {
        geom_type: feature.r#type(),
        commands: feature.geometry,
    })
}

/// A feature ready to go into a tile: its id, encoded geometry and attribute values.
pub(crate) struct TileFeature<'a> {
    pub id: u64,
    pub geometry: &'a EncodedGeometry,
    /// `(column index, value)`; null values are left out (MVT has no null).
    pub attributes: &'a [(usize, TileValue)],
}

/// Encodes one single-layer tile. `keys` are the column names, indexed by the attributes'
/// column indices.
pub(crate) fn encode_tile(layer: &str, keys: &[String], features: &[TileFeature<'_>]) -> Vec<u8> {
    let mut tags = TagsBuilder::new();
    let mut out = Vec::with_capacity(features.len());
    for f in features {
        let mut feature = tile::Feature {
            id: Some(f.id),
            tags: Vec::with_capacity(f.attributes.len() * 2),
            r#type: None,
            geometry: f.geometry.commands.clone(),
        };
        feature.set_type(f.geometry.geom_type);
        for (column, value) in f.attributes {
            let Some(key) = keys.get(*column) else {
                continue;
            };
            let (k, v) = tags.insert_ref(key, value.clone());
            feature.tags.push(k);
            feature.tags.push(v);
        }
        out.push(feature);
    }
    let (keys, values) = tags.into_tags();
    let tile = Tile {
        layers: vec![tile::Layer {
            version: 2,
            name: layer.to_string(),
            features: out,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        }],
    };
    tile.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn exterior_is_clockwise_on_screen_and_holes_the_other_way() {
        // Counter-clockwise on screen (y down): (0,0) → (0,10) → (10,10) → (10,0).
        let ccw = vec![
            c(0.0, 0.0),
            c(0.0, 10.0),
            c(10.0, 10.0),
            c(10.0, 0.0),
            c(0.0, 0.0),
        ];
        let hole = vec![
            c(2.0, 2.0),
            c(4.0, 2.0),
            c(4.0, 4.0),
            c(2.0, 4.0),
            c(2.0, 2.0),
        ];
        let shape = Shape::Polygons(MultiPolygon(vec![Polygon::new(
            LineString(ccw),
            vec![LineString(hole)],
        )]));
        let Some(Geometry::Polygon(p)) = quantise(&shape, 0.0, 0.0) else {
            panic!("polygon expected");
        };
        // The MVT 2.1 spec's rule (§4.3.4.4): exterior area > 0, interior area < 0.
        assert!(ring_area2(&p.exterior().0) > 0);
        assert!(ring_area2(&p.interiors()[0].0) < 0);
        // Screen-clockwise from the top-left corner goes right first.
        assert_eq!(p.exterior().0[1], c(10.0, 0.0));
    }

    #[test]
    fn slivers_and_specks_are_dropped() {
        let sliver = vec![c(0.1, 0.0), c(100.0, 0.2), c(50.0, 0.3), c(0.1, 0.0)];
        let shape = Shape::Polygons(MultiPolygon(vec![Polygon::new(LineString(sliver), vec![])]));
        assert_eq!(quantise(&shape, 0.0, 0.0), None);
        let speck = Shape::Lines(MultiLineString(vec![LineString(vec![
            c(1.1, 1.1),
            c(1.2, 0.9),
        ])]));
        assert_eq!(quantise(&speck, 0.0, 0.0), None);
    }

    #[test]
    fn geometry_commands_match_the_spec_example() {
        // MVT 2.1 spec §4.3.5.1 "Example Point": Point(25 17) is [9, 50, 34].
        let g = encode_geometry(&Geometry::Point(geo_types::Point::new(25.0, 17.0))).unwrap();
        assert_eq!(g.commands, vec![9, 50, 34]);
        assert_eq!(g.geom_type, GeomType::Point);
        // §4.3.5.3 "Example Linestring": LineString(2 2, 2 10, 10 10) is
        // [9, 4, 4, 18, 0, 16, 16, 0].
        let l = LineString(vec![c(2.0, 2.0), c(2.0, 10.0), c(10.0, 10.0)]);
        let g = encode_geometry(&Geometry::LineString(l)).unwrap();
        assert_eq!(g.commands, vec![9, 4, 4, 18, 0, 16, 16, 0]);
        // §4.3.5.5 "Example Polygon": Polygon(3 6, 8 12, 20 34, 3 6) is
        // [9, 6, 12, 18, 10, 12, 24, 44, 15].
        let ring = LineString(vec![c(3.0, 6.0), c(8.0, 12.0), c(20.0, 34.0), c(3.0, 6.0)]);
        let g = encode_geometry(&Geometry::Polygon(Polygon::new(ring, vec![]))).unwrap();
        assert_eq!(g.commands, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]);
    }
}
