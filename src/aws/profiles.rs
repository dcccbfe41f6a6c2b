//! Application inference profiles by the IDs calls show. CloudWatch's `ModelId`, the CUR's
//! resource ID and the invocation logs' `modelId` for a call through an application inference
//! profile are the profile's ID (or ARN), which names neither a team nor a model: one
//! `ListInferenceProfiles` call resolves them all to the profile's name and the model it routes
//! to (used for pricing). Shared by `report` and `limits`.

use std::collections::BTreeMap;

use aws_sdk_bedrock::types::InferenceProfileType;
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt};

/// What a profile row shows besides its ID.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileRef {
    pub name: String,
    pub arn: String,
    /// The foundation model it routes to (the first, for a cross-region copy), for pricing.
    pub model: String,
}

/// Whether a `ModelId` value can be an application inference profile: its ARN, or its ID
/// (12 lower-case letters and digits; model IDs always contain a `.`).
pub fn looks_like_profile(model_id: &str) -> bool {
    model_id.contains(":application-inference-profile/")
        || (model_id.len() == 12
            && model_id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// Every application profile in the region, keyed by both its ID and its ARN.
pub async fn resolve(
    bedrock: &aws_sdk_bedrock::Client,
) -> Result<BTreeMap<String, ProfileRef>, AwsError> {
    let mut found = BTreeMap::new();
    let mut next = None;
    loop {
        let page = bedrock
            .list_inference_profiles()
            .type_equals(InferenceProfileType::Application)
            .max_results(1000)
            .set_next_token(next)
            .send()
            .await
            .aws("bedrock:ListInferenceProfiles")?;
        for s in page.inference_profile_summaries() {
            let model = s
                .models()
                .first()
                .and_then(|m| m.model_arn())
                .map(|arn| arn.rsplit('/').next().unwrap_or(arn).to_string())
                .unwrap_or_default();
            let profile = ProfileRef {
                name: s.inference_profile_name().to_string(),
                arn: s.inference_profile_arn().to_string(),
                model,
            };
            found.insert(s.inference_profile_id().to_string(), profile.clone());
            found.insert(s.inference_profile_arn().to_string(), profile);
        }
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            return Ok(found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_ids_and_arns_are_told_from_model_ids() {
        assert!(looks_like_profile("a1b2c3d4e5f6"));
        assert!(looks_like_profile(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"
        ));
        assert!(!looks_like_profile(
            "anthropic.claude-3-haiku-20240307-v1:0"
        ));
        assert!(!looks_like_profile("us.amazon.nova-lite-v1:0"));
        assert!(!looks_like_profile("A1B2C3D4E5F6"));
    }
}
