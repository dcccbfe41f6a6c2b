//! The CloudWatch side of the report: which models reported `AWS/Bedrock` metrics
//! (`ListMetrics`), and their sums over the window in as few `GetMetricData` calls as the API
//! allows.
//!
//! Queries for all models are packed together, up to 500 a call (the API's limit), so the
//! number of calls grows with models only every 50 models (10 queries each), never per model.
//! The period is chosen so that a full call of 500 queries stays within one response page
//! (100,800 datapoints): at most [`MAX_POINTS_PER_QUERY`] datapoints per query. `NextToken`
//! pages are still followed.
//!
//! Average latency is invocation-weighted and exact: the window's `Sum` of `InvocationLatency`
//! divided by its `SampleCount` (one sample per invocation), not an average of averages.
//!
//! p99 latency comes from CloudWatch's own `p99` statistic over one period that covers the
//! whole window (a percentile cannot be combined from per-period values). It is fetched in a
//! separate call, after the sums, so that an endpoint that does not serve percentiles (moto
//! answers HTTP 500) costs only the p99 column, which is then reported as unavailable.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use chrono::{DateTime, Duration, Utc};

use crate::aws::{AwsError, AwsResultExt};

use super::window::Window;

/// Only metrics whose one dimension is the endpoint's model dimension are read: the Mantle
/// endpoint counts each inference at the account, project, model and project+model levels, so
/// reading more would count it twice.
pub use crate::config::Endpoint;

/// The endpoint's series: (query-ID suffix, metric name, statistic). The Mantle endpoint names
/// its counts differently and publishes no latency, server-error, throttle or cache metrics.
fn series(endpoint: Endpoint) -> &'static [(&'static str, &'static str, &'static str)] {
    match endpoint {
        Endpoint::Runtime => &SERIES,
        Endpoint::Mantle => &MANTLE_SERIES,
    }
}

/// A model whose metrics the report reads, and where they come from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModelSource {
    pub endpoint: Endpoint,
    pub id: String,
    /// The prompt-cache metric names `ListMetrics` lists for this model (of
    /// [`CACHE_READ_METRICS`] and [`CACHE_WRITE_METRICS`]): only those are queried.
    pub cache_metrics: Vec<&'static str>,
}

impl ModelSource {
    /// A model with no cache metrics listed.
    pub fn new(endpoint: Endpoint, id: impl Into<String>) -> ModelSource {
        ModelSource {
            endpoint,
            id: id.into(),
            cache_metrics: Vec::new(),
        }
    }
}

pub use crate::cost::metric_math::{CACHE_READ_METRICS, CACHE_WRITE_METRICS};

/// The query-ID suffix of each prompt-cache metric name: `cread`/`cwrite` for the first
/// spelling, `creadb`/`cwriteb` for the second.
fn cache_suffix(metric: &str) -> Option<&'static str> {
    match metric {
        m if m == CACHE_READ_METRICS[0] => Some("cread"),
        m if m == CACHE_READ_METRICS[1] => Some("creadb"),
        m if m == CACHE_WRITE_METRICS[0] => Some("cwrite"),
        m if m == CACHE_WRITE_METRICS[1] => Some("cwriteb"),
        _ => None,
    }
}

/// `GetMetricData` accepts at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// A response page holds at most 100,800 datapoints; 500 queries × 200 stay below that.
pub const MAX_POINTS_PER_QUERY: i64 = 200;

/// Guards against an endpoint that keeps returning the same `NextToken`.
const MAX_PAGES: usize = 10_000;

/// One per-model series: (query-ID suffix, metric name, statistic). The prompt cache's
/// series are added per model, under the names `ListMetrics` finds (see [`ModelSource`]).
const SERIES: [(&str, &str, &str); 8] = [
    ("inv", "Invocations", "Sum"),
    ("tin", "InputTokenCount", "Sum"),
    ("tout", "OutputTokenCount", "Sum"),
    ("cerr", "InvocationClientErrors", "Sum"),
    ("serr", "InvocationServerErrors", "Sum"),
    ("thr", "InvocationThrottles", "Sum"),
    ("lsum", "InvocationLatency", "Sum"),
    ("lcnt", "InvocationLatency", "SampleCount"),
];

