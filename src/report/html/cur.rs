//! `report --source cur --output html`: the CUR report's section of the page, from the JSON
//! `--output json` prints for it (`CurReport`): the facts, the totals, the rows by the `--by`
//! dimensions (a table and a bar chart), the daily chart with `--daily`, and with
//! `--allocate meta:KEY` the bill split by request metadata as one more chart. The layout,
//! charts and formatting are the page's own ([`super::charts`], [`super::format`]).

use serde::Serialize;
use serde_json::Value;

use super::super::chart;
use super::charts::{BarChart, ColumnSegment, DailyChart, DayColumn, Draft, LegendItem, bar_chart};
use super::format::*;

/// How many rows the table of groups lists; the unattributed and adjustments rows always are.
pub const MAX_TABLE_ROWS: usize = 200;

/// Whether `r` is a `--source cur` report (the others name their sources in an array).
pub(super) fn is_cur(r: &Value) -> bool {
    str_at(r, "source") == Some("cur")
}

/// The days a CUR report covers, for the page's title: "2026-11-02 to 2026-11-03".
pub(super) fn days(r: &Value) -> Option<String> {
    let start = str_at(r, "start")?;
    let last = last_day(r)?;
    Some(format!("{start} to {last}"))
}

/// The last day read (`end` is exclusive).
fn last_day(r: &Value) -> Option<String> {
    let end = str_at(r, "end")?;
    let date = chrono::NaiveDate::parse_from_str(end, "%Y-%m-%d").ok()?;
    Some(date.pred_opt().unwrap_or(date).to_string())
}

#[derive(Serialize)]
pub(super) struct CurSection {
    pub(super) export: String,
    pub(super) first: String,
    pub(super) last: String,
    /// The `--by` dimensions, as the table's headings.
    pub(super) dims: Vec<String>,
    pub(super) rows: Vec<GroupRow>,
    /// Rows the table leaves out (they are in `--output json` and `csv`).
    pub(super) rows_left_out: usize,
    pub(super) rows_chart: Option<BarChart>,
    pub(super) daily: Option<DailyChart>,
    /// What the engine read, in a sentence.
    pub(super) read: Option<String>,
    pub(super) allocation: Option<AllocationView>,
    pub(super) notes: Vec<String>,
}

/// A row of the table of groups: its label per dimension (with the ARN under a principal or
/// profile), and whether it is no group's (unattributed, adjustments).
#[derive(Serialize)]
pub(super) struct GroupRow {
    pub(super) cells: Vec<Cell>,
    pub(super) r: Value,
    pub(super) hatched: bool,
    /// The adjustments row: each line item type's cost.
    pub(super) types: Option<String>,
}

#[derive(Serialize)]
pub(super) struct Cell {
    pub(super) label: String,
    pub(super) sub: Option<String>,
}

/// `--allocate meta:KEY`: the rows with their cents as the JSON gives them, and whether they add
/// up to the bill.
#[derive(Serialize)]
pub(super) struct AllocationView {
    pub(super) a: Value,
    pub(super) chart: BarChart,
    pub(super) rows: Vec<AllocationRow>,
    pub(super) total: String,
    /// The rows' cents added up, and whether that is the bill to the cent.
    pub(super) sum: String,
    pub(super) adds_up: bool,
}

#[derive(Serialize)]
pub(super) struct AllocationRow {
    pub(super) label: String,
    pub(super) kind: String,
    pub(super) value: bool,
    pub(super) cost: String,
    pub(super) tokens: String,
}

