//! The stand-in's budget actions (`budget_actions.rs`, `budget_action_input.rs`,
//! `budget_action_execution.rs` in `tests/support/standin/`), through the real SDK clients as in
//! `tests/it/standin.rs`.

use crate::support::env::{ACCOUNT, REGION, TestEnv};

use super::{code, through_proxy};

const BUDGET: &str = "bedrock-monthly";
const DENY_POLICY: &str = "arn:aws:iam::aws:policy/AWSDenyAll";

fn action_role() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/BudgetsActionRole")
}

fn email(address: &str) -> aws_sdk_budgets::types::Subscriber {
    aws_sdk_budgets::types::Subscriber::builder()
        .subscription_type(aws_sdk_budgets::types::SubscriptionType::Email)
        .address(address)
        .build()
        .expect("subscriber")
}

fn sns(address: &str) -> aws_sdk_budgets::types::Subscriber {
    aws_sdk_budgets::types::Subscriber::builder()
        .subscription_type(aws_sdk_budgets::types::SubscriptionType::Sns)
        .address(address)
        .build()
        .expect("subscriber")
}

fn threshold(value: f64) -> aws_sdk_budgets::types::ActionThreshold {
    aws_sdk_budgets::types::ActionThreshold::builder()
        .action_threshold_value(value)
        .action_threshold_type(aws_sdk_budgets::types::ThresholdType::Percentage)
        .build()
        .expect("threshold")
}

/// An IAM definition attaching `policy` to `roles`.
fn iam_definition(policy: &str, roles: &[&str]) -> aws_sdk_budgets::types::Definition {
    aws_sdk_budgets::types::Definition::builder()
        .iam_action_definition(
            aws_sdk_budgets::types::IamActionDefinition::builder()
                .policy_arn(policy)
                .set_roles(
                    (!roles.is_empty()).then(|| roles.iter().map(|r| r.to_string()).collect()),
                )
                .build()
                .expect("IAM definition"),
        )
        .build()
}

