//! The chart of a dataset page: a table's numbers month by month, drawn at build time as
//! SVG with plotters (no JavaScript, no font files: the labels are SVG `<text>`).
//!
//! [`series`] decides whether a table has something to chart and aggregates it:
//! - the period is the first column (in the table's order) that is a date or date-time,
//!   or text whose every value is a month (`2025-09`, `09/2025` or `2025/09`); rows
//!   without a period are left out;
//! - the measure is the integer column with the largest total, summed per month; columns
//!   that are identifiers or parts of dates and places (`anno`, `codice_*`, `*_id`,
//!   `foglio`, coordinates...) and unique columns are never summed. With no such column
//!   the chart counts the rows per month (one row is one record: a permit, a fine).
//!   Decimal columns are not summed: they are mostly amounts and measures whose monthly
//!   total reads badly next to a count;
//! - at least two months are needed.
//!
//! [`render_svg`] draws a bar chart up to [`MAX_BARS`] months and a line chart beyond,
//! 640×320, with a `<title>` (the Italian text alternative, [`Series::alt`]). [`write`]
//! writes the SVG and the aggregated numbers as JSON ([`Series`]), from which the page
//! shows the same numbers as an accessible table.
//!
//! Pitfalls: months are compared as `YYYY-MM` text, which sorts like time; months with
//! no row are absent, not zero (a sum over no row is not a measured zero). Sums saturate
//! at `i64` bounds rather than wrap.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};

use crate::model::{Field, FieldType};

/// The chart's file name in the dataset's directory.
pub const SVG_FILE: &str = "chart.svg";
/// The aggregated numbers behind the chart ([`Series`] as JSON), beside it.
pub const DATA_FILE: &str = "chart.json";
/// Up to this many periods the chart has bars; beyond, a line.
pub const MAX_BARS: usize = 24;
/// Beyond this many months, the chart is by year (a page's table of the numbers stays
/// short, and 40 years of months make no readable line).
pub const MAX_MONTHS: usize = 120;
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 320;
/// Bootstrap Italia's primary blue (5.6:1 on white), the bars' and the line's colour.
pub const COLOUR: RGBColor = RGBColor(0x00, 0x66, 0xCC);
/// [`COLOUR`] as the SVG writes it.
pub const COLOUR_HEX: &str = "#0066CC";

/// How a month's value is made from its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// The sum of the measure column.
    Sum,
    /// The number of rows.
    Count,
}

/// The chart's periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Per {
    #[default]
    Month,
    Year,
}

/// One period's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Point {
    /// `YYYY-MM`, or `YYYY` for a chart by year.
    pub period: String,
    pub value: i64,
}

/// What the chart shows: the aggregated numbers, month by month (what [`DATA_FILE`] holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    /// What the values are, in Italian (the measure's description, or its name).
    pub label: String,
    /// The column summed; absent when the rows are counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    pub aggregate: Aggregate,
    /// Months, or years when there are more than [`MAX_MONTHS`] months.
    #[serde(default)]
    pub per: Per,
    /// The column the months come from.
    pub period_column: String,
    /// Periods in time order.
    pub points: Vec<Point>,
}

/// Bars or a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Bar,
    Line,
}

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart of {label:?} by {column:?}: drawing failed: {message}")]
    Draw {
        label: String,
        column: String,
        message: String,
    },
    #[error("{}: cannot write the chart: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("chart data: {0}")]
    Json(#[from] serde_json::Error),
}

const MONTHS_IT: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A month written `YYYY-MM`, `MM/YYYY` or `YYYY/MM` (surrounding blanks ignored), as
/// `YYYY-MM`; `None` for anything else (a full date included).
pub fn month_key(text: &str) -> Option<String> {
    let t = text.trim();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (year, month) = if let Some((y, m)) = t.split_once('-') {
        (y, m)
    } else if let Some((a, b)) = t.split_once('/') {
        if digits(a, 4) { (a, b) } else { (b, a) }
    } else {
        return None;
    };
    if !digits(year, 4) || !digits(month, 2) {
        return None;
    }
    let m: u32 = month.parse().ok()?;
    (1..=12).contains(&m).then(|| format!("{year}-{month}"))
}

