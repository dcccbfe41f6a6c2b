//! Targets above the engine (issue 14): which (account, region) pairs a run covers, each with
//! its own credentials (a role assumed in the account, refreshed by the SDK before it expires)
//! and its own step engine. The engine stays single-target; this module decides which
//! components each target runs (account-wide ones once per account, billing ones once, in the
//! caller's own account) and runs targets concurrently, each account's first region first.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_types::region::Region;
use serde::Serialize;

use crate::aws::{Account, AwsError, AwsResultExt, Clients};
use crate::config::targets::TargetsConfig;
use crate::engine::{ComponentId, Interrupt};

/// One (account, region) the run works on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Target {
    pub account: String,
    pub region: String,
    /// The account's first region: account-wide components (the logging role, budgets, budget
    /// actions) run here only.
    #[serde(skip)]
    pub primary: bool,
    /// The caller's own account in its first region: the billing components (cost-allocation
    /// tags, anomaly detection, the CUR export) run here only.
    #[serde(skip)]
    pub payer: bool,
}

impl Target {
    pub fn label(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }

    /// Whether component `id` runs in this target.
    pub fn runs(&self, id: ComponentId) -> bool {
        let billing = matches!(
            id,
            ComponentId::CostAllocationTags
                | ComponentId::AnomalyDetection
                | ComponentId::CurExport
        );
        if self.payer && !self.primary {
            // Added only for the billing components: the caller's account is not a target.
            return billing;
        }
        match id {
            ComponentId::Role | ComponentId::Budgets | ComponentId::BudgetActions => self.primary,
            ComponentId::CostAllocationTags
            | ComponentId::AnomalyDetection
            | ComponentId::CurExport => self.payer,
            _ => true,
        }
    }
}

/// The targets of a run, and the accounts left out with why.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resolved {
    pub targets: Vec<Target>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub account: String,
    pub reason: String,
    /// The account's state in Organizations, when that is why it is skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The only account state a run works in.
const ACTIVE: &str = "ACTIVE";

/// An account's lifecycle state as Organizations reports it. Organizations retired the
/// `Status` member of `Account` in favour of `State` (PENDING_ACTIVATION, ACTIVE, SUSPENDED,
/// PENDING_CLOSURE, CLOSED; API reference, Account), so `State` is read first and `Status`
/// only for an answer that lacks it. `None` when the answer has neither: such an account is
/// listed as skipped, never silently dropped.
fn account_state(a: &aws_sdk_organizations::types::Account) -> Option<String> {
    a.state()
        .map(|s| s.as_str().to_string())
        .or_else(|| a.status().map(|s| s.as_str().to_string()))
}

/// The accounts of a listing page, each with its state.
fn listed_accounts(
    accounts: &[aws_sdk_organizations::types::Account],
) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    accounts
        .iter()
        .filter_map(|a| Some((a.id()?.to_string(), account_state(a))))
}

/// Every account under `ou`, nested OUs included, with its state.
async fn accounts_under(
    org: &aws_sdk_organizations::Client,
    ou: &str,
) -> Result<Vec<(String, Option<String>)>, AwsError> {
    let mut found = Vec::new();
    let mut pending = vec![ou.to_string()];
    while let Some(parent) = pending.pop() {
        let mut next = None;
        loop {
            let page = org
                .list_accounts_for_parent()
                .parent_id(&parent)
                .set_next_token(next)
                .send()
                .await
                .aws("organizations:ListAccountsForParent")?;
            found.extend(listed_accounts(page.accounts()));
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
        let mut next = None;
        loop {
            let page = org
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .set_next_token(next)
                .send()
                .await
                .aws("organizations:ListOrganizationalUnitsForParent")?;
            pending.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|u| u.id().map(str::to_string)),
            );
            next = page.next_token().map(str::to_string);
            if next.is_none() {
                break;
            }
        }
    }
    Ok(found)
}

async fn organization_accounts(
    org: &aws_sdk_organizations::Client,
) -> Result<Vec<(String, Option<String>)>, AwsError> {
    let mut found = Vec::new();
    let mut next = None;
    loop {
        let page = org
            .list_accounts()
            .set_next_token(next)
            .send()
            .await
            .aws("organizations:ListAccounts")?;
        found.extend(listed_accounts(page.accounts()));
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            return Ok(found);
        }
    }
}

