//! The quota section's chart: each model's peak per minute (per day for a daily quota) as a
//! share of its applied quota, grouped by kind of quota, drawn from the report JSON's
//! `quotas` (with `[quotas]`, see `report::quotas::for_report`).

use serde_json::{Value, json};

use super::charts::{BarChart, Draft, LegendItem, bar_chart};
use super::format::*;

/// The kinds of quota in the order the chart groups them, with their headings.
const KINDS: [(&str, &str); 3] = [
    ("tokens_per_minute", "Tokens per minute"),
    ("requests_per_minute", "Requests per minute"),
    ("tokens_per_day", "Tokens per day"),
];

/// One bar per row with a quota: the peak's share of the quota (in the alarm colour when it
/// went over the alarm share), then the headroom left, so that every bar's whole is its
/// quota and bars compare across models; a peak over the quota is the longest bar.
pub(super) fn headroom_chart(r: &Value) -> Option<BarChart> {
    let section = r.get("quotas")?;
    let models = array_at(r, "models");
    let mut drafts = Vec::new();
    for (kind, heading) in KINDS {
        for row in array_at(section, "rows")
            .iter()
            .filter(|row| str_at(row, "kind") == Some(kind))
        {
            let Some(quota) = f64_at(row, "quota").filter(|q| *q > 0.0) else {
                continue;
            };
            let peak = f64_at(row, "peak").unwrap_or(0.0).max(0.0);
            let used = peak / quota * 100.0;
            let over = row.get("over_alarm_share") == Some(&Value::Bool(true));
            let label = model_label(models, str_at(row, "model_id").unwrap_or("?"));
            let share = format_field("peak_percent", &json!((used * 10.0).round() / 10.0), false);
            let quota_text = format_field("quota", row.get("quota").unwrap_or(&Value::Null), false);
            // The share alone, so that every bar's track (its quota) is the same length; the
            // quota is under the model's name.
            let value = share.clone();
            let peak_text = format_field("peak", row.get("peak").unwrap_or(&Value::Null), false);
            drafts.push(Draft {
                group: Some(heading.to_string()),
                group_full: None,
                segments: vec![
                    (
                        used,
                        if over { "s1" } else { "s0" }.to_string(),
                        format!("{label}: peak {peak_text}, {share} of {quota_text}"),
                    ),
                    (
                        (100.0 - used).max(0.0),
                        "rest".to_string(),
                        format!(
                            "{label}: headroom {}",
                            format_field(
                                "headroom_percent",
                                row.get("headroom_percent").unwrap_or(&Value::Null),
                                false
                            )
                        ),
                    ),
                ],
                full: Some(format!(
                    "{}, quota {}: {quota_text}",
                    super::format::label(str_at(row, "scope").unwrap_or("?")),
                    str_at(row, "quota_code").unwrap_or("?")
                )),
                label,
                value,
                hatched: false,
            });
        }
    }
    if drafts.is_empty() {
        return None;
    }
    let share = section
        .get("alarm_percent")
        .filter(|v| !v.is_null())
        .map(|v| format!(" ({})", format_field("alarm_percent", v, false)))
        .unwrap_or_default();
    Some(bar_chart(
        "quotas",
        "Peak use as a share of the quota".into(),
        "Each model's busiest minute (busiest day for a daily quota) against the applied \
         quota of its scope: the whole bar is the quota, the outlined rest is the headroom."
            .into(),
        vec![
            LegendItem {
                class: "s0".into(),
                label: format!("peak under the alarm share{share}"),
            },
            LegendItem {
                class: "s1".into(),
                label: format!("peak over the alarm share{share}"),
            },
            LegendItem {
                class: "rest".into(),
                label: "headroom left to the quota".into(),
            },
        ],
        drafts,
    ))
}
