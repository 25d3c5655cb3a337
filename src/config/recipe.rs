//! `datasets/<id>/dataset.toml`: one dataset's metadata, source, schema, geometry,
//! transforms and outputs. See `docs/RECIPES.md` for every key with an example.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_spanned::Spanned;

use super::catalog::{license_error, valid_email, valid_ipa};
use super::{CatalogConfig, ConfigError, ConfigErrors, line_of, parse_toml};
use crate::etl::read::{SourceFormat, SourceOptions};
use crate::model::{Agent, ContactPoint, DatasetMeta, FieldType, TemporalExtent};

/// Route names a dataset id may not take.
pub const RESERVED_IDS: &[&str] = &[
    "api", "catalog", "datasets", "files", "map", "ogc", "static", "tiles", "styles", "search",
    "sitemap", "robots", "health", "metrics", "vendor",
];

/// Output format names accepted in `[output] formats`.
pub const OUTPUT_FORMATS: &[&str] = &["csv", "json", "geojson", "geoparquet", "fgb", "gpkg"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeFile {
    pub dataset: DatasetSection,
    pub source: SourceSection,
    #[serde(default)]
    pub schema: Option<SchemaSection>,
    #[serde(default)]
    pub column: Vec<ColumnSpec>,
    #[serde(default)]
    pub geometry: Option<GeometrySpec>,
    #[serde(default)]
    pub filter: Vec<FilterSpec>,
    #[serde(default)]
    pub derive: Vec<DeriveSpec>,
    #[serde(default)]
    pub aggregate: Option<AggregateSpec>,
    #[serde(default)]
    pub output: Option<OutputSpec>,
    #[serde(default)]
    pub tiles: Option<TilesSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    pub title: String,
    pub description: String,
    pub themes: Spanned<Vec<String>>,
    #[serde(default)]
    pub subthemes: Vec<String>,
    pub keywords: Spanned<Vec<String>>,
    pub frequency: Spanned<String>,
    #[serde(default)]
    pub license: Option<Spanned<String>>,
    #[serde(default)]
    pub temporal: Option<Spanned<TemporalSpec>>,
    #[serde(default)]
    pub rights_holder: Option<Spanned<AgentSpec>>,
    #[serde(default)]
    pub contact_point: Option<Spanned<ContactSpec>>,
    #[serde(default)]
    pub conforms_to: Vec<String>,
    #[serde(default)]
    pub demo_data: bool,
    #[serde(default)]
    pub issued: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalSpec {
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub name: String,
    pub ipa: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSpec {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSection {
    pub files: Spanned<Vec<String>>,
    #[serde(default)]
    pub format: Option<SourceFormat>,
    #[serde(default)]
    pub encoding: Option<Spanned<String>>,
    #[serde(default)]
    pub delimiter: Option<Spanned<String>>,
    #[serde(default)]
    pub decimal: Option<Spanned<String>>,
    #[serde(default)]
    pub date_format: Option<String>,
    #[serde(default)]
    pub header_row: Option<usize>,
    #[serde(default)]
    pub skip_rows: usize,
    #[serde(default)]
    pub missing: Option<Vec<String>>,
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default)]
    pub layer: Option<String>,
    #[serde(default)]
    pub max_rejected: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaSection {
    #[serde(default = "yes")]
    pub keep_unlisted: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub source: Spanned<String>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default, rename = "type")]
    pub field_type: Option<FieldType>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub values: Option<Vec<String>>,
    #[serde(default)]
    pub min: Option<toml::Value>,
    #[serde(default)]
    pub max: Option<toml::Value>,
    #[serde(default)]
    pub personal: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeometrySpec {
    #[serde(default)]
    pub lon: Option<Spanned<String>>,
    #[serde(default)]
    pub lat: Option<Spanned<String>>,
    #[serde(default)]
    pub x: Option<Spanned<String>>,
    #[serde(default)]
    pub y: Option<Spanned<String>>,
    #[serde(default)]
    pub wkt: Option<Spanned<String>>,
    #[serde(default)]
    pub crs: Option<Spanned<u32>>,
    #[serde(default = "yes")]
    pub check_territory: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Ne,
    In,
    NotIn,
    Gt,
    Ge,
    Lt,
    Le,
    IsNull,
    NotNull,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    pub column: Spanned<String>,
    pub op: FilterOp,
    #[serde(default)]
    pub value: Option<toml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeriveFn {
    Year,
    Month,
    YearMonth,
    Upper,
    Lower,
    Trim,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeriveSpec {
    pub name: Spanned<String>,
    pub from: Spanned<String>,
    #[serde(rename = "fn")]
    pub function: DeriveFn,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateSpec {
    pub group_by: Spanned<Vec<String>>,
    #[serde(default)]
    pub count: Option<String>,
    #[serde(default)]
    pub sum: std::collections::BTreeMap<String, String>,
    #[serde(default = "one")]
    pub min_count: u64,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    #[serde(default)]
    pub formats: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub name: Option<Spanned<String>>,
}

/// `[tiles]`: the zoom range of a layer's vector tiles (ignored for tables).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TilesSpec {
    #[serde(default)]
    pub min_zoom: Option<Spanned<u8>>,
    #[serde(default)]
    pub max_zoom: Option<Spanned<u8>>,
}

/// A parsed recipe, with its file and text kept for located error messages.
#[derive(Debug, Clone)]
pub struct Recipe {
    pub id: String,
    pub dir: PathBuf,
    pub path: PathBuf,
    pub text: String,
    pub file: RecipeFile,
}

impl Recipe {
    pub fn load(path: &Path) -> Result<Recipe, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                path,
                None,
                format!("cannot read the recipe: {e}"),
            )])
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Recipe, ConfigErrors> {
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let id = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let file: RecipeFile = parse_toml(path, text).map_err(|e| ConfigErrors(vec![e]))?;
        Ok(Recipe {
            id,
            dir,
            path: path.to_path_buf(),
            text: text.to_string(),
            file,
        })
    }

    /// The 1-based line of a span of this recipe.
    pub fn line(&self, span: std::ops::Range<usize>) -> Option<usize> {
        if span.is_empty() && span.start == 0 {
            None
        } else {
            Some(line_of(&self.text, span.start))
        }
    }

    /// An error located in this recipe.
    pub fn error(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.path, self.line(span), message)
    }

    /// The source files, resolved against the dataset folder.
    pub fn source_paths(&self) -> Vec<PathBuf> {
        self.file
            .source
            .files
            .get_ref()
            .iter()
            .map(|f| self.dir.join(f))
            .collect()
    }

    /// The format of the source files (stated, or from the first file's extension).
    pub fn source_format(&self) -> Option<SourceFormat> {
        self.file.source.format.or_else(|| {
            self.file
                .source
                .files
                .get_ref()
                .first()
                .and_then(|f| SourceFormat::from_path(Path::new(f)))
        })
    }

    /// Reader options from `[source]`.
    pub fn source_options(&self) -> SourceOptions {
        let s = &self.file.source;
        SourceOptions {
            encoding: s.encoding.as_ref().map(|e| normalise_encoding(e.get_ref())),
            delimiter: s
                .delimiter
                .as_ref()
                .and_then(|d| delimiter_byte(d.get_ref())),
            decimal: s.decimal.as_ref().and_then(|d| d.get_ref().chars().next()),
            header_row: s.header_row,
            skip_rows: s.skip_rows,
            missing: s
                .missing
                .clone()
                .unwrap_or_else(|| vec!["-".into(), "n.d.".into(), "N.D.".into()]),
            sheet: s.sheet.clone(),
            layer: s.layer.clone(),
        }
    }

    pub fn max_rejected(&self) -> f64 {
        self.file
            .source
            .max_rejected
            .as_ref()
            .map(|m| *m.get_ref())
            .unwrap_or(0.05)
    }

    /// Base name of the output files.
    pub fn output_name(&self) -> String {
        self.file
            .output
            .as_ref()
            .and_then(|o| o.name.as_ref())
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| self.id.clone())
    }

    /// The tile zoom range stated in `[tiles]`: `(min_zoom, max_zoom)`, `None` where the
    /// tiler decides.
    pub fn tile_zooms(&self) -> (Option<u8>, Option<u8>) {
        let t = self.file.tiles.as_ref();
        (
            t.and_then(|t| t.min_zoom.as_ref()).map(|z| *z.get_ref()),
            t.and_then(|t| t.max_zoom.as_ref()).map(|z| *z.get_ref()),
        )
    }

    /// The output formats stated in the recipe, or `None` for the defaults.
    pub fn output_formats(&self) -> Option<Vec<String>> {
        self.file
            .output
            .as_ref()
            .and_then(|o| o.formats.as_ref())
            .map(|f| f.get_ref().clone())
    }

    /// The dataset's metadata with the catalogue's defaults filled in.
    pub fn meta(&self, catalog: &CatalogConfig) -> DatasetMeta {
        let d = &self.file.dataset;
        let cat = &catalog.catalog;
        DatasetMeta {
            title: d.title.clone(),
            description: d.description.clone(),
            themes: d.themes.get_ref().clone(),
            subthemes: d.subthemes.clone(),
            keywords: d.keywords.get_ref().clone(),
            frequency: d.frequency.get_ref().clone(),
            license: d
                .license
                .as_ref()
                .and_then(|l| crate::vocab::license(l.get_ref()))
                .map(|l| l.id.to_string())
                .unwrap_or_else(|| cat.default_license.clone()),
            publisher: cat.publisher.clone(),
            rights_holder: d
                .rights_holder
                .as_ref()
                .map(|r| Agent {
                    name: r.get_ref().name.clone(),
                    identifier: r.get_ref().ipa.clone(),
                })
                .unwrap_or_else(|| cat.publisher.clone()),
            contact_point: d
                .contact_point
                .as_ref()
                .map(|c| ContactPoint {
                    name: c.get_ref().name.clone(),
                    email: c.get_ref().email.clone(),
                    url: c.get_ref().url.clone(),
                })
                .unwrap_or_else(|| cat.contact_point.clone()),
            conforms_to: d.conforms_to.clone(),
            temporal: d.temporal.as_ref().map(|t| TemporalExtent {
                start: t.get_ref().start.clone(),
                end: t.get_ref().end.clone(),
            }),
            demo_data: d.demo_data,
            issued: d.issued.as_ref().map(|i| i.get_ref().clone()),
        }
    }

    /// Checks the recipe's values against the vocabularies, the file system and itself.
    pub fn validate(&self, catalog: &CatalogConfig) -> Result<(), ConfigErrors> {
        let mut errors = Vec::new();
        let f = &self.file;
        let d = &f.dataset;

        if !valid_id(&self.id) {
            errors.push(ConfigError::new(
                &self.path,
                None,
                format!(
                    "the dataset folder name {:?} is not a valid dataset id: use 2 to 100 characters among a-z, 0-9 and -",
                    self.id
                ),
            ));
        } else if RESERVED_IDS.contains(&self.id.as_str()) {
            errors.push(ConfigError::new(
                &self.path,
                None,
                format!(
                    "the dataset id {:?} is a reserved route name; rename the folder",
                    self.id
                ),
            ));
        }
        if d.title.trim().is_empty() {
            errors.push(ConfigError::new(
                &self.path,
                None,
                "[dataset] title is empty",
            ));
        }
        if d.description.trim().is_empty() {
            errors.push(ConfigError::new(
                &self.path,
                None,
                "[dataset] description is empty",
            ));
        }
        if d.themes.get_ref().is_empty() {
            errors.push(self.error(
                d.themes.span(),
                "themes must list at least one EU data-theme code (e.g. \"EDUC\")",
            ));
        }
        for theme in d.themes.get_ref() {
            if !crate::vocab::is_theme(theme) {
                let mut msg = format!("{theme:?} is not an EU data-theme code");
                if let Some(n) =
                    crate::vocab::nearest(theme, crate::vocab::THEMES.iter().map(|t| t.0))
                {
                    msg.push_str(&format!("; did you mean {n:?}?"));
                }
                let codes: Vec<&str> = crate::vocab::THEMES.iter().map(|t| t.0).collect();
                msg.push_str(&format!(" (valid: {})", codes.join(", ")));
                errors.push(self.error(d.themes.span(), msg));
            }
        }
        if d.keywords.get_ref().iter().all(|k| k.trim().is_empty()) {
            errors.push(self.error(d.keywords.span(), "keywords must list at least one keyword"));
        }
        let freq = d.frequency.get_ref();
        if !crate::vocab::is_frequency(freq) {
            let mut msg = format!("{freq:?} is not an EU frequency code");
            if let Some(n) = crate::vocab::nearest(freq, crate::vocab::FREQUENCIES.iter().copied())
            {
                msg.push_str(&format!("; did you mean {n:?}?"));
            }
            msg.push_str(" (e.g. ANNUAL, MONTHLY, WEEKLY, DAILY, IRREG)");
            errors.push(self.error(d.frequency.span(), msg));
        }
        if let Some(l) = &d.license
            && crate::vocab::license(l.get_ref()).is_none()
        {
            errors.push(license_error(&self.path, self.line(l.span()), l.get_ref()));
        }
        if let Some(t) = &d.temporal {
            let t_ref = t.get_ref();
            let start = parse_iso_date(&t_ref.start);
            let end = t_ref.end.as_deref().map(parse_iso_date);
            match (start, end) {
                (None, _) => errors.push(self.error(
                    t.span(),
                    format!(
                        "temporal start {:?} is not a date in the form YYYY-MM-DD",
                        t_ref.start
                    ),
                )),
                (_, Some(None)) => errors.push(self.error(
                    t.span(),
                    format!(
                        "temporal end {:?} is not a date in the form YYYY-MM-DD",
                        t_ref.end.clone().unwrap_or_default()
                    ),
                )),
                (Some(s), Some(Some(e))) if e < s => {
                    errors.push(self.error(t.span(), "temporal end is before its start"))
                }
                _ => {}
            }
        }
        if let Some(i) = &d.issued
            && parse_iso_date(i.get_ref()).is_none()
        {
            errors.push(self.error(
                i.span(),
                format!(
                    "issued {:?} is not a date in the form YYYY-MM-DD",
                    i.get_ref()
                ),
            ));
        }
        if let Some(r) = &d.rights_holder
            && !valid_ipa(&r.get_ref().ipa)
        {
            errors.push(self.error(
                r.span(),
                format!(
                    "rights_holder ipa {:?} is not an IPA code (e.g. \"c_b648\")",
                    r.get_ref().ipa
                ),
            ));
        }
        if let Some(c) = &d.contact_point
            && !valid_email(&c.get_ref().email)
        {
            errors.push(self.error(
                c.span(),
                format!(
                    "contact_point email {:?} is not an e-mail address",
                    c.get_ref().email
                ),
            ));
        }

        // Source.
        let s = &f.source;
        if s.files.get_ref().is_empty() {
            errors.push(self.error(s.files.span(), "files must list at least one source file"));
        }
        for name in s.files.get_ref() {
            let p = Path::new(name);
            if p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                errors.push(self.error(s.files.span(), format!("source file {name:?} must be inside the dataset folder (no absolute paths or ..)")));
                continue;
            }
            let full = self.dir.join(p);
            if !full.is_file() {
                let mut msg = format!("source file {name:?} not found in {}", self.dir.display());
                if let Ok(entries) = std::fs::read_dir(&self.dir) {
                    let names: Vec<String> = entries
                        .filter_map(|e| e.ok())
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| n != "dataset.toml")
                        .collect();
                    if let Some(n) = crate::vocab::nearest(name, names.iter().map(|s| s.as_str())) {
                        msg.push_str(&format!("; did you mean {n:?}?"));
                    }
                }
                errors.push(self.error(s.files.span(), msg));
            }
        }
        if self.source_format().is_none() {
            errors.push(self.error(s.files.span(), "cannot tell the source format from the file extension: set [source] format = \"csv\" (or xlsx, geojson, shapefile, gpkg, kml, fgb, gdal)"));
        }
        if let Some(e) = &s.encoding {
            let n = normalise_encoding(e.get_ref());
            if n != "utf-8" && n != "windows-1252" {
                errors.push(self.error(e.span(), format!("encoding {:?} is not supported: use \"utf-8\" or \"windows-1252\" (also for latin1 / iso-8859-1)", e.get_ref())));
            }
        }
        if let Some(dl) = &s.delimiter
            && delimiter_byte(dl.get_ref()).is_none()
        {
            errors.push(self.error(
                dl.span(),
                format!(
                    "delimiter {:?} must be one of \";\", \",\", \"|\" or \"\\t\"",
                    dl.get_ref()
                ),
            ));
        }
        if let Some(dc) = &s.decimal
            && dc.get_ref() != ","
            && dc.get_ref() != "."
        {
            errors.push(self.error(
                dc.span(),
                format!("decimal {:?} must be \",\" or \".\"", dc.get_ref()),
            ));
        }
        if let Some(m) = &s.max_rejected {
            let v = *m.get_ref();
            if !(0.0..=1.0).contains(&v) {
                errors.push(self.error(
                    m.span(),
                    format!("max_rejected {v} must be a fraction between 0 and 1"),
                ));
            }
        }

        // Schema.
        let mut names = HashSet::new();
        let mut sources = HashSet::new();
        for c in &f.column {
            if !sources.insert(c.source.get_ref().clone()) {
                errors.push(self.error(
                    c.source.span(),
                    format!("column source {:?} is listed twice", c.source.get_ref()),
                ));
            }
            let name = c
                .name
                .as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_else(|| normalise_name(c.source.get_ref()));
            if let Some(n) = &c.name
                && !valid_column_name(n.get_ref())
            {
                errors.push(self.error(
                    n.span(),
                    format!(
                        "column name {:?} must start with a letter and use only a-z, 0-9 and _",
                        n.get_ref()
                    ),
                ));
            }
            if !names.insert(name.clone()) {
                errors.push(self.error(
                    c.source.span(),
                    format!("two columns are published as {name:?}"),
                ));
            }
            if (c.min.is_some() || c.max.is_some())
                && matches!(
                    c.field_type,
                    Some(FieldType::String) | Some(FieldType::Boolean)
                )
            {
                errors.push(self.error(
                    c.source.span(),
                    format!(
                        "column {:?}: min/max apply to numbers and dates only",
                        c.source.get_ref()
                    ),
                ));
            }
        }

        // Geometry.
        if let Some(g) = &f.geometry {
            let lonlat = g.lon.is_some() || g.lat.is_some();
            let xy = g.x.is_some() || g.y.is_some();
            let wkt = g.wkt.is_some();
            let kinds = [lonlat, xy, wkt].iter().filter(|k| **k).count();
            let first_span = g
                .lon
                .as_ref()
                .or(g.x.as_ref())
                .or(g.wkt.as_ref())
                .map(|s| s.span())
                .unwrap_or(0..0);
            if kinds > 1 {
                errors.push(self.error(
                    first_span.clone(),
                    "[geometry] takes one of lon/lat, x/y or wkt, not several",
                ));
            }
            if lonlat && (g.lon.is_none() || g.lat.is_none()) {
                errors.push(self.error(first_span.clone(), "[geometry] needs both lon and lat"));
            }
            if xy && (g.x.is_none() || g.y.is_none()) {
                errors.push(self.error(first_span.clone(), "[geometry] needs both x and y"));
            }
            if xy && g.crs.is_none() {
                errors.push(self.error(first_span.clone(), "[geometry] with x/y columns needs crs = <EPSG code> (e.g. 3003 for Gauss-Boaga zone 1)"));
            }
            if let Some(crs) = &g.crs
                && crate::geo::crs::Crs::from_epsg(*crs.get_ref()).is_err()
            {
                errors.push(self.error(
                    crs.span(),
                    format!(
                                "EPSG:{} is not supported (supported: {})",
                                crs.get_ref(),
                                crate::geo::crs::Crs::supported()
                                    .iter()
                                    .map(|c| c.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                ));
            }
            if g.check_territory && catalog.catalog.territory_bbox.is_none() {
                // Nothing to check against: fine, but say so once the build runs.
            }
        }

        // Aggregate.
        if let Some(a) = &f.aggregate {
            if a.group_by.get_ref().is_empty() {
                errors
                    .push(self.error(a.group_by.span(), "group_by must list at least one column"));
            }
            for g in a.group_by.get_ref() {
                if let Some(c) = f
                    .column
                    .iter()
                    .find(|c| c.personal && published_name(c) == *g)
                {
                    errors.push(self.error(
                        a.group_by.span(),
                        format!(
                            "cannot group by {:?}: it is personal data and would be published",
                            published_name(c)
                        ),
                    ));
                }
            }
            if a.count.is_none() && a.sum.is_empty() {
                errors.push(self.error(
                    a.group_by.span(),
                    "[aggregate] needs count = \"<column>\" or sum = { out = \"in\" }",
                ));
            }
        }

        // Output.
        if let Some(o) = &f.output {
            if let Some(formats) = &o.formats {
                for fmt in formats.get_ref() {
                    if !OUTPUT_FORMATS.contains(&fmt.as_str()) {
                        let mut msg = format!("unknown output format {fmt:?}");
                        if let Some(n) = crate::vocab::nearest(fmt, OUTPUT_FORMATS.iter().copied())
                        {
                            msg.push_str(&format!("; did you mean {n:?}?"));
                        }
                        msg.push_str(&format!(" (valid: {})", OUTPUT_FORMATS.join(", ")));
                        errors.push(self.error(formats.span(), msg));
                    }
                }
                if formats.get_ref().is_empty() {
                    errors
                        .push(self.error(formats.span(), "formats must list at least one format"));
                }
            }
            if let Some(n) = &o.name
                && !valid_id(n.get_ref())
                && !valid_column_name(n.get_ref())
            {
                errors.push(self.error(
                    n.span(),
                    format!(
                        "output name {:?} must use only a-z, 0-9, - and _",
                        n.get_ref()
                    ),
                ));
            }
        }

        // Tiles.
        if let Some(t) = &f.tiles {
            let max = crate::tiles::MAX_ZOOM;
            for z in [&t.min_zoom, &t.max_zoom].into_iter().flatten() {
                if *z.get_ref() > max {
                    errors.push(self.error(
                        z.span(),
                        format!(
                            "zoom {} is beyond the highest tile zoom, {max}",
                            z.get_ref()
                        ),
                    ));
                }
            }
            if let (Some(min), Some(max)) = (&t.min_zoom, &t.max_zoom)
                && min.get_ref() > max.get_ref()
            {
                errors.push(self.error(
                    min.span(),
                    format!(
                        "min_zoom {} is greater than max_zoom {}",
                        min.get_ref(),
                        max.get_ref()
                    ),
                ));
            }
        }

        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }
}

