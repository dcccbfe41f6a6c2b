//! The alarms `[quotas]` asks for, from the applied quotas: per named model, one on
//! `EstimatedTPMQuotaUsage` at `alarm_percent` of its tokens-per-minute quota, one on
//! `Invocations` at that share of its requests-per-minute quota where AWS still lists one, and
//! with `ttft_p90_ms` one on the p90 of `TimeToFirstToken`. They are ordinary alarms of the
//! `alarms` component (named under its prefix, so one the config stops asking for is deleted).
//!
//! Thresholds are absolute (tokens or requests in one minute, like the metric), whole
//! numbers, so that a threshold read back from CloudWatch equals the one asked for. A daily
//! quota gets no alarm: an alarm's period can be a day at most and would fire only once the
//! day's tokens were spent; `quotas` shows the daily headroom instead.

use crate::config::{AlarmSpec, Endpoint, QuotasConfig};

use super::{Kind, QuotaBook, Scope};

/// The alarms' name prefix, under the `alarms` component's `Bedrock-`.
pub const NAME_PREFIX: &str = "Bedrock-Quota-";

/// One minute: the quotas' own period and the metrics' finest aggregation (the ML blog:
/// "Update frequency | 1-minute aggregation").
const MINUTE: i32 = 60;

/// TimeToFirstToken's p90 is taken over five minutes: a single slow stream in a quiet minute
/// should not page anyone.
pub const TTFT_PERIOD: i32 = 300;

/// `EstimatedTPMQuotaUsage` and `TimeToFirstToken` (Bedrock user guide, "Monitor
/// bedrock-runtime inference using CloudWatch metrics").
pub const TPM_METRIC: &str = "EstimatedTPMQuotaUsage";
pub const TTFT_METRIC: &str = "TimeToFirstToken";
pub const RPM_METRIC: &str = "Invocations";

const TTFT: &str = "TTFT-p90";

fn name(what: &str, model: &str) -> String {
    format!("{NAME_PREFIX}{what}-{model}")
}

/// Every name [`specs`] can give for `config`, whatever the quotas: what `permissions`
/// grants, so that the policy does not depend on which quotas AWS lists.
pub fn possible_names(config: Option<&QuotasConfig>) -> Vec<String> {
    let Some(config) = config else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for model in &config.models {
        names.push(name(Kind::TokensPerMinute.abbreviation(), model));
        names.push(name(Kind::RequestsPerMinute.abbreviation(), model));
        if config.ttft_p90_ms.is_some() {
            names.push(name(TTFT, model));
        }
    }
    names
}

/// The alarm specs and, for each named model the quotas cannot serve, why it has none.
pub fn specs(config: &QuotasConfig, book: &QuotaBook) -> (Vec<AlarmSpec>, Vec<String>) {
    let mut specs = Vec::new();
    let mut notes = Vec::new();
    let share = config.alarm_percent;
    for model in &config.models {
        for (kind, metric) in [
            (Kind::TokensPerMinute, TPM_METRIC),
            (Kind::RequestsPerMinute, RPM_METRIC),
        ] {
            match book.limit(model, kind) {
                Some(limit) if limit.value > 0.0 => {
                    let threshold = (limit.value * share / 100.0).floor().max(1.0);
                    specs.push(spec(
                        name(kind.abbreviation(), model),
                        metric,
                        "Sum",
                        MINUTE,
                        threshold,
                        model,
                        format!(
                            "{model}: {} in one minute above {share}% of the applied quota {} ({} = {})",
                            match kind {
                                Kind::RequestsPerMinute => "requests",
                                _ => "tokens (as the quota counts them)",
                            },
                            limit.quota.code,
                            limit.quota.name,
                            limit.value
                        ),
                    ));
                }
                Some(limit) => notes.push(format!(
                    "[quotas] {model}: the applied quota {} is 0; no {} alarm",
                    limit.quota.code,
                    kind.abbreviation()
                )),
                // RPM quotas are gone from new accounts (May 2026): only a missing TPM quota
                // is worth saying.
                None if kind == Kind::TokensPerMinute => notes.push(format!(
                    "[quotas] {model}: no applied tokens-per-minute quota for its model and \
                     scope ({}) in this Region, so no quota alarm; `bedrock-monitor quotas` \
                     lists the quotas it could not tie to a model",
                    Scope::of_model_id(model).as_str()
                )),
                None => {}
            }
        }
        if let Some(ms) = config.ttft_p90_ms {
            specs.push(spec(
                name(TTFT, model),
                TTFT_METRIC,
                "p90",
                TTFT_PERIOD,
                ms,
                model,
                format!("{model}: p90 time to first token over five minutes above {ms} ms"),
            ));
        }
    }
    (specs, notes)
}

