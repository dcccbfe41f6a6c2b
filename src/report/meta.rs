//! Request metadata (`meta:KEY`): usage and estimated cost by the value callers put under one
//! key of `requestMetadata` (Bedrock user guide, "Per-request metadata tagging": the
//! `requestMetadata` field of Converse/ConverseStream or the `X-Amzn-Bedrock-Request-Metadata`
//! header of InvokeModel/InvokeModelWithResponseStream, recorded in the model invocation log).
//! Behind a gateway or a shared role the principal is the role; the metadata names the person.
//!
//! The records come from the invocation-log objects in the stack's bucket
//! ([`crate::log_objects`]), not from a Logs Insights query over the log group: a query's
//! `stats` answer stops at 10,000 rows and its discovered fields stop at 200 per event (see
//! `report::principals`), while the objects hold every record whole, and the allocation of the
//! bill (`--allocate meta:KEY`, `report::cur::allocate`) needs each record's day, account,
//! region, principal and tokens by kind, which the same reader gives.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use comfy_table::{CellAlignment, Table};
use serde::Serialize;

use crate::aws::{AwsError, Clients};
use crate::config::{Config, PriceConfig};
use crate::cost::prices::{self, Tokens};
use crate::log_objects::{self, DaysRead, Record};

use super::render::{count, usd};
use super::window::Window;
use super::{cost_order, round_cost};

/// The longest key `requestMetadata` takes (Bedrock Runtime API reference, Converse:
/// `RequestMetadataKeyString`, length 1-256, pattern `[a-zA-Z0-9\s:_@$#=/+,-.]{1,256}`).
pub const KEY_MAX_CHARS: usize = 256;

/// Whether `c` may appear in a request-metadata key (the pattern above: letters and digits,
/// white space, and `: _ @ $ # = / + , - .`; the class's `,-.` is the range from `,` to `.`).
fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_whitespace() || ":_@$#=/+,-.".contains(c)
}

/// The key of a `meta:KEY` argument, checked against the Converse API's key rule; `None`
/// when the argument is not `meta:…`.
pub fn parse_key(flag: &str, value: &str) -> Option<Result<String, String>> {
    let key = value.trim().strip_prefix("meta:")?;
    if key.is_empty() || key.chars().count() > KEY_MAX_CHARS || !key.chars().all(key_char) {
        return Some(Err(format!(
            "{flag} meta:{key}: a request-metadata key is 1-{KEY_MAX_CHARS} letters, digits, \
             spaces and : _ @ $ # = / + , - . (the Converse API's requestMetadata key rule), \
             for example meta:user"
        )));
    }
    Some(Ok(key.to_string()))
}

/// Usage by one request-metadata key's values: the value behind `--by meta:KEY`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaUsage {
    /// `meta:KEY`.
    pub by: String,
    pub key: String,
    /// Where the records were read: `s3://bucket/` and the invocation-log prefix.
    pub source: String,
    /// By estimated cost, highest first (unpriced last); the records without the key are the
    /// row whose `value` is `null`.
    pub rows: Vec<MetaRow>,
    pub totals: MetaTotals,
    /// Records in the window without the key in their `requestMetadata`.
    pub records_without_key: u64,
    /// Invocation-log objects read.
    pub objects_read: u64,
}

/// One value of the key on one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaRow {
    /// The key's value; `null` for records without the key.
    pub value: Option<String>,
    pub model_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Estimated from the price table; `null` when the model has no price.
    pub cost_usd: Option<f64>,
    pub price_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetaTotals {
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// The priced rows' estimate.
    pub cost_usd: f64,
}

/// Hands every record of the days `[start, end)` in the stack's log bucket to `each`; also
/// returns where they were read.
pub async fn fold_records(
    clients: &Clients,
    config: &Config,
    days: (NaiveDate, NaiveDate),
    each: impl FnMut(Record),
) -> Result<(DaysRead, String), AwsError> {
    let account = clients.account().await?;
    let bucket = config.bucket.resolved_name(&account.id, &clients.region);
    let read = log_objects::fold_between(
        clients,
        &bucket,
        &account.id,
        &config.bucket.key_prefix,
        days,
        each,
    )
    .await
    .map_err(|e| {
        if e.code_is(&["NoSuchBucket"]) {
            AwsError::setup(
                format!("the invocation-log bucket s3://{bucket} does not exist"),
                "request metadata is read from the S3 copy of the invocation logs: run \
                 `bedrock-monitor apply` (the logging component delivers to that bucket)",
            )
        } else {
            e
        }
    })?;
    let source = format!(
        "s3://{bucket}/{}",
        log_objects::bases(&config.bucket.key_prefix, &account.id)
            .first()
            .cloned()
            .unwrap_or_default()
    );
    Ok((read, source))
}

