//! DCAT-AP_IT 2.0 RDF of the served manifest, with the DCAT-AP 3.0.1 range typing and
//! GeoDCAT-AP spatial coverage: the graph ([`dataset_graph`], [`catalog_page_graph`]),
//! hydra paging ([`CatalogQuery`], [`paginate`]) and the three syntaxes ([`serialize`]).
//!
//! What a harvester gets, per dataset (`c_b648` being the publisher's IPA code):
//! - the dataset (`{base}/datasets/{id}#dataset`, `dcat:Dataset` + `dcatapit:Dataset`) with
//!   `dct:identifier "c_b648:{id}"`, title, description, modified, issued, themes (EU
//!   data-theme `skos:Concept`s) and EuroVoc sub-themes (`dct:subject`), frequency,
//!   publisher and rights holder (`foaf:Agent` + `dcatapit:Agent`, IPA code as
//!   `dct:identifier`), a vcard contact point, keywords, language, access rights,
//!   landing page, conformance, spatial and temporal coverage;
//! - spatial coverage: a `dct:Location` with `dcat:bbox`, `dcat:centroid` and a
//!   `locn:geometry` node (WKT and GeoJSON, WGS84 lon/lat) from the data's extent, else
//!   from the territory; plus the municipality of the AgID/ISTAT vocabulary when the
//!   data lies inside the territory;
//! - one distribution per file: access URL (the dataset page), download URL, EU file
//!   type, IANA media type (when registered), byte size, SPDX SHA-256 checksum, licence
//!   (AgID licence document typed with its level-2 class), rights;
//! - for layers, `dcat:DataService`s for the OGC API – Features collection and the
//!   vector tiles (TileJSON), reached from the distributions by `dcat:accessService`.
//!
//! The catalogue's `q` ([`CatalogQuery`]) selects the datasets the catalogue's search
//! engine matches ([`paginate_searched`] with a [`super::FreeTextSearch`], normally
//! [`crate::search::SearchEngine::matching`]: stemming, synonyms, typo tolerance), so the
//! same words find the same datasets as `/datasets.json` and CKAN's `package_search`;
//! pages stay in id order (harvesters page through them), the engine's scores are not
//! used. Without an engine (a site without a search index) `q` is a case-insensitive
//! substring of the title, the description or a keyword ([`CatalogQuery::matches`]).
//!
//! The catalogue page holds the catalogue node, its `dcat:dataset` links, the hydra
//! paging node and, for each dataset of the page, exactly the triples of
//! [`dataset_graph`]: a dataset's twin (`/datasets/{id}.ttl`) and its part of the
//! catalogue never differ (ckanext-dcatapit #50 shipped different themes in the two).
//! That holds because no node reachable from a dataset carries triples that depend on
//! another dataset: shared nodes (the catalogue's publisher, vocabulary terms) only say
//! what is the same for everyone, and everything else is a fragment of the dataset's URI.
//!
//! Pitfalls:
//! - no blank nodes, so the three syntaxes are the same graph and crawls can be diffed;
//! - every vocabulary term is typed with the class the DCAT-AP 3.0.1 shapes expect, and
//!   every `skos:Concept` carries a `skos:prefLabel` (the shapes require one);
//! - an agent has exactly one `foaf:name` and one `dct:identifier` (AgID rules 191, 192);
//! - `locn:geometry` is a node (`locn:Geometry`) in DCAT-AP 3, not a literal as in the
//!   AgID examples, so the WKT hangs off it with `gsp:asWKT`;
//! - a value that cannot be published (an unknown theme, a malformed date) is an error
//!   for the whole document, never a silently incomplete record: harvesters delete what
//!   is missing from a crawl.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use oxrdf::vocab::{rdf, rdfs, xsd};
use oxrdf::{Graph, Literal, NamedNode, NamedNodeRef, NamedOrBlankNodeRef, Term, TermRef};
use oxrdfio::{RdfFormat, RdfSerializer};

use super::CatalogError;
use super::federated::{Republished, RepublishedRecord};
use super::terms;
use super::uris::{CatalogUris, RdfSyntax};
use crate::model::{Agent, Catalog, ContactPoint, Dataset, Distribution, TemporalExtent};
use crate::vocab;

/// Datasets per catalogue page.
pub const PAGE_SIZE: usize = 100;

