//! Billing lines as models and token kinds: what a Cost Explorer (`SERVICE`, `USAGE_TYPE`) pair
//! of Bedrock spend is.
//!
//! Two shapes (Bedrock user guide, "Understanding your Amazon Bedrock Cost and Usage Report
//! data", and Cost Explorer as users see it):
//! - Marketplace-billed models: the service is the model ("Claude 3.7 Sonnet (Amazon Bedrock
//!   Edition)"), the usage type the region and token kind:
//!   `USE1-MP:USE1_InputTokenCount-Units`, `USE1-MP:USE1_OutputTokenCount-Units`,
//!   `USE1-MP:USE1_CacheReadInputTokenCount-Units`, `USE1-MP:USE1_CacheWriteInputTokenCount-Units`
//!   (some products spell the kind `..._input_tokens_...`).
//! - First-party models ("Amazon Bedrock"): the usage type is `REGION-Model-kind`, for example
//!   `USE1-NovaLite-input-tokens`, `USW2-NovaPro-output-tokens`,
//!   `USE1-Claude3Haiku-cache-read-input-token-count`, `USE1-X-mantle-input-tokens-standard`.
//!
//! A line that fits neither shape is "unmapped": reports list it with its cost, never drop it.

use serde::{Deserialize, Serialize};

use super::spend::{AGENTCORE_SERVICE, MARKETPLACE_SERVICE_SUFFIX, is_bedrock_service};

/// What a billed quantity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    /// Bedrock spend that is not tokens (provisioned throughput, images, guardrails…).
    Other,
}

/// A billing line understood: which model, which token kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BilledLine {
    /// The model as the bill names it: the Marketplace product without its suffix
    /// ("Claude 3.7 Sonnet"), or the first-party usage type's model part ("NovaLite").
    pub model: String,
    pub kind: TokenKind,
}

/// The model and kind of a (service, usage type) pair of Bedrock spend; `None` when the service
/// is not Bedrock spend or the usage type names no model.
pub fn classify(service: &str, usage_type: &str) -> Option<BilledLine> {
    let service = service.trim();
    if !is_bedrock_service(service) {
        return None;
    }
    let kind = token_kind(usage_type);
    if let Some(product) = service.strip_suffix(MARKETPLACE_SERVICE_SUFFIX) {
        let model = product.trim();
        return (!model.is_empty()).then(|| BilledLine {
            model: model.to_string(),
            kind,
        });
    }
    if service == AGENTCORE_SERVICE {
        // Agents' runtime, memory and gateway: Bedrock spend, but no model's.
        return None;
    }
    // "Amazon Bedrock", "Amazon Bedrock Service" (newer Claude models, AWS-billed) and any
    // Bedrock service yet to come name the model in the usage type.
    first_party_model(usage_type).map(|model| BilledLine { model, kind })
}

/// The token kind a usage type names (case and separators do not matter).
pub fn token_kind(usage_type: &str) -> TokenKind {
    let squashed: String = usage_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if squashed.contains("cacheread") {
        TokenKind::CacheRead
    } else if squashed.contains("cachewrite") {
        TokenKind::CacheWrite
    } else if squashed.contains("inputtoken") {
        TokenKind::Input
    } else if squashed.contains("outputtoken") {
        TokenKind::Output
    } else {
        TokenKind::Other
    }
}

/// The model part of a first-party usage type: between the region prefix (`USE1-`) and the
/// token-kind suffix (`-input-tokens`, `-cache-read-input-token-count`, `-mantle-…`).
fn first_party_model(usage_type: &str) -> Option<String> {
    first_party_parts(usage_type).map(|(model, _)| model.to_string())
}

/// A first-party usage type's model part and what follows it (the token kind and variant).
fn first_party_parts(usage_type: &str) -> Option<(&str, &str)> {
    let (region, rest) = usage_type.split_once('-')?;
    if region.is_empty() || !region.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let lower = rest.to_ascii_lowercase();
    let cut = [
        "-mantle-",
        "-cache-read-",
        "-cache-write-",
        "-input-token",
        "-output-token",
    ]
    .iter()
    .filter_map(|marker| lower.find(marker))
    .min()?;
    let (model, tail) = rest.split_at(cut);
    (!model.is_empty()).then_some((model, tail))
}

/// A way of buying tokens that the usage type names and that has its own price: the Flex,
/// Priority and batch tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BilledTier {
    Flex,
    Priority,
    Batch,
}