const MANTLE_SERIES: [(&str, &str, &str); 4] = [
    ("inv", "Inferences", "Sum"),
    ("tin", "TotalInputTokens", "Sum"),
    ("tout", "TotalOutputTokens", "Sum"),
    ("cerr", "InferenceClientErrors", "Sum"),
];

/// Queries per runtime model in the sums call, at most (a model whose cache metrics are
/// listed under both names adds four).
pub const QUERIES_PER_MODEL: usize =
    SERIES.len() + CACHE_READ_METRICS.len() + CACHE_WRITE_METRICS.len();

/// What CloudWatch holds for one model over the window (sums of every datapoint).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelMetrics {
    pub model_id: String,
    pub endpoint: Endpoint,
    pub invocations: f64,
    pub input_tokens: f64,
    pub output_tokens: f64,
    pub client_errors: f64,
    pub server_errors: f64,
    pub throttles: f64,
    /// Sum of `InvocationLatency` (ms) and its sample count, for the weighted average.
    pub latency_sum_ms: f64,
    pub latency_samples: f64,
    pub cache_read_input_tokens: f64,
    pub cache_write_input_tokens: f64,
    /// The same totals under the second name of each (see [`CACHE_READ_METRICS`]): folded
    /// into the fields above once all values are in, so that the tokens count once.
    pub(crate) cache_read_second_name: f64,
    pub(crate) cache_write_second_name: f64,
    pub p99_latency_ms: Option<f64>,
    /// Whether any query returned a datapoint in the window.
    pub has_data: bool,
    /// When `model_id` is an application inference profile: its name and model.
    pub profile: Option<super::profiles::ProfileRef>,
}

impl ModelMetrics {
    pub fn new(model_id: impl Into<String>) -> ModelMetrics {
        ModelMetrics {
            model_id: model_id.into(),
            ..ModelMetrics::default()
        }
    }

    fn add(&mut self, suffix: &str, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.has_data = true;
        let field = match suffix {
            "inv" => &mut self.invocations,
            "tin" => &mut self.input_tokens,
            "tout" => &mut self.output_tokens,
            "cerr" => &mut self.client_errors,
            "serr" => &mut self.server_errors,
            "thr" => &mut self.throttles,
            "lsum" => &mut self.latency_sum_ms,
            "lcnt" => &mut self.latency_samples,
            "cread" => &mut self.cache_read_input_tokens,
            "cwrite" => &mut self.cache_write_input_tokens,
            "creadb" => &mut self.cache_read_second_name,
            "cwriteb" => &mut self.cache_write_second_name,
            _ => return,
        };
        *field += value;
    }

    /// Counts the prompt cache's tokens once: the name with the larger total carries them
    /// (the same tokens published under both names are the same tokens). Whether both had
    /// data, for a note.
    fn settle_cache_names(&mut self) -> bool {
        let both = (self.cache_read_input_tokens > 0.0 && self.cache_read_second_name > 0.0)
            || (self.cache_write_input_tokens > 0.0 && self.cache_write_second_name > 0.0);
        self.cache_read_input_tokens = self
            .cache_read_input_tokens
            .max(self.cache_read_second_name);
        self.cache_write_input_tokens = self
            .cache_write_input_tokens
            .max(self.cache_write_second_name);
        self.cache_read_second_name = 0.0;
        self.cache_write_second_name = 0.0;
        both
    }
}

/// The periods of the report's queries, from the window and its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    /// For the sums: a multiple of the granularity giving at most 200 datapoints per query,
    /// dividing the window exactly where possible.
    pub sum_seconds: i32,
    /// For p99: one period covering the whole window.
    pub whole_window_seconds: i32,
}

impl Periods {
    pub fn for_window(window: &Window, now: DateTime<Utc>) -> Periods {
        let granularity = granularity(window.start, now);
        let length = window.seconds().max(1);
        let whole = round_up(length, granularity);
        Periods {
            sum_seconds: clamp_i32(sum_period(length, granularity)),
            whole_window_seconds: clamp_i32(whole),
        }
    }
}

/// The finest period CloudWatch serves for data starting at `start`: 60 s within 15 days,
/// 300 s (multiples of 5 minutes) within 63 days, 3600 s beyond.
pub fn granularity(start: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let age = now - start;
    if age > Duration::days(63) {
        3600
    } else if age > Duration::days(15) {
        300
    } else {
        60
    }
}