/// `2025-09` as "settembre 2025" (`en`: "September 2025"); other text unchanged.
pub fn month_label(key: &str, en: bool) -> String {
    let parsed = key
        .split_once('-')
        .and_then(|(y, m)| Some((y, m.parse::<usize>().ok()?)))
        .filter(|(_, m)| (1..=12).contains(m));
    match parsed {
        Some((y, m)) => {
            let names = if en { &MONTHS_EN } else { &MONTHS_IT };
            format!("{} {y}", names[m - 1])
        }
        None => key.to_string(),
    }
}

/// An integer with Italian thousands separators: `-1234567` → `-1.234.567`.
pub fn format_it(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// The months of a column, one per row (`None` where there is none), when the column
/// is a date, a date-time, or text whose every value is a month.
fn period_keys(df: &DataFrame, field: &Field) -> Option<Vec<Option<String>>> {
    let column = df.column(&field.name).ok()?;
    let text = column
        .as_materialized_series()
        .cast(&DataType::String)
        .ok()?;
    let text = text.str().ok()?;
    match field.field_type {
        FieldType::Date | FieldType::Datetime => Some(
            text.iter()
                .map(|v| v.and_then(|v| v.get(..7)).and_then(month_key))
                .collect(),
        ),
        FieldType::String => {
            let mut keys = Vec::with_capacity(text.len());
            let mut any = false;
            for v in text.iter() {
                match v.map(str::trim).filter(|v| !v.is_empty()) {
                    Some(v) => {
                        keys.push(Some(month_key(v)?));
                        any = true;
                    }
                    None => keys.push(None),
                }
            }
            any.then_some(keys)
        }
        _ => None,
    }
}

/// Whether a column's name says it is an identifier, a part of a date or a place: never
/// summed.
fn never_summed(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "anno",
        "year",
        "mese",
        "month",
        "giorno",
        "day",
        "ora",
        "hour",
        "id",
        "codice",
        "code",
        "cod",
        "cap",
        "civico",
        "foglio",
        "particella",
        "subalterno",
        "x",
        "y",
        "lat",
        "lon",
        "lng",
        "latitudine",
        "longitudine",
        "istat",
        "progressivo",
    ];
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| WORDS.contains(&w))
}

/// The text of a label: a description without its final full stop, or a column name with
/// spaces for underscores.
fn label_of(field: &Field) -> String {
    match field.description.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => d.trim_end_matches('.').to_string(),
        _ => {
            let name = field.name.replace('_', " ");
            let mut c = name.chars();
            match c.next() {
                Some(first) => first.to_uppercase().chain(c).collect(),
                None => name,
            }
        }
    }
}

