//! The Amazon Bedrock quotas a test can seed into the Service Quotas stand-in
//! (`service_quotas.rs`), and the models they belong to, so that quota names and the model
//! catalogue (`models.rs`, ListFoundationModels) agree as they do in AWS.
//!
//! Every quota code and name below is one AWS publishes for service code `bedrock`: the names
//! ListServiceQuotas returns today ("… model inference …", with AWS's own mix of
//! "Cross-region"/"Cross-Region" and the "(doubled for cross-region calls)" suffix of the
//! per-day quotas), as listed in a public dump of the Service Quotas catalogue and in live reads
//! quoted in public repositories (see /tmp/research-31.md, section a, for each source). One
//! quota keeps the name the AWS General Reference gave its code in 2025 ("Cross-region
//! InvokeModel tokens per minute for Anthropic Claude 3 Haiku", L-DCADBC78, since renamed "…
//! model inference …"): accounts and documents still show both generations, and the Bedrock
//! user guide's quota pages use the "InvokeModel" form.
//!
//! Values: where a source gives one it is used (the General Reference's us-east-1 defaults for
//! Claude 3 Haiku and Claude 3.5 Sonnet v2, a live read of 5,000,000 for Claude Haiku 4.5's
//! cross-region tokens per minute, 20,000 for the 1M-context Sonnet 4.5 quota); the others are
//! chosen, of the same order. Tokens per day follow the user guide's rule "By default, this
//! value is the per-minute quota multiplied by 24 × 60" ("Quotas for the bedrock-runtime
//! endpoint"). Adjustable: tokens per minute yes, requests per minute and tokens per day no, as
//! the General Reference marks them.
//!
//! Requests per minute: AWS stopped enforcing them in May 2026 ("Amazon Bedrock no longer
//! enforces requests-per-minute (RPM) quotas … RPM rows have been removed", AWS release notes)
//! but accounts list them for older models; the set keeps them for the older models and has
//! none for Claude Haiku 4.5, so both cases are served.

use super::models::FoundationModel;

/// Scope of a quota, as issue 31 names them: on-demand in one Region.
pub const ON_DEMAND: &str = "on_demand";
/// Geographic cross-Region inference profiles (`us.…`, `eu.…`).
pub const CROSS_REGION: &str = "cross_region";
/// Global cross-Region inference profiles (`global.…`).
pub const GLOBAL_CROSS_REGION: &str = "global_cross_region";
/// The model in every scope: "Model invocation max tokens per day for <model> (doubled for
/// cross-region calls)".
pub const ANY_SCOPE: &str = "any";

pub const TOKENS_PER_MINUTE: &str = "tokens_per_minute";
pub const REQUESTS_PER_MINUTE: &str = "requests_per_minute";
pub const TOKENS_PER_DAY: &str = "tokens_per_day";

/// One quota of the default set, with what a correct mapping makes of its name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DefaultQuota {
    pub code: &'static str,
    pub name: &'static str,
    pub value: f64,
    pub adjustable: bool,
    /// The ListFoundationModels `modelId` the quota belongs to; `None` for a quota no model of
    /// the catalogue has (not a model's, or a model or variant the catalogue lacks).
    pub model_id: Option<&'static str>,
    /// One of the scope constants above (`None` with `model_id`).
    pub scope: Option<&'static str>,
    /// One of the kind constants above (`None` with `model_id`).
    pub kind: Option<&'static str>,
}

const fn model(
    code: &'static str,
    name: &'static str,
    value: f64,
    model_id: &'static str,
    scope: &'static str,
    kind: &'static str,
) -> DefaultQuota {
    DefaultQuota {
        code,
        name,
        value,
        // The General Reference marks the tokens-per-minute quotas adjustable and the
        // requests-per-minute ones not; the per-day ones are "adjustable": false in live reads.
        adjustable: matches!(kind.as_bytes(), b"tokens_per_minute"),
        model_id: Some(model_id),
        scope: Some(scope),
        kind: Some(kind),
    }
}

const fn unmapped(
    code: &'static str,
    name: &'static str,
    value: f64,
    adjustable: bool,
) -> DefaultQuota {
    DefaultQuota {
        code,
        name,
        value,
        adjustable,
        model_id: None,
        scope: None,
        kind: None,
    }
}