/// How a usage type differs from its model's plain on-demand, in-region, standard-tier rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Variant {
    /// Global cross-region inference (`-cross-region-global`, `_Global`, `-global-`).
    pub global: bool,
    pub tier: Option<BilledTier>,
    /// A 1-hour prompt-cache write (`-1h`, `-1-hour`); 5 minutes otherwise.
    pub one_hour: bool,
}

/// The variant a usage type of Bedrock spend names, read from the words after the model (the
/// suffixes come in any order: `…-input-tokens-cross-region-global-batch`,
/// `…-text-input-tokens-priority-cross-region-global`, `MP:USW2_InputTokenCount_Global-Units`).
/// `Err` names the first word that is neither a token kind nor a known variant (`long`, `ctx`,
/// `latency`, `optimized`, `30m`, `reserved`…): such a rate is not the plain one and must not
/// be taken for it.
pub fn variant(service: &str, usage_type: &str) -> Result<Variant, String> {
    let tail = match usage_type.split_once("MP:") {
        // `USW2-MP:USW2_InputTokenCount-Units`: the words after the marketplace region.
        Some((_, marketplace)) => marketplace
            .split_once(['_', '-'])
            .map_or("", |(_, rest)| rest),
        None if service.trim().ends_with(MARKETPLACE_SERVICE_SUFFIX) => usage_type,
        None => first_party_parts(usage_type).map_or(usage_type, |(_, tail)| tail),
    };
    let mut v = Variant::default();
    for word in tail.split(['-', '_', '.', ':']).filter(|w| !w.is_empty()) {
        match word.to_ascii_lowercase().as_str() {
            "input"
            | "output"
            | "text"
            | "tokens"
            | "token"
            | "count"
            | "cache"
            | "read"
            | "write"
            | "mantle"
            | "units"
            | "inputtokencount"
            | "outputtokencount"
            | "cachereadinputtokencount"
            | "cachewriteinputtokencount"
            | "standard"
            | "cross"
            | "region"
            | "5m" => {}
            "global" => v.global = true,
            "1h" | "hour" | "1" => v.one_hour = true,
            "flex" => v.tier = Some(BilledTier::Flex),
            "priority" => v.tier = Some(BilledTier::Priority),
            "batch" => v.tier = Some(BilledTier::Batch),
            _ => return Err(word.to_string()),
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(model: &str, kind: TokenKind) -> Option<BilledLine> {
        Some(BilledLine {
            model: model.into(),
            kind,
        })
    }

    #[test]
    fn marketplace_lines_name_the_model_in_the_service() {
        let sonnet = "Claude 3.7 Sonnet (Amazon Bedrock Edition)";
        assert_eq!(
            classify(sonnet, "USE1-MP:USE1_InputTokenCount-Units"),
            line("Claude 3.7 Sonnet", TokenKind::Input)
        );
        assert_eq!(
            classify(sonnet, "USE1-MP:USE1_OutputTokenCount-Units"),
            line("Claude 3.7 Sonnet", TokenKind::Output)
        );
        assert_eq!(
            classify(sonnet, "USW2-MP:USW2_CacheReadInputTokenCount-Units"),
            line("Claude 3.7 Sonnet", TokenKind::CacheRead)
        );
        assert_eq!(
            classify(sonnet, "USE1-MP:USE1_CacheWriteInputTokenCount-Units"),
            line("Claude 3.7 Sonnet", TokenKind::CacheWrite)
        );
        assert_eq!(
            classify(
                "Llama 3.1 405B Instruct (Amazon Bedrock Edition)",
                "USE1-MP:USE1_output_tokens_llama-Units"
            ),
            line("Llama 3.1 405B Instruct", TokenKind::Output)
        );
    }

    #[test]
    fn first_party_lines_name_the_model_in_the_usage_type() {
        let bedrock = "Amazon Bedrock";
        assert_eq!(
            classify(bedrock, "USE1-NovaLite-input-tokens"),
            line("NovaLite", TokenKind::Input)
        );
        assert_eq!(
            classify(bedrock, "USW2-NovaPro-output-tokens"),
            line("NovaPro", TokenKind::Output)
        );
        assert_eq!(
            classify(bedrock, "USE1-Claude3Haiku-cache-read-input-token-count"),
            line("Claude3Haiku", TokenKind::CacheRead)
        );
        assert_eq!(
            classify(bedrock, "USE1-Llama3-1-70B-cache-write-input-token-count"),
            line("Llama3-1-70B", TokenKind::CacheWrite)
        );
        assert_eq!(
            classify(bedrock, "EUC1-GptOss120b-mantle-input-tokens-standard"),
            line("GptOss120b", TokenKind::Input)
        );
    }

    /// "Amazon Bedrock Service" bills newer Claude models directly; its usage types name the
    /// model like first-party ones, also through the Mantle endpoint.
    #[test]
    fn aws_billed_claude_lines_name_the_model_in_the_usage_type() {
        let service = "Amazon Bedrock Service";
        assert_eq!(
            classify(service, "USE1-Claude4.6Sonnet-input-tokens"),
            line("Claude4.6Sonnet", TokenKind::Input)
        );
        assert_eq!(
            classify(
                service,
                "USE1-Claude4.5Sonnet-input-tokens-cross-region-global"
            ),
            line("Claude4.5Sonnet", TokenKind::Input)
        );
        assert_eq!(
            classify(
                service,
                "USW2-Claude4.6Sonnet-cache-write-input-token-count"
            ),
            line("Claude4.6Sonnet", TokenKind::CacheWrite)
        );
        assert_eq!(
            classify(
                service,
                "USW2-anthropic.claude-opus-4-8-mantle-cache-write-tokens-standard"
            ),
            line("anthropic.claude-opus-4-8", TokenKind::CacheWrite)
        );
        // AgentCore is Bedrock spend but no model's.
        assert_eq!(
            classify("Amazon Bedrock AgentCore", "USE1-Runtime-vCPU-Hours"),
            None
        );
    }

    #[test]
    fn other_spend_is_kept_apart_and_other_services_are_not_bedrock() {
        // Bedrock spend without a model in the usage type: unmapped (None), listed by reports.
        assert_eq!(
            classify("Amazon Bedrock", "USE1-ProvisionedThroughput"),
            None
        );
        assert_eq!(classify("Amazon Bedrock", "weird"), None);
        assert_eq!(
            classify(
                "Claude 3 Haiku (Amazon Bedrock Edition)",
                "USE1-MP:USE1_Units"
            ),
            line("Claude 3 Haiku", TokenKind::Other)
        );
        assert_eq!(
            classify("Amazon Simple Storage Service", "USE1-TimedStorage-ByteHrs"),
            None
        );
    }

    #[test]
    fn variants_are_read_from_the_words_after_the_model_in_any_order() {
        let service = "Amazon Bedrock Service";
        let v = |u: &str| variant(service, u);
        assert_eq!(
            v("USE1-Claude4.5Sonnet-input-tokens"),
            Ok(Variant::default())
        );
        assert_eq!(
            v("USE1-Claude4.5Sonnet-input-tokens-cross-region-global"),
            Ok(Variant {
                global: true,
                ..Variant::default()
            })
        );
        assert_eq!(
            v("USE1-Nova2.0Lite-input-tokens-cross-region-global-batch"),
            Ok(Variant {
                global: true,
                tier: Some(BilledTier::Batch),
                one_hour: false
            })
        );
        assert_eq!(
            v("USE1-Nova2.0Pro-text-input-tokens-priority-cross-region-global"),
            Ok(Variant {
                global: true,
                tier: Some(BilledTier::Priority),
                one_hour: false
            })
        );
        assert_eq!(
            v("USE1-Claude4.5Haiku-cache-write-input-token-count-1h").map(|v| v.one_hour),
            Ok(true)
        );
        assert_eq!(
            v("USE1-Claude4Sonnet-cache-write-input-token-count-1-hour").map(|v| v.one_hour),
            Ok(true)
        );
        assert_eq!(
            v("USE1-anthropic.claude-haiku-4-5-mantle-cache-write-tokens-1h-standard"),
            Ok(Variant {
                one_hour: true,
                ..Variant::default()
            })
        );
        assert_eq!(
            v("USE1-gpt-oss-120b-output-tokens-priority").map(|v| v.tier),
            Ok(Some(BilledTier::Priority))
        );
        // Not the plain rate, and not one the tool knows: named, never taken for another.
        assert_eq!(
            v("USE1-Claude3-5Haiku-input-tokens-latency-optimized"),
            Err("latency".into())
        );
        let edition = "Claude Haiku 4.5 (Amazon Bedrock Edition)";
        assert_eq!(
            variant(edition, "USW2-MP:USW2_InputTokenCount_Global-Units").map(|v| v.global),
            Ok(true)
        );
        assert_eq!(
            variant(
                edition,
                "USW2-MP:USW2_input_tokens_long_ctx_global_standard-Units"
            ),
            Err("long".into())
        );
        assert_eq!(
            variant(edition, "APN1-MP:APN1_OutputTokenCount_Batch-Units").map(|v| v.tier),
            Ok(Some(BilledTier::Batch))
        );
    }
}
