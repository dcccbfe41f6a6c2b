//! Bedrock's applied quotas, each tied to the model and scope of calls it limits: read from
//! Service Quotas (service code `bedrock`) and placed with the model catalogue from
//! ListFoundationModels ([`names`] says how). The quota alarms take their thresholds from
//! here, and `quotas` sets the use CloudWatch measures beside them (`report::quotas`).
//!
//! Service Quotas API reference: ListServiceQuotas "Lists the applied quota values for the
//! specified Amazon Web Services service"; `MaxResults` is 1 to 100 (the botocore model's
//! `"MaxResults":{"max":100,"min":1}`), pages follow `NextToken` until it "comes back as
//! null"; a quota whose applied value is not available "is not retrieved", so a model can
//! have no quota listed, which is said, not guessed.

pub mod alarms;
pub mod names;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::cost::catalogue::CatalogModel;

pub use names::{Kind, Scope};

/// Service Quotas' code for Amazon Bedrock (the quota ARN `arn:aws:servicequotas:…:bedrock/L-…`).
pub const SERVICE_CODE: &str = "bedrock";

/// ListServiceQuotas' largest page (`MaxResults` 1–100, the API reference).
pub const PAGE_SIZE: i32 = 100;

/// A guard against an endpoint that repeats its `NextToken` forever.
const MAX_PAGES: usize = 1_000;

/// One applied per-model inference quota.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedQuota {
    pub code: String,
    pub name: String,
    pub value: f64,
    pub adjustable: bool,
    pub scope: Scope,
    pub kind: Kind,
    /// The model key ([`crate::cost::catalogue::model_key`]) of the model the name names.
    pub model_key: String,
    #[serde(skip)]
    pub doubled_for_cross_region: bool,
}

/// A quota about model inference that could not be tied to one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmappedQuota {
    pub code: String,
    pub name: String,
    pub value: f64,
    pub reason: String,
}

/// The quota that limits one kind of use of a model ID, and its value for that scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Limit<'a> {
    pub quota: &'a AppliedQuota,
    pub value: f64,
    /// Why the value is not the quota's own (a daily quota doubled for cross-Region calls).
    pub note: Option<&'static str>,
}

/// Every Bedrock quota of one account and Region, sorted out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QuotaBook {
    pub quotas: Vec<AppliedQuota>,
    pub unmapped: Vec<UnmappedQuota>,
    /// Bedrock quotas that are not about model inference (Agents, Knowledge Bases, batch jobs).
    pub other: usize,
    /// The model keys ListFoundationModels lists in this Region.
    #[serde(skip)]
    pub models: std::collections::BTreeSet<String>,
}

/// A quota as Service Quotas lists it, before it is placed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedQuota {
    pub code: String,
    pub name: String,
    pub value: f64,
    pub adjustable: bool,
}

impl QuotaBook {
    pub fn new(listed: Vec<ListedQuota>, catalogue: &[CatalogModel]) -> QuotaBook {
        let mut book = QuotaBook {
            models: catalogue
                .iter()
                .map(|m| crate::cost::catalogue::model_key(&m.id))
                .collect(),
            ..QuotaBook::default()
        };
        for q in listed {
            let unmapped = |reason: String| UnmappedQuota {
                code: q.code.clone(),
                name: q.name.clone(),
                value: q.value,
                reason,
            };
            let Some(parsed) = names::parse(&q.name) else {
                if names::looks_like_inference_quota(&q.name) {
                    book.unmapped.push(unmapped(
                        "a name of a shape this version does not read".into(),
                    ));
                } else {
                    book.other += 1;
                }
                continue;
            };
            match names::model_key_for(&parsed.model, catalogue) {
                Ok(Some(model_key)) => book.quotas.push(AppliedQuota {
                    code: q.code,
                    name: q.name,
                    value: q.value,
                    adjustable: q.adjustable,
                    scope: parsed.scope,
                    kind: parsed.kind,
                    model_key,
                    doubled_for_cross_region: parsed.doubled_for_cross_region,
                }),
                Ok(None) => book.unmapped.push(unmapped(format!(
                    "no model named {:?} in ListFoundationModels",
                    parsed.model
                ))),
                Err(keys) => book.unmapped.push(unmapped(format!(
                    "{:?} names several models ({})",
                    parsed.model,
                    keys.join(", ")
                ))),
            }
        }
        book.quotas.sort_by(|a, b| {
            (&a.model_key, a.scope, a.kind, &a.code).cmp(&(&b.model_key, b.scope, b.kind, &b.code))
        });
        book.unmapped.sort_by(|a, b| a.name.cmp(&b.name));
        book
    }

