//! The AWS Price List API's answer read as prices: `pricing:GetProducts` (FormatVersion
//! `aws_v1`) returns each product as a JSON *string* holding `product.attributes` (`regionCode`,
//! `usagetype`, `servicename`, …), `terms.OnDemand.*.priceDimensions.*` (`unit`,
//! `pricePerUnit.USD`, `description`) and the offer's `version` and `publicationDate`.
//!
//! A rate is keyed by (`regionCode`, `usagetype`) and understood with the same classification
//! the billed report uses ([`super::usage`]): the model and token kind, then the variant (global
//! cross-region, Flex / Priority / batch tier, 1-hour cache write). A rate the tool cannot
//! place — not tokens, a variant it does not know (long context, latency-optimized, reserved),
//! a model no key names, a unit it cannot convert, two different prices for one slot — is
//! skipped and counted, never taken for another rate.
//!
//! Which Price List names are which model: [`MODEL_KEYS`] lists the model-ID keys the built-in
//! table has always used; a Price List model name ("Claude4.5Sonnet" in a usage type, "Claude
//! Haiku 4.5" in a Marketplace service name) is a key's model when their words agree: the same
//! words and the same numbers in the same order, ignoring the vendor (`anthropic.`), release
//! dates and "instruct" (see [`same_model`]). A model those keys do not name is looked up in
//! the model catalogue `prices update` reads from `bedrock:ListFoundationModels`
//! ([`super::catalogue`]) by the product's `model` attribute or Marketplace service name, so a
//! model released after this build is priced by its own ID. One no catalogue entry names is
//! listed, never guessed.
//!
//! Each rate's unit is kept too ([`PriceFile::units`], by service and usage type), so that the
//! billed report turns billed quantities into tokens with the unit AWS prices them in, read
//! from the same product.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::catalogue::{CatalogModel, key_for_name};
use super::prices::{FILE_FORMAT, OfferInfo, Price, PriceFile, PriceRow, unit_key};
use super::usage::{BilledTier, TokenKind, classify, token_kind, variant};

/// The Price List offers (service codes) that hold Bedrock token prices. "Amazon Bedrock
/// AgentCore" (`AmazonBedrockAgentCore`) is left out on purpose: it bills runtime, memory and
/// gateway use, not tokens, so none of its rates prices a model.
pub const OFFER_CODES: &[&str] = &[
    "AmazonBedrock",
    "AmazonBedrockService",
    "AmazonBedrockFoundationModels",
];

/// The model-ID keys a Price List model name can become (the global cross-region rate of a
/// model gets the key with `global.` in front). Claude Sonnet 4 and Opus 4 carry their date so
/// that a later `claude-sonnet-4-6` is never priced as Sonnet 4.
pub const MODEL_KEYS: &[&str] = &[
    "anthropic.claude-3-haiku",
    "anthropic.claude-3-sonnet",
    "anthropic.claude-3-opus",
    "anthropic.claude-3-5-sonnet",
    "anthropic.claude-3-5-haiku",
    "anthropic.claude-3-7-sonnet",
    "anthropic.claude-sonnet-4-20250514",
    "anthropic.claude-opus-4-20250514",
    "anthropic.claude-opus-4-1",
    "anthropic.claude-sonnet-4-5",
    "anthropic.claude-haiku-4-5",
    "anthropic.claude-opus-4-5",
    "meta.llama3-8b-instruct",
    "meta.llama3-70b-instruct",
    "meta.llama3-1-8b-instruct",
    "meta.llama3-1-70b-instruct",
    "meta.llama3-1-405b-instruct",
    "meta.llama3-2-1b-instruct",
    "meta.llama3-2-3b-instruct",
    "meta.llama3-2-11b-instruct",
    "meta.llama3-2-90b-instruct",
    "meta.llama3-3-70b-instruct",
    "meta.llama4-scout-17b-instruct",
    "meta.llama4-maverick-17b-instruct",
    "amazon.nova-micro",
    "amazon.nova-lite",
    "amazon.nova-pro",
    "amazon.nova-premier",
];

/// One offer's answer: every `PriceList` item of every page.
#[derive(Debug, Clone)]
pub struct Answer {
    pub offer: String,
    pub items: Vec<String>,
}

/// What was left out, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Skipped {
    pub total: usize,
    /// Rates (or, for `conflicting price`, slots) per reason.
    pub by_reason: BTreeMap<String, usize>,
    /// Price List model names no key in [`MODEL_KEYS`] names.
    pub unknown_models: BTreeSet<String>,
}

