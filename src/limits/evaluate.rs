//! Pure rules of a pass: folding records into the month's totals, where each limit stands for
//! each subject, and the transitions (warned, over, blocked, unblocked) a pass records once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, LimitConfig, PriceConfig};
use crate::cost::prices;

use super::logs::Record;
use super::state::{Notice, Standing, State, Totals, month_of};

/// Application inference profiles by what a record's `modelId` may be (ARN or ID): the
/// profile's name and the model it routes to, for pricing.
pub type Profiles = BTreeMap<String, (String, String)>;

pub use crate::aws::profiles::looks_like_profile;

/// Adds one record to the state's totals (the month's, and the day's when it is of `day`);
/// priced like `report`: the model's price (a profile's by the model it routes to) with every
/// token kind at its own rate.
pub fn fold(
    state: &mut State,
    record: &Record,
    profiles: &Profiles,
    pricing: &BTreeMap<String, PriceConfig>,
    region: &str,
) {
    if month_of(record.timestamp) != state.month {
        state.records_outside_month += 1;
        return;
    }
    let today = record.timestamp.date_naive().to_string() == state.day;
    let priced_as = profiles
        .get(&record.model_id)
        .map(|(_, model)| model.as_str())
        .unwrap_or(&record.model_id);
    let usd = prices::lookup(priced_as, Some(region), pricing)
        .map(|m| m.price.cost_of(&record.tokens))
        .filter(|p| p.unpriced.is_empty())
        .map(|p| p.usd);
    let add = |map: &mut BTreeMap<String, Totals>, key: &str| {
        map.entry(key.to_string())
            .or_default()
            .add(&record.tokens, usd)
    };
    add(&mut state.principals_month, &record.principal);
    if today {
        add(&mut state.principals_day, &record.principal);
    }
    if looks_like_profile(&record.model_id) {
        add(&mut state.profiles_month, &record.model_id);
        if today {
            add(&mut state.profiles_day, &record.model_id);
        }
    }
}

/// The period a limit's standing is in at `now`.
pub fn period_of(limit: &LimitConfig, now: DateTime<Utc>) -> String {
    if limit.period == "day" {
        now.date_naive().to_string()
    } else {
        month_of(now)
    }
}

/// One subject of one limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub limit: String,
    /// A principal's ARN, or `profile:NAME` for a team limit.
    pub subject: String,
    pub period: String,
    pub spend_usd: f64,
    pub limit_usd: f64,
    pub share_percent: f64,
    pub invocations: u64,
    pub unpriced_records: u64,
    /// `ok`, `warned`, `over` (an alert limit crossed), `blocked` or `released` (unblocked by hand).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    pub action: String,
}

/// Each limit's subjects and their spend in the limit's period.
pub fn rows(config: &Config, state: &State, profiles: &Profiles, now: DateTime<Utc>) -> Vec<Row> {
    let mut out = Vec::new();
    for limit in &config.limits {
        let day = limit.period == "day";
        let period = period_of(limit, now);
        let mut subjects: Vec<(String, Totals)> = Vec::new();
        match &limit.inference_profile {
            Some(name) => {
                let map = if day {
                    &state.profiles_day
                } else {
                    &state.profiles_month
                };
                let mut total = Totals::default();
                for (model_id, t) in map {
                    if profiles.get(model_id).is_some_and(|(n, _)| n == name) {
                        total.usd += t.usd;
                        total.invocations += t.invocations;
                        total.unpriced_records += t.unpriced_records;
                    }
                }
                subjects.push((format!("profile:{name}"), total));
            }
            None => {
                let map = if day {
                    &state.principals_day
                } else {
                    &state.principals_month
                };
                for (arn, t) in map {
                    if limit.holds(arn) {
                        subjects.push((arn.clone(), t.clone()));
                    }
                }
            }
        }
        // Subjects with a standing but no spend today (a new day) still show.
        if let Some(standings) = state.standings.get(&limit.name) {
            for subject in standings.keys() {
                if !subjects.iter().any(|(s, _)| s == subject) {
                    subjects.push((subject.clone(), Totals::default()));
                }
            }
        }
        for (subject, t) in subjects {
            let standing = state
                .standings
                .get(&limit.name)
                .and_then(|s| s.get(&subject))
                .filter(|s| s.period == period);
            let (label, since) = label_of(standing);
            out.push(Row {
                limit: limit.name.clone(),
                subject,
                period: period.clone(),
                spend_usd: t.usd,
                limit_usd: limit.usd,
                share_percent: t.usd / limit.usd * 100.0,
                invocations: t.invocations,
                unpriced_records: t.unpriced_records,
                state: label.to_string(),
                since,
                action: limit.action.clone(),
            });
        }
    }
    out
}

fn label_of(standing: Option<&Standing>) -> (&'static str, Option<DateTime<Utc>>) {
    let Some(s) = standing else {
        return ("ok", None);
    };
    if let Some(at) = s.blocked_at {
        ("blocked", Some(at))
    } else if let Some(at) = s.released_at {
        ("released", Some(at))
    } else if let Some(at) = s.over_at {
        ("over", Some(at))
    } else if let Some(at) = s.warned_at {
        ("warned", Some(at))
    } else {
        ("ok", None)
    }
}

