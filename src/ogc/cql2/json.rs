//! CQL2-JSON: `{"op": "and", "args": [...]}` trees read into the same [`Expr`] as the text
//! encoding. Geometry literals are GeoJSON geometry objects (read by the `geojson` crate)
//! or `{"bbox": [...]}`; dates are `{"date": "…"}` and `{"timestamp": "…"}`.

use serde_json::Value as Json;

use super::{CmpOp, Cql2Error, Expr, GeomOperand, Scalar, SpatialOp, bbox_polygon};
use crate::ogc::value::{Value, parse_date, parse_timestamp};

/// Parses a CQL2-JSON filter from its text.
pub fn parse_json(text: &str) -> Result<Expr, Cql2Error> {
    let json: Json =
        serde_json::from_str(text).map_err(|e| Cql2Error(format!("not valid JSON: {e}")))?;
    expr(&json)
}

fn describe(j: &Json) -> String {
    let s = j.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

fn expr(j: &Json) -> Result<Expr, Cql2Error> {
    if let Json::Bool(b) = j {
        return Ok(Expr::Bool(*b));
    }
    let Some(obj) = j.as_object() else {
        return Err(Cql2Error(format!(
            "expected an object with \"op\" and \"args\", found {}",
            describe(j)
        )));
    };
    let op = obj
        .get("op")
        .and_then(Json::as_str)
        .ok_or_else(|| Cql2Error(format!("missing \"op\" in {}", describe(j))))?;
    let args: &[Json] = match obj.get("args") {
        Some(Json::Array(a)) => a,
        _ => return Err(Cql2Error(format!("\"{op}\": \"args\" must be an array"))),
    };
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(Cql2Error(format!(
                "\"{op}\" takes {n} arguments, not {}",
                args.len()
            )))
        }
    };
    let lower = op.to_ascii_lowercase();
    if let Some(cmp) = CmpOp::from_symbol(op) {
        arity(2)?;
        return Ok(Expr::Compare(cmp, scalar(&args[0])?, scalar(&args[1])?));
    }
    if let Some(sp) = SpatialOp::from_name(&lower) {
        arity(2)?;
        return Ok(Expr::Spatial(sp, geom(&args[0])?, geom(&args[1])?));
    }
    match lower.as_str() {
        "and" | "or" => {
            if args.len() < 2 {
                return Err(Cql2Error(format!("\"{op}\" takes at least 2 arguments")));
            }
            let items = args.iter().map(expr).collect::<Result<Vec<_>, _>>()?;
            Ok(if lower == "and" {
                Expr::And(items)
            } else {
                Expr::Or(items)
            })
        }
        "not" => {
            arity(1)?;
            Ok(Expr::Not(Box::new(expr(&args[0])?)))
        }
        "isnull" => {
            arity(1)?;
            Ok(Expr::IsNull(scalar(&args[0])?))
        }
        "like" => {
            arity(2)?;
            Ok(Expr::Like {
                value: scalar(&args[0])?,
                pattern: scalar(&args[1])?,
            })
        }
        "between" => {
            arity(3)?;
            Ok(Expr::Between {
                value: scalar(&args[0])?,
                low: scalar(&args[1])?,
                high: scalar(&args[2])?,
            })
        }
        "in" => {
            arity(2)?;
            let Json::Array(list) = &args[1] else {
                return Err(Cql2Error(
                    "\"in\": the second argument must be an array".into(),
                ));
            };
            Ok(Expr::In {
                value: scalar(&args[0])?,
                list: list.iter().map(scalar).collect::<Result<_, _>>()?,
            })
        }
        _ => Err(Cql2Error(format!("operator \"{op}\" is not supported"))),
    }
}

