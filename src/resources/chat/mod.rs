//! `chat` (with `[chat]` channels): the alert topic reaches Slack and Microsoft Teams through
//! AWS Chatbot ("Amazon Q Developer in chat applications", API namespace `chatbot`). One
//! channel configuration per configured channel, subscribed to the alert topic of every region
//! this run manages in the account, with one IAM role, `<stack>-chat`, and the AWS managed
//! `ReadOnlyAccess` policy as every channel's guardrail.
//!
//! Once per account (`Scope::Account`): configurations are the account's, whichever region is
//! asked (`aws::CHATBOT_REGION`), and AWS takes one configuration per channel and account
//! (CreateSlackChannelConfiguration answers `InvalidRequestException` "Slack channel with ID … in
//! Slack team … has already been configured for AWS account …", reported in
//! cloudcomponents/cdk-constructs#92): a configuration per region would be refused.
//!
//! The one step AWS keeps in its console is authorising a Slack workspace or a Microsoft Teams
//! team for the account. `plan` and `apply` read which are authorised
//! (`DescribeSlackWorkspaces`, `ListMicrosoftTeamsConfiguredTeams`); a channel of one that is
//! not is shown with what to do in the console, and `apply` writes nothing for it, writes the
//! rest, and then fails the component with the same instructions (so the run exits non-zero,
//! the other components applied), as `limits-runner` does without a package.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::aws::AwsError;
use crate::config::chat::{SlackChannel, TeamsChannel};
use crate::docs;
use crate::engine::{
    Action, ComponentId, Context, Diff, FieldChange, Foreign, Health, HealthLevel, Ownership,
    Permission, Resource, Scope,
};
use crate::resources::iam::ObservedRole;
use crate::resources::{foreign_by_tags, ownership_from_tags, tags_field};

mod read;
mod write;

pub struct Chat;

/// The role's inline policy.
const POLICY_NAME: &str = "bedrock-monitor-chat";

/// Where a workspace or team is authorised: the console, which AWS serves in us-east-2 only
/// (AWS Chatbot API reference, Welcome: "The AWS Chatbot console can only be used in US East
/// (Ohio)").
pub const CONSOLE_URL: &str = "https://us-east-2.console.aws.amazon.com/chatbot/home?region=us-east-2";

/// Written per configuration. `NONE`: no CloudWatch Logs group of Chatbot's own, which this
/// stack would neither tag nor remove (`LoggingLevel`: "ERROR, INFO, or NONE", API reference).
const LOGGING_LEVEL: &str = "NONE";

/// A chat channel the config names, with the configuration that serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub kind: Kind,
    /// The configuration's name, from the stack and the channel ([`configuration_name`]).
    pub name: String,
    /// Slack: the workspace (`SlackTeamId`); Teams: the team (`TeamId`).
    pub workspace: String,
    /// Teams only.
    pub tenant: Option<String>,
    pub channel_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Slack,
    Teams,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Teams => "teams",
        }
    }
}

/// What a configuration serves: a change to it is a new configuration ([`Chat::replaces`]).
fn identity(workspace: &str, tenant: Option<&str>, channel: &str) -> Value {
    json!({"workspace": workspace, "tenant": tenant, "channel": channel})
}

impl Channel {
    fn identity(&self) -> Value {
        identity(&self.workspace, self.tenant.as_deref(), &self.channel_id)
    }
}

/// A channel configuration as AWS Chatbot describes it.
#[derive(Debug, Clone)]
pub struct ObservedConfig {
    pub kind: Kind,
    pub arn: String,
    pub name: String,
    pub workspace: String,
    pub tenant: Option<String>,
    pub channel_id: String,
    pub topics: Vec<String>,
    pub role: String,
    pub guardrails: Vec<String>,
    pub logging_level: Option<String>,
    pub user_authorization_required: Option<bool>,
    pub tags: BTreeMap<String, String>,
}

impl ObservedConfig {
    fn identity(&self) -> Value {
        identity(&self.workspace, self.tenant.as_deref(), &self.channel_id)
    }
}

/// What exists of the chat component.
#[derive(Debug, Clone)]
pub struct ChatState {
    pub role: Option<ObservedRole>,
    /// Authorised Slack workspace IDs (empty when no Slack channel is configured: not read).
    pub slack_workspaces: BTreeSet<String>,
    /// Authorised Teams teams as (team ID, tenant ID) (empty when none is configured).
    pub teams: BTreeSet<(String, String)>,
    /// The account's configurations of the configured channels, and the stack's others.
    pub configs: Vec<ObservedConfig>,
}

/// The longest configuration name (`ConfigurationName`: length 1-128, API reference).
const MAX_NAME: usize = 128;

