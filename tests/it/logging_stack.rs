//! The logging half of the stack against moto: every setting, idempotence (no writes on the
//! second apply), plan output and exit codes, adoption (with consent) of what the old scripts
//! left, and a failed step blocking only its dependents.

use serde_json::{Value, json};

use crate::support::env::{ACCOUNT, BUCKET, LOG_GROUP, REGION, ROLE, TestEnv, resource, statement};

fn policy(text: &str) -> Value {
    bedrock_monitor::docs::parse_policy(text).expect("policy is JSON (maybe URL-encoded)")
}

fn check_role(env: &TestEnv) {
    let role = env
        .block_on(env.aws.iam.get_role().role_name(ROLE).send())
        .expect("role exists");
    let role = role.role().expect("role");
    let trust = policy(role.assume_role_policy_document().expect("trust policy"));
    let st = &trust["Statement"][0];
    assert_eq!(st["Effect"], "Allow");
    assert_eq!(st["Principal"]["Service"], "bedrock.amazonaws.com");
    assert_eq!(st["Action"], "sts:AssumeRole");
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    assert_eq!(
        st["Condition"]["ArnLike"]["aws:SourceArn"],
        format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:*")
    );
    let tags: Vec<(String, String)> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert!(tags.contains(&("bedrock-monitor:stack".into(), "bedrock-monitor".into())));
    assert!(tags.contains(&("Project".into(), "genai".into())));

    let inline = env
        .block_on(
            env.aws
                .iam
                .get_role_policy()
                .role_name(ROLE)
                .policy_name("BedrockCloudWatchLoggingPolicy")
                .send(),
        )
        .expect("inline policy");
    let doc = policy(inline.policy_document());
    let logs = statement(&doc, "WriteInvocationLogs");
    assert_eq!(
        logs["Action"],
        json!(["logs:CreateLogStream", "logs:PutLogEvents"])
    );
    assert_eq!(
        logs["Resource"],
        format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:log-stream:*")
    );
    let s3 = statement(&doc, "WriteLargeInvocationPayloads");
    assert_eq!(s3["Action"], "s3:PutObject");
    assert_eq!(s3["Resource"], format!("arn:aws:s3:::{BUCKET}/bedrock/*"));
}

fn check_bucket(env: &TestEnv) {
    let s3 = &env.aws.s3;
    let versioning = env.raw_get(&format!("/{BUCKET}?versioning"));
    assert!(
        versioning.contains("<Status>Enabled</Status>"),
        "{versioning}"
    );

    let lifecycle = env
        .block_on(
            s3.get_bucket_lifecycle_configuration()
                .bucket(BUCKET)
                .send(),
        )
        .expect("lifecycle");
    let rule = lifecycle
        .rules()
        .iter()
        .find(|r| r.id() == Some("bedrock-monitor-log-expiry"))
        .expect("our rule");
    assert_eq!(rule.status().as_str(), "Enabled");
    assert_eq!(rule.filter().and_then(|f| f.prefix()), Some("bedrock/"));
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(90));
    assert_eq!(
        rule.noncurrent_version_expiration()
            .and_then(|n| n.noncurrent_days()),
        Some(7)
    );
    assert_eq!(
        rule.abort_incomplete_multipart_upload()
            .and_then(|a| a.days_after_initiation()),
        Some(1)
    );

    let enc = env
        .block_on(s3.get_bucket_encryption().bucket(BUCKET).send())
        .expect("encryption");
    let rule = &enc
        .server_side_encryption_configuration()
        .expect("config")
        .rules()[0];
    let default = rule
        .apply_server_side_encryption_by_default()
        .expect("default");
    assert_eq!(default.sse_algorithm().as_str(), "AES256");
    assert_eq!(rule.bucket_key_enabled(), Some(true));

    let pab = env
        .block_on(s3.get_public_access_block().bucket(BUCKET).send())
        .expect("public access block");
    let c = pab.public_access_block_configuration().expect("config");
    assert_eq!(
        (
            c.block_public_acls(),
            c.ignore_public_acls(),
            c.block_public_policy(),
            c.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );

    let bp = env
        .block_on(s3.get_bucket_policy().bucket(BUCKET).send())
        .expect("bucket policy");
    let doc = policy(bp.policy().expect("policy text"));
    let allow = statement(&doc, "AllowBedrockInvocationLogDelivery");
    assert_eq!(allow["Principal"]["Service"], "bedrock.amazonaws.com");
    assert_eq!(allow["Action"], "s3:PutObject");
    // Both ways Bedrock may join the prefix to its path (with or without its own '/').
    assert_eq!(
        allow["Resource"],
        serde_json::json!([
            format!("arn:aws:s3:::{BUCKET}/bedrock/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/*"),
            format!(
                "arn:aws:s3:::{BUCKET}/bedrock//AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/*"
            ),
        ])
    );
    assert_eq!(
        allow["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    assert_eq!(
        allow["Condition"]["ArnLike"]["aws:SourceArn"],
        format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:*")
    );
    let deny = statement(&doc, "DenyInsecureTransport");
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Principal"], "*");
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");

    let tags = env
        .block_on(s3.get_bucket_tagging().bucket(BUCKET).send())
        .expect("tags");
    let tags: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert!(
        tags.contains(&("bedrock-monitor:stack", "bedrock-monitor")),
        "{tags:?}"
    );
    assert!(tags.contains(&("Project", "genai")), "{tags:?}");
}

fn check_log_group(env: &TestEnv) {
    let groups = env
        .block_on(
            env.aws
                .logs
                .describe_log_groups()
                .log_group_name_prefix(LOG_GROUP)
                .send(),
        )
        .expect("log groups");
    let group = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(LOG_GROUP))
        .expect("log group exists");
    assert_eq!(group.retention_in_days(), Some(30));
    let tags = env
        .block_on(
            env.aws
                .logs
                .list_tags_for_resource()
                .resource_arn(format!(
                    "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}"
                ))
                .send(),
        )
        .expect("tags");
    let tags = tags.tags().cloned().unwrap_or_default();
    assert_eq!(
        tags.get("bedrock-monitor:stack").map(String::as_str),
        Some("bedrock-monitor")
    );
    assert_eq!(tags.get("Project").map(String::as_str), Some("genai"));
}

