//! Cost Explorer: cost categories (their definitions, effective dates and processing status).
//! The checks of their rules are in `cost_category_rules.rs`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::common::{
    anchored, check_enum, check_string, json_error, missing, month_start, now, optional_list,
    optional_str, page, pat, required_str, uuid,
};
use super::cost_category_rules::{
    check_cost_category_rules, check_length, check_split_charge_rules, list_at, strings_at,
};
use super::cost_explorer::{
    CE_ARN, CE_MAX_TAGS, ce_not_found, ce_tags, ce_validation, max_results, too_many_ce_tags,
};
use super::{AccountState, Ctx, DEFAULT_ACCOUNT, Reply, StandIn};

/// A Cost Explorer cost category (the current version of its definition).
#[derive(Clone, Debug, PartialEq)]
pub struct CostCategory {
    pub account: String,
    pub arn: String,
    pub name: String,
    /// `RuleVersion`: `CostCategoryExpression.v1`.
    pub rule_version: String,
    /// `Rules` exactly as the last create or update sent them (a JSON array of
    /// `CostCategoryRule`, `MatchOptions` and all); DescribeCostCategoryDefinition echoes it.
    pub rules: Value,
    pub default_value: Option<String>,
    /// `SplitChargeRules` as sent, if any.
    pub split_charge_rules: Option<Value>,
    /// `EffectiveStart` of this version: the first day of a month, `2025-06-01T00:00:00Z`.
    pub effective_start: String,
    /// `PROCESSING` after a write, `APPLIED` once billing has categorized the costs (see
    /// [`StandIn::cost_categories_applied`]).
    pub processing_status: String,
    pub tags: BTreeMap<String, String>,
}

impl StandIn {
    /// Adds a cost category to the default account with `rules` (a JSON array of
    /// `CostCategoryRule`, not checked), as if someone had created it outside the tool. Returns
    /// its ARN.
    pub fn add_cost_category(&self, name: &str, rules: Value) -> String {
        self.add_cost_category_to(DEFAULT_ACCOUNT, name, rules)
    }

    /// [`Self::add_cost_category`] for another account.
    pub fn add_cost_category_to(&self, account: &str, name: &str, rules: Value) -> String {
        let category = CostCategory {
            account: account.to_string(),
            arn: format!("arn:aws:ce::{account}:costcategory/{}", uuid()),
            name: name.to_string(),
            rule_version: COST_CATEGORY_RULE_VERSION.into(),
            rules,
            default_value: None,
            split_charge_rules: None,
            effective_start: month_start(),
            processing_status: "PROCESSING".into(),
            tags: BTreeMap::new(),
        };
        let arn = category.arn.clone();
        self.mutate_account(account, |acct| acct.cost_categories.push(category));
        arn
    }

    /// Replaces the rules of the default account's cost category named `name`, as an edit in
    /// the console would (a new version effective from this month, processing again). `rules`
    /// is a JSON array of `CostCategoryRule`, not checked. False when there is no such category.
    pub fn set_cost_category_rules(&self, name: &str, rules: Value) -> bool {
        self.set_cost_category_rules_of(DEFAULT_ACCOUNT, name, rules)
    }

    /// [`Self::set_cost_category_rules`] for another account.
    pub fn set_cost_category_rules_of(&self, account: &str, name: &str, rules: Value) -> bool {
        self.mutate_account(account, |acct| {
            acct.cost_categories
                .iter_mut()
                .find(|c| c.name == name)
                .map(|c| {
                    c.rules = rules;
                    c.effective_start = month_start();
                    c.processing_status = "PROCESSING".into();
                })
                .is_some()
        })
    }

    /// Sets tag `key` on the default account's cost category named `name`.
    pub fn tag_cost_category(&self, name: &str, key: &str, value: &str) -> bool {
        self.mutate(|acct| {
            acct.cost_categories
                .iter_mut()
                .find(|c| c.name == name)
                .map(|c| c.tags.insert(key.to_string(), value.to_string()))
                .is_some()
        })
    }

