//! What every step sees: the config, the account, the clients, values that upstream steps
//! produced (ARNs taken from AWS responses), and a progress sink.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::aws::{Account, Clients};
use crate::config::Config;
use crate::engine::ComponentId;

/// Receives what happens during a run; the UI implements it (spinners, log lines, nothing).
pub trait Progress: Send + Sync {
    fn step_started(&self, id: ComponentId, message: &str);
    /// A note while a step runs, e.g. why it is waiting and retrying.
    fn step_note(&self, id: ComponentId, message: &str);
    fn step_finished(&self, id: ComponentId, message: &str, ok: bool);
    /// Run `f` with progress output paused (for prompts).
    fn suspend(&self, f: &mut dyn FnMut()) {
        f()
    }
}

pub struct QuietProgress;

impl Progress for QuietProgress {
    fn step_started(&self, _: ComponentId, _: &str) {}
    fn step_note(&self, _: ComponentId, _: &str) {}
    fn step_finished(&self, _: ComponentId, _: &str, _: bool) {}
}

/// Values produced by steps that other steps consume. Each is recorded from the SDK response
/// that revealed it (a Get or a Create), never parsed from printed text.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub role_arn: Option<String>,
    pub topic_arn: Option<String>,
}

pub struct Context {
    pub config: Config,
    pub account: Account,
    pub region: String,
    pub aws: Clients,
    pub outputs: Mutex<Outputs>,
    pub progress: Arc<dyn Progress>,
    /// Replace a Bedrock logging configuration that points at someone else's destinations.
    pub adopt_logging: AtomicBool,
    /// Facts for the final summary that the user must act on (e.g. emails to confirm).
    notices: Mutex<Vec<String>>,
}

impl Context {
    pub fn new(
        config: Config,
        account: Account,
        aws: Clients,
        progress: Arc<dyn Progress>,
    ) -> Context {
        Context {
            region: aws.region.clone(),
            config,
            account,
            aws,
            outputs: Mutex::new(Outputs::default()),
            progress,
            adopt_logging: AtomicBool::new(false),
            notices: Mutex::new(Vec::new()),
        }
    }

    pub fn partition(&self) -> &str {
        &self.account.partition
    }

    pub fn bucket_name(&self) -> String {
        self.config
            .bucket
            .resolved_name(&self.account.id, &self.region)
    }

    fn outputs(&self) -> std::sync::MutexGuard<'_, Outputs> {
        // A poisoned lock only means another step panicked mid-update of a plain value.
        self.outputs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_role_arn(&self, arn: &str) {
        self.outputs().role_arn = Some(arn.to_string());
    }

    pub fn set_topic_arn(&self, arn: &str) {
        self.outputs().topic_arn = Some(arn.to_string());
    }

    /// The ARN the configured role name gives (what permissions are scoped to).
    pub fn configured_role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition(),
            self.account.id,
            self.config.iam_role.name
        )
    }

    /// The ARN the configured topic name gives in this account and region.
    pub fn configured_topic_arn(&self) -> String {
        format!(
            "arn:{}:sns:{}:{}:{}",
            self.partition(),
            self.region,
            self.account.id,
            self.config.alerts.topic_name
        )
    }

    /// The role's ARN as AWS reported it, or (before the role exists, for a plan) the ARN it
    /// will have.
    pub fn role_arn(&self) -> String {
        self.outputs()
            .role_arn
            .clone()
            .unwrap_or_else(|| self.configured_role_arn())
    }

    /// The topic's ARN as AWS reported it, or (for a plan, before it exists) the ARN it will have.
    pub fn topic_arn(&self) -> String {
        self.outputs()
            .topic_arn
            .clone()
            .unwrap_or_else(|| self.configured_topic_arn())
    }

    pub fn adopt_logging(&self) -> bool {
        self.adopt_logging.load(Ordering::SeqCst)
    }

    pub fn set_adopt_logging(&self, adopt: bool) {
        self.adopt_logging.store(adopt, Ordering::SeqCst);
    }

    /// Record something the user must act on; commands print these with their result.
    pub fn notice(&self, message: impl Into<String>) {
        let message = message.into();
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        if !notices.contains(&message) {
            notices.push(message);
        }
    }

    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Add what only the context knows to an error: the principal that lacks a permission.
    pub fn explain(&self, mut e: crate::aws::AwsError) -> crate::aws::AwsError {
        if e.is_access_denied() && !e.operation.is_empty() {
            e.hint = Some(format!(
                "{} is not allowed `{}`; grant it (`bedrock-monitor permissions` prints the policy this tool needs) or use other credentials",
                self.account.caller_arn, e.operation
            ));
        }
        e
    }

    pub fn note(&self, id: ComponentId, message: &str) {
        self.progress.step_note(id, message);
    }
}
