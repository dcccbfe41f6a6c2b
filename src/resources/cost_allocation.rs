//! `cost-allocation-tags`: activates tag keys for cost allocation, so that Cost Explorer,
//! budgets and the CUR can split Bedrock spend by team (`[cost_allocation] activate`, by
//! default every key of `[stack.tags]` and of the inference profiles' tags).
//!
//! Activation is account-wide and only possible in the management (payer) or a standalone
//! account. AWS lists a key only after it has seen it on billed usage (up to 24 hours after the
//! first tagged usage); until then it cannot be activated: such a key is *pending*, not a
//! failure, and a later `apply` activates it. `UpdateCostAllocationTagsStatus` answers HTTP
//! 200 even when a key fails, with a per-key `Errors` list. `cleanup` leaves keys active:
//! other tools and reports share them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_costexplorer::types::{CostAllocationTagStatus, CostAllocationTagStatusEntry};
use serde_json::json;

use crate::aws::{AwsError, AwsResultExt};
use crate::engine::{
    ComponentId, Context, Diff, FieldChange, Health, HealthLevel, Ownership, Permission, Resource,
};

pub struct CostAllocationTags;

/// The configured keys as Cost Explorer lists them: `Active`, `Inactive`, or absent (not yet
/// seen on billed usage).
#[derive(Debug, Clone, Default)]
pub struct TagStatuses {
    pub keys: BTreeMap<String, Option<String>>,
}

/// ListCostAllocationTags filters on at most 100 keys; UpdateCostAllocationTagsStatus takes at
/// most 20 per request.
const LIST_BATCH: usize = 100;
const UPDATE_BATCH: usize = 20;

const ACTIVE: &str = "Active";

impl TagStatuses {
    fn to_activate(&self) -> Vec<&String> {
        self.keys
            .iter()
            .filter(|(_, s)| s.as_deref().is_some_and(|s| s != ACTIVE))
            .map(|(k, _)| k)
            .collect()
    }

    fn pending(&self) -> Vec<&String> {
        self.keys
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(k, _)| k)
            .collect()
    }
}

fn pending_note(keys: &[&String]) -> String {
    format!(
        "pending: {} not yet seen by AWS on billed usage (this takes up to 24 hours after the first tagged usage); a later `bedrock-monitor apply` activates {}",
        keys.iter()
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        if keys.len() == 1 { "it" } else { "them" }
    )
}

#[async_trait]
impl Resource for CostAllocationTags {
    type State = TagStatuses;

    fn id(&self) -> ComponentId {
        ComponentId::CostAllocationTags
    }

    /// An optional component: only when its section asks for it.
    fn configured(&self, config: &crate::config::Config) -> bool {
        config.cost_allocation.as_ref().is_some_and(|c| c.enabled)
    }

