//! The coordinate reference systems Italian municipal data comes in, and their
//! transformations to and from WGS84 longitude/latitude.
//!
//! [`Crs::from_epsg`] builds a transformer once (the proj4rs objects behind it are parsed
//! up front); [`Crs::to_wgs84_lonlat`] and [`Crs::from_wgs84_lonlat`] then cost a few hundred
//! nanoseconds a point. Build one `Crs` per dataset, not per row.
//!
//! # Axis order
//!
//! Every coordinate pair this module takes or returns is **easting/longitude first**
//! (`x`, `y`): the traditional GIS order of shapefiles, GeoJSON, CSV `X`/`Y` columns and
//! the PROJ strings. The EPSG definitions of some CRSs put the northing or latitude first
//! ([`Crs::northing_first`]: EPSG:4326, 4258, 4265, 4806, 6706 are lat/lon; 6707 and 6708
//! are N/E). When a value pair comes in the official order (an OGC API `bbox-crs`, a WKT
//! written by a GDAL 3 tool honouring the EPSG order, a file whose documentation says
//! "N, E"), pass it through [`Crs::axis_order_xy`] first; when output must follow the
//! official order (OGC API Part 2 responses), pass the result through
//! [`Crs::xy_to_axis_order`].
//!
//! # Monte Mario (Gauss-Boaga)
//!
//! PROJ without the IGM grids transforms Monte Mario (EPSG:3003, 3004, 4265) to WGS84 with
//! 7-parameter Helmert transformations chosen by the position of each point: EPSG:1660 on
//! the mainland (4 m), EPSG:1662 in Sardinia, EPSG:1664 in Sicily, and 3-parameter
//! offshore transformations around the coast. This module replicates that choice
//! ([`MONTE_MARIO_OPS`], the candidate lists and the tie-breaking of PROJ 9.1's
//! `proj_trans`), so results agree with `cs2cs EPSG:3003 EPSG:4326` to the millimetre.
//! Known differences from PROJ:
//! - PROJ tests each operation's area after projecting it into the source CRS; this
//!   module tests the point's Monte Mario longitude/latitude against the area's
//!   geographic box. The two disagree only within metres of the box edges.
//! - Outside every area (not in Italy) PROJ falls back to a "ballpark" transformation
//!   that ignores the datum (~100 m off); this module uses EPSG:1660 there instead.
//! - EPSG:4806 (Monte Mario with longitudes from the Rome meridian): PROJ 9.1 knows no
//!   datum transformation for it on the mainland and uses the ballpark; this module treats
//!   it as EPSG:4265 with the Rome prime meridian, which is what the data means.
//!
//! The IGM grid transformations (metre accuracy down to centimetres) are out of reach
//! without the grids, which are not freely distributable.
//!
//! # Other datums
//!
//! ETRS89 (EPSG:4258, 25832/3) and RDN2008 (6706-6708, 7791/2) are treated as WGS84 with
//! a null transformation, as PROJ does without grids: the real difference is below 1 m in
//! Italy and not what municipal data can resolve.

use std::fmt;

use geo_types::{Coord, Geometry};
use proj4rs::Proj;

/// Errors building a [`Crs`] or transforming coordinates.
#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    /// The EPSG code is not one Portale knows how to transform.
    #[error(
        "EPSG:{code} is not a supported coordinate reference system (supported: {})",
        supported_list()
    )]
    Unsupported {
        /// The code asked for.
        code: u32,
    },
    /// A built-in PROJ definition did not parse: a bug in this module, not in the data.
    #[error(
        "internal error: the PROJ definition of EPSG:{epsg} ({definition}) is invalid: {source}"
    )]
    Definition {
        epsg: u32,
        definition: &'static str,
        #[source]
        source: proj4rs::errors::Error,
    },
    /// A coordinate is NaN or infinite.
    #[error("coordinate ({x}, {y}) in EPSG:{epsg} is not a finite number")]
    NotFinite { epsg: u32, x: f64, y: f64 },
    /// The transformation failed or produced a non-finite result (for example a
    /// latitude beyond the poles, or metres given to a geographic CRS).
    #[error(
        "cannot transform ({x}, {y}) {direction} EPSG:{epsg} ({name}): {reason}; check that the \
         coordinates are {expected}"
    )]
    Transform {
        epsg: u32,
        name: &'static str,
        x: f64,
        y: f64,
        direction: Direction,
        /// What the input should look like, e.g. "in WGS 84 / UTM zone 32N, easting first,
        /// in metres".
        expected: String,
        reason: String,
    },
}

