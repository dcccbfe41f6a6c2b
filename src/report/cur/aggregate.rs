//! The aggregation both engines share: CUR lines in, billed Bedrock spend grouped as asked out.
//!
//! A line is kept when the project's one definition of Bedrock spend counts its product
//! ([`Definition::counts_product`] on `line_item_product_code` and the product's name), and
//! its model is the one `--source billing` gives the same usage type ([`classify`]). Usage
//! lines are grouped as asked, those without a principal, tag or profile in an explicit
//! unattributed row; the lines that adjust the bill (credits, refunds, discounts:
//! [`line_item`]) carry none of those and are one labelled adjustments row; tax is left out.
//! The rows always add up to the bill: gross usage plus adjustments, the net total Cost
//! Explorer shows as unblended cost. Shares are of gross usage.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use crate::cost::line_item::{self, Kind as LineKind};
use crate::cost::prices;
use crate::cost::usage::{TokenKind, classify};

use super::super::billing::UnmappedUsage;
use super::super::profiles::{ProfileRef, looks_like_profile};
use super::super::round_cost;
use super::allocate::{Billed, BucketKey};
use super::focus::{FocusKey, FocusRows};
use super::layout::ExportLocation;
use super::tags::{TagKey, TagLookup};
use super::{CurDay, CurReport, CurRow, CurTotals, Dimension, Request};

/// One CUR line (or, from Athena, the sum of lines that agree on every column here).
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// `line_item_usage_start_date`'s UTC day.
    pub day: NaiveDate,
    pub product_code: &'a str,
    /// The product's name (`product['product_name']`): for a Marketplace model, the model.
    pub service_name: &'a str,
    pub usage_type: &'a str,
    pub principal: Option<&'a str>,
    /// The value of the `--by tag:KEY` keys, in the order of the request's tag dimensions.
    pub tags: &'a [Option<&'a str>],
    pub resource_id: Option<&'a str>,
    pub account: Option<&'a str>,
    /// `product_region_code` (read for `--allocate` and FOCUS only).
    pub region: Option<&'a str>,
    /// The columns only FOCUS rows show (`None` otherwise).
    pub focus: Option<&'a FocusLine<'a>>,
    /// `line_item_line_item_type`: usage, tax or an adjustment ([`line_item::kind`]).
    pub line_item_type: Option<&'a str>,
    pub cost: f64,
    pub usage: f64,
    /// How many CUR line items this stands for.
    pub count: u64,
}

/// The columns of a line that only its FOCUS row shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct FocusLine<'a> {
    pub payer: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub invoice: Option<&'a str>,
    pub legal_entity: Option<&'a str>,
    pub pricing_unit: Option<&'a str>,
    /// `product_sku` and `pricing_rate_id`.
    pub sku: Option<&'a str>,
    pub rate_id: Option<&'a str>,
    /// `pricing_public_on_demand_cost`.
    pub list_cost: Option<f64>,
    /// The line's `tags` as a JSON object ([`super::focus::tags_json`]).
    pub tags: &'a str,
}

#[derive(Debug, Clone, Default)]
struct Sums {
    cost: f64,
    usage: f64,
    count: u64,
}

impl Sums {
    fn add(&mut self, cost: f64, usage: f64, count: u64) {
        self.cost += cost;
        self.usage += usage;
        self.count += count;
    }
}

/// What a (product code, product name, usage type) is: counted or not, and its model.
#[derive(Debug, Clone)]
struct Kind {
    counted: bool,
    model: Option<String>,
    token: TokenKind,
    /// Tokens per `line_item_usage_amount` unit, when the price book says.
    tokens_per_unit: Option<f64>,
}