/// Records the transitions the rows call for in `state`, each once, with a notice for each:
/// warned at `warn_percent`, blocked at 100% (alert limits: over), unblocked when the period of
/// a block has ended. Standings of ended periods are dropped.
pub fn transition(config: &Config, state: &mut State, rows: &[Row], now: DateTime<Utc>) {
    // Ended periods first: their blocks are lifted.
    let current: BTreeMap<&str, String> = config
        .limits
        .iter()
        .map(|l| (l.name.as_str(), period_of(l, now)))
        .collect();
    let mut ended = Vec::new();
    for (limit, standings) in &mut state.standings {
        standings.retain(|subject, s| {
            let keep = current.get(limit.as_str()) == Some(&s.period);
            if !keep && s.blocked_at.is_some() {
                ended.push((limit.clone(), subject.clone(), s.period.clone()));
            }
            keep
        });
    }
    state.standings.retain(|_, s| !s.is_empty());
    for (limit, subject, period) in ended {
        push_notice(
            state,
            now,
            "unblocked",
            &limit,
            &subject,
            format!("{subject} is unblocked: limit {limit}'s period {period} has ended"),
        );
    }
    for row in rows {
        let Some(limit) = config.limits.iter().find(|l| l.name == row.limit) else {
            continue;
        };
        let standing = state
            .standings
            .entry(row.limit.clone())
            .or_default()
            .entry(row.subject.clone())
            .or_insert_with(|| Standing {
                period: row.period.clone(),
                ..Standing::default()
            });
        let mut notices = Vec::new();
        if row.share_percent >= limit.warn_percent && standing.warned_at.is_none() {
            standing.warned_at = Some(now);
            notices.push((
                "warned",
                format!(
                    "{} has spent ${:.2} of limit {} (${:.2} a {}): {:.0}%",
                    row.subject,
                    row.spend_usd,
                    limit.name,
                    limit.usd,
                    limit.period,
                    row.share_percent
                ),
            ));
        }
        if row.spend_usd >= limit.usd {
            if limit.blocks() {
                if standing.blocked_at.is_none() && standing.released_at.is_none() {
                    standing.blocked_at = Some(now);
                    notices.push((
                        "blocked",
                        format!(
                            "{} is blocked from Bedrock inference: ${:.2} spent this {} is over limit {} (${:.2}); lifted when the period turns, or with `bedrock-monitor limits unblock {}`",
                            row.subject, row.spend_usd, limit.period, limit.name, limit.usd, row.subject
                        ),
                    ));
                }
            } else if standing.over_at.is_none() {
                standing.over_at = Some(now);
                notices.push((
                    "over",
                    format!(
                        "{} is over limit {}: ${:.2} spent this {} (limit ${:.2}; action alert, nothing blocked)",
                        row.subject, limit.name, row.spend_usd, limit.period, limit.usd
                    ),
                ));
            }
        }
        let standing_is_default = standing.warned_at.is_none()
            && standing.blocked_at.is_none()
            && standing.over_at.is_none()
            && standing.released_at.is_none();
        if standing_is_default && let Some(s) = state.standings.get_mut(&row.limit) {
            s.remove(&row.subject);
        }
        for (kind, message) in notices {
            push_notice(state, now, kind, &row.limit, &row.subject, message);
        }
    }
    state.standings.retain(|_, s| !s.is_empty());
}

/// Lifts `principal`'s blocks by hand (for the rest of their periods); the limits it was
/// blocked under, empty when it was not blocked.
pub fn release(state: &mut State, principal: &str, now: DateTime<Utc>) -> Vec<String> {
    let mut lifted = Vec::new();
    for (limit, standings) in &mut state.standings {
        if let Some(s) = standings.get_mut(principal)
            && s.blocked_at.is_some()
        {
            s.blocked_at = None;
            s.released_at = Some(now);
            lifted.push(limit.clone());
        }
    }
    for limit in &lifted {
        push_notice(
            state,
            now,
            "unblocked",
            limit,
            principal,
            format!(
                "{principal} is unblocked by hand under limit {limit} for the rest of its period"
            ),
        );
    }
    lifted
}

/// Every principal blocked now under any limit.
pub fn blocked(state: &State) -> BTreeSet<String> {
    state
        .standings
        .values()
        .flat_map(|s| s.iter())
        .filter(|(_, s)| s.blocked_at.is_some())
        .map(|(subject, _)| subject.clone())
        .collect()
}

fn push_notice(
    state: &mut State,
    now: DateTime<Utc>,
    kind: &str,
    limit: &str,
    subject: &str,
    message: String,
) {
    let id = format!("{}/{kind}/{limit}/{subject}", now.to_rfc3339());
    state.notices.push(Notice {
        id,
        at: now,
        kind: kind.to_string(),
        limit: limit.to_string(),
        subject: subject.to_string(),
        message,
        published: false,
    });
}
