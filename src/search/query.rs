//! The user's query text turned into a tantivy query.
//!
//! Syntax: words (`scuole primarie`), `"quoted phrases"`, and `-word` or `-"phrase"` to
//! exclude. Nothing else is special: `:`, `*`, `(` are just separators, so no input is a
//! syntax error. Every word must match (in some field); when no record has them all, the
//! engine asks again with [`Mode::Any`] and says the results are relaxed.
//!
//! One word (a [`Unit`]) matches when any of these does, the best one counting
//! (`DisjunctionMaxQuery`, a little of the others added):
//! * its Italian analysis in the Italian fields and its English analysis in the English
//!   fields, each field with its weight ([`super::schema::weighted`]); a word analysing
//!   to several terms (`dell'infanzia-primaria`) is a phrase;
//! * when the word has 5 letters or more and neither analysis occurs anywhere in the index,
//!   the words of the index within one edit of it (a transposition counting as one; the
//!   `words` field is the dictionary), searched like typed words at half weight: typo
//!   tolerance that costs nothing for words spelt right;
//! * synonyms ([`SynonymTable`]): when consecutive words of the query analyse like a
//!   member of a group, the other members are alternatives of those words together
//!   (`multe` also finds `sanzioni`; `scuolabus` finds `trasporto scolastico` and back).
//!
//! Stop words of either language are dropped from the query (see
//! [`super::analysis::is_query_stop_word`]). Phrases keep the gaps stop words leave, so
//! `"scuola dell'infanzia"` matches the indexed title of that name.

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use super::analysis::{self, Analyzers, Lang};
use super::schema::{self, Fields};
use super::synonyms::Synonyms;

/// Weight of a typo-tolerant match relative to an exact one.
const FUZZY_WEIGHT: f32 = 0.5;
/// Weight of a synonym's match relative to the words typed.
const SYNONYM_WEIGHT: f32 = 0.8;
/// Share of the other fields' scores added to the best field's.
const TIE_BREAKER: f32 = 0.2;
/// Most corrections tried for a misspelt word.
const MAX_CORRECTIONS: usize = 4;
/// Shortest word (in characters) that typo tolerance applies to.
const FUZZY_MIN_CHARS: usize = 5;

/// Terms of one analysis with their positions (gaps left by stop words kept).
type Terms = Vec<(usize, String)>;

/// One word or quoted phrase of the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// As typed, lower-cased.
    pub raw: String,
    pub it: Terms,
    pub en: Terms,
    /// Typed in quotes: no typo tolerance, no synonyms.
    pub quoted: bool,
}

impl Unit {
    fn new(raw: &str, quoted: bool, an: &mut Analyzers) -> Unit {
        let raw = raw.to_lowercase();
        Unit {
            it: positioned(&mut an.it, &raw),
            en: positioned(&mut an.en, &raw),
            raw,
            quoted,
        }
    }

    fn is_empty(&self) -> bool {
        self.it.is_empty() && self.en.is_empty()
    }

    fn terms(&self, lang: Lang) -> &Terms {
        match lang {
            Lang::It => &self.it,
            Lang::En => &self.en,
        }
    }
}

fn positioned(analyzer: &mut TextAnalyzer, text: &str) -> Terms {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push((t.position, t.text.clone()));
    }
    if let Some(first) = out.first().map(|t| t.0) {
        for t in &mut out {
            t.0 -= first;
        }
    }
    out
}

/// A required part of the query: words, or words with synonyms.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Unit(Unit),
    /// Consecutive words that form a synonym group's member, and the other members.
    Synonyms {
        words: Vec<Unit>,
        others: Vec<Unit>,
    },
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub required: Vec<Part>,
    pub excluded: Vec<Unit>,
}

impl Parsed {
    /// No word to look for (empty, or only stop words): every record matches.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty()
    }

    /// Has words to look for (not only exclusions, `-calendario`).
    pub fn has_words(&self) -> bool {
        !self.required.is_empty()
    }

    /// The words to highlight in a hit: those typed, and the one-word synonyms. A
    /// several-word synonym is left out: its words match one by one in a text that does not
    /// hold the phrase (`istituti scolastici` would mark every `scolastico`).
    pub fn for_highlight(&self) -> Parsed {
        let required = self
            .required
            .iter()
            .map(|p| match p {
                Part::Unit(u) => Part::Unit(u.clone()),
                Part::Synonyms { words, others } => Part::Synonyms {
                    words: words.clone(),
                    others: others
                        .iter()
                        .filter(|o| o.it.len() <= 1 && o.en.len() <= 1)
                        .cloned()
                        .collect(),
                },
            })
            .collect();
        Parsed {
            required,
            excluded: Vec::new(),
        }
    }
}

