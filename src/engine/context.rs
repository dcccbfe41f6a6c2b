//! What every step sees: the config, the account, the clients, values that upstream steps
//! produced (ARNs taken from AWS responses), and a progress sink.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Application inference profiles by their config name.
    pub profiles: BTreeMap<String, ProfileOutput>,
    /// Other components' identifiers, for `apply` and `status` output (by component, label).
    pub ids: BTreeMap<ComponentId, BTreeMap<String, String>>,
}

/// What the rest of the stack needs of an application inference profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileOutput {
    pub arn: String,
    /// The last part of the ARN: what CloudWatch's `ModelId` dimension shows for its calls.
    pub id: String,
}

/// Where this account stands in AWS Organizations, which decides whether the account-wide
/// billing features (cost-allocation tags, Cost Categories, Data Exports) can be managed here.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountKind {
    /// Not in an organization: it pays its own bill.
    Standalone,
    /// The organization's management (payer) account.
    Management,
    /// A member account; billing features belong to `management_account`.
    Member { management_account: String },
}

pub struct Context {
    pub config: Config,
    pub account: Account,
    pub region: String,
    /// Every region this run manages in the account (several with [targets]): account-wide
    /// resources (the logging role) cover them all.
    pub regions: Vec<String>,
    pub aws: Clients,
    pub outputs: Mutex<Outputs>,
    pub progress: Arc<dyn Progress>,
    /// Replace a Bedrock logging configuration that points at someone else's destinations.
    pub adopt_logging: AtomicBool,
    /// Components whose existing resources without this stack's tag the user agreed to adopt
    /// (`--adopt`, or a yes on a terminal).
    adopt: Mutex<BTreeSet<ComponentId>>,
    /// `cleanup --purge-data`: buckets that hold data (logs, the CUR) may be emptied.
    pub purge_data: AtomicBool,
    /// Facts for the final summary that the user must act on (e.g. emails to confirm).
    notices: Mutex<Vec<String>>,
    /// Learned once per run, by the first billing component that needs it.
    account_kind: tokio::sync::OnceCell<Result<AccountKind, crate::aws::AwsError>>,
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
            regions: vec![aws.region.clone()],
            config,
            account,
            aws,
            outputs: Mutex::new(Outputs::default()),
            progress,
            adopt_logging: AtomicBool::new(false),
            adopt: Mutex::new(BTreeSet::new()),
            purge_data: AtomicBool::new(false),
            notices: Mutex::new(Vec::new()),
            account_kind: tokio::sync::OnceCell::new(),
        }
    }

    /// Whether this account is standalone, the organization's management account or a member
    /// (`organizations:DescribeOrganization`, called once per run).
    pub async fn account_kind(&self) -> Result<AccountKind, crate::aws::AwsError> {
        self.account_kind
            .get_or_init(|| async {
                let out = self.aws.organizations.describe_organization().send().await;
                match out {
                    Ok(out) => {
                        let management = out
                            .organization()
                            .and_then(|o| o.master_account_id())
                            .unwrap_or_default()
                            .to_string();
                        Ok(if management.is_empty() || management == self.account.id {
                            AccountKind::Management
                        } else {
                            AccountKind::Member {
                                management_account: management,
                            }
                        })
                    }
                    Err(e) => {
                        let e =
                            crate::aws::AwsError::from_sdk("organizations:DescribeOrganization", e);
                        if e.code_is(&["AWSOrganizationsNotInUseException"]) {
                            Ok(AccountKind::Standalone)
                        } else {
                            Err(self.explain(e))
                        }
                    }
                }
            })
            .await
            .clone()
    }

    /// An error for a component that only the payer account can manage, when this is a member
    /// account; `what` names the feature, `section` the config section to remove.
    pub async fn require_payer(
        &self,
        what: &str,
        section: &str,
    ) -> Result<(), crate::aws::AwsError> {
        match self.account_kind().await? {
            AccountKind::Standalone | AccountKind::Management => Ok(()),
            AccountKind::Member { management_account } => Err(crate::aws::AwsError::setup(
                format!(
                    "{what} can only be managed from the organization's management account ({management_account}); account {} is a member account",
                    self.account.id
                ),
                format!(
                    "run this with credentials of account {management_account}, or remove [{section}] from the config for this account"
                ),
            )),
        }
    }

    pub fn set_profile(&self, name: &str, arn: &str) {
        let id = arn.rsplit('/').next().unwrap_or(arn).to_string();
        self.outputs().profiles.insert(
            name.to_string(),
            ProfileOutput {
                arn: arn.to_string(),
                id,
            },
        );
    }

    pub fn forget_profile(&self, name: &str) {
        self.outputs().profiles.remove(name);
    }

    /// A profile's ARN and ID as AWS reported them, once known (read or created).
    pub fn profile(&self, name: &str) -> Option<ProfileOutput> {
        self.outputs().profiles.get(name).cloned()
    }

    /// What CloudWatch's `ModelId` shows for calls through the profile `name`, or (for a plan,
    /// before the profile exists) a placeholder that says so.
    pub fn profile_model_id(&self, name: &str) -> String {
        self.profile(name)
            .map(|p| p.id)
            .unwrap_or_else(|| format!("(ID of inference profile {name}, known after apply)"))
    }

    /// Record an identifier (an ARN) of a component for `apply` and `status` to show.
    pub fn set_id(&self, id: ComponentId, label: &str, value: &str) {
        self.outputs()
            .ids
            .entry(id)
            .or_default()
            .insert(label.to_string(), value.to_string());
    }

    pub fn forget_id(&self, id: ComponentId, label: &str) {
        if let Some(ids) = self.outputs().ids.get_mut(&id) {
            ids.remove(label);
        }
    }

    /// The identifiers recorded for a component.
    pub fn ids(&self, id: ComponentId) -> BTreeMap<String, String> {
        self.outputs().ids.get(&id).cloned().unwrap_or_default()
    }

    /// The same context for a run over these regions of the account.
    pub fn with_regions(mut self, regions: Vec<String>) -> Context {
        if !regions.is_empty() {
            self.regions = regions;
        }
        self
    }

    /// The dashboard's name: CloudWatch dashboards are global in an account, so with several
    /// regions each region's gets the region as a suffix.
    pub fn dashboard_name(&self) -> String {
        if self.regions.len() > 1 {
            format!("{}-{}", self.config.dashboard.name, self.region)
        } else {
            self.config.dashboard.name.clone()
        }
    }

    /// The log bucket's name in `region` (the run's regions each have one with [targets]).
    pub fn bucket_name_in(&self, region: &str) -> String {
        self.config.bucket.resolved_name(&self.account.id, region)
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

    /// Whether the user agreed to adopt `id`'s existing resources that lack the stack's tag.
    pub fn adopts(&self, id: ComponentId) -> bool {
        self.adopt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&id)
    }

    /// The user agreed to adopt `id`'s existing resources (never another stack's).
    pub fn allow_adoption(&self, id: ComponentId) {
        self.adopt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id);
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

    /// Add what only the context knows to an error: the principal that lacks a permission, and
    /// for credentials refused in an opt-in region, that the region may not be enabled for
    /// this account.
    pub fn explain(&self, e: crate::aws::AwsError) -> crate::aws::AwsError {
        let mut e = e.in_region(&self.region, Some(&self.account.id));
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

#[cfg(test)]
impl Context {
    /// The default config in the test account, with clients that never reach AWS.
    pub fn offline() -> Context {
        Context::new(
            Config::default(),
            crate::aws::test_account(),
            crate::aws::offline_clients(),
            Arc::new(QuietProgress),
        )
    }
}
