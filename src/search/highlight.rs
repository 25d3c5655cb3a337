//! Highlighting: the query's words marked in a hit's title and in a fragment of its
//! description, as escaped HTML with `<mark>`.
//!
//! A word of the text is marked when it analyses to one of the query's terms in the
//! text's language (so `scuole` is marked for the query `scuola`). Stemming every word
//! of twenty descriptions costs more than the search itself, so a word is only stemmed
//! when its folded form starts like one of the query's terms (a stem is a prefix of its
//! word, at least for its first letters); the others cannot match.
//!
//! The fragment is the stretch of [`SNIPPET_CHARS`] characters holding the most marked
//! words, cut at word boundaries, with `…` where the text was cut; a description not much
//! longer than that is shown whole.

use std::collections::HashSet;
use std::ops::Range;

use tantivy::tokenizer::{Language, RawTokenizer, Stemmer, TextAnalyzer};

use super::analysis::{Analyzers, Lang};
use super::query::{Parsed, Part, Unit};

/// Characters of a description fragment.
pub const SNIPPET_CHARS: usize = 180;
/// Letters of a term a word must start with to be stemmed and compared.
const PREFIX: usize = 3;

/// The terms to mark, per language.
pub struct Highlighter {
    it: HashSet<String>,
    en: HashSet<String>,
    prefixes: HashSet<String>,
    /// Built once per search, used for every hit: the words as the index folds them,
    /// and a stemmer per language.
    fold: TextAnalyzer,
    stem_it: TextAnalyzer,
    stem_en: TextAnalyzer,
}

fn stemmer(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(Stemmer::new(language))
        .build()
}

fn prefix(s: &str) -> String {
    s.chars().take(PREFIX).collect()
}

impl Highlighter {
    /// The terms of the query's words (those to highlight: see
    /// [`Parsed::for_highlight`]).
    pub fn new(parsed: &Parsed) -> Highlighter {
        let mut h = Highlighter {
            it: HashSet::new(),
            en: HashSet::new(),
            prefixes: HashSet::new(),
            fold: Analyzers::default().fold,
            stem_it: stemmer(Language::Italian),
            stem_en: stemmer(Language::English),
        };
        let mut add = |u: &Unit| {
            for (_, t) in &u.it {
                h.prefixes.insert(prefix(t));
                h.it.insert(t.clone());
            }
            for (_, t) in &u.en {
                h.prefixes.insert(prefix(t));
                h.en.insert(t.clone());
            }
        };
        for part in &parsed.for_highlight().required {
            match part {
                Part::Unit(u) => add(u),
                Part::Synonyms { words, others } => {
                    words.iter().chain(others.iter()).for_each(&mut add);
                }
            }
        }
        h
    }

    /// The byte ranges of the words of `text` (in `lang`) that match a query term.
    pub fn ranges(&mut self, text: &str, lang: Lang) -> Vec<Range<usize>> {
        let (terms, stemmer) = match lang {
            Lang::It => (&self.it, &mut self.stem_it),
            Lang::En => (&self.en, &mut self.stem_en),
        };
        if terms.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut stream = self.fold.token_stream(text);
        while let Some(t) = stream.next() {
            if !self.prefixes.contains(&prefix(&t.text)) {
                continue;
            }
            let mut stemmed = stemmer.token_stream(&t.text);
            if let Some(s) = stemmed.next()
                && terms.contains(&s.text)
            {
                out.push(t.offset_from..t.offset_to);
            }
        }
        out
    }

    /// The whole title, words marked; `None` when none matched.
    pub fn title(&mut self, text: &str, lang: Lang) -> Option<String> {
        let ranges = self.ranges(text, lang);
        (!ranges.is_empty()).then(|| html(text, 0..text.len(), &ranges))
    }

    /// A fragment of the description around the marked words; `None` when none matched.
    pub fn snippet(&mut self, text: &str, lang: Lang) -> Option<String> {
        let ranges = self.ranges(text, lang);
        if ranges.is_empty() {
            return None;
        }
        // Close to the limit: the whole text.
        if text.chars().count() <= SNIPPET_CHARS + SNIPPET_CHARS / 5 {
            return Some(html(text, 0..text.len(), &ranges));
        }
        // The window starting a little before a marked word that holds the most of them.
        let mut best = (0usize, 0usize);
        for r in &ranges {
            let start = back(text, r.start, 30);
            let end = forward(text, start, SNIPPET_CHARS);
            let n = ranges
                .iter()
                .filter(|x| x.start >= start && x.end <= end)
                .count();
            if n > best.1 {
                best = (start, n);
            }
        }
        let start = word_start(text, best.0);
        let end = word_end(text, forward(text, start, SNIPPET_CHARS));
        Some(html(text, start..end, &ranges))
    }
}