/// The run's targets: the configured accounts (listed, or found in Organizations: ACTIVE ones
/// only), minus the excluded ones, narrowed to `--account`/`--region` when given, in every
/// configured region. `payer_components`: whether the config has billing components, which
/// then run once in the caller's own account (added as a target if it is not one).
pub async fn resolve(
    home: &Clients,
    caller: &Account,
    config: &TargetsConfig,
    only_accounts: &[String],
    only_regions: &[String],
    payer_components: bool,
) -> Result<Resolved, AwsError> {
    let mut resolved = Resolved::default();
    let listed: Vec<(String, Option<String>)> = if !config.accounts.is_empty() {
        config
            .accounts
            .iter()
            .map(|a| (a.clone(), Some(ACTIVE.to_string())))
            .collect()
    } else if config.organization {
        organization_accounts(&home.organizations).await?
    } else {
        let mut all = Vec::new();
        for ou in &config.organizational_units {
            all.extend(accounts_under(&home.organizations, ou).await?);
        }
        all
    };
    let mut accounts = BTreeSet::new();
    for (id, state) in listed {
        if config.exclude_accounts.contains(&id) {
            resolved.skipped.push(Skipped {
                account: id,
                reason: "in exclude_accounts".into(),
                state: None,
            });
        } else if state.as_deref() != Some(ACTIVE) {
            resolved.skipped.push(Skipped {
                account: id,
                reason: match &state {
                    Some(state) => format!("{state} in Organizations, not ACTIVE"),
                    None => "Organizations gave neither its State nor its Status".into(),
                },
                state,
            });
        } else if !only_accounts.is_empty() && !only_accounts.contains(&id) {
            // Narrowed away by --account: not worth a line.
        } else {
            accounts.insert(id);
        }
    }
    let regions: Vec<&String> = config
        .regions
        .iter()
        .filter(|r| only_regions.is_empty() || only_regions.contains(r))
        .collect();
    for account in &accounts {
        for (i, region) in regions.iter().enumerate() {
            resolved.targets.push(Target {
                account: account.clone(),
                region: (*region).clone(),
                primary: i == 0,
                payer: payer_components && i == 0 && *account == caller.id,
            });
        }
    }
    let home_is_target = resolved.targets.iter().any(|t| t.payer);
    if payer_components
        && !home_is_target
        && let Some(first) = regions.first()
    {
        // Billing components belong to the payer account: run them there, alone.
        resolved.targets.push(Target {
            account: caller.id.clone(),
            region: (*first).clone(),
            primary: false,
            payer: true,
        });
    }
    resolved.skipped.sort_by(|a, b| a.account.cmp(&b.account));
    Ok(resolved)
}

/// An account's SDK configuration and identity: the caller's own in its own account;
/// otherwise the configured role assumed there, once, by an explicit `sts:AssumeRole` (so a
/// denied role fails here, named, and the assumed identity is known without a
/// GetCallerIdentity per target). Every region of the account is built from this
/// configuration, so they share its credentials; the SDK's identity cache asks the
/// [`AssumedRole`] provider again before they expire on a long run.
pub async fn assume_account(
    base: &aws_types::SdkConfig,
    sts: &aws_sdk_sts::Client,
    caller: &Account,
    config: &TargetsConfig,
    account: &str,
) -> Result<(aws_types::SdkConfig, Account), AwsError> {
    if account == caller.id {
        return Ok((base.clone(), caller.clone()));
    }
    let role_arn = format!(
        "arn:{}:iam::{account}:role/{}",
        caller.partition, config.role_name
    );
    let assumed = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(&config.session_name)
        .set_external_id(config.external_id.clone())
        .send()
        .await
        .aws("sts:AssumeRole")?;
    let (Some(credentials), Some(user)) = (assumed.credentials(), assumed.assumed_role_user())
    else {
        return Err(AwsError::setup(
            format!("sts:AssumeRole of {role_arn} returned no credentials"),
            "check the role's trust policy and the STS endpoint in use",
        ));
    };
    let first = aws_credential_types::Credentials::new(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        Some(credentials.session_token().to_string()),
        std::time::SystemTime::try_from(*credentials.expiration()).ok(),
        "AssumeRole",
    );
    let mut refresh = AssumeRoleProvider::builder(role_arn)
        .session_name(&config.session_name)
        .configure(base);
    if let Some(id) = &config.external_id {
        refresh = refresh.external_id(id);
    }
    let provider = AssumedRole::new(first, SharedCredentialsProvider::new(refresh.build().await));
    let identity = Account {
        id: account.to_string(),
        partition: caller.partition.clone(),
        caller_arn: user.arn().to_string(),
    };
    let sdk = base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Ok((sdk, identity))
}

/// Credentials of a role already assumed: the first answer is the credentials that
/// `sts:AssumeRole` returned; later ones (the identity cache asks when those near their
/// expiry) come from the SDK's own assume-role provider.
#[derive(Debug)]
struct AssumedRole {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    refresh: SharedCredentialsProvider,
}

