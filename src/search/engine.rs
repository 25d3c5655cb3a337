//! [`SearchEngine`]: an opened index answering searches, suggestions and CKAN/DCAT `q`.
//!
//! A search is one pass of one collector ([`Collect`]) over the matching documents: it
//! applies the filters tantivy's query does not (published, bbox, time, modified since:
//! fast-field comparisons), counts the facets (term ordinals of the facet columns into
//! arrays, turned into strings only for the values returned) and keeps the top
//! `offset + limit` documents by the requested order in a heap. Facet filters are term
//! queries in the tantivy query itself, so they narrow the documents before the collector
//! sees them.
//!
//! Facet counts are those of the matching records with every filter applied (CKAN's
//! behaviour), the [`FACET_VALUES`] most frequent values per facet.
//!
//! Ties in every order are broken by modification date, then by the record's place in the
//! list the index was written from, so pages do not overlap and two indexes of the same
//! records answer alike.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::Path;
use std::sync::Arc;

use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, ReloadPolicy, Score, Searcher, SegmentOrdinal,
    SegmentReader, TantivyDocument, Term,
};

use super::analysis::Lang;
use super::columns::{Browse, SegmentColumns};
use super::highlight::Highlighter;
use super::index::{self, days};
use super::query::{self, Mode, Parsed, SynonymTable};
use super::schema::{FLAG_BBOX, FLAG_PUBLISHED, FLAG_TEMPORAL, Fields};
use super::{
    Facet, FacetCount, Hit, MAX_LIMIT, MAX_QUERY_CHARS, MAX_QUERY_WORDS, SearchDoc, SearchError,
    SearchRequest, SearchResults, Sort, Suggestions, Synonyms,
};
use crate::search::analysis;

/// Values returned per facet, the most frequent first.
pub const FACET_VALUES: usize = 50;

/// An opened search index. Cheap to share (`Arc`); every method takes `&self` and may be
/// called from many threads at once.
pub struct SearchEngine {
    // Kept so the searcher's files stay open and mapped.
    _reader: IndexReader,
    searcher: Searcher,
    fields: Fields,
    synonyms: Synonyms,
    table: SynonymTable,
    /// Per segment, in the searcher's order.
    columns: Vec<Arc<SegmentColumns>>,
    browse: Browse,
}

impl std::fmt::Debug for SearchEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchEngine")
            .field("docs", &self.num_docs())
            .finish()
    }
}

impl SearchEngine {
    /// Opens the index written by [`super::index::write_index`] in `dir`.
    pub fn open(dir: &Path) -> Result<SearchEngine, SearchError> {
        let tv = |source| SearchError::Index {
            path: dir.to_path_buf(),
            source,
        };
        let index = Index::open_in_dir(dir).map_err(tv)?;
        let (schema, fields) = Fields::schema();
        if index.schema() != schema {
            return Err(SearchError::Index {
                path: dir.to_path_buf(),
                source: tantivy::TantivyError::SchemaError(
                    "the index was written by another version of Portale: rebuild it with \
                     `portale index`"
                        .into(),
                ),
            });
        }
        index::prepare(&index);
        let synonyms = index::read_synonyms(dir)?;
        SearchEngine::from_index(index, fields, synonyms).map_err(tv)
    }

    /// An index of `docs` held in memory (tests, and sites without an index on disk).
    pub fn in_memory(docs: &[SearchDoc], synonyms: &Synonyms) -> Result<SearchEngine, SearchError> {
        let (index, fields) = index::in_memory(docs)?;
        Ok(SearchEngine::from_index(index, fields, synonyms.clone())?)
    }