/// The chart a table calls for, aggregated; `None` when it has nothing to chart (see
/// the module documentation for the rules).
pub fn series(df: &DataFrame, fields: &[Field]) -> Option<Series> {
    if df.height() == 0 {
        return None;
    }
    let (period_field, keys) = fields
        .iter()
        .find_map(|f| period_keys(df, f).map(|k| (f, k)))?;
    let mut best: Option<(i128, &Field, BTreeMap<String, i64>)> = None;
    for f in fields
        .iter()
        .filter(|f| f.field_type == FieldType::Integer && !f.unique && !never_summed(&f.name))
    {
        let Ok(column) = df.column(&f.name) else {
            continue;
        };
        let Ok(values) = column.as_materialized_series().cast(&DataType::Int64) else {
            continue;
        };
        let Ok(values) = values.i64() else { continue };
        let mut sums: BTreeMap<String, i64> = BTreeMap::new();
        let mut total: i128 = 0;
        for (key, value) in keys.iter().zip(values.iter()) {
            if let (Some(key), Some(value)) = (key, value) {
                let sum = sums.entry(key.clone()).or_insert(0);
                *sum = sum.saturating_add(value);
                total += i128::from(value);
            }
        }
        if total > 0 && best.as_ref().is_none_or(|(t, _, _)| total > *t) {
            best = Some((total, f, sums));
        }
    }
    let (label, measure, aggregate, sums) = match best {
        Some((_, f, sums)) => (label_of(f), Some(f.name.clone()), Aggregate::Sum, sums),
        None => {
            let mut counts: BTreeMap<String, i64> = BTreeMap::new();
            for key in keys.iter().flatten() {
                *counts.entry(key.clone()).or_insert(0) += 1;
            }
            let label = format!(
                "Numero di righe ({})",
                label_of(period_field).to_lowercase()
            );
            (label, None, Aggregate::Count, counts)
        }
    };
    let (per, sums) = if sums.len() > MAX_MONTHS {
        let mut years: BTreeMap<String, i64> = BTreeMap::new();
        for (month, value) in sums {
            let year = month.get(..4).unwrap_or(&month).to_string();
            let sum = years.entry(year).or_insert(0);
            *sum = sum.saturating_add(value);
        }
        (Per::Year, years)
    } else {
        (Per::Month, sums)
    };
    if sums.len() < 2 {
        return None;
    }
    Some(Series {
        label,
        measure,
        aggregate,
        per,
        period_column: period_field.name.clone(),
        points: sums
            .into_iter()
            .map(|(period, value)| Point { period, value })
            .collect(),
    })
}

impl Series {
    pub fn kind(&self) -> ChartKind {
        if self.points.len() <= MAX_BARS {
            ChartKind::Bar
        } else {
            ChartKind::Line
        }
    }

    /// The highest month (the first of equals).
    pub fn max(&self) -> Option<&Point> {
        self.points
            .iter()
            .reduce(|best, p| if p.value > best.value { p } else { best })
    }

    /// The chart's text alternative, in Italian: what it shows, the period, the highest
    /// month.
    pub fn alt(&self) -> String {
        let kind = match self.kind() {
            ChartKind::Bar => "Grafico a barre",
            ChartKind::Line => "Grafico a linee",
        };
        let (per, periods) = match self.per {
            Per::Month => ("mese", "mesi"),
            Per::Year => ("anno", "anni"),
        };
        let what = match self.aggregate {
            Aggregate::Sum => format!("{}, somma per {per}", self.label),
            Aggregate::Count => format!("{}, conteggio per {per}", self.label),
        };
        let (Some(first), Some(last), Some(max)) =
            (self.points.first(), self.points.last(), self.max())
        else {
            return format!("{kind}: {what}.");
        };
        format!(
            "{kind}: {what}, da {} a {} ({} {periods}); il valore più alto è {} ({}).",
            month_label(&first.period, false),
            month_label(&last.period, false),
            self.points.len(),
            format_it(max.value),
            month_label(&max.period, false),
        )
    }
}

/// A short axis label: `2025-09` → `09/2025`.
fn axis_label(key: &str) -> String {
    match key.split_once('-') {
        Some((y, m)) => format!("{m}/{y}"),
        None => key.to_string(),
    }
}

