//! DCAT source: DCAT-AP and DCAT-AP_IT catalogues in RDF, paged with hydra.
//!
//! Each page is parsed with oxrdfio into a graph: the format comes from the
//! `Content-Type` (`text/turtle`, `application/rdf+xml`, `application/ld+json`, ...);
//! when that says nothing useful (`text/plain` as raw.githubusercontent.com serves files,
//! `application/octet-stream`, a `file://` URL) from the URL's extension, and failing that
//! from the first bytes. Relative IRIs (the `rdf:about="c_a182"` of many real catalogues)
//! resolve against the page URL.
//!
//! Every node typed `dcat:Dataset` or `dcatapit:Dataset` becomes a record ([`map_dataset`]):
//! DCAT-AP_IT and plain DCAT-AP use the same properties; DCAT-AP_IT adds
//! `dcatapit:startDate`/`endDate` (DCAT 2 uses `dcat:startDate`/`endDate`; both are read).
//! Multilingual literals are read in Italian first, then without a language, then English.
//!
//! Paging follows `hydra:next` or the deprecated `hydra:nextPage` (ckanext-dcat writes the
//! latter as a literal), on whatever node carries them (`hydra:PagedCollection`,
//! `hydra:PartialCollectionView`); when a page holds several different next links, the one
//! on the node named like the page wins. A web catalogue's next link must be a web URL:
//! an http source can never lead the harvester to a local file.
//!
//! Pitfall: JSON-LD with a remote `@context` is refused (Portale never fetches contexts:
//! that would be a request outside the crawl's limits); inline contexts work.

use std::collections::{BTreeSet, HashSet};

use oxrdf::{Graph, NamedNodeRef, NamedOrBlankNodeRef, TermRef, Triple, vocab::rdf};
use oxrdfio::{RdfFormat, RdfParser};
use reqwest::Url;

use super::client::Fetched;
use super::{Crawl, Defect, Draft, Mapped, clean};
use crate::model::{FederatedAgent, FederatedContact, FederatedDistribution, FederatedSpatial};

