//! `[alerts]` with its rules: the SNS topic alarms and budgets notify, and the addresses
//! subscribed to it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::{Checker, check_kms_key, email_ok, path};
use super::{Config, PathPart};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub topic_name: String,
    pub display_name: String,
    pub emails: Vec<String>,
    /// Whether alarms also notify the topic when they return to OK. CloudWatch runs an alarm's
    /// OK actions when it first leaves INSUFFICIENT_DATA, so with this on every new alarm sends
    /// one "OK" email at its first evaluation; off (the default, as in the common Terraform
    /// alarm modules), alarms notify only on ALARM.
    pub notify_ok: bool,
    /// A customer-managed KMS key for the topic's server-side encryption (the topic's
    /// `KmsMasterKeyId` attribute); none: messages are stored unencrypted.
    pub kms_key_arn: Option<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            topic_name: "bedrock-usage-alerts".into(),
            display_name: "Bedrock Usage Alerts".into(),
            emails: Vec::new(),
            notify_ok: false,
            kms_key_arn: None,
        }
    }
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let a = &config.alerts;
    c.check(
        !a.topic_name.is_empty()
            && a.topic_name.len() <= 256
            && a.topic_name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
        path(&["alerts", "topic_name"]),
        format!(
            "{:?} is not a valid SNS topic name: use 1-256 letters, digits, '-' and '_'",
            a.topic_name
        ),
    );
    c.check(
        a.display_name.chars().count() <= 100,
        path(&["alerts", "display_name"]),
        "must be at most 100 characters",
    );
    let mut seen = BTreeSet::new();
    for (i, email) in a.emails.iter().enumerate() {
        let p = vec![
            PathPart::Key("alerts".into()),
            PathPart::Key("emails".into()),
            PathPart::Index(i),
        ];
        c.check(
            email_ok(email),
            p.clone(),
            format!("{email:?} is not an email address (like \"ops@example.com\")"),
        );
        c.check(
            seen.insert(email.to_ascii_lowercase()),
            p,
            format!("{email:?} is listed twice"),
        );
    }
    if let Some(arn) = &a.kms_key_arn {
        check_kms_key(arn, path(&["alerts", "kms_key_arn"]), c);
    }
}
