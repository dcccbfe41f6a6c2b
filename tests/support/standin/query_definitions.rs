//! CloudWatch Logs: Logs Insights query definitions (awsJson 1.1,
//! `X-Amz-Target: Logs_20140328.<Op>`, signing name `logs`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::budget_action_input::string_items;
use super::common::{
    AWS_JSON, anchored, check_enum, check_string, constraint_message, epoch_millis, json_ok,
    optional_list, optional_str, page, pat, reply, required_str, uuid,
};
use super::{AccountState, Ctx, Reply, StandIn, StrictRequest};

/// A saved CloudWatch Logs Insights query (query definition).
#[derive(Clone, Debug, PartialEq)]
pub struct QueryDefinition {
    pub account: String,
    pub region: String,
    /// A version-4 UUID.
    pub id: String,
    /// `/` separates folders in the console (CloudWatch Logs user guide, "Saving and re-running
    /// CloudWatch Logs Insights queries": a query saved as `folder/name` is shown in a folder).
    pub name: String,
    pub query_string: String,
    /// `CWLI`, `SQL` or `PPL`.
    pub query_language: String,
    pub log_group_names: Vec<String>,
    /// `parameters` as given (a JSON array of `QueryParameter`), empty when none.
    pub parameters: Vec<Value>,
    /// Milliseconds since the epoch.
    pub last_modified: i64,
}

impl StandIn {
    /// Replaces the query string of the default account's query definition named `name` (in
    /// any Region), as an edit in the CloudWatch console would; its `lastModified` moves. False
    /// when there is no such definition.
    pub fn set_query_string(&self, name: &str, text: &str) -> bool {
        self.mutate(|acct| {
            acct.query_definitions
                .iter_mut()
                .find(|q| q.name == name)
                .map(|q| {
                    q.query_string = text.to_string();
                    q.last_modified = epoch_millis();
                })
                .is_some()
        })
    }

    /// Every query definition, all accounts and Regions, in creation order.
    pub fn query_definitions(&self) -> Vec<QueryDefinition> {
        self.collect(|a| a.query_definitions.clone())
    }
}

/// The CloudWatch Logs operations answered here. Every other Logs operation (log groups,
/// StartQuery, GetQueryResults, …) goes to moto.
const LOGS_OPERATIONS: [&str; 3] = [
    "PutQueryDefinition",
    "DescribeQueryDefinitions",
    "DeleteQueryDefinition",
];

/// CloudWatch Logs user guide, "CloudWatch Logs quotas": "Saved queries: You can save as many as
/// 1000 CloudWatch Logs Insights queries, per Region per account. This quota can't be
/// changed." Past it, LimitExceededException (the reference's error for PutQueryDefinition,
/// "You have reached the maximum number of resources that can be created").
const MAX_QUERY_DEFINITIONS: usize = 1000;

/// DescribeQueryDefinitions page size without `maxResults`. Not documented; a small page makes a
/// caller that ignores `nextToken` visible.
const QUERY_DEFINITIONS_DEFAULT_PAGE: usize = 10;

/// CloudWatch Logs API reference, QueryLanguage (the default is Logs Insights QL, CWLI: the
/// SDK's PutQueryDefinition input documents "The options are Logs Insights QL, OpenSearch PPL,
/// and OpenSearch SQL", and a definition saved without one is a Logs Insights query).
const QUERY_LANGUAGES: [&str; 3] = ["CWLI", "SQL", "PPL"];

// CloudWatch Logs API reference, LogGroupName (1–512) and ClientToken (36–128).
pattern!(LOG_GROUP_NAME, r"[\.\-_/#A-Za-z0-9]+");
pattern!(CLIENT_TOKEN, r"\S{36,128}");
// The SDK's QueryParameter.name: "A query parameter name must start with a letter or
// underscore, and contain only letters, digits, and underscores" (no pattern is published;
// this one says the same).
pattern!(QUERY_PARAMETER_NAME, r"[A-Za-z_][A-Za-z0-9_]*");

