//! Request metadata (issue 34): invocation-log objects with `requestMetadata` (a `user` key on
//! some records, none on others) in the stack's log bucket, and a CUR 2.0 export for the same
//! days, both in moto's S3. `--source logs --by meta:user` groups usage by the key;
//! `--source cur --allocate meta:user` splits each billed bucket among its values, to the
//! cent against figures worked out by hand, with the total equal to the bill and what the
//! logs do not cover as its own row.

use std::collections::BTreeMap;
use std::io::Write;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Value, json};

use crate::cur::{ALICE, cur_report, periods, put_export};
use crate::support::cur::CurLine;
use crate::support::env::{ACCOUNT, BUCKET, REGION, TestEnv};

const GATEWAY: &str = "arn:aws:sts::123456789012:assumed-role/Gateway/gw";
const NOVA_LITE: &str = "us.amazon.nova-lite-v1:0";

/// Prices for Nova Lite chosen for hand arithmetic (USD per 1,000 tokens).
pub(crate) const CONFIG: &str = r#"
[cur_export]

[pricing."amazon.nova-lite"]
input_per_1k = 0.1
output_per_1k = 1.0
"#;

/// One record as Bedrock writes it (Bedrock user guide's example log), with `requestMetadata`
/// as the per-request metadata page describes it: a top-level object of strings.
pub(crate) fn record(
    day: NaiveDate,
    principal: &str,
    user: Option<&str>,
    input: u64,
    output: u64,
) -> String {
    let mut r = json!({
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": format!("{day}T09:30:00Z"),
        "accountId": ACCOUNT,
        "identity": {"arn": principal},
        "region": REGION,
        "requestId": format!("r-{day}-{input}-{output}"),
        "operation": "Converse",
        "modelId": NOVA_LITE,
        "input": {"inputContentType": "application/json", "inputTokenCount": input},
        "output": {"outputContentType": "application/json", "outputTokenCount": output},
    });
    if let Some(user) = user {
        r["requestMetadata"] = json!({"user": user, "team": "search"});
    }
    r.to_string()
}

pub(crate) fn put_logs(env: &TestEnv, day: NaiveDate, name: &str, records: &[String]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(records.join("\n").as_bytes()).expect("gzip");
    let key = format!(
        "bedrock/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{REGION}/{:04}/{:02}/{:02}/09/{name}.json.gz",
        day.year(),
        day.month(),
        day.day()
    );
    env.block_on(async {
        let _ = env.aws.s3.create_bucket().bucket(BUCKET).send().await;
        env.aws
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(gz.finish().expect("gzip")))
            .send()
            .await
            .expect("put log object")
    });
}

/// A Nova Lite line: `tokens` billed (the built-in price book's unit for these usage types is
/// 1,000 tokens, so the usage amount is tokens / 1,000).
fn nova(day: NaiveDate, usage_type: &str, principal: &str, cost: f64, tokens: f64) -> CurLine {
    let mut l = CurLine::bedrock(day, usage_type, cost);
    l.principal = Some(principal.into());
    l.usage = tokens / 1000.0;
    l
}

/// The bill and the logs of two days, D1 and D2:
/// - D1 input, gateway: $1.00 for 10,000 tokens; logs ana 5,000, bo 3,000, no user 2,000
///   → ana $0.50, bo $0.30, (no user) $0.20.
/// - D1 output, gateway: $3.00 for 3,000 tokens; logs ana 1,000, bo 500: they cover half
///   → ana $1.00, bo $0.50, (not in the logs) $1.50.
/// - D2 input, gateway: $0.70, no record that day → (not in the logs) $0.70.
/// - D2 input, alice: $0.333333 for 1,000 tokens; one record of hers with user ana, 1,000
///   → ana $0.333333.
/// - provisioned throughput $2.50 → (not token usage); a credit of −$1.00 → (adjustments);
///   EC2 is not Bedrock spend.
///
/// ana $1.833333, bo $0.80, (no user) $0.20, (not in the logs) $2.20, (not token usage)
/// $2.50, (adjustments) −$1.00: the bill, $6.533333, is $6.53; largest remainder gives ana
/// $1.83 (183 + 80 + 20 + 220 + 250 − 100 = 653 cents).
pub(crate) fn seed(env: &TestEnv) -> (NaiveDate, NaiveDate) {
    let (_, p2) = periods();
    let (d1, d2) = (p2 + Duration::days(2), p2 + Duration::days(3));
    let mut lines = vec![
        nova(d1, "USE1-NovaLite-input-tokens", GATEWAY, 1.0, 10_000.0),
        nova(d1, "USE1-NovaLite-output-tokens", GATEWAY, 3.0, 3_000.0),
        nova(d2, "USE1-NovaLite-input-tokens", GATEWAY, 0.7, 7_000.0),
        nova(d2, "USE1-NovaLite-input-tokens", ALICE, 0.333_333, 1_000.0),
    ];
    let mut pt = CurLine::bedrock(d1, "USE1-ProvisionedThroughput", 2.5);
    pt.principal = Some(GATEWAY.into());
    lines.push(pt);
    let mut credit = CurLine::bedrock(d2, "USE1-NovaLite-input-tokens", -1.0);
    credit.line_item_type = "Credit".into();
    lines.push(credit);
    let mut ec2 = CurLine::bedrock(d1, "USE1-BoxUsage:t3.micro", 40.0);
    ec2.product_code = "AmazonEC2".into();
    ec2.product_name = "Amazon Elastic Compute Cloud".into();
    ec2.bedrock = false;
    lines.push(ec2);
    put_export(env, &lines);
    put_logs(
        env,
        d1,
        "a",
        &[
            record(d1, GATEWAY, Some("ana"), 5_000, 1_000),
            record(d1, GATEWAY, Some("bo"), 3_000, 0),
        ],
    );
    put_logs(
        env,
        d1,
        "b",
        &[
            record(d1, GATEWAY, None, 2_000, 0),
            record(d1, GATEWAY, Some("bo"), 0, 500),
        ],
    );
    put_logs(env, d2, "c", &[record(d2, ALICE, Some("ana"), 1_000, 0)]);
    (d1, d2 + Duration::days(1))
}

