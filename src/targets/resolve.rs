//! Which accounts a run covers: listed ones, those under organizational units (nested), or the
//! whole organization, minus exclusions and accounts that are not active, narrowed by
//! `--account`/`--region`.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::aws::{Account, AwsError, AwsResultExt, Clients};
use crate::config::targets::TargetsConfig;

use super::Target;

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