/// Namespaces, also the prefixes of the Turtle and RDF/XML outputs.
pub const PREFIXES: &[(&str, &str)] = &[
    ("adms", "http://www.w3.org/ns/adms#"),
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dcatapit", "http://dati.gov.it/onto/dcatapit#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("gsp", "http://www.opengis.net/ont/geosparql#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
    ("locn", "http://www.w3.org/ns/locn#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("spdx", "http://spdx.org/rdf/terms#"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

macro_rules! terms {
    ($($name:ident = $iri:literal;)*) => {
        $(pub(crate) const $name: NamedNodeRef<'static> = NamedNodeRef::new_unchecked($iri);)*
    };
}

terms! {
    DCAT_CATALOG = "http://www.w3.org/ns/dcat#Catalog";
    DCAT_DATASET = "http://www.w3.org/ns/dcat#Dataset";
    DCAT_DISTRIBUTION = "http://www.w3.org/ns/dcat#Distribution";
    DCAT_DATA_SERVICE = "http://www.w3.org/ns/dcat#DataService";
    DCAT_DATASET_P = "http://www.w3.org/ns/dcat#dataset";
    DCAT_SERVICE_P = "http://www.w3.org/ns/dcat#service";
    DCAT_DISTRIBUTION_P = "http://www.w3.org/ns/dcat#distribution";
    DCAT_THEME = "http://www.w3.org/ns/dcat#theme";
    DCAT_THEME_TAXONOMY = "http://www.w3.org/ns/dcat#themeTaxonomy";
    DCAT_KEYWORD = "http://www.w3.org/ns/dcat#keyword";
    DCAT_CONTACT_POINT = "http://www.w3.org/ns/dcat#contactPoint";
    DCAT_LANDING_PAGE = "http://www.w3.org/ns/dcat#landingPage";
    DCAT_ACCESS_URL = "http://www.w3.org/ns/dcat#accessURL";
    DCAT_DOWNLOAD_URL = "http://www.w3.org/ns/dcat#downloadURL";
    DCAT_MEDIA_TYPE = "http://www.w3.org/ns/dcat#mediaType";
    DCAT_BYTE_SIZE = "http://www.w3.org/ns/dcat#byteSize";
    DCAT_ACCESS_SERVICE = "http://www.w3.org/ns/dcat#accessService";
    DCAT_ENDPOINT_URL = "http://www.w3.org/ns/dcat#endpointURL";
    DCAT_ENDPOINT_DESCRIPTION = "http://www.w3.org/ns/dcat#endpointDescription";
    DCAT_SERVES_DATASET = "http://www.w3.org/ns/dcat#servesDataset";
    DCAT_BBOX = "http://www.w3.org/ns/dcat#bbox";
    DCAT_CENTROID = "http://www.w3.org/ns/dcat#centroid";
    DCAT_START_DATE = "http://www.w3.org/ns/dcat#startDate";
    DCAT_END_DATE = "http://www.w3.org/ns/dcat#endDate";
    DCATAPIT_CATALOG = "http://dati.gov.it/onto/dcatapit#Catalog";
    DCATAPIT_DATASET = "http://dati.gov.it/onto/dcatapit#Dataset";
    DCATAPIT_DISTRIBUTION = "http://dati.gov.it/onto/dcatapit#Distribution";
    DCATAPIT_AGENT = "http://dati.gov.it/onto/dcatapit#Agent";
    DCATAPIT_ORGANIZATION = "http://dati.gov.it/onto/dcatapit#Organization";
    DCATAPIT_LICENSE_DOCUMENT = "http://dati.gov.it/onto/dcatapit#LicenseDocument";
    DCATAPIT_STANDARD = "http://dati.gov.it/onto/dcatapit#Standard";
    DCATAPIT_START_DATE = "http://dati.gov.it/onto/dcatapit#startDate";
    DCATAPIT_END_DATE = "http://dati.gov.it/onto/dcatapit#endDate";
    DCT_TITLE = "http://purl.org/dc/terms/title";
    DCT_DESCRIPTION = "http://purl.org/dc/terms/description";
    DCT_IDENTIFIER = "http://purl.org/dc/terms/identifier";
    DCT_MODIFIED = "http://purl.org/dc/terms/modified";
    DCT_ISSUED = "http://purl.org/dc/terms/issued";
    DCT_PUBLISHER = "http://purl.org/dc/terms/publisher";
    DCT_RIGHTS_HOLDER = "http://purl.org/dc/terms/rightsHolder";
    DCT_SUBJECT = "http://purl.org/dc/terms/subject";
    DCT_ACCRUAL_PERIODICITY = "http://purl.org/dc/terms/accrualPeriodicity";
    DCT_LANGUAGE = "http://purl.org/dc/terms/language";
    DCT_SPATIAL = "http://purl.org/dc/terms/spatial";
    DCT_TEMPORAL = "http://purl.org/dc/terms/temporal";
    DCT_CONFORMS_TO = "http://purl.org/dc/terms/conformsTo";
    DCT_FORMAT = "http://purl.org/dc/terms/format";
    DCT_LICENSE = "http://purl.org/dc/terms/license";
    DCT_RIGHTS = "http://purl.org/dc/terms/rights";
    DCT_ACCESS_RIGHTS = "http://purl.org/dc/terms/accessRights";
    DCT_TYPE = "http://purl.org/dc/terms/type";
    DCT_FREQUENCY = "http://purl.org/dc/terms/Frequency";
    DCT_LICENSE_DOCUMENT = "http://purl.org/dc/terms/LicenseDocument";
    DCT_LINGUISTIC_SYSTEM = "http://purl.org/dc/terms/LinguisticSystem";
    DCT_LOCATION = "http://purl.org/dc/terms/Location";
    DCT_MEDIA_TYPE = "http://purl.org/dc/terms/MediaType";
    DCT_MEDIA_TYPE_OR_EXTENT = "http://purl.org/dc/terms/MediaTypeOrExtent";
    DCT_PERIOD_OF_TIME = "http://purl.org/dc/terms/PeriodOfTime";
    DCT_RIGHTS_STATEMENT = "http://purl.org/dc/terms/RightsStatement";
    DCT_STANDARD = "http://purl.org/dc/terms/Standard";
    FOAF_AGENT = "http://xmlns.com/foaf/0.1/Agent";
    FOAF_DOCUMENT = "http://xmlns.com/foaf/0.1/Document";
    FOAF_NAME = "http://xmlns.com/foaf/0.1/name";
    FOAF_HOMEPAGE = "http://xmlns.com/foaf/0.1/homepage";
    SKOS_CONCEPT = "http://www.w3.org/2004/02/skos/core#Concept";
    SKOS_CONCEPT_SCHEME = "http://www.w3.org/2004/02/skos/core#ConceptScheme";
    SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel";
    SKOS_IN_SCHEME = "http://www.w3.org/2004/02/skos/core#inScheme";
    SKOS_NOTATION = "http://www.w3.org/2004/02/skos/core#notation";
    ADMS_IDENTIFIER = "http://www.w3.org/ns/adms#Identifier";
    ADMS_IDENTIFIER_P = "http://www.w3.org/ns/adms#identifier";
    VCARD_KIND = "http://www.w3.org/2006/vcard/ns#Kind";
    VCARD_ORGANIZATION = "http://www.w3.org/2006/vcard/ns#Organization";
    VCARD_FN = "http://www.w3.org/2006/vcard/ns#fn";
    VCARD_HAS_EMAIL = "http://www.w3.org/2006/vcard/ns#hasEmail";
    VCARD_HAS_URL = "http://www.w3.org/2006/vcard/ns#hasURL";
    SPDX_CHECKSUM_P = "http://spdx.org/rdf/terms#checksum";
    SPDX_CHECKSUM = "http://spdx.org/rdf/terms#Checksum";
    SPDX_ALGORITHM = "http://spdx.org/rdf/terms#algorithm";
    SPDX_CHECKSUM_VALUE = "http://spdx.org/rdf/terms#checksumValue";
    SPDX_CHECKSUM_ALGORITHM = "http://spdx.org/rdf/terms#ChecksumAlgorithm";
    SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256";
    LOCN_GEOMETRY_P = "http://www.w3.org/ns/locn#geometry";
    LOCN_GEOMETRY = "http://www.w3.org/ns/locn#Geometry";
    GSP_GEOMETRY = "http://www.opengis.net/ont/geosparql#Geometry";
    GSP_AS_WKT = "http://www.opengis.net/ont/geosparql#asWKT";
    GSP_AS_GEOJSON = "http://www.opengis.net/ont/geosparql#asGeoJSON";
    GSP_WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral";
    GSP_GEOJSON_LITERAL = "http://www.opengis.net/ont/geosparql#geoJSONLiteral";
    HYDRA_PAGED_COLLECTION = "http://www.w3.org/ns/hydra/core#PagedCollection";
    HYDRA_PARTIAL_COLLECTION_VIEW = "http://www.w3.org/ns/hydra/core#PartialCollectionView";
    HYDRA_TOTAL_ITEMS = "http://www.w3.org/ns/hydra/core#totalItems";
    HYDRA_ITEMS_PER_PAGE = "http://www.w3.org/ns/hydra/core#itemsPerPage";
    HYDRA_FIRST = "http://www.w3.org/ns/hydra/core#first";
    HYDRA_LAST = "http://www.w3.org/ns/hydra/core#last";
    HYDRA_NEXT = "http://www.w3.org/ns/hydra/core#next";
    HYDRA_PREVIOUS = "http://www.w3.org/ns/hydra/core#previous";
    HYDRA_FIRST_PAGE = "http://www.w3.org/ns/hydra/core#firstPage";
    HYDRA_LAST_PAGE = "http://www.w3.org/ns/hydra/core#lastPage";
    HYDRA_NEXT_PAGE = "http://www.w3.org/ns/hydra/core#nextPage";
    HYDRA_PREVIOUS_PAGE = "http://www.w3.org/ns/hydra/core#previousPage";
}

/// Standards the data services conform to.
const OGC_API_FEATURES_CORE: &str = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core";
const TILEJSON_3: &str = "https://github.com/mapbox/tilejson-spec/tree/master/3.0.0";
const MVT_2_1: &str = "https://github.com/mapbox/vector-tile-spec/tree/master/2.1";

/// What every graph of a catalogue needs: its facts and its URIs.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub catalog: &'a Catalog,
    pub uris: CatalogUris<'a>,
}

impl<'a> Context<'a> {
    pub fn new(catalog: &'a Catalog, uris: CatalogUris<'a>) -> Context<'a> {
        Context { catalog, uris }
    }

    /// The main language of the catalogue (first of `catalog.toml`'s `languages`), the
    /// language tag of titles and descriptions.
    pub fn language(&self) -> &'a str {
        self.catalog
            .languages
            .first()
            .map(String::as_str)
            .unwrap_or("it")
    }

    /// `dct:identifier` of a dataset: `<publisher IPA code>:<id>`, e.g. `c_b648:scuole`.
    pub fn dataset_identifier(&self, id: &str) -> String {
        format!("{}:{id}", self.catalog.publisher.identifier)
    }

    /// The URI of a dataset resource, `{base}/datasets/{id}#dataset`.
    pub fn dataset_uri(&self, id: &str) -> String {
        self.uris.dataset_part(id, "dataset")
    }
}

/// The triples of a catalogue page, in the order they were made (duplicates included:
/// [`serialize`] sorts and drops them). A plain list: an indexed [`Graph`] spends most
/// of a 100-dataset page's time keeping its indexes, which writing never reads.
#[derive(Debug, Default)]
pub struct Triples(Vec<oxrdf::Triple>);

impl Triples {
    pub fn iter(&self) -> impl Iterator<Item = oxrdf::TripleRef<'_>> {
        self.0.iter().map(oxrdf::Triple::as_ref)
    }

    /// As an indexed graph (duplicates merged), for queries and comparisons.
    pub fn into_graph(self) -> Graph {
        self.0.into_iter().collect()
    }
}

/// Collects triples; every URI goes through [`Builder::iri`], which checks it.
#[derive(Default)]
struct Builder {
    triples: Triples,
}

impl Builder {
    fn add(&mut self, s: &NamedNode, p: NamedNodeRef<'_>, o: impl Into<Term>) {
        self.triples
            .0
            .push(oxrdf::Triple::new(s.clone(), p.into_owned(), o.into()));
    }

    fn link(&mut self, s: &NamedNode, p: NamedNodeRef<'_>, o: NamedNodeRef<'_>) {
        self.add(s, p, o.into_owned());
    }

