//! The in-process search benchmark (issue 5): index build time and size, and the latency
//! of a fixed mix of 1,000 queries, on a generated catalogue.
//!
//! ```text
//! cargo run --release --example search_bench -- --docs 100000
//! cargo run --release --example search_bench -- --site DIR --queries FILE [--rounds 3]
//! ```
//!
//! 1. **Catalogue.** `--docs N` uses `bench/out/search/site-N`, written when missing by
//!    `tools/gen_catalog/gen_catalog.py --profile search` (deterministic: Italian
//!    public-sector vocabulary, ~220 publishers, 25 % harvested records in five federation
//!    stores; see `tools/gen_catalog/search_catalog.py`). The same site is what
//!    `bench/search.sh` serves, so both measurements index the very same records.
//! 2. **Documents.** The records are read and turned into [`SearchDoc`]s the way
//!    `portale index` does it ([`portale::search::publish::documents`]: the current
//!    generation's manifest and every store of `site/federation/`), timed apart.
//! 3. **Build.** [`write_index`] into `bench/out/search/index-N` (emptied first), with the
//!    built-in synonyms: its wall time, and the folder's size (as reported and as walked).
//! 4. **Queries.** The fixed mix of `bench/out/search/queries.jsonl` (written by the same
//!    generator; 1,000 lines: words, two words, phrases, typos, synonyms, accents and
//!    English, exclusions, facet filters with and without words, bbox, temporal, modified
//!    since, sorts, pages 2-5, and 70 completions), every search with `facets` and
//!    `highlight` on and 20 results a page, as `/datasets.json` asks. The mix is run once
//!    as a warm-up (discarded), then `--rounds` times (default 1) measured, one query at a
//!    time on one thread, each timed with [`Instant`] around the engine call alone.
//!
//! Printed: the build, latency percentiles (nearest rank over every measured call: p50,
//! p90, p99, max, mean) overall and per kind of query, the five slowest queries, and one
//! line `SEARCH_BENCH_JSON {...}` for scripts (also written to `--json FILE`); with
//! `--totals FILE`, each search's number of matches, which `bench/search.sh` compares
//! with the server's.
//!
//! Pitfalls: the numbers mean something only on an idle machine and a release build; the
//! index is opened from disk after being written, so the OS page cache holds it (as it
//! would on a server that has been running); the process uses mimalloc like `portale`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Parser;
use serde::Deserialize;
use serde_json::json;

use portale::search::index::write_index;
use portale::search::publish::documents;
use portale::search::{Facet, SearchEngine, SearchRequest, Sort, Synonyms};
use portale::store::SiteLayout;

/// Results a page, as `/datasets.json` serves them.
const PAGE_SIZE: usize = 20;
/// Completions asked for by a suggestion.
const SUGGEST_LIMIT: usize = 8;

#[derive(Parser)]
#[command(about = "In-process search benchmark: index build, then a fixed mix of 1,000 queries")]
struct Args {
    /// Records of the generated catalogue (own datasets and harvested records together).
    #[arg(long, default_value_t = 100_000)]
    docs: usize,
    /// The site to index (default: bench/out/search/site-<docs>, generated when missing).
    #[arg(long)]
    site: Option<PathBuf>,
    /// The query mix (default: bench/out/search/queries.jsonl, generated when missing).
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Where the index is written (emptied first; default bench/out/search/index-<docs>).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Measured rounds of the mix after the warm-up.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Also write the JSON summary to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write each search's number of matches to this file (JSON lines `{"id", "total"}`),
    /// for bench/search.sh to check the server's answers against.
    #[arg(long)]
    totals: Option<PathBuf>,
}

/// One line of the query mix (tools/gen_catalog/search_catalog.py `write_queries`).
#[derive(Debug, Clone, Deserialize)]
struct MixLine {
    id: usize,
    kind: String,
    q: String,
    #[serde(default)]
    filters: BTreeMap<String, Vec<String>>,
    bbox: Option<[f64; 4]>,
    temporal: Option<(Option<String>, Option<String>)>,
    modified_since: Option<String>,
    sort: String,
    page: usize,
}