/// Which way a failed transformation was going, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the CRS to WGS84.
    ToWgs84,
    /// From WGS84 to the CRS.
    FromWgs84,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToWgs84 => "from",
            Direction::FromWgs84 => "from WGS84 to",
        })
    }
}

fn supported_list() -> String {
    Crs::supported()
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a CRS reaches WGS84.
enum DefKind {
    /// WGS84 longitude/latitude itself.
    Wgs84,
    /// A PROJ string whose datum (towgs84) is all the transformation needs.
    Proj(&'static str),
    /// A Monte Mario CRS: `native` without datum shift, and the ordered candidate
    /// datum transformations of [`MONTE_MARIO_OPS`], as PROJ lists them for this CRS.
    MonteMario {
        native: &'static str,
        ops: &'static [u32],
    },
}

struct Def {
    epsg: u32,
    name: &'static str,
    northing_first: bool,
    kind: DefKind,
}

// PROJ strings as `projinfo EPSG:<code> -o PROJ` prints them (PROJ 9.1), without `+type=crs`.
const WGS84_LONLAT: &str = "+proj=longlat +datum=WGS84 +no_defs";
const MM_ZONE1: &str =
    "+proj=tmerc +lat_0=0 +lon_0=9 +k=0.9996 +x_0=1500000 +y_0=0 +ellps=intl +units=m +no_defs";
const MM_ZONE2: &str =
    "+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=2520000 +y_0=0 +ellps=intl +units=m +no_defs";
const MM_GEOG: &str = "+proj=longlat +ellps=intl +no_defs";
const MM_ROME: &str = "+proj=longlat +ellps=intl +pm=rome +no_defs";
const UTM32_GRS80: &str =
    "+proj=utm +zone=32 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";
const UTM33_GRS80: &str =
    "+proj=utm +zone=33 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs";
const GEOG_GRS80: &str = "+proj=longlat +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +no_defs";
// PROJ adds +nadgrids=@null +wktext: "no datum shift", which is what proj4rs does for a
// CRS without any datum parameter. The sphere's latitudes are WGS84 latitudes.
const PSEUDO_MERCATOR: &str =
    "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +no_defs";

// Candidate Monte Mario → WGS84 operations, in the order `projinfo -s EPSG:<code> -t
// EPSG:4326 --spatial-test intersects` lists them (the order breaks ties in PROJ).
const MM_OPS_ZONE1: &[u32] = &[1660, 1662, 1169, 1094];
const MM_OPS_ZONE2: &[u32] = &[1660, 1092, 1664, 1093, 1089, 1090, 1088, 1094, 1091];
const MM_OPS_GEOG: &[u32] = &[
    1660, 1094, 1092, 1664, 1093, 1089, 1662, 1169, 1090, 1088, 1091,
];

const DEFS: &[Def] = &[
    Def {
        epsg: 3003,
        name: "Monte Mario / Italy zone 1",
        northing_first: false,
        kind: DefKind::MonteMario {
            native: MM_ZONE1,
            ops: MM_OPS_ZONE1,
        },
    },
    Def {
        epsg: 3004,
        name: "Monte Mario / Italy zone 2",
        northing_first: false,
        kind: DefKind::MonteMario {
            native: MM_ZONE2,
            ops: MM_OPS_ZONE2,
        },
    },
    Def {
        epsg: 4265,
        name: "Monte Mario",
        northing_first: true,
        kind: DefKind::MonteMario {
            native: MM_GEOG,
            ops: MM_OPS_GEOG,
        },
    },
    Def {
        epsg: 4806,
        name: "Monte Mario (Rome)",
        northing_first: true,
        kind: DefKind::MonteMario {
            native: MM_ROME,
            ops: MM_OPS_GEOG,
        },
    },
    Def {
        epsg: 6706,
        name: "RDN2008",
        northing_first: true,
        kind: DefKind::Proj(GEOG_GRS80),
    },
    Def {
        epsg: 6707,
        name: "RDN2008 / UTM zone 32N (N-E)",
        northing_first: true,
        kind: DefKind::Proj(UTM32_GRS80),
    },
    Def {
        epsg: 6708,
        name: "RDN2008 / UTM zone 33N (N-E)",
        northing_first: true,
        kind: DefKind::Proj(UTM33_GRS80),
    },
    Def {
        epsg: 7791,
        name: "RDN2008 / UTM zone 32N",
        northing_first: false,
        kind: DefKind::Proj(UTM32_GRS80),
    },
    Def {
        epsg: 7792,
        name: "RDN2008 / UTM zone 33N",
        northing_first: false,
        kind: DefKind::Proj(UTM33_GRS80),
    },
    Def {
        epsg: 25832,
        name: "ETRS89 / UTM zone 32N",
        northing_first: false,
        kind: DefKind::Proj(UTM32_GRS80),
    },
    Def {
        epsg: 25833,
        name: "ETRS89 / UTM zone 33N",
        northing_first: false,
        kind: DefKind::Proj(UTM33_GRS80),
    },
    Def {
        epsg: 32632,
        name: "WGS 84 / UTM zone 32N",
        northing_first: false,
        kind: DefKind::Proj("+proj=utm +zone=32 +datum=WGS84 +units=m +no_defs"),
    },
    Def {
        epsg: 32633,
        name: "WGS 84 / UTM zone 33N",
        northing_first: false,
        kind: DefKind::Proj("+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs"),
    },
    Def {
        epsg: 3857,
        name: "WGS 84 / Pseudo-Mercator",
        northing_first: false,
        kind: DefKind::Proj(PSEUDO_MERCATOR),
    },
    Def {
        epsg: 4258,
        name: "ETRS89",
        northing_first: true,
        kind: DefKind::Proj(GEOG_GRS80),
    },
    Def {
        epsg: 4326,
        name: "WGS 84",
        northing_first: true,
        kind: DefKind::Wgs84,
    },
];

const SUPPORTED: &[u32] = &[
    3003, 3004, 4265, 4806, 6706, 6707, 6708, 7791, 7792, 25832, 25833, 32632, 32633, 3857, 4258,
    4326,
];

/// One Monte Mario → WGS84 datum transformation from the EPSG registry, as PROJ 9.1's
/// database describes it (`projinfo -s EPSG:4265 -t EPSG:4326 --spatial-test intersects`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonteMarioOp {
    /// EPSG code of the transformation.
    pub code: u32,
    /// Accuracy in metres.
    pub accuracy: f64,
    /// Area of use: west, south, east, north, in degrees.
    pub area: [f64; 4],
    /// Offshore areas lose ties against onshore ones (PROJ's rule).
    pub offshore: bool,
    /// PROJ `+towgs84` (position vector convention, arc-seconds, ppm).
    pub towgs84: &'static str,
}

/// Every Monte Mario → WGS84 transformation PROJ can use without grids.
pub const MONTE_MARIO_OPS: &[MonteMarioOp] = &[
    // Italy - mainland including San Marino and Vatican City State.
    MonteMarioOp {
        code: 1660,
        accuracy: 4.0,
        area: [6.62, 37.86, 18.58, 47.1],
        offshore: false,
        towgs84: "-104.1,-49.1,-9.9,0.971,-2.917,0.714,-11.68",
    },
    // Italy - offshore - Strait of Sicily - west of 13°E.
    MonteMarioOp {
        code: 1094,
        accuracy: 10.0,
        area: [10.68, 35.28, 13.01, 38.45],
        offshore: true,
        towgs84: "-230.47,-56.08,22.43",
    },
    // Italy - offshore - north Ionian Sea.
    MonteMarioOp {
        code: 1092,
        accuracy: 10.0,
        area: [16.55, 37.67, 18.93, 40.47],
        offshore: true,
        towgs84: "-225.06,-67.37,14.61",
    },
    // Italy - Sicily onshore.
    MonteMarioOp {
        code: 1664,
        accuracy: 4.0,
        area: [12.36, 36.59, 15.71, 38.35],
        offshore: false,
        towgs84: "-50.2,-50.4,84.8,-0.69,-2.012,0.459,-28.08",
    },
    // Italy - offshore - Strait of Sicily - east of 13°E.
    MonteMarioOp {
        code: 1093,
        accuracy: 10.0,
        area: [13.0, 35.22, 15.16, 37.48],
        offshore: true,
        towgs84: "-229.08,-65.73,20.21",
    },
    // Italy - offshore - Adriatic Sea - South Ancona and North Gargano.
    MonteMarioOp {
        code: 1089,
        accuracy: 10.0,
        area: [13.61, 41.95, 16.14, 44.04],
        offshore: true,
        towgs84: "-225.4,-67.7,7.85",
    },
    // Italy - Sardinia onshore.
    MonteMarioOp {
        code: 1662,
        accuracy: 4.0,
        area: [8.08, 38.82, 9.89, 41.31],
        offshore: false,
        towgs84: "-168.6,-34,38.6,-0.374,-0.679,-1.379,-9.48",
    },
    // Italy - Sardinia onshore (older, 44 m).
    MonteMarioOp {
        code: 1169,
        accuracy: 44.0,
        area: [8.08, 38.82, 9.89, 41.31],
        offshore: false,
        towgs84: "-225,-65,9",
    },
    // Italy - offshore - Adriatic Sea - South Gargano.
    MonteMarioOp {
        code: 1090,
        accuracy: 10.0,
        area: [15.95, 40.72, 18.63, 42.28],
        offshore: true,
        towgs84: "-227.1,-68.1,14.4",
    },
    // Italy - offshore - Adriatic Sea - North Ancona.
    MonteMarioOp {
        code: 1088,
        accuracy: 10.0,
        area: [12.22, 43.62, 13.96, 45.73],
        offshore: true,
        towgs84: "-223.7,-67.38,1.34",
    },
    // Italy - offshore - Otranto channel.
    MonteMarioOp {
        code: 1091,
        accuracy: 10.0,
        area: [17.95, 39.77, 18.99, 41.03],
        offshore: true,
        towgs84: "-231.61,-68.21,13.93",
    },
];

/// The operation used where no area matches: the mainland one (PROJ would ignore the datum).
const MM_FALLBACK: u32 = 1660;

impl MonteMarioOp {
    fn contains(&self, lon: f64, lat: f64) -> bool {
        let [w, s, e, n] = self.area;
        lon >= w && lon <= e && lat >= s && lat <= n
    }

    fn area_within(&self, other: &MonteMarioOp) -> bool {
        let [w, s, e, n] = self.area;
        let [ow, os, oe, on] = other.area;
        w >= ow && s >= os && e <= oe && n <= on
    }
}

/// A Monte Mario datum transformation ready to run.
struct MmShift {
    op: &'static MonteMarioOp,
    /// Monte Mario longitude/latitude (Greenwich) with this operation's towgs84.
    geog: Proj,
}

// proj4rs `Proj`s are a few hundred bytes each: boxed to keep the variants alike.
enum Engine {
    Identity,
    Direct {
        crs: Box<Proj>,
        wgs84: Box<Proj>,
        geographic: bool,
    },
    MonteMario {
        /// The CRS without datum shift.
        native: Box<Proj>,
        /// Monte Mario longitude/latitude, Greenwich, without datum shift.
        geog: Box<Proj>,
        wgs84: Box<Proj>,
        geographic: bool,
        /// Candidates in PROJ's order.
        shifts: Vec<MmShift>,
        /// Index in `shifts` of the fallback operation.
        fallback: usize,
    },
}

/// A supported coordinate reference system with its transformation to and from WGS84.
///
/// ```
/// use portale::geo::crs::Crs;
/// let gauss_boaga = Crs::from_epsg(3003).unwrap();
/// let (lon, lat) = gauss_boaga.to_wgs84_lonlat(1626241.15, 4855316.29).unwrap();
/// assert!((lon - 10.57).abs() < 1e-6 && (lat - 43.84).abs() < 1e-6);
/// ```
pub struct Crs {
    epsg: u32,
    name: &'static str,
    northing_first: bool,
    engine: Engine,
}

impl fmt::Debug for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Crs(EPSG:{} {})", self.epsg, self.name)
    }
}

