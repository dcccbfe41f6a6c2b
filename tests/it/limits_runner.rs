//! The limits runner (issue 32): `apply` deploys the function, its role and its schedule with
//! `[[limits]]`, a second `apply` writes nothing, a new interval changes the schedule only, and
//! `cleanup` removes them; checked in moto's Lambda, Scheduler and IAM.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::env::{ACCOUNT, REGION, TestEnv};

const NAME: &str = "bedrock-monitor-limits-runner";
/// The roles carry the region: one account may run a runner in several (`[targets]`).
const EXECUTION_ROLE: &str = "bedrock-monitor-limits-runner-us-east-1";
const SCHEDULER_ROLE: &str = "bedrock-monitor-limits-schedule-us-east-1";

fn config(interval: u32) -> String {
    format!(
        r#"
[[limits]]
name = "people"
principals = ["arn:aws:iam::*:user/alice"]
period = "day"
usd = 5.0
action = "block"

[limits_runner]
package = "runner/bootstrap"
interval_minutes = {interval}
"#
    )
}

/// A small static executable as the package: the test binary itself may need a newer glibc
/// than Amazon Linux 2023's, which the package check refuses (rightly).
fn package(dir: &Path) {
    let folder = dir.join("runner");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("main.c"), "int main(void) { return 0; }\n").unwrap();
    let status = Command::new("gcc")
        .args(["-static", "-O", "-o"])
        .arg(folder.join("bootstrap"))
        .arg(folder.join("main.c"))
        .status()
        .expect("run gcc (the machine's C compiler builds the package fixture)");
    assert!(status.success(), "gcc -static failed");
}

struct Deployed {
    runtime: String,
    handler: String,
    architectures: Vec<String>,
    role: String,
    code_sha256: String,
    expression: String,
    window: String,
    target: String,
    target_role: String,
    input: String,
}

fn deployed(env: &TestEnv) -> Deployed {
    env.block_on(async {
        let f = env
            .aws
            .lambda
            .get_function()
            .function_name(NAME)
            .send()
            .await
            .expect("the function exists");
        let c = f.configuration().expect("configuration");
        let s = env
            .aws
            .scheduler
            .get_schedule()
            .name(NAME)
            .send()
            .await
            .expect("the schedule exists");
        let t = s.target().expect("target");
        Deployed {
            runtime: c
                .runtime()
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            handler: c.handler().unwrap_or_default().to_string(),
            architectures: c
                .architectures()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            role: c.role().unwrap_or_default().to_string(),
            code_sha256: c.code_sha256().unwrap_or_default().to_string(),
            expression: s.schedule_expression().unwrap_or_default().to_string(),
            window: s
                .flexible_time_window()
                .map(|w| w.mode().as_str().to_string())
                .unwrap_or_default(),
            target: t.arn().to_string(),
            target_role: t.role_arn().to_string(),
            input: t.input().unwrap_or_default().to_string(),
        }
    })
}

fn role_policy(env: &TestEnv, role: &str) -> (Value, Value) {
    env.block_on(async {
        let r = env
            .aws
            .iam
            .get_role()
            .role_name(role)
            .send()
            .await
            .expect("role");
        let trust = r
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .unwrap_or_default();
        let p = env
            .aws
            .iam
            .get_role_policy()
            .role_name(role)
            .policy_name("bedrock-monitor-limits-runner")
            .send()
            .await
            .expect("inline policy");
        let decode = |s: &str| -> Value {
            let s = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
            serde_json::from_str(&s).expect("policy JSON")
        };
        (decode(trust), decode(p.policy_document()))
    })
}

