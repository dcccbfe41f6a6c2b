//! IAM calls that several components make (the logging role, the budget action's execution
//! role and deny policy, the chat role, the limits runner's roles): a role with one inline
//! policy written the same way, every list followed to its last page, and a role emptied
//! before it is deleted.
//!
//! IAM's list operations answer at most `MaxItems` items a page (default 100) and say
//! `IsTruncated` with a `Marker` for the next (IAM API reference, "ListEntitiesForPolicy",
//! "ListRolePolicies", "ListAttachedRolePolicies", "ListPolicyVersions": "IsTruncated — A flag
//! that indicates whether there are more items to return"). Reading only the first page leaves
//! policies attached past it, and the delete then fails with `DeleteConflict`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::PolicyVersion;
use futures::future::BoxFuture;
use serde_json::Value;

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{ComponentId, Context};

use super::{absent_if, created_or_exists, retry_while, run_bounded};

/// What IAM answers when the role or policy is not there.
pub const NOT_FOUND: &[&str] = &["NoSuchEntity", "NoSuchEntityException"];

/// Guards against an endpoint that answers `IsTruncated` with the same marker forever.
const MAX_PAGES: usize = 10_000;

/// The next marker of a page, or `None` at the last page (or a marker repeated).
fn next_marker(truncated: bool, marker: Option<&str>, previous: &Option<String>) -> Option<String> {
    match marker.filter(|m| truncated && !m.is_empty()) {
        Some(m) if previous.as_deref() != Some(m) => Some(m.to_string()),
        _ => None,
    }
}

/// The stack's tags as IAM takes them.
pub fn stack_tags(cx: &Context) -> Result<Vec<aws_sdk_iam::types::Tag>, AwsError> {
    cx.config
        .tags()
        .into_iter()
        .map(|(k, v)| Ok(aws_sdk_iam::types::Tag::builder().key(k).value(v).build()?))
        .collect()
}

/// A role the stack owns with one inline policy, and which of its parts to write: a missing
/// role is created with its trust and tags; an existing one gets only what changed.
pub struct RoleWrite<'a> {
    pub component: ComponentId,
    /// What the role is to the user ("role", "execution role"), for the wait message.
    pub what: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub trust: &'a Value,
    pub policy_name: &'a str,
    /// `None` when the inline policy is already as wanted.
    pub policy: Option<&'a Value>,
    pub exists: bool,
    pub trust_changed: bool,
    pub tags_changed: bool,
}

/// Writes `role` (see [`RoleWrite`]); returns the ARN of a role it created.
pub async fn write_role(cx: &Context, role: RoleWrite<'_>) -> Result<Option<String>, AwsError> {
    let iam = &cx.aws.iam;
    let tags = stack_tags(cx)?;
    let mut created = None;
    if !role.exists {
        let answer = iam
            .create_role()
            .role_name(role.name)
            .assume_role_policy_document(role.trust.to_string())
            .description(role.description)
            .set_tags(Some(tags))
            .send()
            .await
            .aws("iam:CreateRole");
        created = answer
            .as_ref()
            .ok()
            .and_then(|out| out.role())
            .map(|r| r.arn().to_string());
        // Made by a run interrupted after the call: adopted.
        created_or_exists(answer, &["EntityAlreadyExists"])?;
    } else {
        if role.trust_changed {
            iam.update_assume_role_policy()
                .role_name(role.name)
                .policy_document(role.trust.to_string())
                .send()
                .await
                .aws("iam:UpdateAssumeRolePolicy")?;
        }
        if role.tags_changed {
            iam.tag_role()
                .role_name(role.name)
                .set_tags(Some(tags))
                .send()
                .await
                .aws("iam:TagRole")?;
        }
    }
    if let Some(policy) = role.policy {
        let document = policy.to_string();
        let waiting = format!(
            "waiting for the new {} {} to become visible",
            role.what, role.name
        );
        // IAM is eventually consistent (IAM User Guide, "Changes that I make are not always
        // immediately visible"): a role just made can be unknown to PutRolePolicy for seconds.
        retry_while(
            cx,
            role.component,
            Duration::from_secs(30),
            &waiting,
            |e| e.code_is(NOT_FOUND),
            || async {
                iam.put_role_policy()
                    .role_name(role.name)
                    .policy_name(role.policy_name)
                    .policy_document(&document)
                    .send()
                    .await
                    .aws("iam:PutRolePolicy")
            },
        )
        .await?;
    }
    Ok(created)
}

/// Who has a managed policy attached, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyEntities {
    pub roles: Vec<String>,
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

/// Every role, user and group the policy is attached to; `None` when the policy is absent.
pub async fn policy_entities(iam: &Client, arn: &str) -> Result<Option<PolicyEntities>, AwsError> {
    let mut entities = PolicyEntities::default();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = absent_if(
            iam.list_entities_for_policy()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
                .await
                .aws("iam:ListEntitiesForPolicy"),
            NOT_FOUND,
        )?;
        let Some(page) = page else { return Ok(None) };
        entities.roles.extend(
            page.policy_roles()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string)),
        );
        entities.users.extend(
            page.policy_users()
                .iter()
                .filter_map(|u| u.user_name().map(str::to_string)),
        );
        entities.groups.extend(
            page.policy_groups()
                .iter()
                .filter_map(|g| g.group_name().map(str::to_string)),
        );
        match next_marker(page.is_truncated(), page.marker(), &marker) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(Some(entities))
}

