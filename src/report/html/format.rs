//! How the page shows things: every number through one formatter, labels, dates, and the
//! small readers of the report's JSON the view and the charts share.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::super::render::{count, usd};

/// A number as the page shows it, chosen by the field's name: `*_usd` as dollars, `*_percent`
/// with one decimal, `*_ms` in milliseconds, `hours`, `*_seconds`, counts with thousands
/// separators. `signed` (differences) puts `+` before positive values. Text is shown as it is,
/// `null` as "n/a" ("unpriced" for a cost).
pub fn format_field(key: &str, value: &Value, signed: bool) -> String {
    match value {
        // A day or model row without an estimate: the bill only, or no price.
        Value::Null if key == "estimated_cost_usd" => "no estimate".into(),
        Value::Null if key.ends_with("cost_usd") => "unpriced".into(),
        Value::Null => "n/a".into(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            let v = n.as_f64().unwrap_or(0.0);
            let plus = if signed && v > 0.0 { "+" } else { "" };
            if key.ends_with("_usd") {
                format!("{plus}{}", usd(v))
            } else if key.ends_with("_percent") {
                format!("{plus}{v:.1} %")
            } else if key.ends_with("_ms") {
                format!("{} ms", grouped(v.round()))
            } else if key == "hours" {
                if v.fract() == 0.0 {
                    format!("{v:.0} h")
                } else {
                    format!("{v:.2} h")
                }
            } else if key.ends_with("_seconds") {
                format!("{} s", grouped(v))
            } else {
                format!("{plus}{}", grouped(v))
            }
        }
        Value::Array(items) => items
            .iter()
            .map(|i| format_field(key, i, signed))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => value.to_string(),
    }
}

/// Thousands separators; two decimals when the value has a fraction.
pub(super) fn grouped(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    let a = v.abs();
    if a.fract() == 0.0 && a < 1e18 {
        format!("{sign}{}", count(a as u64))
    } else {
        let cents = (a * 100.0).round();
        let whole = (cents / 100.0).trunc();
        format!(
            "{sign}{}.{:02}",
            count(whole as u64),
            (cents - whole * 100.0) as u64
        )
    }
}

/// Dollars to the cent, always two decimals: the allocation's rows, which are rounded to the
/// cent so that they add up to the bill (`usd` shows four decimals under a dollar).
pub(super) fn cents(v: f64) -> String {
    let c = (v * 100.0).round();
    let sign = if c < 0.0 { "-" } else { "" };
    let c = c.abs() as u64;
    format!("{sign}${}.{:02}", count(c / 100), c % 100)
}

/// A field name as a column heading: `cache_read_input_tokens` → "Cache read input tokens",
/// `cost_usd` → "Cost (USD)".
pub fn label(key: &str) -> String {
    let known = match key {
        "cost_usd" => Some("Cost (USD)"),
        "estimated_cost_usd" => Some("Estimate (USD)"),
        "billed_cost_usd" => Some("Billed (USD)"),
        "avg_latency_ms" => Some("Avg latency"),
        "p99_latency_ms" => Some("p99 latency"),
        "monthly_cost_usd" => Some("Monthly cost (USD)"),
        _ => None,
    };
    if let Some(known) = known {
        return known.to_string();
    }
    let mut text = key.to_string();
    for (suffix, unit) in [("_usd", " (USD)"), ("_ms", " (ms)"), ("_percent", " (%)")] {
        if let Some(stem) = key.strip_suffix(suffix) {
            text = format!("{stem}{unit}");
            break;
        }
    }
    let text = text.replace('_', " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// An RFC 3339 time as "2026-11-01 00:00 UTC"; anything else as it is.
pub(super) fn when(value: &str) -> String {
    DateTime::parse_from_rfc3339(value)
        .map(|t| {
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| value.to_string())
}

pub(super) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(super) fn f64_at(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

pub(super) fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

pub(super) fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// How a model row is named: an application inference profile by its name.
pub(super) fn model_label(models: &[Value], model_id: &str) -> String {
    models
        .iter()
        .find(|m| str_at(m, "model_id") == Some(model_id))
        .and_then(|m| m.get("profile"))
        .and_then(|p| str_at(p, "name"))
        .map(|name| format!("{name} (profile)"))
        .unwrap_or_else(|| model_id.to_string())
}

/// Every number in `value` with the key it is shown under and whether it is a difference
/// (shown signed): what the page must show, for the tests.
pub fn numbers(value: &Value) -> Vec<(String, Value, bool)> {
    fn walk(key: &str, value: &Value, signed: bool, out: &mut Vec<(String, Value, bool)>) {
        match value {
            Value::Number(_) => out.push((key.to_string(), value.clone(), signed)),
            Value::Array(items) => {
                for item in items {
                    walk(key, item, signed, out);
                }
            }
            Value::Object(map) => {
                let signed = signed || key == "differences" || key == "difference";
                for (k, v) in map {
                    walk(k, v, signed, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", value, false, &mut out);
    out
}
