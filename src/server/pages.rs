//! The HTML pages for citizens, rendered on the server from templates compiled into the
//! binary (askama, `static/templates/`), Italian first with an English switch (`lang=en`).
//! They work without JavaScript: the search is a form, facets and pages are links.
//!
//! `GET /`: the home page (search box, themes with their datasets, latest updates, a map
//! teaser made of the layers' thumbnails).
//!
//! `GET /datasets`: the catalogue search. It takes the parameters of `/datasets.json`
//! ([`super::search`]) plus `lang`, and shows the results with their highlighted
//! snippets, the facets as filter links with their counts (a selected value's link
//! removes it), the sort orders and the pages; an area filter (`bbox`, e.g. from the map's
//! "search in this area" link) is shown in text with a link removing it and one showing
//! it on the map; our layers show their map thumbnail.
//!
//! Pitfalls: every text from the records is escaped by the templates; only the engine's
//! highlights, which it escapes itself, are inserted as HTML. Links keep every parameter
//! but the one they change, so a filter survives paging and sorting.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::dataset_page::date_label;
use super::error::ApiError;
use super::map_page::{MapTexts, Thumb, bbox_param, home_teaser, thumbnail};
use super::search::{SearchParams, facet_label, parse_search, with_query as link};
use super::state::Generation;
use super::{AppState, Current};
use crate::search::{Facet, Sort};

/// The texts of the pages in one language.
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub skip_to_content: &'static str,
    pub language: &'static str,
    pub footer: &'static str,
    pub catalogue: &'static str,
    pub search_label: &'static str,
    pub search_button: &'static str,
    pub filters: &'static str,
    pub relaxed: &'static str,
    pub sort: &'static str,
    pub pages: &'static str,
    pub as_json: &'static str,
    pub harvested_from: &'static str,
    pub modified: &'static str,
    pub error: &'static str,
    pub themes: &'static str,
    pub latest: &'static str,
    pub all_datasets: &'static str,
    pub popular: &'static str,
    pub downloads: &'static str,
    pub no_downloads: &'static str,
    pub main_menu: &'static str,
    pub map: &'static str,
    pub about: &'static str,
}

pub const ITALIAN: Texts = Texts {
    lang: "it",
    other_lang: "en",
    other_lang_name: "English",
    skip_to_content: "Vai al contenuto",
    language: "Lingua",
    footer: "Dati aperti pubblicati con Portale. I dati sono riutilizzabili secondo la licenza indicata per ciascun dataset.",
    catalogue: "Catalogo dei dati",
    search_label: "Cerca nei dati",
    search_button: "Cerca",
    filters: "Filtra i risultati",
    relaxed: "Nessun dataset contiene tutte le parole cercate: ecco quelli che ne contengono di più.",
    sort: "Ordina per",
    pages: "Pagine dei risultati",
    as_json: "Questi risultati in JSON",
    harvested_from: "Da",
    modified: "Aggiornato il",
    error: "Richiesta non valida",
    themes: "Temi",
    latest: "Aggiornati di recente",
    all_datasets: "Tutti i dataset",
    popular: "I più scaricati",
    downloads: "download",
    no_downloads: "Nessun file è stato ancora scaricato.",
    main_menu: "Menu principale",
    map: "Mappa",
    about: "Dati e API",
};

pub const ENGLISH: Texts = Texts {
    lang: "en",
    other_lang: "it",
    other_lang_name: "Italiano",
    skip_to_content: "Skip to content",
    language: "Language",
    footer: "Open data published with Portale. The data may be reused under the licence stated for each dataset.",
    catalogue: "Data catalogue",
    search_label: "Search the data",
    search_button: "Search",
    filters: "Filter the results",
    relaxed: "No dataset holds every word searched for: these hold most of them.",
    sort: "Sort by",
    pages: "Result pages",
    as_json: "These results as JSON",
    harvested_from: "From",
    modified: "Updated on",
    error: "Bad request",
    themes: "Themes",
    latest: "Recently updated",
    all_datasets: "All datasets",
    popular: "Most downloaded",
    downloads: "downloads",
    no_downloads: "No file has been downloaded yet.",
    main_menu: "Main menu",
    map: "Map",
    about: "Data and APIs",
};