    /// The quota that limits `kind` for calls CloudWatch shows under `model_id`. A daily quota
    /// named "(doubled for cross-region calls)" limits a geographic profile's calls at twice
    /// its value; two quotas of one model, scope and kind (AWS renamed one) take the larger.
    pub fn limit(&self, model_id: &str, kind: Kind) -> Option<Limit<'_>> {
        let scope = Scope::of_model_id(model_id);
        let key = names::usage_model_key(model_id);
        let of = |scope: Scope| {
            self.quotas
                .iter()
                .filter(|q| q.model_key == key && q.kind == kind && q.scope == scope)
                .max_by(|a, b| a.value.total_cmp(&b.value))
        };
        if let Some(quota) = of(scope) {
            return Some(Limit {
                quota,
                value: quota.value,
                note: None,
            });
        }
        if kind == Kind::TokensPerDay && scope == Scope::CrossRegion {
            let quota = of(Scope::OnDemand).filter(|q| q.doubled_for_cross_region)?;
            return Some(Limit {
                quota,
                value: quota.value * 2.0,
                note: Some("the daily quota, doubled for cross-region calls"),
            });
        }
        None
    }

    /// Whether Bedrock offers the model of `model_id` (a profile's model included) here.
    pub fn offers(&self, model_id: &str) -> bool {
        self.models.contains(&names::usage_model_key(model_id))
    }

    /// The applied quotas by code, for the increase-request flow.
    pub fn by_code(&self) -> BTreeMap<&str, &AppliedQuota> {
        self.quotas.iter().map(|q| (q.code.as_str(), q)).collect()
    }
}

