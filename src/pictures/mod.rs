//! Pictures made at build time for the web pages ([`crate::model::Picture`]): a layer's
//! map thumbnail ([`thumbnail`]) shown in search results and on the home page.
//!
//! Pictures are plain files written beside the dataset's downloads and sealed like them
//! (size and SHA-256 in the manifest), so the server never draws anything on a request.

pub mod thumbnail;
