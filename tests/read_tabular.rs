//! CSV and spreadsheet readers on real municipal files (tests/fixtures/read, credited in
//! tests/fixtures/SOURCES.md). Expected values were read off the files themselves
//! (Python's `csv` module, `iconv`, GDAL's `ogrinfo` for the XLSX), not from our output.

use std::path::PathBuf;

use portale::etl::read::{SourceFormat, SourceOptions, read_source};
use portale::etl::table::RawTable;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/read")
        .join(name)
}

fn read(name: &str, format: SourceFormat, opts: &SourceOptions) -> RawTable {
    read_source(&fixture(name), format, opts).unwrap_or_else(|e| panic!("{e}"))
}

fn csv(name: &str) -> RawTable {
    read(name, SourceFormat::Csv, &SourceOptions::default())
}

fn cell(t: &RawTable, col: &str, row: usize) -> Option<String> {
    t.df.column(col)
        .unwrap_or_else(|e| panic!("{e}; columns: {:?}", t.df.get_column_names()))
        .str()
        .unwrap()
        .get(row)
        .map(str::to_string)
}

fn detected<'a>(t: &'a RawTable, key: &str) -> Option<&'a str> {
    t.detected
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn names(t: &RawTable) -> Vec<String> {
    t.df.get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

#[test]
fn istat_2023_windows_1252_with_multiline_header_cells() {
    let t = csv("istat_comuni_2023_cp1252.csv");
    assert_eq!(detected(&t, "encoding"), Some("windows-1252"));
    assert_eq!(detected(&t, "delimiter"), Some(";"));
    assert_eq!(detected(&t, "header_row"), Some("1"));
    assert_eq!(t.df.width(), 26);
    assert_eq!(t.len(), 300);
    let names = names(&t);
    assert_eq!(
        names[1],
        "Codice dell'Unità territoriale sovracomunale (valida a fini statistici)"
    );
    // "Codice NUTS2 2021 (3) " has a trailing space in the file.
    assert_eq!(names[24], "Codice NUTS2 2021 (3)");
    // The header spans lines 1-3 (two quoted cells hold a newline).
    assert_eq!(t.rows.first(), Some(&4));
    assert_eq!(t.rows.last(), Some(&303));
    assert_eq!(
        cell(&t, "Codice Comune formato alfanumerico", 0).as_deref(),
        Some("001001")
    );
    assert_eq!(
        cell(&t, "Denominazione in italiano", 0).as_deref(),
        Some("Agliè")
    );
    // " 001 " is padded in the file.
    assert_eq!(
        cell(&t, "Progressivo del Comune (2)", 0).as_deref(),
        Some("001")
    );
    assert_eq!(cell(&t, "Denominazione altra lingua", 0), None);
    assert_eq!(
        cell(&t, "Denominazione in italiano", 299).as_deref(),
        Some("Villar Pellice")
    );
}

#[test]
fn istat_2020_utf8_bom_with_thousands_dots() {
    let t = csv("istat_comuni_2020_utf8bom.csv");
    assert_eq!(detected(&t, "encoding"), Some("utf-8"));
    assert_eq!(t.df.width(), 23);
    assert_eq!(t.len(), 300);
    // The BOM is not part of the first header.
    assert_eq!(names(&t)[0], "Codice Regione");
    assert_eq!(
        cell(&t, "Codice Comune formato alfanumerico", 0).as_deref(),
        Some("001001")
    );
    assert_eq!(
        cell(&t, "Denominazione in italiano", 0).as_deref(),
        Some("Agliè")
    );
    // Populations are written 2.644, 16.893: dots are thousands, so the decimal is ','.
    assert_eq!(
        cell(&t, "Popolazione legale 2011 (09/10/2011)", 0).as_deref(),
        Some("2.644")
    );
    assert_eq!(t.decimal, ',');
    assert_eq!(detected(&t, "decimal"), Some(","));
}

#[test]
fn lizzano_bom_semicolons_comma_decimals() {
    let t = csv("lizzano_popolazione.csv");
    assert_eq!(detected(&t, "encoding"), Some("utf-8"));
    assert_eq!(detected(&t, "delimiter"), Some(";"));
    assert_eq!(t.df.width(), 21);
    assert_eq!(t.len(), 6);
    assert_eq!(t.rows, vec![2, 3, 4, 5, 6, 7]);
    // " 2019" has a leading space in the file.
    assert_eq!(cell(&t, "Anno", 0).as_deref(), Some("2019"));
    assert_eq!(cell(&t, "%_M", 0).as_deref(), Some("48,98"));
    assert_eq!(cell(&t, "POP_over 65", 5).as_deref(), Some("2272"));
    assert_eq!(t.decimal, ',');
}

#[test]
fn brescia_dates_stay_text() {
    let t = csv("brescia_accessi_ps_2023.csv");
    assert_eq!(detected(&t, "encoding"), Some("utf-8"));
    assert_eq!(detected(&t, "delimiter"), Some(";"));
    assert_eq!(
        names(&t),
        ["DATA", "PRESIDIO", "TRIAGE_INGRESSO", "ACCESSI"]
    );
    assert_eq!(t.len(), 200);
    assert_eq!(cell(&t, "DATA", 0).as_deref(), Some("01/01/2023"));
    assert_eq!(
        cell(&t, "PRESIDIO", 0).as_deref(),
        Some("030159 - P.O. MONTICHIARI- A.O. SPEDALI CIVILI")
    );
    assert_eq!(cell(&t, "ACCESSI", 0).as_deref(), Some("2"));
    assert_eq!(cell(&t, "DATA", 199).as_deref(), Some("01/14/2023"));
}

#[test]
fn giovinazzo_quoted_comma_decimals_in_a_comma_file() {
    let t = csv("giovinazzo_popolazione.csv");
    assert_eq!(detected(&t, "delimiter"), Some(","));
    assert_eq!(t.df.width(), 17);
    assert_eq!(t.len(), 5);
    assert_eq!(
        cell(&t, "Percentuale_Matrimoni_Civili", 0).as_deref(),
        Some("35,95505618")
    );
    assert_eq!(
        cell(&t, "Percentuale_Matrimoni_Civili", 1).as_deref(),
        Some("71,875")
    );
    assert_eq!(t.decimal, ',');
}

#[test]
fn alessandria_trees_gauss_boaga_coordinates() {
    let t = csv("alessandria_alberi.csv");
    assert_eq!(detected(&t, "delimiter"), Some(";"));
    assert_eq!(t.df.width(), 19);
    assert_eq!(t.len(), 300);
    assert_eq!(cell(&t, "Identificativo", 0).as_deref(), Some("3116"));
    assert_eq!(cell(&t, "CoordX", 0).as_deref(), Some("1471208.59574"));
    assert_eq!(cell(&t, "CoordY", 0).as_deref(), Some("4973349.35375"));
    // A quoted cell full of the delimiter.
    assert_eq!(
        cell(&t, "Interferenze", 0).as_deref(),
        Some("Pista Ciclabile; Sede Stradale; Marciapiede; Utenze Sotterranee; Palo tutore;")
    );
    assert_eq!(cell(&t, "Portamento", 0), None);
    assert_eq!(t.decimal, '.');
    assert_eq!(t.geoms, None);
}

#[test]
fn torre_annunziata_thousands_dots_mean_comma_decimal() {
    let t = csv("torre_annunziata_stato_civile_2023.csv");
    assert_eq!(detected(&t, "delimiter"), Some(","));
    assert_eq!(names(&t)[0], "Età");
    assert_eq!(t.len(), 21);
    assert_eq!(cell(&t, "Totale", 0).as_deref(), Some("1.894"));
    assert_eq!(t.decimal, ',');
}

#[test]
fn vico_del_gargano_padded_headers_and_trailing_blank_lines() {
    let t = csv("vico_elettori.csv");
    assert_eq!(
        names(&t),
        [
            "Sezioni",
            "Elettori Residenti",
            "Elettori A.I.R.E.",
            "Totali Elettori"
        ]
    );
    assert_eq!(t.len(), 10);
    let t = csv("vico_annotazioni_morte.csv");
    assert_eq!(t.len(), 4);
    assert_eq!(cell(&t, "Nr. Annotazioni", 2).as_deref(), Some("24"));
}

#[test]
fn bologna_empty_line_keeps_physical_line_numbers() {
    let t = csv("bologna_stradario.csv");
    assert_eq!(t.len(), 38);
    // Line 3 of the file is empty.
    assert_eq!(&t.rows[..3], &[2, 4, 5]);
    assert_eq!(cell(&t, "NOME_QUARTIERE", 0).as_deref(), Some("Navile"));
}

#[test]
fn recipe_options_override_detection() {
    let opts = SourceOptions {
        encoding: Some("latin1".into()),
        delimiter: Some(b';'),
        decimal: Some('.'),
        header_row: Some(1),
        skip_rows: 1,
        missing: vec!["Torino".into()],
        ..SourceOptions::default()
    };
    let t = read("istat_comuni_2023_cp1252.csv", SourceFormat::Csv, &opts);
    assert!(t.detected.is_empty(), "{:?}", t.detected);
    assert_eq!(t.len(), 299);
    assert_eq!(t.rows[0], 5);
    assert_eq!(
        cell(&t, "Codice Comune formato alfanumerico", 0).as_deref(),
        Some("001002")
    );
    assert_eq!(
        cell(
            &t,
            "Denominazione dell'Unità territoriale sovracomunale (valida a fini statistici)",
            0
        ),
        None
    );
    assert_eq!(t.decimal, '.');
}

#[test]
fn large_csv_reads_every_row() {
    // 200,000 rows of 8 columns, built deterministically.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut text = String::from("id;codice;nome;x;y;data;importo;note\n");
    for i in 0..200_000u32 {
        text.push_str(&format!(
            "{i};{:06};Via {i};{}.{:03};45.{:06};{:02}/01/2024;{},{:02};\n",
            i % 1000,
            1_600_000 + i,
            i % 1000,
            i,
            1 + i % 28,
            i % 5000,
            i % 100
        ));
    }
    std::fs::write(&path, text).unwrap();
    let started = std::time::Instant::now();
    let t = read_source(&path, SourceFormat::Csv, &SourceOptions::default()).unwrap();
    eprintln!("200k x 8 CSV read in {:?} (debug build)", started.elapsed());
    assert_eq!(t.len(), 200_000);
    assert_eq!(t.rows[199_999], 200_001);
    assert_eq!(cell(&t, "codice", 7).as_deref(), Some("000007"));
    assert_eq!(cell(&t, "note", 7), None);
    assert_eq!(cell(&t, "importo", 199_999).as_deref(), Some("4999,99"));
}

#[test]
fn xlsx_written_by_gdal_dates_numbers_booleans() {
    let t = read(
        "alessandria_alberi.xlsx",
        SourceFormat::Xlsx,
        &SourceOptions::default(),
    );
    assert_eq!(detected(&t, "sheet"), Some("alberi"));
    assert_eq!(t.df.width(), 19);
    assert_eq!(t.len(), 300);
    assert_eq!(t.rows[0], 2);
    assert_eq!(cell(&t, "Identificativo", 0).as_deref(), Some("3116"));
    // A date cell (serial 39454, format DD/MM/YY).
    assert_eq!(cell(&t, "DataCensimento", 0).as_deref(), Some("2008-01-07"));
    // GDAL turned "No" into a boolean cell (t="b", 0).
    assert_eq!(cell(&t, "EssenzaStorica", 0).as_deref(), Some("false"));
    assert_eq!(cell(&t, "CoordX", 0).as_deref(), Some("1471208.59574"));
    assert_eq!(cell(&t, "AltezzaPrimoPalco", 0).as_deref(), Some("2"));
    assert_eq!(cell(&t, "Portamento", 0), None);
    assert_eq!(t.decimal, '.');
}

#[test]
fn xlsx_named_sheet_with_title_rows() {
    let opts = SourceOptions {
        sheet: Some("Popolazione".into()),
        ..SourceOptions::default()
    };
    let t = read("lizzano_popolazione.xlsx", SourceFormat::Xlsx, &opts);
    assert_eq!(detected(&t, "sheet"), None);
    assert_eq!(detected(&t, "header_row"), Some("3"));
    assert_eq!(t.df.width(), 21);
    assert_eq!(t.rows, vec![4, 5, 6, 7, 8, 9]);
    assert_eq!(cell(&t, "Anno", 0).as_deref(), Some("2019"));
    assert_eq!(cell(&t, "%_M", 0).as_deref(), Some("48.98"));
    assert_eq!(cell(&t, "%_M", 1).as_deref(), Some("49"));
    assert_eq!(t.decimal, '.');

    let t = read(
        "lizzano_popolazione.xlsx",
        SourceFormat::Xlsx,
        &SourceOptions::default(),
    );
    assert_eq!(detected(&t, "sheet"), Some("Note"));
}
