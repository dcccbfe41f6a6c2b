//! `report`: Bedrock usage and estimated cost from CloudWatch metrics.
//!
//! [`build_report`] discovers every model that reported `AWS/Bedrock` metrics (`ListMetrics`),
//! fetches their sums over the [`Window`] in as few `GetMetricData` calls as the API allows
//! ([`metrics`]), prices the tokens ([`crate::cost::prices`]), projects a 30-day month and, with
//! `--by-principal`, breaks usage down by caller from the invocation logs ([`principals`]).
//! The [`Report`] is one value rendered as JSON (`Serialize`), text (`Display`) or CSV
//! ([`Report::to_csv`]).
//!
//! It needs only `cloudwatch:ListMetrics` and `cloudwatch:GetMetricData` (plus
//! `logs:StartQuery` and `logs:GetQueryResults` with `--by-principal`), and works with no stack
//! applied and with no data (an empty report).

pub mod billing;
mod build;
pub mod chart;
pub mod compare;
pub mod cur;
pub mod daily;
pub mod html;
pub mod insights;
pub mod logs;
pub mod meta;
pub mod metrics;
pub mod principals;
pub mod profiles;
pub mod quotas;
pub(crate) mod render;
pub mod window;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::config::{Config, PriceConfig};

use crate::cost::prices;
pub use crate::cost::prices::{PRICES_AS_OF, Price, PriceMatch, PriceSource, lookup};
pub use build::build_report;
pub use metrics::ModelMetrics;
pub use principals::PrincipalUsage;
pub use window::{DEFAULT_HOURS, Window, WindowError};

/// The projection's month.
pub const PROJECTION_DAYS: u32 = 30;

/// `ListMetrics` lists only metrics with data in the last two weeks.
const LIST_METRICS_DAYS: i64 = 14;

/// What `report` does beyond the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Add a per-principal breakdown from the invocation log group.
    pub by_principal: bool,
    /// The invocation log group (the config's `[log_group] name`).
    pub log_group: String,
    /// Read usage from CloudWatch's metrics (the estimate).
    pub metrics: bool,
    /// Read billed spend from Cost Explorer ($0.01 per request: never by default).
    pub billing: bool,
    /// With metrics and billing: put the estimate and the bill side by side, flagging
    /// differences above this many percent.
    pub compare_tolerance_percent: Option<f64>,
    /// Read counts from the invocation log group.
    pub logs: bool,
    /// Add one row per UTC day.
    pub daily: bool,
    /// Group the billed spend by this cost-allocation tag instead of by model.
    pub by_tag: Option<String>,
    /// `--by meta:KEY`: usage by this request-metadata key, from the log objects.
    pub by_meta: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            by_principal: false,
            log_group: crate::config::LogGroupConfig::default().name,
            metrics: true,
            billing: false,
            compare_tolerance_percent: None,
            logs: false,
            daily: false,
            by_tag: None,
            by_meta: None,
        }
    }
}

impl ReportOptions {
    /// Options with the log group from the config.
    pub fn from_config(config: &Config, by_principal: bool) -> ReportOptions {
        ReportOptions {
            by_principal,
            log_group: config.log_group.name.clone(),
            ..ReportOptions::default()
        }
    }
}

