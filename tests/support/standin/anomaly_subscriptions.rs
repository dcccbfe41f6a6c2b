//! Cost Explorer: Cost Anomaly Detection's anomaly (alert) subscriptions.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::common::{
    check_enum, check_string, constraint_message, missing, optional_list, optional_str, page, pat,
    required_str, uuid,
};
use super::cost_explorer::{
    CE_ARN, CE_DEFAULT_PAGE, CE_MAX_TAGS, MAX_SUBSCRIPTION_MONITORS, SUBSCRIBER_ADDRESS, ce_tags,
    ce_validation, expression_root, expression_values, invalid_next_token, max_results,
    string_list, too_many_ce_tags, unknown_monitor, unknown_subscription,
};
use super::{AccountState, Ctx, Reply, StandIn};

/// A recipient of an anomaly subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct Subscriber {
    pub address: String,
    /// `EMAIL` or `SNS`.
    pub subscriber_type: String,
    pub status: Option<String>,
}

/// A cost anomaly subscription (alert subscription).
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalySubscription {
    pub account: String,
    pub arn: String,
    pub name: String,
    pub monitor_arns: Vec<String>,
    pub subscribers: Vec<Subscriber>,
    /// `DAILY`, `WEEKLY` or `IMMEDIATE`.
    pub frequency: String,
    /// The deprecated `Threshold`, when the last write used it.
    pub threshold: Option<f64>,
    pub threshold_expression: Value,
    pub tags: BTreeMap<String, String>,
}

impl StandIn {
    pub fn anomaly_subscriptions(&self) -> Vec<AnomalySubscription> {
        self.collect(|a| a.anomaly_subscriptions.clone())
    }
}

/// Cost Explorer API reference, AnomalySubscription.ThresholdExpression: "The supported
/// dimensions are ANOMALY_TOTAL_IMPACT_ABSOLUTE and ANOMALY_TOTAL_IMPACT_PERCENTAGE … The
/// supported nested expression types are AND and OR. The match option GREATER_THAN_OR_EQUAL is
/// required. Values must be numbers between 0 and 10,000,000,000 in string format."
fn check_threshold_expression(e: &Value) -> Result<(), String> {
    match expression_root(e)? {
        "Dimensions" => {
            let d = &e["Dimensions"];
            let key = d["Key"].as_str().unwrap_or_default();
            if !matches!(
                key,
                "ANOMALY_TOTAL_IMPACT_ABSOLUTE" | "ANOMALY_TOTAL_IMPACT_PERCENTAGE"
            ) {
                return Err(format!(
                    "ThresholdExpression supports the dimensions ANOMALY_TOTAL_IMPACT_ABSOLUTE and ANOMALY_TOTAL_IMPACT_PERCENTAGE, not {key:?}."
                ));
            }
            if d["MatchOptions"] != json!(["GREATER_THAN_OR_EQUAL"]) {
                return Err(
                    "The match option GREATER_THAN_OR_EQUAL is required in a ThresholdExpression."
                        .into(),
                );
            }
            let values = expression_values(d);
            let [value] = values.as_slice() else {
                return Err("A ThresholdExpression dimension takes exactly one value.".into());
            };
            match value.parse::<f64>() {
                Ok(n) if n.is_finite() && (0.0..=10_000_000_000.0).contains(&n) => Ok(()),
                _ => Err(format!(
                    "ThresholdExpression values must be numbers between 0 and 10,000,000,000 in string format, not {value:?}."
                )),
            }
        }
        op @ ("And" | "Or") => {
            let parts = e[op].as_array().map(Vec::as_slice).unwrap_or_default();
            if parts.len() < 2 {
                return Err(format!(
                    "{op} in a ThresholdExpression joins at least two expressions."
                ));
            }
            parts.iter().try_for_each(check_threshold_expression)
        }
        other => Err(format!(
            "{other} is not supported in a ThresholdExpression; use Dimensions, And or Or."
        )),
    }
}

/// The expression the deprecated `Threshold` stands for (API reference: "Continued use of
/// Threshold will be treated as shorthand syntax for a ThresholdExpression"; it is "An absolute
/// dollar value that must be exceeded by the anomaly's total impact").
fn threshold_as_expression(threshold: f64) -> Value {
    json!({"Dimensions": {
        "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
        "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
        "Values": [format!("{threshold}")],
    }})
}

