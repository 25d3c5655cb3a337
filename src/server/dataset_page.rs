//! `GET /datasets/{id}`: the dataset page for citizens and developers, in Italian (English
//! with `lang=en`), rendered from `static/templates/dataset.html`.
//!
//! It shows the title and description, the metadata in plain words (publisher, licence
//! with its link, frequency, coverage, dates, the ETL's quality report and the MQA-style
//! score), the downloads with format, size and SHA-256, the month chart made at build
//! time ([`crate::pictures::chart`]) with its numbers as a table, the first
//! [`PREVIEW_ROWS`] rows of the CSV download, a mini-map for layers, API snippets (curl,
//! Python, R, QGIS), links to the machine twins (JSON, DCAT-AP_IT, CKAN) and the
//! schema.org JSON-LD. Everything but the mini-map works without JavaScript; without it
//! the map's place shows the layer's thumbnail when the build made one.
//!
//! Which representation `/datasets/{id}` answers is decided by [`negotiate`]; the handler
//! is [`super::datasets::one`].
//!
//! Pitfalls:
//! - every text from the manifest or the CSV is escaped by the template; the JSON-LD is
//!   the only markup inserted unescaped, so it is serialized with `<`, `>` and `&` written
//!   as `\u003c`, `\u003e`, `\u0026`: a title holding `</script>` cannot end the script;
//! - the preview reads the published CSV at request time, at most [`PREVIEW_BYTES`] and
//!   [`PREVIEW_ROWS`] records, never the whole file; a record cut by the byte cap is left
//!   out, and each shown cell is cut to [`CELL_CHARS`] characters. Portale's CSV holds no
//!   geometry column (point layers get `longitude` and `latitude`), so nothing is hidden;
//! - the chart's numbers come from the `chart.json` picture, read at request time; if it
//!   is unreadable the chart is shown without its table and the problem is logged.

use std::io::Read;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::pages::{ErrorPage, Frame, Section, Texts, html, lang_pairs, texts_of};
use super::search::with_query as link;
use super::state::Generation;
use crate::catalog::dcat::{self, Context};
use crate::catalog::quality::{self, Rating, Served};
use crate::catalog::{CatalogUris, RdfSyntax, schema_org};
use crate::model::{Dataset, FieldType, GeometryType, PictureKind};
use crate::pictures::chart::{self, format_it, month_label};
use crate::vocab;

/// Rows shown in the preview.
pub const PREVIEW_ROWS: usize = 50;
/// Bytes of the CSV read at most for the preview.
pub const PREVIEW_BYTES: u64 = 1 << 20;
/// Characters shown at most per preview cell (an ellipsis marks a cut).
pub const CELL_CHARS: usize = 120;

/// What a request to `/datasets/{id}` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Html,
    Json,
    Rdf(RdfSyntax),
}

/// Reads `Accept`: the page (also for `*/*`, `text/*` and no header), the JSON twin, or an
/// RDF twin. The highest quality wins; at equal quality a named type beats a wildcard and
/// the page beats the twins.
pub fn negotiate(headers: &HeaderMap) -> Wanted {
    // (q, named, rank, what): compared in this order.
    let mut best: Option<(f32, bool, u8, Wanted)> = None;
    for value in headers.get_all(header::ACCEPT) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            let (named, rank, wanted) = match media.as_str() {
                "text/html" | "application/xhtml+xml" => (true, 2, Wanted::Html),
                "*/*" | "text/*" => (false, 2, Wanted::Html),
                "application/json" => (true, 1, Wanted::Json),
                m => match RdfSyntax::ALL.into_iter().find(|s| s.media_type() == m) {
                    Some(s) => (true, 1, Wanted::Rdf(s)),
                    None => continue,
                },
            };
            let better = best.is_none_or(|(bq, bn, br, _)| {
                (q, named, rank)
                    .partial_cmp(&(bq, bn, br))
                    .is_some_and(|o| o.is_gt())
            });
            if better {
                best = Some((q, named, rank, wanted));
            }
        }
    }
    best.map_or(Wanted::Html, |(_, _, _, w)| w)
}

/// Whether the client names HTML in `Accept` (a browser): its errors are pages.
pub fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let refused = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .any(|v| v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0));
            !refused && (media == "text/html" || media == "application/xhtml+xml")
        })
}

