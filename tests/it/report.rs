//! `report` against moto, through the recording proxy, with the library's `build_report`:
//! metric data the tests put into `AWS/Bedrock` for several models (a cross-region ID and an
//! unknown model among them) with known counts, then exact totals, per-model counts, costs to
//! the cent from the price table, the projection, JSON and CSV parsed back, an empty window,
//! and a `GetMetricData` call count that does not grow from 2 to 50 models.
//!
//! What moto does and does not do here (checked against moto 5.2): `ListMetrics` and
//! `GetMetricData` with `Sum` and `SampleCount` work on the timestamps given to
//! `PutMetricData`; a `p99` query over data answers HTTP 500, so the report shows p99 as null
//! with a note; `MaxDatapoints` and `NextToken` are ignored (no paging); Logs Insights runs a
//! query but does not evaluate `stats` (it returns one `@ptr` row per record), so the parsing
//! of real `stats` results is covered by unit tests in `src/report/principals.rs`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StatisticSet};
use chrono::{DateTime, Duration, Utc};

use bedrock_monitor::aws::{Clients, emulator_clients};
use bedrock_monitor::config::{Config, PriceConfig};
use bedrock_monitor::cost::prices as pricing;
use bedrock_monitor::report::{self, Report, ReportOptions, Window};

use crate::support::{Moto, Proxy};

const REGION: &str = "us-east-1";
const HAIKU: &str = "us.anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET_4: &str = "anthropic.claude-sonnet-4-20250514-v1:0";
const NOVA_PRO_ARN: &str = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0";
const UNKNOWN: &str = "acme.mystery-model-v1:0";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// moto, a proxy in front of it, clients through the proxy (for the report) and straight to
/// moto (for seeding, so the proxy records only the report's calls).
struct Env {
    rt: tokio::runtime::Runtime,
    proxy: Proxy,
    seed: Clients,
    through_proxy: Clients,
    // Dropped last: stops moto.
    _moto: Moto,
}

impl Env {
    fn start() -> Env {
        let moto = Moto::start();
        let proxy = Proxy::start(&moto.url());
        Env {
            rt: runtime(),
            seed: emulator_clients(&moto.url(), REGION),
            through_proxy: emulator_clients(&proxy.url(), REGION),
            proxy,
            _moto: moto,
        }
    }

    fn put(&self, namespace: &str, data: Vec<MetricDatum>) {
        for chunk in data.chunks(20) {
            self.rt
                .block_on(
                    self.seed
                        .cloudwatch
                        .put_metric_data()
                        .namespace(namespace)
                        .set_metric_data(Some(chunk.to_vec()))
                        .send(),
                )
                .expect("PutMetricData");
        }
    }

    fn report(&self, config: &Config, window: &Window, options: &ReportOptions) -> Report {
        self.rt
            .block_on(report::build_report(
                &self.through_proxy,
                config,
                window,
                options,
            ))
            .expect("build_report")
    }

    fn count(&self, operation: &str) -> usize {
        self.proxy
            .calls()
            .iter()
            .filter(|c| c.operation == operation)
            .count()
    }
}

fn datum(model: &str, metric: &str, at: DateTime<Utc>, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(metric)
        .dimensions(Dimension::builder().name("ModelId").value(model).build())
        .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
        .value(value)
        .build()
}

/// `samples` invocations whose latencies add up to `sum_ms`, as Bedrock publishes them.
fn latency(model: &str, at: DateTime<Utc>, samples: f64, sum_ms: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name("InvocationLatency")
        .dimensions(Dimension::builder().name("ModelId").value(model).build())
        .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
        .statistic_values(
            StatisticSet::builder()
                .sample_count(samples)
                .sum(sum_ms)
                .minimum(sum_ms / samples)
                .maximum(sum_ms / samples)
                .build(),
        )
        .build()
}

/// One model's usage at one time: invocations, tokens and latency.
fn usage(
    model: &str,
    at: DateTime<Utc>,
    invocations: f64,
    input: f64,
    output: f64,
    latency_ms: f64,
) -> Vec<MetricDatum> {
    vec![
        datum(model, "Invocations", at, invocations),
        datum(model, "InputTokenCount", at, input),
        datum(model, "OutputTokenCount", at, output),
        latency(model, at, invocations, invocations * latency_ms),
    ]
}

/// The last 6 hours up to now.
fn window() -> (Window, DateTime<Utc>) {
    let now = Utc::now();
    let window = Window::last_hours(6, now).expect("window");
    (window, window.end)
}

/// Cost from the built-in table, as the report must compute it.
fn table_cost(model: &str, input: u64, output: u64) -> f64 {
    let m = pricing::lookup(model, None, &BTreeMap::new()).expect("priced");
    input as f64 / 1000.0 * m.price.input_per_1k + output as f64 / 1000.0 * m.price.output_per_1k
}

fn assert_cents(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 0.005,
        "{what}: {actual} is not {expected} to the cent"
    );
}

