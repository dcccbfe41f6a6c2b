//! Budget actions that deny Bedrock (issue 15, part 1), end to end against moto (IAM, budgets)
//! and the harness's stand-in for the budget-action operations moto does not serve.

use crate::support::env::TestEnv;

#[test]
fn bad_budget_actions_are_refused_before_any_call() {
    let env = TestEnv::new();
    env.write_config(
        r#"
[[budgets]]
name = "Empty"
limit_usd = 10
[budgets.action]
threshold_percent = 100

[[budgets]]
name = "OwnRole"
limit_usd = 10
[budgets.action]
threshold_usd = 50
threshold_percent = 90
deny_roles = ["BedrockCloudWatchLoggingRole", "arn:aws:iam::123456789012:role/x"]
approval = "sometimes"
"#,
    );
    env.proxy.clear();
    let run = env.run(&["validate"]);
    run.assert_code(3);
    for needle in [
        "budgets[0].action.deny_roles: name at least one role, user or group",
        "budgets[1].action.threshold_percent: set either threshold_percent or threshold_usd",
        "budgets[1].action.deny_roles[0]: \"BedrockCloudWatchLoggingRole\" is this stack's own role",
        "budgets[1].action.deny_roles[1]",
        "budgets[1].action.approval",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
    assert!(env.proxy.calls().is_empty());
}
