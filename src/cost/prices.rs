//! The built-in price table of Amazon Bedrock on-demand text models, and the lookup that matches
//! a model ID (as it appears in the `ModelId` metric dimension, the Mantle endpoint's `Model`
//! dimension or an invocation-log record) to a price, with the user's
//! `[pricing."<model id substring>"]` entries taking precedence.
//!
//! Prices are USD per 1,000 tokens of each kind — input, output, prompt-cache reads, and
//! prompt-cache writes with a 5-minute and a 1-hour lifetime — on-demand, standard context, in
//! us-east-1, as listed on <https://aws.amazon.com/bedrock/pricing/> on [`PRICES_AS_OF`]. A kind
//! a model has no price for is `None`: its tokens are reported unpriced, never priced as
//! another kind. Claude prices cache reads at 0.1 × the input price, 5-minute writes at 1.25 ×
//! and 1-hour writes at 2 × (Claude 4.5 and later offer the 1-hour lifetime); Nova prices
//! cache reads at 0.25 × and has no published write price. Long-context surcharges and private
//! pricing are not modelled; a `[pricing]` entry in the config overrides any row here.
//!
//! Service tiers change every kind's price: the Flex tier costs 0.5 × standard and Priority
//! 1.75 × (the Price List's ratios); CloudWatch names a tiered request's model with a `+flex`
//! or `+priority` suffix, which the lookup reads and removes.
//!
//! Matching: a key matches when it is a substring of the model ID. The ID is first reduced to
//! the part after the last `/` when it is an ARN (`…:inference-profile/ID`,
//! `…:foundation-model/ID`, `…:application-inference-profile/ID`), and then tried both with and
//! without its cross-region prefix (`us.`, `eu.`, `apac.`, `global.`, …). The longest matching
//! key wins; a config key wins over a built-in key of the same length (and so over the built-in
//! row with the same text). Keys that include a prefix (`global.anthropic.claude-sonnet-4-5`)
//! therefore only match IDs that carry it: that is how the global cross-region price of the
//! Claude 4.5 models, 10 % below the regional and geographic price, is expressed.
//!
//! Keys are chosen so that a newer model never silently takes an older model's price: Claude
//! Sonnet 4 and Opus 4 are keyed with their date (`anthropic.claude-sonnet-4-20250514`), so a
//! future `anthropic.claude-sonnet-4-6` is reported as unpriced instead of as Sonnet 4.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::PriceConfig;

/// The date the built-in prices were taken from the AWS price list.
pub const PRICES_AS_OF: &str = "2025-12-01";

/// The region the built-in prices are for.
pub const PRICES_REGION: &str = "us-east-1";

/// Cross-region inference-profile prefixes, removed before matching.
pub const CROSS_REGION_PREFIXES: &[&str] = &[
    "us-gov.", "global.", "apac.", "us.", "eu.", "ca.", "jp.", "au.", "in.",
];

/// USD per 1,000 tokens of each kind; `None` where the model has no such price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    pub cache_read_per_1k: Option<f64>,
    /// Writes with the default 5-minute lifetime.
    pub cache_write_per_1k: Option<f64>,
    pub cache_write_1h_per_1k: Option<f64>,
}

/// The tokens of one model (or request) by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// Cache writes whose lifetime the data does not say (CloudWatch's `CacheWriteInputTokens`,
    /// invocation logs): priced at the 5-minute rate, the default lifetime.
    pub cache_write: u64,
    pub cache_write_1h: u64,
}

/// What [`Price::cost_of`] could price.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub usd: f64,
    /// Kinds that had tokens but no price: left out of `usd`.
    pub unpriced: Vec<&'static str>,
}

impl Price {
    pub const fn per_1k(input_per_1k: f64, output_per_1k: f64) -> Price {
        Price {
            input_per_1k,
            output_per_1k,
            cache_read_per_1k: None,
            cache_write_per_1k: None,
            cache_write_1h_per_1k: None,
        }
    }

