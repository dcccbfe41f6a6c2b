//! `report --source cur`: the CUR 2.0 export's Parquet files, written by the generator in
//! `tests/support/cur.rs` into moto's S3 at the export's layout, read by the embedded engine,
//! and the same aggregation through Athena (moto's, with results queued through
//! `/moto-api/static/athena/query-results`; what moto does not do, paging and a query that
//! runs, fails or is cancelled, the proxy does as the Athena API reference describes).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Value, json};

use crate::support::cur::{CurLine, Export, parquet, period, today};
use crate::support::env::{ACCOUNT, REGION, Run, TestEnv};
use crate::support::proxy::{Protocol, Reply, StrictRequest, StrictRule, Verdict};
use crate::support::standin::{AthenaTable, InferenceProfile};

pub(crate) const ALICE: &str = "arn:aws:iam::123456789012:user/alice";
pub(crate) const CHAT: &str = "arn:aws:sts::123456789012:assumed-role/ChatApp/session-1";
const PROFILE_ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
const NOVA_ARN: &str = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0";
pub(crate) const HAIKU: &str = "Claude 3 Haiku (Amazon Bedrock Edition)";

/// The first day of the month before last (P1) and of last month (P2): whole months in the
/// past, so the window is never cut by "now".
pub(crate) fn periods() -> (NaiveDate, NaiveDate) {
    let first_this = NaiveDate::from_ymd_opt(today().year(), today().month(), 1).expect("day");
    let p2 = (first_this - Duration::days(1)).with_day(1).expect("day");
    let p1 = (p2 - Duration::days(1)).with_day(1).expect("day");
    (p1, p2)
}

/// What the test expects a line to be, model by its usage type.
pub(crate) fn model_of(line: &CurLine) -> Option<&'static str> {
    if line.product_name == HAIKU {
        return Some("Claude 3 Haiku");
    }
    match line.usage_type.as_str() {
        "USE1-NovaLite-input-tokens" => Some("NovaLite"),
        "USE1-NovaPro-output-tokens" => Some("NovaPro"),
        _ => None,
    }
}

/// Lines on the last five days of P1 and the first five of P2: alice (team search) on Nova
/// Lite called directly, the chat app's session (team chat) on Claude 3 Haiku through an
/// application inference profile, calls with no principal on Nova Pro, provisioned throughput
/// that names no model, and lines that are not Bedrock spend (EC2, and Bedrock's tax, which
/// Cost Explorer shows under "Tax").
pub(crate) fn lines(p2: NaiveDate) -> Vec<CurLine> {
    let mut out = Vec::new();
    for offset in -5i64..5 {
        let day = p2 + Duration::days(offset);
        let k = (offset + 6) as f64;
        let mut alice = CurLine::bedrock(day, "USE1-NovaLite-input-tokens", 0.013_457 * k);
        alice.principal = Some(ALICE.into());
        alice.tags = vec![
            ("iamPrincipal/team".into(), "search".into()),
            ("user_Project".into(), "atlas".into()),
        ];
        alice.resource_id = Some(NOVA_ARN.into());
        out.push(alice);

        let mut chat = CurLine::bedrock(day, "USE1-MP:USE1_OutputTokenCount-Units", 0.271_828 * k);
        chat.product_code = "prodview-claude3haiku".into();
        chat.product_name = HAIKU.into();
        chat.principal = Some(CHAT.into());
        chat.tags = vec![("iamPrincipal/team".into(), "chat".into())];
        chat.resource_id = Some(PROFILE_ARN.into());
        out.push(chat);

        let mut nobody = CurLine::bedrock(day, "USE1-NovaPro-output-tokens", 0.031_415 * k);
        nobody.usage = 12.5;
        out.push(nobody);

        let mut ec2 = CurLine::bedrock(day, "USE1-BoxUsage:t3.micro", 100.0);
        ec2.product_code = "AmazonEC2".into();
        ec2.product_name = "Amazon Elastic Compute Cloud".into();
        ec2.principal = Some(ALICE.into());
        ec2.tags = vec![("iamPrincipal/team".into(), "search".into())];
        ec2.bedrock = false;
        out.push(ec2);

        let mut tax = CurLine::bedrock(day, "USE1-NovaLite-input-tokens", 7.0);
        tax.line_item_type = "Tax".into();
        tax.bedrock = false;
        out.push(tax);
    }
    let mut pt = CurLine::bedrock(p2 + Duration::days(1), "USE1-ProvisionedThroughput", 2.5);
    pt.principal = Some(ALICE.into());
    out.push(pt);
    out
}

