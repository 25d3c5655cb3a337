//! The controlled vocabularies the catalogue outputs refer to, beyond those a recipe is
//! checked against ([`crate::vocab`]): EU file types, IANA media types, EU languages, the
//! AgID licence types, EuroVoc sub-themes and the AgID/ISTAT municipalities.
//!
//! Every term written into the RDF is a URI of one of these vocabularies, never a literal
//! holding a URI. The DCAT-AP 3.0.1 shapes check the class of every referenced term, so
//! [`super::dcat`] types each one (`dct:MediaTypeOrExtent`, `dct:MediaType`,
//! `dct:LinguisticSystem`, `skos:Concept` with a `skos:prefLabel`, ...).
//!
//! Sources (the tables were extracted with `tools/catalog_vocab/make_tables.py`):
//! - EU file types: the EU Publications Office authority table v20211208-0 as
//!   ckanext-dcatapit ships it (`tests/fixtures/eu-op_filetypes-filtered.rdf`).
//! - `eurovoc_subthemes.tsv`: AgID `theme-subtheme-mapping` (CC-BY 4.0).
//! - `istat_cities.txt`: AgID `territorial-classifications/cities` (CC-BY 4.0), current
//!   records of the municipalities in the ISTAT "Elenco comuni italiani" 2023.
//! - Licence types: AgID `licences` vocabulary, level 2 (CC-BY 4.0).
//!
//! Pitfall: the AgID municipality URI carries the date its current record starts
//! (`cities/046007-(1948-01-01)`), which cannot be derived from the ISTAT code; a
//! municipality created after the table was extracted has no URI here.

/// Base of the EU file-type vocabulary (`dct:format`).
pub const FILE_TYPE_BASE: &str = "http://publications.europa.eu/resource/authority/file-type/";
/// Base of IANA media type URIs (`dcat:mediaType`).
pub const MEDIA_TYPE_BASE: &str = "https://www.iana.org/assignments/media-types/";
/// Base of the EU language vocabulary (`dct:language`).
pub const LANGUAGE_BASE: &str = "http://publications.europa.eu/resource/authority/language/";
/// Base of the EU data-theme vocabulary (`dcat:theme`), and the scheme itself.
pub const THEME_BASE: &str = "http://publications.europa.eu/resource/authority/data-theme/";
pub const THEME_SCHEME: &str = "http://publications.europa.eu/resource/authority/data-theme";
/// Base of the EU frequency vocabulary (`dct:accrualPeriodicity`).
pub const FREQUENCY_BASE: &str = "http://publications.europa.eu/resource/authority/frequency/";
/// EU access-right vocabulary: every dataset Portale publishes is public.
pub const ACCESS_RIGHT_PUBLIC: &str =
    "http://publications.europa.eu/resource/authority/access-right/PUBLIC";
/// Base of the AgID municipality vocabulary.
pub const CITY_BASE: &str =
    "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/cities/";

