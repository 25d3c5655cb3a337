//! Checking a parsed [`Expr`] against a collection's queryables and evaluating it on
//! features, with CQL2's three-valued logic (`None` = unknown).

use std::cmp::Ordering;

use geo::{BoundingRect, CoordsIter, Intersects, Relate};
use geo_types::{Geometry, Rect};

use super::{CmpOp, Cql2Error, Expr, GeomOperand, Scalar, SpatialOp};
use crate::model::Field;
use crate::ogc::crs::RequestCrs;
use crate::ogc::source::Feature;
use crate::ogc::value::{Kind, Value};

/// What a filter may name: the dataset's fields (in the order of a feature's properties)
/// and the geometry property.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'a> {
    pub fields: &'a [Field],
    pub geometry: &'a str,
}

#[derive(Debug, Clone)]
enum Operand {
    Slot(usize),
    Lit(Value),
}

#[derive(Debug, Clone)]
enum Pat {
    Any,
    One,
    Char(char),
}

#[derive(Debug, Clone)]
enum Node {
    Const(Option<bool>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Compare(CmpOp, Operand, Operand),
    Like(Operand, Vec<Pat>),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    IsNull(Operand),
    /// The feature's geometry related to a WGS84 literal.
    Spatial(SpatialOp, Geometry<f64>),
}

/// A checked filter, ready to test features.
#[derive(Debug, Clone)]
pub struct Filter {
    root: Node,
    envelope: Option<Rect<f64>>,
}

impl Filter {
    /// True when the filter holds for `f` (false or unknown drop the feature).
    pub fn test(&self, f: &Feature) -> bool {
        eval(&self.root, f) == Some(true)
    }

    /// A WGS84 envelope every matching feature meets, when the filter implies one: the
    /// spatial index then narrows the candidates.
    pub fn envelope(&self) -> Option<Rect<f64>> {
        self.envelope
    }

    /// Whether the filter looks at the geometry (a spatial predicate anywhere in it). When
    /// it does not, features can be tested on their properties alone, without decoding
    /// their geometries.
    pub fn uses_geometry(&self) -> bool {
        uses_geometry(&self.root)
    }

