//! Geometry preparation shared by the geo writers: ring orientation, the layer's
//! geometry type, promotion to multi types, extents and coordinate rounding.
//!
//! Preparation borrows: a geometry is cloned only when it has to change (a ring wound the
//! wrong way, a `Rect`, `Triangle` or `Line` that no file format knows), so a
//! million-point layer costs no copy.

use std::borrow::Cow;
use std::collections::BTreeSet;

use geo::orient::{Direction, Orient};
use geo::{BoundingRect, MapCoords, Winding};
use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Polygon, Rect,
};

/// The simple-features geometry types the writers emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum GeomType {
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    GeometryCollection,
}

impl GeomType {
    pub fn of(geom: &Geometry<f64>) -> GeomType {
        match geom {
            Geometry::Point(_) => GeomType::Point,
            Geometry::Line(_) | Geometry::LineString(_) => GeomType::LineString,
            Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => GeomType::Polygon,
            Geometry::MultiPoint(_) => GeomType::MultiPoint,
            Geometry::MultiLineString(_) => GeomType::MultiLineString,
            Geometry::MultiPolygon(_) => GeomType::MultiPolygon,
            Geometry::GeometryCollection(_) => GeomType::GeometryCollection,
        }
    }

    /// The name used by GeoJSON, GeoParquet's `geometry_types` and WKT (CamelCase).
    pub fn name(self) -> &'static str {
        match self {
            GeomType::Point => "Point",
            GeomType::LineString => "LineString",
            GeomType::Polygon => "Polygon",
            GeomType::MultiPoint => "MultiPoint",
            GeomType::MultiLineString => "MultiLineString",
            GeomType::MultiPolygon => "MultiPolygon",
            GeomType::GeometryCollection => "GeometryCollection",
        }
    }

    fn multi(self) -> Option<GeomType> {
        match self {
            GeomType::Point => Some(GeomType::MultiPoint),
            GeomType::LineString => Some(GeomType::MultiLineString),
            GeomType::Polygon => Some(GeomType::MultiPolygon),
            _ => None,
        }
    }
}

/// The geometries of a table, oriented and normalized, with what the writers need to
/// know about them as a whole.
pub(crate) struct PreparedGeoms<'a> {
    /// One entry per row: `None` for a null geometry.
    pub geoms: Vec<Option<Cow<'a, Geometry<f64>>>>,
    /// The distinct types present (before any promotion).
    pub types: BTreeSet<GeomType>,
    /// Extent of all geometries, `None` when there is no non-empty geometry.
    pub bbox: Option<Rect<f64>>,
    /// Rows whose geometry is null or empty.
    pub missing: usize,
}

impl<'a> PreparedGeoms<'a> {
    pub fn new(geoms: &'a [Option<Geometry<f64>>]) -> PreparedGeoms<'a> {
        let mut types = BTreeSet::new();
        let mut bbox: Option<Rect<f64>> = None;
        let mut missing = 0;
        let prepared = geoms
            .iter()
            .map(|g| {
                let Some(g) = g else {
                    missing += 1;
                    return None;
                };
                types.insert(GeomType::of(g));
                match g.bounding_rect() {
                    Some(r) => bbox = Some(bbox.map_or(r, |b| union(b, r))),
                    None => missing += 1,
                }
                Some(normalize(g))
            })
            .collect();
        PreparedGeoms {
            geoms: prepared,
            types,
            bbox,
            missing,
        }
    }

    /// The one geometry type a layer can declare: the only type present, or the multi
    /// type when single and multi variants of it are mixed (`Polygon` + `MultiPolygon`).
    /// `None` for a truly mixed layer, or one without any geometry.
    pub fn layer_type(&self) -> Option<GeomType> {
        let mut types = self.types.iter().copied();
        let first = types.next()?;
        match types.next() {
            None => Some(first),
            Some(second) if first.multi() == Some(second) && types.next().is_none() => Some(second),
            Some(_) => None,
        }
    }
}

/// Whether every geometry is a `Point` (nulls allowed) and there is at least one: the
/// CSV and JSON outputs then carry `longitude`/`latitude` columns.
pub(crate) fn is_point_layer(geoms: &[Option<Geometry<f64>>]) -> bool {
    let mut any = false;
    for g in geoms.iter().flatten() {
        if !matches!(g, Geometry::Point(_)) {
            return false;
        }
        any = true;
    }
    any
}

/// The geometry as a writer should emit it when the layer declares `layer_type`:
/// single geometries promoted to the declared multi type.
pub(crate) fn promoted<'g>(
    geom: &'g Geometry<f64>,
    layer_type: Option<GeomType>,
) -> Cow<'g, Geometry<f64>> {
    match (layer_type, geom) {
        (Some(GeomType::MultiPolygon), Geometry::Polygon(p)) => {
            Cow::Owned(Geometry::MultiPolygon(MultiPolygon::new(vec![p.clone()])))
        }
        (Some(GeomType::MultiLineString), Geometry::LineString(l)) => {
            Cow::Owned(Geometry::MultiLineString(MultiLineString::new(vec![
                l.clone(),
            ])))
        }
        (Some(GeomType::MultiPoint), Geometry::Point(p)) => {
            Cow::Owned(Geometry::MultiPoint(MultiPoint::new(vec![*p])))
        }
        _ => Cow::Borrowed(geom),
    }
}

