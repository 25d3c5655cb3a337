//! ESRI Shapefile reader: a `.shp` with its `.shx` and `.dbf` (and optional `.prj`,
//! `.cpg`) side by side, or a `.zip` holding them, as municipalities usually send them.
//!
//! Geometries come from the `shapefile` crate as geo-types in the source CRS, which is
//! read from the `.prj` by [`epsg_from_prj`]. Attributes come from the `.dbf` through
//! `dbase`; text is decoded with: the recipe's `encoding`, else the `.cpg`, else the
//! dBase language-driver byte, else Windows-1252 (what Italian desktop GIS writes).
//!
//! Text fields are decoded here, from the record bytes at the offsets `dbase` reports,
//! because `dbase` 0.6 cannot take an encoding from outside (its `DecodeError` is not
//! exported) and, without its `encoding_rs`/`yore` features, refuses any file whose
//! language driver names a code page. Numbers, dates and booleans are still `dbase`'s.
//!
//! Pitfalls:
//! * a zip is untrusted input: an entry named `../x` or `/etc/x`, or a symbolic link, is
//!   refused outright ("zip slip") rather than skipped; macOS `__MACOSX/` junk is ignored;
//! * `dbase` skips deleted records but the `.shp` has no such flag, so the reader looks
//!   at the deletion flags itself and drops the matching shapes, keeping them aligned;
//! * Polylines come out as MultiLineString and Polygons as MultiPolygon, always;
//! * sidecars are found case-insensitively (`ROADS.SHP` with `roads.dbf`).

use crate::geo::crs::epsg_from_prj;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use ::shapefile::dbase::{self, FieldValue};
use ::shapefile::{Shape, ShapeReader};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use geo_types::Geometry;

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

/// Largest zip entry extracted (a guard against zip bombs).
const MAX_ZIP_ENTRY_BYTES: u64 = 4 << 30;

/// Sidecar extensions extracted from a zip besides `.shp`.
const SIDECARS: [&str; 5] = ["shp", "shx", "dbf", "prj", "cpg"];

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    let is_zip = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        let dir = tempfile::tempdir()
            .map_err(|e| ReadError::new(path, format!("cannot create a temporary folder: {e}")))?;
        let shp = extract_zip(path, dir.path(), opts)?;
        let inner = shp.strip_prefix(dir.path()).unwrap_or(&shp).to_path_buf();
        read_shp(&shp, opts).map_err(|mut e| {
            // Name the zip the user gave, and the entry inside it.
            e.message = format!("in \"{}\": {}", inner.display(), e.message);
            e.file = path.to_path_buf();
            e
        })
    } else {
        read_shp(path, opts)
    }
}

