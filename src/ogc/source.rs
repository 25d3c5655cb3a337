//! The feature source of a collection: the layer's FlatGeobuf file, as `portale build`
//! wrote it (WGS84 lon/lat, features in Hilbert order with a packed R-tree, first column
//! `fid` = the row number). The OGC API core reads it through [`LayerFile`] and nothing
//! else: no request ever loads a whole layer.
//!
//! * The file is memory-mapped on the first request of a generation; its header is read
//!   and its R-tree copied into memory once (40 bytes a node). Features are read in place
//!   from the map, one flatbuffer at a time.
//! * A query with a bounding box asks the R-tree for the features whose envelope meets
//!   the box, then tests each candidate exactly; without one it walks the file. Matches
//!   come in file order, so paging with `offset` is stable within a generation.
//! * For a plain `bbox` the exact test rarely decodes anything: a candidate whose
//!   envelope (the tree's leaf) lies in the box, or with a vertex in it, meets the box;
//!   only the others are decoded and tested with geo's `Intersects`. Only the features of
//!   the page are decoded whole.
//! * Without any filter, `numberMatched` is the header's feature count and a page at
//!   `offset` starts right at that feature (the leaf of feature *k* holds its offset).
//! * `items/{fid}` uses fid → position (4 bytes a feature), built lazily once per layer
//!   and generation by one pass over the fids.
//!
//! Pitfalls:
//! * The `flatgeobuf` crate decodes properties only for features read through its own
//!   iterators (`FgbFeature` cannot be built from bytes), so [`LayerFile::properties`]
//!   walks FlatGeobuf's property encoding itself; geometries go through the crate.
//! * Rows without a geometry are not in the file (the writer leaves them out), so fids have
//!   gaps; a fid that is not there is a 404, not an error.
//! * Dates are stored as ISO text; the manifest's field types say which columns are dates
//!   and which datetimes ([`super::value`]).

use std::fs::File;
use std::io::{self, Cursor};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flatgeobuf::packed_r_tree::PackedRTree;
use flatgeobuf::{ColumnType, FgbReader, GeometryType};
use geo::Intersects;
use geo_types::{Coord, Geometry, Rect};
use geozero::error::GeozeroError;
use geozero::geo_types::GeoWriter;
use geozero::{ColumnValue, GeomProcessor};
use memmap2::Mmap;

use super::value::{Value, parse_date, parse_timestamp};
use crate::model::{Field, FieldType};

/// A failure to read a layer file: always a server-side problem (the build wrote it).
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("{}: {context}: {source}", .path.display())]
    Io {
        path: PathBuf,
        context: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("{}: {context}: {source}", .path.display())]
    Fgb {
        path: PathBuf,
        context: String,
        #[source]
        source: flatgeobuf::Error,
    },
    #[error("{}: {context}: {source}", .path.display())]
    Decode {
        path: PathBuf,
        context: String,
        #[source]
        source: GeozeroError,
    },
    #[error("{}: {problem}", .path.display())]
    Invalid { path: PathBuf, problem: String },
}

/// One feature: its fid, WGS84 geometry and properties in the order of the dataset's
/// fields (`None` for a null).
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub fid: u64,
    pub geometry: Geometry<f64>,
    pub properties: Vec<Option<Value>>,
}

/// A feature of a page: fid and properties decoded, the geometry left in the mapped file
/// until it is written.
#[derive(Debug)]
pub struct Found<'a> {
    pub fid: u64,
    pub properties: Vec<Option<Value>>,
    geometry: flatgeobuf::Geometry<'a>,
    geometry_type: GeometryType,
}

