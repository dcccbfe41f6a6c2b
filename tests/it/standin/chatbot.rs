//! The stand-in's AWS Chatbot (`tests/support/standin/chatbot.rs`), through the real SDK
//! client as in `tests/it/standin.rs`: every answer parses, the documented errors come back
//! typed, and the state is what the stand-in's API reads.

use aws_sdk_chatbot::types::Tag;

use crate::support::env::{ACCOUNT, TestEnv};

use super::{code, error, through_proxy};

const WORKSPACE: &str = "T0123ABCD";
const TEAM: &str = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const TEAMS_CHANNEL: &str = "19%3aabc123%40thread.tacv2";

fn role() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/chat")
}

fn topic() -> String {
    format!("arn:aws:sns:us-east-1:{ACCOUNT}:alerts")
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().expect("tag")
}

#[test]
#[allow(clippy::result_large_err)]
fn standin_chatbot_slack_configurations_live_and_die() {
    let env = TestEnv::new();
    let chat = through_proxy(&env).chatbot;
    let create = || {
        chat.create_slack_channel_configuration()
            .configuration_name("s-slack-C0123ABCD")
            .slack_team_id(WORKSPACE)
            .slack_channel_id("C0123ABCD")
            .iam_role_arn(role())
            .sns_topic_arns(topic())
            .guardrail_policy_arns("arn:aws:iam::aws:policy/ReadOnlyAccess")
            .logging_level("NONE")
            .tags(tag("bedrock-monitor:stack", "s"))
            .send()
    };

    // Not authorised yet: the workspace is refused, nothing is made.
    let (c, message) = error(env.block_on(create()));
    assert_eq!(c, "InvalidRequestException");
    assert!(message.contains(WORKSPACE), "{message}");
    assert!(env.standin.chat_configurations().is_empty());
    let none = env
        .block_on(chat.describe_slack_workspaces().send())
        .expect("DescribeSlackWorkspaces");
    assert!(none.slack_workspaces().is_empty());

    env.standin.authorize_slack_workspace(WORKSPACE, "Example");
    let ws = env
        .block_on(chat.describe_slack_workspaces().send())
        .expect("DescribeSlackWorkspaces");
    assert_eq!(ws.slack_workspaces()[0].slack_team_id(), WORKSPACE);
    let made = env
        .block_on(create())
        .expect("CreateSlackChannelConfiguration");
    let arn = made
        .channel_configuration()
        .map(|c| c.chat_configuration_arn().to_string())
        .expect("configuration");
    assert_eq!(
        arn,
        format!("arn:aws:chatbot::{ACCOUNT}:chat-configuration/slack-channel/s-slack-C0123ABCD")
    );
    // The same channel again, under another name: AWS takes one configuration per channel.
    let again = env.block_on(
        chat.create_slack_channel_configuration()
            .configuration_name("other")
            .slack_team_id(WORKSPACE)
            .slack_channel_id("C0123ABCD")
            .iam_role_arn(role())
            .send(),
    );
    let (c, message) = error(again);
    assert_eq!(c, "InvalidRequestException");
    assert!(message.contains("already been configured"), "{message}");

    // Read back.
    let listed = env
        .block_on(chat.describe_slack_channel_configurations().send())
        .expect("Describe");
    let c = &listed.slack_channel_configurations()[0];
    assert_eq!(c.sns_topic_arns(), [topic()]);
    assert_eq!(c.iam_role_arn(), role());
    assert_eq!(c.slack_team_name(), "Example");
    assert_eq!(
        c.guardrail_policy_arns(),
        ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );

    // Update, tag, untag, list tags.
    env.block_on(
        chat.update_slack_channel_configuration()
            .chat_configuration_arn(&arn)
            .slack_channel_id("C0123ABCD")
            .sns_topic_arns(topic())
            .sns_topic_arns(format!("arn:aws:sns:us-west-2:{ACCOUNT}:alerts"))
            .send(),
    )
    .expect("Update");
    assert_eq!(env.standin.chat_configurations()[0].topics.len(), 2);
    env.block_on(
        chat.tag_resource()
            .resource_arn(&arn)
            .tags(tag("team", "ml"))
            .send(),
    )
    .expect("TagResource");
    env.block_on(
        chat.untag_resource()
            .resource_arn(&arn)
            .tag_keys("team")
            .send(),
    )
    .expect("UntagResource");
    let tags = env
        .block_on(chat.list_tags_for_resource().resource_arn(&arn).send())
        .expect("ListTagsForResource");
    assert_eq!(tags.tags().len(), 1);

    // Bad input is refused by the API's own rules.
    let bad = env.block_on(
        chat.create_slack_channel_configuration()
            .configuration_name("has spaces")
            .slack_team_id(WORKSPACE)
            .slack_channel_id("C1")
            .iam_role_arn(role())
            .send(),
    );
    assert_eq!(code(bad), "InvalidParameterException");

    // Delete; a second delete and an update of the deleted one are not found.
    env.block_on(
        chat.delete_slack_channel_configuration()
            .chat_configuration_arn(&arn)
            .send(),
    )
    .expect("Delete");
    assert!(env.standin.chat_configurations().is_empty());
    let gone = env.block_on(
        chat.delete_slack_channel_configuration()
            .chat_configuration_arn(&arn)
            .send(),
    );
    assert_eq!(code(gone), "ResourceNotFoundException");
}

