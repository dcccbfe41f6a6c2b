//! `report --output html`: one self-contained page (inline CSS and SVG, no script, nothing
//! fetched when it is opened) for people who do not read terminal tables.
//!
//! The page is rendered from the JSON value that `--output json` prints (one report, or the
//! summary over `[targets]`), so it shows the same figures and new fields reach it without a
//! change here: the per-model, per-day and per-principal tables take their columns from the
//! rows' own keys, totals and projections list every key, and a top-level field the template
//! does not know is listed under "Other figures". What Rust adds is presentation only: chart
//! geometry ([`super::chart`]), the order of columns, and numbers formatted for people
//! ([`format_field`], the one formatter every number on the page goes through).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::Value;

use super::chart;
use super::render::{count, usd};

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../templates/report.html.j2");

/// How many bars a group chart draws at most; the rest are in the table under it.
pub const MAX_BARS: usize = 30;
/// How many models get a colour of their own in the daily chart; the others share one.
pub const DAILY_SERIES: usize = 7;

/// What the page says besides the report: the stack (a single report's JSON does not name it)
/// and when it was made.
pub struct Page<'a> {
    pub stack: &'a str,
    pub generated_at: DateTime<Utc>,
}

/// The template failed: a bug in the tool, not in the user's input.
#[derive(Debug, thiserror::Error)]
#[error("internal error rendering the HTML report: {0}")]
pub struct HtmlError(String);

/// The page for `doc`, the value `--output json` prints.
pub fn render(doc: &Value, page: &Page) -> Result<String, HtmlError> {
    let view = view(doc, page);
    let mut env = Environment::new();
    // A misspelt field is an error, not an empty cell; an absent optional field may still be
    // tested with `if`.
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_filter("fmt", |value: minijinja::Value, key: String| {
        format_field(&key, &to_json(&value), false)
    });
    env.add_filter("signed", |value: minijinja::Value, key: String| {
        format_field(&key, &to_json(&value), true)
    });
    env.add_filter("label", |key: String| label(&key));
    env.add_filter("when", |value: String| when(&value));
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .map_err(|e| HtmlError(e.to_string()))?;
    let template = env
        .get_template(TEMPLATE_NAME)
        .map_err(|e| HtmlError(e.to_string()))?;
    template
        .render(minijinja::value::Serde(&view))
        .map_err(|e| HtmlError(format!("{e:#}")))
}

