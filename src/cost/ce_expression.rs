//! Cost Explorer expressions (cost category rules, anomaly monitor specifications and
//! subscription thresholds) between the API's JSON shape, which the tool compares, and the
//! SDK's types. (Budgets has its own SDK type for the same shape: see `resources::budgets`.)

use aws_sdk_costexplorer::types::{
    CostCategoryValues, Dimension, DimensionValues, Expression, MatchOption, TagValues,
};
use serde_json::{Value, json};

use super::spend;

fn strings(part: &Value, key: &str) -> Vec<String> {
    part.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn options(part: &Value) -> Option<Vec<MatchOption>> {
    let options: Vec<MatchOption> = strings(part, "MatchOptions")
        .iter()
        .map(|o| MatchOption::from(o.as_str()))
        .collect();
    (!options.is_empty()).then_some(options)
}

fn key(part: &Value) -> Option<String> {
    part.get("Key").and_then(Value::as_str).map(str::to_string)
}

/// The SDK expression for the JSON shape.
pub fn to_sdk(v: &Value) -> Expression {
    let mut builder = Expression::builder();
    if let Some(items) = v.get("Or").and_then(Value::as_array) {
        builder = builder.set_or(Some(items.iter().map(to_sdk).collect()));
    }
    if let Some(items) = v.get("And").and_then(Value::as_array) {
        builder = builder.set_and(Some(items.iter().map(to_sdk).collect()));
    }
    if let Some(not) = v.get("Not") {
        builder = builder.not(to_sdk(not));
    }
    if let Some(d) = v.get("Dimensions") {
        builder = builder.dimensions(
            DimensionValues::builder()
                .set_key(key(d).map(|k| Dimension::from(k.as_str())))
                .set_values(Some(strings(d, "Values")))
                .set_match_options(options(d))
                .build(),
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
    builder.build()
}

/// The JSON shape of an SDK expression, in canonical form.
pub fn to_json(e: &Expression) -> Value {
    fn part(key: Option<&str>, values: &[String], options: &[MatchOption]) -> Value {
        let mut out = json!({"Key": key, "Values": values});
        if !options.is_empty() {
            out["MatchOptions"] = json!(options.iter().map(|o| o.as_str()).collect::<Vec<_>>());
        }
        out
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
                part(d.key().map(|k| k.as_str()), d.values(), d.match_options()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_survive_the_round_trip() {
        let e = spend::canonical(&json!({"And": [
            {"Dimensions": {"Key": "USAGE_TYPE", "Values": ["-MP:"], "MatchOptions": ["CONTAINS"]}},
            {"Tags": {"Key": "Team", "Values": ["search"], "MatchOptions": ["EQUALS"]}},
        ]}));
        assert_eq!(to_json(&to_sdk(&e)), e);
    }
}
