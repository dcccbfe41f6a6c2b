//! The cost-attribution components (issue 13) end to end, against moto plus the harness's
//! stand-in for the operations moto lacks: application inference profiles (converge, no writes
//! on a second apply, drift, replace, delete when dropped, cleanup leaving others' profiles),
//! their use in the dashboard, alarms and report, cost-allocation tag activation with keys AWS
//! has not billed yet, and the payer-account rule.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::env::TestEnv;
use crate::support::proxy::{AnswerWith, Protocol, Reply};

const PROFILES: &str = r#"
[stack.tags]
CostCenter = "1234"

[[inference_profiles]]
name = "team-search"
model = "anthropic.claude-3-5-haiku-20241022-v1:0"
description = "Search team"
tags = { Team = "search" }

[[inference_profiles]]
name = "team-chat"
model = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
tags = { Team = "chat" }

[alarms.chat_tokens]
metric = "InputTokenCount"
statistic = "Sum"
comparison = "GreaterThanThreshold"
threshold = 50000
inference_profile = "team-chat"
"#;

fn component<'a>(doc: &'a Value, list: &str, id: &str) -> &'a Value {
    doc[list]
        .as_array()
        .and_then(|c| c.iter().find(|e| e["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {doc:#}"))
}

fn profile(env: &TestEnv, name: &str) -> Option<crate::support::standin::InferenceProfile> {
    env.standin
        .inference_profiles()
        .into_iter()
        .find(|p| p.name == name)
}

