//! `portale build`: every dataset into a new generation, published atomically.
//!
//! The steps: take the site lock (one build at a time), clear what a killed build left
//! in `tmp/`, process each dataset (in parallel with `--jobs`), reuse a dataset from the
//! served generation when its inputs hash the same (the incremental cache), write the
//! outputs and the manifest into `tmp/<gen>`, fsync, move it into `generations/`, and
//! replace `CURRENT` by a rename. If any dataset fails (and `--keep-going` is not set)
//! nothing is published: the served generation stays byte-identical.
//!
//! The search index ([`crate::search::publish`]) of the new generation is written before
//! `CURRENT` is switched, under the search lock held until the switch, so the index and
//! the generation flip together; an index that cannot be written fails the build and
//! nothing is published. A build that changes nothing still refreshes an index that is
//! missing or was built from other inputs (another synonyms list, newer harvests).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::SiteLayout;
use crate::config::{Recipe, SiteConfig};
use crate::etl::pipeline::{self, EtlError, Stage};
use crate::etl::write::{OutputFormat, record_count, write_table};
use crate::model::{
    Dataset, Distribution, MANIFEST_VERSION, Manifest, Picture, PictureKind, TileSet,
};
use crate::pictures::chart;
use crate::search::{SearchError, Synonyms, publish as search_index};
use crate::tiles::{self, TilingOptions, write_pmtiles};

/// How many old generations are kept besides the served one, for in-flight downloads.
pub const KEEP_OLD_GENERATIONS: usize = 2;

/// Options of `portale build`.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub jobs: usize,
    pub keep_going: bool,
}

/// What happened to one dataset.
#[derive(Debug, Clone)]
pub enum Status {
    Built,
    /// Inputs unchanged: the files of the served generation were reused.
    Reused,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct DatasetOutcome {
    pub id: String,
    pub status: Status,
    pub rows: u64,
    pub rejected: u64,
    pub elapsed: Duration,
    pub outputs: Vec<String>,
}

/// The result of a build.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The generation now served (new, or the old one when nothing changed).
    pub generation: Option<String>,
    /// True when nothing changed and no generation was written.
    pub up_to_date: bool,
    pub outcomes: Vec<DatasetOutcome>,
    pub elapsed: Duration,
    /// The search index served with the generation (`None` when nothing was published).
    pub search: Option<search_index::RefreshReport>,
}

/// Progress of a build, for a terminal or a log.
pub trait Progress: Sync {
    fn stage(&self, dataset: &str, stage: Stage);
    fn finished(&self, outcome: &DatasetOutcome);
}

