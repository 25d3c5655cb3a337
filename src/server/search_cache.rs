//! The answers of `/datasets.json` and `/suggest.json` kept for repeated requests, like
//! Solr's query result cache behind CKAN: a catalogue's traffic is mostly the same few
//! requests (the home page's listing, a theme clicked, a common word), and an index never
//! changes once written, so an answer stays right as long as its index and generation are
//! served.
//!
//! One cache belongs to one loaded index ([`super::state::SearchIndex`]) and goes with it
//! when the index is swapped; the key holds the served generation (whose public URL the
//! answer's links are built from) and the request's query string as received.
//!
//! Eviction is by two generations of entries: lookups search the young map, then the old
//! one (moving the entry back to the young map); when the young map is full (its entries,
//! or [`MAP_BYTES`] of answers) it becomes the old one and the former old map is dropped.
//! Recently used answers stay, without a list to maintain on every hit. Answers over
//! [`MAX_BODY`] bytes are not kept.
//!
//! Size: `PORTALE_SEARCH_CACHE` (environment) sets the entries of the young map, default
//! [`DEFAULT_ENTRIES`]; `0` turns the cache off (to measure the engine, or to save
//! memory). At most twice that many answers, and twice [`MAP_BYTES`], are kept.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;

/// Entries of the young map by default (so at most twice this many answers are kept).
pub const DEFAULT_ENTRIES: usize = 1024;
/// Bytes of answers in the young map before it is aged.
pub const MAP_BYTES: usize = 32 * 1024 * 1024;
/// Largest answer kept, in bytes.
pub const MAX_BODY: usize = 256 * 1024;

/// The young map's entries: `PORTALE_SEARCH_CACHE`, else [`DEFAULT_ENTRIES`].
fn configured_entries() -> usize {
    static ENTRIES: std::sync::LazyLock<usize> =
        std::sync::LazyLock::new(|| match std::env::var("PORTALE_SEARCH_CACHE") {
            Ok(v) => v.trim().parse().unwrap_or_else(|_| {
                tracing::warn!(
                    value = %v,
                    "PORTALE_SEARCH_CACHE is not a number of answers; using {DEFAULT_ENTRIES}"
                );
                DEFAULT_ENTRIES
            }),
            Err(_) => DEFAULT_ENTRIES,
        });
    *ENTRIES
}

#[derive(Default)]
struct Maps {
    young: HashMap<String, Bytes>,
    young_bytes: usize,
    old: HashMap<String, Bytes>,
}

/// Cached answers of one index.
pub struct ResponseCache {
    entries: usize,
    maps: Mutex<Maps>,
}

impl Default for ResponseCache {
    /// A cache of the configured size.
    fn default() -> ResponseCache {
        ResponseCache::with_entries(configured_entries())
    }
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache").finish_non_exhaustive()
    }
}

/// The key of a request: route, generation, query string.
pub fn key(route: &str, generation: &str, query: Option<&str>) -> String {
    format!("{route}\n{generation}\n{}", query.unwrap_or(""))
}

impl ResponseCache {
    /// A cache whose young map holds `entries` answers (`0`: keeps nothing).
    pub fn with_entries(entries: usize) -> ResponseCache {
        ResponseCache {
            entries,
            maps: Mutex::new(Maps::default()),
        }
    }

    pub fn get(&self, key: &str) -> Option<Bytes> {
        if self.entries == 0 {
            return None;
        }
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = maps.young.get(key) {
            return Some(b.clone());
        }
        let b = maps.old.remove(key)?;
        self.insert(&mut maps, key.to_string(), b.clone());
        Some(b)
    }

    pub fn put(&self, key: String, body: Bytes) {
        if self.entries == 0 || body.len() > MAX_BODY {
            return;
        }
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        self.insert(&mut maps, key, body);
    }

    fn insert(&self, maps: &mut Maps, key: String, body: Bytes) {
        if maps.young.len() >= self.entries || maps.young_bytes + body.len() > MAP_BYTES {
            maps.old = std::mem::take(&mut maps.young);
            maps.young_bytes = 0;
        }
        maps.young_bytes += body.len();
        if let Some(old) = maps.young.insert(key, body) {
            maps.young_bytes -= old.len();
        }
    }

    /// How many answers are kept.
    pub fn len(&self) -> usize {
        let maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        maps.young.len() + maps.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recently_used_answers_stay() {
        const ENTRIES: usize = 64;
        let c = ResponseCache::with_entries(ENTRIES);
        c.put("a".into(), Bytes::from_static(b"A"));
        for i in 0..ENTRIES - 1 {
            c.put(format!("k{i}"), Bytes::from_static(b"x"));
        }
        // The young map is full: the next insert ages it.
        c.put("b".into(), Bytes::from_static(b"B"));
        assert_eq!(
            c.get("a").as_deref(),
            Some(&b"A"[..]),
            "found in the old map"
        );
        for i in 0..ENTRIES {
            c.put(format!("j{i}"), Bytes::from_static(b"y"));
        }
        // "a" was moved back to the young map when read, then aged once: still there;
        // k0 was never read and is gone.
        assert!(c.get("a").is_some());
        assert!(c.get("k0").is_none());
        assert!(c.len() <= 2 * ENTRIES);
    }

    #[test]
    fn large_answers_are_not_kept() {
        let c = ResponseCache::with_entries(8);
        c.put("big".into(), Bytes::from(vec![0u8; MAX_BODY + 1]));
        assert!(c.get("big").is_none());
        assert!(c.is_empty());
        // Bytes age the young map too.
        let c = ResponseCache::with_entries(1_000_000);
        let n = MAP_BYTES / MAX_BODY;
        for i in 0..=n {
            c.put(format!("k{i}"), Bytes::from(vec![0u8; MAX_BODY]));
        }
        c.put("last".into(), Bytes::from(vec![0u8; MAX_BODY]));
        assert!(c.len() <= 2 * n + 1);
    }

    #[test]
    fn zero_entries_keep_nothing() {
        let c = ResponseCache::with_entries(0);
        c.put("a".into(), Bytes::from_static(b"A"));
        assert!(c.get("a").is_none());
        assert!(c.is_empty());
    }

    #[test]
    fn keys_separate_routes_generations_and_queries() {
        assert_ne!(
            key("/datasets.json", "g1", Some("q=a")),
            key("/datasets.json", "g2", Some("q=a"))
        );
        assert_ne!(
            key("/datasets.json", "g1", Some("q=a")),
            key("/suggest.json", "g1", Some("q=a"))
        );
        assert_eq!(
            key("/datasets.json", "g1", None),
            key("/datasets.json", "g1", Some(""))
        );
    }
}