/// The page's own texts, in one language.
pub struct PageTexts {
    pub demo: &'static str,
    pub info: &'static str,
    pub info_caption: &'static str,
    pub publisher: &'static str,
    pub rights_holder: &'static str,
    pub contact: &'static str,
    pub themes: &'static str,
    pub keywords: &'static str,
    pub licence: &'static str,
    pub frequency: &'static str,
    pub temporal: &'static str,
    pub spatial: &'static str,
    pub modified: &'static str,
    pub issued: &'static str,
    pub rows: &'static str,
    pub layer: &'static str,
    pub conforms_to: &'static str,
    pub identifier: &'static str,
    pub quality: &'static str,
    pub score: &'static str,
    pub score_caption: &'static str,
    pub dimension: &'static str,
    pub points: &'static str,
    pub etl: &'static str,
    pub rows_read: &'static str,
    pub rows_kept: &'static str,
    pub rows_rejected: &'static str,
    pub rows_filtered: &'static str,
    pub reasons: &'static str,
    pub personal_dropped: &'static str,
    pub repairs: &'static str,
    pub downloads: &'static str,
    pub downloads_caption: &'static str,
    pub file: &'static str,
    pub format: &'static str,
    pub size: &'static str,
    pub records: &'static str,
    pub checksum: &'static str,
    pub chart: &'static str,
    pub chart_numbers: &'static str,
    pub month: &'static str,
    pub year: &'static str,
    pub value: &'static str,
    pub map: &'static str,
    pub map_label: &'static str,
    pub map_no_js: &'static str,
    pub preview: &'static str,
    pub no_csv: &'static str,
    pub preview_unreadable: &'static str,
    pub structure: &'static str,
    pub structure_caption: &'static str,
    pub column: &'static str,
    pub column_type: &'static str,
    pub description: &'static str,
    pub missing: &'static str,
    pub api: &'static str,
    pub twins: &'static str,
    pub twins_intro: &'static str,
    pub not_found: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub qgis_ogc: &'static str,
    pub qgis_tiles: &'static str,
}

pub const ITALIAN: PageTexts = PageTexts {
    demo: "Dati dimostrativi: questi dati sono stati generati per la demo e non sono dati reali del Comune.",
    info: "Informazioni",
    info_caption: "I metadati del dataset",
    publisher: "Pubblicato da",
    rights_holder: "Titolare dei dati",
    contact: "Contatti",
    themes: "Temi",
    keywords: "Parole chiave",
    licence: "Licenza",
    frequency: "Frequenza di aggiornamento",
    temporal: "Periodo coperto",
    spatial: "Area coperta",
    modified: "Ultima modifica",
    issued: "Prima pubblicazione",
    rows: "Righe",
    layer: "Livello geografico",
    conforms_to: "Conforme a",
    identifier: "Identificativo",
    quality: "Qualità",
    score: "Punteggio di qualità dei metadati",
    score_caption: "Punteggio per dimensione (metodo MQA di data.europa.eu)",
    dimension: "Dimensione",
    points: "Punti",
    etl: "Controlli sui dati",
    rows_read: "Righe lette",
    rows_kept: "Righe pubblicate",
    rows_rejected: "Righe scartate",
    rows_filtered: "Righe escluse dal filtro",
    reasons: "Motivi degli scarti",
    personal_dropped: "Colonne con dati personali non pubblicate",
    repairs: "Correzioni",
    downloads: "Scarica i dati",
    downloads_caption: "I file del dataset",
    file: "File",
    format: "Formato",
    size: "Dimensione",
    records: "Record",
    checksum: "SHA-256",
    chart: "Grafico",
    chart_numbers: "I numeri del grafico",
    month: "Mese",
    year: "Anno",
    value: "Valore",
    map: "Mappa",
    map_label: "Mappa interattiva del livello",
    map_no_js: "La mappa interattiva richiede JavaScript; i dati geografici sono tra i file scaricabili.",
    preview: "Anteprima",
    no_csv: "Questo dataset non ha un file CSV: l'anteprima non è disponibile.",
    preview_unreadable: "L'anteprima non è disponibile in questo momento.",
    structure: "Struttura dei dati",
    structure_caption: "Le colonne della tabella",
    column: "Colonna",
    column_type: "Tipo",
    description: "Descrizione",
    missing: "Valori mancanti",
    api: "Usa i dati",
    twins: "Metadati in altri formati",
    twins_intro: "Gli stessi metadati per le macchine:",
    not_found: "Dataset non trovato",
    from: "dal",
    to: "al",
    qgis_ogc: "QGIS, Layer › Aggiungi layer › WFS / OGC API – Features: l'indirizzo del servizio e la collezione",
    qgis_tiles: "QGIS, Layer › Aggiungi layer › Vector Tile: l'indirizzo delle tessere",
};