    /// input_tokens/1000 × input price + output_tokens/1000 × output price.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        input_tokens as f64 / 1000.0 * self.input_per_1k
            + output_tokens as f64 / 1000.0 * self.output_per_1k
    }

    /// Every kind of token priced at its own rate; kinds with tokens but no price are named in
    /// [`Priced::unpriced`] and left out.
    pub fn cost_of(&self, tokens: &Tokens) -> Priced {
        let mut usd = self.cost(tokens.input, tokens.output);
        let mut unpriced = Vec::new();
        for (count, price, kind) in [
            (tokens.cache_read, self.cache_read_per_1k, "cache read"),
            (tokens.cache_write, self.cache_write_per_1k, "cache write"),
            (
                tokens.cache_write_1h,
                self.cache_write_1h_per_1k,
                "1-hour cache write",
            ),
        ] {
            match (count, price) {
                (0, _) => {}
                (n, Some(p)) => usd += n as f64 / 1000.0 * p,
                (_, None) => unpriced.push(kind),
            }
        }
        Priced { usd, unpriced }
    }

    /// Every price times `factor` (a service tier, batch).
    pub fn scaled(&self, factor: f64) -> Price {
        Price {
            input_per_1k: self.input_per_1k * factor,
            output_per_1k: self.output_per_1k * factor,
            cache_read_per_1k: self.cache_read_per_1k.map(|p| p * factor),
            cache_write_per_1k: self.cache_write_per_1k.map(|p| p * factor),
            cache_write_1h_per_1k: self.cache_write_1h_per_1k.map(|p| p * factor),
        }
    }
}

impl From<&PriceConfig> for Price {
    fn from(p: &PriceConfig) -> Price {
        Price {
            input_per_1k: p.input_per_1k,
            output_per_1k: p.output_per_1k,
            cache_read_per_1k: p.cache_read_per_1k,
            cache_write_per_1k: p.cache_write_per_1k,
            cache_write_1h_per_1k: p.cache_write_1h_per_1k,
        }
    }
}

/// Where a price came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceSource {
    /// The built-in table ([`builtin_prices`]).
    Builtin,
    /// A `[pricing."<key>"]` entry in the config.
    Config,
}

/// A service tier that changes the price of every kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Flex,
    Priority,
}

impl Tier {
    /// The tier's price against the standard tier (the Price List's ratios).
    pub fn factor(self) -> f64 {
        match self {
            Tier::Flex => 0.5,
            Tier::Priority => 1.75,
        }
    }
}

/// The result of [`lookup`]: which key matched, its price (the tier's, when the model ID names
/// one), and where the price came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceMatch {
    pub key: String,
    pub price: Price,
    pub source: PriceSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
}

const fn p(input_per_1k: f64, output_per_1k: f64) -> Price {
    Price::per_1k(input_per_1k, output_per_1k)
}

/// A Claude price: cache reads 0.1 × input, 5-minute writes 1.25 ×, and 1-hour writes 2 × for
/// the models that offer that lifetime (Claude 4.5 and later).
const fn claude(input_per_1k: f64, output_per_1k: f64, one_hour: bool) -> Price {
    Price {
        input_per_1k,
        output_per_1k,
        cache_read_per_1k: Some(input_per_1k * 0.1),
        cache_write_per_1k: Some(input_per_1k * 1.25),
        cache_write_1h_per_1k: if one_hour {
            Some(input_per_1k * 2.0)
        } else {
            None
        },
    }
}

/// A Nova price: implicit caching, reads at 0.25 × input; no published write price.
const fn nova(input_per_1k: f64, output_per_1k: f64) -> Price {
    Price {
        input_per_1k,
        output_per_1k,
        cache_read_per_1k: Some(input_per_1k * 0.25),
        cache_write_per_1k: None,
        cache_write_1h_per_1k: None,
    }
}

