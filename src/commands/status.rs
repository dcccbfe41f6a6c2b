//! `status`: per component in sync / drifted (expected → actual) / missing / not managed, and
//! the health a user checks after setup. Only reads, ever.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::aws::{AwsError, AwsResultExt};
use crate::cli::StatusArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::diff::show_value;
use crate::engine::{Action, ComponentId, Context, Health, HealthLevel, Ownership, Step};
use crate::targets::Needs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    InSync,
    Drifted,
    Missing,
    NotManaged,
    /// The component could not be read.
    Unknown,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::InSync => "in sync",
            State::Drifted => "drifted",
            State::Missing => "missing",
            State::NotManaged => "not managed",
            State::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub field: String,
    pub expected: Value,
    pub actual: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentStatus {
    pub id: ComponentId,
    pub name: String,
    pub state: State,
    /// What marks it as this stack's (the tag, a dashboard marker, the configured name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Why it is not managed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub health: Vec<Health>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<AwsError>,
    /// Identifiers (ARNs) of what it manages, by label.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ids: std::collections::BTreeMap<String, String>,
}

/// Invocation-log delivery failures over the last hour (the metric Bedrock publishes when it
/// cannot write to CloudWatch Logs or S3).
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryHealth {
    pub window_minutes: u32,
    pub cloudwatch_failures: Option<f64>,
    pub s3_failures: Option<f64>,
    /// Bodies too large for CloudWatch Logs that could not be written to the bucket.
    pub large_data_failures: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub components: Vec<ComponentStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_delivery: Option<DeliveryHealth>,
    /// Principals `[[limits]]` has blocked in this account this period (`limits` has the
    /// detail; `limits unblock` lifts one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<String>,
}

impl StatusReport {
    pub fn needs_apply(&self) -> bool {
        self.components
            .iter()
            .any(|c| matches!(c.state, State::Drifted | State::Missing))
    }

    /// 1 when a component could not be read; with `--detailed-exitcode`, 2 for drift.
    pub fn exit_status(&self, detailed: bool) -> ExitStatus {
        if self.has_errors() {
            ExitStatus::Failure
        } else if detailed && self.needs_apply() {
            ExitStatus::Changes
        } else {
            ExitStatus::Success
        }
    }

    fn has_errors(&self) -> bool {
        self.components.iter().any(|c| c.error.is_some())
    }
}

impl fmt::Display for StatusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = comfy_table::Table::new();
        table.load_style(crate::ui::TABLE_STYLE).force_no_tty();
        table.set_header(["component", "name", "state", "managed by"]);
        for c in &self.components {
            table.add_row([
                c.id.as_str().to_string(),
                c.name.clone(),
                c.state.as_str().to_string(),
                c.evidence
                    .clone()
                    .or_else(|| c.reason.clone())
                    .unwrap_or_default(),
            ]);
        }
        writeln!(
            f,
            "Stack {:?} in account {} ({}):\n",
            self.stack, self.account, self.region
        )?;
        writeln!(f, "{table}")?;
        for c in &self.components {
            let interesting: Vec<&Health> = c.health.iter().collect();
            if c.drift.is_empty() && interesting.is_empty() && c.error.is_none() {
                continue;
            }
            writeln!(f, "\n{}:", c.id)?;
            for d in &c.drift {
                writeln!(
                    f,
                    "  drift  {}: expected {}, actual {}",
                    d.field,
                    short(&d.expected),
                    short(&d.actual)
                )?;
            }
            for h in interesting {
                let mark = match h.level {
                    HealthLevel::Ok => "ok   ",
                    HealthLevel::Warning => "warn ",
                    HealthLevel::Alarm => "ALARM",
                };
                writeln!(f, "  {mark}  {}: {}", h.subject, h.detail)?;
            }
            if let Some(e) = &c.error {
                writeln!(f, "  error  {e}")?;
            }
        }
        if let Some(d) = &self.log_delivery {
            let show = |v: Option<f64>| v.map(|n| format!("{n:.0}")).unwrap_or("no data".into());
            writeln!(
                f,
                "\nlog delivery, last {} min: CloudWatch Logs failures {}, S3 failures {}, large-body S3 failures {}",
                d.window_minutes,
                show(d.cloudwatch_failures),
                show(d.s3_failures),
                show(d.large_data_failures)
            )?;
        }
        if !self.blocked.is_empty() {
            writeln!(
                f,
                "\nblocked by [[limits]] this period: {} (`bedrock-monitor limits` has the spend; `limits unblock PRINCIPAL` lifts one)",
                self.blocked.join(", ")
            )?;
        }
        writeln!(f)?;
        if self.needs_apply() {
            writeln!(
                f,
                "Drift or missing components: `bedrock-monitor apply` repairs them."
            )
        } else {
            writeln!(f, "Everything this stack manages is in sync.")
        }
    }
}

fn short(v: &Value) -> String {
    let s = show_value(v);
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(117).collect::<String>())
    } else {
        s
    }
}

