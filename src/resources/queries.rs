//! `queries`: the saved Logs Insights queries (`crate::queries`) as CloudWatch Logs query
//! definitions named `<folder>/<query>`, scoped to the invocation log group. Query definitions
//! cannot be tagged: the folder (default: the stack name) is what marks them as this stack's.
//! A definition edited in the console is drift; one in the folder that the catalogue no longer
//! has is deleted.

use std::collections::BTreeMap;

use async_trait::async_trait;
use futures::FutureExt;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::engine::{
    Action, ComponentId, Context, Diff, FieldChange, Ownership, Permission, Resource,
};
use crate::queries::catalog_with_profiles;
use crate::resources::{absent_if, run_bounded};

pub struct Queries;

#[derive(Debug, Clone)]
pub struct ObservedDefinition {
    pub id: String,
    pub query: String,
    pub log_groups: Vec<String>,
}

/// The definitions in the folder, by full name.
#[derive(Debug, Clone, Default)]
pub struct QueriesState {
    pub definitions: BTreeMap<String, ObservedDefinition>,
}

const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

/// A definition to write: its full name, its id when it exists (an update), its query text.
type Put = (String, Option<String>, String);

impl Queries {
    fn enabled(cx: &Context) -> bool {
        cx.config.queries.as_ref().is_some_and(|q| q.enabled)
    }

    fn prefix(cx: &Context) -> String {
        format!("{}/", cx.config.queries_folder())
    }

    /// Full name → query text, for the enabled catalogue.
    fn desired(cx: &Context) -> BTreeMap<String, String> {
        if !Self::enabled(cx) {
            return BTreeMap::new();
        }
        let prefix = Self::prefix(cx);
        // Calls through the stack's profiles are priced by their source in the costliest-
        // requests query; a profile not created yet is left out until it exists.
        let profiles: Vec<(String, String)> = cx
            .config
            .profiles()
            .iter()
            .filter_map(|p| cx.profile(&p.name).map(|out| (out.id, p.model.clone())))
            .collect();
        catalog_with_profiles(&cx.config, &profiles)
            .into_iter()
            .map(|q| (format!("{prefix}{}", q.name), q.text))
            .collect()
    }

    fn settings(query: &str, log_groups: &[String]) -> Value {
        json!({"query": query, "log_groups": log_groups})
    }

    /// The definitions to write and the ids to delete.
    fn writes(cx: &Context, state: &QueriesState) -> (Vec<Put>, Vec<String>) {
        let desired = Self::desired(cx);
        let group = vec![cx.config.log_group.name.clone()];
        let puts = desired
            .iter()
            .filter_map(|(name, text)| match state.definitions.get(name) {
                Some(o) if o.query == *text && o.log_groups == group => None,
                o => Some((name.clone(), o.map(|o| o.id.clone()), text.clone())),
            })
            .collect();
        let deletes = state
            .definitions
            .iter()
            .filter(|(name, _)| !desired.contains_key(*name))
            .map(|(_, o)| o.id.clone())
            .collect();
        (puts, deletes)
    }
}

#[async_trait]
impl Resource for Queries {
    type State = QueriesState;

    fn id(&self) -> ComponentId {
        ComponentId::Queries
    }

    /// An optional component: only when its section asks for it.
    fn configured(&self, config: &crate::config::Config) -> bool {
        config.queries.is_some()
    }

    fn name(&self, cx: &Context) -> String {
        format!("{}* (Logs Insights)", Self::prefix(cx))
    }