/// Codes of the EU file-type vocabulary v20211208-0.
pub const FILE_TYPES: &[&str] = &[
    "7Z",
    "AAC",
    "AKN4EU",
    "AKN4EU_ZIP",
    "APK",
    "APPX",
    "ARC",
    "ARC_GZ",
    "ARJ",
    "ATOM",
    "AZW",
    "BIN",
    "BITS",
    "BMP",
    "BWF",
    "BZIP2",
    "CSS",
    "CSV",
    "DBF",
    "DCR",
    "DEB",
    "DGN",
    "DMG",
    "DMP",
    "DOC",
    "DOCX",
    "DTD_SGML",
    "DTD_XML",
    "DWG",
    "DXF",
    "E00",
    "EAR",
    "ECW",
    "EPS",
    "EPUB",
    "ETSI_XML",
    "EXE",
    "FMX2",
    "FMX3",
    "FMX4",
    "FMX4_ZIP",
    "GDB",
    "GEOJSON",
    "GIF",
    "GML",
    "GMZ",
    "GPKG",
    "GRID",
    "GRID_ASCII",
    "GZIP",
    "HDF",
    "HDT",
    "HTML",
    "HTML5",
    "HTML_SIMPL",
    "ICS",
    "IMMC_XML",
    "INDD",
    "IPA",
    "ISO",
    "ISO_ZIP",
    "JAR",
    "JATS",
    "JPEG",
    "JPEG2000",
    "JS",
    "JSON",
    "JSON_LD",
    "KML",
    "KMZ",
    "LAS",
    "LAZ",
    "LEG",
    "LHA",
    "LZIP",
    "LZMA",
    "LZO",
    "MAP_PRVW",
    "MAP_SRVC",
    "MBOX",
    "MDB",
    "METS",
    "METS_ZIP",
    "MHTML",
    "MOBI",
    "MOP",
    "MPEG2",
    "MPEG4",
    "MPEG4_AVC",
    "MRSID",
    "MSG_HTTP",
    "MSI",
    "MXD",
    "N3",
    "NETCDF",
    "OCTET",
    "ODB",
    "ODC",
    "ODF",
    "ODG",
    "ODP",
    "ODS",
    "ODT",
    "OP_DATPRO",
    "OVF",
    "OWL",
    "PDF",
    "PDF1X",
    "PDFA1A",
    "PDFA1B",
    "PDFA2A",
    "PDFA2B",
    "PDFA3",
    "PDFUA",
    "PDFX",
    "PDFX1A",
    "PDFX2A",
    "PDFX4",
    "PL",
    "PNG",
    "PPS",
    "PPSX",
    "PPT",
    "PPTX",
    "PS",
    "PSD",
    "PWP",
    "QGS",
    "RAR",
    "RDF",
    "RDFA",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TRIG",
    "RDF_TRIX",
    "RDF_TURTLE",
    "RDF_XML",
    "REST",
    "RPM",
    "RSS",
    "RTF",
    "SB3",
    "SCHEMA_XML",
    "SDMX",
    "SGML",
    "SHP",
    "SKOS_XML",
    "SPARQLQ",
    "SPARQLQRES",
    "SQL",
    "SVG",
    "SWM",
    "TAB",
    "TAB_RSTR",
    "TAR",
    "TAR_GZ",
    "TAR_XZ",
    "TIFF",
    "TIFF_FX",
    "TMX",
    "TSV",
    "TXT",
    "WAR",
    "WARC",
    "WARC_GZ",
    "WCS_SRVC",
    "WFS_SRVC",
    "WIM",
    "WMS_SRVC",
    "WORLD",
    "XHTML",
    "XHTML_SIMPL",
    "XLIFF",
    "XLS",
    "XLSB",
    "XLSM",
    "XLSX",
    "XML",
    "XSLFO",
    "XSLT",
    "XYZ",
    "XZ",
    "Z",
    "ZIP",
];

pub fn is_file_type(code: &str) -> bool {
    FILE_TYPES.contains(&code)
}

/// File types whose specification is open (the MQA "non-proprietary" indicator).
const NON_PROPRIETARY: &[&str] = &[
    "ATOM",
    "CSV",
    "GEOJSON",
    "GML",
    "GPKG",
    "HDF",
    "HTML",
    "JSON",
    "JSON_LD",
    "KML",
    "N3",
    "NETCDF",
    "ODS",
    "ODT",
    "RDF",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TRIG",
    "RDF_TURTLE",
    "RDF_XML",
    "RSS",
    "SDMX",
    "TSV",
    "TXT",
    "XML",
];

/// File types a program can read without human help (the MQA "machine-readable" indicator).
const MACHINE_READABLE: &[&str] = &[
    "ATOM",
    "CSV",
    "DBF",
    "GEOJSON",
    "GML",
    "GPKG",
    "HDF",
    "JSON",
    "JSON_LD",
    "KML",
    "KMZ",
    "N3",
    "NETCDF",
    "ODS",
    "RDF",
    "RDF_N_QUADS",
    "RDF_N_TRIPLES",
    "RDF_TRIG",
    "RDF_TURTLE",
    "RDF_XML",
    "RSS",
    "SDMX",
    "SHP",
    "SPARQLQRES",
    "TSV",
    "XLS",
    "XLSX",
    "XML",
];

/// Open, machine-readable formats the file-type vocabulary has no code for: Portale
/// publishes them as `BIN` and the media type tells what they are.
const OPEN_BINARY_MEDIA_TYPES: &[&str] =
    &["application/vnd.apache.parquet", "application/flatgeobuf"];

/// Whether a distribution's format is non-proprietary. `BIN` is judged by its media type.
pub fn is_non_proprietary(format: &str, media_type: &str) -> bool {
    NON_PROPRIETARY.contains(&format)
        || (format == "BIN" && OPEN_BINARY_MEDIA_TYPES.contains(&media_type))
}

