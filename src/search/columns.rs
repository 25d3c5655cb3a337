//! The index's per-record values held in memory: keys, facet values, and the numbers the
//! filters and sorts read, decoded once when the index is opened.
//!
//! tantivy keeps string fast fields as dictionary ordinals whose text sits in
//! zstd-compressed blocks: turning one ordinal back into text decompresses a block (and
//! sets up a zstd context). A search returns up to 50 values for each of 7 facets and 20
//! keys, so doing that per search cost more than the search itself (about 60 % of the
//! time on a 10,000-record index). Here each facet's values are decoded once, in
//! dictionary order, and each record's facet ordinals are kept in a compact list, so that
//! counting is adding one to an array slot and naming a value is indexing a `Vec`.
//!
//! [`Browse`] goes one step further for the commonest request of a catalogue page, every
//! record with no word and no filter: its facet counts and its two orders are computed
//! here once.
//!
//! Memory: for 100,000 records, about 15 MB (the keys, 7 ordinal lists, 6 numbers each).

use std::cmp::Ordering;
use std::sync::Arc;

use tantivy::{DocAddress, DocId, Searcher, SegmentReader};

use super::{Facet, FacetCount};

/// One facet's values in a segment: the distinct values in dictionary order, and each
/// record's value ordinals.
#[derive(Debug, Default)]
pub struct FacetValues {
    pub values: Vec<String>,
    /// Record `d`'s ordinals are `ords[offsets[d]..offsets[d + 1]]`; when no record has
    /// more than one value (publisher, licence, frequency, origin), `offsets` is empty and
    /// `ords[d]` is the ordinal, [`NONE`] for none: one read instead of three.
    offsets: Vec<u32>,
    ords: Vec<u32>,
}

/// No value.
const NONE: u32 = u32::MAX;

impl FacetValues {
    /// Adds one to `counts[o]` for every value `o` of every record of `docs`.
    pub fn count(&self, docs: &[DocId], counts: &mut [u32]) {
        if self.offsets.is_empty() {
            for &d in docs {
                if let Some(&o) = self.ords.get(d as usize)
                    && let Some(c) = counts.get_mut(o as usize)
                {
                    *c += 1;
                }
            }
            return;
        }
        for &d in docs {
            for &o in self.of(d) {
                if let Some(c) = counts.get_mut(o as usize) {
                    *c += 1;
                }
            }
        }
    }

