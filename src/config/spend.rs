//! `[spend]` and `[pricing]` with the prices' rules: what counts as Bedrock spend, and what a
//! token costs where the built-in table is not what the user pays.

use serde::{Deserialize, Serialize};

use super::rules::Checker;
use super::{Config, PathPart};

/// `[spend]`: what "Bedrock spend" covers besides model inference.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SpendConfig {
    /// Count Amazon Bedrock AgentCore (agent runtime, memory, gateway: a service billed on its
    /// own) as Bedrock spend in budgets, budget actions, anomaly detection and the bill.
    pub include_agentcore: bool,
    /// Count credits and refunds in budgets: off by default, so a budget measures gross usage
    /// (AWS Budgets counts both unless the filter leaves them out, and credits spent on
    /// Bedrock would otherwise hold a budget near zero while usage grows).
    pub count_credits_and_refunds: bool,
}

impl Default for SpendConfig {
    fn default() -> Self {
        SpendConfig {
            include_agentcore: true,
            count_credits_and_refunds: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    /// Prompt-cache reads; without it, cache reads of the models this entry prices are
    /// reported unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_per_1k: Option<f64>,
    /// Prompt-cache writes with the default 5-minute lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_1k: Option<f64>,
    /// Prompt-cache writes with a 1-hour lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h_per_1k: Option<f64>,
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    for (key, price) in &config.pricing {
        let p = |field: &str| {
            vec![
                PathPart::Key("pricing".into()),
                PathPart::Key(key.clone()),
                PathPart::Key(field.into()),
            ]
        };
        if key.trim().is_empty() {
            c.fail(
                vec![PathPart::Key("pricing".into())],
                "a pricing key must be a model ID or part of one",
            );
        }
        c.check(
            price.input_per_1k.is_finite() && price.input_per_1k >= 0.0,
            p("input_per_1k"),
            "a price must be 0 or more (USD per 1,000 input tokens)",
        );
        c.check(
            price.output_per_1k.is_finite() && price.output_per_1k >= 0.0,
            p("output_per_1k"),
            "a price must be 0 or more (USD per 1,000 output tokens)",
        );
        for (field, value, what) in [
            (
                "cache_read_per_1k",
                price.cache_read_per_1k,
                "prompt-cache read",
            ),
            (
                "cache_write_per_1k",
                price.cache_write_per_1k,
                "prompt-cache write",
            ),
            (
                "cache_write_1h_per_1k",
                price.cache_write_1h_per_1k,
                "1-hour prompt-cache write",
            ),
        ] {
            c.check(
                value.is_none_or(|v| v.is_finite() && v >= 0.0),
                p(field),
                format!("a price must be 0 or more (USD per 1,000 {what} tokens)"),
            );
        }
    }
}
