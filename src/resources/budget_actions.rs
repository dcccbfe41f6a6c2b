//! `budget-actions`: budgets that can stop Bedrock use, not only report it (`[budgets.action]`,
//! opt-in). Three things: a customer-managed policy that denies Bedrock's invoke actions, the
//! role AWS Budgets assumes to attach it (trusted by `budgets.amazonaws.com` for this account
//! only, allowed to attach and detach exactly that policy on exactly the listed principals),
//! and one `APPLY_IAM_POLICY` action per budget, notifying the topic.
//!
//! An action is this stack's when its definition names this stack's policy. `cleanup` reverses
//! an action that has (or may have) attached the policy before deleting it, and waits until
//! AWS Budgets says the reversal is done, so no principal is left denied; the policy is
//! detached from anything still holding it before it is deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_budgets::types::{
    Action as BudgetAction, ActionThreshold, ActionType, ApprovalModel, Definition, ExecutionType,
    IamActionDefinition, NotificationType, Subscriber, SubscriptionType, ThresholdType,
};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::actions::{deny_policy_name, execution_role_name};
use crate::config::{BudgetActionConfig, BudgetConfig};
use crate::docs;
use crate::engine::{
    Action, ComponentId, Context, Diff, FieldChange, Health, HealthLevel, Ownership, Permission,
    Resource,
};
use crate::resources::{absent_if, ownership_from_tags, retry_while, tags_field};

pub struct BudgetActions;

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

