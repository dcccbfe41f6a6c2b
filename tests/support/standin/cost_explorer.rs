//! Cost Explorer (awsJson 1.1, `X-Amz-Target: AWSInsightsIndexService.<Op>`, signing name
//! `ce`): the dispatch of its operations, what they share (errors, limits, paging, resource
//! tags, expressions) and the tagging of its resources. Each kind of resource has a file of its
//! own: `cost_allocation_tags.rs`, `anomaly_monitors.rs`, `anomaly_subscriptions.rs`,
//! `cost_categories.rs` (their rules in `cost_category_rules.rs`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::anomaly_monitors::{create_monitor, delete_monitor, get_monitors, update_monitor};
use super::anomaly_subscriptions::{
    create_subscription, delete_subscription, get_subscriptions, update_subscription,
};
use super::common::{
    anchored, check_string, constraint_message, json_error, json_ok, missing, optional_list, pat,
    required_str,
};
use super::cost_allocation_tags::{list_cost_allocation_tags, update_cost_allocation_tags};
use super::cost_categories::{
    cost_categories_denied, create_cost_category, delete_cost_category, describe_cost_category,
    list_cost_categories, update_cost_category,
};
use super::{AccountState, Reply, StandIn, StrictRequest};

/// The Cost Explorer operations answered here (tagging only for anomaly monitors and
/// subscriptions and cost categories, the resources the stand-in holds; any other ARN is moto's).
const CE_OPERATIONS: [&str; 18] = [
    "ListCostAllocationTags",
    "UpdateCostAllocationTagsStatus",
    "CreateCostCategoryDefinition",
    "DescribeCostCategoryDefinition",
    "UpdateCostCategoryDefinition",
    "DeleteCostCategoryDefinition",
    "ListCostCategoryDefinitions",
    "CreateAnomalyMonitor",
    "GetAnomalyMonitors",
    "UpdateAnomalyMonitor",
    "DeleteAnomalyMonitor",
    "CreateAnomalySubscription",
    "GetAnomalySubscriptions",
    "UpdateAnomalySubscription",
    "DeleteAnomalySubscription",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Default page sizes. Cost Explorer API reference, ListCostAllocationTags: "By default, the
/// request returns 100 results"; GetAnomalyMonitors and GetAnomalySubscriptions document no
/// default, 100 is used for them too.
pub(super) const CE_DEFAULT_PAGE: usize = 100;

/// AWS Cost Anomaly Detection FAQ: "CAD allows you to create up to one AWS Service Monitor and
/// 500 custom monitors (Linked Accounts, Cost Allocation Tags, Cost Categories). You can attach
/// up to the maximum of all 501 monitors to an alert subscription." (An older version of the
/// FAQ said 101.)
pub(super) const MAX_CUSTOM_MONITORS: usize = 500;
pub(super) const MAX_SUBSCRIPTION_MONITORS: usize = 501;

/// Cost Explorer API reference, ResourceTag / TagResource: "you can assign a maximum of 50
/// user-tags to one resource" (TooManyTagsException).
pub(super) const CE_MAX_TAGS: usize = 50;

pub(super) fn ce_validation(message: String) -> Reply {
    json_error(400, "ValidationException", &message, Value::Null)
}

/// What AWS answers a member (linked) account of an organization that asks about cost-allocation
/// tags: `AccessDeniedException` (HTTP 400) "Failed to list Cost Allocation Tags: Linked account
/// doesn't have access to cost allocation tags." (hashicorp/terraform-provider-aws#37636) and
/// "Failed to update Cost Allocation Tag: Linked account doesn't have access to cost allocation
/// tags." (2i2c-org/infrastructure#4932, runs-on/runs-on#458). The Billing user guide,
/// "Activating user-defined cost allocation tags": only the management account can activate
/// them.
pub(super) fn linked_account_denied(action: &str) -> Reply {
    json_error(
        400,
        "AccessDeniedException",
        &format!("Failed to {action}: Linked account doesn't have access to cost allocation tags."),
        Value::Null,
    )
}

pub(super) fn invalid_next_token() -> Reply {
    json_error(
        400,
        "InvalidNextTokenException",
        "The pagination token is invalid. Try again without a pagination token.",
        Value::Null,
    )
}

pub(super) fn unknown_monitor(arn: &str) -> Reply {
    json_error(
        400,
        "UnknownMonitorException",
        &format!("Cost anomaly monitor {arn} does not exist for the account."),
        Value::Null,
    )
}

pub(super) fn unknown_subscription(arn: &str) -> Reply {
    json_error(
        400,
        "UnknownSubscriptionException",
        &format!("Cost anomaly subscription {arn} does not exist for the account."),
        Value::Null,
    )
}

/// `MaxResults` of a CE listing: a positive integer, `default` when absent.
pub(super) fn max_results(
    body: &Value,
    field: &str,
    max: i64,
    default: usize,
) -> Result<usize, Reply> {
    match &body[field] {
        Value::Null => Ok(default),
        v => match v.as_i64() {
            Some(n) if (1..=max).contains(&n) => Ok(n as usize),
            _ => Err(ce_validation(constraint_message(
                &v.to_string(),
                field,
                &format!("Member must have value between 1 and {max}"),
            ))),
        },
    }
}

pub(super) fn string_list<'a>(body: &'a Value, key: &str) -> Result<Vec<&'a str>, Reply> {
    optional_list(body, key, key)
        .map_err(ce_validation)?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| ce_validation(format!("Value {v} at '{key}' is not a string")))
        })
        .collect()
}

