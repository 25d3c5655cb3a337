//! Geometry checks and repairs on the real Capannori boundary and on hand-made bad cases.

use std::path::Path;

use geo::{Area, Validation, Winding};
use geo_types::{
    Geometry, GeometryCollection, LineString, MultiLineString, MultiPolygon, Point, Polygon, Rect,
    coord,
};
use portale::geo::validate::{
    GeometryProblem, Repair, RingName, bbox_of, check_and_repair, geometry_type_name,
    polygon_from_rings,
};

/// The Capannori box of docs/DOMAIN.md (rounded to 3 decimals).
fn capannori_rounded_box() -> Rect<f64> {
    Rect::new(
        coord! { x: 10.487, y: 43.750 },
        coord! { x: 10.659, y: 43.943 },
    )
}

fn capannori() -> Geometry<f64> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/capannori_046007.geojson");
    let text = std::fs::read_to_string(path).unwrap();
    let geojson: geojson::GeoJson = text.parse().unwrap();
    let geojson::GeoJson::FeatureCollection(fc) = geojson else {
        panic!("expected a FeatureCollection")
    };
    let geometry = fc.features[0].geometry.clone().unwrap();
    Geometry::<f64>::try_from(geometry).unwrap()
}

#[test]
fn capannori_boundary_is_rewound_counter_clockwise_and_keeps_its_area() {
    let g = capannori();
    let Geometry::Polygon(input) = &g else {
        panic!("Capannori is a Polygon")
    };
    assert!(
        input.exterior().is_cw(),
        "openpolis writes clockwise exteriors"
    );
    // Shoelace area of the file's ring computed with Python, independently of geo:
    // sum(x[i]*y[i+1] - x[i+1]*y[i]) / 2 = -0.017387353323726984 (clockwise, square degrees).
    let oracle_area = 0.017387353323726984;
    assert!((input.unsigned_area() - oracle_area).abs() < 1e-12);

    let own_box = bbox_of(std::iter::once(&g)).unwrap();
    let territory = Rect::new(
        coord! { x: own_box[0], y: own_box[1] },
        coord! { x: own_box[2], y: own_box[3] },
    );
    let out = check_and_repair(g.clone(), Some(&territory)).unwrap();
    assert_eq!(out.repairs, vec![Repair::RewoundExteriors { count: 1 }]);
    assert_eq!(
        out.repairs[0].to_string(),
        "rewound a clockwise exterior ring to counter-clockwise"
    );
    let Geometry::Polygon(p) = &out.geometry else {
        panic!("the type must stay Polygon")
    };
    assert!(p.exterior().is_ccw());
    assert!(p.is_valid());
    assert!((p.unsigned_area() - oracle_area).abs() < 1e-12);
    assert_eq!(p.exterior().0.len(), input.exterior().0.len());
    // Same vertices, reversed.
    let mut reversed = input.exterior().0.clone();
    reversed.reverse();
    assert_eq!(p.exterior().0, reversed);

    // Checking the repaired geometry again changes nothing.
    let again = check_and_repair(out.geometry.clone(), Some(&territory)).unwrap();
    assert!(again.repairs.is_empty());
    assert_eq!(again.geometry, out.geometry);
}

#[test]
fn capannori_bbox_matches_the_documented_one() {
    // docs/DOMAIN.md: WGS84 bbox 10.487, 43.750 – 10.659, 43.943 (3 decimals, each side
    // rounded up).
    let b = bbox_of(std::iter::once(&capannori())).unwrap();
    let expected = [10.487, 43.750, 10.659, 43.943];
    for (got, want) in b.iter().zip(expected) {
        assert!((got - want).abs() < 0.001, "{b:?}");
    }
    // Rounded up, that box cuts off the western tip (lon 10.48666) and the southern one: a
    // territory box must be computed from the boundary, not copied rounded.
    let err = check_and_repair(capannori(), Some(&capannori_rounded_box())).unwrap_err();
    assert!(
        matches!(err, GeometryProblem::OutsideTerritory { x, y, .. } if x < 10.487 || y < 43.75),
        "{err}"
    );
}

#[test]
fn point_outside_capannori_is_rejected_with_its_coordinates() {
    // Lucca's Piazza Napoleone, just west of Capannori's box.
    let g = Geometry::Point(Point::new(10.5025, 43.8417));
    assert!(check_and_repair(g, Some(&capannori_rounded_box())).is_ok());
    let lucca_station = Geometry::Point(Point::new(10.4830, 43.8370));
    let err = check_and_repair(lucca_station, Some(&capannori_rounded_box())).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("outside the territory"), "{text}");
    assert!(text.contains("10.483") && text.contains("43.837"), "{text}");
    assert!(text.contains("10.487") && text.contains("10.659"), "{text}");
}

