//! Reading an existing CUR 2.0 export (issue 34): one in the shape the Cloud Intelligence
//! Dashboards make (`s3://<bucket>/cur2/<account>/cid-cur2/…`, another prefix and name than the
//! tool's own), written by the generator in `tests/support/cur.rs` into moto's S3 as gzip CSV
//! and as Parquet, with a period re-delivered in a new version ("create new": each refresh in
//! its own `<timestamp>-<execution-id>` folder, every earlier one kept). Read by
//! `[cur_export] read` and by `--cur`: totals to the cent against the generator, no refresh
//! counted twice. And an export made without IAM principal data: tags, models and accounts
//! whole, principals missing with the reason.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use crate::cur::{assert_to_the_cent, cents, expected, lines, model_of, periods, rows};
use crate::support::cur::{CurLine, Export, csv_gz, parquet, parquet_without, period};
use bedrock_monitor::aws::emulator_clients;

use crate::support::env::{REGION, Run, TestEnv};

const URI: &str = "s3://cid-123456789012-data-exports/cur2/123456789012/cid-cur2";

fn cid() -> Export {
    Export {
        bucket: "cid-123456789012-data-exports".into(),
        prefix: "cur2/123456789012".into(),
        name: "cid-cur2".into(),
    }
}

/// The generator's lines around the first of last month, an environment with `config` and the
/// CID export's empty bucket.
fn setup(config: &str) -> (NaiveDate, Vec<CurLine>, TestEnv, Export) {
    let (_, p2) = periods();
    let env = TestEnv::new();
    env.write_config(config);
    let export = cid();
    env.block_on(export.create_bucket(&env.aws.s3));
    (p2, lines(p2), env, export)
}

/// An earlier refresh of the same lines: other costs, which must not be counted.
fn stale(lines: &[CurLine]) -> Vec<CurLine> {
    lines
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l.cost *= 0.5;
            l
        })
        .collect()
}

fn by_period(lines: &[CurLine]) -> BTreeMap<String, Vec<CurLine>> {
    let mut out: BTreeMap<String, Vec<CurLine>> = BTreeMap::new();
    for l in lines {
        out.entry(period(l.day)).or_default().push(l.clone());
    }
    out
}

fn report(env: &TestEnv, start: NaiveDate, end: NaiveDate, extra: &[&str]) -> Run {
    let (s, e) = (start.to_string(), end.to_string());
    let mut args = vec![
        "report", "--source", "cur", "--start", &s, "--end", &e, "-o", "json",
    ];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.assert_code(0);
    run
}

/// Per principal, per model, per account and the total, each to the cent.
fn assert_figures(
    env: &TestEnv,
    lines: &[CurLine],
    start: NaiveDate,
    end: NaiveDate,
    extra: &[&str],
) {
    let doc = report(env, start, end, extra).json();
    let want = expected(lines, start, end, |l| l.principal.clone());
    assert_to_the_cent(&rows(&doc, "principal_arn"), &want);
    let total: f64 = want.values().sum();
    assert_eq!(
        cents(doc["totals"]["cost_usd"].as_f64().expect("total")),
        cents(total),
        "{doc}"
    );
    assert_models_and_accounts(env, lines, start, end, extra);
}

/// Per model and per account, to the cent.
fn assert_models_and_accounts(
    env: &TestEnv,
    lines: &[CurLine],
    start: NaiveDate,
    end: NaiveDate,
    extra: &[&str],
) {
    let by = |dimension: &str| {
        let mut args = extra.to_vec();
        args.extend(["--by", dimension]);
        report(env, start, end, &args).json()
    };
    let want = expected(lines, start, end, |l| model_of(l).map(str::to_string));
    assert_to_the_cent(&rows(&by("model"), "model"), &want);
    let want = expected(lines, start, end, |l| Some(l.account.clone()));
    assert_to_the_cent(&rows(&by("account"), "account"), &want);
}