    /// Marks in `used` (one flag per field of the schema, in its order) the properties
    /// the filter reads; the others need not be decoded to test a feature.
    pub fn mark_fields(&self, used: &mut [bool]) {
        mark_fields(&self.root, used);
    }
}

/// Marks in `used` the property slots `n` reads.
fn mark_fields(n: &Node, used: &mut [bool]) {
    let mut mark = |o: &Operand| {
        if let Operand::Slot(i) = o
            && let Some(u) = used.get_mut(*i)
        {
            *u = true;
        }
    };
    match n {
        Node::And(items) | Node::Or(items) => items.iter().for_each(|i| mark_fields(i, used)),
        Node::Not(inner) => mark_fields(inner, used),
        Node::Compare(_, a, b) => {
            mark(a);
            mark(b);
        }
        Node::Like(a, _) | Node::IsNull(a) => mark(a),
        Node::Between(a, b, c) => {
            mark(a);
            mark(b);
            mark(c);
        }
        Node::In(a, list) => {
            mark(a);
            list.iter().for_each(&mut mark);
        }
        Node::Const(_) | Node::Spatial(..) => {}
    }
}

fn uses_geometry(n: &Node) -> bool {
    match n {
        Node::Spatial(..) => true,
        Node::And(items) | Node::Or(items) => items.iter().any(uses_geometry),
        Node::Not(inner) => uses_geometry(inner),
        Node::Const(_)
        | Node::Compare(..)
        | Node::Like(..)
        | Node::Between(..)
        | Node::In(..)
        | Node::IsNull(_) => false,
    }
}

/// Checks `expr` against `schema` (known properties, comparable types) and transforms its
/// geometry literals from `crs` to WGS84.
pub fn compile(expr: &Expr, schema: Schema<'_>, crs: &RequestCrs) -> Result<Filter, Cql2Error> {
    let root = node(expr, schema, crs)?;
    let envelope = envelope_of(&root);
    Ok(Filter { root, envelope })
}

fn operand(s: &Scalar, schema: Schema<'_>) -> Result<(Operand, Kind, String), Cql2Error> {
    match s {
        Scalar::Literal(v) => Ok((Operand::Lit(v.clone()), v.kind(), format!("{v:?}"))),
        Scalar::Property(name) => {
            if name == schema.geometry {
                return Err(Cql2Error(format!(
                    "the geometry property {name:?} can only be used in spatial functions \
                     (S_INTERSECTS, ...)"
                )));
            }
            let Some(i) = schema.fields.iter().position(|f| &f.name == name) else {
                let known: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
                return Err(Cql2Error(format!(
                    "unknown property {name:?}; the queryables are: {}, {}",
                    known.join(", "),
                    schema.geometry
                )));
            };
            let kind = Kind::of_field(schema.fields[i].field_type);
            Ok((
                Operand::Slot(i),
                kind,
                format!(
                    "property {name:?} ({})",
                    schema.fields[i].field_type.as_str()
                ),
            ))
        }
    }
}

fn same_kind(items: &[(Operand, Kind, String)], what: &str) -> Result<(), Cql2Error> {
    if let Some(first) = items.first() {
        for other in &items[1..] {
            if other.1 != first.1 {
                let hint = if first.1 == Kind::Temporal || other.1 == Kind::Temporal {
                    "; write dates as DATE('YYYY-MM-DD') or TIMESTAMP('YYYY-MM-DDTHH:MM:SSZ')"
                } else {
                    ""
                };
                return Err(Cql2Error(format!(
                    "{what}: cannot compare {} ({}) with {} ({}){hint}",
                    first.2,
                    first.1.name(),
                    other.2,
                    other.1.name()
                )));
            }
        }
    }
    Ok(())
}

fn node(e: &Expr, schema: Schema<'_>, crs: &RequestCrs) -> Result<Node, Cql2Error> {
    Ok(match e {
        Expr::Bool(b) => Node::Const(Some(*b)),
        Expr::And(items) => Node::And(
            items
                .iter()
                .map(|i| node(i, schema, crs))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(items) => Node::Or(
            items
                .iter()
                .map(|i| node(i, schema, crs))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Node::Not(Box::new(node(inner, schema, crs)?)),
        Expr::Compare(op, a, b) => {
            let a = operand(a, schema)?;
            let b = operand(b, schema)?;
            let items = [a, b];
            same_kind(&items, op.symbol())?;
            let [a, b] = items;
            Node::Compare(*op, a.0, b.0)
        }
        Expr::IsNull(a) => Node::IsNull(operand(a, schema)?.0),
        Expr::Like { value, pattern } => {
            let v = operand(value, schema)?;
            if v.1 != Kind::Text {
                return Err(Cql2Error(format!("LIKE needs text, not {}", v.2)));
            }
            let Scalar::Literal(Value::Str(p)) = pattern else {
                return Err(Cql2Error("the LIKE pattern must be a quoted text".into()));
            };
            Node::Like(v.0, compile_pattern(p))
        }
        Expr::Between { value, low, high } => {
            let items = [
                operand(value, schema)?,
                operand(low, schema)?,
                operand(high, schema)?,
            ];
            same_kind(&items, "BETWEEN")?;
            if items[0].1 != Kind::Number && items[0].1 != Kind::Temporal {
                return Err(Cql2Error(format!(
                    "BETWEEN needs numbers or dates, not {}",
                    items[0].2
                )));
            }
            let [v, lo, hi] = items;
            Node::Between(v.0, lo.0, hi.0)
        }
        Expr::In { value, list } => {
            let mut items = vec![operand(value, schema)?];
            for s in list {
                items.push(operand(s, schema)?);
            }
            same_kind(&items, "IN")?;
            let mut ops = items.into_iter().map(|i| i.0);
            let v = ops
                .next()
                .ok_or_else(|| Cql2Error("IN needs a value".into()))?;
            Node::In(v, ops.collect())
        }
        Expr::Spatial(op, a, b) => {
            let is_geom = |g: &GeomOperand| -> Result<bool, Cql2Error> {
                match g {
                    GeomOperand::Property(p) if p == schema.geometry => Ok(true),
                    GeomOperand::Property(p) => Err(Cql2Error(format!(
                        "{}: {p:?} is not the geometry property {:?}",
                        op.name(),
                        schema.geometry
                    ))),
                    GeomOperand::Literal(_) => Ok(false),
                }
            };
            let literal = |g: &GeomOperand| -> Result<Geometry<f64>, Cql2Error> {
                let GeomOperand::Literal(g) = g else {
                    return Err(Cql2Error("expected a geometry literal".into()));
                };
                let mut g = g.clone();
                crs.geometry_to_wgs84(&mut g)
                    .map_err(|e| Cql2Error(e.description().to_string()))?;
                // `geo`'s relate panics on infinite or NaN coordinates (found by the
                // `cql2_text` fuzz target: `BBOX(10.5, 43.8, 10.e9996, 43.9)`).
                if let Some(c) = g
                    .coords_iter()
                    .find(|c| !(c.x.is_finite() && c.y.is_finite()))
                {
                    return Err(Cql2Error(format!(
                        "{}: the geometry literal has a coordinate that is not a finite \
                         number ({} {})",
                        op.name(),
                        c.x,
                        c.y
                    )));
                }
                Ok(g)
            };
            match (is_geom(a)?, is_geom(b)?) {
                (true, false) => Node::Spatial(*op, literal(b)?),
                (false, true) => Node::Spatial(converse(*op), literal(a)?),
                (false, false) => {
                    let (a, b) = (literal(a)?, literal(b)?);
                    Node::Const(Some(relate(*op, &a, &b)))
                }
                (true, true) => {
                    return Err(Cql2Error(format!(
                        "{}: compare the geometry with a literal geometry",
                        op.name()
                    )));
                }
            }
        }
    })
}

/// The relation seen from the other side: `S_WITHIN(lit, geom)` is `S_CONTAINS(geom, lit)`.
fn converse(op: SpatialOp) -> SpatialOp {
    match op {
        SpatialOp::Within => SpatialOp::Contains,
        SpatialOp::Contains => SpatialOp::Within,
        other => other,
    }
}

fn relate(op: SpatialOp, a: &Geometry<f64>, b: &Geometry<f64>) -> bool {
    match op {
        SpatialOp::Intersects => a.intersects(b),
        SpatialOp::Disjoint => !a.intersects(b),
        _ => {
            let m = a.relate(b);
            match op {
                SpatialOp::Equals => m.is_equal_topo(),
                SpatialOp::Touches => m.is_touches(),
                SpatialOp::Within => m.is_within(),
                SpatialOp::Overlaps => m.is_overlaps(),
                SpatialOp::Crosses => m.is_crosses(),
                SpatialOp::Contains => m.is_contains(),
                SpatialOp::Intersects | SpatialOp::Disjoint => m.is_intersects(),
            }
        }
    }
}

fn envelope_of(n: &Node) -> Option<Rect<f64>> {
    match n {
        Node::Spatial(SpatialOp::Disjoint, _) => None,
        Node::Spatial(_, g) => g.bounding_rect(),
        Node::And(items) => items.iter().filter_map(envelope_of).reduce(|a, b| {
            let min = (a.min().x.max(b.min().x), a.min().y.max(b.min().y));
            let max = (a.max().x.min(b.max().x), a.max().y.min(b.max().y));
            // Disjoint envelopes: nothing can match, any envelope will do.
            if min.0 <= max.0 && min.1 <= max.1 {
                Rect::new(min, max)
            } else {
                a
            }
        }),
        Node::Or(items) => {
            let all: Option<Vec<Rect<f64>>> = items.iter().map(envelope_of).collect();
            all?.into_iter().reduce(|a, b| {
                Rect::new(
                    (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                    (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
                )
            })
        }
        _ => None,
    }
}

fn value<'a>(o: &'a Operand, f: &'a Feature) -> Option<&'a Value> {
    match o {
        Operand::Lit(v) => Some(v),
        Operand::Slot(i) => f.properties.get(*i).and_then(Option::as_ref),
    }
}

fn eval(n: &Node, f: &Feature) -> Option<bool> {
    match n {
        Node::Const(b) => *b,
        // Kleene logic: false wins in AND, true wins in OR, otherwise unknown taints.
        Node::And(items) => {
            let mut result = Some(true);
            for i in items {
                match eval(i, f) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Node::Or(items) => {
            let mut result = Some(false);
            for i in items {
                match eval(i, f) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Node::Not(inner) => eval(inner, f).map(|b| !b),
        Node::Compare(op, a, b) => {
            let ord = value(a, f)?.compare(value(b, f)?)?;
            Some(match op {
                CmpOp::Eq => ord == Ordering::Equal,
                CmpOp::Ne => ord != Ordering::Equal,
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                CmpOp::Ge => ord != Ordering::Less,
            })
        }
        Node::IsNull(a) => Some(value(a, f).is_none()),
        Node::Like(a, pattern) => match value(a, f)? {
            Value::Str(s) => Some(like(s, pattern)),
            _ => None,
        },
        Node::Between(v, lo, hi) => {
            let v = value(v, f)?;
            let above = v.compare(value(lo, f)?)? != Ordering::Less;
            let below = v.compare(value(hi, f)?)? != Ordering::Greater;
            Some(above && below)
        }
        Node::In(v, list) => {
            let v = value(v, f)?;
            let mut result = Some(false);
            for item in list {
                match value(item, f).and_then(|x| v.compare(x)) {
                    Some(Ordering::Equal) => return Some(true),
                    None => result = None,
                    Some(_) => {}
                }
            }
            result
        }
        Node::Spatial(op, g) => Some(relate(*op, &f.geometry, g)),
    }
}

fn compile_pattern(p: &str) -> Vec<Pat> {
    let mut out = Vec::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '%' => Pat::Any,
            '_' => Pat::One,
            '\\' => Pat::Char(chars.next().unwrap_or('\\')),
            c => Pat::Char(c),
        });
    }
    out
}

/// Wildcard matching with backtracking to the last `%` (linear in practice).
fn like(s: &str, pattern: &[Pat]) -> bool {
    let text: Vec<char> = s.chars().collect();
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Pat::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Pat::One) => {
                t += 1;
                p += 1;
            }
            Some(Pat::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..]
        .iter()
        .all(|x| matches!(x, Pat::Any))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FieldType;
    use crate::ogc::cql2::{parse_json, parse_text};
    use geo_types::Point;

    fn field(name: &str, t: FieldType) -> Field {
        Field {
            name: name.into(),
            field_type: t,
            description: None,
            source: None,
            required: false,
            unique: false,
            nulls: 0,
        }
    }

    fn fields() -> Vec<Field> {
        vec![
            field("nome", FieldType::String),
            field("alunni", FieldType::Integer),
            field("data", FieldType::Date),
            field("attiva", FieldType::Boolean),
        ]
    }

    fn feature(nome: &str, alunni: Option<i64>, x: f64, y: f64) -> Feature {
        Feature {
            fid: 1,
            geometry: Point::new(x, y).into(),
            properties: vec![
                Some(Value::Str(nome.into())),
                alunni.map(Value::Int),
                Some(Value::Date(
                    chrono::NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or_default(),
                )),
                Some(Value::Bool(true)),
            ],
        }
    }

    fn filter(text: &str) -> Result<Filter, Cql2Error> {
        let fields = fields();
        let schema = Schema {
            fields: &fields,
            geometry: "geometry",
        };
        compile(&parse_text(text)?, schema, &RequestCrs::crs84())
    }

    #[test]
    fn which_filters_look_at_the_geometry() {
        for (text, uses) in [
            ("alunni > 3 AND nome LIKE 'S%'", false),
            ("NOT (alunni IN (1, 2)) OR data IS NULL", false),
            ("S_INTERSECTS(geometry, BBOX(10, 43, 11, 44))", true),
            (
                "alunni > 3 OR NOT S_WITHIN(geometry, BBOX(10, 43, 11, 44))",
                true,
            ),
            (
                "attiva = TRUE AND (nome = 'a' OR S_DISJOINT(geometry, POINT(10 43)))",
                true,
            ),
        ] {
            assert_eq!(filter(text).unwrap().uses_geometry(), uses, "{text}");
        }
    }

    #[test]
    fn which_fields_a_filter_reads() {
        for (text, reads) in [
            ("alunni > 3", [false, true, false, false]),
            (
                "nome LIKE 'S%' OR NOT attiva = TRUE",
                [true, false, false, true],
            ),
            (
                "data BETWEEN DATE('2024-01-01') AND DATE('2024-12-31')",
                [false, false, true, false],
            ),
            (
                "alunni IN (1, 2) AND data IS NULL",
                [false, true, true, false],
            ),
            ("S_INTERSECTS(geometry, BBOX(10, 43, 11, 44))", [false; 4]),
        ] {
            let mut used = [false; 4];
            filter(text).unwrap().mark_fields(&mut used);
            assert_eq!(used, reads, "{text}");
        }
        // Features tested on those fields alone give the same answers as whole ones.
        let whole = feature("Scuola Carducci", Some(120), 10.5, 43.8);
        for text in [
            "alunni > 3",
            "nome LIKE 'S%' OR NOT attiva = TRUE",
            "alunni < 3",
        ] {
            let f = filter(text).unwrap();
            let mut used = [false; 4];
            f.mark_fields(&mut used);
            let mut part = whole.clone();
            for (slot, keep) in used.iter().enumerate() {
                if !keep {
                    part.properties[slot] = None;
                }
            }
            assert_eq!(f.test(&part), f.test(&whole), "{text}");
        }
    }

    #[test]
    fn three_valued_logic() {
        let f = feature("Scuola Carducci", None, 10.5, 43.8);
        assert!(!filter("alunni > 3").unwrap().test(&f));
        assert!(
            !filter("NOT alunni > 3").unwrap().test(&f),
            "NOT unknown is unknown"
        );
        assert!(
            filter("alunni > 3 OR nome = 'Scuola Carducci'")
                .unwrap()
                .test(&f)
        );
        assert!(filter("alunni IS NULL").unwrap().test(&f));
        assert!(!filter("alunni IS NOT NULL").unwrap().test(&f));
    }

    #[test]
    fn comparisons() {
        let f = feature("Scuola Carducci", Some(120), 10.5, 43.8);
        for yes in [
            "alunni BETWEEN 100 AND 120",
            "alunni IN (1, 120.0)",
            "nome LIKE 'Scuola%'",
            "nome LIKE '%Carducc_'",
            "nome NOT LIKE 'scuola%'",
            "data = DATE('2024-03-01')",
            "data < TIMESTAMP('2024-03-01T00:00:01Z')",
            "attiva = TRUE",
            "alunni <> 3 AND alunni >= 120 AND alunni <= 120",
        ] {
            assert!(filter(yes).unwrap().test(&f), "{yes}");
        }
        for no in [
            "alunni NOT BETWEEN 100 AND 120",
            "nome LIKE 'Carducci'",
            "alunni < 120",
        ] {
            assert!(!filter(no).unwrap().test(&f), "{no}");
        }
    }

    #[test]
    fn type_and_name_errors() {
        let e = filter("data > '2024-01-01'").unwrap_err();
        assert!(e.0.contains("DATE('YYYY-MM-DD')"), "{e}");
        let e = filter("nessuno = 1").unwrap_err();
        assert!(e.0.contains("unknown property \"nessuno\""), "{e}");
        assert!(filter("alunni LIKE '1%'").is_err());
        assert!(filter("geometry = 1").is_err());
        assert!(filter("S_INTERSECTS(nome, POINT(1 2))").is_err());
    }

    #[test]
    fn spatial_and_envelope() {
        let inside = feature("a", None, 10.55, 43.85);
        let outside = feature("b", None, 11.0, 43.85);
        let f = filter("S_INTERSECTS(geometry, POLYGON((10.5 43.8, 10.6 43.8, 10.6 43.9, 10.5 43.9, 10.5 43.8)))").unwrap();
        assert!(f.test(&inside) && !f.test(&outside));
        assert_eq!(f.envelope(), Some(Rect::new((10.5, 43.8), (10.6, 43.9))));
        let f = filter("S_WITHIN(geometry, BBOX(10.5, 43.8, 10.6, 43.9))").unwrap();
        assert!(f.test(&inside) && !f.test(&outside));
        let f = filter("S_CONTAINS(BBOX(10.5, 43.8, 10.6, 43.9), geometry)").unwrap();
        assert!(
            f.test(&inside) && !f.test(&outside),
            "S_CONTAINS(lit, geom) = S_WITHIN(geom, lit)"
        );
        let f = filter("S_DISJOINT(geometry, BBOX(10.5, 43.8, 10.6, 43.9))").unwrap();
        assert!(!f.test(&inside) && f.test(&outside));
        assert_eq!(f.envelope(), None);
        let f = filter("S_INTERSECTS(geometry, BBOX(0, 0, 1, 1)) OR nome = 'a'").unwrap();
        assert_eq!(f.envelope(), None, "an OR branch without a box");
        // The bbox in EPSG:4326 (lat, lon) selects the same point.
        let json = r#"{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[43.8,10.5,43.9,10.6]}]}"#;
        let fields = fields();
        let schema = Schema {
            fields: &fields,
            geometry: "geometry",
        };
        let crs = RequestCrs::parse("filter-crs", "EPSG:4326").unwrap();
        let f = compile(&parse_json(json).unwrap(), schema, &crs).unwrap();
        assert!(f.test(&inside) && !f.test(&outside));
    }

    #[test]
    fn like_patterns() {
        let p = |s| compile_pattern(s);
        assert!(like("abc", &p("a%c")));
        assert!(like("a%c", &p("a\\%c")));
        assert!(!like("abc", &p("a\\%c")));
        assert!(like("", &p("%")));
        assert!(!like("ab", &p("a_c")));
        assert!(like("àèì", &p("_è_")));
    }

    #[test]
    fn infinite_literal_coordinates_are_errors_not_panics() {
        // Found by the `cql2_text` fuzz target: `10.e9996` reads as infinity, and geo's
        // relate panicked on it.
        for text in [
            "S_WITHIN(geometry, BBOX(10.5, 43.8, 10.e9996, 43.9))",
            "S_CONTAINS(BBOX(10.5, 43.8, 10.e9996, 43.9), geometry)",
            "S_INTERSECTS(BBOX(-1e999, 0, 1, 1), BBOX(0, 0, 1, 1))",
        ] {
            let e = filter(text).unwrap_err();
            assert!(e.0.contains("not a finite number"), "{text}: {e}");
        }
    }
}
