//! The fuzz regression corpus, run on the stable toolchain without libFuzzer: every file of
//! `fuzz/corpus/<target>/` (the minimised corpus) and `fuzz/artifacts/<target>/` (inputs
//! that crashed a reader once, renamed after the bug) goes through the same harness the
//! cargo-fuzz target calls (`portale::fuzzing`), and must not panic. Results may be errors.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use portale::fuzzing::Target;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn run_target(target: Target) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = files(&root.join("corpus").join(target.name()));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{} is empty or missing",
        target.name()
    );
    let artifacts = files(&root.join("artifacts").join(target.name()));
    let mut failed = Vec::new();
    for path in corpus.iter().chain(&artifacts) {
        let data = std::fs::read(path).unwrap();
        if catch_unwind(AssertUnwindSafe(|| target.run(&data))).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{}: these inputs panic: {failed:#?}",
        target.name()
    );
}

#[test]
fn csv_read_corpus() {
    run_target(Target::CsvRead);
}

#[test]
fn recipe_corpus() {
    run_target(Target::Recipe);
}

#[test]
fn cql2_text_corpus() {
    run_target(Target::Cql2Text);
}

#[test]
fn cql2_json_corpus() {
    run_target(Target::Cql2Json);
}

#[test]
fn ckan_fq_corpus() {
    run_target(Target::CkanFq);
}

#[test]
fn pmtiles_read_corpus() {
    run_target(Target::PmtilesRead);
}

#[test]
fn mvt_encode_corpus() {
    run_target(Target::MvtEncode);
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    for t in Target::ALL {
        let file = dir.join(format!("{}.rs", t.name()));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("portale::fuzzing::Target::"),
            "{} does not call portale::fuzzing",
            file.display()
        );
    }
}
