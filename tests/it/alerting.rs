//! The alert topic and the alarms against moto: every setting from the emulator's state,
//! actions that are exactly the topic's ARN, OK actions following `[alerts] notify_ok` from the
//! first apply, subscriptions following the config, custom and disabled alarms, adoption of
//! alarms left by the old scripts and by the previous release, and no writes when converged.
//!
//! moto confirms email subscriptions at once and starts alarms in OK; real AWS keeps
//! subscriptions pending and starts alarms in INSUFFICIENT_DATA (the strict proxy shows moto's
//! new alarms so). The pending path is covered by the topic's notices logic reading
//! "PendingConfirmation" instead of an ARN.

use std::collections::BTreeMap;

use serde_json::json;

use crate::support::env::{ACCOUNT, REGION, TestEnv, resource, statement};

const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:bedrock-usage-alerts";

fn alarms(env: &TestEnv) -> BTreeMap<String, aws_sdk_cloudwatch::types::MetricAlarm> {
    let out = env
        .block_on(env.aws.cloudwatch.describe_alarms().send())
        .expect("describe alarms");
    out.metric_alarms()
        .iter()
        .map(|a| (a.alarm_name().unwrap_or_default().to_string(), a.clone()))
        .collect()
}

fn emails(env: &TestEnv) -> Vec<String> {
    let subs = env
        .block_on(
            env.aws
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(TOPIC_ARN)
                .send(),
        )
        .expect("subscriptions");
    let mut e: Vec<String> = subs
        .subscriptions()
        .iter()
        .filter(|s| s.protocol() == Some("email"))
        .filter_map(|s| s.endpoint().map(str::to_string))
        .collect();
    e.sort();
    e
}

/// The alarm has been evaluated (as CloudWatch does minutes after creation): OK, no longer
/// INSUFFICIENT_DATA.
fn evaluated_ok(env: &TestEnv, name: &str) {
    env.block_on(
        env.aws
            .cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
            .state_reason(
                "Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold.",
            )
            .send(),
    )
    .unwrap_or_else(|e| panic!("set the state of {name}: {e:?}"));
}

/// Every alarm has been evaluated, as CloudWatch does minutes after an apply.
fn all_evaluated(env: &TestEnv) {
    for name in alarms(env).keys() {
        evaluated_ok(env, name);
    }
}

/// An alarm as the previous release left it once evaluated: the same settings, with the topic
/// as its OK action (that release added it on the first apply after the alarm left
/// INSUFFICIENT_DATA).
fn with_topic_as_ok_action(env: &TestEnv, name: &str) {
    let a = alarms(env)
        .remove(name)
        .unwrap_or_else(|| panic!("alarm {name} missing"));
    let mut put = env
        .aws
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .set_alarm_description(a.alarm_description().map(str::to_string))
        .set_namespace(a.namespace().map(str::to_string))
        .set_metric_name(a.metric_name().map(str::to_string))
        .set_statistic(a.statistic().cloned())
        .set_extended_statistic(a.extended_statistic().map(str::to_string))
        .set_dimensions(Some(a.dimensions().to_vec()))
        .set_period(a.period())
        .set_evaluation_periods(a.evaluation_periods())
        .set_threshold(a.threshold())
        .set_comparison_operator(a.comparison_operator().cloned())
        .set_treat_missing_data(a.treat_missing_data().map(str::to_string))
        .set_actions_enabled(a.actions_enabled())
        .set_alarm_actions(Some(a.alarm_actions().to_vec()));
    put = put.ok_actions(TOPIC_ARN);
    env.block_on(put.send())
        .unwrap_or_else(|e| panic!("re-put {name}: {e:?}"));
}

