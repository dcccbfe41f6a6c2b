//! Service Quotas for Amazon Bedrock (awsJson 1.1, `X-Amz-Target:
//! ServiceQuotasV20190624.<Op>`, signing name `servicequotas`): ListServiceQuotas,
//! GetServiceQuota, RequestServiceQuotaIncrease, ListRequestedServiceQuotaChangeHistory and
//! ListRequestedServiceQuotaChangeHistoryByQuota, written from the Service Quotas API reference
//! (botocore `service-quotas` 2019-06-24, checked against aws-sdk-servicequotas 1.121.0).
//!
//! moto 5.2.1 serves Service Quotas for `vpc` only, and only ListAWSDefaultServiceQuotas and
//! GetServiceQuota: no applied-quota listing, no increase requests, no history. The five
//! operations above are answered here for every service code, `vpc` included: `bedrock` from
//! the stand-in's store, any other code with the NoSuchResourceException AWS gives for a service
//! it does not know. Forwarding `vpc` to moto would serve one of the five operations and leave
//! the other four to moto's HTTP 500, and the tool asks about `bedrock` only. The operations
//! this file does not answer (ListServices, the default-quota calls, templates, tags, …) go to
//! moto as before.
//!
//! The quotas are per account and Region and empty until a test seeds them
//! ([`StandIn::seed_bedrock_quotas`]); increase requests are per account and Region.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::common::{
    anchored, check_enum, check_string, constraint_message, epoch_seconds, json_error, json_ok,
    optional_str, page, pat, required_str, uuid,
};
use super::models::FoundationModel;
use super::service_quota_catalogue::{DEFAULT_BEDROCK_QUOTAS, bedrock_quota_models};
use super::{AccountState, Ctx, DEFAULT_ACCOUNT, Reply, StandIn, StrictRequest};

/// A quota's applied value in one account and Region, as ListServiceQuotas lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedQuota {
    pub code: String,
    pub name: String,
    pub value: f64,
    pub adjustable: bool,
}

/// A quota increase request (RequestServiceQuotaIncrease).
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaRequest {
    pub account: String,
    pub region: String,
    pub id: String,
    pub service_code: String,
    pub quota_code: String,
    pub quota_name: String,
    pub desired_value: f64,
    /// One of [`REQUEST_STATUSES`].
    pub status: String,
    pub support_case_allowed: bool,
    /// Seconds since the epoch.
    pub created: f64,
    pub last_updated: f64,
}

/// The one service code served.
pub const BEDROCK: &str = "bedrock";

/// The service name Service Quotas gives `bedrock` (the console's "Amazon Bedrock").
const BEDROCK_SERVICE_NAME: &str = "Amazon Bedrock";

/// Service Quotas API reference, RequestStatus.
pub const REQUEST_STATUSES: [&str; 7] = [
    "PENDING",
    "CASE_OPENED",
    "APPROVED",
    "DENIED",
    "CASE_CLOSED",
    "NOT_APPROVED",
    "INVALID_REQUEST",
];

/// The statuses of a request still being worked on. Not a documented term: a request AWS has
/// neither decided nor closed. A second request for the same quota meanwhile is refused.
const OPEN_STATUSES: [&str; 2] = ["PENDING", "CASE_OPENED"];

/// Service Quotas API reference, AppliedLevelEnum (QuotaAppliedAtLevel, QuotaRequestedAtLevel).
const APPLIED_LEVELS: [&str; 3] = ["ACCOUNT", "RESOURCE", "ALL"];

/// Service Quotas API reference, MaxResults: "Valid Range: Minimum value of 1. Maximum value of
/// 100."
const MAX_RESULTS: i64 = 100;

/// Page size without MaxResults: "it defaults to a value appropriate to the operation" (the
/// value is not documented). A page smaller than the default set of quotas makes a caller that
/// ignores NextToken visible.
const DEFAULT_PAGE: usize = 10;

/// Service Quotas API reference, QuotaValue (DesiredValue): "Minimum value of 0. Maximum value
/// of 10000000000."
const MAX_QUOTA_VALUE: f64 = 10_000_000_000.0;

// Service Quotas API reference: ServiceCode (1–63), QuotaCode (1–128), NextToken (0–2048),
// ContextId (no constraint).
pattern!(SERVICE_CODE, r"[a-zA-Z][a-zA-Z0-9-]{1,63}");
pattern!(QUOTA_CODE, r"[a-zA-Z][a-zA-Z0-9-]{1,128}");
pattern!(NEXT_TOKEN, r"[a-zA-Z0-9/+]*={0,2}");