/// The smallest multiple of `granularity` that gives at most [`MAX_POINTS_PER_QUERY`]
/// datapoints over `length` seconds, preferring one that divides the window exactly (so no
/// period pokes out past its end).
pub fn sum_period(length: i64, granularity: i64) -> i64 {
    let length = length.max(1);
    let minimum = round_up(
        (length + MAX_POINTS_PER_QUERY - 1) / MAX_POINTS_PER_QUERY,
        granularity,
    );
    if length % granularity == 0 {
        let mut period = minimum;
        while period < length {
            if length % period == 0 {
                return period;
            }
            period += granularity;
        }
        return length.max(granularity);
    }
    minimum
}

fn round_up(value: i64, step: i64) -> i64 {
    let value = value.max(1);
    (value + step - 1) / step * step
}

fn clamp_i32(value: i64) -> i32 {
    // Windows are at most 455 days (39,312,000 s), far below i32::MAX.
    i32::try_from(value).unwrap_or(i32::MAX - i32::MAX % 3600)
}

/// Every model with metrics: each `ModelId` value with a metric in `AWS/Bedrock` whose only
/// dimension is `ModelId`, then each `Model` of the Mantle endpoint's `AWS/BedrockMantle`
/// likewise, sorted and without duplicates. `ListMetrics` lists metrics that had data in the
/// last two weeks; see the note the report adds for older windows.
pub async fn list_models(
    cloudwatch: &aws_sdk_cloudwatch::Client,
) -> Result<Vec<ModelSource>, AwsError> {
    let (runtime, mantle) = futures::join!(
        list_model_ids(cloudwatch, Endpoint::Runtime),
        list_model_ids(cloudwatch, Endpoint::Mantle)
    );
    let mut models = Vec::new();
    for (endpoint, ids) in [(Endpoint::Runtime, runtime?), (Endpoint::Mantle, mantle?)] {
        models.extend(ids.into_iter().map(|(id, names)| {
            ModelSource {
                endpoint,
                id,
                cache_metrics: CACHE_READ_METRICS
                    .iter()
                    .chain(CACHE_WRITE_METRICS.iter())
                    .copied()
                    .filter(|m| endpoint == Endpoint::Runtime && names.contains(*m))
                    .collect(),
            }
        }));
    }
    Ok(models)
}

/// The model dimension's values of `endpoint`'s metrics that have that one dimension, each
/// with the metric names listed for it.
pub async fn list_model_ids(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    endpoint: Endpoint,
) -> Result<BTreeMap<String, BTreeSet<String>>, AwsError> {
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = cloudwatch
            .list_metrics()
            .namespace(endpoint.namespace())
            .set_next_token(token.clone())
            .send()
            .await
            .aws("cloudwatch:ListMetrics")?;
        for metric in out.metrics() {
            if let [dimension] = metric.dimensions()
                && dimension.name() == Some(endpoint.model_dimension())
                && let Some(value) = dimension.value().filter(|v| !v.is_empty())
            {
                ids.entry(value.to_string())
                    .or_default()
                    .extend(metric.metric_name().map(str::to_string));
            }
        }
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(ids)
}

/// Values by query ID from one or more `GetMetricData` calls, and what CloudWatch said about
/// queries it could not answer in full.
#[derive(Debug, Default)]
pub struct QueryResults {
    pub values: BTreeMap<String, Vec<f64>>,
    /// The timestamp (Unix seconds) of each value, in the same order.
    pub timestamps: BTreeMap<String, Vec<i64>>,
    /// (query ID, status) of results that ended neither `Complete` nor `PartialData`.
    pub incomplete: Vec<(String, String)>,
    pub messages: Vec<String>,
    pub calls: usize,
}

/// Runs `queries` in calls of up to 500, following `NextToken` pages.
pub async fn get_metric_data(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    window: &Window,
) -> Result<QueryResults, AwsError> {
    get_metric_data_with(cloudwatch, queries, window, None).await
}

