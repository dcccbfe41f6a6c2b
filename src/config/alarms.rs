//! `[alarms]`: the built-in alarms, the overrides and the user's own alarms, merged into
//! [`AlarmSpec`]s.

use serde::{Deserialize, Serialize};

use super::Config;

/// The Bedrock inference endpoint whose CloudWatch metrics an alarm (or a report row) reads:
/// `bedrock-runtime` (InvokeModel, Converse) publishes in `AWS/Bedrock` by `ModelId`; the Mantle
/// endpoint `bedrock-mantle` (the OpenAI- and Anthropic-compatible APIs) in `AWS/BedrockMantle`
/// by `Model`, with its own metric names (Bedrock user guide, "Monitor bedrock-mantle inference
/// using CloudWatch metrics").
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    #[default]
    Runtime,
    Mantle,
}

impl Endpoint {
    pub const fn namespace(self) -> &'static str {
        match self {
            Endpoint::Runtime => "AWS/Bedrock",
            Endpoint::Mantle => "AWS/BedrockMantle",
        }
    }

    /// The dimension that names the model. Mantle publishes each inference at the account,
    /// project, model and project+model levels; an alarm without it watches the account.
    pub const fn model_dimension(self) -> &'static str {
        match self {
            Endpoint::Runtime => "ModelId",
            Endpoint::Mantle => "Model",
        }
    }
}

/// One `[alarms.<key>]` table. For a built-in key every field is optional and overrides the
/// built-in value; a new key defines the user's own alarm and needs `metric`, `statistic`,
/// `comparison` and `threshold`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlarmConfig {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// `runtime` (the default) or `mantle`: which endpoint's metrics a custom alarm reads.
    pub endpoint: Option<Endpoint>,
    pub metric: Option<String>,
    pub statistic: Option<String>,
    pub period_seconds: Option<i32>,
    pub evaluation_periods: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub model_id: Option<String>,
    /// Watch the calls made through this `[[inference_profiles]]` entry (by name).
    pub inference_profile: Option<String>,
    pub description: Option<String>,
}

/// An alarm after built-in defaults and overrides are merged.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlarmSpec {
    pub key: String,
    pub name: String,
    pub enabled: bool,
    pub endpoint: Endpoint,
    pub metric: String,
    pub statistic: String,
    pub period_seconds: i32,
    pub evaluation_periods: i32,
    pub threshold: f64,
    pub comparison: String,
    pub model_id: Option<String>,
    /// A configured inference profile's name; its ID becomes the `ModelId` dimension.
    pub inference_profile: Option<String>,
    pub description: String,
}

struct BuiltinAlarm {
    key: &'static str,
    name: &'static str,
    endpoint: Endpoint,
    metric: &'static str,
    statistic: &'static str,
    period_seconds: i32,
    evaluation_periods: i32,
    threshold: f64,
    description: &'static str,
}

const BUILTIN_ALARMS: &[BuiltinAlarm] = &[
    BuiltinAlarm {
        key: "high_input_tokens",
        name: "Bedrock-HighInputTokenUsage",
        endpoint: Endpoint::Runtime,
        metric: "InputTokenCount",
        statistic: "Sum",
        period_seconds: 3600,
        evaluation_periods: 1,
        threshold: 100_000.0,
        description: "Bedrock input tokens in one hour above the threshold",
    },
    BuiltinAlarm {
        key: "high_error_rate",
        name: "Bedrock-HighErrorRate",
        endpoint: Endpoint::Runtime,
        metric: "InvocationClientErrors",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 10.0,
        description: "Bedrock client errors in five minutes above the threshold",
    },
    BuiltinAlarm {
        key: "invocation_spike",
        name: "Bedrock-UnusualInvocationSpike",
        endpoint: Endpoint::Runtime,
        metric: "Invocations",
        statistic: "Sum",
        period_seconds: 3600,
        evaluation_periods: 1,
        threshold: 1000.0,
        description: "Bedrock invocations in one hour above the threshold",
    },
    BuiltinAlarm {
        key: "high_latency",
        name: "Bedrock-HighLatency",
        endpoint: Endpoint::Runtime,
        metric: "InvocationLatency",
        statistic: "Average",
        period_seconds: 300,
        evaluation_periods: 2,
        threshold: 10_000.0,
        description: "Bedrock average invocation latency (ms) above the threshold",
    },
    BuiltinAlarm {
        key: "server_errors",
        name: "Bedrock-ServerErrors",
        endpoint: Endpoint::Runtime,
        metric: "InvocationServerErrors",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 5.0,
        description: "Bedrock server errors in five minutes above the threshold",
    },
    BuiltinAlarm {
        key: "throttles",
        name: "Bedrock-Throttles",
        endpoint: Endpoint::Runtime,
        metric: "InvocationThrottles",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 10.0,
        description: "Bedrock throttled invocations in five minutes above the threshold",
    },
    BuiltinAlarm {
        key: "log_delivery_failures",
        name: "Bedrock-InvocationLogDeliveryFailures",
        endpoint: Endpoint::Runtime,
        metric: "ModelInvocationLogsCloudWatchDeliveryFailure",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 0.0,
        description: "Bedrock invocation logs failed to reach CloudWatch Logs: logging is broken",
    },
    BuiltinAlarm {
        key: "s3_delivery_failures",
        name: "Bedrock-InvocationLogS3DeliveryFailures",
        endpoint: Endpoint::Runtime,
        metric: "ModelInvocationLogsS3DeliveryFailure",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 0.0,
        description: "Bedrock invocation logs failed to reach the S3 bucket (check the bucket policy and its KMS key)",
    },
    BuiltinAlarm {
        key: "large_data_delivery_failures",
        name: "Bedrock-InvocationLargeDataDeliveryFailures",
        endpoint: Endpoint::Runtime,
        metric: "ModelInvocationLargeDataS3DeliveryFailure",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 0.0,
        description: "Bedrock could not write large request or response bodies to the S3 bucket (check the role's policy and the bucket's KMS key)",
    },
    // The Mantle endpoint's twins of the token, error and traffic alarms: its calls are
    // counted only in AWS/BedrockMantle, under names of its own (TotalInputTokens,
    // InferenceClientErrors, Inferences). It publishes no latency, server-error or throttle
    // metric, so those alarms have no twin.
    BuiltinAlarm {
        key: "mantle_high_input_tokens",
        name: "Bedrock-Mantle-HighInputTokenUsage",
        endpoint: Endpoint::Mantle,
        metric: "TotalInputTokens",
        statistic: "Sum",
        period_seconds: 3600,
        evaluation_periods: 1,
        threshold: 100_000.0,
        description: "Bedrock Mantle endpoint input tokens in one hour above the threshold",
    },
    BuiltinAlarm {
        key: "mantle_high_error_rate",
        name: "Bedrock-Mantle-HighErrorRate",
        endpoint: Endpoint::Mantle,
        metric: "InferenceClientErrors",
        statistic: "Sum",
        period_seconds: 300,
        evaluation_periods: 1,
        threshold: 10.0,
        description: "Bedrock Mantle endpoint client errors in five minutes above the threshold",
    },
    BuiltinAlarm {
        key: "mantle_inference_spike",
        name: "Bedrock-Mantle-UnusualInferenceSpike",
        endpoint: Endpoint::Mantle,
        metric: "Inferences",
        statistic: "Sum",
        period_seconds: 3600,
        evaluation_periods: 1,
        threshold: 1000.0,
        description: "Bedrock Mantle endpoint inferences in one hour above the threshold",
    },
];

