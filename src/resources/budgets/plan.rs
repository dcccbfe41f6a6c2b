//! What one budget needs: the field changes a plan shows, and the write calls behind them, in
//! the order they run.

use std::collections::BTreeSet;

use aws_sdk_budgets::types::{
    ComparisonOperator, Notification, NotificationType, Subscriber, SubscriptionType, ThresholdType,
};
use serde_json::{Value, json};

use crate::aws::AwsError;
use crate::config::BudgetConfig;
use crate::cost::spend;
use crate::engine::{Context, FieldChange};
use crate::resources::tags_field;

use super::{GREATER_THAN, ObservedBudget, ObservedNotification, PERCENTAGE};

/// A notification reduced to what identifies it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Norm {
    pub(super) kind: String,
    pub(super) op: String,
    pub(super) threshold: f64,
    pub(super) threshold_type: String,
}

impl Norm {
    pub(super) fn desired(kind: &str, threshold: f64) -> Norm {
        Norm {
            kind: kind.to_string(),
            op: GREATER_THAN.into(),
            threshold,
            threshold_type: PERCENTAGE.into(),
        }
    }

    pub(super) fn observed(n: &Notification) -> Norm {
        Norm {
            kind: n.notification_type().as_str().to_string(),
            op: n.comparison_operator().as_str().to_string(),
            threshold: n.threshold(),
            // AWS's default when a notification was created without one.
            threshold_type: n
                .threshold_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| PERCENTAGE.into()),
        }
    }

    /// `ACTUAL:80` for the kind this tool creates, with the operator and threshold type
    /// spelled out for any other.
    pub(super) fn key(&self) -> String {
        if self.op == GREATER_THAN && self.threshold_type == PERCENTAGE {
            format!("{}:{}", self.kind, self.threshold)
        } else {
            format!(
                "{}:{}:{}:{}",
                self.kind, self.threshold, self.op, self.threshold_type
            )
        }
    }

    pub(super) fn sdk(&self) -> Result<Notification, AwsError> {
        Ok(Notification::builder()
            .notification_type(NotificationType::from(self.kind.as_str()))
            .comparison_operator(ComparisonOperator::from(self.op.as_str()))
            .threshold(self.threshold)
            .threshold_type(ThresholdType::from(self.threshold_type.as_str()))
            .build()?)
    }
}

/// A subscriber as `(type, address)`, e.g. `("EMAIL", "ops@example.com")`.
pub(super) type Sub = (String, String);

pub(super) fn sub_of(s: &Subscriber) -> Sub {
    (
        s.subscription_type().as_str().to_string(),
        s.address().to_string(),
    )
}

pub(super) fn sdk_subscriber((kind, address): &Sub) -> Result<Subscriber, AwsError> {
    Ok(Subscriber::builder()
        .subscription_type(SubscriptionType::from(kind.as_str()))
        .address(address)
        .build()?)
}

/// Which notification a subscriber write addresses.
#[derive(Debug, Clone)]
pub(super) enum NotificationRef {
    /// One that exists as read.
    Observed(Notification),
    /// One this plan creates or updates to.
    Desired(Norm),
}

impl NotificationRef {
    pub(super) fn sdk(&self) -> Result<Notification, AwsError> {
        match self {
            NotificationRef::Observed(n) => Ok(n.clone()),
            NotificationRef::Desired(n) => n.sdk(),
        }
    }
}

/// One write call, in the order a budget's plan runs them.
#[derive(Debug, Clone)]
pub(super) enum Write {
    CreateBudget,
    UpdateBudget,
    UpdateNotification {
        old: Notification,
        new: Norm,
    },
    DeleteNotification {
        old: Notification,
    },
    CreateNotification {
        new: Norm,
    },
    /// Replaces the SNS subscriber (a notification takes only one).
    UpdateSubscriber {
        notification: NotificationRef,
        old: Subscriber,
        new: Sub,
    },
    CreateSubscriber {
        notification: NotificationRef,
        new: Sub,
    },
    DeleteSubscriber {
        notification: NotificationRef,
        old: Subscriber,
    },
    Tag,
}

/// What one budget needs: the field changes shown in the plan, and the writes behind them.
#[derive(Debug, Default)]
pub(super) struct BudgetPlan {
    pub(super) changes: Vec<FieldChange>,
    pub(super) writes: Vec<Write>,
    pub(super) notes: Vec<String>,
}

/// What a budget measures: unblended cost, the cost Cost Explorer and the billed report show
/// (Budgets API reference, Budget.Metrics: "The definition for how the budget data is
/// aggregated"; values `UnblendedCost`, `AmortizedCost`, `BlendedCost`, …).
pub(super) const DESIRED_METRICS: &[&str] = &["UnblendedCost"];

pub(super) fn desired_filter(cx: &Context, b: &BudgetConfig) -> Value {
    spend::Definition::new(&cx.config).filter_expression(b.tag_filter.as_ref())
}

pub(super) fn desired_notifications(b: &BudgetConfig) -> Vec<Norm> {
    let mut out: Vec<Norm> = Vec::new();
    for n in &b.notifications() {
        let norm = Norm::desired(&n.kind, n.threshold_percent);
        if !out.iter().any(|o| o.key() == norm.key()) {
            out.push(norm);
        }
    }
    out
}

