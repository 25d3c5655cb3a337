//! The dataset page `GET /datasets/{id}` and the build-time chart, through the in-process
//! router over a site built by `build::build` from three recipes: the demo canteen table
//! (`tests/fixtures/dataset_page/`, a text month column and integer measures, demo data),
//! a point layer and a table whose title and description are hostile markup.
//!
//! Oracles: the downloads' SHA-256 are computed here from the files on disk; the preview
//! is compared with the built CSV read here with the csv crate; the chart's monthly sums
//! were computed by pandas over the fixture CSV (`groupby("MESE").PASTI_EROGATI.sum()`
//! over the 300 rows the recipe's rules keep, the 4 malformed rows dropped by hand from
//! their documented defects); labels (licence, frequency) come from the AgID and EU
//! vocabularies' published texts; the JSON-LD is parsed with serde_json.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use portale::model::Manifest;
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

/// `common::CATALOG`'s base URL.
const BASE: &str = "http://127.0.0.1:8080";
const PASTI: &str = "pasti-mense-scolastiche";
const HOSTILE_TITLE: &str = r#"Pericolo </script><script>alert(1)</script> & "virgolette" <b>"#;

const LAYER_RECIPE: &str = r#"[dataset]
title = "Fermate dello scuolabus"
description = "Le fermate del trasporto scolastico"
themes = ["TRAN"]
keywords = ["fermate"]
frequency = "ANNUAL"

[source]
files = ["fermate.csv"]

[geometry]
lon = "LON"
lat = "LAT"
"#;

fn hostile_recipe() -> String {
    format!(
        r#"[dataset]
title = {title:?}
description = "<img src=x onerror=alert(2)> descrizione"
themes = ["GOVE"]
keywords = ["<i>parola</i>"]
frequency = "IRREG"

[source]
files = ["t.csv"]
"#,
        title = HOSTILE_TITLE
    )
}

struct Site {
    _dir: tempfile::TempDir,
    site: PathBuf,
    generation: PathBuf,
    manifest: Manifest,
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The site, built once for every test.
fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("catalog")).unwrap();
        fs::write(root.join("catalog/catalog.toml"), common::CATALOG).unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dataset_page").join(PASTI),
            &root.join("datasets").join(PASTI),
        );
        let layer = root.join("datasets/fermate");
        fs::create_dir_all(&layer).unwrap();
        fs::write(layer.join("dataset.toml"), LAYER_RECIPE).unwrap();
        fs::write(
            layer.join("fermate.csv"),
            "NOME,LON,LAT\nLammari,10.5651,43.8712\nSegromigno,10.5903,43.8825\nMarlia,10.5510,43.8760\n",
        )
        .unwrap();
        let hostile = root.join("datasets/ostile");
        fs::create_dir_all(&hostile).unwrap();
        fs::write(hostile.join("dataset.toml"), hostile_recipe()).unwrap();
        fs::write(hostile.join("t.csv"), "A,B\n</td><script>x</script>,2\n").unwrap();

        let site = root.join("site");
        let layout = SiteLayout::new(&site);
        let cfg = portale::config::load_site(root).unwrap();
        let opts = BuildOptions {
            jobs: 1,
            keep_going: false,
        };
        build::build(&cfg, &layout, &opts, &Silent).unwrap();
        let name = layout.current_generation().unwrap().unwrap();
        let generation = layout.generation_dir(&name);
        let manifest: Manifest =
            serde_json::from_slice(&fs::read(generation.join("manifest.json")).unwrap()).unwrap();
        Site {
            _dir: dir,
            site,
            generation,
            manifest,
        }
    })
}