#[test]
fn topic_and_alarms_have_every_setting_and_converge() {
    let env = TestEnv::new();
    env.write_config(
        "[alerts]\nemails = [\"ops@example.com\", \"oncall@example.com\"]\n\
         [stack.tags]\nProject = \"genai\"\n",
    );
    env.run(&["apply", "--yes"]).assert_code(0);

    // Topic: display name, policy, tags, subscriptions.
    let topics = env
        .block_on(env.aws.sns.list_topics().send())
        .expect("topics");
    let arns: Vec<&str> = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .collect();
    assert_eq!(arns, vec![TOPIC_ARN]);
    let attrs = env
        .block_on(
            env.aws
                .sns
                .get_topic_attributes()
                .topic_arn(TOPIC_ARN)
                .send(),
        )
        .expect("attributes");
    let attrs = attrs.attributes().cloned().unwrap_or_default();
    assert_eq!(
        attrs.get("DisplayName").map(String::as_str),
        Some("Bedrock Usage Alerts")
    );
    let policy: serde_json::Value =
        serde_json::from_str(attrs.get("Policy").expect("policy")).expect("policy JSON");
    for (sid, service) in [
        ("AllowCloudWatchAlarms", "cloudwatch.amazonaws.com"),
        ("AllowBudgetsNotifications", "budgets.amazonaws.com"),
    ] {
        let st = statement(&policy, sid);
        assert_eq!(st["Principal"]["Service"], service);
        assert_eq!(st["Action"], "sns:Publish");
        assert_eq!(st["Resource"], TOPIC_ARN);
        assert_eq!(
            st["Condition"]["StringEquals"]["aws:SourceAccount"],
            ACCOUNT
        );
    }
    let tags = env
        .block_on(
            env.aws
                .sns
                .list_tags_for_resource()
                .resource_arn(TOPIC_ARN)
                .send(),
        )
        .expect("tags");
    let tags: BTreeMap<&str, &str> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags.get("bedrock-monitor:stack"), Some(&"bedrock-monitor"));
    assert_eq!(tags.get("Project"), Some(&"genai"));
    assert_eq!(emails(&env), vec!["oncall@example.com", "ops@example.com"]);

    // Alarms: the four of the old scripts and three more, each pointing at the topic.
    let found = alarms(&env);
    let expected = [
        (
            "Bedrock-HighInputTokenUsage",
            "InputTokenCount",
            "Sum",
            3600,
            1,
            100000.0,
        ),
        (
            "Bedrock-HighErrorRate",
            "InvocationClientErrors",
            "Sum",
            300,
            1,
            10.0,
        ),
        (
            "Bedrock-UnusualInvocationSpike",
            "Invocations",
            "Sum",
            3600,
            1,
            1000.0,
        ),
        (
            "Bedrock-HighLatency",
            "InvocationLatency",
            "Average",
            300,
            2,
            10000.0,
        ),
        (
            "Bedrock-ServerErrors",
            "InvocationServerErrors",
            "Sum",
            300,
            1,
            5.0,
        ),
        (
            "Bedrock-Throttles",
            "InvocationThrottles",
            "Sum",
            300,
            1,
            10.0,
        ),
        (
            "Bedrock-InvocationLogDeliveryFailures",
            "ModelInvocationLogsCloudWatchDeliveryFailure",
            "Sum",
            300,
            1,
            0.0,
        ),
        (
            "Bedrock-InvocationLogS3DeliveryFailures",
            "ModelInvocationLogsS3DeliveryFailure",
            "Sum",
            300,
            1,
            0.0,
        ),
        (
            "Bedrock-InvocationLargeDataDeliveryFailures",
            "ModelInvocationLargeDataS3DeliveryFailure",
            "Sum",
            300,
            1,
            0.0,
        ),
        // The Mantle endpoint's twins, in its own namespace and names.
        (
            "Bedrock-Mantle-HighInputTokenUsage",
            "TotalInputTokens",
            "Sum",
            3600,
            1,
            100000.0,
        ),
        (
            "Bedrock-Mantle-HighErrorRate",
            "InferenceClientErrors",
            "Sum",
            300,
            1,
            10.0,
        ),
        (
            "Bedrock-Mantle-UnusualInferenceSpike",
            "Inferences",
            "Sum",
            3600,
            1,
            1000.0,
        ),
    ];
    assert_eq!(found.len(), expected.len(), "{:?}", found.keys());
    for (name, metric, stat, period, evals, threshold) in expected {
        let a = found
            .get(name)
            .unwrap_or_else(|| panic!("alarm {name} missing"));
        let namespace = if name.starts_with("Bedrock-Mantle-") {
            "AWS/BedrockMantle"
        } else {
            "AWS/Bedrock"
        };
        assert_eq!(a.namespace(), Some(namespace), "{name}");
        assert_eq!(a.metric_name(), Some(metric), "{name}");
        assert_eq!(a.statistic().map(|s| s.as_str()), Some(stat), "{name}");
        assert_eq!(a.period(), Some(period), "{name}");
        assert_eq!(a.evaluation_periods(), Some(evals), "{name}");
        assert_eq!(a.threshold(), Some(threshold), "{name}");
        assert_eq!(
            a.comparison_operator().map(|c| c.as_str()),
            Some("GreaterThanThreshold"),
            "{name}"
        );
        assert_eq!(a.treat_missing_data(), Some("notBreaching"), "{name}");
        assert!(a.dimensions().is_empty(), "{name}: all models");
        assert_eq!(a.alarm_actions(), [TOPIC_ARN], "{name}");
        // [alerts] notify_ok is false by default: no OK action, so no "OK" email at the new
        // alarm's first evaluation.
        assert!(a.ok_actions().is_empty(), "{name}: {:?}", a.ok_actions());
        let tags = env
            .block_on(
                env.aws
                    .cloudwatch
                    .list_tags_for_resource()
                    .resource_arn(a.alarm_arn().unwrap_or_default())
                    .send(),
            )
            .expect("alarm tags");
        assert!(
            tags.tags()
                .iter()
                .any(|t| t.key() == Some("bedrock-monitor:stack")
                    && t.value() == Some("bedrock-monitor")),
            "{name} tagged"
        );
    }

    // CloudWatch evaluates the new alarms minutes later: what apply wants does not depend on
    // it. One apply has converged: a second writes nothing, and plan and status say so.
    all_evaluated(&env);
    env.proxy.clear();
    let again = env.run(&["apply", "--yes"]);
    again.assert_code(0);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);
    let plan = env.run(&["plan"]);
    assert!(
        !plan.stdout.contains("INSUFFICIENT_DATA"),
        "nothing waits for an evaluation: {}",
        plan.stdout
    );

    // Subscriptions follow the config.
    env.write_config(
        "[alerts]\nemails = [\"ops@example.com\", \"finance@example.com\"]\n\
         [stack.tags]\nProject = \"genai\"\n",
    );
    let plan = env.run(&["plan", "-o", "json"]).json();
    let topic = resource(&plan, "topic");
    assert_eq!(topic["action"], "update");
    assert_eq!(topic["changes"][0]["field"], "email_subscriptions");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(emails(&env), vec!["finance@example.com", "ops@example.com"]);
}