/// Coordinates rounded to 7 decimals (about 1 cm), the GeoJSON precision.
pub(crate) fn rounded(geom: &Geometry<f64>) -> Geometry<f64> {
    geom.map_coords(|c| Coord {
        x: round7(c.x),
        y: round7(c.y),
    })
}

pub(crate) fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

/// Exterior rings counter-clockwise, holes clockwise; `Line`, `Rect` and `Triangle` turned
/// into the simple-features types every format knows.
fn normalize(geom: &Geometry<f64>) -> Cow<'_, Geometry<f64>> {
    match geom {
        Geometry::Polygon(p) if !well_oriented(p) => {
            Cow::Owned(Geometry::Polygon(p.orient(Direction::Default)))
        }
        Geometry::MultiPolygon(mp) if !mp.iter().all(well_oriented) => {
            Cow::Owned(Geometry::MultiPolygon(mp.orient(Direction::Default)))
        }
        Geometry::Line(l) => {
            Cow::Owned(Geometry::LineString(LineString::new(vec![l.start, l.end])))
        }
        Geometry::Rect(r) => {
            Cow::Owned(Geometry::Polygon(r.to_polygon().orient(Direction::Default)))
        }
        Geometry::Triangle(t) => {
            Cow::Owned(Geometry::Polygon(t.to_polygon().orient(Direction::Default)))
        }
        Geometry::GeometryCollection(gc) => {
            let members: Vec<Cow<'_, Geometry<f64>>> = gc.iter().map(normalize).collect();
            if members.iter().all(|m| matches!(m, Cow::Borrowed(_))) {
                Cow::Borrowed(geom)
            } else {
                Cow::Owned(Geometry::GeometryCollection(GeometryCollection::new_from(
                    members.into_iter().map(Cow::into_owned).collect(),
                )))
            }
        }
        _ => Cow::Borrowed(geom),
    }
}

/// Degenerate rings (no area) have no winding and are left alone.
fn well_oriented(p: &Polygon<f64>) -> bool {
    let ok = |ring: &LineString<f64>, want_ccw: bool| match ring.winding_order() {
        None => true,
        Some(_) => ring.is_ccw() == want_ccw,
    };
    ok(p.exterior(), true) && p.interiors().iter().all(|r| ok(r, false))
}

#[cfg(test)]
mod tests {
    use geo_types::{Geometry, line_string, point, polygon};

    use super::*;

    fn layer_type_of(geoms: Vec<Option<Geometry<f64>>>) -> Option<GeomType> {
        PreparedGeoms::new(&geoms).layer_type()
    }

    #[test]
    fn layer_type_promotes_single_and_multi_of_one_kind_only() {
        let p: Geometry<f64> = point!(x: 1.0, y: 2.0).into();
        let mp: Geometry<f64> = MultiPoint::new(vec![point!(x: 1.0, y: 2.0)]).into();
        let l: Geometry<f64> = line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into();
        assert_eq!(
            layer_type_of(vec![Some(p.clone()), None]),
            Some(GeomType::Point)
        );
        assert_eq!(
            layer_type_of(vec![Some(p.clone()), Some(mp.clone())]),
            Some(GeomType::MultiPoint)
        );
        assert_eq!(layer_type_of(vec![Some(p.clone()), Some(l.clone())]), None);
        assert_eq!(layer_type_of(vec![Some(p), Some(mp), Some(l)]), None);
        assert_eq!(layer_type_of(vec![None, None]), None);
        assert_eq!(layer_type_of(vec![]), None);
    }

    #[test]
    fn well_oriented_polygons_are_borrowed_others_rewound() {
        let ccw = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)];
        let cw = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0), (x: 1.0, y: 0.0)];
        let geoms = vec![Some(Geometry::Polygon(ccw)), Some(Geometry::Polygon(cw))];
        let prepared = PreparedGeoms::new(&geoms);
        assert!(matches!(prepared.geoms[0], Some(Cow::Borrowed(_))));
        match &prepared.geoms[1] {
            Some(Cow::Owned(Geometry::Polygon(p))) => {
                assert!(p.exterior().is_ccw());
            }
            other => panic!("expected a rewound polygon, got {other:?}"),
        }
        assert_eq!(prepared.missing, 0);
        let bbox = prepared.bbox.unwrap();
        assert_eq!((bbox.min().x, bbox.max().y), (0.0, 1.0));
    }

    #[test]
    fn round7_keeps_seven_decimals() {
        assert_eq!(round7(10.12345675), 10.1234568);
        assert_eq!(round7(-0.00000004), -0.0);
        assert_eq!(round7(43.8), 43.8);
    }
}
