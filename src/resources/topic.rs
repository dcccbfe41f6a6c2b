//! `topic`: the SNS alert topic that CloudWatch alarms and AWS Budgets publish to (its policy
//! lets exactly those two services publish, for this account), with one email subscription per
//! configured address, optionally encrypted with a customer-managed KMS key
//! (`[alerts] kms_key_arn`, the topic's `KmsMasterKeyId` attribute; SNS API reference,
//! SetTopicAttributes: "KmsMasterKeyId – The ID of an AWS managed customer master key (CMK)
//! for Amazon SNS or a custom CMK"). The key's policy must let every publisher use it; the
//! tool checks it and says which statements are missing, as for the log group's key.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{
    ComponentId, Context, Diff, Foreign, Health, HealthLevel, Ownership, Permission, Resource,
};
use crate::resources::kms::{self, KeyCheck, KeyUse};
use crate::resources::{
    absent_if, foreign_by_tags, ownership_by_tag, retry_while, run_bounded, tags_field,
};
use futures::future::BoxFuture;
use std::time::Duration;

pub struct Topic;

const SNS_DEFAULT_SID: &str = "__default_statement_ID";

/// The topic attribute naming its encryption key (SNS API reference, SetTopicAttributes).
const KMS_ATTRIBUTE: &str = "KmsMasterKeyId";

/// Subscriptions and settings sent at once; SNS's per-account rates are far above this.
const CONCURRENCY: usize = 6;

const NOT_FOUND: &[&str] = &[
    "NotFound",
    "NotFoundException",
    "ResourceNotFound",
    "ResourceNotFoundException",
];

#[derive(Debug, Clone)]
pub struct Subscription {
    pub endpoint: String,
    /// None while the address has not confirmed (SNS then lists "PendingConfirmation").
    pub arn: Option<String>,
}

/// The topic (if it exists) and what its configured key's policy allows its publishers.
#[derive(Debug, Clone)]
pub struct TopicRead {
    pub topic: Option<TopicState>,
    pub key: Vec<(KeyUse, KeyCheck)>,
}

#[derive(Debug, Clone)]
pub struct TopicState {
    pub arn: String,
    pub display_name: String,
    /// `KmsMasterKeyId` as SNS returns it; empty when the topic is not encrypted.
    pub kms_master_key_id: String,
    pub policy: Option<Value>,
    pub tags: BTreeMap<String, String>,
    pub email_subscriptions: Vec<Subscription>,
}

impl TopicState {
    pub fn pending(&self) -> Vec<&str> {
        self.email_subscriptions
            .iter()
            .filter(|s| s.arn.is_none())
            .map(|s| s.endpoint.as_str())
            .collect()
    }
}

impl Topic {
    fn desired_policy(
        cx: &Context,
        topic_arn: &str,
        observed: Option<&Value>,
    ) -> Result<Value, AwsError> {
        let ours = docs::render(
            "topic-policy",
            json!({
                "topic_arn": topic_arn,
                "account_id": cx.account.id,
                // Cost Anomaly Detection publishes immediate alerts as costalerts.amazonaws.com.
                "cost_alerts": cx.config.anomaly_alerts_to_topic(),
            }),
        )?;
        // SNS gives every new topic a default statement (any principal of the account may
        // publish, subscribe, change or delete it). It is SNS's, not someone else's: a topic
        // that still has it was never given a policy, so it is replaced, not kept.
        let observed = observed.map(|policy| {
            let mut policy = policy.clone();
            if let Some(Value::Array(statements)) = policy.get_mut("Statement") {
                statements.retain(|s| s.get("Sid") != Some(&json!(SNS_DEFAULT_SID)));
            }
            policy
        });
        Ok(docs::merge_statements(ours, observed.as_ref()))
    }

    fn desired_emails(cx: &Context) -> Vec<String> {
        let set: BTreeSet<String> = cx
            .config
            .alerts
            .emails
            .iter()
            .map(|e| e.to_ascii_lowercase())
            .collect();
        set.into_iter().collect()
    }

    fn desired(cx: &Context, state: Option<&TopicState>) -> Result<Vec<(String, Value)>, AwsError> {
        let arn = state
            .map(|s| s.arn.clone())
            .unwrap_or_else(|| cx.topic_arn());
        Ok(vec![
            ("display_name".into(), json!(cx.config.alerts.display_name)),
            (
                "kms_master_key_id".into(),
                json!(cx.config.alerts.kms_key_arn.clone().unwrap_or_default()),
            ),
            (
                "policy".into(),
                Self::desired_policy(cx, &arn, state.and_then(|s| s.policy.as_ref()))?,
            ),
            ("tags".into(), json!(cx.config.tags())),
            (
                "email_subscriptions".into(),
                json!(Self::desired_emails(cx)),
            ),
        ])
    }

