//! What AWS rejects or does that moto does not, end to end: each test runs the binary behind
//! the strict-AWS rules (`tests/support/strict.rs`, installed by `TestEnv`) and shows the tool
//! doing what AWS accepts. Where a rule could pass without firing, a first check sends the
//! offending request straight through the proxy and sees the rule refuse it, so the test would
//! fail if the tool still sent it.

use std::sync::Arc;

use aws_sdk_s3::types::{
    BucketVersioningStatus, PublicAccessBlockConfiguration, VersioningConfiguration,
};
use bedrock_monitor::aws::emulator_clients;

use crate::support::env::{ACCOUNT, BUCKET, REGION, TestEnv, resource};
use crate::support::proxy::{AnswerWith, Protocol, Reply};

/// S3 "Error responses" (OperationAborted, 409): two configuration writes on one bucket at
/// once conflict. The rule fires on concurrent writes; a fresh apply, which writes the
/// bucket's settings one after another, meets none.
#[test]
fn bucket_settings_never_conflict_with_each_other() {
    let env = TestEnv::new();
    // The rule is real: two concurrent writes through the proxy, one 409.
    let through_proxy = emulator_clients(&env.proxy.url(), REGION);
    env.block_on(
        through_proxy
            .s3
            .create_bucket()
            .bucket("conflict-probe")
            .send(),
    )
    .expect("probe bucket");
    let (a, b) = env.block_on(async {
        tokio::join!(
            through_proxy
                .s3
                .put_bucket_versioning()
                .bucket("conflict-probe")
                .expected_bucket_owner(ACCOUNT)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send(),
            through_proxy
                .s3
                .put_public_access_block()
                .bucket("conflict-probe")
                .expected_bucket_owner(ACCOUNT)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .build(),
                )
                .send(),
        )
    });
    assert!(
        a.is_err() || b.is_err(),
        "concurrent configuration writes must conflict behind the strict proxy"
    );
    assert_eq!(env.strict.s3_conflicts.conflicts().len(), 1);

    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(
        env.strict.s3_conflicts.conflicts().len(),
        1,
        "the tool's bucket writes conflicted: {:?}",
        env.strict.s3_conflicts.conflicts()
    );
    let bucket_writes: Vec<String> = env
        .writes()
        .into_iter()
        .filter(|w| w.starts_with("s3:Put"))
        .collect();
    assert_eq!(bucket_writes.len(), 6, "{bucket_writes:?}");
}

/// AWS Budgets: at most 10 email subscribers per notification. Twelve addresses reach budget
/// alerts through the topic (one SNS subscriber), so the budget is created; each address is
/// subscribed to the topic once.
#[test]
fn twelve_emails_get_budget_alerts_through_the_topic() {
    let env = TestEnv::new();
    let emails: Vec<String> = (1..=12)
        .map(|i| format!("\"ops{i}@example.com\""))
        .collect();
    env.write_config(&format!("[alerts]\nemails = [{}]\n", emails.join(", ")));
    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(0);
    assert_eq!(resource(&run.json(), "budgets")["action"], "created");
    let budget = env
        .block_on(
            env.aws
                .budgets
                .describe_budget()
                .account_id(ACCOUNT)
                .budget_name("BedrockUsageBudget")
                .send(),
        )
        .expect("budget exists");
    assert!(budget.budget().is_some());
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:bedrock-usage-alerts");
    let subs = env
        .block_on(
            env.aws
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(&topic)
                .send(),
        )
        .expect("subscriptions");
    assert_eq!(
        subs.subscriptions()
            .iter()
            .filter(|s| s.protocol() == Some("email"))
            .count(),
        12
    );
}

