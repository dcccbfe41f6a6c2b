//! Every page of every list: behind the proxy's "every page" mode (one item a page, as AWS may
//! answer; `tests/support/paging.rs`), the tool still sees everything a list holds. Each test
//! checks the mode did page the call (`later_pages`), so it could not pass on a first page.

use std::sync::Arc;

use crate::support::env::{ACCOUNT, TestEnv, resource};
use crate::support::paging::EveryPage;

const ACTION_CONFIG: &str = r#"
[[budgets]]
name = "BedrockUsageBudget"
limit_usd = 100

[budgets.action]
threshold_percent = 100
deny_roles = ["app-role"]
approval = "manual"
"#;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn paged(env: &TestEnv) -> Arc<EveryPage> {
    let mode = Arc::new(EveryPage::default());
    env.proxy.add_rule_first(mode.clone());
    mode
}

fn create_role(env: &TestEnv, name: &str) {
    env.block_on(
        env.aws
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(TRUST)
            .send(),
    )
    .expect("role");
}

fn attached(env: &TestEnv, role: &str) -> Vec<String> {
    env.block_on(
        env.aws
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .send(),
    )
    .expect("attached policies")
    .attached_policies()
    .iter()
    .filter_map(|p| p.policy_arn().map(str::to_string))
    .collect()
}

/// IAM ListEntitiesForPolicy: a deny policy that Budgets (or a person) attached to several
/// roles and a user is detached from every one of them, whatever page names it, before it is
/// deleted (a policy still attached cannot be: DeleteConflict).
#[test]
fn cleanup_detaches_the_deny_policy_from_every_page_of_holders() {
    let env = TestEnv::new();
    create_role(&env, "app-role");
    env.write_config(ACTION_CONFIG);
    env.run(&["apply", "--yes"]).assert_code(0);
    let policy = format!("arn:aws:iam::{ACCOUNT}:policy/BedrockMonitorDenyBedrock-bedrock-monitor");
    let holders = ["app-role", "team-a", "team-b", "team-c"];
    for role in holders {
        if role != "app-role" {
            create_role(&env, role);
        }
        env.block_on(
            env.aws
                .iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(&policy)
                .send(),
        )
        .expect("attach");
    }
    env.block_on(env.aws.iam.create_user().user_name("dev").send())
        .expect("user");
    env.block_on(
        env.aws
            .iam
            .attach_user_policy()
            .user_name("dev")
            .policy_arn(&policy)
            .send(),
    )
    .expect("attach to user");

    let mode = paged(&env);
    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(
        mode.later_pages("ListEntitiesForPolicy") >= 4,
        "the holders were not paged: {:?}",
        mode.later_pages
    );
    for role in holders {
        assert!(
            !attached(&env, role).contains(&policy),
            "{role} still holds it"
        );
    }
    let user = env
        .block_on(
            env.aws
                .iam
                .list_attached_user_policies()
                .user_name("dev")
                .send(),
        )
        .expect("user policies");
    assert!(user.attached_policies().is_empty(), "{user:?}");
    let gone = env.block_on(env.aws.iam.get_policy().policy_arn(&policy).send());
    assert!(gone.is_err(), "the deny policy is still there");
}

/// IAM ListRolePolicies and ListAttachedRolePolicies: the logging role is emptied of every
/// inline and attached policy, every page, before it is deleted (moto refuses DeleteRole
/// with DeleteConflict while any is left, as IAM does).
#[test]
fn cleanup_empties_the_logging_role_over_every_page() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    let role = "BedrockCloudWatchLoggingRole";
    for name in ["extra-one", "extra-two"] {
        env.block_on(
            env.aws
                .iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                )
                .send(),
        )
        .expect("inline policy");
    }
    for name in ["someone-elses-a", "someone-elses-b"] {
        let arn = env
            .block_on(
                env.aws
                    .iam
                    .create_policy()
                    .policy_name(name)
                    .policy_document(
                        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                    )
                    .send(),
            )
            .expect("managed policy")
            .policy()
            .and_then(|p| p.arn().map(str::to_string))
            .expect("arn");
        env.block_on(
            env.aws
                .iam
                .attach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send(),
        )
        .expect("attach");
    }
    let mode = paged(&env);
    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(
        mode.later_pages("ListRolePolicies") >= 2,
        "{:?}",
        mode.later_pages
    );
    assert!(
        mode.later_pages("ListAttachedRolePolicies") >= 1,
        "{:?}",
        mode.later_pages
    );
    let gone = env.block_on(env.aws.iam.get_role().role_name(role).send());
    assert!(gone.is_err(), "the logging role is still there");
}