/// Reads the window's records and groups them by the key's value and model.
pub async fn fetch(
    clients: &Clients,
    config: &Config,
    window: &Window,
    key: &str,
) -> Result<MetaUsage, AwsError> {
    let start = window.start.date_naive();
    let end = window
        .end
        .date_naive()
        .succ_opt()
        .unwrap_or(window.end.date_naive());
    let mut groups = MetaGroups::new(key, &config.pricing, &clients.region);
    let (read, source) = fold_records(clients, config, (start, end), |r| {
        if r.timestamp >= window.start && r.timestamp < window.end {
            groups.add(&r);
        }
    })
    .await?;
    let mut usage = groups.finish();
    usage.source = source;
    usage.objects_read = read.objects;
    Ok(usage)
}

/// One (value, model)'s sums.
#[derive(Default)]
struct Sums {
    invocations: u64,
    tokens: Tokens,
    cost: Option<f64>,
    price_key: Option<String>,
    priced: bool,
}

/// Records grouped by (value, model) as they are read, each priced with the price table of its
/// own region.
pub struct MetaGroups<'a> {
    key: String,
    pricing: &'a BTreeMap<String, PriceConfig>,
    default_region: String,
    groups: BTreeMap<(Option<String>, String), Sums>,
    without: u64,
}

impl<'a> MetaGroups<'a> {
    pub fn new(
        key: &str,
        pricing: &'a BTreeMap<String, PriceConfig>,
        default_region: &str,
    ) -> MetaGroups<'a> {
        MetaGroups {
            key: key.to_string(),
            pricing,
            default_region: default_region.to_string(),
            groups: BTreeMap::new(),
            without: 0,
        }
    }

    pub fn add(&mut self, r: &Record) {
        let value = r.metadata.get(&self.key).cloned();
        if value.is_none() {
            self.without += 1;
        }
        let region = r.region.as_deref().unwrap_or(&self.default_region);
        let price = prices::lookup(&r.model_id, Some(region), self.pricing);
        let g = self.groups.entry((value, r.model_id.clone())).or_default();
        g.invocations += 1;
        g.tokens.input += r.tokens.input;
        g.tokens.output += r.tokens.output;
        g.tokens.cache_read += r.tokens.cache_read;
        g.tokens.cache_write += r.tokens.cache_write;
        match price {
            Some(p) => {
                g.priced = true;
                *g.cost.get_or_insert(0.0) += p.price.cost_of(&r.tokens).usd;
                g.price_key = Some(p.key);
            }
            None => g.cost = None,
        }
    }

    pub fn finish(self) -> MetaUsage {
        let key = self.key;
        let mut rows: Vec<MetaRow> = self
            .groups
            .into_iter()
            .map(|((value, model_id), s)| MetaRow {
                value,
                model_id,
                invocations: s.invocations,
                input_tokens: s.tokens.input,
                output_tokens: s.tokens.output,
                cache_read_tokens: s.tokens.cache_read,
                cache_write_tokens: s.tokens.cache_write,
                cost_usd: s.cost.filter(|_| s.priced).map(round_cost),
                price_key: s.price_key,
            })
            .collect();
        rows.sort_by(|a, b| {
            cost_order(a.cost_usd, b.cost_usd)
                .then(b.invocations.cmp(&a.invocations))
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.model_id.cmp(&b.model_id))
        });
        let mut totals = MetaTotals::default();
        for r in &rows {
            totals.invocations += r.invocations;
            totals.input_tokens += r.input_tokens;
            totals.output_tokens += r.output_tokens;
            totals.cache_read_tokens += r.cache_read_tokens;
            totals.cache_write_tokens += r.cache_write_tokens;
            totals.cost_usd += r.cost_usd.unwrap_or(0.0);
        }
        totals.cost_usd = round_cost(totals.cost_usd);
        MetaUsage {
            by: format!("meta:{key}"),
            key,
            source: String::new(),
            rows,
            totals,
            records_without_key: self.without,
            objects_read: 0,
        }
    }
}