#[test]
fn unclosed_ring_is_closed_and_reported() {
    let ring = vec![
        coord! { x: 10.55, y: 43.80 },
        coord! { x: 10.56, y: 43.80 },
        coord! { x: 10.56, y: 43.81 },
        coord! { x: 10.55, y: 43.81 },
    ];
    let (polygon, repair) = polygon_from_rings(ring.clone(), vec![]);
    assert_eq!(repair, Some(Repair::ClosedRings { count: 1 }));
    assert_eq!(repair.unwrap().to_string(), "closed an unclosed ring");
    assert_eq!(polygon.exterior().0.len(), 5);
    assert_eq!(polygon.exterior().0.first(), polygon.exterior().0.last());
    let out = check_and_repair(Geometry::Polygon(polygon), Some(&capannori_rounded_box())).unwrap();
    assert!(out.repairs.is_empty(), "{:?}", out.repairs);
    // Already closed: nothing to report.
    let mut closed = ring;
    closed.push(closed[0]);
    assert_eq!(polygon_from_rings(closed, vec![]).1, None);
}

#[test]
fn bowtie_becomes_two_valid_polygons() {
    let bowtie = Polygon::new(
        LineString::from(vec![
            (10.55, 43.80),
            (10.55, 43.81),
            (10.56, 43.80),
            (10.56, 43.81),
            (10.55, 43.80),
        ]),
        vec![],
    );
    assert!(!bowtie.is_valid());
    let out = check_and_repair(Geometry::Polygon(bowtie), None).unwrap();
    assert_eq!(geometry_type_name(&out.geometry), "MultiPolygon");
    let Geometry::MultiPolygon(mp) = &out.geometry else {
        panic!()
    };
    assert_eq!(mp.0.len(), 2);
    assert!(mp.is_valid());
    // Each triangle is a quarter of the 0.01 x 0.01 square.
    assert!((mp.unsigned_area() - 0.00005).abs() < 1e-12);
    let text = out.repairs[0].to_string();
    assert!(text.contains("self-intersection"), "{text}");
    assert!(text.contains("2 valid polygons"), "{text}");
}

#[test]
fn non_finite_and_out_of_range_coordinates_are_rejected() {
    let nan = Geometry::Point(Point::new(f64::NAN, 43.8));
    let err = check_and_repair(nan, None).unwrap_err();
    assert!(matches!(err, GeometryProblem::NotFinite { .. }));
    assert!(err.to_string().contains("not a number"));

    let inf = Geometry::LineString(LineString::from(vec![(10.5, 43.8), (f64::INFINITY, 43.9)]));
    assert!(matches!(
        check_and_repair(inf, None),
        Err(GeometryProblem::NotFinite { .. })
    ));

    // Gauss-Boaga metres published as if they were degrees.
    let metres = Geometry::Point(Point::new(1626241.15, 4855316.29));
    let text = check_and_repair(metres, None).unwrap_err().to_string();
    assert!(text.contains("metres"), "{text}");
    assert!(text.contains("EPSG:3003"), "{text}");

    // Latitude first.
    let swapped = Geometry::Point(Point::new(43.84, 100.57));
    let text = check_and_repair(swapped, None).unwrap_err().to_string();
    assert!(text.contains("swapped"), "{text}");
}

#[test]
fn empty_geometries_are_rejected() {
    let cases = [
        Geometry::LineString(LineString::new(vec![])),
        Geometry::Polygon(Polygon::new(LineString::new(vec![]), vec![])),
        Geometry::MultiPolygon(MultiPolygon::new(vec![])),
        Geometry::MultiLineString(MultiLineString::new(vec![])),
        Geometry::GeometryCollection(GeometryCollection::new_from(vec![])),
    ];
    for g in cases {
        let kind = geometry_type_name(&g);
        let err = check_and_repair(g, None).unwrap_err();
        assert_eq!(err, GeometryProblem::Empty { kind });
        assert!(err.to_string().contains("empty"));
    }
}

