//! `[limits_runner]`: the package the limits runner's Lambda function is made from, and how
//! often EventBridge Scheduler starts it. Pure like the rest of the config: whether the package
//! file qualifies is `runner::package`'s question, asked by the commands that use it.

use serde::{Deserialize, Serialize};

use super::rules::Checker;
use super::{Config, PathPart};

/// `interval_minutes` when not given: the and the design's five minutes, the time to
/// block's main term.
pub const DEFAULT_INTERVAL_MINUTES: u32 = 5;

/// The most minutes between passes. EventBridge Scheduler takes any positive whole number in a
/// `rate(value minutes)` expression ("Schedule types in EventBridge Scheduler", User Guide;
/// `CreateSchedule`'s `ScheduleExpression`), so this bound is the tool's own: the shortest
/// limit period is a day, and a runner that passes less than daily could let a whole period go
/// unenforced.
pub const MAX_INTERVAL_MINUTES: u32 = 1440;

/// `[limits_runner]`; absent: the defaults, and `apply` uploads the running binary when it
/// qualifies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsRunnerConfig {
    /// The executable to deploy as the function's `bootstrap` (relative paths are from the
    /// config file's folder); absent: the running binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Minutes between passes: the schedule's `rate(N minutes)`.
    pub interval_minutes: u32,
}

impl Default for LimitsRunnerConfig {
    fn default() -> Self {
        LimitsRunnerConfig {
            package: None,
            interval_minutes: DEFAULT_INTERVAL_MINUTES,
        }
    }
}

impl LimitsRunnerConfig {
    /// `package` as a path: a relative one is taken from the folder of the config file that
    /// names it (`config_file`; `None` for the built-in defaults, which name none).
    pub fn package_path(
        &self,
        config_file: Option<&std::path::Path>,
    ) -> Option<std::path::PathBuf> {
        let package = std::path::Path::new(self.package.as_deref()?);
        let folder = config_file.and_then(std::path::Path::parent);
        Some(match folder {
            Some(folder) if package.is_relative() => folder.join(package),
            _ => package.to_path_buf(),
        })
    }

    /// The schedule expression for `interval_minutes` (Scheduler's rate syntax: a positive
    /// whole number and `minute` or `minutes`).
    pub fn schedule_expression(&self) -> String {
        match self.interval_minutes {
            1 => "rate(1 minute)".to_string(),
            n => format!("rate({n} minutes)"),
        }
    }
}

/// The runner's execution role in `region`: IAM is global to an account, and an account may
/// run a runner in several regions, each with its own function, bucket and topic.
pub fn execution_role_name(stack: &str, region: &str) -> String {
    format!("{stack}-limits-runner-{region}")
}

/// The role EventBridge Scheduler starts the runner with, in `region`.
pub fn scheduler_role_name(stack: &str, region: &str) -> String {
    format!("{stack}-limits-schedule-{region}")
}

/// IAM role names are at most 64 characters (IAM API reference, `CreateRole`, `RoleName`),
/// as are Lambda function names given without an ARN (`CreateFunction`, `FunctionName`) and
/// Scheduler schedule names (`CreateSchedule`, `Name`).
const NAME_LIMIT: usize = 64;

/// The longest region name the runner's role names must leave room for: `us-isof-south-1`,
/// 15 characters, the longest in the AWS General Reference's "AWS Regions" list.
const LONGEST_REGION: usize = 15;

/// The longest stack name whose runner names fit in every region.
pub const MAX_STACK_NAME_WITH_LIMITS: usize =
    NAME_LIMIT - "-limits-schedule-".len() - LONGEST_REGION;

fn path(field: &str) -> Vec<PathPart> {
    vec![
        PathPart::Key("limits_runner".into()),
        PathPart::Key(field.into()),
    ]
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    if config.wants_runner() {
        let stack = &config.stack.name;
        c.check(
            stack.len() <= MAX_STACK_NAME_WITH_LIMITS,
            vec![PathPart::Key("stack".into()), PathPart::Key("name".into())],
            format!(
                "{stack:?} is too long for [[limits]] or [chat] digest: the runner's role \
                 {:?} must fit IAM's 64 characters in every region; use a stack name of at most \
                 {MAX_STACK_NAME_WITH_LIMITS} characters",
                scheduler_role_name(stack, "us-isof-south-1")
            ),
        );
    }
    let Some(runner) = &config.limits_runner else {
        return;
    };
    c.check(
        (1..=MAX_INTERVAL_MINUTES).contains(&runner.interval_minutes),
        path("interval_minutes"),
        format!(
            "{} is not a runner interval: use whole minutes from 1 to {MAX_INTERVAL_MINUTES} \
             (a day)",
            runner.interval_minutes
        ),
    );
    if let Some(package) = &runner.package {
        c.check(
            !package.trim().is_empty(),
            path("package"),
            "name the runner's executable (scripts/build-runner prints where it is), or remove \
             the key to deploy the running binary",
        );
    }
}
