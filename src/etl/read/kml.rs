//! KML reader (also KMZ: the first `.kml` inside the zip, `doc.kml` preferred).
//!
//! Every Placemark, in document order through Documents and Folders, is a row: `name`,
//! `description`, then the ExtendedData values (`Data`/`value` and
//! `SchemaData`/`SimpleData`) as columns in first-seen order. Geometries (Point,
//! LineString, LinearRing, Polygon, MultiGeometry) become geo-types in WGS84 (KML is
//! always EPSG:4326, lon/lat); a MultiGeometry is a GeometryCollection.
//!
//! Pitfalls: many real KML files (GeoServer and ArcGIS exports, such as Florence's
//! fountains) keep their attributes in an HTML table inside `description`; it stays
//! text here, as GDAL leaves it. The `kml` crate drops a CDATA section inside
//! ExtendedData `value`, so such a value reads as null.

use std::io::Read;
use std::path::Path;

use ::kml::types::Element;
use ::kml::{Kml, KmlReader};
use geo_types::Geometry;

use super::cells::{self, Cleaner, ColumnsBuilder, Extras};
use super::{ReadError, SourceOptions};
use crate::etl::table::RawTable;

pub(super) fn read(path: &Path, opts: &SourceOptions) -> Result<RawTable, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    let mut detected = Vec::new();
    let bytes = if bytes.starts_with(b"PK\x03\x04") {
        let (name, inner) = kmz_document(path, &bytes)?;
        detected.push(("kmz_entry".to_string(), name));
        inner
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
        .map_err(|e| ReadError::new(path, format!("KML must be UTF-8, but it is not: {e}")))?;
    if text.trim().is_empty() {
        return Err(ReadError::new(path, "the file is empty"));
    }
    let root: Kml<f64> = KmlReader::<_, f64>::from_string(text)
        .read()
        .map_err(|e| ReadError::new(path, format!("not valid KML: {e}")))?;

    let mut placemarks = Vec::new();
    collect_placemarks(root, &mut placemarks);
    if placemarks.is_empty() {
        return Err(ReadError::new(path, "the KML has no Placemark"));
    }
    let mut columns = ColumnsBuilder::new(Cleaner::new(opts));
    let mut rows = Vec::with_capacity(placemarks.len());
    let mut geoms = Vec::with_capacity(placemarks.len());
    for (i, p) in placemarks.into_iter().enumerate() {
        let row = i as u64 + 1;
        if let Some(name) = &p.name {
            let c = columns.column("name");
            columns.push(c, Some(name));
        }
        if let Some(description) = &p.description {
            let c = columns.column("description");
            columns.push(c, Some(description));
        }
        for child in p.children.iter().filter(|c| c.name == "ExtendedData") {
            for (name, value) in extended_data(child) {
                let c = columns.column(&name);
                columns.push(c, value.as_deref());
            }
        }
        let geometry = match p.geometry {
            Some(g) => Some(Geometry::<f64>::try_from(g).map_err(|e| {
                ReadError::new(path, format!("invalid geometry in Placemark {row}: {e}"))
                    .at_row(row)
            })?),
            None => None,
        };
        columns.end_row();
        rows.push(row);
        geoms.push(geometry);
    }
    cells::finish_table(
        path,
        columns,
        opts,
        Extras {
            rows,
            geoms: Some(geoms),
            crs: Some(4326),
            detected,
        },
    )
}

/// The KML document inside a KMZ: `doc.kml` if present, else the first `.kml` entry.
fn kmz_document(path: &Path, bytes: &[u8]) -> Result<(String, Vec<u8>), ReadError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ReadError::new(path, format!("not a readable KMZ (zip) archive: {e}")))?;
    let names: Vec<String> = archive
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let pick = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case("doc.kml"))
        .or_else(|| {
            names
                .iter()
                .find(|n| n.to_ascii_lowercase().ends_with(".kml"))
        })
        .cloned()
        .ok_or_else(|| ReadError::new(path, "the KMZ holds no .kml document"))?;
    let mut entry = archive
        .by_name(&pick)
        .map_err(|e| ReadError::new(path, format!("cannot read \"{pick}\" in the KMZ: {e}")))?;
    let mut out = Vec::new();
    entry
        .read_to_end(&mut out)
        .map_err(|e| ReadError::new(path, format!("cannot read \"{pick}\" in the KMZ: {e}")))?;
    Ok((pick, out))
}

/// All Placemarks in document order, through Documents and Folders.
fn collect_placemarks(node: Kml<f64>, out: &mut Vec<::kml::types::Placemark<f64>>) {
    match node {
        Kml::KmlDocument(d) => d
            .elements
            .into_iter()
            .for_each(|e| collect_placemarks(e, out)),
        Kml::Document { elements, .. } | Kml::Folder { elements, .. } => elements
            .into_iter()
            .for_each(|e| collect_placemarks(e, out)),
        Kml::Placemark(p) => out.push(p),
        _ => {}
    }
}

/// The (name, value) pairs of an ExtendedData element: `<Data name="n"><value>v</value>`
/// and `<SchemaData><SimpleData name="n">v</SimpleData>`.
fn extended_data(element: &Element) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for child in &element.children {
        match child.name.as_str() {
            "Data" => {
                if let Some(name) = child.attrs.get("name") {
                    let value = child
                        .children
                        .iter()
                        .find(|c| c.name == "value")
                        .and_then(|v| v.content.clone());
                    out.push((name.clone(), value));
                }
            }
            "SchemaData" => {
                for simple in child.children.iter().filter(|c| c.name == "SimpleData") {
                    if let Some(name) = simple.attrs.get("name") {
                        out.push((name.clone(), simple.content.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}
