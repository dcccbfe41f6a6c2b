//! `cleanup`: delete what this stack manages (its tag, marker or configured name proves it),
//! dependents first, and nothing else. Log data (bucket, log group) only with `--purge-data`.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::cli::CleanupArgs;
use crate::commands::{CommandError, ExitStatus, Session, apply::watch_ctrl_c};
use crate::engine::recovery::NonInteractive;
use crate::engine::{
    ComponentId, Context, Interrupt, Operation, Ownership, Progress, Recovery, Step, execute,
};
use crate::resources::{self, bucket::Bucket};
use crate::ui::is_interactive;
use crate::ui::progress::{Mode, UiProgress};
use crate::ui::prompt::{InteractiveRecovery, Prompter};

#[derive(Debug, Clone, Serialize)]
pub struct CleanupEntry {
    pub id: ComponentId,
    pub name: String,
    /// `deleted`, `kept`, `absent`, `not-managed`, or after a problem `failed`, `blocked`,
    /// `skipped`.
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AwsError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CleanupReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub resources: Vec<CleanupEntry>,
    pub interrupted: bool,
    /// What was left on purpose and how to remove it (e.g. a bucket kept without --purge-data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl CleanupReport {
    fn count(&self, action: &str) -> usize {
        self.resources.iter().filter(|r| r.action == action).count()
    }

    pub fn failed(&self) -> bool {
        self.resources.iter().any(|r| {
            matches!(
                r.action.as_str(),
                "failed" | "blocked" | "skipped" | "unknown"
            )
        })
    }
}

impl fmt::Display for CleanupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.resources {
            writeln!(f, "{:<10} {:<40} {}", r.id.as_str(), r.name, r.action)?;
            if let Some(reason) = &r.reason {
                writeln!(f, "           {reason}")?;
            }
            if let Some(e) = &r.error {
                writeln!(f, "           error: {e}")?;
            }
        }
        writeln!(f)?;
        if self.count("deleted") == 0 && !self.failed() {
            writeln!(f, "Nothing to delete.")?;
        } else {
            writeln!(
                f,
                "Cleanup {}: {} deleted, {} kept, {} not managed by this stack.",
                if self.failed() {
                    "incomplete"
                } else {
                    "complete"
                },
                self.count("deleted"),
                self.count("kept"),
                self.count("not-managed")
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        if self.failed() {
            writeln!(f, "Run `bedrock-monitor cleanup` again to finish.")?;
        }
        Ok(())
    }
}

fn entry(id: ComponentId, name: String, action: &str, reason: Option<String>) -> CleanupEntry {
    CleanupEntry {
        id,
        name,
        action: action.into(),
        reason,
        error: None,
    }
}

/// Reads every step and sorts them: what cleanup deletes, and an entry for each it leaves
/// (absent, not managed, kept and why, unreadable).
pub async fn classify(
    cx: &Context,
    steps: &[Arc<dyn Step>],
    keep: &[ComponentId],
    purge_data: bool,
) -> (Vec<CleanupEntry>, Vec<Arc<dyn Step>>) {
    let reads = futures::future::join_all(steps.iter().map(|s| s.refresh(cx))).await;

    let mut entries: Vec<CleanupEntry> = Vec::new();
    let mut doomed: Vec<Arc<dyn Step>> = Vec::new();
    for (step, read) in steps.iter().zip(reads) {
        let (id, name) = (step.id(), step.name(cx));
        if let Err(e) = read {
            entries.push(CleanupEntry {
                error: Some(e),
                ..entry(
                    id,
                    name,
                    "unknown",
                    Some("could not be read, so it was left alone".into()),
                )
            });
            continue;
        }
        match step.ownership(cx) {
            None | Some(Ownership::Missing) => entries.push(entry(id, name, "absent", None)),
            Some(Ownership::NotManaged { reason }) => entries.push(entry(
                id,
                name,
                "not-managed",
                Some(format!("left in place: {reason}")),
            )),
            Some(Ownership::Managed { .. }) if id == ComponentId::CostAllocationTags => {
                entries.push(entry(
                    id,
                    name,
                    "kept",
                    Some("activation is account-wide and shared with other tools and reports: the keys stay active (deactivate them in the Billing console if nothing uses them)".into()),
                ))
            }
            Some(Ownership::Managed { .. }) if keep.contains(&id) => {
                entries.push(entry(id, name, "kept", Some("--keep".into())))
            }
            Some(Ownership::Managed { .. })
                if matches!(id, ComponentId::Bucket | ComponentId::LogGroup)
                    && !purge_data =>
            {
                entries.push(entry(
                    id,
                    name,
                    "kept",
                    Some("holds the invocation logs: pass --purge-data to delete it".into()),
                ))
            }
            Some(Ownership::Managed { .. }) => doomed.push(step.clone()),
        }
    }

    (entries, doomed)
}

