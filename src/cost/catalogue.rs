//! The catalogue of models: what `bedrock:ListFoundationModels` names each model (Bedrock API
//! reference, ListFoundationModels: `modelSummaries[]` of `modelId`, `modelName`,
//! `providerName`; one answer, not paged), and how a name from elsewhere (a Price List
//! product's `model` attribute or Marketplace service name) finds its model ID.
//!
//! Prices read it so that a model released after this build is priced after `prices update`
//! without a key written here: the Price List names the model ("Nova 2.0 Lite", "Claude Haiku
//! 4.5 (Amazon Bedrock Edition)"), the catalogue gives the ID that CloudWatch and the logs use
//! (`amazon.nova-2-lite-v1:0`). A name that matches no catalogue entry, or several models, is
//! listed by `prices update` and never guessed.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// One model as ListFoundationModels names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CatalogModel {
    /// `modelId`, e.g. `anthropic.claude-haiku-4-5-20251001-v1:0`.
    pub id: String,
    /// `modelName`, e.g. `Claude Haiku 4.5`.
    pub name: String,
    /// `providerName`, e.g. `Anthropic`.
    #[serde(default)]
    pub provider: String,
}

/// The price key of a model ID: the ID without its version suffix (`-v1:0`, `-v2:0:200k`),
/// so that it is contained in every ID of the model (`us.amazon.nova-2-lite-v1:0`,
/// `amazon.nova-2-lite-v1:0:300k`). An ID without such a suffix is its own key.
pub fn model_key(model_id: &str) -> String {
    let id = model_id.trim();
    if let Some(at) = id.rfind("-v") {
        let rest = &id[at + 2..];
        let version_like = rest
            .split(':')
            .next()
            .is_some_and(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()));
        if version_like && at > 0 {
            return id[..at].to_string();
        }
    }
    id.to_string()
}

/// Whether two model names are one model's: the same words and the same numbers in the same
/// order, case and punctuation aside, with a version's `.0` dropped ("Nova 2.0 Lite" is the
/// catalogue's "Nova 2 Lite") and a Marketplace name's "(Amazon Bedrock Edition)" ignored.
pub fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (name_parts(a), name_parts(b));
    !a.is_empty() && a == b
}

fn name_parts(name: &str) -> Vec<String> {
    let name = name
        .trim()
        .trim_end_matches(crate::cost::spend::MARKETPLACE_SERVICE_SUFFIX)
        .trim();
    let mut parts: Vec<String> = Vec::new();
    let mut last_was_number = false;
    for run in name
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '.')
        .flat_map(|w| w.split_inclusive('.'))
    {
        let run = run.trim_end_matches('.');
        if run.is_empty() {
            continue;
        }
        let number = run.bytes().all(|b| b.is_ascii_digit());
        // "2.0" is split as "2." and "0": a zero minor version after a number is dropped.
        if number && last_was_number && run.bytes().all(|b| b == b'0') {
            continue;
        }
        last_was_number = number;
        parts.push(run.to_ascii_lowercase());
    }
    parts
}

/// The one key a name gives in `catalogue`: `Ok(None)` when no model has that name, `Err`
/// with the keys when several models do (never one chosen among them).
pub fn key_for_name(name: &str, catalogue: &[CatalogModel]) -> Result<Option<String>, Vec<String>> {
    key_where(catalogue, |m| same_name(name, &m.name))
}

/// The one key of the models `matches` accepts: `Ok(None)` for none, `Err` with the keys for
/// several.
pub fn key_where(
    catalogue: &[CatalogModel],
    matches: impl Fn(&CatalogModel) -> bool,
) -> Result<Option<String>, Vec<String>> {
    let keys: BTreeSet<String> = catalogue
        .iter()
        .filter(|m| matches(m))
        .map(|m| model_key(&m.id))
        .collect();
    match keys.len() {
        0 => Ok(None),
        1 => Ok(keys.into_iter().next()),
        _ => Err(keys.into_iter().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, name: &str) -> CatalogModel {
        CatalogModel {
            id: id.into(),
            name: name.into(),
            provider: String::new(),
        }
    }

    #[test]
    fn keys_drop_the_version_suffix_only() {
        assert_eq!(model_key("amazon.nova-2-lite-v1:0"), "amazon.nova-2-lite");
        assert_eq!(
            model_key("anthropic.claude-3-haiku-20240307-v1:0:200k"),
            "anthropic.claude-3-haiku-20240307"
        );
        assert_eq!(
            model_key("openai.gpt-oss-120b-1:0"),
            "openai.gpt-oss-120b-1:0"
        );
        assert_eq!(model_key("cohere.command-r-v1:0"), "cohere.command-r");
        assert_eq!(model_key("qwen.qwen3-32b-v1:0"), "qwen.qwen3-32b");
    }

    #[test]
    fn names_match_across_spellings_but_not_across_models() {
        assert!(same_name("Nova 2.0 Lite", "Nova 2 Lite"));
        assert!(same_name(
            "Claude Haiku 4.5 (Amazon Bedrock Edition)",
            "Claude Haiku 4.5"
        ));
        assert!(same_name("gpt-oss-120b", "GPT OSS 120B"));
        assert!(!same_name("Claude 3.5 Sonnet", "Claude 3.5 Sonnet v2"));
        assert!(!same_name("Claude Haiku 4.5", "Claude Haiku 4"));
        assert!(!same_name("Nova 2 Lite", "Nova Lite"));
        assert!(!same_name("", ""));
    }

    #[test]
    fn a_name_of_several_models_is_not_guessed() {
        let catalogue = [
            model("amazon.nova-2-lite-v1:0", "Nova 2 Lite"),
            model("amazon.nova-2-lite-v1:0:256k", "Nova 2 Lite"),
            model("x.same-v1:0", "Same"),
            model("y.same-v1:0", "Same"),
        ];
        assert_eq!(
            key_for_name("Nova 2.0 Lite", &catalogue),
            Ok(Some("amazon.nova-2-lite".into()))
        );
        assert_eq!(key_for_name("Unknown", &catalogue), Ok(None));
        assert_eq!(
            key_for_name("Same", &catalogue),
            Err(vec!["x.same".into(), "y.same".into()])
        );
    }
}