    fn types(&mut self, s: &NamedNode, classes: &[NamedNodeRef<'_>]) {
        for class in classes {
            self.link(s, rdf::TYPE, *class);
        }
    }

    /// A literal in `lang`; an invalid tag (from `catalog.toml`) gives a plain literal.
    fn text(&mut self, s: &NamedNode, p: NamedNodeRef<'_>, value: &str, lang: &str) {
        let literal = Literal::new_language_tagged_literal(value, lang)
            .unwrap_or_else(|_| Literal::new_simple_literal(value));
        self.add(s, p, literal);
    }

    fn typed(&mut self, s: &NamedNode, p: NamedNodeRef<'_>, value: &str, datatype: NamedNodeRef) {
        self.add(s, p, Literal::new_typed_literal(value, datatype));
    }
}

/// A URI we built from a configured or recorded value; an invalid one is an error naming
/// what it was for.
fn iri(value: String, what: impl FnOnce() -> String) -> Result<NamedNode, CatalogError> {
    match NamedNodeRef::new(&value) {
        Ok(_) => Ok(NamedNode::new_unchecked(value)),
        Err(e) => Err(CatalogError::Iri {
            what: what(),
            problem: e.to_string(),
            value,
        }),
    }
}

/// A URI from an optional recipe value: invalid ones are left out (the property is
/// recommended, not mandatory).
fn optional_iri(value: &str) -> Option<NamedNode> {
    let iri = NamedNode::new(value).ok()?;
    // Only absolute http(s), mailto and urn URIs make sense as links here.
    let scheme_ok = ["http://", "https://", "urn:"]
        .iter()
        .any(|p| value.starts_with(p));
    scheme_ok.then_some(iri)
}

/// An RFC 3339 timestamp from the manifest as an `xsd:dateTime` lexical form (UTC, whole
/// seconds).
pub fn datetime_lexical(value: &str) -> Option<String> {
    DateTime::parse_from_rfc3339(value).ok().map(|t| {
        t.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    })
}

/// A date or date-time from a recipe or the data: `(lexical form, datatype)`.
fn date_or_datetime(value: &str) -> Option<(String, NamedNodeRef<'static>)> {
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Some((d.format("%Y-%m-%d").to_string(), xsd::DATE));
    }
    if let Some(t) = datetime_lexical(value) {
        return Some((t, xsd::DATE_TIME));
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| (t.format("%Y-%m-%dT%H:%M:%S").to_string(), xsd::DATE_TIME))
}

/// The graph of one dataset: exactly the triples of the dataset in the catalogue.
pub fn dataset_graph(ctx: &Context<'_>, dataset: &Dataset) -> Result<Graph, CatalogError> {
    let mut b = Builder::default();
    add_dataset(&mut b, ctx, dataset)?;
    Ok(b.triples.into_graph())
}

/// Where a catalogue page stands in the whole (filtered) catalogue.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// 1-based page number.
    pub number: u64,
    /// The last page (1 for an empty catalogue).
    pub last: u64,
    /// Datasets matching the query, all pages together.
    pub total: usize,
    /// This page's datasets, in id order.
    pub datasets: Vec<&'a Dataset>,
    /// This page's republished harvested records ([`super::federated`]): they follow our
    /// own datasets, by source and original id.
    pub federated: Vec<&'a RepublishedRecord>,
}

/// The parameters of a catalogue request: `page` (1-based), `modified_since`, `q`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogQuery {
    pub page: u64,
    pub modified_since: Option<DateTime<Utc>>,
    /// The search text, trimmed and lowercased; `None` when absent or blank.
    pub q: Option<String>,
}

/// A catalogue request parameter that cannot be understood (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("page {0:?} is not a page number: pages are numbered from 1")]
    Page(String),
    #[error(
        "modified_since {0:?} is not a date (YYYY-MM-DD) or an RFC 3339 date and time \
         (YYYY-MM-DDTHH:MM:SSZ)"
    )]
    ModifiedSince(String),
    #[error("parameter {0} is given more than once")]
    Repeated(&'static str),
}

impl CatalogQuery {
    /// Reads the query pairs of a request. Unknown parameters are ignored.
    pub fn from_pairs<'p>(
        pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
    ) -> Result<CatalogQuery, QueryError> {
        let mut page = None;
        let mut since = None;
        let mut q = None;
        for (key, value) in pairs {
            match key {
                "page" => {
                    if page.is_some() {
                        return Err(QueryError::Repeated("page"));
                    }
                    let n: u64 = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| QueryError::Page(value.to_string()))?;
                    page = Some(n);
                }
                "modified_since" => {
                    if since.is_some() {
                        return Err(QueryError::Repeated("modified_since"));
                    }
                    since = Some(
                        parse_since(value.trim())
                            .ok_or_else(|| QueryError::ModifiedSince(value.to_string()))?,
                    );
                }
                "q" => {
                    if q.is_some() {
                        return Err(QueryError::Repeated("q"));
                    }
                    q = Some(value.trim().to_lowercase());
                }
                _ => {}
            }
        }
        Ok(CatalogQuery {
            page: page.unwrap_or(1),
            modified_since: since,
            q: q.filter(|q| !q.is_empty()),
        })
    }

    /// The filters in canonical order, for paging links.
    fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(t) = self.modified_since {
            pairs.push((
                "modified_since",
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ));
        }
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        pairs
    }

    /// Whether a dataset was modified at or after `modified_since` (always, without one).
    fn modified_since_ok(&self, d: &Dataset) -> bool {
        match self.modified_since {
            None => true,
            Some(since) => matches!(
                DateTime::parse_from_rfc3339(&d.modified),
                Ok(m) if m.with_timezone(&Utc) >= since
            ),
        }
    }

    /// [`CatalogQuery::modified_since_ok`] for a republished record.
    fn record_modified_since_ok(&self, r: &RepublishedRecord) -> bool {
        self.modified_since
            .is_none_or(|since| r.modified_at >= since)
    }

    /// Whether a dataset passes the filters without a search engine (`modified_since`
    /// inclusive; `q` a case-insensitive substring of the title, the description or a
    /// keyword).
    pub fn matches(&self, d: &Dataset) -> bool {
        if !self.modified_since_ok(d) {
            return false;
        }
        if let Some(q) = &self.q {
            let m = &d.meta;
            let hit = m.title.to_lowercase().contains(q.as_str())
                || m.description.to_lowercase().contains(q.as_str())
                || m.keywords
                    .iter()
                    .any(|k| k.to_lowercase().contains(q.as_str()));
            if !hit {
                return false;
            }
        }
        true
    }
}

impl CatalogQuery {
    /// [`CatalogQuery::matches`] for a republished harvested record.
    pub fn matches_record(&self, r: &RepublishedRecord) -> bool {
        if !self.record_modified_since_ok(r) {
            return false;
        }
        if let Some(q) = &self.q {
            let hit = r.title.to_lowercase().contains(q.as_str())
                || r.description.to_lowercase().contains(q.as_str())
                || r.keywords
                    .iter()
                    .any(|k| k.to_lowercase().contains(q.as_str()));
            if !hit {
                return false;
            }
        }
        true
    }
}

fn parse_since(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The page `query` asks for, datasets in a stable order (by id); `None` when the page is
/// past the last one.
pub fn paginate<'a>(datasets: &'a [Dataset], query: &CatalogQuery) -> Option<Page<'a>> {
    static NONE: Republished = Republished {
        records: Vec::new(),
        skipped: Vec::new(),
    };
    paginate_with(datasets, &NONE, query)
}

/// [`paginate`] over our datasets followed by the republished harvested records.
pub fn paginate_with<'a>(
    datasets: &'a [Dataset],
    republished: &'a Republished,
    query: &CatalogQuery,
) -> Option<Page<'a>> {
    paginate_filtered(
        datasets,
        republished,
        query,
        |d| query.matches(d),
        |r| query.matches_record(r),
    )
}

/// [`paginate_with`], `q` selecting the datasets and records `search` matches (by their
/// search-index keys: the dataset id, [`super::search_key`] of a record); the records it
/// matches that the catalogue does not publish are ignored. Without `search`, or without
/// `q`, this is [`paginate_with`]. `Ok(None)` when the page is past the last one.
pub fn paginate_searched<'a>(
    datasets: &'a [Dataset],
    republished: &'a Republished,
    query: &CatalogQuery,
    search: Option<super::FreeTextSearch<'_>>,
) -> Result<Option<Page<'a>>, crate::search::SearchError> {
    let (Some(search), Some(q)) = (search, &query.q) else {
        return Ok(paginate_with(datasets, republished, query));
    };
    let matches = search(q)?;
    let keys: std::collections::HashSet<&str> = matches.iter().map(|(k, _)| k.as_str()).collect();
    Ok(paginate_filtered(
        datasets,
        republished,
        query,
        |d| keys.contains(d.id.as_str()) && query.modified_since_ok(d),
        |r| {
            keys.contains(super::search_key(&r.source, &r.key).as_str())
                && query.record_modified_since_ok(r)
        },
    ))
}

