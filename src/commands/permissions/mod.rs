//! `permissions`: the least-privilege IAM policies for running this tool with this config,
//! assembled from what each component declares it calls.
//!
//! Three policies, because one that can do everything would be admin-equivalent:
//! - the everyday policy (the default), for `plan`, `apply`, `status`, `report`, `query` and
//!   `budget-action`: every call the components make, **except** the IAM and Organizations
//!   writes. Whoever may write the logging role's or the budget-action role's inline policy or
//!   trust policy, or a new version of the deny policy, can grant themselves anything (attach
//!   `*:*` to a role, trust themselves, assume it; or turn the deny policy into an allow and
//!   have AWS Budgets attach it). A permissions boundary on the roles does not close this: the
//!   Service Authorization Reference lists `iam:PermissionsBoundary` for `CreateRole`,
//!   `PutRolePolicy` and `UpdateAssumeRolePolicy`, but not for the managed-policy writes
//!   (`CreatePolicy`, `CreatePolicyVersion`, `DeletePolicyVersion`, `TagPolicy`), nor for
//!   `TagRole`; the boundary policy itself would be such a managed policy, and the deny policy
//!   is one. So the writes move out instead of being conditioned.
//! - `--bootstrap`: those writes, once, for whoever first applies the stack (and later changes
//!   to the roles or the deny policies, and `cleanup` of them). `iam:PassRole` stays in the
//!   everyday policy: it changes nothing in IAM and is conditioned on the one service each role
//!   is passed to.
//! - `--read-only`: what `report` and `query` need, for people who only read figures.

mod sources;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::aws::{Account, offline_clients};
use crate::cli::PermissionsArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::{Context, Permission, QuietProgress, Scope};
use crate::resources;

/// Which policy to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Everyday,
    Bootstrap,
    ReadOnly,
}

/// IAM and Organizations calls that change who may do what: everything but reads (`Get`,
/// `List`, `Describe`) and `iam:PassRole`.
pub fn is_bootstrap(action: &str) -> bool {
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    matches!(service, "iam" | "organizations")
        && !["Get", "List", "Describe"]
            .iter()
            .any(|p| name.starts_with(p))
        && action != "iam:PassRole"
}

/// The part of `p` that belongs in `variant`'s policy, if any.
fn part_of(p: &Permission, variant: Variant) -> Option<Permission> {
    let bootstrap = variant == Variant::Bootstrap;
    let actions: Vec<&'static str> = p
        .actions
        .iter()
        .copied()
        .filter(|a| is_bootstrap(a) == bootstrap)
        .collect();
    (!actions.is_empty()).then(|| Permission {
        actions,
        resources: p.resources.clone(),
        condition: p.condition.clone(),
    })
}

fn sid(id: &str, index: usize) -> String {
    let base: String = id
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    if index == 0 {
        base
    } else {
        format!("{base}{}", index + 1)
    }
}

/// The statements of the components `include` selects, for `variant` (everyday or bootstrap).
fn component_statements(
    cx: &Context,
    variant: Variant,
    include: impl Fn(Scope) -> bool,
) -> Vec<Value> {
    let mut statements = Vec::new();
    for step in resources::steps_for(&cx.config) {
        if !include(step.scope()) {
            continue;
        }
        for (i, p) in step.permissions(cx).iter().enumerate() {
            if let Some(p) = part_of(p, variant) {
                statements.push(statement(&sid(step.id().as_str(), i), &p));
            }
        }
    }
    statements
}

