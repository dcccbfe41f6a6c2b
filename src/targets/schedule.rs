//! Running targets: a bounded number of accounts at a time, all the regions of an account
//! together, in order, each account's credentials made ready ahead of its turn; after Ctrl-C
//! no new target starts.

use std::collections::BTreeMap;
use std::future::Future;

use crate::aws::AwsError;
use crate::engine::Interrupt;

use super::Target;

/// Why one target's work did not give a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TargetError {
    /// The account's role could not be assumed.
    #[error("could not work in account {account} as role {role}: {cause}")]
    Account {
        account: String,
        role: String,
        cause: AwsError,
    },
    #[error("account {0} is not a target")]
    NotATarget(String),
    #[error("the account was not looked up: open the fleet with Needs::Identity")]
    NoIdentity,
    /// Clients for the target's region could not be made.
    #[error("{0}")]
    Clients(AwsError),
    #[error("not started: interrupted")]
    NotStarted,
    #[error("{0} ran twice")]
    RanTwice(String),
    /// The command's own error for this target, as it reads.
    #[error("{0}")]
    Work(String),
}

/// What one target's work ended with.
#[derive(Debug)]
pub struct TargetOutcome<T> {
    pub target: Target,
    pub result: Result<T, TargetError>,
}

/// Runs `work` for every target: `concurrency` accounts at a time, all the targets (regions) of
/// an account together. `warm(account)` (assuming the account's role) runs first, outside the
/// account slots but at most `concurrency` accounts ahead of them, so an account starts working
/// the moment a slot frees. A target that fails never stops the others. After Ctrl-C no new
/// target starts; those not started are reported as not started. (Ordering inside an account,
/// such as regions waiting for the account's logging role, is the caller's: see
/// `Fleet::prepare_to_converge`.)
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
    Fut: Future<Output = Result<T, TargetError>>,
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
        result: Err(TargetError::NotStarted),
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
    use std::collections::BTreeSet;

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
            assert_eq!(
                o.result.map_err(|e| e.to_string()),
                Err("not started: interrupted".to_string())
            );
        }
    }
}