impl Skipped {
    fn add(&mut self, reason: &str) {
        self.total += 1;
        *self.by_reason.entry(reason.to_string()).or_default() += 1;
    }
}

/// The price file the answers make, dated `as_of`, and what was skipped: models by
/// [`MODEL_KEYS`], then by `catalogue` (empty for the built-in table). With `regions`, only
/// rates of those regions are kept.
pub fn build(
    answers: &[Answer],
    catalogue: &[CatalogModel],
    as_of: NaiveDate,
    regions: &[String],
) -> (PriceFile, Skipped) {
    let mut skipped = Skipped::default();
    let mut offers = Vec::new();
    let mut slots: BTreeMap<RowKey, BTreeMap<Slot, Option<f64>>> = BTreeMap::new();
    let mut units: BTreeMap<String, Option<f64>> = BTreeMap::new();
    for answer in answers {
        let mut info = OfferInfo {
            code: answer.offer.clone(),
            version: None,
            publication_date: None,
            products: answer.items.len(),
        };
        for text in &answer.items {
            let item: Item = match serde_json::from_str(text) {
                Ok(item) => item,
                Err(_) => {
                    skipped.add("not a Price List product");
                    continue;
                }
            };
            info.version = info.version.max(item.version.clone());
            info.publication_date = info.publication_date.max(item.publication_date.clone());
            if let Some((key, tokens)) = unit(&item)
                && (regions.is_empty()
                    || item
                        .attr("regionCode")
                        .is_some_and(|r| regions.iter().any(|x| x == r)))
            {
                let slot = units.entry(key).or_insert(Some(tokens));
                if slot.is_some_and(|t| t != tokens) {
                    *slot = None;
                }
            }
            match rate(&item, catalogue) {
                Ok(rate) => {
                    if !regions.is_empty() && !regions.contains(&rate.region) {
                        continue;
                    }
                    let slot = slots
                        .entry((rate.key, rate.region, rate.tier))
                        .or_default()
                        .entry(rate.slot)
                        .or_insert(Some(rate.per_1k));
                    if slot.is_some_and(|p| (p - rate.per_1k).abs() > 1e-15) {
                        *slot = None;
                    }
                }
                Err(Skip::UnknownModel(name)) => {
                    skipped.add("model no key names");
                    skipped.unknown_models.insert(name);
                }
                Err(Skip::AmbiguousModel(name)) => {
                    skipped.add("model name of several model IDs");
                    skipped.unknown_models.insert(name);
                }
                Err(Skip::Other(reason)) => skipped.add(reason),
            }
        }
        offers.push(info);
    }
    let mut prices = Vec::new();
    for ((model, region, tier), slots) in slots {
        let get = |slot: Slot| slots.get(&slot).copied().flatten();
        for _ in slots.values().filter(|p| p.is_none()) {
            skipped.add("conflicting price");
        }
        let (Some(input_per_1k), Some(output_per_1k)) = (get(Slot::Input), get(Slot::Output))
        else {
            // A model is priced by its input and output rates; the cache rates alone are not
            // a price (and are counted here, per model and region).
            skipped.add("no input or no output price");
            continue;
        };
        prices.push(PriceRow {
            model,
            region,
            tier,
            price: Price {
                input_per_1k,
                output_per_1k,
                cache_read_per_1k: get(Slot::CacheRead),
                cache_write_per_1k: get(Slot::CacheWrite),
                cache_write_1h_per_1k: get(Slot::CacheWrite1h),
            },
        });
    }
    let regions: BTreeSet<String> = prices.iter().map(|r| r.region.clone()).collect();
    let file = PriceFile {
        format: FILE_FORMAT,
        as_of,
        offers,
        regions: regions.into_iter().collect(),
        prices,
        units: units
            .into_iter()
            .filter_map(|(k, t)| t.map(|t| (k, t)))
            .collect(),
    };
    (file, skipped)
}

/// (model key, region, tier): one row of the price file. Its slots hold per-1k prices, `None`
/// once two products disagree.
type RowKey = (String, String, Option<BilledTier>);

/// The price slot a rate fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    CacheWrite1h,
}

#[derive(Debug)]
struct Rate {
    key: String,
    region: String,
    tier: Option<BilledTier>,
    slot: Slot,
    per_1k: f64,
}