    /// Removes tag `key` from the default account's cost category named `name`.
    pub fn untag_cost_category(&self, name: &str, key: &str) -> bool {
        self.mutate(|acct| {
            acct.cost_categories
                .iter_mut()
                .find(|c| c.name == name)
                .map(|c| c.tags.remove(key))
                .is_some()
        })
    }

    /// Billing has categorized the costs: every cost category's `ProcessingStatus` becomes
    /// `APPLIED` (Billing user guide, "Creating cost categories": "Allow up to 24 hours after
    /// creating a cost category for your usage records to be updated with values"; the AWS Cost
    /// Categories features page: the status "will initially be 'Processing' and will change to
    /// 'Applied' once your costs have been categorized").
    pub fn cost_categories_applied(&self) {
        let mut state = self.lock();
        for acct in state.accounts.values_mut() {
            for c in &mut acct.cost_categories {
                c.processing_status = "APPLIED".into();
            }
        }
    }

    /// Every cost category, all accounts, in creation order.
    pub fn cost_categories(&self) -> Vec<CostCategory> {
        self.collect(|a| a.cost_categories.clone())
    }
}

/// Cost Explorer API reference, CostCategoryRuleVersion: the only rule schema version.
const COST_CATEGORY_RULE_VERSION: &str = "CostCategoryExpression.v1";

/// Billing user guide, "Quotas and restrictions", Cost categories: "The total number of cost
/// categories for a management account: 50"; "The number of cost category rules for a cost
/// category (API): 500" (also the API reference's `Rules` length, 1–500); "The number of split
/// charge rules for a cost category: 10" (the reference's `SplitChargeRules`, 1–10).
const MAX_COST_CATEGORIES: usize = 50;
pub(super) const MAX_COST_CATEGORY_RULES: usize = 500;
pub(super) const MAX_SPLIT_CHARGE_RULES: usize = 10;

/// ListCostCategoryDefinitions page size without `MaxResults`. The reference says only "The
/// request can have a MaxResults range up to 100"; a small default page makes a caller that
/// ignores `NextToken` visible.
const COST_CATEGORY_DEFAULT_PAGE: usize = 10;

/// Cost Explorer API reference, CostCategoryName and CostCategoryValue: 1–50 characters of
/// `^(?! )[\p{L}\p{N}\p{Z}-_]*(?<! )$` (Billing user guide, "Quotas and restrictions": numbers,
/// Unicode letters, space "if it's not used at the beginning or end of the name", underscore
/// and dash). The regex crate has no look-around: the same language is written without it; the
/// message quotes the reference's pattern.
pub(super) static COST_CATEGORY_NAME: LazyLock<(Regex, &'static str)> = LazyLock::new(|| {
    (
        Regex::new(
            r"^(?:[-_\p{L}\p{N}\p{Z}&&[^ ]](?:[-_\p{L}\p{N}\p{Z}]*[-_\p{L}\p{N}\p{Z}&&[^ ]])?)?$",
        )
        .expect("cost category name pattern compiles"),
        r"^(?! )[\p{L}\p{N}\p{Z}-_]*(?<! )$",
    )
});
// Cost Explorer API reference, ZonedDateTime (20–25 characters) and ResourceType.
pattern!(
    ZONED_DATE_TIME,
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(([+-]\d\d:\d\d)|Z)$"
);
pattern!(RESOURCE_TYPE, r"^[-a-zA-Z0-9/_]+:[-a-zA-Z0-9/_]+");

/// ListCostCategoryDefinitions, SupportedResourceTypes: "The valid values are
/// billing:rispgroupsharing and billing:billingview."
const SUPPORTED_RESOURCE_TYPES: [&str; 2] = ["billing:rispgroupsharing", "billing:billingview"];