/// The built-in table: (model-ID substring, price per 1,000 tokens).
static BUILTIN: &[(&str, Price)] = &[
    // Anthropic Claude 3 (no prompt caching)
    ("anthropic.claude-3-haiku", p(0.00025, 0.00125)),
    ("anthropic.claude-3-sonnet", p(0.003, 0.015)),
    ("anthropic.claude-3-opus", p(0.015, 0.075)),
    // Claude 3.5 (Sonnet v1 and v2 share a price)
    ("anthropic.claude-3-5-sonnet", claude(0.003, 0.015, false)),
    ("anthropic.claude-3-5-haiku", claude(0.0008, 0.004, false)),
    // Claude 3.7
    ("anthropic.claude-3-7-sonnet", claude(0.003, 0.015, false)),
    // Claude 4 and 4.1 (keyed by date: see the module documentation)
    (
        "anthropic.claude-sonnet-4-20250514",
        claude(0.003, 0.015, false),
    ),
    (
        "anthropic.claude-opus-4-20250514",
        claude(0.015, 0.075, false),
    ),
    ("anthropic.claude-opus-4-1", claude(0.015, 0.075, false)),
    // Claude 4.5: regional and geographic (`us.`, `eu.`, …) endpoints, and the global profile
    ("anthropic.claude-sonnet-4-5", claude(0.0033, 0.0165, true)),
    (
        "global.anthropic.claude-sonnet-4-5",
        claude(0.003, 0.015, true),
    ),
    ("anthropic.claude-haiku-4-5", claude(0.0011, 0.0055, true)),
    (
        "global.anthropic.claude-haiku-4-5",
        claude(0.001, 0.005, true),
    ),
    ("anthropic.claude-opus-4-5", claude(0.0055, 0.0275, true)),
    (
        "global.anthropic.claude-opus-4-5",
        claude(0.005, 0.025, true),
    ),
    // Meta Llama 3
    ("meta.llama3-8b-instruct", p(0.0003, 0.0006)),
    ("meta.llama3-70b-instruct", p(0.00265, 0.0035)),
    // Llama 3.1
    ("meta.llama3-1-8b-instruct", p(0.00022, 0.00022)),
    ("meta.llama3-1-70b-instruct", p(0.00072, 0.00072)),
    ("meta.llama3-1-405b-instruct", p(0.0024, 0.0024)),
    // Llama 3.2
    ("meta.llama3-2-1b-instruct", p(0.0001, 0.0001)),
    ("meta.llama3-2-3b-instruct", p(0.00015, 0.00015)),
    ("meta.llama3-2-11b-instruct", p(0.00016, 0.00016)),
    ("meta.llama3-2-90b-instruct", p(0.00072, 0.00072)),
    // Llama 3.3
    ("meta.llama3-3-70b-instruct", p(0.00072, 0.00072)),
    // Llama 4
    ("meta.llama4-scout-17b-instruct", p(0.00017, 0.00066)),
    ("meta.llama4-maverick-17b-instruct", p(0.00024, 0.00097)),
    // Amazon Nova
    ("amazon.nova-micro", nova(0.000035, 0.00014)),
    ("amazon.nova-lite", nova(0.00006, 0.00024)),
    ("amazon.nova-pro", nova(0.0008, 0.0032)),
    ("amazon.nova-premier", nova(0.0025, 0.0125)),
];

/// The built-in price table, for the report and the dashboard's cost widget.
pub fn builtin_prices() -> &'static [(&'static str, Price)] {
    BUILTIN
}

/// The model ID as matched: an ARN reduced to its last path segment (the resource ID), its
/// service-tier suffix removed, then without its cross-region prefix.
///
/// `arn:aws:bedrock:us-east-1:1:inference-profile/us.meta.llama3-1-70b-instruct-v1:0` gives
/// `meta.llama3-1-70b-instruct-v1:0`.
pub fn normalize_model_id(model_id: &str) -> &str {
    strip_cross_region_prefix(split_tier(resource_id(model_id)).0)
}

/// The resource ID of an ARN (the part after the last `/`); anything else unchanged.
fn resource_id(model_id: &str) -> &str {
    let id = model_id.trim();
    if id.starts_with("arn:") {
        id.rsplit('/').next().unwrap_or(id)
    } else {
        id
    }
}

/// A model ID without the service-tier suffix CloudWatch adds (`…+flex`, `…+priority`), and
/// the tier.
pub fn split_tier(model_id: &str) -> (&str, Option<Tier>) {
    match model_id.rsplit_once('+') {
        Some((id, tier)) if tier.eq_ignore_ascii_case("flex") => (id, Some(Tier::Flex)),
        Some((id, tier)) if tier.eq_ignore_ascii_case("priority") => (id, Some(Tier::Priority)),
        _ => (model_id, None),
    }
}

fn strip_cross_region_prefix(id: &str) -> &str {
    CROSS_REGION_PREFIXES
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(id)
}

