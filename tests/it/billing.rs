//! `report --source billing` against moto: `GetCostAndUsage` answers with the results the test
//! posts to moto's `/moto-api/static/ce/cost-and-usage-results` (one queued result per distinct
//! request, so a second page is a second result). Realistic service names and usage types:
//! Marketplace-billed Claude models, a first-party Nova model, and a line that names no model.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::proxy::{AnswerWith, Protocol, Reply, StrictRequest};

const SONNET: &str = "Claude 3.7 Sonnet (Amazon Bedrock Edition)";
const HAIKU: &str = "Claude 3 Haiku (Amazon Bedrock Edition)";
/// A Marketplace listing the price book has a product of (the recorded Price List answer):
/// its `Units` are a million tokens each ("Million Input Tokens", $1.10 a unit).
const HAIKU_45: &str = "Claude Haiku 4.5 (Amazon Bedrock Edition)";

fn group(service: &str, usage_type: &str, cost: &str, quantity: &str) -> Value {
    json!({
        "Keys": [service, usage_type],
        "Metrics": {
            "UnblendedCost": {"Amount": cost, "Unit": "USD"},
            "UsageQuantity": {"Amount": quantity, "Unit": "N/A"},
        },
    })
}

fn day(date: &str, next: &str, groups: Vec<Value>) -> Value {
    json!({
        "TimePeriod": {"Start": date, "End": next},
        "Total": {},
        "Groups": groups,
        "Estimated": false,
    })
}

/// POST the queued results to moto's static CE endpoint.
fn queue_results(env: &TestEnv, results: Value) {
    env.queue_moto_results(
        "/moto-api/static/ce/cost-and-usage-results",
        json!({ "results": results }),
    );
}

