//! Checks WGS84 longitude/latitude geometries before they are published, repairs what
//! can be repaired without guessing, and explains the rest in words a municipal clerk
//! can act on.
//!
//! [`check_and_repair`] takes one geometry (already reprojected to WGS84 lon/lat, see
//! [`crate::geo::crs`]) and the territory's bounding box, and returns either the repaired
//! geometry with the list of [`Repair`]s made, or the [`GeometryProblem`] that stops it.
//!
//! | problem | outcome |
//! |---|---|
//! | no coordinates | rejected |
//! | NaN / infinite coordinate | rejected |
//! | longitude outside ±180 or latitude outside ±90 | rejected (hints at metres or swapped axes) |
//! | vertex outside the territory box | rejected, naming the vertex |
//! | repeated consecutive vertices | removed |
//! | line with < 2 distinct points, ring with < 4 points | rejected |
//! | self-intersecting polygon | rebuilt with geo's [`MakeValid`] (may become a MultiPolygon) |
//! | overlapping parts of a MultiPolygon | merged with geo's [`unary_union`] |
//! | clockwise exterior / counter-clockwise hole | rewound (RFC 7946: exteriors CCW, holes CW) |
//!
//! Geometry types are kept: a one-part MultiPolygon stays a MultiPolygon. The only type
//! change is a self-intersecting Polygon that splits into several parts.
//!
//! # Pitfalls
//!
//! - `geo_types::Polygon::new` closes rings silently, so an unclosed ring can only be
//!   noticed before the polygon is built: readers that assemble rings from raw coordinates
//!   should use [`polygon_from_rings`], which reports [`Repair::ClosedRings`].
//! - Validity, winding and self-intersection are planar notions computed on raw lon/lat
//!   degrees. That is what every GeoJSON consumer does too, and it is right for anything
//!   that does not cross the antimeridian (Italy does not). Areas and lengths in degrees
//!   are not areas and lengths: use geo's `GeodesicArea`/`Geodesic` measures for those.
//! - The territory check is per vertex. A bus route or river that leaves the municipality
//!   is rejected unless the caller passes a box enlarged by a tolerance.
//! - geo's own validity check compares every segment with every other (quadratic); a
//!   sweep-line pre-check ([`geo::algorithm::sweep::Intersections`]) accepts the common,
//!   valid case in O(n log n) and only suspicious polygons go through geo's full check.

use std::fmt;

use geo::algorithm::sweep::{Cross, Intersections};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::line_intersection::LineIntersection;
use geo::orient::Direction;
use geo::{
    BoundingRect, CoordinatePosition, MakeValid, Orient, Relate, Validation, Winding, unary_union,
};
use geo_types::{
    Coord, Geometry, GeometryCollection, Line, LineString, MultiLineString, MultiPolygon, Polygon,
    Rect,
};

/// A geometry that passed the checks, and what was changed to make it pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Repaired {
    /// The checked geometry (RFC 7946 winding).
    pub geometry: Geometry<f64>,
    /// Repairs made, one entry per kind, in the order they were made. Empty when the
    /// geometry was already fine.
    pub repairs: Vec<Repair>,
}

