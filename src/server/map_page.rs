//! The map explorer: `GET /map` (the page) and `GET /map/style.json` (its MapLibre style).
//!
//! The page is rendered on the server: the layers grouped by theme (a dataset under its
//! first theme), each with a labelled checkbox (`data-layer="{id}"`), its legend swatch
//! (the colour it is drawn with) and geometry type, and a link to its dataset page. That
//! list is the map's text alternative and works without JavaScript; `static/js/map.js`
//! turns the `#map` element into a MapLibre map (vendored, no CDN), wires the checkboxes,
//! the popups with the clicked feature's attributes, the "zoom to the municipality"
//! button, the permalink in the URL hash (`#map=zoom/lat/lon&layers=a,b`, restored on
//! load) and the "search the data in this area" link (`/datasets?bbox=w,s,e,n`).
//!
//! The style ([`map_style`]) names only this server's URLs: the basemap is drawn from the
//! catalogue's own boundary layers (the polygon layers of theme `REGI`, [`basemap_layers`]),
//! so the map works offline. It has no text labels, hence no glyphs or sprites to fetch.
//! When `catalog.toml` sets `[map] basemap_style`, the style leaves its basemap out and
//! names that URL in `metadata["portale:basemap"]`; the script then loads that style and
//! draws our layers over it.
//!
//! `/map?bbox=w,s,e,n` opens the map on that area (the search page links to it); otherwise
//! it opens on the territory ([`home_bounds`]). A hash in the URL wins over both.
//!
//! Pitfalls: the tile URLs in the style are absolute (from the public base URL), as
//! MapLibre requires; a layer's colour depends on its position in the manifest's sorted
//! list, so it is stable across requests but may change when layers are added.

use askama::Template;
use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Current;
use super::pages::{ErrorPage, Frame, Section, Texts, html, lang_pairs, texts_of};
use super::search::{parse_bbox, with_query as link};
use super::state::Generation;
use crate::model::{Dataset, GeometryType, Manifest};

/// Colours of the layers, in turn: each at least 3:1 against the basemap's land and
/// the background (WCAG 2.1 1.4.11, non-text contrast), and told apart by hue.
pub const PALETTE: &[&str] = &[
    "#0066cc", "#c0392b", "#00796b", "#7b1fa2", "#b35900", "#2e7d32", "#ad1457", "#37474f",
    "#1565c0", "#6d4c41",
];

/// The basemap's colours: the void around the boundaries, the land inside them, the
/// boundaries and the municipality's own boundary.
const VOID: &str = "#dde5ec";
const LAND: &str = "#fbfaf6";
const BORDER: &str = "#a3a39a";
const MUNICIPALITY: &str = "#4d4d4d";

/// Italy, when a catalogue has neither a territory nor a layer.
const ITALY: [f64; 4] = [6.6, 36.6, 18.5, 47.1];

/// The map page's own texts.
pub struct MapTexts {
    /// English texts (numbers written `12,345`).
    pub en: bool,
    pub title: &'static str,
    pub intro: &'static str,
    pub layers: &'static str,
    pub map_label: &'static str,
    pub no_script: &'static str,
    pub zoom_home: &'static str,
    pub search_area: &'static str,
    pub dataset_page: &'static str,
    pub no_layers: &'static str,
    pub other_theme: &'static str,
    /// Geometry kinds, singular and plural.
    pub points: (&'static str, &'static str),
    pub lines: (&'static str, &'static str),
    pub areas: (&'static str, &'static str),
    pub mixed: (&'static str, &'static str),
    pub popup_link: &'static str,
    pub close: &'static str,
    /// Home page: the teaser's link text.
    pub explore: &'static str,
    /// Search page: the area filter's label, its removal and its map link.
    pub area: &'static str,
    pub remove_area: &'static str,
    pub area_on_map: &'static str,
    /// Search page: the link to the map when no area is chosen.
    pub pick_area: &'static str,
}

