//! The view model the template renders: the page's sections, tables and fields, taken from
//! the report's JSON (its rows' own keys become columns), with the page's colours.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::Page;
use super::charts::*;
use super::format::*;

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
pub(super) struct View {
    pub(super) title: String,
    pub(super) stack: String,
    pub(super) generated_at: String,
    pub(super) version: &'static str,
    pub(super) light: Theme,
    pub(super) dark: Theme,
    pub(super) fleet: Option<Fleet>,
    pub(super) sections: Vec<Section>,
    /// Every report is a `--source cur` one: the footer speaks of the bill only.
    pub(super) cur: bool,
}

/// The overview of a run over `[targets]`.
#[derive(Serialize)]
pub(super) struct Fleet {
    pub(super) targets: Vec<Value>,
    pub(super) totals: Option<Value>,
    pub(super) skipped: Value,
    pub(super) interrupted: bool,
    pub(super) chart: Option<BarChart>,
    pub(super) extra: Vec<Field>,
}

/// One report: the whole page for one target, a section per target over many.
#[derive(Serialize)]
pub(super) struct Section {
    pub(super) id: String,
    pub(super) heading: Option<String>,
    pub(super) error: Option<String>,
    pub(super) r: Value,
    pub(super) daily: Option<DailyChart>,
    pub(super) charts: Vec<BarChart>,
    /// With `[quotas]`: the peaks as shares of the quotas.
    pub(super) quota_chart: Option<BarChart>,
    pub(super) model_columns: Vec<Col>,
    pub(super) principal_columns: Vec<Col>,
    pub(super) billed_columns: Vec<Col>,
    pub(super) day_columns: Vec<Col>,
    pub(super) day_model_columns: Vec<Col>,
    pub(super) check_columns: Vec<Col>,
    /// How each model ID is shown: an application inference profile by its name.
    pub(super) model_labels: std::collections::BTreeMap<String, String>,
    /// Whether the report read metrics, logs, billing (for the comparison table's columns).
    pub(super) metrics: bool,
    pub(super) logs: bool,
    pub(super) billing: bool,
    pub(super) extra: Vec<Field>,
    /// A `--source cur` report: its own view ([`super::cur`]).
    pub(super) cur: Option<super::cur::CurSection>,
}

#[derive(Serialize)]
pub(super) struct Col {
    pub(super) key: String,
    pub(super) label: String,
    /// Numbers (right-aligned, kept on one line), or text.
    pub(super) num: bool,
}

/// A figure the template does not know, flattened: where it is and its formatted value.
#[derive(Serialize)]
pub(super) struct Field {
    pub(super) label: String,
    pub(super) text: String,
}

/// The top-level fields of a report the template shows; others go to "Other figures".
pub(super) const REPORT_KEYS: &[&str] = &[
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
    "quotas",
    "notes",
    // A target's entry over [targets].
    "account",
    "error",
    "exit_code",
];
pub(super) const FLEET_KEYS: &[&str] = &[
    "stack",
    "command",
    "targets",
    "skipped",
    "interrupted",
    "totals",
];
pub(super) const WINDOW_KEYS: &[&str] = &["start", "end", "hours", "period_seconds"];
pub(super) const BILLING_KEYS: &[&str] = &[
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
pub(super) const MODEL_ROW_OBJECTS: &[&str] =
    &["model_id", "profile", "billed", "logs", "differences"];
/// Known columns first, in this order; other keys follow.
pub(super) const MODEL_COLUMNS: &[&str] = &[
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

pub(super) fn view(doc: &Value, page: &Page) -> View {
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
        .or_else(|| sections.iter().find_map(|s| super::cur::days(&s.r)))
        .unwrap_or_default();
    let cur = !sections.is_empty() && sections.iter().all(|s| s.cur.is_some());
    View {
        title: format!("Bedrock usage and cost: {stack}, {window}"),
        stack,
        generated_at,
        version: env!("CARGO_PKG_VERSION"),
        light: LIGHT,
        dark: DARK,
        fleet,
        sections,
        cur,
    }
}

pub(super) fn section(r: &Value, id: String, heading: Option<String>) -> Section {
    if super::cur::is_cur(r) {
        return cur_report_section(r, id, heading);
    }
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
    charts.extend(super::meta_chart::meta_chart(r));
    if billing.get("by_tag").is_none() {
        charts.extend(billed_chart(r));
    }
    Section {
        id,
        heading,
        error: str_at(r, "error").map(str::to_string),
        daily: daily_chart(r),
        charts,
        quota_chart: super::headroom::headroom_chart(r),
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
            &crate::report::billing::BILLED_COLUMNS,
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
        cur: None,
    }
}

/// The section of a CUR report: the page's [`Section`] with nothing of the metrics report's,
/// and the CUR's own view.
fn cur_report_section(r: &Value, id: String, heading: Option<String>) -> Section {
    Section {
        id,
        heading,
        error: None,
        r: r.clone(),
        daily: None,
        charts: Vec::new(),
        quota_chart: None,
        model_columns: Vec::new(),
        principal_columns: Vec::new(),
        billed_columns: Vec::new(),
        day_columns: Vec::new(),
        day_model_columns: Vec::new(),
        check_columns: Vec::new(),
        model_labels: Default::default(),
        metrics: false,
        logs: false,
        billing: false,
        extra: Vec::new(),
        cur: Some(super::cur::cur_section(r)),
    }
}

/// The scalar keys of `rows`, as table columns: `first` in its order, then the others
/// (tokens, then money, then the rest, each by name), leaving out `skip` and nested values.
pub(super) fn columns<'a>(
    rows: impl Iterator<Item = &'a Value>,
    skip: &[&str],
    first: &[&str],
) -> Vec<Col> {
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
pub(super) fn leftovers(v: &Value, known: &[&str], path: &str) -> Vec<Field> {
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

pub(super) fn flatten(path: &str, key: &str, value: &Value, out: &mut Vec<Field>) {
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
