//! Amazon Bedrock: application inference profiles (restJson, signing name `bedrock`). The
//! system-defined profiles they copy from are in `system_profiles.rs`; the model catalogue
//! (`GET /foundation-models`) in `models.rs`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::common::{
    anchored, check_enum, check_string, constraint_message, missing, now_iso, optional_list,
    optional_str, page, pat, percent_decode, query_params, required_str, rest_error, rest_ok,
};
use super::system_profiles::{SYSTEM_PROFILES, SystemProfile};
use super::{AccountState, Ctx, Reply, StandIn, StrictRequest};

/// An application inference profile.
#[derive(Clone, Debug, PartialEq)]
pub struct InferenceProfile {
    pub account: String,
    pub region: String,
    /// The 12 lowercase alphanumerics at the end of the ARN.
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    /// `modelSource.copyFrom` as given: a foundation-model or system-profile ARN.
    pub copy_from: String,
    /// Foundation-model ARNs (`models[].modelArn`).
    pub models: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
}

impl StandIn {
    /// Removes tag `key` from the default account's application profile named `name` (in any
    /// region). False when there is no such profile.
    pub fn untag_profile(&self, name: &str, key: &str) -> bool {
        self.mutate(|acct| {
            acct.inference_profiles
                .iter_mut()
                .find(|p| p.name == name)
                .map(|p| p.tags.remove(key))
                .is_some()
        })
    }

    /// Sets tag `key` on the default account's application profile named `name`.
    pub fn tag_profile(&self, name: &str, key: &str, value: &str) -> bool {
        self.mutate(|acct| {
            acct.inference_profiles
                .iter_mut()
                .find(|p| p.name == name)
                .map(|p| p.tags.insert(key.to_string(), value.to_string()))
                .is_some()
        })
    }

    /// Every application inference profile, all accounts and regions, in creation order.
    pub fn inference_profiles(&self) -> Vec<InferenceProfile> {
        self.collect(|a| a.inference_profiles.clone())
    }
}

fn profile_json(p: &InferenceProfile) -> Value {
    let mut v = json!({
        "inferenceProfileName": p.name,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
        "inferenceProfileArn": p.arn,
        "models": p.models.iter().map(|m| json!({"modelArn": m})).collect::<Vec<_>>(),
        "inferenceProfileId": p.id,
        "status": "ACTIVE",
        "type": "APPLICATION",
    });
    if let (Some(d), Some(o)) = (&p.description, v.as_object_mut()) {
        o.insert("description".into(), json!(d));
    }
    v
}

// Amazon Bedrock API reference, CreateInferenceProfile / GetInferenceProfile / TagResource:
// member patterns and lengths.
pattern!(PROFILE_NAME, "([0-9a-zA-Z][ _-]?)+");
pattern!(PROFILE_DESCRIPTION, "([0-9a-zA-Z:.][ _-]?)+");
pattern!(
    IDEMPOTENCY_TOKEN,
    "[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?"
);
pattern!(
    MODEL_SOURCE_ARN,
    "arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(|[0-9a-z-]{0,20}):(|[0-9]{12}):(inference-profile|foundation-model)/[a-zA-Z0-9-:.]+"
);
pattern!(
    PROFILE_IDENTIFIER,
    "(arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(|[0-9a-z-]{0,20}):(|[0-9]{12}):(inference-profile|application-inference-profile)/)?[a-zA-Z0-9-:.]+"
);
pattern!(
    FOUNDATION_MODEL_ARN,
    "arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/[a-z0-9-]{1,63}[.]{1}([a-z0-9-]{1,63}[.]){0,2}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2}"
);
pattern!(BEDROCK_TAG, r"[a-zA-Z0-9\s._:/=+@-]*");
pattern!(PAGINATION_TOKEN, r"\S*");

/// Amazon Bedrock API reference, TooManyTagsException: "The request contains more tags than can
/// be associated with a resource (50 tags per resource). The maximum number of tags includes both
/// existing tags and those included in your current request."
const BEDROCK_MAX_TAGS: usize = 50;

