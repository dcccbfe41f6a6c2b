//! Writing the chat component: the role, then each channel's configuration (created, updated,
//! or deleted and made again when its workspace changed), then the stack's configurations the
//! config no longer names; and what all of it needs in IAM.


use serde_json::json;

use super::{Channel, Chat, ChatState, Kind, LOGGING_LEVEL, ObservedConfig, POLICY_NAME};
use crate::aws::{AwsError, AwsResultExt};
use crate::engine::{ComponentId, Context, Diff, Permission};
use crate::resources::absent_if;
use crate::resources::iam::{RoleWrite, write_role};

/// Chatbot answers this for a configuration that is not there (API reference,
/// Delete/UpdateSlackChannelConfiguration errors).
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];

fn chat_tags(cx: &Context) -> Result<Vec<aws_sdk_chatbot::types::Tag>, AwsError> {
    cx.config
        .tags()
        .into_iter()
        .map(|(k, v)| {
            Ok(aws_sdk_chatbot::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()?)
        })
        .collect()
}

async fn put_role(cx: &Context, state: &ChatState, diff: &Diff) -> Result<(), AwsError> {
    let exists = state.role.is_some();
    let policy = Chat::policy();
    write_role(
        cx,
        RoleWrite {
            component: ComponentId::Chat,
            what: "role",
            name: &Chat::role_name(cx),
            description: "Lets AWS Chatbot post bedrock-monitor's alerts (managed by bedrock-monitor)",
            trust: &Chat::trust(),
            policy_name: POLICY_NAME,
            policy: (!exists || diff.touches("role.policy")).then_some(&policy),
            exists,
            trust_changed: diff.touches("role.trust"),
            tags_changed: diff.touches("role.tags"),
        },
    )
    .await?;
    Ok(())
}

async fn create(cx: &Context, ch: &Channel) -> Result<(), AwsError> {
    let chatbot = &cx.aws.chatbot;
    match ch.kind {
        Kind::Slack => chatbot
            .create_slack_channel_configuration()
            .configuration_name(&ch.name)
            .slack_team_id(&ch.workspace)
            .slack_channel_id(&ch.channel_id)
            .set_sns_topic_arns(Some(Chat::topics(cx)))
            .iam_role_arn(Chat::role_arn(cx))
            .set_guardrail_policy_arns(Some(Chat::guardrails(cx)))
            .logging_level(LOGGING_LEVEL)
            .user_authorization_required(false)
            .set_tags(Some(chat_tags(cx)?))
            .send()
            .await
            .aws("chatbot:CreateSlackChannelConfiguration")
            .map(|_| ()),
        Kind::Teams => chatbot
            .create_microsoft_teams_channel_configuration()
            .configuration_name(&ch.name)
            .team_id(&ch.workspace)
            .tenant_id(ch.tenant.clone().unwrap_or_default())
            .channel_id(&ch.channel_id)
            .set_sns_topic_arns(Some(Chat::topics(cx)))
            .iam_role_arn(Chat::role_arn(cx))
            .set_guardrail_policy_arns(Some(Chat::guardrails(cx)))
            .logging_level(LOGGING_LEVEL)
            .user_authorization_required(false)
            .set_tags(Some(chat_tags(cx)?))
            .send()
            .await
            .aws("chatbot:CreateMicrosoftTeamsChannelConfiguration")
            .map(|_| ()),
    }
}

async fn update(cx: &Context, c: &ObservedConfig) -> Result<(), AwsError> {
    let chatbot = &cx.aws.chatbot;
    match c.kind {
        Kind::Slack => chatbot
            .update_slack_channel_configuration()
            .chat_configuration_arn(&c.arn)
            .slack_channel_id(&c.channel_id)
            .set_sns_topic_arns(Some(Chat::topics(cx)))
            .iam_role_arn(Chat::role_arn(cx))
            .set_guardrail_policy_arns(Some(Chat::guardrails(cx)))
            .logging_level(LOGGING_LEVEL)
            .user_authorization_required(false)
            .send()
            .await
            .aws("chatbot:UpdateSlackChannelConfiguration")
            .map(|_| ()),
        Kind::Teams => chatbot
            .update_microsoft_teams_channel_configuration()
            .chat_configuration_arn(&c.arn)
            .channel_id(&c.channel_id)
            .set_sns_topic_arns(Some(Chat::topics(cx)))
            .iam_role_arn(Chat::role_arn(cx))
            .set_guardrail_policy_arns(Some(Chat::guardrails(cx)))
            .logging_level(LOGGING_LEVEL)
            .user_authorization_required(false)
            .send()
            .await
            .aws("chatbot:UpdateMicrosoftTeamsChannelConfiguration")
            .map(|_| ()),
    }
}

async fn remove(cx: &Context, c: &ObservedConfig) -> Result<(), AwsError> {
    let chatbot = &cx.aws.chatbot;
    let result = match c.kind {
        Kind::Slack => chatbot
            .delete_slack_channel_configuration()
            .chat_configuration_arn(&c.arn)
            .send()
            .await
            .aws("chatbot:DeleteSlackChannelConfiguration")
            .map(|_| ()),
        Kind::Teams => chatbot
            .delete_microsoft_teams_channel_configuration()
            .chat_configuration_arn(&c.arn)
            .send()
            .await
            .aws("chatbot:DeleteMicrosoftTeamsChannelConfiguration")
            .map(|_| ()),
    };
    absent_if(result, NOT_FOUND).map(|_| ())
}