fn paginate_filtered<'a>(
    datasets: &'a [Dataset],
    republished: &'a Republished,
    query: &CatalogQuery,
    own: impl Fn(&Dataset) -> bool,
    record: impl Fn(&RepublishedRecord) -> bool,
) -> Option<Page<'a>> {
    let mut matching: Vec<&Dataset> = datasets.iter().filter(|d| own(d)).collect();
    // Already sorted when it comes from a generation; the sort is then linear.
    matching.sort_by(|a, b| a.id.cmp(&b.id));
    let records: Vec<&RepublishedRecord> =
        republished.records.iter().filter(|r| record(r)).collect();
    let total = matching.len() + records.len();
    let last = total.div_ceil(PAGE_SIZE).max(1) as u64;
    if query.page > last {
        return None;
    }
    let start = usize::try_from(query.page - 1)
        .ok()?
        .checked_mul(PAGE_SIZE)?;
    let own = matching.len();
    let datasets = matching
        .into_iter()
        .skip(start)
        .take(PAGE_SIZE)
        .collect::<Vec<_>>();
    let federated = records
        .into_iter()
        .skip(start.saturating_sub(own))
        .take(PAGE_SIZE - datasets.len())
        .collect();
    Some(Page {
        number: query.page,
        last,
        total,
        datasets,
        federated,
    })
}

/// One catalogue page: the catalogue node, the page's datasets, the hydra paging node
/// (its links point to the same syntax). `modified` is the catalogue's `dct:modified`
/// (RFC 3339): the latest change of any dataset.
pub fn catalog_page_graph(
    ctx: &Context<'_>,
    modified: &str,
    page: &Page<'_>,
    query: &CatalogQuery,
    syntax: RdfSyntax,
) -> Result<Triples, CatalogError> {
    let mut b = Builder::default();
    let c = ctx.catalog;
    let lang = ctx.language();
    let cat = iri(ctx.uris.catalog(), || "the catalogue".into())?;
    b.types(&cat, &[DCAT_CATALOG, DCATAPIT_CATALOG]);
    b.text(&cat, DCT_TITLE, &c.title, lang);
    b.text(&cat, DCT_DESCRIPTION, &c.description, lang);
    let publisher = add_agent(&mut b, ctx, None, &c.publisher, "publisher")?;
    b.link(&cat, DCT_PUBLISHER, publisher.as_ref());
    let modified_lexical = datetime_lexical(modified).ok_or_else(|| CatalogError::Date {
        what: "the catalogue's last modification".into(),
        value: modified.to_string(),
    })?;
    b.typed(&cat, DCT_MODIFIED, &modified_lexical, xsd::DATE_TIME);
    if let Some(home) = optional_iri(&c.homepage) {
        b.link(&cat, FOAF_HOMEPAGE, home.as_ref());
        b.link(&home, rdf::TYPE, FOAF_DOCUMENT);
    }
    for language in &c.languages {
        if let Some(uri) = terms::language_uri(language) {
            let node = iri(uri, || format!("language {language:?}"))?;
            b.link(&cat, DCT_LANGUAGE, node.as_ref());
            b.link(&node, rdf::TYPE, DCT_LINGUISTIC_SYSTEM);
        }
    }
    let scheme = add_theme_scheme(&mut b);
    b.link(&cat, DCAT_THEME_TAXONOMY, scheme.as_ref());

    for d in &page.datasets {
        let ds = add_dataset(&mut b, ctx, d)?;
        b.link(&cat, DCAT_DATASET_P, ds.as_ref());
        for service in service_uris(ctx, d)? {
            b.link(&cat, DCAT_SERVICE_P, service.as_ref());
        }
    }
    for r in &page.federated {
        let ds = add_republished(&mut b, ctx, r)?;
        b.link(&cat, DCAT_DATASET_P, ds.as_ref());
    }
    add_paging(&mut b, ctx, page, query, syntax)?;
    Ok(b.triples)
}

/// The hydra node: the page itself, with both the current and the deprecated predicates
/// (harvesters read one or the other).
fn add_paging(
    b: &mut Builder,
    ctx: &Context<'_>,
    page: &Page<'_>,
    query: &CatalogQuery,
    syntax: RdfSyntax,
) -> Result<(), CatalogError> {
    let filters = query.filter_pairs();
    let url = |n: u64| {
        let value = ctx.uris.catalog_page(syntax, n, &filters);
        iri(value, || format!("catalogue page {n}"))
    };
    let this = url(page.number)?;
    b.types(
        &this,
        &[HYDRA_PAGED_COLLECTION, HYDRA_PARTIAL_COLLECTION_VIEW],
    );
    b.typed(
        &this,
        HYDRA_TOTAL_ITEMS,
        &page.total.to_string(),
        xsd::INTEGER,
    );
    b.typed(
        &this,
        HYDRA_ITEMS_PER_PAGE,
        &PAGE_SIZE.to_string(),
        xsd::INTEGER,
    );
    let first = url(1)?;
    let last = url(page.last)?;
    for p in [HYDRA_FIRST, HYDRA_FIRST_PAGE] {
        b.link(&this, p, first.as_ref());
    }
    for p in [HYDRA_LAST, HYDRA_LAST_PAGE] {
        b.link(&this, p, last.as_ref());
    }
    if page.number < page.last {
        let next = url(page.number + 1)?;
        for p in [HYDRA_NEXT, HYDRA_NEXT_PAGE] {
            b.link(&this, p, next.as_ref());
        }
    }
    if page.number > 1 {
        let previous = url(page.number - 1)?;
        for p in [HYDRA_PREVIOUS, HYDRA_PREVIOUS_PAGE] {
            b.link(&this, p, previous.as_ref());
        }
    }
    Ok(())
}

fn add_theme_scheme(b: &mut Builder) -> NamedNode {
    let scheme = NamedNode::new_unchecked(terms::THEME_SCHEME);
    b.link(&scheme, rdf::TYPE, SKOS_CONCEPT_SCHEME);
    b.text(&scheme, DCT_TITLE, "Data theme", "en");
    b.text(&scheme, DCT_TITLE, "Tema dei dati", "it");
    scheme
}

/// The data services of a layer: the OGC API – Features collection (when the layer has
/// the FlatGeobuf file the OGC API serves) and the vector tiles (when it has tiles).
fn service_uris(ctx: &Context<'_>, d: &Dataset) -> Result<Vec<NamedNode>, CatalogError> {
    let mut out = Vec::new();
    if has_ogc_collection(d) {
        out.push(iri(
            ctx.uris.dataset_part(&d.id, "service-ogc-api"),
            || format!("dataset {:?}: OGC API service", d.id),
        )?);
    }
    if d.tiles.is_some() {
        out.push(iri(ctx.uris.dataset_part(&d.id, "service-tiles"), || {
            format!("dataset {:?}: tile service", d.id)
        })?);
    }
    Ok(out)
}

/// Whether the OGC API – Features serves this dataset as a collection (a layer with a
/// FlatGeobuf file, as [`crate::ogc::OgcService`] requires).
pub fn has_ogc_collection(d: &Dataset) -> bool {
    d.layer.is_some()
        && d.distributions
            .iter()
            .any(|x| x.media_type == "application/flatgeobuf")
}

