//! CRS transformations against PROJ's cs2cs (tests/fixtures/cs2cs/expected.csv, made by
//! tests/fixtures/cs2cs/make_expected.sh), and `.prj` recognition against projinfo's WKT.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use geo_types::{Coord, Geometry, LineString, Polygon};
use portale::geo::crs::{Crs, CrsError, epsg_from_prj};

const METRES_PER_DEGREE: f64 = 111_320.0;
const TOLERANCE_M: f64 = 0.01;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cs2cs")
}

#[derive(Debug, Clone)]
struct Row {
    epsg: u32,
    x: f64,
    y: f64,
    lon: f64,
    lat: f64,
    place: String,
}

fn rows() -> Vec<Row> {
    let mut reader = csv::Reader::from_path(fixtures().join("expected.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                epsg: r[0].parse().unwrap(),
                x: r[1].parse().unwrap(),
                y: r[2].parse().unwrap(),
                lon: r[3].parse().unwrap(),
                lat: r[4].parse().unwrap(),
                place: r[5].to_string(),
            }
        })
        .collect()
}

/// Ground distance in metres between two lon/lat positions a few cm apart.
fn lonlat_error_m(lon: f64, lat: f64, exp_lon: f64, exp_lat: f64) -> f64 {
    let dlat = (lat - exp_lat) * METRES_PER_DEGREE;
    let dlon = (lon - exp_lon) * METRES_PER_DEGREE * exp_lat.to_radians().cos();
    dlat.hypot(dlon)
}

/// Ground distance in metres between two positions of `crs` (easting/longitude first).
fn crs_error_m(crs: &Crs, x: f64, y: f64, row: &Row) -> f64 {
    if crs.is_geographic() {
        lonlat_error_m(x, y, row.x, row.y)
    } else if crs.epsg() == 3857 {
        // Web Mercator metres are stretched by 1/cos(lat).
        (x - row.x).hypot(y - row.y) * row.lat.to_radians().cos()
    } else {
        (x - row.x).hypot(y - row.y)
    }
}

#[test]
fn fixture_covers_every_supported_crs() {
    let in_fixture: BTreeSet<u32> = rows().iter().map(|r| r.epsg).collect();
    let supported: BTreeSet<u32> = Crs::supported().iter().copied().collect();
    assert_eq!(in_fixture, supported);
    for code in [
        3003, 3004, 4265, 6707, 6708, 7791, 7792, 25832, 25833, 32632, 32633, 3857, 4258, 4326,
        4806,
    ] {
        assert!(supported.contains(&code), "EPSG:{code} must be supported");
    }
}

#[test]
fn to_wgs84_agrees_with_cs2cs_within_a_centimetre() {
    let mut worst = (0.0_f64, String::new());
    for row in rows() {
        let crs = Crs::from_epsg(row.epsg).unwrap();
        let (lon, lat) = crs.to_wgs84_lonlat(row.x, row.y).unwrap();
        let err = lonlat_error_m(lon, lat, row.lon, row.lat);
        assert!(
            err < TOLERANCE_M,
            "EPSG:{} {} ({}, {}): got ({lon}, {lat}), cs2cs ({}, {}), {err:.4} m apart",
            row.epsg,
            row.place,
            row.x,
            row.y,
            row.lon,
            row.lat
        );
        if err > worst.0 {
            worst = (err, format!("EPSG:{} {}", row.epsg, row.place));
        }
    }
    eprintln!("worst to_wgs84 error: {:.5} m at {}", worst.0, worst.1);
}

#[test]
fn from_wgs84_agrees_with_cs2cs_within_a_centimetre() {
    for row in rows() {
        let crs = Crs::from_epsg(row.epsg).unwrap();
        let (x, y) = crs.from_wgs84_lonlat(row.lon, row.lat).unwrap();
        let err = crs_error_m(&crs, x, y, &row);
        assert!(
            err < TOLERANCE_M,
            "EPSG:{} {} ({}, {}): got ({x}, {y}), cs2cs ({}, {}), {err:.4} m apart",
            row.epsg,
            row.place,
            row.lon,
            row.lat,
            row.x,
            row.y
        );
    }
}

#[test]
fn monte_mario_shift_is_applied() {
    // Without the EPSG:1660 datum shift Gauss-Boaga lands ~70 m off: make sure the shift
    // is there (the cs2cs comparison would catch it too, but this names the cause).
    let row = rows()
        .into_iter()
        .find(|r| r.epsg == 3003 && r.place == "capannori")
        .unwrap();
    let crs = Crs::from_epsg(3003).unwrap();
    assert_eq!(crs.datum_operation_at(row.lon, row.lat), Some(1660));
    let (lon, lat) = crs.to_wgs84_lonlat(row.x, row.y).unwrap();
    assert!(lonlat_error_m(lon, lat, row.lon, row.lat) < TOLERANCE_M);
    let (lon4265, lat4265) = (10.5702755166, 43.8393432119); // cs2cs EPSG:4326 EPSG:4265
    assert!(lonlat_error_m(lon4265, lat4265, row.lon, row.lat) > 50.0);
}

