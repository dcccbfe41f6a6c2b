//! `[chat]`: the Slack channels and Microsoft Teams channels the alert topic reaches through
//! AWS Chatbot ("Amazon Q Developer in chat applications"), and how often a spend digest is
//! published to the topic. The ID rules are the API's own (AWS Chatbot API reference, model
//! `chatbot` 2017-10-11: `SlackTeamId`, `SlackChannelId`, `UUID`, `TeamsChannelId`), checked
//! here so that a mistyped ID fails before any AWS call rather than as AWS's validation error.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::Checker;
use super::{Config, PathPart};

/// The digest frequencies: the tool's own names, each a period the runner counts from the
/// last digest it sent, and the days it covers.
pub const DIGEST_FREQUENCIES: &[(&str, u32)] = &[("daily", 1), ("weekly", 7)];

/// The days a digest of `frequency` covers; `None` for a name that is not a frequency.
pub fn digest_days(frequency: &str) -> Option<u32> {
    DIGEST_FREQUENCIES
        .iter()
        .find(|(name, _)| *name == frequency)
        .map(|(_, days)| *days)
}

/// `[chat]`; absent: no chat channel, no digest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ChatConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slack: Vec<SlackChannel>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<TeamsChannel>,
    /// `daily` or `weekly`: a spend digest published to the alert topic once per period
    /// (`crate::digest`); absent: no digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A Slack channel in a workspace authorised with AWS Chatbot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    /// The workspace's ID (`T…`), as the Chatbot console shows it once authorised.
    pub workspace_id: String,
    /// The channel's ID, the last part of the channel's link in Slack.
    pub channel_id: String,
}

/// A Microsoft Teams channel in a team authorised with AWS Chatbot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TeamsChannel {
    pub team_id: String,
    /// The channel's ID as the Chatbot API takes it: the `19:…@thread.tacv2` ID from the
    /// channel's link, URL-encoded (`19%3a…%40thread.tacv2`), exactly as the link holds it.
    pub channel_id: String,
    pub tenant_id: String,
}

impl ChatConfig {
    pub fn has_channels(&self) -> bool {
        !self.slack.is_empty() || !self.teams.is_empty()
    }

    /// The days each digest covers, when a (valid) digest is configured.
    pub fn digest_days(&self) -> Option<u32> {
        self.digest.as_deref().and_then(digest_days)
    }
}

/// `SlackTeamId`: length 1-255, pattern `[0-9A-Z]{1,255}` (API reference). Slack's workspace
/// IDs start with `T` (the Chatbot API reference's `SlackTeamId` is the "ID of the Slack
/// workspace authorized with AWS Chatbot"; Slack's own IDs for workspaces are `T…`): the tool
/// asks for the `T` too, so a channel ID pasted in the wrong field is caught.
pub fn slack_workspace_id_ok(id: &str) -> bool {
    id.starts_with('T')
        && id.len() <= 255
        && id
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
}

