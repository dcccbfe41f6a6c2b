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

const CONFIG: &str = r#"
[[budgets]]
name = "BedrockUsageBudget"
limit_usd = 100

[budgets.action]
threshold_percent = 100
deny_roles = ["app-role"]
approval = "manual"
"#;

fn create_app_role(env: &TestEnv) {
    env.block_on(async {
        env.aws
            .iam
            .create_role()
            .role_name("app-role")
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            )
            .send()
            .await
            .expect("CreateRole app-role")
    });
}

fn health(env: &TestEnv) -> String {
    let status = env.run(&["status", "-o", "json"]);
    let doc = status.json();
    doc["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "budget-actions"))
        .map(|c| c["health"].to_string())
        .unwrap_or_default()
}

#[test]
fn a_budget_action_denies_bedrock_when_approved_and_cleanup_reverses_it_first() {
    let env = TestEnv::new();
    create_app_role(&env);
    env.write_config(CONFIG);
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("can block production traffic"),
        "{}",
        plan.stdout
    );
    env.run(&["apply", "--yes"]).assert_code(0);

    // The deny policy, the execution role scoped to exactly it and app-role, and the action.
    let (policy, trust, role_policy) = env.block_on(async {
        let iam = &env.aws.iam;
        let arn = "arn:aws:iam::123456789012:policy/BedrockMonitorDenyBedrock-bedrock-monitor";
        let p = iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .expect("policy");
        let version = p
            .policy()
            .and_then(|p| p.default_version_id())
            .unwrap_or("v1")
            .to_string();
        let doc = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .expect("version")
            .policy_version()
            .and_then(|v| v.document().map(str::to_string))
            .unwrap_or_default();
        let role = iam
            .get_role()
            .role_name("BedrockBudgetAction-bedrock-monitor")
            .send()
            .await
            .expect("role");
        let inline = iam
            .get_role_policy()
            .role_name("BedrockBudgetAction-bedrock-monitor")
            .policy_name("AttachBedrockDenyPolicy")
            .send()
            .await
            .expect("inline");
        (
            doc,
            role.role()
                .and_then(|r| r.assume_role_policy_document().map(str::to_string))
                .unwrap_or_default(),
            inline.policy_document().to_string(),
        )
    });
    let decode = |s: &str| percent_decode(s);
    assert!(
        decode(&policy).contains("bedrock:InvokeModel") && decode(&policy).contains("\"Deny\""),
        "{policy}"
    );
    // The Mantle endpoint's inference is denied too (read from the emulator's policy).
    assert!(
        decode(&policy).contains("bedrock-mantle:CreateInference"),
        "{policy}"
    );
    assert!(decode(&trust).contains("budgets.amazonaws.com"), "{trust}");
    let role_policy = decode(&role_policy);
    assert!(
        role_policy.contains("arn:aws:iam::123456789012:role/app-role"),
        "{role_policy}"
    );
    assert!(role_policy.contains("iam:PolicyARN"), "{role_policy}");
    let actions = env.standin.budget_actions();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    let action = &actions[0];
    assert_eq!(action.budget_name, "BedrockUsageBudget");
    assert_eq!(action.action_type, "APPLY_IAM_POLICY");
    assert_eq!(action.approval_model, "MANUAL");
    assert_eq!(action.status, "STANDBY");
    assert_eq!(action.threshold_type, "PERCENTAGE");
    assert!(
        action
            .execution_role_arn
            .ends_with(":role/BedrockBudgetAction-bedrock-monitor")
    );
    assert!(
        action
            .subscribers
            .iter()
            .any(|s| s.address.ends_with(":bedrock-usage-alerts"))
    );

    // Converged.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert!(health(&env).contains("standby"));

    // The threshold changed in the console: drift, put back by one update.
    env.standin.mutate(|account| {
        if let Some(a) = account.budget_actions.first_mut() {
            a.threshold_value = 150.0;
        }
    });
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    assert!(
        status.stdout.contains("actions.BedrockUsageBudget"),
        "{}",
        status.stdout
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["budgets:UpdateBudgetAction"]);
    assert_eq!(env.standin.budget_actions()[0].threshold_value, 100.0);

    // Spend crosses the threshold: a manual action waits for approval.
    env.standin
        .cross_budget_action_threshold("BedrockUsageBudget");
    assert!(
        health(&env).contains("pending approval"),
        "{}",
        health(&env)
    );
    // Approving asks first: without a terminal it needs --yes.
    env.run(&["budget-action", "approve", "BedrockUsageBudget"])
        .assert_code(3);
    assert_eq!(env.standin.budget_actions()[0].status, "PENDING");
    env.run(&["budget-action", "approve", "BedrockUsageBudget", "--yes"])
        .assert_code(0);
    assert_eq!(env.standin.budget_actions()[0].status, "EXECUTION_SUCCESS");
    let h = health(&env);
    assert!(h.contains("denied now to roles app-role"), "{h}");

    // An unknown budget is a usage error.
    env.run(&["budget-action", "reverse", "Nope", "--yes"])
        .assert_code(3);

    // cleanup reverses the executed action before deleting it, then removes policy and role.
    env.proxy.clear();
    env.run(&["cleanup", "--yes"]).assert_code(0);
    let writes = env.writes();
    let reverse = writes
        .iter()
        .position(|w| w == "budgets:ExecuteBudgetAction")
        .expect("reversed");
    let delete = writes
        .iter()
        .position(|w| w == "budgets:DeleteBudgetAction")
        .expect("deleted");
    assert!(reverse < delete, "{writes:?}");
    assert!(env.standin.budget_actions().is_empty());
    let gone = env.block_on(async {
        env.aws
            .iam
            .get_role()
            .role_name("BedrockBudgetAction-bedrock-monitor")
            .send()
            .await
            .is_err()
    });
    assert!(gone, "the execution role is left");
}