/// Sums lines into the requested groups.
pub struct Aggregator {
    by: Vec<Dimension>,
    definition: crate::cost::spend::Definition,
    start: NaiveDate,
    end: NaiveDate,
    /// By product code, product name and usage type: looked up by `&str` at every line, so
    /// a line allocates nothing to find out what it is.
    kinds: HashMap<String, HashMap<String, HashMap<String, Kind>>>,
    groups: HashMap<Vec<Option<String>>, Sums>,
    days: BTreeMap<NaiveDate, f64>,
    unmapped: BTreeMap<(String, String), f64>,
    services: BTreeSet<String>,
    /// By line item type, the lines that adjust the bill.
    adjustments: BTreeMap<String, Sums>,
    /// The usage lines: gross usage, what shares are of.
    usage: Sums,
    /// Every line counted: usage and adjustments, the net total.
    total: Sums,
    /// Lines of the window's days that are not Bedrock spend.
    pub other_lines: u64,
    /// The request's tag keys, and what the lines showed of them.
    pub tags: TagLookup,
    /// What the engine wants the reader to know (missing columns…).
    pub notes: Vec<String>,
    /// With `--allocate`: the bill by bucket, for [`super::allocate`].
    pub billed: Option<Billed>,
    /// With `--output focus`: the FOCUS rows ([`super::focus`]).
    pub focus: Option<FocusRows>,
}

impl Aggregator {
    pub fn new(request: &Request) -> Aggregator {
        let (start, end) = request.days();
        Aggregator {
            by: request.by.clone(),
            definition: request.definition,
            start,
            end,
            kinds: HashMap::new(),
            groups: HashMap::new(),
            days: BTreeMap::new(),
            unmapped: BTreeMap::new(),
            services: BTreeSet::new(),
            adjustments: BTreeMap::new(),
            usage: Sums::default(),
            total: Sums::default(),
            other_lines: 0,
            tags: TagLookup::new(
                request
                    .by
                    .iter()
                    .filter_map(|d| match d {
                        Dimension::Tag(key) => Some(TagKey::new(key)),
                        _ => None,
                    })
                    .collect(),
            ),
            notes: Vec::new(),
            billed: request.allocate.as_ref().map(|_| Billed::default()),
            focus: request.focus.then(FocusRows::default),
        }
    }

    /// Adds what another aggregator (of the same request) summed: one per object read.
    pub fn merge(&mut self, other: Aggregator) {
        for (key, sums) in other.groups {
            self.groups
                .entry(key)
                .or_default()
                .add(sums.cost, sums.usage, sums.count);
        }
        for (day, cost) in other.days {
            *self.days.entry(day).or_default() += cost;
        }
        for (key, cost) in other.unmapped {
            *self.unmapped.entry(key).or_default() += cost;
        }
        self.services.extend(other.services);
        for (kind, sums) in other.adjustments {
            self.adjustments
                .entry(kind)
                .or_default()
                .add(sums.cost, sums.usage, sums.count);
        }
        self.usage
            .add(other.usage.cost, other.usage.usage, other.usage.count);
        self.total
            .add(other.total.cost, other.total.usage, other.total.count);
        self.other_lines += other.other_lines;
        self.tags.merge(other.tags);
        if let (Some(mine), Some(theirs)) = (self.billed.as_mut(), other.billed) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (self.focus.as_mut(), other.focus) {
            mine.merge(theirs);
        }
        for note in other.notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }

