//! The Solr-flavoured search behind `package_search`: the `q` / `fq` / `sort` parameters
//! CKAN clients and harvesters send, parsed and evaluated over an in-memory index of
//! package documents ([`SearchIndex`]), without a Solr.
//!
//! What is understood, and how it maps to CKAN's Solr schema:
//!
//! * `q` without a `:` is free text ([`QueryKind::FreeText`]). When the site has a search
//!   index, the caller runs it through the catalogue's search engine
//!   ([`crate::search::SearchEngine::matching`]: Italian and English stemming, synonyms,
//!   typo tolerance, the same words finding the same datasets as `/datasets.json`) and
//!   hands the matches and their scores in as [`EngineScores`] to
//!   [`SearchIndex::search_with`]: they replace the DisMax evaluation below, and the
//!   engine's score orders `sort=score desc`. Without an index (no [`EngineScores`]) `q`
//!   is a *DisMax* query, as CKAN runs it: the terms are matched against
//!   `name^4 title^4 tags^2 groups^2 text`, `+term` must match, `-term` must not,
//!   `"quoted phrases"` are phrases, and CKAN's minimum-match rule `2<-1 5<80%` applies
//!   (one or two optional terms: all must match; three to five: all but one; more: 80%).
//!   The score orders `sort=score desc`. `q` empty, `*:*`, `*`, `""` or `''` match all.
//! * `q` with a `:`, and every `fq`, use the standard (Lucene) syntax: `field:value`,
//!   `field:"a phrase"`, `field:(a OR b)`, `-field:value` / `NOT` / `!`, `+field:value`,
//!   `AND` / `&&`, `OR` / `||`, parentheses, `field:*`, wildcards `*` and `?` in values,
//!   and ranges `[a TO b]`, `{a TO b}` (exclusive), `*` for an open end. A bare value
//!   searches the `text` field (CKAN's `df=text`).
//! * Fields: the *string* fields match whole values exactly and case-sensitively, as in
//!   Solr (`id`, `name`, `organization`, `owner_org`, `groups`, `tags`, `res_format`,
//!   `res_url`, `license_id`, `state`, `type`/`dataset_type`, `capacity`, `entity_type`,
//!   `title_string`, `url`, and every extra by its key, e.g. `holder_identifier:c_b648`);
//!   the *text* fields are analysed (`text`, `title`, `notes`, `res_name`,
//!   `res_description`, `extras_<key>`): lower-cased, ASCII-folded, Italian-stemmed, so
//!   `title:Scuola` finds "scuole" (extras holding JSON are not analysed: their URI and
//!   number fragments would make `q=europa` match everything); `metadata_modified` / `metadata_created` are dates
//!   (`2024-01-01T00:00:00Z`, with or without fraction or `Z`, or `2024-01-01`), and
//!   `num_resources` / `num_tags` integers. An unknown field is an extra nobody has: it
//!   matches nothing, as Solr's catch-all dynamic field does.
//! * `sort`: `field asc|desc` pairs separated by commas over `score`, `id`, `name`,
//!   `title_string`, `metadata_modified`, `metadata_created`, `num_resources`,
//!   `num_tags`; ties are always broken by `id` so that paging is stable.
//!
//! Pitfalls and deliberate differences from Solr:
//!
//! * Precedence. Lucene's classic parser reads `a OR b c` (default operator AND, as CKAN
//!   sets) as `a b +c`, silently turning the `OR` pair into optional clauses. Harvesters
//!   build exactly that string (ckanext-harvest joins `organization:x OR organization:y`
//!   and `metadata_modified:[… TO *]` with a space) and mean `(a OR b) AND c`, so here
//!   juxtaposition binds loosest, then `OR`, then `AND`, then the unary operators.
//! * A purely negative group `(-a:b)` matches everything except `a:b` here; in Lucene it
//!   matches nothing unless it is the whole query.
//! * A value that analyses to several tokens (`title:dell'infanzia`) is a phrase.
//! * Date math (`NOW-1DAY`, `/DAY`) is not supported and is a syntax error.
//!
//! * `q` through the engine is not Solr's DisMax: the engine decides which words must
//!   match (and may relax a query no record fully matches), `+term` is an ordinary word,
//!   and its scores are BM25 with its own field boosts, not CKAN's `qf`. Field syntax
//!   (`title:x`) never goes to the engine: harvesters rely on its exact Solr semantics.
//!
//! Every search is one pass over the documents plus one sort of the matches:
//! O(n log n) for n documents, whatever `start` is.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};

/// Why a search could not run. Each kind maps to the error CKAN gives for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The `q` or `fq` text is not valid query syntax (CKAN: a Solr error, 409
    /// "Search Error").
    #[error("cannot parse {param} {input:?} at character {position}: {problem}")]
    Syntax {
        param: &'static str,
        /// The query (its first 200 characters).
        input: String,
        /// 0-based character offset of the problem.
        position: usize,
        problem: String,
    },
    /// A `sort` clause without `asc` or `desc` (CKAN: 400 "Search Query Error").
    #[error("invalid \"sort\" parameter {spec:?}: {problem}")]
    SortOrder { spec: String, problem: String },
    /// A `sort` on a field that cannot be sorted on (CKAN: a Solr error, 409 "Search
    /// Error").
    #[error("can not sort on field {field:?}: sortable fields are {}", SORTABLE.join(", "))]
    SortField { field: String },
}

/// The first 200 characters of a query, for error messages.
fn excerpt(input: &str) -> String {
    match input.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &input[..i]),
        None => input.to_string(),
    }
}

/// Fields `sort` accepts.
pub const SORTABLE: &[&str] = &[
    "score",
    "id",
    "name",
    "title_string",
    "metadata_modified",
    "metadata_created",
    "num_resources",
    "num_tags",
];

/// The text analysis of the `text`-typed fields: Unicode word splitting, lower case,
/// ASCII folding, Italian stemming (tantivy's analyser chain).
pub struct Analyzer(TextAnalyzer);

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer(
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(60))
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .filter(Stemmer::new(Language::Italian))
                .build(),
        )
    }
}

impl Analyzer {
    /// The analysed tokens of `text`, in order.
    pub fn tokens(&mut self, text: &str) -> Vec<String> {
        let mut stream = self.0.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }
}

/// The analysed terms of an index, interned to small integers.
#[derive(Debug, Default)]
struct Terms {
    ids: HashMap<Box<str>, u32>,
    /// Every term with its id, sorted by term (for prefix and wildcard expansion).
    sorted: Vec<(Box<str>, u32)>,
}

impl Terms {
    fn intern(&mut self, term: &str) -> u32 {
        if let Some(id) = self.ids.get(term) {
            return *id;
        }
        let id = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.insert(term.into(), id);
        id
    }

    fn freeze(&mut self) {
        self.sorted = self.ids.iter().map(|(t, id)| (t.clone(), *id)).collect();
        self.sorted.sort();
    }

    fn get(&self, term: &str) -> Option<u32> {
        self.ids.get(term).copied()
    }

    /// Ids of the terms matching a wildcard pattern, sorted.
    fn matching(&self, pattern: &Glob) -> Vec<u32> {
        let prefix = pattern.literal_prefix();
        let start = self
            .sorted
            .partition_point(|(t, _)| t.as_ref() < prefix.as_str());
        let mut out: Vec<u32> = self.sorted[start..]
            .iter()
            .take_while(|(t, _)| t.starts_with(prefix.as_str()))
            .filter(|(t, _)| pattern.matches(t))
            .map(|(_, id)| *id)
            .collect();
        out.sort_unstable();
        out
    }
}

