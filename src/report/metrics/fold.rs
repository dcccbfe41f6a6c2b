//! Folding `GetMetricData` answers back into per-model figures: the window's sums, the sums per
//! UTC day and the p99 latencies, each query found again by its ID.

use std::collections::BTreeMap;

use chrono::DateTime;

use super::{ModelMetrics, ModelSource, QueryResults};

/// (model index, suffix) from a query ID made by [`usage_queries`] or [`p99_queries`].
pub(super) fn parse_query_id(id: &str) -> Option<(usize, &str)> {
    let (index, suffix) = id.strip_prefix('m')?.split_once('_')?;
    Some((index.parse().ok()?, suffix))
}

/// Invocations and tokens per UTC day and model index, from the sums' timestamps (a period
/// that spans midnight counts on the day it starts).
pub fn fold_daily(
    results: &QueryResults,
) -> BTreeMap<chrono::NaiveDate, BTreeMap<usize, ModelDay>> {
    // The prompt cache's tokens come from the one name per model that carries the larger
    // total, as in `fold_usage`.
    let total = |id: String| -> f64 {
        results
            .values
            .get(&id)
            .map(|v| v.iter().filter(|x| x.is_finite()).sum())
            .unwrap_or(0.0)
    };
    let mut days: BTreeMap<chrono::NaiveDate, BTreeMap<usize, ModelDay>> = BTreeMap::new();
    for (id, values) in &results.values {
        let Some((index, suffix)) = parse_query_id(id) else {
            continue;
        };
        let suffix = match suffix {
            "cread" | "creadb" => {
                let (a, b) = (
                    total(format!("m{index}_cread")),
                    total(format!("m{index}_creadb")),
                );
                let winner = if a >= b { "cread" } else { "creadb" };
                if suffix != winner {
                    continue;
                }
                "cread"
            }
            "cwrite" | "cwriteb" => {
                let (a, b) = (
                    total(format!("m{index}_cwrite")),
                    total(format!("m{index}_cwriteb")),
                );
                let winner = if a >= b { "cwrite" } else { "cwriteb" };
                if suffix != winner {
                    continue;
                }
                "cwrite"
            }
            other => other,
        };
        let Some(stamps) = results.timestamps.get(id) else {
            continue;
        };
        for (value, secs) in values.iter().zip(stamps) {
            let Some(date) = DateTime::from_timestamp(*secs, 0).map(|t| t.date_naive()) else {
                continue;
            };
            if !value.is_finite() {
                continue;
            }
            let day = days.entry(date).or_default().entry(index).or_default();
            match suffix {
                "inv" => day.invocations += value,
                "tin" => day.input_tokens += value,
                "tout" => day.output_tokens += value,
                "cread" => day.cache_read_input_tokens += value,
                "cwrite" => day.cache_write_input_tokens += value,
                _ => {}
            }
        }
    }
    days
}

/// One model's usage on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ModelDay {
    pub invocations: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
    pub cache_read_input_tokens: f64,
    pub cache_write_input_tokens: f64,
}

/// Folds the sums into one [`ModelMetrics`] per model, in `model_ids` order, and names the
/// models whose cache tokens were published under both names (counted once).
pub fn fold_usage(
    sources: &[ModelSource],
    results: &QueryResults,
) -> (Vec<ModelMetrics>, Vec<String>) {
    let mut models: Vec<ModelMetrics> = sources
        .iter()
        .map(|s| ModelMetrics {
            endpoint: s.endpoint,
            ..ModelMetrics::new(&s.id)
        })
        .collect();
    for (id, values) in &results.values {
        let Some((index, suffix)) = parse_query_id(id) else {
            continue;
        };
        if let Some(model) = models.get_mut(index) {
            for value in values {
                model.add(suffix, *value);
            }
        }
    }
    let both = models
        .iter_mut()
        .filter_map(|m| m.settle_cache_names().then(|| m.model_id.clone()))
        .collect();
    (models, both)
}

/// The p99 per model index from the p99 call. A model with no value stays `None`; a model
/// with several values (the window did not fit one period) also stays `None`, since
/// percentiles of parts cannot be combined; the count of those is returned.
pub fn fold_p99(results: &QueryResults) -> (BTreeMap<usize, f64>, usize) {
    let mut p99 = BTreeMap::new();
    let mut split = 0;
    for (id, values) in &results.values {
        let Some((index, "p99")) = parse_query_id(id) else {
            continue;
        };
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        match finite.as_slice() {
            [] => {}
            [value] => {
                p99.insert(index, *value);
            }
            _ => split += 1,
        }
    }
    (p99, split)
}