/// AWS Budgets works asynchronously (issue 21): right after ExecuteBudgetAction a read may still
/// show the status before it, then REVERSE_IN_PROGRESS, before REVERSE_SUCCESS. `budget-action
/// reverse` and `cleanup` wait that out with backoff instead of calling the first read a
/// failure; an action whose execution failed (the policy may be half attached) is reversed
/// before it is deleted.
#[test]
fn reversals_are_waited_for_and_a_failed_execution_is_reversed_before_deletion() {
    let env = TestEnv::new();
    create_app_role(&env);
    env.write_config(&format!(
        "[aws]\ninitial_backoff_ms = 20\nmax_backoff_seconds = 1\n{CONFIG}"
    ));
    env.run(&["apply", "--yes"]).assert_code(0);
    env.standin
        .cross_budget_action_threshold("BedrockUsageBudget");
    env.run(&["budget-action", "approve", "BedrockUsageBudget", "--yes"])
        .assert_code(0);
    assert_eq!(env.standin.budget_actions()[0].status, "EXECUTION_SUCCESS");

    // From now on an execution shows its old status once, then REVERSE_IN_PROGRESS twice.
    env.standin.set_budget_action_progress(1, 2);
    env.proxy.clear();
    let run = env.run(&[
        "budget-action",
        "reverse",
        "BedrockUsageBudget",
        "--yes",
        "-o",
        "json",
    ]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["status_before"], "EXECUTION_SUCCESS", "{doc:#}");
    assert_eq!(doc["status_after"], "REVERSE_SUCCESS", "{doc:#}");
    assert_eq!(doc["reversed"], true, "{doc:#}");
    assert_eq!(env.standin.budget_actions()[0].status, "REVERSE_SUCCESS");
    let reads = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeBudgetAction")
        .count();
    assert_eq!(reads, 4, "one stale read, two in progress, then done");
    let text = env.run(&["budget-action", "reverse", "BedrockUsageBudget", "--yes"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("nothing to reverse"),
        "{}",
        text.stdout
    );

    // An execution that failed may have attached the policy to some principals: cleanup
    // reverses it (and waits) before deleting the action.
    let id = env.standin.budget_actions()[0].action_id.clone();
    assert!(
        env.standin
            .set_budget_action_status(&id, "EXECUTION_FAILURE")
    );
    env.proxy.clear();
    env.run(&["cleanup", "--yes"]).assert_code(0);
    let writes = env.writes();
    let reverse = writes
        .iter()
        .position(|w| w == "budgets:ExecuteBudgetAction")
        .unwrap_or_else(|| panic!("not reversed: {writes:?}"));
    let delete = writes
        .iter()
        .position(|w| w == "budgets:DeleteBudgetAction")
        .unwrap_or_else(|| panic!("not deleted: {writes:?}"));
    assert!(reverse < delete, "{writes:?}");
    assert!(env.standin.budget_actions().is_empty());
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// IAM is eventually consistent: right after CreateRole the new execution role can be unknown
/// to PutRolePolicy (NoSuchEntity), and Budgets can refuse CreateBudgetAction while it cannot
/// yet see the new deny policy. Both are retried for a bounded time, as the logging role's
/// PutRolePolicy is; the proxy answers each once as IAM and Budgets would, then lets moto answer.
#[test]
fn new_iam_parts_are_waited_for_not_failed_on() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::support::proxy::{AnswerWith, Protocol, Reply, StrictRequest};

    let env = TestEnv::new();
    create_app_role(&env);
    env.write_config(CONFIG);
    let put_role_policy = Arc::new(AtomicUsize::new(0));
    let create_action = Arc::new(AtomicUsize::new(0));
    let (p, c) = (put_role_policy.clone(), create_action.clone());
    env.proxy.add_rule_first(Arc::new(AnswerWith(move |r: &StrictRequest| {
        if r.operation == "PutRolePolicy"
            && r.form("RoleName").as_deref() == Some("BedrockBudgetAction-bedrock-monitor")
            && p.fetch_add(1, Ordering::SeqCst) == 0
        {
            return Some(Reply::error(
                Protocol::Query,
                404,
                "NoSuchEntity",
                "The role with name BedrockBudgetAction-bedrock-monitor cannot be found.",
            ));
        }
        if r.operation == "CreateBudgetAction" && c.fetch_add(1, Ordering::SeqCst) == 0 {
            return Some(Reply::error(
                Protocol::Json,
                400,
                "InvalidParameterException",
                "The policy arn:aws:iam::123456789012:policy/BedrockMonitorDenyBedrock-bedrock-monitor does not exist.",
            ));
        }
        None
    })));
    let run = env.run(&["apply", "--yes"]);
    run.assert_code(0);
    assert_eq!(put_role_policy.load(Ordering::SeqCst), 2, "{}", run.stderr);
    assert_eq!(create_action.load(Ordering::SeqCst), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("waiting for the new execution role"),
        "{}",
        run.stderr
    );
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}