/// Whether a distribution's format is machine-readable. `BIN` is judged by its media type.
pub fn is_machine_readable(format: &str, media_type: &str) -> bool {
    MACHINE_READABLE.contains(&format)
        || (format == "BIN" && OPEN_BINARY_MEDIA_TYPES.contains(&media_type))
}

/// Media types registered with IANA that Portale may publish. Only these get a
/// `dcat:mediaType`: an IANA URI for an unregistered type (`application/flatgeobuf`) would
/// name a page that does not exist.
const IANA_MEDIA_TYPES: &[&str] = &[
    "application/geo+json",
    "application/geopackage+sqlite3",
    "application/gml+xml",
    "application/json",
    "application/ld+json",
    "application/octet-stream",
    "application/pdf",
    "application/rdf+xml",
    "application/vnd.apache.parquet",
    "application/vnd.google-earth.kml+xml",
    "application/vnd.google-earth.kmz",
    "application/vnd.mapbox-vector-tile",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/xml",
    "application/zip",
    "text/csv",
    "text/plain",
    "text/tab-separated-values",
    "text/turtle",
];

/// The IANA URI of a registered media type (parameters such as `; charset=` ignored).
pub fn media_type_uri(media_type: &str) -> Option<String> {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    IANA_MEDIA_TYPES
        .contains(&essence.as_str())
        .then(|| format!("{MEDIA_TYPE_BASE}{essence}"))
}

/// ISO 639-1 codes (as `catalog.toml` lists them) and the EU language authority codes.
const LANGUAGES: &[(&str, &str)] = &[
    ("de", "DEU"),
    ("el", "ELL"),
    ("en", "ENG"),
    ("es", "SPA"),
    ("fr", "FRA"),
    ("hr", "HRV"),
    ("it", "ITA"),
    ("nl", "NLD"),
    ("pl", "POL"),
    ("pt", "POR"),
    ("ro", "RON"),
    ("sl", "SLV"),
    ("sq", "SQI"),
];

/// The EU language URI of an ISO 639-1 code.
pub fn language_uri(iso639_1: &str) -> Option<String> {
    let code = iso639_1.to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|(two, _)| *two == code)
        .map(|(_, eu)| format!("{LANGUAGE_BASE}{eu}"))
}

/// A level-2 class of the AgID licence vocabulary: the `dct:type` of a licence document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LicenceType {
    pub uri: &'static str,
    /// Notation, e.g. `A.2`.
    pub notation: &'static str,
    pub label_it: &'static str,
    pub label_en: &'static str,
}

const LICENCE_TYPES: &[LicenceType] = &[
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/A1_PublicDomain",
        notation: "A.1",
        label_it: "Pubblico Dominio",
        label_en: "Public Domain",
    },
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/A2_Attribution",
        notation: "A.2",
        label_it: "Attribuzione",
        label_en: "Attribution",
    },
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/A3_ShareAlike",
        notation: "A.3",
        label_it: "Effetto Virale (aka Condivisione allo stesso modo)",
        label_en: "Viral Effect (aka Share-Alike)",
    },
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/A4_ShareAlikeCopyleftNonComp",
        notation: "A.4",
        label_it: "Condivisione allo stesso modo / copyleft non compatibile",
        label_en: "Share-Alike / Copyleft Non Compatible",
    },
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/B1_NonCommercial",
        notation: "B.1",
        label_it: "Solo Uso non Commerciale",
        label_en: "Non Commercial Use Only",
    },
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/B2_NoDerivs",
        notation: "B.2",
        label_it: "Non Opere Derivate",
        label_en: "No Derivative Work",
    },
    LicenceType {
        uri: "https://w3id.org/italia/controlled-vocabulary/licences/C1_Unknown",
        notation: "C.1",
        label_it: "Licenza Sconosciuta",
        label_en: "Unknown IPR",
    },
];

/// The level-2 class of a level-3 licence notation (`A.2.1` → `A.2`).
pub fn licence_type(notation: &str) -> Option<&'static LicenceType> {
    let mut parts = notation.split('.');
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else {
        return None;
    };
    let level2 = format!("{a}.{b}");
    LICENCE_TYPES.iter().find(|t| t.notation == level2)
}

