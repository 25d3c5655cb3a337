//! A small checker for the SEMIC DCAT-AP 3.0.1 shapes (`dcat-ap-SHACL.ttl`) that the
//! quality score's "passes DCAT-AP SHACL" criterion runs on a dataset's own graph.
//!
//! It is not a SHACL engine: [`SHAPES`] transcribes the property shapes of the classes
//! Portale writes, plus the two `dcat:DataService` range shapes the file refers to but
//! only `ranges.ttl` defines (SEMICeu/DCAT-AP #448) (cardinalities, node kinds, classes and datatypes), and the check reads
//! them over the graph with no inference, as pySHACL does with `inference="none"`. The
//! conformance stage (`tests/conformance/check_dcat.py`) runs the real shapes with pySHACL
//! on the served catalogue; this is the in-process approximation a dataset's score needs.
//!
//! Pitfall: a class constraint is met only by an explicit `rdf:type` in the same graph,
//! which is why [`super::dcat`] types every vocabulary term it links to.

use oxrdf::vocab::rdf;
use oxrdf::{Graph, NamedNodeRef, NamedOrBlankNodeRef, TermRef};

use super::dcat::PREFIXES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Literal,
    Node,
}

/// One property shape: values of `path` on every instance of `target`.
struct Shape {
    target: &'static str,
    path: &'static str,
    min: usize,
    max: Option<usize>,
    kind: Kind,
    class: Option<&'static str>,
    datatype: Option<&'static str>,
}

const fn node(
    target: &'static str,
    path: &'static str,
    min: usize,
    max: Option<usize>,
    class: Option<&'static str>,
) -> Shape {
    Shape {
        target,
        path,
        min,
        max,
        kind: Kind::Node,
        class,
        datatype: None,
    }
}

const fn literal(
    target: &'static str,
    path: &'static str,
    min: usize,
    max: Option<usize>,
    datatype: Option<&'static str>,
) -> Shape {
    Shape {
        target,
        path,
        min,
        max,
        kind: Kind::Literal,
        class: None,
        datatype,
    }
}

const ONE: Option<usize> = Some(1);