pub async fn run(session: &Session, args: &CleanupArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    if loaded.config.targets.is_some() {
        return crate::commands::fanout::cleanup(session, &loaded, args).await;
    }
    let interactive = is_interactive(session.globals.non_interactive);
    let prompter = Prompter { interactive };
    let progress = Arc::new(UiProgress::new(Mode::detect(session.printer.quiet)));
    let cx = session.connect(&loaded, progress.clone()).await?;
    cx.purge_data
        .store(args.purge_data, std::sync::atomic::Ordering::SeqCst);
    let steps = resources::steps_for(&cx.config);
    let (mut entries, doomed) = classify(&cx, &steps, &args.keep, args.purge_data).await;

    let mut report = CleanupReport {
        stack: cx.config.stack.name.clone(),
        account: cx.account.id.clone(),
        region: cx.region.clone(),
        resources: Vec::new(),
        interrupted: false,
        notes: Vec::new(),
    };
    if doomed.is_empty() {
        report.resources = entries;
        session.printer.result(&report)?;
        return Ok(if report.failed() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }

    if !session.printer.quiet {
        eprintln!("Cleanup will delete:");
        for s in &doomed {
            eprintln!("  - {:<10} {}", s.id().as_str(), s.name(&cx));
        }
        for e in entries.iter().filter(|e| e.action != "absent") {
            eprintln!(
                "and leave {} ({}): {}",
                e.id,
                e.name,
                e.reason.as_deref().unwrap_or(&e.action)
            );
        }
    }
    if !args.yes {
        let question = format!("Delete these {} components?", doomed.len());
        if !prompter.confirm(&question, "--yes")? {
            session.printer.note("Nothing deleted.");
            return Ok(ExitStatus::Success);
        }
        if doomed.iter().any(|s| s.id() == ComponentId::Bucket) {
            let versions = Bucket::count_versions(&cx).await?;
            let question = format!(
                "Permanently delete bucket {} and its {versions} object version{} (the log archive)?",
                cx.bucket_name(),
                if versions == 1 { "" } else { "s" }
            );
            if !prompter.confirm(&question, "--yes")? {
                session.printer.note("Nothing deleted.");
                return Ok(ExitStatus::Success);
            }
        }
    }

    let recovery: Arc<dyn Recovery> = if interactive {
        Arc::new(InteractiveRecovery {
            progress: progress.clone() as Arc<dyn Progress>,
        })
    } else {
        Arc::new(NonInteractive::new(0))
    };
    let interrupt = Interrupt::default();
    let watcher = watch_ctrl_c(interrupt.clone(), progress.clone());
    let outcomes = execute(
        cx.clone(),
        doomed,
        Operation::Delete,
        recovery,
        interrupt.clone(),
    )
    .await;
    watcher.abort();
    for o in outcomes {
        entries.push(CleanupEntry {
            id: o.id,
            name: o.name,
            action: o.outcome.as_str().into(),
            reason: o.reason,
            error: o.error,
        });
    }
    entries.sort_by_key(|e| steps.iter().position(|s| s.id() == e.id));
    report.resources = entries;
    report.interrupted = interrupt.is_set();
    report.notes = cx.take_notices();
    session.printer.result(&report)?;
    Ok(if report.interrupted {
        ExitStatus::Interrupted
    } else if report.failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