/// Writes each period's lines as two files, in row groups of five lines (so that the
/// days outside the window fill row groups of their own, which the reader skips).
pub(crate) fn put_export(env: &TestEnv, lines: &[CurLine]) {
    let export = Export::default_for_tests();
    let mut by_period: BTreeMap<String, Vec<CurLine>> = BTreeMap::new();
    for l in lines {
        by_period.entry(period(l.day)).or_default().push(l.clone());
    }
    env.block_on(export.create_bucket(&env.aws.s3));
    for (p, ls) in &by_period {
        let files: Vec<Vec<u8>> = if ls.len() > 10 {
            let (a, b) = ls.split_at(ls.len() / 2);
            vec![parquet(a, 5), parquet(b, 5)]
        } else {
            vec![parquet(ls, 5)]
        };
        env.block_on(export.put_period(&env.aws.s3, p, &files, true));
    }
}

/// A test environment with `[cur_export]` and `lines` as its export.
pub(crate) fn export_env(lines: &[CurLine]) -> TestEnv {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    put_export(&env, lines);
    env
}

/// `report --source cur` over `[start, end)` and `extra`, which succeeds.
pub(crate) fn cur_report(env: &TestEnv, start: NaiveDate, end: NaiveDate, extra: &[&str]) -> Run {
    let (s, e) = (start.to_string(), end.to_string());
    let mut args = vec!["report", "--source", "cur", "--start", &s, "--end", &e];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.assert_code(0);
    run
}

fn add_profile(env: &TestEnv) {
    env.standin.mutate(|s| {
        s.inference_profiles.push(InferenceProfile {
            account: ACCOUNT.into(),
            region: REGION.into(),
            id: "a1b2c3d4e5f6".into(),
            arn: PROFILE_ARN.into(),
            name: "team-chat".into(),
            description: None,
            copy_from:
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
                    .into(),
            models: vec![
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"
                    .into(),
            ],
            tags: BTreeMap::new(),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        })
    });
}

pub(crate) fn cents(v: f64) -> i64 {
    (v * 100.0).round() as i64
}

/// The generator's own sums per key, over the window's Bedrock lines.
pub(crate) fn expected(
    lines: &[CurLine],
    start: NaiveDate,
    end: NaiveDate,
    key: impl Fn(&CurLine) -> Option<String>,
) -> BTreeMap<Option<String>, f64> {
    let mut sums = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.bedrock && l.day >= start && l.day < end)
    {
        *sums.entry(key(l)).or_insert(0.0) += l.cost;
    }
    sums
}

/// The report's rows as (value of `field`, cost).
pub(crate) fn rows(doc: &Value, field: &str) -> BTreeMap<Option<String>, f64> {
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r[field].as_str().map(str::to_string),
                r["cost_usd"].as_f64().expect("cost"),
            )
        })
        .collect()
}

#[track_caller]
pub(crate) fn assert_to_the_cent(
    got: &BTreeMap<Option<String>, f64>,
    want: &BTreeMap<Option<String>, f64>,
) {
    let got: BTreeMap<_, _> = got.iter().map(|(k, v)| (k.clone(), cents(*v))).collect();
    let want: BTreeMap<_, _> = want.iter().map(|(k, v)| (k.clone(), cents(*v))).collect();
    assert_eq!(got, want);
}

