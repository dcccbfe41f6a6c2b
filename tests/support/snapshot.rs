//! The observable end state of everything `bedrock-monitor` manages, read from moto with the SDK
//! (directly, not through the recording proxy) and normalised so that two equivalent runs give
//! equal values: no timestamps, no random IDs, lists sorted, policy and dashboard documents
//! parsed as JSON.
//!
//! Everything of each kind is listed (all roles, buckets, log groups, topics, alarms,
//! dashboards, budgets), not only the stack's own: comparing with a clean run's snapshot is what
//! proves there is no duplicate and no orphan.
#![allow(dead_code)]

use std::collections::BTreeMap;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{Value, json};

use super::env::{ACCOUNT, BUCKET, REGION, ROLE, TestEnv};

/// An AWS error as a value: its code (`NoSuchLifecycleConfiguration`, `ResourceNotFound`, …),
/// so that an absent part is recorded rather than fatal. An error without a code (the
/// emulator did not answer) is a broken harness, not a state: panic.
fn absent<E: ProvideErrorMetadata + std::fmt::Debug>(what: &str, e: E) -> Value {
    match e.code() {
        Some(code) => json!({ "absent": code }),
        None => panic!("snapshot: {what} failed without an AWS error code: {e:?}"),
    }
}

/// A policy document (maybe URL-encoded, as IAM returns it) as JSON.
fn document(text: &str) -> Value {
    bedrock_monitor::docs::parse_policy(text)
        .unwrap_or_else(|| json!({ "unparsable": text.to_string() }))
}

/// A budget's filter as the API's JSON shape, values and operands sorted, a missing match
/// option as the default EQUALS (written here independently of the tool's own conversion).
pub fn budget_filter(e: &aws_sdk_budgets::types::Expression) -> Value {
    fn part(
        key: Option<&str>,
        values: &[String],
        options: &[aws_sdk_budgets::types::MatchOption],
    ) -> Value {
        let mut options: Vec<&str> = options.iter().map(|o| o.as_str()).collect();
        if options.is_empty() {
            options.push("EQUALS");
        }
        json!({"Key": key, "Values": sorted(values.to_vec()), "MatchOptions": sorted(options)})
    }
    let mut out = serde_json::Map::new();
    let list = |items: &[aws_sdk_budgets::types::Expression]| {
        let mut v: Vec<Value> = items.iter().map(budget_filter).collect();
        v.sort_by_key(|x| x.to_string());
        Value::Array(v)
    };
    if !e.or().is_empty() {
        out.insert("Or".into(), list(e.or()));
    }
    if !e.and().is_empty() {
        out.insert("And".into(), list(e.and()));
    }
    if let Some(not) = e.not() {
        out.insert("Not".into(), budget_filter(not));
    }
    if let Some(d) = e.dimensions() {
        out.insert(
            "Dimensions".into(),
            part(Some(d.key().as_str()), d.values(), d.match_options()),
        );
    }
    if let Some(t) = e.tags() {
        out.insert("Tags".into(), part(t.key(), t.values(), t.match_options()));
    }
    if let Some(c) = e.cost_categories() {
        out.insert(
            "CostCategories".into(),
            part(c.key(), c.values(), c.match_options()),
        );
    }
    Value::Object(out)
}

/// What every budget of the stack filters on: Bedrock spend, every service whose name has
/// "Bedrock" in it ("Amazon Bedrock", "Amazon Bedrock Service", "… (Amazon Bedrock Edition)",
/// "Amazon Bedrock AgentCore"), gross usage (credits and refunds left out), narrowed to
/// `Project = tag` if given.
pub fn bedrock_spend_filter(tag: Option<(&str, &str)>) -> Value {
    let services = json!({"Dimensions": {"Key": "SERVICE", "Values": ["Bedrock"], "MatchOptions": ["CONTAINS"]}});
    let gross = json!({"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"], "MatchOptions": ["EQUALS"]}}});
    let mut and = vec![services, gross];
    if let Some((k, v)) = tag {
        and.push(json!({"Tags": {"Key": k, "Values": [v], "MatchOptions": ["EQUALS"]}}));
    }
    and.sort_by_key(|x| x.to_string());
    json!({ "And": and })
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn tag_map<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    json!(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    )
}