#[test]
fn report_totals_costs_projection_and_formats() {
    let env = Env::start();
    let (window, end) = window();
    let t1 = end - Duration::hours(2);
    let t2 = end - Duration::hours(3);

    let mut data = Vec::new();
    // Haiku through a US cross-region profile: 4 + 6 invocations, 150,000 / 20,000 tokens,
    // 500 ms average (400 ms and about 566.67 ms per invocation in the two periods).
    data.extend(usage(HAIKU, t1, 4.0, 100_000.0, 12_000.0, 400.0));
    data.extend(usage(HAIKU, t2, 6.0, 50_000.0, 8_000.0, 3_400.0 / 6.0));
    data.push(datum(HAIKU, "InvocationClientErrors", t1, 1.0));
    data.push(datum(HAIKU, "InvocationThrottles", t2, 2.0));
    // Before the window: must not count.
    data.extend(usage(
        HAIKU,
        window.start - Duration::hours(1),
        1000.0,
        9e6,
        9e6,
        1.0,
    ));
    data.extend(usage(SONNET_4, t1, 3.0, 12_345.0, 6_789.0, 2_000.0));
    // A foundation-model ARN as the dimension value.
    data.extend(usage(NOVA_PRO_ARN, t2, 5.0, 40_000.0, 8_000.0, 300.0));
    data.push(datum(NOVA_PRO_ARN, "InvocationServerErrors", t2, 1.0));
    // A model with no price.
    data.extend(usage(UNKNOWN, t1, 7.0, 5_000.0, 1_000.0, 100.0));
    env.put("AWS/Bedrock", data);
    // Not per-model metrics: two dimensions, or another namespace.
    env.put(
        "AWS/Bedrock",
        vec![
            MetricDatum::builder()
                .metric_name("Invocations")
                .dimensions(
                    Dimension::builder()
                        .name("ModelId")
                        .value("two-dims")
                        .build(),
                )
                .dimensions(Dimension::builder().name("Other").value("x").build())
                .timestamp(aws_smithy_types::DateTime::from_secs(t1.timestamp()))
                .value(99.0)
                .build(),
        ],
    );
    env.put(
        "Custom/Other",
        vec![datum("other-namespace", "Invocations", t1, 99.0)],
    );

    let config = Config::default();
    let r = env.report(&config, &window, &ReportOptions::default());

    // Models, sorted by cost; the unknown one last.
    let ids: Vec<&str> = r.models.iter().map(|m| m.model_id.as_str()).collect();
    assert_eq!(ids, [HAIKU, SONNET_4, NOVA_PRO_ARN, UNKNOWN], "{r:#?}");

    let haiku = &r.models[0];
    assert_eq!(haiku.invocations, 10);
    assert_eq!(haiku.input_tokens, 150_000);
    assert_eq!(haiku.output_tokens, 20_000);
    assert_eq!(haiku.client_errors, 1);
    assert_eq!(haiku.server_errors, 0);
    assert_eq!(haiku.throttles, 2);
    assert_eq!(
        haiku.price_key.as_deref(),
        Some("anthropic.claude-3-5-haiku")
    );
    assert_eq!(haiku.avg_latency_ms, Some(500.0));
    let haiku_cost = table_cost(HAIKU, 150_000, 20_000);
    assert_cents(haiku.cost_usd.expect("priced"), haiku_cost, "haiku");
    assert_cents(haiku_cost, 0.20, "haiku by hand: 150 × 0.0008 + 20 × 0.004");

    let sonnet = &r.models[1];
    assert_eq!(
        (
            sonnet.invocations,
            sonnet.input_tokens,
            sonnet.output_tokens
        ),
        (3, 12_345, 6_789)
    );
    let sonnet_cost = table_cost(SONNET_4, 12_345, 6_789);
    assert_cents(sonnet.cost_usd.expect("priced"), sonnet_cost, "sonnet 4");
    assert_eq!(sonnet.avg_latency_ms, Some(2_000.0));

    let nova = &r.models[2];
    assert_eq!(
        (nova.invocations, nova.input_tokens, nova.output_tokens),
        (5, 40_000, 8_000)
    );
    assert_eq!(nova.server_errors, 1);
    assert_eq!(nova.price_key.as_deref(), Some("amazon.nova-pro"));
    let nova_cost = table_cost(NOVA_PRO_ARN, 40_000, 8_000);
    assert_cents(nova.cost_usd.expect("priced"), nova_cost, "nova pro");

    let unknown = &r.models[3];
    assert_eq!(unknown.invocations, 7);
    assert_eq!(unknown.cost_usd, None);
    assert_eq!(unknown.price_key, None);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains(&format!("[pricing.\"{UNKNOWN}\"]"))),
        "{:?}",
        r.notes
    );

    // Totals.
    assert_eq!(r.totals.invocations, 25);
    assert_eq!(r.totals.input_tokens, 150_000 + 12_345 + 40_000 + 5_000);
    assert_eq!(r.totals.output_tokens, 20_000 + 6_789 + 8_000 + 1_000);
    assert_eq!(r.totals.client_errors, 1);
    assert_eq!(r.totals.server_errors, 1);
    assert_eq!(r.totals.throttles, 2);
    let total_cost = haiku_cost + sonnet_cost + nova_cost;
    assert_cents(r.totals.cost_usd, total_cost, "total");
    assert_eq!(r.totals.unpriced_models, 1);
    assert_eq!(r.totals.unpriced_invocations, 7);
    assert_eq!(r.totals.unpriced_input_tokens, 5_000);
    assert_eq!(r.totals.unpriced_output_tokens, 1_000);

    // p99: moto does not serve percentiles; null, with a note, never a made-up number.
    assert!(r.models.iter().all(|m| m.p99_latency_ms.is_none()));
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("p99 not served by this endpoint")),
        "{:?}",
        r.notes
    );

    // Projection: 6-hour window × (30 days / 6 hours) = × 120.
    assert_eq!(window.seconds(), 6 * 3600);
    assert_eq!(r.projection.monthly_invocations, 25 * 120);
    assert_cents(
        r.projection.monthly_cost_usd,
        total_cost * 120.0,
        "projection",
    );
    assert_eq!(r.window.hours, 6.0);

    // JSON parsed back.
    let json = serde_json::to_string(&r).expect("json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("parse json");
    assert_eq!(v["totals"]["invocations"], 25);
    assert_eq!(v["totals"]["unpriced_models"], 1);
    assert_eq!(v["models"][0]["model_id"], HAIKU);
    assert_eq!(v["models"][0]["input_tokens"], 150_000);
    assert!(v["models"][3]["cost_usd"].is_null());
    assert!(v["models"][0]["p99_latency_ms"].is_null());
    assert_eq!(v["models"][0]["avg_latency_ms"], 500.0);
    assert_cents(
        v["totals"]["cost_usd"].as_f64().expect("number"),
        total_cost,
        "json total",
    );
    assert_eq!(v["projection"]["monthly_invocations"], 3000);
    assert!(v["projection"]["monthly_cost_usd"].is_number());
    let start = v["window"]["start"].as_str().expect("start");
    assert_eq!(
        DateTime::parse_from_rfc3339(start)
            .expect("rfc 3339")
            .timestamp(),
        window.start.timestamp()
    );
    assert_eq!(v["window"]["hours"], 6.0);

    // CSV parsed back.
    let text = r.to_csv().expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][col("model_id")], HAIKU);
    assert_eq!(&rows[0][col("invocations")], "10");
    assert_eq!(&rows[0][col("output_tokens")], "20000");
    assert_cents(
        rows[0][col("cost_usd")].parse().expect("cost"),
        haiku_cost,
        "csv haiku",
    );
    assert_eq!(&rows[2][col("model_id")], NOVA_PRO_ARN);
    assert_eq!(&rows[3][col("cost_usd")], "");
    assert_eq!(&rows[3][col("p99_latency_ms")], "");

    // Text: the table, the totals and the projection.
    let shown = r.to_string();
    eprintln!("{shown}");
    assert!(
        shown.contains(HAIKU) && shown.contains("unpriced"),
        "{shown}"
    );
    assert!(shown.contains("Total: 25 invocations"), "{shown}");
    assert!(
        shown.contains("Projected 30-day month at this rate (from the metrics): 3,000 invocations"),
        "{shown}"
    );

    // Calls: reads only, one ListMetrics per endpoint (AWS/Bedrock, AWS/BedrockMantle), one
    // GetMetricData for the sums plus the p99 call (retried by the SDK on moto's 500s).
    assert!(env.proxy.writes().is_empty(), "{:?}", env.proxy.writes());
    assert_eq!(env.count("ListMetrics"), 2);
    assert!(env.count("GetMetricData") >= 2);
}

