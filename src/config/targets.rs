//! `[targets]`: many accounts and regions in one run (issue 14). Without the section the tool
//! works on the current credentials' account in one region, as always.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::{Checker, is_region};
use super::{Config, PathPart};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TargetsConfig {
    pub regions: Vec<String>,
    /// Explicit account IDs.
    pub accounts: Vec<String>,
    /// Every ACTIVE account under these OUs, nested OUs included.
    pub organizational_units: Vec<String>,
    /// Every ACTIVE account of the organization.
    pub organization: bool,
    pub exclude_accounts: Vec<String>,
    /// Assumed in each account (not in the caller's own account).
    pub role_name: String,
    pub external_id: Option<String>,
    pub session_name: String,
    /// Accounts worked on at the same time (each with all its regions).
    pub concurrency: usize,
}

impl Default for TargetsConfig {
    fn default() -> Self {
        TargetsConfig {
            regions: Vec::new(),
            accounts: Vec::new(),
            organizational_units: Vec::new(),
            organization: false,
            exclude_accounts: Vec::new(),
            role_name: "OrganizationAccountAccessRole".into(),
            external_id: None,
            session_name: "bedrock-monitor".into(),
            concurrency: 8,
        }
    }
}

pub fn account_id_ok(id: &str) -> bool {
    id.len() == 12 && id.chars().all(|c| c.is_ascii_digit())
}

/// Organizations' OU ID pattern: `ou-` + 4-32 of [0-9a-z] + `-` + 8-32 of [a-z0-9].
pub fn ou_id_ok(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("ou-") else {
        return false;
    };
    let Some((root, unit)) = rest.split_once('-') else {
        return false;
    };
    let ok = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    ok(root, 4) && ok(unit, 8)
}

fn at(parts: &[&str]) -> Vec<PathPart> {
    parts
        .iter()
        .map(|p| PathPart::Key((*p).to_string()))
        .collect()
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let Some(t) = &config.targets else {
        return;
    };
    c.check(
        !t.regions.is_empty(),
        at(&["targets", "regions"]),
        "list at least one region, e.g. regions = [\"us-east-1\"]",
    );
    let mut seen = BTreeSet::new();
    for (i, r) in t.regions.iter().enumerate() {
        let mut p = at(&["targets", "regions"]);
        p.push(PathPart::Index(i));
        c.check(
            is_region(r),
            p.clone(),
            format!("{r:?} is not an AWS region name (for example \"us-east-1\")"),
        );
        c.check(seen.insert(r), p, format!("region {r:?} is listed twice"));
    }
    let sources = [
        !t.accounts.is_empty(),
        !t.organizational_units.is_empty(),
        t.organization,
    ]
    .iter()
    .filter(|s| **s)
    .count();
    c.check(
        sources == 1,
        at(&["targets"]),
        "name the accounts one way: `accounts = [...]`, `organizational_units = [...]` (non-empty), or `organization = true`",
    );
    for (field, list) in [
        ("accounts", &t.accounts),
        ("exclude_accounts", &t.exclude_accounts),
    ] {
        let mut seen = BTreeSet::new();
        for (i, a) in list.iter().enumerate() {
            let mut p = at(&["targets", field]);
            p.push(PathPart::Index(i));
            c.check(
                account_id_ok(a),
                p.clone(),
                format!("{a:?} is not an AWS account ID (12 digits, quoted)"),
            );
            c.check(seen.insert(a), p, format!("account {a:?} is listed twice"));
        }
    }
    for (i, ou) in t.organizational_units.iter().enumerate() {
        let mut p = at(&["targets", "organizational_units"]);
        p.push(PathPart::Index(i));
        c.check(
            ou_id_ok(ou),
            p,
            format!("{ou:?} is not an organizational unit ID (ou-xxxx-yyyyyyyy)"),
        );
    }
    c.check(
        !t.role_name.is_empty()
            && t.role_name.len() <= 64
            && t.role_name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@_-".contains(ch)),
        at(&["targets", "role_name"]),
        format!("{:?} is not an IAM role name", t.role_name),
    );
    c.check(
        (2..=64).contains(&t.session_name.len())
            && t.session_name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@_-".contains(ch)),
        at(&["targets", "session_name"]),
        format!(
            "{:?}: a session name has 2-64 letters, digits and + = , . @ _ - (STS AssumeRole)",
            t.session_name
        ),
    );
    if let Some(id) = &t.external_id {
        c.check(
            (2..=1224).contains(&id.len())
                && id
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@:/_-".contains(ch)),
            at(&["targets", "external_id"]),
            "an external ID has 2-1224 letters, digits and + = , . @ : / _ - (STS AssumeRole)",
        );
    }
    c.check(
        (1..=64).contains(&t.concurrency),
        at(&["targets", "concurrency"]),
        format!("{}: between 1 and 64 accounts at a time", t.concurrency),
    );
    if t.regions.len() > 1 {
        c.check(
            config.bucket.name.contains("{region}"),
            at(&["bucket", "name"]),
            format!(
                "{:?} would be the same bucket in every region of [targets], but bucket names are global: add {{region}}, e.g. \"bedrock-logs-{{account_id}}-{{region}}\"",
                config.bucket.name
            ),
        );
    }
}