impl Found<'_> {
    /// Streams the WGS84 geometry into `processor` straight from the file.
    pub fn process_geometry<P: GeomProcessor>(
        &self,
        processor: &mut P,
    ) -> Result<(), GeozeroError> {
        self.geometry.process(processor, self.geometry_type)
    }

    /// Coordinate pairs in the geometry (to size the output).
    pub fn coordinate_count(&self) -> usize {
        fn count(g: &flatgeobuf::Geometry<'_>) -> usize {
            g.xy().map_or(0, |xy| xy.len() / 2)
                + g.parts()
                    .map_or(0, |parts| parts.iter().map(|p| count(&p)).sum())
        }
        count(&self.geometry)
    }

    /// The WGS84 geometry as a `geo` geometry.
    pub fn decode_geometry(&self) -> Result<Geometry<f64>, GeozeroError> {
        let mut writer = GeoWriter::new();
        self.process_geometry(&mut writer)?;
        writer.take_geometry().ok_or(GeozeroError::GeometryFormat)
    }
}

/// One page of a query.
#[derive(Debug)]
pub struct Page<'a> {
    /// Features matching the query in the whole layer.
    pub matched: u64,
    /// The features from `offset`, at most `limit`.
    pub features: Vec<Found<'a>>,
}

/// What a query keeps: an envelope for the R-tree and an exact test.
pub struct Selection<'a> {
    /// WGS84 envelope every match must meet; `None` reads every feature.
    pub envelope: Option<Rect<f64>>,
    /// The whole test is "the geometry meets `envelope`" (a CRS84 `bbox` and nothing
    /// else): a candidate whose envelope lies inside it, or with a vertex inside it,
    /// matches without decoding, and `test` is not called.
    pub envelope_is_the_test: bool,
    /// The exact test; `None` keeps every candidate.
    pub test: Option<&'a dyn Fn(&Feature) -> bool>,
    /// Whether `test` looks at the geometry. When it does not, candidates are tested on
    /// their fid and properties, and the [`Feature`] it sees carries an empty geometry
    /// (decoding every polygon of a layer to compare a name costs three times more).
    pub test_needs_geometry: bool,
    /// The properties `test` reads (one flag per field); `None` for all. The others are
    /// left `None` in the [`Feature`] it sees (converting every column of every feature,
    /// strings included, costs several times more than walking past them).
    pub test_fields: Option<&'a [bool]>,
}

/// Facts from the file header, read once.
#[derive(Debug)]
struct LayerInfo {
    count: u64,
    node_size: u16,
    geometry_type: GeometryType,
    /// Byte offset of the R-tree (right after the header).
    index_start: usize,
    /// Byte offset of the first feature.
    features_start: usize,
    /// For every column of the file: its type, the field slot it fills and how to read it.
    columns: Vec<(ColumnType, Slot)>,
    fid_column: usize,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Fid,
    Field(usize, FieldType),
    Ignored,
}

/// The mapped file, its header and its R-tree, read once per layer and generation.
struct Mapped {
    map: Mmap,
    info: LayerInfo,
    tree: Option<PackedRTree>,
    /// Position (file order) of the feature with fid `f`, `u32::MAX` when absent; built
    /// on the first `items/{fid}`.
    position_of_fid: OnceLock<Result<Vec<u32>, String>>,
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapped")
            .field("bytes", &self.map.len())
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A layer's FlatGeobuf file.
#[derive(Debug)]
pub struct LayerFile {
    path: PathBuf,
    fields: Vec<Field>,
    mapped: OnceLock<Result<Mapped, String>>,
}

/// One feature's flatbuffer in the mapped file, and where it is.
struct Raw<'a> {
    position: usize,
    feature: flatgeobuf::Feature<'a>,
}

