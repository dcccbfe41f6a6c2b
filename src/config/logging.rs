//! The invocation-logging pipeline: `[iam_role]` (the role Bedrock writes through), `[bucket]`,
//! `[log_group]` and `[invocation_logging]` (what Bedrock logs).

use serde::{Deserialize, Serialize};

/// Retention values CloudWatch Logs accepts for `PutRetentionPolicy`.
pub const VALID_RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RoleConfig {
    pub name: String,
    pub policy_name: String,
}

impl Default for RoleConfig {
    fn default() -> Self {
        RoleConfig {
            name: "BedrockCloudWatchLoggingRole".into(),
            policy_name: "BedrockCloudWatchLoggingPolicy".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BucketConfig {
    /// May contain `{account_id}` and `{region}`.
    pub name: String,
    pub key_prefix: String,
    pub expire_after_days: i32,
    pub noncurrent_expire_after_days: i32,
    pub kms_key_arn: Option<String>,
}

impl Default for BucketConfig {
    fn default() -> Self {
        BucketConfig {
            name: "bedrock-logs-{account_id}".into(),
            key_prefix: "bedrock/".into(),
            expire_after_days: 90,
            noncurrent_expire_after_days: 7,
            kms_key_arn: None,
        }
    }
}

impl BucketConfig {
    /// The bucket name with its placeholders filled in.
    pub fn resolved_name(&self, account_id: &str, region: &str) -> String {
        self.name
            .replace("{account_id}", account_id)
            .replace("{region}", region)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogGroupConfig {
    pub name: String,
    pub retention_days: i32,
    pub kms_key_arn: Option<String>,
}

impl Default for LogGroupConfig {
    fn default() -> Self {
        LogGroupConfig {
            name: "/aws/bedrock/modelinvocations".into(),
            retention_days: 30,
            kms_key_arn: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InvocationLoggingConfig {
    pub text: bool,
    pub image: bool,
    pub embedding: bool,
    pub video: bool,
    /// Audio bodies. Unset: whatever the account's configuration has is kept (set in the
    /// console, say); a new configuration starts with it off.
    pub audio: Option<bool>,
    pub large_data_to_s3: bool,
}

impl Default for InvocationLoggingConfig {
    fn default() -> Self {
        InvocationLoggingConfig {
            text: true,
            image: false,
            embedding: false,
            video: false,
            audio: None,
            large_data_to_s3: true,
        }
    }
}
