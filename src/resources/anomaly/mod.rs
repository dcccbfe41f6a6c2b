//! `anomaly-detection`: Cost Anomaly Detection on Bedrock spend. Custom monitors cannot filter by
//! service, so the component keeps three things, all named `[anomaly_detection] name`:
//! a Cost Category whose rules are the tool's definition of Bedrock spend
//! ([`spend::cost_category_rules`]), a CUSTOM monitor on that category's Bedrock value, and a
//! subscription that alerts at the configured thresholds (IMMEDIATE to the SNS topic, whose
//! policy then lets `costalerts.amazonaws.com` publish; DAILY or WEEKLY digests to the emails).
//!
//! Cost Categories belong to the management (payer) or a standalone account. A monitor's
//! specification cannot change (UpdateAnomalyMonitor renames only): a changed one is replaced.
//! The tool never creates a DIMENSIONAL monitor (AWS allows one per dimension per account);
//! one that exists is named in the plan, since it watches Bedrock too.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::aws::AwsError;
use crate::engine::{
    ComponentId, Context, Diff, Foreign, Health, HealthLevel, Ownership, Permission, Resource,
};
use crate::resources::{foreign_by_tags, ownership_from_tags, tagged_by_stack};

mod plan;
mod read;
mod write;

pub struct AnomalyDetection;

#[derive(Debug, Clone)]
pub struct ObservedCategory {
    pub arn: String,
    /// `[{Value, Rule}]`, rules canonical.
    pub rules: Value,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ObservedMonitor {
    pub arn: String,
    pub monitor_type: String,
    pub specification: Value,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ObservedSubscription {
    pub arn: String,
    pub settings: Value,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct AnomalyState {
    pub category: Option<ObservedCategory>,
    pub monitor: Option<ObservedMonitor>,
    pub subscription: Option<ObservedSubscription>,
    /// DIMENSIONAL monitors in the account ("name (dimension)"), for the plan's note.
    pub dimensional: Vec<String>,
}

const UNKNOWN: &[&str] = &[
    "ResourceNotFoundException",
    "UnknownMonitorException",
    "UnknownSubscriptionException",
];

impl AnomalyDetection {
    pub(super) fn enabled(cx: &Context) -> bool {
        cx.config
            .anomaly_detection
            .as_ref()
            .is_some_and(|a| a.enabled)
    }

    pub(super) fn owned(cx: &Context, tags: &BTreeMap<String, String>) -> bool {
        matches!(ownership_from_tags(cx, tags), Ownership::Managed { .. })
    }
}

#[async_trait]
impl Resource for AnomalyDetection {
    type State = AnomalyState;

    fn id(&self) -> ComponentId {
        ComponentId::AnomalyDetection
    }

    /// An optional component: only when its section asks for it.
    fn configured(&self, config: &crate::config::Config) -> bool {
        config.anomaly_detection.is_some()
    }

    /// Billing keeps it for the payer account: once, in the caller's own account.
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Payer
    }

    fn name(&self, cx: &Context) -> String {
        cx.config.anomaly_name()
    }

    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::Topic]
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        Self::read_state(cx).await
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        Self::plan(cx, state)
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        Self::write(cx, state, diff).await
    }

