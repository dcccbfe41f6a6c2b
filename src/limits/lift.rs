//! Lifting every block the limits passes made, for `cleanup`: whoever a pass denied is let go
//! when the stack that denied them goes away, whether the denies came from the runner or from
//! `limits run --once` in cron.
//!
//! What was denied is what the state objects record (`State::enforced`, written by the pass
//! that wrote the deny): this month's and last month's, since a pass in a new month takes over
//! last month's denies but one may not have run yet. Nothing else is touched: the deny writes
//! go through `enforce::reconcile`, which reads each named user's and role's policy of the
//! tool's name and deletes only that. The standings stay: a stack applied again in the same
//! period blocks again whoever is still over their limit.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::aws::{AwsError, Clients};
use crate::config::Config;

use super::state::{self, Enforced, Saved};
use super::{Change, MAX_ATTEMPTS, enforce};

/// The denies the state objects record, and where each record is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Recorded {
    /// Users and role sessions denied and API keys turned off, as `user NAME`, `role ROLE
    /// session ROLEID:SESSION` and `user NAME API key ID`.
    pub blocks: Vec<String>,
    #[serde(skip)]
    enforced: Enforced,
    #[serde(skip)]
    keys: Vec<String>,
}

impl Recorded {
    pub fn is_empty(&self) -> bool {
        self.enforced.is_empty()
    }
}

/// This month's and last month's state keys for the stack.
fn keys(config: &Config, now: DateTime<Utc>) -> Vec<String> {
    let month = state::month_of(now);
    let mut keys = vec![state::state_key(&config.stack.name, &month)];
    if let Some(before) = state::previous_month(&month) {
        keys.push(state::state_key(&config.stack.name, &before));
    }
    keys
}

/// What the stack's state objects say it denies. A bucket that does not exist (yet, or any
/// more) records nothing.
pub async fn recorded(
    clients: &Clients,
    config: &Config,
    account: &str,
    now: DateTime<Utc>,
) -> Result<Recorded, AwsError> {
    let bucket = config.bucket.resolved_name(account, &clients.region);
    let mut out = Recorded::default();
    for key in keys(config, now) {
        let loaded = match state::load(clients, &bucket, account, &key).await {
            Ok(loaded) => loaded,
            Err(e) if e.code_is(&["NoSuchBucket"]) => return Ok(Recorded::default()),
            Err(e) => return Err(e),
        };
        let Some(found) = loaded.state else { continue };
        if found.enforced.is_empty() {
            continue;
        }
        out.enforced.users.extend(found.enforced.users);
        for (role, ids) in found.enforced.roles {
            out.enforced.roles.entry(role).or_default().extend(ids);
        }
        for (user, ids) in found.enforced.api_keys {
            out.enforced.api_keys.entry(user).or_default().extend(ids);
        }
        out.keys.push(key);
    }
    out.blocks = out
        .enforced
        .users
        .iter()
        .map(|u| format!("user {u}"))
        .chain(out.enforced.roles.iter().flat_map(|(role, ids)| {
            ids.iter()
                .map(move |id| format!("role {role} session {id}"))
        }))
        .chain(out.enforced.api_keys.iter().flat_map(|(user, ids)| {
            ids.iter()
                .map(move |id| format!("user {user} API key {id}"))
        }))
        .collect();
    Ok(out)
}

/// Removes every deny `recorded` names and clears the records (with conditional writes, so a
/// pass that runs meanwhile is not overwritten: its state is read again and cleared in turn).
pub async fn lift(
    clients: &Clients,
    config: &Config,
    account: &str,
    recorded: &Recorded,
) -> Result<Vec<Change>, AwsError> {
    let changes = enforce::reconcile(
        clients,
        &config.stack.name,
        &mut Enforced::default(),
        &recorded.enforced,
    )
    .await?;
    let bucket = config.bucket.resolved_name(account, &clients.region);
    for key in &recorded.keys {
        clear(clients, &bucket, account, key).await?;
    }
    Ok(changes)
}

async fn clear(clients: &Clients, bucket: &str, account: &str, key: &str) -> Result<(), AwsError> {
    for _ in 0..MAX_ATTEMPTS {
        let loaded = state::load(clients, bucket, account, key).await?;
        let Some(mut current) = loaded.state else {
            return Ok(());
        };
        if current.enforced.is_empty() {
            return Ok(());
        }
        current.enforced = Enforced::default();
        match state::save(
            clients,
            bucket,
            account,
            key,
            loaded.etag.as_deref(),
            &current,
        )
        .await?
        {
            Saved::Written => return Ok(()),
            Saved::Conflict => continue,
        }
    }
    Err(AwsError::setup(
        format!(
            "s3://{bucket}/{key}: a limits pass kept writing the state while cleanup lifted its blocks"
        ),
        "the denies are lifted; stop whatever runs `limits run --once` and run cleanup again to clear the record",
    ))
}
