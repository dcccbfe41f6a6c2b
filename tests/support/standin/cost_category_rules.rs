//! Cost Explorer: the checks of a cost category's rules and split charge rules.

use serde_json::Value;

use super::Reply;
use super::common::{
    check_enum, check_string, constraint_message, missing, optional_str, required_str,
};
use super::cost_categories::{
    MAX_COST_CATEGORY_RULES, MAX_SPLIT_CHARGE_RULES, check_category_name, cost_category_failure,
};
use super::cost_explorer::{ce_validation, expression_root};

/// Cost Explorer API reference, CostCategoryRule.Rule: "Currently the only dimensions supported
/// are LINKED_ACCOUNT, SERVICE_CODE, RECORD_TYPE, LINKED_ACCOUNT_NAME, REGION, and USAGE_TYPE."
const COST_CATEGORY_RULE_DIMENSIONS: [&str; 6] = [
    "LINKED_ACCOUNT",
    "SERVICE_CODE",
    "RECORD_TYPE",
    "LINKED_ACCOUNT_NAME",
    "REGION",
    "USAGE_TYPE",
];

/// Cost Explorer API reference, Dimension: the enum of `DimensionValues.Key`.
const DIMENSIONS: [&str; 35] = [
    "AZ",
    "INSTANCE_TYPE",
    "LINKED_ACCOUNT",
    "PAYER_ACCOUNT",
    "LINKED_ACCOUNT_NAME",
    "OPERATION",
    "PURCHASE_TYPE",
    "REGION",
    "SERVICE",
    "SERVICE_CODE",
    "USAGE_TYPE",
    "USAGE_TYPE_GROUP",
    "RECORD_TYPE",
    "OPERATING_SYSTEM",
    "TENANCY",
    "SCOPE",
    "PLATFORM",
    "SUBSCRIPTION_ID",
    "LEGAL_ENTITY_NAME",
    "DEPLOYMENT_OPTION",
    "DATABASE_ENGINE",
    "CACHE_ENGINE",
    "INSTANCE_TYPE_FAMILY",
    "BILLING_ENTITY",
    "RESERVATION_ID",
    "RESOURCE_ID",
    "RIGHTSIZING_TYPE",
    "SAVINGS_PLANS_TYPE",
    "SAVINGS_PLAN_ARN",
    "PAYMENT_OPTION",
    "AGREEMENT_END_DATE_TIME_AFTER",
    "AGREEMENT_END_DATE_TIME_BEFORE",
    "INVOICING_ENTITY",
    "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
    "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
];

/// Cost Explorer API reference, MatchOption.
const MATCH_OPTIONS: [&str; 8] = [
    "EQUALS",
    "ABSENT",
    "STARTS_WITH",
    "ENDS_WITH",
    "CONTAINS",
    "CASE_SENSITIVE",
    "CASE_INSENSITIVE",
    "GREATER_THAN_OR_EQUAL",
];

/// A list member that must be a JSON array when present.
pub(super) fn list_at<'a>(
    body: &'a Value,
    key: &str,
    field: &str,
) -> Result<Option<&'a [Value]>, Reply> {
    match &body[key] {
        Value::Null => Ok(None),
        Value::Array(a) => Ok(Some(a)),
        other => Err(ce_validation(format!(
            "Value {other} at '{field}' is not a list"
        ))),
    }
}

/// A list's length against the model's bounds.
pub(super) fn check_length(
    list: &[Value],
    field: &str,
    min: usize,
    max: usize,
) -> Result<(), Reply> {
    let constraint = if list.len() < min {
        format!("Member must have length greater than or equal to {min}")
    } else if list.len() > max {
        format!("Member must have length less than or equal to {max}")
    } else {
        return Ok(());
    };
    Err(ce_validation(constraint_message(
        &format!("[{} members]", list.len()),
        field,
        &constraint,
    )))
}