/// One kind of repair applied to a geometry.
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// Rings whose last point differed from the first were closed.
    ClosedRings { count: usize },
    /// Repeated consecutive vertices were removed.
    RemovedRepeatedPoints { count: usize },
    /// Clockwise exterior rings were made counter-clockwise.
    RewoundExteriors { count: usize },
    /// Counter-clockwise holes were made clockwise.
    RewoundHoles { count: usize },
    /// A self-intersecting polygon was rebuilt (odd-even rule) into `parts` valid polygons.
    FixedSelfIntersection { reason: String, parts: usize },
    /// Overlapping or edge-sharing parts of a MultiPolygon were merged.
    MergedParts { before: usize, after: usize },
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repair::ClosedRings { count: 1 } => write!(f, "closed an unclosed ring"),
            Repair::ClosedRings { count } => write!(f, "closed {count} unclosed rings"),
            Repair::RemovedRepeatedPoints { count } => write!(
                f,
                "removed {}",
                plural(*count, "repeated point", "repeated points")
            ),
            Repair::RewoundExteriors { count: 1 } => {
                write!(f, "rewound a clockwise exterior ring to counter-clockwise")
            }
            Repair::RewoundExteriors { count } => {
                write!(
                    f,
                    "rewound {count} clockwise exterior rings to counter-clockwise"
                )
            }
            Repair::RewoundHoles { count: 1 } => {
                write!(f, "rewound a counter-clockwise hole to clockwise")
            }
            Repair::RewoundHoles { count } => {
                write!(f, "rewound {count} counter-clockwise holes to clockwise")
            }
            Repair::FixedSelfIntersection { reason, parts } => write!(
                f,
                "rebuilt an invalid polygon ({reason}) as {}",
                plural(*parts, "valid polygon", "valid polygons")
            ),
            Repair::MergedParts { before, after } => write!(
                f,
                "merged {before} overlapping or adjoining parts into {}",
                plural(*after, "part", "parts")
            ),
        }
    }
}

/// Which ring of a polygon a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingName {
    Exterior,
    /// The hole at this index, from 1.
    Hole(usize),
}

impl fmt::Display for RingName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RingName::Exterior => write!(f, "the outer boundary"),
            RingName::Hole(n) => write!(f, "hole {n}"),
        }
    }
}

/// Why a geometry cannot be published.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryProblem {
    #[error("the geometry ({kind}) is empty: it has no coordinates")]
    Empty { kind: &'static str },
    #[error(
        "the coordinate ({x}, {y}) is not a number: the cell may be empty, or hold text or a \
         misplaced separator"
    )]
    NotFinite { x: f64, y: f64 },
    #[error(
        "the coordinate ({x}, {y}) is not a longitude/latitude: longitude must be between -180 \
         and 180 and latitude between -90 and 90{hint}"
    )]
    OutOfRange { x: f64, y: f64, hint: &'static str },
    #[error(
        "the point ({x}, {y}) lies outside the territory of the publisher (longitude {min_x} to \
         {max_x}, latitude {min_y} to {max_y}){hint}"
    )]
    OutsideTerritory {
        x: f64,
        y: f64,
        min_x: f64,
        min_y: f64,
        max_x: f64,
        max_y: f64,
        hint: &'static str,
    },
    #[error("the line has {points} distinct point(s); a line needs at least 2")]
    TooFewLinePoints { points: usize },
    #[error(
        "{ring} of the polygon has {points} point(s); a ring needs at least 4 (three corners and \
         the first point again)"
    )]
    TooFewRingPoints { ring: RingName, points: usize },
    #[error("the polygon is invalid ({reason}) and could not be repaired automatically")]
    Unrepairable { reason: String },
    #[error("part {part} of {parts}: {problem}")]
    InPart {
        /// From 1.
        part: usize,
        parts: usize,
        problem: Box<GeometryProblem>,
    },
}

impl GeometryProblem {
    fn in_part(self, index: usize, parts: usize) -> Self {
        GeometryProblem::InPart {
            part: index + 1,
            parts,
            problem: Box::new(self),
        }
    }
}

/// The GeoJSON/OGC type name a geometry is published as: `Line` is written as a
/// `LineString`, `Rect` and `Triangle` as a `Polygon`.
pub fn geometry_type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

/// The bounding box `[min_x, min_y, max_x, max_y]` of all the geometries, or `None` when
/// there are none or all are empty.
pub fn bbox_of<'a>(geoms: impl Iterator<Item = &'a Geometry<f64>>) -> Option<[f64; 4]> {
    geoms
        .filter_map(|g| g.bounding_rect())
        .fold(None, |acc: Option<[f64; 4]>, r| {
            let (min, max) = (r.min(), r.max());
            Some(match acc {
                None => [min.x, min.y, max.x, max.y],
                Some([a, b, c, d]) => [a.min(min.x), b.min(min.y), c.max(max.x), d.max(max.y)],
            })
        })
}