fn add_dataset(b: &mut Builder, ctx: &Context<'_>, d: &Dataset) -> Result<NamedNode, CatalogError> {
    let id = d.id.as_str();
    let m = &d.meta;
    let lang = ctx.language();
    let at = |what: &str| format!("dataset {id:?}: {what}");
    let ds = iri(ctx.dataset_uri(id), || at("URI"))?;
    b.types(&ds, &[DCAT_DATASET, DCATAPIT_DATASET]);
    b.add(
        &ds,
        DCT_IDENTIFIER,
        Literal::new_simple_literal(ctx.dataset_identifier(id)),
    );
    b.text(&ds, DCT_TITLE, &m.title, lang);
    b.text(&ds, DCT_DESCRIPTION, &m.description, lang);
    let modified = datetime_lexical(&d.modified).ok_or_else(|| CatalogError::Date {
        what: at("modified"),
        value: d.modified.clone(),
    })?;
    b.typed(&ds, DCT_MODIFIED, &modified, xsd::DATE_TIME);
    let issued = match &m.issued {
        Some(issued) => Some(date_or_datetime(issued).ok_or_else(|| CatalogError::Date {
            what: at("issued"),
            value: issued.clone(),
        })?),
        None => None,
    };
    if let Some((value, datatype)) = &issued {
        b.typed(&ds, DCT_ISSUED, value, *datatype);
    }

    // Themes and sub-themes.
    let scheme = add_theme_scheme(b);
    if m.themes.is_empty() {
        return Err(CatalogError::Vocabulary {
            what: at("themes"),
            value: String::new(),
            expected: "at least one EU data theme".into(),
        });
    }
    for code in &m.themes {
        let Some((_, it, en)) = vocab::THEMES.iter().find(|(c, _, _)| c == code) else {
            return Err(CatalogError::Vocabulary {
                what: at("theme"),
                value: code.clone(),
                expected: "an EU data-theme code (EDUC, GOVE, ...)".into(),
            });
        };
        let theme = iri(format!("{}{code}", terms::THEME_BASE), || at("theme"))?;
        b.link(&ds, DCAT_THEME, theme.as_ref());
        b.link(&theme, rdf::TYPE, SKOS_CONCEPT);
        b.text(&theme, SKOS_PREF_LABEL, it, "it");
        b.text(&theme, SKOS_PREF_LABEL, en, "en");
        b.link(&theme, SKOS_IN_SCHEME, scheme.as_ref());
    }
    for uri in &m.subthemes {
        let Some(node) = optional_iri(uri) else {
            continue;
        };
        b.link(&ds, DCT_SUBJECT, node.as_ref());
        if let Some(s) = terms::subtheme(uri) {
            b.link(&node, rdf::TYPE, SKOS_CONCEPT);
            b.text(&node, SKOS_PREF_LABEL, s.label_it, "it");
            b.text(&node, SKOS_PREF_LABEL, s.label_en, "en");
        }
    }

    // Frequency.
    if !vocab::is_frequency(&m.frequency) {
        return Err(CatalogError::Vocabulary {
            what: at("frequency"),
            value: m.frequency.clone(),
            expected: "an EU frequency code (ANNUAL, MONTHLY, IRREG, ...)".into(),
        });
    }
    let frequency = iri(format!("{}{}", terms::FREQUENCY_BASE, m.frequency), || {
        at("frequency")
    })?;
    b.link(&ds, DCT_ACCRUAL_PERIODICITY, frequency.as_ref());
    b.link(&frequency, rdf::TYPE, DCT_FREQUENCY);

    // Agents and contact point.
    let publisher = add_agent(b, ctx, Some(id), &m.publisher, "publisher")?;
    b.link(&ds, DCT_PUBLISHER, publisher.as_ref());
    let holder = if m.rights_holder == m.publisher {
        publisher.clone()
    } else {
        add_agent(b, ctx, Some(id), &m.rights_holder, "rights-holder")?
    };
    b.link(&ds, DCT_RIGHTS_HOLDER, holder.as_ref());
    let contact = add_contact(b, ctx, id, &m.contact_point)?;
    b.link(&ds, DCAT_CONTACT_POINT, contact.as_ref());

    for keyword in &m.keywords {
        b.text(&ds, DCAT_KEYWORD, keyword, lang);
    }
    if let Some(uri) = terms::language_uri(lang) {
        let language = iri(uri, || at("language"))?;
        b.link(&ds, DCT_LANGUAGE, language.as_ref());
        b.link(&language, rdf::TYPE, DCT_LINGUISTIC_SYSTEM);
    }
    let public = NamedNode::new_unchecked(terms::ACCESS_RIGHT_PUBLIC);
    b.link(&ds, DCT_ACCESS_RIGHTS, public.as_ref());
    b.link(&public, rdf::TYPE, DCT_RIGHTS_STATEMENT);

    let page = iri(ctx.uris.dataset(id), || at("page"))?;
    b.link(&ds, DCAT_LANDING_PAGE, page.as_ref());
    b.link(&page, rdf::TYPE, FOAF_DOCUMENT);

    for (n, standard) in m.conforms_to.iter().enumerate() {
        let node = match optional_iri(standard) {
            Some(node) => node,
            None => iri(
                ctx.uris.dataset_part(id, &format!("standard-{}", n + 1)),
                || at("standard"),
            )?,
        };
        b.link(&ds, DCT_CONFORMS_TO, node.as_ref());
        b.types(&node, &[DCT_STANDARD, DCATAPIT_STANDARD]);
        b.add(&node, DCT_IDENTIFIER, Literal::new_simple_literal(standard));
    }

    add_spatial(b, ctx, d, &ds)?;
    let temporal = m.temporal.as_ref().or(d.extent.temporal.as_ref());
    if let Some(t) = temporal {
        add_temporal(b, ctx, id, &ds, t)?;
    }

    // Licence and rights, shared by every distribution.
    let licence = add_licence(b, id, &m.license)?;
    let rights = iri(ctx.uris.dataset_part(id, "rights"), || at("rights"))?;
    b.link(&rights, rdf::TYPE, DCT_RIGHTS_STATEMENT);
    b.text(&rights, rdfs::LABEL, &rights_text(ctx, d), lang);

    let services = add_services(b, ctx, d, &ds, &licence, &publisher, &contact)?;
    for x in &d.distributions {
        let dist = add_distribution(
            b,
            ctx,
            d,
            x,
            DistributionLinks {
                page: &page,
                licence: &licence,
                rights: &rights,
                services: &services,
                modified: &modified,
                issued: issued.as_ref(),
            },
        )?;
        b.link(&ds, DCAT_DISTRIBUTION_P, dist.as_ref());
    }
    Ok(ds)
}

/// A republished harvested record ([`super::federated`]) as a dataset: the origin's URI
/// (else one of ours), identifier, landing page, agents and distribution URLs; the nodes
/// the origin did not name under `{base}/federated/{key}`. Shared nodes (themes,
/// frequencies, licences) say exactly what they say for our own datasets.
fn add_republished(
    b: &mut Builder,
    ctx: &Context<'_>,
    r: &RepublishedRecord,
) -> Result<NamedNode, CatalogError> {
    let key = r.key.as_str();
    let lang = ctx.language();
    let at = |what: &str| {
        format!(
            "harvested record {:?} of {}: {what}",
            r.original_id, r.source
        )
    };
    let part = |fragment: &str| ctx.uris.federated_part(key, fragment);
    let ds = match &r.uri {
        Some(uri) => iri(uri.clone(), || at("URI"))?,
        None => iri(part("dataset"), || at("URI"))?,
    };
    b.types(&ds, &[DCAT_DATASET, DCATAPIT_DATASET]);
    b.add(
        &ds,
        DCT_IDENTIFIER,
        Literal::new_simple_literal(&r.original_id),
    );
    let identifier = iri(part("identifier"), || at("identifier"))?;
    b.link(&ds, ADMS_IDENTIFIER_P, identifier.as_ref());
    b.link(&identifier, rdf::TYPE, ADMS_IDENTIFIER);
    b.add(
        &identifier,
        SKOS_NOTATION,
        Literal::new_simple_literal(&r.original_id),
    );
    b.text(&ds, DCT_TITLE, &r.title, lang);
    b.text(&ds, DCT_DESCRIPTION, &r.description, lang);
    let (modified, modified_type) =
        date_or_datetime(&r.modified).ok_or_else(|| CatalogError::Date {
            what: at("modified"),
            value: r.modified.clone(),
        })?;
    b.typed(&ds, DCT_MODIFIED, &modified, modified_type);
    if let Some(issued) = &r.issued {
        let (value, datatype) = date_or_datetime(issued).ok_or_else(|| CatalogError::Date {
            what: at("issued"),
            value: issued.clone(),
        })?;
        b.typed(&ds, DCT_ISSUED, &value, datatype);
    }
    let scheme = add_theme_scheme(b);
    for code in &r.themes {
        let Some((_, it, en)) = vocab::THEMES.iter().find(|(c, _, _)| c == code) else {
            continue;
        };
        let theme = iri(format!("{}{code}", terms::THEME_BASE), || at("theme"))?;
        b.link(&ds, DCAT_THEME, theme.as_ref());
        b.link(&theme, rdf::TYPE, SKOS_CONCEPT);
        b.text(&theme, SKOS_PREF_LABEL, it, "it");
        b.text(&theme, SKOS_PREF_LABEL, en, "en");
        b.link(&theme, SKOS_IN_SCHEME, scheme.as_ref());
    }
    let frequency = iri(format!("{}{}", terms::FREQUENCY_BASE, r.frequency), || {
        at("frequency")
    })?;
    b.link(&ds, DCT_ACCRUAL_PERIODICITY, frequency.as_ref());
    b.link(&frequency, rdf::TYPE, DCT_FREQUENCY);

    // Agents: nodes of the record, never our organisation's shared node, so that an
    // origin naming an IPA code differently never gives one node two names.
    let agent = |b: &mut Builder, role: &str, a: &Agent| -> Result<NamedNode, CatalogError> {
        let node = iri(part(&format!("agent-{role}")), || at(role))?;
        b.types(&node, &[FOAF_AGENT, DCATAPIT_AGENT]);
        b.text(&node, FOAF_NAME, &a.name, lang);
        b.add(
            &node,
            DCT_IDENTIFIER,
            Literal::new_simple_literal(&a.identifier),
        );
        Ok(node)
    };
    let publisher = agent(b, "publisher", &r.publisher)?;
    b.link(&ds, DCT_PUBLISHER, publisher.as_ref());
    let holder = if r.rights_holder == r.publisher {
        publisher.clone()
    } else {
        agent(b, "rights-holder", &r.rights_holder)?
    };
    b.link(&ds, DCT_RIGHTS_HOLDER, holder.as_ref());
    let contact = iri(part("contact-point"), || at("contact point"))?;
    let contact = add_contact_node(b, contact, &r.original_id, &r.contact_point)?;
    b.link(&ds, DCAT_CONTACT_POINT, contact.as_ref());
    for keyword in &r.keywords {
        b.text(&ds, DCAT_KEYWORD, keyword, lang);
    }
    if let Some(page) = &r.landing_page {
        let page = iri(page.clone(), || at("landing page"))?;
        b.link(&ds, DCAT_LANDING_PAGE, page.as_ref());
        b.link(&page, rdf::TYPE, FOAF_DOCUMENT);
    }
    if let Some(t) = &r.temporal {
        add_temporal_at(b, part("temporal"), &r.original_id, &ds, t)?;
    }
    for place in &r.places {
        let place = iri(place.clone(), || at("place"))?;
        b.link(&ds, DCT_SPATIAL, place.as_ref());
        b.link(&place, rdf::TYPE, DCT_LOCATION);
    }
    if let Some(bbox) = r.bbox {
        let location = iri(part("spatial"), || at("spatial coverage"))?;
        let geometry = iri(part("geometry"), || at("geometry"))?;
        b.link(&ds, DCT_SPATIAL, location.as_ref());
        b.link(&location, rdf::TYPE, DCT_LOCATION);
        let wkt = bbox_wkt(bbox);
        b.typed(&location, DCAT_BBOX, &wkt, GSP_WKT_LITERAL);
        b.link(&location, LOCN_GEOMETRY_P, geometry.as_ref());
        b.types(&geometry, &[LOCN_GEOMETRY, GSP_GEOMETRY]);
        b.typed(&geometry, GSP_AS_WKT, &wkt, GSP_WKT_LITERAL);
        b.typed(
            &geometry,
            GSP_AS_GEOJSON,
            &bbox_geojson(bbox),
            GSP_GEOJSON_LITERAL,
        );
    }
    for (n, x) in r.distributions.iter().enumerate() {
        let dist = iri(part(&format!("distribution-{}", n + 1)), || {
            at("distribution")
        })?;
        b.types(&dist, &[DCAT_DISTRIBUTION, DCATAPIT_DISTRIBUTION]);
        let title = x.title.clone().unwrap_or_else(|| r.title.clone());
        b.text(&dist, DCT_TITLE, &title, lang);
        if let Some(description) = &x.description {
            b.text(&dist, DCT_DESCRIPTION, description, lang);
        }
        let access = iri(x.access_url.clone(), || at("access URL"))?;
        b.link(&dist, DCAT_ACCESS_URL, access.as_ref());
        if let Some(download) = &x.download_url {
            let download = iri(download.clone(), || at("download URL"))?;
            b.link(&dist, DCAT_DOWNLOAD_URL, download.as_ref());
        }
        let format = iri(format!("{}{}", terms::FILE_TYPE_BASE, x.format), || {
            at("format")
        })?;
        b.link(&dist, DCT_FORMAT, format.as_ref());
        b.link(&format, rdf::TYPE, DCT_MEDIA_TYPE_OR_EXTENT);
        if let Some(uri) = x.media_type.as_deref().and_then(terms::media_type_uri) {
            let media = iri(uri, || at("media type"))?;
            b.link(&dist, DCAT_MEDIA_TYPE, media.as_ref());
            b.link(&media, rdf::TYPE, DCT_MEDIA_TYPE);
        }
        if let Some(size) = x.byte_size {
            b.typed(
                &dist,
                DCAT_BYTE_SIZE,
                &size.to_string(),
                xsd::NON_NEGATIVE_INTEGER,
            );
        }
        let licence = add_licence(b, &r.original_id, x.license.id)?;
        b.link(&dist, DCT_LICENSE, licence.as_ref());
        b.link(&ds, DCAT_DISTRIBUTION_P, dist.as_ref());
    }
    Ok(ds)
}

