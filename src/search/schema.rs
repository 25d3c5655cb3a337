//! The tantivy schema: which field holds what, with which analyzer, and how much a match
//! in it weighs.
//!
//! | fields | analyzer | holds | weight |
//! |---|---|---|---|
//! | `title_it`, `title_en` | Italian / English | the title | [`BOOST_TITLE`] |
//! | `keywords_it`, `keywords_en` | Italian / English | keywords | [`BOOST_KEYWORDS`] |
//! | `themes_it`, `themes_en` | Italian / English | the themes' labels in both languages, whatever the record's language | [`BOOST_THEMES`] |
//! | `description_it`, `description_en` | Italian / English | the description | [`BOOST_DESCRIPTION`] |
//! | `other_it`, `other_en` | Italian / English | publisher, rights holder, places, column names, licence and frequency labels, formats | [`BOOST_OTHER`] |
//! | `complete` | fold | title, keywords and places, for completions | – |
//! | `words` | fold | every word of the text fields, unstemmed: the dictionary typos are corrected against | – |
//! | `title_head` | whitespace | the first two terms of the analysed title, its subject: a match adds [`BOOST_TITLE_HEAD`] | – |
//! | `key`, `theme`, `publisher`, `format`, `license`, `keyword`, `frequency`, `origin` | raw, fast | whole values: keys, facets, filters | – |
//! | `modified`, `title_rank`, `ord`, `flags`, `min_x` ... `max_y`, `t_start`, `t_end` | fast | sorting and the bbox, time and published filters | – |
//! | `summary` | stored | the JSON a hit returns | – |
//!
//! A record's text goes to the `_it` fields or the `_en` ones depending on its language
//! ([`super::analysis::guess_language`]); the theme labels go to both.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};

use super::Facet;
use super::analysis::{self, Lang};

pub const BOOST_TITLE: f32 = 3.0;
pub const BOOST_KEYWORDS: f32 = 2.0;
pub const BOOST_THEMES: f32 = 1.5;
pub const BOOST_DESCRIPTION: f32 = 1.0;
pub const BOOST_OTHER: f32 = 0.6;
/// Added when a word is one of the first two of the title ("Scuole statali ..." is about
/// schools; "Pasti delle mense per scuola" is not, though it names them).
pub const BOOST_TITLE_HEAD: f32 = 1.5;

/// `flags` bits.
pub const FLAG_PUBLISHED: u64 = 1;
pub const FLAG_BBOX: u64 = 2;
pub const FLAG_TEMPORAL: u64 = 4;

/// One analysed text field per language.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    pub it: Field,
    pub en: Field,
}

impl Pair {
    pub fn get(&self, lang: Lang) -> Field {
        match lang {
            Lang::It => self.it,
            Lang::En => self.en,
        }
    }
}

/// The fields of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub title: Pair,
    pub keywords: Pair,
    pub themes: Pair,
    pub description: Pair,
    pub other: Pair,
    pub complete: Field,
    /// Every word of the record's text, accents folded, not stemmed: the dictionary that
    /// misspelt words are corrected against.
    pub words: Field,
    /// The first two terms of the title (as analysed in its language): the title's subject.
    pub title_head: Field,
    pub key: Field,
    pub theme: Field,
    pub publisher: Field,
    pub format: Field,
    pub license: Field,
    pub keyword: Field,
    pub frequency: Field,
    pub origin: Field,
    pub modified: Field,
    pub title_rank: Field,
    /// The record's place in the list given to the writer: the last tie-break, so that
    /// equal records keep one order whatever segments the writer made.
    pub ord: Field,
    pub flags: Field,
    pub min_x: Field,
    pub min_y: Field,
    pub max_x: Field,
    pub max_y: Field,
    pub t_start: Field,
    pub t_end: Field,
    pub summary: Field,
}

/// The searchable text fields with their weights.
pub fn weighted(f: &Fields) -> [(Pair, f32); 5] {
    [
        (f.title, BOOST_TITLE),
        (f.keywords, BOOST_KEYWORDS),
        (f.themes, BOOST_THEMES),
        (f.description, BOOST_DESCRIPTION),
        (f.other, BOOST_OTHER),
    ]
}

fn text(analyzer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

fn raw_fast() -> TextOptions {
    TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analysis::RAW)
                .set_index_option(IndexRecordOption::Basic),
        )
        .set_fast(analysis::RAW)
}

impl Fields {
    /// The schema and its fields.
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        // Titles and descriptions are stored for the highlighted snippets.
        let mut pair = |name: &str, stored: bool| {
            let opts = |analyzer| {
                let o = text(analyzer);
                if stored { o.set_stored() } else { o }
            };
            Pair {
                it: b.add_text_field(&format!("{name}_it"), opts(analysis::ITALIAN)),
                en: b.add_text_field(&format!("{name}_en"), opts(analysis::ENGLISH)),
            }
        };
        let title = pair("title", true);
        let keywords = pair("keywords", false);
        let themes = pair("themes", false);
        let description = pair("description", true);
        let other = pair("other", false);
        let complete = b.add_text_field(
            "complete",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analysis::FOLD)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        );
        let words = b.add_text_field(
            "words",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(analysis::FOLD)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        );
        let fields = Fields {
            title,
            keywords,
            themes,
            description,
            other,
            complete,
            words,
            title_head: b.add_text_field(
                "title_head",
                TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer("whitespace")
                        .set_index_option(IndexRecordOption::WithFreqs),
                ),
            ),
            key: b.add_text_field("key", raw_fast()),
            theme: b.add_text_field("theme", raw_fast()),
            publisher: b.add_text_field("publisher", raw_fast()),
            format: b.add_text_field("format", raw_fast()),
            license: b.add_text_field("license", raw_fast()),
            keyword: b.add_text_field("keyword", raw_fast()),
            frequency: b.add_text_field("frequency", raw_fast()),
            origin: b.add_text_field("origin", raw_fast()),
            modified: b.add_i64_field("modified", FAST),
            title_rank: b.add_u64_field("title_rank", FAST),
            ord: b.add_u64_field("ord", FAST),
            flags: b.add_u64_field("flags", FAST | INDEXED),
            min_x: b.add_f64_field("min_x", FAST),
            min_y: b.add_f64_field("min_y", FAST),
            max_x: b.add_f64_field("max_x", FAST),
            max_y: b.add_f64_field("max_y", FAST),
            t_start: b.add_i64_field("t_start", FAST),
            t_end: b.add_i64_field("t_end", FAST),
            summary: b.add_bytes_field("summary", STORED),
        };
        (b.build(), fields)
    }

    /// The field of a facet.
    pub fn facet(&self, facet: Facet) -> Field {
        match facet {
            Facet::Theme => self.theme,
            Facet::Publisher => self.publisher,
            Facet::Format => self.format,
            Facet::License => self.license,
            Facet::Keyword => self.keyword,
            Facet::Frequency => self.frequency,
            Facet::Origin => self.origin,
        }
    }
}
