//! `--source billing`: billed Bedrock spend from Cost Explorer, per model and token kind.
//!
//! One `GetCostAndUsage` (plus its pages): DAILY, `UnblendedCost` and `UsageQuantity`, grouped by
//! `SERVICE` and `USAGE_TYPE`. Cost Explorer matches dimension values exactly only, so the
//! request is narrowed to the services Bedrock is billed under ("Amazon Bedrock", "Amazon
//! Bedrock Service", "Amazon Bedrock AgentCore") and the AWS Marketplace billing entity, and
//! the groups are kept by the one definition of Bedrock spend ([`Definition`]). Each request
//! costs $0.01: the count is reported. Billing data lags usage by 24–48 hours: a window ending
//! less than 48 hours ago is marked incomplete.
//!
//! `UsageQuantity` is in the unit the usage type is priced in ([`crate::cost::usage`]): tokens
//! for Marketplace listings, thousands of tokens for AWS-billed ones. Token counts are scaled
//! by it, and left out where the unit is not known, never shown wrong.

use std::collections::BTreeMap;

use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition,
    GroupDefinitionType,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt};
use crate::cost::prices;
use crate::cost::spend::Definition;
use crate::cost::usage::{TokenKind, classify};

use super::round_cost;
use super::window::Window;

/// How long billing data takes to settle.
pub const BILLING_LAG_HOURS: i64 = 48;

/// A billed model row's figures, in the order the CSV and the HTML page show them (the text
/// table gives them human headings in the same order).
pub const BILLED_COLUMNS: [&str; 9] = [
    "input_cost_usd",
    "output_cost_usd",
    "cache_cost_usd",
    "other_cost_usd",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
];

/// Billed spend of one model over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BilledModel {
    /// As the bill names it ("Claude 3.7 Sonnet", "NovaLite").
    pub model: String,
    pub input_cost_usd: f64,
    pub output_cost_usd: f64,
    pub cache_cost_usd: f64,
    pub other_cost_usd: f64,
    pub cost_usd: f64,
    /// Tokens by kind; `null` where a billed line's unit is not known (its cost is counted).
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
}

/// A line of Bedrock spend that names no model: listed with its cost, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmappedUsage {
    pub service: String,
    pub usage_type: String,
    pub cost_usd: f64,
}

/// One day's billed Bedrock spend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BilledDay {
    pub date: NaiveDate,
    pub cost_usd: f64,
    /// `null` when a token line's unit is not known.
    pub tokens: Option<u64>,
}

/// What one billing service (Cost Explorer's `SERVICE`) counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSpend {
    pub service: String,
    pub cost_usd: f64,
}

/// What the bill says for the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Billing {
    /// The days asked for: Cost Explorer bills by whole UTC days.
    pub start: Option<NaiveDate>,
    /// Exclusive.
    pub end: Option<NaiveDate>,
    /// By cost, highest first.
    pub models: Vec<BilledModel>,
    /// Every billing service counted as Bedrock spend, by cost, highest first.
    pub services: Vec<ServiceSpend>,
    /// Shown at the report's top level (`unmapped_usage_types`).
    #[serde(skip)]
    pub unmapped_usage_types: Vec<UnmappedUsage>,
    pub days: Vec<BilledDay>,
    /// Mapped and unmapped alike.
    pub total_cost_usd: f64,
    /// False when the window ends less than 48 hours ago; shown at the report's top level
    /// (`billing_complete`).
    #[serde(skip)]
    pub complete: bool,
    /// Cost Explorer requests made ($0.01 each).
    pub requests: u32,
    /// With `--by-tag`: billed Bedrock spend per value of the tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_tag: Option<TagSpend>,
    /// When the window is the current month: the month's billed total projected to its end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<BilledProjection>,
}

/// Billed Bedrock spend per value of one cost-allocation tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagSpend {
    pub key: String,
    /// By cost, highest first; spend without the tag is the value `null` ("untagged").
    pub values: Vec<TagValueSpend>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagValueSpend {
    pub value: Option<String>,
    pub cost_usd: f64,
}

