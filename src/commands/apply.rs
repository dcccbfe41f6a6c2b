//! `apply`: plan, confirm, converge. Steps run as their dependencies finish; a failed step
//! blocks only its dependents; the summary says what to run to finish.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::cli::{ApplyArgs, OnError};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::plan::{self, PlanReport};
use crate::engine::recovery::NonInteractive;
use crate::engine::{
    ComponentId, Interrupt, Operation, Outcome, Progress, QuietProgress, Recovery, Step,
    StepReport, execute,
};
use crate::targets::{Fleet, Needs, Prepared, Summary, Target, TargetOutcome};
use crate::ui::interrupt::watch_ctrl_c;
use crate::ui::is_interactive;
use crate::ui::progress::{Mode, UiProgress};
use crate::ui::prompt::{InteractiveRecovery, Prompter};

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

/// What one `apply` run needs for every target.
struct Run<'a> {
    session: &'a Session,
    args: &'a ApplyArgs,
    fleet: &'a Fleet,
    prompter: Prompter,
    progress: Arc<dyn Progress>,
    recovery: Arc<dyn Recovery>,
    interrupt: Interrupt,
}

pub async fn run(session: &Session, args: &ApplyArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    let interactive = is_interactive(session.globals.non_interactive);
    // Spinners for one target; over many, each target's result says what happened.
    let spinners = fleet
        .is_single()
        .then(|| Arc::new(UiProgress::new(Mode::detect(session.printer.quiet))));
    let progress: Arc<dyn Progress> = match &spinners {
        Some(p) => p.clone(),
        None => Arc::new(QuietProgress),
    };
    // A failed step is a question only when one target runs on a terminal: questions from
    // targets running side by side could not say which target they are about.
    let recovery: Arc<dyn Recovery> = match &spinners {
        Some(p) if interactive => Arc::new(InteractiveRecovery {
            progress: p.clone() as Arc<dyn Progress>,
        }),
        _ => Arc::new(NonInteractive::new(match args.on_error {
            OnError::Fail => 0,
            OnError::Retry(n) => n,
        })),
    };
    let run = Run {
        session,
        args,
        fleet: &fleet,
        prompter: Prompter { interactive },
        progress,
        recovery,
        interrupt: Interrupt::default(),
    };
    let outcomes = if args.yes {
        run.plan_and_converge_each().await?
    } else {
        match run.plan_all_ask_once_converge().await? {
            Some(outcomes) => outcomes,
            None => {
                session.printer.note("Nothing applied.");
                return Ok(ExitStatus::Success);
            }
        }
    };
    let summary = Summary::new(&fleet, "apply", outcomes, run.interrupt.is_set());
    session.printer.result(&summary)?;
    Ok(summary.exit_status())
}

