//! A killed build never damages what is served: the real binary is killed with SIGKILL
//! at several points of a build; after each kill the site's CURRENT generation is either
//! the old one, untouched, or a complete new one (every file matches the SHA-256 in its
//! manifest), and the next build recovers without manual cleanup.

mod common;
use common::CATALOG;

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

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
    fs::create_dir_all(root.join("catalog")).unwrap();
    fs::write(root.join("catalog/catalog.toml"), CATALOG).unwrap();
    let ds = root.join("datasets/punti");
    fs::create_dir_all(&ds).unwrap();
    fs::write(ds.join("dataset.toml"), RECIPE).unwrap();
    fs::write(ds.join("punti.csv"), points_csv(20_000, 0)).unwrap();
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
    let mut published_during_kills = 0;
    for step in 0..12u32 {
        let delay = full.mul_f64(f64::from(step) / 10.0);
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
    eprintln!(
        "{published_during_kills} of 12 killed builds had already published (full build {full:?})"
    );
}
