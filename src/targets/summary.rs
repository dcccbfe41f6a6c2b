//! A command's result over its targets. A fleet of one shows its target's result as it is (text
//! or JSON); several are shown target by target, then a table of how each ended, and as JSON
//! `{"targets": [{"account", "region", ..., "error", "exit_code"}], ...}`. The run ends as its
//! worst target did.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::exit::ExitStatus;

use super::{Fleet, Skipped, Target, TargetOutcome};

/// What a command did to every target.
pub struct Summary<T> {
    stack: String,
    command: &'static str,
    single: bool,
    targets: Vec<TargetOutcome<(T, ExitStatus)>>,
    skipped: Vec<Skipped>,
    interrupted: bool,
    /// Figures across targets (report: grand totals).
    totals: Option<Value>,
}

impl<T> Summary<T> {
    /// The command's `outcomes` over `fleet`'s targets; `interrupted` when Ctrl-C stopped the
    /// run early.
    pub fn new(
        fleet: &Fleet,
        command: &'static str,
        outcomes: Vec<TargetOutcome<(T, ExitStatus)>>,
        interrupted: bool,
    ) -> Summary<T> {
        Summary {
            stack: fleet.config().stack.name.clone(),
            command,
            single: fleet.is_single(),
            targets: outcomes,
            skipped: fleet.skipped().to_vec(),
            interrupted,
            totals: None,
        }
    }

    /// Adds figures across targets, shown after the table (not for a fleet of one, whose
    /// result already is the total).
    pub fn with_totals(mut self, totals: Value) -> Summary<T> {
        self.totals = Some(totals);
        self
    }

    /// Whether this is a fleet of one's result (shown as it is).
    pub fn is_single(&self) -> bool {
        self.single
    }

    /// Each target's result, with the target.
    pub fn results(&self) -> impl Iterator<Item = (&Target, &T)> {
        self.targets
            .iter()
            .filter_map(|o| o.result.as_ref().ok().map(|(r, _)| (&o.target, r)))
    }

    /// How the run ends: interrupted above all, else the worst target's status (a target that
    /// failed to run counts as a failure).
    pub fn exit_status(&self) -> ExitStatus {
        if self.interrupted {
            return ExitStatus::Interrupted;
        }
        ExitStatus::worst(self.targets.iter().map(|o| match &o.result {
            Ok((_, status)) => *status,
            Err(_) => ExitStatus::Failure,
        }))
    }

    fn single_result(&self) -> Option<&T> {
        match self.targets.as_slice() {
            [only] if self.single => only.result.as_ref().ok().map(|(r, _)| r),
            _ => None,
        }
    }
}

impl<T: Serialize> Serialize for Summary<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let Some(only) = self.single_result() {
            return only.serialize(s);
        }
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|o| {
                let (result, error, status) = match &o.result {
                    Ok((value, status)) => (serde_json::to_value(value).ok(), None, *status),
                    Err(e) => (None, Some(e.clone()), ExitStatus::Failure),
                };
                let mut entry = match result {
                    Some(Value::Object(map)) => map,
                    _ => Map::new(),
                };
                entry.insert("account".into(), Value::String(o.target.account.clone()));
                entry.insert("region".into(), Value::String(o.target.region.clone()));
                entry.insert(
                    "error".into(),
                    error
                        .map(|e| Value::String(e.to_string()))
                        .unwrap_or(Value::Null),
                );
                entry.insert("exit_code".into(), Value::from(status.code()));
                Value::Object(entry)
            })
            .collect();
        let mut doc = Map::new();
        doc.insert("stack".into(), Value::String(self.stack.clone()));
        doc.insert("command".into(), Value::String(self.command.into()));
        doc.insert("targets".into(), Value::Array(targets));
        doc.insert(
            "skipped".into(),
            serde_json::to_value(&self.skipped).unwrap_or(Value::Null),
        );
        doc.insert("interrupted".into(), Value::Bool(self.interrupted));
        if let Some(totals) = &self.totals {
            doc.insert("totals".into(), totals.clone());
        }
        Value::Object(doc).serialize(s)
    }
}

impl<T: fmt::Display> fmt::Display for Summary<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(only) = self.single_result() {
            return only.fmt(f);
        }
        for o in &self.targets {
            writeln!(f, "== {} ==", o.target.label())?;
            match &o.result {
                Ok((value, _)) => writeln!(f, "{}", value.to_string().trim_end())?,
                Err(e) => writeln!(f, "error: {e}\n")?,
            }
            writeln!(f)?;
        }
        let mut table = comfy_table::Table::new();
        table
            .load_style(crate::ui::TABLE_STYLE)
            .force_no_tty()
            .set_header(vec!["Target", "Result"]);
        for o in &self.targets {
            let result = match &o.result {
                Err(e) => format!("failed: {}", first_line(&e.to_string())),
                Ok((_, ExitStatus::Success)) => "ok".into(),
                Ok((_, ExitStatus::Changes)) => "changes".into(),
                Ok((_, other)) => format!("exit {}", other.code()),
            };
            table.add_row(vec![o.target.label(), result]);
        }
        for s in &self.skipped {
            table.add_row(vec![s.account.clone(), format!("skipped: {}", s.reason)]);
        }
        writeln!(f, "{} over {} targets:", self.command, self.targets.len())?;
        writeln!(f, "{table}")?;
        if let Some(totals) = &self.totals {
            writeln!(f, "Totals across targets: {totals}")?;
        }
        let failed: Vec<String> = self
            .targets
            .iter()
            .filter(|o| o.result.is_err())
            .map(|o| o.target.label())
            .collect();
        if self.interrupted {
            writeln!(
                f,
                "Interrupted: targets not started are listed as such; run it again to finish."
            )?;
        } else if !failed.is_empty() {
            writeln!(
                f,
                "{} target(s) failed: {}. Run the command again: converged targets do nothing.",
                failed.len(),
                failed.join(", ")
            )?;
        }
        Ok(())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
