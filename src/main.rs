//! The `portale` command line: the only place that prints for humans and picks exit codes.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};

/// mimalloc instead of glibc's malloc: the server makes and frees many small objects per
/// request (DCAT pages, GeoJSON pages), and with glibc a long-lived heap (the CKAN package
/// cache of a 10,000-dataset catalogue) made a DCAT crawl 40 % slower than on a fresh
/// process; mimalloc keeps per-thread free lists and does not degrade.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options for a long-running server: freed memory goes back to the system at
/// once (`MIMALLOC_ARENA_EAGER_COMMIT=0`, `MIMALLOC_PURGE_DELAY=0`).
///
/// With mimalloc's defaults (arenas committed eagerly, purges delayed) the server's
/// resident memory under the mixed load of `bench/load.sh` climbed from 31 MiB to 290–700
/// MiB and kept moving: memory freed by the blocking threads (GeoJSON pages, the Turtle
/// feed) stayed committed. With these two options it stays near 50–60 MiB at the same
/// request rate (BENCHMARKS.md, "Load").
///
/// mimalloc reads its options from the environment when the process starts, before
/// `main`, and setting them later with `mi_option_set` did not change the resident memory
/// (measured), so `serve` and `up` run themselves again with the variables set (`exec`: same
/// process id, arguments and everything else). A value the user gave is kept.
const SERVER_ALLOCATOR_OPTIONS: [(&str, &str); 2] = [
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
    ("MIMALLOC_PURGE_DELAY", "0"),
];

/// Runs this program again with [`SERVER_ALLOCATOR_OPTIONS`] when one is missing. Returns
/// only when they are all set already, or when the program cannot be run again (with a
/// warning: the server then works with mimalloc's defaults).
fn with_server_allocator_options() {
    use std::os::unix::process::CommandExt;
    let missing: Vec<_> = SERVER_ALLOCATOR_OPTIONS
        .iter()
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_default();
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("portale: cannot find its own executable to set mimalloc's options: {e}");
            return;
        }
    };
    let mut command = std::process::Command::new(&exe);
    command.arg0(arg0).args(args);
    for (name, value) in missing {
        command.env(name, value);
    }
    let e = command.exec();
    eprintln!(
        "portale: cannot run {} again with mimalloc's server options: {e}",
        exe.display()
    );
}