/// Sums the (SERVICE, `KEY$value`) groups of Bedrock spend per tag value; Cost Explorer writes
/// untagged spend as `KEY$`.
pub fn by_tag_value(key: &str, lines: &[Line], spend: &Definition) -> TagSpend {
    let mut sums: BTreeMap<Option<String>, f64> = BTreeMap::new();
    for line in lines.iter().filter(|l| spend.counts_service(&l.service)) {
        let value = line
            .usage_type
            .split_once('$')
            .map(|(_, v)| v)
            .unwrap_or(line.usage_type.as_str())
            .trim();
        let value = (!value.is_empty()).then(|| value.to_string());
        *sums.entry(value).or_default() += line.cost;
    }
    let mut values: Vec<TagValueSpend> = sums
        .into_iter()
        .map(|(value, cost)| TagValueSpend {
            value,
            cost_usd: round_cost(cost),
        })
        .collect();
    values.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.value.cmp(&b.value))
    });
    TagSpend {
        key: key.to_string(),
        values,
    }
}

/// The current month's billed spend so far plus Cost Explorer's forecast for the rest
/// (`GetCostForecast`), over the Bedrock services the month's bill names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BilledProjection {
    pub month_to_date_usd: f64,
    pub forecast_rest_of_month_usd: f64,
    pub month_end_usd: f64,
    /// The first day of the next month (exclusive end of the forecast).
    pub month_end: NaiveDate,
}

/// Whether the window is the current month up to now (what the forecast projects).
pub fn is_current_month(window: &Window, now: DateTime<Utc>) -> bool {
    use chrono::Datelike;
    let start = window.start.date_naive();
    let today = now.date_naive();
    start.year() == today.year()
        && start.month() == today.month()
        && start.day() == 1
        && window.end >= now - Duration::hours(24)
}

