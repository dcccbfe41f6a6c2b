//! Running a budget's writes: creating it whole, or the plan's updates one call at a time.

use aws_sdk_budgets::types::{
    Budget, BudgetType, Metric, NotificationWithSubscribers, ResourceTag, Spend, TimeUnit,
};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::BudgetConfig;
use crate::engine::{ComponentId, Context};
use crate::resources::{absent_if, created_or_exists};

use super::plan::{
    DESIRED_METRICS, Write, desired_filter, desired_notifications, desired_subscribers,
    limit_amount, plan_budget, sdk_subscriber,
};
use super::read::read_budget;
use super::{Budgets, DUPLICATE, NOT_FOUND, ObservedBudget};

/// The budget as written: `FilterExpression` with `Metrics` (an update drops a legacy
/// `CostFilters` and `CostTypes`: the Budgets API reference, CreateBudget and UpdateBudget,
/// takes "either FilterExpression and Metrics or CostFilters and CostTypes, not both or a
/// different combination"). A budget with a filter but no metrics breaks its history in the
/// console ("Selected metrics cannot be null", terraform-provider-aws #46866).
pub(super) fn sdk_budget(
    cx: &Context,
    b: &BudgetConfig,
    observed: Option<&ObservedBudget>,
) -> Result<Budget, AwsError> {
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
        .filter_expression(crate::cost::expression::from_json(&desired_filter(cx, b))?)
        .set_metrics(Some(
            DESIRED_METRICS.iter().map(|m| Metric::from(*m)).collect(),
        ));
    if let Some(o) = observed {
        builder = builder.set_billing_view_arn(o.billing_view_arn.clone());
        if o.time_unit == b.time_unit {
            builder = builder.set_time_period(o.time_period.clone());
        }
    }
    Ok(builder.build()?)
}

pub(super) fn sdk_tags(cx: &Context) -> Result<Vec<ResourceTag>, AwsError> {
    cx.config
        .tags()
        .into_iter()
        .map(|(k, v)| Ok(ResourceTag::builder().key(k).value(v).build()?))
        .collect()
}

pub(super) async fn create_budget(cx: &Context, b: &BudgetConfig) -> Result<bool, AwsError> {
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
        .budget(sdk_budget(cx, b, None)?)
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

pub(super) async fn run_write(
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
                .new_budget(sdk_budget(cx, b, observed)?)
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
            created_or_exists(
                budgets
                    .create_notification()
                    .account_id(account)
                    .budget_name(name)
                    .notification(new.sdk()?)
                    .set_subscribers(Some(subscribers))
                    .send()
                    .await
                    .aws("budgets:CreateNotification"),
                DUPLICATE,
            )?;
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
            created_or_exists(
                budgets
                    .create_subscriber()
                    .account_id(account)
                    .budget_name(name)
                    .notification(notification.sdk()?)
                    .subscriber(sdk_subscriber(new)?)
                    .send()
                    .await
                    .aws("budgets:CreateSubscriber"),
                DUPLICATE,
            )?;
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
