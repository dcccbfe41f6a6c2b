//! AWS Budgets: budget actions (awsJson 1.1, `X-Amz-Target: AWSBudgetServiceGateway.<Op>`,
//! signing name `budgets`). The checks of an action's members are in `budget_action_input.rs`;
//! execution, thresholds crossed and the history in `budget_action_execution.rs`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::budget_action_execution::{
    budget_action_as_read, describe_budget_action_histories, execute_budget_action,
};
use super::budget_action_input::{
    ACTION_ID, BUDGETS_ACCOUNT_ID, budget_action_tags, check_budget_name, parse_action_input,
};
use super::common::{
    check_string, constraint_message, epoch_seconds, json_error, json_ok, optional_str, page, pat,
    required_str, uuid,
};
use super::{AccountState, Ctx, DEFAULT_ACCOUNT, Reply, StandIn, StrictRequest};

/// The IAM part of a budget action's definition (`Definition.IamActionDefinition`).
#[derive(Clone, Debug, PartialEq)]
pub struct IamActionDefinition {
    pub policy_arn: String,
    /// As given (absent: empty).
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub users: Vec<String>,
}

/// A recipient of a budget action's notifications (Budgets `Subscriber`).
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetSubscriber {
    /// `SNS` or `EMAIL`.
    pub subscription_type: String,
    pub address: String,
}

/// One entry of a budget action's history (Budgets `ActionHistory`).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionHistoryEntry {
    /// Seconds since the epoch.
    pub timestamp: f64,
    /// The status of the action after the event.
    pub status: String,
    /// `SYSTEM`, `CREATE_ACTION`, `UPDATE_ACTION` or `EXECUTE_ACTION` (`DELETE_ACTION` is never
    /// readable: the history goes with the action).
    pub event_type: String,
    pub message: String,
    /// The action as it was after the event, as DescribeBudgetAction shows it.
    pub action: Value,
}

/// A budget action.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetAction {
    pub account: String,
    pub budget_name: String,
    /// A version-4 UUID.
    pub action_id: String,
    /// `ACTUAL` or `FORECASTED`.
    pub notification_type: String,
    /// `APPLY_IAM_POLICY`, `APPLY_SCP_POLICY` or `RUN_SSM_DOCUMENTS`.
    pub action_type: String,
    pub threshold_value: f64,
    /// `PERCENTAGE` or `ABSOLUTE_VALUE`.
    pub threshold_type: String,
    /// `Definition` as stored: the one member that matches the action type, as given.
    pub definition: Value,
    /// The IAM definition, for an `APPLY_IAM_POLICY` action.
    pub iam: Option<IamActionDefinition>,
    pub execution_role_arn: String,
    /// `AUTOMATIC` or `MANUAL`.
    pub approval_model: String,
    /// `ActionStatus`: `STANDBY`, `PENDING`, `EXECUTION_SUCCESS`, `REVERSE_SUCCESS`, … (see
    /// [`BUDGET_ACTION_STATUSES`]).
    pub status: String,
    pub subscribers: Vec<BudgetSubscriber>,
    pub tags: BTreeMap<String, String>,
    /// Oldest first.
    pub history: Vec<ActionHistoryEntry>,
    /// An execution still under way, with [`StandIn::set_budget_action_progress`].
    pub progress: Option<ActionProgress>,
}

/// How an execution shows in reads until it is done: first `stale_reads` reads of the status
/// before the request, then `in_progress_reads` of the `*_IN_PROGRESS` status (the action's
/// `status` meanwhile), then `after`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionProgress {
    pub before: String,
    pub stale_reads: usize,
    pub in_progress_reads: usize,
    pub after: String,
}

impl StandIn {
    /// The default account has a budget named `name` in moto that the proxy has not seen (one
    /// created with the direct clients): budget actions may now be attached to it. See
    /// [`BUDGET_OBSERVED_OPERATIONS`].
    pub fn add_budget(&self, name: &str) {
        self.add_budget_to(DEFAULT_ACCOUNT, name);
    }

    /// [`Self::add_budget`] for another account.
    pub fn add_budget_to(&self, account: &str, name: &str) {
        self.lock()
            .account(account)
            .budgets
            .insert(name.to_string());
    }

    /// The budget names the stand-in knows for the default account.
    pub fn known_budgets(&self) -> Vec<String> {
        self.mutate(|acct| acct.budgets.iter().cloned().collect())
    }

    /// Every budget action, all accounts, in creation order.
    pub fn budget_actions(&self) -> Vec<BudgetAction> {
        self.collect(|a| a.budget_actions.clone())
    }
}