fn scalar(j: &Json) -> Result<Scalar, Cql2Error> {
    Ok(Scalar::Literal(match j {
        Json::String(s) => Value::Str(s.clone()),
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(v) => Value::Int(v),
            None => Value::Num(
                n.as_f64()
                    .ok_or_else(|| Cql2Error(format!("{n} is not a number")))?,
            ),
        },
        Json::Object(o) => {
            if let Some(p) = o.get("property") {
                return p
                    .as_str()
                    .map(|p| Scalar::Property(p.to_string()))
                    .ok_or_else(|| Cql2Error("\"property\" must be a string".into()));
            }
            if let Some(d) = o.get("date") {
                let text = d.as_str().unwrap_or_default();
                Value::Date(
                    parse_date(text)
                        .ok_or_else(|| Cql2Error(format!("{d} is not a date YYYY-MM-DD")))?,
                )
            } else if let Some(t) = o.get("timestamp") {
                let text = t.as_str().unwrap_or_default();
                Value::Timestamp(
                    parse_timestamp(text)
                        .ok_or_else(|| Cql2Error(format!("{t} is not an RFC 3339 timestamp")))?,
                )
            } else if o.contains_key("op") {
                return Err(Cql2Error(format!(
                    "functions and nested operators are not supported as values: {}",
                    describe(j)
                )));
            } else {
                return Err(Cql2Error(format!(
                    "expected a property or a value, found {}",
                    describe(j)
                )));
            }
        }
        _ => {
            return Err(Cql2Error(format!(
                "expected a property or a value, found {}",
                describe(j)
            )));
        }
    }))
}

fn geom(j: &Json) -> Result<GeomOperand, Cql2Error> {
    let Some(o) = j.as_object() else {
        return Err(Cql2Error(format!(
            "expected a property or a geometry, found {}",
            describe(j)
        )));
    };
    if let Some(p) = o.get("property") {
        return p
            .as_str()
            .map(|p| GeomOperand::Property(p.to_string()))
            .ok_or_else(|| Cql2Error("\"property\" must be a string".into()));
    }
    if let Some(b) = o.get("bbox") {
        let numbers: Option<Vec<f64>> = b
            .as_array()
            .map(|a| a.iter().map(Json::as_f64).collect::<Option<Vec<_>>>())
            .unwrap_or(None);
        let numbers =
            numbers.ok_or_else(|| Cql2Error("\"bbox\" must be an array of numbers".into()))?;
        return bbox_polygon(&numbers).map(GeomOperand::Literal);
    }
    let g = geojson::Geometry::from_json_value(j.clone())
        .map_err(|e| Cql2Error(format!("not a GeoJSON geometry ({e}): {}", describe(j))))?;
    let g: geo_types::Geometry<f64> = g
        .value
        .try_into()
        .map_err(|e| Cql2Error(format!("unsupported GeoJSON geometry: {e}")))?;
    Ok(GeomOperand::Literal(g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ogc::cql2::parse_text;

    #[test]
    fn same_tree_as_the_text_encoding() {
        let json = r#"{"op":"and","args":[
            {"op":"=","args":[{"property":"frazione"},"Lammari"]},
            {"op":"not","args":[{"op":"isNull","args":[{"property":"alunni"}]}]},
            {"op":"between","args":[{"property":"alunni"},10,20.5]},
            {"op":"in","args":[{"property":"n"},["a","b"]]},
            {"op":"like","args":[{"property":"nome"},"Sc%"]},
            {"op":">=","args":[{"property":"d"},{"date":"2024-01-01"}]},
            {"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[10.5,43.8]}]},
            {"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[10,43,11,44]}]}
        ]}"#;
        let text = "frazione = 'Lammari' AND NOT alunni IS NULL AND alunni BETWEEN 10 AND 20.5 \
            AND n IN ('a', 'b') AND nome LIKE 'Sc%' AND d >= DATE('2024-01-01') \
            AND S_INTERSECTS(geometry, POINT(10.5 43.8)) AND S_INTERSECTS(geometry, BBOX(10, 43, 11, 44))";
        assert_eq!(parse_json(json).unwrap(), parse_text(text).unwrap());
    }

    #[test]
    fn errors() {
        assert!(parse_json("{").unwrap_err().0.starts_with("not valid JSON"));
        assert!(
            parse_json(r#"{"op":"=","args":[1]}"#)
                .unwrap_err()
                .0
                .contains("2 arguments")
        );
        assert!(
            parse_json(r#"{"op":"t_before","args":[1,2]}"#)
                .unwrap_err()
                .0
                .contains("not supported")
        );
        assert!(
            parse_json(r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Pt"}]}"#)
                .is_err()
        );
    }
}