#[derive(Debug, PartialEq)]
enum Skip {
    UnknownModel(String),
    /// A name the catalogue gives to several models.
    AmbiguousModel(String),
    Other(&'static str),
}

/// A `PriceList` item, as far as prices need it.
#[derive(Debug, Deserialize)]
struct Item {
    product: Product,
    #[serde(default)]
    terms: Terms,
    #[serde(default)]
    version: Option<String>,
    #[serde(default, rename = "publicationDate")]
    publication_date: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Product {
    #[serde(default)]
    attributes: BTreeMap<String, Value>,
}

impl Item {
    fn attr(&self, name: &str) -> Option<&str> {
        self.product.attributes.get(name).and_then(Value::as_str)
    }

    /// The item's one on-demand price dimension.
    fn dimension(&self) -> Result<&Dimension, Skip> {
        match self.terms.on_demand.values().collect::<Vec<_>>().as_slice() {
            [term] => match term
                .price_dimensions
                .values()
                .collect::<Vec<_>>()
                .as_slice()
            {
                [dimension] => Ok(*dimension),
                [] => Err(Skip::Other("no on-demand price")),
                _ => Err(Skip::Other("tiered price")),
            },
            [] => Err(Skip::Other("no on-demand price")),
            _ => Err(Skip::Other("several on-demand terms")),
        }
    }
}

/// Tokens per billed unit of a token rate, keyed as [`unit_key`] keys it: what the billed
/// report multiplies a billed quantity by.
fn unit(item: &Item) -> Option<(String, f64)> {
    let usage_type = item.attr("usagetype")?;
    if token_kind(usage_type) == TokenKind::Other {
        return None;
    }
    let service = item.attr("servicename").unwrap_or("Amazon Bedrock");
    let dimension = item.dimension().ok()?;
    let tokens = tokens_per_unit(&dimension.unit, &dimension.description)?;
    Some((unit_key(service, usage_type), tokens))
}

#[derive(Debug, Default, Deserialize)]
struct Terms {
    #[serde(default, rename = "OnDemand")]
    on_demand: BTreeMap<String, Term>,
}

#[derive(Debug, Deserialize)]
struct Term {
    #[serde(default, rename = "priceDimensions")]
    price_dimensions: BTreeMap<String, Dimension>,
}

#[derive(Debug, Deserialize)]
struct Dimension {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "pricePerUnit")]
    price_per_unit: BTreeMap<String, String>,
}

/// The one rate an item gives, or why it gives none.
fn rate(item: &Item, catalogue: &[CatalogModel]) -> Result<Rate, Skip> {
    let attr = |name: &str| item.attr(name);
    let (Some(region), Some(usage_type)) = (attr("regionCode"), attr("usagetype")) else {
        return Err(Skip::Other("no regionCode or usagetype"));
    };
    // A product without a service name is read as a first-party one: the usage type alone
    // must then name the model and kind, or the rate is skipped.
    let service = attr("servicename").unwrap_or("Amazon Bedrock");
    let Some(line) = classify(service, usage_type) else {
        return Err(Skip::Other("not a model's tokens"));
    };
    let v = variant(service, usage_type).map_err(|_| Skip::Other("variant not priced"))?;
    let slot = match (line.kind, v.one_hour) {
        (TokenKind::Input, _) => Slot::Input,
        (TokenKind::Output, _) => Slot::Output,
        (TokenKind::CacheRead, _) => Slot::CacheRead,
        (TokenKind::CacheWrite, false) => Slot::CacheWrite,
        (TokenKind::CacheWrite, true) => Slot::CacheWrite1h,
        (TokenKind::Other, _) => return Err(Skip::Other("not a model's tokens")),
    };
    let key = match MODEL_KEYS.iter().find(|key| same_model(&line.model, key)) {
        Some(key) => key.to_string(),
        None => catalogue_key(item, service, &line.model, catalogue)?,
    };
    let dimension = item.dimension()?;
    let usd: f64 = dimension
        .price_per_unit
        .get("USD")
        .and_then(|p| p.trim().parse().ok())
        .filter(|p: &f64| p.is_finite() && *p >= 0.0)
        .ok_or(Skip::Other("no USD price"))?;
    let tokens = tokens_per_unit(&dimension.unit, &dimension.description)
        .ok_or(Skip::Other("unit not tokens"))?;
    Ok(Rate {
        key: if v.global {
            format!("global.{key}")
        } else {
            key
        },
        region: region.to_string(),
        tier: v.tier,
        slot,
        per_1k: tidy(usd * 1000.0 / tokens),
    })
}

