//! AWS Budgets: budget actions at work: ExecuteBudgetAction's workflow, executions that take
//! time, thresholds crossed, and DescribeBudgetActionHistories.

use serde_json::{Value, json};

use super::budget_action_input::lower_first;
use super::budget_actions::{
    ActionProgress, BUDGET_ACTION_STATUSES, BudgetAction, budget_action_index, budget_action_json,
    budget_action_locked, budgets_invalid, budgets_page, record_action_event,
};
use super::common::{check_enum, required_str};
use super::{AccountState, Ctx, DEFAULT_ACCOUNT, Reply, StandIn};

impl StandIn {
    /// Spend crossed the action threshold of the default account's budget `budget_name`: what
    /// AWS does then to every action of the budget that is waiting for it (`STANDBY`). Billing
    /// user guide, "Configuring AWS Budgets actions": an action runs "either automatically or
    /// after your manual approval"; "Requires approval - The action was initiated, and is
    /// waiting for your approval". So an `AUTOMATIC` action is executed (`EXECUTION_SUCCESS`:
    /// the stand-in models execution as completing at once) and a `MANUAL` one becomes `PENDING`.
    /// Each gets a `SYSTEM` history entry. Actions in any other status have already gone off
    /// this period and are left alone. Returns how many actions went off.
    pub fn cross_budget_action_threshold(&self, budget_name: &str) -> usize {
        self.cross_budget_action_threshold_of(DEFAULT_ACCOUNT, budget_name)
    }

    /// [`Self::cross_budget_action_threshold`] for another account.
    pub fn cross_budget_action_threshold_of(&self, account: &str, budget_name: &str) -> usize {
        self.mutate_account(account, |acct| {
            let mut crossed = 0;
            for a in acct
                .budget_actions
                .iter_mut()
                .filter(|a| a.budget_name == budget_name && a.status == "STANDBY")
            {
                let (status, message) = if a.approval_model == "AUTOMATIC" {
                    (
                        "EXECUTION_SUCCESS",
                        "The threshold was exceeded; the action ran.",
                    )
                } else {
                    (
                        "PENDING",
                        "The threshold was exceeded; the action is waiting for approval.",
                    )
                };
                a.status = status.to_string();
                record_action_event(a, "SYSTEM", message);
                crossed += 1;
            }
            crossed
        })
    }

    /// Puts the budget action `action_id` (any account) in `status` directly, e.g. an
    /// `*_IN_PROGRESS` status the stand-in never shows on its own (its executions complete at
    /// once) or a `*_FAILURE`. No history entry is made. False when there is no such action.
    /// Budget-action executions take time from now on, as on AWS: after ExecuteBudgetAction, the
    /// first `stale_reads` reads of the action (DescribeBudgetAction and the listings) still
    /// show the status before the request, the next `in_progress_reads` show its
    /// `*_IN_PROGRESS` status (EXECUTION_, REVERSE_ or RESET_, which is also what locks the
    /// action meanwhile), and the read after those shows the result. The Budgets API reference
    /// lists the `*_IN_PROGRESS` statuses without saying how long they last; reads that lag
    /// behind a write are what any eventually consistent AWS API may give.
    pub fn set_budget_action_progress(&self, stale_reads: usize, in_progress_reads: usize) {
        self.lock().budget_action_progress = Some((stale_reads, in_progress_reads));
    }

    pub fn set_budget_action_status(&self, action_id: &str, status: &str) -> bool {
        assert!(
            BUDGET_ACTION_STATUSES.contains(&status),
            "{status} is not an ActionStatus"
        );
        let mut state = self.lock();
        state
            .accounts
            .values_mut()
            .flat_map(|acct| acct.budget_actions.iter_mut())
            .find(|a| a.action_id == action_id)
            .map(|a| a.status = status.to_string())
            .is_some()
    }
}

/// The action as one read shows it, moving an execution in progress on by one read (see
/// [`ActionProgress`]).
pub(super) fn budget_action_as_read(a: &mut BudgetAction) -> Value {
    let shown = match &mut a.progress {
        None => a.status.clone(),
        Some(p) if p.stale_reads > 0 => {
            p.stale_reads -= 1;
            p.before.clone()
        }
        Some(p) if p.in_progress_reads > 0 => {
            p.in_progress_reads -= 1;
            a.status.clone()
        }
        Some(p) => {
            a.status = p.after.clone();
            a.progress = None;
            record_action_event(a, "SYSTEM", &format!("The action is now {}.", a.status));
            a.status.clone()
        }
    };
    let mut json = budget_action_json(a);
    json["Status"] = json!(shown);
    json
}