#[test]
fn inference_profiles_converge_flow_into_the_stack_and_are_replaced_deleted_and_cleaned_up() {
    let env = TestEnv::new();
    env.write_config(PROFILES);
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();

    let search = profile(&env, "team-search").expect("team-search created");
    let chat = profile(&env, "team-chat").expect("team-chat created");
    assert_eq!(search.tags.get("Team").map(String::as_str), Some("search"));
    assert_eq!(
        search.tags.get("CostCenter").map(String::as_str),
        Some("1234")
    );
    assert_eq!(
        search.tags.get("bedrock-monitor:stack").map(String::as_str),
        Some("bedrock-monitor")
    );
    assert_eq!(search.description.as_deref(), Some("Search team"));
    assert!(
        search
            .copy_from
            .ends_with("::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"),
        "{}",
        search.copy_from
    );
    assert!(
        chat.copy_from
            .ends_with(":inference-profile/us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
        "{}",
        chat.copy_from
    );
    // apply prints each profile's ARN (what applications pass as modelId).
    let ids = &component(&doc, "resources", "inference-profiles")["ids"];
    assert_eq!(ids["team-search"], json!(search.arn), "{doc:#}");
    assert_eq!(ids["team-chat"], json!(chat.arn));

    // The dashboard has a line per profile, labelled by name, selected by the profile's ID.
    let body = env.dashboard_body();
    let body: Value = serde_json::from_str(&body).expect("dashboard JSON");
    let widget = body["widgets"]
        .as_array()
        .and_then(|w| {
            w.iter()
                .find(|w| w["properties"]["title"] == "Inference profiles: invocations and tokens")
        })
        .expect("profile widget");
    let lines = widget["properties"]["metrics"].to_string();
    assert!(lines.contains(&format!("\"{}\"", chat.id)), "{lines}");
    assert!(lines.contains("team-chat invocations"), "{lines}");
    assert!(!lines.contains("known after apply"), "{lines}");

    // The alarm named by profile watches the profile's ID.
    let alarm = env.block_on(async {
        env.aws
            .cloudwatch
            .describe_alarms()
            .alarm_names("Bedrock-chat_tokens")
            .send()
            .await
            .expect("alarms")
    });
    let dims = alarm.metric_alarms()[0].dimensions();
    assert_eq!(dims[0].value(), Some(chat.id.as_str()));

    // A second apply writes nothing; status is in sync and shows the ARNs.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(0);
    let doc = status.json();
    let c = component(&doc, "components", "inference-profiles");
    assert_eq!(c["state"], "in-sync", "{c:#}");
    assert!(c["health"].to_string().contains(&chat.arn), "{c:#}");

    // Drift outside the tool: a tag removed, then repaired by apply.
    assert!(env.standin.untag_profile("team-search", "Team"));
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    let c = component(&status.json(), "components", "inference-profiles").clone();
    assert_eq!(c["state"], "drifted", "{c:#}");
    assert!(
        c["drift"].to_string().contains("profiles.team-search.tags"),
        "{c:#}"
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["bedrock:TagResource"]);
    assert_eq!(
        profile(&env, "team-search").and_then(|p| p.tags.get("Team").cloned()),
        Some("search".into())
    );

    // A changed description is a replacement: plan says so, apply gives a new ARN.
    env.write_config(&PROFILES.replace("Search team", "Search and ranking team"));
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let entry = component(&plan.json(), "resources", "inference-profiles").clone();
    assert_eq!(entry["action"], "replace", "{entry:#}");
    assert!(entry["notes"].to_string().contains("new ARN"), "{entry:#}");
    let text = env.run(&["plan"]);
    assert!(text.stdout.contains("replace"), "{}", text.stdout);
    env.run(&["apply", "--yes"]).assert_code(0);
    let replaced = profile(&env, "team-search").expect("replaced");
    assert_ne!(replaced.arn, search.arn);
    assert_eq!(
        replaced.description.as_deref(),
        Some("Search and ranking team")
    );

    // A profile someone else made (no stack tag) is left alone by everything below.
    let foreign_arn = env.block_on(async {
        bedrock_monitor::aws::emulator_clients(&env.proxy.url(), crate::support::env::REGION)
            .bedrock
            .create_inference_profile()
            .inference_profile_name("someone-elses")
            .model_source(
                aws_sdk_bedrock::types::InferenceProfileModelSource::CopyFrom(
                    "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0".into(),
                ),
            )
            .send()
            .await
            .expect("create a foreign profile")
            .inference_profile_arn()
            .to_string()
    });

    // Dropped from the config: deleted, because it carries the stack tag.
    let only_chat = PROFILES
        .split("[[inference_profiles]]")
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .join("[[inference_profiles]]");
    env.write_config(&only_chat);
    let plan = env.run(&["plan", "-o", "json"]);
    let entry = component(&plan.json(), "resources", "inference-profiles").clone();
    assert!(
        entry["notes"].to_string().contains("no longer names it"),
        "{entry:#}"
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(profile(&env, "team-search").is_none());
    assert!(profile(&env, "team-chat").is_some());

    // --keep leaves them; cleanup then deletes the stack's profiles only.
    let run = env.run(&[
        "cleanup",
        "--yes",
        "--keep",
        "inference-profiles",
        "-o",
        "json",
    ]);
    run.assert_code(0);
    assert_eq!(
        component(&run.json(), "resources", "inference-profiles")["action"],
        "kept"
    );
    assert!(profile(&env, "team-chat").is_some());
    env.run(&["cleanup", "--yes"]).assert_code(0);
    let left: Vec<String> = env
        .standin
        .inference_profiles()
        .into_iter()
        .map(|p| p.arn)
        .collect();
    assert_eq!(left, vec![foreign_arn]);
}

#[test]
fn bad_profile_input_is_refused_before_any_call() {
    let env = TestEnv::new();
    env.write_config(
        "[[inference_profiles]]\nname = \"team, search\"\nmodel = \"arn:aws:bedrock:us-east-1::foundation-model/x\"\ndescription = \"Search (v2)\"\n\n[alarms.x]\nmetric = \"Invocations\"\nstatistic = \"Sum\"\ncomparison = \"GreaterThanThreshold\"\nthreshold = 1\ninference_profile = \"nope\"\n",
    );
    env.proxy.clear();
    let run = env.run(&["validate"]);
    run.assert_code(3);
    for field in [
        "inference_profiles[0].name",
        "inference_profiles[0].model",
        "inference_profiles[0].description",
        "alarms.x.inference_profile",
    ] {
        assert!(
            run.stderr.contains(field),
            "{field} not named:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("bedrock-monitor.toml:"),
        "{}",
        run.stderr
    );
    let plan = env.run(&["plan"]);
    plan.assert_code(3);
    assert!(env.proxy.calls().is_empty(), "{:?}", env.proxy.calls());
}

#[test]
fn cost_allocation_keys_activate_once_billed_and_cleanup_leaves_them() {
    let env = TestEnv::new();
    env.write_config(
        "[stack.tags]\nTeam = \"platform\"\nCostCenter = \"1234\"\n\n[cost_allocation]\n",
    );
    // AWS has seen Team on billed usage, not CostCenter yet.
    env.standin.tag_keys_seen_in_billing(&["Team"]);
    let run = env.run(&["apply", "--yes"]);
    run.assert_code(0);
    assert!(run.stdout.contains("pending"), "{}", run.stdout);
    assert_eq!(env.standin.active_cost_allocation_tags(), vec!["Team"]);

    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    let status = env.run(&["status", "-o", "json"]);
    let c = component(&status.json(), "components", "cost-allocation-tags").clone();
    assert!(c["health"].to_string().contains("pending"), "{c:#}");

    // A day later CostCenter is on the bill: the next apply activates it.
    env.standin.tag_keys_seen_in_billing(&["CostCenter"]);
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(
        env.standin.active_cost_allocation_tags(),
        vec!["CostCenter", "Team"]
    );

    let run = env.run(&["cleanup", "--yes", "-o", "json"]);
    run.assert_code(0);
    let c = component(&run.json(), "resources", "cost-allocation-tags").clone();
    assert_eq!(c["action"], "kept", "{c:#}");
    assert_eq!(
        env.standin.active_cost_allocation_tags(),
        vec!["CostCenter", "Team"]
    );
}

/// Organizations, DescribeOrganization: a member account sees the organization with another
/// account as its management account. (moto makes the caller of CreateOrganization the
/// management account, so the answer is set here.)
fn as_member_account(env: &TestEnv) {
    env.proxy.add_rule(Arc::new(AnswerWith(|r: &crate::support::proxy::StrictRequest| {
        (r.operation == "DescribeOrganization").then(|| {
            let mut reply = Reply::error(Protocol::Json, 200, "", "");
            reply.body = json!({"Organization": {
                "Id": "o-exampleorgid",
                "Arn": "arn:aws:organizations::999999999999:organization/o-exampleorgid",
                "MasterAccountId": "999999999999",
                "MasterAccountArn": "arn:aws:organizations::999999999999:account/o-exampleorgid/999999999999",
                "MasterAccountEmail": "payer@example.com",
                "FeatureSet": "ALL",
            }})
            .to_string()
            .into();
            reply
        })
    })));
}

#[test]
fn payer_only_components_say_so_in_a_member_account_and_block_nothing_else() {
    let env = TestEnv::new();
    as_member_account(&env);
    env.write_config("[stack.tags]\nTeam = \"platform\"\n\n[cost_allocation]\n");
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    let doc = run.json();
    let c = component(&doc, "resources", "cost-allocation-tags");
    let error = c["error"].to_string();
    assert!(error.contains("management account (999999999999)"), "{c:#}");
    assert!(error.contains("[cost_allocation]"), "{c:#}");
    for other in [
        "role",
        "bucket",
        "log-group",
        "logging",
        "dashboard",
        "topic",
        "alarms",
        "budgets",
    ] {
        let r = component(&doc, "resources", other);
        assert_eq!(r["action"], "created", "{r:#}");
    }
    // No cost-allocation call was made from the member account.
    assert!(
        !env.proxy.calls().iter().any(|c| c.service == "ce"),
        "{:?}",
        env.proxy.calls()
    );
}

#[test]
fn the_cur_export_converges_into_its_own_bucket_without_drift_from_what_aws_adds() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    let exports = env.standin.exports();
    assert_eq!(exports.len(), 1, "{exports:#?}");
    let export = &exports[0];
    assert_eq!(export.name, "bedrock-monitor-bedrock-cur");
    let table = &export.table_configurations["COST_AND_USAGE_REPORT"];
    assert_eq!(table["INCLUDE_IAM_PRINCIPAL_DATA"], "TRUE");
    assert_eq!(table["INCLUDE_RESOURCES"], "TRUE");
    assert_eq!(table["TIME_GRANULARITY"], "DAILY");
    assert!(
        export.query.contains("line_item_iam_principal"),
        "{}",
        export.query
    );
    assert_eq!(
        export.destination["S3Destination"]["S3Bucket"],
        "bedrock-cur-123456789012"
    );
    assert_eq!(
        export.destination["S3Destination"]["S3OutputConfigurations"]["Overwrite"],
        "OVERWRITE_REPORT"
    );
    assert_eq!(
        export.tags.get("bedrock-monitor:stack").map(String::as_str),
        Some("bedrock-monitor")
    );
    let doc = run.json();
    let ids = &component(&doc, "resources", "cur-export")["ids"];
    assert_eq!(ids["export"], json!(export.arn));

    // Its bucket, not the log bucket: versioned, closed, with Data Exports' policy.
    let policy = env.block_on(async {
        env.aws
            .s3
            .get_bucket_policy()
            .bucket("bedrock-cur-123456789012")
            .send()
            .await
            .expect("CUR bucket policy")
            .policy()
            .unwrap_or_default()
            .to_string()
    });
    assert!(
        policy.contains("bcm-data-exports.amazonaws.com"),
        "{policy}"
    );
    assert!(policy.contains("billingreports.amazonaws.com"), "{policy}");
    assert!(policy.contains("aws:SourceArn"), "{policy}");

    // GetExport adds BILLING_VIEW_ARN: not drift, no write.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(0);

    // Edited in the console: drift, repaired by one UpdateExport.
    assert!(
        env.standin
            .set_export_description("bedrock-monitor-bedrock-cur", Some("edited"))
    );
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["bcm-data-exports:UpdateExport"]);

    // Switched off: the export goes, the data stays.
    env.write_config("[cur_export]\nenabled = false\n");
    let plan = env.run(&["plan", "-o", "json"]);
    assert_eq!(
        component(&plan.json(), "resources", "cur-export")["action"],
        "delete"
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.standin.exports().is_empty());
    env.write_config("[cur_export]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.standin.exports().len(), 1);

    // cleanup deletes the export and keeps the data unless asked.
    let run = env.run(&["cleanup", "--yes"]);
    run.assert_code(0);
    assert!(env.standin.exports().is_empty());
    assert!(run.stdout.contains("--purge-data"), "{}", run.stdout);
    let buckets = |env: &TestEnv| {
        env.block_on(async {
            env.aws
                .s3
                .list_buckets()
                .send()
                .await
                .expect("buckets")
                .buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_string))
                .collect::<Vec<_>>()
        })
    };
    assert!(buckets(&env).contains(&"bedrock-cur-123456789012".to_string()));
    env.run(&["cleanup", "--yes", "--purge-data"])
        .assert_code(0);
    assert!(!buckets(&env).contains(&"bedrock-cur-123456789012".to_string()));
}