/// The strings of a list member, each `min`–`max` characters.
pub(super) fn strings_at<'a>(
    list: &'a [Value],
    field: &str,
    min: usize,
    max: usize,
) -> Result<Vec<&'a str>, Reply> {
    list.iter()
        .map(|v| {
            let s = v.as_str().ok_or_else(|| {
                ce_validation(format!("Value {v} at '{field}.member' is not a string"))
            })?;
            check_string(s, &format!("{field}.member"), min, max, None).map_err(ce_validation)?;
            Ok(s)
        })
        .collect()
}

/// The `Values` and `MatchOptions` of a Dimensions, Tags or CostCategories expression in a rule.
/// Cost Explorer API reference, Value (0–1024 characters) and MatchOption. A `Values` list that
/// is present is not empty, and `ABSENT` takes no values: the service's answers quoted in
/// hashicorp/terraform-provider-aws#36690 ("Value '[]' at 'rules.1.member.rule.tags.values'
/// failed to satisfy constraint: Member must have length greater than or equal to 1"; "Tags
/// expression must not have values set when ABSENT is provided").
fn check_values_and_options(
    part: &Value,
    kind: &str,
    field: &str,
    action: &str,
) -> Result<(), Reply> {
    let values_at = format!("{field}.values");
    let values = match list_at(part, "Values", &values_at)? {
        Some([]) => {
            return Err(ce_validation(constraint_message(
                "[]",
                &values_at,
                "Member must have length greater than or equal to 1",
            )));
        }
        Some(list) => strings_at(list, &values_at, 0, 1024)?,
        None => Vec::new(),
    };
    let options_at = format!("{field}.matchOptions");
    let options = match list_at(part, "MatchOptions", &options_at)? {
        Some(list) => strings_at(list, &options_at, 0, usize::MAX)?,
        None => Vec::new(),
    };
    for option in &options {
        check_enum(option, &format!("{options_at}.member"), &MATCH_OPTIONS)
            .map_err(ce_validation)?;
    }
    if options.contains(&"ABSENT") && !values.is_empty() {
        return Err(cost_category_failure(
            action,
            &format!("{kind} expression must not have values set when ABSENT is provided"),
        ));
    }
    Ok(())
}

/// The `Rule` expression of a cost category rule (Cost Explorer API reference, Expression and
/// CostCategoryRule.Rule):
/// - one root operator per expression (the reference's message, see [`expression_root`]);
/// - no `Or` at the root of a rule: "Root level OR is not supported. We recommend that you
///   create a separate rule instead." (CostCategoryRule.Rule in the API reference as published
///   until 2021, e.g. the model behind rusoto_ce; the current page no longer prints it, the
///   stand-in keeps the rule and its words);
/// - only the rule dimensions of [`COST_CATEGORY_RULE_DIMENSIONS`] (message not documented);
/// - `Dimensions` needs a `Key` (not documented); `CostCategories.Key` is a cost category name,
///   `Tags.Key` a TagKey of 0–1024 characters.
fn check_rule_expression(e: &Value, field: &str, root: bool, action: &str) -> Result<(), Reply> {
    let op = expression_root(e).map_err(ce_validation)?;
    match op {
        "Or" if root => Err(cost_category_failure(
            action,
            "Invalid Rule: Root level OR is not supported. We recommend that you create a separate rule instead.",
        )),
        "And" | "Or" => {
            let at = format!("{field}.{}", op.to_ascii_lowercase());
            let parts = list_at(e, op, &at)?.unwrap_or_default();
            if parts.is_empty() {
                return Err(cost_category_failure(
                    action,
                    &format!("Invalid Rule: {op} must join at least one expression."),
                ));
            }
            parts.iter().enumerate().try_for_each(|(i, part)| {
                check_rule_expression(part, &format!("{at}.{}.member", i + 1), false, action)
            })
        }
        "Not" => check_rule_expression(&e["Not"], &format!("{field}.not"), false, action),
        "Dimensions" => {
            let part = &e["Dimensions"];
            let at = format!("{field}.dimensions");
            let key = required_str(part, "Key", &format!("{at}.key")).map_err(ce_validation)?;
            check_enum(key, &format!("{at}.key"), &DIMENSIONS).map_err(ce_validation)?;
            if !COST_CATEGORY_RULE_DIMENSIONS.contains(&key) {
                return Err(cost_category_failure(
                    action,
                    &format!(
                        "Invalid Rule: Dimension {key} is not supported in cost category rules. Supported dimensions: {}.",
                        COST_CATEGORY_RULE_DIMENSIONS.join(", ")
                    ),
                ));
            }
            check_values_and_options(part, "Dimensions", &at, action)
        }
        "Tags" => {
            let part = &e["Tags"];
            let at = format!("{field}.tags");
            if let Some(key) =
                optional_str(part, "Key", &format!("{at}.key")).map_err(ce_validation)?
            {
                check_string(key, &format!("{at}.key"), 0, 1024, None).map_err(ce_validation)?;
            }
            check_values_and_options(part, "Tags", &at, action)
        }
        _ => {
            let part = &e["CostCategories"];
            let at = format!("{field}.costCategories");
            if let Some(key) =
                optional_str(part, "Key", &format!("{at}.key")).map_err(ce_validation)?
            {
                check_category_name(key, &format!("{at}.key"))?;
            }
            check_values_and_options(part, "CostCategories", &at, action)
        }
    }
}