/// The status an `ExecutionType` leads to from `status`, if it is allowed there. The API
/// reference gives only the names (ExecutionType APPROVE_BUDGET_ACTION, RETRY_BUDGET_ACTION,
/// REVERSE_BUDGET_ACTION, RESET_BUDGET_ACTION; the ActionStatus values); the Billing user
/// guide, "Configuring AWS Budgets actions", gives the workflow: a pending action ("Requires
/// approval") is run by approving it; "You can review and undo previously completed actions"
/// (reverse, from EXECUTION_SUCCESS); "Reversed - The action was undone"; "If you want AWS
/// Budgets to re-evaluate the reversed action during the same period, you can choose Reset"
/// (from REVERSE_SUCCESS back to STANDBY). RETRY re-runs the step that failed
/// (EXECUTION_FAILURE, REVERSE_FAILURE, RESET_FAILURE); that is chosen from the names. A failed
/// execution may be reversed too: it may have attached the policy to some principals before
/// failing, and undoing it is what reverse is for (chosen; the reference does not exclude it).
/// Each step completes at once, or as [`StandIn::set_budget_action_progress`] says (its
/// `*_IN_PROGRESS` status from [`in_progress_status`]).
fn execution_transition(execution_type: &str, status: &str) -> Option<&'static str> {
    match (execution_type, status) {
        ("APPROVE_BUDGET_ACTION", "PENDING") => Some("EXECUTION_SUCCESS"),
        ("RETRY_BUDGET_ACTION", "EXECUTION_FAILURE") => Some("EXECUTION_SUCCESS"),
        ("RETRY_BUDGET_ACTION", "REVERSE_FAILURE") => Some("REVERSE_SUCCESS"),
        ("RETRY_BUDGET_ACTION", "RESET_FAILURE") => Some("STANDBY"),
        ("REVERSE_BUDGET_ACTION", "EXECUTION_SUCCESS" | "EXECUTION_FAILURE") => {
            Some("REVERSE_SUCCESS")
        }
        ("RESET_BUDGET_ACTION", "REVERSE_SUCCESS") => Some("STANDBY"),
        _ => None,
    }
}

/// The status an execution shows while it runs, by the status it leads to.
fn in_progress_status(after: &str) -> &'static str {
    match after {
        "EXECUTION_SUCCESS" => "EXECUTION_IN_PROGRESS",
        "REVERSE_SUCCESS" => "REVERSE_IN_PROGRESS",
        _ => "RESET_IN_PROGRESS",
    }
}

/// Budgets API reference, ExecuteBudgetAction: `ExecutionType` required; answers `AccountId`,
/// `BudgetName`, `ActionId`, `ExecutionType`. An execution type the action's status does not
/// allow ([`execution_transition`]) is ResourceLockedException: the reference lists it for
/// ExecuteBudgetAction ("the server rejected that particular method for the requested
/// resource") and says nothing more; InvalidParameterException is kept for malformed input.
/// Each execution adds an EXECUTE_ACTION history entry.
pub(super) fn execute_budget_action(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
    progress: Option<(usize, usize)>,
) -> Result<Value, Reply> {
    let kind = required_str(body, "ExecutionType", "executionType").map_err(budgets_invalid)?;
    check_enum(
        kind,
        "executionType",
        &[
            "APPROVE_BUDGET_ACTION",
            "RETRY_BUDGET_ACTION",
            "REVERSE_BUDGET_ACTION",
            "RESET_BUDGET_ACTION",
        ],
    )
    .map_err(budgets_invalid)?;
    let i = budget_action_index(acct, ctx, body)?;
    let a = &mut acct.budget_actions[i];
    let Some(next) = execution_transition(kind, &a.status) else {
        return Err(budget_action_locked(a, kind));
    };
    match progress {
        Some((stale_reads, in_progress_reads)) => {
            a.progress = Some(ActionProgress {
                before: a.status.clone(),
                stale_reads,
                in_progress_reads,
                after: next.to_string(),
            });
            a.status = in_progress_status(next).to_string();
        }
        None => a.status = next.to_string(),
    }
    let now = a.status.clone();
    record_action_event(
        a,
        "EXECUTE_ACTION",
        &format!("{kind}: the action is now {now}."),
    );
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": a.budget_name,
        "ActionId": a.action_id,
        "ExecutionType": kind,
    }))
}

/// Budgets API reference, DescribeBudgetActionHistories: `ActionHistories` of the action,
/// optionally within `TimePeriod` (`Start`, `End`, epoch seconds; inclusive here), paged by
/// `MaxResults` (1–100) and `NextToken`; NotFoundException. Newest first (Billing user guide,
/// "Configuring AWS Budgets actions": "Action history, listing the newest actions at the
/// top").
pub(super) fn describe_budget_action_histories(
    acct: &AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    let a = &acct.budget_actions[i];
    let period = &body["TimePeriod"];
    let bound = |key: &str| match &period[key] {
        Value::Null => Ok(None),
        v => v.as_f64().map(Some).ok_or_else(|| {
            budgets_invalid(format!(
                "Value {v} at 'timePeriod.{}' is not a timestamp",
                lower_first(key)
            ))
        }),
    };
    let (start, end) = (bound("Start")?, bound("End")?);
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(budgets_invalid(
            "The start of the time period must come before its end.".into(),
        ));
    }
    let items: Vec<Value> = a
        .history
        .iter()
        .rev()
        .filter(|h| start.is_none_or(|s| h.timestamp >= s) && end.is_none_or(|e| h.timestamp <= e))
        .map(|h| {
            json!({
                "Timestamp": h.timestamp,
                "Status": h.status,
                "EventType": h.event_type,
                "ActionHistoryDetails": { "Message": h.message, "Action": h.action },
            })
        })
        .collect();
    budgets_page(
        &items,
        body,
        &format!(
            "DescribeBudgetActionHistories|{}|{start:?}|{end:?}",
            a.action_id
        ),
        "ActionHistories",
    )
}