impl AssumedRole {
    fn new(first: aws_credential_types::Credentials, refresh: SharedCredentialsProvider) -> Self {
        AssumedRole {
            first: std::sync::Mutex::new(Some(first)),
            refresh,
        }
    }
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().ok().and_then(|mut f| f.take());
        match first {
            Some(credentials) => {
                aws_credential_types::provider::future::ProvideCredentials::ready(Ok(credentials))
            }
            None => self.refresh.provide_credentials(),
        }
    }
}

/// Clients for `region` from an account's configuration ([`account_config`]).
pub fn clients_in(account: &aws_types::SdkConfig, region: &str) -> Result<Clients, AwsError> {
    Clients::from_sdk_config(
        &account
            .to_builder()
            .region(Region::new(region.to_string()))
            .build(),
    )
}

/// What one target's work ended with.
#[derive(Debug)]
pub struct TargetOutcome<T> {
    pub target: Target,
    pub result: Result<T, String>,
}

/// Runs `work` for every target: `concurrency` accounts at a time, all the targets (regions) of
/// an account together. `warm(account)` (assuming the account's role) runs first, outside the
/// account slots but at most `concurrency` accounts ahead of them, so an account starts working
/// the moment a slot frees. A target that fails never stops the others. After Ctrl-C no new
/// target starts; those not started are reported as not started. (Ordering inside an account,
/// such as regions waiting for the account's logging role, is the caller's: see
/// `commands::fanout::apply`.)
pub async fn run_all<T, W, WFut, F, Fut>(
    targets: &[Target],
    concurrency: usize,
    interrupt: &Interrupt,
    warm: W,
    work: F,
) -> Vec<TargetOutcome<T>>
where
    W: Fn(String) -> WFut + Sync,
    WFut: Future<Output = ()>,
    F: Fn(Target) -> Fut + Sync,
    Fut: Future<Output = Result<T, String>>,
{
    let concurrency = concurrency.max(1);
    // Permits are handed out first come, first served (tokio's semaphore is fair): accounts
    // start in order.
    let slots = tokio::sync::Semaphore::new(concurrency);
    let ahead = tokio::sync::Semaphore::new(concurrency * 2);
    let mut by_account: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
    for t in targets {
        by_account.entry(t.account.as_str()).or_default().push(t);
    }
    let not_started = |t: &Target| TargetOutcome {
        result: Err("not started: interrupted".into()),
        target: t.clone(),
    };
    let accounts = by_account.into_iter().map(|(account, list)| {
        let (slots, ahead, work, warm) = (&slots, &ahead, &work, &warm);
        async move {
            if interrupt.is_set() {
                return list.into_iter().map(not_started).collect::<Vec<_>>();
            }
            let _ahead = ahead.acquire().await;
            if interrupt.is_set() {
                return list.into_iter().map(not_started).collect::<Vec<_>>();
            }
            // In line for a slot while the role is assumed: accounts keep their order even
            // when an earlier one takes longer to assume.
            let (_, _slot) = futures::join!(warm(account.to_string()), slots.acquire());
            if interrupt.is_set() {
                return list.into_iter().map(not_started).collect::<Vec<_>>();
            }
            futures::future::join_all(list.into_iter().map(|t| async move {
                TargetOutcome {
                    result: work(t.clone()).await,
                    target: t.clone(),
                }
            }))
            .await
        }
    });
    let mut outcomes: Vec<TargetOutcome<T>> = futures::future::join_all(accounts)
        .await
        .into_iter()
        .flatten()
        .collect();
    outcomes.sort_by(|a, b| a.target.cmp(&b.target));
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(primary: bool, payer: bool) -> Target {
        Target {
            account: "111111111111".into(),
            region: "us-east-1".into(),
            primary,
            payer,
        }
    }

    fn fleet_of(accounts: usize, regions: &[&str]) -> Vec<Target> {
        (0..accounts)
            .flat_map(|a| {
                regions.iter().enumerate().map(move |(i, r)| Target {
                    account: format!("{:012}", a + 1),
                    region: r.to_string(),
                    primary: i == 0,
                    payer: false,
                })
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn accounts_run_in_bounded_slots_with_their_roles_assumed_ahead() {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let targets = fleet_of(7, &["us-east-1", "us-west-2"]);
        let working: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let most_accounts = AtomicUsize::new(0);
        let warmed: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let most_ahead = AtomicUsize::new(0);
        let done: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let started: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let outcomes = run_all(
            &targets,
            2,
            &Interrupt::default(),
            |account| {
                let (warmed, done, most_ahead) = (&warmed, &done, &most_ahead);
                async move {
                    {
                        let mut w = warmed.lock().unwrap_or_else(|e| e.into_inner());
                        w.push(account.clone());
                        let finished = done.lock().unwrap_or_else(|e| e.into_inner()).len();
                        most_ahead.fetch_max(w.len() - finished, Ordering::SeqCst);
                    }
                    // Earlier accounts take longer to assume than later ones.
                    let n: u64 = account.parse().unwrap_or(0);
                    tokio::time::sleep(std::time::Duration::from_millis(80 - 10 * n)).await;
                }
            },
            |t| {
                let (working, done, most_accounts, started) =
                    (&working, &done, &most_accounts, &started);
                async move {
                    if t.primary {
                        started
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(t.account.clone());
                    }
                    let now = {
                        let mut w = working.lock().unwrap_or_else(|e| e.into_inner());
                        w.insert(t.account.clone());
                        w.len()
                    };
                    most_accounts.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    working
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&t.account);
                    if !t.primary {
                        done.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(t.account);
                    }
                    Ok(t.region.clone())
                }
            },
        )
        .await;
        assert_eq!(outcomes.len(), 14);
        assert!(outcomes.iter().all(|o| o.result.is_ok()));
        // Two accounts (four targets) at a time; both regions of an account together.
        assert_eq!(most_accounts.load(Ordering::SeqCst), 2);
        // Each role assumed once, in order, never more than two accounts ahead of the slots.
        let warmed = warmed.into_inner().unwrap_or_default();
        let mut sorted = warmed.clone();
        sorted.sort();
        assert_eq!(warmed, sorted);
        assert_eq!(warmed.len(), 7);
        // Two slots: each account starts with the first or second of the two before it.
        let started = started.into_inner().unwrap_or_default();
        for (i, account) in started.iter().enumerate() {
            let place = sorted.iter().position(|a| a == account).unwrap_or(99);
            assert!(place.abs_diff(i) <= 1, "{started:?}");
        }
        assert!(most_ahead.load(Ordering::SeqCst) <= 4, "{most_ahead:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn one_slot_takes_accounts_in_order_whichever_role_is_assumed_first() {
        use std::sync::Mutex;
        let started: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let targets = fleet_of(4, &["us-east-1"]);
        run_all(
            &targets,
            1,
            &Interrupt::default(),
            |account| async move {
                // The first account's role takes longest.
                let n: u64 = account.parse().unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(50 - 10 * n)).await;
            },
            |t| {
                let started = &started;
                async move {
                    started
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(t.account.clone());
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    Ok(())
                }
            },
        )
        .await;
        let order: Vec<String> = targets.iter().map(|t| t.account.clone()).collect();
        assert_eq!(started.into_inner().unwrap_or_default(), order);
    }

    #[tokio::test]
    async fn after_an_interrupt_no_target_starts() {
        let interrupt = Interrupt::default();
        interrupt.trigger();
        let outcomes = run_all(
            &fleet_of(3, &["us-east-1"]),
            8,
            &interrupt,
            |_| async {},
            |_| async { Ok(()) },
        )
        .await;
        assert_eq!(outcomes.len(), 3);
        for o in outcomes {
            assert_eq!(o.result, Err("not started: interrupted".to_string()));
        }
    }

    #[tokio::test]
    async fn assumed_credentials_are_used_once_then_refreshed() {
        let first = aws_credential_types::Credentials::new("FIRST", "s", None, None, "test");
        let later = aws_credential_types::Credentials::new("LATER", "s", None, None, "test");
        let provider = AssumedRole::new(first, SharedCredentialsProvider::new(later));
        let key = |c: aws_credential_types::Credentials| c.access_key_id().to_string();
        let got = provider.provide_credentials().await.map(key).ok();
        assert_eq!(got.as_deref(), Some("FIRST"));
        // The identity cache asks again when those near expiry: the role is assumed anew.
        for _ in 0..2 {
            let got = provider.provide_credentials().await.map(key).ok();
            assert_eq!(got.as_deref(), Some("LATER"));
        }
    }

    #[test]
    fn each_component_runs_where_its_scope_says() {
        let first = target(true, false);
        let second = target(false, false);
        let home = target(true, true);
        let billing_only = target(false, true);
        assert!(first.runs(ComponentId::Role) && !second.runs(ComponentId::Role));
        assert!(first.runs(ComponentId::Budgets) && !second.runs(ComponentId::Budgets));
        assert!(first.runs(ComponentId::LogGroup) && second.runs(ComponentId::LogGroup));
        assert!(!first.runs(ComponentId::CurExport) && home.runs(ComponentId::CurExport));
        assert!(home.runs(ComponentId::Role));
        // The caller's account added for billing only gets nothing else.
        assert!(billing_only.runs(ComponentId::AnomalyDetection));
        for id in [
            ComponentId::Role,
            ComponentId::Bucket,
            ComponentId::Dashboard,
            ComponentId::Budgets,
        ] {
            assert!(!billing_only.runs(id), "{id}");
        }
    }
}
