//! The MQA-style metadata quality score of a dataset (the method of data.europa.eu's
//! Metadata Quality Assessment: five dimensions, 405 points, Excellent from 351, Good from
//! 221, Sufficient from 121).
//!
//! The score is computed from what is served: the dataset's own DCAT graph (the triples
//! its `/datasets/{id}.ttl` twin and the catalogue carry), and for the accessibility
//! criteria, facts the server checks: whether the dataset page answers (the
//! `dcat:accessURL`) and whether each download is on disk in the served generation with
//! the size the metadata announces (the `dcat:downloadURL`).
//!
//! | dimension | criteria (points) |
//! |---|---|
//! | Findability 100 | keyword 30, theme 30, spatial 20, temporal 20 |
//! | Accessibility 100 | accessURL answers 50, downloadURL 20, downloadURL answers 30 |
//! | Interoperability 110 | format 20, media type 10, from vocabularies 10, non-proprietary 20, machine-readable 20, DCAT-AP shapes 30 |
//! | Reusability 75 | licence 20, licence from vocabulary 10, access rights 10, from vocabulary 5, contact point 20, publisher 10 |
//! | Contextuality 20 | rights 5, byte size 5, issued 5, modified 5 |
//!
//! Pitfalls: a distribution criterion earns the share of distributions that meet it
//! (rounded to the nearest point), so one bad file among six costs a sixth; "DCAT-AP
//! shapes" is `catalog::shapes`, a transcription of the SEMIC 3.0.1 property shapes,
//! not pySHACL (the conformance stage runs pySHACL on the whole catalogue). `BIN`
//! distributions (GeoParquet, FlatGeobuf) are judged open and machine-readable by their
//! media type, since the EU file-type vocabulary has no code for them.

use oxrdf::{Graph, NamedNode, NamedNodeRef, TermRef};
use serde::Serialize;

use super::dcat::{self, Context};
use super::{shapes, terms};
use crate::model::Dataset;

/// The highest score.
pub const MAX_POINTS: u32 = 405;

/// The MQA rating bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rating {
    Excellent,
    Good,
    Sufficient,
    Bad,
}

impl Rating {
    /// Excellent from 351, Good from 221, Sufficient from 121 (the EU thresholds).
    pub fn of(points: u32) -> Rating {
        match points {
            351.. => Rating::Excellent,
            221.. => Rating::Good,
            121.. => Rating::Sufficient,
            _ => Rating::Bad,
        }
    }
}

/// One criterion: its points out of its weight, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub name: &'static str,
    pub points: u32,
    pub max: u32,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dimension {
    pub name: &'static str,
    pub points: u32,
    pub max: u32,
    pub criteria: Vec<Criterion>,
}

/// A dataset's score, as `/datasets/{id}.json` shows it under `quality_score`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QualityScore {
    pub points: u32,
    pub max: u32,
    pub rating: Rating,
    pub dimensions: Vec<Dimension>,
}

/// What the served generation holds for one distribution's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// On disk with the size the manifest gives.
    Present,
    Missing,
    WrongSize {
        on_disk: u64,
    },
}

/// What the server checked: whether the dataset page answers, and each distribution's
/// file (in the order of [`Dataset::distributions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub page_answers: bool,
    pub files: Vec<FileState>,
}

fn criterion(name: &'static str, max: u32, met: bool, yes: &str, no: &str) -> Criterion {
    Criterion {
        name,
        points: if met { max } else { 0 },
        max,
        reason: if met { yes } else { no }.to_string(),
    }
}

/// A distribution criterion: the share of distributions meeting it.
fn share(name: &'static str, max: u32, met: usize, of: usize, what: &str) -> Criterion {
    let points = if of == 0 {
        0
    } else {
        // Rounded to the nearest point; `met <= of`, so this never exceeds `max`.
        ((u64::from(max) * met as u64 * 2 + of as u64) / (of as u64 * 2)) as u32
    };
    Criterion {
        name,
        points,
        max,
        reason: format!("{met} of {of} distributions {what}"),
    }
}

fn dimension(name: &'static str, criteria: Vec<Criterion>) -> Dimension {
    Dimension {
        name,
        points: criteria.iter().map(|c| c.points).sum(),
        max: criteria.iter().map(|c| c.max).sum(),
        criteria,
    }
}

/// Reads one dataset's graph.
struct View<'g> {
    graph: &'g Graph,
}