fn first_of_next_month(day: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    let (year, month) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The forecast for the rest of the month over `services` (the Bedrock services this month's
/// bill names: the forecast cannot be grouped, so it is filtered to exactly those).
async fn forecast_rest_of_month(
    ce: &aws_sdk_costexplorer::Client,
    services: &[String],
    now: DateTime<Utc>,
) -> Result<Option<(f64, NaiveDate)>, AwsError> {
    let today = now.date_naive();
    let Some(month_end) = first_of_next_month(today) else {
        return Ok(None);
    };
    if services.is_empty() || today >= month_end {
        return Ok(None);
    }
    let out = ce
        .get_cost_forecast()
        .time_period(
            DateInterval::builder()
                .start(today.format("%Y-%m-%d").to_string())
                .end(month_end.format("%Y-%m-%d").to_string())
                .build()?,
        )
        .metric(aws_sdk_costexplorer::types::Metric::UnblendedCost)
        .granularity(Granularity::Monthly)
        .filter(
            Expression::builder()
                .dimensions(
                    DimensionValues::builder()
                        .key(Dimension::Service)
                        .set_values(Some(services.to_vec()))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .aws("ce:GetCostForecast")?;
    Ok(out
        .total()
        .and_then(|t| t.amount())
        .and_then(|a| a.trim().parse::<f64>().ok())
        .map(|amount| (amount, month_end)))
}

/// The billed figures, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Billed(Billing),
    Unavailable { reason: String, requests: u32 },
}

/// The UTC days covering the window: from its start's day to the day after its end's (unless
/// the end is midnight).
pub fn billing_days(window: &Window) -> (NaiveDate, NaiveDate) {
    let start = window.start.date_naive();
    let end_day = window.end.date_naive();
    let midnight = window.end.time() == chrono::NaiveTime::MIN;
    let end = if midnight {
        end_day
    } else {
        end_day.succ_opt().unwrap_or(end_day)
    };
    (start, end.max(start.succ_opt().unwrap_or(start)))
}

/// Whether Cost Explorer has settled the window's figures by `now`.
pub fn is_complete(window: &Window, now: DateTime<Utc>) -> bool {
    window.end <= now - Duration::hours(BILLING_LAG_HOURS)
}

/// The services Bedrock is billed under, and the Marketplace (whose listings are services of
/// their own): Cost Explorer matches dimension values exactly only.
fn filter(spend: &Definition) -> Expression {
    let names: Vec<String> = spend
        .billed_service_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let services = Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(Dimension::Service)
                .set_values(Some(names))
                .build(),
        )
        .build();
    let marketplace = Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(Dimension::BillingEntity)
                .values("AWS Marketplace")
                .build(),
        )
        .build();
    Expression::builder().or(services).or(marketplace).build()
}

/// Reads the bill for the window. No access to Cost Explorer is [`Outcome::Unavailable`] with
/// the permission to grant; other errors are errors.
///
/// With `by_tag`, the second grouping is that cost-allocation tag instead of the usage type
/// (Cost Explorer groups by two keys at most, and one request is the budget): the spend per
/// tag value comes out, with an "untagged" row, and models are told apart only where the
/// service names them (Marketplace-billed models).
pub async fn fetch(
    ce: &aws_sdk_costexplorer::Client,
    window: &Window,
    now: DateTime<Utc>,
    by_tag: Option<&str>,
    spend: &Definition,
) -> Result<Outcome, AwsError> {
    let (start, end) = billing_days(window);
    let mut billing = Billing {
        start: Some(start),
        end: Some(end),
        complete: is_complete(window, now),
        ..Billing::default()
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        billing.requests += 1;
        let page = ce
            .get_cost_and_usage()
            .time_period(
                DateInterval::builder()
                    .start(start.format("%Y-%m-%d").to_string())
                    .end(end.format("%Y-%m-%d").to_string())
                    .build()?,
            )
            .granularity(Granularity::Daily)
            .metrics("UnblendedCost")
            .metrics("UsageQuantity")
            .filter(filter(spend))
            .group_by(
                GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key("SERVICE")
                    .build(),
            )
            .group_by(match by_tag {
                Some(key) => GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Tag)
                    .key(key)
                    .build(),
                None => GroupDefinition::builder()
                    .r#type(GroupDefinitionType::Dimension)
                    .key("USAGE_TYPE")
                    .build(),
            })
            .set_next_page_token(token.clone())
            .send()
            .await
            .aws("ce:GetCostAndUsage");
        let page = match page {
            Ok(page) => page,
            Err(e) if e.is_access_denied() => {
                return Ok(Outcome::Unavailable {
                    reason: format!(
                        "no access to Cost Explorer ({}): the billed figures need \
                         `ce:GetCostAndUsage` (`bedrock-monitor permissions --with-billing`), and \
                         in a member account the payer must have enabled Cost Explorer",
                        e.message
                    ),
                    requests: billing.requests,
                });
            }
            Err(e) => return Err(e),
        };
        for period in page.results_by_time() {
            let Some(date) = period
                .time_period()
                .and_then(|p| NaiveDate::parse_from_str(p.start(), "%Y-%m-%d").ok())
            else {
                continue;
            };
            for group in period.groups() {
                let keys = group.keys();
                let (Some(service), Some(usage_type)) = (keys.first(), keys.get(1)) else {
                    continue;
                };
                let amount = |metric: &str| {
                    group
                        .metrics()
                        .and_then(|m| m.get(metric))
                        .and_then(|v| v.amount())
                        .and_then(|a| a.trim().parse::<f64>().ok())
                        .unwrap_or(0.0)
                };
                lines.push(Line {
                    date,
                    service: service.clone(),
                    usage_type: usage_type.clone(),
                    cost: amount("UnblendedCost"),
                    quantity: amount("UsageQuantity"),
                });
            }
        }
        match page.next_page_token() {
            Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                token = Some(next.to_string());
            }
            _ => break,
        }
    }
    match by_tag {
        Some(key) => {
            let tagged = by_tag_value(key, &lines, spend);
            billing.total_cost_usd = round_cost(tagged.values.iter().map(|v| v.cost_usd).sum());
            billing.by_tag = Some(tagged);
        }
        None => summarise(&mut billing, &lines, spend),
    }
    if by_tag.is_none() && is_current_month(window, now) {
        let mut services: Vec<String> = lines
            .iter()
            .filter(|l| spend.counts_service(&l.service))
            .map(|l| l.service.clone())
            .collect();
        services.sort();
        services.dedup();
        if !services.is_empty() {
            billing.requests += 1;
            // The forecast is a nice-to-have: a refusal (too little history, no access) leaves
            // it out and the billed figures stand.
            match forecast_rest_of_month(ce, &services, now).await {
                Ok(Some((rest, month_end))) => {
                    billing.projection = Some(BilledProjection {
                        month_to_date_usd: billing.total_cost_usd,
                        forecast_rest_of_month_usd: round_cost(rest),
                        month_end_usd: round_cost(billing.total_cost_usd + rest),
                        month_end,
                    });
                }
                Ok(None) => {}
                Err(e) => tracing::debug!("no billed forecast: {e}"),
            }
        }
    }
    Ok(Outcome::Billed(billing))
}

