//! CQL2 (OGC 21-065r2), the filter language of OGC API – Features Part 3: the subset
//! Portale evaluates, in both encodings.
//!
//! [`parse_text`] reads CQL2-Text and [`parse_json`] CQL2-JSON into one [`Expr`];
//! [`compile`] checks it against a collection's queryables (known properties, comparable
//! types) and turns it into a [`Filter`] that tests features.
//!
//! Supported (conformance classes `basic-cql2`, `advanced-comparison-operators`,
//! `basic-spatial-functions`, `basic-spatial-functions-plus`, `spatial-functions`,
//! `cql2-text`, `cql2-json`):
//! * logical `AND`, `OR`, `NOT`, parentheses, `TRUE`/`FALSE`;
//! * comparisons `=`, `<>`, `<`, `<=`, `>`, `>=` between a property or a literal (text,
//!   number, boolean, `DATE('…')`, `TIMESTAMP('…')`), `IS [NOT] NULL`,
//!   `[NOT] LIKE` (`%`, `_`, `\` escapes), `[NOT] BETWEEN … AND …`, `[NOT] IN (…)`;
//! * spatial `S_INTERSECTS`, `S_DISJOINT`, `S_EQUALS`, `S_TOUCHES`, `S_WITHIN`,
//!   `S_OVERLAPS`, `S_CROSSES`, `S_CONTAINS` between the geometry property and a
//!   literal: WKT (`POINT`, `POLYGON`, … read by the `wkt` crate) or `BBOX(…)` in text,
//!   GeoJSON geometries or `{"bbox": […]}` in JSON.
//!
//! Not supported (a 400 names them): temporal functions and intervals, arrays,
//! arithmetic, functions, `CASEI`/`ACCENTI`.
//!
//! Semantics: CQL2's three-valued logic. A comparison with a null property is *unknown*,
//! `NOT unknown` is unknown, and only features for which the filter is *true* are kept.
//!
//! Pitfall: geometry literals are in `filter-crs` (CRS84 by default), in that CRS's axis
//! order; they are transformed to WGS84 lon/lat once, in [`compile`].

mod eval;
mod json;
mod text;

pub use eval::{Filter, Schema, compile};
pub use json::parse_json;
pub use text::parse_text;

use geo_types::Geometry;

use super::value::Value;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn from_symbol(s: &str) -> Option<CmpOp> {
        Some(match s {
            "=" => CmpOp::Eq,
            "<>" => CmpOp::Ne,
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            _ => return None,
        })
    }
}

/// Spatial predicates (DE-9IM relations through geo's `Relate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpatialOp {
    Intersects,
    Disjoint,
    Equals,
    Touches,
    Within,
    Overlaps,
    Crosses,
    Contains,
}

impl SpatialOp {
    /// The CQL2 name (lowercase in JSON, any case in text).
    pub fn name(self) -> &'static str {
        match self {
            SpatialOp::Intersects => "s_intersects",
            SpatialOp::Disjoint => "s_disjoint",
            SpatialOp::Equals => "s_equals",
            SpatialOp::Touches => "s_touches",
            SpatialOp::Within => "s_within",
            SpatialOp::Overlaps => "s_overlaps",
            SpatialOp::Crosses => "s_crosses",
            SpatialOp::Contains => "s_contains",
        }
    }

    fn from_name(name: &str) -> Option<SpatialOp> {
        const ALL: [SpatialOp; 8] = [
            SpatialOp::Intersects,
            SpatialOp::Disjoint,
            SpatialOp::Equals,
            SpatialOp::Touches,
            SpatialOp::Within,
            SpatialOp::Overlaps,
            SpatialOp::Crosses,
            SpatialOp::Contains,
        ];
        ALL.into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(name))
    }
}

/// A scalar operand: a property or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Property(String),
    Literal(Value),
}

/// A geometry operand: a property or a literal (in `filter-crs`, its axis order).
#[derive(Debug, Clone, PartialEq)]
pub enum GeomOperand {
    Property(String),
    Literal(Geometry<f64>),
}

/// A parsed CQL2 boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Bool(bool),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare(CmpOp, Scalar, Scalar),
    Like {
        value: Scalar,
        pattern: Scalar,
    },
    Between {
        value: Scalar,
        low: Scalar,
        high: Scalar,
    },
    In {
        value: Scalar,
        list: Vec<Scalar>,
    },
    IsNull(Scalar),
    Spatial(SpatialOp, GeomOperand, GeomOperand),
}

/// A filter that does not parse; the message says where and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Cql2Error(pub String);

/// `BBOX(x1, y1, x2, y2)` (or 6 numbers, the middle pair and last dropped) as a polygon.
fn bbox_polygon(numbers: &[f64]) -> Result<Geometry<f64>, Cql2Error> {
    let (x1, y1, x2, y2) = match *numbers {
        [a, b, c, d] => (a, b, c, d),
        [a, b, _, d, e, _] => (a, b, d, e),
        _ => {
            return Err(Cql2Error(format!(
                "a bbox has 4 or 6 numbers, not {}",
                numbers.len()
            )));
        }
    };
    if x1 > x2 || y1 > y2 {
        return Err(Cql2Error(
            "a bbox lists the lower corner first (boxes across the antimeridian are not supported)"
                .into(),
        ));
    }
    Ok(Geometry::Polygon(
        geo_types::Rect::new((x1, y1), (x2, y2)).to_polygon(),
    ))
}
