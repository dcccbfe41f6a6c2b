//! `dashboard`: the CloudWatch dashboard `[dashboard] name` (default `BedrockUsageMonitoring`),
//! rendered from `templates/dashboard.json.j2`: a marker text widget naming the stack,
//! invocations, tokens, average and p99 latency, errors and throttles, estimated cost (metric
//! math over the price table `report` uses), invocation-log delivery health, alarm status and
//! a Logs Insights table of recent invocations; with `[quotas]`, each named model's use per
//! minute against its applied quota and the time to first token ([`quotas`]).
//!
//! The body is compared as JSON, so a dashboard AWS returns re-spaced or reordered is not
//! rewritten. CloudWatch can tag only alarms and Contributor Insights rules (TagResource's API
//! reference), so the dashboard carries no tags: the marker widget, which names the stack, is
//! the proof of ownership.

use async_trait::async_trait;
use aws_sdk_cloudwatch::operation::put_dashboard::PutDashboardError;
use serde_json::Value;

use crate::aws::{AwsError, AwsResultExt};
use crate::engine::adoption::Mark;
use crate::engine::{ComponentId, Context, Diff, Foreign, Ownership, Permission, Resource};
use crate::quotas::QuotaBook;
use crate::resources::absent_if;

mod body;
pub mod quotas;
#[cfg(test)]
mod tests;

pub use body::{ProfileLine, render_body};

pub struct Dashboard;

#[derive(Debug, Clone, Default)]
pub struct DashboardState {
    /// The body as JSON (a string when AWS returned something that is not JSON); `None`: no
    /// dashboard of that name.
    pub body: Option<Value>,
    /// With `[quotas]`: the applied quotas the quota section draws, an input read from
    /// Service Quotas (like a profile's ID), not the state of the dashboard itself.
    pub quotas: Option<QuotaBook>,
}

/// `GetDashboard` answers `ResourceNotFound` (real AWS, moto); the other code is for endpoints
/// that use the usual suffix.
const NOT_FOUND: &[&str] = &["ResourceNotFound", "ResourceNotFoundException"];

/// The start of the marker sentence, followed by the stack name in backquotes.
const MARKER_PREFIX: &str = "managed by bedrock-monitor stack `";

/// The sentence of the marker widget that names stack `stack`; `ownership` looks for it.
pub fn marker(stack: &str) -> String {
    format!("{MARKER_PREFIX}{stack}`")
}

/// The stack named by the first text widget's marker, if the body has one.
pub fn marker_stack(body: &Value) -> Option<String> {
    let markdown = body
        .get("widgets")?
        .as_array()?
        .iter()
        .find(|w| w.get("type").and_then(Value::as_str) == Some("text"))?
        .get("properties")?
        .get("markdown")?
        .as_str()?;
    let rest = &markdown[markdown.find(MARKER_PREFIX)? + MARKER_PREFIX.len()..];
    rest.find('`').map(|end| rest[..end].to_string())
}

impl Dashboard {
    /// Dashboards are global in their account: the ARN has no region.
    pub fn arn(cx: &Context) -> String {
        format!(
            "arn:{}:cloudwatch::{}:dashboard/{}",
            cx.partition(),
            cx.account.id,
            cx.dashboard_name()
        )
    }

    pub fn body(cx: &Context, state: &DashboardState) -> Result<Value, AwsError> {
        let profiles: Vec<ProfileLine> = cx
            .config
            .profiles()
            .iter()
            .map(|p| ProfileLine {
                name: p.name.clone(),
                model_id: cx.profile_model_id(&p.name),
            })
            .collect();
        render_body(
            &cx.config,
            cx.partition(),
            &cx.account.id,
            &cx.region,
            &profiles,
            state.quotas.as_ref(),
        )
        .map_err(AwsError::from)
    }
}

#[async_trait]
impl Resource for Dashboard {
    type State = DashboardState;

    fn id(&self) -> ComponentId {
        ComponentId::Dashboard
    }

