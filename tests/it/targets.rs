//! Many accounts and regions in one run (issue 14), against moto's Organizations and its
//! per-account state through AssumeRole: an organization with nested OUs and a suspended
//! account, the per-account versus per-region scope checked in each account's own state,
//! narrowing, a target whose AssumeRole is denied, report totals across targets, cleanup of
//! every target, and bad `[targets]` input refused with no call.

use std::sync::Arc;

use bedrock_monitor::aws::Clients;
use serde_json::Value;

use crate::support::env::{ACCOUNT, TestEnv};
use crate::support::proxy::{AnswerWith, Protocol, Reply, StrictRequest};

struct Org {
    workloads: String,
    /// In `workloads` directly.
    a: String,
    /// In `team` (under `workloads`).
    b: String,
    /// In `team`, closed (SUSPENDED).
    closed: String,
}

fn organization(env: &TestEnv) -> Org {
    env.block_on(async {
        let org = &env.aws.organizations;
        org.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("CreateOrganization");
        let roots = org.list_roots().send().await.expect("ListRoots");
        let root = roots.roots()[0].id().unwrap_or_default().to_string();
        let ou = |parent: String, name: &'static str| async move {
            org.create_organizational_unit()
                .parent_id(parent)
                .name(name)
                .send()
                .await
                .expect("CreateOrganizationalUnit")
                .organizational_unit()
                .and_then(|u| u.id().map(str::to_string))
                .unwrap_or_default()
        };
        let workloads = ou(root.clone(), "workloads").await;
        let team = ou(workloads.clone(), "team").await;
        let account = |name: &'static str, parent: String| {
            let root = root.clone();
            async move {
                let created = org
                    .create_account()
                    .email(format!("{name}@example.com"))
                    .account_name(name)
                    .send()
                    .await
                    .expect("CreateAccount");
                let id = created
                    .create_account_status()
                    .and_then(|s| s.account_id().map(str::to_string))
                    .unwrap_or_default();
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(root)
                    .destination_parent_id(parent)
                    .send()
                    .await
                    .expect("MoveAccount");
                id
            }
        };
        let a = account("a", workloads.clone()).await;
        let b = account("b", team.clone()).await;
        let closed = account("closed", team.clone()).await;
        org.close_account()
            .account_id(&closed)
            .send()
            .await
            .expect("CloseAccount");
        Org {
            workloads,
            a,
            b,
            closed,
        }
    })
}

/// SDK clients acting in `account` (moto: credentials from AssumeRole act there), talking to
/// moto directly so that checks are not recorded as the tool's calls.
fn clients_in(env: &TestEnv, account: &str, region: &str) -> Clients {
    env.block_on(async {
        let assumed = env
            .aws
            .sts
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
            ))
            .role_session_name("check")
            .send()
            .await
            .expect("AssumeRole");
        let c = assumed.credentials().expect("credentials");
        let sdk = aws_types::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new(region.to_string()))
            .endpoint_url(env.moto.url())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        c.access_key_id(),
                        c.secret_access_key(),
                        Some(c.session_token().to_string()),
                        None,
                        "assumed",
                    ),
                ),
            )
            .build();
        Clients::from_sdk_config(&sdk).expect("clients")
    })
}

/// Whether `account` has the stack's logging role (checked in moto, as that account).
fn has_logging_role(env: &TestEnv, account: &str) -> bool {
    let c = clients_in(env, account, "us-east-1");
    env.block_on(async {
        c.iam
            .get_role()
            .role_name("BedrockCloudWatchLoggingRole")
            .send()
            .await
            .is_ok()
    })
}

fn config(ou: &str) -> String {
    format!(
        r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

[bucket]
name = "bedrock-logs-{{account_id}}-{{region}}"

[targets]
organizational_units = ["{ou}"]
regions = ["us-east-1", "us-west-2"]
"#
    )
}

