//! KMS keys the stack uses but does not own (`log_group.kms_key_arn`, `bucket.kms_key_arn`,
//! `alerts.kms_key_arn`): their key policy must let the service that encrypts with them do so,
//! or CloudWatch Logs refuses the key, Bedrock's S3 deliveries fail without a word, and alarms,
//! budgets and anomaly alerts never reach an encrypted topic. The tool reads the key policy
//! (`kms:GetKeyPolicy`), and when the grant is missing says which statement to add; it never
//! changes the key. Each statement carries the conditions its service's guide gives, so the
//! grant serves this stack's resource and account only (confused-deputy protection).

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

/// How a statement for a service is narrowed to this stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narrowing {
    /// CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS":
    /// "CloudWatch Logs now supports encryption context, using
    /// kms:EncryptionContext:aws:logs:arn as the key and the ARN of the log group as the value"
    /// (`ArnEquals`, the log group's ARN).
    LogGroupContext,
    /// Bedrock user guide, "Monitor model invocation using CloudWatch Logs and Amazon S3" (S3
    /// destination with SSE-KMS): `aws:SourceAccount` = the account and `aws:SourceArn` like
    /// `arn:<partition>:bedrock:<region>:<account>:*`.
    BedrockSource,
    /// SNS developer guide, "Enable compatibility between event sources from AWS services and
    /// encrypted topics": add `aws:SourceAccount` (and the service's source ARN where its guide
    /// gives one) to the key policy; SNS encrypts with the encryption context
    /// `aws:sns:topicArn` = the topic's ARN, which narrows the grant to this topic. The source
    /// ARNs of alarm, budget and anomaly-alert publishers are not given by their guides, so
    /// only the account is pinned, as in the topic policy.
    TopicContext,
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
    pub narrowing: Narrowing,
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
    narrowing: Narrowing::LogGroupContext,
};

/// Bedrock user guide, "Set up an Amazon S3 destination": with SSE-KMS on the bucket, Bedrock
/// needs `kms:GenerateDataKey` on the key to write invocation logs.
pub const BUCKET_KEY: KeyUse = KeyUse {
    field: "bucket.kms_key_arn",
    user: "Bedrock (invocation-log delivery to S3)",
    service: "bedrock",
    regional: false,
    actions: &["kms:GenerateDataKey"],
    narrowing: Narrowing::BedrockSource,
};

/// SNS developer guide, "Enable compatibility between event sources from AWS services and
/// encrypted topics": a service that publishes to an encrypted topic needs
/// `kms:GenerateDataKey*` and `kms:Decrypt` on its key. The publishers of the alert topic are
/// CloudWatch (alarms), AWS Budgets and, for immediate anomaly alerts, Cost Anomaly Detection
/// (`costalerts`), the principals of the topic policy.
const TOPIC_ACTIONS: &[&str] = &["kms:GenerateDataKey*", "kms:Decrypt"];

pub const TOPIC_KEY_ALARMS: KeyUse = KeyUse {
    field: "alerts.kms_key_arn",
    user: "CloudWatch alarms",
    service: "cloudwatch",
    regional: false,
    actions: TOPIC_ACTIONS,
    narrowing: Narrowing::TopicContext,
};

pub const TOPIC_KEY_BUDGETS: KeyUse = KeyUse {
    field: "alerts.kms_key_arn",
    user: "AWS Budgets",
    service: "budgets",
    regional: false,
    actions: TOPIC_ACTIONS,
    narrowing: Narrowing::TopicContext,
};

pub const TOPIC_KEY_ANOMALIES: KeyUse = KeyUse {
    field: "alerts.kms_key_arn",
    user: "Cost Anomaly Detection",
    service: "costalerts",
    regional: false,
    actions: TOPIC_ACTIONS,
    narrowing: Narrowing::TopicContext,
};

/// The publishers of the alert topic this config has.
pub fn topic_key_uses(cx: &Context) -> Vec<KeyUse> {
    let mut uses = vec![TOPIC_KEY_ALARMS, TOPIC_KEY_BUDGETS];
    if cx.config.anomaly_alerts_to_topic() {
        uses.push(TOPIC_KEY_ANOMALIES);
    }
    uses
}

/// Every configured key with the statements its key policy needs, for `permissions`.
pub fn key_policy_statements(cx: &Context) -> Vec<(String, Vec<Value>)> {
    let config = &cx.config;
    let mut out = Vec::new();
    let keyed: [(&Option<String>, Vec<KeyUse>); 3] = [
        (&config.log_group.kms_key_arn, vec![LOG_GROUP_KEY]),
        (&config.bucket.kms_key_arn, vec![BUCKET_KEY]),
        (&config.alerts.kms_key_arn, topic_key_uses(cx)),
    ];
    for (key, uses) in keyed {
        if let Some(key) = key {
            let statements = uses.iter().map(|u| statement(cx, u)).collect();
            out.push((key.clone(), statements));
        }
    }
    out
}

