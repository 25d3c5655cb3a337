//! A layer's map thumbnail: its geometries drawn as a small SVG (320×200 by default) in
//! Web Mercator, made at build time and shown in the search results and on the home page.
//!
//! Drawing: the layer's extent is fitted into the picture with a margin, keeping the
//! aspect ratio (Web Mercator is conformal, so shapes look as on the map). Coordinates are
//! projected to pixels first and simplified there (Ramer–Douglas–Peucker, geo's
//! [`Simplify`]) with a tolerance of a fraction of a pixel, so detail that no pixel could
//! show is dropped. Polygons are filled, lines stroked, points drawn as round dots (a
//! zero-length path segment with a round cap: a few bytes a point instead of a
//! `<circle>`); points falling on the same pixel are drawn once.
//!
//! Size: every drawing is one `<path>` per geometry kind, coordinates with at most one
//! decimal. A layer of thousands of features (the 7,899 Italian municipalities) could
//! still give a large file, so the drawing has a byte budget ([`Options::budget`]): past
//! it, the tolerance and the point grid are doubled, and rings smaller than the tolerance
//! become filled squares of a grid of that size (a mosaic: a dense layer of thousands of
//! small polygons turns into at most (320/8)·(200/8) squares), until it fits (or the
//! tolerance reaches 8 px, when what is left is kept).
//!
//! Elements are written with end tags (`<path …></path>`), never self-closed: the XML
//! reader the tests parse the file with (kml's) skips empty elements.
//!
//! Pitfalls: a layer of one point (or of points on one spot) has an empty extent; it is
//! widened to [`MIN_EXTENT_DEGREES`] around the spot so that the point is centred, not
//! divided by zero. Latitudes beyond Web Mercator's ±85.05° are clamped
//! ([`crate::tiles::mercator`]). The title is escaped; it is the only text in the file.

use std::collections::HashSet;
use std::fmt::Write as _;

use geo::Simplify;
use geo_types::{Coord, Geometry, LineString, Polygon};

use crate::tiles::mercator::lonlat_to_world;

/// The smallest extent drawn, in degrees (about 1 km at Italian latitudes).
pub const MIN_EXTENT_DEGREES: f64 = 0.01;

/// Fill of polygons, stroke of their outline, lines and points: Bootstrap Italia's
/// primary blue and darker tones (at least 3:1 against the background, WCAG 1.4.11).
const FILL: &str = "#0066cc";
const OUTLINE: &str = "#004080";
const LINE: &str = "#00695c";
const POINT: &str = "#c0392b";
const BACKGROUND: &str = "#f2f5f8";

/// How a thumbnail is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub width: u32,
    pub height: u32,
    /// Margin on every side, in pixels.
    pub margin: f64,
    /// Bytes of path data above which the drawing is simplified further.
    pub budget: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            width: 320,
            height: 200,
            margin: 8.0,
            budget: 48 * 1024,
        }
    }
}

/// The projection of a thumbnail: WGS84 lon/lat to pixels of the picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// World coordinates (Web Mercator in the unit square, `y` southwards) of the
    /// picture's top-left corner.
    pub origin: (f64, f64),
    /// Pixels per world unit.
    pub scale: f64,
}

impl Frame {
    /// The frame that fits the WGS84 extent `[west, south, east, north]` into the picture,
    /// centred, with the options' margin.
    pub fn fit(bbox: [f64; 4], options: &Options) -> Frame {
        let [mut w, mut s, mut e, mut n] = bbox;
        if e - w < MIN_EXTENT_DEGREES {
            let c = (w + e) / 2.0;
            (w, e) = (c - MIN_EXTENT_DEGREES / 2.0, c + MIN_EXTENT_DEGREES / 2.0);
        }
        if n - s < MIN_EXTENT_DEGREES {
            let c = (s + n) / 2.0;
            (s, n) = (c - MIN_EXTENT_DEGREES / 2.0, c + MIN_EXTENT_DEGREES / 2.0);
        }
        let (x0, y0) = lonlat_to_world(w, n);
        let (x1, y1) = lonlat_to_world(e, s);
        let inner_w = (f64::from(options.width) - 2.0 * options.margin).max(1.0);
        let inner_h = (f64::from(options.height) - 2.0 * options.margin).max(1.0);
        let scale = (inner_w / (x1 - x0)).min(inner_h / (y1 - y0));
        // Centre the drawing: the unused room goes half on each side.
        let pad_x = (f64::from(options.width) - (x1 - x0) * scale) / 2.0;
        let pad_y = (f64::from(options.height) - (y1 - y0) * scale) / 2.0;
        Frame {
            origin: (x0 - pad_x / scale, y0 - pad_y / scale),
            scale,
        }
    }

