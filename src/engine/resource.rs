//! The resource contract (read / diff / apply / delete, with dependencies) and [`Node`], which
//! keeps a resource's observed state between the plan and the execution so that nothing is
//! read twice.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;

use crate::aws::AwsError;
use crate::engine::{Action, ComponentId, Context, Diff, Foreign, Scope, adoption};

/// Whether this stack may touch an existing resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Ownership {
    /// Nothing by that name exists.
    Missing,
    /// It carries this stack's marker; `evidence` says which (the tag, a dashboard marker...).
    Managed { evidence: String },
    /// It exists but is someone else's; `reason` says why the tool thinks so.
    NotManaged { reason: String },
}

/// A health fact about a component that `status` reports (alarm states, pending email
/// confirmations, spend against a budget...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// What was checked, e.g. `Bedrock-HighErrorRate` or `ops@example.com`.
    pub subject: String,
    /// `ok`, `warning` or `alarm`.
    pub level: HealthLevel,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthLevel {
    Ok,
    Warning,
    Alarm,
}

/// IAM actions a component's calls need, on the resources they touch (`permissions` turns
/// these into the operator's least-privilege policy).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Permission {
    pub actions: Vec<&'static str>,
    pub resources: Vec<String>,
    /// An IAM condition block, e.g. `iam:PassedToService` for `iam:PassRole`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

impl Permission {
    pub fn new(
        actions: &[&'static str],
        resources: impl IntoIterator<Item = String>,
    ) -> Permission {
        Permission {
            actions: actions.to_vec(),
            resources: resources.into_iter().collect(),
            condition: None,
        }
    }
}

/// One component of the stack. Implementations live in `src/resources/`, one file each.
#[async_trait]
pub trait Resource: Send + Sync + 'static {
    /// What `read` observed; `None`-like variants inside mean "absent".
    type State: Clone + Send + Sync + 'static;

    fn id(&self) -> ComponentId;
    /// The AWS name users recognise (role name, bucket name...).
    fn name(&self, cx: &Context) -> String;
    /// Components that must exist before this one is created (and be deleted after it).
    fn depends_on(&self) -> &'static [ComponentId] {
        &[]
    }
    /// Where it runs in a fleet of targets: every region unless it says otherwise.
    fn scope(&self) -> Scope {
        Scope::Region
    }
    /// Whether it runs for this config at all: the core components always; an optional one
    /// when its section asks for it.
    fn configured(&self, _config: &crate::config::Config) -> bool {
        true
    }
    /// Read the resource's current state. Read-only calls only.
    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError>;
    /// What would change to bring `state` to the config. No AWS call.
    fn diff(&self, cx: &Context, state: &Self::State) -> Diff;
    /// Make exactly the writes that `diff` calls for.
    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError>;
    /// Whether this stack owns what `state` describes.
    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership;
    /// Remove it (only called when `ownership` said Managed).
    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError>;
    /// The existing resources of names the config gives that `apply` would write to and that
    /// do not carry this stack's tag (or marker): adopted only with the user's consent, and
    /// never when another stack's tag is on them. Components found by other evidence than a
    /// tag (the logging configuration, saved queries' folder, account-wide tag activation)
    /// have none.
    fn foreign(&self, _cx: &Context, _state: &Self::State) -> Vec<Foreign> {
        Vec::new()
    }
    /// Health facts visible in `state` (no AWS call).
    fn health(&self, _cx: &Context, _state: &Self::State) -> Vec<Health> {
        Vec::new()
    }
    /// Every IAM action this component's read, apply and delete call, and on what.
    fn permissions(&self, _cx: &Context) -> Vec<Permission> {
        Vec::new()
    }
}

