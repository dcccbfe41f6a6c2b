//! `budgets`: one AWS Budgets cost budget per `[[budgets]]` entry over all Bedrock spend (the
//! definition in [`crate::cost::spend`]: first-party and Marketplace-billed models, optionally
//! narrowed to a cost-allocation tag value), with notifications to the alert topic only. The
//! topic forwards each alert to every configured email address, so each address gets it once
//! (a direct email subscriber as well would send it twice, and a notification takes at most 10
//! email subscribers).
//!
//! The filter is written as `FilterExpression`; a budget created by an earlier release with the
//! deprecated `CostFilters` (`Service = Amazon Bedrock`) reads as that legacy filter and is
//! updated in place, as is a `FilterExpression` edited in the console (shown as drift first).
//!
//! Not every endpoint serves every Budgets call: moto 5 answers
//! `DescribeSubscribersForNotification` and `ListTagsForResource` with HTTP 500. Those two reads
//! are optional here: they get one retry instead of the client's full retry budget, and when
//! they fail the subscribers (or tags) are simply not compared, with a note on the plan. An
//! unreadable value never causes a write. When tags are unreadable, ownership falls back to the
//! name the config gives.
//!
//! A budget the config no longer lists is not deleted by `apply`: without a readable tag on every
//! endpoint this step cannot tell it apart from someone else's budget (cleanup handles deletion
//! of the configured ones).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_budgets::types::{Metric, Notification, Subscriber, TimePeriod};
use serde_json::Value;

use crate::aws::{AwsError, AwsResultExt};
use crate::config::BudgetConfig;
use crate::engine::{
    Action, ComponentId, Context, Diff, Foreign, Health, HealthLevel, Ownership, Permission,
    Resource,
};
use crate::resources::{absent_if, foreign_by_tags, ownership_from_tags};

mod plan;
mod read;
mod write;

use plan::plan_budget;
use read::read_budget;
use write::run_write;

pub struct Budgets;

/// Ownership evidence when the endpoint does not let us read a budget's tags.
pub const NAME_EVIDENCE: &str =
    "name from the config (budget tags are not readable on this endpoint)";

const NOT_FOUND: &[&str] = &["NotFoundException"];
const DUPLICATE: &[&str] = &["DuplicateRecordException"];
const GREATER_THAN: &str = "GREATER_THAN";
const PERCENTAGE: &str = "PERCENTAGE";

/// What `read` saw: for each configured budget name, the budget or `None` when absent.
#[derive(Debug, Clone, Default)]
pub struct BudgetsState {
    pub budgets: BTreeMap<String, Option<ObservedBudget>>,
}

#[derive(Debug, Clone)]
pub struct ObservedBudget {
    /// `(amount, unit)` as AWS returned them ("100.0", "USD").
    pub limit: Option<(String, String)>,
    pub time_unit: String,
    /// The filter in canonical JSON: the `FilterExpression`, or `{"CostFilters": {...}}` for a
    /// budget that still has only the deprecated form, or null for none (all spend).
    pub filter: Value,
    /// What the budget measures (`Metrics`); empty for a budget created without them.
    pub metrics: Vec<Metric>,
    pub billing_view_arn: Option<String>,
    pub time_period: Option<TimePeriod>,
    /// Spend so far and forecast for the period, `(amount, unit)`, where AWS reports them.
    pub actual_spend: Option<(String, String)>,
    pub forecasted_spend: Option<(String, String)>,
    pub notifications: Vec<ObservedNotification>,
    /// Why the subscribers of (some) notifications could not be read.
    pub subscribers_unreadable: Option<String>,
    /// The budget's tags, or why they could not be read.
    pub tags: Result<BTreeMap<String, String>, String>,
}

#[derive(Debug, Clone)]
pub struct ObservedNotification {
    /// Exactly as AWS returned it: update and delete calls identify it by value.
    pub notification: Notification,
    /// `None` when they could not be read.
    pub subscribers: Option<Vec<Subscriber>>,
}

