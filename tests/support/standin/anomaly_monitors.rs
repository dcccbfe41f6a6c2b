//! Cost Explorer: Cost Anomaly Detection's anomaly monitors.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::common::{
    check_enum, check_string, json_error, missing, optional_list, optional_str, page, required_str,
    today, uuid,
};
use super::cost_explorer::{
    CE_DEFAULT_PAGE, CE_MAX_TAGS, MAX_CUSTOM_MONITORS, ce_tags, ce_validation, expression_root,
    expression_values, invalid_next_token, max_results, string_list, too_many_ce_tags,
    unknown_monitor,
};
use super::{AccountState, Ctx, DEFAULT_ACCOUNT, Reply, StandIn};

/// A cost anomaly monitor.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalyMonitor {
    pub account: String,
    pub arn: String,
    pub name: String,
    /// `DIMENSIONAL` or `CUSTOM`.
    pub monitor_type: String,
    pub dimension: Option<String>,
    /// The `MonitorSpecification` expression as given.
    pub specification: Option<Value>,
    pub tags: BTreeMap<String, String>,
    pub created: String,
    pub updated: String,
}

impl StandIn {
    /// Adds a DIMENSIONAL SERVICE monitor (an "AWS services monitor") to the default account, as
    /// if someone had created it before the tool ran. Returns its ARN.
    pub fn add_dimensional_service_monitor(&self, name: &str) -> String {
        self.add_dimensional_service_monitor_to(DEFAULT_ACCOUNT, name)
    }

    /// [`Self::add_dimensional_service_monitor`] for another account.
    pub fn add_dimensional_service_monitor_to(&self, account: &str, name: &str) -> String {
        let monitor = AnomalyMonitor {
            account: account.to_string(),
            arn: format!("arn:aws:ce::{account}:anomalymonitor/{}", uuid()),
            name: name.to_string(),
            monitor_type: "DIMENSIONAL".into(),
            dimension: Some("SERVICE".into()),
            specification: None,
            tags: BTreeMap::new(),
            created: today(),
            updated: today(),
        };
        let arn = monitor.arn.clone();
        self.mutate_account(account, |acct| acct.anomaly_monitors.push(monitor));
        arn
    }

    pub fn anomaly_monitors(&self) -> Vec<AnomalyMonitor> {
        self.collect(|a| a.anomaly_monitors.clone())
    }
}

/// Cost Explorer API reference, AnomalyMonitor:
/// - `MonitorType` DIMENSIONAL (AWS managed) or CUSTOM (customer managed);
/// - `MonitorDimension` (SERVICE, LINKED_ACCOUNT, TAG, COST_CATEGORY): "For customer managed
///   monitors, do not specify this field. For Amazon Web Services managed monitors, this field
///   controls which cost dimension is automatically analyzed by the monitor. For TAG and
///   COST_CATEGORY dimensions, you must also specify MonitorSpecification";
/// - `MonitorSpecification`: for AWS managed monitors, "If MonitorDimension is SERVICE or
///   LINKED_ACCOUNT, do not specify this field", TAG → `{ "Tags": { "Key": … } }`, COST_CATEGORY →
///   `{ "CostCategories": { "Key": … } }`; for customer managed monitors, `{ "Dimensions": {
///   "Key": "LINKED_ACCOUNT", "Values": [up to 10 account IDs] } }`, `{ "Tags": { "Key": …,
///   "Values": [up to 10 values] } }` or `{ "CostCategories": { "Key": …, "Values": [...] } }`.
///
/// The messages are not documented.
fn check_monitor(
    monitor_type: &str,
    dimension: Option<&str>,
    spec: Option<&Value>,
) -> Result<(), String> {
    check_enum(
        monitor_type,
        "anomalyMonitor.monitorType",
        &["DIMENSIONAL", "CUSTOM"],
    )?;
    if monitor_type == "DIMENSIONAL" {
        let Some(d) = dimension else {
            return Err("MonitorDimension is required for a DIMENSIONAL monitor.".into());
        };
        check_enum(
            d,
            "anomalyMonitor.monitorDimension",
            &["SERVICE", "LINKED_ACCOUNT", "TAG", "COST_CATEGORY"],
        )?;
        let keyed = |root: &str| -> Result<(), String> {
            let Some(spec) = spec else {
                return Err(format!(
                    "A DIMENSIONAL monitor on {d} needs a MonitorSpecification naming the {root} key."
                ));
            };
            let ok = expression_root(spec)? == root
                && spec[root]["Key"].as_str().is_some_and(|k| !k.is_empty())
                && spec[root]["Values"].is_null();
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "The MonitorSpecification of a DIMENSIONAL monitor on {d} must be {{ \"{root}\": {{ \"Key\": \"...\" }} }}."
                ))
            }
        };
        return match d {
            "TAG" => keyed("Tags"),
            "COST_CATEGORY" => keyed("CostCategories"),
            _ if spec.is_some() => Err(format!(
                "MonitorSpecification must not be specified for a DIMENSIONAL monitor on {d}."
            )),
            _ => Ok(()),
        };
    }
    if dimension.is_some() {
        return Err("MonitorDimension must not be specified for a CUSTOM monitor.".into());
    }
    let Some(spec) = spec else {
        return Err("MonitorSpecification is required for a CUSTOM monitor.".into());
    };
    let root = expression_root(spec)?;
    let part = &spec[root];
    let values = expression_values(part);
    let key = part["Key"].as_str().unwrap_or_default();
    match root {
        "Dimensions" if key == "LINKED_ACCOUNT" => {
            if values.is_empty() || values.len() > 10 {
                return Err("A CUSTOM monitor on LINKED_ACCOUNT tracks 1 to 10 account IDs.".into());
            }
            if let Some(bad) = values
                .iter()
                .find(|v| v.len() != 12 || !v.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(format!("{bad} is not an account ID."));
            }
            Ok(())
        }
        "Tags" if !key.is_empty() => {
            if values.is_empty() || values.len() > 10 {
                return Err("A CUSTOM monitor on a tag tracks 1 to 10 tag values.".into());
            }
            Ok(())
        }
        "CostCategories" if !key.is_empty() => {
            if values.is_empty() {
                return Err("A CUSTOM monitor on a cost category tracks at least one value.".into());
            }
            Ok(())
        }
        _ => Err("The MonitorSpecification of a CUSTOM monitor must be one Dimensions (LINKED_ACCOUNT), Tags or CostCategories expression with a Key and Values.".into()),
    }
}

