//! Reading a budget: the budget, its notifications, their subscribers and its tags; the
//! optional reads get one retry and, when an endpoint does not serve them, say why instead.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_budgets::types::{Budget, Notification, Spend, Subscriber};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::engine::Context;
use crate::resources::absent_if;

use super::{Budgets, NOT_FOUND, ObservedBudget, ObservedNotification};

/// Why an optional read failed, short enough for a plan note.
pub(super) fn unreadable_reason(e: &AwsError) -> String {
    match &e.code {
        Some(code) => format!("{} answered {code}", e.operation),
        None => format!("{} failed", e.operation),
    }
}

/// The client's retry settings with at most one retry, for reads that some endpoints never
/// serve (moto answers them with HTTP 500, which would otherwise be retried for seconds).
pub(super) fn one_retry(cx: &Context) -> aws_sdk_budgets::config::Builder {
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

pub(super) async fn read_subscribers(
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

pub(super) async fn read_notifications(
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

pub(super) async fn read_tags(
    cx: &Context,
    name: &str,
) -> Result<BTreeMap<String, String>, String> {
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

pub(super) fn spend_pair(s: &Spend) -> (String, String) {
    (s.amount().to_string(), s.unit().to_string())
}

/// The budget's filter in canonical JSON: `FilterExpression` when set, else the deprecated
/// `CostFilters` (budgets of an earlier release, or made elsewhere) under that name.
#[allow(deprecated)]
pub(super) fn observed_filter(budget: &Budget) -> Value {
    if let Some(expression) = budget.filter_expression() {
        let json = crate::cost::expression::to_json(expression);
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

pub(super) async fn read_budget(
    cx: &Context,
    name: &str,
) -> Result<Option<ObservedBudget>, AwsError> {
    let described = absent_if(
        cx.aws
            .budgets
            .describe_budget()
            .account_id(&cx.account.id)
            .budget_name(name)
            // Budgets API reference, DescribeBudget: `FilterExpression` is in the answer only
            // when `ShowFilterExpression` is true; without it every read would see no filter.
            .show_filter_expression(true)
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