#[test]
#[allow(clippy::result_large_err)]
fn standin_chatbot_teams_configurations_and_pages() {
    let env = TestEnv::new();
    let chat = through_proxy(&env).chatbot;
    let create = |name: &str, channel: &str| {
        chat.create_microsoft_teams_channel_configuration()
            .configuration_name(name)
            .team_id(TEAM)
            .tenant_id(TENANT)
            .channel_id(channel)
            .iam_role_arn(role())
            .send()
    };
    assert_eq!(
        code(env.block_on(create("t1", TEAMS_CHANNEL))),
        "InvalidRequestException"
    );
    env.standin.authorize_teams_team(TEAM, TENANT, "Ops");
    let teams = env
        .block_on(chat.list_microsoft_teams_configured_teams().send())
        .expect("ListMicrosoftTeamsConfiguredTeams");
    assert_eq!(teams.configured_teams()[0].tenant_id(), TENANT);
    // A channel ID not URL-encoded breaks TeamsChannelId's pattern.
    assert_eq!(
        code(env.block_on(create("t0", "19:abc@thread.tacv2"))),
        "InvalidParameterException"
    );
    for i in 0..3 {
        env.block_on(create(
            &format!("t{i}"),
            &format!("19%3achannel{i}%40thread.tacv2"),
        ))
        .expect("CreateMicrosoftTeamsChannelConfiguration");
    }
    // Paged at MaxResults 2: all three once.
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = env
            .block_on(
                chat.list_microsoft_teams_channel_configurations()
                    .max_results(2)
                    .set_next_token(token.clone())
                    .send(),
            )
            .expect("page");
        assert!(page.team_channel_configurations().len() <= 2);
        names.extend(
            page.team_channel_configurations()
                .iter()
                .filter_map(|c| c.configuration_name().map(str::to_string)),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names, ["t0", "t1", "t2"]);
    let arn = format!("arn:aws:chatbot::{ACCOUNT}:chat-configuration/microsoft-teams-channel/t1");
    let got = env
        .block_on(
            chat.get_microsoft_teams_channel_configuration()
                .chat_configuration_arn(&arn)
                .send(),
        )
        .expect("Get");
    assert_eq!(got.channel_configuration().map(|c| c.team_id()), Some(TEAM));
    env.block_on(
        chat.delete_microsoft_teams_channel_configuration()
            .chat_configuration_arn(&arn)
            .send(),
    )
    .expect("Delete");
    assert_eq!(env.standin.chat_configurations().len(), 2);
    // The proxy reads the calls as AWS names them, reads apart from writes.
    let calls = env.proxy.calls();
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "ListMicrosoftTeamsChannelConfigurations" && !c.write)
    );
    assert!(
        calls
            .iter()
            .any(|c| c.operation == "DeleteMicrosoftTeamsChannelConfiguration" && c.write)
    );
}