    /// The pixel position of a WGS84 longitude and latitude.
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (x, y) = lonlat_to_world(lon, lat);
        (
            (x - self.origin.0) * self.scale,
            (y - self.origin.1) * self.scale,
        )
    }
}

/// The WGS84 extent `[west, south, east, north]` of the geometries, `None` when there
/// is no coordinate.
pub fn extent(geoms: &[Option<Geometry<f64>>]) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    let mut out: Option<[f64; 4]> = None;
    for g in geoms.iter().flatten() {
        if let Some(r) = g.bounding_rect() {
            let (min, max) = (r.min(), r.max());
            if !(min.x.is_finite() && min.y.is_finite() && max.x.is_finite() && max.y.is_finite()) {
                continue;
            }
            out = Some(match out {
                None => [min.x, min.y, max.x, max.y],
                Some([w, s, e, n]) => [w.min(min.x), s.min(min.y), e.max(max.x), n.max(max.y)],
            });
        }
    }
    out
}

/// The pieces of a layer in pixels, by how they are drawn.
#[derive(Default)]
struct Pieces {
    rings: Vec<LineString<f64>>,
    lines: Vec<LineString<f64>>,
    points: Vec<(f64, f64)>,
}

fn project_line(frame: &Frame, line: &LineString<f64>) -> LineString<f64> {
    LineString(
        line.0
            .iter()
            .map(|c| {
                let (x, y) = frame.project(c.x, c.y);
                Coord { x, y }
            })
            .collect(),
    )
}

fn collect(frame: &Frame, g: &Geometry<f64>, out: &mut Pieces) {
    let polygon = |p: &Polygon<f64>, out: &mut Pieces| {
        out.rings.push(project_line(frame, p.exterior()));
        out.rings
            .extend(p.interiors().iter().map(|r| project_line(frame, r)));
    };
    match g {
        Geometry::Point(p) => out.points.push(frame.project(p.x(), p.y())),
        Geometry::MultiPoint(mp) => out
            .points
            .extend(mp.0.iter().map(|p| frame.project(p.x(), p.y()))),
        Geometry::Line(l) => out
            .lines
            .push(project_line(frame, &LineString(vec![l.start, l.end]))),
        Geometry::LineString(l) => out.lines.push(project_line(frame, l)),
        Geometry::MultiLineString(ml) => out
            .lines
            .extend(ml.0.iter().map(|l| project_line(frame, l))),
        Geometry::Polygon(p) => polygon(p, out),
        Geometry::MultiPolygon(mp) => mp.0.iter().for_each(|p| polygon(p, out)),
        Geometry::Rect(r) => polygon(&r.to_polygon(), out),
        Geometry::Triangle(t) => polygon(&t.to_polygon(), out),
        Geometry::GeometryCollection(gc) => gc.0.iter().for_each(|g| collect(frame, g, out)),
    }
}

/// Writes a number with at most one decimal, without a trailing `.0`.
fn num(out: &mut String, v: f64) {
    let r = (v * 10.0).round() / 10.0;
    // -0 would print as "-0".
    let r = if r == 0.0 { 0.0 } else { r };
    let _ = write!(out, "{r}");
}

fn move_to(out: &mut String, c: Coord<f64>) {
    out.push('M');
    num(out, c.x);
    out.push(' ');
    num(out, c.y);
}

fn line_to(out: &mut String, c: Coord<f64>) {
    out.push('L');
    num(out, c.x);
    out.push(' ');
    num(out, c.y);
}