/// The catalogue's key for a product no [`MODEL_KEYS`] entry names: by its `model` attribute
/// (first-party products: "Nova 2.0 Lite"), else its Marketplace service name, else the model
/// part of its usage type.
fn catalogue_key(
    item: &Item,
    service: &str,
    billed_model: &str,
    catalogue: &[CatalogModel],
) -> Result<String, Skip> {
    let name = item
        .attr("model")
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            service
                .ends_with(super::spend::MARKETPLACE_SERVICE_SUFFIX)
                .then_some(service)
        })
        .unwrap_or(billed_model);
    match key_for_name(name, catalogue) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(Skip::UnknownModel(billed_model.to_string())),
        Err(_) => Err(Skip::AmbiguousModel(billed_model.to_string())),
    }
}

/// `x` at 15 significant digits: a price per 1,000 worked out from a price per million reads
/// 0.0033, not 0.0033000000000000004.
fn tidy(x: f64) -> f64 {
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// How many tokens the price of one `unit` buys: "1K tokens" (AmazonBedrock,
/// AmazonBedrockService), "1M tokens", "tokens". Marketplace listings
/// (AmazonBedrockFoundationModels) price "Units" whose description says how many tokens a unit
/// is ("AWS Marketplace software usage|us-east-1|Million Input Tokens Regional CRIS": the
/// recorded answer in `tests/fixtures/pricelist/`, $1.10 a unit for Claude Haiku 4.5's input,
/// its per-million price). A unit whose description does not say is not guessed: `None`, as
/// for anything that is not tokens (images, "1K TPM Hour"…).
pub fn tokens_per_unit(unit: &str, description: &str) -> Option<f64> {
    let unit = unit.trim().to_ascii_lowercase();
    let (count, noun) = match unit.split_once(' ') {
        Some((count, noun)) => (count, noun.trim()),
        None => ("1", unit.as_str()),
    };
    let count = match count {
        "1" => 1.0,
        "1k" | "1000" | "1,000" => 1e3,
        "1m" | "1000000" | "1,000,000" | "million" => 1e6,
        _ => return None,
    };
    match noun {
        "token" | "tokens" => Some(count),
        "unit" | "units" if count == 1.0 => {
            let description = description.to_ascii_lowercase();
            if description.contains("million") {
                Some(1e6)
            } else if description.contains("thousand") {
                Some(1e3)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether a Price List model name and a model-ID key name the same model: the same words and
/// the same numbers in the same order, once each is split into runs of letters and of digits
/// (and at capitals), lowercased, and the vendor (the key's part before its first `.`), eight-digit dates and
/// "instruct" are left out. Words may come in another order ("Claude4.5Sonnet" is
/// `anthropic.claude-sonnet-4-5`) but numbers may not (Claude 3.5 is not a Claude 5.3).
pub fn same_model(name: &str, key: &str) -> bool {
    let key = key.split_once('.').map_or(key, |(_, model)| model);
    let a = words(name);
    let b = words(key);
    !a.0.is_empty() && a == b
}

/// The sorted words and the ordered numbers of a name.
fn words(name: &str) -> (Vec<String>, Vec<String>) {
    let mut runs: Vec<String> = Vec::new();
    let mut last: Option<char> = None;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            last = None;
            continue;
        }
        // A run ends where letters turn to digits or back, and where a capital follows a
        // small letter ("NovaLite").
        let same_run = last.is_some_and(|l| {
            l.is_ascii_digit() == c.is_ascii_digit()
                && !(l.is_ascii_lowercase() && c.is_ascii_uppercase())
        });
        match runs.last_mut() {
            Some(run) if same_run => run.push(c.to_ascii_lowercase()),
            _ => runs.push(c.to_ascii_lowercase().to_string()),
        }
        last = Some(c);
    }
    let (numbers, mut letters): (Vec<String>, Vec<String>) = runs
        .into_iter()
        .filter(|r| r != "instruct" && !(r.len() == 8 && r.bytes().all(|b| b.is_ascii_digit())))
        .partition(|r| r.bytes().all(|b| b.is_ascii_digit()));
    letters.sort();
    (letters, numbers)
}

#[cfg(test)]
mod tests;