    /// The report's days, `[start, end)`.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.start, self.end)
    }

    fn kind(&mut self, product_code: &str, service_name: &str, usage_type: &str) -> Kind {
        if let Some(kind) = self
            .kinds
            .get(product_code)
            .and_then(|m| m.get(service_name))
            .and_then(|m| m.get(usage_type))
        {
            return kind.clone();
        }
        let counted = self.definition.counts_product(product_code, service_name);
        let billed = if counted {
            classify(service_name, usage_type)
        } else {
            None
        };
        let kind = Kind {
            counted,
            token: billed.as_ref().map_or(TokenKind::Other, |b| b.kind),
            model: billed.map(|b| b.model),
            tokens_per_unit: self
                .billed
                .as_ref()
                .and_then(|_| prices::active().tokens_per_unit(service_name, usage_type)),
        };
        self.kinds
            .entry(product_code.to_string())
            .or_default()
            .entry(service_name.to_string())
            .or_default()
            .insert(usage_type.to_string(), kind.clone());
        kind
    }

    /// Whether a product is Bedrock spend (for engines that filter before they aggregate).
    pub fn counts(&mut self, product_code: &str, service_name: &str) -> bool {
        self.definition.counts_product(product_code, service_name)
    }

    /// Adds one line; lines outside the report's days, tax and lines that are not Bedrock
    /// spend are left out.
    pub fn add(&mut self, line: &Line<'_>) {
        if line.day < self.start || line.day >= self.end {
            return;
        }
        let line_kind = line_item::kind(line.line_item_type);
        if line_kind == LineKind::Tax {
            return;
        }
        let kind = self.kind(line.product_code, line.service_name, line.usage_type);
        if !kind.counted {
            self.other_lines += line.count;
            return;
        }
        if !self.services.contains(line.service_name) {
            self.services.insert(line.service_name.to_string());
        }
        *self.days.entry(line.day).or_default() += line.cost;
        self.total.add(line.cost, line.usage, line.count);
        if let Some(focus) = self.focus.as_mut() {
            focus.add(
                focus_key(line),
                line.cost,
                line.usage,
                line.focus.and_then(|f| f.list_cost),
            );
        }
        if line_kind == LineKind::Adjustment {
            if let Some(billed) = self.billed.as_mut() {
                billed.adjustments += line.cost;
            }
            let name = line.line_item_type.unwrap_or_default().trim();
            match self.adjustments.get_mut(name) {
                Some(sums) => sums.add(line.cost, line.usage, line.count),
                None => {
                    let mut sums = Sums::default();
                    sums.add(line.cost, line.usage, line.count);
                    self.adjustments.insert(name.to_string(), sums);
                }
            }
            return;
        }
        self.usage.add(line.cost, line.usage, line.count);
        if let Some(billed) = self.billed.as_mut() {
            match &kind.model {
                Some(model) if kind.token != TokenKind::Other => {
                    let clean = |v: Option<&str>| {
                        v.map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                    };
                    billed
                        .buckets
                        .entry(BucketKey {
                            day: line.day,
                            account: clean(line.account),
                            region: clean(line.region),
                            model: model.clone(),
                            kind: kind.token,
                            principal: clean(line.principal),
                        })
                        .or_default()
                        .add(line.cost, kind.tokens_per_unit.map(|t| t * line.usage));
                }
                _ => billed.not_tokens += line.cost,
            }
        }
        if kind.model.is_none() {
            *self
                .unmapped
                .entry((line.service_name.to_string(), line.usage_type.to_string()))
                .or_default() += line.cost;
        }
        let mut tags = line.tags.iter();
        let key: Vec<Option<String>> = self
            .by
            .iter()
            .map(|d| {
                let value = match d {
                    Dimension::Principal => line.principal,
                    Dimension::Tag(_) => tags.next().copied().flatten(),
                    // Only an application inference profile is a profile: a model called
                    // directly (its ARN is the resource) is spend with no profile.
                    Dimension::Profile => line.resource_id.filter(|r| looks_like_profile(r)),
                    Dimension::Model => kind.model.as_deref(),
                    Dimension::Account => line.account,
                };
                value
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            })
            .collect();
        self.groups
            .entry(key)
            .or_default()
            .add(line.cost, line.usage, line.count);
    }

    /// The report: rows labelled and sorted by cost, totals, days, unmapped usage types.
    pub fn finish(
        self,
        request: &Request,
        location: &ExportLocation,
        profiles: Option<&BTreeMap<String, ProfileRef>>,
    ) -> CurReport {
        let mut notes = self.notes;
        // A tag key no line has: its rows are shown without a value and the keys seen are
        // listed, rather than all of the spend as unattributed.
        let mut tag_keys = Vec::new();
        let mut missing = Vec::new();
        let tag_dims = self.by.iter().filter(|d| matches!(d, Dimension::Tag(_)));
        for (i, d) in tag_dims.enumerate() {
            tag_keys.push(self.tags.report(i, d.name()));
            if self.usage.count > 0 {
                notes.extend(self.tags.notes(i, &d.name()));
                if !self.tags.found(i) {
                    missing.push(d.clone());
                }
            }
        }
        let mut rows: Vec<CurRow> = self
            .groups
            .into_iter()
            .map(|(key, sums)| row(&self.by, &key, &sums, profiles, &missing))
            .collect();
        rows.sort_by(|a, b| {
            b.cost_usd
                .total_cmp(&a.cost_usd)
                .then_with(|| a.labels.cmp(&b.labels))
        });
        for r in &mut rows {
            r.share_percent = share(r.cost_usd, self.usage.cost);
        }
        let adjustments_cost: f64 = self.adjustments.values().map(|s| s.cost).sum();
        if !self.adjustments.is_empty() {
            rows.push(adjustments_row(&self.by, &self.adjustments));
        }
        let unattributed: f64 = rows
            .iter()
            .filter(|r| r.unattributed)
            .map(|r| r.cost_usd)
            .sum();
        let mut unmapped: Vec<UnmappedUsage> = self
            .unmapped
            .into_iter()
            .map(|((service, usage_type), cost)| UnmappedUsage {
                service,
                usage_type,
                cost_usd: round_cost(cost),
            })
            .collect();
        unmapped.sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd));
        if !unmapped.is_empty() {
            notes.push(format!(
                "{} Bedrock usage type(s) name no model; they are listed with their cost under \
                 unmapped_usage_types and counted in the total",
                unmapped.len()
            ));
        }
        if rows.is_empty() {
            notes.push(
                "no Bedrock spend in the export for these days (the export was read: this is \
                 a zero from the bill, not a missing file)"
                    .into(),
            );
        }
        let days = request.daily.then(|| {
            let mut out = Vec::new();
            let mut day = self.start;
            while day < self.end {
                out.push(CurDay {
                    date: day,
                    cost_usd: round_cost(self.days.get(&day).copied().unwrap_or(0.0)),
                });
                match day.succ_opt() {
                    Some(next) => day = next,
                    None => break,
                }
            }
            out
        });
        CurReport {
            source: "cur",
            engine: request.engine,
            export: location.clone(),
            start: self.start,
            end: self.end,
            periods: super::layout::periods(self.start, self.end),
            by: request.by.iter().map(Dimension::name).collect(),
            totals: CurTotals {
                cost_usd: round_cost(self.total.cost),
                gross_usage_cost_usd: round_cost(self.usage.cost),
                adjustments_cost_usd: round_cost(adjustments_cost),
                usage_amount: round_cost(self.total.usage),
                line_items: self.total.count,
                unattributed_cost_usd: round_cost(unattributed),
            },
            rows,
            services: self.services.into_iter().collect(),
            unmapped_usage_types: unmapped,
            tag_keys,
            daily: days,
            scan: None,
            athena: None,
            allocation: None,
            focus: None,
            billed_cost_usd: None,
            notes,
        }
    }
}

