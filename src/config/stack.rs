//! `[stack]` and `[aws]`: the stack's name, region and tags, and how patiently the SDK calls AWS.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