/// A CloudWatch Logs error: `__type` names it; its error shapes carry `message` (lower case).
/// HTTP 400.
fn logs_error(code: &str, message: &str) -> Reply {
    reply(
        400,
        AWS_JSON,
        &json!({ "__type": code, "message": message }),
    )
}

/// CloudWatch Logs answers invalid input with InvalidParameterException ("A parameter is
/// specified incorrectly"); the constraint messages are AWS's usual request-validation wording.
fn logs_invalid(message: String) -> Reply {
    logs_error("InvalidParameterException", &message)
}

fn query_definition_not_found(id: &str) -> Reply {
    logs_error(
        "ResourceNotFoundException",
        &format!("The query definition {id} does not exist."),
    )
}

/// CloudWatch Logs API reference, QueryDefinition: `queryDefinitionId`, `name`, `queryString`,
/// `lastModified` (epoch milliseconds), `logGroupNames`, `queryLanguage`, `parameters`.
fn query_definition_json(q: &QueryDefinition) -> Value {
    let mut v = json!({
        "queryDefinitionId": q.id,
        "name": q.name,
        "queryString": q.query_string,
        "lastModified": q.last_modified,
        "logGroupNames": q.log_group_names,
        "queryLanguage": q.query_language,
    });
    if let (false, Some(o)) = (q.parameters.is_empty(), v.as_object_mut()) {
        o.insert("parameters".into(), json!(q.parameters));
    }
    v
}