enum Call {
    Search(SearchRequest),
    Suggest(String),
}

struct Query {
    line: MixLine,
    call: Call,
}

/// One measured call.
struct Sample {
    query: usize,
    elapsed: Duration,
    /// Matches (searches) or words + records (suggestions): a check that work was done.
    found: u64,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let out = PathBuf::from("bench/out/search");
    let site = args
        .site
        .clone()
        .unwrap_or_else(|| out.join(format!("site-{}", args.docs)));
    let queries_path = args
        .queries
        .clone()
        .unwrap_or_else(|| out.join("queries.jsonl"));
    let index_dir = args
        .index
        .clone()
        .unwrap_or_else(|| out.join(format!("index-{}", args.docs)));
    if args.rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    if !site.join("CURRENT").is_file() {
        if args.site.is_some() {
            bail!("{} has no CURRENT: not a site", site.display());
        }
        generate(&[
            "--site",
            &site.to_string_lossy(),
            "--datasets",
            &args.docs.to_string(),
        ])?;
    }
    if !queries_path.is_file() {
        if args.queries.is_some() {
            bail!("{}: no such file", queries_path.display());
        }
        generate(&["--queries", &queries_path.to_string_lossy()])?;
    }

    // Documents, as `portale index` makes them.
    let t = Instant::now();
    let layout = SiteLayout::new(&site);
    let generation = layout
        .current_generation()
        .with_context(|| format!("cannot read {}", layout.current_file().display()))?
        .with_context(|| format!("{} names no generation", layout.current_file().display()))?;
    let manifest = layout
        .read_manifest(&generation)
        .with_context(|| format!("cannot read the manifest of {generation}"))?;
    let stores = portale::federation::load_all(&site)
        .with_context(|| format!("cannot read the federation stores of {}", site.display()))?;
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (docs, (local, harvested, published_harvested)) = documents(Some(&manifest), &stores);
    let documents_s = t.elapsed().as_secs_f64();
    drop((manifest, stores));
    println!(
        "catalogue: {} ({} records: {local} own, {harvested} harvested of which {published_harvested} republished)",
        site.display(),
        docs.len()
    );
    println!("read the site: {read_s:.2} s; made the documents: {documents_s:.2} s");

    // Build.
    if index_dir.exists() {
        fs::remove_dir_all(&index_dir)
            .with_context(|| format!("cannot empty {}", index_dir.display()))?;
    }
    let synonyms = Synonyms::built_in();
    let t = Instant::now();
    let stats = write_index(&docs, &synonyms, &index_dir)
        .with_context(|| format!("cannot write the index into {}", index_dir.display()))?;
    let build_s = t.elapsed().as_secs_f64();
    let walked = folder_bytes(&index_dir)?;
    println!(
        "write_index: {build_s:.2} s for {} documents; index {} ({} bytes reported, {} walked)",
        stats.docs,
        human_bytes(walked),
        stats.bytes,
        walked
    );
    drop(docs);

    let t = Instant::now();
    let engine = SearchEngine::open(&index_dir)
        .with_context(|| format!("cannot open the index in {}", index_dir.display()))?;
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!("open: {open_ms:.1} ms, {} documents", engine.num_docs());

    // Queries.
    let queries = read_mix(&queries_path)?;
    run_mix(&engine, &queries)?; // warm-up, discarded
    let mut samples = Vec::with_capacity(queries.len() * args.rounds);
    for _ in 0..args.rounds {
        samples.extend(run_mix(&engine, &queries)?);
    }