/// Billing and Cost Management user guide, "Getting started with AWS Cost Anomaly Detection":
/// "Cost monitors for linked accounts, cost allocation tags, and cost categories can only be
/// created in the management account". A member account can create only a DIMENSIONAL SERVICE
/// monitor. The error AWS returns is not documented; the stand-in answers AccessDeniedException
/// (HTTP 400), as Cost Explorer does for the cost-allocation-tag operations.
fn member_may_create(monitor_type: &str, dimension: Option<&str>) -> bool {
    monitor_type == "DIMENSIONAL" && dimension == Some("SERVICE")
}

fn monitor_json(m: &AnomalyMonitor) -> Value {
    let mut v = json!({
        "MonitorArn": m.arn,
        "MonitorName": m.name,
        "CreationDate": m.created,
        "LastUpdatedDate": m.updated,
        "MonitorType": m.monitor_type,
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(d) = &m.dimension {
            o.insert("MonitorDimension".into(), json!(d));
        }
        if let Some(s) = &m.specification {
            o.insert("MonitorSpecification".into(), s.clone());
        }
        if m.monitor_type == "DIMENSIONAL" {
            o.insert("DimensionalValueCount".into(), json!(0));
        }
    }
    v
}

/// Cost Explorer API reference, CreateAnomalyMonitor: `AnomalyMonitor` (`MonitorName` and
/// `MonitorType` required) and optional `ResourceTags`; answers `MonitorArn`.
///
/// Only one DIMENSIONAL monitor per dimension per account: a second is refused with
/// `ValidationException` "Limit exceeded on dimensional spend monitor creation" (the service's
/// answer quoted in aws-cloudformation/cloudformation-coverage-roadmap#2515, "the per-account
/// quota of 1 DIMENSIONAL monitor per dimension"; the stand-in applies it per dimension whatever
/// the TAG or COST_CATEGORY key). Past [`MAX_CUSTOM_MONITORS`] CUSTOM monitors the stand-in
/// answers ServiceQuotaExceededException (the error AWS uses is not documented).
pub(super) fn create_monitor(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let monitor = &body["AnomalyMonitor"];
    if monitor.is_null() {
        return Err(ce_validation(missing("anomalyMonitor")));
    }
    let name = required_str(monitor, "MonitorName", "anomalyMonitor.monitorName")
        .map_err(ce_validation)?;
    check_string(name, "anomalyMonitor.monitorName", 0, 1024, None).map_err(ce_validation)?;
    let monitor_type = required_str(monitor, "MonitorType", "anomalyMonitor.monitorType")
        .map_err(ce_validation)?;
    let dimension = optional_str(
        monitor,
        "MonitorDimension",
        "anomalyMonitor.monitorDimension",
    )
    .map_err(ce_validation)?;
    let spec =
        (!monitor["MonitorSpecification"].is_null()).then(|| &monitor["MonitorSpecification"]);
    check_monitor(monitor_type, dimension, spec).map_err(ce_validation)?;
    let tags = ce_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(ce_validation)?,
        "resourceTags",
    )?;
    if acct.member && !member_may_create(monitor_type, dimension) {
        return Err(json_error(
            400,
            "AccessDeniedException",
            "Linked account doesn't have access to monitors of linked accounts, cost allocation tags or cost categories; create them in the management account.",
            Value::Null,
        ));
    }
    if monitor_type == "DIMENSIONAL"
        && acct
            .anomaly_monitors
            .iter()
            .any(|m| m.monitor_type == "DIMENSIONAL" && m.dimension.as_deref() == dimension)
    {
        return Err(ce_validation(
            "Limit exceeded on dimensional spend monitor creation".into(),
        ));
    }
    if monitor_type == "CUSTOM"
        && acct
            .anomaly_monitors
            .iter()
            .filter(|m| m.monitor_type == "CUSTOM")
            .count()
            >= MAX_CUSTOM_MONITORS
    {
        return Err(json_error(
            400,
            "ServiceQuotaExceededException",
            &format!(
                "You've reached the limit of {MAX_CUSTOM_MONITORS} custom cost anomaly monitors."
            ),
            Value::Null,
        ));
    }
    let tags: BTreeMap<String, String> = tags.into_iter().collect();
    let arn = format!("arn:aws:ce::{}:anomalymonitor/{}", ctx.account, uuid());
    if tags.len() > CE_MAX_TAGS {
        return Err(too_many_ce_tags(&arn));
    }
    acct.anomaly_monitors.push(AnomalyMonitor {
        account: ctx.account.clone(),
        arn: arn.clone(),
        name: name.to_string(),
        monitor_type: monitor_type.to_string(),
        dimension: dimension.map(str::to_string),
        specification: spec.cloned(),
        tags,
        created: today(),
        updated: today(),
    });
    Ok(json!({ "MonitorArn": arn }))
}