impl StandIn {
    pub(super) fn cost_explorer(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("AWSInsightsIndexService.")?;
        if !CE_OPERATIONS.contains(&op) {
            return None;
        }
        let body = match request.json() {
            Some(body) if body.is_object() => body,
            _ => {
                return Some(json_error(
                    400,
                    "SerializationException",
                    "The request body is not a JSON object.",
                    Value::Null,
                ));
            }
        };
        let tagging = matches!(op, "TagResource" | "UntagResource" | "ListTagsForResource");
        let arn = body["ResourceArn"].as_str().unwrap_or_default();
        if tagging
            && ![
                ":anomalymonitor/",
                ":anomalysubscription/",
                ":costcategory/",
            ]
            .iter()
            .any(|kind| arn.contains(kind))
        {
            return None;
        }
        let cost_category =
            op.contains("CostCategoryDefinition") || (tagging && arn.contains(":costcategory/"));
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let acct = state.account(&ctx.account);
        if cost_category && acct.member {
            return Some(cost_categories_denied(op));
        }
        let result = match op {
            "ListCostAllocationTags" => list_cost_allocation_tags(acct, &body),
            "UpdateCostAllocationTagsStatus" => update_cost_allocation_tags(acct, &body),
            "CreateCostCategoryDefinition" => create_cost_category(acct, &ctx, &body),
            "DescribeCostCategoryDefinition" => describe_cost_category(acct, &body),
            "UpdateCostCategoryDefinition" => update_cost_category(acct, &body),
            "DeleteCostCategoryDefinition" => delete_cost_category(acct, &body),
            "ListCostCategoryDefinitions" => list_cost_categories(acct, &body),
            "CreateAnomalyMonitor" => create_monitor(acct, &ctx, &body),
            "GetAnomalyMonitors" => get_monitors(acct, &body),
            "UpdateAnomalyMonitor" => update_monitor(acct, &body),
            "DeleteAnomalyMonitor" => delete_monitor(acct, &body),
            "CreateAnomalySubscription" => create_subscription(acct, &ctx, &body),
            "GetAnomalySubscriptions" => get_subscriptions(acct, &body),
            "UpdateAnomalySubscription" => update_subscription(acct, &body),
            "DeleteAnomalySubscription" => delete_subscription(acct, &body),
            "TagResource" => tag_ce_resource(acct, &body),
            "UntagResource" => untag_ce_resource(acct, &body),
            "ListTagsForResource" => list_ce_resource_tags(acct, &body),
            _ => return None,
        };
        Some(result.map(json_ok).unwrap_or_else(|e| e))
    }
}

