//! `role`: the IAM role Bedrock assumes to deliver invocation logs, with its trust policy
//! (Bedrock, from this account and region only) and an inline policy scoped to the log group's
//! streams and the bucket's key prefix.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{ComponentId, Context, Diff, Foreign, Ownership, Permission, Resource};
use crate::resources::iam::{RoleWrite, write_role};
use crate::resources::{foreign_by_tags, ownership_by_tag, tags_field};

pub struct Role;

#[derive(Debug, Clone)]
pub struct RoleState {
    pub arn: String,
    pub trust_policy: Option<Value>,
    pub policy: Option<Value>,
    pub tags: BTreeMap<String, String>,
}


impl Role {
    pub fn trust_policy(cx: &Context) -> Result<Value, AwsError> {
        docs::render(
            "role-trust-policy",
            json!({
                "account_id": cx.account.id,
                "partition": cx.partition(),
                "source_arns": one_or_list(
                    cx.regions
                        .iter()
                        .map(|r| format!("arn:{}:bedrock:{r}:{}:*", cx.partition(), cx.account.id))
                        .collect(),
                ),
            }),
        )
        .map_err(AwsError::from)
    }

    pub fn permissions_policy(cx: &Context) -> Result<Value, AwsError> {
        docs::render(
            "role-permissions-policy",
            json!({
                "account_id": cx.account.id,
                "partition": cx.partition(),
                "log_stream_arns": one_or_list(
                    cx.regions
                        .iter()
                        .map(|r| format!(
                            "arn:{}:logs:{r}:{}:log-group:{}:log-stream:*",
                            cx.partition(),
                            cx.account.id,
                            cx.config.log_group.name
                        ))
                        .collect(),
                ),
                "payload_arns": one_or_list(
                    cx.regions
                        .iter()
                        .map(|r| format!(
                            "arn:{}:s3:::{}/{}*",
                            cx.partition(),
                            cx.bucket_name_in(r),
                            cx.config.bucket.key_prefix
                        ))
                        .collect(),
                ),
                "key_prefix": cx.config.bucket.key_prefix,
                "large_data_to_s3": cx.config.invocation_logging.large_data_to_s3,
                // Large bodies written to an SSE-KMS bucket need a data key.
                "bucket_kms_key_arn": cx.config.bucket.kms_key_arn,
            }),
        )
        .map_err(AwsError::from)
    }

    fn desired(cx: &Context) -> Result<Vec<(String, Value)>, AwsError> {
        Ok(vec![
            ("trust_policy".into(), Self::trust_policy(cx)?),
            (
                format!("inline_policy.{}", cx.config.iam_role.policy_name),
                Self::permissions_policy(cx)?,
            ),
            ("tags".into(), json!(cx.config.tags())),
        ])
    }
}

fn policy_name_field(cx: &Context) -> String {
    format!("inline_policy.{}", cx.config.iam_role.policy_name)
}

#[async_trait]
impl Resource for Role {
    type State = Option<RoleState>;

    fn id(&self) -> ComponentId {
        ComponentId::Role
    }

    /// IAM and Budgets are global to an account: once, in its first region.
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Account
    }

    fn name(&self, cx: &Context) -> String {
        cx.config.iam_role.name.clone()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let Some(role) = super::iam::read_role(
            &cx.aws.iam,
            &cx.config.iam_role.name,
            &cx.config.iam_role.policy_name,
        )
        .await?
        else {
            return Ok(None);
        };
        cx.set_role_arn(&role.arn);
        Ok(Some(RoleState {
            arn: role.arn,
            trust_policy: role.trust,
            policy: role.permissions,
            tags: role.tags,
        }))
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let desired = match Self::desired(cx) {
            Ok(d) => d,
            Err(e) => return Diff::unchanged().with_note(e.to_string()),
        };
        let Some(state) = state else {
            return Diff::create(desired);
        };
        let policy_field = policy_name_field(cx);
        let mut diff = Diff::compare(desired, |field| match field {
            "trust_policy" => state.trust_policy.clone().unwrap_or(Value::Null),
            "tags" => tags_field(&cx.config.tags(), &state.tags).0,
            f if f == policy_field => state.policy.clone().unwrap_or(Value::Null),
            _ => Value::Null,
        });
        // Policies are equal when they mean the same, whatever AWS did to their layout.
        diff.changes.retain(|c| {
            !(c.field != "tags" && !c.old.is_null() && docs::same_policy(&c.old, &c.new))
        });
        if diff.changes.is_empty() {
            diff.action = crate::engine::Action::Unchanged;
        }
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        let name = &cx.config.iam_role.name;
        let iam = &cx.aws.iam;
        let policy = Self::permissions_policy(cx)?;
        let created = write_role(
            cx,
            RoleWrite {
                component: ComponentId::Role,
                what: "role",
                name: name.as_str(),
                description: "Lets Amazon Bedrock deliver model invocation logs (managed by bedrock-monitor)",
                trust: &Self::trust_policy(cx)?,
                policy_name: &cx.config.iam_role.policy_name,
                policy: diff.touches(&policy_name_field(cx)).then_some(&policy),
                exists: state.is_some(),
                trust_changed: diff.touches("trust_policy"),
                tags_changed: diff.touches("tags"),
            },
        )
        .await?;
        if let Some(arn) = created {
            cx.set_role_arn(&arn);
        }
        if cx
            .outputs
            .lock()
            .map(|o| o.role_arn.is_none())
            .unwrap_or(true)
        {
            let role = iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .aws("iam:GetRole")?;
            if let Some(r) = role.role() {
                cx.set_role_arn(r.arn());
            }
        }
        Ok(())
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        ownership_by_tag(cx, state.as_ref().map(|s| &s.tags))
    }

    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        state
            .as_ref()
            .and_then(|s| foreign_by_tags(cx, format!("role {}", cx.config.iam_role.name), &s.tags))
            .into_iter()
            .collect()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let role = cx.configured_role_arn();
        vec![Permission::new(
            &[
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:CreateRole",
                "iam:TagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:ListRolePolicies",
                "iam:DeleteRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:DetachRolePolicy",
                "iam:DeleteRole",
            ],
            [role],
        )]
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        if state.is_none() {
            return Ok(());
        }
        super::iam::delete_role_and_policies(&cx.aws.iam, &cx.config.iam_role.name).await
    }
}

/// One ARN as a string (the document a single-region stack always had), several as a list
/// (the regions of a run over [targets]).
fn one_or_list(mut arns: Vec<String>) -> Value {
    if arns.len() == 1 {
        Value::String(arns.remove(0))
    } else {
        json!(arns)
    }
}
