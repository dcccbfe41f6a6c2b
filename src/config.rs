//! The TOML model of `bedrock-monitor.toml`: defaults (DESIGN.md section 3), parsing with
//! `deny_unknown_fields`, and validation whose errors point at `file:line:column`.
//!
//! Validation runs before any AWS client is built, so a bad config never costs an AWS call.

pub mod actions;
pub mod attribution;
mod locate;
pub mod rules;
pub mod targets;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use attribution::{
    AnomalyDetectionConfig, CostAllocationConfig, CurAthenaConfig, CurExportConfig,
    InferenceProfileConfig, QueriesConfig,
};
pub use locate::Location;

/// The tag every taggable resource carries; its value is the stack name. `cleanup` deletes only
/// resources that carry it with this stack's name.
pub const STACK_TAG_KEY: &str = "bedrock-monitor:stack";

/// The tag on each application inference profile that records what it was copied from (the
/// configured `model`), since AWS does not report a profile's source: it is what a later plan
/// compares with the config.
pub const PROFILE_SOURCE_TAG_KEY: &str = "bedrock-monitor:source";

/// Retention values CloudWatch Logs accepts for `PutRetentionPolicy`.
pub const VALID_RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub stack: StackConfig,
    pub aws: AwsSettings,
    pub iam_role: RoleConfig,
    pub bucket: BucketConfig,
    pub log_group: LogGroupConfig,
    pub invocation_logging: InvocationLoggingConfig,
    pub dashboard: DashboardConfig,
    pub alerts: AlertsConfig,
    /// Overrides of the built-in alarms (by key) and the user's own alarms (new keys).
    pub alarms: BTreeMap<String, AlarmConfig>,
    pub budgets: Vec<BudgetConfig>,
    /// Price overrides and additions, keyed by a model-ID substring.
    pub pricing: BTreeMap<String, PriceConfig>,
    /// What counts as Bedrock spend beyond the models (budgets, anomaly detection, the bill).
    pub spend: SpendConfig,
    /// Application inference profiles; `None` (no key): the component does not run.
    pub inference_profiles: Option<Vec<InferenceProfileConfig>>,
    pub cost_allocation: Option<CostAllocationConfig>,
    pub anomaly_detection: Option<AnomalyDetectionConfig>,
    pub cur_export: Option<CurExportConfig>,
    /// Saved Logs Insights queries; `None`: the component does not run (`query` works anyway).
    pub queries: Option<QueriesConfig>,
    /// Many accounts and regions in one run; `None`: the caller's account, one region.
    pub targets: Option<targets::TargetsConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stack: StackConfig::default(),
            aws: AwsSettings::default(),
            iam_role: RoleConfig::default(),
            bucket: BucketConfig::default(),
            log_group: LogGroupConfig::default(),
            invocation_logging: InvocationLoggingConfig::default(),
            dashboard: DashboardConfig::default(),
            alerts: AlertsConfig::default(),
            alarms: BTreeMap::new(),
            budgets: vec![BudgetConfig::default()],
            pricing: BTreeMap::new(),
            spend: SpendConfig::default(),
            inference_profiles: None,
            cost_allocation: None,
            anomaly_detection: None,
            cur_export: None,
            queries: None,
            targets: None,
        }
    }
}

/// `[spend]`: what "Bedrock spend" covers besides model inference.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SpendConfig {
    /// Count Amazon Bedrock AgentCore (agent runtime, memory, gateway: a service billed on its
    /// own) as Bedrock spend in budgets, budget actions, anomaly detection and the bill.
    pub include_agentcore: bool,
    /// Count credits and refunds in budgets: off by default, so a budget measures gross usage
    /// (AWS Budgets counts both unless the filter leaves them out, and credits spent on
    /// Bedrock would otherwise hold a budget near zero while usage grows).
    pub count_credits_and_refunds: bool,
}

impl Default for SpendConfig {
    fn default() -> Self {
        SpendConfig {
            include_agentcore: true,
            count_credits_and_refunds: false,
        }
    }
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    pub name: String,
    /// Empty: SEARCH expressions show every model. Otherwise one line per listed model.
    pub models: Vec<String>,
    pub period_seconds: i32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            name: "BedrockUsageMonitoring".into(),
            models: Vec::new(),
            period_seconds: 300,
        }
    }
}

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    pub name: String,
    pub limit_usd: f64,
    pub time_unit: String,
    pub tag_filter: Option<TagFilter>,
    /// `None`: the defaults for the period (see [`BudgetConfig::notifications`]).
    pub notifications: Option<Vec<BudgetNotification>>,
    /// `[budgets.action]`: deny Bedrock to these principals when the threshold is crossed.
    pub action: Option<BudgetActionConfig>,
}

