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

use serde::Serialize;

use super::spend::{FIRST_PARTY_SERVICE, MARKETPLACE_SERVICE_SUFFIX, is_bedrock_service};

/// What a billed quantity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
    debug_assert_eq!(service, FIRST_PARTY_SERVICE);
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
    let model = &rest[..cut];
    (!model.is_empty()).then(|| model.to_string())
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
}
