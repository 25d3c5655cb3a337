//! The fuzz harnesses: one function per cargo-fuzz target in `fuzz/fuzz_targets/`, each
//! feeding arbitrary bytes to one of Portale's readers of untrusted input the way the
//! product calls it. The fuzz targets (nightly, libFuzzer) and the regression test
//! `tests/fuzz_corpus.rs` (stable, runs every file of `fuzz/corpus/<target>/`) call the
//! same functions, so a crash found by fuzzing stays fixed.
//!
//! Every function must return normally for every input: an error is a fine answer, a
//! panic, an endless loop or an unbounded allocation is a bug in the reader. The results
//! are thrown away; [`Target::run`] dispatches by target name.
//!
//! Pitfalls: keep these harnesses free of `unwrap` on anything the input decides (a panic
//! here would be reported as a product bug), and keep each input's work bounded (zooms,
//! tiles asked for) or libFuzzer reports timeouts that are the harness's fault.

use std::path::Path;
use std::sync::OnceLock;

use geo_types::{Coord, Geometry, LineString, MultiPoint, Point, Polygon};

use crate::catalog::ckan::query::{DocText, SearchDoc, SearchIndex, SearchRequest};
use crate::config::CatalogConfig;
use crate::config::Recipe;
use crate::etl::read::{SourceOptions, read_csv_bytes};
use crate::model::{Field, FieldType};
use crate::ogc::cql2::{self, Schema};
use crate::ogc::crs::RequestCrs;
use crate::ogc::source::Feature;
use crate::ogc::value::Value;

/// The fuzz targets, named as their files in `fuzz/fuzz_targets/` and their corpus folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    CsvRead,
    Recipe,
    Cql2Text,
    Cql2Json,
    CkanFq,
    PmtilesRead,
    MvtEncode,
}

impl Target {
    pub const ALL: [Target; 7] = [
        Target::CsvRead,
        Target::Recipe,
        Target::Cql2Text,
        Target::Cql2Json,
        Target::CkanFq,
        Target::PmtilesRead,
        Target::MvtEncode,
    ];

    /// The target's name: its file in `fuzz/fuzz_targets/` and its corpus folder.
    pub fn name(self) -> &'static str {
        match self {
            Target::CsvRead => "csv_read",
            Target::Recipe => "recipe",
            Target::Cql2Text => "cql2_text",
            Target::Cql2Json => "cql2_json",
            Target::CkanFq => "ckan_fq",
            Target::PmtilesRead => "pmtiles_read",
            Target::MvtEncode => "mvt_encode",
        }
    }

    /// Runs one input through the target's harness.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::CsvRead => csv_read(data),
            Target::Recipe => recipe(data),
            Target::Cql2Text => cql2_text(data),
            Target::Cql2Json => cql2_json(data),
            Target::CkanFq => ckan_fq(data),
            Target::PmtilesRead => pmtiles_read(data),
            Target::MvtEncode => mvt_encode(data),
        }
    }
}

/// CSV reader: the first byte picks the recipe's options (encoding, delimiter, decimal
/// separator, header row, rows skipped), the rest is the file.
pub fn csv_read(data: &[u8]) {
    let Some((&opt, bytes)) = data.split_first() else {
        return;
    };
    let opts = SourceOptions {
        encoding: match opt & 3 {
            1 => Some("utf-8".into()),
            2 => Some("windows-1252".into()),
            _ => None,
        },
        delimiter: match (opt >> 2) & 3 {
            1 => Some(b';'),
            2 => Some(b','),
            3 => Some(b'\t'),
            _ => None,
        },
        decimal: if opt & 16 != 0 { Some(',') } else { None },
        header_row: if opt & 32 != 0 {
            Some(usize::from(opt >> 6) + 1)
        } else {
            None
        },
        skip_rows: usize::from(opt >> 7),
        missing: vec!["-".into(), "n.d.".into()],
        sheet: None,
        layer: None,
    };
    let _ = read_csv_bytes(Path::new("fuzz.csv"), bytes, &opts);
}

/// The catalogue every fuzzed recipe is validated against: the demo's.
fn demo_catalog() -> Option<&'static CatalogConfig> {
    static CATALOG: OnceLock<Option<CatalogConfig>> = OnceLock::new();
    CATALOG
        .get_or_init(|| {
            CatalogConfig::parse(
                Path::new("catalog/catalog.toml"),
                include_str!("../catalog/catalog.toml"),
            )
            .ok()
        })
        .as_ref()
}

