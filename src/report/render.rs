//! Text (an aligned table) and CSV renderings of a [`Report`]. JSON is its `Serialize`.

use std::fmt;

use comfy_table::{CellAlignment, Table};

use super::Report;
use super::billing::{BILLED_COLUMNS, Billing};
use super::daily::DayUsage;
use super::principals::PrincipalUsage;
use crate::ui::csv::Writer as SafeCsv;

/// The CSV header: one row per model follows.
pub const CSV_HEADER: [&str; 13] = [
    "model_id",
    "invocations",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "avg_latency_ms",
    "p99_latency_ms",
    "client_errors",
    "server_errors",
    "throttles",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
    "price_key",
];

/// The columns `--compare` adds after [`CSV_HEADER`].
pub const COMPARE_COLUMNS: [&str; 10] = [
    "logs_invocations",
    "logs_input_tokens",
    "logs_output_tokens",
    "billed_cost_usd",
    "difference_invocations",
    "difference_input_tokens",
    "difference_output_tokens",
    "difference_cost_usd",
    "difference_cost_percent",
    "flagged",
];

impl Report {
    /// A header and one row per model; empty fields for `null` (an unpriced cost, an
    /// unavailable latency). Costs are USD, latencies milliseconds.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        // With other sources than the metrics (`--compare`), their figures follow per row.
        let compared = self.source.iter().any(|s| *s != "metrics");
        let with_profiles = self.models.iter().any(|m| m.profile.is_some());
        let with_mantle = self
            .models
            .iter()
            .any(|m| m.endpoint == super::metrics::Endpoint::Mantle);
        let mut writer = SafeCsv::new();
        let mut header: Vec<&str> = CSV_HEADER.to_vec();
        if compared {
            header.extend(COMPARE_COLUMNS);
        }
        if with_profiles {
            header.extend(["profile_name", "profile_model"]);
        }
        if with_mantle {
            header.push("endpoint");
        }
        writer.write_record(&header)?;
        for m in &self.models {
            let mut record = vec![
                m.model_id.clone(),
                m.invocations.to_string(),
                m.input_tokens.to_string(),
                m.output_tokens.to_string(),
                optional(m.cost_usd),
                optional(m.avg_latency_ms),
                optional(m.p99_latency_ms),
                m.client_errors.to_string(),
                m.server_errors.to_string(),
                m.throttles.to_string(),
                m.cache_read_input_tokens.to_string(),
                m.cache_write_input_tokens.to_string(),
                m.price_key.clone().unwrap_or_default(),
            ];
            if compared {
                let int = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                let logs = m.logs;
                let d = m.differences.as_ref();
                record.extend([
                    logs.map(|l| l.invocations.to_string()).unwrap_or_default(),
                    logs.map(|l| l.input_tokens.to_string()).unwrap_or_default(),
                    logs.map(|l| l.output_tokens.to_string())
                        .unwrap_or_default(),
                    optional(m.billed.as_ref().map(|b| b.cost_usd)),
                    int(d.and_then(|d| d.invocations)),
                    int(d.and_then(|d| d.input_tokens)),
                    int(d.and_then(|d| d.output_tokens)),
                    optional(d.and_then(|d| d.cost_usd)),
                    optional(d.and_then(|d| d.cost_percent)),
                    d.map(|d| d.flagged.to_string()).unwrap_or_default(),
                ]);
            }
            if with_profiles {
                let p = m.profile.as_ref();
                record.extend([
                    p.map(|p| p.name.clone()).unwrap_or_default(),
                    p.map(|p| p.model.clone()).unwrap_or_default(),
                ]);
            }
            if with_mantle {
                record.push(
                    match m.endpoint {
                        super::metrics::Endpoint::Runtime => "runtime",
                        super::metrics::Endpoint::Mantle => "mantle",
                    }
                    .to_string(),
                );
            }
            writer.write_record(&record)?;
        }
        writer.into_string()
    }

    /// The billed figures as CSV: one row per model as billed, then one per unmapped usage type
    /// (a header only when there are none).
    pub fn billing_to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = SafeCsv::new();
        // The CSV has the costs and the input and output tokens.
        let header = ["model", "service", "usage_type"]
            .into_iter()
            .chain(BILLED_COLUMNS[..7].iter().copied());
        writer.write_record(header)?;
        if let Some(b) = &self.billing {
            for m in &b.models {
                writer.write_record([
                    m.model.clone(),
                    String::new(),
                    String::new(),
                    m.input_cost_usd.to_string(),
                    m.output_cost_usd.to_string(),
                    m.cache_cost_usd.to_string(),
                    m.other_cost_usd.to_string(),
                    m.cost_usd.to_string(),
                    m.input_tokens.map(|t| t.to_string()).unwrap_or_default(),
                    m.output_tokens.map(|t| t.to_string()).unwrap_or_default(),
                ])?;
            }
            for u in &b.unmapped_usage_types {
                writer.write_record([
                    String::new(),
                    u.service.clone(),
                    u.usage_type.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    u.cost_usd.to_string(),
                    u.cost_usd.to_string(),
                    String::new(),
                    String::new(),
                ])?;
            }
        }
        writer.into_string()
    }

    /// `--by-tag` as CSV: one row per tag value (empty for untagged spend).
    pub fn by_tag_to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = SafeCsv::new();
        writer.write_record(["tag_key", "tag_value", "cost_usd"])?;
        if let Some(tags) = self.billing.as_ref().and_then(|b| b.by_tag.as_ref()) {
            for v in &tags.values {
                writer.write_record([
                    tags.key.clone(),
                    v.value.clone().unwrap_or_default(),
                    v.cost_usd.to_string(),
                ])?;
            }
        }
        writer.into_string()
    }

    /// `--daily` as CSV: one row per UTC day; empty fields where a source has no figure.
    pub fn daily_to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = SafeCsv::new();
        writer.write_record([
            "date",
            "invocations",
            "input_tokens",
            "output_tokens",
            "estimated_cost_usd",
            "billed_cost_usd",
            "billed_tokens",
        ])?;
        for d in self.daily.iter().flatten() {
            writer.write_record([
                d.date.to_string(),
                d.invocations.to_string(),
                d.input_tokens.to_string(),
                d.output_tokens.to_string(),
                optional(d.estimated_cost_usd),
                optional(d.billed_cost_usd),
                d.billed_tokens.map(|t| t.to_string()).unwrap_or_default(),
            ])?;
        }
        writer.into_string()
    }

    /// The per-principal breakdown as CSV (a header only when there is none).
    pub fn principals_to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = SafeCsv::new();
        writer.write_record([
            "principal",
            "model_id",
            "invocations",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ])?;
        for p in self.principals.iter().flatten() {
            writer.write_record([
                p.principal.clone(),
                p.model_id.clone(),
                p.invocations.to_string(),
                p.input_tokens.to_string(),
                p.output_tokens.to_string(),
                optional(p.cost_usd),
            ])?;
        }
        writer.into_string()
    }
}

