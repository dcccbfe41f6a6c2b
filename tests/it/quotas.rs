//! `quotas`, the quota alarms and `quotas request`, end to end: the binary against moto (the
//! metrics, the alarms) and the stand-in's Service Quotas (moto serves Service Quotas for VPC
//! only), with the quotas the stand-in seeds as ListServiceQuotas names them
//! (`tests/support/standin/service_quota_catalogue.rs`) and per-minute metrics put into moto.

use aws_sdk_cloudwatch::types::{Dimension, MetricAlarm, MetricDatum};
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::support::env::{REGION, TestEnv};

/// Geographic cross-Region calls: L-DCADBC78 (4,000,000 TPM, the older "InvokeModel" name)
/// and L-616A3F5B (2,000 RPM).
const HAIKU_US: &str = "us.anthropic.claude-3-haiku-20240307-v1:0";
/// In-Region calls: L-9DC5F595 (1,000,000 TPM), L-25B50707 (1,000 RPM), L-41FDDA6B (tokens
/// per day).
const GPT_OSS: &str = "openai.gpt-oss-120b-1:0";
/// A model whose quota names a model ListFoundationModels does not list (L-17F95AA4).
const COMMAND_R: &str = "cohere.command-r-v1:0";

fn minute(ago: i64) -> DateTime<Utc> {
    Utc::now()
        .duration_trunc(Duration::minutes(1))
        .expect("minute")
        - Duration::minutes(ago)
}

fn datum(model: &str, metric: &str, at: DateTime<Utc>, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(metric)
        .dimensions(Dimension::builder().name("ModelId").value(model).build())
        .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
        .value(value)
        .build()
}

/// Per-minute use: two requests' worth in one minute (summed by the Sum statistic), a busier
/// minute, and quieter ones. Returns the busier minute (taken once: the clock may pass a
/// minute's end while the test runs).
fn seed_metrics(env: &TestEnv) -> DateTime<Utc> {
    let busiest = minute(30);
    let data = vec![
        datum(HAIKU_US, "EstimatedTPMQuotaUsage", minute(40), 600_000.0),
        datum(HAIKU_US, "EstimatedTPMQuotaUsage", minute(40), 400_000.0),
        datum(HAIKU_US, "EstimatedTPMQuotaUsage", busiest, 3_500_000.0),
        datum(HAIKU_US, "EstimatedTPMQuotaUsage", minute(20), 100_000.0),
        datum(HAIKU_US, "Invocations", minute(40), 50.0),
        datum(HAIKU_US, "Invocations", busiest, 1_900.0),
        datum(GPT_OSS, "EstimatedTPMQuotaUsage", minute(35), 200_000.0),
        datum(GPT_OSS, "Invocations", minute(35), 10.0),
        datum(COMMAND_R, "EstimatedTPMQuotaUsage", minute(35), 5_000.0),
        datum(COMMAND_R, "Invocations", minute(35), 2.0),
    ];
    env.block_on(
        env.aws
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/Bedrock")
            .set_metric_data(Some(data))
            .send(),
    )
    .expect("PutMetricData");
    busiest
}

fn row<'a>(doc: &'a serde_json::Value, model: &str, kind: &str) -> &'a serde_json::Value {
    doc["rows"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["model_id"] == model && r["kind"] == kind)
        })
        .unwrap_or_else(|| panic!("no {kind} row for {model}: {doc:#}"))
}

