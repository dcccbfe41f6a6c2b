//! Cost expressions between the API's JSON shape, which the tool defines and compares
//! ([`super::spend`]), and the SDK types. Cost Explorer (cost category rules, anomaly monitor
//! specifications and subscription thresholds) and Budgets (a budget's filter) each have an
//! `Expression` type of their own for the same shape (`And`, `Or`, `Not`, and `Dimensions`,
//! `Tags` and `CostCategories` parts of `Key`, `Values` and `MatchOptions`); one conversion
//! each way serves both.

use std::convert::Infallible;

use aws_sdk_budgets::types as budgets;
use aws_sdk_costexplorer::types as ce;
use serde_json::{Value, json};

use super::spend;

/// A `Dimensions`, `Tags` or `CostCategories` part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Part {
    pub key: Option<String>,
    pub values: Vec<String>,
    pub options: Vec<String>,
}

/// An expression's members, whatever SDK type holds them.
#[derive(Debug)]
pub struct Members<E> {
    pub or: Vec<E>,
    pub and: Vec<E>,
    pub not: Option<E>,
    pub dimensions: Option<Part>,
    pub tags: Option<Part>,
    pub cost_categories: Option<Part>,
}

impl<E> Default for Members<E> {
    fn default() -> Self {
        Members {
            or: Vec::new(),
            and: Vec::new(),
            not: None,
            dimensions: None,
            tags: None,
            cost_categories: None,
        }
    }
}

/// An SDK's expression type: its members read out, and built from members.
pub trait SdkExpression: Sized {
    type Error;
    fn members(&self) -> Members<&Self>;
    fn assemble(members: Members<Self>) -> Result<Self, Self::Error>;
}

/// The JSON shape of an SDK expression, in canonical form.
pub fn to_json<E: SdkExpression>(e: &E) -> Value {
    fn part(p: &Part) -> Value {
        json!({"Key": p.key, "Values": p.values, "MatchOptions": p.options})
    }
    fn raw<E: SdkExpression>(e: &E) -> Value {
        let m = e.members();
        let mut out = serde_json::Map::new();
        if !m.or.is_empty() {
            out.insert("Or".into(), m.or.iter().map(|e| raw(*e)).collect());
        }
        if !m.and.is_empty() {
            out.insert("And".into(), m.and.iter().map(|e| raw(*e)).collect());
        }
        if let Some(not) = m.not {
            out.insert("Not".into(), raw(not));
        }
        for (name, p) in [
            ("Dimensions", &m.dimensions),
            ("Tags", &m.tags),
            ("CostCategories", &m.cost_categories),
        ] {
            if let Some(p) = p {
                out.insert(name.into(), part(p));
            }
        }
        Value::Object(out)
    }
    spend::canonical(&raw(e))
}

