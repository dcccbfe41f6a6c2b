//! `--by meta:KEY`: estimated cost (or, with an unpriced row, invocations) per value of the
//! request-metadata key, the records without the key hatched. Beside `charts` (which is near
//! its size limit) and drawn with its geometry.

use serde_json::Value;

use super::charts::{BarChart, Draft, LegendItem, bar_chart};
use super::format::*;

pub(super) fn meta_chart(r: &Value) -> Option<BarChart> {
    let meta = r.get("by_meta")?;
    let rows = array_at(meta, "rows");
    if rows.is_empty() {
        return None;
    }
    let key = str_at(meta, "key").unwrap_or("?");
    let cost = rows.iter().all(|row| f64_at(row, "cost_usd").is_some());
    let field = if cost { "cost_usd" } else { "invocations" };
    // One bar per value (its models summed), in order of the amount.
    let mut values: Vec<(Option<&str>, f64)> = Vec::new();
    for row in rows {
        let value = str_at(row, "value");
        let amount = f64_at(row, field).unwrap_or(0.0);
        match values.iter_mut().find(|(v, _)| *v == value) {
            Some(entry) => entry.1 += amount,
            None => values.push((value, amount)),
        }
    }
    values.sort_by(|a, b| b.1.total_cmp(&a.1));
    let drafts = values
        .into_iter()
        .map(|(value, amount)| {
            let label = value.map_or_else(|| format!("(no {key})"), str::to_string);
            let shown = format_field(field, &serde_json::json!(amount), false);
            let mut d = Draft::one(
                label,
                amount,
                shown,
                if value.is_some() { "s0" } else { "hatch" },
            );
            d.hatched = value.is_none();
            d
        })
        .collect();
    Some(bar_chart(
        "meta",
        if cost {
            format!("Estimated cost by request metadata {key}")
        } else {
            format!("Invocations by request metadata {key} (some rows are unpriced)")
        },
        format!(
            "From the invocation logs' requestMetadata, key {key}; the hatched bar is the \
             records without the key."
        ),
        vec![
            LegendItem {
                class: "s0".into(),
                label: format!("with {key}"),
            },
            LegendItem {
                class: "hatch".into(),
                label: format!("without {key}"),
            },
        ],
        drafts,
    ))
}
