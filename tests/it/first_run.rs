//! What a new user meets first: init, completions, help screens, and the permissions policy,
//! which must cover every AWS call the tool makes (recorded by the proxy during a full
//! apply/status/report/cleanup run).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::env::TestEnv;

#[test]
fn init_writes_a_valid_config_and_refuses_to_overwrite() {
    let env = TestEnv::new();
    let run = env.run(&[
        "init",
        "--email",
        "ops@example.com",
        "--region",
        "eu-west-1",
    ]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("Wrote bedrock-monitor.toml"),
        "{}",
        run.stdout
    );
    let text = std::fs::read_to_string(env.path("bedrock-monitor.toml")).expect("written");
    assert!(text.contains("region = \"eu-west-1\""), "{text}");
    assert!(text.contains("emails = [\"ops@example.com\"]"), "{text}");
    env.run(&["validate"]).assert_code(0);

    let again = env.run(&["init"]);
    again.assert_code(3);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    env.run(&["init", "--force"]).assert_code(0);
    let text = std::fs::read_to_string(env.path("bedrock-monitor.toml")).expect("rewritten");
    assert!(
        text.contains("emails = []"),
        "no email without a terminal or --email"
    );

    assert!(
        run.stdout.contains("init --kms-key"),
        "without a key, init says how to use one: {}",
        run.stdout
    );

    // With a customer-managed key: the bucket, the log group and the topic use it.
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let keyed = env.run(&["init", "--force", "--region", "eu-west-1", "--kms-key", key]);
    keyed.assert_code(0);
    assert!(keyed.stdout.contains("--key-policies"), "{}", keyed.stdout);
    let text = std::fs::read_to_string(env.path("bedrock-monitor.toml")).expect("rewritten");
    assert_eq!(
        text.matches(&format!("\nkms_key_arn = \"{key}\"")).count(),
        3,
        "{text}"
    );
    env.run(&["validate", "--region", "eu-west-1"])
        .assert_code(0);
    // A key that is not a key ARN is refused, and nothing is written over the file.
    let refused = env.run(&["init", "--force", "--kms-key", "alias/logs"]);
    refused.assert_code(3);
    assert!(refused.stderr.contains("kms_key_arn"), "{}", refused.stderr);

    let bad = env.run(&["init", "--force", "--email", "not-an-email"]);
    bad.assert_code(3);
    assert!(
        bad.stderr.contains("not an email address"),
        "{}",
        bad.stderr
    );
    assert!(
        env.proxy.calls().is_empty(),
        "init with --region makes no AWS call"
    );
}

#[test]
fn completions_for_each_shell() {
    let env = TestEnv::new();
    for (shell, marker) in [
        ("bash", "complete -F _bedrock__monitor"),
        ("zsh", "#compdef bedrock-monitor"),
        ("fish", "complete -c bedrock-monitor"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = env.run(&["completions", shell]);
        run.assert_code(0);
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..run.stdout.len().min(300)]
        );
        assert!(
            run.stdout.contains("apply"),
            "{shell} completes subcommands"
        );
    }
    env.run(&["completions", "tcsh"]).assert_code(64);
}

#[test]
fn every_help_screen_explains_itself_with_an_example() {
    let env = TestEnv::new();
    let top = env.run(&["--help"]);
    top.assert_code(0);
    assert!(top.stdout.contains("Examples:"), "{}", top.stdout);
    for sub in [
        "init",
        "validate",
        "plan",
        "apply",
        "status",
        "cleanup",
        "report",
        "permissions",
        "completions",
    ] {
        let run = env.run(&[sub, "--help"]);
        run.assert_code(0);
        assert!(
            run.stdout.contains("Example"),
            "{sub} --help: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains("bedrock-monitor"),
            "{sub} --help names the command"
        );
    }
}

/// The IAM action a recorded call needs. Most are `service:Operation`; S3 and Budgets name
/// their actions differently from their API operations.
fn iam_actions(service: &str, operation: &str) -> Vec<String> {
    let prefix = match service {
        "monitoring" => "cloudwatch",
        other => other,
    };
    let s3 = |a: &str| vec![format!("s3:{a}")];
    match (prefix, operation) {
        ("s3", "HeadBucket") => s3("ListBucket"),
        ("s3", "GetBucketLifecycleConfiguration") => s3("GetLifecycleConfiguration"),
        ("s3", "PutBucketLifecycleConfiguration") => s3("PutLifecycleConfiguration"),
        ("s3", "GetBucketEncryption") => s3("GetEncryptionConfiguration"),
        ("s3", "PutBucketEncryption") => s3("PutEncryptionConfiguration"),
        ("s3", "GetPublicAccessBlock") => s3("GetBucketPublicAccessBlock"),
        ("s3", "PutPublicAccessBlock") => s3("PutBucketPublicAccessBlock"),
        ("s3", "ListObjectVersions") => s3("ListBucketVersions"),
        // IAM authorizes ListObjectsV2 as s3:ListBucket.
        ("s3", "ListObjectsV2") => s3("ListBucket"),
        ("s3", "HeadObject") => s3("GetObject"),
        ("s3", "DeleteObjects") => vec!["s3:DeleteObject".into(), "s3:DeleteObjectVersion".into()],
        ("budgets", op) if op.starts_with("Describe") => vec!["budgets:ViewBudget".into()],
        ("budgets", op)
            if ["Create", "Update", "Delete"]
                .iter()
                .any(|p| op.starts_with(p)) =>
        {
            vec!["budgets:ModifyBudget".into()]
        }
        (p, op) => vec![format!("{p}:{op}")],
    }
}

