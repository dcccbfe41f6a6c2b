//! The spend digest (`[chat] digest = "daily" | "weekly"`): a short summary of the last period
//! published to the alert topic, so the chat channels (AWS Chatbot) and the email subscribers
//! see it beside the alerts.
//!
//! Its figures are `report`'s, not a second computation: the period's report
//! ([`crate::report::build_report`] with the per-principal breakdown and the bill, like `report
//! --hours 24|168 --by-principal` and `report --source billing` over the same window) and the
//! previous equal window's (metrics and principals only: the bill is read once per digest, at
//! $0.01 a Cost Explorer request). Beside them: the configured budgets' spend and forecast
//! (`DescribeBudget`) and who the limits block now (the limits' state, [`crate::limits`]).
//!
//! [`render`] makes the chat notification and the email text; [`publish`] sends it once per
//! period, recorded with a conditional write.

pub mod publish;
pub mod render;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::config::Config;
use crate::report::{Report, ReportOptions, Window, build_report};

pub use publish::{Published, maybe_publish};

/// Rows in each "top" list and in "what moved most": the tool's own choice, to keep a chat
/// message to one screen.
pub const TOP: usize = 5;
pub const MOVERS: usize = 3;

/// Budgets answer this for a budget that does not exist (Budgets API reference,
/// `DescribeBudget` errors).
const BUDGET_NOT_FOUND: &[&str] = &["NotFoundException"];