/// The path data of lines (`closed`: rings) simplified with `tolerance` pixels. Rings
/// whose extent is under `min_ring` pixels are not drawn as outlines: their centres go
/// into `cells` (a `min_ring`-pixel grid) to be drawn as filled squares.
fn path_of(
    lines: &[LineString<f64>],
    tolerance: f64,
    closed: bool,
    min_ring: f64,
    cells: &mut HashSet<(i64, i64)>,
) -> String {
    let mut d = String::new();
    for line in lines {
        if line.0.len() < 2 {
            continue;
        }
        if closed && min_ring > 0.0 {
            use geo::BoundingRect;
            if let Some(r) = line.bounding_rect()
                && r.width() < min_ring
                && r.height() < min_ring
            {
                let c = r.center();
                if c.x.is_finite() && c.y.is_finite() {
                    cells.insert((
                        (c.x / min_ring).floor() as i64,
                        (c.y / min_ring).floor() as i64,
                    ));
                }
                continue;
            }
        }
        let simple = line.simplify(tolerance);
        let mut coords = simple.0.iter().copied();
        let Some(first) = coords.next() else { continue };
        move_to(&mut d, first);
        let mut last = (
            (first.x * 10.0).round() as i64,
            (first.y * 10.0).round() as i64,
        );
        let mut segments = 0;
        for c in coords {
            let key = ((c.x * 10.0).round() as i64, (c.y * 10.0).round() as i64);
            if key == last {
                continue;
            }
            last = key;
            line_to(&mut d, c);
            segments += 1;
        }
        if closed {
            d.push('Z');
        } else if segments == 0 {
            // A line shorter than the rounding: still a visible dot.
            d.push_str("h0");
        }
    }
    d
}

/// Squares of `size` pixels at the grid cells.
fn squares_of(cells: &HashSet<(i64, i64)>, size: f64) -> String {
    let mut cells: Vec<_> = cells.iter().copied().collect();
    cells.sort_unstable();
    let mut d = String::new();
    for (cx, cy) in cells {
        move_to(
            &mut d,
            Coord {
                x: cx as f64 * size,
                y: cy as f64 * size,
            },
        );
        d.push('h');
        num(&mut d, size);
        d.push('v');
        num(&mut d, size);
        d.push('h');
        num(&mut d, -size);
        d.push('Z');
    }
    d
}

/// Points as dots, one per cell of a `grid`-pixel grid.
fn dots_of(points: &[(f64, f64)], grid: f64) -> String {
    let mut seen = HashSet::new();
    let mut d = String::new();
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let cell = ((x / grid).round() as i64, (y / grid).round() as i64);
        if !seen.insert(cell) {
            continue;
        }
        move_to(&mut d, Coord { x, y });
        d.push_str("h0");
    }
    d
}

/// The SVG thumbnail of the geometries with the default [`Options`]; `None` when there is
/// no geometry to draw.
pub fn thumbnail_svg(geoms: &[Option<Geometry<f64>>], title: &str) -> Option<String> {
    thumbnail_svg_with(geoms, title, &Options::default())
}