fn parse(epsg: u32, definition: &'static str) -> Result<Box<Proj>, CrsError> {
    Proj::from_proj_string(definition)
        .map(Box::new)
        .map_err(|source| CrsError::Definition {
            epsg,
            definition,
            source,
        })
}

impl Crs {
    /// Builds the CRS and its transformations for an EPSG code listed in [`Crs::supported`].
    pub fn from_epsg(code: u32) -> Result<Crs, CrsError> {
        let def = DEFS
            .iter()
            .find(|d| d.epsg == code)
            .ok_or(CrsError::Unsupported { code })?;
        let engine = match def.kind {
            DefKind::Wgs84 => Engine::Identity,
            DefKind::Proj(definition) => {
                let crs = parse(code, definition)?;
                Engine::Direct {
                    geographic: crs.is_latlong(),
                    crs,
                    wgs84: parse(code, WGS84_LONLAT)?,
                }
            }
            DefKind::MonteMario { native, ops } => {
                let mut shifts = Vec::with_capacity(ops.len());
                for op_code in ops {
                    let Some(op) = MONTE_MARIO_OPS.iter().find(|o| o.code == *op_code) else {
                        continue;
                    };
                    let definition = format!("{MM_GEOG} +towgs84={}", op.towgs84);
                    let geog = Proj::from_proj_string(&definition).map_err(|source| {
                        CrsError::Definition {
                            epsg: code,
                            definition: op.towgs84,
                            source,
                        }
                    })?;
                    shifts.push(MmShift { op, geog });
                }
                let fallback = shifts
                    .iter()
                    .position(|s| s.op.code == MM_FALLBACK)
                    .unwrap_or(0);
                let native = parse(code, native)?;
                Engine::MonteMario {
                    geographic: native.is_latlong(),
                    native,
                    geog: parse(code, MM_GEOG)?,
                    wgs84: parse(code, WGS84_LONLAT)?,
                    shifts,
                    fallback,
                }
            }
        };
        Ok(Crs {
            epsg: def.epsg,
            name: def.name,
            northing_first: def.northing_first,
            engine,
        })
    }