#[test]
fn cur_totals_per_principal_tag_profile_and_model_match_the_generator_across_two_periods() {
    let (p1, p2) = periods();
    let lines = lines(p2);
    let env = export_env(&lines);
    add_profile(&env);
    // Three days of P1 and three of P2; the two days either side are outside.
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let report = |extra: &[&str]| cur_report(&env, start, end, extra);

    // Per principal (the default): names in text, ARNs in JSON, unattributed explicit.
    let doc = report(&["-o", "json"]).json();
    assert_eq!(doc["source"], "cur");
    assert_eq!(doc["engine"], "embedded");
    assert_eq!(doc["periods"], json!([period(p1), period(p2)]));
    let want = expected(&lines, start, end, |l| l.principal.clone());
    let got: BTreeMap<Option<String>, f64> = doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["principal_arn"].as_str().map(str::to_string),
                r["cost_usd"].as_f64().expect("cost"),
            )
        })
        .collect();
    assert_to_the_cent(&got, &want);
    let chat = doc["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["principal_arn"] == CHAT))
        .expect("chat row");
    assert_eq!(chat["principal"], "ChatApp/session-1");
    assert_eq!(chat["unattributed"], false);
    let nobody = doc["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["principal"].is_null()))
        .expect("unattributed row");
    assert_eq!(nobody["unattributed"], true);
    let total: f64 = want.values().sum();
    assert_eq!(
        cents(doc["totals"]["cost_usd"].as_f64().expect("total")),
        cents(total)
    );
    assert_eq!(
        cents(doc["totals"]["unattributed_cost_usd"].as_f64().expect("u")),
        cents(want[&None])
    );
    // Six days of four Bedrock lines (plus provisioned throughput), nothing else.
    assert_eq!(doc["totals"]["line_items"], 6 * 3 + 1);
    assert_eq!(
        doc["unmapped_usage_types"],
        json!([{"service": "Amazon Bedrock", "usage_type": "USE1-ProvisionedThroughput", "cost_usd": 2.5}])
    );
    // Projection and pruning: only part of the bytes, whole row groups skipped.
    let scan = &doc["scan"];
    assert_eq!(scan["objects"], 4, "{scan}");
    assert!(
        scan["row_groups_skipped"].as_u64().expect("skipped") >= 2,
        "{scan}"
    );
    assert!(
        scan["bytes_read"].as_u64().expect("read") < scan["object_bytes"].as_u64().expect("size"),
        "{scan}"
    );
    // Only S3 (and STS for the account) was called: no Cost Explorer, no Athena.
    let services: Vec<String> = env.proxy.calls().into_iter().map(|c| c.service).collect();
    assert!(
        services.iter().all(|s| s == "s3" || s == "sts"),
        "{services:?}"
    );

    // Per principal tag.
    let doc = report(&["--by", "tag:iamPrincipal/team", "-o", "json"]).json();
    let want = expected(&lines, start, end, |l| {
        l.tags
            .iter()
            .find(|(k, _)| k == "iamPrincipal/team")
            .map(|(_, v)| v.clone())
    });
    assert_to_the_cent(&rows(&doc, "tag:iamPrincipal/team"), &want);

    // A user tag as CUR 2.0 spells it in the tags column (`user_Project`), asked for by its key.
    let doc = report(&["--by", "tag:Project", "-o", "json"]).json();
    let got = rows(&doc, "tag:Project");
    assert!(got.contains_key(&Some("atlas".to_string())), "{doc:#}");

    // Per application inference profile, by name; a model called directly is no profile.
    let doc = report(&["--by", "profile", "-o", "json"]).json();
    let want = expected(&lines, start, end, |l| {
        (l.resource_id.as_deref() == Some(PROFILE_ARN)).then(|| "team-chat".to_string())
    });
    assert_to_the_cent(&rows(&doc, "profile"), &want);
    let team = doc["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["profile"] == "team-chat"))
        .expect("profile row");
    assert_eq!(team["profile_arn"], PROFILE_ARN);

    // Per model, named as --source billing names them.
    let doc = report(&["--by", "model", "-o", "json"]).json();
    let want = expected(&lines, start, end, |l| model_of(l).map(str::to_string));
    assert_to_the_cent(&rows(&doc, "model"), &want);

    // Two dimensions, CSV.
    let csv = report(&["--by", "principal,model", "-o", "csv"]).stdout;
    let header = csv.lines().next().expect("header");
    assert_eq!(
        header,
        "principal,principal_arn,model,cost_usd,usage_amount,line_items,unattributed,share_percent,adjustments"
    );
    assert!(csv.contains(&format!("alice,{ALICE},NovaLite,")), "{csv}");

    // Daily: one row per day, adding up to the total.
    let doc = report(&["--daily", "-o", "json"]).json();
    let days = doc["daily"].as_array().expect("daily");
    assert_eq!(days.len(), 6);
    let sum: f64 = days
        .iter()
        .map(|d| d["cost_usd"].as_f64().expect("c"))
        .sum();
    assert_eq!(cents(sum), cents(total));

    // Text.
    let text = report(&[]).stdout;
    assert!(
        text.contains("Billed Bedrock spend from the CUR 2.0 export bedrock-monitor-bedrock-cur"),
        "{text}"
    );
    assert!(text.contains("ChatApp/session-1"), "{text}");
    assert!(text.contains("(unattributed)"), "{text}");
    assert!(text.contains("Read 4 object(s)"), "{text}");

    // --out keeps the result in a file, as for the other sources: nothing on stdout.
    let file = env.path("cur.json");
    let run = report(&["-o", "json", "--out", file.to_str().expect("utf-8 path")]);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let kept: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("json");
    assert_eq!(
        cents(kept["totals"]["cost_usd"].as_f64().expect("total")),
        cents(total)
    );
}

/// The reader is pinned to the export's own bucket and prefix: a manifest that lists an object
/// in another bucket, or outside the export's folder, is refused before anything is read, and
/// every S3 call names the export's account as the bucket owner.
#[test]
fn cur_manifest_naming_another_bucket_or_a_key_outside_the_export_is_refused() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    let (_, p2) = periods();
    put_export(&env, &lines(p2));
    let export = Export::default_for_tests();
    let period = period(p2);
    let (s, e) = (p2.to_string(), (p2 + Duration::days(2)).to_string());
    for (uri, shows) in [
        (
            format!(
                "s3://someone-elses-bucket/{}",
                export.data_key(&period, "x.parquet")
            ),
            "s3://someone-elses-bucket/",
        ),
        (
            format!("s3://{}/payroll/2026/salaries.parquet", export.bucket),
            "payroll/2026/salaries.parquet",
        ),
    ] {
        let manifest = json!({"billingPeriod": period, "columns": [], "dataFiles": [uri]});
        env.block_on(
            env.aws
                .s3
                .put_object()
                .bucket(&export.bucket)
                .key(export.manifest_key(&period))
                .body(manifest.to_string().into_bytes().into())
                .send(),
        )
        .expect("put manifest");
        env.proxy.clear();
        let run = env.run(&["report", "--source", "cur", "--start", &s, "--end", &e]);
        run.assert_code(1);
        assert!(
            run.stderr.contains("outside the export's own place") && run.stderr.contains(shows),
            "{uri}: {}",
            run.stderr
        );
        let reads: Vec<String> = env
            .proxy
            .calls()
            .into_iter()
            .filter(|c| {
                c.service == "s3"
                    && (c.path.contains("someone-elses") || c.path.contains("payroll"))
            })
            .map(|c| format!("{} {}", c.operation, c.path))
            .collect();
        assert!(reads.is_empty(), "read outside the export: {reads:?}");
    }
    assert!(env.strict.bucket_owner.refused().is_empty());
}

#[test]
fn cur_bad_input_is_exit_3_without_an_aws_call() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    for (args, needle) in [
        (
            vec!["report", "--source", "cur", "--by", "team"],
            "--by \"team\"",
        ),
        (
            vec!["report", "--source", "cur", "--by", "tag:"],
            "--by tag:",
        ),
        (
            vec!["report", "--source", "cur", "--by", "tag:iamPrincipal/"],
            "name the tag key after its source",
        ),
        (
            vec!["report", "--source", "cur", "--engine", "spark"],
            "--engine",
        ),
        (
            vec!["report", "--source", "cur", "--engine", "athena"],
            "[cur_export] athena",
        ),
        (vec!["report", "--by", "principal"], "--source cur"),
        (
            vec!["report", "--source", "cur", "--by-principal"],
            "--by principal",
        ),
        (
            vec![
                "report",
                "--source",
                "cur",
                "--output",
                "html",
                "--out",
                "page.parquet",
            ],
            "only the FOCUS rows",
        ),
    ] {
        let run = env.run(&args);
        run.assert_code(3);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    env.write_config("");
    let run = env.run(&["report", "--source", "cur"]);
    run.assert_code(3);
    assert!(run.stderr.contains("[cur_export]"), "{}", run.stderr);
    assert!(env.proxy.calls().is_empty(), "{:?}", env.proxy.calls());
}

#[test]
fn cur_missing_export_pending_delivery_missing_period_and_corrupt_file_are_clear_errors() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    let (p1, p2) = periods();
    let window = |from: NaiveDate, to: NaiveDate| {
        env.run(&[
            "report",
            "--source",
            "cur",
            "--start",
            &from.to_string(),
            "--end",
            &to.to_string(),
        ])
    };

    // No bucket: nothing was ever set up.
    let run = window(p2, p2 + Duration::days(2));
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("s3://bedrock-cur-123456789012 does not exist")
            && run.stderr.contains("apply"),
        "{}",
        run.stderr
    );

    // The bucket but no export and no files.
    let export = Export::default_for_tests();
    env.block_on(export.create_bucket(&env.aws.s3));
    let run = window(p2, p2 + Duration::days(2));
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("there is no CUR 2.0 export named bedrock-monitor-bedrock-cur"),
        "{}",
        run.stderr
    );

    // An export that has not delivered yet: still processing, and when to try again. The
    // bucket made above has no stack tag: apply takes it over only when told to.
    let apply = env.run(&["apply", "--yes", "--adopt", "cur-export"]);
    apply.assert_code(0);
    // moto applies the bucket policy's TLS-only Deny without its condition (DESIGN.md,
    // Testing): without the policy, reads go through as they would over TLS on AWS.
    env.block_on(
        env.aws
            .s3
            .delete_bucket_policy()
            .bucket(&export.bucket)
            .send(),
    )
    .expect("delete bucket policy");
    let run = window(p2, p2 + Duration::days(2));
    run.assert_code(1);
    assert!(
        run.stderr.contains("still processing its first delivery")
            && run.stderr.contains("try again after"),
        "{}",
        run.stderr
    );

    // P2 delivered, P1 not: the window reaching into P1 names the missing period.
    let p2_lines: Vec<CurLine> = lines(p2).into_iter().filter(|l| l.day >= p2).collect();
    env.block_on(export.put_period(&env.aws.s3, &period(p2), &[parquet(&p2_lines, 5)], true));
    let run = window(p2 - Duration::days(2), p2 + Duration::days(2));
    run.assert_code(1);
    assert!(
        run.stderr
            .contains(&format!("has no files for BILLING_PERIOD={}", period(p1)))
            && run.stderr.contains(&format!("it has {}", period(p2))),
        "{}",
        run.stderr
    );
    window(p2, p2 + Duration::days(2)).assert_code(0);

    // A corrupt object: which one, and what to do.
    env.block_on(export.put_period(
        &env.aws.s3,
        &period(p2),
        &[b"PAR1 this is not parquet".to_vec()],
        true,
    ));
    let run = window(p2, p2 + Duration::days(2));
    run.assert_code(1);
    assert!(
        run.stderr.contains("is not a readable Parquet file")
            && run.stderr.contains(".snappy.parquet")
            && run.stderr.contains("try again"),
        "{}",
        run.stderr
    );
}