fn to_json(value: &minijinja::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

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
fn grouped(v: f64) -> String {
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
fn when(value: &str) -> String {
    DateTime::parse_from_rfc3339(value)
        .map(|t| {
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| value.to_string())
}

/// The colours of the page, light and dark (`prefers-color-scheme`), checked for WCAG AA
/// contrast by a unit test: text 4.5:1 on its backgrounds, chart marks 3:1 on the page.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Theme {
    pub bg: &'static str,
    pub surface: &'static str,
    pub fg: &'static str,
    pub muted: &'static str,
    pub border: &'static str,
    pub accent: &'static str,
    pub flagged_bg: &'static str,
    pub badge_bg: &'static str,
    pub badge_fg: &'static str,
    /// The chart series, in order; the last is "other models".
    pub series: [&'static str; 8],
}

pub const LIGHT: Theme = Theme {
    bg: "#ffffff",
    surface: "#f3f4f6",
    fg: "#1b1d21",
    muted: "#4f5661",
    border: "#c3c8cf",
    accent: "#1a56b0",
    flagged_bg: "#fdecc8",
    badge_bg: "#8f3a0c",
    badge_fg: "#ffffff",
    series: [
        "#1f5fbf", "#c2540a", "#1d7a46", "#8a3fb5", "#b3245a", "#0f7483", "#6b6500", "#5f6670",
    ],
};

pub const DARK: Theme = Theme {
    bg: "#14161a",
    surface: "#1f2228",
    fg: "#e8eaed",
    muted: "#aab1bb",
    border: "#454b54",
    accent: "#8ab8ff",
    flagged_bg: "#47320a",
    badge_bg: "#fdba74",
    badge_fg: "#1b1d21",
    series: [
        "#7fb0ff", "#ff9f5a", "#5fd09a", "#c9a0ff", "#ff86b0", "#52cfe0", "#d8d35a", "#b5bcc6",
    ],
};

#[derive(Serialize)]
struct View {
    title: String,
    stack: String,
    generated_at: String,
    version: &'static str,
    light: Theme,
    dark: Theme,
    fleet: Option<Fleet>,
    sections: Vec<Section>,
}

/// The overview of a run over `[targets]`.
#[derive(Serialize)]
struct Fleet {
    targets: Vec<Value>,
    totals: Option<Value>,
    skipped: Value,
    interrupted: bool,
    chart: Option<BarChart>,
    extra: Vec<Field>,
}

/// One report: the whole page for one target, a section per target over many.
#[derive(Serialize)]
struct Section {
    id: String,
    heading: Option<String>,
    error: Option<String>,
    r: Value,
    daily: Option<DailyChart>,
    charts: Vec<BarChart>,
    model_columns: Vec<Col>,
    principal_columns: Vec<Col>,
    billed_columns: Vec<Col>,
    day_columns: Vec<Col>,
    day_model_columns: Vec<Col>,
    check_columns: Vec<Col>,
    /// How each model ID is shown: an application inference profile by its name.
    model_labels: std::collections::BTreeMap<String, String>,
    /// Whether the report read metrics, logs, billing (for the comparison table's columns).
    metrics: bool,
    logs: bool,
    billing: bool,
    extra: Vec<Field>,
}

#[derive(Serialize)]
struct Col {
    key: String,
    label: String,
    /// Numbers (right-aligned, kept on one line), or text.
    num: bool,
}

/// A figure the template does not know, flattened: where it is and its formatted value.
#[derive(Serialize)]
struct Field {
    label: String,
    text: String,
}

#[derive(Serialize)]
struct LegendItem {
    class: String,
    label: String,
}

/// A horizontal bar chart: one row per bar, each bar a small SVG of its segments.
#[derive(Serialize)]
struct BarChart {
    id: &'static str,
    title: String,
    caption: String,
    legend: Vec<LegendItem>,
    rows: Vec<BarRow>,
    /// Rows left out of the chart (they are in the table).
    more: usize,
}

#[derive(Serialize)]
struct BarRow {
    /// A heading above this row (a principal above its models), and its full name.
    group: Option<String>,
    group_full: Option<String>,
    label: String,
    /// The full name when the label is shortened.
    full: Option<String>,
    value: String,
    /// Spend not attributed to a group member (untagged, not through a profile…).
    hatched: bool,
    alt: String,
    segments: Vec<Segment>,
}

#[derive(Serialize)]
struct Segment {
    x: f64,
    width: f64,
    class: String,
    title: String,
}

/// The stacked daily chart: a column per day, a segment per model.
#[derive(Serialize)]
struct DailyChart {
    caption: String,
    /// What the top of the chart stands for (the largest day's figure) and which day it is.
    top: String,
    first: String,
    last: String,
    legend: Vec<LegendItem>,
    columns: Vec<DayColumn>,
    marker: bool,
    height: f64,
    width: f64,
}

#[derive(Serialize)]
struct DayColumn {
    date: String,
    alt: String,
    x: f64,
    x_end: f64,
    width: f64,
    segments: Vec<ColumnSegment>,
    marker_y: Option<f64>,
}

#[derive(Serialize)]
struct ColumnSegment {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    class: String,
    title: String,
}

/// The top-level fields of a report the template shows; others go to "Other figures".
const REPORT_KEYS: &[&str] = &[
    "window",
    "region",
    "prices_as_of",
    "prices_region",
    "prices",
    "totals",
    "models",
    "projection",
    "principals",
    "principals_check",
    "source",
    "billing",
    "ce_requests",
    "billing_complete",
    "unmapped_usage_types",
    "daily",
    "notes",
    // A target's entry over [targets].
    "account",
    "error",
    "exit_code",
];
const FLEET_KEYS: &[&str] = &[
    "stack",
    "command",
    "targets",
    "skipped",
    "interrupted",
    "totals",
];
const WINDOW_KEYS: &[&str] = &["start", "end", "hours", "period_seconds"];
const BILLING_KEYS: &[&str] = &[
    "start",
    "end",
    "models",
    "services",
    "days",
    "total_cost_usd",
    "requests",
    "by_tag",
    "projection",
];
/// Model-row fields shown elsewhere than in the per-model table's columns.
const MODEL_ROW_OBJECTS: &[&str] = &["model_id", "profile", "billed", "logs", "differences"];
/// Known columns first, in this order; other keys follow.
const MODEL_COLUMNS: &[&str] = &[
    "invocations",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
    "cost_usd",
    "price_key",
    "price_source",
    "avg_latency_ms",
    "p99_latency_ms",
    "client_errors",
    "server_errors",
    "throttles",
];

fn view(doc: &Value, page: &Page) -> View {
    let generated_at = page.generated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let (stack, fleet, sections) = match doc.get("targets").and_then(Value::as_array) {
        Some(targets) => {
            let stack = str_at(doc, "stack").unwrap_or(page.stack).to_string();
            let sections: Vec<Section> = targets
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let heading = format!(
                        "{}/{}",
                        str_at(t, "account").unwrap_or("?"),
                        str_at(t, "region").unwrap_or("?")
                    );
                    section(t, format!("target-{}", i + 1), Some(heading))
                })
                .collect();
            let fleet = Fleet {
                targets: targets.clone(),
                totals: doc.get("totals").cloned(),
                skipped: doc.get("skipped").cloned().unwrap_or(Value::Array(vec![])),
                interrupted: doc
                    .get("interrupted")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                chart: accounts_chart(targets),
                extra: leftovers(doc, FLEET_KEYS, ""),
            };
            (stack, Some(fleet), sections)
        }
        None => (
            page.stack.to_string(),
            None,
            vec![section(doc, "report".into(), None)],
        ),
    };
    let window = sections
        .iter()
        .find_map(|s| s.r.get("window"))
        .map(|w| {
            format!(
                "{} to {}",
                when(str_at(w, "start").unwrap_or("")),
                when(str_at(w, "end").unwrap_or(""))
            )
        })
        .unwrap_or_default();
    View {
        title: format!("Bedrock usage and cost: {stack}, {window}"),
        stack,
        generated_at,
        version: env!("CARGO_PKG_VERSION"),
        light: LIGHT,
        dark: DARK,
        fleet,
        sections,
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn f64_at(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn array_at<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn section(r: &Value, id: String, heading: Option<String>) -> Section {
    let sources: Vec<&str> = array_at(r, "source")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let models = array_at(r, "models");
    let billing = r.get("billing").cloned().unwrap_or(Value::Null);
    let days = array_at(r, "daily");
    let day_models: Vec<&Value> = days.iter().flat_map(|d| array_at(d, "models")).collect();
    let mut extra = leftovers(r, REPORT_KEYS, "");
    if let Some(w) = r.get("window") {
        extra.extend(leftovers(w, WINDOW_KEYS, "Window"));
    }
    if billing.is_object() {
        extra.extend(leftovers(&billing, BILLING_KEYS, "Billing"));
    }
    for m in models {
        let name = str_at(m, "model_id").unwrap_or("?");
        for (key, value) in m.as_object().into_iter().flatten() {
            if !MODEL_ROW_OBJECTS.contains(&key.as_str()) && !is_scalar(value) {
                flatten(
                    &format!("Models › {name} › {}", label(key)),
                    key,
                    value,
                    &mut extra,
                );
            }
        }
    }
    let mut charts = Vec::new();
    charts.extend(profiles_chart(r));
    if charts.is_empty() && sources.contains(&"metrics") {
        charts.extend(models_chart(r));
    }
    charts.extend(principals_chart(r));
    charts.extend(tags_chart(r));
    if billing.get("by_tag").is_none() {
        charts.extend(billed_chart(r));
    }
    Section {
        id,
        heading,
        error: str_at(r, "error").map(str::to_string),
        daily: daily_chart(r),
        charts,
        model_columns: columns(models.iter(), MODEL_ROW_OBJECTS, MODEL_COLUMNS),
        principal_columns: columns(
            array_at(r, "principals").iter(),
            &["principal", "model_id"],
            &[
                "invocations",
                "input_tokens",
                "output_tokens",
                "uncounted_records",
                "cost_usd",
                "price_key",
            ],
        ),
        billed_columns: columns(
            array_at(&billing, "models").iter(),
            &["model"],
            &[
                "input_cost_usd",
                "output_cost_usd",
                "cache_cost_usd",
                "other_cost_usd",
                "cost_usd",
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
            ],
        ),
        day_columns: columns(
            days.iter(),
            &["date", "models"],
            &[
                "invocations",
                "input_tokens",
                "output_tokens",
                "estimated_cost_usd",
                "billed_cost_usd",
                "billed_tokens",
            ],
        ),
        day_model_columns: columns(
            day_models.into_iter(),
            &["model_id"],
            &[
                "invocations",
                "input_tokens",
                "output_tokens",
                "estimated_cost_usd",
            ],
        ),
        check_columns: r
            .get("principals_check")
            .map(|c| columns(c.get("logs").into_iter(), &[], &[]))
            .unwrap_or_default(),
        model_labels: models
            .iter()
            .filter_map(|m| str_at(m, "model_id"))
            .map(|id| (id.to_string(), model_label(models, id)))
            .collect(),
        metrics: sources.contains(&"metrics"),
        logs: sources.contains(&"logs"),
        billing: sources.contains(&"billing"),
        r: r.clone(),
        extra,
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Array(_) | Value::Object(_))
}

/// The scalar keys of `rows`, as table columns: `first` in its order, then the others
/// (tokens, then money, then the rest, each by name), leaving out `skip` and nested values.
fn columns<'a>(rows: impl Iterator<Item = &'a Value>, skip: &[&str], first: &[&str]) -> Vec<Col> {
    let mut keys: BTreeSet<(u8, String)> = BTreeSet::new();
    let mut text: BTreeSet<String> = BTreeSet::new();
    for row in rows {
        for (key, value) in row.as_object().into_iter().flatten() {
            if skip.contains(&key.as_str()) || !is_scalar(value) {
                continue;
            }
            if matches!(value, Value::String(_) | Value::Bool(_)) {
                text.insert(key.clone());
            }
            let rank = match first.iter().position(|f| f == key) {
                Some(_) => 0,
                None if key.ends_with("_tokens") => 1,
                None if key.ends_with("_usd") => 2,
                None => 3,
            };
            keys.insert((rank, key.clone()));
        }
    }
    let mut ordered: Vec<String> = first
        .iter()
        .filter(|f| keys.contains(&(0, f.to_string())))
        .map(|f| f.to_string())
        .collect();
    ordered.extend(keys.into_iter().filter(|(r, _)| *r > 0).map(|(_, k)| k));
    ordered
        .into_iter()
        .map(|key| Col {
            label: label(&key),
            num: !text.contains(&key),
            key,
        })
        .collect()
}

/// The fields of `v` not in `known`, flattened to "where › what: value".
fn leftovers(v: &Value, known: &[&str], path: &str) -> Vec<Field> {
    let mut out = Vec::new();
    for (key, value) in v.as_object().into_iter().flatten() {
        if known.contains(&key.as_str()) {
            continue;
        }
        let at = if path.is_empty() {
            label(key)
        } else {
            format!("{path} › {}", label(key))
        };
        flatten(&at, key, value, &mut out);
    }
    out
}

fn flatten(path: &str, key: &str, value: &Value, out: &mut Vec<Field>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{path} › {}", label(k)), k, v, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| !is_scalar(i)) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{path} › {}", i + 1), key, item, out);
            }
        }
        _ => out.push(Field {
            label: path.to_string(),
            text: format_field(key, value, false),
        }),
    }
}