/// Builds a polygon from rings as a reader found them, closing unclosed rings and saying so
/// (`Polygon::new` would close them without telling).
pub fn polygon_from_rings(
    exterior: Vec<Coord<f64>>,
    interiors: Vec<Vec<Coord<f64>>>,
) -> (Polygon<f64>, Option<Repair>) {
    let unclosed = |ring: &Vec<Coord<f64>>| ring.len() > 1 && ring.first() != ring.last();
    let count = usize::from(unclosed(&exterior)) + interiors.iter().filter(|r| unclosed(r)).count();
    let polygon = Polygon::new(
        LineString::new(exterior),
        interiors.into_iter().map(LineString::new).collect(),
    );
    (
        polygon,
        (count > 0).then_some(Repair::ClosedRings { count }),
    )
}

/// Checks and repairs one WGS84 lon/lat geometry; see the module docs for what is checked.
/// `territory` is the publisher's bounding box; every vertex must lie inside it.
pub fn check_and_repair(
    g: Geometry<f64>,
    territory: Option<&Rect<f64>>,
) -> Result<Repaired, GeometryProblem> {
    let mut tally = Tally::default();
    let geometry = repair_geometry(g, territory, &mut tally)?;
    Ok(Repaired {
        geometry,
        repairs: tally.into_repairs(),
    })
}

#[derive(Default)]
struct Tally {
    repeated: usize,
    self_intersections: Vec<Repair>,
    merged: Vec<Repair>,
    exteriors: usize,
    holes: usize,
}

impl Tally {
    fn into_repairs(self) -> Vec<Repair> {
        let mut out = Vec::new();
        if self.repeated > 0 {
            out.push(Repair::RemovedRepeatedPoints {
                count: self.repeated,
            });
        }
        out.extend(self.self_intersections);
        out.extend(self.merged);
        if self.exteriors > 0 {
            out.push(Repair::RewoundExteriors {
                count: self.exteriors,
            });
        }
        if self.holes > 0 {
            out.push(Repair::RewoundHoles { count: self.holes });
        }
        out
    }
}