/// A quota or a use as people read it: rounded to a whole number, thousands grouped
/// (`1,234,567`), in `quotas`' table and on the dashboard's quota lines.
pub fn grouped(value: f64) -> String {
    let whole = value.round();
    let digits = format!("{:.0}", whole.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if whole < 0.0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Reads the quota book of the clients' account and Region: ListServiceQuotas (paged) and
/// ListFoundationModels, side by side.
pub async fn read(clients: &Clients) -> Result<QuotaBook, AwsError> {
    let (listed, catalogue) = futures::join!(
        list_applied(&clients.servicequotas),
        foundation_models(&clients.bedrock)
    );
    Ok(QuotaBook::new(listed?, &catalogue?))
}

/// Every applied Bedrock quota (ListServiceQuotas, service code `bedrock`, all pages).
pub async fn list_applied(
    client: &aws_sdk_servicequotas::Client,
) -> Result<Vec<ListedQuota>, AwsError> {
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let out = client
            .list_service_quotas()
            .service_code(SERVICE_CODE)
            .max_results(PAGE_SIZE)
            .set_next_token(token.clone())
            .send()
            .await
            .aws("servicequotas:ListServiceQuotas")?;
        for q in out.quotas() {
            let (Some(code), Some(name), Some(value)) = (q.quota_code(), q.quota_name(), q.value())
            else {
                continue;
            };
            listed.push(ListedQuota {
                code: code.to_string(),
                name: name.to_string(),
                value,
                adjustable: q.adjustable(),
            });
        }
        match out.next_token().filter(|t| !t.is_empty()) {
            Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
            _ => break,
        }
    }
    Ok(listed)
}

/// The models Bedrock offers in the client's Region (Bedrock API reference,
/// ListFoundationModels: no filter lists every model; the answer is not paged).
pub async fn foundation_models(
    bedrock: &aws_sdk_bedrock::Client,
) -> Result<Vec<CatalogModel>, AwsError> {
    let out = bedrock
        .list_foundation_models()
        .send()
        .await
        .aws("bedrock:ListFoundationModels")?;
    Ok(out
        .model_summaries()
        .iter()
        .map(|m| CatalogModel {
            id: m.model_id().to_string(),
            name: m.model_name().unwrap_or_default().to_string(),
            provider: m.provider_name().unwrap_or_default().to_string(),
        })
        .filter(|m| !m.id.is_empty() && !m.name.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(code: &str, name: &str, value: f64) -> ListedQuota {
        ListedQuota {
            code: code.into(),
            name: name.into(),
            value,
            adjustable: true,
        }
    }

    #[test]
    fn grouped_numbers_read_easily() {
        assert_eq!(grouped(1_234_567.0), "1,234,567");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(-1000.0), "-1,000");
        assert_eq!(grouped(2_499.6), "2,500");
        assert_eq!(grouped(0.0), "0");
    }

    #[test]
    fn each_call_finds_the_quota_of_its_scope() {
        let catalogue = [CatalogModel {
            id: "anthropic.claude-haiku-4-5-20251001-v1:0".into(),
            name: "Claude Haiku 4.5".into(),
            provider: "Anthropic".into(),
        }];
        let book = QuotaBook::new(
            vec![
                listed(
                    "L-1",
                    "On-demand model inference tokens per minute for Anthropic Claude Haiku 4.5",
                    100_000.0,
                ),
                listed(
                    "L-2",
                    "Cross-region model inference tokens per minute for Anthropic Claude Haiku 4.5",
                    5_000_000.0,
                ),
                listed(
                    "L-3",
                    "Global cross-region model inference tokens per minute for Anthropic Claude Haiku 4.5",
                    6_000_000.0,
                ),
                listed(
                    "L-4",
                    "Model invocation max tokens per day for Anthropic Claude Haiku 4.5 (doubled for cross-region calls)",
                    720_000_000.0,
                ),
                listed(
                    "L-5",
                    "On-demand model inference tokens per minute for Anthropic Claude Opus 9",
                    1.0,
                ),
                listed(
                    "L-6",
                    "Bedrock Mantle input tokens per minute for gpt-oss-120b",
                    2.0,
                ),
                listed("L-7", "CreateAgent requests per second", 3.0),
            ],
            &catalogue,
        );
        assert_eq!(book.quotas.len(), 4);
        assert_eq!(book.unmapped.len(), 2, "{:?}", book.unmapped);
        assert_eq!(book.other, 1);
        let value = |id: &str, kind| book.limit(id, kind).map(|l| l.value);
        let id = "anthropic.claude-haiku-4-5-20251001-v1:0";
        assert_eq!(value(id, Kind::TokensPerMinute), Some(100_000.0));
        assert_eq!(
            value(&format!("us.{id}"), Kind::TokensPerMinute),
            Some(5_000_000.0)
        );
        assert_eq!(
            value(&format!("global.{id}"), Kind::TokensPerMinute),
            Some(6_000_000.0)
        );
        assert_eq!(value(id, Kind::TokensPerDay), Some(720_000_000.0));
        assert_eq!(
            value(&format!("eu.{id}"), Kind::TokensPerDay),
            Some(1_440_000_000.0)
        );
        assert_eq!(value(&format!("global.{id}"), Kind::TokensPerDay), None);
        assert_eq!(value(id, Kind::RequestsPerMinute), None);
        assert_eq!(value("amazon.nova-lite-v1:0", Kind::TokensPerMinute), None);
    }
}
