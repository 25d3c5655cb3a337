//! Server-rendered HTML for every OGC API resource: plain pages, Italian first, no
//! JavaScript, built from the same JSON document the machine twin sends (so both always
//! say the same thing). Every text from data goes through [`escape`].

use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::model::Field;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => escape(s),
        Json::Null => "<span class=\"null\">—</span>".to_string(),
        other => escape(&other.to_string()),
    }
}

fn str_of<'a>(doc: &'a Json, key: &str) -> &'a str {
    doc.get(key).and_then(Json::as_str).unwrap_or("")
}

fn links(doc: &Json) -> &[Json] {
    doc.get("links")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn link_href<'a>(doc: &'a Json, rel: &str, media_prefix: &str) -> Option<&'a str> {
    links(doc)
        .iter()
        .find(|l| {
            l["rel"].as_str() == Some(rel)
                && l["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(media_prefix))
        })
        .and_then(|l| l["href"].as_str())
}

/// The page around `body`. `crumbs` are (label, href) from the API root; the last one is
/// the page itself.
fn page(title: &str, crumbs: &[(&str, String)], doc: &Json, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 2048);
    out.push_str("<!doctype html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    if let Some(alt) = links(doc).iter().find(|l| {
        l["rel"] == "alternate"
            && l["type"]
                .as_str()
                .is_some_and(|t| !t.starts_with("text/html"))
    }) {
        let _ = writeln!(
            out,
            "<link rel=\"alternate\" type=\"{}\" href=\"{}\">",
            escape(alt["type"].as_str().unwrap_or("")),
            escape(alt["href"].as_str().unwrap_or(""))
        );
    }
    out.push_str(
        "<style>body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;\
line-height:1.45;color:#1b1b1b}table{border-collapse:collapse;width:100%;font-size:.9rem}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f0f3f7}nav ol{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}\
nav li+li:before{content:\"›\";margin-right:.4rem}.null{color:#888}code{word-break:break-all}\
.formats a{margin-right:.8rem}</style>\n</head>\n<body>\n",
    );
    out.push_str("<nav aria-label=\"Percorso\"><ol>");
    for (i, (label, href)) in crumbs.iter().enumerate() {
        if i + 1 == crumbs.len() {
            let _ = write!(out, "<li aria-current=\"page\">{}</li>", escape(label));
        } else {
            let _ = write!(
                out,
                "<li><a href=\"{}\">{}</a></li>",
                escape(href),
                escape(label)
            );
        }
    }
    out.push_str("</ol></nav>\n<main>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    out.push_str(body);
    out.push_str("\n<p class=\"formats\">Altri formati: ");
    for l in links(doc) {
        if l["rel"] == "alternate" {
            let _ = write!(
                out,
                "<a href=\"{}\" type=\"{}\">{}</a>",
                escape(l["href"].as_str().unwrap_or("")),
                escape(l["type"].as_str().unwrap_or("")),
                escape(l["type"].as_str().unwrap_or(""))
            );
        }
    }
    out.push_str(
        "</p>\n</main>\n<footer><p>OGC API – Features · Portale</p></footer>\n</body>\n</html>\n",
    );
    out
}

/// The API root, taken from any link of the document that points under `/ogc`.
fn root_of(doc: &Json) -> String {
    links(doc)
        .iter()
        .filter_map(|l| l["href"].as_str())
        .find_map(|h| h.find("/ogc").map(|i| h[..i + 4].to_string()))
        .unwrap_or_else(|| "/ogc".to_string())
}

fn crumbs_to(doc: &Json, extra: &[(&str, String)]) -> Vec<(String, String)> {
    let root = root_of(doc);
    let mut v = vec![("OGC API".to_string(), format!("{root}?f=html"))];
    for (label, path) in extra {
        v.push((label.to_string(), format!("{root}{path}?f=html")));
    }
    v
}

fn render(title: &str, crumbs: Vec<(String, String)>, doc: &Json, body: &str) -> String {
    let c: Vec<(&str, String)> = crumbs
        .iter()
        .map(|(a, b)| (a.as_str(), b.clone()))
        .collect();
    page(title, &c, doc, body)
}

fn link_list(doc: &Json) -> String {
    let mut out = String::from("<ul>\n");
    for l in links(doc) {
        let rel = l["rel"].as_str().unwrap_or("");
        if rel == "self" || rel == "alternate" {
            continue;
        }
        let href = l["href"].as_str().unwrap_or("");
        let label = l["title"].as_str().unwrap_or(href);
        let _ = writeln!(
            out,
            "<li><a href=\"{}\">{}</a> <small>({}, {})</small></li>",
            escape(href),
            escape(label),
            escape(rel),
            escape(l["type"].as_str().unwrap_or(""))
        );
    }
    out.push_str("</ul>");
    out
}

pub fn landing(doc: &Json) -> String {
    let mut body = format!("<p>{}</p>\n", escape(str_of(doc, "description")));
    body.push_str("<p>Questo servizio pubblica gli strati geografici del catalogo secondo lo standard OGC API – Features (parti 1, 2 e 3): ogni strato è una raccolta di oggetti interrogabili per riquadro, data, proprietà e filtri CQL2, in GeoJSON o in HTML, nei sistemi di riferimento usati in Italia.</p>\n");
    body.push_str(&link_list(doc));
    render(str_of(doc, "title"), crumbs_to(doc, &[]), doc, &body)
}

