//! The spend digest (issue 33, `[chat] digest`): built against moto from seeded metrics, a
//! queued Cost Explorer answer, a budget and the limits' state a real pass wrote; its chat
//! notification checked against the custom-notification format (Amazon Q Developer in chat
//! applications administrator guide, "Custom notifications": `version` "1.0", `source`
//! "custom", `content.textType` "client-markdown", strings for `title`, `description`,
//! `keywords`, `metadata.summary` and `metadata.additionalContext`'s values) and its figures
//! against `report --output json` over the same window; published once per period however
//! often it is asked.

use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;
use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};

use crate::support::env::{ACCOUNT, BUCKET, REGION, TestEnv};
use crate::support::proxy::{AnswerWith, StrictRequest};

const MODEL: &str = "acme.model-v1";

/// Prices in the config so the figures can be computed by hand: per 1,000 tokens $1 input,
/// $2 output.
const CONFIG: &str = r#"
[pricing."acme.model-v1"]
input_per_1k = 1.0
output_per_1k = 2.0

[[limits]]
name = "people"
principals = ["arn:aws:iam::*:user/alice"]
period = "month"
usd = 1.0
action = "block"

[chat]
slack = [{ workspace_id = "T0123ABCD", channel_id = "C0123ABCD" }]
digest = "weekly"
"#;

fn alice() -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/alice")
}

fn put_metric(env: &TestEnv, metric: &str, at: chrono::DateTime<Utc>, value: f64) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    env.block_on(
        env.aws
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/Bedrock")
            .metric_data(
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(Dimension::builder().name("ModelId").value(MODEL).build())
                    .timestamp(aws_smithy_types::DateTime::from_secs(at.timestamp()))
                    .value(value)
                    .build(),
            )
            .send(),
    )
    .expect("PutMetricData");
}

