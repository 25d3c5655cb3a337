//! GeoJSON features written straight to bytes: what items and item responses are made of.
//!
//! A page of 100 municipalities holds ~20,000 coordinate pairs. Built as a
//! `serde_json::Value` tree, every pair is two heap nodes and an array, freed right after
//! serialising: the profile of the feature benchmark put three quarters of the serving
//! time there. Here each number goes from the decoded geometry to the output buffer once,
//! through serde_json's own float formatting (shortest round-trip digits, `null` for a
//! NaN or an infinity, as the GeoJSON download writes them), so the bytes are those
//! serde_json would have produced for the same values.
//!
//! Coordinates are rounded to the request CRS's decimals ([`RequestCrs::decimals`]) as
//! they are written.

use geo_types::Geometry;
use geozero::GeomProcessor;
use geozero::GeozeroGeometry;
use geozero::error::{GeozeroError, Result as GeoResult};
use serde::Serializer as _;
use serde_json::Value as Json;

use super::crs::RequestCrs;
use super::source::Found;
use super::value::Value;
use crate::model::Field;

/// Writing into a `Vec` cannot fail for want of room; errors come from the geometry
/// source (a malformed flatbuffer) or a CRS transformation.
pub type Result<T> = std::result::Result<T, GeozeroError>;

/// Where a feature's geometry comes from.
pub enum Shape<'a, 'f> {
    /// WGS84 coordinates read in place from the layer file (CRS84 output).
    Found(&'a Found<'f>),
    /// A geometry already in the output CRS and axis order.
    Decoded(&'a Geometry<f64>),
}

/// Bytes to reserve for a page: ~24 a coordinate pair with 7 decimals, plus room for the
/// properties. Growing the buffer as it fills instead copies it over and over.
pub fn size_hint(coordinates: usize, features: usize, fields: usize) -> usize {
    coordinates * 25 + features * (100 + fields * 40) + 4096
}

/// Writes a GeoJSON Feature: `type`, `id` (the fid), `geometry`, `properties` in the
/// order of `fields`, then `links` when given.
pub fn write_feature(
    out: &mut Vec<u8>,
    fields: &[Field],
    fid: u64,
    shape: Shape<'_, '_>,
    properties: &[Option<Value>],
    crs: &RequestCrs,
    links: Option<&Json>,
) -> Result<()> {
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
    json(out, &fid)?;
    out.extend_from_slice(b",\"geometry\":");
    let mut writer = Writer::new(out, crs);
    match shape {
        Shape::Found(f) => f.process_geometry(&mut writer)?,
        Shape::Decoded(g) => g.process_geom(&mut writer)?,
    }
    out.extend_from_slice(b",\"properties\":{");
    for (i, (field, value)) in fields.iter().zip(properties).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json(out, &field.name)?;
        out.push(b':');
        match value {
            None => out.extend_from_slice(b"null"),
            Some(v) => json(out, &v.to_json())?,
        }
    }
    out.push(b'}');
    if let Some(links) = links {
        out.extend_from_slice(b",\"links\":");
        json(out, links)?;
    }
    out.push(b'}');
    Ok(())
}