/// POST queued Athena results to moto.
pub(crate) fn queue_athena(env: &TestEnv, results: Value) {
    env.queue_moto_results(
        "/moto-api/static/athena/query-results",
        json!({ "account_id": ACCOUNT, "region": REGION, "results": results }),
    );
}

pub(crate) fn athena_row(values: &[Option<&str>]) -> Value {
    json!({"Data": values.iter().map(|v| match v {
        Some(v) => json!({"VarCharValue": v}),
        None => json!({}),
    }).collect::<Vec<_>>()})
}

/// Athena as the API reference describes what moto does not: the query runs for a while
/// (`RUNNING` for the first polls), then ends in `state` with bytes scanned; the results'
/// first page (header and `first_page` rows, with a `NextToken`) comes from here, the second
/// from moto's queue.
pub(crate) struct AthenaRunner {
    /// The `StartQueryExecution` requests, as sent.
    pub(crate) sent: Mutex<Vec<Value>>,
    polls: AtomicUsize,
    running_polls: usize,
    state: &'static str,
    reason: &'static str,
    first_page: Vec<Value>,
}

impl AthenaRunner {
    /// `RUNNING` for `running_polls` polls, then `state` (with `reason`); `first_page` (header
    /// first) as the results' first page.
    pub(crate) fn new(
        running_polls: usize,
        state: &'static str,
        reason: &'static str,
        first_page: Vec<Value>,
    ) -> AthenaRunner {
        AthenaRunner {
            sent: Mutex::new(Vec::new()),
            polls: AtomicUsize::new(0),
            running_polls,
            state,
            reason,
            first_page,
        }
    }
}

