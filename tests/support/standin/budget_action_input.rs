//! AWS Budgets: the checks of a budget action's members in CreateBudgetAction and
//! UpdateBudgetAction.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::Ctx;
use super::budget_actions::{BudgetAction, BudgetSubscriber, IamActionDefinition};
use super::common::{
    anchored, check_enum, check_string, constraint_message, missing, optional_list, optional_str,
    pat, required_str,
};

// Budgets API reference, shapes AccountId, ActionId, RoleArn, PolicyArn, Role/Group/User,
// PolicyId, TargetId, Region, InstanceId.
pattern!(BUDGETS_ACCOUNT_ID, r"\d{12}");
pattern!(
    ACTION_ID,
    "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$"
);
pattern!(
    BUDGETS_ROLE_ARN,
    r"^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]{1})?:iam::\d{12}:role(\u002F[\u0021-\u007F]+\u002F|\u002F)[\w+=,.@-]+$"
);
pattern!(
    BUDGETS_POLICY_ARN,
    r"^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]{1})?:iam::(\d{12}|aws):policy(\u002F[\u0021-\u007F]+\u002F|\u002F)[\w+=,.@-]+$"
);
pattern!(
    IAM_PRINCIPAL_NAME,
    r"^([\u0021-\u007F]+\u002F)?[\w+=,.@-]+$"
);
pattern!(SCP_POLICY_ID, r"^p-[0-9a-zA-Z_]{8,128}$");
pattern!(
    SCP_TARGET_ID,
    r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)|(\d{12})"
);
pattern!(SSM_REGION, r"^\w{2}-\w+(-\w+)?-\d$");
pattern!(
    SSM_INSTANCE_ID,
    r"^i-(\w{8}|\w{17})$|^[a-zA-Z]([\w-]{0,61}\w)?$"
);

/// Budgets API reference, BudgetName: 1–100 characters of
/// `^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$` ("The ":" and "\" characters,
/// and the "/action/" substring, aren't allowed"). The regex crate has no look-ahead: the
/// same language is checked piecewise; the message quotes the reference's pattern.
const BUDGET_NAME_PATTERN: &str = r"^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$";
pub(super) static SCRIPT_ELEMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<script>.*</script>").expect("script pattern compiles"));

pub(super) fn check_budget_name(value: &str, field: &str) -> Result<(), String> {
    check_string(value, field, 1, 100, None)?;
    if value.contains([':', '\\']) || value.contains("/action/") || SCRIPT_ELEMENT.is_match(value) {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {BUDGET_NAME_PATTERN}"),
        ));
    }
    Ok(())
}

/// A list member of strings, each `min`–`max` characters of `pattern`, the list `min_items`–
/// `max_items` long. `None` when absent.
#[allow(clippy::too_many_arguments)]
pub(super) fn string_items(
    parent: &Value,
    key: &str,
    field: &str,
    min_items: usize,
    max_items: usize,
    min: usize,
    max: usize,
    pattern: Option<(&Regex, &str)>,
) -> Result<Option<Vec<String>>, String> {
    let list = match &parent[key] {
        Value::Null => return Ok(None),
        Value::Array(a) => a,
        other => return Err(format!("Value {other} at '{field}' is not a list")),
    };
    if list.len() < min_items || list.len() > max_items {
        let constraint = if list.len() < min_items {
            format!("Member must have length greater than or equal to {min_items}")
        } else {
            format!("Member must have length less than or equal to {max_items}")
        };
        return Err(constraint_message(
            &format!("[{} members]", list.len()),
            field,
            &constraint,
        ));
    }
    list.iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| format!("Value {v} at '{field}.member' is not a string"))?;
            check_string(s, &format!("{field}.member"), min, max, pattern)?;
            Ok(s.to_string())
        })
        .collect::<Result<Vec<_>, String>>()
        .map(Some)
}

