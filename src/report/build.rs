//! Building one report from its sources: the metrics (with p99 and the stack's profiles
//! named), the invocation logs (per principal, and as a source of their own), the bill (Cost
//! Explorer) and, with `--compare`, the CUR; each in a function of its own.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};

use crate::aws::{AwsError, Clients};
use crate::config::Config;
use crate::cost::prices;

use super::{
    LIST_METRICS_DAYS, ModelMetrics, PrincipalCheck, Report, ReportOptions, Window, billing,
    compare, cur, daily, logs, metrics, principals, profiles, quotas,
};

/// Builds the report: `ListMetrics` (paginated), one `GetMetricData` call per 50 models for
/// the sums (paginated), one per 500 models for p99, and with `by_principal` one Logs
/// Insights query. Fails only when a call the report cannot do without fails (or, with
/// `by_principal`, when the log query is refused for another reason than a missing log group).
pub async fn build_report(
    clients: &Clients,
    config: &Config,
    window: &Window,
    options: &ReportOptions,
) -> Result<Report, AwsError> {
    let now = Utc::now();
    let periods = metrics::Periods::for_window(window, now);
    let mut notes = Vec::new();
    let measured = if options.metrics {
        metrics_source(clients, config, window, periods, options.daily, &mut notes).await?
    } else {
        Measured::default()
    };
    if window.start < now - Duration::days(LIST_METRICS_DAYS) {
        notes.push(format!(
            "models are discovered with cloudwatch:ListMetrics, which lists only metrics with \
             data in the last {LIST_METRICS_DAYS} days: a model used in this window but not \
             since is missing"
        ));
    }

    let mut report = Report::from_metrics(
        window,
        periods.sum_seconds,
        &clients.region,
        &config.pricing,
        measured.models,
    );
    notes.append(&mut report.notes);
    report.notes = notes;
    if options.daily {
        report.daily = Some(daily::from_metrics(
            &measured.days,
            &measured.model_ids,
            &report.models,
            &config.pricing,
            &clients.region,
        ));
    }
    if options.by_principal || options.logs {
        logs_source(clients, config, window, options, &mut report).await?;
    }
    report.source = Vec::new();
    if options.metrics {
        report.source.push("metrics");
    } else {
        // Said by the metrics' summary, which was not a source here.
        report
            .notes
            .retain(|n| !n.starts_with("no Bedrock model metrics"));
    }
    if options.logs {
        report.source.push("logs");
    }
    if let Some(key) = &options.by_meta {
        report.by_meta = Some(super::meta::fetch(clients, config, window, key).await?);
    }
    if options.billing {
        report.source.push("billing");
        billing_source(clients, config, window, now, options, &mut report).await?;
    }
    if options.compare_tolerance_percent.is_some() && config.cur_export.is_some() {
        attach_cur(clients, config, window, &mut report).await;
    }
    if options.metrics
        && let Some(wanted) = &config.quotas
    {
        attach_quotas(clients, wanted, window, now, &mut report).await;
    }
    Ok(report)
}

/// With `[quotas]`: the headroom of each model over the report's window (CloudWatch's
/// per-minute metrics, like the rest of the metrics source). Service Quotas refusing costs the
/// section only, said in the notes.
async fn attach_quotas(
    clients: &Clients,
    wanted: &crate::config::QuotasConfig,
    window: &Window,
    now: chrono::DateTime<Utc>,
    report: &mut Report,
) {
    match quotas::for_report(clients, wanted, window, now).await {
        Ok(section) => report.quotas = Some(section),
        Err(e) => report.notes.push(format!(
            "quota headroom ([quotas]) could not be read: {e}; `bedrock-monitor permissions` \
             lists what the report needs"
        )),
    }
}

/// What CloudWatch holds for the window: the models with data, their sums per day, and every
/// model ID listed (the daily table's order).
#[derive(Default)]
struct Measured {
    models: Vec<metrics::ModelMetrics>,
    days: BTreeMap<chrono::NaiveDate, BTreeMap<usize, metrics::ModelDay>>,
    model_ids: Vec<String>,
}