    fn from_index(
        index: Index,
        fields: Fields,
        synonyms: Synonyms,
    ) -> Result<SearchEngine, tantivy::TantivyError> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|r| SegmentColumns::load(r).map(Arc::new))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let browse = Browse::new(&searcher, &columns, FACET_VALUES);
        Ok(SearchEngine {
            _reader: reader,
            searcher,
            columns,
            browse,
            table: SynonymTable::new(&synonyms),
            synonyms,
            fields,
        })
    }

    /// How many records the index holds.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// The synonyms list the index was built with.
    pub fn synonyms(&self) -> &Synonyms {
        &self.synonyms
    }

    fn parse(&self, q: &str) -> Result<Parsed, SearchError> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest(format!(
                "the query has {} characters; at most {MAX_QUERY_CHARS} are accepted",
                q.chars().count()
            )));
        }
        let parsed = query::parse(q, &self.table);
        let words = parsed.required.len() + parsed.excluded.len();
        if words > MAX_QUERY_WORDS {
            return Err(SearchError::BadRequest(format!(
                "the query has {words} words and phrases; at most {MAX_QUERY_WORDS} are accepted"
            )));
        }
        Ok(parsed)
    }

    /// The text query with the facet filters.
    fn full_query(&self, text: Box<dyn Query>, req: &SearchRequest) -> Box<dyn Query> {
        if req.filters.iter().all(|(_, v)| v.is_empty()) {
            return text;
        }
        let mut clauses = vec![(Occur::Must, text)];
        for (facet, values) in &req.filters {
            if values.is_empty() {
                continue;
            }
            let field = self.fields.facet(*facet);
            let any: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|v| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, v),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        self.search_with(req, true)
    }

    /// `browse`: answer a request without words or filters from [`Browse`] (the same
    /// answer as the collector's, computed at opening; tests compare the two).
    fn search_with(&self, req: &SearchRequest, browse: bool) -> Result<SearchResults, SearchError> {
        if req.limit > MAX_LIMIT {
            return Err(SearchError::BadRequest(format!(
                "at most {MAX_LIMIT} results a page (asked for {})",
                req.limit
            )));
        }
        if let Some((Some(a), Some(b))) = req.temporal
            && a > b
        {
            return Err(SearchError::BadRequest(format!(
                "the period starts ({a}) after it ends ({b})"
            )));
        }
        let parsed = self.parse(&req.q)?;
        let scored = parsed.has_words() && req.sort == Sort::Relevance;
        let filter = Filter::of(req);
        let k = req.offset.saturating_add(req.limit);
        let collect = |query: &dyn Query| {
            self.searcher.search(
                query,
                &Collect {
                    columns: &self.columns,
                    sort: req.sort,
                    scored,
                    k,
                    facets: req.facets,
                    filter,
                },
            )
        };
        if browse
            && parsed.is_empty()
            && filter.is_empty()
            && req.filters.iter().all(|(_, v)| v.is_empty())
        {
            return self.browse(req);
        }
        let mut relaxed = false;
        let text = query::build(&parsed, &self.fields, &self.searcher, Mode::All);
        let mut fruit = collect(self.full_query(text, req).as_ref())?;
        if fruit.total == 0 && parsed.required.len() > 1 {
            let any = query::build(&parsed, &self.fields, &self.searcher, Mode::Any);
            fruit = collect(self.full_query(any, req).as_ref())?;
            relaxed = fruit.total > 0;
        }
        let mut top = fruit.top;
        top.sort_by_key(|t| std::cmp::Reverse(t.0));
        let page: Vec<(SortKey, DocAddress)> = top.into_iter().skip(req.offset).collect();

        let mut highlight =
            (req.highlight && parsed.has_words()).then(|| Highlighter::new(&parsed));
        let mut hits = Vec::with_capacity(page.len());
        for (key, addr) in page {
            hits.push(self.hit(
                addr,
                if scored { key.score } else { 0.0 },
                highlight.as_mut(),
            )?);
        }
        let facets = if req.facets {
            Facet::ALL
                .iter()
                .map(|f| {
                    let counts = fruit.facets.remove(f).unwrap_or_default();
                    let mut v: Vec<FacetCount> = counts
                        .into_iter()
                        .map(|(value, count)| FacetCount { value, count })
                        .collect();
                    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                    v.truncate(FACET_VALUES);
                    (*f, v)
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(SearchResults {
            total: fruit.total,
            hits,
            facets,
            relaxed,
        })
    }

    /// Every record, no word and no filter: the counts and orders computed at opening.
    fn browse(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        let order = match req.sort {
            Sort::Title => &self.browse.by_title,
            Sort::Relevance | Sort::Modified => &self.browse.by_modified,
        };
        let hits = order
            .iter()
            .skip(req.offset)
            .take(req.limit)
            .map(|addr| self.hit(*addr, 0.0, None))
            .collect::<Result<Vec<_>, _>>()?;
        let facets = if req.facets {
            Facet::ALL
                .iter()
                .zip(&self.browse.facets)
                .map(|(f, v)| (*f, v.clone()))
                .collect()
        } else {
            Vec::new()
        };
        Ok(SearchResults {
            total: order.len() as u64,
            hits,
            facets,
            relaxed: false,
        })
    }

    /// A hit: the stored summary, the highlights.
    fn hit(
        &self,
        addr: DocAddress,
        score: f32,
        highlight: Option<&mut Highlighter>,
    ) -> Result<Hit, SearchError> {
        let doc: TantivyDocument = self.searcher.doc(addr)?;
        let summary = doc
            .get_first(self.fields.summary)
            .and_then(|v| v.as_bytes())
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null);
        let (title_html, snippet_html) = match highlight {
            Some(h) => {
                let text = |pair: crate::search::schema::Pair| {
                    [(pair.it, Lang::It), (pair.en, Lang::En)]
                        .into_iter()
                        .find_map(|(f, l)| {
                            doc.get_first(f).and_then(|v| v.as_str()).map(|t| (t, l))
                        })
                };
                (
                    text(self.fields.title).and_then(|(t, l)| h.title(t, l)),
                    text(self.fields.description).and_then(|(t, l)| h.snippet(t, l)),
                )
            }
            None => (None, None),
        };
        Ok(Hit {
            key: self.key_of(addr)?,
            score,
            summary,
            title_html,
            snippet_html,
        })
    }

    fn key_of(&self, addr: DocAddress) -> Result<String, SearchError> {
        Ok(self
            .columns
            .get(addr.segment_ord as usize)
            .and_then(|c| c.keys.get(addr.doc_id as usize))
            .cloned()
            .unwrap_or_default())
    }

    /// Completions of `prefix` (the words typed so far, the last one unfinished): at most
    /// `limit` words and `limit` records.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Result<Suggestions, SearchError> {
        let limit = limit.clamp(1, 50);
        let (done, last) = match prefix.rfind(char::is_whitespace) {
            _ if prefix.ends_with(char::is_whitespace) => (prefix, ""),
            Some(i) => (&prefix[..i], &prefix[i..]),
            None => ("", prefix),
        };
        let parsed = self.parse(done)?;
        let before = query::build(&parsed, &self.fields, &self.searcher, Mode::All);
        let folded = analysis::fold(last).join("");
        let field = self.fields.complete;
        // Candidate words: every indexed word starting with the folded prefix.
        let mut candidates: BTreeMap<String, u64> = BTreeMap::new();
        if !folded.is_empty() {
            for seg in self.searcher.segment_readers() {
                let inv = seg.inverted_index(field)?;
                let mut stream = inv
                    .terms()
                    .range()
                    .ge(folded.as_bytes())
                    .into_stream()
                    .map_err(|e| SearchError::Tantivy(e.into()))?;
                while stream.advance() {
                    let Ok(word) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    if !word.starts_with(&folded) {
                        break;
                    }
                    *candidates.entry(word.to_string()).or_default() +=
                        u64::from(stream.value().doc_freq);
                }
            }
        }
        let mut ranked: Vec<(String, u64)> = candidates.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(limit * 4);
        let term_query = |w: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, w),
                IndexRecordOption::Basic,
            ))
        };
        let mut words = Vec::new();
        for (w, n) in ranked {
            let count = if parsed.has_words() {
                let q = BooleanQuery::new(vec![
                    (Occur::Must, before.box_clone()),
                    (Occur::Must, term_query(&w)),
                ]);
                self.searcher.search(&q, &Count)? as u64
            } else {
                n
            };
            if count > 0 {
                words.push(FacetCount { value: w, count });
            }
        }
        words.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        words.truncate(limit);

        let records_query: Box<dyn Query> = if words.is_empty() {
            if folded.is_empty() && parsed.has_words() {
                before
            } else {
                return Ok(Suggestions {
                    words,
                    records: Vec::new(),
                });
            }
        } else {
            let any = BooleanQuery::new(
                words
                    .iter()
                    .map(|w| (Occur::Should, term_query(&w.value)))
                    .collect(),
            );
            if parsed.has_words() {
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, before),
                    (Occur::Must, Box::new(any)),
                ]))
            } else {
                Box::new(any)
            }
        };
        let fruit = self.searcher.search(
            records_query.as_ref(),
            &Collect {
                columns: &self.columns,
                sort: Sort::Relevance,
                scored: true,
                k: limit,
                facets: false,
                filter: Filter::default(),
            },
        )?;
        let mut top = fruit.top;
        top.sort_by_key(|t| std::cmp::Reverse(t.0));
        let mut records = Vec::new();
        for (_, addr) in top {
            let doc: TantivyDocument = self.searcher.doc(addr)?;
            let title = [self.fields.title.it, self.fields.title.en]
                .iter()
                .find_map(|f| doc.get_first(*f).and_then(|v| v.as_str()))
                .unwrap_or_default()
                .to_string();
            records.push((self.key_of(addr)?, title));
        }
        Ok(Suggestions { words, records })
    }

    /// The keys of every record matching the query words `q` (as in [`SearchRequest::q`])
    /// with their scores, in no particular order: for CKAN's `package_search` and the DCAT
    /// catalogue, which filter and order them themselves. Every word must match; a `q`
    /// without words matches every record, with score 0.
    pub fn matching(&self, q: &str) -> Result<Vec<(String, f32)>, SearchError> {
        let parsed = self.parse(q)?;
        let query = query::build(&parsed, &self.fields, &self.searcher, Mode::All);
        let found = self.searcher.search(
            query.as_ref(),
            &AllKeys {
                columns: &self.columns,
            },
        )?;
        Ok(found)
    }
}