/// One package as the search sees it: the values its string, date and integer fields
/// match, and (once [`SearchIndex::new`] has run) its analysed text.
#[derive(Debug, Clone, Default)]
pub struct SearchDoc {
    pub id: String,
    pub name: String,
    pub title: String,
    pub url: String,
    /// Organization name, title and id.
    pub organization: Option<(String, String, String)>,
    /// Group names and titles.
    pub groups: Vec<(String, String)>,
    pub tags: Vec<String>,
    pub res_formats: Vec<String>,
    pub res_urls: Vec<String>,
    pub license_id: String,
    pub extras: Vec<(String, String)>,
    pub metadata_modified: NaiveDateTime,
    pub metadata_created: NaiveDateTime,
    pub num_resources: i64,
    pub num_tags: i64,
    /// Filled by [`SearchIndex::new`].
    pub(super) analysed: Analysed,
}

/// The texts of a package that are only searched, never matched whole: analysed by
/// [`SearchIndex::new`] and then dropped, so they are not kept twice.
#[derive(Debug, Clone, Default)]
pub struct DocText {
    pub notes: String,
    pub res_names: Vec<String>,
    pub res_descriptions: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Analysed {
    title: Vec<u32>,
    notes: Vec<u32>,
    res_names: Vec<Vec<u32>>,
    res_descriptions: Vec<Vec<u32>>,
    /// The analysed value of each extra, in the order of [`SearchDoc::extras`].
    extras: Vec<Vec<u32>>,
    /// The rest of CKAN's catch-all `text` field: name, tags, groups, organization,
    /// formats.
    other: Vec<Vec<u32>>,
    /// The distinct terms of `text` (all of the above), sorted.
    text_terms: Vec<u32>,
    /// Lower-cased tag names, for DisMax's `tags^2`.
    tags_lower: Vec<String>,
}

impl Analysed {
    /// Every token run of CKAN's `text` field.
    fn text_runs(&self) -> impl Iterator<Item = &[u32]> {
        [self.title.as_slice(), self.notes.as_slice()]
            .into_iter()
            .chain(self.res_names.iter().map(Vec::as_slice))
            .chain(self.res_descriptions.iter().map(Vec::as_slice))
            .chain(self.extras.iter().map(Vec::as_slice))
            .chain(self.other.iter().map(Vec::as_slice))
    }
}

/// Analyses texts into interned terms, remembering the short ones: tags, group and
/// organization titles, formats and most extras repeat across packages.
struct Indexer {
    analyzer: Analyzer,
    terms: Terms,
    memo: HashMap<String, Vec<u32>>,
}

impl Indexer {
    fn run(&mut self, text: &str) -> Vec<u32> {
        if let Some(ids) = self.memo.get(text) {
            return ids.clone();
        }
        let ids: Vec<u32> = self
            .analyzer
            .tokens(text)
            .iter()
            .map(|t| self.terms.intern(t))
            .collect();
        if text.len() <= 300 {
            self.memo.insert(text.to_string(), ids.clone());
        }
        ids
    }
}

impl SearchDoc {
    fn analyse(&mut self, text: DocText, indexer: &mut Indexer) {
        let mut run = |text: &str| -> Vec<u32> { indexer.run(text) };
        let title = run(&self.title);
        let notes = run(&text.notes);
        let res_names: Vec<Vec<u32>> = text.res_names.iter().map(|s| run(s)).collect();
        let res_descriptions: Vec<Vec<u32>> =
            text.res_descriptions.iter().map(|s| run(s)).collect();
        // JSON-valued extras (theme aggregates, temporal coverage, the GeoJSON bbox) would
        // only put URI and number fragments into `text`: left unanalysed.
        let extras: Vec<Vec<u32>> = self
            .extras
            .iter()
            .map(|(_, v)| {
                if v.starts_with('[') || v.starts_with('{') {
                    Vec::new()
                } else {
                    run(v)
                }
            })
            .collect();
        let mut other = vec![run(&self.name)];
        other.extend(self.tags.iter().map(|t| run(t)));
        for (name, title) in &self.groups {
            other.push(run(name));
            other.push(run(title));
        }
        if let Some((name, title, _)) = &self.organization {
            other.push(run(name));
            other.push(run(title));
        }
        other.extend(self.res_formats.iter().map(|f| run(f)));
        other.retain(|run| !run.is_empty());
        let mut analysed = Analysed {
            title,
            notes,
            res_names,
            res_descriptions,
            extras,
            other,
            text_terms: Vec::new(),
            tags_lower: self.tags.iter().map(|t| t.to_lowercase()).collect(),
        };
        let mut terms: Vec<u32> = analysed.text_runs().flatten().copied().collect();
        terms.sort_unstable();
        terms.dedup();
        terms.shrink_to_fit();
        analysed.text_terms = terms;
        self.analysed = analysed;
    }