/// Any serialisable value, through serde_json.
pub fn json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<()> {
    serde_json::to_writer(out, value).map_err(|e| GeozeroError::IoError(e.into()))
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    /// Decimals kept (1 to 9), 10^decimals as a float and as an integer.
    decimals: usize,
    scale: f64,
    pow: u64,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut Vec<u8>, crs: &RequestCrs) -> Writer<'a> {
        let decimals = crs.decimals().clamp(1, 9) as u32;
        Writer {
            out,
            decimals: decimals as usize,
            scale: 10f64.powi(decimals as i32),
            pow: 10u64.pow(decimals),
        }
    }

    /// `v` rounded to `decimals`, as the shortest decimal that reads back as the rounded
    /// `f64` — which is `round(v·10^d)` with its decimal point put back and trailing zeros
    /// dropped, formatted here as an integer into `buf` (several times faster than a float
    /// formatter), returning where the text starts. Doubles are ≥ 10^-d apart from their
    /// neighbours' decimals for every |value| < 10^15 / 10^d, so no shorter string reads
    /// back as the same double; beyond that (and for NaN and infinities) it returns `None`
    /// and serde_json's own formatter writes the number.
    fn fixed(&self, v: f64, buf: &mut [u8; 24]) -> Option<usize> {
        let scaled = (v * self.scale).round();
        if scaled.is_nan() || scaled.abs() >= 1e15 {
            return None;
        }
        // In range: exact as an integer.
        let n = scaled as i64;
        let magnitude = n.unsigned_abs();
        let (whole, mut fraction) = (magnitude / self.pow, magnitude % self.pow);
        let mut at = buf.len();
        if fraction == 0 {
            at = digits(buf, at, 0, 1);
        } else {
            let mut width = self.decimals;
            while fraction % 10 == 0 {
                fraction /= 10;
                width -= 1;
            }
            at = digits(buf, at, fraction, width);
        }
        at -= 1;
        buf[at] = b'.';
        at = digits(buf, at, whole, 1);
        if n < 0 {
            at -= 1;
            buf[at] = b'-';
        }
        Some(at)
    }

    fn number(&mut self, v: f64) -> Result<()> {
        let mut buf = [0u8; 24];
        match self.fixed(v, &mut buf) {
            Some(at) => {
                self.out.extend_from_slice(&buf[at..]);
                Ok(())
            }
            None => serde_json::Serializer::new(&mut *self.out)
                .serialize_f64((v * self.scale).round() / self.scale)
                .map_err(|e| GeozeroError::IoError(e.into())),
        }
    }

    /// `[x,y]`. Bytes are pushed one by one: for ~10-byte numbers that is cheaper than a
    /// `memcpy` call per piece (the profile's second cost before this).
    fn coord(&mut self, x: f64, y: f64) -> Result<()> {
        let (mut bx, mut by) = ([0u8; 24], [0u8; 24]);
        match (self.fixed(x, &mut bx), self.fixed(y, &mut by)) {
            (Some(ax), Some(ay)) => {
                self.out.reserve(52);
                self.out.push(b'[');
                for &b in &bx[ax..] {
                    self.out.push(b);
                }
                self.out.push(b',');
                for &b in &by[ay..] {
                    self.out.push(b);
                }
                self.out.push(b']');
            }
            _ => {
                self.out.push(b'[');
                self.number(x)?;
                self.out.push(b',');
                self.number(y)?;
                self.out.push(b']');
            }
        }
        Ok(())
    }

    fn separate(&mut self, idx: usize) {
        if idx > 0 {
            self.out.push(b',');
        }
    }

    fn typed(&mut self, idx: usize, kind: &str) {
        self.separate(idx);
        self.out.extend_from_slice(b"{\"type\":\"");
        self.out.extend_from_slice(kind.as_bytes());
        self.out.extend_from_slice(b"\",\"coordinates\":");
    }

    fn open(&mut self, tagged: bool, idx: usize, kind: &str) {
        if tagged {
            self.typed(idx, kind);
        } else {
            self.separate(idx);
        }
        self.out.push(b'[');
    }

    fn close(&mut self, tagged: bool) {
        self.out.push(b']');
        if tagged {
            self.out.push(b'}');
        }
    }
}

/// "00" to "99".
const PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes `v` in decimal, at least `width` digits (zero-padded), ending right before
/// `buf[end]`, two digits at a time; returns where the digits start.
fn digits(buf: &mut [u8; 24], end: usize, mut v: u64, width: usize) -> usize {
    let mut at = end;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + v as u8;
    }
    while end - at < width {
        at -= 1;
        buf[at] = b'0';
    }
    at
}