impl Texts {
    pub fn of(lang: &str) -> &'static Texts {
        if lang == "en" { &ENGLISH } else { &ITALIAN }
    }

    fn facet(&self, facet: Facet) -> &'static str {
        let en = self.lang == "en";
        match facet {
            Facet::Theme => {
                if en {
                    "Theme"
                } else {
                    "Tema"
                }
            }
            Facet::Publisher => {
                if en {
                    "Publisher"
                } else {
                    "Titolare"
                }
            }
            Facet::Format => {
                if en {
                    "Format"
                } else {
                    "Formato"
                }
            }
            Facet::License => {
                if en {
                    "Licence"
                } else {
                    "Licenza"
                }
            }
            Facet::Keyword => {
                if en {
                    "Keyword"
                } else {
                    "Parola chiave"
                }
            }
            Facet::Frequency => {
                if en {
                    "Update frequency"
                } else {
                    "Frequenza di aggiornamento"
                }
            }
            Facet::Origin => {
                if en {
                    "Source"
                } else {
                    "Provenienza"
                }
            }
        }
    }

    fn sort(&self, sort: Sort) -> &'static str {
        let en = self.lang == "en";
        match sort {
            Sort::Relevance => {
                if en {
                    "relevance"
                } else {
                    "pertinenza"
                }
            }
            Sort::Modified => {
                if en {
                    "last update"
                } else {
                    "ultimo aggiornamento"
                }
            }
            Sort::Title => {
                if en {
                    "title"
                } else {
                    "titolo"
                }
            }
        }
    }

    fn summary(&self, total: u64, q: &str) -> String {
        let en = self.lang == "en";
        let n = match (total, en) {
            (1, false) => "1 dataset trovato".to_string(),
            (1, true) => "1 dataset found".to_string(),
            (n, false) => format!("{n} dataset trovati"),
            (n, true) => format!("{n} datasets found"),
        };
        if q.trim().is_empty() {
            n
        } else if en {
            format!("{n} for “{q}”")
        } else {
            format!("{n} per «{q}»")
        }
    }

    fn origin(&self, value: &str) -> String {
        if value == "local" {
            if self.lang == "en" {
                "this portal"
            } else {
                "questo portale"
            }
            .to_string()
        } else {
            value.to_string()
        }
    }
}

/// The pages' sections, for the main menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Home,
    Catalogue,
    Map,
    About,
}

pub struct NavLink {
    pub label: &'static str,
    pub url: String,
    pub current: bool,
}

/// What every page's frame (`base.html`) shows: the header with the site's name, the main
/// menu and the language switch, the stylesheets, the footer.
pub struct Frame {
    pub site_title: String,
    pub home_url: String,
    pub other_lang_url: String,
    /// `{public URL}/static`, where the stylesheets, scripts and fonts are.
    pub static_base: String,
    /// `/suggest.json`, for the search boxes' suggestions (`static/js/suggest.js`).
    pub suggest_url: String,
    pub nav: Vec<NavLink>,
}

impl Frame {
    /// The frame of a page of `section`; `other_lang_url` is the same page in the other
    /// language.
    pub fn new(
        generation: &Generation,
        t: &'static Texts,
        section: Section,
        other_lang_url: String,
    ) -> Frame {
        let urls = generation.urls();
        let lang_pairs = lang_pairs(t);
        let nav = [
            (t.catalogue, "/datasets", Section::Catalogue),
            (t.map, "/map", Section::Map),
            (t.about, "/about", Section::About),
        ]
        .into_iter()
        .map(|(label, path, s)| NavLink {
            label,
            url: link(&urls.absolute(path), &lang_pairs),
            current: s == section,
        })
        .collect();
        Frame {
            site_title: generation.manifest().catalog.title.clone(),
            home_url: link(&urls.absolute("/"), &lang_pairs),
            other_lang_url,
            static_base: urls.absolute("/static"),
            suggest_url: urls.suggest_json(),
            nav,
        }
    }
}

impl Frame {
    /// The URL of a file under `static/`, with its content version (cached for a year).
    pub fn asset(&self, path: &str) -> String {
        super::assets::versioned(&self.static_base, path)
    }
}

/// `lang=en` on English pages' links, nothing on Italian ones.
pub fn lang_pairs(t: &Texts) -> Vec<(String, String)> {
    if t.lang == "en" {
        vec![("lang".into(), "en".into())]
    } else {
        Vec::new()
    }
}