    /// The ordinals of a record's values.
    #[inline]
    pub fn of(&self, doc: DocId) -> &[u32] {
        let d = doc as usize;
        if self.offsets.is_empty() {
            return match self.ords.get(d) {
                Some(&NONE) | None => &[],
                Some(_) => &self.ords[d..d + 1],
            };
        }
        match (self.offsets.get(d), self.offsets.get(d + 1)) {
            (Some(&a), Some(&b)) => self.ords.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// A segment's records.
#[derive(Debug, Default)]
pub struct SegmentColumns {
    pub keys: Vec<String>,
    /// In [`Facet::ALL`] order.
    pub facets: Vec<FacetValues>,
    pub modified: Vec<i64>,
    pub ord: Vec<u64>,
    pub title_rank: Vec<u64>,
    pub flags: Vec<u64>,
    pub bbox: Vec<[f64; 4]>,
    pub period: Vec<(i64, i64)>,
}

fn str_column(reader: &SegmentReader, name: &str) -> tantivy::Result<FacetValues> {
    let max = reader.max_doc();
    let Some(col) = reader.fast_fields().str(name)? else {
        return Ok(FacetValues {
            values: Vec::new(),
            offsets: Vec::new(),
            ords: vec![NONE; max as usize],
        });
    };
    let mut values = Vec::with_capacity(col.num_terms());
    let mut stream = col.dictionary().stream()?;
    while stream.advance() {
        values.push(String::from_utf8_lossy(stream.key()).into_owned());
    }
    let mut offsets = Vec::with_capacity(max as usize + 1);
    let mut ords = Vec::new();
    offsets.push(0);
    let mut single = true;
    for doc in 0..max {
        let before = ords.len();
        ords.extend(col.term_ords(doc).map(|o| o as u32));
        single &= ords.len() - before <= 1;
        offsets.push(ords.len() as u32);
    }
    if single {
        let direct = (0..max as usize)
            .map(|d| {
                if offsets[d + 1] > offsets[d] {
                    ords[offsets[d] as usize]
                } else {
                    NONE
                }
            })
            .collect();
        return Ok(FacetValues {
            values,
            offsets: Vec::new(),
            ords: direct,
        });
    }
    Ok(FacetValues {
        values,
        offsets,
        ords,
    })
}

impl SegmentColumns {
    pub fn load(reader: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let max = reader.max_doc();
        let ff = reader.fast_fields();
        let i64s = |name: &str| -> tantivy::Result<Vec<i64>> {
            let c = ff.column_first_or_default::<i64>(name)?;
            Ok((0..max).map(|d| c.get_val(d)).collect())
        };
        let u64s = |name: &str| -> tantivy::Result<Vec<u64>> {
            let c = ff.column_first_or_default::<u64>(name)?;
            Ok((0..max).map(|d| c.get_val(d)).collect())
        };
        let f64s = |name: &str| -> tantivy::Result<Vec<f64>> {
            let c = ff.column_first_or_default::<f64>(name)?;
            Ok((0..max).map(|d| c.get_val(d)).collect())
        };
        let key = str_column(reader, "key")?;
        let keys = (0..max)
            .map(|d| {
                key.of(d)
                    .first()
                    .and_then(|o| key.values.get(*o as usize))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        let facets = Facet::ALL
            .iter()
            .map(|f| str_column(reader, f.name()))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let (x0, y0, x1, y1) = (
            f64s("min_x")?,
            f64s("min_y")?,
            f64s("max_x")?,
            f64s("max_y")?,
        );
        let bbox = (0..max as usize)
            .map(|i| [x0[i], y0[i], x1[i], y1[i]])
            .collect();
        let (s, e) = (i64s("t_start")?, i64s("t_end")?);
        Ok(SegmentColumns {
            keys,
            facets,
            modified: i64s("modified")?,
            ord: u64s("ord")?,
            title_rank: u64s("title_rank")?,
            flags: u64s("flags")?,
            bbox,
            period: s.into_iter().zip(e).collect(),
        })
    }
}

/// Every record, with no word and no filter: facet counts and the two orders.
#[derive(Debug, Default)]
pub struct Browse {
    /// Per facet (in [`Facet::ALL`] order), the most frequent values.
    pub facets: Vec<Vec<FacetCount>>,
    /// Newest first (then by place in the writer's input).
    pub by_modified: Vec<DocAddress>,
    /// By title rank.
    pub by_title: Vec<DocAddress>,
}

impl Browse {
    pub fn new(searcher: &Searcher, columns: &[Arc<SegmentColumns>], values: usize) -> Browse {
        let mut all: Vec<(DocAddress, i64, u64, u64)> = Vec::new();
        let mut counts: Vec<std::collections::BTreeMap<&str, u64>> =
            vec![Default::default(); Facet::ALL.len()];
        for (s, seg) in searcher.segment_readers().iter().enumerate() {
            let Some(c) = columns.get(s) else { continue };
            for doc in 0..seg.max_doc() {
                if !seg.is_deleted(doc) {
                    let d = doc as usize;
                    all.push((
                        DocAddress::new(s as u32, doc),
                        c.modified[d],
                        c.ord[d],
                        c.title_rank[d],
                    ));
                    for (f, fv) in c.facets.iter().enumerate() {
                        for o in fv.of(doc) {
                            if let Some(v) = fv.values.get(*o as usize) {
                                *counts[f].entry(v.as_str()).or_default() += 1;
                            }
                        }
                    }
                }
            }
        }
        let facets = counts
            .into_iter()
            .map(|m| {
                let mut v: Vec<FacetCount> = m
                    .into_iter()
                    .map(|(value, count)| FacetCount {
                        value: value.to_string(),
                        count,
                    })
                    .collect();
                v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                v.truncate(values);
                v
            })
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let by_modified = all.iter().map(|a| a.0).collect();
        all.sort_by(|a, b| match a.3.cmp(&b.3) {
            Ordering::Equal => a.2.cmp(&b.2),
            o => o,
        });
        let by_title = all.iter().map(|a| a.0).collect();
        Browse {
            facets,
            by_modified,
            by_title,
        }
    }
}