    /// The exact (string-field) values of `field`, as faceting and string matching see
    /// them. Text, date and integer fields have none.
    pub fn string_values(&self, field: &str) -> Vec<&str> {
        match resolve(field) {
            Field::Str(f) => self.str_values(f),
            Field::Extra(key) => self
                .extras
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }

    fn str_values(&self, field: StrField) -> Vec<&str> {
        match field {
            StrField::Id => vec![self.id.as_str()],
            StrField::Name => vec![self.name.as_str()],
            StrField::TitleString => vec![self.title.as_str()],
            StrField::Url => vec![self.url.as_str()],
            StrField::Organization => self
                .organization
                .iter()
                .map(|(name, _, _)| name.as_str())
                .collect(),
            StrField::OwnerOrg => self
                .organization
                .iter()
                .map(|(_, _, id)| id.as_str())
                .collect(),
            StrField::Groups => self.groups.iter().map(|(n, _)| n.as_str()).collect(),
            StrField::Tags => self.tags.iter().map(String::as_str).collect(),
            StrField::ResFormat => self.res_formats.iter().map(String::as_str).collect(),
            StrField::ResUrl => self.res_urls.iter().map(String::as_str).collect(),
            StrField::LicenseId => vec![self.license_id.as_str()],
            StrField::State => vec!["active"],
            StrField::Type => vec!["dataset"],
            StrField::Capacity => vec!["public"],
            StrField::EntityType => vec!["package"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrField {
    Id,
    Name,
    TitleString,
    Url,
    Organization,
    OwnerOrg,
    Groups,
    Tags,
    ResFormat,
    ResUrl,
    LicenseId,
    State,
    Type,
    Capacity,
    EntityType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextField {
    Text,
    Title,
    Notes,
    ResName,
    ResDescription,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateField {
    Modified,
    Created,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntField {
    NumResources,
    NumTags,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Str(StrField),
    Text(TextField),
    /// `extras_<key>`: the extra's value, analysed.
    ExtraText(String),
    /// Any other name: the extra with that key, matched exactly.
    Extra(String),
    Date(DateField),
    Int(IntField),
}

fn resolve(name: &str) -> Field {
    match name {
        "id" => Field::Str(StrField::Id),
        "name" => Field::Str(StrField::Name),
        "title_string" => Field::Str(StrField::TitleString),
        "url" => Field::Str(StrField::Url),
        "organization" => Field::Str(StrField::Organization),
        "owner_org" => Field::Str(StrField::OwnerOrg),
        "groups" => Field::Str(StrField::Groups),
        "tags" => Field::Str(StrField::Tags),
        "res_format" => Field::Str(StrField::ResFormat),
        "res_url" => Field::Str(StrField::ResUrl),
        "license_id" => Field::Str(StrField::LicenseId),
        "state" => Field::Str(StrField::State),
        "type" | "dataset_type" => Field::Str(StrField::Type),
        "capacity" => Field::Str(StrField::Capacity),
        "entity_type" => Field::Str(StrField::EntityType),
        "text" => Field::Text(TextField::Text),
        "title" => Field::Text(TextField::Title),
        "notes" => Field::Text(TextField::Notes),
        "res_name" => Field::Text(TextField::ResName),
        "res_description" => Field::Text(TextField::ResDescription),
        "metadata_modified" => Field::Date(DateField::Modified),
        "metadata_created" => Field::Date(DateField::Created),
        "num_resources" => Field::Int(IntField::NumResources),
        "num_tags" => Field::Int(IntField::NumTags),
        other => match other.strip_prefix("extras_") {
            Some(key) => Field::ExtraText(key.to_string()),
            None => Field::Extra(other.to_string()),
        },
    }
}

/// A `*` / `?` wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Glob(Vec<char>);

impl Glob {
    fn literal_prefix(&self) -> String {
        self.0
            .iter()
            .take_while(|c| **c != '*' && **c != '?')
            .collect()
    }

    fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.0;
        // Iterative wildcard matching with backtracking to the last `*`.
        let (mut ti, mut pi) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some('?') => {
                    ti += 1;
                    pi += 1;
                }
                Some(c) if *c == t[ti] => {
                    ti += 1;
                    pi += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|c| *c == '*')
    }
}

/// One end of a range; `None` is `*`.
#[derive(Debug, Clone, PartialEq)]
struct Bound<T> {
    value: Option<T>,
    inclusive: bool,
}

impl<T: PartialOrd> Bound<T> {
    fn below(&self, x: &T) -> bool {
        match &self.value {
            None => true,
            Some(v) if self.inclusive => v <= x,
            Some(v) => v < x,
        }
    }

    fn above(&self, x: &T) -> bool {
        match &self.value {
            None => true,
            Some(v) if self.inclusive => x <= v,
            Some(v) => x < v,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    /// `field:*`: the field has a value.
    Any,
    Never,
    StrEq(String),
    StrGlob(Glob),
    StrRange(Bound<String>, Bound<String>),
    /// A phrase of analysed terms (one term is a phrase of one).
    Phrase(Vec<u32>),
    /// Any of these terms (a wildcard expanded over the index's terms).
    AnyTerm(Vec<u32>),
    DateEq(NaiveDateTime),
    DateRange(Bound<NaiveDateTime>, Bound<NaiveDateTime>),
    IntEq(i64),
    IntRange(Bound<i64>, Bound<i64>),
}

/// A parsed standard-syntax query.
#[derive(Debug, Clone, PartialEq)]
enum Query {
    All,
    /// A clause that analysed to nothing (dropped, as Lucene drops it).
    Empty,
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
    Clause(Field, Matcher),
}

impl Query {
    fn and(parts: Vec<Query>) -> Query {
        let mut parts: Vec<Query> = parts.into_iter().filter(|q| *q != Query::Empty).collect();
        match parts.len() {
            0 => Query::Empty,
            1 => parts.remove(0),
            _ => Query::And(parts),
        }
    }

    fn or(parts: Vec<Query>) -> Query {
        let mut parts: Vec<Query> = parts.into_iter().filter(|q| *q != Query::Empty).collect();
        match parts.len() {
            0 => Query::Empty,
            1 => parts.remove(0),
            _ => Query::Or(parts),
        }
    }

    fn not(inner: Query) -> Query {
        match inner {
            Query::Empty => Query::Empty,
            q => Query::Not(Box::new(q)),
        }
    }

    fn matches(&self, doc: &SearchDoc) -> bool {
        match self {
            Query::All => true,
            Query::Empty => false,
            Query::Not(q) => !q.matches(doc),
            Query::And(qs) => qs.iter().all(|q| q.matches(doc)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(doc)),
            Query::Clause(field, m) => clause_matches(field, m, doc),
        }
    }
}

fn contains_run(haystack: &[u32], needle: &[u32]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn runs_match<'a>(runs: impl IntoIterator<Item = &'a [u32]>, m: &Matcher) -> bool {
    let mut runs = runs.into_iter();
    match m {
        Matcher::Any => runs.any(|r| !r.is_empty()),
        Matcher::Phrase(p) => runs.any(|r| contains_run(r, p)),
        Matcher::AnyTerm(ids) => runs.flatten().any(|t| ids.binary_search(t).is_ok()),
        _ => false,
    }
}

fn clause_matches(field: &Field, m: &Matcher, doc: &SearchDoc) -> bool {
    if *m == Matcher::Never {
        return false;
    }
    let a = &doc.analysed;
    match field {
        Field::Str(f) => str_match(&doc.str_values(*f), m),
        Field::Extra(key) => {
            let values: Vec<&str> = doc
                .extras
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            str_match(&values, m)
        }
        Field::Text(TextField::Text) => match m {
            Matcher::Phrase(p) if p.len() == 1 => a.text_terms.binary_search(&p[0]).is_ok(),
            Matcher::AnyTerm(ids) => a.text_terms.iter().any(|t| ids.binary_search(t).is_ok()),
            _ => runs_match(a.text_runs(), m),
        },
        Field::Text(TextField::Title) => runs_match([a.title.as_slice()], m),
        Field::Text(TextField::Notes) => runs_match([a.notes.as_slice()], m),
        Field::Text(TextField::ResName) => runs_match(a.res_names.iter().map(Vec::as_slice), m),
        Field::Text(TextField::ResDescription) => {
            runs_match(a.res_descriptions.iter().map(Vec::as_slice), m)
        }
        Field::ExtraText(key) => runs_match(
            doc.extras
                .iter()
                .zip(&a.extras)
                .filter(|((k, _), _)| k == key)
                .map(|(_, run)| run.as_slice()),
            m,
        ),
        Field::Date(f) => {
            let value = match f {
                DateField::Modified => doc.metadata_modified,
                DateField::Created => doc.metadata_created,
            };
            match m {
                Matcher::Any => true,
                Matcher::DateEq(d) => value == *d,
                Matcher::DateRange(lo, hi) => lo.below(&value) && hi.above(&value),
                _ => false,
            }
        }
        Field::Int(f) => {
            let value = match f {
                IntField::NumResources => doc.num_resources,
                IntField::NumTags => doc.num_tags,
            };
            match m {
                Matcher::Any => true,
                Matcher::IntEq(n) => value == *n,
                Matcher::IntRange(lo, hi) => lo.below(&value) && hi.above(&value),
                _ => false,
            }
        }
    }
}

fn str_match(values: &[&str], m: &Matcher) -> bool {
    match m {
        Matcher::Any => !values.is_empty(),
        Matcher::StrEq(s) => values.iter().any(|v| v == s),
        Matcher::StrGlob(g) => values.iter().any(|v| g.matches(v)),
        Matcher::StrRange(lo, hi) => values.iter().any(|v| {
            let v = (*v).to_string();
            lo.below(&v) && hi.above(&v)
        }),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Value {
    /// An unquoted value, escapes removed; `wild` when it holds an unescaped `*` or `?`.
    Bare {
        text: String,
        wild: bool,
    },
    Quoted(String),
    Range {
        lo: Option<String>,
        hi: Option<String>,
        lo_inclusive: bool,
        hi_inclusive: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Plus,
    Minus,
    /// `field:(`: a group whose bare values search `field`.
    FieldGroup(String),
    Clause {
        field: Option<String>,
        value: Value,
    },
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    param: &'static str,
    input: &'a str,
}

const SPECIAL: &[char] = &['(', ')', '"', '[', ']', '{', '}'];

impl<'a> Lexer<'a> {
    fn new(param: &'static str, input: &'a str) -> Lexer<'a> {
        Lexer {
            chars: input.chars().collect(),
            pos: 0,
            param,
            input,
        }
    }

    fn error(&self, position: usize, problem: impl Into<String>) -> QueryError {
        QueryError::Syntax {
            param: self.param,
            input: excerpt(self.input),
            position,
            problem: problem.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn tokens(mut self) -> Result<Vec<(usize, Tok)>, QueryError> {
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += 1;
                continue;
            }
            let next = self.chars.get(self.pos + 1).copied();
            let tok = match c {
                '(' => {
                    self.pos += 1;
                    Tok::LParen
                }
                ')' => {
                    self.pos += 1;
                    Tok::RParen
                }
                '+' | '-' | '!' => {
                    if next.is_none_or(|n| n.is_whitespace() || n == ')') {
                        return Err(self.error(start, format!("{c:?} is not followed by a clause")));
                    }
                    self.pos += 1;
                    match c {
                        '+' => Tok::Plus,
                        '-' => Tok::Minus,
                        _ => Tok::Not,
                    }
                }
                '&' if next == Some('&') => {
                    self.pos += 2;
                    Tok::And
                }
                '|' if next == Some('|') => {
                    self.pos += 2;
                    Tok::Or
                }
                '"' => Tok::Clause {
                    field: None,
                    value: Value::Quoted(self.quoted()?),
                },
                '[' | '{' => Tok::Clause {
                    field: None,
                    value: self.range()?,
                },
                ']' | '}' => return Err(self.error(start, format!("unexpected {c:?}"))),
                _ => self.term()?,
            };
            out.push((start, tok));
        }
        Ok(out)
    }

    /// Reads `"..."` starting at the quote; returns the content, escapes removed.
    fn quoted(&mut self) -> Result<String, QueryError> {
        let start = self.pos;
        self.pos += 1;
        let mut s = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => {
                    if let Some(e) = self.peek() {
                        s.push(e);
                        self.pos += 1;
                    }
                }
                '"' => return Ok(s),
                _ => s.push(c),
            }
        }
        Err(self.error(start, "unterminated quoted string"))
    }

    /// Reads `[a TO b]` or `{a TO b}` (the brackets may be mixed).
    fn range(&mut self) -> Result<Value, QueryError> {
        let start = self.pos;
        let lo_inclusive = self.peek() == Some('[');
        self.pos += 1;
        let mut parts: Vec<(String, bool)> = Vec::new();
        let hi_inclusive;
        loop {
            match self.peek() {
                None => return Err(self.error(start, "unterminated range")),
                Some(c) if c.is_whitespace() => self.pos += 1,
                Some(']') => {
                    hi_inclusive = true;
                    self.pos += 1;
                    break;
                }
                Some('}') => {
                    hi_inclusive = false;
                    self.pos += 1;
                    break;
                }
                Some('"') => {
                    let s = self.quoted()?;
                    parts.push((s, true));
                }
                Some(_) => {
                    let mut s = String::new();
                    while let Some(c) = self.peek() {
                        if c.is_whitespace() || c == ']' || c == '}' {
                            break;
                        }
                        self.pos += 1;
                        if c == '\\' {
                            if let Some(e) = self.peek() {
                                s.push(e);
                                self.pos += 1;
                            }
                        } else {
                            s.push(c);
                        }
                    }
                    parts.push((s, false));
                }
            }
        }
        match parts.as_slice() {
            [(lo, lo_q), (to, false), (hi, hi_q)] if to == "TO" => {
                let end = |s: &String, quoted: bool| (quoted || s != "*").then(|| s.clone());
                Ok(Value::Range {
                    lo: end(lo, *lo_q),
                    hi: end(hi, *hi_q),
                    lo_inclusive,
                    hi_inclusive,
                })
            }
            _ => Err(self.error(start, "a range must read [from TO to]")),
        }
    }

    /// Reads an unquoted term, possibly `field:value`, `field:"..."`, `field:[..]` or
    /// `field:(`.
    fn term(&mut self) -> Result<Tok, QueryError> {
        let start = self.pos;
        let mut text = String::new();
        let mut wild = false;
        let mut field: Option<String> = None;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || SPECIAL.contains(&c) {
                break;
            }
            self.pos += 1;
            match c {
                '\\' => {
                    if let Some(e) = self.peek() {
                        text.push(e);
                        self.pos += 1;
                    }
                }
                ':' if field.is_none() => {
                    if text.is_empty() {
                        return Err(self.error(start, "a field name is missing before ':'"));
                    }
                    field = Some(std::mem::take(&mut text));
                    wild = false;
                    match self.peek() {
                        Some('"') => {
                            return Ok(Tok::Clause {
                                field,
                                value: Value::Quoted(self.quoted()?),
                            });
                        }
                        Some('[') | Some('{') => {
                            return Ok(Tok::Clause {
                                field,
                                value: self.range()?,
                            });
                        }
                        Some('(') => {
                            self.pos += 1;
                            return Ok(Tok::FieldGroup(field.unwrap_or_default()));
                        }
                        None => {
                            return Err(self.error(self.pos, "a value is missing after ':'"));
                        }
                        Some(c) if c.is_whitespace() || SPECIAL.contains(&c) => {
                            return Err(self.error(self.pos, "a value is missing after ':'"));
                        }
                        Some(_) => {}
                    }
                }
                '*' | '?' => {
                    wild = true;
                    text.push(c);
                }
                _ => text.push(c),
            }
        }
        if field.is_none() {
            match text.as_str() {
                "AND" => return Ok(Tok::And),
                "OR" => return Ok(Tok::Or),
                "NOT" => return Ok(Tok::Not),
                _ => {}
            }
        }
        Ok(Tok::Clause {
            field,
            value: Value::Bare { text, wild },
        })
    }
}

// ---------------------------------------------------------------------------------------
// Parser

/// Deepest nesting of groups and unary operators a query may have: the parser and the
/// evaluator recurse, and a hostile `((((…` must be an error, not a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// Most clauses (terms) one `q` or `fq` may have: Solr's default `maxBooleanClauses`.
pub const MAX_CLAUSES: usize = 1024;

struct Parser<'a> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    /// Current nesting of `unary` calls.
    depth: usize,
    /// Clauses parsed so far.
    clauses: usize,
    param: &'static str,
    input: &'a str,
    analyzer: &'a mut Analyzer,
    terms: &'a Terms,
}

impl Parser<'_> {
    fn error(&self, problem: impl Into<String>) -> QueryError {
        let position = self
            .toks
            .get(self.pos)
            .map_or(self.input.chars().count(), |(p, _)| *p);
        QueryError::Syntax {
            param: self.param,
            input: excerpt(self.input),
            position,
            problem: problem.into(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    /// Juxtaposed clauses (implicit AND), up to the end or a `)`.
    fn seq(&mut self, field: &str) -> Result<Query, QueryError> {
        let mut parts = Vec::new();
        while let Some(t) = self.peek() {
            if *t == Tok::RParen {
                break;
            }
            parts.push(self.or(field)?);
        }
        if parts.is_empty() {
            return Err(self.error("an empty query or group"));
        }
        Ok(Query::and(parts))
    }

    fn or(&mut self, field: &str) -> Result<Query, QueryError> {
        let mut parts = vec![self.and(field)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and(field)?);
        }
        Ok(Query::or(parts))
    }

    fn and(&mut self, field: &str) -> Result<Query, QueryError> {
        let mut parts = vec![self.unary(field)?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.unary(field)?);
        }
        Ok(Query::and(parts))
    }

    fn unary(&mut self, field: &str) -> Result<Query, QueryError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!(
                "groups and operators are nested more than {MAX_DEPTH} deep"
            )));
        }
        self.depth += 1;
        let q = self.unary_inner(field);
        self.depth -= 1;
        q
    }

    fn unary_inner(&mut self, field: &str) -> Result<Query, QueryError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error("a clause is missing at the end"));
        };
        self.pos += 1;
        match tok {
            Tok::Minus | Tok::Not => Ok(Query::not(self.unary(field)?)),
            Tok::Plus => self.unary(field),
            Tok::LParen => {
                let q = self.seq(field)?;
                self.close()?;
                Ok(q)
            }
            Tok::FieldGroup(f) => {
                let q = self.seq(&f)?;
                self.close()?;
                Ok(q)
            }
            Tok::Clause { field: f, value } => {
                let f = f.unwrap_or_else(|| field.to_string());
                self.clause(&f, value)
            }
            Tok::RParen => {
                self.pos -= 1;
                Err(self.error("unbalanced ')'"))
            }
            Tok::And | Tok::Or => {
                self.pos -= 1;
                Err(self.error("an operator without a clause before it"))
            }
        }
    }

