//! The CUR benchmark (issue 23, "Speed and scale"): a synthetic month of CUR 2.0 for an
//! organization (BENCH_CUR_ROWS line items, default 5 million; 10 % Bedrock; 2,000
//! principals) in Parquet files of the export's layout on moto's S3, then
//! `report --source cur --by principal` over the month with the embedded engine.
//!
//! Reports the wall time (median of BENCH_RUNS, default 3), the rows per second, the share of
//! the file bytes read, the peak resident memory, and checks the total against the
//! generator's own sum. `scripts/bench cur` runs it (release build). Results:
//! target/bench/cur.json (BENCH_OUTPUT).
//!
//! Then the same month through `--allocate meta:user` (issue 34: under 15 s and 300 MiB):
//! BENCH_CUR_LOG_RECORDS invocation-log records (default 500,000: one per Bedrock line item)
//! with `requestMetadata` (a `user` key on nine in ten) in the stack's log bucket on the same
//! emulator, in gzipped objects of 5,000 records where Bedrock delivers them; the allocation's
//! total must still be the bill's.

#[path = "../tests/support/cur.rs"]
mod cur;
#[path = "../tests/support/moto.rs"]
mod moto;
#[path = "support/usage.rs"]
mod usage;

use usage::run_with_usage;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, Duration as Days, NaiveDate};
use serde_json::{Value, json};

use cur::{CurLine, Export, parquet, period};
use moto::Moto;

const BIN: &str = env!("CARGO_BIN_EXE_bedrock-monitor");
const PRINCIPALS: usize = 2_000;
/// Line items per Parquet file and per row group (Data Exports splits a month into files of
/// this order).
const FILE_ROWS: usize = 500_000;
const GROUP_ROWS: usize = 100_000;
/// Invocation-log records per delivered object.
const LOG_OBJECT_RECORDS: usize = 5_000;
/// The default config's log bucket and key prefix (`[bucket]`) in the emulator's account.
const LOG_BUCKET: &str = "bedrock-logs-123456789012";
const LOG_PREFIX: &str = "bedrock";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `i`-th line item of the month starting `first` (`days` long): every tenth is Bedrock.
fn line(i: usize, first: NaiveDate, days: usize) -> CurLine {
    let day = first + Days::days((i % days) as i64);
    let p = (i / 7) % PRINCIPALS;
    let principal = principal_arn(p);
    let team = format!("team-{:02}", p % 40);
    let cost = 0.000_1 * ((i % 997) as f64 + 1.0);
    let mut l = if i.is_multiple_of(10) {
        let kind = (i / 10) % 4;
        let mut l = CurLine::bedrock(
            day,
            match kind {
                0 => "USE1-NovaLite-input-tokens",
                1 => "USE1-NovaLite-output-tokens",
                2 => "USE1-MP:USE1_OutputTokenCount-Units",
                _ => "USE1-MP:USE1_InputTokenCount-Units",
            },
            cost,
        );
        if kind >= 2 {
            l.product_code = "prodview-claude3haiku".into();
            l.product_name = "Claude 3 Haiku (Amazon Bedrock Edition)".into();
        }
        l
    } else {
        let (code, name, usage_type) = match i % 3 {
            0 => (
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USE1-BoxUsage:m5.large",
            ),
            1 => (
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USE1-TimedStorage-ByteHrs",
            ),
            _ => ("AWSLambda", "AWS Lambda", "USE1-Lambda-GB-Second"),
        };
        let mut l = CurLine::bedrock(day, usage_type, cost);
        l.product_code = code.into();
        l.product_name = name.into();
        l.bedrock = false;
        l
    };
    // One Bedrock line in twenty has no principal (it goes to the unattributed row).
    if !i.is_multiple_of(200) {
        l.principal = Some(principal);
        l.tags = vec![("iamPrincipal/team".into(), team)];
    }
    l.resource_tags = vec![("user_Project".into(), format!("project-{}", p % 25))];
    l
}

/// The `p`-th principal's ARN: a user for one in three, else a role session.
fn principal_arn(p: usize) -> String {
    if p.is_multiple_of(3) {
        format!("arn:aws:iam::123456789012:user/user-{p:04}")
    } else {
        format!(
            "arn:aws:sts::123456789012:assumed-role/App{:03}/session-{p:04}",
            p % 100
        )
    }
}