/// Usage and estimated cost over a window: the value behind `--output json|text|csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub window: WindowSummary,
    pub region: String,
    /// The date of the prices used (see `prices`).
    pub prices_as_of: String,
    /// The region the prices are for: the report's, when the prices have it.
    pub prices_region: String,
    /// Which prices priced the estimate, from when, and whether they are stale.
    pub prices: prices::PricesUsed,
    pub totals: Totals,
    /// Sorted by cost, highest first; unpriced models last, by invocations.
    pub models: Vec<ModelUsage>,
    pub projection: Projection,
    /// Present with `--by-principal` when the breakdown could be made (else see `notes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principals: Option<Vec<PrincipalUsage>>,
    /// With the per-principal breakdown: its totals from the logs against the metrics'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principals_check: Option<PrincipalCheck>,
    /// Where the figures come from: `metrics` (the estimate) and/or `billing`.
    pub source: Vec<&'static str>,
    /// With `--source billing`: what Cost Explorer billed (see `notes` when unavailable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<billing::Billing>,
    /// Cost Explorer requests this report made ($0.01 each).
    pub ce_requests: u32,
    /// With the bill: false when the window ends less than 48 hours ago (figures still move).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_complete: Option<bool>,
    /// With the bill: Bedrock usage types that name no model, with their cost (counted in
    /// `totals.billed_cost_usd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmapped_usage_types: Option<Vec<billing::UnmappedUsage>>,
    /// With `--daily`: one row per UTC day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily: Option<Vec<daily::DayUsage>>,
    /// With `--compare` and `[cur_export]`: the CUR's billed spend per model for the same days,
    /// beside Cost Explorer's total (`billed_cost_usd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cur: Option<cur::CurReport>,
    /// With `[quotas]` and the metrics source: per model ID and kind the applied quota beside
    /// the per-minute peak, over the report's window cut to CloudWatch's 15 days of per-minute
    /// datapoints ([`quotas::for_report`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotas: Option<quotas::QuotaReport>,
    /// With `--by meta:KEY`: usage and estimated cost by the key's values ([`meta`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_meta: Option<meta::MetaUsage>,
    /// What the reader needs to know: unpriced models and the keys to add, what the endpoint
    /// could not serve, limits of the estimate.
    pub notes: Vec<String>,
}