/// The policy document for `cx`'s config, account and region; `with_billing` adds the Cost
/// Explorer reads (not to the bootstrap policy, which has IAM and Organizations writes only).
pub fn policy(cx: &Context, variant: Variant, with_billing: bool) -> Value {
    let mut statements = Vec::new();
    let billing = if with_billing && variant != Variant::Bootstrap {
        sources::billing()
    } else {
        Vec::new()
    };
    let commands = match variant {
        Variant::Everyday => sources::commands(cx),
        Variant::ReadOnly => sources::reader(cx),
        Variant::Bootstrap => Vec::new(),
    };
    let cur = if variant == Variant::Bootstrap {
        Vec::new()
    } else {
        sources::cur_report(cx)
    };
    for (name, p) in commands.into_iter().chain(billing).chain(cur) {
        statements.push(statement(&name, &p));
    }
    if variant != Variant::ReadOnly {
        for (name, p) in sources::limits(cx).into_iter().chain(sources::digest(cx)) {
            if let Some(p) = part_of(&p, variant) {
                statements.push(statement(&name, &p));
            }
        }
        statements.extend(component_statements(cx, variant, |_| true));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn statement(sid: &str, p: &Permission) -> Value {
    let mut s = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Action": p.actions,
        "Resource": p.resources,
    });
    if let (Some(obj), Some(condition)) = (s.as_object_mut(), &p.condition) {
        obj.insert("Condition".into(), condition.clone());
    }
    s
}

/// `--key-policies`: per configured KMS key, the statements its key policy needs so that the
/// services using it (CloudWatch Logs, Bedrock, the topic's publishers) can, for this stack
/// only.
fn key_policies(cx: &Context) -> Value {
    let mut out = serde_json::Map::new();
    for (key, statements) in resources::kms::key_policy_statements(cx) {
        let entry = out.entry(key).or_insert_with(|| json!({"Statement": []}));
        if let Some(Value::Array(list)) = entry.get_mut("Statement") {
            list.extend(statements);
        }
    }
    Value::Object(out)
}

pub async fn run(session: &Session, args: &PermissionsArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    // ARNs need the account and region; without credentials the policy still comes out,
    // with wildcards where they would go.
    let (clients, account) = match session.clients(&loaded).await {
        Ok(clients) => match clients.account().await {
            Ok(account) => (clients, account),
            Err(e) => {
                session.printer.warn(format!(
                    "could not learn the account ({e}); using * for the account ID"
                ));
                (clients, wildcard_account())
            }
        },
        Err(e) => {
            session
                .printer
                .warn(format!("{e}; using * for the account ID and region"));
            let mut clients = offline_clients();
            clients.region = "*".into();
            (clients, wildcard_account())
        }
    };
    let variant = if args.bootstrap {
        Variant::Bootstrap
    } else if args.read_only {
        Variant::ReadOnly
    } else {
        Variant::Everyday
    };
    let document = match (&loaded.config.targets, args.key_policies) {
        (_, true) => {
            let cx = Context::new(
                loaded.config.clone(),
                account,
                clients,
                Arc::new(QuietProgress),
            );
            key_policies(&cx)
        }
        (None, false) => {
            let cx = Context::new(
                loaded.config.clone(),
                account,
                clients,
                Arc::new(QuietProgress),
            );
            if variant == Variant::Everyday {
                say_what_else(session, &cx);
            }
            policy(&cx, variant, args.with_billing)
        }
        (Some(targets), false) => fleet_policies(
            &loaded.config,
            targets,
            account,
            clients,
            variant,
            args.with_billing,
        ),
    };
    let text = serde_json::to_string_pretty(&document)
        .map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
    session.printer.output(format!("{text}\n"))?;
    Ok(ExitStatus::Success)
}

/// A note on stderr naming the other policies this config needs.
fn say_what_else(session: &Session, cx: &Context) {
    let bootstrap = policy(cx, Variant::Bootstrap, false);
    if bootstrap["Statement"]
        .as_array()
        .is_some_and(|s| !s.is_empty())
    {
        session.printer.note(
            "this policy has no IAM or Organizations writes: the first apply (and changes to the roles or deny policies, and their cleanup) also needs `bedrock-monitor permissions --bootstrap`",
        );
    }
    if !resources::kms::key_policy_statements(cx).is_empty() {
        session.printer.note(
            "the configured KMS keys' policies must let the services use them: `bedrock-monitor permissions --key-policies` prints the statements",
        );
    }
}

