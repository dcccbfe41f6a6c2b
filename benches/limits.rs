//! The limits benchmark (issue 32, "Tests and benchmark"): a month of invocation logs
//! (BENCH_LIMITS_EVENTS records, default 1 million, from 5,000 principals: IAM users and
//! sessions of one role) delivered as gzipped objects of 1,000 records in the stack's bucket on
//! moto's S3, then:
//!
//! 1. one `limits run --once` over all of it (a first pass: every object is new): the wall time
//!    (median of BENCH_RUNS, default 3, each from an empty state), the peak resident memory,
//!    and the spend it counts against the generator's own sum;
//! 2. the time to block: one more object in which a principal crosses its limit, then the time
//!    from its delivery to the deny on that user in IAM, through one incremental pass (what a
//!    runner does every `interval_minutes`).
//!
//! `scripts/bench limits` runs it (release build). Results: target/bench/limits.json
//! (BENCH_OUTPUT).

#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "support/usage.rs"]
mod usage;

use usage::run_with_usage;
#[path = "../tests/support/proxy.rs"]
mod proxy;
#[path = "../tests/support/standin.rs"]
#[allow(unused_imports)]
mod standin;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{Datelike, Utc};
use serde_json::{Value, json};

use moto::Moto;

const BIN: &str = env!("CARGO_BIN_EXE_bedrock-monitor");
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const BUCKET: &str = "bedrock-logs-123456789012";
const PRINCIPALS: usize = 5_000;
const RECORDS_PER_OBJECT: usize = 1_000;
/// The principals that go over their limit: the first ten (users), with one record in a
/// hundred each (a long prompt) on top of their share.
const OVER: usize = 10;
/// Per 1,000 tokens, set in the config: the figures are the generator's to check.
const INPUT_PER_1K: f64 = 0.001;
const OUTPUT_PER_1K: f64 = 0.002;
const LIMIT_USD: f64 = 1.0;

/// Set (to the emulator's URL) in the generator process the benchmark starts.
const GENERATE_INTO: &str = "BENCH_LIMITS_GENERATE_INTO";

const CONFIG: &str = r#"
[pricing."acme.model-v1"]
input_per_1k = 0.001
output_per_1k = 0.002

[[limits]]
name = "people"
principals = ["arn:aws:iam::*:user/*", "arn:aws:sts::*:assumed-role/App/*"]
period = "month"
usd = 1.0
action = "block"
"#;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn principal(p: usize) -> String {
    if p < OVER || !p.is_multiple_of(3) {
        format!("arn:aws:iam::{ACCOUNT}:user/user-{p:04}")
    } else {
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/App/session-{p:04}")
    }
}

/// The `i`-th record's principal: evenly spread, and one in a hundred to the ten over.
fn principal_of(i: usize) -> usize {
    if i.is_multiple_of(100) {
        (i / 100) % OVER
    } else {
        i % PRINCIPALS
    }
}

/// A record's tokens: the ten over their limit send long prompts (a tenth of a dollar each).
fn tokens(i: usize) -> (u64, u64) {
    if i.is_multiple_of(100) {
        (100_000, 0)
    } else {
        (500 + (i % 1000) as u64, 100 + (i % 300) as u64)
    }
}

fn cost((input, output): (u64, u64)) -> f64 {
    input as f64 / 1000.0 * INPUT_PER_1K + output as f64 / 1000.0 * OUTPUT_PER_1K
}

fn record(principal: &str, i: usize, at: &str, (input, output): (u64, u64)) -> String {
    json!({
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": at,
        "accountId": ACCOUNT,
        "identity": {"arn": principal},
        "region": REGION,
        "requestId": format!("r-{i}"),
        "operation": "Converse",
        "modelId": "acme.model-v1",
        "input": {"inputContentType": "application/json", "inputTokenCount": input},
        "output": {"outputContentType": "application/json", "outputTokenCount": output},
    })
    .to_string()
}

fn gzip(lines: &[String]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines.join("\n").as_bytes()).expect("gzip");
    gz.finish().expect("gzip")
}