    /// The EPSG codes [`Crs::from_epsg`] accepts.
    pub fn supported() -> &'static [u32] {
        SUPPORTED
    }

    /// The EPSG code.
    pub fn epsg(&self) -> u32 {
        self.epsg
    }

    /// The EPSG name, e.g. "Monte Mario / Italy zone 1".
    pub fn name(&self) -> &str {
        self.name
    }

    /// True when the EPSG definition lists northing (or latitude) before easting (or
    /// longitude): EPSG:4326, 4258, 4265, 4806, 6706 (lat, lon) and 6707, 6708 (N, E).
    pub fn northing_first(&self) -> bool {
        self.northing_first
    }

    /// True for longitude/latitude CRSs (coordinates in degrees, not metres).
    pub fn is_geographic(&self) -> bool {
        match &self.engine {
            Engine::Identity => true,
            Engine::Direct { geographic, .. } | Engine::MonteMario { geographic, .. } => {
                *geographic
            }
        }
    }

    /// Puts a pair given in the CRS's official axis order (`a` first, as EPSG defines it)
    /// into the easting/longitude-first order the transformations take.
    ///
    /// A caller reading, say, an EPSG:6707 file documented as "N, E" does
    /// `let (x, y) = crs.axis_order_xy(first, second); crs.to_wgs84_lonlat(x, y)`.
    /// For easting-first CRSs the pair is returned unchanged.
    pub fn axis_order_xy(&self, a: f64, b: f64) -> (f64, f64) {
        if self.northing_first { (b, a) } else { (a, b) }
    }

    /// The inverse of [`Crs::axis_order_xy`]: puts an easting/longitude-first pair into the
    /// CRS's official axis order, for output that must honour it (OGC API Part 2).
    pub fn xy_to_axis_order(&self, x: f64, y: f64) -> (f64, f64) {
        if self.northing_first { (y, x) } else { (x, y) }
    }

    fn transform_error(&self, x: f64, y: f64, direction: Direction, reason: String) -> CrsError {
        let expected = match direction {
            Direction::FromWgs84 => "WGS84 longitude and latitude, in degrees".to_string(),
            Direction::ToWgs84 if self.is_geographic() => {
                format!("in {}, longitude first, in degrees", self.name)
            }
            Direction::ToWgs84 => format!("in {}, easting first, in metres", self.name),
        };
        CrsError::Transform {
            epsg: self.epsg,
            name: self.name,
            x,
            y,
            direction,
            expected,
            reason,
        }
    }

    /// Transforms one point of this CRS, easting/longitude first, to WGS84 (lon, lat) in
    /// degrees.
    pub fn to_wgs84_lonlat(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        if !x.is_finite() || !y.is_finite() {
            return Err(CrsError::NotFinite {
                epsg: self.epsg,
                x,
                y,
            });
        }
        let fail = |reason: String| self.transform_error(x, y, Direction::ToWgs84, reason);
        let (lon, lat) = match &self.engine {
            Engine::Identity => (x, y),
            Engine::Direct {
                crs,
                wgs84,
                geographic,
            } => {
                let p = run(crs, wgs84, to_radians_if(*geographic, (x, y))).map_err(fail)?;
                (p.0.to_degrees(), p.1.to_degrees())
            }
            Engine::MonteMario {
                native,
                geog,
                wgs84,
                geographic,
                shifts,
                fallback,
            } => {
                // Monte Mario lon/lat first: the operation is chosen by where the point is.
                let mm = run(native, geog, to_radians_if(*geographic, (x, y))).map_err(fail)?;
                let i = select_op(shifts, mm.0.to_degrees(), mm.1.to_degrees(), *fallback);
                let p = run(&shifts[i].geog, wgs84, mm).map_err(fail)?;
                (p.0.to_degrees(), p.1.to_degrees())
            }
        };
        if !lon.is_finite() || !lat.is_finite() || lat.abs() > 90.0 {
            return Err(fail(format!(
                "the result ({lon}, {lat}) is not a position on Earth"
            )));
        }
        Ok((lon, lat))
    }

    /// Transforms WGS84 (lon, lat) in degrees to this CRS, easting/longitude first.
    pub fn from_wgs84_lonlat(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(CrsError::NotFinite {
                epsg: 4326,
                x: lon,
                y: lat,
            });
        }
        let fail = |reason: String| self.transform_error(lon, lat, Direction::FromWgs84, reason);
        if lat.abs() > 90.0 {
            return Err(fail("latitude beyond ±90°".to_string()));
        }
        let input = (lon.to_radians(), lat.to_radians());
        let (x, y) = match &self.engine {
            Engine::Identity => (lon, lat),
            Engine::Direct {
                crs,
                wgs84,
                geographic,
            } => from_radians_if(*geographic, run(wgs84, crs, input).map_err(fail)?),
            Engine::MonteMario {
                native,
                geog,
                wgs84,
                geographic,
                shifts,
                fallback,
            } => {
                // PROJ picks the operation from the WGS84 position in this direction.
                let i = select_op(shifts, lon, lat, *fallback);
                let mm = run(wgs84, &shifts[i].geog, input).map_err(fail)?;
                from_radians_if(*geographic, run(geog, native, mm).map_err(fail)?)
            }
        };
        if !x.is_finite() || !y.is_finite() {
            return Err(fail(format!("the result ({x}, {y}) is not finite")));
        }
        Ok((x, y))
    }

    /// Transforms every coordinate of `g` (easting/longitude first) to WGS84 lon/lat in
    /// place. On error `g` is left partly transformed and should be discarded.
    pub fn to_wgs84_geometry(&self, g: &mut Geometry<f64>) -> Result<(), CrsError> {
        if matches!(self.engine, Engine::Identity) {
            return Ok(());
        }
        try_for_each_coord(g, &mut |c| {
            (c.x, c.y) = self.to_wgs84_lonlat(c.x, c.y)?;
            Ok(())
        })
    }

    /// Transforms every coordinate of a WGS84 lon/lat geometry to this CRS (easting/longitude
    /// first) in place. On error `g` is left partly transformed and should be discarded.
    pub fn from_wgs84_geometry(&self, g: &mut Geometry<f64>) -> Result<(), CrsError> {
        if matches!(self.engine, Engine::Identity) {
            return Ok(());
        }
        try_for_each_coord(g, &mut |c| {
            (c.x, c.y) = self.from_wgs84_lonlat(c.x, c.y)?;
            Ok(())
        })
    }
}

