//! `budget-actions`: budgets that can stop Bedrock spend, not only report it
//! (`[budgets.action]`, opt-in). What the tool owns:
//! - the deny policy, rendered from the spending catalogue ([`deny_policy`]): a
//!   customer-managed IAM policy for `kind = "iam"` actions ([`iam`]), a service control policy
//!   in the organization's management account for `kind = "scp"` actions ([`scp`]);
//! - the role AWS Budgets assumes to apply it (trusted by `budgets.amazonaws.com` for this
//!   account's budgets only, allowed to attach and detach exactly that policy on exactly the
//!   configured principals, accounts and OUs);
//! - one action per budget (`APPLY_IAM_POLICY` or `APPLY_SCP_POLICY`), notifying the topic
//!   ([`spec`]).
//!
//! An action is this stack's when it runs with this stack's execution role. `cleanup` reverses
//! an action that has (or may have) applied the policy before deleting it, and waits until AWS
//! Budgets says the reversal is done ([`run`]), so nothing is left denied; the policies are
//! detached from anything still holding them before they are deleted.

mod iam;
mod permissions;
mod run;
mod scp;
mod spec;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_budgets::types::NotificationType;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::actions::{deny_policy_name, execution_role_name};
use crate::config::{BudgetActionConfig, BudgetConfig};
use crate::cost::spend::Definition as SpendDefinition;
use crate::cost::spending_actions::{self, Service};
use crate::docs;
use crate::engine::{
    ComponentId, Context, Diff, FieldChange, Health, HealthLevel, Ownership, Permission, Resource,
};
use crate::resources::{ownership_from_tags, retry_while, tags_field};

pub use scp::ObservedScp;

pub struct BudgetActions;

/// The policy that stops Bedrock spend: a Deny of every action of the spending catalogue
/// ([`spending_actions`]) that `definition` counts. The budget actions apply it (as an IAM
/// policy or as a service control policy); any other stop of Bedrock spend uses it too.
pub fn deny_policy(definition: &SpendDefinition) -> Result<Value, docs::RenderError> {
    docs::render(
        "deny-bedrock-policy",
        json!({
            "bedrock": spending_actions::denied_in(definition, Service::Bedrock),
            "mantle": spending_actions::denied_in(definition, Service::Mantle),
            "agentcore": spending_actions::denied_in(definition, Service::AgentCore),
        }),
    )
}

/// What [`BudgetActions::reverse_and_wait`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Reversal {
    /// Whether a reversal was asked for (false: nothing was attached to reverse).
    pub reversed: bool,
    /// The action's status at the end: `REVERSE_SUCCESS` after a reversal, else the status
    /// that left nothing to reverse.
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct ObservedPolicy {
    pub document: Option<Value>,
    pub default_version: String,
    pub tags: BTreeMap<String, String>,
}

pub use crate::resources::iam::ObservedRole;

#[derive(Debug, Clone)]
pub struct ObservedAction {
    pub id: String,
    pub settings: Value,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionsState {
    /// The IAM deny policy (read always: an IAM action may have used it before).
    pub policy: Option<ObservedPolicy>,
    pub role: Option<ObservedRole>,
    /// The SCP, read when an SCP action is configured or one of this stack's exists.
    pub scp: Option<ObservedScp>,
    /// Whether the organization's root has SCPs enabled (read with the SCP).
    pub scps_enabled: Option<bool>,
    /// This stack's action per budget name.
    pub actions: BTreeMap<String, ObservedAction>,
}

const NOT_FOUND: &[&str] = &["NoSuchEntity", "NoSuchEntityException", "NotFoundException"];
/// The "status" of an action that no longer exists.
const ABSENT: &str = "ABSENT";
/// The inline policy of the execution role.
const ROLE_POLICY_NAME: &str = "AttachBedrockDenyPolicy";
/// Statuses in which the policy may be attached to the principals: executed, a failed
/// execution (it may have attached the policy to some principals before failing), and a failed
/// reversal.
const MAY_BE_ATTACHED: &[&str] = &["EXECUTION_SUCCESS", "EXECUTION_FAILURE", "REVERSE_FAILURE"];
/// Statuses of an execution still running (ActionStatus in the Budgets API reference); AWS
/// refuses to execute, update or delete the action meanwhile.
const IN_PROGRESS: &[&str] = &[
    "EXECUTION_IN_PROGRESS",
    "REVERSE_IN_PROGRESS",
    "RESET_IN_PROGRESS",
];
/// How long to wait for AWS Budgets to finish an execution (it detaches the policy from each
/// principal) before saying so and leaving the rest to a rerun.
const EXECUTION_WAIT: Duration = Duration::from_secs(120);

impl BudgetActions {
    pub fn policy_arn(cx: &Context) -> String {
        format!(
            "arn:{}:iam::{}:policy/{}",
            cx.partition(),
            cx.account.id,
            deny_policy_name(&cx.config)
        )
    }

