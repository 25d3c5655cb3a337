//! Plain serde types that cross every boundary of Portale: what `build` writes into a
//! generation's `manifest.json` and what `serve` reads back. No I/O lives here.
//!
//! The manifest is the only contract between build and serve: a server never reads a
//! source table, only files listed here, each with its size and SHA-256 so that a
//! generation can be verified.

use serde::{Deserialize, Serialize};

/// Version of the manifest format; bumped when a field changes meaning.
pub const MANIFEST_VERSION: u32 = 1;

/// An organisation (publisher, rights holder): `foaf:Agent` + `dcatapit:Agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub name: String,
    /// IPA code (e.g. `c_b648`), the Agent's `dct:identifier`.
    pub identifier: String,
}

/// A contact point (`dcat:contactPoint`, vcard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactPoint {
    pub name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Catalogue-level facts, from `catalog/catalog.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub title: String,
    pub description: String,
    pub publisher: Agent,
    /// Public base URL, without a trailing slash; every URL Portale emits starts with it.
    pub base_url: String,
    pub homepage: String,
    /// ISO 639-1 codes, first is the main language.
    pub languages: Vec<String>,
    pub default_license: String,
    pub contact_point: ContactPoint,
    /// ISTAT code of the municipality (e.g. `046007`).
    #[serde(default)]
    pub istat_code: Option<String>,
    /// WGS84 extent of the territory `[min_lon, min_lat, max_lon, max_lat]`.
    #[serde(default)]
    pub territory_bbox: Option<[f64; 4]>,
    /// A MapLibre style (absolute http(s) URL) drawn under the layers of the map explorer
    /// instead of the basemap made from the catalogue's own boundary layers
    /// (`[map] basemap_style` in `catalog.toml`). Absent: the map works offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basemap_style: Option<String>,
}

/// Column types of a published table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Text, also codes with leading zeros (ISTAT `046007`, CAP `55012`).
    String,
    Integer,
    /// Floating point number, written with a `.` decimal point.
    Number,
    Boolean,
    /// Calendar date, written as ISO 8601 `YYYY-MM-DD`.
    Date,
    /// Date and time, written as ISO 8601 `YYYY-MM-DDTHH:MM:SS`.
    Datetime,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
        }
    }
}

/// One published column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The source column it came from (absent for derived and aggregated columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub required: bool,
    pub unique: bool,
    /// Number of missing values in the published table.
    pub nulls: u64,
}

/// Geometry type of a layer, as OGC simple features names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GeometryType {
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    /// A layer mixing several of the types above.
    Geometry,
}

impl GeometryType {
    pub fn as_str(self) -> &'static str {
        match self {
            GeometryType::Point => "Point",
            GeometryType::LineString => "LineString",
            GeometryType::Polygon => "Polygon",
            GeometryType::MultiPoint => "MultiPoint",
            GeometryType::MultiLineString => "MultiLineString",
            GeometryType::MultiPolygon => "MultiPolygon",
            GeometryType::Geometry => "Geometry",
        }
    }
}

/// Spatial and temporal extent of a dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extent {
    /// WGS84 `[min_lon, min_lat, max_lon, max_lat]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f64; 4]>,
    /// First and last date found in the data's date columns (ISO 8601), or from the recipe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalExtent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporalExtent {
    pub start: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A georeferenced dataset's layer facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub geometry_type: GeometryType,
    /// EPSG code of the source coordinates (the layer itself is always WGS84 lon/lat).
    pub source_crs: u32,
    pub features: u64,
}

/// One row rejected by the ETL, with the reason (for the quality report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// Source file name (not a path).
    pub file: String,
    /// 1-based line (CSV) or record number (other formats) in the source.
    pub row: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub reason: String,
}

