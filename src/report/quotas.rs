//! Quota headroom: per model ID (as CloudWatch names it, profiles included) and kind, the
//! applied quota of its scope ([`crate::quotas`]) beside the use CloudWatch measured each
//! minute of the window.
//!
//! What is measured (Bedrock user guide, "Monitor bedrock-runtime inference using CloudWatch
//! metrics"; AWS Machine Learning blog, "Improve operational visibility for inference
//! workloads on Amazon Bedrock with new CloudWatch metrics for TTFT and Estimated Quota
//! Consumption", March 2026):
//! - tokens per minute: the `Sum` over 60 seconds of `EstimatedTPMQuotaUsage` (`AWS/Bedrock`,
//!   dimension `ModelId`, "1-minute aggregation"), which counts tokens as the quota does
//!   (input + cache writes + output × the model's burndown rate). Only successful requests are
//!   counted, so it reads below what throttling sees; the README says so;
//! - requests per minute: the `Sum` over 60 seconds of `Invocations`;
//! - tokens per day: the `EstimatedTPMQuotaUsage` minutes summed per UTC day (the quota is
//!   the per-minute one times 1,440 on AWS's own listing, so it counts the same tokens).
//!
//! No `Unit` is sent: the guide gives `SampleCount` and the blog `Count` for the same metric,
//! and a unit that does not match filters out every datapoint.
//!
//! Per-minute datapoints are kept for 15 days (GetMetricData reference: "Data points with a
//! period of 60 seconds (1-minute) are available for 15 days"), so the window is 1 to
//! [`MAX_DAYS`] days. 14 days are 20,160 points a series: the calls page with `NextToken`
//! ([`super::metrics::get_metric_data`]).
//!
//! Percentiles are over the minutes (days) with use: a model idle most of the window still
//! shows what its busy minutes look like. AWS support's template for an increase asks for
//! "Steady State (p50)" and "Peak (p90)", so both are kept beside p99 and the peak.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Duration, DurationRound, SubsecRound, Utc};
use comfy_table::{CellAlignment, Table};
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::config::{Endpoint, QuotasConfig};
use crate::quotas::{self, Kind, QuotaBook, Scope, UnmappedQuota, grouped};
use crate::ui::csv::Writer as SafeCsv;

use super::metrics::{self, ModelSource};
use super::window::Window;

/// `--days` when not given.
pub const DEFAULT_DAYS: u32 = 14;

/// CloudWatch keeps 1-minute datapoints for 15 days.
pub const MAX_DAYS: u32 = 15;

/// The metric that counts tokens as the TPM quota does (blog and runtime metrics page above).
pub const QUOTA_USAGE_METRIC: &str = "EstimatedTPMQuotaUsage";

/// Successful requests (`Invocations`, runtime metrics page).
pub const INVOCATIONS_METRIC: &str = "Invocations";

/// One minute, the quotas' own period.
const MINUTE: i32 = 60;

/// The statuses of an increase request that is still open (ListRequestedServiceQuotaChangeHistory's
/// `Status` enum: PENDING, CASE_OPENED, APPROVED, DENIED, CASE_CLOSED, NOT_APPROVED,
/// INVALID_REQUEST; the first two are the ones AWS has not decided).
pub const OPEN_STATUSES: [&str; 2] = ["PENDING", "CASE_OPENED"];

/// One model ID and kind: its quota and its use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaRow {
    pub model_id: String,
    pub scope: Scope,
    pub kind: Kind,
    /// The applied quota for this scope; `null` when none matches (listed, not dropped).
    pub quota: Option<f64>,
    pub quota_code: Option<String>,
    pub quota_name: Option<String>,
    pub adjustable: Option<bool>,
    /// Why `quota` is not the listed value (a daily quota doubled for cross-Region calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_note: Option<String>,
    /// The busiest minute's (day's) use; 0 with no use in the window.
    pub peak: f64,
    pub p99: f64,
    pub p90: f64,
    pub p50: f64,
    /// `(quota - peak) / quota`, in percent; negative when the peak went over.
    pub headroom_percent: Option<f64>,
    /// When the peak was (the minute's or day's start, RFC 3339).
    pub busiest: Option<String>,
    /// Minutes (days) with use.
    pub active_periods: usize,
    /// Whether the peak went over `[quotas] alarm_percent` of the quota.
    pub over_alarm_share: bool,
}

