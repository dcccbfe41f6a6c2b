//! Text and CSV renderings of a [`CurReport`]; JSON is its `Serialize`.

use std::fmt;

use comfy_table::{CellAlignment, Table};

use super::super::render::{count, usd};
use super::CurReport;

/// Width of the `--daily` bars.
const BAR_WIDTH: usize = 40;

impl CurReport {
    /// A header (one column per `--by` dimension, then the sums) and one row per group; an
    /// unattributed dimension is an empty field, as is every dimension of the adjustments row
    /// (`adjustments` true). With `--daily`, one row per day instead.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = crate::ui::csv::Writer::new();
        if let Some(a) = &self.allocation {
            writer.write_record([a.by.as_str(), "row", "cost_usd", "exact_cost_usd", "tokens"])?;
            for r in &a.rows {
                writer.write_record([
                    r.value.clone().unwrap_or_default(),
                    r.kind.to_string(),
                    format!("{:.2}", r.cost_usd),
                    r.exact_cost_usd.to_string(),
                    r.tokens.to_string(),
                ])?;
            }
        } else if let Some(days) = &self.daily {
            writer.write_record(["date", "cost_usd"])?;
            for d in days {
                writer.write_record([d.date.to_string(), d.cost_usd.to_string()])?;
            }
        } else {
            let mut header: Vec<String> = Vec::new();
            for d in &self.by {
                header.push(d.clone());
                match d.as_str() {
                    "principal" => header.push("principal_arn".into()),
                    "profile" => header.push("profile_arn".into()),
                    _ => {}
                }
            }
            header.extend(
                [
                    "cost_usd",
                    "usage_amount",
                    "line_items",
                    "unattributed",
                    "share_percent",
                    "adjustments",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            writer.write_record(&header)?;
            for row in &self.rows {
                let mut record: Vec<String> = Vec::new();
                for d in &self.by {
                    let field = |k: &str| {
                        row.keys
                            .get(k)
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .to_string()
                    };
                    record.push(field(d));
                    match d.as_str() {
                        "principal" => record.push(field("principal_arn")),
                        "profile" => record.push(field("profile_arn")),
                        _ => {}
                    }
                }
                record.push(row.cost_usd.to_string());
                record.push(row.usage_amount.to_string());
                record.push(row.line_items.to_string());
                record.push(row.unattributed.to_string());
                record.push(row.share_percent.map(|s| s.to_string()).unwrap_or_default());
                record.push(row.adjustments.to_string());
                writer.write_record(&record)?;
            }
        }
        writer.into_string()
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for CurReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.end.pred_opt().unwrap_or(self.end);
        writeln!(
            f,
            "Billed Bedrock spend from the CUR 2.0 export {}, {} to {} (BILLING_PERIOD={}), by {}",
            self.export.export,
            self.start,
            last,
            self.periods.join(", "),
            self.by.join(", ")
        )?;
        let mut table = Table::new();
        let mut header: Vec<String> = self.by.clone();
        header.extend([
            "Cost".into(),
            "Share".into(),
            "Usage".into(),
            "Line items".into(),
        ]);
        table
            .load_style(crate::ui::TABLE_STYLE)
            .force_no_tty()
            .set_header(header);
        for row in &self.rows {
            let mut cells: Vec<String> = row.labels.clone();
            cells.push(usd(row.cost_usd));
            cells.push(
                row.share_percent
                    .map(|s| format!("{s:.1} %"))
                    .unwrap_or_default(),
            );
            cells.push(format!("{:.2}", row.usage_amount));
            cells.push(count(row.line_items));
            table.add_row(cells);
        }
        let mut total: Vec<String> = vec![String::new(); self.by.len()];
        if let Some(first) = total.first_mut() {
            *first = if self.totals.adjustments_cost_usd == 0.0 {
                "Total".into()
            } else {
                "Total (net)".into()
            };
        }
        total.push(usd(self.totals.cost_usd));
        total.push(String::new());
        total.push(format!("{:.2}", self.totals.usage_amount));
        total.push(count(self.totals.line_items));
        table.add_row(total);
        for i in self.by.len()..self.by.len() + 4 {
            if let Some(column) = table.column_mut(i) {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        writeln!(f, "{table}")?;
        if let Some(types) = self
            .rows
            .iter()
            .find(|r| r.adjustments)
            .and_then(|r| r.line_item_types.as_ref())
        {
            let each: Vec<String> = types
                .iter()
                .map(|(t, c)| format!("{t} {}", usd(*c)))
                .collect();
            writeln!(
                f,
                "Gross usage: {}; adjustments (no principal, tag or profile: {}): {}; net total: {} \
                 (Cost Explorer's unblended cost). Shares are of gross usage.",
                usd(self.totals.gross_usage_cost_usd),
                each.join(", "),
                usd(self.totals.adjustments_cost_usd),
                usd(self.totals.cost_usd)
            )?;
        }
        if self.totals.unattributed_cost_usd > 0.0 {
            writeln!(
                f,
                "Unattributed (no principal, tag or profile on the line): {}",
                usd(self.totals.unattributed_cost_usd)
            )?;
        }
        if let Some(billed) = self.billed_cost_usd {
            writeln!(
                f,
                "Cost Explorer for the same days: {} (CUR minus Cost Explorer: {})",
                usd(billed),
                usd(self.totals.cost_usd - billed)
            )?;
        }
        for u in &self.unmapped_usage_types {
            writeln!(
                f,
                "(unmapped) {} / {}: {}",
                u.service,
                u.usage_type,
                usd(u.cost_usd)
            )?;
        }
        if let Some(days) = &self.daily {
            let top = days.iter().map(|d| d.cost_usd).fold(0.0, f64::max);
            writeln!(f)?;
            for d in days {
                let length = if top > 0.0 {
                    ((d.cost_usd / top) * BAR_WIDTH as f64).round() as usize
                } else {
                    0
                };
                writeln!(
                    f,
                    "{} {:<BAR_WIDTH$} {}",
                    d.date,
                    "█".repeat(length),
                    usd(d.cost_usd)
                )?;
            }
        }
        if let Some(scan) = &self.scan {
            writeln!(
                f,
                "Read {} object(s): {} of {} ({} %), {} of {} row group(s), {} rows in {:.2} s",
                scan.objects,
                bytes(scan.bytes_read),
                bytes(scan.object_bytes),
                scan.percent_read,
                scan.row_groups - scan.row_groups_skipped,
                scan.row_groups,
                count(scan.rows_read),
                scan.seconds
            )?;
        }
        if let Some(a) = &self.athena {
            writeln!(
                f,
                "Athena query {} over {} (workgroup {}): scanned {}, about {} ({} result page(s))",
                a.query_execution_id,
                a.table.name,
                a.workgroup,
                bytes(a.data_scanned_bytes),
                usd(a.cost_usd),
                a.result_pages
            )?;
        }
        if let Some(a) = &self.allocation {
            writeln!(f)?;
            writeln!(
                f,
                "The bill split by request metadata {} (tokens in {}; {} record(s), {} without {}):",
                a.by,
                a.logs,
                count(a.records),
                count(a.records_without_key),
                a.key
            )?;
            let mut table = Table::new();
            table
                .load_style(crate::ui::TABLE_STYLE)
                .force_no_tty()
                .set_header(vec![a.by.as_str(), "Cost", "Tokens"]);
            for r in &a.rows {
                table.add_row(vec![
                    r.label.clone(),
                    format!("{:.2}", r.cost_usd),
                    if r.tokens > 0 {
                        count(r.tokens)
                    } else {
                        String::new()
                    },
                ]);
            }
            table.add_row(vec![
                "Total (the bill)".to_string(),
                format!("{:.2}", a.total_cost_usd),
                String::new(),
            ]);
            for i in 1..3 {
                if let Some(column) = table.column_mut(i) {
                    column.set_cell_alignment(CellAlignment::Right);
                }
            }
            writeln!(f, "{table}")?;
            for note in &a.notes {
                writeln!(f, "Note: {note}")?;
            }
        }
        for note in &self.notes {
            writeln!(f, "Note: {note}")?;
        }
        Ok(())
    }
}