/// Draws the chart as an SVG document with a `<title>` (the text alternative).
pub fn render_svg(series: &Series) -> Result<String, ChartError> {
    let draw = |e: &dyn std::fmt::Display| ChartError::Draw {
        label: series.label.clone(),
        column: series.period_column.clone(),
        message: e.to_string(),
    };
    let n = series.points.len();
    let lo = series
        .points
        .iter()
        .map(|p| p.value)
        .min()
        .unwrap_or(0)
        .min(0);
    let hi = series
        .points
        .iter()
        .map(|p| p.value)
        .max()
        .unwrap_or(0)
        .max(1);
    // Room above the highest bar, so that its value is not on the frame.
    let top = hi.saturating_add(hi / 10 + 1);
    // At most 9 month labels (`09/2025` is about 55 px wide at 13 px), so that they do
    // not overlap.
    let every = n.div_ceil(9).max(1);
    let label_at = |i: usize| -> String {
        if i.is_multiple_of(every) {
            series
                .points
                .get(i)
                .map(|p| axis_label(&p.period))
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    let y_label = |v: &i64| format_it(*v);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw(&e))?;
        let font = ("sans-serif", 13).into_font().color(&BLACK);
        let mut builder = ChartBuilder::on(&root);
        builder
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(72);
        let count = i32::try_from(n).map_err(|e| draw(&e))?;
        match series.kind() {
            ChartKind::Bar => {
                let mut chart = builder
                    .build_cartesian_2d((0..count - 1).into_segmented(), lo..top)
                    .map_err(|e| draw(&e))?;
                let x_label = |v: &SegmentValue<i32>| match v {
                    SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                        usize::try_from(*i).map(label_at).unwrap_or_default()
                    }
                    SegmentValue::Last => String::new(),
                };
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(n)
                    .x_label_formatter(&x_label)
                    .y_label_formatter(&y_label)
                    .x_label_style(font.clone())
                    .y_label_style(font.clone())
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(RGBColor(0xD9, 0xDA, 0xDB))
                    .draw()
                    .map_err(|e| draw(&e))?;
                chart
                    .draw_series(
                        Histogram::vertical(&chart)
                            .style(COLOUR.filled())
                            .margin(3)
                            .data(
                                series
                                    .points
                                    .iter()
                                    .zip(0..count)
                                    .map(|(p, i)| (i, p.value)),
                            ),
                    )
                    .map_err(|e| draw(&e))?;
            }
            ChartKind::Line => {
                let mut chart = builder
                    .build_cartesian_2d(0..(count - 1).max(1), lo..top)
                    .map_err(|e| draw(&e))?;
                let x_label = |i: &i32| usize::try_from(*i).map(label_at).unwrap_or_default();
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .x_labels(n)
                    .x_label_formatter(&x_label)
                    .y_label_formatter(&y_label)
                    .x_label_style(font.clone())
                    .y_label_style(font.clone())
                    .light_line_style(TRANSPARENT)
                    .bold_line_style(RGBColor(0xD9, 0xDA, 0xDB))
                    .draw()
                    .map_err(|e| draw(&e))?;
                chart
                    .draw_series(LineSeries::new(
                        series
                            .points
                            .iter()
                            .zip(0..count)
                            .map(|(p, i)| (i, p.value)),
                        COLOUR.stroke_width(2),
                    ))
                    .map_err(|e| draw(&e))?;
            }
        }
        root.present().map_err(|e| draw(&e))?;
    }
    // The text alternative as the SVG's own title, right after the opening tag.
    let title = format!("<title>{}</title>", crate::xml::escape(&series.alt()));
    match svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e + 1))
    {
        Some(at) => svg.insert_str(at, &title),
        None => {
            return Err(draw(&"plotters wrote no <svg> element"));
        }
    }
    Ok(svg)
}

