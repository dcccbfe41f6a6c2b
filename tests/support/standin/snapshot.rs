//! [`StandIn::snapshot`]: the stand-in's state normalised for comparing two runs.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::budget_actions::BudgetAction;
use super::data_exports::table_configurations_as_read;
use super::{AccountState, StandIn};

impl StandIn {
    /// The stand-in's state, normalised for comparing two runs: no generated IDs, ARN suffixes
    /// or timestamps (nor cost categories' effective dates and processing status, nor action
    /// histories); resources keyed by name (anomaly monitors and subscriptions, whose names
    /// need not be unique, as sorted lists; budget actions by budget name and what they apply,
    /// query definitions by Region and name, quota increase requests by Region, service and quota
    /// code, a second one under the same key as `key (2)`);
    /// references to monitors by monitor name; tags, subscribers and log groups sorted. Accounts
    /// that hold nothing are left out (the budget names seen in moto's answers are not the
    /// stand-in's and do not count).
    pub fn snapshot(&self) -> Value {
        let state = self.lock();
        let mut accounts = Map::new();
        for (id, acct) in &state.accounts {
            if acct.is_empty() {
                continue;
            }
            accounts.insert(id.clone(), snapshot_account(acct));
        }
        Value::Object(accounts)
    }
}

fn snapshot_account(acct: &AccountState) -> Value {
    let profiles: BTreeMap<String, Value> = acct
        .inference_profiles
        .iter()
        .map(|p| {
            (
                format!("{}/{}", p.region, p.name),
                json!({
                    "description": p.description,
                    "copy_from": normalise_profile_source(&p.copy_from),
                    "models": sorted(p.models.clone()),
                    "tags": p.tags,
                }),
            )
        })
        .collect();
    let tags: BTreeMap<String, Value> = acct
        .cost_allocation_tags
        .values()
        .map(|t| {
            (
                t.key.clone(),
                json!({"status": t.status, "type": t.tag_type}),
            )
        })
        .collect();
    let monitor_name = |arn: &str| {
        acct.anomaly_monitors
            .iter()
            .find(|m| m.arn == arn)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| format!("(deleted monitor {})", arn_kind(arn)))
    };
    let mut monitors: Vec<Value> = acct
        .anomaly_monitors
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "type": m.monitor_type,
                "dimension": m.dimension,
                "specification": m.specification,
                "tags": m.tags,
            })
        })
        .collect();
    monitors.sort_by_key(|v| v.to_string());
    let mut subscriptions: Vec<Value> = acct
        .anomaly_subscriptions
        .iter()
        .map(|s| {
            let mut subscribers: Vec<Value> = s
                .subscribers
                .iter()
                .map(|r| json!({"address": r.address, "type": r.subscriber_type}))
                .collect();
            subscribers.sort_by_key(|v| v.to_string());
            json!({
                "name": s.name,
                "monitors": sorted(s.monitor_arns.iter().map(|a| monitor_name(a)).collect()),
                "subscribers": subscribers,
                "frequency": s.frequency,
                "threshold_expression": s.threshold_expression,
                "tags": s.tags,
            })
        })
        .collect();
    subscriptions.sort_by_key(|v| v.to_string());
    let categories: BTreeMap<String, Value> = acct
        .cost_categories
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                json!({
                    "rule_version": c.rule_version,
                    "rules": c.rules,
                    "default_value": c.default_value,
                    "split_charge_rules": c.split_charge_rules,
                    "tags": c.tags,
                }),
            )
        })
        .collect();
    let exports: BTreeMap<String, Value> = acct
        .exports
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                json!({
                    "description": e.description,
                    "query": e.query,
                    "table_configurations": table_configurations_as_read(e),
                    "destination": e.destination,
                    "refresh_cadence": e.refresh_cadence,
                    "tags": e.tags,
                }),
            )
        })
        .collect();
    let actions = keyed_uniquely(
        acct.budget_actions
            .iter()
            .map(|a| {
                let mut subscribers: Vec<Value> = a
                    .subscribers
                    .iter()
                    .map(|s| json!({"type": s.subscription_type, "address": s.address}))
                    .collect();
                subscribers.sort_by_key(|v| v.to_string());
                (
                    format!("{}/{}", a.budget_name, action_target(a)),
                    json!({
                        "action_type": a.action_type,
                        "notification_type": a.notification_type,
                        "threshold": {"value": a.threshold_value, "type": a.threshold_type},
                        "definition": sorted_string_lists(&a.definition),
                        "execution_role_arn": a.execution_role_arn,
                        "approval_model": a.approval_model,
                        "status": a.status,
                        "subscribers": subscribers,
                        "tags": a.tags,
                    }),
                )
            })
            .collect(),
    );
    let queries = keyed_uniquely(
        acct.query_definitions
            .iter()
            .map(|q| {
                (
                    format!("{}/{}", q.region, q.name),
                    json!({
                        "query_language": q.query_language,
                        "query_string": q.query_string,
                        "log_group_names": sorted(q.log_group_names.clone()),
                        "parameters": q.parameters,
                    }),
                )
            })
            .collect(),
    );
    let quota_requests = keyed_uniquely(
        acct.quota_requests
            .iter()
            .map(|r| {
                (
                    format!("{}/{}/{}", r.region, r.service_code, r.quota_code),
                    json!({"desired_value": r.desired_value, "status": r.status}),
                )
            })
            .collect(),
    );
    let chat: BTreeMap<String, Value> = acct
        .chatbot
        .configurations
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                json!({
                    "workspace": c.workspace,
                    "channel": c.channel_id,
                    "topics": sorted(c.topics.clone()),
                    "role": c.role,
                    "guardrails": c.guardrails,
                    "tags": c.tags,
                }),
            )
        })
        .collect();
    json!({
        "chat_configurations": chat,
        "inference_profiles": profiles,
        "cost_allocation_tags": tags,
        "anomaly_monitors": monitors,
        "anomaly_subscriptions": subscriptions,
        "cost_categories": categories,
        "data_exports": exports,
        "budget_actions": actions,
        "query_definitions": queries,
        "quota_requests": quota_requests,
    })
}