/// Service Quotas errors are awsJson errors with `Message`, HTTP 400 ("HTTP Status Code: 400"
/// for every client error of the API reference).
fn sq_error(code: &str, message: &str) -> Reply {
    json_error(400, code, message, json!({}))
}

/// The API reference's error for invalid input: IllegalArgumentException, "Invalid input was
/// provided." The model has no ValidationException; the constraint wording is AWS's usual
/// request-validation message (what AWS sends for Service Quotas is not documented).
fn illegal(message: String) -> Reply {
    sq_error("IllegalArgumentException", &message)
}

/// What AWS answers for a service code it does not know (aws-cli issue #4569: "The request
/// failed because the specified service does not exist.").
fn no_such_service() -> Reply {
    sq_error(
        "NoSuchResourceException",
        "The request failed because the specified service does not exist.",
    )
}

/// What AWS answers for a quota code the service does not have (aws-sdk-go-v2 issue #3228:
/// "The request failed because the specified quota and service do not exist.").
fn no_such_quota() -> Reply {
    sq_error(
        "NoSuchResourceException",
        "The request failed because the specified quota and service do not exist.",
    )
}

fn bad_token() -> Reply {
    sq_error(
        "InvalidPaginationTokenException",
        "Invalid input: The provided NextToken is not valid.",
    )
}

impl StandIn {
    /// Seeds the default account's `bedrock` quotas in `region` with
    /// [`DEFAULT_BEDROCK_QUOTAS`], and adds the models they name ([`bedrock_quota_models`]) to
    /// the region's model catalogue (the models it already has stay).
    pub fn seed_bedrock_quotas(&self, region: &str) {
        self.seed_bedrock_quotas_of(DEFAULT_ACCOUNT, region);
    }

    /// [`Self::seed_bedrock_quotas`] for another account.
    pub fn seed_bedrock_quotas_of(&self, account: &str, region: &str) {
        let quotas = DEFAULT_BEDROCK_QUOTAS
            .iter()
            .map(|q| AppliedQuota {
                code: q.code.to_string(),
                name: q.name.to_string(),
                value: q.value,
                adjustable: q.adjustable,
            })
            .collect();
        self.set_bedrock_quotas_of(account, region, quotas);
        let mut catalogue = self.models_lock();
        let models: &mut Vec<FoundationModel> = catalogue.entry(region.to_string()).or_default();
        for m in bedrock_quota_models() {
            if !models.iter().any(|have| have.id == m.id) {
                models.push(m);
            }
        }
    }

    /// Replaces an account's `bedrock` quotas in `region` (in listing order).
    pub fn set_bedrock_quotas_of(&self, account: &str, region: &str, quotas: Vec<AppliedQuota>) {
        self.mutate_account(account, |a| {
            a.bedrock_quotas.insert(region.to_string(), quotas);
        });
    }

    /// The default account's `bedrock` quotas in `region`, in listing order.
    pub fn bedrock_quotas(&self, region: &str) -> Vec<AppliedQuota> {
        self.mutate(|a| a.bedrock_quotas.get(region).cloned().unwrap_or_default())
    }

    /// Sets the applied value of the default account's `bedrock` quota `code` in `region`, as
    /// AWS does when it raises a quota. False when there is no such quota.
    pub fn set_quota_value(&self, region: &str, code: &str, value: f64) -> bool {
        self.set_quota_value_of(DEFAULT_ACCOUNT, region, code, value)
    }

    /// [`Self::set_quota_value`] for another account.
    pub fn set_quota_value_of(&self, account: &str, region: &str, code: &str, value: f64) -> bool {
        self.mutate_account(account, |a| set_value(a, region, code, value))
    }

    /// Every quota increase request, all accounts and Regions, in the order they were made.
    pub fn quota_requests(&self) -> Vec<QuotaRequest> {
        self.collect(|a| a.quota_requests.clone())
    }

    /// Moves the request `id` (any account) to `status`, as AWS support does; `APPROVED` also
    /// sets the quota's applied value to the desired value (the Service Quotas user guide: an
    /// approved request raises the applied quota). False when there is no such request.
    pub fn set_quota_request_status(&self, id: &str, status: &str) -> bool {
        assert!(
            REQUEST_STATUSES.contains(&status),
            "not a request status: {status}"
        );
        let mut state = self.lock();
        for acct in state.accounts.values_mut() {
            let Some(r) = acct.quota_requests.iter_mut().find(|r| r.id == id) else {
                continue;
            };
            r.status = status.to_string();
            r.last_updated = epoch_seconds();
            let (region, code, value) = (r.region.clone(), r.quota_code.clone(), r.desired_value);
            if status == "APPROVED" {
                set_value(acct, &region, &code, value);
            }
            return true;
        }
        false
    }

