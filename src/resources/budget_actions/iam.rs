//! The IAM side of the budget actions: the customer-managed deny policy that `kind = "iam"`
//! actions attach to named principals, and the execution role AWS Budgets assumes to run every
//! action of the stack (IAM or SCP).

use serde_json::Value;

use super::{
    ActionsState, BudgetActions, NOT_FOUND, ObservedPolicy, ObservedRole, ROLE_POLICY_NAME,
};
use crate::aws::{AwsError, AwsResultExt};
use crate::config::actions::{deny_policy_name, execution_role_name};
use crate::docs;
use crate::engine::{ComponentId, Context, Diff};
use crate::resources::iam::{RoleWrite, stack_tags, write_role};
use crate::resources::{absent_if, created_or_exists};

impl BudgetActions {
    pub(super) async fn read_policy(cx: &Context) -> Result<Option<ObservedPolicy>, AwsError> {
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

    pub(super) async fn read_role(cx: &Context) -> Result<Option<ObservedRole>, AwsError> {
        crate::resources::iam::read_role(
            &cx.aws.iam,
            &execution_role_name(&cx.config),
            ROLE_POLICY_NAME,
        )
        .await
    }

    /// Creates the execution role or brings its trust and tags to the config's; writes its
    /// inline policy when `permissions` is given (it changed).
    pub(super) async fn put_role(
        cx: &Context,
        state: &ActionsState,
        diff: &Diff,
        permissions: Option<&Value>,
    ) -> Result<(), AwsError> {
        write_role(
            cx,
            RoleWrite {
                component: ComponentId::BudgetActions,
                what: "execution role",
                name: &execution_role_name(&cx.config),
                description: "Lets AWS Budgets attach the bedrock-monitor deny-Bedrock policy",
                trust: &Self::desired_trust(cx)?,
                policy_name: ROLE_POLICY_NAME,
                policy: permissions,
                exists: state.role.is_some(),
                trust_changed: diff.touches("role.trust"),
                tags_changed: diff.touches("role.tags"),
            },
        )
        .await?;
        Ok(())
    }

    pub(super) async fn put_policy(
        cx: &Context,
        state: &ActionsState,
        diff: &Diff,
    ) -> Result<(), AwsError> {
        let iam = &cx.aws.iam;
        let arn = Self::policy_arn(cx);
        let document = Self::desired_policy(cx)?.to_string();
        let tags = stack_tags(cx)?;
        match &state.policy {
            None => {
                created_or_exists(
                    iam
                        .create_policy()
                        .policy_name(deny_policy_name(&cx.config))
                        .description("Denies Bedrock inference; attached by an AWS Budgets action over budget (bedrock-monitor)")
                        .policy_document(document)
                        .set_tags(Some(tags))
                        .send()
                        .await
                        .aws("iam:CreatePolicy"),
                    &["EntityAlreadyExists"],
                )?;
            }
            Some(p) => {
                if diff.touches("policy.document") {
                    // IAM keeps at most five versions: make room by deleting the oldest
                    // non-default one.
                    let versions = crate::resources::iam::policy_versions(iam, &arn)
                        .await?
                        .unwrap_or_default();
                    if versions.len() >= crate::resources::iam::MAX_POLICY_VERSIONS
                        && let Some(oldest) = crate::resources::iam::oldest_deletable(&versions)
                            .filter(|v| v.version_id() != Some(p.default_version.as_str()))
                            .and_then(|v| v.version_id())
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

    /// Detach the deny policy from whatever still holds it (every page of who holds it),
    /// delete its versions and itself.
    pub(super) async fn delete_policy(cx: &Context) -> Result<(), AwsError> {
        let iam = &cx.aws.iam;
        let arn = Self::policy_arn(cx);
        let Some(entities) = crate::resources::iam::policy_entities(iam, &arn).await? else {
            return Ok(());
        };
        for name in &entities.roles {
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
        for name in &entities.users {
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
        for name in &entities.groups {
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
        let versions = crate::resources::iam::policy_versions(iam, &arn)
            .await?
            .unwrap_or_default();
        for v in versions.iter().filter(|v| !v.is_default_version()) {
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

    pub(super) async fn delete_role(cx: &Context) -> Result<(), AwsError> {
        crate::resources::iam::delete_role_and_policies(
            &cx.aws.iam,
            &execution_role_name(&cx.config),
        )
        .await
    }
}
