//! `[dashboard]` with its rules: the CloudWatch dashboard's name, models and period.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::{Checker, path};
use super::{Config, PathPart};

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

fn dashboard_period_ok(p: i32) -> bool {
    matches!(p, 1 | 5 | 10 | 30) || (p >= 60 && p % 60 == 0)
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let d = &config.dashboard;
    c.check(
        !d.name.is_empty()
            && d.name.len() <= 255
            && d.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
        path(&["dashboard", "name"]),
        format!(
            "{:?} is not a valid dashboard name: use 1-255 letters, digits, '-' and '_'",
            d.name
        ),
    );
    c.check(
        dashboard_period_ok(d.period_seconds),
        path(&["dashboard", "period_seconds"]),
        format!(
            "{} seconds is not a CloudWatch period: use 1, 5, 10, 30 or a multiple of 60",
            d.period_seconds
        ),
    );
    let mut seen = BTreeSet::new();
    for (i, model) in d.models.iter().enumerate() {
        let p = vec![
            PathPart::Key("dashboard".into()),
            PathPart::Key("models".into()),
            PathPart::Index(i),
        ];
        c.check(
            !model.trim().is_empty() && !model.contains('"') && !model.contains('\''),
            p.clone(),
            format!("{model:?} is not a model ID"),
        );
        c.check(
            seen.insert(model),
            p,
            format!("model {model:?} is listed twice"),
        );
    }
}