/// Recipe and catalogue readers: the text is parsed as a `dataset.toml` (then validated
/// and turned into metadata, as `portale check` does) and as a `catalog.toml`.
pub fn recipe(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = CatalogConfig::parse(Path::new("catalog.toml"), text);
    let Ok(recipe) = Recipe::parse(Path::new("/nonexistent/fuzz-recipe/dataset.toml"), text) else {
        return;
    };
    let _ = recipe.source_paths();
    let _ = recipe.source_format();
    let _ = recipe.source_options();
    let _ = recipe.max_rejected();
    let _ = recipe.output_name();
    let _ = recipe.tile_zooms();
    let _ = recipe.output_formats();
    if let Some(catalog) = demo_catalog() {
        let _ = recipe.validate(catalog);
        let _ = recipe.meta(catalog);
    }
}

fn field(name: &str, field_type: FieldType) -> Field {
    Field {
        name: name.into(),
        field_type,
        description: None,
        source: None,
        required: false,
        unique: false,
        nulls: 0,
    }
}

/// Compiles a parsed CQL2 expression against a small schema and tests it on two features
/// (one with nulls), as the OGC API items handler does.
fn cql2_check(expr: &cql2::Expr) {
    let fields = [
        field("nome", FieldType::String),
        field("alunni", FieldType::Integer),
        field("superficie", FieldType::Number),
        field("data", FieldType::Date),
        field("aggiornato", FieldType::Datetime),
        field("attiva", FieldType::Boolean),
    ];
    let schema = Schema {
        fields: &fields,
        geometry: "geometry",
    };
    let Ok(filter) = cql2::compile(expr, schema, &RequestCrs::crs84()) else {
        return;
    };
    let _ = filter.envelope();
    let full = Feature {
        fid: 1,
        geometry: Polygon::new(
            LineString::from(vec![(10.5, 43.8), (10.6, 43.8), (10.6, 43.9), (10.5, 43.8)]),
            vec![],
        )
        .into(),
        properties: vec![
            Some(Value::Str("Scuola Carducci".into())),
            Some(Value::Int(120)),
            Some(Value::Num(1234.5)),
            chrono::NaiveDate::from_ymd_opt(2024, 3, 1).map(Value::Date),
            chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
                .and_then(|d| d.and_hms_opt(12, 30, 0))
                .map(Value::Timestamp),
            Some(Value::Bool(true)),
        ],
    };
    let empty = Feature {
        fid: 2,
        geometry: Point::new(10.55, 43.85).into(),
        properties: vec![None; fields.len()],
    };
    let _ = filter.test(&full);
    let _ = filter.test(&empty);
}

/// CQL2 text parser (`filter-lang=cql2-text`), then compiled and evaluated.
pub fn cql2_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = cql2::parse_text(text) {
        cql2_check(&expr);
    }
}

/// CQL2 JSON parser (`filter-lang=cql2-json`), then compiled and evaluated.
pub fn cql2_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(expr) = cql2::parse_json(text) {
        cql2_check(&expr);
    }
}

/// Three packages to search, built once.
fn ckan_index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let date = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 1, d)
                .and_then(|d| d.and_hms_opt(10, 0, 0))
                .unwrap_or_default()
        };
        let doc = |id: &str, title: &str, tags: &[&str], formats: &[&str], day: u32| {
            let mut d = SearchDoc::default();
            d.id = format!("00000000-0000-0000-0000-00000000000{day}");
            d.name = id.into();
            d.title = title.into();
            d.url = format!("http://127.0.0.1:8080/dataset/{id}");
            d.organization = Some((
                "comune-di-capannori".into(),
                "Comune di Capannori".into(),
                "c_b648".into(),
            ));
            d.groups = vec![("gove".into(), "Governo e settore pubblico".into())];
            d.tags = tags.iter().map(|t| t.to_string()).collect();
            d.res_formats = formats.iter().map(|t| t.to_string()).collect();
            d.res_urls = vec![format!("http://127.0.0.1:8080/dataset/{id}/{id}.csv")];
            d.license_id = "CC-BY-4.0".into();
            d.extras = vec![("theme".into(), "[\"GOVE\"]".into())];
            d.metadata_modified = date(day);
            d.metadata_created = date(day);
            d.num_resources = formats.len() as i64;
            d.num_tags = tags.len() as i64;
            (
                d,
                DocText {
                    notes: format!("{title}: dati del Comune di Capannori, aggiornati."),
                    res_names: vec![format!("{id}.csv")],
                    res_descriptions: vec!["Tabella in formato CSV".into()],
                },
            )
        };
        SearchIndex::new(vec![
            doc(
                "scuole-statali",
                "Scuole statali",
                &["scuole", "istruzione"],
                &["CSV", "GeoJSON"],
                1,
            ),
            doc(
                "permessi-edilizi",
                "Permessi edilizi",
                &["edilizia"],
                &["CSV"],
                2,
            ),
            doc(
                "confine-comunale",
                "Confine comunale",
                &["confini", "territorio"],
                &["GeoJSON", "PMTiles"],
                3,
            ),
        ])
    })
}