#[test]
fn quotas_show_each_models_peak_against_the_quota_of_its_scope() {
    let env = TestEnv::new();
    env.standin.seed_bedrock_quotas(REGION);
    let seeded_busiest = seed_metrics(&env);
    env.write_config(
        "[quotas]\nalarm_percent = 80\nmodels = [\"us.anthropic.claude-3-haiku-20240307-v1:0\"]\n",
    );

    let run = env.run(&["quotas", "--days", "1", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["days"], 1);

    let tpm = row(&doc, HAIKU_US, "tokens_per_minute");
    assert_eq!(tpm["scope"], "cross_region");
    assert_eq!(tpm["quota"], 4_000_000.0);
    assert_eq!(tpm["quota_code"], "L-DCADBC78");
    assert_eq!(tpm["peak"], 3_500_000.0);
    assert_eq!(tpm["p99"], 3_500_000.0);
    assert_eq!(
        tpm["p50"], 1_000_000.0,
        "the two datapoints of one minute are summed"
    );
    assert_eq!(tpm["headroom_percent"], 12.5);
    assert_eq!(tpm["active_periods"], 3);
    assert_eq!(tpm["over_alarm_share"], true, "3.5M is over 80% of 4M");
    let busiest: DateTime<Utc> = tpm["busiest"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("busiest minute");
    assert_eq!(busiest, seeded_busiest);

    let rpm = row(&doc, HAIKU_US, "requests_per_minute");
    assert_eq!(rpm["quota"], 2_000.0);
    assert_eq!(rpm["quota_code"], "L-616A3F5B");
    assert_eq!(rpm["peak"], 1_900.0);
    assert_eq!(rpm["headroom_percent"], 5.0);

    let gpt = row(&doc, GPT_OSS, "tokens_per_minute");
    assert_eq!(gpt["scope"], "on_demand");
    assert_eq!(gpt["quota"], 1_000_000.0);
    assert_eq!(gpt["headroom_percent"], 80.0);
    assert_eq!(gpt["over_alarm_share"], false);
    let daily = row(&doc, GPT_OSS, "tokens_per_day");
    assert_eq!(daily["quota"], 1_440_000_000.0);
    assert_eq!(daily["quota_code"], "L-41FDDA6B");
    assert_eq!(daily["peak"], 200_000.0);

    // Use with no quota of its model is listed, not dropped; so is the quota of no model.
    let orphan = row(&doc, COMMAND_R, "tokens_per_minute");
    assert!(orphan["quota"].is_null(), "{orphan}");
    assert_eq!(orphan["peak"], 5_000.0);
    let unmapped: Vec<&str> = doc["unmapped_quotas"]
        .as_array()
        .expect("unmapped_quotas")
        .iter()
        .filter_map(|q| q["code"].as_str())
        .collect();
    assert!(unmapped.contains(&"L-17F95AA4"), "{unmapped:?}");
    assert!(
        unmapped.contains(&"L-8EA73537"),
        "the 1M-context quota: {unmapped:?}"
    );
    assert!(
        !unmapped.contains(&"L-F0D0E0B9"),
        "a Knowledge Bases quota is not an inference quota: {unmapped:?}"
    );

    // The same in CSV, and the text table names the scope and headroom.
    let csv = env.run(&["quotas", "--days", "1", "--output", "csv"]);
    csv.assert_code(0);
    let line = csv
        .stdout
        .lines()
        .find(|l| l.starts_with(&format!("{HAIKU_US},cross_region,tokens_per_minute,")))
        .unwrap_or_else(|| panic!("{}", csv.stdout));
    assert!(line.contains(",4000000,L-DCADBC78,3500000,"), "{line}");
    let text = env.run(&["quotas", "--days", "1"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("12.5% (over alarm)"),
        "{}",
        text.stdout
    );

    // status says which model went over the share, without calling it drift.
    let status = env.run(&["status", "--output", "json"]);
    let alarms = status.json()["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "alarms").cloned())
        .expect("alarms component");
    let subjects: Vec<String> = alarms["health"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["subject"].as_str().map(str::to_string))
        .collect();
    assert!(
        subjects.contains(&format!("{HAIKU_US} TPM quota")),
        "{subjects:?}"
    );
}

fn alarm(env: &TestEnv, name: &str) -> MetricAlarm {
    env.block_on(
        env.aws
            .cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .send(),
    )
    .expect("DescribeAlarms")
    .metric_alarms()
    .first()
    .cloned()
    .unwrap_or_else(|| panic!("alarm {name} missing"))
}

/// The dashboard's body as moto stores it.
fn dashboard(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(&env.dashboard_body()).expect("the dashboard body is JSON")
}

/// The quota section's graph of `metric` that draws `model` (found by its title, checked by
/// its lines).
fn use_widget<'a>(body: &'a serde_json::Value, model: &str, metric: &str) -> &'a serde_json::Value {
    let title = match metric {
        "EstimatedTPMQuotaUsage" => format!("{model}: tokens per minute"),
        "Invocations" => format!("{model}: requests per minute"),
        _ => "Time to first token".to_string(),
    };
    let widget = body["widgets"]
        .as_array()
        .and_then(|ws| {
            ws.iter().find(|w| {
                w["properties"]["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(&title))
            })
        })
        .unwrap_or_else(|| panic!("no graph titled {title}: {body:#}"));
    let lines = widget["properties"]["metrics"].as_array().expect("metrics");
    assert!(
        lines
            .iter()
            .any(|m| m[0] == "AWS/Bedrock" && m[1] == metric && m[2] == "ModelId" && m[3] == model),
        "{widget}"
    );
    widget
}

/// The horizontal annotations (value, label) of `model`'s `metric` graph.
fn quota_lines(body: &serde_json::Value, model: &str, metric: &str) -> Vec<(f64, String)> {
    let widget = use_widget(body, model, metric);
    assert_eq!(widget["properties"]["period"], 60, "{widget}");
    assert_eq!(widget["properties"]["stat"], "Sum", "{widget}");
    widget["properties"]["annotations"]["horizontal"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["value"].as_f64().unwrap_or(f64::NAN),
                a["label"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn quota_alarms_follow_the_applied_quota_and_converge() {
    let env = TestEnv::new();
    env.standin.seed_bedrock_quotas(REGION);
    env.write_config(&format!(
        "[quotas]\nalarm_percent = 80\nttft_p90_ms = 2500\nmodels = [\"{HAIKU_US}\", \"{GPT_OSS}\", \"global.{GPT_OSS}\"]\n"
    ));
    let plan = env.run(&["plan"]);
    plan.assert_code(0);
    assert!(
        plan.stdout
            .contains("global.openai.gpt-oss-120b-1:0: no applied tokens-per-minute quota"),
        "a model without a quota of its scope is named: {}",
        plan.stdout
    );
    env.run(&["apply", "--yes"]).assert_code(0);

    let tpm = alarm(&env, &format!("Bedrock-Quota-TPM-{HAIKU_US}"));
    assert_eq!(tpm.metric_name(), Some("EstimatedTPMQuotaUsage"));
    assert_eq!(tpm.namespace(), Some("AWS/Bedrock"));
    assert_eq!(tpm.statistic().map(|s| s.as_str()), Some("Sum"));
    assert_eq!(tpm.period(), Some(60));
    assert_eq!(tpm.threshold(), Some(3_200_000.0));
    assert_eq!(tpm.dimensions()[0].value(), Some(HAIKU_US));
    assert_eq!(
        tpm.alarm_actions(),
        [format!(
            "arn:aws:sns:{REGION}:123456789012:bedrock-usage-alerts"
        )]
    );
    let rpm = alarm(&env, &format!("Bedrock-Quota-RPM-{HAIKU_US}"));
    assert_eq!(rpm.metric_name(), Some("Invocations"));
    assert_eq!(rpm.threshold(), Some(1_600.0));
    assert_eq!(
        alarm(&env, &format!("Bedrock-Quota-TPM-{GPT_OSS}")).threshold(),
        Some(800_000.0)
    );
    let ttft = alarm(&env, &format!("Bedrock-Quota-TTFT-p90-{GPT_OSS}"));
    assert_eq!(ttft.metric_name(), Some("TimeToFirstToken"));
    assert_eq!(ttft.extended_statistic(), Some("p90"));
    assert_eq!(ttft.threshold(), Some(2_500.0));

    // The dashboard draws each model's use against its applied quota, as moto stores it.
    let body = dashboard(&env);
    assert_eq!(
        quota_lines(&body, HAIKU_US, "EstimatedTPMQuotaUsage"),
        [
            (
                4_000_000.0,
                "quota L-DCADBC78 (cross-Region TPM): 4,000,000".to_string()
            ),
            (
                3_200_000.0,
                "alarm at 80% of the quota: 3,200,000".to_string()
            ),
        ]
    );
    assert_eq!(
        quota_lines(&body, HAIKU_US, "Invocations"),
        [
            (
                2_000.0,
                "quota L-616A3F5B (cross-Region RPM): 2,000".to_string()
            ),
            (1_600.0, "alarm at 80% of the quota: 1,600".to_string()),
        ]
    );
    assert_eq!(
        quota_lines(&body, GPT_OSS, "EstimatedTPMQuotaUsage")[0].0,
        1_000_000.0
    );
    let global = format!("global.{GPT_OSS}");
    assert_eq!(
        quota_lines(&body, &global, "EstimatedTPMQuotaUsage"),
        [],
        "no quota of the global scope: its use, without a line"
    );
    let ttft = use_widget(&body, HAIKU_US, "TimeToFirstToken");
    let drawn: Vec<(&str, &str)> = ttft["properties"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            (
                m[3].as_str().unwrap_or_default(),
                m[4]["stat"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let mut expected = Vec::new();
    for model in [HAIKU_US, GPT_OSS, global.as_str()] {
        for stat in ["p50", "p90", "p99"] {
            expected.push((model, stat));
        }
    }
    assert_eq!(drawn, expected);
    assert_eq!(
        ttft["properties"]["annotations"]["horizontal"][0]["value"],
        2_500.0
    );

    // Converged: a second apply writes nothing; plan and status agree.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);

    // AWS raises a quota: plan shows that one threshold and the dashboard's line for it, one
    // apply moves both, nothing else.
    assert!(
        env.standin
            .set_quota_value(REGION, "L-DCADBC78", 5_000_000.0)
    );
    env.run(&["plan", "--detailed-exitcode"]).assert_code(2);
    let plan = env.run(&["plan", "--output", "json"]).json();
    let changes = |id: &str| {
        crate::support::env::resource(&plan, id)["changes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let alarms = changes("alarms");
    let fields: Vec<&str> = alarms.iter().filter_map(|c| c["field"].as_str()).collect();
    assert_eq!(
        fields,
        [format!("Bedrock-Quota-TPM-{HAIKU_US}")],
        "{plan:#}"
    );
    assert_eq!(alarms[0]["old"]["threshold"], 3_200_000.0);
    assert_eq!(alarms[0]["new"]["threshold"], 4_000_000.0);
    let dashboard_changes = changes("dashboard");
    assert_eq!(dashboard_changes.len(), 1, "{plan:#}");
    assert_eq!(dashboard_changes[0]["field"], "body");
    // The planned body differs from the stored one in that graph's annotations only.
    let (old, new) = (&dashboard_changes[0]["old"], &dashboard_changes[0]["new"]);
    let differing: Vec<String> = old["widgets"]
        .as_array()
        .zip(new["widgets"].as_array())
        .map(|(o, n)| {
            o.iter()
                .zip(n)
                .filter(|(o, n)| o != n)
                .map(|(o, n)| {
                    let mut o = o.clone();
                    o["properties"]["annotations"] = n["properties"]["annotations"].clone();
                    assert_eq!(&o, n, "only the annotations change");
                    o["properties"]["title"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        differing,
        [format!(
            "{HAIKU_US}: tokens per minute (EstimatedTPMQuotaUsage) against its quota"
        )]
    );
    let others: Vec<&str> = plan["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| !r["changes"].as_array().is_none_or(Vec::is_empty))
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        others,
        ["dashboard", "alarms"],
        "nothing else changes: {plan:#}"
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    let mut writes = env.writes();
    writes.sort();
    assert_eq!(
        writes,
        ["monitoring:PutDashboard", "monitoring:PutMetricAlarm"],
        "{writes:?}"
    );
    assert_eq!(
        alarm(&env, &format!("Bedrock-Quota-TPM-{HAIKU_US}")).threshold(),
        Some(4_000_000.0)
    );
    assert_eq!(
        quota_lines(&dashboard(&env), HAIKU_US, "EstimatedTPMQuotaUsage"),
        [
            (
                5_000_000.0,
                "quota L-DCADBC78 (cross-Region TPM): 5,000,000".to_string()
            ),
            (
                4_000_000.0,
                "alarm at 80% of the quota: 4,000,000".to_string()
            ),
        ]
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(
        env.writes().is_empty(),
        "third apply wrote {:?}",
        env.writes()
    );

    // A model dropped from [quotas] takes its alarms with it.
    env.write_config(&format!("[quotas]\nmodels = [\"{GPT_OSS}\"]\n"));
    env.run(&["apply", "--yes"]).assert_code(0);
    let mut left: Vec<String> = env
        .block_on(
            env.aws
                .cloudwatch
                .describe_alarms()
                .alarm_name_prefix("Bedrock-Quota-")
                .send(),
        )
        .expect("DescribeAlarms")
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            format!("Bedrock-Quota-RPM-{GPT_OSS}"),
            format!("Bedrock-Quota-TPM-{GPT_OSS}")
        ]
    );
}

#[test]
fn an_increase_is_asked_for_once_and_only_when_confirmed() {
    let env = TestEnv::new();
    env.standin.seed_bedrock_quotas(REGION);
    seed_metrics(&env);
    let args = [
        "quotas",
        "request",
        "--days",
        "1",
        "--model",
        HAIKU_US,
        "--kind",
        "tokens-per-minute",
        "--value",
        "6000000",
    ];
    // No terminal and no --yes: what support needs is shown, nothing is requested.
    let refused = env.run(&args);
    refused.assert_code(3);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(refused.stderr.contains("L-DCADBC78"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("3500000"),
        "the peak: {}",
        refused.stderr
    );
    assert!(env.standin.quota_requests().is_empty());

    let mut with_yes = args.to_vec();
    with_yes.extend(["--yes", "--output", "json"]);
    let made = env.run(&with_yes);
    made.assert_code(0);
    let doc = made.json();
    assert_eq!(doc["quota_code"], "L-DCADBC78");
    assert_eq!(doc["current_quota"], 4_000_000.0);
    assert_eq!(doc["desired_value"], 6_000_000.0);
    assert_eq!(doc["status"], "PENDING");
    assert_eq!(doc["busiest"][0][1], 3_500_000.0);
    let requests = env.standin.quota_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].quota_code, "L-DCADBC78");
    assert_eq!(requests[0].desired_value, 6_000_000.0);

    // A model Bedrock does not list is refused by name, and nothing is requested.
    let unknown = env.run(&[
        "quotas",
        "request",
        "--days",
        "1",
        "--model",
        "acme.unknown-model-v1:0",
        "--kind",
        "tokens-per-minute",
        "--value",
        "10",
        "--yes",
    ]);
    unknown.assert_code(3);
    assert!(
        unknown.stderr.contains("Bedrock lists no such model"),
        "{}",
        unknown.stderr
    );
    assert_eq!(env.standin.quota_requests().len(), 1);

    // `quotas` shows it open; a second one for the same quota is refused before AWS is asked.
    let listed = env
        .run(&["quotas", "--days", "1", "--output", "json"])
        .json();
    assert_eq!(listed["open_requests"][0]["quota_code"], "L-DCADBC78");
    let again = env.run(&with_yes);
    again.assert_code(3);
    assert!(
        again.stderr.contains("open increase request"),
        "{}",
        again.stderr
    );
    assert_eq!(env.standin.quota_requests().len(), 1);
}

#[test]
fn bad_quota_input_is_refused_before_any_aws_call() {
    let env = TestEnv::new();
    for (args, expect) in [
        (
            vec![
                "quotas",
                "request",
                "--model",
                "not a model",
                "--kind",
                "tokens-per-minute",
                "--value",
                "10",
            ],
            "not a model ID",
        ),
        (
            vec![
                "quotas",
                "request",
                "--model",
                GPT_OSS,
                "--kind",
                "tokens-per-minute",
                "--value",
                "0",
            ],
            "above 0",
        ),
        (
            vec![
                "quotas",
                "request",
                "--model",
                GPT_OSS,
                "--kind",
                "tokens-per-minute",
                "--value=-5",
            ],
            "above 0",
        ),
        (vec!["quotas", "--days", "16"], "1 to 15"),
    ] {
        env.proxy.clear();
        let run = env.run(&args);
        run.assert_code(3);
        assert!(run.stderr.contains(expect), "{args:?}: {}", run.stderr);
        assert!(env.proxy.calls().is_empty(), "{args:?} called AWS");
    }
    for (config, line, expect) in [
        (
            "[quotas]\nalarm_percent = 0\nmodels = [\"openai.gpt-oss-120b-1:0\"]\n",
            2,
            "from 1 to 100",
        ),
        (
            "[quotas]\nalarm_percent = 101\nmodels = [\"openai.gpt-oss-120b-1:0\"]\n",
            2,
            "from 1 to 100",
        ),
        (
            "[quotas]\nmodels = [\"openai.gpt-oss-120b-1:0\", \"Claude\"]\n",
            2,
            "not a model ID",
        ),
        ("[quotas]\nmodels = []\n", 2, "at least one model"),
        (
            "[quotas]\nmodels = [\"openai.gpt-oss-120b-1:0\"]\nttft_p90_ms = -1\n",
            3,
            "milliseconds above 0",
        ),
    ] {
        env.write_config(config);
        env.proxy.clear();
        let run = env.run(&["plan"]);
        run.assert_code(3);
        assert!(
            run.stderr.contains(&format!("bedrock-monitor.toml:{line}")),
            "{config}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(expect), "{config}: {}", run.stderr);
        assert!(env.proxy.calls().is_empty(), "{config} called AWS");
    }
}

#[test]
fn every_page_of_quotas_is_read() {
    use crate::support::standin::AppliedQuota;

    let env = TestEnv::new();
    env.standin.seed_bedrock_quotas(REGION);
    // 150 quotas that are not about inference come first, as the Agents and Knowledge Bases
    // quotas do in a real listing: the model's quota is on the second page of 100.
    let mut quotas: Vec<AppliedQuota> = (0..150)
        .map(|i| AppliedQuota {
            code: format!("L-F{i:07}"),
            name: format!("(Knowledge Bases) Filler requests per second {i}"),
            value: 10.0,
            adjustable: false,
        })
        .collect();
    quotas.extend(env.standin.bedrock_quotas(REGION));
    env.standin
        .set_bedrock_quotas_of(crate::support::env::ACCOUNT, REGION, quotas);
    seed_metrics(&env);
    env.proxy.clear();
    let doc = env
        .run(&["quotas", "--days", "1", "--output", "json"])
        .assert_code(0)
        .json();
    assert_eq!(
        row(&doc, HAIKU_US, "tokens_per_minute")["quota"],
        4_000_000.0
    );
    let pages = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "ListServiceQuotas")
        .count();
    assert_eq!(pages, 2, "176 quotas at 100 a page");
}

/// `report` with `[quotas]`: its JSON carries `quotas` (the rows `quotas` computes, over the
/// report's window), cut to CloudWatch's 15 days of per-minute datapoints when the report
/// reaches back further (and the page says so), empty with a note when the window is wholly
/// older; without `[quotas]` there is no such key.
#[test]
fn report_carries_the_quota_section_when_quotas_are_configured() {
    let env = TestEnv::new();
    env.standin.seed_bedrock_quotas(REGION);
    let seeded_busiest = seed_metrics(&env);
    let plain = env.run(&["report", "--output", "json"]);
    plain.assert_code(0);
    assert!(
        plain.json().get("quotas").is_none(),
        "no [quotas], no section"
    );

    env.write_config(&format!(
        "[quotas]\nalarm_percent = 80\nmodels = [\"{HAIKU_US}\"]\n"
    ));
    let run = env.run(&["report", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    let section = &doc["quotas"];
    let tpm = row(section, HAIKU_US, "tokens_per_minute");
    assert_eq!(tpm["quota"], 4_000_000.0);
    assert_eq!(tpm["quota_code"], "L-DCADBC78");
    assert_eq!(tpm["peak"], 3_500_000.0);
    assert_eq!(tpm["over_alarm_share"], true);
    let busiest: DateTime<Utc> = tpm["busiest"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("busiest minute");
    assert_eq!(busiest, seeded_busiest);
    assert_eq!(
        row(section, GPT_OSS, "tokens_per_minute")["headroom_percent"],
        80.0
    );
    assert!(section.get("clipped_from").is_none(), "{section:#}");
    assert_eq!(section["alarm_percent"], 80.0);
    let text = env.run(&["report"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("Bedrock quotas and peak use")
            && text.stdout.contains("12.5% (over alarm)"),
        "{}",
        text.stdout
    );

    // Twenty days back: the quota rows cover the last fifteen, and say where the report began.
    let start = (Utc::now() - Duration::days(20)).date_naive();
    let start_flag = start.to_string();
    let doc = env
        .run(&["report", "--start", &start_flag, "--output", "json"])
        .json();
    let section = &doc["quotas"];
    assert_eq!(
        section["clipped_from"],
        format!("{start}T00:00:00+00:00"),
        "{section:#}"
    );
    let from: DateTime<Utc> = section["start"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("start");
    let fifteen_days = Utc::now() - Duration::days(15) - Duration::minutes(2);
    assert!(from >= fifteen_days, "{from} is within 15 days");
    assert_eq!(section["days"], 15);
    assert_eq!(
        row(section, HAIKU_US, "tokens_per_minute")["peak"],
        3_500_000.0
    );
    assert!(
        section["notes"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|n| n.as_str().is_some_and(|n| n.contains("15 days"))),
        "{section:#}"
    );
    let page = env
        .run(&["report", "--start", &start_flag, "--output", "html"])
        .stdout;
    for shown in [
        "Quota headroom",
        "<strong>Only the last 15 days:</strong>",
        "<span class=\"badge\">over alarm</span>",
        "data-chart=\"quotas\"",
        "L-DCADBC78",
    ] {
        assert!(page.contains(shown), "{shown} not on the page");
    }

    // Wholly older than the per-minute datapoints: no rows, and why.
    let (old_start, old_end) = (
        (Utc::now() - Duration::days(40)).date_naive().to_string(),
        (Utc::now() - Duration::days(30)).date_naive().to_string(),
    );
    let doc = env
        .run(&[
            "report", "--start", &old_start, "--end", &old_end, "--output", "json",
        ])
        .json();
    let section = &doc["quotas"];
    assert_eq!(section["rows"], serde_json::json!([]), "{section:#}");
    assert!(
        section["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("more than 15 days ago")),
        "{section:#}"
    );
    assert!(
        section["unmapped_quotas"]
            .as_array()
            .is_some_and(|u| !u.is_empty()),
        "the quotas not tied to a model are still listed"
    );
}