#[test]
fn monte_mario_operation_follows_proj_choice() {
    // Operations PROJ 9.1 reports with PROJ_DEBUG=2 cs2cs EPSG:4326 EPSG:<code> for these
    // places ("Monte Mario to WGS 84 (4)" = EPSG:1660, "(2)" = 1662, "(3)" = 1664,
    // "(11)" = 1094).
    let cases = [
        (3003, 10.57, 43.84, 1660),     // Capannori
        (3003, 9.1106, 39.2238, 1662),  // Cagliari: Sardinia
        (4265, 13.3615, 38.1157, 1660), // Palermo: in both boxes, Sicily's is not inside the mainland's
        (4265, 15.0873, 37.5079, 1664), // Catania: south of the mainland box
        (3004, 12.6056, 35.5083, 1094), // Lampedusa: offshore only
        (4265, 15.65, 38.11, 1660),     // Reggio Calabria
    ];
    for (code, lon, lat, op) in cases {
        let crs = Crs::from_epsg(code).unwrap();
        assert_eq!(
            crs.datum_operation_at(lon, lat),
            Some(op),
            "EPSG:{code} at {lon},{lat}"
        );
    }
    assert_eq!(
        Crs::from_epsg(7791)
            .unwrap()
            .datum_operation_at(10.57, 43.84),
        None
    );
}

#[test]
fn northing_first_follows_the_epsg_axis_order() {
    // Axis order from `projinfo EPSG:<code> -o WKT2_2019`: the first AXIS is northing or
    // latitude for these.
    let northing_first = [4326, 4258, 4265, 4806, 6706, 6707, 6708];
    for code in Crs::supported() {
        let crs = Crs::from_epsg(*code).unwrap();
        assert_eq!(
            crs.northing_first(),
            northing_first.contains(code),
            "EPSG:{code}"
        );
    }
}

#[test]
fn rdn2008_north_east_input_goes_through_axis_order_xy() {
    // A file in EPSG:6707 written in the official N, E order: the caller swaps with
    // axis_order_xy before transforming.
    let row = rows()
        .into_iter()
        .find(|r| r.epsg == 6707 && r.place == "capannori")
        .unwrap();
    let crs = Crs::from_epsg(6707).unwrap();
    let (northing, easting) = (row.y, row.x);
    let (x, y) = crs.axis_order_xy(northing, easting);
    assert_eq!((x, y), (easting, northing));
    let (lon, lat) = crs.to_wgs84_lonlat(x, y).unwrap();
    assert!(lonlat_error_m(lon, lat, row.lon, row.lat) < TOLERANCE_M);
    // Passing N, E straight in would be a wrong position (or an error), never Capannori.
    if let Ok((lon, lat)) = crs.to_wgs84_lonlat(northing, easting) {
        assert!(lonlat_error_m(lon, lat, row.lon, row.lat) > 1000.0);
    }
    // And back: output in the official order.
    let (x, y) = crs.from_wgs84_lonlat(row.lon, row.lat).unwrap();
    let (a, b) = crs.xy_to_axis_order(x, y);
    assert!((a - northing).abs() < TOLERANCE_M && (b - easting).abs() < TOLERANCE_M);
    // Easting-first CRSs are left alone.
    let utm = Crs::from_epsg(7791).unwrap();
    assert_eq!(utm.axis_order_xy(1.0, 2.0), (1.0, 2.0));
    // EPSG:4326 officially lat, lon.
    let wgs84 = Crs::from_epsg(4326).unwrap();
    assert_eq!(wgs84.axis_order_xy(43.84, 10.57), (10.57, 43.84));
}

