//! The fleet a run works on: one target (no `[targets]`: the caller's credentials in one
//! region) or many (each account's role assumed once, its regions sharing the credentials).
//! Commands ask it for each target's engine context and run their work for every target
//! through it.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::aws::{Account, AwsError, Clients, ConnectOptions, load_sdk_config};
use crate::config::Config;
use crate::config::targets::TargetsConfig;
use crate::engine::{ComponentId, Context, Interrupt, Progress, Scope, Step};
use crate::resources;

use super::{Resolved, Skipped, Target, TargetError, TargetOutcome, credentials, resolve, run_all};

/// Where and how to connect, and which of the `[targets]` to run in.
#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    pub connect: ConnectOptions,
    /// `--account`: only these accounts of `[targets]`.
    pub accounts: Vec<String>,
    /// Repeated `--region`: only these regions of `[targets]`.
    pub regions: Vec<String>,
    /// Where a run over several targets shows how many are done.
    pub progress: crate::ui::activity::Activity,
}

/// What the command needs of a single target before its work starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The account's identity (`sts:GetCallerIdentity`): commands that name resources by
    /// account. Region-dependent config rules are checked first.
    Identity,
    /// Clients only: `report` reads metrics and bills without knowing the account.
    ClientsOnly,
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The run cannot start with these settings (no AWS call was made, or none is worth making).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// An account's SDK configuration and identity once its role is assumed, or why not.
type AccountSlot = tokio::sync::OnceCell<Result<(aws_types::SdkConfig, Account), TargetError>>;

pub struct Fleet {
    config: Config,
    kind: Kind,
    targets: Vec<Target>,
    skipped: Vec<Skipped>,
    /// Per account with several regions: set once its logging role is done, which its other
    /// regions' logging steps wait for.
    role_ready: BTreeMap<String, RoleReady>,
    /// Targets done, over several (see [`FleetOptions::progress`]).
    progress: crate::ui::activity::Activity,
}

// One fleet per run: the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
enum Kind {
    /// No `[targets]`: the caller's credentials in one region.
    One {
        clients: Clients,
        account: Option<Account>,
    },
    Many {
        base: aws_types::SdkConfig,
        /// The caller's STS client (it assumes the role in each account).
        sts: aws_sdk_sts::Client,
        caller: Account,
        targets_config: TargetsConfig,
        /// Each account's SDK configuration and identity, built once (one AssumeRole per
        /// account, shared by its regions), or why the account cannot be worked in.
        accounts: BTreeMap<String, AccountSlot>,
    },
}

/// One target's engine context and the steps it runs there.
pub struct Prepared {
    pub cx: Arc<Context>,
    pub steps: Vec<Arc<dyn Step>>,
}

impl Fleet {
    /// The targets of `config`: one without `[targets]`, else every (account, region) it
    /// resolves to. Fails before any work when there is nothing to run in.
    pub async fn open(
        options: &FleetOptions,
        config: &Config,
        needs: Needs,
    ) -> Result<Fleet, FleetError> {
        match &config.targets {
            None => Self::caller(options, config, needs).await,
            Some(targets) => Self::open_many(options, config, targets).await,
        }
    }

    /// A fleet of one: the caller's credentials in its region (`--region`, then
    /// `stack.region`, then the profile's), whatever `[targets]` says.
    pub async fn caller(
        options: &FleetOptions,
        config: &Config,
        needs: Needs,
    ) -> Result<Fleet, FleetError> {
        let clients = Clients::connect(
            &options.connect,
            config.stack.region.as_deref(),
            &config.aws,
        )
        .await?;
        let account = match needs {
            Needs::ClientsOnly => None,
            Needs::Identity => {
                // The region may come from the profile only: check what depends on it before
                // any call.
                let problems = crate::config::rules::key_region_problems(config, &clients.region);
                if !problems.is_empty() {
                    return Err(FleetError::Usage(format!(
                        "{} (region {} from the AWS profile)",
                        problems.join("; "),
                        clients.region
                    )));
                }
                let account = clients.account().await?;
                tracing::debug!(account = %account.id, region = %clients.region, "connected");
                Some(account)
            }
        };
        let target = Target {
            // Never shown: a fleet of one prints its target's result as it is.
            account: account.as_ref().map(|a| a.id.clone()).unwrap_or_default(),
            region: clients.region.clone(),
            primary: true,
            payer: true,
        };
        Ok(Fleet {
            config: config.clone(),
            kind: Kind::One { clients, account },
            targets: vec![target],
            skipped: Vec::new(),
            role_ready: BTreeMap::new(),
            progress: crate::ui::activity::Activity::hidden(),
        })
    }

