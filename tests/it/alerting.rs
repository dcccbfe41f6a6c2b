//! The alert topic and the alarms against moto: every setting from the emulator's state,
//! actions that are exactly the topic's ARN, subscriptions following the config, custom and
//! disabled alarms, adoption of alarms left by the old scripts, and no writes when converged.
//!
//! moto confirms email subscriptions at once and starts alarms in OK; real AWS keeps
//! subscriptions pending and starts alarms in INSUFFICIENT_DATA. These tests can only see
//! moto's behaviour; the pending path is covered by the topic's notices logic reading
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
    ];
    assert_eq!(found.len(), expected.len(), "{:?}", found.keys());
    for (name, metric, stat, period, evals, threshold) in expected {
        let a = found
            .get(name)
            .unwrap_or_else(|| panic!("alarm {name} missing"));
        assert_eq!(a.namespace(), Some("AWS/Bedrock"), "{name}");
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
        // A new alarm starts in INSUFFICIENT_DATA (the strict proxy shows moto's alarms so) and
        // would send an "OK" email on its first evaluation: no OK action yet.
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

    env.proxy.clear();
    let again = env.run(&["apply", "--yes"]);
    again.assert_code(0);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    let plan = env.run(&["plan"]);
    assert!(
        plan.stdout.contains("OK notifications of") && plan.stdout.contains("INSUFFICIENT_DATA"),
        "the plan says why OK notifications wait: {}",
        plan.stdout
    );
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );

    // Once an alarm has been evaluated (left INSUFFICIENT_DATA), the next apply adds its OK
    // action, and only that: one PutMetricAlarm, no email was due for the first evaluation.
    evaluated_ok(&env, "Bedrock-HighErrorRate");
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), ["monitoring:PutMetricAlarm"]);
    let found = alarms(&env);
    assert_eq!(found["Bedrock-HighErrorRate"].ok_actions(), [TOPIC_ARN]);
    assert!(found["Bedrock-HighLatency"].ok_actions().is_empty());
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());

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
         comparison = \"GreaterThanThreshold\"\nthreshold = 20000\n",
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

    // Dropping the custom alarm from the config deletes it: it carries this stack's tag.
    env.write_config("[alarms.throttles]\nenabled = false\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let found = alarms(&env);
    assert!(!found.contains_key("Bedrock-SonnetOutputTokens"));
    assert!(!found.contains_key("Bedrock-slow_p99"));
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

    let plan = env.run(&["plan", "-o", "json"]).json();
    let changes = resource(&plan, "alarms")["changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let error_rate = changes
        .iter()
        .find(|c| c["field"] == "Bedrock-HighErrorRate")
        .expect("the old alarm is updated");
    assert_eq!(error_rate["new"]["alarm_actions"], json!([TOPIC_ARN]));
    assert!(!changes.iter().any(|c| c["field"] == "Bedrock-SomeoneElses"));

    env.run(&["apply", "--yes"]).assert_code(0);
    let found = alarms(&env);
    assert_eq!(found["Bedrock-HighErrorRate"].alarm_actions(), [TOPIC_ARN]);
    assert_eq!(found["Bedrock-HighErrorRate"].ok_actions(), [TOPIC_ARN]);
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