fn parse_threshold(body: &Value, field: &str) -> Result<Option<f64>, Reply> {
    match &body["Threshold"] {
        Value::Null => Ok(None),
        v => match v.as_f64() {
            Some(n) if n >= 0.0 => Ok(Some(n)),
            _ => Err(ce_validation(constraint_message(
                &v.to_string(),
                field,
                "Member must have value greater than or equal to 0",
            ))),
        },
    }
}

/// Cost Explorer API reference, Subscriber: `Address` 6–302 characters, an email address or an
/// SNS topic ARN "depending on the Type" (EMAIL|SNS); `Status` CONFIRMED|DECLINED.
fn parse_subscribers(list: &[Value], field: &str) -> Result<Vec<Subscriber>, Reply> {
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let at = |m: &str| format!("{field}.{}.member.{m}", i + 1);
        let address = required_str(s, "Address", &at("address")).map_err(ce_validation)?;
        check_string(address, &at("address"), 6, 302, pat(&SUBSCRIBER_ADDRESS))
            .map_err(ce_validation)?;
        let kind = required_str(s, "Type", &at("type")).map_err(ce_validation)?;
        check_enum(kind, &at("type"), &["EMAIL", "SNS"]).map_err(ce_validation)?;
        let is_arn = address.starts_with("arn:");
        if (kind == "SNS") != is_arn {
            return Err(ce_validation(format!(
                "Subscriber address {address} is not valid for subscriber type {kind}."
            )));
        }
        let status = optional_str(s, "Status", &at("status")).map_err(ce_validation)?;
        if let Some(st) = status {
            check_enum(st, &at("status"), &["CONFIRMED", "DECLINED"]).map_err(ce_validation)?;
        }
        out.push(Subscriber {
            address: address.to_string(),
            subscriber_type: kind.to_string(),
            status: status.map(str::to_string),
        });
    }
    Ok(out)
}

/// Cost Explorer API reference, AnomalySubscription.Frequency: "Notifications are sent either
/// over email (for DAILY and WEEKLY frequencies) or SNS (for IMMEDIATE frequency)"; AWS Cost
/// Anomaly Detection FAQ: "For each alert subscription, you can have up to 10 email recipients
/// or 1 SNS topic." The messages are not documented.
fn check_subscribers(frequency: &str, subscribers: &[Subscriber]) -> Result<(), String> {
    check_enum(frequency, "frequency", &["DAILY", "IMMEDIATE", "WEEKLY"])?;
    let emails = subscribers
        .iter()
        .filter(|s| s.subscriber_type == "EMAIL")
        .count();
    let topics = subscribers.len() - emails;
    if subscribers.is_empty() {
        return Err("A subscription needs at least one subscriber.".into());
    }
    if frequency == "IMMEDIATE" && emails > 0 {
        return Err("IMMEDIATE notifications are sent to an Amazon SNS topic only; use DAILY or WEEKLY for email subscribers.".into());
    }
    if frequency != "IMMEDIATE" && topics > 0 {
        return Err(format!(
            "{frequency} notifications are sent by email only; use IMMEDIATE for an Amazon SNS subscriber."
        ));
    }
    if emails > 10 {
        return Err("A subscription can have at most 10 email subscribers.".into());
    }
    if topics > 1 {
        return Err("A subscription can have at most 1 SNS topic.".into());
    }
    Ok(())
}

/// The monitor ARNs of a subscription: 1–501 (FAQ above), each of the Arn pattern (20–2048),
/// each a monitor of the account (UnknownMonitorException).
fn check_monitor_arns(acct: &AccountState, arns: &[&str], field: &str) -> Result<(), Reply> {
    if arns.is_empty() || arns.len() > MAX_SUBSCRIPTION_MONITORS {
        return Err(ce_validation(constraint_message(
            &format!("{arns:?}"),
            field,
            &format!("Member must have length between 1 and {MAX_SUBSCRIPTION_MONITORS}"),
        )));
    }
    for arn in arns {
        check_string(arn, &format!("{field}.member"), 20, 2048, pat(&CE_ARN))
            .map_err(ce_validation)?;
        if !acct.anomaly_monitors.iter().any(|m| m.arn == *arn) {
            return Err(unknown_monitor(arn));
        }
    }
    Ok(())
}