/// Extracts the shapefile parts of `zip` into `dir` and returns the `.shp` to read.
fn extract_zip(zip: &Path, dir: &Path, opts: &SourceOptions) -> Result<PathBuf, ReadError> {
    let file = File::open(zip).map_err(|e| ReadError::io(zip, e))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| ReadError::new(zip, format!("not a readable zip archive: {e}")))?;
    let mut shps: Vec<PathBuf> = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ReadError::new(zip, format!("cannot read zip entry {}: {e}", i + 1)))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_symlink() {
            return Err(ReadError::new(
                zip,
                format!("zip entry \"{name}\" is a symbolic link; refusing to extract it"),
            ));
        }
        let unsafe_name = {
            let n = name.replace('\\', "/");
            n.starts_with('/')
                || n.split('/').any(|c| c == "..")
                || n.as_bytes().get(1) == Some(&b':')
        };
        let relative = match entry.enclosed_name() {
            Some(p) if !unsafe_name => p,
            _ => {
                return Err(ReadError::new(
                    zip,
                    format!(
                        "zip entry \"{name}\" points outside the archive's folder (an absolute \
                         path or \"..\"): refusing to extract it (zip slip)"
                    ),
                ));
            }
        };
        if entry.is_dir() || name.starts_with("__MACOSX/") {
            continue;
        }
        let base = relative
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        if base.starts_with("._") {
            continue;
        }
        let ext = relative
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if !SIDECARS.contains(&ext.as_str()) {
            continue;
        }
        if entry.size() > MAX_ZIP_ENTRY_BYTES {
            return Err(ReadError::new(
                zip,
                format!(
                    "zip entry \"{name}\" is {} bytes, more than the {} GiB limit",
                    entry.size(),
                    MAX_ZIP_ENTRY_BYTES >> 30
                ),
            ));
        }
        let out = dir.join(&relative);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ReadError::io(zip, e))?;
        }
        let mut target = File::create(&out).map_err(|e| ReadError::io(zip, e))?;
        std::io::copy(&mut (&mut entry).take(MAX_ZIP_ENTRY_BYTES), &mut target).map_err(|e| {
            ReadError::new(zip, format!("cannot extract zip entry \"{name}\": {e}"))
        })?;
        if ext == "shp" {
            shps.push(out);
        }
    }
    let stem = |p: &PathBuf| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let listed = || {
        shps.iter()
            .map(|p| format!("\"{}\"", stem(p)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(layer) = &opts.layer {
        return shps
            .iter()
            .find(|p| stem(p).eq_ignore_ascii_case(layer))
            .cloned()
            .ok_or_else(|| {
                ReadError::new(
                    zip,
                    format!(
                        "no shapefile named \"{layer}\" in the zip; it holds: {}",
                        listed()
                    ),
                )
            });
    }
    match shps.len() {
        0 => Err(ReadError::new(zip, "the zip holds no .shp file")),
        1 => Ok(shps.remove(0)),
        _ => Err(ReadError::new(
            zip,
            format!(
                "the zip holds several shapefiles ({}): set layer = \"<name>\" in the recipe",
                listed()
            ),
        )),
    }
}

/// The sidecar of `shp` with extension `ext`, matched case-insensitively.
fn sidecar(shp: &Path, ext: &str) -> Option<PathBuf> {
    let exact = shp.with_extension(ext);
    if exact.exists() {
        return Some(exact);
    }
    let upper = shp.with_extension(ext.to_ascii_uppercase());
    if upper.exists() {
        return Some(upper);
    }
    let stem = shp.file_stem()?.to_str()?;
    let dir = match shp.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_stem().and_then(|s| s.to_str()) == Some(stem)
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| e.eq_ignore_ascii_case(ext))
        })
}