fn check_logging(env: &TestEnv) {
    let out = env
        .block_on(
            env.aws
                .bedrock
                .get_model_invocation_logging_configuration()
                .send(),
        )
        .expect("logging config");
    let c = out.logging_config().expect("logging on");
    let cw = c.cloud_watch_config().expect("cloudwatch destination");
    assert_eq!(cw.log_group_name(), LOG_GROUP);
    assert_eq!(cw.role_arn(), format!("arn:aws:iam::{ACCOUNT}:role/{ROLE}"));
    let large = cw
        .large_data_delivery_s3_config()
        .expect("large data to s3");
    assert_eq!(large.bucket_name(), BUCKET);
    let s3 = c.s3_config().expect("s3 destination");
    assert_eq!(s3.bucket_name(), BUCKET);
    assert_eq!(s3.key_prefix(), Some("bedrock/"));
    assert_eq!(c.text_data_delivery_enabled(), Some(true));
    assert_eq!(c.image_data_delivery_enabled(), Some(false));
    assert_eq!(c.embedding_data_delivery_enabled(), Some(false));
}

const CONFIG: &str = "[stack.tags]\nProject = \"genai\"\n";

#[test]
fn apply_sets_every_setting_and_a_second_apply_only_reads() {
    let env = TestEnv::new();
    env.write_config(CONFIG);

    let plan = env.run(&["plan", "--detailed-exitcode", "-o", "json"]);
    plan.assert_code(2);
    let doc = plan.json();
    for id in ["role", "bucket", "log-group", "logging"] {
        assert_eq!(resource(&doc, id)["action"], "create", "{id}");
    }
    assert!(env.writes().is_empty(), "plan wrote: {:?}", env.writes());

    let first = env.run(&["apply", "--yes", "-o", "json"]);
    first.assert_code(0);
    let doc = first.json();
    for id in ["role", "bucket", "log-group", "logging"] {
        assert_eq!(resource(&doc, id)["action"], "created", "{id}: {doc:#}");
    }
    check_role(&env);
    check_bucket(&env);
    check_log_group(&env);
    check_logging(&env);

    env.proxy.clear();
    let second = env.run(&["apply", "--yes"]);
    second.assert_code(0);
    assert!(second.stdout.contains("No changes"), "{}", second.stdout);
    assert!(
        env.writes().is_empty(),
        "second apply wrote: {:?}",
        env.writes()
    );
    assert!(
        !env.proxy.calls().is_empty(),
        "the second apply must read the account"
    );

    let plan = env.run(&["plan", "--detailed-exitcode"]);
    plan.assert_code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(env.writes().is_empty());
}