#[test]
fn geometries_are_transformed_in_place_both_ways() {
    for code in [3003, 3004, 6707, 3857, 4806] {
        let rows: Vec<Row> = rows().into_iter().filter(|r| r.epsg == code).collect();
        assert!(rows.len() >= 3);
        let ring: Vec<Coord<f64>> = rows.iter().map(|r| Coord { x: r.x, y: r.y }).collect();
        let mut g = Geometry::Polygon(Polygon::new(LineString::new(ring), vec![]));
        let crs = Crs::from_epsg(code).unwrap();
        crs.to_wgs84_geometry(&mut g).unwrap();
        let Geometry::Polygon(p) = &g else { panic!() };
        for (c, row) in p.exterior().0.iter().zip(rows.iter().chain(rows.first())) {
            assert!(
                lonlat_error_m(c.x, c.y, row.lon, row.lat) < TOLERANCE_M,
                "EPSG:{code} {}",
                row.place
            );
        }
        crs.from_wgs84_geometry(&mut g).unwrap();
        let Geometry::Polygon(p) = &g else { panic!() };
        for (c, row) in p.exterior().0.iter().zip(rows.iter().chain(rows.first())) {
            assert!(
                crs_error_m(&crs, c.x, c.y, row) < TOLERANCE_M,
                "EPSG:{code} {}",
                row.place
            );
        }
    }
}

#[test]
fn bad_input_is_an_error_that_names_the_crs() {
    let crs = Crs::from_epsg(3003).unwrap();
    assert!(matches!(
        crs.to_wgs84_lonlat(f64::NAN, 4855316.0),
        Err(CrsError::NotFinite { epsg: 3003, .. })
    ));
    // Metres given to a geographic CRS.
    let geog = Crs::from_epsg(4265).unwrap();
    let err = geog
        .to_wgs84_lonlat(1626241.0, 4855316.0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("EPSG:4265"), "{err}");
    assert!(err.contains("degrees"), "{err}");
    let err = Crs::from_epsg(2154).unwrap_err();
    assert!(matches!(err, CrsError::Unsupported { code: 2154 }));
    let err = crs.from_wgs84_lonlat(10.0, 95.0).unwrap_err().to_string();
    assert!(err.contains("latitude"), "{err}");
}

#[test]
fn prj_files_are_recognised() {
    for code in Crs::supported() {
        for flavour in ["esri", "gdal", "wkt2"] {
            let path = fixtures().join(format!("prj/{code}.{flavour}.prj"));
            let wkt = std::fs::read_to_string(&path).unwrap();
            assert_eq!(epsg_from_prj(&wkt), Some(*code), "{}", path.display());
        }
        // GDAL's WKT1 without its AUTHORITY nodes: recognised by the EPSG name alone.
        let gdal =
            std::fs::read_to_string(fixtures().join(format!("prj/{code}.gdal.prj"))).unwrap();
        let stripped = strip_authorities(&gdal);
        assert!(!stripped.contains("AUTHORITY"));
        assert_eq!(epsg_from_prj(&stripped), Some(*code), "{stripped}");
    }
}

/// Removes every `, AUTHORITY[...]` node (with the comma and whitespace before it).
fn strip_authorities(wkt: &str) -> String {
    let mut out = wkt.to_string();
    while let Some(at) = out.find("AUTHORITY[") {
        let comma = out[..at].trim_end().len() - 1;
        assert_eq!(&out[comma..comma + 1], ",");
        let end = at + out[at..].find(']').unwrap() + 1;
        out.replace_range(comma..end, "");
    }
    out
}

#[test]
fn prj_variants_seen_in_the_wild() {
    // Nested GEOGCS/DATUM authorities must not be taken for the CRS's.
    let nested_only = r#"PROJCS["Monte Mario / Italy zone 1",GEOGCS["Monte Mario",DATUM["Monte_Mario",SPHEROID["International 1924",6378388,297,AUTHORITY["EPSG","7022"]],AUTHORITY["EPSG","6265"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4265"]],PROJECTION["Transverse_Mercator"],UNIT["metre",1]]"#;
    assert_eq!(epsg_from_prj(nested_only), Some(3003));
    // A CRS Portale does not support still reports its code, so the error can name it.
    let lambert = r#"PROJCS["RGF93 v1 / Lambert-93",GEOGCS["RGF93 v1",DATUM["Reseau_Geodesique_Francais_1993_v1",SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Lambert_Conformal_Conic_2SP"],UNIT["metre",1],AUTHORITY["EPSG","2154"]]"#;
    assert_eq!(epsg_from_prj(lambert), Some(2154));
    // ESRI's Web Mercator code, and a byte-order mark.
    assert_eq!(
        epsg_from_prj(
            "\u{feff}PROJCS[\"WGS_1984_Web_Mercator_Auxiliary_Sphere\",GEOGCS[\"GCS_WGS_1984\"],AUTHORITY[\"ESRI\",\"102100\"]]"
        ),
        Some(3857)
    );
    assert_eq!(
        epsg_from_prj("PROJCS[\"Unknown_Italian_Grid\",GEOGCS[\"GCS_Monte_Mario\"]]"),
        None
    );
    assert_eq!(epsg_from_prj(""), None);
    assert_eq!(epsg_from_prj("not a wkt"), None);
}