fn component_status(
    cx: &Context,
    step: &Arc<dyn Step>,
    read: Result<(), AwsError>,
) -> ComponentStatus {
    let mut status = ComponentStatus {
        id: step.id(),
        name: step.name(cx),
        state: State::Unknown,
        evidence: None,
        reason: None,
        drift: Vec::new(),
        health: Vec::new(),
        error: None,
        ids: cx.ids(step.id()),
    };
    if let Err(e) = read {
        status.error = Some(e);
        return status;
    }
    status.health = step.health(cx);
    match step.ownership(cx) {
        None => {}
        Some(Ownership::Missing) => status.state = State::Missing,
        Some(Ownership::NotManaged { reason }) => {
            status.state = State::NotManaged;
            status.reason = Some(reason);
        }
        Some(Ownership::Managed { evidence }) => {
            status.evidence = Some(evidence);
            let diff = step.plan(cx);
            status.state = match &diff {
                Some(d) if d.action == Action::Unchanged => State::InSync,
                Some(d) if d.action == Action::Create => State::Missing,
                _ => State::Drifted,
            };
            if let Some(d) = diff {
                status.drift = d
                    .changes
                    .into_iter()
                    .map(|c| Drift {
                        field: c.field,
                        expected: c.new,
                        actual: c.old,
                    })
                    .collect();
            }
        }
    }
    status
}

async fn delivery_failures(cx: &Context) -> Result<DeliveryHealth, AwsError> {
    use aws_sdk_cloudwatch::types::{Metric, MetricDataQuery, MetricStat};
    let end = std::time::SystemTime::now();
    let start = end - std::time::Duration::from_secs(3600);
    let query = |id: &str, metric: &str| {
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace("AWS/Bedrock")
                            .metric_name(metric)
                            .build(),
                    )
                    .period(3600)
                    .stat("Sum")
                    .build(),
            )
            .build()
    };
    let out = cx
        .aws
        .cloudwatch
        .get_metric_data()
        .metric_data_queries(query("cw", "ModelInvocationLogsCloudWatchDeliveryFailure"))
        .metric_data_queries(query("s3", "ModelInvocationLogsS3DeliveryFailure"))
        .metric_data_queries(query("large", "ModelInvocationLargeDataS3DeliveryFailure"))
        .start_time(aws_smithy_types::DateTime::from(start))
        .end_time(aws_smithy_types::DateTime::from(end))
        .send()
        .await
        .aws("cloudwatch:GetMetricData")?;
    let sum = |id: &str| {
        out.metric_data_results()
            .iter()
            .find(|r| r.id() == Some(id))
            .filter(|r| !r.values().is_empty())
            .map(|r| r.values().iter().sum::<f64>())
    };
    Ok(DeliveryHealth {
        window_minutes: 60,
        cloudwatch_failures: sum("cw"),
        s3_failures: sum("s3"),
        large_data_failures: sum("large"),
    })
}

/// How many days of per-minute use `status` looks at for the quota lines.
const QUOTA_STATUS_DAYS: u32 = 1;

/// With `[quotas]`: a line for each model and kind whose busiest minute of the last day went
/// over `alarm_percent` of its applied quota (what the quota alarms watch, said even when an
/// alarm has gone back to OK).
async fn quota_peaks(cx: &Context) -> Result<Vec<Health>, AwsError> {
    use crate::report::quotas as headroom;
    let Some(config) = &cx.config.quotas else {
        return Ok(Vec::new());
    };
    let window = headroom::window(QUOTA_STATUS_DAYS, chrono::Utc::now())
        .map_err(|e| AwsError::setup(e, "check the machine's clock"))?;
    let request = headroom::Request {
        window,
        days: QUOTA_STATUS_DAYS,
        models: config.models.clone(),
        alarm_percent: Some(config.alarm_percent),
    };
    let report = headroom::read(&cx.aws, &request).await?;
    Ok(report
        .rows
        .iter()
        .filter(|r| r.over_alarm_share)
        .map(|r| Health {
            subject: format!("{} {} quota", r.model_id, r.kind.abbreviation()),
            level: HealthLevel::Warning,
            detail: format!(
                "peak {} at {} is over {}% of the applied quota {} ({}); `bedrock-monitor quotas` has the detail",
                r.peak,
                r.busiest.as_deref().unwrap_or("?"),
                config.alarm_percent,
                r.quota.unwrap_or_default(),
                r.quota_code.as_deref().unwrap_or("?")
            ),
        })
        .collect())
}

