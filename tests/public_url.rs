//! `portale serve --public-url`: every URL the server writes starts with the public URL,
//! not with the catalogue's base_url (reverse proxies, another port).

mod common;
use common::CATALOG;

use std::fs;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use portale::config;
use portale::server::{AppState, app};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, Silent};
use tower::ServiceExt;

const RECIPE: &str = r#"[dataset]
title = "Fermate"
description = "Fermate di prova"
themes = ["TRAN"]
keywords = ["fermate"]
frequency = "ANNUAL"

[source]
files = ["fermate.csv"]

[geometry]
lon = "LON"
lat = "LAT"
check_territory = false
"#;

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
    fs::create_dir_all(root.join("catalog")).unwrap();
    fs::write(root.join("catalog/catalog.toml"), CATALOG).unwrap();
    let ds = root.join("datasets/fermate");
    fs::create_dir_all(&ds).unwrap();
    fs::write(ds.join("dataset.toml"), RECIPE).unwrap();
    fs::write(
        ds.join("fermate.csv"),
        "NOME;LON;LAT\r\nLammari;10,5651;43,8712\r\nMarlia;10,5532;43,8802\r\n",
    )
    .unwrap();
    let cfg = config::load_site(root).unwrap();
    let layout = SiteLayout::new(root.join("site"));
    let opts = BuildOptions {
        jobs: 1,
        keep_going: false,
    };
    build::build(&cfg, &layout, &opts, &Silent).unwrap();

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