    /// Profile lines need the profiles' IDs, which AWS assigns at creation.
    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::InferenceProfiles]
    }

    fn name(&self, cx: &Context) -> String {
        cx.dashboard_name()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let get = cx
            .aws
            .cloudwatch
            .get_dashboard()
            .dashboard_name(cx.dashboard_name())
            .send();
        let book = async {
            match &cx.config.quotas {
                Some(_) => crate::quotas::read(&cx.aws).await.map(Some),
                None => Ok(None),
            }
        };
        let (dashboard, book) = futures::join!(get, book);
        let body = absent_if(dashboard.aws("cloudwatch:GetDashboard"), NOT_FOUND)?.map(|d| match d
            .dashboard_body()
        {
            Some(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
            }
            None => Value::Null,
        });
        Ok(DashboardState {
            body,
            quotas: book?,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let desired = match Self::body(cx, state) {
            Ok(body) => vec![("body".to_string(), body)],
            Err(e) => return Diff::unchanged().with_note(e.to_string()),
        };
        match &state.body {
            None => Diff::create(desired),
            // serde_json::Value equality: key order and spacing do not matter.
            Some(body) => Diff::compare(desired, |_| body.clone()),
        }
    }

    async fn apply(&self, cx: &Context, state: &Self::State, _diff: &Diff) -> Result<(), AwsError> {
        let id = ComponentId::Dashboard;
        let name = &cx.dashboard_name();
        let body = Self::body(cx, state)?;
        let cw = &cx.aws.cloudwatch;
        let put = cw
            .put_dashboard()
            .dashboard_name(name)
            .dashboard_body(body.to_string())
            .send()
            .await;
        let out = match put {
            Ok(out) => out,
            Err(e) => {
                let rejected: Vec<String> = e
                    .as_service_error()
                    .and_then(|se| match se {
                        PutDashboardError::DashboardInvalidInputError(invalid) => {
                            Some(validation_messages(invalid.dashboard_validation_messages()))
                        }
                        _ => None,
                    })
                    .unwrap_or_default();
                let mut err = AwsError::from_sdk("cloudwatch:PutDashboard", e);
                if !rejected.is_empty() {
                    err.message = format!("{}: {}", err.message, rejected.join("; "));
                    err = err.with_hint(
                        "CloudWatch rejected the dashboard bedrock-monitor rendered: a bug in \
                         the tool; report it with these messages",
                    );
                }
                return Err(err);
            }
        };
        for message in validation_messages(out.dashboard_validation_messages()) {
            cx.note(
                id,
                &format!("CloudWatch warns about the dashboard: {message}"),
            );
        }
        Ok(())
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let Some(body) = &state.body else {
            return Ownership::Missing;
        };
        let stack = &cx.config.stack.name;
        match marker_stack(body) {
            Some(named) if &named == stack => Ownership::Managed {
                evidence: format!("marker widget naming stack {stack}"),
            },
            Some(other) => Ownership::NotManaged {
                reason: format!(
                    "its marker widget names stack {other}: it belongs to another stack"
                ),
            },
            None => Ownership::NotManaged {
                reason: format!(
                    "a dashboard named {} exists without a marker widget naming stack {stack}",
                    cx.dashboard_name()
                ),
            },
        }
    }

    /// PutDashboard replaces the whole body: a dashboard without this stack's marker is
    /// someone's work, overwritten only with consent.
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        let Some(body) = &state.body else {
            return Vec::new();
        };
        let what = format!("dashboard {}", cx.dashboard_name());
        match marker_stack(body) {
            Some(named) if named == cx.config.stack.name => Vec::new(),
            other => vec![Foreign::new(what, other.as_deref()).marked_by(Mark::MarkerWidget)],
        }
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let mut permissions = vec![Permission::new(
            &[
                "cloudwatch:GetDashboard",
                "cloudwatch:PutDashboard",
                "cloudwatch:DeleteDashboards",
            ],
            [Self::arn(cx)],
        )];
        if cx.config.quotas.is_some() {
            // The quota section's lines.
            permissions.push(crate::resources::quota_book_permission());
        }
        permissions
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        if state.body.is_none() {
            return Ok(());
        }
        absent_if(
            cx.aws
                .cloudwatch
                .delete_dashboards()
                .dashboard_names(cx.dashboard_name())
                .send()
                .await
                .aws("cloudwatch:DeleteDashboards"),
            NOT_FOUND,
        )?;
        Ok(())
    }
}

fn validation_messages(
    messages: &[aws_sdk_cloudwatch::types::DashboardValidationMessage],
) -> Vec<String> {
    messages
        .iter()
        .map(|m| match (m.data_path(), m.message()) {
            (Some(path), Some(message)) => format!("{path}: {message}"),
            (None, Some(message)) => message.to_string(),
            (Some(path), None) => path.to_string(),
            (None, None) => "(no message)".to_string(),
        })
        .collect()
}
