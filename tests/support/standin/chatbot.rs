//! AWS Chatbot ("Amazon Q Developer in chat applications"; restJson, signing name `chatbot`,
//! every operation a POST to its kebab-case name): Slack and Microsoft Teams channel
//! configurations (create, describe/list/get, update, delete), the authorised Slack workspaces
//! and Teams teams, and tags. Written from the AWS Chatbot API reference (botocore `chatbot`
//! 2017-10-11: member patterns, lengths, HTTP codes and error shapes; checked against
//! aws-sdk-chatbot 1.109.0's serializers). moto 5 has no `chatbot` service at all.
//!
//! Authorising a workspace or team happens in the console, through Slack's or Microsoft's
//! OAuth pages, not through this API: tests seed them ([`StandIn::authorize_slack_workspace`],
//! [`StandIn::authorize_teams_team`]).
//!
//! Behaviour the reference does not pin down, and what was chosen:
//! - a channel of a workspace or team not authorised: `InvalidRequestException` (400; the
//!   reference lists it for "request input doesn't meet the constraints"), message naming it;
//! - a channel that already has a configuration in the account: `InvalidRequestException`
//!   "Invalid request provided: Slack channel with ID … in Slack team … has already been
//!   configured for AWS account …" (AWS's answer as reported in cloudcomponents/cdk-constructs#92);
//! - a configuration name already taken: `ConflictException` (409);
//! - constraint failures: `InvalidParameterException` (400), with AWS's usual validation text;
//! - a configuration's `SlackChannelName`, required in answers, is the one given or else the
//!   channel ID (AWS looks the name up in Slack);
//! - a page holds at most `MaxResults` (1-100) or else 10 items (the default is undocumented).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use bytes::Bytes;
use hyper::header::HeaderMap;
use regex::Regex;
use serde_json::{Value, json};

use super::common::{anchored, check_string, pat, rest_error, rest_ok};
use super::{AccountState, Ctx, Reply, StandIn, StrictRequest};

/// One channel configuration, Slack or Teams.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatConfiguration {
    pub teams: bool,
    pub arn: String,
    pub name: String,
    /// Slack: `SlackTeamId`; Teams: `TeamId`.
    pub workspace: String,
    pub tenant: Option<String>,
    pub channel_id: String,
    pub channel_name: String,
    pub topics: Vec<String>,
    pub role: String,
    pub guardrails: Vec<String>,
    pub logging_level: Option<String>,
    pub user_authorization_required: Option<bool>,
    pub tags: BTreeMap<String, String>,
}

/// What one account holds of AWS Chatbot.
#[derive(Clone, Debug, Default)]
pub struct ChatbotState {
    /// Authorised Slack workspaces: ID → name.
    pub slack_workspaces: BTreeMap<String, String>,
    /// Configured Teams teams: (team ID, tenant ID) → team name.
    pub teams: BTreeMap<(String, String), String>,
    /// In creation order.
    pub configurations: Vec<ChatConfiguration>,
}

// AWS Chatbot API reference (model `chatbot` 2017-10-11), member patterns.
pattern!(SLACK_TEAM_ID, "[0-9A-Z]{1,255}");
pattern!(SLACK_CHANNEL_ID, "[A-Za-z0-9]+");
pattern!(
    TEAMS_UUID,
    "[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"
);
pattern!(
    TEAMS_CHANNEL_ID,
    r"([a-zA-Z0-9-_=+\/.,])*%3[aA]([a-zA-Z0-9-_=+\/.,])*%40([a-zA-Z0-9-_=+\/.,])*"
);
pattern!(CONFIGURATION_NAME, "[A-Za-z0-9-_]+");
pattern!(
    CHATBOT_ARN,
    "arn:aws:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}"
);
pattern!(
    CHAT_CONFIGURATION_ARN,
    "arn:aws:(wheatley|chatbot):[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}"
);
pattern!(LOGGING_LEVEL, "(ERROR|INFO|NONE)");
// GuardrailPolicyArn is `(^$|(?!.*\/aws-service-role\/.*)arn:aws:iam:…)`: the `regex` crate has
// no look-ahead, so the "no /aws-service-role/" part is checked beside this pattern.
pattern!(
    GUARDRAIL_ARN,
    r"(|arn:aws:iam:[A-Za-z0-9_\/.-]{0,63}:[A-Za-z0-9_\/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_\/+=,@.-]{0,1023})"
);

/// Page size without `MaxResults` (undocumented; see the module's notes).
const DEFAULT_PAGE: usize = 10;

type Answer = Result<Reply, Reply>;