pub const ENGLISH: PageTexts = PageTexts {
    demo: "Demo data: generated for the demo, not real data of the municipality.",
    info: "About this dataset",
    info_caption: "The dataset's metadata",
    publisher: "Published by",
    rights_holder: "Rights holder",
    contact: "Contact",
    themes: "Themes",
    keywords: "Keywords",
    licence: "Licence",
    frequency: "Update frequency",
    temporal: "Time period",
    spatial: "Area covered",
    modified: "Last modified",
    issued: "First published",
    rows: "Rows",
    layer: "Map layer",
    conforms_to: "Conforms to",
    identifier: "Identifier",
    quality: "Quality",
    score: "Metadata quality score",
    score_caption: "Score by dimension (data.europa.eu MQA method)",
    dimension: "Dimension",
    points: "Points",
    etl: "Data checks",
    rows_read: "Rows read",
    rows_kept: "Rows published",
    rows_rejected: "Rows rejected",
    rows_filtered: "Rows left out by the filter",
    reasons: "Why rows were rejected",
    personal_dropped: "Columns with personal data not published",
    repairs: "Repairs",
    downloads: "Download",
    downloads_caption: "The dataset's files",
    file: "File",
    format: "Format",
    size: "Size",
    records: "Records",
    checksum: "SHA-256",
    chart: "Chart",
    chart_numbers: "The chart's numbers",
    month: "Month",
    year: "Year",
    value: "Value",
    map: "Map",
    map_label: "Interactive map of the layer",
    map_no_js: "The interactive map needs JavaScript; the geographic data is among the downloads.",
    preview: "Preview",
    no_csv: "This dataset has no CSV file: no preview is available.",
    preview_unreadable: "The preview is not available at the moment.",
    structure: "Data structure",
    structure_caption: "The table's columns",
    column: "Column",
    column_type: "Type",
    description: "Description",
    missing: "Missing values",
    api: "Use the data",
    twins: "Metadata in other formats",
    twins_intro: "The same metadata for machines:",
    not_found: "Dataset not found",
    from: "from",
    to: "to",
    qgis_ogc: "QGIS, Layer › Add Layer › WFS / OGC API – Features: the service URL and the collection",
    qgis_tiles: "QGIS, Layer › Add Layer › Vector Tile: the tile URL",
};

fn page_texts(t: &Texts) -> &'static PageTexts {
    if t.lang == "en" { &ENGLISH } else { &ITALIAN }
}

/// A value of the metadata table: text, linked when `url` is set.
pub struct Item {
    pub text: String,
    pub url: Option<String>,
}

impl Item {
    fn text(text: impl Into<String>) -> Item {
        Item {
            text: text.into(),
            url: None,
        }
    }

    fn link(text: impl Into<String>, url: impl Into<String>) -> Item {
        Item {
            text: text.into(),
            url: Some(url.into()),
        }
    }
}

/// A row of the metadata table.
pub struct MetaRow {
    pub label: &'static str,
    pub items: Vec<Item>,
}

pub struct DownloadView {
    pub url: String,
    pub file: String,
    pub format: String,
    pub media_type: String,
    pub size: String,
    pub byte_size: u64,
    pub rows: String,
    pub sha256: String,
}

pub struct ColumnView {
    pub name: String,
    pub type_label: &'static str,
    pub description: String,
    pub nulls: String,
}

pub struct Preview {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub struct ChartView {
    pub url: String,
    /// The periods' column header (month or year).
    pub period_header: &'static str,
    pub alt: String,
    pub caption: String,
    pub value_header: String,
    pub rows: Vec<(String, String)>,
}

pub struct MapView {
    pub style_url: String,
    /// `west,south,east,north`.
    pub bounds: String,
    pub thumbnail: Option<(String, String)>,
}

pub struct Snippet {
    pub title: String,
    pub code: String,
}

pub struct Twin {
    pub label: &'static str,
    pub url: String,
    pub media_type: &'static str,
}

pub struct ScoreView {
    pub points: u32,
    pub max: u32,
    pub rating: &'static str,
    pub dimensions: Vec<(&'static str, u32, u32)>,
}

pub struct EtlView {
    pub counts: Vec<(&'static str, String)>,
    pub reasons: Vec<(String, String)>,
    pub personal: Vec<String>,
    pub repairs: Vec<String>,
}

#[derive(Template)]
#[template(path = "dataset.html")]
pub struct DatasetPage {
    pub t: &'static Texts,
    pub p: &'static PageTexts,
    pub frame: Frame,
    /// The catalogue search page (the breadcrumb's first step).
    pub catalogue_url: String,
    pub title: String,
    pub description: String,
    pub demo: bool,
    pub meta: Vec<MetaRow>,
    pub score: ScoreView,
    pub etl: EtlView,
    pub downloads: Vec<DownloadView>,
    pub chart: Option<ChartView>,
    pub map: Option<MapView>,
    pub preview: Result<Preview, &'static str>,
    pub columns: Vec<ColumnView>,
    pub snippets: Vec<Snippet>,
    pub twins: Vec<Twin>,
    /// The CKAN API's `package_show` of the dataset.
    pub ckan_url: String,
    /// The schema.org JSON-LD, safe inside `<script>`.
    pub json_ld: String,
}

/// A size in bytes for people: `1,2 MB` (`1.2 MB` in English), decimal units.
pub fn human_size(bytes: u64, en: bool) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} byte{}", if en && bytes != 1 { "s" } else { "" });
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let text = format!("{value:.1}");
    let text = if en { text } else { text.replace('.', ",") };
    format!("{text} {}", UNITS[unit])
}

/// A count for people: `12.345` (`12,345` in English).
pub fn count(n: u64, en: bool) -> String {
    let it = format_it(i64::try_from(n).unwrap_or(i64::MAX));
    if en { it.replace('.', ",") } else { it }
}

/// An ISO 8601 date or date-time as "1 marzo 2026" ("1 March 2026"); other text as is.
pub fn date_label(value: &str, en: bool) -> String {
    let day = value.get(..10).unwrap_or(value);
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => {
            let month = month_label(&d.format("%Y-%m").to_string(), en);
            format!("{} {month}", d.format("%-d"))
        }
        Err(_) => value.to_string(),
    }
}