/// The rights statement of a dataset's distributions, in the catalogue's language.
fn rights_text(ctx: &Context<'_>, d: &Dataset) -> String {
    let m = &d.meta;
    let licence = vocab::license(&m.license);
    if ctx.language() == "it" {
        let name = licence.map_or(m.license.as_str(), |l| l.label_it);
        format!(
            "Dati pubblicati da {} con licenza {name}; titolare dei dati: {}.",
            m.publisher.name, m.rights_holder.name
        )
    } else {
        let name = licence.map_or(m.license.as_str(), |l| l.label_en);
        format!(
            "Data published by {} under the licence {name}; rights holder: {}.",
            m.publisher.name, m.rights_holder.name
        )
    }
}

/// An agent: the catalogue's publisher has one shared URI (`{base}/organizations/{ipa}`);
/// any other agent is a fragment of the dataset's URI, so that two recipes naming the
/// same IPA code differently never give one node two names.
fn add_agent(
    b: &mut Builder,
    ctx: &Context<'_>,
    dataset: Option<&str>,
    agent: &Agent,
    role: &str,
) -> Result<NamedNode, CatalogError> {
    let uri = match dataset {
        Some(id) if *agent != ctx.catalog.publisher => {
            ctx.uris.dataset_part(id, &format!("agent-{role}"))
        }
        _ => ctx.uris.organization(&agent.identifier),
    };
    let node = iri(uri, || format!("agent {:?}", agent.identifier))?;
    b.types(&node, &[FOAF_AGENT, DCATAPIT_AGENT]);
    b.text(&node, FOAF_NAME, &agent.name, ctx.language());
    b.add(
        &node,
        DCT_IDENTIFIER,
        Literal::new_simple_literal(&agent.identifier),
    );
    Ok(node)
}

fn add_contact(
    b: &mut Builder,
    ctx: &Context<'_>,
    id: &str,
    contact: &ContactPoint,
) -> Result<NamedNode, CatalogError> {
    let node = iri(ctx.uris.dataset_part(id, "contact-point"), || {
        format!("dataset {id:?}: contact point")
    })?;
    add_contact_node(b, node, id, contact)
}

/// The contact point's triples on `node`; `id` names the record in errors.
fn add_contact_node(
    b: &mut Builder,
    node: NamedNode,
    id: &str,
    contact: &ContactPoint,
) -> Result<NamedNode, CatalogError> {
    b.types(
        &node,
        &[DCATAPIT_ORGANIZATION, VCARD_ORGANIZATION, VCARD_KIND],
    );
    b.add(&node, VCARD_FN, Literal::new_simple_literal(&contact.name));
    // Encoded as RFC 6068 wants, but keeping the `@`.
    let email = super::uris::percent_encode(contact.email.trim()).replace("%40", "@");
    let mailto = iri(format!("mailto:{email}"), || {
        format!("dataset {id:?}: contact e-mail")
    })?;
    b.link(&node, VCARD_HAS_EMAIL, mailto.as_ref());
    if let Some(url) = contact.url.as_deref().and_then(optional_iri) {
        b.link(&node, VCARD_HAS_URL, url.as_ref());
        // Often the catalogue's homepage, which the catalogue types `foaf:Document`: the
        // dataset says the same, so that its part of the catalogue stays its own graph.
        b.link(&url, rdf::TYPE, FOAF_DOCUMENT);
    }
    Ok(node)
}

/// The AgID licence document with its level-2 class as `dct:type`.
fn add_licence(b: &mut Builder, id: &str, code: &str) -> Result<NamedNode, CatalogError> {
    let Some(licence) = vocab::license(code) else {
        return Err(CatalogError::Vocabulary {
            what: format!("dataset {id:?}: licence"),
            value: code.to_string(),
            expected: "an AgID licence id (A21_CCBY40, ...) or its SPDX alias".into(),
        });
    };
    let node = iri(licence.uri(), || format!("dataset {id:?}: licence"))?;
    b.types(&node, &[DCT_LICENSE_DOCUMENT, DCATAPIT_LICENSE_DOCUMENT]);
    b.text(&node, FOAF_NAME, licence.label_it, "it");
    b.text(&node, FOAF_NAME, licence.label_en, "en");
    b.add(
        &node,
        DCT_IDENTIFIER,
        Literal::new_simple_literal(licence.notation),
    );
    if let Some(t) = terms::licence_type(licence.notation) {
        let class = NamedNode::new_unchecked(t.uri);
        b.link(&node, DCT_TYPE, class.as_ref());
        b.link(&class, rdf::TYPE, SKOS_CONCEPT);
        b.text(&class, SKOS_PREF_LABEL, t.label_it, "it");
        b.text(&class, SKOS_PREF_LABEL, t.label_en, "en");
        b.add(
            &class,
            SKOS_NOTATION,
            Literal::new_simple_literal(t.notation),
        );
    }
    Ok(node)
}