    async fn open_many(
        options: &FleetOptions,
        config: &Config,
        targets: &TargetsConfig,
    ) -> Result<Fleet, FleetError> {
        let connect = ConnectOptions {
            region: targets.regions.first().cloned(),
            ..options.connect.clone()
        };
        let base = load_sdk_config(&connect, None, &config.aws).await;
        let home = Clients::from_sdk_config(&base)?;
        let caller = home.account().await?;
        let payer = resources::steps_for(config)
            .iter()
            .any(|s| s.scope() == Scope::Payer);
        let Resolved {
            targets: resolved,
            skipped,
        } = resolve(
            &home,
            &caller,
            targets,
            &options.accounts,
            &options.regions,
            payer,
        )
        .await?;
        if resolved.is_empty() {
            return Err(FleetError::Usage(
                "no target left: every account is excluded, not ACTIVE, or narrowed away by --account"
                    .into(),
            ));
        }
        let accounts = resolved
            .iter()
            .map(|t| (t.account.clone(), tokio::sync::OnceCell::new()))
            .collect();
        let mut role_ready = BTreeMap::new();
        for t in resolved.iter().filter(|t| !t.primary && !t.payer) {
            role_ready
                .entry(t.account.clone())
                .or_insert_with(RoleReady::new);
        }
        Ok(Fleet {
            config: config.clone(),
            kind: Kind::Many {
                base,
                sts: home.sts.clone(),
                caller,
                targets_config: targets.clone(),
                accounts,
            },
            targets: resolved,
            skipped,
            role_ready,
            progress: options.progress.clone(),
        })
    }