fn type_label(t: FieldType, en: bool) -> &'static str {
    match (t, en) {
        (FieldType::String, false) => "testo",
        (FieldType::String, true) => "text",
        (FieldType::Integer, false) => "numero intero",
        (FieldType::Integer, true) => "integer",
        (FieldType::Number, false) => "numero decimale",
        (FieldType::Number, true) => "decimal number",
        (FieldType::Boolean, false) => "vero o falso",
        (FieldType::Boolean, true) => "true or false",
        (FieldType::Date, false) => "data",
        (FieldType::Date, true) => "date",
        (FieldType::Datetime, false) => "data e ora",
        (FieldType::Datetime, true) => "date and time",
    }
}

fn geometry_label(g: GeometryType, en: bool) -> &'static str {
    match (g, en) {
        (GeometryType::Point | GeometryType::MultiPoint, false) => "punti",
        (GeometryType::Point | GeometryType::MultiPoint, true) => "points",
        (GeometryType::LineString | GeometryType::MultiLineString, false) => "linee",
        (GeometryType::LineString | GeometryType::MultiLineString, true) => "lines",
        (GeometryType::Polygon | GeometryType::MultiPolygon, false) => "aree (poligoni)",
        (GeometryType::Polygon | GeometryType::MultiPolygon, true) => "areas (polygons)",
        (GeometryType::Geometry, false) => "elementi geografici",
        (GeometryType::Geometry, true) => "features",
    }
}

fn rating_label(r: Rating, en: bool) -> &'static str {
    match (r, en) {
        (Rating::Excellent, false) => "eccellente",
        (Rating::Excellent, true) => "excellent",
        (Rating::Good, false) => "buono",
        (Rating::Good, true) => "good",
        (Rating::Sufficient, false) => "sufficiente",
        (Rating::Sufficient, true) => "sufficient",
        (Rating::Bad, false) => "scarso",
        (Rating::Bad, true) => "bad",
    }
}