/// An increase request AWS has not decided yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenRequest {
    pub id: String,
    pub quota_code: String,
    pub quota_name: String,
    pub desired_value: Option<f64>,
    pub status: String,
    pub created: Option<String>,
    pub case_id: Option<String>,
}

/// `quotas` for one account and Region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaReport {
    pub start: String,
    pub end: String,
    pub days: u32,
    pub alarm_percent: Option<f64>,
    pub rows: Vec<QuotaRow>,
    /// Quotas about model inference that could not be tied to a model.
    pub unmapped_quotas: Vec<UnmappedQuota>,
    pub open_requests: Vec<OpenRequest>,
    pub notes: Vec<String>,
    /// In `report`: where the report's window began, when the rows cover only its part that
    /// CloudWatch still keeps per minute (see [`for_report`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clipped_from: Option<String>,
}

/// The minutes of one series, as CloudWatch answered them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// (Unix seconds, value), in time order.
    pub points: Vec<(i64, f64)>,
}

/// Peak, percentiles and when the peak was, over the periods with use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub peak: f64,
    pub p99: f64,
    pub p90: f64,
    pub p50: f64,
    pub busiest: Option<i64>,
    pub active: usize,
}

impl Series {
    pub fn stats(&self) -> Stats {
        let mut used: Vec<(i64, f64)> = self
            .points
            .iter()
            .copied()
            .filter(|(_, v)| v.is_finite() && *v > 0.0)
            .collect();
        if used.is_empty() {
            return Stats::default();
        }
        // The earliest of equal peaks.
        let (busiest, peak) =
            used.iter()
                .copied()
                .fold((i64::MAX, f64::MIN), |(t0, v0), (t, v)| {
                    if v > v0 || (v == v0 && t < t0) {
                        (t, v)
                    } else {
                        (t0, v0)
                    }
                });
        used.sort_by(|a, b| a.1.total_cmp(&b.1));
        let values: Vec<f64> = used.iter().map(|(_, v)| *v).collect();
        Stats {
            peak,
            p99: nearest_rank(&values, 99.0),
            p90: nearest_rank(&values, 90.0),
            p50: nearest_rank(&values, 50.0),
            busiest: Some(busiest),
            active: values.len(),
        }
    }

    /// The series summed per UTC day.
    pub fn daily(&self) -> Series {
        let mut days: BTreeMap<i64, f64> = BTreeMap::new();
        for (t, v) in &self.points {
            *days.entry(t.div_euclid(86_400) * 86_400).or_default() += v;
        }
        Series {
            points: days.into_iter().collect(),
        }
    }
}

/// The nearest-rank percentile of sorted values (the smallest value with at least `p`% of
/// the values at or below it).
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The window of `days` days ending at the last whole minute before `now`.
pub fn window(days: u32, now: DateTime<Utc>) -> Result<Window, String> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(format!(
            "--days {days}: use 1 to {MAX_DAYS} (CloudWatch keeps per-minute datapoints for 15 days, and quotas are per minute)"
        ));
    }
    let end = now
        .duration_trunc(Duration::minutes(1))
        .map_err(|e| e.to_string())?;
    Window::new(end - Duration::days(i64::from(days)), end, now).map_err(|e| e.to_string())
}

/// What to read: the window, the model IDs the config names (read even without use), and
/// the alarm share.
#[derive(Debug, Clone)]
pub struct Request {
    pub window: Window,
    pub days: u32,
    pub models: Vec<String>,
    pub alarm_percent: Option<f64>,
}

/// Reads the quota book, the per-minute use of every model with metrics in the window (and
/// of the models the config names), and the open increase requests.
pub async fn read(clients: &Clients, request: &Request) -> Result<QuotaReport, AwsError> {
    Ok(read_all(clients, request).await?.report)
}

/// The report and what it was made from.
#[derive(Debug, Clone)]
pub struct Read {
    pub book: QuotaBook,
    pub usage: Usage,
    pub report: QuotaReport,
}