/// How a model row is named: an application inference profile by its name.
fn model_label(models: &[Value], model_id: &str) -> String {
    models
        .iter()
        .find(|m| str_at(m, "model_id") == Some(model_id))
        .and_then(|m| m.get("profile"))
        .and_then(|p| str_at(p, "name"))
        .map(|name| format!("{name} (profile)"))
        .unwrap_or_else(|| model_id.to_string())
}

/// The stacked daily chart: each day's models' estimates (the report's first models in a
/// colour each, the rest together), the bill as a marker beside them; a day only the bill
/// has is one billed segment. Without any cost (no prices), tokens instead.
fn daily_chart(r: &Value) -> Option<DailyChart> {
    let days = array_at(r, "daily");
    if days.is_empty() {
        return None;
    }
    let models = array_at(r, "models");
    // Series: the models in the report's order (costliest first).
    let mut series: Vec<String> = models
        .iter()
        .filter_map(|m| str_at(m, "model_id").map(str::to_string))
        .collect();
    for d in days {
        for m in array_at(d, "models") {
            if let Some(id) = str_at(m, "model_id")
                && !series.iter().any(|s| s == id)
            {
                series.push(id.to_string());
            }
        }
    }
    let slot = |id: &str| {
        series
            .iter()
            .position(|s| s == id)
            .unwrap_or(usize::MAX)
            .min(DAILY_SERIES)
    };
    let by_cost = days.iter().any(|d| {
        f64_at(d, "estimated_cost_usd").unwrap_or(0.0) > 0.0
            || f64_at(d, "billed_cost_usd").unwrap_or(0.0) > 0.0
    });
    let model_value = |m: &Value| {
        if by_cost {
            f64_at(m, "estimated_cost_usd").unwrap_or(0.0)
        } else {
            f64_at(m, "input_tokens").unwrap_or(0.0) + f64_at(m, "output_tokens").unwrap_or(0.0)
        }
    };
    let mut used = BTreeSet::new();
    let mut stacks = Vec::new();
    let mut layers: Vec<Vec<(usize, String)>> = Vec::new();
    for d in days {
        let ms = array_at(d, "models");
        // Per series, the day's values (several models share the last series).
        let mut values: Vec<(usize, f64, Vec<String>)> = Vec::new();
        for m in ms {
            let id = str_at(m, "model_id").unwrap_or("?");
            let s = slot(id);
            used.insert(s);
            let field = |key: &str| format_field(key, m.get(key).unwrap_or(&Value::Null), false);
            let text = if by_cost {
                format!(
                    "{} {}",
                    model_label(models, id),
                    field("estimated_cost_usd")
                )
            } else {
                format!(
                    "{}: {} input and {} output tokens",
                    model_label(models, id),
                    field("input_tokens"),
                    field("output_tokens")
                )
            };
            match values.iter_mut().find(|(k, _, _)| *k == s) {
                Some(entry) => {
                    entry.1 += model_value(m);
                    entry.2.push(text);
                }
                None => values.push((s, model_value(m), vec![text])),
            }
        }
        values.sort_by_key(|(s, _, _)| *s);
        let billed = f64_at(d, "billed_cost_usd");
        let (segments, marker, names) = if values.is_empty() {
            // Only the bill has this day.
            let v = if by_cost {
                billed.unwrap_or(0.0)
            } else {
                f64_at(d, "billed_tokens").unwrap_or(0.0)
            };
            (vec![v], None, vec![(usize::MAX, "billed".to_string())])
        } else {
            (
                values.iter().map(|(_, v, _)| *v).collect(),
                billed.filter(|_| by_cost),
                values.iter().map(|(s, _, t)| (*s, t.join(", "))).collect(),
            )
        };
        stacks.push((segments, marker));
        layers.push(names);
    }
    let geometry = chart::columns(&stacks);
    let mut columns = Vec::new();
    for ((d, col), names) in days.iter().zip(geometry).zip(layers) {
        let date = str_at(d, "date").unwrap_or("?").to_string();
        let mut alt = vec![format!("{date}:")];
        if let Some(e) = d.get("estimated_cost_usd").filter(|v| !v.is_null()) {
            alt.push(format!(
                "estimate {}",
                format_field("estimated_cost_usd", e, false)
            ));
        }
        if let Some(b) = d.get("billed_cost_usd") {
            alt.push(format!(
                "billed {}",
                format_field("billed_cost_usd", b, false)
            ));
        }
        if !by_cost {
            let field = |key: &str| format_field(key, d.get(key).unwrap_or(&Value::Null), false);
            alt.push(format!(
                "{} input and {} output tokens",
                field("input_tokens"),
                field("output_tokens")
            ));
        }
        let segments = col
            .segments
            .iter()
            .zip(&names)
            .map(|(rect, (s, text))| ColumnSegment {
                x: rect.x,
                y: rect.y,
                width: rect.width,
                height: rect.height,
                class: series_class(*s),
                title: format!("{date}: {text}"),
            })
            .collect();
        columns.push(DayColumn {
            alt: alt.join(" "),
            date,
            x: col.x,
            x_end: col.x_end,
            width: col.width,
            segments,
            marker_y: col.marker_y,
        });
    }
    let mut legend: Vec<LegendItem> = used
        .iter()
        .filter(|&&s| s < DAILY_SERIES)
        .filter_map(|&s| {
            series.get(s).map(|id| LegendItem {
                class: series_class(s),
                label: model_label(models, id),
            })
        })
        .collect();
    if used.contains(&DAILY_SERIES) {
        legend.push(LegendItem {
            class: series_class(DAILY_SERIES),
            label: "other models".into(),
        });
    }
    if used.contains(&usize::MAX) || layers_have_billed(days) {
        legend.push(LegendItem {
            class: "billed".into(),
            label: "billed (Cost Explorer)".into(),
        });
    }
    // The top of the chart: the largest day's own figure.
    let top_day = days.iter().max_by(|a, b| {
        let v = |d: &Value| {
            if by_cost {
                f64_at(d, "estimated_cost_usd")
                    .unwrap_or(0.0)
                    .max(f64_at(d, "billed_cost_usd").unwrap_or(0.0))
            } else {
                f64_at(d, "input_tokens").unwrap_or(0.0) + f64_at(d, "output_tokens").unwrap_or(0.0)
            }
        };
        v(a).total_cmp(&v(b))
    });
    let top = top_day
        .map(|d| {
            let date = str_at(d, "date").unwrap_or("?");
            if by_cost {
                let e = f64_at(d, "estimated_cost_usd").unwrap_or(0.0);
                let (key, v) = match d.get("billed_cost_usd") {
                    Some(b) if b.as_f64().unwrap_or(0.0) > e => ("billed_cost_usd", b),
                    _ => (
                        "estimated_cost_usd",
                        d.get("estimated_cost_usd").unwrap_or(&Value::Null),
                    ),
                };
                format!("{} ({date})", format_field(key, v, false))
            } else {
                format!(
                    "{} input and {} output tokens ({date})",
                    format_field(
                        "input_tokens",
                        d.get("input_tokens").unwrap_or(&Value::Null),
                        false
                    ),
                    format_field(
                        "output_tokens",
                        d.get("output_tokens").unwrap_or(&Value::Null),
                        false
                    )
                )
            }
        })
        .unwrap_or_default();
    let estimates = days.iter().any(|d| !array_at(d, "models").is_empty());
    let marker = columns.iter().any(|c| c.marker_y.is_some());
    Some(DailyChart {
        caption: match (by_cost, estimates, marker) {
            (true, true, true) => "Estimated cost per UTC day, stacked by model; a line marks \
                                   what Cost Explorer billed that day."
                .into(),
            (true, true, false) => "Estimated cost per UTC day, stacked by model.".into(),
            (true, false, _) => "Billed cost per UTC day (Cost Explorer).".into(),
            (false, _, _) => {
                "Input and output tokens per UTC day, stacked by model (no priced usage).".into()
            }
        },
        top,
        first: columns.first().map(|c| c.date.clone()).unwrap_or_default(),
        last: columns.last().map(|c| c.date.clone()).unwrap_or_default(),
        marker,
        legend,
        columns,
        height: chart::COLUMNS_HEIGHT,
        width: chart::COLUMNS_WIDTH,
    })
}