fn create_budget(env: &TestEnv, budgets: &aws_sdk_budgets::Client, name: &str) {
    use aws_sdk_budgets::types::{Budget, BudgetType, Spend, TimeUnit};
    env.block_on(
        budgets
            .create_budget()
            .account_id(ACCOUNT)
            .budget(
                Budget::builder()
                    .budget_name(name)
                    .budget_limit(
                        Spend::builder()
                            .amount("100")
                            .unit("USD")
                            .build()
                            .expect("spend"),
                    )
                    .time_unit(TimeUnit::Monthly)
                    .budget_type(BudgetType::Cost)
                    .build()
                    .expect("budget"),
            )
            .send(),
    )
    .expect("CreateBudget (moto)");
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_budget_actions() {
    use aws_sdk_budgets::types::{
        ActionStatus, ActionType, ApprovalModel, Definition, EventType, ExecutionType,
        NotificationType, ScpActionDefinition,
    };

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let budgets = &aws.budgets;
    let create = |budget: &str,
                  definition: Definition,
                  approval: ApprovalModel,
                  value: f64,
                  subscribers: Vec<aws_sdk_budgets::types::Subscriber>| {
        env.block_on(
            budgets
                .create_budget_action()
                .account_id(ACCOUNT)
                .budget_name(budget)
                .notification_type(NotificationType::Actual)
                .action_type(ActionType::Iam)
                .action_threshold(threshold(value))
                .definition(definition)
                .execution_role_arn(action_role())
                .approval_model(approval)
                .set_subscribers(Some(subscribers))
                .send(),
        )
    };
    let iam = || iam_definition(DENY_POLICY, &["BedrockUsers"]);
    let status = |id: &str| {
        env.block_on(
            budgets
                .describe_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(id)
                .send(),
        )
        .expect("DescribeBudgetAction")
        .action()
        .expect("Action")
        .status()
        .clone()
    };
    let execute = |id: &str, kind: ExecutionType| {
        env.block_on(
            budgets
                .execute_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(id)
                .execution_type(kind)
                .send(),
        )
    };

    // No budget yet: the stand-in knows none.
    assert_eq!(
        code(create(
            BUDGET,
            iam(),
            ApprovalModel::Manual,
            80.0,
            vec![email("ops@example.com")]
        )),
        "NotFoundException"
    );

    // The budget is moto's (CreateBudget reaches it); the stand-in learns its name on the way.
    create_budget(&env, budgets, BUDGET);
    let in_moto = env
        .block_on(
            env.aws
                .budgets
                .describe_budget()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .send(),
        )
        .expect("the budget is in moto");
    assert_eq!(in_moto.budget().map(|b| b.budget_name()), Some(BUDGET));
    assert_eq!(env.standin.known_budgets(), [BUDGET]);

    let manual = create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        80.0,
        vec![email("ops@example.com")],
    )
    .expect("CreateBudgetAction");
    assert_eq!(manual.account_id(), ACCOUNT);
    assert_eq!(manual.budget_name(), BUDGET);
    let uuid =
        regex::Regex::new("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
            .expect("regex");
    assert!(uuid.is_match(manual.action_id()), "{}", manual.action_id());
    let manual_id = manual.action_id().to_string();

    // Read back: every member, STANDBY, the IAM definition as given.
    let described = env
        .block_on(
            budgets
                .describe_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .send(),
        )
        .expect("DescribeBudgetAction");
    let action = described.action().expect("Action");
    assert_eq!(action.status(), &ActionStatus::Standby);
    assert_eq!(action.action_type(), &ActionType::Iam);
    assert_eq!(action.approval_model(), &ApprovalModel::Manual);
    assert_eq!(action.execution_role_arn(), action_role());
    assert_eq!(
        action
            .action_threshold()
            .map(|t| t.action_threshold_value()),
        Some(80.0)
    );
    let definition = action
        .definition()
        .and_then(|d| d.iam_action_definition())
        .expect("IamActionDefinition");
    assert_eq!(definition.policy_arn(), DENY_POLICY);
    assert_eq!(definition.roles(), ["BedrockUsers"]);
    assert!(
        action
            .definition()
            .and_then(|d| d.scp_action_definition())
            .is_none()
    );
    assert_eq!(action.subscribers().len(), 1);
    let held = env.standin.budget_actions();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].status, "STANDBY");
    assert_eq!(
        held[0]
            .iam
            .as_ref()
            .map(|i| (i.policy_arn.as_str(), i.roles.clone())),
        Some((DENY_POLICY, vec!["BedrockUsers".to_string()]))
    );

    // Validation: the definition must match the type; an IAM definition names someone; at most
    // one SNS subscriber and 11 in all; the role pattern and account; 100 roles at most; the
    // threshold's range; another account's ID.
    let scp = Definition::builder()
        .scp_action_definition(
            ScpActionDefinition::builder()
                .policy_id("p-12345678")
                .target_ids(ACCOUNT)
                .build()
                .expect("SCP definition"),
        )
        .build();
    let invalid = |r| assert_eq!(code(r), "InvalidParameterException");
    invalid(create(
        BUDGET,
        scp.clone(),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    invalid(create(
        BUDGET,
        iam_definition(DENY_POLICY, &[]),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:budget-alerts");
    invalid(create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        90.0,
        vec![sns(&topic), sns(&format!("{topic}-2"))],
    ));
    invalid(create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        90.0,
        (0..12)
            .map(|i| email(&format!("u{i}@example.com")))
            .collect(),
    ));
    invalid(create(BUDGET, iam(), ApprovalModel::Manual, 90.0, vec![]));
    invalid(create(
        BUDGET,
        iam_definition("arn:aws:iam::aws:role/NotAPolicy", &["BedrockUsers"]),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    let many: Vec<String> = (0..101).map(|i| format!("role-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    invalid(create(
        BUDGET,
        iam_definition(DENY_POLICY, &many),
        ApprovalModel::Manual,
        90.0,
        vec![email("a@example.com")],
    ));
    invalid(create(
        BUDGET,
        iam(),
        ApprovalModel::Manual,
        -1.0,
        vec![email("a@example.com")],
    ));
    let other_role = env.block_on(
        budgets
            .create_budget_action()
            .account_id(ACCOUNT)
            .budget_name(BUDGET)
            .notification_type(NotificationType::Actual)
            .action_type(ActionType::Iam)
            .action_threshold(threshold(95.0))
            .definition(iam())
            .execution_role_arn("arn:aws:iam::210987654321:role/BudgetsActionRole")
            .approval_model(ApprovalModel::Manual)
            .subscribers(email("a@example.com"))
            .send(),
    );
    invalid(other_role);
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .describe_budget_actions_for_account()
                    .account_id("210987654321")
                    .send()
            )
        ),
        "AccessDeniedException"
    );
    // The same action twice.
    assert_eq!(
        code(create(
            BUDGET,
            iam(),
            ApprovalModel::Manual,
            80.0,
            vec![email("ops@example.com")]
        )),
        "DuplicateRecordException"
    );
    // An SCP action: the management account's only.
    env.standin.set_member_account(true);
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .create_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .notification_type(NotificationType::Actual)
                    .action_type(ActionType::Scp)
                    .action_threshold(threshold(100.0))
                    .definition(scp.clone())
                    .execution_role_arn(action_role())
                    .approval_model(ApprovalModel::Auto)
                    .subscribers(email("a@example.com"))
                    .send(),
            )
        ),
        "AccessDeniedException"
    );
    env.standin.set_member_account(false);
    assert_eq!(
        env.standin.budget_actions().len(),
        1,
        "nothing refused was kept"
    );

    // The manual workflow. Approving a STANDBY action is refused; the threshold is crossed and
    // the action waits for approval; reversing it before it ran is refused; approved, it runs;
    // reversed, it is undone; reset, it waits again.
    assert_eq!(
        code(execute(&manual_id, ExecutionType::ApproveBudgetAction)),
        "ResourceLockedException"
    );
    assert_eq!(env.standin.cross_budget_action_threshold(BUDGET), 1);
    assert_eq!(status(&manual_id), ActionStatus::Pending);
    assert_eq!(
        code(execute(&manual_id, ExecutionType::ReverseBudgetAction)),
        "ResourceLockedException"
    );
    let approved = execute(&manual_id, ExecutionType::ApproveBudgetAction).expect("approve");
    assert_eq!(
        approved.execution_type(),
        &ExecutionType::ApproveBudgetAction
    );
    assert_eq!(approved.action_id(), manual_id);
    assert_eq!(status(&manual_id), ActionStatus::ExecutionSuccess);
    assert_eq!(
        code(execute(&manual_id, ExecutionType::ApproveBudgetAction)),
        "ResourceLockedException"
    );
    execute(&manual_id, ExecutionType::ReverseBudgetAction).expect("reverse");
    assert_eq!(status(&manual_id), ActionStatus::ReverseSuccess);
    execute(&manual_id, ExecutionType::ResetBudgetAction).expect("reset");
    assert_eq!(status(&manual_id), ActionStatus::Standby);

    // The history, newest first: reset, reverse, approve, the threshold, creation.
    let histories = env
        .block_on(
            budgets
                .describe_budget_action_histories()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .send(),
        )
        .expect("DescribeBudgetActionHistories");
    let events: Vec<(EventType, ActionStatus)> = histories
        .action_histories()
        .iter()
        .map(|h| (h.event_type().clone(), h.status().clone()))
        .collect();
    assert_eq!(
        events,
        [
            (EventType::ExecuteAction, ActionStatus::Standby),
            (EventType::ExecuteAction, ActionStatus::ReverseSuccess),
            (EventType::ExecuteAction, ActionStatus::ExecutionSuccess),
            (EventType::System, ActionStatus::Pending),
            (EventType::CreateAction, ActionStatus::Standby),
        ]
    );
    let details = histories.action_histories()[0]
        .action_history_details()
        .expect("details");
    assert_eq!(
        details.action().map(|a| a.action_id()),
        Some(manual_id.as_str())
    );
    // Paged.
    let first = env
        .block_on(
            budgets
                .describe_budget_action_histories()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .max_results(2)
                .send(),
        )
        .expect("a page");
    assert_eq!(first.action_histories().len(), 2);
    let rest = env
        .block_on(
            budgets
                .describe_budget_action_histories()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .max_results(100)
                .next_token(first.next_token().expect("NextToken"))
                .send(),
        )
        .expect("the rest");
    assert_eq!(rest.action_histories().len(), 3);
    assert!(rest.next_token().is_none());

    // An automatic action runs when its threshold is crossed.
    let automatic = create(
        BUDGET,
        iam_definition(DENY_POLICY, &["BedrockAdmins"]),
        ApprovalModel::Auto,
        100.0,
        vec![sns(&topic), email("ops@example.com")],
    )
    .expect("an automatic action")
    .action_id()
    .to_string();
    assert_eq!(env.standin.cross_budget_action_threshold(BUDGET), 2);
    assert_eq!(status(&automatic), ActionStatus::ExecutionSuccess);
    assert_eq!(status(&manual_id), ActionStatus::Pending);

    // While an action is being worked on it can be neither changed nor deleted.
    assert!(
        env.standin
            .set_budget_action_status(&automatic, "REVERSE_IN_PROGRESS")
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .update_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&automatic)
                    .action_threshold(threshold(110.0))
                    .send()
            )
        ),
        "ResourceLockedException"
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .delete_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&automatic)
                    .send()
            )
        ),
        "ResourceLockedException"
    );
    assert!(
        env.standin
            .set_budget_action_status(&automatic, "REVERSE_FAILURE")
    );
    execute(&automatic, ExecutionType::RetryBudgetAction).expect("retry");
    assert_eq!(status(&automatic), ActionStatus::ReverseSuccess);

    // Update: what is given changes, the rest stays.
    let updated = env
        .block_on(
            budgets
                .update_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&manual_id)
                .action_threshold(threshold(85.0))
                .send(),
        )
        .expect("UpdateBudgetAction");
    let threshold_of = |a: Option<&aws_sdk_budgets::types::Action>| {
        a.and_then(|a| a.action_threshold())
            .map(|t| t.action_threshold_value())
    };
    assert_eq!(threshold_of(updated.old_action()), Some(80.0));
    assert_eq!(threshold_of(updated.new_action()), Some(85.0));
    assert_eq!(
        updated.new_action().map(|a| a.approval_model()),
        Some(&ApprovalModel::Manual)
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .update_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&manual_id)
                    .definition(scp.clone())
                    .send()
            )
        ),
        "InvalidParameterException"
    );

    // Listings, paged.
    let page = env
        .block_on(
            budgets
                .describe_budget_actions_for_budget()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .max_results(1)
                .send(),
        )
        .expect("DescribeBudgetActionsForBudget");
    assert_eq!(page.actions().len(), 1);
    assert_eq!(page.actions()[0].action_id(), manual_id);
    let next = env
        .block_on(
            budgets
                .describe_budget_actions_for_budget()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .max_results(1)
                .next_token(page.next_token().expect("NextToken"))
                .send(),
        )
        .expect("second page");
    assert_eq!(next.actions()[0].action_id(), automatic);
    assert!(next.next_token().is_none());
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .describe_budget_actions_for_budget()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .next_token("not-a-token")
                    .send()
            )
        ),
        "InvalidNextTokenException"
    );
    let all = env
        .block_on(
            budgets
                .describe_budget_actions_for_account()
                .account_id(ACCOUNT)
                .send(),
        )
        .expect("DescribeBudgetActionsForAccount");
    assert_eq!(all.actions().len(), 2);

    // The snapshot: by budget name and policy, statuses included, no action IDs.
    let snapshot = env.standin.snapshot();
    let actions = &snapshot[ACCOUNT]["budget_actions"];
    let key = format!("{BUDGET}/{DENY_POLICY}");
    assert_eq!(actions.as_object().map(|o| o.len()), Some(2), "{actions:#}");
    let statuses: Vec<&str> = [key.clone(), format!("{key} (2)")]
        .iter()
        .map(|k| actions[k]["status"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(sorted(statuses), ["PENDING", "REVERSE_SUCCESS"]);
    assert!(!snapshot.to_string().contains(&manual_id));

    // Delete: answers the action; then it is gone.
    let deleted = env
        .block_on(
            budgets
                .delete_budget_action()
                .account_id(ACCOUNT)
                .budget_name(BUDGET)
                .action_id(&automatic)
                .send(),
        )
        .expect("DeleteBudgetAction");
    assert_eq!(
        deleted.action().map(|a| a.action_id()),
        Some(automatic.as_str())
    );
    assert_eq!(
        code(
            env.block_on(
                budgets
                    .describe_budget_action()
                    .account_id(ACCOUNT)
                    .budget_name(BUDGET)
                    .action_id(&automatic)
                    .send()
            )
        ),
        "NotFoundException"
    );

    // Deleting the budget (in moto) takes its actions along.
    env.block_on(
        budgets
            .delete_budget()
            .account_id(ACCOUNT)
            .budget_name(BUDGET)
            .send(),
    )
    .expect("DeleteBudget (moto)");
    assert!(env.standin.budget_actions().is_empty());
    assert_eq!(
        code(create(
            BUDGET,
            iam(),
            ApprovalModel::Manual,
            80.0,
            vec![email("ops@example.com")]
        )),
        "NotFoundException"
    );

    // A budget made straight in moto is known once read through the proxy.
    create_budget(&env, &env.aws.budgets, "made-in-moto");
    assert!(env.standin.known_budgets().is_empty());
    env.block_on(budgets.describe_budgets().account_id(ACCOUNT).send())
        .expect("DescribeBudgets (moto)");
    assert_eq!(env.standin.known_budgets(), ["made-in-moto"]);
    create(
        "made-in-moto",
        iam(),
        ApprovalModel::Manual,
        80.0,
        vec![email("ops@example.com")],
    )
    .expect("an action on a budget seen in DescribeBudgets");

    env.standin.reset();
    assert_eq!(env.standin.snapshot(), serde_json::json!({}));
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}