fn dimension_label(name: &'static str, en: bool) -> &'static str {
    if en {
        return name;
    }
    match name {
        "Findability" => "Reperibilità",
        "Accessibility" => "Accessibilità",
        "Interoperability" => "Interoperabilità",
        "Reusability" => "Riusabilità",
        "Contextuality" => "Contestualità",
        other => other,
    }
}

/// A decimal degree for people: 4 decimals, Italian decimal comma.
fn degrees(v: f64, en: bool) -> String {
    let s = format!("{v:.4}");
    if en { s } else { s.replace('.', ",") }
}

/// JSON made safe inside `<script>`: `<`, `>` and `&` as JSON escapes (the same string
/// for a JSON parser).
pub fn script_json(value: &serde_json::Value) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string(value)?
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

/// Cuts a cell to [`CELL_CHARS`] characters.
fn cell(text: &str) -> String {
    let mut chars = text.chars();
    let cut: String = chars.by_ref().take(CELL_CHARS).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// The first [`PREVIEW_ROWS`] records of a CSV file (header first), reading at most
/// [`PREVIEW_BYTES`].
pub fn read_preview(path: &std::path::Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let limited = std::io::BufReader::new(file).take(PREVIEW_BYTES);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(limited);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{}: header: {e}", path.display()))?
        .iter()
        .map(cell)
        .collect();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while rows.len() < PREVIEW_ROWS {
        match reader.read_record(&mut record) {
            Ok(true) => {
                // A record ending at the byte cap may have been cut: leave it out.
                if reader.position().byte() >= PREVIEW_BYTES {
                    break;
                }
                rows.push(record.iter().map(cell).collect());
            }
            Ok(false) => break,
            Err(e) => {
                if rows.is_empty() {
                    return Err(format!("{}: {e}", path.display()));
                }
                break;
            }
        }
    }
    Ok((header, rows))
}

/// Reads a picture's JSON (the chart's numbers), small by construction.
async fn read_chart_data(generation: &Generation, d: &Dataset) -> Option<chart::Series> {
    let p = d
        .pictures
        .iter()
        .find(|p| p.kind == PictureKind::Chart && p.file == chart::DATA_FILE)?;
    if p.byte_size > 4 << 20 {
        tracing::warn!(dataset = %d.id, "chart data of {} bytes not shown", p.byte_size);
        return None;
    }
    let path = generation.dir().join(&p.path);
    match tokio::fs::read(&path).await {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(series) => Some(series),
            Err(e) => {
                tracing::warn!(dataset = %d.id, "chart data {}: {e}", path.display());
                None
            }
        },
        Err(e) => {
            tracing::warn!(dataset = %d.id, "chart data {}: {e}", path.display());
            None
        }
    }
}

/// The `Link` header values of the page's twins.
fn twins(generation: &Generation, id: &str) -> Vec<Twin> {
    let urls = generation.urls();
    let uris = CatalogUris::new(urls);
    let mut out = vec![Twin {
        label: "JSON",
        url: urls.dataset_json(id),
        media_type: "application/json",
    }];
    for syntax in RdfSyntax::ALL {
        out.push(Twin {
            label: match syntax {
                RdfSyntax::Turtle => "DCAT-AP_IT (Turtle)",
                RdfSyntax::RdfXml => "DCAT-AP_IT (RDF/XML)",
                RdfSyntax::JsonLd => "DCAT-AP_IT (JSON-LD)",
            },
            url: uris.dataset_document(id, syntax),
            media_type: syntax.media_type(),
        });
    }
    out
}

/// The HTML page of a dataset the generation holds.
pub async fn page(
    generation: &Generation,
    d: &Dataset,
    query: &[(String, String)],
    served: Served,
) -> Response {
    let t = texts_of(query);
    let p = page_texts(t);
    let en = t.lang == "en";
    let urls = generation.urls();
    let id = d.id.as_str();
    let m = &d.meta;
    let catalog = &generation.manifest().catalog;
    let ctx = Context::new(catalog, CatalogUris::new(urls));
    let page_url = urls.dataset_page(id);
    let other_lang_url = if en {
        page_url.clone()
    } else {
        link(&page_url, &[("lang".into(), "en".into())])
    };
    let frame = Frame::new(generation, t, Section::Catalogue, other_lang_url);
    let lang = lang_pairs(t);
    let search = urls.absolute("/datasets");

    // The metadata table.
    let pick = |labels: Option<(&'static str, &'static str)>, code: &str| -> String {
        labels
            .map(|(it, english)| if en { english } else { it }.to_string())
            .unwrap_or_else(|| code.to_string())
    };
    let mut meta = vec![
        MetaRow {
            label: p.publisher,
            items: vec![Item::text(&m.publisher.name)],
        },
        MetaRow {
            label: p.rights_holder,
            items: vec![Item::text(&m.rights_holder.name)],
        },
    ];
    let mut contact = vec![
        Item::text(&m.contact_point.name),
        Item::link(
            &m.contact_point.email,
            format!("mailto:{}", m.contact_point.email),
        ),
    ];
    if let Some(url) = &m.contact_point.url {
        // Only web addresses become links: a `javascript:` or `data:` URL from a recipe or
        // a harvested record is shown as text (and the CSP would block it anyway).
        let lower = url.trim_start().to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            contact.push(Item::link(url, url));
        } else {
            contact.push(Item::text(url));
        }
    }
    meta.push(MetaRow {
        label: p.contact,
        items: contact,
    });
    meta.push(MetaRow {
        label: p.themes,
        items: m
            .themes
            .iter()
            .map(|code| {
                let mut pairs = vec![("theme".to_string(), code.clone())];
                pairs.extend(lang.iter().cloned());
                Item::link(pick(vocab::theme_labels(code), code), link(&search, &pairs))
            })
            .collect(),
    });
    if !m.keywords.is_empty() {
        meta.push(MetaRow {
            label: p.keywords,
            items: m
                .keywords
                .iter()
                .map(|k| {
                    let mut pairs = vec![("keyword".to_string(), k.clone())];
                    pairs.extend(lang.iter().cloned());
                    Item::link(k, link(&search, &pairs))
                })
                .collect(),
        });
    }
    meta.push(MetaRow {
        label: p.licence,
        items: vec![match vocab::license(&m.license) {
            Some(l) => Item::link(if en { l.label_en } else { l.label_it }, l.uri()),
            None => Item::text(&m.license),
        }],
    });
    meta.push(MetaRow {
        label: p.frequency,
        items: vec![Item::text(pick(
            vocab::frequency_labels(&m.frequency),
            &m.frequency,
        ))],
    });
    if let Some(tx) = m.temporal.as_ref().or(d.extent.temporal.as_ref()) {
        let text = match &tx.end {
            Some(end) => format!(
                "{} {} {} {}",
                p.from,
                date_label(&tx.start, en),
                p.to,
                date_label(end, en)
            ),
            None => format!("{} {}", p.from, date_label(&tx.start, en)),
        };
        meta.push(MetaRow {
            label: p.temporal,
            items: vec![Item::text(text)],
        });
    }
    if let Some(b) = dcat::coverage_bbox(catalog, d) {
        let mut items = Vec::new();
        if let Some(uri) = dcat::municipality_uri(catalog, d) {
            items.push(Item::link(catalog.publisher.name.clone(), uri));
        }
        let (lon, lat) = if en {
            ("longitude", "latitude")
        } else {
            ("longitudine", "latitudine")
        };
        items.push(Item::text(format!(
            "{lon} {} – {}; {lat} {} – {} (WGS84)",
            degrees(b[0], en),
            degrees(b[2], en),
            degrees(b[1], en),
            degrees(b[3], en)
        )));
        meta.push(MetaRow {
            label: p.spatial,
            items,
        });
    }
    meta.push(MetaRow {
        label: p.modified,
        items: vec![Item::text(date_label(&d.modified, en))],
    });
    if let Some(issued) = &m.issued {
        meta.push(MetaRow {
            label: p.issued,
            items: vec![Item::text(date_label(issued, en))],
        });
    }
    meta.push(MetaRow {
        label: p.rows,
        items: vec![Item::text(count(d.rows, en))],
    });
    if let Some(layer) = &d.layer {
        meta.push(MetaRow {
            label: p.layer,
            items: vec![Item::text(format!(
                "{} {} ({}: EPSG:{})",
                count(layer.features, en),
                geometry_label(layer.geometry_type, en),
                if en {
                    "source CRS"
                } else {
                    "coordinate d'origine"
                },
                layer.source_crs
            ))],
        });
    }
    if !m.conforms_to.is_empty() {
        meta.push(MetaRow {
            label: p.conforms_to,
            items: m
                .conforms_to
                .iter()
                .map(|c| {
                    if c.starts_with("http://") || c.starts_with("https://") {
                        Item::link(c, c)
                    } else {
                        Item::text(c)
                    }
                })
                .collect(),
        });
    }
    meta.push(MetaRow {
        label: p.identifier,
        items: vec![Item::text(ctx.dataset_identifier(id))],
    });

    let scored = quality::score(&ctx, d, &served);
    let score = ScoreView {
        points: scored.points,
        max: scored.max,
        rating: rating_label(scored.rating, en),
        dimensions: scored
            .dimensions
            .iter()
            .map(|x| (dimension_label(x.name, en), x.points, x.max))
            .collect(),
    };
    let q = &d.quality;
    let mut counts = vec![
        (p.rows_read, count(q.rows_read, en)),
        (p.rows_kept, count(q.rows_kept, en)),
        (p.rows_rejected, count(q.rows_rejected, en)),
    ];
    if q.rows_filtered > 0 {
        counts.push((p.rows_filtered, count(q.rows_filtered, en)));
    }
    let etl = EtlView {
        counts,
        reasons: q
            .rejection_counts
            .iter()
            .map(|(reason, n)| (reason.clone(), count(*n, en)))
            .collect(),
        personal: q.personal_data_dropped.clone(),
        repairs: q.repairs.clone(),
    };

    let downloads: Vec<DownloadView> = d
        .distributions
        .iter()
        .map(|x| DownloadView {
            url: urls.file(id, &x.file),
            file: x.file.clone(),
            // GeoParquet and FlatGeobuf have no EU file-type code (`BIN`): their names.
            format: crate::etl::write::OutputFormat::from_media_type(&x.media_type)
                .map_or_else(|| x.format.clone(), |f| f.display_name().to_string()),
            media_type: x.media_type.clone(),
            size: human_size(x.byte_size, en),
            byte_size: x.byte_size,
            rows: count(x.rows, en),
            sha256: x.sha256.clone(),
        })
        .collect();

    // The chart and its numbers.
    let chart = match d
        .pictures
        .iter()
        .find(|x| x.kind == PictureKind::Chart && x.media_type == "image/svg+xml")
    {
        Some(svg) => {
            let data = read_chart_data(generation, d).await;
            let (caption, value_header, rows) = match &data {
                Some(s) => (
                    s.label.clone(),
                    match s.aggregate {
                        chart::Aggregate::Sum => {
                            if en {
                                format!("{} (monthly total)", s.label)
                            } else {
                                format!("{} (totale del mese)", s.label)
                            }
                        }
                        chart::Aggregate::Count => p.rows.to_string(),
                    },
                    s.points
                        .iter()
                        .map(|x| {
                            let v = format_it(x.value);
                            (
                                month_label(&x.period, en),
                                if en { v.replace('.', ",") } else { v },
                            )
                        })
                        .collect(),
                ),
                None => (svg.alt.clone(), p.value.to_string(), Vec::new()),
            };
            Some(ChartView {
                period_header: match data.as_ref().map(|s| s.per) {
                    Some(chart::Per::Year) => p.year,
                    _ => p.month,
                },
                url: urls.picture(id, &svg.file),
                alt: svg.alt.clone(),
                caption,
                value_header,
                rows,
            })
        }
        None => None,
    };

    let map = d.tiles.as_ref().map(|tiles| MapView {
        style_url: urls.style(id),
        bounds: tiles
            .bounds
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
        thumbnail: d
            .pictures
            .iter()
            .find(|x| x.kind == PictureKind::Thumbnail)
            .map(|x| (urls.picture(id, &x.file), x.alt.clone())),
    });

    // The preview, from the CSV download.
    let csv = d.distributions.iter().find(|x| x.format == "CSV");
    let preview = match csv {
        None => Err(p.no_csv),
        Some(x) => {
            let path = generation.file_path(x);
            let file = x.file.clone();
            let total = x.rows;
            match tokio::task::spawn_blocking(move || read_preview(&path)).await {
                Ok(Ok((header, rows))) => Ok(Preview {
                    caption: if en {
                        format!(
                            "The first {} rows of {file} (of {})",
                            rows.len(),
                            count(total, en)
                        )
                    } else {
                        format!(
                            "Le prime {} righe di {file} (su {})",
                            rows.len(),
                            count(total, en)
                        )
                    },
                    header,
                    rows,
                }),
                Ok(Err(e)) => {
                    tracing::warn!(dataset = %id, "preview: {e}");
                    Err(p.preview_unreadable)
                }
                Err(e) => {
                    tracing::warn!(dataset = %id, "preview task: {e}");
                    Err(p.preview_unreadable)
                }
            }
        }
    };
    let columns = d
        .fields
        .iter()
        .map(|f| ColumnView {
            name: f.name.clone(),
            type_label: type_label(f.field_type, en),
            description: f.description.clone().unwrap_or_default(),
            nulls: count(f.nulls, en),
        })
        .collect();

    let snippets = snippets(generation, d, p);
    let json_ld = match script_json(&schema_org::dataset(&ctx, d)) {
        Ok(s) => s,
        Err(e) => return ApiError::internal(format!("schema.org of {id}: {e}")).into_response(),
    };
    let twins = twins(generation, id);
    let ckan_url = link(
        &urls.absolute("/api/3/action/package_show"),
        &[("id".into(), id.into())],
    );

    let page = DatasetPage {
        t,
        p,
        frame,
        catalogue_url: link(&search, &lang),
        title: m.title.clone(),
        description: m.description.clone(),
        demo: m.demo_data,
        meta,
        score,
        etl,
        downloads,
        chart,
        map,
        preview,
        columns,
        snippets,
        twins,
        ckan_url,
        json_ld,
    };
    let mut response = html(StatusCode::OK, page.render());
    if response.status() == StatusCode::OK {
        let headers = response.headers_mut();
        for twin in self::twins(generation, id) {
            let value = format!(
                "<{}>; rel=\"alternate\"; type=\"{}\"",
                twin.url, twin.media_type
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.append(header::LINK, v);
            }
        }
        headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    }
    response
}