pub(super) async fn apply(cx: &Context, state: &ChatState, diff: &Diff) -> Result<(), AwsError> {
    if state.role.is_none() || diff.touches("role") {
        put_role(cx, state, diff).await?;
    }
    let mut blocked = Vec::new();
    for ch in Chat::channels(cx) {
        if let Some(why) = Chat::blocked(state, &ch) {
            blocked.push(why);
            continue;
        }
        let existing = state.configs.iter().find(|c| c.name == ch.name);
        let touched = |part: &str| diff.touches(&format!("{}.{part}", ch.name));
        match existing {
            None => create(cx, &ch).await?,
            Some(c) if touched("channel") => {
                remove(cx, c).await?;
                create(cx, &ch).await?;
            }
            Some(c) => {
                let settings = [
                    "topics",
                    "role",
                    "guardrails",
                    "logging_level",
                    "user_authorization_required",
                ];
                if settings.iter().any(|p| touched(p)) {
                    update(cx, c).await?;
                }
                if touched("tags") {
                    cx.aws
                        .chatbot
                        .tag_resource()
                        .resource_arn(&c.arn)
                        .set_tags(Some(chat_tags(cx)?))
                        .send()
                        .await
                        .aws("chatbot:TagResource")?;
                }
            }
        }
        if let Some(c) = existing {
            cx.set_id(ComponentId::Chat, &ch.name, &c.arn);
        }
    }
    for c in Chat::stale(cx, state) {
        remove(cx, c).await?;
    }
    match blocked.is_empty() {
        true => Ok(()),
        false => Err(AwsError::setup(
            format!(
                "{} chat channel{} not set up: {}",
                blocked.len(),
                if blocked.len() == 1 { "" } else { "s" },
                blocked.join("; ")
            ),
            "authorise the workspace or team in the console as said, then run apply again (the \
             other channels and components are applied)",
        )),
    }
}

pub(super) async fn delete(cx: &Context, state: &ChatState) -> Result<(), AwsError> {
    let wanted: Vec<String> = Chat::channels(cx).into_iter().map(|c| c.name).collect();
    for c in &state.configs {
        let ours = matches!(
            crate::resources::ownership_from_tags(cx, &c.tags),
            crate::engine::Ownership::Managed { .. }
        );
        if ours && (wanted.contains(&c.name) || Chat::stale(cx, state).iter().any(|s| s.name == c.name)) {
            remove(cx, c).await?;
        }
    }
    if state.role.is_some() {
        crate::resources::iam::delete_role_and_policies(&cx.aws.iam, &Chat::role_name(cx)).await?;
    }
    Ok(())
}

/// What the component's calls need. The configuration actions act on the stack's
/// configurations (`arn:…:chatbot::<account>:chat-configuration/<type>/<name>`, the
/// `ChatbotConfiguration` resource type of the Service Authorization Reference, AWS Chatbot);
/// the describe and list calls take no resource, hence `*`.
pub(super) fn permissions(cx: &Context) -> Vec<Permission> {
    let role = Chat::role_arn(cx);
    let config = |kind: &str, k: Kind| {
        format!(
            "arn:{}:chatbot::{}:chat-configuration/{kind}/{}*",
            cx.partition(),
            cx.account.id,
            super::name_prefix(&cx.config.stack.name, k)
        )
    };
    vec![
        Permission::new(
            &[
                "chatbot:DescribeSlackWorkspaces",
                "chatbot:ListMicrosoftTeamsConfiguredTeams",
                "chatbot:DescribeSlackChannelConfigurations",
                "chatbot:ListMicrosoftTeamsChannelConfigurations",
            ],
            ["*".to_string()],
        ),
        Permission::new(
            &[
                "chatbot:CreateSlackChannelConfiguration",
                "chatbot:UpdateSlackChannelConfiguration",
                "chatbot:DeleteSlackChannelConfiguration",
                "chatbot:CreateMicrosoftTeamsChannelConfiguration",
                "chatbot:UpdateMicrosoftTeamsChannelConfiguration",
                "chatbot:DeleteMicrosoftTeamsChannelConfiguration",
                "chatbot:TagResource",
                "chatbot:ListTagsForResource",
            ],
            [
                config("slack-channel", Kind::Slack),
                config("microsoft-teams-channel", Kind::Teams),
            ],
        ),
        Permission::new(
            &[
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:CreateRole",
                "iam:TagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:ListRolePolicies",
                "iam:DeleteRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:DetachRolePolicy",
                "iam:DeleteRole",
            ],
            [role.clone()],
        ),
        // The configurations hand the role to Chatbot.
        Permission {
            condition: Some(json!({"StringEquals": {"iam:PassedToService": "chatbot.amazonaws.com"}})),
            ..Permission::new(&["iam:PassRole"], [role])
        },
    ]
}
