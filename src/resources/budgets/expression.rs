//! A budget's filter between the API's JSON shape (what `crate::cost::spend` defines and the
//! plan compares) and the Budgets SDK's own expression type (Cost Explorer's is in
//! `crate::cost::ce_expression`).

use aws_sdk_budgets::types::{
    CostCategoryValues, Dimension, Expression, ExpressionDimensionValues, MatchOption, TagValues,
};
use serde_json::{Value, json};

use crate::aws::AwsError;
use crate::cost::spend;

/// An expression in the API's JSON shape (as [`spend::filter_expression`] writes it) as the
/// SDK type.
pub(super) fn sdk_expression(v: &Value) -> Result<Expression, AwsError> {
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
    let options = |part: &Value| -> Option<Vec<MatchOption>> {
        Some(
            strings(part, "MatchOptions")
                .iter()
                .map(|o| MatchOption::from(o.as_str()))
                .collect(),
        )
    };
    let key = |part: &Value| part.get("Key").and_then(Value::as_str).map(str::to_string);
    let mut builder = Expression::builder();
    for (name, list) in [("Or", true), ("And", false)] {
        if let Some(items) = v.get(name).and_then(Value::as_array) {
            let items = items
                .iter()
                .map(sdk_expression)
                .collect::<Result<Vec<_>, _>>()?;
            builder = if list {
                builder.set_or(Some(items))
            } else {
                builder.set_and(Some(items))
            };
        }
    }
    if let Some(not) = v.get("Not") {
        builder = builder.not(sdk_expression(not)?);
    }
    if let Some(d) = v.get("Dimensions") {
        builder = builder.dimensions(
            ExpressionDimensionValues::builder()
                .set_key(key(d).map(|k| Dimension::from(k.as_str())))
                .set_values(Some(strings(d, "Values")))
                .set_match_options(options(d))
                .build()?,
        );
    }
    if let Some(t) = v.get("Tags") {
        builder = builder.tags(
            TagValues::builder()
                .set_key(key(t))
                .set_values(Some(strings(t, "Values")))
                .set_match_options(options(t))
                .build(),
        );
    }
    if let Some(c) = v.get("CostCategories") {
        builder = builder.cost_categories(
            CostCategoryValues::builder()
                .set_key(key(c))
                .set_values(Some(strings(c, "Values")))
                .set_match_options(options(c))
                .build(),
        );
    }
    Ok(builder.build())
}

/// An SDK expression as the API's JSON shape, in canonical form.
pub(super) fn expression_json(e: &Expression) -> Value {
    fn part(key: Option<&str>, values: &[String], options: &[MatchOption]) -> Value {
        json!({
            "Key": key,
            "Values": values,
            "MatchOptions": options.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        })
    }
    fn raw(e: &Expression) -> Value {
        let mut out = serde_json::Map::new();
        if !e.or().is_empty() {
            out.insert("Or".into(), e.or().iter().map(raw).collect());
        }
        if !e.and().is_empty() {
            out.insert("And".into(), e.and().iter().map(raw).collect());
        }
        if let Some(not) = e.not() {
            out.insert("Not".into(), raw(not));
        }
        if let Some(d) = e.dimensions() {
            out.insert(
                "Dimensions".into(),
                part(Some(d.key().as_str()), d.values(), d.match_options()),
            );
        }
        if let Some(t) = e.tags() {
            out.insert("Tags".into(), part(t.key(), t.values(), t.match_options()));
        }
        if let Some(c) = e.cost_categories() {
            out.insert(
                "CostCategories".into(),
                part(c.key(), c.values(), c.match_options()),
            );
        }
        Value::Object(out)
    }
    spend::canonical(&raw(e))
}
