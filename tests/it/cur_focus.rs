//! `report --source cur --output focus` (issue 34): the CUR fixtures of `cur.rs` (plus a
//! credit and a refund) written as FOCUS 1.2 rows, as CSV and as Parquet (`--out x.parquet`),
//! checked by the FinOps Foundation's `focus-validator` (installed by `scripts/test`, see
//! `scripts/focus-env`; a missing validator fails the test) and, for what that validator does
//! not know, column by column here; the Parquet file cell by cell against the CSV, with its
//! column types read back with the `parquet` crate.
//!
//! The validator that installs on Python 3.11 is 1.0.0, which validates FOCUS 1.0 and spells
//! four columns by their pre-1.0 names (`InvoiceIssuer`, `Provider`, `Publisher`, `ResourceID`;
//! FOCUS 1.0 and 1.2 name them `InvoiceIssuerName`, `ProviderName`, `PublisherName`,
//! `ResourceId`). The output follows the specification; those four rules are overridden and
//! the four columns are checked here instead, with every column FOCUS 1.1 and 1.2 added.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, NaiveDate};
use serde_json::Value;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType};
use arrow_schema::{DataType, TimeUnit};
use bedrock_monitor::report::cur::focus::{COLUMNS, Kind};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{LogicalType, TimeUnit as ParquetTimeUnit};

use crate::cur::{cur_report, export_env, lines, periods};
use crate::support::cur::CurLine;
use crate::support::env::TestEnv;

/// The validator's rules whose column names FOCUS 1.0 changed (see the module comment).
/// Also overridden, and checked here instead: `SkuPriceId_Nullable` queries a `ChargeType`
/// column (FOCUS 1.0 renamed it `ChargeCategory`), so it fails on any 1.0 file.
const RENAMED_RULES: [&str; 13] = [
    "SkuPriceId_Nullable",
    "InvoiceIssuer_Required",
    "InvoiceIssuer_IsString",
    "InvoiceIssuer_NotNull",
    "Provider_Required",
    "Provider_IsString",
    "Provider_NotNull",
    "Publisher_Required",
    "Publisher_IsString",
    "Publisher_NotNull",
    "ResourceID_Required",
    "ResourceID_IsString",
    "ResourceID_Nullable",
];

/// The validator `scripts/test` installs (`$FOCUS_VALIDATOR`, else its place in the cache).
fn validator() -> PathBuf {
    let path = std::env::var_os("FOCUS_VALIDATOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_default();
            cache.join("bedrock-monitor/focus-validator-1.0.0-pyarrow25/bin/focus-validator")
        });
    assert!(
        path.is_file(),
        "focus-validator is not installed at {}: run scripts/test (it installs it), or \
         `. scripts/focus-env && ensure_focus_validator`",
        path.display()
    );
    path
}

/// Runs the validator on `data` (CSV or Parquet: it picks its loader by the name's ending) at
/// FOCUS 1.0, the newest it knows, with the renamed rules overridden; its JUnit report.
fn validate(validator: &Path, dir: &Path, data: &Path) -> String {
    let overrides = dir.join("overrides.yaml");
    let list: String = RENAMED_RULES.iter().map(|r| format!("  - {r}\n")).collect();
    std::fs::write(&overrides, format!("overrides:\n{list}")).expect("overrides");
    let junit = dir.join("focus-validator.xml");
    // It reads its currency list from `focus_validator/utils/currency_codes.csv`, relative
    // to where it runs: its site-packages.
    let site = validator
        .parent()
        .and_then(|bin| bin.parent())
        .map(|venv| venv.join("lib"))
        .and_then(|lib| std::fs::read_dir(lib).ok())
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path().join("site-packages"))))
        .expect("the validator's site-packages");
    let ran = Command::new(validator)
        .current_dir(&site)
        .arg("--data-file")
        .arg(data)
        .args(["--validate-version", "1.0", "--output-type", "unittest"])
        .arg("--override-file")
        .arg(&overrides)
        .arg("--output-destination")
        .arg(&junit)
        .output()
        .expect("focus-validator runs");
    assert!(
        ran.status.success(),
        "focus-validator failed to run on {}:\n{}",
        data.display(),
        String::from_utf8_lossy(&ran.stderr)
    );
    let report = std::fs::read_to_string(&junit).expect("the validator's report");
    let tests = report.matches("<testcase").count();
    assert!(
        tests > 100,
        "the validator ran its rules ({tests}):\n{report}"
    );
    report
}

