//! The `X-Filter` header: a JSON object whose keys are filterable fields (AND-ed) or the
//! operators `+and`, `+or`, `+gt`, `+gte`, `+lt`, `+lte`, `+contains`, `+neq`, `+order_by`,
//! `+order` (v4.176.0 spec narrative, "Filtering and Sorting").
//!
//! The exact error texts for bad filters are [undocumented]; they name the problem and use
//! `field: "X-Filter"`.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::errors::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
}

#[derive(Debug)]
enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Field { name: String, op: Op, operand: Value },
}

/// A parsed filter: which items to keep and how to order them.
#[derive(Debug)]
pub(crate) struct Filter {
    condition: Condition,
    order_by: Option<String>,
    descending: bool,
}

fn bad(reason: impl Into<String>) -> ApiError {
    ApiError::field("X-Filter", reason)
}

impl Filter {
    /// Parses the header value against the collection's filterable fields.
    pub(crate) fn parse(header: &str, filterable: &[&str]) -> Result<Self, ApiError> {
        let value: Value = serde_json::from_str(header).map_err(|_| bad("Filter must be a valid JSON object"))?;
        let Value::Object(object) = value else {
            return Err(bad("Filter must be a JSON object"));
        };
        let mut order_by = None;
        let mut descending = false;
        let mut rest = Map::new();
        for (key, value) in object {
            match key.as_str() {
                "+order_by" => match value {
                    Value::String(name) if filterable.contains(&name.as_str()) => order_by = Some(name),
                    Value::String(name) => return Err(bad(format!("Cannot order by {name}"))),
                    _ => return Err(bad("+order_by must be a string")),
                },
                "+order" => {
                    descending = match value.as_str() {
                        Some("asc") => false,
                        Some("desc") => true,
                        _ => return Err(bad("+order must be \"asc\" or \"desc\"")),
                    }
                }
                _ => {
                    rest.insert(key, value);
                }
            }
        }
        if descending && order_by.is_none() {
            return Err(bad("+order requires +order_by"));
        }
        Ok(Self { condition: parse_object(&rest, filterable)?, order_by, descending })
    }

    /// Keeps the matching items and sorts them if asked to.
    pub(crate) fn apply(&self, items: Vec<Value>) -> Vec<Value> {
        let mut kept: Vec<Value> = items.into_iter().filter(|item| self.condition.holds(item)).collect();
        if let Some(field) = &self.order_by {
            kept.sort_by(|a, b| {
                let ordering = compare(a.get(field), b.get(field));
                if self.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            });
        }
        kept
    }
}