fn repair_geometry(
    g: Geometry<f64>,
    territory: Option<&Rect<f64>>,
    tally: &mut Tally,
) -> Result<Geometry<f64>, GeometryProblem> {
    let kind = geometry_type_name(&g);
    match g {
        Geometry::Point(p) => {
            check_coord(p.0, territory)?;
            Ok(Geometry::Point(p))
        }
        Geometry::Line(l) => {
            check_coord(l.start, territory)?;
            check_coord(l.end, territory)?;
            if l.start == l.end {
                return Err(GeometryProblem::TooFewLinePoints { points: 1 });
            }
            Ok(Geometry::Line(l))
        }
        Geometry::Rect(r) => {
            check_coord(r.min(), territory)?;
            check_coord(r.max(), territory)?;
            Ok(Geometry::Rect(r))
        }
        Geometry::Triangle(t) => {
            for c in t.to_array() {
                check_coord(c, territory)?;
            }
            Ok(Geometry::Triangle(t))
        }
        Geometry::MultiPoint(mp) => {
            if mp.0.is_empty() {
                return Err(GeometryProblem::Empty { kind });
            }
            let parts = mp.0.len();
            for (i, p) in mp.0.iter().enumerate() {
                check_coord(p.0, territory).map_err(|e| e.in_part(i, parts))?;
            }
            Ok(Geometry::MultiPoint(mp))
        }
        Geometry::LineString(ls) => {
            if ls.0.is_empty() {
                return Err(GeometryProblem::Empty { kind });
            }
            Ok(Geometry::LineString(repair_line(ls, territory, tally)?))
        }
        Geometry::MultiLineString(mls) => {
            if mls.0.iter().all(|l| l.0.is_empty()) {
                return Err(GeometryProblem::Empty { kind });
            }
            let parts = mls.0.len();
            let lines = mls
                .0
                .into_iter()
                .enumerate()
                .map(|(i, l)| repair_line(l, territory, tally).map_err(|e| e.in_part(i, parts)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Geometry::MultiLineString(MultiLineString::new(lines)))
        }
        Geometry::Polygon(p) => {
            if p.exterior().0.is_empty() {
                return Err(GeometryProblem::Empty { kind });
            }
            let mut parts = repair_polygon(p, territory, tally)?;
            if parts.len() == 1 {
                let p = parts.pop().map(|p| orient(p, tally));
                if let Some(p) = p {
                    return Ok(Geometry::Polygon(p));
                }
            }
            Ok(Geometry::MultiPolygon(MultiPolygon::new(
                parts.into_iter().map(|p| orient(p, tally)).collect(),
            )))
        }
        Geometry::MultiPolygon(mp) => {
            if mp.0.iter().all(|p| p.exterior().0.is_empty()) {
                return Err(GeometryProblem::Empty { kind });
            }
            let n = mp.0.len();
            let mut polygons = Vec::with_capacity(n);
            for (i, p) in mp.0.into_iter().enumerate() {
                if p.exterior().0.is_empty() {
                    return Err(GeometryProblem::Empty { kind: "Polygon" }.in_part(i, n));
                }
                polygons.extend(repair_polygon(p, territory, tally).map_err(|e| e.in_part(i, n))?);
            }
            let polygons = merge_parts_if_needed(polygons, tally)?;
            Ok(Geometry::MultiPolygon(MultiPolygon::new(
                polygons.into_iter().map(|p| orient(p, tally)).collect(),
            )))
        }
        Geometry::GeometryCollection(gc) => {
            if gc.0.is_empty() {
                return Err(GeometryProblem::Empty { kind });
            }
            let n = gc.0.len();
            let members =
                gc.0.into_iter()
                    .enumerate()
                    .map(|(i, g)| repair_geometry(g, territory, tally).map_err(|e| e.in_part(i, n)))
                    .collect::<Result<Vec<_>, _>>()?;
            Ok(Geometry::GeometryCollection(GeometryCollection::new_from(
                members,
            )))
        }
    }
}

fn check_coord(c: Coord<f64>, territory: Option<&Rect<f64>>) -> Result<(), GeometryProblem> {
    let (x, y) = (c.x, c.y);
    if !x.is_finite() || !y.is_finite() {
        return Err(GeometryProblem::NotFinite { x, y });
    }
    if x.abs() > 180.0 || y.abs() > 90.0 {
        let hint = if x.abs() > 1000.0 || y.abs() > 1000.0 {
            ": these look like projected coordinates in metres, so the dataset's coordinate \
             reference system must be declared (for example EPSG:3003 Gauss-Boaga or EPSG:7791 \
             RDN2008 UTM 32N)"
        } else if x.abs() <= 90.0 && y.abs() <= 180.0 {
            ": latitude and longitude look swapped"
        } else {
            ""
        };
        return Err(GeometryProblem::OutOfRange { x, y, hint });
    }
    if let Some(t) = territory {
        let inside =
            |x: f64, y: f64| x >= t.min().x && x <= t.max().x && y >= t.min().y && y <= t.max().y;
        if !inside(x, y) {
            let hint = if inside(y, x) {
                ": latitude and longitude look swapped"
            } else if x == 0.0 && y == 0.0 {
                ": (0, 0) usually stands for a missing position"
            } else {
                ""
            };
            return Err(GeometryProblem::OutsideTerritory {
                x,
                y,
                min_x: t.min().x,
                min_y: t.min().y,
                max_x: t.max().x,
                max_y: t.max().y,
                hint,
            });
        }
    }
    Ok(())
}

/// Removes repeated consecutive coordinates, counting them.
fn dedup(ls: &mut LineString<f64>, tally: &mut Tally) {
    let before = ls.0.len();
    ls.0.dedup();
    tally.repeated += before - ls.0.len();
}

fn repair_line(
    mut ls: LineString<f64>,
    territory: Option<&Rect<f64>>,
    tally: &mut Tally,
) -> Result<LineString<f64>, GeometryProblem> {
    for c in &ls.0 {
        check_coord(*c, territory)?;
    }
    dedup(&mut ls, tally);
    if ls.0.len() < 2 {
        return Err(GeometryProblem::TooFewLinePoints { points: ls.0.len() });
    }
    Ok(ls)
}

/// Checks one polygon's coordinates and rings, and rebuilds it when it is invalid. Returns
/// one polygon, or several when a self-intersection splits it. Winding is left alone.
fn repair_polygon(
    p: Polygon<f64>,
    territory: Option<&Rect<f64>>,
    tally: &mut Tally,
) -> Result<Vec<Polygon<f64>>, GeometryProblem> {
    let (mut exterior, mut interiors) = p.into_inner();
    for ring in std::iter::once(&exterior).chain(interiors.iter()) {
        for c in &ring.0 {
            check_coord(*c, territory)?;
        }
    }
    // Empty holes carry nothing; geo's validation ignores them too.
    interiors.retain(|r| !r.0.is_empty());
    dedup(&mut exterior, tally);
    for ring in &mut interiors {
        dedup(ring, tally);
    }
    let names = std::iter::once(RingName::Exterior).chain((1..).map(RingName::Hole));
    for (ring, name) in std::iter::once(&exterior)
        .chain(interiors.iter())
        .zip(names)
    {
        if ring.0.len() < 4 {
            return Err(GeometryProblem::TooFewRingPoints {
                ring: name,
                points: ring.0.len(),
            });
        }
    }
    let polygon = Polygon::new(exterior, interiors);
    if polygon_is_valid(&polygon) {
        return Ok(vec![polygon]);
    }
    let reason = polygon
        .check_validation()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "invalid geometry".to_string());
    let rebuilt = polygon
        .make_valid()
        .map_err(|e| GeometryProblem::Unrepairable {
            reason: format!("{reason}; the repair failed: {e}"),
        })?;
    if rebuilt.0.is_empty() {
        return Err(GeometryProblem::Unrepairable {
            reason: format!("{reason}; nothing with an area is left"),
        });
    }
    if let Err(e) = rebuilt.check_validation() {
        return Err(GeometryProblem::Unrepairable {
            reason: format!("{reason}; the rebuilt shape is still invalid: {e}"),
        });
    }
    tally
        .self_intersections
        .push(Repair::FixedSelfIntersection {
            reason,
            parts: rebuilt.0.len(),
        });
    Ok(rebuilt.0)
}