/// The FOCUS row a line belongs to: every column the row shows.
fn focus_key(line: &Line<'_>) -> FocusKey {
    let f = line.focus.copied().unwrap_or_default();
    let own = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    FocusKey {
        day: line.day,
        payer: own(f.payer),
        account: own(line.account),
        region: own(line.region),
        service_name: line.service_name.to_string(),
        usage_type: line.usage_type.to_string(),
        line_item_type: own(line.line_item_type).unwrap_or_else(|| "Usage".into()),
        principal: own(line.principal),
        resource_id: own(line.resource_id),
        tags: if f.tags.is_empty() {
            "{}".into()
        } else {
            f.tags.to_string()
        },
        currency: own(f.currency),
        invoice: own(f.invoice),
        legal_entity: own(f.legal_entity),
        pricing_unit: own(f.pricing_unit),
        sku: own(f.sku),
        rate_id: own(f.rate_id),
    }
}

/// The name a principal ARN is shown by: the role and session of an assumed role, a user's or
/// role's name (without its path), else the ARN's resource part.
pub fn principal_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        return rest.to_string();
    }
    if let Some(rest) = resource.strip_prefix("federated-user/") {
        return rest.to_string();
    }
    for kind in ["user/", "role/"] {
        if let Some(rest) = resource.strip_prefix(kind) {
            return rest.rsplit('/').next().unwrap_or(rest).to_string();
        }
    }
    resource.to_string()
}