/// The budget-action operations answered here. Every other Budgets operation (budgets,
/// notifications, subscribers, tagging) goes to moto.
const BUDGET_ACTION_OPERATIONS: [&str; 8] = [
    "CreateBudgetAction",
    "DescribeBudgetAction",
    "DescribeBudgetActionsForBudget",
    "DescribeBudgetActionsForAccount",
    "UpdateBudgetAction",
    "DeleteBudgetAction",
    "ExecuteBudgetAction",
    "DescribeBudgetActionHistories",
];

/// Which budgets exist. An action belongs to a budget (API reference: CreateBudgetAction,
/// DescribeBudgetActionsForBudget and the rest list NotFoundException, "We can't locate the
/// resource that you specified"; an action's ARN is `budget/<name>/action/<id>`, the form
/// terraform-provider-aws builds for `aws_budgets_budget_action`). The budgets are moto's and
/// the stand-in cannot read moto, so it learns them from moto's successful answers to these
/// operations as they pass through the proxy ([`StrictRule::rewrite`], which sees only requests
/// that reached moto): CreateBudget, DescribeBudget and DescribeBudgets name budgets that exist
/// (in the request's `AccountId`, which is how moto keys them); DeleteBudget removes one, and
/// its actions with it (API reference, DeleteBudget: "Deleting a budget also deletes the
/// notifications and subscribers that are associated with that budget"; that its actions go
/// too is not documented and chosen here, they are its sub-resources). An action on a budget
/// the stand-in does not know is answered NotFoundException. A budget made with the direct
/// clients is known once read through the proxy, or after [`StandIn::add_budget`].
pub const BUDGET_OBSERVED_OPERATIONS: [&str; 4] = [
    "CreateBudget",
    "DescribeBudget",
    "DescribeBudgets",
    "DeleteBudget",
];

/// Budgets API reference, ActionStatus.
pub const BUDGET_ACTION_STATUSES: [&str; 10] = [
    "STANDBY",
    "PENDING",
    "EXECUTION_IN_PROGRESS",
    "EXECUTION_SUCCESS",
    "EXECUTION_FAILURE",
    "REVERSE_IN_PROGRESS",
    "REVERSE_SUCCESS",
    "REVERSE_FAILURE",
    "RESET_IN_PROGRESS",
    "RESET_FAILURE",
];

/// The statuses in which an action is being worked on: UpdateBudgetAction, DeleteBudgetAction
/// and ExecuteBudgetAction are refused with ResourceLockedException (the reference lists it for
/// exactly these three operations: "the server rejected that particular method for the
/// requested resource"). That an action cannot be deleted while it runs: hashicorp/
/// terraform-provider-aws#33015 ("Adds guard to deletion, since an action cannot be deleted
/// while in progress"); that it cannot be updated either is chosen to match.
const LOCKED_ACTION_STATUSES: [&str; 3] = [
    "EXECUTION_IN_PROGRESS",
    "REVERSE_IN_PROGRESS",
    "RESET_IN_PROGRESS",
];

/// The actions per budget. No quota is documented (Billing user guide, "Quotas and
/// restrictions", names none for actions; "You can apply multiple budget actions to a single
/// alert"); the stand-in allows as many as one page of `Actions` holds (API reference,
/// `Actions`: at most 100 members) and answers CreationLimitExceededException past it.
const MAX_ACTIONS_PER_BUDGET: usize = 100;

/// Page size of the action listings without `MaxResults`. Not documented (the reference: "The
/// maximum is 100"); a small page makes a caller that ignores `NextToken` visible.
const BUDGETS_DEFAULT_PAGE: usize = 10;

/// Budgets' model has no ValidationException: an invalid input value is InvalidParameterException
/// ("An error on the client occurred. Typically, the cause is an invalid input value"), HTTP
/// 400, `Message` (the member of every Budgets error shape). The constraint messages are AWS's
/// usual request-validation wording.
pub(super) fn budgets_invalid(message: String) -> Reply {
    json_error(400, "InvalidParameterException", &message, Value::Null)
}

fn budget_not_found(account: &str, budget: &str) -> Reply {
    json_error(
        400,
        "NotFoundException",
        &format!("Unable to get budget: {budget} - the budget doesn't exist in account {account}."),
        Value::Null,
    )
}

fn budget_action_not_found(budget: &str, action_id: &str) -> Reply {
    json_error(
        400,
        "NotFoundException",
        &format!("Unable to find action {action_id} of budget {budget}."),
        Value::Null,
    )
}

pub(super) fn budget_action_locked(a: &BudgetAction, what: &str) -> Reply {
    json_error(
        400,
        "ResourceLockedException",
        &format!(
            "Action {} is in status {}: {what} is not possible now.",
            a.action_id, a.status
        ),
        Value::Null,
    )
}