/// The filters applied by the collector.
#[derive(Debug, Clone, Copy, Default)]
struct Filter {
    published: bool,
    bbox: Option<[f64; 4]>,
    /// Days since 0001-01-01, inclusive; open ends are `i64::MIN` / `i64::MAX`.
    period: Option<(i64, i64)>,
    modified_since: Option<i64>,
}

impl Filter {
    fn of(req: &SearchRequest) -> Filter {
        Filter {
            published: req.only_published,
            bbox: req.bbox,
            period: req.temporal.map(|(a, b)| {
                (
                    a.map(days).unwrap_or(i64::MIN),
                    b.map(days).unwrap_or(i64::MAX),
                )
            }),
            modified_since: req.modified_since.map(|m| m.timestamp()),
        }
    }

    fn is_empty(&self) -> bool {
        !self.published
            && self.bbox.is_none()
            && self.period.is_none()
            && self.modified_since.is_none()
    }
}

/// The order of a hit: larger is better.
#[derive(Debug, Clone, Copy)]
struct SortKey {
    primary: f64,
    modified: i64,
    score: f32,
    /// The record's place in the writer's input, smaller first among equals.
    ord: u64,
    doc: DocId,
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SortKey {}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.primary
            .total_cmp(&other.primary)
            .then(self.modified.cmp(&other.modified))
            .then(other.ord.cmp(&self.ord))
    }
}

