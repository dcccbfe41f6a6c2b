//! What a Bedrock quota's name says: which kind of limit, for which scope of calls, on which
//! model, and which model ID that is.
//!
//! Service Quotas has no model field: the model is only in the name. AWS spells the names in
//! three generations (research of the live catalogue and the Bedrock user guide's quota
//! pages, "Quotas for Amazon Bedrock runtime"):
//! - `On-demand model inference tokens per minute for Anthropic Claude 3 Haiku` (the live
//!   form), `Cross-region …`, also `Cross-Region …`, and `Global cross-region …`;
//! - `On-demand InvokeModel tokens per minute for …` (the user guide's template and older
//!   accounts; the quota code stays when AWS renames it);
//! - `Model invocation max tokens per day for … (doubled for cross-region calls)`, the suffix
//!   missing in older names, and `Global cross-region model inference tokens per day for …`.
//!
//! Requests-per-minute quotas were removed in May 2026 (AWS release note: "Amazon Bedrock no
//! longer enforces requests-per-minute (RPM) quotas … Throttling is now governed by
//! token-based quotas"), while older accounts and the quota-increase page still show them:
//! they are read when listed, never required.
//!
//! Names are matched case-insensitively on these shapes and nothing looser. The model part is
//! found in the catalogue ListFoundationModels gives (the same one `prices update` uses for
//! Price List names, [`crate::cost::catalogue`]), as `provider + " " + model name` or the model
//! name alone (some names leave the provider out, "Mistral 7B Instruct"), with a trailing
//! "V1" AWS adds in quota names ("Claude Sonnet 4.5 V1") allowed. A name that matches no
//! model, or several, is reported as unmapped, never guessed.

use serde::Serialize;

use crate::cost::catalogue::{CatalogModel, key_where, model_key, same_name};
use crate::cost::prices::CROSS_REGION_PREFIXES;

/// Which calls a quota counts: in-Region on-demand calls on a model ID, calls through a
/// geographic cross-Region profile (`us.`, `eu.`, …), or through a global one (`global.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    OnDemand,
    CrossRegion,
    GlobalCrossRegion,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OnDemand => "on_demand",
            Scope::CrossRegion => "cross_region",
            Scope::GlobalCrossRegion => "global_cross_region",
        }
    }

    /// The scope of calls that CloudWatch shows under `model_id`: the Bedrock CloudWatch
    /// metrics page says the `ModelId` dimension "corresponds to your inference profile
    /// identifier" for calls through a profile, so its geography prefix tells the scope.
    pub fn of_model_id(model_id: &str) -> Scope {
        if model_id.starts_with("global.") {
            Scope::GlobalCrossRegion
        } else if CROSS_REGION_PREFIXES
            .iter()
            .any(|p| model_id.starts_with(p))
        {
            Scope::CrossRegion
        } else {
            Scope::OnDemand
        }
    }
}

/// What a quota limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    TokensPerMinute,
    RequestsPerMinute,
    TokensPerDay,
}

impl Kind {
    pub const ALL: [Kind; 3] = [
        Kind::TokensPerMinute,
        Kind::RequestsPerMinute,
        Kind::TokensPerDay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TokensPerMinute => "tokens_per_minute",
            Kind::RequestsPerMinute => "requests_per_minute",
            Kind::TokensPerDay => "tokens_per_day",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Short, for alarm names and tables.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Kind::TokensPerMinute => "TPM",
            Kind::RequestsPerMinute => "RPM",
            Kind::TokensPerDay => "TPD",
        }
    }
}

/// A quota name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaName {
    pub scope: Scope,
    pub kind: Kind,
    /// The model as the name spells it ("Anthropic Claude 3.5 Sonnet V2").
    pub model: String,
    /// "(doubled for cross-region calls)": the daily quota counts twice for calls through a
    /// geographic cross-Region profile.
    pub doubled_for_cross_region: bool,
}

const DOUBLED_SUFFIX: &str = " (doubled for cross-region calls)";