#[test]
fn a_config_price_overrides_and_prices_the_unknown_model() {
    let env = Env::start();
    let (window, end) = window();
    let mut data = usage(
        HAIKU,
        end - Duration::hours(1),
        10.0,
        150_000.0,
        20_000.0,
        500.0,
    );
    data.extend(usage(
        UNKNOWN,
        end - Duration::hours(1),
        7.0,
        5_000.0,
        1_000.0,
        100.0,
    ));
    env.put("AWS/Bedrock", data);

    let mut config = Config::default();
    config.pricing.insert(
        "acme.mystery-model".into(),
        PriceConfig {
            input_per_1k: 0.01,
            output_per_1k: 0.02,
            cache_read_per_1k: None,
            cache_write_per_1k: None,
            cache_write_1h_per_1k: None,
        },
    );
    config.pricing.insert(
        "anthropic.claude-3-5-haiku".into(),
        PriceConfig {
            input_per_1k: 0.001,
            output_per_1k: 0.005,
            cache_read_per_1k: None,
            cache_write_per_1k: None,
            cache_write_1h_per_1k: None,
        },
    );
    let r = env.report(&config, &window, &ReportOptions::default());
    let cost = |id: &str| {
        r.models
            .iter()
            .find(|m| m.model_id == id)
            .and_then(|m| m.cost_usd)
            .expect("priced")
    };
    assert_cents(cost(HAIKU), 150.0 * 0.001 + 20.0 * 0.005, "haiku override");
    assert_cents(
        cost(UNKNOWN),
        5.0 * 0.01 + 1.0 * 0.02,
        "unknown priced by config",
    );
    assert_eq!(r.totals.unpriced_models, 0);
    assert_eq!(
        r.models.iter().map(|m| m.price_source).collect::<Vec<_>>(),
        [Some(pricing::PriceSource::Config); 2]
    );
}

