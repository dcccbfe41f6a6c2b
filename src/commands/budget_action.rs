//! `budget-action approve|reverse BUDGET`: an operator approves a pending (manual) budget
//! action, which denies Bedrock to its principals now, or reverses one that has fired, which
//! gives it back (after the limit was raised). Both ask first, or need `--yes`. A reversal is
//! waited for until AWS Budgets says it is done (see [`BudgetActions::reverse_and_wait`]).

use std::fmt;

use serde::Serialize;

use crate::cli::{BudgetActionArgs, BudgetActionVerb};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::QuietProgress;
use crate::resources::budget_actions::BudgetActions;
use crate::ui::is_interactive;
use crate::ui::prompt::Prompter;

#[derive(Debug, Serialize)]
pub struct BudgetActionResult {
    pub budget: String,
    pub action_id: String,
    /// `APPROVE_BUDGET_ACTION` or `REVERSE_BUDGET_ACTION`.
    pub execution: &'static str,
    pub status_before: String,
    /// With `reverse`: the status AWS Budgets ended the reversal with (`REVERSE_SUCCESS`), or
    /// the status that left nothing to reverse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_after: Option<String>,
    /// With `reverse`: whether a reversal was made (false: nothing was attached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed: Option<bool>,
}

impl fmt::Display for BudgetActionResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let before = self.status_before.to_ascii_lowercase();
        match self.reversed {
            None => writeln!(
                f,
                "budget {}: action {} approved: AWS Budgets is attaching the deny policy (it was {before}); `bedrock-monitor status` shows when it is done.",
                self.budget, self.action_id
            ),
            Some(true) => writeln!(
                f,
                "budget {}: action {} reversed: AWS Budgets has detached the deny policy (it was {before}).",
                self.budget, self.action_id
            ),
            Some(false) => writeln!(
                f,
                "budget {}: action {} is {}: nothing to reverse.",
                self.budget,
                self.action_id,
                self.status_after
                    .as_deref()
                    .unwrap_or(&self.status_before)
                    .to_ascii_lowercase()
            ),
        }
    }
}

pub async fn run(session: &Session, args: &BudgetActionArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    let Some(action_config) = loaded
        .config
        .budgets
        .iter()
        .find(|b| b.name == args.budget)
        .and_then(|b| b.action.as_ref())
    else {
        let with_actions: Vec<&str> = loaded
            .config
            .budgets
            .iter()
            .filter(|b| b.action.is_some())
            .map(|b| b.name.as_str())
            .collect();
        return Err(CommandError::Usage(format!(
            "budget {:?} has no [budgets.action] in the config{}",
            args.budget,
            if with_actions.is_empty() {
                String::new()
            } else {
                format!("; budgets with one: {}", with_actions.join(", "))
            }
        )));
    };
    let principals = [
        ("roles", &action_config.deny_roles),
        ("users", &action_config.deny_users),
        ("groups", &action_config.deny_groups),
    ]
    .iter()
    .filter(|(_, names)| !names.is_empty())
    .map(|(kind, names)| format!("{kind} {}", names.join(", ")))
    .collect::<Vec<_>>()
    .join("; ");
    let cx = session
        .connect(&loaded, std::sync::Arc::new(QuietProgress))
        .await?;
    let Some(action) = BudgetActions::find(&cx, &args.budget).await? else {
        return Err(CommandError::Usage(format!(
            "budget {} has no action of this stack yet: run `bedrock-monitor apply` first",
            args.budget
        )));
    };
    let (question, execution, kind) = match args.verb {
        BudgetActionVerb::Approve => (
            format!(
                "Deny Bedrock to {principals} now (approve the action on budget {})?",
                args.budget
            ),
            "APPROVE_BUDGET_ACTION",
            aws_sdk_budgets::types::ExecutionType::ApproveBudgetAction,
        ),
        BudgetActionVerb::Reverse => (
            format!(
                "Give Bedrock back to {principals} (reverse the action on budget {})?",
                args.budget
            ),
            "REVERSE_BUDGET_ACTION",
            aws_sdk_budgets::types::ExecutionType::ReverseBudgetAction,
        ),
    };
    let prompter = Prompter {
        interactive: is_interactive(session.globals.non_interactive),
    };
    if !args.yes && !prompter.confirm(&question, "--yes")? {
        session.printer.note("Nothing done.");
        return Ok(ExitStatus::Success);
    }
    let reversal = match args.verb {
        BudgetActionVerb::Approve => {
            BudgetActions::execute(&cx, &args.budget, &action.id, kind).await?;
            None
        }
        BudgetActionVerb::Reverse => {
            Some(BudgetActions::reverse_and_wait(&cx, &args.budget, &action).await?)
        }
    };
    session.printer.result(&BudgetActionResult {
        budget: args.budget.clone(),
        action_id: action.id,
        execution,
        status_before: action.status,
        reversed: reversal.as_ref().map(|r| r.reversed),
        status_after: reversal.map(|r| r.status),
    })?;
    Ok(ExitStatus::Success)
}