#[test]
fn report_names_profile_rows_and_prices_them_by_their_model() {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let env = TestEnv::new();
    env.write_config(
        "[[inference_profiles]]\nname = \"team-search\"\nmodel = \"anthropic.claude-3-5-haiku-20241022-v1:0\"\n",
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    let id = profile(&env, "team-search").expect("profile").id;
    // CloudWatch's ModelId for calls through an application profile is the profile's ID.
    let at = aws_smithy_types::DateTime::from_secs(chrono::Utc::now().timestamp() - 1800);
    let datum = |metric: &str, value: f64| {
        MetricDatum::builder()
            .metric_name(metric)
            .dimensions(Dimension::builder().name("ModelId").value(&id).build())
            .timestamp(at)
            .value(value)
            .build()
    };
    env.block_on(async {
        env.aws
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/Bedrock")
            .metric_data(datum("Invocations", 10.0))
            .metric_data(datum("InputTokenCount", 100_000.0))
            .metric_data(datum("OutputTokenCount", 20_000.0))
            .send()
            .await
            .expect("put metric data")
    });

    env.proxy.clear();
    let run = env.run(&["report", "--hours", "6", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    let row = doc["models"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["model_id"] == json!(id)))
        .unwrap_or_else(|| panic!("no row for the profile: {doc:#}"));
    assert_eq!(row["profile"]["name"], "team-search", "{row:#}");
    assert_eq!(
        row["profile"]["model"],
        "anthropic.claude-3-5-haiku-20241022-v1:0"
    );
    assert!(row["cost_usd"].as_f64().is_some_and(|c| c > 0.0), "{row:#}");
    // One call resolves every profile.
    let lists = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "ListInferenceProfiles")
        .count();
    assert_eq!(lists, 1);

    let text = env.run(&["report", "--hours", "6"]);
    assert!(
        text.stdout
            .contains("team-search (profile → anthropic.claude-3-5-haiku"),
        "{}",
        text.stdout
    );
    let csv = env.run(&["report", "--hours", "6", "-o", "csv"]);
    assert!(
        csv.stdout
            .lines()
            .next()
            .is_some_and(|h| h.ends_with("profile_name,profile_model")),
        "{}",
        csv.stdout
    );
    assert!(
        csv.stdout
            .contains("team-search,anthropic.claude-3-5-haiku"),
        "{}",
        csv.stdout
    );
}

const ANOMALY: &str = "[anomaly_detection]\nthreshold_usd = 100\nthreshold_percent = 20\n";

#[test]
fn anomaly_detection_watches_bedrock_spend_through_a_cost_category() {
    let env = TestEnv::new();
    let existing = env
        .standin
        .add_dimensional_service_monitor("Default-Services-Monitor");
    env.write_config(ANOMALY);
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let entry = component(&plan.json(), "resources", "anomaly-detection").clone();
    assert_eq!(entry["action"], "create", "{entry:#}");
    assert!(
        entry["notes"]
            .to_string()
            .contains("Default-Services-Monitor (SERVICE)"),
        "{entry:#}"
    );
    env.run(&["apply", "--yes"]).assert_code(0);

    // The category: the tool's definition of Bedrock spend as Cost Category rules.
    let categories = env.standin.cost_categories();
    assert_eq!(categories.len(), 1, "{categories:#?}");
    let category = &categories[0];
    assert_eq!(category.name, "bedrock-monitor-bedrock-spend");
    let rules = category.rules.to_string();
    assert!(
        rules.contains("SERVICE_CODE") && rules.contains("AmazonBedrock"),
        "{rules}"
    );
    assert!(rules.contains("-MP:"), "{rules}");
    // The monitor: CUSTOM on the category's Bedrock value; the existing dimensional monitor
    // is left as it was, and no second one is made.
    let monitors = env.standin.anomaly_monitors();
    assert_eq!(monitors.len(), 2, "{monitors:#?}");
    assert!(monitors.iter().any(|m| m.arn == existing));
    let ours = monitors
        .iter()
        .find(|m| m.name == "bedrock-monitor-bedrock-spend")
        .expect("our monitor");
    assert_eq!(ours.monitor_type, "CUSTOM");
    let spec = ours.specification.clone().unwrap_or_default().to_string();
    assert!(
        spec.contains("CostCategories") && spec.contains("bedrock-monitor-bedrock-spend"),
        "{spec}"
    );
    // The subscription: immediate alerts to the topic at both thresholds.
    let subscriptions = env.standin.anomaly_subscriptions();
    assert_eq!(subscriptions.len(), 1);
    let sub = &subscriptions[0];
    assert_eq!(sub.frequency, "IMMEDIATE");
    assert_eq!(sub.monitor_arns, vec![ours.arn.clone()]);
    assert_eq!(sub.subscribers.len(), 1);
    assert_eq!(sub.subscribers[0].subscriber_type, "SNS");
    assert!(
        sub.subscribers[0]
            .address
            .ends_with(":bedrock-usage-alerts")
    );
    let threshold = sub.threshold_expression.to_string();
    assert!(
        threshold.contains("ANOMALY_TOTAL_IMPACT_ABSOLUTE")
            && threshold.contains("ANOMALY_TOTAL_IMPACT_PERCENTAGE")
            && threshold.contains("And"),
        "{threshold}"
    );
    // The topic lets Cost Anomaly Detection publish.
    let policy = env.block_on(async {
        let topic = &sub.subscribers[0].address;
        env.aws
            .sns
            .get_topic_attributes()
            .topic_arn(topic)
            .send()
            .await
            .expect("topic attributes")
            .attributes()
            .and_then(|a| a.get("Policy").cloned())
            .unwrap_or_default()
    });
    assert!(policy.contains("costalerts.amazonaws.com"), "{policy}");

    // Converged: no writes; status in sync.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);

    // The category's rules edited in the console: drift, repaired.
    assert!(env.standin.set_cost_category_rules(
        "bedrock-monitor-bedrock-spend",
        json!([{"Value": "Bedrock", "Rule": {"Dimensions": {"Key": "SERVICE_CODE", "Values": ["AmazonEC2"], "MatchOptions": ["EQUALS"]}}}]),
    ));
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    let c = component(&status.json(), "components", "anomaly-detection").clone();
    assert!(
        c["drift"].to_string().contains("cost_category.rules"),
        "{c:#}"
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["ce:UpdateCostCategoryDefinition"]);

    // Daily digests go to the emails instead.
    env.write_config(&format!(
        "{ANOMALY}frequency = \"DAILY\"\n[alerts]\nemails = [\"ops@example.com\"]\n"
    ));
    env.run(&["apply", "--yes"]).assert_code(0);
    let sub = &env.standin.anomaly_subscriptions()[0];
    assert_eq!(sub.frequency, "DAILY");
    assert_eq!(sub.subscribers[0].subscriber_type, "EMAIL");
    assert_eq!(sub.subscribers[0].address, "ops@example.com");

    // Switched off: what the stack made goes; the account's own monitor stays.
    env.write_config(&format!("{ANOMALY}enabled = false\n"));
    let plan = env.run(&["plan", "-o", "json"]);
    let entry = component(&plan.json(), "resources", "anomaly-detection").clone();
    assert_eq!(entry["action"], "delete", "{entry:#}");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.standin.anomaly_subscriptions().is_empty());
    assert!(env.standin.cost_categories().is_empty());
    let left: Vec<String> = env
        .standin
        .anomaly_monitors()
        .into_iter()
        .map(|m| m.arn)
        .collect();
    assert_eq!(left, vec![existing.clone()]);

    // Back on, then cleanup removes it all again, the dimensional monitor excepted.
    env.write_config(ANOMALY);
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.standin.anomaly_monitors().len(), 2);
    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(env.standin.cost_categories().is_empty());
    assert!(env.standin.anomaly_subscriptions().is_empty());
    let left: Vec<String> = env
        .standin
        .anomaly_monitors()
        .into_iter()
        .map(|m| m.arn)
        .collect();
    assert_eq!(left, vec![existing]);
}

