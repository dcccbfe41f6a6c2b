//! The step engine: resources as read / diff / apply / delete steps with dependencies, plans
//! made of field-level changes, and an executor that runs steps concurrently as their
//! dependencies finish. Nothing here knows about terminals: it asks a [`Recovery`] what to do on
//! failure and tells a [`Progress`] what happens.

pub mod adoption;
pub mod context;
pub mod diff;
pub mod executor;
pub mod plan;
pub mod recovery;
pub mod resource;

pub use adoption::Foreign;
pub use context::{Context, Outputs, Progress, QuietProgress};
pub use diff::{Action, Diff, FieldChange};
pub use executor::{Interrupt, Operation, Outcome, StepReport, execute};
pub use recovery::{Decision, FailedStep, Recovery, ScriptedRecovery};
pub use resource::{Health, HealthLevel, Node, Ownership, Permission, Resource, Step};

use std::fmt;

use serde::Serialize;

/// The components, by the names users give `--keep` and see in `--output json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentId {
    Role,
    Bucket,
    LogGroup,
    Logging,
    Dashboard,
    Topic,
    Alarms,
    Budgets,
    InferenceProfiles,
    CostAllocationTags,
    AnomalyDetection,
    CurExport,
    Queries,
    BudgetActions,
}

impl ComponentId {
    pub const ALL: [ComponentId; 14] = [
        ComponentId::Role,
        ComponentId::Bucket,
        ComponentId::LogGroup,
        ComponentId::Logging,
        ComponentId::Dashboard,
        ComponentId::Topic,
        ComponentId::Alarms,
        ComponentId::Budgets,
        ComponentId::InferenceProfiles,
        ComponentId::CostAllocationTags,
        ComponentId::AnomalyDetection,
        ComponentId::CurExport,
        ComponentId::Queries,
        ComponentId::BudgetActions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentId::Role => "role",
            ComponentId::Bucket => "bucket",
            ComponentId::LogGroup => "log-group",
            ComponentId::Logging => "logging",
            ComponentId::Dashboard => "dashboard",
            ComponentId::Topic => "topic",
            ComponentId::Alarms => "alarms",
            ComponentId::Budgets => "budgets",
            ComponentId::InferenceProfiles => "inference-profiles",
            ComponentId::CostAllocationTags => "cost-allocation-tags",
            ComponentId::AnomalyDetection => "anomaly-detection",
            ComponentId::CurExport => "cur-export",
            ComponentId::Queries => "queries",
            ComponentId::BudgetActions => "budget-actions",
        }
    }

    /// Whether `--adopt` means something for this component: it finds its resources by name
    /// and owns them by a tag (or marker) it can add. Not `logging` (one configuration per
    /// region, replaced with `--adopt-logging`), `cost-allocation-tags` (activations are
    /// account-wide and nobody's) nor `queries` (found in this stack's own folder).
    pub fn adoptable(self) -> bool {
        !matches!(
            self,
            ComponentId::Logging | ComponentId::CostAllocationTags | ComponentId::Queries
        )
    }

    pub fn parse(s: &str) -> Option<ComponentId> {
        ComponentId::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