fn layers_have_billed(days: &[Value]) -> bool {
    days.iter().any(|d| d.get("billed_cost_usd").is_some())
}

/// A series' CSS class: `s0`… for the palette, `billed` for the bill.
fn series_class(s: usize) -> String {
    if s == usize::MAX {
        "billed".into()
    } else {
        format!("s{}", s.min(DAILY_SERIES))
    }
}

/// What one bar row is before scaling.
struct Draft {
    group: Option<String>,
    group_full: Option<String>,
    label: String,
    full: Option<String>,
    value: String,
    hatched: bool,
    segments: Vec<(f64, String, String)>,
}

impl Draft {
    fn one(label: String, amount: f64, value: String, class: &str) -> Draft {
        Draft {
            group: None,
            group_full: None,
            segments: vec![(amount, class.into(), format!("{label}: {value}"))],
            label,
            full: None,
            value,
            hatched: false,
        }
    }
}

fn bar_chart(
    id: &'static str,
    title: String,
    caption: String,
    legend: Vec<LegendItem>,
    mut drafts: Vec<Draft>,
) -> BarChart {
    let more = drafts.len().saturating_sub(MAX_BARS);
    // The hatched (unattributed) rows stay, whatever the cut.
    if more > 0 {
        let (hatched, plain): (Vec<Draft>, Vec<Draft>) =
            drafts.into_iter().partition(|d| d.hatched);
        drafts = plain
            .into_iter()
            .take(MAX_BARS.saturating_sub(hatched.len()))
            .chain(hatched)
            .collect();
    }
    let spans = chart::bars(
        &drafts
            .iter()
            .map(|d| d.segments.iter().map(|(v, _, _)| *v).collect())
            .collect::<Vec<_>>(),
    );
    let mut last_group: Option<String> = None;
    let rows = drafts
        .into_iter()
        .zip(spans)
        .map(|(d, spans)| {
            let first = !matches!((&d.group, &last_group), (Some(g), Some(last)) if g == last);
            last_group = d.group.clone();
            let (group, group_full) = if first {
                (d.group.clone(), d.group_full.clone())
            } else {
                (None, None)
            };
            let alt = match &d.group {
                Some(g) => format!("{g}, {}: {}", d.label, d.value),
                None => format!("{}: {}", d.label, d.value),
            };
            BarRow {
                group,
                group_full,
                segments: spans
                    .into_iter()
                    .zip(d.segments)
                    .map(|(span, (_, class, title))| Segment {
                        x: span.x,
                        width: span.width,
                        class,
                        title,
                    })
                    .collect(),
                label: d.label,
                full: d.full,
                value: d.value,
                hatched: d.hatched,
                alt,
            }
        })
        .collect();
    BarChart {
        id,
        title,
        caption,
        legend,
        rows,
        more,
    }
}

