//! A budget action's life after it is created: AWS Budgets executes it when spend crosses the
//! threshold (or someone approves it), and reverses it on request. Reversing one that may have
//! applied the deny policy, and waiting until AWS Budgets says it is done, is what lets
//! `cleanup` and `budget-action reverse` leave no principal or account denied.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_budgets::types::ExecutionType;

use super::{
    ABSENT, BudgetActions, EXECUTION_WAIT, IN_PROGRESS, MAY_BE_ATTACHED, NOT_FOUND, ObservedAction,
    Reversal,
};
use crate::aws::{AwsError, AwsResultExt};
use crate::engine::{ComponentId, Context};
use crate::resources::absent_if;

impl BudgetActions {
    /// This stack's action on `budget`, if it has one.
    pub async fn find(cx: &Context, budget: &str) -> Result<Option<ObservedAction>, AwsError> {
        Ok(Self::read_actions(cx).await?.remove(budget))
    }

    /// Every configured budget's actions that belong to this stack: run by its execution role
    /// (every action the tool creates is), or, for actions an earlier release made, naming its
    /// IAM deny policy.
    pub(super) async fn read_actions(
        cx: &Context,
    ) -> Result<BTreeMap<String, ObservedAction>, AwsError> {
        let policy = Self::policy_arn(cx);
        let role = Self::role_arn(cx);
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
                    let ours = a.execution_role_arn() == role
                        || a.definition()
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
                "reversing the action on budget {budget} ({status}): what it denies gets Bedrock back"
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
    pub(super) async fn wait_while(
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

    pub(super) async fn delete_action(
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
}