/// Cost Explorer API reference, CostCategoryRule: `Type` REGULAR or INHERITED_VALUE, `Value` (a
/// CostCategoryValue), `Rule`, `InheritedValue` (`DimensionName` LINKED_ACCOUNT_NAME or TAG,
/// `DimensionKey` "The key to extract cost category values"). A REGULAR rule (the default when
/// `Type` is absent) needs `Value` and `Rule`: "Failed to create Cost Category: Invalid Rule:
/// Value and Rule must not be null." (the service's answer, ministryofjustice/aws-root-account
/// #1089). An INHERITED_VALUE rule takes its value from `InheritedValue` ("dynamically inherits
/// the cost category value … from the dimension value that's defined by
/// CostCategoryInheritedValueDimension"), so it has `InheritedValue` and no `Value`, and a TAG
/// dimension names its tag key ("choose the tag dimension and specify the tag key to use"); the
/// messages for these are not documented.
pub(super) fn check_cost_category_rules(rules: &[Value], action: &str) -> Result<(), Reply> {
    check_length(rules, "rules", 1, MAX_COST_CATEGORY_RULES)?;
    for (i, rule) in rules.iter().enumerate() {
        let at = |m: &str| format!("rules.{}.member.{m}", i + 1);
        if !rule.is_object() {
            return Err(ce_validation(format!(
                "Value {rule} at 'rules.{}.member' is not a structure",
                i + 1
            )));
        }
        let kind = optional_str(rule, "Type", &at("type"))
            .map_err(ce_validation)?
            .unwrap_or("REGULAR");
        check_enum(kind, &at("type"), &["REGULAR", "INHERITED_VALUE"]).map_err(ce_validation)?;
        let value = optional_str(rule, "Value", &at("value")).map_err(ce_validation)?;
        if let Some(v) = value {
            check_category_name(v, &at("value"))?;
        }
        let inherited = &rule["InheritedValue"];
        let expression = &rule["Rule"];
        if kind == "REGULAR" {
            if value.is_none() || expression.is_null() {
                return Err(cost_category_failure(
                    action,
                    "Invalid Rule: Value and Rule must not be null.",
                ));
            }
            if !inherited.is_null() {
                return Err(cost_category_failure(
                    action,
                    "Invalid Rule: InheritedValue must be null for a REGULAR rule.",
                ));
            }
        } else {
            if inherited.is_null() {
                return Err(cost_category_failure(
                    action,
                    "Invalid Rule: InheritedValue must not be null for an INHERITED_VALUE rule.",
                ));
            }
            if value.is_some() {
                return Err(cost_category_failure(
                    action,
                    "Invalid Rule: Value must be null for an INHERITED_VALUE rule.",
                ));
            }
            let name_at = at("inheritedValue.dimensionName");
            let name = required_str(inherited, "DimensionName", &name_at).map_err(ce_validation)?;
            check_enum(name, &name_at, &["LINKED_ACCOUNT_NAME", "TAG"]).map_err(ce_validation)?;
            let key_at = at("inheritedValue.dimensionKey");
            let key = optional_str(inherited, "DimensionKey", &key_at).map_err(ce_validation)?;
            if let Some(k) = key {
                check_string(k, &key_at, 0, 1024, None).map_err(ce_validation)?;
            }
            if name == "TAG" && key.is_none_or(str::is_empty) {
                return Err(cost_category_failure(
                    action,
                    "Invalid Rule: an INHERITED_VALUE rule on TAG needs the tag key as DimensionKey.",
                ));
            }
        }
        if !expression.is_null() {
            check_rule_expression(expression, &at("rule"), true, action)?;
        }
    }
    Ok(())
}

