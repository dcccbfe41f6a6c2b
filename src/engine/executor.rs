//! Runs steps as soon as what they wait for is done, independent steps concurrently. A failed
//! step blocks only what depends on it; the [`Recovery`] decides retry / skip / fail / abort.
//! An [`Interrupt`] (Ctrl-C) stops new steps from starting while running ones finish.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::aws::AwsError;
use crate::engine::{
    Action, ComponentId, Context, Decision, Diff, FailedStep, FieldChange, Recovery, Step,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Create or update, dependencies first.
    Apply,
    /// Delete, dependents first.
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Deleted,
    Failed,
    Blocked,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Deleted => "deleted",
            Outcome::Failed => "failed",
            Outcome::Blocked => "blocked",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn is_success(self) -> bool {
        matches!(
            self,
            Outcome::Created | Outcome::Updated | Outcome::Unchanged | Outcome::Deleted
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub id: ComponentId,
    pub name: String,
    #[serde(rename = "action")]
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AwsError>,
    /// For blocked or skipped steps: the failed or skipped steps they waited for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<ComponentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub attempts: u32,
    /// Identifiers of what the step manages (ARNs callers use), by label.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ids: std::collections::BTreeMap<String, String>,
}

/// Ctrl-C: set once, seen by the executor between steps.
#[derive(Clone)]
pub struct Interrupt {
    sender: Arc<watch::Sender<bool>>,
    receiver: watch::Receiver<bool>,
}

impl Default for Interrupt {
    fn default() -> Self {
        let (sender, receiver) = watch::channel(false);
        Interrupt {
            sender: Arc::new(sender),
            receiver,
        }
    }
}

impl Interrupt {
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.receiver.borrow()
    }

    pub async fn wait(&self) {
        let mut r = self.receiver.clone();
        // Err only when the sender is gone, which `self` prevents.
        let _ = r.wait_for(|set| *set).await;
    }
}

struct Finished {
    id: ComponentId,
    result: Result<Diff, AwsError>,
}

/// Run `steps` (one per component) and report each one's outcome, in the order given.
pub async fn execute(
    cx: Arc<Context>,
    steps: Vec<Arc<dyn Step>>,
    operation: Operation,
    recovery: Arc<dyn Recovery>,
    interrupt: Interrupt,
) -> Vec<StepReport> {
    let by_id: BTreeMap<ComponentId, Arc<dyn Step>> =
        steps.iter().map(|s| (s.id(), s.clone())).collect();
    let waits_for: BTreeMap<ComponentId, Vec<ComponentId>> = by_id
        .keys()
        .map(|&id| (id, predecessors(&by_id, id, operation)))
        .collect();

    let mut pending: BTreeSet<ComponentId> = by_id.keys().copied().collect();
    let mut done: BTreeMap<ComponentId, StepReport> = BTreeMap::new();
    let mut attempts: BTreeMap<ComponentId, u32> = BTreeMap::new();
    let mut running: JoinSet<Finished> = JoinSet::new();
    let mut stopped: Option<&'static str> = None;

    loop {
        if stopped.is_none() && interrupt.is_set() {
            stopped = Some("interrupted before it started");
        }
        // Resolve steps whose predecessors failed or were skipped; start the ready ones.
        if stopped.is_none() {
            loop {
                let mut progressed = false;
                for id in pending.clone() {
                    let preds = &waits_for[&id];
                    let bad: Vec<&StepReport> = preds
                        .iter()
                        .filter_map(|p| done.get(p))
                        .filter(|r| !r.outcome.is_success())
                        .collect();
                    if !bad.is_empty() {
                        let skipped = bad.iter().all(|r| r.outcome == Outcome::Skipped);
                        let blocked_by = bad.iter().map(|r| r.id).collect::<Vec<_>>();
                        let names = blocked_by
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ");
                        let report = StepReport {
                            ids: Default::default(),
                            id,
                            name: by_id[&id].name(&cx),
                            outcome: if skipped {
                                Outcome::Skipped
                            } else {
                                Outcome::Blocked
                            },
                            changes: Vec::new(),
                            error: None,
                            reason: Some(if skipped {
                                format!("skipped because {names} was skipped")
                            } else {
                                format!("not attempted because {names} did not succeed")
                            }),
                            blocked_by,
                            attempts: 0,
                        };
                        cx.progress.step_finished(
                            id,
                            report.reason.as_deref().unwrap_or_default(),
                            false,
                        );
                        done.insert(id, report);
                        pending.remove(&id);
                        progressed = true;
                    } else if preds.iter().all(|p| done.contains_key(p)) {
                        pending.remove(&id);
                        attempts.insert(id, 1);
                        spawn(&mut running, &cx, by_id[&id].clone(), operation, None);
                        progressed = true;
                    }
                }
                if !progressed {
                    break;
                }
            }
        }
        if running.is_empty() {
            break;
        }
        let finished = tokio::select! {
            joined = running.join_next() => joined,
            _ = interrupt.wait(), if stopped.is_none() => {
                stopped = Some("interrupted before it started");
                continue;
            }
        };
        let Some(joined) = finished else { break };
        let Finished { id, result } = match joined {
            Ok(f) => f,
            // Only cancellation gets here (panics are caught in the task); nothing cancels
            // step tasks, but if something did, start no new work.
            Err(_) => {
                stopped = Some("not started: a step ended abnormally");
                continue;
            }
        };
        let step = &by_id[&id];
        let attempt = attempts.get(&id).copied().unwrap_or(1);
        match result {
            Ok(diff) => {
                let outcome = match (operation, diff.action) {
                    (Operation::Delete, _) => Outcome::Deleted,
                    (Operation::Apply, Action::Create) => Outcome::Created,
                    (Operation::Apply, Action::Update | Action::Replace) => Outcome::Updated,
                    (Operation::Apply, _) => Outcome::Unchanged,
                };
                cx.progress.step_finished(id, outcome.as_str(), true);
                done.insert(
                    id,
                    StepReport {
                        ids: Default::default(),
                        id,
                        name: step.name(&cx),
                        outcome,
                        changes: diff.changes,
                        error: None,
                        blocked_by: Vec::new(),
                        reason: None,
                        attempts: attempt,
                    },
                );
            }
            Err(error) => {
                let failed = FailedStep {
                    id,
                    name: step.name(&cx),
                    error: error.clone(),
                    attempt,
                    dependents: dependents_of(&waits_for, id),
                };
                let decision = if stopped.is_some() {
                    Decision::Fail
                } else {
                    recovery.decide(&failed).await
                };
                let mut fail_with = |outcome: Outcome, reason: Option<String>| {
                    cx.progress.step_finished(id, &error.to_string(), false);
                    done.insert(
                        id,
                        StepReport {
                            ids: Default::default(),
                            id,
                            name: failed.name.clone(),
                            outcome,
                            changes: Vec::new(),
                            error: Some(error.clone()),
                            blocked_by: Vec::new(),
                            reason,
                            attempts: attempt,
                        },
                    );
                };
                match decision {
                    Decision::Retry(delay) if !interrupt.is_set() => {
                        attempts.insert(id, attempt + 1);
                        cx.progress
                            .step_note(id, &format!("{error}; retrying (attempt {})", attempt + 1));
                        spawn(&mut running, &cx, step.clone(), operation, Some(delay));
                    }
                    Decision::Adopt if !interrupt.is_set() => {
                        cx.allow_adoption(id);
                        attempts.insert(id, attempt + 1);
                        cx.progress.step_note(
                            id,
                            &format!("adopting what {} found (attempt {})", id, attempt + 1),
                        );
                        spawn(&mut running, &cx, step.clone(), operation, None);
                    }
                    Decision::Retry(_) | Decision::Adopt | Decision::Fail => {
                        fail_with(Outcome::Failed, None)
                    }
                    Decision::Skip => {
                        fail_with(Outcome::Skipped, Some("skipped after it failed".into()))
                    }
                    Decision::Abort => {
                        fail_with(Outcome::Failed, None);
                        stopped = Some("not started: the run was aborted");
                    }
                }
            }
        }
    }

    let reason = stopped.unwrap_or("not started");
    for id in pending {
        done.insert(
            id,
            StepReport {
                ids: Default::default(),
                id,
                name: by_id[&id].name(&cx),
                outcome: Outcome::Skipped,
                changes: Vec::new(),
                error: None,
                blocked_by: Vec::new(),
                reason: Some(reason.to_string()),
                attempts: 0,
            },
        );
    }
    steps.iter().filter_map(|s| done.remove(&s.id())).collect()
}

fn spawn(
    running: &mut JoinSet<Finished>,
    cx: &Arc<Context>,
    step: Arc<dyn Step>,
    operation: Operation,
    delay: Option<Duration>,
) {
    let cx = cx.clone();
    running.spawn(async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let id = step.id();
        let verb = match operation {
            Operation::Apply => "applying",
            Operation::Delete => "deleting",
        };
        cx.progress
            .step_started(id, &format!("{verb} {}", step.name(&cx)));
        let work = async {
            match operation {
                Operation::Apply => step.apply(&cx).await,
                Operation::Delete => step.delete(&cx).await.map(|()| Diff {
                    action: Action::Delete,
                    ..Diff::unchanged()
                }),
            }
        };
        // A bug that panics inside one step fails that step, like any error, instead of
        // losing it from the summary.
        let result = std::panic::AssertUnwindSafe(work)
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                Err(AwsError::setup(
                    format!("internal error: the {id} step panicked"),
                    "report this as a bug with the output of -v; run apply again to continue",
                ))
            });
        Finished { id, result }
    });
}

/// The steps that must finish before `id` starts.
fn predecessors(
    by_id: &BTreeMap<ComponentId, Arc<dyn Step>>,
    id: ComponentId,
    operation: Operation,
) -> Vec<ComponentId> {
    match operation {
        Operation::Apply => by_id[&id]
            .depends_on()
            .iter()
            .copied()
            .filter(|d| by_id.contains_key(d))
            .collect(),
        Operation::Delete => by_id
            .values()
            .filter(|s| s.depends_on().contains(&id))
            .map(|s| s.id())
            .collect(),
    }
}

/// Every step that waits, directly or not, on `id`.
fn dependents_of(
    waits_for: &BTreeMap<ComponentId, Vec<ComponentId>>,
    id: ComponentId,
) -> Vec<ComponentId> {
    let mut found = BTreeSet::new();
    let mut frontier = vec![id];
    while let Some(current) = frontier.pop() {
        for (&other, preds) in waits_for {
            if preds.contains(&current) && found.insert(other) {
                frontier.push(other);
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests;