/// Whether to draw cost (any row has some) or else invocations.
fn by_cost(rows: &[Value], key: &str) -> bool {
    rows.iter().any(|r| f64_at(r, key).unwrap_or(0.0) > 0.0)
}

fn models_chart(r: &Value) -> Option<BarChart> {
    let models = array_at(r, "models");
    if models.is_empty() {
        return None;
    }
    let cost = by_cost(models, "cost_usd");
    let key = if cost { "cost_usd" } else { "invocations" };
    let drafts = models
        .iter()
        .map(|m| {
            let id = str_at(m, "model_id").unwrap_or("?").to_string();
            let v = m.get(key).unwrap_or(&Value::Null);
            Draft::one(
                id,
                v.as_f64().unwrap_or(0.0),
                format_field(key, v, false),
                "s0",
            )
        })
        .collect();
    Some(bar_chart(
        "models",
        if cost {
            "Estimated cost by model".into()
        } else {
            "Invocations by model (no priced usage)".into()
        },
        "From CloudWatch metrics and the price table; an unpriced model has no bar.".into(),
        Vec::new(),
        drafts,
    ))
}

/// By application inference profile (a team's or an application's), with the models called
/// directly hatched: spend no profile attributes.
fn profiles_chart(r: &Value) -> Option<BarChart> {
    let models = array_at(r, "models");
    if !models.iter().any(|m| m.get("profile").is_some()) {
        return None;
    }
    let cost = by_cost(models, "cost_usd");
    let key = if cost { "cost_usd" } else { "invocations" };
    let mut drafts = Vec::new();
    for direct in [false, true] {
        for m in models
            .iter()
            .filter(|m| m.get("profile").is_none() == direct)
        {
            let v = m.get(key).unwrap_or(&Value::Null);
            let (label, full) = match m.get("profile") {
                Some(p) => (
                    str_at(p, "name").unwrap_or("?").to_string(),
                    Some(format!("routes to {}", str_at(p, "model").unwrap_or("?"))),
                ),
                None => (str_at(m, "model_id").unwrap_or("?").to_string(), None),
            };
            let mut d = Draft::one(
                label,
                v.as_f64().unwrap_or(0.0),
                format_field(key, v, false),
                if direct { "hatch" } else { "s0" },
            );
            d.full = full;
            d.hatched = direct;
            d.group = Some(if direct {
                "Not through an application inference profile".into()
            } else {
                "Application inference profiles".into()
            });
            drafts.push(d);
        }
    }
    Some(bar_chart(
        "profiles",
        if cost {
            "Estimated cost by application inference profile".into()
        } else {
            "Invocations by application inference profile".into()
        },
        "Calls through a team's or an application's inference profile; the hatched bars are \
         models called directly, which no profile attributes."
            .into(),
        vec![
            LegendItem {
                class: "s0".into(),
                label: "through a profile".into(),
            },
            LegendItem {
                class: "hatch".into(),
                label: "called directly (not attributed)".into(),
            },
        ],
        drafts,
    ))
}