impl Budgets {
    /// The ARN the tagging APIs take.
    pub fn arn(cx: &Context, name: &str) -> String {
        format!(
            "arn:{}:budgets::{}:budget/{}",
            cx.partition(),
            cx.account.id,
            name
        )
    }

    /// The configured budgets, each name once.
    fn configured(cx: &Context) -> Vec<&BudgetConfig> {
        let mut seen = BTreeSet::new();
        cx.config
            .budgets
            .iter()
            .filter(|b| seen.insert(b.name.as_str()))
            .collect()
    }
}

/// Spend against the limit, for `status`: an alarm when the actual spend reached the limit, a
/// warning when the forecast does.
fn budget_health(name: &str, o: &ObservedBudget) -> Option<Health> {
    let amount = |s: &Option<(String, String)>| {
        s.as_ref()
            .and_then(|(a, u)| a.trim().parse::<f64>().ok().map(|a| (a, u.clone())))
    };
    let (limit, unit) = amount(&o.limit)?;
    let actual = amount(&o.actual_spend);
    let forecast = amount(&o.forecasted_spend);
    if actual.is_none() && forecast.is_none() {
        return None;
    }
    let money = |a: f64, u: &str| format!("{a:.2} {u}");
    let mut parts = Vec::new();
    if let Some((a, u)) = &actual {
        parts.push(format!("actual {}", money(*a, u)));
    }
    if let Some((f, u)) = &forecast {
        parts.push(format!("forecasted {}", money(*f, u)));
    }
    let level = if actual.as_ref().is_some_and(|(a, _)| *a >= limit) {
        HealthLevel::Alarm
    } else if forecast.as_ref().is_some_and(|(f, _)| *f >= limit) {
        HealthLevel::Warning
    } else {
        HealthLevel::Ok
    };
    Some(Health {
        subject: format!("budget {name}"),
        level,
        detail: format!(
            "{} of {} ({})",
            parts.join(", "),
            money(limit, &unit),
            o.time_unit
        ),
    })
}

/// Ownership of one existing budget.
fn budget_ownership(cx: &Context, o: &ObservedBudget) -> Ownership {
    match &o.tags {
        Ok(tags) => ownership_from_tags(cx, tags),
        Err(_) => Ownership::Managed {
            evidence: NAME_EVIDENCE.to_string(),
        },
    }
}

#[async_trait]
impl Resource for Budgets {
    type State = BudgetsState;

    fn id(&self) -> ComponentId {
        ComponentId::Budgets
    }