pub const MAP_ITALIAN: MapTexts = MapTexts {
    en: false,
    title: "Mappa dei dati",
    intro: "Attiva e disattiva i livelli dall'elenco; fai clic su un elemento della mappa per vederne gli attributi. L'elenco dei livelli porta alle schede dei dataset, con i dati da scaricare.",
    layers: "Livelli",
    map_label: "Mappa interattiva dei livelli. Un'alternativa testuale è l'elenco dei livelli, con i collegamenti alle schede dei dataset.",
    no_script: "La mappa interattiva richiede JavaScript. L'elenco dei livelli e le schede dei dataset funzionano anche senza.",
    zoom_home: "Inquadra il territorio comunale",
    search_area: "Cerca i dati in quest'area",
    dataset_page: "scheda del dataset",
    no_layers: "Il catalogo non ha ancora livelli cartografici.",
    other_theme: "Altri dati",
    points: ("punto", "punti"),
    lines: ("linea", "linee"),
    areas: ("area", "aree"),
    mixed: ("elemento", "elementi"),
    popup_link: "Scheda del dataset",
    close: "Chiudi",
    explore: "Esplora la mappa dei dati",
    area: "Area della mappa (ovest, sud – est, nord)",
    remove_area: "Togli il filtro dell'area",
    area_on_map: "Vedi l'area sulla mappa",
    pick_area: "Cerca i dati in un'area della mappa",
};

pub const MAP_ENGLISH: MapTexts = MapTexts {
    en: true,
    title: "Data map",
    intro: "Turn the layers on and off in the list; click a feature on the map to see its attributes. The list of layers leads to the datasets' pages, with the data to download.",
    layers: "Layers",
    map_label: "Interactive map of the layers. A text alternative is the list of layers, with links to the datasets' pages.",
    no_script: "The interactive map needs JavaScript. The list of layers and the dataset pages work without it.",
    zoom_home: "Zoom to the municipality",
    search_area: "Search the data in this area",
    dataset_page: "dataset page",
    no_layers: "The catalogue has no map layers yet.",
    other_theme: "Other data",
    points: ("point", "points"),
    lines: ("line", "lines"),
    areas: ("area", "areas"),
    mixed: ("feature", "features"),
    popup_link: "Dataset page",
    close: "Close",
    explore: "Explore the data map",
    area: "Map area (west, south – east, north)",
    remove_area: "Remove the area filter",
    area_on_map: "See the area on the map",
    pick_area: "Search the data in an area of the map",
};

impl MapTexts {
    pub fn of(t: &Texts) -> &'static MapTexts {
        if t.lang == "en" {
            &MAP_ENGLISH
        } else {
            &MAP_ITALIAN
        }
    }

    /// "57 punti", "1 area".
    fn count(&self, g: GeometryType, n: u64) -> String {
        let (one, many) = match g {
            GeometryType::Point | GeometryType::MultiPoint => self.points,
            GeometryType::LineString | GeometryType::MultiLineString => self.lines,
            GeometryType::Polygon | GeometryType::MultiPolygon => self.areas,
            GeometryType::Geometry => self.mixed,
        };
        format!(
            "{} {}",
            super::dataset_page::count(n, self.en),
            if n == 1 { one } else { many }
        )
    }
}

/// One layer in the list.
pub struct LayerView {
    pub id: String,
    pub title: String,
    pub url: String,
    pub colour: &'static str,
    /// How the legend draws its swatch: `point`, `line` or `area`.
    pub shape: &'static str,
    /// The number of features and their kind ("57 punti").
    pub count: String,
    pub checked: bool,
}

/// The layers of one theme.
pub struct ThemeGroup {
    pub code: String,
    pub label: String,
    pub layers: Vec<LayerView>,
}

#[derive(Template)]
#[template(path = "map.html")]
pub struct MapPage {
    pub t: &'static Texts,
    pub m: &'static MapTexts,
    pub frame: Frame,
    pub groups: Vec<ThemeGroup>,
    pub style_url: String,
    /// `w,s,e,n` the map opens on.
    pub bounds: String,
    /// `w,s,e,n` of the territory, for the "zoom to the municipality" button.
    pub home_bounds: String,
    /// `/datasets` (with `lang=en` on English pages): the script adds `bbox`.
    pub search_base: String,
    /// The search link for the area the map opens on (without JavaScript).
    pub search_area_url: String,
    pub lang_en: bool,
}

/// A layer's thumbnail picture, for the home page and the search results.
pub struct Thumb {
    pub title: String,
    /// The dataset page.
    pub url: String,
    /// The picture.
    pub image: String,
    /// Its text alternative (Italian, as made at build time).
    pub alt: String,
}

/// The thumbnail of a dataset, if it has one; `url` is the link it goes with.
pub fn thumbnail(generation: &Generation, d: &Dataset, url: String) -> Option<Thumb> {
    let p = d
        .pictures
        .iter()
        .find(|p| p.kind == crate::model::PictureKind::Thumbnail)?;
    Some(Thumb {
        title: d.meta.title.clone(),
        url,
        image: generation.urls().picture(&d.id, &p.file),
        alt: p.alt.clone(),
    })
}

