//! The TOML model of `bedrock-monitor.toml`: defaults (docs/configuration.md), parsing with
//! `deny_unknown_fields`, and validation whose errors point at `file:line:column`.
//!
//! Validation runs before any AWS client is built, so a bad config never costs an AWS call.
//!
//! Each section's types and rules live in a child module named after it (`stack`, `logging`,
//! `alarms`, `budgets`, …), the types re-exported here; this module holds the whole [`Config`],
//! loading and parsing, the order the rules run in, and the errors.

pub mod actions;
pub mod alarms;
pub mod alerts;
pub mod attribution;
pub mod budgets;
pub mod chat;
pub mod dashboard;
pub mod limits;
pub mod limits_runner;
mod locate;
pub mod logging;
pub mod quotas;
pub mod rules;
pub mod spend;
pub mod stack;
pub mod targets;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use actions::BudgetActionConfig;
pub use alarms::{AlarmConfig, AlarmSpec, Endpoint, builtin_alarm_is_mantle, builtin_alarm_keys};
pub use alerts::AlertsConfig;
pub use attribution::{
    AnomalyDetectionConfig, CostAllocationConfig, CurAthenaConfig, CurExportConfig, ExportUri,
    InferenceProfileConfig, QueriesConfig, parse_export_uri,
};
pub use budgets::{BudgetConfig, BudgetNotification, MAX_BUDGET_NOTIFICATIONS, TagFilter};
pub use chat::ChatConfig;
pub use dashboard::DashboardConfig;
pub use limits::LimitConfig;
pub use limits_runner::LimitsRunnerConfig;
pub use locate::Location;
pub use logging::{
    BucketConfig, InvocationLoggingConfig, LogGroupConfig, RoleConfig, VALID_RETENTION_DAYS,
};
pub use quotas::QuotasConfig;
pub use spend::{PriceConfig, SpendConfig};
pub use stack::{AwsSettings, StackConfig};

/// The tag every taggable resource carries; its value is the stack name. `cleanup` deletes only
/// resources that carry it with this stack's name.
pub const STACK_TAG_KEY: &str = "bedrock-monitor:stack";

/// The tag on each application inference profile that records what it was copied from (the
/// configured `model`), since AWS does not report a profile's source: it is what a later plan
/// compares with the config.
pub const PROFILE_SOURCE_TAG_KEY: &str = "bedrock-monitor:source";

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
    /// Alarms at a share of each named model's Bedrock quota; `None`: none.
    pub quotas: Option<QuotasConfig>,
    /// Spend limits per person or team, enforced by `limits run --once`; empty: none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitConfig>,
    /// The limits runner's package and schedule; `None`: the defaults.
    pub limits_runner: Option<LimitsRunnerConfig>,
    /// Slack and Microsoft Teams channels for the alerts, and the spend digest; `None`: none.
    pub chat: Option<ChatConfig>,
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
            quotas: None,
            limits: Vec::new(),
            limits_runner: None,
            chat: None,
            targets: None,
        }
    }
}

impl Config {
    /// The stack tag plus the configured cost-allocation tags.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.stack.tags.clone();
        tags.insert(STACK_TAG_KEY.to_string(), self.stack.name.clone());
        tags
    }

    /// Whether the runner is deployed: it runs the limits pass (`[[limits]]`) and publishes
    /// the spend digest (`[chat] digest`); either alone is reason enough.
    pub fn wants_runner(&self) -> bool {
        !self.limits.is_empty() || self.digest_days().is_some()
    }

    /// The days each spend digest covers, when `[chat] digest` is set.
    pub fn digest_days(&self) -> Option<u32> {
        self.chat.as_ref().and_then(|c| c.digest_days())
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
    let mut config = parse_with(&text, &path.display().to_string(), region, more_rules)?;
    // `[limits_runner] package` is relative to the file's folder: resolved here, where the
    // file is known, so that `apply` (which has only the config) reads the right file.
    if let Some(runner) = config.limits_runner.as_mut() {
        runner.package = runner
            .package_path(Some(path))
            .map(|p| p.display().to_string());
    }
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
    check(&config, region, &mut checker);
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

/// The rules of every section, in the order of the sections; `region` is where the stack is
/// deployed, when known before connecting: rules that tie a value to the region (KMS keys) are
/// checked only then.
fn check(config: &Config, region: Option<&str>, c: &mut rules::Checker) {
    if let Some(region) = region {
        rules::check_key_regions(config, region, c);
    }
    stack::check(config, c);
    logging::check(config, c);
    dashboard::check(config, c);
    alerts::check(config, c);
    alarms::check(config, c);
    budgets::check(config, c);
    spend::check(config, c);
    attribution::check(config, c);
    actions::check(config, c);
    quotas::check(config, c);
    limits::check(config, c);
    limits_runner::check(config, c);
    chat::check(config, c);
    targets::check(config, c);
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
