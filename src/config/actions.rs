//! `[budgets.action]`: the budget actions that deny Bedrock (issue 15), their validation, and
//! the names of the IAM policy and role the tool creates for them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::Checker;
use super::targets::{account_id_ok, ou_id_ok};
use super::{Config, PathPart};

/// A budget action that applies a policy denying Bedrock spend (opt-in): as an IAM policy on
/// named principals (`kind = "iam"`, `APPLY_IAM_POLICY`), or as a service control policy on
/// accounts and OUs of the organization (`kind = "scp"`, `APPLY_SCP_POLICY`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BudgetActionConfig {
    pub threshold_percent: Option<f64>,
    pub threshold_usd: Option<f64>,
    /// `iam` (the default) or `scp`.
    pub kind: String,
    pub deny_roles: Vec<String>,
    pub deny_users: Vec<String>,
    pub deny_groups: Vec<String>,
    /// `kind = "scp"`: member accounts the service control policy is attached to.
    pub target_accounts: Vec<String>,
    /// `kind = "scp"`: organizational units it is attached to.
    pub target_ous: Vec<String>,
    /// `automatic`, or `manual` (someone approves it in the console or with
    /// `bedrock-monitor budget-action approve`).
    pub approval: String,
}

impl Default for BudgetActionConfig {
    fn default() -> Self {
        BudgetActionConfig {
            threshold_percent: None,
            threshold_usd: None,
            kind: "iam".into(),
            deny_roles: Vec::new(),
            deny_users: Vec::new(),
            deny_groups: Vec::new(),
            target_accounts: Vec::new(),
            target_ous: Vec::new(),
            approval: "manual".into(),
        }
    }
}

/// The customer-managed policy that denies Bedrock's invoke actions.
pub fn deny_policy_name(config: &Config) -> String {
    format!("BedrockMonitorDenyBedrock-{}", config.stack.name)
}

/// The role AWS Budgets assumes to attach and detach that policy.
pub fn execution_role_name(config: &Config) -> String {
    format!("BedrockBudgetAction-{}", config.stack.name)
}

impl BudgetActionConfig {
    /// Whether the action applies a service control policy (else an IAM policy).
    pub fn is_scp(&self) -> bool {
        self.kind == "scp"
    }

    /// The SCP's targets, accounts then OUs, as the action definition lists them.
    pub fn scp_targets(&self) -> Vec<String> {
        self.target_accounts
            .iter()
            .chain(&self.target_ous)
            .cloned()
            .collect()
    }
}

/// AWS Budgets' limit on each principal list of an IAM action definition.
const MAX_PRINCIPALS: usize = 100;

