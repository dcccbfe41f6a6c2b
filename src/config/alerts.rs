//! `[alerts]`: the SNS topic alarms and budgets notify, and the addresses subscribed to it.

use serde::{Deserialize, Serialize};

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
