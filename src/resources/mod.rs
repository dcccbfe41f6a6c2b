//! One file per component. Each implements [`Resource`](crate::engine::Resource): how to read
//! it, how it differs from the config, the writes that converge it, and how to remove it.

// Shared by several components; not components themselves.
pub mod iam;
pub mod kms;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::aws::AwsError;
use crate::config::STACK_TAG_KEY;
use crate::engine::{ComponentId, Context, Foreign, Ownership, Permission, Step};

/// Declares each component's module and makes [`all_steps`] of them, in the order given: a
/// component is registered here by one line (and its ID by one line of `engine::components!`).
macro_rules! components {
    ($($module:ident :: $component:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// The steps of the whole stack, optional components included, in display order.
        pub fn all_steps() -> Vec<Arc<dyn Step>> {
            vec![$(crate::engine::Node::new($module::$component)),*]
        }
    };
}

components! {
    role::Role,
    bucket::Bucket,
    log_group::LogGroup,
    logging::Logging,
    dashboard::Dashboard,
    topic::Topic,
    alarms::Alarms,
    budgets::Budgets,
    budget_actions::BudgetActions,
    inference_profiles::InferenceProfiles,
    cost_allocation::CostAllocationTags,
    anomaly::AnomalyDetection,
    cur_export::CurExport,
    queries::Queries,
    limits_runner::LimitsRunner,
    chat::Chat,
}

/// The steps this config runs, in display order.
pub fn steps_for(config: &crate::config::Config) -> Vec<Arc<dyn Step>> {
    all_steps()
        .into_iter()
        .filter(|s| s.configured(config))
        .collect()
}

/// `Ok(None)` when the call failed because the thing does not exist.
pub fn absent_if<T>(result: Result<T, AwsError>, codes: &[&str]) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code_is(codes) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `Ok(())` when a create failed because the thing exists already: made by an earlier,
/// interrupted run, or by a run racing this one. The read that follows sees it.
pub fn created_or_exists<T>(result: Result<T, AwsError>, codes: &[&str]) -> Result<(), AwsError> {
    absent_if(result, codes).map(|_| ())
}

/// The tags to compare: the desired ones, and what the resource has for the same keys. Tags
/// other tools put on the resource are left alone.
pub fn tags_field(
    desired: &BTreeMap<String, String>,
    observed: &BTreeMap<String, String>,
) -> (Value, Value) {
    let old: BTreeMap<&String, &String> = desired
        .keys()
        .filter_map(|k| observed.get_key_value(k))
        .collect();
    (json!(old), json!(desired))
}

/// An IAM condition that holds only on resources carrying this stack's tag
/// (`aws:ResourceTag/bedrock-monitor:stack`): for actions on resources whose ARNs end in a
/// generated ID, or that the config may no longer name, so a wildcard in the ARN reaches only
/// this stack's resources. Only for services whose Service Authorization Reference lists
/// `aws:ResourceTag` on the resource type (CloudWatch alarms, Cost Explorer's anomaly monitors,
/// subscriptions and cost categories, Bedrock's application inference profiles, Data Exports'
/// exports, Organizations' policies).
/// What reading the quota book takes ([`crate::quotas::read`], for the quota alarms and the
/// dashboard's quota section with `[quotas]`): the applied quotas placed with the model list.
/// Neither list call takes a resource (Service Authorization Reference, Service Quotas and
/// Amazon Bedrock), hence `*`.
pub fn quota_book_permission() -> Permission {
    Permission::new(
        &[
            "servicequotas:ListServiceQuotas",
            "bedrock:ListFoundationModels",
        ],
        ["*".to_string()],
    )
}

pub fn tagged_by_stack(cx: &Context) -> Value {
    json!({"StringEquals": {format!("aws:ResourceTag/{STACK_TAG_KEY}"): cx.config.stack.name}})
}

/// Ownership from the stack tag.
pub fn ownership_from_tags(cx: &Context, tags: &BTreeMap<String, String>) -> Ownership {
    let stack = &cx.config.stack.name;
    match tags.get(STACK_TAG_KEY) {
        Some(v) if v == stack => Ownership::Managed {
            evidence: format!("tag {STACK_TAG_KEY}={stack}"),
        },
        Some(other) => Ownership::NotManaged {
            reason: format!("tagged {STACK_TAG_KEY}={other}: it belongs to another stack"),
        },
        None => Ownership::NotManaged {
            reason: format!("exists without the tag {STACK_TAG_KEY}={stack}"),
        },
    }
}

/// `what`, found by a name the config gives, as [`Foreign`] unless it carries this stack's tag.
pub fn foreign_by_tags(
    cx: &Context,
    what: impl Into<String>,
    tags: &BTreeMap<String, String>,
) -> Option<Foreign> {
    match tags.get(STACK_TAG_KEY) {
        Some(v) if v == &cx.config.stack.name => None,
        other => Some(Foreign::new(what, other.map(String::as_str))),
    }
}

/// Ownership of a resource found by name: missing, or decided by its stack tag.
pub fn ownership_by_tag(cx: &Context, tags: Option<&BTreeMap<String, String>>) -> Ownership {
    match tags {
        None => Ownership::Missing,
        Some(tags) => ownership_from_tags(cx, tags),
    }
}

/// Retry `attempt` while `retryable` says the error is AWS's eventual consistency, with
/// exponential backoff, for at most `budget`. Each wait is shown as a note on the step.
pub async fn retry_while<T, F, Fut>(
    cx: &Context,
    id: ComponentId,
    budget: Duration,
    why: &str,
    retryable: impl Fn(&AwsError) -> bool,
    mut attempt: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_secs(1);
    let mut tries = 1u32;
    loop {
        match attempt().await {
            Err(e) if retryable(&e) && started.elapsed() + delay <= budget => {
                cx.note(
                    id,
                    &format!(
                        "{why}: {} (attempt {tries}, next in {:.1}s)",
                        e.code.as_deref().unwrap_or("error"),
                        delay.as_secs_f64()
                    ),
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Run independent calls at most `limit` at a time; the first error wins, the rest finish.
pub async fn run_bounded<T>(
    jobs: Vec<futures::future::BoxFuture<'_, Result<T, AwsError>>>,
    limit: usize,
) -> Result<Vec<T>, AwsError> {
    use futures::StreamExt;
    futures::stream::iter(jobs)
        .buffer_unordered(limit.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}
