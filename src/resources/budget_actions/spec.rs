//! One budget action as the config wants it and as AWS Budgets shows it, in the same shape so
//! that they compare field by field, and as the SDK's request parts. `APPLY_IAM_POLICY` names
//! the deny policy and the principals; `APPLY_SCP_POLICY` the SCP's ID and the accounts and
//! OUs (Budgets API reference, Definition: IamActionDefinition, ScpActionDefinition).

use aws_sdk_budgets::types::{
    Action as BudgetAction, ActionThreshold, ActionType, ApprovalModel, Definition,
    IamActionDefinition, ScpActionDefinition, Subscriber, SubscriptionType, ThresholdType,
};
use serde_json::{Value, json};

use super::BudgetActions;
use crate::aws::AwsError;
use crate::config::BudgetActionConfig;
use crate::engine::Context;

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

impl BudgetActions {
    pub(super) fn action_type(a: &BudgetActionConfig) -> ActionType {
        if a.is_scp() {
            ActionType::Scp
        } else {
            ActionType::Iam
        }
    }

    /// The settings the config asks for; `scp_id` is the stack's SCP once it exists.
    pub(super) fn desired_action(
        cx: &Context,
        a: &BudgetActionConfig,
        scp_id: Option<&str>,
    ) -> Value {
        let (value, kind) = match (a.threshold_percent, a.threshold_usd) {
            (Some(p), _) => (p, "PERCENTAGE"),
            (None, Some(usd)) => (usd, "ABSOLUTE_VALUE"),
            (None, None) => (0.0, "PERCENTAGE"),
        };
        let mut settings = json!({
            "action_type": Self::action_type(a).as_str(),
            "notification_type": "ACTUAL",
            "threshold": {"value": value, "type": kind},
            "execution_role_arn": Self::role_arn(cx),
            "approval_model": a.approval.to_ascii_uppercase(),
            "subscribers": [cx.topic_arn()],
        });
        let definition = if a.is_scp() {
            json!({
                "policy_id": scp_id.unwrap_or("(created by apply)"),
                "targets": sorted(&a.scp_targets()),
            })
        } else {
            json!({
                "policy_arn": Self::policy_arn(cx),
                "roles": sorted(&a.deny_roles),
                "users": sorted(&a.deny_users),
                "groups": sorted(&a.deny_groups),
            })
        };
        if let (Some(s), Value::Object(d)) = (settings.as_object_mut(), definition) {
            s.extend(d);
        }
        settings
    }

    pub(super) fn observed_action(a: &BudgetAction) -> Value {
        let mut subscribers: Vec<&str> = a.subscribers().iter().map(|s| s.address()).collect();
        subscribers.sort();
        let mut settings = json!({
            "action_type": a.action_type().as_str(),
            "notification_type": a.notification_type().as_str(),
            "threshold": a.action_threshold().map(|t| json!({
                "value": t.action_threshold_value(),
                "type": t.action_threshold_type().as_str(),
            })),
            "execution_role_arn": a.execution_role_arn(),
            "approval_model": a.approval_model().as_str(),
            "subscribers": subscribers,
        });
        let definition = match a.definition() {
            Some(d) if d.scp_action_definition().is_some() => {
                let scp = d.scp_action_definition();
                json!({
                    "policy_id": scp.map(|s| s.policy_id()),
                    "targets": scp.map(|s| sorted(s.target_ids())),
                })
            }
            d => {
                let iam = d.and_then(|d| d.iam_action_definition());
                json!({
                    "policy_arn": iam.map(|i| i.policy_arn()),
                    "roles": iam.map(|i| sorted(i.roles())),
                    "users": iam.map(|i| sorted(i.users())),
                    "groups": iam.map(|i| sorted(i.groups())),
                })
            }
        };
        if let (Some(s), Value::Object(d)) = (settings.as_object_mut(), definition) {
            s.extend(d);
        }
        settings
    }

    /// The threshold, definition and subscribers of a create or update request.
    pub(super) fn sdk_action_parts(
        cx: &Context,
        a: &BudgetActionConfig,
        scp_id: Option<&str>,
    ) -> Result<(ActionThreshold, Definition, Vec<Subscriber>), AwsError> {
        let (value, kind) = match (a.threshold_percent, a.threshold_usd) {
            (Some(p), _) => (p, ThresholdType::Percentage),
            (None, Some(usd)) => (usd, ThresholdType::AbsoluteValue),
            (None, None) => (0.0, ThresholdType::Percentage),
        };
        let threshold = ActionThreshold::builder()
            .action_threshold_value(value)
            .action_threshold_type(kind)
            .build()?;
        let definition = if a.is_scp() {
            let Some(id) = scp_id else {
                return Err(AwsError::setup(
                    "the service control policy of the budget actions does not exist yet",
                    "run apply again: it creates the policy before the actions",
                ));
            };
            Definition::builder()
                .scp_action_definition(
                    ScpActionDefinition::builder()
                        .policy_id(id)
                        .set_target_ids(Some(a.scp_targets()))
                        .build()?,
                )
                .build()
        } else {
            let iam = IamActionDefinition::builder()
                .policy_arn(Self::policy_arn(cx))
                .set_roles((!a.deny_roles.is_empty()).then(|| a.deny_roles.clone()))
                .set_users((!a.deny_users.is_empty()).then(|| a.deny_users.clone()))
                .set_groups((!a.deny_groups.is_empty()).then(|| a.deny_groups.clone()))
                .build()?;
            Definition::builder().iam_action_definition(iam).build()
        };
        let subscriber = Subscriber::builder()
            .subscription_type(SubscriptionType::Sns)
            .address(cx.topic_arn())
            .build()?;
        Ok((threshold, definition, vec![subscriber]))
    }

    pub(super) fn approval(a: &BudgetActionConfig) -> ApprovalModel {
        if a.approval == "automatic" {
            ApprovalModel::Auto
        } else {
            ApprovalModel::Manual
        }
    }

    /// Who the action denies, for messages.
    pub(super) fn denied_text(a: &BudgetActionConfig) -> String {
        let mut parts = Vec::new();
        for (kind, names) in [
            ("roles", &a.deny_roles),
            ("users", &a.deny_users),
            ("groups", &a.deny_groups),
            ("accounts", &a.target_accounts),
            ("OUs", &a.target_ous),
        ] {
            if !names.is_empty() {
                parts.push(format!("{kind} {}", names.join(", ")));
            }
        }
        parts.join("; ")
    }
}