/// Whether `inner` lies inside `outer` (both `[min_lon, min_lat, max_lon, max_lat]`),
/// with a tolerance of about 100 m for boundaries rounded differently.
fn bbox_within(inner: [f64; 4], outer: [f64; 4]) -> bool {
    const TOLERANCE: f64 = 0.001;
    inner[0] >= outer[0] - TOLERANCE
        && inner[1] >= outer[1] - TOLERANCE
        && inner[2] <= outer[2] + TOLERANCE
        && inner[3] <= outer[3] + TOLERANCE
}

/// The WGS84 bounding box the spatial coverage uses: the data's extent, else the
/// territory's.
pub fn coverage_bbox(catalog: &Catalog, d: &Dataset) -> Option<[f64; 4]> {
    d.extent
        .bbox
        .or(catalog.territory_bbox)
        .filter(|b| b.iter().all(|v| v.is_finite()) && b[0] <= b[2] && b[1] <= b[3])
}

/// The AgID URI of the municipality, when the data lies inside its territory (or has no
/// extent of its own).
pub fn municipality_uri(catalog: &Catalog, d: &Dataset) -> Option<String> {
    let code = catalog.istat_code.as_deref()?;
    let inside = match (d.extent.bbox, catalog.territory_bbox) {
        (None, _) => true,
        (Some(data), Some(territory)) => bbox_within(data, territory),
        (Some(_), None) => false,
    };
    inside.then(|| terms::city_uri(code)).flatten()
}

/// Decimal degrees as WKT wants them: plain notation, no exponent, at most 7 decimals
/// (about 1 cm).
fn coordinate(v: f64) -> String {
    let s = format!("{v:.7}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The bounding box as a WKT polygon (lon lat, counter-clockwise).
pub fn bbox_wkt(b: [f64; 4]) -> String {
    let [w, s, e, n] = b.map(coordinate);
    format!("POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))")
}

/// The bounding box as a GeoJSON polygon.
pub fn bbox_geojson(b: [f64; 4]) -> String {
    let [w, s, e, n] = b.map(coordinate);
    format!(
        "{{\"type\":\"Polygon\",\"coordinates\":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"
    )
}

fn add_spatial(
    b: &mut Builder,
    ctx: &Context<'_>,
    d: &Dataset,
    ds: &NamedNode,
) -> Result<(), CatalogError> {
    let id = d.id.as_str();
    if let Some(uri) = municipality_uri(ctx.catalog, d) {
        let place = iri(uri, || format!("dataset {id:?}: municipality"))?;
        b.link(ds, DCT_SPATIAL, place.as_ref());
        b.link(&place, rdf::TYPE, DCT_LOCATION);
        if let Some(code) = &ctx.catalog.istat_code {
            b.add(&place, DCT_IDENTIFIER, Literal::new_simple_literal(code));
        }
    }
    let Some(bbox) = coverage_bbox(ctx.catalog, d) else {
        return Ok(());
    };
    let location = iri(ctx.uris.dataset_part(id, "spatial"), || {
        format!("dataset {id:?}: spatial coverage")
    })?;
    let geometry = iri(ctx.uris.dataset_part(id, "geometry"), || {
        format!("dataset {id:?}: geometry")
    })?;
    b.link(ds, DCT_SPATIAL, location.as_ref());
    b.link(&location, rdf::TYPE, DCT_LOCATION);
    let wkt = bbox_wkt(bbox);
    b.typed(&location, DCAT_BBOX, &wkt, GSP_WKT_LITERAL);
    let centroid = format!(
        "POINT({} {})",
        coordinate((bbox[0] + bbox[2]) / 2.0),
        coordinate((bbox[1] + bbox[3]) / 2.0)
    );
    b.typed(&location, DCAT_CENTROID, &centroid, GSP_WKT_LITERAL);
    b.link(&location, LOCN_GEOMETRY_P, geometry.as_ref());
    b.types(&geometry, &[LOCN_GEOMETRY, GSP_GEOMETRY]);
    b.typed(&geometry, GSP_AS_WKT, &wkt, GSP_WKT_LITERAL);
    b.typed(
        &geometry,
        GSP_AS_GEOJSON,
        &bbox_geojson(bbox),
        GSP_GEOJSON_LITERAL,
    );
    Ok(())
}

fn add_temporal(
    b: &mut Builder,
    ctx: &Context<'_>,
    id: &str,
    ds: &NamedNode,
    t: &TemporalExtent,
) -> Result<(), CatalogError> {
    add_temporal_at(b, ctx.uris.dataset_part(id, "temporal"), id, ds, t)
}

/// The temporal coverage as the period `uri`; `id` names the record in errors.
fn add_temporal_at(
    b: &mut Builder,
    uri: String,
    id: &str,
    ds: &NamedNode,
    t: &TemporalExtent,
) -> Result<(), CatalogError> {
    let bad = |value: &str| CatalogError::Date {
        what: format!("dataset {id:?}: temporal coverage"),
        value: value.to_string(),
    };
    let (start, start_type) = date_or_datetime(&t.start).ok_or_else(|| bad(&t.start))?;
    let end = match &t.end {
        Some(end) => Some(date_or_datetime(end).ok_or_else(|| bad(end))?),
        None => None,
    };
    let period = iri(uri, || format!("dataset {id:?}: temporal coverage"))?;
    b.link(ds, DCT_TEMPORAL, period.as_ref());
    b.link(&period, rdf::TYPE, DCT_PERIOD_OF_TIME);
    b.typed(&period, DCATAPIT_START_DATE, &start, start_type);
    b.typed(&period, DCAT_START_DATE, &start, start_type);
    if let Some((end, end_type)) = end {
        b.typed(&period, DCATAPIT_END_DATE, &end, end_type);
        b.typed(&period, DCAT_END_DATE, &end, end_type);
    }
    Ok(())
}

fn add_standard(b: &mut Builder, uri: &str) -> NamedNode {
    let node = NamedNode::new_unchecked(uri);
    b.types(&node, &[DCT_STANDARD, DCATAPIT_STANDARD]);
    b.add(&node, DCT_IDENTIFIER, Literal::new_simple_literal(uri));
    node
}

/// The layer's data services; returns their URIs for `dcat:accessService`.
fn add_services(
    b: &mut Builder,
    ctx: &Context<'_>,
    d: &Dataset,
    ds: &NamedNode,
    licence: &NamedNode,
    publisher: &NamedNode,
    contact: &NamedNode,
) -> Result<Vec<NamedNode>, CatalogError> {
    let id = d.id.as_str();
    let lang = ctx.language();
    let it = lang == "it";
    let uris = service_uris(ctx, d)?;
    let public = NamedNode::new_unchecked(terms::ACCESS_RIGHT_PUBLIC);
    for service in &uris {
        let ogc = service.as_str().ends_with("#service-ogc-api");
        b.link(service, rdf::TYPE, DCAT_DATA_SERVICE);
        let (title, description, endpoint, described_by, standards) = if ogc {
            (
                format!("OGC API – Features: {}", d.meta.title),
                if it {
                    "Gli elementi del layer come GeoJSON, con filtri per area, tempo e attributi (OGC API – Features)."
                } else {
                    "The layer's features as GeoJSON, filtered by area, time and attributes (OGC API – Features)."
                },
                ctx.uris.ogc_collection(id),
                ctx.uris.ogc_api(),
                vec![OGC_API_FEATURES_CORE],
            )
        } else {
            (
                if it {
                    format!("Tile vettoriali: {}", d.meta.title)
                } else {
                    format!("Vector tiles: {}", d.meta.title)
                },
                if it {
                    "Il layer come tile vettoriali Mapbox Vector Tile, descritte da un documento TileJSON."
                } else {
                    "The layer as Mapbox Vector Tiles, described by a TileJSON document."
                },
                ctx.uris.tilejson(id),
                ctx.uris.tilejson(id),
                vec![TILEJSON_3, MVT_2_1],
            )
        };
        b.text(service, DCT_TITLE, &title, lang);
        b.text(service, DCT_DESCRIPTION, description, lang);
        let endpoint = iri(endpoint, || format!("dataset {id:?}: service endpoint"))?;
        b.link(service, DCAT_ENDPOINT_URL, endpoint.as_ref());
        let described_by = iri(described_by, || {
            format!("dataset {id:?}: service description")
        })?;
        b.link(service, DCAT_ENDPOINT_DESCRIPTION, described_by.as_ref());
        // The 3.0.1 range shapes want both typed `rdfs:Resource` (they are missing from
        // `dcat-ap-SHACL.ttl` itself, SEMICeu/DCAT-AP #448, but defined in `ranges.ttl`).
        b.link(&endpoint, rdf::TYPE, rdfs::RESOURCE);
        b.link(&described_by, rdf::TYPE, rdfs::RESOURCE);
        for standard in standards {
            let node = add_standard(b, standard);
            b.link(service, DCT_CONFORMS_TO, node.as_ref());
        }
        b.link(service, DCAT_SERVES_DATASET, ds.as_ref());
        b.link(service, DCT_LICENSE, licence.as_ref());
        b.link(service, DCT_ACCESS_RIGHTS, public.as_ref());
        b.link(service, DCT_PUBLISHER, publisher.as_ref());
        b.link(service, DCAT_CONTACT_POINT, contact.as_ref());
    }
    Ok(uris)
}

/// What every distribution of a dataset links to.
struct DistributionLinks<'a> {
    page: &'a NamedNode,
    licence: &'a NamedNode,
    rights: &'a NamedNode,
    services: &'a [NamedNode],
    modified: &'a str,
    issued: Option<&'a (String, NamedNodeRef<'static>)>,
}