#[test]
fn an_empty_window_is_an_empty_report() {
    let env = Env::start();
    let (window, _) = window();

    // No metrics at all: one ListMetrics per endpoint, no GetMetricData.
    let r = env.report(&Config::default(), &window, &ReportOptions::default());
    assert!(r.is_empty());
    assert_eq!(r.totals.invocations, 0);
    assert_eq!(r.totals.cost_usd, 0.0);
    assert_eq!(r.totals.unpriced_models, 0);
    assert_eq!(r.projection.monthly_invocations, 0);
    assert_eq!(r.projection.monthly_cost_usd, 0.0);
    assert_eq!(env.count("ListMetrics"), 2);
    assert_eq!(env.count("GetMetricData"), 0);
    let v: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
    assert_eq!(v["models"], serde_json::json!([]));
    assert_eq!(r.to_csv().expect("csv").lines().count(), 1);
    assert!(
        r.to_string()
            .contains("No Bedrock invocations in this window.")
    );

    // Metrics only before the window: listed, fetched, and left out; no p99 call.
    env.proxy.clear();
    env.put(
        "AWS/Bedrock",
        usage(
            HAIKU,
            window.start - Duration::hours(2),
            10.0,
            1e5,
            1e4,
            500.0,
        ),
    );
    let r = env.report(&Config::default(), &window, &ReportOptions::default());
    assert!(r.is_empty(), "{r:#?}");
    assert_eq!(r.totals.invocations, 0);
    assert_eq!(env.count("GetMetricData"), 1);
}

/// Seeds `models` models with the same usage and returns the GetMetricData calls of a report.
fn get_metric_data_calls(models: usize) -> (usize, Report) {
    let env = Env::start();
    let (window, end) = window();
    let ids: Vec<String> = (0..models)
        .map(|i| format!("anthropic.claude-3-haiku-{i:03}-v1:0"))
        .collect();
    let data: Vec<MetricDatum> = ids
        .iter()
        .flat_map(|id| usage(id, end - Duration::hours(1), 2.0, 1_000.0, 100.0, 250.0))
        .collect();
    env.put("AWS/Bedrock", data);
    let r = env.report(&Config::default(), &window, &ReportOptions::default());
    (env.count("GetMetricData"), r)
}

#[test]
fn get_metric_data_calls_do_not_grow_with_the_number_of_models() {
    let (calls_2, r2) = get_metric_data_calls(2);
    let (calls_50, r50) = get_metric_data_calls(50);
    assert_eq!(r2.models.len(), 2);
    assert_eq!(r50.models.len(), 50);
    assert_eq!(r50.totals.invocations, 100);
    assert_eq!(r50.totals.input_tokens, 50_000);
    assert!(r50.models.iter().all(|m| m.avg_latency_ms == Some(250.0)));
    // moto does not page, so this is the whole count: one call for the sums of every model
    // (50 × 10 queries ≤ 500) and one p99 call (retried alike on moto's 500s).
    eprintln!("GetMetricData calls: 2 models {calls_2}, 50 models {calls_50}");
    assert_eq!(
        calls_2, calls_50,
        "GetMetricData calls: 2 models {calls_2}, 50 models {calls_50}"
    );
}

#[test]
fn by_principal_without_a_log_group_says_logging_is_off() {
    let env = Env::start();
    let (window, end) = window();
    env.put(
        "AWS/Bedrock",
        usage(HAIKU, end - Duration::hours(1), 1.0, 10.0, 10.0, 5.0),
    );
    let options = ReportOptions {
        by_principal: true,
        log_group: "/aws/bedrock/modelinvocations".into(),
        ..ReportOptions::default()
    };
    let r = env.report(&Config::default(), &window, &options);
    assert_eq!(r.models.len(), 1, "the metrics part is still there");
    assert!(r.principals.is_none());
    assert!(
        r.notes.iter().any(|n| n.contains(
            "invocation logging is off or the log group /aws/bedrock/modelinvocations does not \
             exist: run `bedrock-monitor apply` first"
        )),
        "{:?}",
        r.notes
    );
    assert_eq!(env.count("StartQuery"), 1);
}