/// The CUR view of `r`, a `--source cur` report.
pub(super) fn cur_section(r: &Value) -> CurSection {
    let export = r.get("export").cloned().unwrap_or(Value::Null);
    let prefix = str_at(&export, "prefix").unwrap_or("").trim_matches('/');
    let export_uri = format!(
        "s3://{}/{}{}{}",
        str_at(&export, "bucket").unwrap_or("?"),
        prefix,
        if prefix.is_empty() { "" } else { "/" },
        str_at(&export, "export").unwrap_or("?")
    );
    let dims: Vec<String> = array_at(r, "by")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let missing: Vec<&str> = array_at(r, "tag_keys")
        .iter()
        .filter(|t| t.get("found").and_then(Value::as_bool) == Some(false))
        .filter_map(|t| str_at(t, "dimension"))
        .collect();
    let all: Vec<GroupRow> = array_at(r, "rows")
        .iter()
        .map(|row| group_row(row, &dims, &missing))
        .collect();
    let total = all.len();
    // The first rows by cost, in the JSON's order, and the hatched ones wherever they are.
    let keep = MAX_TABLE_ROWS.saturating_sub(all.iter().filter(|g| g.hatched).count());
    let mut plain = 0;
    let rows: Vec<GroupRow> = all
        .into_iter()
        .filter(|g| {
            plain += usize::from(!g.hatched);
            g.hatched || plain <= keep
        })
        .collect();
    let mut notes: Vec<String> = array_at(r, "tag_keys")
        .iter()
        .filter(|t| t.get("found").and_then(Value::as_bool) == Some(false))
        .map(|t| {
            let seen: Vec<&str> = array_at(t, "seen")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "--by {}: no line had this tag key{}",
                str_at(t, "dimension").unwrap_or("?"),
                if seen.is_empty() {
                    String::new()
                } else {
                    format!("; the lines had {}", seen.join(", "))
                }
            )
        })
        .collect();
    notes.extend(
        array_at(r, "notes")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string),
    );
    CurSection {
        export: export_uri,
        first: str_at(r, "start").unwrap_or("?").to_string(),
        last: last_day(r).unwrap_or_else(|| "?".into()),
        rows_left_out: total - rows.len(),
        rows_chart: rows_chart(r, &dims, &rows),
        daily: daily_chart(r),
        read: read(r),
        allocation: allocation(r),
        notes,
        dims,
        rows,
    }
}

fn group_row(row: &Value, dims: &[String], missing: &[&str]) -> GroupRow {
    let adjustments = row.get("adjustments").and_then(Value::as_bool) == Some(true);
    let unattributed = row.get("unattributed").and_then(Value::as_bool) == Some(true);
    let cells = dims
        .iter()
        .enumerate()
        .map(|(i, d)| {
            // As the text report labels a key the line does not have (cur::aggregate).
            let label = match str_at(row, d) {
                Some(v) => v.to_string(),
                None if adjustments && i == 0 => "(adjustments)".into(),
                None if adjustments => String::new(),
                None if d == "model" => "(unmapped)".into(),
                None if missing.contains(&d.as_str()) => "(no such tag key)".into(),
                None => "(unattributed)".into(),
            };
            let sub = match d.as_str() {
                "principal" => str_at(row, "principal_arn"),
                "profile" => str_at(row, "profile_arn").filter(|arn| *arn != label),
                _ => None,
            };
            Cell {
                label,
                sub: sub.map(str::to_string),
            }
        })
        .collect();
    let types = row
        .get("line_item_types")
        .and_then(Value::as_object)
        .map(|types| {
            types
                .iter()
                .map(|(t, c)| format!("{t} {}", format_field("cost_usd", c, false)))
                .collect::<Vec<_>>()
                .join(", ")
        });
    GroupRow {
        cells,
        r: row.clone(),
        hatched: adjustments || unattributed,
        types,
    }
}

/// The table's rows as bars: the chart's "more rows are in the table below" stays true, and the
/// table says how many it leaves out itself.
fn rows_chart(r: &Value, dims: &[String], rows: &[GroupRow]) -> Option<BarChart> {
    if rows.is_empty() {
        return None;
    }
    let drafts = rows
        .iter()
        .map(|g| {
            let label = g
                .cells
                .iter()
                .map(|c| c.label.as_str())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            let cost = g.r.get("cost_usd").unwrap_or(&Value::Null);
            let mut d = Draft::one(
                label,
                cost.as_f64().unwrap_or(0.0),
                format_field("cost_usd", cost, false),
                if g.hatched { "hatch" } else { "s0" },
            );
            d.full = g.cells.iter().find_map(|c| c.sub.clone());
            d.hatched = g.hatched;
            d
        })
        .collect();
    let by = dims.join(", ");
    Some(bar_chart(
        "cur",
        format!("Billed cost by {by}"),
        format!(
            "From the CUR 2.0 line items: each group's billed cost. Hatched: the usage with no {by} to attribute it to, and the credits, refunds and discounts \
             (adjustments; a negative cost draws no bar). Total: {}.",
            format_field(
                "cost_usd",
                r.get("totals")
                    .and_then(|t| t.get("cost_usd"))
                    .unwrap_or(&Value::Null),
                false
            )
        ),
        vec![
            LegendItem {
                class: "s0".into(),
                label: format!("by {by}"),
            },
            LegendItem {
                class: "hatch".into(),
                label: "unattributed or adjustments".into(),
            },
        ],
        drafts,
    ))
}