/// The SDK expression for the JSON shape.
pub fn from_json<E: SdkExpression>(v: &Value) -> Result<E, E::Error> {
    let strings = |part: &Value, key: &str| -> Vec<String> {
        part.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let part = |name: &str| {
        v.get(name).map(|p| Part {
            key: p.get("Key").and_then(Value::as_str).map(str::to_string),
            values: strings(p, "Values"),
            options: strings(p, "MatchOptions"),
        })
    };
    let list = |name: &str| -> Result<Vec<E>, E::Error> {
        v.get(name)
            .and_then(Value::as_array)
            .map(|items| items.iter().map(from_json).collect())
            .unwrap_or_else(|| Ok(Vec::new()))
    };
    E::assemble(Members {
        or: list("Or")?,
        and: list("And")?,
        not: v.get("Not").map(from_json).transpose()?,
        dimensions: part("Dimensions"),
        tags: part("Tags"),
        cost_categories: part("CostCategories"),
    })
}

/// [`from_json`] for Cost Explorer, whose expression builds cannot fail.
pub fn ce_expression(v: &Value) -> ce::Expression {
    match from_json(v) {
        Ok(e) => e,
        Err(never) => match never {},
    }
}

fn part_of(key: Option<&str>, values: &[String], options: Vec<String>) -> Part {
    Part {
        key: key.map(str::to_string),
        values: values.to_vec(),
        options,
    }
}

impl SdkExpression for ce::Expression {
    type Error = Infallible;

    fn members(&self) -> Members<&Self> {
        let opts = |o: &[ce::MatchOption]| o.iter().map(|o| o.as_str().to_string()).collect();
        Members {
            or: self.or().iter().collect(),
            and: self.and().iter().collect(),
            not: self.not(),
            dimensions: self.dimensions().map(|d| {
                part_of(
                    d.key().map(|k| k.as_str()),
                    d.values(),
                    opts(d.match_options()),
                )
            }),
            tags: self
                .tags()
                .map(|t| part_of(t.key(), t.values(), opts(t.match_options()))),
            cost_categories: self
                .cost_categories()
                .map(|c| part_of(c.key(), c.values(), opts(c.match_options()))),
        }
    }

    fn assemble(m: Members<Self>) -> Result<Self, Infallible> {
        // Cost Explorer leaves out match options it is not given (its default is EQUALS).
        let options = |p: &Part| -> Option<Vec<ce::MatchOption>> {
            (!p.options.is_empty()).then(|| {
                p.options
                    .iter()
                    .map(|o| ce::MatchOption::from(o.as_str()))
                    .collect()
            })
        };
        let mut b = ce::Expression::builder()
            .set_or((!m.or.is_empty()).then_some(m.or))
            .set_and((!m.and.is_empty()).then_some(m.and))
            .set_not(m.not.map(Box::new));
        if let Some(d) = &m.dimensions {
            b = b.dimensions(
                ce::DimensionValues::builder()
                    .set_key(d.key.as_deref().map(ce::Dimension::from))
                    .set_values(Some(d.values.clone()))
                    .set_match_options(options(d))
                    .build(),
            );
        }
        if let Some(t) = &m.tags {
            b = b.tags(
                ce::TagValues::builder()
                    .set_key(t.key.clone())
                    .set_values(Some(t.values.clone()))
                    .set_match_options(options(t))
                    .build(),
            );
        }
        if let Some(c) = &m.cost_categories {
            b = b.cost_categories(
                ce::CostCategoryValues::builder()
                    .set_key(c.key.clone())
                    .set_values(Some(c.values.clone()))
                    .set_match_options(options(c))
                    .build(),
            );
        }
        Ok(b.build())
    }
}

impl SdkExpression for budgets::Expression {
    type Error = aws_smithy_types::error::operation::BuildError;

    fn members(&self) -> Members<&Self> {
        let opts = |o: &[budgets::MatchOption]| o.iter().map(|o| o.as_str().to_string()).collect();
        Members {
            or: self.or().iter().collect(),
            and: self.and().iter().collect(),
            not: self.not(),
            dimensions: self
                .dimensions()
                .map(|d| part_of(Some(d.key().as_str()), d.values(), opts(d.match_options()))),
            tags: self
                .tags()
                .map(|t| part_of(t.key(), t.values(), opts(t.match_options()))),
            cost_categories: self
                .cost_categories()
                .map(|c| part_of(c.key(), c.values(), opts(c.match_options()))),
        }
    }

    fn assemble(m: Members<Self>) -> Result<Self, Self::Error> {
        let options = |p: &Part| -> Option<Vec<budgets::MatchOption>> {
            Some(
                p.options
                    .iter()
                    .map(|o| budgets::MatchOption::from(o.as_str()))
                    .collect(),
            )
        };
        let mut b = budgets::Expression::builder()
            .set_or((!m.or.is_empty()).then_some(m.or))
            .set_and((!m.and.is_empty()).then_some(m.and))
            .set_not(m.not.map(Box::new));
        if let Some(d) = &m.dimensions {
            b = b.dimensions(
                budgets::ExpressionDimensionValues::builder()
                    .set_key(d.key.as_deref().map(budgets::Dimension::from))
                    .set_values(Some(d.values.clone()))
                    .set_match_options(options(d))
                    .build()?,
            );
        }
        if let Some(t) = &m.tags {
            b = b.tags(
                budgets::TagValues::builder()
                    .set_key(t.key.clone())
                    .set_values(Some(t.values.clone()))
                    .set_match_options(options(t))
                    .build(),
            );
        }
        if let Some(c) = &m.cost_categories {
            b = b.cost_categories(
                budgets::CostCategoryValues::builder()
                    .set_key(c.key.clone())
                    .set_values(Some(c.values.clone()))
                    .set_match_options(options(c))
                    .build(),
            );
        }
        Ok(b.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_survive_the_round_trip_in_both_sdks() {
        let e = spend::canonical(&json!({"And": [
            {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["-MP:"], "MatchOptions": ["CONTAINS"]}},
            {"Tags": {"Key": "Team", "Values": ["search"], "MatchOptions": ["EQUALS"]}},
            {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}},
            {"Or": [
                {"CostCategories": {"Key": "Bedrock", "Values": ["Bedrock"]}},
                {"Dimensions": {"Key": "SERVICE", "Values": ["Bedrock"], "MatchOptions": ["CONTAINS"]}},
            ]},
        ]}));
        assert_eq!(to_json(&ce_expression(&e)), e);
        let b: budgets::Expression = from_json(&e).expect("builds");
        assert_eq!(to_json(&b), e);
    }
}