fn subscription_json(s: &AnomalySubscription) -> Value {
    let subscribers: Vec<Value> = s
        .subscribers
        .iter()
        .map(|r| {
            let mut v = json!({"Address": r.address, "Type": r.subscriber_type});
            if let (Some(st), Some(o)) = (&r.status, v.as_object_mut()) {
                o.insert("Status".into(), json!(st));
            }
            v
        })
        .collect();
    let mut v = json!({
        "SubscriptionArn": s.arn,
        "AccountId": s.account,
        "MonitorArnList": s.monitor_arns,
        "Subscribers": subscribers,
        "Frequency": s.frequency,
        "SubscriptionName": s.name,
        "ThresholdExpression": s.threshold_expression,
    });
    if let (Some(t), Some(o)) = (s.threshold, v.as_object_mut()) {
        o.insert("Threshold".into(), json!(t));
    }
    v
}

/// The threshold of a subscription write: API reference, AnomalySubscription: "One of Threshold
/// or ThresholdExpression is required for this resource. You cannot specify both." Neither is
/// refused with "Threshold and ThresholdExpression cannot both be null" (the service's message,
/// hashicorp/terraform-provider-aws#36853); the message for both is not documented.
fn parse_thresholds(body: &Value, field: &str) -> Result<(Option<f64>, Option<Value>), Reply> {
    let threshold = parse_threshold(body, &format!("{field}threshold"))?;
    let expression =
        (!body["ThresholdExpression"].is_null()).then(|| body["ThresholdExpression"].clone());
    if threshold.is_some() && expression.is_some() {
        return Err(ce_validation(
            "Threshold and ThresholdExpression cannot both be specified".into(),
        ));
    }
    if let Some(e) = &expression {
        check_threshold_expression(e).map_err(ce_validation)?;
    }
    Ok((threshold, expression))
}

/// Cost Explorer API reference, CreateAnomalySubscription: `AnomalySubscription`
/// (`MonitorArnList`, `Subscribers`, `Frequency`, `SubscriptionName` required; `Threshold` or
/// `ThresholdExpression`) and optional `ResourceTags`; answers `SubscriptionArn`;
/// UnknownMonitorException for a monitor the account does not have.
pub(super) fn create_subscription(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let sub = &body["AnomalySubscription"];
    if sub.is_null() {
        return Err(ce_validation(missing("anomalySubscription")));
    }
    let name = required_str(
        sub,
        "SubscriptionName",
        "anomalySubscription.subscriptionName",
    )
    .map_err(ce_validation)?;
    check_string(name, "anomalySubscription.subscriptionName", 0, 1024, None)
        .map_err(ce_validation)?;
    if sub["MonitorArnList"].is_null() {
        return Err(ce_validation(missing("anomalySubscription.monitorArnList")));
    }
    let arns = string_list(sub, "MonitorArnList")?;
    if sub["Subscribers"].is_null() {
        return Err(ce_validation(missing("anomalySubscription.subscribers")));
    }
    let subscribers = parse_subscribers(
        optional_list(sub, "Subscribers", "anomalySubscription.subscribers")
            .map_err(ce_validation)?,
        "anomalySubscription.subscribers",
    )?;
    let frequency =
        required_str(sub, "Frequency", "anomalySubscription.frequency").map_err(ce_validation)?;
    check_subscribers(frequency, &subscribers).map_err(ce_validation)?;
    let (threshold, expression) = parse_thresholds(sub, "anomalySubscription.")?;
    let threshold_expression = match (threshold, expression) {
        (Some(t), None) => threshold_as_expression(t),
        (None, Some(e)) => e,
        _ => {
            return Err(ce_validation(
                "Threshold and ThresholdExpression cannot both be null".into(),
            ));
        }
    };
    let tags = ce_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(ce_validation)?,
        "resourceTags",
    )?;
    check_monitor_arns(acct, &arns, "anomalySubscription.monitorArnList")?;
    let tags: BTreeMap<String, String> = tags.into_iter().collect();
    let arn = format!("arn:aws:ce::{}:anomalysubscription/{}", ctx.account, uuid());
    if tags.len() > CE_MAX_TAGS {
        return Err(too_many_ce_tags(&arn));
    }
    acct.anomaly_subscriptions.push(AnomalySubscription {
        account: ctx.account.clone(),
        arn: arn.clone(),
        name: name.to_string(),
        monitor_arns: arns.iter().map(|a| a.to_string()).collect(),
        subscribers,
        frequency: frequency.to_string(),
        threshold,
        threshold_expression,
        tags,
    });
    Ok(json!({ "SubscriptionArn": arn }))
}

