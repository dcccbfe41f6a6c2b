//! `cleanup`: delete what this stack manages (its tag, marker or configured name proves it),
//! dependents first, and nothing else. Log data (bucket, log group) only with `--purge-data`,
//! and in a bucket only what the tool wrote there: the object versions under its prefix (the
//! question says how many, and whether the bucket goes too).

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::cli::CleanupArgs;
use crate::commands::{CommandError, ExitStatus, ReadThenWrite, Session, WriteRun};
use crate::engine::{ComponentId, Context, Operation, Outcome, Ownership, Step, execute};
use crate::resources::bucket::{Bucket, PurgeScope};
use crate::resources::cur_export::CurExport;
use crate::resources::ownership_from_tags;
use crate::targets::{Needs, Prepared, Target};

#[derive(Debug, Clone, Serialize)]
pub struct CleanupEntry {
    pub id: ComponentId,
    pub name: String,
    pub action: CleanupAction,
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

/// What cleanup did with one component (the JSON `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CleanupAction {
    Deleted,
    /// Left on purpose (`--keep`, data without `--purge-data`, what cannot be undone).
    Kept,
    Absent,
    NotManaged,
    /// Could not be read, so it was left alone.
    Unknown,
    Failed,
    /// Not attempted because something it depends on failed.
    Blocked,
    Skipped,
}

impl CleanupAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupAction::Deleted => "deleted",
            CleanupAction::Kept => "kept",
            CleanupAction::Absent => "absent",
            CleanupAction::NotManaged => "not-managed",
            CleanupAction::Unknown => "unknown",
            CleanupAction::Failed => "failed",
            CleanupAction::Blocked => "blocked",
            CleanupAction::Skipped => "skipped",
        }
    }

    /// What a delete step's outcome means for cleanup.
    fn of(outcome: Outcome) -> CleanupAction {
        match outcome {
            Outcome::Deleted => CleanupAction::Deleted,
            Outcome::Failed => CleanupAction::Failed,
            Outcome::Blocked => CleanupAction::Blocked,
            Outcome::Skipped => CleanupAction::Skipped,
            // A delete step reports nothing else; unchanged means there was nothing to delete.
            Outcome::Created | Outcome::Updated | Outcome::Unchanged => CleanupAction::Absent,
        }
    }
}

impl CleanupReport {
    fn count(&self, action: CleanupAction) -> usize {
        self.resources.iter().filter(|r| r.action == action).count()
    }

    pub fn failed(&self) -> bool {
        self.resources.iter().any(|r| {
            matches!(
                r.action,
                CleanupAction::Failed
                    | CleanupAction::Blocked
                    | CleanupAction::Skipped
                    | CleanupAction::Unknown
            )
        })
    }
}

impl fmt::Display for CleanupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.resources {
            writeln!(
                f,
                "{:<10} {:<40} {}",
                r.id.as_str(),
                r.name,
                r.action.as_str()
            )?;
            if let Some(reason) = &r.reason {
                writeln!(f, "           {reason}")?;
            }
            if let Some(e) = &r.error {
                writeln!(f, "           error: {e}")?;
            }
        }
        writeln!(f)?;
        if self.count(CleanupAction::Deleted) == 0 && !self.failed() {
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
                self.count(CleanupAction::Deleted),
                self.count(CleanupAction::Kept),
                self.count(CleanupAction::NotManaged)
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

fn entry(
    id: ComponentId,
    name: String,
    action: CleanupAction,
    reason: Option<String>,
) -> CleanupEntry {
    CleanupEntry {
        id,
        name,
        action,
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
                    CleanupAction::Unknown,
                    Some("could not be read, so it was left alone".into()),
                )
            });
            continue;
        }
        match step.ownership(cx) {
            None | Some(Ownership::Missing) => entries.push(entry(id, name, CleanupAction::Absent, None)),
            Some(Ownership::NotManaged { reason }) => entries.push(entry(
                id,
                name,
                CleanupAction::NotManaged,
                Some(format!("left in place: {reason}")),
            )),
            Some(Ownership::Managed { .. }) if id == ComponentId::CostAllocationTags => {
                entries.push(entry(
                    id,
                    name,
                    CleanupAction::Kept,
                    Some("activation is account-wide and shared with other tools and reports: the keys stay active (deactivate them in the Billing console if nothing uses them)".into()),
                ))
            }
            Some(Ownership::Managed { .. }) if keep.contains(&id) => {
                entries.push(entry(id, name, CleanupAction::Kept, Some("--keep".into())))
            }
            Some(Ownership::Managed { .. })
                if matches!(id, ComponentId::Bucket | ComponentId::LogGroup)
                    && !purge_data =>
            {
                entries.push(entry(
                    id,
                    name,
                    CleanupAction::Kept,
                    Some("holds the invocation logs: pass --purge-data to delete it".into()),
                ))
            }
            Some(Ownership::Managed { .. }) => doomed.push(step.clone()),
        }
    }

    (entries, doomed)
}

/// One target's components, sorted into what cleanup leaves (with why) and what it deletes,
/// and with `--purge-data` what it deletes from each bucket.
struct Classified {
    p: Prepared,
    entries: Vec<CleanupEntry>,
    doomed: Vec<Arc<dyn Step>>,
    purges: Vec<(ComponentId, PurgeScope)>,
}