/// `ActionThreshold` (API reference: `ActionThresholdValue`, a NotificationThreshold, a double
/// 0–15,000,000,000,000; `ActionThresholdType` PERCENTAGE | ABSOLUTE_VALUE; both required).
fn parse_action_threshold(t: &Value) -> Result<(f64, String), String> {
    if !t.is_object() {
        return Err(missing("actionThreshold"));
    }
    let value = match &t["ActionThresholdValue"] {
        Value::Null => return Err(missing("actionThreshold.actionThresholdValue")),
        v => v.as_f64().ok_or_else(|| {
            format!("Value {v} at 'actionThreshold.actionThresholdValue' is not a number")
        })?,
    };
    if !(0.0..=15_000_000_000_000.0).contains(&value) {
        return Err(constraint_message(
            &value.to_string(),
            "actionThreshold.actionThresholdValue",
            "Member must have value between 0 and 15000000000000",
        ));
    }
    let kind = required_str(
        t,
        "ActionThresholdType",
        "actionThreshold.actionThresholdType",
    )?;
    check_enum(
        kind,
        "actionThreshold.actionThresholdType",
        &["PERCENTAGE", "ABSOLUTE_VALUE"],
    )?;
    Ok((value, kind.to_string()))
}

/// `Definition`. API reference, Action.ActionType: "This field also determines the format for
/// definition": APPLY_IAM_POLICY takes `IamActionDefinition`, APPLY_SCP_POLICY
/// `ScpActionDefinition`, RUN_SSM_DOCUMENTS `SsmActionDefinition`; the stand-in refuses a
/// definition with another member or more than one (the message is not documented).
/// - IamActionDefinition: `PolicyArn` required (25–684, PolicyArn pattern); `Roles`, `Groups`,
///   `Users` lists of 1–100 names (1–576, 1–640 for groups, of the Role/Group/User pattern),
///   "There must be at least one role" (group, user) for a list that is given, and at least one
///   of the three lists must be given (an IAM policy attached to nobody does nothing; the
///   service's message is not documented);
/// - ScpActionDefinition: `PolicyId` (10–130, `^p-[0-9a-zA-Z_]{8,128}$`) and `TargetIds` (1–100
///   IDs of 12–68 characters, an OU or an account) required;
/// - SsmActionDefinition: `ActionSubType` STOP_EC2_INSTANCES | STOP_RDS_INSTANCES, `Region`
///   (9–20) and `InstanceIds` (1–100 IDs of 1–63 characters) required.
///
/// Returns the definition as stored (only the matching member, with the members the reference
/// defines) and the IAM part.
fn parse_action_definition(
    action_type: &str,
    d: &Value,
) -> Result<(Value, Option<IamActionDefinition>), String> {
    const MEMBERS: [&str; 3] = [
        "IamActionDefinition",
        "ScpActionDefinition",
        "SsmActionDefinition",
    ];
    if !d.is_object() {
        return Err(missing("definition"));
    }
    let expected = match action_type {
        "APPLY_IAM_POLICY" => "IamActionDefinition",
        "APPLY_SCP_POLICY" => "ScpActionDefinition",
        _ => "SsmActionDefinition",
    };
    let present: Vec<&str> = MEMBERS
        .iter()
        .copied()
        .filter(|m| !d[*m].is_null())
        .collect();
    if present != [expected] {
        return Err(format!(
            "An action of type {action_type} needs Definition.{expected} and no other definition; got [{}].",
            present.join(", ")
        ));
    }
    let m = &d[expected];
    let member = format!("definition.{}", lower_first(expected));
    let field = |f: &str| format!("{member}.{f}");
    match expected {
        "IamActionDefinition" => {
            let policy = required_str(m, "PolicyArn", &field("policyArn"))?;
            check_string(
                policy,
                &field("policyArn"),
                25,
                684,
                pat(&BUDGETS_POLICY_ARN),
            )?;
            let principals = |key: &str, max: usize| {
                string_items(
                    m,
                    key,
                    &field(&lower_first(key)),
                    1,
                    100,
                    1,
                    max,
                    pat(&IAM_PRINCIPAL_NAME),
                )
            };
            let roles = principals("Roles", 576)?;
            let groups = principals("Groups", 640)?;
            let users = principals("Users", 576)?;
            if roles.is_none() && groups.is_none() && users.is_none() {
                return Err(format!(
                    "{member} must name at least one of Roles, Groups or Users."
                ));
            }
            let mut stored = json!({ "PolicyArn": policy });
            for (key, list) in [("Roles", &roles), ("Groups", &groups), ("Users", &users)] {
                if let (Some(list), Some(o)) = (list, stored.as_object_mut()) {
                    o.insert(key.into(), json!(list));
                }
            }
            let iam = IamActionDefinition {
                policy_arn: policy.to_string(),
                roles: roles.unwrap_or_default(),
                groups: groups.unwrap_or_default(),
                users: users.unwrap_or_default(),
            };
            Ok((json!({ expected: stored }), Some(iam)))
        }
        "ScpActionDefinition" => {
            let policy = required_str(m, "PolicyId", &field("policyId"))?;
            check_string(policy, &field("policyId"), 10, 130, pat(&SCP_POLICY_ID))?;
            let targets = string_items(
                m,
                "TargetIds",
                &field("targetIds"),
                1,
                100,
                12,
                68,
                pat(&SCP_TARGET_ID),
            )?
            .ok_or_else(|| missing(&field("targetIds")))?;
            Ok((
                json!({ expected: { "PolicyId": policy, "TargetIds": targets } }),
                None,
            ))
        }
        _ => {
            let sub_type = required_str(m, "ActionSubType", &field("actionSubType"))?;
            check_enum(
                sub_type,
                &field("actionSubType"),
                &["STOP_EC2_INSTANCES", "STOP_RDS_INSTANCES"],
            )?;
            let region = required_str(m, "Region", &field("region"))?;
            check_string(region, &field("region"), 9, 20, pat(&SSM_REGION))?;
            let instances = string_items(
                m,
                "InstanceIds",
                &field("instanceIds"),
                1,
                100,
                1,
                63,
                pat(&SSM_INSTANCE_ID),
            )?
            .ok_or_else(|| missing(&field("instanceIds")))?;
            Ok((
                json!({ expected: {
                    "ActionSubType": sub_type,
                    "Region": region,
                    "InstanceIds": instances,
                } }),
                None,
            ))
        }
    }
}

