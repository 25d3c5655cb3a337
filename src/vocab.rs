//! Controlled vocabularies a recipe's values must come from: EU data themes, EU
//! frequencies and the AgID licences (DCAT-AP_IT). Values are checked at `check` time so a
//! typo in a recipe is an error naming the nearest valid code, never a broken URI in the
//! published RDF.
//!
//! Sources: the EU Publications Office authority tables (data-theme, frequency) and the
//! AgID licence vocabulary (`VocabolariControllati/licences`, CC-BY 4.0), level-3 entries.

/// EU data-theme codes (`http://publications.europa.eu/resource/authority/data-theme/`).
pub const THEMES: &[(&str, &str, &str)] = &[
    (
        "AGRI",
        "Agricoltura, pesca, silvicoltura e prodotti alimentari",
        "Agriculture, fisheries, forestry and food",
    ),
    ("ECON", "Economia e finanze", "Economy and finance"),
    (
        "EDUC",
        "Istruzione, cultura e sport",
        "Education, culture and sport",
    ),
    ("ENER", "Energia", "Energy"),
    ("ENVI", "Ambiente", "Environment"),
    (
        "GOVE",
        "Governo e settore pubblico",
        "Government and public sector",
    ),
    ("HEAL", "Salute", "Health"),
    ("INTR", "Tematiche internazionali", "International issues"),
    (
        "JUST",
        "Giustizia, sistema giuridico e sicurezza pubblica",
        "Justice, legal system and public safety",
    ),
    ("REGI", "Regioni e città", "Regions and cities"),
    ("SOCI", "Popolazione e società", "Population and society"),
    ("TECH", "Scienza e tecnologia", "Science and technology"),
    ("TRAN", "Trasporti", "Transport"),
];

/// EU frequency codes (`http://publications.europa.eu/resource/authority/frequency/`).
pub const FREQUENCIES: &[&str] = &[
    "ANNUAL",
    "ANNUAL_2",
    "ANNUAL_3",
    "BIDECENNIAL",
    "BIENNIAL",
    "BIHOURLY",
    "BIMONTHLY",
    "BIWEEKLY",
    "CONT",
    "DAILY",
    "DAILY_2",
    "DECENNIAL",
    "HOURLY",
    "IRREG",
    "MONTHLY",
    "MONTHLY_2",
    "MONTHLY_3",
    "NEVER",
    "OP_DATPRO",
    "OTHER",
    "QUADRENNIAL",
    "QUARTERLY",
    "QUINQUENNIAL",
    "TRIDECENNIAL",
    "TRIENNIAL",
    "TRIHOURLY",
    "UNKNOWN",
    "UPDATE_CONT",
    "WEEKLY",
    "WEEKLY_2",
    "WEEKLY_3",
];

/// Italian and English labels of the EU frequency codes (the Publications Office table's
/// labels), for search and pages.
pub const FREQUENCY_LABELS: &[(&str, &str, &str)] = &[
    ("ANNUAL", "annuale", "annual"),
    ("ANNUAL_2", "semestrale", "semiannual"),
    ("ANNUAL_3", "tre volte all'anno", "three times a year"),
    ("BIDECENNIAL", "ventennale", "bidecennial"),
    ("BIENNIAL", "biennale", "biennial"),
    ("BIHOURLY", "ogni due ore", "bihourly"),
    ("BIMONTHLY", "bimestrale", "bimonthly"),
    ("BIWEEKLY", "quindicinale", "biweekly"),
    ("CONT", "continuo", "continuous"),
    ("DAILY", "quotidiano", "daily"),
    ("DAILY_2", "due volte al giorno", "twice a day"),
    ("DECENNIAL", "decennale", "decennial"),
    ("HOURLY", "orario", "hourly"),
    ("IRREG", "irregolare", "irregular"),
    ("MONTHLY", "mensile", "monthly"),
    ("MONTHLY_2", "bimensile", "semimonthly"),
    ("MONTHLY_3", "tre volte al mese", "three times a month"),
    ("NEVER", "mai", "never"),
    ("OP_DATPRO", "dati provvisori", "provisional data"),
    ("OTHER", "altro", "other"),
    ("QUADRENNIAL", "quadriennale", "quadrennial"),
    ("QUARTERLY", "trimestrale", "quarterly"),
    ("QUINQUENNIAL", "quinquennale", "quinquennial"),
    ("TRIDECENNIAL", "trentennale", "tridecennial"),
    ("TRIENNIAL", "triennale", "triennial"),
    ("TRIHOURLY", "ogni tre ore", "trihourly"),
    ("UNKNOWN", "sconosciuto", "unknown"),
    (
        "UPDATE_CONT",
        "aggiornamento continuo",
        "continuously updated",
    ),
    ("WEEKLY", "settimanale", "weekly"),
    ("WEEKLY_2", "bisettimanale", "semiweekly"),
    ("WEEKLY_3", "tre volte a settimana", "three times a week"),
];