fn object_key(n: usize) -> String {
    let now = Utc::now();
    format!(
        "bedrock/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{REGION}/{:04}/{:02}/{:02}/{:02}/object-{n:05}.json.gz",
        now.year(),
        now.month(),
        now.day(),
        n % 24,
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The bucket, the topic, the users and role a block needs, and the month's objects; prints
/// the total spend and the objects' bytes as JSON.
fn generate(url: &str, events: usize) {
    let clients = bedrock_monitor::aws::emulator_clients(url, REGION);
    let runtime = runtime();
    let at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut expected = 0.0;
    let mut bytes = 0usize;
    runtime.block_on(async {
        clients
            .s3
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .expect("bucket");
        clients
            .sns
            .create_topic()
            .name("bedrock-usage-alerts")
            .send()
            .await
            .expect("topic");
        for p in 0..OVER {
            clients
                .iam
                .create_user()
                .user_name(format!("user-{p:04}"))
                .send()
                .await
                .expect("user");
        }
        clients
            .iam
            .create_user()
            .user_name("late")
            .send()
            .await
            .expect("user");
    });
    let objects = events.div_ceil(RECORDS_PER_OBJECT);
    for n in 0..objects {
        let lines: Vec<String> = (n * RECORDS_PER_OBJECT
            ..((n + 1) * RECORDS_PER_OBJECT).min(events))
            .map(|i| {
                let t = tokens(i);
                expected += cost(t);
                record(&principal(principal_of(i)), i, &at, t)
            })
            .collect();
        let body = gzip(&lines);
        bytes += body.len();
        runtime
            .block_on(
                clients
                    .s3
                    .put_object()
                    .bucket(BUCKET)
                    .key(object_key(n))
                    .body(ByteStream::from(body))
                    .send(),
            )
            .expect("put object");
    }
    println!(
        "{}",
        json!({"expected_usd": expected, "object_bytes": bytes, "objects": objects})
    );
}

fn main() {
    let events = env_number("BENCH_LIMITS_EVENTS", 1_000_000) as usize;
    let runs = env_number("BENCH_RUNS", 3).max(1) as usize;
    let output = std::env::var("BENCH_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/limits.json"));
    if let Ok(url) = std::env::var(GENERATE_INTO) {
        generate(&url, events);
        return;
    }

    let moto = Moto::start();
    // The tool talks to moto through the test harness's stand-in, which serves what moto does
    // not (a blocked user's IAM service-specific credentials); the proxy's hop is in the
    // figures, so they are an upper bound.
    let standin = proxy::Proxy::start(&moto.url());
    standin.add_rule(std::sync::Arc::new(standin::StandIn::new()));
    // Generated in a process of its own, as in the CUR benchmark: Linux carries a process's
    // peak resident memory over exec into the program it starts.
    let started = Instant::now();
    let generated = Command::new(std::env::current_exe().expect("this benchmark's path"))
        .env(GENERATE_INTO, moto.url())
        .stderr(Stdio::inherit())
        .output()
        .expect("run the generator");
    assert!(generated.status.success(), "the generator failed");
    let totals: Value = serde_json::from_slice(&generated.stdout).expect("generator's totals");
    let expected = totals["expected_usd"].as_f64().expect("expected total");
    eprintln!(
        "generated and uploaded {events} records in {} objects ({:.1} MiB) in {:.1} s",
        totals["objects"],
        totals["object_bytes"].as_f64().unwrap_or(0.0) / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("scratch dir");
    std::fs::write(dir.path().join("bedrock-monitor.toml"), CONFIG).expect("config");
    std::fs::write(dir.path().join("aws-config"), "").expect("aws config");
    std::fs::write(dir.path().join("aws-credentials"), "").expect("aws credentials");
    let command = || {
        let mut cmd = Command::new(BIN);
        cmd.args(["limits", "run", "--once", "-o", "json"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", standin.url())
            .env("AWS_CONFIG_FILE", dir.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CI", "true")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        cmd
    };
    let clients = bedrock_monitor::aws::emulator_clients(&moto.url(), REGION);
    let runtime = runtime();
    let month = Utc::now().format("%Y-%m").to_string();
    let state_key = format!("bedrock-monitor/limits/bedrock-monitor/{month}.json");
    let forget_state = || {
        runtime
            .block_on(
                clients
                    .s3
                    .delete_object()
                    .bucket(BUCKET)
                    .key(&state_key)
                    .send(),
            )
            .expect("delete the state");
    };

    // The first passes, each over every object from an empty state.
    let mut walls = Vec::new();
    let mut peak_kib = 0u64;
    let mut last: Option<Value> = None;
    for _ in 0..runs {
        forget_state();
        let out_file = dir.path().join("pass.json");
        let mut cmd = command();
        cmd.stdout(std::fs::File::create(&out_file).expect("output file"));
        let (code, usage, wall) = run_with_usage(&mut cmd).expect("run");
        assert_eq!(code, 0, "limits run --once exit code");
        walls.push(wall);
        peak_kib = peak_kib.max(usage.ru_maxrss as u64);
        last =
            Some(serde_json::from_slice(&std::fs::read(&out_file).expect("output")).expect("json"));
    }
    walls.sort();
    let wall = walls[walls.len() / 2];
    let pass = last.expect("a pass");
    let pass = pass
        .get("targets")
        .and_then(|t| t.get(0))
        .unwrap_or(&pass)
        .clone();
    let rows = pass["rows"].as_array().cloned().unwrap_or_default();
    let counted: f64 = rows.iter().filter_map(|r| r["spend_usd"].as_f64()).sum();
    let blocked = rows.iter().filter(|r| r["state"] == "blocked").count();

    // The time to block: one more object, in which `late` crosses the limit.
    let crossing: Vec<String> = vec![record(
        &format!("arn:aws:iam::{ACCOUNT}:user/late"),
        events + 1,
        &Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        (1_000_000, 0),
    )];
    let delivered = Instant::now();
    runtime
        .block_on(
            clients
                .s3
                .put_object()
                .bucket(BUCKET)
                .key(object_key(1_000_000))
                .body(ByteStream::from(gzip(&crossing)))
                .send(),
        )
        .expect("deliver the crossing object");
    let mut cmd = command();
    cmd.stdout(Stdio::null());
    let (code, _, incremental) = run_with_usage(&mut cmd).expect("run");
    assert_eq!(code, 0, "the incremental pass");
    let denied = runtime
        .block_on(
            clients
                .iam
                .get_user_policy()
                .user_name("late")
                .policy_name("bedrock-monitor-limits-bedrock-monitor")
                .send(),
        )
        .is_ok();
    let to_block = delivered.elapsed();
    assert!(denied, "the crossing principal is denied after one pass");

    let result = json!({
        "records": events,
        "principals": PRINCIPALS,
        "objects": totals["objects"],
        "object_bytes": totals["object_bytes"],
        "first_pass_wall_ms_median": wall.as_millis() as u64,
        "records_per_second": (events as f64 / wall.as_secs_f64()).round(),
        "peak_rss_mib": (peak_kib as f64 / 1024.0 * 10.0).round() / 10.0,
        "counted_usd": (counted * 1e6).round() / 1e6,
        "expected_usd": (expected * 1e6).round() / 1e6,
        "blocked": blocked,
        "incremental_pass_ms": incremental.as_millis() as u64,
        "delivery_to_deny_ms": to_block.as_millis() as u64,
        "limit_usd": LIMIT_USD,
        "targets": {"wall_s": 20, "peak_mib": 256},
    });
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    assert!(
        (counted - expected).abs() < 0.01,
        "the pass counted {counted}, the generator {expected}"
    );
    assert_eq!(blocked, OVER, "the principals over their limit are blocked");
    if let Some(parent) = output.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(
        &output,
        serde_json::to_string_pretty(&result).expect("json"),
    )
    .expect("write results");
    eprintln!("results: {}", output.display());
}
