//! Data Exports (awsJson 1.1, `X-Amz-Target: AWSBillingAndCostManagementDataExports.<Op>`,
//! signing name `bcm-data-exports`, us-east-1 only). The checks of an export's definition are
//! in `data_export_input.rs`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::common::{
    check_string, constraint_message, json_error, json_ok, missing, now_iso, optional_list,
    optional_str, page, pat, required_str, uuid,
};
use super::cost_explorer::max_results;
use super::data_export_input::{EXPORT_ARN, parse_export_input, parse_query};
use super::{AccountState, Ctx, Reply, StandIn, StrictRequest};

/// Data Exports is served in this region only (API reference: "The Data Exports API provides the
/// following endpoint: https://bcm-data-exports.us-east-1.api.aws").
pub const DATA_EXPORTS_REGION: &str = "us-east-1";

/// A Data Exports export.
#[derive(Clone, Debug, PartialEq)]
pub struct DataExport {
    pub account: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub query: String,
    /// `DataQuery.TableConfigurations` as the last create or update set it (GetExport adds
    /// `BILLING_VIEW_ARN` on read; see [`StandIn::exports`]).
    pub table_configurations: BTreeMap<String, BTreeMap<String, String>>,
    /// `DestinationConfigurations` as given.
    pub destination: Value,
    /// `RefreshCadence` as given.
    pub refresh_cadence: Value,
    pub tags: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
}

impl StandIn {
    /// Sets (or clears) the description of the default account's export named `name`.
    pub fn set_export_description(&self, name: &str, description: Option<&str>) -> bool {
        self.mutate(|acct| {
            acct.exports
                .iter_mut()
                .find(|e| e.name == name)
                .map(|e| {
                    e.description = description.map(str::to_string);
                    e.updated_at = now_iso();
                })
                .is_some()
        })
    }

    /// Replaces the query statement of the default account's export named `name`, as an export
    /// made by an earlier release (or edited in the console) would have it. False when there
    /// is no such export.
    pub fn set_export_query(&self, name: &str, query: &str) -> bool {
        self.mutate(|acct| {
            acct.exports
                .iter_mut()
                .find(|e| e.name == name)
                .map(|e| {
                    e.query = query.to_string();
                    e.updated_at = now_iso();
                })
                .is_some()
        })
    }

    /// Sets a property of the CUR 2.0 table configuration of the default account's export named
    /// `name`, as AWS does on its own when a table version brings a new property (for example
    /// `INCLUDE_CAPACITY_RESERVATION_DATA`). False when there is no such export.
    pub fn set_export_table_property(&self, name: &str, key: &str, value: &str) -> bool {
        self.mutate(|acct| {
            acct.exports
                .iter_mut()
                .find(|e| e.name == name)
                .map(|e| {
                    e.table_configurations
                        .entry(CUR2_TABLE.to_string())
                        .or_default()
                        .insert(key.to_string(), value.to_string());
                })
                .is_some()
        })
    }

    /// Every export, with its table configurations as GetExport shows them (`BILLING_VIEW_ARN`
    /// added).
    pub fn exports(&self) -> Vec<DataExport> {
        self.collect(|a| {
            a.exports
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.table_configurations = table_configurations_as_read(&e);
                    e
                })
                .collect()
        })
    }
}