/// What purging the doomed components' buckets deletes (the log bucket, the CUR export's).
async fn purge_scopes(
    cx: &Context,
    doomed: &[Arc<dyn Step>],
) -> Result<Vec<(ComponentId, PurgeScope)>, AwsError> {
    let mut scopes = Vec::new();
    for step in doomed {
        let spec = match step.id() {
            ComponentId::Bucket => Bucket::spec(cx)?,
            ComponentId::CurExport => CurExport::spec(cx)?,
            _ => continue,
        };
        // The CUR step is doomed for its export even when its bucket is someone else's:
        // that bucket is left alone.
        if step.id() == ComponentId::CurExport {
            let bucket = Bucket::read_bucket(cx, &spec).await?;
            let ours = bucket.as_ref().is_some_and(|b| {
                matches!(ownership_from_tags(cx, &b.tags), Ownership::Managed { .. })
            });
            if !ours {
                continue;
            }
        }
        scopes.push((step.id(), Bucket::purge_scope(cx, &spec).await?));
    }
    Ok(scopes)
}

/// `cleanup` for one target: find what is the stack's, then delete it.
struct Cleanup<'a> {
    args: &'a CleanupArgs,
}

pub async fn run(session: &Session, args: &CleanupArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    session
        .read_then_write(&fleet, &Cleanup { args }, args.yes, 0)
        .await
}

#[async_trait::async_trait]
impl ReadThenWrite for Cleanup<'_> {
    type Read = Classified;
    type Written = CleanupReport;
    const COMMAND: &'static str = "cleanup";
    const DECLINED: &'static str = "Nothing deleted.";

    async fn read(&self, run: &WriteRun<'_>, target: &Target) -> Result<Classified, CommandError> {
        let p = run
            .fleet
            .prepare(target, run.progress.clone())
            .await
            .map_err(CommandError::from)?;
        p.cx.purge_data
            .store(self.args.purge_data, std::sync::atomic::Ordering::SeqCst);
        let (entries, doomed) =
            classify(&p.cx, &p.steps, &self.args.keep, self.args.purge_data).await;
        let purges = if self.args.purge_data {
            purge_scopes(&p.cx, &doomed).await?
        } else {
            Vec::new()
        };
        Ok(Classified {
            p,
            entries,
            doomed,
            purges,
        })
    }

    fn changes(&self, c: &Classified) -> usize {
        c.doomed.len()
    }

    /// What will go and what stays, on stderr.
    fn show(&self, run: &WriteRun<'_>, target: &Target, c: &Classified) {
        if c.doomed.is_empty() {
            return;
        }
        use std::fmt::Write as _;
        let mut block = String::new();
        let heading = run.fleet.heading(target);
        if heading.is_none() {
            block.push_str("Cleanup will delete:\n");
        }
        for s in &c.doomed {
            let _ = match &heading {
                Some(label) => {
                    writeln!(
                        block,
                        "  - {label} {:<10} {}",
                        s.id().as_str(),
                        s.name(&c.p.cx)
                    )
                }
                None => writeln!(block, "  - {:<10} {}", s.id().as_str(), s.name(&c.p.cx)),
            };
            for (_, scope) in c.purges.iter().filter(|(id, _)| *id == s.id()) {
                let _ = writeln!(block, "      deletes {}", scope.describe());
            }
        }
        if heading.is_none() {
            for e in c
                .entries
                .iter()
                .filter(|e| e.action != CleanupAction::Absent)
            {
                let _ = writeln!(
                    block,
                    "and leave {} ({}): {}",
                    e.id,
                    e.name,
                    e.reason.as_deref().unwrap_or(e.action.as_str())
                );
            }
        }
        run.printer.show(block);
    }

    fn question(&self, run: &WriteRun<'_>, total: usize) -> String {
        if run.fleet.is_single() {
            format!("Delete these {total} components?")
        } else {
            format!("Delete these {total} components across targets?")
        }
    }

    /// Buckets hold the log archive: purging them is a question of its own, naming how many
    /// object versions go, under which prefix, and whether the bucket goes too (`--yes`
    /// answers it too).
    async fn confirm_more(
        &self,
        run: &WriteRun<'_>,
        classified: &mut [&mut Classified],
        answered: bool,
    ) -> Result<bool, CommandError> {
        if answered {
            return Ok(true);
        }
        let scopes: Vec<&PurgeScope> = classified
            .iter()
            .flat_map(|c| c.purges.iter().map(|(_, scope)| scope))
            .collect();
        let question = match scopes.as_slice() {
            [] => return Ok(true),
            [scope] => format!("Permanently delete {}?", scope.describe()),
            many => format!(
                "Permanently delete {}?",
                many.iter()
                    .map(|scope| scope.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        Ok(run.prompter.confirm(&question, "--yes")?)
    }

    /// Deletes what [`Classified`] says is the stack's, and reports every component.
    async fn write(
        &self,
        run: &WriteRun<'_>,
        _target: &Target,
        c: Classified,
    ) -> (CleanupReport, ExitStatus) {
        let p = &c.p;
        let mut entries = c.entries;
        if !c.doomed.is_empty() {
            let outcomes = execute(
                p.cx.clone(),
                c.doomed,
                Operation::Delete,
                run.recovery.clone(),
                run.interrupt.clone(),
            )
            .await;
            for o in outcomes {
                entries.push(CleanupEntry {
                    id: o.id,
                    name: o.name,
                    action: CleanupAction::of(o.outcome),
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
            interrupted: run.interrupt.is_set(),
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