/// AWS Budgets has no forecasted alerts for DAILY budgets: a daily budget without explicit
/// notifications gets 80 % and 100 % ACTUAL, and is created.
#[test]
fn a_daily_budget_gets_actual_notifications_only() {
    let env = TestEnv::new();
    env.write_config("[[budgets]]\nname = \"daily\"\nlimit_usd = 5\ntime_unit = \"DAILY\"\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let notifications = env
        .block_on(
            env.aws
                .budgets
                .describe_notifications_for_budget()
                .account_id(ACCOUNT)
                .budget_name("daily")
                .send(),
        )
        .expect("notifications");
    let mut found: Vec<(String, f64)> = notifications
        .notifications()
        .iter()
        .map(|n| (n.notification_type().as_str().to_string(), n.threshold()))
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(found, [("ACTUAL".into(), 80.0), ("ACTUAL".into(), 100.0)]);
}

/// The strict rules themselves: PutMetricAlarm beyond a day at 5 minutes, and a FORECASTED
/// notification on a DAILY budget, are refused as AWS refuses them.
#[test]
fn the_strict_proxy_refuses_what_aws_refuses() {
    let env = TestEnv::new();
    let through_proxy = emulator_clients(&env.proxy.url(), REGION);
    let alarm = env.block_on(
        through_proxy
            .cloudwatch
            .put_metric_alarm()
            .alarm_name("too-long")
            .namespace("AWS/Bedrock")
            .metric_name("InvocationLatency")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
            .period(300)
            .evaluation_periods(300)
            .threshold(1.0)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
            )
            .send(),
    );
    let e = alarm.expect_err("300 × 300 s is more than a day");
    let text = format!(
        "{}",
        aws_smithy_types::error::display::DisplayErrorContext(&e)
    );
    assert!(text.contains("more than a day"), "{text}");

    use aws_sdk_budgets::types::{
        Budget, BudgetType, ComparisonOperator, Notification, NotificationType,
        NotificationWithSubscribers, Spend, Subscriber, SubscriptionType, TimeUnit,
    };
    let daily = env.block_on(
        through_proxy
            .budgets
            .create_budget()
            .account_id(ACCOUNT)
            .budget(
                Budget::builder()
                    .budget_name("daily-forecast")
                    .budget_type(BudgetType::Cost)
                    .time_unit(TimeUnit::Daily)
                    .budget_limit(
                        Spend::builder()
                            .amount("5")
                            .unit("USD")
                            .build()
                            .expect("spend"),
                    )
                    .build()
                    .expect("budget"),
            )
            .notifications_with_subscribers(
                NotificationWithSubscribers::builder()
                    .notification(
                        Notification::builder()
                            .notification_type(NotificationType::Forecasted)
                            .comparison_operator(ComparisonOperator::GreaterThan)
                            .threshold(100.0)
                            .build()
                            .expect("notification"),
                    )
                    .subscribers(
                        Subscriber::builder()
                            .subscription_type(SubscriptionType::Email)
                            .address("ops@example.com")
                            .build()
                            .expect("subscriber"),
                    )
                    .build()
                    .expect("with subscribers"),
            )
            .send(),
    );
    assert!(
        daily.is_err(),
        "a FORECASTED alert on a DAILY budget is refused"
    );
}

/// HeadBucket asked of the wrong region may answer 400 with no region header: the tool still
/// finds the bucket's region (GetBucketLocation) and says why it refuses it.
#[test]
fn a_bucket_in_another_region_is_named_even_when_head_bucket_says_400() {
    let env = TestEnv::new();
    env.bucket_in_us_west_2();
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let heads: Vec<Option<u16>> = env
        .proxy
        .calls()
        .into_iter()
        .filter(|c| c.operation == "HeadBucket")
        .map(|c| c.status)
        .collect();
    assert_eq!(heads, [Some(400)], "the strict proxy answered 400");
    let doc = plan.json();
    let bucket = resource(&doc, "bucket");
    let notes = bucket["notes"].to_string();
    assert!(
        notes.contains(&format!("bucket {BUCKET} exists in us-west-2")),
        "{bucket:#}"
    );
}