/// The home page's map teaser: the municipality boundary's thumbnail (else the first
/// layer's) linking to the map, and up to `more` other layers' thumbnails linking to
/// their dataset pages.
pub fn home_teaser(generation: &Generation, t: &Texts, more: usize) -> (Option<Thumb>, Vec<Thumb>) {
    let manifest = generation.manifest();
    let urls = generation.urls();
    let pairs = lang_pairs(t);
    let map_url = link(&urls.absolute("/map"), &pairs);
    let all = layers(manifest);
    let main = municipality_layer(manifest)
        .filter(|d| thumbnail(generation, d, String::new()).is_some())
        .or_else(|| {
            all.iter()
                .copied()
                .find(|d| thumbnail(generation, d, String::new()).is_some())
        });
    let teaser = main.and_then(|d| thumbnail(generation, d, map_url));
    let basemap = basemap_layers(manifest);
    let others = all
        .iter()
        .filter(|d| Some(d.id.as_str()) != main.map(|m| m.id.as_str()))
        .filter(|d| shown_by_default(d, &basemap))
        .filter_map(|d| thumbnail(generation, d, link(&urls.dataset_page(&d.id), &pairs)))
        .take(more)
        .collect();
    (teaser, others)
}

/// The layers of the manifest: the datasets with tiles, sorted by id.
pub fn layers(manifest: &Manifest) -> Vec<&Dataset> {
    let mut out: Vec<&Dataset> = manifest
        .datasets
        .iter()
        .filter(|d| d.tiles.is_some())
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn is_polygon_layer(d: &Dataset) -> bool {
    matches!(
        d.layer.as_ref().map(|l| l.geometry_type),
        Some(GeometryType::Polygon | GeometryType::MultiPolygon)
    )
}

/// The layers the offline basemap is drawn from: the polygon layers of theme `REGI`
/// (administrative boundaries), the one with most features first (drawn underneath).
pub fn basemap_layers(manifest: &Manifest) -> Vec<&Dataset> {
    let mut out: Vec<&Dataset> = layers(manifest)
        .into_iter()
        .filter(|d| is_polygon_layer(d) && d.meta.themes.iter().any(|t| t == "REGI"))
        .collect();
    out.sort_by_key(|d| std::cmp::Reverse(d.layer.as_ref().map_or(0, |l| l.features)));
    out
}

/// The municipality's boundary among the basemap layers: the one with the fewest
/// features (the boundary of one municipality has one).
fn municipality_layer(manifest: &Manifest) -> Option<&Dataset> {
    basemap_layers(manifest).into_iter().next_back()
}

/// The area the map opens on and the "zoom to the municipality" button shows: the
/// catalogue's `territory_bbox`, else the municipality boundary layer's bounds, else the
/// union of the layers' bounds, else Italy.
pub fn home_bounds(manifest: &Manifest) -> [f64; 4] {
    if let Some(b) = manifest.catalog.territory_bbox {
        return b;
    }
    if let Some(tiles) = municipality_layer(manifest).and_then(|d| d.tiles.as_ref()) {
        return tiles.bounds;
    }
    layers(manifest)
        .iter()
        .filter_map(|d| d.tiles.as_ref().map(|t| t.bounds))
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
        .unwrap_or(ITALY)
}

/// `w,s,e,n` with 4 decimals (about 10 m), as the search's `bbox` takes it.
pub fn bbox_param(b: [f64; 4]) -> String {
    format!("{:.4},{:.4},{:.4},{:.4}", b[0], b[1], b[2], b[3])
}

/// The colour of the `index`-th layer.
pub fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// Whether a layer is shown when the URL does not say: every layer but those the
/// offline basemap already draws.
fn shown_by_default(d: &Dataset, basemap: &[&Dataset]) -> bool {
    !basemap.iter().any(|b| b.id == d.id)
}

/// The MapLibre style of the map explorer: the basemap (unless `basemap_style` is set)
/// and every layer, each style layer tagged with `metadata["portale:layer"]` = the
/// dataset id, shown or hidden as [`shown_by_default`] says.
pub fn map_style(generation: &Generation) -> Value {
    let manifest = generation.manifest();
    let urls = generation.urls();
    let all = layers(manifest);
    let basemap = basemap_layers(manifest);
    let external = manifest.catalog.basemap_style.clone();
    let mut sources = serde_json::Map::new();
    for d in &all {
        let Some(tiles) = &d.tiles else { continue };
        sources.insert(
            d.id.clone(),
            json!({
                "type": "vector",
                "tiles": [urls.tile_template(&d.id)],
                "minzoom": tiles.min_zoom,
                "maxzoom": tiles.max_zoom,
                "bounds": tiles.bounds,
                "attribution": crate::tiles::attribution(&d.meta),
            }),
        );
    }
    let mut style_layers = Vec::new();
    if external.is_none() {
        style_layers.push(json!({
            "id": "basemap-background",
            "type": "background",
            "paint": {"background-color": VOID},
            "metadata": {"portale:role": "basemap"},
        }));
        let municipality = municipality_layer(manifest).map(|d| d.id.clone());
        for d in &basemap {
            let Some(tiles) = &d.tiles else { continue };
            let own = municipality.as_deref() == Some(d.id.as_str());
            style_layers.push(json!({
                "id": format!("basemap-{}-fill", d.id),
                "type": "fill",
                "source": d.id,
                "source-layer": tiles.layer,
                "paint": {"fill-color": LAND},
                "metadata": {"portale:role": "basemap"},
            }));
            style_layers.push(json!({
                "id": format!("basemap-{}-line", d.id),
                "type": "line",
                "source": d.id,
                "source-layer": tiles.layer,
                "paint": {
                    "line-color": if own { MUNICIPALITY } else { BORDER },
                    "line-width": if own { json!(2.5) } else {
                        json!(["interpolate", ["linear"], ["zoom"], 6, 0.5, 14, 1.5])
                    },
                },
                "metadata": {"portale:role": "basemap"},
            }));
        }
    }
    let is = |types: [&str; 2]| json!(["match", ["geometry-type"], types, true, false]);
    // Areas under lines under points, whatever the layers' order: nothing is hidden
    // under a polygon's fill, and a stop stays visible on its route.
    let (mut areas, mut strokes, mut dots) = (Vec::new(), Vec::new(), Vec::new());
    for (i, d) in all.iter().enumerate() {
        let Some(tiles) = &d.tiles else { continue };
        let c = colour(i);
        let visibility = if shown_by_default(d, &basemap) {
            "visible"
        } else {
            "none"
        };
        let (points, lines, polygons) = crate::tiles::tilejson::drawn_kinds(d);
        let layer = |suffix: &str, kind: &str, filter: Value, paint: Value| {
            json!({
                "id": format!("{}-{suffix}", d.id),
                "type": kind,
                "source": d.id,
                "source-layer": tiles.layer,
                "filter": filter,
                "layout": {"visibility": visibility},
                "paint": paint,
                "metadata": {"portale:layer": d.id},
            })
        };
        if polygons {
            areas.push(layer(
                "fill",
                "fill",
                is(["Polygon", "MultiPolygon"]),
                json!({"fill-color": c, "fill-opacity": 0.2}),
            ));
            areas.push(layer(
                "outline",
                "line",
                is(["Polygon", "MultiPolygon"]),
                json!({"line-color": c, "line-width": 1.5}),
            ));
        }
        if lines {
            strokes.push(layer(
                "line",
                "line",
                is(["LineString", "MultiLineString"]),
                json!({"line-color": c, "line-width": ["interpolate", ["linear"], ["zoom"], 8, 2, 16, 5]}),
            ));
        }
        if points {
            dots.push(layer(
                "circle",
                "circle",
                is(["Point", "MultiPoint"]),
                json!({
                    "circle-color": c,
                    "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, 2.5, 16, 6],
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 1.5,
                }),
            ));
        }
    }
    style_layers.extend(areas);
    style_layers.extend(strokes);
    style_layers.extend(dots);
    let mut metadata = serde_json::Map::new();
    if let Some(url) = external {
        metadata.insert("portale:basemap".into(), Value::String(url));
    }
    let [w, s, e, n] = home_bounds(manifest);
    json!({
        "version": 8,
        "name": manifest.catalog.title,
        "center": [(w + e) / 2.0, (s + n) / 2.0],
        "zoom": 10,
        "metadata": metadata,
        "sources": sources,
        "layers": style_layers,
    })
}

/// `GET /map/style.json`.
pub async fn style_json(Current(generation): Current) -> Response {
    let mut response = Json(map_style(&generation)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// The layer list of the page, grouped by the datasets' first theme in the order of the
/// EU theme vocabulary; `visible` lists the layers to check (`None`: the defaults).
pub fn groups(generation: &Generation, t: &Texts, visible: Option<&[String]>) -> Vec<ThemeGroup> {
    let manifest = generation.manifest();
    let urls = generation.urls();
    let m = MapTexts::of(t);
    let basemap = basemap_layers(manifest);
    let pairs = lang_pairs(t);
    let mut groups: Vec<ThemeGroup> = Vec::new();
    for (i, d) in layers(manifest).into_iter().enumerate() {
        let code = d.meta.themes.first().cloned().unwrap_or_default();
        let kind = d
            .layer
            .as_ref()
            .map_or(GeometryType::Geometry, |l| l.geometry_type);
        let view = LayerView {
            id: d.id.clone(),
            title: d.meta.title.clone(),
            url: link(&urls.dataset_page(&d.id), &pairs),
            colour: colour(i),
            shape: match kind {
                GeometryType::Point | GeometryType::MultiPoint => "point",
                GeometryType::LineString | GeometryType::MultiLineString => "line",
                _ => "area",
            },
            count: m.count(kind, d.layer.as_ref().map_or(d.rows, |l| l.features)),
            checked: match visible {
                Some(v) => v.iter().any(|x| x == &d.id),
                None => shown_by_default(d, &basemap),
            },
        };
        match groups.iter_mut().find(|g| g.code == code) {
            Some(g) => g.layers.push(view),
            None => {
                let label = crate::vocab::theme_labels(&code)
                    .map(|(it, en)| if t.lang == "en" { en } else { it })
                    .unwrap_or(m.other_theme)
                    .to_string();
                groups.push(ThemeGroup {
                    code,
                    label,
                    layers: vec![view],
                });
            }
        }
    }
    let rank = |code: &str| {
        crate::vocab::THEMES
            .iter()
            .position(|(c, _, _)| *c == code)
            .unwrap_or(usize::MAX)
    };
    groups.sort_by_key(|g| rank(&g.code));
    groups
}

/// `GET /map`: the map explorer page. Query: `lang=en`, `bbox=w,s,e,n` (the area to open
/// on), `layers=a,b` (the layers to check, as the permalink has them after `#`).
pub async fn map_page(
    Current(generation): Current,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let query: Vec<(String, String)> = query.map(|Query(q)| q).unwrap_or_default();
    let t = texts_of(&query);
    let m = MapTexts::of(t);
    let urls = generation.urls();
    let page_url = urls.absolute("/map");
    let others: Vec<(String, String)> =
        query.iter().filter(|(n, _)| n != "lang").cloned().collect();
    let mut other = others.clone();
    if t.lang == "it" {
        other.push(("lang".into(), "en".into()));
    }
    let other_lang_url = link(&page_url, &other);
    let bbox = match query.iter().find(|(n, _)| n == "bbox") {
        Some((_, v)) if !v.trim().is_empty() => match parse_bbox(v) {
            Ok(b) => Some(b),
            Err(e) => {
                return html(
                    StatusCode::BAD_REQUEST,
                    ErrorPage {
                        t,
                        frame: Frame::new(&generation, t, Section::Map, other_lang_url),
                        message: e,
                    }
                    .render(),
                );
            }
        },
        _ => None,
    };
    let visible: Option<Vec<String>> = query
        .iter()
        .find(|(n, _)| n == "layers")
        .map(|(_, v)| v.split(',').map(|s| s.trim().to_string()).collect());
    let home = home_bounds(generation.manifest());
    let open_on = bbox.unwrap_or(home);
    let search_base = link(&urls.absolute("/datasets"), &lang_pairs(t));
    let mut area = lang_pairs(t);
    area.insert(0, ("bbox".into(), bbox_param(open_on)));
    let page = MapPage {
        t,
        m,
        frame: Frame::new(&generation, t, Section::Map, other_lang_url),
        groups: groups(&generation, t, visible.as_deref()),
        style_url: urls.absolute("/map/style.json"),
        bounds: bbox_param(open_on),
        home_bounds: bbox_param(home),
        search_area_url: link(&urls.absolute("/datasets"), &area),
        search_base,
        lang_en: t.lang == "en",
    };
    html(StatusCode::OK, page.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_thousands_in_each_language() {
        assert_eq!(MAP_ITALIAN.count(GeometryType::Point, 2000), "2.000 punti");
        assert_eq!(MAP_ITALIAN.count(GeometryType::Polygon, 1), "1 area");
        assert_eq!(MAP_ENGLISH.count(GeometryType::Point, 2000), "2,000 points");
    }
}