#[test]
fn json_output_is_one_document_and_logs_go_to_stderr() {
    let env = TestEnv::new();
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["region"], REGION);
    assert!(
        run.stderr.contains("applying"),
        "progress lines on stderr: {}",
        run.stderr
    );
    assert!(!run.stdout.contains("applying"));
}

#[test]
fn existing_resources_are_adopted_and_converged() {
    let env = TestEnv::new();
    // What the old scripts left: a role without tags and with a looser trust policy, a bucket
    // with no settings, a log group with another retention.
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    env.block_on(
        env.aws
            .iam
            .create_role()
            .role_name(ROLE)
            .assume_role_policy_document(trust.to_string())
            .send(),
    )
    .expect("create role");
    env.block_on(env.aws.s3.create_bucket().bucket(BUCKET).send())
        .expect("create bucket");
    env.block_on(
        env.aws
            .logs
            .create_log_group()
            .log_group_name(LOG_GROUP)
            .send(),
    )
    .expect("create log group");
    env.block_on(
        env.aws
            .logs
            .put_retention_policy()
            .log_group_name(LOG_GROUP)
            .retention_in_days(7)
            .send(),
    )
    .expect("retention");

    // Found by name but not tagged: "exists, not managed" until adopted, the changes
    // adopting makes shown all the same.
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let doc = plan.json();
    for id in ["role", "bucket", "log-group"] {
        let entry = resource(&doc, id);
        assert_eq!(entry["action"], "not-managed", "{id}: {entry:#}");
        assert!(
            entry["notes"]
                .to_string()
                .contains(&format!("--adopt {id}")),
            "{id}: {entry:#}"
        );
    }
    // The migration from the old scripts: `--adopt all` (here previewed with plan).
    let plan = env.run(&["plan", "--adopt", "all", "-o", "json"]);
    plan.assert_code(0);
    let doc = plan.json();
    let fields = |id: &str| -> Vec<String> {
        resource(&doc, id)["changes"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| c["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(resource(&doc, "role")["action"], "update");
    assert!(
        fields("role").contains(&"trust_policy".to_string()),
        "{doc:#}"
    );
    assert!(fields("role").contains(&"tags".to_string()));
    assert_eq!(resource(&doc, "bucket")["action"], "update");
    for f in [
        "versioning",
        "lifecycle_rule",
        "encryption",
        "public_access_block",
        "policy",
        "tags",
    ] {
        assert!(fields("bucket").contains(&f.to_string()), "{f}: {doc:#}");
    }
    let log_group = resource(&doc, "log-group");
    let retention = log_group["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["field"] == "retention_days"))
        .expect("retention change");
    assert_eq!(
        (retention["old"].clone(), retention["new"].clone()),
        (json!(7), json!(30))
    );

    env.write_config(CONFIG);
    env.proxy.clear();
    let refused = env.run(&["apply", "--yes"]);
    refused.assert_code(1);
    assert!(
        !env.writes().iter().any(|w| w.starts_with("s3:")
            || w.starts_with("iam:")
            || w == "logs:PutRetentionPolicy"),
        "wrote to what it does not manage: {:?}",
        env.writes()
    );
    env.run(&["apply", "--yes", "--adopt", "all"])
        .assert_code(0);
    check_role(&env);
    check_bucket(&env);
    check_log_group(&env);
    check_logging(&env);
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    assert!(env.writes().is_empty());
}

#[test]
fn a_failed_step_blocks_only_its_dependents() {
    let env = TestEnv::new();
    // The bucket name is taken in another region: Bedrock cannot deliver there.
    env.bucket_in_us_west_2();

    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    let doc = run.json();
    let bucket = resource(&doc, "bucket");
    assert_eq!(bucket["action"], "failed", "{doc:#}");
    assert!(
        bucket["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("us-west-2"),
        "{bucket:#}"
    );
    assert!(
        bucket["error"]["hint"]
            .as_str()
            .unwrap_or("")
            .contains("bucket.name")
    );
    assert_eq!(resource(&doc, "logging")["action"], "blocked");
    assert_eq!(resource(&doc, "role")["action"], "created");
    assert_eq!(resource(&doc, "log-group")["action"], "created");
    // The independent steps really ran.
    env.block_on(env.aws.iam.get_role().role_name(ROLE).send())
        .expect("role created");
    let logging = env
        .block_on(
            env.aws
                .bedrock
                .get_model_invocation_logging_configuration()
                .send(),
        )
        .expect("read logging");
    assert!(
        logging
            .logging_config()
            .and_then(|c| c.cloud_watch_config())
            .is_none(),
        "logging must not be configured while the bucket failed"
    );
}

#[test]
fn logging_that_delivers_elsewhere_is_replaced_only_with_adopt_logging() {
    use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig};
    let env = TestEnv::new();
    let foreign = LoggingConfig::builder()
        .cloud_watch_config(
            CloudWatchConfig::builder()
                .log_group_name("/team-x/bedrock")
                .role_arn("arn:aws:iam::123456789012:role/TeamX")
                .build()
                .expect("cloudwatch config"),
        )
        .text_data_delivery_enabled(true)
        .build();
    env.block_on(
        env.aws
            .bedrock
            .put_model_invocation_logging_configuration()
            .logging_config(foreign)
            .send(),
    )
    .expect("someone else's logging");

    let plan = env.run(&["plan", "-o", "json"]).json();
    let logging = resource(&plan, "logging");
    assert_eq!(logging["action"], "update");
    assert!(
        logging["notes"][0]
            .as_str()
            .unwrap_or("")
            .contains("/team-x/bedrock"),
        "{logging:#}"
    );
    let status = env.run(&["status", "-o", "json"]).json();
    let entry = status["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "logging"))
        .cloned()
        .expect("logging status");
    assert_eq!(entry["state"], "not-managed", "{entry:#}");

    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    let doc = run.json();
    let logging = resource(&doc, "logging");
    assert_eq!(logging["action"], "failed");
    assert!(
        logging["error"]["hint"]
            .as_str()
            .unwrap_or("")
            .contains("--adopt-logging")
    );
    assert_eq!(resource(&doc, "bucket")["action"], "created");
    let kept = env
        .block_on(
            env.aws
                .bedrock
                .get_model_invocation_logging_configuration()
                .send(),
        )
        .expect("read logging");
    assert_eq!(
        kept.logging_config()
            .and_then(|c| c.cloud_watch_config())
            .map(|c| c.log_group_name()),
        Some("/team-x/bedrock"),
        "not replaced without --adopt-logging"
    );

    // cleanup never removes someone else's logging configuration.
    env.run(&["cleanup", "--yes"]).assert_code(0);
    let kept = env
        .block_on(
            env.aws
                .bedrock
                .get_model_invocation_logging_configuration()
                .send(),
        )
        .expect("read logging");
    assert!(
        kept.logging_config()
            .and_then(|c| c.cloud_watch_config())
            .is_some()
    );

    env.run(&["apply", "--yes", "--adopt-logging"])
        .assert_code(0);
    check_logging(&env);
}

fn audio_delivery(env: &TestEnv) -> Option<bool> {
    env.block_on(
        env.aws
            .bedrock
            .get_model_invocation_logging_configuration()
            .send(),
    )
    .expect("logging configuration")
    .logging_config()
    .and_then(|c| c.audio_data_delivery_enabled())
}

/// PutModelInvocationLoggingConfiguration replaces the whole configuration: audio delivery
/// switched on in the console survives every apply of a config that does not mention it (no
/// plan line, no write), and a config that does set it shows the change in the plan and makes
/// it.
#[test]
fn audio_delivery_set_elsewhere_is_kept_unless_the_config_says_otherwise() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    let current = env
        .block_on(
            env.aws
                .bedrock
                .get_model_invocation_logging_configuration()
                .send(),
        )
        .expect("logging configuration")
        .logging_config()
        .cloned()
        .expect("logging on");
    let mut with_audio = current.clone();
    with_audio.audio_data_delivery_enabled = Some(true);
    env.block_on(
        env.aws
            .bedrock
            .put_model_invocation_logging_configuration()
            .logging_config(with_audio)
            .send(),
    )
    .expect("audio on, as the console would");
    // A change to another logging setting rewrites the configuration: audio stays on.
    env.write_config("[invocation_logging]\nimage = true\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(audio_delivery(&env), Some(true));
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    env.write_config("[invocation_logging]\nimage = true\naudio = false\n");
    let plan = env.run(&["plan", "-o", "json"]).json();
    let logging = resource(&plan, "logging");
    assert_eq!(logging["action"], "update", "{logging:#}");
    assert!(
        logging.to_string().contains("audio_delivery"),
        "{logging:#}"
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(audio_delivery(&env), Some(false));
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}