fn read_shp(shp: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    if !shp.exists() {
        return Err(ReadError::new(shp, "no such file"));
    }
    let file_name = |ext: &str| {
        shp.with_extension(ext)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let missing = |ext: &str| {
        ReadError::new(
            shp,
            format!(
                "missing \"{}\" next to the .shp: a shapefile needs its .shp, .shx and .dbf \
                 files together (send them zipped)",
                file_name(ext)
            ),
        )
    };
    let dbf_path = sidecar(shp, "dbf").ok_or_else(|| missing("dbf"))?;
    let shx_path = sidecar(shp, "shx").ok_or_else(|| missing("shx"))?;
    let mut detected = Vec::new();

    let crs = match sidecar(shp, "prj") {
        Some(prj) => {
            let bytes = std::fs::read(&prj).map_err(|e| ReadError::io(&prj, e))?;
            let wkt = String::from_utf8_lossy(&bytes);
            let code = epsg_from_prj(&wkt);
            match code {
                Some(c) => detected.push(("crs".to_string(), format!("EPSG:{c}"))),
                None => detected.push((
                    "prj_unrecognised".to_string(),
                    wkt.chars().take(120).collect(),
                )),
            }
            code
        }
        None => None,
    };

    let mut dbf_bytes = std::fs::read(&dbf_path).map_err(|e| ReadError::io(&dbf_path, e))?;
    let encoding = dbf_encoding(shp, &dbf_bytes, opts, &mut detected)?;
    let layout = DbfLayout::new(&dbf_bytes)
        .ok_or_else(|| ReadError::new(&dbf_path, "not a dBase file: the header is truncated"))?;
    // dbase 0.6, built without its code-page features, refuses to open a file whose
    // language driver names a code page (0x03 = Windows-1252 among them). Text fields
    // are decoded below from the raw bytes, so tell it "undefined".
    dbf_bytes[29] = 0;
    let mut dbf = dbase::Reader::new(Cursor::new(&dbf_bytes[..]))
        .map_err(|e| ReadError::new(&dbf_path, format!("cannot read the .dbf: {e}")))?;
    let mut fields = Vec::with_capacity(dbf.fields().len());
    let mut offset = 1; // after the deletion flag
    for (k, info) in dbf.fields().iter().enumerate() {
        // The name as stored, decoded like the values (dbase decodes it lossily).
        let raw = dbf_bytes
            .get(32 + 32 * k..32 + 32 * k + 11)
            .unwrap_or_default();
        let raw = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
        let (name, _) = encoding.decode_without_bom_handling(raw);
        fields.push(DbfField {
            key: info.name().to_string(),
            name: name.trim().to_string(),
            text: matches!(info.field_type(), dbase::FieldType::Character),
            offset,
            len: info.length() as usize,
        });
        offset += info.length() as usize;
    }
    let names_raw: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    let names = cells::header_names(&dbf_path, None, &names_raw)?;

    let shp_file = File::open(shp).map_err(|e| ReadError::io(shp, e))?;
    let shx_file = File::open(&shx_path).map_err(|e| ReadError::io(&shx_path, e))?;
    let mut shapes = ShapeReader::with_shx(BufReader::new(shp_file), BufReader::new(shx_file))
        .map_err(|e| ReadError::new(shp, format!("cannot read the .shp: {e}")))?;
    let shape_count = shapes
        .shape_count()
        .map_err(|e| ReadError::new(shp, format!("cannot read the .shx: {e}")))?;
    if shape_count != layout.deleted.len() {
        return Err(ReadError::new(
            shp,
            format!(
                "the .shp has {shape_count} shapes but the .dbf has {} records: the files do \
                 not belong together",
                layout.deleted.len()
            ),
        ));
    }

    let mut columns = ColumnsBuilder::with_columns(&names, Cleaner::new(opts), shape_count);
    let mut rows = Vec::with_capacity(shape_count);
    let mut geoms = Vec::with_capacity(shape_count);
    let mut records = dbf.iter_records();
    for (i, shape) in shapes.iter_shapes().enumerate() {
        let row = i as u64 + 1;
        let shape =
            shape.map_err(|e| ReadError::new(shp, format!("invalid shape: {e}")).at_row(row))?;
        if layout.deleted.get(i).copied().unwrap_or(false) {
            continue;
        }
        let record = records
            .next()
            .ok_or_else(|| ReadError::new(&dbf_path, "the .dbf ends early").at_row(row))?
            .map_err(|e| ReadError::new(&dbf_path, format!("invalid record: {e}")).at_row(row))?;
        let start = layout.header_len + i * layout.record_len;
        for (c, field) in fields.iter().enumerate() {
            let text = if field.text {
                let raw = dbf_bytes
                    .get(start + field.offset..start + field.offset + field.len)
                    .unwrap_or_default();
                let raw = &raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())];
                let decoded = encoding
                    .decode_without_bom_handling_and_without_replacement(raw)
                    .ok_or_else(|| {
                        ReadError::new(
                            &dbf_path,
                            format!(
                                "the text is not valid {}: set encoding = \"windows-1252\" \
                                 (or the right one) in the recipe",
                                encoding.name()
                            ),
                        )
                        .at_row(row)
                        .in_column(field.name.clone())
                    })?;
                Some(decoded.into_owned())
            } else {
                record.get(&field.key).and_then(field_text)
            };
            columns.push(c, text.as_deref());
        }
        columns.end_row();
        rows.push(row);
        geoms.push(match shape {
            Shape::NullShape => None,
            other => Some(
                Geometry::<f64>::try_from(other)
                    .map_err(|e| ReadError::new(shp, format!("invalid shape: {e}")).at_row(row))?,
            ),
        });
    }
    if rows.is_empty() {
        return Err(ReadError::new(shp, "the shapefile has no features"));
    }
    cells::finish_table(
        shp,
        columns,
        opts,
        Extras {
            rows,
            geoms: Some(geoms),
            crs,
            detected,
        },
    )
}