/// `parameters` of PutQueryDefinition (the SDK's QueryParameter: `name` required, of the
/// pattern above; `defaultValue` and `description` optional strings). "Query parameters are
/// supported only for Logs Insights QL queries": parameters for SQL or PPL are refused (the
/// message is not documented).
fn parse_query_parameters(body: &Value, language: &str) -> Result<Vec<Value>, String> {
    let list = optional_list(body, "parameters", "parameters")?;
    if !list.is_empty() && language != "CWLI" {
        return Err(format!(
            "Query parameters are supported only for Logs Insights QL (CWLI) queries, not {language}."
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            let at = |m: &str| format!("parameters.{}.member.{m}", i + 1);
            let name = required_str(p, "name", &at("name"))?;
            check_string(name, &at("name"), 1, 255, pat(&QUERY_PARAMETER_NAME))?;
            let mut out = json!({ "name": name });
            for key in ["defaultValue", "description"] {
                if let (Some(v), Some(o)) = (optional_str(p, key, &at(key))?, out.as_object_mut()) {
                    o.insert(key.into(), json!(v));
                }
            }
            Ok(out)
        })
        .collect()
}

impl StandIn {
    pub(super) fn query_definitions_op(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("Logs_20140328.")?;
        if !LOGS_OPERATIONS.contains(&op) {
            return None;
        }
        let body = match request.json() {
            Some(body) if body.is_object() => body,
            _ => {
                return Some(logs_error(
                    "SerializationException",
                    "The request body is not a JSON object.",
                ));
            }
        };
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let acct = state.account(&ctx.account);
        let result = match op {
            "PutQueryDefinition" => put_query_definition(acct, &ctx, &body),
            "DescribeQueryDefinitions" => describe_query_definitions(acct, &ctx, &body),
            "DeleteQueryDefinition" => delete_query_definition(acct, &ctx, &body),
            _ => return None,
        };
        Some(result.map(json_ok).unwrap_or_else(|e| e))
    }
}

/// CloudWatch Logs API reference, PutQueryDefinition: creates a query definition, or updates
/// the one `queryDefinitionId` names (ResourceNotFoundException when the account has none in
/// the Region). `name` (1–255) and `queryString` (1–10000) required; "To update a query
/// definition, specify its queryDefinitionId in your request. The values of name, queryString,
/// and logGroupNames are changed to the values that you specify in your update operation. No
/// current values are retained" (so is the language: absent, CWLI, and the parameters).
/// `logGroupNames`: names of 1–512 characters of `[\.\-_/#A-Za-z0-9]+`; "If your query uses
/// the OpenSearch Service query language, you specify the log group names inside the
/// querystring instead of here", so SQL with `logGroupNames` is refused (the message is not
/// documented). Answers `queryDefinitionId` (a UUID here). Names need not be unique (nothing
/// says they must).
///
/// `clientToken` (36–128 non-blank characters, the SDK fills it in): "Used as an idempotency
/// token, to avoid returning an exception if the service receives the same request twice
/// because of a network error". The same token with the same parameters answers the first
/// request's `queryDefinitionId` and changes nothing; with other parameters the stand-in answers
/// InvalidParameterException (not documented; as EC2's "Ensuring idempotency" treats a token
/// reused for another request). An empty `queryDefinitionId` (the model allows length 0) is
/// taken as none given.
fn put_query_definition(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let name = required_str(body, "name", "name").map_err(logs_invalid)?;
    check_string(name, "name", 1, 255, None).map_err(logs_invalid)?;
    let query_string = required_str(body, "queryString", "queryString").map_err(logs_invalid)?;
    check_string(query_string, "queryString", 1, 10000, None).map_err(logs_invalid)?;
    let id = optional_str(body, "queryDefinitionId", "queryDefinitionId").map_err(logs_invalid)?;
    if let Some(id) = id {
        check_string(id, "queryDefinitionId", 0, 256, None).map_err(logs_invalid)?;
    }
    let language = optional_str(body, "queryLanguage", "queryLanguage")
        .map_err(logs_invalid)?
        .unwrap_or("CWLI");
    check_enum(language, "queryLanguage", &QUERY_LANGUAGES).map_err(logs_invalid)?;
    let log_groups = string_items(
        body,
        "logGroupNames",
        "logGroupNames",
        0,
        usize::MAX,
        1,
        512,
        pat(&LOG_GROUP_NAME),
    )
    .map_err(logs_invalid)?
    .unwrap_or_default();
    if language == "SQL" && !log_groups.is_empty() {
        return Err(logs_invalid(
            "An OpenSearch SQL query names its log groups in the query string; logGroupNames cannot be used with it.".into(),
        ));
    }
    let parameters = parse_query_parameters(body, language).map_err(logs_invalid)?;
    let token = optional_str(body, "clientToken", "clientToken").map_err(logs_invalid)?;
    if let Some(t) = token {
        check_string(t, "clientToken", 36, 128, pat(&CLIENT_TOKEN)).map_err(logs_invalid)?;
    }
    let fingerprint = {
        let mut b = body.clone();
        if let Some(o) = b.as_object_mut() {
            o.remove("clientToken");
        }
        b.to_string()
    };
    let token_key = token.map(|t| format!("{}|{t}", ctx.region));
    if let Some(key) = &token_key
        && let Some((previous, previous_id)) = acct.query_tokens.get(key)
    {
        if *previous != fingerprint {
            return Err(logs_invalid(
                "The clientToken was already used for a request with different parameters.".into(),
            ));
        }
        if acct
            .query_definitions
            .iter()
            .any(|q| q.region == ctx.region && &q.id == previous_id)
        {
            return Ok(json!({ "queryDefinitionId": previous_id }));
        }
    }
    let id = match id.filter(|id| !id.is_empty()) {
        Some(id) => {
            let q = acct
                .query_definitions
                .iter_mut()
                .find(|q| q.region == ctx.region && q.id == id)
                .ok_or_else(|| query_definition_not_found(id))?;
            q.name = name.to_string();
            q.query_string = query_string.to_string();
            q.query_language = language.to_string();
            q.log_group_names = log_groups;
            q.parameters = parameters;
            q.last_modified = epoch_millis();
            q.id.clone()
        }
        None => {
            let in_region = acct
                .query_definitions
                .iter()
                .filter(|q| q.region == ctx.region)
                .count();
            if in_region >= MAX_QUERY_DEFINITIONS {
                return Err(logs_error(
                    "LimitExceededException",
                    &format!(
                        "You can save at most {MAX_QUERY_DEFINITIONS} CloudWatch Logs Insights queries per Region per account."
                    ),
                ));
            }
            let q = QueryDefinition {
                account: ctx.account.clone(),
                region: ctx.region.clone(),
                id: uuid(),
                name: name.to_string(),
                query_string: query_string.to_string(),
                query_language: language.to_string(),
                log_group_names: log_groups,
                parameters,
                last_modified: epoch_millis(),
            };
            let id = q.id.clone();
            acct.query_definitions.push(q);
            id
        }
    };
    if let Some(key) = token_key {
        acct.query_tokens.insert(key, (fingerprint, id.clone()));
    }
    Ok(json!({ "queryDefinitionId": id }))
}

/// CloudWatch Logs API reference, DescribeQueryDefinitions: the Region's definitions whose names
/// start with `queryDefinitionNamePrefix` (1–255), of `queryLanguage` when given (all languages
/// otherwise: not documented, chosen), paged by `maxResults` (1–1000) and `nextToken` (an
/// unknown token is InvalidParameterException, the only client error the operation lists).
/// Sorted by name (then ID), as the console lists them; the order is not documented.
fn describe_query_definitions(
    acct: &AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let prefix = optional_str(
        body,
        "queryDefinitionNamePrefix",
        "queryDefinitionNamePrefix",
    )
    .map_err(logs_invalid)?;
    if let Some(p) = prefix {
        check_string(p, "queryDefinitionNamePrefix", 1, 255, None).map_err(logs_invalid)?;
    }
    let language = optional_str(body, "queryLanguage", "queryLanguage").map_err(logs_invalid)?;
    if let Some(l) = language {
        check_enum(l, "queryLanguage", &QUERY_LANGUAGES).map_err(logs_invalid)?;
    }
    let max = match &body["maxResults"] {
        Value::Null => QUERY_DEFINITIONS_DEFAULT_PAGE,
        v => match v.as_i64() {
            Some(n) if (1..=1000).contains(&n) => n as usize,
            _ => {
                return Err(logs_invalid(constraint_message(
                    &v.to_string(),
                    "maxResults",
                    "Member must have value between 1 and 1000",
                )));
            }
        },
    };
    let token = optional_str(body, "nextToken", "nextToken").map_err(logs_invalid)?;
    if let Some(t) = token {
        check_string(t, "nextToken", 1, usize::MAX, None).map_err(logs_invalid)?;
    }
    let mut found: Vec<&QueryDefinition> = acct
        .query_definitions
        .iter()
        .filter(|q| q.region == ctx.region)
        .filter(|q| prefix.is_none_or(|p| q.name.starts_with(p)))
        .filter(|q| language.is_none_or(|l| q.query_language == l))
        .collect();
    found.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let items: Vec<Value> = found.into_iter().map(query_definition_json).collect();
    let scope = format!(
        "DescribeQueryDefinitions|{}|{prefix:?}|{language:?}",
        ctx.region
    );
    let (items, next) = page(&items, token, max, &scope)
        .map_err(|()| logs_invalid("The specified nextToken is not valid.".into()))?;
    let mut out = json!({ "queryDefinitions": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(next));
    }
    Ok(out)
}

/// CloudWatch Logs API reference, DeleteQueryDefinition: `queryDefinitionId` (0–256) required;
/// answers `{"success": true}`; ResourceNotFoundException when the account has no such
/// definition in the Region.
fn delete_query_definition(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let id = required_str(body, "queryDefinitionId", "queryDefinitionId").map_err(logs_invalid)?;
    check_string(id, "queryDefinitionId", 0, 256, None).map_err(logs_invalid)?;
    let i = acct
        .query_definitions
        .iter()
        .position(|q| q.region == ctx.region && q.id == id)
        .ok_or_else(|| query_definition_not_found(id))?;
    let removed = acct.query_definitions.remove(i);
    acct.query_tokens.retain(|_, (_, qid)| *qid != removed.id);
    Ok(json!({ "success": true }))
}
