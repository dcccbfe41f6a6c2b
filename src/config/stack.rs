//! `[stack]` and `[aws]` with their rules: the stack's name, region and tags, and how patiently
//! the SDK calls AWS.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::{Checker, is_region, path, tag_problems};
use super::{Config, PathPart};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StackConfig {
    pub name: String,
    pub region: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Default for StackConfig {
    fn default() -> Self {
        StackConfig {
            name: "bedrock-monitor".into(),
            region: None,
            tags: BTreeMap::new(),
        }
    }
}

/// SDK retry and timeout settings: a provisioning tool waits longer than an interactive client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AwsSettings {
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_seconds: u64,
    pub operation_timeout_seconds: u64,
    pub attempt_timeout_seconds: u64,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            max_attempts: 8,
            initial_backoff_ms: 200,
            max_backoff_seconds: 20,
            operation_timeout_seconds: 120,
            attempt_timeout_seconds: 30,
        }
    }
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    check_stack(config, c);
    check_aws(config, c);
}

fn check_stack(config: &Config, c: &mut Checker) {
    let name = &config.stack.name;
    c.check(
        !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)),
        path(&["stack", "name"]),
        format!("{name:?} is not a valid stack name: use 1-128 letters, digits, '-', '_' or '.'"),
    );
    if let Some(region) = &config.stack.region {
        c.check(
            is_region(region),
            path(&["stack", "region"]),
            format!("{region:?} is not an AWS region name (for example \"us-east-1\")"),
        );
    }
    let at = vec![PathPart::Key("stack".into()), PathPart::Key("tags".into())];
    for problem in tag_problems(&config.stack.tags, &at) {
        c.push(problem);
    }
}

fn check_aws(config: &Config, c: &mut Checker) {
    let a = &config.aws;
    c.check(
        (1..=20).contains(&a.max_attempts),
        path(&["aws", "max_attempts"]),
        format!("{} is out of range: use 1 to 20 attempts", a.max_attempts),
    );
    c.check(
        a.initial_backoff_ms >= 1 && a.initial_backoff_ms <= 60_000,
        path(&["aws", "initial_backoff_ms"]),
        "must be between 1 and 60000 milliseconds",
    );
    c.check(
        a.max_backoff_seconds >= 1 && a.max_backoff_seconds <= 300,
        path(&["aws", "max_backoff_seconds"]),
        "must be between 1 and 300 seconds",
    );
    c.check(
        a.attempt_timeout_seconds >= 1,
        path(&["aws", "attempt_timeout_seconds"]),
        "must be at least 1 second",
    );
    c.check(
        a.operation_timeout_seconds >= a.attempt_timeout_seconds,
        path(&["aws", "operation_timeout_seconds"]),
        "must be at least aws.attempt_timeout_seconds",
    );
}
