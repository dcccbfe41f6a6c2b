//! The stand-in's cost categories (`cost_categories.rs`, `cost_category_rules.rs` in
//! `tests/support/standin/`), through the real SDK clients as in `tests/it/standin.rs`.

use crate::support::env::{ACCOUNT, REGION, TestEnv};
use crate::support::proxy::StrictRequest;

use super::{code, error};

/// Requests moto answers, counted from its log (werkzeug logs one line per request).
fn moto_requests(env: &TestEnv) -> usize {
    env.moto
        .log()
        .lines()
        .filter(|l| l.contains(" HTTP/1."))
        .count()
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_cost_categories() {
    use std::sync::{Arc, Mutex};

    use aws_sdk_costexplorer::types::{
        CostCategoryInheritedValueDimension, CostCategoryInheritedValueDimensionName,
        CostCategoryRule, CostCategoryRuleType, CostCategoryRuleVersion,
        CostCategorySplitChargeMethod, CostCategorySplitChargeRule, CostCategoryStatus, Dimension,
        DimensionValues, Expression, MatchOption, ResourceTag, TagValues,
    };
    use bedrock_monitor::cost::{expression, spend};
    use serde_json::json;

    let env = TestEnv::new();
    // What the stand-in and the strict rules let through reaches this last rule, then moto.
    let forwarded = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = forwarded.clone();
    env.proxy
        .add_rule(Arc::new(crate::support::proxy::AnswerWith(
            move |r: &StrictRequest| {
                if r.service == "ce" {
                    seen.lock().unwrap().push(format!(
                        "{} {}",
                        r.operation,
                        String::from_utf8_lossy(&r.body)
                    ));
                }
                None
            },
        )));
    let moto_before = moto_requests(&env);
    assert!(moto_before > 0, "moto's log shows its readiness check");

    // Clients through the proxy, as the tool talks to AWS.
    let ce = bedrock_monitor::aws::emulator_clients(&env.proxy.url(), REGION).costexplorer;
    let month_start = chrono::Utc::now().format("%Y-%m-01T00:00:00Z").to_string();
    let dimension = |key: Dimension, values: &[&str], option: MatchOption| {
        Expression::builder()
            .dimensions(
                DimensionValues::builder()
                    .key(key)
                    .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
                    .match_options(option)
                    .build(),
            )
            .build()
    };
    let regular =
        |value: &str, rule: Expression| CostCategoryRule::builder().value(value).rule(rule).build();
    let tag = |k: &str, v: &str| ResourceTag::builder().key(k).value(v).build().expect("tag");
    let create = |name: &str, rules: Vec<CostCategoryRule>| {
        env.block_on(
            ce.create_cost_category_definition()
                .name(name)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .set_rules(Some(rules))
                .send(),
        )
    };

    // The tool's own rules (two REGULAR rules with SERVICE_CODE and USAGE_TYPE, CONTAINS match
    // options) are accepted and read back equal after the round trip through the SDK.
    let tool_rules: Vec<CostCategoryRule> = spend::cost_category_rules()
        .iter()
        .map(|r| {
            regular(
                spend::COST_CATEGORY_VALUE,
                expression::ce_expression(&r["Rule"]),
            )
        })
        .collect();
    let created = env
        .block_on(
            ce.create_cost_category_definition()
                .name("bedrock-monitor")
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .set_rules(Some(tool_rules.clone()))
                .default_value("Other")
                .resource_tags(tag("ManagedBy", "bedrock-monitor"))
                .resource_tags(tag("Project", "genai"))
                .send(),
        )
        .expect("CreateCostCategoryDefinition");
    let arn = created.cost_category_arn().expect("arn").to_string();
    assert!(
        arn.starts_with(&format!("arn:aws:ce::{ACCOUNT}:costcategory/")),
        "{arn}"
    );
    assert_eq!(created.effective_start(), Some(month_start.as_str()));

    let described = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("DescribeCostCategoryDefinition");
    let category = described.cost_category().expect("CostCategory");
    assert_eq!(category.name(), "bedrock-monitor");
    assert_eq!(category.cost_category_arn(), arn);
    assert_eq!(category.effective_start(), month_start);
    assert_eq!(category.effective_end(), None);
    assert_eq!(
        category.rule_version(),
        &CostCategoryRuleVersion::CostCategoryExpressionV1
    );
    assert_eq!(category.rules(), tool_rules.as_slice());
    let read_back: Vec<serde_json::Value> = category
        .rules()
        .iter()
        .map(|r| json!({"Value": r.value(), "Rule": r.rule().map(expression::to_json)}))
        .collect();
    assert_eq!(read_back, spend::cost_category_rules());
    assert_eq!(category.default_value(), Some("Other"));
    assert_eq!(category.processing_status().len(), 1);
    assert_eq!(
        category.processing_status()[0].status(),
        Some(&CostCategoryStatus::Processing)
    );
    env.standin.cost_categories_applied();
    let applied = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("describe");
    assert_eq!(
        applied
            .cost_category()
            .expect("category")
            .processing_status()[0]
            .status(),
        Some(&CostCategoryStatus::Applied)
    );

    // The stand-in keeps the rules as the request sent them, match options included.
    let stored = env.standin.cost_categories();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].account, ACCOUNT);
    assert_eq!(stored[0].arn, arn);
    assert_eq!(stored[0].name, "bedrock-monitor");
    assert_eq!(
        stored[0].rules[0],
        json!({"Value": "Bedrock", "Rule": {"Dimensions": {
            "Key": "SERVICE_CODE", "Values": ["AmazonBedrock"], "MatchOptions": ["STARTS_WITH"],
        }}})
    );
    assert_eq!(
        stored[0].rules[1]["Rule"]["And"][0]["Dimensions"]["MatchOptions"],
        json!(["CONTAINS"])
    );
    assert_eq!(stored[0].tags.len(), 2);

    // Names are unique in the account.
    let (duplicate, message) = error(create(
        "bedrock-monitor",
        vec![regular(
            "x",
            dimension(Dimension::Region, &["us-east-1"], MatchOption::Equals),
        )],
    ));
    assert_eq!(duplicate, "ValidationException");
    assert!(message.contains("already exists"), "{message}");

    // Only LINKED_ACCOUNT, SERVICE_CODE, RECORD_TYPE, LINKED_ACCOUNT_NAME, REGION and
    // USAGE_TYPE: a SERVICE rule is refused, nested or not.
    let service = dimension(Dimension::Service, &["Amazon Bedrock"], MatchOption::Equals);
    let (refused, message) = error(create("by-service", vec![regular("x", service.clone())]));
    assert_eq!(refused, "ValidationException");
    assert!(
        message.starts_with("Failed to create Cost Category: Invalid Rule: Dimension SERVICE"),
        "{message}"
    );
    let nested_service = Expression::builder().not(service.clone()).build();
    assert_eq!(
        code(create("by-service", vec![regular("x", nested_service)])),
        "ValidationException"
    );

    // Root-level Or is refused; Or inside And is accepted.
    let region = dimension(Dimension::Region, &["us-east-1"], MatchOption::Equals);
    let usage = dimension(Dimension::UsageType, &["-MP:"], MatchOption::Contains);
    let or = Expression::builder()
        .or(region.clone())
        .or(usage.clone())
        .build();
    let (refused, message) = error(create("root-or", vec![regular("x", or.clone())]));
    assert_eq!(refused, "ValidationException");
    assert!(
        message.contains("Root level OR is not supported"),
        "{message}"
    );
    let linked = dimension(
        Dimension::LinkedAccount,
        &["111122223333"],
        MatchOption::Equals,
    );
    let nested = Expression::builder().and(or).and(linked.clone()).build();
    create("nested-or", vec![regular("x", nested)]).expect("Or below And");

    // More than one root operator in one expression.
    let two_roots = Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(Dimension::Region)
                .values("us-east-1")
                .build(),
        )
        .tags(TagValues::builder().key("Team").values("a").build())
        .build();
    let (_, message) = error(create("two-roots", vec![regular("x", two_roots)]));
    assert!(
        message.starts_with("Expression has more than one roots"),
        "{message}"
    );

    // A REGULAR rule needs Value and Rule (the service's words).
    let (_, message) = error(create(
        "no-value",
        vec![CostCategoryRule::builder().rule(region.clone()).build()],
    ));
    assert_eq!(
        message,
        "Failed to create Cost Category: Invalid Rule: Value and Rule must not be null."
    );
    // ABSENT takes no values.
    let absent = Expression::builder()
        .tags(
            TagValues::builder()
                .key("Team")
                .values("a")
                .match_options(MatchOption::Absent)
                .build(),
        )
        .build();
    let (_, message) = error(create("absent", vec![regular("x", absent)]));
    assert!(
        message.ends_with("Tags expression must not have values set when ABSENT is provided"),
        "{message}"
    );
    // An INHERITED_VALUE rule takes its value from a tag key.
    let inherited = CostCategoryRule::builder()
        .r#type(CostCategoryRuleType::InheritedValue)
        .inherited_value(
            CostCategoryInheritedValueDimension::builder()
                .dimension_name(CostCategoryInheritedValueDimensionName::Tag)
                .dimension_key("Team")
                .build(),
        )
        .build();
    create("by-team", vec![inherited]).expect("INHERITED_VALUE rule");

    // Name, rule version and rule count, as the reference gives them.
    for bad in [
        " leading-space",
        "trailing-space ",
        "slash/name",
        &"n".repeat(51),
        "",
    ] {
        assert_eq!(
            code(create(bad, vec![regular("x", region.clone())])),
            "ValidationException",
            "{bad:?}"
        );
    }
    create("Team Ä_1-2", vec![regular("x", region.clone())]).expect("letters, spaces, _ and -");
    assert_eq!(
        code(
            env.block_on(
                ce.create_cost_category_definition()
                    .name("v2")
                    .rule_version(CostCategoryRuleVersion::from("CostCategoryExpression.v2"))
                    .rules(regular("x", region.clone()))
                    .send()
            )
        ),
        "ValidationException"
    );
    assert_eq!(code(create("no-rules", Vec::new())), "ValidationException");
    assert_eq!(
        code(create(
            "too-many-rules",
            vec![regular("x", region.clone()); 501]
        )),
        "ValidationException"
    );

    // Split charge rules: a source is no other rule's target.
    let split = |source: &str, targets: &[&str]| {
        CostCategorySplitChargeRule::builder()
            .source(source)
            .set_targets(Some(targets.iter().map(|t| t.to_string()).collect()))
            .method(CostCategorySplitChargeMethod::Even)
            .build()
            .expect("split charge rule")
    };
    let values = vec![
        regular("a", region.clone()),
        regular("b", usage.clone()),
        regular("c", linked.clone()),
    ];
    env.block_on(
        ce.create_cost_category_definition()
            .name("split")
            .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
            .set_rules(Some(values.clone()))
            .split_charge_rules(split("a", &["b", "c"]))
            .send(),
    )
    .expect("split charge rules");
    assert_eq!(
        code(
            env.block_on(
                ce.create_cost_category_definition()
                    .name("split-bad")
                    .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                    .set_rules(Some(values))
                    .split_charge_rules(split("a", &["b"]))
                    .split_charge_rules(split("b", &["c"]))
                    .send()
            )
        ),
        "ValidationException"
    );

    // EffectiveStart: a month start, within the previous twelve months, not in the future.
    let last_month = {
        use chrono::Datelike;
        let now = chrono::Utc::now();
        let (y, m) = if now.month() == 1 {
            (now.year() - 1, 12)
        } else {
            (now.year(), now.month() - 1)
        };
        format!("{y:04}-{m:02}-01T00:00:00Z")
    };
    let starting = |name: &str, start: &str| {
        env.block_on(
            ce.create_cost_category_definition()
                .name(name)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .rules(regular("x", region.clone()))
                .effective_start(start)
                .send(),
        )
    };
    let backdated = starting("backdated", &last_month).expect("last month");
    assert_eq!(backdated.effective_start(), Some(last_month.as_str()));
    for bad in [
        "2020-01-01T00:00:00Z",
        "2999-01-01T00:00:00Z",
        &month_start.replace("-01T", "-02T"),
        "yesterday",
    ] {
        assert_eq!(
            code(starting("bad-start", bad)),
            "ValidationException",
            "{bad}"
        );
    }

    // ListCostCategoryDefinitions: paged by MaxResults and NextToken.
    let list_all = |max: Option<i32>, on: Option<&str>| {
        let mut token: Option<String> = None;
        let mut pages = 0;
        let mut references = Vec::new();
        loop {
            let page = env
                .block_on(
                    ce.list_cost_category_definitions()
                        .set_max_results(max)
                        .set_effective_on(on.map(str::to_string))
                        .set_next_token(token.clone())
                        .send(),
                )
                .expect("ListCostCategoryDefinitions");
            pages += 1;
            if let Some(m) = max {
                assert!(page.cost_category_references().len() <= m as usize);
            }
            references.extend(page.cost_category_references().iter().cloned());
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        (references, pages)
    };
    let (references, pages) = list_all(Some(2), None);
    let names: Vec<&str> = references.iter().filter_map(|r| r.name()).collect();
    assert_eq!(
        names,
        [
            "bedrock-monitor",
            "nested-or",
            "by-team",
            "Team Ä_1-2",
            "split",
            "backdated"
        ]
    );
    assert_eq!(pages, 3);
    let ours = &references[0];
    assert_eq!(ours.cost_category_arn(), Some(arn.as_str()));
    assert_eq!(ours.number_of_rules(), 2);
    assert_eq!(ours.values(), ["Bedrock", "Other"]);
    assert_eq!(ours.default_value(), Some("Other"));
    assert_eq!(ours.effective_start(), Some(month_start.as_str()));
    assert_eq!(ours.effective_end(), None);
    assert_eq!(
        ours.processing_status()[0].status(),
        Some(&CostCategoryStatus::Applied)
    );
    let (all, _) = list_all(None, None);
    assert_eq!(all.len(), references.len());
    // EffectiveOn last month: only the category that was in effect then.
    let (then, _) = list_all(None, Some(&last_month));
    let names: Vec<&str> = then.iter().filter_map(|r| r.name()).collect();
    assert_eq!(names, ["backdated"]);
    assert_eq!(
        code(
            env.block_on(
                ce.list_cost_category_definitions()
                    .next_token("bogus")
                    .send()
            )
        ),
        "ValidationException"
    );
    assert_eq!(
        code(env.block_on(ce.list_cost_category_definitions().max_results(101).send())),
        "ValidationException"
    );

    // Update replaces the definition.
    let updated = env
        .block_on(
            ce.update_cost_category_definition()
                .cost_category_arn(&arn)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .rules(regular(
                    "Bedrock",
                    dimension(
                        Dimension::ServiceCode,
                        &["AmazonBedrock"],
                        MatchOption::Equals,
                    ),
                ))
                .send(),
        )
        .expect("UpdateCostCategoryDefinition");
    assert_eq!(updated.cost_category_arn(), Some(arn.as_str()));
    assert_eq!(updated.effective_start(), Some(month_start.as_str()));
    let after = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("describe after update");
    let after = after.cost_category().expect("category");
    assert_eq!(after.rules().len(), 1);
    assert_eq!(after.default_value(), None);
    assert_eq!(
        after.processing_status()[0].status(),
        Some(&CostCategoryStatus::Processing)
    );
    let (refused, message) = error(
        env.block_on(
            ce.update_cost_category_definition()
                .cost_category_arn(&arn)
                .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                .rules(regular("Bedrock", service))
                .send(),
        ),
    );
    assert_eq!(refused, "ValidationException");
    assert!(
        message.starts_with("Failed to update Cost Category:"),
        "{message}"
    );

    // Rules edited outside the tool are what the next Describe shows.
    assert!(env.standin.set_cost_category_rules(
        "bedrock-monitor",
        json!([{"Value": "Bedrock", "Rule": {"Dimensions": {
            "Key": "USAGE_TYPE", "Values": ["InputTokenCount"], "MatchOptions": ["ENDS_WITH"],
        }}}]),
    ));
    assert!(!env.standin.set_cost_category_rules("nothing", json!([])));
    let edited = env
        .block_on(
            ce.describe_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("describe after an outside edit");
    let rule = edited.cost_category().expect("category").rules()[0]
        .rule()
        .expect("rule")
        .dimensions()
        .expect("dimensions");
    assert_eq!(rule.key(), Some(&Dimension::UsageType));
    assert_eq!(rule.match_options(), [MatchOption::EndsWith]);

    // Tags round trip.
    let tags_of = |arn: &str| {
        let listed = env
            .block_on(ce.list_tags_for_resource().resource_arn(arn).send())
            .expect("ListTagsForResource");
        listed
            .resource_tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<Vec<_>>()
    };
    let pairs = |p: &[(&str, &str)]| {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tags_of(&arn),
        pairs(&[("ManagedBy", "bedrock-monitor"), ("Project", "genai")])
    );
    env.block_on(
        ce.tag_resource()
            .resource_arn(&arn)
            .resource_tags(tag("Owner", "finops"))
            .resource_tags(tag("Project", "bedrock"))
            .send(),
    )
    .expect("TagResource");
    env.block_on(
        ce.untag_resource()
            .resource_arn(&arn)
            .resource_tag_keys("ManagedBy")
            .resource_tag_keys("NotThere")
            .send(),
    )
    .expect("UntagResource");
    assert_eq!(
        tags_of(&arn),
        pairs(&[("Owner", "finops"), ("Project", "bedrock")])
    );
    assert!(env.standin.untag_cost_category("bedrock-monitor", "Owner"));
    assert!(
        env.standin
            .tag_cost_category("bedrock-monitor", "Env", "prod")
    );
    assert_eq!(
        tags_of(&arn),
        pairs(&[("Env", "prod"), ("Project", "bedrock")])
    );

    // Unknown ARNs: ResourceNotFoundException everywhere.
    let unknown =
        format!("arn:aws:ce::{ACCOUNT}:costcategory/0a1b2c3d-0000-4000-8000-000000000000");
    match env.block_on(
        ce.describe_cost_category_definition()
            .cost_category_arn(&unknown)
            .send(),
    ) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown category described: {v:?}"),
    }
    assert_eq!(
        code(
            env.block_on(
                ce.update_cost_category_definition()
                    .cost_category_arn(&unknown)
                    .rule_version(CostCategoryRuleVersion::CostCategoryExpressionV1)
                    .rules(regular("x", region.clone()))
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.block_on(
                ce.delete_cost_category_definition()
                    .cost_category_arn(&unknown)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(env.block_on(ce.list_tags_for_resource().resource_arn(&unknown).send())),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code(
            env.block_on(
                ce.tag_resource()
                    .resource_arn(&unknown)
                    .resource_tags(tag("a", "b"))
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );
    // Describe on a date before the category took effect finds nothing.
    assert_eq!(
        code(
            env.block_on(
                ce.describe_cost_category_definition()
                    .cost_category_arn(&arn)
                    .effective_on(&last_month)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );

    // The snapshot: by name, no ARNs or dates.
    let snapshot = env.standin.snapshot();
    let ours = &snapshot[ACCOUNT]["cost_categories"]["bedrock-monitor"];
    assert_eq!(ours["rules"][0]["Rule"]["Dimensions"]["Key"], "USAGE_TYPE");
    assert_eq!(ours["tags"], json!({"Env": "prod", "Project": "bedrock"}));
    assert_eq!(
        snapshot[ACCOUNT]["cost_categories"]["split"]["split_charge_rules"][0]["Source"],
        "a"
    );
    let text = snapshot.to_string();
    assert!(
        !text.contains(&arn) && !text.contains(&month_start),
        "{text}"
    );

    // Delete: EffectiveEnd this month, then gone.
    let deleted = env
        .block_on(
            ce.delete_cost_category_definition()
                .cost_category_arn(&arn)
                .send(),
        )
        .expect("DeleteCostCategoryDefinition");
    assert_eq!(deleted.cost_category_arn(), Some(arn.as_str()));
    assert_eq!(deleted.effective_end(), Some(month_start.as_str()));
    assert!(
        !env.standin
            .cost_categories()
            .iter()
            .any(|c| c.name == "bedrock-monitor")
    );
    assert_eq!(
        code(
            env.block_on(
                ce.describe_cost_category_definition()
                    .cost_category_arn(&arn)
                    .send()
            )
        ),
        "ResourceNotFoundException"
    );

    // 50 cost categories per account.
    let existing = env.standin.cost_categories().len();
    for i in existing..50 {
        env.standin
            .add_cost_category(&format!("filler-{i}"), json!([]));
    }
    assert_eq!(
        code(create("one-too-many", vec![regular("x", region.clone())])),
        "ServiceQuotaExceededException"
    );

    // A member account has no access to cost categories.
    env.standin.set_member_account(true);
    let (denied, message) = error(env.block_on(ce.list_cost_category_definitions().send()));
    assert_eq!(denied, "AccessDeniedException");
    assert!(message.contains("Linked account"), "{message}");
    assert_eq!(
        code(create("member", vec![regular("x", region.clone())])),
        "AccessDeniedException"
    );
    env.standin.set_member_account(false);

    // Nothing about cost categories reached moto: no request was forwarded, moto logged none,
    // and every answer was the stand-in's (no HTTP 500 retried by the SDK).
    assert!(
        forwarded.lock().unwrap().is_empty(),
        "forwarded to moto: {:?}",
        forwarded.lock().unwrap()
    );
    assert_eq!(moto_requests(&env), moto_before, "{}", env.moto.log());
    let calls = env.proxy.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "ListCostCategoryDefinitions")
    );
    assert!(
        calls
            .iter()
            .all(|c| c.service == "ce" && c.status.is_some_and(|s| s < 500)),
        "{calls:?}"
    );
    // The instruments see what does go to moto: tagging of an ARN that is not the stand-in's.
    let other = format!("arn:aws:budgets::{ACCOUNT}:budget/monthly");
    let _ = env.block_on(ce.list_tags_for_resource().resource_arn(&other).send());
    assert_eq!(forwarded.lock().unwrap().len(), 1);
    assert!(moto_requests(&env) > moto_before);
}
