//! The writes: the category, then the monitor (a new one takes over the subscription before
//! the old one goes), then the subscription; and removal in the reverse order.

use aws_sdk_costexplorer::types::{
    AnomalyMonitor, AnomalySubscription, AnomalySubscriptionFrequency, CostCategoryRule,
    CostCategoryRuleVersion, MonitorType, ResourceTag, Subscriber, SubscriberType,
};

use crate::aws::{AwsError, AwsResultExt};
use crate::cost::{expression, spend};
use crate::engine::{ComponentId, Context, Diff};
use crate::resources::absent_if;

use super::{AnomalyDetection, AnomalyState, UNKNOWN};

fn sdk_tags(cx: &Context) -> Result<Vec<ResourceTag>, AwsError> {
    cx.config
        .tags()
        .iter()
        .map(|(k, v)| Ok(ResourceTag::builder().key(k).value(v).build()?))
        .collect()
}

/// Anomaly Detection's account limits, named.
fn limit_hint(e: AwsError) -> AwsError {
    if e.code_is(&["LimitExceededException", "ServiceQuotaExceededException"]) {
        e.with_hint("the account's Cost Anomaly Detection limit is reached (500 custom monitors, one dimensional monitor per dimension, 100 subscriptions per account): delete unused monitors in the Cost Management console")
    } else {
        e
    }
}

impl AnomalyDetection {
    fn sdk_rules(cx: &Context) -> Vec<CostCategoryRule> {
        spend::Definition::new(&cx.config)
            .cost_category_rules()
            .iter()
            .map(|r| {
                CostCategoryRule::builder()
                    .value(spend::COST_CATEGORY_VALUE)
                    .rule(expression::ce_expression(&r["Rule"]))
                    .build()
            })
            .collect()
    }

    fn sdk_subscribers(cx: &Context) -> Vec<Subscriber> {
        Self::subscribers(cx)
            .into_iter()
            .map(|(kind, address)| {
                Subscriber::builder()
                    .r#type(SubscriberType::from(kind.as_str()))
                    .address(address)
                    .build()
            })
            .collect()
    }

    fn frequency(cx: &Context) -> AnomalySubscriptionFrequency {
        AnomalySubscriptionFrequency::from(
            cx.config
                .anomaly_detection
                .as_ref()
                .map(|a| a.frequency.as_str())
                .unwrap_or("IMMEDIATE"),
        )
    }

    async fn create_monitor(cx: &Context) -> Result<String, AwsError> {
        let monitor = AnomalyMonitor::builder()
            .monitor_name(cx.config.anomaly_name())
            .monitor_type(MonitorType::Custom)
            .monitor_specification(expression::ce_expression(&Self::desired_specification(cx)))
            .build()?;
        let out = cx
            .aws
            .costexplorer
            .create_anomaly_monitor()
            .anomaly_monitor(monitor)
            .set_resource_tags(Some(sdk_tags(cx)?))
            .send()
            .await
            .aws("ce:CreateAnomalyMonitor")
            .map_err(limit_hint)?;
        Ok(out.monitor_arn().to_string())
    }

    async fn delete_subscription(cx: &Context, arn: &str) -> Result<(), AwsError> {
        absent_if(
            cx.aws
                .costexplorer
                .delete_anomaly_subscription()
                .subscription_arn(arn)
                .send()
                .await
                .aws("ce:DeleteAnomalySubscription"),
            UNKNOWN,
        )?;
        Ok(())
    }

    async fn delete_monitor(cx: &Context, arn: &str) -> Result<(), AwsError> {
        absent_if(
            cx.aws
                .costexplorer
                .delete_anomaly_monitor()
                .monitor_arn(arn)
                .send()
                .await
                .aws("ce:DeleteAnomalyMonitor"),
            UNKNOWN,
        )?;
        Ok(())
    }

    async fn delete_category(cx: &Context, arn: &str) -> Result<(), AwsError> {
        absent_if(
            cx.aws
                .costexplorer
                .delete_cost_category_definition()
                .cost_category_arn(arn)
                .send()
                .await
                .aws("ce:DeleteCostCategoryDefinition"),
            UNKNOWN,
        )?;
        Ok(())
    }

    async fn tag(cx: &Context, arn: &str) -> Result<(), AwsError> {
        cx.aws
            .costexplorer
            .tag_resource()
            .resource_arn(arn)
            .set_resource_tags(Some(sdk_tags(cx)?))
            .send()
            .await
            .aws("ce:TagResource")?;
        Ok(())
    }

