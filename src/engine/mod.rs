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

/// The component table: each component's ID and the name users give `--keep` and `--adopt`
/// and see in `--output json`, in display order. Adding a component adds one line here (its
/// facts, such as where it runs, are declared by its resource: [`Resource::scope`]).
macro_rules! components {
    ($($variant:ident => $name:literal,)*) => {
        /// The components, by the names users give `--keep` and see in `--output json`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum ComponentId {
            $(
                #[serde(rename = $name)]
                $variant,
            )*
        }

        impl ComponentId {
            pub const ALL: &'static [ComponentId] = &[$(ComponentId::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ComponentId::$variant => $name,)*
                }
            }
        }
    };
}

components! {
    Role => "role",
    Bucket => "bucket",
    LogGroup => "log-group",
    Logging => "logging",
    Dashboard => "dashboard",
    Topic => "topic",
    Alarms => "alarms",
    Budgets => "budgets",
    InferenceProfiles => "inference-profiles",
    CostAllocationTags => "cost-allocation-tags",
    AnomalyDetection => "anomaly-detection",
    CurExport => "cur-export",
    Queries => "queries",
    BudgetActions => "budget-actions",
    LimitsRunner => "limits-runner",
    Chat => "chat",
}

/// Where a component runs in a fleet of (account, region) targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In every target region (the default).
    Region,
    /// Once per account, in its first region: IAM and Budgets are global to an account.
    Account,
    /// Once, in the caller's own (payer) account: what billing keeps account-wide or for the
    /// organization (cost-allocation tags, anomaly detection, the CUR export).
    Payer,
}

impl ComponentId {
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
        ComponentId::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