fn rows(doc: &Value) -> BTreeMap<String, (f64, f64)> {
    doc["allocation"]["rows"]
        .as_array()
        .expect("allocation rows")
        .iter()
        .map(|r| {
            (
                r["label"].as_str().expect("label").to_string(),
                (
                    r["cost_usd"].as_f64().expect("cost"),
                    r["exact_cost_usd"].as_f64().expect("exact"),
                ),
            )
        })
        .collect()
}

#[test]
fn allocate_meta_user_splits_the_bill_to_the_cent_and_keeps_the_uncovered_part() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    let (start, end) = seed(&env);
    let doc = cur_report(&env, start, end, &["--allocate", "meta:user", "-o", "json"]).json();
    let got = rows(&doc);
    let expected = [
        ("ana", 1.83, 1.833333),
        ("bo", 0.80, 0.80),
        ("(no user)", 0.20, 0.20),
        ("(not in the logs)", 2.20, 2.20),
        ("(not token usage)", 2.50, 2.50),
        ("(adjustments)", -1.00, -1.00),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for (label, cents, exact) in expected {
        let (c, e) = got[label];
        assert_eq!(c, cents, "{label}: {got:?}");
        assert!((e - exact).abs() < 1e-6, "{label}: {e} against {exact}");
    }
    let total = doc["allocation"]["total_cost_usd"].as_f64().expect("total");
    assert_eq!(total, 6.53);
    let cents: i64 = got.values().map(|(c, _)| (c * 100.0).round() as i64).sum();
    assert_eq!(cents, 653, "the rows add up to the bill");
    // The bill as the report itself counts it (net of the credit, without EC2).
    let net = doc["totals"]["cost_usd"].as_f64().expect("net");
    assert_eq!((net * 100.0).round() / 100.0, total);
    assert_eq!(doc["allocation"]["records_without_key"], 1);

    let text = &cur_report(&env, start, end, &["--allocate", "meta:user"]).stdout;
    assert!(
        text.contains("The bill split by request metadata meta:user"),
        "{text}"
    );
    assert!(
        text.contains("(not in the logs)") && text.contains("6.53"),
        "{text}"
    );
    let csv = &cur_report(&env, start, end, &["--allocate", "meta:user", "-o", "csv"]).stdout;
    assert!(
        csv.starts_with("meta:user,row,cost_usd,exact_cost_usd,tokens\n"),
        "{csv}"
    );
    assert!(csv.contains("ana,value,1.83,"), "{csv}");
    assert!(csv.contains(",not_in_logs,2.20,"), "{csv}");
}

#[test]
fn allocate_refuses_a_bad_key_and_athena_before_any_call() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    for (source, value, says) in [
        ("cur", "meta:a;b", "request-metadata key"),
        ("cur", "user", "meta:KEY"),
        ("metrics", "meta:user", "--allocate goes with --source cur"),
    ] {
        let run = env.run(&["report", "--source", source, "--allocate", value]);
        run.assert_code(3);
        assert!(run.stderr.contains(says), "{value}: {}", run.stderr);
    }
}

/// `--source logs --by meta:user`: per value and model, priced with the config's Nova Lite
/// prices ($0.10 in, $1.00 out per 1,000): ana 6,000 in and 1,000 out = $1.60; bo 3,000 in and
/// 500 out = $0.80; no user 2,000 in = $0.20.
#[test]
fn logs_by_meta_user_groups_usage_by_the_value() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    let (start, end) = seed(&env);
    let (s, e) = (start.to_string(), end.to_string());
    let logs_by_user = |format: &str| {
        let run = env.run(&[
            "report",
            "--source",
            "logs",
            "--by",
            "meta:user",
            "--start",
            &s,
            "--end",
            &e,
            "-o",
            format,
        ]);
        run.assert_code(0);
        run.stdout
    };
    let doc: Value = serde_json::from_str(&logs_by_user("json")).expect("json");
    let meta = &doc["by_meta"];
    assert_eq!(meta["by"], "meta:user");
    let cost = |value: Value| {
        meta["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["value"] == value)
            .and_then(|r| r["cost_usd"].as_f64())
    };
    assert_eq!(cost(json!("ana")), Some(1.6));
    assert_eq!(cost(json!("bo")), Some(0.8));
    assert_eq!(cost(Value::Null), Some(0.2));
    assert_eq!(meta["records_without_key"], 1);
    assert_eq!(meta["totals"]["invocations"], 5);
    let csv = logs_by_user("csv");
    assert!(csv.starts_with("meta:user,model_id,"), "{csv}");
    let html = logs_by_user("html");
    assert!(
        html.contains(r#"data-chart="meta""#)
            && html.contains("Estimated cost by request metadata user")
            && html.contains("(no user)"),
        "the page draws the breakdown as a chart"
    );
    let bad = env.run(&["report", "--source", "metrics", "--by", "meta:user"]);
    bad.assert_code(3);
}