const CLAUDE_3_HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const CLAUDE_3_5_SONNET_V2: &str = "anthropic.claude-3-5-sonnet-20241022-v2:0";
const CLAUDE_HAIKU_4_5: &str = "anthropic.claude-haiku-4-5-20251001-v1:0";
const CLAUDE_SONNET_4_5: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const NOVA_LITE: &str = "amazon.nova-lite-v1:0";
const TITAN_EMBED_V2: &str = "amazon.titan-embed-text-v2:0";
const GPT_OSS_120B: &str = "openai.gpt-oss-120b-1:0";

/// The models the default quotas name, as ListFoundationModels gives them (`modelId`,
/// `modelName`, `providerName`, from published ListFoundationModels answers). Their names differ
/// from the quota names as AWS's do: "Claude 3.5 Sonnet v2" against "… Claude 3.5 Sonnet V2",
/// "Claude Sonnet 4.5" against "… Claude Sonnet 4.5 V1", "gpt-oss-120b" against "OpenAI GPT OSS
/// 120B".
pub fn bedrock_quota_models() -> Vec<FoundationModel> {
    [
        (CLAUDE_3_HAIKU, "Claude 3 Haiku", "Anthropic"),
        (CLAUDE_3_5_SONNET_V2, "Claude 3.5 Sonnet v2", "Anthropic"),
        (CLAUDE_HAIKU_4_5, "Claude Haiku 4.5", "Anthropic"),
        (CLAUDE_SONNET_4_5, "Claude Sonnet 4.5", "Anthropic"),
        (NOVA_LITE, "Nova Lite", "Amazon"),
        (TITAN_EMBED_V2, "Titan Text Embeddings V2", "Amazon"),
        (GPT_OSS_120B, "gpt-oss-120b", "OpenAI"),
    ]
    .into_iter()
    .map(|(id, name, provider)| FoundationModel {
        id: id.to_string(),
        name: name.to_string(),
        provider: provider.to_string(),
    })
    .collect()
}

