//! The denies a blocking limit writes, and nothing else: an inline policy of the tool's on a
//! blocked IAM user, and on a role whose sessions are blocked an inline policy of the tool's
//! that denies only those sessions; a blocked user's long-term Bedrock API keys are turned off.
//!
//! A long-term Bedrock API key is an IAM service-specific credential of its IAM user for the
//! service `bedrock.amazonaws.com` (IAM user guide, "API keys for Amazon Bedrock"), and a call
//! made with it is logged as that user (`identity.arn`), so the user is the principal a limit
//! names. The inline deny already stops the key (IAM policies apply to calls made with it: the
//! Bedrock user guide, "Handle compromised long-term and short-term Amazon Bedrock API keys");
//! the key is also set `Inactive` (`UpdateServiceSpecificCredential`, the way that guide gives
//! to turn a key off and on again) so that the Bedrock console shows it off. Only the keys the
//! tool turned off are turned on again.
//!
//! A role session is told apart by `aws:userid`, which for an assumed role is
//! `ROLE-ID:SESSION-NAME` (IAM user guide, "AWS global condition context keys", `aws:userid`,
//! and "Policy variables": "role-id:caller-specified-role-name"), the role's unique ID from
//! `iam:GetRole` (`Role.RoleId`). Every deny names exactly the inference actions of the
//! spend-stop catalogue (`cost::spending_actions::inference`). The documents are compared with
//! what IAM holds as JSON (IAM returns them URL-encoded: IAM API reference, GetUserPolicy
//! "PolicyDocument … URL-encoded compliant with RFC 3986"), so an unchanged block writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::cost::spending_actions;

use super::state::Enforced;

/// The inline policy the tool writes on blocked users and on roles with blocked sessions.
pub fn policy_name(stack: &str) -> String {
    format!("bedrock-monitor-limits-{stack}")
}

/// What a caller's ARN makes it, for a deny.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    User { name: String },
    Session { role: String, session: String },
}

/// `arn:…:iam::ACCOUNT:user/[PATH/]NAME` or `arn:…:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
pub fn caller_of(arn: &str) -> Option<Caller> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, _, resource] = parts[..] else {
        return None;
    };
    match service {
        "iam" => resource.strip_prefix("user/").and_then(|rest| {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            (!name.is_empty()).then(|| Caller::User {
                name: name.to_string(),
            })
        }),
        "sts" => {
            let rest = resource.strip_prefix("assumed-role/")?;
            let (role, session) = rest.split_once('/')?;
            (!role.is_empty() && !session.is_empty()).then(|| Caller::Session {
                role: role.to_string(),
                session: session.to_string(),
            })
        }
        _ => None,
    }
}

fn user_document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BedrockMonitorSpendLimit",
            "Effect": "Deny",
            "Action": spending_actions::inference(),
            "Resource": "*",
        }],
    })
}

fn role_document(userids: &BTreeSet<String>) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BedrockMonitorSpendLimitSessions",
            "Effect": "Deny",
            "Action": spending_actions::inference(),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:userid": userids.iter().collect::<Vec<_>>()}},
        }],
    })
}

/// A role's unique ID (`iam:GetRole`).
pub async fn role_id(clients: &Clients, role: &str) -> Result<String, AwsError> {
    let out = clients
        .iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .aws("iam:GetRole")
        .map_err(|e| e.with_hint(format!("the role {role} of a blocked session")))?;
    out.role()
        .map(|r| r.role_id().to_string())
        .ok_or_else(|| AwsError::bad_response("iam:GetRole", &format!("{role}: no role")))
}

fn decode(document: &str) -> Option<Value> {
    let text = percent_encoding::percent_decode_str(document)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&text).ok()
}

/// One write the reconciliation made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// `iam:PutUserPolicy`, `iam:DeleteRolePolicy`, …
    pub operation: String,
    pub principal: String,
}

