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
use aws_sdk_budgets::types::{
    Budget, BudgetType, ComparisonOperator, CostCategoryValues, CostTypes, Dimension, Expression,
    ExpressionDimensionValues, MatchOption, Metric, Notification, NotificationType,
    NotificationWithSubscribers, ResourceTag, Spend, Subscriber, SubscriptionType, TagValues,
    ThresholdType, TimePeriod, TimeUnit,
};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::BudgetConfig;
use crate::cost::spend;
use crate::engine::{
    Action, ComponentId, Context, Diff, FieldChange, Health, HealthLevel, Ownership, Permission,
    Resource,
};
use crate::resources::{absent_if, ownership_from_tags, tags_field};

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
    /// Kept so that an `UpdateBudget` does not reset settings this tool does not manage.
    pub cost_types: Option<CostTypes>,
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

/// A notification reduced to what identifies it.
#[derive(Debug, Clone, PartialEq)]
struct Norm {
    kind: String,
    op: String,
    threshold: f64,
    threshold_type: String,
}

impl Norm {
    fn desired(kind: &str, threshold: f64) -> Norm {
        Norm {
            kind: kind.to_string(),
            op: GREATER_THAN.into(),
            threshold,
            threshold_type: PERCENTAGE.into(),
        }
    }

    fn observed(n: &Notification) -> Norm {
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
    fn key(&self) -> String {
        if self.op == GREATER_THAN && self.threshold_type == PERCENTAGE {
            format!("{}:{}", self.kind, self.threshold)
        } else {
            format!(
                "{}:{}:{}:{}",
                self.kind, self.threshold, self.op, self.threshold_type
            )
        }
    }

    fn sdk(&self) -> Result<Notification, AwsError> {
        Ok(Notification::builder()
            .notification_type(NotificationType::from(self.kind.as_str()))
            .comparison_operator(ComparisonOperator::from(self.op.as_str()))
            .threshold(self.threshold)
            .threshold_type(ThresholdType::from(self.threshold_type.as_str()))
            .build()?)
    }
}

/// A subscriber as `(type, address)`, e.g. `("EMAIL", "ops@example.com")`.
type Sub = (String, String);

fn sub_of(s: &Subscriber) -> Sub {
    (
        s.subscription_type().as_str().to_string(),
        s.address().to_string(),
    )
}

fn sdk_subscriber((kind, address): &Sub) -> Result<Subscriber, AwsError> {
    Ok(Subscriber::builder()
        .subscription_type(SubscriptionType::from(kind.as_str()))
        .address(address)
        .build()?)
}

/// Which notification a subscriber write addresses.
#[derive(Debug, Clone)]
enum NotificationRef {
    /// One that exists as read.
    Observed(Notification),
    /// One this plan creates or updates to.
    Desired(Norm),
}

impl NotificationRef {
    fn sdk(&self) -> Result<Notification, AwsError> {
        match self {
            NotificationRef::Observed(n) => Ok(n.clone()),
            NotificationRef::Desired(n) => n.sdk(),
        }
    }
}

/// One write call, in the order a budget's plan runs them.
#[derive(Debug, Clone)]
enum Write {
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
struct BudgetPlan {
    changes: Vec<FieldChange>,
    writes: Vec<Write>,
    notes: Vec<String>,
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

fn desired_filter(b: &BudgetConfig) -> Value {
    spend::filter_expression(b.tag_filter.as_ref())
}

/// An expression in the API's JSON shape (as [`spend::filter_expression`] writes it) as the
/// SDK type.
fn sdk_expression(v: &Value) -> Result<Expression, AwsError> {
    let strings = |part: &Value, key: &str| -> Vec<String> {
        part.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let options = |part: &Value| -> Option<Vec<MatchOption>> {
        Some(
            strings(part, "MatchOptions")
                .iter()
                .map(|o| MatchOption::from(o.as_str()))
                .collect(),
        )
    };
    let key = |part: &Value| part.get("Key").and_then(Value::as_str).map(str::to_string);
    let mut builder = Expression::builder();
    for (name, list) in [("Or", true), ("And", false)] {
        if let Some(items) = v.get(name).and_then(Value::as_array) {
            let items = items
                .iter()
                .map(sdk_expression)
                .collect::<Result<Vec<_>, _>>()?;
            builder = if list {
                builder.set_or(Some(items))
            } else {
                builder.set_and(Some(items))
            };
        }
    }
    if let Some(not) = v.get("Not") {
        builder = builder.not(sdk_expression(not)?);
    }
    if let Some(d) = v.get("Dimensions") {
        builder = builder.dimensions(
            ExpressionDimensionValues::builder()
                .set_key(key(d).map(|k| Dimension::from(k.as_str())))
                .set_values(Some(strings(d, "Values")))
                .set_match_options(options(d))
                .build()?,
        );
    }
    if let Some(t) = v.get("Tags") {
        builder = builder.tags(
            TagValues::builder()
                .set_key(key(t))
                .set_values(Some(strings(t, "Values")))
                .set_match_options(options(t))
                .build(),
        );
    }
    if let Some(c) = v.get("CostCategories") {
        builder = builder.cost_categories(
            CostCategoryValues::builder()
                .set_key(key(c))
                .set_values(Some(strings(c, "Values")))
                .set_match_options(options(c))
                .build(),
        );
    }
    Ok(builder.build())
}

/// An SDK expression as the API's JSON shape, in canonical form.
fn expression_json(e: &Expression) -> Value {
    fn part(key: Option<&str>, values: &[String], options: &[MatchOption]) -> Value {
        json!({
            "Key": key,
            "Values": values,
            "MatchOptions": options.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        })
    }
    fn raw(e: &Expression) -> Value {
        let mut out = serde_json::Map::new();
        if !e.or().is_empty() {
            out.insert("Or".into(), e.or().iter().map(raw).collect());
        }
        if !e.and().is_empty() {
            out.insert("And".into(), e.and().iter().map(raw).collect());
        }
        if let Some(not) = e.not() {
            out.insert("Not".into(), raw(not));
        }
        if let Some(d) = e.dimensions() {
            out.insert(
                "Dimensions".into(),
                part(Some(d.key().as_str()), d.values(), d.match_options()),
            );
        }
        if let Some(t) = e.tags() {
            out.insert("Tags".into(), part(t.key(), t.values(), t.match_options()));
        }
        if let Some(c) = e.cost_categories() {
            out.insert(
                "CostCategories".into(),
                part(c.key(), c.values(), c.match_options()),
            );
        }
        Value::Object(out)
    }
    spend::canonical(&raw(e))
}

fn desired_notifications(b: &BudgetConfig) -> Vec<Norm> {
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
fn desired_subscribers(cx: &Context) -> BTreeSet<Sub> {
    BTreeSet::from([("SNS".to_string(), cx.topic_arn())])
}

fn addresses(subs: &BTreeSet<Sub>) -> Value {
    let list: BTreeSet<&str> = subs.iter().map(|(_, a)| a.as_str()).collect();
    json!(list)
}

fn field(budget: &str, name: &str) -> String {
    format!("{budget}.{name}")
}

fn limit_amount(limit: f64) -> String {
    // `100` rather than `100.0`; AWS accepts both and returns its own form.
    format!("{limit}")
}

/// The observed limit as JSON: the configured number when numerically equal (AWS returns
/// "100.0" or "100"), otherwise the number AWS holds (or its text, for another currency).
fn observed_limit(desired: f64, limit: &Option<(String, String)>) -> Value {
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

fn change(field: String, old: Value, new: Value) -> FieldChange {
    FieldChange { field, old, new }
}

/// Fields and writes for one budget: everything from nothing when it is absent, otherwise only
/// what differs. Pure: no AWS call.
fn plan_budget(cx: &Context, b: &BudgetConfig, observed: Option<&ObservedBudget>) -> BudgetPlan {
    let name = b.name.as_str();
    let filter = desired_filter(b);
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

/// Why an optional read failed, short enough for a plan note.
fn unreadable_reason(e: &AwsError) -> String {
    match &e.code {
        Some(code) => format!("{} answered {code}", e.operation),
        None => format!("{} failed", e.operation),
    }
}

/// The client's retry settings with at most one retry, for reads that some endpoints never
/// serve (moto answers them with HTTP 500, which would otherwise be retried for seconds).
fn one_retry(cx: &Context) -> aws_sdk_budgets::config::Builder {
    let retry = cx
        .aws
        .budgets
        .config()
        .retry_config()
        .cloned()
        .unwrap_or_else(aws_sdk_budgets::config::retry::RetryConfig::standard);
    let attempts = retry.max_attempts().min(2);
    aws_sdk_budgets::config::Builder::default().retry_config(retry.with_max_attempts(attempts))
}

async fn read_subscribers(
    cx: &Context,
    name: &str,
    notification: &Notification,
) -> Result<Vec<Subscriber>, AwsError> {
    let mut subscribers = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cx
            .aws
            .budgets
            .describe_subscribers_for_notification()
            .account_id(&cx.account.id)
            .budget_name(name)
            .notification(notification.clone())
            .set_next_token(token.clone())
            .customize()
            .config_override(one_retry(cx))
            .send()
            .await
            .aws("budgets:DescribeSubscribersForNotification")?;
        subscribers.extend(out.subscribers().iter().cloned());
        match out.next_token() {
            Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                token = Some(next.to_string());
            }
            _ => return Ok(subscribers),
        }
    }
}

async fn read_notifications(
    cx: &Context,
    name: &str,
) -> Result<(Vec<ObservedNotification>, Option<String>), AwsError> {
    let mut notifications = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cx
            .aws
            .budgets
            .describe_notifications_for_budget()
            .account_id(&cx.account.id)
            .budget_name(name)
            .set_next_token(token.clone())
            .send()
            .await
            .aws("budgets:DescribeNotificationsForBudget")?;
        notifications.extend(out.notifications().iter().cloned());
        match out.next_token() {
            Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                token = Some(next.to_string());
            }
            _ => break,
        }
    }
    let subscribers =
        futures::future::join_all(notifications.iter().map(|n| read_subscribers(cx, name, n)))
            .await;
    let mut unreadable = None;
    let observed = notifications
        .into_iter()
        .zip(subscribers)
        .map(|(notification, subs)| ObservedNotification {
            notification,
            subscribers: match subs {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::debug!("subscribers of budget {name} not readable: {e}");
                    unreadable.get_or_insert_with(|| unreadable_reason(&e));
                    None
                }
            },
        })
        .collect();
    Ok((observed, unreadable))
}

async fn read_tags(cx: &Context, name: &str) -> Result<BTreeMap<String, String>, String> {
    match cx
        .aws
        .budgets
        .list_tags_for_resource()
        .resource_arn(Budgets::arn(cx, name))
        .customize()
        .config_override(one_retry(cx))
        .send()
        .await
        .aws("budgets:ListTagsForResource")
    {
        Ok(out) => Ok(out
            .resource_tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()),
        Err(e) => {
            tracing::debug!("tags of budget {name} not readable: {e}");
            Err(unreadable_reason(&e))
        }
    }
}

fn spend_pair(s: &Spend) -> (String, String) {
    (s.amount().to_string(), s.unit().to_string())
}

/// The budget's filter in canonical JSON: `FilterExpression` when set, else the deprecated
/// `CostFilters` (budgets of an earlier release, or made elsewhere) under that name.
#[allow(deprecated)]
fn observed_filter(budget: &Budget) -> Value {
    if let Some(expression) = budget.filter_expression() {
        let json = expression_json(expression);
        if json.as_object().is_some_and(|o| !o.is_empty()) {
            return json;
        }
    }
    match budget.cost_filters() {
        Some(filters) if !filters.is_empty() => {
            let filters: BTreeMap<&String, BTreeSet<&String>> = filters
                .iter()
                .map(|(k, v)| (k, v.iter().collect()))
                .collect();
            json!({ "CostFilters": filters })
        }
        _ => Value::Null,
    }
}

// CostTypes is deprecated in favour of Metrics, but a budget created with it still has it: it
// is read and written back unchanged, never set by this tool.
#[allow(deprecated)]
async fn read_budget(cx: &Context, name: &str) -> Result<Option<ObservedBudget>, AwsError> {
    let described = absent_if(
        cx.aws
            .budgets
            .describe_budget()
            .account_id(&cx.account.id)
            .budget_name(name)
            .send()
            .await
            .aws("budgets:DescribeBudget"),
        NOT_FOUND,
    )?;
    let Some(described) = described else {
        return Ok(None);
    };
    let budget = described
        .budget()
        .ok_or_else(|| AwsError::bad_response("budgets:DescribeBudget", "budget"))?;
    let (notifications, tags) = tokio::join!(read_notifications(cx, name), read_tags(cx, name));
    let (notifications, subscribers_unreadable) = notifications?;
    Ok(Some(ObservedBudget {
        limit: budget.budget_limit().map(spend_pair),
        time_unit: budget.time_unit().as_str().to_string(),
        filter: observed_filter(budget),
        cost_types: budget.cost_types().cloned(),
        metrics: budget.metrics().to_vec(),
        billing_view_arn: budget.billing_view_arn().map(str::to_string),
        time_period: budget.time_period().cloned(),
        actual_spend: budget
            .calculated_spend()
            .and_then(|c| c.actual_spend())
            .map(spend_pair),
        forecasted_spend: budget
            .calculated_spend()
            .and_then(|c| c.forecasted_spend())
            .map(spend_pair),
        notifications,
        subscribers_unreadable,
        tags,
    }))
}

/// The budget as written: `FilterExpression` only (an update drops a legacy `CostFilters`).
#[allow(deprecated)] // CostTypes: see read_budget.
fn sdk_budget(b: &BudgetConfig, observed: Option<&ObservedBudget>) -> Result<Budget, AwsError> {
    let mut builder = Budget::builder()
        .budget_name(&b.name)
        .budget_type(BudgetType::Cost)
        .budget_limit(
            Spend::builder()
                .amount(limit_amount(b.limit_usd))
                .unit("USD")
                .build()?,
        )
        .time_unit(TimeUnit::from(b.time_unit.as_str()))
        .filter_expression(sdk_expression(&desired_filter(b))?);
    if let Some(o) = observed {
        builder = builder
            .set_cost_types(o.cost_types.clone())
            .set_billing_view_arn(o.billing_view_arn.clone());
        if !o.metrics.is_empty() {
            builder = builder.set_metrics(Some(o.metrics.clone()));
        }
        if o.time_unit == b.time_unit {
            builder = builder.set_time_period(o.time_period.clone());
        }
    }
    Ok(builder.build()?)
}

fn sdk_tags(cx: &Context) -> Result<Vec<ResourceTag>, AwsError> {
    cx.config
        .tags()
        .into_iter()
        .map(|(k, v)| Ok(ResourceTag::builder().key(k).value(v).build()?))
        .collect()
}

async fn create_budget(cx: &Context, b: &BudgetConfig) -> Result<bool, AwsError> {
    let subscribers = desired_subscribers(cx)
        .iter()
        .map(sdk_subscriber)
        .collect::<Result<Vec<_>, _>>()?;
    let notifications = desired_notifications(b)
        .iter()
        .map(|n| {
            Ok(NotificationWithSubscribers::builder()
                .notification(n.sdk()?)
                .set_subscribers(Some(subscribers.clone()))
                .build()?)
        })
        .collect::<Result<Vec<_>, AwsError>>()?;
    let created = cx
        .aws
        .budgets
        .create_budget()
        .account_id(&cx.account.id)
        .budget(sdk_budget(b, None)?)
        .set_notifications_with_subscribers(Some(notifications))
        .set_resource_tags(Some(sdk_tags(cx)?))
        .send()
        .await
        .aws("budgets:CreateBudget");
    match created {
        Ok(_) => Ok(true),
        Err(e) if e.code_is(DUPLICATE) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn run_write(
    cx: &Context,
    b: &BudgetConfig,
    observed: Option<&ObservedBudget>,
    write: &Write,
) -> Result<(), AwsError> {
    let budgets = &cx.aws.budgets;
    let account = cx.account.id.as_str();
    let name = b.name.as_str();
    match write {
        Write::CreateBudget => {
            if !create_budget(cx, b).await? {
                // Created since it was read (an interrupted or concurrent run): converge it.
                cx.note(
                    ComponentId::Budgets,
                    &format!("budget {name} already exists; converging its settings"),
                );
                let now = read_budget(cx, name).await?;
                if let Some(now) = now.as_ref() {
                    let plan = plan_budget(cx, b, Some(now));
                    for w in &plan.writes {
                        Box::pin(run_write(cx, b, Some(now), w)).await?;
                    }
                }
            }
        }
        Write::UpdateBudget => {
            budgets
                .update_budget()
                .account_id(account)
                .new_budget(sdk_budget(b, observed)?)
                .send()
                .await
                .aws("budgets:UpdateBudget")?;
        }
        Write::UpdateNotification { old, new } => {
            budgets
                .update_notification()
                .account_id(account)
                .budget_name(name)
                .old_notification(old.clone())
                .new_notification(new.sdk()?)
                .send()
                .await
                .aws("budgets:UpdateNotification")?;
        }
        Write::DeleteNotification { old } => {
            absent_if(
                budgets
                    .delete_notification()
                    .account_id(account)
                    .budget_name(name)
                    .notification(old.clone())
                    .send()
                    .await
                    .aws("budgets:DeleteNotification"),
                NOT_FOUND,
            )?;
        }
        Write::CreateNotification { new } => {
            let subscribers = desired_subscribers(cx)
                .iter()
                .map(sdk_subscriber)
                .collect::<Result<Vec<_>, _>>()?;
            let created = budgets
                .create_notification()
                .account_id(account)
                .budget_name(name)
                .notification(new.sdk()?)
                .set_subscribers(Some(subscribers))
                .send()
                .await
                .aws("budgets:CreateNotification");
            match created {
                Ok(_) => {}
                Err(e) if e.code_is(DUPLICATE) => {}
                Err(e) => return Err(e),
            }
        }
        Write::UpdateSubscriber {
            notification,
            old,
            new,
        } => {
            budgets
                .update_subscriber()
                .account_id(account)
                .budget_name(name)
                .notification(notification.sdk()?)
                .old_subscriber(old.clone())
                .new_subscriber(sdk_subscriber(new)?)
                .send()
                .await
                .aws("budgets:UpdateSubscriber")?;
        }
        Write::CreateSubscriber { notification, new } => {
            let created = budgets
                .create_subscriber()
                .account_id(account)
                .budget_name(name)
                .notification(notification.sdk()?)
                .subscriber(sdk_subscriber(new)?)
                .send()
                .await
                .aws("budgets:CreateSubscriber");
            match created {
                Ok(_) => {}
                Err(e) if e.code_is(DUPLICATE) => {}
                Err(e) => return Err(e),
            }
        }
        Write::DeleteSubscriber { notification, old } => {
            absent_if(
                budgets
                    .delete_subscriber()
                    .account_id(account)
                    .budget_name(name)
                    .notification(notification.sdk()?)
                    .subscriber(old.clone())
                    .send()
                    .await
                    .aws("budgets:DeleteSubscriber"),
                NOT_FOUND,
            )?;
        }
        Write::Tag => {
            budgets
                .tag_resource()
                .resource_arn(Budgets::arn(cx, name))
                .set_resource_tags(Some(sdk_tags(cx)?))
                .send()
                .await
                .aws("budgets:TagResource")?;
        }
    }
    Ok(())
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