/// The principal part of an ARN: `assumed-role/Team/alice` → `Team/alice`.
fn short_principal(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource
        .strip_prefix("assumed-role/")
        .unwrap_or(resource)
        .to_string()
}

/// By principal, each one's models under it; the spend the metrics see beyond the logs'
/// rows hatched (not attributed to any principal).
fn principals_chart(r: &Value) -> Option<BarChart> {
    let rows = array_at(r, "principals");
    if rows.is_empty() {
        return None;
    }
    // Cost only when every row is priced: an unpriced row would look unattributed.
    let cost = by_cost(rows, "cost_usd") && rows.iter().all(|r| f64_at(r, "cost_usd").is_some());
    let key = if cost { "cost_usd" } else { "invocations" };
    let amount = |row: &Value| f64_at(row, key).unwrap_or(0.0);
    // Principals in order of their rows' total (used for the order only), then their rows.
    let mut principals: Vec<(&str, f64)> = Vec::new();
    for row in rows {
        let p = str_at(row, "principal").unwrap_or("?");
        match principals.iter_mut().find(|(name, _)| *name == p) {
            Some(entry) => entry.1 += amount(row),
            None => principals.push((p, amount(row))),
        }
    }
    principals.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut drafts = Vec::new();
    for (p, _) in &principals {
        let mut mine: Vec<&Value> = rows
            .iter()
            .filter(|row| str_at(row, "principal") == Some(p))
            .collect();
        mine.sort_by(|a, b| amount(b).total_cmp(&amount(a)));
        for row in mine {
            let v = row.get(key).unwrap_or(&Value::Null);
            let model = model_label(
                array_at(r, "models"),
                str_at(row, "model_id").unwrap_or("?"),
            );
            let mut d = Draft::one(model, amount(row), format_field(key, v, false), "s0");
            d.group = Some(short_principal(p));
            d.group_full = (short_principal(p) != *p).then(|| p.to_string());
            drafts.push(d);
        }
    }
    // What the metrics count beyond the logs' rows: drawn (its length only), and described
    // with the check's own counts.
    let attributed: f64 = rows.iter().map(amount).sum();
    let whole = r.get("totals").and_then(|t| f64_at(t, key));
    if let (Some(whole), Some(check)) = (whole, r.get("principals_check"))
        && whole > attributed * (1.0 + 1e-9) + 1e-12
    {
        let logs = check.get("logs").and_then(|c| c.get("invocations"));
        let metrics = check.get("metrics").and_then(|c| c.get("invocations"));
        let value = format!(
            "the logs counted {} of the metrics' {} invocations",
            format_field("invocations", logs.unwrap_or(&Value::Null), false),
            format_field("invocations", metrics.unwrap_or(&Value::Null), false)
        );
        drafts.push(Draft {
            group: Some("Not attributed to a principal".into()),
            group_full: None,
            segments: vec![(
                whole - attributed,
                "hatch".into(),
                format!("not attributed: {value}"),
            )],
            label: "usage the invocation logs did not count".into(),
            full: None,
            value,
            hatched: true,
        });
    }
    Some(bar_chart(
        "principals",
        if cost {
            "Estimated cost by principal".into()
        } else if rows.iter().any(|r| f64_at(r, "cost_usd").is_none()) {
            "Invocations by principal (some rows are unpriced: their cost is in the table)".into()
        } else {
            "Invocations by principal".into()
        },
        "Each caller (IAM principal, from the invocation logs) with the models it used; a \
         hatched bar is usage the metrics saw and the logs did not attribute."
            .into(),
        vec![
            LegendItem {
                class: "s0".into(),
                label: "attributed to a principal".into(),
            },
            LegendItem {
                class: "hatch".into(),
                label: "not attributed".into(),
            },
        ],
        drafts,
    ))
}

