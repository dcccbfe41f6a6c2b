//! `report --source cur`: the lines that are not usage (credits, refunds, discounts), through
//! both engines, and the Athena engine's tag keys.
//!
//! Line item types (CUR 2.0 "Line item columns", `line_item_line_item_type`): `Usage`,
//! `DiscountedUsage` and `SavingsPlanCoveredUsage` are usage; `Tax` is Cost Explorer's own
//! service; `Credit`, `Refund`, `SavingsPlanNegation`, `Discount` and the rest adjust the bill.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use super::cur::{
    ALICE, AthenaRunner, CHAT, HAIKU, assert_to_the_cent, athena_env, athena_row, cents,
    cur_report, export_env, periods, queue_athena, queue_bill,
};
use crate::support::cur::CurLine;

/// Usage by two principals, then a credit, a refund, a Savings Plans negation and a discount
/// (no principal on any of them), and tax.
fn billed_lines(first: NaiveDate) -> Vec<CurLine> {
    let mut out = Vec::new();
    for d in 0..3i64 {
        let day = first + Duration::days(d);
        let k = d as f64 + 1.0;
        let mut alice = CurLine::bedrock(day, "USE1-NovaLite-input-tokens", 1.234_567 * k);
        alice.principal = Some(ALICE.into());
        out.push(alice);
        let mut chat = CurLine::bedrock(day, "USE1-MP:USE1_OutputTokenCount-Units", 2.345_678 * k);
        chat.product_code = "prodview-claude3haiku".into();
        chat.product_name = HAIKU.into();
        chat.principal = Some(CHAT.into());
        out.push(chat);
        let mut tax = CurLine::bedrock(day, "USE1-NovaLite-input-tokens", 0.5);
        tax.line_item_type = "Tax".into();
        tax.bedrock = false;
        out.push(tax);
    }
    for (d, kind, cost, haiku) in [
        (0i64, "Credit", -1.5, false),
        (1, "Refund", -0.75, true),
        (1, "SavingsPlanNegation", -0.333_333, false),
        (2, "Discount", -0.25, true),
    ] {
        let usage_type = if haiku {
            "USE1-MP:USE1_OutputTokenCount-Units"
        } else {
            "USE1-NovaLite-input-tokens"
        };
        let mut l = CurLine::bedrock(first + Duration::days(d), usage_type, cost);
        if haiku {
            l.product_code = "prodview-claude3haiku".into();
            l.product_name = HAIKU.into();
        }
        l.line_item_type = kind.into();
        l.usage = 0.0;
        out.push(l);
    }
    out
}