/// The SVG thumbnail of the geometries; `title` becomes its `<title>` (the text
/// alternative). `None` when there is no geometry to draw.
pub fn thumbnail_svg_with(
    geoms: &[Option<Geometry<f64>>],
    title: &str,
    options: &Options,
) -> Option<String> {
    let bbox = extent(geoms)?;
    let frame = Frame::fit(bbox, options);
    let mut pieces = Pieces::default();
    for g in geoms.iter().flatten() {
        collect(&frame, g, &mut pieces);
    }
    let mut tolerance = 0.3;
    let (fill, mosaic, lines, dots) = loop {
        let min_ring = if tolerance > 0.3 { tolerance } else { 0.0 };
        let mut cells = HashSet::new();
        let fill = path_of(&pieces.rings, tolerance, true, min_ring, &mut cells);
        let mosaic = squares_of(&cells, min_ring);
        let lines = path_of(&pieces.lines, tolerance, false, 0.0, &mut cells);
        let dots = dots_of(&pieces.points, (tolerance * 3.0).max(1.0));
        let size = fill.len() + mosaic.len() + lines.len() + dots.len();
        if size <= options.budget || tolerance >= 8.0 {
            break (fill, mosaic, lines, dots);
        }
        tolerance *= 2.0;
    };
    let (w, h) = (options.width, options.height);
    let mut svg = String::with_capacity(fill.len() + lines.len() + dots.len() + 600);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\"><title>{}</title><rect width=\"{w}\" height=\"{h}\" fill=\"{BACKGROUND}\"></rect>",
        crate::xml::escape(title)
    );
    if !fill.is_empty() {
        let _ = write!(
            svg,
            "<path fill=\"{FILL}\" fill-opacity=\"0.25\" fill-rule=\"evenodd\" stroke=\"{OUTLINE}\" stroke-width=\"0.75\" stroke-linejoin=\"round\" d=\"{fill}\"></path>"
        );
    }
    if !mosaic.is_empty() {
        let _ = write!(
            svg,
            "<path fill=\"{FILL}\" fill-opacity=\"0.5\" d=\"{mosaic}\"></path>"
        );
    }
    if !lines.is_empty() {
        let _ = write!(
            svg,
            "<path fill=\"none\" stroke=\"{LINE}\" stroke-width=\"2\" stroke-linecap=\"round\" stroke-linejoin=\"round\" d=\"{lines}\"></path>"
        );
    }
    if !dots.is_empty() {
        let _ = write!(
            svg,
            "<path fill=\"none\" stroke=\"{POINT}\" stroke-width=\"3.5\" stroke-linecap=\"round\" d=\"{dots}\"></path>"
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

/// The Italian text alternative of a layer's thumbnail, e.g. «Mappa in miniatura: 57
/// punti di “Scuole statali”».
pub fn alt_text(title: &str, features: u64, geometry: crate::model::GeometryType) -> String {
    use crate::model::GeometryType as G;
    let (one, many) = match geometry {
        G::Point | G::MultiPoint => ("punto", "punti"),
        G::LineString | G::MultiLineString => ("linea", "linee"),
        G::Polygon | G::MultiPolygon => ("area", "aree"),
        G::Geometry => ("elemento", "elementi"),
    };
    let noun = if features == 1 { one } else { many };
    let n = crate::pictures::chart::format_it(i64::try_from(features).unwrap_or(i64::MAX));
    format!("Mappa in miniatura: {n} {noun} di “{title}”")
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{MultiPolygon, Point, polygon};

    /// Web Mercator written independently of `crate::tiles::mercator`: EPSG:3857 metres
    /// (spherical, R = 6378137), then the metres' extent mapped to the picture.
    fn mercator_m(lon: f64, lat: f64) -> (f64, f64) {
        const R: f64 = 6_378_137.0;
        let x = R * lon.to_radians();
        let y = R
            * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .ln();
        (x, y)
    }

    /// Parses the SVG with a real XML parser (kml's reader, quick-xml underneath, keeps
    /// unknown elements as generic ones) and returns the root element.
    fn parse(svg: &str) -> kml::types::Element {
        let parsed: kml::Kml = svg.parse().expect("well-formed XML");
        match parsed {
            kml::Kml::Element(e) => e,
            kml::Kml::KmlDocument(d) => {
                assert_eq!(d.elements.len(), 1, "one root");
                match &d.elements[0] {
                    kml::Kml::Element(e) => e.clone(),
                    other => panic!("unexpected root {other:?}"),
                }
            }
            other => panic!("unexpected root {other:?}"),
        }
    }

    fn paths(root: &kml::types::Element) -> Vec<&kml::types::Element> {
        root.children.iter().filter(|c| c.name == "path").collect()
    }

    /// Every number pair of a path's data.
    fn coords(d: &str) -> Vec<(f64, f64)> {
        let mut out = Vec::new();
        for cmd in d.split(['M', 'L']).filter(|s| !s.is_empty()) {
            let cmd = cmd.trim_end_matches('Z').trim_end_matches("h0");
            let mut it = cmd.split(' ');
            let x: f64 = it.next().unwrap().parse().unwrap();
            let y: f64 = it.next().unwrap().parse().unwrap();
            out.push((x, y));
        }
        out
    }

    #[test]
    fn known_point_lands_where_web_mercator_puts_it() {
        // Two schools in Capannori (lon, lat), as in tests/server_tiles.rs.
        let a = (10.50, 43.78);
        let b = (10.65, 43.93);
        let geoms = vec![
            Some(Geometry::Point(Point::new(a.0, a.1))),
            Some(Geometry::Point(Point::new(b.0, b.1))),
        ];
        let options = Options::default();
        let svg = thumbnail_svg(&geoms, "Scuole").unwrap();
        let root = parse(&svg);
        assert_eq!(root.name, "svg");
        assert_eq!(root.attrs["viewBox"], "0 0 320 200");
        let title = root.children.iter().find(|c| c.name == "title").unwrap();
        assert_eq!(title.content.as_deref(), Some("Scuole"));
        let dots = paths(&root);
        assert_eq!(dots.len(), 1);
        let got = coords(&dots[0].attrs["d"]);
        assert_eq!(got.len(), 2);

        // Independent fit: the metres' extent scaled into 304×184, centred.
        let (ax, ay) = mercator_m(a.0, a.1);
        let (bx, by) = mercator_m(b.0, b.1);
        let scale = (304.0 / (bx - ax)).min(184.0 / (by - ay));
        let cx = 160.0 - (bx - ax) * scale / 2.0;
        let cy = 100.0 - (by - ay) * scale / 2.0;
        // a is the south-west corner: left, bottom.
        let want_a = (cx, cy + (by - ay) * scale);
        let want_b = (cx + (bx - ax) * scale, cy);
        for (g, w) in got.iter().zip([want_a, want_b]) {
            assert!((g.0 - w.0).abs() <= 0.051, "{g:?} vs {w:?}");
            assert!((g.1 - w.1).abs() <= 0.051, "{g:?} vs {w:?}");
        }
        // The taller-than-wide extent fills the height: margin 8 at top and bottom.
        assert!((want_b.1 - options.margin).abs() < 1e-9);
    }

    #[test]
    fn coordinates_stay_inside_the_view_box() {
        let boundary = polygon![
            (x: 10.49, y: 43.75), (x: 10.66, y: 43.75), (x: 10.66, y: 43.94),
            (x: 10.49, y: 43.94), (x: 10.49, y: 43.75),
        ];
        let line = LineString::from(vec![(10.5, 43.8), (10.55, 43.85), (10.6, 43.82)]);
        let geoms = vec![
            Some(Geometry::Polygon(boundary)),
            Some(Geometry::LineString(line)),
            None,
            Some(Geometry::Point(Point::new(10.52, 43.9))),
        ];
        let svg = thumbnail_svg(&geoms, "Confine & scuole <test>").unwrap();
        let root = parse(&svg);
        let title = root.children.iter().find(|c| c.name == "title").unwrap();
        assert_eq!(title.content.as_deref(), Some("Confine & scuole <test>"));
        let ps = paths(&root);
        assert_eq!(ps.len(), 3, "fill, lines, dots");
        for p in ps {
            for (x, y) in coords(&p.attrs["d"]) {
                assert!((0.0..=320.0).contains(&x) && (0.0..=200.0).contains(&y));
            }
        }
    }

    #[test]
    fn one_point_is_centred() {
        let geoms = vec![Some(Geometry::Point(Point::new(10.6, 43.8)))];
        let svg = thumbnail_svg(&geoms, "Uno").unwrap();
        let d = &paths(&parse(&svg))[0].attrs["d"].clone();
        assert_eq!(coords(d), vec![(160.0, 100.0)]);
    }

    #[test]
    fn nothing_to_draw() {
        assert!(thumbnail_svg(&[None, None], "Vuoto").is_none());
        assert!(thumbnail_svg(&[], "Vuoto").is_none());
    }

    /// A grid of 7,899 small municipalities (hexagon-ish polygons with 40 vertices each),
    /// the size of Italy's: the file stays small.
    #[test]
    fn a_large_layer_stays_within_the_budget() {
        let mut geoms = Vec::new();
        let (cols, rows) = (90, 88);
        for i in 0..7_899 {
            let (c, r) = (i % cols, i / cols);
            let (lon0, lat0) = (6.6 + f64::from(c) * 0.12, 36.6 + f64::from(r) * 0.1);
            let ring: Vec<(f64, f64)> = (0..=40)
                .map(|k| {
                    let a = f64::from(k % 40) / 40.0 * std::f64::consts::TAU;
                    (lon0 + 0.06 + 0.06 * a.cos(), lat0 + 0.05 + 0.05 * a.sin())
                })
                .collect();
            geoms.push(Some(Geometry::MultiPolygon(MultiPolygon(vec![
                Polygon::new(LineString::from(ring), vec![]),
            ]))));
        }
        assert!(rows * cols >= 7_899);
        let svg = thumbnail_svg(&geoms, "Comuni italiani").unwrap();
        eprintln!("7,899 polygons: {} bytes", svg.len());
        assert!(svg.len() < 64 * 1024, "{} bytes", svg.len());
        // Not blank: the polygons cover the whole picture, so at 8 px at most there are
        // still more than 1,000 shapes.
        let root = parse(&svg);
        let shapes: usize = paths(&root)
            .iter()
            .map(|p| p.attrs["d"].matches('M').count())
            .sum();
        assert!(shapes > 1_000, "{shapes} shapes");
    }

    #[test]
    fn alt_texts() {
        use crate::model::GeometryType as G;
        assert_eq!(
            alt_text("Scuole statali", 57, G::Point),
            "Mappa in miniatura: 57 punti di “Scuole statali”"
        );
        assert_eq!(
            alt_text("Confine", 1, G::MultiPolygon),
            "Mappa in miniatura: 1 area di “Confine”"
        );
    }
}