/// Page size when ListInferenceProfiles has no `maxResults`. Not documented; a small page makes
/// a caller that ignores `nextToken` visible.
const BEDROCK_DEFAULT_PAGE: usize = 10;

fn bedrock_validation(message: String) -> Reply {
    rest_error(400, "ValidationException", &message, Value::Null)
}

fn bedrock_not_found(message: &str) -> Reply {
    rest_error(404, "ResourceNotFoundException", message, Value::Null)
}

enum BedrockOp {
    Create,
    List,
    Get(String),
    Delete(String),
    Tag,
    Untag,
    ListTags,
}

enum FoundProfile {
    Application(usize),
    System(&'static SystemProfile),
}

impl StandIn {
    pub(super) fn bedrock(&self, request: &StrictRequest) -> Option<Reply> {
        let (path, query) = request
            .path
            .split_once('?')
            .unwrap_or((request.path.as_str(), ""));
        if (request.method.as_str(), path) == ("GET", "/foundation-models") {
            return Some(self.list_foundation_models(request));
        }
        let op = match (request.method.as_str(), path) {
            ("POST", "/inference-profiles") => BedrockOp::Create,
            ("GET", "/inference-profiles") => BedrockOp::List,
            ("GET", p) => BedrockOp::Get(percent_decode(p.strip_prefix("/inference-profiles/")?)),
            ("DELETE", p) => {
                BedrockOp::Delete(percent_decode(p.strip_prefix("/inference-profiles/")?))
            }
            ("POST", "/tagResource") => BedrockOp::Tag,
            ("POST", "/untagResource") => BedrockOp::Untag,
            ("POST", "/listTagsForResource") => BedrockOp::ListTags,
            _ => return None,
        };
        let body = if request.body.is_empty() {
            json!({})
        } else {
            match request.json() {
                Some(body) => body,
                // Tagging requests that are not ours go to moto, however they look.
                None if !matches!(op, BedrockOp::Create) => return None,
                None => {
                    return Some(bedrock_validation(
                        "The request body is not valid JSON.".into(),
                    ));
                }
            }
        };
        // Tagging is answered here only for application inference profiles; every other
        // Bedrock resource is moto's.
        if matches!(op, BedrockOp::Tag | BedrockOp::Untag | BedrockOp::ListTags)
            && !body["resourceARN"]
                .as_str()
                .is_some_and(|a| a.contains(":application-inference-profile/"))
        {
            return None;
        }
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let acct = state.account(&ctx.account);
        let result = match op {
            BedrockOp::Create => create_profile(acct, &ctx, &body).map(|b| rest_ok(201, b)),
            BedrockOp::List => list_profiles(acct, &ctx, query).map(|b| rest_ok(200, b)),
            BedrockOp::Get(id) => get_profile(acct, &ctx, &id).map(|b| rest_ok(200, b)),
            BedrockOp::Delete(id) => delete_profile(acct, &ctx, &id).map(|b| rest_ok(200, b)),
            BedrockOp::Tag => tag_profile(acct, &body).map(|b| rest_ok(200, b)),
            BedrockOp::Untag => untag_profile(acct, &body).map(|b| rest_ok(200, b)),
            BedrockOp::ListTags => list_profile_tags(acct, &body).map(|b| rest_ok(200, b)),
        };
        Some(result.unwrap_or_else(|e| e))
    }
}

/// Amazon Bedrock API reference, Tag / TagResource: a tag list has at most 200 members; keys are
/// 1–128 and values 0–256 characters of `[a-zA-Z0-9\s._:/=+@-]`. "Tagging AWS resources" (AWS
/// General Reference): the `aws:` prefix is reserved for AWS use.
fn bedrock_tags(list: &[Value], field: &str) -> Result<Vec<(String, String)>, Reply> {
    if list.len() > 200 {
        return Err(bedrock_validation(constraint_message(
            &format!("[{} tags]", list.len()),
            field,
            "Member must have length less than or equal to 200",
        )));
    }
    let mut tags = Vec::new();
    for (i, tag) in list.iter().enumerate() {
        let at = |m: &str| format!("{field}.{}.member.{m}", i + 1);
        let key = required_str(tag, "key", &at("key")).map_err(bedrock_validation)?;
        check_string(key, &at("key"), 1, 128, pat(&BEDROCK_TAG)).map_err(bedrock_validation)?;
        let value = required_str(tag, "value", &at("value")).map_err(bedrock_validation)?;
        check_string(value, &at("value"), 0, 256, pat(&BEDROCK_TAG)).map_err(bedrock_validation)?;
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(bedrock_validation(format!(
                "Tag keys starting with 'aws:' are reserved for AWS use: {key}"
            )));
        }
        tags.push((key.to_string(), value.to_string()));
    }
    Ok(tags)
}