    pub(super) fn service_quotas_op(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("ServiceQuotasV20190624.")?;
        let handler: fn(&mut AccountState, &Ctx, &Value) -> Result<Value, Reply> = match op {
            "ListServiceQuotas" => list_service_quotas,
            "GetServiceQuota" => get_service_quota,
            "RequestServiceQuotaIncrease" => request_increase,
            "ListRequestedServiceQuotaChangeHistory" => list_history,
            "ListRequestedServiceQuotaChangeHistoryByQuota" => list_history_by_quota,
            _ => return None,
        };
        let body = match request.json() {
            Some(body) if body.is_object() => body,
            _ => {
                return Some(sq_error(
                    "SerializationException",
                    "The request body is not a JSON object.",
                ));
            }
        };
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let acct = state.account(&ctx.account);
        Some(
            handler(acct, &ctx, &body)
                .map(json_ok)
                .unwrap_or_else(|e| e),
        )
    }
}

fn set_value(acct: &mut AccountState, region: &str, code: &str, value: f64) -> bool {
    acct.bedrock_quotas
        .get_mut(region)
        .and_then(|qs| qs.iter_mut().find(|q| q.code == code))
        .map(|q| q.value = value)
        .is_some()
}

/// Service Quotas API reference, ServiceQuota: `ServiceCode`, `ServiceName`, `QuotaArn`
/// (`arn:aws:servicequotas:<region>:<account>:bedrock/<code>`, the form AWS returns),
/// `QuotaCode`, `QuotaName`, `Value`, `Unit` (`None` for Bedrock's quotas, as AWS returns
/// them), `Adjustable`, `GlobalQuota`, `QuotaAppliedAtLevel`. Bedrock's quotas have no
/// `UsageMetric` or `Period` (none in live reads), so none is sent.
fn quota_json(q: &AppliedQuota, ctx: &Ctx) -> Value {
    json!({
        "ServiceCode": BEDROCK,
        "ServiceName": BEDROCK_SERVICE_NAME,
        "QuotaArn": quota_arn(ctx, &q.code),
        "QuotaCode": q.code,
        "QuotaName": q.name,
        "Value": q.value,
        "Unit": "None",
        "Adjustable": q.adjustable,
        "GlobalQuota": false,
        "QuotaAppliedAtLevel": "ACCOUNT",
    })
}

fn quota_arn(ctx: &Ctx, code: &str) -> String {
    format!(
        "arn:aws:servicequotas:{}:{}:{BEDROCK}/{code}",
        ctx.region, ctx.account
    )
}

/// Service Quotas API reference, RequestedServiceQuotaChange. No `CaseId` (no support case is
/// opened here), no `Requester` (the stand-in does not know the caller's identity).
fn request_json(r: &QuotaRequest, ctx: &Ctx) -> Value {
    json!({
        "Id": r.id,
        "ServiceCode": r.service_code,
        "ServiceName": BEDROCK_SERVICE_NAME,
        "QuotaCode": r.quota_code,
        "QuotaName": r.quota_name,
        "DesiredValue": r.desired_value,
        "Status": r.status,
        "Created": r.created,
        "LastUpdated": r.last_updated,
        "QuotaArn": quota_arn(ctx, &r.quota_code),
        "GlobalQuota": false,
        "Unit": "None",
        "QuotaRequestedAtLevel": "ACCOUNT",
    })
}

fn service_code(body: &Value, required: bool) -> Result<Option<&str>, Reply> {
    let code = if required {
        Some(required_str(body, "ServiceCode", "serviceCode").map_err(illegal)?)
    } else {
        optional_str(body, "ServiceCode", "serviceCode").map_err(illegal)?
    };
    if let Some(c) = code {
        check_string(c, "serviceCode", 1, 63, pat(&SERVICE_CODE)).map_err(illegal)?;
        if c != BEDROCK {
            return Err(no_such_service());
        }
    }
    Ok(code)
}

fn quota_code(body: &Value) -> Result<&str, Reply> {
    let code = required_str(body, "QuotaCode", "quotaCode").map_err(illegal)?;
    check_string(code, "quotaCode", 1, 128, pat(&QUOTA_CODE)).map_err(illegal)?;
    Ok(code)
}

