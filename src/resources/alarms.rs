//! `alarms`: CloudWatch alarms on Bedrock metrics (all models, or one model when given) of the
//! runtime endpoint (`AWS/Bedrock`) and of the Mantle endpoint (`AWS/BedrockMantle`), each
//! notifying the alert topic on ALARM, and on OK too when `[alerts] notify_ok` is set. Alarms
//! this stack created that the config no longer names (or disables) are deleted.
//!
//! The desired state comes from the config alone, never from an alarm's current state: one
//! apply converges, and a second finds nothing to do. A new alarm starts in INSUFFICIENT_DATA
//! and CloudWatch runs its OK actions when it first leaves that state, so with `notify_ok` each
//! new alarm sends one "OK" email at its first evaluation (the plan says so); without it (the
//! default) alarms have no OK action, and one left with the topic as its OK action by an
//! earlier release is updated once (the plan says why).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::{AlarmSpec, STACK_TAG_KEY};
use crate::engine::{
    ComponentId, Context, Diff, FieldChange, Foreign, Health, HealthLevel, Ownership, Permission,
    Resource,
};
use crate::resources::{foreign_by_tags, run_bounded, tagged_by_stack, tags_field};
use futures::future::BoxFuture;

pub struct Alarms;

/// Prefix of the built-in alarm names and of custom alarms' default names: alarms this stack
/// made under it are found (and removed) even after the config stops naming them.
pub const NAME_PREFIX: &str = "Bedrock-";

/// How many alarm calls run at once: enough to overlap round trips, few enough not to be
/// throttled by CloudWatch's per-account rate.
const CONCURRENCY: usize = 4;

#[derive(Debug, Clone)]
pub struct ObservedAlarm {
    pub name: String,
    pub arn: String,
    pub settings: Value,
    pub tags: BTreeMap<String, String>,
    /// Shown by `status` (health) only: the desired state never depends on it.
    pub state: String,
    pub state_reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct AlarmsState {
    /// Every alarm found by the configured names or the prefix, by name.
    pub alarms: BTreeMap<String, ObservedAlarm>,
    /// `[quotas]`' alarms, their thresholds from the quotas applied now: an input read from
    /// Service Quotas, like a profile's ID, not the state of the alarms themselves.
    pub quota_specs: Vec<AlarmSpec>,
    /// Why a model `[quotas]` names has no quota alarm.
    pub quota_notes: Vec<String>,
}

impl AlarmsState {
    fn ours<'a>(&'a self, cx: &'a Context) -> impl Iterator<Item = &'a ObservedAlarm> {
        self.alarms
            .values()
            .filter(move |a| a.tags.get(STACK_TAG_KEY) == Some(&cx.config.stack.name))
    }
}

/// The OK actions every alarm should have: the topic with `[alerts] notify_ok`, else none.
fn desired_ok_actions(cx: &Context, topic_arn: &str) -> Vec<String> {
    if cx.config.alerts.notify_ok {
        vec![topic_arn.to_string()]
    } else {
        Vec::new()
    }
}

fn settings(spec: &AlarmSpec, topic_arn: &str, ok_actions: &[String]) -> Value {
    let percentile = spec.statistic.starts_with('p');
    json!({
        "description": spec.description,
        "namespace": spec.endpoint.namespace(),
        "metric": spec.metric,
        "statistic": (!percentile).then_some(&spec.statistic),
        "extended_statistic": percentile.then_some(&spec.statistic),
        "dimensions": spec
            .model_id
            .as_ref()
            .map(|m| json!({ spec.endpoint.model_dimension(): m }))
            .unwrap_or(json!({})),
        "period_seconds": spec.period_seconds,
        "evaluation_periods": spec.evaluation_periods,
        "threshold": spec.threshold,
        "comparison": spec.comparison,
        "treat_missing_data": "notBreaching",
        "actions_enabled": true,
        "alarm_actions": [topic_arn],
        "ok_actions": ok_actions,
    })
}

fn observed_settings(a: &MetricAlarm) -> Value {
    let dimensions: BTreeMap<&str, &str> = a
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?, d.value()?)))
        .collect();
    json!({
        "description": a.alarm_description().unwrap_or_default(),
        "namespace": a.namespace(),
        "metric": a.metric_name(),
        "statistic": a.statistic().map(|s| s.as_str()),
        "extended_statistic": a.extended_statistic(),
        "dimensions": dimensions,
        "period_seconds": a.period(),
        "evaluation_periods": a.evaluation_periods(),
        "threshold": a.threshold(),
        "comparison": a.comparison_operator().map(|c| c.as_str()),
        "treat_missing_data": a.treat_missing_data(),
        "actions_enabled": a.actions_enabled(),
        "alarm_actions": a.alarm_actions(),
        "ok_actions": a.ok_actions(),
    })
}