/// The whole managed state. Equal for two runs that left the account in the same state.
pub fn snapshot(env: &TestEnv) -> Value {
    let state = json!({
        "iam": iam(env),
        "s3": s3(env),
        "logs": logs(env),
        "bedrock_logging": bedrock_logging(env),
        "sns": sns(env),
        "alarms": alarms(env),
        "dashboards": dashboards(env),
        "budgets": budgets(env),
        // What the stand-in holds for the operations moto does not serve, read through its
        // Rust API (it is not in moto).
        "standin": env.standin.snapshot(),
    });
    // Inference-profile IDs are generated: the dashboard and alarms that name one are equal
    // when they name the same profile.
    let mut text = state.to_string();
    for p in env.standin.inference_profiles() {
        text = text.replace(&p.id, &format!("<profile {}>", p.name));
    }
    serde_json::from_str(&text).unwrap_or(state)
}

/// A readable difference between two snapshots (a unified diff of their pretty JSON), empty
/// when they are equal.
pub fn diff(expected: &Value, actual: &Value) -> String {
    if expected == actual {
        return String::new();
    }
    let a = serde_json::to_string_pretty(expected).unwrap_or_default();
    let b = serde_json::to_string_pretty(actual).unwrap_or_default();
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(4)
        .header("expected (clean run)", "actual")
        .to_string()
}

fn iam(env: &TestEnv) -> Value {
    let iam = &env.aws.iam;
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = env
            .block_on(iam.list_roles().set_marker(marker.clone()).send())
            .expect("snapshot: ListRoles");
        names.extend(out.roles().iter().map(|r| r.role_name().to_string()));
        match out.marker() {
            Some(m) if out.is_truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    let names = sorted(names);

    let ours = names.iter().any(|n| n == ROLE).then(|| {
        let role = env
            .block_on(iam.get_role().role_name(ROLE).send())
            .expect("snapshot: GetRole");
        let role = role.role().expect("role");
        let trust = role
            .assume_role_policy_document()
            .map(document)
            .unwrap_or(Value::Null);
        let policy_names = env
            .block_on(iam.list_role_policies().role_name(ROLE).send())
            .expect("snapshot: ListRolePolicies")
            .policy_names()
            .to_vec();
        let mut inline = BTreeMap::new();
        for name in sorted(policy_names) {
            let doc = match env.block_on(
                iam.get_role_policy()
                    .role_name(ROLE)
                    .policy_name(&name)
                    .send(),
            ) {
                Ok(p) => document(p.policy_document()),
                Err(e) => absent("GetRolePolicy", e),
            };
            inline.insert(name, doc);
        }
        let attached = env
            .block_on(iam.list_attached_role_policies().role_name(ROLE).send())
            .expect("snapshot: ListAttachedRolePolicies")
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_string))
            .collect::<Vec<_>>();
        let tags = env
            .block_on(iam.list_role_tags().role_name(ROLE).send())
            .expect("snapshot: ListRoleTags");
        json!({
            "path": role.path(),
            "trust_policy": trust,
            "inline_policies": inline,
            "attached_policies": sorted(attached),
            "tags": tag_map(tags.tags().iter().map(|t| (t.key(), t.value()))),
        })
    });

    json!({
        "role_count": names.len(),
        "roles": names,
        ROLE: ours,
    })
}

fn s3(env: &TestEnv) -> Value {
    let s3 = &env.aws.s3;
    let buckets = env
        .block_on(s3.list_buckets().send())
        .expect("snapshot: ListBuckets");
    let names = sorted(
        buckets
            .buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_string))
            .collect::<Vec<_>>(),
    );
    let ours = names.iter().any(|n| n == BUCKET).then(|| bucket(env));
    json!({
        "buckets": names,
        BUCKET: ours,
    })
}