/// Cost Explorer API reference, GetAnomalySubscriptions: optional `SubscriptionArnList`
/// (UnknownSubscriptionException for one the account does not have) and `MonitorArn` filters,
/// `MaxResults`, `NextPageToken` (InvalidNextTokenException).
pub(super) fn get_subscriptions(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let arns = string_list(body, "SubscriptionArnList")?;
    if let Some(unknown) = arns
        .iter()
        .find(|a| !acct.anomaly_subscriptions.iter().any(|s| s.arn == **a))
    {
        return Err(unknown_subscription(unknown));
    }
    let monitor = optional_str(body, "MonitorArn", "monitorArn").map_err(ce_validation)?;
    let max = max_results(body, "MaxResults", i64::from(i32::MAX), CE_DEFAULT_PAGE)?;
    let token = optional_str(body, "NextPageToken", "nextPageToken").map_err(ce_validation)?;
    let items: Vec<Value> = acct
        .anomaly_subscriptions
        .iter()
        .filter(|s| arns.is_empty() || arns.contains(&s.arn.as_str()))
        .filter(|s| monitor.is_none_or(|m| s.monitor_arns.iter().any(|a| a == m)))
        .map(subscription_json)
        .collect();
    let scope = format!("GetAnomalySubscriptions|{arns:?}|{monitor:?}");
    let (items, next) = page(&items, token, max, &scope).map_err(|()| invalid_next_token())?;
    let mut out = json!({ "AnomalySubscriptions": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextPageToken".into(), json!(next));
    }
    Ok(out)
}

fn subscription_index(acct: &AccountState, body: &Value) -> Result<usize, Reply> {
    let arn = required_str(body, "SubscriptionArn", "subscriptionArn").map_err(ce_validation)?;
    acct.anomaly_subscriptions
        .iter()
        .position(|s| s.arn == arn)
        .ok_or_else(|| unknown_subscription(arn))
}

/// Cost Explorer API reference, UpdateAnomalySubscription: "Specify the fields that you want to
/// update. Omitted fields are unchanged"; `Threshold` or `ThresholdExpression`, not both;
/// UnknownSubscriptionException, UnknownMonitorException. The result obeys the same rules as a
/// new subscription.
pub(super) fn update_subscription(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = subscription_index(acct, body)?;
    let mut next = acct.anomaly_subscriptions[i].clone();
    if let Some(name) =
        optional_str(body, "SubscriptionName", "subscriptionName").map_err(ce_validation)?
    {
        check_string(name, "subscriptionName", 0, 1024, None).map_err(ce_validation)?;
        next.name = name.to_string();
    }
    if !body["MonitorArnList"].is_null() {
        let arns = string_list(body, "MonitorArnList")?;
        check_monitor_arns(acct, &arns, "monitorArnList")?;
        next.monitor_arns = arns.iter().map(|a| a.to_string()).collect();
    }
    if !body["Subscribers"].is_null() {
        next.subscribers = parse_subscribers(
            optional_list(body, "Subscribers", "subscribers").map_err(ce_validation)?,
            "subscribers",
        )?;
    }
    if let Some(f) = optional_str(body, "Frequency", "frequency").map_err(ce_validation)? {
        next.frequency = f.to_string();
    }
    check_subscribers(&next.frequency, &next.subscribers).map_err(ce_validation)?;
    match parse_thresholds(body, "")? {
        (Some(t), _) => {
            next.threshold = Some(t);
            next.threshold_expression = threshold_as_expression(t);
        }
        (None, Some(e)) => {
            next.threshold = None;
            next.threshold_expression = e;
        }
        (None, None) => {}
    }
    let arn = next.arn.clone();
    acct.anomaly_subscriptions[i] = next;
    Ok(json!({ "SubscriptionArn": arn }))
}

/// Cost Explorer API reference, DeleteAnomalySubscription: UnknownSubscriptionException.
pub(super) fn delete_subscription(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = subscription_index(acct, body)?;
    acct.anomaly_subscriptions.remove(i);
    Ok(json!({}))
}