    fn close(&mut self) -> Result<(), QueryError> {
        if self.peek() == Some(&Tok::RParen) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error("a '(' is never closed"))
        }
    }

    fn clause(&mut self, name: &str, value: Value) -> Result<Query, QueryError> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            return Err(self.error(format!("more than {MAX_CLAUSES} clauses")));
        }
        if name == "*" {
            return match value {
                Value::Bare { text, .. } if text == "*" => Ok(Query::All),
                _ => Err(self.error("'*' as a field name only works as *:*")),
            };
        }
        let field = resolve(name);
        if let Value::Bare { text, .. } = &value
            && text == "*"
        {
            return Ok(Query::Clause(field, Matcher::Any));
        }
        let matcher = match &field {
            Field::Str(_) | Field::Extra(_) => match value {
                Value::Bare { text, wild: true } => Matcher::StrGlob(Glob(text.chars().collect())),
                Value::Bare { text, .. } | Value::Quoted(text) => Matcher::StrEq(text),
                Value::Range {
                    lo,
                    hi,
                    lo_inclusive,
                    hi_inclusive,
                } => Matcher::StrRange(
                    Bound {
                        value: lo,
                        inclusive: lo_inclusive,
                    },
                    Bound {
                        value: hi,
                        inclusive: hi_inclusive,
                    },
                ),
            },
            Field::Text(_) | Field::ExtraText(_) => match value {
                Value::Bare { text, wild: true } => {
                    let pattern = Glob(text.to_lowercase().chars().collect());
                    let ids = self.terms.matching(&pattern);
                    if ids.is_empty() {
                        Matcher::Never
                    } else {
                        Matcher::AnyTerm(ids)
                    }
                }
                Value::Bare { text, .. } | Value::Quoted(text) => {
                    let tokens = self.analyzer.tokens(&text);
                    if tokens.is_empty() {
                        return Ok(Query::Empty);
                    }
                    let ids: Option<Vec<u32>> = tokens.iter().map(|t| self.terms.get(t)).collect();
                    ids.map_or(Matcher::Never, Matcher::Phrase)
                }
                Value::Range { .. } => {
                    return Err(self.error(format!(
                        "ranges are not supported on the text field {name:?}"
                    )));
                }
            },
            Field::Date(_) => match value {
                Value::Bare { text, .. } | Value::Quoted(text) => {
                    Matcher::DateEq(self.date(&text)?)
                }
                Value::Range {
                    lo,
                    hi,
                    lo_inclusive,
                    hi_inclusive,
                } => Matcher::DateRange(
                    Bound {
                        value: lo.map(|s| self.date(&s)).transpose()?,
                        inclusive: lo_inclusive,
                    },
                    Bound {
                        value: hi.map(|s| self.date(&s)).transpose()?,
                        inclusive: hi_inclusive,
                    },
                ),
            },
            Field::Int(_) => match value {
                Value::Bare { text, .. } | Value::Quoted(text) => Matcher::IntEq(self.int(&text)?),
                Value::Range {
                    lo,
                    hi,
                    lo_inclusive,
                    hi_inclusive,
                } => Matcher::IntRange(
                    Bound {
                        value: lo.map(|s| self.int(&s)).transpose()?,
                        inclusive: lo_inclusive,
                    },
                    Bound {
                        value: hi.map(|s| self.int(&s)).transpose()?,
                        inclusive: hi_inclusive,
                    },
                ),
            },
        };
        Ok(Query::Clause(field, matcher))
    }

    fn date(&self, text: &str) -> Result<NaiveDateTime, QueryError> {
        let back = self.pos.saturating_sub(1);
        parse_solr_date(text).ok_or_else(|| {
            let position = self.toks.get(back).map_or(0, |(p, _)| *p);
            QueryError::Syntax {
                param: self.param,
                input: excerpt(self.input),
                position,
                problem: format!(
                    "invalid date {text:?}: expected YYYY-MM-DDTHH:MM:SS[.ffffff]Z or YYYY-MM-DD"
                ),
            }
        })
    }

    fn int(&self, text: &str) -> Result<i64, QueryError> {
        text.parse()
            .map_err(|_| self.error(format!("{text:?} is not an integer")))
    }
}

