//! `--daily`: usage and cost per UTC day, from the metrics' own datapoints (no extra call) and,
//! with the bill, Cost Explorer's daily figures.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::PriceConfig;
use crate::cost::prices;

use super::billing::Billing;
use super::metrics::ModelDay;
use super::{ModelUsage, round_cost, to_count};

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
    /// The day per model, from the metrics (the HTML report stacks its daily chart from these);
    /// absent on a day only the bill has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<DayModel>,
}

/// One model's share of a day, priced as its row in the report is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayModel {
    pub model_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `null` when the model has no price.
    pub estimated_cost_usd: Option<f64>,
}

/// Days from the metrics, each model priced with the table the model rows use; an application
/// inference profile (named in `rows`) is priced as the model it routes to, as its row is.
pub fn from_metrics(
    days: &BTreeMap<NaiveDate, BTreeMap<usize, ModelDay>>,
    model_ids: &[String],
    rows: &[ModelUsage],
    overrides: &BTreeMap<String, PriceConfig>,
    region: &str,
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
                models: Vec::new(),
            };
            let mut cost = 0.0;
            for (index, usage) in models {
                let Some(id) = model_ids.get(*index) else {
                    continue;
                };
                let (input, output) = (to_count(usage.input_tokens), to_count(usage.output_tokens));
                let invocations = to_count(usage.invocations);
                row.invocations += invocations;
                row.input_tokens += input;
                row.output_tokens += output;
                let priced_as = rows
                    .iter()
                    .find(|r| &r.model_id == id)
                    .and_then(|r| r.profile.as_ref())
                    .map_or(id.as_str(), |p| p.model.as_str());
                let model_cost = prices::lookup(priced_as, Some(region), overrides).map(|found| {
                    found
                        .price
                        .cost_of(&prices::Tokens {
                            input,
                            output,
                            cache_read: to_count(usage.cache_read_input_tokens),
                            cache_write: to_count(usage.cache_write_input_tokens),
                            cache_write_1h: 0,
                        })
                        .usd
                });
                cost += model_cost.unwrap_or(0.0);
                row.models.push(DayModel {
                    model_id: id.clone(),
                    invocations,
                    input_tokens: input,
                    output_tokens: output,
                    estimated_cost_usd: model_cost.map(round_cost),
                });
            }
            // The report's model order (costliest first), so every day stacks alike.
            row.models.sort_by_key(|m| {
                rows.iter()
                    .position(|r| r.model_id == m.model_id)
                    .unwrap_or(usize::MAX)
            });
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
                models: Vec::new(),
            }),
        }
    }
    days.sort_by_key(|d| d.date);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::profiles::ProfileRef;

    /// Each model's day is priced as its report row is (a profile as the model it routes to),
    /// and the models' costs make up the day's estimate.
    #[test]
    fn days_carry_each_models_cost() {
        let haiku = "anthropic.claude-3-5-haiku-20241022-v1:0";
        let profile = "abcdefghijkl";
        let unknown = "acme.mystery-v1:0";
        let ids = vec![unknown.to_string(), haiku.to_string(), profile.to_string()];
        let rows = vec![
            ModelUsage {
                model_id: haiku.into(),
                ..ModelUsage::empty()
            },
            ModelUsage {
                model_id: profile.into(),
                profile: Some(ProfileRef {
                    name: "team-search".into(),
                    arn: format!(
                        "arn:aws:bedrock:us-east-1:1:application-inference-profile/{profile}"
                    ),
                    model: haiku.into(),
                }),
                ..ModelUsage::empty()
            },
            ModelUsage {
                model_id: unknown.into(),
                ..ModelUsage::empty()
            },
        ];
        let day = |invocations: f64, input: f64, output: f64| ModelDay {
            invocations,
            input_tokens: input,
            output_tokens: output,
            ..ModelDay::default()
        };
        let date = NaiveDate::from_ymd_opt(2026, 11, 2).expect("date");
        let mut models = BTreeMap::new();
        models.insert(0, day(1.0, 1000.0, 0.0));
        models.insert(1, day(2.0, 100_000.0, 10_000.0));
        models.insert(2, day(3.0, 50_000.0, 5_000.0));
        let days = from_metrics(
            &BTreeMap::from([(date, models)]),
            &ids,
            &rows,
            &BTreeMap::new(),
            "us-east-1",
        );
        let [only] = days.as_slice() else {
            panic!("one day: {days:?}")
        };
        let order: Vec<&str> = only.models.iter().map(|m| m.model_id.as_str()).collect();
        assert_eq!(order, [haiku, profile, unknown], "the rows' order");
        // 100 × 0.0008 + 10 × 0.004 and 50 × 0.0008 + 5 × 0.004.
        assert_eq!(only.models[0].estimated_cost_usd, Some(0.12));
        assert_eq!(only.models[1].estimated_cost_usd, Some(0.06));
        assert_eq!(only.models[2].estimated_cost_usd, None);
        assert_eq!(only.models[1].invocations, 3);
        assert_eq!(only.estimated_cost_usd, Some(0.18));
        assert_eq!(only.input_tokens, 151_000);
    }
}
