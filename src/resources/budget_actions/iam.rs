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
use crate::engine::{Context, Diff};
use crate::resources::absent_if;

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

    /// Creates the execution role or brings its trust and tags to the config's; writes its
    /// inline policy when `permissions` is given (it changed).
    pub(super) async fn put_role(
        cx: &Context,
        state: &ActionsState,
        diff: &Diff,
        permissions: Option<&Value>,
    ) -> Result<(), AwsError> {
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
        if let Some(permissions) = permissions {
            iam.put_role_policy()
                .role_name(&name)
                .policy_name(ROLE_POLICY_NAME)
                .policy_document(permissions.to_string())
                .send()
                .await
                .aws("iam:PutRolePolicy")?;
        }
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
    pub(super) async fn delete_policy(cx: &Context) -> Result<(), AwsError> {
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

    pub(super) async fn delete_role(cx: &Context) -> Result<(), AwsError> {
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
}