/// The API snippets: curl, Python, R, QGIS, every URL from the URL builder.
fn snippets(generation: &Generation, d: &Dataset, p: &PageTexts) -> Vec<Snippet> {
    let urls = generation.urls();
    let id = d.id.as_str();
    let file_url = |format: &str| {
        d.distributions
            .iter()
            .find(|x| x.format == format)
            .map(|x| (x.file.clone(), urls.file(id, &x.file)))
    };
    let csv = file_url("CSV");
    let geojson = file_url("GEOJSON");
    let ogc = dcat::has_ogc_collection(d);
    let items = urls.ogc(&format!("/collections/{id}/items"));
    let mut out = Vec::new();

    let mut curl = String::new();
    if let Some((file, url)) = &csv {
        curl.push_str(&format!("curl -L -o {file} '{url}'\n"));
    }
    curl.push_str(&format!("curl '{}'", urls.dataset_json(id)));
    out.push(Snippet {
        title: "curl".into(),
        code: curl,
    });

    let mut python = Vec::new();
    if let Some((_, url)) = &csv {
        python.push(format!(
            "import pandas as pd\n\ndf = pd.read_csv(\"{url}\")\nprint(df.head())"
        ));
    }
    if d.layer.is_some() {
        let source = match (&geojson, ogc) {
            (Some((_, url)), _) => Some(url.clone()),
            (None, true) => Some(format!("{items}?f=json")),
            (None, false) => None,
        };
        if let Some(source) = source {
            python.push(format!(
                "import geopandas as gpd\n\ngdf = gpd.read_file(\"{source}\")\nprint(gdf.head())"
            ));
        }
    }
    if !python.is_empty() {
        out.push(Snippet {
            title: "Python (pandas, geopandas)".into(),
            code: python.join("\n\n"),
        });
    }

    let mut r = Vec::new();
    if let Some((_, url)) = &csv {
        r.push(format!("df <- read.csv(\"{url}\")\nhead(df)"));
    }
    if d.layer.is_some()
        && let Some((_, url)) = &geojson
    {
        r.push(format!(
            "library(sf)\nlayer <- sf::st_read(\"{url}\")\nplot(sf::st_geometry(layer))"
        ));
    }
    if !r.is_empty() {
        out.push(Snippet {
            title: "R".into(),
            code: r.join("\n\n"),
        });
    }

    if ogc {
        out.push(Snippet {
            title: p.qgis_ogc.into(),
            code: format!("{}\n{id}", urls.ogc("")),
        });
    }
    if let Some(tiles) = &d.tiles {
        out.push(Snippet {
            title: p.qgis_tiles.into(),
            code: format!(
                "{}\nzoom {}–{}",
                urls.tile_template(id),
                tiles.min_zoom,
                tiles.max_zoom
            ),
        });
    }
    out
}