fn optional(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Bedrock usage in {}, {} to {} ({})",
            self.region,
            self.window.start.format("%Y-%m-%d %H:%M UTC"),
            self.window.end.format("%Y-%m-%d %H:%M UTC"),
            hours(self.window.hours),
        )?;
        writeln!(f)?;
        if !self.source.contains(&"metrics") {
            // Billed figures only (below).
        } else if self.models.is_empty() {
            writeln!(f, "No Bedrock invocations in this window.")?;
        } else {
            writeln!(f, "{}", self.models_table().trim_fmt())?;
            writeln!(f)?;
            let t = &self.totals;
            write!(
                f,
                "Total: {} invocations, {} input and {} output tokens, estimated {}",
                count(t.invocations),
                count(t.input_tokens),
                count(t.output_tokens),
                usd(t.cost_usd),
            )?;
            if t.unpriced_models > 0 {
                write!(
                    f,
                    " (without {} unpriced model{})",
                    t.unpriced_models,
                    if t.unpriced_models == 1 { "" } else { "s" }
                )?;
            }
            writeln!(f)?;
            let p = &self.projection;
            writeln!(
                f,
                "Projected {}-day month at this rate (from the metrics): {} invocations, {}",
                p.days,
                count(p.monthly_invocations),
                usd(p.monthly_cost_usd),
            )?;
        }
        if self.source.contains(&"metrics") {
            writeln!(
                f,
                "Prices: {} on-demand list prices from {}; [pricing] entries in the config \
                 override them.",
                self.prices_region,
                self.prices.describe()
            )?;
        }
        if let Some(billing) = &self.billing {
            write_billing(f, billing, self.ce_requests)?;
        }
        if let Some(days) = &self.daily {
            writeln!(f)?;
            if days.is_empty() {
                writeln!(f, "By day: no usage in this window.")?;
            } else {
                writeln!(f, "By day (UTC):")?;
                write!(f, "{}", bars(days, 40))?;
            }
        }
        if self.models.iter().any(|m| m.logs.is_some()) {
            writeln!(f)?;
            writeln!(f, "Counted in the invocation logs:")?;
            writeln!(f, "{}", self.logs_table().trim_fmt())?;
        }
        if self.models.iter().any(|m| m.billed.is_some()) {
            writeln!(f)?;
            writeln!(f, "Estimate against the bill:")?;
            writeln!(f, "{}", self.comparison_table().trim_fmt())?;
        }
        if let Some(principals) = &self.principals {
            writeln!(f)?;
            writeln!(f, "By principal:")?;
            writeln!(f, "{}", principals_table(principals).trim_fmt())?;
            if let Some(check) = &self.principals_check {
                writeln!(
                    f,
                    "Logs vs metrics: invocations {} vs {}, input tokens {} vs {}, output tokens {} vs {}.",
                    count(check.logs.invocations),
                    count(check.metrics.invocations),
                    count(check.logs.input_tokens),
                    count(check.metrics.input_tokens),
                    count(check.logs.output_tokens),
                    count(check.metrics.output_tokens),
                )?;
            }
        }
        if let Some(meta) = &self.by_meta {
            writeln!(f)?;
            write!(f, "{meta}")?;
        }
        if let Some(cur) = &self.cur {
            writeln!(f)?;
            write!(f, "{cur}")?;
        }
        if let Some(quotas) = &self.quotas {
            writeln!(f)?;
            write!(f, "{quotas}")?;
        }
        if !self.notes.is_empty() {
            writeln!(f)?;
            writeln!(f, "Notes:")?;
            for note in &self.notes {
                writeln!(f, "  - {note}")?;
            }
        }
        Ok(())
    }
}