/// What the ETL did to a dataset's rows and geometries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub rows_read: u64,
    pub rows_kept: u64,
    pub rows_rejected: u64,
    /// Rows dropped on purpose by a recipe filter (not errors).
    pub rows_filtered: u64,
    /// The first rejections (capped), each with its reason.
    pub rejections: Vec<Rejection>,
    /// Count of rejections per reason kind, e.g. `{"invalid number": 3}`.
    pub rejection_counts: std::collections::BTreeMap<String, u64>,
    pub geometries_repaired: u64,
    pub geometries_rejected: u64,
    /// Human-readable notes on repairs, e.g. "rewound 12 clockwise exterior rings".
    pub repairs: Vec<String>,
    /// Columns dropped as personal data.
    pub personal_data_dropped: Vec<String>,
    /// What was detected in the source when the recipe did not say it.
    pub detected: Vec<Detected>,
}

/// A source property detected rather than stated in the recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detected {
    pub file: String,
    pub property: String,
    pub value: String,
}

/// One downloadable file of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// File name under `datasets/{id}/files/`.
    pub file: String,
    /// Format code as in the EU file-type vocabulary (`CSV`, `JSON`, `GEOJSON`, `GPKG`; `BIN` for
    /// GeoParquet and FlatGeobuf, which the vocabulary lacks: `media_type` tells them apart).
    pub format: String,
    pub media_type: String,
    pub byte_size: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// Records in the file (FlatGeobuf leaves out rows without a geometry).
    pub rows: u64,
    /// Path of the file relative to the generation directory.
    pub path: String,
}

/// Descriptive metadata of a dataset (from its recipe, defaults filled in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    pub title: String,
    pub description: String,
    /// EU data-theme codes (`EDUC`, `GOVE`, `REGI`, ...).
    pub themes: Vec<String>,
    #[serde(default)]
    pub subthemes: Vec<String>,
    pub keywords: Vec<String>,
    /// EU frequency code (`ANNUAL`, `MONTHLY`, `IRREG`, ...).
    pub frequency: String,
    /// AgID licence id (e.g. `CC-BY-4.0`).
    pub license: String,
    pub publisher: Agent,
    pub rights_holder: Agent,
    pub contact_point: ContactPoint,
    #[serde(default)]
    pub conforms_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalExtent>,
    /// Set for data generated for demonstration, shown on every page and in the metadata.
    #[serde(default)]
    pub demo_data: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
}

/// Everything known about one published dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: String,
    pub meta: DatasetMeta,
    pub fields: Vec<Field>,
    pub rows: u64,
    pub extent: Extent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Layer>,
    pub distributions: Vec<Distribution>,
    pub quality: QualityReport,
    /// When the dataset's content last changed (RFC 3339, UTC).
    pub modified: String,
    /// Hash of the dataset's inputs (sources, recipe, program version): the build cache key.
    pub input_hash: String,
    /// The layer's vector tiles (absent for tables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiles: Option<TileSet>,
    /// Pictures made at build time for the web pages (a table's chart, a layer's
    /// thumbnail); empty in manifests written before they existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<Picture>,
}

/// What a [`Picture`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PictureKind {
    /// A chart of a table's numbers over its dates (dataset page).
    Chart,
    /// A small map of a layer (search results, home page).
    Thumbnail,
}

/// A picture of a dataset made at build time for the web pages, served at
/// `/datasets/{id}/pictures/{file}`. Like a distribution, it is sealed (size and SHA-256)
/// and carried over to the next generation when the dataset is not rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Picture {
    pub kind: PictureKind,
    /// File name (unique among the dataset's files).
    pub file: String,
    /// Path relative to the generation directory.
    pub path: String,
    pub media_type: String,
    pub byte_size: u64,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// A text alternative for the picture (`alt`), in Italian.
    pub alt: String,
}

/// A layer's vector tiles: one PMTiles v3 archive of gzipped MVT tiles, XYZ scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileSet {
    /// File name of the archive.
    pub file: String,
    /// Path of the archive relative to the generation directory.
    pub path: String,
    pub byte_size: u64,
    /// Lowercase hex SHA-256 of the archive.
    pub sha256: String,
    /// Name of the MVT layer inside the tiles (the dataset id).
    pub layer: String,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// WGS84 `[west, south, east, north]` of the features.
    pub bounds: [f64; 4],
    /// `[longitude, latitude, zoom]` to open a map on.
    pub center: [f64; 3],
    /// Tiles with at least one feature.
    pub tile_count: u64,
    /// Distinct tile contents (identical tiles are stored once).
    pub tile_contents: u64,
    /// Size of the largest tile before compression, in bytes.
    pub largest_tile_bytes: u64,
    /// What the tiler left out, zoom by zoom.
    pub dropped: Vec<ZoomDrops>,
}

