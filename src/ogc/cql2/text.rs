//! CQL2-Text: a tokenizer and a recursive-descent parser of the subset listed in
//! [`super`], after the BNF of OGC 21-065r2 Annex A. Geometry literals in WKT are cut
//! out of the text at their balanced parentheses and read by the `wkt` crate.
//!
//! Precedence, loosest first: `OR`, `AND`, `NOT`, predicates. Keywords are
//! case-insensitive; a property named like a keyword is written in double quotes.
//!
//! Pitfall: the parser (and the compiler and evaluator after it) recurse once per level of
//! parentheses and `NOT`, so nesting is limited to [`MAX_DEPTH`] levels, also inside WKT
//! literals: a request of a few kilobytes of `(` would otherwise overflow the stack of a
//! server thread and abort the process (found by the `cql2_text` fuzz target).

use geo_types::Geometry;
use wkt::TryFromWkt;

use super::{CmpOp, Cql2Error, Expr, GeomOperand, Scalar, SpatialOp, bbox_polygon};
use crate::ogc::value::{Value, parse_date, parse_timestamp};

/// The deepest nesting of parentheses and `NOT`s accepted, in expressions and in WKT.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A name; `quoted` when written in double quotes (never a keyword then).
    Ident {
        name: String,
        quoted: bool,
    },
    Str(String),
    Int(i64),
    Num(f64),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Byte offsets in the source.
    start: usize,
    end: usize,
}

const KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE",
];

const WKT_TYPES: &[&str] = &[
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
];

fn err(at: usize, message: impl std::fmt::Display) -> Cql2Error {
    Cql2Error(format!("at character {}: {message}", at + 1))
}

fn tokenize(src: &str) -> Result<Vec<Token>, Cql2Error> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'=' => {
                i += 1;
                Tok::Op(CmpOp::Eq)
            }
            b'<' | b'>' => {
                let two = src.get(i..i + 2).unwrap_or("");
                let op = if matches!(two, "<=" | ">=" | "<>") {
                    i += 2;
                    two
                } else {
                    i += 1;
                    &src[start..i]
                };
                Tok::Op(CmpOp::from_symbol(op).ok_or_else(|| err(start, "bad operator"))?)
            }
            b'\'' | b'"' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                loop {
                    let Some(rest) = src.get(i..) else {
                        return Err(err(start, "unterminated quote"));
                    };
                    let Some(k) = rest.find(quote as char) else {
                        return Err(err(start, "unterminated quote"));
                    };
                    text.push_str(&rest[..k]);
                    i += k + 1;
                    // A doubled quote stands for one quote character.
                    if bytes.get(i) == Some(&quote) {
                        text.push(quote as char);
                        i += 1;
                    } else {
                        break;
                    }
                }
                if quote == b'\'' {
                    Tok::Str(text)
                } else {
                    Tok::Ident {
                        name: text,
                        quoted: true,
                    }
                }
            }
            b'0'..=b'9' | b'.' | b'-' | b'+' => {
                i += 1;
                while i < bytes.len() {
                    let d = bytes[i];
                    let exponent_sign =
                        (d == b'-' || d == b'+') && matches!(bytes[i - 1], b'e' | b'E');
                    if d.is_ascii_digit() || d == b'.' || d == b'e' || d == b'E' || exponent_sign {
                        i += 1;
                    } else {
                        break;
                    }
                }
                let text = &src[start..i];
                if let Ok(v) = text.parse::<i64>() {
                    Tok::Int(v)
                } else {
                    Tok::Num(
                        text.parse::<f64>()
                            .map_err(|_| err(start, format!("{text:?} is not a number")))?,
                    )
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b':')
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                Tok::Ident {
                    name: src[start..i].to_string(),
                    quoted: false,
                }
            }
            _ => {
                let ch = src[start..].chars().next().unwrap_or('?');
                return Err(err(start, format!("unexpected character {ch:?}")));
            }
        };
        tokens.push(Token { tok, start, end: i });
    }
    Ok(tokens)
}