fn router() -> Router {
    app(AppState::open(&site().site).unwrap())
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

async fn get_with(router: &Router, uri: &str, accept: Option<&str>) -> Reply {
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn page(router: &Router, uri: &str) -> Reply {
    let r = get_with(
        router,
        uri,
        Some("text/html,application/xhtml+xml,*/*;q=0.8"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    r
}

/// The text between `start` (after it) and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in the page"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{end:?} not after {start:?}"));
    &text[from..from + len]
}

/// Undoes the template's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

fn json_ld(html: &str) -> serde_json::Value {
    let script = between(html, "<script type=\"application/ld+json\">", "</script>");
    serde_json::from_str(script).unwrap()
}

#[tokio::test]
async fn table_page_shows_metadata_downloads_preview_and_chart() {
    let site = site();
    let router = router();
    let r = page(&router, &format!("/datasets/{PASTI}")).await;
    let html = &r.body;
    let d = site.manifest.dataset(PASTI).unwrap();

    assert!(html.contains("<html lang=\"it\">"));
    assert!(html.contains(
        "<h1 class=\"portale-break\">Pasti delle mense scolastiche per scuola e mese</h1>"
    ));
    // The demo notice.
    assert!(html.contains("Dati dimostrativi: questi dati sono stati generati per la demo"));
    // The licence's AgID label and URI; the EU label of MONTHLY in Italian.
    assert!(html.contains(
        "<a href=\"https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40\">Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)</a>"
    ));
    assert!(html.contains(
        "<th scope=\"row\">Frequenza di aggiornamento</th><td class=\"portale-break\">mensile</td>"
    ));
    assert!(html.contains("dal 1 settembre 2025 al 30 giugno 2026"));
    // The quality report: 304 rows read, 300 kept, 4 rejected.
    assert!(html.contains("<dt>Righe lette</dt><dd>304</dd>"), "{html}");
    assert!(html.contains("<dt>Righe pubblicate</dt><dd>300</dd>"));
    assert!(html.contains("<dt>Righe scartate</dt><dd>4</dd>"));
    assert!(html.contains("Punteggio di qualità dei metadati: "));

    // Every download is linked, with the SHA-256 of the file on disk, and answers.
    assert!(!d.distributions.is_empty());
    for x in &d.distributions {
        let bytes = fs::read(site.generation.join(&x.path)).unwrap();
        let sha = hex::encode(Sha256::digest(&bytes));
        let url = format!("{BASE}/datasets/{PASTI}/files/{}", x.file);
        assert!(html.contains(&format!("<a href=\"{url}\"")), "{url}");
        assert!(
            html.contains(&format!("<code class=\"portale-break\">{sha}</code>")),
            "{}",
            x.file
        );
        let got = get_with(&router, url.strip_prefix(BASE).unwrap(), None).await;
        assert_eq!(got.status, StatusCode::OK, "{url}");
    }

    // The preview: the CSV's header and first 50 records, in order.
    let csv_dist = d.distributions.iter().find(|x| x.format == "CSV").unwrap();
    let mut reader = csv::Reader::from_path(site.generation.join(&csv_dist.path)).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let expected: Vec<Vec<String>> = reader
        .records()
        .take(50)
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(expected.len(), 50, "the fixture has more than 50 rows");
    let table = between(html, "id=\"preview-table\">", "</table>");
    let shown_header: Vec<String> = between(table, "<thead><tr>", "</tr></thead>")
        .split("<th scope=\"col\">")
        .skip(1)
        .map(|c| unescape(c.trim_end_matches("</th>")))
        .collect();
    assert_eq!(shown_header, header);
    let rows: Vec<Vec<String>> = between(table, "<tbody>", "</tbody>")
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|c| unescape(&c[..c.find("</td>").unwrap()]))
                .collect()
        })
        .collect();
    assert_eq!(rows, expected);
    assert!(table.contains("<caption>Le prime 50 righe di"));

    // The chart: the SVG picture and its numbers, as pandas summed them.
    let svg = d
        .pictures
        .iter()
        .find(|p| p.media_type == "image/svg+xml")
        .unwrap();
    assert!(svg.alt.starts_with("Grafico a barre: Pasti erogati nel mese, somma per mese, da settembre 2025 a giugno 2026 (10 mesi); il valore più alto è 60.541 (marzo 2026)"), "{}", svg.alt);
    let img = format!(
        "<img src=\"{BASE}/datasets/{PASTI}/pictures/{}\" alt=\"",
        svg.file
    );
    assert!(html.contains(&img), "{img}");
    let served = get_with(
        &router,
        &format!("/datasets/{PASTI}/pictures/{}", svg.file),
        None,
    )
    .await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("content-type"), "image/svg+xml");
    assert!(
        served
            .body
            .contains("<title>Grafico a barre: Pasti erogati")
    );
    let pandas = [
        ("settembre 2025", "32.548"),
        ("ottobre 2025", "60.224"),
        ("novembre 2025", "51.608"),
        ("dicembre 2025", "38.369"),
        ("gennaio 2026", "45.586"),
        ("febbraio 2026", "52.071"),
        ("marzo 2026", "60.541"),
        ("aprile 2026", "43.964"),
        ("maggio 2026", "54.881"),
        ("giugno 2026", "25.133"),
    ];
    let numbers = between(
        html,
        "<summary>I numeri del grafico</summary>",
        "</details>",
    );
    let shown: Vec<(String, String)> = between(numbers, "<tbody>", "</tbody>")
        .split("<tr>")
        .skip(1)
        .map(|row| {
            (
                between(row, "<th scope=\"row\">", "</th>").to_string(),
                between(row, "<td class=\"text-end\">", "</td>").to_string(),
            )
        })
        .collect();
    let pandas: Vec<(String, String)> = pandas
        .iter()
        .map(|(m, v)| (m.to_string(), v.to_string()))
        .collect();
    assert_eq!(shown, pandas);
    // The bars in the SVG: one per month (rects filled with the bars' colour).
    let bars = served.body.matches("fill=\"#0066CC\"").count();
    assert_eq!(bars, 10, "{}", served.body);

    // No mini-map for a table; the snippets use the CSV's URL.
    assert!(!html.contains("id=\"minimap\""));
    assert!(!html.contains("minimap.js"));
    let csv_url = format!("{BASE}/datasets/{PASTI}/files/{}", csv_dist.file);
    assert!(
        html.contains(&format!("df = pd.read_csv(&#34;{csv_url}&#34;)")),
        "pandas"
    );
    assert!(
        html.contains(&format!("df &#60;- read.csv(&#34;{csv_url}&#34;)")),
        "R"
    );

    // Twins: links in the page and in Link headers.
    let links: Vec<&str> = r
        .headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    for (ext, media) in [
        ("json", "application/json"),
        ("ttl", "text/turtle"),
        ("rdf", "application/rdf+xml"),
        ("jsonld", "application/ld+json"),
    ] {
        let url = format!("{BASE}/datasets/{PASTI}.{ext}");
        let link = format!("<{url}>; rel=\"alternate\"; type=\"{media}\"");
        assert!(links.contains(&link.as_str()), "{link} not in {links:?}");
        assert!(
            html.contains(&format!("<a href=\"{url}\" type=\"{media}\">")),
            "{url}"
        );
        let twin = get_with(&router, url.strip_prefix(BASE).unwrap(), None).await;
        assert_eq!(twin.status, StatusCode::OK, "{url}");
    }
    assert!(html.contains(&format!(
        "<a href=\"{BASE}/api/3/action/package_show?id={PASTI}\""
    )));

    // schema.org JSON-LD.
    let ld = json_ld(html);
    assert_eq!(ld["@type"], "Dataset");
    assert_eq!(
        ld["name"],
        "Pasti delle mense scolastiche per scuola e mese"
    );
    assert_eq!(ld["url"], format!("{BASE}/datasets/{PASTI}"));
}

