//! The service control policy of `kind = "scp"` budget actions: the deny policy as an SCP in the
//! organization's management account, found by name, owned by its stack tag. AWS Budgets
//! attaches it to the configured accounts and OUs when spend crosses the threshold
//! (`APPLY_SCP_POLICY`). An SCP binds every principal of the accounts it is attached to, the
//! accounts' administrators and their own IAM changes included; it does not bind the
//! management account itself (Organizations user guide, "Service control policies": "SCPs
//! don't affect users or roles in the management account"), nor service-linked roles.

use std::collections::BTreeMap;

use aws_sdk_organizations::types::{PolicyType, PolicyTypeStatus, Tag};
use serde_json::Value;

use super::BudgetActions;
use crate::aws::{AwsError, AwsResultExt};
use crate::config::actions::deny_policy_name;
use crate::docs;
use crate::engine::Context;
use crate::engine::context::AccountKind;
use crate::resources::absent_if;

/// The SCP as read: its generated ID (`p-…`), content, tags, and what it is attached to now.
#[derive(Debug, Clone)]
pub struct ObservedScp {
    pub id: String,
    pub content: Option<Value>,
    pub tags: BTreeMap<String, String>,
    pub targets: Vec<String>,
}

/// Organizations error codes for an SCP that is gone.
const SCP_NOT_FOUND: &[&str] = &["PolicyNotFoundException", "TargetNotFoundException"];

impl BudgetActions {
    /// SCP budget actions need the organization's management account: only it can attach SCPs
    /// (Organizations API reference, AttachPolicy: "This operation can be called only from the
    /// organization's management account"), and a budget action's execution role must be in
    /// the account of the action (Budgets API reference, CreateBudgetAction: "Roles and
    /// actions must be in the same account"). A target that is the management account itself
    /// is refused: no SCP applies to it.
    pub(super) async fn require_management(cx: &Context) -> Result<(), AwsError> {
        match cx.account_kind().await? {
            AccountKind::Management => {}
            AccountKind::Standalone => {
                return Err(AwsError::setup(
                    format!(
                        "account {} is not in an organization: a budget action of kind = \"scp\" applies a service control policy of AWS Organizations",
                        cx.account.id
                    ),
                    "use kind = \"iam\" (a policy on named principals) in a standalone account",
                ));
            }
            AccountKind::Member { management_account } => {
                return Err(AwsError::setup(
                    format!(
                        "a budget action of kind = \"scp\" can only be managed from the organization's management account ({management_account}); account {} is a member account",
                        cx.account.id
                    ),
                    format!(
                        "run this with credentials of account {management_account}, or use kind = \"iam\" here"
                    ),
                ));
            }
        }
        for (b, a) in Self::configured(cx) {
            if a.is_scp() && a.target_accounts.contains(&cx.account.id) {
                return Err(AwsError::setup(
                    format!(
                        "budget {}: target_accounts names the management account {} itself, which no service control policy restricts",
                        b.name, cx.account.id
                    ),
                    "remove it from target_accounts; stop spend in the management account with an action of kind = \"iam\" on its principals",
                ));
            }
        }
        Ok(())
    }

    /// The stack's SCP, found by name among the organization's service control policies.
    pub(super) async fn read_scp(cx: &Context) -> Result<Option<ObservedScp>, AwsError> {
        let org = &cx.aws.organizations;
        let name = deny_policy_name(&cx.config);
        let mut next = None;
        let id = loop {
            let page = org
                .list_policies()
                .filter(PolicyType::ServiceControlPolicy)
                .set_next_token(next)
                .send()
                .await
                .aws("organizations:ListPolicies")?;
            if let Some(p) = page.policies().iter().find(|p| p.name() == Some(&name)) {
                break p.id().map(str::to_string);
            }
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break None;
            }
        };
        let Some(id) = id else { return Ok(None) };
        let (described, tags, targets) = tokio::join!(
            org.describe_policy().policy_id(&id).send(),
            org.list_tags_for_resource().resource_id(&id).send(),
            Self::scp_targets(cx, &id),
        );
        let Some(described) =
            absent_if(described.aws("organizations:DescribePolicy"), SCP_NOT_FOUND)?
        else {
            return Ok(None);
        };
        let tags = absent_if(tags.aws("organizations:ListTagsForResource"), SCP_NOT_FOUND)?
            .map(|t| {
                t.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(ObservedScp {
            content: described
                .policy()
                .and_then(|p| p.content())
                .and_then(docs::parse_policy),
            id,
            tags,
            targets: targets?,
        }))
    }