/// MaxResults (1–100) and NextToken (up to 2048 characters of its pattern) of a listing.
fn paging(body: &Value) -> Result<(usize, Option<&str>), Reply> {
    let max = match &body["MaxResults"] {
        Value::Null => DEFAULT_PAGE,
        v => match v.as_i64() {
            Some(n) if n < 1 => {
                return Err(illegal(constraint_message(
                    &v.to_string(),
                    "maxResults",
                    "Member must have value greater than or equal to 1",
                )));
            }
            Some(n) if n > MAX_RESULTS => {
                return Err(illegal(constraint_message(
                    &v.to_string(),
                    "maxResults",
                    &format!("Member must have value less than or equal to {MAX_RESULTS}"),
                )));
            }
            Some(n) => n as usize,
            None => {
                return Err(illegal(format!(
                    "Value {v} at 'maxResults' is not an integer"
                )));
            }
        },
    };
    let token = optional_str(body, "NextToken", "nextToken").map_err(illegal)?;
    if let Some(t) = token {
        check_string(t, "nextToken", 0, 2048, pat(&NEXT_TOKEN)).map_err(illegal)?;
    }
    Ok((max, token))
}

fn level<'a>(body: &'a Value, key: &str, field: &str) -> Result<&'a str, Reply> {
    let level = optional_str(body, key, field)
        .map_err(illegal)?
        .unwrap_or("ACCOUNT");
    check_enum(level, field, &APPLIED_LEVELS).map_err(illegal)?;
    Ok(level)
}

