//! Which accounts a run covers: listed ones, those under organizational units (nested), or the
//! whole organization, minus exclusions and accounts that are not active, narrowed by
//! `--account`/`--region`.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::AccountStatus;
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
}

/// Every account under `ou`, nested OUs included, with its status.
async fn accounts_under(
    org: &aws_sdk_organizations::Client,
    ou: &str,
) -> Result<Vec<(String, AccountStatus)>, AwsError> {
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
            for a in page.accounts() {
                if let (Some(id), Some(status)) = (a.id(), a.status()) {
                    found.push((id.to_string(), status.clone()));
                }
            }
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
) -> Result<Vec<(String, AccountStatus)>, AwsError> {
    let mut found = Vec::new();
    let mut next = None;
    loop {
        let page = org
            .list_accounts()
            .set_next_token(next)
            .send()
            .await
            .aws("organizations:ListAccounts")?;
        for a in page.accounts() {
            if let (Some(id), Some(status)) = (a.id(), a.status()) {
                found.push((id.to_string(), status.clone()));
            }
        }
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
    let listed: Vec<(String, AccountStatus)> = if !config.accounts.is_empty() {
        config
            .accounts
            .iter()
            .map(|a| (a.clone(), AccountStatus::Active))
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
    for (id, status) in listed {
        if config.exclude_accounts.contains(&id) {
            resolved.skipped.push(Skipped {
                account: id,
                reason: "in exclude_accounts".into(),
            });
        } else if status != AccountStatus::Active {
            resolved.skipped.push(Skipped {
                account: id,
                reason: format!("{} in Organizations, not ACTIVE", status.as_str()),
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