#[test]
fn by_principal_on_moto_reports_that_stats_are_not_evaluated() {
    let env = Env::start();
    let (window, end) = window();
    let group = "/aws/bedrock/modelinvocations";
    let logs = &env.seed.logs;
    env.rt
        .block_on(logs.create_log_group().log_group_name(group).send())
        .expect("CreateLogGroup");
    env.rt
        .block_on(
            logs.create_log_stream()
                .log_group_name(group)
                .log_stream_name("aws/bedrock/modelinvocations")
                .send(),
        )
        .expect("CreateLogStream");
    // A record shaped like a real invocation-log record.
    let record = serde_json::json!({
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": (end - Duration::minutes(30)).to_rfc3339(),
        "accountId": "123456789012",
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/app/session"},
        "region": REGION,
        "requestId": "r-1",
        "operation": "Converse",
        "modelId": HAIKU,
        "input": {"inputContentType": "application/json", "inputTokenCount": 1200},
        "output": {"outputContentType": "application/json", "outputTokenCount": 300}
    });
    env.rt
        .block_on(
            logs.put_log_events()
                .log_group_name(group)
                .log_stream_name("aws/bedrock/modelinvocations")
                .log_events(
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp((end - Duration::minutes(30)).timestamp_millis())
                        .message(record.to_string())
                        .build()
                        .expect("event"),
                )
                .send(),
        )
        .expect("PutLogEvents");

    let options = ReportOptions {
        by_principal: true,
        log_group: group.into(),
        ..ReportOptions::default()
    };
    let r = env.report(&Config::default(), &window, &options);
    // moto answers the query with raw records, not the stats rows: no breakdown is invented.
    assert!(r.principals.is_none(), "{:?}", r.principals);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("does not evaluate `stats` queries")),
        "{:?}",
        r.notes
    );
    assert_eq!(env.count("StartQuery"), 1);
    assert!(env.count("GetQueryResults") >= 1);
}