fn sids(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn apply_deploys_the_runner_converges_follows_the_interval_and_cleanup_removes_it() {
    let env = TestEnv::new();
    // The runner reads its limits state in the stack's bucket, behind the TLS-only policy.
    env.objects_over_tls();
    package(env.dir_path());
    env.write_config(&config(5));
    let plan = env.run(&["plan"]);
    plan.assert_code(0);
    assert!(plan.stdout.contains("limits-runner"), "{}", plan.stdout);
    env.run(&["apply", "--yes"]).assert_code(0);

    let d = deployed(&env);
    let function_arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAME}");
    assert_eq!(d.runtime, "provided.al2023");
    assert_eq!(d.handler, "bootstrap");
    assert_eq!(d.architectures, ["x86_64"]);
    assert_eq!(REGION, "us-east-1", "the role names above are us-east-1's");
    assert_eq!(
        d.role,
        format!("arn:aws:iam::{ACCOUNT}:role/{EXECUTION_ROLE}")
    );
    assert_eq!(d.code_sha256.len(), 44, "{}", d.code_sha256);
    assert_eq!(d.expression, "rate(5 minutes)");
    assert_eq!(d.window, "OFF");
    assert_eq!(d.target, function_arn);
    assert_eq!(
        d.target_role,
        format!("arn:aws:iam::{ACCOUNT}:role/{SCHEDULER_ROLE}")
    );
    assert_eq!(d.input, bedrock_monitor::runner::lambda::SCHEDULE_INPUT);

    // The execution role: Lambda from this account, the pass's statements and its logs.
    let (trust, policy) = role_policy(&env, EXECUTION_ROLE);
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    assert_eq!(
        sids(&policy),
        [
            "LimitsReadInvocationLogs",
            "LimitsReadObjects",
            "LimitsWriteState",
            "LimitsNotify",
            "LimitsDenyUsers",
            "RunnerCreateLogGroup",
            "RunnerWriteLogs"
        ]
    );
    // The scheduler role: invoke this function, nothing else.
    let (trust, policy) = role_policy(&env, SCHEDULER_ROLE);
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "scheduler.amazonaws.com"
    );
    assert_eq!(policy["Statement"][0]["Action"][0], "lambda:InvokeFunction");
    assert_eq!(policy["Statement"][0]["Resource"][0], function_arn.as_str());

    // Converged: nothing written, nothing planned.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // A new interval: the schedule alone changes.
    env.write_config(&config(10));
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    let writes = env.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(writes[0].starts_with("scheduler:"), "{writes:?}");
    let after = deployed(&env);
    assert_eq!(after.expression, "rate(10 minutes)");
    assert_eq!(after.code_sha256, d.code_sha256);
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Without its package, plan says what to do and apply makes nothing; cleanup needs none.
    std::fs::remove_file(env.path("runner/bootstrap")).unwrap();
    let plan = env.run(&["plan"]);
    assert!(
        format!("{}{}", plan.stdout, plan.stderr).contains("scripts/build-runner"),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]);
    assert!(
        !env.writes()
            .iter()
            .any(|w| w.starts_with("lambda:") || w.starts_with("iam:")),
        "{:?}",
        env.writes()
    );
    // A block a pass made (recorded in this month's state, the deny on alice): cleanup lifts
    // it with the runner.
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let state = serde_json::json!({
        "version": 1, "month": month, "day": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        "objects": {}, "principals_month": {}, "principals_day": {}, "profiles_month": {},
        "profiles_day": {}, "records_outside_month": 0,
        "standings": {"people": {format!("arn:aws:iam::{ACCOUNT}:user/alice"): {"period": month, "blocked_at": "2020-01-01T00:00:00Z"}}},
        "enforced": {"users": ["alice"], "roles": {}},
        "notices": [],
    });
    env.block_on(async {
        env.aws.iam.create_user().user_name("alice").send().await.unwrap();
        env.aws
            .iam
            .put_user_policy()
            .user_name("alice")
            .policy_name("bedrock-monitor-limits-bedrock-monitor")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:InvokeModel","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
        env.aws
            .s3
            .put_object()
            .bucket(crate::support::env::BUCKET)
            .key(format!("bedrock-monitor/limits/bedrock-monitor/{month}.json"))
            .body(state.to_string().into_bytes().into())
            .send()
            .await
            .unwrap();
    });
    let run = env.run(&["cleanup", "--yes"]);
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("lifted every block the limits made (user alice)"),
        "{}",
        run.stdout
    );
    env.block_on(async {
        let left = env
            .aws
            .iam
            .list_user_policies()
            .user_name("alice")
            .send()
            .await
            .unwrap();
        assert!(left.policy_names().is_empty(), "{left:?}");
    });
    env.block_on(async {
        assert!(
            env.aws
                .lambda
                .get_function()
                .function_name(NAME)
                .send()
                .await
                .is_err()
        );
        assert!(
            env.aws
                .scheduler
                .get_schedule()
                .name(NAME)
                .send()
                .await
                .is_err()
        );
        for role in [EXECUTION_ROLE, SCHEDULER_ROLE] {
            assert!(env.aws.iam.get_role().role_name(role).send().await.is_err());
        }
    });
}

