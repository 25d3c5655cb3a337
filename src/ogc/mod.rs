//! OGC API – Features over the layers of a generation: Part 1 (core, GeoJSON, HTML,
//! OpenAPI 3.0), Part 2 (CRS by reference) and Part 3 (queryables, CQL2 filters).
//!
//! The core is framework-free (after pygeoapi's split): [`OgcService`] answers a
//! [`Request`] — endpoint, path ids, decoded query pairs, `Accept` — with a [`Reply`] or an
//! [`OgcError`], and `server::ogc` is the thin axum adapter. Modules:
//!
//! | module | what |
//! |---|---|
//! | [`api`] | the route and parameter table: what the adapter registers, what requests may carry, and the OpenAPI document generated from it |
//! | [`service`] | the resources: landing page, conformance, collections, queryables, items, item |
//! | [`source`] | reading a layer's FlatGeobuf file: R-tree bbox search, paging, fid lookup |
//! | [`cql2`] | CQL2-Text and CQL2-JSON parsing, checking and evaluation |
//! | [`crs`] | Part 2 CRS URIs, axis order, bbox and geometry transformations |
//! | [`geojson`] | features written straight to GeoJSON bytes |
//! | [`value`] | typed property values shared by the reader and the filters |
//! | [`format`] | `f` / `Accept` negotiation |
//! | [`html`] | the HTML pages |
//! | [`error`] | OGC exceptions with their HTTP status |
//!
//! ```no_run
//! # fn demo(generation: &portale::server::Generation) {
//! use portale::ogc::{OgcService, Request, api::Endpoint};
//!
//! let service = OgcService::new(
//!     &generation.manifest().catalog,
//!     generation.urls().clone(),
//!     generation.datasets(),
//!     |d| generation.file_path(d),
//! );
//! let query = vec![("bbox".to_string(), "10.5,43.8,10.6,43.9".to_string())];
//! let reply = service.handle(&Request {
//!     endpoint: Endpoint::Items,
//!     collection: Some("scuole-statali"),
//!     feature: None,
//!     query: &query,
//!     accept: None,
//! });
//! # }
//! ```
//!
//! # Pitfalls
//!
//! - **Axis order.** GeoJSON and CRS84 are longitude first; with `crs`, `bbox-crs` or
//!   `filter-crs` naming EPSG:4326 (latitude first) or EPSG:6707 (northing first), values
//!   go in and out in that CRS's official order ([`crs`]).
//! - **Feature ids** are the FlatGeobuf `fid` column (the row number written by the
//!   build), not positions in the file, which is in Hilbert order.
//! - **Memory** grows with the page asked for, never with the layer's features: they are
//!   read in place from the memory-mapped file; per layer stay its R-tree (40 bytes a
//!   node) and, after the first `items/{fid}`, a fid index (4 bytes a feature).
//! - **Unknown parameters are errors** (400), as Part 1 requires: a client's typo must not
//!   silently return the whole layer.

pub mod api;
pub mod cql2;
pub mod crs;
pub mod error;
pub mod format;
pub mod geojson;
pub mod html;
pub mod service;
pub mod source;
pub mod value;

pub use error::{ExceptionCode, OgcError};
pub use service::{OgcService, Reply, Request};