fn add_distribution(
    b: &mut Builder,
    ctx: &Context<'_>,
    d: &Dataset,
    x: &Distribution,
    links: DistributionLinks<'_>,
) -> Result<NamedNode, CatalogError> {
    let id = d.id.as_str();
    let lang = ctx.language();
    let at = || format!("dataset {id:?}, file {:?}", x.file);
    let dist = iri(
        ctx.uris
            .dataset_part(id, &format!("distribution-{}", x.file)),
        at,
    )?;
    b.types(&dist, &[DCAT_DISTRIBUTION, DCATAPIT_DISTRIBUTION]);
    b.text(
        &dist,
        DCT_TITLE,
        &format!("{} ({})", d.meta.title, x.file),
        lang,
    );
    let description = if lang == "it" {
        format!(
            "Il dataset nel formato {} ({}): {} record.",
            x.format, x.media_type, x.rows
        )
    } else {
        format!(
            "The dataset as {} ({}): {} records.",
            x.format, x.media_type, x.rows
        )
    };
    b.text(&dist, DCT_DESCRIPTION, &description, lang);
    b.link(&dist, DCAT_ACCESS_URL, links.page.as_ref());
    let download = iri(ctx.uris.file(id, &x.file), at)?;
    b.link(&dist, DCAT_DOWNLOAD_URL, download.as_ref());
    let format = iri(format!("{}{}", terms::FILE_TYPE_BASE, x.format), at)?;
    b.link(&dist, DCT_FORMAT, format.as_ref());
    b.link(&format, rdf::TYPE, DCT_MEDIA_TYPE_OR_EXTENT);
    if let Some(uri) = terms::media_type_uri(&x.media_type) {
        let media = iri(uri, at)?;
        b.link(&dist, DCAT_MEDIA_TYPE, media.as_ref());
        b.link(&media, rdf::TYPE, DCT_MEDIA_TYPE);
    }
    b.typed(
        &dist,
        DCAT_BYTE_SIZE,
        &x.byte_size.to_string(),
        xsd::NON_NEGATIVE_INTEGER,
    );
    let checksum = iri(
        ctx.uris.dataset_part(id, &format!("checksum-{}", x.file)),
        at,
    )?;
    b.link(&dist, SPDX_CHECKSUM_P, checksum.as_ref());
    b.link(&checksum, rdf::TYPE, SPDX_CHECKSUM);
    b.link(&checksum, SPDX_ALGORITHM, SPDX_SHA256);
    b.typed(&checksum, SPDX_CHECKSUM_VALUE, &x.sha256, xsd::HEX_BINARY);
    let sha256 = NamedNode::new_unchecked(SPDX_SHA256.as_str());
    b.link(&sha256, rdf::TYPE, SPDX_CHECKSUM_ALGORITHM);
    b.link(&dist, DCT_LICENSE, links.licence.as_ref());
    b.link(&dist, DCT_RIGHTS, links.rights.as_ref());
    b.typed(&dist, DCT_MODIFIED, links.modified, xsd::DATE_TIME);
    if let Some((value, datatype)) = links.issued {
        b.typed(&dist, DCT_ISSUED, value, *datatype);
    }
    for service in links.services {
        b.link(&dist, DCAT_ACCESS_SERVICE, service.as_ref());
    }
    Ok(dist)
}

/// Sort key of a triple: by subject, `rdf:type` first, then by predicate and object, so
/// that output is deterministic and each subject is written once.
fn triple_key<'g>(t: &oxrdf::TripleRef<'g>) -> (&'g str, bool, &'g str, String) {
    let subject = match t.subject {
        NamedOrBlankNodeRef::NamedNode(n) => n.as_str(),
        NamedOrBlankNodeRef::BlankNode(n) => n.as_str(),
    };
    let object = match t.object {
        TermRef::NamedNode(n) => n.as_str().to_string(),
        other => other.to_string(),
    };
    (
        subject,
        t.predicate != rdf::TYPE,
        t.predicate.as_str(),
        object,
    )
}

/// Writes triples in one of the three syntaxes, subjects in URI order, each triple once
/// (`graph.iter()` or [`Triples::iter`]).
pub fn serialize<'a>(
    triples: impl IntoIterator<Item = oxrdf::TripleRef<'a>>,
    syntax: RdfSyntax,
) -> Result<Vec<u8>, CatalogError> {
    let format = match syntax {
        RdfSyntax::Turtle => RdfFormat::Turtle,
        RdfSyntax::RdfXml => RdfFormat::RdfXml,
        RdfSyntax::JsonLd => RdfFormat::JsonLd {
            profile: oxrdfio::JsonLdProfile::Streaming.into(),
        },
    };
    let mut serializer = RdfSerializer::from_format(format);
    for (prefix, ns) in PREFIXES {
        serializer = serializer
            .with_prefix(*prefix, *ns)
            .map_err(|e| CatalogError::Iri {
                what: format!("prefix {prefix}"),
                value: (*ns).to_string(),
                problem: e.to_string(),
            })?;
    }
    let mut triples: Vec<oxrdf::TripleRef<'_>> = triples.into_iter().collect();
    triples.sort_by_cached_key(triple_key);
    // Equal triples have equal keys, so they are neighbours now.
    triples.dedup();
    let mut writer = serializer.for_writer(Vec::with_capacity(triples.len() * 96));
    let failed = |source: std::io::Error| CatalogError::Serialize { syntax, source };
    for t in triples {
        writer.serialize_triple(t).map_err(failed)?;
    }
    writer.finish().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_of_a_bbox() {
        assert_eq!(
            bbox_wkt([10.486, 43.749, 10.659, 43.943]),
            "POLYGON((10.486 43.749,10.659 43.749,10.659 43.943,10.486 43.943,10.486 43.749))"
        );
        assert_eq!(coordinate(-0.00000001), "0");
        assert_eq!(coordinate(1e-7), "0.0000001");
        assert_eq!(coordinate(12.0), "12");
    }

    #[test]
    fn query_parameters() {
        let q = CatalogQuery::from_pairs([("page", "2"), ("q", " Scuole "), ("x", "y")]).unwrap();
        assert_eq!(q.page, 2);
        assert_eq!(q.q.as_deref(), Some("scuole"));
        for bad in ["0", "-1", "abc", "1.5", ""] {
            assert_eq!(
                CatalogQuery::from_pairs([("page", bad)]),
                Err(QueryError::Page(bad.into()))
            );
        }
        assert!(CatalogQuery::from_pairs([("page", "1"), ("page", "2")]).is_err());
        for good in [
            "2024-01-01",
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01T12:00:00+02:00",
        ] {
            assert!(
                CatalogQuery::from_pairs([("modified_since", good)])
                    .unwrap()
                    .modified_since
                    .is_some(),
                "{good}"
            );
        }
        assert!(CatalogQuery::from_pairs([("modified_since", "ieri")]).is_err());
        let q =
            CatalogQuery::from_pairs([("modified_since", "2024-01-01T12:00:00+02:00")]).unwrap();
        assert_eq!(
            q.filter_pairs(),
            vec![("modified_since", "2024-01-01T10:00:00Z".to_string())]
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            datetime_lexical("2026-11-28T17:07:56.202453Z").as_deref(),
            Some("2026-11-28T17:07:56Z")
        );
        assert_eq!(date_or_datetime("2025-09-01").map(|d| d.1), Some(xsd::DATE));
        assert_eq!(
            date_or_datetime("2025-09-01T10:00:00").map(|d| d.1),
            Some(xsd::DATE_TIME)
        );
        assert_eq!(date_or_datetime("01/09/2025"), None);
    }

    #[test]
    fn bbox_containment() {
        let territory = [10.486, 43.749, 10.659, 43.943];
        assert!(bbox_within([10.4866, 43.7497, 10.6585, 43.943], territory));
        assert!(!bbox_within([10.14, 43.74, 10.74, 44.28], territory));
    }
}