    /// Remove what this stack owns: subscription, monitor, then the category they use.
    pub(super) async fn remove(cx: &Context, state: &AnomalyState) -> Result<(), AwsError> {
        if let Some(s) = state
            .subscription
            .as_ref()
            .filter(|s| Self::owned(cx, &s.tags))
        {
            Self::delete_subscription(cx, &s.arn).await?;
        }
        if let Some(m) = state.monitor.as_ref().filter(|m| Self::owned(cx, &m.tags)) {
            Self::delete_monitor(cx, &m.arn).await?;
        }
        if let Some(c) = state.category.as_ref().filter(|c| Self::owned(cx, &c.tags)) {
            Self::delete_category(cx, &c.arn).await?;
        }
        Ok(())
    }

    pub(super) async fn write(
        cx: &Context,
        state: &AnomalyState,
        diff: &Diff,
    ) -> Result<(), AwsError> {
        if !Self::enabled(cx) {
            return Self::remove(cx, state).await;
        }
        let ce = &cx.aws.costexplorer;
        // The category the monitor watches.
        match &state.category {
            None => {
                ce.create_cost_category_definition()
                    .name(cx.config.anomaly_name())
                    .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                    .set_rules(Some(Self::sdk_rules(cx)))
                    .set_resource_tags(Some(sdk_tags(cx)?))
                    .send()
                    .await
                    .aws("ce:CreateCostCategoryDefinition")
                    .map_err(limit_hint)?;
            }
            Some(c) => {
                if diff.touches("cost_category.rules") {
                    ce.update_cost_category_definition()
                        .cost_category_arn(&c.arn)
                        .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                        .set_rules(Some(Self::sdk_rules(cx)))
                        .send()
                        .await
                        .aws("ce:UpdateCostCategoryDefinition")?;
                }
                if diff.touches("cost_category.tags") {
                    Self::tag(cx, &c.arn).await?;
                }
            }
        }
        // The monitor (replaced when its specification differs).
        let replace = Self::monitor_needs_replacement(cx, state);
        let monitor_arn = match &state.monitor {
            Some(m) if !replace => {
                if diff.touches("monitor.tags") {
                    Self::tag(cx, &m.arn).await?;
                }
                m.arn.clone()
            }
            existing => {
                let arn = Self::create_monitor(cx).await?;
                if let Some(old) = existing {
                    // The subscription moves to the new monitor before the old one goes.
                    if let Some(s) = &state.subscription {
                        ce.update_anomaly_subscription()
                            .subscription_arn(&s.arn)
                            .monitor_arn_list(&arn)
                            .send()
                            .await
                            .aws("ce:UpdateAnomalySubscription")?;
                    }
                    Self::delete_monitor(cx, &old.arn).await?;
                }
                arn
            }
        };
        cx.set_id(ComponentId::AnomalyDetection, "monitor", &monitor_arn);
        // The subscription.
        let threshold = expression::ce_expression(&Self::threshold_expression(cx));
        match &state.subscription {
            None => {
                let subscription = AnomalySubscription::builder()
                    .subscription_name(cx.config.anomaly_name())
                    .monitor_arn_list(&monitor_arn)
                    .set_subscribers(Some(Self::sdk_subscribers(cx)))
                    .frequency(Self::frequency(cx))
                    .threshold_expression(threshold)
                    .build()?;
                let out = ce
                    .create_anomaly_subscription()
                    .anomaly_subscription(subscription)
                    .set_resource_tags(Some(sdk_tags(cx)?))
                    .send()
                    .await
                    .aws("ce:CreateAnomalySubscription")
                    .map_err(limit_hint)?;
                cx.set_id(
                    ComponentId::AnomalyDetection,
                    "subscription",
                    out.subscription_arn(),
                );
            }
            Some(s) => {
                if s.settings != Self::desired_subscription(cx, &monitor_arn) {
                    ce.update_anomaly_subscription()
                        .subscription_arn(&s.arn)
                        .monitor_arn_list(&monitor_arn)
                        .set_subscribers(Some(Self::sdk_subscribers(cx)))
                        .frequency(Self::frequency(cx))
                        .threshold_expression(threshold)
                        .send()
                        .await
                        .aws("ce:UpdateAnomalySubscription")?;
                }
                if diff.touches("subscription.tags") {
                    Self::tag(cx, &s.arn).await?;
                }
            }
        }
        Ok(())
    }
}
