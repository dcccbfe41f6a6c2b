//! `cleanup`: delete what this stack manages (its tag, marker or configured name proves it),
//! dependents first, and nothing else. Log data (bucket, log group) only with `--purge-data`.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::cli::CleanupArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::recovery::NonInteractive;
use crate::engine::{
    ComponentId, Context, Interrupt, Operation, Ownership, Progress, QuietProgress, Recovery, Step,
    execute,
};
use crate::resources::bucket::Bucket;
use crate::targets::{Fleet, Needs, Prepared, Summary, Target, TargetOutcome};
use crate::ui::interrupt::watch_ctrl_c;
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

/// One target's components, sorted into what cleanup leaves (with why) and what it deletes.
struct Classified {
    p: Prepared,
    entries: Vec<CleanupEntry>,
    doomed: Vec<Arc<dyn Step>>,
}

/// What one `cleanup` run needs for every target.
struct Run<'a> {
    session: &'a Session,
    args: &'a CleanupArgs,
    fleet: &'a Fleet,
    prompter: Prompter,
    progress: Arc<dyn Progress>,
    recovery: Arc<dyn Recovery>,
    interrupt: Interrupt,
}

pub async fn run(session: &Session, args: &CleanupArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    let interactive = is_interactive(session.globals.non_interactive);
    // Spinners and questions about failed steps for one target only (see `apply`).
    let spinners = fleet
        .is_single()
        .then(|| Arc::new(UiProgress::new(Mode::detect(session.printer.quiet))));
    let progress: Arc<dyn Progress> = match &spinners {
        Some(p) => p.clone(),
        None => Arc::new(QuietProgress),
    };
    let recovery: Arc<dyn Recovery> = match &spinners {
        Some(p) if interactive => Arc::new(InteractiveRecovery {
            progress: p.clone() as Arc<dyn Progress>,
        }),
        _ => Arc::new(NonInteractive::new(0)),
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
        run.classify_and_delete_each().await?
    } else {
        match run.classify_all_ask_once_delete().await? {
            Some(outcomes) => outcomes,
            None => {
                session.printer.note("Nothing deleted.");
                return Ok(ExitStatus::Success);
            }
        }
    };
    let summary = Summary::new(&fleet, "cleanup", outcomes, run.interrupt.is_set());
    session.printer.result(&summary)?;
    Ok(summary.exit_status())
}