/// `--by-tag`: billed spend per tag value, untagged hatched.
fn tags_chart(r: &Value) -> Option<BarChart> {
    let by_tag = r.get("billing").and_then(|b| b.get("by_tag"))?;
    let key = str_at(by_tag, "key").unwrap_or("?");
    let values = array_at(by_tag, "values");
    let drafts = values
        .iter()
        .map(|v| {
            let untagged = v.get("value").is_none_or(Value::is_null);
            let label = str_at(v, "value").unwrap_or("(untagged)").to_string();
            let cost = v.get("cost_usd").unwrap_or(&Value::Null);
            let mut d = Draft::one(
                label,
                cost.as_f64().unwrap_or(0.0),
                format_field("cost_usd", cost, false),
                if untagged { "hatch" } else { "s0" },
            );
            d.hatched = untagged;
            d
        })
        .collect();
    Some(bar_chart(
        "tags",
        format!("Billed spend by tag {key}"),
        format!(
            "From Cost Explorer, grouped by the cost-allocation tag {key}; the hatched bar is \
             spend without the tag."
        ),
        vec![
            LegendItem {
                class: "s0".into(),
                label: format!("tagged {key}"),
            },
            LegendItem {
                class: "hatch".into(),
                label: "untagged (not attributed)".into(),
            },
        ],
        drafts,
    ))
}