    /// Billing keeps it for the payer account: once, in the caller's own account.
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Payer
    }

    fn name(&self, cx: &Context) -> String {
        match cx.config.cost_allocation_keys().len() {
            1 => "1 tag key".into(),
            n => format!("{n} tag keys"),
        }
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        cx.require_payer("cost-allocation tags", "cost_allocation")
            .await?;
        let wanted = cx.config.cost_allocation_keys();
        let mut keys: BTreeMap<String, Option<String>> =
            wanted.iter().map(|k| (k.clone(), None)).collect();
        for batch in wanted.chunks(LIST_BATCH) {
            let mut next = None;
            loop {
                let page = cx
                    .aws
                    .costexplorer
                    .list_cost_allocation_tags()
                    .set_tag_keys(Some(batch.to_vec()))
                    .max_results(1000)
                    .set_next_token(next)
                    .send()
                    .await
                    .aws("ce:ListCostAllocationTags")?;
                for t in page.cost_allocation_tags() {
                    if let Some(slot) = keys.get_mut(t.tag_key()) {
                        *slot = Some(t.status().as_str().to_string());
                    }
                }
                next = page.next_token().map(str::to_string);
                if next.is_none() {
                    break;
                }
            }
        }
        Ok(TagStatuses { keys })
    }

    fn diff(&self, _cx: &Context, state: &Self::State) -> Diff {
        let changes: Vec<FieldChange> = state
            .to_activate()
            .into_iter()
            .map(|k| FieldChange {
                field: format!("keys.{k}"),
                old: json!(state.keys.get(k).cloned().flatten()),
                new: json!(ACTIVE),
            })
            .collect();
        let mut diff = Diff::of(changes, true);
        let pending = state.pending();
        if !pending.is_empty() {
            diff.notes.push(pending_note(&pending));
        }
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, _diff: &Diff) -> Result<(), AwsError> {
        let keys = state.to_activate();
        let mut refused = Vec::new();
        // Keys AWS does not list yet, and keys it refused as not found in billing data.
        let mut not_yet_billed: Vec<String> = state.pending().into_iter().cloned().collect();
        for batch in keys.chunks(UPDATE_BATCH) {
            let entries = batch
                .iter()
                .map(|k| {
                    CostAllocationTagStatusEntry::builder()
                        .tag_key(k.as_str())
                        .status(CostAllocationTagStatus::Active)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = cx
                .aws
                .costexplorer
                .update_cost_allocation_tags_status()
                .set_cost_allocation_tags_status(Some(entries))
                .send()
                .await
                .aws("ce:UpdateCostAllocationTagsStatus")?;
            // HTTP 200 with per-key errors: a key AWS has not seen on billed usage yet is
            // pending, anything else a failure of this step.
            for e in out.errors() {
                let key = e.tag_key().unwrap_or_default().to_string();
                let code = e.code().unwrap_or_default();
                let message = e.message().unwrap_or_default();
                if code.contains("NotFound")
                    || message.to_ascii_lowercase().contains("not found")
                    || message.to_ascii_lowercase().contains("no usage")
                {
                    not_yet_billed.push(key);
                } else {
                    refused.push(format!("{key:?}: {code} {message}"));
                }
            }
        }
        if !not_yet_billed.is_empty() {
            let refs: Vec<&String> = not_yet_billed.iter().collect();
            cx.notice(format!("cost-allocation-tags: {}", pending_note(&refs)));
        }
        if !refused.is_empty() {
            return Err(AwsError {
                operation: "ce:UpdateCostAllocationTagsStatus".into(),
                code: Some("KeyNotActivated".into()),
                message: format!(
                    "AWS did not activate {}",
                    refused.join("; ")
                ),
                hint: Some("check the key names in [cost_allocation] activate; at most 500 user-defined keys can be active in an account".into()),
                details: None,
            });
        }
        Ok(())
    }

    fn ownership(&self, _cx: &Context, state: &Self::State) -> Ownership {
        if state.keys.values().all(Option::is_none) {
            return Ownership::Missing;
        }
        Ownership::Managed {
            evidence: "the keys [cost_allocation] names (activation is account-wide)".into(),
        }
    }

    fn health(&self, _cx: &Context, state: &Self::State) -> Vec<Health> {
        state
            .keys
            .iter()
            .map(|(k, s)| match s.as_deref() {
                Some(ACTIVE) => Health {
                    subject: k.clone(),
                    level: HealthLevel::Ok,
                    detail: "active".into(),
                },
                Some(other) => Health {
                    subject: k.clone(),
                    level: HealthLevel::Warning,
                    detail: format!("{}: `bedrock-monitor apply` activates it", other.to_ascii_lowercase()),
                },
                None => Health {
                    subject: k.clone(),
                    level: HealthLevel::Warning,
                    detail: "pending: not yet seen on billed usage (up to 24 hours after the first tagged usage)".into(),
                },
            })
            .collect()
    }

    fn permissions(&self, _cx: &Context) -> Vec<Permission> {
        vec![
            // Cost Explorer's tag APIs take no resource.
            Permission::new(
                &[
                    "ce:ListCostAllocationTags",
                    "ce:UpdateCostAllocationTagsStatus",
                ],
                ["*".to_string()],
            ),
            Permission::new(&["organizations:DescribeOrganization"], ["*".to_string()]),
        ]
    }

    /// Never called by `cleanup` (it keeps this component: see the module comment).
    async fn delete(&self, _cx: &Context, _state: &Self::State) -> Result<(), AwsError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unseen_keys_are_pending_not_changes() {
        let state = TagStatuses {
            keys: [
                ("Team".to_string(), Some("Inactive".to_string())),
                ("CostCenter".to_string(), None),
                ("Project".to_string(), Some("Active".to_string())),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(state.to_activate(), vec!["Team"]);
        assert_eq!(state.pending(), vec!["CostCenter"]);
    }
}
