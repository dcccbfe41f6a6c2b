//! The dashboard's quota section (`[quotas]`, issue 31): per model `[quotas] models` names, its
//! use per minute against the applied quota of its scope, drawn as a horizontal annotation, and
//! the time to first token of every named model.
//!
//! CloudWatch's "Dashboard Body Structure and Syntax" (CloudWatch API Reference,
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)
//! is followed for:
//! - the annotation: a metric widget's `annotations` object holds `horizontal`, "An array of
//!   horizontal annotations", each `{value, label, color, fill, yAxis, visible}`, `value` "The
//!   metric value in the graph where the horizontal annotation line is to appear" ("the graph
//!   is scaled so that all visible horizontal annotations appear on the graph"), `fill` one of
//!   `above`, `below`, `none`. A widget "can have up to one alarm, or it can have one or more
//!   horizontal or vertical annotations", so the quota and the alarm share are two horizontal
//!   annotations rather than an alarm annotation;
//! - the limits: a body holds "between 0 and 500 widget objects" ([`MAX_WIDGETS`]); "One
//!   `metrics` array can include 0–500 metrics and expressions". The GetMetricWidgetImage
//!   reference and older copies of the CloudWatch quotas page say 100 metrics a widget: the
//!   smaller is followed ([`MAX_METRICS_PER_WIDGET`]), which fits either.
//!
//! What is drawn (Bedrock user guide, "Monitor bedrock-runtime inference using CloudWatch
//! metrics"; AWS Machine Learning blog on TTFT and Estimated Quota Consumption, March 2026):
//! `EstimatedTPMQuotaUsage` and `Invocations` as the `Sum` over 60 seconds, the quotas' own
//! minute, as the quota alarms and `quotas` read them (`crate::quotas::alarms`); and
//! `TimeToFirstToken` (milliseconds) at p50, p90 and p99 over the TTFT alarm's five minutes.
//!
//! The quota values are the applied ones, read from Service Quotas with the dashboard (its
//! state's quota book): when AWS raises a quota, the annotation's value and label change, so
//! `plan` shows the dashboard's body change and one `apply` writes it.

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::QuotasConfig;
use crate::quotas::alarms::{RPM_METRIC, TPM_METRIC, TTFT_METRIC, TTFT_PERIOD};
use crate::quotas::{Kind, QuotaBook, Scope, grouped};

/// Widgets a dashboard body may hold (Dashboard Body Structure: "between 0 and 500 widget
/// objects").
pub const MAX_WIDGETS: usize = 500;

/// Metrics in one widget's `metrics` array: 100, the smaller of the two limits AWS documents
/// (see the module's note).
pub const MAX_METRICS_PER_WIDGET: usize = 100;

/// p50, p90 and p99 per model in the time-to-first-token widget.
const TTFT_STATS: [&str; 3] = ["p50", "p90", "p99"];

/// Models per time-to-first-token widget: as many as fit their three lines in one widget.
const TTFT_MODELS_PER_WIDGET: usize = MAX_METRICS_PER_WIDGET / TTFT_STATS.len();

/// One minute: the period of the quotas and of the use drawn against them.
const MINUTE: i32 = 60;

/// The grid rows a graph takes (the dashboard's other graphs are 6 high).
const GRAPH_HEIGHT: u32 = 6;

/// The quota line, and the alarm-share line below it (CloudWatch's own red and orange).
const QUOTA_COLOR: &str = "#d62728";
const ALARM_COLOR: &str = "#ff7f0e";

/// The quota section the template draws below the rest of the dashboard: a text widget, then
/// the graphs at `y` rows under it.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaPanel {
    pub markdown: String,
    pub text_height: u32,
    pub widgets: Vec<QuotaWidget>,
}

/// One graph of the section.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaWidget {
    pub x: u32,
    /// Rows below the section's text widget.
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub title: String,
    pub period: i32,
    pub stat: &'static str,
    /// The left axis' label.
    pub unit: &'static str,
    pub metrics: Vec<Value>,
    /// `annotations.horizontal`; empty: no `annotations` at all.
    pub horizontal: Vec<Value>,
}