#[test]
fn short_rings_and_lines_are_rejected_after_removing_repeats() {
    // Four points but only three distinct: a - b - b - a.
    let ring = LineString::from(vec![
        (10.55, 43.80),
        (10.56, 43.80),
        (10.56, 43.80),
        (10.55, 43.80),
    ]);
    let err = check_and_repair(Geometry::Polygon(Polygon::new(ring, vec![])), None).unwrap_err();
    assert_eq!(
        err,
        GeometryProblem::TooFewRingPoints {
            ring: RingName::Exterior,
            points: 3
        }
    );
    assert!(err.to_string().contains("at least 4"));

    let line = LineString::from(vec![(10.55, 43.80), (10.55, 43.80)]);
    assert_eq!(
        check_and_repair(Geometry::LineString(line), None).unwrap_err(),
        GeometryProblem::TooFewLinePoints { points: 1 }
    );
}

#[test]
fn repeated_points_are_removed_and_counted() {
    let line = LineString::from(vec![
        (10.55, 43.80),
        (10.55, 43.80),
        (10.56, 43.81),
        (10.57, 43.82),
        (10.57, 43.82),
        (10.57, 43.82),
    ]);
    let out = check_and_repair(Geometry::LineString(line), None).unwrap();
    assert_eq!(
        out.repairs,
        vec![Repair::RemovedRepeatedPoints { count: 3 }]
    );
    assert_eq!(out.repairs[0].to_string(), "removed 3 repeated points");
    let Geometry::LineString(l) = out.geometry else {
        panic!()
    };
    assert_eq!(l.0.len(), 3);
}

#[test]
fn holes_are_rewound_clockwise() {
    let exterior = LineString::from(vec![(0., 0.), (10., 0.), (10., 10.), (0., 10.), (0., 0.)]);
    let hole_ccw = LineString::from(vec![(2., 2.), (4., 2.), (4., 4.), (2., 4.), (2., 2.)]);
    assert!(exterior.is_ccw() && hole_ccw.is_ccw());
    let out = check_and_repair(
        Geometry::Polygon(Polygon::new(exterior, vec![hole_ccw])),
        None,
    )
    .unwrap();
    assert_eq!(out.repairs, vec![Repair::RewoundHoles { count: 1 }]);
    let Geometry::Polygon(p) = out.geometry else {
        panic!()
    };
    assert!(p.exterior().is_ccw());
    assert!(p.interiors()[0].is_cw());
    assert!((p.unsigned_area() - 96.0).abs() < 1e-9);
}

#[test]
fn problems_in_multi_geometries_name_the_part() {
    let good = Polygon::new(
        LineString::from(vec![
            (10.55, 43.80),
            (10.56, 43.80),
            (10.56, 43.81),
            (10.55, 43.80),
        ]),
        vec![],
    );
    let outside = Polygon::new(
        LineString::from(vec![
            (10.75, 43.80),
            (10.76, 43.80),
            (10.76, 43.81),
            (10.75, 43.80),
        ]),
        vec![],
    );
    let mp = MultiPolygon::new(vec![good.clone(), outside, good]);
    let err =
        check_and_repair(Geometry::MultiPolygon(mp), Some(&capannori_rounded_box())).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("part 2 of 3: "), "{text}");
    assert!(text.contains("10.75"), "{text}");
}

#[test]
fn one_part_multipolygon_keeps_its_type() {
    let square = Polygon::new(
        LineString::from(vec![
            (10.55, 43.80),
            (10.56, 43.80),
            (10.56, 43.81),
            (10.55, 43.81),
            (10.55, 43.80),
        ]),
        vec![],
    );
    let out = check_and_repair(
        Geometry::MultiPolygon(MultiPolygon::new(vec![square])),
        None,
    )
    .unwrap();
    assert!(matches!(out.geometry, Geometry::MultiPolygon(ref mp) if mp.0.len() == 1));
    assert!(out.repairs.is_empty());
}

#[test]
fn bbox_of_spans_all_geometries_and_skips_empty_ones() {
    let a = Geometry::Point(Point::new(10.5, 43.8));
    let b = Geometry::LineString(LineString::from(vec![(10.6, 43.7), (10.55, 43.9)]));
    let empty = Geometry::LineString(LineString::<f64>::new(vec![]));
    assert_eq!(
        bbox_of([&a, &empty, &b].into_iter()),
        Some([10.5, 43.7, 10.6, 43.9])
    );
    assert_eq!(bbox_of([&empty].into_iter()), None);
    assert_eq!(bbox_of(std::iter::empty()), None);
}
