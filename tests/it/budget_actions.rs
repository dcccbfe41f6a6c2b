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
    // Every action of the reference's list of spending actions is denied (read from the
    // emulator's policy), the Mantle endpoint's and AgentCore's included.
    let denied = serde_json::from_str::<serde_json::Value>(&decode(&policy)).expect("policy JSON");
    let (reference_date, spending) = spending_actions();
    assert_eq!(reference_date, "2026-08-22");
    let denied_actions: Vec<String> = denied["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| s["Effect"] == "Deny")
        .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    for action in &spending {
        assert!(
            denied_actions.contains(action),
            "{action} (reference of {reference_date}) is not denied: {denied_actions:?}"
        );
    }
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

/// The Service Authorization Reference's actions that spend (tests/fixtures), and its date.
fn spending_actions() -> (String, Vec<String>) {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../fixtures/service-authorization/spending-actions.json"
    ))
    .expect("fixture JSON");
    let list = fixture["spending"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    (
        fixture["retrieved"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        list,
    )
}

/// An organization in moto whose management account is the tool's account, with one member
/// account and one OU; SCPs enabled on the root when `scps` is true. Returns (account, OU).
pub(crate) fn organization(env: &TestEnv, scps: bool) -> (String, String) {
    env.block_on(async {
        let org = &env.aws.organizations;
        org.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("CreateOrganization");
        let roots = org.list_roots().send().await.expect("ListRoots");
        let root = roots.roots()[0].id().unwrap_or_default().to_string();
        let ou = org
            .create_organizational_unit()
            .parent_id(&root)
            .name("workloads")
            .send()
            .await
            .expect("CreateOrganizationalUnit")
            .organizational_unit()
            .and_then(|u| u.id().map(str::to_string))
            .unwrap_or_default();
        let account = org
            .create_account()
            .email("team@example.com")
            .account_name("team")
            .send()
            .await
            .expect("CreateAccount")
            .create_account_status()
            .and_then(|s| s.account_id().map(str::to_string))
            .unwrap_or_default();
        if scps {
            org.enable_policy_type()
                .root_id(&root)
                .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
                .send()
                .await
                .expect("EnablePolicyType");
        }
        (account, ou)
    })
}

/// One of the stack's SCPs as moto holds it.
#[derive(Debug)]
struct Scp {
    id: String,
    content: String,
    tags: Vec<(String, String)>,
    targets: Vec<String>,
}

/// The stack's SCPs in moto.
fn scps(env: &TestEnv) -> Vec<Scp> {
    env.block_on(async {
        let org = &env.aws.organizations;
        let listed = org
            .list_policies()
            .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .expect("ListPolicies");
        let mut found = Vec::new();
        for p in listed.policies() {
            if p.name() != Some("BedrockMonitorDenyBedrock-bedrock-monitor") {
                continue;
            }
            let id = p.id().unwrap_or_default().to_string();
            let content = org
                .describe_policy()
                .policy_id(&id)
                .send()
                .await
                .expect("DescribePolicy")
                .policy()
                .and_then(|p| p.content().map(str::to_string))
                .unwrap_or_default();
            let tags = org
                .list_tags_for_resource()
                .resource_id(&id)
                .send()
                .await
                .expect("tags")
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            let targets = org
                .list_targets_for_policy()
                .policy_id(&id)
                .send()
                .await
                .expect("targets")
                .targets()
                .iter()
                .filter_map(|t| t.target_id().map(str::to_string))
                .collect();
            found.push(Scp {
                id,
                content,
                tags,
                targets,
            });
        }
        found
    })
}

/// `kind = "scp"`: the deny policy as a service control policy the tool creates in the
/// management account, and an APPLY_SCP_POLICY action aimed at a member account and an OU.
/// apply creates both (read back from moto's Organizations and the stand-in), a second apply
/// writes nothing, plan exits 0, and cleanup removes them.
#[test]
fn an_scp_budget_action_is_created_converged_and_removed() {
    let env = TestEnv::new();
    let (account, ou) = organization(&env, false);
    env.write_config(&format!(
        r#"
[[budgets]]
name = "OrgBedrock"
limit_usd = 1000

[budgets.action]
kind = "scp"
threshold_percent = 100
target_accounts = ["{account}"]
target_ous = ["{ou}"]
"#
    ));
    // SCPs not enabled on the root yet: plan says the action could not fire.
    let plan = env.run(&["plan"]);
    plan.assert_code(0);
    assert!(
        plan.stdout
            .contains("service control policies are not enabled"),
        "{}",
        plan.stdout
    );
    env.block_on(async {
        let org = &env.aws.organizations;
        let roots = org.list_roots().send().await.expect("ListRoots");
        org.enable_policy_type()
            .root_id(roots.roots()[0].id().unwrap_or_default())
            .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .expect("EnablePolicyType");
    });
    env.run(&["apply", "--yes"]).assert_code(0);

    let found = scps(&env);
    assert_eq!(found.len(), 1, "{found:?}");
    let Scp {
        id,
        content,
        tags,
        targets,
    } = &found[0];
    let (_, spending) = spending_actions();
    for action in &spending {
        assert!(
            content.contains(&format!("\"{action}\"")),
            "{action}: {content}"
        );
    }
    assert!(
        tags.contains(&("bedrock-monitor:stack".into(), "bedrock-monitor".into())),
        "{tags:?}"
    );
    // Budgets attaches it when spend crosses the threshold, not apply.
    assert!(targets.is_empty(), "{targets:?}");
    let actions = env.standin.budget_actions();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    let action = &actions[0];
    assert_eq!(action.action_type, "APPLY_SCP_POLICY");
    assert_eq!(
        action.definition["ScpActionDefinition"]["PolicyId"],
        id.as_str()
    );
    assert_eq!(
        action.definition["ScpActionDefinition"]["TargetIds"],
        serde_json::json!([account, ou])
    );
    assert!(
        action
            .execution_role_arn
            .ends_with(":role/BedrockBudgetAction-bedrock-monitor")
    );
    // The execution role may attach exactly that SCP to exactly those targets.
    let role_policy = env.block_on(async {
        env.aws
            .iam
            .get_role_policy()
            .role_name("BedrockBudgetAction-bedrock-monitor")
            .policy_name("AttachBedrockDenyPolicy")
            .send()
            .await
            .expect("inline policy")
            .policy_document()
            .to_string()
    });
    let role_policy = percent_decode(&role_policy);
    for needed in [
        "organizations:AttachPolicy".to_string(),
        format!("service_control_policy/{id}"),
        format!("account/o-*/{account}"),
        format!("ou/o-*/{ou}"),
    ] {
        assert!(role_policy.contains(&needed), "{needed}: {role_policy}");
    }
    // No IAM deny policy: no action of kind "iam".
    let iam_policy = env.block_on(async {
        env.aws
            .iam
            .get_policy()
            .policy_arn(
                "arn:aws:iam::123456789012:policy/BedrockMonitorDenyBedrock-bedrock-monitor",
            )
            .send()
            .await
            .is_ok()
    });
    assert!(!iam_policy);

    // Converged.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);

    // The action fired: cleanup reverses it, detaches the SCP from what holds it, deletes it.
    env.standin.cross_budget_action_threshold("OrgBedrock");
    env.run(&["budget-action", "approve", "OrgBedrock", "--yes"])
        .assert_code(0);
    env.block_on(async {
        env.aws
            .organizations
            .attach_policy()
            .policy_id(id)
            .target_id(&account)
            .send()
            .await
            .expect("what AWS Budgets would have attached")
    });
    env.proxy.clear();
    env.run(&["cleanup", "--yes"]).assert_code(0);
    let writes = env.writes();
    for w in [
        "budgets:ExecuteBudgetAction",
        "budgets:DeleteBudgetAction",
        "organizations:DetachPolicy",
        "organizations:DeletePolicy",
    ] {
        assert!(writes.iter().any(|x| x == w), "{w}: {writes:?}");
    }
    assert!(scps(&env).is_empty());
    assert!(env.standin.budget_actions().is_empty());
}

/// Bad SCP actions are refused with the field and the rule, before any AWS call.
#[test]
fn bad_scp_budget_actions_are_refused_before_any_call() {
    let env = TestEnv::new();
    env.write_config(
        r#"
[[budgets]]
name = "A"
limit_usd = 10
[budgets.action]
kind = "scp"
threshold_percent = 100
deny_roles = ["app-role"]

[[budgets]]
name = "B"
limit_usd = 10
[budgets.action]
kind = "scp"
threshold_percent = 100
target_accounts = ["12345", "111111111111", "111111111111"]
target_ous = ["r-abcd"]

[[budgets]]
name = "C"
limit_usd = 10
[budgets.action]
kind = "organization"
threshold_percent = 100

[[budgets]]
name = "D"
limit_usd = 10
[budgets.action]
threshold_percent = 100
deny_roles = ["app-role"]
target_accounts = ["111111111111"]
"#,
    );
    env.proxy.clear();
    let run = env.run(&["validate"]);
    run.assert_code(3);
    for needle in [
        "budgets[0].action.deny_roles: an SCP applies to whole accounts",
        "budgets[0].action.target_accounts: name at least one account",
        "budgets[1].action.target_accounts[0]: \"12345\" is not an account ID",
        "budgets[1].action.target_accounts[2]: \"111111111111\" is listed twice",
        "budgets[1].action.target_ous[0]: \"r-abcd\" is not an OU ID",
        "budgets[2].action.kind: \"organization\"",
        "budgets[3].action.target_accounts: targets are for kind = \"scp\"",
        "bedrock-monitor.toml:",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
    assert!(env.proxy.calls().is_empty());
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