fn too_many_bedrock_tags(arn: &str) -> Reply {
    rest_error(
        400,
        "TooManyTagsException",
        "The request contains more tags than can be associated with a resource (50 tags per resource). The maximum number of tags includes both existing tags and those included in your current request.",
        json!({ "resourceName": arn }),
    )
}

/// A random application-profile ID: 12 lowercase alphanumerics (the form the API reference's
/// TaggableResourcesArn pattern and real ARNs show).
fn profile_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..12)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect()
}

/// The foundation models an application profile copied from `copy_from` routes to.
///
/// Amazon Bedrock API reference, CreateInferenceProfile: "To create an application inference
/// profile for a foundation model in one region, specify the ARN of the model in that region. To
/// create an application inference profile for a foundation model across multiple regions,
/// specify the ARN of the system-defined inference profile that contains the regions that you
/// want to route requests to." So a foundation model must be in the Region of the request, and a
/// system profile must be one callable from it. (The exact messages are not documented.)
fn source_models(ctx: &Ctx, copy_from: &str) -> Result<Vec<String>, Reply> {
    let parts: Vec<&str> = copy_from.splitn(6, ':').collect();
    let [_, _, _, region, account, resource] = parts.as_slice() else {
        return Err(bedrock_validation(format!(
            "{copy_from} is not a foundation model or inference profile ARN."
        )));
    };
    if let Some(model) = resource.strip_prefix("foundation-model/") {
        if !FOUNDATION_MODEL_ARN.0.is_match(copy_from) {
            return Err(bedrock_validation(format!(
                "{copy_from} is not a valid foundation model ARN."
            )));
        }
        if *region != ctx.region {
            return Err(bedrock_validation(format!(
                "The foundation model {model} must be given by its ARN in {}, the Region of the request.",
                ctx.region
            )));
        }
        return Ok(vec![copy_from.to_string()]);
    }
    let id = resource
        .strip_prefix("inference-profile/")
        .unwrap_or(resource);
    if *region != ctx.region {
        return Err(bedrock_validation(format!(
            "The inference profile {id} must be given by its ARN in {}, the Region of the request.",
            ctx.region
        )));
    }
    match SYSTEM_PROFILES
        .iter()
        .find(|p| p.id == id && p.available_in(&ctx.region))
    {
        Some(p) if account.is_empty() || *account == ctx.account => Ok(p.models()),
        _ => Err(bedrock_not_found(&format!(
            "The inference profile {copy_from} was not found."
        ))),
    }
}