/// The bill per model, split into input, output, cache and other cost; usage types that name
/// no model hatched.
fn billed_chart(r: &Value) -> Option<BarChart> {
    let billing = r.get("billing")?;
    let models = array_at(billing, "models");
    let unmapped = array_at(r, "unmapped_usage_types");
    if models.is_empty() && unmapped.is_empty() {
        return None;
    }
    let parts = [
        ("input_cost_usd", "input"),
        ("output_cost_usd", "output"),
        ("cache_cost_usd", "cache"),
        ("other_cost_usd", "other"),
    ];
    let mut drafts: Vec<Draft> = models
        .iter()
        .map(|m| {
            let name = str_at(m, "model").unwrap_or("?").to_string();
            Draft {
                group: None,
                group_full: None,
                segments: parts
                    .iter()
                    .enumerate()
                    .map(|(i, (key, what))| {
                        let v = m.get(*key).unwrap_or(&Value::Null);
                        (
                            v.as_f64().unwrap_or(0.0),
                            format!("s{i}"),
                            format!("{name} {what}: {}", format_field(key, v, false)),
                        )
                    })
                    .collect(),
                value: format_field("cost_usd", m.get("cost_usd").unwrap_or(&Value::Null), false),
                label: name,
                full: None,
                hatched: false,
            }
        })
        .collect();
    for u in unmapped {
        let cost = u.get("cost_usd").unwrap_or(&Value::Null);
        let mut d = Draft::one(
            str_at(u, "usage_type").unwrap_or("?").to_string(),
            cost.as_f64().unwrap_or(0.0),
            format_field("cost_usd", cost, false),
            "hatch",
        );
        d.full = str_at(u, "service").map(str::to_string);
        d.group = Some("Usage types that name no model".into());
        d.hatched = true;
        drafts.push(d);
    }
    let mut legend: Vec<LegendItem> = parts
        .iter()
        .enumerate()
        .map(|(i, (_, what))| LegendItem {
            class: format!("s{i}"),
            label: format!("{what} cost"),
        })
        .collect();
    if !unmapped.is_empty() {
        legend.push(LegendItem {
            class: "hatch".into(),
            label: "no model named (not attributed)".into(),
        });
    }
    Some(bar_chart(
        "billed",
        "Billed spend by model".into(),
        "From Cost Explorer: each model's bill split into input, output, cache and other cost."
            .into(),
        legend,
        drafts,
    ))
}

/// Over [targets]: each account and region's estimate (or invocations); failed targets have
/// no bar.
fn accounts_chart(targets: &[Value]) -> Option<BarChart> {
    let totals: Vec<Value> = targets
        .iter()
        .map(|t| t.get("totals").cloned().unwrap_or(Value::Null))
        .collect();
    let cost = by_cost(&totals, "cost_usd");
    let key = if cost { "cost_usd" } else { "invocations" };
    let drafts = targets
        .iter()
        .zip(&totals)
        .map(|(t, totals)| {
            let label = format!(
                "{}/{}",
                str_at(t, "account").unwrap_or("?"),
                str_at(t, "region").unwrap_or("?")
            );
            match totals.get(key) {
                Some(v) if t.get("error").is_none_or(Value::is_null) => Draft::one(
                    label,
                    v.as_f64().unwrap_or(0.0),
                    format_field(key, v, false),
                    "s0",
                ),
                _ => Draft::one(label, 0.0, "failed".into(), "s0"),
            }
        })
        .collect();
    Some(bar_chart(
        "accounts",
        if cost {
            "Estimated cost by account and region".into()
        } else {
            "Invocations by account and region".into()
        },
        "Each target's total; a target that failed has no bar.".into(),
        Vec::new(),
        drafts,
    ))
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

#[cfg(test)]
mod tests;