#[test]
fn a_budget_on_a_profile_tag_says_when_the_tag_is_not_activated() {
    let env = TestEnv::new();
    let config = r#"
[[inference_profiles]]
name = "team-search"
model = "anthropic.claude-3-5-haiku-20241022-v1:0"
tags = { Team = "search" }

[[budgets]]
name = "SearchTeamBedrock"
limit_usd = 50
tag_filter = { key = "Team", value = "search" }
"#;
    env.write_config(config);
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let notes = component(&plan.json(), "resources", "budgets")["notes"].to_string();
    assert!(
        notes.contains("tag \\\"Team\\\"") && notes.contains("[cost_allocation]"),
        "{notes}"
    );

    // With [cost_allocation], the profile's tag key is activated by default: no note.
    env.write_config(&format!("{config}\n[cost_allocation]\n"));
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let notes = component(&plan.json(), "resources", "budgets")["notes"].to_string();
    assert!(!notes.contains("cost-allocation tags"), "{notes}");
}

/// A profile copied from a geographic system profile is never planned as `replace` on every
/// apply (issue 21): for each geography prefix, in a region of that geography, apply twice
/// (the second writes nothing; plan and status exit 0), the source recorded in a tag on the
/// profile. A profile made before sources were recorded (no tag) is kept and tagged once,
/// never replaced on a guess about its geography; a changed model is still a replacement.
#[test]
fn profiles_from_every_geography_converge_and_record_their_source() {
    for (model, region) in [
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "us-east-1"),
        ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "eu-west-1"),
        (
            "apac.anthropic.claude-sonnet-4-20250514-v1:0",
            "ap-southeast-1",
        ),
        (
            "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "ap-northeast-1",
        ),
        (
            "au.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "ap-southeast-2",
        ),
        (
            "ca.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "ca-central-1",
        ),
        ("in.anthropic.claude-sonnet-4-5-20250929-v1:0", "ap-south-1"),
        (
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us-east-1",
        ),
    ] {
        let env = TestEnv::new();
        env.write_config(&format!(
            "[bucket]\nname = \"bedrock-logs-{{account_id}}-{{region}}\"\n\n\
             [[inference_profiles]]\nname = \"team\"\nmodel = \"{model}\"\n"
        ));
        let run = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend(["--region", region]);
            env.run(&all)
        };
        run(&["apply", "--yes"]).assert_code(0);
        let created = profile(&env, "team").unwrap_or_else(|| panic!("{model}: not created"));
        assert!(
            created
                .copy_from
                .ends_with(&format!(":inference-profile/{model}")),
            "{model}: {}",
            created.copy_from
        );
        assert_eq!(
            created
                .tags
                .get("bedrock-monitor:source")
                .map(String::as_str),
            Some(model),
            "{model}: source recorded"
        );
        env.proxy.clear();
        run(&["apply", "--yes"]).assert_code(0);
        assert!(
            env.writes().is_empty(),
            "{model}: second apply wrote {:?}",
            env.writes()
        );
        run(&["plan", "--detailed-exitcode"]).assert_code(0);
        run(&["status", "--detailed-exitcode"]).assert_code(0);

        if model.starts_with("apac.") {
            // As the previous release left it: no source tag. APAC routes to me-central-1,
            // which no `ap-` rule covers; the profile is kept and tagged, never replaced.
            assert!(env.standin.untag_profile("team", "bedrock-monitor:source"));
            let plan = run(&["plan", "-o", "json"]);
            let entry = component(&plan.json(), "resources", "inference-profiles").clone();
            assert_eq!(entry["action"], "update", "{entry:#}");
            assert!(
                entry["notes"].to_string().contains("without replacing it"),
                "{entry:#}"
            );
            env.proxy.clear();
            run(&["apply", "--yes"]).assert_code(0);
            assert_eq!(env.writes(), vec!["bedrock:TagResource"]);
            assert_eq!(
                profile(&env, "team").map(|p| p.arn),
                Some(created.arn.clone())
            );
            env.proxy.clear();
            run(&["apply", "--yes"]).assert_code(0);
            assert!(env.writes().is_empty(), "{:?}", env.writes());

            // Another model is a real change, planned once: the new profile records its source.
            let other = "apac.anthropic.claude-3-7-sonnet-20250219-v1:0";
            env.write_config(&format!(
                "[bucket]\nname = \"bedrock-logs-{{account_id}}-{{region}}\"\n\n\
                 [[inference_profiles]]\nname = \"team\"\nmodel = \"{other}\"\n"
            ));
            let plan = run(&["plan", "-o", "json"]);
            let entry = component(&plan.json(), "resources", "inference-profiles").clone();
            assert_eq!(entry["action"], "replace", "{entry:#}");
        }
    }
}

