//! The built-in price table of Amazon Bedrock on-demand text models, and the lookup that matches
//! a model ID (as it appears in the `ModelId` metric dimension or an invocation-log record) to a
//! price, with the user's `[pricing."<model id substring>"]` entries taking precedence.
//!
//! Prices are USD per 1,000 tokens, on-demand, standard context, in us-east-1, as listed on
//! <https://aws.amazon.com/bedrock/pricing/> on [`PRICES_AS_OF`]. They are estimates: batch
//! (half price), prompt-cache reads and writes, long-context surcharges and private pricing are
//! not modelled. Prices change; a `[pricing]` entry in the config overrides any row here.
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
    "us-gov.", "global.", "apac.", "us.", "eu.", "ca.", "jp.", "au.",
];

/// USD per 1,000 input and output tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    pub input_per_1k: f64,
    pub output_per_1k: f64,
}

impl Price {
    pub const fn per_1k(input_per_1k: f64, output_per_1k: f64) -> Price {
        Price {
            input_per_1k,
            output_per_1k,
        }
    }

    /// input_tokens/1000 × input price + output_tokens/1000 × output price.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> f64 {
        input_tokens as f64 / 1000.0 * self.input_per_1k
            + output_tokens as f64 / 1000.0 * self.output_per_1k
    }
}

impl From<&PriceConfig> for Price {
    fn from(p: &PriceConfig) -> Price {
        Price::per_1k(p.input_per_1k, p.output_per_1k)
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

/// The result of [`lookup`]: which key matched, its price, and where the price came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceMatch {
    pub key: String,
    pub price: Price,
    pub source: PriceSource,
}

const fn p(input_per_1k: f64, output_per_1k: f64) -> Price {
    Price::per_1k(input_per_1k, output_per_1k)
}

/// The built-in table: (model-ID substring, price per 1,000 tokens).
static BUILTIN: &[(&str, Price)] = &[
    // Anthropic Claude 3
    ("anthropic.claude-3-haiku", p(0.00025, 0.00125)),
    ("anthropic.claude-3-sonnet", p(0.003, 0.015)),
    ("anthropic.claude-3-opus", p(0.015, 0.075)),
    // Claude 3.5 (Sonnet v1 and v2 share a price)
    ("anthropic.claude-3-5-sonnet", p(0.003, 0.015)),
    ("anthropic.claude-3-5-haiku", p(0.0008, 0.004)),
    // Claude 3.7
    ("anthropic.claude-3-7-sonnet", p(0.003, 0.015)),
    // Claude 4 and 4.1 (keyed by date: see the module documentation)
    ("anthropic.claude-sonnet-4-20250514", p(0.003, 0.015)),
    ("anthropic.claude-opus-4-20250514", p(0.015, 0.075)),
    ("anthropic.claude-opus-4-1", p(0.015, 0.075)),
    // Claude 4.5: regional and geographic (`us.`, `eu.`, …) endpoints, and the global profile
    ("anthropic.claude-sonnet-4-5", p(0.0033, 0.0165)),
    ("global.anthropic.claude-sonnet-4-5", p(0.003, 0.015)),
    ("anthropic.claude-haiku-4-5", p(0.0011, 0.0055)),
    ("global.anthropic.claude-haiku-4-5", p(0.001, 0.005)),
    ("anthropic.claude-opus-4-5", p(0.0055, 0.0275)),
    ("global.anthropic.claude-opus-4-5", p(0.005, 0.025)),
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
    ("amazon.nova-micro", p(0.000035, 0.00014)),
    ("amazon.nova-lite", p(0.00006, 0.00024)),
    ("amazon.nova-pro", p(0.0008, 0.0032)),
    ("amazon.nova-premier", p(0.0025, 0.0125)),
];

/// The built-in price table, for the report and the dashboard's cost widget.
pub fn builtin_prices() -> &'static [(&'static str, Price)] {
    BUILTIN
}

/// The model ID as matched: an ARN reduced to its last path segment (the resource ID), then
/// without its cross-region prefix.
///
/// `arn:aws:bedrock:us-east-1:1:inference-profile/us.meta.llama3-1-70b-instruct-v1:0` gives
/// `meta.llama3-1-70b-instruct-v1:0`.
pub fn normalize_model_id(model_id: &str) -> &str {
    strip_cross_region_prefix(resource_id(model_id))
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

fn strip_cross_region_prefix(id: &str) -> &str {
    CROSS_REGION_PREFIXES
        .iter()
        .find_map(|prefix| id.strip_prefix(prefix))
        .unwrap_or(id)
}

/// The price for `model_id`: the longest key (built-in or from the config) that is a substring
/// of the ID with or without its cross-region prefix; see the module documentation. Case is
/// ignored. `None` when no key matches: such a model is reported unpriced, never priced as
/// another model.
pub fn lookup(model_id: &str, overrides: &BTreeMap<String, PriceConfig>) -> Option<PriceMatch> {
    let with_prefix = resource_id(model_id).to_ascii_lowercase();
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
            });
        }
    }
    for (key, price) in BUILTIN {
        if matches(key) && best.as_ref().is_none_or(|b| key.len() > b.key.len()) {
            best = Some(PriceMatch {
                key: (*key).to_string(),
                price: *price,
                source: PriceSource::Builtin,
            });
        }
    }
    best
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
    fn cost_arithmetic() {
        let price = Price::per_1k(0.0008, 0.004);
        let cost = price.cost(150_000, 20_000);
        assert!((cost - (0.12 + 0.08)).abs() < 1e-12, "{cost}");
    }
}