/// The metrics source: `ListMetrics`, the sums (and per day), p99 where the endpoint serves
/// percentiles, and the stack's application profiles named.
async fn metrics_source(
    clients: &Clients,
    config: &Config,
    window: &Window,
    periods: metrics::Periods,
    daily: bool,
    notes: &mut Vec<String>,
) -> Result<Measured, AwsError> {
    let sources = metrics::list_models(&clients.cloudwatch).await?;
    let model_ids: Vec<String> = sources.iter().map(|s| s.id.clone()).collect();
    if model_ids.is_empty() {
        return Ok(Measured::default());
    }
    let queries = metrics::usage_queries(&sources, periods.sum_seconds);
    let results = metrics::get_metric_data(&clients.cloudwatch, queries, window).await?;
    notes.extend(incomplete_notes(&results));
    let (mut folded, both_names) = metrics::fold_usage(&sources, &results);
    if !both_names.is_empty() {
        notes.push(format!(
            "{} published prompt-cache tokens under both {} and {} (and the write \
             twins): counted once, under the name with the larger total",
            both_names.join(", "),
            metrics::CACHE_READ_METRICS[0],
            metrics::CACHE_READ_METRICS[1],
        ));
    }
    let days = if daily {
        metrics::fold_daily(&results)
    } else {
        BTreeMap::new()
    };
    attach_p99(clients, window, periods, &sources, &mut folded, notes).await;
    let mut models: Vec<metrics::ModelMetrics> =
        folded.into_iter().filter(|m| m.has_data).collect();
    attach_profiles(&clients.bedrock, config, &mut models, notes).await;
    Ok(Measured {
        models,
        days,
        model_ids,
    })
}

/// p99 only for models with data, in one more call (per 500 models); the Mantle endpoint
/// publishes no latency. An endpoint that does not serve percentiles costs only this column.
async fn attach_p99(
    clients: &Clients,
    window: &Window,
    periods: metrics::Periods,
    sources: &[metrics::ModelSource],
    folded: &mut [metrics::ModelMetrics],
    notes: &mut Vec<String>,
) {
    let active: Vec<usize> = (0..folded.len())
        .filter(|&i| folded[i].has_data && folded[i].endpoint == metrics::Endpoint::Runtime)
        .collect();
    if active.is_empty() {
        return;
    }
    let active_sources: Vec<metrics::ModelSource> = active
        .iter()
        .filter_map(|&i| sources.get(i).cloned())
        .collect();
    let queries = metrics::p99_queries(&active_sources, periods.whole_window_seconds);
    match metrics::get_metric_data_with(&clients.cloudwatch, queries, window, Some(2)).await {
        Ok(results) => {
            let (p99, split) = metrics::fold_p99(&results);
            for (position, value) in p99 {
                if let Some(&index) = active.get(position) {
                    folded[index].p99_latency_ms = Some(value);
                }
            }
            if split > 0 {
                notes.push(format!(
                    "p99 latency is unavailable for {split} model(s): CloudWatch split \
                     the window into several periods, and percentiles of parts cannot \
                     be combined"
                ));
            }
        }
        Err(e) => {
            tracing::debug!("p99 query failed: {e}");
            notes.push(format!(
                "p99 not served by this endpoint: cloudwatch:GetMetricData with the \
                 p99 statistic failed ({}); p99_latency_ms is null",
                e.code.as_deref().unwrap_or("error")
            ));
        }
    }
}

/// The invocation logs: one Logs Insights query serves both the per-principal rows and the
/// logs source.
async fn logs_source(
    clients: &Clients,
    config: &Config,
    window: &Window,
    options: &ReportOptions,
    report: &mut Report,
) -> Result<(), AwsError> {
    let outcome = principals::fetch(
        &clients.logs,
        &options.log_group,
        window,
        &config.pricing,
        &clients.region,
    )
    .await?;
    if let principals::Outcome::Rows(rows) = &outcome {
        report.notes.extend(principals::truncation_note(rows.len()));
    }
    if options.logs {
        match &outcome {
            principals::Outcome::Rows(rows) => {
                logs::attach(
                    report,
                    rows,
                    options.metrics,
                    options.compare_tolerance_percent,
                );
            }
            principals::Outcome::Unavailable(note) => {
                report.notes.push(format!("logs source: {note}"));
            }
        }
    }
    if !options.by_principal {
        return Ok(());
    }
    match outcome {
        principals::Outcome::Rows(rows) => {
            if rows.iter().any(|r| r.cost_usd.is_none()) {
                report.notes.push(
                    "some per-principal rows are unpriced (cost_usd null): their models \
                     have no price"
                        .to_string(),
                );
            }
            let check = PrincipalCheck::new(&rows, &report.totals);
            report.notes.extend(check.notes());
            report.principals_check = Some(check);
            report.principals = Some(rows);
        }
        // With the logs source too, the reason is already in the notes.
        principals::Outcome::Unavailable(note) => {
            if !options.logs {
                report.notes.push(note);
            }
        }
    }
    Ok(())
}

