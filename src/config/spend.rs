//! `[spend]` and `[pricing]`: what counts as Bedrock spend, and what a token costs where the
//! built-in table is not what the user pays.

use serde::{Deserialize, Serialize};

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