/// `records` invocation-log records over the month, each as Bedrock writes it (the same
/// shape as tests/it/cur_allocate.rs), gzipped `LOG_OBJECT_RECORDS` to an object under
/// `<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`.
async fn put_logs(s3: &aws_sdk_s3::Client, records: usize, first: NaiveDate, days: usize) {
    use std::io::Write;
    let _ = s3.create_bucket().bucket(LOG_BUCKET).send().await;
    for (n, from) in (0..records).step_by(LOG_OBJECT_RECORDS).enumerate() {
        let day = first + Days::days((n % days) as i64);
        let mut text = String::new();
        for r in from..(from + LOG_OBJECT_RECORDS).min(records) {
            let (model, p) = if r % 2 == 0 {
                ("us.amazon.nova-lite-v1:0", (r / 7) % PRINCIPALS)
            } else {
                (
                    "anthropic.claude-3-haiku-20240307-v1:0",
                    (r / 7) % PRINCIPALS,
                )
            };
            let mut record = json!({
                "schemaType": "ModelInvocationLog",
                "schemaVersion": "1.0",
                "timestamp": format!("{day}T09:30:00Z"),
                "accountId": "123456789012",
                "identity": {"arn": principal_arn(p)},
                "region": "us-east-1",
                "requestId": format!("r-{r}"),
                "operation": "Converse",
                "modelId": model,
                "input": {"inputContentType": "application/json", "inputTokenCount": 100 + r % 900},
                "output": {"outputContentType": "application/json", "outputTokenCount": 10 + r % 90},
            });
            if r % 10 != 0 {
                record["requestMetadata"] = json!({"user": format!("user-{:03}", r % 500)});
            }
            text.push_str(&record.to_string());
            text.push('\n');
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).expect("gzip");
        let key = format!(
            "{LOG_PREFIX}/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/{:04}/{:02}/{:02}/09/{n:05}.json.gz",
            day.year(),
            day.month(),
            day.day()
        );
        s3.put_object()
            .bucket(LOG_BUCKET)
            .key(key)
            .body(gz.finish().expect("gzip").into())
            .send()
            .await
            .expect("put log object");
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Set (to the emulator's URL) in the generator process the benchmark starts.
const GENERATE_INTO: &str = "BENCH_CUR_GENERATE_INTO";

/// Generates the month and uploads it to the emulator at `url`, file by file (the memory stays
/// one file); prints the Bedrock total and the bytes written as JSON.
fn generate(url: &str, rows: usize, first: NaiveDate, days: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let s3 = bedrock_monitor::aws::emulator_clients(url, "us-east-1").s3;
    let export = Export::default_for_tests();
    runtime.block_on(export.create_bucket(&s3));
    let mut expected = 0.0;
    let mut files = Vec::new();
    for (n, from) in (0..rows).step_by(FILE_ROWS).enumerate() {
        let lines: Vec<CurLine> = (from..(from + FILE_ROWS).min(rows))
            .map(|i| line(i, first, days))
            .collect();
        expected += lines
            .iter()
            .filter(|l| l.bedrock)
            .map(|l| l.cost)
            .sum::<f64>();
        let bytes = parquet(&lines, GROUP_ROWS);
        eprintln!(
            "file {}: {} rows, {:.1} MiB",
            n + 1,
            lines.len(),
            bytes.len() as f64 / 1_048_576.0
        );
        files.push(bytes);
    }
    let object_bytes: usize = files.iter().map(Vec::len).sum();
    runtime.block_on(export.put_period(&s3, &period(first), &files, true));
    let records = env_number("BENCH_CUR_LOG_RECORDS", 500_000) as usize;
    runtime.block_on(put_logs(&s3, records, first, days));
    println!(
        "{}",
        json!({"expected_usd": expected, "object_bytes": object_bytes})
    );
}

fn main() {
    let rows = env_number("BENCH_CUR_ROWS", 5_000_000) as usize;
    let runs = env_number("BENCH_RUNS", 3).max(1) as usize;
    let output = std::env::var("BENCH_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/cur.json"));
    let today = chrono::Utc::now().date_naive();
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("day");
    let first = (this_month - Days::days(1)).with_day(1).expect("day");
    let days = (this_month - first).num_days() as usize;

    if let Ok(url) = std::env::var(GENERATE_INTO) {
        generate(&url, rows, first, days);
        return;
    }

    let moto = Moto::start();
    // The data is generated in a process of its own: the kernel carries a process's peak
    // resident memory over exec into the program it starts, so a report spawned by the
    // process that held half a million generated lines would be measured at that size
    // (494 MiB here, while the report itself peaked under 45 MiB). Spawned from this small
    // process, the report's ru_maxrss is its own.
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
        "generated and uploaded {rows} line items ({:.1} MiB) in {:.1} s",
        totals["object_bytes"].as_f64().unwrap_or(0.0) / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("scratch dir");
    std::fs::write(dir.path().join("bedrock-monitor.toml"), "[cur_export]\n").expect("config");
    std::fs::write(dir.path().join("aws-config"), "").expect("aws config");
    std::fs::write(dir.path().join("aws-credentials"), "").expect("aws credentials");
    let command = |grouping: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["report", "--source", "cur"])
            .args(grouping)
            .args([
                "--start",
                &first.to_string(),
                "--end",
                &this_month.to_string(),
                "-o",
                "json",
            ])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", moto.url())
            .env("AWS_CONFIG_FILE", dir.path().join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir.path().join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CI", "true")
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    // One unmeasured run (moto imports its S3 code on first use), then the measured ones.
    let measure = |grouping: &[&str]| -> (Value, Duration, u64, Duration) {
        let first_run = command(grouping).output().expect("report");
        assert!(
            first_run.status.success(),
            "report failed: {}",
            String::from_utf8_lossy(&first_run.stderr)
        );
        let doc: Value = serde_json::from_slice(&first_run.stdout).expect("json");
        let mut walls = Vec::new();
        let mut peak_kib = 0u64;
        let mut cpu = Duration::ZERO;
        for _ in 0..runs {
            let mut cmd = command(grouping);
            cmd.stdout(Stdio::null());
            let (code, usage, wall) = run_with_usage(&mut cmd).expect("run");
            assert_eq!(code, 0, "report exit code");
            walls.push(wall);
            peak_kib = peak_kib.max(usage.ru_maxrss as u64);
            cpu += Duration::from_secs(usage.ru_utime.tv_sec as u64)
                + Duration::from_micros(usage.ru_utime.tv_usec as u64)
                + Duration::from_secs(usage.ru_stime.tv_sec as u64)
                + Duration::from_micros(usage.ru_stime.tv_usec as u64);
        }
        (doc, median(walls), peak_kib, cpu / runs as u32)
    };
    let mib = |kib: u64| (kib as f64 / 1024.0 * 10.0).round() / 10.0;

    let (doc, wall, peak_kib, cpu) = measure(&["--by", "principal"]);
    let total = doc["totals"]["cost_usd"].as_f64().unwrap_or(f64::NAN);
    let scan = &doc["scan"];
    let rows_read = scan["rows_read"].as_u64().unwrap_or(0);

    let (alloc_doc, alloc_wall, alloc_peak_kib, alloc_cpu) = measure(&["--allocate", "meta:user"]);
    // The allocation's own total: what its rows add to, the bill to the cent.
    let alloc_total = alloc_doc["allocation"]["total_cost_usd"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let log_records = env_number("BENCH_CUR_LOG_RECORDS", 500_000);
    let result = json!({
        "line_items": rows,
        "bedrock_share": 0.1,
        "principals": PRINCIPALS,
        "objects": scan["objects"],
        "object_bytes": scan["object_bytes"],
        "bytes_read": scan["bytes_read"],
        "percent_read": scan["percent_read"],
        "row_groups": scan["row_groups"],
        "rows_read": rows_read,
        "report_rows": doc["rows"].as_array().map_or(0, Vec::len),
        "wall_ms_median": wall.as_millis() as u64,
        "cpu_ms_per_run": cpu.as_millis() as u64,
        "rows_per_second": (rows_read as f64 / wall.as_secs_f64()).round(),
        "peak_rss_mib": mib(peak_kib),
        "total_usd": total,
        "expected_total_usd": (expected * 1e6).round() / 1e6,
        "targets": {"wall_s": 10, "peak_mib": 300},
        "allocate": {
            "key": "meta:user",
            "log_records": log_records,
            "log_objects": log_records.div_ceil(LOG_OBJECT_RECORDS as u64),
            "allocation_rows": alloc_doc["allocation"]["rows"].as_array().map_or(0, Vec::len),
            "records_read": alloc_doc["allocation"]["records"],
            "wall_ms_median": alloc_wall.as_millis() as u64,
            "cpu_ms_per_run": alloc_cpu.as_millis() as u64,
            "peak_rss_mib": mib(alloc_peak_kib),
            "total_usd": alloc_total,
            "targets": {"wall_s": 15, "peak_mib": 300},
        },
    });
    println!("{}", serde_json::to_string_pretty(&result).expect("json"));
    assert!(
        (total - expected).abs() < 0.01,
        "the report's total {total} is not the generator's {expected}"
    );
    assert!(
        (alloc_total - expected).abs() < 0.01,
        "the --allocate report's total {alloc_total} is not the generator's {expected}"
    );
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
