//! The stand-in's anomaly monitors and subscriptions (`anomaly_monitors.rs`,
//! `anomaly_subscriptions.rs` in `tests/support/standin/`), through the real SDK clients as in
//! `tests/it/standin.rs`.

use crate::support::env::{ACCOUNT, REGION, TestEnv};

use super::{code, error, through_proxy};

#[test]
fn standin_anomaly_detection() {
    use aws_sdk_costexplorer::types::{
        AnomalyMonitor, AnomalySubscription, AnomalySubscriptionFrequency, Dimension,
        DimensionValues, Expression, MatchOption, MonitorDimension, MonitorType, ResourceTag,
        Subscriber, SubscriberType,
    };

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let ce = &aws.costexplorer;
    let dimensional = |name: &str| {
        AnomalyMonitor::builder()
            .monitor_name(name)
            .monitor_type(MonitorType::Dimensional)
            .monitor_dimension(MonitorDimension::Service)
            .build()
            .expect("monitor")
    };
    let threshold = |key: Dimension, value: &str| {
        Expression::builder()
            .dimensions(
                DimensionValues::builder()
                    .key(key)
                    .match_options(MatchOption::GreaterThanOrEqual)
                    .values(value)
                    .build(),
            )
            .build()
    };
    let email = |address: &str| {
        Subscriber::builder()
            .address(address)
            .r#type(SubscriberType::Email)
            .build()
    };
    let tag = |k: &str, v: &str| ResourceTag::builder().key(k).value(v).build().expect("tag");

    // A DIMENSIONAL SERVICE monitor exists already: a second one is refused.
    let existing = env
        .standin
        .add_dimensional_service_monitor("Default-Services-Monitor");
    let (second, message) = error(
        env.block_on(
            ce.create_anomaly_monitor()
                .anomaly_monitor(dimensional("bedrock-monitor"))
                .send(),
        ),
    );
    assert_eq!(second, "ValidationException");
    assert_eq!(
        message,
        "Limit exceeded on dimensional spend monitor creation"
    );

    // DIMENSIONAL without a dimension, CUSTOM without a specification: refused.
    let bare = AnomalyMonitor::builder()
        .monitor_name("bare")
        .monitor_type(MonitorType::Dimensional)
        .build()
        .expect("monitor");
    assert_eq!(
        code(env.block_on(ce.create_anomaly_monitor().anomaly_monitor(bare).send())),
        "ValidationException"
    );
    let custom_bare = AnomalyMonitor::builder()
        .monitor_name("custom")
        .monitor_type(MonitorType::Custom)
        .build()
        .expect("monitor");
    assert_eq!(
        code(
            env.block_on(
                ce.create_anomaly_monitor()
                    .anomaly_monitor(custom_bare)
                    .send()
            )
        ),
        "ValidationException"
    );

    // A CUSTOM monitor of two linked accounts, tagged.
    let custom = AnomalyMonitor::builder()
        .monitor_name("accounts")
        .monitor_type(MonitorType::Custom)
        .monitor_specification(
            Expression::builder()
                .dimensions(
                    DimensionValues::builder()
                        .key(Dimension::LinkedAccount)
                        .values("111111111111")
                        .values("222222222222")
                        .build(),
                )
                .build(),
        )
        .build()
        .expect("monitor");
    let monitor_arn = env
        .block_on(
            ce.create_anomaly_monitor()
                .anomaly_monitor(custom)
                .resource_tags(tag("Project", "a"))
                .send(),
        )
        .expect("CreateAnomalyMonitor")
        .monitor_arn()
        .to_string();
    let arn_shape = regex::Regex::new(&format!(
        "^arn:aws:ce::{ACCOUNT}:anomalymonitor/[0-9a-f]{{8}}-[0-9a-f]{{4}}-4[0-9a-f]{{3}}-[89ab][0-9a-f]{{3}}-[0-9a-f]{{12}}$"
    ))
    .expect("regex");
    assert!(arn_shape.is_match(&monitor_arn), "{monitor_arn}");

    // Read, rename, page, unknown ARNs.
    let monitors = env
        .block_on(ce.get_anomaly_monitors().send())
        .expect("GetAnomalyMonitors");
    assert_eq!(monitors.anomaly_monitors().len(), 2);
    let ours = monitors
        .anomaly_monitors()
        .iter()
        .find(|m| m.monitor_arn() == Some(monitor_arn.as_str()))
        .expect("ours listed");
    assert_eq!(ours.monitor_type(), &MonitorType::Custom);
    assert!(ours.monitor_specification().is_some());
    assert!(ours.creation_date().is_some());
    env.block_on(
        ce.update_anomaly_monitor()
            .monitor_arn(&monitor_arn)
            .monitor_name("linked accounts")
            .send(),
    )
    .expect("UpdateAnomalyMonitor");
    let page = env
        .block_on(ce.get_anomaly_monitors().max_results(1).send())
        .expect("first page");
    assert_eq!(page.anomaly_monitors().len(), 1);
    let rest = env
        .block_on(
            ce.get_anomaly_monitors()
                .max_results(1)
                .set_next_page_token(page.next_page_token().map(str::to_string))
                .send(),
        )
        .expect("second page");
    assert_eq!(rest.anomaly_monitors().len(), 1);
    assert!(rest.next_page_token().is_none());
    let unknown =
        format!("arn:aws:ce::{ACCOUNT}:anomalymonitor/00000000-0000-4000-8000-000000000000");
    match env.block_on(ce.get_anomaly_monitors().monitor_arn_list(&unknown).send()) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_unknown_monitor_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown monitor listed: {v:?}"),
    }
    let filtered = env
        .block_on(ce.get_anomaly_monitors().monitor_arn_list(&existing).send())
        .expect("by ARN");
    assert_eq!(
        filtered.anomaly_monitors()[0].monitor_dimension(),
        Some(&MonitorDimension::Service)
    );

    // Subscriptions: DAILY email with an absolute threshold.
    let subscription = AnomalySubscription::builder()
        .subscription_name("daily")
        .monitor_arn_list(&monitor_arn)
        .subscribers(email("finops@example.com"))
        .frequency(AnomalySubscriptionFrequency::Daily)
        .threshold_expression(threshold(Dimension::AnomalyTotalImpactAbsolute, "100"))
        .build()
        .expect("subscription");
    let subscription_arn = env
        .block_on(
            ce.create_anomaly_subscription()
                .anomaly_subscription(subscription)
                .send(),
        )
        .expect("CreateAnomalySubscription")
        .subscription_arn()
        .to_string();
    assert!(
        subscription_arn.starts_with(&format!("arn:aws:ce::{ACCOUNT}:anomalysubscription/")),
        "{subscription_arn}"
    );

    // IMMEDIATE is for SNS; no threshold at all; an unknown monitor; a bad threshold shape.
    let with =
        |f: AnomalySubscriptionFrequency, s: Subscriber, t: Option<Expression>, monitor: &str| {
            AnomalySubscription::builder()
                .subscription_name("x")
                .monitor_arn_list(monitor)
                .subscribers(s)
                .frequency(f)
                .set_threshold_expression(t)
                .build()
                .expect("subscription")
        };
    let absolute = Some(threshold(Dimension::AnomalyTotalImpactAbsolute, "10"));
    assert_eq!(
        code(
            env.block_on(
                ce.create_anomaly_subscription()
                    .anomaly_subscription(with(
                        AnomalySubscriptionFrequency::Immediate,
                        email("a@example.com"),
                        absolute.clone(),
                        &monitor_arn
                    ))
                    .send()
            )
        ),
        "ValidationException"
    );
    let (no_threshold, message) = error(
        env.block_on(
            ce.create_anomaly_subscription()
                .anomaly_subscription(with(
                    AnomalySubscriptionFrequency::Daily,
                    email("a@example.com"),
                    None,
                    &monitor_arn,
                ))
                .send(),
        ),
    );
    assert_eq!(no_threshold, "ValidationException");
    assert_eq!(
        message,
        "Threshold and ThresholdExpression cannot both be null"
    );
    match env.block_on(
        ce.create_anomaly_subscription()
            .anomaly_subscription(with(
                AnomalySubscriptionFrequency::Daily,
                email("a@example.com"),
                absolute.clone(),
                &unknown,
            ))
            .send(),
    ) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_unknown_monitor_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("a subscription to an unknown monitor: {v:?}"),
    }
    assert_eq!(
        code(
            env.block_on(
                ce.create_anomaly_subscription()
                    .anomaly_subscription(with(
                        AnomalySubscriptionFrequency::Daily,
                        email("a@example.com"),
                        Some(threshold(Dimension::Service, "10")),
                        &monitor_arn
                    ))
                    .send()
            )
        ),
        "ValidationException"
    );

    // IMMEDIATE with an SNS topic, And of both thresholds, on both monitors.
    let sns = Subscriber::builder()
        .address(format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts"))
        .r#type(SubscriberType::Sns)
        .build();
    let both = Expression::builder()
        .and(threshold(Dimension::AnomalyTotalImpactAbsolute, "50"))
        .and(threshold(Dimension::AnomalyTotalImpactPercentage, "20"))
        .build();
    let immediate = env
        .block_on(
            ce.create_anomaly_subscription()
                .anomaly_subscription(
                    AnomalySubscription::builder()
                        .subscription_name("immediate")
                        .monitor_arn_list(&monitor_arn)
                        .monitor_arn_list(&existing)
                        .subscribers(sns)
                        .frequency(AnomalySubscriptionFrequency::Immediate)
                        .threshold_expression(both)
                        .build()
                        .expect("subscription"),
                )
                .resource_tags(tag("Team", "finops"))
                .send(),
        )
        .expect("IMMEDIATE with SNS")
        .subscription_arn()
        .to_string();

    // Read by ARN list and by monitor; update; unknown ARNs.
    let by_arn = env
        .block_on(
            ce.get_anomaly_subscriptions()
                .subscription_arn_list(&subscription_arn)
                .send(),
        )
        .expect("by ARN");
    let daily = &by_arn.anomaly_subscriptions()[0];
    assert_eq!(daily.subscription_name(), "daily");
    assert_eq!(daily.account_id(), Some(ACCOUNT));
    assert_eq!(daily.frequency(), &AnomalySubscriptionFrequency::Daily);
    assert!(daily.threshold_expression().is_some());
    let by_monitor = env
        .block_on(ce.get_anomaly_subscriptions().monitor_arn(&existing).send())
        .expect("by monitor");
    let names: Vec<&str> = by_monitor
        .anomaly_subscriptions()
        .iter()
        .map(|s| s.subscription_name())
        .collect();
    assert_eq!(names, ["immediate"]);
    // The deprecated Threshold stands for an absolute ThresholdExpression.
    #[allow(deprecated)]
    let shorthand = ce
        .update_anomaly_subscription()
        .subscription_arn(&subscription_arn)
        .frequency(AnomalySubscriptionFrequency::Weekly)
        .threshold(250.0);
    env.block_on(shorthand.send())
        .expect("UpdateAnomalySubscription");
    let updated = env
        .block_on(
            ce.get_anomaly_subscriptions()
                .subscription_arn_list(&subscription_arn)
                .send(),
        )
        .expect("read back");
    let weekly = &updated.anomaly_subscriptions()[0];
    assert_eq!(weekly.frequency(), &AnomalySubscriptionFrequency::Weekly);
    let dims = weekly
        .threshold_expression()
        .and_then(|e| e.dimensions())
        .expect("absolute threshold");
    assert_eq!(dims.key(), Some(&Dimension::AnomalyTotalImpactAbsolute));
    assert_eq!(dims.values(), ["250"]);
    assert_eq!(
        code(
            env.block_on(
                ce.update_anomaly_subscription()
                    .subscription_arn(&subscription_arn)
                    .frequency(AnomalySubscriptionFrequency::Immediate)
                    .send()
            )
        ),
        "ValidationException",
        "email subscribers cannot be IMMEDIATE"
    );
    let unknown_subscription =
        format!("arn:aws:ce::{ACCOUNT}:anomalysubscription/00000000-0000-4000-8000-000000000000");
    match env.block_on(
        ce.get_anomaly_subscriptions()
            .subscription_arn_list(&unknown_subscription)
            .send(),
    ) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_unknown_subscription_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown subscription listed: {v:?}"),
    }

    // Tags on monitors and subscriptions.
    env.block_on(
        ce.tag_resource()
            .resource_arn(&immediate)
            .resource_tags(tag("Owner", "me"))
            .send(),
    )
    .expect("TagResource");
    env.block_on(
        ce.untag_resource()
            .resource_arn(&immediate)
            .resource_tag_keys("Team")
            .send(),
    )
    .expect("UntagResource");
    let tags = env
        .block_on(ce.list_tags_for_resource().resource_arn(&immediate).send())
        .expect("ListTagsForResource");
    let tags: Vec<(&str, &str)> = tags
        .resource_tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("Owner", "me")]);
    assert_eq!(
        code(
            env.block_on(
                ce.tag_resource()
                    .resource_arn(&monitor_arn)
                    .resource_tags(tag("aws:reserved", "x"))
                    .send()
            )
        ),
        "ValidationException"
    );
    assert_eq!(
        code(env.block_on(ce.list_tags_for_resource().resource_arn(&unknown).send())),
        "ResourceNotFoundException"
    );

    // The snapshot names monitors, not ARNs.
    let snapshot = env.standin.snapshot();
    let subs = snapshot[ACCOUNT]["anomaly_subscriptions"]
        .as_array()
        .expect("subscriptions");
    assert!(
        subs.iter()
            .any(|s| s["monitors"]
                == serde_json::json!(["Default-Services-Monitor", "linked accounts"])),
        "{subs:?}"
    );
    assert!(!snapshot.to_string().contains(&monitor_arn));

    // Delete; deleting again is unknown.
    env.block_on(
        ce.delete_anomaly_subscription()
            .subscription_arn(&subscription_arn)
            .send(),
    )
    .expect("DeleteAnomalySubscription");
    assert_eq!(
        code(
            env.block_on(
                ce.delete_anomaly_subscription()
                    .subscription_arn(&subscription_arn)
                    .send()
            )
        ),
        "UnknownSubscriptionException"
    );
    env.block_on(ce.delete_anomaly_monitor().monitor_arn(&existing).send())
        .expect("DeleteAnomalyMonitor");
    assert_eq!(
        code(env.block_on(ce.delete_anomaly_monitor().monitor_arn(&existing).send())),
        "UnknownMonitorException"
    );

    // A member account: a SERVICE monitor is fine, a linked-account one is the management
    // account's.
    env.standin.set_member_account(true);
    env.block_on(
        ce.create_anomaly_monitor()
            .anomaly_monitor(dimensional("services"))
            .send(),
    )
    .expect("a member account's SERVICE monitor");
    let linked = AnomalyMonitor::builder()
        .monitor_name("linked")
        .monitor_type(MonitorType::Dimensional)
        .monitor_dimension(MonitorDimension::LinkedAccount)
        .build()
        .expect("monitor");
    assert_eq!(
        code(env.block_on(ce.create_anomaly_monitor().anomaly_monitor(linked).send())),
        "AccessDeniedException"
    );
}