/// The object Bedrock writes to check it may deliver to the bucket
/// (`amazon-bedrock-logs-permission-check`), by its full key: where it lands shows how Bedrock
/// joins the key prefix to its own path. `None` until Bedrock has written it (or without a
/// bucket).
async fn permission_check_object(cx: &Context) -> Result<Option<String>, AwsError> {
    const NAME: &str = "amazon-bedrock-logs-permission-check";
    let prefix = &cx.config.bucket.key_prefix;
    // The object sits beside the `AWSLogs/` folder, either right after the prefix or after a
    // `/` Bedrock adds: list those two levels only (the delimiter folds every log object into
    // one common prefix), every page of each (S3 API reference, ListObjectsV2: at most 1,000
    // keys an answer, `NextContinuationToken` while `IsTruncated`).
    let mut levels = vec![prefix.clone()];
    if !prefix.is_empty() && !prefix.ends_with('/') {
        levels.push(format!("{prefix}/"));
    }
    for level in levels {
        let mut token: Option<String> = None;
        loop {
            let listed = cx
                .aws
                .s3
                .list_objects_v2()
                .bucket(cx.bucket_name())
                // Only the target account's bucket (see `resources::bucket`).
                .expected_bucket_owner(&cx.account.id)
                .set_prefix((!level.is_empty()).then(|| level.clone()))
                .delimiter("/")
                .set_continuation_token(token.clone())
                .send()
                .await
                .aws("s3:ListBucket");
            let listed = match listed {
                Ok(out) => out,
                Err(e) if e.code_is(&["NoSuchBucket", "PermanentRedirect", "HTTP 301"]) => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            if let Some(key) = listed
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .find(|k| k.ends_with(NAME))
            {
                return Ok(Some(key.to_string()));
            }
            match listed.next_continuation_token().filter(|t| !t.is_empty()) {
                Some(next)
                    if listed.is_truncated() == Some(true) && token.as_deref() != Some(next) =>
                {
                    token = Some(next.to_string());
                }
                _ => break,
            }
        }
    }
    Ok(None)
}

pub async fn run(session: &Session, args: &StatusArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config_with_runner(&args.runner, false)?;
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    // Over many targets a warning would not say which; the summary shows what failed.
    let single = fleet.is_single();
    let warn = |w: String| {
        if single {
            session.printer.warn(w)
        }
    };
    session
        .read_each_target(&fleet, "status", |p| {
            let warn = &warn;
            async move {
                let report = collect(&p.cx, &p.steps, warn).await;
                let status = report.exit_status(args.detailed_exitcode);
                (report, status)
            }
        })
        .await
}

/// Reads every step, then each component's state, drift and health, plus the log-delivery
/// metrics and Bedrock's permission-check object; `warn` is told what could not be read.
pub async fn collect(
    cx: &Context,
    steps: &[Arc<dyn Step>],
    warn: &(dyn Fn(String) + Sync),
) -> StatusReport {
    let (reads, delivery, check_object, quota_peaks, blocked) = tokio::join!(
        futures::future::join_all(steps.iter().map(|s| s.refresh(cx))),
        delivery_failures(cx),
        permission_check_object(cx),
        quota_peaks(cx),
        blocked_by_limits(cx),
    );
    let blocked = match blocked {
        Ok(blocked) => blocked,
        Err(e) => {
            warn(format!("could not read the limits' state: {e}"));
            Vec::new()
        }
    };
    let mut components: Vec<ComponentStatus> = steps
        .iter()
        .zip(reads)
        .map(|(step, read)| component_status(cx, step, read))
        .collect();
    let log_delivery = match delivery {
        Ok(d) => {
            if let Some(logging) = components.iter_mut().find(|c| c.id == ComponentId::Logging) {
                for (what, count) in [
                    ("CloudWatch Logs", d.cloudwatch_failures),
                    ("S3", d.s3_failures),
                    ("S3 (large bodies)", d.large_data_failures),
                ] {
                    if count.unwrap_or(0.0) > 0.0 {
                        logging.health.push(Health {
                            subject: format!("delivery to {what}"),
                            level: HealthLevel::Alarm,
                            detail: format!(
                                "{:.0} failed deliveries in the last hour: check the role's permissions and the destination",
                                count.unwrap_or(0.0)
                            ),
                        });
                    }
                }
            }
            Some(d)
        }
        Err(e) => {
            warn(format!("could not read log-delivery metrics: {e}"));
            None
        }
    };
    match check_object {
        Ok(Some(key)) => {
            if let Some(bucket) = components.iter_mut().find(|c| c.id == ComponentId::Bucket) {
                bucket.health.push(Health {
                    subject: "Bedrock's permission-check object".into(),
                    level: HealthLevel::Ok,
                    detail: format!(
                        "s3://{}/{key}: Bedrock delivers under this path",
                        cx.bucket_name()
                    ),
                });
            }
        }
        Ok(None) => {}
        Err(e) => warn(format!(
            "could not look for Bedrock's permission-check object: {e}"
        )),
    }
    match quota_peaks {
        Ok(lines) if !lines.is_empty() => {
            if let Some(alarms) = components.iter_mut().find(|c| c.id == ComponentId::Alarms) {
                alarms.health.extend(lines);
            }
        }
        Ok(_) => {}
        Err(e) => warn(format!("could not read the quotas' use: {e}")),
    }
    StatusReport {
        stack: cx.config.stack.name.clone(),
        account: cx.account.id.clone(),
        region: cx.region.clone(),
        components,
        log_delivery,
        blocked,
    }
}

/// With `[[limits]]`: who the limits pass has blocked this period (its state object).
async fn blocked_by_limits(cx: &Context) -> Result<Vec<String>, AwsError> {
    if cx.config.limits.is_empty() {
        return Ok(Vec::new());
    }
    let (_, blocked) =
        crate::limits::enforced(&cx.aws, &cx.config, &cx.account.id, chrono::Utc::now()).await?;
    Ok(blocked)
}
