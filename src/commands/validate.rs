//! `validate`: parse and check the config, and a file as the limits runner's package (`--runner`,
//! or `[limits_runner] package`). No AWS call.

use std::fmt;

use serde::Serialize;

use crate::cli::ValidateArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::config::Source;
use crate::runner::package::{self, Package};

#[derive(Debug, Serialize)]
pub struct ValidateReport {
    pub valid: bool,
    pub config: String,
    pub stack: String,
    pub alarms: usize,
    pub budgets: usize,
    /// With `--runner`: the file checked and what it is (only a file that qualifies gets here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner: Option<RunnerPackage>,
}

#[derive(Debug, Serialize)]
pub struct RunnerPackage {
    pub path: String,
    #[serde(flatten)]
    pub package: Package,
}

impl fmt::Display for ValidateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} is valid: stack {:?}, {} alarms, {} budget{}",
            self.config,
            self.stack,
            self.alarms,
            self.budgets,
            if self.budgets == 1 { "" } else { "s" }
        )?;
        if let Some(runner) = &self.runner {
            writeln!(
                f,
                "{} can be the limits runner's package: {}",
                runner.path, runner.package
            )?;
        }
        Ok(())
    }
}

pub fn run(session: &Session, args: &ValidateArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    // `--runner` checks what it names (or this binary); without it, `[limits_runner]
    // package` is checked when the config names one.
    let config_file = match &loaded.source {
        Source::File(path) => Some(path.as_path()),
        Source::Defaults => None,
    };
    let configured = loaded
        .config
        .limits_runner
        .as_ref()
        .and_then(|r| r.package_path(config_file));
    let runner = match (args.runner.clone(), configured) {
        (Some(None), _) => {
            let (path, package) = package::check_running_binary()?;
            Some(RunnerPackage {
                path: path.display().to_string(),
                package,
            })
        }
        (Some(Some(path)), _) | (None, Some(path)) => {
            let package = package::check(&path)?;
            Some(RunnerPackage {
                path: path.display().to_string(),
                package,
            })
        }
        (None, None) => None,
    };
    let report = ValidateReport {
        valid: true,
        config: loaded.source.to_string(),
        stack: loaded.config.stack.name.clone(),
        alarms: loaded
            .config
            .alarm_specs()
            .iter()
            .filter(|a| a.enabled)
            .count(),
        budgets: loaded.config.budgets.len(),
        runner,
    };
    session.printer.result(&report)?;
    Ok(ExitStatus::Success)
}