impl LayerFile {
    /// A layer file and the dataset fields its columns hold. Nothing is read yet.
    pub fn new(path: PathBuf, fields: Vec<Field>) -> LayerFile {
        LayerFile {
            path,
            fields,
            mapped: OnceLock::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn invalid(&self, problem: impl Into<String>) -> LayerError {
        LayerError::Invalid {
            path: self.path.clone(),
            problem: problem.into(),
        }
    }

    fn fgb_error(
        &self,
        context: impl Into<String>,
    ) -> impl FnOnce(flatgeobuf::Error) -> LayerError {
        let path = self.path.clone();
        let context = context.into();
        move |source| LayerError::Fgb {
            path,
            context,
            source,
        }
    }

    fn decode_error(&self, position: usize) -> impl FnOnce(GeozeroError) -> LayerError {
        let path = self.path.clone();
        move |source| LayerError::Decode {
            path,
            context: format!("feature {position}"),
            source,
        }
    }

    fn mapped(&self) -> Result<&Mapped, LayerError> {
        self.mapped
            .get_or_init(|| self.map().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|problem| self.invalid(problem.clone()))
    }

    fn map(&self) -> Result<Mapped, LayerError> {
        let file = File::open(&self.path).map_err(|source| LayerError::Io {
            path: self.path.clone(),
            context: "opening the layer",
            source,
        })?;
        // SAFETY: the build never rewrites a published file (a new generation gets new
        // files, old generations are removed whole, after readers have moved on), so the
        // mapped bytes do not change under us.
        let map = unsafe { Mmap::map(&file) }.map_err(|source| LayerError::Io {
            path: self.path.clone(),
            context: "mapping the layer",
            source,
        })?;
        let info = self.read_info(&map)?;
        let tree = if info.count > 0 {
            let count =
                usize::try_from(info.count).map_err(|_| self.invalid("too many features"))?;
            let index = map
                .get(info.index_start..info.features_start)
                .ok_or_else(|| self.invalid("the file ends inside the spatial index"))?;
            Some(
                PackedRTree::from_buf(index, count, info.node_size)
                    .map_err(self.fgb_error("reading the index"))?,
            )
        } else {
            None
        };
        Ok(Mapped {
            map,
            info,
            tree,
            position_of_fid: OnceLock::new(),
        })
    }

    fn read_info(&self, map: &[u8]) -> Result<LayerInfo, LayerError> {
        let prefix = map
            .get(8..12)
            .ok_or_else(|| self.invalid("shorter than a FlatGeobuf header"))?;
        let header_size = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let reader =
            FgbReader::open(Cursor::new(map)).map_err(self.fgb_error("reading the header"))?;
        let header = reader.header();
        let count = header.features_count();
        let node_size = header.index_node_size();
        if count > 0 && node_size == 0 {
            return Err(self.invalid("features without a spatial index"));
        }
        let index_size = if node_size > 0 && count > 0 {
            PackedRTree::index_size(
                usize::try_from(count).map_err(|_| self.invalid("too many features"))?,
                node_size,
            )
        } else {
            0
        };
        let mut columns = Vec::new();
        let mut fid_column = None;
        for (i, c) in header.columns().iter().flatten().enumerate() {
            let slot = if fid_column.is_none() && c.primary_key() && is_integer(c.type_()) {
                fid_column = Some(i);
                Slot::Fid
            } else {
                match self.fields.iter().position(|f| f.name == c.name()) {
                    Some(j) => Slot::Field(j, self.fields[j].field_type),
                    None => Slot::Ignored,
                }
            };
            columns.push((c.type_(), slot));
        }
        let fid_column = fid_column.ok_or_else(|| {
            self.invalid(
                "no fid column (an integer primary key): rebuild the site with this Portale",
            )
        })?;
        let index_start = 12 + header_size as usize;
        Ok(LayerInfo {
            count,
            node_size,
            geometry_type: header.geometry_type(),
            index_start,
            features_start: index_start + index_size,
            columns,
            fid_column,
        })
    }

    /// Features in the file.
    pub fn count(&self) -> Result<u64, LayerError> {
        Ok(self.mapped()?.info.count)
    }

    /// The leaf of the R-tree for feature `position`: its envelope and byte offset from
    /// the start of the feature section. Leaves are the last `count` nodes of the tree,
    /// in file order.
    fn leaf(&self, m: &Mapped, position: usize) -> Result<(Rect<f64>, usize), LayerError> {
        const NODE: usize = 40;
        let count = m.info.count as usize;
        let nodes = (m.info.features_start - m.info.index_start) / NODE;
        let at = nodes
            .checked_sub(count)
            .map(|first_leaf| m.info.index_start + (first_leaf + position) * NODE)
            .ok_or_else(|| self.invalid("the spatial index has fewer nodes than features"))?;
        let bytes = m
            .map
            .get(at..at + NODE)
            .ok_or_else(|| self.invalid(format!("no index leaf for feature {position}")))?;
        let f = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            b
        };
        let rect = Rect::new(
            Coord {
                x: f64::from_le_bytes(f(0)),
                y: f64::from_le_bytes(f(1)),
            },
            Coord {
                x: f64::from_le_bytes(f(2)),
                y: f64::from_le_bytes(f(3)),
            },
        );
        let offset = usize::try_from(u64::from_le_bytes(f(4)))
            .map_err(|_| self.invalid(format!("feature {position}: offset out of range")))?;
        Ok((rect, offset))
    }

    /// The feature starting `offset` bytes into the feature section, and the offset of
    /// the next one.
    fn raw<'m>(
        &self,
        m: &'m Mapped,
        position: usize,
        offset: usize,
    ) -> Result<(Raw<'m>, usize), LayerError> {
        let start = m.info.features_start + offset;
        let size = m
            .map
            .get(start..start + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or_else(|| self.invalid(format!("feature {position} is past the end")))?;
        let bytes = m
            .map
            .get(start..start + 4 + size)
            .ok_or_else(|| self.invalid(format!("feature {position} is cut short")))?;
        let feature = flatgeobuf::size_prefixed_root_as_feature(bytes)
            .map_err(|e| self.invalid(format!("feature {position}: {e}")))?;
        Ok((Raw { position, feature }, offset + 4 + size))
    }

    /// The whole feature: geometry and properties.
    fn decode(&self, m: &Mapped, raw: &Raw<'_>) -> Result<Feature, LayerError> {
        let geometry = self.geometry(m, raw)?;
        let (fid, properties) = self.fid_and_properties(m, raw)?;
        Ok(Feature {
            fid,
            geometry,
            properties,
        })
    }

    /// The feature as `selection`'s test needs it (geometry or an empty one, every
    /// property or some), and whether it is whole (then its properties can be reused for
    /// the page).
    fn decode_for(
        &self,
        m: &Mapped,
        raw: &Raw<'_>,
        selection: &Selection<'_>,
    ) -> Result<(Feature, bool), LayerError> {
        let (fid, properties) = self.fid_and_properties_of(m, raw, selection.test_fields)?;
        let geometry = if selection.test_needs_geometry {
            self.geometry(m, raw)?
        } else {
            Geometry::GeometryCollection(geo_types::GeometryCollection::default())
        };
        let whole = selection.test_needs_geometry && selection.test_fields.is_none();
        Ok((
            Feature {
                fid,
                geometry,
                properties,
            },
            whole,
        ))
    }

    /// A page feature: properties decoded, geometry in place.
    fn found<'m>(
        &self,
        m: &'m Mapped,
        raw: &Raw<'m>,
        decoded: Option<Feature>,
    ) -> Result<Found<'m>, LayerError> {
        let geometry = raw
            .feature
            .geometry()
            .ok_or_else(|| self.invalid(format!("feature {} has no geometry", raw.position)))?;
        let (fid, properties) = match decoded {
            Some(f) => (f.fid, f.properties),
            None => self.fid_and_properties(m, raw)?,
        };
        Ok(Found {
            fid,
            properties,
            geometry,
            geometry_type: m.info.geometry_type,
        })
    }

    fn fid_and_properties(
        &self,
        m: &Mapped,
        raw: &Raw<'_>,
    ) -> Result<(u64, Vec<Option<Value>>), LayerError> {
        self.fid_and_properties_of(m, raw, None)
    }

    /// The fid and the properties flagged in `wanted` (all when `None`; the others are
    /// left `None`).
    fn fid_and_properties_of(
        &self,
        m: &Mapped,
        raw: &Raw<'_>,
        wanted: Option<&[bool]>,
    ) -> Result<(u64, Vec<Option<Value>>), LayerError> {
        let mut fid = None;
        let mut values = vec![None; self.fields.len()];
        self.properties(m, raw, |column, value| {
            match m.info.columns.get(column).map(|c| c.1) {
                Some(Slot::Fid) => fid = integer_of(&value),
                Some(Slot::Field(slot, field_type)) => {
                    if wanted.is_none_or(|w| w.get(slot).copied().unwrap_or(false))
                        && let Some(v) = values.get_mut(slot)
                    {
                        *v = convert(&value, field_type);
                    }
                }
                Some(Slot::Ignored) | None => {}
            }
            false
        })?;
        let fid =
            fid.ok_or_else(|| self.invalid(format!("feature {} has no fid", raw.position)))?;
        Ok((fid, values))
    }

    fn geometry(&self, m: &Mapped, raw: &Raw<'_>) -> Result<Geometry<f64>, LayerError> {
        let g = raw
            .feature
            .geometry()
            .ok_or_else(|| self.invalid(format!("feature {} has no geometry", raw.position)))?;
        let mut writer = GeoWriter::new();
        g.process(&mut writer, m.info.geometry_type)
            .map_err(self.decode_error(raw.position))?;
        writer
            .take_geometry()
            .ok_or_else(|| self.invalid(format!("feature {} has an empty geometry", raw.position)))
    }

    /// Walks the properties of a feature (FlatGeobuf's encoding: a little-endian `u16`
    /// column index, then the value in the column's type; strings, JSON and datetimes
    /// with a `u32` length), calling `visit` until it returns `true`. The crate reads them
    /// only for features it read itself.
    fn properties(
        &self,
        m: &Mapped,
        raw: &Raw<'_>,
        mut visit: impl FnMut(usize, ColumnValue<'_>) -> bool,
    ) -> Result<(), LayerError> {
        let Some(props) = raw.feature.properties() else {
            return Ok(());
        };
        let bytes = props.bytes();
        let bad = |what: &str| self.invalid(format!("feature {}: {what}", raw.position));
        let take = |at: &mut usize, n: usize| -> Result<&[u8], LayerError> {
            let s = bytes
                .get(*at..*at + n)
                .ok_or_else(|| bad("properties cut short"))?;
            *at += n;
            Ok(s)
        };
        let mut at = 0usize;
        // A trailing byte after the last value is tolerated, as the crate does.
        while at + 1 < bytes.len() {
            let c = take(&mut at, 2)?;
            let column = usize::from(u16::from_le_bytes([c[0], c[1]]));
            let (column_type, _) = *m.info.columns.get(column).ok_or_else(|| {
                bad(&format!(
                    "property of column {column}, which is not in the header"
                ))
            })?;
            macro_rules! le {
                ($t:ty, $n:expr) => {{
                    let s = take(&mut at, $n)?;
                    let mut b = [0u8; $n];
                    b.copy_from_slice(s);
                    <$t>::from_le_bytes(b)
                }};
            }
            let text = |at: &mut usize| -> Result<&str, LayerError> {
                let l = take(at, 4)?;
                let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                std::str::from_utf8(take(at, len)?).map_err(|_| bad("a string that is not UTF-8"))
            };
            let value = match column_type {
                ColumnType::Byte => ColumnValue::Byte(le!(i8, 1)),
                ColumnType::UByte => ColumnValue::UByte(le!(u8, 1)),
                ColumnType::Bool => ColumnValue::Bool(le!(u8, 1) != 0),
                ColumnType::Short => ColumnValue::Short(le!(i16, 2)),
                ColumnType::UShort => ColumnValue::UShort(le!(u16, 2)),
                ColumnType::Int => ColumnValue::Int(le!(i32, 4)),
                ColumnType::UInt => ColumnValue::UInt(le!(u32, 4)),
                ColumnType::Long => ColumnValue::Long(le!(i64, 8)),
                ColumnType::ULong => ColumnValue::ULong(le!(u64, 8)),
                ColumnType::Float => ColumnValue::Float(le!(f32, 4)),
                ColumnType::Double => ColumnValue::Double(le!(f64, 8)),
                ColumnType::String => ColumnValue::String(text(&mut at)?),
                ColumnType::Json => ColumnValue::Json(text(&mut at)?),
                ColumnType::DateTime => ColumnValue::DateTime(text(&mut at)?),
                ColumnType::Binary => {
                    let l = take(&mut at, 4)?;
                    let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    ColumnValue::Binary(take(&mut at, len)?)
                }
                other => return Err(bad(&format!("unsupported column type {other:?}"))),
            };
            if visit(column, value) {
                break;
            }
        }
        Ok(())
    }

    fn fid_of(&self, m: &Mapped, raw: &Raw<'_>) -> Result<u64, LayerError> {
        let mut fid = None;
        self.properties(m, raw, |column, value| {
            if column == m.info.fid_column {
                fid = integer_of(&value);
                true
            } else {
                false
            }
        })?;
        fid.ok_or_else(|| self.invalid(format!("feature {} has no fid", raw.position)))
    }

    fn position_of_fid<'m>(&self, m: &'m Mapped) -> Result<&'m [u32], LayerError> {
        m.position_of_fid
            .get_or_init(|| {
                let mut positions: Vec<u32> = Vec::new();
                let mut offset = 0usize;
                for position in 0..m.info.count as usize {
                    let (raw, next) = self.raw(m, position, offset).map_err(|e| e.to_string())?;
                    let fid = self.fid_of(m, &raw).map_err(|e| e.to_string())?;
                    let fid = usize::try_from(fid).map_err(|_| "fid out of range".to_string())?;
                    if fid >= positions.len() {
                        positions.resize(fid + 1, u32::MAX);
                    }
                    positions[fid] =
                        u32::try_from(position).map_err(|_| "too many features".to_string())?;
                    offset = next;
                }
                positions.shrink_to_fit();
                Ok(positions)
            })
            .as_deref()
            .map_err(|problem| self.invalid(problem.clone()))
    }

    /// The feature with `fid`, if the layer has it.
    pub fn feature(&self, fid: u64) -> Result<Option<Feature>, LayerError> {
        let m = self.mapped()?;
        let Some(position) = usize::try_from(fid)
            .ok()
            .and_then(|f| {
                self.position_of_fid(m)
                    .map(|p| p.get(f).copied())
                    .transpose()
            })
            .transpose()?
            .filter(|p| *p != u32::MAX)
        else {
            return Ok(None);
        };
        let position = position as usize;
        let (_, offset) = self.leaf(m, position)?;
        let (raw, _) = self.raw(m, position, offset)?;
        let feature = self.decode(m, &raw)?;
        Ok(Some(feature).filter(|f| f.fid == fid))
    }

    /// Runs a query: the features `selection` keeps, in file order, from `offset`, at most
    /// `limit`, and how many there are in all.
    pub fn query<'s>(
        &'s self,
        selection: &Selection<'_>,
        offset: u64,
        limit: usize,
    ) -> Result<Page<'s>, LayerError> {
        let m = self.mapped()?;
        let count = m.info.count as usize;
        let mut features = Vec::new();
        if selection.envelope.is_none() && selection.test.is_none() {
            if let Ok(start) = usize::try_from(offset)
                && start < count
                && limit > 0
            {
                let (_, mut at) = self.leaf(m, start)?;
                for position in start..count.min(start.saturating_add(limit)) {
                    let (raw, next) = self.raw(m, position, at)?;
                    features.push(self.found(m, &raw, None)?);
                    at = next;
                }
            }
            return Ok(Page {
                matched: m.info.count,
                features,
            });
        }
        let mut matched = 0u64;
        let mut keep = |raw: &Raw<'s>, decoded: Option<Feature>, features: &mut Vec<Found<'s>>| {
            if matched >= offset && features.len() < limit {
                features.push(self.found(m, raw, decoded)?);
            }
            matched += 1;
            Ok::<_, LayerError>(())
        };
        match (selection.envelope, &m.tree) {
            (_, None) => {}
            (Some(r), Some(tree)) => {
                let mut hits = tree
                    .search(r.min().x, r.min().y, r.max().x, r.max().y)
                    .map_err(self.fgb_error("searching the index"))?;
                hits.sort_unstable_by_key(|h| h.index);
                for hit in hits {
                    let (envelope, at) = self.leaf(m, hit.index)?;
                    let (raw, _) = self.raw(m, hit.index, at)?;
                    if selection.envelope_is_the_test {
                        let meets = within(&envelope, &r)
                            || raw
                                .feature
                                .geometry()
                                .is_some_and(|g| vertex_inside(&g, &r))
                            || self.geometry(m, &raw)?.intersects(&r);
                        if meets {
                            keep(&raw, None, &mut features)?;
                        }
                    } else {
                        let (feature, whole) = self.decode_for(m, &raw, selection)?;
                        if selection.test.is_none_or(|t| t(&feature)) {
                            keep(&raw, whole.then_some(feature), &mut features)?;
                        }
                    }
                }
            }
            (None, Some(_)) => {
                let mut at = 0usize;
                for position in 0..count {
                    let (raw, next) = self.raw(m, position, at)?;
                    at = next;
                    let (feature, whole) = self.decode_for(m, &raw, selection)?;
                    if selection.test.is_none_or(|t| t(&feature)) {
                        keep(&raw, whole.then_some(feature), &mut features)?;
                    }
                }
            }
        }
        Ok(Page { matched, features })
    }
}