/// The CUR 2.0 export selects the `tags` column, where IAM principal and session tags land
/// (`iamPrincipal/` keys; CUR 2.0 user guide, "Tags column"); an export made by the previous
/// release (without it) converges with one UpdateExport, and a table property AWS adds on its
/// own is not drift (issue 21).
#[test]
fn the_cur_export_keeps_principal_tags_and_ignores_properties_aws_adds() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let name = "bedrock-monitor-bedrock-cur";
    let columns = |env: &TestEnv| -> Vec<String> {
        let exports = env.standin.exports();
        let query = exports.first().map(|e| e.query.clone()).unwrap_or_default();
        let select = query
            .strip_prefix("SELECT ")
            .and_then(|q| q.split(" FROM ").next())
            .unwrap_or_default()
            .to_string();
        select.split(',').map(|c| c.trim().to_string()).collect()
    };
    let created = columns(&env);
    assert!(created.contains(&"tags".to_string()), "{created:?}");
    assert!(created.contains(&"line_item_iam_principal".to_string()));

    // As the previous release made it: the same export without `tags`.
    let previous: Vec<String> = created.iter().filter(|c| *c != "tags").cloned().collect();
    assert!(env.standin.set_export_query(
        name,
        &format!("SELECT {} FROM COST_AND_USAGE_REPORT", previous.join(", "))
    ));
    let plan = env.run(&["plan", "-o", "json"]);
    let entry = component(&plan.json(), "resources", "cur-export").clone();
    assert_eq!(entry["action"], "update", "{entry:#}");
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["bcm-data-exports:UpdateExport"]);
    assert!(columns(&env).contains(&"tags".to_string()));

    // A property AWS adds to the table configuration on its own: not drift, no write.
    assert!(env.standin.set_export_table_property(
        name,
        "INCLUDE_CAPACITY_RESERVATION_DATA",
        "FALSE"
    ));
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

