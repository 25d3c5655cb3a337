//! Clipping points, lines and polygons to axis-aligned rectangles: what cuts a feature
//! into tiles.
//!
//! The algorithm is the one of geojson-vt (the tiler inside MapLibre): clip along one axis
//! at a time to a slab `k1 ≤ coordinate ≤ k2`. A line is cut into the pieces that run
//! inside the slab. A polygon ring is clipped Sutherland–Hodgman style: the parts outside
//! are replaced by the points where the ring crosses the slab's edges, so the result is one
//! closed ring whose area is exactly the area of the ring inside the slab.
//!
//! Pitfalls, all deliberate:
//!
//! * A concave ring that leaves the rectangle and comes back yields one ring with a
//!   zero-width "bridge" along the rectangle's edge instead of two rings. Tiles are clipped
//!   with a buffer, so those bridges lie outside the visible tile; renderers triangulate
//!   them away (MapLibre draws geojson-vt's output the same way).
//! * A ring that only runs around the rectangle (a bay between two arms of a polygon)
//!   clips to a ring of zero area: the caller drops it after quantisation.
//! * Points exactly on an edge are inside, so a point on the border of two tiles belongs to
//!   both tiles' buffers, as the MVT buffer intends.

use geo_types::{Coord, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

/// A feature's geometry, grouped the way MVT groups geometry types.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    Points(MultiPoint<f64>),
    Lines(MultiLineString<f64>),
    Polygons(MultiPolygon<f64>),
}

/// Which coordinate a slab constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    X,
    Y,
}

impl Axis {
    fn of(self, c: Coord<f64>) -> f64 {
        match self {
            Axis::X => c.x,
            Axis::Y => c.y,
        }
    }
}

/// The point of segment `a`–`b` where the `axis` coordinate equals `k`. The caller
/// guarantees that `k` lies between the endpoints' coordinates (so they differ).
fn intersect(a: Coord<f64>, b: Coord<f64>, k: f64, axis: Axis) -> Coord<f64> {
    match axis {
        Axis::X => {
            let t = (k - a.x) / (b.x - a.x);
            Coord {
                x: k,
                y: a.y + (b.y - a.y) * t,
            }
        }
        Axis::Y => {
            let t = (k - a.y) / (b.y - a.y);
            Coord {
                x: a.x + (b.x - a.x) * t,
                y: k,
            }
        }
    }
}

/// Clips a closed ring to the slab; returns a closed ring, empty when nothing of the ring
/// (not even its outline) is inside.
pub(crate) fn clip_ring(ring: &[Coord<f64>], k1: f64, k2: f64, axis: Axis) -> Vec<Coord<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ring.len() + 4);
    for pair in ring.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ak, bk) = (axis.of(a), axis.of(b));
        if ak < k1 {
            if bk > k2 {
                out.push(intersect(a, b, k1, axis));
                out.push(intersect(a, b, k2, axis));
            } else if bk >= k1 {
                out.push(intersect(a, b, k1, axis));
            }
        } else if ak > k2 {
            if bk < k1 {
                out.push(intersect(a, b, k2, axis));
                out.push(intersect(a, b, k1, axis));
            } else if bk <= k2 {
                out.push(intersect(a, b, k2, axis));
            }
        } else {
            out.push(a);
            if bk < k1 {
                out.push(intersect(a, b, k1, axis));
            } else if bk > k2 {
                out.push(intersect(a, b, k2, axis));
            }
        }
    }
    if let (Some(&first), Some(&last)) = (out.first(), out.last())
        && first != last
    {
        out.push(first);
    }
    out
}