/// Two regions of one account (`[targets]`): a runner in each, each with its own roles (IAM is
/// global to the account, and each role's policy names its own region's function, bucket and
/// topic), deployed from `apply --runner PATH` with no `[limits_runner]` in the config; a
/// second apply, given the same package, writes nothing; cleanup removes both.
#[test]
fn one_account_in_two_regions_gets_a_runner_and_roles_per_region() {
    let env = TestEnv::new();
    // The runner reads its limits state in the stack's bucket, behind the TLS-only policy.
    env.objects_over_tls();
    package(env.dir_path());
    env.write_config(&format!(
        r#"
[bucket]
name = "bedrock-logs-{{account_id}}-{{region}}"

[targets]
accounts = ["{ACCOUNT}"]
regions = ["us-east-1", "us-west-2"]

[[limits]]
name = "people"
principals = ["arn:aws:iam::*:user/alice"]
period = "day"
usd = 5.0
action = "block"
"#
    ));
    env.run(&["apply", "--yes", "--runner", "runner/bootstrap"])
        .assert_code(0);
    for region in ["us-east-1", "us-west-2"] {
        let clients = bedrock_monitor::aws::emulator_clients(&env.moto.url(), region);
        let execution = format!("bedrock-monitor-limits-runner-{region}");
        let scheduler = format!("bedrock-monitor-limits-schedule-{region}");
        let function_arn = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{NAME}");
        env.block_on(async {
            let f = clients
                .lambda
                .get_function()
                .function_name(NAME)
                .send()
                .await
                .expect("a function in each region");
            let role = f.configuration().and_then(|c| c.role()).unwrap_or_default();
            assert_eq!(role, format!("arn:aws:iam::{ACCOUNT}:role/{execution}"));
            let s = clients
                .scheduler
                .get_schedule()
                .name(NAME)
                .send()
                .await
                .expect("a schedule in each region");
            let target = s.target().expect("target");
            assert_eq!(target.arn(), function_arn);
            assert_eq!(
                target.role_arn(),
                format!("arn:aws:iam::{ACCOUNT}:role/{scheduler}")
            );
        });
        let (_, policy) = role_policy(&env, &execution);
        let text = policy.to_string();
        assert!(
            text.contains(&format!("bedrock-logs-{ACCOUNT}-{region}")),
            "{region}'s execution role reads its own bucket: {text}"
        );
        assert!(
            text.contains(&format!(":sns:{region}:")),
            "{region}'s execution role publishes to its own topic: {text}"
        );
        let (_, policy) = role_policy(&env, &scheduler);
        assert_eq!(policy["Statement"][0]["Resource"][0], function_arn.as_str());
    }

    env.proxy.clear();
    env.run(&["apply", "--yes", "--runner", "runner/bootstrap"])
        .assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    env.run(&[
        "plan",
        "--detailed-exitcode",
        "--runner",
        "runner/bootstrap",
    ])
    .assert_code(0);
    env.run(&[
        "status",
        "--detailed-exitcode",
        "--runner",
        "runner/bootstrap",
    ])
    .assert_code(0);

    env.run(&["cleanup", "--yes"]).assert_code(0);
    env.block_on(async {
        for region in ["us-east-1", "us-west-2"] {
            for role in [
                format!("bedrock-monitor-limits-runner-{region}"),
                format!("bedrock-monitor-limits-schedule-{region}"),
            ] {
                assert!(
                    env.aws
                        .iam
                        .get_role()
                        .role_name(&role)
                        .send()
                        .await
                        .is_err(),
                    "{role} is left"
                );
            }
        }
    });
}