impl StandIn {
    /// Writes the default match options into every string match of the default account's cost
    /// category rules and anomaly monitor specifications, as AWS may echo them: the Cost
    /// Explorer Expression reference gives `EQUALS` and `CASE_SENSITIVE` as the defaults, so a
    /// part without `MatchOptions` reads back with both, and `CASE_SENSITIVE` is added to the
    /// others. (Which form AWS returns is not documented; this is the longest one.)
    pub fn echo_default_match_options(&self) {
        fn spell_out(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    for (key, part) in map.iter_mut() {
                        if matches!(key.as_str(), "Dimensions" | "Tags" | "CostCategories")
                            && let Some(part) = part.as_object_mut()
                        {
                            let options = part
                                .entry("MatchOptions")
                                .or_insert_with(|| json!(["EQUALS"]));
                            if let Some(list) = options.as_array_mut()
                                && !list.iter().any(|o| o == "CASE_SENSITIVE")
                            {
                                list.push(json!("CASE_SENSITIVE"));
                            }
                        } else {
                            spell_out(part);
                        }
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(spell_out),
                _ => {}
            }
        }
        self.mutate(|acct| {
            for c in &mut acct.cost_categories {
                spell_out(&mut c.rules);
            }
            for m in &mut acct.anomaly_monitors {
                if let Some(spec) = &mut m.specification {
                    spell_out(spec);
                }
            }
        });
    }
}

// Cost Explorer API reference, ResourceTag: keys 1–128, values 0–256, of
// `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`.
pattern!(CE_TAG, r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$");
// Cost Explorer API reference, AnomalySubscription.MonitorArnList (Arn) and Subscriber.Address.
pattern!(
    CE_ARN,
    "arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:[-a-zA-Z0-9/:_]+"
);
pattern!(
    SUBSCRIBER_ADDRESS,
    r"(^[a-zA-Z0-9.!#$%&'*+=?^_‘{|}~-]+@[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)+$)|(^arn:(aws[a-zA-Z-]*):sns:[a-zA-Z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]+(\.fifo)?$)"
);

/// Cost Explorer API reference, CreateAnomalyMonitor / TagResource `ResourceTags`: "Although the
/// maximum number of array members is 200, you can assign a maximum of 50 user-tags to one
/// resource"; keys at most 128 and values 256 characters of letters, numbers, spaces and
/// `_.:/=+@-`; "Keys and values are trimmed for any leading or trailing whitespaces"; "Don't use
/// aws: as a prefix for your keys".
pub(super) fn ce_tags(list: &[Value], field: &str) -> Result<Vec<(String, String)>, Reply> {
    if list.len() > 200 {
        return Err(ce_validation(constraint_message(
            &format!("[{} tags]", list.len()),
            field,
            "Member must have length less than or equal to 200",
        )));
    }
    let mut tags = Vec::new();
    for (i, tag) in list.iter().enumerate() {
        let at = |m: &str| format!("{field}.{}.member.{m}", i + 1);
        let key = required_str(tag, "Key", &at("key")).map_err(ce_validation)?;
        check_string(key, &at("key"), 1, 128, pat(&CE_TAG)).map_err(ce_validation)?;
        let value = required_str(tag, "Value", &at("value")).map_err(ce_validation)?;
        check_string(value, &at("value"), 0, 256, pat(&CE_TAG)).map_err(ce_validation)?;
        let key = key.trim();
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ce_validation(format!(
                "The aws: prefix is reserved for AWS use and cannot be used in a tag key: {key}"
            )));
        }
        tags.push((key.to_string(), value.trim().to_string()));
    }
    Ok(tags)
}

pub(super) fn too_many_ce_tags(arn: &str) -> Reply {
    json_error(
        400,
        "TooManyTagsException",
        "A resource can have at most 50 user tags.",
        json!({ "ResourceName": arn }),
    )
}

const EXPRESSION_ROOTS: [&str; 6] = ["And", "Or", "Not", "Dimensions", "Tags", "CostCategories"];