/// The language a query asks for (`lang=en`; Italian otherwise).
pub fn texts_of(query: &[(String, String)]) -> &'static Texts {
    Texts::of(
        query
            .iter()
            .find(|(n, _)| n == "lang")
            .map(|(_, v)| v.as_str())
            .unwrap_or("it"),
    )
}

pub struct FacetValue {
    pub label: String,
    pub count: u64,
    pub selected: bool,
    pub url: String,
}

pub struct FacetGroup {
    pub name: &'static str,
    pub title: &'static str,
    pub values: Vec<FacetValue>,
}

pub struct SortLink {
    pub label: &'static str,
    pub url: String,
    pub current: bool,
}

pub struct PageLink {
    pub label: String,
    pub url: String,
    pub current: bool,
}

pub struct ResultView {
    pub title: String,
    pub title_html: Option<String>,
    pub description: String,
    pub snippet_html: Option<String>,
    pub url: String,
    pub themes: Vec<String>,
    pub formats: Vec<String>,
    pub modified: String,
    /// `modified` for people ("28 novembre 2026").
    pub modified_label: String,
    /// The harvest source, for harvested records.
    pub origin: Option<String>,
    /// A layer's map thumbnail (our own datasets with a map layer).
    pub thumbnail: Option<Thumb>,
}

/// The search's area filter (`bbox`), shown as a removable filter.
pub struct AreaFilter {
    /// The coordinates, rounded (`10.4860, 43.7490 – 10.6590, 43.9430`).
    pub text: String,
    /// The same search without the area.
    pub remove_url: String,
    /// The area on the map explorer.
    pub map_url: String,
}

#[derive(Template)]
#[template(path = "datasets.html")]
pub struct DatasetsPage {
    pub t: &'static Texts,
    pub frame: Frame,
    pub form_action: String,
    pub q: String,
    /// The filters and sort kept when the form is submitted again.
    pub hidden: Vec<(String, String)>,
    pub summary: String,
    pub relaxed: bool,
    pub facets: Vec<FacetGroup>,
    pub sorts: Vec<SortLink>,
    pub results: Vec<ResultView>,
    pub pages: Vec<PageLink>,
    pub json_url: String,
    pub m: &'static MapTexts,
    pub area: Option<AreaFilter>,
    /// The map explorer, to pick an area to search in.
    pub map_url: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: &'static Texts,
    pub frame: Frame,
    pub message: String,
}

pub struct ThemeLink {
    pub label: String,
    pub count: u64,
    pub url: String,
}

pub struct Latest {
    pub title: String,
    pub url: String,
    pub modified: String,
    /// `modified` for people ("28 novembre 2026").
    pub modified_label: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub t: &'static Texts,
    pub frame: Frame,
    pub description: String,
    pub search_url: String,
    pub search_url_all: String,
    pub themes: Vec<ThemeLink>,
    pub latest: Vec<Latest>,
    /// The datasets downloaded most (whole files, see [`super::downloads`]).
    pub popular: Vec<Popular>,
    pub m: &'static MapTexts,
    /// The map teaser: a thumbnail linking to the map explorer.
    pub teaser: Option<Thumb>,
    /// A few layers' thumbnails, linking to their dataset pages.
    pub layer_thumbs: Vec<Thumb>,
}

pub struct Popular {
    pub title: String,
    pub url: String,
    pub downloads: u64,
}

