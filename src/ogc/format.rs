//! Content negotiation: `?f=json|html` wins; otherwise the `Accept` header's preferred
//! type among HTML and JSON (by `q`, HTML on a tie so browsers get pages); otherwise JSON,
//! which is what GIS clients and scripts expect.

use super::error::OgcError;

/// The representation to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON: GeoJSON for features, OpenAPI for `/api`, JSON Schema for queryables.
    Json,
    Html,
}

impl Format {
    /// Chooses from the `f` parameter and the `Accept` header.
    pub fn negotiate(f: Option<&str>, accept: Option<&str>) -> Result<Format, OgcError> {
        if let Some(f) = f {
            return match f.to_ascii_lowercase().as_str() {
                "json" | "geojson" | "application/json" | "application/geo+json" => {
                    Ok(Format::Json)
                }
                "html" | "text/html" => Ok(Format::Html),
                _ => Err(OgcError::param("f", format!("{f:?} is not json or html"))),
            };
        }
        let Some(accept) = accept else {
            return Ok(Format::Json);
        };
        let mut best: Option<(f32, Format)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let format = match media.as_str() {
                "text/html" | "application/xhtml+xml" => Format::Html,
                "application/json"
                | "application/geo+json"
                | "application/schema+json"
                | "application/vnd.oai.openapi+json"
                | "application/*"
                | "*/*" => Format::Json,
                _ => continue,
            };
            let better = match best {
                None => true,
                Some((bq, bf)) => {
                    q > bq
                        || (q == bq
                            && format == Format::Html
                            && bf != Format::Html
                            && media != "*/*")
                }
            };
            if q > 0.0 && better {
                best = Some((q, format));
            }
        }
        Ok(best.map_or(Format::Json, |(_, f)| f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f_wins_over_accept() {
        assert_eq!(
            Format::negotiate(Some("json"), Some("text/html")).unwrap(),
            Format::Json
        );
        assert_eq!(Format::negotiate(Some("html"), None).unwrap(), Format::Html);
        assert_eq!(
            Format::negotiate(Some("xml"), None).unwrap_err().status(),
            400
        );
    }

    #[test]
    fn accept_header() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(
            Format::negotiate(None, Some(firefox)).unwrap(),
            Format::Html
        );
        assert_eq!(Format::negotiate(None, Some("*/*")).unwrap(), Format::Json);
        assert_eq!(
            Format::negotiate(None, Some("application/geo+json, text/html;q=0.5")).unwrap(),
            Format::Json
        );
        assert_eq!(
            Format::negotiate(None, Some("image/png")).unwrap(),
            Format::Json
        );
        assert_eq!(Format::negotiate(None, None).unwrap(), Format::Json);
    }
}