/// Whether `a` lies in `b`, boundaries included.
fn within(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x >= b.min().x
        && a.min().y >= b.min().y
        && a.max().x <= b.max().x
        && a.max().y <= b.max().y
}

/// Whether a vertex of `g` (any part) lies in `r`: then `g` meets `r`, whatever its type.
fn vertex_inside(g: &flatgeobuf::Geometry<'_>, r: &Rect<f64>) -> bool {
    if let Some(xy) = g.xy() {
        let (min, max) = (r.min(), r.max());
        let n = xy.len() / 2;
        for i in 0..n {
            let (x, y) = (xy.get(2 * i), xy.get(2 * i + 1));
            if x >= min.x && x <= max.x && y >= min.y && y <= max.y {
                return true;
            }
        }
    }
    g.parts()
        .is_some_and(|parts| parts.iter().any(|p| vertex_inside(&p, r)))
}

fn is_integer(t: ColumnType) -> bool {
    matches!(
        t,
        ColumnType::Long | ColumnType::Int | ColumnType::ULong | ColumnType::UInt
    )
}

fn integer_of(value: &ColumnValue<'_>) -> Option<u64> {
    match *value {
        ColumnValue::Long(v) => u64::try_from(v).ok(),
        ColumnValue::Int(v) => u64::try_from(v).ok(),
        ColumnValue::ULong(v) => Some(v),
        ColumnValue::UInt(v) => Some(u64::from(v)),
        _ => None,
    }
}

