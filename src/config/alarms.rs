//! `[alarms]` with its rules (the values CloudWatch's `PutMetricAlarm` accepts): the built-in
//! alarms, the overrides and the user's own alarms, merged into [`AlarmSpec`]s.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::Checker;
use super::{Config, PathPart};

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

const COMPARISONS: &[&str] = &[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

fn statistic_ok(s: &str) -> bool {
    STATISTICS.contains(&s)
        || s.strip_prefix('p')
            .and_then(|n| n.parse::<f64>().ok())
            .is_some_and(|n| n > 0.0 && n < 100.0)
}

/// Why CloudWatch (or Bedrock's metrics) rule out `period` for an alarm, if they do.
/// PutMetricAlarm accepts 10, 20, 30 and multiples of 60; the first three are for
/// high-resolution metrics, and Bedrock publishes one-minute data, so such an alarm would see
/// no datapoint in most periods, lapse into INSUFFICIENT_DATA, and cost more.
pub fn alarm_period_problem(period: i32) -> Option<String> {
    match period {
        10 | 20 | 30 => Some(format!(
            "a {period}-second period is for high-resolution metrics; Bedrock publishes \
             one-minute data, so this alarm would mostly see no data (INSUFFICIENT_DATA) and \
             cost more as a high-resolution alarm: use 60 or a multiple of 60"
        )),
        p if p >= 60 && p % 60 == 0 => None,
        _ => Some(format!(
            "CloudWatch alarms do not accept a period of {period} seconds: use 60 or a multiple of 60"
        )),
    }
}

/// PutMetricAlarm's limit on how far back an alarm looks: period × evaluation periods at most
/// one day when the period is under an hour, at most seven days otherwise.
pub fn evaluation_span_problem(period: i32, evaluation_periods: i32) -> Option<String> {
    let span = i64::from(period) * i64::from(evaluation_periods);
    let (limit, what) = if period < 3600 {
        (86_400, "one day (86400 seconds) for periods under an hour")
    } else {
        (604_800, "seven days (604800 seconds)")
    };
    (span > limit).then(|| {
        format!(
            "period_seconds × evaluation_periods is {period} × {evaluation_periods} = {span} \
             seconds; CloudWatch allows at most {what}"
        )
    })
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let builtin: BTreeSet<&str> = builtin_alarm_keys().collect();
    for (key, a) in &config.alarms {
        let p = |field: &str| {
            vec![
                PathPart::Key("alarms".into()),
                PathPart::Key(key.clone()),
                PathPart::Key(field.into()),
            ]
        };
        if !builtin.contains(key.as_str()) {
            for (field, present) in [
                ("metric", a.metric.is_some()),
                ("statistic", a.statistic.is_some()),
                ("comparison", a.comparison.is_some()),
                ("threshold", a.threshold.is_some()),
            ] {
                if !present {
                    c.fail(
                        vec![PathPart::Key("alarms".into()), PathPart::Key(key.clone())],
                        format!(
                            "`{key}` is not a built-in alarm ({}), so it defines a new alarm and needs `{field}`",
                            builtin.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
        if a.endpoint.is_some() {
            c.check(
                !builtin.contains(key.as_str()),
                p("endpoint"),
                "a built-in alarm's endpoint is fixed (its metric exists only there); the Mantle \
                 endpoint has alarms of its own, mantle_high_input_tokens, \
                 mantle_high_error_rate and mantle_inference_spike",
            );
        }
        if let Some(name) = &a.name {
            c.check(
                !name.is_empty() && name.len() <= 255 && !name.chars().any(|ch| ch.is_control()),
                p("name"),
                format!("{name:?} is not a valid alarm name: use 1-255 printable characters"),
            );
        }
        if let Some(metric) = &a.metric {
            c.check(
                !metric.is_empty()
                    && metric.len() <= 255
                    && metric
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch)),
                p("metric"),
                format!("{metric:?} is not a metric name (for example \"OutputTokenCount\")"),
            );
        }
        if let Some(s) = &a.statistic {
            c.check(
                statistic_ok(s),
                p("statistic"),
                format!(
                    "{s:?} is not a statistic: use one of {} or a percentile like p99",
                    STATISTICS.join(", ")
                ),
            );
        }
        if let Some(cmp) = &a.comparison {
            c.check(
                COMPARISONS.contains(&cmp.as_str()),
                p("comparison"),
                format!(
                    "{cmp:?} is not a comparison: use one of {}",
                    COMPARISONS.join(", ")
                ),
            );
        }
        if let Some(problem) = a.period_seconds.and_then(alarm_period_problem) {
            c.fail(p("period_seconds"), problem);
        }
        if let Some(n) = a.evaluation_periods {
            c.check(
                n >= 1,
                p("evaluation_periods"),
                format!("{n} is out of range: an alarm evaluates at least 1 period"),
            );
        }
        if let Some(t) = a.threshold {
            c.check(
                t.is_finite() && t >= 0.0,
                p("threshold"),
                format!("{t} is negative: Bedrock metrics are counts and durations, so a threshold must be 0 or more"),
            );
        }
        if let Some(m) = &a.model_id {
            c.check(
                !m.trim().is_empty() && m.len() <= 1024,
                p("model_id"),
                "must be a model ID like \"anthropic.claude-3-haiku-20240307-v1:0\"",
            );
        }
        if let Some(name) = &a.inference_profile {
            c.check(
                a.endpoint != Some(Endpoint::Mantle) && !builtin_alarm_is_mantle(key),
                p("inference_profile"),
                "inference profiles are called through bedrock-runtime: a Mantle endpoint \
                 alarm cannot watch one (use model_id to watch one Mantle model)",
            );
            c.check(
                a.model_id.is_none(),
                p("inference_profile"),
                "set model_id or inference_profile, not both: both name the ModelId dimension",
            );
            c.check(
                config.profiles().iter().any(|pr| &pr.name == name),
                p("inference_profile"),
                format!("{name:?} is not the name of an [[inference_profiles]] entry"),
            );
        }
    }
    for spec in config.alarm_specs() {
        if alarm_period_problem(spec.period_seconds).is_some() || spec.evaluation_periods < 1 {
            continue; // already reported above
        }
        if let Some(problem) = evaluation_span_problem(spec.period_seconds, spec.evaluation_periods)
        {
            let set = config.alarms.get(&spec.key);
            let field = if set.is_some_and(|a| a.evaluation_periods.is_some()) {
                "evaluation_periods"
            } else {
                "period_seconds"
            };
            let mut at = vec![
                PathPart::Key("alarms".into()),
                PathPart::Key(spec.key.clone()),
            ];
            if set.is_some_and(|a| a.evaluation_periods.is_some() || a.period_seconds.is_some()) {
                at.push(PathPart::Key(field.into()));
            }
            c.fail(at, problem);
        }
    }
    let mut names = BTreeSet::new();
    for spec in config.alarm_specs() {
        if !names.insert(spec.name.clone()) {
            c.fail(
                vec![
                    PathPart::Key("alarms".into()),
                    PathPart::Key(spec.key.clone()),
                ],
                format!(
                    "alarm name {:?} is used by two alarms; give each a distinct `name`",
                    spec.name
                ),
            );
        }
    }
}