/// CKAN `package_search` query parsers: the first line is `q`, the second `sort`, every
/// further line one `fq`; facets on tags and formats.
pub fn ckan_fq(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let q = lines.next().map(str::to_string);
    let sort = lines.next().filter(|s| !s.is_empty()).map(str::to_string);
    let req = SearchRequest {
        q,
        fq: lines.map(str::to_string).collect(),
        sort,
        start: 0,
        rows: 10,
        facet_fields: vec!["tags".into(), "res_format".into(), "organization".into()],
        facet_limit: 50,
        facet_mincount: 1,
    };
    let _ = ckan_index().search(&req);
}

/// PMTiles reading as the server does it (`src/server/tiles.rs`): the bytes are written to
/// a file, memory-mapped with a directory cache, and the header, metadata and the tiles of
/// zooms 0–2 (compressed and decompressed) are read.
pub fn pmtiles_read(data: &[u8]) {
    use pmtiles::{AsyncPmTilesReader, HashMapCache, MmapBackend, TileCoord};
    static DIR: OnceLock<Option<tempfile::TempDir>> = OnceLock::new();
    let Some(dir) = DIR.get_or_init(|| tempfile::tempdir().ok()) else {
        return;
    };
    // One file per thread: the stable test may run harnesses in parallel.
    let path = dir
        .path()
        .join(format!("{:?}.pmtiles", std::thread::current().id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    rt.block_on(async {
        let Ok(reader) = AsyncPmTilesReader::<MmapBackend, HashMapCache>::new_with_cached_path(
            HashMapCache::default(),
            &path,
        )
        .await
        else {
            return;
        };
        let header = reader.get_header();
        let (min, max) = (header.min_zoom, header.max_zoom);
        let _ = reader.get_metadata().await;
        for z in 0..=2u8 {
            for x in 0..(1u32 << z) {
                for y in 0..(1u32 << z) {
                    let Ok(coord) = TileCoord::new(z, x, y) else {
                        continue;
                    };
                    let _ = reader.get_tile(coord).await;
                    let _ = reader.get_tile_decompressed(coord).await;
                }
            }
        }
        for z in [min, max] {
            if let Ok(coord) = TileCoord::new(z.min(31), 0, 0) {
                let _ = reader.get_tile_decompressed(coord).await;
            }
        }
    });
    let _ = std::fs::remove_file(&path);
}

/// Reads geometries from bytes: a zoom byte, then per geometry a kind byte and a count,
/// then coordinates as two `i16` offsets around Capannori, scaled by the kind byte's high
/// bits (from a decimetre to the world, capped to a few tiles at the zoom). Geometries stay inside WGS84 bounds, as the
/// geometry step guarantees for real layers.
fn decode_geometries(data: &[u8]) -> (u8, Vec<Option<Geometry<f64>>>) {
    let mut bytes = data.iter().copied();
    let zoom = bytes.next().unwrap_or(0) % (crate::tiles::MAX_ZOOM + 1);
    // At most about 8 tiles across at the zoom tiled, so that one input stays fast.
    let widest = 360.0 / f64::from(1u32 << zoom) * 8.0 / 32768.0;
    let mut geoms = Vec::new();
    while let (Some(kind), Some(count)) = (bytes.next(), bytes.next()) {
        let scale = [1e-6_f64, 1e-4, 1e-2, 0.1, 1.0, 5.5][usize::from(kind >> 5) % 6].min(widest);
        let mut coord = || -> Option<Coord<f64>> {
            let x = i16::from_le_bytes([bytes.next()?, bytes.next()?]);
            let y = i16::from_le_bytes([bytes.next()?, bytes.next()?]);
            Some(Coord {
                x: (10.6 + f64::from(x) * scale).clamp(-180.0, 180.0),
                y: (43.85 + f64::from(y) * scale).clamp(-85.0, 85.0),
            })
        };
        let n = usize::from(count % 64);
        let coords: Vec<Coord<f64>> = (0..n).map_while(|_| coord()).collect();
        let geom: Option<Geometry<f64>> = match kind % 5 {
            0 => coords.first().map(|&c| Point(c).into()),
            1 => Some(MultiPoint(coords.into_iter().map(Point).collect()).into()),
            2 => Some(LineString(coords).into()),
            3 => {
                let mut ring = coords;
                if let Some(&first) = ring.first() {
                    ring.push(first);
                }
                Some(Polygon::new(LineString(ring), vec![]).into())
            }
            _ => {
                // A polygon with a hole: the second half of the points.
                let mut outer = coords;
                let mut inner = outer.split_off(outer.len() / 2);
                for ring in [&mut outer, &mut inner] {
                    if let Some(&first) = ring.first() {
                        ring.push(first);
                    }
                }
                Some(Polygon::new(LineString(outer), vec![LineString(inner)]).into())
            }
        };
        geoms.push(if kind & 16 != 0 { None } else { geom });
    }
    (zoom, geoms)
}

/// The tiler and MVT encoder on geometries decoded from the bytes, at two zooms chosen by
/// the first byte.
pub fn mvt_encode(data: &[u8]) {
    let (max, geoms) = decode_geometries(data);
    let min = max.saturating_sub(1);
    if let Err(crate::tiles::TileError::Internal(e)) =
        crate::tiles::tile_geometries("fuzz", &geoms, min, max)
    {
        // Internal errors are bugs (a tiling thread panicked, gzip failed), not answers.
        panic!("tiler internal error: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometries_decode_as_documented() {
        // Zoom 20 → 20 % 17 = 3; a point at offset (100, -50) with the smallest scale
        // (1e-6°); then a hidden (flag 16) line; then a truncated coordinate, ignored.
        let mut data = vec![20u8, 0, 1];
        data.extend(100i16.to_le_bytes());
        data.extend((-50i16).to_le_bytes());
        data.extend([2 | 16, 2, 0, 0, 0, 0, 1, 0, 1, 0]);
        data.extend([0, 1, 7]);
        let (zoom, geoms) = decode_geometries(&data);
        assert_eq!(zoom, 3);
        assert_eq!(geoms.len(), 3);
        let Some(Geometry::Point(p)) = &geoms[0] else {
            panic!("point expected, got {:?}", geoms[0]);
        };
        assert!((p.x() - (10.6 + 100.0 * 1e-6)).abs() < 1e-12);
        assert!((p.y() - (43.85 - 50.0 * 1e-6)).abs() < 1e-12);
        assert_eq!(geoms[1], None);
        assert_eq!(geoms[2], None, "a point without coordinates is no geometry");
    }

    #[test]
    fn a_square_around_capannori_makes_tiles() {
        // A 0.02° square (scale 1e-4, ±100 units) at zoom 10: it lies in one or two tiles
        // per zoom, and the harness tiles zooms 9 and 10.
        let mut data = vec![10u8, 3 | (1 << 5), 4];
        for (x, y) in [(-100i16, -100i16), (100, -100), (100, 100), (-100, 100)] {
            data.extend(x.to_le_bytes());
            data.extend(y.to_le_bytes());
        }
        let (zoom, geoms) = decode_geometries(&data);
        let tiles = crate::tiles::tile_geometries("t", &geoms, zoom - 1, zoom).unwrap();
        assert!(tiles.iter().any(|(c, _)| c.z() == 9));
        assert!(tiles.iter().any(|(c, _)| c.z() == 10));
        assert!(tiles.iter().all(|(_, len)| *len > 0));
        mvt_encode(&data);
    }
}