/// A synonym group member, analysed.
#[derive(Debug, Clone)]
struct Member {
    group: usize,
    unit: Unit,
    /// Its single-term analysis per word, for matching against the query's words.
    it_words: Vec<String>,
    en_words: Vec<String>,
}

/// The synonyms list, analysed once per index.
#[derive(Debug, Clone, Default)]
pub struct SynonymTable {
    members: Vec<Member>,
}

impl SynonymTable {
    pub fn new(synonyms: &Synonyms) -> SynonymTable {
        let mut an = Analyzers::default();
        let mut members = Vec::new();
        for (g, group) in synonyms.groups.iter().enumerate() {
            for m in group {
                let unit = Unit::new(m, false, &mut an);
                if unit.is_empty() {
                    continue;
                }
                let words: Vec<&str> = m
                    .split_whitespace()
                    .filter(|w| !analysis::is_query_stop_word(&w.to_lowercase()))
                    .collect();
                let one = |a: &mut TextAnalyzer, w: &str| {
                    let t = analysis::tokens(a, w);
                    if t.len() == 1 {
                        t.into_iter().next()
                    } else {
                        None
                    }
                };
                let it_words: Option<Vec<String>> =
                    words.iter().map(|w| one(&mut an.it, w)).collect();
                let en_words: Option<Vec<String>> =
                    words.iter().map(|w| one(&mut an.en, w)).collect();
                members.push(Member {
                    group: g,
                    unit,
                    it_words: it_words.unwrap_or_default(),
                    en_words: en_words.unwrap_or_default(),
                });
            }
        }
        SynonymTable { members }
    }

    /// The longest member matching the words from `at`, and its length in words.
    fn match_at(&self, words: &[Unit], at: usize) -> Option<(usize, &Member)> {
        let single = |u: &Unit, lang: Lang| -> Option<String> {
            let t = u.terms(lang);
            if t.len() == 1 && !u.quoted {
                Some(t[0].1.clone())
            } else {
                None
            }
        };
        let mut best: Option<(usize, &Member)> = None;
        for m in &self.members {
            for (lang, seq) in [(Lang::It, &m.it_words), (Lang::En, &m.en_words)] {
                let n = seq.len();
                if n == 0 || at + n > words.len() || best.is_some_and(|(b, _)| b >= n) {
                    continue;
                }
                if (0..n).all(|i| single(&words[at + i], lang).as_deref() == Some(&seq[i])) {
                    best = Some((n, m));
                }
            }
        }
        best
    }

    fn others(&self, m: &Member) -> Vec<Unit> {
        self.members
            .iter()
            .filter(|o| o.group == m.group && o.unit.raw != m.unit.raw)
            .map(|o| o.unit.clone())
            .collect()
    }
}

/// Splits the query text into words and phrases, and groups synonyms.
pub fn parse(q: &str, synonyms: &SynonymTable) -> Parsed {
    let mut an = Analyzers::default();
    let mut words: Vec<Unit> = Vec::new();
    let mut excluded = Vec::new();
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let negative = c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace();
        if negative {
            i += 1;
        }
        let quoted = chars[i] == '"';
        let text: String = if quoted {
            let end = chars[i + 1..]
                .iter()
                .position(|&c| c == '"')
                .map(|p| i + 1 + p)
                .unwrap_or(chars.len());
            let t = chars[i + 1..end].iter().collect();
            i = end + 1;
            t
        } else {
            let end = chars[i..]
                .iter()
                .position(|c| c.is_whitespace())
                .map(|p| i + p)
                .unwrap_or(chars.len());
            let t = chars[i..end].iter().collect();
            i = end;
            t
        };
        if !quoted && analysis::is_query_stop_word(&text.to_lowercase()) {
            continue;
        }
        let unit = Unit::new(&text, quoted, &mut an);
        if unit.is_empty() {
            continue;
        }
        if negative {
            excluded.push(unit);
        } else {
            words.push(unit);
        }
    }
    let mut required = Vec::new();
    let mut at = 0;
    while at < words.len() {
        match synonyms.match_at(&words, at) {
            Some((n, m)) => {
                let others = synonyms.others(m);
                required.push(Part::Synonyms {
                    words: words[at..at + n].to_vec(),
                    others,
                });
                at += n;
            }
            None => {
                required.push(Part::Unit(words[at].clone()));
                at += 1;
            }
        }
    }
    Parsed { required, excluded }
}

