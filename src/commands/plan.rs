//! `plan`: read the account and show, per component, create / update (which fields) /
//! unchanged. Read-only.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::cli::PlanArgs;
use crate::commands::{CommandError, ExitStatus, Session, render_change};
use crate::engine::{ComponentId, Context, FieldChange, QuietProgress, Step};
use crate::resources;

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub id: ComponentId,
    pub name: String,
    /// `create`, `update`, `unchanged`, or `unknown` when the read failed.
    pub action: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AwsError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub resources: Vec<PlanEntry>,
}

impl PlanReport {
    pub fn count(&self, action: &str) -> usize {
        self.resources.iter().filter(|r| r.action == action).count()
    }

    pub fn has_changes(&self) -> bool {
        self.resources.iter().any(|r| r.action != "unchanged")
    }

    /// 1 when a component could not be read; with `--detailed-exitcode`, 2 for changes.
    pub fn exit_status(&self, detailed: bool) -> ExitStatus {
        if self.errors().next().is_some() {
            ExitStatus::Failure
        } else if detailed && self.has_changes() {
            ExitStatus::Changes
        } else {
            ExitStatus::Success
        }
    }

    pub fn errors(&self) -> impl Iterator<Item = &PlanEntry> {
        self.resources.iter().filter(|r| r.error.is_some())
    }
}

impl fmt::Display for PlanReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Plan for stack {:?} in account {} ({}):\n",
            self.stack, self.account, self.region
        )?;
        for r in &self.resources {
            let (sign, style) = match r.action.as_str() {
                "create" => ("+", console::Style::new().green()),
                "update" => ("~", console::Style::new().yellow()),
                "replace" => ("±", console::Style::new().red()),
                "unchanged" => ("=", console::Style::new().dim()),
                _ => ("!", console::Style::new().red()),
            };
            writeln!(
                f,
                "{} {:<10} {:<40} {}",
                style.apply_to(sign),
                r.id.as_str(),
                r.name,
                style.apply_to(&r.action)
            )?;
            let mut details = String::new();
            if r.action == "create" {
                let fields: Vec<&str> = r.changes.iter().map(|c| c.field.as_str()).collect();
                if !fields.is_empty() {
                    details.push_str(&format!("      sets {}\n", fields.join(", ")));
                }
            } else {
                for c in &r.changes {
                    render_change(&mut details, c, "      ");
                }
            }
            for n in &r.notes {
                details.push_str(&format!("      note: {n}\n"));
            }
            if let Some(e) = &r.error {
                details.push_str(&format!("      error: {e}\n"));
            }
            f.write_str(&details)?;
        }
        writeln!(f)?;
        if !self.has_changes() {
            writeln!(f, "No changes: the account matches the config.")
        } else {
            writeln!(
                f,
                "Plan: {} to create, {} to update, {}{} unchanged{}.",
                self.count("create"),
                self.count("update"),
                match self.count("replace") {
                    0 => String::new(),
                    n =>
                        format!("{n} to replace (new ARNs: callers of the old ones must switch), "),
                },
                self.count("unchanged"),
                match self.count("unknown") {
                    0 => String::new(),
                    n => format!(", {n} could not be read"),
                }
            )
        }
    }
}

/// Read every step concurrently and diff it against the config.
pub async fn compute(cx: &Arc<Context>, steps: &[Arc<dyn Step>]) -> PlanReport {
    let reads = futures::future::join_all(steps.iter().map(|s| s.refresh(cx))).await;
    let resources = steps
        .iter()
        .zip(reads)
        .map(|(step, read)| match read {
            Err(error) => PlanEntry {
                id: step.id(),
                name: step.name(cx),
                action: "unknown".into(),
                changes: Vec::new(),
                notes: Vec::new(),
                error: Some(error),
            },
            Ok(()) => {
                let diff = step.plan(cx).unwrap_or_else(crate::engine::Diff::unchanged);
                PlanEntry {
                    id: step.id(),
                    name: step.name(cx),
                    action: diff.action.as_str().into(),
                    changes: diff.changes,
                    notes: diff.notes,
                    error: None,
                }
            }
        })
        .collect();
    PlanReport {
        stack: cx.config.stack.name.clone(),
        account: cx.account.id.clone(),
        region: cx.region.clone(),
        resources,
    }
}

pub async fn run(session: &Session, args: &PlanArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    if loaded.config.targets.is_some() {
        return crate::commands::fanout::plan(session, &loaded, args).await;
    }
    let cx = session.connect(&loaded, Arc::new(QuietProgress)).await?;
    let steps = resources::steps_for(&cx.config);
    let report = compute(&cx, &steps).await;
    session.printer.result(&report)?;
    Ok(report.exit_status(args.detailed_exitcode))
}
