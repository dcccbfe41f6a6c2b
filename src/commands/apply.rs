//! `apply`: plan, confirm, converge. Steps run as their dependencies finish; a failed step
//! blocks only its dependents; the summary says what to run to finish.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::cli::{ApplyArgs, OnError};
use crate::commands::{CommandError, ExitStatus, ReadThenWrite, Session, WriteRun};
use crate::engine::plan::{self, PlanReport};
use crate::engine::{ComponentId, Operation, Outcome, Step, StepReport, execute};
use crate::targets::{Needs, Prepared, Target};

#[derive(Debug, Serialize)]
pub struct ApplyReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub resources: Vec<StepReport>,
    /// True when Ctrl-C stopped the run early.
    pub interrupted: bool,
    /// Facts the user must act on (e.g. emails to confirm).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ApplyReport {
    fn all_succeeded(&self) -> bool {
        self.resources.iter().all(|r| r.outcome.is_success())
    }

    fn count(&self, outcome: Outcome) -> usize {
        self.resources
            .iter()
            .filter(|r| r.outcome == outcome)
            .count()
    }
}

impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self
            .resources
            .iter()
            .all(|r| r.outcome == Outcome::Unchanged)
        {
            writeln!(f, "No changes: the account matches the config.")?;
            for r in &self.resources {
                for (label, value) in &r.ids {
                    writeln!(f, "{} {label}: {value}", r.id.as_str())?;
                }
            }
            for n in &self.notes {
                writeln!(f, "note: {n}")?;
            }
            return Ok(());
        }
        for r in &self.resources {
            let style = match r.outcome {
                Outcome::Created | Outcome::Updated => console::Style::new().green(),
                Outcome::Unchanged | Outcome::Deleted => console::Style::new().dim(),
                _ => console::Style::new().red(),
            };
            writeln!(
                f,
                "{:<10} {:<40} {}",
                r.id.as_str(),
                r.name,
                style.apply_to(r.outcome.as_str())
            )?;
            if let Some(e) = &r.error {
                writeln!(f, "           error: {e}")?;
            }
            if let Some(reason) = &r.reason {
                writeln!(f, "           {reason}")?;
            }
            for (label, value) in &r.ids {
                writeln!(f, "           {label}: {value}")?;
            }
        }
        writeln!(f)?;
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        let summary = format!(
            "{} created, {} updated, {} unchanged",
            self.count(Outcome::Created),
            self.count(Outcome::Updated),
            self.count(Outcome::Unchanged)
        );
        if self.all_succeeded() && self.interrupted {
            writeln!(
                f,
                "Apply interrupted after every step had started; all of them finished: {summary}."
            )
        } else if self.all_succeeded() {
            writeln!(f, "Apply complete: {summary}.")
        } else {
            let unfinished: Vec<&str> = self
                .resources
                .iter()
                .filter(|r| !r.outcome.is_success())
                .map(|r| r.id.as_str())
                .collect();
            writeln!(
                f,
                "Apply {}: {summary}; not done: {}.\nRun `bedrock-monitor apply` again to finish (it picks up where this stopped).",
                if self.interrupted {
                    "interrupted"
                } else {
                    "incomplete"
                },
                unfinished.join(", ")
            )
        }
    }
}

/// One target planned: its context and steps, what it would change, and whether its logging
/// step runs (it does not when the user kept someone else's logging configuration).
struct Planned {
    p: Prepared,
    report: PlanReport,
    skip_logging: bool,
}

/// `apply` for one target: plan it, then converge it.
struct Apply<'a> {
    args: &'a ApplyArgs,
}

pub async fn run(session: &Session, args: &ApplyArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config_with_runner(&args.runner, true)?;
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    let retries = match args.on_error {
        OnError::Fail => 0,
        OnError::Retry(n) => n,
    };
    session
        .read_then_write(&fleet, &Apply { args }, args.yes, retries)
        .await
}