    fn role_arn(cx: &Context) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            cx.partition(),
            cx.account.id,
            execution_role_name(&cx.config)
        )
    }

    fn configured(cx: &Context) -> Vec<(&BudgetConfig, &BudgetActionConfig)> {
        cx.config
            .budgets
            .iter()
            .filter_map(|b| b.action.as_ref().map(|a| (b, a)))
            .collect()
    }

    fn wants_iam(cx: &Context) -> bool {
        Self::configured(cx).iter().any(|(_, a)| !a.is_scp())
    }

    fn wants_scp(cx: &Context) -> bool {
        Self::configured(cx).iter().any(|(_, a)| a.is_scp())
    }

    fn principal_arns(cx: &Context, kind: &str, names: &[String]) -> Vec<String> {
        names
            .iter()
            .map(|n| format!("arn:{}:iam::{}:{kind}/{n}", cx.partition(), cx.account.id))
            .collect()
    }

    fn desired_policy(cx: &Context) -> Result<Value, AwsError> {
        Ok(deny_policy(&SpendDefinition::new(&cx.config))?)
    }

    fn desired_trust(cx: &Context) -> Result<Value, AwsError> {
        Ok(docs::render(
            "budget-action-trust-policy",
            json!({"account_id": cx.account.id, "partition": cx.partition()}),
        )?)
    }

    /// What the execution role may do: attach and detach the IAM deny policy on every principal
    /// of every IAM action, and the SCP (`scp_id`) on every target of every SCP action.
    fn desired_role_policy(cx: &Context, scp_id: Option<&str>) -> Result<Value, AwsError> {
        let mut roles = Vec::new();
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for (_, a) in Self::configured(cx)
            .into_iter()
            .filter(|(_, a)| !a.is_scp())
        {
            roles.extend(Self::principal_arns(cx, "role", &a.deny_roles));
            users.extend(Self::principal_arns(cx, "user", &a.deny_users));
            groups.extend(Self::principal_arns(cx, "group", &a.deny_groups));
        }
        for list in [&mut roles, &mut users, &mut groups] {
            list.sort();
            list.dedup();
        }
        let mut document = docs::render(
            "budget-action-role-policy",
            json!({"policy_arn": Self::policy_arn(cx), "roles": roles, "users": users, "groups": groups}),
        )?;
        if let (Some(statement), Some(Value::Array(list))) = (
            Self::scp_role_statement(cx, scp_id),
            document.get_mut("Statement"),
        ) {
            list.push(statement);
        }
        Ok(document)
    }

    fn owned_tags(cx: &Context, tags: &BTreeMap<String, String>) -> bool {
        matches!(ownership_from_tags(cx, tags), Ownership::Managed { .. })
    }

    /// Whether an observed action settings value is of the SCP kind.
    fn is_scp_action(settings: &Value) -> bool {
        settings["action_type"] == "APPLY_SCP_POLICY"
    }

    fn threshold_text(a: &BudgetActionConfig) -> String {
        match (a.threshold_percent, a.threshold_usd) {
            (Some(p), _) => format!("{p} % of the limit"),
            (None, Some(usd)) => format!("{usd} USD"),
            _ => "its threshold".into(),
        }
    }
}

