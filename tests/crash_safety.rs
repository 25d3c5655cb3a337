//! A killed build never damages what is served: the real binary is killed with SIGKILL
//! at 20 points of a build while `portale serve` answers requests on the same site; after
//! each kill the site's CURRENT generation is either the old one, untouched, or a complete
//! new one (every file matches the SHA-256 in its manifest), and the next build recovers
//! without manual cleanup. Every answer the server gave meanwhile came from one complete
//! generation: the download's bytes hash to the SHA-256 that generation's manifest lists.
//!
//! A second test runs a build that runs out of room: the build's file size is limited
//! with `ulimit -f` (SIGXFSZ ignored, so writes fail with EFBIG as they would with ENOSPC
//! on a full disk; a real small filesystem would need mount privileges the tests do not
//! have). The build fails with an error, the served generation stays, the server keeps
//! answering, and the next build with room succeeds.

mod common;
use common::CATALOG;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use portale::store::SiteLayout;
use portale::store::build::file_digest;

const RECIPE: &str = r#"[dataset]
title = "Punti"
description = "Punti di prova"
themes = ["REGI"]
keywords = ["prova"]
frequency = "ANNUAL"

[source]
files = ["punti.csv"]
encoding = "windows-1252"
delimiter = ";"
decimal = ","

[geometry]
x = "X"
y = "Y"
crs = 3003
check_territory = false
"#;

/// A deterministic CSV of `n` points in Gauss-Boaga coordinates around Capannori.
fn points_csv(n: usize, salt: u64) -> String {
    let mut s = String::from("ID;NOME;DATA;IMPORTO;X;Y\r\n");
    for i in 0..n as u64 {
        let x = 1_619_000 + (i * 7919 + salt) % 14_000;
        let y = 4_845_000 + (i * 104_729 + salt) % 22_000;
        let _ = write!(
            s,
            "{i};Punto {i};{:02}/{:02}/2024;{},{:02};{x},{:02};{y},{:02}\r\n",
            1 + i % 28,
            1 + i % 12,
            i % 5000,
            i % 100,
            i % 100,
            (i * 3) % 100
        );
    }
    s
}