/// The default Bedrock quota set, in the order ListServiceQuotas lists it.
pub const DEFAULT_BEDROCK_QUOTAS: [DefaultQuota; 26] = [
    // Claude 3 Haiku: on-demand and geographic cross-Region, both kinds.
    model(
        "L-8CE99163",
        "On-demand model inference tokens per minute for Anthropic Claude 3 Haiku",
        2_000_000.0,
        CLAUDE_3_HAIKU,
        ON_DEMAND,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-2DC80978",
        "On-demand model inference requests per minute for Anthropic Claude 3 Haiku",
        1_000.0,
        CLAUDE_3_HAIKU,
        ON_DEMAND,
        REQUESTS_PER_MINUTE,
    ),
    model(
        "L-DCADBC78",
        "Cross-region InvokeModel tokens per minute for Anthropic Claude 3 Haiku",
        4_000_000.0,
        CLAUDE_3_HAIKU,
        CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-616A3F5B",
        "Cross-region model inference requests per minute for Anthropic Claude 3 Haiku",
        2_000.0,
        CLAUDE_3_HAIKU,
        CROSS_REGION,
        REQUESTS_PER_MINUTE,
    ),
    // Claude 3.5 Sonnet v2: capital-R "Cross-Region", "V2" against the catalogue's "v2".
    model(
        "L-FF8B4E28",
        "Cross-Region model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2",
        800_000.0,
        CLAUDE_3_5_SONNET_V2,
        CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-1D3E59A3",
        "Cross-Region model inference requests per minute for Anthropic Claude 3.5 Sonnet V2",
        100.0,
        CLAUDE_3_5_SONNET_V2,
        CROSS_REGION,
        REQUESTS_PER_MINUTE,
    ),
    // Claude Haiku 4.5: tokens only (no requests-per-minute quotas), global tokens per day.
    model(
        "L-58BE175A",
        "Cross-region model inference tokens per minute for Anthropic Claude Haiku 4.5",
        5_000_000.0,
        CLAUDE_HAIKU_4_5,
        CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-9A11C666",
        "Global cross-region model inference tokens per minute for Anthropic Claude Haiku 4.5",
        6_000_000.0,
        CLAUDE_HAIKU_4_5,
        GLOBAL_CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-6120CF2D",
        "Model invocation max tokens per day for Anthropic Claude Haiku 4.5 (doubled for cross-region calls)",
        7_200_000_000.0,
        CLAUDE_HAIKU_4_5,
        ANY_SCOPE,
        TOKENS_PER_DAY,
    ),
    model(
        "L-B5C049AE",
        "Global cross-region model inference tokens per day for Anthropic Claude Haiku 4.5",
        8_640_000_000.0,
        CLAUDE_HAIKU_4_5,
        GLOBAL_CROSS_REGION,
        TOKENS_PER_DAY,
    ),
    // Claude Sonnet 4.5: "V1" the catalogue's name lacks; geographic and global, both kinds.
    model(
        "L-F4DDD3EB",
        "Cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1",
        2_000_000.0,
        CLAUDE_SONNET_4_5,
        CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-4A6BFAB1",
        "Cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5 V1",
        200.0,
        CLAUDE_SONNET_4_5,
        CROSS_REGION,
        REQUESTS_PER_MINUTE,
    ),
    model(
        "L-27C57EE8",
        "Global cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1",
        4_000_000.0,
        CLAUDE_SONNET_4_5,
        GLOBAL_CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-DB84CE56",
        "Global cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5 V1",
        400.0,
        CLAUDE_SONNET_4_5,
        GLOBAL_CROSS_REGION,
        REQUESTS_PER_MINUTE,
    ),
    model(
        "L-381AD9EE",
        "Model invocation max tokens per day for Anthropic Claude Sonnet 4.5 V1 (doubled for cross-region calls)",
        2_880_000_000.0,
        CLAUDE_SONNET_4_5,
        ANY_SCOPE,
        TOKENS_PER_DAY,
    ),
    // Amazon Nova Lite: geographic cross-Region only.
    model(
        "L-7C42E72A",
        "Cross-region model inference tokens per minute for Amazon Nova Lite",
        2_000_000.0,
        NOVA_LITE,
        CROSS_REGION,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-89F8391A",
        "Cross-region model inference requests per minute for Amazon Nova Lite",
        2_000.0,
        NOVA_LITE,
        CROSS_REGION,
        REQUESTS_PER_MINUTE,
    ),
    // Titan Text Embeddings V2: on-demand only.
    model(
        "L-DE641971",
        "On-demand model inference tokens per minute for Amazon Titan Text Embeddings V2",
        300_000.0,
        TITAN_EMBED_V2,
        ON_DEMAND,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-26C560CE",
        "On-demand model inference requests per minute for Amazon Titan Text Embeddings V2",
        2_000.0,
        TITAN_EMBED_V2,
        ON_DEMAND,
        REQUESTS_PER_MINUTE,
    ),
    // gpt-oss-120b: on-demand, both kinds, and tokens per day.
    model(
        "L-9DC5F595",
        "On-demand model inference tokens per minute for OpenAI GPT OSS 120B",
        1_000_000.0,
        GPT_OSS_120B,
        ON_DEMAND,
        TOKENS_PER_MINUTE,
    ),
    model(
        "L-25B50707",
        "On-demand model inference requests per minute for OpenAI GPT OSS 120B",
        1_000.0,
        GPT_OSS_120B,
        ON_DEMAND,
        REQUESTS_PER_MINUTE,
    ),
    model(
        "L-41FDDA6B",
        "Model invocation max tokens per day for OpenAI GPT OSS 120B (doubled for cross-region calls)",
        1_440_000_000.0,
        GPT_OSS_120B,
        ANY_SCOPE,
        TOKENS_PER_DAY,
    ),
    // No model of the catalogue: the 1M-context variant of Sonnet 4.5 (not a model of its own
    // in ListFoundationModels), a model the catalogue lacks, and quotas that are not a model's
    // inference quotas.
    unmapped(
        "L-8EA73537",
        "Cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5 V1 1M Context Length",
        20_000.0,
        true,
    ),
    unmapped(
        "L-17F95AA4",
        "On-demand model inference tokens per minute for Cohere Command R",
        300_000.0,
        true,
    ),
    unmapped(
        "L-6284B54D",
        "Batch inference job size (in GB) for Claude 3.5 Sonnet",
        5.0,
        false,
    ),
    unmapped(
        "L-F0D0E0B9",
        "(Knowledge Bases) Retrieve requests per second",
        20.0,
        false,
    ),
];