#[async_trait]
impl Resource for BudgetActions {
    type State = ActionsState;

    fn id(&self) -> ComponentId {
        ComponentId::BudgetActions
    }

    /// An optional component: only when its section asks for it.
    fn configured(&self, config: &crate::config::Config) -> bool {
        config.budgets.iter().any(|b| b.action.is_some())
    }

    /// IAM and Budgets are global to an account: once, in its first region.
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Account
    }

    fn name(&self, cx: &Context) -> String {
        match Self::configured(cx).len() {
            1 => "1 budget action".into(),
            n => format!("{n} budget actions"),
        }
    }

    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::Budgets, ComponentId::Topic]
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        if Self::wants_scp(cx) {
            Self::require_management(cx).await?;
        }
        let (policy, role, actions) = tokio::join!(
            Self::read_policy(cx),
            Self::read_role(cx),
            Self::read_actions(cx)
        );
        let actions = actions?;
        let scp_in_use =
            Self::wants_scp(cx) || actions.values().any(|a| Self::is_scp_action(&a.settings));
        let (scp, scps_enabled) = if scp_in_use {
            let (scp, enabled) = tokio::join!(Self::read_scp(cx), Self::scps_enabled(cx));
            (scp?, Some(enabled?))
        } else {
            (None, None)
        };
        Ok(ActionsState {
            policy: policy?,
            role: role?,
            scp,
            scps_enabled,
            actions,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let tags = cx.config.tags();
        let mut changes = Vec::new();
        // Policy documents compare by meaning (IAM returns them reordered and encoded).
        let mut push = |field: String, old: Value, new: Value| {
            let is_document = [".document", ".trust", ".permissions", ".content"]
                .iter()
                .any(|suffix| field.ends_with(suffix));
            let same = if is_document && !old.is_null() && !new.is_null() {
                docs::same_policy(&old, &new)
            } else {
                old == new
            };
            if !same {
                changes.push(FieldChange { field, old, new });
            }
        };
        let scp_id = state.scp.as_ref().map(|s| s.id.as_str());
        let rendered = (
            Self::desired_policy(cx),
            Self::desired_trust(cx),
            Self::desired_role_policy(cx, scp_id),
        );
        let (Ok(policy), Ok(trust), Ok(permissions)) = rendered else {
            return Diff::unchanged()
                .with_note("internal error: a budget-action policy template did not render");
        };
        // The IAM deny policy exists while an IAM action is configured; an owned one left from
        // an earlier config is deleted. The same for the SCP.
        let owned_policy = state
            .policy
            .as_ref()
            .is_some_and(|p| Self::owned_tags(cx, &p.tags));
        if Self::wants_iam(cx) || owned_policy {
            let wanted = Self::wants_iam(cx);
            push(
                "policy.document".into(),
                state
                    .policy
                    .as_ref()
                    .and_then(|p| p.document.clone())
                    .unwrap_or(Value::Null),
                if wanted { policy.clone() } else { Value::Null },
            );
            push(
                "policy.tags".into(),
                state
                    .policy
                    .as_ref()
                    .map(|p| tags_field(&tags, &p.tags).0)
                    .unwrap_or(Value::Null),
                if wanted { json!(tags) } else { Value::Null },
            );
        }
        let owned_scp = state
            .scp
            .as_ref()
            .is_some_and(|s| Self::owned_tags(cx, &s.tags));
        if Self::wants_scp(cx) || owned_scp {
            let wanted = Self::wants_scp(cx);
            push(
                "scp.content".into(),
                state
                    .scp
                    .as_ref()
                    .and_then(|s| s.content.clone())
                    .unwrap_or(Value::Null),
                if wanted { policy } else { Value::Null },
            );
            push(
                "scp.tags".into(),
                state
                    .scp
                    .as_ref()
                    .map(|s| tags_field(&tags, &s.tags).0)
                    .unwrap_or(Value::Null),
                if wanted { json!(tags) } else { Value::Null },
            );
        }
        push(
            "role.trust".into(),
            state
                .role
                .as_ref()
                .and_then(|r| r.trust.clone())
                .unwrap_or(Value::Null),
            trust,
        );
        push(
            "role.permissions".into(),
            state
                .role
                .as_ref()
                .and_then(|r| r.permissions.clone())
                .unwrap_or(Value::Null),
            permissions,
        );
        push(
            "role.tags".into(),
            state
                .role
                .as_ref()
                .map(|r| tags_field(&tags, &r.tags).0)
                .unwrap_or(Value::Null),
            json!(tags),
        );
        let mut notes = Vec::new();
        for (b, a) in Self::configured(cx) {
            push(
                format!("actions.{}", b.name),
                state
                    .actions
                    .get(&b.name)
                    .map(|o| o.settings.clone())
                    .unwrap_or(Value::Null),
                Self::desired_action(cx, a, scp_id),
            );
            if !state.actions.contains_key(&b.name) {
                notes.push(format!(
                    "budget {}: when actual spend crosses {}, AWS Budgets {} {} denying Bedrock to {}: this can block production traffic. Budgets evaluate a few times a day, so the block lags spend by hours; the alarms are the minute-level signal",
                    b.name,
                    Self::threshold_text(a),
                    if a.approval == "automatic" { "attaches at once" } else { "asks for approval (console or `bedrock-monitor budget-action approve`) before it attaches" },
                    if a.is_scp() { "a service control policy" } else { "a policy" },
                    Self::denied_text(a)
                ));
            }
        }
        if Self::wants_scp(cx) && state.scps_enabled == Some(false) {
            notes.push(
                "service control policies are not enabled in this organization: the SCP can be created, but AWS Budgets cannot attach it when spend crosses the threshold; enable them (Organizations console, Policies, or `aws organizations enable-policy-type --policy-type SERVICE_CONTROL_POLICY --root-id r-…`)".into(),
            );
        }
        for (budget, o) in &state.actions {
            if !Self::configured(cx).iter().any(|(b, _)| &b.name == budget) {
                changes.push(FieldChange {
                    field: format!("actions.{budget}"),
                    old: o.settings.clone(),
                    new: Value::Null,
                });
                notes.push(format!(
                    "budget {budget}: its action is deleted (reversed first if it has fired)"
                ));
            }
        }
        let nothing = state.policy.is_none()
            && state.role.is_none()
            && state.scp.is_none()
            && state.actions.is_empty();
        Diff::of(changes, !nothing).with_notes(notes)
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        if Self::wants_iam(cx) {
            Self::put_policy(cx, state, diff).await?;
        }
        let scp_id = if Self::wants_scp(cx) {
            Some(
                Self::put_scp(
                    cx,
                    state.scp.as_ref(),
                    diff.touches("scp.content"),
                    diff.touches("scp.tags"),
                )
                .await?,
            )
        } else {
            None
        };
        let role_policy = Self::desired_role_policy(cx, scp_id.as_deref())?;
        let role_changed = state.role.as_ref().is_none_or(|r| {
            r.permissions
                .as_ref()
                .is_none_or(|p| !docs::same_policy(p, &role_policy))
        });
        Self::put_role(cx, state, diff, role_changed.then_some(&role_policy)).await?;
        for (b, a) in Self::configured(cx) {
            let desired = Self::desired_action(cx, a, scp_id.as_deref());
            match state.actions.get(&b.name) {
                // UpdateBudgetAction cannot change an action's type: another kind is a new
                // action (the old one reversed first if it has fired).
                Some(o) if o.settings["action_type"] != desired["action_type"] => {
                    Self::delete_action(cx, &b.name, o).await?;
                    Self::create_action(cx, b, a, scp_id.as_deref()).await?;
                }
                None => Self::create_action(cx, b, a, scp_id.as_deref()).await?,
                Some(o) if o.settings != desired => {
                    Self::update_action(cx, b, a, &o.id, scp_id.as_deref()).await?;
                }
                Some(_) => {}
            }
        }
        for (budget, o) in &state.actions {
            if !Self::configured(cx).iter().any(|(b, _)| &b.name == budget) {
                Self::delete_action(cx, budget, o).await?;
            }
        }
        // What an earlier config used and this one no longer does.
        if !Self::wants_iam(cx)
            && state
                .policy
                .as_ref()
                .is_some_and(|p| Self::owned_tags(cx, &p.tags))
        {
            Self::delete_policy(cx).await?;
        }
        if !Self::wants_scp(cx)
            && let Some(scp) = state.scp.as_ref().filter(|s| Self::owned_tags(cx, &s.tags))
        {
            Self::delete_scp(cx, scp).await?;
        }
        Ok(())
    }

    /// The deny policy and the execution role, when they exist without this stack's tag.
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<crate::engine::Foreign> {
        use crate::resources::foreign_by_tags;
        let policy = state.policy.as_ref().and_then(|p| {
            let what = format!("IAM policy {}", deny_policy_name(&cx.config));
            foreign_by_tags(cx, what, &p.tags)
        });
        let role = state.role.as_ref().and_then(|r| {
            let what = format!("IAM role {}", execution_role_name(&cx.config));
            foreign_by_tags(cx, what, &r.tags)
        });
        policy.into_iter().chain(role).collect()
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let policy = state
            .policy
            .as_ref()
            .map(|p| ownership_from_tags(cx, &p.tags));
        let role = state
            .role
            .as_ref()
            .map(|r| ownership_from_tags(cx, &r.tags));
        let scp = state.scp.as_ref().map(|s| ownership_from_tags(cx, &s.tags));
        for (what, o) in [
            ("policy", &policy),
            ("execution role", &role),
            ("service control policy", &scp),
        ] {
            if let Some(Ownership::NotManaged { reason }) = o {
                return Ownership::NotManaged {
                    reason: format!("the {what} {reason}"),
                };
            }
        }
        if policy.is_none() && role.is_none() && scp.is_none() && state.actions.is_empty() {
            return Ownership::Missing;
        }
        Ownership::Managed {
            evidence: format!(
                "tag on the policies and role; actions run by role {}",
                execution_role_name(&cx.config)
            ),
        }
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        let mut facts: Vec<Health> = Self::configured(cx)
            .into_iter()
            .map(|(b, a)| match state.actions.get(&b.name) {
                None => Health {
                    subject: b.name.clone(),
                    level: HealthLevel::Warning,
                    detail: "no action yet: `bedrock-monitor apply` creates it".into(),
                },
                Some(o) => {
                    let (level, detail) = match o.status.as_str() {
                        "STANDBY" => (HealthLevel::Ok, "standby: armed, spend is under the threshold".to_string()),
                        "PENDING" => (HealthLevel::Alarm, format!(
                            "pending approval: spend crossed the threshold; `bedrock-monitor budget-action approve {}` denies Bedrock to {}", b.name, Self::denied_text(a)
                        )),
                        "EXECUTION_SUCCESS" | "EXECUTION_IN_PROGRESS" => (HealthLevel::Alarm, format!(
                            "executed: Bedrock is denied now to {}; raise the limit, then `bedrock-monitor budget-action reverse {}`", Self::denied_text(a), b.name
                        )),
                        "REVERSE_SUCCESS" => (HealthLevel::Ok, "reversed: Bedrock is allowed again".to_string()),
                        other => (HealthLevel::Warning, format!("{}: see the action's history in the AWS Budgets console", other.to_ascii_lowercase())),
                    };
                    Health { subject: b.name.clone(), level, detail }
                }
            })
            .collect();
        if Self::wants_scp(cx) && state.scps_enabled == Some(false) {
            facts.push(Health {
                subject: "service control policies".into(),
                level: HealthLevel::Alarm,
                detail: "not enabled in the organization: the SCP budget actions cannot attach their policy; enable the SERVICE_CONTROL_POLICY policy type on the root".into(),
            });
        }
        facts
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        Self::declared_permissions(cx)
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        for (budget, o) in &state.actions {
            Self::delete_action(cx, budget, o).await?;
        }
        if state
            .policy
            .as_ref()
            .is_some_and(|p| Self::owned_tags(cx, &p.tags))
        {
            Self::delete_policy(cx).await?;
        }
        if let Some(scp) = state.scp.as_ref().filter(|s| Self::owned_tags(cx, &s.tags)) {
            Self::delete_scp(cx, scp).await?;
        }
        if state
            .role
            .as_ref()
            .is_some_and(|r| Self::owned_tags(cx, &r.tags))
        {
            Self::delete_role(cx).await?;
        }
        Ok(())
    }
}

