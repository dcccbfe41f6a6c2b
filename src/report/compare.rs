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

/// The estimate against the bill for one model row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostDifference {
    /// Estimate minus bill, USD.
    pub cost_usd: f64,
    /// Of the bill; `null` when the bill is 0.
    pub cost_percent: Option<f64>,
    /// More than the tolerance apart, and the billed figures are complete.
    pub flagged: bool,
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
        row.cost_difference = estimate.map(|e| {
            let diff = round_cost(e - billed.cost_usd);
            let percent = (billed.cost_usd > 0.0).then(|| diff / billed.cost_usd * 100.0);
            CostDifference {
                cost_usd: diff,
                cost_percent: percent.map(|p| (p * 10.0).round() / 10.0),
                flagged: billing.complete
                    && percent.is_none_or(|p| p.abs() > tolerance_percent)
                    && diff.abs() >= 0.01,
            }
        });
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
    report.totals.billed_cost_usd = Some(billing.total_cost_usd);
    let flagged: Vec<&str> = report
        .models
        .iter()
        .filter(|m| m.cost_difference.as_ref().is_some_and(|d| d.flagged))
        .map(|m| m.model_id.as_str())
        .collect();
    if !flagged.is_empty() {
        report.notes.push(format!(
            "the estimate and the bill differ by more than {tolerance_percent} % for {}",
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
}
