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

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};

use crate::cost::usage::{TokenKind, classify};
use crate::cost::{prices, spend};

use super::super::profiles::looks_like_profile;

/// The seller and invoice issuer of AWS's own products.
const AWS: &str = "Amazon Web Services";

/// The FOCUS 1.2 columns written, in the specification's (alphabetical) order, then the
/// provider's `x_` columns.
pub const COLUMNS: [&str; 63] = [
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingAccountType",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingCurrency",
    "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "SubAccountType",
    "Tags",
    "x_IamPrincipal",
    "x_InferenceProfile",
    "x_Model",
    "x_TokenKind",
    "x_UsageType",
    "x_LineItemType",
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

    /// The FOCUS rows as CSV (RFC 4180, a header then one row per group, by day then key).
    pub fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = crate::ui::csv::Writer::new();
        w.write_record(COLUMNS)?;
        let mut keys: Vec<&FocusKey> = self.rows.keys().collect();
        keys.sort();
        for key in keys {
            let row = focus_row(key, &self.rows[key]);
            w.write_record(row.iter().map(|c| c.as_deref().unwrap_or("")))?;
        }
        w.into_string()
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

/// A decimal as FOCUS writes it: plain digits, no exponent.
fn decimal(v: f64) -> String {
    let s = format!("{v:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// A UTC day's midnight as ISO 8601 with `Z` (FOCUS date/time format).
fn midnight(day: NaiveDate) -> String {
    format!("{day}T00:00:00Z")
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

/// One row's cells in [`COLUMNS`] order; `None` is an empty (null) cell.
fn focus_row(k: &FocusKey, s: &FocusSums) -> Vec<Option<String>> {
    let category = charge_category(&k.line_item_type);
    let usage = category == "Usage";
    let billed = classify(&k.service_name, &k.usage_type);
    let marketplace = k
        .service_name
        .trim()
        .ends_with(spend::MARKETPLACE_SERVICE_SUFFIX);
    let tokens_per_unit = prices::active().tokens_per_unit(&k.service_name, &k.usage_type);
    let token_line = billed.as_ref().is_some_and(|b| b.kind != TokenKind::Other);
    let (consumed, consumed_unit, pricing_unit) = match (usage, token_line, tokens_per_unit) {
        (false, _, _) => (None, None, None),
        (true, true, Some(t)) => (
            Some(decimal(s.usage * t)),
            Some("Tokens".to_string()),
            Some(k.pricing_unit.clone().unwrap_or_else(|| tokens_unit(t))),
        ),
        (true, _, _) => (
            Some(decimal(s.usage)),
            Some(k.pricing_unit.clone().unwrap_or_else(|| "Units".into())),
            Some(k.pricing_unit.clone().unwrap_or_else(|| "Units".into())),
        ),
    };
    let list = if usage { s.list.unwrap_or(s.cost) } else { 0.0 };
    let unit_price = |cost: f64| (usage && s.usage > 0.0).then(|| decimal(cost / s.usage));
    let (period_start, period_end) = month_bounds(k.day);
    let seller = if marketplace {
        k.legal_entity.clone().filter(|e| !e.trim().is_empty())
    } else {
        None
    }
    .unwrap_or_else(|| AWS.to_string());
    let currency = k.currency.clone().unwrap_or_else(|| "USD".into());
    let profile = k.resource_id.clone().filter(|r| looks_like_profile(r));
    let resource_type = k.resource_id.as_deref().map(|r| {
        if looks_like_profile(r) {
            "Application Inference Profile"
        } else if r.contains(":foundation-model/") {
            "Foundation Model"
        } else {
            "Bedrock Resource"
        }
        .to_string()
    });
    let model = billed.as_ref().map(|b| b.model.clone());
    let description = match (&model, billed.as_ref().map(|b| b.kind)) {
        (Some(m), Some(kind)) if kind != TokenKind::Other => {
            format!("{m} {} tokens", token_kind_name(kind).replace('_', " "))
        }
        _ => format!("{} {}", k.service_name.trim(), k.usage_type.trim()),
    };
    let tags = (k.tags != "{}").then(|| k.tags.clone());
    let account = k.account.clone();
    vec![
        None,                                                       // AvailabilityZone
        Some(decimal(s.cost)),                                      // BilledCost
        k.payer.clone().or_else(|| account.clone()),                // BillingAccountId
        None,                                                       // BillingAccountName
        None,                                                       // BillingAccountType
        Some(currency.clone()),                                     // BillingCurrency
        Some(midnight(period_end)),                                 // BillingPeriodEnd
        Some(midnight(period_start)),                               // BillingPeriodStart
        None,                                                       // CapacityReservationId
        None,                                                       // CapacityReservationStatus
        Some(category.to_string()),                                 // ChargeCategory
        None,                                                       // ChargeClass
        Some(description),                                          // ChargeDescription
        Some(charge_frequency(&k.line_item_type, category).into()), // ChargeFrequency
        Some(midnight(k.day.succ_opt().unwrap_or(k.day))),          // ChargePeriodEnd
        Some(midnight(k.day)),                                      // ChargePeriodStart
        None,                                                       // CommitmentDiscountCategory
        None,                                                       // CommitmentDiscountId
        None,                                                       // CommitmentDiscountName
        None,                                                       // CommitmentDiscountQuantity
        None,                                                       // CommitmentDiscountStatus
        None,                                                       // CommitmentDiscountType
        None,                                                       // CommitmentDiscountUnit
        consumed,                                                   // ConsumedQuantity
        consumed_unit,                                              // ConsumedUnit
        Some(decimal(list)),                                        // ContractedCost
        unit_price(list),                                           // ContractedUnitPrice
        Some(decimal(s.cost)),                                      // EffectiveCost
        k.invoice.clone().filter(|i| !i.is_empty()),                // InvoiceId
        Some(seller.clone()),                                       // InvoiceIssuerName
        Some(decimal(list)),                                        // ListCost
        unit_price(list),                                           // ListUnitPrice
        usage.then(|| "Standard".to_string()),                      // PricingCategory
        Some(currency),                                             // PricingCurrency
        unit_price(list),                       // PricingCurrencyContractedUnitPrice
        Some(decimal(s.cost)),                  // PricingCurrencyEffectiveCost
        unit_price(list),                       // PricingCurrencyListUnitPrice
        usage.then(|| decimal(s.usage)),        // PricingQuantity
        pricing_unit,                           // PricingUnit
        Some(AWS.to_string()),                  // ProviderName
        Some(seller),                           // PublisherName
        k.region.clone(),                       // RegionId
        None,                                   // RegionName
        k.resource_id.clone(),                  // ResourceId
        None,                                   // ResourceName
        resource_type,                          // ResourceType
        Some("AI and Machine Learning".into()), // ServiceCategory
        Some(k.service_name.trim().to_string()), // ServiceName
        Some("Generative AI".into()),           // ServiceSubcategory
        k.sku.clone(),                          // SkuId
        Some(k.usage_type.clone()),             // SkuMeter
        None,                                   // SkuPriceDetails
        k.rate_id.clone(),                      // SkuPriceId
        account,                                // SubAccountId
        None,                                   // SubAccountName
        None,                                   // SubAccountType
        tags,                                   // Tags
        k.principal.clone(),                    // x_IamPrincipal
        profile,                                // x_InferenceProfile
        model,                                  // x_Model
        billed.map(|b| token_kind_name(b.kind).to_string()), // x_TokenKind
        Some(k.usage_type.clone()),             // x_UsageType
        Some(k.line_item_type.clone()),         // x_LineItemType
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
        assert_eq!(midnight(d), "2026-12-31T00:00:00Z");
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
}