/// One `.dbf` field: where its bytes sit in a record and what to call it.
struct DbfField {
    /// The name as `dbase` knows it (the key of its records).
    key: String,
    /// The name decoded with the file's encoding.
    name: String,
    /// A Character field, decoded here rather than by `dbase`.
    text: bool,
    offset: usize,
    len: usize,
}

/// The record layout of a dBase file, from its header: where records start, their
/// length, and the deletion flag (`*`) of each.
struct DbfLayout {
    header_len: usize,
    record_len: usize,
    deleted: Vec<bool>,
}

impl DbfLayout {
    fn new(dbf: &[u8]) -> Option<DbfLayout> {
        let u16_at = |i: usize| {
            dbf.get(i..i + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
        };
        let b = dbf.get(4..8)?;
        let count = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let (header_len, record_len) = (u16_at(8)?, u16_at(10)?);
        if dbf.len() < 32 {
            return None;
        }
        let deleted = (0..count)
            .map(|i| dbf.get(header_len + i * record_len) == Some(&b'*'))
            .collect();
        Some(DbfLayout {
            header_len,
            record_len,
            deleted,
        })
    }
}

/// The encoding of the `.dbf`: the recipe's, else the `.cpg`'s, else the language
/// driver byte's, else Windows-1252.
fn dbf_encoding(
    shp: &Path,
    dbf: &[u8],
    opts: &SourceOptions,
    detected: &mut Vec<(String, String)>,
) -> Result<&'static Encoding, ReadError> {
    if let Some(label) = &opts.encoding {
        return Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            ReadError::new(
                shp,
                format!("unknown encoding \"{label}\": use \"utf-8\" or \"windows-1252\""),
            )
        });
    }
    let (enc, source) = if let Some(cpg) = sidecar(shp, "cpg") {
        let text = std::fs::read(&cpg).map_err(|e| ReadError::io(&cpg, e))?;
        let label = String::from_utf8_lossy(&text).trim().to_string();
        let enc = cpg_encoding(&label).ok_or_else(|| {
            ReadError::new(
                &cpg,
                format!(
                    "unknown code page \"{label}\": set encoding = \"utf-8\" or \
                     \"windows-1252\" in the recipe"
                ),
            )
        })?;
        (enc, ".cpg")
    } else {
        match dbf.get(29).copied().and_then(language_driver_encoding) {
            Some(enc) => (enc, "dbf language driver"),
            None => (WINDOWS_1252, "default"),
        }
    };
    detected.push(("encoding".to_string(), enc.name().to_ascii_lowercase()));
    detected.push(("encoding_source".to_string(), source.to_string()));
    Ok(enc)
}

/// The encoding a `.cpg` names: `UTF-8`, `1252`, `ANSI 1252`, `CP1252`, `ISO-8859-1`,
/// `88591`, `65001`, or any label encoding_rs knows.
fn cpg_encoding(label: &str) -> Option<&'static Encoding> {
    let l = label.trim().to_ascii_lowercase();
    let l = l.strip_prefix("ansi").map(str::trim).unwrap_or(&l);
    let digits: String = l.chars().filter(char::is_ascii_digit).collect();
    match (l, digits.as_str()) {
        (_, "65001") => Some(UTF_8),
        (_, "88591") | (_, "885915") => Some(WINDOWS_1252),
        (l, d) if !d.is_empty() && l.chars().all(|c| c.is_ascii_digit()) => {
            Encoding::for_label(format!("windows-{d}").as_bytes())
                .or_else(|| Encoding::for_label(format!("ibm{d}").as_bytes()))
        }
        (l, _) => Encoding::for_label(l.as_bytes()),
    }
}