/// Who holds the tool's deny: the same three calls (read, put, delete the inline policy of
/// the tool's name) on a user or on a role.
#[derive(Clone, Copy)]
enum Holder<'a> {
    User(&'a str),
    Role(&'a str),
}

impl Holder<'_> {
    /// The tool's policy on the holder, or `None`.
    async fn policy(self, clients: &Clients, name: &str) -> Result<Option<Value>, AwsError> {
        let document = match self {
            Holder::User(user) => clients
                .iam
                .get_user_policy()
                .user_name(user)
                .policy_name(name)
                .send()
                .await
                .aws("iam:GetUserPolicy")
                .map(|out| out.policy_document().to_string()),
            Holder::Role(role) => clients
                .iam
                .get_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .aws("iam:GetRolePolicy")
                .map(|out| out.policy_document().to_string()),
        };
        match document {
            Ok(text) => Ok(decode(&text)),
            Err(e) if e.code_is(&["NoSuchEntity"]) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put(
        self,
        clients: &Clients,
        name: &str,
        document: &Value,
    ) -> Result<Change, AwsError> {
        let document = document.to_string();
        match self {
            Holder::User(user) => clients
                .iam
                .put_user_policy()
                .user_name(user)
                .policy_name(name)
                .policy_document(document)
                .send()
                .await
                .aws("iam:PutUserPolicy")
                .map(|_| change("iam:PutUserPolicy", user)),
            Holder::Role(role) => clients
                .iam
                .put_role_policy()
                .role_name(role)
                .policy_name(name)
                .policy_document(document)
                .send()
                .await
                .aws("iam:PutRolePolicy")
                .map(|_| change("iam:PutRolePolicy", role)),
        }
    }

    /// Deletes the tool's policy; one already gone is not an error.
    async fn delete(self, clients: &Clients, name: &str) -> Result<Change, AwsError> {
        let (deleted, operation, principal) = match self {
            Holder::User(user) => (
                clients
                    .iam
                    .delete_user_policy()
                    .user_name(user)
                    .policy_name(name)
                    .send()
                    .await
                    .aws("iam:DeleteUserPolicy")
                    .map(|_| ()),
                "iam:DeleteUserPolicy",
                user,
            ),
            Holder::Role(role) => (
                clients
                    .iam
                    .delete_role_policy()
                    .role_name(role)
                    .policy_name(name)
                    .send()
                    .await
                    .aws("iam:DeleteRolePolicy")
                    .map(|_| ()),
                "iam:DeleteRolePolicy",
                role,
            ),
        };
        match deleted {
            Ok(()) => Ok(change(operation, principal)),
            Err(e) if e.code_is(&["NoSuchEntity"]) => Ok(change(operation, principal)),
            Err(e) => Err(e),
        }
    }
}

/// Makes IAM hold `desired`: the tool's policy on every user and role in it, with these
/// contents, and none on the users and roles of `previous` that are not in it; the blocked
/// users' Bedrock API keys off, and the ones the tool turned off for users no longer blocked
/// on again. Reads first and writes only what differs. Fills in `desired.api_keys`.
pub async fn reconcile(
    clients: &Clients,
    stack: &str,
    desired: &mut Enforced,
    previous: &Enforced,
) -> Result<Vec<Change>, AwsError> {
    let mut changes = reconcile_policies(clients, stack, desired, previous).await?;
    changes.extend(reconcile_api_keys(clients, desired, previous).await?);
    Ok(changes)
}

/// The service name of long-term Bedrock API keys among a user's service-specific credentials
/// (IAM user guide, "API keys for Amazon Bedrock": `--service-name bedrock.amazonaws.com`).
const BEDROCK_KEY_SERVICE: &str = "bedrock.amazonaws.com";

/// A user's Bedrock API keys: (credential ID, active). None for a user that is gone.
async fn bedrock_keys(clients: &Clients, user: &str) -> Result<Vec<(String, bool)>, AwsError> {
    let mut keys = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        // IAM API reference, ListServiceSpecificCredentials: `Marker` and `IsTruncated` page
        // the answer (up to `MaxItems`, default 100).
        let page = match clients
            .iam
            .list_service_specific_credentials()
            .user_name(user)
            .service_name(BEDROCK_KEY_SERVICE)
            .set_marker(marker.clone())
            .send()
            .await
            .aws("iam:ListServiceSpecificCredentials")
        {
            Ok(page) => page,
            Err(e) if e.code_is(&["NoSuchEntity"]) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        keys.extend(page.service_specific_credentials().iter().map(|c| {
            (
                c.service_specific_credential_id().to_string(),
                *c.status() == aws_sdk_iam::types::StatusType::Active,
            )
        }));
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_string()),
            _ => return Ok(keys),
        }
    }
}

async fn set_key_status(
    clients: &Clients,
    user: &str,
    id: &str,
    status: aws_sdk_iam::types::StatusType,
) -> Result<bool, AwsError> {
    match clients
        .iam
        .update_service_specific_credential()
        .user_name(user)
        .service_specific_credential_id(id)
        .status(status)
        .send()
        .await
        .aws("iam:UpdateServiceSpecificCredential")
    {
        Ok(_) => Ok(true),
        // Deleted meanwhile: nothing to turn on or off.
        Err(e) if e.code_is(&["NoSuchEntity"]) => Ok(false),
        Err(e) => Err(e),
    }
}

