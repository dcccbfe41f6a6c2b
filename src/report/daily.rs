//! `--daily`: usage and cost per UTC day, from the metrics' own datapoints (no extra call) and,
//! with the bill, Cost Explorer's daily figures.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::PriceConfig;
use crate::cost::prices;

use super::billing::Billing;
use super::metrics::ModelDay;
use super::{round_cost, to_count};

/// One UTC day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayUsage {
    pub date: NaiveDate,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The estimate for the priced models (`null` with the bill only).
    pub estimated_cost_usd: Option<f64>,
    /// With the bill: what Cost Explorer billed that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_tokens: Option<u64>,
}

/// Days from the metrics, each model priced with the table the model rows use.
pub fn from_metrics(
    days: &BTreeMap<NaiveDate, BTreeMap<usize, ModelDay>>,
    model_ids: &[String],
    overrides: &BTreeMap<String, PriceConfig>,
) -> Vec<DayUsage> {
    days.iter()
        .map(|(date, models)| {
            let mut row = DayUsage {
                date: *date,
                invocations: 0,
                input_tokens: 0,
                output_tokens: 0,
                estimated_cost_usd: Some(0.0),
                billed_cost_usd: None,
                billed_tokens: None,
            };
            let mut cost = 0.0;
            for (index, usage) in models {
                let (input, output) = (to_count(usage.input_tokens), to_count(usage.output_tokens));
                row.invocations += to_count(usage.invocations);
                row.input_tokens += input;
                row.output_tokens += output;
                if let Some(found) = model_ids
                    .get(*index)
                    .and_then(|id| prices::lookup(id, overrides))
                {
                    cost += found
                        .price
                        .cost_of(&prices::Tokens {
                            input,
                            output,
                            cache_read: to_count(usage.cache_read_input_tokens),
                            cache_write: to_count(usage.cache_write_input_tokens),
                            cache_write_1h: 0,
                        })
                        .usd;
                }
            }
            row.estimated_cost_usd = Some(round_cost(cost));
            row
        })
        .collect()
}

/// Adds the bill's days (a day only on the bill gets a row of its own).
pub fn add_billing(days: &mut Vec<DayUsage>, billing: &Billing) {
    for billed in &billing.days {
        match days.iter_mut().find(|d| d.date == billed.date) {
            Some(day) => {
                day.billed_cost_usd = Some(billed.cost_usd);
                day.billed_tokens = billed.tokens;
            }
            None => days.push(DayUsage {
                date: billed.date,
                invocations: 0,
                input_tokens: 0,
                output_tokens: 0,
                estimated_cost_usd: None,
                billed_cost_usd: Some(billed.cost_usd),
                billed_tokens: billed.tokens,
            }),
        }
    }
    days.sort_by_key(|d| d.date);
}