impl StrictRule for AthenaRunner {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if request.operation == "StartQueryExecution"
            && let Ok(mut sent) = self.sent.lock()
        {
            sent.push(request.json().unwrap_or_default());
        }
        if request.operation != "GetQueryResults" {
            return Verdict::Forward;
        }
        let body = request.json().unwrap_or_default();
        if body.get("NextToken").is_some() {
            return Verdict::Forward;
        }
        let mut reply = Reply::error(Protocol::Json, 200, "", "");
        reply.body = bytes::Bytes::from(
            json!({
                "ResultSet": {"Rows": self.first_page, "ResultSetMetadata": {"ColumnInfo": []}},
                "NextToken": "page-2",
            })
            .to_string(),
        );
        Verdict::Answer(reply)
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.operation != "GetQueryExecution" {
            return None;
        }
        let n = self.polls.fetch_add(1, Ordering::SeqCst);
        let mut doc: Value = serde_json::from_slice(&reply.body).ok()?;
        let execution = doc.get_mut("QueryExecution")?;
        if n < self.running_polls {
            execution["Status"]["State"] = json!("RUNNING");
        } else {
            execution["Status"]["State"] = json!(self.state);
            execution["Statistics"]["DataScannedInBytes"] = json!(52_428_800);
            if !self.reason.is_empty() {
                execution["Status"]["StateChangeReason"] = json!(self.reason);
            }
        }
        let mut out = reply.clone();
        out.body = bytes::Bytes::from(doc.to_string());
        Some(out)
    }
}

