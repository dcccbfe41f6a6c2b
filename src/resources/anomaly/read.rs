//! What exists: the Cost Category, monitor and subscription of the configured name, with their
//! tags, and the account's dimensional monitors.

use std::collections::BTreeMap;

use aws_sdk_costexplorer::types::{AnomalySubscription, MonitorType, ResourceTag};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::cost::expression;
use crate::engine::{ComponentId, Context};
use crate::resources::absent_if;

use super::{
    AnomalyDetection, AnomalyState, ObservedCategory, ObservedMonitor, ObservedSubscription,
    UNKNOWN,
};

fn tags_of(tags: &[ResourceTag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn read_tags(cx: &Context, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let out = absent_if(
        cx.aws
            .costexplorer
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .aws("ce:ListTagsForResource"),
        UNKNOWN,
    )?;
    Ok(out.map(|o| tags_of(o.resource_tags())).unwrap_or_default())
}

impl AnomalyDetection {
    pub(super) async fn read_state(cx: &Context) -> Result<AnomalyState, AwsError> {
        cx.require_payer(
            "Cost Anomaly Detection on a Cost Category",
            "anomaly_detection",
        )
        .await?;
        let name = cx.config.anomaly_name();
        let ce = &cx.aws.costexplorer;
        let mut state = AnomalyState::default();

        let mut category_arn = None;
        let mut next = None;
        loop {
            let page = ce
                .list_cost_category_definitions()
                .set_next_token(next)
                .send()
                .await
                .aws("ce:ListCostCategoryDefinitions")?;
            category_arn = category_arn.or_else(|| {
                page.cost_category_references()
                    .iter()
                    .find(|r| r.name() == Some(name.as_str()) && r.effective_end().is_none())
                    .and_then(|r| r.cost_category_arn().map(str::to_string))
            });
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        if let Some(arn) = category_arn {
            let described = absent_if(
                ce.describe_cost_category_definition()
                    .cost_category_arn(&arn)
                    .send()
                    .await
                    .aws("ce:DescribeCostCategoryDefinition"),
                UNKNOWN,
            )?;
            if let Some(c) = described.and_then(|d| d.cost_category().cloned()) {
                let rules: Vec<Value> = c
                    .rules()
                    .iter()
                    .map(|r| {
                        json!({
                            "Value": r.value(),
                            "Rule": r.rule().map(expression::to_json).unwrap_or(Value::Null),
                        })
                    })
                    .collect();
                state.category = Some(ObservedCategory {
                    tags: read_tags(cx, &arn).await?,
                    arn,
                    rules: Value::Array(rules),
                });
            }
        }

        let mut next = None;
        loop {
            let page = ce
                .get_anomaly_monitors()
                .set_next_page_token(next)
                .send()
                .await
                .aws("ce:GetAnomalyMonitors")?;
            for m in page.anomaly_monitors() {
                if m.monitor_type() == &MonitorType::Dimensional {
                    state.dimensional.push(format!(
                        "{} ({})",
                        m.monitor_name(),
                        m.monitor_dimension().map(|d| d.as_str()).unwrap_or("?")
                    ));
                }
                if m.monitor_name() == name
                    && state.monitor.is_none()
                    && let Some(arn) = m.monitor_arn()
                {
                    state.monitor = Some(ObservedMonitor {
                        arn: arn.to_string(),
                        monitor_type: m.monitor_type().as_str().to_string(),
                        specification: m
                            .monitor_specification()
                            .map(expression::to_json)
                            .unwrap_or(Value::Null),
                        tags: BTreeMap::new(),
                    });
                }
            }
            next = page.next_page_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        if let Some(m) = &mut state.monitor {
            m.tags = read_tags(cx, &m.arn).await?;
            cx.set_id(ComponentId::AnomalyDetection, "monitor", &m.arn);
        }

        let mut next = None;
        loop {
            let page = ce
                .get_anomaly_subscriptions()
                .set_next_page_token(next)
                .send()
                .await
                .aws("ce:GetAnomalySubscriptions")?;
            if state.subscription.is_none()
                && let Some(s) = page
                    .anomaly_subscriptions()
                    .iter()
                    .find(|s| s.subscription_name() == name)
                && let Some(arn) = s.subscription_arn()
            {
                state.subscription = Some(ObservedSubscription {
                    arn: arn.to_string(),
                    settings: Self::observed_subscription(s),
                    tags: BTreeMap::new(),
                });
            }
            next = page.next_page_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        if let Some(s) = &mut state.subscription {
            s.tags = read_tags(cx, &s.arn).await?;
            cx.set_id(ComponentId::AnomalyDetection, "subscription", &s.arn);
        }
        Ok(state)
    }

    fn observed_subscription(s: &AnomalySubscription) -> Value {
        let mut subscribers: Vec<(String, String)> = s
            .subscribers()
            .iter()
            .map(|x| {
                (
                    x.r#type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    x.address().unwrap_or_default().to_string(),
                )
            })
            .collect();
        subscribers.sort();
        let mut monitors = s.monitor_arn_list().to_vec();
        monitors.sort();
        json!({
            "frequency": s.frequency().as_str(),
            "monitors": monitors,
            "subscribers": subscribers
                .into_iter()
                .map(|(kind, address)| json!({"type": kind, "address": address}))
                .collect::<Vec<_>>(),
            "threshold": s.threshold_expression().map(expression::to_json).unwrap_or(Value::Null),
        })
    }
}