/// The per-principal totals (from the invocation logs) against CloudWatch's metric totals for
/// the same window: a difference means records the logs could not count, records not (yet)
/// delivered, or invocations logging did not see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalCheck {
    pub logs: Counts,
    pub metrics: Counts,
    /// Logs minus metrics.
    pub difference: Differences,
    /// Records whose token counts could not be read (their tokens are missing from `logs`).
    pub uncounted_records: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Differences {
    pub invocations: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

impl PrincipalCheck {
    pub fn new(rows: &[PrincipalUsage], totals: &Totals) -> PrincipalCheck {
        let sum = |f: fn(&PrincipalUsage) -> u64| rows.iter().map(f).sum::<u64>();
        let logs = Counts {
            invocations: sum(|r| r.invocations),
            input_tokens: sum(|r| r.input_tokens),
            output_tokens: sum(|r| r.output_tokens),
        };
        let metrics = Counts {
            invocations: totals.invocations,
            input_tokens: totals.input_tokens,
            output_tokens: totals.output_tokens,
        };
        let diff = |a: u64, b: u64| a as i64 - b as i64;
        PrincipalCheck {
            difference: Differences {
                invocations: diff(logs.invocations, metrics.invocations),
                input_tokens: diff(logs.input_tokens, metrics.input_tokens),
                output_tokens: diff(logs.output_tokens, metrics.output_tokens),
            },
            uncounted_records: sum(|r| r.uncounted_records),
            logs,
            metrics,
        }
    }

    /// What the reader should know, if anything differs.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.uncounted_records > 0 {
            notes.push(format!(
                "{} invocation-log record(s) had no token counts to read (failed invocations, \
                 or records cut short): their tokens are missing from the per-principal rows",
                self.uncounted_records
            ));
        }
        let d = &self.difference;
        if d.invocations != 0 || d.input_tokens != 0 || d.output_tokens != 0 {
            let pct = |diff: i64, base: u64| {
                if base == 0 {
                    String::new()
                } else {
                    format!(" ({:+.1} %)", diff as f64 / base as f64 * 100.0)
                }
            };
            notes.push(format!(
                "the per-principal totals from the invocation logs differ from CloudWatch's \
                 metrics for the same window: invocations {:+}{}, input tokens {:+}{}, output \
                 tokens {:+}{} (logs minus metrics; logs arrive minutes late, and logging sees \
                 only what it was on for)",
                d.invocations,
                pct(d.invocations, self.metrics.invocations),
                d.input_tokens,
                pct(d.input_tokens, self.metrics.input_tokens),
                d.output_tokens,
                pct(d.output_tokens, self.metrics.output_tokens),
            ));
        }
        notes
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowSummary {
    #[serde(serialize_with = "rfc3339")]
    pub start: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    pub end: DateTime<Utc>,
    pub hours: f64,
    /// The period of the sums queries.
    pub period_seconds: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Estimated cost of the priced models only (see `unpriced_*`).
    pub cost_usd: f64,
    pub unpriced_models: usize,
    pub unpriced_invocations: u64,
    pub unpriced_input_tokens: u64,
    pub unpriced_output_tokens: u64,
    pub client_errors: u64,
    pub server_errors: u64,
    pub throttles: u64,
    /// With the bill: what Cost Explorer billed, mapped and unmapped lines alike.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_cost_usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUsage {
    /// As in the `ModelId` dimension (a model ID, an inference-profile ID or an ARN), or the
    /// Mantle endpoint's `Model` dimension.
    pub model_id: String,
    /// Which endpoint served it: `runtime` (InvokeModel, Converse) or `mantle` (the OpenAI-
    /// and Anthropic-compatible APIs, which publish no latency, server-error, throttle or
    /// cache metrics).
    pub endpoint: metrics::Endpoint,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `null` when no price matches (see `notes` for the `[pricing]` key to add).
    pub cost_usd: Option<f64>,
    /// The pricing key that matched, and whether it came from the built-in table, the price
    /// file or the config.
    pub price_key: Option<String>,
    pub price_source: Option<PriceSource>,
    /// The region whose price priced it, when that is not the report's (the prices have none
    /// for the report's region); named in `notes`.
    #[serde(skip)]
    pub priced_in: Option<String>,
    /// Invocation-weighted: the window's latency sum over its sample count.
    pub avg_latency_ms: Option<f64>,
    /// CloudWatch's `p99` over the whole window; `null` when not served.
    pub p99_latency_ms: Option<f64>,
    pub client_errors: u64,
    pub server_errors: u64,
    pub throttles: u64,
    /// Prompt-cache tokens, priced at their own rates in `cost_usd` (writes at the 5-minute
    /// rate: the metrics do not say the lifetime).
    pub cache_read_input_tokens: u64,
    pub cache_write_input_tokens: u64,
    /// Token kinds this model had but has no price for (left out of `cost_usd`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpriced_token_kinds: Vec<&'static str>,
    /// The service tier the model ID names (`+flex`, `+priority`), which scaled its price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<prices::Tier>,
    /// With `--compare`: what the bill says for this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed: Option<billing::BilledModel>,
    /// With the logs source: what the invocation logs count for this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<logs::LogCounts>,
    /// With `--compare`: metrics minus logs, and the estimate minus the bill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences: Option<compare::Differences>,
    /// When `model_id` is an application inference profile: its name, ARN and the model it
    /// routes to (which prices it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<profiles::ProfileRef>,
}

impl ModelUsage {
    /// How text output names the row: a profile by its name and model.
    pub fn label(&self) -> String {
        let label = match &self.profile {
            Some(p) => format!("{} (profile → {})", p.name, p.model),
            None => self.model_id.clone(),
        };
        match self.endpoint {
            metrics::Endpoint::Mantle => format!("{label} (Mantle)"),
            metrics::Endpoint::Runtime => label,
        }
    }
}

impl ModelUsage {
    /// A row with no usage (for a model seen only on the bill).
    pub fn empty() -> ModelUsage {
        ModelUsage {
            model_id: String::new(),
            endpoint: metrics::Endpoint::Runtime,
            invocations: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: None,
            price_key: None,
            price_source: None,
            priced_in: None,
            avg_latency_ms: None,
            p99_latency_ms: None,
            client_errors: 0,
            server_errors: 0,
            throttles: 0,
            cache_read_input_tokens: 0,
            cache_write_input_tokens: 0,
            unpriced_token_kinds: Vec::new(),
            tier: None,
            billed: None,
            logs: None,
            differences: None,
            profile: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub days: u32,
    /// Window totals × (30 days / window length).
    pub monthly_invocations: u64,
    pub monthly_input_tokens: u64,
    pub monthly_output_tokens: u64,
    /// Of the priced models only.
    pub monthly_cost_usd: f64,
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&window::display_time(*t))
}

impl Report {
    /// A report with no data (for unit tests of what is added to one).
    #[cfg(test)]
    pub(crate) fn empty_for_tests() -> Report {
        let now = Utc::now();
        let window = Window {
            start: now - chrono::Duration::hours(1),
            end: now,
        };
        Report::from_metrics(&window, 60, "us-east-1", &BTreeMap::new(), Vec::new())
    }

    /// The report for metrics already fetched: prices, totals, sorting, projection and notes.
    /// `models` with no data are left out.
    pub fn from_metrics(
        window: &Window,
        period_seconds: i32,
        region: &str,
        pricing: &BTreeMap<String, PriceConfig>,
        models: Vec<ModelMetrics>,
    ) -> Report {
        let mut notes = Vec::new();
        let mut usages: Vec<ModelUsage> = models
            .into_iter()
            .filter(|m| m.has_data)
            .map(|m| model_usage(m, pricing, region))
            .collect();
        usages.sort_by(|a, b| {
            cost_order(a.cost_usd, b.cost_usd)
                .then(b.invocations.cmp(&a.invocations))
                .then_with(|| a.model_id.cmp(&b.model_id))
        });

        let mut totals = Totals {
            invocations: 0,
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0.0,
            unpriced_models: 0,
            unpriced_invocations: 0,
            unpriced_input_tokens: 0,
            unpriced_output_tokens: 0,
            client_errors: 0,
            server_errors: 0,
            throttles: 0,
            billed_cost_usd: None,
        };
        let mut cache_writes = 0u64;
        for m in &usages {
            totals.invocations += m.invocations;
            totals.input_tokens += m.input_tokens;
            totals.output_tokens += m.output_tokens;
            totals.client_errors += m.client_errors;
            totals.server_errors += m.server_errors;
            totals.throttles += m.throttles;
            cache_writes += m.cache_write_input_tokens;
            if !m.unpriced_token_kinds.is_empty() {
                notes.push(format!(
                    "{}: no price for its {} tokens, which are not in cost_usd (add \
                     cache_read_per_1k / cache_write_per_1k to a [pricing] entry)",
                    m.model_id,
                    m.unpriced_token_kinds.join(" and ")
                ));
            }
            match m.cost_usd {
                Some(cost) => totals.cost_usd += cost,
                None => {
                    totals.unpriced_models += 1;
                    totals.unpriced_invocations += m.invocations;
                    totals.unpriced_input_tokens += m.input_tokens;
                    totals.unpriced_output_tokens += m.output_tokens;
                    let key = prices::suggested_key(&m.model_id);
                    notes.push(format!(
                        "no price for {}: add [pricing.\"{key}\"] with input_per_1k and \
                         output_per_1k (USD per 1,000 tokens) to the config",
                        m.model_id
                    ));
                }
            }
        }
        totals.cost_usd = round_cost(totals.cost_usd);

        if usages.is_empty() {
            notes
                .push("no Bedrock model metrics (AWS/Bedrock, ModelId) in this window".to_string());
        }
        if totals.unpriced_models > 0 {
            notes.push(format!(
                "{} of {} models are unpriced: {} invocations, {} input and {} output tokens are \
                 not in cost_usd",
                totals.unpriced_models,
                usages.len(),
                totals.unpriced_invocations,
                totals.unpriced_input_tokens,
                totals.unpriced_output_tokens
            ));
        }
        if cache_writes > 0 {
            notes.push(format!(
                "{cache_writes} prompt-cache write tokens are priced at the 5-minute rate: \
                 CloudWatch does not say their lifetime, and 1-hour writes cost more (2 × the \
                 input price instead of 1.25 × for Claude); the billed report has both"
            ));
        }
        let book = prices::active();
        let elsewhere: Vec<String> = usages
            .iter()
            .filter_map(|m| Some(format!("{} ({})", m.model_id, m.priced_in.as_ref()?)))
            .collect();
        if !elsewhere.is_empty() {
            notes.push(format!(
                "the {} prices have none in {region} for {}: priced at that region's rates, \
                 which may differ (add [pricing] entries{})",
                book.describe(),
                elsewhere.join(", "),
                if book.path.is_some() {
                    ""
                } else {
                    ", or save the Price List's with `bedrock-monitor prices update`"
                }
            ));
        }
        let used = prices::PricesUsed::of(book, Utc::now().date_naive());

        let projection = project(window, &totals);
        Report {
            window: WindowSummary {
                start: window.start,
                end: window.end,
                hours: window.hours(),
                period_seconds,
            },
            region: region.to_string(),
            prices_as_of: used.as_of.to_string(),
            prices_region: if used.regions.iter().any(|r| r == region) {
                region.to_string()
            } else {
                prices::REFERENCE_REGION.to_string()
            },
            prices: used,
            totals,
            models: usages,
            projection,
            principals: None,
            principals_check: None,
            source: vec!["metrics"],
            billing: None,
            ce_requests: 0,
            billing_complete: None,
            unmapped_usage_types: None,
            daily: None,
            cur: None,
            quotas: None,
            by_meta: None,
            notes,
        }
    }

    /// Whether the report has no usage at all.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

fn model_usage(
    m: ModelMetrics,
    pricing_overrides: &BTreeMap<String, PriceConfig>,
    region: &str,
) -> ModelUsage {
    let input_tokens = to_count(m.input_tokens);
    let output_tokens = to_count(m.output_tokens);
    // A profile is priced as the model it routes to.
    let priced_as = m
        .profile
        .as_ref()
        .map_or(m.model_id.as_str(), |p| p.model.as_str());
    // A tier suffix on the profile's own ID (`…+flex`) prices the routed model at that tier.
    let tier_suffix = prices::split_tier(&m.model_id).1;
    let priced_as = match (tier_suffix, &m.profile) {
        (Some(tier), Some(_)) => format!("{priced_as}+{}", tier_name(tier)),
        _ => priced_as.to_string(),
    };
    let price = prices::lookup(&priced_as, Some(region), pricing_overrides);
    let avg_latency_ms = (m.latency_samples > 0.0 && m.latency_sum_ms.is_finite())
        .then(|| round_to(m.latency_sum_ms / m.latency_samples, 2));
    let tokens = prices::Tokens {
        input: input_tokens,
        output: output_tokens,
        cache_read: to_count(m.cache_read_input_tokens),
        cache_write: to_count(m.cache_write_input_tokens),
        cache_write_1h: 0,
    };
    let priced = price.as_ref().map(|p| p.price.cost_of(&tokens));
    ModelUsage {
        invocations: to_count(m.invocations),
        input_tokens,
        output_tokens,
        cost_usd: priced.as_ref().map(|p| round_cost(p.usd)),
        unpriced_token_kinds: priced.map(|p| p.unpriced).unwrap_or_default(),
        tier: price.as_ref().and_then(|p| p.tier),
        price_key: price.as_ref().map(|p| p.key.clone()),
        priced_in: price
            .as_ref()
            .and_then(|p| p.region.clone())
            .filter(|r| r != region),
        price_source: price.map(|p| p.source),
        avg_latency_ms,
        p99_latency_ms: m.p99_latency_ms.map(|v| round_to(v, 2)),
        client_errors: to_count(m.client_errors),
        server_errors: to_count(m.server_errors),
        throttles: to_count(m.throttles),
        cache_read_input_tokens: to_count(m.cache_read_input_tokens),
        cache_write_input_tokens: to_count(m.cache_write_input_tokens),
        model_id: m.model_id,
        endpoint: m.endpoint,
        billed: None,
        logs: None,
        differences: None,
        profile: m.profile,
    }
}

fn tier_name(tier: prices::Tier) -> &'static str {
    match tier {
        prices::Tier::Flex => "flex",
        prices::Tier::Priority => "priority",
    }
}

/// The window's totals scaled to a 30-day month.
pub fn project(window: &Window, totals: &Totals) -> Projection {
    let factor = projection_factor(window);
    Projection {
        days: PROJECTION_DAYS,
        monthly_invocations: to_count(totals.invocations as f64 * factor),
        monthly_input_tokens: to_count(totals.input_tokens as f64 * factor),
        monthly_output_tokens: to_count(totals.output_tokens as f64 * factor),
        monthly_cost_usd: round_cost(totals.cost_usd * factor),
    }
}

/// 30 days / the window's length.
pub fn projection_factor(window: &Window) -> f64 {
    let seconds = window.seconds().max(1) as f64;
    f64::from(PROJECTION_DAYS) * 86_400.0 / seconds
}

/// Costs are kept to a millionth of a dollar (floating-point noise below that is dropped).
pub(crate) fn round_cost(usd: f64) -> f64 {
    round_to(usd, 6)
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A metric sum as a count: rounded, and 0 for negative or non-finite values.
pub(crate) fn to_count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

/// Priced before unpriced; among priced, the higher cost first.
pub(crate) fn cost_order(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests;