/// Every version of a managed policy; `None` when the policy is absent.
pub async fn policy_versions(
    iam: &Client,
    arn: &str,
) -> Result<Option<Vec<PolicyVersion>>, AwsError> {
    let mut versions = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = absent_if(
            iam.list_policy_versions()
                .policy_arn(arn)
                .set_marker(marker.clone())
                .send()
                .await
                .aws("iam:ListPolicyVersions"),
            NOT_FOUND,
        )?;
        let Some(page) = page else { return Ok(None) };
        versions.extend(page.versions().iter().cloned());
        match next_marker(page.is_truncated(), page.marker(), &marker) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(Some(versions))
}

/// The version to delete to make room for a new one: the oldest by `CreateDate` among those
/// that are not the default (IAM keeps at most five versions of a managed policy; IAM user
/// guide, "Versioning IAM policies"). The list's order is not documented, so it is not trusted.
pub fn oldest_deletable(versions: &[PolicyVersion]) -> Option<&PolicyVersion> {
    versions
        .iter()
        .filter(|v| !v.is_default_version())
        .min_by_key(|v| {
            v.create_date()
                .map(|d| (d.secs(), d.subsec_nanos()))
                .unwrap_or((i64::MIN, 0))
        })
}

/// IAM keeps at most five versions of a managed policy (IAM user guide, "Versioning IAM
/// policies": "A managed policy can have up to five versions").
pub const MAX_POLICY_VERSIONS: usize = 5;

/// The names of a role's inline policies, every page.
pub async fn role_policy_names(iam: &Client, role: &str) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = iam
            .list_role_policies()
            .role_name(role)
            .set_marker(marker.clone())
            .send()
            .await
            .aws("iam:ListRolePolicies")?;
        names.extend(page.policy_names().iter().cloned());
        match next_marker(page.is_truncated(), page.marker(), &marker) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(names)
}

/// The ARNs of the managed policies attached to a role, every page.
pub async fn attached_role_policy_arns(iam: &Client, role: &str) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker.clone())
            .send()
            .await
            .aws("iam:ListAttachedRolePolicies")?;
        arns.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string)),
        );
        match next_marker(page.is_truncated(), page.marker(), &marker) {
            Some(next) => marker = Some(next),
            None => break,
        }
    }
    Ok(arns)
}

/// Deletes a role and what it holds: IAM deletes a role only once it has no inline and no
/// attached policies (IAM API reference, DeleteRole: "you must first remove those items").
/// A role already gone is not an error.
pub async fn delete_role_and_policies(iam: &Client, role: &str) -> Result<(), AwsError> {
    let (inline, attached) = tokio::join!(
        role_policy_names(iam, role),
        attached_role_policy_arns(iam, role)
    );
    let (inline, attached) = match (inline, attached) {
        (Err(e), _) | (_, Err(e)) if e.code_is(NOT_FOUND) => return Ok(()),
        (inline, attached) => (inline?, attached?),
    };
    let mut jobs: Vec<BoxFuture<'_, Result<(), AwsError>>> = Vec::new();
    for policy in &inline {
        jobs.push(Box::pin(async move {
            absent_if(
                iam.delete_role_policy()
                    .role_name(role)
                    .policy_name(policy)
                    .send()
                    .await
                    .aws("iam:DeleteRolePolicy"),
                NOT_FOUND,
            )
            .map(|_| ())
        }));
    }
    for arn in &attached {
        jobs.push(Box::pin(async move {
            absent_if(
                iam.detach_role_policy()
                    .role_name(role)
                    .policy_arn(arn)
                    .send()
                    .await
                    .aws("iam:DetachRolePolicy"),
                NOT_FOUND,
            )
            .map(|_| ())
        }));
    }
    run_bounded(jobs, 4).await?;
    absent_if(
        iam.delete_role()
            .role_name(role)
            .send()
            .await
            .aws("iam:DeleteRole"),
        NOT_FOUND,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime;

    fn version(id: &str, default: bool, secs: i64) -> PolicyVersion {
        PolicyVersion::builder()
            .version_id(id)
            .is_default_version(default)
            .create_date(DateTime::from_secs(secs))
            .build()
    }

    #[test]
    fn the_oldest_non_default_version_goes_first_whatever_the_order_listed() {
        let versions = [
            version("v5", false, 500),
            version("v2", false, 200),
            version("v1", true, 100),
            version("v4", false, 400),
            version("v3", false, 300),
        ];
        assert_eq!(
            oldest_deletable(&versions).and_then(|v| v.version_id()),
            Some("v2")
        );
        assert!(oldest_deletable(&[version("v1", true, 1)]).is_none());
    }

    #[test]
    fn markers_end_at_the_last_page_or_a_repeat() {
        assert_eq!(next_marker(true, Some("m1"), &None), Some("m1".into()));
        assert_eq!(next_marker(false, Some("m1"), &None), None);
        assert_eq!(next_marker(true, Some(""), &None), None);
        assert_eq!(next_marker(true, Some("m1"), &Some("m1".into())), None);
    }
}

/// A role the tool makes, as read: its trust, one inline policy, its tags.
#[derive(Debug, Clone)]
pub struct ObservedRole {
    pub arn: String,
    pub trust: Option<Value>,
    /// The inline policy the tool writes on it (`None` when it has none of that name).
    pub permissions: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

/// The role `name` with its inline policy `policy_name`; `None` when the role is absent.
pub async fn read_role(
    iam: &Client,
    name: &str,
    policy_name: &str,
) -> Result<Option<ObservedRole>, AwsError> {
    let (role, inline) = tokio::join!(
        iam.get_role().role_name(name).send(),
        iam.get_role_policy()
            .role_name(name)
            .policy_name(policy_name)
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
