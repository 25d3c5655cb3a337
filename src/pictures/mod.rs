//! Pictures made at build time for the web pages ([`crate::model::Picture`]):
//! - the chart of a table's numbers over its months ([`chart`]), shown on the dataset page
//!   without JavaScript;
//! - a layer's map thumbnail ([`thumbnail`]), shown in search results, on the home page and
//!   in place of the mini-map when JavaScript is off.
//!
//! A picture is a file of the generation like a download: `portale build` writes it in
//! the dataset's directory and seals it ([`crate::store::build::seal_picture`]), the
//! manifest lists it under the dataset's `pictures`, and the server only ever serves or
//! reads what the manifest lists (`/datasets/{id}/pictures/{file}`); it never draws
//! anything on a request.
//!
//! Pitfalls: pictures are made from the published table (after privacy and aggregation
//! steps), never from the source, so they cannot show what the downloads do not; and a
//! picture that cannot be made is a build error only when writing fails: a table with
//! nothing to chart simply has no chart.

pub mod chart;
pub mod thumbnail;
