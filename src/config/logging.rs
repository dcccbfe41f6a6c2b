//! The invocation-logging pipeline with its rules: `[iam_role]` (the role Bedrock writes
//! through), `[bucket]`, `[log_group]` and `[invocation_logging]` (what Bedrock logs).

use serde::{Deserialize, Serialize};

use super::Config;
use super::rules::{Checker, bucket_name_problem, check_kms_key, path};

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

/// A stand-in account ID for checking a bucket name before the real one is known: every account
/// ID has exactly 12 digits, so the length check stays exact.
const SAMPLE_ACCOUNT_ID: &str = "123456789012";

pub(super) fn check(config: &Config, c: &mut Checker) {
    check_role(config, c);
    check_bucket(config, c);
    check_log_group(config, c);
}

fn iam_name_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@_-".contains(ch))
}

fn check_role(config: &Config, c: &mut Checker) {
    let r = &config.iam_role;
    c.check(
        iam_name_ok(&r.name, 64),
        path(&["iam_role", "name"]),
        format!(
            "{:?} is not a valid IAM role name: use 1-64 letters, digits and + = , . @ _ -",
            r.name
        ),
    );
    c.check(
        iam_name_ok(&r.policy_name, 128),
        path(&["iam_role", "policy_name"]),
        format!(
            "{:?} is not a valid IAM policy name: use 1-128 letters, digits and + = , . @ _ -",
            r.policy_name
        ),
    );
}

fn check_bucket(config: &Config, c: &mut Checker) {
    let b = &config.bucket;
    let without_placeholders = b.name.replace("{account_id}", "").replace("{region}", "");
    if without_placeholders.contains('{') || without_placeholders.contains('}') {
        c.fail(
            path(&["bucket", "name"]),
            format!(
                "{:?} has an unknown placeholder: only {{account_id}} and {{region}} are replaced",
                b.name
            ),
        );
    } else {
        let region = config.stack.region.as_deref().unwrap_or("us-east-1");
        let resolved = b.resolved_name(SAMPLE_ACCOUNT_ID, region);
        if let Some(rule) = bucket_name_problem(&resolved) {
            c.fail(
                path(&["bucket", "name"]),
                format!("{:?} is not a valid S3 bucket name: it {rule}", b.name),
            );
        }
    }
    let prefix = &b.key_prefix;
    c.check(
        prefix.is_empty()
            || (!prefix.starts_with('/') && prefix.ends_with('/') && prefix.len() <= 512),
        path(&["bucket", "key_prefix"]),
        format!(
            "{prefix:?} must be empty or a path like \"bedrock/\": no leading '/', ending in '/'"
        ),
    );
    c.check(
        !prefix.contains('*') && !prefix.contains('"') && !prefix.contains("//"),
        path(&["bucket", "key_prefix"]),
        format!("{prefix:?} must not contain '*', '\"' or '//'"),
    );
    c.check(
        b.expire_after_days >= 1,
        path(&["bucket", "expire_after_days"]),
        format!(
            "{} days: objects can expire after at least 1 day",
            b.expire_after_days
        ),
    );
    c.check(
        b.noncurrent_expire_after_days >= 1,
        path(&["bucket", "noncurrent_expire_after_days"]),
        format!(
            "{} days: noncurrent versions can expire after at least 1 day",
            b.noncurrent_expire_after_days
        ),
    );
    if let Some(arn) = &b.kms_key_arn {
        check_kms_key(arn, path(&["bucket", "kms_key_arn"]), c);
    }
}

fn check_log_group(config: &Config, c: &mut Checker) {
    let l = &config.log_group;
    c.check(
        !l.name.is_empty()
            && l.name.len() <= 512
            && l.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "._-/#".contains(ch))
            && !l.name.starts_with("aws/"),
        path(&["log_group", "name"]),
        format!(
            "{:?} is not a valid log group name: use 1-512 letters, digits and . _ - / #, not starting with \"aws/\"",
            l.name
        ),
    );
    c.check(
        VALID_RETENTION_DAYS.contains(&l.retention_days),
        path(&["log_group", "retention_days"]),
        format!(
            "CloudWatch Logs does not accept a retention of {} days; use one of {}",
            l.retention_days,
            VALID_RETENTION_DAYS
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    if let Some(arn) = &l.kms_key_arn {
        check_kms_key(arn, path(&["log_group", "kms_key_arn"]), c);
    }
}