/// The usage rows (the adjustments row has no key either) as (value of `field`, cost).
fn usage_rows(doc: &Value, field: &str) -> BTreeMap<Option<String>, f64> {
    doc["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["adjustments"] == false)
        .map(|r| {
            (
                r[field].as_str().map(str::to_string),
                r["cost_usd"].as_f64().expect("cost"),
            )
        })
        .collect()
}

fn is_usage(l: &CurLine) -> bool {
    l.line_item_type == "Usage"
}

/// Credits, refunds and discounts are one labelled row of their own, not negative unattributed
/// spend; shares are of gross usage; the net total is the sum of every line and Cost
/// Explorer's unblended cost.
#[test]
fn cur_credits_refunds_and_discounts_are_an_adjustments_row_and_the_net_total_is_the_bill() {
    let (_, p2) = periods();
    let lines = billed_lines(p2);
    let env = export_env(&lines);
    let (start, end) = (p2, p2 + Duration::days(3));
    let (s, e) = (start.to_string(), end.to_string());
    let doc = cur_report(&env, start, end, &["-o", "json"]).json();
    let gross: f64 = lines.iter().filter(|l| is_usage(l)).map(|l| l.cost).sum();
    let net: f64 = lines
        .iter()
        .filter(|l| l.line_item_type != "Tax")
        .map(|l| l.cost)
        .sum();
    let adjustments: f64 = net - gross;
    assert_adjustments(&doc, &lines, gross, net, adjustments);
    // Per principal: the usage only, each principal's share of the gross usage.
    let mut per_principal: BTreeMap<Option<String>, f64> = BTreeMap::new();
    for l in lines.iter().filter(|l| is_usage(l)) {
        *per_principal.entry(l.principal.clone()).or_insert(0.0) += l.cost;
    }
    assert_to_the_cent(&usage_rows(&doc, "principal_arn"), &per_principal);
    for r in doc["rows"].as_array().expect("rows") {
        if r["adjustments"] == true {
            continue;
        }
        let share = r["share_percent"].as_f64().expect("share");
        let cost = r["cost_usd"].as_f64().expect("cost");
        assert!(
            (share - cost / gross * 100.0).abs() < 0.01,
            "{share} vs {cost}/{gross}"
        );
    }

    // Text: the row labelled, both totals stated.
    let out = &cur_report(&env, start, end, &[]).stdout;
    assert!(!out.contains("(unattributed)"), "{out}");
    assert!(out.contains("(adjustments)"), "{out}");
    assert!(
        out.contains(&format!("Gross usage: ${:.2}", gross))
            && out.contains(&format!("net total: ${:.2}", net)),
        "{out}"
    );
    assert!(out.contains("Credit") && out.contains("Refund"), "{out}");

    // The net total is Cost Explorer's unblended cost for the same days.
    queue_bill(&env, &lines, start, end);
    let run = env.run(&[
        "report",
        "--compare",
        "--start",
        &s,
        "--end",
        &e,
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    let billed = doc["totals"]["billed_cost_usd"].as_f64().expect("billed");
    assert_eq!(
        cents(billed),
        cents(net),
        "Cost Explorer {billed} vs lines {net}"
    );
    assert_eq!(
        cents(doc["cur"]["totals"]["cost_usd"].as_f64().expect("cur")),
        cents(billed)
    );
}

/// The adjustments row and the totals, as both engines report them.
#[track_caller]
fn assert_adjustments(doc: &Value, lines: &[CurLine], gross: f64, net: f64, adjustments: f64) {
    let totals = &doc["totals"];
    assert_eq!(
        cents(totals["cost_usd"].as_f64().expect("net")),
        cents(net),
        "{totals}"
    );
    assert_eq!(
        cents(totals["gross_usage_cost_usd"].as_f64().expect("gross")),
        cents(gross),
        "{totals}"
    );
    assert_eq!(
        cents(totals["adjustments_cost_usd"].as_f64().expect("adj")),
        cents(adjustments),
        "{totals}"
    );
    assert_eq!(totals["unattributed_cost_usd"], 0.0, "{totals}");
    let all = doc["rows"].as_array().expect("rows");
    let adjusted: Vec<&Value> = all.iter().filter(|r| r["adjustments"] == true).collect();
    assert_eq!(adjusted.len(), 1, "{all:?}");
    let row = adjusted[0];
    assert_eq!(
        cents(row["cost_usd"].as_f64().expect("c")),
        cents(adjustments)
    );
    assert_eq!(row["unattributed"], false);
    assert!(row["share_percent"].is_null(), "{row}");
    let mut by_type: BTreeMap<String, f64> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l.line_item_type != "Tax" && l.line_item_type != "Usage")
    {
        *by_type.entry(l.line_item_type.clone()).or_insert(0.0) += l.cost;
    }
    let got: BTreeMap<String, i64> = row["line_item_types"]
        .as_object()
        .expect("types")
        .iter()
        .map(|(k, v)| (k.clone(), cents(v.as_f64().expect("v"))))
        .collect();
    let want: BTreeMap<String, i64> = by_type
        .iter()
        .map(|(k, v)| (k.clone(), cents(*v)))
        .collect();
    assert_eq!(got, want);
    let sum: f64 = all.iter().map(|r| r["cost_usd"].as_f64().expect("c")).sum();
    assert_eq!(cents(sum), cents(net), "the rows add up to the net total");
}

/// The same through Athena: the query returns the tag maps (narrowed) and the line item type,
/// the tool picks the key and sorts usage from adjustments as the embedded engine does.
#[test]
fn cur_through_athena_finds_tag_keys_in_every_form_and_keeps_adjustments_apart() {
    let env = athena_env();
    let header = athena_row(&[
        Some("d0"),
        Some("r0"),
        Some("tags_keys"),
        Some("resource_tags_keys"),
        Some("line_item_type"),
        Some("product_code"),
        Some("product_name"),
        Some("usage_type"),
        Some("cost"),
        Some("usage"),
        Some("line_items"),
    ]);
    let bedrock = |tags: Option<&str>,
                   resource: Option<&str>,
                   keys: &str,
                   resource_keys: &str,
                   kind: &str,
                   cost: &str| {
        athena_row(&[
            tags,
            resource,
            Some(keys),
            Some(resource_keys),
            Some(kind),
            Some("AmazonBedrock"),
            Some("Amazon Bedrock"),
            Some("USE1-NovaLite-input-tokens"),
            Some(cost),
            Some("10.0"),
            Some("3"),
        ])
    };
    let first_page = vec![
        header,
        bedrock(
            Some(r#"{"resourceTags/user:cost-center":"cc-100"}"#),
            Some(r#"{"user_cost_center":"cc-100"}"#),
            r#"["iamPrincipal/team","resourceTags/user:cost-center"]"#,
            r#"["user_cost_center"]"#,
            "Usage",
            "1.25",
        ),
        bedrock(
            Some("{}"),
            Some(r#"{"user_cost_center":"cc-300"}"#),
            "[]",
            r#"["user_cost_center"]"#,
            "Usage",
            "2.5",
        ),
        bedrock(
            Some(r#"{"accountTag/CostCenter":"cc-500"}"#),
            None,
            r#"["accountTag/CostCenter"]"#,
            "[]",
            "Usage",
            "0.75",
        ),
        bedrock(None, None, "[]", "[]", "Usage", "0.5"),
        bedrock(None, None, "[]", "[]", "Credit", "-1.0"),
        bedrock(None, None, "[]", "[]", "Refund", "-0.25"),
    ];
    let runner = Arc::new(AthenaRunner::new(0, "SUCCEEDED", "", first_page));
    env.proxy.add_rule(runner.clone());
    let (_, p2) = periods();
    let (s, e) = (p2.to_string(), (p2 + Duration::days(3)).to_string());
    let report = |by: &str| {
        queue_athena(&env, json!([{"rows": [], "column_info": []}]));
        let run = env.run(&[
            "report", "--source", "cur", "--start", &s, "--end", &e, "--by", by, "-o", "json",
        ]);
        run.assert_code(0);
        run.json()
    };

    let doc = report("tag:cost-center");
    assert_eq!(doc["engine"], "athena");
    let want: BTreeMap<Option<String>, f64> = [
        (Some("cc-100".to_string()), 1.25),
        (Some("cc-300".to_string()), 2.5),
        (Some("cc-500".to_string()), 0.75),
        (None, 0.5),
    ]
    .into_iter()
    .collect();
    assert_to_the_cent(&usage_rows(&doc, "tag:cost-center"), &want);
    assert_eq!(doc["tag_keys"][0]["found"], true);
    assert_eq!(
        cents(doc["totals"]["unattributed_cost_usd"].as_f64().expect("u")),
        50
    );
    let totals = &doc["totals"];
    assert_eq!(
        cents(totals["gross_usage_cost_usd"].as_f64().expect("g")),
        500
    );
    assert_eq!(
        cents(totals["adjustments_cost_usd"].as_f64().expect("a")),
        -125
    );
    assert_eq!(cents(totals["cost_usd"].as_f64().expect("n")), 375);
    let adjusted = doc["rows"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["adjustments"] == true))
        .expect("adjustments row");
    assert_eq!(
        adjusted["line_item_types"],
        json!({"Credit": -1.0, "Refund": -0.25})
    );

    // The query narrows the maps to keys that can be the one asked and groups by the type.
    let sent: Vec<Value> = runner.sent.lock().map(|s| s.clone()).unwrap_or_default();
    let sql = sent[0]["QueryString"].as_str().expect("sql");
    assert!(sql.contains("map_filter(tags"), "{sql}");
    assert!(sql.contains("map_filter(resource_tags"), "{sql}");
    assert!(sql.contains("LIKE '%costcenter'"), "{sql}");
    assert!(
        sql.contains("line_item_line_item_type AS line_item_type"),
        "{sql}"
    );

    // A key found nowhere: the keys the rows carry are listed.
    let doc = report("tag:owner");
    let owner = &doc["tag_keys"][0];
    assert_eq!(owner["found"], false, "{owner}");
    assert_eq!(
        owner["seen"],
        json!([
            "tags['accountTag/CostCenter']",
            "tags['iamPrincipal/team']",
            "tags['resourceTags/user:cost-center']",
            "resource_tags['user_cost_center']",
        ])
    );
    assert_eq!(doc["totals"]["unattributed_cost_usd"], 0.0);
}
