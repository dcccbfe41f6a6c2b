//! `report --source cur --output focus`: the Bedrock lines of the bill as FOCUS 1.2 rows, so
//! that any FinOps tool that loads FOCUS loads the chargeback.
//!
//! Column names, types and allowed values follow the FinOps Foundation's FOCUS 1.2
//! specification (section 3, "Columns"; its appendix lists the ServiceCategory and
//! ServiceSubcategory values), the names also being those of the AWS Data Exports table
//! `FOCUS_1_2_AWS` (Data Exports user guide, "FOCUS 1.2 with AWS columns"). Provider extensions
//! are prefixed `x_` as the specification asks (section 2.x, "Custom columns"). One row is the
//! sum of the CUR lines that agree on every column the row shows: UTC day, accounts, region,
//! product, usage type, line item type, principal, resource, tags, currency, invoice and seller.
//!
//! What each column is filled from (README and docs/report.md say the same):
//! - `BilledCost`: `line_item_unblended_cost`; `EffectiveCost`: the same (on-demand Bedrock has
//!   no amortized commitment); `ListCost`: `pricing_public_on_demand_cost` where the export has
//!   it, else the billed cost for usage; `ContractedCost`: the list cost (no negotiated rate is
//!   read). Rows that are not usage have list and contracted cost 0 (no list price).
//! - `ChargeCategory`: `Usage` for usage lines, `Credit` for credits and discounts,
//!   `Adjustment` for refunds and the other adjustments, `Purchase` for fees; `ChargeClass` is
//!   empty (no correction of a past period is known from the line).
//! - `ConsumedQuantity`/`ConsumedUnit`: tokens (`Tokens`) where the price book gives the
//!   tokens per billed unit, else the usage amount in `pricing_unit`; `PricingQuantity`:
//!   `line_item_usage_amount`, `PricingUnit`: `pricing_unit` or the book's (`1K Tokens`).
//! - `ServiceName`: the product's name ("Amazon Bedrock", or the Marketplace model's "… (Amazon
//!   Bedrock Edition)"); `ServiceCategory` `AI and Machine Learning`, `ServiceSubcategory`
//!   `Generative AI`; `PublisherName` and `InvoiceIssuerName`: `line_item_legal_entity` for a
//!   Marketplace model (its seller), else Amazon Web Services.
//! - `SkuId`: `product_sku`; `SkuPriceId`: `pricing_rate_id`; `SkuMeter`: the usage type.
//! - `x_IamPrincipal`, `x_InferenceProfile` (an application inference profile's ARN),
//!   `x_Model`, `x_TokenKind`, `x_UsageType`, `x_LineItemType`.
//!
//! [`focus_row`] decides every cell's value and [`COLUMNS`] every column's type; two writers
//! turn the same typed rows into a file: [`csv`] (the default, and stdout) and [`parquet`]
//! (`--out` ending in `.parquet`). What each FOCUS data type is in the Parquet file:
//! - String: a UTF-8 string.
//! - Decimal: a 64-bit float (IEEE 754 binary64). FOCUS 1.2's Numeric Format defines Decimal
//!   by IEEE 754 and lists "Double" (64-bit) among the precisions a provider may publish; the
//!   AWS `FOCUS_1_2_AWS` table gives its cost and quantity columns as `double` (Data Exports
//!   user guide, "FOCUS 1.2 with AWS columns"). The sums are f64 already (CUR 2.0's cost and
//!   usage columns are doubles), so nothing is rounded; the CSV prints them to ten places.
//! - Date/Time: a timestamp in milliseconds, adjusted to UTC (FOCUS: UTC; AWS's table:
//!   `timestamp_milliseconds`).
//! - Key-Value (`Tags`, `SkuPriceDetails`): the JSON object's text, a UTF-8 string. FOCUS 1.2's
//!   Key-Value Format: such columns "MUST contain a serialized JSON string", so not a map.
//!
//! A null is an empty CSV cell and a Parquet null; every Parquet column is nullable (optional),
//! since the bill can leave even a mandatory column's source empty (a line without a payer).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};

use crate::cost::usage::{TokenKind, classify};
use crate::cost::{prices, spend};

use super::super::profiles::looks_like_profile;

mod csv;
mod parquet;

