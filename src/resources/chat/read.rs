//! Reading the chat component: the role, which workspaces and teams are authorised, and the
//! account's channel configurations (every page) with their tags.

use std::collections::{BTreeMap, BTreeSet};

use super::{Chat, ChatState, Kind, ObservedConfig, POLICY_NAME};
use crate::aws::{AwsError, AwsResultExt};
use crate::engine::Context;

/// `ListTagsForResource` answers this for a configuration deleted meanwhile (API reference).
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

fn tags(list: &[aws_sdk_chatbot::types::Tag]) -> BTreeMap<String, String> {
    list.iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect()
}

// Every list below is read whole with the SDK's paginator (each operation is `@paginated` on
// `NextToken` in the API model; the paginator stops on a repeated token).

async fn slack_workspaces(cx: &Context) -> Result<BTreeSet<String>, AwsError> {
    let all = cx
        .aws
        .chatbot
        .describe_slack_workspaces()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("chatbot:DescribeSlackWorkspaces")?;
    // A workspace an organization policy disables is listed `DISABLED` (SlackWorkspace,
    // `State`: "returns DISABLED if the organization's AWS Chatbot policy has explicitly
    // denied that configuration"): it cannot carry a channel, so it counts as not authorised.
    Ok(all
        .iter()
        .filter(|w| w.state() != Some("DISABLED"))
        .map(|w| w.slack_team_id().to_string())
        .collect())
}

async fn configured_teams(cx: &Context) -> Result<BTreeSet<(String, String)>, AwsError> {
    let all = cx
        .aws
        .chatbot
        .list_microsoft_teams_configured_teams()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("chatbot:ListMicrosoftTeamsConfiguredTeams")?;
    Ok(all
        .iter()
        .filter(|t| t.state() != Some("DISABLED"))
        .map(|t| (t.team_id().to_string(), t.tenant_id().to_string()))
        .collect())
}

async fn slack_configs(cx: &Context) -> Result<Vec<ObservedConfig>, AwsError> {
    let all = cx
        .aws
        .chatbot
        .describe_slack_channel_configurations()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("chatbot:DescribeSlackChannelConfigurations")?;
    Ok(all
        .iter()
        .map(|c| ObservedConfig {
            kind: Kind::Slack,
            arn: c.chat_configuration_arn().to_string(),
            name: c.configuration_name().unwrap_or_default().to_string(),
            workspace: c.slack_team_id().to_string(),
            tenant: None,
            channel_id: c.slack_channel_id().to_string(),
            topics: c.sns_topic_arns().to_vec(),
            role: c.iam_role_arn().to_string(),
            guardrails: c.guardrail_policy_arns().to_vec(),
            logging_level: c.logging_level().map(str::to_string),
            user_authorization_required: c.user_authorization_required(),
            tags: tags(c.tags()),
        })
        .collect())
}

async fn teams_configs(cx: &Context) -> Result<Vec<ObservedConfig>, AwsError> {
    let all = cx
        .aws
        .chatbot
        .list_microsoft_teams_channel_configurations()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("chatbot:ListMicrosoftTeamsChannelConfigurations")?;
    Ok(all
        .iter()
        .map(|c| ObservedConfig {
            kind: Kind::Teams,
            arn: c.chat_configuration_arn().to_string(),
            name: c.configuration_name().unwrap_or_default().to_string(),
            workspace: c.team_id().to_string(),
            tenant: Some(c.tenant_id().to_string()),
            channel_id: c.channel_id().to_string(),
            topics: c.sns_topic_arns().to_vec(),
            role: c.iam_role_arn().to_string(),
            guardrails: c.guardrail_policy_arns().to_vec(),
            logging_level: c.logging_level().map(str::to_string),
            user_authorization_required: c.user_authorization_required(),
            tags: tags(c.tags()),
        })
        .collect())
}

/// A configuration's tags from `ListTagsForResource`: the describe answers' `Tags` member is
/// optional (API reference, SlackChannelConfiguration), so ownership is never decided on its
/// absence.
async fn with_tags(cx: &Context, mut config: ObservedConfig) -> Result<ObservedConfig, AwsError> {
    let answer = crate::resources::absent_if(
        cx.aws
            .chatbot
            .list_tags_for_resource()
            .resource_arn(&config.arn)
            .send()
            .await
            .aws("chatbot:ListTagsForResource"),
        NOT_FOUND,
    )?;
    if let Some(answer) = answer {
        config.tags = tags(answer.tags());
    }
    Ok(config)
}

pub(super) async fn read(cx: &Context) -> Result<ChatState, AwsError> {
    let chat = cx.config.chat.clone().unwrap_or_default();
    let want_slack = !chat.slack.is_empty();
    let want_teams = !chat.teams.is_empty();
    let stack = &cx.config.stack.name;
    let role_name = Chat::role_name(cx);
    let (role, workspaces, teams, slack, teams_cfg) = tokio::join!(
        crate::resources::iam::read_role(&cx.aws.iam, &role_name, POLICY_NAME),
        async {
            if want_slack {
                slack_workspaces(cx).await
            } else {
                Ok(BTreeSet::new())
            }
        },
        async {
            if want_teams {
                configured_teams(cx).await
            } else {
                Ok(BTreeSet::new())
            }
        },
        slack_configs(cx),
        teams_configs(cx),
    );
    // Only the configurations of the configured channels (whoever made them) and those named
    // like the stack's matter; the account's others are not this stack's business.
    let channels = Chat::channels(cx);
    let relevant = |c: &ObservedConfig| {
        c.name.starts_with(&super::name_prefix(stack, c.kind))
            || channels
                .iter()
                .any(|ch| ch.kind == c.kind && ch.channel_id == c.channel_id)
    };
    let found: Vec<ObservedConfig> = slack?
        .into_iter()
        .chain(teams_cfg?)
        .filter(relevant)
        .collect();
    let mut configs = Vec::with_capacity(found.len());
    for c in found {
        // Only the stack's names are read for tags: another's configuration of a configured
        // channel only blocks it, and the operator's policy reaches the stack's names only.
        if c.name.starts_with(&super::name_prefix(stack, c.kind)) {
            configs.push(with_tags(cx, c).await?);
        } else {
            configs.push(c);
        }
    }
    Ok(ChatState {
        role: role?,
        slack_workspaces: workspaces?,
        teams: teams?,
        configs,
    })
}