/// The validator's failed or erroring test cases.
fn failures(report: &str) -> Vec<&str> {
    report
        .split("<testcase")
        .filter(|case| case.contains("<failure") || case.contains("<error"))
        .collect()
}

fn lines_with_adjustments() -> Vec<CurLine> {
    let (_, p2) = periods();
    let mut out = lines(p2);
    let mut credit = CurLine::bedrock(p2, "USE1-NovaLite-input-tokens", -0.25);
    credit.line_item_type = "Credit".into();
    out.push(credit);
    let mut refund = CurLine::bedrock(p2 + Duration::days(1), "USE1-NovaPro-output-tokens", -0.1);
    refund.line_item_type = "Refund".into();
    out.push(refund);
    out
}

/// The export of [`lines_with_adjustments`] and the window the FOCUS tests read: three days
/// either side of the turn of the month.
fn focus_env() -> (TestEnv, NaiveDate, NaiveDate) {
    let env = export_env(&lines_with_adjustments());
    let (_, p2) = periods();
    (env, p2 - Duration::days(3), p2 + Duration::days(3))
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("record");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

#[test]
fn focus_output_passes_the_validator_and_matches_the_principal_report() {
    let validator = validator();
    let (env, start, end) = focus_env();
    let out = env.dir.path().join("bedrock-focus.csv");
    let out_arg = out.to_string_lossy().to_string();
    cur_report(&env, start, end, &["-o", "focus", "--out", &out_arg]);
    let text = std::fs::read_to_string(&out).expect("the FOCUS file");

    let report = validate(&validator, env.dir.path(), &out);
    // The validator reads CSV with pandas' type guessing, which takes a column of digits (an
    // AWS account ID, a rate ID) for a number, and its overrides do not reach type checks: the
    // `IsString` checks of such columns fail on any AWS bill. Those, and only those, are let
    // through, and the columns are checked to be strings of digits.
    let (header, rows) = parse_csv(&text);
    let digits = |column: &str| {
        rows.iter().all(|r| {
            let v = &r[column];
            !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
        })
    };
    let failed: Vec<&str> = failures(&report)
        .into_iter()
        .filter(|case| {
            !["BillingAccountId", "SubAccountId", "SkuPriceId"]
                .iter()
                .any(|c| case.contains(&format!("name=\"{c}_IsString\"")) && digits(c))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "focus-validator failures:\n{}",
        failed.join("\n")
    );

    // What the validator does not check: the 1.2 columns, types and allowed values.
    let want: Vec<String> = COLUMNS.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(header, want);
    for c in [
        "InvoiceIssuerName",
        "ProviderName",
        "PublisherName",
        "ResourceId",
        "InvoiceId",
        "PricingCurrency",
        "ServiceSubcategory",
        "SkuMeter",
        "CapacityReservationId",
        "CommitmentDiscountQuantity",
        "BillingAccountType",
        "SubAccountType",
    ] {
        assert!(header.iter().any(|h| h == c), "{c} is a FOCUS 1.2 column");
    }
    assert!(!rows.is_empty());
    for row in &rows {
        let at = |c: &str| row.get(c).map(String::as_str).unwrap_or("");
        for c in [
            "InvoiceIssuerName",
            "ProviderName",
            "PublisherName",
            "ServiceName",
        ] {
            assert!(!at(c).is_empty(), "{c} is never null: {row:?}");
        }
        assert_eq!(at("ServiceCategory"), "AI and Machine Learning");
        // FOCUS 1.2: not null where the account ID is not.
        assert_eq!(at("BillingAccountType"), "Payer Account", "{row:?}");
        assert_eq!(at("SubAccountType"), "Linked Account", "{row:?}");
        for c in ["BillingAccountId", "SubAccountId"] {
            assert!(
                at(c).len() == 12 && at(c).bytes().all(|b| b.is_ascii_digit()),
                "{c}: {row:?}"
            );
        }
        if at("ChargeCategory") == "Usage" {
            assert!(
                !at("SkuPriceId").is_empty() && !at("SkuId").is_empty(),
                "{row:?}"
            );
        }
        assert_eq!(at("ServiceSubcategory"), "Generative AI");
        assert_eq!(at("PricingCurrency"), at("BillingCurrency"));
        assert!(
            ["Usage", "Credit", "Adjustment", "Purchase", "Tax"].contains(&at("ChargeCategory")),
            "{row:?}"
        );
        for c in ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"] {
            assert!(at(c).parse::<f64>().is_ok(), "{c} is a decimal: {row:?}");
        }
        for c in ["ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart"] {
            assert!(
                chrono::DateTime::parse_from_rfc3339(at(c)).is_ok() && at(c).ends_with('Z'),
                "{c} is a UTC date-time: {row:?}"
            );
        }
        if !at("Tags").is_empty() {
            let tags: Value = serde_json::from_str(at("Tags")).expect("Tags is JSON");
            assert!(tags.is_object());
        }
        // Tokens where the price book gives the tokens per billed unit (the built-in book
        // has none for the fixture's Marketplace product: its rows stay in billed units).
        let per_unit = bedrock_monitor::cost::prices::active()
            .tokens_per_unit(at("ServiceName"), at("x_UsageType"));
        if at("ChargeCategory") == "Usage"
            && at("x_TokenKind") != "other"
            && let Some(per_unit) = per_unit
        {
            assert_eq!(at("ConsumedUnit"), "Tokens", "{row:?}");
            let consumed: f64 = at("ConsumedQuantity").parse().expect("tokens");
            let pricing: f64 = at("PricingQuantity").parse().expect("quantity");
            assert!((consumed - pricing * per_unit).abs() < 1e-6, "{row:?}");
            assert_eq!(at("PricingUnit"), "1K Tokens");
        }
    }
    let category = |lit: &str| {
        rows.iter()
            .filter(|r| r["x_LineItemType"] == lit)
            .map(|r| r["ChargeCategory"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(category("Credit"), ["Credit"]);
    assert_eq!(category("Refund"), ["Adjustment"]);
    let marketplace = rows
        .iter()
        .find(|r| r["ServiceName"].ends_with("(Amazon Bedrock Edition)"))
        .expect("a Marketplace model's row");
    assert_eq!(marketplace["x_Model"], "Claude 3 Haiku");
    assert!(marketplace["x_InferenceProfile"].contains("application-inference-profile"));

    // Figures per principal equal the `--by principal` report's, to the cent.
    let billed: Vec<(String, String, f64)> = rows
        .iter()
        .map(|r| {
            let cost = r["BilledCost"].parse::<f64>().expect("cost");
            (
                r["x_IamPrincipal"].clone(),
                r["ChargeCategory"].clone(),
                cost,
            )
        })
        .collect();
    assert_matches_the_report(&env, start, end, &billed);
}

/// Rows' (principal, charge category, billed cost) add up, per principal and in all, to the
/// `--source cur` report of the same window, to the cent.
fn assert_matches_the_report(
    env: &TestEnv,
    start: NaiveDate,
    end: NaiveDate,
    billed: &[(String, String, f64)],
) {
    let doc = cur_report(env, start, end, &["-o", "json"]).json();
    let mut by_report: BTreeMap<String, f64> = BTreeMap::new();
    for r in doc["rows"].as_array().expect("rows") {
        if r["adjustments"] == true {
            continue;
        }
        let who = r["principal_arn"].as_str().unwrap_or("").to_string();
        *by_report.entry(who).or_default() += r["cost_usd"].as_f64().expect("cost");
    }
    let mut by_focus: BTreeMap<String, f64> = BTreeMap::new();
    for (who, _, cost) in billed.iter().filter(|(_, c, _)| c == "Usage") {
        *by_focus.entry(who.clone()).or_default() += cost;
    }
    let cents = |m: &BTreeMap<String, f64>| -> BTreeMap<String, i64> {
        m.iter()
            .map(|(k, v)| (k.clone(), (v * 100.0).round() as i64))
            .collect()
    };
    assert_eq!(cents(&by_focus), cents(&by_report));
    let total: f64 = billed.iter().map(|(_, _, cost)| cost).sum();
    let net = doc["totals"]["cost_usd"].as_f64().expect("net");
    assert_eq!(
        (total * 100.0).round(),
        (net * 100.0).round(),
        "FOCUS rows add up to the bill"
    );
}

#[test]
fn focus_is_refused_where_it_does_not_apply() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    let run = env.run(&["report", "-o", "focus"]);
    run.assert_code(3);
    assert!(run.stderr.contains("--source cur"), "{}", run.stderr);
    let run = env.run(&["status", "-o", "focus"]);
    run.assert_code(3);
    let parquet = env.dir_path().join("x.parquet");
    let parquet = parquet.to_str().expect("path");
    let run = env.run(&["report", "-o", "focus", "--out", parquet]);
    run.assert_code(3);
    assert!(run.stderr.contains("--source cur"), "{}", run.stderr);

    // Parquet is the FOCUS rows' only: any other output to a `.parquet` name (any case) is
    // refused before any AWS call, and nothing is written.
    let upper = env.dir_path().join("x.PARQUET");
    let upper = upper.to_str().expect("path");
    for args in [
        vec!["report", "--source", "cur", "-o", "csv", "--out", parquet],
        vec!["report", "--source", "cur", "-o", "json", "--out", upper],
        vec!["report", "-o", "text", "--out", parquet],
        vec![
            "report", "--source", "metrics", "-o", "html", "--out", upper,
        ],
    ] {
        let run = env.run(&args);
        run.assert_code(3);
        assert!(
            run.stderr
                .contains("only the FOCUS rows are written as Parquet"),
            "{args:?}: {}",
            run.stderr
        );
    }
    assert!(!Path::new(parquet).exists() && !Path::new(upper).exists());
    assert!(
        env.proxy.calls().is_empty(),
        "no AWS call: {:?}",
        env.proxy.calls()
    );
}

/// A Parquet cell as the CSV writes it, for comparison: `None` for null.
fn parquet_cell(batch: &arrow_array::RecordBatch, column: usize, row: usize) -> Option<Cell> {
    let array = batch.column(column);
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Utf8 => Cell::Text(array.as_string::<i32>().value(row).to_string()),
        DataType::Float64 => Cell::Number(array.as_primitive::<Float64Type>().value(row)),
        DataType::Timestamp(TimeUnit::Millisecond, Some(tz)) if tz.as_ref() == "UTC" => {
            let t = array
                .as_primitive::<TimestampMillisecondType>()
                .value_as_datetime(row)
                .expect("a date/time");
            Cell::Text(t.and_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        other => panic!("column {column}: unexpected type {other:?}"),
    })
}

#[derive(Debug)]
enum Cell {
    Text(String),
    Number(f64),
}

#[test]
fn focus_parquet_holds_the_csv_rows_with_focus_types() {
    let validator = validator();
    let (env, start, end) = focus_env();
    let csv_out = env.dir.path().join("bedrock-focus.csv");
    let parquet_out = env.dir.path().join("bedrock-focus.parquet");
    for out in [&csv_out, &parquet_out] {
        let out = out.to_str().expect("path");
        cur_report(&env, start, end, &["-o", "focus", "--out", out]);
    }
    let (_, csv_rows) = parse_csv(&std::fs::read_to_string(&csv_out).expect("the CSV"));
    // stdout stays CSV: the same text as the `.csv` file.
    let stdout = cur_report(&env, start, end, &["-o", "focus"]).stdout;
    assert_eq!(
        stdout,
        std::fs::read_to_string(&csv_out).expect("the CSV"),
        "without --out, FOCUS is CSV on stdout"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&parquet_out)
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the report is its owner's only");
    }
    assert!(
        !env.dir
            .path()
            .join("bedrock-focus.parquet.partial")
            .exists(),
        "no partial file is left"
    );

    let file = std::fs::File::open(&parquet_out).expect("the Parquet file");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    // Column names and order as the CSV's; FOCUS data types: Decimal as a 64-bit float (as the
    // AWS FOCUS_1_2_AWS table's `double`), Date/Time as UTC timestamps in milliseconds (its
    // `timestamp_milliseconds`), String and Key-Value (Tags: a JSON string) as UTF-8.
    let schema = builder.schema().clone();
    assert_eq!(schema.fields().len(), COLUMNS.len());
    for (field, column) in schema.fields().iter().zip(COLUMNS.iter()) {
        assert_eq!(field.name(), column.name);
        let want = match column.kind {
            Kind::String | Kind::KeyValue => DataType::Utf8,
            Kind::Decimal => DataType::Float64,
            Kind::DateTime => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        };
        assert_eq!(field.data_type(), &want, "{}", column.name);
    }
    for c in ["BilledCost", "EffectiveCost", "ListCost", "PricingQuantity"] {
        assert_eq!(
            COLUMNS.iter().find(|k| k.name == c).map(|k| k.kind),
            Some(Kind::Decimal),
            "{c} is a FOCUS Decimal"
        );
    }
    for c in [
        "ChargePeriodStart",
        "ChargePeriodEnd",
        "BillingPeriodStart",
        "BillingPeriodEnd",
    ] {
        let column = builder
            .parquet_schema()
            .columns()
            .iter()
            .find(|d| d.name() == c)
            .expect("the column");
        assert_eq!(
            column.logical_type_ref(),
            Some(&LogicalType::timestamp(true, ParquetTimeUnit::MILLIS)),
            "{c} is a UTC timestamp"
        );
    }
    let batches: Vec<arrow_array::RecordBatch> = builder
        .build()
        .expect("reader")
        .collect::<Result<_, _>>()
        .expect("batches");

    // The same rows as the CSV, in the same order: null where the CSV cell is empty, the same
    // text, the same figures (the CSV prints ten places).
    let mut rows: Vec<BTreeMap<String, Option<Cell>>> = Vec::new();
    for batch in &batches {
        for r in 0..batch.num_rows() {
            rows.push(
                COLUMNS
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.name.to_string(), parquet_cell(batch, i, r)))
                    .collect(),
            );
        }
    }
    assert_eq!(rows.len(), csv_rows.len());
    assert!(!rows.is_empty());
    let mut tagged = 0;
    for (pq, csv) in rows.iter().zip(&csv_rows) {
        for c in COLUMNS.iter().map(|c| c.name) {
            match (&pq[c], csv[c].as_str()) {
                (None, "") => {}
                (Some(Cell::Text(t)), text) => assert_eq!(t, text, "{c}: {csv:?}"),
                (Some(Cell::Number(v)), text) => {
                    let printed: f64 = text.parse().expect("a CSV decimal");
                    assert!((v - printed).abs() < 1e-9, "{c}: {v} vs {text}");
                }
                (None, text) => panic!("{c} is null in Parquet but {text:?} in the CSV"),
            }
        }
        if let Some(Cell::Text(tags)) = &pq["Tags"] {
            let tags: Value = serde_json::from_str(tags).expect("Tags is a JSON string");
            assert!(tags.is_object());
            tagged += 1;
        }
    }
    assert!(tagged > 0, "some rows carry tags");
    for c in ["AvailabilityZone", "ChargeClass", "SkuPriceDetails"] {
        assert!(rows.iter().all(|r| r[c].is_none()), "{c} is null");
    }

    let billed: Vec<(String, String, f64)> = rows
        .iter()
        .map(|r| {
            let text = |c: &str| match &r[c] {
                Some(Cell::Text(t)) => t.clone(),
                _ => String::new(),
            };
            let Some(Cell::Number(cost)) = r["BilledCost"] else {
                panic!("BilledCost is never null: {r:?}");
            };
            (text("x_IamPrincipal"), text("ChargeCategory"), cost)
        })
        .collect();
    assert_matches_the_report(&env, start, end, &billed);

    // The validator loads Parquet with its types (pandas over pyarrow), so nothing is let
    // through: not even the `IsString` checks that CSV's type guessing fails.
    let report = validate(&validator, env.dir.path(), &parquet_out);
    let failed = failures(&report);
    assert!(
        failed.is_empty(),
        "focus-validator failures on the Parquet file:\n{}",
        failed.join("\n")
    );
}

/// A target that cannot read the export (here: no export bucket in the fleet's account) writes
/// no file: a FOCUS file already there is left as it was, and the failure is on stderr.
#[test]
fn a_failed_read_leaves_the_out_file_alone() {
    let env = TestEnv::new();
    env.write_config(
        "[aws]\ninitial_backoff_ms = 20\nmax_backoff_seconds = 1\n\n[cur_export]\n\n\
         [targets]\naccounts = [\"111111111111\"]\nregions = [\"us-east-1\"]\n",
    );
    let (_, p2) = periods();
    let (start, end) = (p2.to_string(), (p2 + Duration::days(3)).to_string());
    let out = env.dir_path().join("bedrock-focus.parquet");
    std::fs::write(&out, "last month's file").expect("an older file");
    let run = env.run(&[
        "report",
        "--source",
        "cur",
        "--start",
        &start,
        "--end",
        &end,
        "-o",
        "focus",
        "--out",
        out.to_str().expect("path"),
    ]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("bucket") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&out).expect("the file"),
        "last month's file"
    );
    assert!(
        !env.dir_path()
            .join("bedrock-focus.parquet.partial")
            .exists()
    );
}
