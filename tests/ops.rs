//! Operations (issue 7, part 6): request ids, `/-/metrics`, the access log in JSON, and the
//! graceful stop of `portale serve` on SIGTERM.
//!
//! Oracles: the requests the test itself sends (how many, to which route, with which
//! status), the site's own files (`site/CURRENT`, the manifest's `built_at`, read with
//! serde_json), the wall clock around the build, and the operating system's exit status.
//! The metrics text is parsed here only line by line; the conformance stage parses it with
//! Python's `prometheus_client` (tests/conformance/check_metrics.py).

mod common;
use common::CATALOG;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{Method, Request, Response};
use http_body_util::BodyExt;
use portale::server::{AppState, app};
use tower::ServiceExt;

/// Builds a one-dataset site in `root/site`.
fn build_site(root: &Path) -> PathBuf {
    common::write_sources(
        root,
        CATALOG,
        "fermate",
        common::FERMATE_RECIPE,
        &[("fermate.csv", common::FERMATE_CSV.as_bytes())],
    );
    common::build_site(root)
}

/// The generation `site/CURRENT` names and its manifest, read from the files.
fn current_manifest(site: &Path) -> (String, serde_json::Value) {
    let name = fs::read_to_string(site.join("CURRENT"))
        .unwrap()
        .trim()
        .to_string();
    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(site.join("generations").join(&name).join("manifest.json")).unwrap(),
    )
    .unwrap();
    (name, manifest)
}

async fn send(
    router: &axum::Router,
    method: Method,
    uri: &str,
    id: Option<&str>,
) -> Response<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(id) = id {
        req = req.header("x-request-id", id);
    }
    router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn request_id(res: &Response<Body>) -> String {
    res.headers()
        .get("x-request-id")
        .expect("an X-Request-Id header")
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_made_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let site = build_site(dir.path());
    let router = app(AppState::open(&site).unwrap());

    let sane = "Abc-123.x_Y";
    let res = send(&router, Method::GET, "/-/health", Some(sane)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(request_id(&res), sane);
    let longest = "a".repeat(64);
    let res = send(&router, Method::GET, "/nope", Some(&longest)).await;
    assert_eq!(res.status(), 404);
    assert_eq!(request_id(&res), longest, "errors carry the id too");
    let body: serde_json::Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["error"]["request_id"], longest.as_str(), "{body}");
    assert_eq!(body["error"]["status"], 404, "{body}");

    let mut made = Vec::new();
    for insane in ["a b", "<script>", &"a".repeat(65), "x\"y", "", "è"] {
        let res = send(&router, Method::GET, "/-/health", Some(insane)).await;
        let id = request_id(&res);
        assert_ne!(id, insane);
        assert!(
            id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "made id {id:?} is not 16 hex digits"
        );
        made.push(id);
    }
    let res = send(&router, Method::GET, "/-/health", None).await;
    made.push(request_id(&res));
    let distinct: std::collections::HashSet<&String> = made.iter().collect();
    assert_eq!(distinct.len(), made.len(), "made ids repeat: {made:?}");
}