fn bucket(env: &TestEnv) -> Value {
    let s3 = &env.aws.s3;

    let location = match env.block_on(s3.get_bucket_location().bucket(BUCKET).send()) {
        // us-east-1 is the empty location constraint.
        Ok(l) => json!(
            l.location_constraint()
                .map(|c| c.as_str().to_string())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "us-east-1".into())
        ),
        Err(e) => absent("GetBucketLocation", e),
    };

    // The SDK cannot parse moto's versioning answer: read the XML and keep the status.
    let versioning_xml = env.raw_get(&format!("/{BUCKET}?versioning"));
    let versioning = versioning_xml
        .split_once("<Status>")
        .and_then(|(_, rest)| rest.split_once("</Status>"))
        .map(|(status, _)| json!(status))
        .unwrap_or(Value::Null);

    let lifecycle = match env.block_on(
        s3.get_bucket_lifecycle_configuration()
            .bucket(BUCKET)
            .send(),
    ) {
        Ok(l) => {
            let mut rules: Vec<Value> = l
                .rules()
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id(),
                        "status": r.status().as_str(),
                        "prefix": r.filter().and_then(|f| f.prefix()),
                        "expiration_days": r.expiration().and_then(|e| e.days()),
                        "noncurrent_days": r
                            .noncurrent_version_expiration()
                            .and_then(|n| n.noncurrent_days()),
                        "abort_incomplete_days": r
                            .abort_incomplete_multipart_upload()
                            .and_then(|a| a.days_after_initiation()),
                    })
                })
                .collect();
            rules.sort_by_key(|r| r.to_string());
            json!(rules)
        }
        Err(e) => absent("GetBucketLifecycleConfiguration", e),
    };

    let encryption = match env.block_on(s3.get_bucket_encryption().bucket(BUCKET).send()) {
        Ok(enc) => json!(
            enc.server_side_encryption_configuration()
                .map(|c| c
                    .rules()
                    .iter()
                    .map(|r| {
                        let default = r.apply_server_side_encryption_by_default();
                        json!({
                            "algorithm": default.map(|d| d.sse_algorithm().as_str()),
                            "kms_key": default.and_then(|d| d.kms_master_key_id()),
                            "bucket_key": r.bucket_key_enabled(),
                        })
                    })
                    .collect::<Vec<_>>())
                .unwrap_or_default()
        ),
        Err(e) => absent("GetBucketEncryption", e),
    };

    let public_access_block = match env.block_on(s3.get_public_access_block().bucket(BUCKET).send())
    {
        Ok(p) => {
            let c = p.public_access_block_configuration();
            json!({
                "block_public_acls": c.and_then(|c| c.block_public_acls()),
                "ignore_public_acls": c.and_then(|c| c.ignore_public_acls()),
                "block_public_policy": c.and_then(|c| c.block_public_policy()),
                "restrict_public_buckets": c.and_then(|c| c.restrict_public_buckets()),
            })
        }
        Err(e) => absent("GetPublicAccessBlock", e),
    };

    let policy = match env.block_on(s3.get_bucket_policy().bucket(BUCKET).send()) {
        Ok(p) => p.policy().map(document).unwrap_or(Value::Null),
        Err(e) => absent("GetBucketPolicy", e),
    };

    let tags = match env.block_on(s3.get_bucket_tagging().bucket(BUCKET).send()) {
        Ok(t) => tag_map(t.tag_set().iter().map(|t| (t.key(), t.value()))),
        Err(e) => absent("GetBucketTagging", e),
    };

    json!({
        "location": location,
        "versioning": versioning,
        "lifecycle_rules": lifecycle,
        "encryption": encryption,
        "public_access_block": public_access_block,
        "policy": policy,
        "tags": tags,
    })
}

fn logs(env: &TestEnv) -> Value {
    let logs = &env.aws.logs;
    let mut groups = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let out = env
            .block_on(
                logs.describe_log_groups()
                    .set_next_token(token.clone())
                    .send(),
            )
            .expect("snapshot: DescribeLogGroups");
        for g in out.log_groups() {
            let Some(name) = g.log_group_name() else {
                continue;
            };
            let arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}");
            let tags = match env.block_on(logs.list_tags_for_resource().resource_arn(arn).send()) {
                Ok(t) => tag_map(
                    t.tags()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.as_str(), v.as_str())),
                ),
                Err(e) => absent("ListTagsForResource (logs)", e),
            };
            groups.insert(
                name.to_string(),
                json!({
                    "retention_days": g.retention_in_days(),
                    "kms_key": g.kms_key_id(),
                    "tags": tags,
                }),
            );
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    json!(groups)
}