/// Amazon Bedrock API reference, CreateInferenceProfile (POST /inference-profiles, 201):
/// `inferenceProfileName` 1–64 of `([0-9a-zA-Z][ _-]?)+`, `description` 1–200 of
/// `([0-9a-zA-Z:.][ _-]?)+`, `clientRequestToken` 1–256 ("If this token matches a previous
/// request, Amazon Bedrock ignores the request, but does not return an error"), `modelSource`
/// required (a union whose only member is `copyFrom`), `tags`; errors ConflictException,
/// ResourceNotFoundException, TooManyTagsException, ValidationException.
///
/// Not documented, chosen here: a name already used in the account and Region is a
/// ConflictException (the reference lists ConflictException for this operation and there is no
/// other conflict it can mean); a token reused with different parameters is a
/// ConflictException too (EC2's "Ensuring idempotency", which the reference links, calls that a
/// mismatch error).
fn create_profile(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let name = required_str(body, "inferenceProfileName", "inferenceProfileName")
        .map_err(bedrock_validation)?;
    check_string(name, "inferenceProfileName", 1, 64, pat(&PROFILE_NAME))
        .map_err(bedrock_validation)?;
    let description =
        optional_str(body, "description", "description").map_err(bedrock_validation)?;
    if let Some(d) = description {
        check_string(d, "description", 1, 200, pat(&PROFILE_DESCRIPTION))
            .map_err(bedrock_validation)?;
    }
    let token = optional_str(body, "clientRequestToken", "clientRequestToken")
        .map_err(bedrock_validation)?;
    if let Some(t) = token {
        check_string(t, "clientRequestToken", 1, 256, pat(&IDEMPOTENCY_TOKEN))
            .map_err(bedrock_validation)?;
    }
    let copy_from = match &body["modelSource"] {
        Value::Null => Err(missing("modelSource")),
        source => required_str(source, "copyFrom", "modelSource.copyFrom"),
    }
    .map_err(bedrock_validation)?;
    check_string(
        copy_from,
        "modelSource.copyFrom",
        1,
        2048,
        pat(&MODEL_SOURCE_ARN),
    )
    .map_err(bedrock_validation)?;
    let tag_list = optional_list(body, "tags", "tags").map_err(bedrock_validation)?;
    let tags = bedrock_tags(tag_list, "tags")?;

    let fingerprint = {
        let mut b = body.clone();
        if let Some(o) = b.as_object_mut() {
            o.remove("clientRequestToken");
        }
        b.to_string()
    };
    if let Some(t) = token
        && let Some((previous, arn)) = acct.idempotency.get(t)
    {
        if *previous != fingerprint {
            return Err(rest_error(
                400,
                "ConflictException",
                "The clientRequestToken was already used for a request with different parameters.",
                Value::Null,
            ));
        }
        if acct.inference_profiles.iter().any(|p| &p.arn == arn) {
            return Ok(json!({ "inferenceProfileArn": arn, "status": "ACTIVE" }));
        }
    }
    if acct
        .inference_profiles
        .iter()
        .any(|p| p.region == ctx.region && p.name == name)
    {
        return Err(rest_error(
            400,
            "ConflictException",
            &format!("An inference profile named {name} already exists."),
            Value::Null,
        ));
    }
    let models = source_models(ctx, copy_from)?;
    let tags: BTreeMap<String, String> = tags.into_iter().collect();
    let id = profile_id();
    let arn = format!(
        "arn:aws:bedrock:{}:{}:application-inference-profile/{id}",
        ctx.region, ctx.account
    );
    if tags.len() > BEDROCK_MAX_TAGS {
        return Err(too_many_bedrock_tags(&arn));
    }
    let created = now_iso();
    acct.inference_profiles.push(InferenceProfile {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        id,
        arn: arn.clone(),
        name: name.to_string(),
        description: description.map(str::to_string),
        copy_from: copy_from.to_string(),
        models,
        tags,
        created_at: created.clone(),
        updated_at: created,
    });
    if let Some(t) = token {
        acct.idempotency
            .insert(t.to_string(), (fingerprint, arn.clone()));
    }
    Ok(json!({ "inferenceProfileArn": arn, "status": "ACTIVE" }))
}