/// The Italian and English labels of an EU frequency code.
pub fn frequency_labels(code: &str) -> Option<(&'static str, &'static str)> {
    FREQUENCY_LABELS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, it, en)| (*it, *en))
}

/// The Italian and English labels of an EU data-theme code.
pub fn theme_labels(code: &str) -> Option<(&'static str, &'static str)> {
    THEMES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, it, en)| (*it, *en))
}

/// Base URI of the AgID licence vocabulary.
pub const LICENSE_BASE: &str = "https://w3id.org/italia/controlled-vocabulary/licences/";

/// One AgID licence (level 3 of the vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct License {
    /// The id used in recipes and URIs, e.g. `A21_CCBY40`.
    pub id: &'static str,
    /// The AgID notation, e.g. `A.2.1`; its first letter is the level-1 class (A open, B non-open, C unknown).
    pub notation: &'static str,
    pub label_it: &'static str,
    pub label_en: &'static str,
}

impl License {
    pub fn uri(&self) -> String {
        format!("{LICENSE_BASE}{}", self.id)
    }

    pub fn is_open(&self) -> bool {
        self.notation.starts_with('A')
    }
}

pub const LICENSES: &[License] = &[
    License {
        id: "A11_CCO10",
        notation: "A.1.1",
        label_it: "Creative Commons CC0 1.0 Universale - Public Domain Dedication (CC0 1.0)",
        label_en: "Creative Commons CC0 1.0 Universal - Public Domain Dedication (CC0 1.0)",
    },
    License {
        id: "A12_PDDL",
        notation: "A.1.2",
        label_it: "ODC Public Domain Dedication and License (PDDL)",
        label_en: "ODC Public Domain Dedication and License (PDDL)",
    },
    License {
        id: "A21_CCBY40",
        notation: "A.2.1",
        label_it: "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
        label_en: "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    },
    License {
        id: "A22_CCBY30",
        notation: "A.2.2",
        label_it: "Creative Commons Attribuzione 3.0 Unported (CC BY 3.0)",
        label_en: "Creative Commons Attribution 3.0 Unported (CC BY 3.0)",
    },
    License {
        id: "A23_CCBY30IT",
        notation: "A.2.3",
        label_it: "Creative Commons Attribuzione Italia 3.0 (CC BY 3.0 IT)",
        label_en: "Creative Commons Attribution Italy 3.0 (CC BY 3.0 IT)",
    },
    License {
        id: "A24_CCBY25",
        notation: "A.2.4",
        label_it: "Creative Commons Attribuzione 2.5 Generica (CC BY 2.5)",
        label_en: "Creative Commons Attribution 2.5 Generic (CC BY 2.5)",
    },
    License {
        id: "A25_CCBY25IT",
        notation: "A.2.5",
        label_it: "Creative Commons Attribuzione 2.5 Italia (CC BY 2.5 IT)",
        label_en: "Creative Commons Attribution 2.5 Italy (CC BY 2.5 IT)",
    },
    License {
        id: "A26_CCBY20",
        notation: "A.2.6",
        label_it: "Creative Commons Attribuzione 2.0 Generica (CC BY 2.0)",
        label_en: "Creative Commons Attribution 2.0 Generic (CC BY 2.0)",
    },
    License {
        id: "A27_CCBY20IT",
        notation: "A.2.7",
        label_it: "Creative Commons Attribuzione 2.0 Italia (CC BY 2.0 IT)",
        label_en: "Creative Commons Attribution 2.0 Italy (CC BY 2.0 IT)",
    },
    License {
        id: "A28_CCBY10",
        notation: "A.2.8",
        label_it: "Creative Commons Attribuzione 1.0 Generica (CC BY 1.0)",
        label_en: "Creative Commons Attribution 1.0 Generic (CC BY 1.0)",
    },
    License {
        id: "A29_IODL20",
        notation: "A.2.9",
        label_it: "Italian Open Data License 2.0 (IODL 2.0)",
        label_en: "Italian Open Data License 2.0 (IODL 2.0)",
    },
    License {
        id: "A210_ODCBY",
        notation: "A.2.10",
        label_it: "Open Data Commons Attribution License (ODC_BY)",
        label_en: "Open Data Commons Attribution License (ODC_BY)",
    },
    License {
        id: "A31_CCBYSA40",
        notation: "A.3.1",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 4.0 Internazionale (CC BY-SA 4.0)",
        label_en: "Creative Commons Attributon–ShareAlike 4.0 International (CC BY-SA 4.0)",
    },
    License {
        id: "A32_CCBYSA30",
        notation: "A.3.2",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 3.0 Unported (CC BY-SA 3.0)",
        label_en: "Creative Commons Attributon–ShareAlike 3.0 Unported (CC BY-SA 3.0)",
    },
    License {
        id: "A33_CCBYSA30IT",
        notation: "A.3.3",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 3.0 Italia (CC BY-SA 3.0 IT)",
        label_en: "Creative Commons Attributon–ShareAlike 3.0 Italy (CC BY-SA 3.0 IT)",
    },
    License {
        id: "A34_CCBYSA25",
        notation: "A.3.4",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 2.5 Generica (CC BY-SA 2.5)",
        label_en: "Creative Commons Attributon–ShareAlike 2.5 Generic (CC BY-SA 2.5)",
    },
    License {
        id: "A35_CCBYSA25IT",
        notation: "A.3.5",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 2.5 Italia (CC BY-SA 2.5 IT)",
        label_en: "Creative Commons Attributon–ShareAlike 2.5 Italy (CC BY-SA 2.5 IT)",
    },
    License {
        id: "A36_CCBYSA20",
        notation: "A.3.6",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 2.0 Generica (CC BY-SA 2.0)",
        label_en: "Creative Commons Attributon–ShareAlike 2.0 Generic (CC BY-SA 2.0)",
    },
    License {
        id: "A37_CCBYSA20IT",
        notation: "A.3.7",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 2.0 Italia (CC BY-SA 2.0 IT)",
        label_en: "Creative Commons Attributon–ShareAlike 2.0 Italy (CC BY-SA 2.0 IT)",
    },
    License {
        id: "A38_CCBYSA10",
        notation: "A.3.8",
        label_it: "Creative Commons Attribuzione-Condividi allo stesso modo 1.0 Generica (CC BY-SA 1.0)",
        label_en: "Creative Commons Attributon–ShareAlike 1.0 Generic (CC BY-SA 1.0)",
    },
    License {
        id: "A39_IODL10",
        notation: "A.3.9",
        label_it: "Italian Open Data License 1.0 (IODL 1.0)",
        label_en: "Italian Open Data License 1.0 (IODL 1.0)",
    },
    License {
        id: "A310_ODBL",
        notation: "A.3.10",
        label_it: "Open Data Commons Open Database License 1.0 (ODbL)",
        label_en: "Open Data Commons Open Database License 1.0 (ODbL)",
    },
    License {
        id: "A311_GFDL13",
        notation: "A.3.11",
        label_it: "GNU Free Documentation License 1.3 (GFDL 1.3)",
        label_en: "GNU Free Documentation License 1.3 (GFDL 1.3)",
    },
    License {
        id: "A41_ADRM",
        notation: "A.4.1",
        label_it: "Against DRM (2.0)",
        label_en: "Against DRM (2.0)",
    },
    License {
        id: "B11_CCBYNC40",
        notation: "B.1.1",
        label_it: "Creative Commons Attribuzione-Non Commerciale 4.0 Internazionale (CC BY-NC 4.0)",
        label_en: "Creative Commons Attribution–NonCommercial 4.0 International (CC BY-NC 4.0)",
    },
    License {
        id: "B12_CCBYNC30",
        notation: "B.1.2",
        label_it: "Creative Commons Attribuzione-Non Commerciale 3.0 Unported (CC BY-NC 3.0)",
        label_en: "Creative Commons Attribution–NonCommercial 3.0 Unported (CC BY-NC 3.0)",
    },
    License {
        id: "B13_CCBYNC30IT",
        notation: "B.1.3",
        label_it: "Creative Commons Attribuzione-Non Commerciale 3.0 Italia (CC BY-NC 3.0 IT)",
        label_en: "Creative Commons Attribution–NonCommercial 3.0 Italy (CC BY-NC 3.0 IT)",
    },
    License {
        id: "B14_CCBYNC25",
        notation: "B.1.4",
        label_it: "Creative Commons Attribuzione-Non Commerciale 2.5 Generica (CC BY-NC 2.5)",
        label_en: "Creative Commons Attribution–NonCommercial 3.0 Generic (CC BY-NC 2.5)",
    },
    License {
        id: "B15_CCBYNC25IT",
        notation: "B.1.5",
        label_it: "Creative Commons Attribuzione-Non Commerciale 2.5 Italia (CC BY-NC 2.5 IT)",
        label_en: "Creative Commons Attribution–NonCommercial 2.5 Italy (CC BY-NC 2.5 IT)",
    },
    License {
        id: "B16_CCBYNC20",
        notation: "B.1.6",
        label_it: "Creative Commons Attribuzione-Non Commerciale 2.0 Generica (CC BY-NC 2.0)",
        label_en: "Creative Commons Attribution–NonCommercial 2.0 Generic (CC BY-NC 2.0)",
    },
    License {
        id: "B17_CCBYNC20IT",
        notation: "B.1.7",
        label_it: "Creative Commons Attribuzione-Non Commerciale 2.0 Italia (CC BY-NC 2.0 IT)",
        label_en: "Creative Commons Attribution–NonCommercial 2.0 Italy (CC BY-NC 2.0 IT)",
    },
    License {
        id: "B18_CCBYNC10",
        notation: "B.1.8",
        label_it: "Creative Commons Attribuzione-Non Commerciale 1.0 Generica (CC BY-NC 1.0)",
        label_en: "Creative Commons Attribution–NonCommercial 1.0 Generic (CC BY-NC 1.0)",
    },
    License {
        id: "B19_CCBYNCSA40",
        notation: "B.1.9",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 4.0 Internazionale (CC BY-NC-SA 4.0)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 4.0 International (CC BY-NC-SA 4.0)",
    },
    License {
        id: "B110_CCBYNCSA30",
        notation: "B.1.10",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 3.0 Unported (CC BY-NC-SA 3.0)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 3.0 Unported (CC BY-NC-SA 3.0)",
    },
    License {
        id: "B111_CCBYNCSA30IT",
        notation: "B.1.11",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 3.0 Italia (CC BY-NC-SA 3.0 IT)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 3.0 Italy (CC BY-NC-SA 3.0 IT)",
    },
    License {
        id: "B112_CCBYNCSA25",
        notation: "B.1.12",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 2.5 Generica (CC BY-NC-SA 2.5)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 2.5 Generic (CC BY-NC-SA 2.5)",
    },
    License {
        id: "B113_CCBYNCSA25IT",
        notation: "B.1.13",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 2.5 Italia (CC BY-NC-SA 2.5 IT)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 2.5 Italy (CC BY-NC-SA 2.5 IT)",
    },
    License {
        id: "B114_CCBYNCSA20",
        notation: "B.1.14",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 2.0 Generica (CC BY-NC-SA 2.0)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 2.0 Generic (CC BY-NC-SA 2.0)",
    },
    License {
        id: "B115_CCBYNCSA20IT",
        notation: "B.1.15",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 2.0 Italia (CC BY-NC-SA 2.0 IT)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 2.0 Italy (CC BY-NC-SA 2.0 IT)",
    },
    License {
        id: "B116_CCBYNCSA10",
        notation: "B.1.16",
        label_it: "Creative Commons Attribuzione-Non Commerciale-Condividi allo stesso modo 1.0 Generica (CC BY-NC-SA 1.0)",
        label_en: "Creative Commons Attribution–NonCommercial-ShareAlike 1.0 Generic (CC BY-NC-SA 1.0)",
    },
    License {
        id: "B21_CCBYND40",
        notation: "B.2.1",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 4.0 Internazionale (CC BY-ND 4.0)",
        label_en: "Creative Commons Attribution-NoDerivs 4.0 International (CC BY-ND 4.0)",
    },
    License {
        id: "B22_CCBYND30",
        notation: "B.2.2",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 3.0 Unported (CC BY-ND 3.0)",
        label_en: "Creative Commons Attribuzione-NoDerivs 3.0 Unported (CC BY-ND 3.0)",
    },
    License {
        id: "B23_CCBYND30IT",
        notation: "B.2.3",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 3.0 Italia (CC BY-ND 3.0 IT)",
        label_en: "Creative Commons Attribuzione-NoDerivs 3.0 Italy (CC BY-ND 3.0 IT)",
    },
    License {
        id: "B24_CCBYND25",
        notation: "B.2.4",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 2.5 Generica (CC BY-ND 2.5)",
        label_en: "Creative Commons Attribuzione-NoDerivs 2.5 Generic (CC BY-ND 2.5)",
    },
    License {
        id: "B25_CCBYND25IT",
        notation: "B.2.5",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 2.5 Italia (CC BY-ND 2.5 IT)",
        label_en: "Creative Commons Attribuzione-NoDerivs 2.5 Italy (CC BY-ND 2.5 IT)",
    },
    License {
        id: "B26_CCBYND20",
        notation: "B.2.6",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 2.0 Generica (CC BY-ND 2.0)",
        label_en: "Creative Commons Attribuzione-NoDerivs 2.0 Generic (CC BY-ND 2.0)",
    },
    License {
        id: "B27_CCBYND20IT",
        notation: "B.2.7",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 2.0 Italia (CC BY-ND 2.0 IT)",
        label_en: "Creative Commons Attribuzione-NoDerivs 2.0 Italy (CC BY-ND 2.0 IT)",
    },
    License {
        id: "B28_CCBYND10",
        notation: "B.2.8",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate 1.0 Generica (CC BY-ND 1.0)",
        label_en: "Creative Commons Attribuzione-NoDerivs 1.0 Generic (CC BY-ND 1.0)",
    },
    License {
        id: "B29_CCBYNDNC10",
        notation: "B.2.9",
        label_it: "Creative Commons Attribuzione-Non Opere Derivate-Non Commerciale 1.0 Generica (CC BY-ND-NC 1.0)",
        label_en: "Creative Commons Attribuzione-NoDerivs-NonCommercial 1.0 Generic (CC BY-ND-NC 1.0)",
    },
    License {
        id: "C11_Unknown",
        notation: "C.1.1",
        label_it: "Licenza Sconosciuta",
        label_en: "Unknown IPR",
    },
];

/// Common SPDX-style names accepted in recipes for the AgID id they denote.
pub const LICENSE_ALIASES: &[(&str, &str)] = &[
    ("CC0-1.0", "A11_CCO10"),
    ("PDDL-1.0", "A12_PDDL"),
    ("CC-BY-4.0", "A21_CCBY40"),
    ("CC-BY-3.0", "A22_CCBY30"),
    ("CC-BY-3.0-IT", "A23_CCBY30IT"),
    ("IODL-2.0", "A29_IODL20"),
    ("ODC-BY-1.0", "A210_ODCBY"),
    ("CC-BY-SA-4.0", "A31_CCBYSA40"),
    ("ODbL-1.0", "A310_ODBL"),
    ("IODL-1.0", "A39_IODL10"),
];

/// Looks a licence up by AgID id or SPDX-style alias.
pub fn license(id: &str) -> Option<&'static License> {
    let id = LICENSE_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(id))
        .map(|(_, agid)| *agid)
        .unwrap_or(id);
    LICENSES.iter().find(|l| l.id == id)
}