/// An answer the SDK cannot parse is reported as such, with the parser's reason, not as
/// "HTTP 200: unhandled error".
#[test]
fn an_unreadable_answer_says_so() {
    let env = TestEnv::new();
    env.proxy.add_rule(Arc::new(AnswerWith(
        |request: &crate::support::proxy::StrictRequest| {
            (request.operation == "DescribeAlarms").then(|| {
                let mut reply = Reply::error(Protocol::Query, 200, "", "");
                // What a captive portal or a misconfigured endpoint sends back.
                reply.body = bytes::Bytes::from_static(b"<html><body>Please sign in</body></html>");
                reply
            })
        },
    )));
    let run = env.run(&["status"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("could not read AWS's answer to cloudwatch:DescribeAlarms")
            || run
                .stderr
                .contains("could not read AWS's answer to cloudwatch:DescribeAlarms"),
        "{run:?}"
    );
    assert!(!run.stdout.contains("unhandled error"), "{}", run.stdout);
}

/// CloudWatch Logs and Bedrock encrypt with a KMS key only if its key policy lets them (the
/// CloudWatch Logs user guide's "Encrypt log data ... using AWS KMS", Bedrock's "Set up an
/// Amazon S3 destination"). The key is not the stack's: plan reads its policy and shows the
/// statement to add; once added, the notes go away. The role may use the bucket's key for
/// large bodies.
#[test]
fn plan_says_what_a_kms_key_policy_lacks() {
    let env = TestEnv::new();
    let key = env
        .block_on(env.aws.kms.create_key().description("logs key").send())
        .expect("key");
    let arn = key
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("key arn")
        .to_string();
    env.write_config(&format!(
        "[log_group]\nkms_key_arn = \"{arn}\"\n[bucket]\nkms_key_arn = \"{arn}\"\n"
    ));
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let doc = plan.json();
    let log_notes = resource(&doc, "log-group")["notes"].to_string();
    assert!(
        log_notes.contains("does not allow logs.us-east-1.amazonaws.com")
            && log_notes.contains("add this statement"),
        "{log_notes}"
    );
    // The statement to add is narrowed to this log group (its encryption context).
    assert!(
        log_notes.contains("kms:EncryptionContext:aws:logs:arn")
            && log_notes.contains("log-group:/aws/bedrock/modelinvocations"),
        "{log_notes}"
    );
    let bucket_notes = resource(&doc, "bucket")["notes"].to_string();
    assert!(
        bucket_notes.contains("does not allow bedrock.amazonaws.com")
            && bucket_notes.contains("kms:GenerateDataKey"),
        "{bucket_notes}"
    );
    // ... and Bedrock's to this account's invocation logging.
    assert!(
        bucket_notes.contains("aws:SourceAccount") && bucket_notes.contains("aws:SourceArn"),
        "{bucket_notes}"
    );
    let role = resource(&doc, "role").to_string();
    assert!(role.contains("EncryptLargeInvocationPayloads"), "{role}");

    // Add what the notes asked for: no note any more.
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": format!("logs.{REGION}.amazonaws.com")},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*"},
        {"Sid": "Bedrock", "Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"},
         "Action": "kms:GenerateDataKey", "Resource": "*"},
    ]});
    env.block_on(
        env.aws
            .kms
            .put_key_policy()
            .key_id(&arn)
            .policy_name("default")
            .policy(policy.to_string())
            .send(),
    )
    .expect("key policy");
    let doc = env.run(&["plan", "-o", "json"]).json();
    for id in ["log-group", "bucket"] {
        let notes = resource(&doc, id)["notes"].to_string();
        assert!(!notes.contains("kms"), "{id}: {notes}");
    }
    // status says the same as a health fact.
    env.run(&["apply", "--yes"]).assert_code(0);
    let status = env.run(&["status", "-o", "json"]).json();
    let text = status.to_string();
    assert!(text.contains(&format!("KMS key {arn}")), "{text}");
}