/// Cost Explorer API reference, Expression: "Because each Expression can have only one operator,
/// the service returns an error if more than one is specified", with the message "Expression has
/// more than one roots. Only one root operator is allowed for each expression: And, Or, Not,
/// Dimensions, Tags, CostCategories".
pub(super) fn expression_root(e: &Value) -> Result<&'static str, String> {
    if !e.is_object() {
        return Err(format!("Expression {e} is not an object"));
    }
    let present: Vec<&'static str> = EXPRESSION_ROOTS
        .iter()
        .copied()
        .filter(|k| !e[*k].is_null())
        .collect();
    match present.as_slice() {
        [one] => Ok(one),
        [] => Err("Expression has no root. One root operator is required for each expression: And, Or, Not, Dimensions, Tags, CostCategories".into()),
        _ => Err("Expression has more than one roots. Only one root operator is allowed for each expression: And, Or, Not, Dimensions, Tags, CostCategories".into()),
    }
}

pub(super) fn expression_values(part: &Value) -> Vec<&str> {
    part["Values"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Cost Explorer API reference, ResourceNotFoundException: "The specified ARN in the request
/// doesn't exist", with `ResourceName`.
pub(super) fn ce_not_found(arn: &str) -> Reply {
    json_error(
        400,
        "ResourceNotFoundException",
        &format!("The specified ARN in the request doesn't exist: {arn}"),
        json!({ "ResourceName": arn }),
    )
}

/// The tags of the anomaly monitor, subscription or cost category a CE tagging request names.
/// Cost Explorer API reference, TagResource: ResourceNotFoundException.
fn ce_resource_tags<'a>(
    acct: &'a mut AccountState,
    body: &Value,
) -> Result<(String, &'a mut BTreeMap<String, String>), Reply> {
    let arn = required_str(body, "ResourceArn", "resourceArn").map_err(ce_validation)?;
    check_string(arn, "resourceArn", 20, 2048, pat(&CE_ARN)).map_err(ce_validation)?;
    if let Some(m) = acct.anomaly_monitors.iter_mut().find(|m| m.arn == arn) {
        return Ok((m.arn.clone(), &mut m.tags));
    }
    if let Some(s) = acct.anomaly_subscriptions.iter_mut().find(|s| s.arn == arn) {
        return Ok((s.arn.clone(), &mut s.tags));
    }
    if let Some(c) = acct.cost_categories.iter_mut().find(|c| c.arn == arn) {
        return Ok((c.arn.clone(), &mut c.tags));
    }
    Err(ce_not_found(arn))
}

/// Cost Explorer API reference, TagResource: "If you specify a new tag key for the resource,
/// this tag is appended … If you specify a tag key that is already associated with the resource,
/// the new tag value you specify replaces the previous value"; 50 user tags at most.
fn tag_ce_resource(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["ResourceTags"].is_null() {
        return Err(ce_validation(missing("resourceTags")));
    }
    let tags = ce_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(ce_validation)?,
        "resourceTags",
    )?;
    let (arn, existing) = ce_resource_tags(acct, body)?;
    let mut merged = existing.clone();
    merged.extend(tags);
    if merged.len() > CE_MAX_TAGS {
        return Err(too_many_ce_tags(&arn));
    }
    *existing = merged;
    Ok(json!({}))
}

/// Cost Explorer API reference, UntagResource: `ResourceTagKeys` (at most 200); "If you specify
/// a tag key that doesn't exist, it's ignored."
fn untag_ce_resource(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["ResourceTagKeys"].is_null() {
        return Err(ce_validation(missing("resourceTagKeys")));
    }
    let keys = string_list(body, "ResourceTagKeys")?;
    if keys.len() > 200 {
        return Err(ce_validation(constraint_message(
            &format!("[{} keys]", keys.len()),
            "resourceTagKeys",
            "Member must have length less than or equal to 200",
        )));
    }
    for key in &keys {
        check_string(key, "resourceTagKeys.member", 1, 128, pat(&CE_TAG)).map_err(ce_validation)?;
    }
    let (_, existing) = ce_resource_tags(acct, body)?;
    for key in keys {
        existing.remove(key);
    }
    Ok(json!({}))
}

/// Cost Explorer API reference, ListTagsForResource: `{"ResourceTags": [{"Key", "Value"}]}`.
fn list_ce_resource_tags(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let (_, existing) = ce_resource_tags(acct, body)?;
    let tags: Vec<Value> = existing
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "ResourceTags": tags }))
}
