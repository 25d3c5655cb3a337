//! OGC API – Features Part 2: the CRSs offered for `crs`, `bbox-crs` and `filter-crs`, and
//! their URIs.
//!
//! Layers are stored in WGS84 longitude/latitude, which OGC calls CRS84 (the default and
//! the `storageCrs`). Every other CRS is reached through [`crate::geo::Crs`], which works
//! easting/longitude first; values that go in or out in a CRS's **official** axis order
//! are swapped here: EPSG:4326 and 4258 are latitude/longitude, EPSG:6707 and 6708
//! northing/easting, so `crs=…/EPSG/0/4326` answers `[lat, lon]` and a `bbox-crs` of
//! EPSG:4326 reads `lat_min,lon_min,lat_max,lon_max`.
//!
//! Accepted spellings: the OGC URIs (`http://www.opengis.net/def/crs/EPSG/0/3003`,
//! `http://www.opengis.net/def/crs/OGC/1.3/CRS84`), and the CURIEs `EPSG:3003`,
//! `[EPSG:3003]`, `OGC:CRS84`. Responses always use the URI.
//!
//! Pitfall: a bounding box is not a rectangle once reprojected. [`RequestCrs::bbox_to_wgs84`]
//! densifies the edges before transforming, so the WGS84 polygon it returns follows the
//! curved edges to well under a metre for municipal-sized boxes.

use geo::{BoundingRect, MapCoordsInPlace};
use geo_types::{Coord, Geometry, LineString, Polygon, Rect};

use super::error::OgcError;
use crate::geo::Crs;

/// The URI of WGS84 longitude/latitude.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const EPSG_PREFIX: &str = "http://www.opengis.net/def/crs/EPSG/0/";

/// The EPSG codes offered besides CRS84, in the order collections list them: the CRSs of
/// Italian municipal data (DOMAIN.md §5), Web Mercator and WGS84 in its official order.
pub const OFFERED_EPSG: &[u32] = &[
    4326, 3003, 3004, 6707, 6708, 7791, 7792, 25832, 25833, 32632, 32633, 3857, 4258,
];

/// The URI of EPSG code `code`.
pub fn epsg_uri(code: u32) -> String {
    format!("{EPSG_PREFIX}{code}")
}

/// Every CRS URI offered, CRS84 first.
pub fn offered_uris() -> Vec<String> {
    std::iter::once(CRS84.to_string())
        .chain(OFFERED_EPSG.iter().map(|c| epsg_uri(*c)))
        .collect()
}

/// A CRS named by a request parameter.
#[derive(Debug)]
pub struct RequestCrs {
    uri: String,
    /// `None` for CRS84 (no transformation, longitude first).
    crs: Option<Crs>,
}

impl RequestCrs {
    /// CRS84, the default.
    pub fn crs84() -> RequestCrs {
        RequestCrs {
            uri: CRS84.to_string(),
            crs: None,
        }
    }

    /// Parses the value of parameter `param` (`crs`, `bbox-crs`, `filter-crs`).
    pub fn parse(param: &str, value: &str) -> Result<RequestCrs, OgcError> {
        let unsupported = || {
            OgcError::param(
                param,
                format!(
                    "{value:?} is not a supported CRS; use one of {}",
                    offered_uris().join(", ")
                ),
            )
        };
        let v = value.trim();
        let v = v
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(v);
        if v == CRS84 || v.eq_ignore_ascii_case("OGC:CRS84") {
            return Ok(RequestCrs::crs84());
        }
        let code = v
            .strip_prefix(EPSG_PREFIX)
            .or_else(|| {
                v.get(..5)
                    .filter(|p| p.eq_ignore_ascii_case("EPSG:"))
                    .and_then(|_| v.get(5..))
            })
            .and_then(|c| c.parse::<u32>().ok())
            .filter(|c| OFFERED_EPSG.contains(c))
            .ok_or_else(unsupported)?;
        let crs = Crs::from_epsg(code).map_err(|e| OgcError::internal(e.to_string()))?;
        Ok(RequestCrs {
            uri: epsg_uri(code),
            crs: Some(crs),
        })
    }

