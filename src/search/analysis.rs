//! Text analysis: how titles, descriptions and queries become index terms.
//!
//! Two analyzers, registered under [`ITALIAN`] and [`ENGLISH`], share one shape:
//! words split on anything that is not a letter or a digit (so the apostrophe of an
//! elision, `dell'infanzia`, and the underscore of a column name, `data_rilascio`, split
//! too), lower-cased, stop words removed (the Snowball list of the language, plus for
//! Italian the elided articles and prepositions the list lacks: `d'`, `quest'`, `sant'`...),
//! accents folded (`città` → `citta`), then stemmed with the language's Snowball stemmer
//! (`scuole` and `scuola` → `scuol`). Stop words are removed *before* folding, since the
//! lists hold accented words (`più`, `è`).
//!
//! [`FOLD`] only lower-cases and folds accents: it indexes the words offered as
//! completions. [`RAW`] keeps a value whole (facets, keys).
//!
//! Our own datasets are written in Italian. A harvested record's language is guessed from
//! its title and description ([`guess_language`]: which language's stop words it uses
//! more); its text goes to the fields of that language. Queries are analysed both ways and
//! look in both sets of fields.
//!
//! Pitfall: a query word that is a stop word in *either* language is dropped from the
//! query ([`is_query_stop_word`]): `scuole di Capannori` must not require the English
//! fields to hold `di`.

use std::collections::HashSet;
use std::sync::LazyLock;

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer,
    Stemmer, StopWordFilter, TextAnalyzer, TokenizerManager,
};

/// Analyzer name of Italian text fields.
pub const ITALIAN: &str = "portale_it";
/// Analyzer name of English text fields.
pub const ENGLISH: &str = "portale_en";
/// Analyzer name of the completion field: lower-cased, accents folded, nothing removed.
pub const FOLD: &str = "portale_fold";
/// Analyzer name of whole-value fields.
pub const RAW: &str = "raw";

/// Longest token kept, in bytes (longer ones are noise: hashes, URLs without spaces).
const MAX_TOKEN_BYTES: usize = 40;

/// Italian elided forms the Snowball list lacks (it has `dell`, `all`, `l`, `un`...).
const ITALIAN_ELISIONS: &[&str] = &[
    "d", "s", "m", "t", "v", "n", "quest", "quell", "nessun", "ciascun", "qual", "sant", "bell",
    "buon", "coll", "pell", "tutt", "po",
];

/// The language of a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    It,
    En,
}

impl Lang {
    pub fn analyzer(self) -> &'static str {
        match self {
            Lang::It => ITALIAN,
            Lang::En => ENGLISH,
        }
    }
}

fn italian_stop_words() -> Vec<String> {
    let mut words = italian_list();
    words.extend(ITALIAN_ELISIONS.iter().map(|w| w.to_string()));
    words
}

fn italian_list() -> Vec<String> {
    // tantivy does not expose its lists; this is the Snowball Italian list it uses
    // (tantivy/src/tokenizer/stop_word_filter/stopwords.rs), kept in step by a test.
    ITALIAN_STOP_WORDS.iter().map(|w| w.to_string()).collect()
}