/// The digest of one account and region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub stack: String,
    pub account: String,
    pub region: String,
    /// `daily` or `weekly`.
    pub frequency: String,
    pub window: Period,
    /// The equal window before it, for what moved.
    pub previous_window: Period,
    pub spend: Spend,
    /// The most expensive models of the period (priced first, by cost; then by invocations).
    pub top_models: Vec<Entry>,
    /// The biggest spenders of the period, from the invocation logs; `None` when the logs
    /// could not say (the reason is in `notes`).
    pub top_principals: Option<Vec<Entry>>,
    /// The largest changes in cost against the previous window, models and principals.
    pub moved: Vec<Move>,
    pub budgets: Vec<BudgetState>,
    /// Who the limits block now (empty without `[[limits]]`).
    pub blocked: Vec<Blocked>,
    /// The report's notes (unpriced models, sources that could not be read).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl From<&Window> for Period {
    fn from(w: &Window) -> Period {
        Period {
            start: w.start,
            end: w.end,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spend {
    /// The estimate from the metrics (`report`'s `totals.cost_usd`, priced models only).
    pub estimated_usd: f64,
    /// The same for the previous window.
    pub previous_estimated_usd: f64,
    pub invocations: u64,
    /// `report`'s projection: the period's estimate scaled to 30 days
    /// (`projection.monthly_cost_usd`).
    pub projected_30_days_usd: f64,
    /// What Cost Explorer billed for the period's days, when it could be read.
    pub billed_usd: Option<f64>,
    /// False while the bill for the period is still settling (24-48 hours).
    pub billed_complete: Option<bool>,
    /// Models with usage but no price (their cost is not in the estimate).
    pub unpriced_models: usize,
}

/// A model or a principal and what it cost in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub name: String,
    pub cost_usd: Option<f64>,
    pub invocations: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// `model` or `principal`.
    pub kind: &'static str,
    pub name: String,
    pub previous_usd: f64,
    pub current_usd: f64,
    pub change_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetState {
    pub name: String,
    /// The budget's period (`MONTHLY`, `DAILY`, …) as AWS returns it.
    pub time_unit: Option<String>,
    pub limit: Option<Amount>,
    pub actual: Option<Amount>,
    pub forecast: Option<Amount>,
    /// Why nothing could be read (the budget does not exist, or the read was refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// An amount as Budgets returns it (a decimal string and its unit), read as a number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    pub amount: f64,
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocked {
    pub subject: String,
    pub limit: String,
    pub since: Option<DateTime<Utc>>,
}

/// The windows of a digest of `days` days ending now: the one `report --hours` would take
/// (ending at the whole minute), and the equal one before it.
pub fn windows(days: u32, now: DateTime<Utc>) -> Result<(Window, Window), AwsError> {
    let bad = |e: crate::report::WindowError| {
        AwsError::setup(
            format!("the digest's window: {e}"),
            "check the machine's clock",
        )
    };
    let window = Window::last_hours(days * 24, now).map_err(bad)?;
    let previous = Window::new(window.start - window.duration(), window.start, now).map_err(bad)?;
    Ok((window, previous))
}

/// Reads everything the digest shows, in the account and region of `clients`.
pub async fn build(
    clients: &Clients,
    config: &Config,
    account: &str,
    partition: &str,
    frequency: &str,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Digest, AwsError> {
    let (window, previous_window) = windows(days, now)?;
    // The quota headroom is not part of the digest: leave it out rather than need Service
    // Quotas' reads too.
    let mut read = config.clone();
    read.quotas = None;
    let options = ReportOptions {
        billing: true,
        ..ReportOptions::from_config(config, true)
    };
    let current = build_report(clients, &read, &window, &options).await?;
    let previous_options = ReportOptions::from_config(config, true);
    let previous = build_report(clients, &read, &previous_window, &previous_options).await?;
    let budgets = read_budgets(clients, config, account).await;
    let blocked = if config.limits.is_empty() {
        Vec::new()
    } else {
        crate::limits::standings(clients, config, account, partition, now)
            .await?
            .into_iter()
            .filter(|r| r.state == "blocked")
            .map(|r| Blocked {
                subject: r.subject,
                limit: r.limit,
                since: r.since,
            })
            .collect()
    };
    Ok(assemble(
        Heading {
            stack: config.stack.name.clone(),
            account: account.to_string(),
            region: clients.region.clone(),
            frequency: frequency.to_string(),
        },
        (&window, &current),
        (&previous_window, &previous),
        budgets,
        blocked,
    ))
}

/// Who and where a digest is for.
pub struct Heading {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub frequency: String,
}

/// The digest from what was read: pure, so its arithmetic is tested without AWS.
pub fn assemble(
    heading: Heading,
    (window, current): (&Window, &Report),
    (previous_window, previous): (&Window, &Report),
    budgets: Vec<BudgetState>,
    blocked: Vec<Blocked>,
) -> Digest {
    let top_models: Vec<Entry> = current
        .models
        .iter()
        .take(TOP)
        .map(|m| Entry {
            name: m.label(),
            cost_usd: m.cost_usd,
            invocations: m.invocations,
        })
        .collect();
    let principals_now = current.principals.as_deref().map(per_principal);
    let top_principals = principals_now.as_ref().map(|p| {
        let mut rows: Vec<Entry> = p.values().cloned().collect();
        rows.sort_by(|a, b| {
            crate::report::cost_order(a.cost_usd, b.cost_usd)
                .then(b.invocations.cmp(&a.invocations))
                .then(a.name.cmp(&b.name))
        });
        rows.truncate(TOP);
        rows
    });
    let mut moved = changes("model", &per_model(current), &per_model(previous));
    if let (Some(now), Some(before)) = (
        principals_now.as_ref(),
        previous.principals.as_deref().map(per_principal),
    ) {
        moved.extend(changes("principal", now, &before));
    }
    moved.sort_by(|a, b| {
        b.change_usd
            .abs()
            .total_cmp(&a.change_usd.abs())
            .then(a.name.cmp(&b.name))
    });
    moved.truncate(MOVERS);
    Digest {
        stack: heading.stack,
        account: heading.account,
        region: heading.region,
        frequency: heading.frequency,
        window: window.into(),
        previous_window: previous_window.into(),
        spend: Spend {
            estimated_usd: current.totals.cost_usd,
            previous_estimated_usd: previous.totals.cost_usd,
            invocations: current.totals.invocations,
            projected_30_days_usd: current.projection.monthly_cost_usd,
            billed_usd: current.totals.billed_cost_usd,
            billed_complete: current.billing_complete,
            unpriced_models: current.totals.unpriced_models,
        },
        top_models,
        top_principals,
        moved,
        budgets,
        blocked,
        notes: current.notes.clone(),
    }
}

/// Each model's row by its label (a profile by its name).
fn per_model(report: &Report) -> BTreeMap<String, Entry> {
    report
        .models
        .iter()
        .map(|m| {
            (
                m.label(),
                Entry {
                    name: m.label(),
                    cost_usd: m.cost_usd,
                    invocations: m.invocations,
                },
            )
        })
        .collect()
}

/// The per-principal rows (one per principal and model) summed per principal; a principal's
/// cost is unknown when none of its rows is priced.
fn per_principal(rows: &[crate::report::PrincipalUsage]) -> BTreeMap<String, Entry> {
    let mut out: BTreeMap<String, Entry> = BTreeMap::new();
    for r in rows {
        let e = out.entry(r.principal.clone()).or_insert_with(|| Entry {
            name: r.principal.clone(),
            cost_usd: None,
            invocations: 0,
        });
        e.invocations += r.invocations;
        if let Some(cost) = r.cost_usd {
            e.cost_usd = Some(crate::report::round_cost(e.cost_usd.unwrap_or(0.0) + cost));
        }
    }
    out
}

/// The priced changes between two periods, zero changes left out.
fn changes(
    kind: &'static str,
    now: &BTreeMap<String, Entry>,
    before: &BTreeMap<String, Entry>,
) -> Vec<Move> {
    let mut names: Vec<&String> = now.keys().chain(before.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let cost = |m: &BTreeMap<String, Entry>| m.get(name).and_then(|e| e.cost_usd);
            let (current, previous) = (cost(now), cost(before));
            if current.is_none() && previous.is_none() {
                return None;
            }
            let (current, previous) = (current.unwrap_or(0.0), previous.unwrap_or(0.0));
            let change = crate::report::round_cost(current - previous);
            (change != 0.0).then(|| Move {
                kind,
                name: name.clone(),
                previous_usd: previous,
                current_usd: current,
                change_usd: change,
            })
        })
        .collect()
}

/// Each configured budget's limit, spend and forecast (`DescribeBudget`); a budget that cannot
/// be read is listed with the reason, not dropped.
async fn read_budgets(clients: &Clients, config: &Config, account: &str) -> Vec<BudgetState> {
    let mut seen = std::collections::BTreeSet::new();
    let names: Vec<&str> = config
        .budgets
        .iter()
        .map(|b| b.name.as_str())
        .filter(|n| seen.insert(*n))
        .collect();
    let mut out = Vec::new();
    for name in names {
        let read = clients
            .budgets
            .describe_budget()
            .account_id(account)
            .budget_name(name)
            .send()
            .await
            .aws("budgets:ViewBudget");
        let state = match read {
            Ok(answer) => match answer.budget() {
                Some(b) => {
                    let amount = |s: Option<&aws_sdk_budgets::types::Spend>| {
                        s.and_then(|s| {
                            s.amount().trim().parse::<f64>().ok().map(|amount| Amount {
                                amount,
                                unit: s.unit().to_string(),
                            })
                        })
                    };
                    let spent = b.calculated_spend();
                    BudgetState {
                        name: name.to_string(),
                        time_unit: Some(b.time_unit().as_str().to_string()),
                        limit: amount(b.budget_limit()),
                        actual: amount(spent.and_then(|c| c.actual_spend())),
                        forecast: amount(spent.and_then(|c| c.forecasted_spend())),
                        unreadable: None,
                    }
                }
                None => unreadable(name, "Budgets answered without the budget".into()),
            },
            Err(e) if e.code_is(BUDGET_NOT_FOUND) => unreadable(
                name,
                "not found: run `bedrock-monitor apply` to create it".into(),
            ),
            Err(e) => unreadable(name, e.to_string()),
        };
        out.push(state);
    }
    out
}

fn unreadable(name: &str, why: String) -> BudgetState {
    BudgetState {
        name: name.to_string(),
        time_unit: None,
        limit: None,
        actual: None,
        forecast: None,
        unreadable: Some(why),
    }
}

/// How long after the last digest the next is due: a period, less a little so that a runner
/// passing every few minutes does not push the digest later each period.
pub fn due(last_sent: Option<DateTime<Utc>>, days: u32, now: DateTime<Utc>) -> bool {
    match last_sent {
        None => true,
        // Ten minutes early: more than the runner's default five-minute interval, so the
        // pass just before the anniversary sends it (the tool's own choice).
        Some(at) => now - at >= Duration::days(i64::from(days)) - Duration::minutes(10),
    }
}

#[cfg(test)]
mod tests;