/// One model's use graph for `kind`, and the model, kind and scope when it has no quota line.
struct UseGraph {
    widget: QuotaWidget,
    missing: Option<String>,
}

/// The section for `config`'s models with `book`'s applied quotas in `region`, keeping the
/// whole body within [`MAX_WIDGETS`] when the rest of it has `other_widgets`.
pub fn panel(
    config: &QuotasConfig,
    book: &QuotaBook,
    region: &str,
    other_widgets: usize,
) -> QuotaPanel {
    let (alarms, _) = crate::quotas::alarms::specs(config, book);
    let threshold = |metric: &str, model: &str| {
        alarms
            .iter()
            .find(|a| a.metric == metric && a.model_id.as_deref() == Some(model))
            .map(|a| a.threshold)
    };
    let mut rows: Vec<(Vec<QuotaWidget>, Vec<String>)> = Vec::new();
    for model in &config.models {
        let tpm = use_graph(
            book,
            model,
            Kind::TokensPerMinute,
            threshold(TPM_METRIC, model),
            config.alarm_percent,
        );
        // RPM quotas are gone from new accounts (May 2026): a graph only where AWS lists one.
        let rpm = book
            .limit(model, Kind::RequestsPerMinute)
            .is_some()
            .then(|| {
                use_graph(
                    book,
                    model,
                    Kind::RequestsPerMinute,
                    threshold(RPM_METRIC, model),
                    config.alarm_percent,
                )
            });
        let mut missing: Vec<String> = tpm.missing.into_iter().collect();
        let mut widgets = vec![tpm.widget];
        if let Some(rpm) = rpm {
            missing.extend(rpm.missing);
            widgets[0].width = 12;
            widgets.push(QuotaWidget {
                x: 12,
                width: 12,
                ..rpm.widget
            });
        }
        rows.push((widgets, missing));
    }
    // As many models as the body has room for, in the config's order.
    let room = MAX_WIDGETS.saturating_sub(other_widgets + 1);
    let mut shown: usize = 0;
    let mut used = 0;
    for (widgets, _) in &rows {
        let ttft = (shown + 1).div_ceil(TTFT_MODELS_PER_WIDGET);
        if used + widgets.len() + ttft > room {
            break;
        }
        used += widgets.len();
        shown += 1;
    }
    let left_out: Vec<&str> = config.models[shown..].iter().map(String::as_str).collect();
    let mut widgets = Vec::new();
    let mut missing = Vec::new();
    for (row, (graphs, why)) in rows.into_iter().take(shown).enumerate() {
        for mut w in graphs {
            w.y = row as u32 * GRAPH_HEIGHT;
            widgets.push(w);
        }
        missing.extend(why);
    }
    let ttft_top = shown as u32 * GRAPH_HEIGHT;
    for (n, chunk) in config.models[..shown]
        .chunks(TTFT_MODELS_PER_WIDGET)
        .enumerate()
    {
        widgets.push(ttft_widget(
            chunk,
            config.ttft_p90_ms,
            ttft_top + n as u32 * GRAPH_HEIGHT,
            n,
            shown.div_ceil(TTFT_MODELS_PER_WIDGET),
        ));
    }
    QuotaPanel {
        // About four names a line of the full-width text.
        text_height: 2
            + if missing.is_empty() {
                0
            } else {
                1 + missing.len().div_ceil(4)
            } as u32
            + if left_out.is_empty() {
                0
            } else {
                1 + left_out.len().div_ceil(4)
            } as u32,
        markdown: markdown(config, region, &missing, &left_out),
        widgets,
    }
}

