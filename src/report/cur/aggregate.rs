//! The aggregation both engines share: CUR lines in, billed Bedrock spend grouped as asked out.
//!
//! A line is kept when the project's one definition of Bedrock spend counts its product
//! ([`Definition::counts_product`] on `line_item_product_code` and the product's name), and
//! its model is the one `--source billing` gives the same usage type ([`classify`]). Lines
//! without a principal, tag or profile are kept too, in an explicit unattributed row: the
//! rows always add up to the bill.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use crate::cost::usage::classify;

use super::super::billing::UnmappedUsage;
use super::super::profiles::{ProfileRef, looks_like_profile};
use super::super::round_cost;
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
    pub cost: f64,
    pub usage: f64,
    /// How many CUR line items this stands for.
    pub count: u64,
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
    total: Sums,
    /// Lines of the window's days that are not Bedrock spend.
    pub other_lines: u64,
    /// The request's tag keys, and what the lines showed of them.
    pub tags: TagLookup,
    /// What the engine wants the reader to know (missing columns…).
    pub notes: Vec<String>,
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
        self.total
            .add(other.total.cost, other.total.usage, other.total.count);
        self.other_lines += other.other_lines;
        self.tags.merge(other.tags);
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
        let model = if counted {
            classify(service_name, usage_type).map(|b| b.model)
        } else {
            None
        };
        let kind = Kind { counted, model };
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

    /// Adds one line; lines outside the report's days or not Bedrock spend are left out.
    pub fn add(&mut self, line: &Line<'_>) {
        if line.day < self.start || line.day >= self.end {
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
        *self.days.entry(line.day).or_default() += line.cost;
        self.total.add(line.cost, line.usage, line.count);
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
            if self.total.count > 0 {
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
            billed_cost_usd: None,
            notes,
        }
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
        keys,
        cost_usd: round_cost(sums.cost),
        usage_amount: round_cost(sums.usage),
        line_items: sums.count,
        unattributed,
        labels,
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
