//! `[chat]` (issue 33): Slack and Microsoft Teams channels on the alert topic through AWS
//! Chatbot, in the harness's stand-in (moto has no `chatbot`): applied, read back, converged,
//! cleaned up; an unauthorised workspace blocks only its own channel, and says what to do.

use crate::support::env::{ACCOUNT, REGION, TestEnv};

const WORKSPACE: &str = "T0123ABCD";
const OTHER_WORKSPACE: &str = "T9999ZZZZ";
const TEAM: &str = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const TEAMS_CHANNEL: &str = "19%3aabc123%40thread.tacv2";

fn config(slack_workspace: &str) -> String {
    format!(
        "[alerts]\nemails = [\"ops@example.com\"]\n\n[chat]\n\
         slack = [{{ workspace_id = \"{slack_workspace}\", channel_id = \"C0123ABCD\" }}]\n\
         teams = [{{ team_id = \"{TEAM}\", channel_id = \"{TEAMS_CHANNEL}\", tenant_id = \"{TENANT}\" }}]\n"
    )
}

#[test]
fn chat_channels_are_applied_read_back_converged_and_cleaned_up() {
    let env = TestEnv::new();
    env.standin.authorize_slack_workspace(WORKSPACE, "Example");
    env.standin.authorize_teams_team(TEAM, TENANT, "Ops");
    env.write_config(&config(WORKSPACE));
    env.run(&["apply", "--yes"]).assert_code(0);

    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:bedrock-usage-alerts");
    let role = format!("arn:aws:iam::{ACCOUNT}:role/bedrock-monitor-chat");
    let configs = env.standin.chat_configurations();
    assert_eq!(configs.len(), 2, "{configs:#?}");
    for c in &configs {
        assert_eq!(c.topics, vec![topic.clone()], "{}", c.name);
        assert_eq!(c.role, role, "{}", c.name);
        assert_eq!(
            c.guardrails,
            vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()],
            "{}",
            c.name
        );
        assert_eq!(c.logging_level.as_deref(), Some("NONE"));
        assert_eq!(c.user_authorization_required, Some(false));
        assert_eq!(
            c.tags.get("bedrock-monitor:stack").map(String::as_str),
            Some("bedrock-monitor")
        );
    }
    let slack = configs.iter().find(|c| !c.teams).expect("slack");
    assert_eq!(slack.name, "bedrock-monitor-slack-C0123ABCD");
    assert_eq!(slack.workspace, WORKSPACE);
    assert_eq!(slack.channel_id, "C0123ABCD");
    let teams = configs.iter().find(|c| c.teams).expect("teams");
    assert_eq!(teams.workspace, TEAM);
    assert_eq!(teams.tenant.as_deref(), Some(TENANT));
    assert_eq!(teams.channel_id, TEAMS_CHANNEL);

    // The role: trusted by Chatbot only, reads CloudWatch for the alarm graphs, nothing else.
    let (trust, policy) = env.block_on(async {
        let iam = &env.aws.iam;
        let role = iam
            .get_role()
            .role_name("bedrock-monitor-chat")
            .send()
            .await
            .expect("GetRole");
        let trust = role
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .map(|d| {
                percent_encoding::percent_decode_str(d)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .unwrap_or_default();
        let policy = iam
            .get_role_policy()
            .role_name("bedrock-monitor-chat")
            .policy_name("bedrock-monitor-chat")
            .send()
            .await
            .expect("GetRolePolicy");
        let doc = percent_encoding::percent_decode_str(policy.policy_document())
            .decode_utf8_lossy()
            .into_owned();
        (trust, doc)
    });
    assert!(trust.contains("chatbot.amazonaws.com"), "{trust}");
    let policy: serde_json::Value = serde_json::from_str(&policy).expect("policy JSON");
    let actions = &policy["Statement"][0]["Action"];
    assert_eq!(
        actions,
        &serde_json::json!([
            "cloudwatch:Describe*",
            "cloudwatch:Get*",
            "cloudwatch:List*"
        ])
    );
    assert_eq!(policy["Statement"].as_array().map(Vec::len), Some(1));

    // A second apply writes nothing; plan and status see nothing to do.
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(0);
    assert!(
        status.stdout.contains("receives the alert topic"),
        "{}",
        status.stdout
    );

    // Changed outside the tool: one update puts it back.
    env.standin.mutate(|a| {
        if let Some(c) = a.chatbot.configurations.iter_mut().find(|c| !c.teams) {
            c.guardrails = vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()];
        }
    });
    env.run(&["plan", "--detailed-exitcode"]).assert_code(2);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(
        env.writes(),
        vec!["chatbot:UpdateSlackChannelConfiguration"]
    );

    // A channel taken out of the config: its configuration goes, the other stays.
    env.write_config(&format!(
        "[alerts]\nemails = [\"ops@example.com\"]\n\n[chat]\n\
         slack = [{{ workspace_id = \"{WORKSPACE}\", channel_id = \"C0123ABCD\" }}]\n"
    ));
    env.run(&["apply", "--yes"]).assert_code(0);
    let left = env.standin.chat_configurations();
    assert_eq!(left.len(), 1);
    assert!(!left[0].teams);

    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(env.standin.chat_configurations().is_empty());
    let role_left = env.block_on(
        env.aws
            .iam
            .get_role()
            .role_name("bedrock-monitor-chat")
            .send(),
    );
    assert!(role_left.is_err(), "the chat role is gone after cleanup");
    // `permissions` grants every call of these runs; only the listings are on "*".
    crate::first_run::assert_permissions_cover_calls(
        &env,
        &[
            "chatbot:DescribeSlackWorkspaces",
            "chatbot:ListMicrosoftTeamsConfiguredTeams",
            "chatbot:DescribeSlackChannelConfigurations",
            "chatbot:ListMicrosoftTeamsChannelConfigurations",
        ],
        20,
    );
}