    /// The costliest-requests query prices calls through the stack's profiles by their IDs,
    /// which AWS assigns at creation.
    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::InferenceProfiles]
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let prefix = Self::prefix(cx);
        let mut definitions = BTreeMap::new();
        let mut next = None;
        loop {
            let page = cx
                .aws
                .logs
                .describe_query_definitions()
                .query_definition_name_prefix(&prefix)
                .max_results(1000)
                .set_next_token(next)
                .send()
                .await
                .aws("logs:DescribeQueryDefinitions")?;
            for d in page.query_definitions() {
                let (Some(name), Some(id)) = (d.name(), d.query_definition_id()) else {
                    continue;
                };
                // The prefix match is AWS's; keep only this folder, not `folder-other/`.
                if !name.starts_with(&prefix) {
                    continue;
                }
                let mut log_groups = d.log_group_names().to_vec();
                log_groups.sort();
                definitions.insert(
                    name.to_string(),
                    ObservedDefinition {
                        id: id.to_string(),
                        query: d.query_string().unwrap_or_default().to_string(),
                        log_groups,
                    },
                );
            }
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        Ok(QueriesState { definitions })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let group = vec![cx.config.log_group.name.clone()];
        let desired = Self::desired(cx);
        let mut changes = Vec::new();
        for (name, text) in &desired {
            let old = state
                .definitions
                .get(name)
                .map(|o| Self::settings(&o.query, &o.log_groups))
                .unwrap_or(Value::Null);
            let new = Self::settings(text, &group);
            if old != new {
                changes.push(FieldChange {
                    field: format!("definitions.{name}"),
                    old,
                    new,
                });
            }
        }
        for (name, o) in &state.definitions {
            if !desired.contains_key(name) {
                changes.push(FieldChange {
                    field: format!("definitions.{name}"),
                    old: Self::settings(&o.query, &o.log_groups),
                    new: Value::Null,
                });
            }
        }
        let action = if changes.is_empty() {
            Action::Unchanged
        } else if desired.is_empty() {
            Action::Delete
        } else if state.definitions.is_empty() {
            Action::Create
        } else {
            Action::Update
        };
        Diff {
            action,
            changes,
            ..Diff::unchanged()
        }
    }

    async fn apply(&self, cx: &Context, state: &Self::State, _diff: &Diff) -> Result<(), AwsError> {
        let (puts, deletes) = Self::writes(cx, state);
        let logs = &cx.aws.logs;
        let group = cx.config.log_group.name.clone();
        let mut jobs = Vec::new();
        for (name, id, text) in puts {
            let group = group.clone();
            jobs.push(
                async move {
                    logs.put_query_definition()
                        .name(name)
                        .set_query_definition_id(id)
                        .query_string(text)
                        .log_group_names(group)
                        .send()
                        .await
                        .aws("logs:PutQueryDefinition")
                        .map(|_| ())
                        .map_err(|e| {
                            if e.code_is(&["LimitExceededException", "ServiceQuotaExceededException"]) {
                                e.with_hint("the account's quota of saved queries (1,000 per region) is reached: delete unused ones in the CloudWatch console")
                            } else {
                                e
                            }
                        })
                }
                .boxed(),
            );
        }
        for id in deletes {
            jobs.push(async move { delete_one(cx, &id).await }.boxed());
        }
        // Logs' control plane allows 5 writes a second: a few at a time.
        run_bounded(jobs, 3).await.map(|_| ())
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        if state.definitions.is_empty() {
            Ownership::Missing
        } else {
            Ownership::Managed {
                evidence: format!(
                    "{} query definitions in the folder {}",
                    state.definitions.len(),
                    Self::prefix(cx)
                ),
            }
        }
    }

    fn permissions(&self, _cx: &Context) -> Vec<Permission> {
        // Query definitions have no ARN: IAM authorizes these actions on "*".
        vec![Permission::new(
            &[
                "logs:DescribeQueryDefinitions",
                "logs:PutQueryDefinition",
                "logs:DeleteQueryDefinition",
            ],
            ["*".to_string()],
        )]
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        let jobs = state
            .definitions
            .values()
            .map(|o| async move { delete_one(cx, &o.id).await }.boxed())
            .collect();
        run_bounded(jobs, 3).await.map(|_| ())
    }
}

async fn delete_one(cx: &Context, id: &str) -> Result<(), AwsError> {
    absent_if(
        cx.aws
            .logs
            .delete_query_definition()
            .query_definition_id(id)
            .send()
            .await
            .aws("logs:DeleteQueryDefinition"),
        NOT_FOUND,
    )
    .map(|_| ())
}