impl Report {
    fn models_table(&self) -> Table {
        let mut table = new_table(&[
            "Model",
            "Invocations",
            "Input tokens",
            "Output tokens",
            "Cost (USD)",
            "Avg latency",
            "p99 latency",
            "Client errors",
            "Server errors",
            "Throttles",
        ]);
        for m in &self.models {
            table.add_row(vec![
                m.label(),
                count(m.invocations),
                count(m.input_tokens),
                count(m.output_tokens),
                m.cost_usd.map(usd).unwrap_or_else(|| "unpriced".into()),
                millis(m.avg_latency_ms),
                millis(m.p99_latency_ms),
                count(m.client_errors),
                count(m.server_errors),
                count(m.throttles),
            ]);
        }
        let t = &self.totals;
        table.add_row(vec![
            "Total".to_string(),
            count(t.invocations),
            count(t.input_tokens),
            count(t.output_tokens),
            usd(t.cost_usd),
            String::new(),
            String::new(),
            count(t.client_errors),
            count(t.server_errors),
            count(t.throttles),
        ]);
        table
    }
}

fn write_billing(f: &mut fmt::Formatter<'_>, b: &Billing, requests: u32) -> fmt::Result {
    writeln!(f)?;
    let days = match (b.start, b.end) {
        (Some(start), Some(end)) => {
            format!("{start} to {} (UTC days)", end.pred_opt().unwrap_or(end))
        }
        _ => String::new(),
    };
    writeln!(
        f,
        "Billed by Cost Explorer, {days}{}:",
        if b.complete { "" } else { ", incomplete" }
    )?;
    if let Some(tags) = &b.by_tag {
        let mut table = new_table(&[&format!("Tag {}", tags.key), "Billed (USD)"]);
        for v in &tags.values {
            table.add_row(vec![
                v.value.clone().unwrap_or_else(|| "(untagged)".into()),
                usd(v.cost_usd),
            ]);
        }
        writeln!(f, "{}", table.trim_fmt())?;
    } else if b.models.is_empty() && b.unmapped_usage_types.is_empty() {
        writeln!(f, "No billed Bedrock spend in this window.")?;
    } else {
        let mut table = new_table(&[
            "Model (as billed)",
            "Input",
            "Output",
            "Cache",
            "Other",
            "Total (USD)",
            "Input tokens",
            "Output tokens",
        ]);
        for m in &b.models {
            table.add_row(vec![
                m.model.clone(),
                usd(m.input_cost_usd),
                usd(m.output_cost_usd),
                usd(m.cache_cost_usd),
                usd(m.other_cost_usd),
                usd(m.cost_usd),
                m.input_tokens.map(count).unwrap_or_else(|| "n/a".into()),
                m.output_tokens.map(count).unwrap_or_else(|| "n/a".into()),
            ]);
        }
        for u in &b.unmapped_usage_types {
            table.add_row(vec![
                format!("(unmapped) {} / {}", u.service, u.usage_type),
                String::new(),
                String::new(),
                String::new(),
                usd(u.cost_usd),
                usd(u.cost_usd),
                String::new(),
                String::new(),
            ]);
        }
        writeln!(f, "{}", table.trim_fmt())?;
    }
    if !b.services.is_empty() {
        let services: Vec<String> = b
            .services
            .iter()
            .map(|s| format!("{} {}", s.service, usd(s.cost_usd)))
            .collect();
        writeln!(f, "Counted as Bedrock spend: {}.", services.join(", "))?;
    }
    writeln!(
        f,
        "Billed total: {} ({requests} Cost Explorer request{}, $0.01 each).",
        usd(b.total_cost_usd),
        if requests == 1 { "" } else { "s" }
    )?;
    if let Some(p) = &b.projection {
        writeln!(
            f,
            "Billed projection to month end (Cost Explorer forecast): {} so far + {} forecast = {}.",
            usd(p.month_to_date_usd),
            usd(p.forecast_rest_of_month_usd),
            usd(p.month_end_usd)
        )?;
    }
    Ok(())
}