/// Checks that CURRENT names a complete generation; returns its name.
fn verify_current(layout: &SiteLayout) -> String {
    let generation = layout
        .current_generation()
        .unwrap()
        .expect("CURRENT names a generation");
    let manifest = layout.read_manifest(&generation).unwrap();
    assert_eq!(manifest.generation, generation);
    for ds in &manifest.datasets {
        let files = ds
            .distributions
            .iter()
            .map(|d| (&d.path, d.byte_size, &d.sha256))
            .chain(ds.tiles.iter().map(|t| (&t.path, t.byte_size, &t.sha256)))
            .chain(
                ds.pictures
                    .iter()
                    .map(|p| (&p.path, p.byte_size, &p.sha256)),
            );
        for (rel, byte_size, sha256) in files {
            let path = layout.generation_dir(&generation).join(rel);
            let (sha, size) =
                file_digest(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(size, byte_size, "{}", path.display());
            assert_eq!(&sha, sha256, "{}", path.display());
        }
    }
    generation
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// `portale serve` on a free loopback port; its URL.
fn serve(site: &Path) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_portale"))
        .args(["serve", "--site"])
        .arg(site)
        .args(["--addr", &format!("127.0.0.1:{port}"), "--public-url", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::blocking::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/-/health")).send().is_ok() {
            return (child, url);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("portale serve did not start on {url}");
}

/// What a client saw while builds were killed.
#[derive(Default, Debug)]
struct Seen {
    /// Downloads whose bytes matched their generation's manifest.
    verified: u64,
    /// Generations that answered.
    generations: HashMap<String, u64>,
    /// Answers from a generation pruned before its manifest could be read.
    unverifiable: u64,
}

/// Downloads the dataset's CSV again and again until `stop`, checking each answer
/// against the manifest of the generation that its `X-Portale-Generation` names.
fn watch(url: String, site: PathBuf, stop: Arc<AtomicBool>) -> Seen {
    let client = reqwest::blocking::Client::new();
    let layout = SiteLayout::new(&site);
    let mut seen = Seen::default();
    let mut manifests: HashMap<String, (String, String)> = HashMap::new();
    while !stop.load(Ordering::Acquire) {
        let r = client
            .get(format!("{url}/datasets/punti/files/punti.csv"))
            .send()
            .unwrap_or_else(|e| panic!("the server stopped answering: {e}"));
        assert_eq!(r.status(), 200, "download answered {}", r.status());
        let generation = r.headers()["x-portale-generation"]
            .to_str()
            .unwrap()
            .to_string();
        let body = r.bytes().unwrap();
        if !manifests.contains_key(&generation) {
            match layout.read_manifest(&generation) {
                Ok(m) => {
                    let d = &m.dataset("punti").unwrap().distributions;
                    let csv = d.iter().find(|d| d.file == "punti.csv").unwrap();
                    manifests.insert(
                        generation.clone(),
                        (csv.sha256.clone(), csv.byte_size.to_string()),
                    );
                }
                Err(_) => {
                    seen.unverifiable += 1;
                    continue;
                }
            }
        }
        let (sha, size) = &manifests[&generation];
        assert_eq!(&body.len().to_string(), size, "generation {generation}");
        assert_eq!(
            &hex::encode(Sha256::digest(&body)),
            sha,
            "a download from generation {generation} does not match its manifest"
        );
        seen.verified += 1;
        *seen.generations.entry(generation).or_insert(0) += 1;
    }
    seen
}

fn build_cmd(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portale"));
    c.args(["build", "--root"])
        .arg(root)
        .args(["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

#[test]
fn killed_builds_leave_the_served_generation_intact() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::write_sources(
        root,
        CATALOG,
        "punti",
        RECIPE,
        &[("punti.csv", points_csv(20_000, 0).as_bytes())],
    );
    let ds = root.join("datasets/punti");
    let layout = SiteLayout::new(root.join("site"));

    let t0 = std::time::Instant::now();
    assert!(build_cmd(root).status().unwrap().success());
    let full = t0.elapsed();
    let first = verify_current(&layout);
    let first_files = snapshot(&layout.generation_dir(&first));

    // Change the data so that every build has real work to do, then kill it at
    // fractions of a full build's time: early (reading), in the middle (writing), late
    // (publishing), and just after.
    fs::write(ds.join("punti.csv"), points_csv(20_000, 1)).unwrap();
    let (mut server, url) = serve(&root.join("site"));
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (url, site, stop) = (url.clone(), root.join("site"), stop.clone());
        std::thread::spawn(move || watch(url, site, stop))
    };
    let mut published_during_kills = 0;
    for step in 0..20u32 {
        let delay = full.mul_f64(f64::from(step) / 17.0);
        let delay_ms = delay.as_millis();
        let mut child = build_cmd(root).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let current = verify_current(&layout);
        if current == first {
            assert!(
                snapshot(&layout.generation_dir(&first)) == first_files,
                "generation {first} changed after a build killed at {delay_ms} ms"
            );
        } else {
            published_during_kills += 1;
        }
    }
    // Whatever happened, the next build recovers by itself.
    assert!(build_cmd(root).status().unwrap().success());
    let last = verify_current(&layout);
    assert_ne!(last, first);
    assert!(!layout.tmp_dir().exists() || fs::read_dir(layout.tmp_dir()).unwrap().next().is_none());
    // Let the server pick up the last generation, then stop the client.
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Release);
    let seen = client.join().expect("the client saw a bad answer");
    let _ = server.kill();
    let _ = server.wait();
    assert!(seen.verified > 20, "{seen:?}");
    assert!(seen.generations.contains_key(&last), "{seen:?}");
    eprintln!(
        "{published_during_kills} of 20 killed builds had already published (full build {full:?}); \
         the server answered {} verified downloads from {} generations ({} unverifiable)",
        seen.verified,
        seen.generations.len(),
        seen.unverifiable
    );
}

#[test]
fn a_build_that_runs_out_of_room_fails_and_the_site_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    common::write_sources(
        root,
        CATALOG,
        "punti",
        RECIPE,
        &[("punti.csv", points_csv(200, 0).as_bytes())],
    );
    let ds = root.join("datasets/punti");
    let layout = SiteLayout::new(root.join("site"));
    assert!(build_cmd(root).status().unwrap().success());
    let first = verify_current(&layout);
    let first_files = snapshot(&layout.generation_dir(&first));

    let (mut server, url) = serve(&root.join("site"));
    let stop = Arc::new(AtomicBool::new(false));
    let client = {
        let (url, site, stop) = (url.clone(), root.join("site"), stop.clone());
        std::thread::spawn(move || watch(url, site, stop))
    };

    // More data than the room left: no file of the build may grow past 64 KB.
    fs::write(ds.join("punti.csv"), points_csv(20_000, 2)).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 128; exec "$0" build --root "$1" --jobs 1"#)
        .arg(env!("CARGO_BIN_EXE_portale"))
        .arg(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the build succeeded: {stderr}");
    // A clear error naming what could not be written.
    assert!(
        stderr.contains("File too large") || stderr.contains("file too large"),
        "{stderr}"
    );
    assert!(stderr.contains("punti"), "{stderr}");
    // Nothing served changed.
    assert_eq!(verify_current(&layout), first);
    assert!(snapshot(&layout.generation_dir(&first)) == first_files);

    // With room again, the next build succeeds without cleanup.
    assert!(build_cmd(root).status().unwrap().success());
    let second = verify_current(&layout);
    assert_ne!(second, first);
    assert!(!layout.tmp_dir().exists() || fs::read_dir(layout.tmp_dir()).unwrap().next().is_none());

    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Release);
    let seen = client.join().expect("the client saw a bad answer");
    let _ = server.kill();
    let _ = server.wait();
    assert!(seen.generations.contains_key(&first), "{seen:?}");
    assert!(seen.generations.contains_key(&second), "{seen:?}");
    eprintln!("out of room: {}", stderr.lines().last().unwrap_or(""));
}