/// Like [`get_metric_data`], with at most `attempts` attempts per call: for optional queries
/// (percentiles) that some endpoints answer with a server error every time, where the full
/// retry budget would only add seconds of backoff.
pub async fn get_metric_data_with(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    queries: Vec<MetricDataQuery>,
    window: &Window,
    attempts: Option<u32>,
) -> Result<QueryResults, AwsError> {
    let override_config = attempts.map(|n| {
        let retry = cloudwatch
            .config()
            .retry_config()
            .cloned()
            .unwrap_or_else(aws_sdk_cloudwatch::config::retry::RetryConfig::standard);
        let n = retry.max_attempts().min(n);
        aws_sdk_cloudwatch::config::Builder::default().retry_config(retry.with_max_attempts(n))
    });
    let mut results = QueryResults::default();
    let start = aws_smithy_types::DateTime::from_secs(window.start.timestamp());
    let end = aws_smithy_types::DateTime::from_secs(window.end.timestamp());
    for chunk in queries.chunks(MAX_QUERIES_PER_CALL) {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            results.calls += 1;
            let request = cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(chunk.to_vec()))
                .start_time(start)
                .end_time(end)
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.clone());
            let out = match &override_config {
                Some(c) => request.customize().config_override(c.clone()).send().await,
                None => request.send().await,
            }
            .aws("cloudwatch:GetMetricData")?;
            for result in out.metric_data_results() {
                let Some(id) = result.id() else { continue };
                results
                    .values
                    .entry(id.to_string())
                    .or_default()
                    .extend_from_slice(result.values());
                results
                    .timestamps
                    .entry(id.to_string())
                    .or_default()
                    .extend(result.timestamps().iter().map(|t| t.secs()));
                match result.status_code() {
                    None | Some(StatusCode::Complete) | Some(StatusCode::PartialData) => {}
                    Some(other) => results
                        .incomplete
                        .push((id.to_string(), other.as_str().to_string())),
                }
            }
            for message in out.messages() {
                if let Some(text) = message.value() {
                    let code = message.code().unwrap_or("message");
                    results.messages.push(format!("{code}: {text}"));
                }
            }
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
                _ => break,
            }
        }
    }
    Ok(results)
}

fn query(
    id: String,
    model: &ModelSource,
    metric: &str,
    stat: &str,
    period: i32,
) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(model.endpoint.namespace())
        .metric_name(metric)
        .dimensions(
            Dimension::builder()
                .name(model.endpoint.model_dimension())
                .value(&model.id)
                .build(),
        )
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(period)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The sums queries for every model: `m{index}_{suffix}`.
pub fn usage_queries(models: &[ModelSource], period: i32) -> Vec<MetricDataQuery> {
    models
        .iter()
        .enumerate()
        .flat_map(|(index, model)| {
            let cache = model.cache_metrics.iter().filter_map(move |metric| {
                let suffix = cache_suffix(metric)?;
                Some(query(
                    format!("m{index}_{suffix}"),
                    model,
                    metric,
                    "Sum",
                    period,
                ))
            });
            series(model.endpoint)
                .iter()
                .map(move |(suffix, metric, stat)| {
                    query(format!("m{index}_{suffix}"), model, metric, stat, period)
                })
                .chain(cache)
        })
        .collect()
}

/// The p99 queries, one per model over one whole-window period: `m{index}_p99`.
pub fn p99_queries(models: &[ModelSource], period: i32) -> Vec<MetricDataQuery> {
    models
        .iter()
        .enumerate()
        .map(|(index, model)| {
            query(
                format!("m{index}_p99"),
                model,
                "InvocationLatency",
                "p99",
                period,
            )
        })
        .collect()
}