    /// The category, monitor and subscription of the configured name that exist without this
    /// stack's tag (with the component switched off nothing is written to them).
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        if !Self::enabled(cx) {
            return Vec::new();
        }
        let name = cx.config.anomaly_name();
        [
            ("cost category", state.category.as_ref().map(|c| &c.tags)),
            ("anomaly monitor", state.monitor.as_ref().map(|m| &m.tags)),
            (
                "anomaly subscription",
                state.subscription.as_ref().map(|s| &s.tags),
            ),
        ]
        .into_iter()
        .filter_map(|(what, tags)| foreign_by_tags(cx, format!("{what} {name}"), tags?))
        .collect()
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let parts = [
            ("cost category", state.category.as_ref().map(|c| &c.tags)),
            ("monitor", state.monitor.as_ref().map(|m| &m.tags)),
            ("subscription", state.subscription.as_ref().map(|s| &s.tags)),
        ];
        let mut managed = Vec::new();
        let mut foreign = Vec::new();
        for (what, tags) in parts {
            match tags.map(|t| ownership_from_tags(cx, t)) {
                Some(Ownership::Managed { evidence }) => {
                    managed.push(format!("{what}: {evidence}"))
                }
                Some(Ownership::NotManaged { reason }) => foreign.push(format!("{what} {reason}")),
                _ => {}
            }
        }
        if managed.is_empty() && foreign.is_empty() {
            Ownership::Missing
        } else if managed.is_empty() {
            Ownership::NotManaged {
                reason: foreign.join("; "),
            }
        } else {
            Ownership::Managed {
                evidence: managed.join("; "),
            }
        }
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        let mut facts = Vec::new();
        if let Some(s) = &state.subscription {
            facts.push(Health {
                subject: cx.config.anomaly_name(),
                level: HealthLevel::Ok,
                detail: format!(
                    "alerts {} at {}",
                    s.settings["frequency"]
                        .as_str()
                        .unwrap_or("?")
                        .to_ascii_lowercase(),
                    s.settings["threshold"]
                ),
            });
        } else if Self::enabled(cx) {
            facts.push(Health {
                subject: cx.config.anomaly_name(),
                level: HealthLevel::Warning,
                detail: "no subscription: anomalies are detected but nobody is told; run `bedrock-monitor apply`".into(),
            });
        }
        facts
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let arns = |kind: &str| format!("arn:{}:ce::{}:{kind}/*", cx.partition(), cx.account.id);
        vec![
            // Listing and creating take no resource ARN.
            Permission::new(
                &[
                    "ce:ListCostCategoryDefinitions",
                    "ce:CreateCostCategoryDefinition",
                    "ce:GetAnomalyMonitors",
                    "ce:CreateAnomalyMonitor",
                    "ce:GetAnomalySubscriptions",
                    "ce:CreateAnomalySubscription",
                ],
                ["*".to_string()],
            ),
            // Reading any of them tells this stack's from others' (by tag).
            Permission::new(
                &[
                    "ce:DescribeCostCategoryDefinition",
                    "ce:ListTagsForResource",
                ],
                [
                    arns("costcategory"),
                    arns("anomalymonitor"),
                    arns("anomalysubscription"),
                ],
            ),
            // Their ARNs end in generated IDs: changes only to those with this stack's tag.
            Permission {
                condition: Some(tagged_by_stack(cx)),
                ..Permission::new(
                    &[
                        "ce:UpdateCostCategoryDefinition",
                        "ce:DeleteCostCategoryDefinition",
                        "ce:DeleteAnomalyMonitor",
                        "ce:UpdateAnomalySubscription",
                        "ce:DeleteAnomalySubscription",
                        "ce:TagResource",
                    ],
                    [
                        arns("costcategory"),
                        arns("anomalymonitor"),
                        arns("anomalysubscription"),
                    ],
                )
            },
            Permission::new(&["organizations:DescribeOrganization"], ["*".to_string()]),
        ]
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        Self::remove(cx, state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::expression;

    #[test]
    fn both_thresholds_must_be_crossed() {
        let mut config = crate::config::Config::default();
        config.anomaly_detection = Some(crate::config::AnomalyDetectionConfig {
            threshold_usd: Some(100.0),
            threshold_percent: Some(20.0),
            ..Default::default()
        });
        let cx = Context::new(
            config,
            crate::aws::test_account(),
            crate::aws::offline_clients(),
            std::sync::Arc::new(crate::engine::QuietProgress),
        );
        let t = AnomalyDetection::threshold_expression(&cx);
        assert_eq!(t["And"].as_array().map(Vec::len), Some(2), "{t}");
        assert!(t.to_string().contains("ANOMALY_TOTAL_IMPACT_PERCENTAGE"));
        // The expression survives the SDK round trip, so a converged subscription is unchanged.
        assert_eq!(expression::to_json(&expression::ce_expression(&t)), t);
    }
}
