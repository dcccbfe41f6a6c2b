//! What the config asks for (the category's rules, the monitor's specification, the
//! subscription's settings) and the plan's changes against what exists.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::cost::spend;
use crate::engine::{Action, Context, Diff, FieldChange};
use crate::resources::tags_field;

use super::{AnomalyDetection, AnomalyState};

impl AnomalyDetection {
    pub(super) fn desired_rules(cx: &Context) -> Value {
        Value::Array(spend::Definition::new(&cx.config).cost_category_rules())
    }

    pub(super) fn desired_specification(cx: &Context) -> Value {
        spend::anomaly_monitor_specification(&cx.config.anomaly_name())
    }

    pub(super) fn threshold_expression(cx: &Context) -> Value {
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

    pub(super) fn subscribers(cx: &Context) -> Vec<(String, String)> {
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

    pub(super) fn desired_subscription(cx: &Context, monitor_arn: &str) -> Value {
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

    /// The monitor's ARN as it is, or will be after apply.
    pub(super) fn monitor_arn_for_plan(state: &AnomalyState, replace_monitor: bool) -> String {
        match &state.monitor {
            Some(m) if !replace_monitor => m.arn.clone(),
            _ => "(ARN of the new monitor, known after apply)".into(),
        }
    }

    pub(super) fn monitor_needs_replacement(cx: &Context, state: &AnomalyState) -> bool {
        state.monitor.as_ref().is_some_and(|m| {
            m.monitor_type != "CUSTOM" || m.specification != Self::desired_specification(cx)
        })
    }

    pub(super) fn plan(cx: &Context, state: &AnomalyState) -> Diff {
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
}