#[test]
fn the_permissions_policy_covers_every_call_of_a_full_run() {
    let env = TestEnv::new();
    env.standin.seed_bedrock_quotas(crate::support::env::REGION);
    env.write_config(
        "[alerts]\nemails = [\"ops@example.com\", \"oncall@example.com\"]\n\
         [alarms.sonnet]\nmetric = \"OutputTokenCount\"\nstatistic = \"Sum\"\n\
         comparison = \"GreaterThanThreshold\"\nthreshold = 1\nmodel_id = \"m\"\n\
         [quotas]\nmodels = [\"openai.gpt-oss-120b-1:0\"]\nttft_p90_ms = 3000\n",
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    env.run(&["quotas", "--days", "1"]).assert_code(0);
    env.run(&[
        "quotas",
        "request",
        "--model",
        "openai.gpt-oss-120b-1:0",
        "--kind",
        "tokens-per-minute",
        "--value",
        "2000000",
        "--yes",
    ])
    .assert_code(0);
    // A second run with a changed config exercises the update paths too.
    env.write_config(
        "[alerts]\nemails = [\"ops@example.com\"]\n[log_group]\nretention_days = 60\n",
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    env.run(&["status"]).assert_code(0);
    env.run(&["report", "--by-principal"]).assert_code(0);
    env.run(&["cleanup", "--yes", "--purge-data"])
        .assert_code(0);
    assert_permissions_cover_every_call(&env, &[]);
}

/// `permissions` (for the config in `env`) grants every IAM action the recorded calls needed,
/// and grants "*" only for actions AWS cannot scope (the common ones plus `also_unscoped`).
pub(crate) fn assert_permissions_cover_every_call(env: &TestEnv, also_unscoped: &[&str]) {
    assert_permissions_cover_calls(env, also_unscoped, 50);
}

/// [`assert_permissions_cover_every_call`] for a run of at least `min_calls` calls.
pub(crate) fn assert_permissions_cover_calls(
    env: &TestEnv,
    also_unscoped: &[&str],
    min_calls: usize,
) {
    let calls = env.proxy.calls();
    assert!(
        calls.len() > min_calls,
        "a full run makes many calls: {}",
        calls.len()
    );

    // The everyday policy and the one-time bootstrap policy (the IAM and Organizations writes)
    // together; the everyday one has no IAM or Organizations write at all.
    let printed = |args: &[&str]| -> Value {
        let run = env.run(args);
        run.assert_code(0);
        serde_json::from_str(&run.stdout).expect("policy JSON on stdout")
    };
    let everyday = printed(&["permissions"]);
    let bootstrap = printed(&["permissions", "--bootstrap"]);
    let actions = |doc: &Value| -> BTreeSet<String> {
        doc["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .flat_map(|s| s["Action"].as_array().cloned().unwrap_or_default())
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect()
    };
    for a in actions(&everyday) {
        let write = (a.starts_with("iam:") || a.starts_with("organizations:"))
            && !["Get", "List", "Describe"]
                .iter()
                .any(|p| a.split(':').nth(1).is_some_and(|n| n.starts_with(p)))
            && a != "iam:PassRole";
        assert!(!write, "{a} in the everyday policy");
    }
    let granted: BTreeSet<String> = actions(&everyday)
        .into_iter()
        .chain(actions(&bootstrap))
        .collect();
    let policy = json!({"Statement": everyday["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(bootstrap["Statement"].as_array().into_iter().flatten())
        .cloned()
        .collect::<Vec<_>>()});
    let mut missing = BTreeSet::new();
    for call in &calls {
        for action in iam_actions(&call.service, &call.operation) {
            if !granted.contains(&action) {
                missing.insert(format!("{action} (from {} {})", call.method, call.path));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not covered by `permissions`: {missing:#?}"
    );
    // Scoped, not a wildcard policy: only calls AWS cannot scope get "*".
    for s in policy["Statement"].as_array().expect("statements") {
        if s["Resource"] == serde_json::json!(["*"]) {
            for a in s["Action"].as_array().expect("actions") {
                let a = a.as_str().unwrap_or_default();
                assert!(
                    [
                        "sts:GetCallerIdentity",
                        "cloudwatch:ListMetrics",
                        "cloudwatch:GetMetricData",
                        "cloudwatch:DescribeAlarms",
                        "logs:GetQueryResults",
                        "logs:StopQuery",
                        "bedrock:ListInferenceProfiles",
                        // The Price List and the model catalogue have no resource ARNs.
                        "pricing:GetProducts",
                        "bedrock:ListFoundationModels",
                        // The quota reads (`quotas`, the quota alarms, the dashboard's and
                        // the report's quota sections): list calls the reader statement
                        // grants on "*" as taking no resource (Service Authorization
                        // Reference, Service Quotas).
                        "servicequotas:ListServiceQuotas",
                        "servicequotas:ListRequestedServiceQuotaChangeHistory",
                        "bedrock:GetModelInvocationLoggingConfiguration",
                        "bedrock:PutModelInvocationLoggingConfiguration",
                        "bedrock:DeleteModelInvocationLoggingConfiguration",
                    ]
                    .contains(&a)
                        || also_unscoped.contains(&a),
                    "{a} should be scoped to resource ARNs"
                );
            }
        }
    }
}

/// The same with every cost-attribution component: apply, an update, status, report and
/// cleanup of profiles, cost-allocation tags, anomaly detection and the CUR export.
#[test]
fn the_permissions_policy_covers_the_cost_attribution_components() {
    let env = TestEnv::new();
    let config = r#"
[stack.tags]
Team = "platform"

[[inference_profiles]]
name = "team-search"
model = "anthropic.claude-3-5-haiku-20241022-v1:0"

[cost_allocation]

[anomaly_detection]
threshold_usd = 100

[cur_export]
athena = { database = "cur", table = "bedrock_cur", output = "s3://athena-results-123456789012/bedrock/" }

[queries]

[[budgets]]
name = "BedrockUsageBudget"
limit_usd = 100

[budgets.action]
threshold_percent = 100
deny_roles = ["app-role"]
"#;
    env.write_config(config);
    env.standin.tag_keys_seen_in_billing(&["Team"]);
    env.standin.put_athena_table(crate::cur::documented_table());
    env.run(&["apply", "--yes"]).assert_code(0);
    env.write_config(&config.replace("platform", "search"));
    env.run(&["apply", "--yes"]).assert_code(0);
    env.run(&["status"]).assert_code(0);
    env.run(&["report"]).assert_code(0);
    // The CUR report by both engines (nothing delivered yet: the embedded one fails, after
    // its reads and the export's status).
    env.run(&["report", "--source", "cur", "--engine", "embedded"]);
    env.run(&["report", "--source", "cur", "--by", "tag:team"]);
    let operations: Vec<String> = env.proxy.calls().into_iter().map(|c| c.operation).collect();
    for op in ["ListObjectsV2", "StartQueryExecution", "GetQueryResults"] {
        assert!(operations.iter().any(|o| o == op), "{op} in {operations:?}");
    }
    env.run(&["cleanup", "--yes", "--purge-data"])
        .assert_code(0);
    // Cost Explorer's and Data Exports' list and create calls, and Organizations' describe,
    // take no resource ARN.
    assert_permissions_cover_every_call(
        &env,
        &[
            "organizations:DescribeOrganization",
            "ce:ListCostAllocationTags",
            "ce:UpdateCostAllocationTagsStatus",
            "ce:ListCostCategoryDefinitions",
            "ce:CreateCostCategoryDefinition",
            "ce:GetAnomalyMonitors",
            "ce:CreateAnomalyMonitor",
            "ce:GetAnomalySubscriptions",
            "ce:CreateAnomalySubscription",
            "bcm-data-exports:ListExports",
            "bcm-data-exports:CreateExport",
            "cur:PutReportDefinition",
            "logs:DescribeQueryDefinitions",
            "logs:PutQueryDefinition",
            "logs:DeleteQueryDefinition",
        ],
    );
}

/// The same for an SCP budget action in an organization's management account: the
/// Organizations calls (reads in the everyday policy, writes in the bootstrap one).
#[test]
fn the_permissions_policy_covers_an_scp_budget_action() {
    let env = TestEnv::new();
    let (account, ou) = crate::budget_actions::organization(&env, true);
    let config = format!(
        "[[budgets]]\nname = \"Org\"\nlimit_usd = 100\n[budgets.action]\nkind = \"scp\"\nthreshold_percent = 100\ntarget_accounts = [\"{account}\"]\ntarget_ous = [\"{ou}\"]\n"
    );
    env.write_config(&config);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    // An update of the action (moto does not serve UpdateBudget, so not of the budget).
    env.write_config(&config.replace("threshold_percent = 100", "threshold_percent = 90"));
    env.run(&["apply", "--yes"]).assert_code(0);
    env.run(&["status"]).assert_code(0);
    env.run(&["cleanup", "--yes"]).assert_code(0);
    let operations: Vec<String> = env.proxy.calls().into_iter().map(|c| c.operation).collect();
    for op in ["CreatePolicy", "ListPolicies", "DeletePolicy", "ListRoots"] {
        assert!(operations.iter().any(|o| o == op), "{op} in {operations:?}");
    }
    assert_permissions_cover_every_call(
        &env,
        &[
            "organizations:DescribeOrganization",
            "organizations:ListRoots",
            "organizations:ListPolicies",
            "organizations:CreatePolicy",
        ],
    );
}
