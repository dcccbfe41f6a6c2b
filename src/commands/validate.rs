//! `validate`: parse and check the config. No AWS call.

use std::fmt;

use serde::Serialize;

use crate::commands::{CommandError, ExitStatus, Session};

#[derive(Debug, Serialize)]
pub struct ValidateReport {
    pub valid: bool,
    pub config: String,
    pub stack: String,
    pub alarms: usize,
    pub budgets: usize,
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
        )
    }
}

pub fn run(session: &Session) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
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
    };
    session.printer.result(&report)?;
    Ok(ExitStatus::Success)
}