/// How the required parts combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every part must match.
    All,
    /// At least one part must match; more match, higher the score.
    Any,
}

/// Builds the tantivy query of `parsed` (an [`AllQuery`] when it has no words).
pub fn build(parsed: &Parsed, fields: &Fields, searcher: &Searcher, mode: Mode) -> Box<dyn Query> {
    let b = Builder { fields, searcher };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let occur = match mode {
        Mode::All => Occur::Must,
        Mode::Any => Occur::Should,
    };
    for part in &parsed.required {
        clauses.push((occur, b.part(part)));
    }
    if parsed.required.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    for u in &parsed.excluded {
        clauses.push((Occur::MustNot, b.unit(u, 1.0, false)));
    }
    if clauses.len() == 1 && clauses[0].0 != Occur::MustNot {
        return clauses
            .pop()
            .map(|c| c.1)
            .unwrap_or_else(|| Box::new(AllQuery));
    }
    Box::new(BooleanQuery::new(clauses))
}

struct Builder<'a> {
    fields: &'a Fields,
    searcher: &'a Searcher,
}

impl Builder<'_> {
    fn part(&self, part: &Part) -> Box<dyn Query> {
        match part {
            Part::Unit(u) => self.unit(u, 1.0, true),
            Part::Synonyms { words, others } => {
                let typed: Box<dyn Query> = if words.len() == 1 {
                    self.unit(&words[0], 1.0, true)
                } else {
                    Box::new(BooleanQuery::new(
                        words
                            .iter()
                            .map(|w| (Occur::Must, self.unit(w, 1.0, true)))
                            .collect(),
                    ))
                };
                let mut alts = vec![(Occur::Should, typed)];
                for o in others {
                    alts.push((Occur::Should, self.unit(o, SYNONYM_WEIGHT, false)));
                }
                Box::new(BooleanQuery::new(alts))
            }
        }
    }

    /// The disjunction over fields of one word or phrase.
    fn unit(&self, u: &Unit, weight: f32, typos: bool) -> Box<dyn Query> {
        // Only the fields that hold the terms: a term query on a field without the term
        // matches nothing but still costs a scorer (and tantivy's union of scorers
        // allocates its buffers per scorer).
        let mut alts: Vec<Box<dyn Query>> = Vec::new();
        for (pair, boost) in schema::weighted(self.fields) {
            for lang in [Lang::It, Lang::En] {
                if self.holds(pair.get(lang), u.terms(lang))
                    && let Some(q) = exact(pair.get(lang), u.terms(lang))
                {
                    alts.push(Box::new(BoostQuery::new(q, boost * weight)));
                }
            }
        }
        // Phrases are not typo-corrected: count them as known.
        let known = !alts.is_empty() || u.it.len() > 1 || u.en.len() > 1;
        let mut heads: Vec<(String, f32)> = head_terms(u)
            .into_iter()
            .map(|t| (t, schema::BOOST_TITLE_HEAD * weight))
            .collect();
        if typos && !u.quoted && u.raw.chars().count() >= FUZZY_MIN_CHARS && !known {
            // Misspelt: the words of the index within one edit of it, searched as if typed
            // (at a lower weight). Correcting the word, not its stem, matters: a typo can
            // hide the suffix the stemmer removes (`popolanione` stems to `popolanion`,
            // `popolazione` to `popol`).
            let mut an = Analyzers::default();
            for word in self.corrections(&u.raw) {
                let c = Unit::new(&word, false, &mut an);
                for (pair, boost) in schema::weighted(self.fields) {
                    for lang in [Lang::It, Lang::En] {
                        if let Some(q) = exact(pair.get(lang), c.terms(lang)) {
                            alts.push(Box::new(BoostQuery::new(q, boost * weight * FUZZY_WEIGHT)));
                        }
                    }
                }
                heads.extend(
                    head_terms(&c)
                        .into_iter()
                        .map(|t| (t, schema::BOOST_TITLE_HEAD * weight * FUZZY_WEIGHT)),
                );
            }
        }
        if alts.is_empty() {
            return fields_query(alts);
        }
        let fields = fields_query(alts);
        // The bonus of the title's subject.
        heads.dedup_by(|a, b| a.0 == b.0);
        heads.retain(|(t, _)| self.holds(self.fields.title_head, &vec![(0, t.clone())]));
        if heads.is_empty() {
            return fields;
        }
        let mut clauses = vec![(Occur::Must, fields)];
        for (t, boost) in heads {
            let term = Term::from_field_text(self.fields.title_head, &t);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost,
                )),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// The words of the index within one edit of `raw` (a transposition counting as one),
    /// the most frequent first, at most [`MAX_CORRECTIONS`].
    fn corrections(&self, raw: &str) -> Vec<String> {
        let folded = analysis::fold(raw);
        let [word] = folded.as_slice() else {
            return Vec::new();
        };
        let query = FuzzyTermQuery::new(Term::from_field_text(self.fields.words, word), 1, true);
        let Ok(automaton) = query.automaton() else {
            return Vec::new();
        };
        let mut found: Vec<(u32, String)> = Vec::new();
        for seg in self.searcher.segment_readers() {
            let Ok(inv) = seg.inverted_index(self.fields.words) else {
                continue;
            };
            let Ok(mut stream) = inv.terms().search(&automaton).into_stream() else {
                continue;
            };
            while stream.advance() {
                if let Ok(w) = std::str::from_utf8(stream.key()) {
                    found.push((stream.value().doc_freq, w.to_string()));
                }
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let mut out: Vec<String> = Vec::new();
        for (_, w) in found {
            if w != *word && !out.contains(&w) {
                out.push(w);
            }
            if out.len() == MAX_CORRECTIONS {
                break;
            }
        }
        out
    }

    /// Whether `field` holds every one of `terms` (and there is one).
    fn holds(&self, field: Field, terms: &Terms) -> bool {
        !terms.is_empty()
            && terms.iter().all(|(_, t)| {
                self.searcher
                    .doc_freq(&Term::from_field_text(field, t))
                    .unwrap_or(0)
                    > 0
            })
    }
}

/// The best-scoring field counts, a share of the others is added.
fn fields_query(mut alts: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    match alts.len() {
        0 => Box::new(EmptyQuery),
        1 => alts.pop().unwrap_or_else(|| Box::new(EmptyQuery)),
        _ => Box::new(DisjunctionMaxQuery::with_tie_breaker(alts, TIE_BREAKER)),
    }
}

/// The single terms of a word, to look up among the titles' subjects.
fn head_terms(u: &Unit) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for lang in [Lang::It, Lang::En] {
        if let [(_, t)] = u.terms(lang).as_slice()
            && !out.contains(t)
        {
            out.push(t.clone());
        }
    }
    out
}

