//! Amazon Bedrock's model catalogue, which moto does not serve: `ListFoundationModels`
//! (GET /foundation-models), written from the Bedrock API reference: optional filters
//! `byProvider`, `byCustomizationType`, `byOutputModality`, `byInferenceType` (query); the
//! answer `modelSummaries[]` of `modelArn`, `modelId`, `modelName`, `providerName`,
//! `inputModalities`, `outputModalities`, `responseStreamingSupported`,
//! `customizationsSupported`, `inferenceTypesSupported`, `modelLifecycle`; not paged.
//! Errors: `ValidationException` (400) for a filter value outside its enumeration.
//!
//! The catalogue is per region and empty until a test sets one ([`StandIn::set_foundation_models`]):
//! nothing here pretends to be AWS's list.

use serde_json::{Value, json};

use super::common::{rest_error, rest_ok};
use super::{Reply, StandIn, StrictRequest};

/// A model of the catalogue, as a test sets it.
#[derive(Clone, Debug)]
pub struct FoundationModel {
    pub id: String,
    pub name: String,
    pub provider: String,
}

impl StandIn {
    /// Replaces `region`'s catalogue.
    pub fn set_foundation_models(&self, region: &str, models: Vec<FoundationModel>) {
        self.models_lock().insert(region.to_string(), models);
    }

    pub(super) fn list_foundation_models(&self, request: &StrictRequest) -> Reply {
        let query = request.path.split_once('?').map_or("", |(_, q)| q);
        let mut provider = None;
        for (key, value) in query.split('&').filter_map(|p| p.split_once('=')) {
            match key {
                "byProvider" => provider = Some(value.to_ascii_lowercase()),
                "byInferenceType" if !matches!(value, "ON_DEMAND" | "PROVISIONED") => {
                    return rest_error(
                        400,
                        "ValidationException",
                        &format!(
                            "1 validation error detected: Value '{value}' at 'byInferenceType' failed to satisfy constraint: Member must satisfy enum value set: [ON_DEMAND, PROVISIONED]"
                        ),
                        json!({}),
                    );
                }
                _ => {}
            }
        }
        let region = request
            .signing_region()
            .unwrap_or_else(|| "us-east-1".to_string());
        let models = self.models_lock().get(&region).cloned().unwrap_or_default();
        let summaries: Vec<Value> = models
            .iter()
            .filter(|m| {
                provider
                    .as_deref()
                    .is_none_or(|p| m.provider.to_ascii_lowercase() == p)
            })
            .map(|m| {
                json!({
                    "modelArn": format!("arn:aws:bedrock:{region}::foundation-model/{}", m.id),
                    "modelId": m.id,
                    "modelName": m.name,
                    "providerName": m.provider,
                    "inputModalities": ["TEXT"],
                    "outputModalities": ["TEXT"],
                    "responseStreamingSupported": true,
                    "customizationsSupported": [],
                    "inferenceTypesSupported": ["ON_DEMAND"],
                    "modelLifecycle": {"status": "ACTIVE"},
                })
            })
            .collect();
        rest_ok(200, json!({ "modelSummaries": summaries }))
    }
}
