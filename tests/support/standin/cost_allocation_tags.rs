//! Cost Explorer: cost-allocation tags (ListCostAllocationTags,
//! UpdateCostAllocationTagsStatus) and the tag keys billing has seen.

use serde_json::{Value, json};

use super::common::{
    check_enum, check_string, constraint_message, missing, month_start, optional_str, page,
    required_str, zoned_now,
};
use super::cost_explorer::{
    CE_DEFAULT_PAGE, ce_validation, invalid_next_token, linked_account_denied, max_results,
    string_list,
};
use super::{AccountState, DEFAULT_ACCOUNT, Reply, StandIn};

/// A cost-allocation tag key AWS has seen on billed usage.
#[derive(Clone, Debug, PartialEq)]
pub struct CostAllocationTag {
    pub account: String,
    pub key: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// `UserDefined` (the stand-in knows no AWS-generated tags).
    pub tag_type: String,
    /// When the status last changed through the API (`LastUpdatedDate`).
    pub last_updated: Option<String>,
    /// `LastUsedDate`: when billing last saw the key.
    pub last_used: String,
}

impl StandIn {
    /// AWS has seen these tag keys on billed usage of the default account: they are listed as
    /// `Inactive` user-defined cost-allocation tags until activated. Keys already known keep
    /// their status.
    pub fn tag_keys_seen_in_billing(&self, keys: &[&str]) {
        self.tag_keys_seen_in_billing_of(DEFAULT_ACCOUNT, keys);
    }

    /// [`Self::tag_keys_seen_in_billing`] for another account.
    pub fn tag_keys_seen_in_billing_of(&self, account: &str, keys: &[&str]) {
        let mut state = self.lock();
        let acct = state.account(account);
        let month = month_start();
        for key in keys {
            acct.cost_allocation_tags
                .entry(key.to_string())
                .or_insert_with(|| CostAllocationTag {
                    account: account.to_string(),
                    key: key.to_string(),
                    status: "Inactive".into(),
                    tag_type: "UserDefined".into(),
                    last_updated: None,
                    last_used: month.clone(),
                });
        }
    }

    /// Every cost-allocation tag key billing has seen, all accounts.
    pub fn cost_allocation_tags(&self) -> Vec<CostAllocationTag> {
        self.collect(|a| a.cost_allocation_tags.values().cloned().collect())
    }

    /// The keys of the default account's active cost-allocation tags.
    pub fn active_cost_allocation_tags(&self) -> Vec<String> {
        self.cost_allocation_tags()
            .into_iter()
            .filter(|t| t.account == DEFAULT_ACCOUNT && t.status == "Active")
            .map(|t| t.key)
            .collect()
    }
}

fn cost_allocation_tag_json(t: &CostAllocationTag) -> Value {
    let mut v = json!({
        "TagKey": t.key,
        "Type": t.tag_type,
        "Status": t.status,
        "LastUsedDate": t.last_used,
    });
    if let (Some(d), Some(o)) = (&t.last_updated, v.as_object_mut()) {
        o.insert("LastUpdatedDate".into(), json!(d));
    }
    v
}