/// The price for `model_id`: the longest key (built-in or from the config) that is a substring
/// of the ID with or without its cross-region prefix; see the module documentation. Case is
/// ignored. A `+flex` or `+priority` suffix scales every price by its tier. `None` when no key
/// matches: such a model is reported unpriced, never priced as another model.
pub fn lookup(model_id: &str, overrides: &BTreeMap<String, PriceConfig>) -> Option<PriceMatch> {
    let (id, tier) = split_tier(resource_id(model_id));
    let with_prefix = id.to_ascii_lowercase();
    let without_prefix = strip_cross_region_prefix(&with_prefix).to_string();
    let matches = |key: &str| {
        let key = key.trim().to_ascii_lowercase();
        !key.is_empty() && (without_prefix.contains(&key) || with_prefix.contains(&key))
    };

    let mut best: Option<PriceMatch> = None;
    // Config keys first: a later built-in key replaces the best only when strictly longer.
    for (key, price) in overrides {
        if matches(key) && best.as_ref().is_none_or(|b| key.len() > b.key.len()) {
            best = Some(PriceMatch {
                key: key.clone(),
                price: Price::from(price),
                source: PriceSource::Config,
                tier: None,
            });
        }
    }
    for (key, price) in BUILTIN {
        if matches(key) && best.as_ref().is_none_or(|b| key.len() > b.key.len()) {
            best = Some(PriceMatch {
                key: (*key).to_string(),
                price: *price,
                source: PriceSource::Builtin,
                tier: None,
            });
        }
    }
    best.map(|m| match tier {
        Some(t) => PriceMatch {
            price: m.price.scaled(t.factor()),
            tier,
            ..m
        },
        None => m,
    })
}