    async fn list_subscriptions(cx: &Context, arn: &str) -> Result<Vec<Subscription>, AwsError> {
        let mut subs = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = cx
                .aws
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(arn)
                .set_next_token(next.take())
                .send()
                .await;
            let Some(page) = absent_if(page.aws("sns:ListSubscriptionsByTopic"), NOT_FOUND)? else {
                return Ok(subs);
            };
            for s in page.subscriptions() {
                if s.protocol() != Some("email") {
                    continue;
                }
                let Some(endpoint) = s.endpoint() else {
                    continue;
                };
                let arn = s
                    .subscription_arn()
                    .filter(|a| a.starts_with("arn:"))
                    .map(str::to_string);
                subs.push(Subscription {
                    endpoint: endpoint.to_ascii_lowercase(),
                    arn,
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(subs),
            }
        }
    }

    fn sns_tags(cx: &Context) -> Result<Vec<aws_sdk_sns::types::Tag>, AwsError> {
        cx.config
            .tags()
            .into_iter()
            .map(|(k, v)| Ok(aws_sdk_sns::types::Tag::builder().key(k).value(v).build()?))
            .collect()
    }

    fn notice_pending(cx: &Context, emails: &[&str]) {
        for email in emails {
            cx.notice(format!(
                "{email} must click the link in the confirmation email from AWS Notifications before alerts reach it"
            ));
        }
    }
}

#[async_trait]
impl Resource for Topic {
    type State = TopicRead;

    fn id(&self) -> ComponentId {
        ComponentId::Topic
    }