/// The bucket, alice, the topic and the budget in moto; one invocation-log object with
/// alice's $2.00 (over her $1 limit), counted by a real pass so that she is blocked.
fn setup(env: &TestEnv) {
    env.block_on(async {
        env.aws
            .s3
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        env.aws
            .iam
            .create_user()
            .user_name("alice")
            .send()
            .await
            .unwrap();
        env.aws
            .sns
            .create_topic()
            .name("bedrock-usage-alerts")
            .send()
            .await
            .unwrap();
        env.aws
            .budgets
            .create_budget()
            .account_id(ACCOUNT)
            .budget(
                aws_sdk_budgets::types::Budget::builder()
                    .budget_name("BedrockUsageBudget")
                    .budget_limit(
                        aws_sdk_budgets::types::Spend::builder()
                            .amount("100")
                            .unit("USD")
                            .build()
                            .unwrap(),
                    )
                    .time_unit(aws_sdk_budgets::types::TimeUnit::Monthly)
                    .budget_type(aws_sdk_budgets::types::BudgetType::Cost)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    });
    let now = Utc::now();
    let record = json!({
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "accountId": ACCOUNT,
        "identity": {"arn": alice()},
        "region": REGION,
        "requestId": "r-1",
        "operation": "Converse",
        "modelId": MODEL,
        "input": {"inputContentType": "application/json", "inputTokenCount": 1000},
        "output": {"outputContentType": "application/json", "outputTokenCount": 500},
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(record.to_string().as_bytes()).unwrap();
    let key = format!(
        "bedrock/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{REGION}/{:04}/{:02}/{:02}/{}/a.json.gz",
        now.year(),
        now.month(),
        now.day(),
        now.format("%H")
    );
    env.block_on(
        env.aws
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(gz.finish().unwrap()))
            .send(),
    )
    .expect("put log object");
    env.run(&["limits", "run", "--once"]).assert_code(0);
    // This period: 10 calls, 1,000 input and 500 output tokens ($1 + $1); the period before:
    // 5 calls, 500 input tokens ($0.50).
    let at = now - Duration::days(2);
    put_metric(env, "Invocations", at, 10.0);
    put_metric(env, "InputTokenCount", at, 1000.0);
    put_metric(env, "OutputTokenCount", at, 500.0);
    let before = now - Duration::days(9);
    put_metric(env, "Invocations", before, 5.0);
    put_metric(env, "InputTokenCount", before, 500.0);
    put_metric(env, "OutputTokenCount", before, 0.0);
    // The bill for the period's days (one answer, served for each identical request).
    env.queue_moto_results(
        "/moto-api/static/ce/cost-and-usage-results",
        json!({"results": [{
            "ResultsByTime": [{
                "TimePeriod": {
                    "Start": (now - Duration::days(2)).date_naive().to_string(),
                    "End": (now - Duration::days(1)).date_naive().to_string()
                },
                "Total": {},
                "Groups": [{
                    "Keys": ["Amazon Bedrock", "USE1-MP:USE1_InputTokenCount-Units"],
                    "Metrics": {
                        "UnblendedCost": {"Amount": "1.9", "Unit": "USD"},
                        "UsageQuantity": {"Amount": "1000", "Unit": "N/A"}
                    }
                }],
                "Estimated": true
            }],
            "DimensionValueAttributes": []
        }]}),
    );
}

/// One SNS Publish as the proxy saw it: `Message`, `MessageStructure`, `Subject`.
type Publish = (String, Option<String>, Option<String>);

/// Messages and their structure published to SNS through the proxy.
fn record_published(env: &TestEnv) -> Arc<Mutex<Vec<Publish>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    env.proxy
        .add_rule_first(Arc::new(AnswerWith(move |r: &StrictRequest| {
            if r.operation == "Publish"
                && let Some(m) = r.form("Message")
            {
                sink.lock()
                    .unwrap()
                    .push((m, r.form("MessageStructure"), r.form("Subject")));
            }
            None
        })));
    seen
}

/// The custom-notification format: required keys and their values, and every field the guide
/// types as a string (or a list or map of strings) is one.
fn assert_custom_notification(n: &Value) {
    assert_eq!(n["version"], "1.0", "{n:#}");
    assert_eq!(n["source"], "custom", "{n:#}");
    assert!(n["id"].is_string());
    let content = &n["content"];
    assert_eq!(content["textType"], "client-markdown");
    assert!(content["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        content["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    assert!(
        content["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string)
    );
    assert!(n["metadata"]["summary"].is_string());
    assert!(
        n["metadata"]["additionalContext"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_string)
    );
    let known = ["version", "source", "id", "content", "metadata"];
    assert!(
        n.as_object()
            .unwrap()
            .keys()
            .all(|k| known.contains(&k.as_str())),
        "only the documented top-level keys: {n:#}"
    );
}

#[test]
fn the_digest_is_reports_figures_as_a_chat_notification_and_is_sent_once_a_period() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    setup(&env);
    let publishes = || {
        env.proxy
            .calls()
            .iter()
            .filter(|c| c.operation == "Publish")
            .count()
    };
    // The pass's own notices (alice blocked) were published in setup.
    let before = publishes();

    let run = env.run(&["digest", "--output", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_custom_notification(&doc["notification"]);
    let digest = &doc["digest"];

    // The same window through `report`: the estimate and projection, and the bill.
    let report = env.run(&["report", "--hours", "168", "--by-principal", "-o", "json"]);
    report.assert_code(0);
    let report = report.json();
    assert_eq!(
        digest["spend"]["estimated_usd"],
        report["totals"]["cost_usd"]
    );
    assert_eq!(digest["spend"]["estimated_usd"], 2.0);
    assert_eq!(
        digest["spend"]["projected_30_days_usd"],
        report["projection"]["monthly_cost_usd"]
    );
    assert_eq!(
        digest["spend"]["invocations"],
        report["totals"]["invocations"]
    );
    assert_eq!(
        digest["top_models"][0]["name"],
        report["models"][0]["model_id"]
    );
    assert_eq!(
        digest["top_models"][0]["cost_usd"],
        report["models"][0]["cost_usd"]
    );
    let billed = env.run(&[
        "report", "--source", "billing", "--hours", "168", "-o", "json",
    ]);
    billed.assert_code(0);
    let billed = billed.json();
    assert_eq!(
        digest["spend"]["billed_usd"],
        billed["totals"]["billed_cost_usd"]
    );
    assert_eq!(digest["spend"]["billed_usd"], 1.9);
    // The period before, for what moved.
    let start = digest["previous_window"]["start"].as_str().unwrap();
    let end = digest["previous_window"]["end"].as_str().unwrap();
    let previous = env.run(&["report", "--start", start, "--end", end, "-o", "json"]);
    previous.assert_code(0);
    let previous = previous.json();
    assert_eq!(
        digest["spend"]["previous_estimated_usd"],
        previous["totals"]["cost_usd"]
    );
    assert_eq!(digest["spend"]["previous_estimated_usd"], 0.5);
    assert_eq!(digest["moved"][0]["name"], MODEL);
    assert_eq!(digest["moved"][0]["change_usd"], 1.5);
    // moto answers Logs Insights with raw records: no principal ranking is invented.
    assert!(digest["top_principals"].is_null(), "{digest:#}");
    // The budget as Budgets describes it, and who the limits block.
    assert_eq!(digest["budgets"][0]["name"], "BedrockUsageBudget");
    assert_eq!(digest["budgets"][0]["limit"]["amount"], 100.0);
    assert_eq!(digest["blocked"][0]["subject"], alice());
    assert_eq!(digest["blocked"][0]["limit"], "people");
    let description = doc["notification"]["content"]["description"]
        .as_str()
        .unwrap();
    assert!(
        description.contains("Spend: $2.00 estimated"),
        "{description}"
    );
    assert!(description.contains(&format!("{} (limit people)", alice())));
    // Printing sends nothing and records nothing.
    assert_eq!(publishes(), before);

    let published = record_published(&env);
    let first = env.run(&["digest", "--publish", "-o", "json"]);
    first.assert_code(0);
    assert_eq!(first.json()["sent"], true, "{}", first.stdout);
    let second = env.run(&["digest", "--publish", "-o", "json"]);
    second.assert_code(0);
    let second = second.json();
    assert_eq!(second["sent"], false);
    assert!(second["reason"].as_str().unwrap().contains("not due"));
    let sent = published.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "one digest a period: {sent:?}");
    let (message, structure, subject) = &sent[0];
    assert_eq!(structure.as_deref(), Some("json"));
    let subject = subject.as_deref().unwrap();
    assert!(
        subject.starts_with("Weekly Bedrock spend: $2.00"),
        "{subject}"
    );
    assert!(subject.len() <= 100 && subject.is_ascii());
    let message: Value = serde_json::from_str(message).unwrap();
    let chat: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
    assert_custom_notification(&chat);
    assert_eq!(message["https"], message["default"]);
    let email = message["email"].as_str().unwrap();
    assert!(!email.contains('{') && !email.contains('}'), "{email}");
    assert!(
        email.contains("Spend: $2.00 estimated over 10 invocations"),
        "{email}"
    );
    assert!(email.contains("BedrockUsageBudget"));
    // The record in the bucket says when.
    let record = env
        .block_on(
            env.aws
                .s3
                .get_object()
                .bucket(BUCKET)
                .key("bedrock-monitor/digest/bedrock-monitor/last.json")
                .send(),
        )
        .expect("the digest's record");
    let record: Value =
        serde_json::from_slice(&env.block_on(record.body.collect()).unwrap().into_bytes()).unwrap();
    assert_eq!(record["frequency"], "weekly");
    assert_eq!(record["version"], 1);
    // `permissions` grants every call of these runs (the digest's and the reports'); Cost
    // Explorer's reads take no resource (Service Authorization Reference, AWS Cost Explorer),
    // nor do the chat component's listings.
    crate::first_run::assert_permissions_cover_calls(
        &env,
        &[
            "ce:GetCostAndUsage",
            "ce:GetCostForecast",
            "chatbot:DescribeSlackWorkspaces",
            "chatbot:ListMicrosoftTeamsConfiguredTeams",
            "chatbot:DescribeSlackChannelConfigurations",
            "chatbot:ListMicrosoftTeamsChannelConfigurations",
        ],
        20,
    );
}

#[test]
fn two_runs_racing_send_one_digest() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    setup(&env);
    let published = record_published(&env);
    let (a, b) = std::thread::scope(|s| {
        let first = s.spawn(|| env.run(&["digest", "--publish", "-o", "json"]));
        let second = env.run(&["digest", "--publish", "-o", "json"]);
        (first.join().unwrap(), second)
    });
    a.assert_code(0);
    b.assert_code(0);
    let sent = [a.json()["sent"].clone(), b.json()["sent"].clone()];
    assert_eq!(
        sent.iter().filter(|s| **s == json!(true)).count(),
        1,
        "{sent:?}"
    );
    assert_eq!(published.lock().unwrap().len(), 1);
}

#[test]
fn publishing_needs_a_configured_digest_and_calls_nothing_without_one() {
    let env = TestEnv::new();
    env.write_config(
        "[chat]\nslack = [{ workspace_id = \"T0123ABCD\", channel_id = \"C0123ABCD\" }]\n",
    );
    let run = env.run(&["digest", "--publish"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("[chat] digest"), "{}", run.stderr);
    assert!(env.proxy.calls().is_empty(), "{:?}", env.proxy.calls());
}

/// The runner publishes the digest after its pass when one is due, and a digest that fails is
/// in the invocation's result, not a failed pass.
#[test]
fn the_runner_publishes_the_digest_after_its_pass() {
    use crate::support::proxy::{Protocol, Reply};
    use crate::support::runtime_api::FakeRuntimeApi;

    let env = TestEnv::new();
    let config = env.write_config(CONFIG);
    setup(&env);
    let published = record_published(&env);
    let fake = env.block_on(FakeRuntimeApi::start());
    let mut cmd = env.command(&[]);
    cmd.env("AWS_LAMBDA_RUNTIME_API", &fake.address)
        .env("BEDROCK_MONITOR_CONFIG", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("start the binary as a Lambda function");
    let event = |id: &str| {
        crate::support::runtime_api::scheduled_event("bedrock-monitor-limits-runner", id)
    };
    fake.invoke("req-1", event("e1"));
    let post = env.block_on(fake.next_post());
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-1/response");
    assert_eq!(post.body["digest"]["sent"], true, "{:#}", post.body);
    assert_eq!(published.lock().unwrap().len(), 1);

    fake.invoke("req-2", event("e2"));
    let post = env.block_on(fake.next_post());
    assert_eq!(post.body["digest"]["sent"], false, "{:#}", post.body);
    assert_eq!(published.lock().unwrap().len(), 1, "not due again");

    // The digest's record cannot be read: the pass still answers, with the digest's error.
    env.proxy.add_rule(Arc::new(AnswerWith(|r: &StrictRequest| {
        (r.service == "s3" && r.method == "GET" && r.path.contains("bedrock-monitor/digest/"))
            .then(|| Reply::error(Protocol::S3, 403, "AccessDenied", "Access Denied"))
    })));
    fake.invoke("req-3", event("e3"));
    let post = env.block_on(fake.next_post());
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-3/response");
    assert!(
        post.body["digest"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("AccessDenied")),
        "{:#}",
        post.body
    );
    assert!(post.body["rows"].is_array(), "the pass's summary is whole");
    child.kill().expect("stop the function");
    let _ = child.wait();
}

/// Without `[[limits]]`, `[chat] digest` alone deploys the runner as the digest's own schedule
/// (the same function, roles and schedule), and the function publishes the digest with no
/// limits pass.
#[test]
fn a_digest_without_limits_gets_a_runner_of_its_own() {
    use crate::support::runtime_api::FakeRuntimeApi;

    let env = TestEnv::new();
    let digest_only = CONFIG.replace(
        "[[limits]]\nname = \"people\"\nprincipals = [\"arn:aws:iam::*:user/alice\"]\nperiod = \"month\"\nusd = 1.0\naction = \"block\"\n",
        "",
    );
    assert!(!digest_only.contains("[[limits]]"));
    // The seeding runs a limits pass, with the limits; the runner then has the digest only.
    env.write_config(CONFIG);
    setup(&env);
    let config = env.write_config(&digest_only);
    let published = record_published(&env);
    let fake = env.block_on(FakeRuntimeApi::start());
    let mut cmd = env.command(&[]);
    cmd.env("AWS_LAMBDA_RUNTIME_API", &fake.address)
        .env("BEDROCK_MONITOR_CONFIG", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("start the binary as a Lambda function");
    fake.invoke(
        "req-1",
        crate::support::runtime_api::scheduled_event("bedrock-monitor-limits-runner", "e1"),
    );
    let post = env.block_on(fake.next_post());
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-1/response");
    assert_eq!(post.body["digest"]["sent"], true, "{:#}", post.body);
    assert!(post.body.get("rows").is_none(), "no pass: {:#}", post.body);
    assert_eq!(published.lock().unwrap().len(), 1);
    child.kill().expect("stop the function");
    let _ = child.wait();
}
