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
//! one (moving the entry back to the young map); when the young map is full it becomes the
//! old one and the former old map is dropped. Recently used answers stay, without a list
//! to maintain on every hit. Answers over [`MAX_BODY`] bytes are not kept.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;

/// Entries of the young map (so at most twice this many answers are kept).
pub const ENTRIES: usize = 512;
/// Largest answer kept, in bytes.
pub const MAX_BODY: usize = 256 * 1024;

#[derive(Default)]
struct Maps {
    young: HashMap<String, Bytes>,
    old: HashMap<String, Bytes>,
}

/// Cached answers of one index.
#[derive(Default)]
pub struct ResponseCache {
    maps: Mutex<Maps>,
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
    pub fn get(&self, key: &str) -> Option<Bytes> {
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(b) = maps.young.get(key) {
            return Some(b.clone());
        }
        let b = maps.old.remove(key)?;
        Self::insert(&mut maps, key.to_string(), b.clone());
        Some(b)
    }

    pub fn put(&self, key: String, body: Bytes) {
        if body.len() > MAX_BODY {
            return;
        }
        let mut maps = self.maps.lock().unwrap_or_else(PoisonError::into_inner);
        Self::insert(&mut maps, key, body);
    }

    fn insert(maps: &mut Maps, key: String, body: Bytes) {
        if maps.young.len() >= ENTRIES {
            maps.old = std::mem::take(&mut maps.young);
        }
        maps.young.insert(key, body);
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
        let c = ResponseCache::default();
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
        let c = ResponseCache::default();
        c.put("big".into(), Bytes::from(vec![0u8; MAX_BODY + 1]));
        assert!(c.get("big").is_none());
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