#[tokio::test]
async fn layer_page_has_a_minimap_and_gis_snippets() {
    let router = router();
    let html = page(&router, "/datasets/fermate").await.body;
    let d = site().manifest.dataset("fermate").unwrap();
    let tiles = d.tiles.as_ref().unwrap();
    let bounds = tiles
        .bounds
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(",");
    assert!(html.contains(&format!(
        "<div id=\"minimap\" class=\"portale-minimap\" data-style=\"{BASE}/styles/fermate.json\" data-bounds=\"{bounds}\""
    )), "{html}");
    assert!(html.contains(&format!(
        "<script type=\"module\" src=\"{BASE}/static/js/minimap.js?v="
    )));
    assert!(html.contains(&format!(
        "<link rel=\"stylesheet\" href=\"{BASE}/static/vendor/maplibre-gl/maplibre-gl.css?v="
    )));
    assert!(html.contains("<th scope=\"row\">Livello geografico</th><td class=\"portale-break\">3 punti (coordinate d&#39;origine: EPSG:4326)</td>"), "{html}");
    // The build made the layer's thumbnail: it stands in for the map without JavaScript.
    assert!(html.contains(&format!(
        "<img src=\"{BASE}/datasets/fermate/pictures/thumbnail.svg\""
    )));
    assert!(!html.contains("La mappa interattiva richiede JavaScript"));
    // The style the map loads, the script and MapLibre are served.
    for path in [
        "/styles/fermate.json",
        "/static/js/minimap.js",
        "/static/vendor/maplibre-gl/maplibre-gl.mjs",
        "/static/css/dataset.css",
    ] {
        assert_eq!(
            get_with(&router, path, None).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let geojson = d
        .distributions
        .iter()
        .find(|x| x.format == "GEOJSON")
        .unwrap();
    assert!(html.contains(&format!(
        "gdf = gpd.read_file(&#34;{BASE}/datasets/fermate/files/{}&#34;)",
        geojson.file
    )));
    assert!(html.contains("sf::st_read("));
    // Formats by their names, not the EU code BIN that GeoParquet and FlatGeobuf share.
    assert!(html.contains(
        "<td>GeoParquet <span class=\"text-muted\">(application/vnd.apache.parquet)</span></td>"
    ));
    assert!(html.contains("<td>FlatGeobuf <span class=\"text-muted\">"));
    assert!(html.contains(&format!("{BASE}/ogc\nfermate</code>")));
    assert!(html.contains(&format!("{BASE}/tiles/fermate/{{z}}/{{x}}/{{y}}.mvt")));
    // No month column: no chart.
    assert!(!html.contains("<h2 id=\"chart\">"));
    assert!(!html.contains("Dati dimostrativi"));
}

#[tokio::test]
async fn hostile_text_is_escaped_and_cannot_leave_the_json_ld() {
    let router = router();
    let html = page(&router, "/datasets/ostile").await.body;
    // Only the page's own scripts: the JSON-LD (no module script for a table).
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert_eq!(html.matches("</script>").count(), 1);
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("<i>parola</i>"));
    assert_eq!(
        unescape(between(&html, "<p class=\"lead\">", "</p>")),
        "<img src=x onerror=alert(2)> descrizione"
    );
    // The preview's cell holding markup.
    let cell = between(&html, "<tbody>\n<tr><td>", "</td>");
    assert_eq!(unescape(cell), "</td><script>x</script>");
    let ld = json_ld(&html);
    assert_eq!(ld["name"], HOSTILE_TITLE);
    let title = between(&html, "<h1 class=\"portale-break\">", "</h1>");
    assert_eq!(unescape(title), HOSTILE_TITLE);
}

#[tokio::test]
async fn english_page() {
    let router = router();
    let html = page(&router, &format!("/datasets/{PASTI}?lang=en"))
        .await
        .body;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(
        "<th scope=\"row\">Update frequency</th><td class=\"portale-break\">monthly</td>"
    ));
    assert!(html.contains("Creative Commons Attribution 4.0 International (CC BY 4.0)"));
    assert!(html.contains("<h2 id=\"downloads\">Download</h2>"));
    assert!(html.contains("Demo data: "));
    assert!(html.contains("<th scope=\"row\">March 2026</th><td class=\"text-end\">60,541</td>"));
    // The language switch leads back to the Italian page.
    assert!(html.contains(&format!(
        "<a href=\"{BASE}/datasets/{PASTI}\" hreflang=\"it\""
    )));
    let it = page(&router, &format!("/datasets/{PASTI}")).await.body;
    assert!(it.contains(&format!(
        "<a href=\"{BASE}/datasets/{PASTI}?lang=en\" hreflang=\"en\""
    )));
}