/// The alert topic only: it forwards every budget alert to each configured email once.
pub(super) fn desired_subscribers(cx: &Context) -> BTreeSet<Sub> {
    BTreeSet::from([("SNS".to_string(), cx.topic_arn())])
}

pub(super) fn addresses(subs: &BTreeSet<Sub>) -> Value {
    let list: BTreeSet<&str> = subs.iter().map(|(_, a)| a.as_str()).collect();
    json!(list)
}

pub(super) fn field(budget: &str, name: &str) -> String {
    format!("{budget}.{name}")
}

pub(super) fn limit_amount(limit: f64) -> String {
    // `100` rather than `100.0`; AWS accepts both and returns its own form.
    format!("{limit}")
}

/// The observed limit as JSON: the configured number when numerically equal (AWS returns
/// "100.0" or "100"), otherwise the number AWS holds (or its text, for another currency).
pub(super) fn observed_limit(desired: f64, limit: &Option<(String, String)>) -> Value {
    let Some((amount, unit)) = limit else {
        return Value::Null;
    };
    match amount.trim().parse::<f64>() {
        Ok(a) if unit.is_empty() || unit == "USD" => {
            if (a - desired).abs() < 1e-9 {
                json!(desired)
            } else {
                json!(a)
            }
        }
        _ => json!(format!("{amount} {unit}")),
    }
}

pub(super) fn change(field: String, old: Value, new: Value) -> FieldChange {
    FieldChange { field, old, new }
}

