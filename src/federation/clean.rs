//! Cleaning what remote catalogues say before it is stored: markup out of text, dates into
//! ISO 8601, only web URLs kept.
//!
//! Remote titles and descriptions are untrusted: CKAN notes carry HTML, some DCAT exports
//! embed `<p>` and entities, and a hostile portal can put `<script>` in a title. Portale
//! stores plain text: tags are removed (the content of `script` and `style` elements
//! with them), entities decoded, and the two repeated until nothing changes, so that
//! `&lt;script&gt;` cannot come back as a tag after decoding. The result may still hold
//! a lone `<` (as in "a < b"): every page must escape it, as it escapes everything.
//!
//! Pitfall: this is not an HTML parser, and does not need to be one: it never produces
//! markup, it only decides how much of the input text survives. A malformed tag without
//! a closing `>` is kept as text.

/// Plain text of `input`, and whether markup (tags or entities) was removed. `multiline`
/// keeps paragraph breaks (descriptions); otherwise all whitespace becomes single spaces.
pub fn plain_text(input: &str, multiline: bool) -> (String, bool) {
    let mut text = input.to_string();
    let mut changed = false;
    // Each round removes a layer of escaping; three rounds cover double-escaped entities.
    for _ in 0..4 {
        let (stripped, tags) = strip_tags(&text, multiline);
        let (decoded, entities) = decode_entities(&stripped);
        if !tags && !entities {
            break;
        }
        changed = true;
        text = decoded;
    }
    // Whatever is left after the rounds: a last strip, without decoding.
    let (stripped, tags) = strip_tags(&text, multiline);
    changed |= tags;
    (normalize_space(&stripped, multiline), changed)
}

/// Removes tags and comments; `script` and `style` elements lose their content too.
fn strip_tags(input: &str, multiline: bool) -> (String, bool) {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut changed = false;
    let mut i = 0;
    let mut copied_to = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let rest = &input[i..];
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after
                .find("-->")
                .map(|e| i + 4 + e + 3)
                .unwrap_or(bytes.len());
            out.push_str(&input[copied_to..i]);
            i = end;
            copied_to = end;
            changed = true;
            continue;
        }
        let Some(tag_end) = tag_end(bytes, i) else {
            i += 1;
            continue;
        };
        out.push_str(&input[copied_to..i]);
        changed = true;
        let name = tag_name(&input[i + 1..tag_end]);
        let closing = input[i + 1..].starts_with('/');
        let mut next = tag_end + 1;
        if !closing && (name == "script" || name == "style") {
            // Drop everything up to the matching end tag (or the end of the text).
            let lower = input[next..].to_ascii_lowercase();
            next = match lower.find(&format!("</{name}")) {
                Some(p) => {
                    let close_start = next + p;
                    tag_end_from(bytes, close_start).map_or(bytes.len(), |e| e + 1)
                }
                None => bytes.len(),
            };
        }
        if is_block(&name) {
            out.push(if multiline { '\n' } else { ' ' });
        }
        i = next;
        copied_to = next;
    }
    out.push_str(&input[copied_to.min(input.len())..]);
    (out, changed)
}

/// If a tag starts at `start` (`<` then a letter, `/` + letter, `!` or `?`), the index of
/// its closing `>`, skipping quoted attribute values.
fn tag_end(bytes: &[u8], start: usize) -> Option<usize> {
    let next = *bytes.get(start + 1)?;
    let looks_like_tag = next.is_ascii_alphabetic()
        || next == b'!'
        || next == b'?'
        || (next == b'/'
            && bytes
                .get(start + 2)
                .is_some_and(|b| b.is_ascii_alphabetic()));
    if !looks_like_tag {
        return None;
    }
    tag_end_from(bytes, start)
}

fn tag_end_from(bytes: &[u8], start: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (k, &b) in bytes.iter().enumerate().skip(start + 1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(k),
            None if b == b'<' => return None,
            None => {}
        }
    }
    None
}

fn tag_name(inside: &str) -> String {
    inside
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "br" | "p"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "tr"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "blockquote"
            | "pre"
            | "hr"
            | "section"
            | "article"
    )
}

/// Named entities common in Italian web text; numeric ones are decoded in general.
const ENTITIES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", " "),
    ("agrave", "à"),
    ("Agrave", "À"),
    ("egrave", "è"),
    ("Egrave", "È"),
    ("eacute", "é"),
    ("Eacute", "É"),
    ("igrave", "ì"),
    ("Igrave", "Ì"),
    ("ograve", "ò"),
    ("Ograve", "Ò"),
    ("ugrave", "ù"),
    ("Ugrave", "Ù"),
    ("rsquo", "’"),
    ("lsquo", "‘"),
    ("rdquo", "”"),
    ("ldquo", "“"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("ndash", "–"),
    ("mdash", "—"),
    ("hellip", "…"),
    ("euro", "€"),
    ("deg", "°"),
    ("copy", "©"),
];