pub fn conformance(doc: &Json) -> String {
    let mut body = String::from(
        "<p>Le classi di conformità che il servizio implementa (conformance classes):</p>\n<ul>\n",
    );
    for c in doc["conformsTo"].as_array().into_iter().flatten() {
        let _ = writeln!(body, "<li><code>{}</code></li>", text(c));
    }
    body.push_str("</ul>");
    render(
        "Conformità",
        crumbs_to(doc, &[("Conformità", "/conformance".into())]),
        doc,
        &body,
    )
}

pub fn api(doc: &Json) -> String {
    let mut body = format!(
        "<p>{}</p>\n<p>La definizione completa è il documento OpenAPI 3.0 (<code>?f=json</code>). Percorsi e parametri:</p>\n",
        escape(doc["info"]["description"].as_str().unwrap_or(""))
    );
    let server = doc["servers"][0]["url"].as_str().unwrap_or("");
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let op = &item["get"];
        let _ = writeln!(
            body,
            "<h2><code>GET {}{}</code></h2>\n<p>{}</p>",
            escape(server),
            escape(path),
            text(&op["summary"])
        );
        let params = op["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if !params.is_empty() {
            body.push_str("<table><thead><tr><th>parametro</th><th>dove</th><th>tipo</th><th>descrizione</th></tr></thead><tbody>\n");
            for p in params {
                let _ = writeln!(
                    body,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    text(&p["name"]),
                    text(&p["in"]),
                    text(&p["schema"]["type"]),
                    text(&p["description"])
                );
            }
            body.push_str("</tbody></table>\n");
        }
    }
    // /api has no `links`: the breadcrumb root comes from the server URL.
    let crumbs = vec![
        ("OGC API".to_string(), format!("{server}?f=html")),
        ("API".to_string(), format!("{server}/api?f=html")),
    ];
    let alt = serde_json::json!({"links": [{"rel": "alternate", "type": "application/vnd.oai.openapi+json;version=3.0", "href": format!("{server}/api?f=json")}]});
    render(
        doc["info"]["title"].as_str().unwrap_or("API"),
        crumbs,
        &alt,
        &body,
    )
}