fn spec(
    name: String,
    metric: &str,
    statistic: &str,
    period_seconds: i32,
    threshold: f64,
    model: &str,
    description: String,
) -> AlarmSpec {
    AlarmSpec {
        key: name.clone(),
        name,
        enabled: true,
        endpoint: Endpoint::Runtime,
        metric: metric.to_string(),
        statistic: statistic.to_string(),
        period_seconds,
        evaluation_periods: 1,
        threshold,
        comparison: "GreaterThanThreshold".to_string(),
        model_id: Some(model.to_string()),
        inference_profile: None,
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::catalogue::CatalogModel;
    use crate::quotas::ListedQuota;

    #[test]
    fn thresholds_are_the_share_of_each_scopes_quota() {
        let catalogue = [CatalogModel {
            id: "anthropic.claude-3-haiku-20240307-v1:0".into(),
            name: "Claude 3 Haiku".into(),
            provider: "Anthropic".into(),
        }];
        let listed = |code: &str, name: &str, value: f64| ListedQuota {
            code: code.into(),
            name: name.into(),
            value,
            adjustable: true,
        };
        let book = QuotaBook::new(
            vec![
                listed(
                    "L-1",
                    "On-demand model inference tokens per minute for Anthropic Claude 3 Haiku",
                    400_000.0,
                ),
                listed(
                    "L-2",
                    "On-demand model inference requests per minute for Anthropic Claude 3 Haiku",
                    1_000.0,
                ),
                listed(
                    "L-3",
                    "Cross-region model inference tokens per minute for Anthropic Claude 3 Haiku",
                    2_000_001.0,
                ),
            ],
            &catalogue,
        );
        let config = QuotasConfig {
            alarm_percent: 80.0,
            models: vec![
                "anthropic.claude-3-haiku-20240307-v1:0".into(),
                "us.anthropic.claude-3-haiku-20240307-v1:0".into(),
                "global.anthropic.claude-3-haiku-20240307-v1:0".into(),
            ],
            ttft_p90_ms: Some(1500.0),
        };
        let (specs, notes) = specs(&config, &book);
        let threshold = |name: &str| {
            specs
                .iter()
                .find(|s| s.name == name)
                .map(|s| (s.metric.as_str(), s.threshold))
        };
        assert_eq!(
            threshold("Bedrock-Quota-TPM-anthropic.claude-3-haiku-20240307-v1:0"),
            Some((TPM_METRIC, 320_000.0))
        );
        assert_eq!(
            threshold("Bedrock-Quota-RPM-anthropic.claude-3-haiku-20240307-v1:0"),
            Some((RPM_METRIC, 800.0))
        );
        assert_eq!(
            threshold("Bedrock-Quota-TPM-us.anthropic.claude-3-haiku-20240307-v1:0"),
            Some((TPM_METRIC, 1_600_000.0)),
            "whole tokens, rounded down"
        );
        assert_eq!(
            threshold("Bedrock-Quota-TTFT-p90-global.anthropic.claude-3-haiku-20240307-v1:0"),
            Some((TTFT_METRIC, 1500.0))
        );
        assert_eq!(specs.len(), 3 + 3, "{specs:?}");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("global.anthropic"), "{notes:?}");
    }
}