/// The shapes of per-model inference quota names: (lower-case prefix, scope, kind). The
/// longer prefixes come first, since "cross-region …" is also the end of "global
/// cross-region …".
const SHAPES: &[(&str, Scope, Kind)] = &[
    (
        "global cross-region model inference tokens per minute for ",
        Scope::GlobalCrossRegion,
        Kind::TokensPerMinute,
    ),
    (
        "global cross-region model inference requests per minute for ",
        Scope::GlobalCrossRegion,
        Kind::RequestsPerMinute,
    ),
    (
        "global cross-region model inference tokens per day for ",
        Scope::GlobalCrossRegion,
        Kind::TokensPerDay,
    ),
    (
        "cross-region model inference tokens per minute for ",
        Scope::CrossRegion,
        Kind::TokensPerMinute,
    ),
    (
        "cross-region model inference requests per minute for ",
        Scope::CrossRegion,
        Kind::RequestsPerMinute,
    ),
    (
        "cross-region invokemodel tokens per minute for ",
        Scope::CrossRegion,
        Kind::TokensPerMinute,
    ),
    (
        "cross-region invokemodel requests per minute for ",
        Scope::CrossRegion,
        Kind::RequestsPerMinute,
    ),
    (
        "on-demand model inference tokens per minute for ",
        Scope::OnDemand,
        Kind::TokensPerMinute,
    ),
    (
        "on-demand model inference requests per minute for ",
        Scope::OnDemand,
        Kind::RequestsPerMinute,
    ),
    (
        "on-demand invokemodel tokens per minute for ",
        Scope::OnDemand,
        Kind::TokensPerMinute,
    ),
    (
        "on-demand invokemodel requests per minute for ",
        Scope::OnDemand,
        Kind::RequestsPerMinute,
    ),
    (
        "model invocation max tokens per day for ",
        Scope::OnDemand,
        Kind::TokensPerDay,
    ),
];

/// The parts of a per-model inference quota's name; `None` for any other quota.
pub fn parse(name: &str) -> Option<QuotaName> {
    let trimmed = name.trim();
    let lower = trimmed.to_ascii_lowercase();
    let (body, doubled) = match lower.strip_suffix(DOUBLED_SUFFIX) {
        Some(body) => (body, true),
        None => (lower.as_str(), false),
    };
    let (prefix, scope, kind) = SHAPES.iter().find(|(p, _, _)| body.starts_with(p))?;
    // The model keeps its own spelling: it is shown to the user.
    let model = trimmed.get(prefix.len()..body.len())?.trim().to_string();
    if model.is_empty() {
        return None;
    }
    Some(QuotaName {
        scope: *scope,
        kind: *kind,
        model,
        doubled_for_cross_region: doubled,
    })
}

/// Whether a quota is about model inference at all (a name with tokens or requests per
/// minute or day), so that one of that family the parser does not know is listed as
/// unmapped, while the Agents, Knowledge Bases and batch quotas are not.
pub fn looks_like_inference_quota(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["tokens per minute", "requests per minute", "tokens per day"]
        .iter()
        .any(|p| lower.contains(p))
        && !lower.contains("batch")
}

/// The model key ([`model_key`]) a quota's model part names in `catalogue`: `Ok(None)` when
/// none matches, `Err` with the keys when several do.
pub fn model_key_for(
    model: &str,
    catalogue: &[CatalogModel],
) -> Result<Option<String>, Vec<String>> {
    let without_v1 = strip_trailing_v1(model);
    let matches = |m: &CatalogModel| {
        let full = format!("{} {}", m.provider, m.name);
        [model, without_v1.as_str()]
            .iter()
            .any(|candidate| same_name(candidate, &full) || same_name(candidate, &m.name))
    };
    key_where(catalogue, matches)
}

fn strip_trailing_v1(model: &str) -> String {
    let trimmed = model.trim();
    match trimmed.rsplit_once(' ') {
        Some((head, last)) if last.eq_ignore_ascii_case("v1") => head.to_string(),
        _ => trimmed.to_string(),
    }
}