#[tokio::test]
async fn unknown_ids_are_a_404_page_for_browsers_and_json_for_others() {
    let router = router();
    let r = get_with(&router, "/datasets/nessuno", Some("text/html")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), "text/html; charset=utf-8");
    assert!(
        r.body
            .contains("nessun dataset ha l&#39;identificativo «nessuno»"),
        "{}",
        r.body
    );
    let r = get_with(&router, "/datasets/nessuno", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.header("content-type").starts_with("application/json"));
}

#[tokio::test]
async fn accept_chooses_the_page_or_a_twin() {
    let router = router();
    for (accept, target) in [
        ("text/turtle", Some("ttl")),
        ("application/rdf+xml", Some("rdf")),
        ("application/ld+json", Some("jsonld")),
        ("application/json", Some("json")),
        ("text/html", None),
        ("*/*", None),
    ] {
        let r = get_with(&router, "/datasets/fermate", Some(accept)).await;
        match target {
            Some(ext) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{accept}");
                assert_eq!(
                    r.header("location"),
                    format!("{BASE}/datasets/fermate.{ext}")
                );
            }
            None => {
                assert_eq!(r.status, StatusCode::OK, "{accept}");
                assert!(r.body.starts_with("<!DOCTYPE html>"));
            }
        }
        assert_eq!(r.header("vary"), "Accept", "{accept}");
    }
    let r = get_with(&router, "/datasets/fermate", None).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// The page with its CSS stays under 100 KB (MapLibre aside).