impl Read {
    /// The `n` busiest minutes (days, for a daily quota) of `model_id`, busiest first:
    /// (start in RFC 3339, use).
    pub fn busiest(&self, model_id: &str, kind: Kind, n: usize) -> Vec<(String, f64)> {
        let Some((tokens, requests)) = self.usage.get(model_id) else {
            return Vec::new();
        };
        let series = match kind {
            Kind::TokensPerMinute => tokens.clone(),
            Kind::RequestsPerMinute => requests.clone(),
            Kind::TokensPerDay => tokens.daily(),
        };
        let mut points = series.points;
        points.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        points
            .into_iter()
            .filter(|(_, v)| *v > 0.0)
            .take(n)
            .filter_map(|(t, v)| Some((DateTime::from_timestamp(t, 0)?.to_rfc3339(), v)))
            .collect()
    }
}

/// The part of a report's window the quota section can cover: whole minutes within the last
/// [`MAX_DAYS`] days before `now` (CloudWatch keeps per-minute datapoints for 15 days).
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaWindow {
    /// `None`: the report's window ends before that, and has no per-minute data.
    pub covered: Option<Window>,
    /// Days begun in the covered window (in the report's, when nothing is covered).
    pub days: u32,
    /// The report's start, when the covered window starts later.
    pub clipped_from: Option<DateTime<Utc>>,
}

pub fn quota_window(window: &Window, now: DateTime<Utc>) -> QuotaWindow {
    let last_minute = floor_minute(now);
    let earliest = last_minute - Duration::days(i64::from(MAX_DAYS));
    let start = floor_minute(window.start).max(earliest);
    let end = floor_minute(window.end).min(last_minute);
    let whole_days = |d: Duration| u32::try_from((d.num_minutes() + 1439) / 1440).unwrap_or(0);
    QuotaWindow {
        covered: (end > start).then_some(Window { start, end }),
        days: whole_days(if end > start {
            end - start
        } else {
            window.duration()
        }),
        clipped_from: (start > window.start).then_some(window.start),
    }
}

/// The quota section of `report` (with `[quotas]`): the report's window cut to
/// [`quota_window`], the models `config` names and every model with use. A window wholly
/// older than CloudWatch's per-minute retention has no use to set against the quotas: its rows
/// are empty, the quotas not tied to a model and the open requests are still listed, and a
/// note says why.
pub async fn for_report(
    clients: &Clients,
    config: &QuotasConfig,
    window: &Window,
    now: DateTime<Utc>,
) -> Result<QuotaReport, AwsError> {
    let cut = quota_window(window, now);
    let request = Request {
        window: cut.covered.unwrap_or(*window),
        days: cut.days,
        models: config.models.clone(),
        alarm_percent: Some(config.alarm_percent),
    };
    let mut report = if cut.covered.is_some() {
        read(clients, &request).await?
    } else {
        let (book, open) =
            futures::join!(quotas::read(clients), open_requests(&clients.servicequotas));
        let mut report = build(&book?, &Usage::new(), open?, &request);
        report.notes.push(format!(
            "the report's window ends more than {MAX_DAYS} days ago: CloudWatch keeps \
             per-minute datapoints for 15 days, so there is no per-minute use to set against \
             the quotas"
        ));
        report
    };
    if let (Some(from), Some(_)) = (cut.clipped_from, cut.covered) {
        report.notes.push(format!(
            "per-minute use from {} to {} only: the report's window starts {}, and CloudWatch \
             keeps per-minute datapoints for 15 days",
            report.start,
            report.end,
            from.to_rfc3339()
        ));
    }
    report.clipped_from = cut.clipped_from.map(|t| t.to_rfc3339());
    Ok(report)
}

/// `t` to the start of its minute.
fn floor_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let t = t.trunc_subsecs(0);
    t - Duration::seconds(t.timestamp().rem_euclid(60))
}

/// Like [`read`], keeping the quota book and the series.
pub async fn read_all(clients: &Clients, request: &Request) -> Result<Read, AwsError> {
    let (book, usage, open) = futures::join!(
        quotas::read(clients),
        read_usage(&clients.cloudwatch, request),
        open_requests(&clients.servicequotas),
    );
    let (book, usage) = (book?, usage?);
    let report = build(&book, &usage, open?, request);
    Ok(Read {
        book,
        usage,
        report,
    })
}