#[derive(Debug, Clone)]
pub struct ObservedRole {
    pub arn: String,
    pub trust: Option<Value>,
    pub permissions: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ObservedAction {
    pub id: String,
    pub settings: Value,
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActionsState {
    pub policy: Option<ObservedPolicy>,
    pub role: Option<ObservedRole>,
    /// This stack's action (its definition names this stack's policy) per budget name.
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

    fn principal_arns(cx: &Context, kind: &str, names: &[String]) -> Vec<String> {
        names
            .iter()
            .map(|n| format!("arn:{}:iam::{}:{kind}/{n}", cx.partition(), cx.account.id))
            .collect()
    }

    fn desired_policy() -> Result<Value, AwsError> {
        Ok(docs::render("deny-bedrock-policy", json!({}))?)
    }

    fn desired_trust(cx: &Context) -> Result<Value, AwsError> {
        Ok(docs::render(
            "budget-action-trust-policy",
            json!({"account_id": cx.account.id, "partition": cx.partition()}),
        )?)
    }

    /// Attach/detach of the deny policy on every principal of every configured action.
    fn desired_role_policy(cx: &Context) -> Result<Value, AwsError> {
        let mut roles = Vec::new();
        let mut users = Vec::new();
        let mut groups = Vec::new();
        for (_, a) in Self::configured(cx) {
            roles.extend(Self::principal_arns(cx, "role", &a.deny_roles));
            users.extend(Self::principal_arns(cx, "user", &a.deny_users));
            groups.extend(Self::principal_arns(cx, "group", &a.deny_groups));
        }
        for list in [&mut roles, &mut users, &mut groups] {
            list.sort();
            list.dedup();
        }
        Ok(docs::render(
            "budget-action-role-policy",
            json!({"policy_arn": Self::policy_arn(cx), "roles": roles, "users": users, "groups": groups}),
        )?)
    }

    fn desired_action(cx: &Context, a: &BudgetActionConfig) -> Value {
        let (value, kind) = match (a.threshold_percent, a.threshold_usd) {
            (Some(p), _) => (p, "PERCENTAGE"),
            (None, Some(usd)) => (usd, "ABSOLUTE_VALUE"),
            (None, None) => (0.0, "PERCENTAGE"),
        };
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        json!({
            "notification_type": "ACTUAL",
            "threshold": {"value": value, "type": kind},
            "policy_arn": Self::policy_arn(cx),
            "roles": sorted(&a.deny_roles),
            "users": sorted(&a.deny_users),
            "groups": sorted(&a.deny_groups),
            "execution_role_arn": Self::role_arn(cx),
            "approval_model": a.approval.to_ascii_uppercase(),
            "subscribers": [cx.topic_arn()],
        })
    }

    fn observed_action(a: &BudgetAction) -> Value {
        let iam = a.definition().and_then(|d| d.iam_action_definition());
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let mut subscribers: Vec<&str> = a.subscribers().iter().map(|s| s.address()).collect();
        subscribers.sort();
        json!({
            "notification_type": a.notification_type().as_str(),
            "threshold": a.action_threshold().map(|t| json!({
                "value": t.action_threshold_value(),
                "type": t.action_threshold_type().as_str(),
            })),
            "policy_arn": iam.map(|i| i.policy_arn()),
            "roles": iam.map(|i| sorted(i.roles())),
            "users": iam.map(|i| sorted(i.users())),
            "groups": iam.map(|i| sorted(i.groups())),
            "execution_role_arn": a.execution_role_arn(),
            "approval_model": a.approval_model().as_str(),
            "subscribers": subscribers,
        })
    }

    fn sdk_action_parts(
        cx: &Context,
        a: &BudgetActionConfig,
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
        let iam = IamActionDefinition::builder()
            .policy_arn(Self::policy_arn(cx))
            .set_roles((!a.deny_roles.is_empty()).then(|| a.deny_roles.clone()))
            .set_users((!a.deny_users.is_empty()).then(|| a.deny_users.clone()))
            .set_groups((!a.deny_groups.is_empty()).then(|| a.deny_groups.clone()))
            .build()?;
        let subscriber = Subscriber::builder()
            .subscription_type(SubscriptionType::Sns)
            .address(cx.topic_arn())
            .build()?;
        Ok((
            threshold,
            Definition::builder().iam_action_definition(iam).build(),
            vec![subscriber],
        ))
    }

    fn approval(a: &BudgetActionConfig) -> ApprovalModel {
        if a.approval == "automatic" {
            ApprovalModel::Auto
        } else {
            ApprovalModel::Manual
        }
    }

    fn owned_tags(cx: &Context, tags: &BTreeMap<String, String>) -> bool {
        matches!(ownership_from_tags(cx, tags), Ownership::Managed { .. })
    }

    async fn read_policy(cx: &Context) -> Result<Option<ObservedPolicy>, AwsError> {
        let iam = &cx.aws.iam;
        let arn = Self::policy_arn(cx);
        let Some(got) = absent_if(
            iam.get_policy()
                .policy_arn(&arn)
                .send()
                .await
                .aws("iam:GetPolicy"),
            NOT_FOUND,
        )?
        else {
            return Ok(None);
        };
        let Some(policy) = got.policy() else {
            return Ok(None);
        };
        let version = policy.default_version_id().unwrap_or("v1").to_string();
        let document = absent_if(
            iam.get_policy_version()
                .policy_arn(&arn)
                .version_id(&version)
                .send()
                .await
                .aws("iam:GetPolicyVersion"),
            NOT_FOUND,
        )?
        .and_then(|v| {
            v.policy_version()
                .and_then(|p| p.document().map(str::to_string))
        })
        .and_then(|d| docs::parse_policy(&d));
        Ok(Some(ObservedPolicy {
            document,
            default_version: version,
            tags: policy
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        }))
    }

    async fn read_role(cx: &Context) -> Result<Option<ObservedRole>, AwsError> {
        let iam = &cx.aws.iam;
        let name = execution_role_name(&cx.config);
        let (role, inline) = tokio::join!(
            iam.get_role().role_name(&name).send(),
            iam.get_role_policy()
                .role_name(&name)
                .policy_name(ROLE_POLICY_NAME)
                .send(),
        );
        let Some(role) = absent_if(role.aws("iam:GetRole"), NOT_FOUND)? else {
            return Ok(None);
        };
        let Some(role) = role.role() else {
            return Ok(None);
        };
        let permissions = absent_if(inline.aws("iam:GetRolePolicy"), NOT_FOUND)?
            .and_then(|p| docs::parse_policy(p.policy_document()));
        Ok(Some(ObservedRole {
            arn: role.arn().to_string(),
            trust: role
                .assume_role_policy_document()
                .and_then(docs::parse_policy),
            permissions,
            tags: role
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        }))
    }

    /// This stack's action on `budget`, if it has one.
    pub async fn find(cx: &Context, budget: &str) -> Result<Option<ObservedAction>, AwsError> {
        Ok(Self::read_actions(cx).await?.remove(budget))
    }

    /// Every configured budget's actions; this stack's is the one naming its policy.
    async fn read_actions(cx: &Context) -> Result<BTreeMap<String, ObservedAction>, AwsError> {
        let policy = Self::policy_arn(cx);
        let mut found = BTreeMap::new();
        for b in &cx.config.budgets {
            let mut next = None;
            loop {
                let page = absent_if(
                    cx.aws
                        .budgets
                        .describe_budget_actions_for_budget()
                        .account_id(&cx.account.id)
                        .budget_name(&b.name)
                        .set_next_token(next)
                        .send()
                        .await
                        .aws("budgets:DescribeBudgetActionsForBudget"),
                    NOT_FOUND,
                )?;
                let Some(page) = page else { break };
                for a in page.actions() {
                    let ours = a
                        .definition()
                        .and_then(|d| d.iam_action_definition())
                        .is_some_and(|i| i.policy_arn() == policy);
                    if ours {
                        found.insert(
                            b.name.clone(),
                            ObservedAction {
                                id: a.action_id().to_string(),
                                settings: Self::observed_action(a),
                                status: a.status().as_str().to_string(),
                            },
                        );
                    }
                }
                next = page.next_token().map(str::to_string);
                if next.is_none() {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Reverse an action that has (or may have) attached the policy, and wait until AWS Budgets
    /// says it has detached it.
    ///
    /// An execution still running is waited for first (AWS refuses to act on it meanwhile). A
    /// failed reversal is retried (RETRY_BUDGET_ACTION re-runs the step that failed); anything
    /// else that may hold the policy is reversed. The status read right after the request may
    /// still be the one before it: AWS Budgets works asynchronously, so that is waited out too,
    /// like REVERSE_IN_PROGRESS, within [`EXECUTION_WAIT`].
    pub async fn reverse_and_wait(
        cx: &Context,
        budget: &str,
        action: &ObservedAction,
    ) -> Result<Reversal, AwsError> {
        let mut status = action.status.clone();
        if IN_PROGRESS.contains(&status.as_str()) {
            status = Self::wait_while(cx, budget, &action.id, |s| IN_PROGRESS.contains(&s)).await?;
        }
        if !MAY_BE_ATTACHED.contains(&status.as_str()) {
            return Ok(Reversal {
                reversed: false,
                status,
            });
        }
        cx.note(
            ComponentId::BudgetActions,
            &format!(
                "reversing the action on budget {budget} ({status}): the principals get Bedrock back"
            ),
        );
        let kind = if status == "REVERSE_FAILURE" {
            ExecutionType::RetryBudgetAction
        } else {
            ExecutionType::ReverseBudgetAction
        };
        Self::execute(cx, budget, &action.id, kind).await?;
        let before = status;
        let end = Self::wait_while(cx, budget, &action.id, |s| {
            s == before || s == "REVERSE_IN_PROGRESS"
        })
        .await?;
        match end.as_str() {
            "REVERSE_SUCCESS" | "STANDBY" | ABSENT => Ok(Reversal {
                reversed: true,
                status: end,
            }),
            other => Err(AwsError::setup(
                format!(
                    "the budget action on {budget} could not be reversed (status {other}); the deny policy may still be attached"
                ),
                "check the action in the AWS Budgets console, detach the policy from the principals if needed, then run the command again",
            )),
        }
    }

    /// Reads the action's status until `waiting` no longer holds, with exponential backoff from
    /// `[aws] initial_backoff_ms` up to `max_backoff_seconds`, for at most [`EXECUTION_WAIT`].
    /// Returns the status that ended the wait ([`ABSENT`] if the action is gone).
    async fn wait_while(
        cx: &Context,
        budget: &str,
        action_id: &str,
        waiting: impl Fn(&str) -> bool,
    ) -> Result<String, AwsError> {
        let started = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(cx.config.aws.initial_backoff_ms.max(1));
        let max_delay = Duration::from_secs(cx.config.aws.max_backoff_seconds.max(1));
        loop {
            let out = absent_if(
                cx.aws
                    .budgets
                    .describe_budget_action()
                    .account_id(&cx.account.id)
                    .budget_name(budget)
                    .action_id(action_id)
                    .send()
                    .await
                    .aws("budgets:DescribeBudgetAction"),
                NOT_FOUND,
            )?;
            let status = out
                .as_ref()
                .and_then(|o| o.action())
                .map(|a| a.status().as_str().to_string())
                .unwrap_or_else(|| ABSENT.to_string());
            if !waiting(&status) {
                return Ok(status);
            }
            if started.elapsed() + delay > EXECUTION_WAIT {
                return Err(AwsError::setup(
                    format!(
                        "the budget action on {budget} is still {status} after {} s",
                        EXECUTION_WAIT.as_secs()
                    ),
                    "AWS Budgets may still be working on it: run the command again in a few minutes (`bedrock-monitor status` shows its state)",
                ));
            }
            cx.note(
                ComponentId::BudgetActions,
                &format!(
                    "the action on budget {budget} is {status}; asking again in {:.1} s",
                    delay.as_secs_f64()
                ),
            );
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(max_delay);
        }
    }

    pub async fn execute(
        cx: &Context,
        budget: &str,
        action_id: &str,
        kind: ExecutionType,
    ) -> Result<(), AwsError> {
        cx.aws
            .budgets
            .execute_budget_action()
            .account_id(&cx.account.id)
            .budget_name(budget)
            .action_id(action_id)
            .execution_type(kind)
            .send()
            .await
            .aws("budgets:ExecuteBudgetAction")
            .map_err(|e| {
                if e.code_is(&["ResourceLockedException", "InvalidParameterException"]) {
                    e.with_hint("the action is not in a state that allows this (approve works on a pending action, reverse on an executed one): `bedrock-monitor status` shows its state")
                } else {
                    e
                }
            })?;
        Ok(())
    }

    async fn delete_action(
        cx: &Context,
        budget: &str,
        action: &ObservedAction,
    ) -> Result<(), AwsError> {
        Self::reverse_and_wait(cx, budget, action).await?;
        absent_if(
            cx.aws
                .budgets
                .delete_budget_action()
                .account_id(&cx.account.id)
                .budget_name(budget)
                .action_id(&action.id)
                .send()
                .await
                .aws("budgets:DeleteBudgetAction"),
            NOT_FOUND,
        )?;
        Ok(())
    }

    async fn put_role(cx: &Context, state: &ActionsState, diff: &Diff) -> Result<(), AwsError> {
        let iam = &cx.aws.iam;
        let name = execution_role_name(&cx.config);
        let tags: Vec<aws_sdk_iam::types::Tag> = cx
            .config
            .tags()
            .iter()
            .map(|(k, v)| Ok(aws_sdk_iam::types::Tag::builder().key(k).value(v).build()?))
            .collect::<Result<_, AwsError>>()?;
        match &state.role {
            None => {
                let created = iam
                    .create_role()
                    .role_name(&name)
                    .assume_role_policy_document(Self::desired_trust(cx)?.to_string())
                    .description("Lets AWS Budgets attach the bedrock-monitor deny-Bedrock policy")
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .aws("iam:CreateRole");
                match created {
                    Ok(_) => {}
                    Err(e) if e.code_is(&["EntityAlreadyExists"]) => {}
                    Err(e) => return Err(e),
                }
            }
            Some(_) => {
                if diff.touches("role.trust") {
                    iam.update_assume_role_policy()
                        .role_name(&name)
                        .policy_document(Self::desired_trust(cx)?.to_string())
                        .send()
                        .await
                        .aws("iam:UpdateAssumeRolePolicy")?;
                }
                if diff.touches("role.tags") {
                    iam.tag_role()
                        .role_name(&name)
                        .set_tags(Some(tags))
                        .send()
                        .await
                        .aws("iam:TagRole")?;
                }
            }
        }
        if state.role.is_none() || diff.touches("role.permissions") {
            iam.put_role_policy()
                .role_name(&name)
                .policy_name(ROLE_POLICY_NAME)
                .policy_document(Self::desired_role_policy(cx)?.to_string())
                .send()
                .await
                .aws("iam:PutRolePolicy")?;
        }
        Ok(())
    }

    async fn put_policy(cx: &Context, state: &ActionsState, diff: &Diff) -> Result<(), AwsError> {
        let iam = &cx.aws.iam;
        let arn = Self::policy_arn(cx);
        let document = Self::desired_policy()?.to_string();
        let tags: Vec<aws_sdk_iam::types::Tag> = cx
            .config
            .tags()
            .iter()
            .map(|(k, v)| Ok(aws_sdk_iam::types::Tag::builder().key(k).value(v).build()?))
            .collect::<Result<_, AwsError>>()?;
        match &state.policy {
            None => {
                let created = iam
                    .create_policy()
                    .policy_name(deny_policy_name(&cx.config))
                    .description("Denies Bedrock inference; attached by an AWS Budgets action over budget (bedrock-monitor)")
                    .policy_document(document)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .aws("iam:CreatePolicy");
                match created {
                    Ok(_) => {}
                    Err(e) if e.code_is(&["EntityAlreadyExists"]) => {}
                    Err(e) => return Err(e),
                }
            }
            Some(p) => {
                if diff.touches("policy.document") {
                    // IAM keeps at most five versions: make room by deleting the oldest
                    // non-default one.
                    let versions = iam
                        .list_policy_versions()
                        .policy_arn(&arn)
                        .send()
                        .await
                        .aws("iam:ListPolicyVersions")?;
                    let old: Vec<String> = versions
                        .versions()
                        .iter()
                        .filter(|v| {
                            !v.is_default_version()
                                && v.version_id() != Some(p.default_version.as_str())
                        })
                        .filter_map(|v| v.version_id().map(str::to_string))
                        .collect();
                    if versions.versions().len() >= 5
                        && let Some(oldest) = old.first()
                    {
                        iam.delete_policy_version()
                            .policy_arn(&arn)
                            .version_id(oldest)
                            .send()
                            .await
                            .aws("iam:DeletePolicyVersion")?;
                    }
                    iam.create_policy_version()
                        .policy_arn(&arn)
                        .policy_document(document)
                        .set_as_default(true)
                        .send()
                        .await
                        .aws("iam:CreatePolicyVersion")?;
                }
                if diff.touches("policy.tags") {
                    iam.tag_policy()
                        .policy_arn(&arn)
                        .set_tags(Some(tags))
                        .send()
                        .await
                        .aws("iam:TagPolicy")?;
                }
            }
        }
        Ok(())
    }

    /// Detach the deny policy from whatever still holds it, delete its versions and itself.
    async fn delete_policy(cx: &Context) -> Result<(), AwsError> {
        let iam = &cx.aws.iam;
        let arn = Self::policy_arn(cx);
        let Some(entities) = absent_if(
            iam.list_entities_for_policy()
                .policy_arn(&arn)
                .send()
                .await
                .aws("iam:ListEntitiesForPolicy"),
            NOT_FOUND,
        )?
        else {
            return Ok(());
        };
        for r in entities.policy_roles() {
            if let Some(name) = r.role_name() {
                absent_if(
                    iam.detach_role_policy()
                        .role_name(name)
                        .policy_arn(&arn)
                        .send()
                        .await
                        .aws("iam:DetachRolePolicy"),
                    NOT_FOUND,
                )?;
            }
        }
        for u in entities.policy_users() {
            if let Some(name) = u.user_name() {
                absent_if(
                    iam.detach_user_policy()
                        .user_name(name)
                        .policy_arn(&arn)
                        .send()
                        .await
                        .aws("iam:DetachUserPolicy"),
                    NOT_FOUND,
                )?;
            }
        }
        for g in entities.policy_groups() {
            if let Some(name) = g.group_name() {
                absent_if(
                    iam.detach_group_policy()
                        .group_name(name)
                        .policy_arn(&arn)
                        .send()
                        .await
                        .aws("iam:DetachGroupPolicy"),
                    NOT_FOUND,
                )?;
            }
        }
        if let Some(versions) = absent_if(
            iam.list_policy_versions()
                .policy_arn(&arn)
                .send()
                .await
                .aws("iam:ListPolicyVersions"),
            NOT_FOUND,
        )? {
            for v in versions
                .versions()
                .iter()
                .filter(|v| !v.is_default_version())
            {
                if let Some(id) = v.version_id() {
                    absent_if(
                        iam.delete_policy_version()
                            .policy_arn(&arn)
                            .version_id(id)
                            .send()
                            .await
                            .aws("iam:DeletePolicyVersion"),
                        NOT_FOUND,
                    )?;
                }
            }
        }
        absent_if(
            iam.delete_policy()
                .policy_arn(&arn)
                .send()
                .await
                .aws("iam:DeletePolicy"),
            NOT_FOUND,
        )?;
        Ok(())
    }

    async fn delete_role(cx: &Context) -> Result<(), AwsError> {
        let iam = &cx.aws.iam;
        let name = execution_role_name(&cx.config);
        absent_if(
            iam.delete_role_policy()
                .role_name(&name)
                .policy_name(ROLE_POLICY_NAME)
                .send()
                .await
                .aws("iam:DeleteRolePolicy"),
            NOT_FOUND,
        )?;
        absent_if(
            iam.delete_role()
                .role_name(&name)
                .send()
                .await
                .aws("iam:DeleteRole"),
            NOT_FOUND,
        )?;
        Ok(())
    }

    fn principals_text(a: &BudgetActionConfig) -> String {
        let mut parts = Vec::new();
        for (kind, names) in [
            ("roles", &a.deny_roles),
            ("users", &a.deny_users),
            ("groups", &a.deny_groups),
        ] {
            if !names.is_empty() {
                parts.push(format!("{kind} {}", names.join(", ")));
            }
        }
        parts.join("; ")
    }
}

#[async_trait]
impl Resource for BudgetActions {
    type State = ActionsState;

    fn id(&self) -> ComponentId {
        ComponentId::BudgetActions
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
        let (policy, role, actions) = tokio::join!(
            Self::read_policy(cx),
            Self::read_role(cx),
            Self::read_actions(cx)
        );
        Ok(ActionsState {
            policy: policy?,
            role: role?,
            actions: actions?,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let tags = cx.config.tags();
        let mut changes = Vec::new();
        // Policy documents compare by meaning (IAM returns them reordered and encoded).
        let mut push = |field: String, old: Value, new: Value| {
            let is_document = [".document", ".trust", ".permissions"]
                .iter()
                .any(|suffix| field.ends_with(suffix));
            let same = if is_document {
                !old.is_null() && docs::same_policy(&old, &new)
            } else {
                old == new
            };
            if !same {
                changes.push(FieldChange { field, old, new });
            }
        };
        let rendered = (
            Self::desired_policy(),
            Self::desired_trust(cx),
            Self::desired_role_policy(cx),
        );
        let (Ok(policy), Ok(trust), Ok(permissions)) = rendered else {
            return Diff::unchanged()
                .with_note("internal error: a budget-action policy template did not render");
        };
        push(
            "policy.document".into(),
            state
                .policy
                .as_ref()
                .and_then(|p| p.document.clone())
                .unwrap_or(Value::Null),
            policy,
        );
        push(
            "policy.tags".into(),
            state
                .policy
                .as_ref()
                .map(|p| tags_field(&tags, &p.tags).0)
                .unwrap_or(Value::Null),
            json!(tags),
        );
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
                Self::desired_action(cx, a),
            );
            if !state.actions.contains_key(&b.name) {
                notes.push(format!(
                    "budget {}: when actual spend crosses {}, AWS Budgets {} a policy denying Bedrock to {}: this can block production traffic. Budgets evaluate a few times a day, so the block lags spend by hours; the alarms are the minute-level signal",
                    b.name,
                    match (a.threshold_percent, a.threshold_usd) {
                        (Some(p), _) => format!("{p} % of the limit"),
                        (None, Some(usd)) => format!("{usd} USD"),
                        _ => "its threshold".into(),
                    },
                    if a.approval == "automatic" { "attaches at once" } else { "asks for approval (console or `bedrock-monitor budget-action approve`) before it attaches" },
                    Self::principals_text(a)
                ));
            }
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
        let nothing = state.policy.is_none() && state.role.is_none() && state.actions.is_empty();
        Diff {
            action: if changes.is_empty() {
                Action::Unchanged
            } else if nothing {
                Action::Create
            } else {
                Action::Update
            },
            changes,
            notes,
        }
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        Self::put_policy(cx, state, diff).await?;
        Self::put_role(cx, state, diff).await?;
        let budgets = &cx.aws.budgets;
        for (b, a) in Self::configured(cx) {
            let desired = Self::desired_action(cx, a);
            let (threshold, definition, subscribers) = Self::sdk_action_parts(cx, a)?;
            match state.actions.get(&b.name) {
                None => {
                    // A new execution role takes a moment to be assumable by Budgets.
                    retry_while(
                        cx,
                        ComponentId::BudgetActions,
                        Duration::from_secs(60),
                        "waiting for IAM to propagate the execution role",
                        |e| {
                            e.code_is(&["InvalidParameterException", "AccessDeniedException"])
                                && e.message.to_ascii_lowercase().contains("role")
                        },
                        || async {
                            budgets
                                .create_budget_action()
                                .account_id(&cx.account.id)
                                .budget_name(&b.name)
                                .notification_type(NotificationType::Actual)
                                .action_type(ActionType::Iam)
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
                }
                Some(o) if o.settings != desired => {
                    budgets
                        .update_budget_action()
                        .account_id(&cx.account.id)
                        .budget_name(&b.name)
                        .action_id(&o.id)
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
                }
                Some(_) => {}
            }
        }
        for (budget, o) in &state.actions {
            if !Self::configured(cx).iter().any(|(b, _)| &b.name == budget) {
                Self::delete_action(cx, budget, o).await?;
            }
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
        for (what, o) in [("policy", &policy), ("execution role", &role)] {
            if let Some(Ownership::NotManaged { reason }) = o {
                return Ownership::NotManaged {
                    reason: format!("the {what} {reason}"),
                };
            }
        }
        if policy.is_none() && role.is_none() && state.actions.is_empty() {
            return Ownership::Missing;
        }
        Ownership::Managed {
            evidence: format!(
                "tag on the policy and role; actions naming policy {}",
                deny_policy_name(&cx.config)
            ),
        }
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        Self::configured(cx)
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
                            "pending approval: spend crossed the threshold; `bedrock-monitor budget-action approve {}` denies Bedrock to {}", b.name, Self::principals_text(a)
                        )),
                        "EXECUTION_SUCCESS" | "EXECUTION_IN_PROGRESS" => (HealthLevel::Alarm, format!(
                            "executed: Bedrock is denied now to {}; raise the limit, then `bedrock-monitor budget-action reverse {}`", Self::principals_text(a), b.name
                        )),
                        "REVERSE_SUCCESS" => (HealthLevel::Ok, "reversed: the principals have Bedrock again".to_string()),
                        other => (HealthLevel::Warning, format!("{}: see the action's history in the AWS Budgets console", other.to_ascii_lowercase())),
                    };
                    Health { subject: b.name.clone(), level, detail }
                }
            })
            .collect()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let budgets = format!("arn:{}:budgets::{}:budget/*", cx.partition(), cx.account.id);
        let actions = format!(
            "arn:{}:budgets::{}:budget/*/action/*",
            cx.partition(),
            cx.account.id
        );
        vec![
            Permission::new(
                &[
                    "budgets:DescribeBudgetActionsForBudget",
                    "budgets:CreateBudgetAction",
                ],
                [budgets],
            ),
            Permission::new(
                &[
                    "budgets:DescribeBudgetAction",
                    "budgets:UpdateBudgetAction",
                    "budgets:DeleteBudgetAction",
                    "budgets:ExecuteBudgetAction",
                ],
                [actions],
            ),
            Permission::new(
                &[
                    "iam:GetPolicy",
                    "iam:GetPolicyVersion",
                    "iam:CreatePolicy",
                    "iam:CreatePolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:DeletePolicyVersion",
                    "iam:TagPolicy",
                    "iam:ListEntitiesForPolicy",
                    "iam:DeletePolicy",
                ],
                [Self::policy_arn(cx)],
            ),
            Permission::new(
                &[
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:CreateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:PutRolePolicy",
                    "iam:TagRole",
                    "iam:DeleteRolePolicy",
                    "iam:DeleteRole",
                ],
                [Self::role_arn(cx)],
            ),
            // CreateBudgetAction passes the execution role to Budgets.
            Permission {
                actions: vec!["iam:PassRole"],
                resources: vec![Self::role_arn(cx)],
                condition: Some(
                    json!({"StringEquals": {"iam:PassedToService": "budgets.amazonaws.com"}}),
                ),
            },
            // cleanup detaches the deny policy from whatever still holds it.
            Permission {
                actions: vec![
                    "iam:DetachRolePolicy",
                    "iam:DetachUserPolicy",
                    "iam:DetachGroupPolicy",
                ],
                resources: vec![format!("arn:{}:iam::{}:*", cx.partition(), cx.account.id)],
                condition: Some(json!({"ArnEquals": {"iam:PolicyARN": Self::policy_arn(cx)}})),
            },
        ]
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