/// A configuration name from the stack and the channel, the same on every run so a second
/// `apply` finds what the first made. `ConfigurationName` allows `[A-Za-z0-9-_]+` and at most
/// 128 characters (API reference): a stack name's dots become dashes, and a name that would
/// still not fit (a long stack name, a Teams channel ID with `%` and `.`) keeps a readable
/// prefix and ends in a hash of the whole, so two channels never share one.
pub fn configuration_name(stack: &str, kind: Kind, channel: &str) -> String {
    let candidate = format!("{stack}-{}-{channel}", kind.label());
    let clean: String = candidate
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean == candidate && clean.len() <= MAX_NAME {
        return clean;
    }
    use sha2::Digest;
    let hash = sha2::Sha256::digest(candidate.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let keep = MAX_NAME - hex.len() - 1;
    let prefix: String = clean.chars().take(keep).collect();
    format!("{prefix}-{hex}")
}

/// The start every configuration name of this stack's has, for finding the ones the config no
/// longer names.
fn name_prefix(stack: &str, kind: Kind) -> String {
    let p = format!("{stack}-{}-", kind.label());
    p.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl Chat {
    pub fn role_name(cx: &Context) -> String {
        format!("{}-chat", cx.config.stack.name)
    }

    fn role_arn(cx: &Context) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            cx.partition(),
            cx.account.id,
            Self::role_name(cx)
        )
    }

    /// The guardrail: what anyone in the channel may do through Chatbot is at most what the
    /// guardrail allows ("What your users can do is the intersection of your guardrail
    /// policies and what is allowed by their roles", Chatbot Administrator Guide,
    /// "Understanding permissions"). Without one, AWS applies `AdministratorAccess`
    /// (`GuardrailPolicyArns`, API reference): so it is always set, to `ReadOnlyAccess`.
    fn guardrails(cx: &Context) -> Vec<String> {
        vec![format!("arn:{}:iam::aws:policy/ReadOnlyAccess", cx.partition())]
    }

    /// The alert topic of every region this run manages in the account.
    fn topics(cx: &Context) -> Vec<String> {
        let mut topics: BTreeSet<String> = cx
            .regions
            .iter()
            .filter(|r| **r != cx.region)
            .map(|r| {
                format!(
                    "arn:{}:sns:{r}:{}:{}",
                    cx.partition(),
                    cx.account.id,
                    cx.config.alerts.topic_name
                )
            })
            .collect();
        topics.insert(cx.topic_arn());
        topics.into_iter().collect()
    }

    /// Chatbot assumes the role (`chatbot.amazonaws.com`, the principal of the trust policy in
    /// the Administrator Guide's "Configuring an IAM role"). No `aws:SourceAccount` condition:
    /// the guide's trust policy has none, and a condition the service does not send would stop
    /// delivery.
    fn trust() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "chatbot.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        })
    }

    /// What a notifications-only channel needs: the console's "Notification permissions"
    /// template (Administrator Guide, "Understanding permissions": "if you want to create a
    /// configuration that only delivers notifications, choose Notification permissions";
    /// the template, `AWS-Chatbot-NotificationsOnly-Policy`, grants `cloudwatch:Describe*`,
    /// `Get*` and `List*`, which Chatbot uses to draw an alarm's graph in its message). Read
    /// only, and nothing that could change a policy or a role.
    fn policy() -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "ChatNotifications",
                "Effect": "Allow",
                "Action": ["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"],
                "Resource": "*"
            }]
        })
    }

    /// The channels the config names.
    pub fn channels(cx: &Context) -> Vec<Channel> {
        let Some(chat) = &cx.config.chat else {
            return Vec::new();
        };
        let stack = &cx.config.stack.name;
        let slack = chat.slack.iter().map(|c: &SlackChannel| Channel {
            kind: Kind::Slack,
            name: configuration_name(stack, Kind::Slack, &c.channel_id),
            workspace: c.workspace_id.clone(),
            tenant: None,
            channel_id: c.channel_id.clone(),
        });
        let teams = chat.teams.iter().map(|c: &TeamsChannel| Channel {
            kind: Kind::Teams,
            name: configuration_name(stack, Kind::Teams, &c.channel_id),
            workspace: c.team_id.clone(),
            tenant: Some(c.tenant_id.clone()),
            channel_id: c.channel_id.clone(),
        });
        slack.chain(teams).collect()
    }

    /// Why `apply` cannot make `channel`'s configuration, if it cannot: its workspace or team
    /// is not authorised, or another configuration already serves the channel.
    pub fn blocked(state: &ChatState, channel: &Channel) -> Option<String> {
        let authorised = match channel.kind {
            Kind::Slack => state.slack_workspaces.contains(&channel.workspace),
            Kind::Teams => state.teams.contains(&(
                channel.workspace.clone(),
                channel.tenant.clone().unwrap_or_default(),
            )),
        };
        if !authorised {
            return Some(Self::authorise_instructions(channel));
        }
        state
            .configs
            .iter()
            .find(|c| {
                c.kind == channel.kind
                    && c.channel_id == channel.channel_id
                    && c.workspace == channel.workspace
                    && c.name != channel.name
            })
            .map(|other| {
                format!(
                    "{} channel {} is already served by configuration {} in this account, and \
                     AWS Chatbot takes one configuration per channel: delete that one in the \
                     console ({CONSOLE_URL}) or remove the channel from [chat]",
                    channel.kind.label(),
                    channel.channel_id,
                    other.name
                )
            })
    }

    fn authorise_instructions(channel: &Channel) -> String {
        match channel.kind {
            Kind::Slack => format!(
                "Slack workspace {} is not authorised with AWS Chatbot in this account: open \
                 {CONSOLE_URL}, under \"Configure a chat client\" choose Slack and \"Configure \
                 client\", pick the workspace in Slack's page and choose \"Allow\" (Chatbot \
                 Administrator Guide, \"Get started with Slack\"); then run apply again",
                channel.workspace
            ),
            Kind::Teams => format!(
                "Microsoft Teams team {} (tenant {}) is not authorised with AWS Chatbot in this \
                 account: open {CONSOLE_URL}, under \"Configure a chat client\" choose Microsoft \
                 Teams, paste the link of a channel of that team, choose \"Configure\" and accept \
                 the permissions Microsoft asks for (Chatbot Administrator Guide, \"Get started \
                 with Microsoft Teams\"); then run apply again",
                channel.workspace,
                channel.tenant.as_deref().unwrap_or_default()
            ),
        }
    }

    fn desired(cx: &Context, state: &ChatState) -> (Vec<(String, Value)>, Vec<String>) {
        let tags = json!(cx.config.tags());
        let mut fields = vec![
            ("role.trust".to_string(), Self::trust()),
            ("role.policy".to_string(), Self::policy()),
            ("role.tags".to_string(), tags.clone()),
        ];
        let mut notes = Vec::new();
        for ch in Self::channels(cx) {
            let f = |part: &str| format!("{}.{part}", ch.name);
            if let Some(why) = Self::blocked(state, &ch) {
                fields.push((f("blocked"), json!(why)));
                notes.push(why);
                continue;
            }
            fields.push((f("channel"), ch.identity()));
            fields.push((f("topics"), json!(Self::topics(cx))));
            fields.push((f("role"), json!(Self::role_arn(cx))));
            fields.push((f("guardrails"), json!(Self::guardrails(cx))));
            fields.push((f("logging_level"), json!(LOGGING_LEVEL)));
            fields.push((f("user_authorization_required"), json!(false)));
            fields.push((f("tags"), tags.clone()));
        }
        (fields, notes)
    }

    fn observed(cx: &Context, state: &ChatState, field: &str) -> Value {
        let Some((name, part)) = field.rsplit_once('.') else {
            return Value::Null;
        };
        if name == "role" {
            return match &state.role {
                None => Value::Null,
                Some(r) => match part {
                    "trust" => r.trust.clone().unwrap_or(Value::Null),
                    "policy" => r.permissions.clone().unwrap_or(Value::Null),
                    _ => tags_field(&cx.config.tags(), &r.tags).0,
                },
            };
        }
        let Some(c) = state.configs.iter().find(|c| c.name == name) else {
            return Value::Null;
        };
        match part {
            "channel" => c.identity(),
            "topics" => {
                let mut t = c.topics.clone();
                t.sort();
                json!(t)
            }
            "role" => json!(c.role),
            "guardrails" => json!(c.guardrails),
            "logging_level" => json!(c.logging_level),
            "user_authorization_required" => json!(c.user_authorization_required),
            "tags" => tags_field(&cx.config.tags(), &c.tags).0,
            _ => Value::Null,
        }
    }

    /// The stack's configurations the config no longer names (found by name and owned by tag).
    fn stale<'a>(cx: &Context, state: &'a ChatState) -> Vec<&'a ObservedConfig> {
        let wanted: BTreeSet<String> = Self::channels(cx).into_iter().map(|c| c.name).collect();
        state
            .configs
            .iter()
            .filter(|c| !wanted.contains(&c.name))
            .filter(|c| c.name.starts_with(&name_prefix(&cx.config.stack.name, c.kind)))
            .filter(|c| {
                matches!(ownership_from_tags(cx, &c.tags), Ownership::Managed { .. })
            })
            .collect()
    }

    /// Whether a change to `field` means a new configuration: the workspace, team or tenant
    /// of a configuration cannot be updated (UpdateSlackChannelConfiguration and
    /// UpdateMicrosoftTeamsChannelConfiguration take neither, API reference).
    fn replaces(field: &str) -> bool {
        field.ends_with(".channel")
    }
}