#[test]
fn billed_spend_per_model_kind_and_unmapped_lines_over_two_pages() {
    let env = TestEnv::new();
    queue_results(
        &env,
        json!([
            {
                "ResultsByTime": [day("2025-10-14", "2025-10-15", vec![
                    // Marketplace units are millions of tokens: 506 and 4,576 tokens at $3
                    // and $15 per million.
                    group(SONNET, "USE1-MP:USE1_InputTokenCount-Units", "0.001518", "0.000506"),
                    group(SONNET, "USE1-MP:USE1_OutputTokenCount-Units", "0.06864", "0.004576"),
                ])],
                "NextPageToken": "page-2",
                "DimensionValueAttributes": [],
            },
            {
                "ResultsByTime": [day("2025-10-15", "2025-10-16", vec![
                    group("Amazon Bedrock", "USE1-NovaLite-input-tokens", "0.0006", "10000"),
                    group("Amazon Bedrock", "USE1-ProvisionedThroughput", "2.5", "1"),
                    group(HAIKU, "USE1-MP:USE1_CacheReadInputTokenCount-Units", "0.0003", "1000"),
                    // Marketplace spend on something else: not Bedrock spend.
                    group("Acme Log Analytics", "USE1-MP:Seats", "99", "1"),
                ])],
                "DimensionValueAttributes": [],
            },
        ]),
    );
    let run = env.run(&[
        "report",
        "--source",
        "billing",
        "--start",
        "2025-10-14",
        "--end",
        "2025-10-16",
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["source"], json!(["billing"]));
    assert_eq!(doc["ce_requests"], 2, "one request and its second page");
    let billing = &doc["billing"];
    assert_eq!(doc["billing_complete"], true);
    let models = billing["models"].as_array().expect("models");
    assert_eq!(models.len(), 3, "{billing:#}");
    let sonnet = &models[0];
    assert_eq!(sonnet["model"], "Claude 3.7 Sonnet");
    // The price book has no product of this listing, so nothing says what its unit is: no
    // token count rather than a wrong one (its cost still counts).
    assert_eq!(sonnet["input_tokens"], Value::Null);
    assert_eq!(sonnet["output_tokens"], Value::Null);
    assert_eq!(sonnet["input_cost_usd"], 0.001518);
    assert_eq!(sonnet["output_cost_usd"], 0.06864);
    assert_eq!(sonnet["cost_usd"], 0.070158);
    let haiku = models
        .iter()
        .find(|m| m["model"] == "Claude 3 Haiku")
        .expect("haiku");
    assert_eq!(haiku["cache_cost_usd"], 0.0003);
    assert!(models.iter().any(|m| m["model"] == "NovaLite"));
    assert_eq!(
        doc["unmapped_usage_types"],
        json!([{"service": "Amazon Bedrock", "usage_type": "USE1-ProvisionedThroughput", "cost_usd": 2.5}])
    );
    // Mapped and unmapped alike; the other Marketplace product is not Bedrock spend.
    assert_eq!(billing["total_cost_usd"], 2.571058);
    assert_eq!(doc["totals"]["billed_cost_usd"], 2.571058);
    // No CloudWatch call for a billing-only report.
    let calls: Vec<String> = env.proxy.calls().into_iter().map(|c| c.service).collect();
    assert!(calls.iter().all(|s| s == "ce"), "{calls:?}");

    let text = env.run(&[
        "report",
        "--source",
        "billing",
        "--start",
        "2025-10-14",
        "--end",
        "2025-10-16",
    ]);
    text.assert_code(0);
    assert!(
        text.stdout
            .contains("Billed by Cost Explorer, 2025-10-14 to 2025-10-15"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("(unmapped) Amazon Bedrock / USE1-ProvisionedThroughput"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("2 Cost Explorer requests"),
        "{}",
        text.stdout
    );
}

/// No access to Cost Explorer (AccessDeniedException, as for a member account whose payer did
/// not enable it): a clear note naming the permission, exit 0.
#[test]
fn no_cost_explorer_access_is_a_note_not_a_failure() {
    let env = TestEnv::new();
    env.proxy.add_rule(Arc::new(AnswerWith(|request: &StrictRequest| {
        (request.operation == "GetCostAndUsage").then(|| {
            Reply::error(
                Protocol::Json,
                400,
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/test is not authorized to perform: ce:GetCostAndUsage",
            )
        })
    })));
    let run = env.run(&["report", "--source", "billing", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert!(doc.get("billing").is_none(), "{doc:#}");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("ce:GetCostAndUsage") && notes.contains("no access to Cost Explorer"),
        "{notes}"
    );
    assert_eq!(doc["ce_requests"], 1);
}

#[test]
fn permissions_add_cost_explorer_only_when_asked() {
    let env = TestEnv::new();
    let plain = env.run(&["permissions"]);
    plain.assert_code(0);
    assert!(!plain.stdout.contains("ce:GetCostAndUsage"));
    let with = env.run(&["permissions", "--with-billing"]);
    with.assert_code(0);
    assert!(
        with.stdout.contains("ce:GetCostAndUsage"),
        "{}",
        with.stdout
    );
}

/// Puts `value` of `metric` for `model` at `at` into moto's AWS/Bedrock namespace.
fn put_metric(
    env: &TestEnv,
    model: &str,
    metric: &str,
    at: chrono::DateTime<chrono::Utc>,
    value: f64,
) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    env.block_on(
        env.aws
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/Bedrock")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("ModelId").value(model).build())
                    .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
                    .value(value)
                    .build(),
            )
            .send(),
    )
    .expect("PutMetricData");
}

/// `--compare`: the issue's day of Claude 3.7 Sonnet (23 invocations, 506 input and 4,576
/// output tokens; billed $0.001518 + $0.068640) matches its estimate to the cent; Nova Lite's
/// estimate is a third below its bill and is flagged; Claude 3 Haiku appears only on the bill
/// and still gets its row.
#[test]
fn compare_puts_the_estimate_against_the_bill_and_flags_differences() {
    let env = TestEnv::new();
    let day_start = (chrono::Utc::now() - chrono::Duration::days(4)).date_naive();
    let at = day_start.and_hms_opt(12, 0, 0).expect("noon").and_utc();
    let sonnet_id = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
    put_metric(&env, sonnet_id, "Invocations", at, 23.0);
    put_metric(&env, sonnet_id, "InputTokenCount", at, 506.0);
    put_metric(&env, sonnet_id, "OutputTokenCount", at, 4576.0);
    put_metric(&env, "amazon.nova-lite-v1:0", "Invocations", at, 100.0);
    put_metric(
        &env,
        "amazon.nova-lite-v1:0",
        "InputTokenCount",
        at,
        1_000_000.0,
    );
    put_metric(&env, "amazon.nova-lite-v1:0", "OutputTokenCount", at, 0.0);
    let next = day_start.succ_opt().expect("next day");
    queue_results(
        &env,
        json!([{
            "ResultsByTime": [day(&day_start.to_string(), &next.to_string(), vec![
                group(SONNET, "USE1-MP:USE1_InputTokenCount-Units", "0.001518", "506"),
                group(SONNET, "USE1-MP:USE1_OutputTokenCount-Units", "0.06864", "4576"),
                group("Amazon Bedrock", "USE1-NovaLite-input-tokens", "0.09", "1000000"),
                group(HAIKU, "USE1-MP:USE1_InputTokenCount-Units", "0.25", "1000000"),
            ])],
            "DimensionValueAttributes": [],
        }]),
    );
    let (start, end) = (day_start.to_string(), next.to_string());
    let run = env.run(&[
        "report",
        "--compare",
        "--start",
        &start,
        "--end",
        &end,
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["source"], json!(["metrics", "logs", "billing"]));
    assert_eq!(doc["billing_complete"], true);
    // A source that cannot be read is named with the reason; the others still compare.
    assert!(
        doc["notes"]
            .to_string()
            .contains("logs source: invocation logging is off or the log group"),
        "{:#}",
        doc["notes"]
    );
    let row = |id: &str| {
        doc["models"]
            .as_array()
            .and_then(|m| m.iter().find(|r| r["model_id"] == id))
            .unwrap_or_else(|| panic!("no row {id} in {doc:#}"))
            .clone()
    };
    let sonnet = row(sonnet_id);
    assert_eq!(sonnet["invocations"], 23);
    assert_eq!(sonnet["cost_usd"], 0.070158);
    assert_eq!(sonnet["billed"]["model"], "Claude 3.7 Sonnet");
    assert_eq!(sonnet["billed"]["cost_usd"], 0.070158);
    assert_eq!(sonnet["differences"]["cost_usd"], 0.0);
    assert_eq!(sonnet["differences"]["flagged"], false);
    let nova = row("amazon.nova-lite-v1:0");
    assert_eq!(nova["billed"]["model"], "NovaLite");
    assert_eq!(nova["differences"]["cost_usd"], -0.03);
    assert_eq!(nova["differences"]["cost_percent"], -33.3);
    assert_eq!(nova["differences"]["flagged"], true);
    let haiku = row("Claude 3 Haiku");
    assert_eq!(haiku["invocations"], 0, "billed only: no metrics");
    assert_eq!(haiku["billed"]["cost_usd"], 0.25);
    assert_eq!(doc["totals"]["billed_cost_usd"], 0.410158);
    assert!(
        doc["notes"].to_string().contains("differ by more than 2 %"),
        "{:#}",
        doc["notes"]
    );

    // A wider tolerance flags nothing; the text shows the comparison.
    let text = env.run(&[
        "report",
        "--compare",
        "--tolerance",
        "50",
        "--start",
        &start,
        "--end",
        &end,
    ]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("Estimate against the bill:"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("differs"), "{}", text.stdout);
    assert!(text.stdout.contains("-$0.0300"), "{}", text.stdout);

    // CSV: the model rows with the other sources' columns after the metrics' ones.
    let csv = env.run(&[
        "report",
        "--compare",
        "--start",
        &start,
        "--end",
        &end,
        "-o",
        "csv",
    ]);
    csv.assert_code(0);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let nova = rows
        .iter()
        .find(|r| &r[col("model_id")] == "amazon.nova-lite-v1:0")
        .expect("nova row");
    assert_eq!(&nova[col("billed_cost_usd")], "0.09");
    assert_eq!(&nova[col("difference_cost_usd")], "-0.03");
    assert_eq!(&nova[col("difference_cost_percent")], "-33.3");
    assert_eq!(&nova[col("flagged")], "true");
}

/// `--daily`: one row per UTC day from the metrics' datapoints and the bill, in JSON, CSV
/// (parsed back) and text (one bar per day).
#[test]
fn daily_rows_in_every_format() {
    let env = TestEnv::new();
    let first = (chrono::Utc::now() - chrono::Duration::days(5)).date_naive();
    let second = first.succ_opt().expect("second day");
    let third = second.succ_opt().expect("third day");
    let sonnet_id = "us.anthropic.claude-3-7-sonnet-20250219-v1:0";
    for (date, tokens) in [(first, 1000.0), (second, 3000.0)] {
        let at = date.and_hms_opt(10, 0, 0).expect("time").and_utc();
        put_metric(&env, sonnet_id, "Invocations", at, 2.0);
        put_metric(&env, sonnet_id, "InputTokenCount", at, tokens);
        put_metric(&env, sonnet_id, "OutputTokenCount", at, 0.0);
    }
    queue_results(
        &env,
        json!([{
            "ResultsByTime": [
                day(&first.to_string(), &second.to_string(), vec![
                    group(SONNET, "USE1-MP:USE1_InputTokenCount-Units", "0.003", "1000"),
                ]),
                day(&second.to_string(), &third.to_string(), vec![
                    group(SONNET, "USE1-MP:USE1_InputTokenCount-Units", "0.009", "3000"),
                ]),
            ],
            "DimensionValueAttributes": [],
        }]),
    );
    let (start, end) = (first.to_string(), third.to_string());
    let args = |format: &str| -> Vec<String> {
        [
            "report",
            "--compare",
            "--daily",
            "--start",
            &start,
            "--end",
            &end,
            "-o",
            format,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run_with = |format: &str| {
        let owned = args(format);
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        let run = env.run(&refs);
        run.assert_code(0);
        run
    };

    let doc = run_with("json").json();
    let days = doc["daily"].as_array().expect("daily rows");
    assert_eq!(days.len(), 2, "{doc:#}");
    assert_eq!(days[0]["date"], first.to_string());
    assert_eq!(days[0]["input_tokens"], 1000);
    assert_eq!(days[0]["estimated_cost_usd"], 0.003);
    assert_eq!(days[0]["billed_cost_usd"], 0.003);
    assert_eq!(days[1]["input_tokens"], 3000);
    assert_eq!(days[1]["billed_cost_usd"], 0.009);

    let csv = run_with("csv").stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[0], "date");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[1][0], second.to_string().as_str());
    assert_eq!(&rows[1][2], "3000");
    assert_eq!(&rows[1][5], "0.009");

    let text = run_with("text").stdout;
    let bars: Vec<&str> = text.lines().filter(|l| l.contains('█')).collect();
    assert_eq!(bars.len(), 2, "{text}");
    assert!(bars[1].contains("billed $0.0090, 3,000 tokens"), "{text}");
    // The costlier day has the longer bar.
    assert!(
        bars[1].matches('█').count() > bars[0].matches('█').count(),
        "{text}"
    );
}

/// moto has no `GetCostForecast`: the billed projection is tested with aws-smithy-mocks. For the
/// current month, the bill so far plus the forecast for the rest, filtered to the Bedrock
/// services this month's bill names; two Cost Explorer requests in all.
mod forecast {
    use aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageOutput;
    use aws_sdk_costexplorer::operation::get_cost_forecast::GetCostForecastOutput;
    use aws_sdk_costexplorer::types::{DateInterval, Group, MetricValue, ResultByTime};
    use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
    use bedrock_monitor::aws::offline_clients;
    use bedrock_monitor::config::Config;
    use bedrock_monitor::report::{self, ReportOptions, Window};
    use chrono::{Datelike, Utc};

    fn ce_client(rules: &[&Rule]) -> aws_sdk_costexplorer::Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_costexplorer::Config::builder()
            .behavior_version(aws_sdk_costexplorer::config::BehaviorVersion::latest())
            .region(aws_sdk_costexplorer::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_costexplorer::config::Credentials::new(
                "a", "b", None, None, "test",
            ))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        aws_sdk_costexplorer::Client::from_conf(config)
    }

    fn money(amount: &str) -> MetricValue {
        MetricValue::builder().amount(amount).unit("USD").build()
    }

    #[tokio::test]
    async fn the_current_month_gets_a_billed_projection() {
        let now = Utc::now();
        let first = now.date_naive().with_day(1).expect("first of the month");
        let usage =
            mock!(aws_sdk_costexplorer::Client::get_cost_and_usage).then_output(move || {
                GetCostAndUsageOutput::builder()
                    .results_by_time(
                        ResultByTime::builder()
                            .time_period(
                                DateInterval::builder()
                                    .start(first.to_string())
                                    .end(first.succ_opt().expect("day").to_string())
                                    .build()
                                    .expect("interval"),
                            )
                            .groups(
                                Group::builder()
                                    .keys(super::SONNET)
                                    .keys("USE1-MP:USE1_InputTokenCount-Units")
                                    .metrics("UnblendedCost", money("12.5"))
                                    .metrics("UsageQuantity", money("4166667"))
                                    .build(),
                            )
                            .build(),
                    )
                    .build()
            });
        let forecast = mock!(aws_sdk_costexplorer::Client::get_cost_forecast)
            .match_requests(|r| {
                r.filter()
                    .and_then(|f| f.dimensions())
                    .is_some_and(|d| d.values() == [super::SONNET.to_string()])
            })
            .then_output(|| {
                GetCostForecastOutput::builder()
                    .total(money("20.25"))
                    .build()
            });
        let mut clients = offline_clients();
        clients.costexplorer = ce_client(&[&usage, &forecast]);
        let window = Window {
            start: first.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
            end: now,
        };
        let options = ReportOptions {
            metrics: false,
            billing: true,
            ..ReportOptions::default()
        };
        let r = report::build_report(&clients, &Config::default(), &window, &options)
            .await
            .expect("report");
        assert_eq!(
            forecast.num_calls(),
            1,
            "one forecast, filtered to the billed services"
        );
        assert_eq!(r.ce_requests, 2);
        let p = r
            .billing
            .as_ref()
            .and_then(|b| b.projection.clone())
            .expect("projection");
        assert_eq!(p.month_to_date_usd, 12.5);
        assert_eq!(p.forecast_rest_of_month_usd, 20.25);
        assert_eq!(p.month_end_usd, 32.75);
        assert!(
            r.to_string()
                .contains("Billed projection to month end (Cost Explorer forecast): $12.50 so far + $20.25 forecast = $32.75"),
            "{r}"
        );

        // A past window gets no forecast request.
        let past = Window {
            start: (first - chrono::Duration::days(40))
                .and_hms_opt(0, 0, 0)
                .expect("t")
                .and_utc(),
            end: (first - chrono::Duration::days(35))
                .and_hms_opt(0, 0, 0)
                .expect("t")
                .and_utc(),
        };
        let r = report::build_report(&clients, &Config::default(), &past, &options)
            .await
            .expect("report");
        assert_eq!(r.ce_requests, 1);
        assert_eq!(forecast.num_calls(), 1);
    }
}

/// `--by-tag KEY`: billed Bedrock spend per value of a cost-allocation tag (application
/// inference profile tags among them), with an "untagged" row; other services are left out.
#[test]
fn by_tag_groups_billed_spend_with_an_untagged_row() {
    let env = TestEnv::new();
    // Keep the request bodies, to see what was asked for.
    let bodies = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let seen = Arc::clone(&bodies);
    env.proxy
        .add_rule(Arc::new(AnswerWith(move |request: &StrictRequest| {
            if request.operation == "GetCostAndUsage"
                && let Some(body) = request.json()
            {
                seen.lock().unwrap_or_else(|p| p.into_inner()).push(body);
            }
            None
        })));
    queue_results(
        &env,
        json!([{
            "ResultsByTime": [day("2025-10-14", "2025-10-15", vec![
                group(SONNET, "Team$search", "3.5", "0"),
                group(HAIKU, "Team$search", "0.5", "0"),
                group("Amazon Bedrock", "Team$support", "1.25", "0"),
                group(SONNET, "Team$", "2", "0"),
                group("Acme Log Analytics", "Team$search", "99", "0"),
            ])],
            "DimensionValueAttributes": [],
        }]),
    );
    let args = [
        "report",
        "--by-tag",
        "Team",
        "--start",
        "2025-10-14",
        "--end",
        "2025-10-15",
    ];
    let json_run = env.run(&[&args[..], &["-o", "json"]].concat());
    json_run.assert_code(0);
    let doc = json_run.json();
    assert_eq!(doc["source"], json!(["billing"]));
    assert_eq!(
        doc["billing"]["by_tag"],
        json!({"key": "Team", "values": [
            {"value": "search", "cost_usd": 4.0},
            {"value": null, "cost_usd": 2.0},
            {"value": "support", "cost_usd": 1.25},
        ]})
    );
    assert_eq!(doc["billing"]["total_cost_usd"], 7.25);
    // The request grouped by the tag.
    let calls = env.proxy.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.operation == "GetCostAndUsage")
            .count(),
        1
    );

    let csv = env.run(&[&args[..], &["-o", "csv"]].concat());
    csv.assert_code(0);
    assert_eq!(
        csv.stdout,
        "tag_key,tag_value,cost_usd\nTeam,search,4\nTeam,,2\nTeam,support,1.25\n"
    );
    let text = env.run(&args);
    assert!(text.stdout.contains("(untagged)"), "{}", text.stdout);
}

/// CSV injection (OWASP, "CSV Injection"): a tag value anyone with tagging rights chose, like
/// `=1+2`, reaches the spreadsheet as text (`'=1+2`), while a negative number stays a number.
/// The report written with `--out` is readable by its owner only (mode 0600), also when it
/// replaces a file that was readable by others.
#[test]
fn csv_cells_cannot_start_a_formula_and_report_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let answer = json!([{
        "ResultsByTime": [day("2025-10-14", "2025-10-15", vec![
            group(SONNET, "Team$=1+2", "3.5", "0"),
            group(SONNET, "Team$@SUM(A1)", "1", "0"),
            group(SONNET, "Team$-2", "0.5", "0"),
        ])],
        "DimensionValueAttributes": [],
    }]);
    queue_results(&env, answer.clone());
    let args = [
        "report",
        "--by-tag",
        "Team",
        "--start",
        "2025-10-14",
        "--end",
        "2025-10-15",
        "-o",
        "csv",
    ];
    let run = env.run(&args);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "tag_key,tag_value,cost_usd\nTeam,'=1+2,3.5\nTeam,'@SUM(A1),1\nTeam,-2,0.5\n"
    );

    let out = env.path("spend.csv");
    std::fs::write(&out, "old\n").expect("old file");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    queue_results(&env, answer);
    let out_arg = out.display().to_string();
    env.run(&[&args[..], &["--out", &out_arg]].concat())
        .assert_code(0);
    let meta = std::fs::metadata(&out).expect("report file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&out)
            .expect("read")
            .contains("Team,'=1+2,3.5"),
    );
}