fn parse_object(object: &Map<String, Value>, filterable: &[&str]) -> Result<Condition, ApiError> {
    let mut all = Vec::new();
    for (key, value) in object {
        match key.as_str() {
            "+and" | "+or" => {
                let Value::Array(parts) = value else {
                    return Err(bad(format!("{key} must be an array of filters")));
                };
                let parts = parts
                    .iter()
                    .map(|part| match part {
                        Value::Object(inner) => parse_object(inner, filterable),
                        _ => Err(bad(format!("{key} must be an array of filters"))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                all.push(if key == "+and" { Condition::All(parts) } else { Condition::Any(parts) });
            }
            "+order_by" | "+order" => return Err(bad(format!("{key} is only allowed at the top level"))),
            operator if operator.starts_with('+') => return Err(bad(format!("Unknown filter operator {operator}"))),
            name if !filterable.contains(&name) => return Err(bad(format!("Cannot filter on {name}"))),
            name => all.extend(parse_field(name, value)?),
        }
    }
    Ok(Condition::All(all))
}

fn parse_field(name: &str, value: &Value) -> Result<Vec<Condition>, ApiError> {
    let field = |op, operand: &Value| Condition::Field { name: name.to_owned(), op, operand: operand.clone() };
    let Value::Object(operators) = value else {
        return match value {
            Value::Array(_) => Err(bad(format!("Filter value for {name} must not be an array"))),
            scalar => Ok(vec![field(Op::Eq, scalar)]),
        };
    };
    operators
        .iter()
        .map(|(operator, operand)| {
            let op = match operator.as_str() {
                "+neq" => Op::Neq,
                "+gt" => Op::Gt,
                "+gte" => Op::Gte,
                "+lt" => Op::Lt,
                "+lte" => Op::Lte,
                "+contains" => Op::Contains,
                other => return Err(bad(format!("Unknown filter operator {other}"))),
            };
            let fits = match op {
                Op::Gt | Op::Gte | Op::Lt | Op::Lte => operand.is_number(),
                Op::Contains => operand.is_string(),
                Op::Eq | Op::Neq => !operand.is_object() && !operand.is_array(),
            };
            if fits {
                Ok(field(op, operand))
            } else {
                Err(bad(format!("Invalid operand for {operator} on {name}")))
            }
        })
        .collect()
}

impl Condition {
    fn holds(&self, item: &Value) -> bool {
        match self {
            Self::All(parts) => parts.iter().all(|p| p.holds(item)),
            Self::Any(parts) => parts.iter().any(|p| p.holds(item)),
            Self::Field { name, op, operand } => match item.get(name) {
                // A list field (tags, capabilities, images) matches when any element does.
                Some(Value::Array(elements)) => match op {
                    Op::Neq => !elements.iter().any(|e| e == operand),
                    _ => elements.iter().any(|e| test(e, *op, operand)),
                },
                Some(value) => test(value, *op, operand),
                None => *op == Op::Neq,
            },
        }
    }
}

fn test(value: &Value, op: Op, operand: &Value) -> bool {
    match op {
        Op::Eq => value == operand || numbers_equal(value, operand),
        Op::Neq => !(value == operand || numbers_equal(value, operand)),
        // Case-insensitive, as a SQL LIKE would be on production [inferred].
        Op::Contains => match (value.as_str(), operand.as_str()) {
            (Some(text), Some(part)) => text.to_lowercase().contains(&part.to_lowercase()),
            _ => false,
        },
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => match (value.as_f64(), operand.as_f64()) {
            (Some(v), Some(o)) => match op {
                Op::Gt => v > o,
                Op::Gte => v >= o,
                Op::Lt => v < o,
                _ => v <= o,
            },
            _ => false,
        },
    }
}

/// `1` and `1.0` are the same number to a filter.
fn numbers_equal(a: &Value, b: &Value) -> bool {
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y)
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal)
        }
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items() -> Vec<Value> {
        vec![
            json!({"id": "a", "class": "standard", "vcpus": 1, "label": "Linode 2 GB", "tags": ["x"]}),
            json!({"id": "b", "class": "highmem", "vcpus": 16, "label": "Linode 300 GB", "tags": []}),
            json!({"id": "c", "class": "nanode", "vcpus": 1, "label": "Nanode 1 GB", "tags": ["x", "y"]}),
        ]
    }

    const FIELDS: &[&str] = &["class", "vcpus", "label", "tags"];

    fn ids(filter: &str) -> Vec<String> {
        Filter::parse(filter, FIELDS)
            .expect("valid filter")
            .apply(items())
            .iter()
            .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn operators() {
        assert_eq!(ids(r#"{"class":"standard"}"#), ["a"]);
        assert_eq!(ids(r#"{"vcpus":1,"class":"nanode"}"#), ["c"]);
        assert_eq!(ids(r#"{"label":{"+contains":"linode"}}"#), ["a", "b"]);
        assert_eq!(ids(r#"{"+or":[{"vcpus":16},{"class":"nanode"}]}"#), ["b", "c"]);
        assert_eq!(ids(r#"{"+and":[{"vcpus":{"+gte":1}},{"vcpus":{"+lt":16}}]}"#), ["a", "c"]);
        assert_eq!(ids(r#"{"vcpus":{"+gt":1}}"#), ["b"]);
        assert_eq!(ids(r#"{"vcpus":{"+lte":1}}"#), ["a", "c"]);
        assert_eq!(ids(r#"{"class":{"+neq":"standard"}}"#), ["b", "c"]);
        assert_eq!(ids(r#"{"tags":"y"}"#), ["c"]);
        assert_eq!(ids(r#"{"+order_by":"vcpus","+order":"desc"}"#), ["b", "a", "c"]);
        assert_eq!(ids(r#"{"+order_by":"label"}"#), ["a", "b", "c"]);
    }

    #[test]
    fn rejects_bad_filters() {
        for filter in [
            "not json",
            "[]",
            r#"{"memory":1}"#,
            r#"{"vcpus":{"+between":1}}"#,
            r#"{"+order":"desc"}"#,
            r#"{"+order_by":"memory"}"#,
            r#"{"vcpus":{"+gt":"one"}}"#,
            r#"{"+or":{"vcpus":1}}"#,
        ] {
            assert!(Filter::parse(filter, FIELDS).is_err(), "{filter}");
        }
    }
}