pub(crate) const ATHENA_CONFIG: &str = "[cur_export]\nathena = { database = \"cur\", table = \"bedrock_cur\", output = \"s3://athena-results-123456789012/bedrock/\" }\n";

/// The table of docs/report.md, "The Athena table" (its CREATE EXTERNAL TABLE), as
/// `cur.bedrock_cur` in the stand-in's `AwsDataCatalog`.
pub(crate) fn documented_table() -> AthenaTable {
    AthenaTable::new(
        REGION,
        "cur",
        "bedrock_cur",
        &[
            ("bill_billing_period_start_date", "timestamp"),
            ("line_item_usage_account_id", "string"),
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_usage_end_date", "timestamp"),
            ("line_item_product_code", "string"),
            ("product_servicecode", "string"),
            ("product", "map<string,string>"),
            ("line_item_usage_type", "string"),
            ("line_item_operation", "string"),
            ("line_item_line_item_type", "string"),
            ("line_item_line_item_description", "string"),
            ("line_item_resource_id", "string"),
            ("line_item_usage_amount", "double"),
            ("line_item_unblended_cost", "double"),
            ("product_region_code", "string"),
            ("resource_tags", "map<string,string>"),
            ("cost_category", "map<string,string>"),
            ("tags", "map<string,string>"),
            ("line_item_iam_principal", "string"),
        ],
        &[("billing_period", "string")],
    )
}

/// A test environment with `[cur_export] athena`, its table and the bucket its results go to.
pub(crate) fn athena_env() -> TestEnv {
    athena_env_with(ATHENA_CONFIG, documented_table())
}

/// A test environment with `config`, `table` in the stand-in's catalog and the bucket the
/// results go to.
pub(crate) fn athena_env_with(config: &str, table: AthenaTable) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(config);
    env.standin.put_athena_table(table);
    env.block_on(async {
        let _ = env
            .aws
            .s3
            .create_bucket()
            .bucket("athena-results-123456789012")
            .send()
            .await;
    });
    env
}