impl Alarms {
    /// The alarms that should exist: the config's enabled ones and `[quotas]`' ones.
    fn enabled(cx: &Context, state: &AlarmsState) -> Vec<AlarmSpec> {
        Self::specs(cx)
            .into_iter()
            .filter(|a| a.enabled)
            .chain(state.quota_specs.iter().cloned())
            .collect()
    }

    /// The config's alarms with inference profiles resolved to the ID CloudWatch shows as
    /// `ModelId` for their calls.
    fn specs(cx: &Context) -> Vec<AlarmSpec> {
        let mut specs = cx.config.alarm_specs();
        for spec in &mut specs {
            if let Some(profile) = &spec.inference_profile {
                spec.model_id = Some(cx.profile_model_id(profile));
            }
        }
        specs
    }

    /// Alarms of this stack that should not exist: disabled, or no longer configured.
    fn to_delete<'a>(cx: &'a Context, state: &'a AlarmsState) -> Vec<&'a ObservedAlarm> {
        let wanted: Vec<String> = Self::enabled(cx, state)
            .into_iter()
            .map(|s| s.name)
            .collect();
        state
            .ours(cx)
            .filter(|a| !wanted.contains(&a.name))
            .collect()
    }

    fn tags(cx: &Context) -> Result<Vec<Tag>, AwsError> {
        cx.config
            .tags()
            .into_iter()
            .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()))
            .collect()
    }

    async fn describe(
        cx: &Context,
        names: Option<Vec<String>>,
        prefix: Option<&str>,
    ) -> Result<Vec<MetricAlarm>, AwsError> {
        let mut found = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = cx
                .aws
                .cloudwatch
                .describe_alarms()
                .set_alarm_names(names.clone())
                .set_alarm_name_prefix(prefix.map(str::to_string))
                .max_records(100)
                .set_next_token(next.take())
                .send()
                .await
                .aws("cloudwatch:DescribeAlarms")?;
            found.extend(page.metric_alarms().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return Ok(found),
            }
        }
    }

    /// DeleteAlarms takes at most 100 names a call.
    async fn delete_named(cx: &Context, names: &[String]) -> Result<(), AwsError> {
        for chunk in names.chunks(100) {
            cx.aws
                .cloudwatch
                .delete_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .aws("cloudwatch:DeleteAlarms")?;
        }
        Ok(())
    }

    async fn put(
        cx: &Context,
        spec: &AlarmSpec,
        topic_arn: &str,
        ok_actions: Vec<String>,
    ) -> Result<(), AwsError> {
        let percentile = spec.statistic.starts_with('p');
        let mut put = cx
            .aws
            .cloudwatch
            .put_metric_alarm()
            .alarm_name(&spec.name)
            .alarm_description(&spec.description)
            .namespace(spec.endpoint.namespace())
            .metric_name(&spec.metric)
            .period(spec.period_seconds)
            .evaluation_periods(spec.evaluation_periods)
            .threshold(spec.threshold)
            .comparison_operator(ComparisonOperator::from(spec.comparison.as_str()))
            .treat_missing_data("notBreaching")
            .actions_enabled(true)
            .alarm_actions(topic_arn)
            .set_ok_actions(Some(ok_actions))
            // Tags given here apply only when the alarm is created; TagResource converges them.
            .set_tags(Some(Self::tags(cx)?));
        put = if percentile {
            put.extended_statistic(&spec.statistic)
        } else {
            put.statistic(Statistic::from(spec.statistic.as_str()))
        };
        if let Some(model) = &spec.model_id {
            put = put.dimensions(
                Dimension::builder()
                    .name(spec.endpoint.model_dimension())
                    .value(model)
                    .build(),
            );
        }
        put.send().await.aws("cloudwatch:PutMetricAlarm")?;
        Ok(())
    }
}

#[async_trait]
impl Resource for Alarms {
    type State = AlarmsState;

    fn id(&self) -> ComponentId {
        ComponentId::Alarms
    }

