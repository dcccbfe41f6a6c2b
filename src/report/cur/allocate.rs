//! `--allocate meta:KEY`: the bill split among the values of a request-metadata key.
//!
//! The CUR stops at the IAM principal; behind a gateway or a shared role that is the role, not
//! the person. The invocation logs record each call's `requestMetadata` (`report::meta`). Each
//! billed bucket — UTC day × usage account × region × model × token kind × principal — is
//! split among the key's values in proportion to their tokens of that kind in the logs'
//! records of the same day, account, region, model and principal:
//!
//! - records without the key are a value of their own (`(no KEY)`), split like the others;
//! - what the logs do not cover stays a row (`(not in the logs)`): a bucket no record matches,
//!   and, where the price book gives the tokens per billed unit, the part of a bucket's billed
//!   tokens beyond those the logs count (logging off part of the day, records still to come);
//! - Bedrock spend that is not tokens (provisioned throughput, a usage type that names no
//!   model) cannot be split by tokens: `(not token usage)`; credits, refunds and discounts
//!   stay `(adjustments)`.
//!
//! So the rows always add up to the bill. Shares are worked out in full precision; the rows'
//! cents are then rounded by the largest-remainder method, so that the cents shown add up to
//! the bill's total rounded to the cent, exactly (`exact_cost_usd` keeps each row's figure
//! to the micro-dollar).
//!
//! A record names its model by ID (`us.anthropic.claude-3-haiku-20240307-v1:0`), the bill by
//! product or usage-type part ("Claude 3 Haiku", "NovaLite"): a record belongs to the billed
//! model whose name, as lowercase letters and digits, is the longest contained in its ID (as
//! `--compare` matches them). A record that names an application inference profile by ARN
//! names no model: its tokens match no bucket (said in the notes).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::cost::usage::TokenKind;
use crate::log_objects::Record;

use super::super::round_cost;

/// The token kinds a record counts, in [`Tokens`](crate::cost::prices::Tokens) order.
const KINDS: [TokenKind; 4] = [
    TokenKind::Input,
    TokenKind::Output,
    TokenKind::CacheRead,
    TokenKind::CacheWrite,
];

fn kind_index(kind: TokenKind) -> Option<usize> {
    KINDS.iter().position(|k| *k == kind)
}

/// A billed bucket's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    pub day: NaiveDate,
    pub account: Option<String>,
    /// `product_region_code`.
    pub region: Option<String>,
    pub model: String,
    pub kind: TokenKind,
    pub principal: Option<String>,
}

/// A bucket's sums: cost, and the billed tokens when the unit is known.
#[derive(Debug, Clone, Default)]
pub struct BucketSums {
    pub cost: f64,
    /// `line_item_usage_amount` × tokens per unit; `None` once a line's unit is unknown.
    pub tokens: Option<f64>,
    pub started: bool,
}

impl BucketSums {
    pub fn add(&mut self, cost: f64, tokens: Option<f64>) {
        self.cost += cost;
        self.tokens = match (self.started, self.tokens, tokens) {
            (false, _, t) => t,
            (true, Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.started = true;
    }

    pub fn merge(&mut self, other: &BucketSums) {
        if other.started {
            self.add(other.cost, other.tokens);
        }
    }
}

/// A group of log records: where and who.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LogKey {
    day: NaiveDate,
    account: Option<String>,
    region: Option<String>,
    model_id: String,
    principal: String,
}

/// Tokens by kind, per value of the key (`None`: records without it).
type ValueTokens = BTreeMap<Option<String>, [u64; 4]>;

/// The allocation: one row per value, then the rows the logs cannot split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    /// `meta:KEY`.
    pub by: String,
    pub key: String,
    /// Where the log records were read.
    pub logs: String,
    /// Values by cost, highest first; then `(no KEY)`, `(not in the logs)`, `(not token
    /// usage)` and `(adjustments)` where they have cost.
    pub rows: Vec<AllocationRow>,
    /// The bill (net, as the report's total), to the cent: what the rows' `cost_usd` add to.
    pub total_cost_usd: f64,
    /// Records of the window read, and those without the key.
    pub records: u64,
    pub records_without_key: u64,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationRow {
    /// The value; `null` for the rows that are no value (see `label`).
    pub value: Option<String>,
    pub label: String,
    /// `value`, `no_key`, `not_in_logs`, `not_tokens` or `adjustments`.
    pub kind: &'static str,
    /// To the cent, largest remainder: the rows add up to `total_cost_usd`.
    pub cost_usd: f64,
    /// Before rounding to the cent (micro-dollars).
    pub exact_cost_usd: f64,
    /// The value's tokens in the logs, over the buckets it shared in.
    pub tokens: u64,
}

/// What the allocation starts from: the bill's buckets and what else it had.
#[derive(Debug, Clone, Default)]
pub struct Billed {
    pub buckets: HashMap<BucketKey, BucketSums>,
    /// Usage that is not tokens of a known model.
    pub not_tokens: f64,
    pub adjustments: f64,
}

impl Billed {
    pub fn merge(&mut self, other: Billed) {
        for (k, s) in other.buckets {
            self.buckets.entry(k).or_default().merge(&s);
        }
        self.not_tokens += other.not_tokens;
        self.adjustments += other.adjustments;
    }
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The billed model (of `models`) a record's model ID belongs to: the longest name contained.
fn billed_model<'a>(model_id: &str, models: &'a [(String, String)]) -> Option<&'a str> {
    let id = squash(model_id);
    models
        .iter()
        .filter(|(_, squashed)| !squashed.is_empty() && id.contains(squashed.as_str()))
        .max_by_key(|(_, squashed)| squashed.len())
        .map(|(name, _)| name.as_str())
}