/// The property shapes of `dcat-ap-3.0.1_dcat-ap-SHACL.ttl` for the classes and
/// properties Portale writes.
const SHAPES: &[Shape] = &[
    literal("dcat:Catalog", "dct:title", 1, None, None),
    literal("dcat:Catalog", "dct:description", 1, None, None),
    node("dcat:Catalog", "dct:publisher", 1, ONE, Some("foaf:Agent")),
    literal("dcat:Catalog", "dct:modified", 0, ONE, None),
    node(
        "dcat:Catalog",
        "foaf:homepage",
        0,
        ONE,
        Some("foaf:Document"),
    ),
    node(
        "dcat:Catalog",
        "dct:language",
        0,
        None,
        Some("dct:LinguisticSystem"),
    ),
    node(
        "dcat:Catalog",
        "dcat:dataset",
        0,
        None,
        Some("dcat:Dataset"),
    ),
    node(
        "dcat:Catalog",
        "dcat:service",
        0,
        None,
        Some("dcat:DataService"),
    ),
    node(
        "dcat:Catalog",
        "dcat:themeTaxonomy",
        0,
        None,
        Some("skos:ConceptScheme"),
    ),
    literal("dcat:Dataset", "dct:title", 1, None, None),
    literal("dcat:Dataset", "dct:description", 1, None, None),
    literal("dcat:Dataset", "dct:identifier", 0, None, None),
    literal("dcat:Dataset", "dct:modified", 0, ONE, None),
    literal("dcat:Dataset", "dct:issued", 0, ONE, None),
    literal("dcat:Dataset", "dcat:keyword", 0, None, None),
    node("dcat:Dataset", "dcat:theme", 0, None, Some("skos:Concept")),
    node(
        "dcat:Dataset",
        "dct:accrualPeriodicity",
        0,
        ONE,
        Some("dct:Frequency"),
    ),
    node("dcat:Dataset", "dct:publisher", 0, ONE, Some("foaf:Agent")),
    node(
        "dcat:Dataset",
        "dcat:contactPoint",
        0,
        None,
        Some("vcard:Kind"),
    ),
    node(
        "dcat:Dataset",
        "dcat:distribution",
        0,
        None,
        Some("dcat:Distribution"),
    ),
    node("dcat:Dataset", "dct:spatial", 0, None, Some("dct:Location")),
    node(
        "dcat:Dataset",
        "dct:temporal",
        0,
        None,
        Some("dct:PeriodOfTime"),
    ),
    node(
        "dcat:Dataset",
        "dct:language",
        0,
        None,
        Some("dct:LinguisticSystem"),
    ),
    node(
        "dcat:Dataset",
        "dct:accessRights",
        0,
        ONE,
        Some("dct:RightsStatement"),
    ),
    node(
        "dcat:Dataset",
        "dct:conformsTo",
        0,
        None,
        Some("dct:Standard"),
    ),
    node(
        "dcat:Dataset",
        "dcat:landingPage",
        0,
        None,
        Some("foaf:Document"),
    ),
    node("dcat:Distribution", "dcat:accessURL", 1, None, None),
    node("dcat:Distribution", "dcat:downloadURL", 0, None, None),
    literal("dcat:Distribution", "dct:title", 0, None, None),
    literal("dcat:Distribution", "dct:description", 0, None, None),
    node(
        "dcat:Distribution",
        "dct:format",
        0,
        ONE,
        Some("dct:MediaTypeOrExtent"),
    ),
    node(
        "dcat:Distribution",
        "dcat:mediaType",
        0,
        ONE,
        Some("dct:MediaType"),
    ),
    literal(
        "dcat:Distribution",
        "dcat:byteSize",
        0,
        ONE,
        Some("xsd:nonNegativeInteger"),
    ),
    node(
        "dcat:Distribution",
        "spdx:checksum",
        0,
        ONE,
        Some("spdx:Checksum"),
    ),
    node(
        "dcat:Distribution",
        "dct:license",
        0,
        ONE,
        Some("dct:LicenseDocument"),
    ),
    node(
        "dcat:Distribution",
        "dct:rights",
        0,
        None,
        Some("dct:RightsStatement"),
    ),
    node(
        "dcat:Distribution",
        "dcat:accessService",
        0,
        None,
        Some("dcat:DataService"),
    ),
    literal("dcat:Distribution", "dct:modified", 0, ONE, None),
    literal("dcat:Distribution", "dct:issued", 0, ONE, None),
    literal("dcat:DataService", "dct:title", 1, None, None),
    node("dcat:DataService", "dcat:endpointURL", 1, None, None),
    // These two come from `ranges.ttl`: `dcat-ap-SHACL.ttl` names them without defining
    // them (SEMICeu/DCAT-AP #448).
    node(
        "dcat:DataService",
        "dcat:endpointURL",
        0,
        None,
        Some("rdfs:Resource"),
    ),
    node(
        "dcat:DataService",
        "dcat:endpointDescription",
        0,
        None,
        Some("rdfs:Resource"),
    ),
    node(
        "dcat:DataService",
        "dcat:servesDataset",
        0,
        None,
        Some("dcat:Dataset"),
    ),
    node(
        "dcat:DataService",
        "dct:license",
        0,
        ONE,
        Some("dct:LicenseDocument"),
    ),
    node(
        "dcat:DataService",
        "dct:accessRights",
        0,
        ONE,
        Some("dct:RightsStatement"),
    ),
    node(
        "dcat:DataService",
        "dct:publisher",
        0,
        ONE,
        Some("foaf:Agent"),
    ),
    node(
        "dcat:DataService",
        "dcat:contactPoint",
        0,
        None,
        Some("vcard:Kind"),
    ),
    node(
        "dcat:DataService",
        "dct:conformsTo",
        0,
        None,
        Some("dct:Standard"),
    ),
    literal("foaf:Agent", "foaf:name", 1, None, None),
    node("foaf:Agent", "dct:type", 0, ONE, Some("skos:Concept")),
    node(
        "dct:LicenseDocument",
        "dct:type",
        0,
        None,
        Some("skos:Concept"),
    ),
    node(
        "dct:Location",
        "locn:geometry",
        0,
        ONE,
        Some("locn:Geometry"),
    ),
    literal("dct:Location", "dcat:bbox", 0, ONE, None),
    literal("dct:Location", "dcat:centroid", 0, ONE, None),
    literal("dct:PeriodOfTime", "dcat:startDate", 0, ONE, None),
    literal("dct:PeriodOfTime", "dcat:endDate", 0, ONE, None),
    node(
        "spdx:Checksum",
        "spdx:algorithm",
        1,
        ONE,
        Some("spdx:ChecksumAlgorithm"),
    ),
    literal(
        "spdx:Checksum",
        "spdx:checksumValue",
        1,
        ONE,
        Some("xsd:hexBinary"),
    ),
    literal("skos:Concept", "skos:prefLabel", 1, None, None),
    literal("skos:ConceptScheme", "dct:title", 1, None, None),
];

/// `dct:title` → the full IRI (the prefixes of [`PREFIXES`]).
fn expand(curie: &str) -> String {
    match curie.split_once(':') {
        Some((prefix, local)) => PREFIXES
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or_else(|| curie.to_string(), |(_, ns)| format!("{ns}{local}")),
        None => curie.to_string(),
    }
}