#[tokio::test]
async fn page_with_css_is_under_100_kb() {
    let router = router();
    for id in [PASTI, "fermate"] {
        let html = page(&router, &format!("/datasets/{id}")).await.body;
        let mut total = html.len();
        for css in [
            "/static/vendor/bootstrap-italia/bootstrap-italia.min.css",
            "/static/css/portale.css",
            "/static/css/dataset.css",
            "/static/js/minimap.js",
        ] {
            let r = get_with(&router, css, None).await;
            assert_eq!(r.status, StatusCode::OK, "{css}");
            total += r.body.len();
        }
        assert!(total <= 100 * 1024, "{id}: {total} bytes");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A layer's thumbnail stands in for the map for browsers without JavaScript, its text
/// alternative escaped.
#[tokio::test]
async fn a_thumbnail_stands_in_for_the_map_without_javascript() {
    let built = site();
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("site");
    copy_tree(&built.site, &copy);
    let generation = copy.join(built.generation.strip_prefix(&built.site).unwrap());
    // The build made a thumbnail; its text alternative is made hostile here.
    let mut manifest = built.manifest.clone();
    let d = manifest
        .datasets
        .iter_mut()
        .find(|d| d.id == "fermate")
        .unwrap();
    let thumb = d
        .pictures
        .iter_mut()
        .find(|p| p.kind == portale::model::PictureKind::Thumbnail)
        .unwrap();
    thumb.alt = "Mappa delle fermate <di prova>".into();
    fs::write(
        generation.join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    let router = app(AppState::open(&copy).unwrap());
    let html = page(&router, "/datasets/fermate").await.body;
    let minimap = between(&html, "<div id=\"minimap\"", "</div>");
    assert!(
        minimap.contains(&format!(
            "<img src=\"{BASE}/datasets/fermate/pictures/thumbnail.svg\" alt=\"Mappa delle fermate &#60;di prova&#62;\""
        )),
        "{minimap}"
    );
    assert!(!html.contains("La mappa interattiva richiede JavaScript"));
}