/// A budget action that applies a policy denying Bedrock spend (opt-in): as an IAM policy on
/// named principals (`kind = "iam"`, `APPLY_IAM_POLICY`), or as a service control policy on
/// accounts and OUs of the organization (`kind = "scp"`, `APPLY_SCP_POLICY`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetActionConfig {
    pub threshold_percent: Option<f64>,
    pub threshold_usd: Option<f64>,
    /// `iam` (the default) or `scp`.
    pub kind: String,
    pub deny_roles: Vec<String>,
    pub deny_users: Vec<String>,
    pub deny_groups: Vec<String>,
    /// `kind = "scp"`: member accounts the service control policy is attached to.
    pub target_accounts: Vec<String>,
    /// `kind = "scp"`: organizational units it is attached to.
    pub target_ous: Vec<String>,
    /// `automatic`, or `manual` (someone approves it in the console or with
    /// `bedrock-monitor budget-action approve`).
    pub approval: String,
}

impl Default for BudgetActionConfig {
    fn default() -> Self {
        BudgetActionConfig {
            threshold_percent: None,
            threshold_usd: None,
            kind: "iam".into(),
            deny_roles: Vec::new(),
            deny_users: Vec::new(),
            deny_groups: Vec::new(),
            target_accounts: Vec::new(),
            target_ous: Vec::new(),
            approval: "manual".into(),
        }
    }
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            name: "BedrockUsageBudget".into(),
            limit_usd: 100.0,
            time_unit: "MONTHLY".into(),
            tag_filter: None,
            notifications: None,
            action: None,
        }
    }
}

/// The most notifications AWS Budgets accepts on one budget.
pub const MAX_BUDGET_NOTIFICATIONS: usize = 10;

impl BudgetConfig {
    /// The notifications this budget gets: the configured ones, or the defaults, 80 % actual
    /// and 100 % forecasted. AWS Budgets rejects forecasted notifications on DAILY budgets, so
    /// a daily budget's defaults are 80 % and 100 % actual instead.
    pub fn notifications(&self) -> Vec<BudgetNotification> {
        if let Some(configured) = &self.notifications {
            return configured.clone();
        }
        let second = if self.time_unit == "DAILY" {
            "ACTUAL"
        } else {
            "FORECASTED"
        };
        vec![
            BudgetNotification {
                kind: "ACTUAL".into(),
                threshold_percent: 80.0,
            },
            BudgetNotification {
                kind: second.into(),
                threshold_percent: 100.0,
            },
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TagFilter {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetNotification {
    #[serde(rename = "type")]
    pub kind: String,
    pub threshold_percent: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    /// Prompt-cache reads; without it, cache reads of the models this entry prices are
    /// reported unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_per_1k: Option<f64>,
    /// Prompt-cache writes with the default 5-minute lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_1k: Option<f64>,
    /// Prompt-cache writes with a 1-hour lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_per_1k: Option<f64>,
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

    /// The stack tag plus the configured cost-allocation tags.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.stack.tags.clone();
        tags.insert(STACK_TAG_KEY.to_string(), self.stack.name.clone());
        tags
    }
}

/// Where a config came from: a file, or the built-in defaults when the default file is absent.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Defaults,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Defaults => f.write_str("(built-in defaults)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub source: Source,
}

/// One problem found in a config, located in its file.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path of the offending field, e.g. `bucket.name` or `budgets[1].limit_usd`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: ", self.file, l, c)?,
            (Some(l), None) => write!(f, "{}:{}: ", self.file, l)?,
            _ => write!(f, "{}: ", self.file)?,
        }
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read config file {path}: {source}; check the path, or write one with `bedrock-monitor init --config {path}`"
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
}

fn render_problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&p.to_string());
    }
    out.push_str(&format!(
        "\n{} problem{} in the config; fix {} and run `bedrock-monitor validate` again",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        if problems.len() == 1 { "it" } else { "them" },
    ));
    out
}

/// The default config file name, looked up in the current directory.
pub const DEFAULT_CONFIG_FILE: &str = "bedrock-monitor.toml";

/// Load and validate a config. `explicit` is true when the user named the file: then a missing
/// file is an error; the default file may be absent, and then the built-in defaults apply.
/// `region` is the one `--region`/`AWS_REGION` chose, if any (it overrides `stack.region` in the
/// rules that depend on the region).
pub fn load(
    path: &Path,
    explicit: bool,
    region: Option<&str>,
) -> Result<LoadedConfig, ConfigError> {
    load_with(path, explicit, region, |_| Vec::new())
}