// What moto cannot do, with aws-smithy-mocks: a served p99, `NextToken` paging of
// `ListMetrics` and `GetMetricData`, and Logs Insights `stats` results.
mod mocked {
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::operation::list_metrics::ListMetricsOutput;
    use aws_sdk_cloudwatch::types::{Metric, MetricDataResult, StatusCode};
    use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
    use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
    use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock, mock_client};
    use bedrock_monitor::aws::offline_clients;

    use super::*;

    fn metric(name: &str, dimensions: &[(&str, &str)]) -> Metric {
        let mut m = Metric::builder().namespace("AWS/Bedrock").metric_name(name);
        for (n, v) in dimensions {
            m = m.dimensions(Dimension::builder().name(*n).value(*v).build());
        }
        m.build()
    }

    fn result(id: &str, values: &[f64]) -> MetricDataResult {
        MetricDataResult::builder()
            .id(id)
            .set_values(Some(values.to_vec()))
            .status_code(StatusCode::Complete)
            .build()
    }

    fn is_p99(input: &aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput) -> bool {
        input
            .metric_data_queries()
            .iter()
            .all(|q| q.metric_stat().and_then(|s| s.stat()) == Some("p99"))
    }

    /// A CloudWatch Logs client answering from `rules` (built by hand: the logs crate's
    /// `test-util` feature, which `mock_client!` needs, is not enabled).
    fn logs_client(rules: &[&Rule]) -> aws_sdk_cloudwatchlogs::Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new(REGION))
            .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
                "a", "b", None, None, "test",
            ))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(config)
    }

    fn fixed_window() -> Window {
        let now = Utc::now();
        Window::last_hours(6, now).expect("window")
    }

    #[tokio::test]
    async fn served_p99_and_paging_are_used() {
        let window = fixed_window();
        // The Mantle endpoint's namespace has no metrics here.
        let mantle = mock!(aws_sdk_cloudwatch::Client::list_metrics)
            .match_requests(|r| r.namespace() == Some("AWS/BedrockMantle"))
            .then_output(|| ListMetricsOutput::builder().build());
        let list = mock!(aws_sdk_cloudwatch::Client::list_metrics)
            .match_requests(|r| r.namespace() == Some("AWS/Bedrock"))
            .sequence()
            .output(|| {
                ListMetricsOutput::builder()
                    .metrics(metric("Invocations", &[("ModelId", HAIKU)]))
                    .metrics(metric("InputTokenCount", &[("ModelId", HAIKU)]))
                    .next_token("list-2")
                    .build()
            })
            .output(|| {
                ListMetricsOutput::builder()
                    .metrics(metric("Invocations", &[("ModelId", SONNET_4)]))
                    .metrics(metric("Invocations", &[("ModelId", "x"), ("Other", "y")]))
                    .metrics(metric("ModelInvocationLogsCloudWatchDeliveryFailure", &[]))
                    .build()
            })
            .build();
        // Sums: two pages. Model 0 is SONNET_4, model 1 HAIKU (IDs are sorted).
        let sums_1 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .match_requests(|r| !is_p99(r) && r.next_token().is_none())
            .then_output(|| {
                GetMetricDataOutput::builder()
                    .metric_data_results(result("m0_inv", &[3.0]))
                    .metric_data_results(result("m0_tin", &[100_000.0]))
                    .metric_data_results(result("m0_tout", &[10_000.0]))
                    .metric_data_results(result("m0_lsum", &[1_500.0]))
                    .metric_data_results(result("m0_lcnt", &[3.0]))
                    .metric_data_results(result("m1_inv", &[]))
                    .next_token("page-2")
                    .build()
            });
        let sums_2 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .match_requests(|r| !is_p99(r) && r.next_token() == Some("page-2"))
            .then_output(|| {
                GetMetricDataOutput::builder()
                    .metric_data_results(result("m0_inv", &[7.0]))
                    .metric_data_results(result("m0_tin", &[50_000.0]))
                    .metric_data_results(result("m0_tout", &[10_000.0]))
                    .metric_data_results(result("m0_lsum", &[3_500.0]))
                    .metric_data_results(result("m0_lcnt", &[7.0]))
                    .metric_data_results(result("m1_inv", &[4.0]))
                    .metric_data_results(result("m1_tin", &[1_000.0]))
                    .metric_data_results(result("m1_tout", &[1_000.0]))
                    .build()
            });
        let whole = window.seconds() as i32;
        let p99 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
            .match_requests(move |r| {
                is_p99(r)
                    && r.metric_data_queries()
                        .iter()
                        .all(|q| q.metric_stat().and_then(|s| s.period()) == Some(whole))
            })
            .then_output(|| {
                GetMetricDataOutput::builder()
                    .metric_data_results(result("m0_p99", &[812.5]))
                    .metric_data_results(result("m1_p99", &[]))
                    .build()
            });
        let mut clients = offline_clients();
        clients.cloudwatch = mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::MatchAny,
            [&mantle, &list, &sums_1, &sums_2, &p99]
        );

        let r = report::build_report(
            &clients,
            &Config::default(),
            &window,
            &ReportOptions::default(),
        )
        .await
        .expect("report");
        assert_eq!(list.num_calls(), 2, "ListMetrics pages followed");
        assert_eq!(
            sums_1.num_calls() + sums_2.num_calls(),
            2,
            "GetMetricData pages followed"
        );
        assert_eq!(p99.num_calls(), 1, "one whole-window p99 call");

        let sonnet = r
            .models
            .iter()
            .find(|m| m.model_id == SONNET_4)
            .expect("sonnet");
        assert_eq!(sonnet.invocations, 10);
        assert_eq!(sonnet.input_tokens, 150_000);
        assert_eq!(sonnet.avg_latency_ms, Some(500.0));
        assert_eq!(sonnet.p99_latency_ms, Some(812.5));
        let haiku = r
            .models
            .iter()
            .find(|m| m.model_id == HAIKU)
            .expect("haiku");
        assert_eq!(haiku.invocations, 4);
        assert_eq!(
            haiku.p99_latency_ms, None,
            "no value served: null, not invented"
        );
        assert_eq!(haiku.avg_latency_ms, None);
        assert_eq!(r.models.len(), 2, "the two-dimension metric is not a model");
        assert!(r.notes.iter().all(|n| !n.contains("p99")), "{:?}", r.notes);
        assert_eq!(r.window.period_seconds, 120);
    }

    #[tokio::test(start_paused = true)]
    async fn by_principal_polls_and_prices_stats_rows() {
        let window = fixed_window();
        let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
            .match_requests(|r| {
                r.log_group_name() == Some("/custom/group")
                    && r.query_string().is_some_and(|q| {
                        // Counts read from the raw record, not from discovered fields.
                        q.contains("parse @message") && q.contains("by principal, model")
                    })
            })
            .then_output(|| StartQueryOutput::builder().query_id("q-1").build());
        let field = |f: &str, v: &str| ResultField::builder().field(f).value(v).build();
        let row = move |arn: &str, model: &str, n: &str, i: &str, o: &str| {
            vec![
                field("principal", arn),
                field("model", model),
                field("invocations", n),
                field("input_tokens", i),
                field("output_tokens", o),
                // One of bob's 7 calls to the unknown model had no counts to read.
                field("counted", if n == "7" { "6" } else { n }),
            ]
        };
        let results = mock!(aws_sdk_cloudwatchlogs::Client::get_query_results)
            .sequence()
            .output(|| {
                GetQueryResultsOutput::builder()
                    .status(QueryStatus::Running)
                    .build()
            })
            .times(2)
            .output(move || {
                GetQueryResultsOutput::builder()
                    .status(QueryStatus::Complete)
                    .results(row(
                        "arn:aws:iam::1:user/alice",
                        HAIKU,
                        "10",
                        "150000",
                        "20000",
                    ))
                    .results(row("arn:aws:iam::1:user/bob", UNKNOWN, "7", "5000", "1000"))
                    .results(row(
                        "arn:aws:iam::1:user/bob",
                        SONNET_4,
                        "1",
                        "1000",
                        "1000",
                    ))
                    .build()
            })
            .build();
        let list = mock!(aws_sdk_cloudwatch::Client::list_metrics)
            .then_output(|| ListMetricsOutput::builder().build());

        let mut clients = offline_clients();
        clients.cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&list]);
        clients.logs = logs_client(&[&start, &results]);
        let options = ReportOptions {
            by_principal: true,
            log_group: "/custom/group".into(),
            ..ReportOptions::default()
        };
        let r = report::build_report(&clients, &Config::default(), &window, &options)
            .await
            .expect("report");
        assert_eq!(results.num_calls(), 3, "polled until Complete");
        let rows = r.principals.as_ref().expect("principals");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].principal, "arn:aws:iam::1:user/alice");
        assert_eq!(rows[0].invocations, 10);
        assert_cents(
            rows[0].cost_usd.expect("priced"),
            table_cost(HAIKU, 150_000, 20_000),
            "alice",
        );
        assert_eq!(rows[1].model_id, SONNET_4);
        assert_eq!(rows[2].model_id, UNKNOWN);
        assert_eq!(rows[2].cost_usd, None);

        let v: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("parse");
        for field in [
            "principal",
            "model_id",
            "invocations",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ] {
            assert!(
                v["principals"][0].get(field).is_some(),
                "principals[].{field}"
            );
        }
        let text = r.to_string();
        assert!(
            text.contains("By principal:") && text.contains("arn:aws:iam::1:user/bob"),
            "{text}"
        );

        // The logs' totals against the metrics' (none in this window): shown, with the records
        // that could not be counted.
        let check = r.principals_check.as_ref().expect("check");
        assert_eq!(check.logs.invocations, 18);
        assert_eq!(check.logs.input_tokens, 156_000);
        assert_eq!(check.metrics.invocations, 0);
        assert_eq!(check.difference.invocations, 18);
        assert_eq!(check.difference.output_tokens, 22_000);
        assert_eq!(check.uncounted_records, 1);
        assert_eq!(rows[2].uncounted_records, 1);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("1 invocation-log record(s) had no token counts")),
            "{:?}",
            r.notes
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("differ from CloudWatch's metrics") && n.contains("+18")),
            "{:?}",
            r.notes
        );
        assert_eq!(v["principals_check"]["difference"]["input_tokens"], 156_000);
        assert!(
            text.contains("Logs vs metrics: invocations 18 vs 0"),
            "{text}"
        );
    }

    /// `--source logs` with a Logs Insights that evaluates `stats` (mocked: moto's does not):
    /// one query, per-model counts summed over callers, no CloudWatch metrics call.
    #[tokio::test(start_paused = true)]
    async fn the_logs_source_counts_per_model() {
        let window = fixed_window();
        let start = mock!(aws_sdk_cloudwatchlogs::Client::start_query)
            .match_requests(|r| {
                r.query_string()
                    .is_some_and(|q| q.contains("parse @message"))
            })
            .then_output(|| StartQueryOutput::builder().query_id("q-logs").build());
        let field = |f: &str, v: &str| ResultField::builder().field(f).value(v).build();
        let results =
            mock!(aws_sdk_cloudwatchlogs::Client::get_query_results).then_output(move || {
                let row = |who: &str, model: &str, n: &str, i: &str, o: &str| {
                    vec![
                        field("principal", who),
                        field("model", model),
                        field("invocations", n),
                        field("input_tokens", i),
                        field("output_tokens", o),
                        field("counted", n),
                    ]
                };
                GetQueryResultsOutput::builder()
                    .status(QueryStatus::Complete)
                    .results(row("arn:aws:iam::1:user/a", HAIKU, "20", "1000", "200"))
                    .results(row("arn:aws:iam::1:user/b", HAIKU, "3", "506", "4576"))
                    .results(row("arn:aws:iam::1:user/b", SONNET_4, "1", "10", "10"))
                    .build()
            });
        let list = mock!(aws_sdk_cloudwatch::Client::list_metrics)
            .then_output(|| ListMetricsOutput::builder().build());
        let mut clients = offline_clients();
        clients.cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&list]);
        clients.logs = logs_client(&[&start, &results]);
        let options = ReportOptions {
            metrics: false,
            logs: true,
            ..ReportOptions::default()
        };
        let r = report::build_report(&clients, &Config::default(), &window, &options)
            .await
            .expect("report");
        assert_eq!(list.num_calls(), 0, "no metrics read for the logs source");
        assert_eq!(start.num_calls(), 1);
        assert_eq!(r.source, ["logs"]);
        let haiku = r
            .models
            .iter()
            .find(|m| m.model_id == HAIKU)
            .expect("haiku");
        let logs = haiku.logs.expect("logs");
        assert_eq!(
            (logs.invocations, logs.input_tokens, logs.output_tokens),
            (23, 1506, 4776)
        );
        assert!(haiku.differences.is_none(), "nothing to compare with");
        assert!(r.models.iter().any(|m| m.model_id == SONNET_4));
        assert!(
            r.to_string().contains("Counted in the invocation logs:"),
            "{r}"
        );
    }
}