impl Run<'_> {
    /// `--yes`: each target finds and deletes in one go.
    async fn classify_and_delete_each(
        &self,
    ) -> Result<Vec<TargetOutcome<(CleanupReport, ExitStatus)>>, CommandError> {
        let watcher = watch_ctrl_c(self.interrupt.clone());
        let outcomes = self
            .fleet
            .run(self.fleet.targets(), &self.interrupt, |target| async move {
                let classified = self.classify(&target).await?;
                self.show_doomed(&target, &classified);
                Ok::<_, CommandError>(self.delete(&classified).await)
            })
            .await;
        watcher.abort();
        outcomes
    }

    /// Finds what each target would delete, shows it, asks once (and once more before buckets
    /// with their log archives go), then deletes it everywhere. `None` when the user said no.
    async fn classify_all_ask_once_delete(
        &self,
    ) -> Result<Option<Vec<TargetOutcome<(CleanupReport, ExitStatus)>>>, CommandError> {
        let classified = self
            .fleet
            .run(self.fleet.targets(), &self.interrupt, |target| async move {
                self.classify(&target).await
            })
            .await?;
        let mut outcomes = Vec::new();
        let mut ready: Vec<(Target, Classified)> = Vec::new();
        for o in classified {
            match o.result {
                Ok(c) => ready.push((o.target, c)),
                Err(e) => outcomes.push(TargetOutcome {
                    target: o.target,
                    result: Err(e),
                }),
            }
        }
        for (target, c) in &ready {
            self.show_doomed(target, c);
        }
        let total: usize = ready.iter().map(|(_, c)| c.doomed.len()).sum();
        if total > 0 {
            let question = if self.fleet.is_single() {
                format!("Delete these {total} components?")
            } else {
                format!("Delete these {total} components across targets?")
            };
            if !self.prompter.confirm(&question, "--yes")? {
                return Ok(None);
            }
            if !self.confirm_buckets(&ready).await? {
                return Ok(None);
            }
        }
        let (targets, classified): (Vec<Target>, Vec<Classified>) = ready.into_iter().unzip();
        let by_label: std::collections::BTreeMap<String, Classified> =
            targets.iter().map(Target::label).zip(classified).collect();
        let watcher = watch_ctrl_c(self.interrupt.clone());
        let deleted = self
            .fleet
            .run(&targets, &self.interrupt, |target| {
                let classified = by_label.get(&target.label());
                async move {
                    match classified {
                        Some(c) => Ok(self.delete(c).await),
                        None => Err(CommandError::Target(format!(
                            "{} was not read",
                            target.label()
                        ))),
                    }
                }
            })
            .await;
        watcher.abort();
        outcomes.extend(deleted?);
        outcomes.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(Some(outcomes))
    }

    async fn classify(&self, target: &Target) -> Result<Classified, CommandError> {
        let p = self
            .fleet
            .prepare(target, self.progress.clone())
            .await
            .map_err(CommandError::Target)?;
        p.cx.purge_data
            .store(self.args.purge_data, std::sync::atomic::Ordering::SeqCst);
        let (entries, doomed) =
            classify(&p.cx, &p.steps, &self.args.keep, self.args.purge_data).await;
        Ok(Classified { p, entries, doomed })
    }

    /// What will go and what stays, on stderr.
    fn show_doomed(&self, target: &Target, c: &Classified) {
        if c.doomed.is_empty() || self.session.printer.quiet {
            return;
        }
        let heading = self.fleet.heading(target);
        if heading.is_none() {
            eprintln!("Cleanup will delete:");
        }
        for s in &c.doomed {
            match &heading {
                Some(label) => {
                    eprintln!("  - {label} {:<10} {}", s.id().as_str(), s.name(&c.p.cx))
                }
                None => eprintln!("  - {:<10} {}", s.id().as_str(), s.name(&c.p.cx)),
            }
        }
        if heading.is_none() {
            for e in c.entries.iter().filter(|e| e.action != "absent") {
                eprintln!(
                    "and leave {} ({}): {}",
                    e.id,
                    e.name,
                    e.reason.as_deref().unwrap_or(&e.action)
                );
            }
        }
    }

    /// Buckets hold the log archive: their deletion is a question of its own, naming how many
    /// object versions go with them.
    async fn confirm_buckets(&self, ready: &[(Target, Classified)]) -> Result<bool, CommandError> {
        let mut doomed_buckets = Vec::new();
        for (_, c) in ready {
            if c.doomed.iter().any(|s| s.id() == ComponentId::Bucket) {
                let versions = Bucket::count_versions(&c.p.cx).await?;
                doomed_buckets.push((c.p.cx.bucket_name(), versions));
            }
        }
        let plural = |n: u64| if n == 1 { "" } else { "s" };
        let question = match doomed_buckets.as_slice() {
            [] => return Ok(true),
            [(name, versions)] => format!(
                "Permanently delete bucket {name} and its {versions} object version{} (the log archive)?",
                plural(*versions)
            ),
            many => format!(
                "Permanently delete buckets {} (the log archives)?",
                many.iter()
                    .map(|(name, versions)| format!(
                        "{name} ({versions} object version{})",
                        plural(*versions)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Ok(self.prompter.confirm(&question, "--yes")?)
    }

    /// Deletes what [`Classified`] says is the stack's, and reports every component.
    async fn delete(&self, c: &Classified) -> (CleanupReport, ExitStatus) {
        let p = &c.p;
        let mut entries = c.entries.clone();
        if !c.doomed.is_empty() {
            let outcomes = execute(
                p.cx.clone(),
                c.doomed.clone(),
                Operation::Delete,
                self.recovery.clone(),
                self.interrupt.clone(),
            )
            .await;
            for o in outcomes {
                entries.push(CleanupEntry {
                    id: o.id,
                    name: o.name,
                    action: o.outcome.as_str().into(),
                    reason: o.reason,
                    error: o.error,
                });
            }
        }
        entries.sort_by_key(|e| p.steps.iter().position(|s| s.id() == e.id));
        let report = CleanupReport {
            stack: p.cx.config.stack.name.clone(),
            account: p.cx.account.id.clone(),
            region: p.cx.region.clone(),
            resources: entries,
            interrupted: self.interrupt.is_set(),
            notes: p.cx.take_notices(),
        };
        let status = if report.interrupted {
            ExitStatus::Interrupted
        } else if report.failed() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        };
        (report, status)
    }
}