/// `BillingAccountType` and `SubAccountType`: FOCUS 1.2 ("Billing Account Type", "Sub Account
/// Type") says each MUST NOT be null where its account ID is not, and is "a consistent,
/// readable display value" the provider names. The AWS Data Exports page "FOCUS 1.2 with AWS
/// columns" lists both as non-null strings without giving their values, so the names are the
/// bill's own for the two accounts: the CUR's `bill_payer_account_id` is "the account ID of the
/// paying account" (the payer), `line_item_usage_account_id` the account that used the line
/// (a linked account, as Cost Explorer's `LINKED_ACCOUNT` dimension calls it). AWS's own FOCUS
/// export may word them differently.
const BILLING_ACCOUNT_TYPE: &str = "Payer Account";
const SUB_ACCOUNT_TYPE: &str = "Linked Account";

/// The seller and invoice issuer of AWS's own products.
const AWS: &str = "Amazon Web Services";

/// A FOCUS column's data type (FOCUS 1.2, section 3: each column's "Data type"), and how
/// each writer holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// "String".
    String,
    /// "Decimal" in Numeric Format (section 2): IEEE 754 binary floating point, of which the
    /// specification lists "Double" (64-bit) as a precision a provider may publish.
    Decimal,
    /// "Date/Time": a moment in UTC (Date/Time Format: ISO 8601 with `Z`).
    DateTime,
    /// "JSON" in Key-Value Format (section 2): a serialized JSON object.
    KeyValue,
}

/// A column: its FOCUS name and data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
}

impl Column {
    const fn new(name: &'static str, kind: Kind) -> Column {
        Column { name, kind }
    }
}

/// A cell's value; a row's `None` is null (an empty CSV cell, a Parquet null).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Decimal(f64),
    DateTime(DateTime<Utc>),
    /// The JSON object's text.
    KeyValue(String),
}

impl Value {
    pub fn kind(&self) -> Kind {
        match self {
            Value::String(_) => Kind::String,
            Value::Decimal(_) => Kind::Decimal,
            Value::DateTime(_) => Kind::DateTime,
            Value::KeyValue(_) => Kind::KeyValue,
        }
    }
}

/// One row's cells in [`COLUMNS`] order.
pub type Row = [Option<Value>; WIDTH];

/// How many columns a row has.
pub const WIDTH: usize = 63;

/// The FOCUS 1.2 columns written, in the specification's (alphabetical) order, then the
/// provider's `x_` columns, each with its FOCUS data type (section 3, each column's "Content
/// constraints": Data type). The one place a column's type is decided: the CSV and Parquet
/// writers ([`csv`], [`parquet`]) both read it.
pub const COLUMNS: [Column; WIDTH] = [
    Column::new("AvailabilityZone", Kind::String),
    Column::new("BilledCost", Kind::Decimal),
    Column::new("BillingAccountId", Kind::String),
    Column::new("BillingAccountName", Kind::String),
    Column::new("BillingAccountType", Kind::String),
    Column::new("BillingCurrency", Kind::String),
    Column::new("BillingPeriodEnd", Kind::DateTime),
    Column::new("BillingPeriodStart", Kind::DateTime),
    Column::new("CapacityReservationId", Kind::String),
    Column::new("CapacityReservationStatus", Kind::String),
    Column::new("ChargeCategory", Kind::String),
    Column::new("ChargeClass", Kind::String),
    Column::new("ChargeDescription", Kind::String),
    Column::new("ChargeFrequency", Kind::String),
    Column::new("ChargePeriodEnd", Kind::DateTime),
    Column::new("ChargePeriodStart", Kind::DateTime),
    Column::new("CommitmentDiscountCategory", Kind::String),
    Column::new("CommitmentDiscountId", Kind::String),
    Column::new("CommitmentDiscountName", Kind::String),
    Column::new("CommitmentDiscountQuantity", Kind::Decimal),
    Column::new("CommitmentDiscountStatus", Kind::String),
    Column::new("CommitmentDiscountType", Kind::String),
    Column::new("CommitmentDiscountUnit", Kind::String),
    Column::new("ConsumedQuantity", Kind::Decimal),
    Column::new("ConsumedUnit", Kind::String),
    Column::new("ContractedCost", Kind::Decimal),
    Column::new("ContractedUnitPrice", Kind::Decimal),
    Column::new("EffectiveCost", Kind::Decimal),
    Column::new("InvoiceId", Kind::String),
    Column::new("InvoiceIssuerName", Kind::String),
    Column::new("ListCost", Kind::Decimal),
    Column::new("ListUnitPrice", Kind::Decimal),
    Column::new("PricingCategory", Kind::String),
    Column::new("PricingCurrency", Kind::String),
    Column::new("PricingCurrencyContractedUnitPrice", Kind::Decimal),
    Column::new("PricingCurrencyEffectiveCost", Kind::Decimal),
    Column::new("PricingCurrencyListUnitPrice", Kind::Decimal),
    Column::new("PricingQuantity", Kind::Decimal),
    Column::new("PricingUnit", Kind::String),
    Column::new("ProviderName", Kind::String),
    Column::new("PublisherName", Kind::String),
    Column::new("RegionId", Kind::String),
    Column::new("RegionName", Kind::String),
    Column::new("ResourceId", Kind::String),
    Column::new("ResourceName", Kind::String),
    Column::new("ResourceType", Kind::String),
    Column::new("ServiceCategory", Kind::String),
    Column::new("ServiceName", Kind::String),
    Column::new("ServiceSubcategory", Kind::String),
    Column::new("SkuId", Kind::String),
    Column::new("SkuMeter", Kind::String),
    Column::new("SkuPriceDetails", Kind::KeyValue),
    Column::new("SkuPriceId", Kind::String),
    Column::new("SubAccountId", Kind::String),
    Column::new("SubAccountName", Kind::String),
    Column::new("SubAccountType", Kind::String),
    Column::new("Tags", Kind::KeyValue),
    Column::new("x_IamPrincipal", Kind::String),
    Column::new("x_InferenceProfile", Kind::String),
    Column::new("x_Model", Kind::String),
    Column::new("x_TokenKind", Kind::String),
    Column::new("x_UsageType", Kind::String),
    Column::new("x_LineItemType", Kind::String),
];