impl BudgetActions {
    async fn create_action(
        cx: &Context,
        b: &BudgetConfig,
        a: &BudgetActionConfig,
        scp_id: Option<&str>,
    ) -> Result<(), AwsError> {
        let (threshold, definition, subscribers) = Self::sdk_action_parts(cx, a, scp_id)?;
        // A new execution role takes a moment to be assumable by Budgets.
        retry_while(
            cx,
            ComponentId::BudgetActions,
            Duration::from_secs(60),
            "waiting for IAM to propagate the execution role and the deny policy",
            is_propagation_error,
            || async {
                cx.aws
                    .budgets
                    .create_budget_action()
                    .account_id(&cx.account.id)
                    .budget_name(&b.name)
                    .notification_type(NotificationType::Actual)
                    .action_type(Self::action_type(a))
                    .action_threshold(threshold.clone())
                    .definition(definition.clone())
                    .execution_role_arn(Self::role_arn(cx))
                    .approval_model(Self::approval(a))
                    .set_subscribers(Some(subscribers.clone()))
                    .send()
                    .await
                    .aws("budgets:CreateBudgetAction")
            },
        )
        .await?;
        Ok(())
    }

    async fn update_action(
        cx: &Context,
        b: &BudgetConfig,
        a: &BudgetActionConfig,
        action_id: &str,
        scp_id: Option<&str>,
    ) -> Result<(), AwsError> {
        let (threshold, definition, subscribers) = Self::sdk_action_parts(cx, a, scp_id)?;
        cx.aws
            .budgets
            .update_budget_action()
            .account_id(&cx.account.id)
            .budget_name(&b.name)
            .action_id(action_id)
            .notification_type(NotificationType::Actual)
            .action_threshold(threshold)
            .definition(definition)
            .execution_role_arn(Self::role_arn(cx))
            .approval_model(Self::approval(a))
            .set_subscribers(Some(subscribers))
            .send()
            .await
            .aws("budgets:UpdateBudgetAction")
            .map_err(|e| {
                if e.code_is(&["ResourceLockedException"]) {
                    e.with_hint(format!("the action on budget {} is executing or has fired: reverse it first (`bedrock-monitor budget-action reverse {}`), then apply", b.name, b.name))
                } else {
                    e
                }
            })?;
        Ok(())
    }
}