/// Clips an open line to the slab; returns the pieces inside it, each of two points or
/// more.
pub(crate) fn clip_line(
    line: &[Coord<f64>],
    k1: f64,
    k2: f64,
    axis: Axis,
    out: &mut Vec<LineString<f64>>,
) {
    let mut piece: Vec<Coord<f64>> = Vec::new();
    let mut flush = |piece: &mut Vec<Coord<f64>>| {
        if piece.len() >= 2 {
            out.push(LineString(std::mem::take(piece)));
        } else {
            piece.clear();
        }
    };
    for pair in line.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (ak, bk) = (axis.of(a), axis.of(b));
        if ak < k1 {
            if bk > k2 {
                piece.push(intersect(a, b, k1, axis));
                piece.push(intersect(a, b, k2, axis));
                flush(&mut piece);
            } else if bk >= k1 {
                piece.push(intersect(a, b, k1, axis));
            }
        } else if ak > k2 {
            if bk < k1 {
                piece.push(intersect(a, b, k2, axis));
                piece.push(intersect(a, b, k1, axis));
                flush(&mut piece);
            } else if bk <= k2 {
                piece.push(intersect(a, b, k2, axis));
            }
        } else {
            piece.push(a);
            if bk < k1 {
                piece.push(intersect(a, b, k1, axis));
                flush(&mut piece);
            } else if bk > k2 {
                piece.push(intersect(a, b, k2, axis));
                flush(&mut piece);
            }
        }
    }
    if let Some(&last) = line.last() {
        let k = axis.of(last);
        if (k1..=k2).contains(&k) {
            piece.push(last);
        }
    }
    flush(&mut piece);
}

/// Clips a shape to the slab `k1 ≤ axis ≤ k2`; `None` when nothing is left.
pub(crate) fn clip_axis(shape: &Shape, k1: f64, k2: f64, axis: Axis) -> Option<Shape> {
    match shape {
        Shape::Points(points) => {
            let kept: Vec<Point<f64>> = points
                .0
                .iter()
                .filter(|p| (k1..=k2).contains(&axis.of(p.0)))
                .copied()
                .collect();
            (!kept.is_empty()).then_some(Shape::Points(MultiPoint(kept)))
        }
        Shape::Lines(lines) => {
            let mut out = Vec::new();
            for line in &lines.0 {
                clip_line(&line.0, k1, k2, axis, &mut out);
            }
            (!out.is_empty()).then_some(Shape::Lines(MultiLineString(out)))
        }
        Shape::Polygons(polygons) => {
            let mut out = Vec::new();
            for polygon in &polygons.0 {
                let exterior = clip_ring(&polygon.exterior().0, k1, k2, axis);
                if exterior.len() < 4 {
                    continue;
                }
                let holes: Vec<LineString<f64>> = polygon
                    .interiors()
                    .iter()
                    .map(|h| clip_ring(&h.0, k1, k2, axis))
                    .filter(|h| h.len() >= 4)
                    .map(LineString)
                    .collect();
                out.push(Polygon::new(LineString(exterior), holes));
            }
            (!out.is_empty()).then_some(Shape::Polygons(MultiPolygon(out)))
        }
    }
}

/// Clips a shape to the rectangle `[min_x, min_y, max_x, max_y]`.
pub(crate) fn clip_rect(shape: &Shape, rect: [f64; 4]) -> Option<Shape> {
    let inside_x = clip_axis(shape, rect[0], rect[2], Axis::X)?;
    clip_axis(&inside_x, rect[1], rect[3], Axis::Y)
}