/// A profile by ID or ARN (API reference: `inferenceProfileIdentifier`, "The ID or Amazon
/// Resource Name (ARN) of the inference profile"), in the account and Region of the request.
fn find_profile(acct: &AccountState, ctx: &Ctx, identifier: &str) -> Option<FoundProfile> {
    let (kind, id) = if identifier.starts_with("arn:") {
        let parts: Vec<&str> = identifier.splitn(6, ':').collect();
        let [_, _, _, region, account, resource] = parts.as_slice() else {
            return None;
        };
        if *region != ctx.region || (!account.is_empty() && *account != ctx.account) {
            return None;
        }
        let (kind, id) = resource.split_once('/')?;
        (Some(kind), id)
    } else {
        (None, identifier)
    };
    let application = (kind.is_none() || kind == Some("application-inference-profile"))
        .then(|| {
            acct.inference_profiles
                .iter()
                .position(|p| p.region == ctx.region && p.id == id)
        })
        .flatten()
        .map(FoundProfile::Application);
    application.or_else(|| {
        (kind.is_none() || kind == Some("inference-profile"))
            .then(|| {
                SYSTEM_PROFILES
                    .iter()
                    .find(|p| p.id == id && p.available_in(&ctx.region))
            })
            .flatten()
            .map(FoundProfile::System)
    })
}

fn check_identifier(identifier: &str) -> Result<(), Reply> {
    check_string(
        identifier,
        "inferenceProfileIdentifier",
        1,
        2048,
        pat(&PROFILE_IDENTIFIER),
    )
    .map_err(bedrock_validation)
}

fn profile_not_found(identifier: &str) -> Reply {
    bedrock_not_found(&format!(
        "The specified inference profile {identifier} was not found. Check the ID or ARN and try your request again."
    ))
}

/// Amazon Bedrock API reference, GetInferenceProfile (GET /inference-profiles/{id}): system or
/// application profile by ID or ARN; ResourceNotFoundException (404) otherwise.
fn get_profile(acct: &AccountState, ctx: &Ctx, identifier: &str) -> Result<Value, Reply> {
    check_identifier(identifier)?;
    match find_profile(acct, ctx, identifier) {
        Some(FoundProfile::Application(i)) => Ok(profile_json(&acct.inference_profiles[i])),
        Some(FoundProfile::System(p)) => Ok(p.json(ctx)),
        None => Err(profile_not_found(identifier)),
    }
}

/// Amazon Bedrock API reference, ListInferenceProfiles (GET /inference-profiles, query `type`,
/// `maxResults` 1–1000, `nextToken` 1–2048 of `\S*`).
///
/// Without `type` the service lists only SYSTEM_DEFINED profiles (aws/aws-cli#9728: "bedrock
/// list-inference-profiles only lists SYSTEM profiles by default", reproduced by the AWS CLI
/// maintainers); `type=APPLICATION` lists the application ones.
fn list_profiles(acct: &AccountState, ctx: &Ctx, query: &str) -> Result<Value, Reply> {
    let params = query_params(query);
    let param = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let kind = param("type").unwrap_or("SYSTEM_DEFINED");
    check_enum(kind, "typeEquals", &["SYSTEM_DEFINED", "APPLICATION"])
        .map_err(bedrock_validation)?;
    let max = match param("maxResults") {
        None => BEDROCK_DEFAULT_PAGE,
        Some(m) => match m.parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n as usize,
            _ => {
                return Err(bedrock_validation(constraint_message(
                    m,
                    "maxResults",
                    "Member must have value between 1 and 1000",
                )));
            }
        },
    };
    let token = param("nextToken");
    if let Some(t) = token {
        check_string(t, "nextToken", 1, 2048, pat(&PAGINATION_TOKEN))
            .map_err(bedrock_validation)?;
    }
    let items: Vec<Value> = if kind == "APPLICATION" {
        acct.inference_profiles
            .iter()
            .filter(|p| p.region == ctx.region)
            .map(profile_json)
            .collect()
    } else {
        SYSTEM_PROFILES
            .iter()
            .filter(|p| p.available_in(&ctx.region))
            .map(|p| p.json(ctx))
            .collect()
    };
    let scope = format!("ListInferenceProfiles|{}|{kind}", ctx.region);
    let (items, next) = page(&items, token, max, &scope)
        .map_err(|()| bedrock_validation("The provided nextToken is not valid.".into()))?;
    let mut out = json!({ "inferenceProfileSummaries": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(next));
    }
    Ok(out)
}

