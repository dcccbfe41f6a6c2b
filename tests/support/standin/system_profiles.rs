//! Amazon Bedrock's system-defined (cross-Region) inference profiles: the built-in catalogue an
//! application inference profile may be copied from.

use serde_json::{Value, json};

use super::Ctx;

/// A system-defined (cross-Region) inference profile of the built-in catalogue.
pub(super) struct SystemProfile {
    pub(super) id: &'static str,
    name: &'static str,
    /// The foundation model's ID.
    model: &'static str,
    model_name: &'static str,
    /// Source Regions, which are also the destination Regions here.
    regions: &'static [&'static str],
}

const US_REGIONS: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];
const EU_REGIONS: &[&str] = &["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"];
/// The APAC geography reaches beyond `ap-` regions: the AWS CDK's CrossRegionInferenceProfile
/// Region reference lists Middle East (UAE) `me-central-1` among APAC's.
const APAC_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "me-central-1",
];
const JP_REGIONS: &[&str] = &["ap-northeast-1", "ap-northeast-3"];
const AU_REGIONS: &[&str] = &["ap-southeast-2", "ap-southeast-4"];
const CA_REGIONS: &[&str] = &["ca-central-1", "ca-west-1"];
const IN_REGIONS: &[&str] = &["ap-south-1", "ap-south-2"];
/// "The destination Regions for Global cross-Region inference profiles include all commercial
/// Regions" (user guide); a few of them here.
const GLOBAL_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "ap-northeast-1",
    "sa-east-1",
];

/// Amazon Bedrock User Guide, "Supported Regions and models for inference profiles": a
/// cross-Region (system-defined) profile is named after its model, carries a geography prefix
/// (`us.`, `eu.`, `apac.`, `global.`), is callable from its source Regions and routes to its
/// destination Regions; GetInferenceProfile's `models` lists one foundation-model ARN per
/// destination Region. The Region lists here are the guide's US and EU sets for these models as
/// of 2025; the guide notes some profiles route differently depending on the source Region, which
/// this small catalogue does not model (every source Region routes to all of its geography's).
/// One profile per other geography prefix the tool accepts (`apac.`, `jp.`, `au.`, `ca.`,
/// `in.`, `global.`) is shaped the same way, with a plausible region set for the geography,
/// so that each prefix can be created and read back.
pub(super) const SYSTEM_PROFILES: &[SystemProfile] = &[
    SystemProfile {
        id: "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        name: "US Anthropic Claude 3.7 Sonnet",
        model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        model_name: "Anthropic Claude 3.7 Sonnet",
        regions: US_REGIONS,
    },
    SystemProfile {
        id: "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        name: "US Anthropic Claude 3.5 Haiku",
        model: "anthropic.claude-3-5-haiku-20241022-v1:0",
        model_name: "Anthropic Claude 3.5 Haiku",
        regions: US_REGIONS,
    },
    SystemProfile {
        id: "us.amazon.nova-lite-v1:0",
        name: "US Nova Lite",
        model: "amazon.nova-lite-v1:0",
        model_name: "Nova Lite",
        regions: US_REGIONS,
    },
    SystemProfile {
        id: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
        name: "EU Anthropic Claude 3.7 Sonnet",
        model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        model_name: "Anthropic Claude 3.7 Sonnet",
        regions: EU_REGIONS,
    },
    SystemProfile {
        id: "apac.anthropic.claude-sonnet-4-20250514-v1:0",
        name: "APAC Anthropic Claude Sonnet 4",
        model: "anthropic.claude-sonnet-4-20250514-v1:0",
        model_name: "Anthropic Claude Sonnet 4",
        regions: APAC_REGIONS,
    },
    SystemProfile {
        id: "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "JP Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: JP_REGIONS,
    },
    SystemProfile {
        id: "au.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "AU Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: AU_REGIONS,
    },
    SystemProfile {
        id: "ca.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "CA Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: CA_REGIONS,
    },
    SystemProfile {
        id: "in.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "IN Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: IN_REGIONS,
    },
    SystemProfile {
        id: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "Global Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: GLOBAL_REGIONS,
    },
];

/// When the catalogue's profiles were created, as GetInferenceProfile shows it.
const SYSTEM_PROFILE_CREATED: &str = "2025-02-24T00:00:00Z";

impl SystemProfile {
    pub(super) fn available_in(&self, region: &str) -> bool {
        self.regions.contains(&region)
    }

    fn arn(&self, ctx: &Ctx) -> String {
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{}",
            ctx.region, ctx.account, self.id
        )
    }

    pub(super) fn models(&self) -> Vec<String> {
        self.regions
            .iter()
            .map(|r| format!("arn:aws:bedrock:{r}::foundation-model/{}", self.model))
            .collect()
    }

    pub(super) fn json(&self, ctx: &Ctx) -> Value {
        let regions = match self.regions {
            [] => String::new(),
            [one] => one.to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        json!({
            "inferenceProfileName": self.name,
            "description": format!("Routes requests to {} in {regions}.", self.model_name),
            "createdAt": SYSTEM_PROFILE_CREATED,
            "updatedAt": SYSTEM_PROFILE_CREATED,
            "inferenceProfileArn": self.arn(ctx),
            "models": self.models().iter().map(|m| json!({"modelArn": m})).collect::<Vec<_>>(),
            "inferenceProfileId": self.id,
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        })
    }
}