/// `AccountId` (API reference: required in every action operation, 12 digits). A caller can
/// address only its own account: another account ID is answered AccessDeniedException ("You are
/// not authorized to use this operation with the given parameters"; not documented for this
/// case, chosen).
fn check_budgets_account(ctx: &Ctx, body: &Value) -> Result<(), Reply> {
    let account = required_str(body, "AccountId", "accountId").map_err(budgets_invalid)?;
    check_string(account, "accountId", 12, 12, pat(&BUDGETS_ACCOUNT_ID))
        .map_err(budgets_invalid)?;
    if account != ctx.account {
        return Err(json_error(
            400,
            "AccessDeniedException",
            &format!(
                "You are not authorized to use this operation with the given parameters: account {account} is not the caller's account {}.",
                ctx.account
            ),
            Value::Null,
        ));
    }
    Ok(())
}

/// `BudgetName` of a request, checked, and known (see [`BUDGET_OBSERVED_OPERATIONS`]).
fn known_budget<'a>(acct: &AccountState, ctx: &Ctx, body: &'a Value) -> Result<&'a str, Reply> {
    let budget = budget_name_of(body)?;
    if !acct.budgets.contains(budget) {
        return Err(budget_not_found(&ctx.account, budget));
    }
    Ok(budget)
}

fn budget_name_of(body: &Value) -> Result<&str, Reply> {
    let budget = required_str(body, "BudgetName", "budgetName").map_err(budgets_invalid)?;
    check_budget_name(budget, "budgetName").map_err(budgets_invalid)?;
    Ok(budget)
}