/// What a DCAT source asks for.
pub const ACCEPT: &str = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, \
                          application/n-triples;q=0.7, */*;q=0.1";

const fn iri(s: &str) -> NamedNodeRef<'_> {
    NamedNodeRef::new_unchecked(s)
}

const DCAT_DATASET: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#Dataset");
const DCATAPIT_DATASET: NamedNodeRef<'_> = iri("http://dati.gov.it/onto/dcatapit#Dataset");
const DCAT_THEME: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#theme");
const DCAT_KEYWORD: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#keyword");
const DCAT_DISTRIBUTION: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#distribution");
const DCAT_CONTACT_POINT: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#contactPoint");
const DCAT_LANDING_PAGE: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#landingPage");
const DCAT_ACCESS_URL: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#accessURL");
const DCAT_DOWNLOAD_URL: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#downloadURL");
const DCAT_MEDIA_TYPE: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#mediaType");
const DCAT_BYTE_SIZE: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#byteSize");
const DCAT_BBOX: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#bbox");
const DCAT_START_DATE: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#startDate");
const DCAT_END_DATE: NamedNodeRef<'_> = iri("http://www.w3.org/ns/dcat#endDate");
const DCATAPIT_START_DATE: NamedNodeRef<'_> = iri("http://dati.gov.it/onto/dcatapit#startDate");
const DCATAPIT_END_DATE: NamedNodeRef<'_> = iri("http://dati.gov.it/onto/dcatapit#endDate");
const SCHEMA_START_DATE: NamedNodeRef<'_> = iri("http://schema.org/startDate");
const SCHEMA_END_DATE: NamedNodeRef<'_> = iri("http://schema.org/endDate");
const DCATAPIT_GEO_ID: NamedNodeRef<'_> =
    iri("http://dati.gov.it/onto/dcatapit#geographicalIdentifier");
const DCT_TITLE: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/title");
const DCT_DESCRIPTION: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/description");
const DCT_IDENTIFIER: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/identifier");
const DCT_MODIFIED: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/modified");
const DCT_ISSUED: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/issued");
const DCT_PUBLISHER: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/publisher");
const DCT_RIGHTS_HOLDER: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/rightsHolder");
const DCT_LICENSE: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/license");
const DCT_ACCRUAL: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/accrualPeriodicity");
const DCT_FORMAT: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/format");
const DCT_SPATIAL: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/spatial");
const DCT_TEMPORAL: NamedNodeRef<'_> = iri("http://purl.org/dc/terms/temporal");
const FOAF_NAME: NamedNodeRef<'_> = iri("http://xmlns.com/foaf/0.1/name");
const VCARD_FN: NamedNodeRef<'_> = iri("http://www.w3.org/2006/vcard/ns#fn");
const VCARD_HAS_EMAIL: NamedNodeRef<'_> = iri("http://www.w3.org/2006/vcard/ns#hasEmail");
const VCARD_HAS_URL: NamedNodeRef<'_> = iri("http://www.w3.org/2006/vcard/ns#hasURL");
const VCARD_NS: &str = "http://www.w3.org/2006/vcard/ns#";
const SKOS_PREF_LABEL: NamedNodeRef<'_> = iri("http://www.w3.org/2004/02/skos/core#prefLabel");
const RDFS_LABEL: NamedNodeRef<'_> = iri("http://www.w3.org/2000/01/rdf-schema#label");
const RDF_VALUE: NamedNodeRef<'_> = iri("http://www.w3.org/1999/02/22-rdf-syntax-ns#value");
const LOCN_GEOMETRY: NamedNodeRef<'_> = iri("http://www.w3.org/ns/locn#geometry");
const LOCN_GEOGRAPHIC_NAME: NamedNodeRef<'_> = iri("http://www.w3.org/ns/locn#geographicName");
const HYDRA_NEXT: NamedNodeRef<'_> = iri("http://www.w3.org/ns/hydra/core#next");
const HYDRA_NEXT_PAGE: NamedNodeRef<'_> = iri("http://www.w3.org/ns/hydra/core#nextPage");
const HYDRA_TOTAL_ITEMS: NamedNodeRef<'_> = iri("http://www.w3.org/ns/hydra/core#totalItems");

const EU_THEME: &str = "http://publications.europa.eu/resource/authority/data-theme/";
const EU_FREQUENCY: &str = "http://publications.europa.eu/resource/authority/frequency/";
const EU_FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";
const IANA_MEDIA_TYPES: &str = "http://www.iana.org/assignments/media-types/";
const IANA_MEDIA_TYPES_S: &str = "https://www.iana.org/assignments/media-types/";

/// Crawls a DCAT source from its URL through its hydra pages.
pub(crate) async fn crawl(crawl: &mut Crawl) {
    let mut url = match Url::parse(&crawl.source.url) {
        Ok(u) => u,
        Err(e) => {
            crawl.fail(format!("{}: not a URL: {e}", crawl.source.url));
            return;
        }
    };
    let web = matches!(url.scheme(), "http" | "https");
    let mut total_items: Option<u64> = None;
    loop {
        let Some(page) = crawl.fetch(url.clone(), ACCEPT).await else {
            return;
        };
        let source = crawl.source.name.clone();
        let now = crawl.now.clone();
        let read = tokio::task::spawn_blocking(move || read_page(&page, &source, &now)).await;
        let read = match read {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                crawl.fail(format!("{url}: {e}"));
                return;
            }
            Err(e) => {
                crawl.fail(format!("{url}: reading the page failed: {e}"));
                return;
            }
        };
        if total_items.is_none() {
            total_items = read.total_items;
        }
        for r in read.records {
            crawl.add(r);
        }
        crawl.page_read();
        match read.next {
            None => {
                if let Some(total) = total_items
                    && total != crawl.records_found()
                {
                    crawl.warn(format!(
                        "the catalogue declares hydra:totalItems {total}, but its pages held \
                         {} datasets",
                        crawl.records_found()
                    ));
                }
                return;
            }
            Some(Err(e)) => {
                crawl.fail(format!("{url}: {e}"));
                return;
            }
            Some(Ok(next)) => {
                if web && !matches!(next.scheme(), "http" | "https") {
                    crawl.fail(format!(
                        "{url}: the next link {next} is not an http(s) URL; it is not followed"
                    ));
                    return;
                }
                url = next;
            }
        }
    }
}

/// What one page holds.
#[derive(Debug)]
pub struct PageRead {
    pub records: Vec<Mapped>,
    /// The next page: `None` on the last page, an error when the link is unusable.
    pub next: Option<Result<Url, String>>,
    /// `hydra:totalItems`, when the page declares it.
    pub total_items: Option<u64>,
}

/// Parses a fetched page and maps its datasets.
pub fn read_page(page: &Fetched, source: &str, now: &str) -> Result<PageRead, String> {
    let format = detect_format(page)?;
    let graph = parse(format, &page.body, page.url.as_str())?;
    let page_url = page.url.as_str();
    let mut seen = HashSet::new();
    let mut datasets: Vec<NamedOrBlankNodeRef<'_>> = Vec::new();
    for class in [DCAT_DATASET, DCATAPIT_DATASET] {
        for s in graph.subjects_for_predicate_object(rdf::TYPE, class) {
            if seen.insert(s.to_string()) {
                datasets.push(s);
            }
        }
    }
    datasets.sort_by_key(|s| s.to_string());
    let dir = page
        .url
        .join(".")
        .map(|u| u.to_string())
        .unwrap_or_default();
    let records = datasets
        .into_iter()
        .map(|d| map_dataset(&graph, d, &dir).finish(source, page_url, now))
        .collect();
    let total_items = graph
        .triples_for_predicate(HYDRA_TOTAL_ITEMS)
        .find_map(|t| literal(t.object).and_then(|v| v.trim().parse::<u64>().ok()));
    Ok(PageRead {
        records,
        next: next_link(&graph, &page.url),
        total_items,
    })
}

/// The RDF format of a page, from its Content-Type, its extension or its first bytes.
pub fn detect_format(page: &Fetched) -> Result<RdfFormat, String> {
    let media = page
        .content_type
        .as_deref()
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|c| !c.is_empty());
    match media.as_deref() {
        Some("text/html" | "application/xhtml+xml") => Err(format!(
            "the server answered with an HTML page ({}), not RDF",
            media.as_deref().unwrap_or_default()
        )),
        None | Some("text/plain" | "application/octet-stream" | "binary/octet-stream") => {
            sniff(page)
        }
        Some(m) => {
            let full = page.content_type.as_deref().unwrap_or(m);
            RdfFormat::from_media_type(full).ok_or_else(|| {
                format!(
                    "Content-Type {full:?} is not an RDF format Portale reads (Turtle, RDF/XML, \
                     JSON-LD, N-Triples; UTF-8)"
                )
            })
        }
    }
}

fn sniff(page: &Fetched) -> Result<RdfFormat, String> {
    let extension = page
        .url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    if let Some(f) = extension
        .as_deref()
        .filter(|e| *e != "txt")
        .and_then(RdfFormat::from_extension)
    {
        return Ok(f);
    }
    let head = String::from_utf8_lossy(&page.body[..page.body.len().min(2048)]).to_string();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    let lower = head.to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return Err("the server answered with an HTML page, not RDF".into());
    }
    if head.starts_with("<?xml") || lower.contains("<rdf:rdf") {
        return Ok(RdfFormat::RdfXml);
    }
    if head.starts_with('{') || head.starts_with('[') {
        return Ok(RdfFormat::JsonLd {
            profile: oxrdfio::JsonLdProfileSet::empty(),
        });
    }
    Ok(RdfFormat::Turtle)
}

/// Parses `body` into a graph (named graphs are merged into it).
pub fn parse(format: RdfFormat, body: &[u8], base: &str) -> Result<Graph, String> {
    let parser = RdfParser::from_format(format)
        .with_base_iri(base)
        .map_err(|e| format!("the page URL is not a valid base IRI: {e}"))?;
    let mut graph = Graph::new();
    for quad in parser.for_slice(body) {
        let quad = quad.map_err(|e| format!("invalid {}: {e}", format.name()))?;
        graph.insert(&Triple::from(quad));
    }
    Ok(graph)
}

/// The page's next link (`hydra:next` or `hydra:nextPage`).
fn next_link(graph: &Graph, page: &Url) -> Option<Result<Url, String>> {
    let mut candidates: Vec<(String, String)> = Vec::new();
    for p in [HYDRA_NEXT, HYDRA_NEXT_PAGE] {
        for t in graph.triples_for_predicate(p) {
            let target = match t.object {
                TermRef::NamedNode(n) => n.as_str().to_string(),
                TermRef::Literal(l) => l.value().trim().to_string(),
                _ => continue,
            };
            if target.is_empty() {
                continue;
            }
            let subject = match t.subject {
                NamedOrBlankNodeRef::NamedNode(n) => n.as_str().to_string(),
                NamedOrBlankNodeRef::BlankNode(_) => String::new(),
            };
            candidates.push((subject, target));
        }
    }
    let resolve = |target: &str| {
        page.join(target)
            .map_err(|e| format!("the next link {target:?} is not a URL: {e}"))
    };
    let distinct: BTreeSet<&str> = candidates.iter().map(|(_, t)| t.as_str()).collect();
    match distinct.len() {
        0 => None,
        1 => distinct.first().map(|t| resolve(t)),
        _ => {
            let own: BTreeSet<&str> = candidates
                .iter()
                .filter(|(s, _)| s == page.as_str())
                .map(|(_, t)| t.as_str())
                .collect();
            if own.len() == 1 {
                own.first().map(|t| resolve(t))
            } else {
                Some(Err(format!(
                    "the page holds {} different next links ({}); Portale does not guess",
                    distinct.len(),
                    distinct.into_iter().collect::<Vec<_>>().join(", ")
                )))
            }
        }
    }
}

fn literal(term: TermRef<'_>) -> Option<&str> {
    match term {
        TermRef::Literal(l) => Some(l.value()),
        _ => None,
    }
}

fn node(term: TermRef<'_>) -> Option<NamedOrBlankNodeRef<'_>> {
    match term {
        TermRef::NamedNode(n) => Some(n.into()),
        TermRef::BlankNode(b) => Some(b.into()),
        _ => None,
    }
}

/// The text of a term: an IRI or a literal's value.
fn text(term: TermRef<'_>) -> Option<&str> {
    match term {
        TermRef::NamedNode(n) => Some(n.as_str()),
        TermRef::Literal(l) => Some(l.value()),
        _ => None,
    }
}

/// The objects of `p`, in a stable order: blank nodes (whose ids change from one parse to
/// the next) sort by what they say, so that the same document always maps to the same
/// record and an unchanged record keeps its hash.
fn objects<'a>(g: &'a Graph, s: NamedOrBlankNodeRef<'a>, p: NamedNodeRef<'a>) -> Vec<TermRef<'a>> {
    let mut out: Vec<(String, TermRef<'a>)> = g
        .objects_for_subject_predicate(s, p)
        .map(|t| (sort_key(g, t), t))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, t)| t).collect()
}

fn sort_key(g: &Graph, t: TermRef<'_>) -> String {
    match t {
        TermRef::BlankNode(b) => {
            let mut parts: Vec<String> = g
                .triples_for_subject(b)
                .map(|t| format!("{} {}", t.predicate, t.object))
                .collect();
            parts.sort();
            format!("~{}", parts.join(" ; "))
        }
        _ => t.to_string(),
    }
}

/// The best literal of `p`: Italian, then no language, then English, then any.
fn pick(g: &Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>) -> Option<String> {
    let mut best: Option<(u8, String)> = None;
    for t in objects(g, s, p) {
        let TermRef::Literal(l) = t else { continue };
        if l.value().trim().is_empty() {
            continue;
        }
        let rank = match l.language().map(|l| l.to_ascii_lowercase()) {
            Some(lang) if lang == "it" || lang.starts_with("it-") => 0,
            None => 1,
            Some(lang) if lang == "en" || lang.starts_with("en-") => 2,
            Some(_) => 3,
        };
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, l.value().to_string()));
        }
    }
    best.map(|(_, v)| v)
}

/// The first non-empty text of `p` (IRI or literal).
fn first_text(g: &Graph, s: NamedOrBlankNodeRef<'_>, p: NamedNodeRef<'_>) -> Option<String> {
    objects(g, s, p)
        .into_iter()
        .filter_map(text)
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map(str::to_string)
}

/// Maps a vocabulary IRI to its code when it is in `base`, else keeps the IRI.
fn code_of(value: &str, base: &str) -> String {
    value
        .strip_prefix(base)
        .map(|c| c.trim_end_matches('/').to_string())
        .unwrap_or_else(|| value.to_string())
}

/// What a relative IRI in the source said before it was resolved against the page URL
/// (`rdf:resource="CSV"` becomes `<page dir>/CSV`; the harvester wants `CSV` back).
fn unresolve<'a>(value: &'a str, page_dir: &str) -> &'a str {
    match value.strip_prefix(page_dir) {
        Some(rest) if !page_dir.is_empty() && !rest.is_empty() => rest,
        _ => value,
    }
}

/// Maps one `dcat:Dataset` node to a draft record, noting its defects. `page_dir` is the
/// URL the page's relative IRIs were resolved against.
pub(crate) fn map_dataset(g: &Graph, d: NamedOrBlankNodeRef<'_>, page_dir: &str) -> Draft {
    let mut draft = Draft::default();
    let iri = match d {
        NamedOrBlankNodeRef::NamedNode(n) => Some(n.as_str().to_string()),
        NamedOrBlankNodeRef::BlankNode(_) => None,
    };
    draft.uri = iri.clone();
    draft.original_id = objects(g, d, DCT_IDENTIFIER)
        .into_iter()
        .filter_map(literal)
        .map(str::trim)
        .find(|v| !v.is_empty())
        .map(str::to_string);
    if draft.original_id.is_none() {
        draft.defects.insert(Defect::NoIdentifier);
        draft.original_id = iri;
    }
    draft.title = pick(g, d, DCT_TITLE);
    draft.description = pick(g, d, DCT_DESCRIPTION);
    if draft.description.is_none() {
        draft.defects.insert(Defect::NoDescription);
    }

    let keywords: Vec<(String, Option<String>)> = objects(g, d, DCAT_KEYWORD)
        .into_iter()
        .filter_map(|t| match t {
            TermRef::Literal(l) => Some((
                l.value().to_string(),
                l.language().map(|x| x.to_ascii_lowercase()),
            )),
            _ => None,
        })
        .collect();
    let italian: Vec<String> = keywords
        .iter()
        .filter(|(_, lang)| {
            lang.as_deref()
                .is_none_or(|l| l == "it" || l.starts_with("it-"))
        })
        .map(|(k, _)| k.clone())
        .collect();
    draft.keywords = if italian.is_empty() {
        keywords.into_iter().map(|(k, _)| k).collect()
    } else {
        italian
    };

    let themes = objects(g, d, DCAT_THEME);
    if themes.is_empty() {
        draft.defects.insert(Defect::NoTheme);
    }
    for t in themes {
        let Some(value) = text(t).map(str::trim).filter(|v| !v.is_empty()) else {
            draft.defects.insert(Defect::ThemeNotEuVocabulary);
            continue;
        };
        let is_eu = t.is_named_node()
            && value
                .strip_prefix(EU_THEME)
                .is_some_and(crate::vocab::is_theme);
        if is_eu {
            draft.themes.push(code_of(value, EU_THEME));
        } else {
            draft.defects.insert(Defect::ThemeNotEuVocabulary);
            draft.themes.push(value.to_string());
        }
    }

    draft.publisher = objects(g, d, DCT_PUBLISHER)
        .into_iter()
        .find_map(|t| agent(g, t));
    let holders = objects(g, d, DCT_RIGHTS_HOLDER);
    if holders.is_empty() {
        draft.defects.insert(Defect::NoRightsHolder);
    }
    draft.rights_holder = holders.into_iter().find_map(|t| agent(g, t));

    let contacts = objects(g, d, DCAT_CONTACT_POINT);
    if contacts.is_empty() {
        draft.defects.insert(Defect::NoContactPoint);
    }
    for c in &contacts {
        let vcard = node(*c).is_some_and(|n| {
            g.objects_for_subject_predicate(n, rdf::TYPE)
                .any(|ty| matches!(ty, TermRef::NamedNode(t) if t.as_str().starts_with(VCARD_NS)))
        });
        if !vcard {
            draft.defects.insert(Defect::ContactPointNotVcard);
        }
    }
    draft.contact_point = contacts.into_iter().find_map(|t| contact(g, t, page_dir));

    let mut licences = objects(g, d, DCT_LICENSE);
    draft.frequency = first_text(g, d, DCT_ACCRUAL).map(|f| code_of(&f, EU_FREQUENCY));
    if draft.frequency.is_none() {
        draft.defects.insert(Defect::NoFrequency);
    }
    draft.issued = first_text(g, d, DCT_ISSUED);
    draft.modified = first_text(g, d, DCT_MODIFIED);
    if draft.modified.is_none() {
        draft.defects.insert(Defect::NoModified);
    }
    draft.landing_page = first_text(g, d, DCAT_LANDING_PAGE);

    let distributions = objects(g, d, DCAT_DISTRIBUTION);
    if distributions.is_empty() {
        draft.defects.insert(Defect::NoDistribution);
    }
    for t in distributions {
        let Some(n) = node(t) else { continue };
        let dist_licences = objects(g, n, DCT_LICENSE);
        if !dist_licences
            .iter()
            .any(|l| l.is_named_node() || l.is_blank_node())
        {
            draft.defects.insert(Defect::DistributionWithoutLicence);
        }
        let access_url = first_text(g, n, DCAT_ACCESS_URL);
        if access_url.is_none() {
            draft.defects.insert(Defect::DistributionWithoutAccessUrl);
        }
        let format = objects(g, n, DCT_FORMAT)
            .into_iter()
            .find_map(|f| format_of(g, f))
            .map(|f| unresolve(&f, page_dir).to_string());
        if objects(g, n, DCT_FORMAT).is_empty() {
            draft.defects.insert(Defect::DistributionWithoutFormat);
        }
        draft.distributions.push(FederatedDistribution {
            title: pick(g, n, DCT_TITLE),
            description: pick(g, n, DCT_DESCRIPTION),
            access_url,
            download_url: first_text(g, n, DCAT_DOWNLOAD_URL),
            format,
            media_type: first_text(g, n, DCAT_MEDIA_TYPE)
                .map(|m| code_of(&code_of(&m, IANA_MEDIA_TYPES), IANA_MEDIA_TYPES_S)),
            license: dist_licences.iter().find_map(|l| licence_of(g, *l)),
            byte_size: first_text(g, n, DCAT_BYTE_SIZE).and_then(|b| {
                let b = b.trim();
                b.parse::<u64>().ok().or_else(|| {
                    b.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
                        .map(|f| f as u64)
                })
            }),
        });
        licences.extend(dist_licences);
    }
    if licences
        .iter()
        .any(|l| literal(*l).is_some_and(|v| v.trim().is_empty()))
    {
        draft.defects.insert(Defect::EmptyLicence);
    }
    draft.license = objects(g, d, DCT_LICENSE)
        .into_iter()
        .find_map(|l| licence_of(g, l))
        .or_else(|| {
            draft
                .distributions
                .iter()
                .find_map(|dist| dist.license.clone())
        });

    draft.spatial = spatial(g, d, &mut draft.defects);
    draft.temporal = objects(g, d, DCT_TEMPORAL).into_iter().find_map(|t| {
        let n = node(t)?;
        let start = [DCAT_START_DATE, DCATAPIT_START_DATE, SCHEMA_START_DATE]
            .into_iter()
            .find_map(|p| first_text(g, n, p))?;
        let end = [DCAT_END_DATE, DCATAPIT_END_DATE, SCHEMA_END_DATE]
            .into_iter()
            .find_map(|p| first_text(g, n, p));
        Some((start, end))
    });
    draft
}

fn agent(g: &Graph, t: TermRef<'_>) -> Option<FederatedAgent> {
    let n = node(t)?;
    let identifier = first_text(g, n, DCT_IDENTIFIER);
    let name = pick(g, n, FOAF_NAME)
        .or_else(|| pick(g, n, VCARD_FN))
        .or_else(|| pick(g, n, SKOS_PREF_LABEL))
        .or_else(|| identifier.clone())?;
    Some(FederatedAgent { name, identifier })
}

fn contact(g: &Graph, t: TermRef<'_>, page_dir: &str) -> Option<FederatedContact> {
    let n = node(t)?;
    let name = pick(g, n, VCARD_FN).or_else(|| pick(g, n, FOAF_NAME));
    // `rdf:resource="name@example.it"` (no mailto:) is a relative IRI: undo the resolution.
    let email = first_text(g, n, VCARD_HAS_EMAIL).map(|e| unresolve(&e, page_dir).to_string());
    let mut url = first_text(g, n, VCARD_HAS_URL);
    if url.is_none()
        && name.is_none()
        && email.is_none()
        && let TermRef::NamedNode(iri) = t
    {
        // A contact point that is just a web page (a common defect): keep it as a link.
        url = Some(iri.as_str().to_string());
    }
    Some(FederatedContact { name, email, url })
}

fn format_of(g: &Graph, t: TermRef<'_>) -> Option<String> {
    match t {
        TermRef::NamedNode(n) => Some(code_of(n.as_str(), EU_FILE_TYPE)),
        TermRef::Literal(l) => Some(l.value().trim().to_string()).filter(|v| !v.is_empty()),
        TermRef::BlankNode(b) => {
            let n = b.into();
            first_text(g, n, RDF_VALUE)
                .or_else(|| pick(g, n, RDFS_LABEL))
                .or_else(|| pick(g, n, SKOS_PREF_LABEL))
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn licence_of(g: &Graph, t: TermRef<'_>) -> Option<String> {
    match t {
        TermRef::NamedNode(n) => Some(n.as_str().to_string()),
        TermRef::BlankNode(b) => {
            let n = b.into();
            pick(g, n, FOAF_NAME)
                .or_else(|| pick(g, n, DCT_TITLE))
                .or_else(|| pick(g, n, RDFS_LABEL))
        }
        _ => None,
    }
}

fn spatial(
    g: &Graph,
    d: NamedOrBlankNodeRef<'_>,
    defects: &mut std::collections::BTreeSet<Defect>,
) -> Option<FederatedSpatial> {
    let places = objects(g, d, DCT_SPATIAL);
    if places.is_empty() {
        return None;
    }
    let mut s = FederatedSpatial::default();
    for p in places {
        match p {
            TermRef::NamedNode(n) => s.uris.push(n.as_str().to_string()),
            TermRef::Literal(l) => s.names.push(l.value().to_string()),
            _ => {}
        }
        let Some(n) = node(p) else { continue };
        for prop in [SKOS_PREF_LABEL, RDFS_LABEL, LOCN_GEOGRAPHIC_NAME] {
            if let Some(name) = pick(g, n, prop) {
                s.names.push(name);
            }
        }
        if let Some(id) = first_text(g, n, DCATAPIT_GEO_ID) {
            s.uris.push(id);
        }
        if s.geometry.is_none()
            && let Some(geom) = [DCAT_BBOX, LOCN_GEOMETRY]
                .into_iter()
                .find_map(|prop| first_text(g, n, prop))
        {
            s.bbox = clean::geometry_bbox(&geom);
            if s.bbox.is_none() {
                defects.insert(Defect::SpatialUnreadable);
            }
            s.geometry = Some(geom);
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(url: &str, content_type: Option<&str>, body: &str) -> Fetched {
        Fetched {
            url: Url::parse(url).unwrap(),
            content_type: content_type.map(str::to_string),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn formats() {
        let f = |u, ct, b| detect_format(&fetched(u, ct, b));
        assert_eq!(
            f("http://x/c", Some("text/turtle; charset=utf-8"), ""),
            Ok(RdfFormat::Turtle)
        );
        assert_eq!(
            f("http://x/c.rdf", Some("text/plain"), ""),
            Ok(RdfFormat::RdfXml)
        );
        assert_eq!(
            f("http://x/c", None, "<?xml version='1.0'?><rdf:RDF/>"),
            Ok(RdfFormat::RdfXml)
        );
        assert_eq!(
            f("http://x/c", None, "@prefix a: <b> ."),
            Ok(RdfFormat::Turtle)
        );
        assert!(f("http://x/c", Some("text/html"), "<html>").is_err());
        assert!(f("http://x/c", None, "<!DOCTYPE html><html>").is_err());
        assert!(f("http://x/c", Some("image/png"), "").is_err());
    }

    #[test]
    fn both_hydra_styles_and_ambiguity() {
        let page = Url::parse("http://x/catalog.ttl?page=1").unwrap();
        let ttl = |body: &str| parse(RdfFormat::Turtle, body.as_bytes(), page.as_str()).unwrap();
        let g = ttl("@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
            <http://x/catalog.ttl?page=1> hydra:next <http://x/catalog.ttl?page=2> ;
                hydra:nextPage <http://x/catalog.ttl?page=2> .");
        assert_eq!(
            next_link(&g, &page).unwrap().unwrap().as_str(),
            "http://x/catalog.ttl?page=2"
        );
        let g = ttl("@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
            [] hydra:nextPage \"catalog.ttl?page=3\" .");
        assert_eq!(
            next_link(&g, &page).unwrap().unwrap().as_str(),
            "http://x/catalog.ttl?page=3"
        );
        let g = ttl("@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
            [] hydra:next <http://x/a> . [] hydra:next <http://x/b> .");
        assert!(next_link(&g, &page).unwrap().is_err());
        let g = ttl("@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
            <http://x/catalog.ttl?page=1> hydra:next <http://x/a> . [] hydra:next <http://x/b> .");
        assert_eq!(
            next_link(&g, &page).unwrap().unwrap().as_str(),
            "http://x/a"
        );
        assert!(next_link(&ttl("<http://x/a> <http://x/b> <http://x/c> ."), &page).is_none());
    }
}
