//! `report --source cur --output focus` (issue 34): the CUR fixtures of `cur.rs` (plus a
//! credit and a refund) written as FOCUS 1.2 rows, checked by the FinOps Foundation's
//! `focus-validator` (installed by `scripts/test`, see `scripts/focus-env`; a missing validator
//! fails the test) and, for what that validator does not know, column by column here.
//!
//! The validator that installs on Python 3.11 is 1.0.0, which validates FOCUS 1.0 and spells
//! four columns by their pre-1.0 names (`InvoiceIssuer`, `Provider`, `Publisher`, `ResourceID`;
//! FOCUS 1.0 and 1.2 name them `InvoiceIssuerName`, `ProviderName`, `PublisherName`,
//! `ResourceId`). The output follows the specification; those four rules are overridden and
//! the four columns are checked here instead, with every column FOCUS 1.1 and 1.2 added.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use chrono::Duration;
use serde_json::Value;

use crate::cur::{cur_report, export_env, lines, periods};
use crate::support::cur::CurLine;

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
            cache.join("bedrock-monitor/focus-validator-1.0.0/bin/focus-validator")
        });
    assert!(
        path.is_file(),
        "focus-validator is not installed at {}: run scripts/test (it installs it), or \
         `. scripts/focus-env && ensure_focus_validator`",
        path.display()
    );
    path
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
    let lines = lines_with_adjustments();
    let env = export_env(&lines);
    let (_, p2) = periods();
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let out = env.dir.path().join("bedrock-focus.csv");
    let out_arg = out.to_string_lossy().to_string();
    cur_report(&env, start, end, &["-o", "focus", "--out", &out_arg]);
    let text = std::fs::read_to_string(&out).expect("the FOCUS file");

    // The validator, at FOCUS 1.0 (the newest it knows), with the renamed rules overridden.
    let overrides = env.dir.path().join("overrides.yaml");
    let list: String = RENAMED_RULES.iter().map(|r| format!("  - {r}\n")).collect();
    std::fs::write(&overrides, format!("overrides:\n{list}")).expect("overrides");
    let junit = env.dir.path().join("focus-validator.xml");
    // It reads its currency list from `focus_validator/utils/currency_codes.csv`, relative
    // to where it runs: its site-packages.
    let site = validator
        .parent()
        .and_then(|bin| bin.parent())
        .map(|venv| venv.join("lib"))
        .and_then(|lib| std::fs::read_dir(lib).ok())
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path().join("site-packages"))))
        .expect("the validator's site-packages");
    let ran = Command::new(&validator)
        .current_dir(&site)
        .arg("--data-file")
        .arg(&out)
        .args(["--validate-version", "1.0", "--output-type", "unittest"])
        .arg("--override-file")
        .arg(&overrides)
        .arg("--output-destination")
        .arg(&junit)
        .output()
        .expect("focus-validator runs");
    assert!(
        ran.status.success(),
        "focus-validator failed to run:\n{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let report = std::fs::read_to_string(&junit).expect("the validator's report");
    let tests = report.matches("<testcase").count();
    assert!(
        tests > 100,
        "the validator ran its rules ({tests}):\n{report}"
    );
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
    let failed: Vec<&str> = report
        .split("<testcase")
        .filter(|case| case.contains("<failure") || case.contains("<error"))
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
    let want: Vec<String> = bedrock_monitor::report::cur::focus::COLUMNS
        .iter()
        .map(|c| c.name.to_string())
        .collect();
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
    let doc = cur_report(&env, start, end, &["-o", "json"]).json();
    let mut by_report: BTreeMap<String, f64> = BTreeMap::new();
    for r in doc["rows"].as_array().expect("rows") {
        if r["adjustments"] == true {
            continue;
        }
        let who = r["principal_arn"].as_str().unwrap_or("").to_string();
        *by_report.entry(who).or_default() += r["cost_usd"].as_f64().expect("cost");
    }
    let mut by_focus: BTreeMap<String, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r["ChargeCategory"] == "Usage") {
        *by_focus.entry(r["x_IamPrincipal"].clone()).or_default() +=
            r["BilledCost"].parse::<f64>().expect("cost");
    }
    let cents = |m: &BTreeMap<String, f64>| -> BTreeMap<String, i64> {
        m.iter()
            .map(|(k, v)| (k.clone(), (v * 100.0).round() as i64))
            .collect()
    };
    assert_eq!(cents(&by_focus), cents(&by_report));
    let total: f64 = rows
        .iter()
        .map(|r| r["BilledCost"].parse::<f64>().expect("cost"))
        .sum();
    let net = doc["totals"]["cost_usd"].as_f64().expect("net");
    assert_eq!(
        (total * 100.0).round(),
        (net * 100.0).round(),
        "FOCUS rows add up to the bill"
    );
}

#[test]
fn focus_is_refused_where_it_does_not_apply() {
    let env = crate::support::env::TestEnv::new();
    env.write_config("[cur_export]\n");
    let run = env.run(&["report", "-o", "focus"]);
    run.assert_code(3);
    assert!(run.stderr.contains("--source cur"), "{}", run.stderr);
    let run = env.run(&["status", "-o", "focus"]);
    run.assert_code(3);
    let run = env.run(&[
        "report",
        "--source",
        "cur",
        "-o",
        "focus",
        "--out",
        "x.parquet",
    ]);
    run.assert_code(3);
}