fn convert(value: &ColumnValue<'_>, field_type: FieldType) -> Option<Value> {
    Some(match *value {
        ColumnValue::Bool(v) => Value::Bool(v),
        ColumnValue::Byte(v) => Value::Int(i64::from(v)),
        ColumnValue::UByte(v) => Value::Int(i64::from(v)),
        ColumnValue::Short(v) => Value::Int(i64::from(v)),
        ColumnValue::UShort(v) => Value::Int(i64::from(v)),
        ColumnValue::Int(v) => Value::Int(i64::from(v)),
        ColumnValue::UInt(v) => Value::Int(i64::from(v)),
        ColumnValue::Long(v) => Value::Int(v),
        ColumnValue::ULong(v) => i64::try_from(v).map_or(Value::Num(v as f64), Value::Int),
        ColumnValue::Float(v) => Value::Num(f64::from(v)),
        ColumnValue::Double(v) => Value::Num(v),
        ColumnValue::String(s) | ColumnValue::Json(s) | ColumnValue::DateTime(s) => {
            match field_type {
                FieldType::Date => parse_date(s).map_or_else(|| Value::Str(s.into()), Value::Date),
                FieldType::Datetime => parse_timestamp(s)
                    .map(Value::Timestamp)
                    .or_else(|| parse_date(s).map(Value::Date))
                    .unwrap_or_else(|| Value::Str(s.into())),
                _ => Value::Str(s.to_string()),
            }
        }
        ColumnValue::Binary(_) => return None,
    })
}
