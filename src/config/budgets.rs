//! `[[budgets]]` with its rules: each budget's limit, period, tag filter and notifications
//! (its `[budgets.action]` is in `actions`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::{Checker, tag_chars_ok};
use super::{BudgetActionConfig, Config, PathPart};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetConfig {
    pub name: String,
    pub limit_usd: f64,
    pub time_unit: String,
    pub tag_filter: Option<TagFilter>,
    /// `None`: the defaults for the period (see [`BudgetConfig::notifications`]).
    pub notifications: Option<Vec<BudgetNotification>>,
    /// `[budgets.action]`: deny Bedrock to these principals when the threshold is crossed.
    pub action: Option<BudgetActionConfig>,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            name: "BedrockUsageBudget".into(),
            limit_usd: 100.0,
            time_unit: "MONTHLY".into(),
            tag_filter: None,
            notifications: None,
            action: None,
        }
    }
}

/// The most notifications AWS Budgets accepts on one budget.
pub const MAX_BUDGET_NOTIFICATIONS: usize = 10;

impl BudgetConfig {
    /// The notifications this budget gets: the configured ones, or the defaults, 80 % actual
    /// and 100 % forecasted. AWS Budgets rejects forecasted notifications on DAILY budgets, so
    /// a daily budget's defaults are 80 % and 100 % actual instead.
    pub fn notifications(&self) -> Vec<BudgetNotification> {
        if let Some(configured) = &self.notifications {
            return configured.clone();
        }
        let second = if self.time_unit == "DAILY" {
            "ACTUAL"
        } else {
            "FORECASTED"
        };
        vec![
            BudgetNotification {
                kind: "ACTUAL".into(),
                threshold_percent: 80.0,
            },
            BudgetNotification {
                kind: second.into(),
                threshold_percent: 100.0,
            },
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TagFilter {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BudgetNotification {
    #[serde(rename = "type")]
    pub kind: String,
    pub threshold_percent: f64,
}

const TIME_UNITS: &[&str] = &["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"];

pub(super) fn check(config: &Config, c: &mut Checker) {
    let mut names = BTreeSet::new();
    for (i, b) in config.budgets.iter().enumerate() {
        let p = |field: &str| {
            vec![
                PathPart::Key("budgets".into()),
                PathPart::Index(i),
                PathPart::Key(field.into()),
            ]
        };
        c.check(
            !b.name.is_empty()
                && b.name.len() <= 100
                && !b.name.contains(':')
                && !b.name.contains('\\')
                && !b.name.contains("/action/")
                && !b.name.chars().any(|ch| ch.is_control()),
            p("name"),
            format!(
                "{:?} is not a valid budget name: 1-100 characters without ':', '\\' or \"/action/\" (AWS Budgets' naming rule)",
                b.name
            ),
        );
        c.check(
            names.insert(b.name.clone()),
            p("name"),
            format!("budget name {:?} is used twice", b.name),
        );
        c.check(
            b.limit_usd.is_finite() && b.limit_usd > 0.0,
            p("limit_usd"),
            format!("{} USD: a budget limit must be more than 0", b.limit_usd),
        );
        c.check(
            TIME_UNITS.contains(&b.time_unit.as_str()),
            p("time_unit"),
            format!(
                "{:?} is not a budget period: use one of {}",
                b.time_unit,
                TIME_UNITS.join(", ")
            ),
        );
        if let Some(tf) = &b.tag_filter {
            c.check(
                !tf.key.is_empty()
                    && !tf.key.to_ascii_lowercase().starts_with("aws:")
                    && tag_chars_ok(&tf.key),
                p("tag_filter"),
                format!(
                    "tag key {:?} must be a user cost-allocation tag key (not empty, not \"aws:\")",
                    tf.key
                ),
            );
        }
        let notifications = b.notifications.as_deref().unwrap_or_default();
        if notifications.len() > MAX_BUDGET_NOTIFICATIONS {
            c.fail(
                p("notifications"),
                format!(
                    "{} notifications: AWS Budgets allows at most {MAX_BUDGET_NOTIFICATIONS} per budget",
                    notifications.len()
                ),
            );
        }
        for (j, n) in notifications.iter().enumerate() {
            let np = |field: &str| {
                vec![
                    PathPart::Key("budgets".into()),
                    PathPart::Index(i),
                    PathPart::Key("notifications".into()),
                    PathPart::Index(j),
                    PathPart::Key(field.into()),
                ]
            };
            c.check(
                n.kind == "ACTUAL" || n.kind == "FORECASTED",
                np("type"),
                format!(
                    "{:?} is not a notification type: use ACTUAL or FORECASTED",
                    n.kind
                ),
            );
            c.check(
                !(n.kind == "FORECASTED" && b.time_unit == "DAILY"),
                np("type"),
                "AWS Budgets does not send FORECASTED alerts for DAILY budgets: use ACTUAL, or a \
                 MONTHLY, QUARTERLY or ANNUALLY budget",
            );
            c.check(
                n.threshold_percent.is_finite()
                    && n.threshold_percent > 0.0
                    && n.threshold_percent <= 1000.0,
                np("threshold_percent"),
                format!(
                    "{}: a threshold must be more than 0 and at most 1000 percent",
                    n.threshold_percent
                ),
            );
        }
        let mut kinds = BTreeSet::new();
        for (j, n) in notifications.iter().enumerate() {
            if !kinds.insert((n.kind.clone(), n.threshold_percent.to_bits())) {
                c.fail(
                    vec![
                        PathPart::Key("budgets".into()),
                        PathPart::Index(i),
                        PathPart::Key("notifications".into()),
                        PathPart::Index(j),
                    ],
                    "the same notification type and threshold is listed twice",
                );
            }
        }
    }
}
