//! Portale: an open-data and GIS publishing platform for Italian municipalities.
//!
//! `portale build` turns a municipality's internal tables (CSV, XLSX, Shapefile, ...),
//! each described by a short recipe (`datasets/<id>/dataset.toml`), into DCAT-AP_IT
//! described open datasets and WGS84 map layers, written into an immutable generation
//! under `site/`. `portale serve` publishes the current generation: JSON APIs,
//! downloads, and (in later capabilities) HTML, DCAT-AP_IT, CKAN, OGC API and tiles.
//!
//! The modules follow the data flow: [`config`] reads recipes, [`etl`] reads, checks and
//! transforms the tables, [`geo`] reprojects and repairs geometries, [`store`] writes
//! generations and switches between them atomically, [`server`] answers HTTP requests
//! from the files a generation lists in its manifest ([`model::Manifest`]).

pub mod catalog;
pub mod config;
pub mod etl;
pub mod federation;
pub mod fuzzing;
pub mod geo;
pub mod model;
pub mod ogc;
pub mod pictures;
pub mod search;
pub mod server;
pub mod store;
pub mod tiles;
pub mod vocab;
pub mod xml;

/// Program version, part of every dataset's build cache key.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
