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

mod fold;
#[cfg(test)]
mod tests;

pub use fold::{ModelDay, fold_daily, fold_p99, fold_usage};

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

pub fn query(
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