/// A EuroVoc sub-theme of the AgID mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subtheme<'a> {
    pub uri: &'a str,
    /// The EU data theme it belongs to.
    pub theme: &'a str,
    pub label_it: &'a str,
    pub label_en: &'a str,
}

const SUBTHEMES: &str = include_str!("eurovoc_subthemes.tsv");

/// Looks a sub-theme up by its EuroVoc URI.
pub fn subtheme(uri: &str) -> Option<Subtheme<'static>> {
    SUBTHEMES.lines().find_map(|line| {
        let mut cells = line.split('\t');
        let found = cells.next()?;
        if found != uri {
            return None;
        }
        Some(Subtheme {
            uri: found,
            theme: cells.next()?,
            label_it: cells.next()?,
            label_en: cells.next()?,
        })
    })
}

const CITIES: &str = include_str!("istat_cities.txt");
/// `"046007 1948-01-01\n"`: every line of [`CITIES`] has this length.
const CITY_LINE: usize = 18;

/// The AgID vocabulary URI of the municipality with this ISTAT code, e.g.
/// `…/cities/046007-(1948-01-01)` for Capannori.
pub fn city_uri(istat_code: &str) -> Option<String> {
    if istat_code.len() != 6 || !istat_code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let lines = CITIES.len() / CITY_LINE;
    let line = |i: usize| CITIES.get(i * CITY_LINE..(i + 1) * CITY_LINE - 1);
    let (mut lo, mut hi) = (0, lines);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let text = line(mid)?;
        let (code, start) = text.split_once(' ')?;
        match code.cmp(istat_code) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(format!("{CITY_BASE}{code}-({start})")),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn city_table_is_fixed_width_and_sorted() {
        assert_eq!(CITIES.len() % CITY_LINE, 0);
        let codes: Vec<&str> = CITIES.lines().map(|l| &l[..6]).collect();
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(CITIES.lines().all(|l| l.len() == CITY_LINE - 1));
    }

    /// Expected URIs from the AgID `cities.csv` rows of Capannori (`046007-(1948-01-01)`),
    /// Agliè (six records, the current one `001001-(2015-01-01)`) and Montalcino, refounded
    /// on 01-01-2017 by a merger (`052037-(2017-01-01)`).
    #[test]
    fn city_uris() {
        assert_eq!(
            city_uri("046007").as_deref(),
            Some(
                "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/cities/046007-(1948-01-01)"
            )
        );
        assert!(city_uri("001001").is_some_and(|u| u.ends_with("001001-(2015-01-01)")));
        assert!(city_uri("052037").is_some_and(|u| u.ends_with("052037-(2017-01-01)")));
        assert_eq!(city_uri("999999"), None);
        assert_eq!(city_uri("46007"), None);
        assert_eq!(city_uri("04600x"), None);
    }

    #[test]
    fn subthemes_resolve() {
        let s = subtheme("http://eurovoc.europa.eu/100227").unwrap();
        assert_eq!(s.theme, "ECON");
        assert!(subtheme("http://eurovoc.europa.eu/1").is_none());
    }

    #[test]
    fn licence_types_from_notation() {
        assert_eq!(licence_type("A.2.1").map(|t| t.notation), Some("A.2"));
        assert_eq!(licence_type("B.1.10").map(|t| t.notation), Some("B.1"));
        assert_eq!(licence_type("C.1.1").map(|t| t.notation), Some("C.1"));
        assert!(licence_type("A").is_none());
        // Every AgID licence has a level-2 class.
        for l in crate::vocab::LICENSES {
            assert!(licence_type(l.notation).is_some(), "{}", l.id);
        }
    }

    #[test]
    fn media_types() {
        assert_eq!(
            media_type_uri("text/csv; charset=utf-8").as_deref(),
            Some("https://www.iana.org/assignments/media-types/text/csv")
        );
        assert_eq!(media_type_uri("application/flatgeobuf"), None);
        assert!(is_non_proprietary("BIN", "application/flatgeobuf"));
        assert!(!is_non_proprietary("BIN", "application/octet-stream"));
        assert!(is_machine_readable("CSV", "text/csv"));
        assert!(!is_machine_readable("PDF", "application/pdf"));
    }

    #[test]
    fn languages() {
        assert_eq!(
            language_uri("it").as_deref(),
            Some("http://publications.europa.eu/resource/authority/language/ITA")
        );
        assert_eq!(language_uri("xx"), None);
    }
}