/// A page of `items` (JSON) under `list_key`, with `NextToken` when more follow.
fn paged(
    items: &[Value],
    max: usize,
    token: Option<&str>,
    scope: &str,
    list_key: &str,
) -> Result<Value, Reply> {
    let (items, next) = page(items, token, max, scope).map_err(|()| bad_token())?;
    let mut out = json!({ (list_key): items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

/// Service Quotas API reference, ListServiceQuotas: `ServiceCode` required; `QuotaCode` narrows
/// to one quota; `QuotaAppliedAtLevel` ACCOUNT (the default), RESOURCE or ALL (Bedrock's quotas
/// are all applied at the account level, so RESOURCE lists none); paged by `MaxResults` and
/// `NextToken`; answers `Quotas` and `NextToken` ("You should repeat this until the NextToken
/// response element comes back as null").
fn list_service_quotas(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    service_code(body, true)?;
    let (max, token) = paging(body)?;
    let code = match &body["QuotaCode"] {
        Value::Null => None,
        _ => Some(quota_code(body)?),
    };
    let level = level(body, "QuotaAppliedAtLevel", "quotaAppliedAtLevel")?;
    let items: Vec<Value> = acct
        .bedrock_quotas
        .get(&ctx.region)
        .into_iter()
        .flatten()
        .filter(|q| code.is_none_or(|c| q.code == c))
        .filter(|_| level != "RESOURCE")
        .map(|q| quota_json(q, ctx))
        .collect();
    let scope = format!("ListServiceQuotas|{}|{code:?}|{level}", ctx.region);
    paged(&items, max, token, &scope, "Quotas")
}

/// Service Quotas API reference, GetServiceQuota: `ServiceCode` and `QuotaCode` required
/// (`ContextId` is for resource-level quotas, which Bedrock's are not); answers `Quota`.
fn get_service_quota(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    service_code(body, true)?;
    let code = quota_code(body)?;
    optional_str(body, "ContextId", "contextId").map_err(illegal)?;
    let quota = find_quota(acct, ctx, code)?;
    Ok(json!({ "Quota": quota_json(quota, ctx) }))
}

fn find_quota<'a>(
    acct: &'a AccountState,
    ctx: &Ctx,
    code: &str,
) -> Result<&'a AppliedQuota, Reply> {
    acct.bedrock_quotas
        .get(&ctx.region)
        .and_then(|qs| qs.iter().find(|q| q.code == code))
        .ok_or_else(no_such_quota)
}

/// Service Quotas API reference, RequestServiceQuotaIncrease: `ServiceCode`, `QuotaCode` and
/// `DesiredValue` (0–10000000000) required; records the request and answers `RequestedQuota`.
/// Status PENDING, or NOT_APPROVED when `SupportCaseAllowed` is false ("If you set the flag to
/// False, Amazon Web Services does not open a support case and updates the request status to
/// Not approved").
///
/// Refusals, in this order (the order is not documented):
/// - a quota that is not adjustable: IllegalArgumentException (the error AWS sends is not
///   documented; chosen as "Invalid input");
/// - an open request for the same quota: ResourceAlreadyExistsException, "Only one open service
///   quota increase request is allowed per quota." (terraform-provider-aws issue #19657);
/// - a value not above the applied one: IllegalArgumentException, "You must provide a quota
///   value greater than the current quota value" (cloud-custodian PR #8939).
///
/// QuotaExceededException (too many open requests) is not modelled: its limit is not
/// documented.
fn request_increase(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    service_code(body, true)?;
    let code = quota_code(body)?.to_string();
    let desired = match &body["DesiredValue"] {
        Value::Null => return Err(illegal(super::common::missing("desiredValue"))),
        v => v
            .as_f64()
            .ok_or_else(|| illegal(format!("Value {v} at 'desiredValue' is not a number")))?,
    };
    if !(0.0..=MAX_QUOTA_VALUE).contains(&desired) {
        return Err(illegal(constraint_message(
            &desired.to_string(),
            "desiredValue",
            "Member must have value between 0 and 10000000000",
        )));
    }
    optional_str(body, "ContextId", "contextId").map_err(illegal)?;
    let support_case_allowed = match &body["SupportCaseAllowed"] {
        Value::Null => true,
        Value::Bool(b) => *b,
        v => {
            return Err(illegal(format!(
                "Value {v} at 'supportCaseAllowed' is not a boolean"
            )));
        }
    };
    let quota = find_quota(acct, ctx, &code)?.clone();
    if !quota.adjustable {
        return Err(illegal(format!(
            "The quota {code} ({}) is not adjustable.",
            quota.name
        )));
    }
    let open = acct.quota_requests.iter().any(|r| {
        r.region == ctx.region && r.quota_code == code && OPEN_STATUSES.contains(&r.status.as_str())
    });
    if open {
        return Err(sq_error(
            "ResourceAlreadyExistsException",
            "Only one open service quota increase request is allowed per quota.",
        ));
    }
    if desired <= quota.value {
        return Err(illegal(
            "You must provide a quota value greater than the current quota value".into(),
        ));
    }
    let now = epoch_seconds();
    let r = QuotaRequest {
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        id: uuid().replace('-', ""),
        service_code: BEDROCK.to_string(),
        quota_code: code,
        quota_name: quota.name,
        desired_value: desired,
        status: if support_case_allowed {
            "PENDING"
        } else {
            "NOT_APPROVED"
        }
        .to_string(),
        support_case_allowed,
        created: now,
        last_updated: now,
    };
    let out = json!({ "RequestedQuota": request_json(&r, ctx) });
    acct.quota_requests.push(r);
    Ok(out)
}

/// The filters both history listings share: `Status` (a RequestStatus) and
/// `QuotaRequestedAtLevel` (ACCOUNT by default; the requests here are all account-level).
fn history(
    acct: &AccountState,
    ctx: &Ctx,
    body: &Value,
    quota: Option<&str>,
    operation: &str,
) -> Result<Value, Reply> {
    let (max, token) = paging(body)?;
    let status = optional_str(body, "Status", "status").map_err(illegal)?;
    if let Some(s) = status {
        check_enum(s, "status", &REQUEST_STATUSES).map_err(illegal)?;
    }
    let level = level(body, "QuotaRequestedAtLevel", "quotaRequestedAtLevel")?;
    // Newest first, as the console lists them (the order is not documented).
    let items: Vec<Value> = acct
        .quota_requests
        .iter()
        .rev()
        .filter(|r| r.region == ctx.region)
        .filter(|r| quota.is_none_or(|q| r.quota_code == q))
        .filter(|r| status.is_none_or(|s| r.status == s))
        .filter(|_| level != "RESOURCE")
        .map(|r| request_json(r, ctx))
        .collect();
    let scope = format!("{operation}|{}|{quota:?}|{status:?}|{level}", ctx.region);
    paged(&items, max, token, &scope, "RequestedQuotas")
}

/// Service Quotas API reference, ListRequestedServiceQuotaChangeHistory: "Retrieves the quota
/// increase requests for the specified Amazon Web Service"; `ServiceCode` optional (all
/// services without it), `Status`, `QuotaRequestedAtLevel`, `MaxResults`, `NextToken`; answers
/// `RequestedQuotas` and `NextToken`.
fn list_history(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    service_code(body, false)?;
    history(
        acct,
        ctx,
        body,
        None,
        "ListRequestedServiceQuotaChangeHistory",
    )
}

/// Service Quotas API reference, ListRequestedServiceQuotaChangeHistoryByQuota: "Retrieves the
/// quota increase requests for the specified quota"; `ServiceCode` and `QuotaCode` required
/// (NoSuchResourceException for a quota the service does not have), the same filters and
/// paging as the listing above.
fn list_history_by_quota(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    service_code(body, true)?;
    let code = quota_code(body)?;
    find_quota(acct, ctx, code)?;
    history(
        acct,
        ctx,
        body,
        Some(code),
        "ListRequestedServiceQuotaChangeHistoryByQuota",
    )
}
