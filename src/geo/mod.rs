//! CRS registry and transformations to WGS84, geometry validation and repair, extents.
//!
//! Everything Portale publishes is WGS84 longitude/latitude (GeoJSON, FlatGeobuf, tiles,
//! DCAT bounding boxes). Sources come in Gauss-Boaga, UTM on three datums, Web Mercator
//! or plain lon/lat; the ETL step reprojects each geometry with [`Crs`] and then runs it
//! through [`check_and_repair`] before anything is written.
//!
//! ```
//! use portale::geo::{Crs, check_and_repair};
//! use geo_types::{Geometry, Point};
//!
//! let crs = Crs::from_epsg(3003).unwrap(); // once per dataset
//! let mut g = Geometry::Point(Point::new(1626241.15, 4855316.29));
//! crs.to_wgs84_geometry(&mut g).unwrap();
//! let checked = check_and_repair(g, None).unwrap();
//! assert!(checked.repairs.is_empty());
//! ```
//!
//! # Pitfalls
//!
//! - **Axis order.** Every function here takes and returns easting/longitude first, the
//!   order of shapefiles, GeoJSON and CSV X/Y columns. EPSG defines 4326, 4258, 4265,
//!   4806, 6706 as lat/lon and 6707/6708 as N/E: values that really come in that official
//!   order (OGC API `bbox-crs`, some WKT) go through [`Crs::axis_order_xy`] first, and
//!   output that must honour it (OGC API Part 2) through [`Crs::xy_to_axis_order`].
//! - **Monte Mario datum shift.** Gauss-Boaga coordinates need a datum transformation
//!   (~70-100 m), chosen per point as PROJ does without the IGM grids; see [`crs`].
//! - **Which algorithms work on lon/lat.** Validity, winding, bounding boxes, containment
//!   and clipping are fine on lon/lat degrees (planar on the raw numbers, as every GeoJSON
//!   consumer reads them). Distances, lengths, areas and buffers are not: degrees are not
//!   metres, and a degree of longitude is ~80 km in Italy against ~111 km of latitude.
//!   Use geo's `Haversine`/`Geodesic` measures and `GeodesicArea`, or reproject to a UTM
//!   zone first. The `unsigned_area` of a lon/lat polygon is only good for comparisons.
//! - **Extents.** [`bbox_of`] is `[min_lon, min_lat, max_lon, max_lat]` in WGS84, the order
//!   GeoJSON `bbox`, OGC API and DCAT `dcat:bbox` use; it does not handle the antimeridian.

pub mod crs;
pub mod validate;

pub use crs::{Crs, CrsError, epsg_from_prj};
pub use validate::{
    GeometryProblem, Repair, Repaired, bbox_of, check_and_repair, geometry_type_name,
    polygon_from_rings,
};