/// A refusal of a cost-category write, in the service's words: "Failed to create Cost Category:
/// Invalid Rule: Value and Rule must not be null." (ministryofjustice/aws-root-account#1089),
/// "Failed to create Cost Category: Tags expression must not have values set when ABSENT is
/// provided" (hashicorp/terraform-provider-aws#36690). `action` is `create` or `update`.
pub(super) fn cost_category_failure(action: &str, detail: &str) -> Reply {
    ce_validation(format!("Failed to {action} Cost Category: {detail}"))
}

/// What a member (linked) account gets from every cost-category operation. Billing user guide,
/// "Creating cost categories": "Cost categories are available only to management accounts of
/// AWS Organizations" (an older version: "Regular accounts and the management account in AWS
/// Organizations have default access to create cost categories"). The answer AWS gives a member
/// account is not documented; the stand-in answers as Cost Explorer does for cost-allocation
/// tags (see [`linked_account_denied`]): AccessDeniedException, HTTP 400, "Failed to …: Linked
/// account doesn't have access to …".
pub(super) fn cost_categories_denied(op: &str) -> Reply {
    let action = match op {
        "CreateCostCategoryDefinition" => "create Cost Category",
        "DescribeCostCategoryDefinition" => "describe Cost Category",
        "UpdateCostCategoryDefinition" => "update Cost Category",
        "DeleteCostCategoryDefinition" => "delete Cost Category",
        "ListCostCategoryDefinitions" => "list Cost Categories",
        "TagResource" => "tag Cost Category",
        "UntagResource" => "untag Cost Category",
        _ => "list tags of Cost Category",
    };
    json_error(
        400,
        "AccessDeniedException",
        &format!("Failed to {action}: Linked account doesn't have access to cost categories."),
        Value::Null,
    )
}

pub(super) fn check_category_name(value: &str, field: &str) -> Result<(), Reply> {
    check_string(value, field, 1, 50, pat(&COST_CATEGORY_NAME)).map_err(ce_validation)
}

