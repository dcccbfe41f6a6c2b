//! The runner's two roles: the function's execution role, allowed exactly what a pass needs
//! (`limits::access`) and its own logs, and the role Scheduler invokes the function with.

use serde_json::{Value, json};

use super::*;
use crate::resources::iam::{RoleWrite, write_role};

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
        write_role(
            cx,
            RoleWrite {
                component: ComponentId::LimitsRunner,
                what: "role",
                name: &name,
                description,
                trust: &trust,
                policy_name: POLICY_NAME,
                policy: diff.touches(&format!("{field}.policy")).then_some(&policy),
                exists,
                trust_changed: diff.touches(&format!("{field}.trust")),
                tags_changed: diff.touches(&format!("{field}.tags")),
            },
        )
        .await?;
        Ok(())
    }
}