    /// IAM and Budgets are global to an account: once, in its first region.
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Account
    }

    fn name(&self, cx: &Context) -> String {
        let names: Vec<&str> = Self::configured(cx)
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        if names.is_empty() {
            "(no budgets configured)".into()
        } else {
            names.join(", ")
        }
    }

    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::Topic]
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let configured = Self::configured(cx);
        let reads =
            futures::future::join_all(configured.iter().map(|b| read_budget(cx, &b.name))).await;
        let mut state = BudgetsState::default();
        for (b, read) in configured.iter().zip(reads) {
            state.budgets.insert(b.name.clone(), read?);
        }
        Ok(state)
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let configured = Self::configured(cx);
        if configured.is_empty() {
            return Diff::unchanged();
        }
        let observed = |b: &BudgetConfig| state.budgets.get(&b.name).and_then(Option::as_ref);
        let none_exists = configured.iter().all(|b| observed(b).is_none());
        let mut diff = Diff::unchanged();
        for b in &configured {
            let plan = plan_budget(cx, b, observed(b));
            diff.changes.extend(plan.changes);
            diff.notes.extend(plan.notes);
            // AWS Budgets counts tagged spend only for active cost-allocation tags (an
            // inference profile's `Team` tag, say).
            if let Some(tag) = &b.tag_filter {
                let activated = cx
                    .config
                    .cost_allocation
                    .as_ref()
                    .is_some_and(|c| c.enabled)
                    && cx.config.cost_allocation_keys().contains(&tag.key);
                if !activated {
                    diff.notes.push(format!(
                        "budget {} filters on tag {:?}: AWS Budgets sees only active cost-allocation tags; activate it in the Billing console or with [cost_allocation] (it activates [stack.tags] and the inference profiles' tag keys)",
                        b.name, tag.key
                    ));
                }
            }
        }
        diff.action = if none_exists {
            Action::Create
        } else if diff.changes.is_empty() {
            Action::Unchanged
        } else {
            Action::Update
        };
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, _diff: &Diff) -> Result<(), AwsError> {
        // The writes are derived from the state exactly as `diff` derives the changes.
        let configured = Self::configured(cx);
        let results = futures::future::join_all(configured.iter().map(|b| async move {
            let observed = state.budgets.get(&b.name).and_then(Option::as_ref);
            let plan = plan_budget(cx, b, observed);
            for write in &plan.writes {
                run_write(cx, b, observed, write).await?;
            }
            Ok::<(), AwsError>(())
        }))
        .await;
        results.into_iter().collect()
    }

    /// Configured budgets whose tags say they are not this stack's. Where the endpoint does
    /// not let the tags be read, the configured name is the only evidence (as for ownership).
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        Self::configured(cx)
            .into_iter()
            .filter_map(|b| {
                let o = state.budgets.get(&b.name).and_then(Option::as_ref)?;
                let tags = o.tags.as_ref().ok()?;
                foreign_by_tags(cx, format!("budget {}", b.name), tags)
            })
            .collect()
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let existing: Vec<(&str, Ownership)> = Self::configured(cx)
            .into_iter()
            .filter_map(|b| {
                let o = state.budgets.get(&b.name).and_then(Option::as_ref)?;
                Some((b.name.as_str(), budget_ownership(cx, o)))
            })
            .collect();
        if existing.is_empty() {
            return Ownership::Missing;
        }
        let not_managed: Vec<String> = existing
            .iter()
            .filter_map(|(name, o)| match o {
                Ownership::NotManaged { reason } => Some(format!("budget {name} {reason}")),
                _ => None,
            })
            .collect();
        if !not_managed.is_empty() {
            return Ownership::NotManaged {
                reason: not_managed.join("; "),
            };
        }
        let evidence: BTreeSet<String> = existing
            .iter()
            .filter_map(|(_, o)| match o {
                Ownership::Managed { evidence } => Some(evidence.clone()),
                _ => None,
            })
            .collect();
        let evidence = if evidence.len() == 1 {
            evidence.into_iter().collect::<Vec<_>>().join("")
        } else {
            existing
                .iter()
                .filter_map(|(name, o)| match o {
                    Ownership::Managed { evidence } => Some(format!("{name}: {evidence}")),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        Ownership::Managed { evidence }
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        // Budgets authorizes reads as ViewBudget and every change as ModifyBudget.
        let budgets = cx
            .config
            .budgets
            .iter()
            .map(|b| {
                format!(
                    "arn:{}:budgets::{}:budget/{}",
                    cx.partition(),
                    cx.account.id,
                    b.name
                )
            })
            .collect::<Vec<_>>();
        vec![Permission::new(
            &[
                "budgets:ViewBudget",
                "budgets:ModifyBudget",
                "budgets:ListTagsForResource",
                "budgets:TagResource",
            ],
            budgets,
        )]
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        Self::configured(cx)
            .into_iter()
            .filter_map(|b| {
                let o = state.budgets.get(&b.name).and_then(Option::as_ref)?;
                budget_health(&b.name, o)
            })
            .collect()
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        for b in Self::configured(cx) {
            let Some(o) = state.budgets.get(&b.name).and_then(Option::as_ref) else {
                continue;
            };
            // Never someone else's, even when the component as a whole was judged ours.
            if let Ownership::NotManaged { reason } = budget_ownership(cx, o) {
                cx.note(
                    ComponentId::Budgets,
                    &format!("left budget {} in place: {reason}", b.name),
                );
                continue;
            }
            absent_if(
                cx.aws
                    .budgets
                    .delete_budget()
                    .account_id(&cx.account.id)
                    .budget_name(&b.name)
                    .send()
                    .await
                    .aws("budgets:DeleteBudget"),
                NOT_FOUND,
            )?;
        }
        Ok(())
    }
}
