//! `[quotas]`: alarms at a share of each named model's applied Bedrock quota, and an opt-in
//! time-to-first-token alarm. The thresholds come from Service Quotas at plan time, so a
//! quota AWS raises moves its alarm with it (`crate::quotas`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::attribution::model_id_ok;
use super::rules::Checker;
use super::{Config, PathPart};

/// `alarm_percent` when not given: warn at four fifths of the quota.
pub const DEFAULT_ALARM_PERCENT: f64 = 80.0;

/// `[quotas]`; absent: no quota alarms (the `quotas` command works without it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuotasConfig {
    /// The share of the applied quota, in percent (1-100), at which a model's alarm fires.
    pub alarm_percent: f64,
    /// Model IDs as CloudWatch's `ModelId` names them: a model ID for in-Region calls, a
    /// system inference profile ID (`us.…`, `global.…`) for calls through it.
    pub models: Vec<String>,
    /// Alarm when a model's p90 time to first token (streaming calls) is over this many
    /// milliseconds; absent: no such alarm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_p90_ms: Option<f64>,
}

impl Default for QuotasConfig {
    fn default() -> Self {
        QuotasConfig {
            alarm_percent: DEFAULT_ALARM_PERCENT,
            models: Vec::new(),
            ttft_p90_ms: None,
        }
    }
}

fn path(field: &str) -> Vec<PathPart> {
    vec![PathPart::Key("quotas".into()), PathPart::Key(field.into())]
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let Some(q) = &config.quotas else {
        return;
    };
    c.check(
        q.alarm_percent.is_finite() && (1.0..=100.0).contains(&q.alarm_percent),
        path("alarm_percent"),
        format!(
            "{} is not a share of a quota: use a percentage from 1 to 100",
            q.alarm_percent
        ),
    );
    c.check(
        !q.models.is_empty(),
        path("models"),
        "name at least one model ID (as CloudWatch's ModelId shows it, e.g. \
         \"us.anthropic.claude-haiku-4-5-20251001-v1:0\"), or remove [quotas]",
    );
    let mut seen = BTreeSet::new();
    for (i, model) in q.models.iter().enumerate() {
        let p = vec![
            PathPart::Key("quotas".into()),
            PathPart::Key("models".into()),
            PathPart::Index(i),
        ];
        c.check(
            model_id_ok(model),
            p.clone(),
            format!(
                "{model:?} is not a model ID: use one as CloudWatch's ModelId shows it \
                 (provider.model-version, with a us./eu./global. prefix for a profile)"
            ),
        );
        c.check(
            seen.insert(model),
            p,
            format!("model {model:?} is listed twice"),
        );
    }
    if let Some(ms) = q.ttft_p90_ms {
        c.check(
            ms.is_finite() && ms > 0.0,
            path("ttft_p90_ms"),
            format!("{ms} is not a time: give milliseconds above 0"),
        );
    }
}