/// The first instant of the current month.
fn current_month_start() -> chrono::DateTime<chrono::Utc> {
    use chrono::{Datelike, TimeZone};
    let today = now();
    chrono::Utc
        .with_ymd_and_hms(today.year(), today.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(today)
}

fn zoned(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A ZonedDateTime member (`EffectiveStart`, `EffectiveOn`), when present.
fn zoned_date_time(
    body: &Value,
    key: &str,
    field: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, Reply> {
    let Some(text) = optional_str(body, key, field).map_err(ce_validation)? else {
        return Ok(None);
    };
    check_string(text, field, 20, 25, pat(&ZONED_DATE_TIME)).map_err(ce_validation)?;
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .map_err(|_| ce_validation(format!("{text} at '{field}' is not a valid date and time.")))
}

/// `EffectiveStart` of a create or update. Cost Explorer API reference,
/// CreateCostCategoryDefinition / UpdateCostCategoryDefinition: "It can only be a billing start
/// date (first day of the month). If the date isn't provided, it's the first day of the current
/// month. Dates can't be before the previous twelve months, or in the future." (The messages
/// are not documented.)
fn effective_start(body: &Value, action: &str) -> Result<String, Reply> {
    use chrono::{Datelike, Timelike};
    let this_month = current_month_start();
    let Some(start) = zoned_date_time(body, "EffectiveStart", "effectiveStart")? else {
        return Ok(zoned(this_month));
    };
    if start.day() != 1 || start.num_seconds_from_midnight() != 0 {
        return Err(cost_category_failure(
            action,
            &format!(
                "EffectiveStart {} is not a billing start date (the first day of a month).",
                zoned(start)
            ),
        ));
    }
    let earliest = this_month
        .checked_sub_months(chrono::Months::new(12))
        .unwrap_or(this_month);
    if start > this_month {
        return Err(cost_category_failure(
            action,
            "EffectiveStart cannot be in the future.",
        ));
    }
    if start < earliest {
        return Err(cost_category_failure(
            action,
            "EffectiveStart cannot be before the previous twelve months.",
        ));
    }
    Ok(zoned(start))
}

/// Whether category `c` is in effect on `on` (the current date when `None`). The stand-in keeps
/// only the current version of a definition: a date before its `EffectiveStart` finds nothing
/// (AWS would show the earlier version, if there was one).
fn effective_on(c: &CostCategory, on: Option<chrono::DateTime<chrono::Utc>>) -> bool {
    let Some(on) = on else { return true };
    chrono::DateTime::parse_from_rfc3339(&c.effective_start)
        .is_ok_and(|start| start.with_timezone(&chrono::Utc) <= on)
}

/// The definition of a create or update request.
struct CostCategoryInput {
    rule_version: String,
    rules: Value,
    default_value: Option<String>,
    split_charge_rules: Option<Value>,
    effective_start: String,
}

/// Cost Explorer API reference, CreateCostCategoryDefinition / UpdateCostCategoryDefinition:
/// `RuleVersion` (CostCategoryExpression.v1) and `Rules` required, `DefaultValue` (a
/// CostCategoryValue), `SplitChargeRules`, `EffectiveStart`.
fn parse_cost_category_input(body: &Value, action: &str) -> Result<CostCategoryInput, Reply> {
    let rule_version = required_str(body, "RuleVersion", "ruleVersion").map_err(ce_validation)?;
    check_enum(rule_version, "ruleVersion", &[COST_CATEGORY_RULE_VERSION])
        .map_err(ce_validation)?;
    let rules = list_at(body, "Rules", "rules")?.ok_or_else(|| ce_validation(missing("rules")))?;
    check_cost_category_rules(rules, action)?;
    let default_value =
        optional_str(body, "DefaultValue", "defaultValue").map_err(ce_validation)?;
    if let Some(d) = default_value {
        check_category_name(d, "defaultValue")?;
    }
    let split = list_at(body, "SplitChargeRules", "splitChargeRules")?;
    if let Some(split) = split {
        check_split_charge_rules(split, action)?;
    }
    Ok(CostCategoryInput {
        rule_version: rule_version.to_string(),
        rules: Value::Array(rules.to_vec()),
        default_value: default_value.map(str::to_string),
        split_charge_rules: split.map(|s| Value::Array(s.to_vec())),
        effective_start: effective_start(body, action)?,
    })
}

fn processing_status_json(c: &CostCategory) -> Value {
    json!([{ "Component": "COST_EXPLORER", "Status": c.processing_status }])
}

/// Cost Explorer API reference, CostCategory.
fn cost_category_json(c: &CostCategory) -> Value {
    let mut v = json!({
        "CostCategoryArn": c.arn,
        "EffectiveStart": c.effective_start,
        "Name": c.name,
        "RuleVersion": c.rule_version,
        "Rules": c.rules,
        "ProcessingStatus": processing_status_json(c),
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(d) = &c.default_value {
            o.insert("DefaultValue".into(), json!(d));
        }
        if let Some(s) = &c.split_charge_rules {
            o.insert("SplitChargeRules".into(), s.clone());
        }
    }
    v
}

/// CostCategoryReference.Values, "A list of unique cost category values in a specific cost
/// category": the values of the REGULAR rules in rule order, then the default value. (Values
/// that INHERITED_VALUE rules take from billing data are not known to the stand-in.)
fn cost_category_values(c: &CostCategory) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    let rule_values = c
        .rules
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| r["Value"].as_str())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for v in rule_values.into_iter().chain(c.default_value.as_deref()) {
        if !values.iter().any(|known| known == v) {
            values.push(v.to_string());
        }
    }
    values
}

/// Cost Explorer API reference, CostCategoryReference.
fn cost_category_reference_json(c: &CostCategory) -> Value {
    let mut v = json!({
        "CostCategoryArn": c.arn,
        "Name": c.name,
        "EffectiveStart": c.effective_start,
        "NumberOfRules": c.rules.as_array().map_or(0, Vec::len),
        "ProcessingStatus": processing_status_json(c),
        "Values": cost_category_values(c),
    });
    if let (Some(d), Some(o)) = (&c.default_value, v.as_object_mut()) {
        o.insert("DefaultValue".into(), json!(d));
    }
    v
}

/// The category a `CostCategoryArn` names (an Arn: 20–2048 characters of the Arn pattern);
/// ResourceNotFoundException when the account has no such category.
fn cost_category_index(acct: &AccountState, body: &Value) -> Result<usize, Reply> {
    let arn = required_str(body, "CostCategoryArn", "costCategoryArn").map_err(ce_validation)?;
    check_string(arn, "costCategoryArn", 20, 2048, pat(&CE_ARN)).map_err(ce_validation)?;
    acct.cost_categories
        .iter()
        .position(|c| c.arn == arn)
        .ok_or_else(|| ce_not_found(arn))
}

/// Cost Explorer API reference, CreateCostCategoryDefinition: `Name` (CostCategoryName, 1–50),
/// the definition (see [`parse_cost_category_input`]) and optional `ResourceTags` (see
/// [`ce_tags`]); answers `CostCategoryArn` and `EffectiveStart`.
///
/// Names are unique in an account (Billing user guide, "Creating cost categories": "Your cost
/// category name must be unique within your account"; "Quotas and restrictions": names "must
/// be unique", "case sensitive"). The reference lists no error for a taken name; the stand-in
/// answers ValidationException (the code the service uses for its other refusals of a request's
/// content), message not documented. Past [`MAX_COST_CATEGORIES`] it answers
/// ServiceQuotaExceededException (the reference: "You've reached the limit on the number of
/// resources you can create").
pub(super) fn create_cost_category(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let name = required_str(body, "Name", "name").map_err(ce_validation)?;
    check_category_name(name, "name")?;
    let input = parse_cost_category_input(body, "create")?;
    let tags = ce_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(ce_validation)?,
        "resourceTags",
    )?;
    if acct.cost_categories.iter().any(|c| c.name == name) {
        return Err(cost_category_failure(
            "create",
            &format!(
                "A cost category named {name} already exists. Cost category names must be unique."
            ),
        ));
    }
    if acct.cost_categories.len() >= MAX_COST_CATEGORIES {
        return Err(json_error(
            400,
            "ServiceQuotaExceededException",
            &format!("You've reached the limit of {MAX_COST_CATEGORIES} cost categories."),
            Value::Null,
        ));
    }
    let tags: BTreeMap<String, String> = tags.into_iter().collect();
    let arn = format!("arn:aws:ce::{}:costcategory/{}", ctx.account, uuid());
    if tags.len() > CE_MAX_TAGS {
        return Err(too_many_ce_tags(&arn));
    }
    let effective_start = input.effective_start.clone();
    acct.cost_categories.push(CostCategory {
        account: ctx.account.clone(),
        arn: arn.clone(),
        name: name.to_string(),
        rule_version: input.rule_version,
        rules: input.rules,
        default_value: input.default_value,
        split_charge_rules: input.split_charge_rules,
        effective_start: effective_start.clone(),
        processing_status: "PROCESSING".into(),
        tags,
    });
    Ok(json!({ "CostCategoryArn": arn, "EffectiveStart": effective_start }))
}

/// Cost Explorer API reference, DescribeCostCategoryDefinition: `CostCategoryArn`, optional
/// `EffectiveOn` ("If there's no EffectiveOn specified, you see a Cost Category that's effective
/// on the current date. If Cost Category is still effective, EffectiveEnd is omitted");
/// ResourceNotFoundException.
pub(super) fn describe_cost_category(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let i = cost_category_index(acct, body)?;
    let on = zoned_date_time(body, "EffectiveOn", "effectiveOn")?;
    let c = &acct.cost_categories[i];
    if !effective_on(c, on) {
        return Err(ce_not_found(&c.arn));
    }
    Ok(json!({ "CostCategory": cost_category_json(c) }))
}

/// Cost Explorer API reference, UpdateCostCategoryDefinition: `CostCategoryArn`, `RuleVersion`
/// and `Rules` required, `DefaultValue`, `SplitChargeRules`, `EffectiveStart`; answers
/// `CostCategoryArn` and `EffectiveStart`; ResourceNotFoundException. "Changes made to the cost
/// category rules will be used to categorize the current month's expenses and future expenses":
/// the request is the whole new definition, so a `DefaultValue` or `SplitChargeRules` left out
/// is removed (not documented in so many words).
pub(super) fn update_cost_category(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = cost_category_index(acct, body)?;
    let input = parse_cost_category_input(body, "update")?;
    let c = &mut acct.cost_categories[i];
    c.rule_version = input.rule_version;
    c.rules = input.rules;
    c.default_value = input.default_value;
    c.split_charge_rules = input.split_charge_rules;
    c.effective_start = input.effective_start;
    c.processing_status = "PROCESSING".into();
    Ok(json!({ "CostCategoryArn": c.arn, "EffectiveStart": c.effective_start }))
}

/// Cost Explorer API reference, DeleteCostCategoryDefinition: "Expenses from this month going
/// forward will no longer be categorized with this cost category"; answers `CostCategoryArn`
/// and `EffectiveEnd` (taken as the first day of the current month); ResourceNotFoundException.
/// The stand-in forgets the category (no listing of ended categories by an earlier
/// `EffectiveOn`).
pub(super) fn delete_cost_category(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = cost_category_index(acct, body)?;
    let removed = acct.cost_categories.remove(i);
    Ok(json!({ "CostCategoryArn": removed.arn, "EffectiveEnd": month_start() }))
}

/// Cost Explorer API reference, ListCostCategoryDefinitions: `EffectiveOn` ("If there is no
/// EffectiveOn specified, you'll see cost categories that are effective on the current date"),
/// `NextToken` (0–8192), `MaxResults` (1–100), `SupportedResourceTypes` (0–5 of the ResourceType
/// pattern; checked against the two documented values, otherwise not modelled: every category
/// is listed); answers `CostCategoryReferences` and `NextToken`. The operation documents no
/// InvalidNextTokenException: a token that is not one of ours is a ValidationException.
pub(super) fn list_cost_categories(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    let on = zoned_date_time(body, "EffectiveOn", "effectiveOn")?;
    let max = max_results(body, "MaxResults", 100, COST_CATEGORY_DEFAULT_PAGE)?;
    let token = optional_str(body, "NextToken", "nextToken").map_err(ce_validation)?;
    if let Some(t) = token {
        check_string(t, "nextToken", 0, 8192, None).map_err(ce_validation)?;
    }
    if let Some(types) = list_at(body, "SupportedResourceTypes", "supportedResourceTypes")? {
        check_length(types, "supportedResourceTypes", 0, 5)?;
        for t in strings_at(types, "supportedResourceTypes", 0, usize::MAX)? {
            check_string(
                t,
                "supportedResourceTypes.member",
                0,
                usize::MAX,
                pat(&RESOURCE_TYPE),
            )
            .map_err(ce_validation)?;
            check_enum(
                t,
                "supportedResourceTypes.member",
                &SUPPORTED_RESOURCE_TYPES,
            )
            .map_err(ce_validation)?;
        }
    }
    let items: Vec<Value> = acct
        .cost_categories
        .iter()
        .filter(|c| effective_on(c, on))
        .map(cost_category_reference_json)
        .collect();
    let scope = format!("ListCostCategoryDefinitions|{:?}", on.map(zoned));
    let (items, next) = page(&items, token, max, &scope)
        .map_err(|()| ce_validation("The NextToken is not valid.".into()))?;
    let mut out = json!({ "CostCategoryReferences": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}