/// The Snowball Italian stop words (as shipped with tantivy 0.27).
const ITALIAN_STOP_WORDS: &[&str] = &[
    "ad",
    "al",
    "allo",
    "ai",
    "agli",
    "all",
    "agl",
    "alla",
    "alle",
    "con",
    "col",
    "coi",
    "da",
    "dal",
    "dallo",
    "dai",
    "dagli",
    "dall",
    "dagl",
    "dalla",
    "dalle",
    "di",
    "del",
    "dello",
    "dei",
    "degli",
    "dell",
    "degl",
    "della",
    "delle",
    "in",
    "nel",
    "nello",
    "nei",
    "negli",
    "nell",
    "negl",
    "nella",
    "nelle",
    "su",
    "sul",
    "sullo",
    "sui",
    "sugli",
    "sull",
    "sugl",
    "sulla",
    "sulle",
    "per",
    "tra",
    "contro",
    "io",
    "tu",
    "lui",
    "lei",
    "noi",
    "voi",
    "loro",
    "mio",
    "mia",
    "miei",
    "mie",
    "tuo",
    "tua",
    "tuoi",
    "tue",
    "suo",
    "sua",
    "suoi",
    "sue",
    "nostro",
    "nostra",
    "nostri",
    "nostre",
    "vostro",
    "vostra",
    "vostri",
    "vostre",
    "mi",
    "ti",
    "ci",
    "vi",
    "lo",
    "la",
    "li",
    "le",
    "gli",
    "ne",
    "il",
    "un",
    "uno",
    "una",
    "ma",
    "ed",
    "se",
    "perché",
    "anche",
    "come",
    "dov",
    "dove",
    "che",
    "chi",
    "cui",
    "non",
    "più",
    "quale",
    "quanto",
    "quanti",
    "quanta",
    "quante",
    "quello",
    "quelli",
    "quella",
    "quelle",
    "questo",
    "questi",
    "questa",
    "queste",
    "si",
    "tutto",
    "tutti",
    "a",
    "c",
    "e",
    "i",
    "l",
    "o",
    "ho",
    "hai",
    "ha",
    "abbiamo",
    "avete",
    "hanno",
    "abbia",
    "abbiate",
    "abbiano",
    "avrò",
    "avrai",
    "avrà",
    "avremo",
    "avrete",
    "avranno",
    "avrei",
    "avresti",
    "avrebbe",
    "avremmo",
    "avreste",
    "avrebbero",
    "avevo",
    "avevi",
    "aveva",
    "avevamo",
    "avevate",
    "avevano",
    "ebbi",
    "avesti",
    "ebbe",
    "avemmo",
    "aveste",
    "ebbero",
    "avessi",
    "avesse",
    "avessimo",
    "avessero",
    "avendo",
    "avuto",
    "avuta",
    "avuti",
    "avute",
    "sono",
    "sei",
    "è",
    "siamo",
    "siete",
    "sia",
    "siate",
    "siano",
    "sarò",
    "sarai",
    "sarà",
    "saremo",
    "sarete",
    "saranno",
    "sarei",
    "saresti",
    "sarebbe",
    "saremmo",
    "sareste",
    "sarebbero",
    "ero",
    "eri",
    "era",
    "eravamo",
    "eravate",
    "erano",
    "fui",
    "fosti",
    "fu",
    "fummo",
    "foste",
    "furono",
    "fossi",
    "fosse",
    "fossimo",
    "fossero",
    "essendo",
    "faccio",
    "fai",
    "facciamo",
    "fanno",
    "faccia",
    "facciate",
    "facciano",
    "farò",
    "farai",
    "farà",
    "faremo",
    "farete",
    "faranno",
    "farei",
    "faresti",
    "farebbe",
    "faremmo",
    "fareste",
    "farebbero",
    "facevo",
    "facevi",
    "faceva",
    "facevamo",
    "facevate",
    "facevano",
    "feci",
    "facesti",
    "fece",
    "facemmo",
    "faceste",
    "fecero",
    "facessi",
    "facesse",
    "facessimo",
    "facessero",
    "facendo",
    "sto",
    "stai",
    "sta",
    "stiamo",
    "stanno",
    "stia",
    "stiate",
    "stiano",
    "starò",
    "starai",
    "starà",
    "staremo",
    "starete",
    "staranno",
    "starei",
    "staresti",
    "starebbe",
    "staremmo",
    "stareste",
    "starebbero",
    "stavo",
    "stavi",
    "stava",
    "stavamo",
    "stavate",
    "stavano",
    "stetti",
    "stesti",
    "stette",
    "stemmo",
    "steste",
    "stettero",
    "stessi",
    "stesse",
    "stessimo",
    "stessero",
    "stando",
];

/// Lucene's English stop words (tantivy's `Language::English` list).
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
];

static ITALIAN_STOPS: LazyLock<HashSet<String>> =
    LazyLock::new(|| italian_stop_words().into_iter().collect());
static ENGLISH_STOPS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| ENGLISH_STOP_WORDS.iter().copied().collect());

fn text_analyzer(lang: Lang) -> TextAnalyzer {
    let (stops, stemmer): (Vec<String>, Language) = match lang {
        Lang::It => (italian_stop_words(), Language::Italian),
        Lang::En => (
            ENGLISH_STOP_WORDS.iter().map(|w| w.to_string()).collect(),
            Language::English,
        ),
    };
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(stops))
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(stemmer))
        .build()
}

fn fold_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Registers Portale's analyzers with an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    manager.register(ITALIAN, text_analyzer(Lang::It));
    manager.register(ENGLISH, text_analyzer(Lang::En));
    manager.register(FOLD, fold_analyzer());
    manager.register(RAW, TextAnalyzer::from(RawTokenizer::default()));
}