struct Collect<'a> {
    columns: &'a [Arc<SegmentColumns>],
    sort: Sort,
    scored: bool,
    k: usize,
    facets: bool,
    filter: Filter,
}

struct Fruit {
    total: u64,
    top: Vec<(SortKey, DocAddress)>,
    /// Per facet: value and count, every value with a count (several segments) or the
    /// [`FACET_VALUES`] most frequent (one segment).
    facets: HashMap<Facet, Vec<(String, u64)>>,
}

struct SegmentCollect {
    segment: SegmentOrdinal,
    columns: Arc<SegmentColumns>,
    sort: Sort,
    scored: bool,
    k: usize,
    filter: Filter,
    single_segment: bool,
    total: u64,
    heap: BinaryHeap<std::cmp::Reverse<SortKey>>,
    /// Per facet (in [`Facet::ALL`] order) when counting, a count per value ordinal
    /// (from [`COUNTS`], all zero).
    counts: Vec<Vec<u32>>,
    /// The matches (kept, in document order) when counting facets.
    matched: Vec<DocId>,
}

thread_local! {
    /// Count arrays kept zeroed between searches: allocating one per facet per search
    /// (tens of thousands of keywords on a large catalogue) cost more page faults than
    /// counting.
    static COUNTS: std::cell::RefCell<Vec<Vec<u32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Facet `i`'s zeroed count array, of at least `len` slots.
fn take_counts(i: usize, len: usize) -> Vec<u32> {
    let mut v = COUNTS
        .with(|c| c.borrow_mut().get_mut(i).map(std::mem::take))
        .unwrap_or_default();
    if v.len() < len {
        v.resize(len, 0);
    }
    v
}

/// Gives back facet `i`'s count array, zeroed.
fn give_counts(i: usize, v: Vec<u32>) {
    COUNTS.with(|c| {
        let mut pool = c.borrow_mut();
        if pool.len() <= i {
            pool.resize_with(i + 1, Vec::new);
        }
        pool[i] = v;
    });
}

impl Collector for Collect<'_> {
    type Fruit = Fruit;
    type Child = SegmentCollect;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _: &SegmentReader,
    ) -> tantivy::Result<SegmentCollect> {
        let columns = self.columns.get(segment as usize).cloned().ok_or_else(|| {
            tantivy::TantivyError::InternalError(format!("no columns for segment {segment}"))
        })?;
        let counts: Vec<Vec<u32>> = if self.facets {
            columns
                .facets
                .iter()
                .enumerate()
                .map(|(i, f)| take_counts(i, f.values.len()))
                .collect()
        } else {
            Vec::new()
        };
        Ok(SegmentCollect {
            segment,
            columns,
            sort: self.sort,
            scored: self.scored,
            k: self.k,
            filter: self.filter,
            single_segment: self.columns.len() == 1,
            total: 0,
            heap: BinaryHeap::with_capacity(self.k.min(10_000) + 1),
            counts,
            matched: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, mut fruits: Vec<Fruit>) -> tantivy::Result<Fruit> {
        if fruits.len() == 1
            && let Some(one) = fruits.pop()
        {
            return Ok(one);
        }
        let mut total = 0;
        let mut top = Vec::new();
        let mut facets: HashMap<Facet, BTreeMap<String, u64>> = HashMap::new();
        for f in fruits {
            total += f.total;
            top.extend(f.top);
            for (facet, values) in f.facets {
                let m = facets.entry(facet).or_default();
                for (v, n) in values {
                    *m.entry(v).or_default() += n;
                }
            }
        }
        top.sort_by_key(|t| std::cmp::Reverse(t.0));
        top.truncate(self.k);
        Ok(Fruit {
            total,
            top,
            facets: facets
                .into_iter()
                .map(|(f, m)| (f, m.into_iter().collect()))
                .collect(),
        })
    }
}
impl SegmentCollect {
    fn keep(&self, doc: DocId) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let c = &self.columns;
        let d = doc as usize;
        let flags = c.flags[d];
        if self.filter.published && flags & FLAG_PUBLISHED == 0 {
            return false;
        }
        if let Some([qx0, qy0, qx1, qy1]) = self.filter.bbox {
            let [x0, y0, x1, y1] = c.bbox[d];
            if flags & FLAG_BBOX == 0 || x0 > qx1 || x1 < qx0 || y0 > qy1 || y1 < qy0 {
                return false;
            }
        }
        if let Some((a, b)) = self.filter.period {
            let (s, e) = c.period[d];
            if flags & FLAG_TEMPORAL == 0 || s > b || e < a {
                return false;
            }
        }
        if let Some(since) = self.filter.modified_since
            && c.modified[d] < since
        {
            return false;
        }
        true
    }
}

