//! `report --source cur --output html` end to end against moto: the bill split by request
//! metadata (issue 34: "The HTML page shows it as one more chart") drawn from the same fixtures
//! as `cur_allocate` and checked against the JSON report of the same run: each allocation row's
//! label and cents, the rows that are no value hatched, the bill's total; the page without
//! `--allocate` (rows by principal, the daily chart); and a hostile metadata value escaped.

use chrono::Duration;
use serde_json::Value;

use crate::cur::{ALICE, cur_report};
use crate::cur_allocate::{CONFIG, put_logs, record, seed};
use crate::support::env::TestEnv;

/// What minijinja's HTML auto-escape makes of a string.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

/// Dollars to the cent, as the allocation's rows are rounded.
fn cents(v: f64) -> String {
    let c = (v * 100.0).round() as i64;
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", c.abs() / 100, c.abs() % 100)
}

/// The part of `page` from `start` to the end of the element it opens (`until`).
fn part<'a>(page: &'a str, start: &str, until: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start} is on the page"));
    let rest = &page[from..];
    let to = rest.find(until).unwrap_or(rest.len());
    &rest[..to]
}

/// The page's allocation table and chart against the JSON's allocation: every row's label
/// with its cents, in the JSON's order; the rows that are no value hatched in the chart and
/// marked in the table; the bill's total, which the rows add up to.
fn assert_allocation_as_json(doc: &Value, page: &str) {
    let a = &doc["allocation"];
    let rows = a["rows"].as_array().expect("allocation rows");
    assert!(!rows.is_empty());
    let table = part(page, r#"data-table="allocation""#, "</table>");
    let trs: Vec<&str> = table.split("<tr").skip(2).collect();
    assert_eq!(
        trs.len(),
        rows.len() + 1,
        "a row each and the total: {table}"
    );
    for (row, tr) in rows.iter().zip(&trs) {
        let label = row["label"].as_str().expect("label");
        let cost = row["cost_usd"].as_f64().expect("cost");
        assert!(
            tr.contains(&format!(r#"<th scope="row">{}</th>"#, escape(label))),
            "{label}: {tr}"
        );
        assert!(
            tr.contains(&format!(r#"data-label="Cost (USD)">{}</td>"#, cents(cost))),
            "{label} {cost}: {tr}"
        );
        let value = row["kind"] == "value";
        assert_eq!(tr.starts_with(r#" class="unattributed""#), !value, "{tr}");
    }
    let total = a["total_cost_usd"].as_f64().expect("total");
    let last = trs.last().expect("total row");
    assert!(
        last.contains("Total (the bill)")
            && last.contains(&format!(">{}</td>", cents(total)))
            && last.contains("the rows add up to it"),
        "{last}"
    );
    let sum: i64 = rows
        .iter()
        .map(|r| (r["cost_usd"].as_f64().expect("cost") * 100.0).round() as i64)
        .sum();
    assert_eq!(sum, (total * 100.0).round() as i64);

    let chart = part(page, r#"data-chart="allocation""#, "</figure>");
    assert!(
        chart.contains(&format!(r#"data-bars="{}""#, rows.len())),
        "{chart}"
    );
    let bars: Vec<&str> = chart.split(r#"<li class="bar-row"#).skip(1).collect();
    assert_eq!(bars.len(), rows.len());
    for (row, bar) in rows.iter().zip(&bars) {
        let label = escape(row["label"].as_str().expect("label"));
        let hatched = row["kind"] != "value";
        assert!(bar.contains(&format!(">{label}")), "{label}: {bar}");
        assert!(
            bar.contains(&format!(
                r#"<span class="bar-value">{}</span>"#,
                cents(row["cost_usd"].as_f64().expect("cost"))
            )),
            "{bar}"
        );
        assert_eq!(bar.starts_with(r#" unattributed""#), hatched, "{bar}");
        assert_eq!(bar.contains("seg hatch"), hatched, "{bar}");
    }
}

#[test]
fn the_page_draws_the_allocation_as_the_json_gives_it() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    let (start, end) = seed(&env);
    let doc = cur_report(&env, start, end, &["--allocate", "meta:user", "-o", "json"]).json();
    let out = env.path("cur.html");
    let written = cur_report(
        &env,
        start,
        end,
        &[
            "--allocate",
            "meta:user",
            "-o",
            "html",
            "--out",
            out.to_str().expect("path"),
        ],
    );
    assert_eq!(written.stdout, "", "with --out nothing goes to stdout");
    let page = std::fs::read_to_string(&out).expect("the page was written");
    assert_allocation_as_json(&doc, &page);
    // The fixture's figures, worked out by hand in cur_allocate.
    for label in [
        "(no user)",
        "(not in the logs)",
        "(not token usage)",
        "(adjustments)",
    ] {
        assert!(page.contains(label), "{label}");
    }
    assert!(page.contains("The bill split by request metadata user"));
    assert!(page.contains(">$6.53</td>"));
    // The report's own rows and total are on the page as well.
    assert!(page.contains(r#"data-chart="cur""#) && page.contains(r#"data-table="cur-rows""#));
    assert!(page.contains("Gateway&#x2f;gw"), "the principal's row");
    assert!(!page.to_ascii_lowercase().contains("<script"));
}

#[test]
fn the_page_without_allocate_shows_the_rows_and_the_days() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    let (start, end) = seed(&env);
    let doc = cur_report(&env, start, end, &["--daily", "-o", "json"]).json();
    let page = cur_report(&env, start, end, &["--daily", "-o", "html"]).stdout;
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(!page.contains(r#"data-chart="allocation""#));
    let rows = doc["rows"].as_array().expect("rows");
    let table = part(&page, r#"data-table="cur-rows""#, "</table>");
    let trs: Vec<&str> = table.split("<tr").skip(2).collect();
    assert_eq!(trs.len(), rows.len() + 1, "a row each and the total");
    for (row, tr) in rows.iter().zip(&trs) {
        let label = match row["principal"].as_str() {
            Some(name) => name.to_string(),
            None if row["adjustments"] == true => "(adjustments)".into(),
            None => "(unattributed)".into(),
        };
        assert!(
            tr.contains(&format!(r#"<th scope="row">{}"#, escape(&label))),
            "{label}: {tr}"
        );
        let hatched = row["adjustments"] == true || row["unattributed"] == true;
        assert_eq!(tr.starts_with(r#" class="unattributed""#), hatched, "{tr}");
    }
    let chart = part(&page, r#"data-chart="cur""#, "</figure>");
    assert!(
        chart.contains(&format!(r#"data-bars="{}""#, rows.len())),
        "{chart}"
    );
    let days = doc["daily"].as_array().expect("daily");
    assert!(
        page.contains(&format!(r#"data-chart="daily" data-bars="{}""#, days.len())),
        "a column per day"
    );
    let net = doc["totals"]["cost_usd"].as_f64().expect("net");
    assert!(
        page.contains(&format!(">{}</div>", cents(net))),
        "the total"
    );
    assert!(page.contains(r#"<code>--output json</code>"#));
}

#[test]
fn a_hostile_metadata_value_is_escaped() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    let (start, end) = seed(&env);
    let hostile = r#"<script>alert("x")</script><img src=x onerror='y'>"#;
    let d2 = end - Duration::days(1);
    put_logs(&env, d2, "d", &[record(d2, ALICE, Some(hostile), 1_000, 0)]);
    let doc = cur_report(&env, start, end, &["--allocate", "meta:user", "-o", "json"]).json();
    assert!(
        doc["allocation"]["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r["label"] == hostile),
        "the value has a share of alice's day: {doc}"
    );
    let page = cur_report(&env, start, end, &["--allocate", "meta:user", "-o", "html"]).stdout;
    let lower = page.to_ascii_lowercase();
    assert!(
        !lower.contains("<script") && !lower.contains("<img"),
        "{page}"
    );
    assert!(page.contains(&escape(hostile)), "shown as text");
    assert_allocation_as_json(&doc, &page);
}