/// The bill (Cost Explorer): billed spend per model and kind, compared with the estimates
/// when asked.
async fn billing_source(
    clients: &Clients,
    config: &Config,
    window: &Window,
    now: chrono::DateTime<Utc>,
    options: &ReportOptions,
    report: &mut Report,
) -> Result<(), AwsError> {
    let outcome = billing::fetch(
        &clients.costexplorer,
        window,
        now,
        options.by_tag.as_deref(),
        &crate::cost::spend::Definition::new(config),
    )
    .await?;
    match outcome {
        billing::Outcome::Billed(billed) => {
            report.ce_requests = billed.requests;
            if !billed.complete {
                report.notes.push(format!(
                    "the window ends less than {} hours ago: billed figures are incomplete \
                     (Cost Explorer settles usage 24-48 hours late)",
                    billing::BILLING_LAG_HOURS
                ));
            }
            if !billed.unmapped_usage_types.is_empty() {
                report.notes.push(format!(
                    "{} billed usage type(s) name no model; they are listed with their cost \
                     under unmapped_usage_types and counted in the billed total",
                    billed.unmapped_usage_types.len()
                ));
            }
            if let Some(tolerance) = options.compare_tolerance_percent {
                compare::attach(report, &billed, tolerance);
            }
            if let Some(days) = report.daily.as_mut() {
                daily::add_billing(days, &billed);
            }
            report.billing_complete = Some(billed.complete);
            report.unmapped_usage_types = Some(billed.unmapped_usage_types.clone());
            report.totals.billed_cost_usd = Some(billed.total_cost_usd);
            report.billing = Some(billed);
        }
        billing::Outcome::Unavailable { reason, requests } => {
            report.ce_requests = requests;
            report.notes.push(reason);
        }
    }
    Ok(())
}

/// The CUR beside the other sources (`--compare` with `[cur_export]`): billed spend per model
/// for the same days, by the configured engine. A CUR that cannot be read is a note, as any
/// other source that cannot be.
async fn attach_cur(clients: &Clients, config: &Config, window: &Window, report: &mut Report) {
    let request = match cur::Request::new(config, *window, &["model".to_string()], false, None) {
        Ok(request) => request,
        Err(e) => {
            report.notes.push(format!("cur source: {e}"));
            return;
        }
    };
    match cur::fetch(clients, config, &request).await {
        Ok(mut cur) => {
            cur.billed_cost_usd = report.totals.billed_cost_usd;
            report.source.push("cur");
            report.cur = Some(cur);
        }
        Err(e) => report.notes.push(format!("cur source: {e}")),
    }
}

fn incomplete_notes(results: &metrics::QueryResults) -> Vec<String> {
    let mut notes = Vec::new();
    if !results.incomplete.is_empty() {
        let mut statuses: Vec<&str> = results
            .incomplete
            .iter()
            .map(|(_, status)| status.as_str())
            .collect();
        statuses.sort_unstable();
        statuses.dedup();
        notes.push(format!(
            "CloudWatch answered {} metric queries with status {}: those values may be missing \
             or partial",
            results.incomplete.len(),
            statuses.join(", ")
        ));
    }
    for message in &results.messages {
        notes.push(format!("CloudWatch: {message}"));
    }
    notes
}

/// Names the models that are application inference profiles (one Bedrock call, only when a
/// `ModelId` looks like one). The report does without names when the call fails.
async fn attach_profiles(
    bedrock: &aws_sdk_bedrock::Client,
    config: &Config,
    models: &mut [ModelMetrics],
    notes: &mut Vec<String>,
) {
    let id = |m: &ModelMetrics| prices::split_tier(&m.model_id).0.to_string();
    if !models.iter().any(|m| profiles::looks_like_profile(&id(m))) {
        return;
    }
    match profiles::resolve(bedrock).await {
        Ok(found) => {
            for m in models.iter_mut() {
                m.profile = found.get(&id(m)).cloned().map(|mut profile| {
                    // A profile this stack made is priced by what it was copied from: a copy of
                    // a `global.` profile costs the global price, which the foundation model it
                    // routes to does not say.
                    if let Some(configured) =
                        config.profiles().iter().find(|p| p.name == profile.name)
                    {
                        profile.model = configured.model.clone();
                    }
                    profile
                });
            }
        }
        Err(e) => notes.push(format!(
            "inference profiles are shown by ID: {} failed ({}); grant it to see their names and price them by their model",
            e.operation,
            e.code.as_deref().unwrap_or("error")
        )),
    }
}