/// The model key of a model ID as CloudWatch shows it: without its geography prefix and its
/// version suffix, so `us.anthropic.claude-3-haiku-20240307-v1:0` and the in-Region ID share
/// one key.
pub fn usage_model_key(model_id: &str) -> String {
    let base = CROSS_REGION_PREFIXES
        .iter()
        .find_map(|p| model_id.strip_prefix(p))
        .unwrap_or(model_id);
    model_key(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, provider: &str, name: &str) -> CatalogModel {
        CatalogModel {
            id: id.into(),
            name: name.into(),
            provider: provider.into(),
        }
    }

    #[test]
    fn every_generation_of_names_is_read() {
        let cases = [
            (
                "On-demand model inference tokens per minute for Anthropic Claude 3 Haiku",
                Scope::OnDemand,
                Kind::TokensPerMinute,
                "Anthropic Claude 3 Haiku",
                false,
            ),
            (
                "Cross-Region model inference requests per minute for Anthropic Claude 3.5 Sonnet V2",
                Scope::CrossRegion,
                Kind::RequestsPerMinute,
                "Anthropic Claude 3.5 Sonnet V2",
                false,
            ),
            (
                "Global cross-Region model inference tokens per minute for Anthropic Claude Opus 5",
                Scope::GlobalCrossRegion,
                Kind::TokensPerMinute,
                "Anthropic Claude Opus 5",
                false,
            ),
            (
                "Cross-region InvokeModel tokens per minute for Anthropic Claude 3 Haiku",
                Scope::CrossRegion,
                Kind::TokensPerMinute,
                "Anthropic Claude 3 Haiku",
                false,
            ),
            (
                "Model invocation max tokens per day for Anthropic Claude Haiku 4.5 (doubled for cross-region calls)",
                Scope::OnDemand,
                Kind::TokensPerDay,
                "Anthropic Claude Haiku 4.5",
                true,
            ),
            (
                "Global cross-region model inference tokens per day for Anthropic Claude Haiku 4.5",
                Scope::GlobalCrossRegion,
                Kind::TokensPerDay,
                "Anthropic Claude Haiku 4.5",
                false,
            ),
        ];
        for (name, scope, kind, model, doubled) in cases {
            let parsed = parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(
                parsed,
                QuotaName {
                    scope,
                    kind,
                    model: model.into(),
                    doubled_for_cross_region: doubled
                },
                "{name}"
            );
        }
    }

    #[test]
    fn other_quotas_are_not_taken_for_inference_quotas() {
        for name in [
            "Batch inference job size (in GB) for Claude 3.5 Sonnet",
            "(Knowledge Bases) Retrieve requests per second",
            "Cross-Model Max Tokens Per Day",
            "Bedrock Mantle input tokens per minute for gpt-oss-120b",
            "On-demand model inference tokens per minute for ",
        ] {
            assert_eq!(parse(name), None, "{name}");
        }
        assert!(looks_like_inference_quota(
            "Bedrock Mantle input tokens per minute for gpt-oss-120b"
        ));
        assert!(!looks_like_inference_quota(
            "Batch inference job size (in GB) for Claude 3.5 Sonnet"
        ));
        assert!(!looks_like_inference_quota(
            "CreateAgent requests per second"
        ));
    }

    #[test]
    fn quota_models_find_their_catalogue_entry_and_only_theirs() {
        let catalogue = [
            model(
                "anthropic.claude-3-5-sonnet-20241022-v2:0",
                "Anthropic",
                "Claude 3.5 Sonnet v2",
            ),
            model(
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "Anthropic",
                "Claude 3.5 Sonnet",
            ),
            model(
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "Anthropic",
                "Claude Sonnet 4.5",
            ),
            model("openai.gpt-oss-120b-1:0", "OpenAI", "gpt-oss-120b"),
            model(
                "mistral.mistral-7b-instruct-v0:2",
                "Mistral AI",
                "Mistral 7B Instruct",
            ),
        ];
        let key = |m: &str| model_key_for(m, &catalogue);
        assert_eq!(
            key("Anthropic Claude 3.5 Sonnet V2"),
            Ok(Some("anthropic.claude-3-5-sonnet-20241022".into()))
        );
        assert_eq!(
            key("Anthropic Claude 3.5 Sonnet"),
            Ok(Some("anthropic.claude-3-5-sonnet-20240620".into()))
        );
        assert_eq!(
            key("Anthropic Claude Sonnet 4.5 V1"),
            Ok(Some("anthropic.claude-sonnet-4-5-20250929".into()))
        );
        assert_eq!(
            key("OpenAI GPT OSS 120B"),
            Ok(Some("openai.gpt-oss-120b-1:0".into()))
        );
        assert_eq!(
            key("Mistral 7B Instruct"),
            Ok(Some("mistral.mistral-7b-instruct".into()))
        );
        assert_eq!(
            key("Anthropic Claude Sonnet 4.5 V1 1M Context Length"),
            Ok(None)
        );
        assert_eq!(key("Anthropic Claude Opus 4"), Ok(None));
    }

    #[test]
    fn a_model_id_tells_its_scope_and_key() {
        assert_eq!(
            Scope::of_model_id("anthropic.claude-3-haiku-20240307-v1:0"),
            Scope::OnDemand
        );
        assert_eq!(
            Scope::of_model_id("us.anthropic.claude-3-haiku-20240307-v1:0"),
            Scope::CrossRegion
        );
        assert_eq!(
            Scope::of_model_id("global.anthropic.claude-haiku-4-5-20251001-v1:0"),
            Scope::GlobalCrossRegion
        );
        assert_eq!(
            usage_model_key("eu.anthropic.claude-3-haiku-20240307-v1:0"),
            "anthropic.claude-3-haiku-20240307"
        );
        assert_eq!(Kind::parse("tokens_per_day"), Some(Kind::TokensPerDay));
        assert_eq!(Kind::parse("tpm"), None);
    }
}