pub(super) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Subscribers` (API reference, Subscribers: 1–11; Subscriber: `SubscriptionType` SNS | EMAIL
/// and `Address` required, "the value of Address can't contain line breaks"). Budgets API
/// reference, Notification: "A notification can have one SNS subscriber and up to 10 email
/// subscribers, for a total of 11 subscribers" (an action notifies like an alert: Billing user
/// guide, "Configuring AWS Budgets actions", "Use the same alert settings when you defined this
/// threshold"). An SNS address must be an SNS topic ARN (user guide: "enter the Amazon Resource
/// Name (ARN) for your Amazon SNS topic"; the service's message is not documented).
fn parse_budget_subscribers(v: &Value) -> Result<Vec<BudgetSubscriber>, String> {
    let list = match v {
        Value::Null => return Err(missing("subscribers")),
        Value::Array(a) => a,
        other => return Err(format!("Value {other} at 'subscribers' is not a list")),
    };
    if list.is_empty() || list.len() > 11 {
        let constraint = if list.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 11"
        };
        return Err(constraint_message(
            &format!("[{} subscribers]", list.len()),
            "subscribers",
            constraint,
        ));
    }
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let at = |m: &str| format!("subscribers.{}.member.{m}", i + 1);
        let kind = required_str(s, "SubscriptionType", &at("subscriptionType"))?;
        check_enum(kind, &at("subscriptionType"), &["SNS", "EMAIL"])?;
        let address = required_str(s, "Address", &at("address"))?;
        check_string(address, &at("address"), 1, usize::MAX, None)?;
        if address.contains(['\n', '\r']) {
            return Err(format!(
                "The address of subscriber {} can't contain line breaks.",
                i + 1
            ));
        }
        if kind == "SNS" && !(address.starts_with("arn:") && address.contains(":sns:")) {
            return Err(format!("{address} is not an Amazon SNS topic ARN."));
        }
        out.push(BudgetSubscriber {
            subscription_type: kind.to_string(),
            address: address.to_string(),
        });
    }
    let count = |kind: &str| out.iter().filter(|s| s.subscription_type == kind).count();
    if count("SNS") > 1 {
        return Err("An action can have at most 1 SNS subscriber.".into());
    }
    if count("EMAIL") > 10 {
        return Err(format!(
            "An action can have at most 10 email subscribers; {} were given.",
            count("EMAIL")
        ));
    }
    Ok(out)
}

/// `ExecutionRoleArn` (API reference: 32–618 characters of the RoleArn pattern; "Roles and
/// actions must be in the same account", so a role of another account is refused).
fn parse_execution_role(ctx: &Ctx, arn: &str) -> Result<(), String> {
    check_string(arn, "executionRoleArn", 32, 618, pat(&BUDGETS_ROLE_ARN))?;
    if arn.split(':').nth(4) != Some(ctx.account.as_str()) {
        return Err(format!(
            "The execution role {arn} is not in account {}: roles and actions must be in the same account.",
            ctx.account
        ));
    }
    Ok(())
}

/// What a create or update sets.
pub(super) struct ActionInput {
    pub(super) notification_type: String,
    pub(super) action_type: String,
    pub(super) threshold: (f64, String),
    pub(super) definition: Value,
    pub(super) iam: Option<IamActionDefinition>,
    pub(super) execution_role_arn: String,
    pub(super) approval_model: String,
    pub(super) subscribers: Vec<BudgetSubscriber>,
}

/// The members of CreateBudgetAction (all required: API reference) or of UpdateBudgetAction
/// (all optional; what is not given stays as `base` has it, and `ActionType` cannot change).
pub(super) fn parse_action_input(
    ctx: &Ctx,
    body: &Value,
    base: Option<&BudgetAction>,
) -> Result<ActionInput, String> {
    let notification_type = match (
        optional_str(body, "NotificationType", "notificationType")?,
        base,
    ) {
        (Some(n), _) => {
            check_enum(n, "notificationType", &["ACTUAL", "FORECASTED"])?;
            n.to_string()
        }
        (None, Some(b)) => b.notification_type.clone(),
        (None, None) => return Err(missing("notificationType")),
    };
    let action_type = match base {
        Some(b) => b.action_type.clone(),
        None => {
            let t = required_str(body, "ActionType", "actionType")?;
            check_enum(
                t,
                "actionType",
                &["APPLY_IAM_POLICY", "APPLY_SCP_POLICY", "RUN_SSM_DOCUMENTS"],
            )?;
            t.to_string()
        }
    };
    let threshold = match (&body["ActionThreshold"], base) {
        (Value::Null, Some(b)) => (b.threshold_value, b.threshold_type.clone()),
        (t, _) => parse_action_threshold(t)?,
    };
    let (definition, iam) = match (&body["Definition"], base) {
        (Value::Null, Some(b)) => (b.definition.clone(), b.iam.clone()),
        (d, _) => parse_action_definition(&action_type, d)?,
    };
    let execution_role_arn = match (
        optional_str(body, "ExecutionRoleArn", "executionRoleArn")?,
        base,
    ) {
        (Some(r), _) => {
            parse_execution_role(ctx, r)?;
            r.to_string()
        }
        (None, Some(b)) => b.execution_role_arn.clone(),
        (None, None) => return Err(missing("executionRoleArn")),
    };
    let approval_model = match (optional_str(body, "ApprovalModel", "approvalModel")?, base) {
        (Some(m), _) => {
            check_enum(m, "approvalModel", &["AUTOMATIC", "MANUAL"])?;
            m.to_string()
        }
        (None, Some(b)) => b.approval_model.clone(),
        (None, None) => return Err(missing("approvalModel")),
    };
    let subscribers = match (&body["Subscribers"], base) {
        (Value::Null, Some(b)) => b.subscribers.clone(),
        (s, _) => parse_budget_subscribers(s)?,
    };
    Ok(ActionInput {
        notification_type,
        action_type,
        threshold,
        definition,
        iam,
        execution_role_arn,
        approval_model,
        subscribers,
    })
}

/// Budgets API reference, ResourceTagList: at most 200 tags, keys 1–128 and values 0–256
/// characters.
pub(super) fn budget_action_tags(body: &Value) -> Result<BTreeMap<String, String>, String> {
    let list = optional_list(body, "ResourceTags", "resourceTags")?;
    if list.len() > 200 {
        return Err(constraint_message(
            &format!("[{} tags]", list.len()),
            "resourceTags",
            "Member must have length less than or equal to 200",
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, tag)| {
            let at = |m: &str| format!("resourceTags.{}.member.{m}", i + 1);
            let key = required_str(tag, "Key", &at("key"))?;
            check_string(key, &at("key"), 1, 128, None)?;
            let value = required_str(tag, "Value", &at("value"))?;
            check_string(value, &at("value"), 0, 256, None)?;
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}