impl<'g> View<'g> {
    fn objects(&self, s: &NamedNode, p: NamedNodeRef<'_>) -> Vec<TermRef<'g>> {
        self.graph.objects_for_subject_predicate(s, p).collect()
    }

    fn has(&self, s: &NamedNode, p: NamedNodeRef<'_>) -> bool {
        self.graph.object_for_subject_predicate(s, p).is_some()
    }

    fn iri(&self, s: &NamedNode, p: NamedNodeRef<'_>) -> Option<&'g str> {
        self.objects(s, p).into_iter().find_map(|o| match o {
            TermRef::NamedNode(n) => Some(n.as_str()),
            _ => None,
        })
    }
}

/// Scores one dataset. `served` comes from the server's checks of the generation.
pub fn score(ctx: &Context<'_>, d: &Dataset, served: &Served) -> QualityScore {
    let graph = match dcat::dataset_graph(ctx, d) {
        Ok(g) => g,
        Err(e) => {
            // Nothing can be harvested: every criterion is missed, with the reason.
            let reason = format!("the dataset's DCAT record cannot be written: {e}");
            let dimensions = vec![dimension(
                "DCAT record",
                vec![Criterion {
                    name: "record",
                    points: 0,
                    max: MAX_POINTS,
                    reason,
                }],
            )];
            return QualityScore {
                points: 0,
                max: MAX_POINTS,
                rating: Rating::Bad,
                dimensions,
            };
        }
    };
    let view = View { graph: &graph };
    let ds = NamedNode::new_unchecked(ctx.dataset_uri(&d.id));
    let page = ctx.uris.dataset(&d.id);

    // The distributions as the graph has them, matched to the model by download URL.
    let dists: Vec<NamedNode> = view
        .objects(&ds, dcat::DCAT_DISTRIBUTION_P)
        .into_iter()
        .filter_map(|o| match o {
            TermRef::NamedNode(n) => Some(n.into_owned()),
            _ => None,
        })
        .collect();
    let n = dists.len();
    let count = |f: &dyn Fn(&NamedNode) -> bool| dists.iter().filter(|x| f(x)).count();
    let model_of = |x: &NamedNode| {
        let url = view.iri(x, dcat::DCAT_DOWNLOAD_URL)?;
        d.distributions
            .iter()
            .position(|m| ctx.uris.file(&d.id, &m.file) == url)
    };

    let findability = dimension(
        "Findability",
        vec![
            criterion(
                "keyword",
                30,
                view.has(&ds, dcat::DCAT_KEYWORD),
                "dcat:keyword is set",
                "no dcat:keyword",
            ),
            criterion(
                "theme",
                30,
                view.has(&ds, dcat::DCAT_THEME),
                "dcat:theme is set (EU data theme)",
                "no dcat:theme",
            ),
            criterion(
                "spatial",
                20,
                view.has(&ds, dcat::DCT_SPATIAL),
                "dct:spatial is set",
                "no dct:spatial: the data has no extent and catalog.toml no territory_bbox",
            ),
            criterion(
                "temporal",
                20,
                view.has(&ds, dcat::DCT_TEMPORAL),
                "dct:temporal is set",
                "no dct:temporal: add `temporal` to the recipe or a date column",
            ),
        ],
    );

    let access_answers = count(&|x| {
        served.page_answers && view.iri(x, dcat::DCAT_ACCESS_URL) == Some(page.as_str())
    });
    let has_download = count(&|x| view.has(x, dcat::DCAT_DOWNLOAD_URL));
    let mut broken = Vec::new();
    let download_answers =
        count(&|x| model_of(x).and_then(|i| served.files.get(i)) == Some(&FileState::Present));
    for (m, state) in d.distributions.iter().zip(&served.files) {
        match state {
            FileState::Present => {}
            FileState::Missing => broken.push(format!("{} is missing", m.file)),
            FileState::WrongSize { on_disk } => broken.push(format!(
                "{} has {on_disk} bytes, not {}",
                m.file, m.byte_size
            )),
        }
    }
    let mut download_answers_c = share(
        "downloadURL answers",
        30,
        download_answers,
        n,
        "are served with the announced size",
    );
    if !broken.is_empty() {
        download_answers_c.reason = format!("{}: {}", download_answers_c.reason, broken.join("; "));
    }
    let accessibility = dimension(
        "Accessibility",
        vec![
            share(
                "accessURL answers",
                50,
                access_answers,
                n,
                "have an accessURL (the dataset page) that answers",
            ),
            share("downloadURL", 20, has_download, n, "have a downloadURL"),
            download_answers_c,
        ],
    );

    let format_code = |x: &NamedNode| {
        view.iri(x, dcat::DCT_FORMAT)
            .and_then(|f| f.strip_prefix(terms::FILE_TYPE_BASE))
    };
    let media_type = |x: &NamedNode| {
        model_of(x)
            .and_then(|i| d.distributions.get(i))
            .map(|m| m.media_type.as_str())
            .unwrap_or_default()
    };
    let from_vocabulary = count(&|x| {
        format_code(x).is_some_and(terms::is_file_type)
            && view
                .iri(x, dcat::DCAT_MEDIA_TYPE)
                .is_none_or(|m| m.starts_with(terms::MEDIA_TYPE_BASE))
    });
    let shape_violations = shapes::violations(&graph);
    let interoperability = dimension(
        "Interoperability",
        vec![
            share(
                "format",
                20,
                count(&|x| view.has(x, dcat::DCT_FORMAT)),
                n,
                "have a dct:format",
            ),
            share(
                "media type",
                10,
                count(&|x| view.has(x, dcat::DCAT_MEDIA_TYPE)),
                n,
                "have a dcat:mediaType (only IANA-registered types are given one)",
            ),
            share(
                "format and media type from vocabularies",
                10,
                from_vocabulary,
                n,
                "use the EU file-type vocabulary and IANA media types",
            ),
            share(
                "non-proprietary",
                20,
                count(&|x| {
                    format_code(x).is_some_and(|f| terms::is_non_proprietary(f, media_type(x)))
                }),
                n,
                "are in a non-proprietary format",
            ),
            share(
                "machine-readable",
                20,
                count(&|x| {
                    format_code(x).is_some_and(|f| terms::is_machine_readable(f, media_type(x)))
                }),
                n,
                "are in a machine-readable format",
            ),
            Criterion {
                name: "DCAT-AP shapes",
                points: if shape_violations.is_empty() { 30 } else { 0 },
                max: 30,
                reason: if shape_violations.is_empty() {
                    "the record meets the DCAT-AP 3.0.1 property shapes".into()
                } else {
                    format!(
                        "DCAT-AP 3.0.1 shapes not met: {}",
                        shape_violations.join("; ")
                    )
                },
            },
        ],
    );

    let licence_in_vocabulary = count(&|x| {
        view.iri(x, dcat::DCT_LICENSE).is_some_and(|l| {
            l.strip_prefix(crate::vocab::LICENSE_BASE)
                .is_some_and(|id| crate::vocab::LICENSES.iter().any(|k| k.id == id))
        })
    });
    let access_rights = view.iri(&ds, dcat::DCT_ACCESS_RIGHTS);
    let contact_ok = view
        .iri(&ds, dcat::DCAT_CONTACT_POINT)
        .map(NamedNode::new_unchecked)
        .is_some_and(|c| view.has(&c, dcat::VCARD_HAS_EMAIL) || view.has(&c, dcat::VCARD_HAS_URL));
    let reusability = dimension(
        "Reusability",
        vec![
            share(
                "licence",
                20,
                count(&|x| view.has(x, dcat::DCT_LICENSE)),
                n,
                "have a dct:license",
            ),
            share(
                "licence from vocabulary",
                10,
                licence_in_vocabulary,
                n,
                "have a licence of the AgID vocabulary",
            ),
            criterion(
                "access rights",
                10,
                access_rights.is_some(),
                "dct:accessRights is set",
                "no dct:accessRights",
            ),
            criterion(
                "access rights from vocabulary",
                5,
                access_rights.is_some_and(|a| {
                    a.starts_with("http://publications.europa.eu/resource/authority/access-right/")
                }),
                "dct:accessRights is a term of the EU access-right vocabulary",
                "dct:accessRights is not from the EU access-right vocabulary",
            ),
            criterion(
                "contact point",
                20,
                contact_ok,
                "dcat:contactPoint has an e-mail or a URL",
                "no reachable dcat:contactPoint",
            ),
            criterion(
                "publisher",
                10,
                view.has(&ds, dcat::DCT_PUBLISHER),
                "dct:publisher is set",
                "no dct:publisher",
            ),
        ],
    );

    let contextuality = dimension(
        "Contextuality",
        vec![
            share(
                "rights",
                5,
                count(&|x| view.has(x, dcat::DCT_RIGHTS)),
                n,
                "have dct:rights",
            ),
            share(
                "byte size",
                5,
                count(&|x| view.has(x, dcat::DCAT_BYTE_SIZE)),
                n,
                "have dcat:byteSize",
            ),
            criterion(
                "issued",
                5,
                view.has(&ds, dcat::DCT_ISSUED),
                "dct:issued is set",
                "no dct:issued: add `issued` to the recipe",
            ),
            criterion(
                "modified",
                5,
                view.has(&ds, dcat::DCT_MODIFIED),
                "dct:modified is set",
                "no dct:modified",
            ),
        ],
    );

    let dimensions = vec![
        findability,
        accessibility,
        interoperability,
        reusability,
        contextuality,
    ];
    let points = dimensions.iter().map(|d| d.points).sum();
    debug_assert_eq!(dimensions.iter().map(|d| d.max).sum::<u32>(), MAX_POINTS);
    QualityScore {
        points,
        max: MAX_POINTS,
        rating: Rating::of(points),
        dimensions,
    }
}