/// The encoding of a dBase language driver id (byte 29); `None` when it names none or a
/// DOS code page encoding_rs lacks (437, 850: read as Windows-1252 then).
fn language_driver_encoding(ldid: u8) -> Option<&'static Encoding> {
    let label: &[u8] = match ldid {
        0x03 | 0x57 | 0x58 | 0x59 => b"windows-1252",
        0x64 | 0xC8 => b"windows-1250",
        0x65 | 0xC9 => b"windows-1251",
        0xCA => b"windows-1254",
        0xCB => b"windows-1253",
        0x7D => b"windows-1255",
        0x7E => b"windows-1256",
        0x7C => b"windows-874",
        0x4D | 0x7A => b"gbk",
        0x7B => b"shift_jis",
        0x78 => b"big5",
        0x79 => b"euc-kr",
        _ => return None,
    };
    Encoding::for_label(label)
}

/// A dBase value as text; `None` for an empty value.
fn field_text(value: &FieldValue) -> Option<String> {
    match value {
        FieldValue::Character(s) => s.clone(),
        FieldValue::Memo(s) => Some(s.clone()),
        FieldValue::Numeric(n) => n.map(cells::format_float),
        FieldValue::Float(f) => f.map(|f| {
            if f.fract() == 0.0 && f.abs() < 1e7 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }),
        FieldValue::Logical(b) => b.map(|b| b.to_string()),
        // GDAL writes a null date as `00000000`.
        FieldValue::Date(d) => d
            .as_ref()
            .filter(|d| d.year() > 0 && d.month() > 0 && d.day() > 0)
            .map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
        FieldValue::Integer(i) => Some(i.to_string()),
        FieldValue::Currency(f) | FieldValue::Double(f) => Some(cells::format_float(*f)),
        FieldValue::DateTime(dt) => {
            let (d, t) = (dt.date(), dt.time());
            Some(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                t.hours(),
                t.minutes(),
                t.seconds()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prj_names_and_authorities() {
        // As written by ArcGIS for Gauss-Boaga zone 1.
        let esri = r#"PROJCS["Monte_Mario_Italy_1",GEOGCS["GCS_Monte_Mario",DATUM["D_Monte_Mario",SPHEROID["International_1924",6378388.0,297.0]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",1500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        assert_eq!(epsg_from_prj(esri), Some(3003));
        let with_authority = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]"#;
        assert_eq!(epsg_from_prj(with_authority), Some(4326));
        assert_eq!(
            epsg_from_prj(r#"PROJCS["ETRS_1989_UTM_Zone_32N",GEOGCS["GCS_ETRS_1989"]]"#),
            Some(25832)
        );
        assert_eq!(
            epsg_from_prj(r#"PROJCS["RDN2008 / UTM zone 33N",GEOGCS["RDN2008"]]"#),
            Some(7792)
        );
        assert_eq!(
            epsg_from_prj(r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["x"]]"#),
            Some(3857)
        );
        assert_eq!(
            epsg_from_prj(r#"PROJCS["Somewhere_Else",GEOGCS["x"]]"#),
            None
        );
    }

    #[test]
    fn code_pages() {
        assert_eq!(cpg_encoding("UTF-8"), Some(UTF_8));
        assert_eq!(cpg_encoding("1252"), Some(WINDOWS_1252));
        assert_eq!(cpg_encoding("ANSI 1252"), Some(WINDOWS_1252));
        assert_eq!(cpg_encoding("88591"), Some(WINDOWS_1252));
        assert_eq!(cpg_encoding("ISO-8859-1"), Some(WINDOWS_1252));
        assert_eq!(cpg_encoding("nonsense"), None);
    }
}