/// `--source logs` against moto: its Logs Insights does not evaluate `stats`, so the logs
/// cannot be counted there; the report says so (a source that cannot be read is named) and
/// exits 0. The counting itself is unit-tested (`src/report/logs.rs`, `principals.rs`).
#[test]
fn the_logs_source_names_why_it_cannot_count() {
    let env = TestEnv::new();
    env.block_on(
        env.aws
            .logs
            .create_log_group()
            .log_group_name("/aws/bedrock/modelinvocations")
            .send(),
    )
    .expect("log group");
    // One invocation record, so that the query has something to return.
    env.block_on(
        env.aws
            .logs
            .create_log_stream()
            .log_group_name("/aws/bedrock/modelinvocations")
            .log_stream_name("aws/bedrock/modelinvocations")
            .send(),
    )
    .expect("log stream");
    let record = r#"{"schemaType":"ModelInvocationLog","identity":{"arn":"arn:aws:iam::123456789012:user/u"},"modelId":"amazon.nova-lite-v1:0","input":{"inputTokenCount":10},"output":{"outputTokenCount":5}}"#;
    env.block_on(
        env.aws
            .logs
            .put_log_events()
            .log_group_name("/aws/bedrock/modelinvocations")
            .log_stream_name("aws/bedrock/modelinvocations")
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(chrono::Utc::now().timestamp_millis() - 60_000)
                    .message(record)
                    .build()
                    .expect("event"),
            )
            .send(),
    )
    .expect("log event");
    let run = env.run(&["report", "--source", "logs", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["source"], json!(["logs"]));
    assert!(
        doc["notes"].to_string().contains(
            "logs source: this endpoint returned Logs Insights rows without the `stats` fields"
        ),
        "{:#}",
        doc["notes"]
    );
    let calls: Vec<String> = env.proxy.calls().into_iter().map(|c| c.service).collect();
    assert!(
        calls.iter().all(|s| s == "logs"),
        "only the log query: {calls:?}"
    );
}