/// The per-minute series by model ID: (tokens as the quota counts them, requests).
pub type Usage = BTreeMap<String, (Series, Series)>;

async fn read_usage(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    request: &Request,
) -> Result<Usage, AwsError> {
    let listed = metrics::list_model_ids(cloudwatch, Endpoint::Runtime).await?;
    let mut ids: BTreeSet<String> = listed
        .into_iter()
        .filter(|(_, names)| {
            names.contains(QUOTA_USAGE_METRIC) || names.contains(INVOCATIONS_METRIC)
        })
        .map(|(id, _)| id)
        .collect();
    ids.extend(request.models.iter().cloned());
    let sources: Vec<ModelSource> = ids
        .iter()
        .map(|id| ModelSource {
            endpoint: Endpoint::Runtime,
            id: id.clone(),
            cache_metrics: Vec::new(),
        })
        .collect();
    let mut queries = Vec::with_capacity(sources.len() * 2);
    for (i, source) in sources.iter().enumerate() {
        queries.push(metrics::query(
            format!("m{i}_tpm"),
            source,
            QUOTA_USAGE_METRIC,
            "Sum",
            MINUTE,
        ));
        queries.push(metrics::query(
            format!("m{i}_rpm"),
            source,
            INVOCATIONS_METRIC,
            "Sum",
            MINUTE,
        ));
    }
    let results = if queries.is_empty() {
        metrics::QueryResults::default()
    } else {
        metrics::get_metric_data(cloudwatch, queries, &request.window).await?
    };
    let series = |id: String| Series {
        points: {
            let mut points: Vec<(i64, f64)> = results
                .timestamps
                .get(&id)
                .into_iter()
                .flatten()
                .copied()
                .zip(results.values.get(&id).into_iter().flatten().copied())
                .collect();
            points.sort_by_key(|(t, _)| *t);
            points
        },
    };
    Ok(sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.id.clone(),
                (series(format!("m{i}_tpm")), series(format!("m{i}_rpm"))),
            )
        })
        .collect())
}

/// Open increase requests for Bedrock (ListRequestedServiceQuotaChangeHistory, one call a
/// status, paged).
pub async fn open_requests(
    client: &aws_sdk_servicequotas::Client,
) -> Result<Vec<OpenRequest>, AwsError> {
    let mut open = Vec::new();
    for status in OPEN_STATUSES {
        let mut token: Option<String> = None;
        for _ in 0..1_000 {
            let out = client
                .list_requested_service_quota_change_history()
                .service_code(quotas::SERVICE_CODE)
                .status(aws_sdk_servicequotas::types::RequestStatus::from(status))
                .max_results(quotas::PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await
                .aws("servicequotas:ListRequestedServiceQuotaChangeHistory")?;
            for r in out.requested_quotas() {
                open.push(OpenRequest {
                    id: r.id().unwrap_or_default().to_string(),
                    quota_code: r.quota_code().unwrap_or_default().to_string(),
                    quota_name: r.quota_name().unwrap_or_default().to_string(),
                    desired_value: r.desired_value(),
                    status: r
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    created: r
                        .created()
                        .and_then(|t| DateTime::from_timestamp(t.secs(), 0))
                        .map(|t| t.to_rfc3339()),
                    case_id: r.case_id().map(str::to_string),
                });
            }
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
                _ => break,
            }
        }
    }
    open.sort_by(|a, b| (&a.quota_name, &a.id).cmp(&(&b.quota_name, &b.id)));
    Ok(open)
}