    fn name(&self, cx: &Context) -> String {
        let n = Self::specs(cx).iter().filter(|a| a.enabled).count();
        let quotas = if cx.config.quotas.is_some() {
            " and the quota alarms"
        } else {
            ""
        };
        format!(
            "{n} CloudWatch alarm{}{quotas}",
            if n == 1 { "" } else { "s" }
        )
    }

    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::Topic, ComponentId::InferenceProfiles]
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let names: Vec<String> = cx
            .config
            .alarm_specs()
            .into_iter()
            .map(|s| s.name)
            .collect();
        // The prefix query finds every alarm named under it; only alarms named otherwise
        // (custom names) need asking for by name, at most 100 names a call.
        let unprefixed: Vec<String> = names
            .into_iter()
            .filter(|n| !n.starts_with(NAME_PREFIX))
            .collect();
        let by_name = futures::future::try_join_all(
            unprefixed
                .chunks(100)
                .map(|chunk| Self::describe(cx, Some(chunk.to_vec()), None)),
        );
        let by_prefix = Self::describe(cx, None, Some(NAME_PREFIX));
        let (by_name, by_prefix) = tokio::try_join!(by_name, by_prefix)?;
        let mut found: BTreeMap<String, MetricAlarm> = BTreeMap::new();
        for alarm in by_name.into_iter().flatten().chain(by_prefix) {
            if let Some(name) = alarm.alarm_name() {
                found.insert(name.to_string(), alarm);
            }
        }
        let cloudwatch = &cx.aws.cloudwatch;
        let observed: Vec<Result<ObservedAlarm, AwsError>> =
            futures::stream::iter(found.into_values().map(|alarm| async move {
                let name = alarm.alarm_name().unwrap_or_default().to_string();
                let arn = alarm.alarm_arn().unwrap_or_default().to_string();
                let tags = cloudwatch
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                    .aws("cloudwatch:ListTagsForResource")?;
                Ok(ObservedAlarm {
                    settings: observed_settings(&alarm),
                    state: alarm
                        .state_value()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    state_reason: alarm.state_reason().unwrap_or_default().to_string(),
                    tags: tags
                        .tags()
                        .iter()
                        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                        .collect(),
                    name,
                    arn,
                })
            }))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut alarms = BTreeMap::new();
        for a in observed {
            let a = a?;
            alarms.insert(a.name.clone(), a);
        }
        let (quota_specs, quota_notes) = match &cx.config.quotas {
            Some(config) => {
                let book = crate::quotas::read(&cx.aws).await?;
                crate::quotas::alarms::specs(config, &book)
            }
            None => (Vec::new(), Vec::new()),
        };
        Ok(AlarmsState {
            alarms,
            quota_specs,
            quota_notes,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let topic_arn = cx.topic_arn();
        let ok_actions = desired_ok_actions(cx, &topic_arn);
        let desired_tags = cx.config.tags();
        let mut changes = Vec::new();
        let mut any_exists = false;
        let mut created = Vec::new();
        let mut ok_action_removed = Vec::new();
        for spec in Self::enabled(cx, state) {
            let new = settings(&spec, &topic_arn, &ok_actions);
            match state.alarms.get(&spec.name) {
                None => {
                    created.push(spec.name.clone());
                    changes.push(FieldChange {
                        field: spec.name.clone(),
                        old: Value::Null,
                        new,
                    });
                }
                Some(observed) => {
                    any_exists = true;
                    if observed.settings != new {
                        let had_topic = observed.settings["ok_actions"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(&topic_arn)));
                        if had_topic && ok_actions.is_empty() {
                            ok_action_removed.push(spec.name.clone());
                        }
                        changes.push(FieldChange {
                            field: spec.name.clone(),
                            old: observed.settings.clone(),
                            new,
                        });
                    }
                    let (old_tags, new_tags) = tags_field(&desired_tags, &observed.tags);
                    if old_tags != new_tags {
                        changes.push(FieldChange {
                            field: format!("{}.tags", spec.name),
                            old: old_tags,
                            new: new_tags,
                        });
                    }
                }
            }
        }
        for gone in Self::to_delete(cx, state) {
            any_exists = true;
            changes.push(FieldChange {
                field: gone.name.clone(),
                old: gone.settings.clone(),
                new: Value::Null,
            });
        }
        let mut diff = Diff::of(changes, any_exists);
        for note in &state.quota_notes {
            diff = diff.with_note(note.clone());
        }
        // Said once, whatever the number of alarms: what the user will see in their inbox.
        if !created.is_empty() && !ok_actions.is_empty() {
            diff = diff.with_note(format!(
                "[alerts] notify_ok = true: each of the {} new alarm(s) sends one \"OK\" email \
                 to every address at its first evaluation, minutes after it is created, because \
                 CloudWatch runs OK actions when an alarm leaves INSUFFICIENT_DATA",
                created.len()
            ));
        }
        if !ok_action_removed.is_empty() {
            diff = diff.with_note(format!(
                "{}: the topic is removed from the OK actions (set by an earlier release): \
                 [alerts] notify_ok is false, so alarms notify only on ALARM; set notify_ok = \
                 true to keep \"back to OK\" emails",
                ok_action_removed.join(", ")
            ));
        }
        for spec in cx.config.alarm_specs().into_iter().filter(|s| !s.enabled) {
            if let Some(a) = state.alarms.get(&spec.name)
                && a.tags.get(STACK_TAG_KEY) != Some(&cx.config.stack.name)
            {
                diff = diff.with_note(format!(
                        "{} is disabled in the config but exists without this stack's tag; left in place",
                        spec.name
                    ));
            }
        }
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        let topic_arn = cx.topic_arn();
        let specs: Vec<AlarmSpec> = Self::enabled(cx, state)
            .into_iter()
            .filter(|s| diff.changes.iter().any(|c| c.field == s.name))
            .collect();
        let tags = Self::tags(cx)?;
        let mut jobs: Vec<BoxFuture<'_, Result<(), AwsError>>> = Vec::new();
        let ok_actions = desired_ok_actions(cx, &topic_arn);
        for spec in &specs {
            jobs.push(Box::pin(Self::put(
                cx,
                spec,
                &topic_arn,
                ok_actions.clone(),
            )));
        }
        for spec in Self::enabled(cx, state) {
            let retag = diff
                .changes
                .iter()
                .any(|c| c.field == format!("{}.tags", spec.name));
            let Some(alarm) = state.alarms.get(&spec.name).filter(|_| retag) else {
                continue;
            };
            let tags = tags.clone();
            jobs.push(Box::pin(async move {
                cx.aws
                    .cloudwatch
                    .tag_resource()
                    .resource_arn(&alarm.arn)
                    .set_tags(Some(tags))
                    .send()
                    .await
                    .aws("cloudwatch:TagResource")
                    .map(|_| ())
            }));
        }
        run_bounded(jobs, CONCURRENCY).await?;
        let obsolete: Vec<String> = Self::to_delete(cx, state)
            .into_iter()
            .map(|a| a.name.clone())
            .collect();
        Self::delete_named(cx, &obsolete).await
    }

    /// Configured alarms that exist without this stack's tag (PutMetricAlarm would overwrite
    /// them whole).
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        Self::enabled(cx, state)
            .iter()
            .filter_map(|s| state.alarms.get(&s.name))
            .filter_map(|a| foreign_by_tags(cx, format!("alarm {}", a.name), &a.tags))
            .collect()
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let configured: Vec<&ObservedAlarm> = Self::enabled(cx, state)
            .iter()
            .filter_map(|s| state.alarms.get(&s.name))
            .collect();
        let ours = state.ours(cx).count();
        if ours > 0 {
            Ownership::Managed {
                evidence: format!(
                    "{ours} alarm(s) tagged {STACK_TAG_KEY}={}",
                    cx.config.stack.name
                ),
            }
        } else if configured.is_empty() {
            Ownership::Missing
        } else {
            Ownership::NotManaged {
                reason: format!(
                    "{} exist without the tag {STACK_TAG_KEY}={}",
                    configured
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    cx.config.stack.name
                ),
            }
        }
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let alarm = |name: &str| {
            format!(
                "arn:{}:cloudwatch:{}:{}:alarm:{name}",
                cx.partition(),
                cx.region,
                cx.account.id
            )
        };
        let named: Vec<String> = cx
            .config
            .alarm_specs()
            .iter()
            .map(|s| s.name.clone())
            .chain(crate::quotas::alarms::possible_names(
                cx.config.quotas.as_ref(),
            ))
            .map(|name| alarm(&name))
            .collect();
        let prefixed = alarm(&format!("{NAME_PREFIX}*"));
        let mut permissions = vec![
            // DescribeAlarms by name or prefix is authorized on all alarms.
            Permission::new(&["cloudwatch:DescribeAlarms"], ["*".to_string()]),
            // Reading the tags of every alarm under the prefix tells this stack's from others'.
            Permission::new(
                &["cloudwatch:ListTagsForResource"],
                named.iter().cloned().chain([prefixed.clone()]),
            ),
            // The config's alarms by name.
            Permission::new(
                &[
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:TagResource",
                    "cloudwatch:DeleteAlarms",
                ],
                named,
            ),
            // An alarm of this stack the config dropped is deleted by apply: under the prefix,
            // and only with this stack's tag.
            Permission {
                condition: Some(tagged_by_stack(cx)),
                ..Permission::new(&["cloudwatch:DeleteAlarms"], [prefixed])
            },
        ];
        if cx.config.quotas.is_some() {
            // The quota alarms' thresholds.
            permissions.push(crate::resources::quota_book_permission());
        }
        permissions
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        Self::enabled(cx, state)
            .iter()
            .filter_map(|spec| state.alarms.get(&spec.name))
            .map(|a| Health {
                subject: a.name.clone(),
                level: match a.state.as_str() {
                    "OK" => HealthLevel::Ok,
                    "ALARM" => HealthLevel::Alarm,
                    _ => HealthLevel::Warning,
                },
                detail: if a.state_reason.is_empty() {
                    a.state.clone()
                } else {
                    format!("{}: {}", a.state, a.state_reason)
                },
            })
            .collect()
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        let ours: Vec<String> = state.ours(cx).map(|a| a.name.clone()).collect();
        Self::delete_named(cx, &ours).await
    }
}