/// Every kind of token, geography and tier, and the Mantle endpoint, priced to the cent
/// against figures worked out by hand from the price list (USD per million tokens):
/// - global Claude Sonnet 4.5 ($3 in, $15 out, cache read $0.30, 5-minute write $3.75):
///   1M in, 100k out, 2M cache reads, 400k cache writes = 3 + 1.5 + 0.6 + 1.5 = $6.60;
/// - the same model through a US profile (10 % more: $3.30 / $16.50): 1M in, 100k out =
///   3.3 + 1.65 = $4.95;
/// - Nova Pro on the Priority tier (1.75 × $0.80 / $3.20): 1M in, 1M out = 1.4 + 5.6 = $7.00;
/// - Claude Opus 4.5 (global, $5 / $25) through the Mantle endpoint, whose metrics live in
///   `AWS/BedrockMantle` under other names: 200k in, 40k out = 1 + 1 = $2.00.
#[test]
fn cache_tokens_geography_tiers_and_the_mantle_endpoint_are_priced() {
    let env = Env::start();
    let (window, now) = window();
    let at = now - Duration::hours(1);
    let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let us = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let priority = "amazon.nova-pro-v1:0+priority";
    let mut data = usage(global, at, 10.0, 1_000_000.0, 100_000.0, 900.0);
    data.push(datum(global, "CacheReadInputTokens", at, 2_000_000.0));
    data.push(datum(global, "CacheWriteInputTokens", at, 400_000.0));
    data.extend(usage(us, at, 5.0, 1_000_000.0, 100_000.0, 800.0));
    data.extend(usage(priority, at, 3.0, 1_000_000.0, 1_000_000.0, 400.0));
    env.put("AWS/Bedrock", data);
    let mantle = |metric: &str, value: f64| {
        MetricDatum::builder()
            .metric_name(metric)
            .dimensions(
                Dimension::builder()
                    .name("Model")
                    .value("global.anthropic.claude-opus-4-5")
                    .build(),
            )
            .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
            .value(value)
            .build()
    };
    env.put(
        "AWS/BedrockMantle",
        vec![
            mantle("Inferences", 7.0),
            mantle("TotalInputTokens", 200_000.0),
            mantle("TotalOutputTokens", 40_000.0),
        ],
    );
    let r = env.report(&Config::default(), &window, &ReportOptions::default());
    let row = |id: &str| {
        r.models
            .iter()
            .find(|m| m.model_id == id)
            .unwrap_or_else(|| panic!("{id} in {:#?}", r.models))
    };
    let cents = |v: Option<f64>| v.map(|v| (v * 100.0).round() as i64);
    assert_eq!(cents(row(global).cost_usd), Some(660));
    assert_eq!(row(global).cache_read_input_tokens, 2_000_000);
    assert_eq!(cents(row(us).cost_usd), Some(495));
    assert_eq!(cents(row(priority).cost_usd), Some(700));
    assert_eq!(row(priority).tier, Some(pricing::Tier::Priority));
    let opus = row("global.anthropic.claude-opus-4-5");
    assert_eq!(opus.endpoint, report::metrics::Endpoint::Mantle);
    assert_eq!(opus.invocations, 7);
    assert_eq!(cents(opus.cost_usd), Some(200));
    assert_eq!(opus.p99_latency_ms, None);
    assert_eq!(
        (r.totals.cost_usd * 100.0).round() as i64,
        660 + 495 + 700 + 200
    );
    // The lifetime of cache writes is not in the metrics: said, not guessed silently.
    assert!(
        r.notes.iter().any(|n| n.contains("5-minute rate")),
        "{:?}",
        r.notes
    );
    let text = r.to_string();
    assert!(text.contains("(Mantle)"), "{text}");
}