impl SegmentCollector for SegmentCollect {
    type Fruit = Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if doc as usize >= self.columns.keys.len() || !self.keep(doc) {
            return;
        }
        self.total += 1;
        if !self.counts.is_empty() {
            self.matched.push(doc);
        }
        if self.k == 0 {
            return;
        }
        let d = doc as usize;
        let primary = match (self.sort, self.scored) {
            (Sort::Relevance, true) => f64::from(score),
            (Sort::Title, _) => -(self.columns.title_rank[d] as f64),
            // Newest first: the modification date is the secondary key already.
            _ => 0.0,
        };
        let key = SortKey {
            primary,
            modified: self.columns.modified[d],
            score,
            ord: self.columns.ord[d],
            doc,
        };
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse(key));
        } else if let Some(std::cmp::Reverse(worst)) = self.heap.peek()
            && key > *worst
        {
            self.heap.pop();
            self.heap.push(std::cmp::Reverse(key));
        }
    }

    fn harvest(self) -> Fruit {
        let segment = self.segment;
        let top = self
            .heap
            .into_iter()
            .map(|std::cmp::Reverse(k)| (k, DocAddress::new(segment, k.doc)))
            .collect();
        let mut facets = HashMap::new();
        // Facets are counted here, one at a time over the matches in document order:
        // counting all seven per match, as they come, made each match wait on seven
        // random memory reads.
        for (i, ((facet, mut counts), values)) in Facet::ALL
            .iter()
            .zip(self.counts)
            .zip(&self.columns.facets)
            .enumerate()
        {
            values.count(&self.matched, &mut counts);
            // One pass over the array (sequential, a few microseconds even for tens of
            // thousands of keywords) finds the counted values and leaves it zeroed.
            let mut nonzero: Vec<(u32, u32)> = Vec::new();
            for (o, c) in counts.iter_mut().enumerate() {
                if *c > 0 {
                    nonzero.push((o as u32, *c));
                    *c = 0;
                }
            }
            give_counts(i, counts);
            if self.single_segment && nonzero.len() > FACET_VALUES {
                // Ordinals follow the values' order, so (count desc, ordinal asc) is
                // (count desc, value asc): the values returned, exactly.
                nonzero.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                nonzero.truncate(FACET_VALUES);
            }
            let named = nonzero
                .into_iter()
                .filter_map(|(o, c)| {
                    values
                        .values
                        .get(o as usize)
                        .map(|v| (v.clone(), u64::from(c)))
                })
                .collect();
            facets.insert(*facet, named);
        }
        Fruit {
            total: self.total,
            top,
            facets,
        }
    }
}

/// Collects every match's key and score.
struct AllKeys<'a> {
    columns: &'a [Arc<SegmentColumns>],
}

struct SegmentKeys {
    columns: Arc<SegmentColumns>,
    found: Vec<(String, f32)>,
}