/// A term or phrase query on one field; `None` without terms.
fn exact(field: Field, terms: &Terms) -> Option<Box<dyn Query>> {
    match terms.len() {
        0 => None,
        1 => Some(Box::new(TermQuery::new(
            Term::from_field_text(field, &terms[0].1),
            IndexRecordOption::WithFreqs,
        ))),
        _ => Some(Box::new(PhraseQuery::new_with_offset(
            terms
                .iter()
                .map(|(p, t)| (*p, Term::from_field_text(field, t)))
                .collect(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SynonymTable {
        SynonymTable::new(&Synonyms::built_in())
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let p = parse(r#"scuole "scuola dell'infanzia" -calendario di"#, &table());
        assert_eq!(p.required.len(), 2);
        assert_eq!(p.excluded.len(), 1);
        let Part::Unit(phrase) = &p.required[1] else {
            panic!("{p:?}")
        };
        assert!(phrase.quoted);
        // The gap of "dell'" is kept for the phrase.
        assert_eq!(
            phrase.it.iter().map(|t| t.0).collect::<Vec<_>>(),
            vec![0, 2]
        );
    }

    #[test]
    fn stop_words_only_is_empty() {
        assert!(parse("di la the of", &table()).is_empty());
        assert!(parse("   ", &table()).is_empty());
        assert!(parse("\"", &table()).is_empty());
        assert!(parse("-", &table()).is_empty());
    }

    #[test]
    fn synonyms_group_words() {
        let p = parse("multe 2024", &table());
        assert!(
            matches!(&p.required[0], Part::Synonyms { others, .. } if others.iter().any(|o| o.raw == "sanzioni"))
        );
        let p = parse("trasporti scolastici", &table());
        assert_eq!(p.required.len(), 1, "{p:?}");
        assert!(
            matches!(&p.required[0], Part::Synonyms { others, .. } if others.iter().any(|o| o.raw == "scuolabus"))
        );
        // Quoted words are taken literally.
        let p = parse("\"multe\"", &table());
        assert!(matches!(&p.required[0], Part::Unit(_)));
    }

    #[test]
    fn odd_input_never_fails() {
        for q in [
            "((",
            "a:b",
            "*",
            "\"unterminated",
            "- -",
            "--x",
            "\u{0}",
            "😀",
        ] {
            let _ = parse(q, &table());
        }
    }
}
