//! `[budgets.action]`: validation of the budget actions that deny Bedrock (issue 15), and the
//! names of the IAM policy and role the tool creates for them.

use std::collections::BTreeSet;

use super::rules::Checker;
use super::{Config, PathPart};

/// The customer-managed policy that denies Bedrock's invoke actions.
pub fn deny_policy_name(config: &Config) -> String {
    format!("BedrockMonitorDenyBedrock-{}", config.stack.name)
}

/// The role AWS Budgets assumes to attach and detach that policy.
pub fn execution_role_name(config: &Config) -> String {
    format!("BedrockBudgetAction-{}", config.stack.name)
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
    let with_action: Vec<(usize, &super::BudgetActionConfig)> = config
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