    /// The canonical URI (for `Content-Crs`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    pub fn is_crs84(&self) -> bool {
        self.crs.is_none()
    }

    /// Decimals worth writing: 7 for degrees (about 1 cm, the GeoJSON download's
    /// precision), 3 for metres.
    pub fn decimals(&self) -> i32 {
        match &self.crs {
            Some(c) if !c.is_geographic() => 3,
            _ => 7,
        }
    }

    /// A pair in this CRS's official axis order to WGS84 (lon, lat).
    pub fn to_wgs84(&self, a: f64, b: f64) -> Result<(f64, f64), OgcError> {
        match &self.crs {
            None => Ok((a, b)),
            Some(crs) => {
                let (x, y) = crs.axis_order_xy(a, b);
                crs.to_wgs84_lonlat(x, y)
                    .map_err(|e| OgcError::invalid(format!("in {}: {e}", self.uri)))
            }
        }
    }

    /// Transforms a geometry given in this CRS's official axis order to WGS84 lon/lat.
    pub fn geometry_to_wgs84(&self, g: &mut Geometry<f64>) -> Result<(), OgcError> {
        let Some(crs) = &self.crs else {
            return Ok(());
        };
        g.map_coords_in_place(|c| {
            let (x, y) = crs.axis_order_xy(c.x, c.y);
            Coord { x, y }
        });
        crs.to_wgs84_geometry(g)
            .map_err(|e| OgcError::invalid(format!("a geometry in {}: {e}", self.uri)))
    }

    /// A WGS84 geometry in this CRS and its axis order, not rounded (writers round to
    /// [`Self::decimals`] as they write).
    pub fn transform_from_wgs84(&self, g: &mut Geometry<f64>) -> Result<(), OgcError> {
        if let Some(crs) = &self.crs {
            crs.from_wgs84_geometry(g).map_err(OgcError::internal)?;
            g.map_coords_in_place(|c| {
                let (a, b) = crs.xy_to_axis_order(c.x, c.y);
                Coord { x: a, y: b }
            });
        }
        Ok(())
    }

    /// Transforms a WGS84 lon/lat geometry to this CRS, in its official axis order, and
    /// rounds it to [`RequestCrs::decimals`].
    pub fn geometry_from_wgs84(&self, g: &mut Geometry<f64>) -> Result<(), OgcError> {
        self.transform_from_wgs84(g)?;
        let scale = 10f64.powi(self.decimals());
        g.map_coords_in_place(|c| Coord {
            x: (c.x * scale).round() / scale,
            y: (c.y * scale).round() / scale,
        });
        Ok(())
    }

    /// A WGS84 `[min_lon, min_lat, max_lon, max_lat]` in this CRS's axis order, as the
    /// envelope of the transformed, densified box (for extents in responses).
    pub fn bbox_from_wgs84(&self, b: [f64; 4]) -> Result<[f64; 4], OgcError> {
        if self.crs.is_none() {
            return Ok(b);
        }
        let mut g = Geometry::Polygon(densified_box(b[0], b[1], b[2], b[3]));
        self.geometry_from_wgs84(&mut g)?;
        let r = g
            .bounding_rect()
            .ok_or_else(|| OgcError::internal("empty transformed extent"))?;
        Ok([r.min().x, r.min().y, r.max().x, r.max().y])
    }

    /// A box given in this CRS's axis order (`a1, b1, a2, b2`) as a WGS84 polygon (the
    /// densified, transformed box) and its envelope.
    pub fn bbox_to_wgs84(
        &self,
        [a1, b1, a2, b2]: [f64; 4],
    ) -> Result<(Polygon<f64>, Rect<f64>), OgcError> {
        let poly = match &self.crs {
            None => densified_box(a1, b1, a2, b2),
            Some(crs) => {
                let (x1, y1) = crs.axis_order_xy(a1, b1);
                let (x2, y2) = crs.axis_order_xy(a2, b2);
                let mut g = Geometry::Polygon(densified_box(x1, y1, x2, y2));
                crs.to_wgs84_geometry(&mut g)
                    .map_err(|e| OgcError::param("bbox", format!("in {}: {e}", self.uri)))?;
                match g {
                    Geometry::Polygon(p) => p,
                    _ => return Err(OgcError::internal("a transformed box is not a polygon")),
                }
            }
        };
        let rect = poly
            .bounding_rect()
            .ok_or_else(|| OgcError::param("bbox", "the box is empty"))?;
        Ok((poly, rect))
    }
}

/// The box's outline with 16 segments a side, counter-clockwise.
fn densified_box(x1: f64, y1: f64, x2: f64, y2: f64) -> Polygon<f64> {
    const N: usize = 16;
    let corners = [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)];
    let mut ring = Vec::with_capacity(4 * N + 1);
    for w in corners.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        for i in 0..N {
            let t = i as f64 / N as f64;
            ring.push(Coord {
                x: ax + (bx - ax) * t,
                y: ay + (by - ay) * t,
            });
        }
    }
    ring.push(Coord { x: x1, y: y1 });
    Polygon::new(LineString::new(ring), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        for v in [
            "http://www.opengis.net/def/crs/EPSG/0/3003",
            "EPSG:3003",
            "[EPSG:3003]",
            "epsg:3003",
        ] {
            assert_eq!(
                RequestCrs::parse("crs", v).unwrap().uri(),
                "http://www.opengis.net/def/crs/EPSG/0/3003"
            );
        }
        assert!(RequestCrs::parse("crs", "OGC:CRS84").unwrap().is_crs84());
        assert!(RequestCrs::parse("crs", "EPSG:2000").is_err());
        assert!(RequestCrs::parse("crs", "http://www.opengis.net/def/crs/EPSG/0/").is_err());
        let e = RequestCrs::parse("bbox-crs", "EPSG:9999").unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.description().starts_with("parameter bbox-crs:"));
    }

    #[test]
    fn epsg_4326_is_latitude_first() {
        let c = RequestCrs::parse("crs", "EPSG:4326").unwrap();
        let mut g = Geometry::Point(geo_types::Point::new(10.5, 43.8));
        c.geometry_from_wgs84(&mut g).unwrap();
        assert_eq!(g, Geometry::Point(geo_types::Point::new(43.8, 10.5)));
        assert_eq!(c.to_wgs84(43.8, 10.5).unwrap(), (10.5, 43.8));
    }
}
