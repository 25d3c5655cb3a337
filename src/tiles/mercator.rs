//! Web Mercator (EPSG:3857) as the tiler needs it: WGS84 lon/lat to "world" coordinates,
//! the unit square `[0, 1] × [0, 1]` with `y` growing southwards (the XYZ tile scheme's
//! orientation), and back; tile bounds; the tiles a bounding box touches.
//!
//! At zoom `z` a world coordinate times `2^z` is a tile coordinate (integer part = tile
//! column or row) and times `2^z · 4096` a position in tile units (the MVT extent).
//!
//! Pitfalls: latitudes beyond ±85.0511° have no Mercator image and are clamped (Portale's
//! layers are Italian, far from the poles, but a bad coordinate must not produce NaN).
//! Longitudes are not wrapped: a layer crossing the antimeridian is out of scope.

/// The latitude where Web Mercator's square world ends: `atan(sinh(π))` in degrees.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Longitude and latitude (degrees) to world coordinates in `[0, 1]`, `y` pointing south.
pub fn lonlat_to_world(lon: f64, lat: f64) -> (f64, f64) {
    let x = (lon + 180.0) / 360.0;
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let y =
        0.5 - ((std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln()) / (2.0 * std::f64::consts::PI);
    (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0))
}

/// World coordinates back to longitude and latitude (degrees).
pub fn world_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = x * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    let lat = n.sinh().atan().to_degrees();
    (lon, lat)
}

/// Number of tiles along one side of the world at zoom `z`.
pub fn tiles_at(z: u8) -> u32 {
    1u32 << z
}

/// `[west, south, east, north]` of tile `z/x/y` in degrees.
pub fn tile_bounds(z: u8, x: u32, y: u32) -> [f64; 4] {
    let n = f64::from(tiles_at(z));
    let (west, north) = world_to_lonlat(f64::from(x) / n, f64::from(y) / n);
    let (east, south) = world_to_lonlat(f64::from(x + 1) / n, f64::from(y + 1) / n);
    [west, south, east, north]
}

/// The inclusive tile range `(x0, y0, x1, y1)` that a `[west, south, east, north]` box
/// touches at zoom `z`.
pub fn tile_range(bbox: [f64; 4], z: u8) -> (u32, u32, u32, u32) {
    let n = tiles_at(z);
    let (wx0, wy1) = lonlat_to_world(bbox[0], bbox[1]);
    let (wx1, wy0) = lonlat_to_world(bbox[2], bbox[3]);
    let to_tile = |w: f64| -> u32 {
        // Clamped to [0, n-1]: a box edge on the world's east or south edge belongs to the
        // last tile.
        let t = (w * f64::from(n)).floor();
        if t <= 0.0 {
            0
        } else if t >= f64::from(n - 1) {
            n - 1
        } else {
            t as u32
        }
    };
    (to_tile(wx0), to_tile(wy0), to_tile(wx1), to_tile(wy1))
}

/// Whether tile `z/x/y` intersects a `[west, south, east, north]` box (edges included).
pub fn tile_intersects(z: u8, x: u32, y: u32, bbox: [f64; 4]) -> bool {
    let (x0, y0, x1, y1) = tile_range(bbox, z);
    (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_corners() {
        let (x, y) = lonlat_to_world(-180.0, MAX_LATITUDE);
        assert!(x.abs() < 1e-12 && y.abs() < 1e-9, "{x} {y}");
        let (x, y) = lonlat_to_world(0.0, 0.0);
        assert!((x - 0.5).abs() < 1e-12 && (y - 0.5).abs() < 1e-12);
        let (lon, lat) = world_to_lonlat(0.0, 0.0);
        assert!((lon + 180.0).abs() < 1e-9 && (lat - MAX_LATITUDE).abs() < 1e-9);
    }

    #[test]
    fn capannori_town_hall_tile() {
        // Tile of 10.5731 E, 43.8416 N at z14, from the OSM wiki's slippy-map formula:
        // x = floor((lon + 180) / 360 · 2^14) = 8673,
        // y = floor((1 - asinh(tan(lat)) / π) / 2 · 2^14) = 5967
        // (evaluated with Python's math module).
        let (x0, y0, x1, y1) = tile_range([10.5731, 43.8416, 10.5731, 43.8416], 14);
        assert_eq!((x0, y0, x1, y1), (8673, 5967, 8673, 5967));
        let b = tile_bounds(14, 8673, 5967);
        assert!(b[0] <= 10.5731 && 10.5731 <= b[2] && b[1] <= 43.8416 && 43.8416 <= b[3]);
    }

    #[test]
    fn round_trip() {
        for (lon, lat) in [(10.5, 43.8), (-70.0, -33.4), (179.9, 60.0)] {
            let (x, y) = lonlat_to_world(lon, lat);
            let (lo, la) = world_to_lonlat(x, y);
            assert!((lo - lon).abs() < 1e-9 && (la - lat).abs() < 1e-9);
        }
    }
}