/// The engine's object-safe view of a resource.
#[async_trait]
pub trait Step: Send + Sync {
    fn id(&self) -> ComponentId;
    fn name(&self, cx: &Context) -> String;
    fn depends_on(&self) -> &'static [ComponentId];
    fn scope(&self) -> Scope;
    fn configured(&self, config: &crate::config::Config) -> bool;
    /// Read and remember the state.
    async fn refresh(&self, cx: &Context) -> Result<(), AwsError>;
    /// The diff against the remembered state (None before a successful refresh).
    fn plan(&self, cx: &Context) -> Option<Diff>;
    /// Converge; reads first if the state is unknown. Returns what was done and the changes.
    async fn apply(&self, cx: &Context) -> Result<Diff, AwsError>;
    fn ownership(&self, cx: &Context) -> Option<Ownership>;
    /// What [`Resource::foreign`] finds in the remembered state (empty before a refresh).
    fn foreign(&self, _cx: &Context) -> Vec<Foreign> {
        Vec::new()
    }
    async fn delete(&self, cx: &Context) -> Result<(), AwsError>;
    /// Health facts from the remembered state (empty before a refresh).
    fn health(&self, cx: &Context) -> Vec<Health>;
    fn permissions(&self, cx: &Context) -> Vec<Permission>;
}

pub struct Node<R: Resource> {
    resource: R,
    state: Mutex<Option<R::State>>,
}

impl<R: Resource> Node<R> {
    /// The resource as a step the engine can run (a trait object, hence not `Self`).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(resource: R) -> Arc<dyn Step> {
        Arc::new(Node {
            resource,
            state: Mutex::new(None),
        })
    }

    fn state(&self) -> Option<R::State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_state(&self, state: Option<R::State>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }

    async fn known_state(&self, cx: &Context) -> Result<R::State, AwsError> {
        match self.state() {
            Some(s) => Ok(s),
            None => {
                let s = self.resource.read(cx).await?;
                self.set_state(Some(s.clone()));
                Ok(s)
            }
        }
    }
}

#[async_trait]
impl<R: Resource> Step for Node<R> {
    fn id(&self) -> ComponentId {
        self.resource.id()
    }

    fn name(&self, cx: &Context) -> String {
        self.resource.name(cx)
    }

    fn depends_on(&self) -> &'static [ComponentId] {
        self.resource.depends_on()
    }

    fn scope(&self) -> Scope {
        self.resource.scope()
    }

    fn configured(&self, config: &crate::config::Config) -> bool {
        self.resource.configured(config)
    }

    async fn refresh(&self, cx: &Context) -> Result<(), AwsError> {
        let s = self.resource.read(cx).await.map_err(|e| cx.explain(e))?;
        self.set_state(Some(s));
        Ok(())
    }

    fn plan(&self, cx: &Context) -> Option<Diff> {
        self.state().map(|s| self.resource.diff(cx, &s))
    }

    async fn apply(&self, cx: &Context) -> Result<Diff, AwsError> {
        let state = self.known_state(cx).await.map_err(|e| cx.explain(e))?;
        // Diff again now: upstream steps may have produced values (ARNs) the plan only predicted.
        let diff = self.resource.diff(cx, &state);
        if diff.action == Action::Unchanged {
            return Ok(diff);
        }
        // Nothing is written to a resource this stack does not own without consent.
        let foreign = self.resource.foreign(cx, &state);
        if let Some(refused) = adoption::refusal(cx, self.resource.id(), &foreign) {
            return Err(cx.explain(refused));
        }
        let result = self
            .resource
            .apply(cx, &state, &diff)
            .await
            .map_err(|e| cx.explain(e));
        // What AWS holds has changed (or partly changed, on failure): read again next time.
        self.set_state(None);
        result.map(|()| diff)
    }

    fn ownership(&self, cx: &Context) -> Option<Ownership> {
        self.state().map(|s| self.resource.ownership(cx, &s))
    }

    fn foreign(&self, cx: &Context) -> Vec<Foreign> {
        self.state()
            .map(|s| self.resource.foreign(cx, &s))
            .unwrap_or_default()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        self.resource.permissions(cx)
    }

    fn health(&self, cx: &Context) -> Vec<Health> {
        self.state()
            .map(|s| self.resource.health(cx, &s))
            .unwrap_or_default()
    }

    async fn delete(&self, cx: &Context) -> Result<(), AwsError> {
        let state = self.known_state(cx).await.map_err(|e| cx.explain(e))?;
        let result = self
            .resource
            .delete(cx, &state)
            .await
            .map_err(|e| cx.explain(e));
        self.set_state(None);
        result
    }
}