/// The index of the action `ActionId` (a UUID: API reference, ActionId, 36 characters of the
/// UUID pattern) of the request's budget; NotFoundException when the budget or the action is
/// unknown.
pub(super) fn budget_action_index(
    acct: &AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<usize, Reply> {
    let id = required_str(body, "ActionId", "actionId").map_err(budgets_invalid)?;
    check_string(id, "actionId", 36, 36, pat(&ACTION_ID)).map_err(budgets_invalid)?;
    let budget = known_budget(acct, ctx, body)?;
    acct.budget_actions
        .iter()
        .position(|a| a.budget_name == budget && a.action_id == id)
        .ok_or_else(|| budget_action_not_found(budget, id))
}

/// Budgets API reference, Action: every member is required in an answer.
pub(super) fn budget_action_json(a: &BudgetAction) -> Value {
    json!({
        "ActionId": a.action_id,
        "BudgetName": a.budget_name,
        "NotificationType": a.notification_type,
        "ActionType": a.action_type,
        "ActionThreshold": {
            "ActionThresholdValue": a.threshold_value,
            "ActionThresholdType": a.threshold_type,
        },
        "Definition": a.definition,
        "ExecutionRoleArn": a.execution_role_arn,
        "ApprovalModel": a.approval_model,
        "Status": a.status,
        "Subscribers": a.subscribers.iter().map(|s| json!({
            "SubscriptionType": s.subscription_type,
            "Address": s.address,
        })).collect::<Vec<_>>(),
    })
}

/// Appends a history entry for the action's current status (API reference, ActionHistory:
/// `Timestamp`, `Status` "of action at the time of the event", `EventType`,
/// `ActionHistoryDetails` with `Message` and the `Action`).
pub(super) fn record_action_event(a: &mut BudgetAction, event_type: &str, message: &str) {
    let entry = ActionHistoryEntry {
        timestamp: epoch_seconds(),
        status: a.status.clone(),
        event_type: event_type.to_string(),
        message: message.to_string(),
        action: budget_action_json(a),
    };
    a.history.push(entry);
}

/// `MaxResults` of an action listing (API reference, MaxResults: 1–100).
fn budgets_max_results(body: &Value) -> Result<usize, Reply> {
    match &body["MaxResults"] {
        Value::Null => Ok(BUDGETS_DEFAULT_PAGE),
        v => match v.as_i64() {
            Some(n) if (1..=100).contains(&n) => Ok(n as usize),
            _ => Err(budgets_invalid(constraint_message(
                &v.to_string(),
                "maxResults",
                "Member must have value between 1 and 100",
            ))),
        },
    }
}

pub(super) fn budgets_page(
    items: &[Value],
    body: &Value,
    scope: &str,
    key: &str,
) -> Result<Value, Reply> {
    let max = budgets_max_results(body)?;
    let token = optional_str(body, "NextToken", "nextToken").map_err(budgets_invalid)?;
    let (items, next) = page(items, token, max, scope).map_err(|()| {
        json_error(
            400,
            "InvalidNextTokenException",
            "The pagination token is invalid.",
            Value::Null,
        )
    })?;
    let mut out = json!({ key: items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

impl StandIn {
    pub(super) fn budget_actions_op(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("AWSBudgetServiceGateway.")?;
        if !BUDGET_ACTION_OPERATIONS.contains(&op) {
            return None;
        }
        let body = match request.json() {
            Some(body) if body.is_object() => body,
            _ => {
                return Some(json_error(
                    400,
                    "SerializationException",
                    "The request body is not a JSON object.",
                    Value::Null,
                ));
            }
        };
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        if let Err(e) = check_budgets_account(&ctx, &body) {
            return Some(e);
        }
        let progress = state.budget_action_progress;
        let acct = state.account(&ctx.account);
        let result = match op {
            "CreateBudgetAction" => create_budget_action(acct, &ctx, &body),
            "DescribeBudgetAction" => describe_budget_action(acct, &ctx, &body),
            "DescribeBudgetActionsForBudget" => {
                describe_budget_actions_for_budget(acct, &ctx, &body)
            }
            "DescribeBudgetActionsForAccount" => describe_budget_actions_for_account(acct, &body),
            "UpdateBudgetAction" => update_budget_action(acct, &ctx, &body),
            "DeleteBudgetAction" => delete_budget_action(acct, &ctx, &body),
            "ExecuteBudgetAction" => execute_budget_action(acct, &ctx, &body, progress),
            "DescribeBudgetActionHistories" => describe_budget_action_histories(acct, &ctx, &body),
            _ => return None,
        };
        Some(result.map(json_ok).unwrap_or_else(|e| e))
    }

    /// Learns budgets from moto's successful answers (see [`BUDGET_OBSERVED_OPERATIONS`]).
    pub(super) fn observe_budgets(&self, request: &StrictRequest, reply: &Reply) {
        if reply.status != 200 || !BUDGET_OBSERVED_OPERATIONS.contains(&request.operation.as_str())
        {
            return;
        }
        let Some(body) = request.json() else { return };
        let Some(account) = body["AccountId"].as_str() else {
            return;
        };
        let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let mut state = self.lock();
        let acct = state.account(account);
        match request.operation.as_str() {
            "CreateBudget" => {
                if let Some(name) = body["Budget"]["BudgetName"].as_str() {
                    acct.budgets.insert(name.to_string());
                }
            }
            "DescribeBudget" => {
                if let Some(name) = answer["Budget"]["BudgetName"].as_str() {
                    acct.budgets.insert(name.to_string());
                }
            }
            "DescribeBudgets" => {
                for b in answer["Budgets"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if let Some(name) = b["BudgetName"].as_str() {
                        acct.budgets.insert(name.to_string());
                    }
                }
            }
            "DeleteBudget" => {
                if let Some(name) = body["BudgetName"].as_str() {
                    acct.budgets.remove(name);
                    acct.budget_actions.retain(|a| a.budget_name != name);
                }
            }
            _ => {}
        }
    }
}

/// Budgets API reference, CreateBudgetAction: every member but `ResourceTags` required; answers
/// `AccountId`, `BudgetName` and `ActionId` ("A system-generated universally unique identifier
/// (UUID) for the action"). A new action waits for its threshold in `STANDBY` (Billing user
/// guide, "Configuring AWS Budgets actions": "Standby - AWS Budgets is actively evaluating the
/// action"). Not documented, chosen: an action identical to one the budget has (same
/// notification type, threshold, type and definition) is DuplicateRecordException; a member
/// account's APPLY_SCP_POLICY action is AccessDeniedException (see
/// [`StandIn::set_member_account`]); past [`MAX_ACTIONS_PER_BUDGET`],
/// CreationLimitExceededException.
fn create_budget_action(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let budget = budget_name_of(body)?;
    let input = parse_action_input(ctx, body, None).map_err(budgets_invalid)?;
    let tags = budget_action_tags(body).map_err(budgets_invalid)?;
    if acct.member && input.action_type == "APPLY_SCP_POLICY" {
        return Err(json_error(
            400,
            "AccessDeniedException",
            "Only the management account of an organization can apply service control policies.",
            Value::Null,
        ));
    }
    if !acct.budgets.contains(budget) {
        return Err(budget_not_found(&ctx.account, budget));
    }
    let of_budget = || {
        acct.budget_actions
            .iter()
            .filter(|a| a.budget_name == budget)
    };
    if of_budget().any(|a| {
        a.notification_type == input.notification_type
            && a.action_type == input.action_type
            && (a.threshold_value, &a.threshold_type) == (input.threshold.0, &input.threshold.1)
            && a.definition == input.definition
    }) {
        return Err(json_error(
            400,
            "DuplicateRecordException",
            &format!("Budget {budget} already has this action."),
            Value::Null,
        ));
    }
    if of_budget().count() >= MAX_ACTIONS_PER_BUDGET {
        return Err(json_error(
            400,
            "CreationLimitExceededException",
            &format!("A budget can have at most {MAX_ACTIONS_PER_BUDGET} actions."),
            Value::Null,
        ));
    }
    let mut action = BudgetAction {
        account: ctx.account.clone(),
        budget_name: budget.to_string(),
        action_id: uuid(),
        notification_type: input.notification_type,
        action_type: input.action_type,
        threshold_value: input.threshold.0,
        threshold_type: input.threshold.1,
        definition: input.definition,
        iam: input.iam,
        execution_role_arn: input.execution_role_arn,
        approval_model: input.approval_model,
        status: "STANDBY".into(),
        subscribers: input.subscribers,
        tags,
        history: Vec::new(),
        progress: None,
    };
    record_action_event(&mut action, "CREATE_ACTION", "The action was created.");
    let id = action.action_id.clone();
    acct.budget_actions.push(action);
    Ok(json!({ "AccountId": ctx.account, "BudgetName": budget, "ActionId": id }))
}

/// Budgets API reference, DescribeBudgetAction: `AccountId`, `BudgetName`, `Action`;
/// NotFoundException.
fn describe_budget_action(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    let a = &mut acct.budget_actions[i];
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": a.budget_name,
        "Action": budget_action_as_read(a),
    }))
}

/// Budgets API reference, DescribeBudgetActionsForBudget: `Actions` of the budget (creation
/// order), `MaxResults` 1–100, `NextToken` (InvalidNextTokenException); NotFoundException for
/// an unknown budget.
fn describe_budget_actions_for_budget(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let budget = known_budget(acct, ctx, body)?.to_string();
    let items: Vec<Value> = acct
        .budget_actions
        .iter_mut()
        .filter(|a| a.budget_name == budget)
        .map(budget_action_as_read)
        .collect();
    budgets_page(
        &items,
        body,
        &format!("DescribeBudgetActionsForBudget|{budget}"),
        "Actions",
    )
}

/// Budgets API reference, DescribeBudgetActionsForAccount: every action of the account
/// (creation order), paged as above.
fn describe_budget_actions_for_account(
    acct: &mut AccountState,
    body: &Value,
) -> Result<Value, Reply> {
    let items: Vec<Value> = acct
        .budget_actions
        .iter_mut()
        .map(budget_action_as_read)
        .collect();
    budgets_page(&items, body, "DescribeBudgetActionsForAccount", "Actions")
}

/// Budgets API reference, UpdateBudgetAction: `ActionId` and the members to change (not the
/// type); answers `OldAction` and `NewAction`; NotFoundException; ResourceLockedException while
/// the action is being worked on ([`LOCKED_ACTION_STATUSES`]). The status is kept (not
/// documented).
fn update_budget_action(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    let old = acct.budget_actions[i].clone();
    let input = parse_action_input(ctx, body, Some(&old)).map_err(budgets_invalid)?;
    if LOCKED_ACTION_STATUSES.contains(&old.status.as_str()) {
        return Err(budget_action_locked(&old, "UpdateBudgetAction"));
    }
    let a = &mut acct.budget_actions[i];
    a.notification_type = input.notification_type;
    a.threshold_value = input.threshold.0;
    a.threshold_type = input.threshold.1;
    a.definition = input.definition;
    a.iam = input.iam;
    a.execution_role_arn = input.execution_role_arn;
    a.approval_model = input.approval_model;
    a.subscribers = input.subscribers;
    record_action_event(a, "UPDATE_ACTION", "The action was updated.");
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": a.budget_name,
        "OldAction": budget_action_json(&old),
        "NewAction": budget_action_json(a),
    }))
}

/// Budgets API reference, DeleteBudgetAction: answers the deleted `Action`; NotFoundException;
/// ResourceLockedException while the action is being worked on ([`LOCKED_ACTION_STATUSES`]).
/// Its history goes with it.
fn delete_budget_action(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    if LOCKED_ACTION_STATUSES.contains(&acct.budget_actions[i].status.as_str()) {
        return Err(budget_action_locked(
            &acct.budget_actions[i],
            "DeleteBudgetAction",
        ));
    }
    let removed = acct.budget_actions.remove(i);
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": removed.budget_name,
        "Action": budget_action_json(&removed),
    }))
}
