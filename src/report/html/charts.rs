//! The page's charts: bar geometry for the group charts (models, profiles, principals, tags,
//! the bill, accounts) and the stacked daily chart, as data the template draws in SVG.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::super::chart;
use super::format::*;
use super::{DAILY_SERIES, MAX_BARS};

#[derive(Serialize)]
pub(super) struct LegendItem {
    pub(super) class: String,
    pub(super) label: String,
}

/// A horizontal bar chart: one row per bar, each bar a small SVG of its segments.
#[derive(Serialize)]
pub(super) struct BarChart {
    pub(super) id: &'static str,
    pub(super) title: String,
    pub(super) caption: String,
    pub(super) legend: Vec<LegendItem>,
    pub(super) rows: Vec<BarRow>,
    /// Rows left out of the chart (they are in the table).
    pub(super) more: usize,
}

#[derive(Serialize)]
pub(super) struct BarRow {
    /// A heading above this row (a principal above its models), and its full name.
    pub(super) group: Option<String>,
    pub(super) group_full: Option<String>,
    pub(super) label: String,
    /// The full name when the label is shortened.
    pub(super) full: Option<String>,
    pub(super) value: String,
    /// Spend not attributed to a group member (untagged, not through a profile…).
    pub(super) hatched: bool,
    pub(super) alt: String,
    pub(super) segments: Vec<Segment>,
}

#[derive(Serialize)]
pub(super) struct Segment {
    pub(super) x: f64,
    pub(super) width: f64,
    pub(super) class: String,
    pub(super) title: String,
}

/// The stacked daily chart: a column per day, a segment per model.
#[derive(Serialize)]
pub(super) struct DailyChart {
    pub(super) caption: String,
    /// What the top of the chart stands for (the largest day's figure) and which day it is.
    pub(super) top: String,
    pub(super) first: String,
    pub(super) last: String,
    pub(super) legend: Vec<LegendItem>,
    pub(super) columns: Vec<DayColumn>,
    pub(super) marker: bool,
    pub(super) height: f64,
    pub(super) width: f64,
}

#[derive(Serialize)]
pub(super) struct DayColumn {
    pub(super) date: String,
    pub(super) alt: String,
    pub(super) x: f64,
    pub(super) x_end: f64,
    pub(super) width: f64,
    pub(super) segments: Vec<ColumnSegment>,
    pub(super) marker_y: Option<f64>,
}

#[derive(Serialize)]
pub(super) struct ColumnSegment {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) class: String,
    pub(super) title: String,
}

/// The stacked daily chart: each day's models' estimates (the report's first models in a
/// colour each, the rest together), the bill as a marker beside them; a day only the bill
/// has is one billed segment. Without any cost (no prices), tokens instead.
pub(super) fn daily_chart(r: &Value) -> Option<DailyChart> {
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

pub(super) fn layers_have_billed(days: &[Value]) -> bool {
    days.iter().any(|d| d.get("billed_cost_usd").is_some())
}

/// A series' CSS class: `s0`… for the palette, `billed` for the bill.
pub(super) fn series_class(s: usize) -> String {
    if s == usize::MAX {
        "billed".into()
    } else {
        format!("s{}", s.min(DAILY_SERIES))
    }
}

/// What one bar row is before scaling.
pub(super) struct Draft {
    pub(super) group: Option<String>,
    pub(super) group_full: Option<String>,
    pub(super) label: String,
    pub(super) full: Option<String>,
    pub(super) value: String,
    pub(super) hatched: bool,
    pub(super) segments: Vec<(f64, String, String)>,
}

impl Draft {
    pub(super) fn one(label: String, amount: f64, value: String, class: &str) -> Draft {
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

pub(super) fn bar_chart(
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
pub(super) fn by_cost(rows: &[Value], key: &str) -> bool {
    rows.iter().any(|r| f64_at(r, key).unwrap_or(0.0) > 0.0)
}

pub(super) fn models_chart(r: &Value) -> Option<BarChart> {
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
pub(super) fn profiles_chart(r: &Value) -> Option<BarChart> {
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
pub(super) fn short_principal(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource
        .strip_prefix("assumed-role/")
        .unwrap_or(resource)
        .to_string()
}

/// By principal, each one's models under it; the spend the metrics see beyond the logs'
/// rows hatched (not attributed to any principal).
pub(super) fn principals_chart(r: &Value) -> Option<BarChart> {
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
pub(super) fn tags_chart(r: &Value) -> Option<BarChart> {
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
pub(super) fn billed_chart(r: &Value) -> Option<BarChart> {
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
pub(super) fn accounts_chart(targets: &[Value]) -> Option<BarChart> {
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