impl Run<'_> {
    /// `--yes`: nothing to ask, so each target plans and converges in one go, and only the
    /// targets in flight are held.
    async fn plan_and_converge_each(
        &self,
    ) -> Result<Vec<TargetOutcome<(ApplyReport, ExitStatus)>>, CommandError> {
        let watcher = watch_ctrl_c(self.interrupt.clone());
        let outcomes = self
            .fleet
            .run(self.fleet.targets(), &self.interrupt, |target| async move {
                let result = async {
                    let mut planned = self.plan(&target).await?;
                    self.show_plan(&target, &planned.report);
                    // Questions only with one target: see `recovery` in `run`.
                    if self.fleet.is_single() {
                        self.decide_logging(std::slice::from_mut(&mut planned))?;
                    }
                    Ok(self.converge(&target, &planned).await)
                }
                .await;
                // A target that could not be planned releases its account's other regions too.
                self.fleet.converged(&target);
                result
            })
            .await;
        watcher.abort();
        outcomes
    }

    /// Plans every target, shows the changes, asks once, then converges every target that
    /// was planned. `None` when the user said no.
    async fn plan_all_ask_once_converge(
        &self,
    ) -> Result<Option<Vec<TargetOutcome<(ApplyReport, ExitStatus)>>>, CommandError> {
        let planned = self
            .fleet
            .run(self.fleet.targets(), &self.interrupt, |target| async move {
                self.plan(&target).await
            })
            .await?;
        let mut outcomes = Vec::new();
        let mut ready: Vec<(Target, Planned)> = Vec::new();
        for o in planned {
            match o.result {
                Ok(p) => ready.push((o.target, p)),
                Err(e) => outcomes.push(TargetOutcome {
                    target: o.target,
                    result: Err(e),
                }),
            }
        }
        for (target, p) in &ready {
            self.show_plan(target, &p.report);
        }
        if ready.iter().any(|(_, p)| p.report.has_changes()) {
            let question = if self.fleet.is_single() {
                "Apply these changes?"
            } else {
                "Apply these changes to every target above?"
            };
            if !self.prompter.confirm(question, "--yes")? {
                return Ok(None);
            }
        }
        let mut planned: Vec<Planned> = Vec::new();
        let mut targets = Vec::new();
        for (target, p) in ready {
            targets.push(target);
            planned.push(p);
        }
        self.decide_logging(&mut planned)?;
        let by_label: std::collections::BTreeMap<String, Planned> =
            targets.iter().map(Target::label).zip(planned).collect();
        let watcher = watch_ctrl_c(self.interrupt.clone());
        let converged = self
            .fleet
            .run(&targets, &self.interrupt, |target| {
                let planned = by_label.get(&target.label());
                async move {
                    match planned {
                        Some(p) => Ok(self.converge(&target, p).await),
                        None => Err(CommandError::Target(format!(
                            "{} was not planned",
                            target.label()
                        ))),
                    }
                }
            })
            .await;
        watcher.abort();
        outcomes.extend(converged?);
        outcomes.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(Some(outcomes))
    }

    /// Reads `target` and diffs it against the config.
    async fn plan(&self, target: &Target) -> Result<Planned, CommandError> {
        let p = self
            .fleet
            .prepare_to_converge(target, self.progress.clone())
            .await
            .map_err(CommandError::Target)?;
        p.cx.set_adopt_logging(self.args.adopt_logging);
        let report = plan::compute(&p.cx, &p.steps).await;
        Ok(Planned {
            p,
            report,
            skip_logging: false,
        })
    }

    /// The plan goes to stderr (stdout keeps the one result), also with --output json: CI
    /// logs show what is about to change.
    fn show_plan(&self, target: &Target, report: &PlanReport) {
        if !report.has_changes() || self.session.printer.quiet {
            return;
        }
        match self.fleet.heading(target) {
            Some(heading) => eprintln!("== {heading} ==\n{report}"),
            None => eprint!("{report}"),
        }
    }

    /// An existing logging configuration of someone else's is replaced only when asked: with
    /// `--adopt-logging`, or when the user says so on a terminal (one question for every
    /// target that has one). Without a terminal the logging step itself refuses, naming the
    /// flag.
    fn decide_logging(&self, planned: &mut [Planned]) -> Result<(), CommandError> {
        if self.args.adopt_logging || !self.prompter.interactive {
            return Ok(());
        }
        let mut foreign: Vec<&mut Planned> = planned
            .iter_mut()
            .filter(|p| {
                p.report.resources.iter().any(|r| {
                    r.id == ComponentId::Logging
                        && r.notes.iter().any(|n| n.contains("--adopt-logging"))
                })
            })
            .collect();
        if foreign.is_empty() {
            return Ok(());
        }
        let question = match foreign.len() {
            1 if self.fleet.is_single() => {
                "Replace the existing invocation logging configuration?".to_string()
            }
            n => format!("Replace the existing invocation logging configuration in {n} targets?"),
        };
        let adopt = self.prompter.confirm(&question, "--adopt-logging")?;
        for p in foreign.iter_mut() {
            if adopt {
                p.p.cx.set_adopt_logging(true);
            } else {
                p.skip_logging = true;
            }
        }
        Ok(())
    }

    /// Converges one planned target: nothing to do when the plan has no changes (its notes
    /// still matter: emails awaiting confirmation, values this endpoint could not compare).
    async fn converge(&self, target: &Target, planned: &Planned) -> (ApplyReport, ExitStatus) {
        let cx = &planned.p.cx;
        let steps = &planned.p.steps;
        if !planned.report.has_changes() {
            self.fleet.converged(target);
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
            self.recovery.clone(),
            self.interrupt.clone(),
        )
        .await;
        self.fleet.converged(target);
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
            interrupted: self.interrupt.is_set(),
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
        let cx = crate::engine::Context::new(
            crate::config::Config::default(),
            crate::aws::test_account(),
            crate::aws::offline_clients(),
            std::sync::Arc::new(crate::engine::QuietProgress),
        );
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
