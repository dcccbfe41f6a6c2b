//! Documents (IAM and resource policies, the dashboard body): rendered from the templates in
//! `templates/` with every value inserted as a JSON value (`|tojson`), parsed back as JSON, and
//! compared semantically, because AWS returns them reordered, re-spaced and (IAM) URL-encoded.

use minijinja::Environment;
use serde::Serialize;
use serde_json::Value;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "role-trust-policy",
        include_str!("../templates/role-trust-policy.json.j2"),
    ),
    (
        "role-permissions-policy",
        include_str!("../templates/role-permissions-policy.json.j2"),
    ),
    (
        "bucket-policy",
        include_str!("../templates/bucket-policy.json.j2"),
    ),
    (
        "cur-bucket-policy",
        include_str!("../templates/cur-bucket-policy.json.j2"),
    ),
    (
        "topic-policy",
        include_str!("../templates/topic-policy.json.j2"),
    ),
    ("dashboard", include_str!("../templates/dashboard.json.j2")),
    (
        "deny-bedrock-policy",
        include_str!("../templates/deny-bedrock-policy.json.j2"),
    ),
    (
        "budget-action-trust-policy",
        include_str!("../templates/budget-action-trust-policy.json.j2"),
    ),
    (
        "budget-action-role-policy",
        include_str!("../templates/budget-action-role-policy.json.j2"),
    ),
];

/// A template that failed to render or did not produce JSON: a bug in the tool, not in the
/// user's input (every input is inserted as a JSON value).
#[derive(Debug, thiserror::Error)]
#[error("internal error rendering template {template}: {message}")]
pub struct RenderError {
    pub template: String,
    pub message: String,
}

impl From<RenderError> for crate::aws::AwsError {
    fn from(e: RenderError) -> Self {
        crate::aws::AwsError::setup(e.to_string(), "report this as a bug")
    }
}

pub fn render(template: &str, values: impl Serialize) -> Result<Value, RenderError> {
    let fail = |message: String| RenderError {
        template: template.to_string(),
        message,
    };
    let source = TEMPLATES
        .iter()
        .find(|(name, _)| *name == template)
        .map(|(_, s)| *s)
        .ok_or_else(|| fail("no such template".into()))?;
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let text = env
        .render_str(source, minijinja::value::Serde(values))
        .map_err(|e| fail(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| fail(format!("output is not JSON: {e}")))
}

/// Parse a policy document as AWS returns it: IAM URL-encodes documents, other services
/// return plain JSON.
pub fn parse_policy(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&decoded).ok()
}

/// A canonical form of an IAM-style policy for comparison: one-element lists and single
/// strings are the same, order inside `Action`/`Resource`/principal/condition lists and the
/// order of statements do not matter.
pub fn normalize_policy(policy: &Value) -> Value {
    let mut policy = policy.clone();
    if let Some(obj) = policy.as_object_mut()
        && let Some(statements) = obj.get_mut("Statement")
    {
        let mut list = match statements.take() {
            Value::Array(items) => items,
            single => vec![single],
        };
        for statement in &mut list {
            normalize_statement(statement);
        }
        list.sort_by_key(|s| s.to_string());
        *statements = Value::Array(list);
    }
    policy
}

fn normalize_statement(statement: &mut Value) {
    let Some(obj) = statement.as_object_mut() else {
        return;
    };
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = obj.get_mut(key) {
            *v = string_set(v.take());
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(Value::Object(principals)) = obj.get_mut(key) {
            for v in principals.values_mut() {
                *v = string_set(v.take());
            }
        }
    }
    if let Some(Value::Object(conditions)) = obj.get_mut("Condition") {
        for operator in conditions.values_mut() {
            if let Value::Object(keys) = operator {
                for v in keys.values_mut() {
                    *v = string_set(v.take());
                }
            }
        }
    }
}

/// A string or list of scalars as a sorted, de-duplicated list of strings. AWS may return
/// booleans and numbers in conditions as strings; compare them as strings.
fn string_set(v: Value) -> Value {
    let items = match v {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut strings: Vec<String> = items
        .into_iter()
        .map(|i| match i {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    strings.sort();
    strings.dedup();
    Value::Array(strings.into_iter().map(Value::String).collect())
}

/// This tool's statements plus the statements of `observed` it does not own (by `Sid`), so that
/// converging a resource policy keeps what others added to it.
pub fn merge_statements(mut ours: Value, observed: Option<&Value>) -> Value {
    let our_sids: Vec<String> = ours
        .get("Statement")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(|st| st.get("Sid").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let foreign: Vec<Value> = observed
        .and_then(|p| p.get("Statement"))
        .map(|s| match s {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|s| {
            !s.get("Sid")
                .and_then(Value::as_str)
                .is_some_and(|sid| our_sids.iter().any(|o| o == sid))
        })
        .collect();
    if let Some(Value::Array(statements)) = ours.get_mut("Statement") {
        statements.extend(foreign);
    }
    ours
}

/// `observed` without this tool's statements (by `Sid`): what others put in the policy, or
/// `None` when nothing of theirs is left.
pub fn without_statements(ours: &Value, observed: &Value) -> Option<Value> {
    let our_sids: Vec<&str> = ours
        .get("Statement")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(|st| st.get("Sid").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let theirs: Vec<Value> = match observed.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single) => vec![single.clone()],
        None => Vec::new(),
    }
    .into_iter()
    .filter(|s| {
        !s.get("Sid")
            .and_then(Value::as_str)
            .is_some_and(|sid| our_sids.contains(&sid))
    })
    .collect();
    if theirs.is_empty() {
        return None;
    }
    let mut rest = observed.clone();
    rest["Statement"] = Value::Array(theirs);
    Some(rest)
}

/// Policies are equal when their canonical forms are.
pub fn same_policy(a: &Value, b: &Value) -> bool {
    normalize_policy(a) == normalize_policy(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_cannot_change_a_documents_structure() {
        let doc = render(
            "role-trust-policy",
            json!({"account_id": "1\"}, \"Evil\": {\"x", "partition": "aws", "source_arns": "arn:aws:bedrock:us-east-1:1:*"}),
        )
        .expect("renders");
        let statement = &doc["Statement"][0];
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            json!("1\"}, \"Evil\": {\"x")
        );
        assert!(doc.get("Evil").is_none());
    }

    #[test]
    fn missing_values_are_an_error_not_an_empty_string() {
        assert!(render("bucket-policy", json!({"partition": "aws"})).is_err());
    }

    #[test]
    fn iam_documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            parse_policy(encoded),
            Some(json!({"Version": "2012-10-17", "Statement": []}))
        );
    }

    #[test]
    fn policy_comparison_ignores_order_and_list_shapes() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["b", "a"], "Resource": "r", "Principal": {"Service": "s"}},
            {"Effect": "Deny", "Action": "x", "Resource": ["r"], "Condition": {"Bool": {"aws:SecureTransport": false}}}
        ]});
        let b = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["x"], "Resource": "r", "Condition": {"Bool": {"aws:SecureTransport": ["false"]}}},
            {"Effect": "Allow", "Action": ["a", "b"], "Resource": ["r"], "Principal": {"Service": ["s"]}}
        ]});
        assert!(same_policy(&a, &b));
        let c = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["a"], "Resource": "r", "Principal": {"Service": "s"}}
        ]});
        assert!(!same_policy(&a, &c));
    }
}