#[async_trait]
impl Resource for Chat {
    type State = ChatState;

    fn id(&self) -> ComponentId {
        ComponentId::Chat
    }

    fn name(&self, cx: &Context) -> String {
        Self::role_name(cx)
    }

    /// Subscribed to the alert topic.
    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::Topic]
    }

    fn scope(&self) -> Scope {
        Scope::Account
    }

    fn configured(&self, config: &crate::config::Config) -> bool {
        config.chat.as_ref().is_some_and(|c| c.has_channels())
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        read::read(cx).await
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let (desired, notes) = Self::desired(cx, state);
        let stale: Vec<FieldChange> = Self::stale(cx, state)
            .into_iter()
            .map(|c| FieldChange {
                field: c.name.clone(),
                old: c.identity(),
                new: Value::Null,
            })
            .collect();
        let exists = state.role.is_some() || !state.configs.is_empty();
        let mut diff = if exists {
            let mut d = Diff::compare(desired, |field| Self::observed(cx, state, field));
            d.changes.retain(|c| {
                !(c.field.starts_with("role.") && c.field != "role.tags")
                    || c.old.is_null()
                    || !docs::same_policy(&c.old, &c.new)
            });
            d.changes.extend(stale);
            Diff::of(d.changes, true)
        } else {
            Diff::create(desired)
        };
        if diff.changes.iter().any(|c| Self::replaces(&c.field) && !c.old.is_null()) {
            diff.action = Action::Replace;
            diff = diff.with_note(
                "a channel's workspace, team or tenant changed: its configuration is deleted and \
                 made again",
            );
        }
        diff.with_notes(notes)
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        write::apply(cx, state, diff).await
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let ours: Vec<&ObservedConfig> = state
            .configs
            .iter()
            .filter(|c| c.name.starts_with(&name_prefix(&cx.config.stack.name, c.kind)))
            .collect();
        let tags = state
            .role
            .as_ref()
            .map(|r| &r.tags)
            .or(ours.first().map(|c| &c.tags));
        match tags {
            Some(tags) => ownership_from_tags(cx, tags),
            None => Ownership::Missing,
        }
    }

    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        let wanted: BTreeSet<String> = Self::channels(cx).into_iter().map(|c| c.name).collect();
        let mut out: Vec<Foreign> = state
            .configs
            .iter()
            .filter(|c| wanted.contains(&c.name))
            .filter_map(|c| {
                foreign_by_tags(cx, format!("chat configuration {}", c.name), &c.tags)
            })
            .collect();
        if let Some(r) = &state.role {
            out.extend(foreign_by_tags(
                cx,
                format!("role {}", Self::role_name(cx)),
                &r.tags,
            ));
        }
        out
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        Self::channels(cx)
            .into_iter()
            .map(|ch| {
                let subject = format!("{} {}", ch.kind.label(), ch.channel_id);
                match (
                    Self::blocked(state, &ch),
                    state.configs.iter().find(|c| c.name == ch.name),
                ) {
                    (Some(why), _) => Health {
                        subject,
                        level: HealthLevel::Warning,
                        detail: why,
                    },
                    (None, Some(c)) => Health {
                        subject,
                        level: HealthLevel::Ok,
                        detail: format!("configuration {} receives the alert topic", c.name),
                    },
                    (None, None) => Health {
                        subject,
                        level: HealthLevel::Warning,
                        detail: "configured but not set up: run apply".into(),
                    },
                }
            })
            .collect()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        write::permissions(cx)
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        write::delete(cx, state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_names_obey_the_api_and_never_collide() {
        let re_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= MAX_NAME
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        let plain = configuration_name("bedrock-monitor", Kind::Slack, "C0123ABCD");
        assert_eq!(plain, "bedrock-monitor-slack-C0123ABCD");
        let dotted = configuration_name("team.prod", Kind::Slack, "C0123ABCD");
        assert!(re_ok(&dotted), "{dotted}");
        assert_ne!(
            dotted,
            configuration_name("team-prod", Kind::Slack, "C0123ABCD")
        );
        let teams = configuration_name("s", Kind::Teams, "19%3aabc%40thread.tacv2");
        assert!(re_ok(&teams), "{teams}");
        assert!(teams.starts_with(&name_prefix("s", Kind::Teams)), "{teams}");
        let long = configuration_name(&"x".repeat(128), Kind::Slack, "C0123ABCD");
        assert!(re_ok(&long), "{long}");
        assert_eq!(long, configuration_name(&"x".repeat(128), Kind::Slack, "C0123ABCD"));
    }
}