/// The terms `text` becomes in a field of language `lang`.
pub fn analyze(text: &str, lang: Lang) -> Vec<String> {
    tokens(&mut text_analyzer(lang), text)
}

/// The terms `text` becomes in the completion field.
pub fn fold(text: &str) -> Vec<String> {
    tokens(&mut fold_analyzer(), text)
}

/// Runs an analyzer (callers keep one per thread or per query).
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(t.text.clone());
    }
    out
}

/// A fresh analyzer of each kind, for code that analyses many strings.
pub struct Analyzers {
    pub it: TextAnalyzer,
    pub en: TextAnalyzer,
    pub fold: TextAnalyzer,
}

impl Default for Analyzers {
    fn default() -> Analyzers {
        Analyzers {
            it: text_analyzer(Lang::It),
            en: text_analyzer(Lang::En),
            fold: fold_analyzer(),
        }
    }
}

impl Analyzers {
    pub fn lang(&mut self, lang: Lang) -> &mut TextAnalyzer {
        match lang {
            Lang::It => &mut self.it,
            Lang::En => &mut self.en,
        }
    }
}

/// True when a lower-cased query word is a stop word in Italian or in English.
pub fn is_query_stop_word(word: &str) -> bool {
    ITALIAN_STOPS.contains(word) || ENGLISH_STOPS.contains(word)
}

/// The language of a harvested record's text: English when it has more English stop
/// words than Italian ones (at least two), else Italian.
pub fn guess_language(text: &str) -> Lang {
    let (mut it, mut en) = (0usize, 0usize);
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(400)
    {
        let w = w.to_lowercase();
        // Words in both lists ("a", "in") say nothing.
        match (
            ITALIAN_STOPS.contains(&w),
            ENGLISH_STOPS.contains(w.as_str()),
        ) {
            (true, false) => it += 1,
            (false, true) => en += 1,
            _ => {}
        }
    }
    if en >= 2 && en > it {
        Lang::En
    } else {
        Lang::It
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn italian_plural_and_singular_share_a_stem() {
        for (a, b) in [
            ("scuola", "scuole"),
            ("farmacia", "farmacie"),
            ("sanzione", "sanzioni"),
            ("comune", "comuni"),
            ("fermata", "fermate"),
            ("rifiuto", "rifiuti"),
        ] {
            assert_eq!(analyze(a, Lang::It), analyze(b, Lang::It), "{a} / {b}");
        }
    }

    #[test]
    fn accents_fold_and_elisions_go() {
        assert_eq!(analyze("città", Lang::It), analyze("citta", Lang::It));
        assert_eq!(analyze("Città", Lang::It), analyze("CITTA", Lang::It));
        assert_eq!(
            analyze("Scuola dell'infanzia", Lang::It),
            analyze("scuola infanzia", Lang::It)
        );
        assert_eq!(
            analyze("l'anagrafe", Lang::It),
            analyze("anagrafe", Lang::It)
        );
        assert_eq!(
            analyze("d’Italia", Lang::It),
            analyze("Italia", Lang::It),
            "typographic apostrophe"
        );
        assert!(analyze("della più", Lang::It).is_empty());
    }

    #[test]
    fn english_stems() {
        assert_eq!(analyze("schools", Lang::En), analyze("school", Lang::En));
        assert_eq!(
            analyze("the boundaries", Lang::En),
            analyze("boundary", Lang::En)
        );
    }

    #[test]
    fn column_names_split_on_underscores() {
        assert_eq!(
            analyze("data_rilascio", Lang::It),
            analyze("data rilascio", Lang::It)
        );
    }

    #[test]
    fn stop_list_matches_tantivys() {
        // The Italian list here must be the one tantivy ships: compare by filtering.
        let mut with_tantivy = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(StopWordFilter::new(Language::Italian).unwrap())
            .build();
        let text = ITALIAN_STOP_WORDS.join(" ");
        assert!(tokens(&mut with_tantivy, &text).is_empty());
        let mut ours = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(StopWordFilter::remove(italian_list()))
            .build();
        let probe = "scuola di musica e della città per il comune";
        assert_eq!(tokens(&mut ours, probe), tokens(&mut with_tantivy, probe));
    }

    #[test]
    fn language_guess() {
        assert_eq!(
            guess_language("Schools of the municipality and their addresses"),
            Lang::En
        );
        assert_eq!(
            guess_language("Elenco delle scuole del comune con il loro indirizzo"),
            Lang::It
        );
        assert_eq!(guess_language("Scuole"), Lang::It);
    }
}