/// Overlapping parts are merged with a union; parts that only touch at points are fine.
fn merge_parts_if_needed(
    polygons: Vec<Polygon<f64>>,
    tally: &mut Tally,
) -> Result<Vec<Polygon<f64>>, GeometryProblem> {
    if parts_are_disjoint(&polygons) {
        return Ok(polygons);
    }
    let before = polygons.len();
    let merged = unary_union(polygons.iter());
    if let Err(e) = merged.check_validation() {
        return Err(GeometryProblem::Unrepairable {
            reason: format!("parts overlap, and their union is invalid: {e}"),
        });
    }
    tally.merged.push(Repair::MergedParts {
        before,
        after: merged.0.len(),
    });
    Ok(merged.0)
}

/// geo's MultiPolygon rule (no part overlaps or shares an edge with another), testing
/// only the pairs whose bounding boxes meet.
fn parts_are_disjoint(polygons: &[Polygon<f64>]) -> bool {
    let boxes: Vec<Option<Rect<f64>>> = polygons.iter().map(|p| p.bounding_rect()).collect();
    for i in 0..polygons.len() {
        for j in i + 1..polygons.len() {
            let (Some(a), Some(b)) = (boxes[i], boxes[j]) else {
                continue;
            };
            if a.max().x < b.min().x
                || b.max().x < a.min().x
                || a.max().y < b.min().y
                || b.max().y < a.min().y
            {
                continue;
            }
            let im = polygons[i].relate(&polygons[j]);
            if im.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional
                || im.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return false;
            }
        }
    }
    true
}