/// Whether CreateBudgetAction failed because IAM has not yet shown Budgets the execution role
/// or the deny policy created moments before (both are new on a first apply). Budgets answers
/// these as a parameter or access error naming the role or the policy; any other error is
/// final.
fn is_propagation_error(e: &AwsError) -> bool {
    let message = e.message.to_ascii_lowercase();
    e.code_is(&[
        "InvalidParameterException",
        "AccessDeniedException",
        "NotFoundException",
    ]) && (message.contains("role") || message.contains("policy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deny_policy_fits_a_service_control_policy_and_follows_the_spend_definition() {
        let all = deny_policy(&SpendDefinition::default()).expect("renders");
        // AWS Organizations quotas: an SCP document holds at most 5,120 characters.
        assert!(all.to_string().len() <= 5120, "{}", all.to_string().len());
        let text = all.to_string();
        for action in spending_actions::denied(&SpendDefinition::default()) {
            assert!(text.contains(&format!("\"{action}\"")), "{action}");
        }
        let models_only = deny_policy(&SpendDefinition {
            include_agentcore: false,
            ..SpendDefinition::default()
        })
        .expect("renders");
        assert!(!models_only.to_string().contains("bedrock-agentcore:"));
        assert_eq!(models_only["Statement"].as_array().map(Vec::len), Some(2));
    }
}