/// The report from what was read: a row per model ID and kind that has a quota, and a
/// tokens-per-minute row for every model ID, quota or not.
pub fn build(
    book: &QuotaBook,
    usage: &Usage,
    open: Vec<OpenRequest>,
    request: &Request,
) -> QuotaReport {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (model_id, (tokens, requests)) in usage {
        for kind in Kind::ALL {
            let limit = book.limit(model_id, kind);
            if limit.is_none() && kind != Kind::TokensPerMinute {
                continue;
            }
            let (series, period) = match kind {
                Kind::TokensPerMinute => (tokens.clone(), "minute"),
                Kind::RequestsPerMinute => (requests.clone(), "minute"),
                Kind::TokensPerDay => (tokens.daily(), "day"),
            };
            let stats = series.stats();
            let quota = limit.as_ref().map(|l| l.value);
            let headroom = quota
                .filter(|q| *q > 0.0)
                .map(|q| round1((q - stats.peak) / q * 100.0));
            let over = match (quota, request.alarm_percent) {
                (Some(q), Some(share)) => stats.peak > q * share / 100.0,
                _ => false,
            };
            if limit.is_none() {
                notes.push(format!(
                    "{model_id}: no applied {} quota matches its model and scope ({}); see unmapped_quotas",
                    kind.abbreviation(),
                    Scope::of_model_id(model_id).as_str()
                ));
            }
            let _ = period;
            rows.push(QuotaRow {
                model_id: model_id.clone(),
                scope: Scope::of_model_id(model_id),
                kind,
                quota,
                quota_code: limit.as_ref().map(|l| l.quota.code.clone()),
                quota_name: limit.as_ref().map(|l| l.quota.name.clone()),
                adjustable: limit.as_ref().map(|l| l.quota.adjustable),
                quota_note: limit.as_ref().and_then(|l| l.note).map(str::to_string),
                peak: stats.peak,
                p99: stats.p99,
                p90: stats.p90,
                p50: stats.p50,
                headroom_percent: headroom,
                busiest: stats
                    .busiest
                    .and_then(|t| DateTime::from_timestamp(t, 0))
                    .map(|t| t.to_rfc3339()),
                active_periods: stats.active,
                over_alarm_share: over,
            });
        }
    }
    if usage.values().all(|(t, _)| t.points.is_empty()) && !usage.is_empty() {
        notes.push(format!(
            "no {QUOTA_USAGE_METRIC} datapoints in the window: AWS publishes it since March 2026, for successful calls"
        ));
    }
    QuotaReport {
        start: request.window.start.to_rfc3339(),
        end: request.window.end.to_rfc3339(),
        days: request.days,
        alarm_percent: request.alarm_percent,
        rows,
        unmapped_quotas: book.unmapped.clone(),
        open_requests: open,
        notes,
        clipped_from: None,
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 13] = [
    "model_id",
    "scope",
    "kind",
    "quota",
    "quota_code",
    "peak",
    "p99",
    "p90",
    "p50",
    "headroom_percent",
    "busiest",
    "active_periods",
    "over_alarm_share",
];

impl QuotaReport {
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut writer = SafeCsv::new();
        writer.write_record(CSV_COLUMNS)?;
        for r in &self.rows {
            writer.write_record([
                r.model_id.clone(),
                r.scope.as_str().to_string(),
                r.kind.as_str().to_string(),
                r.quota.map(number).unwrap_or_default(),
                r.quota_code.clone().unwrap_or_default(),
                number(r.peak),
                number(r.p99),
                number(r.p90),
                number(r.p50),
                r.headroom_percent
                    .map(|h| format!("{h:.1}"))
                    .unwrap_or_default(),
                r.busiest.clone().unwrap_or_default(),
                r.active_periods.to_string(),
                r.over_alarm_share.to_string(),
            ])?;
        }
        writer.into_string()
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

impl fmt::Display for QuotaReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Bedrock quotas and peak use, {} to {} ({} days, per minute)",
            self.start, self.end, self.days
        )?;
        if self.rows.is_empty() {
            writeln!(f, "No model used Bedrock in the window.")?;
        } else {
            let mut table = Table::new();
            table
                .load_style(crate::ui::TABLE_STYLE)
                .force_no_tty()
                .set_header([
                    "Model", "Scope", "Kind", "Quota", "Peak", "p99", "Headroom", "Busiest",
                ]);
            for r in &self.rows {
                let headroom = match r.headroom_percent {
                    Some(h) if r.over_alarm_share => format!("{h:.1}% (over alarm)"),
                    Some(h) => format!("{h:.1}%"),
                    None => "no quota".into(),
                };
                table.add_row([
                    r.model_id.clone(),
                    r.scope.as_str().replace('_', "-"),
                    r.kind.abbreviation().to_string(),
                    r.quota.map(grouped).unwrap_or_else(|| "-".into()),
                    grouped(r.peak),
                    grouped(r.p99),
                    headroom,
                    r.busiest.clone().unwrap_or_default(),
                ]);
            }
            for (index, column) in table.column_iter_mut().enumerate() {
                if (3..7).contains(&index) {
                    column.set_cell_alignment(CellAlignment::Right);
                }
            }
            writeln!(f, "{table}")?;
        }
        if !self.unmapped_quotas.is_empty() {
            writeln!(
                f,
                "\nQuotas not tied to a model ({}):",
                self.unmapped_quotas.len()
            )?;
            for q in &self.unmapped_quotas {
                writeln!(
                    f,
                    "  {} {} = {}: {}",
                    q.code,
                    q.name,
                    grouped(q.value),
                    q.reason
                )?;
            }
        }
        if !self.open_requests.is_empty() {
            writeln!(f, "\nOpen increase requests:")?;
            for r in &self.open_requests {
                writeln!(
                    f,
                    "  {} {} to {} ({}{})",
                    r.quota_code,
                    r.quota_name,
                    r.desired_value.map(grouped).unwrap_or_else(|| "?".into()),
                    r.status,
                    r.case_id
                        .as_deref()
                        .map(|c| format!(", case {c}"))
                        .unwrap_or_default()
                )?;
            }
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_over_the_minutes_with_use() {
        let mut points: Vec<(i64, f64)> = (0..100).map(|i| (i * 60, (i + 1) as f64)).collect();
        points.push((100 * 60, 0.0));
        points.insert(0, (-60, 100.0));
        let stats = Series { points }.stats();
        assert_eq!(stats.peak, 100.0);
        assert_eq!(stats.busiest, Some(-60), "the earliest of equal peaks");
        assert_eq!(stats.active, 101);
        assert_eq!(stats.p50, 51.0);
        assert_eq!(stats.p90, 91.0);
        assert_eq!(stats.p99, 100.0);
        assert_eq!(Series::default().stats(), Stats::default());
    }

    #[test]
    fn days_sum_their_minutes() {
        let s = Series {
            points: vec![(86_400 - 60, 5.0), (86_400, 7.0), (86_400 + 60, 1.0)],
        };
        assert_eq!(s.daily().points, vec![(0, 5.0), (86_400, 8.0)]);
    }

    #[test]
    fn a_reports_window_is_cut_to_the_last_fifteen_days_of_minutes() {
        let at = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .expect("time")
        };
        let now = at("2026-12-07T10:15:42Z");
        let window = |start: &str, end: &str| Window {
            start: at(start),
            end: at(end),
        };
        // A week ending now: whole minutes, not cut.
        let week = quota_window(&window("2026-11-30T10:15:42Z", "2026-12-07T10:15:42Z"), now);
        assert_eq!(
            week.covered,
            Some(window("2026-11-30T10:15:00Z", "2026-12-07T10:15:00Z"))
        );
        assert_eq!((week.days, week.clipped_from), (7, None));
        // Thirty days: the last fifteen, and where the report began.
        let month = quota_window(&window("2026-11-07T00:00:00Z", "2026-12-07T10:00:00Z"), now);
        assert_eq!(
            month.covered,
            Some(window("2026-11-22T10:15:00Z", "2026-12-07T10:00:00Z"))
        );
        assert_eq!(month.days, 15);
        assert_eq!(month.clipped_from, Some(at("2026-11-07T00:00:00Z")));
        // Wholly older: nothing covered; days are the report's.
        let old = quota_window(&window("2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z"), now);
        assert_eq!((old.covered, old.days), (None, 2));
        assert_eq!(old.clipped_from, Some(at("2026-10-01T00:00:00Z")));
        // Six hours: one day begun.
        let hours = quota_window(&window("2026-12-07T04:00:00Z", "2026-12-07T10:00:00Z"), now);
        assert_eq!(hours.days, 1);
    }

    #[test]
    fn the_window_is_whole_minutes_within_cloudwatchs_retention() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:15:42Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("time");
        let w = window(14, now).expect("window");
        assert_eq!(w.end.to_rfc3339(), "2026-12-07T10:15:00+00:00");
        assert_eq!(w.start.to_rfc3339(), "2026-11-23T10:15:00+00:00");
        assert!(window(0, now).is_err());
        assert!(window(16, now).unwrap_err().contains("15 days"));
    }
}