/// Cost Explorer API reference, GetAnomalyMonitors: optional `MonitorArnList` filter
/// (UnknownMonitorException for an ARN the account does not have), `MaxResults`,
/// `NextPageToken` (InvalidNextTokenException).
pub(super) fn get_monitors(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let arns = string_list(body, "MonitorArnList")?;
    if let Some(unknown) = arns
        .iter()
        .find(|a| !acct.anomaly_monitors.iter().any(|m| m.arn == **a))
    {
        return Err(unknown_monitor(unknown));
    }
    let max = max_results(body, "MaxResults", i64::from(i32::MAX), CE_DEFAULT_PAGE)?;
    let token = optional_str(body, "NextPageToken", "nextPageToken").map_err(ce_validation)?;
    let items: Vec<Value> = acct
        .anomaly_monitors
        .iter()
        .filter(|m| arns.is_empty() || arns.contains(&m.arn.as_str()))
        .map(monitor_json)
        .collect();
    let scope = format!("GetAnomalyMonitors|{arns:?}");
    let (items, next) = page(&items, token, max, &scope).map_err(|()| invalid_next_token())?;
    let mut out = json!({ "AnomalyMonitors": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextPageToken".into(), json!(next));
    }
    Ok(out)
}

fn monitor_index(acct: &AccountState, body: &Value) -> Result<usize, Reply> {
    let arn = required_str(body, "MonitorArn", "monitorArn").map_err(ce_validation)?;
    acct.anomaly_monitors
        .iter()
        .position(|m| m.arn == arn)
        .ok_or_else(|| unknown_monitor(arn))
}

/// Cost Explorer API reference, UpdateAnomalyMonitor: `MonitorArn` required, `MonitorName` the
/// only thing that can change; UnknownMonitorException.
pub(super) fn update_monitor(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = monitor_index(acct, body)?;
    let name = optional_str(body, "MonitorName", "monitorName").map_err(ce_validation)?;
    let monitor = &mut acct.anomaly_monitors[i];
    if let Some(name) = name {
        check_string(name, "monitorName", 0, 1024, None).map_err(ce_validation)?;
        monitor.name = name.to_string();
        monitor.updated = today();
    }
    Ok(json!({ "MonitorArn": monitor.arn }))
}

/// Cost Explorer API reference, DeleteAnomalyMonitor: UnknownMonitorException when absent.
/// (What becomes of subscriptions that list the monitor is not documented; they are left as
/// they are.)
pub(super) fn delete_monitor(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = monitor_index(acct, body)?;
    acct.anomaly_monitors.remove(i);
    Ok(json!({}))
}