/// Budgets API reference, DescribeBudget: `FilterExpression` is in the answer only when
/// `ShowFilterExpression` is true. Behind the rule that answers so (moto always returns it),
/// the rule is seen to hide the filter from a read without the flag, and a second apply of a
/// stack with a budget writes nothing: the tool asks for the filter it compares. The budget
/// is created with `Metrics` (unblended cost) beside its filter.
#[test]
fn budgets_settle_when_aws_shows_the_filter_only_on_request() {
    let env = TestEnv::new();
    env.write_config("[alerts]\nemails = [\"ops@example.com\"]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let through_proxy = emulator_clients(&env.proxy.url(), REGION);
    let describe = |show: Option<bool>| {
        env.block_on(
            through_proxy
                .budgets
                .describe_budget()
                .account_id(ACCOUNT)
                .budget_name("BedrockUsageBudget")
                .set_show_filter_expression(show)
                .send(),
        )
        .expect("budget")
        .budget()
        .cloned()
        .expect("budget")
    };
    assert!(describe(None).filter_expression().is_none());
    assert!(describe(Some(false)).filter_expression().is_none());
    let shown = describe(Some(true));
    assert!(shown.filter_expression().is_some());
    assert_eq!(
        shown.metrics(),
        [aws_sdk_budgets::types::Metric::UnblendedCost]
    );

    env.proxy.clear();
    let second = env.run(&["apply", "--yes", "-o", "json"]);
    second.assert_code(0);
    assert_eq!(env.writes(), Vec::<String>::new());
    assert_eq!(resource(&second.json(), "budgets")["action"], "unchanged");
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

/// `[alerts] kms_key_arn`: the topic is encrypted with the key (its KmsMasterKeyId attribute,
/// read back from moto), `plan` names each publisher the key policy does not let in (alarms,
/// budgets) until the statements `permissions --key-policies` prints are added, and a second
/// apply writes nothing.
#[test]
fn the_alert_topic_can_be_encrypted_with_a_customer_managed_key() {
    let env = TestEnv::new();
    let arn = env
        .block_on(env.aws.kms.create_key().description("topic key").send())
        .expect("key")
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("key arn")
        .to_string();
    env.write_config(&format!("[alerts]\nkms_key_arn = \"{arn}\"\n"));
    let doc = env.run(&["plan", "-o", "json"]).json();
    let notes = resource(&doc, "topic")["notes"].to_string();
    for publisher in ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"] {
        assert!(notes.contains(publisher), "{publisher}: {notes}");
    }
    // The key-policy statements, from `permissions --key-policies`, added to the key.
    let printed = env.run(&["permissions", "--key-policies"]);
    printed.assert_code(0);
    let printed = printed.json();
    let mut statements = vec![serde_json::json!(
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}
    )];
    statements.extend(
        printed[&arn]["Statement"]
            .as_array()
            .expect("statements for the key")
            .iter()
            .cloned(),
    );
    for s in &statements[1..] {
        assert_eq!(
            s["Condition"]["StringEquals"]["kms:EncryptionContext:aws:sns:topicArn"],
            format!("arn:aws:sns:{REGION}:{ACCOUNT}:bedrock-usage-alerts"),
            "{s}"
        );
    }
    env.block_on(
        env.aws
            .kms
            .put_key_policy()
            .key_id(&arn)
            .policy_name("default")
            .policy(
                serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
            )
            .send(),
    )
    .expect("key policy");
    let doc = env.run(&["plan", "-o", "json"]).json();
    let notes = resource(&doc, "topic")["notes"].to_string();
    assert!(!notes.contains("kms"), "{notes}");

    env.run(&["apply", "--yes"]).assert_code(0);
    let attributes = env.block_on(async {
        env.aws
            .sns
            .get_topic_attributes()
            .topic_arn(format!(
                "arn:aws:sns:{REGION}:{ACCOUNT}:bedrock-usage-alerts"
            ))
            .send()
            .await
            .expect("topic attributes")
            .attributes()
            .cloned()
            .unwrap_or_default()
    });
    assert_eq!(attributes.get("KmsMasterKeyId"), Some(&arn));
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Dropping the key from the config turns encryption off, in one write.
    env.write_config("");
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["sns:SetTopicAttributes"]);
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

/// A request as the rule sees it: S3, path-style, signed with `key`, naming `owner`.
fn s3_request(
    operation: &str,
    method: &str,
    path: &str,
    key: &str,
    owner: Option<&str>,
) -> crate::support::proxy::StrictRequest {
    let mut headers = http::HeaderMap::new();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
    );
    headers.insert("authorization", auth.parse().expect("header"));
    if let Some(owner) = owner {
        headers.insert(
            "x-amz-expected-bucket-owner",
            owner.parse().expect("header"),
        );
    }
    crate::support::proxy::StrictRequest {
        service: "s3".into(),
        operation: operation.into(),
        method: method.into(),
        path: path.into(),
        headers,
        body: bytes::Bytes::new(),
        protocol: Protocol::S3,
    }
}