async fn reconcile_api_keys(
    clients: &Clients,
    desired: &mut Enforced,
    previous: &Enforced,
) -> Result<Vec<Change>, AwsError> {
    use aws_sdk_iam::types::StatusType;
    let mut changes = Vec::new();
    desired.api_keys.clear();
    for user in &desired.users {
        let keys = bedrock_keys(clients, user).await?;
        let mut off: BTreeSet<String> = previous
            .api_keys
            .get(user)
            .into_iter()
            .flatten()
            .filter(|id| keys.iter().any(|(k, _)| k == *id))
            .cloned()
            .collect();
        for (id, active) in &keys {
            if *active && set_key_status(clients, user, id, StatusType::Inactive).await? {
                changes.push(change("iam:UpdateServiceSpecificCredential", user));
                off.insert(id.clone());
            }
        }
        if !off.is_empty() {
            desired.api_keys.insert(user.clone(), off);
        }
    }
    for (user, ids) in &previous.api_keys {
        if desired.users.contains(user) {
            continue;
        }
        for id in ids {
            if set_key_status(clients, user, id, StatusType::Active).await? {
                changes.push(change("iam:UpdateServiceSpecificCredential", user));
            }
        }
    }
    Ok(changes)
}

async fn reconcile_policies(
    clients: &Clients,
    stack: &str,
    desired: &Enforced,
    previous: &Enforced,
) -> Result<Vec<Change>, AwsError> {
    let name = policy_name(stack);
    let empty = BTreeSet::new();
    let users: BTreeSet<&String> = desired.users.iter().chain(&previous.users).collect();
    let roles: BTreeSet<&String> = desired.roles.keys().chain(previous.roles.keys()).collect();
    let wanted = users
        .into_iter()
        .map(|user| {
            let want = desired.users.contains(user).then(user_document);
            (Holder::User(user.as_str()), want)
        })
        .chain(roles.into_iter().map(|role| {
            let ids = desired.roles.get(role).unwrap_or(&empty);
            let want = (!ids.is_empty()).then(|| role_document(ids));
            (Holder::Role(role.as_str()), want)
        }));
    let mut changes = Vec::new();
    for (holder, want) in wanted {
        if want == holder.policy(clients, &name).await? {
            continue;
        }
        changes.push(match want {
            Some(document) => holder.put(clients, &name, &document).await?,
            None => holder.delete(clients, &name).await?,
        });
    }
    Ok(changes)
}

fn change(operation: &str, principal: &str) -> Change {
    Change {
        operation: operation.to_string(),
        principal: principal.to_string(),
    }
}

/// The denies for a set of blocked callers: role IDs looked up once per role.
pub async fn desired_for(
    clients: &Clients,
    blocked: &BTreeSet<String>,
) -> Result<Enforced, AwsError> {
    let mut out = Enforced::default();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for arn in blocked {
        match caller_of(arn) {
            Some(Caller::User { name }) => {
                out.users.insert(name);
            }
            Some(Caller::Session { role, session }) => {
                let id = match ids.get(&role) {
                    Some(id) => id.clone(),
                    None => {
                        let id = role_id(clients, &role).await?;
                        ids.insert(role.clone(), id.clone());
                        id
                    }
                };
                out.roles
                    .entry(role)
                    .or_default()
                    .insert(format!("{id}:{session}"));
            }
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_are_users_or_role_sessions() {
        assert_eq!(
            caller_of("arn:aws:iam::123456789012:user/team/alice"),
            Some(Caller::User {
                name: "alice".into()
            })
        );
        assert_eq!(
            caller_of("arn:aws:sts::123456789012:assumed-role/Developers/bob@example.com"),
            Some(Caller::Session {
                role: "Developers".into(),
                session: "bob@example.com".into()
            })
        );
        assert_eq!(caller_of("arn:aws:iam::123456789012:role/X"), None);
        assert_eq!(caller_of("(unknown)"), None);
    }

    #[test]
    fn a_role_policy_denies_only_the_named_sessions() {
        let doc = role_document(&BTreeSet::from(["AROA1:alice".to_string()]));
        assert_eq!(
            doc["Statement"][0]["Condition"]["StringEquals"]["aws:userid"],
            json!(["AROA1:alice"])
        );
        assert!(
            doc["Statement"][0]["Action"]
                .as_array()
                .unwrap()
                .contains(&json!("bedrock:InvokeModel"))
        );
    }
}
