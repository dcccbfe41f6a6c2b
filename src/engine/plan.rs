//! A plan: every step read, and what applying would do to each (create / update / replace /
//! unchanged, with the fields that change). `plan` prints it; `apply` shows it, asks, then
//! converges what it read.

use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::engine::{Action, ComponentId, Context, Diff, FieldChange, Foreign, Step, adoption};

/// What applying would do to one component (the JSON `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanAction {
    Create,
    Update,
    Replace,
    Delete,
    Unchanged,
    /// The changes would touch resources this stack does not own (see [`adoption`]).
    NotManaged,
    /// The read failed.
    Unknown,
}

impl PlanAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanAction::Create => "create",
            PlanAction::Update => "update",
            PlanAction::Replace => "replace",
            PlanAction::Delete => "delete",
            PlanAction::Unchanged => "unchanged",
            PlanAction::NotManaged => "not-managed",
            PlanAction::Unknown => "unknown",
        }
    }
}

impl From<Action> for PlanAction {
    fn from(action: Action) -> PlanAction {
        match action {
            Action::Create => PlanAction::Create,
            Action::Update => PlanAction::Update,
            Action::Replace => PlanAction::Replace,
            Action::Delete => PlanAction::Delete,
            Action::Unchanged => PlanAction::Unchanged,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub id: ComponentId,
    pub name: String,
    pub action: PlanAction,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AwsError>,
    /// The changes replace a configuration someone else made (see [`Diff::replaces_foreign`]).
    #[serde(skip)]
    pub replaces_foreign: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub resources: Vec<PlanEntry>,
}

impl PlanReport {
    pub fn count(&self, action: PlanAction) -> usize {
        self.resources.iter().filter(|r| r.action == action).count()
    }

    pub fn has_changes(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.action != PlanAction::Unchanged)
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
                action: PlanAction::Unknown,
                changes: Vec::new(),
                notes: Vec::new(),
                error: Some(error),
                replaces_foreign: false,
            },
            Ok(()) => {
                let diff = step.plan(cx).unwrap_or_else(Diff::unchanged);
                let mut entry = PlanEntry {
                    id: step.id(),
                    name: step.name(cx),
                    action: diff.action.into(),
                    changes: diff.changes,
                    notes: diff.notes,
                    error: None,
                    replaces_foreign: diff.replaces_foreign,
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
    if foreign.is_empty() || entry.action == PlanAction::Unchanged || entry.error.is_some() {
        return;
    }
    let others = adoption::others(foreign);
    let untagged = adoption::untagged(foreign);
    if !others.is_empty() {
        entry.action = PlanAction::NotManaged;
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
        entry.action = PlanAction::NotManaged;
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
            action: PlanAction::Update,
            changes: Vec::new(),
            notes: Vec::new(),
            error: None,
            replaces_foreign: false,
        };
        let foreign = [Foreign::new("topic t", None)];
        let mut e = entry();
        annotate(&cx, &mut e, &foreign);
        assert_eq!(e.action, PlanAction::NotManaged);
        assert!(e.notes[0].contains("--adopt topic"), "{:?}", e.notes);
        cx.allow_adoption(ComponentId::Topic);
        let mut e = entry();
        annotate(&cx, &mut e, &foreign);
        assert_eq!(e.action, PlanAction::Update);
        assert!(e.notes[0].starts_with("adopting topic t"), "{:?}", e.notes);
        let mut e = entry();
        annotate(&cx, &mut e, &[Foreign::new("topic t", Some("other"))]);
        assert_eq!(e.action, PlanAction::NotManaged);
        assert!(e.notes[0].contains("never changes it"), "{:?}", e.notes);
    }
}
