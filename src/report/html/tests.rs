use serde_json::json;

use super::*;

fn page() -> Page<'static> {
    Page {
        stack: "bedrock-monitor",
        generated_at: DateTime::parse_from_rfc3339("2026-11-08T09:30:00Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time"),
    }
}

fn empty_report() -> Value {
    serde_json::to_value(crate::report::Report::empty_for_tests()).expect("json")
}

#[test]
fn an_empty_report_renders() {
    let html = render(&empty_report(), &page()).expect("renders");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Bedrock usage and cost: bedrock-monitor"));
    assert!(html.contains("2026-11-08 09:30 UTC"));
}

#[test]
fn numbers_are_formatted_for_people_by_their_field() {
    let f = |key: &str, v: Value| format_field(key, &v, false);
    assert_eq!(f("input_tokens", json!(1234567)), "1,234,567");
    assert_eq!(f("cost_usd", json!(1234.5)), "$1,234.50");
    assert_eq!(f("cost_usd", json!(0.070158)), "$0.0702");
    assert_eq!(f("cost_usd", Value::Null), "unpriced");
    assert_eq!(f("estimated_cost_usd", Value::Null), "no estimate");
    assert_eq!(f("avg_latency_ms", json!(812.4)), "812 ms");
    assert_eq!(f("p99_latency_ms", Value::Null), "n/a");
    assert_eq!(f("hours", json!(168.0)), "168 h");
    assert_eq!(f("hours", json!(1.5)), "1.50 h");
    assert_eq!(f("period_seconds", json!(3600)), "3,600 s");
    assert_eq!(f("ratio", json!(1234.567)), "1,234.57");
    assert_eq!(f("flagged", json!(true)), "yes");
    // Differences are signed.
    assert_eq!(format_field("invocations", &json!(62), true), "+62");
    assert_eq!(format_field("invocations", &json!(-62), true), "-62");
    assert_eq!(format_field("cost_usd", &json!(-0.03), true), "-$0.0300");
    assert_eq!(format_field("cost_usd", &json!(1.2), true), "+$1.20");
    assert_eq!(format_field("cost_percent", &json!(-33.3), true), "-33.3 %");
    assert_eq!(label("cache_read_input_tokens"), "Cache read input tokens");
    assert_eq!(label("input_cost_usd"), "Input cost (USD)");
}

/// Fields another change adds to the report reach the page without a change here: a token
/// type and a cost on the model rows become columns, a new top-level section is listed under
/// "Other figures", and a new total is in the totals table.
#[test]
fn new_fields_flow_through() {
    let mut doc = empty_report();
    doc["models"] = json!([{
        "model_id": "anthropic.claude-sonnet-4-20250514-v1:0",
        "invocations": 3, "input_tokens": 10, "output_tokens": 20, "cost_usd": 0.5,
        "cache_write_1h_input_tokens": 777_001, "cache_write_cost_usd": 4.25,
        "future_nested": {"depth": 31337},
    }]);
    doc["totals"]["cache_write_1h_input_tokens"] = json!(777_001);
    doc["cur"] = json!({"rows_read": 4_242_424, "files": ["a.parquet"]});
    let html = render(&doc, &page()).expect("renders");
    for shown in [
        "Cache write 1h input tokens",
        "777,001",
        "Cache write cost (USD)",
        "$4.25",
        "Cur › Rows read",
        "4,242,424",
        "a.parquet",
        "31,337",
    ] {
        assert!(html.contains(shown), "{shown} not on the page");
    }
}

#[test]
fn values_are_escaped_not_markup() {
    let mut doc = empty_report();
    doc["models"] = json!([{
        "model_id": "<script>alert(1)</script>", "invocations": 1, "input_tokens": 1,
        "output_tokens": 1, "cost_usd": null,
    }]);
    doc["notes"] = json!(["a <b>note</b> & more"]);
    let html = render(&doc, &page()).expect("renders");
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("<b>note</b>"));
}

/// WCAG 2.x relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = u8::from_str_radix(&hex[i..i + 2], 16).expect("hex colour") as f64 / 255.0;
        if v <= 0.03928 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// WCAG AA in both schemes: text 4.5:1 on every background it is put on (page, cards,
/// flagged rows, the badge), chart marks 3:1 against the page (non-text contrast, 1.4.11).
#[test]
fn colours_pass_wcag_aa_in_light_and_dark() {
    for (name, t) in [("light", LIGHT), ("dark", DARK)] {
        for (what, fg, bg, min) in [
            ("text", t.fg, t.bg, 4.5),
            ("text on cards", t.fg, t.surface, 4.5),
            ("muted text", t.muted, t.bg, 4.5),
            ("muted text on cards", t.muted, t.surface, 4.5),
            ("text on flagged rows", t.fg, t.flagged_bg, 4.5),
            ("muted text on flagged rows", t.muted, t.flagged_bg, 4.5),
            ("links", t.accent, t.bg, 4.5),
            ("badge", t.badge_fg, t.badge_bg, 4.5),
            ("hatching", t.muted, t.bg, 3.0),
            ("billed marker", t.fg, t.bg, 3.0),
        ] {
            let ratio = contrast(fg, bg);
            assert!(ratio >= min, "{name}: {what} {fg} on {bg} is {ratio:.2}:1");
        }
        for (i, c) in t.series.iter().enumerate() {
            let ratio = contrast(c, t.bg);
            assert!(ratio >= 3.0, "{name}: series {i} {c} is {ratio:.2}:1");
        }
    }
}
