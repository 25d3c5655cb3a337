//! Bad inputs: each error must name the file, and the line or column when there is one.

use std::io::Write;
use std::path::{Path, PathBuf};

use portale::etl::read::{ReadError, SourceFormat, SourceOptions, read_source};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/read")
        .join(name)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn csv_error(bytes: &[u8]) -> ReadError {
    csv_error_with(bytes, &SourceOptions::default())
}

fn csv_error_with(bytes: &[u8], opts: &SourceOptions) -> ReadError {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "dati.csv", bytes);
    let err = read_source(&path, SourceFormat::Csv, opts).unwrap_err();
    assert_eq!(err.file, path);
    assert!(err.to_string().contains("dati.csv"), "{err}");
    err
}

#[test]
fn unterminated_quote_names_the_line_it_opened_on() {
    let err = csv_error(b"nome;via;civico\r\nA;\"Via Roma;1\r\nB;Via Po;2\r\nC;Via Dante;3\r\n");
    assert_eq!(err.row, Some(2), "{err}");
    assert_eq!(err.column.as_deref(), Some("via"), "{err}");
    assert!(err.message.contains("unterminated quoted field"), "{err}");
    assert!(err.message.contains("line 2"), "{err}");
}

#[test]
fn quote_swallowing_lines_mid_file_is_a_width_error() {
    // The stray quote on line 2 closes on line 3, merging the two lines into one record
    // of 4 fields: "1", "x;2\n3;y", "4", "5".
    let err = csv_error(b"a;b;c\n1;\"x;2\n3;y\";4;5\n6;7;8\n");
    assert_eq!(err.row, Some(2), "{err}");
    assert!(err.message.contains("has 4 fields, expected 3"), "{err}");
    assert!(
        err.message
            .contains("column \"b\" starting on line 2 runs over 2 lines"),
        "{err}"
    );
}

#[test]
fn ragged_row_names_line_and_counts() {
    let err = csv_error(b"anno;maschi;femmine\n2019;4784;4984\n2020;4790\n2021;4754;4939\n");
    assert_eq!(err.row, Some(3));
    assert!(
        err.message.contains("2 fields, expected 3") && err.message.contains("line 1"),
        "{err}"
    );
    assert!(err.to_string().contains("row 3"), "{err}");
}

#[test]
fn windows_1252_bytes_read_as_utf8() {
    let opts = SourceOptions {
        encoding: Some("utf-8".into()),
        ..SourceOptions::default()
    };
    let path = fixture("istat_comuni_2023_cp1252.csv");
    let err = read_source(&path, SourceFormat::Csv, &opts).unwrap_err();
    // The first non-ASCII byte is the 0xE0 of "Unità" in the header's second cell,
    // on line 1 (checked with `grep -naxv '.*' | head -1` under LC_ALL=C.UTF-8).
    assert_eq!(err.row, Some(1), "{err}");
    assert!(err.message.contains("0xE0"), "{err}");
    assert!(err.message.contains("Windows-1252"), "{err}");
    assert!(err.message.contains("encoding = \"windows-1252\""), "{err}");
    assert!(
        err.to_string().contains("istat_comuni_2023_cp1252.csv"),
        "{err}"
    );
}

#[test]
fn windows_1252_in_a_data_line() {
    let opts = SourceOptions {
        encoding: Some("utf-8".into()),
        ..SourceOptions::default()
    };
    let err = csv_error_with(
        b"comune;codice\r\nCapannori;046007\r\nAgli\xe8;001001\r\n",
        &opts,
    );
    assert_eq!(err.row, Some(3), "{err}");
    assert!(err.message.contains("Agliè;001001"), "{err}");
}

#[test]
fn empty_file() {
    let err = csv_error(b"");
    assert!(err.message.contains("file is empty"), "{err}");
    let err = csv_error(b"\xEF\xBB\xBF\r\n\r\n");
    assert!(err.message.contains("file is empty"), "{err}");
}

#[test]
fn header_only() {
    let err = csv_error(b"anno;maschi;femmine\r\n");
    assert!(err.message.contains("no data rows"), "{err}");
    assert!(err.message.contains("line 1"), "{err}");
}

#[test]
fn field_over_one_mebibyte() {
    let mut text = b"id;testo\n1;breve\n2;".to_vec();
    text.extend(std::iter::repeat_n(b'x', 2 << 20));
    text.extend(b"\n3;breve\n");
    let err = csv_error(&text);
    assert_eq!(err.row, Some(3));
    assert_eq!(err.column.as_deref(), Some("testo"));
    assert!(
        err.message
            .contains("field of 2097152 bytes exceeds the 1 MiB limit"),
        "{err}"
    );
}