/// With `--daily`: the billed cost per UTC day, one column each.
fn daily_chart(r: &Value) -> Option<DailyChart> {
    let days = r.get("daily").and_then(Value::as_array)?;
    if days.is_empty() {
        return None;
    }
    let stacks: Vec<(Vec<f64>, Option<f64>)> = days
        .iter()
        .map(|d| (vec![f64_at(d, "cost_usd").unwrap_or(0.0)], None))
        .collect();
    let shown =
        |d: &Value| format_field("cost_usd", d.get("cost_usd").unwrap_or(&Value::Null), false);
    let columns: Vec<DayColumn> = days
        .iter()
        .zip(chart::columns(&stacks))
        .map(|(d, col)| {
            let date = str_at(d, "date").unwrap_or("?").to_string();
            let alt = format!("{date}: billed {}", shown(d));
            DayColumn {
                segments: col
                    .segments
                    .iter()
                    .map(|rect| ColumnSegment {
                        x: rect.x,
                        y: rect.y,
                        width: rect.width,
                        height: rect.height,
                        class: "s0".into(),
                        title: alt.clone(),
                    })
                    .collect(),
                alt,
                date,
                x: col.x,
                x_end: col.x_end,
                width: col.width,
                marker_y: None,
            }
        })
        .collect();
    let top = days
        .iter()
        .max_by(|a, b| {
            f64_at(a, "cost_usd")
                .unwrap_or(0.0)
                .total_cmp(&f64_at(b, "cost_usd").unwrap_or(0.0))
        })
        .map(|d| format!("{} ({})", shown(d), str_at(d, "date").unwrap_or("?")))
        .unwrap_or_default();
    Some(DailyChart {
        caption: "Billed cost per UTC day, from the CUR's line items (net of credits).".into(),
        top,
        first: columns.first().map(|c| c.date.clone()).unwrap_or_default(),
        last: columns.last().map(|c| c.date.clone()).unwrap_or_default(),
        legend: vec![LegendItem {
            class: "s0".into(),
            label: "billed (CUR)".into(),
        }],
        columns,
        marker: false,
        height: chart::COLUMNS_HEIGHT,
        width: chart::COLUMNS_WIDTH,
    })
}

/// What the engine read: the embedded reader's objects, or the Athena query.
fn read(r: &Value) -> Option<String> {
    let n = |v: &Value, key: &str| format_field(key, v.get(key).unwrap_or(&Value::Null), false);
    if let Some(scan) = r.get("scan") {
        return Some(format!(
            "Read {} object(s) of the export: {} of {} bytes ({} %), {} row group(s) of which \
             {} skipped by their dates, {} rows in {} s.",
            n(scan, "objects"),
            n(scan, "bytes_read"),
            n(scan, "object_bytes"),
            n(scan, "percent_read"),
            n(scan, "row_groups"),
            n(scan, "row_groups_skipped"),
            n(scan, "rows_read"),
            n(scan, "seconds"),
        ));
    }
    let a = r.get("athena")?;
    Some(format!(
        "Athena query {} over {} (workgroup {}): scanned {} bytes, about {}, {} result row(s).",
        str_at(a, "query_execution_id").unwrap_or("?"),
        a.get("table")
            .and_then(|t| str_at(t, "name"))
            .unwrap_or("?"),
        str_at(a, "workgroup").unwrap_or("?"),
        n(a, "data_scanned_bytes"),
        n(a, "cost_usd"),
        n(a, "result_rows"),
    ))
}

/// What a row that is no value stands for, as the legend and the table say it.
fn kind_text(kind: &str) -> &'static str {
    match kind {
        "value" => "a value",
        "no_key" => "records without the key",
        "not_in_logs" => "billed tokens the logs do not cover",
        "not_tokens" => "Bedrock spend that is not tokens",
        "adjustments" => "credits, refunds and discounts",
        _ => "other",
    }
}