/// `GET /`: the home page: the search box, the themes with their datasets, the datasets
/// updated last and downloaded most, the map teaser.
pub async fn home(
    State(state): State<AppState>,
    Current(generation): Current,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let query: Vec<(String, String)> = query.map(|Query(q)| q).unwrap_or_default();
    let t = texts_of(&query);
    let urls = generation.urls();
    let catalog = &generation.manifest().catalog;
    let lang_pairs = lang_pairs(t);
    let search_url = urls.absolute("/datasets");
    let (themes, latest) = match state.search() {
        Some(engine) => {
            let found = engine.search(&crate::search::SearchRequest {
                sort: Sort::Modified,
                limit: 6,
                highlight: false,
                ..Default::default()
            });
            match found {
                Ok(found) => {
                    let themes = found
                        .facets
                        .iter()
                        .filter(|(f, _)| *f == Facet::Theme)
                        .flat_map(|(_, v)| v.iter())
                        .map(|c| {
                            let mut pairs = vec![("theme".to_string(), c.value.clone())];
                            pairs.extend(lang_pairs.iter().cloned());
                            ThemeLink {
                                label: facet_label(Facet::Theme, &c.value)
                                    .map(str::to_string)
                                    .unwrap_or_else(|| c.value.clone()),
                                count: c.count,
                                url: link(&search_url, &pairs),
                            }
                        })
                        .collect();
                    let latest = found
                        .hits
                        .iter()
                        .map(|h| {
                            let s = &h.summary;
                            let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
                            Latest {
                                title: get("title").to_string(),
                                url: match s.get("path").and_then(Value::as_str) {
                                    Some(path) => urls.absolute(path),
                                    None => get("landing_page").to_string(),
                                },
                                modified: get("modified").chars().take(10).collect(),
                                modified_label: date_label(get("modified"), t.lang == "en"),
                            }
                        })
                        .collect();
                    (themes, latest)
                }
                Err(e) => return ApiError::internal(e).into_response(),
            }
        }
        None => (Vec::new(), Vec::new()),
    };
    let other_lang_url = if t.lang == "en" {
        urls.absolute("/")
    } else {
        link(&urls.absolute("/"), &[("lang".into(), "en".into())])
    };
    let (teaser, layer_thumbs) = home_teaser(&generation, t, 3);
    let popular = state
        .downloads()
        .top(6, |id| generation.dataset(id).is_some())
        .into_iter()
        .filter_map(|(id, downloads)| {
            let d = generation.dataset(&id)?;
            Some(Popular {
                title: d.meta.title.clone(),
                url: link(&urls.dataset_page(&id), &lang_pairs),
                downloads,
            })
        })
        .collect();
    let page = HomePage {
        t,
        popular,
        m: MapTexts::of(t),
        teaser,
        layer_thumbs,
        frame: Frame::new(&generation, t, Section::Home, other_lang_url),
        description: catalog.description.clone(),
        search_url_all: link(&search_url, &lang_pairs),
        search_url,
        themes,
        latest,
    };
    html(StatusCode::OK, page.render())
}

/// `pairs` without those named `name` (with value `value`, when given), plus `add`.
fn changed(
    pairs: &[(String, String)],
    name: &str,
    value: Option<&str>,
    add: Option<(&str, &str)>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .filter(|(n, v)| !(n == name && value.is_none_or(|x| x == v)))
        .cloned()
        .collect();
    if let Some((n, v)) = add {
        out.push((n.to_string(), v.to_string()));
    }
    out
}