/// AWS's pages name the prompt cache's metrics two ways (`CacheReadInputTokenCount` in the
/// blog's dashboard widget, `CacheReadInputTokens` in the user guide): whichever an account
/// publishes is read, as `ListMetrics` lists it, and a model whose tokens come under both
/// names counts them once. Global Claude Sonnet 4.5: cache reads $0.30 and 5-minute writes
/// $3.75 per million; 1M in ($3) and 100k out ($1.50) each.
/// - the first model: 2M reads + 400k writes under the `…TokenCount` names = 0.6 + 1.5, $6.60;
/// - the second (the same model through a US profile, 10 % more): 1M reads under both names
///   = 0.33 once, plus 3.30 + 1.65 = $5.28.
#[test]
fn cache_tokens_are_read_under_either_name_and_counted_once() {
    let env = Env::start();
    let (window, now) = window();
    let at = now - Duration::hours(1);
    let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let us = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let mut data = usage(global, at, 10.0, 1_000_000.0, 100_000.0, 900.0);
    data.push(datum(global, "CacheReadInputTokenCount", at, 2_000_000.0));
    data.push(datum(global, "CacheWriteInputTokenCount", at, 400_000.0));
    data.extend(usage(us, at, 5.0, 1_000_000.0, 100_000.0, 800.0));
    data.push(datum(us, "CacheReadInputTokenCount", at, 1_000_000.0));
    data.push(datum(us, "CacheReadInputTokens", at, 1_000_000.0));
    env.put("AWS/Bedrock", data);
    let r = env.report(&Config::default(), &window, &ReportOptions::default());
    let row = |id: &str| {
        r.models
            .iter()
            .find(|m| m.model_id == id)
            .unwrap_or_else(|| panic!("{id} in {:#?}", r.models))
    };
    let cents = |v: Option<f64>| v.map(|v| (v * 100.0).round() as i64);
    assert_eq!(row(global).cache_read_input_tokens, 2_000_000);
    assert_eq!(row(global).cache_write_input_tokens, 400_000);
    assert_eq!(cents(row(global).cost_usd), Some(660));
    assert_eq!(row(us).cache_read_input_tokens, 1_000_000);
    assert_eq!(cents(row(us).cost_usd), Some(528));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains(us) && n.contains("counted once")),
        "{:?}",
        r.notes
    );
}