/// The byte offset `chars` characters before `at`.
fn back(text: &str, at: usize, chars: usize) -> usize {
    text[..at]
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// The byte offset `chars` characters after `at` (or the end).
fn forward(text: &str, at: usize, chars: usize) -> usize {
    text[at..]
        .char_indices()
        .nth(chars)
        .map(|(i, _)| at + i)
        .unwrap_or(text.len())
}

/// The start of the word at or after `at` (`at` itself at the start of the text).
fn word_start(text: &str, at: usize) -> usize {
    if at == 0 {
        return 0;
    }
    match text[at..].find(char::is_whitespace) {
        Some(i) => {
            let after = at + i;
            after
                + text[after..]
                    .find(|c: char| !c.is_whitespace())
                    .unwrap_or(text.len() - after)
        }
        None => at,
    }
}

/// The end of the word before `at` (`at` itself at the end of the text).
fn word_end(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    text[..at].rfind(char::is_whitespace).unwrap_or(at)
}

/// `text[within]` escaped, the `ranges` inside it in `<mark>`, `…` where cut.
fn html(text: &str, within: Range<usize>, ranges: &[Range<usize>]) -> String {
    let escape = crate::ogc::html::escape;
    let mut out = String::new();
    if within.start > 0 {
        out.push('…');
    }
    let mut at = within.start;
    for r in ranges {
        if r.start < at || r.end > within.end {
            continue;
        }
        out.push_str(&escape(&text[at..r.start]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[r.start..r.end]));
        out.push_str("</mark>");
        at = r.end;
    }
    out.push_str(&escape(&text[at..within.end]));
    if within.end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::Synonyms;
    use crate::search::query::{SynonymTable, parse};

    fn h(q: &str) -> Highlighter {
        Highlighter::new(&parse(q, &SynonymTable::new(&Synonyms::built_in())))
    }

    #[test]
    fn marks_inflected_words_and_escapes() {
        assert_eq!(
            h("scuola")
                .title("Le scuole <b>&</b> la Scuola", Lang::It)
                .as_deref(),
            Some("Le <mark>scuole</mark> &lt;b&gt;&amp;&lt;/b&gt; la <mark>Scuola</mark>")
        );
        assert_eq!(h("scuola").title("Farmacie", Lang::It), None);
        assert_eq!(
            h("città").title("Mappa della citta", Lang::It).as_deref(),
            Some("Mappa della <mark>citta</mark>")
        );
        assert_eq!(
            h("schools")
                .title("Schools of the city", Lang::En)
                .as_deref(),
            Some("<mark>Schools</mark> of the city")
        );
    }

    #[test]
    fn one_word_synonyms_are_marked_not_phrase_ones() {
        assert_eq!(
            h("multe").title("Sanzioni e verbali", Lang::It).as_deref(),
            Some("<mark>Sanzioni</mark> e <mark>verbali</mark>")
        );
        assert_eq!(
            h("scuola")
                .title("Istituti scolastici e scuole", Lang::It)
                .as_deref(),
            Some("Istituti scolastici e <mark>scuole</mark>")
        );
    }

    #[test]
    fn long_descriptions_are_cut_around_the_words() {
        let text = format!(
            "{} Qui si parla delle scuole del comune. {}",
            "Parole senza senso alcuno. ".repeat(12),
            "Altro testo ancora. ".repeat(20)
        );
        let s = h("scuole").snippet(&text, Lang::It).unwrap();
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>scuole</mark>"), "{s}");
        assert!(s.chars().count() <= SNIPPET_CHARS + 30, "{s}");
        // Cut at word boundaries.
        let inner = s.trim_matches('…');
        assert!(
            !inner.starts_with(' ')
                && text.contains(&inner.replace("<mark>", "").replace("</mark>", "")),
            "{s}"
        );
        let short = "Le scuole del comune.";
        assert_eq!(
            h("scuole").snippet(short, Lang::It).as_deref(),
            Some("Le <mark>scuole</mark> del comune.")
        );
    }
}