#[test]
fn a_cid_export_in_gzip_csv_with_a_period_in_two_versions_is_read_once_by_cur_export_read() {
    let (p2, lines, env, export) = setup(&format!("[cur_export]\nread = \"{URI}\"\n"));
    let periods = by_period(&lines);
    let mut iter = periods.iter();
    // P1: "create new", two refreshes, the manifest naming the second (two chunks).
    let (p1_name, p1_lines) = iter.next().expect("P1");
    let s3 = &env.aws.s3;
    env.block_on(export.put_refresh(
        s3,
        p1_name,
        Some("20261101T020000Z-0b3c8e1a"),
        "csv.gz",
        &[csv_gz(&stale(p1_lines), &[])],
        true,
    ));
    let (a, b) = p1_lines.split_at(p1_lines.len() / 2);
    env.block_on(export.put_refresh(
        s3,
        p1_name,
        Some("20261102T020000Z-5f21d9c4"),
        "csv.gz",
        &[csv_gz(a, &[]), csv_gz(b, &[])],
        true,
    ));
    // P2: "create new" without any manifest (its metadata folder not copied): the latest
    // refresh is found from the listing.
    let (p2_name, p2_lines) = iter.next().expect("P2");
    env.block_on(export.put_refresh(
        s3,
        p2_name,
        Some("20261201T020000Z-77aa01be"),
        "csv.gz",
        &[csv_gz(&stale(p2_lines), &[])],
        false,
    ));
    env.block_on(export.put_refresh(
        s3,
        p2_name,
        Some("20261202T020000Z-9c0d3e2f"),
        "csv.gz",
        &[csv_gz(p2_lines, &[])],
        false,
    ));

    let (start, end) = (p2 - Duration::days(4), p2 + Duration::days(4));
    assert_figures(&env, &lines, start, end, &[]);
    let doc = report(&env, start, end, &[]).json();
    assert_eq!(doc["export"]["bucket"], export.bucket);
    assert_eq!(doc["export"]["prefix"], export.prefix);
    assert_eq!(doc["export"]["export"], "cid-cur2");
    assert_eq!(doc["export"]["existing"], true);
    // Three objects: P1's two chunks of the second refresh and P2's latest refresh.
    assert_eq!(doc["scan"]["objects"], 3, "{doc}");
}

#[test]
fn a_cid_export_in_parquet_overwritten_and_re_delivered_is_read_once_by_the_cur_flag() {
    // No [cur_export] at all: --cur names the export.
    let (p2, lines, env, export) = setup("");
    let periods = by_period(&lines);
    let mut iter = periods.iter();
    let s3 = &env.aws.s3;
    // P1: overwritten in place, the second delivery with one chunk fewer, the extra chunk
    // "overwritten with empty data".
    let (p1_name, p1_lines) = iter.next().expect("P1");
    let (a, b) = p1_lines.split_at(p1_lines.len() / 2);
    env.block_on(export.put_refresh(
        s3,
        p1_name,
        None,
        "snappy.parquet",
        &[parquet(&stale(a), 5), parquet(&stale(b), 5)],
        true,
    ));
    env.block_on(export.put_refresh(
        s3,
        p1_name,
        None,
        "snappy.parquet",
        &[parquet(p1_lines, 5), Vec::new()],
        true,
    ));
    // P2: re-delivered in a new version, both kept, the manifest naming the newer.
    let (p2_name, p2_lines) = iter.next().expect("P2");
    for (folder, ls) in [
        ("20261201T020000Z-77aa01be", stale(p2_lines)),
        ("20261203T020000Z-0c1d2e3f", p2_lines.clone()),
    ] {
        env.block_on(export.put_refresh(
            s3,
            p2_name,
            Some(folder),
            "snappy.parquet",
            &[parquet(&ls, 5)],
            true,
        ));
    }
    let (start, end) = (p2 - Duration::days(5), p2 + Duration::days(5));
    assert_figures(&env, &lines, start, end, &["--cur", URI]);

    // A URI that is not an export is refused before any call.
    let run = env.run(&[
        "report",
        "--source",
        "cur",
        "--cur",
        "s3://Bad_Bucket/cid-cur2",
    ]);
    run.assert_code(3);
    assert!(run.stderr.contains("--cur"), "{}", run.stderr);
}