fn bedrock_logging(env: &TestEnv) -> Value {
    let out = match env.block_on(
        env.aws
            .bedrock
            .get_model_invocation_logging_configuration()
            .send(),
    ) {
        Ok(out) => out,
        Err(e) => return absent("GetModelInvocationLoggingConfiguration", e),
    };
    // moto answers an empty configuration (no destination) where AWS answers none.
    let Some(c) = out
        .logging_config()
        .filter(|c| c.cloud_watch_config().is_some() || c.s3_config().is_some())
    else {
        return Value::Null;
    };
    let cloudwatch = c.cloud_watch_config().map(|cw| {
        json!({
            "log_group": cw.log_group_name(),
            "role_arn": cw.role_arn(),
            "large_data": cw.large_data_delivery_s3_config().map(|l| json!({
                "bucket": l.bucket_name(),
                "key_prefix": l.key_prefix(),
            })),
        })
    });
    let s3 = c.s3_config().map(|s| {
        json!({
            "bucket": s.bucket_name(),
            "key_prefix": s.key_prefix(),
        })
    });
    json!({
        "cloudwatch": cloudwatch,
        "s3": s3,
        "text": c.text_data_delivery_enabled(),
        "image": c.image_data_delivery_enabled(),
        "embedding": c.embedding_data_delivery_enabled(),
        "video": c.video_data_delivery_enabled(),
    })
}