/// Parses a Solr date (`2024-01-01T00:00:00Z`, optionally with a fraction, the `Z`
/// optional) or a plain date (`2024-01-01`, meaning its midnight).
pub fn parse_solr_date(text: &str) -> Option<NaiveDateTime> {
    let t = text.strip_suffix('Z').unwrap_or(text);
    NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

// ---------------------------------------------------------------------------------------
// DisMax

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occur {
    Must,
    MustNot,
    Should,
}

#[derive(Debug, Clone)]
struct DisMaxTerm {
    occur: Occur,
    /// The term as typed, lower-cased (for the string fields `name`, `tags`, `groups`).
    raw: String,
    /// Its analysed form; `None` when a token is in no document.
    phrase: Option<Vec<u32>>,
}

#[derive(Debug, Clone)]
struct DisMax {
    terms: Vec<DisMaxTerm>,
    min_should: usize,
}

/// CKAN's `mm` = `2<-1 5<80%`.
fn min_should_match(optional: usize) -> usize {
    match optional {
        0..=2 => optional,
        3..=5 => optional - 1,
        n => n * 4 / 5,
    }
}

fn parse_dismax(q: &str, analyzer: &mut Analyzer, terms: &Terms) -> Result<DisMax, QueryError> {
    let mut out = Vec::new();
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut occur = Occur::Should;
        if (chars[i] == '+' || chars[i] == '-')
            && chars.get(i + 1).is_some_and(|c| !c.is_whitespace())
        {
            occur = if chars[i] == '+' {
                Occur::Must
            } else {
                Occur::MustNot
            };
            i += 1;
        }
        let mut text = String::new();
        if chars.get(i) == Some(&'"') {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                text.push(chars[i]);
                i += 1;
            }
            i += 1;
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                text.push(chars[i]);
                i += 1;
            }
        }
        let tokens = analyzer.tokens(&text);
        if tokens.is_empty() {
            continue;
        }
        if out.len() >= MAX_CLAUSES {
            return Err(QueryError::Syntax {
                param: "q",
                input: excerpt(q),
                position: i,
                problem: format!("more than {MAX_CLAUSES} terms"),
            });
        }
        let phrase: Option<Vec<u32>> = tokens.iter().map(|t| terms.get(t)).collect();
        out.push(DisMaxTerm {
            occur,
            raw: text.to_lowercase(),
            phrase,
        });
    }
    let optional = out.iter().filter(|t| t.occur == Occur::Should).count();
    Ok(DisMax {
        terms: out,
        min_should: min_should_match(optional),
    })
}