fn collection_summary(c: &Json, heading: &str) -> String {
    let mut out = String::new();
    let id = str_of(c, "id");
    let items = link_href(c, "items", "text/html").unwrap_or("");
    let _ = writeln!(
        out,
        "<{heading}><a href=\"{}\">{}</a></{heading}>\n<p>{}</p>",
        escape(items),
        escape(str_of(c, "title")),
        escape(str_of(c, "description"))
    );
    out.push_str("<table><tbody>\n");
    let _ = writeln!(
        out,
        "<tr><th>identificativo</th><td><code>{}</code></td></tr>",
        escape(id)
    );
    if let Some(t) = c.get("x-portale-geometry-type") {
        let _ = writeln!(out, "<tr><th>geometria</th><td>{}</td></tr>", text(t));
    }
    if let Some(n) = c.get("x-portale-features") {
        let _ = writeln!(out, "<tr><th>oggetti</th><td>{}</td></tr>", text(n));
    }
    if let Some(b) = c["extent"]["spatial"]["bbox"][0].as_array() {
        let nums: Vec<String> = b.iter().map(|v| v.to_string()).collect();
        let _ = writeln!(
            out,
            "<tr><th>estensione (CRS84)</th><td>{}</td></tr>",
            escape(&nums.join(", "))
        );
    }
    if let Some(i) = c["extent"]["temporal"]["interval"][0].as_array() {
        let a = i.first().map(text).unwrap_or_default();
        let b = i.get(1).map(text).unwrap_or_default();
        let _ = writeln!(out, "<tr><th>periodo</th><td>{a} – {b}</td></tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

pub fn collections(doc: &Json) -> String {
    let mut body = String::from("<p>Gli strati geografici pubblicati (collections).</p>\n");
    for c in doc["collections"].as_array().into_iter().flatten() {
        body.push_str(&collection_summary(c, "h2"));
    }
    render(
        "Raccolte",
        crumbs_to(doc, &[("Raccolte", "/collections".into())]),
        doc,
        &body,
    )
}

pub fn collection(doc: &Json) -> String {
    let id = str_of(doc, "id");
    let mut body = collection_summary(doc, "h2");
    body.push_str("<h2>Collegamenti</h2>\n");
    body.push_str(&link_list(doc));
    body.push_str("<h2>Sistemi di riferimento (crs)</h2>\n<ul>\n");
    for c in doc["crs"].as_array().into_iter().flatten() {
        let _ = writeln!(body, "<li><code>{}</code></li>", text(c));
    }
    body.push_str("</ul>");
    render(
        str_of(doc, "title"),
        crumbs_to(
            doc,
            &[
                ("Raccolte", "/collections".into()),
                (id, format!("/collections/{id}")),
            ],
        ),
        doc,
        &body,
    )
}

pub fn queryables(doc: &Json) -> String {
    let mut body = String::from(
        "<p>Le proprietà usabili nei filtri (<code>filter</code>, CQL2) e come parametri <code>nome=valore</code> della richiesta degli oggetti.</p>\n<table><thead><tr><th>proprietà</th><th>tipo</th><th>descrizione</th></tr></thead><tbody>\n",
    );
    for (name, schema) in doc["properties"].as_object().into_iter().flatten() {
        let kind = schema
            .get("format")
            .or_else(|| schema.get("type"))
            .map(text)
            .unwrap_or_default();
        let _ = writeln!(
            body,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(name),
            kind,
            schema.get("description").map(text).unwrap_or_default()
        );
    }
    body.push_str("</tbody></table>");
    let id = doc["$id"]
        .as_str()
        .and_then(|s| s.rsplit('/').nth(1))
        .unwrap_or("")
        .to_string();
    let alt = serde_json::json!({"links": [{"rel": "alternate", "type": "application/schema+json", "href": format!("{}?f=json", str_of(doc, "$id"))}]});
    let root = str_of(doc, "$id")
        .find("/ogc")
        .map(|i| str_of(doc, "$id")[..i + 4].to_string())
        .unwrap_or_default();
    let crumbs = vec![
        ("OGC API".to_string(), format!("{root}?f=html")),
        ("Raccolte".to_string(), format!("{root}/collections?f=html")),
        (id.clone(), format!("{root}/collections/{id}?f=html")),
        ("Proprietà interrogabili".to_string(), String::new()),
    ];
    render(
        &format!("Proprietà interrogabili: {}", str_of(doc, "title")),
        crumbs,
        &alt,
        &body,
    )
}

fn geometry_summary(g: &Json) -> String {
    let kind = g["type"].as_str().unwrap_or("");
    if kind == "Point" {
        let c = &g["coordinates"];
        return format!("Point ({}, {})", c[0], c[1]);
    }
    escape(kind)
}

pub fn items(doc: &Json, id: &str, title: &str, fields: &[Field]) -> String {
    let matched = doc["numberMatched"].as_u64().unwrap_or(0);
    let returned = doc["numberReturned"].as_u64().unwrap_or(0);
    let mut body = format!("<p>{returned} oggetti in questa pagina, {matched} in tutto.</p>\n<p>");
    for (rel, label) in [
        ("prev", "« Pagina precedente"),
        ("next", "Pagina successiva »"),
    ] {
        if let Some(h) = link_href(doc, rel, "text/html") {
            let _ = write!(body, "<a rel=\"{rel}\" href=\"{}\">{label}</a> ", escape(h));
        }
    }
    body.push_str("</p>\n<table><thead><tr><th>id</th><th>geometria</th>");
    for f in fields {
        let _ = write!(body, "<th>{}</th>", escape(&f.name));
    }
    body.push_str("</tr></thead><tbody>\n");
    let root = root_of(doc);
    for feature in doc["features"].as_array().into_iter().flatten() {
        let fid = &feature["id"];
        let _ = write!(
            body,
            "<tr><td><a href=\"{}/collections/{}/items/{}?f=html\">{}</a></td><td>{}</td>",
            escape(&root),
            escape(id),
            fid,
            fid,
            geometry_summary(&feature["geometry"])
        );
        for f in fields {
            let _ = write!(body, "<td>{}</td>", text(&feature["properties"][&f.name]));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody></table>");
    render(
        &format!("Oggetti: {title}"),
        crumbs_to(
            doc,
            &[
                ("Raccolte", "/collections".into()),
                (id, format!("/collections/{id}")),
                ("Oggetti", format!("/collections/{id}/items")),
            ],
        ),
        doc,
        &body,
    )
}

pub fn item(doc: &Json, id: &str, title: &str, fields: &[Field]) -> String {
    let fid = doc["id"].to_string();
    let mut body = String::from("<table><tbody>\n");
    let _ = writeln!(body, "<tr><th>id</th><td>{}</td></tr>", escape(&fid));
    let _ = writeln!(
        body,
        "<tr><th>geometria</th><td>{}</td></tr>",
        geometry_summary(&doc["geometry"])
    );
    for f in fields {
        let _ = writeln!(
            body,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(&f.name),
            text(&doc["properties"][&f.name])
        );
    }
    body.push_str("</tbody></table>");
    render(
        &format!("{title} — oggetto {fid}"),
        crumbs_to(
            doc,
            &[
                ("Raccolte", "/collections".into()),
                (id, format!("/collections/{id}")),
                ("Oggetti", format!("/collections/{id}/items")),
                (&fid, format!("/collections/{id}/items/{fid}")),
            ],
        ),
        doc,
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn data_cannot_inject_markup() {
        let doc = serde_json::json!({
            "title": "<script>alert(1)</script>",
            "description": "a & b",
            "links": [{"rel": "data", "href": "https://x/ogc/collections\"><script>", "type": "application/json"}]
        });
        let html = landing(&doc);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a &amp; b"));
    }
}
