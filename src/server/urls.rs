//! The one URL builder: every URL the server emits comes from here.
//!
//! URLs are absolute and start with the catalogue's configured public base URL
//! (`catalog.base_url`), never with the request's `Host` header: behind a reverse proxy the
//! Host the server sees is not the one the public uses (ckanext-dcatapit #37), and
//! harvesters store these URLs.
//!
//! Pitfall: segments are inserted as they are. That is safe because the manifest is
//! checked when a generation is loaded ([`super::state`]): dataset ids are `[a-z0-9-]` and
//! file names `[A-Za-z0-9._-]`, none of which needs percent-encoding.

/// Builds absolute URLs from a public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    base: String,
}

impl Urls {
    /// `base_url` is the catalogue's public base URL; a trailing `/` is ignored.
    pub fn new(base_url: &str) -> Urls {
        Urls {
            base: base_url.trim_end_matches('/').to_string(),
        }
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A path of the site (`/datasets/scuole`, starting with `/`) as an absolute URL: for
    /// the relative paths the search index stores.
    pub fn absolute(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    /// `/suggest.json`, the search suggestions.
    pub fn suggest_json(&self) -> String {
        format!("{}/suggest.json", self.base)
    }

    /// `/datasets.json`, the catalogue search.
    pub fn datasets_json(&self) -> String {
        format!("{}/datasets.json", self.base)
    }

    /// `/datasets/{id}`, the dataset's HTML page.
    pub fn dataset_page(&self, id: &str) -> String {
        format!("{}/datasets/{id}", self.base)
    }

    /// `/federated/{key}`, a harvested record republished in our catalogue: the base of
    /// the URIs of its nodes that the origin did not name (`key` is 16 hex digits).
    pub fn federated_record(&self, key: &str) -> String {
        format!("{}/federated/{key}", self.base)
    }

    /// `/datasets/{id}.json`, the dataset's JSON twin.
    pub fn dataset_json(&self, id: &str) -> String {
        format!("{}/datasets/{id}.json", self.base)
    }

    /// `/datasets/{id}/files/{file}`, a download.
    pub fn file(&self, id: &str, file: &str) -> String {
        format!("{}/datasets/{id}/files/{file}", self.base)
    }

    /// `/datasets/{id}/pictures/{file}`: a picture made at build time for the web pages.
    pub fn picture(&self, id: &str, file: &str) -> String {
        format!("{}/datasets/{id}/pictures/{file}", self.base)
    }

    /// `/ogc{path}`, OGC API – Features: `path` is `""` for the landing page, otherwise it
    /// starts with `/` (`/collections/{id}/items`).
    pub fn ogc(&self, path: &str) -> String {
        format!("{}/ogc{path}", self.base)
    }

    /// `/tiles/{layer}/{z}/{x}/{y}.mvt`, the vector-tile URL template (braces kept).
    pub fn tile_template(&self, layer: &str) -> String {
        format!("{}/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt", self.base)
    }

    /// `/tiles/{layer}.json`, a layer's TileJSON.
    pub fn tilejson(&self, layer: &str) -> String {
        format!("{}/tiles/{layer}.json", self.base)
    }

    /// `/tiles/{layer}.pmtiles`, a layer's PMTiles archive.
    pub fn pmtiles(&self, layer: &str) -> String {
        format!("{}/tiles/{layer}.pmtiles", self.base)
    }

    /// `/styles/{layer}.json`, a layer's MapLibre style.
    pub fn style(&self, layer: &str) -> String {
        format!("{}/styles/{layer}.json", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slash_is_ignored() {
        let urls = Urls::new("https://dati.example.it/");
        assert_eq!(urls.base(), "https://dati.example.it");
        assert_eq!(
            urls.file("scuole", "scuole.csv"),
            "https://dati.example.it/datasets/scuole/files/scuole.csv"
        );
    }

    #[test]
    fn base_with_a_path_prefix_is_kept() {
        let urls = Urls::new("https://comune.example.it/opendata");
        assert_eq!(
            urls.dataset_json("scuole"),
            "https://comune.example.it/opendata/datasets/scuole.json"
        );
        assert_eq!(
            urls.dataset_page("scuole"),
            "https://comune.example.it/opendata/datasets/scuole"
        );
        assert_eq!(
            urls.datasets_json(),
            "https://comune.example.it/opendata/datasets.json"
        );
        assert_eq!(
            urls.tile_template("scuole"),
            "https://comune.example.it/opendata/tiles/scuole/{z}/{x}/{y}.mvt"
        );
        assert_eq!(
            urls.absolute("/datasets/scuole"),
            "https://comune.example.it/opendata/datasets/scuole"
        );
        assert_eq!(
            urls.absolute("datasets/scuole"),
            "https://comune.example.it/opendata/datasets/scuole"
        );
        assert_eq!(
            urls.style("scuole"),
            "https://comune.example.it/opendata/styles/scuole.json"
        );
    }
}