fn has_type(graph: &Graph, node: TermRef<'_>, class: NamedNodeRef<'_>) -> bool {
    let subject = match node {
        TermRef::NamedNode(n) => NamedOrBlankNodeRef::NamedNode(n),
        TermRef::BlankNode(b) => NamedOrBlankNodeRef::BlankNode(b),
        _ => return false,
    };
    graph.contains(oxrdf::TripleRef::new(subject, rdf::TYPE, class))
}

/// The shape violations of a graph, each as a sentence naming the node, the property and
/// what was expected. Empty when the graph conforms.
pub fn violations(graph: &Graph) -> Vec<String> {
    let mut out = Vec::new();
    for shape in SHAPES {
        let target = expand(shape.target);
        let path = expand(shape.path);
        let class = shape.class.map(expand);
        let datatype = shape.datatype.map(expand);
        let target = NamedNodeRef::new_unchecked(&target);
        let path = NamedNodeRef::new_unchecked(&path);
        for focus in graph.subjects_for_predicate_object(rdf::TYPE, target) {
            let values: Vec<TermRef<'_>> =
                graph.objects_for_subject_predicate(focus, path).collect();
            if values.len() < shape.min {
                out.push(format!(
                    "{focus} ({}) has {} {} (at least {} expected)",
                    shape.target,
                    values.len(),
                    shape.path,
                    shape.min
                ));
            }
            if let Some(max) = shape.max
                && values.len() > max
            {
                out.push(format!(
                    "{focus} ({}) has {} {} (at most {max} expected)",
                    shape.target,
                    values.len(),
                    shape.path
                ));
            }
            for value in values {
                let kind_ok = match shape.kind {
                    Kind::Literal => matches!(value, TermRef::Literal(_)),
                    Kind::Node => !matches!(value, TermRef::Literal(_)),
                };
                if !kind_ok {
                    out.push(format!(
                        "{focus} {}: {value} is not a {}",
                        shape.path,
                        if shape.kind == Kind::Literal {
                            "literal"
                        } else {
                            "node"
                        }
                    ));
                    continue;
                }
                if let Some(class) = &class
                    && !has_type(graph, value, NamedNodeRef::new_unchecked(class))
                {
                    out.push(format!(
                        "{focus} {}: {value} is not typed {}",
                        shape.path,
                        shape.class.unwrap_or_default()
                    ));
                }
                if let (Some(datatype), TermRef::Literal(l)) = (&datatype, value)
                    && l.datatype().as_str() != datatype
                {
                    out.push(format!(
                        "{focus} {}: {value} is not an {}",
                        shape.path,
                        shape.datatype.unwrap_or_default()
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::{Literal, NamedNode, Triple};

    fn n(iri: &str) -> NamedNode {
        NamedNode::new(expand(iri)).unwrap()
    }

    #[test]
    fn missing_title_untyped_theme_and_bad_datatype_are_reported() {
        let mut g = Graph::new();
        let ds = NamedNode::new("https://example.it/d").unwrap();
        let theme = NamedNode::new("https://example.it/theme").unwrap();
        let dist = NamedNode::new("https://example.it/d#x").unwrap();
        for t in [
            Triple::new(ds.clone(), rdf::TYPE, n("dcat:Dataset")),
            Triple::new(ds.clone(), n("dct:description"), Literal::from("d")),
            Triple::new(ds.clone(), n("dcat:theme"), theme.clone()),
            Triple::new(ds.clone(), n("dcat:distribution"), dist.clone()),
            Triple::new(dist.clone(), rdf::TYPE, n("dcat:Distribution")),
            Triple::new(dist.clone(), n("dcat:accessURL"), ds.clone()),
            Triple::new(
                dist.clone(),
                n("dcat:byteSize"),
                Literal::new_typed_literal("12", oxrdf::vocab::xsd::DECIMAL),
            ),
        ] {
            g.insert(&t);
        }
        let v = violations(&g);
        assert_eq!(v.len(), 3, "{v:#?}");
        assert!(v.iter().any(|m| m.contains("dct:title (at least 1")));
        assert!(v.iter().any(|m| m.contains("is not typed skos:Concept")));
        assert!(v.iter().any(|m| m.contains("xsd:nonNegativeInteger")));
        g.insert(&Triple::new(ds.clone(), n("dct:title"), Literal::from("t")));
        g.insert(&Triple::new(theme.clone(), rdf::TYPE, n("skos:Concept")));
        // A concept then needs a label.
        assert_eq!(violations(&g).len(), 2);
    }
}