/// [`load`] with `more_rules`: rules that need knowledge above the config (the saved queries'
/// size with the `[pricing]` entries, say), checked with the config's own and reported the
/// same way, at the file, line and field they name.
pub fn load_with(
    path: &Path,
    explicit: bool,
    region: Option<&str>,
    more_rules: MoreRules,
) -> Result<LoadedConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(LoadedConfig {
                config: Config::default(),
                source: Source::Defaults,
            });
        }
        Err(e) => {
            return Err(ConfigError::Read {
                path: path.display().to_string(),
                source: e,
            });
        }
    };
    let config = parse_with(&text, &path.display().to_string(), region, more_rules)?;
    Ok(LoadedConfig {
        config,
        source: Source::File(path.to_path_buf()),
    })
}

/// Rules checked beside the config's own (see [`load`]).
pub type MoreRules = fn(&Config) -> Vec<Violation>;

/// Parse and validate config text; `file` names it in error messages.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    parse_in_region(text, file, None)
}

/// [`parse`] for a run in `region` (from `--region`/`AWS_REGION`; `None`: `stack.region`).
pub fn parse_in_region(
    text: &str,
    file: &str,
    region: Option<&str>,
) -> Result<Config, ConfigError> {
    parse_with(text, file, region, |_| Vec::new())
}

/// [`parse_in_region`] with [`MoreRules`].
pub fn parse_with(
    text: &str,
    file: &str,
    region: Option<&str>,
    more_rules: MoreRules,
) -> Result<Config, ConfigError> {
    let config: Config = match toml::from_str(text) {
        Ok(c) => c,
        Err(e) => {
            let loc = e
                .span()
                .map(|s| Location::from_offset(text, s.start))
                .unwrap_or_default();
            let field = locate::field_at(text, e.span().map(|s| s.start));
            return Err(ConfigError::Invalid(vec![Problem {
                file: file.to_string(),
                line: loc.line,
                column: loc.column,
                field,
                message: tidy_toml_message(e.message()),
            }]));
        }
    };
    let region = region.or(config.stack.region.as_deref());
    let mut checker = rules::Checker::new();
    rules::check(&config, region, &mut checker);
    attribution::check(&config, &mut checker);
    actions::check(&config, &mut checker);
    targets::check(&config, &mut checker);
    let mut violations = checker.into_violations();
    violations.extend(more_rules(&config));
    if violations.is_empty() {
        return Ok(config);
    }
    let locator = locate::Locator::new(text);
    let problems = violations
        .into_iter()
        .map(|v| {
            let loc = locator.find(&v.path, v.at_key);
            Problem {
                file: file.to_string(),
                line: loc.line,
                column: loc.column,
                field: v.field_name(),
                message: v.message,
            }
        })
        .collect();
    Err(ConfigError::Invalid(problems))
}

/// serde's messages mention Rust types; say it in TOML terms.
fn tidy_toml_message(message: &str) -> String {
    let m = message.trim().replace("invalid type: ", "wrong type: ");
    m.replace("a borrowed string", "a string")
        .replace("i32", "a whole number")
        .replace("u32", "a whole number")
        .replace("u64", "a whole number")
        .replace("f64", "a number")
}

/// A path into the config: table keys and array indexes.
#[derive(Debug, Clone, PartialEq)]
pub enum PathPart {
    Key(String),
    Index(usize),
}

/// A validation rule that a value breaks.
#[derive(Debug, Clone)]
pub struct Violation {
    pub path: Vec<PathPart>,
    pub message: String,
    /// Point at the key rather than its value (the key itself is wrong).
    pub at_key: bool,
}

impl Violation {
    pub fn field_name(&self) -> String {
        let mut out = String::new();
        for part in &self.path {
            match part {
                PathPart::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    if k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        out.push_str(k);
                    } else {
                        out.push_str(&format!("\"{k}\""));
                    }
                }
                PathPart::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

/// The commented starter config (`init` writes it; `config.example.toml` is the same text).
pub const EXAMPLE: &str = include_str!("../config.example.toml");

#[cfg(test)]
mod tests;

/// Why `region` (from `--region` or `AWS_REGION`) is not a region name, if it is not.
pub fn region_problem(region: &str) -> Option<&'static str> {
    (!rules::is_region(region)).then_some("not an AWS region name (for example \"us-east-1\")")
}