pub(crate) fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// `GET /datasets`: the catalogue search page.
pub async fn datasets(
    State(state): State<AppState>,
    Current(generation): Current,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let query: Vec<(String, String)> = query.map(|Query(q)| q).unwrap_or_default();
    let t = texts_of(&query);
    let urls = generation.urls();
    let page_base = urls.absolute("/datasets");
    let search: Vec<(String, String)> =
        query.iter().filter(|(n, _)| n != "lang").cloned().collect();
    let with_lang = |pairs: Vec<(String, String)>| -> Vec<(String, String)> {
        let mut p = pairs;
        if t.lang == "en" {
            p.push(("lang".into(), "en".into()));
        }
        p
    };
    let mut other = search.clone();
    if t.lang == "it" {
        other.push(("lang".into(), "en".into()));
    }
    let other_lang_url = link(&page_base, &other);
    let error_page = |status: StatusCode, message: String| {
        html(
            status,
            ErrorPage {
                t,
                frame: Frame::new(&generation, t, Section::Catalogue, other_lang_url.clone()),
                message,
            }
            .render(),
        )
    };
    let params: SearchParams = match parse_search(&search) {
        Ok(p) => p,
        Err(e) => return error_page(e.status(), e.message().to_string()),
    };
    let Some(engine) = state.search() else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "the search index has not been built: run `portale index`".into(),
        );
    };
    let found = match engine.search(&params.request) {
        Ok(f) => f,
        Err(crate::search::SearchError::BadRequest(m)) => {
            return error_page(StatusCode::BAD_REQUEST, m);
        }
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let kept = &params.kept;
    let q = params.request.q.clone();

    let facets = found
        .facets
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(facet, values)| {
            let name = facet.name();
            let selected: Vec<&str> = params
                .request
                .filters
                .iter()
                .filter(|(f, _)| f == facet)
                .flat_map(|(_, v)| v.iter().map(String::as_str))
                .collect();
            FacetGroup {
                name,
                title: t.facet(*facet),
                values: values
                    .iter()
                    .take(12)
                    .map(|c| {
                        let on = selected.contains(&c.value.as_str());
                        let pairs = if on {
                            changed(kept, name, Some(&c.value), None)
                        } else {
                            changed(kept, name, Some(&c.value), Some((name, &c.value)))
                        };
                        let label = match *facet {
                            Facet::Origin => t.origin(&c.value),
                            f => facet_label(f, &c.value)
                                .map(str::to_string)
                                .unwrap_or_else(|| c.value.clone()),
                        };
                        FacetValue {
                            label,
                            count: c.count,
                            selected: on,
                            url: link(&page_base, &with_lang(pairs)),
                        }
                    })
                    .collect(),
            }
        })
        .collect();

    let sorts = [Sort::Relevance, Sort::Modified, Sort::Title]
        .into_iter()
        .map(|s| SortLink {
            label: t.sort(s),
            url: link(
                &page_base,
                &with_lang(changed(kept, "sort", None, Some(("sort", s.name())))),
            ),
            current: s == params.request.sort,
        })
        .collect();

    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let list_of = |v: &Value, k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let results = found
        .hits
        .into_iter()
        .map(|h| {
            let s = &h.summary;
            let url = match s.get("path").and_then(Value::as_str) {
                Some(path) => urls.absolute(path),
                None => str_of(s, "landing_page"),
            };
            let origin = match s.get("origin").and_then(Value::as_str) {
                Some("local") | None => None,
                Some(o) => Some(o.to_string()),
            };
            let thumbnail = match s.get("origin").and_then(Value::as_str) {
                Some("local") | None => s
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| generation.dataset(id))
                    .and_then(|d| thumbnail(&generation, d, url.clone())),
                Some(_) => None,
            };
            ResultView {
                thumbnail,
                title: str_of(s, "title"),
                title_html: h.title_html,
                description: str_of(s, "description"),
                snippet_html: h.snippet_html,
                url,
                themes: list_of(s, "themes")
                    .iter()
                    .map(|code| {
                        facet_label(Facet::Theme, code)
                            .map(str::to_string)
                            .unwrap_or_else(|| code.clone())
                    })
                    .collect(),
                formats: list_of(s, "formats"),
                modified: str_of(s, "modified").chars().take(10).collect(),
                modified_label: date_label(&str_of(s, "modified"), t.lang == "en"),
                origin,
            }
        })
        .collect();

    let pages_total = usize::try_from(found.total)
        .unwrap_or(usize::MAX)
        .div_ceil(params.per_page);
    let first = params.page.saturating_sub(4).max(1);
    let last = (first + 8).min(pages_total);
    let pages = (first..=last)
        .map(|p| PageLink {
            label: p.to_string(),
            url: link(
                &page_base,
                &with_lang(changed(kept, "page", None, Some(("page", &p.to_string())))),
            ),
            current: p == params.page,
        })
        .collect();
    let hidden = kept
        .iter()
        .filter(|(n, _)| n != "q")
        .cloned()
        .chain((t.lang == "en").then(|| ("lang".to_string(), "en".to_string())))
        .collect();
    let m = MapTexts::of(t);
    let area = params.request.bbox.map(|b| AreaFilter {
        text: format!("{:.4}, {:.4} – {:.4}, {:.4}", b[0], b[1], b[2], b[3]),
        remove_url: link(&page_base, &with_lang(changed(kept, "bbox", None, None))),
        map_url: link(
            &urls.absolute("/map"),
            &with_lang(vec![("bbox".to_string(), bbox_param(b))]),
        ),
    });
    let page = DatasetsPage {
        t,
        m,
        area,
        map_url: link(&urls.absolute("/map"), &with_lang(Vec::new())),
        frame: Frame::new(&generation, t, Section::Catalogue, other_lang_url.clone()),
        form_action: page_base.clone(),
        summary: t.summary(found.total, &q),
        q,
        hidden,
        relaxed: found.relaxed,
        facets,
        sorts,
        results,
        pages,
        json_url: link(&urls.datasets_json(), kept),
    };
    html(StatusCode::OK, page.render())
}
