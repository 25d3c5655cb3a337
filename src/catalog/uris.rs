//! The URIs of catalogue resources, all built on the server's one URL builder
//! ([`Urls`]) so that they start with the configured public base URL.
//!
//! Every node of the DCAT graph has a stable URI (no blank nodes): harvesters match
//! records across crawls by URI, and the three serialisations then describe the very same
//! graph. Nodes that belong to one dataset (distributions, checksums, coverage, contact
//! point) are fragments of the dataset's URI, `/datasets/{id}#…`, which dereferences to
//! the dataset page.
//!
//! Pitfall: dataset ids and file names are inserted as they are (the manifest check
//! guarantees `[a-z0-9-]` and `[A-Za-z0-9._-]`); anything else from a recipe or
//! `catalog.toml` (an IPA code, a query value) goes through [`percent_encode`].

use std::fmt::Write as _;

use crate::server::Urls;

/// Which RDF syntax a catalogue document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RdfSyntax {
    Turtle,
    RdfXml,
    JsonLd,
}

impl RdfSyntax {
    pub const ALL: [RdfSyntax; 3] = [RdfSyntax::Turtle, RdfSyntax::RdfXml, RdfSyntax::JsonLd];

    /// The URL extension, without the dot: `ttl`, `rdf`, `jsonld`.
    pub fn extension(self) -> &'static str {
        match self {
            RdfSyntax::Turtle => "ttl",
            RdfSyntax::RdfXml => "rdf",
            RdfSyntax::JsonLd => "jsonld",
        }
    }

    /// The exact `Content-Type` harvesters expect.
    pub fn media_type(self) -> &'static str {
        match self {
            RdfSyntax::Turtle => "text/turtle",
            RdfSyntax::RdfXml => "application/rdf+xml",
            RdfSyntax::JsonLd => "application/ld+json",
        }
    }

    pub fn from_extension(extension: &str) -> Option<RdfSyntax> {
        RdfSyntax::ALL
            .into_iter()
            .find(|s| s.extension() == extension)
    }
}

/// Percent-encodes everything but the URI unreserved characters (`A-Z a-z 0-9 - . _ ~`).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The URIs of catalogue resources under one public base URL.
#[derive(Debug, Clone, Copy)]
pub struct CatalogUris<'a> {
    urls: &'a Urls,
}

impl<'a> CatalogUris<'a> {
    pub fn new(urls: &'a Urls) -> CatalogUris<'a> {
        CatalogUris { urls }
    }

    pub fn urls(&self) -> &'a Urls {
        self.urls
    }

    /// The site's home page, `{base}/`.
    pub fn home(&self) -> String {
        format!("{}/", self.urls.base())
    }

    /// The catalogue resource, `{base}/catalog` (the same on every page and in every syntax).
    pub fn catalog(&self) -> String {
        format!("{}/catalog", self.urls.base())
    }

    /// A catalogue document, `{base}/catalog.{ext}`, without a query.
    pub fn catalog_document(&self, syntax: RdfSyntax) -> String {
        format!("{}/catalog.{}", self.urls.base(), syntax.extension())
    }

    /// One page of the catalogue: `{base}/catalog.{ext}?page=N`, followed by the filters
    /// (`pairs`, already in canonical order) percent-encoded.
    pub fn catalog_page(&self, syntax: RdfSyntax, page: u64, pairs: &[(&str, String)]) -> String {
        let mut url = format!("{}?page={page}", self.catalog_document(syntax));
        for (key, value) in pairs {
            let _ = write!(url, "&{key}={}", percent_encode(value));
        }
        url
    }

    /// A dataset, `{base}/datasets/{id}`: its page is also its URI.
    pub fn dataset(&self, id: &str) -> String {
        self.urls.dataset_page(id)
    }

    /// A node that belongs to one dataset, `{base}/datasets/{id}#{fragment}`.
    pub fn dataset_part(&self, id: &str, fragment: &str) -> String {
        format!("{}#{fragment}", self.urls.dataset_page(id))
    }

    /// A node of a republished harvested record, `{base}/federated/{key}#{fragment}`.
    pub fn federated_part(&self, key: &str, fragment: &str) -> String {
        format!("{}#{fragment}", self.urls.federated_record(key))
    }

    /// A dataset's RDF twin, `{base}/datasets/{id}.{ext}`.
    pub fn dataset_document(&self, id: &str, syntax: RdfSyntax) -> String {
        format!("{}.{}", self.urls.dataset_page(id), syntax.extension())
    }

    /// An organisation by its IPA code, `{base}/organizations/{ipa}`.
    pub fn organization(&self, ipa: &str) -> String {
        format!("{}/organizations/{}", self.urls.base(), percent_encode(ipa))
    }

    /// A download, `{base}/datasets/{id}/files/{file}`.
    pub fn file(&self, id: &str, file: &str) -> String {
        self.urls.file(id, file)
    }

    /// The OGC API – Features collection of a layer.
    pub fn ogc_collection(&self, id: &str) -> String {
        self.urls.ogc(&format!("/collections/{id}"))
    }

    /// The OpenAPI document of the OGC API – Features.
    pub fn ogc_api(&self) -> String {
        self.urls.ogc("/api")
    }

    /// A layer's TileJSON.
    pub fn tilejson(&self, id: &str) -> String {
        self.urls.tilejson(id)
    }

    /// `{base}/sitemap.xml`.
    pub fn sitemap(&self) -> String {
        format!("{}/sitemap.xml", self.urls.base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("c_b648"), "c_b648");
        assert_eq!(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }

    #[test]
    fn uris_keep_the_base_path() {
        let urls = Urls::new("https://example.it/opendata/");
        let u = CatalogUris::new(&urls);
        assert_eq!(u.catalog(), "https://example.it/opendata/catalog");
        assert_eq!(
            u.catalog_page(RdfSyntax::RdfXml, 2, &[("q", "scuole medie".into())]),
            "https://example.it/opendata/catalog.rdf?page=2&q=scuole%20medie"
        );
        assert_eq!(
            u.dataset_part("scuole", "distribution-scuole.csv"),
            "https://example.it/opendata/datasets/scuole#distribution-scuole.csv"
        );
        assert_eq!(
            u.dataset_document("scuole", RdfSyntax::JsonLd),
            "https://example.it/opendata/datasets/scuole.jsonld"
        );
        assert_eq!(u.home(), "https://example.it/opendata/");
    }

    #[test]
    fn syntaxes() {
        assert_eq!(RdfSyntax::from_extension("ttl"), Some(RdfSyntax::Turtle));
        assert_eq!(RdfSyntax::from_extension("xml"), None);
        assert_eq!(RdfSyntax::JsonLd.media_type(), "application/ld+json");
    }
}