    /// Every root, OU and account the SCP is attached to.
    async fn scp_targets(cx: &Context, id: &str) -> Result<Vec<String>, AwsError> {
        let mut found = Vec::new();
        let mut next = None;
        loop {
            let Some(page) = absent_if(
                cx.aws
                    .organizations
                    .list_targets_for_policy()
                    .policy_id(id)
                    .set_next_token(next)
                    .send()
                    .await
                    .aws("organizations:ListTargetsForPolicy"),
                SCP_NOT_FOUND,
            )?
            else {
                return Ok(found);
            };
            found.extend(
                page.targets()
                    .iter()
                    .filter_map(|t| t.target_id().map(str::to_string)),
            );
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                return Ok(found);
            }
        }
    }

    /// Whether the organization's root has service control policies enabled: until it does,
    /// an SCP can be created but not attached (Organizations API reference, AttachPolicy:
    /// PolicyTypeNotEnabledException), so the action would fail when it fires.
    pub(super) async fn scps_enabled(cx: &Context) -> Result<bool, AwsError> {
        let roots = cx
            .aws
            .organizations
            .list_roots()
            .send()
            .await
            .aws("organizations:ListRoots")?;
        Ok(roots.roots().iter().any(|r| {
            r.policy_types().iter().any(|t| {
                t.r#type() == Some(&PolicyType::ServiceControlPolicy)
                    && t.status() == Some(&PolicyTypeStatus::Enabled)
            })
        }))
    }

    fn org_tags(cx: &Context) -> Result<Vec<Tag>, AwsError> {
        cx.config
            .tags()
            .iter()
            .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
            .collect()
    }

    /// Creates the SCP or brings its content and tags to the config's; returns its ID.
    pub(super) async fn put_scp(
        cx: &Context,
        observed: Option<&ObservedScp>,
        content_changed: bool,
        tags_changed: bool,
    ) -> Result<String, AwsError> {
        let org = &cx.aws.organizations;
        let content = Self::desired_policy(cx)?.to_string();
        let Some(scp) = observed else {
            let created = org
                .create_policy()
                .name(deny_policy_name(&cx.config))
                .description("Denies Bedrock spend; attached by an AWS Budgets action over budget (bedrock-monitor)")
                .r#type(PolicyType::ServiceControlPolicy)
                .content(content)
                .set_tags(Some(Self::org_tags(cx)?))
                .send()
                .await
                .aws("organizations:CreatePolicy")?;
            return created
                .policy()
                .and_then(|p| p.policy_summary())
                .and_then(|s| s.id())
                .map(str::to_string)
                .ok_or_else(|| AwsError::bad_response("organizations:CreatePolicy", "policy ID"));
        };
        if content_changed {
            org.update_policy()
                .policy_id(&scp.id)
                .content(content)
                .send()
                .await
                .aws("organizations:UpdatePolicy")?;
        }
        if tags_changed {
            org.tag_resource()
                .resource_id(&scp.id)
                .set_tags(Some(Self::org_tags(cx)?))
                .send()
                .await
                .aws("organizations:TagResource")?;
        }
        Ok(scp.id.clone())
    }

    /// Detaches the SCP from everything it is attached to, then deletes it (Organizations
    /// refuses to delete an attached policy: PolicyInUseException).
    pub(super) async fn delete_scp(cx: &Context, scp: &ObservedScp) -> Result<(), AwsError> {
        let org = &cx.aws.organizations;
        for target in Self::scp_targets(cx, &scp.id).await? {
            absent_if(
                org.detach_policy()
                    .policy_id(&scp.id)
                    .target_id(&target)
                    .send()
                    .await
                    .aws("organizations:DetachPolicy"),
                &[
                    "PolicyNotAttachedException",
                    SCP_NOT_FOUND[0],
                    SCP_NOT_FOUND[1],
                ],
            )?;
        }
        absent_if(
            org.delete_policy()
                .policy_id(&scp.id)
                .send()
                .await
                .aws("organizations:DeletePolicy"),
            SCP_NOT_FOUND,
        )?;
        Ok(())
    }

    /// The execution role's grant for SCP actions: attach and detach exactly the stack's SCP
    /// (`policy_id`; before it exists, a placeholder only `plan` shows: `apply` writes the role
    /// after creating the SCP, with its ID), on exactly the configured targets.
    /// Organizations resource ARNs (Service Authorization Reference, AWS Organizations):
    /// `policy/o-<org>/service_control_policy/p-<id>`, `account/o-<org>/<account>`,
    /// `ou/o-<org>/ou-<id>`, owned by the management account; `organizations:PolicyType`
    /// narrows AttachPolicy and DetachPolicy to SCPs.
    pub(super) fn scp_role_statement(cx: &Context, policy_id: Option<&str>) -> Option<Value> {
        let mut accounts = Vec::new();
        let mut ous = Vec::new();
        for (_, a) in Self::configured(cx) {
            if a.is_scp() {
                accounts.extend(a.target_accounts.iter().cloned());
                ous.extend(a.target_ous.iter().cloned());
            }
        }
        if accounts.is_empty() && ous.is_empty() {
            return None;
        }
        accounts.sort();
        accounts.dedup();
        ous.sort();
        ous.dedup();
        let base = format!("arn:{}:organizations::{}:", cx.partition(), cx.account.id);
        let mut resources = vec![format!(
            "{base}policy/o-*/service_control_policy/{}",
            policy_id.unwrap_or("p-(created by apply)")
        )];
        resources.extend(accounts.iter().map(|a| format!("{base}account/o-*/{a}")));
        resources.extend(ous.iter().map(|o| format!("{base}ou/o-*/{o}")));
        Some(serde_json::json!({
            "Sid": "AttachDenyScpToTargets",
            "Effect": "Allow",
            "Action": ["organizations:AttachPolicy", "organizations:DetachPolicy"],
            "Resource": resources,
            "Condition": {"StringEquals": {"organizations:PolicyType": "SERVICE_CONTROL_POLICY"}},
        }))
    }
}