/// Amazon S3 API reference: a request whose `x-amz-expected-bucket-owner` names another
/// account than the bucket's owner fails with 403 Forbidden (AccessDenied). The rule knows a
/// bucket's owner from who created it, and records calls that could have named it and did not.
#[test]
fn the_expected_bucket_owner_rule_refuses_another_account() {
    use crate::support::proxy::{Reply, StrictRule, Verdict};
    use crate::support::strict::ExpectedBucketOwner;
    let rule = ExpectedBucketOwner::default();
    let ok = Reply::empty(200);
    // Account 111111111111's credentials, as AssumeRole handed them out.
    let assume = crate::support::proxy::StrictRequest {
        service: "sts".into(),
        operation: "AssumeRole".into(),
        ..s3_request("AssumeRole", "POST", "/", "AKIDDEFAULT", None)
    };
    let answer = Reply {
        body: bytes::Bytes::from(
            "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAOTHER</AccessKeyId></Credentials>\
             <AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/R/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>",
        ),
        ..Reply::empty(200)
    };
    assert!(rule.rewrite(&assume, &answer).is_none());
    let create = s3_request("CreateBucket", "PUT", "/theirs", "ASIAOTHER", None);
    assert!(matches!(rule.before(&create), Verdict::Forward));
    assert!(rule.rewrite(&create, &ok).is_none());

    // Named right: forwarded. Named wrong: 403 AccessDenied, as S3 answers.
    let right = s3_request(
        "GetBucketTagging",
        "GET",
        "/theirs?tagging",
        "ASIAOTHER",
        Some("111111111111"),
    );
    assert!(matches!(rule.before(&right), Verdict::Forward));
    let wrong = s3_request(
        "GetBucketTagging",
        "GET",
        "/theirs?tagging",
        "AKIDDEFAULT",
        Some(ACCOUNT),
    );
    match rule.before(&wrong) {
        Verdict::Answer(reply) => {
            assert_eq!(reply.status, 403);
            let body = String::from_utf8_lossy(&reply.body);
            assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
        }
        _ => panic!("a wrong owner must be refused"),
    }
    let head = s3_request(
        "HeadBucket",
        "HEAD",
        "/theirs",
        "AKIDDEFAULT",
        Some(ACCOUNT),
    );
    assert!(
        matches!(rule.before(&head), Verdict::Answer(r) if r.status == 403 && r.body.is_empty())
    );
    // A bucket the proxy did not see created is moto's default account's: a read that names
    // another account is refused once moto shows it exists; a write before it is sent.
    let read = s3_request(
        "GetBucketPolicy",
        "GET",
        "/made-by-the-test?policy",
        "ASIAOTHER",
        Some("111111111111"),
    );
    assert!(matches!(rule.before(&read), Verdict::Forward));
    assert!(rule.rewrite(&read, &ok).is_some_and(|r| r.status == 403));
    assert!(rule.rewrite(&read, &Reply::empty(404)).is_none());
    let write = s3_request(
        "PutBucketPolicy",
        "PUT",
        "/made-by-the-test?policy",
        "ASIAOTHER",
        Some("111111111111"),
    );
    assert!(matches!(rule.before(&write), Verdict::Answer(r) if r.status == 403));
    assert_eq!(rule.refused().len(), 4, "{:?}", rule.refused());
    // Without the header: forwarded, and recorded.
    let bare = s3_request(
        "ListObjectVersions",
        "GET",
        "/theirs?versions",
        "ASIAOTHER",
        None,
    );
    assert!(matches!(rule.before(&bare), Verdict::Forward));
    assert_eq!(
        rule.missing(),
        vec!["ListObjectVersions theirs".to_string()]
    );
    rule.clear_missing();
}

/// The rule is installed for every test: through the proxy, a call naming another account
/// than the bucket's owner is refused, and the same call naming the owner is answered.
#[test]
fn through_the_proxy_a_wrong_bucket_owner_is_access_denied() {
    let env = TestEnv::new();
    env.block_on(env.aws.s3.create_bucket().bucket(BUCKET).send())
        .expect("bucket");
    let through_proxy = emulator_clients(&env.proxy.url(), REGION);
    let wrong = env.block_on(
        through_proxy
            .s3
            .list_objects_v2()
            .bucket(BUCKET)
            .expected_bucket_owner("111111111111")
            .send(),
    );
    let e = wrong.expect_err("another owner");
    assert_eq!(
        e.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDenied"),
        "{e:?}"
    );
    env.block_on(
        through_proxy
            .s3
            .list_objects_v2()
            .bucket(BUCKET)
            .expected_bucket_owner(ACCOUNT)
            .send(),
    )
    .expect("the owner");
}