/// Cost Explorer API reference, ListCostAllocationTags: optional filters `Status`
/// (Active|Inactive), `TagKeys` (1–100 keys), `Type` (AWSGenerated|UserDefined); `MaxResults`
/// 1–1000, 100 by default; `NextToken` (InvalidNextTokenException when not valid). The list
/// holds only keys billing has seen (Billing user guide, "Activating user-defined cost
/// allocation tags": a tag key appears on the Cost allocation tags page after AWS has seen it on
/// a resource's billed usage, up to 24 hours after it is applied).
pub(super) fn list_cost_allocation_tags(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    if acct.member {
        return Err(linked_account_denied("list Cost Allocation Tags"));
    }
    let status = optional_str(body, "Status", "status").map_err(ce_validation)?;
    if let Some(s) = status {
        check_enum(s, "status", &["Active", "Inactive"]).map_err(ce_validation)?;
    }
    let kind = optional_str(body, "Type", "type").map_err(ce_validation)?;
    if let Some(k) = kind {
        check_enum(k, "type", &["AWSGenerated", "UserDefined"]).map_err(ce_validation)?;
    }
    let keys = string_list(body, "TagKeys")?;
    if !body["TagKeys"].is_null() && !(1..=100).contains(&keys.len()) {
        return Err(ce_validation(constraint_message(
            &format!("{keys:?}"),
            "tagKeys",
            "Member must have length between 1 and 100",
        )));
    }
    for key in &keys {
        check_string(key, "tagKeys.member", 0, 1024, None).map_err(ce_validation)?;
    }
    let max = max_results(body, "MaxResults", 1000, CE_DEFAULT_PAGE)?;
    let token = optional_str(body, "NextToken", "nextToken").map_err(ce_validation)?;
    let items: Vec<Value> = acct
        .cost_allocation_tags
        .values()
        .filter(|t| status.is_none_or(|s| t.status == s))
        .filter(|t| kind.is_none_or(|k| t.tag_type == k))
        .filter(|t| keys.is_empty() || keys.contains(&t.key.as_str()))
        .map(cost_allocation_tag_json)
        .collect();
    let scope = format!("ListCostAllocationTags|{status:?}|{kind:?}|{keys:?}");
    let (items, next) = page(&items, token, max, &scope).map_err(|()| invalid_next_token())?;
    let mut out = json!({ "CostAllocationTags": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

/// Cost Explorer API reference, UpdateCostAllocationTagsStatus: "Updates status for cost
/// allocation tags in bulk, with maximum batch size of 20" (1–20 entries, else a validation
/// error); setting the status a tag already has "doesn't have any effect". A key that cannot be
/// updated is not an error of the call: HTTP 200 with an `Errors` entry per key. The reference's
/// Example 2 shows the entry for a key AWS does not know: `{"TagKey": "tagC", "Code":
/// "TagKeysNotFoundException", "Message": "Failed to update Cost Allocation Tag: tagC"}`.
pub(super) fn update_cost_allocation_tags(
    acct: &mut AccountState,
    body: &Value,
) -> Result<Value, Reply> {
    if acct.member {
        return Err(linked_account_denied("update Cost Allocation Tag"));
    }
    let entries = match &body["CostAllocationTagsStatus"] {
        Value::Null => return Err(ce_validation(missing("costAllocationTagsStatus"))),
        Value::Array(a) => a,
        other => {
            return Err(ce_validation(format!(
                "Value {other} at 'costAllocationTagsStatus' is not a list"
            )));
        }
    };
    if entries.is_empty() || entries.len() > 20 {
        let constraint = if entries.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 20"
        };
        return Err(ce_validation(constraint_message(
            &format!("[{} entries]", entries.len()),
            "costAllocationTagsStatus",
            constraint,
        )));
    }
    let mut updates = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = |m: &str| format!("costAllocationTagsStatus.{}.member.{m}", i + 1);
        let key = required_str(entry, "TagKey", &field("tagKey")).map_err(ce_validation)?;
        check_string(key, &field("tagKey"), 0, 1024, None).map_err(ce_validation)?;
        let status = required_str(entry, "Status", &field("status")).map_err(ce_validation)?;
        check_enum(status, &field("status"), &["Active", "Inactive"]).map_err(ce_validation)?;
        updates.push((key, status));
    }
    let mut errors = Vec::new();
    for (key, status) in updates {
        match acct.cost_allocation_tags.get_mut(key) {
            Some(tag) => {
                if tag.status != status {
                    tag.status = status.to_string();
                    tag.last_updated = Some(zoned_now());
                }
            }
            None => errors.push(json!({
                "TagKey": key,
                "Code": "TagKeysNotFoundException",
                "Message": format!("Failed to update Cost Allocation Tag: {key}"),
            })),
        }
    }
    Ok(json!({ "Errors": errors }))
}