impl Collector for AllKeys<'_> {
    type Fruit = Vec<(String, f32)>;
    type Child = SegmentKeys;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _: &SegmentReader,
    ) -> tantivy::Result<SegmentKeys> {
        let columns = self.columns.get(segment as usize).cloned().ok_or_else(|| {
            tantivy::TantivyError::InternalError(format!("no columns for segment {segment}"))
        })?;
        Ok(SegmentKeys {
            columns,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(String, f32)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentKeys {
    type Fruit = Vec<(String, f32)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(key) = self.columns.keys.get(doc as usize) {
            self.found.push((key.clone(), score));
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::search::Origin;

    fn doc(key: &str, title: &str, description: &str) -> SearchDoc {
        SearchDoc {
            key: key.into(),
            origin: Origin::Local,
            published: true,
            title: title.into(),
            description: description.into(),
            keywords: Vec::new(),
            themes: Vec::new(),
            publisher: Some("Comune di Capannori".into()),
            rights_holder: None,
            formats: vec!["CSV".into()],
            license: Some("A21_CCBY40".into()),
            frequency: Some("ANNUAL".into()),
            fields: Vec::new(),
            places: vec!["Capannori".into()],
            temporal: None,
            bbox: None,
            modified: None,
            summary: json!({ "id": key, "title": title }),
        }
    }

    fn engine() -> SearchEngine {
        let mut docs = vec![
            doc(
                "scuole",
                "Scuole statali",
                "Elenco delle scuole dell'infanzia, primarie e secondarie.",
            ),
            doc(
                "farmacie",
                "Farmacie comunali",
                "Le farmacie del territorio con orari.",
            ),
            doc(
                "sanzioni",
                "Sanzioni al Codice della strada",
                "Verbali per mese e via.",
            ),
            doc(
                "percorsi",
                "Percorsi dello scuolabus",
                "Il trasporto scolastico comunale.",
            ),
            doc(
                "raccolta",
                "Calendario della raccolta porta a porta",
                "Giorni della raccolta differenziata per zona.",
            ),
            doc("citta", "Mappa della città", "Confini e vie."),
            doc(
                "en",
                "Schools of the municipality",
                "List of the schools and their addresses in the city.",
            ),
        ];
        docs[0].themes = vec!["EDUC".into()];
        docs[0].keywords = vec!["istruzione".into(), "scuole".into()];
        docs[0].bbox = Some([10.5, 43.8, 10.7, 43.9]);
        docs[0].modified = Some(Utc.with_ymd_and_hms(2025, 9, 1, 0, 0, 0).unwrap());
        docs[1].themes = vec!["HEAL".into()];
        docs[1].formats = vec!["CSV".into(), "GEOJSON".into()];
        docs[1].bbox = Some([11.0, 44.0, 11.2, 44.2]);
        docs[1].modified = Some(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
        docs[2].temporal = Some((
            NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2023, 12, 31),
        ));
        docs[2].modified = Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        docs[3].themes = vec!["TRAN".into(), "EDUC".into()];
        docs[6].origin = Origin::Harvested {
            source: "altro".into(),
        };
        docs[6].key = "altro/0001".into();
        docs[6].published = false;
        SearchEngine::in_memory(&docs, &Synonyms::built_in()).unwrap()
    }

    fn top(e: &SearchEngine, q: &str) -> Vec<String> {
        let r = e
            .search(&SearchRequest {
                q: q.into(),
                ..Default::default()
            })
            .unwrap();
        r.hits.into_iter().map(|h| h.key).collect()
    }

    #[test]
    fn stemming_accents_elisions() {
        let e = engine();
        assert_eq!(top(&e, "scuola")[0], "scuole");
        assert_eq!(top(&e, "farmacia"), vec!["farmacie"]);
        assert_eq!(top(&e, "citta"), vec!["citta"]);
        assert_eq!(top(&e, "CITTÀ"), vec!["citta"]);
        assert_eq!(top(&e, "l'infanzia")[0], "scuole");
    }

    #[test]
    fn typos_within_one_edit_for_long_words() {
        let e = engine();
        assert_eq!(top(&e, "farmacei")[0], "farmacie");
        assert_eq!(top(&e, "scoule")[0], "scuole");
        // Short words get no tolerance.
        assert!(top(&e, "vai").is_empty());
    }

    #[test]
    fn typos_of_every_kind() {
        let docs = vec![
            doc("p", "Pagamento dei tributi", "Avvisi di pagamento."),
            doc("i", "Precipitazioni giornaliere", "Idrografia e idrologia."),
            doc("a", "Aziende agricole", "Popolazione residente."),
        ];
        let e = SearchEngine::in_memory(&docs, &Synonyms::default()).unwrap();
        for (typo, key) in [
            ("pxgamento", "p"),
            ("pagameto", "p"),
            ("paggamento", "p"),
            ("apgamento", "p"),
            ("precipitazinoi", "i"),
            ("azieode", "a"),
            ("popolanione", "a"),
        ] {
            assert_eq!(top(&e, typo), vec![key.to_string()], "{typo}");
        }
    }

    #[test]
    fn synonyms_both_ways() {
        let e = engine();
        assert_eq!(top(&e, "multe"), vec!["sanzioni"]);
        assert_eq!(top(&e, "trasporto scolastico")[0], "percorsi");
        assert!(top(&e, "scuolabus").contains(&"percorsi".to_string()));
        assert!(top(&e, "rifiuti").contains(&"raccolta".to_string()));
    }

    #[test]
    fn english_text_and_labels() {
        let e = engine();
        let hits = top(&e, "school");
        assert!(hits.contains(&"altro/0001".to_string()), "{hits:?}");
        // The English label of the EDUC theme.
        assert!(top(&e, "education").contains(&"scuole".to_string()));
    }

    #[test]
    fn phrases_and_exclusions() {
        let e = engine();
        assert_eq!(top(&e, "\"raccolta differenziata\""), vec!["raccolta"]);
        assert!(top(&e, "\"differenziata raccolta\"").is_empty());
        let all = top(&e, "comunali");
        assert!(all.contains(&"farmacie".to_string()));
        assert!(!top(&e, "comunali -farmacie").contains(&"farmacie".to_string()));
    }

    #[test]
    fn title_outweighs_description() {
        let e = engine();
        // "raccolta" is in one title and in its description; "percorsi" only in a title.
        let r = top(&e, "scuole");
        assert_eq!(r[0], "scuole");
    }

    #[test]
    fn facets_and_filters() {
        let e = engine();
        let r = e.search(&SearchRequest::default()).unwrap();
        assert_eq!(r.total, 7);
        let themes = &r.facets.iter().find(|f| f.0 == Facet::Theme).unwrap().1;
        assert_eq!(
            themes[0],
            FacetCount {
                value: "EDUC".into(),
                count: 2
            }
        );
        let r = e
            .search(&SearchRequest {
                filters: vec![
                    (Facet::Theme, vec!["EDUC".into()]),
                    (Facet::Format, vec!["CSV".into()]),
                ],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.total, 2);
        let r = e
            .search(&SearchRequest {
                filters: vec![(Facet::Theme, vec!["EDUC".into(), "HEAL".into()])],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(r.total, 3);
        let origin = &r.facets.iter().find(|f| f.0 == Facet::Origin).unwrap().1;
        assert_eq!(
            origin,
            &vec![FacetCount {
                value: "local".into(),
                count: 3
            }]
        );
    }

    #[test]
    fn bbox_time_modified_published() {
        let e = engine();
        let keys = |req: SearchRequest| -> Vec<String> {
            e.search(&req)
                .unwrap()
                .hits
                .into_iter()
                .map(|h| h.key)
                .collect()
        };
        assert_eq!(
            keys(SearchRequest {
                bbox: Some([10.6, 43.85, 10.65, 43.86]),
                ..Default::default()
            }),
            vec!["scuole"]
        );
        // Touching edges intersect.
        assert_eq!(
            keys(SearchRequest {
                bbox: Some([10.7, 43.9, 11.0, 44.0]),
                ..Default::default()
            })
            .len(),
            2
        );
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
        assert_eq!(
            keys(SearchRequest {
                temporal: Some((d(2023, 6, 1), None)),
                ..Default::default()
            }),
            vec!["sanzioni"]
        );
        assert!(
            keys(SearchRequest {
                temporal: Some((d(2024, 1, 1), None)),
                ..Default::default()
            })
            .is_empty()
        );
        assert_eq!(
            keys(SearchRequest {
                modified_since: Some(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()),
                ..Default::default()
            }),
            vec!["sanzioni", "scuole"]
        );
        assert_eq!(
            keys(SearchRequest {
                only_published: true,
                ..Default::default()
            })
            .len(),
            6
        );
        assert!(
            e.search(&SearchRequest {
                temporal: Some((d(2024, 1, 1), d(2023, 1, 1))),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn sorting_and_paging() {
        let e = engine();
        let titles = |sort, offset, limit| -> Vec<String> {
            e.search(&SearchRequest {
                sort,
                offset,
                limit,
                ..Default::default()
            })
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.summary["title"].as_str().unwrap().to_string())
            .collect()
        };
        let all = titles(Sort::Title, 0, 10);
        let mut sorted = all.clone();
        sorted.sort_by_key(|t| t.to_lowercase());
        assert_eq!(all, sorted);
        let paged: Vec<String> = (0..4).flat_map(|p| titles(Sort::Title, p * 2, 2)).collect();
        assert_eq!(paged, all);
        let by_date = titles(Sort::Modified, 0, 3);
        assert_eq!(by_date[0], "Sanzioni al Codice della strada");
        assert_eq!(by_date[1], "Scuole statali");
        assert_eq!(by_date[2], "Farmacie comunali");
    }

    #[test]
    fn browsing_answers_like_the_collector() {
        let e = engine();
        for sort in [Sort::Relevance, Sort::Modified, Sort::Title] {
            for (offset, limit) in [(0, 20), (0, 3), (3, 3), (6, 3), (10, 5)] {
                let req = SearchRequest {
                    sort,
                    offset,
                    limit,
                    ..Default::default()
                };
                let fast = e.search_with(&req, true).unwrap();
                let slow = e.search_with(&req, false).unwrap();
                assert_eq!(fast, slow, "{sort:?} {offset} {limit}");
            }
        }
    }

    #[test]
    fn relaxed_when_no_record_has_every_word() {
        let e = engine();
        let r = e
            .search(&SearchRequest {
                q: "farmacie palermo".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(r.relaxed);
        assert_eq!(r.hits[0].key, "farmacie");
        let r = e
            .search(&SearchRequest {
                q: "farmacie".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(!r.relaxed);
    }

    #[test]
    fn highlights_are_escaped() {
        let docs = vec![doc("x", "Scuole <b>&</b> asili", "Le scuole del comune.")];
        let e = SearchEngine::in_memory(&docs, &Synonyms::default()).unwrap();
        let r = e
            .search(&SearchRequest {
                q: "scuola".into(),
                ..Default::default()
            })
            .unwrap();
        let h = &r.hits[0];
        assert_eq!(
            h.title_html.as_deref(),
            Some("<mark>Scuole</mark> &lt;b&gt;&amp;&lt;/b&gt; asili")
        );
        assert_eq!(
            h.snippet_html.as_deref(),
            Some("Le <mark>scuole</mark> del comune.")
        );
        let long = format!(
            "{} Le scuole. {}",
            "Parole senza senso. ".repeat(20),
            "Altro. ".repeat(40)
        );
        let docs = vec![doc("y", "Elenco", &long)];
        let e = SearchEngine::in_memory(&docs, &Synonyms::default()).unwrap();
        let r = e
            .search(&SearchRequest {
                q: "scuole".into(),
                ..Default::default()
            })
            .unwrap();
        let s = r.hits[0].snippet_html.as_deref().unwrap();
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("<mark>scuole</mark>"),
            "{s}"
        );
        assert!(s.chars().count() < 200, "{s}");
        assert_eq!(r.hits[0].title_html, None);
    }

    #[test]
    fn highlights_leave_out_phrase_synonyms() {
        let docs = vec![doc(
            "x",
            "Scuole statali",
            "Anno scolastico 2025: istituti comprensivi e scuole.",
        )];
        let e = SearchEngine::in_memory(&docs, &Synonyms::built_in()).unwrap();
        let r = e
            .search(&SearchRequest {
                q: "scuola".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            r.hits[0].snippet_html.as_deref(),
            Some("Anno scolastico 2025: istituti comprensivi e <mark>scuole</mark>.")
        );
        // A one-word synonym is marked.
        let docs = vec![doc("y", "Sanzioni", "Le sanzioni.")];
        let e = SearchEngine::in_memory(&docs, &Synonyms::built_in()).unwrap();
        let r = e
            .search(&SearchRequest {
                q: "multe".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            r.hits[0].title_html.as_deref(),
            Some("<mark>Sanzioni</mark>")
        );
    }

    #[test]
    fn suggestions_complete_the_last_word() {
        let e = engine();
        let s = e.suggest("scuo", 5).unwrap();
        let words: Vec<&str> = s.words.iter().map(|w| w.value.as_str()).collect();
        assert!(
            words.contains(&"scuole") && words.contains(&"scuolabus"),
            "{words:?}"
        );
        assert!(s.records.iter().any(|r| r.0 == "scuole"));
        // The words typed before must match too.
        let s = e.suggest("percorsi scuo", 5).unwrap();
        assert_eq!(
            s.words.iter().map(|w| w.value.as_str()).collect::<Vec<_>>(),
            vec!["scuolabus"]
        );
        assert_eq!(s.records[0].0, "percorsi");
        let s = e.suggest("citt", 5).unwrap();
        assert_eq!(s.words[0].value, "citta");
        assert!(e.suggest("", 5).unwrap().words.is_empty());
    }

    #[test]
    fn matching_returns_every_key() {
        let e = engine();
        let mut m = e.matching("scuola").unwrap();
        m.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(m[0].0, "scuole");
        assert_eq!(e.matching("").unwrap().len(), 7);
        assert!(e.matching(&"x".repeat(600)).is_err());
        let many = (0..40)
            .map(|i| format!("parola{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let err = e.matching(&many).unwrap_err().to_string();
        assert!(err.contains("40 words"), "{err}");
        let enough = (0..32)
            .map(|i| format!("parola{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(e.matching(&enough).is_ok());
    }

    #[test]
    fn written_index_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let docs = vec![doc("a", "Scuole", ""), doc("b", "Farmacie", "")];
        let stats =
            index::write_index(&docs, &Synonyms::built_in(), &dir.path().join("i")).unwrap();
        assert_eq!(stats.docs, 2);
        assert!(stats.bytes > 0);
        let e = SearchEngine::open(&dir.path().join("i")).unwrap();
        assert_eq!(e.num_docs(), 2);
        assert_eq!(e.synonyms(), &Synonyms::built_in());
        assert_eq!(top(&e, "farmacia"), vec!["b"]);
        let dup = vec![doc("a", "x", ""), doc("a", "y", "")];
        assert!(index::write_index(&dup, &Synonyms::default(), &dir.path().join("j")).is_err());
    }
}