/// `--allocate meta:KEY`: the allocation rows by cost as the JSON orders them (the values, then
/// the rows that are no value, hatched), and the total they add up to.
fn allocation(r: &Value) -> Option<AllocationView> {
    let a = r.get("allocation")?;
    let key = str_at(a, "key").unwrap_or("?");
    let rows = array_at(a, "rows");
    let cents_of = |row: &Value| (f64_at(row, "cost_usd").unwrap_or(0.0) * 100.0).round() as i64;
    let drafts = rows
        .iter()
        .map(|row| {
            let value = str_at(row, "kind") == Some("value");
            let label = str_at(row, "label").unwrap_or("?").to_string();
            let amount = f64_at(row, "cost_usd").unwrap_or(0.0);
            let mut d = Draft::one(
                label,
                amount,
                cents(amount),
                if value { "s0" } else { "hatch" },
            );
            if let Some(exact) = f64_at(row, "exact_cost_usd") {
                d.segments[0].2 = format!("{}: {} (exactly ${exact})", d.label, d.value);
            }
            if !value {
                d.full = Some(kind_text(str_at(row, "kind").unwrap_or("")).to_string());
            }
            d.hatched = !value;
            d
        })
        .collect();
    let total = f64_at(a, "total_cost_usd").unwrap_or(0.0);
    let sum: i64 = rows.iter().map(cents_of).sum();
    let chart = bar_chart(
        "allocation",
        format!("The bill split by request metadata {key}"),
        format!(
            "Each billed bucket (day, account, region, model, token kind, principal) split among \
             the values of {key} by their tokens in the invocation logs. Hatched: what is no \
             value; a negative cost (credits) draws no bar. The rows add up to the bill, {}.",
            cents(total)
        ),
        vec![
            LegendItem {
                class: "s0".into(),
                label: format!("a value of {key}"),
            },
            LegendItem {
                class: "hatch".into(),
                label: format!(
                    "no value: (no {key}), (not in the logs), (not token usage), (adjustments)"
                ),
            },
        ],
        drafts,
    );
    Some(AllocationView {
        chart,
        rows: rows
            .iter()
            .map(|row| AllocationRow {
                label: str_at(row, "label").unwrap_or("?").to_string(),
                kind: kind_text(str_at(row, "kind").unwrap_or("")).to_string(),
                value: str_at(row, "kind") == Some("value"),
                cost: cents(f64_at(row, "cost_usd").unwrap_or(0.0)),
                tokens: match row.get("tokens") {
                    Some(t) if t.as_u64().unwrap_or(0) > 0 => format_field("tokens", t, false),
                    _ => String::new(),
                },
            })
            .collect(),
        total: cents(total),
        sum: cents(sum as f64 / 100.0),
        adds_up: sum == (total * 100.0).round() as i64,
        a: a.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(rows: Value, allocation: Option<Value>) -> Value {
        let mut r = json!({
            "source": "cur",
            "engine": "embedded",
            "export": {"bucket": "b", "prefix": "cur", "export": "e"},
            "start": "2026-11-02",
            "end": "2026-11-04",
            "periods": ["2026-11"],
            "by": ["principal"],
            "rows": rows,
            "totals": {"cost_usd": 6.53},
            "notes": [],
        });
        if let Some(a) = allocation {
            r["allocation"] = a;
        }
        r
    }

    #[test]
    fn rows_are_labelled_as_the_text_report_labels_them() {
        let r = report(
            json!([
                {"principal": "Gateway/gw", "principal_arn": "arn:aws:sts::1:assumed-role/Gateway/gw",
                 "cost_usd": 7.5, "unattributed": false, "adjustments": false},
                {"principal": null, "cost_usd": 1.0, "unattributed": true, "adjustments": false},
                {"principal": null, "cost_usd": -1.0, "unattributed": false, "adjustments": true,
                 "line_item_types": {"Credit": -1.0}},
            ]),
            None,
        );
        let s = cur_section(&r);
        let labels: Vec<&str> = s.rows.iter().map(|g| g.cells[0].label.as_str()).collect();
        assert_eq!(labels, ["Gateway/gw", "(unattributed)", "(adjustments)"]);
        assert_eq!(
            s.rows[0].cells[0].sub.as_deref(),
            Some("arn:aws:sts::1:assumed-role/Gateway/gw")
        );
        assert_eq!(
            s.rows.iter().map(|g| g.hatched).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert_eq!(s.rows[2].types.as_deref(), Some("Credit -$1.00"));
        assert_eq!(s.last, "2026-11-03", "end is exclusive");
        assert_eq!(s.export, "s3://b/cur/e");
        assert!(s.allocation.is_none());
    }

    #[test]
    fn the_table_keeps_the_hatched_rows_past_the_cut_and_counts_the_rest() {
        let mut rows: Vec<Value> = (0..MAX_TABLE_ROWS + 5)
            .map(|i| json!({"principal": format!("p{i}"), "cost_usd": 1.0, "unattributed": false}))
            .collect();
        rows.insert(
            3,
            json!({"principal": null, "cost_usd": 0.5, "unattributed": true}),
        );
        let s = cur_section(&report(Value::Array(rows), None));
        assert_eq!(s.rows.len(), MAX_TABLE_ROWS);
        assert_eq!(s.rows_left_out, 6);
        assert!(s.rows[3].hatched, "in the JSON's order");
        assert_eq!(
            s.rows.last().map(|g| g.cells[0].label.as_str()),
            Some("p198")
        );
        let chart = s.rows_chart.expect("chart");
        assert!(chart.rows.iter().any(|r| r.hatched));
        assert_eq!(
            chart.rows.len() + chart.more,
            MAX_TABLE_ROWS,
            "the table's rows"
        );
    }

    #[test]
    fn allocation_rows_are_shown_to_the_cent_and_checked_against_the_bill() {
        let a = json!({
            "by": "meta:user", "key": "user", "logs": "s3://logs", "total_cost_usd": 6.53,
            "records": 5, "records_without_key": 1, "notes": [],
            "rows": [
                {"value": "ana", "label": "ana", "kind": "value", "cost_usd": 1.83, "exact_cost_usd": 1.833333, "tokens": 7000},
                {"value": "bo", "label": "bo", "kind": "value", "cost_usd": 0.8, "exact_cost_usd": 0.8, "tokens": 3500},
                {"value": null, "label": "(no user)", "kind": "no_key", "cost_usd": 0.2, "exact_cost_usd": 0.2, "tokens": 2000},
                {"value": null, "label": "(not in the logs)", "kind": "not_in_logs", "cost_usd": 2.2, "exact_cost_usd": 2.2, "tokens": 0},
                {"value": null, "label": "(not token usage)", "kind": "not_tokens", "cost_usd": 2.5, "exact_cost_usd": 2.5, "tokens": 0},
                {"value": null, "label": "(adjustments)", "kind": "adjustments", "cost_usd": -1.0, "exact_cost_usd": -1.0, "tokens": 0},
            ],
        });
        let v = allocation(&report(json!([]), Some(a))).expect("allocation");
        let costs: Vec<&str> = v.rows.iter().map(|r| r.cost.as_str()).collect();
        assert_eq!(
            costs,
            ["$1.83", "$0.80", "$0.20", "$2.20", "$2.50", "-$1.00"]
        );
        assert_eq!(v.total, "$6.53");
        assert_eq!(v.sum, "$6.53");
        assert!(v.adds_up);
        let hatched: Vec<bool> = v.chart.rows.iter().map(|r| r.hatched).collect();
        assert_eq!(hatched, [false, false, true, true, true, true]);
        assert_eq!(v.rows[3].tokens, "", "no tokens: an empty cell");
    }

    #[test]
    fn an_allocation_that_does_not_add_up_says_so() {
        let a = json!({
            "key": "user", "total_cost_usd": 1.0,
            "rows": [{"label": "ana", "kind": "value", "cost_usd": 0.99}],
        });
        let v = allocation(&report(json!([]), Some(a))).expect("allocation");
        assert!(!v.adds_up);
        assert_eq!(v.sum, "$0.99");
    }

    #[test]
    fn the_daily_chart_has_a_column_per_day_scaled_to_the_largest() {
        let mut r = report(json!([]), None);
        r["daily"] = json!([
            {"date": "2026-11-02", "cost_usd": 2.0},
            {"date": "2026-11-03", "cost_usd": 4.0},
        ]);
        let d = daily_chart(&r).expect("daily");
        assert_eq!(d.columns.len(), 2);
        assert_eq!(d.top, "$4.00 (2026-11-03)");
        let h = |i: usize| d.columns[i].segments[0].height;
        assert!((h(1) / h(0) - 2.0).abs() < 0.01, "{} {}", h(0), h(1));
    }
}