#[async_trait::async_trait]
impl ReadThenWrite for Apply<'_> {
    type Read = Planned;
    type Written = ApplyReport;
    const COMMAND: &'static str = "apply";
    const DECLINED: &'static str = "Nothing applied.";

    /// Reads `target` and diffs it against the config.
    async fn read(&self, run: &WriteRun<'_>, target: &Target) -> Result<Planned, CommandError> {
        let p = run
            .fleet
            .prepare_to_converge(target, run.progress.clone())
            .await
            .map_err(CommandError::from)?;
        p.cx.set_adopt_logging(self.args.adopt_logging);
        for id in crate::cli::adopted(&self.args.adopt) {
            p.cx.allow_adoption(id);
        }
        let report = plan::compute(&p.cx, &p.steps).await;
        Ok(Planned {
            p,
            report,
            skip_logging: false,
        })
    }

    fn changes(&self, planned: &Planned) -> usize {
        planned
            .report
            .resources
            .iter()
            .filter(|r| r.action != crate::engine::plan::PlanAction::Unchanged)
            .count()
    }

    /// The plan goes to stderr (stdout keeps the one result), also with --output json: CI
    /// logs show what is about to change.
    fn show(&self, run: &WriteRun<'_>, target: &Target, planned: &Planned) {
        let report = &planned.report;
        if !report.has_changes() {
            return;
        }
        match run.fleet.heading(target) {
            Some(heading) => run.printer.show(format!("== {heading} ==\n{report}\n")),
            None => run.printer.show(report),
        }
    }

    fn question(&self, run: &WriteRun<'_>, _total: usize) -> String {
        if run.fleet.is_single() {
            "Apply these changes?".into()
        } else {
            "Apply these changes to every target above?".into()
        }
    }

    /// An existing logging configuration of someone else's is replaced only when asked: with
    /// `--adopt-logging`, or when the user says so on a terminal (one question for every
    /// target that has one; a no keeps it and skips the logging step). Without a terminal the
    /// logging step itself refuses, naming the flag.
    async fn confirm_more(
        &self,
        run: &WriteRun<'_>,
        planned: &mut [&mut Planned],
        _answered: bool,
    ) -> Result<bool, CommandError> {
        if self.args.adopt_logging || !run.prompter.interactive {
            return Ok(true);
        }
        let mut foreign: Vec<&mut &mut Planned> = planned
            .iter_mut()
            .filter(|p| {
                p.report
                    .resources
                    .iter()
                    .any(|r| r.id == ComponentId::Logging && r.replaces_foreign)
            })
            .collect();
        if foreign.is_empty() {
            return Ok(true);
        }
        let question = match foreign.len() {
            1 if run.fleet.is_single() => {
                "Replace the existing invocation logging configuration?".to_string()
            }
            n => format!("Replace the existing invocation logging configuration in {n} targets?"),
        };
        let adopt = run.prompter.confirm(&question, "--adopt-logging")?;
        for p in foreign.iter_mut() {
            if adopt {
                p.p.cx.set_adopt_logging(true);
            } else {
                p.skip_logging = true;
            }
        }
        Ok(true)
    }

    /// Converges one planned target: nothing to do when the plan has no changes (its notes
    /// still matter: emails awaiting confirmation, values this endpoint could not compare).
    async fn write(
        &self,
        run: &WriteRun<'_>,
        _target: &Target,
        planned: Planned,
    ) -> (ApplyReport, ExitStatus) {
        let cx = &planned.p.cx;
        let steps = &planned.p.steps;
        if !planned.report.has_changes() {
            let notes = planned
                .report
                .resources
                .iter()
                .flat_map(|r| r.notes.iter().map(move |n| format!("{}: {n}", r.id)))
                .collect();
            let report = ApplyReport {
                stack: planned.report.stack.clone(),
                account: planned.report.account.clone(),
                region: planned.report.region.clone(),
                resources: planned
                    .report
                    .resources
                    .iter()
                    .map(|r| {
                        let mut report = unchanged_report(r.id, r.name.clone());
                        report.ids = cx.ids(r.id);
                        report
                    })
                    .collect(),
                interrupted: false,
                notes,
            };
            return (report, ExitStatus::Success);
        }
        let mut kept: Vec<StepReport> = Vec::new();
        if planned.skip_logging {
            kept.push(StepReport {
                ids: Default::default(),
                id: ComponentId::Logging,
                name: steps
                    .iter()
                    .find(|s| s.id() == ComponentId::Logging)
                    .map(|s| s.name(cx))
                    .unwrap_or_default(),
                outcome: Outcome::Skipped,
                changes: Vec::new(),
                error: None,
                blocked_by: Vec::new(),
                reason: Some(
                    "the existing configuration was kept; rerun with --adopt-logging to replace it"
                        .into(),
                ),
                attempts: 0,
            });
        }
        let run_steps: Vec<Arc<dyn Step>> = steps
            .iter()
            .filter(|s| !kept.iter().any(|k| k.id == s.id()))
            .cloned()
            .collect();
        let mut reports = execute(
            cx.clone(),
            run_steps,
            Operation::Apply,
            run.recovery.clone(),
            run.interrupt.clone(),
        )
        .await;
        reports.extend(kept);
        reports.sort_by_key(|r| steps.iter().position(|s| s.id() == r.id));
        for r in &mut reports {
            r.ids = cx.ids(r.id);
        }
        let report = ApplyReport {
            stack: cx.config.stack.name.clone(),
            account: cx.account.id.clone(),
            region: cx.region.clone(),
            notes: cx.take_notices(),
            resources: reports,
            interrupted: run.interrupt.is_set(),
        };
        let status = if report.interrupted {
            ExitStatus::Interrupted
        } else if report.all_succeeded() {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        };
        (report, status)
    }
}

