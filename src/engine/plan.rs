//! A plan: every step read, and what applying would do to each (create / update / replace /
//! unchanged, with the fields that change). `plan` prints it; `apply` shows it, asks, then
//! converges what it read.

use std::sync::Arc;

use serde::Serialize;

use crate::aws::AwsError;
use crate::engine::{ComponentId, Context, Diff, FieldChange, Step};

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