    let all: Vec<&Sample> = samples.iter().collect();
    let overall = Stats::of(&all);
    let searches: Vec<&Sample> = samples
        .iter()
        .filter(|s| matches!(queries[s.query].call, Call::Search(_)))
        .collect();
    let searches_stats = Stats::of(&searches);
    println!();
    println!(
        "latency over {} calls ({} queries x {} round(s), after a warm-up round), ms:",
        samples.len(),
        queries.len(),
        args.rounds
    );
    println!(
        "{:<18} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "kind", "calls", "p50", "p90", "p99", "max", "mean", "mean found"
    );
    let mut kinds: Vec<&str> = Vec::new();
    for q in &queries {
        if !kinds.contains(&q.line.kind.as_str()) {
            kinds.push(&q.line.kind);
        }
    }
    let mut per_kind = serde_json::Map::new();
    for kind in &kinds {
        let of_kind: Vec<&Sample> = samples
            .iter()
            .filter(|s| queries[s.query].line.kind == *kind)
            .collect();
        let st = Stats::of(&of_kind);
        print_row(kind, &st, mean_found(&of_kind));
        per_kind.insert(kind.to_string(), st.to_json());
    }
    print_row("searches", &searches_stats, mean_found(&searches));
    print_row("ALL", &overall, mean_found(&all));

    let mut slowest: Vec<&Sample> = samples.iter().collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.elapsed));
    println!();
    println!("slowest calls:");
    let mut slow_json = Vec::new();
    for s in slowest.iter().take(5) {
        let q = &queries[s.query];
        println!(
            "  {:>8.3} ms  #{} {}: {}  ({} found)",
            ms(s.elapsed),
            q.line.id,
            q.line.kind,
            describe(&q.line),
            s.found
        );
        slow_json.push(json!({
            "id": q.line.id, "kind": q.line.kind, "query": describe(&q.line),
            "ms": round3(ms(s.elapsed)), "found": s.found,
        }));
    }

    let summary = json!({
        "docs": stats.docs,
        "local": local,
        "harvested": harvested,
        "published_harvested": published_harvested,
        "read_site_s": round3(read_s),
        "documents_s": round3(documents_s),
        "build_s": round3(build_s),
        "index_bytes": walked,
        "index_bytes_reported": stats.bytes,
        "open_ms": round3(open_ms),
        "queries": queries.len(),
        "rounds": args.rounds,
        "page_size": PAGE_SIZE,
        "latency_ms": overall.to_json(),
        "searches_latency_ms": searches_stats.to_json(),
        "by_kind": per_kind,
        "slowest": slow_json,
        "goals": {
            "p50_under_1ms": overall.p50 < 1.0,
            "p99_under_5ms": overall.p99 < 5.0,
            "build_under_30s": build_s < 30.0,
        },
    });
    if let Some(path) = &args.totals {
        let mut text = String::new();
        for s in samples.iter().take(queries.len()) {
            if let Call::Search(_) = queries[s.query].call {
                text.push_str(
                    &json!({"id": queries[s.query].line.id, "total": s.found}).to_string(),
                );
                text.push('\n');
            }
        }
        fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let line = format!("SEARCH_BENCH_JSON {summary}");
    println!();
    println!("{line}");
    if let Some(path) = &args.json {
        fs::write(path, format!("{summary}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Runs the search profile of the catalogue generator with `extra` arguments.
fn generate(extra: &[&str]) -> Result<()> {
    let script = "tools/gen_catalog/gen_catalog.py";
    if !Path::new(script).is_file() {
        bail!("{script} not found: run this from the repository's root");
    }
    eprintln!(
        "search_bench: python3 {script} --profile search {}",
        extra.join(" ")
    );
    let status = Command::new("python3")
        .arg(script)
        .args(["--profile", "search"])
        .args(extra)
        .status()
        .context("cannot run python3")?;
    if !status.success() {
        bail!("{script} failed ({status})");
    }
    Ok(())
}

fn read_mix(path: &Path) -> Result<Vec<Query>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let line: MixLine = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a query of the mix", path.display(), i + 1))?;
        let call = to_call(&line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        out.push(Query { line, call });
    }
    if out.is_empty() {
        bail!("{}: no query", path.display());
    }
    Ok(out)
}

fn to_call(line: &MixLine) -> Result<Call> {
    if line.kind == "suggest" {
        return Ok(Call::Suggest(line.q.clone()));
    }
    let mut filters = Vec::new();
    for (name, values) in &line.filters {
        let facet = Facet::from_name(name).with_context(|| format!("unknown facet {name:?}"))?;
        filters.push((facet, values.clone()));
    }
    let date = |s: &Option<String>| -> Result<Option<NaiveDate>> {
        s.as_deref()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").with_context(|| format!("date {d:?}"))
            })
            .transpose()
    };
    let temporal = match &line.temporal {
        Some((start, end)) => Some((date(start)?, date(end)?)),
        None => None,
    };
    let modified_since = line
        .modified_since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .with_context(|| format!("instant {s:?}"))
        })
        .transpose()?;
    let sort = Sort::from_name(&line.sort).with_context(|| format!("sort {:?}", line.sort))?;
    if line.page == 0 {
        bail!("page 0: pages start at 1");
    }
    Ok(Call::Search(SearchRequest {
        q: line.q.clone(),
        filters,
        bbox: line.bbox,
        temporal,
        modified_since,
        only_published: false,
        sort,
        offset: (line.page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        facets: true,
        highlight: true,
    }))
}