fn sns(env: &TestEnv) -> Value {
    let sns = &env.aws.sns;
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = env
            .block_on(sns.list_topics().set_next_token(token.clone()).send())
            .expect("snapshot: ListTopics");
        arns.extend(
            out.topics()
                .iter()
                .filter_map(|t| t.topic_arn().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut topics = BTreeMap::new();
    for arn in sorted(arns) {
        let attributes = match env.block_on(sns.get_topic_attributes().topic_arn(&arn).send()) {
            Ok(a) => {
                let a = a.attributes().cloned().unwrap_or_default();
                json!({
                    "DisplayName": a.get("DisplayName"),
                    "Policy": a.get("Policy").map(|p| document(p)),
                })
            }
            Err(e) => absent("GetTopicAttributes", e),
        };
        let tags = match env.block_on(sns.list_tags_for_resource().resource_arn(&arn).send()) {
            Ok(t) => tag_map(t.tags().iter().map(|t| (t.key(), t.value()))),
            Err(e) => absent("ListTagsForResource (sns)", e),
        };
        let mut subscriptions = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = env
                .block_on(
                    sns.list_subscriptions_by_topic()
                        .topic_arn(&arn)
                        .set_next_token(token.clone())
                        .send(),
                )
                .expect("snapshot: ListSubscriptionsByTopic");
            subscriptions.extend(out.subscriptions().iter().map(|s| {
                format!(
                    "{}:{}",
                    s.protocol().unwrap_or_default(),
                    s.endpoint().unwrap_or_default()
                )
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let emails: Vec<String> = subscriptions
            .iter()
            .filter_map(|s| s.strip_prefix("email:").map(str::to_string))
            .collect();
        topics.insert(
            // The topic's name: its ARN without random parts, as the key.
            arn.rsplit(':').next().unwrap_or(&arn).to_string(),
            json!({
                "arn": arn,
                "attributes": attributes,
                "tags": tags,
                "email_subscriptions": sorted(emails),
                "subscription_count": subscriptions.len(),
            }),
        );
    }
    json!(topics)
}

fn alarms(env: &TestEnv) -> Value {
    let cw = &env.aws.cloudwatch;
    let mut alarms = BTreeMap::new();
    let mut composite = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = env
            .block_on(cw.describe_alarms().set_next_token(token.clone()).send())
            .expect("snapshot: DescribeAlarms");
        for a in out.metric_alarms() {
            let name = a.alarm_name().unwrap_or_default().to_string();
            let dimensions: BTreeMap<&str, &str> = a
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
                .collect();
            let tags =
                match a.alarm_arn() {
                    Some(arn) => {
                        match env.block_on(cw.list_tags_for_resource().resource_arn(arn).send()) {
                            Ok(t) => tag_map(t.tags().iter().map(|t| {
                                (t.key().unwrap_or_default(), t.value().unwrap_or_default())
                            })),
                            Err(e) => absent("ListTagsForResource (cloudwatch)", e),
                        }
                    }
                    None => Value::Null,
                };
            alarms.insert(
                name,
                json!({
                    "namespace": a.namespace(),
                    "metric": a.metric_name(),
                    "statistic": a.statistic().map(|s| s.as_str()),
                    "extended_statistic": a.extended_statistic(),
                    "metrics": a.metrics().len(),
                    "period": a.period(),
                    "evaluation_periods": a.evaluation_periods(),
                    "datapoints_to_alarm": a.datapoints_to_alarm(),
                    "threshold": a.threshold(),
                    "comparison": a.comparison_operator().map(|c| c.as_str()),
                    "dimensions": dimensions,
                    "actions_enabled": a.actions_enabled(),
                    "alarm_actions": sorted(a.alarm_actions().to_vec()),
                    "ok_actions": sorted(a.ok_actions().to_vec()),
                    "insufficient_data_actions": sorted(a.insufficient_data_actions().to_vec()),
                    "treat_missing_data": a.treat_missing_data(),
                    "description": a.alarm_description(),
                    "unit": a.unit().map(|u| u.as_str()),
                    "tags": tags,
                }),
            );
        }
        composite.extend(
            out.composite_alarms()
                .iter()
                .filter_map(|c| c.alarm_name().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    json!({
        "count": alarms.len(),
        "metric_alarms": alarms,
        "composite_alarms": sorted(composite),
    })
}

fn dashboards(env: &TestEnv) -> Value {
    let cw = &env.aws.cloudwatch;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = env
            .block_on(cw.list_dashboards().set_next_token(token.clone()).send())
            .expect("snapshot: ListDashboards");
        names.extend(
            out.dashboard_entries()
                .iter()
                .filter_map(|d| d.dashboard_name().map(str::to_string)),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    let mut dashboards = BTreeMap::new();
    for name in sorted(names) {
        let body = match env.block_on(cw.get_dashboard().dashboard_name(&name).send()) {
            Ok(d) => d
                .dashboard_body()
                .map(|b| {
                    serde_json::from_str::<Value>(b)
                        .unwrap_or_else(|_| json!({ "unparsable": b.to_string() }))
                })
                .unwrap_or(Value::Null),
            Err(e) => absent("GetDashboard", e),
        };
        dashboards.insert(name, body);
    }
    json!(dashboards)
}

// `CostFilters` is what the tool writes (moto serves no `FilterExpression`).
#[allow(deprecated)]
fn budgets(env: &TestEnv) -> Value {
    let budgets = &env.aws.budgets;
    let mut found = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let out = match env.block_on(
            budgets
                .describe_budgets()
                .account_id(ACCOUNT)
                .set_next_token(token.clone())
                .send(),
        ) {
            Ok(out) => out,
            Err(e) => return absent("DescribeBudgets", e),
        };
        for b in out.budgets() {
            let name = b.budget_name().to_string();
            #[allow(deprecated)] // CostFilters: recorded so that a legacy filter shows up.
            let legacy: BTreeMap<String, Vec<String>> = b
                .cost_filters()
                .map(|f| {
                    f.iter()
                        .map(|(k, v)| (k.clone(), sorted(v.clone())))
                        .collect()
                })
                .unwrap_or_default();
            let filter = b.filter_expression().map(budget_filter);
            let notifications = match env.block_on(
                budgets
                    .describe_notifications_for_budget()
                    .account_id(ACCOUNT)
                    .budget_name(&name)
                    .send(),
            ) {
                Ok(n) => {
                    let mut list: Vec<Value> = n
                        .notifications()
                        .iter()
                        .map(|n| {
                            json!({
                                "type": n.notification_type().as_str(),
                                "comparison": n.comparison_operator().as_str(),
                                "threshold": n.threshold(),
                                "threshold_type": n.threshold_type().map(|t| t.as_str()),
                            })
                        })
                        .collect();
                    list.sort_by_key(|n| n.to_string());
                    json!(list)
                }
                Err(e) => absent("DescribeNotificationsForBudget", e),
            };
            found.insert(
                name,
                json!({
                    "type": b.budget_type().as_str(),
                    "time_unit": b.time_unit().as_str(),
                    "limit": b.budget_limit().map(|l| json!({
                        // "100" and "100.0" are the same limit.
                        "amount": l.amount().parse::<f64>().ok(),
                        "unit": l.unit(),
                    })),
                    "filter": filter,
                    "cost_filters": legacy,
                    "notifications": notifications,
                }),
            );
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    json!(found)
}