/// A map of `items` by key; values that share a key are sorted and the second and later get
/// `key (2)`, `key (3)`, … (so the map does not depend on creation order).
fn keyed_uniquely(items: Vec<(String, Value)>) -> BTreeMap<String, Value> {
    let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, value) in items {
        grouped.entry(key).or_default().push(value);
    }
    let mut out = BTreeMap::new();
    for (key, mut values) in grouped {
        values.sort_by_key(|v| v.to_string());
        for (i, value) in values.into_iter().enumerate() {
            let k = if i == 0 {
                key.clone()
            } else {
                format!("{key} ({})", i + 1)
            };
            out.insert(k, value);
        }
    }
    out
}

/// What a budget action applies, for its snapshot key: the IAM policy ARN, `scp:<policy ID>`
/// or `ssm:<sub-type>:<Region>`.
fn action_target(a: &BudgetAction) -> String {
    let d = &a.definition;
    match a.action_type.as_str() {
        "APPLY_IAM_POLICY" => d["IamActionDefinition"]["PolicyArn"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        "APPLY_SCP_POLICY" => format!(
            "scp:{}",
            d["ScpActionDefinition"]["PolicyId"]
                .as_str()
                .unwrap_or_default()
        ),
        _ => format!(
            "ssm:{}:{}",
            d["SsmActionDefinition"]["ActionSubType"]
                .as_str()
                .unwrap_or_default(),
            d["SsmActionDefinition"]["Region"]
                .as_str()
                .unwrap_or_default()
        ),
    }
}

/// `v` with every array of strings in it sorted (the order of roles, targets or instances
/// means nothing).
fn sorted_string_lists(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut items = items.clone();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(items)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_string_lists).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), sorted_string_lists(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A profile's source without the account (system-profile ARNs carry the caller's account).
fn normalise_profile_source(arn: &str) -> String {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        [a, p, s, r, _account, rest @ ..] => format!("{a}:{p}:{s}:{r}::{}", rest.join(":")),
        _ => arn.to_string(),
    }
}

fn arn_kind(arn: &str) -> &str {
    arn.rsplit(':')
        .next()
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}
