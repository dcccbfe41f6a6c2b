//! `log-group`: the CloudWatch Logs group Bedrock writes invocation records to, with its
//! retention, optional KMS key and tags.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::engine::{ComponentId, Context, Diff, Foreign, Health, Ownership, Permission, Resource};
use crate::resources::kms::{self, KeyCheck, LOG_GROUP_KEY};
use crate::resources::{
    absent_if, created_or_exists, foreign_by_tags, ownership_by_tag, tags_field,
};

pub struct LogGroup;

#[derive(Debug, Clone)]
pub struct LogGroupState {
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// The group (`None`: absent) and, with `log_group.kms_key_arn`, what its key's policy allows.
#[derive(Debug, Clone)]
pub struct LogGroupRead {
    pub group: Option<LogGroupState>,
    pub key: Option<KeyCheck>,
}

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

impl LogGroup {
    /// The group's ARN without the `:*` suffix that DescribeLogGroups' `arn` carries; the
    /// tagging APIs want this form.
    pub fn arn(cx: &Context) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{}",
            cx.partition(),
            cx.region,
            cx.account.id,
            cx.config.log_group.name
        )
    }

    /// The group of exactly this name: DescribeLogGroups matches by prefix and answers at
    /// most 50 groups a page (CloudWatch Logs API reference, DescribeLogGroups: `limit`
    /// "the default is up to 50 items"), so every page is read until it is found.
    async fn find_group(
        logs: &aws_sdk_cloudwatchlogs::Client,
        name: &str,
    ) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, AwsError> {
        let mut token: Option<String> = None;
        loop {
            let page = logs
                .describe_log_groups()
                .log_group_name_prefix(name)
                .set_next_token(token.clone())
                .send()
                .await
                .aws("logs:DescribeLogGroups")?;
            if let Some(group) = page
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name))
            {
                return Ok(Some(group.clone()));
            }
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
                _ => return Ok(None),
            }
        }
    }

    fn desired(cx: &Context) -> Vec<(String, Value)> {
        let l = &cx.config.log_group;
        vec![
            ("retention_days".into(), json!(l.retention_days)),
            ("kms_key_id".into(), json!(l.kms_key_arn)),
            ("tags".into(), json!(cx.config.tags())),
        ]
    }
}

#[async_trait]
impl Resource for LogGroup {
    type State = LogGroupRead;

    fn id(&self) -> ComponentId {
        ComponentId::LogGroup
    }

    fn name(&self, cx: &Context) -> String {
        cx.config.log_group.name.clone()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let name = &cx.config.log_group.name;
        let logs = &cx.aws.logs;
        let key_check = kms::check_configured(cx, &cx.config.log_group.kms_key_arn, &LOG_GROUP_KEY);
        let (group, tags, key) = tokio::join!(
            Self::find_group(logs, name),
            logs.list_tags_for_resource()
                .resource_arn(Self::arn(cx))
                .send(),
            key_check,
        );
        let Some(group) = group? else {
            return Ok(LogGroupRead { group: None, key });
        };
        let group = &group;
        let tags = absent_if(tags.aws("logs:ListTagsForResource"), NOT_FOUND)?
            .and_then(|t| t.tags().cloned())
            .unwrap_or_default()
            .into_iter()
            .collect();
        Ok(LogGroupRead {
            group: Some(LogGroupState {
                retention_days: group.retention_in_days(),
                kms_key_id: group.kms_key_id().map(str::to_string),
                tags,
            }),
            key,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let desired = Self::desired(cx);
        let diff = match &state.group {
            None => Diff::create(desired),
            Some(s) => Diff::compare(desired, |field| match field {
                "retention_days" => json!(s.retention_days),
                "kms_key_id" => json!(s.kms_key_id),
                "tags" => tags_field(&cx.config.tags(), &s.tags).0,
                _ => Value::Null,
            }),
        };
        let key = &cx.config.log_group.kms_key_arn;
        kms::with_note(diff, cx, key, &LOG_GROUP_KEY, &state.key)
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        kms::health_facts(
            cx,
            &cx.config.log_group.kms_key_arn,
            &LOG_GROUP_KEY,
            &state.key,
        )
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        let l = &cx.config.log_group;
        let logs = &cx.aws.logs;
        if state.group.is_none() {
            created_or_exists(
                logs.create_log_group()
                    .log_group_name(&l.name)
                    .set_kms_key_id(l.kms_key_arn.clone())
                    .set_tags(Some(cx.config.tags().into_iter().collect()))
                    .send()
                    .await
                    .aws("logs:CreateLogGroup"),
                &["ResourceAlreadyExistsException"],
            )?;
        } else {
            if diff.touches("kms_key_id") {
                match &l.kms_key_arn {
                    Some(key) => logs
                        .associate_kms_key()
                        .log_group_name(&l.name)
                        .kms_key_id(key)
                        .send()
                        .await
                        .aws("logs:AssociateKmsKey")
                        .map(|_| ())?,
                    None => logs
                        .disassociate_kms_key()
                        .log_group_name(&l.name)
                        .send()
                        .await
                        .aws("logs:DisassociateKmsKey")
                        .map(|_| ())?,
                }
            }
            if diff.touches("tags") {
                logs.tag_resource()
                    .resource_arn(Self::arn(cx))
                    .set_tags(Some(cx.config.tags().into_iter().collect()))
                    .send()
                    .await
                    .aws("logs:TagResource")?;
            }
        }
        if diff.touches("retention_days") {
            logs.put_retention_policy()
                .log_group_name(&l.name)
                .retention_in_days(l.retention_days)
                .send()
                .await
                .aws("logs:PutRetentionPolicy")?;
        }
        Ok(())
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        ownership_by_tag(cx, state.group.as_ref().map(|s| &s.tags))
    }

    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        state
            .group
            .as_ref()
            .and_then(|s| {
                foreign_by_tags(
                    cx,
                    format!("log group {}", cx.config.log_group.name),
                    &s.tags,
                )
            })
            .into_iter()
            .collect()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let group = Self::arn(cx);
        vec![
            // DescribeLogGroups is authorized on the account's log groups, not one group.
            Permission::new(
                &["logs:DescribeLogGroups"],
                [format!(
                    "arn:{}:logs:{}:{}:log-group:*",
                    cx.partition(),
                    cx.region,
                    cx.account.id
                )],
            ),
            Permission::new(
                &[
                    "logs:ListTagsForResource",
                    "logs:CreateLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:TagResource",
                    "logs:AssociateKmsKey",
                    "logs:DisassociateKmsKey",
                    "logs:DeleteLogGroup",
                ],
                [group.clone(), format!("{group}:*")],
            ),
        ]
        .into_iter()
        .chain(
            cx.config
                .log_group
                .kms_key_arn
                .iter()
                .map(|key| Permission::new(&["kms:GetKeyPolicy"], [key.clone()])),
        )
        .collect()
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        if state.group.is_none() {
            return Ok(());
        }
        absent_if(
            cx.aws
                .logs
                .delete_log_group()
                .log_group_name(&cx.config.log_group.name)
                .send()
                .await
                .aws("logs:DeleteLogGroup"),
            NOT_FOUND,
        )?;
        Ok(())
    }
}
