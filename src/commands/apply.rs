//! `apply`: plan, confirm, converge. Steps run as their dependencies finish; a failed step
//! blocks only its dependents; the summary says what to run to finish.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::cli::{ApplyArgs, OnError};
use crate::commands::{CommandError, ExitStatus, Session, plan};
use crate::engine::recovery::NonInteractive;
use crate::engine::{
    ComponentId, Interrupt, Operation, Outcome, Progress, Recovery, Step, StepReport, execute,
};
use crate::resources;
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

pub async fn run(session: &Session, args: &ApplyArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    if loaded.config.targets.is_some() {
        return crate::commands::fanout::apply(session, &loaded, args).await;
    }
    let interactive = is_interactive(session.globals.non_interactive);
    let progress = Arc::new(UiProgress::new(Mode::detect(session.printer.quiet)));
    let cx = session.connect(&loaded, progress.clone()).await?;
    cx.set_adopt_logging(args.adopt_logging);
    let steps = resources::steps_for(&cx.config);
    let prompter = Prompter { interactive };

    let planned = plan::compute(&cx, &steps).await;
    if !planned.has_changes() {
        // Still worth knowing when nothing changes: emails awaiting confirmation, values this
        // endpoint could not compare.
        let notes = planned
            .resources
            .iter()
            .flat_map(|r| r.notes.iter().map(move |n| format!("{}: {n}", r.id)))
            .collect();
        let report = ApplyReport {
            stack: planned.stack,
            account: planned.account,
            region: planned.region,
            resources: planned
                .resources
                .into_iter()
                .map(|r| {
                    let mut report = unchanged_report(r.id, r.name);
                    report.ids = cx.ids(r.id);
                    report
                })
                .collect(),
            interrupted: false,
            notes,
        };
        session.printer.result(&report)?;
        return Ok(ExitStatus::Success);
    }
    // The plan goes to stderr (stdout keeps the one result), also with --output json: CI logs
    // show what is about to change.
    if !session.printer.quiet {
        eprint!("{planned}");
    }
    if !args.yes && !prompter.confirm("Apply these changes?", "--yes")? {
        session.printer.note("Nothing applied.");
        return Ok(ExitStatus::Success);
    }

    // An existing logging configuration of someone else's is replaced only when asked.
    let mut excluded: Vec<StepReport> = Vec::new();
    let foreign_logging = planned.resources.iter().any(|r| {
        r.id == ComponentId::Logging && r.notes.iter().any(|n| n.contains("--adopt-logging"))
    });
    if foreign_logging && !args.adopt_logging {
        if interactive
            && prompter.confirm(
                "Replace the existing invocation logging configuration?",
                "--adopt-logging",
            )?
        {
            cx.set_adopt_logging(true);
        } else if interactive {
            excluded.push(StepReport {
                ids: Default::default(),
                id: ComponentId::Logging,
                name: steps
                    .iter()
                    .find(|s| s.id() == ComponentId::Logging)
                    .map(|s| s.name(&cx))
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
    }
    let run_steps: Vec<Arc<dyn Step>> = steps
        .iter()
        .filter(|s| !excluded.iter().any(|e| e.id == s.id()))
        .cloned()
        .collect();

    let recovery: Arc<dyn Recovery> = if interactive {
        Arc::new(InteractiveRecovery {
            progress: progress.clone() as Arc<dyn Progress>,
        })
    } else {
        Arc::new(NonInteractive::new(match args.on_error {
            OnError::Fail => 0,
            OnError::Retry(n) => n,
        }))
    };
    let interrupt = Interrupt::default();
    let watcher = watch_ctrl_c(interrupt.clone(), progress.clone());
    let mut reports = execute(
        cx.clone(),
        run_steps,
        Operation::Apply,
        recovery,
        interrupt.clone(),
    )
    .await;
    watcher.abort();
    reports.extend(excluded);
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
        interrupted: interrupt.is_set(),
    };
    session.printer.result(&report)?;
    Ok(if report.interrupted {
        ExitStatus::Interrupted
    } else if report.all_succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
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

/// First Ctrl-C: start no new steps, let running calls finish, print the summary. Second:
/// exit at once.
pub fn watch_ctrl_c(
    interrupt: Interrupt,
    progress: Arc<UiProgress>,
) -> tokio::task::JoinHandle<()> {
    // Subscribe now, not when the task first runs: a Ctrl-C right after this call must be
    // caught, not kill the process.
    let signals = Interrupts::listen();
    second_interrupt_exits();
    tokio::spawn(async move {
        let Some(mut signals) = signals else {
            return;
        };
        if !signals.next().await {
            return;
        }
        interrupt.trigger();
        // On Unix the signal handler has already said so (it runs even when this task is late).
        if cfg!(not(unix)) {
            progress.println(INTERRUPTED_MESSAGE.trim());
        }
        if signals.next().await {
            eprintln!("stopped at once; run the command again to finish");
            std::process::exit(ExitStatus::Interrupted.code());
        }
    })
}

const INTERRUPTED_MESSAGE: &str =
    "\ninterrupted: finishing the calls in flight, then stopping (Ctrl-C again to quit now)\n";

/// Ctrl-C is acknowledged and a second one exits at once, from the signal handler itself: the
/// async watcher may not have run between two quick Ctrl-Cs, and tokio delivers them as one.
#[cfg(unix)]
fn second_interrupt_exits() {
    use std::sync::Once;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static REGISTER: Once = Once::new();
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    REGISTER.call_once(|| {
        let handler = || {
            const STOPPED: &[u8] = b"stopped at once; run the command again to finish\n";
            // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffers are static.
            unsafe {
                if SEEN.fetch_add(1, Ordering::SeqCst) == 0 {
                    let first = INTERRUPTED_MESSAGE.as_bytes();
                    libc::write(2, first.as_ptr().cast(), first.len());
                } else {
                    libc::write(2, STOPPED.as_ptr().cast(), STOPPED.len());
                    libc::_exit(ExitStatus::Interrupted.code());
                }
            }
        };
        // SAFETY: the handler only touches an atomic and calls async-signal-safe functions.
        // If registering fails, the async watcher still handles Ctrl-C (the second one then
        // only when it is seen separately).
        let _ = unsafe { signal_hook_registry::register(libc::SIGINT, handler) };
    });
}

#[cfg(not(unix))]
fn second_interrupt_exits() {}

/// One subscription to SIGINT for the whole run, so that a second Ctrl-C arriving right after
/// the first is not lost between two listeners.
struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn listen() -> Option<Interrupts> {
        #[cfg(unix)]
        {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .ok()
                .map(|signal| Interrupts { signal })
        }
        #[cfg(not(unix))]
        {
            Some(Interrupts {})
        }
    }

    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            self.signal.recv().await.is_some()
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
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