/// Writes [`SVG_FILE`] and [`DATA_FILE`] into `dir`.
pub fn write(dir: &Path, series: &Series) -> Result<(), ChartError> {
    let svg = render_svg(series)?;
    let json = serde_json::to_vec_pretty(series)?;
    for (file, bytes) in [(SVG_FILE, svg.as_bytes()), (DATA_FILE, json.as_slice())] {
        let path = dir.join(file);
        std::fs::write(&path, bytes).map_err(|source| ChartError::Write { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{Column, NamedFrom, Series as PlSeries};

    fn field(name: &str, t: FieldType, description: Option<&str>) -> Field {
        Field {
            name: name.into(),
            field_type: t,
            description: description.map(str::to_string),
            source: None,
            required: false,
            unique: false,
            nulls: 0,
        }
    }

    #[test]
    fn months_are_recognised_in_their_usual_spellings() {
        assert_eq!(month_key("2025-09").as_deref(), Some("2025-09"));
        assert_eq!(month_key(" 09/2025 ").as_deref(), Some("2025-09"));
        assert_eq!(month_key("2025/09").as_deref(), Some("2025-09"));
        for bad in [
            "2025-13",
            "2025-9",
            "2025-09-01",
            "09-2025",
            "settembre",
            "",
            "00/2025",
        ] {
            assert_eq!(month_key(bad), None, "{bad}");
        }
        assert_eq!(month_label("2026-03", false), "marzo 2026");
        assert_eq!(month_label("2026-03", true), "March 2026");
        assert_eq!(format_it(1_234_567), "1.234.567");
        assert_eq!(format_it(-999), "-999");
        assert_eq!(format_it(1000), "1.000");
    }

    /// A tiny table aggregated by hand: text months "mm/yyyy" (as the canteen demo data
    /// writes them), two integer measures (the larger is chosen) and a year column (never
    /// summed, though its total is the largest).
    #[test]
    fn text_months_are_summed_by_the_largest_integer_column() {
        let df = DataFrame::new_infer_height(vec![
            Column::new(
                "mese".into(),
                ["10/2025", "09/2025", "10/2025", "09/2025", "11/2025"],
            ),
            Column::new("anno".into(), [2025i64, 2025, 2025, 2025, 2025]),
            Column::new("giorni".into(), [20i64, 18, 21, 18, 19]),
            Column::new(
                "pasti".into(),
                [Some(100i64), Some(50), Some(7), None, Some(3)],
            ),
        ])
        .unwrap();
        let fields = [
            field("mese", FieldType::String, None),
            field("anno", FieldType::Integer, None),
            field("giorni", FieldType::Integer, None),
            field("pasti", FieldType::Integer, Some("Pasti erogati nel mese.")),
        ];
        let s = series(&df, &fields).unwrap();
        assert_eq!(s.period_column, "mese");
        assert_eq!(s.measure.as_deref(), Some("pasti"));
        assert_eq!(s.aggregate, Aggregate::Sum);
        assert_eq!(s.label, "Pasti erogati nel mese");
        let got: Vec<(&str, i64)> = s
            .points
            .iter()
            .map(|p| (p.period.as_str(), p.value))
            .collect();
        // 09: 50 + null; 10: 100 + 7; 11: 3.
        assert_eq!(got, [("2025-09", 50), ("2025-10", 107), ("2025-11", 3)]);
        assert_eq!(
            s.alt(),
            "Grafico a barre: Pasti erogati nel mese, somma per mese, da settembre 2025 a \
             novembre 2025 (3 mesi); il valore più alto è 107 (ottobre 2025)."
        );
    }

    #[test]
    fn dates_without_a_measure_count_rows_and_text_that_is_not_all_months_is_no_period() {
        let dates = PlSeries::new("data".into(), ["2024-01-31", "2024-02-01", "2024-01-01"])
            .cast(&DataType::Date)
            .unwrap();
        let df = DataFrame::new_infer_height(vec![
            Column::new("nota".into(), ["2024-01", "boh", "2024-02"]),
            dates.into(),
            Column::new("coord_x".into(), [1i64, 2, 3]),
        ])
        .unwrap();
        let fields = [
            field("nota", FieldType::String, None),
            field("data", FieldType::Date, Some("Data della pratica")),
            field("coord_x", FieldType::Integer, None),
        ];
        let s = series(&df, &fields).unwrap();
        assert_eq!(s.period_column, "data");
        assert_eq!(s.aggregate, Aggregate::Count);
        assert_eq!(s.measure, None);
        assert_eq!(
            s.points,
            [
                Point {
                    period: "2024-01".into(),
                    value: 2
                },
                Point {
                    period: "2024-02".into(),
                    value: 1
                }
            ]
        );
        // One month only: nothing to chart.
        let one =
            DataFrame::new_infer_height(vec![Column::new("mese".into(), ["2024-01", "2024-01"])])
                .unwrap();
        assert_eq!(
            series(&one, &[field("mese", FieldType::String, None)]),
            None
        );
    }

    /// 11 years of one row a month, plus one more in June 2005: 132 months, more than
    /// [`MAX_MONTHS`], so counted by year (12 a year, 13 in 2005).
    #[test]
    fn more_than_120_months_are_charted_by_year() {
        let mut days: Vec<String> = (0..132)
            .map(|i| format!("{}-{:02}-15", 2000 + i / 12, i % 12 + 1))
            .collect();
        days.push("2005-06-01".into());
        let dates = PlSeries::new("data".into(), days)
            .cast(&DataType::Date)
            .unwrap();
        let df = DataFrame::new_infer_height(vec![dates.into()]).unwrap();
        let s = series(&df, &[field("data", FieldType::Date, None)]).unwrap();
        assert_eq!(s.per, Per::Year);
        let expected: Vec<Point> = (2000..2011)
            .map(|y| Point {
                period: y.to_string(),
                value: if y == 2005 { 13 } else { 12 },
            })
            .collect();
        assert_eq!(s.points, expected);
        assert_eq!(
            s.alt(),
            "Grafico a barre: Numero di righe (data), conteggio per anno, da 2000 a 2010 \
             (11 anni); il valore più alto è 13 (2005)."
        );
    }

    fn points(n: usize) -> Series {
        Series {
            label: "Verbali <&> \"x\"".into(),
            measure: Some("n".into()),
            aggregate: Aggregate::Sum,
            per: Per::Month,
            period_column: "mese".into(),
            points: (0..n)
                .map(|i| Point {
                    period: format!("{}-{:02}", 2020 + i / 12, i % 12 + 1),
                    value: (i as i64 * 37) % 100,
                })
                .collect(),
        }
    }

    /// The SVG is parsed by Python's XML parser (an independent oracle) and its bars
    /// counted: the rectangles filled with the bars' colour.
    fn python_count(svg: &str, element: &str) -> Option<(usize, String)> {
        use std::io::Write;
        let script = format!(
            "import sys, xml.etree.ElementTree as ET\n\
             root = ET.fromstring(sys.stdin.buffer.read())\n\
             ns = '{{http://www.w3.org/2000/svg}}'\n\
             n = sum(1 for e in root.iter(ns + '{element}') if e.get('fill', '').upper() == '{COLOUR_HEX}' or e.get('stroke', '').upper() == '{COLOUR_HEX}')\n\
             print(n)\n\
             print(root.find(ns + 'title').text)\n"
        );
        let mut child = std::process::Command::new("python3")
            .args(["-c", &script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(svg.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        assert!(
            out.status.success(),
            "python could not parse the SVG:\n{svg}"
        );
        let text = String::from_utf8(out.stdout).ok()?;
        let (n, title) = text.split_once('\n')?;
        Some((n.trim().parse().ok()?, title.trim_end().to_string()))
    }

    #[test]
    fn bars_up_to_24_months_then_a_line_with_the_alt_as_title() {
        let bars = points(24);
        let svg = render_svg(&bars).unwrap();
        assert!(svg.starts_with("<svg") || svg.contains("<svg"));
        let line = points(25);
        let line_svg = render_svg(&line).unwrap();
        match (
            python_count(&svg, "rect"),
            python_count(&line_svg, "polyline"),
        ) {
            (Some((n, title)), Some((lines, _))) => {
                // One bar per month, except months whose value is 0 (drawn with no height
                // by plotters still as a rect): count them all the same.
                assert_eq!(n, 24, "{svg}");
                assert_eq!(title, bars.alt());
                assert_eq!(lines, 1, "{line_svg}");
            }
            _ => eprintln!("python3 is not available: the SVG was not parsed as XML"),
        }
        assert_eq!(bars.kind(), ChartKind::Bar);
        assert_eq!(line.kind(), ChartKind::Line);
        // The label's markup is escaped in the title.
        assert!(svg.contains("Verbali &lt;&amp;&gt; &quot;x&quot;"));
    }
}
