//! status and cleanup against moto: in sync after apply, each kind of drift detected with its
//! fields and repaired by apply, "not managed" for an untagged bucket (and cleanup leaving it),
//! purging a versioned bucket, --keep, refusal without a terminal, a second cleanup as a
//! no-op, and status never writing.

use serde_json::{Value, json};

use crate::support::env::{BUCKET, LOG_GROUP, ROLE, TestEnv, resource};

fn component<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .and_then(|c| c.iter().find(|e| e["id"] == id))
        .unwrap_or_else(|| panic!("no component {id} in {doc:#}"))
}

fn drift_fields(doc: &Value, id: &str) -> Vec<String> {
    component(doc, id)["drift"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| d["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn status_reports_sync_then_each_drift_and_apply_repairs_it() {
    let env = TestEnv::new();
    env.write_config("[alerts]\nemails = [\"ops@example.com\"]\n");
    env.run(&["apply", "--yes"]).assert_code(0);

    env.proxy.clear();
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(0);
    let doc = status.json();
    for c in doc["components"].as_array().expect("components") {
        assert_eq!(c["state"], "in-sync", "{c:#}");
    }
    assert_eq!(
        component(&doc, "bucket")["evidence"],
        "tag bedrock-monitor:stack=bedrock-monitor"
    );
    let alarm_health = component(&doc, "alarms")["health"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(alarm_health.len(), 12);
    // New alarms wait for their first evaluation, as on AWS (the strict proxy shows them so).
    assert!(
        alarm_health.iter().all(|h| h["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("INSUFFICIENT_DATA")),
        "{alarm_health:#?}"
    );
    assert!(env.writes().is_empty(), "status wrote {:?}", env.writes());

    // Drift: retention, a deleted alarm, suspended versioning, a changed bucket policy.
    let aws = &env.aws;
    env.block_on(
        aws.logs
            .put_retention_policy()
            .log_group_name(LOG_GROUP)
            .retention_in_days(7)
            .send(),
    )
    .expect("retention");
    env.block_on(
        aws.cloudwatch
            .delete_alarms()
            .alarm_names("Bedrock-HighLatency")
            .send(),
    )
    .expect("delete alarm");
    env.block_on(
        aws.s3
            .put_bucket_versioning()
            .bucket(BUCKET)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
                    .build(),
            )
            .send(),
    )
    .expect("suspend versioning");
    let open_policy = json!({"Version": "2012-10-17", "Statement": [{"Sid": "AllowBedrockInvocationLogDelivery",
        "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": format!("arn:aws:s3:::{BUCKET}/*")}]});
    env.block_on(
        aws.s3
            .put_bucket_policy()
            .bucket(BUCKET)
            .policy(open_policy.to_string())
            .send(),
    )
    .expect("policy");

    env.proxy.clear();
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    assert!(env.writes().is_empty(), "status wrote {:?}", env.writes());
    let doc = status.json();
    assert_eq!(component(&doc, "log-group")["state"], "drifted");
    let retention = &component(&doc, "log-group")["drift"][0];
    assert_eq!(
        (
            retention["field"].clone(),
            retention["expected"].clone(),
            retention["actual"].clone()
        ),
        (json!("retention_days"), json!(30), json!(7))
    );
    assert_eq!(component(&doc, "alarms")["state"], "drifted");
    assert!(drift_fields(&doc, "alarms").contains(&"Bedrock-HighLatency".to_string()));
    assert_eq!(component(&doc, "bucket")["state"], "drifted");
    let bucket = drift_fields(&doc, "bucket");
    assert!(bucket.contains(&"versioning".to_string()), "{bucket:?}");
    assert!(bucket.contains(&"policy".to_string()), "{bucket:?}");
    assert_eq!(component(&doc, "role")["state"], "in-sync");

    let text = env.run(&["status"]);
    text.assert_code(0);
    assert!(text.stdout.contains("drifted"), "{}", text.stdout);
    assert!(
        text.stdout
            .contains("retention_days: expected 30, actual 7"),
        "{}",
        text.stdout
    );

    env.run(&["apply", "--yes"]).assert_code(0);
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn status_of_nothing_is_missing_and_an_untagged_bucket_is_not_managed() {
    let env = TestEnv::new();
    env.block_on(env.aws.s3.create_bucket().bucket(BUCKET).send())
        .expect("someone else's bucket");
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    let doc = status.json();
    assert_eq!(component(&doc, "role")["state"], "missing");
    assert_eq!(component(&doc, "logging")["state"], "missing");
    assert_eq!(component(&doc, "bucket")["state"], "not-managed");
    assert!(
        component(&doc, "bucket")["reason"]
            .as_str()
            .unwrap_or("")
            .contains("without the tag")
    );

    // Cleanup leaves what it does not manage, even with --purge-data.
    let run = env.run(&["cleanup", "--purge-data", "--yes", "-o", "json"]);
    run.assert_code(0);
    assert_eq!(resource(&run.json(), "bucket")["action"], "not-managed");
    env.block_on(env.aws.s3.head_bucket().bucket(BUCKET).send())
        .expect("the foreign bucket is still there");
}

fn put_versions(env: &TestEnv) {
    // moto applies a policy's Deny statements without their conditions, so the TLS-only
    // statement would block these puts: remove the policy first (cleanup removes it too).
    env.block_on(env.aws.s3.delete_bucket_policy().bucket(BUCKET).send())
        .expect("remove policy");
    for (key, body) in [
        ("bedrock/AWSLogs/a.json", "1"),
        ("bedrock/AWSLogs/a.json", "2"),
        ("bedrock/AWSLogs/a.json", "3"),
        ("bedrock/AWSLogs/b.json", "4"),
    ] {
        env.put_object(BUCKET, key, body);
    }
    env.delete_object(BUCKET, "bedrock/AWSLogs/b.json");
}

#[test]
fn cleanup_refuses_without_terminal_keeps_data_purges_and_repeats() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    put_versions(&env);
    let versions = env
        .block_on(env.aws.s3.list_object_versions().bucket(BUCKET).send())
        .expect("versions");
    assert_eq!(
        versions.versions().len() + versions.delete_markers().len(),
        5
    );

    env.proxy.clear();
    let refused = env.run(&["cleanup"]);
    refused.assert_code(3);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(env.writes().is_empty(), "refusal wrote {:?}", env.writes());

    // Without --purge-data the bucket and the log group stay; --keep keeps the topic.
    let run = env.run(&["cleanup", "--yes", "--keep", "topic", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    for (id, action) in [
        ("role", "deleted"),
        ("logging", "deleted"),
        ("alarms", "deleted"),
        ("topic", "kept"),
        ("bucket", "kept"),
        ("log-group", "kept"),
    ] {
        assert_eq!(resource(&doc, id)["action"], action, "{id}: {doc:#}");
    }
    assert!(
        env.block_on(env.aws.iam.get_role().role_name(ROLE).send())
            .is_err()
    );
    env.block_on(
        env.aws
            .sns
            .get_topic_attributes()
            .topic_arn("arn:aws:sns:us-east-1:123456789012:bedrock-usage-alerts")
            .send(),
    )
    .expect("kept topic");
    env.block_on(env.aws.s3.head_bucket().bucket(BUCKET).send())
        .expect("bucket kept without --purge-data");

    let run = env.run(&["cleanup", "--yes", "--purge-data", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(resource(&doc, "bucket")["action"], "deleted", "{doc:#}");
    assert_eq!(resource(&doc, "log-group")["action"], "deleted");
    assert_eq!(resource(&doc, "topic")["action"], "deleted");
    assert!(
        env.block_on(env.aws.s3.head_bucket().bucket(BUCKET).send())
            .is_err()
    );
    let groups = env
        .block_on(
            env.aws
                .logs
                .describe_log_groups()
                .log_group_name_prefix(LOG_GROUP)
                .send(),
        )
        .expect("log groups");
    assert!(groups.log_groups().is_empty());

    env.proxy.clear();
    let again = env.run(&["cleanup", "--yes", "--purge-data"]);
    again.assert_code(0);
    assert!(
        again.stdout.contains("Nothing to delete"),
        "{}",
        again.stdout
    );
    assert!(
        env.writes().is_empty(),
        "second cleanup wrote {:?}",
        env.writes()
    );
}

#[test]
fn status_finds_an_edited_dashboard_and_a_changed_budget_limit() {
    use aws_sdk_budgets::types::{Budget, BudgetType, Spend, TimeUnit};
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);

    env.block_on(
        env.aws
            .cloudwatch
            .put_dashboard()
            .dashboard_name("BedrockUsageMonitoring")
            .dashboard_body(r#"{"widgets":[{"type":"text","x":0,"y":0,"width":6,"height":2,"properties":{"markdown":"mine now"}}]}"#)
            .send(),
    )
    .expect("edit dashboard");
    // moto does not serve UpdateBudget: change the limit by recreating the budget.
    env.block_on(
        env.aws
            .budgets
            .delete_budget()
            .account_id(crate::support::env::ACCOUNT)
            .budget_name("BedrockUsageBudget")
            .send(),
    )
    .expect("delete budget");
    let budget = Budget::builder()
        .budget_name("BedrockUsageBudget")
        .budget_type(BudgetType::Cost)
        .time_unit(TimeUnit::Monthly)
        .budget_limit(
            Spend::builder()
                .amount("50")
                .unit("USD")
                .build()
                .expect("spend"),
        )
        .build()
        .expect("budget");
    env.block_on(
        env.aws
            .budgets
            .create_budget()
            .account_id(crate::support::env::ACCOUNT)
            .budget(budget)
            .send(),
    )
    .expect("recreate budget");

    env.proxy.clear();
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    assert!(env.writes().is_empty());
    let doc = status.json();
    assert_eq!(
        component(&doc, "dashboard")["state"],
        "not-managed",
        "the marker is gone: {doc:#}"
    );
    let budgets = component(&doc, "budgets");
    assert_eq!(budgets["state"], "drifted", "{budgets:#}");
    let limit = budgets["drift"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["field"] == "BedrockUsageBudget.limit_usd")
        })
        .cloned()
        .expect("limit drift");
    assert_eq!(
        (limit["expected"].clone(), limit["actual"].clone()),
        (json!(100.0), json!(50.0))
    );

    // Without its marker the dashboard is no longer provably this stack's: apply leaves it
    // (and repairs the rest) until told to adopt it, then puts the marker back.
    env.block_on(
        env.aws
            .budgets
            .delete_budget()
            .account_id(crate::support::env::ACCOUNT)
            .budget_name("BedrockUsageBudget")
            .send(),
    )
    .expect("delete budget again");
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    assert_eq!(resource(&run.json(), "dashboard")["action"], "failed");
    assert!(
        env.dashboard_body().contains("mine now"),
        "changed without --adopt"
    );
    env.run(&["apply", "--yes", "--adopt", "dashboard"])
        .assert_code(0);
    let doc = env.run(&["status", "-o", "json"]).json();
    assert_eq!(component(&doc, "budgets")["state"], "in-sync");
    assert_eq!(component(&doc, "dashboard")["state"], "in-sync");
}