/// `model`'s use of `kind` per minute, with the quota of its scope and the alarm's threshold
/// as lines.
fn use_graph(
    book: &QuotaBook,
    model: &str,
    kind: Kind,
    alarm: Option<f64>,
    share: f64,
) -> UseGraph {
    let (metric, what, unit) = match kind {
        Kind::RequestsPerMinute => (RPM_METRIC, "requests per minute", "Requests"),
        _ => (TPM_METRIC, "tokens per minute", "Tokens"),
    };
    let scope = Scope::of_model_id(model);
    let mut horizontal = Vec::new();
    let mut title = format!("{model}: {what} ({metric}) against its quota");
    let missing = match book.limit(model, kind) {
        Some(limit) => {
            horizontal.push(json!({
                "value": limit.value,
                "label": format!(
                    "quota {} ({} {}): {}",
                    limit.quota.code,
                    scope_words(scope),
                    kind.abbreviation(),
                    grouped(limit.value)
                ),
                "color": QUOTA_COLOR,
                "fill": "above",
            }));
            if let Some(threshold) = alarm {
                horizontal.push(json!({
                    "value": threshold,
                    "label": format!("alarm at {share}% of the quota: {}", grouped(threshold)),
                    "color": ALARM_COLOR,
                }));
            }
            None
        }
        None => {
            title = format!("{model}: {what} ({metric}); no quota of its scope to draw");
            Some(format!(
                "`{model}` ({}, {})",
                kind.abbreviation(),
                scope_words(scope)
            ))
        }
    };
    UseGraph {
        widget: QuotaWidget {
            x: 0,
            y: 0,
            width: 24,
            height: GRAPH_HEIGHT,
            title,
            period: MINUTE,
            stat: "Sum",
            unit,
            metrics: vec![json!(["AWS/Bedrock", metric, "ModelId", model,
                {"stat": "Sum", "label": format!("{model} {}", kind.abbreviation())}])],
            horizontal,
        },
        missing,
    }
}

fn ttft_widget(
    models: &[String],
    p90_alarm_ms: Option<f64>,
    y: u32,
    part: usize,
    parts: usize,
) -> QuotaWidget {
    let metrics = models
        .iter()
        .flat_map(|m| {
            TTFT_STATS.iter().map(move |stat| {
                json!(["AWS/Bedrock", TTFT_METRIC, "ModelId", m,
                    {"stat": stat, "label": format!("{m} {stat}")}])
            })
        })
        .collect();
    let horizontal = p90_alarm_ms
        .map(|ms| {
            vec![json!({
                "value": ms,
                "label": format!("p90 alarm: {} ms", grouped(ms)),
                "color": ALARM_COLOR,
            })]
        })
        .unwrap_or_default();
    let mut title = "Time to first token (ms, streaming calls): p50, p90, p99".to_string();
    if parts > 1 {
        title.push_str(&format!(", part {} of {parts}", part + 1));
    }
    QuotaWidget {
        x: 0,
        y,
        width: 24,
        height: GRAPH_HEIGHT,
        title,
        period: TTFT_PERIOD,
        stat: "p90",
        unit: "Milliseconds",
        metrics,
        horizontal,
    }
}

fn scope_words(scope: Scope) -> &'static str {
    match scope {
        Scope::OnDemand => "in-Region",
        Scope::CrossRegion => "cross-Region",
        Scope::GlobalCrossRegion => "global cross-Region",
    }
}

fn markdown(config: &QuotasConfig, region: &str, missing: &[String], left_out: &[&str]) -> String {
    let mut text = format!(
        "**Quota headroom** (`[quotas]`): each model's use per minute (`Sum` over 60 s) of \
         `{TPM_METRIC}` (tokens as the quota counts them) and, where AWS lists a \
         requests-per-minute quota, of `{RPM_METRIC}`, against the applied quota of its scope \
         (red line) and the alarm at {}% of it (orange line). The quotas are read from \
         Service Quotas by `bedrock-monitor apply`: when AWS raises one, the next apply moves \
         its line.",
        config.alarm_percent
    );
    if !missing.is_empty() {
        text.push_str(&format!(
            "\n\nNo quota line, for Service Quotas lists no applied quota of the model's scope \
             in {region} (`bedrock-monitor quotas` lists the quotas it could not tie to a \
             model): {}.",
            missing.join(", ")
        ));
    }
    if !left_out.is_empty() {
        text.push_str(&format!(
            "\n\nNot drawn, for a dashboard holds at most {MAX_WIDGETS} widgets: {}.",
            left_out
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    text
}