#[test]
fn duplicate_headers_name_both_columns() {
    let err = csv_error(b"anno;totale;note;totale\n2019;1;x;2\n");
    assert_eq!(err.column.as_deref(), Some("totale"));
    assert!(err.message.contains("columns 2 and 4"), "{err}");
}

#[test]
fn header_row_inside_a_quoted_cell() {
    let opts = SourceOptions {
        header_row: Some(2),
        ..SourceOptions::default()
    };
    // The ISTAT header is quoted across lines 1-3: line 2 starts no record.
    let err = read_source(
        &fixture("istat_comuni_2023_cp1252.csv"),
        SourceFormat::Csv,
        &opts,
    )
    .unwrap_err();
    assert_eq!(err.row, Some(2));
    assert!(err.message.contains("starts on line 4"), "{err}");
}

#[test]
fn shapefile_without_dbf() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["shp", "shx", "prj"] {
        std::fs::copy(
            fixture(&format!("desio_dae_3003.{ext}")),
            dir.path().join(format!("desio_dae_3003.{ext}")),
        )
        .unwrap();
    }
    let shp = dir.path().join("desio_dae_3003.shp");
    let err = read_source(&shp, SourceFormat::Shapefile, &SourceOptions::default()).unwrap_err();
    assert_eq!(err.file, shp);
    assert!(
        err.message.contains("missing \"desio_dae_3003.dbf\""),
        "{err}"
    );
}

#[test]
fn zip_slip_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for (name, fixture_name) in [
            ("ok.shx", "desio_dae_3003.shx"),
            ("ok.dbf", "desio_dae_3003.dbf"),
            ("../evil.shp", "desio_dae_3003.shp"),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(&std::fs::read(fixture(fixture_name)).unwrap())
                .unwrap();
        }
        zip.finish().unwrap();
    }
    let err = read_source(&path, SourceFormat::Shapefile, &SourceOptions::default()).unwrap_err();
    assert_eq!(err.file, path);
    assert!(err.message.contains("\"../evil.shp\""), "{err}");
    assert!(err.message.contains("zip slip"), "{err}");
    assert!(!dir.path().join("..").join("evil.shp").exists());
}

#[test]
fn zip_with_two_shapefiles_asks_for_a_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        for stem in ["alfa", "beta"] {
            for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
                zip.start_file(format!("{stem}.{ext}"), options).unwrap();
                zip.write_all(&std::fs::read(fixture(&format!("desio_dae_3003.{ext}"))).unwrap())
                    .unwrap();
            }
        }
        zip.finish().unwrap();
    }
    let err = read_source(&path, SourceFormat::Shapefile, &SourceOptions::default()).unwrap_err();
    assert!(err.message.contains("\"alfa\", \"beta\""), "{err}");
    let opts = SourceOptions {
        layer: Some("beta".into()),
        ..SourceOptions::default()
    };
    let t = read_source(&path, SourceFormat::Shapefile, &opts).unwrap();
    assert_eq!(t.len(), 24);
}

#[test]
fn xlsx_unknown_sheet_lists_sheets() {
    let opts = SourceOptions {
        sheet: Some("Dati".into()),
        ..SourceOptions::default()
    };
    let err = read_source(
        &fixture("lizzano_popolazione.xlsx"),
        SourceFormat::Xlsx,
        &opts,
    )
    .unwrap_err();
    assert!(err.message.contains("no sheet named \"Dati\""), "{err}");
    assert!(err.message.contains("\"Note\", \"Popolazione\""), "{err}");
}

#[test]
fn geojson_syntax_error_names_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "rotto.geojson",
        b"{\"type\": \"FeatureCollection\",\n \"features\": [\n  {\"type\": \"Feature\",, }\n]}\n",
    );
    let err = read_source(&path, SourceFormat::Geojson, &SourceOptions::default()).unwrap_err();
    assert!(err.message.contains("line 3"), "{err}");
}

#[test]
fn geojson_bad_feature_names_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "punti.geojson",
        br#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.5, 43.8]}, "properties": {"n": 1}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": "dieci"}, "properties": {"n": 2}}
        ]}"#,
    );
    let err = read_source(&path, SourceFormat::Geojson, &SourceOptions::default()).unwrap_err();
    assert_eq!(err.row, Some(2), "{err}");
}

#[cfg(not(feature = "gdal"))]
#[test]
fn gdal_format_without_the_feature() {
    let err = read_source(
        &fixture("desio_dae.gpkg"),
        SourceFormat::Gdal,
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("`gdal`"), "{err}");
    assert!(err.message.contains("--features gdal"), "{err}");
}