/// A progress sink that says nothing.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: Stage) {}
    fn finished(&self, _: &DatasetOutcome) {}
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("another `portale build` is running on {0} (its lock is held); wait for it to finish")]
    Locked(PathBuf),
    /// The search index could not be written (or the synonyms list read).
    #[error("search index: {0}")]
    Search(#[from] SearchError),
    #[error(
        "{failed} of {total} datasets failed; nothing was published and the served generation is unchanged:\n{details}"
    )]
    DatasetsFailed {
        failed: usize,
        total: usize,
        details: String,
        report: Box<BuildReport>,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BuildError + '_ {
    move |source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Hash of everything a dataset's output depends on: the program version, the catalogue
/// configuration, and every file of the dataset folder (recipe and sources).
pub fn input_hash(config: &SiteConfig, recipe: &Recipe) -> Result<String, BuildError> {
    let mut h = Sha256::new();
    h.update(crate::VERSION.as_bytes());
    h.update([0]);
    h.update(config.catalog.text.as_bytes());
    h.update([0]);
    let mut files = Vec::new();
    collect_files(&recipe.dir, &mut files).map_err(io_err(&recipe.dir))?;
    files.sort();
    for f in files {
        let rel = f.strip_prefix(&recipe.dir).unwrap_or(&f);
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        let mut file = File::open(&f).map_err(io_err(&f))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(io_err(&f))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        h.update([0]);
    }
    Ok(hex::encode(h.finalize()))
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        let t = e.file_type()?;
        if t.is_dir() {
            collect_files(&p, out)?;
        } else if t.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// SHA-256 and size of a file.
pub fn file_digest(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

/// The formats a dataset is published in.
pub fn formats_for(recipe: &Recipe, is_layer: bool) -> Result<Vec<OutputFormat>, EtlError> {
    let names = recipe.output_formats().unwrap_or_else(|| {
        let mut v = vec!["csv".to_string(), "json".to_string()];
        if is_layer {
            v.extend(["geojson", "geoparquet", "fgb", "gpkg"].map(String::from));
        }
        v
    });
    let mut out = Vec::new();
    for n in names {
        let f = match n.as_str() {
            "csv" => OutputFormat::Csv,
            "json" => OutputFormat::Json,
            "geojson" => OutputFormat::Geojson,
            "geoparquet" => OutputFormat::Geoparquet,
            "fgb" => OutputFormat::Fgb,
            "gpkg" => OutputFormat::Gpkg,
            other => {
                return Err(EtlError::Other(format!(
                    "{}: unknown output format {other:?}",
                    recipe.path.display()
                )));
            }
        };
        if f.needs_geometry() && !is_layer {
            return Err(EtlError::Other(format!(
                "{}: output format {n:?} needs geometries, but the dataset has none (add a [geometry] section or remove {n:?})",
                recipe.path.display()
            )));
        }
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Makes a written file durable and returns its SHA-256 and size, as the manifest lists them.
fn seal(path: &Path) -> Result<(String, u64), EtlError> {
    File::open(path)
        .and_then(|fh| fh.sync_all())
        .map_err(|e| EtlError::Other(format!("{}: cannot sync: {e}", path.display())))?;
    file_digest(path)
        .map_err(|e| EtlError::Other(format!("{}: cannot read back: {e}", path.display())))
}

/// Seals a picture written at `dir/file` for the web pages (see [`Picture`]).
pub fn seal_picture(
    kind: PictureKind,
    dir: &Path,
    rel_dir: &str,
    file: &str,
    media_type: &str,
    alt: String,
) -> Result<Picture, EtlError> {
    let (sha256, byte_size) = seal(&dir.join(file))?;
    Ok(Picture {
        kind,
        file: file.to_string(),
        path: format!("{rel_dir}/{file}"),
        media_type: media_type.to_string(),
        byte_size,
        sha256,
        alt,
    })
}

fn sync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Processes one dataset and writes its files into `gen_dir/datasets/<id>/`.
fn build_one(
    config: &SiteConfig,
    recipe: &Recipe,
    gen_dir: &Path,
    modified: &str,
    hash: String,
    progress: &dyn Progress,
) -> Result<Dataset, EtlError> {
    let processed = pipeline::process(recipe, &config.catalog, &|s| progress.stage(&recipe.id, s))?;
    progress.stage(&recipe.id, Stage::Write);
    let formats = formats_for(recipe, processed.table.geoms.is_some())?;
    let rel_dir = format!("datasets/{}", recipe.id);
    let dir = gen_dir.join(&rel_dir);
    fs::create_dir_all(&dir)
        .map_err(|e| EtlError::Other(format!("{}: cannot create: {e}", dir.display())))?;
    let base = recipe.output_name();
    // The formats are independent: write them side by side, one thread each.
    let table = &processed.table;
    let write_one = |f: OutputFormat| -> Result<Distribution, EtlError> {
        let file = format!("{base}.{}", f.extension());
        let path = dir.join(&file);
        write_table(table, f, &path, &base)
            .map_err(|e| EtlError::Other(format!("{}: {e}", recipe.path.display())))?;
        let (sha256, byte_size) = seal(&path)?;
        Ok(Distribution {
            file: file.clone(),
            format: f.eu_format_code().to_string(),
            media_type: f.media_type().to_string(),
            byte_size,
            sha256,
            rows: record_count(table, f),
            path: format!("{rel_dir}/{file}"),
        })
    };
    // A layer's tiles are made beside the formats, by the tiler's own threads.
    let meta = recipe.meta(&config.catalog);
    let tile_one = || -> Result<TileSet, EtlError> {
        let file = format!("{base}.pmtiles");
        let path = dir.join(&file);
        let (min_zoom, max_zoom) = recipe.tile_zooms();
        let opts = TilingOptions {
            layer: recipe.id.clone(),
            min_zoom,
            max_zoom,
            name: meta.title.clone(),
            description: meta.description.clone(),
            attribution: tiles::attribution(&meta),
            threads: 0,
        };
        let report = write_pmtiles(table, &opts, &path)
            .map_err(|e| EtlError::Other(format!("{}: {e}", recipe.path.display())))?;
        let (sha256, byte_size) = seal(&path)?;
        Ok(TileSet {
            file: file.clone(),
            path: format!("{rel_dir}/{file}"),
            byte_size,
            sha256,
            layer: recipe.id.clone(),
            min_zoom: report.min_zoom,
            max_zoom: report.max_zoom,
            bounds: report.bounds,
            center: report.center,
            tile_count: report.tile_count,
            tile_contents: report.tile_contents,
            largest_tile_bytes: report.largest_tile_bytes,
            dropped: report.dropped,
        })
    };
    type Written = (
        Vec<Result<Distribution, EtlError>>,
        Option<Result<TileSet, EtlError>>,
    );
    let (results, tiles): Written = std::thread::scope(|scope| {
        let tiler = table.geoms.is_some().then(|| scope.spawn(tile_one));
        let handles: Vec<_> = formats
            .iter()
            .map(|&f| scope.spawn(move || write_one(f)))
            .collect();
        let results = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(EtlError::Other("a writer thread panicked".into())))
            })
            .collect();
        let tiles = tiler.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(EtlError::Other("the tiler thread panicked".into())))
        });
        (results, tiles)
    });
    let distributions = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let tiles = tiles.transpose()?;
    // Pictures for the web pages, made from the same table (src/pictures/).
    let mut pictures: Vec<Picture> = Vec::new();
    if let (Some(geoms), Some(layer)) = (&table.geoms, &processed.layer)
        && let Some(svg) = crate::pictures::thumbnail::thumbnail_svg(geoms, &meta.title)
    {
        let file = "thumbnail.svg";
        let path = dir.join(file);
        fs::write(&path, svg)
            .map_err(|e| EtlError::Other(format!("{}: cannot write: {e}", path.display())))?;
        let alt =
            crate::pictures::thumbnail::alt_text(&meta.title, layer.features, layer.geometry_type);
        pictures.push(seal_picture(
            PictureKind::Thumbnail,
            &dir,
            &rel_dir,
            file,
            "image/svg+xml",
            alt,
        )?);
    }
    let taken = |file: &str| distributions.iter().any(|d| d.file == file);
    if let Some(series) = chart::series(&table.df, &processed.fields)
        && !taken(chart::SVG_FILE)
        && !taken(chart::DATA_FILE)
    {
        chart::write(&dir, &series)
            .map_err(|e| EtlError::Other(format!("{}: {e}", recipe.path.display())))?;
        let alt = series.alt();
        pictures.push(seal_picture(
            PictureKind::Chart,
            &dir,
            &rel_dir,
            chart::SVG_FILE,
            "image/svg+xml",
            alt.clone(),
        )?);
        pictures.push(seal_picture(
            PictureKind::Chart,
            &dir,
            &rel_dir,
            chart::DATA_FILE,
            "application/json",
            alt,
        )?);
    }
    sync_dir(&dir).map_err(|e| EtlError::Other(format!("{}: cannot sync: {e}", dir.display())))?;
    Ok(Dataset {
        id: recipe.id.clone(),
        meta,
        fields: processed.fields,
        rows: processed.table.len() as u64,
        extent: processed.extent,
        layer: processed.layer,
        distributions,
        quality: processed.quality,
        modified: modified.to_string(),
        input_hash: hash,
        tiles,
        pictures,
    })
}