/// IAM ListPolicyVersions: with five versions of the deny policy (IAM's limit), a change of
/// its document deletes the oldest non-default version, read over every page, and creates
/// the new one as the default; a second apply writes nothing.
#[test]
fn a_full_deny_policy_makes_room_by_deleting_its_oldest_version() {
    let env = TestEnv::new();
    create_role(&env, "app-role");
    env.write_config(ACTION_CONFIG);
    env.run(&["apply", "--yes"]).assert_code(0);
    let policy = format!("arn:aws:iam::{ACCOUNT}:policy/BedrockMonitorDenyBedrock-bedrock-monitor");
    // Someone edited it four times; the last edit is the default.
    for n in 2..=5 {
        let document = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Edit{n}","Effect":"Deny","Action":"bedrock:InvokeModel","Resource":"*"}}]}}"#
        );
        env.block_on(
            env.aws
                .iam
                .create_policy_version()
                .policy_arn(&policy)
                .policy_document(document)
                .set_as_default(n == 5)
                .send(),
        )
        .expect("version");
    }
    let mode = paged(&env);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(
        mode.later_pages("ListPolicyVersions") >= 4,
        "{:?}",
        mode.later_pages
    );
    let versions = env
        .block_on(
            env.aws
                .iam
                .list_policy_versions()
                .policy_arn(&policy)
                .send(),
        )
        .expect("versions");
    let ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(!ids.contains(&"v1"), "the oldest version stays: {ids:?}");
    let default = versions
        .versions()
        .iter()
        .find(|v| v.is_default_version())
        .and_then(|v| v.version_id());
    assert_eq!(default, Some("v6"));
    env.proxy.clear();
    let again = env.run(&["apply", "--yes", "-o", "json"]);
    again.assert_code(0);
    assert_eq!(env.writes(), Vec::<String>::new());
    assert_eq!(
        resource(&again.json(), "budget-actions")["action"],
        "unchanged"
    );
}

/// Data Exports ListTagsForResource: the export's tags are read over every page, so a stack
/// with several tags is seen as tagged and a second apply writes nothing.
#[test]
fn export_tags_are_read_over_every_page() {
    let env = TestEnv::new();
    env.write_config("[stack.tags]\nTeam = \"platform\"\nCostCenter = \"42\"\n\n[cur_export]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let mode = paged(&env);
    env.proxy.clear();
    let again = env.run(&["apply", "--yes", "-o", "json"]);
    again.assert_code(0);
    assert!(mode.later_pages.lock().is_ok());
    assert_eq!(env.writes(), Vec::<String>::new());
    assert_eq!(resource(&again.json(), "cur-export")["action"], "unchanged");
    let tag_reads = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.service == "bcm-data-exports" && c.operation == "ListTagsForResource")
        .count();
    assert!(tag_reads >= 3, "tags were not paged: {tag_reads} reads");
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

/// S3 ListObjectsV2 in `status`: Bedrock's permission-check object is found beside many log
/// objects, one key a page.
#[test]
fn status_finds_the_permission_check_object_over_every_page() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    let bucket = crate::support::env::BUCKET;
    // Objects are put around the bucket policy (moto applies its TLS-only Deny without the
    // condition): the policy is taken off and put back.
    let policy = env
        .block_on(env.aws.s3.get_bucket_policy().bucket(bucket).send())
        .expect("policy")
        .policy()
        .map(str::to_string)
        .expect("policy text");
    env.block_on(env.aws.s3.delete_bucket_policy().bucket(bucket).send())
        .expect("policy off");
    for key in [
        "bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/a.json.gz",
        "bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/b.json.gz",
        "bedrock/amazon-bedrock-logs-permission-check",
        "bedrock/other-team-notes.txt",
    ] {
        env.block_on(
            env.aws
                .s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
                .send(),
        )
        .expect("object");
    }
    env.block_on(
        env.aws
            .s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy)
            .send(),
    )
    .expect("policy back");
    let _mode = paged(&env);
    env.proxy.clear();
    let status = env.run(&["status", "-o", "json"]);
    let lists = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.service == "s3" && c.operation == "ListObjectsV2")
        .count();
    assert!(lists >= 2, "the listing was not paged: {lists}");
    let text = status.stdout.clone();
    assert!(
        text.contains("amazon-bedrock-logs-permission-check"),
        "{text}\n{}",
        status.stderr
    );
}
