//! Targets above the engine: which (account, region) pairs a run covers, each with its own
//! credentials and its own step engine. A config without `[targets]` is a fleet of one: the
//! caller's credentials in one region. Every command runs through [`Fleet`], so one target and
//! many take the same path; this module owns resolving targets ([`resolve`]), credentials
//! ([`credentials`]: a role assumed once per account, refreshed by the SDK), bounded
//! concurrency and ordering ([`schedule`], and the account's logging role before its other
//! regions' logging steps), interruption, and the summary across targets ([`summary`]). It
//! knows no command: commands give it the work for one target and read the summary.

mod credentials;
mod fleet;
mod resolve;
mod schedule;
mod summary;

pub use fleet::{Fleet, FleetError, FleetOptions, Needs, Prepared};
pub use resolve::{Resolved, Skipped, resolve};
pub use schedule::{TargetError, TargetOutcome, run_all};
pub use summary::Summary;

use serde::Serialize;

use crate::engine::Scope;

/// One (account, region) the run works on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub account: String,
    pub region: String,
    /// The account's first region: account-wide components (the logging role, budgets, budget
    /// actions) run here only.
    #[serde(skip)]
    pub primary: bool,
    /// The caller's own account in its first region: the billing components (cost-allocation
    /// tags, anomaly detection, the CUR export) run here only.
    #[serde(skip)]
    pub payer: bool,
}

impl Target {
    pub fn label(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }

    /// Whether a component of `scope` runs in this target.
    pub fn runs(&self, scope: Scope) -> bool {
        if self.payer && !self.primary {
            // Added only for the billing components: the caller's account is not a target.
            return scope == Scope::Payer;
        }
        match scope {
            Scope::Account => self.primary,
            Scope::Payer => self.payer,
            Scope::Region => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ComponentId;

    /// The scope a component declares (its resource's `scope`).
    fn scope_of(id: ComponentId) -> Scope {
        crate::resources::all_steps()
            .into_iter()
            .find(|s| s.id() == id)
            .map(|s| s.scope())
            .unwrap_or(Scope::Region)
    }

    fn target(primary: bool, payer: bool) -> Target {
        Target {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            primary,
            payer,
        }
    }

    #[test]
    fn each_component_runs_where_its_scope_says() {
        let first = target(true, false);
        let second = target(false, false);
        let home = target(true, true);
        let billing_only = target(false, true);
        assert!(
            first.runs(scope_of(ComponentId::Role)) && !second.runs(scope_of(ComponentId::Role))
        );
        assert!(
            first.runs(scope_of(ComponentId::Budgets))
                && !second.runs(scope_of(ComponentId::Budgets))
        );
        assert!(
            first.runs(scope_of(ComponentId::LogGroup))
                && second.runs(scope_of(ComponentId::LogGroup))
        );
        assert!(
            !first.runs(scope_of(ComponentId::CurExport))
                && home.runs(scope_of(ComponentId::CurExport))
        );
        assert!(home.runs(scope_of(ComponentId::Role)));
        // The caller's account added for billing only gets nothing else.
        assert!(billing_only.runs(scope_of(ComponentId::AnomalyDetection)));
        for id in [
            ComponentId::Role,
            ComponentId::Bucket,
            ComponentId::Dashboard,
            ComponentId::Budgets,
        ] {
            assert!(!billing_only.runs(scope_of(id)), "{id}");
        }
    }
}