impl Report {
    fn logs_table(&self) -> Table {
        let with_metrics = self.source.contains(&"metrics");
        let mut header = vec!["Model", "Invocations", "Input tokens", "Output tokens"];
        if with_metrics {
            header.extend(["Δ invocations", "Δ input", "Δ output"]);
        }
        let mut table = new_table(&header);
        for m in &self.models {
            let Some(l) = m.logs else { continue };
            let mut row = vec![
                m.label(),
                count(l.invocations),
                count(l.input_tokens),
                count(l.output_tokens),
            ];
            if let Some(d) = &m.differences {
                let signed = |v: Option<i64>| v.map(|v| format!("{v:+}")).unwrap_or_default();
                row.extend([
                    signed(d.invocations),
                    signed(d.input_tokens),
                    signed(d.output_tokens),
                ]);
            }
            table.add_row(row);
        }
        table
    }

    fn comparison_table(&self) -> Table {
        let mut table = new_table(&[
            "Model",
            "Billed as",
            "Estimate (USD)",
            "Billed (USD)",
            "Difference",
            "%",
            "",
        ]);
        for m in self.models.iter().filter(|m| m.billed.is_some()) {
            let billed = m.billed.as_ref();
            let d = m.differences.as_ref();
            table.add_row(vec![
                m.label(),
                billed.map(|b| b.model.clone()).unwrap_or_default(),
                m.cost_usd.map(usd).unwrap_or_else(|| "unpriced".into()),
                billed.map(|b| usd(b.cost_usd)).unwrap_or_default(),
                d.and_then(|d| d.cost_usd).map(usd).unwrap_or_default(),
                d.and_then(|d| d.cost_percent)
                    .map(|p| format!("{p:+.1}"))
                    .unwrap_or_default(),
                if d.is_some_and(|d| d.flagged) {
                    "differs".into()
                } else {
                    String::new()
                },
            ]);
        }
        table
    }
}

fn principals_table(rows: &[PrincipalUsage]) -> Table {
    let mut table = new_table(&[
        "Principal",
        "Model",
        "Invocations",
        "Input tokens",
        "Output tokens",
        "Cost (USD)",
    ]);
    for p in rows {
        table.add_row(vec![
            p.principal.clone(),
            p.model_id.clone(),
            count(p.invocations),
            count(p.input_tokens),
            count(p.output_tokens),
            p.cost_usd.map(usd).unwrap_or_else(|| "unpriced".into()),
        ]);
    }
    table
}