/// With [targets]: what the operator needs where the tool runs (Organizations, assuming the
/// target role, and the billing components, which run in the caller's own account), and what
/// that role needs in every target account (the policy variable `${aws:PrincipalAccount}`
/// stands for each account; regions are `*`).
fn fleet_policies(
    config: &crate::config::Config,
    targets: &crate::config::targets::TargetsConfig,
    caller: Account,
    clients: crate::aws::Clients,
    variant: Variant,
    with_billing: bool,
) -> Value {
    let partition = caller.partition.clone();
    let role_arns: Vec<String> = if targets.accounts.is_empty() {
        vec![format!("arn:{partition}:iam::*:role/{}", targets.role_name)]
    } else {
        targets
            .accounts
            .iter()
            .map(|a| format!("arn:{partition}:iam::{a}:role/{}", targets.role_name))
            .collect()
    };
    // Only roles in the caller's own organization (IAM user guide, global condition keys,
    // aws:ResourceOrgID: "the identifier of the organization in AWS Organizations to which the
    // requested resource belongs"; the role is the resource of sts:AssumeRole): an account ID
    // typed wrong, or `*` for the organization's accounts, cannot reach a role elsewhere.
    let assume = Permission {
        actions: vec!["sts:AssumeRole"],
        resources: role_arns,
        condition: Some(json!({"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}})),
    };
    let home = Context::new(
        config.clone(),
        caller,
        clients.clone(),
        Arc::new(QuietProgress),
    );
    let mut operator = Vec::new();
    if variant != Variant::Bootstrap {
        let (who_sid, who) = sources::who_am_i();
        operator.push(statement(&who_sid, &who));
        operator.push(statement(
            "FindTargetAccounts",
            &Permission::new(
                &[
                    "organizations:DescribeOrganization",
                    "organizations:ListAccounts",
                    "organizations:ListAccountsForParent",
                    "organizations:ListOrganizationalUnitsForParent",
                ],
                ["*".to_string()],
            ),
        ));
        operator.push(statement("AssumeTargetRole", &assume));
        // The CUR export is the payer's: the operator reads it.
        for (name, p) in sources::cur_report(&home) {
            operator.push(statement(&name, &p));
        }
    }
    if variant == Variant::Everyday {
        let (price_sid, price) = sources::price_list();
        operator.push(statement(&price_sid, &price));
    }
    if variant != Variant::ReadOnly {
        // The billing components run in the caller's own account only.
        operator.extend(component_statements(&home, variant, |scope| {
            scope == Scope::Payer
        }));
    }
    let mut regional = clients;
    regional.region = "*".into();
    let each = Context::new(
        config.clone(),
        Account {
            id: "${aws:PrincipalAccount}".into(),
            partition,
            caller_arn: String::new(),
        },
        regional,
        Arc::new(QuietProgress),
    )
    .with_regions(targets.regions.clone());
    let mut target = Vec::new();
    let billing = if with_billing && variant != Variant::Bootstrap {
        sources::billing()
    } else {
        Vec::new()
    };
    let commands = match variant {
        Variant::Everyday => {
            let mut c = vec![sources::who_am_i()];
            c.extend(sources::reader(&each));
            c.push(sources::quota_increase(&each));
            c
        }
        Variant::ReadOnly => sources::reader(&each),
        Variant::Bootstrap => Vec::new(),
    };
    for (name, p) in commands.into_iter().chain(billing) {
        target.push(statement(&name, &p));
    }
    if variant != Variant::ReadOnly {
        target.extend(component_statements(&each, variant, |scope| {
            scope != Scope::Payer
        }));
    }
    let mut out = serde_json::Map::new();
    if !operator.is_empty() {
        out.insert(
            "operator".into(),
            json!({"Version": "2012-10-17", "Statement": operator}),
        );
    }
    out.insert(
        "target_role".into(),
        json!({
            "RoleName": targets.role_name,
            "PolicyDocument": {"Version": "2012-10-17", "Statement": target},
        }),
    );
    Value::Object(out)
}

fn wildcard_account() -> Account {
    Account {
        id: "*".into(),
        partition: "aws".into(),
        caller_arn: String::new(),
    }
}