/// The 404 of `/datasets/{id}` for a client that asks for HTML.
pub fn not_found_page(
    generation: &Generation,
    query: &[(String, String)],
    segment: &str,
) -> Response {
    let t = texts_of(query);
    let p = page_texts(t);
    let urls = generation.urls();
    let here = urls.dataset_page(segment);
    let other = if t.lang == "en" {
        here
    } else {
        link(&here, &[("lang".into(), "en".into())])
    };
    let message = if t.lang == "en" {
        format!("{}: no dataset has the id “{segment}”.", p.not_found)
    } else {
        format!(
            "{}: nessun dataset ha l'identificativo «{segment}».",
            p.not_found
        )
    };
    html(
        StatusCode::NOT_FOUND,
        ErrorPage {
            t,
            frame: Frame::new(generation, t, Section::Catalogue, other),
            message,
        }
        .render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(&HeaderMap::new()), Wanted::Html);
        assert_eq!(negotiate(&accept("*/*")), Wanted::Html);
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(negotiate(&accept(firefox)), Wanted::Html);
        assert_eq!(negotiate(&accept("application/json")), Wanted::Json);
        assert_eq!(negotiate(&accept("application/json, */*")), Wanted::Json);
        assert_eq!(
            negotiate(&accept("text/turtle")),
            Wanted::Rdf(RdfSyntax::Turtle)
        );
        assert_eq!(
            negotiate(&accept("text/html;q=0.5, application/ld+json")),
            Wanted::Rdf(RdfSyntax::JsonLd)
        );
        assert_eq!(
            negotiate(&accept("text/html;q=0, application/rdf+xml;q=0.1")),
            Wanted::Rdf(RdfSyntax::RdfXml)
        );
        assert_eq!(negotiate(&accept("image/png")), Wanted::Html);
        assert!(accepts_html(&accept(firefox)));
        assert!(!accepts_html(&accept("*/*")));
        assert!(!accepts_html(&accept("text/html;q=0")));
    }

    /// A record past the byte cap is not read; cells are cut; at most 50 records.
    #[test]
    fn preview_stops_at_the_byte_cap_and_at_50_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let long = "y".repeat(PREVIEW_BYTES as usize);
        std::fs::write(
            &path,
            format!("a,b\n1,{}\n2,{long}\n3,z\n", "x".repeat(200)),
        )
        .unwrap();
        let (header, rows) = read_preview(&path).unwrap();
        assert_eq!(header, ["a", "b"]);
        assert_eq!(
            rows,
            [vec![
                "1".to_string(),
                format!("{}…", "x".repeat(CELL_CHARS))
            ]]
        );
        let many: String = (0..80).map(|i| format!("{i}\n")).collect();
        std::fs::write(&path, format!("n\n{many}")).unwrap();
        let (_, rows) = read_preview(&path).unwrap();
        let expected: Vec<Vec<String>> = (0..50).map(|i| vec![i.to_string()]).collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn sizes_dates_and_script_json() {
        assert_eq!(human_size(532, false), "532 byte");
        assert_eq!(human_size(1_234, false), "1,2 kB");
        assert_eq!(human_size(1_234_567, false), "1,2 MB");
        assert_eq!(human_size(1_234_567, true), "1.2 MB");
        assert_eq!(human_size(999_960, false), "1,0 MB");
        assert_eq!(date_label("2026-03-01T10:20:30Z", false), "1 marzo 2026");
        assert_eq!(date_label("2026-03-01", true), "1 March 2026");
        let v = serde_json::json!({"name": "</script><script>alert(1)</script> & co"});
        let s = script_json(&v).unwrap();
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
        assert_eq!(cell(&"x".repeat(CELL_CHARS)), "x".repeat(CELL_CHARS));
        assert_eq!(
            cell(&"é".repeat(CELL_CHARS + 1)),
            format!("{}…", "é".repeat(CELL_CHARS))
        );
    }
}