/// The window's log records folded as they are read: tokens by kind per place and value of
/// the key. The records themselves are not kept, so memory grows with the (day, account,
/// region, model, principal, value) groups, not with the records (a month is millions).
#[derive(Debug, Clone)]
pub struct LogTokens {
    key: String,
    /// The account whose logs are read: a record without `accountId` is its.
    owner: String,
    grouped: HashMap<LogKey, ValueTokens>,
    records: u64,
    without: u64,
}

impl LogTokens {
    pub fn new(key: &str, owner: &str) -> LogTokens {
        LogTokens {
            key: key.to_string(),
            owner: owner.to_string(),
            grouped: HashMap::new(),
            records: 0,
            without: 0,
        }
    }

    /// Counts one record of the report's days.
    pub fn add(&mut self, mut r: Record) {
        self.records += 1;
        let value = r.metadata.remove(&self.key);
        if value.is_none() {
            self.without += 1;
        }
        let k = LogKey {
            day: r.timestamp.date_naive(),
            account: Some(r.account.unwrap_or_else(|| self.owner.clone())),
            region: r.region,
            model_id: r.model_id,
            principal: r.principal,
        };
        let t = self.grouped.entry(k).or_default().entry(value).or_default();
        t[0] += r.tokens.input;
        t[1] += r.tokens.output;
        t[2] += r.tokens.cache_read;
        t[3] += r.tokens.cache_write;
    }
}