#[test]
fn custom_overridden_and_disabled_alarms() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(alarms(&env).contains_key("Bedrock-Throttles"));

    env.write_config(
        "[alarms.throttles]\nenabled = false\n\
         [alarms.high_latency]\nthreshold = 5000\nperiod_seconds = 60\nevaluation_periods = 3\n\
         [alarms.sonnet_output]\nname = \"Bedrock-SonnetOutputTokens\"\nmetric = \"OutputTokenCount\"\n\
         statistic = \"Sum\"\ncomparison = \"GreaterThanOrEqualToThreshold\"\nthreshold = 500000\n\
         period_seconds = 3600\nmodel_id = \"anthropic.claude-3-5-sonnet-20240620-v1:0\"\n\
         [alarms.slow_p99]\nmetric = \"InvocationLatency\"\nstatistic = \"p99\"\n\
         comparison = \"GreaterThanThreshold\"\nthreshold = 20000\n\
         [alarms.opus_mantle_output]\nendpoint = \"mantle\"\nmetric = \"TotalOutputTokens\"\n\
         statistic = \"Sum\"\ncomparison = \"GreaterThanThreshold\"\nthreshold = 200000\n\
         period_seconds = 3600\nmodel_id = \"anthropic.claude-opus-4-7\"\n\
         [alarms.mantle_inference_spike]\nthreshold = 5000\n",
    );
    let plan = env.run(&["plan", "-o", "json"]).json();
    let changes = resource(&plan, "alarms")["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let field = |f: &str| changes.iter().find(|c| c["field"] == f).cloned();
    assert_eq!(
        field("Bedrock-Throttles").expect("deletion")["new"],
        json!(null)
    );
    assert_eq!(
        field("Bedrock-HighLatency").expect("update")["new"]["threshold"],
        json!(5000.0)
    );
    assert!(field("Bedrock-SonnetOutputTokens").is_some());

    env.run(&["apply", "--yes"]).assert_code(0);
    let found = alarms(&env);
    assert!(
        !found.contains_key("Bedrock-Throttles"),
        "disabled alarm deleted"
    );
    let latency = &found["Bedrock-HighLatency"];
    assert_eq!(
        (
            latency.threshold(),
            latency.period(),
            latency.evaluation_periods()
        ),
        (Some(5000.0), Some(60), Some(3))
    );
    let custom = &found["Bedrock-SonnetOutputTokens"];
    assert_eq!(custom.metric_name(), Some("OutputTokenCount"));
    assert_eq!(
        custom.comparison_operator().map(|c| c.as_str()),
        Some("GreaterThanOrEqualToThreshold")
    );
    let dims: Vec<(&str, &str)> = custom
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?, d.value()?)))
        .collect();
    assert_eq!(
        dims,
        vec![("ModelId", "anthropic.claude-3-5-sonnet-20240620-v1:0")]
    );
    assert_eq!(custom.alarm_actions(), [TOPIC_ARN]);
    let p99 = &found["Bedrock-slow_p99"];
    assert_eq!(p99.extended_statistic(), Some("p99"));
    assert!(p99.statistic().is_none());
    // A Mantle alarm on one model: its namespace, and `Model` (not `ModelId`) as the dimension.
    let mantle = &found["Bedrock-opus_mantle_output"];
    assert_eq!(mantle.namespace(), Some("AWS/BedrockMantle"));
    assert_eq!(mantle.metric_name(), Some("TotalOutputTokens"));
    let dims: Vec<(&str, &str)> = mantle
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?, d.value()?)))
        .collect();
    assert_eq!(dims, vec![("Model", "anthropic.claude-opus-4-7")]);
    assert_eq!(
        found["Bedrock-Mantle-UnusualInferenceSpike"].threshold(),
        Some(5000.0)
    );
    // Converged with Mantle alarms in place: nothing more to write.
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Dropping the custom alarm from the config deletes it: it carries this stack's tag.
    env.write_config("[alarms.throttles]\nenabled = false\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let found = alarms(&env);
    assert!(!found.contains_key("Bedrock-SonnetOutputTokens"));
    assert!(!found.contains_key("Bedrock-slow_p99"));
    assert!(!found.contains_key("Bedrock-opus_mantle_output"));
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[test]
fn alarms_left_by_the_old_scripts_are_adopted_and_repaired() {
    let env = TestEnv::new();
    // The old scripts put captured log text into the alarm actions.
    env.block_on(
        env.aws
            .cloudwatch
            .put_metric_alarm()
            .alarm_name("Bedrock-HighErrorRate")
            .namespace("AWS/Bedrock")
            .metric_name("InvocationClientErrors")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(10.0)
            .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
            .alarm_actions("[INFO] Creating SNS topic... arn:aws:sns:us-east-1:123456789012:bedrock-usage-alerts")
            .send(),
    )
    .expect("old alarm");
    // It has been running for a while: evaluated, no longer INSUFFICIENT_DATA.
    evaluated_ok(&env, "Bedrock-HighErrorRate");
    // An alarm nobody tagged, with the prefix but not in the config: not ours to delete.
    env.block_on(
        env.aws
            .cloudwatch
            .put_metric_alarm()
            .alarm_name("Bedrock-SomeoneElses")
            .namespace("AWS/Bedrock")
            .metric_name("Invocations")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
            )
            .send(),
    )
    .expect("foreign alarm");

    // The old scripts' alarm has the configured name but not the stack's tag: the plan shows
    // it as not managed, with what adopting it would change; apply leaves it alone unless
    // told to adopt (the migration is `apply --adopt all`).
    let plan = env.run(&["plan", "-o", "json"]).json();
    let entry = resource(&plan, "alarms");
    assert_eq!(entry["action"], "not-managed", "{entry:#}");
    assert!(
        entry["notes"]
            .to_string()
            .contains("alarm Bedrock-HighErrorRate"),
        "{entry:#}"
    );
    let changes = entry["changes"].as_array().cloned().unwrap_or_default();
    let error_rate = changes
        .iter()
        .find(|c| c["field"] == "Bedrock-HighErrorRate")
        .expect("the old alarm is updated");
    assert_eq!(error_rate["new"]["alarm_actions"], json!([TOPIC_ARN]));
    assert!(!changes.iter().any(|c| c["field"] == "Bedrock-SomeoneElses"));

    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    assert_eq!(resource(&run.json(), "alarms")["action"], "failed");
    assert_ne!(
        alarms(&env)["Bedrock-HighErrorRate"].alarm_actions(),
        [TOPIC_ARN],
        "changed without --adopt"
    );
    env.run(&["apply", "--yes", "--adopt", "alarms"])
        .assert_code(0);
    let found = alarms(&env);
    assert_eq!(found["Bedrock-HighErrorRate"].alarm_actions(), [TOPIC_ARN]);
    // notify_ok is false by default: no OK action, evaluated or not.
    assert!(found["Bedrock-HighErrorRate"].ok_actions().is_empty());
    assert!(
        found.contains_key("Bedrock-SomeoneElses"),
        "untagged alarm left alone"
    );
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    assert_eq!(REGION, "us-east-1");
}

