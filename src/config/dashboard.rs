//! `[dashboard]`: the CloudWatch dashboard's name, models and period.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    pub name: String,
    /// Empty: SEARCH expressions show every model. Otherwise one line per listed model.
    pub models: Vec<String>,
    pub period_seconds: i32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig {
            name: "BedrockUsageMonitoring".into(),
            models: Vec::new(),
            period_seconds: 300,
        }
    }
}