/// Fields and writes for one budget: everything from nothing when it is absent, otherwise only
/// what differs. Pure: no AWS call.
pub(super) fn plan_budget(
    cx: &Context,
    b: &BudgetConfig,
    observed: Option<&ObservedBudget>,
) -> BudgetPlan {
    let name = b.name.as_str();
    let filter = desired_filter(cx, b);
    let notifications = desired_notifications(b);
    let subscribers = desired_subscribers(cx);
    let keys: Vec<String> = notifications.iter().map(Norm::key).collect();
    let mut plan = BudgetPlan::default();

    let Some(o) = observed else {
        plan.changes.push(change(
            field(name, "limit_usd"),
            Value::Null,
            json!(b.limit_usd),
        ));
        plan.changes.push(change(
            field(name, "time_unit"),
            Value::Null,
            json!(b.time_unit),
        ));
        plan.changes
            .push(change(field(name, "filter"), Value::Null, filter.clone()));
        plan.changes.push(change(
            field(name, "metrics"),
            Value::Null,
            json!(DESIRED_METRICS),
        ));
        plan.changes.push(change(
            field(name, "notifications"),
            Value::Null,
            json!(keys),
        ));
        for key in &keys {
            plan.changes.push(change(
                field(name, &format!("subscribers.{key}")),
                Value::Null,
                addresses(&subscribers),
            ));
        }
        plan.changes.push(change(
            field(name, "tags"),
            Value::Null,
            json!(cx.config.tags()),
        ));
        plan.writes.push(Write::CreateBudget);
        return plan;
    };

    // The budget itself.
    let mut budget_changes = Vec::new();
    let old_limit = observed_limit(b.limit_usd, &o.limit);
    if old_limit != json!(b.limit_usd) {
        budget_changes.push(change(
            field(name, "limit_usd"),
            old_limit,
            json!(b.limit_usd),
        ));
    }
    if o.time_unit != b.time_unit {
        budget_changes.push(change(
            field(name, "time_unit"),
            json!(o.time_unit),
            json!(b.time_unit),
        ));
    }
    if o.filter != filter {
        budget_changes.push(change(field(name, "filter"), o.filter.clone(), filter));
    }
    let metrics: Vec<&str> = o.metrics.iter().map(|m| m.as_str()).collect();
    if metrics != DESIRED_METRICS {
        budget_changes.push(change(
            field(name, "metrics"),
            json!(metrics),
            json!(DESIRED_METRICS),
        ));
    }
    if !budget_changes.is_empty() {
        plan.changes.extend(budget_changes);
        plan.writes.push(Write::UpdateBudget);
    }

    // Notifications: matched by (type, operator, threshold, threshold type). A missing one and
    // an extra one of the same type are the same notification with another threshold.
    let observed_keys: Vec<String> = o
        .notifications
        .iter()
        .map(|n| Norm::observed(&n.notification).key())
        .collect();
    let mut sorted_observed = observed_keys.clone();
    sorted_observed.sort();
    let mut sorted_desired = keys.clone();
    sorted_desired.sort();
    if sorted_observed != sorted_desired {
        plan.changes.push(change(
            field(name, "notifications"),
            json!(sorted_observed),
            json!(sorted_desired),
        ));
    }
    // (desired, the observed notification that carries it now or is updated into it)
    let mut kept: Vec<(Norm, &ObservedNotification, bool)> = Vec::new();
    let mut missing: Vec<Norm> = Vec::new();
    for n in &notifications {
        match o
            .notifications
            .iter()
            .find(|on| Norm::observed(&on.notification).key() == n.key())
        {
            Some(on) => kept.push((n.clone(), on, false)),
            None => missing.push(n.clone()),
        }
    }
    let mut extra: Vec<&ObservedNotification> = o
        .notifications
        .iter()
        .filter(|on| !keys.contains(&Norm::observed(&on.notification).key()))
        .collect();
    missing.sort_by(|a, b| a.threshold.total_cmp(&b.threshold));
    extra.sort_by(|a, b| {
        a.notification
            .threshold()
            .total_cmp(&b.notification.threshold())
    });
    let mut created = Vec::new();
    for new in missing {
        let same_kind = extra
            .iter()
            .position(|on| on.notification.notification_type().as_str() == new.kind);
        match same_kind {
            Some(i) => {
                let on = extra.remove(i);
                plan.writes.push(Write::UpdateNotification {
                    old: on.notification.clone(),
                    new: new.clone(),
                });
                kept.push((new, on, true));
            }
            None => created.push(new),
        }
    }
    for on in extra {
        plan.writes.push(Write::DeleteNotification {
            old: on.notification.clone(),
        });
    }
    for new in created {
        plan.changes.push(change(
            field(name, &format!("subscribers.{}", new.key())),
            Value::Null,
            addresses(&subscribers),
        ));
        plan.writes.push(Write::CreateNotification { new });
    }

    // Subscribers, where they could be read.
    let mut subscriber_writes = Vec::new();
    for (norm, on, updated) in &kept {
        let Some(current) = &on.subscribers else {
            continue;
        };
        let current_set: BTreeSet<Sub> = current.iter().map(sub_of).collect();
        if current_set == subscribers {
            continue;
        }
        plan.changes.push(change(
            field(name, &format!("subscribers.{}", norm.key())),
            addresses(&current_set),
            addresses(&subscribers),
        ));
        let target = if *updated {
            NotificationRef::Desired(norm.clone())
        } else {
            NotificationRef::Observed(on.notification.clone())
        };
        let mut to_add: Vec<Sub> = subscribers.difference(&current_set).cloned().collect();
        let mut to_remove: Vec<&Subscriber> = current
            .iter()
            .filter(|s| {
                matches!(
                    s.subscription_type(),
                    SubscriptionType::Email | SubscriptionType::Sns
                ) && !subscribers.contains(&sub_of(s))
            })
            .collect();
        // A notification has at most one SNS subscriber: replace it in place.
        if let (Some(add), Some(remove)) = (
            to_add.iter().position(|(t, _)| t == "SNS"),
            to_remove
                .iter()
                .position(|s| *s.subscription_type() == SubscriptionType::Sns),
        ) {
            subscriber_writes.push(Write::UpdateSubscriber {
                notification: target.clone(),
                old: to_remove.remove(remove).clone(),
                new: to_add.remove(add),
            });
        }
        // Add before removing: a notification must keep at least one subscriber.
        for new in to_add {
            subscriber_writes.push(Write::CreateSubscriber {
                notification: target.clone(),
                new,
            });
        }
        for old in to_remove {
            subscriber_writes.push(Write::DeleteSubscriber {
                notification: target.clone(),
                old: old.clone(),
            });
        }
    }
    plan.writes.extend(subscriber_writes);

    // Tags, where they could be read.
    let mut unreadable = Vec::new();
    match &o.tags {
        Ok(tags) => {
            let (old, new) = tags_field(&cx.config.tags(), tags);
            if old != new {
                plan.changes.push(change(field(name, "tags"), old, new));
                plan.writes.push(Write::Tag);
            }
        }
        Err(why) => unreadable.push(format!("tags ({why})")),
    }
    if let Some(why) = &o.subscribers_unreadable {
        unreadable.insert(0, format!("notification subscribers ({why})"));
    }
    if !unreadable.is_empty() {
        plan.notes.push(format!(
            "budget {name}: {} could not be read, so they are not compared or changed",
            unreadable.join(" and ")
        ));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_keys() {
        assert_eq!(Norm::desired("ACTUAL", 80.0).key(), "ACTUAL:80");
        assert_eq!(Norm::desired("FORECASTED", 92.5).key(), "FORECASTED:92.5");
        let other = Norm {
            kind: "ACTUAL".into(),
            op: "LESS_THAN".into(),
            threshold: 10.0,
            threshold_type: "ABSOLUTE_VALUE".into(),
        };
        assert_eq!(other.key(), "ACTUAL:10:LESS_THAN:ABSOLUTE_VALUE");
    }

    #[test]
    fn limits_compare_numerically() {
        let usd = |a: &str| Some((a.to_string(), "USD".to_string()));
        assert_eq!(observed_limit(100.0, &usd("100.0")), json!(100.0));
        assert_eq!(observed_limit(100.0, &usd("100")), json!(100.0));
        assert_eq!(observed_limit(100.0, &usd("150.0")), json!(150.0));
        assert_eq!(observed_limit(100.0, &None), Value::Null);
        assert_eq!(limit_amount(100.0), "100");
        assert_eq!(limit_amount(12.5), "12.5");
    }
}