/// A table with a header whose columns after the text ones are right-aligned.
fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(crate::ui::TABLE_STYLE)
        .force_no_tty()
        .set_header(header.to_vec());
    let text_columns = header
        .iter()
        .take_while(|h| matches!(**h, "Model" | "Principal"))
        .count();
    for (index, column) in table.column_iter_mut().enumerate() {
        if index >= text_columns {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// The text bar chart: one bar per day, scaled to the costliest day (the bill where there is
/// one, else the estimate), with cost and tokens.
pub(super) fn bars(days: &[DayUsage], width: usize) -> String {
    let cost = |d: &DayUsage| d.billed_cost_usd.or(d.estimated_cost_usd).unwrap_or(0.0);
    let tokens = |d: &DayUsage| d.billed_tokens.unwrap_or(d.input_tokens + d.output_tokens);
    let by_cost = days.iter().any(|d| cost(d) > 0.0);
    let top = days
        .iter()
        .map(|d| if by_cost { cost(d) } else { tokens(d) as f64 })
        .fold(0.0, f64::max);
    let mut out = String::new();
    for d in days {
        let value = if by_cost { cost(d) } else { tokens(d) as f64 };
        let length = if top > 0.0 {
            ((value / top) * width as f64).round() as usize
        } else {
            0
        };
        let label = if d.billed_cost_usd.is_some() {
            "billed"
        } else {
            "est."
        };
        out.push_str(&format!(
            "{} {:<width$} {} {}, {} tokens\n",
            d.date,
            "█".repeat(length),
            label,
            usd(cost(d)),
            count(tokens(d)),
        ));
    }
    out
}

/// `1234567` → `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Dollars: cents from $1 up, four decimals below (small windows cost fractions of a cent).
/// Negative amounts (a difference) keep their sign.
pub(crate) fn usd(value: f64) -> String {
    let sign = if value < 0.0 { "-" } else { "" };
    let value = value.abs();
    if value == 0.0 {
        "$0.00".into()
    } else if value >= 1.0 {
        let cents = (value * 100.0).round() as u64;
        format!("{sign}${}.{:02}", count(cents / 100), cents % 100)
    } else {
        format!("{sign}${value:.4}")
    }
}

fn millis(value: Option<f64>) -> String {
    match value {
        Some(ms) => format!("{} ms", count(ms.round().max(0.0) as u64)),
        None => "n/a".into(),
    }
}

fn hours(h: f64) -> String {
    if h.fract() == 0.0 {
        format!("{h:.0} h")
    } else {
        format!("{h:.2} h")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.2), "$0.2000");
        assert_eq!(usd(0.00046), "$0.0005");
        assert_eq!(usd(1234.567), "$1,234.57");
        assert_eq!(millis(Some(812.4)), "812 ms");
        assert_eq!(millis(None), "n/a");
        assert_eq!(hours(24.0), "24 h");
        assert_eq!(hours(1.5), "1.50 h");
    }

    use super::super::daily::add_billing;
    use chrono::NaiveDate;

    fn day(date: &str, estimate: Option<f64>, billed: Option<f64>, tokens: u64) -> DayUsage {
        DayUsage {
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"),
            invocations: 1,
            input_tokens: tokens,
            output_tokens: 0,
            estimated_cost_usd: estimate,
            billed_cost_usd: billed,
            billed_tokens: billed.map(|_| tokens),
            models: Vec::new(),
        }
    }

    #[test]
    fn bars_scale_to_the_costliest_day() {
        let days = vec![
            day("2026-11-01", Some(1.0), None, 1000),
            day("2026-11-02", Some(2.0), None, 3000),
            day("2026-11-03", Some(0.0), None, 0),
        ];
        let text = bars(&days, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("2026-11-01 █████ "), "{text}");
        assert!(
            lines[1].starts_with("2026-11-02 ██████████ est. $2.00, 3,000 tokens"),
            "{text}"
        );
        assert!(lines[2].contains("$0.00, 0 tokens"), "{text}");
    }

    #[test]
    fn the_bill_is_preferred_and_adds_its_own_days() {
        let mut days = vec![day("2026-11-02", Some(2.0), None, 3000)];
        let billing = Billing {
            days: vec![
                super::super::billing::BilledDay {
                    date: NaiveDate::parse_from_str("2026-11-01", "%Y-%m-%d").expect("date"),
                    cost_usd: 4.0,
                    tokens: Some(10),
                },
                super::super::billing::BilledDay {
                    date: NaiveDate::parse_from_str("2026-11-02", "%Y-%m-%d").expect("date"),
                    cost_usd: 2.2,
                    tokens: Some(3100),
                },
            ],
            ..Billing::default()
        };
        add_billing(&mut days, &billing);
        assert_eq!(days.len(), 2);
        assert_eq!(days[0].estimated_cost_usd, None);
        assert_eq!(days[1].billed_cost_usd, Some(2.2));
        let text = bars(&days, 10);
        assert!(text.contains("billed $4.00"), "{text}");
    }
}
