//! `[[budgets]]`: each budget's limit, period, tag filter and notifications (its
//! `[budgets.action]` is in `actions`).

use serde::{Deserialize, Serialize};

use super::BudgetActionConfig;

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