/// Links (or copies) a dataset's files from the served generation into the new one.
fn reuse_one(layout: &SiteLayout, old_gen: &str, old: &Dataset, gen_dir: &Path) -> io::Result<()> {
    let files = old
        .distributions
        .iter()
        .map(|d| (&d.path, d.byte_size))
        .chain(old.tiles.iter().map(|t| (&t.path, t.byte_size)))
        .chain(old.pictures.iter().map(|p| (&p.path, p.byte_size)));
    for (path, byte_size) in files {
        let from = layout.generation_dir(old_gen).join(path);
        let to = gen_dir.join(path);
        let meta = fs::metadata(&from)?;
        if meta.len() != byte_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} has {} bytes, the manifest says {}",
                    from.display(),
                    meta.len(),
                    byte_size
                ),
            ));
        }
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if fs::hard_link(&from, &to).is_err() {
            fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

fn new_generation_name() -> String {
    let now = chrono::Utc::now();
    format!(
        "g{}-{:04x}",
        now.format("%Y%m%dT%H%M%S%3fZ"),
        std::process::id() & 0xffff
    )
}

/// Builds every dataset of `config` into `layout` and publishes the result.
pub fn build(
    config: &SiteConfig,
    layout: &SiteLayout,
    opts: &BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    // Read first: a malformed list fails the build before any work.
    let synonyms = Synonyms::for_catalog(&catalog_dir(config))?;
    fs::create_dir_all(layout.root()).map_err(io_err(layout.root()))?;
    let lock_path = layout.root().join(".lock");
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io_err(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(BuildError::Locked(layout.root().to_path_buf()));
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(BuildError::Io {
                path: lock_path,
                source: e,
            });
        }
    }

    // A killed build leaves its half-written generation in tmp/: we hold the lock, so
    // nothing else is writing there.
    let tmp = layout.tmp_dir();
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    fs::create_dir_all(layout.generations_dir()).map_err(io_err(&layout.generations_dir()))?;

    let current = layout
        .current_generation()
        .map_err(io_err(&layout.current_file()))?;
    let previous: Option<Manifest> = current
        .as_ref()
        .and_then(|g| layout.read_manifest(g).ok())
        .filter(|m| m.version == MANIFEST_VERSION);

    let generation = new_generation_name();
    let gen_tmp = tmp.join(&generation);
    fs::create_dir_all(&gen_tmp).map_err(io_err(&gen_tmp))?;
    let built_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, DatasetOutcome, Option<Dataset>)>> = Mutex::new(Vec::new());
    let jobs = opts.jobs.max(1).min(config.recipes.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(recipe) = config.recipes.get(i) else {
                        break;
                    };
                    let t0 = Instant::now();
                    let outcome = run_dataset(
                        config,
                        recipe,
                        layout,
                        current.as_deref(),
                        previous.as_ref(),
                        &gen_tmp,
                        &built_at,
                        progress,
                    );
                    let (status, ds) = match outcome {
                        Ok((ds, reused)) => (
                            if reused {
                                Status::Reused
                            } else {
                                Status::Built
                            },
                            Some(ds),
                        ),
                        Err(e) => {
                            // With --keep-going, a failed dataset keeps serving its last
                            // good version rather than vanishing from the catalogue.
                            let kept = if opts.keep_going {
                                keep_previous(
                                    layout,
                                    current.as_deref(),
                                    previous.as_ref(),
                                    &recipe.id,
                                    &gen_tmp,
                                )
                            } else {
                                None
                            };
                            (Status::Failed(e), kept)
                        }
                    };
                    let out = DatasetOutcome {
                        id: recipe.id.clone(),
                        status,
                        rows: ds.as_ref().map(|d| d.rows).unwrap_or(0),
                        rejected: ds.as_ref().map(|d| d.quality.rows_rejected).unwrap_or(0),
                        elapsed: t0.elapsed(),
                        outputs: ds
                            .as_ref()
                            .map(|d| {
                                d.distributions
                                    .iter()
                                    .map(|x| x.file.clone())
                                    .chain(d.tiles.iter().map(|t| t.file.clone()))
                                    .chain(d.pictures.iter().map(|p| p.file.clone()))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    };
                    progress.finished(&out);
                    if let Ok(mut r) = results.lock() {
                        r.push((i, out, ds));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|r| r.0);
    let outcomes: Vec<DatasetOutcome> = results.iter().map(|r| r.1.clone()).collect();
    let failed: Vec<&DatasetOutcome> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Failed(_)))
        .collect();

    if !failed.is_empty() && !opts.keep_going {
        let details = failed
            .iter()
            .map(|o| match &o.status {
                Status::Failed(e) => format!("[{}] {e}", o.id),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let _ = fs::remove_dir_all(&gen_tmp);
        let report = BuildReport {
            generation: current,
            up_to_date: false,
            outcomes: outcomes.clone(),
            elapsed: started.elapsed(),
            search: None,
        };
        return Err(BuildError::DatasetsFailed {
            failed: failed.len(),
            total: outcomes.len(),
            details,
            report: Box::new(report),
        });
    }

    let datasets: Vec<Dataset> = results.into_iter().filter_map(|r| r.2).collect();
    let all_reused = outcomes.iter().all(|o| matches!(o.status, Status::Reused));
    if let Some(prev) = &previous
        && all_reused
        && prev.datasets.len() == datasets.len()
        && prev.catalog == config.catalog.catalog
    {
        let _ = fs::remove_dir_all(&gen_tmp);
        // The served index may be missing, or built from other inputs.
        let search = match current.as_deref() {
            Some(name) => Some(search_index::refresh(
                layout.root(),
                &synonyms,
                Some((name, prev)),
            )?),
            None => None,
        };
        return Ok(BuildReport {
            generation: current,
            up_to_date: true,
            outcomes,
            elapsed: started.elapsed(),
            search,
        });
    }

    let manifest = Manifest {
        version: MANIFEST_VERSION,
        generation: generation.clone(),
        built_at,
        portale_version: crate::VERSION.to_string(),
        catalog: config.catalog.catalog.clone(),
        datasets,
    };
    let search = publish(layout, &gen_tmp, &generation, &manifest, &synonyms)?;
    prune(layout, &generation);
    Ok(BuildReport {
        generation: Some(generation),
        up_to_date: false,
        outcomes,
        elapsed: started.elapsed(),
        search: Some(search),
    })
}

#[allow(clippy::too_many_arguments)]
fn run_dataset(
    config: &SiteConfig,
    recipe: &Recipe,
    layout: &SiteLayout,
    current: Option<&str>,
    previous: Option<&Manifest>,
    gen_tmp: &Path,
    built_at: &str,
    progress: &dyn Progress,
) -> Result<(Dataset, bool), String> {
    let hash = input_hash(config, recipe).map_err(|e| e.to_string())?;
    if let (Some(cur), Some(prev)) = (current, previous)
        // A layer built before tiles existed is rebuilt to get them.
        && let Some(old) = prev
            .dataset(&recipe.id)
            .filter(|d| d.input_hash == hash && (d.layer.is_none() || d.tiles.is_some()))
    {
        if reuse_one(layout, cur, old, gen_tmp).is_ok() {
            return Ok((old.clone(), true));
        }
        // The old files are damaged or gone: rebuild from the sources.
        let _ = fs::remove_dir_all(gen_tmp.join("datasets").join(&recipe.id));
    }
    match build_one(config, recipe, gen_tmp, built_at, hash, progress) {
        Ok(ds) => Ok((ds, false)),
        Err(e) => {
            let _ = fs::remove_dir_all(gen_tmp.join("datasets").join(&recipe.id));
            Err(e.to_string())
        }
    }
}

/// The served version of a dataset, linked into the new generation, if there is one.
fn keep_previous(
    layout: &SiteLayout,
    current: Option<&str>,
    previous: Option<&Manifest>,
    id: &str,
    gen_tmp: &Path,
) -> Option<Dataset> {
    let (cur, prev) = (current?, previous?);
    let old = prev.dataset(id)?;
    match reuse_one(layout, cur, old, gen_tmp) {
        Ok(()) => Some(old.clone()),
        Err(_) => {
            let _ = fs::remove_dir_all(gen_tmp.join("datasets").join(id));
            None
        }
    }
}

/// The catalogue folder (`catalog.toml`, `synonyms.txt`).
fn catalog_dir(config: &SiteConfig) -> PathBuf {
    config
        .catalog
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| config.root.join("catalog"))
}

/// Writes the manifest, fsyncs, moves the generation in place, publishes its search
/// index and switches CURRENT.
fn publish(
    layout: &SiteLayout,
    gen_tmp: &Path,
    generation: &str,
    manifest: &Manifest,
    synonyms: &Synonyms,
) -> Result<search_index::RefreshReport, BuildError> {
    let manifest_tmp = gen_tmp.join("manifest.json");
    let bytes = serde_json::to_vec_pretty(manifest).map_err(|e| BuildError::Io {
        path: manifest_tmp.clone(),
        source: io::Error::other(e),
    })?;
    {
        let mut f = File::create(&manifest_tmp).map_err(io_err(&manifest_tmp))?;
        f.write_all(&bytes).map_err(io_err(&manifest_tmp))?;
        f.sync_all().map_err(io_err(&manifest_tmp))?;
    }
    sync_dir(gen_tmp).map_err(io_err(gen_tmp))?;
    let final_dir = layout.generation_dir(generation);
    fs::rename(gen_tmp, &final_dir).map_err(io_err(&final_dir))?;
    sync_dir(&layout.generations_dir()).map_err(io_err(&layout.generations_dir()))?;

    // The index of the new generation, published before CURRENT switches; the lock is
    // held until then, so that a harvest finishing meanwhile indexes the new generation.
    let indexed = search_index::lock(layout.root()).and_then(|lock| {
        search_index::refresh_locked(&lock, synonyms, Some((generation, manifest)), false)
            .map(|report| (lock, report))
    });
    let (_search_lock, search) = match indexed {
        Ok(done) => done,
        Err(e) => {
            // Never served: remove it rather than leave it to the pruning.
            let _ = fs::remove_dir_all(&final_dir);
            return Err(e.into());
        }
    };

    let current_tmp = layout.root().join("CURRENT.tmp");
    {
        let mut f = File::create(&current_tmp).map_err(io_err(&current_tmp))?;
        f.write_all(generation.as_bytes())
            .map_err(io_err(&current_tmp))?;
        f.write_all(b"\n").map_err(io_err(&current_tmp))?;
        f.sync_all().map_err(io_err(&current_tmp))?;
    }
    fs::rename(&current_tmp, layout.current_file()).map_err(io_err(&layout.current_file()))?;
    // A copy of the served manifest at the top of the site, for people and tools that
    // look there; the server itself reads the generation's own manifest.
    let top_tmp = layout.root().join("manifest.json.tmp");
    fs::write(&top_tmp, &bytes).map_err(io_err(&top_tmp))?;
    fs::rename(&top_tmp, layout.root().join("manifest.json")).map_err(io_err(&top_tmp))?;
    sync_dir(layout.root()).map_err(io_err(layout.root()))?;
    Ok(search)
}

/// Removes generations older than the last few (never the served one).
fn prune(layout: &SiteLayout, current: &str) {
    let Ok(entries) = fs::read_dir(layout.generations_dir()) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| super::is_generation_name(n) && n != current)
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(KEEP_OLD_GENERATIONS);
    for n in names.into_iter().take(excess) {
        let _ = fs::remove_dir_all(layout.generation_dir(&n));
    }
}