/// The samples of a text exposition: `name{labels}` exactly as written → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_string(), value.parse::<f64>().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn metrics_count_the_requests_sent() {
    let before_build = SystemTime::now();
    let dir = tempfile::tempdir().unwrap();
    let site = build_site(dir.path());
    let (generation, manifest) = current_manifest(&site);
    let file = manifest["datasets"][0]["distributions"][0]["file"]
        .as_str()
        .unwrap()
        .to_string();
    let router = app(AppState::open(&site).unwrap());

    for _ in 0..3 {
        assert_eq!(
            send(&router, Method::GET, "/-/health", None).await.status(),
            200
        );
    }
    assert_eq!(
        send(&router, Method::HEAD, "/-/health", None)
            .await
            .status(),
        200
    );
    for uri in ["/nope", "/nope/again"] {
        assert_eq!(send(&router, Method::GET, uri, None).await.status(), 404);
    }
    let download = format!("/datasets/fermate/files/{file}");
    let res = send(&router, Method::GET, &download, None).await;
    assert_eq!(res.status(), 200);
    res.into_body().collect().await.unwrap();
    assert_eq!(
        send(&router, Method::DELETE, "/-/health", None)
            .await
            .status(),
        405
    );

    let res = send(&router, Method::GET, "/-/metrics", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(request_id(&res).len(), 16);
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let s = samples(&text);
    let get = |k: &str| -> f64 {
        *s.get(k)
            .unwrap_or_else(|| panic!("no sample {k} in\n{text}"))
    };
    let total = |route: &str, method: &str, status: u16| {
        get(&format!(
            "portale_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
        ))
    };
    assert_eq!(total("/-/health", "GET", 200), 3.0);
    assert_eq!(total("/-/health", "HEAD", 200), 1.0);
    assert_eq!(total("/-/health", "DELETE", 405), 1.0);
    assert_eq!(total("unmatched", "GET", 404), 2.0);
    assert_eq!(total("/datasets/{id}/files/{file}", "GET", 200), 1.0);
    // The metrics request itself is counted once it is answered, not in its own answer.
    assert!(!text.contains("route=\"/-/metrics\""), "{text}");

    // Histograms: cumulative buckets, +Inf == _count == the requests of the route.
    for (route, n) in [
        ("/-/health", 5.0),
        ("unmatched", 2.0),
        ("/datasets/{id}/files/{file}", 1.0),
    ] {
        let buckets: Vec<(f64, f64)> = text
            .lines()
            .filter(|l| {
                l.starts_with(&format!(
                    "portale_http_request_duration_seconds_bucket{{route=\"{route}\",le=\""
                ))
            })
            .map(|l| {
                let le = l.split("le=\"").nth(1).unwrap().split('"').next().unwrap();
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                (le, l.rsplit_once(' ').unwrap().1.parse().unwrap())
            })
            .collect();
        assert_eq!(buckets.len(), 13, "{route}: 12 buckets and +Inf in\n{text}");
        assert!(
            buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        assert_eq!(buckets.last().unwrap(), &(f64::INFINITY, n));
        assert_eq!(
            get(&format!(
                "portale_http_request_duration_seconds_count{{route=\"{route}\"}}"
            )),
            n
        );
        let sum = get(&format!(
            "portale_http_request_duration_seconds_sum{{route=\"{route}\"}}"
        ));
        assert!((0.0..60.0).contains(&sum), "{route}: sum {sum}");
    }

    assert_eq!(
        get(&format!(
            "portale_build_info{{version=\"{}\",generation=\"{generation}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        1.0
    );
    let datasets = manifest["datasets"].as_array().unwrap().len() as f64;
    assert_eq!(get("portale_generation_datasets"), datasets);
    assert_eq!(get("portale_downloads_total{dataset=\"fermate\"}"), 1.0);
    let age = get("portale_generation_age_seconds");
    let since_build = before_build.elapsed().unwrap().as_secs_f64();
    // built_at is written with a precision of a second or better.
    assert!(
        (-1.0..=since_build + 1.0).contains(&age),
        "generation age {age} s, but the build started {since_build} s ago"
    );
    if cfg!(target_os = "linux") {
        assert!(get("process_resident_memory_bytes") > 1_000_000.0);
    }
}

/// Starts the real binary on a free port; returns it and its address.
fn spawn_server(
    site: &Path,
    log_format: &str,
    stderr: &Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portale"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            log_format,
            "--site",
        ])
        .arg(site)
        .env_remove("RUST_LOG")
        .env_remove("PORTALE_LOG_FORMAT")
        .env_remove("MIMALLOC_ARENA_EAGER_COMMIT")
        .env_remove("MIMALLOC_PURGE_DELAY")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(fs::File::create(stderr).unwrap()))
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut addr = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split(" on http://").nth(1) {
            addr = Some(rest.split('/').next().unwrap().to_string());
            break;
        }
    }
    let addr = addr.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the server did not say where it listens");
    });
    (child, addr)
}