fn run_mix(engine: &SearchEngine, queries: &[Query]) -> Result<Vec<Sample>> {
    let mut out = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let (elapsed, found) = match &q.call {
            Call::Search(req) => {
                let t = Instant::now();
                let res = engine.search(req);
                let elapsed = t.elapsed();
                let res =
                    res.with_context(|| format!("query #{}: {}", q.line.id, describe(&q.line)))?;
                std::hint::black_box(&res);
                (elapsed, res.total)
            }
            Call::Suggest(prefix) => {
                let t = Instant::now();
                let res = engine.suggest(prefix, SUGGEST_LIMIT);
                let elapsed = t.elapsed();
                let res = res.with_context(|| format!("suggestion #{}: {prefix:?}", q.line.id))?;
                std::hint::black_box(&res);
                (elapsed, (res.words.len() + res.records.len()) as u64)
            }
        };
        out.push(Sample {
            query: i,
            elapsed,
            found,
        });
    }
    Ok(out)
}

/// Latency statistics in milliseconds; percentiles by nearest rank.
struct Stats {
    n: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

impl Stats {
    fn of(samples: &[&Sample]) -> Stats {
        let mut v: Vec<f64> = samples.iter().map(|s| ms(s.elapsed)).collect();
        v.sort_by(f64::total_cmp);
        let rank = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let k = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[k.clamp(1, v.len()) - 1]
        };
        Stats {
            n: v.len(),
            p50: rank(50.0),
            p90: rank(90.0),
            p99: rank(99.0),
            max: v.last().copied().unwrap_or(0.0),
            mean: if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            },
        }
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "calls": self.n, "p50": round3(self.p50), "p90": round3(self.p90),
            "p99": round3(self.p99), "max": round3(self.max), "mean": round3(self.mean),
        })
    }
}

fn print_row(label: &str, st: &Stats, found: f64) {
    println!(
        "{:<18} {:>6} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>10.0}",
        label, st.n, st.p50, st.p90, st.p99, st.max, st.mean, found
    );
}

fn mean_found(samples: &[&Sample]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.iter().map(|s| s.found as f64).sum::<f64>() / samples.len() as f64
}

/// The query as a short text: `q="..." theme=ENVI bbox=... page=2`.
fn describe(line: &MixLine) -> String {
    let mut parts = vec![format!("q={:?}", line.q)];
    for (k, v) in &line.filters {
        parts.push(format!("{k}={}", v.join("|")));
    }
    if let Some(b) = line.bbox {
        parts.push(format!("bbox={},{},{},{}", b[0], b[1], b[2], b[3]));
    }
    if let Some((s, e)) = &line.temporal {
        parts.push(format!(
            "temporal={}/{}",
            s.as_deref().unwrap_or(".."),
            e.as_deref().unwrap_or("..")
        ));
    }
    if let Some(m) = &line.modified_since {
        parts.push(format!("modified_since={m}"));
    }
    if line.sort != "relevance" {
        parts.push(format!("sort={}", line.sort));
    }
    if line.page > 1 {
        parts.push(format!("page={}", line.page));
    }
    parts.join(" ")
}

fn folder_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let meta = entry
            .metadata()
            .with_context(|| format!("cannot stat {}", entry.path().display()))?;
        total += if meta.is_dir() {
            folder_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

fn human_bytes(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