impl MetaUsage {
    /// Every row as CSV: value (empty for records without the key), model, counts, cost.
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = crate::ui::csv::Writer::new();
        w.write_record([
            self.by.as_str(),
            "model_id",
            "invocations",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cost_usd",
        ])?;
        for r in &self.rows {
            w.write_record([
                r.value.clone().unwrap_or_default(),
                r.model_id.clone(),
                r.invocations.to_string(),
                r.input_tokens.to_string(),
                r.output_tokens.to_string(),
                r.cache_read_tokens.to_string(),
                r.cache_write_tokens.to_string(),
                r.cost_usd.map(|c| format!("{c:.6}")).unwrap_or_default(),
            ])?;
        }
        w.into_string()
    }

    /// The label of a row's value: the value, or that the records lacked the key.
    fn label(&self, value: Option<&str>) -> String {
        value.map_or_else(|| format!("(no {})", self.key), str::to_string)
    }
}

impl fmt::Display for MetaUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "By request metadata {} ({}):", self.by, self.source)?;
        let mut table = Table::new();
        table
            .load_style(crate::ui::TABLE_STYLE)
            .force_no_tty()
            .set_header(vec![
                self.by.as_str(),
                "Model",
                "Invocations",
                "Input tokens",
                "Output tokens",
                "Cost (USD)",
            ]);
        for (i, column) in table.column_iter_mut().enumerate() {
            if i >= 2 {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        for r in &self.rows {
            table.add_row(vec![
                self.label(r.value.as_deref()),
                r.model_id.clone(),
                count(r.invocations),
                count(r.input_tokens),
                count(r.output_tokens),
                r.cost_usd.map(usd).unwrap_or_else(|| "unpriced".into()),
            ]);
        }
        writeln!(f, "{}", table.trim_fmt())?;
        writeln!(
            f,
            "{} invocation(s), {} without {}; estimated {} USD.",
            count(self.totals.invocations),
            count(self.records_without_key),
            self.key,
            usd(self.totals.cost_usd)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(user: Option<&str>, model: &str, input: u64, output: u64) -> Record {
        Record {
            timestamp: Utc.with_ymd_and_hms(2026, 5, 3, 10, 0, 0).unwrap(),
            principal: "arn:aws:sts::1:assumed-role/Gateway/s".into(),
            model_id: model.into(),
            tokens: Tokens {
                input,
                output,
                ..Tokens::default()
            },
            account: None,
            region: Some("us-east-1".into()),
            metadata: user
                .map(|u| [("user".to_string(), u.to_string())].into())
                .unwrap_or_default(),
        }
    }

    #[test]
    fn keys_follow_the_converse_rule() {
        assert_eq!(parse_key("--by", "meta:user"), Some(Ok("user".into())));
        assert_eq!(
            parse_key("--by", "meta:cost center/team-1"),
            Some(Ok("cost center/team-1".into()))
        );
        assert!(parse_key("--by", "principal").is_none());
        assert!(matches!(parse_key("--by", "meta:"), Some(Err(_))));
        assert!(matches!(parse_key("--by", "meta:a;b"), Some(Err(_))));
        let long = format!("meta:{}", "k".repeat(257));
        assert!(matches!(parse_key("--by", &long), Some(Err(_))));
    }

    /// Nova Lite in us-east-1 at the built-in price ($0.06 in, $0.24 out per million): ana's
    /// 1M in and 500k out is $0.18; the record without the key is its own row.
    #[test]
    fn records_group_by_value_and_are_priced() {
        let nova = "amazon.nova-lite-v1:0";
        let recs = [
            record(Some("ana"), nova, 600_000, 200_000),
            record(Some("ana"), nova, 400_000, 300_000),
            record(Some("bo"), nova, 100_000, 0),
            record(None, nova, 10, 10),
        ];
        let pricing = BTreeMap::new();
        let mut groups = MetaGroups::new("user", &pricing, "us-east-1");
        for r in &recs {
            groups.add(r);
        }
        let usage = groups.finish();
        assert_eq!(usage.records_without_key, 1);
        let ana = usage
            .rows
            .iter()
            .find(|r| r.value.as_deref() == Some("ana"))
            .expect("ana");
        assert_eq!((ana.invocations, ana.input_tokens), (2, 1_000_000));
        assert_eq!(ana.cost_usd, Some(0.18));
        assert!(usage.rows.iter().any(|r| r.value.is_none()));
        assert_eq!(usage.totals.invocations, 4);
        let csv = usage.to_csv().unwrap();
        assert!(csv.starts_with("meta:user,model_id,"), "{csv}");
    }
}