#[test]
fn cur_through_athena_sends_one_query_polls_pages_and_renders_like_the_embedded_engine() {
    let env = athena_env();
    let header = athena_row(&[
        Some("d0"),
        Some("product_code"),
        Some("product_name"),
        Some("usage_type"),
        Some("cost"),
        Some("usage"),
        Some("line_items"),
    ]);
    let runner = Arc::new(AthenaRunner::new(
        2,
        "SUCCEEDED",
        "",
        vec![
            header,
            athena_row(&[
                Some(ALICE),
                Some("AmazonBedrock"),
                Some("Amazon Bedrock"),
                Some("USE1-NovaLite-input-tokens"),
                Some("1.25"),
                Some("1250.0"),
                Some("6"),
            ]),
            athena_row(&[
                Some(CHAT),
                Some("prodview-claude3haiku"),
                Some(HAIKU),
                Some("USE1-MP:USE1_OutputTokenCount-Units"),
                Some("3.5"),
                Some("10.0"),
                Some("6"),
            ]),
        ],
    ));
    env.proxy.add_rule(runner.clone());
    // The second page, from moto's queue: no principal, and a product that is not Bedrock
    // (the WHERE clause only narrows; the definition decides).
    queue_athena(
        &env,
        json!([{
            "rows": [
                athena_row(&[None, Some("AmazonBedrock"), Some("Amazon Bedrock"),
                    Some("USE1-NovaPro-output-tokens"), Some("0.75"), Some("12.5"), Some("6")]),
                athena_row(&[Some(ALICE), Some("AmazonBedrockAgentCoreX"), Some("Not a model"),
                    Some("USE1-Other"), Some("0"), Some("0"), Some("1")]),
            ],
            "column_info": [],
        }]),
    );
    let (_, p2) = periods();
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let run = env.run(&[
        "report",
        "--source",
        "cur",
        "--start",
        &start.to_string(),
        "--end",
        &end.to_string(),
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["engine"], "athena");
    let athena = &doc["athena"];
    assert_eq!(athena["data_scanned_bytes"], 52_428_800);
    assert_eq!(athena["cost_usd"], 0.000262);
    assert_eq!(athena["polls"], 3, "two RUNNING answers, then SUCCEEDED");
    assert_eq!(athena["result_pages"], 2);
    let got = rows(&doc, "principal_arn");
    assert_eq!(got[&Some(ALICE.to_string())], 1.25);
    assert_eq!(got[&Some(CHAT.to_string())], 3.5);
    assert_eq!(got[&None], 0.75);
    assert_eq!(doc["totals"]["cost_usd"], 5.5);

    // The one query: the CUR table, partitions of the two billing periods, the days.
    let sent: Vec<Value> = runner.sent.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(sent.len(), 1);
    let sql = sent[0]["QueryString"].as_str().expect("sql");
    assert!(sql.contains("FROM \"cur\".\"bedrock_cur\""), "{sql}");
    assert!(
        sql.contains(&format!(
            "billing_period IN ('{}', '{}')",
            period(start),
            period(p2)
        )),
        "{sql}"
    );
    assert!(
        sql.contains(&format!("TIMESTAMP '{start} 00:00:00'")),
        "{sql}"
    );
    assert!(sql.contains("GROUP BY"), "{sql}");
    assert_eq!(sent[0]["QueryExecutionContext"]["Database"], "cur");
    assert_eq!(sent[0]["WorkGroup"], "primary");
    assert_eq!(
        sent[0]["ResultConfiguration"]["OutputLocation"],
        "s3://athena-results-123456789012/bedrock/"
    );

    // Text names the query and what it scanned.
    queue_athena(&env, json!([{"rows": [], "column_info": []}]));
    let text = env.run(&[
        "report",
        "--source",
        "cur",
        "--start",
        &start.to_string(),
        "--end",
        &end.to_string(),
    ]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("Athena query")
            && text.stdout.contains("over cur.bedrock_cur")
            && text.stdout.contains("scanned 50.0 MiB"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_failed_or_cancelled_athena_query_is_a_clear_error() {
    for (state, reason, needle) in [
        (
            "FAILED",
            "TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.cur.bedrock_cur' does not exist",
            "failed: TABLE_NOT_FOUND",
        ),
        ("CANCELLED", "Query cancelled by user", "was cancelled"),
    ] {
        let env = TestEnv::new();
        env.write_config(ATHENA_CONFIG);
        env.standin.put_athena_table(documented_table());
        env.proxy
            .add_rule(Arc::new(AthenaRunner::new(1, state, reason, Vec::new())));
        let run = env.run(&["report", "--source", "cur", "--engine", "athena"]);
        run.assert_code(1);
        assert!(run.stderr.contains(needle), "{state}: {}", run.stderr);
        let results = env
            .proxy
            .calls()
            .into_iter()
            .filter(|c| c.operation == "GetQueryResults")
            .count();
        assert_eq!(results, 0, "no results are read from a {state} query");
    }
}

/// POST queued Cost Explorer results to moto.
pub(crate) fn queue_cost_and_usage(env: &TestEnv, results: Value) {
    env.queue_moto_results(
        "/moto-api/static/ce/cost-and-usage-results",
        json!({ "results": results }),
    );
}

/// Queues Cost Explorer's answer for `lines` over `[start, end)`: the bill as Cost Explorer
/// groups it (by service and usage type, tax under its own service "Tax", credits and refunds
/// in their service's unblended cost as Cost Explorer counts them without a `RECORD_TYPE`
/// filter), one result per day.
pub(crate) fn queue_bill(env: &TestEnv, lines: &[CurLine], start: NaiveDate, end: NaiveDate) {
    let mut days = Vec::new();
    let mut day = start;
    while day < end {
        let mut groups: BTreeMap<(String, String), f64> = BTreeMap::new();
        for l in lines.iter().filter(|l| l.day == day) {
            let service = if l.line_item_type == "Tax" {
                "Tax".to_string()
            } else {
                l.product_name.clone()
            };
            *groups.entry((service, l.usage_type.clone())).or_insert(0.0) += l.cost;
        }
        days.push(json!({
            "TimePeriod": {"Start": day.to_string(), "End": (day + Duration::days(1)).to_string()},
            "Total": {},
            "Groups": groups.iter().map(|((service, usage_type), cost)| json!({
                "Keys": [service, usage_type],
                "Metrics": {
                    "UnblendedCost": {"Amount": format!("{cost:.6}"), "Unit": "USD"},
                    "UsageQuantity": {"Amount": "1", "Unit": "N/A"},
                },
            })).collect::<Vec<_>>(),
            "Estimated": false,
        }));
        day += Duration::days(1);
    }
    queue_cost_and_usage(
        env,
        json!([{"ResultsByTime": days, "DimensionValueAttributes": []}]),
    );
}

/// `--compare` puts the CUR beside the other sources, and over the same days its total is Cost
/// Explorer's: the bill as Cost Explorer groups it (by service and usage type, tax under its
/// own service, other services filtered out) is what the generator wrote.
#[test]
fn compare_shows_the_cur_beside_the_bill_and_the_totals_agree() {
    let (_, p2) = periods();
    let lines = lines(p2);
    let env = export_env(&lines);
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    queue_bill(&env, &lines, start, end);
    let run = env.run(&[
        "report",
        "--compare",
        "--start",
        &start.to_string(),
        "--end",
        &end.to_string(),
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    assert!(
        doc["source"]
            .as_array()
            .expect("source")
            .contains(&json!("cur")),
        "{}",
        doc["source"]
    );
    let cur = &doc["cur"];
    let billed = doc["totals"]["billed_cost_usd"].as_f64().expect("billed");
    let from_cur = cur["totals"]["cost_usd"].as_f64().expect("cur total");
    assert_eq!(
        cents(from_cur),
        cents(billed),
        "CUR {from_cur} vs bill {billed}"
    );
    assert_eq!(cur["billed_cost_usd"], doc["totals"]["billed_cost_usd"]);
    assert_eq!(cur["by"], json!(["model"]));
    let text = env.run(&[
        "report",
        "--compare",
        "--start",
        &start.to_string(),
        "--end",
        &end.to_string(),
    ]);
    text.assert_code(0);
    assert!(
        text.stdout
            .contains("Billed Bedrock spend from the CUR 2.0 export")
            && text.stdout.contains("Cost Explorer for the same days"),
        "{}",
        text.stdout
    );
}
