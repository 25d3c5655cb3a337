//! Map layers: `GET/HEAD /tiles/{layer}/{z}/{x}/{y}.mvt` (one vector tile),
//! `/tiles/{layer}.json` (TileJSON 3.0.0), `/tiles/{layer}.pmtiles` (the whole archive,
//! with HTTP Range, for PMTiles clients and CDNs) and `/styles/{layer}.json` (a MapLibre
//! style). `{layer}` is the dataset id.
//!
//! Tiles are read from the layer's PMTiles archive, memory-mapped ([`TileReaders`]): each
//! archive is opened the first time one of its tiles is asked for, once per generation,
//! and its leaf directories are cached as they are read, so memory grows with what is
//! requested, not with the catalogue.
//!
//! Answers for a tile URL:
//!
//! * the tile exists: 200, `application/vnd.mapbox-vector-tile`, the stored gzip bytes with
//!   `Content-Encoding: gzip` when `Accept-Encoding` allows gzip, else decompressed (also
//!   without the header: RFC 9110 would allow gzip then, but `curl` and scripts expect the
//!   bytes of the media type);
//!   `Vary: Accept-Encoding`; a strong `ETag` per encoding; `If-None-Match` → 304;
//! * no tile but the tile lies inside the layer's bounds and zooms: 204 (empty, cacheable);
//! * anything else (zoom beyond the range, outside the bounds, malformed): 404.
//!
//! `Cache-Control: public, max-age=86400`: tile URLs do not name the generation, so a
//! day is the longest a stale tile can live in a cache after a rebuild. Tile and
//! metadata answers carry `Access-Control-Allow-Origin: *` ([`super::security`]) so that map pages of other
//! sites (and viewers such as maputnik) can use the layers.
//!
//! Pitfall: axum allows one parameter per segment, so `{y}.mvt` is captured as `{y}` and
//! the suffix stripped, and `/tiles/{file}` serves both `.json` and `.pmtiles`.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use axum::Json;
use axum::body::Body;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pmtiles::{AsyncPmTilesReader, HashMapCache, MmapBackend, TileCoord};

use super::Current;
use super::error::ApiError;
use super::files::{ServedFile, if_none_match, serve_file};
use super::state::Generation;
use crate::model::{Dataset, TileSet};
use crate::tiles::{MVT_MEDIA_TYPE, PMTILES_MEDIA_TYPE, mercator, tilejson};

const TILE_CACHE_CONTROL: &str = "public, max-age=86400";
const JSON_CACHE_CONTROL: &str = "public, max-age=300";

type Reader = AsyncPmTilesReader<MmapBackend, HashMapCache>;

/// The open tile archives of one generation, by dataset id.
#[derive(Default)]
pub struct TileReaders {
    open: RwLock<HashMap<String, Arc<Reader>>>,
}

impl std::fmt::Debug for TileReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.open.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("TileReaders")
            .field("open", &open.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TileReaders {
    /// The reader of a dataset's archive, opened on first use.
    async fn get(
        &self,
        generation: &Generation,
        dataset: &Dataset,
        tiles: &TileSet,
    ) -> Result<Arc<Reader>, ApiError> {
        if let Some(r) = self
            .open
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&dataset.id)
        {
            return Ok(r.clone());
        }
        let path = generation.dir().join(&tiles.path);
        // Generations are immutable, but a damaged one must not be mapped: a file shorter
        // than the manifest says would fault on access.
        let on_disk = tokio::fs::metadata(&path)
            .await
            .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?
            .len();
        if on_disk != tiles.byte_size {
            return Err(ApiError::internal(format!(
                "{} has {on_disk} bytes but the manifest of generation {} says {}",
                path.display(),
                generation.name(),
                tiles.byte_size
            )));
        }
        let reader = Reader::new_with_cached_path(HashMapCache::default(), &path)
            .await
            .map_err(|e| ApiError::internal(format!("opening {}: {e}", path.display())))?;
        let reader = Arc::new(reader);
        let mut open = self.open.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have opened it meanwhile: keep the first.
        Ok(open.entry(dataset.id.clone()).or_insert(reader).clone())
    }
}

fn layer_tiles<'g>(
    generation: &'g Generation,
    layer: &str,
) -> Result<(&'g Dataset, &'g TileSet), ApiError> {
    let dataset = generation
        .dataset(layer)
        .ok_or_else(|| ApiError::not_found(format!("no layer {layer:?}")))?;
    let tiles = dataset
        .tiles
        .as_ref()
        .ok_or_else(|| ApiError::not_found(format!("dataset {layer:?} has no map layer")))?;
    Ok((dataset, tiles))
}

fn json_response(value: serde_json::Value) -> Response {
    let mut response = Json(value).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(JSON_CACHE_CONTROL),
    );
    response
}

/// `/tiles/{layer}.json` and `/tiles/{layer}.pmtiles`.
pub async fn layer_file(
    Current(generation): Current,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(segment)) = path else {
        return Err(ApiError::not_found("no such layer"));
    };
    if let Some(layer) = segment.strip_suffix(".json") {
        let (dataset, tiles) = layer_tiles(&generation, layer)?;
        let urls = generation.urls();
        return Ok(json_response(tilejson::tilejson(
            dataset,
            tiles,
            &urls.tile_template(layer),
        )));
    }
    if let Some(layer) = segment.strip_suffix(".pmtiles") {
        let (_, tiles) = layer_tiles(&generation, layer)?;
        let file = ServedFile {
            name: &tiles.file,
            path: &tiles.path,
            byte_size: tiles.byte_size,
            sha256: &tiles.sha256,
            media_type: PMTILES_MEDIA_TYPE,
            inline: false,
        };
        return serve_file(&generation, file, &method, &headers).await;
    }
    Err(ApiError::not_found(format!(
        "no representation {segment:?}: use {segment}.json or {segment}.pmtiles"
    )))
}