fn unchanged_report(id: ComponentId, name: String) -> StepReport {
    StepReport {
        ids: Default::default(),
        id,
        name,
        outcome: Outcome::Unchanged,
        changes: Vec::new(),
        error: None,
        blocked_by: Vec::new(),
        reason: None,
        attempts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;

    fn report(id: ComponentId, outcome: Outcome) -> StepReport {
        StepReport {
            ids: Default::default(),
            id,
            name: id.as_str().to_string(),
            outcome,
            changes: Vec::new(),
            error: (outcome == Outcome::Failed).then(|| {
                AwsError::setup("bucket exists in us-west-2", "choose another `bucket.name`")
            }),
            blocked_by: if outcome == Outcome::Blocked {
                vec![ComponentId::Bucket]
            } else {
                Vec::new()
            },
            reason: (outcome == Outcome::Blocked)
                .then(|| "not attempted because bucket did not succeed".to_string()),
            attempts: 1,
        }
    }

    fn summary(resources: Vec<StepReport>, interrupted: bool) -> String {
        ApplyReport {
            stack: "s".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            resources,
            interrupted,
            notes: vec!["ops@example.com must click the link".into()],
        }
        .to_string()
    }

    #[test]
    fn summary_names_what_failed_and_how_to_finish() {
        let text = summary(
            vec![
                report(ComponentId::Role, Outcome::Created),
                report(ComponentId::Bucket, Outcome::Failed),
                report(ComponentId::Logging, Outcome::Blocked),
                report(ComponentId::Topic, Outcome::Unchanged),
            ],
            false,
        );
        assert!(text.contains("bucket exists in us-west-2"), "{text}");
        assert!(text.contains("choose another `bucket.name`"), "{text}");
        assert!(
            text.contains("not attempted because bucket did not succeed"),
            "{text}"
        );
        assert!(text.contains("not done: bucket, logging"), "{text}");
        assert!(text.contains("Run `bedrock-monitor apply` again"), "{text}");
        assert!(
            text.contains("note: ops@example.com must click the link"),
            "{text}"
        );
    }

    #[test]
    fn summary_of_an_interrupted_and_of_a_clean_run() {
        let text = summary(
            vec![
                report(ComponentId::Role, Outcome::Created),
                report(ComponentId::Logging, Outcome::Skipped),
            ],
            true,
        );
        assert!(text.contains("Apply interrupted"), "{text}");
        let text = summary(vec![report(ComponentId::Role, Outcome::Created)], false);
        assert!(text.contains("Apply complete: 1 created"), "{text}");
        assert!(!text.contains("again"), "{text}");
    }

    #[test]
    fn access_denied_names_the_principal_and_the_action() {
        let cx = crate::engine::Context::offline();
        let e = AwsError {
            operation: "iam:CreateRole".into(),
            code: Some("AccessDenied".into()),
            message: "User is not authorized".into(),
            hint: None,
            details: None,
        };
        let hint = cx.explain(e).hint.unwrap_or_default();
        assert!(
            hint.contains("arn:aws:iam::123456789012:user/test"),
            "{hint}"
        );
        assert!(hint.contains("iam:CreateRole"), "{hint}");
    }
}
