//! A plan: every step read, and what applying would do to each (create / update / replace /
//! unchanged, with the fields that change). `plan` prints it; `apply` shows it, asks, then
//! converges what it read.

use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::engine::{ComponentId, Context, Diff, FieldChange, Foreign, Step, adoption};

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub id: ComponentId,
    pub name: String,
    /// `create`, `update`, `replace`, `delete`, `unchanged`, `not-managed` when the changes
    /// would touch resources this stack does not own (see [`adoption`]), or `unknown` when
    /// the read failed.
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

    pub fn errors(&self) -> impl Iterator<Item = &PlanEntry> {
        self.resources.iter().filter(|r| r.error.is_some())
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
                let diff = step.plan(cx).unwrap_or_else(Diff::unchanged);
                let mut entry = PlanEntry {
                    id: step.id(),
                    name: step.name(cx),
                    action: diff.action.as_str().into(),
                    changes: diff.changes,
                    notes: diff.notes,
                    error: None,
                };
                annotate(cx, &mut entry, &step.foreign(cx));
                entry
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

/// Marks a plan entry whose changes would touch resources this stack does not own: "exists,
/// not managed" with why and what adopts them, or a note that they are being adopted.
fn annotate(cx: &Context, entry: &mut PlanEntry, foreign: &[Foreign]) {
    if foreign.is_empty() || entry.action == "unchanged" || entry.error.is_some() {
        return;
    }
    let others = adoption::others(foreign);
    let untagged = adoption::untagged(foreign);
    if !others.is_empty() {
        entry.action = adoption::NOT_MANAGED_ACTION.into();
        entry.notes.push(format!(
            "{}; this stack never changes it, not even with {}",
            adoption::other_stack_text(cx, &others),
            adoption::flag(entry.id)
        ));
    }
    if untagged.is_empty() {
        return;
    }
    if cx.adopts(entry.id) {
        entry.notes.push(format!(
            "adopting {} ({}): {}; apply marks {} as this stack's with the changes below",
            adoption::list(&untagged),
            adoption::flag(entry.id),
            adoption::unmarked_text(cx, &untagged),
            if untagged.len() == 1 { "it" } else { "them" },
        ));
    } else {
        entry.action = adoption::NOT_MANAGED_ACTION.into();
        entry.notes.push(format!(
            "{}: apply leaves {} as {} unless you pass {} (or agree on a terminal); adopting makes the changes below",
            adoption::unmarked_text(cx, &untagged),
            if untagged.len() == 1 { "it" } else { "them" },
            if untagged.len() == 1 { "it is" } else { "they are" },
            adoption::flag(entry.id)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Foreign;

    fn cx() -> Context {
        Context::offline()
    }

    #[test]
    fn the_plan_shows_not_managed_until_adopted() {
        let cx = cx();
        let entry = || PlanEntry {
            id: ComponentId::Topic,
            name: "t".into(),
            action: "update".into(),
            changes: Vec::new(),
            notes: Vec::new(),
            error: None,
        };
        let foreign = [Foreign::new("topic t", None)];
        let mut e = entry();
        annotate(&cx, &mut e, &foreign);
        assert_eq!(e.action, adoption::NOT_MANAGED_ACTION);
        assert!(e.notes[0].contains("--adopt topic"), "{:?}", e.notes);
        cx.allow_adoption(ComponentId::Topic);
        let mut e = entry();
        annotate(&cx, &mut e, &foreign);
        assert_eq!(e.action, "update");
        assert!(e.notes[0].starts_with("adopting topic t"), "{:?}", e.notes);
        let mut e = entry();
        annotate(&cx, &mut e, &[Foreign::new("topic t", Some("other"))]);
        assert_eq!(e.action, adoption::NOT_MANAGED_ACTION);
        assert!(e.notes[0].contains("never changes it"), "{:?}", e.notes);
    }
}