/// Cost Explorer API reference, CostCategorySplitChargeRule: `Source` (0–1024), `Targets` (1–500),
/// `Method` FIXED|PROPORTIONAL|EVEN, `Parameters` (1–10 of `Type` ALLOCATION_PERCENTAGES and
/// `Values` 1–500), "only required for the FIXED method"; the source "can't be used as a source
/// or a target in other split charge rules", targets "can't be used as a source in other split
/// charge rules". The messages are not documented.
pub(super) fn check_split_charge_rules(rules: &[Value], action: &str) -> Result<(), Reply> {
    check_length(rules, "splitChargeRules", 1, MAX_SPLIT_CHARGE_RULES)?;
    let mut parsed = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let at = |m: &str| format!("splitChargeRules.{}.member.{m}", i + 1);
        let source = required_str(rule, "Source", &at("source")).map_err(ce_validation)?;
        check_string(source, &at("source"), 0, 1024, None).map_err(ce_validation)?;
        let targets = list_at(rule, "Targets", &at("targets"))?
            .ok_or_else(|| ce_validation(missing(&at("targets"))))?;
        check_length(targets, &at("targets"), 1, 500)?;
        let targets = strings_at(targets, &at("targets"), 0, 1024)?;
        let method = required_str(rule, "Method", &at("method")).map_err(ce_validation)?;
        check_enum(method, &at("method"), &["FIXED", "PROPORTIONAL", "EVEN"])
            .map_err(ce_validation)?;
        let parameters = list_at(rule, "Parameters", &at("parameters"))?;
        if let Some(parameters) = parameters {
            check_length(parameters, &at("parameters"), 1, 10)?;
            for (j, p) in parameters.iter().enumerate() {
                let p_at = |m: &str| format!("{}.{}.member.{m}", at("parameters"), j + 1);
                let kind = required_str(p, "Type", &p_at("type")).map_err(ce_validation)?;
                check_enum(kind, &p_at("type"), &["ALLOCATION_PERCENTAGES"])
                    .map_err(ce_validation)?;
                let values = list_at(p, "Values", &p_at("values"))?
                    .ok_or_else(|| ce_validation(missing(&p_at("values"))))?;
                check_length(values, &p_at("values"), 1, 500)?;
                strings_at(values, &p_at("values"), 0, 1024)?;
            }
        }
        if method == "FIXED" && parameters.is_none() {
            return Err(cost_category_failure(
                action,
                "Invalid split charge rule: the FIXED method needs ALLOCATION_PERCENTAGES parameters.",
            ));
        }
        parsed.push((source, targets));
    }
    for (i, (source, targets)) in parsed.iter().enumerate() {
        for (j, (other_source, other_targets)) in parsed.iter().enumerate() {
            if i == j {
                continue;
            }
            if source == other_source || other_targets.contains(source) {
                return Err(cost_category_failure(
                    action,
                    &format!(
                        "Invalid split charge rule: {source} is the source of one split charge rule and cannot be a source or a target of another."
                    ),
                ));
            }
            if let Some(t) = targets.iter().find(|t| *t == other_source) {
                return Err(cost_category_failure(
                    action,
                    &format!(
                        "Invalid split charge rule: {t} is a target and cannot be the source of another split charge rule."
                    ),
                ));
            }
        }
    }
    Ok(())
}
