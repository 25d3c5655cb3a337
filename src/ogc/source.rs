//! The feature source of a collection: the layer's FlatGeobuf file, as `portale build`
//! wrote it (WGS84 lon/lat, features in Hilbert order with a packed R-tree, first column
//! `fid` = the row number). The OGC API core reads it through [`LayerFile`] and nothing
//! else: no request ever loads a whole layer.
//!
//! * A query with a bounding box asks the R-tree (`select_bbox`) for the features whose
//!   envelope meets the box, then tests each candidate exactly; without one it streams
//!   the file (`select_all`). Matches come in file order, so paging with `offset` is stable
//!   within a generation.
//! * Without any filter, `numberMatched` is the header's feature count and a page at
//!   `offset` starts reading right at that feature, through [`FidIndex`].
//! * [`FidIndex`] (feature position → byte offset, fid → position) is built lazily, on the
//!   first request that needs it (a deep page, `items/{fid}`), once per layer and
//!   generation: 12 bytes a feature, from the R-tree leaves and one pass over the fids.
//!
//! Pitfalls:
//! * The `flatgeobuf` crate reads features only through its iterators, which start at the
//!   first feature. To start at feature *k*, the file is read through [`Skipping`], a view
//!   of it with the bytes of the first *k* features cut out: still a valid stream for the
//!   crate, which stops at end of file.
//! * Rows without a geometry are not in the file (the writer leaves them out), so fids have
//!   gaps; a fid that is not there is a 404, not an error.
//! * `FgbReader::select_bbox` (flatgeobuf 6.0.1) walks the tree with the crate's default
//!   node size (16), not the header's: right for the files Portale writes, wrong for a
//!   FlatGeobuf written with another node size. The fid index reads the tree with the
//!   header's node size.
//! * Dates are stored as ISO text; the manifest's field types say which columns are dates
//!   and which datetimes ([`super::value`]).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flatgeobuf::packed_r_tree::PackedRTree;
use flatgeobuf::{ColumnType, FallibleStreamingIterator, FeatureProperties, FgbFeature, FgbReader};
use geo_types::{Geometry, Rect};
use geozero::error::GeozeroError;
use geozero::{ColumnValue, PropertyProcessor, ToGeo};

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

/// One page of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Features matching the query in the whole layer.
    pub matched: u64,
    /// The features from `offset`, at most `limit`.
    pub features: Vec<Feature>,
}

/// What a query keeps: an envelope for the R-tree and an exact test.
pub struct Selection<'a> {
    /// WGS84 envelope every match must meet; `None` reads every feature.
    pub envelope: Option<Rect<f64>>,
    /// The exact test; `None` keeps every candidate.
    pub test: Option<&'a dyn Fn(&Feature) -> bool>,
}

/// Facts from the file header, read once.
#[derive(Debug)]
struct LayerInfo {
    count: u64,
    node_size: u16,
    /// Byte offset of the R-tree (right after the header).
    index_start: u64,
    /// Byte offset of the first feature.
    features_start: u64,
    /// For every column of the file: the field slot it fills, and how to read it.
    columns: Vec<Slot>,
    fid_column: usize,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Fid,
    Field(usize, FieldType),
    Ignored,
}

/// Byte offsets and fids of every feature, built on demand.
#[derive(Debug)]
pub struct FidIndex {
    /// Byte offset of feature `i` (file order) from the start of the feature section.
    by_position: Vec<u64>,
    /// Position of the feature with fid `f`, `u32::MAX` when absent.
    position_of_fid: Vec<u32>,
}

/// A layer's FlatGeobuf file.
#[derive(Debug)]
pub struct LayerFile {
    path: PathBuf,
    fields: Vec<Field>,
    info: OnceLock<Result<LayerInfo, String>>,
    index: OnceLock<Result<FidIndex, String>>,
}