type CoordFn<'a> = dyn FnMut(&mut Coord<f64>) -> Result<(), CrsError> + 'a;

/// Visits every coordinate. geo's `MapCoordsInPlace::try_map_coords_in_place` would do,
/// but on `Geometry` it recurses into GeometryCollection with a new closure type each
/// level and fails to compile (recursion limit); a `dyn` callback avoids that.
fn try_for_each_coord(g: &mut Geometry<f64>, f: &mut CoordFn<'_>) -> Result<(), CrsError> {
    fn line_string(
        ls: &mut geo_types::LineString<f64>,
        f: &mut CoordFn<'_>,
    ) -> Result<(), CrsError> {
        ls.0.iter_mut().try_for_each(f)
    }
    fn polygon(p: &mut geo_types::Polygon<f64>, f: &mut CoordFn<'_>) -> Result<(), CrsError> {
        let mut result = Ok(());
        // exterior_mut/interiors_mut take closures without a Result: carry it out.
        p.exterior_mut(|ext| result = line_string(ext, f));
        result?;
        let mut result = Ok(());
        p.interiors_mut(|holes| {
            result = holes.iter_mut().try_for_each(|h| line_string(h, f));
        });
        result
    }
    match g {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start)?;
            f(&mut l.end)
        }
        Geometry::LineString(ls) => line_string(ls, f),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPoint(mp) => mp.0.iter_mut().try_for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(mls) => mls.0.iter_mut().try_for_each(|l| line_string(l, f)),
        Geometry::MultiPolygon(mp) => mp.0.iter_mut().try_for_each(|p| polygon(p, f)),
        Geometry::Rect(r) => {
            let (mut min, mut max) = (r.min(), r.max());
            f(&mut min)?;
            f(&mut max)?;
            // Rect::new normalises min/max, which a projection may have swapped.
            *r = geo_types::Rect::new(min, max);
            Ok(())
        }
        Geometry::Triangle(t) => {
            let mut v = t.to_array();
            v.iter_mut().try_for_each(&mut *f)?;
            *t = geo_types::Triangle::from(v);
            Ok(())
        }
        Geometry::GeometryCollection(gc) => {
            gc.0.iter_mut().try_for_each(|g| try_for_each_coord(g, f))
        }
    }
}