const DATA_EXPORTS_OPERATIONS: [&str; 8] = [
    "CreateExport",
    "GetExport",
    "ListExports",
    "UpdateExport",
    "DeleteExport",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// The CUR 2.0 table (Data Exports user guide, table dictionary: "The SQL table name for CUR
/// 2.0 is COST_AND_USAGE_REPORT").
pub(super) const CUR2_TABLE: &str = "COST_AND_USAGE_REPORT";

/// Data Exports user guide, "Creating data exports": "You can create the following number of
/// exports per table: Cost and Usage Report 2.0 (CUR 2.0): 5 exports".
const MAX_CUR2_EXPORTS: usize = 5;

/// ListExports / ListTagsForResource page size without `MaxResults` (not documented).
const DATA_EXPORTS_DEFAULT_PAGE: usize = 20;

pub(super) fn exports_validation(message: String) -> Reply {
    json_error(
        400,
        "ValidationException",
        &message,
        json!({ "Reason": "fieldValidationFailed" }),
    )
}

fn export_not_found(arn: &str) -> Reply {
    json_error(
        400,
        "ResourceNotFoundException",
        &format!("The specified Amazon Resource Name (ARN) in the request doesn't exist: {arn}"),
        json!({ "ResourceId": arn, "ResourceType": "Export" }),
    )
}

/// The table configurations GetExport shows: those set, plus `BILLING_VIEW_ARN` for CUR 2.0.
/// AWS adds `arn:aws:billing::{account}:billingview/primary` when the request did not set it
/// (hashicorp/terraform-provider-aws#43978 and PR #43983: "if COST_AND_USAGE_REPORT.
/// BILLING_VIEW_ARN is not included in table_configuration, it is automatically added in the
/// refreshed state").
pub(super) fn table_configurations_as_read(
    e: &DataExport,
) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut configs = e.table_configurations.clone();
    if parse_query(&e.query).is_some_and(|(_, t)| t.eq_ignore_ascii_case(CUR2_TABLE)) {
        configs
            .entry(CUR2_TABLE.to_string())
            .or_default()
            .entry("BILLING_VIEW_ARN".to_string())
            .or_insert_with(|| format!("arn:aws:billing::{}:billingview/primary", e.account));
    }
    configs
}