use clap::{Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use portale::config::{self, SiteConfig};
use portale::etl::pipeline::{self, Stage};
use portale::store::SiteLayout;
use portale::store::build::{self, BuildOptions, BuildReport, DatasetOutcome, Progress, Status};

#[derive(Parser)]
#[command(
    name = "portale",
    version,
    about = "Open-data and GIS publishing platform for Italian municipalities"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines on standard error: `text` for people, `json` (one JSON object per line:
    /// timestamp, level, target, message, fields and the request span) for log collectors.
    /// `RUST_LOG` chooses what is logged (default `info`).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "PORTALE_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Build every dataset into a new generation of the site (incremental).
    Build {
        /// Folder holding catalog/ and datasets/.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output folder (default: ROOT/site).
        #[arg(long)]
        site: Option<PathBuf>,
        /// Datasets built in parallel (default: the number of CPUs).
        #[arg(long)]
        jobs: Option<usize>,
        /// Publish the datasets that succeeded even if others failed.
        #[arg(long)]
        keep_going: bool,
    },
    /// Validate the catalogue and every recipe, reading the sources, without writing.
    Check {
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Serve the current generation of the site.
    Serve {
        #[arg(long, default_value = "site")]
        site: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Public base URL of the site (behind a reverse proxy, or on another address than
        /// catalog.toml's base_url); every URL Portale writes starts with it.
        #[arg(long)]
        public_url: Option<String>,
        /// Folder holding catalog/: runs the scheduled harvests of its [[harvest]] sources
        /// in the background while serving.
        #[arg(long)]
        root: Option<PathBuf>,
    },
    /// Build, then serve (and run the scheduled harvests of catalog.toml).
    Up {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        #[arg(long)]
        site: Option<PathBuf>,
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Public base URL of the site (see `serve`).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Pull the remote catalogues configured in catalog.toml ([[harvest]]) into the site as
    /// federated records, and write the harvest report.
    Harvest {
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Site folder (default: ROOT/site).
        #[arg(long)]
        site: Option<PathBuf>,
        /// Harvest only this source (repeatable); the others keep their records.
        #[arg(long = "source", value_name = "NAME")]
        sources: Vec<String>,
    },
    /// Rebuild the search index of the served generation and the harvested records
    /// (`build` and `harvest` keep it up to date by themselves).
    Index {
        /// Folder holding catalog/ (for catalog/synonyms.txt).
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Site folder (default: ROOT/site).
        #[arg(long)]
        site: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve { .. } | Command::Up { .. }) {
        with_server_allocator_options();
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Build {
            root,
            site,
            jobs,
            keep_going,
        } => {
            let site = site.unwrap_or_else(|| root.join("site"));
            cmd_build(&root, &site, jobs, keep_going).map(|_| ())
        }
        Command::Check { root } => cmd_check(&root),
        Command::Serve {
            site,
            addr,
            public_url,
            root,
        } => cmd_serve(&site, addr, public_url, root.as_deref()),
        Command::Up {
            root,
            site,
            jobs,
            addr,
            public_url,
        } => {
            let site = site.unwrap_or_else(|| root.join("site"));
            cmd_build(&root, &site, jobs, false)?;
            cmd_serve(&site, addr, public_url, Some(&root))
        }
        Command::Harvest {
            root,
            site,
            sources,
        } => {
            let site = site.unwrap_or_else(|| root.join("site"));
            cmd_harvest(&root, &site, &sources)
        }
        Command::Index { root, site } => {
            let site = site.unwrap_or_else(|| root.join("site"));
            cmd_index(&root, &site)
        }
    }
}

fn cmd_index(root: &Path, site: &Path) -> Result<()> {
    let catalog = root.join("catalog");
    let synonyms = portale::search::Synonyms::for_catalog(&catalog)
        .with_context(|| format!("cannot read the synonyms of {}", catalog.display()))?;
    let report = portale::search::publish::rebuild(site, &synonyms, None)
        .with_context(|| format!("cannot index {}", site.display()))?;
    let m = &report.meta;
    println!(
        "search index {}: {} records ({} own datasets of generation {}, {} harvested of which \
         {} republished), {} bytes, {:.2}s",
        report.index,
        m.docs,
        m.local,
        m.generation.as_deref().unwrap_or("none"),
        m.harvested,
        m.published_harvested,
        m.bytes,
        report.elapsed.as_secs_f64()
    );
    Ok(())
}

/// The line `build` and `harvest` print about the search index.
fn index_line(report: &portale::search::publish::RefreshReport) -> String {
    if report.up_to_date {
        format!("search index {} is up to date", report.index)
    } else {
        format!(
            "search index {}: {} records, {} bytes, {:.2}s",
            report.index,
            report.meta.docs,
            report.meta.bytes,
            report.elapsed.as_secs_f64()
        )
    }
}

fn load_catalog(root: &Path) -> Result<config::CatalogConfig> {
    config::CatalogConfig::load(&root.join("catalog").join("catalog.toml")).map_err(|e| {
        anyhow::anyhow!(
            "the catalogue configuration in {} has {} problem(s):\n{e}",
            root.display(),
            e.0.len()
        )
    })
}

fn cmd_harvest(root: &Path, site: &Path, only: &[String]) -> Result<()> {
    let catalog = load_catalog(root)?;
    if catalog.harvest.is_empty() {
        println!(
            "no [[harvest]] sources in {}: nothing to harvest (see docs/RECIPES.md)",
            catalog.path.display()
        );
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let only = (!only.is_empty()).then_some(only);
    let report = runtime
        .block_on(portale::federation::harvest(site, &catalog.harvest, only))
        .with_context(|| format!("cannot harvest into {}", site.display()))?;
    println!(
        "{:<20} {:<5} {:<9} {:>5} {:>6} {:>7} {:>9} {:>7} {:>7} {:>7}",
        "source",
        "kind",
        "status",
        "pages",
        "new",
        "updated",
        "unchanged",
        "deleted",
        "skipped",
        "stored"
    );
    let mut failed = Vec::new();
    for s in &report.sources {
        if only.is_some_and(|o| !o.contains(&s.name)) {
            continue;
        }
        let r = &s.records;
        println!(
            "{:<20} {:<5} {:<9} {:>5} {:>6} {:>7} {:>9} {:>7} {:>7} {:>7}",
            s.name,
            s.kind.as_str(),
            s.status.as_str(),
            s.pages,
            r.new,
            r.updated,
            r.unchanged,
            r.deleted,
            r.skipped,
            r.stored
        );
        if let Some(why) = &s.stopped_because {
            println!("    stopped: {why}");
        }
        if r.not_seen_kept > 0 {
            println!(
                "    {} records missing from this incomplete crawl are kept until a complete one",
                r.not_seen_kept
            );
        }
        for k in s.skipped.iter().take(5) {
            println!(
                "    skipped {}: {}",
                k.id.as_deref().or(k.title.as_deref()).unwrap_or("a record"),
                k.reason
            );
        }
        if r.skipped > 5 {
            println!("    ... {} skipped in all (see the report)", r.skipped);
        }
        if !s.sanitized.is_empty() {
            println!("    markup removed from {} records", s.sanitized.len());
        }
        if !s.defects.is_empty() {
            let d: Vec<String> = s.defects.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("    defects: {}", d.join(", "));
        }
        for w in &s.warnings {
            println!("    warning: {w}");
        }
        if s.status == portale::federation::CrawlStatus::Failed {
            failed.push(format!(
                "{}: {}",
                s.name,
                s.stopped_because.as_deref().unwrap_or("failed")
            ));
        }
    }
    for removed in &report.removed_sources {
        println!("removed the records of {removed}, no longer in catalog.toml");
    }
    println!(
        "\nreport: {}",
        portale::federation::FederationLayout::new(site)
            .report_path()
            .display()
    );
    // Whatever failed, the stores written are what the index must hold.
    let indexed = portale::search::publish::refresh_for_catalog(site, &root.join("catalog"))
        .with_context(|| {
            format!(
                "the harvest finished but the search index of {} could not be refreshed \
                 (the previous one stays served; run `portale index`)",
                site.display()
            )
        })?;
    println!("{}", index_line(&indexed));
    if !failed.is_empty() {
        anyhow::bail!(
            "{} source(s) could not be harvested; their previous records are kept:\n{}",
            failed.len(),
            failed.join("\n")
        );
    }
    Ok(())
}

fn load(root: &Path) -> Result<SiteConfig> {
    config::load_site(root).map_err(|e| {
        anyhow::anyhow!(
            "the configuration in {} has {} problem(s):\n{e}",
            root.display(),
            e.0.len()
        )
    })
}

fn cmd_check(root: &Path) -> Result<()> {
    let site = load(root)?;
    let mut failures = Vec::new();
    for recipe in &site.recipes {
        match pipeline::process(recipe, &site.catalog, &|_| {}) {
            Ok(p) => {
                let q = &p.quality;
                let formats = build::formats_for(recipe, p.table.geoms.is_some());
                if let Err(e) = formats {
                    failures.push(format!("[{}] {e}", recipe.id));
                    continue;
                }
                println!(
                    "ok    {:<28} {:>7} rows read, {:>7} kept, {:>5} rejected, {:>5} filtered{}",
                    recipe.id,
                    q.rows_read,
                    q.rows_kept,
                    q.rows_rejected,
                    q.rows_filtered,
                    p.layer
                        .as_ref()
                        .map(|l| format!(
                            ", {} {} from EPSG:{}",
                            l.features,
                            l.geometry_type.as_str(),
                            l.source_crs
                        ))
                        .unwrap_or_default()
                );
                for d in &q.detected {
                    println!("      detected {} = {}", d.property, d.value);
                }
                for r in q.rejections.iter().take(5) {
                    println!("      rejected {}", pipeline::describe_rejection(r));
                }
                if q.rejections.len() > 5 {
                    println!("      ... and {} more rejected rows", q.rows_rejected - 5);
                }
            }
            Err(e) => failures.push(format!("[{}] {e}", recipe.id)),
        }
    }
    if failures.is_empty() {
        println!("{} datasets checked, no problems", site.recipes.len());
        Ok(())
    } else {
        anyhow::bail!(
            "{} of {} datasets have problems:\n{}",
            failures.len(),
            site.recipes.len(),
            failures.join("\n")
        )
    }
}

/// Progress on a terminal: one bar per dataset showing its stage.
struct TerminalProgress {
    multi: MultiProgress,
    bars: Mutex<Vec<(String, ProgressBar)>>,
}

impl TerminalProgress {
    fn bar(&self, id: &str) -> ProgressBar {
        let Ok(mut bars) = self.bars.lock() else {
            return ProgressBar::hidden();
        };
        if let Some((_, b)) = bars.iter().find(|(i, _)| i == id) {
            return b.clone();
        }
        let b = self.multi.add(ProgressBar::new_spinner());
        b.set_style(
            ProgressStyle::with_template("{spinner} {prefix:28} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_prefix(id.to_string());
        b.enable_steady_tick(Duration::from_millis(120));
        bars.push((id.to_string(), b.clone()));
        b
    }
}

impl Progress for TerminalProgress {
    fn stage(&self, dataset: &str, stage: Stage) {
        self.bar(dataset).set_message(stage.label());
    }
    fn finished(&self, o: &DatasetOutcome) {
        let b = self.bar(&o.id);
        b.finish_with_message(outcome_line(o));
    }
}

/// Progress in a log: one line per finished dataset.
struct LineProgress;

impl Progress for LineProgress {
    fn stage(&self, _: &str, _: Stage) {}
    fn finished(&self, o: &DatasetOutcome) {
        eprintln!("{:<28} {}", o.id, outcome_line(o));
    }
}

fn outcome_line(o: &DatasetOutcome) -> String {
    match &o.status {
        Status::Built => format!(
            "built in {:.2}s: {} rows, {} rejected",
            o.elapsed.as_secs_f64(),
            o.rows,
            o.rejected
        ),
        Status::Reused => format!("unchanged: {} rows", o.rows),
        Status::Failed(_) => "FAILED".to_string(),
    }
}

fn summary(report: &BuildReport, published: bool) {
    println!(
        "\n{:<28} {:>8} {:>9} {:>8}  outputs",
        "dataset", "rows", "rejected", "time"
    );
    for o in &report.outcomes {
        let status = match o.status {
            Status::Built => "",
            Status::Reused => " (unchanged)",
            Status::Failed(_) => " FAILED",
        };
        println!(
            "{:<28} {:>8} {:>9} {:>7.2}s  {}{}",
            o.id,
            o.rows,
            o.rejected,
            o.elapsed.as_secs_f64(),
            o.outputs.join(" "),
            status
        );
    }
    if !published {
        return;
    }
    match (&report.generation, report.up_to_date) {
        (Some(g), true) => println!(
            "\nnothing changed: still serving generation {g} ({:.2}s)",
            report.elapsed.as_secs_f64()
        ),
        (Some(g), false) => println!(
            "\npublished generation {g} in {:.2}s",
            report.elapsed.as_secs_f64()
        ),
        (None, _) => {}
    }
    if let Some(search) = &report.search {
        println!("{}", index_line(search));
    }
}

fn cmd_build(
    root: &Path,
    site: &Path,
    jobs: Option<usize>,
    keep_going: bool,
) -> Result<BuildReport> {
    let config = load(root)?;
    let layout = SiteLayout::new(site);
    let opts = BuildOptions {
        jobs: jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        }),
        keep_going,
    };
    let result = if std::io::stderr().is_terminal() {
        let progress = TerminalProgress {
            multi: MultiProgress::new(),
            bars: Mutex::new(Vec::new()),
        };
        build::build(&config, &layout, &opts, &progress)
    } else {
        build::build(&config, &layout, &opts, &LineProgress)
    };
    match result {
        Ok(report) => {
            summary(&report, true);
            for o in &report.outcomes {
                if let Status::Failed(e) = &o.status {
                    let what = if o.outputs.is_empty() {
                        "not published"
                    } else {
                        "failed; its previous version stays published"
                    };
                    eprintln!("warning: [{}] {what}: {e}", o.id);
                }
            }
            Ok(report)
        }
        Err(build::BuildError::DatasetsFailed {
            report,
            failed,
            total,
            details,
        }) => {
            summary(&report, false);
            anyhow::bail!(
                "{failed} of {total} datasets failed; nothing was published and the served generation is unchanged:\n{details}"
            )
        }
        Err(e) => Err(e.into()),
    }
}

fn cmd_serve(
    site: &Path,
    addr: SocketAddr,
    public_url: Option<String>,
    harvest_root: Option<&Path>,
) -> Result<()> {
    let harvest_sources = match harvest_root {
        Some(root) => load_catalog(root)?.harvest,
        None => Vec::new(),
    };
    if let Some(u) = &public_url {
        anyhow::ensure!(
            u.starts_with("http://") || u.starts_with("https://"),
            "--public-url must be an absolute http(s) URL, found {u:?}"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let state = portale::server::AppState::open_with(site, public_url)
            .with_context(|| format!("cannot serve {}", site.display()))?;
        state.spawn_watcher(Duration::from_secs(1));
        let scheduled: Vec<String> = harvest_sources
            .iter()
            .filter(|s| s.schedule != config::Schedule::Manual)
            .map(|s| format!("{} ({})", s.name, s.schedule))
            .collect();
        if !scheduled.is_empty() {
            println!("scheduled harvests: {}", scheduled.join(", "));
            let catalog_dir = harvest_root.map(|r| r.join("catalog")).unwrap_or_default();
            tokio::spawn(portale::federation::run_schedule(
                site.to_path_buf(),
                harvest_sources,
                Duration::from_secs(60),
                catalog_dir,
            ));
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let bound = listener.local_addr().context("no local address")?;
        println!(
            "serving {} on http://{bound}/ (Ctrl-C or SIGTERM to stop)",
            site.display()
        );
        portale::server::serve_listener(state, listener, portale::server::ops::shutdown_signal())
            .await
            .context("server error")?;
        Ok(())
    })
}