pub fn is_theme(code: &str) -> bool {
    THEMES.iter().any(|(c, _, _)| *c == code)
}

pub fn is_frequency(code: &str) -> bool {
    FREQUENCIES.contains(&code)
}

/// The candidate closest to `word` (Jaro-Winkler, case-insensitive), if reasonably close.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&w, &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_resolve_by_id_and_alias() {
        assert_eq!(license("A21_CCBY40").map(|l| l.notation), Some("A.2.1"));
        assert_eq!(license("cc-by-4.0").map(|l| l.id), Some("A21_CCBY40"));
        assert!(license("CC-BY-5.0").is_none());
        assert_eq!(LICENSES.len(), 50);
    }

    #[test]
    fn nearest_finds_typos() {
        assert_eq!(
            nearest("ANUAL", FREQUENCIES.iter().copied()),
            Some("ANNUAL")
        );
        assert_eq!(nearest("EDU", THEMES.iter().map(|t| t.0)), Some("EDUC"));
        assert_eq!(nearest("zzzzzz", ["title", "description"]), None);
    }

    #[test]
    fn every_frequency_has_labels() {
        for code in FREQUENCIES {
            assert!(frequency_labels(code).is_some(), "{code}");
        }
        assert_eq!(FREQUENCY_LABELS.len(), FREQUENCIES.len());
    }
}