/// Alarms named under `Bedrock-` are found with one prefix query; a custom alarm named
/// otherwise is asked for by name, so it converges and `cleanup` removes it like the others.
#[test]
fn a_custom_alarm_named_outside_the_prefix_is_found_by_name() {
    let env = TestEnv::new();
    env.write_config(
        "[alarms.team_tokens]\nname = \"TeamSearch-OutputTokens\"\nmetric = \"OutputTokenCount\"\n\
         statistic = \"Sum\"\ncomparison = \"GreaterThanThreshold\"\nthreshold = 100000\n",
    );
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(alarms(&env).contains_key("TeamSearch-OutputTokens"));
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    let describes: Vec<String> = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeAlarms")
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(
        describes.len(),
        2,
        "one by prefix, one by name: {describes:?}"
    );

    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(
        !alarms(&env).contains_key("TeamSearch-OutputTokens"),
        "cleanup left the custom alarm"
    );

    // With only built-in alarms, the prefix query alone finds every alarm.
    env.write_config("");
    env.run(&["apply", "--yes"]).assert_code(0);
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    let describes = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeAlarms")
        .count();
    assert_eq!(describes, 1);
}

/// `[alerts] notify_ok = true`: the topic is each alarm's OK action from the first apply (in
/// the emulator's state), the plan says once, in words, that each new alarm sends one "OK"
/// email at its first evaluation, and one apply converges.
#[test]
fn notify_ok_sets_the_ok_action_when_the_alarm_is_created_and_one_apply_converges() {
    let env = TestEnv::new();
    env.write_config("[alerts]\nemails = [\"ops@example.com\"]\nnotify_ok = true\n");
    let plan = env.run(&["plan", "-o", "json"]).json();
    let notes = resource(&plan, "alarms")["notes"].clone();
    let ok_notes: Vec<&str> = notes
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|n| n.as_str())
                .filter(|n| n.contains("\"OK\" email"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ok_notes.len(), 1, "said once: {notes:#}");
    assert!(ok_notes[0].contains("first evaluation"), "{notes:#}");
    let text = env.run(&["plan"]);
    assert_eq!(
        text.stdout.matches("first evaluation").count(),
        1,
        "{}",
        text.stdout
    );

    env.run(&["apply", "--yes"]).assert_code(0);
    let found = alarms(&env);
    assert_eq!(found.len(), 12, "{:?}", found.keys());
    for (name, a) in &found {
        assert_eq!(a.ok_actions(), [TOPIC_ARN], "{name}");
        assert_eq!(a.alarm_actions(), [TOPIC_ARN], "{name}");
    }

    all_evaluated(&env);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);
    let plan = env.run(&["plan"]);
    assert!(
        !plan.stdout.contains("first evaluation"),
        "no new alarm, no note: {}",
        plan.stdout
    );
}