/// A usage row's share of gross usage, in percent (two decimals); none without usage.
fn share(cost: f64, gross: f64) -> Option<f64> {
    (gross != 0.0).then(|| (cost / gross * 10_000.0).round() / 100.0)
}

/// The lines that adjust the bill, one row: no key in any dimension, labelled, with each line
/// item type's sum.
fn adjustments_row(by: &[Dimension], adjustments: &BTreeMap<String, Sums>) -> CurRow {
    let mut keys = Map::new();
    for d in by {
        keys.insert(d.name(), Value::Null);
    }
    let mut labels = vec![String::new(); by.len()];
    if let Some(first) = labels.first_mut() {
        *first = "(adjustments)".to_string();
    }
    let mut sums = Sums::default();
    for s in adjustments.values() {
        sums.add(s.cost, s.usage, s.count);
    }
    CurRow {
        adjustments: true,
        line_item_types: Some(
            adjustments
                .iter()
                .map(|(k, s)| (k.clone(), round_cost(s.cost)))
                .collect(),
        ),
        ..new_row(keys, labels, &sums)
    }
}

/// A row of `sums`, usage and attributed until said otherwise.
fn new_row(keys: Map<String, Value>, labels: Vec<String>, sums: &Sums) -> CurRow {
    CurRow {
        keys,
        cost_usd: round_cost(sums.cost),
        share_percent: None,
        usage_amount: round_cost(sums.usage),
        line_items: sums.count,
        unattributed: false,
        adjustments: false,
        line_item_types: None,
        labels,
    }
}

fn row(
    by: &[Dimension],
    key: &[Option<String>],
    sums: &Sums,
    profiles: Option<&BTreeMap<String, ProfileRef>>,
    missing: &[Dimension],
) -> CurRow {
    let mut keys = Map::new();
    let mut labels = Vec::new();
    let mut unattributed = false;
    for (d, value) in by.iter().zip(key) {
        let name = d.name();
        match (d, value) {
            (Dimension::Model, None) => {
                keys.insert(name, Value::Null);
                labels.push("(unmapped)".to_string());
            }
            (Dimension::Tag(_), None) if missing.contains(d) => {
                keys.insert(name, Value::Null);
                labels.push("(no such tag key)".to_string());
            }
            (_, None) => {
                unattributed = true;
                keys.insert(name, Value::Null);
                labels.push("(unattributed)".to_string());
            }
            (Dimension::Principal, Some(arn)) => {
                let shown = principal_name(arn);
                keys.insert(name, json!(shown));
                keys.insert("principal_arn".into(), json!(arn));
                labels.push(shown);
            }
            (Dimension::Profile, Some(id)) => {
                match profiles.and_then(|p| p.get(id.as_str())) {
                    Some(p) => {
                        keys.insert(name, json!(p.name));
                        keys.insert("profile_arn".into(), json!(p.arn));
                        labels.push(p.name.clone());
                    }
                    // A profile that no longer exists (or could not be listed) keeps its ARN.
                    None => {
                        keys.insert(name, json!(id));
                        keys.insert("profile_arn".into(), json!(id));
                        labels.push(id.clone());
                    }
                }
            }
            (_, Some(v)) => {
                keys.insert(name, json!(v));
                labels.push(v.clone());
            }
        }
    }
    CurRow {
        unattributed,
        ..new_row(keys, labels, sums)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_shown_by_name() {
        assert_eq!(
            principal_name("arn:aws:sts::123456789012:assumed-role/ChatApp/session-1"),
            "ChatApp/session-1"
        );
        assert_eq!(
            principal_name("arn:aws:iam::123456789012:user/alice"),
            "alice"
        );
        assert_eq!(
            principal_name("arn:aws:iam::123456789012:user/team/bob"),
            "bob"
        );
        assert_eq!(principal_name("arn:aws:iam::123456789012:root"), "root");
        assert_eq!(principal_name("not-an-arn"), "not-an-arn");
    }
}