/// Amazon Bedrock API reference, DeleteInferenceProfile (DELETE /inference-profiles/{id}):
/// "Deletes an application inference profile"; ResourceNotFoundException (404) when absent.
/// Asked to delete a system-defined profile, the stand-in answers ValidationException (not
/// documented).
fn delete_profile(acct: &mut AccountState, ctx: &Ctx, identifier: &str) -> Result<Value, Reply> {
    check_identifier(identifier)?;
    match find_profile(acct, ctx, identifier) {
        Some(FoundProfile::Application(i)) => {
            let removed = acct.inference_profiles.remove(i);
            acct.idempotency.retain(|_, (_, arn)| *arn != removed.arn);
            Ok(json!({}))
        }
        Some(FoundProfile::System(p)) => Err(bedrock_validation(format!(
            "{} is a system-defined inference profile; only application inference profiles can be deleted.",
            p.id
        ))),
        None => Err(profile_not_found(identifier)),
    }
}

/// The application profile a tagging request names (API reference, TagResource: `resourceARN`
/// 20–1011 characters; ResourceNotFoundException when absent).
fn tagged_profile<'a>(
    acct: &'a mut AccountState,
    body: &Value,
) -> Result<&'a mut InferenceProfile, Reply> {
    let arn = required_str(body, "resourceARN", "resourceARN").map_err(bedrock_validation)?;
    check_string(arn, "resourceARN", 20, 1011, None).map_err(bedrock_validation)?;
    acct.inference_profiles
        .iter_mut()
        .find(|p| p.arn == arn)
        .ok_or_else(|| {
            bedrock_not_found(&format!(
                "The specified resource ARN {arn} was not found. Check the Amazon Resource Name (ARN) and try your request again."
            ))
        })
}

/// Amazon Bedrock API reference, TagResource (POST /tagResource): adds or replaces tags; at most
/// 50 per resource counting existing ones (TooManyTagsException).
fn tag_profile(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["tags"].is_null() {
        return Err(bedrock_validation(missing("tags")));
    }
    let list = optional_list(body, "tags", "tags").map_err(bedrock_validation)?;
    let tags = bedrock_tags(list, "tags")?;
    let profile = tagged_profile(acct, body)?;
    let mut merged = profile.tags.clone();
    merged.extend(tags);
    if merged.len() > BEDROCK_MAX_TAGS {
        return Err(too_many_bedrock_tags(&profile.arn));
    }
    profile.tags = merged;
    Ok(json!({}))
}

/// Amazon Bedrock API reference, UntagResource (POST /untagResource): `tagKeys` (at most 200)
/// are removed; keys the resource does not have are ignored.
fn untag_profile(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["tagKeys"].is_null() {
        return Err(bedrock_validation(missing("tagKeys")));
    }
    let keys = optional_list(body, "tagKeys", "tagKeys").map_err(bedrock_validation)?;
    if keys.len() > 200 {
        return Err(bedrock_validation(constraint_message(
            &format!("[{} keys]", keys.len()),
            "tagKeys",
            "Member must have length less than or equal to 200",
        )));
    }
    let mut names = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let field = format!("tagKeys.{}.member", i + 1);
        let key = key.as_str().ok_or_else(|| {
            bedrock_validation(format!("Value {key} at '{field}' is not a string"))
        })?;
        check_string(key, &field, 1, 128, pat(&BEDROCK_TAG)).map_err(bedrock_validation)?;
        names.push(key.to_string());
    }
    let profile = tagged_profile(acct, body)?;
    for key in names {
        profile.tags.remove(&key);
    }
    Ok(json!({}))
}

/// Amazon Bedrock API reference, ListTagsForResource (POST /listTagsForResource): `{"tags":
/// [{"key", "value"}]}`.
fn list_profile_tags(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let profile = tagged_profile(acct, body)?;
    let tags: Vec<Value> = profile
        .tags
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    Ok(json!({ "tags": tags }))
}