/// The name a column spec publishes under.
pub fn published_name(c: &ColumnSpec) -> String {
    c.name
        .as_ref()
        .map(|n| n.get_ref().clone())
        .unwrap_or_else(|| normalise_name(c.source.get_ref()))
}

/// Dataset ids: `[a-z0-9-]{2,100}`.
pub fn valid_id(id: &str) -> bool {
    (2..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_column_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

/// Default published name of a source header: lower case, ASCII, words joined by `_`.
pub fn normalise_name(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    for ch in header.trim().chars().flat_map(|c| c.to_lowercase()) {
        if ch == '%' {
            // "%_M" is a percentage: keep the meaning, not just the letter.
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            out.push_str("perc_");
            continue;
        }
        let ch = fold_accent(ch);
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "column".to_string()
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("c_{out}")
    } else {
        out
    }
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        other => other,
    }
}

fn normalise_encoding(e: &str) -> String {
    match e.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "utf8" | "utf-8" | "utf-8-sig" => "utf-8".to_string(),
        "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" | "iso-8859-15"
        | "ansi" => "windows-1252".to_string(),
        other => other.to_string(),
    }
}

fn delimiter_byte(d: &str) -> Option<u8> {
    match d {
        ";" => Some(b';'),
        "," => Some(b','),
        "|" => Some(b'|'),
        "\t" | "\\t" | "tab" => Some(b'\t'),
        _ => None,
    }
}

fn parse_iso_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised() {
        assert_eq!(normalise_name("DATA PROTOCOLLO"), "data_protocollo");
        assert_eq!(normalise_name("  Località  "), "localita");
        assert_eq!(
            normalise_name("Codice Comune formato alfanumerico"),
            "codice_comune_formato_alfanumerico"
        );
        assert_eq!(normalise_name("2023"), "c_2023");
        assert_eq!(normalise_name("%_M"), "perc_m");
        assert_eq!(normalise_name("%_0/6"), "perc_0_6");
        assert_eq!(normalise_name("Tasso %"), "tasso_perc");
    }

    #[test]
    fn ids_follow_the_contract() {
        assert!(valid_id("scuole-statali"));
        assert!(!valid_id("Scuole"));
        assert!(!valid_id("a"));
        assert!(!valid_id("../x"));
    }
}