/// `/styles/{layer}.json`.
pub async fn style(
    Current(generation): Current,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path(segment)) = path else {
        return Err(ApiError::not_found("no such style"));
    };
    let Some(layer) = segment.strip_suffix(".json") else {
        return Err(ApiError::not_found(format!(
            "no representation {segment:?}: add .json to a layer id"
        )));
    };
    let (dataset, tiles) = layer_tiles(&generation, layer)?;
    Ok(json_response(tilejson::style(
        dataset,
        tiles,
        &generation.urls().tilejson(layer),
    )))
}

/// Whether `Accept-Encoding` accepts gzip (RFC 9110 §12.5.3): a `gzip`, `x-gzip` or `*`
/// member whose weight is not 0, and no explicit refusal of gzip.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip: Option<bool> = None;
    let mut star: Option<bool> = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for member in value.split(',') {
            let mut parts = member.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight_ok = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .next()
                .map(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0))
                .unwrap_or(true);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(weight_ok),
                "*" => star = Some(weight_ok),
                _ => {}
            }
        }
    }
    gzip.or(star).unwrap_or(false)
}

fn parse_tile(z: &str, x: &str, y: &str) -> Option<TileCoord> {
    let y = y.strip_suffix(".mvt")?;
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(z) && all_digits(x) && all_digits(y)) {
        return None;
    }
    TileCoord::new(z.parse().ok()?, x.parse().ok()?, y.parse().ok()?).ok()
}

/// `/tiles/{layer}/{z}/{x}/{y}.mvt`.
pub async fn tile(
    Current(generation): Current,
    method: Method,
    headers: HeaderMap,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path((layer, z, x, y))) = path else {
        return Err(ApiError::not_found("no such tile"));
    };
    let Some(coord) = parse_tile(&z, &x, &y) else {
        return Err(ApiError::not_found(
            "a tile URL is /tiles/{layer}/{z}/{x}/{y}.mvt with integer z, x, y inside the zoom's grid",
        ));
    };
    let (dataset, tiles) = layer_tiles(&generation, &layer)?;
    let (z, x, y) = (coord.z(), coord.x(), coord.y());
    if z < tiles.min_zoom || z > tiles.max_zoom {
        return Err(ApiError::not_found(format!(
            "layer {layer:?} has tiles from zoom {} to {}",
            tiles.min_zoom, tiles.max_zoom
        )));
    }
    let reader = generation
        .tile_readers()
        .get(&generation, dataset, tiles)
        .await?;
    let data = reader
        .get_tile(coord)
        .await
        .map_err(|e| ApiError::internal(format!("layer {layer}, tile {z}/{x}/{y}: {e}")))?;

    let mut out = HeaderMap::new();
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(TILE_CACHE_CONTROL),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    let Some(data) = data else {
        if mercator::tile_intersects(z, x, y, tiles.bounds) {
            return Ok((StatusCode::NO_CONTENT, out).into_response());
        }
        return Err(ApiError::not_found(format!(
            "tile {z}/{x}/{y} is outside the bounds of layer {layer:?}"
        )));
    };
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let gzip = accepts_gzip(&headers);
    // The archive's hash names the content of every tile in it; the encoding is part of a
    // representation, so each gets its own tag.
    let sha = tiles.sha256.get(..16).unwrap_or(&tiles.sha256);
    let etag = format!("\"{sha}-{z}-{x}-{y}{}\"", if gzip { "-gz" } else { "" });
    let opaque = &etag[1..etag.len() - 1];
    if if_none_match(&headers, opaque) == Some(true) {
        out.insert(
            header::ETAG,
            HeaderValue::from_str(&etag)
                .map_err(|e| ApiError::internal(format!("ETag {etag}: {e}")))?,
        );
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    out.insert(
        header::ETAG,
        HeaderValue::try_from(etag).map_err(|e| ApiError::internal(format!("ETag: {e}")))?,
    );
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MVT_MEDIA_TYPE),
    );
    let body = if gzip {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        data
    } else {
        reader
            .get_tile_decompressed(coord)
            .await
            .map_err(|e| ApiError::internal(format!("layer {layer}, tile {z}/{x}/{y}: {e}")))?
            .unwrap_or_default()
    };
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method == Method::HEAD {
        return Ok((StatusCode::OK, out).into_response());
    }
    Ok((StatusCode::OK, out, Body::from(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accept_encoding() {
        assert!(accepts_gzip(&accept("gzip, deflate, br")));
        assert!(accepts_gzip(&accept("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&accept("*")));
        assert!(!accepts_gzip(&accept("gzip;q=0")));
        assert!(!accepts_gzip(&accept("*, gzip;q=0")));
        assert!(!accepts_gzip(&accept("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn tile_paths() {
        let c = parse_tile("14", "8673", "5967.mvt").unwrap();
        assert_eq!((c.z(), c.x(), c.y()), (14, 8673, 5967));
        assert!(parse_tile("14", "8673", "5967").is_none());
        assert!(parse_tile("14", "8673", "5967.pbf").is_none());
        assert!(parse_tile("1", "2", "0.mvt").is_none());
        assert!(parse_tile("-1", "0", "0.mvt").is_none());
        assert!(parse_tile("40", "0", "0.mvt").is_none());
        assert!(parse_tile("1", "+1", "0.mvt").is_none());
    }
}
