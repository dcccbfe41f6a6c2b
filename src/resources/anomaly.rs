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
use aws_sdk_costexplorer::types::{
    AnomalyMonitor, AnomalySubscription, AnomalySubscriptionFrequency, CostCategoryRule,
    CostCategoryRuleVersion, MonitorType, ResourceTag, Subscriber, SubscriberType,
};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::cost::{expression, spend};
use crate::engine::{
    Action, ComponentId, Context, Diff, FieldChange, Foreign, Health, HealthLevel, Ownership,
    Permission, Resource,
};
use crate::resources::{
    absent_if, foreign_by_tags, ownership_from_tags, tagged_by_stack, tags_field,
};

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

fn tags_of(tags: &[ResourceTag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn sdk_tags(cx: &Context) -> Result<Vec<ResourceTag>, AwsError> {
    cx.config
        .tags()
        .iter()
        .map(|(k, v)| Ok(ResourceTag::builder().key(k).value(v).build()?))
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
    fn enabled(cx: &Context) -> bool {
        cx.config
            .anomaly_detection
            .as_ref()
            .is_some_and(|a| a.enabled)
    }

    fn desired_rules(cx: &Context) -> Value {
        Value::Array(spend::Definition::new(&cx.config).cost_category_rules())
    }

    fn desired_specification(cx: &Context) -> Value {
        spend::anomaly_monitor_specification(&cx.config.anomaly_name())
    }

    fn threshold_expression(cx: &Context) -> Value {
        let Some(a) = &cx.config.anomaly_detection else {
            return Value::Null;
        };
        let part = |key: &str, v: f64| {
            json!({"Dimensions": {
                "Key": key,
                "Values": [v.to_string()],
                "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
            }})
        };
        let parts: Vec<Value> = [
            a.threshold_usd
                .map(|v| part("ANOMALY_TOTAL_IMPACT_ABSOLUTE", v)),
            a.threshold_percent
                .map(|v| part("ANOMALY_TOTAL_IMPACT_PERCENTAGE", v)),
        ]
        .into_iter()
        .flatten()
        .collect();
        let expression = match parts.as_slice() {
            [one] => one.clone(),
            _ => json!({"And": parts}),
        };
        spend::canonical(&expression)
    }

    fn subscribers(cx: &Context) -> Vec<(String, String)> {
        let Some(a) = &cx.config.anomaly_detection else {
            return Vec::new();
        };
        let mut subs: Vec<(String, String)> = if a.frequency == "IMMEDIATE" {
            vec![("SNS".into(), cx.topic_arn())]
        } else {
            cx.config
                .alerts
                .emails
                .iter()
                .map(|e| ("EMAIL".into(), e.clone()))
                .collect()
        };
        subs.sort();
        subs
    }

    fn desired_subscription(cx: &Context, monitor_arn: &str) -> Value {
        let frequency = cx
            .config
            .anomaly_detection
            .as_ref()
            .map(|a| a.frequency.clone())
            .unwrap_or_default();
        json!({
            "frequency": frequency,
            "monitors": [monitor_arn],
            "subscribers": Self::subscribers(cx)
                .into_iter()
                .map(|(kind, address)| json!({"type": kind, "address": address}))
                .collect::<Vec<_>>(),
            "threshold": Self::threshold_expression(cx),
        })
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

    /// The monitor's ARN as it is, or will be after apply.
    fn monitor_arn_for_plan(state: &AnomalyState, replace_monitor: bool) -> String {
        match &state.monitor {
            Some(m) if !replace_monitor => m.arn.clone(),
            _ => "(ARN of the new monitor, known after apply)".into(),
        }
    }

    fn owned(cx: &Context, tags: &BTreeMap<String, String>) -> bool {
        matches!(ownership_from_tags(cx, tags), Ownership::Managed { .. })
    }

    fn monitor_needs_replacement(cx: &Context, state: &AnomalyState) -> bool {
        state.monitor.as_ref().is_some_and(|m| {
            m.monitor_type != "CUSTOM" || m.specification != Self::desired_specification(cx)
        })
    }

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
    async fn remove(cx: &Context, state: &AnomalyState) -> Result<(), AwsError> {
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
}

/// Anomaly Detection's account limits, named.
fn limit_hint(e: AwsError) -> AwsError {
    if e.code_is(&["LimitExceededException", "ServiceQuotaExceededException"]) {
        e.with_hint("the account's Cost Anomaly Detection limit is reached (500 custom monitors, one dimensional monitor per dimension, 100 subscriptions per account): delete unused monitors in the Cost Management console")
    } else {
        e
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

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let tags = cx.config.tags();
        if !Self::enabled(cx) {
            let mut changes = Vec::new();
            for (field, arn, owned) in [
                (
                    "subscription",
                    state.subscription.as_ref().map(|s| (&s.arn, &s.tags)),
                ),
                ("monitor", state.monitor.as_ref().map(|m| (&m.arn, &m.tags))),
                (
                    "cost_category",
                    state.category.as_ref().map(|c| (&c.arn, &c.tags)),
                ),
            ]
            .into_iter()
            .filter_map(|(f, x)| x.map(|(arn, tags)| (f, arn, Self::owned(cx, tags))))
            {
                if owned {
                    changes.push(FieldChange {
                        field: field.into(),
                        old: json!(arn),
                        new: Value::Null,
                    });
                }
            }
            return Diff::removing(changes).with_note(
                "[anomaly_detection] enabled = false: what this stack created is removed",
            );
        }

        let replace_monitor = Self::monitor_needs_replacement(cx, state);
        let monitor_arn = Self::monitor_arn_for_plan(state, replace_monitor);
        let mut changes = Vec::new();
        let mut notes = Vec::new();
        let mut field = |name: &str, old: Value, new: Value| {
            if old != new {
                changes.push(FieldChange {
                    field: name.to_string(),
                    old,
                    new,
                });
            }
        };
        let observed_tags = |t: Option<&BTreeMap<String, String>>| match t {
            Some(t) => tags_field(&tags, t).0,
            None => Value::Null,
        };
        field(
            "cost_category.rules",
            state
                .category
                .as_ref()
                .map(|c| c.rules.clone())
                .unwrap_or(Value::Null),
            Self::desired_rules(cx),
        );
        field(
            "cost_category.tags",
            observed_tags(state.category.as_ref().map(|c| &c.tags)),
            json!(tags),
        );
        field(
            "monitor.specification",
            state
                .monitor
                .as_ref()
                .map(|m| json!({"type": m.monitor_type, "on": m.specification}))
                .unwrap_or(Value::Null),
            json!({"type": "CUSTOM", "on": Self::desired_specification(cx)}),
        );
        field(
            "monitor.tags",
            observed_tags(state.monitor.as_ref().map(|m| &m.tags)),
            json!(tags),
        );
        field(
            "subscription",
            state
                .subscription
                .as_ref()
                .map(|s| s.settings.clone())
                .unwrap_or(Value::Null),
            Self::desired_subscription(cx, &monitor_arn),
        );
        field(
            "subscription.tags",
            observed_tags(state.subscription.as_ref().map(|s| &s.tags)),
            json!(tags),
        );
        if replace_monitor {
            notes.push("the monitor is replaced: AWS cannot change a monitor's specification, and its anomaly history starts again".into());
        }
        if state.category.is_none() {
            notes.push("a new Cost Category applies to billing data within 24 hours; the monitor sees Bedrock spend from then on".into());
        }
        if !state.dimensional.is_empty() {
            notes.push(format!(
                "this account already has dimensional monitor(s) {} (AWS allows one per dimension); they cover Bedrock among all services, this custom monitor covers Bedrock alone",
                state.dimensional.join(", ")
            ));
        }
        let nothing =
            state.category.is_none() && state.monitor.is_none() && state.subscription.is_none();
        let mut diff = Diff::of(changes, !nothing).with_notes(notes);
        if replace_monitor && diff.action == Action::Update {
            diff.action = Action::Replace;
        }
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
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