fn to_radians_if(geographic: bool, (x, y): (f64, f64)) -> (f64, f64) {
    if geographic {
        (x.to_radians(), y.to_radians())
    } else {
        (x, y)
    }
}

fn from_radians_if(geographic: bool, (x, y): (f64, f64)) -> (f64, f64) {
    if geographic {
        (x.to_degrees(), y.to_degrees())
    } else {
        (x, y)
    }
}

/// One proj4rs transformation of one point; proj4rs reports some failures as NaN.
fn run(src: &Proj, dst: &Proj, p: (f64, f64)) -> Result<(f64, f64), String> {
    let mut pt = (p.0, p.1, 0.0);
    proj4rs::transform::transform(src, dst, &mut pt).map_err(|e| e.to_string())?;
    if pt.0.is_finite() && pt.1.is_finite() {
        Ok((pt.0, pt.1))
    } else {
        Err("the projection is undefined there".to_string())
    }
}

/// PROJ 9.1's choice among candidate operations (`proj_trans` in 4D_api.cpp): the first
/// whose area contains the point, replaced by a later onshore one that is more accurate,
/// or as accurate with an area inside the current one's.
fn select_op(shifts: &[MmShift], lon: f64, lat: f64, fallback: usize) -> usize {
    let mut best: Option<usize> = None;
    for (i, s) in shifts.iter().enumerate() {
        if !s.op.contains(lon, lat) {
            continue;
        }
        match best {
            None => best = Some(i),
            Some(b) => {
                let current = shifts[b].op;
                let better = s.op.accuracy < current.accuracy
                    || (s.op.accuracy == current.accuracy && s.op.area_within(current));
                if better && !s.op.offshore {
                    best = Some(i);
                }
            }
        }
    }
    best.unwrap_or(fallback)
}