/// A day where "Amazon Bedrock Service" (newer Claude models, billed by AWS) carries most of
/// the spend, beside "Amazon Bedrock", a Marketplace listing and AgentCore: the billed report
/// asks Cost Explorer for every one of those names, counts all of it, lists each service it
/// counted, and gives AWS-billed quantities (priced per 1,000 tokens) in tokens. With
/// `[spend] include_agentcore = false`, AgentCore is left out.
#[test]
fn every_billing_name_is_counted_and_listed() {
    let env = TestEnv::new();
    let bodies = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let seen = Arc::clone(&bodies);
    env.proxy
        .add_rule(Arc::new(AnswerWith(move |request: &StrictRequest| {
            if request.operation == "GetCostAndUsage"
                && let Some(body) = request.json()
            {
                seen.lock().unwrap_or_else(|p| p.into_inner()).push(body);
            }
            None
        })));
    let result = json!({
        "ResultsByTime": [day("2026-11-02", "2026-11-03", vec![
            // 17.33 thousand tokens at $3.30 per million (AWS's own figures for Sonnet 4.6).
            group("Amazon Bedrock Service", "USE1-Claude4.6Sonnet-input-tokens", "0.0572", "17.33"),
            group("Amazon Bedrock Service", "USE1-Claude4.6Sonnet-output-tokens", "8.25", "500"),
            group(
                "Amazon Bedrock Service",
                "USE1-Claude4.6Sonnet-cache-read-input-token-count",
                "1.65",
                "5000",
            ),
            group("Amazon Bedrock", "USE1-NovaLite-input-tokens", "0.06", "1000"),
            // Half a unit of a million tokens at $1.10: 500,000 tokens.
            group(HAIKU_45, "USE1-MP:USE1_InputTokenCount-Units", "0.55", "0.5"),
            group("Amazon Bedrock AgentCore", "USE1-Runtime-vCPU-Hours", "2", "40"),
            group("Acme Log Analytics", "USE1-MP:Seats", "99", "1"),
        ])],
        "DimensionValueAttributes": [],
    });
    queue_results(&env, json!([result.clone()]));
    let args = [
        "report",
        "--source",
        "billing",
        "--start",
        "2026-11-02",
        "--end",
        "2026-11-03",
        "-o",
        "json",
    ];
    let run = env.run(&args);
    run.assert_code(0);
    let doc = run.json();
    let billing = &doc["billing"];
    assert_eq!(billing["total_cost_usd"], 12.5672, "{billing:#}");
    assert_eq!(
        billing["services"],
        json!([
            {"service": "Amazon Bedrock Service", "cost_usd": 9.9572},
            {"service": "Amazon Bedrock AgentCore", "cost_usd": 2.0},
            {"service": HAIKU_45, "cost_usd": 0.55},
            {"service": "Amazon Bedrock", "cost_usd": 0.06},
        ])
    );
    let models = billing["models"].as_array().expect("models");
    let sonnet = models
        .iter()
        .find(|m| m["model"] == "Claude4.6Sonnet")
        .expect("the AWS-billed model");
    assert_eq!(sonnet["input_tokens"], 17330);
    assert_eq!(sonnet["output_tokens"], 500_000);
    assert_eq!(sonnet["cache_read_tokens"], 5_000_000);
    assert_eq!(sonnet["cost_usd"], 9.9572);
    let haiku = models
        .iter()
        .find(|m| m["model"] == "Claude Haiku 4.5")
        .expect("the Marketplace model");
    assert_eq!(haiku["input_tokens"], 500_000);
    // AgentCore is Bedrock spend but no model's: listed with its cost.
    assert_eq!(
        doc["unmapped_usage_types"],
        json!([{"service": "Amazon Bedrock AgentCore", "usage_type": "USE1-Runtime-vCPU-Hours", "cost_usd": 2.0}])
    );
    // What was asked for: every service name Bedrock is billed under, and the Marketplace.
    let asked = bodies.lock().unwrap_or_else(|p| p.into_inner())[0]["Filter"].to_string();
    for name in [
        "Amazon Bedrock",
        "Amazon Bedrock Service",
        "Amazon Bedrock AgentCore",
        "AWS Marketplace",
    ] {
        assert!(asked.contains(&format!("\"{name}\"")), "{name}: {asked}");
    }
    let text = env.run(&args[..args.len() - 2]);
    assert!(
        text.stdout.contains(
            "Counted as Bedrock spend: Amazon Bedrock Service $9.96, Amazon Bedrock AgentCore $2.00"
        ),
        "{}",
        text.stdout
    );

    // Without AgentCore.
    env.write_config("[spend]\ninclude_agentcore = false\n");
    queue_results(&env, json!([result]));
    let run = env.run(&args);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["billing"]["total_cost_usd"], 10.5672);
    assert!(!doc["billing"]["services"].to_string().contains("AgentCore"));
}