/// What the tiler left out at one zoom (counts of features; the size cap counts a
/// feature once per tile it was dropped from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoomDrops {
    pub zoom: u8,
    /// Points hidden by point thinning (below the maximum zoom only).
    pub thinned_points: u64,
    /// Polygons too small to draw, accounted for as tiny squares.
    pub tiny_polygons: u64,
    /// Features dropped to keep tiles under 500 KB.
    pub size_cap: u64,
}

/// `site/<generation>/manifest.json`: every file a generation serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub generation: String,
    pub built_at: String,
    pub portale_version: String,
    pub catalog: Catalog,
    pub datasets: Vec<Dataset>,
}

impl Manifest {
    pub fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.id == id)
    }
}

/// A dataset harvested from another portal (`portale harvest`): what the remote catalogue
/// said about it, mapped to one shape for both CKAN and DCAT sources.
///
/// Federated records are kept apart from our own datasets (in `site/federation/`, never in
/// a generation's manifest) and are left out of our DCAT and CKAN outputs unless their
/// source is configured with `republish = true`, so that portals do not harvest each other
/// in circles. Text fields hold plain text: markup found at the origin was removed (and
/// the field named in `sanitized`); a page showing them must still escape them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedRecord {
    /// Name of the harvest source (`[[harvest]] name` in `catalog.toml`).
    pub source: String,
    /// A stable, URL-safe key: 16 hex digits of SHA-256 of the source name and `original_id`.
    pub key: String,
    /// The identifier at the origin: `dct:identifier` (or the dataset's URI when it has
    /// none), a CKAN package `id`.
    pub original_id: String,
    /// The dataset's URI at the origin (the RDF subject, or a CKAN package's `uri` extra).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// EU data-theme codes (`EDUC`) when the origin used that vocabulary; other themes as
    /// the origin wrote them (a URI or a label).
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<FederatedAgent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights_holder: Option<FederatedAgent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_point: Option<FederatedContact>,
    /// The licence: a URI (AgID, Creative Commons) or the origin's licence id or title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// EU frequency code (`ANNUAL`) when from that vocabulary, otherwise as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    /// ISO 8601 date or date-time, as the origin gave it (day-first dates rewritten).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<String>,
    /// ISO 8601 date or date-time of the last change at the origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// The dataset's page at the origin (`dcat:landingPage`, the CKAN dataset page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_page: Option<String>,
    /// The URL the record was read from (a catalogue page, a `package_search` page).
    pub harvested_from: String,
    #[serde(default)]
    pub distributions: Vec<FederatedDistribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spatial: Option<FederatedSpatial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal: Option<TemporalExtent>,
    /// Fields whose markup (HTML tags, scripts) was removed: `title`, `description`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sanitized: Vec<String>,
    /// Metadata defects found at the origin that did not prevent the import (codes such
    /// as `no-distribution`, see `portale::federation::Defect`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<String>,
    /// Lowercase hex SHA-256 of the record's content (every field but `key`, `hash`,
    /// `harvested_from` and `harvested_at`): an unchanged hash means an unchanged record.
    pub hash: String,
    /// When this version of the record was harvested (RFC 3339, UTC).
    pub harvested_at: String,
}

/// An organisation named by a federated record (publisher, rights holder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedAgent {
    pub name: String,
    /// The agent's identifier at the origin (an IPA code for Italian administrations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

/// A federated record's contact point; every part is optional at the origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address without `mailto:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One distribution of a federated record, with the origin's URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FederatedDistribution {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// EU file-type code (`CSV`) when from that vocabulary, otherwise as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byte_size: Option<u64>,
}

/// Spatial coverage of a federated record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FederatedSpatial {
    /// Place URIs (ISTAT, GeoNames, EU places).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uris: Vec<String>,
    /// Place names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// The geometry as the origin wrote it (WKT or GeoJSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<String>,
    /// WGS84 `[min_lon, min_lat, max_lon, max_lat]` of the geometry, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<[f64; 4]>,
}