#[test]
fn an_export_without_iam_principal_data_reports_by_tag_model_and_account_and_says_why() {
    let (p2, lines, env, export) = setup(&format!("[cur_export]\nread = \"{URI}\"\n"));
    for (i, (p, ls)) in by_period(&lines).iter().enumerate() {
        // One period as CSV, the other as Parquet: both without the column.
        let (ext, bytes) = if i == 0 {
            ("csv.gz", csv_gz(ls, &["line_item_iam_principal"]))
        } else {
            (
                "snappy.parquet",
                parquet_without(ls, 5, &["line_item_iam_principal"]),
            )
        };
        env.block_on(export.put_refresh(&env.aws.s3, p, None, ext, &[bytes], true));
    }
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let doc = report(&env, start, end, &[]).json();
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("Include caller identity (IAM principal) allocation data"),
        "{notes}"
    );
    let total: f64 = expected(&lines, start, end, |_| None).values().sum();
    let by_principal = rows(&doc, "principal_arn");
    assert_to_the_cent(&by_principal, &BTreeMap::from([(None, total)]));

    let doc = report(&env, start, end, &["--by", "tag:iamPrincipal/team"]).json();
    let want = expected(&lines, start, end, |l| {
        l.tags
            .iter()
            .find(|(k, _)| k == "iamPrincipal/team")
            .map(|(_, v)| v.clone())
    });
    assert_to_the_cent(&rows(&doc, "tag:iamPrincipal/team"), &want);
    assert_models_and_accounts(&env, &lines, start, end, &[]);
}

/// The export's bucket in another account (an organization's export usually lies in its
/// management or data-collection account): read as the caller's, S3 refuses every call
/// (`ExpectedBucketOwner` names the wrong owner: 403), and the error says how to name the
/// owner; named with `--cur-owner` or `[cur_export] read_owner`, the export is read whole.
/// The proxy's bucket-owner rule learns the owner from the CreateBucket it sees made with
/// credentials of that account (moto ignores the header).
#[test]
fn an_export_in_another_accounts_bucket_is_read_with_its_owner_named() {
    const OWNER: &str = "222222222222";
    const OTHER_URI: &str = "s3://org-data-exports-222222222222/cur2/222222222222/cid-cur2";
    let (_, p2) = periods();
    let lines = lines(p2);
    let env = TestEnv::new();
    env.write_config("");
    let export = Export {
        bucket: "org-data-exports-222222222222".into(),
        prefix: "cur2/222222222222".into(),
        name: "cid-cur2".into(),
    };
    let (through_proxy, direct) = env.block_on(async {
        let proxy = emulator_clients(&env.proxy.url(), REGION);
        let assumed = proxy
            .sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{OWNER}:role/DataExportsOwner"))
            .role_session_name("owner")
            .send()
            .await
            .expect("AssumeRole");
        let c = assumed.credentials().expect("credentials").clone();
        let client = |url: &str| {
            let creds = aws_credential_types::Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "owner",
            );
            let conf = aws_sdk_s3::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_types::region::Region::new(REGION))
                .endpoint_url(url)
                .force_path_style(true)
                .credentials_provider(creds)
                .build();
            aws_sdk_s3::Client::from_conf(conf)
        };
        (client(&env.proxy.url()), client(&env.moto.url()))
    });
    // Created through the proxy (so its rule knows the owner); filled directly in moto, as the
    // owner (the tool's calls are what the proxy checks).
    env.block_on(export.create_bucket(&through_proxy));
    for (p, ls) in by_period(&lines) {
        env.block_on(export.put_refresh(
            &direct,
            &p,
            None,
            "snappy.parquet",
            &[parquet(&ls, 5)],
            true,
        ));
    }
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let (s, e) = (start.to_string(), end.to_string());

    let refused = env.run(&[
        "report", "--source", "cur", "--cur", OTHER_URI, "--start", &s, "--end", &e,
    ]);
    assert_ne!(refused.code, 0, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--cur-owner") && refused.stderr.contains("read_owner"),
        "{}",
        refused.stderr
    );
    let denied = env.strict.bucket_owner.refused();
    assert!(
        !denied.is_empty()
            && denied
                .iter()
                .all(|r| r.contains("expected=123456789012 owner=222222222222")),
        "{denied:?}"
    );

    assert_figures(
        &env,
        &lines,
        start,
        end,
        &["--cur", OTHER_URI, "--cur-owner", OWNER],
    );
    env.write_config(&format!(
        "[cur_export]\nenabled = false\nread = \"{OTHER_URI}\"\nread_owner = \"{OWNER}\"\n"
    ));
    let refused_before = env.strict.bucket_owner.refused().len();
    assert_figures(&env, &lines, start, end, &[]);
    assert_eq!(env.strict.bucket_owner.refused().len(), refused_before);

    // A --cur-owner that is no account ID, or without an export to own, is refused before
    // any call.
    let bad = env.run(&[
        "report",
        "--source",
        "cur",
        "--cur",
        OTHER_URI,
        "--cur-owner",
        "2222",
    ]);
    bad.assert_code(3);
    assert!(bad.stderr.contains("12 digits"), "{}", bad.stderr);
}