/// The GeoJSON geometry object, as geozero walks a geometry: `idx` > 0 means a comma
/// first; `tagged` parts are whole geometries (with `type`), untagged ones the rings of a
/// polygon or the members of a multi-geometry.
impl GeomProcessor for Writer<'_> {
    fn xy(&mut self, x: f64, y: f64, idx: usize) -> GeoResult<()> {
        self.separate(idx);
        self.coord(x, y)
    }

    fn empty_point(&mut self, idx: usize) -> GeoResult<()> {
        self.typed(idx, "Point");
        self.out.extend_from_slice(b"[]}");
        Ok(())
    }

    fn point_begin(&mut self, idx: usize) -> GeoResult<()> {
        self.typed(idx, "Point");
        Ok(())
    }

    fn point_end(&mut self, _idx: usize) -> GeoResult<()> {
        self.out.push(b'}');
        Ok(())
    }

    fn multipoint_begin(&mut self, _size: usize, idx: usize) -> GeoResult<()> {
        self.open(true, idx, "MultiPoint");
        Ok(())
    }

    fn multipoint_end(&mut self, _idx: usize) -> GeoResult<()> {
        self.close(true);
        Ok(())
    }

    fn linestring_begin(&mut self, tagged: bool, _size: usize, idx: usize) -> GeoResult<()> {
        self.open(tagged, idx, "LineString");
        Ok(())
    }

    fn linestring_end(&mut self, tagged: bool, _idx: usize) -> GeoResult<()> {
        self.close(tagged);
        Ok(())
    }

    fn multilinestring_begin(&mut self, _size: usize, idx: usize) -> GeoResult<()> {
        self.open(true, idx, "MultiLineString");
        Ok(())
    }

    fn multilinestring_end(&mut self, _idx: usize) -> GeoResult<()> {
        self.close(true);
        Ok(())
    }

    fn polygon_begin(&mut self, tagged: bool, _size: usize, idx: usize) -> GeoResult<()> {
        self.open(tagged, idx, "Polygon");
        Ok(())
    }

    fn polygon_end(&mut self, tagged: bool, _idx: usize) -> GeoResult<()> {
        self.close(tagged);
        Ok(())
    }

    fn multipolygon_begin(&mut self, _size: usize, idx: usize) -> GeoResult<()> {
        self.open(true, idx, "MultiPolygon");
        Ok(())
    }

    fn multipolygon_end(&mut self, _idx: usize) -> GeoResult<()> {
        self.close(true);
        Ok(())
    }

    fn geometrycollection_begin(&mut self, _size: usize, idx: usize) -> GeoResult<()> {
        self.separate(idx);
        self.out
            .extend_from_slice(b"{\"type\":\"GeometryCollection\",\"geometries\":[");
        Ok(())
    }

    fn geometrycollection_end(&mut self, _idx: usize) -> GeoResult<()> {
        self.close(true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldType;
    use geo_types::{Coord, GeometryCollection, LineString, MultiPolygon, point, polygon};

    fn field(name: &str) -> Field {
        Field {
            name: name.into(),
            field_type: FieldType::String,
            description: None,
            source: None,
            required: false,
            unique: false,
            nulls: 0,
        }
    }

    /// Every number reads back as the rounded double, in the fewest digits.
    #[test]
    fn numbers_are_the_rounded_doubles() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            10.5,
            10.123456789,
            -43.00000004,
            0.00000005,
            -0.00000004,
            179.9999999,
            1e-7,
            12345678.9,
            43.1,
            7.0000001,
            f64::NAN,
            f64::INFINITY,
            3e20,
        ];
        for v in values {
            let mut out = Vec::new();
            let mut w = Writer::new(&mut out, &RequestCrs::crs84());
            w.number(v).unwrap();
            let text = String::from_utf8(out).unwrap();
            let expected = (v * 1e7).round() / 1e7;
            if expected.is_finite() {
                let back: f64 = text.parse().unwrap();
                assert_eq!(back, expected, "{v} wrote {text}");
                // The fewest digits: what Rust's shortest round-trip formatting gives.
                let shortest = format!("{expected:?}");
                let digits = |t: &str| {
                    t.trim_start_matches('-')
                        .replace('.', "")
                        .trim_start_matches('0')
                        .len()
                };
                if expected.abs() < 1e8 {
                    assert!(
                        digits(&text) <= digits(&shortest).max(1),
                        "{v}: {text} vs {shortest}"
                    );
                }
            } else {
                assert_eq!(text, "null", "{v}");
            }
        }
    }

    /// The bytes parse back to what the `geojson` crate makes of the same geometry.
    #[test]
    fn features_match_the_geojson_crate() {
        let square = polygon![
            exterior: [(x: 10.0, y: 43.0), (x: 10.1, y: 43.0), (x: 10.1, y: 43.1), (x: 10.0, y: 43.0)],
            interiors: [[(x: 10.02, y: 43.02), (x: 10.03, y: 43.02), (x: 10.02, y: 43.03), (x: 10.02, y: 43.02)]],
        ];
        let geometries = [
            Geometry::Point(point!(x: 10.123456789, y: -43.5)),
            Geometry::Polygon(square.clone()),
            Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), square])),
            Geometry::LineString(LineString::from(vec![(1.0, 2.0), (3.0, f64::NAN)])),
            Geometry::GeometryCollection(GeometryCollection(vec![
                Geometry::Point(point!(x: 1.0, y: 2.0)),
                Geometry::LineString(LineString::from(vec![(1.0, 2.0), (3.0, 4.0)])),
            ])),
        ];
        for g in geometries {
            let mut out = Vec::new();
            write_feature(
                &mut out,
                &[field("nome"), field("vuoto")],
                7,
                Shape::Decoded(&g),
                &[Some(Value::Str("a \"b\"".into())), None],
                &RequestCrs::crs84(),
                None,
            )
            .unwrap();
            let parsed: Json = serde_json::from_slice(&out).unwrap();
            let mut rounded = g.clone();
            use geo::MapCoordsInPlace;
            rounded.map_coords_in_place(|c| Coord {
                x: (c.x * 1e7).round() / 1e7,
                y: (c.y * 1e7).round() / 1e7,
            });
            let expected =
                serde_json::to_value(geojson::Geometry::new(geojson::Value::from(&rounded)))
                    .unwrap();
            assert_eq!(parsed["geometry"], expected, "{g:?}");
            assert_eq!(parsed["id"], 7);
            assert_eq!(parsed["properties"]["nome"], "a \"b\"");
            assert!(parsed["properties"]["vuoto"].is_null());
        }
    }
}