/// `[min_x, min_y, max_x, max_y]` of a shape's coordinates, `None` when it has none.
pub(crate) fn bounds(shape: &Shape) -> Option<[f64; 4]> {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut grow = |c: &Coord<f64>| {
        b[0] = b[0].min(c.x);
        b[1] = b[1].min(c.y);
        b[2] = b[2].max(c.x);
        b[3] = b[3].max(c.y);
    };
    match shape {
        Shape::Points(p) => p.0.iter().for_each(|p| grow(&p.0)),
        Shape::Lines(l) => l.0.iter().flat_map(|l| l.0.iter()).for_each(&mut grow),
        Shape::Polygons(p) => {
            p.0.iter()
                .flat_map(|p| p.exterior().0.iter())
                .for_each(&mut grow)
        }
    }
    (b[0] <= b[2]).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps, Rect};

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<Coord<f64>> {
        vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]
    }

    /// A comb: a concave polygon that crosses the clip rectangle several times.
    fn comb() -> Polygon<f64> {
        Polygon::new(
            LineString(vec![
                c(0.0, 0.0),
                c(100.0, 0.0),
                c(100.0, 100.0),
                c(80.0, 100.0),
                c(80.0, 20.0),
                c(60.0, 20.0),
                c(60.0, 100.0),
                c(40.0, 100.0),
                c(40.0, 20.0),
                c(20.0, 20.0),
                c(20.0, 100.0),
                c(0.0, 100.0),
                c(0.0, 0.0),
            ]),
            vec![],
        )
    }

    #[test]
    fn clipped_area_equals_geo_boolean_intersection() {
        // Oracle: geo's BooleanOps (an independent implementation, i_overlay) computes the
        // intersection; Sutherland–Hodgman must give the same area.
        let polygon = comb();
        for rect in [
            [10.0, 10.0, 90.0, 60.0],
            [-5.0, 50.0, 105.0, 150.0],
            [30.0, -10.0, 50.0, 30.0],
            [25.0, 30.0, 35.0, 90.0],
        ] {
            let shape = Shape::Polygons(MultiPolygon(vec![polygon.clone()]));
            let clipped = clip_rect(&shape, rect);
            let ours = match clipped {
                Some(Shape::Polygons(p)) => p.unsigned_area(),
                None => 0.0,
                other => panic!("unexpected {other:?}"),
            };
            let r = Rect::new(c(rect[0], rect[1]), c(rect[2], rect[3])).to_polygon();
            let oracle = polygon.intersection(&r).unsigned_area();
            assert!(
                (ours - oracle).abs() < 1e-9,
                "rect {rect:?}: ours {ours}, geo {oracle}"
            );
        }
    }

    #[test]
    fn clipped_rings_stay_inside_and_closed() {
        let shape = Shape::Polygons(MultiPolygon(vec![comb()]));
        let rect = [10.0, 10.0, 90.0, 60.0];
        let Some(Shape::Polygons(out)) = clip_rect(&shape, rect) else {
            panic!("nothing left");
        };
        for p in &out.0 {
            let ring = &p.exterior().0;
            assert_eq!(ring.first(), ring.last());
            for q in ring {
                assert!(q.x >= rect[0] && q.x <= rect[2] && q.y >= rect[1] && q.y <= rect[3]);
            }
        }
    }

    #[test]
    fn hole_outside_the_rectangle_disappears_and_inside_stays() {
        let polygon = Polygon::new(
            LineString(square(0.0, 0.0, 100.0, 100.0)),
            vec![
                LineString(square(10.0, 10.0, 20.0, 20.0)),
                LineString(square(70.0, 70.0, 80.0, 80.0)),
            ],
        );
        let shape = Shape::Polygons(MultiPolygon(vec![polygon]));
        let Some(Shape::Polygons(out)) = clip_rect(&shape, [0.0, 0.0, 50.0, 50.0]) else {
            panic!("nothing left");
        };
        assert_eq!(out.0.len(), 1);
        assert_eq!(out.0[0].interiors().len(), 1);
        // 50² minus the 10² hole.
        assert!((out.unsigned_area() - 2400.0).abs() < 1e-9);
    }

    #[test]
    fn line_is_cut_into_pieces() {
        // A zigzag crossing x = 10 four times.
        let line = vec![c(0.0, 0.0), c(20.0, 1.0), c(0.0, 2.0), c(20.0, 3.0)];
        let mut out = Vec::new();
        clip_line(&line, 10.0, 30.0, Axis::X, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, vec![c(10.0, 0.5), c(20.0, 1.0), c(10.0, 1.5)]);
        assert_eq!(out[1].0, vec![c(10.0, 2.5), c(20.0, 3.0)]);
    }

    #[test]
    fn line_crossing_the_whole_slab() {
        let line = vec![c(-10.0, 0.0), c(10.0, 20.0)];
        let mut out = Vec::new();
        clip_line(&line, 0.0, 5.0, Axis::X, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, vec![c(0.0, 10.0), c(5.0, 15.0)]);
    }

    #[test]
    fn points_on_the_edge_are_inside() {
        let shape = Shape::Points(MultiPoint(vec![
            Point::new(0.0, 0.0),
            Point::new(10.0, 5.0),
            Point::new(10.1, 5.0),
        ]));
        let Some(Shape::Points(p)) = clip_rect(&shape, [0.0, 0.0, 10.0, 10.0]) else {
            panic!("nothing left");
        };
        assert_eq!(p.0.len(), 2);
    }
}