/// Whether `key` is one of the Mantle endpoint's built-in alarms.
pub fn builtin_alarm_is_mantle(key: &str) -> bool {
    BUILTIN_ALARMS
        .iter()
        .any(|a| a.key == key && a.endpoint == Endpoint::Mantle)
}

/// Keys of the built-in alarms, in the order they are created.
pub fn builtin_alarm_keys() -> impl Iterator<Item = &'static str> {
    BUILTIN_ALARMS.iter().map(|a| a.key)
}

impl Config {
    /// Built-in alarms merged with `[alarms.<key>]` overrides, then the user's own alarms.
    /// Call only on a validated config (custom alarms then have every required field).
    pub fn alarm_specs(&self) -> Vec<AlarmSpec> {
        let mut specs = Vec::new();
        for builtin in BUILTIN_ALARMS {
            let o = self.alarms.get(builtin.key).cloned().unwrap_or_default();
            specs.push(AlarmSpec {
                key: builtin.key.to_string(),
                name: o.name.unwrap_or_else(|| builtin.name.to_string()),
                enabled: o.enabled.unwrap_or(true),
                endpoint: builtin.endpoint,
                metric: o.metric.unwrap_or_else(|| builtin.metric.to_string()),
                statistic: o.statistic.unwrap_or_else(|| builtin.statistic.to_string()),
                period_seconds: o.period_seconds.unwrap_or(builtin.period_seconds),
                evaluation_periods: o.evaluation_periods.unwrap_or(builtin.evaluation_periods),
                threshold: o.threshold.unwrap_or(builtin.threshold),
                comparison: o
                    .comparison
                    .unwrap_or_else(|| "GreaterThanThreshold".to_string()),
                model_id: o.model_id,
                inference_profile: o.inference_profile,
                description: o
                    .description
                    .unwrap_or_else(|| builtin.description.to_string()),
            });
        }
        for (key, o) in &self.alarms {
            if BUILTIN_ALARMS.iter().any(|b| b.key == key) {
                continue;
            }
            let metric = o.metric.clone().unwrap_or_default();
            specs.push(AlarmSpec {
                key: key.clone(),
                name: o.name.clone().unwrap_or_else(|| format!("Bedrock-{key}")),
                enabled: o.enabled.unwrap_or(true),
                endpoint: o.endpoint.unwrap_or_default(),
                description: o.description.clone().unwrap_or_else(|| {
                    format!("{metric} (bedrock-monitor alarm `{key}`) crossed its threshold")
                }),
                metric,
                statistic: o.statistic.clone().unwrap_or_default(),
                period_seconds: o.period_seconds.unwrap_or(300),
                evaluation_periods: o.evaluation_periods.unwrap_or(1),
                threshold: o.threshold.unwrap_or_default(),
                comparison: o.comparison.clone().unwrap_or_default(),
                model_id: o.model_id.clone(),
                inference_profile: o.inference_profile.clone(),
            });
        }
        specs
    }
}
