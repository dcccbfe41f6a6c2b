//! `--source logs`: invocations and tokens per model counted from the invocation log group (the
//! per-principal query's rows, summed over principals: one Logs Insights query for both), and
//! with metrics, the counts side by side (metrics minus logs).

use std::collections::BTreeMap;

use serde::Serialize;

use super::compare::{Differences, beyond};
use super::principals::PrincipalUsage;
use super::{ModelUsage, Report};

/// What the invocation logs count for one model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LogCounts {
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Records whose token counts could not be read.
    pub uncounted_records: u64,
}

/// Per model ID, summed over principals.
pub fn per_model(rows: &[PrincipalUsage]) -> BTreeMap<String, LogCounts> {
    let mut models: BTreeMap<String, LogCounts> = BTreeMap::new();
    for r in rows {
        let m = models.entry(r.model_id.clone()).or_default();
        m.invocations += r.invocations;
        m.input_tokens += r.input_tokens;
        m.output_tokens += r.output_tokens;
        m.uncounted_records += r.uncounted_records;
    }
    models
}

/// Attaches the logs' counts to the model rows (the logs' `modelId` is the ID CloudWatch uses as
/// its `ModelId` dimension: both are what the caller passed), adding a row for a model only the
/// logs saw. With metrics, the differences are worked out too, flagged beyond
/// `tolerance_percent` of the metrics' count when given.
pub fn attach(
    report: &mut Report,
    rows: &[PrincipalUsage],
    with_metrics: bool,
    tolerance_percent: Option<f64>,
) {
    for (model_id, counts) in per_model(rows) {
        let index = match report.models.iter().position(|m| m.model_id == model_id) {
            Some(i) => i,
            None => {
                report.models.push(ModelUsage {
                    model_id: model_id.clone(),
                    ..ModelUsage::empty()
                });
                report.models.len() - 1
            }
        };
        let row = &mut report.models[index];
        if with_metrics {
            let pairs = [
                (row.invocations, counts.invocations),
                (row.input_tokens, counts.input_tokens),
                (row.output_tokens, counts.output_tokens),
            ];
            let [inv, input, output] = pairs.map(|(m, l)| m as i64 - l as i64);
            let flagged = tolerance_percent.is_some_and(|t| {
                pairs
                    .iter()
                    .any(|&(m, l)| beyond(m as f64 - l as f64, m as f64, t))
            });
            let d = row.differences.get_or_insert_with(Differences::default);
            d.invocations = Some(inv);
            d.input_tokens = Some(input);
            d.output_tokens = Some(output);
            d.flagged |= flagged;
        }
        row.logs = Some(counts);
    }
    let differing: Vec<String> = report
        .models
        .iter()
        .filter_map(|m| {
            let d = m.differences.as_ref()?;
            let (inv, input, output) = (d.invocations?, d.input_tokens?, d.output_tokens?);
            (inv != 0 || input != 0 || output != 0).then(|| {
                format!(
                    "{} ({inv:+} invocations, {input:+} input, {output:+} output tokens)",
                    m.model_id
                )
            })
        })
        .collect();
    if !differing.is_empty() {
        report.notes.push(format!(
            "metrics and invocation logs count differently (metrics minus logs): {}; logs \
             arrive minutes late and cover only what logging was on for",
            differing.join("; ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(principal: &str, model: &str, n: u64, input: u64, output: u64) -> PrincipalUsage {
        PrincipalUsage {
            principal: principal.into(),
            model_id: model.into(),
            invocations: n,
            input_tokens: input,
            output_tokens: output,
            uncounted_records: 0,
            cost_usd: None,
            price_key: None,
        }
    }

    /// The example: Claude 3.7 Sonnet agrees (23 invocations, 506 / 4,576 tokens),
    /// Claude 3 Haiku differs by 10 invocations; a model only the logs saw gets a row.
    #[test]
    fn logs_are_summed_over_principals_and_compared_with_the_metrics() {
        let sonnet = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
        let haiku = "anthropic.claude-3-haiku-20240307-v1:0";
        let mut report = Report::empty_for_tests();
        for (id, n, input, output) in [(sonnet, 23, 506, 4576), (haiku, 40, 4000, 800)] {
            report.models.push(ModelUsage {
                model_id: id.into(),
                invocations: n,
                input_tokens: input,
                output_tokens: output,
                ..ModelUsage::empty()
            });
        }
        let rows = vec![
            usage("arn:aws:iam::1:user/a", sonnet, 20, 400, 4000),
            usage("arn:aws:iam::1:user/b", sonnet, 3, 106, 576),
            usage("arn:aws:iam::1:user/a", haiku, 30, 3000, 600),
            usage("arn:aws:iam::1:user/a", "amazon.nova-lite-v1:0", 2, 10, 10),
        ];
        attach(&mut report, &rows, true, Some(2.0));
        let row = |id: &str| {
            report
                .models
                .iter()
                .find(|m| m.model_id == id)
                .expect("row")
        };
        assert_eq!(row(sonnet).logs.map(|l| l.invocations), Some(23));
        let same = row(sonnet).differences.clone().expect("differences");
        assert_eq!(
            (
                same.invocations,
                same.input_tokens,
                same.output_tokens,
                same.flagged
            ),
            (Some(0), Some(0), Some(0), false)
        );
        let haiku_diff = row(haiku).differences.clone().expect("differences");
        assert_eq!(haiku_diff.invocations, Some(10));
        assert!(haiku_diff.flagged, "10 of 40 invocations is beyond 2 %");
        assert_eq!(row("amazon.nova-lite-v1:0").invocations, 0);
        assert_eq!(
            row("amazon.nova-lite-v1:0").logs.map(|l| l.input_tokens),
            Some(10)
        );
        let note = report.notes.join(" ");
        assert!(
            note.contains(haiku) && note.contains("+10 invocations"),
            "{note}"
        );
        assert!(!note.contains(sonnet), "{note}");
    }
}