impl DisMax {
    /// The score of `doc`, `None` if it does not match. Field weights are CKAN's `qf`
    /// (`name^4 title^4 tags^2 groups^2 text`) combined with `tie=0.1`, in tenths.
    fn score(&self, doc: &SearchDoc) -> Option<u64> {
        if self.terms.is_empty() {
            return None;
        }
        let a = &doc.analysed;
        let mut matched_should = 0;
        let mut score = 0u64;
        for term in &self.terms {
            let mut weights = [0u64; 5];
            if doc.name == term.raw {
                weights[0] = 4;
            }
            if let Some(p) = &term.phrase {
                if contains_run(&a.title, p) {
                    weights[1] = 4;
                }
                let in_text = if p.len() == 1 {
                    a.text_terms.binary_search(&p[0]).is_ok()
                } else {
                    a.text_runs().any(|r| contains_run(r, p))
                };
                if in_text {
                    weights[4] = 1;
                }
            }
            if a.tags_lower.contains(&term.raw) {
                weights[2] = 2;
            }
            if doc.groups.iter().any(|(name, _)| *name == term.raw) {
                weights[3] = 2;
            }
            let max = weights.iter().copied().max().unwrap_or(0);
            let sum: u64 = weights.iter().sum();
            let matched = max > 0;
            match term.occur {
                Occur::MustNot if matched => return None,
                Occur::Must if !matched => return None,
                Occur::Should if matched => matched_should += 1,
                _ => {}
            }
            if term.occur != Occur::MustNot {
                score += 10 * max + (sum - max);
            }
        }
        let has_positive = self.terms.iter().any(|t| t.occur != Occur::MustNot);
        if !has_positive || matched_should < self.min_should {
            return None;
        }
        Some(score)
    }
}

// ---------------------------------------------------------------------------------------
// Sorting

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Score,
    Id,
    Name,
    TitleString,
    MetadataModified,
    MetadataCreated,
    NumResources,
    NumTags,
}

/// CKAN's default `sort`.
pub const DEFAULT_SORT: &str = "score desc, metadata_modified desc";

fn parse_sort(spec: &str) -> Result<Vec<(SortKey, bool)>, QueryError> {
    let mut out = Vec::new();
    for part in spec.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let (field, order) = match words.as_slice() {
            [] => continue,
            [field, order] => (*field, *order),
            _ => {
                return Err(QueryError::SortOrder {
                    spec: excerpt(spec),
                    problem: format!(
                        "{:?} is not \"field asc\" or \"field desc\"",
                        excerpt(part.trim())
                    ),
                });
            }
        };
        let desc = match order.to_ascii_lowercase().as_str() {
            "asc" => false,
            "desc" => true,
            _ => {
                return Err(QueryError::SortOrder {
                    spec: excerpt(spec),
                    problem: format!(
                        "can't determine a sort order (asc or desc) in {:?}",
                        excerpt(order)
                    ),
                });
            }
        };
        let key = match field {
            "score" => SortKey::Score,
            "id" => SortKey::Id,
            "name" => SortKey::Name,
            "title_string" => SortKey::TitleString,
            "metadata_modified" => SortKey::MetadataModified,
            "metadata_created" => SortKey::MetadataCreated,
            "num_resources" => SortKey::NumResources,
            "num_tags" => SortKey::NumTags,
            other => {
                return Err(QueryError::SortField {
                    field: excerpt(other),
                });
            }
        };
        out.push((key, desc));
    }
    if out.is_empty() {
        return Err(QueryError::SortOrder {
            spec: excerpt(spec),
            problem: "no sort field".to_string(),
        });
    }
    Ok(out)
}

fn compare(key: SortKey, a: (&SearchDoc, f64), b: (&SearchDoc, f64)) -> Ordering {
    let (da, sa) = a;
    let (db, sb) = b;
    match key {
        SortKey::Score => sa.total_cmp(&sb),
        SortKey::Id => da.id.cmp(&db.id),
        SortKey::Name => da.name.cmp(&db.name),
        SortKey::TitleString => da.title.cmp(&db.title),
        SortKey::MetadataModified => da.metadata_modified.cmp(&db.metadata_modified),
        SortKey::MetadataCreated => da.metadata_created.cmp(&db.metadata_created),
        SortKey::NumResources => da.num_resources.cmp(&db.num_resources),
        SortKey::NumTags => da.num_tags.cmp(&db.num_tags),
    }
}

// ---------------------------------------------------------------------------------------
// The index and a search

/// What `package_search` asks for, its parameters already validated.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: Option<String>,
    /// Filter queries, all of which must match.
    pub fq: Vec<String>,
    pub sort: Option<String>,
    pub start: usize,
    pub rows: usize,
    pub facet_fields: Vec<String>,
    /// Values per facet field; negative for all.
    pub facet_limit: i64,
    pub facet_mincount: u64,
}

/// The answer: the total count, the documents of the page (indices into the index's
/// documents) and the facet counts, `(field, [(value, count)])`, counts descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOutcome {
    pub count: usize,
    pub page: Vec<usize>,
    pub facets: Vec<(String, Vec<(String, usize)>)>,
}

/// What a `q` is, which decides how it is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// Absent, empty, `*:*`, `*`, `""` or `''`: every package.
    All,
    /// With a `:`: standard (Lucene) syntax over the fields, evaluated here.
    Fields,
    /// Words, `"phrases"`, `+must` and `-not`: the search engine's business when there is
    /// one, else DisMax.
    FreeText,
}

impl QueryKind {
    pub fn of(q: Option<&str>) -> QueryKind {
        let q = q.map(str::trim).unwrap_or("");
        if matches!(q, "" | "*:*" | "*" | "\"\"" | "''") {
            QueryKind::All
        } else if q.contains(':') {
            QueryKind::Fields
        } else {
            QueryKind::FreeText
        }
    }
}

/// The packages a search engine matched for a free-text `q`, with their scores, by
/// document index of the [`SearchIndex`] (the order of `CkanCatalog::packages`).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineScores {
    scores: Vec<Option<f32>>,
}

impl EngineScores {
    /// No package matched, for an index of `len` documents.
    pub fn none(len: usize) -> EngineScores {
        EngineScores {
            scores: vec![None; len],
        }
    }

    /// Marks document `index` as matched with `score`; a document matched twice keeps its
    /// best score. An index out of range is ignored.
    pub fn insert(&mut self, index: usize, score: f32) {
        if let Some(slot) = self.scores.get_mut(index) {
            *slot = Some(slot.map_or(score, |s| s.max(score)));
        }
    }

