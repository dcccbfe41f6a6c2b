//! Safe by default (issue 29): a resource of a configured name that this stack does not own is
//! shown as "exists, not managed", left as it is without consent (`--adopt COMPONENT`, or a yes
//! on a terminal), never taken from another stack, and `cleanup --purge-data` deletes only what
//! the tool wrote under its key prefix. Everything is checked in moto.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::env::{BUCKET, ROLE, TestEnv, resource};
use crate::support::pty::{ENTER, PtyChild, UP};

/// Another team's object, outside the stack's key prefix (`bedrock/`).
const THEIR_KEY: &str = "team-x/quarterly.csv";

fn bucket_tags(env: &TestEnv) -> BTreeMap<String, String> {
    env.block_on(env.aws.s3.get_bucket_tagging().bucket(BUCKET).send())
        .map(|t| {
            t.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn keys_under(env: &TestEnv, prefix: &str) -> Vec<String> {
    let versions = env
        .block_on(
            env.aws
                .s3
                .list_object_versions()
                .bucket(BUCKET)
                .prefix(prefix)
                .send(),
        )
        .expect("list versions");
    versions
        .versions()
        .iter()
        .filter_map(|v| v.key().map(str::to_string))
        .chain(
            versions
                .delete_markers()
                .iter()
                .filter_map(|m| m.key().map(str::to_string)),
        )
        .collect()
}

fn put(env: &TestEnv, key: &str, body: &'static str) {
    env.put_object(BUCKET, key, body);
}

/// Another team's bucket of the stack's default name: tagged by them, holding their object.
fn their_bucket(env: &TestEnv) {
    use aws_sdk_s3::types::{Tag, Tagging};
    env.block_on(env.aws.s3.create_bucket().bucket(BUCKET).send())
        .expect("their bucket");
    env.block_on(
        env.aws
            .s3
            .put_bucket_tagging()
            .bucket(BUCKET)
            .tagging(
                Tagging::builder()
                    .tag_set(Tag::builder().key("team").value("x").build().expect("tag"))
                    .build()
                    .expect("tagging"),
            )
            .send(),
    )
    .expect("their tag");
    put(env, THEIR_KEY, "revenue");
}

fn untouched(env: &TestEnv, what: &str) {
    let tags = bucket_tags(env);
    assert_eq!(
        tags,
        BTreeMap::from([("team".to_string(), "x".to_string())]),
        "{what}: tags"
    );
    let s3 = &env.aws.s3;
    let policy = env.block_on(s3.get_bucket_policy().bucket(BUCKET).send());
    assert!(policy.is_err(), "{what}: a policy was written");
    let lifecycle = env.block_on(
        s3.get_bucket_lifecycle_configuration()
            .bucket(BUCKET)
            .send(),
    );
    assert!(lifecycle.is_err(), "{what}: a lifecycle rule was written");
    let versioning = env.raw_get(&format!("/{BUCKET}?versioning"));
    assert!(
        !versioning.contains("<Status>Enabled</Status>"),
        "{what}: versioning was switched on: {versioning}"
    );
}

/// The bucket is this stack's now, and still carries its owner's tag.
fn adopted(env: &TestEnv) {
    let tags = bucket_tags(env);
    assert_eq!(
        tags.get("bedrock-monitor:stack").map(String::as_str),
        Some("bedrock-monitor"),
        "{tags:?}"
    );
    assert_eq!(tags.get("team").map(String::as_str), Some("x"), "{tags:?}");
}

fn s3_writes(env: &TestEnv) -> Vec<String> {
    env.writes()
        .into_iter()
        .filter(|w| w.starts_with("s3:"))
        .collect()
}

#[test]
fn a_bucket_someone_else_made_is_adopted_only_when_asked_and_purged_only_under_the_prefix() {
    let env = TestEnv::new();
    their_bucket(&env);

    // The plan says what it is and how to adopt it, and still shows what adopting changes.
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let doc = plan.json();
    let bucket = resource(&doc, "bucket");
    assert_eq!(bucket["action"], "not-managed", "{bucket:#}");
    let notes = bucket["notes"].to_string();
    assert!(notes.contains("--adopt bucket"), "{notes}");
    assert!(
        notes.contains("without the tag bedrock-monitor:stack"),
        "{notes}"
    );
    assert!(
        bucket["changes"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["field"] == "policy")),
        "{bucket:#}"
    );
    let text = env.run(&["plan", "--detailed-exitcode"]);
    text.assert_code(2);
    assert!(
        text.stdout.contains("exists, not managed"),
        "{}",
        text.stdout
    );
    let adopting = env.run(&["plan", "--adopt", "bucket", "-o", "json"]).json();
    assert_eq!(resource(&adopting, "bucket")["action"], "update");

    // Without --adopt: the bucket step fails naming the flag, the bucket is untouched, and
    // logging (which would deliver into it) does not run.
    env.proxy.clear();
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    let doc = run.json();
    let bucket = resource(&doc, "bucket");
    assert_eq!(bucket["action"], "failed", "{doc:#}");
    assert_eq!(bucket["error"]["code"], "NotManagedByThisStack");
    assert!(
        bucket["error"]["hint"]
            .as_str()
            .unwrap_or("")
            .contains("--adopt bucket"),
        "{bucket:#}"
    );
    assert_eq!(resource(&doc, "logging")["action"], "blocked");
    assert_eq!(resource(&doc, "role")["action"], "created");
    assert!(s3_writes(&env).is_empty(), "{:?}", s3_writes(&env));
    untouched(&env, "apply without --adopt");

    // With --adopt bucket: managed, their tag and object kept.
    env.run(&["apply", "--yes", "--adopt", "bucket"])
        .assert_code(0);
    adopted(&env);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // The log archive: three versions and a delete marker under the prefix. moto applies the
    // TLS-only deny without its condition, so the objects go in while the policy is off (the
    // purge takes this stack's statements off first anyway).
    env.block_on(env.aws.s3.delete_bucket_policy().bucket(BUCKET).send())
        .expect("policy off");
    put(&env, "bedrock/AWSLogs/a.json", "1");
    put(&env, "bedrock/AWSLogs/a.json", "2");
    put(&env, "bedrock/AWSLogs/b.json", "3");
    env.delete_object(BUCKET, "bedrock/AWSLogs/b.json");

    // Without a terminal the question is refused, naming what it would delete.
    let refused = env.run(&["cleanup", "--purge-data"]);
    refused.assert_code(3);
    assert!(
        refused
            .stderr
            .contains(&format!("4 object versions under s3://{BUCKET}/bedrock/")),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("not the bucket: it keeps 1 object version outside that prefix"),
        "{}",
        refused.stderr
    );

    let run = env.run(&["cleanup", "--purge-data", "--yes", "-o", "json"]);
    run.assert_code(0);
    assert!(
        keys_under(&env, "bedrock/").is_empty(),
        "the log archive is gone"
    );
    assert_eq!(keys_under(&env, ""), vec![THEIR_KEY.to_string()]);
    let body = env.block_on(async {
        env.aws
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(THEIR_KEY)
            .send()
            .await
            .expect("their object")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes()
    });
    assert_eq!(&body[..], b"revenue");
    // Given back: their tag stays, this stack's is gone, and so is its lifecycle rule.
    assert_eq!(
        bucket_tags(&env),
        BTreeMap::from([("team".to_string(), "x".to_string())])
    );
    assert!(
        env.block_on(
            env.aws
                .s3
                .get_bucket_lifecycle_configuration()
                .bucket(BUCKET)
                .send()
        )
        .is_err()
    );
    let notes = run.json()["notes"].to_string();
    assert!(notes.contains("was kept"), "{notes}");

    // A second cleanup finds it not managed and writes nothing.
    env.proxy.clear();
    let again = env.run(&["cleanup", "--purge-data", "--yes", "-o", "json"]);
    again.assert_code(0);
    assert_eq!(resource(&again.json(), "bucket")["action"], "not-managed");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}

fn role_state(env: &TestEnv) -> (Value, BTreeMap<String, String>) {
    let role = env
        .block_on(env.aws.iam.get_role().role_name(ROLE).send())
        .expect("role");
    let role = role.role().expect("role");
    let trust =
        bedrock_monitor::docs::parse_policy(role.assume_role_policy_document().expect("trust"))
            .expect("trust JSON");
    let tags = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    (trust, tags)
}

#[test]
fn a_role_of_another_stack_is_never_taken_over_not_even_with_adopt() {
    use aws_sdk_iam::types::Tag;
    let env = TestEnv::new();
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    env.block_on(
        env.aws
            .iam
            .create_role()
            .role_name(ROLE)
            .assume_role_policy_document(trust.to_string())
            .tags(
                Tag::builder()
                    .key("bedrock-monitor:stack")
                    .value("team-x")
                    .build()
                    .expect("tag"),
            )
            .send(),
    )
    .expect("team-x's role");
    let before = role_state(&env);

    let plan = env.run(&["plan", "-o", "json"]).json();
    let role = resource(&plan, "role");
    assert_eq!(role["action"], "not-managed", "{role:#}");
    assert!(role["notes"].to_string().contains("team-x"), "{role:#}");

    for args in [
        &["apply", "--yes", "-o", "json"][..],
        &["apply", "--yes", "--adopt", "role", "-o", "json"][..],
        &["apply", "--yes", "--adopt", "all", "-o", "json"][..],
    ] {
        let run = env.run(args);
        run.assert_code(1);
        let doc = run.json();
        let role = resource(&doc, "role");
        assert_eq!(role["action"], "failed", "{args:?}: {doc:#}");
        assert_eq!(role["error"]["code"], "ManagedByAnotherStack", "{args:?}");
        assert!(
            role["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("team-x"),
            "{role:#}"
        );
        assert_eq!(resource(&doc, "logging")["action"], "blocked");
    }
    assert_eq!(role_state(&env), before, "the role was changed");
    let inline = env.block_on(
        env.aws
            .iam
            .get_role_policy()
            .role_name(ROLE)
            .policy_name("BedrockCloudWatchLoggingPolicy")
            .send(),
    );
    assert!(inline.is_err(), "an inline policy was put on team-x's role");

    // Cleanup leaves it too.
    let run = env.run(&["cleanup", "--yes", "-o", "json"]);
    run.assert_code(0);
    assert_eq!(resource(&run.json(), "role")["action"], "not-managed");
    assert_eq!(role_state(&env), before);
}

#[test]
fn adopt_names_only_components_that_can_adopt() {
    let env = TestEnv::new();
    env.proxy.clear();
    for (value, says) in [
        ("logging", "--adopt-logging"),
        ("queries", "nothing to adopt"),
        ("buckets", "unknown component"),
    ] {
        let run = env.run(&["apply", "--yes", "--adopt", value]);
        assert_ne!(run.code, 0, "--adopt {value}");
        assert!(run.stderr.contains(says), "--adopt {value}: {}", run.stderr);
    }
    assert!(env.proxy.calls().is_empty(), "bad input made AWS calls");
}

/// `apply --yes` on a terminal (a pseudo-terminal, CI unset) with someone's bucket of the
/// default name, stopped at the question about it.
fn at_the_adoption_prompt(env: &TestEnv) -> PtyChild {
    their_bucket(env);
    let mut pty = PtyChild::spawn(env.command(&["apply", "--yes"]));
    let at = pty.expect_after(0, "Adopt the existing bucket?");
    // The choices are drawn after the question.
    pty.expect_after(at, "Abort");
    pty
}

#[test]
fn on_a_terminal_the_user_is_asked_before_a_bucket_is_adopted() {
    let env = TestEnv::new();
    let mut pty = at_the_adoption_prompt(&env);
    let screen = pty.screen();
    for text in [
        "exists, not managed",
        "without the tag bedrock-monitor:stack=bedrock-monitor",
        "Adopt it",
        "--adopt bucket",
        "Leave it as it is and skip this step (also skips logging)",
    ] {
        assert!(screen.contains(text), "{text:?} not shown:\n{screen}");
    }
    // The default is to leave it: one step up is "Adopt it".
    pty.keys(&[UP, ENTER]);
    let (status, stdout, screen) = pty.finish();
    assert_eq!(status.code(), Some(0), "{stdout}\n{screen}");
    adopted(&env);
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn on_a_terminal_a_no_leaves_the_bucket_and_skips_what_needs_it() {
    let env = TestEnv::new();
    let mut pty = at_the_adoption_prompt(&env);
    pty.keys(&[ENTER]);
    let (status, stdout, screen) = pty.finish();
    assert_eq!(status.code(), Some(1), "{stdout}\n{screen}");
    assert!(stdout.contains("skipped"), "{stdout}");
    untouched(&env, "a no on the terminal");
}