impl LayerFile {
    /// A layer file and the dataset fields its columns hold. Nothing is read yet.
    pub fn new(path: PathBuf, fields: Vec<Field>) -> LayerFile {
        LayerFile {
            path,
            fields,
            info: OnceLock::new(),
            index: OnceLock::new(),
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

    fn open(&self) -> Result<BufReader<File>, LayerError> {
        File::open(&self.path)
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .map_err(|source| LayerError::Io {
                path: self.path.clone(),
                context: "opening the layer",
                source,
            })
    }

    fn info(&self) -> Result<&LayerInfo, LayerError> {
        self.info
            .get_or_init(|| self.read_info().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|problem| self.invalid(problem.clone()))
    }

    fn read_info(&self) -> Result<LayerInfo, LayerError> {
        let mut file = self.open()?;
        let mut prefix = [0u8; 12];
        file.read_exact(&mut prefix)
            .map_err(|source| LayerError::Io {
                path: self.path.clone(),
                context: "reading the header",
                source,
            })?;
        let header_size = u64::from(u32::from_le_bytes([
            prefix[8], prefix[9], prefix[10], prefix[11],
        ]));
        file.seek(SeekFrom::Start(0))
            .map_err(|source| LayerError::Io {
                path: self.path.clone(),
                context: "rewinding",
                source,
            })?;
        let reader = FgbReader::open(file).map_err(self.fgb_error("reading the header"))?;
        let header = reader.header();
        let count = header.features_count();
        let node_size = header.index_node_size();
        let index_size = if node_size > 0 && count > 0 {
            PackedRTree::index_size(count as usize, node_size) as u64
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
            columns.push(slot);
        }
        let fid_column = fid_column.ok_or_else(|| {
            self.invalid(
                "no fid column (an integer primary key): rebuild the site with this Portale",
            )
        })?;
        let index_start = 12 + header_size;
        Ok(LayerInfo {
            count,
            node_size,
            index_start,
            features_start: index_start + index_size,
            columns,
            fid_column,
        })
    }

    /// Features in the file.
    pub fn count(&self) -> Result<u64, LayerError> {
        Ok(self.info()?.count)
    }

    fn index(&self) -> Result<&FidIndex, LayerError> {
        self.index
            .get_or_init(|| self.build_index().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|problem| self.invalid(problem.clone()))
    }

    fn build_index(&self) -> Result<FidIndex, LayerError> {
        let info = self.info()?;
        let count = usize::try_from(info.count).map_err(|_| self.invalid("too many features"))?;
        let mut by_position = vec![0u64; count];
        if count > 0 && info.node_size > 0 {
            let mut file = self.open()?;
            file.seek(SeekFrom::Start(info.index_start))
                .map_err(|source| LayerError::Io {
                    path: self.path.clone(),
                    context: "seeking to the index",
                    source,
                })?;
            let items = PackedRTree::stream_search(
                &mut file,
                count,
                info.node_size,
                f64::MIN,
                f64::MIN,
                f64::MAX,
                f64::MAX,
            )
            .map_err(self.fgb_error("reading the index"))?;
            for item in items {
                let slot = by_position
                    .get_mut(item.index)
                    .ok_or_else(|| self.invalid("index item beyond the feature count"))?;
                *slot = item.offset as u64;
            }
        } else if count > 0 {
            return Err(self.invalid("features without a spatial index"));
        }
        let mut position_of_fid: Vec<u32> = Vec::new();
        let reader = FgbReader::open(self.open()?).map_err(self.fgb_error("reading the header"))?;
        let mut iter = reader
            .select_all()
            .map_err(self.fgb_error("reading the features"))?;
        let mut position: u32 = 0;
        while let Some(feature) = iter
            .next()
            .map_err(self.fgb_error(format!("reading feature {position}")))?
        {
            let fid = read_fid(feature, info.fid_column)
                .map_err(|source| LayerError::Decode {
                    path: self.path.clone(),
                    context: format!("feature {position}"),
                    source,
                })?
                .ok_or_else(|| self.invalid(format!("feature {position} has no fid")))?;
            let fid = usize::try_from(fid).map_err(|_| self.invalid("fid out of range"))?;
            if fid >= position_of_fid.len() {
                position_of_fid.resize(fid + 1, u32::MAX);
            }
            position_of_fid[fid] = position;
            position += 1;
        }
        position_of_fid.shrink_to_fit();
        Ok(FidIndex {
            by_position,
            position_of_fid,
        })
    }

    /// The feature with `fid`, if the layer has it.
    pub fn feature(&self, fid: u64) -> Result<Option<Feature>, LayerError> {
        let index = self.index()?;
        let Some(position) = usize::try_from(fid)
            .ok()
            .and_then(|f| index.position_of_fid.get(f))
            .filter(|p| **p != u32::MAX)
        else {
            return Ok(None);
        };
        let mut features = self.read_from(*position as usize, 1)?;
        Ok(features.pop().filter(|f| f.fid == fid))
    }

    /// Reads up to `n` features in file order from position `start`, through the index.
    fn read_from(&self, start: usize, n: usize) -> Result<Vec<Feature>, LayerError> {
        let info = self.info()?;
        let skip = if start == 0 {
            0
        } else {
            match self.index()?.by_position.get(start) {
                Some(offset) => *offset,
                None => return Ok(Vec::new()),
            }
        };
        let view = Skipping::new(self.open()?, info.features_start, skip).map_err(|source| {
            LayerError::Io {
                path: self.path.clone(),
                context: "seeking to a feature",
                source,
            }
        })?;
        let reader = FgbReader::open(view).map_err(self.fgb_error("reading the header"))?;
        let mut iter = reader
            .select_all()
            .map_err(self.fgb_error("reading the features"))?;
        let mut out = Vec::with_capacity(n.min(1024));
        while out.len() < n {
            let Some(feature) = iter
                .next()
                .map_err(self.fgb_error(format!("reading feature {}", start + out.len())))?
            else {
                break;
            };
            out.push(self.decode(feature, info, start + out.len())?);
        }
        Ok(out)
    }

    fn decode(
        &self,
        feature: &FgbFeature,
        info: &LayerInfo,
        position: usize,
    ) -> Result<Feature, LayerError> {
        let decode_error = |source| LayerError::Decode {
            path: self.path.clone(),
            context: format!("feature {position}"),
            source,
        };
        let geometry = feature.to_geo().map_err(decode_error)?;
        let mut props = Props {
            columns: &info.columns,
            fid: None,
            values: vec![None; self.fields.len()],
        };
        feature
            .process_properties(&mut props)
            .map_err(decode_error)?;
        let fid = props
            .fid
            .ok_or_else(|| self.invalid(format!("feature {position} has no fid")))?;
        Ok(Feature {
            fid,
            geometry,
            properties: props.values,
        })
    }

    /// Runs a query: the features `selection` keeps, in file order, from `offset`, at most
    /// `limit`, and how many there are in all.
    pub fn query(
        &self,
        selection: &Selection<'_>,
        offset: u64,
        limit: usize,
    ) -> Result<Page, LayerError> {
        let info = self.info()?;
        if selection.envelope.is_none() && selection.test.is_none() {
            let features = match usize::try_from(offset) {
                Ok(start) if offset < info.count && limit > 0 => self.read_from(start, limit)?,
                _ => Vec::new(),
            };
            return Ok(Page {
                matched: info.count,
                features,
            });
        }
        let mut matched = 0u64;
        let mut features = Vec::new();
        if info.count == 0 {
            return Ok(Page { matched, features });
        }
        let reader = FgbReader::open(self.open()?).map_err(self.fgb_error("reading the header"))?;
        let mut iter = match selection.envelope {
            Some(r) if info.node_size > 0 => reader
                .select_bbox(r.min().x, r.min().y, r.max().x, r.max().y)
                .map_err(self.fgb_error("searching the index"))?,
            _ => reader
                .select_all()
                .map_err(self.fgb_error("reading the features"))?,
        };
        let mut candidate = 0usize;
        while let Some(raw) = iter
            .next()
            .map_err(self.fgb_error(format!("reading candidate {candidate}")))?
        {
            let feature = self.decode(raw, info, candidate)?;
            candidate += 1;
            if !selection.test.is_none_or(|t| t(&feature)) {
                continue;
            }
            if matched >= offset && features.len() < limit {
                features.push(feature);
            }
            matched += 1;
        }
        Ok(Page { matched, features })
    }
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

/// Reads only the fid of a feature.
fn read_fid(feature: &FgbFeature, fid_column: usize) -> Result<Option<u64>, GeozeroError> {
    struct FidOnly {
        column: usize,
        fid: Option<u64>,
    }
    impl PropertyProcessor for FidOnly {
        fn property(
            &mut self,
            idx: usize,
            _name: &str,
            value: &ColumnValue<'_>,
        ) -> geozero::error::Result<bool> {
            if idx == self.column {
                self.fid = integer_of(value);
                return Ok(true);
            }
            Ok(false)
        }
    }
    let mut p = FidOnly {
        column: fid_column,
        fid: None,
    };
    feature.process_properties(&mut p)?;
    Ok(p.fid)
}

struct Props<'a> {
    columns: &'a [Slot],
    fid: Option<u64>,
    values: Vec<Option<Value>>,
}

impl PropertyProcessor for Props<'_> {
    fn property(
        &mut self,
        idx: usize,
        _name: &str,
        value: &ColumnValue<'_>,
    ) -> geozero::error::Result<bool> {
        match self.columns.get(idx) {
            Some(Slot::Fid) => self.fid = integer_of(value),
            Some(Slot::Field(slot, field_type)) => {
                if let Some(v) = self.values.get_mut(*slot) {
                    *v = convert(value, *field_type);
                }
            }
            Some(Slot::Ignored) | None => {}
        }
        Ok(false)
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

/// A reader over a FlatGeobuf file with `skip` bytes cut out right after `data_start`
/// (the start of the feature section): the crate's iterators then begin at the feature
/// that starts `skip` bytes into the section. Positions are those of the view.
struct Skipping<R> {
    inner: R,
    data_start: u64,
    skip: u64,
    pos: u64,
}

impl<R: Read + Seek> Skipping<R> {
    fn new(mut inner: R, data_start: u64, skip: u64) -> io::Result<Skipping<R>> {
        inner.seek(SeekFrom::Start(0))?;
        Ok(Skipping {
            inner,
            data_start,
            skip,
            pos: 0,
        })
    }

    fn physical(&self, pos: u64) -> u64 {
        if pos < self.data_start {
            pos
        } else {
            pos + self.skip
        }
    }
}

impl<R: Read + Seek> Read for Skipping<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.pos < self.data_start {
            let room = usize::try_from(self.data_start - self.pos).unwrap_or(usize::MAX);
            let len = buf.len().min(room);
            self.inner.read(&mut buf[..len])?
        } else {
            self.inner.read(buf)?
        };
        let before = self.pos;
        self.pos += n as u64;
        if before < self.data_start && self.pos >= self.data_start && self.skip > 0 {
            self.inner.seek(SeekFrom::Start(self.physical(self.pos)))?;
        }
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Skipping<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => {
                let len = self.inner.seek(SeekFrom::End(0))?;
                len.saturating_sub(self.skip).checked_add_signed(d)
            }
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.inner.seek(SeekFrom::Start(self.physical(target)))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn skipping_view_cuts_bytes_after_the_data_start() {
        let bytes: Vec<u8> = (0u8..20).collect();
        let mut v = Skipping::new(Cursor::new(bytes), 4, 6).unwrap();
        let mut out = Vec::new();
        v.read_to_end(&mut out).unwrap();
        assert_eq!(out, [0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        assert_eq!(v.seek(SeekFrom::Start(2)).unwrap(), 2);
        assert_eq!(v.seek(SeekFrom::Current(3)).unwrap(), 5);
        let mut b = [0u8; 2];
        v.read_exact(&mut b).unwrap();
        assert_eq!(b, [11, 12]);
        assert_eq!(v.seek(SeekFrom::End(-1)).unwrap(), 13);
        v.read_exact(&mut b[..1]).unwrap();
        assert_eq!(b[0], 19);
    }
}