fn invalid_parameter(message: String) -> Reply {
    rest_error(400, "InvalidParameterException", &message, Value::Null)
}

fn invalid_request(message: String) -> Reply {
    rest_error(400, "InvalidRequestException", &message, Value::Null)
}

fn not_found(arn: &str) -> Reply {
    rest_error(
        404,
        "ResourceNotFoundException",
        &format!("Resource {arn} not found"),
        Value::Null,
    )
}

/// A 204 with no body (DeleteSlackChannelConfiguration and
/// DeleteMicrosoftTeamsChannelConfiguration answer 204, API reference).
fn no_content() -> Reply {
    Reply {
        status: 204,
        headers: HeaderMap::new(),
        body: Bytes::new(),
    }
}

fn string<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, Reply> {
    match &body[key] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(invalid_parameter(format!(
            "Value {other} at '{key}' is not a string"
        ))),
    }
}

fn required<'a>(body: &'a Value, key: &str) -> Result<&'a str, Reply> {
    string(body, key)?.ok_or_else(|| {
        invalid_parameter(format!(
            "1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn checked(
    value: &str,
    key: &str,
    min: usize,
    max: usize,
    p: Option<&'static LazyLock<(Regex, &'static str)>>,
) -> Result<(), Reply> {
    check_string(value, key, min, max, p.and_then(pat)).map_err(invalid_parameter)
}

fn strings(body: &Value, key: &str) -> Result<Option<Vec<String>>, Reply> {
    match &body[key] {
        Value::Null => Ok(None),
        Value::Array(a) => a
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    invalid_parameter(format!("Value {v} at '{key}' is not a string"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(invalid_parameter(format!(
            "Value {other} at '{key}' is not a list"
        ))),
    }
}

/// The settings every create and update takes, checked as the reference gives them.
fn settings(body: &Value, c: &mut ChatConfiguration) -> Result<(), Reply> {
    if let Some(topics) = strings(body, "SnsTopicArns")? {
        for t in &topics {
            checked(t, "SnsTopicArns", 12, 1224, Some(&CHATBOT_ARN))?;
        }
        c.topics = topics;
    }
    if let Some(role) = string(body, "IamRoleArn")? {
        checked(role, "IamRoleArn", 12, 1224, Some(&CHATBOT_ARN))?;
        c.role = role.to_string();
    }
    if let Some(level) = string(body, "LoggingLevel")? {
        checked(level, "LoggingLevel", 4, 5, Some(&LOGGING_LEVEL))?;
        c.logging_level = Some(level.to_string());
    }
    if let Some(guardrails) = strings(body, "GuardrailPolicyArns")? {
        for g in &guardrails {
            checked(g, "GuardrailPolicyArns", 11, 1163, Some(&GUARDRAIL_ARN))?;
            if g.contains("/aws-service-role/") {
                return Err(invalid_parameter(super::common::constraint_message(
                    g,
                    "GuardrailPolicyArns",
                    "Member must not name a service-linked role's policy",
                )));
            }
        }
        c.guardrails = guardrails;
    }
    match &body["UserAuthorizationRequired"] {
        Value::Null => {}
        Value::Bool(b) => c.user_authorization_required = Some(*b),
        other => {
            return Err(invalid_parameter(format!(
                "Value {other} at 'UserAuthorizationRequired' is not a boolean"
            )));
        }
    }
    Ok(())
}

fn tags_of(body: &Value, key: &str) -> Result<BTreeMap<String, String>, Reply> {
    let list = match &body[key] {
        Value::Null => return Ok(BTreeMap::new()),
        Value::Array(a) => a,
        other => {
            return Err(invalid_parameter(format!(
                "Value {other} at '{key}' is not a list"
            )));
        }
    };
    let mut out = BTreeMap::new();
    for t in list {
        // Tag: TagKey 1-128, TagValue 0-256, both required (API reference).
        let k = required(t, "TagKey")?;
        let v = required(t, "TagValue")?;
        checked(k, "TagKey", 1, 128, None)?;
        checked(v, "TagValue", 0, 256, None)?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

fn config_json(c: &ChatConfiguration, workspace_name: &str) -> Value {
    let tags: Vec<Value> = c
        .tags
        .iter()
        .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
        .collect();
    let mut v = json!({
        "ChatConfigurationArn": c.arn,
        "ConfigurationName": c.name,
        "IamRoleArn": c.role,
        "SnsTopicArns": c.topics,
        "GuardrailPolicyArns": c.guardrails,
        "Tags": tags,
        "State": "ENABLED",
    });
    let Some(o) = v.as_object_mut() else { return v };
    if let Some(l) = &c.logging_level {
        o.insert("LoggingLevel".into(), json!(l));
    }
    if let Some(u) = c.user_authorization_required {
        o.insert("UserAuthorizationRequired".into(), json!(u));
    }
    if c.teams {
        o.insert("TeamId".into(), json!(c.workspace));
        o.insert("TeamName".into(), json!(workspace_name));
        o.insert("TenantId".into(), json!(c.tenant));
        o.insert("ChannelId".into(), json!(c.channel_id));
        o.insert("ChannelName".into(), json!(c.channel_name));
    } else {
        o.insert("SlackTeamId".into(), json!(c.workspace));
        o.insert("SlackTeamName".into(), json!(workspace_name));
        o.insert("SlackChannelId".into(), json!(c.channel_id));
        o.insert("SlackChannelName".into(), json!(c.channel_name));
    }
    v
}

impl ChatbotState {
    fn workspace_name(&self, c: &ChatConfiguration) -> String {
        if c.teams {
            self.teams
                .get(&(c.workspace.clone(), c.tenant.clone().unwrap_or_default()))
                .cloned()
                .unwrap_or_default()
        } else {
            self.slack_workspaces
                .get(&c.workspace)
                .cloned()
                .unwrap_or_default()
        }
    }

    fn json(&self, c: &ChatConfiguration) -> Value {
        config_json(c, &self.workspace_name(c))
    }
}

/// `MaxResults` (1-100) and `NextToken` of a listing; `Err` for values out of range or a token
/// that is not one of ours.
fn page_of(
    body: &Value,
    count: usize,
    scope: &str,
) -> Result<(usize, usize, Option<String>), Reply> {
    let max = match &body["MaxResults"] {
        Value::Null => DEFAULT_PAGE,
        v => match v.as_u64() {
            Some(n) if (1..=100).contains(&n) => n as usize,
            _ => {
                return Err(invalid_parameter(format!(
                    "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
                )));
            }
        },
    };
    let start = match string(body, "NextToken")? {
        None => 0,
        Some(t) => super::common::decode_token(t, scope)
            .filter(|o| *o <= count)
            .ok_or_else(|| invalid_parameter(format!("Invalid NextToken {t}")))?,
    };
    let end = (start + max).min(count);
    let next = (end < count).then(|| super::common::encode_token(scope, end));
    Ok((start, end, next))
}

fn listing(items: Vec<Value>, key: &str, body: &Value, scope: &str) -> Answer {
    let (start, end, next) = page_of(body, items.len(), scope)?;
    let mut out = json!({ key: items[start..end].to_vec() });
    if let (Some(n), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(n));
    }
    Ok(rest_ok(200, out))
}

fn create(state: &mut ChatbotState, ctx: &Ctx, body: &Value, teams: bool) -> Answer {
    let name = required(body, "ConfigurationName")?;
    checked(name, "ConfigurationName", 1, 128, Some(&CONFIGURATION_NAME))?;
    let role = required(body, "IamRoleArn")?;
    checked(role, "IamRoleArn", 12, 1224, Some(&CHATBOT_ARN))?;
    let (workspace, tenant, channel, channel_name) = if teams {
        let team = required(body, "TeamId")?;
        let tenant = required(body, "TenantId")?;
        let channel = required(body, "ChannelId")?;
        checked(team, "TeamId", 36, 36, Some(&TEAMS_UUID))?;
        checked(tenant, "TenantId", 36, 36, Some(&TEAMS_UUID))?;
        checked(channel, "ChannelId", 1, 255, Some(&TEAMS_CHANNEL_ID))?;
        let channel_name = string(body, "ChannelName")?.unwrap_or(channel);
        (team, Some(tenant.to_string()), channel, channel_name)
    } else {
        let team = required(body, "SlackTeamId")?;
        let channel = required(body, "SlackChannelId")?;
        checked(team, "SlackTeamId", 1, 255, Some(&SLACK_TEAM_ID))?;
        checked(channel, "SlackChannelId", 1, 255, Some(&SLACK_CHANNEL_ID))?;
        let channel_name = string(body, "SlackChannelName")?.unwrap_or(channel);
        (team, None, channel, channel_name)
    };
    let authorised = if teams {
        state
            .teams
            .contains_key(&(workspace.to_string(), tenant.clone().unwrap_or_default()))
    } else {
        state.slack_workspaces.contains_key(workspace)
    };
    if !authorised {
        return Err(invalid_request(if teams {
            format!(
                "Invalid request provided: Microsoft Teams team {workspace} in tenant {} has not been configured for AWS account {}",
                tenant.clone().unwrap_or_default(),
                ctx.account
            )
        } else {
            format!(
                "Invalid request provided: Slack workspace {workspace} is not authorized for AWS account {}",
                ctx.account
            )
        }));
    }
    if state
        .configurations
        .iter()
        .any(|c| c.teams == teams && c.workspace == workspace && c.channel_id == channel)
    {
        let what = if teams { "Microsoft Teams" } else { "Slack" };
        return Err(invalid_request(format!(
            "Invalid request provided: {what} channel with ID {channel} in {what} team {workspace} has already been configured for AWS account {}.",
            ctx.account
        )));
    }
    if state.configurations.iter().any(|c| c.name == name) {
        return Err(rest_error(
            409,
            "ConflictException",
            &format!("A configuration named {name} already exists"),
            Value::Null,
        ));
    }
    let kind = if teams {
        "microsoft-teams-channel"
    } else {
        "slack-channel"
    };
    let mut c = ChatConfiguration {
        teams,
        arn: format!(
            "arn:aws:chatbot::{}:chat-configuration/{kind}/{name}",
            ctx.account
        ),
        name: name.to_string(),
        workspace: workspace.to_string(),
        tenant,
        channel_id: channel.to_string(),
        channel_name: channel_name.to_string(),
        topics: Vec::new(),
        role: role.to_string(),
        guardrails: Vec::new(),
        logging_level: None,
        user_authorization_required: None,
        tags: tags_of(body, "Tags")?,
    };
    settings(body, &mut c)?;
    let answer = json!({"ChannelConfiguration": state.json(&c)});
    state.configurations.push(c);
    Ok(rest_ok(201, answer))
}

fn find(state: &ChatbotState, body: &Value, teams: bool) -> Result<usize, Reply> {
    let arn = required(body, "ChatConfigurationArn")?;
    checked(
        arn,
        "ChatConfigurationArn",
        19,
        1169,
        Some(&CHAT_CONFIGURATION_ARN),
    )?;
    state
        .configurations
        .iter()
        .position(|c| c.arn == arn && c.teams == teams)
        .ok_or_else(|| not_found(arn))
}

fn update(state: &mut ChatbotState, body: &Value, teams: bool) -> Answer {
    let i = find(state, body, teams)?;
    let channel_key = if teams { "ChannelId" } else { "SlackChannelId" };
    let channel = required(body, channel_key)?;
    let pattern = if teams {
        &TEAMS_CHANNEL_ID
    } else {
        &SLACK_CHANNEL_ID
    };
    checked(channel, channel_key, 1, 255, Some(pattern))?;
    let mut c = state.configurations[i].clone();
    c.channel_id = channel.to_string();
    settings(body, &mut c)?;
    let answer = json!({"ChannelConfiguration": state.json(&c)});
    state.configurations[i] = c;
    Ok(rest_ok(200, answer))
}

fn delete(state: &mut ChatbotState, body: &Value, teams: bool) -> Answer {
    let i = find(state, body, teams)?;
    state.configurations.remove(i);
    Ok(no_content())
}

fn resource<'a>(
    state: &'a mut ChatbotState,
    body: &Value,
) -> Result<&'a mut ChatConfiguration, Reply> {
    let arn = required(body, "ResourceARN")?;
    checked(arn, "ResourceARN", 1, 1011, Some(&CHAT_CONFIGURATION_ARN))?;
    state
        .configurations
        .iter_mut()
        .find(|c| c.arn == arn)
        .ok_or_else(|| not_found(arn))
}

fn answer(acct: &mut AccountState, ctx: &Ctx, op: &str, body: &Value) -> Answer {
    let state = &mut acct.chatbot;
    match op {
        "/create-slack-channel-configuration" => create(state, ctx, body, false),
        "/create-ms-teams-channel-configuration" => create(state, ctx, body, true),
        "/update-slack-channel-configuration" => update(state, body, false),
        "/update-ms-teams-channel-configuration" => update(state, body, true),
        "/delete-slack-channel-configuration" => delete(state, body, false),
        "/delete-ms-teams-channel-configuration" => delete(state, body, true),
        "/describe-slack-channel-configurations" => {
            let arn = string(body, "ChatConfigurationArn")?;
            let items = state
                .configurations
                .iter()
                .filter(|c| !c.teams && arn.is_none_or(|a| a == c.arn))
                .map(|c| state.json(c))
                .collect();
            listing(items, "SlackChannelConfigurations", body, "slack-configs")
        }
        "/list-ms-teams-channel-configurations" => {
            let team = string(body, "TeamId")?;
            if let Some(t) = team {
                checked(t, "TeamId", 36, 36, Some(&TEAMS_UUID))?;
            }
            let items = state
                .configurations
                .iter()
                .filter(|c| c.teams && team.is_none_or(|t| t == c.workspace))
                .map(|c| state.json(c))
                .collect();
            listing(items, "TeamChannelConfigurations", body, "teams-configs")
        }
        "/get-ms-teams-channel-configuration" => {
            let i = find(state, body, true)?;
            Ok(rest_ok(
                200,
                json!({"ChannelConfiguration": state.json(&state.configurations[i])}),
            ))
        }
        "/describe-slack-workspaces" => {
            let items = state
                .slack_workspaces
                .iter()
                .map(|(id, name)| json!({"SlackTeamId": id, "SlackTeamName": name, "State": "ENABLED"}))
                .collect();
            listing(items, "SlackWorkspaces", body, "slack-workspaces")
        }
        "/list-ms-teams-configured-teams" => {
            let items = state
                .teams
                .iter()
                .map(|((team, tenant), name)| {
                    json!({"TeamId": team, "TenantId": tenant, "TeamName": name, "State": "ENABLED"})
                })
                .collect();
            listing(items, "ConfiguredTeams", body, "teams")
        }
        "/tag-resource" => {
            let tags = tags_of(body, "Tags")?;
            // TagResource's `Tags`: a TagList of at most 200 (API reference).
            if body["Tags"].as_array().is_some_and(|a| a.len() > 200) {
                return Err(invalid_parameter(
                    "Member must have length less than or equal to 200".into(),
                ));
            }
            resource(state, body)?.tags.extend(tags);
            Ok(rest_ok(200, json!({})))
        }
        "/untag-resource" => {
            let keys = strings(body, "TagKeys")?.ok_or_else(|| {
                invalid_parameter(
                    "Value null at 'TagKeys' failed to satisfy constraint: Member must not be null"
                        .into(),
                )
            })?;
            let c = resource(state, body)?;
            for k in keys {
                c.tags.remove(&k);
            }
            Ok(rest_ok(200, json!({})))
        }
        "/list-tags-for-resource" => {
            let c = resource(state, body)?;
            let tags: Vec<Value> = c
                .tags
                .iter()
                .map(|(k, v)| json!({"TagKey": k, "TagValue": v}))
                .collect();
            Ok(rest_ok(200, json!({"Tags": tags})))
        }
        _ => Err(rest_error(
            404,
            "UnknownOperationException",
            &format!("the stand-in does not serve {op}"),
            Value::Null,
        )),
    }
}

impl StandIn {
    pub(super) fn chatbot_op(&self, request: &StrictRequest) -> Option<Reply> {
        if request.method.as_str() != "POST" {
            return None;
        }
        let path = request
            .path
            .split('?')
            .next()
            .unwrap_or(&request.path)
            .to_string();
        let body = if request.body.is_empty() {
            json!({})
        } else {
            match request.json() {
                Some(b) => b,
                None => {
                    return Some(invalid_parameter(
                        "The request body is not valid JSON.".into(),
                    ));
                }
            }
        };
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let acct = state.account(&ctx.account);
        Some(answer(acct, &ctx, &path, &body).unwrap_or_else(|e| e))
    }

    /// Authorises Slack workspace `id` (named `name`) for the default account: what the
    /// console's "Configure client" does through Slack's OAuth page.
    pub fn authorize_slack_workspace(&self, id: &str, name: &str) {
        self.mutate(|a| {
            a.chatbot
                .slack_workspaces
                .insert(id.to_string(), name.to_string());
        });
    }

    /// Configures Microsoft Teams team `team` of tenant `tenant` for the default account.
    pub fn authorize_teams_team(&self, team: &str, tenant: &str, name: &str) {
        self.mutate(|a| {
            a.chatbot
                .teams
                .insert((team.to_string(), tenant.to_string()), name.to_string());
        });
    }

    /// Every channel configuration, all accounts, in creation order.
    pub fn chat_configurations(&self) -> Vec<ChatConfiguration> {
        self.collect(|a| a.chatbot.configurations.clone())
    }
}

/// Every pattern of this file compiles.
pub(super) fn patterns() -> [&'static LazyLock<(Regex, &'static str)>; 9] {
    [
        &SLACK_TEAM_ID,
        &SLACK_CHANNEL_ID,
        &TEAMS_UUID,
        &TEAMS_CHANNEL_ID,
        &CONFIGURATION_NAME,
        &CHATBOT_ARN,
        &CHAT_CONFIGURATION_ARN,
        &LOGGING_LEVEL,
        &GUARDRAIL_ARN,
    ]
}