/// `SlackChannelId`: length 1-255, pattern `[A-Za-z0-9]+` (API reference; "the 9-character
/// string at the end of the URL. For example, ABCBBLZZZ").
pub fn slack_channel_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `UUID` (Teams' `TeamId` and `TenantId`): length 36, pattern
/// `[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}` (API reference).
pub fn uuid_ok(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    id.len() == 36
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `TeamsChannelId`: length 1-255, pattern
/// `([a-zA-Z0-9-_=+\/.,])*%3[aA]([a-zA-Z0-9-_=+\/.,])*%40([a-zA-Z0-9-_=+\/.,])*` (API
/// reference): the channel ID with its `:` and `@` URL-encoded.
pub fn teams_channel_id_ok(id: &str) -> bool {
    let allowed = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=+/.,".contains(c))
    };
    if id.is_empty() || id.len() > 255 {
        return false;
    }
    let lower = id.replace("%3A", "%3a");
    let Some((before, rest)) = lower.split_once("%3a") else {
        return false;
    };
    // The pattern's middle part may itself hold further `%3a`, so take the last `%40`.
    let Some((middle, after)) = rest.rsplit_once("%40") else {
        return false;
    };
    allowed(before) && allowed(&middle.replace("%3a", "")) && allowed(after)
}

fn at(parts: &[PathPart]) -> Vec<PathPart> {
    let mut p = vec![PathPart::Key("chat".into())];
    p.extend_from_slice(parts);
    p
}

fn key(k: &str) -> PathPart {
    PathPart::Key(k.into())
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let Some(chat) = &config.chat else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, ch) in chat.slack.iter().enumerate() {
        let p = |f: &str| at(&[key("slack"), PathPart::Index(i), key(f)]);
        c.check(
            slack_workspace_id_ok(&ch.workspace_id),
            p("workspace_id"),
            format!(
                "{:?} is not a Slack workspace ID: it starts with T and has only capital \
                 letters and digits (the Chatbot console shows it under Workspace details once \
                 the workspace is authorised)",
                ch.workspace_id
            ),
        );
        c.check(
            slack_channel_id_ok(&ch.channel_id),
            p("channel_id"),
            format!(
                "{:?} is not a Slack channel ID: use the letters and digits at the end of the \
                 channel's link (in Slack, right-click the channel, Copy link), e.g. \"C0123ABCD\"",
                ch.channel_id
            ),
        );
        c.check(
            seen.insert(("slack", ch.workspace_id.as_str(), ch.channel_id.as_str())),
            p("channel_id"),
            format!(
                "channel {} of workspace {} is listed twice: AWS Chatbot takes one \
                 configuration per channel and account",
                ch.channel_id, ch.workspace_id
            ),
        );
    }
    for (i, ch) in chat.teams.iter().enumerate() {
        let p = |f: &str| at(&[key("teams"), PathPart::Index(i), key(f)]);
        for (field, value) in [("team_id", &ch.team_id), ("tenant_id", &ch.tenant_id)] {
            c.check(
                uuid_ok(value),
                p(field),
                format!(
                    "{value:?} is not a Microsoft Teams {}: use the UUID \
                     (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) the Chatbot console shows for the \
                     configured team",
                    field.replace('_', " ")
                ),
            );
        }
        c.check(
            teams_channel_id_ok(&ch.channel_id),
            p("channel_id"),
            format!(
                "{:?} is not a Microsoft Teams channel ID as AWS Chatbot takes it: copy the \
                 channel's link in Teams and use the part after /channel/, URL-encoded as the \
                 link has it (e.g. \"19%3aabc123%40thread.tacv2\")",
                ch.channel_id
            ),
        );
        c.check(
            seen.insert(("teams", ch.team_id.as_str(), ch.channel_id.as_str())),
            p("channel_id"),
            format!(
                "channel {} of team {} is listed twice: AWS Chatbot takes one configuration \
                 per channel and account",
                ch.channel_id, ch.team_id
            ),
        );
    }
    if let Some(digest) = &chat.digest {
        c.check(
            digest_days(digest).is_some(),
            at(&[key("digest")]),
            format!(
                "{digest:?} is not a digest frequency: use \"daily\" or \"weekly\", or remove \
                 the key for no digest"
            ),
        );
    }
    c.check(
        chat.has_channels(),
        vec![key("chat")],
        "name at least one channel (slack = [{ workspace_id = \"T…\", channel_id = \"C…\" }] or \
         teams = [...]), or remove [chat]",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_api_patterns() {
        assert!(slack_workspace_id_ok("T0123ABCD"));
        assert!(!slack_workspace_id_ok("C0123ABCD"));
        assert!(!slack_workspace_id_ok("t0123abcd"));
        assert!(!slack_workspace_id_ok("T-12"));
        assert!(slack_channel_id_ok("C0123ABCD"));
        assert!(slack_channel_id_ok("ABCBBLZZZ"));
        assert!(!slack_channel_id_ok("#alerts"));
        assert!(!slack_channel_id_ok(""));
        assert!(uuid_ok("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"));
        assert!(!uuid_ok("0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"));
        assert!(!uuid_ok("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5g"));
        assert!(teams_channel_id_ok("19%3aabc123def%40thread.tacv2"));
        assert!(teams_channel_id_ok("19%3Aabc123def%40thread.tacv2"));
        assert!(!teams_channel_id_ok("19:abc123def@thread.tacv2"));
        assert!(!teams_channel_id_ok("general"));
    }
}
