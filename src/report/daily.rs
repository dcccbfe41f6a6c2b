//! `--daily`: usage and cost per UTC day, from the metrics' own datapoints (no extra call) and,
//! with the bill, Cost Explorer's daily figures.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::PriceConfig;

use super::billing::Billing;
use super::metrics::ModelDay;
use super::{pricing, round_cost, to_count};

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
                    .and_then(|id| pricing::lookup(id, overrides))
                {
                    cost += found.price.cost(input, output);
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
                day.billed_tokens = Some(billed.tokens);
            }
            None => days.push(DayUsage {
                date: billed.date,
                invocations: 0,
                input_tokens: 0,
                output_tokens: 0,
                estimated_cost_usd: None,
                billed_cost_usd: Some(billed.cost_usd),
                billed_tokens: Some(billed.tokens),
            }),
        }
    }
    days.sort_by_key(|d| d.date);
}

/// The text bar chart: one bar per day, scaled to the costliest day (the bill where there is
/// one, else the estimate), with cost and tokens.
pub fn bars(days: &[DayUsage], width: usize) -> String {
    let cost = |d: &DayUsage| d.billed_cost_usd.or(d.estimated_cost_usd).unwrap_or(0.0);
    let tokens = |d: &DayUsage| d.billed_tokens.unwrap_or(d.input_tokens + d.output_tokens);
    let by_cost = days.iter().any(|d| cost(d) > 0.0);
    let top = days
        .iter()
        .map(|d| if by_cost { cost(d) } else { tokens(d) as f64 })
        .fold(0.0, f64::max);
    let mut out = String::new();
    for d in days {
        let value = if by_cost { cost(d) } else { tokens(d) as f64 };
        let length = if top > 0.0 {
            ((value / top) * width as f64).round() as usize
        } else {
            0
        };
        let label = if d.billed_cost_usd.is_some() {
            "billed"
        } else {
            "est."
        };
        out.push_str(&format!(
            "{} {:<width$} {} {}, {} tokens\n",
            d.date,
            "█".repeat(length),
            label,
            super::render::usd(cost(d)),
            super::render::count(tokens(d)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, estimate: Option<f64>, billed: Option<f64>, tokens: u64) -> DayUsage {
        DayUsage {
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"),
            invocations: 1,
            input_tokens: tokens,
            output_tokens: 0,
            estimated_cost_usd: estimate,
            billed_cost_usd: billed,
            billed_tokens: billed.map(|_| tokens),
        }
    }

    #[test]
    fn bars_scale_to_the_costliest_day() {
        let days = vec![
            day("2026-11-01", Some(1.0), None, 1000),
            day("2026-11-02", Some(2.0), None, 3000),
            day("2026-11-03", Some(0.0), None, 0),
        ];
        let text = bars(&days, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("2026-11-01 █████ "), "{text}");
        assert!(
            lines[1].starts_with("2026-11-02 ██████████ est. $2.00, 3,000 tokens"),
            "{text}"
        );
        assert!(lines[2].contains("$0.00, 0 tokens"), "{text}");
    }

    #[test]
    fn the_bill_is_preferred_and_adds_its_own_days() {
        let mut days = vec![day("2026-11-02", Some(2.0), None, 3000)];
        let billing = Billing {
            days: vec![
                super::super::billing::BilledDay {
                    date: NaiveDate::parse_from_str("2026-11-01", "%Y-%m-%d").expect("date"),
                    cost_usd: 4.0,
                    tokens: 10,
                },
                super::super::billing::BilledDay {
                    date: NaiveDate::parse_from_str("2026-11-02", "%Y-%m-%d").expect("date"),
                    cost_usd: 2.2,
                    tokens: 3100,
                },
            ],
            ..Billing::default()
        };
        add_billing(&mut days, &billing);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].estimated_cost_usd, None);
        assert_eq!(days[1].billed_cost_usd, Some(2.2));
        let text = bars(&days, 10);
        assert!(text.contains("billed $4.00"), "{text}");
    }
}