/// The key-policy statement that lets `key_use`'s service use the key for this stack only.
pub fn statement(cx: &Context, key_use: &KeyUse) -> Value {
    let condition = match key_use.narrowing {
        Narrowing::LogGroupContext => json!({"ArnEquals": {
            "kms:EncryptionContext:aws:logs:arn": format!(
                "arn:{}:logs:{}:{}:log-group:{}",
                cx.partition(), cx.region, cx.account.id, cx.config.log_group.name
            ),
        }}),
        Narrowing::BedrockSource => json!({
            "StringEquals": {"aws:SourceAccount": cx.account.id},
            "ArnLike": {"aws:SourceArn": format!(
                "arn:{}:bedrock:{}:{}:*", cx.partition(), cx.region, cx.account.id
            )},
        }),
        Narrowing::TopicContext => json!({"StringEquals": {
            "aws:SourceAccount": cx.account.id,
            "kms:EncryptionContext:aws:sns:topicArn": cx.configured_topic_arn(),
        }}),
    };
    json!({
        "Sid": format!("Allow{}", capitalised(key_use.service)),
        "Effect": "Allow",
        "Principal": {"Service": principal(cx, key_use)},
        "Action": key_use.actions,
        "Resource": "*",
        "Condition": condition,
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

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
    check_uses(cx, key_arn, &[*key_use])
        .await
        .pop()
        .map(|(_, c)| c)
        .unwrap_or(KeyCheck::Granted)
}

/// The same for several services sharing one key (the alert topic's publishers), with one read
/// of its policy.
pub async fn check_uses(cx: &Context, key_arn: &str, uses: &[KeyUse]) -> Vec<(KeyUse, KeyCheck)> {
    let read = cx
        .aws
        .kms
        .get_key_policy()
        .key_id(key_arn)
        .policy_name("default")
        .send()
        .await
        .aws("kms:GetKeyPolicy");
    let policy = match read {
        Ok(out) => out
            .policy()
            .and_then(docs::parse_policy)
            .ok_or_else(|| "the key policy is not JSON".to_string()),
        Err(e) => Err(e.to_string()),
    };
    uses.iter()
        .map(|u| {
            let check = match &policy {
                Ok(policy) => evaluate(policy, &principal(cx, u), key_arn, u, statement(cx, u)),
                Err(why) => KeyCheck::Unreadable(why.clone()),
            };
            (*u, check)
        })
        .collect()
}

/// Which of `key_use`'s actions the policy allows `service` on the key; `statement` is what to
/// add when some are missing. Conditions are taken as met (they pin the source account, the
/// log group or the topic, which are ours).
pub fn evaluate(
    policy: &Value,
    service: &str,
    key_arn: &str,
    key_use: &KeyUse,
    statement: Value,
) -> KeyCheck {
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
        statement,
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

    fn cx() -> Context {
        let mut config = crate::config::Config::default();
        config.log_group.kms_key_arn = Some(KEY.into());
        config.bucket.kms_key_arn = Some(KEY.into());
        config.alerts.kms_key_arn = Some(KEY.into());
        Context::new(
            config,
            crate::aws::test_account(),
            crate::aws::offline_clients(),
            std::sync::Arc::new(crate::engine::QuietProgress),
        )
    }

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
        let cx = cx();
        let logs = principal(&cx, &LOG_GROUP_KEY);
        let check = evaluate(
            &default_policy(),
            &logs,
            KEY,
            &LOG_GROUP_KEY,
            statement(&cx, &LOG_GROUP_KEY),
        );
        let KeyCheck::Missing { actions, statement } = check else {
            panic!("expected missing grants");
        };
        assert_eq!(actions.len(), 5);
        assert_eq!(statement["Principal"]["Service"], logs);
        // The statement to add grants what was found missing.
        let mut fixed = default_policy();
        fixed["Statement"].as_array_mut().unwrap().push(statement);
        assert_eq!(
            evaluate(&fixed, &logs, KEY, &LOG_GROUP_KEY, Value::Null),
            KeyCheck::Granted
        );
    }

    #[test]
    fn each_statement_is_narrowed_to_this_stack() {
        let cx = cx();
        let logs = statement(&cx, &LOG_GROUP_KEY);
        assert_eq!(
            logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"],
            format!(
                "arn:aws:logs:{}:123456789012:log-group:/aws/bedrock/modelinvocations",
                cx.region
            )
        );
        let bedrock = statement(&cx, &BUCKET_KEY);
        assert_eq!(
            bedrock["Condition"]["StringEquals"]["aws:SourceAccount"],
            "123456789012"
        );
        assert_eq!(
            bedrock["Condition"]["ArnLike"]["aws:SourceArn"],
            format!("arn:aws:bedrock:{}:123456789012:*", cx.region)
        );
        for u in topic_key_uses(&cx) {
            let s = statement(&cx, &u);
            assert_eq!(
                s["Condition"]["StringEquals"]["aws:SourceAccount"],
                "123456789012"
            );
            assert!(
                s["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(":bedrock-usage-alerts")),
                "{s}"
            );
        }
        let listed = key_policy_statements(&cx);
        assert_eq!(listed.len(), 3);
        let services: Vec<String> = listed
            .iter()
            .flat_map(|(_, s)| s.iter().map(|st| st["Principal"]["Service"].to_string()))
            .collect();
        for needed in [
            "cloudwatch.amazonaws.com",
            "budgets.amazonaws.com",
            "bedrock.amazonaws.com",
        ] {
            assert!(
                services.iter().any(|s| s.contains(needed)),
                "{needed}: {services:?}"
            );
        }
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
            evaluate(
                &policy,
                "bedrock.amazonaws.com",
                KEY,
                &BUCKET_KEY,
                Value::Null
            ),
            KeyCheck::Granted
        );
        // Another service, or a Deny, grants nothing.
        assert!(matches!(
            evaluate(
                &policy,
                "logs.us-east-1.amazonaws.com",
                KEY,
                &BUCKET_KEY,
                Value::Null
            ),
            KeyCheck::Missing { .. }
        ));
        let deny = json!({"Statement": {"Effect": "Deny", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "kms:*", "Resource": "*"}});
        assert!(matches!(
            evaluate(
                &deny,
                "bedrock.amazonaws.com",
                KEY,
                &BUCKET_KEY,
                Value::Null
            ),
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