fn labels(doc: &Value) -> Vec<String> {
    doc["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            format!(
                "{}/{}",
                t["account"].as_str().unwrap_or(""),
                t["region"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn an_organization_rolls_out_per_account_and_per_region_and_is_cleaned_up() {
    let env = TestEnv::new();
    let org = organization(&env);
    env.write_config(&config(&org.workloads));

    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    let mut expected = vec![
        format!("{}/us-east-1", org.a),
        format!("{}/us-west-2", org.a),
        format!("{}/us-east-1", org.b),
        format!("{}/us-west-2", org.b),
    ];
    expected.sort();
    assert_eq!(labels(&doc), expected, "{doc:#}");
    let skipped = doc["skipped"].to_string();
    assert!(
        skipped.contains(&org.closed) && skipped.contains("SUSPENDED"),
        "{skipped}"
    );
    for t in doc["targets"].as_array().expect("targets") {
        assert!(t["error"].is_null(), "{t:#}");
    }

    // Per account: one logging role and one budget, in the account itself; per region: the
    // log group, the bucket, the dashboard, the alarms.
    for account in [&org.a, &org.b] {
        let east = clients_in(&env, account, "us-east-1");
        let west = clients_in(&env, account, "us-west-2");
        let (roles, budgets, trust) = env.block_on(async {
            let roles = east.iam.list_roles().send().await.expect("roles");
            let names: Vec<String> = roles
                .roles()
                .iter()
                .map(|r| r.role_name().to_string())
                .collect();
            let budgets = east
                .budgets
                .describe_budgets()
                .account_id(account.as_str())
                .send()
                .await
                .expect("budgets")
                .budgets()
                .len();
            let trust = east
                .iam
                .get_role()
                .role_name("BedrockCloudWatchLoggingRole")
                .send()
                .await
                .expect("role")
                .role()
                .and_then(|r| r.assume_role_policy_document().map(str::to_string))
                .unwrap_or_default();
            (names, budgets, trust)
        });
        assert_eq!(
            roles
                .iter()
                .filter(|r| *r == "BedrockCloudWatchLoggingRole")
                .count(),
            1,
            "{roles:?}"
        );
        assert_eq!(budgets, 1, "account {account}");
        // The role's trust covers both regions' Bedrock.
        let trust = trust.replace("%3A", ":");
        assert!(
            trust.contains("us-east-1") && trust.contains("us-west-2"),
            "{trust}"
        );
        for (clients, region) in [(&east, "us-east-1"), (&west, "us-west-2")] {
            env.block_on(async {
                let groups = clients
                    .logs
                    .describe_log_groups()
                    .send()
                    .await
                    .expect("log groups");
                assert_eq!(groups.log_groups().len(), 1, "{account}/{region}");
                clients
                    .s3
                    .head_bucket()
                    .bucket(format!("bedrock-logs-{account}-{region}"))
                    .send()
                    .await
                    .expect("bucket");
                clients
                    .cloudwatch
                    .get_dashboard()
                    .dashboard_name(format!("BedrockUsageMonitoring-{region}"))
                    .send()
                    .await
                    .expect("dashboard");
            });
        }
    }
    // Nothing was created in the caller's own account.
    let own = env.block_on(async { env.aws.iam.list_roles().send().await.expect("roles") });
    assert!(
        !own.roles()
            .iter()
            .any(|r| r.role_name() == "BedrockCloudWatchLoggingRole"),
        "the management account got a logging role"
    );

    // A second apply converges with no writes.
    env.proxy.clear();
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // One AssumeRole per account, shared by its regions; the assumed identity comes from it,
    // so the only GetCallerIdentity is the operator's own.
    let count = |operation: &str| {
        env.proxy
            .calls()
            .iter()
            .filter(|c| c.operation == operation && c.fault.is_none())
            .count()
    };
    assert_eq!(count("AssumeRole"), 2, "AssumeRole calls");
    assert_eq!(count("GetCallerIdentity"), 1, "GetCallerIdentity calls");

    // Narrowed to one account and region.
    let run = env.run(&[
        "plan",
        "--account",
        &org.b,
        "--region",
        "us-west-2",
        "-o",
        "json",
    ]);
    run.assert_code(0);
    assert_eq!(labels(&run.json()), vec![format!("{}/us-west-2", org.b)]);

    // Report totals across targets: usage in two accounts.
    for (account, region, invocations) in [(&org.a, "us-east-1", 10.0), (&org.b, "us-west-2", 5.0)]
    {
        let c = clients_in(&env, account, region);
        env.block_on(async {
            let at = aws_smithy_types::DateTime::from_secs(chrono::Utc::now().timestamp() - 1800);
            let datum = |metric: &str, value: f64| {
                aws_sdk_cloudwatch::types::MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(
                        aws_sdk_cloudwatch::types::Dimension::builder()
                            .name("ModelId")
                            .value("anthropic.claude-3-5-haiku-20241022-v1:0")
                            .build(),
                    )
                    .timestamp(at)
                    .value(value)
                    .build()
            };
            c.cloudwatch
                .put_metric_data()
                .namespace("AWS/Bedrock")
                .metric_data(datum("Invocations", invocations))
                .metric_data(datum("InputTokenCount", 1000.0))
                .metric_data(datum("OutputTokenCount", 100.0))
                .send()
                .await
                .expect("metrics")
        });
    }
    let run = env.run(&["report", "--hours", "6", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["totals"]["invocations"], 15, "{:#}", doc["totals"]);
    assert_eq!(doc["totals"]["input_tokens"], 2000);
    // The HTML page of the same run: a section per target, the totals across them, a bar per
    // target.
    let run = env.run(&["report", "--hours", "6", "-o", "html"]);
    run.assert_code(0);
    let page = &run.stdout;
    for t in doc["targets"].as_array().expect("targets") {
        let label = format!(
            "{}/{}",
            t["account"].as_str().unwrap_or(""),
            t["region"].as_str().unwrap_or("")
        );
        assert!(
            page.contains("<h2 id=\"target-") && page.contains(&label),
            "{label}"
        );
    }
    assert!(page.contains("data-chart=\"accounts\""), "{page}");
    assert!(
        page.contains("Totals across targets") && page.contains(">15<"),
        "{page}"
    );

    // Quotas per target: each target's own quotas (seeded in us-east-1 only) beside its own
    // per-minute use.
    const HAIKU_3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
    env.standin.seed_bedrock_quotas("us-east-1");
    for (account, region, tokens) in [
        (&org.a, "us-east-1", 500_000.0),
        (&org.b, "us-west-2", 100_000.0),
    ] {
        let c = clients_in(&env, account, region);
        let at =
            aws_smithy_types::DateTime::from_secs((chrono::Utc::now().timestamp() / 60 - 10) * 60);
        env.block_on(
            c.cloudwatch
                .put_metric_data()
                .namespace("AWS/Bedrock")
                .metric_data(
                    aws_sdk_cloudwatch::types::MetricDatum::builder()
                        .metric_name("EstimatedTPMQuotaUsage")
                        .dimensions(
                            aws_sdk_cloudwatch::types::Dimension::builder()
                                .name("ModelId")
                                .value(HAIKU_3)
                                .build(),
                        )
                        .timestamp(at)
                        .value(tokens)
                        .build(),
                )
                .send(),
        )
        .expect("quota metric");
    }
    let run = env.run(&["quotas", "--days", "1", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    let tpm = |account: &str, region: &str| {
        doc["targets"]
            .as_array()
            .and_then(|ts| {
                ts.iter()
                    .find(|t| t["account"] == account && t["region"] == region)
            })
            .and_then(|t| {
                t["rows"]
                    .as_array()?
                    .iter()
                    .find(|r| r["model_id"] == HAIKU_3 && r["kind"] == "tokens_per_minute")
            })
            .cloned()
            .unwrap_or_else(|| panic!("{account}/{region}: {doc:#}"))
    };
    let a = tpm(&org.a, "us-east-1");
    assert_eq!(a["quota"], 2_000_000.0, "{a}");
    assert_eq!(a["peak"], 500_000.0);
    assert_eq!(a["headroom_percent"], 75.0);
    let b = tpm(&org.b, "us-west-2");
    assert!(b["quota"].is_null(), "no quotas listed in us-west-2: {b}");
    assert_eq!(b["peak"], 100_000.0);
    let csv = env.run(&["quotas", "--days", "1", "-o", "csv"]);
    csv.assert_code(0);
    assert!(
        csv.stdout.starts_with("account,region,model_id,"),
        "{}",
        csv.stdout
    );
    assert!(
        csv.stdout.contains(&format!(
            "{},us-east-1,{HAIKU_3},on_demand,tokens_per_minute,2000000,",
            org.a
        )),
        "{}",
        csv.stdout
    );

    // A target whose role cannot be assumed fails, named; the others go on.
    let denied = org.b.clone();
    env.proxy
        .add_rule(Arc::new(AnswerWith(move |r: &StrictRequest| {
            (r.operation == "AssumeRole"
                && r.form("RoleArn").is_some_and(|arn| arn.contains(&denied)))
            .then(|| {
                Reply::error(
                    Protocol::Query,
                    403,
                    "AccessDenied",
                    "User is not authorized to perform: sts:AssumeRole",
                )
            })
        })));
    let run = env.run(&["status", "-o", "json"]);
    run.assert_code(1);
    let doc = run.json();
    for t in doc["targets"].as_array().expect("targets") {
        let account = t["account"].as_str().unwrap_or_default();
        if account == org.b {
            let error = t["error"].as_str().unwrap_or_default();
            assert!(
                error.contains(&format!("could not work in account {}", org.b)),
                "{t:#}"
            );
        } else {
            assert!(t["error"].is_null(), "{t:#}");
        }
    }
    let text = env.run(&["status"]);
    assert!(text.stdout.contains("failed"), "{}", text.stdout);
    env.proxy.clear_rules();
    crate::support::strict::reinstall(&env.proxy, &env.strict);

    // cleanup of every target.
    let run = env.run(&["cleanup", "--yes", "--purge-data", "-o", "json"]);
    run.assert_code(0);
    for account in [&org.a, &org.b] {
        let left = has_logging_role(&env, account);
        assert!(!left, "the role is left in {account}");
    }
    let _ = ACCOUNT;
}

#[test]
fn bad_targets_are_refused_before_any_call() {
    let env = TestEnv::new();
    env.write_config(
        r#"
[targets]
accounts = ["12345", "123456789012"]
regions = ["us-east-1", "moon-1"]
"#,
    );
    let run = env.run(&["validate"]);
    run.assert_code(3);
    for needle in ["targets.accounts[0]", "targets.regions[1]", "bucket.name"] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
    env.write_config("[targets]\norganizational_units = []\nregions = [\"us-east-1\"]\n");
    let run = env.run(&["plan"]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("name the accounts one way"),
        "{}",
        run.stderr
    );
    env.write_config("[targets]\naccounts = [\"123456789012\"]\nregions = [\"us-east-1\"]\n");
    let run = env.run(&["plan", "--region", "eu-west-1"]);
    run.assert_code(3);
    assert!(
        run.stderr.contains("not one of [targets] regions"),
        "{}",
        run.stderr
    );
    assert!(env.proxy.calls().is_empty(), "{:?}", env.proxy.calls());
}

#[test]
fn permissions_prints_the_operators_policy_and_the_target_roles() {
    let env = TestEnv::new();
    env.write_config(
        "[bucket]\nname = \"bedrock-logs-{account_id}-{region}\"\n\n[targets]\naccounts = [\"111111111111\", \"222222222222\"]\nregions = [\"us-east-1\", \"eu-west-1\"]\nrole_name = \"BedrockMonitorTarget\"\n\n[cost_allocation]\n",
    );
    let run = env.run(&["permissions"]);
    run.assert_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let operator = doc["operator"].to_string();
    for needed in [
        "organizations:ListAccountsForParent",
        "sts:AssumeRole",
        "arn:aws:iam::111111111111:role/BedrockMonitorTarget",
        "arn:aws:iam::222222222222:role/BedrockMonitorTarget",
        // Billing components run with the operator's own credentials.
        "ce:UpdateCostAllocationTagsStatus",
    ] {
        assert!(operator.contains(needed), "{needed} not in {operator}");
    }
    assert_eq!(doc["target_role"]["RoleName"], "BedrockMonitorTarget");
    let target = doc["target_role"]["PolicyDocument"].to_string();
    // Assuming the target roles only within the caller's organization.
    assert!(operator.contains("aws:ResourceOrgID"), "{operator}");
    // The IAM writes are in the one-time bootstrap policy, not the everyday one.
    assert!(!target.contains("iam:CreateRole"), "{target}");
    assert!(target.contains("iam:GetRole"), "{target}");
    assert!(target.contains("${aws:PrincipalAccount}"), "{target}");
    let bootstrap = env.run(&["permissions", "--bootstrap"]);
    bootstrap.assert_code(0);
    let bootstrap: Value = serde_json::from_str(&bootstrap.stdout).expect("JSON");
    let role_writes = bootstrap["target_role"]["PolicyDocument"].to_string();
    assert!(role_writes.contains("iam:CreateRole"), "{role_writes}");
    assert!(
        !target.contains("ce:UpdateCostAllocationTagsStatus"),
        "{target}"
    );
}

/// 20 % of calls across every target fail (5xx, throttling, dropped connections): the run
/// converges anyway (SDK retries; a rerun finishes what a target could not), and then a further
/// apply writes nothing in any target.
#[test]
fn faults_across_targets_converge() {
    use crate::support::{FaultKind, ProxyOptions};
    let env = TestEnv::new();
    env.write_config(
        r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

[bucket]
name = "bedrock-logs-{account_id}-{region}"

[targets]
accounts = ["111111111111", "222222222222"]
regions = ["us-east-1", "us-west-2"]
"#,
    );
    env.proxy.set_options(ProxyOptions {
        fault_rate: 0.2,
        seed: 7,
        fault_kinds: FaultKind::ALL.to_vec(),
        ..ProxyOptions::default()
    });
    let first = env.run(&["apply", "--yes", "-o", "json"]);
    let faults = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.fault.is_some())
        .count();
    assert!(faults > 10, "only {faults} faults injected");
    env.proxy.set_options(ProxyOptions::default());
    if first.code != 0 {
        // A target that ran out of retries: a rerun picks up where it stopped.
        env.run(&["apply", "--yes"]).assert_code(0);
    }
    env.proxy.clear();
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    assert_eq!(run.json()["targets"].as_array().map(Vec::len), Some(4));
    for account in ["111111111111", "222222222222"] {
        let c = clients_in(&env, account, "us-west-2");
        env.block_on(async {
            c.logs
                .describe_log_groups()
                .send()
                .await
                .expect("log groups")
                .log_groups()
                .len()
        });
    }
}

/// Ctrl-C across targets: no new target starts (the ones waiting are reported as not
/// started), the calls in flight finish, the summary is printed, exit 130; a rerun converges
/// every target.
#[test]
fn sigint_stops_new_targets_lets_calls_finish_and_a_rerun_converges() {
    use crate::support::ProxyOptions;
    use crate::support::process::{Spawned, sigint, wait_for_writes};
    let env = TestEnv::new();
    let accounts = ["111111111111", "222222222222", "333333333333"];
    env.write_config(&format!(
        r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

[targets]
accounts = [{}]
regions = ["us-east-1"]
concurrency = 1
"#,
        accounts.map(|a| format!("\"{a}\"")).join(", ")
    ));
    // Slow calls: the first account is still converging when the signal arrives.
    env.proxy.set_options(ProxyOptions {
        latency: std::time::Duration::from_millis(150),
        ..ProxyOptions::default()
    });
    let mut child = Spawned::start(env.command(&["apply", "--yes", "-o", "json"]));
    assert!(
        wait_for_writes(&env, &mut child, 1),
        "the run ended before its first write"
    );
    sigint(&child);
    let (status, stdout, stderr) = child.finish();
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(status.code(), Some(130), "{context}");
    let doc: Value = serde_json::from_str(&stdout).expect("one JSON document on stdout");
    assert_eq!(doc["interrupted"], true, "{context}");
    let targets = doc["targets"].as_array().expect("targets");
    assert_eq!(targets.len(), 3, "{context}");
    // The first account had started; the other two never did.
    assert_eq!(targets[0]["account"], accounts[0], "{context}");
    assert!(targets[0]["error"].is_null(), "{context}");
    for t in &targets[1..] {
        assert_eq!(t["error"], "not started: interrupted", "{context}");
    }
    // Only the first account was worked in (the next one's role may have been assumed
    // ahead of its turn, but nothing was called with it).
    let calls = env.proxy.calls();
    let worked_as: std::collections::BTreeSet<&str> = calls
        .iter()
        .filter(|c| c.service != "sts")
        .map(|c| c.signer.split('/').next().unwrap_or_default())
        .collect();
    assert_eq!(worked_as.len(), 1, "credentials used: {worked_as:?}");
    // Every call was answered before the process exited: none was cut off in flight.
    assert!(
        calls.iter().all(|c| c.status.is_some()),
        "calls cut off: {:?}",
        calls
            .iter()
            .filter(|c| c.status.is_none())
            .map(|c| &c.operation)
            .collect::<Vec<_>>()
    );

    env.proxy.set_options(ProxyOptions::default());
    env.run(&["apply", "--yes"]).assert_code(0);
    for account in accounts {
        let role = has_logging_role(&env, account);
        assert!(role, "no logging role in {account} after the rerun");
    }
}

/// Without `--yes` and with no terminal, `apply` and `cleanup` across targets show what they
/// would do for every target, ask nothing, change nothing, and exit 3.
#[test]
fn without_yes_and_no_terminal_nothing_changes_in_any_target() {
    let env = TestEnv::new();
    let accounts = ["111111111111", "222222222222"];
    env.write_config(
        r#"
[targets]
accounts = ["111111111111", "222222222222"]
regions = ["us-east-1"]
"#,
    );
    let run = env.run(&["apply"]);
    run.assert_code(3);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    for account in accounts {
        assert!(
            run.stderr.contains(&format!("== {account}/us-east-1 ==")),
            "no plan for {account}:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);

    env.run(&["apply", "--yes"]).assert_code(0);
    env.proxy.clear();
    let run = env.run(&["cleanup"]);
    run.assert_code(3);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    for account in accounts {
        assert!(
            run.stderr.contains(&format!("{account}/us-east-1 role")),
            "{account}'s role not listed:\n{}",
            run.stderr
        );
        let role = has_logging_role(&env, account);
        assert!(role, "the role in {account} was deleted without --yes");
    }
}

/// One apply converges a fleet (issue 21), with `[alerts] notify_ok` off and on: 2 accounts × 2
/// regions are applied, every alarm is then evaluated (as CloudWatch does minutes later), and a
/// second apply writes nothing while `plan` and `status --detailed-exitcode` exit 0. With
/// notify_ok, each alarm's OK action is its region's topic from the first apply.
#[test]
fn a_fleet_converges_in_one_apply_whatever_its_alarms_state() {
    let accounts = ["111111111111", "222222222222"];
    let regions = ["us-east-1", "us-west-2"];
    for notify_ok in [false, true] {
        let env = TestEnv::new();
        // Off is the default: the key is left out then.
        let alerts = if notify_ok {
            "[alerts]\nnotify_ok = true\n"
        } else {
            ""
        };
        env.write_config(&format!(
            r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

{alerts}
[bucket]
name = "bedrock-logs-{{account_id}}-{{region}}"

[targets]
accounts = ["111111111111", "222222222222"]
regions = ["us-east-1", "us-west-2"]
"#
        ));
        env.run(&["apply", "--yes"]).assert_code(0);
        for account in accounts {
            for region in regions {
                let c = clients_in(&env, account, region);
                let topic = format!("arn:aws:sns:{region}:{account}:bedrock-usage-alerts");
                let found = env.block_on(async {
                    c.cloudwatch
                        .describe_alarms()
                        .send()
                        .await
                        .expect("alarms")
                        .metric_alarms()
                        .to_vec()
                });
                assert_eq!(found.len(), 12, "{account}/{region}");
                for a in &found {
                    let name = a.alarm_name().unwrap_or_default();
                    let expected: Vec<String> = if notify_ok {
                        vec![topic.clone()]
                    } else {
                        Vec::new()
                    };
                    assert_eq!(a.ok_actions(), expected, "{account}/{region} {name}");
                    env.block_on(
                        c.cloudwatch
                            .set_alarm_state()
                            .alarm_name(name)
                            .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
                            .state_reason("Threshold Crossed: no datapoint was greater")
                            .send(),
                    )
                    .unwrap_or_else(|e| panic!("evaluate {name}: {e:?}"));
                }
            }
        }
        env.proxy.clear();
        let run = env.run(&["apply", "--yes", "-o", "json"]);
        run.assert_code(0);
        assert_eq!(run.json()["targets"].as_array().map(Vec::len), Some(4));
        assert!(
            env.writes().is_empty(),
            "notify_ok = {notify_ok}: second apply wrote {:?}",
            env.writes()
        );
        env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
        env.run(&["status", "--detailed-exitcode"]).assert_code(0);
    }
}

/// Organizations answers without the retired `Status` member (as it will once `Status` is
/// gone; API reference, Account): rewritten here from moto's answers, which still carry both.
struct WithoutStatus {
    /// An account whose `State` is taken out too: an answer with neither.
    stateless: String,
}

impl crate::support::proxy::StrictRule for WithoutStatus {
    fn before(&self, _request: &StrictRequest) -> crate::support::proxy::Verdict {
        crate::support::proxy::Verdict::Forward
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if !matches!(
            request.operation.as_str(),
            "ListAccounts" | "ListAccountsForParent"
        ) {
            return None;
        }
        let mut doc: Value = serde_json::from_slice(&reply.body).ok()?;
        for account in doc["Accounts"].as_array_mut()? {
            let stateless = account["Id"] == self.stateless.as_str();
            let fields = account.as_object_mut()?;
            fields.remove("Status");
            if stateless {
                fields.remove("State");
            }
        }
        Some(Reply {
            status: reply.status,
            headers: reply.headers.clone(),
            body: serde_json::to_vec(&doc).ok()?.into(),
        })
    }
}

/// Accounts are chosen by their `State`: every ACTIVE account is a target, and the others are
/// listed as skipped with their state, in JSON and in text, including one whose answer says
/// neither State nor Status (issue 21).
#[test]
fn accounts_are_chosen_by_state_when_organizations_no_longer_sends_status() {
    let env = TestEnv::new();
    let org = organization(&env);
    let stateless = env.block_on(async {
        let created = env
            .aws
            .organizations
            .create_account()
            .email("stateless@example.com")
            .account_name("stateless")
            .send()
            .await
            .expect("CreateAccount");
        created
            .create_account_status()
            .and_then(|s| s.account_id().map(str::to_string))
            .unwrap_or_default()
    });
    env.proxy.add_rule(Arc::new(WithoutStatus {
        stateless: stateless.clone(),
    }));
    env.write_config(
        r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

[targets]
organization = true
regions = ["us-east-1"]
"#,
    );
    let run = env.run(&["plan", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    // The management account (the caller's own) is an ACTIVE member too.
    let mut expected = vec![
        format!("{}/us-east-1", org.a),
        format!("{}/us-east-1", org.b),
        format!("{ACCOUNT}/us-east-1"),
    ];
    expected.sort();
    assert_eq!(labels(&doc), expected, "{doc:#}");
    let skipped = doc["skipped"].as_array().cloned().unwrap_or_default();
    let closed = skipped
        .iter()
        .find(|s| s["account"] == org.closed.as_str())
        .unwrap_or_else(|| panic!("{} not listed: {doc:#}", org.closed));
    assert_eq!(closed["state"], "SUSPENDED", "{closed:#}");
    let neither = skipped
        .iter()
        .find(|s| s["account"] == stateless.as_str())
        .unwrap_or_else(|| panic!("{stateless} not listed: {doc:#}"));
    assert!(
        neither["reason"]
            .as_str()
            .is_some_and(|r| r.contains("neither its State nor its Status")),
        "{neither:#}"
    );

    let text = env.run(&["plan"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains(&org.closed)
            && text
                .stdout
                .contains("SUSPENDED in Organizations, not ACTIVE"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains(&stateless), "{}", text.stdout);
}

/// AWS refuses credentials in an opt-in region that is not enabled for the account, as if it
/// did not know them (UnrecognizedClientException from JSON services, InvalidClientTokenId from
/// query ones). Those errors say so, naming the region and the account, instead of calling the
/// credentials expired (issue 21): across targets, and for one target whose region it is.
#[test]
fn a_region_not_enabled_for_the_account_is_named_as_such() {
    let env = TestEnv::new();
    // me-central-1 is not enabled: every regional call there is refused (STS too).
    env.proxy.add_rule(Arc::new(AnswerWith(|r: &StrictRequest| {
        let global = matches!(
            r.service.as_str(),
            "iam" | "organizations" | "budgets" | "ce"
        );
        (r.signing_region().as_deref() == Some("me-central-1") && !global).then(|| {
            match r.protocol {
                Protocol::Json | Protocol::RestJson => Reply::error(
                    r.protocol,
                    400,
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                ),
                _ => Reply::error(
                    r.protocol,
                    403,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                ),
            }
        })
    })));
    env.write_config(
        r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

[bucket]
name = "bedrock-logs-{account_id}-{region}"

[targets]
accounts = ["111111111111"]
regions = ["us-east-1", "me-central-1"]
"#,
    );
    let run = env.run(&["plan", "-o", "json"]);
    run.assert_code(1);
    let doc = run.json();
    let targets = doc["targets"].as_array().cloned().unwrap_or_default();
    let east = targets
        .iter()
        .find(|t| t["region"] == "us-east-1")
        .expect("us-east-1 target");
    assert!(east["error"].is_null(), "{east:#}");
    let uae = targets
        .iter()
        .find(|t| t["region"] == "me-central-1")
        .expect("me-central-1 target")
        .to_string();
    assert!(
        uae.contains("me-central-1 is an opt-in region")
            && uae.contains("enabled for account 111111111111"),
        "{uae}"
    );
    assert!(!uae.contains("expired"), "{uae}");

    // One target in that region: the first call (sts:GetCallerIdentity) is refused.
    env.write_config("");
    let run = env.run(&["plan", "--region", "me-central-1"]);
    run.assert_code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("me-central-1 is an opt-in region"), "{all}");
    assert!(!all.contains("expired"), "{all}");
}