    fn name(&self, cx: &Context) -> String {
        cx.config.alerts.topic_name.clone()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let arn = cx.topic_arn();
        let sns = &cx.aws.sns;
        let key_check = async {
            match &cx.config.alerts.kms_key_arn {
                Some(key) => kms::check_uses(cx, key, &kms::topic_key_uses(cx)).await,
                None => Vec::new(),
            }
        };
        let (attributes, subscriptions, tags, key) = tokio::join!(
            sns.get_topic_attributes().topic_arn(&arn).send(),
            Self::list_subscriptions(cx, &arn),
            sns.list_tags_for_resource().resource_arn(&arn).send(),
            key_check,
        );
        let Some(attributes) = absent_if(attributes.aws("sns:GetTopicAttributes"), NOT_FOUND)?
        else {
            return Ok(TopicRead { topic: None, key });
        };
        let attrs = attributes.attributes().cloned().unwrap_or_default();
        let arn = attrs.get("TopicArn").cloned().unwrap_or(arn);
        cx.set_topic_arn(&arn);
        let tags = absent_if(tags.aws("sns:ListTagsForResource"), NOT_FOUND)?
            .map(|t| {
                t.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(TopicRead {
            topic: Some(TopicState {
                arn,
                display_name: attrs.get("DisplayName").cloned().unwrap_or_default(),
                kms_master_key_id: attrs.get("KmsMasterKeyId").cloned().unwrap_or_default(),
                policy: attrs.get("Policy").and_then(|p| docs::parse_policy(p)),
                tags,
                email_subscriptions: subscriptions?,
            }),
            key,
        })
    }

    fn diff(&self, cx: &Context, read: &Self::State) -> Diff {
        let diff = Self::topic_diff(cx, read.topic.as_ref());
        Self::key_notes(cx, diff, &read.key)
    }

    async fn apply(&self, cx: &Context, read: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        Self::put(cx, read.topic.as_ref(), diff).await
    }

    fn ownership(&self, cx: &Context, read: &Self::State) -> Ownership {
        ownership_by_tag(cx, read.topic.as_ref().map(|s| &s.tags))
    }

    fn foreign(&self, cx: &Context, read: &Self::State) -> Vec<Foreign> {
        read.topic
            .as_ref()
            .and_then(|s| {
                foreign_by_tags(
                    cx,
                    format!("topic {}", cx.config.alerts.topic_name),
                    &s.tags,
                )
            })
            .into_iter()
            .collect()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let topic = cx.configured_topic_arn();
        vec![Permission::new(
            &[
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                "sns:CreateTopic",
                "sns:SetTopicAttributes",
                "sns:TagResource",
                "sns:Subscribe",
                "sns:Unsubscribe",
                "sns:DeleteTopic",
            ],
            // Unsubscribe acts on the topic's subscriptions, topic-arn:id.
            [topic.clone(), format!("{topic}:*")],
        )]
        .into_iter()
        .chain(
            cx.config
                .alerts
                .kms_key_arn
                .iter()
                .map(|key| Permission::new(&["kms:GetKeyPolicy"], [key.clone()])),
        )
        .collect()
    }

    fn health(&self, cx: &Context, read: &Self::State) -> Vec<Health> {
        let mut items = Self::key_facts(cx, &read.key);
        let Some(s) = &read.topic else { return items };
        items.extend(s
            .email_subscriptions
            .iter()
            .map(|sub| match &sub.arn {
                Some(_) => Health {
                    subject: sub.endpoint.clone(),
                    level: HealthLevel::Ok,
                    detail: "subscription confirmed".into(),
                },
                None => Health {
                    subject: sub.endpoint.clone(),
                    level: HealthLevel::Warning,
                    detail: "awaiting confirmation: the address must click the link in the email from AWS Notifications".into(),
                },
            }));
        for email in Self::desired_emails(cx) {
            if !s
                .email_subscriptions
                .iter()
                .any(|sub| sub.endpoint == email)
            {
                items.push(Health {
                    subject: email,
                    level: HealthLevel::Warning,
                    detail: "configured but not subscribed: run apply".into(),
                });
            }
        }
        items
    }

    async fn delete(&self, cx: &Context, read: &Self::State) -> Result<(), AwsError> {
        let Some(s) = &read.topic else { return Ok(()) };
        absent_if(
            cx.aws
                .sns
                .delete_topic()
                .topic_arn(&s.arn)
                .send()
                .await
                .aws("sns:DeleteTopic"),
            NOT_FOUND,
        )?;
        Ok(())
    }
}

impl Topic {
    fn topic_diff(cx: &Context, state: Option<&TopicState>) -> Diff {
        let desired = match Self::desired(cx, state) {
            Ok(d) => d,
            Err(e) => return Diff::unchanged().with_note(e.to_string()),
        };
        let Some(s) = state else {
            return Diff::create(desired);
        };

        let subscribed: BTreeSet<String> = s
            .email_subscriptions
            .iter()
            .map(|e| e.endpoint.clone())
            .collect();
        let mut diff = Diff::compare(desired, |field| match field {
            "display_name" => json!(s.display_name),
            "kms_master_key_id" => json!(s.kms_master_key_id),
            "policy" => s.policy.clone().unwrap_or(Value::Null),
            "tags" => tags_field(&cx.config.tags(), &s.tags).0,
            "email_subscriptions" => json!(subscribed),
            _ => Value::Null,
        });
        diff.changes.retain(|c| {
            !(c.field == "policy" && !c.old.is_null() && docs::same_policy(&c.old, &c.new))
        });
        if diff.changes.is_empty() {
            diff.action = crate::engine::Action::Unchanged;
        }
        let pending = s.pending();
        if !pending.is_empty() {
            diff = diff.with_note(format!(
                "awaiting email confirmation: {}",
                pending.join(", ")
            ));
        }
        diff
    }

    async fn put(cx: &Context, state: Option<&TopicState>, diff: &Diff) -> Result<(), AwsError> {
        let sns = &cx.aws.sns;
        let alerts = &cx.config.alerts;
        let arn = match state {
            Some(s) => s.arn.clone(),
            None => {
                let mut create = sns
                    .create_topic()
                    .name(&alerts.topic_name)
                    .attributes("DisplayName", &alerts.display_name);
                if let Some(key) = &alerts.kms_key_arn {
                    create = create.attributes(KMS_ATTRIBUTE, key);
                }
                let created = create
                    .set_tags(Some(Self::sns_tags(cx)?))
                    .send()
                    .await
                    .aws("sns:CreateTopic")?;
                created
                    .topic_arn()
                    .ok_or_else(|| AwsError::bad_response("sns:CreateTopic", "topic ARN"))?
                    .to_string()
            }
        };
        // Alarms and budgets use exactly the ARN AWS returned.
        cx.set_topic_arn(&arn);
        // The settings and the subscriptions are independent once the topic exists: send
        // them together. Each job returns the address that still awaits confirmation, if any.
        let existing = state
            .as_ref()
            .map(|s| s.email_subscriptions.clone())
            .unwrap_or_default();
        let desired = Self::desired_emails(cx);
        let mut jobs: Vec<BoxFuture<'_, Result<Option<String>, AwsError>>> = Vec::new();
        if state.is_some() && diff.touches("display_name") {
            jobs.push(Box::pin(async {
                sns.set_topic_attributes()
                    .topic_arn(&arn)
                    .attribute_name("DisplayName")
                    .attribute_value(&alerts.display_name)
                    .send()
                    .await
                    .aws("sns:SetTopicAttributes")
                    .map(|_| None)
            }));
        }
        if state.is_some() && diff.touches("kms_master_key_id") {
            // An empty value turns encryption off (the key was dropped from the config).
            let key = alerts.kms_key_arn.clone().unwrap_or_default();
            let arn = &arn;
            jobs.push(Box::pin(async move {
                sns.set_topic_attributes()
                    .topic_arn(arn)
                    .attribute_name(KMS_ATTRIBUTE)
                    .attribute_value(key)
                    .send()
                    .await
                    .aws("sns:SetTopicAttributes")
                    .map(|_| None)
            }));
        }
        if diff.touches("policy") {
            let policy =
                Self::desired_policy(cx, &arn, state.as_ref().and_then(|s| s.policy.as_ref()))?
                    .to_string();
            let arn = &arn;
            jobs.push(Box::pin(async move {
                // A topic just created may not be found by SetTopicAttributes for a moment.
                retry_while(
                    cx,
                    ComponentId::Topic,
                    Duration::from_secs(30),
                    "waiting for the new topic to become visible",
                    |e| e.code_is(NOT_FOUND),
                    || async {
                        sns.set_topic_attributes()
                            .topic_arn(arn)
                            .attribute_name("Policy")
                            .attribute_value(&policy)
                            .send()
                            .await
                            .aws("sns:SetTopicAttributes")
                    },
                )
                .await
                .map(|_| None)
            }));
        }
        if state.is_some() && diff.touches("tags") {
            let tags = Self::sns_tags(cx)?;
            jobs.push(Box::pin(async {
                sns.tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .aws("sns:TagResource")
                    .map(|_| None)
            }));
        }
        let mut pending: Vec<String> = existing
            .iter()
            .filter(|s| s.arn.is_none() && desired.contains(&s.endpoint))
            .map(|s| s.endpoint.clone())
            .collect();
        if diff.touches("email_subscriptions") {
            for email in desired
                .iter()
                .filter(|e| !existing.iter().any(|s| &s.endpoint == *e))
            {
                let arn = &arn;
                jobs.push(Box::pin(async move {
                    let out = sns
                        .subscribe()
                        .topic_arn(arn)
                        .protocol("email")
                        .endpoint(email)
                        .send()
                        .await
                        .aws("sns:Subscribe")?;
                    // SNS answers "pending confirmation" until the address clicks the link.
                    let confirmed = out
                        .subscription_arn()
                        .is_some_and(|a| a.starts_with("arn:"));
                    Ok((!confirmed).then(|| email.clone()))
                }));
            }
            for sub in existing.iter().filter(|s| !desired.contains(&s.endpoint)) {
                match &sub.arn {
                    Some(sub_arn) => jobs.push(Box::pin(async move {
                        absent_if(
                            sns.unsubscribe()
                                .subscription_arn(sub_arn)
                                .send()
                                .await
                                .aws("sns:Unsubscribe"),
                            NOT_FOUND,
                        )
                        .map(|_| None)
                    })),
                    None => cx.notice(format!(
                        "{} is no longer configured but its subscription still awaits confirmation; SNS cannot remove it until it is confirmed or expires (3 days)",
                        sub.endpoint
                    )),
                }
            }
        }
        pending.extend(run_bounded(jobs, CONCURRENCY).await?.into_iter().flatten());
        Self::notice_pending(cx, &pending.iter().map(String::as_str).collect::<Vec<_>>());
        Ok(())
    }

    /// The plan notes for the key's policy: one per publisher it does not let in.
    fn key_notes(cx: &Context, mut diff: Diff, checks: &[(KeyUse, KeyCheck)]) -> Diff {
        if let Some(key) = &cx.config.alerts.kms_key_arn {
            for (key_use, check) in checks {
                if let Some(note) = kms::note(cx, key, key_use, check) {
                    diff = diff.with_note(note);
                }
            }
        }
        diff
    }

    fn key_facts(cx: &Context, checks: &[(KeyUse, KeyCheck)]) -> Vec<Health> {
        match &cx.config.alerts.kms_key_arn {
            Some(key) => checks
                .iter()
                .map(|(key_use, check)| kms::health(cx, key, key_use, check))
                .collect(),
            None => Vec::new(),
        }
    }
}