/// Data Exports API reference, ResourceTag: keys 1–128 and values 0–256 characters, at most 200
/// in a list. (No per-export tag limit is documented.)
fn export_tags(list: &[Value], field: &str) -> Result<Vec<(String, String)>, Reply> {
    if list.len() > 200 {
        return Err(exports_validation(constraint_message(
            &format!("[{} tags]", list.len()),
            field,
            "Member must have length less than or equal to 200",
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, tag)| {
            let at = |m: &str| format!("{field}.{}.member.{m}", i + 1);
            let key = required_str(tag, "Key", &at("key")).map_err(exports_validation)?;
            check_string(key, &at("key"), 1, 128, None).map_err(exports_validation)?;
            let value = required_str(tag, "Value", &at("value")).map_err(exports_validation)?;
            check_string(value, &at("value"), 0, 256, None).map_err(exports_validation)?;
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

fn export_json(e: &DataExport) -> Value {
    let mut v = json!({
        "ExportArn": e.arn,
        "Name": e.name,
        "DataQuery": {
            "QueryStatement": e.query,
            "TableConfigurations": table_configurations_as_read(e),
        },
        "DestinationConfigurations": e.destination,
        "RefreshCadence": e.refresh_cadence,
    });
    if let (Some(d), Some(o)) = (&e.description, v.as_object_mut()) {
        o.insert("Description".into(), json!(d));
    }
    v
}

fn export_status_json(e: &DataExport) -> Value {
    json!({
        "StatusCode": "HEALTHY",
        "CreatedAt": e.created_at,
        "LastUpdatedAt": e.updated_at,
    })
}

impl StandIn {
    pub(super) fn data_exports(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("AWSBillingAndCostManagementDataExports.")?;
        if !DATA_EXPORTS_OPERATIONS.contains(&op) {
            return None;
        }
        let body = match request.json() {
            Some(body) if body.is_object() => body,
            _ => {
                return Some(json_error(
                    400,
                    "SerializationException",
                    "The request body is not a JSON object.",
                    Value::Null,
                ));
            }
        };
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        // The service has one endpoint, in us-east-1 (API reference). A request signed for
        // another Region is a signature error there; the message is AWS's usual one for a
        // credential scope naming the wrong Region.
        if ctx.region != DATA_EXPORTS_REGION {
            return Some(json_error(
                403,
                "InvalidSignatureException",
                &format!(
                    "Credential should be scoped to a valid region, not '{}'.",
                    ctx.region
                ),
                Value::Null,
            ));
        }
        let acct = state.account(&ctx.account);
        let result = match op {
            "CreateExport" => create_export(acct, &ctx, &body),
            "GetExport" => get_export(acct, &body),
            "ListExports" => list_exports(acct, &body),
            "UpdateExport" => update_export(acct, &ctx, &body),
            "DeleteExport" => delete_export(acct, &body),
            "TagResource" => tag_export(acct, &body),
            "UntagResource" => untag_export(acct, &body),
            "ListTagsForResource" => list_export_tags(acct, &body),
            _ => return None,
        };
        Some(result.map(json_ok).unwrap_or_else(|e| e))
    }
}

/// The export an `ExportArn` / `ResourceArn` names (API reference, Arn: 20–2048 characters of
/// `arn:aws[-a-z0-9]*:(bcm-data-exports):[-a-z0-9]*:[0-9]{12}:[-a-zA-Z0-9/:_]+`);
/// ResourceNotFoundException when the account has no such export.
fn export_index(acct: &AccountState, body: &Value, key: &str, field: &str) -> Result<usize, Reply> {
    let arn = required_str(body, key, field).map_err(exports_validation)?;
    check_string(arn, field, 20, 2048, pat(&EXPORT_ARN)).map_err(exports_validation)?;
    acct.exports
        .iter()
        .position(|e| e.arn == arn)
        .ok_or_else(|| export_not_found(arn))
}

/// The export names are unique in an account: the stand-in refuses a second export of the same
/// name with ValidationException (the ARN embeds the name; AWS's exact answer is not
/// documented).
fn check_name_free(acct: &AccountState, name: &str, except: Option<usize>) -> Result<(), Reply> {
    if acct
        .exports
        .iter()
        .enumerate()
        .any(|(i, e)| e.name == name && Some(i) != except)
    {
        return Err(exports_validation(format!(
            "An export named {name} already exists in this account."
        )));
    }
    Ok(())
}

/// Data Exports API reference, CreateExport: `Export` and optional `ResourceTags`; answers
/// `ExportArn`; ServiceQuotaExceededException past the per-table quota.
fn create_export(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let input = parse_export_input(ctx, &body["Export"])?;
    let tags = export_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(exports_validation)?,
        "resourceTags",
    )?;
    check_name_free(acct, &input.name, None)?;
    if acct.exports.len() >= MAX_CUR2_EXPORTS {
        return Err(json_error(
            400,
            "ServiceQuotaExceededException",
            &format!(
                "You've reached the limit of {MAX_CUR2_EXPORTS} exports of the {CUR2_TABLE} table."
            ),
            json!({
                "ResourceType": "Export",
                // Not documented: a descriptive stand-in for the Service Quotas code.
                "QuotaCode": "exports-per-table",
                "ServiceCode": "AWSBillingAndCostManagementDataExports",
            }),
        ));
    }
    let arn = format!(
        "arn:aws:bcm-data-exports:{DATA_EXPORTS_REGION}:{}:export/{}-{}",
        ctx.account,
        input.name,
        uuid()
    );
    let created = now_iso();
    acct.exports.push(DataExport {
        account: ctx.account.clone(),
        arn: arn.clone(),
        name: input.name,
        description: input.description,
        query: input.query,
        table_configurations: input.table_configurations,
        destination: input.destination,
        refresh_cadence: input.refresh_cadence,
        tags: tags.into_iter().collect(),
        created_at: created.clone(),
        updated_at: created,
    });
    Ok(json!({ "ExportArn": arn }))
}

/// Data Exports API reference, GetExport: `Export` and `ExportStatus`;
/// ResourceNotFoundException. The table configurations read back carry `BILLING_VIEW_ARN`
/// (see [`table_configurations_as_read`]).
fn get_export(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let i = export_index(acct, body, "ExportArn", "exportArn")?;
    let e = &acct.exports[i];
    Ok(json!({ "Export": export_json(e), "ExportStatus": export_status_json(e) }))
}

/// Data Exports API reference, ListExports: `MaxResults` 1–300, `NextToken`; `Exports` of
/// `ExportArn`, `ExportName`, `ExportStatus`.
fn list_exports(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let max = match max_results(body, "MaxResults", 300, DATA_EXPORTS_DEFAULT_PAGE) {
        Ok(m) => m,
        Err(_) => {
            return Err(exports_validation(
                "MaxResults must be between 1 and 300.".into(),
            ));
        }
    };
    let token = optional_str(body, "NextToken", "nextToken").map_err(exports_validation)?;
    let items: Vec<Value> = acct
        .exports
        .iter()
        .map(|e| {
            json!({
                "ExportArn": e.arn,
                "ExportName": e.name,
                "ExportStatus": export_status_json(e),
            })
        })
        .collect();
    let (items, next) = page(&items, token, max, "ListExports")
        .map_err(|()| exports_validation("The NextToken is not valid.".into()))?;
    let mut out = json!({ "Exports": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

/// Data Exports API reference, UpdateExport: "Updates an existing data export by overwriting all
/// export parameters. All export parameters must be provided in the UpdateExport request";
/// ResourceNotFoundException. Renaming is refused (not documented; the name is part of the
/// ARN).
fn update_export(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let i = export_index(acct, body, "ExportArn", "exportArn")?;
    let input = parse_export_input(ctx, &body["Export"])?;
    if input.name != acct.exports[i].name {
        return Err(exports_validation(format!(
            "The name of export {} cannot be changed to {}.",
            acct.exports[i].name, input.name
        )));
    }
    check_name_free(acct, &input.name, Some(i))?;
    let e = &mut acct.exports[i];
    e.description = input.description;
    e.query = input.query;
    e.table_configurations = input.table_configurations;
    e.destination = input.destination;
    e.refresh_cadence = input.refresh_cadence;
    e.updated_at = now_iso();
    Ok(json!({ "ExportArn": e.arn }))
}

/// Data Exports API reference, DeleteExport: answers `ExportArn`; ResourceNotFoundException.
fn delete_export(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = export_index(acct, body, "ExportArn", "exportArn")?;
    let removed = acct.exports.remove(i);
    Ok(json!({ "ExportArn": removed.arn }))
}

/// Data Exports API reference, TagResource: `ResourceArn`, `ResourceTags`;
/// ResourceNotFoundException.
fn tag_export(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["ResourceTags"].is_null() {
        return Err(exports_validation(missing("resourceTags")));
    }
    let tags = export_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(exports_validation)?,
        "resourceTags",
    )?;
    let i = export_index(acct, body, "ResourceArn", "resourceArn")?;
    acct.exports[i].tags.extend(tags);
    Ok(json!({}))
}

/// Data Exports API reference, UntagResource: `ResourceTagKeys` (at most 200).
fn untag_export(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["ResourceTagKeys"].is_null() {
        return Err(exports_validation(missing("resourceTagKeys")));
    }
    let keys =
        optional_list(body, "ResourceTagKeys", "resourceTagKeys").map_err(exports_validation)?;
    if keys.len() > 200 {
        return Err(exports_validation(constraint_message(
            &format!("[{} keys]", keys.len()),
            "resourceTagKeys",
            "Member must have length less than or equal to 200",
        )));
    }
    let keys: Vec<String> = keys
        .iter()
        .map(|k| {
            k.as_str().map(str::to_string).ok_or_else(|| {
                exports_validation(format!("Value {k} at 'resourceTagKeys' is not a string"))
            })
        })
        .collect::<Result<_, _>>()?;
    let i = export_index(acct, body, "ResourceArn", "resourceArn")?;
    for key in keys {
        acct.exports[i].tags.remove(&key);
    }
    Ok(json!({}))
}

/// Data Exports API reference, ListTagsForResource: `ResourceTags`, paged by `MaxResults`
/// (1–300) and `NextToken`.
fn list_export_tags(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let i = export_index(acct, body, "ResourceArn", "resourceArn")?;
    let max = max_results(body, "MaxResults", 300, DATA_EXPORTS_DEFAULT_PAGE)
        .map_err(|_| exports_validation("MaxResults must be between 1 and 300.".into()))?;
    let token = optional_str(body, "NextToken", "nextToken").map_err(exports_validation)?;
    let e = &acct.exports[i];
    let items: Vec<Value> = e
        .tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let (items, next) = page(
        &items,
        token,
        max,
        &format!("ListTagsForResource|{}", e.arn),
    )
    .map_err(|()| exports_validation("The NextToken is not valid.".into()))?;
    let mut out = json!({ "ResourceTags": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}
