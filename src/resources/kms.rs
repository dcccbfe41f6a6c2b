//! KMS keys the stack uses but does not own (`log_group.kms_key_arn`, `bucket.kms_key_arn`):
//! their key policy must let the service that encrypts with them do so, or CloudWatch Logs
//! refuses the key and Bedrock's S3 deliveries fail without a word. The tool reads the key
//! policy (`kms:GetKeyPolicy`), and when the grant is missing says which statement to add; it
//! never changes the key.

use serde_json::{Value, json};

use crate::aws::AwsResultExt;
use crate::docs;
use crate::engine::{Context, Diff, Health, HealthLevel};

/// What a key policy was found to allow a service, for one key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyCheck {
    /// The policy allows the service every action it needs.
    Granted,
    /// The policy lacks these actions for the service; `statement` is what to add.
    Missing {
        actions: Vec<&'static str>,
        statement: Value,
    },
    /// The policy could not be read (why).
    Unreadable(String),
}

/// A service principal and the actions it needs on a key, for a resource of the stack.
#[derive(Debug, Clone, Copy)]
pub struct KeyUse {
    /// The config field naming the key.
    pub field: &'static str,
    /// What uses it, for messages (e.g. "CloudWatch Logs").
    pub user: &'static str,
    /// The service principal's name before `.amazonaws.com` (`logs`, `bedrock`).
    pub service: &'static str,
    /// Whether the principal is regional (`logs.<region>.amazonaws.com`).
    pub regional: bool,
    pub actions: &'static [&'static str],
}

/// CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS": the key
/// policy must allow `logs.<region>.amazonaws.com` these actions.
pub const LOG_GROUP_KEY: KeyUse = KeyUse {
    field: "log_group.kms_key_arn",
    user: "CloudWatch Logs",
    service: "logs",
    regional: true,
    actions: &[
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    ],
};

/// Bedrock user guide, "Set up an Amazon S3 destination": with SSE-KMS on the bucket, Bedrock
/// needs `kms:GenerateDataKey` on the key to write invocation logs.
pub const BUCKET_KEY: KeyUse = KeyUse {
    field: "bucket.kms_key_arn",
    user: "Bedrock (invocation-log delivery to S3)",
    service: "bedrock",
    regional: false,
    actions: &["kms:GenerateDataKey"],
};

/// The service principal that uses the key.
pub fn principal(cx: &Context, key_use: &KeyUse) -> String {
    if key_use.regional {
        format!("{}.{}.amazonaws.com", key_use.service, cx.region)
    } else {
        format!("{}.amazonaws.com", key_use.service)
    }
}

/// Reads `key_arn`'s policy and checks it for `key_use`. A policy that cannot be read
/// (permission, another account's key) is reported, not an error: the key is not ours.
pub async fn check(cx: &Context, key_arn: &str, key_use: &KeyUse) -> KeyCheck {
    let read = cx
        .aws
        .kms
        .get_key_policy()
        .key_id(key_arn)
        .policy_name("default")
        .send()
        .await
        .aws("kms:GetKeyPolicy");
    match read {
        Ok(out) => match out.policy().and_then(docs::parse_policy) {
            Some(policy) => evaluate(&policy, &principal(cx, key_use), key_arn, key_use),
            None => KeyCheck::Unreadable("the key policy is not JSON".into()),
        },
        Err(e) => KeyCheck::Unreadable(e.to_string()),
    }
}

