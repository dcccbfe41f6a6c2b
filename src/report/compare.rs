//! `--compare`: the estimate (metrics × price table) against the bill, model by model.
//!
//! The bill names a model by its product ("Claude 3.7 Sonnet") or usage-type part
//! ("NovaLite"); CloudWatch by its model ID (`us.anthropic.claude-3-7-sonnet-20250219-v1:0`).
//! A metric row matches the billed model whose name, as lowercase letters and digits, is the
//! longest one contained in the model ID's ("claude37sonnet" in
//! "usanthropicclaude37sonnet20250219v10"; "Claude Sonnet 4.5" wins over "Claude Sonnet 4").

use serde::Serialize;

use super::billing::{BilledModel, Billing};
use super::{ModelUsage, Report, round_cost};

/// How one model's sources disagree: counts (metrics minus logs) and cost (estimate minus
/// bill); a field is absent when the sources it compares were not both read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Differences {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocations: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<i64>,
    /// Estimate minus bill, USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Of the bill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_percent: Option<f64>,
    /// Some difference is beyond the tolerance (cost: only on complete billed figures).
    pub flagged: bool,
}

/// Whether `diff` is more than `tolerance` percent of `base` (any difference when `base` is 0).
pub fn beyond(diff: f64, base: f64, tolerance_percent: f64) -> bool {
    if base == 0.0 {
        diff != 0.0
    } else {
        (diff / base * 100.0).abs() > tolerance_percent
    }
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The billed model `model_id` belongs to, if any.
pub fn billed_model_for<'a>(model_id: &str, billed: &'a [BilledModel]) -> Option<&'a BilledModel> {
    let id = squash(model_id);
    billed
        .iter()
        .filter(|b| {
            let name = squash(&b.model);
            !name.is_empty() && id.contains(&name)
        })
        .max_by_key(|b| squash(&b.model).len())
}

/// Attaches the bill to the report's model rows and works out the differences. A billed model
/// no metric row matches gets a row of its own (no metrics); when several rows match one
/// billed model (a model ID and its cross-region profile), the bill goes to the row with the
/// most invocations and the others are compared together with it.
pub fn attach(report: &mut Report, billing: &Billing, tolerance_percent: f64) {
    let mut matched: Vec<Vec<usize>> = vec![Vec::new(); billing.models.len()];
    for (i, row) in report.models.iter().enumerate() {
        if let Some(b) = billed_model_for(&row.model_id, &billing.models)
            && let Some(j) = billing.models.iter().position(|m| m.model == b.model)
        {
            matched[j].push(i);
        }
    }
    let mut extra = Vec::new();
    for (j, billed) in billing.models.iter().enumerate() {
        let rows = &matched[j];
        let Some(&main) = rows.iter().max_by_key(|&&i| report.models[i].invocations) else {
            extra.push(billed_only_row(billed));
            continue;
        };
        let estimate: Option<f64> = rows
            .iter()
            .map(|&i| report.models[i].cost_usd)
            .sum::<Option<f64>>();
        let row = &mut report.models[main];
        row.billed = Some(billed.clone());
        if let Some(e) = estimate {
            let diff = round_cost(e - billed.cost_usd);
            let percent = (billed.cost_usd > 0.0).then(|| diff / billed.cost_usd * 100.0);
            let d = row.differences.get_or_insert_with(Differences::default);
            d.cost_usd = Some(diff);
            d.cost_percent = percent.map(|p| (p * 10.0).round() / 10.0);
            d.flagged |= billing.complete
                && beyond(diff, billed.cost_usd, tolerance_percent)
                && diff.abs() >= 0.01;
        }
        if rows.len() > 1 {
            report.notes.push(format!(
                "{} metric rows are billed as {}: the bill is shown on {} and compared with \
                 their summed estimate",
                rows.len(),
                billed.model,
                row.model_id
            ));
        }
    }
    report.models.extend(extra);
    let flagged: Vec<&str> = report
        .models
        .iter()
        .filter(|m| m.differences.as_ref().is_some_and(|d| d.flagged))
        .map(|m| m.model_id.as_str())
        .collect();
    if !flagged.is_empty() {
        report.notes.push(format!(
            "the sources differ by more than {tolerance_percent} % for {} (see `differences`)",
            flagged.join(", ")
        ));
    }
}

/// A model that appears only on the bill: no metrics in the window.
fn billed_only_row(billed: &BilledModel) -> ModelUsage {
    ModelUsage {
        model_id: billed.model.clone(),
        billed: Some(billed.clone()),
        ..ModelUsage::empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn billed(name: &str) -> BilledModel {
        BilledModel {
            model: name.into(),
            ..BilledModel::default()
        }
    }

    #[test]
    fn model_ids_find_their_billed_names() {
        let bill = vec![
            billed("Claude 3.7 Sonnet"),
            billed("Claude 3 Haiku"),
            billed("Claude Sonnet 4"),
            billed("Claude Sonnet 4.5"),
            billed("NovaLite"),
            billed("Llama3-1-70B"),
        ];
        let name = |id: &str| billed_model_for(id, &bill).map(|b| b.model.as_str());
        assert_eq!(
            name("us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
            Some("Claude 3.7 Sonnet")
        );
        assert_eq!(
            name("anthropic.claude-3-haiku-20240307-v1:0"),
            Some("Claude 3 Haiku")
        );
        assert_eq!(name("anthropic.claude-3-5-haiku-20241022-v1:0"), None);
        assert_eq!(
            name("global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            Some("Claude Sonnet 4.5")
        );
        assert_eq!(
            name("anthropic.claude-sonnet-4-20250514-v1:0"),
            Some("Claude Sonnet 4")
        );
        assert_eq!(name("amazon.nova-lite-v1:0"), Some("NovaLite"));
        assert_eq!(
            name("meta.llama3-1-70b-instruct-v1:0"),
            Some("Llama3-1-70B")
        );
    }

    /// Billing lags 24-48 hours: with incomplete billed figures the estimate is shown against
    /// the bill but never flagged; once complete, the same difference is.
    #[test]
    fn incomplete_billing_is_never_flagged() {
        let make = |complete: bool| {
            let mut report = Report::empty_for_tests();
            report.models.push(ModelUsage {
                model_id: "amazon.nova-lite-v1:0".into(),
                invocations: 1,
                cost_usd: Some(1.0),
                ..ModelUsage::empty()
            });
            let billing = Billing {
                models: vec![BilledModel {
                    model: "NovaLite".into(),
                    cost_usd: 2.0,
                    ..BilledModel::default()
                }],
                complete,
                ..Billing::default()
            };
            attach(&mut report, &billing, 2.0);
            report.models[0].differences.clone().expect("differences")
        };
        let recent = make(false);
        assert_eq!(recent.cost_usd, Some(-1.0));
        assert_eq!(recent.cost_percent, Some(-50.0));
        assert!(!recent.flagged);
        assert!(make(true).flagged);
    }
}