/// Parses a CQL2-Text filter.
pub fn parse_text(src: &str) -> Result<Expr, Cql2Error> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        depth: 0,
    };
    if p.tokens.is_empty() {
        return Err(Cql2Error("the filter is empty".into()));
    }
    let expr = p.or_expr()?;
    if let Some(t) = p.peek() {
        return Err(err(
            t.start,
            format!(
                "unexpected {:?} after a complete expression",
                &src[t.start..t.end]
            ),
        ));
    }
    Ok(expr)
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current nesting of parentheses and `NOT`s.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.start)
    }

    /// Whether the next token is the (unquoted) keyword `kw`.
    fn is_keyword(&self, ahead: usize, kw: &str) -> bool {
        matches!(self.peek_at(ahead), Some(Token { tok: Tok::Ident { name, quoted: false }, .. })
            if name.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        if self.is_keyword(0, kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), Cql2Error> {
        let at = self.here();
        match self.next() {
            Some(t) if t.tok == want => Ok(()),
            Some(t) => Err(err(
                at,
                format!("expected {what}, found {:?}", &self.src[t.start..t.end]),
            )),
            None => Err(err(
                at,
                format!("expected {what}, found the end of the filter"),
            )),
        }
    }

    /// Enters one more level of nesting, or fails beyond [`MAX_DEPTH`].
    fn deeper(&mut self, at: usize) -> Result<(), Cql2Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                at,
                format!("the filter nests parentheses and NOTs deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, Cql2Error> {
        let mut items = vec![self.and_expr()?];
        while self.eat_keyword("OR") {
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, Cql2Error> {
        let mut items = vec![self.not_expr()?];
        while self.eat_keyword("AND") {
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.swap_remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, Cql2Error> {
        let at = self.here();
        if self.eat_keyword("NOT") {
            self.deeper(at)?;
            let e = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, Cql2Error> {
        let at = self.here();
        match self.peek().map(|t| &t.tok) {
            None => Err(err(at, "expected a predicate, found the end of the filter")),
            Some(Tok::LParen) => {
                self.pos += 1;
                self.deeper(at)?;
                let e = self.or_expr()?;
                self.expect(Tok::RParen, "')'")?;
                self.depth -= 1;
                Ok(e)
            }
            Some(Tok::Ident {
                name,
                quoted: false,
            }) if matches!(self.peek_at(1).map(|t| &t.tok), Some(Tok::LParen))
                && SpatialOp::from_name(name).is_some() =>
            {
                let op = SpatialOp::from_name(name).ok_or_else(|| err(at, "spatial function"))?;
                self.pos += 2;
                let a = self.geom_operand()?;
                self.expect(Tok::Comma, "','")?;
                let b = self.geom_operand()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(Expr::Spatial(op, a, b))
            }
            Some(_) => {
                let value = self.scalar()?;
                self.predicate_tail(value, at)
            }
        }
    }

    fn predicate_tail(&mut self, value: Scalar, at: usize) -> Result<Expr, Cql2Error> {
        if let Some(Tok::Op(op)) = self.peek().map(|t| &t.tok) {
            let op = *op;
            self.pos += 1;
            let right = self.scalar()?;
            return Ok(Expr::Compare(op, value, right));
        }
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            if !self.eat_keyword("NULL") {
                return Err(err(self.here(), "expected NULL after IS [NOT]"));
            }
            return Ok(negate(Expr::IsNull(value), negated));
        }
        let negated = self.eat_keyword("NOT");
        if self.eat_keyword("LIKE") {
            let pattern = self.scalar()?;
            return Ok(negate(Expr::Like { value, pattern }, negated));
        }
        if self.eat_keyword("BETWEEN") {
            let low = self.scalar()?;
            if !self.eat_keyword("AND") {
                return Err(err(self.here(), "expected AND in BETWEEN … AND …"));
            }
            let high = self.scalar()?;
            return Ok(negate(Expr::Between { value, low, high }, negated));
        }
        if self.eat_keyword("IN") {
            self.expect(Tok::LParen, "'(' after IN")?;
            let mut list = vec![self.scalar()?];
            while matches!(self.peek().map(|t| &t.tok), Some(Tok::Comma)) {
                self.pos += 1;
                list.push(self.scalar()?);
            }
            self.expect(Tok::RParen, "')' closing the IN list")?;
            return Ok(negate(Expr::In { value, list }, negated));
        }
        if negated {
            return Err(err(self.here(), "expected LIKE, BETWEEN or IN after NOT"));
        }
        match value {
            Scalar::Literal(Value::Bool(b)) => Ok(Expr::Bool(b)),
            _ => Err(err(
                at,
                "expected a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL) \
                 after the operand",
            )),
        }
    }

    fn scalar(&mut self) -> Result<Scalar, Cql2Error> {
        let at = self.here();
        let Some(t) = self.next() else {
            return Err(err(
                at,
                "expected a property or a value, found the end of the filter",
            ));
        };
        Ok(match t.tok {
            Tok::Str(s) => Scalar::Literal(Value::Str(s)),
            Tok::Int(v) => Scalar::Literal(Value::Int(v)),
            Tok::Num(v) => Scalar::Literal(Value::Num(v)),
            Tok::Ident { name, quoted: true } => Scalar::Property(name),
            Tok::Ident {
                name,
                quoted: false,
            } => {
                let upper = name.to_ascii_uppercase();
                let call = matches!(self.peek().map(|t| &t.tok), Some(Tok::LParen));
                match upper.as_str() {
                    "TRUE" => Scalar::Literal(Value::Bool(true)),
                    "FALSE" => Scalar::Literal(Value::Bool(false)),
                    "DATE" | "TIMESTAMP" if call => {
                        self.pos += 1;
                        let text_at = self.here();
                        let text = match self.next().map(|t| t.tok) {
                            Some(Tok::Str(s)) => s,
                            _ => return Err(err(text_at, format!("{upper}( takes a quoted text"))),
                        };
                        self.expect(Tok::RParen, "')'")?;
                        let value = if upper == "DATE" {
                            parse_date(&text).map(Value::Date)
                        } else {
                            parse_timestamp(&text).map(Value::Timestamp)
                        };
                        Scalar::Literal(value.ok_or_else(|| {
                            err(text_at, format!("{text:?} is not a valid {upper}"))
                        })?)
                    }
                    _ if call => {
                        return Err(err(
                            t.start,
                            format!("functions are not supported ({name})"),
                        ));
                    }
                    _ if KEYWORDS.contains(&upper.as_str()) => {
                        return Err(err(
                            t.start,
                            format!(
                                "expected a property or a value, found the keyword {name}; \
                                 quote a property with this name: \"{name}\""
                            ),
                        ));
                    }
                    _ => Scalar::Property(name),
                }
            }
            _ => {
                return Err(err(
                    t.start,
                    format!(
                        "expected a property or a value, found {:?}",
                        &self.src[t.start..t.end]
                    ),
                ));
            }
        })
    }

    fn geom_operand(&mut self) -> Result<GeomOperand, Cql2Error> {
        let at = self.here();
        let Some(t) = self.peek().cloned() else {
            return Err(err(at, "expected a geometry, found the end of the filter"));
        };
        let Tok::Ident { name, quoted } = &t.tok else {
            return Err(err(at, "expected a property, BBOX(…) or a WKT geometry"));
        };
        let upper = name.to_ascii_uppercase();
        if !quoted && upper == "BBOX" {
            self.pos += 1;
            self.expect(Tok::LParen, "'(' after BBOX")?;
            let mut numbers = Vec::new();
            loop {
                let at = self.here();
                match self.next().map(|t| t.tok) {
                    Some(Tok::Int(v)) => numbers.push(v as f64),
                    Some(Tok::Num(v)) => numbers.push(v),
                    _ => return Err(err(at, "expected a number in BBOX(…)")),
                }
                match self.next().map(|t| t.tok) {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    _ => return Err(err(self.here(), "expected ',' or ')' in BBOX(…)")),
                }
            }
            return bbox_polygon(&numbers)
                .map(GeomOperand::Literal)
                .map_err(|e| err(at, e.0));
        }
        if !quoted && WKT_TYPES.contains(&upper.as_str()) {
            let end = wkt_end(self.src, t.end).ok_or_else(|| {
                err(
                    at,
                    format!(
                        "{upper}: unbalanced parentheses, an empty geometry or parentheses \
                         nested deeper than {MAX_DEPTH} levels"
                    ),
                )
            })?;
            let text = &self.src[t.start..end];
            let g = Geometry::<f64>::try_from_wkt_str(text)
                .map_err(|e| err(at, format!("invalid WKT {text:?}: {e}")))?;
            while self.peek().is_some_and(|t| t.start < end) {
                self.pos += 1;
            }
            return Ok(GeomOperand::Literal(g));
        }
        match self.scalar()? {
            Scalar::Property(p) => Ok(GeomOperand::Property(p)),
            Scalar::Literal(_) => Err(err(at, "expected a property, BBOX(…) or a WKT geometry")),
        }
    }
}

/// The end (exclusive) of a WKT text whose type keyword ends at `from`: after the
/// parenthesis that closes the first one. `None` also when parentheses nest deeper than
/// [`MAX_DEPTH`] (the `wkt` crate reads nested collections recursively).
fn wkt_end(src: &str, from: usize) -> Option<usize> {
    let rest = src.get(from..)?;
    let open = rest.find('(')?;
    // Only a dimension tag (Z, M, ZM) may stand between the type and its parenthesis.
    if !rest[..open]
        .trim()
        .chars()
        .all(|c| matches!(c, 'Z' | 'M' | 'z' | 'm'))
    {
        return None;
    }
    let mut depth = 0usize;
    for (i, c) in rest.char_indices().skip_while(|(i, _)| *i < open) {
        match c {
            '(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return None;
                }
            }
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn negate(e: Expr, negated: bool) -> Expr {
    if negated { Expr::Not(Box::new(e)) } else { e }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{Point, Rect};

    #[test]
    fn nesting_is_limited_instead_of_overflowing_the_stack() {
        // Found by the `cql2_text` fuzz target: 100 000 '(' aborted the process.
        let deep = format!(
            "{}alunni = 1{}",
            "(".repeat(MAX_DEPTH),
            ")".repeat(MAX_DEPTH)
        );
        assert!(parse_text(&deep).is_ok());
        let deeper = format!("({deep})");
        let e = parse_text(&deeper).unwrap_err();
        assert!(e.0.contains("deeper than 64 levels"), "{e}");
        assert!(parse_text(&"(".repeat(100_000)).is_err());
        assert!(parse_text(&"NOT ".repeat(100_000)).is_err());
        let nots = format!("{}alunni = 1", "NOT ".repeat(MAX_DEPTH));
        assert!(parse_text(&nots).is_ok());
        let wkt = format!(
            "S_INTERSECTS(geometry, {}POINT(1 2){})",
            "GEOMETRYCOLLECTION(".repeat(100_000),
            ")".repeat(100_000)
        );
        let e = parse_text(&wkt).unwrap_err();
        assert!(e.0.contains("deeper than 64 levels"), "{e}");
    }

    fn prop(p: &str) -> Scalar {
        Scalar::Property(p.into())
    }
    fn lit(v: Value) -> Scalar {
        Scalar::Literal(v)
    }

    #[test]
    fn precedence_and_predicates() {
        let e = parse_text(
            "frazione = 'Lammari' AND alunni >= 100 OR NOT (nome LIKE 'Scuola%' AND x IS NULL)",
        )
        .unwrap();
        assert_eq!(
            e,
            Expr::Or(vec![
                Expr::And(vec![
                    Expr::Compare(
                        CmpOp::Eq,
                        prop("frazione"),
                        lit(Value::Str("Lammari".into()))
                    ),
                    Expr::Compare(CmpOp::Ge, prop("alunni"), lit(Value::Int(100))),
                ]),
                Expr::Not(Box::new(Expr::And(vec![
                    Expr::Like {
                        value: prop("nome"),
                        pattern: lit(Value::Str("Scuola%".into()))
                    },
                    Expr::IsNull(prop("x")),
                ]))),
            ])
        );
    }

    #[test]
    fn between_in_not_and_quotes() {
        let e = parse_text(
            "\"and\" NOT BETWEEN -1.5 AND 2e3 and n not in ('a''b', 'c') AND d > DATE('2024-01-31')",
        )
        .unwrap();
        let Expr::And(items) = e else { panic!() };
        assert_eq!(
            items[0],
            Expr::Not(Box::new(Expr::Between {
                value: prop("and"),
                low: lit(Value::Num(-1.5)),
                high: lit(Value::Num(2000.0)),
            }))
        );
        assert_eq!(
            items[1],
            Expr::Not(Box::new(Expr::In {
                value: prop("n"),
                list: vec![lit(Value::Str("a'b".into())), lit(Value::Str("c".into()))],
            }))
        );
        assert!(matches!(
            &items[2],
            Expr::Compare(CmpOp::Gt, _, Scalar::Literal(Value::Date(_)))
        ));
    }

    #[test]
    fn spatial_literals() {
        let e = parse_text("S_INTERSECTS(geometry, BBOX(10.5, 43.8, 10.6, 43.9))").unwrap();
        assert_eq!(
            e,
            Expr::Spatial(
                SpatialOp::Intersects,
                GeomOperand::Property("geometry".into()),
                GeomOperand::Literal(Rect::new((10.5, 43.8), (10.6, 43.9)).to_polygon().into()),
            )
        );
        let e = parse_text(
            "s_within(geometry, POLYGON((10 43, 11 43, 11 44, 10 44, 10 43))) AND s_intersects(geometry, POINT(10.5 43.5))",
        )
        .unwrap();
        let Expr::And(items) = e else { panic!() };
        assert!(matches!(
            &items[1],
            Expr::Spatial(SpatialOp::Intersects, _, GeomOperand::Literal(Geometry::Point(p)))
                if *p == Point::new(10.5, 43.5)
        ));
    }

    #[test]
    fn errors_say_where() {
        let e = parse_text("nome = ").unwrap_err();
        assert!(e.0.contains("end of the filter"), "{e}");
        let e = parse_text("nome = 'a' xyz").unwrap_err();
        assert!(e.0.starts_with("at character 12"), "{e}");
        assert!(
            parse_text("upper(nome) = 'A'")
                .unwrap_err()
                .0
                .contains("functions")
        );
        assert!(
            parse_text("nome = 'a")
                .unwrap_err()
                .0
                .contains("unterminated")
        );
        assert!(parse_text("S_INTERSECTS(geometry, POLYGON((1 2, 3 4)").is_err());
        assert!(parse_text("nome").is_err());
        assert_eq!(parse_text("TRUE").unwrap(), Expr::Bool(true));
    }
}