/// IAM's name characters for users, roles and groups.
fn iam_name_ok(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let with_action: Vec<(usize, &BudgetActionConfig)> = config
        .budgets
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.action.as_ref().map(|a| (i, a)))
        .collect();
    if with_action.is_empty() {
        return;
    }
    let role = execution_role_name(config);
    c.check(
        role.len() <= 64,
        vec![PathPart::Key("stack".into()), PathPart::Key("name".into())],
        format!(
            "the budget actions' execution role would be named {role:?}, over IAM's 64 characters: use a stack name of at most 44"
        ),
    );
    for (i, a) in with_action {
        let at = |field: &str| {
            vec![
                PathPart::Key("budgets".into()),
                PathPart::Index(i),
                PathPart::Key("action".into()),
                PathPart::Key(field.into()),
            ]
        };
        match (a.threshold_percent, a.threshold_usd) {
            (Some(_), Some(_)) | (None, None) => c.fail(
                at("threshold_percent"),
                "set either threshold_percent or threshold_usd: the spend at which Bedrock is denied",
            ),
            (Some(p), None) => c.check(
                p.is_finite() && p > 0.0 && p <= 1000.0,
                at("threshold_percent"),
                format!("{p}: more than 0 and at most 1000 percent of the budget"),
            ),
            (None, Some(usd)) => c.check(
                usd.is_finite() && usd > 0.0,
                at("threshold_usd"),
                format!("{usd}: a dollar amount more than 0"),
            ),
        }
        c.check(
            matches!(a.approval.as_str(), "automatic" | "manual"),
            at("approval"),
            format!(
                "{:?}: use \"automatic\" (Budgets attaches the policy at once) or \"manual\" (someone approves it)",
                a.approval
            ),
        );
        match a.kind.as_str() {
            "iam" => {}
            "scp" => {
                check_scp(config, a, &at, c);
                continue;
            }
            other => {
                c.fail(
                    at("kind"),
                    format!(
                        "{other:?}: use \"iam\" (an IAM policy on deny_roles, deny_users, deny_groups) or \"scp\" (a service control policy on target_accounts and target_ous)"
                    ),
                );
                continue;
            }
        }
        for field in ["target_accounts", "target_ous"] {
            let given = if field == "target_accounts" {
                &a.target_accounts
            } else {
                &a.target_ous
            };
            c.check(
                given.is_empty(),
                at(field),
                "targets are for kind = \"scp\"; an IAM action denies the principals in deny_roles, deny_users and deny_groups",
            );
        }
        let total = a.deny_roles.len() + a.deny_users.len() + a.deny_groups.len();
        c.check(
            total > 0,
            at("deny_roles"),
            "name at least one role, user or group to deny Bedrock to (deny_roles, deny_users, deny_groups)",
        );
        for (field, names, max) in [
            ("deny_roles", &a.deny_roles, 64),
            ("deny_users", &a.deny_users, 64),
            ("deny_groups", &a.deny_groups, 128),
        ] {
            c.check(
                names.len() <= MAX_PRINCIPALS,
                at(field),
                format!(
                    "{} names: AWS Budgets takes at most {MAX_PRINCIPALS}",
                    names.len()
                ),
            );
            let mut seen = BTreeSet::new();
            for (j, name) in names.iter().enumerate() {
                let mut p = at(field);
                p.push(PathPart::Index(j));
                c.check(
                    iam_name_ok(name, max),
                    p.clone(),
                    format!(
                        "{name:?} is not an IAM name (1-{max} letters, digits and + = , . @ _ -): give the name, not the ARN"
                    ),
                );
                c.check(
                    seen.insert(name),
                    p.clone(),
                    format!("{name:?} is listed twice"),
                );
                if field == "deny_roles" {
                    c.check(
                        *name != config.iam_role.name && *name != role,
                        p,
                        format!(
                            "{name:?} is this stack's own role: denying it Bedrock would stop the logging, not the spend"
                        ),
                    );
                }
            }
        }
    }
}

/// The AWS Budgets API reference, ScpActionDefinition: `TargetIds`, 1-100 items, each an OU ID
/// or a 12-digit account ID (`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)|(\d{12})`).
const MAX_SCP_TARGETS: usize = 100;

/// `kind = "scp"`: a service control policy on accounts and OUs. Only the organization's
/// management account can attach SCPs (Organizations API reference, AttachPolicy: "This
/// operation can be called only from the organization's management account"); that is
/// checked when the tool connects. Here: the targets, and no principals (an SCP has none).
fn check_scp(
    config: &Config,
    a: &BudgetActionConfig,
    at: &dyn Fn(&str) -> Vec<PathPart>,
    c: &mut Checker,
) {
    c.check(
        config.targets.is_none(),
        at("kind"),
        "an SCP budget action lives in the organization's management account alone, not in every account of [targets]: manage it with a config without [targets], run with the management account's credentials",
    );
    for (field, names) in [
        ("deny_roles", &a.deny_roles),
        ("deny_users", &a.deny_users),
        ("deny_groups", &a.deny_groups),
    ] {
        c.check(
            names.is_empty(),
            at(field),
            "an SCP applies to whole accounts and OUs (target_accounts, target_ous), not to named principals; use kind = \"iam\" for those",
        );
    }
    let total = a.target_accounts.len() + a.target_ous.len();
    c.check(
        total > 0,
        at("target_accounts"),
        "name at least one account (target_accounts) or OU (target_ous) to deny Bedrock to",
    );
    c.check(
        total <= MAX_SCP_TARGETS,
        at("target_accounts"),
        format!("{total} targets: AWS Budgets takes at most {MAX_SCP_TARGETS} (accounts and OUs together)"),
    );
    let mut seen = BTreeSet::new();
    for (field, names, ok, what) in [
        (
            "target_accounts",
            &a.target_accounts,
            account_id_ok as fn(&str) -> bool,
            "an account ID (12 digits)",
        ),
        (
            "target_ous",
            &a.target_ous,
            ou_id_ok as fn(&str) -> bool,
            "an OU ID (ou-xxxx-xxxxxxxx); the root is not a target of a budget action",
        ),
    ] {
        for (j, id) in names.iter().enumerate() {
            let mut p = at(field);
            p.push(PathPart::Index(j));
            c.check(ok(id), p.clone(), format!("{id:?} is not {what}"));
            c.check(seen.insert(id), p, format!("{id:?} is listed twice"));
        }
    }
}