/// Exterior counter-clockwise, holes clockwise, counting what had to be turned.
fn orient(p: Polygon<f64>, tally: &mut Tally) -> Polygon<f64> {
    let exterior_cw = p.exterior().is_cw();
    let holes_ccw = p.interiors().iter().filter(|r| r.is_ccw()).count();
    if !exterior_cw && holes_ccw == 0 {
        return p;
    }
    tally.exteriors += usize::from(exterior_cw);
    tally.holes += holes_ccw;
    p.orient(Direction::Default)
}

/// A segment of a polygon ring, for the sweep.
#[derive(Clone, Copy)]
struct Segment {
    line: Line<f64>,
    ring: usize,
    index: usize,
    ring_segments: usize,
}

impl Cross for Segment {
    type Scalar = f64;
    fn line(&self) -> Line<f64> {
        self.line
    }
}

/// Polygon validity as geo's [`Validation`] defines it, answered quickly for the common
/// valid case by [`plainly_valid`]; anything else goes to geo's (quadratic) check.
fn polygon_is_valid(p: &Polygon<f64>) -> bool {
    plainly_valid(p) || p.is_valid()
}

/// True when a sweep finds no contact between segments other than consecutive ones
/// sharing their vertex (so the rings are simple and disjoint) and the holes nest
/// correctly. False means "not sure", not "invalid".
fn plainly_valid(p: &Polygon<f64>) -> bool {
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior()).chain(p.interiors()).collect();
    let segments = rings.iter().enumerate().flat_map(|(ring, ls)| {
        let n = ls.0.len().saturating_sub(1);
        ls.lines().enumerate().map(move |(index, line)| Segment {
            line,
            ring,
            index,
            ring_segments: n,
        })
    });
    for (a, b, hit) in Intersections::from_iter(segments) {
        if !consecutive_touch(&a, &b, &hit) {
            return false;
        }
    }
    holes_nest_correctly(p)
}

fn consecutive_touch(a: &Segment, b: &Segment, hit: &LineIntersection<f64>) -> bool {
    if a.ring != b.ring {
        return false;
    }
    let LineIntersection::SinglePoint { intersection, .. } = hit else {
        return false;
    };
    let (i, j) = (a.index.min(b.index), a.index.max(b.index));
    let shared = if j == i + 1 {
        if a.index == i { a.line.end } else { b.line.end }
    } else if i == 0 && j + 1 == a.ring_segments {
        if a.index == 0 {
            a.line.start
        } else {
            b.line.start
        }
    } else {
        return false;
    };
    *intersection == shared
}