fn decode_entities(input: &str) -> (String, bool) {
    if !input.contains('&') {
        return (input.to_string(), false);
    }
    let mut out = String::with_capacity(input.len());
    let mut changed = false;
    let mut rest = input;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[..semi];
            let value = if let Some(num) = name.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse::<u32>().ok(),
                };
                code.and_then(char::from_u32).map(String::from)
            } else {
                ENTITIES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            };
            value.map(|v| (v, semi))
        });
        match decoded {
            Some((value, semi)) => {
                out.push_str(&value);
                rest = &after[semi + 1..];
                changed = true;
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, changed)
}

/// Control characters out; single spaces; in multiline text at most one blank line.
fn normalize_space(input: &str, multiline: bool) -> String {
    if !multiline {
        return input
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let text = input.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines: Vec<String> = Vec::new();
    let mut blank = 0;
    for line in text.split('\n') {
        let line = line
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if line.is_empty() {
            blank += 1;
            if blank == 1 && !lines.is_empty() {
                lines.push(String::new());
            }
        } else {
            blank = 0;
            lines.push(line);
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

/// A date as stored: ISO 8601, and whether it had to be rewritten from a day-first form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanDate {
    pub value: String,
    pub rewritten: bool,
}

/// Reads the date forms catalogues really use: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, ISO date-
/// times with or without offset and fraction (a space instead of `T` is accepted), and the
/// Italian day-first `DD-MM-YYYY`, `DD/MM/YYYY` and `DD.MM.YYYY` (rewritten to ISO).
/// Anything else is an error naming what was expected.
pub fn date(raw: &str) -> Result<CleanDate, String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let t = raw.trim();
    let keep = |v: &str| {
        Ok(CleanDate {
            value: v.to_string(),
            rewritten: false,
        })
    };
    let is_digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if is_digits(t, 4) && t >= "1000" {
        return keep(t);
    }
    if t.len() == 7
        && is_digits(&t[..4], 4)
        && &t[4..5] == "-"
        && NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d").is_ok()
    {
        return keep(t);
    }
    if t.len() == 10 && NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok() {
        return keep(t);
    }
    if t.len() > 10 && t.is_char_boundary(10) {
        let iso = if t.as_bytes()[10] == b' ' {
            format!("{}T{}", &t[..10], &t[11..])
        } else {
            t.to_string()
        };
        if DateTime::parse_from_rfc3339(&iso).is_ok()
            || NaiveDateTime::parse_from_str(&iso, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            || NaiveDateTime::parse_from_str(&iso, "%Y-%m-%dT%H:%M").is_ok()
        {
            return Ok(CleanDate {
                rewritten: iso != t,
                value: iso,
            });
        }
    }
    for sep in ["-", "/", "."] {
        let parts: Vec<&str> = t.split(sep).collect();
        if let [d, m, y] = parts.as_slice()
            && (1..=2).contains(&d.len())
            && (1..=2).contains(&m.len())
            && is_digits(y, 4)
            && let Ok(date) = NaiveDate::parse_from_str(&format!("{y}-{m}-{d}"), "%Y-%m-%d")
        {
            return Ok(CleanDate {
                value: date.format("%Y-%m-%d").to_string(),
                rewritten: true,
            });
        }
    }
    Err(format!(
        "{raw:?} is not a date (expected ISO 8601 YYYY-MM-DD or a date-time, or DD/MM/YYYY)"
    ))
}

/// Keeps a URL only if it is an absolute http, https or ftp URL: a `javascript:` or
/// `data:` link from a remote catalogue must never reach a page as a link.
pub fn web_url(raw: &str) -> Option<String> {
    let t = raw.trim();
    let url = reqwest::Url::parse(t).ok()?;
    matches!(url.scheme(), "http" | "https" | "ftp").then(|| t.to_string())
}

/// The WGS84 bounding box `[min_lon, min_lat, max_lon, max_lat]` of a geometry written as
/// WKT (optionally after a `<crs-uri>` prefix, as GeoSPARQL's wktLiteral allows) or as
/// GeoJSON. `None` if it cannot be read or lies outside longitude/latitude ranges (a
/// projected CRS).
pub fn geometry_bbox(text: &str) -> Option<[f64; 4]> {
    use geo::BoundingRect;
    use wkt::TryFromWkt;
    let t = text.trim();
    let geometry: geo_types::Geometry<f64> = if t.starts_with('{') {
        let g: geojson::Geometry = t.parse().ok()?;
        geo_types::Geometry::try_from(g).ok()?
    } else {
        let t = match t.strip_prefix('<') {
            Some(rest) => {
                let crs_end = rest.find('>')?;
                let crs = &rest[..crs_end];
                let wgs84 = crs.ends_with("/CRS84") || crs.ends_with("/4326");
                if !wgs84 {
                    return None;
                }
                rest[crs_end + 1..].trim()
            }
            None => t,
        };
        geo_types::Geometry::try_from_wkt_str(t).ok()?
    };
    let r = geometry.bounding_rect()?;
    let b = [r.min().x, r.min().y, r.max().x, r.max().y];
    let in_range = (-180.0..=180.0).contains(&b[0])
        && (-180.0..=180.0).contains(&b[2])
        && (-90.0..=90.0).contains(&b[1])
        && (-90.0..=90.0).contains(&b[3]);
    in_range.then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_tags_are_removed() {
        let (t, changed) = plain_text("Scuole <script>alert('x')</script><b>2024</b>", false);
        assert_eq!(t, "Scuole 2024");
        assert!(changed);
        let (t, _) = plain_text("<SCRIPT type=\"a>b\">x</SCRIPT >ok", false);
        assert_eq!(t, "ok");
        let (t, _) = plain_text("a<script>never closed", false);
        assert_eq!(t, "a");
    }

    #[test]
    fn escaped_markup_does_not_come_back() {
        let (t, changed) = plain_text("Dati &lt;script&gt;alert(1)&lt;/script&gt; utili", false);
        assert!(!t.to_ascii_lowercase().contains("<script"), "{t}");
        assert_eq!(t, "Dati utili");
        assert!(changed);
        let (t, _) = plain_text("&amp;lt;img src=x onerror=alert(1)&amp;gt;fine", false);
        assert!(!t.contains("<img"), "{t}");
    }

    #[test]
    fn plain_text_is_untouched() {
        let (t, changed) = plain_text("Popolazione residente 2 < 3 & più", false);
        assert_eq!(t, "Popolazione residente 2 < 3 & più");
        assert!(!changed);
    }

    #[test]
    fn paragraphs_survive_in_descriptions() {
        let (t, changed) = plain_text(
            "<p>Primo&nbsp;paragrafo.</p><p>Secondo, con l&#39;apostrofo e l&egrave;.</p>",
            true,
        );
        assert_eq!(t, "Primo paragrafo.\n\nSecondo, con l'apostrofo e lè.");
        assert!(changed);
        let (t, _) = plain_text("riga uno\r\n\r\n\r\n\r\nriga  due\n", true);
        assert_eq!(t, "riga uno\n\nriga due");
    }

    #[test]
    fn dates() {
        let ok = |s: &str| date(s).unwrap();
        assert_eq!(ok("2025-02-10").value, "2025-02-10");
        assert_eq!(
            ok("2018-03-12T05:06:31.089662").value,
            "2018-03-12T05:06:31.089662"
        );
        assert_eq!(
            ok("2024-01-01T10:00:00+01:00").value,
            "2024-01-01T10:00:00+01:00"
        );
        assert_eq!(ok("2024-01-01 10:00:00").value, "2024-01-01T10:00:00");
        assert!(ok("2024-01-01 10:00:00").rewritten);
        assert_eq!(ok("04-08-2021").value, "2021-08-04");
        assert!(ok("04-08-2021").rewritten);
        assert_eq!(ok("4/8/2021").value, "2021-08-04");
        assert_eq!(ok("2021").value, "2021");
        assert_eq!(ok("2021-07").value, "2021-07");
        assert!(date("2021-13-01").is_err());
        assert!(date("31/02/2021").is_err());
        assert!(date("ieri").is_err());
        assert!(date("").is_err());
        assert!(date("2021-02-30T10:00:00").is_err());
    }

    #[test]
    fn geometries() {
        assert_eq!(
            geometry_bbox("POLYGON((10.4 43.7,10.7 43.7,10.7 43.9,10.4 43.9,10.4 43.7))"),
            Some([10.4, 43.7, 10.7, 43.9])
        );
        assert_eq!(
            geometry_bbox("<http://www.opengis.net/def/crs/OGC/1.3/CRS84> POINT(10.5 43.8)"),
            Some([10.5, 43.8, 10.5, 43.8])
        );
        assert_eq!(
            geometry_bbox(r#"{"type":"Point","coordinates":[10.5,43.8]}"#),
            Some([10.5, 43.8, 10.5, 43.8])
        );
        assert_eq!(geometry_bbox("POINT(1620000 4850000)"), None);
        assert_eq!(geometry_bbox("not a geometry"), None);
    }

    #[test]
    fn only_web_urls() {
        assert!(web_url("https://dati.toscana.it/dataset/x").is_some());
        assert!(web_url("javascript:alert(1)").is_none());
        assert!(web_url("data:text/html,<b>x</b>").is_none());
        assert!(web_url("/relative").is_none());
    }
}