/// What a row is keyed by: every CUR column it shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FocusKey {
    pub day: NaiveDate,
    pub payer: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub service_name: String,
    pub usage_type: String,
    pub line_item_type: String,
    pub principal: Option<String>,
    pub resource_id: Option<String>,
    /// The line's `tags` as a JSON object with sorted keys (`{}` without tags).
    pub tags: String,
    pub currency: Option<String>,
    pub invoice: Option<String>,
    pub legal_entity: Option<String>,
    pub pricing_unit: Option<String>,
    /// `product_sku`, `pricing_rate_id`.
    pub sku: Option<String>,
    pub rate_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FocusSums {
    pub cost: f64,
    pub usage: f64,
    /// `pricing_public_on_demand_cost`, when every line had it.
    pub list: Option<f64>,
    pub lines: u64,
}

/// The rows being summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FocusRows {
    pub rows: HashMap<FocusKey, FocusSums>,
}

impl FocusRows {
    pub fn add(&mut self, key: FocusKey, cost: f64, usage: f64, list: Option<f64>) {
        let s = self.rows.entry(key).or_default();
        s.list = match (s.lines, s.list, list) {
            (0, _, l) => l,
            (_, Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        s.cost += cost;
        s.usage += usage;
        s.lines += 1;
    }

    pub fn merge(&mut self, other: FocusRows) {
        for (k, s) in other.rows {
            let mine = self.rows.entry(k).or_default();
            mine.list = match (mine.lines, mine.list, s.list) {
                (0, _, l) => l,
                (_, Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
            mine.cost += s.cost;
            mine.usage += s.usage;
            mine.lines += s.lines;
        }
    }

    /// The typed rows, by day then key (the order both writers keep). Lazy: a row is built
    /// when it is written, so a big month is never held twice.
    pub fn rows(&self) -> impl Iterator<Item = Row> + '_ {
        let mut keys: Vec<&FocusKey> = self.rows.keys().collect();
        keys.sort();
        keys.into_iter().map(|key| focus_row(key, &self.rows[key]))
    }
}

/// What FOCUS calls a line of this type (`line_item_line_item_type`, CUR user guide).
pub fn charge_category(line_item_type: &str) -> &'static str {
    match line_item_type.trim() {
        "" | "Usage" | "DiscountedUsage" | "SavingsPlanCoveredUsage" | "SavingsPlanNegation" => {
            "Usage"
        }
        "Tax" => "Tax",
        "Credit" => "Credit",
        t if t.ends_with("Discount") => "Credit",
        "Fee" | "RIFee" | "SavingsPlanUpfrontFee" | "SavingsPlanRecurringFee" => "Purchase",
        _ => "Adjustment",
    }
}

fn charge_frequency(line_item_type: &str, category: &str) -> &'static str {
    match (line_item_type, category) {
        ("RIFee" | "SavingsPlanRecurringFee", _) => "Recurring",
        (_, "Usage") => "Usage-Based",
        _ => "One-Time",
    }
}

/// A decimal as text in FOCUS's Numeric Format: plain digits, no exponent, ten places at most.
pub(crate) fn decimal(v: f64) -> String {
    let s = format!("{v:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A UTC day's midnight.
fn midnight(day: NaiveDate) -> Option<Value> {
    Some(Value::DateTime(day.and_time(NaiveTime::MIN).and_utc()))
}

fn text(s: impl Into<String>) -> Option<Value> {
    Some(Value::String(s.into()))
}

/// A decimal cell; `-0` (a sum that cancels out) is written as 0, as the CSV always did.
fn number(v: f64) -> Option<Value> {
    Some(Value::Decimal(if v == 0.0 { 0.0 } else { v }))
}

fn month_bounds(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = day.with_day(1).unwrap_or(day);
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    (first, next.unwrap_or(first))
}

fn token_kind_name(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Input => "input",
        TokenKind::Output => "output",
        TokenKind::CacheRead => "cache_read",
        TokenKind::CacheWrite => "cache_write",
        TokenKind::Other => "other",
    }
}

/// The book's unit as a FOCUS pricing unit ("1K Tokens", "1M Tokens").
fn tokens_unit(tokens_per_unit: f64) -> String {
    if tokens_per_unit == 1.0 {
        "Tokens".into()
    } else if tokens_per_unit == 1_000.0 {
        "1K Tokens".into()
    } else if tokens_per_unit == 1_000_000.0 {
        "1M Tokens".into()
    } else {
        format!("{} Tokens", decimal(tokens_per_unit))
    }
}

/// One row's typed cells in [`COLUMNS`] order: what every column holds, decided here only.
fn focus_row(k: &FocusKey, s: &FocusSums) -> Row {
    let category = charge_category(&k.line_item_type);
    let usage = category == "Usage";
    let billed = classify(&k.service_name, &k.usage_type);
    let marketplace = k
        .service_name
        .trim()
        .ends_with(spend::MARKETPLACE_SERVICE_SUFFIX);
    let tokens_per_unit = prices::active().tokens_per_unit(&k.service_name, &k.usage_type);
    let token_line = billed.as_ref().is_some_and(|b| b.kind != TokenKind::Other);
    let units = || k.pricing_unit.clone().unwrap_or_else(|| "Units".into());
    let (consumed, consumed_unit, pricing_unit) = match (usage, token_line, tokens_per_unit) {
        (false, _, _) => (None, None, None),
        (true, true, Some(t)) => (
            number(s.usage * t),
            text("Tokens"),
            text(k.pricing_unit.clone().unwrap_or_else(|| tokens_unit(t))),
        ),
        (true, _, _) => (number(s.usage), text(units()), text(units())),
    };
    let list = if usage { s.list.unwrap_or(s.cost) } else { 0.0 };
    let unit_price = || {
        if usage && s.usage > 0.0 {
            number(list / s.usage)
        } else {
            None
        }
    };
    let (period_start, period_end) = month_bounds(k.day);
    let seller = if marketplace {
        k.legal_entity.clone().filter(|e| !e.trim().is_empty())
    } else {
        None
    }
    .unwrap_or_else(|| AWS.to_string());
    let currency = k.currency.clone().unwrap_or_else(|| "USD".into());
    let profile = k.resource_id.clone().filter(|r| looks_like_profile(r));
    let resource_type = k.resource_id.as_deref().and_then(|r| {
        text(if looks_like_profile(r) {
            "Application Inference Profile"
        } else if r.contains(":foundation-model/") {
            "Foundation Model"
        } else {
            "Bedrock Resource"
        })
    });
    let model = billed.as_ref().map(|b| b.model.clone());
    let description = match (&model, billed.as_ref().map(|b| b.kind)) {
        (Some(m), Some(kind)) if kind != TokenKind::Other => {
            format!("{m} {} tokens", token_kind_name(kind).replace('_', " "))
        }
        _ => format!("{} {}", k.service_name.trim(), k.usage_type.trim()),
    };
    let tags = (k.tags != "{}").then(|| Value::KeyValue(k.tags.clone()));
    let account = k.account.clone();
    let billing_account = k.payer.clone().or_else(|| account.clone());
    let opt = |v: Option<String>| v.map(Value::String);
    [
        None,                         // AvailabilityZone
        number(s.cost),               // BilledCost
        opt(billing_account.clone()), // BillingAccountId
        None,                         // BillingAccountName
        billing_account
            .as_ref()
            .map(|_| Value::String(BILLING_ACCOUNT_TYPE.into())), // BillingAccountType
        text(currency.clone()),       // BillingCurrency
        midnight(period_end),         // BillingPeriodEnd
        midnight(period_start),       // BillingPeriodStart
        None,                         // CapacityReservationId
        None,                         // CapacityReservationStatus
        text(category),               // ChargeCategory
        None,                         // ChargeClass
        text(description),            // ChargeDescription
        text(charge_frequency(&k.line_item_type, category)), // ChargeFrequency
        midnight(k.day.succ_opt().unwrap_or(k.day)), // ChargePeriodEnd
        midnight(k.day),              // ChargePeriodStart
        None,                         // CommitmentDiscountCategory
        None,                         // CommitmentDiscountId
        None,                         // CommitmentDiscountName
        None,                         // CommitmentDiscountQuantity
        None,                         // CommitmentDiscountStatus
        None,                         // CommitmentDiscountType
        None,                         // CommitmentDiscountUnit
        consumed,                     // ConsumedQuantity
        consumed_unit,                // ConsumedUnit
        number(list),                 // ContractedCost
        unit_price(),                 // ContractedUnitPrice
        number(s.cost),               // EffectiveCost
        opt(k.invoice.clone().filter(|i| !i.is_empty())), // InvoiceId
        text(seller.clone()),         // InvoiceIssuerName
        number(list),                 // ListCost
        unit_price(),                 // ListUnitPrice
        usage.then(|| Value::String("Standard".into())), // PricingCategory
        text(currency),               // PricingCurrency
        unit_price(),                 // PricingCurrencyContractedUnitPrice
        number(s.cost),               // PricingCurrencyEffectiveCost
        unit_price(),                 // PricingCurrencyListUnitPrice
        if usage { number(s.usage) } else { None }, // PricingQuantity
        pricing_unit,                 // PricingUnit
        text(AWS),                    // ProviderName
        text(seller),                 // PublisherName
        opt(k.region.clone()),        // RegionId
        None,                         // RegionName
        opt(k.resource_id.clone()),   // ResourceId
        None,                         // ResourceName
        resource_type,                // ResourceType
        text("AI and Machine Learning"), // ServiceCategory
        text(k.service_name.trim()),  // ServiceName
        text("Generative AI"),        // ServiceSubcategory
        opt(k.sku.clone()),           // SkuId
        text(k.usage_type.clone()),   // SkuMeter
        None,                         // SkuPriceDetails
        opt(k.rate_id.clone()),       // SkuPriceId
        opt(account.clone()),         // SubAccountId
        None,                         // SubAccountName
        account
            .as_ref()
            .map(|_| Value::String(SUB_ACCOUNT_TYPE.into())), // SubAccountType
        tags,                         // Tags
        opt(k.principal.clone()),     // x_IamPrincipal
        opt(profile),                 // x_InferenceProfile
        opt(model),                   // x_Model
        billed.and_then(|b| text(token_kind_name(b.kind))), // x_TokenKind
        text(k.usage_type.clone()),   // x_UsageType
        text(k.line_item_type.clone()), // x_LineItemType
    ]
}

/// A `tags` map as FOCUS's `Tags`: a JSON object, keys sorted, empty values kept as "".
pub fn tags_json<'a>(entries: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> String {
    let map: BTreeMap<&str, &str> = entries.map(|(k, v)| (k, v.unwrap_or(""))).collect();
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_item_types_map_to_focus_charge_categories() {
        assert_eq!(charge_category("Usage"), "Usage");
        assert_eq!(charge_category("SavingsPlanCoveredUsage"), "Usage");
        assert_eq!(charge_category("Credit"), "Credit");
        assert_eq!(charge_category("EdpDiscount"), "Credit");
        assert_eq!(charge_category("Refund"), "Adjustment");
        assert_eq!(charge_category("RIFee"), "Purchase");
        assert_eq!(charge_category("SomethingNew"), "Adjustment");
        assert_eq!(charge_frequency("Credit", "Credit"), "One-Time");
        assert_eq!(charge_frequency("Usage", "Usage"), "Usage-Based");
    }

    #[test]
    fn numbers_dates_and_tags_are_written_as_focus_wants() {
        assert_eq!(decimal(0.1 + 0.2), "0.3");
        assert_eq!(decimal(-1.5), "-1.5");
        assert_eq!(decimal(12.0), "12");
        assert_eq!(decimal(-0.0), "0");
        let d = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let Some(Value::DateTime(t)) = midnight(d) else {
            panic!("a date/time");
        };
        assert_eq!(t.to_rfc3339(), "2026-12-31T00:00:00+00:00");
        assert!(matches!(number(-0.0), Some(Value::Decimal(v)) if v.is_sign_positive()));
        assert_eq!(
            month_bounds(d),
            (
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
            )
        );
        let t = tags_json([("b", Some("2")), ("a", None)].into_iter());
        assert_eq!(t, r#"{"a":"","b":"2"}"#);
        assert_eq!(COLUMNS.len(), 63);
    }

    /// Rows of each shape: token usage with tags, a credit, a Marketplace model through an
    /// application inference profile, usage the book has no token count for.
    pub(super) fn sample() -> FocusRows {
        let day = NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let key = |usage_type: &str, line_item_type: &str| FocusKey {
            day,
            payer: Some("111111111111".into()),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
            service_name: "Amazon Bedrock".into(),
            usage_type: usage_type.into(),
            line_item_type: line_item_type.into(),
            principal: Some("arn:aws:iam::123456789012:role/app".into()),
            resource_id: None,
            tags: "{}".into(),
            currency: Some("USD".into()),
            invoice: None,
            legal_entity: None,
            pricing_unit: None,
            sku: Some("SKU1".into()),
            rate_id: Some("123".into()),
        };
        let mut rows = FocusRows::default();
        let mut tagged = key("USE1-NovaLite-input-tokens", "Usage");
        tagged.tags = r#"{"user_team":"search"}"#.into();
        rows.add(tagged, 0.25, 4.0, Some(0.3));
        rows.add(
            key("USE1-NovaLite-input-tokens", "Credit"),
            -0.25,
            0.0,
            None,
        );
        let mut marketplace = key("USE1-MP:USE1_InputTokenCount-Units", "Usage");
        marketplace.service_name = "Claude 3 Haiku (Amazon Bedrock Edition)".into();
        marketplace.legal_entity = Some("Anthropic, PBC".into());
        marketplace.resource_id =
            Some("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc".into());
        rows.add(marketplace, 1.5, 3.0, None);
        rows.add(key("USE1-SomethingElse", "Usage"), 0.0, 2.0, None);
        rows
    }

    #[test]
    fn every_cell_has_its_columns_type_and_nulls_stay_null() {
        let rows: Vec<Row> = sample().rows().collect();
        assert_eq!(rows.len(), 4);
        for row in &rows {
            for (column, cell) in COLUMNS.iter().zip(row) {
                if let Some(value) = cell {
                    assert_eq!(value.kind(), column.kind, "{}: {value:?}", column.name);
                }
            }
        }
        let at = |row: &Row, name: &str| {
            let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
            row[i].clone()
        };
        let credit = rows
            .iter()
            .find(|r| at(r, "x_LineItemType") == text("Credit"))
            .unwrap();
        assert_eq!(at(credit, "BilledCost"), number(-0.25));
        assert_eq!(at(credit, "PricingQuantity"), None);
        assert_eq!(at(credit, "Tags"), None);
        let tagged = rows.iter().find(|r| at(r, "Tags").is_some()).unwrap();
        assert_eq!(
            at(tagged, "Tags"),
            Some(Value::KeyValue(r#"{"user_team":"search"}"#.into()))
        );
        assert_eq!(at(tagged, "ListCost"), number(0.3));
        assert_eq!(at(tagged, "AvailabilityZone"), None);
        assert_eq!(
            at(tagged, "ChargePeriodEnd"),
            midnight(NaiveDate::from_ymd_opt(2026, 11, 4).unwrap())
        );
    }
}