impl Crs {
    /// The EPSG code of the Monte Mario datum transformation used at a WGS84 position, for
    /// Monte Mario CRSs; `None` for the others. Exposed for diagnostics and tests.
    pub fn datum_operation_at(&self, lon: f64, lat: f64) -> Option<u32> {
        match &self.engine {
            Engine::MonteMario {
                shifts, fallback, ..
            } => Some(shifts[select_op(shifts, lon, lat, *fallback)].op.code),
            _ => None,
        }
    }
}

/// Recognises the CRS of a `.prj` file (ESRI WKT) or any OGC WKT1/WKT2 text, returning its
/// EPSG code.
///
/// The top-level `AUTHORITY["EPSG","…"]` (WKT1) or `ID["EPSG",…]` (WKT2) wins when present,
/// whatever the code (so [`Crs::from_epsg`] can then name an unsupported one); the nested
/// GEOGCS/DATUM authorities are ignored. Without it, the top-level name is matched, for the
/// supported CRSs, against the names ESRI, GDAL and EPSG give them ("Monte_Mario_Italy_1",
/// "Monte Mario / Italy zone 1", "ETRS_1989_UTM_Zone_32N", "GCS_WGS_1984",
/// "WGS_1984_Web_Mercator_Auxiliary_Sphere", ...), ignoring case and punctuation.
/// ESRI's own codes for Web Mercator (102100, 102113, 3785, 900913) map to 3857.
pub fn epsg_from_prj(wkt: &str) -> Option<u32> {
    let top = top_level(wkt)?;
    match top.authority {
        Some((Authority::Epsg, code)) => return Some(code),
        Some((Authority::Esri, 102100 | 102113 | 3785 | 900913)) => return Some(3857),
        // Other ESRI codes: fall back to the name.
        Some((Authority::Esri, _)) | None => {}
    }
    let key = normalize_name(&top.name);
    PRJ_NAMES
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, code)| *code)
}