/// One billed (day, service, usage type) group.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub date: NaiveDate,
    pub service: String,
    pub usage_type: String,
    pub cost: f64,
    pub quantity: f64,
}

/// Per model and kind, unmapped lines, per day and the total, from the groups of Bedrock spend.
pub fn summarise(billing: &mut Billing, lines: &[Line], spend: &Definition) {
    let mut models: BTreeMap<String, BilledModel> = BTreeMap::new();
    let mut unmapped: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut days: BTreeMap<NaiveDate, (f64, Option<u64>)> = BTreeMap::new();
    let mut services: BTreeMap<String, f64> = BTreeMap::new();
    let mut total = 0.0;
    for line in lines.iter().filter(|l| spend.counts_service(&l.service)) {
        total += line.cost;
        *services.entry(line.service.trim().to_string()).or_default() += line.cost;
        let day = days.entry(line.date).or_insert((0.0, Some(0)));
        day.0 += line.cost;
        let Some(billed) = classify(&line.service, &line.usage_type) else {
            *unmapped
                .entry((line.service.clone(), line.usage_type.clone()))
                .or_default() += line.cost;
            continue;
        };
        let m = models
            .entry(billed.model.clone())
            .or_insert_with(|| BilledModel {
                model: billed.model.clone(),
                input_tokens: Some(0),
                output_tokens: Some(0),
                cache_read_tokens: Some(0),
                cache_write_tokens: Some(0),
                ..BilledModel::default()
            });
        // In the unit the Price List prices the usage type in (the price book's own record
        // of it); `None` when the book does not say.
        let tokens = prices::active()
            .tokens_per_unit(&line.service, &line.usage_type)
            .map(|per_unit| (line.quantity.max(0.0) * per_unit).round() as u64);
        let add = |sum: &mut Option<u64>| *sum = sum.zip(tokens).map(|(a, b)| a + b);
        m.cost_usd += line.cost;
        match billed.kind {
            TokenKind::Input => {
                m.input_cost_usd += line.cost;
                add(&mut m.input_tokens);
                add(&mut day.1);
            }
            TokenKind::Output => {
                m.output_cost_usd += line.cost;
                add(&mut m.output_tokens);
                add(&mut day.1);
            }
            TokenKind::CacheRead => {
                m.cache_cost_usd += line.cost;
                add(&mut m.cache_read_tokens);
                add(&mut day.1);
            }
            TokenKind::CacheWrite => {
                m.cache_cost_usd += line.cost;
                add(&mut m.cache_write_tokens);
                add(&mut day.1);
            }
            TokenKind::Other => m.other_cost_usd += line.cost,
        }
    }
    let mut models: Vec<BilledModel> = models
        .into_values()
        .map(|mut m| {
            for c in [
                &mut m.input_cost_usd,
                &mut m.output_cost_usd,
                &mut m.cache_cost_usd,
                &mut m.other_cost_usd,
                &mut m.cost_usd,
            ] {
                *c = round_cost(*c);
            }
            m
        })
        .collect();
    models.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.model.cmp(&b.model))
    });
    billing.models = models;
    billing.unmapped_usage_types = unmapped
        .into_iter()
        .map(|((service, usage_type), cost)| UnmappedUsage {
            service,
            usage_type,
            cost_usd: round_cost(cost),
        })
        .collect();
    billing.days = days
        .into_iter()
        .map(|(date, (cost, tokens))| BilledDay {
            date,
            cost_usd: round_cost(cost),
            tokens,
        })
        .collect();
    let mut services: Vec<ServiceSpend> = services
        .into_iter()
        .map(|(service, cost)| ServiceSpend {
            service,
            cost_usd: round_cost(cost),
        })
        .collect();
    services.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| a.service.cmp(&b.service))
    });
    billing.services = services;
    billing.total_cost_usd = round_cost(total);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(date: &str, service: &str, usage_type: &str, cost: f64, quantity: f64) -> Line {
        Line {
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date"),
            service: service.into(),
            usage_type: usage_type.into(),
            cost,
            quantity,
        }
    }

    /// The figures of the issue: Claude 3.7 Sonnet on one day in October 2025, 506 input and
    /// 4,576 output tokens, $0.001518 + $0.068640 = $0.070158.
    #[test]
    fn models_kinds_unmapped_lines_and_days() {
        // A listing the built-in price book has (its units are a million tokens each).
        let haiku = "Claude Haiku 4.5 (Amazon Bedrock Edition)";
        let lines = vec![
            line(
                "2025-10-14",
                haiku,
                "USE1-MP:USE1_InputTokenCount-Units",
                0.001518,
                0.000506,
            ),
            line(
                "2025-10-14",
                haiku,
                "USE1-MP:USE1_OutputTokenCount-Units",
                0.06864,
                0.004576,
            ),
            line(
                "2025-10-15",
                "Amazon Bedrock",
                "USE1-NovaLite-input-tokens",
                0.0006,
                10000.0,
            ),
            line(
                "2025-10-15",
                "Amazon Bedrock",
                "USE1-ProvisionedThroughput",
                2.5,
                1.0,
            ),
            // Marketplace spend that is not Bedrock: not counted.
            line(
                "2025-10-15",
                "Some SaaS Product",
                "USE1-MP:Seats",
                99.0,
                1.0,
            ),
        ];
        let mut billing = Billing::default();
        summarise(&mut billing, &lines, &Definition::default());
        let s = &billing.models[0];
        assert_eq!(s.model, "Claude Haiku 4.5");
        assert_eq!((s.input_tokens, s.output_tokens), (Some(506), Some(4576)));
        assert_eq!(s.input_cost_usd, 0.001518);
        assert_eq!(s.output_cost_usd, 0.06864);
        assert_eq!(s.cost_usd, 0.070158);
        assert_eq!(billing.models[1].model, "NovaLite");
        assert_eq!(
            billing.unmapped_usage_types,
            [UnmappedUsage {
                service: "Amazon Bedrock".into(),
                usage_type: "USE1-ProvisionedThroughput".into(),
                cost_usd: 2.5
            }]
        );
        assert_eq!(billing.total_cost_usd, round_cost(0.070158 + 0.0006 + 2.5));
        assert_eq!(billing.days.len(), 2);
        assert_eq!(billing.days[0].tokens, Some(506 + 4576));
    }

    #[test]
    fn the_days_cover_the_window_and_recent_windows_are_incomplete() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        let window = Window {
            start: at("2026-11-01T10:00:00Z"),
            end: at("2026-11-03T00:00:00Z"),
        };
        let (start, end) = billing_days(&window);
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2026-11-01".into(), "2026-11-03".into())
        );
        let window = Window {
            start: at("2026-11-01T10:00:00Z"),
            end: at("2026-11-03T05:00:00Z"),
        };
        assert_eq!(billing_days(&window).1.to_string(), "2026-11-04");
        assert!(!is_complete(&window, at("2026-11-04T00:00:00Z")));
        assert!(is_complete(&window, at("2026-11-05T05:00:00Z")));
    }
}
