//! `portale serve --public-url`: every URL the server writes starts with the public URL,
//! not with the catalogue's base_url (reverse proxies, another port).

mod common;
use common::CATALOG;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use portale::server::{AppState, app};
use tower::ServiceExt;

async fn get(router: &axum::Router, uri: &str) -> String {
    let res = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{uri}");
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

#[tokio::test]
async fn public_url_replaces_the_catalogue_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::write_sources(
        root,
        CATALOG,
        "fermate",
        common::FERMATE_RECIPE,
        &[("fermate.csv", common::FERMATE_CSV.as_bytes())],
    );
    common::build_site(root);

    let public = "https://dati.example.it/opendata";
    let state = AppState::open_with(&root.join("site"), Some(format!("{public}/"))).unwrap();
    let router = app(state);
    for uri in [
        "/datasets.json",
        "/datasets/fermate.json",
        "/ogc",
        "/ogc/collections/fermate/items",
        "/tiles/fermate.json",
    ] {
        let body = get(&router, uri).await;
        assert!(
            body.contains(public),
            "{uri} does not use the public URL:\n{body}"
        );
        assert!(
            !body.contains("127.0.0.1:8080"),
            "{uri} still uses the catalogue's base_url:\n{body}"
        );
    }
}