/// The `MIMALLOC_*` variables of the running server's environment, sorted (it runs itself
/// again under the same process id with them set).
fn mimalloc_options(child: &std::process::Child) -> Vec<String> {
    let environ = fs::read(format!("/proc/{}/environ", child.id())).unwrap();
    let mut found: Vec<String> = environ
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|v| v.starts_with("MIMALLOC_"))
        .collect();
    found.sort();
    found
}

/// Sends SIGTERM with the `kill` command and waits at most 20 s for the exit.
fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_stops_the_server_cleanly_with_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let site = build_site(dir.path());
    let (_, manifest) = current_manifest(&site);
    let file = manifest["datasets"][0]["distributions"][0]["file"]
        .as_str()
        .unwrap()
        .to_string();
    let log = dir.path().join("serve.log");
    let (mut child, addr) = spawn_server(&site, "json", &log, &[("MIMALLOC_PURGE_DELAY", "25")]);
    // The server ran itself again with mimalloc's server options; a value given is kept.
    assert_eq!(
        mimalloc_options(&child),
        ["MIMALLOC_ARENA_EAGER_COMMIT=0", "MIMALLOC_PURGE_DELAY=25"]
    );

    let client = reqwest::blocking::Client::new();
    let res = client
        .get(format!("http://{addr}/-/health"))
        .header("x-request-id", "ops-test-1")
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "ops-test-1");
    let res = client
        .get(format!("http://{addr}/datasets/fermate/files/{file}"))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let _ = res.bytes().unwrap();

    let status = terminate(&mut child);
    assert_eq!(status.code(), Some(0), "exit status {status}");

    let text = fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    for l in &lines {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(l.get(key).is_some(), "no {key} in {l}");
        }
    }
    let access = lines
        .iter()
        .find(|l| l["target"] == "portale::access" && l["route"] == "/-/health")
        .unwrap_or_else(|| panic!("no access line for /-/health in\n{text}"));
    assert_eq!(access["span"]["id"], "ops-test-1", "{access}");
    assert_eq!(access["method"], "GET");
    assert_eq!(access["path"], "/-/health");
    assert_eq!(access["status"], 200);
    assert!(access["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        access["generation"],
        fs::read_to_string(site.join("CURRENT")).unwrap().trim()
    );
    let download = lines
        .iter()
        .find(|l| l["route"] == "/datasets/{id}/files/{file}")
        .unwrap_or_else(|| panic!("no access line for the download in\n{text}"));
    let size = fs::metadata(
        site.join("generations")
            .join(fs::read_to_string(site.join("CURRENT")).unwrap().trim())
            .join(
                manifest["datasets"][0]["distributions"][0]["path"]
                    .as_str()
                    .unwrap(),
            ),
    )
    .unwrap()
    .len();
    assert_eq!(download["bytes"], size, "{download}");

    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("SIGTERM")), "{text}");
    assert_eq!(messages.last(), Some(&"server stopped"), "{text}");
    // The download counts were saved on the way out.
    let counts: serde_json::Value =
        serde_json::from_slice(&fs::read(site.join("stats/downloads.json")).unwrap()).unwrap();
    assert_eq!(counts["fermate"], 1);
}

#[test]
fn sigterm_stops_the_server_cleanly_with_text_logs() {
    let dir = tempfile::tempdir().unwrap();
    let site = build_site(dir.path());
    let log = dir.path().join("serve.log");
    let (mut child, addr) = spawn_server(&site, "text", &log, &[]);
    assert_eq!(
        mimalloc_options(&child),
        ["MIMALLOC_ARENA_EAGER_COMMIT=0", "MIMALLOC_PURGE_DELAY=0"]
    );
    let res = reqwest::blocking::get(format!("http://{addr}/nope%0aINFO%20forged")).unwrap();
    assert_eq!(res.status(), 404);
    let status = terminate(&mut child);
    assert_eq!(status.code(), Some(0), "exit status {status}");
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("received SIGTERM"), "{text}");
    assert!(
        text.lines().last().unwrap().ends_with("server stopped"),
        "{text}"
    );
    let access: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("portale::access"))
        .collect();
    assert_eq!(access.len(), 1, "{text}");
    assert!(
        access[0].contains("route=unmatched") && access[0].contains("status=404"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("INFO forged")),
        "{text}"
    );
}