/// With simple, mutually disjoint rings: every hole inside the exterior and outside the
/// other holes (one vertex decides, since rings do not cross).
fn holes_nest_correctly(p: &Polygon<f64>) -> bool {
    let outer = Polygon::new(p.exterior().clone(), vec![]);
    let holes: Vec<Polygon<f64>> = p
        .interiors()
        .iter()
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    for (i, hole) in holes.iter().enumerate() {
        let Some(v) = hole.exterior().0.first() else {
            continue;
        };
        if outer.coordinate_position(v) != CoordPos::Inside {
            return false;
        }
        for (j, other) in holes.iter().enumerate() {
            if i != j && other.coordinate_position(v) != CoordPos::Outside {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, wkt};
    use geo_types::Point;

    fn capannori_box() -> Rect<f64> {
        Rect::new(
            Coord {
                x: 10.487,
                y: 43.750,
            },
            Coord {
                x: 10.659,
                y: 43.943,
            },
        )
    }

    #[test]
    fn bowtie_is_split_into_two_valid_triangles() {
        let bowtie: Polygon<f64> = wkt!(POLYGON((0. 0., 0. 10., 10. 0., 10. 10., 0. 0.)));
        assert!(!bowtie.is_valid(), "the oracle must call it invalid");
        let out = check_and_repair(Geometry::Polygon(bowtie), None).unwrap();
        let Geometry::MultiPolygon(mp) = &out.geometry else {
            panic!("expected a MultiPolygon, got {:?}", out.geometry);
        };
        assert_eq!(mp.0.len(), 2);
        assert!(mp.is_valid());
        // Two triangles of 25 each; the signed area of the bowtie itself is 0.
        assert!((mp.unsigned_area() - 50.0).abs() < 1e-9);
        assert!(mp.0.iter().all(|p| p.exterior().is_ccw()));
        assert!(
            out.repairs
                .iter()
                .any(|r| matches!(r, Repair::FixedSelfIntersection { parts: 2, .. })),
            "{:?}",
            out.repairs
        );
    }

    #[test]
    fn sweep_precheck_agrees_with_geo_validation() {
        let cases: Vec<Polygon<f64>> = vec![
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.))),
            wkt!(POLYGON((0. 0., 0. 10., 10. 0., 10. 10., 0. 0.))),
            // hole inside
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.),(2. 2., 2. 4., 4. 4., 4. 2., 2. 2.))),
            // hole outside
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.),(20. 2., 20. 4., 24. 4., 24. 2., 20. 2.))),
            // hole touching the exterior at one point (valid)
            wkt!(POLYGON((0. 0., 4. 1., 4. 4., 0. 4., 0. 0.),(0. 2., 2. 1., 3. 2., 2. 3., 0. 2.))),
            // hole inside another hole
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.),(1. 1., 1. 9., 9. 9., 9. 1., 1. 1.),(2. 2., 2. 3., 3. 3., 3. 2., 2. 2.))),
            // spike going out and back
            wkt!(POLYGON((0. 0., 10. 0., 15. 5., 10. 0., 10. 10., 0. 10., 0. 0.))),
            // ring touching itself at a vertex (inverted hole)
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 5. 0., 0. 10., 0. 0.))),
            // collinear, zero area
            wkt!(POLYGON((0. 0., 1. 1., 2. 2., 0. 0.))),
        ];
        let mut fast = 0;
        for (i, p) in cases.iter().enumerate() {
            let valid = p.is_valid();
            assert_eq!(polygon_is_valid(p), valid, "case {i}: {p:?}");
            if plainly_valid(p) {
                assert!(valid, "the fast path accepted invalid case {i}: {p:?}");
                fast += 1;
            }
        }
        // The square, the hole inside and the nested-free cases take the fast path.
        assert!(fast >= 2, "the fast path accepted only {fast} cases");
    }

    #[test]
    fn overlapping_parts_are_merged() {
        let mp: MultiPolygon<f64> = wkt!(MULTIPOLYGON(
            ((0. 0., 2. 0., 2. 2., 0. 2., 0. 0.)),
            ((1. 1., 3. 1., 3. 3., 1. 3., 1. 1.))
        ));
        assert!(!mp.is_valid());
        let out = check_and_repair(Geometry::MultiPolygon(mp), None).unwrap();
        let Geometry::MultiPolygon(merged) = &out.geometry else {
            panic!("type changed: {:?}", out.geometry);
        };
        assert!(merged.is_valid());
        assert_eq!(merged.0.len(), 1);
        assert!((merged.unsigned_area() - 7.0).abs() < 1e-9);
        assert!(out.repairs.contains(&Repair::MergedParts {
            before: 2,
            after: 1
        }));
    }

    #[test]
    fn outside_territory_names_the_point_and_spots_swapped_axes() {
        let far = Geometry::Point(Point::new(10.70, 43.84));
        let err = check_and_repair(far, Some(&capannori_box())).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("(10.7, 43.84)"), "{text}");
        assert!(text.contains("outside the territory"), "{text}");
        let swapped = Geometry::Point(Point::new(43.84, 10.57));
        let text = check_and_repair(swapped, Some(&capannori_box()))
            .unwrap_err()
            .to_string();
        assert!(text.contains("swapped"), "{text}");
    }
}