/// Which of `key_use`'s actions the policy allows `service` on the key. Conditions are taken
/// as met (they usually pin the source account, which is ours).
pub fn evaluate(policy: &Value, service: &str, key_arn: &str, key_use: &KeyUse) -> KeyCheck {
    let statements: Vec<&Value> = match &policy["Statement"] {
        Value::Array(list) => list.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    let allows = |action: &str| {
        statements.iter().any(|st| {
            st["Effect"] == "Allow"
                && strings(&st["Principal"]["Service"])
                    .iter()
                    .any(|s| s == service)
                && strings(&st["Action"])
                    .iter()
                    .any(|pattern| action_matches(pattern, action))
                && strings(&st["Resource"])
                    .iter()
                    .any(|r| r == "*" || r == key_arn)
        })
    };
    let missing: Vec<&'static str> = key_use
        .actions
        .iter()
        .copied()
        .filter(|a| !allows(a))
        .collect();
    if missing.is_empty() {
        return KeyCheck::Granted;
    }
    KeyCheck::Missing {
        statement: json!({
            "Sid": format!("Allow{}", service.split('.').next().unwrap_or("service")),
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": key_use.actions,
            "Resource": "*",
        }),
        actions: missing,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM action matching: case-insensitive, `*` as a wildcard. `needed` may itself end in `*`
/// (`kms:GenerateDataKey*`): then the policy must grant at least as much.
fn action_matches(pattern: &str, needed: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let needed = needed.to_ascii_lowercase();
    if pattern == "*" || pattern == "kms:*" || pattern == needed {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => needed.trim_end_matches('*').starts_with(prefix),
        None => false,
    }
}

/// The check of the configured key, if one is configured.
pub async fn check_configured(
    cx: &Context,
    key_arn: &Option<String>,
    key_use: &KeyUse,
) -> Option<KeyCheck> {
    match key_arn {
        Some(key) => Some(check(cx, key, key_use).await),
        None => None,
    }
}

/// `diff` with the check's note, if it has one.
pub fn with_note(
    diff: Diff,
    cx: &Context,
    key_arn: &Option<String>,
    key_use: &KeyUse,
    checked: &Option<KeyCheck>,
) -> Diff {
    match (key_arn, checked) {
        (Some(key), Some(check)) => match note(cx, key, key_use, check) {
            Some(note) => diff.with_note(note),
            None => diff,
        },
        _ => diff,
    }
}

/// The check as `status` health facts.
pub fn health_facts(
    cx: &Context,
    key_arn: &Option<String>,
    key_use: &KeyUse,
    checked: &Option<KeyCheck>,
) -> Vec<Health> {
    match (key_arn, checked) {
        (Some(key), Some(check)) => vec![health(cx, key, key_use, check)],
        _ => Vec::new(),
    }
}

/// The plan note for a check, if there is something to say.
pub fn note(cx: &Context, key_arn: &str, key_use: &KeyUse, check: &KeyCheck) -> Option<String> {
    match check {
        KeyCheck::Granted => None,
        KeyCheck::Missing { actions, statement } => Some(format!(
            "{}: the key policy of {key_arn} does not allow {} ({}) {}; this tool does not \
             change keys it does not own: add this statement to the key policy: {statement}",
            key_use.field,
            principal(cx, key_use),
            key_use.user,
            actions.join(", "),
        )),
        KeyCheck::Unreadable(why) => Some(format!(
            "{}: could not read the key policy of {key_arn} ({why}); make sure it allows {} ({}) {}",
            key_use.field,
            principal(cx, key_use),
            key_use.user,
            key_use.actions.join(", "),
        )),
    }
}

/// The same as a `status` health fact.
pub fn health(cx: &Context, key_arn: &str, key_use: &KeyUse, check: &KeyCheck) -> Health {
    let level = match check {
        KeyCheck::Granted => HealthLevel::Ok,
        KeyCheck::Missing { .. } => HealthLevel::Alarm,
        KeyCheck::Unreadable(_) => HealthLevel::Warning,
    };
    Health {
        subject: format!("KMS key {key_arn}"),
        level,
        detail: note(cx, key_arn, key_use, check).unwrap_or_else(|| {
            format!(
                "its policy allows {} ({})",
                principal(cx, key_use),
                key_use.user
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn default_policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        }]})
    }

    #[test]
    fn the_default_key_policy_does_not_let_services_use_the_key() {
        let check = evaluate(
            &default_policy(),
            "logs.us-east-1.amazonaws.com",
            KEY,
            &LOG_GROUP_KEY,
        );
        let KeyCheck::Missing { actions, statement } = check else {
            panic!("expected missing grants");
        };
        assert_eq!(actions.len(), 5);
        assert_eq!(
            statement["Principal"]["Service"],
            "logs.us-east-1.amazonaws.com"
        );
        // The statement to add grants what was found missing.
        let mut fixed = default_policy();
        fixed["Statement"].as_array_mut().unwrap().push(statement);
        assert_eq!(
            evaluate(&fixed, "logs.us-east-1.amazonaws.com", KEY, &LOG_GROUP_KEY),
            KeyCheck::Granted
        );
    }

    #[test]
    fn wildcards_and_lists_are_understood() {
        let policy = json!({"Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["bedrock.amazonaws.com", "s3.amazonaws.com"]},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": KEY,
        }]});
        assert_eq!(
            evaluate(&policy, "bedrock.amazonaws.com", KEY, &BUCKET_KEY),
            KeyCheck::Granted
        );
        // Another service, or a Deny, grants nothing.
        assert!(matches!(
            evaluate(&policy, "logs.us-east-1.amazonaws.com", KEY, &BUCKET_KEY),
            KeyCheck::Missing { .. }
        ));
        let deny = json!({"Statement": {"Effect": "Deny", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}});
        assert!(matches!(
            evaluate(&deny, "bedrock.amazonaws.com", KEY, &BUCKET_KEY),
            KeyCheck::Missing { .. }
        ));
        assert!(action_matches("kms:Encrypt*", "kms:Encrypt"));
        assert!(action_matches(
            "kms:GenerateDataKey*",
            "kms:GenerateDataKey*"
        ));
        assert!(!action_matches(
            "kms:GenerateDataKey",
            "kms:GenerateDataKey*"
        ));
    }
}