    /// The score of document `index`, `None` when it did not match.
    pub fn get(&self, index: usize) -> Option<f32> {
        self.scores.get(index).copied().flatten()
    }

    /// How many documents matched.
    pub fn len(&self) -> usize {
        self.scores.iter().filter(|s| s.is_some()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Package documents ready to be searched.
#[derive(Debug)]
pub struct SearchIndex {
    docs: Vec<SearchDoc>,
    terms: Terms,
}

impl SearchIndex {
    /// Analyses the documents with their texts (their order is kept: results refer to
    /// it).
    pub fn new(docs: Vec<(SearchDoc, DocText)>) -> SearchIndex {
        let mut indexer = Indexer {
            analyzer: Analyzer::default(),
            terms: Terms::default(),
            memo: HashMap::new(),
        };
        let docs: Vec<SearchDoc> = docs
            .into_iter()
            .map(|(mut doc, text)| {
                doc.analyse(text, &mut indexer);
                doc
            })
            .collect();
        let mut terms = indexer.terms;
        terms.freeze();
        SearchIndex { docs, terms }
    }

    pub fn docs(&self) -> &[SearchDoc] {
        &self.docs
    }

    fn parse(
        &self,
        param: &'static str,
        input: &str,
        analyzer: &mut Analyzer,
    ) -> Result<Query, QueryError> {
        let toks = Lexer::new(param, input).tokens()?;
        let mut parser = Parser {
            toks,
            pos: 0,
            depth: 0,
            clauses: 0,
            param,
            input,
            analyzer,
            terms: &self.terms,
        };
        let q = parser.seq("text")?;
        if parser.pos < parser.toks.len() {
            return Err(parser.error("unbalanced ')'"));
        }
        Ok(q)
    }

    /// Runs a search, a free-text `q` evaluated as DisMax: one pass over the documents,
    /// one sort of the matches.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchOutcome, QueryError> {
        self.search_with(req, None)
    }

    /// [`SearchIndex::search`], a free-text `q` ([`QueryKind::FreeText`]) matching the
    /// documents of `engine` with their scores instead of being evaluated as DisMax.
    /// `engine` is ignored for any other `q`.
    pub fn search_with(
        &self,
        req: &SearchRequest,
        engine: Option<&EngineScores>,
    ) -> Result<SearchOutcome, QueryError> {
        let mut analyzer = Analyzer::default();
        enum Main<'e> {
            All,
            Lucene(Query),
            DisMax(DisMax),
            Engine(&'e EngineScores),
        }
        let q = req.q.as_deref().map(str::trim).unwrap_or("");
        let main = match (QueryKind::of(Some(q)), engine) {
            (QueryKind::All, _) => Main::All,
            (QueryKind::Fields, _) => Main::Lucene(self.parse("q", q, &mut analyzer)?),
            (QueryKind::FreeText, Some(scores)) => Main::Engine(scores),
            (QueryKind::FreeText, None) => {
                Main::DisMax(parse_dismax(q, &mut analyzer, &self.terms)?)
            }
        };
        let mut filters = Vec::new();
        for fq in &req.fq {
            if !fq.trim().is_empty() {
                filters.push(self.parse("fq", fq, &mut analyzer)?);
            }
        }
        let sort = parse_sort(req.sort.as_deref().unwrap_or(DEFAULT_SORT))?;

        // Scores as f64: DisMax's integers and the engine's f32 both convert exactly.
        let mut hits: Vec<(usize, f64)> = Vec::new();
        for (i, doc) in self.docs.iter().enumerate() {
            if let Main::Engine(scores) = &main
                && scores.get(i).is_none()
            {
                continue;
            }
            if !filters.iter().all(|f| f.matches(doc)) {
                continue;
            }
            let score = match &main {
                Main::All => Some(1.0),
                Main::Lucene(query) => query.matches(doc).then_some(1.0),
                Main::DisMax(dm) => dm.score(doc).map(|s| s as f64),
                Main::Engine(scores) => scores.get(i).map(f64::from),
            };
            if let Some(score) = score {
                hits.push((i, score));
            }
        }
        hits.sort_by(|&(ia, sa), &(ib, sb)| {
            let (a, b) = ((&self.docs[ia], sa), (&self.docs[ib], sb));
            for &(key, desc) in &sort {
                let o = compare(key, a, b);
                let o = if desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.0.id.cmp(&b.0.id)
        });

        let facets = req
            .facet_fields
            .iter()
            .map(|field| {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for &(i, _) in &hits {
                    let mut values = self.docs[i].string_values(field);
                    values.sort_unstable();
                    values.dedup();
                    for v in values {
                        *counts.entry(v).or_default() += 1;
                    }
                }
                let mut items: Vec<(String, usize)> = counts
                    .into_iter()
                    .filter(|(_, n)| (*n as u64) >= req.facet_mincount)
                    .map(|(v, n)| (v.to_string(), n))
                    .collect();
                // Stable: equal counts stay in value order, as Solr's index order.
                items.sort_by_key(|item| std::cmp::Reverse(item.1));
                if let Ok(limit) = usize::try_from(req.facet_limit) {
                    items.truncate(limit);
                }
                (field.clone(), items)
            })
            .collect();

        let count = hits.len();
        let page = hits
            .iter()
            .skip(req.start)
            .take(req.rows)
            .map(|&(i, _)| i)
            .collect();
        Ok(SearchOutcome {
            count,
            page,
            facets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        parse_solr_date(s).unwrap()
    }

    fn doc(
        id: &str,
        name: &str,
        title: &str,
        org: &str,
        tags: &[&str],
        modified: &str,
    ) -> (SearchDoc, DocText) {
        let doc = SearchDoc {
            id: id.into(),
            name: name.into(),
            title: title.into(),
            organization: Some((org.into(), format!("Ente {org}"), format!("id-{org}"))),
            groups: vec![("educ".into(), "Istruzione, cultura e sport".into())],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            res_formats: vec!["CSV".into()],
            license_id: "CC-BY-4.0".into(),
            extras: vec![("holder_identifier".into(), org.into())],
            metadata_modified: dt(modified),
            metadata_created: dt(modified),
            num_resources: 1,
            num_tags: tags.len() as i64,
            ..SearchDoc::default()
        };
        let text = DocText {
            notes: format!("Descrizione di {title}"),
            ..DocText::default()
        };
        (doc, text)
    }

    fn index() -> SearchIndex {
        SearchIndex::new(vec![
            doc(
                "1",
                "scuole",
                "Scuole statali",
                "c_b648",
                &["scuole", "istruzione"],
                "2024-03-01T10:00:00",
            ),
            doc(
                "2",
                "mense",
                "Pasti nelle mense scolastiche",
                "c_b648",
                &["mense"],
                "2023-06-01T00:00:00",
            ),
            doc(
                "3",
                "confini",
                "Confine comunale",
                "istat",
                &["confini", "ISTAT"],
                "2025-01-01T00:00:00",
            ),
        ])
    }

    fn ids(index: &SearchIndex, q: Option<&str>, fq: &[&str], sort: Option<&str>) -> Vec<String> {
        let out = index
            .search(&SearchRequest {
                q: q.map(str::to_string),
                fq: fq.iter().map(|s| s.to_string()).collect(),
                sort: sort.map(str::to_string),
                rows: 100,
                facet_limit: 50,
                facet_mincount: 1,
                ..SearchRequest::default()
            })
            .unwrap();
        out.page
            .iter()
            .map(|&i| index.docs()[i].id.clone())
            .collect()
    }

    #[test]
    fn harvester_fq_or_then_range_means_or_and_range() {
        let ix = index();
        // ckanext-harvest sends exactly this shape.
        let got = ids(
            &ix,
            None,
            &[
                "organization:c_b648 OR organization:istat metadata_modified:[2024-01-01T00:00:00.000000Z TO *]",
            ],
            Some("id asc"),
        );
        assert_eq!(got, ["1", "3"]);
        let got = ids(&ix, None, &["-organization:c_b648"], Some("id asc"));
        assert_eq!(got, ["3"]);
        let got = ids(
            &ix,
            None,
            &["metadata_modified:[* TO 2024-03-01T10:00:00Z}"],
            Some("id asc"),
        );
        assert_eq!(got, ["2"]);
    }

    #[test]
    fn string_fields_are_exact_and_text_fields_analysed() {
        let ix = index();
        assert_eq!(ids(&ix, None, &["tags:ISTAT"], None), ["3"]);
        assert!(ids(&ix, None, &["tags:istat"], None).is_empty());
        assert_eq!(ids(&ix, None, &["title:scuola"], None), ["1"]);
        assert_eq!(
            ids(&ix, None, &["title:\"mense scolastiche\""], None),
            ["2"]
        );
        assert!(ids(&ix, None, &["title:\"scolastiche mense\""], None).is_empty());
        assert_eq!(
            ids(&ix, None, &["tags:(mense OR confini)"], Some("id asc")),
            ["2", "3"]
        );
        assert_eq!(ids(&ix, None, &["name:scu*"], None), ["1"]);
        assert_eq!(ids(&ix, None, &["holder_identifier:istat"], None), ["3"]);
        assert!(ids(&ix, None, &["no_such_field:x"], None).is_empty());
        assert_eq!(
            ids(&ix, None, &["-no_such_field:x"], Some("id asc")).len(),
            3
        );
    }

    #[test]
    fn dismax_applies_ckan_minimum_match() {
        let ix = index();
        // Two optional terms: both must match.
        assert_eq!(ids(&ix, Some("scuole statali"), &[], None), ["1"]);
        assert!(ids(&ix, Some("scuole confine"), &[], None).is_empty());
        // Three terms: all but one.
        assert_eq!(ids(&ix, Some("scuole statali xyzzy"), &[], None), ["1"]);
        assert!(ids(&ix, Some("scuole -statali"), &[], None).is_empty());
        assert_eq!(ids(&ix, Some("SCUOLE"), &[], None), ["1"]);
    }

    #[test]
    fn syntax_errors_and_sort_errors_are_reported() {
        let ix = index();
        let search = |fq: &str, sort: Option<&str>| {
            ix.search(&SearchRequest {
                fq: vec![fq.to_string()],
                sort: sort.map(str::to_string),
                rows: 10,
                ..SearchRequest::default()
            })
        };
        assert!(matches!(
            search("(tags:a", None),
            Err(QueryError::Syntax { .. })
        ));
        assert!(matches!(
            search("tags:a)", None),
            Err(QueryError::Syntax { .. })
        ));
        assert!(matches!(
            search("tags:", None),
            Err(QueryError::Syntax { .. })
        ));
        assert!(matches!(
            search("a OR", None),
            Err(QueryError::Syntax { .. })
        ));
        assert!(matches!(
            search("metadata_modified:[yesterday TO *]", None),
            Err(QueryError::Syntax { .. })
        ));
        assert!(matches!(
            search("", Some("id up")),
            Err(QueryError::SortOrder { .. })
        ));
        assert!(matches!(
            search("", Some("id")),
            Err(QueryError::SortOrder { .. })
        ));
        assert!(matches!(
            search("", Some("title asc")),
            Err(QueryError::SortField { .. })
        ));
    }

    #[test]
    fn globs_match_like_lucene_wildcards() {
        let g = |p: &str| Glob(p.chars().collect());
        assert!(g("a*c").matches("abbbc"));
        assert!(g("a?c").matches("abc"));
        assert!(!g("a?c").matches("ac"));
        assert!(g("*").matches(""));
        assert!(g("*b*").matches("abc"));
        assert!(!g("*b").matches("abc"));
    }

    #[test]
    fn query_kinds() {
        for all in [
            None,
            Some(""),
            Some("  "),
            Some("*:*"),
            Some("*"),
            Some("\"\""),
            Some("''"),
        ] {
            assert_eq!(QueryKind::of(all), QueryKind::All, "{all:?}");
        }
        assert_eq!(QueryKind::of(Some("title:scuole")), QueryKind::Fields);
        assert_eq!(QueryKind::of(Some("a OR tags:b")), QueryKind::Fields);
        assert_eq!(QueryKind::of(Some("scuole -statali")), QueryKind::FreeText);
        assert_eq!(QueryKind::of(Some("\"tema 2\"")), QueryKind::FreeText);
    }

    #[test]
    fn engine_scores_replace_dismax_for_free_text_only() {
        let ix = index();
        let run = |q: &str, fq: &[&str], sort: Option<&str>, scores: &EngineScores| {
            let out = ix
                .search_with(
                    &SearchRequest {
                        q: Some(q.to_string()),
                        fq: fq.iter().map(|s| s.to_string()).collect(),
                        sort: sort.map(str::to_string),
                        rows: 100,
                        facet_fields: vec!["organization".into()],
                        facet_limit: 50,
                        facet_mincount: 1,
                        ..SearchRequest::default()
                    },
                    Some(scores),
                )
                .unwrap();
            let ids: Vec<String> = out.page.iter().map(|&i| ix.docs()[i].id.clone()).collect();
            (ids, out.count, out.facets)
        };
        // Documents 0, 1, 2 are ids "1", "2", "3"; the engine matched "3" best, then "1".
        let mut scores = EngineScores::none(3);
        scores.insert(2, 2.5);
        scores.insert(0, 0.5);
        scores.insert(0, 1.5);
        scores.insert(7, 9.0);
        assert_eq!(scores.len(), 2);
        assert_eq!(scores.get(0), Some(1.5));
        // The words do not matter: the engine decided (DisMax would match nothing).
        let (ids, count, facets) = run("xyzzy", &[], None, &scores);
        assert_eq!((ids, count), (vec!["3".to_string(), "1".to_string()], 2));
        assert_eq!(
            facets,
            vec![(
                "organization".to_string(),
                vec![("c_b648".to_string(), 1), ("istat".to_string(), 1)]
            )]
        );
        assert_eq!(run("xyzzy", &[], Some("score asc"), &scores).0, ["1", "3"]);
        assert_eq!(run("xyzzy", &[], Some("id asc"), &scores).0, ["1", "3"]);
        assert_eq!(
            run("xyzzy", &["organization:c_b648"], None, &scores).0,
            ["1"]
        );
        // Field syntax and match-all ignore the engine.
        assert_eq!(run("title:mense", &[], None, &scores).0, ["2"]);
        assert_eq!(run("*:*", &[], Some("id asc"), &scores).0, ["1", "2", "3"]);
        // Nothing matched: nothing found.
        assert_eq!(run("scuole", &[], None, &EngineScores::none(3)).1, 0);
    }

    #[test]
    fn minimum_match_follows_ckan_mm() {
        assert_eq!(
            (1..=10).map(min_should_match).collect::<Vec<_>>(),
            [1, 2, 2, 3, 4, 4, 5, 6, 7, 8]
        );
    }
}