#[test]
fn an_unauthorised_workspace_blocks_only_its_channel_and_says_what_to_do() {
    let env = TestEnv::new();
    env.standin.authorize_teams_team(TEAM, TENANT, "Ops");
    env.write_config(&config(OTHER_WORKSPACE));

    let plan = env.run(&["plan"]);
    plan.assert_code(0);
    let said = format!("{}{}", plan.stdout, plan.stderr);
    assert!(said.contains(OTHER_WORKSPACE), "{said}");
    assert!(said.contains("is not authorised"), "{said}");
    assert!(
        said.contains("https://us-east-2.console.aws.amazon.com/chatbot/"),
        "{said}"
    );
    assert!(said.contains("Configure client"), "{said}");
    assert!(env.standin.chat_configurations().is_empty());

    let apply = env.run(&["apply", "--yes"]);
    assert_ne!(apply.code, 0, "{}", apply.stderr);
    assert!(
        apply.stderr.contains("is not authorised"),
        "{}",
        apply.stderr
    );
    // Nothing for the blocked channel; the Teams channel and the rest of the stack are there.
    let configs = env.standin.chat_configurations();
    assert_eq!(configs.len(), 1, "{configs:#?}");
    assert!(configs[0].teams);
    assert!(
        env.proxy
            .writes()
            .iter()
            .all(|c| c.operation != "CreateSlackChannelConfiguration"),
        "no Slack configuration was even tried"
    );
    let topics = env
        .block_on(env.aws.sns.list_topics().send())
        .expect("ListTopics");
    assert!(topics.topics().iter().any(|t| {
        t.topic_arn()
            .is_some_and(|a| a.ends_with(":bedrock-usage-alerts"))
    }));
    env.run(&["plan", "--detailed-exitcode"]).assert_code(2);

    // Authorised in the console: the next apply makes it, and the stack converges.
    env.standin
        .authorize_slack_workspace(OTHER_WORKSPACE, "Other");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.standin.chat_configurations().len(), 2);
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}