    /// A config without `[targets]`: results are shown as they are, without a summary.
    pub fn is_single(&self) -> bool {
        matches!(self.kind, Kind::One { .. })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every target, in order (by account, then the configured regions' order).
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Accounts left out, with why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The engine context of a fleet of one (see [`Fleet::caller`]).
    pub async fn caller_context(
        &self,
        progress: Arc<dyn Progress>,
    ) -> Result<Arc<Context>, FleetError> {
        match (&self.kind, self.targets.as_slice()) {
            (Kind::One { .. }, [only]) => self
                .prepare(only, progress)
                .await
                .map(|p| p.cx)
                .map_err(FleetError::Target),
            _ => Err(FleetError::Usage(
                "this command works in one account and region: it does not run over [targets]"
                    .into(),
            )),
        }
    }

    /// The targets that report usage: all but the one added only for the billing components
    /// (usage is regional; that target's account and region are another target's too, or not
    /// one the user asked about).
    pub fn usage_targets(&self) -> Vec<Target> {
        self.targets
            .iter()
            .filter(|t| t.primary || !t.payer)
            .cloned()
            .collect()
    }

    /// How a target is named in output shared by several (plans on stderr, prompts); `None` for
    /// a fleet of one, whose output names no target.
    pub fn heading(&self, target: &Target) -> Option<String> {
        (!self.is_single()).then(|| target.label())
    }

    /// Clients in `target`, with its account's credentials.
    pub async fn clients(&self, target: &Target) -> Result<Clients, TargetError> {
        match &self.kind {
            Kind::One { clients, .. } => Ok(clients.clone()),
            Kind::Many { .. } => {
                let (account_config, _) = self.assumed(&target.account).await?;
                credentials::clients_in(&account_config, &target.region)
                    .map_err(TargetError::Clients)
            }
        }
    }

    /// `target`'s engine context (its account, region and the regions the run covers in its
    /// account) and the steps that run there, reporting to `progress`.
    pub async fn prepare(
        &self,
        target: &Target,
        progress: Arc<dyn Progress>,
    ) -> Result<Prepared, TargetError> {
        let (clients, account) = match &self.kind {
            Kind::One { clients, account } => {
                let account = account.clone().ok_or(TargetError::NoIdentity)?;
                (clients.clone(), account)
            }
            Kind::Many { .. } => {
                let (account_config, account) = self.assumed(&target.account).await?;
                let clients = credentials::clients_in(&account_config, &target.region)
                    .map_err(TargetError::Clients)?;
                (clients, account)
            }
        };
        let mut regions: Vec<String> = self
            .targets
            .iter()
            .filter(|t| t.account == target.account && (t.primary || !t.payer))
            .map(|t| t.region.clone())
            .collect();
        if regions.is_empty() {
            regions.push(target.region.clone());
        }
        let cx =
            Context::new(self.config.clone(), account, clients, progress).with_regions(regions);
        let steps = resources::steps_for(&self.config)
            .into_iter()
            .filter(|s| target.runs(s.scope()))
            .collect();
        Ok(Prepared {
            cx: Arc::new(cx),
            steps,
        })
    }

    /// [`Fleet::prepare`] for converging: an account's first region signals when its logging
    /// role is done, and its other regions' steps that use the role (the logging step) wait
    /// for that signal while their other steps go ahead. Call [`Fleet::converged`] when the
    /// target is done, whatever happened.
    pub async fn prepare_to_converge(
        &self,
        target: &Target,
        progress: Arc<dyn Progress>,
    ) -> Result<Prepared, TargetError> {
        let Some(ready) = self.role_ready.get(&target.account) else {
            return self.prepare(target, progress).await;
        };
        if target.primary {
            let progress = Arc::new(SignalsRole {
                inner: progress,
                ready: ready.clone(),
            });
            return self.prepare(target, progress).await;
        }
        let mut prepared = self.prepare(target, progress).await?;
        prepared.steps = prepared
            .steps
            .into_iter()
            .map(|step| WaitsForRole::wrap(step, ready))
            .collect();
        Ok(prepared)
    }

    /// `target` is done converging (or failed): once it is an account's first region, the
    /// account's other regions stop waiting for its logging role.
    pub fn converged(&self, target: &Target) {
        if target.primary
            && let Some(ready) = self.role_ready.get(&target.account)
        {
            ready.set();
        }
    }

    /// The account's SDK configuration and identity: its role assumed once (see
    /// [`credentials::assume_account`]), shared by its regions.
    async fn assumed(&self, account: &str) -> Result<(aws_types::SdkConfig, Account), TargetError> {
        let Kind::Many {
            base,
            sts,
            caller,
            targets_config,
            accounts,
        } = &self.kind
        else {
            return Err(TargetError::NotATarget(account.to_string()));
        };
        let Some(cell) = accounts.get(account) else {
            return Err(TargetError::NotATarget(account.to_string()));
        };
        cell.get_or_init(|| async {
            credentials::assume_account(base, sts, caller, targets_config, account)
                .await
                .map_err(|cause| TargetError::Account {
                    account: account.to_string(),
                    role: targets_config.role_name.clone(),
                    cause,
                })
        })
        .await
        .clone()
    }

    /// Runs `work` for each of `targets`. One target: the work runs as it is, and its error is
    /// the run's. Many: bounded concurrency by account with each account's role assumed ahead
    /// of its turn ([`run_all`]); a target's error is kept in its outcome, as text, and never
    /// stops the others.
    pub async fn run<T, E, F, Fut>(
        &self,
        targets: &[Target],
        interrupt: &Interrupt,
        work: F,
    ) -> Result<Vec<TargetOutcome<T>>, E>
    where
        E: fmt::Display,
        F: Fn(Target) -> Fut + Sync,
        Fut: Future<Output = Result<T, E>>,
    {
        let Kind::Many { targets_config, .. } = &self.kind else {
            let mut outcomes = Vec::new();
            for target in targets {
                let result = work(target.clone()).await?;
                outcomes.push(TargetOutcome {
                    target: target.clone(),
                    result: Ok(result),
                });
            }
            return Ok(outcomes);
        };
        self.progress.set_total(targets.len() as u64);
        let outcomes = run_all(
            targets,
            targets_config.concurrency,
            interrupt,
            |account| async move {
                // A failure is kept in the account's slot and reported by its targets.
                let _ = self.assumed(&account).await;
            },
            |target| {
                let work = &work;
                async move {
                    let result = work(target)
                        .await
                        .map_err(|e| TargetError::Work(e.to_string()));
                    self.progress.advance(1);
                    result
                }
            },
        )
        .await;
        self.progress.finish();
        Ok(outcomes)
    }
}

impl Fleet {
    /// The first of two passes over `targets` (read, then write once the user agrees): the
    /// targets `work` succeeded on, with what it gave, and the outcomes of those it failed on.
    pub async fn run_first_pass<A, B, E, F, Fut>(
        &self,
        targets: &[Target],
        interrupt: &Interrupt,
        work: F,
    ) -> Result<(Vec<(Target, A)>, Vec<TargetOutcome<B>>), E>
    where
        E: fmt::Display,
        F: Fn(Target) -> Fut + Sync,
        Fut: Future<Output = Result<A, E>>,
    {
        let mut ready = Vec::new();
        let mut failed = Vec::new();
        for o in self.run(targets, interrupt, work).await? {
            match o.result {
                Ok(a) => ready.push((o.target, a)),
                Err(e) => failed.push(TargetOutcome {
                    target: o.target,
                    result: Err(e),
                }),
            }
        }
        Ok((ready, failed))
    }

    /// The second pass: `work` for each target the first pass gave `A` for (each value moved
    /// into its target's work); `earlier` (the first pass's failures) are merged in, all in
    /// target order.
    pub async fn run_second_pass<A, B, E, F, Fut>(
        &self,
        ready: Vec<(Target, A)>,
        earlier: Vec<TargetOutcome<B>>,
        interrupt: &Interrupt,
        work: F,
    ) -> Result<Vec<TargetOutcome<B>>, E>
    where
        A: Send,
        E: fmt::Display,
        F: Fn(Target, A) -> Fut + Sync,
        Fut: Future<Output = Result<B, E>>,
    {
        let targets: Vec<Target> = ready.iter().map(|(t, _)| t.clone()).collect();
        let values = std::sync::Mutex::new(ready.into_iter().collect::<BTreeMap<Target, A>>());
        let mut outcomes = self
            .run(&targets, interrupt, |target| {
                let value = values
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .remove(&target);
                let work = &work;
                async move {
                    match value {
                        Some(value) => work(target, value).await.map(Some),
                        // Each target runs once: its value is there.
                        None => Ok(None),
                    }
                }
            })
            .await?
            .into_iter()
            .map(|o| TargetOutcome {
                result: match o.result {
                    Ok(Some(b)) => Ok(b),
                    Ok(None) => Err(TargetError::RanTwice(o.target.label())),
                    Err(e) => Err(e),
                },
                target: o.target,
            })
            .collect::<Vec<_>>();
        outcomes.extend(earlier);
        outcomes.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(outcomes)
    }
}

/// Set once an account's logging role step has finished (or its first region is done): that
/// account's other regions wait for it.
#[derive(Clone)]
struct RoleReady {
    sender: Arc<tokio::sync::watch::Sender<bool>>,
}

impl RoleReady {
    fn new() -> RoleReady {
        RoleReady {
            sender: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    fn set(&self) {
        self.sender.send_replace(true);
    }

    /// Waits for the role, at most ten minutes (then the region goes on and its logging step
    /// retries while IAM has no role).
    async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(600),
            receiver.wait_for(|ready| *ready),
        )
        .await;
    }
}

/// The progress of an account's first region: passed on, and the role's step finishing sets
/// the account's [`RoleReady`].
struct SignalsRole {
    inner: Arc<dyn Progress>,
    ready: RoleReady,
}

impl Progress for SignalsRole {
    fn step_started(&self, id: ComponentId, message: &str) {
        self.inner.step_started(id, message);
    }
    fn step_note(&self, id: ComponentId, message: &str) {
        self.inner.step_note(id, message);
    }
    fn step_finished(&self, id: ComponentId, message: &str, ok: bool) {
        self.inner.step_finished(id, message, ok);
        if id == ComponentId::Role {
            self.ready.set();
        }
    }
    fn suspend(&self, f: &mut dyn FnMut()) {
        self.inner.suspend(f);
    }
}

/// A step of an account's other region that uses the logging role (the logging step): the
/// role is created by the account's first region, so converging waits for it there, while
/// the region's other steps go ahead.
struct WaitsForRole {
    step: Arc<dyn Step>,
    ready: RoleReady,
}

impl WaitsForRole {
    fn wrap(step: Arc<dyn Step>, ready: &RoleReady) -> Arc<dyn Step> {
        if step.depends_on().contains(&ComponentId::Role) {
            Arc::new(WaitsForRole {
                step,
                ready: ready.clone(),
            })
        } else {
            step
        }
    }
}

#[async_trait::async_trait]
impl Step for WaitsForRole {
    fn id(&self) -> ComponentId {
        self.step.id()
    }
    fn name(&self, cx: &Context) -> String {
        self.step.name(cx)
    }
    fn depends_on(&self) -> &'static [ComponentId] {
        self.step.depends_on()
    }
    fn scope(&self) -> Scope {
        self.step.scope()
    }
    fn configured(&self, config: &crate::config::Config) -> bool {
        self.step.configured(config)
    }
    async fn refresh(&self, cx: &Context) -> Result<(), AwsError> {
        self.step.refresh(cx).await
    }
    fn plan(&self, cx: &Context) -> Option<crate::engine::Diff> {
        self.step.plan(cx)
    }
    async fn apply(&self, cx: &Context) -> Result<crate::engine::Diff, AwsError> {
        self.ready.wait().await;
        self.step.apply(cx).await
    }
    fn ownership(&self, cx: &Context) -> Option<crate::engine::Ownership> {
        self.step.ownership(cx)
    }
    fn foreign(&self, cx: &Context) -> Vec<crate::engine::Foreign> {
        self.step.foreign(cx)
    }
    async fn delete(&self, cx: &Context) -> Result<(), AwsError> {
        self.step.delete(cx).await
    }
    fn health(&self, cx: &Context) -> Vec<crate::engine::Health> {
        self.step.health(cx)
    }
    fn permissions(&self, cx: &Context) -> Vec<crate::engine::Permission> {
        self.step.permissions(cx)
    }
}