/// Splits `billed` among the values of the key in the folded log records of the report's days.
pub fn allocate(logs: &str, billed: &Billed, records: &LogTokens) -> Allocation {
    let key = records.key.as_str();
    let grouped = &records.grouped;
    let mut models: Vec<(String, String)> = billed
        .buckets
        .keys()
        .map(|b| (b.model.clone(), squash(&b.model)))
        .collect();
    models.sort();
    models.dedup();
    // The log groups by (day, billed model), for the buckets to look through.
    let mut by_model: HashMap<(NaiveDate, String), Vec<(&LogKey, &ValueTokens)>> = HashMap::new();
    let mut unmatched_models: BTreeMap<String, u64> = BTreeMap::new();
    for (k, values) in grouped {
        match billed_model(&k.model_id, &models) {
            Some(m) => by_model
                .entry((k.day, m.to_string()))
                .or_default()
                .push((k, values)),
            None => *unmatched_models.entry(k.model_id.clone()).or_default() += 1,
        }
    }

    let mut shares: BTreeMap<Option<String>, (f64, u64)> = BTreeMap::new();
    let mut not_in_logs = 0.0;
    let mut unknown_units = 0u64;
    let mut buckets: Vec<(&BucketKey, &BucketSums)> = billed.buckets.iter().collect();
    // A fixed order, so the sums are the same bits on every run.
    buckets.sort_by(|a, b| a.0.cmp(b.0));
    for (b, sums) in buckets {
        let Some(kind) = kind_index(b.kind) else {
            not_in_logs += sums.cost;
            continue;
        };
        let mut tokens: ValueTokens = BTreeMap::new();
        for (k, values) in by_model
            .get(&(b.day, b.model.clone()))
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let same = |bill: &Option<String>, log: Option<&str>| {
                bill.as_deref().is_none_or(|bill| log == Some(bill))
            };
            if !same(&b.account, k.account.as_deref())
                || !same(&b.region, k.region.as_deref())
                || !same(&b.principal, Some(k.principal.as_str()))
            {
                continue;
            }
            for (value, t) in values.iter() {
                tokens.entry(value.clone()).or_default()[kind] += t[kind];
            }
        }
        let logged: u64 = tokens.values().map(|t| t[kind]).sum();
        if logged == 0 {
            not_in_logs += sums.cost;
            continue;
        }
        let covered = match sums.tokens {
            Some(billed_tokens) if billed_tokens > logged as f64 => logged as f64 / billed_tokens,
            Some(_) => 1.0,
            None => {
                unknown_units += 1;
                1.0
            }
        };
        not_in_logs += sums.cost * (1.0 - covered);
        for (value, t) in tokens {
            let n = t[kind];
            if n == 0 {
                continue;
            }
            let share = shares.entry(value).or_default();
            share.0 += sums.cost * covered * n as f64 / logged as f64;
            share.1 += n;
        }
    }

    let mut rows: Vec<AllocationRow> = Vec::new();
    let mut values: Vec<AllocationRow> = shares
        .into_iter()
        .map(|(value, (cost, tokens))| AllocationRow {
            label: value.clone().unwrap_or_else(|| format!("(no {key})")),
            kind: if value.is_some() { "value" } else { "no_key" },
            value,
            cost_usd: cost,
            exact_cost_usd: cost,
            tokens,
        })
        .collect();
    values.sort_by(|a, b| {
        (a.kind == "no_key")
            .cmp(&(b.kind == "no_key"))
            .then(b.exact_cost_usd.total_cmp(&a.exact_cost_usd))
            .then_with(|| a.label.cmp(&b.label))
    });
    rows.extend(values);
    for (label, kind, cost) in [
        ("(not in the logs)", "not_in_logs", not_in_logs),
        ("(not token usage)", "not_tokens", billed.not_tokens),
        ("(adjustments)", "adjustments", billed.adjustments),
    ] {
        if cost != 0.0 {
            rows.push(AllocationRow {
                value: None,
                label: label.to_string(),
                kind,
                cost_usd: cost,
                exact_cost_usd: cost,
                tokens: 0,
            });
        }
    }
    let total: f64 = billed.buckets.values().map(|s| s.cost).sum::<f64>()
        + billed.not_tokens
        + billed.adjustments;
    let cents = largest_remainder(
        &rows.iter().map(|r| r.exact_cost_usd).collect::<Vec<_>>(),
        total,
    );
    for (row, c) in rows.iter_mut().zip(cents) {
        row.cost_usd = c as f64 / 100.0;
        row.exact_cost_usd = round_cost(row.exact_cost_usd);
    }
    let mut notes = Vec::new();
    if !unmatched_models.is_empty() {
        notes.push(format!(
            "log records of {} model ID(s) match no billed model ({}): their tokens share in \
             nothing, and the cost they stand for is under (not in the logs)",
            unmatched_models.len(),
            unmatched_models
                .keys()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if unknown_units > 0 {
        notes.push(format!(
            "{unknown_units} billed bucket(s) have a unit the price book does not convert to \
             tokens: they are split whole among the logs' values, without checking that the \
             logs cover all of their tokens"
        ));
    }
    if records.records == 0 {
        notes.push(format!(
            "no invocation-log records in {logs} for these days: all of the bill is under \
             (not in the logs)"
        ));
    }
    Allocation {
        by: format!("meta:{key}"),
        key: key.to_string(),
        logs: logs.to_string(),
        rows,
        total_cost_usd: (total * 100.0).round() / 100.0,
        records: records.records,
        records_without_key: records.without,
        notes,
    }
}

/// Whole cents for `amounts` that add up to `total` rounded to the cent: each amount's cents
/// rounded down, then the cents left over given one each to the amounts with the largest
/// remainders (ties to the earlier row).
pub fn largest_remainder(amounts: &[f64], total: f64) -> Vec<i64> {
    let target = (total * 100.0).round() as i64;
    let exact: Vec<f64> = amounts.iter().map(|a| a * 100.0).collect();
    let mut cents: Vec<i64> = exact.iter().map(|c| c.floor() as i64).collect();
    let mut left = target - cents.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..amounts.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    // `left` is between 0 and the number of rows when the amounts add up to the total; the
    // loops also bring it back from float noise either way.
    let mut i = 0;
    while left > 0 && !order.is_empty() {
        cents[order[i % order.len()]] += 1;
        left -= 1;
        i += 1;
    }
    let mut i = 0;
    while left < 0 && !order.is_empty() {
        let at = order[order.len() - 1 - i % order.len()];
        cents[at] -= 1;
        left += 1;
        i += 1;
    }
    cents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::prices::Tokens;
    use chrono::{TimeZone, Utc};

    const GATEWAY: &str = "arn:aws:sts::123456789012:assumed-role/Gateway/gw";

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 3).unwrap()
    }

    fn record(user: Option<&str>, input: u64, output: u64) -> Record {
        Record {
            timestamp: Utc.with_ymd_and_hms(2026, 5, 3, 9, 0, 0).unwrap(),
            principal: GATEWAY.into(),
            model_id: "us.amazon.nova-lite-v1:0".into(),
            tokens: Tokens {
                input,
                output,
                ..Tokens::default()
            },
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            metadata: user
                .map(|u| [("user".to_string(), u.to_string())].into())
                .unwrap_or_default(),
        }
    }

    fn bucket(kind: TokenKind, cost: f64, tokens: Option<f64>) -> (BucketKey, BucketSums) {
        let mut sums = BucketSums::default();
        sums.add(cost, tokens);
        (
            BucketKey {
                day: day(),
                account: Some("123456789012".into()),
                region: Some("us-east-1".into()),
                model: "NovaLite".into(),
                kind,
                principal: Some(GATEWAY.into()),
            },
            sums,
        )
    }

    /// Input $1.00 for 3,000 billed tokens: ana 1,000, bo 1,000, no key 1,000 → a third each
    /// (33.33…: the leftover cent to the first by remainder order). Output $2.00 for 1,000
    /// billed tokens, of which the logs count 500 (ana 300, bo 200): $0.60, $0.40, and $1.00
    /// not in the logs. Provisioned throughput $5 and a credit of −$0.50 stay rows.
    #[test]
    fn buckets_split_by_tokens_and_add_up_to_the_bill() {
        let billed = Billed {
            buckets: [
                bucket(TokenKind::Input, 1.0, Some(3000.0)),
                bucket(TokenKind::Output, 2.0, Some(1000.0)),
            ]
            .into(),
            not_tokens: 5.0,
            adjustments: -0.5,
        };
        let mut records = LogTokens::new("user", "123456789012");
        for r in [
            record(Some("ana"), 1000, 300),
            record(Some("bo"), 1000, 200),
            record(None, 1000, 0),
        ] {
            records.add(r);
        }
        let a = allocate("s3://logs/", &billed, &records);
        let row = |label: &str| {
            a.rows
                .iter()
                .find(|r| r.label == label)
                .unwrap_or_else(|| panic!("{label}: {:?}", a.rows))
        };
        assert_eq!(row("ana").exact_cost_usd, 0.933333);
        assert_eq!(row("bo").exact_cost_usd, 0.733333);
        assert_eq!(row("(no user)").exact_cost_usd, 0.333333);
        assert_eq!(row("(not in the logs)").cost_usd, 1.0);
        assert_eq!(row("(not token usage)").cost_usd, 5.0);
        assert_eq!(row("(adjustments)").cost_usd, -0.5);
        assert_eq!(a.total_cost_usd, 7.5);
        let cents: i64 = a
            .rows
            .iter()
            .map(|r| (r.cost_usd * 100.0).round() as i64)
            .sum();
        assert_eq!(cents, 750);
        assert_eq!(row("ana").tokens, 1300);
        assert_eq!(a.records_without_key, 1);
    }

    #[test]
    fn a_bucket_no_record_matches_is_not_in_the_logs() {
        let (mut k, s) = bucket(TokenKind::Input, 1.25, None);
        k.principal = Some("arn:aws:iam::123456789012:user/other".into());
        let billed = Billed {
            buckets: [(k, s)].into(),
            ..Billed::default()
        };
        let mut records = LogTokens::new("user", "1");
        records.add(record(Some("ana"), 10, 0));
        let a = allocate("s3://l/", &billed, &records);
        assert_eq!(a.rows.len(), 1);
        assert_eq!(a.rows[0].label, "(not in the logs)");
        assert_eq!(a.rows[0].cost_usd, 1.25);
    }

    #[test]
    fn largest_remainder_cents_add_up() {
        assert_eq!(largest_remainder(&[1.0 / 3.0; 3], 1.0), vec![34, 33, 33]);
        assert_eq!(largest_remainder(&[0.005, 0.005], 0.01), vec![1, 0]);
        assert_eq!(largest_remainder(&[2.0, -0.5], 1.5), vec![200, -50]);
        let amounts = [0.123456, 4.567891, 0.000001, 10.1];
        let total: f64 = amounts.iter().sum();
        let cents = largest_remainder(&amounts, total);
        assert_eq!(cents.iter().sum::<i64>(), (total * 100.0).round() as i64);
    }
}