/// (model index, suffix) from a query ID made by [`usage_queries`] or [`p99_queries`].
fn parse_query_id(id: &str) -> Option<(usize, &str)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn sum_periods_stay_within_200_points_and_divide_the_window() {
        // 24 h: 86400 / 200 = 432 → the first multiple of 60 dividing 86400 from 480 on.
        assert_eq!(sum_period(86_400, 60), 480);
        assert_eq!(86_400 / 480, 180);
        // 1 h: 18 s minimum → 60 s.
        assert_eq!(sum_period(3_600, 60), 60);
        // 7 minutes: 7 points of 60 s.
        assert_eq!(sum_period(420, 60), 60);
        // 211 minutes (prime): no divisor gives ≤ 200 points but the whole window.
        assert_eq!(sum_period(211 * 60, 60), 211 * 60);
        // A window of odd seconds: the plain minimum, rounded up to a minute.
        assert_eq!(sum_period(86_401, 60), 480);
        // 455 days at hourly granularity.
        let p = sum_period(455 * 86_400, 3600);
        assert_eq!(p % 3600, 0);
        assert!(455 * 86_400 / p <= MAX_POINTS_PER_QUERY);
        for length in [60, 61, 3_599, 3_600, 86_400, 7 * 86_400, 30 * 86_400 + 17] {
            for granularity in [60, 300, 3600] {
                let p = sum_period(length, granularity);
                assert_eq!(p % granularity, 0, "{length} {granularity}");
                let points = (length + p - 1) / p;
                assert!(points <= MAX_POINTS_PER_QUERY, "{length} {granularity} {p}");
            }
        }
    }

    #[test]
    fn granularity_follows_cloudwatch_retention() {
        let now = at("2026-11-23T00:00:00Z");
        assert_eq!(granularity(at("2026-11-22T00:00:00Z"), now), 60);
        assert_eq!(granularity(at("2026-11-01T00:00:00Z"), now), 300);
        assert_eq!(granularity(at("2026-08-01T00:00:00Z"), now), 3600);
    }

    #[test]
    fn whole_window_period_is_rounded_up() {
        let now = at("2026-11-23T00:00:00Z");
        let w = Window {
            start: at("2026-11-22T00:00:00Z"),
            end: at("2026-11-22T10:00:30Z"),
        };
        let p = Periods::for_window(&w, now);
        assert_eq!(p.whole_window_seconds, 36_060);
    }

    fn runtime(ids: &[String]) -> Vec<ModelSource> {
        ids.iter()
            .map(|id| ModelSource::new(Endpoint::Runtime, id.clone()))
            .collect()
    }

    /// The Mantle endpoint's models are read from its own namespace and dimension, under its
    /// own metric names, into the same fields.
    #[test]
    fn mantle_models_have_their_own_namespace_and_names() {
        let models = vec![
            ModelSource::new(Endpoint::Runtime, "amazon.nova-lite-v1:0"),
            ModelSource::new(Endpoint::Mantle, "anthropic.claude-opus-4-5"),
        ];
        let queries = usage_queries(&models, 60);
        assert_eq!(queries.len(), SERIES.len() + 4);
        let mantle: Vec<&MetricDataQuery> = queries
            .iter()
            .filter(|q| q.id().is_some_and(|id| id.starts_with("m1_")))
            .collect();
        let names: Vec<&str> = mantle
            .iter()
            .filter_map(|q| q.metric_stat()?.metric()?.metric_name())
            .collect();
        assert_eq!(
            names,
            [
                "Inferences",
                "TotalInputTokens",
                "TotalOutputTokens",
                "InferenceClientErrors"
            ]
        );
        for q in mantle {
            let metric = q.metric_stat().and_then(|s| s.metric()).expect("metric");
            assert_eq!(metric.namespace(), Some("AWS/BedrockMantle"));
            assert_eq!(metric.dimensions()[0].name(), Some("Model"));
        }
        let mut results = QueryResults::default();
        results.values.insert("m1_inv".into(), vec![4.0]);
        results.values.insert("m1_tin".into(), vec![1000.0]);
        let (folded, _) = fold_usage(&models, &results);
        assert_eq!(folded[1].endpoint, Endpoint::Mantle);
        assert_eq!(folded[1].invocations, 4.0);
        assert_eq!(folded[1].input_tokens, 1000.0);
    }

    #[test]
    fn query_ids_are_valid_and_parse_back() {
        let ids: Vec<String> = (0..60).map(|i| format!("model-{i}")).collect();
        let queries = usage_queries(&runtime(&ids), 60);
        assert_eq!(queries.len(), 60 * SERIES.len());
        for q in &queries {
            let id = q.id().unwrap();
            assert!(id.starts_with(|c: char| c.is_ascii_lowercase()), "{id}");
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{id}"
            );
            let (index, suffix) = parse_query_id(id).unwrap();
            assert!(index < 60);
            assert!(SERIES.iter().any(|(s, _, _)| *s == suffix));
        }
        assert_eq!(parse_query_id("m12_p99"), Some((12, "p99")));
        assert_eq!(parse_query_id("x12_p99"), None);
    }

    #[test]
    fn folding_sums_values_per_model() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let mut results = QueryResults::default();
        results.values.insert("m0_inv".into(), vec![2.0, 3.0]);
        results.values.insert("m0_lsum".into(), vec![1000.0, 500.0]);
        results.values.insert("m0_lcnt".into(), vec![2.0, 3.0]);
        results.values.insert("m1_inv".into(), vec![]);
        results.values.insert("bogus".into(), vec![1.0]);
        let (models, _) = fold_usage(&runtime(&ids), &results);
        assert_eq!(models[0].invocations, 5.0);
        assert_eq!(models[0].latency_sum_ms, 1500.0);
        assert_eq!(models[0].latency_samples, 5.0);
        assert!(models[0].has_data);
        assert!(!models[1].has_data);
    }

    /// AWS's pages name the cache metrics two ways; whichever the account publishes is
    /// queried (as `ListMetrics` lists it) and counted once.
    #[test]
    fn cache_tokens_count_once_whichever_name_carries_them() {
        let mut both = ModelSource::new(Endpoint::Runtime, "a");
        both.cache_metrics = vec![
            CACHE_READ_METRICS[0],
            CACHE_READ_METRICS[1],
            CACHE_WRITE_METRICS[1],
        ];
        let mut second = ModelSource::new(Endpoint::Runtime, "b");
        second.cache_metrics = vec![CACHE_READ_METRICS[1]];
        let none = ModelSource::new(Endpoint::Runtime, "c");
        let sources = vec![both, second, none];
        let queries = usage_queries(&sources, 60);
        let names: Vec<(String, String)> = queries
            .iter()
            .filter_map(|q| {
                let name = q.metric_stat()?.metric()?.metric_name()?;
                name.starts_with("Cache")
                    .then(|| (q.id().unwrap_or_default().to_string(), name.to_string()))
            })
            .collect();
        assert_eq!(
            names,
            [
                ("m0_cread".into(), "CacheReadInputTokenCount".into()),
                ("m0_creadb".into(), "CacheReadInputTokens".into()),
                ("m0_cwriteb".into(), "CacheWriteInputTokens".into()),
                ("m1_creadb".into(), "CacheReadInputTokens".into()),
            ]
        );
        let mut results = QueryResults::default();
        results.values.insert("m0_cread".into(), vec![100.0, 50.0]);
        results.values.insert("m0_creadb".into(), vec![100.0, 50.0]);
        results.values.insert("m0_cwriteb".into(), vec![7.0]);
        results.values.insert("m1_creadb".into(), vec![30.0]);
        for id in ["m0_cread", "m0_creadb", "m0_cwriteb", "m1_creadb"] {
            let n = results.values[id].len();
            results.timestamps.insert(
                id.into(),
                (0..n as i64).map(|i| 1_700_000_000 + i * 86_400).collect(),
            );
        }
        let (models, doubled) = fold_usage(&sources, &results);
        assert_eq!(models[0].cache_read_input_tokens, 150.0);
        assert_eq!(models[0].cache_write_input_tokens, 7.0);
        assert_eq!(models[1].cache_read_input_tokens, 30.0);
        assert_eq!(models[2].cache_read_input_tokens, 0.0);
        assert_eq!(doubled, ["a"]);
        let days = fold_daily(&results);
        let read: f64 = days
            .values()
            .filter_map(|d| d.get(&0))
            .map(|d| d.cache_read_input_tokens)
            .sum();
        assert_eq!(read, 150.0);
    }

    #[test]
    fn p99_is_taken_only_from_a_single_whole_window_value() {
        let mut results = QueryResults::default();
        results.values.insert("m0_p99".into(), vec![812.5]);
        results.values.insert("m1_p99".into(), vec![]);
        results.values.insert("m2_p99".into(), vec![1.0, 2.0]);
        let (p99, split) = fold_p99(&results);
        assert_eq!(p99.get(&0), Some(&812.5));
        assert_eq!(p99.get(&1), None);
        assert_eq!(p99.get(&2), None);
        assert_eq!(split, 1);
    }
}