/// Alarms the previous release left (the topic as OK action on the alarms it had seen
/// evaluated, none on the others) converge in one apply with notify_ok off: only those
/// alarms are updated, and the plan names them and why.
#[test]
fn alarms_left_by_the_previous_release_converge_in_one_apply() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    let previous = [
        "Bedrock-HighErrorRate",
        "Bedrock-HighLatency",
        "Bedrock-Throttles",
    ];
    for name in previous {
        with_topic_as_ok_action(&env, name);
        evaluated_ok(&env, name);
    }
    assert_eq!(
        alarms(&env)["Bedrock-HighLatency"].ok_actions(),
        [TOPIC_ARN]
    );

    let plan = env.run(&["plan", "-o", "json"]).json();
    let entry = resource(&plan, "alarms");
    assert_eq!(entry["action"], "update", "{entry:#}");
    let fields: Vec<&str> = entry["changes"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, previous, "{entry:#}");
    let notes = entry["notes"].to_string();
    for name in previous {
        assert!(notes.contains(name), "{name} not named: {notes}");
    }
    assert!(notes.contains("notify_ok"), "{notes}");

    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(
        env.writes(),
        ["monitoring:PutMetricAlarm"; 3],
        "one write per alarm left with an OK action"
    );
    for (name, a) in alarms(&env) {
        assert!(a.ok_actions().is_empty(), "{name}: {:?}", a.ok_actions());
    }
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);
}