/// Names of the supported CRSs as `.prj` writers spell them, normalized by
/// [`normalize_name`] (lowercase ASCII letters and digits only).
const PRJ_NAMES: &[(&str, u32)] = &[
    ("montemarioitaly1", 3003),
    ("montemarioitalyzone1", 3003),
    ("montemariogaussboagaovest", 3003),
    ("gaussboagafusoovest", 3003),
    ("montemarioitaly2", 3004),
    ("montemarioitalyzone2", 3004),
    ("montemariogaussboagaest", 3004),
    ("gaussboagafusoest", 3004),
    ("gcsmontemario", 4265),
    ("montemario", 4265),
    ("gcsmontemariorome", 4806),
    ("montemariorome", 4806),
    ("gcsrdn2008", 6706),
    ("rdn2008", 6706),
    ("rdn2008tm32", 6707),
    ("rdn2008utmzone32nne", 6707),
    ("rdn2008tm33", 6708),
    ("rdn2008utmzone33nne", 6708),
    ("rdn2008utmzone32n", 7791),
    ("rdn2008utmzone33n", 7792),
    ("etrs1989utmzone32n", 25832),
    ("etrs89utmzone32n", 25832),
    ("etrs1989utmzone33n", 25833),
    ("etrs89utmzone33n", 25833),
    ("wgs1984utmzone32n", 32632),
    ("wgs84utmzone32n", 32632),
    ("wgs1984utmzone33n", 32633),
    ("wgs84utmzone33n", 32633),
    ("wgs84pseudomercator", 3857),
    ("wgs1984webmercatorauxiliarysphere", 3857),
    ("wgs1984webmercator", 3857),
    ("popularvisualisationcrsmercator", 3857),
    ("googlemapsglobalmercator", 3857),
    ("gcsetrs1989", 4258),
    ("etrs89", 4258),
    ("gcswgs1984", 4326),
    ("wgs84", 4326),
    ("wgs1984", 4326),
];

fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[derive(Clone, Copy)]
enum Authority {
    Epsg,
    Esri,
}

struct TopLevel {
    name: String,
    authority: Option<(Authority, u32)>,
}

/// The name and direct `AUTHORITY`/`ID` child of the outermost WKT node. Only brackets and
/// quoted strings are tracked: enough to tell the top node's children from nested ones.
fn top_level(wkt: &str) -> Option<TopLevel> {
    let wkt = wkt.trim_start_matches('\u{feff}').trim();
    let open = wkt.find(['[', '('])?;
    let body = &wkt[open + 1..];
    let name = first_quoted(body)?;
    let mut depth = 0usize;
    let mut in_quotes = false;
    let mut authority = None;
    let mut keyword_start = 0usize;
    for (i, ch) in body.char_indices() {
        if in_quotes {
            if ch == '"' {
                in_quotes = false;
            }
            continue;
        }
        match ch {
            '"' => in_quotes = true,
            '[' | '(' => {
                let keyword = body[keyword_start..i].trim().to_ascii_uppercase();
                if depth == 0 && (keyword == "AUTHORITY" || keyword == "ID") {
                    authority = parse_authority(&body[i + 1..]).or(authority);
                }
                depth += 1;
            }
            ']' | ')' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            ',' => keyword_start = i + 1,
            _ => {}
        }
        if matches!(ch, '[' | '(' | ']' | ')') {
            keyword_start = i + 1;
        }
    }
    Some(TopLevel { name, authority })
}

/// `"EPSG","3003"]` or `"EPSG",3003]` → (EPSG, 3003).
fn parse_authority(rest: &str) -> Option<(Authority, u32)> {
    let end = rest.find([']', ')'])?;
    let mut parts = rest[..end].split(',');
    let authority = parts.next()?.trim().trim_matches('"');
    let authority = if authority.eq_ignore_ascii_case("EPSG") {
        Authority::Epsg
    } else if authority.eq_ignore_ascii_case("ESRI") {
        Authority::Esri
    } else {
        return None;
    };
    let code = parts.next()?.trim().trim_matches('"').parse().ok()?;
    Some((authority, code))
}

fn first_quoted(s: &str) -> Option<String> {
    let start = s.find('"')? + 1;
    let len = s[start..].find('"')?;
    Some(s[start..start + len].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_code_builds() {
        for code in Crs::supported() {
            let crs = Crs::from_epsg(*code).unwrap();
            assert_eq!(crs.epsg(), *code);
        }
        assert_eq!(Crs::supported().len(), DEFS.len());
    }

    #[test]
    fn unsupported_code_is_named_in_the_error() {
        let err = Crs::from_epsg(2154).unwrap_err().to_string();
        assert!(err.contains("EPSG:2154"), "{err}");
        assert!(err.contains("3003"), "{err}");
    }

    #[test]
    fn monte_mario_candidate_lists_resolve() {
        for list in [MM_OPS_ZONE1, MM_OPS_ZONE2, MM_OPS_GEOG] {
            for code in list {
                assert!(MONTE_MARIO_OPS.iter().any(|o| o.code == *code), "{code}");
            }
            assert!(list.contains(&MM_FALLBACK));
        }
    }

    #[test]
    fn crs_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Crs>();
    }
}