/// Anomaly detection's rules do not drift on match options AWS echoes as defaults (`EQUALS`,
/// `CASE_SENSITIVE`; Cost Explorer Expression reference): after AWS spells them out in the
/// category's rules and the monitor's specification, apply writes nothing and plan and status
/// exit 0 (issue 21).
#[test]
fn anomaly_rules_do_not_drift_on_echoed_default_match_options() {
    let env = TestEnv::new();
    env.write_config(ANOMALY);
    env.run(&["apply", "--yes"]).assert_code(0);
    env.standin.echo_default_match_options();
    let rules = env.standin.cost_categories()[0].rules.to_string();
    assert!(rules.contains("CASE_SENSITIVE"), "{rules}");
    let spec = env.standin.anomaly_monitors()[0]
        .specification
        .clone()
        .unwrap_or_default()
        .to_string();
    assert!(spec.contains("CASE_SENSITIVE"), "{spec}");

    env.run(&["status", "--detailed-exitcode"]).assert_code(0);
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}

/// Data Exports API reference, UpdateExport: "Updates an existing data export by overwriting
/// all export parameters", the data query's table configurations among them. Switching IAM
/// principal data off updates the same export in place, says so in the plan,
/// and converges: no second export, no replace.
#[test]
fn iam_principal_data_changes_in_place_on_the_same_export() {
    let env = TestEnv::new();
    env.write_config("[cur_export]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let arn = env.standin.exports()[0].arn.clone();
    env.write_config("[cur_export]\ninclude_iam_principal = false\n");
    let plan = env.run(&["plan", "-o", "json"]).json();
    let export = component(&plan, "resources", "cur-export");
    assert_eq!(export["action"], "update", "{export:#}");
    assert!(
        export["notes"]
            .to_string()
            .contains("IAM principal data is switched off on the existing export"),
        "{export:#}"
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(
        env.writes(),
        vec!["bcm-data-exports:UpdateExport".to_string()]
    );
    let exports = env.standin.exports();
    assert_eq!(exports.len(), 1, "{exports:#?}");
    assert_eq!(exports[0].arn, arn);
    assert_eq!(
        exports[0].table_configurations["COST_AND_USAGE_REPORT"]["INCLUDE_IAM_PRINCIPAL_DATA"],
        "FALSE"
    );
    assert!(!exports[0].query.contains("line_item_iam_principal"));
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}