/// The `[pricing."<key>"]` key to suggest for an unpriced model: its normalized ID.
pub fn suggested_key(model_id: &str) -> String {
    normalize_model_id(model_id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> BTreeMap<String, PriceConfig> {
        BTreeMap::new()
    }

    fn cfg(entries: &[(&str, f64, f64)]) -> BTreeMap<String, PriceConfig> {
        entries
            .iter()
            .map(|(k, i, o)| {
                (
                    k.to_string(),
                    PriceConfig {
                        input_per_1k: *i,
                        output_per_1k: *o,
                        cache_read_per_1k: None,
                        cache_write_per_1k: None,
                        cache_write_1h_per_1k: None,
                    },
                )
            })
            .collect()
    }

    fn key_of(model_id: &str) -> Option<String> {
        lookup(model_id, &none()).map(|m| m.key)
    }

    #[test]
    fn exact_families_match_their_own_row() {
        let cases = [
            (
                "anthropic.claude-3-haiku-20240307-v1:0",
                "anthropic.claude-3-haiku",
            ),
            (
                "anthropic.claude-3-5-haiku-20241022-v1:0",
                "anthropic.claude-3-5-haiku",
            ),
            (
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "anthropic.claude-3-5-sonnet",
            ),
            (
                "anthropic.claude-3-7-sonnet-20250219-v1:0",
                "anthropic.claude-3-7-sonnet",
            ),
            (
                "anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-sonnet-4-20250514",
            ),
            (
                "anthropic.claude-opus-4-20250514-v1:0",
                "anthropic.claude-opus-4-20250514",
            ),
            (
                "anthropic.claude-opus-4-1-20250805-v1:0",
                "anthropic.claude-opus-4-1",
            ),
            (
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-5",
            ),
            (
                "anthropic.claude-haiku-4-5-20251001-v1:0",
                "anthropic.claude-haiku-4-5",
            ),
            (
                "anthropic.claude-opus-4-5-20251101-v1:0",
                "anthropic.claude-opus-4-5",
            ),
            ("meta.llama3-8b-instruct-v1:0", "meta.llama3-8b-instruct"),
            (
                "meta.llama3-1-8b-instruct-v1:0",
                "meta.llama3-1-8b-instruct",
            ),
            (
                "meta.llama3-1-70b-instruct-v1:0",
                "meta.llama3-1-70b-instruct",
            ),
            (
                "meta.llama3-2-1b-instruct-v1:0",
                "meta.llama3-2-1b-instruct",
            ),
            (
                "meta.llama3-2-11b-instruct-v1:0",
                "meta.llama3-2-11b-instruct",
            ),
            (
                "meta.llama3-3-70b-instruct-v1:0",
                "meta.llama3-3-70b-instruct",
            ),
            (
                "meta.llama4-scout-17b-instruct-v1:0",
                "meta.llama4-scout-17b-instruct",
            ),
            (
                "meta.llama4-maverick-17b-instruct-v1:0",
                "meta.llama4-maverick-17b-instruct",
            ),
            ("amazon.nova-micro-v1:0", "amazon.nova-micro"),
            ("amazon.nova-lite-v1:0", "amazon.nova-lite"),
            ("amazon.nova-pro-v1:0", "amazon.nova-pro"),
            ("amazon.nova-premier-v1:0", "amazon.nova-premier"),
        ];
        for (id, key) in cases {
            assert_eq!(key_of(id).as_deref(), Some(key), "{id}");
        }
    }

    #[test]
    fn longest_key_wins() {
        // `anthropic.claude-opus-4-1` and `-4-5` are longer than any shorter Opus key.
        let m = lookup("anthropic.claude-opus-4-5-20251101-v1:0", &none()).unwrap();
        assert_eq!(m.key, "anthropic.claude-opus-4-5");
        // A user key that is a prefix of a built-in key loses to the longer built-in key.
        let overrides = cfg(&[("anthropic.claude", 1.0, 1.0)]);
        let m = lookup("anthropic.claude-3-haiku-20240307-v1:0", &overrides).unwrap();
        assert_eq!(m.key, "anthropic.claude-3-haiku");
        assert_eq!(m.source, PriceSource::Builtin);
        // ...but prices a model that has no built-in row.
        let m = lookup("anthropic.claude-v2:1", &overrides).unwrap();
        assert_eq!(m.key, "anthropic.claude");
        assert_eq!(m.source, PriceSource::Config);
    }

    #[test]
    fn cross_region_prefixes_are_removed() {
        for prefix in ["us.", "eu.", "apac.", "us-gov.", "ca.", "jp.", "au."] {
            let id = format!("{prefix}anthropic.claude-3-5-haiku-20241022-v1:0");
            assert_eq!(
                key_of(&id).as_deref(),
                Some("anthropic.claude-3-5-haiku"),
                "{id}"
            );
        }
        assert_eq!(
            normalize_model_id("us.meta.llama3-1-70b-instruct-v1:0"),
            "meta.llama3-1-70b-instruct-v1:0"
        );
    }

    #[test]
    fn global_profiles_of_claude_4_5_get_the_global_price() {
        let regional = lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0", &none()).unwrap();
        let global = lookup("global.anthropic.claude-sonnet-4-5-20250929-v1:0", &none()).unwrap();
        assert_eq!(regional.key, "anthropic.claude-sonnet-4-5");
        assert_eq!(global.key, "global.anthropic.claude-sonnet-4-5");
        assert!(global.price.input_per_1k < regional.price.input_per_1k);
        // Models without a global row take the same price with the `global.` prefix.
        assert_eq!(
            key_of("global.anthropic.claude-opus-4-1-20250805-v1:0").as_deref(),
            Some("anthropic.claude-opus-4-1")
        );
    }

    #[test]
    fn arns_are_reduced_to_their_resource_id() {
        let cases = [
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0",
        ];
        for arn in cases {
            assert_eq!(
                key_of(arn).as_deref(),
                Some("anthropic.claude-3-7-sonnet"),
                "{arn}"
            );
        }
        let app =
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
        assert_eq!(key_of(app), None);
        assert_eq!(suggested_key(app), "a1b2c3d4e5f6");
        let overrides = cfg(&[("a1b2c3d4e5f6", 0.002, 0.01)]);
        let m = lookup(app, &overrides).unwrap();
        assert_eq!(m.source, PriceSource::Config);
        assert_eq!(m.price, Price::per_1k(0.002, 0.01));
    }

    #[test]
    fn config_overrides_builtin_of_same_text_and_wins_ties() {
        let overrides = cfg(&[("anthropic.claude-3-5-haiku", 0.001, 0.005)]);
        let m = lookup("us.anthropic.claude-3-5-haiku-20241022-v1:0", &overrides).unwrap();
        assert_eq!(m.source, PriceSource::Config);
        assert_eq!(m.price, Price::per_1k(0.001, 0.005));
        // A config key of the same length as a different built-in key also wins.
        let same_len = "x".repeat("anthropic.claude-3-5-haiku".len());
        let overrides = cfg(&[(&same_len, 9.0, 9.0)]);
        let id = format!("anthropic.claude-3-5-haiku-{same_len}");
        let m = lookup(&id, &overrides).unwrap();
        assert_eq!(m.key, same_len);
        assert_eq!(m.source, PriceSource::Config);
        // Case does not matter.
        let overrides = cfg(&[("Anthropic.Claude-3-5-Haiku", 0.001, 0.005)]);
        let m = lookup("anthropic.claude-3-5-haiku-20241022-v1:0", &overrides).unwrap();
        assert_eq!(m.source, PriceSource::Config);
    }

    #[test]
    fn unknown_models_are_unpriced_never_priced_as_another_model() {
        for id in [
            "cohere.command-r-v1:0",
            "amazon.nova-2-lite-v1:0",
            "anthropic.claude-sonnet-4-6",
            "anthropic.claude-opus-4-7-v1:0",
            "",
        ] {
            assert_eq!(key_of(id), None, "{id}");
        }
        assert_eq!(
            suggested_key("us.cohere.command-r-v1:0"),
            "cohere.command-r-v1:0"
        );
    }

    #[test]
    fn keys_are_unique_and_every_price_is_sane() {
        let mut keys: Vec<&str> = builtin_prices().iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before, "duplicate built-in keys");
        for (key, price) in builtin_prices() {
            assert!(
                price.input_per_1k > 0.0 && price.output_per_1k > 0.0,
                "{key}"
            );
            assert!(price.output_per_1k >= price.input_per_1k, "{key}");
            assert_eq!(*key, key.to_ascii_lowercase(), "{key}");
        }
    }

    #[test]
    fn every_kind_of_token_has_its_own_price() {
        // Claude Sonnet 4.5 through a US profile: $3.30 per million in, 0.1 × for cache
        // reads, 1.25 × and 2 × for 5-minute and 1-hour writes.
        let m = lookup("us.anthropic.claude-sonnet-4-5-20250929-v1:0", &none()).expect("priced");
        let tokens = Tokens {
            input: 1_000_000,
            output: 100_000,
            cache_read: 2_000_000,
            cache_write: 400_000,
            cache_write_1h: 100_000,
        };
        let priced = m.price.cost_of(&tokens);
        let expected = 3.3 + 1.65 + 2.0 * 0.33 + 0.4 * 4.125 + 0.1 * 6.6;
        assert!(
            (priced.usd - expected).abs() < 1e-9,
            "{priced:?} vs {expected}"
        );
        assert!(priced.unpriced.is_empty());
        // Nova: cache reads at 0.25 ×, writes have no price: reported, not guessed.
        let nova = lookup("amazon.nova-pro-v1:0", &none()).expect("priced");
        let priced = nova.price.cost_of(&Tokens {
            input: 1000,
            cache_read: 1000,
            cache_write: 1000,
            ..Tokens::default()
        });
        assert!((priced.usd - (0.0008 + 0.0002)).abs() < 1e-12, "{priced:?}");
        assert_eq!(priced.unpriced, vec!["cache write"]);
        // Llama has no prompt cache price at all.
        let llama = lookup("meta.llama3-3-70b-instruct-v1:0", &none()).expect("priced");
        let priced = llama.price.cost_of(&Tokens {
            cache_read: 5,
            ..Tokens::default()
        });
        assert_eq!(priced.unpriced, vec!["cache read"]);
    }

    #[test]
    fn service_tiers_scale_every_price() {
        let standard =
            lookup("global.anthropic.claude-haiku-4-5-20251001-v1:0", &none()).expect("priced");
        let flex = lookup(
            "global.anthropic.claude-haiku-4-5-20251001-v1:0+flex",
            &none(),
        )
        .expect("priced");
        let priority = lookup("amazon.nova-pro-v1:0+priority", &none()).expect("priced");
        assert_eq!(flex.key, standard.key);
        assert_eq!(flex.tier, Some(Tier::Flex));
        assert!((flex.price.input_per_1k - standard.price.input_per_1k * 0.5).abs() < 1e-12);
        assert_eq!(
            flex.price.cache_read_per_1k.map(|p| (p * 1e9).round()),
            standard
                .price
                .cache_read_per_1k
                .map(|p| (p * 0.5 * 1e9).round())
        );
        assert!((priority.price.output_per_1k - 0.0032 * 1.75).abs() < 1e-12);
        assert_eq!(
            normalize_model_id("us.amazon.nova-pro-v1:0+priority"),
            "amazon.nova-pro-v1:0"
        );
        // An unknown suffix is part of the ID, not a tier.
        assert_eq!(split_tier("x+turbo"), ("x+turbo", None));
    }

    #[test]
    fn cost_arithmetic() {
        let price = Price::per_1k(0.0008, 0.004);
        let cost = price.cost(150_000, 20_000);
        assert!((cost - (0.12 + 0.08)).abs() < 1e-12, "{cost}");
    }
}
