//! The runner's two roles: the function's execution role, allowed exactly what a pass needs
//! (`limits::access`) and its own logs, and the role Scheduler invokes the function with.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::aws::AwsResultExt;
use crate::resources::iam::NOT_FOUND as IAM_NOT_FOUND;
use crate::resources::{created_or_exists, retry_while};

/// The runner's two roles.
#[derive(Clone, Copy)]
pub(super) enum Which {
    /// The function's execution role, `<stack>-limits-runner`.
    Execution,
    /// The role Scheduler invokes the function with, `<stack>-limits-schedule`.
    Scheduler,
}

impl LimitsRunner {
    /// Trust for `service`, from this account only (`aws:SourceAccount`: IAM User Guide, "The
    /// confused deputy problem").
    pub(super) fn trust(cx: &Context, service: &str) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": cx.account.id}}
            }]
        })
    }

    /// What the pass may do, and write its own logs. `logs:CreateLogGroup` on its own group
    /// only: Lambda writes to `/aws/lambda/<name>`, which nothing else creates.
    pub(super) fn execution_policy(cx: &Context) -> Value {
        let mut statements: Vec<Value> = pass_statements(cx)
            .into_iter()
            .chain(digest_statements(cx))
            .map(|s| {
                json!({"Sid": s.sid, "Effect": "Allow", "Action": s.actions, "Resource": s.resources})
            })
            .collect();
        let group = Self::log_group_arn(cx);
        statements.push(json!({
            "Sid": "RunnerCreateLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup"],
            "Resource": [group.clone()]
        }));
        statements.push(json!({
            "Sid": "RunnerWriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [format!("{group}:log-stream:*")]
        }));
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    pub(super) fn scheduler_policy(cx: &Context) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "InvokeTheLimitsRunner",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": [Self::function_arn(cx)]
            }]
        })
    }

    pub(super) async fn read_role(cx: &Context, name: &str) -> Result<Option<ObservedRole>, AwsError> {
        crate::resources::iam::read_role(&cx.aws.iam, name, POLICY_NAME).await
    }

    /// Creates `which` role or brings its trust and tags to the config's; writes its inline
    /// policy when it changed.
    pub(super) async fn put_role(
        cx: &Context,
        diff: &Diff,
        which: Which,
        exists: bool,
    ) -> Result<(), AwsError> {
        let (field, name, trust, policy, description) = match which {
            Which::Execution => (
                "execution_role",
                Self::execution_role_name(cx),
                Self::trust(cx, "lambda.amazonaws.com"),
                Self::execution_policy(cx),
                "Runs bedrock-monitor's limits pass (managed by bedrock-monitor)",
            ),
            Which::Scheduler => (
                "scheduler_role",
                Self::scheduler_role_name(cx),
                Self::trust(cx, "scheduler.amazonaws.com"),
                Self::scheduler_policy(cx),
                "Lets EventBridge Scheduler start bedrock-monitor's limits runner (managed by bedrock-monitor)",
            ),
        };
        let name = name.as_str();
        let iam = &cx.aws.iam;
        let tags: Vec<aws_sdk_iam::types::Tag> = cx
            .config
            .tags()
            .iter()
            .map(|(k, v)| Ok(aws_sdk_iam::types::Tag::builder().key(k).value(v).build()?))
            .collect::<Result<_, AwsError>>()?;
        if !exists {
            created_or_exists(
                iam.create_role()
                    .role_name(name)
                    .assume_role_policy_document(trust.to_string())
                    .description(description)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .aws("iam:CreateRole"),
                &["EntityAlreadyExists"],
            )?;
        } else {
            if diff.touches(&format!("{field}.trust")) {
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(trust.to_string())
                    .send()
                    .await
                    .aws("iam:UpdateAssumeRolePolicy")?;
            }
            if diff.touches(&format!("{field}.tags")) {
                iam.tag_role()
                    .role_name(name)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .aws("iam:TagRole")?;
            }
        }
        if diff.touches(&format!("{field}.policy")) {
            let document = policy.to_string();
            // IAM is eventually consistent (IAM User Guide, "Changes that I make are not
            // always immediately visible"): a role just made can be unknown for seconds.
            retry_while(
                cx,
                ComponentId::LimitsRunner,
                Duration::from_secs(30),
                "waiting for the new role to become visible",
                |e| e.code_is(IAM_NOT_FOUND),
                || async {
                    iam.put_role_policy()
                        .role_name(name)
                        .policy_name(POLICY_NAME)
                        .policy_document(&document)
                        .send()
                        .await
                        .aws("iam:PutRolePolicy")
                },
            )
            .await?;
        }
        Ok(())
    }
}
