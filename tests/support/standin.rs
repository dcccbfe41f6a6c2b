//! A stateful stand-in for the AWS operations moto does not serve (its server answers them with
//! HTTP 500, which the SDK retries): Bedrock application inference profiles, Cost Explorer
//! cost-allocation tags, cost categories and Cost Anomaly Detection, Data Exports, AWS Budgets
//! budget actions and CloudWatch Logs Insights query definitions. It is a [`StrictRule`] on the
//! test proxy that answers these requests itself and forwards everything else to moto. (moto
//! serves part of the cost-category API but not `ListCostCategoryDefinitions`; the stand-in
//! serves all of it, so that one store holds the categories. moto serves budgets themselves but
//! not their actions: the stand-in learns which budgets exist from moto's answers passing
//! through the proxy, see [`BUDGET_OBSERVED_OPERATIONS`].)
//!
//! Every rule names the AWS document it follows. Where a behaviour could not be confirmed from a
//! document, the comment says so and says what was chosen. The sources are:
//!
//! - the service API references, read from their published models (botocore's `service-2.json`
//!   for `bedrock` 2023-04-20, `ce` 2017-10-25, `bcm-data-exports` 2023-11-26, `budgets`
//!   2016-10-20 and `logs` 2014-03-28 carry the same text, patterns, lengths, HTTP codes and
//!   error shapes as the API reference pages), checked against the member names of the Rust
//!   SDK's serializers;
//! - the user guides named at each rule;
//! - AWS behaviour reported in public issue threads, named where used (error messages AWS sends
//!   that the references do not print).
//!
//! State is kept per account. The account of a request is the one registered for the access key
//! of its SigV4 credential scope ([`StandIn::register_access_key`]), else moto's default
//! `123456789012`.
#![allow(dead_code)]
// The error of every handler is the AWS error answer itself; these run once per request.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex, MutexGuard};

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use regex::Regex;
use serde_json::{Map, Value, json};

use super::proxy::{Protocol, Reply, StrictRequest, StrictRule, Verdict};

// A path of its own: examples/aws_standin.rs includes this file from another directory.
#[path = "standin/pricelist.rs"]
mod pricelist;
pub use pricelist::{FIXTURE_OFFERS, fixture};
#[path = "standin/models.rs"]
mod models;
pub use models::FoundationModel;

/// moto's account, the one every unregistered access key maps to.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Data Exports is served in this region only (API reference: "The Data Exports API provides the
/// following endpoint: https://bcm-data-exports.us-east-1.api.aws").
pub const DATA_EXPORTS_REGION: &str = "us-east-1";

// ---------------------------------------------------------------------------
// State, as tests see it

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

/// A cost-allocation tag key AWS has seen on billed usage.
#[derive(Clone, Debug, PartialEq)]
pub struct CostAllocationTag {
    pub account: String,
    pub key: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// `UserDefined` (the stand-in knows no AWS-generated tags).
    pub tag_type: String,
    /// When the status last changed through the API (`LastUpdatedDate`).
    pub last_updated: Option<String>,
    /// `LastUsedDate`: when billing last saw the key.
    pub last_used: String,
}

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

/// The IAM part of a budget action's definition (`Definition.IamActionDefinition`).
#[derive(Clone, Debug, PartialEq)]
pub struct IamActionDefinition {
    pub policy_arn: String,
    /// As given (absent: empty).
    pub roles: Vec<String>,
    pub groups: Vec<String>,
    pub users: Vec<String>,
}

/// A recipient of a budget action's notifications (Budgets `Subscriber`).
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetSubscriber {
    /// `SNS` or `EMAIL`.
    pub subscription_type: String,
    pub address: String,
}

/// One entry of a budget action's history (Budgets `ActionHistory`).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionHistoryEntry {
    /// Seconds since the epoch.
    pub timestamp: f64,
    /// The status of the action after the event.
    pub status: String,
    /// `SYSTEM`, `CREATE_ACTION`, `UPDATE_ACTION` or `EXECUTE_ACTION` (`DELETE_ACTION` is never
    /// readable: the history goes with the action).
    pub event_type: String,
    pub message: String,
    /// The action as it was after the event, as DescribeBudgetAction shows it.
    pub action: Value,
}

/// A budget action.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetAction {
    pub account: String,
    pub budget_name: String,
    /// A version-4 UUID.
    pub action_id: String,
    /// `ACTUAL` or `FORECASTED`.
    pub notification_type: String,
    /// `APPLY_IAM_POLICY`, `APPLY_SCP_POLICY` or `RUN_SSM_DOCUMENTS`.
    pub action_type: String,
    pub threshold_value: f64,
    /// `PERCENTAGE` or `ABSOLUTE_VALUE`.
    pub threshold_type: String,
    /// `Definition` as stored: the one member that matches the action type, as given.
    pub definition: Value,
    /// The IAM definition, for an `APPLY_IAM_POLICY` action.
    pub iam: Option<IamActionDefinition>,
    pub execution_role_arn: String,
    /// `AUTOMATIC` or `MANUAL`.
    pub approval_model: String,
    /// `ActionStatus`: `STANDBY`, `PENDING`, `EXECUTION_SUCCESS`, `REVERSE_SUCCESS`, … (see
    /// [`BUDGET_ACTION_STATUSES`]).
    pub status: String,
    pub subscribers: Vec<BudgetSubscriber>,
    pub tags: BTreeMap<String, String>,
    /// Oldest first.
    pub history: Vec<ActionHistoryEntry>,
    /// An execution still under way, with [`StandIn::set_budget_action_progress`].
    pub progress: Option<ActionProgress>,
}

/// How an execution shows in reads until it is done: first `stale_reads` reads of the status
/// before the request, then `in_progress_reads` of the `*_IN_PROGRESS` status (the action's
/// `status` meanwhile), then `after`.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionProgress {
    pub before: String,
    pub stale_reads: usize,
    pub in_progress_reads: usize,
    pub after: String,
}

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

/// Everything one account holds. Tests may change it directly with [`StandIn::mutate`] to
/// simulate changes made outside the tool.
#[derive(Clone, Debug, Default)]
pub struct AccountState {
    /// A member (linked) account of an organization: no access to cost-allocation tags or cost
    /// categories, and no management-account-only anomaly monitors.
    pub member: bool,
    pub inference_profiles: Vec<InferenceProfile>,
    /// By key.
    pub cost_allocation_tags: BTreeMap<String, CostAllocationTag>,
    pub anomaly_monitors: Vec<AnomalyMonitor>,
    pub anomaly_subscriptions: Vec<AnomalySubscription>,
    /// In creation order.
    pub cost_categories: Vec<CostCategory>,
    pub exports: Vec<DataExport>,
    /// The names of the budgets moto holds for this account, as far as the proxy has seen (see
    /// [`BUDGET_OBSERVED_OPERATIONS`]). Not part of [`StandIn::snapshot`]: the budgets are
    /// moto's.
    pub budgets: BTreeSet<String>,
    /// In creation order.
    pub budget_actions: Vec<BudgetAction>,
    /// All Regions, in creation order.
    pub query_definitions: Vec<QueryDefinition>,
    /// CreateInferenceProfile `clientRequestToken` → (request fingerprint, profile ARN).
    idempotency: HashMap<String, (String, String)>,
    /// PutQueryDefinition `region|clientToken` → (request fingerprint, query definition ID).
    query_tokens: HashMap<String, (String, String)>,
}

impl AccountState {
    fn is_empty(&self) -> bool {
        self.inference_profiles.is_empty()
            && self.cost_allocation_tags.is_empty()
            && self.anomaly_monitors.is_empty()
            && self.anomaly_subscriptions.is_empty()
            && self.cost_categories.is_empty()
            && self.exports.is_empty()
            && self.budget_actions.is_empty()
            && self.query_definitions.is_empty()
    }
}

#[derive(Default)]
struct State {
    accounts: BTreeMap<String, AccountState>,
    /// Access key ID → account ID.
    access_keys: HashMap<String, String>,
    /// How budget-action executions progress: (stale reads, in-progress reads); `None`
    /// completes each at once.
    budget_action_progress: Option<(usize, usize)>,
}

impl State {
    fn account(&mut self, id: &str) -> &mut AccountState {
        self.accounts.entry(id.to_string()).or_default()
    }
}

/// The stand-in. Install it on the proxy (`TestEnv::new` does) before the strict rules.
#[derive(Default)]
pub struct StandIn {
    state: Mutex<State>,
    /// The Price List API's products: read-only data, apart from the tests' replacements.
    price_list: Mutex<pricelist::PriceList>,
    /// Bedrock's model catalogue by region (ListFoundationModels).
    foundation_models: Mutex<BTreeMap<String, Vec<FoundationModel>>>,
}

/// Who is asking, and where.
struct Ctx {
    account: String,
    region: String,
}

impl StandIn {
    pub fn new() -> StandIn {
        StandIn::default()
    }

    fn models_lock(&self) -> MutexGuard<'_, BTreeMap<String, Vec<FoundationModel>>> {
        self.foundation_models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test must not take the proxy's answers down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    // -- test controls --------------------------------------------------------

    /// Forgets everything: resources, billing history, access keys and member flags (as
    /// `Moto::reset` does for moto).
    pub fn reset(&self) {
        *self.lock() = State::default();
        *self.prices() = pricelist::PriceList::default();
        self.models_lock().clear();
    }

    /// Requests signed with `access_key_id` act in `account_id` (unknown keys act in
    /// [`DEFAULT_ACCOUNT`]).
    pub fn register_access_key(&self, access_key_id: &str, account_id: &str) {
        self.lock()
            .access_keys
            .insert(access_key_id.to_string(), account_id.to_string());
    }

    /// AWS has seen these tag keys on billed usage of the default account: they are listed as
    /// `Inactive` user-defined cost-allocation tags until activated. Keys already known keep
    /// their status.
    pub fn tag_keys_seen_in_billing(&self, keys: &[&str]) {
        self.tag_keys_seen_in_billing_of(DEFAULT_ACCOUNT, keys);
    }

    /// [`Self::tag_keys_seen_in_billing`] for another account.
    pub fn tag_keys_seen_in_billing_of(&self, account: &str, keys: &[&str]) {
        let mut state = self.lock();
        let acct = state.account(account);
        let month = month_start();
        for key in keys {
            acct.cost_allocation_tags
                .entry(key.to_string())
                .or_insert_with(|| CostAllocationTag {
                    account: account.to_string(),
                    key: key.to_string(),
                    status: "Inactive".into(),
                    tag_type: "UserDefined".into(),
                    last_updated: None,
                    last_used: month.clone(),
                });
        }
    }

    /// Makes the default account a member (linked) account of an organization, or not. A
    /// member account gets AccessDeniedException from ListCostAllocationTags and
    /// UpdateCostAllocationTagsStatus, and may create only DIMENSIONAL SERVICE anomaly monitors
    /// (the others are the management account's). Data Exports works as for any account: the
    /// Data Exports user guide, "Using Data Exports with AWS Organizations": "Member accounts can
    /// also create data exports, but these exports only contain the billing and cost management
    /// data for that specific member account." A member account may not create
    /// `APPLY_SCP_POLICY` budget actions (Billing user guide, "Configuring AWS Budgets actions":
    /// "Only a management account can apply SCPs"); the other budget actions and query
    /// definitions work as for any account.
    pub fn set_member_account(&self, member: bool) {
        self.set_member_account_of(DEFAULT_ACCOUNT, member);
    }

    /// [`Self::set_member_account`] for another account.
    pub fn set_member_account_of(&self, account: &str, member: bool) {
        self.lock().account(account).member = member;
    }

    /// Changes the default account's state directly: what someone did outside the tool.
    pub fn mutate<R>(&self, f: impl FnOnce(&mut AccountState) -> R) -> R {
        self.mutate_account(DEFAULT_ACCOUNT, f)
    }

    /// [`Self::mutate`] for another account.
    pub fn mutate_account<R>(&self, account: &str, f: impl FnOnce(&mut AccountState) -> R) -> R {
        let mut state = self.lock();
        f(state.account(account))
    }

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

    /// Writes the default match options into every string match of the default account's cost
    /// category rules and anomaly monitor specifications, as AWS may echo them: the Cost
    /// Explorer Expression reference gives `EQUALS` and `CASE_SENSITIVE` as the defaults, so a
    /// part without `MatchOptions` reads back with both, and `CASE_SENSITIVE` is added to the
    /// others. (Which form AWS returns is not documented; this is the longest one.)
    pub fn echo_default_match_options(&self) {
        fn spell_out(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    for (key, part) in map.iter_mut() {
                        if matches!(key.as_str(), "Dimensions" | "Tags" | "CostCategories")
                            && let Some(part) = part.as_object_mut()
                        {
                            let options = part
                                .entry("MatchOptions")
                                .or_insert_with(|| json!(["EQUALS"]));
                            if let Some(list) = options.as_array_mut()
                                && !list.iter().any(|o| o == "CASE_SENSITIVE")
                            {
                                list.push(json!("CASE_SENSITIVE"));
                            }
                        } else {
                            spell_out(part);
                        }
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(spell_out),
                _ => {}
            }
        }
        self.mutate(|acct| {
            for c in &mut acct.cost_categories {
                spell_out(&mut c.rules);
            }
            for m in &mut acct.anomaly_monitors {
                if let Some(spec) = &mut m.specification {
                    spell_out(spec);
                }
            }
        });
    }

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

    /// The default account has a budget named `name` in moto that the proxy has not seen (one
    /// created with the direct clients): budget actions may now be attached to it. See
    /// [`BUDGET_OBSERVED_OPERATIONS`].
    pub fn add_budget(&self, name: &str) {
        self.add_budget_to(DEFAULT_ACCOUNT, name);
    }

    /// [`Self::add_budget`] for another account.
    pub fn add_budget_to(&self, account: &str, name: &str) {
        self.lock()
            .account(account)
            .budgets
            .insert(name.to_string());
    }

    /// The budget names the stand-in knows for the default account.
    pub fn known_budgets(&self) -> Vec<String> {
        self.mutate(|acct| acct.budgets.iter().cloned().collect())
    }

    /// Spend crossed the action threshold of the default account's budget `budget_name`: what
    /// AWS does then to every action of the budget that is waiting for it (`STANDBY`). Billing
    /// user guide, "Configuring AWS Budgets actions": an action runs "either automatically or
    /// after your manual approval"; "Requires approval - The action was initiated, and is
    /// waiting for your approval". So an `AUTOMATIC` action is executed (`EXECUTION_SUCCESS`:
    /// the stand-in models execution as completing at once) and a `MANUAL` one becomes `PENDING`.
    /// Each gets a `SYSTEM` history entry. Actions in any other status have already gone off
    /// this period and are left alone. Returns how many actions went off.
    pub fn cross_budget_action_threshold(&self, budget_name: &str) -> usize {
        self.cross_budget_action_threshold_of(DEFAULT_ACCOUNT, budget_name)
    }

    /// [`Self::cross_budget_action_threshold`] for another account.
    pub fn cross_budget_action_threshold_of(&self, account: &str, budget_name: &str) -> usize {
        self.mutate_account(account, |acct| {
            let mut crossed = 0;
            for a in acct
                .budget_actions
                .iter_mut()
                .filter(|a| a.budget_name == budget_name && a.status == "STANDBY")
            {
                let (status, message) = if a.approval_model == "AUTOMATIC" {
                    (
                        "EXECUTION_SUCCESS",
                        "The threshold was exceeded; the action ran.",
                    )
                } else {
                    (
                        "PENDING",
                        "The threshold was exceeded; the action is waiting for approval.",
                    )
                };
                a.status = status.to_string();
                record_action_event(a, "SYSTEM", message);
                crossed += 1;
            }
            crossed
        })
    }

    /// Puts the budget action `action_id` (any account) in `status` directly, e.g. an
    /// `*_IN_PROGRESS` status the stand-in never shows on its own (its executions complete at
    /// once) or a `*_FAILURE`. No history entry is made. False when there is no such action.
    /// Budget-action executions take time from now on, as on AWS: after ExecuteBudgetAction, the
    /// first `stale_reads` reads of the action (DescribeBudgetAction and the listings) still
    /// show the status before the request, the next `in_progress_reads` show its
    /// `*_IN_PROGRESS` status (EXECUTION_, REVERSE_ or RESET_, which is also what locks the
    /// action meanwhile), and the read after those shows the result. The Budgets API reference
    /// lists the `*_IN_PROGRESS` statuses without saying how long they last; reads that lag
    /// behind a write are what any eventually consistent AWS API may give.
    pub fn set_budget_action_progress(&self, stale_reads: usize, in_progress_reads: usize) {
        self.lock().budget_action_progress = Some((stale_reads, in_progress_reads));
    }

    pub fn set_budget_action_status(&self, action_id: &str, status: &str) -> bool {
        assert!(
            BUDGET_ACTION_STATUSES.contains(&status),
            "{status} is not an ActionStatus"
        );
        let mut state = self.lock();
        state
            .accounts
            .values_mut()
            .flat_map(|acct| acct.budget_actions.iter_mut())
            .find(|a| a.action_id == action_id)
            .map(|a| a.status = status.to_string())
            .is_some()
    }

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

    // -- accessors --------------------------------------------------------------

    fn collect<T>(&self, f: impl Fn(&AccountState) -> Vec<T>) -> Vec<T> {
        self.lock().accounts.values().flat_map(f).collect()
    }

    /// Every application inference profile, all accounts and regions, in creation order.
    pub fn inference_profiles(&self) -> Vec<InferenceProfile> {
        self.collect(|a| a.inference_profiles.clone())
    }

    /// Every cost-allocation tag key billing has seen, all accounts.
    pub fn cost_allocation_tags(&self) -> Vec<CostAllocationTag> {
        self.collect(|a| a.cost_allocation_tags.values().cloned().collect())
    }

    /// The keys of the default account's active cost-allocation tags.
    pub fn active_cost_allocation_tags(&self) -> Vec<String> {
        self.cost_allocation_tags()
            .into_iter()
            .filter(|t| t.account == DEFAULT_ACCOUNT && t.status == "Active")
            .map(|t| t.key)
            .collect()
    }

    pub fn anomaly_monitors(&self) -> Vec<AnomalyMonitor> {
        self.collect(|a| a.anomaly_monitors.clone())
    }

    pub fn anomaly_subscriptions(&self) -> Vec<AnomalySubscription> {
        self.collect(|a| a.anomaly_subscriptions.clone())
    }

    /// Every cost category, all accounts, in creation order.
    pub fn cost_categories(&self) -> Vec<CostCategory> {
        self.collect(|a| a.cost_categories.clone())
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

    /// Every budget action, all accounts, in creation order.
    pub fn budget_actions(&self) -> Vec<BudgetAction> {
        self.collect(|a| a.budget_actions.clone())
    }

    /// Every query definition, all accounts and Regions, in creation order.
    pub fn query_definitions(&self) -> Vec<QueryDefinition> {
        self.collect(|a| a.query_definitions.clone())
    }

    /// The stand-in's state, normalised for comparing two runs: no generated IDs, ARN suffixes
    /// or timestamps (nor cost categories' effective dates and processing status, nor action
    /// histories); resources keyed by name (anomaly monitors and subscriptions, whose names
    /// need not be unique, as sorted lists; budget actions by budget name and what they apply,
    /// query definitions by Region and name, a second one under the same key as `key (2)`);
    /// references to monitors by monitor name; tags, subscribers and log groups sorted. Accounts
    /// that hold nothing are left out (the budget names seen in moto's answers are not the
    /// stand-in's and do not count).
    pub fn snapshot(&self) -> Value {
        let state = self.lock();
        let mut accounts = Map::new();
        for (id, acct) in &state.accounts {
            if acct.is_empty() {
                continue;
            }
            accounts.insert(id.clone(), snapshot_account(acct));
        }
        Value::Object(accounts)
    }
}

fn snapshot_account(acct: &AccountState) -> Value {
    let profiles: BTreeMap<String, Value> = acct
        .inference_profiles
        .iter()
        .map(|p| {
            (
                format!("{}/{}", p.region, p.name),
                json!({
                    "description": p.description,
                    "copy_from": normalise_profile_source(&p.copy_from),
                    "models": sorted(p.models.clone()),
                    "tags": p.tags,
                }),
            )
        })
        .collect();
    let tags: BTreeMap<String, Value> = acct
        .cost_allocation_tags
        .values()
        .map(|t| {
            (
                t.key.clone(),
                json!({"status": t.status, "type": t.tag_type}),
            )
        })
        .collect();
    let monitor_name = |arn: &str| {
        acct.anomaly_monitors
            .iter()
            .find(|m| m.arn == arn)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| format!("(deleted monitor {})", arn_kind(arn)))
    };
    let mut monitors: Vec<Value> = acct
        .anomaly_monitors
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "type": m.monitor_type,
                "dimension": m.dimension,
                "specification": m.specification,
                "tags": m.tags,
            })
        })
        .collect();
    monitors.sort_by_key(|v| v.to_string());
    let mut subscriptions: Vec<Value> = acct
        .anomaly_subscriptions
        .iter()
        .map(|s| {
            let mut subscribers: Vec<Value> = s
                .subscribers
                .iter()
                .map(|r| json!({"address": r.address, "type": r.subscriber_type}))
                .collect();
            subscribers.sort_by_key(|v| v.to_string());
            json!({
                "name": s.name,
                "monitors": sorted(s.monitor_arns.iter().map(|a| monitor_name(a)).collect()),
                "subscribers": subscribers,
                "frequency": s.frequency,
                "threshold_expression": s.threshold_expression,
                "tags": s.tags,
            })
        })
        .collect();
    subscriptions.sort_by_key(|v| v.to_string());
    let categories: BTreeMap<String, Value> = acct
        .cost_categories
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                json!({
                    "rule_version": c.rule_version,
                    "rules": c.rules,
                    "default_value": c.default_value,
                    "split_charge_rules": c.split_charge_rules,
                    "tags": c.tags,
                }),
            )
        })
        .collect();
    let exports: BTreeMap<String, Value> = acct
        .exports
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                json!({
                    "description": e.description,
                    "query": e.query,
                    "table_configurations": table_configurations_as_read(e),
                    "destination": e.destination,
                    "refresh_cadence": e.refresh_cadence,
                    "tags": e.tags,
                }),
            )
        })
        .collect();
    let actions = keyed_uniquely(
        acct.budget_actions
            .iter()
            .map(|a| {
                let mut subscribers: Vec<Value> = a
                    .subscribers
                    .iter()
                    .map(|s| json!({"type": s.subscription_type, "address": s.address}))
                    .collect();
                subscribers.sort_by_key(|v| v.to_string());
                (
                    format!("{}/{}", a.budget_name, action_target(a)),
                    json!({
                        "action_type": a.action_type,
                        "notification_type": a.notification_type,
                        "threshold": {"value": a.threshold_value, "type": a.threshold_type},
                        "definition": sorted_string_lists(&a.definition),
                        "execution_role_arn": a.execution_role_arn,
                        "approval_model": a.approval_model,
                        "status": a.status,
                        "subscribers": subscribers,
                        "tags": a.tags,
                    }),
                )
            })
            .collect(),
    );
    let queries = keyed_uniquely(
        acct.query_definitions
            .iter()
            .map(|q| {
                (
                    format!("{}/{}", q.region, q.name),
                    json!({
                        "query_language": q.query_language,
                        "query_string": q.query_string,
                        "log_group_names": sorted(q.log_group_names.clone()),
                        "parameters": q.parameters,
                    }),
                )
            })
            .collect(),
    );
    json!({
        "inference_profiles": profiles,
        "cost_allocation_tags": tags,
        "anomaly_monitors": monitors,
        "anomaly_subscriptions": subscriptions,
        "cost_categories": categories,
        "data_exports": exports,
        "budget_actions": actions,
        "query_definitions": queries,
    })
}

/// A map of `items` by key; values that share a key are sorted and the second and later get
/// `key (2)`, `key (3)`, … (so the map does not depend on creation order).
fn keyed_uniquely(items: Vec<(String, Value)>) -> BTreeMap<String, Value> {
    let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, value) in items {
        grouped.entry(key).or_default().push(value);
    }
    let mut out = BTreeMap::new();
    for (key, mut values) in grouped {
        values.sort_by_key(|v| v.to_string());
        for (i, value) in values.into_iter().enumerate() {
            let k = if i == 0 {
                key.clone()
            } else {
                format!("{key} ({})", i + 1)
            };
            out.insert(k, value);
        }
    }
    out
}

/// What a budget action applies, for its snapshot key: the IAM policy ARN, `scp:<policy ID>`
/// or `ssm:<sub-type>:<Region>`.
fn action_target(a: &BudgetAction) -> String {
    let d = &a.definition;
    match a.action_type.as_str() {
        "APPLY_IAM_POLICY" => d["IamActionDefinition"]["PolicyArn"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        "APPLY_SCP_POLICY" => format!(
            "scp:{}",
            d["ScpActionDefinition"]["PolicyId"]
                .as_str()
                .unwrap_or_default()
        ),
        _ => format!(
            "ssm:{}:{}",
            d["SsmActionDefinition"]["ActionSubType"]
                .as_str()
                .unwrap_or_default(),
            d["SsmActionDefinition"]["Region"]
                .as_str()
                .unwrap_or_default()
        ),
    }
}

/// `v` with every array of strings in it sorted (the order of roles, targets or instances
/// means nothing).
fn sorted_string_lists(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut items = items.clone();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(items)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_string_lists).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), sorted_string_lists(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A profile's source without the account (system-profile ARNs carry the caller's account).
fn normalise_profile_source(arn: &str) -> String {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        [a, p, s, r, _account, rest @ ..] => format!("{a}:{p}:{s}:{r}::{}", rest.join(":")),
        _ => arn.to_string(),
    }
}

fn arn_kind(arn: &str) -> &str {
    arn.rsplit(':')
        .next()
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

impl StrictRule for StandIn {
    fn before(&self, request: &StrictRequest) -> Verdict {
        let answer = match request.service.as_str() {
            "bedrock" => self.bedrock(request),
            "ce" => self.cost_explorer(request),
            "bcm-data-exports" => self.data_exports(request),
            "budgets" => self.budget_actions_op(request),
            "logs" => self.query_definitions_op(request),
            "pricing" => self.price_list_op(request),
            _ => None,
        };
        match answer {
            Some(reply) => Verdict::Answer(reply),
            None => Verdict::Forward,
        }
    }

    /// Reads moto's Budgets answers for the budgets they name; changes nothing.
    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.service == "budgets" {
            self.observe_budgets(request, reply);
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Wire helpers

fn request_id() -> String {
    uuid()
}

/// A random version-4 UUID.
fn uuid() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        8 + fastrand::u8(..4),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48),
    )
}

fn reply(status: u16, content_type: &'static str, body: &Value) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    Reply {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    }
}

const REST_JSON: &str = "application/json";
const AWS_JSON: &str = "application/x-amz-json-1.1";

/// A restJson (Bedrock) success.
fn rest_ok(status: u16, body: Value) -> Reply {
    reply(status, REST_JSON, &body)
}

/// A restJson error: `x-amzn-ErrorType` names it, the body carries `message` (and any extra
/// members of the error shape).
fn rest_error(status: u16, code: &str, message: &str, extra: Value) -> Reply {
    let mut body = json!({ "message": message });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    let mut r = reply(status, REST_JSON, &body);
    if let Ok(v) = HeaderValue::from_str(code) {
        r.headers
            .insert(HeaderName::from_static("x-amzn-errortype"), v);
    }
    r
}

/// An awsJson 1.1 (Cost Explorer, Data Exports) success.
fn json_ok(body: Value) -> Reply {
    reply(200, AWS_JSON, &body)
}

/// An awsJson 1.1 error: `__type` names it, `Message` says it (the member name in these
/// services' error shapes), plus any extra members.
fn json_error(status: u16, code: &str, message: &str, extra: Value) -> Reply {
    let mut body = json!({ "__type": code, "Message": message });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    reply(status, AWS_JSON, &body)
}

/// The access key ID of the request's SigV4 credential scope.
fn access_key_id(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let start = auth.find("Credential=")? + "Credential=".len();
    let credential = auth[start..].split([',', ' ']).next()?;
    let key = credential.split('/').next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// Decodes `%XX` escapes (not `+`: the SDKs escape spaces as `%20`).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// ISO 8601 with milliseconds, as restJson and the Data Exports timestamps are sent.
fn now_iso() -> String {
    now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Seconds since the epoch, as awsJson sends timestamps by default (Budgets).
fn epoch_seconds() -> f64 {
    now().timestamp_millis() as f64 / 1000.0
}

/// Milliseconds since the epoch (CloudWatch Logs' `Timestamp`).
fn epoch_millis() -> i64 {
    now().timestamp_millis()
}

/// Cost Explorer's `ZonedDateTime`: `2024-06-01T00:00:00Z`.
fn zoned_now() -> String {
    now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn month_start() -> String {
    now().format("%Y-%m-01T00:00:00Z").to_string()
}

/// Cost Explorer's `YearMonthDay`.
fn today() -> String {
    now().format("%Y-%m-%d").to_string()
}

/// An opaque pagination token for `offset` in a listing whose filters are `scope`.
fn encode_token(scope: &str, offset: usize) -> String {
    format!("{scope}\u{1}{offset}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The offset in a token made by [`encode_token`] for the same scope, if it is one.
fn decode_token(token: &str, scope: &str) -> Option<usize> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (s, offset) = text.split_once('\u{1}')?;
    (s == scope).then(|| offset.parse().ok()).flatten()
}

/// One page of `items`: the page and the token for the next one. `Err(())` for a token that is
/// not one of ours for this listing.
fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    max: usize,
    scope: &str,
) -> Result<(Vec<T>, Option<String>), ()> {
    let start = match token {
        None => 0,
        Some(t) => decode_token(t, scope)
            .filter(|o| *o <= items.len())
            .ok_or(())?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| encode_token(scope, end));
    Ok((items[start..end].to_vec(), next))
}

// -- validation ----------------------------------------------------------------

/// The message AWS's request validation gives: "1 validation error detected: Value 'x' at
/// 'field' failed to satisfy constraint: …".
fn constraint_message(value: &str, field: &str, constraint: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    )
}

/// Checks a string member's length (in characters) and pattern, as the API reference gives
/// them. `Err` carries the validation message.
fn check_string(
    value: &str,
    field: &str,
    min: usize,
    max: usize,
    pattern: Option<(&Regex, &str)>,
) -> Result<(), String> {
    let len = value.chars().count();
    if len < min {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if let Some((re, text)) = pattern
        && !re.is_match(value)
    {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {text}"),
        ));
    }
    Ok(())
}

fn check_enum(value: &str, field: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(constraint_message(
            value,
            field,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        ))
    }
}

fn missing(field: &str) -> String {
    format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    )
}

/// A required string member.
fn required_str<'a>(body: &'a Value, key: &str, field: &str) -> Result<&'a str, String> {
    match &body[key] {
        Value::String(s) => Ok(s),
        Value::Null => Err(missing(field)),
        other => Err(format!("Value {other} at '{field}' is not a string")),
    }
}

/// An optional string member.
fn optional_str<'a>(body: &'a Value, key: &str, field: &str) -> Result<Option<&'a str>, String> {
    match &body[key] {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(format!("Value {other} at '{field}' is not a string")),
    }
}

/// An optional list member (absent: empty).
fn optional_list<'a>(body: &'a Value, key: &str, field: &str) -> Result<&'a [Value], String> {
    match &body[key] {
        Value::Array(a) => Ok(a),
        Value::Null => Ok(&[]),
        other => Err(format!("Value {other} at '{field}' is not a list")),
    }
}

/// An anchored regex from an API-reference pattern.
fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("API reference pattern compiles")
}

macro_rules! pattern {
    ($name:ident, $text:expr) => {
        static $name: LazyLock<(Regex, &'static str)> = LazyLock::new(|| (anchored($text), $text));
    };
}

fn pat(p: &'static LazyLock<(Regex, &'static str)>) -> Option<(&'static Regex, &'static str)> {
    let (re, text) = &**p;
    Some((re, text))
}

// ---------------------------------------------------------------------------
// Amazon Bedrock: application inference profiles (restJson, signing name `bedrock`)

/// A system-defined (cross-Region) inference profile of the built-in catalogue.
struct SystemProfile {
    id: &'static str,
    name: &'static str,
    /// The foundation model's ID.
    model: &'static str,
    model_name: &'static str,
    /// Source Regions, which are also the destination Regions here.
    regions: &'static [&'static str],
}

const US_REGIONS: &[&str] = &["us-east-1", "us-east-2", "us-west-2"];
const EU_REGIONS: &[&str] = &["eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"];
/// The APAC geography reaches beyond `ap-` regions: the AWS CDK's CrossRegionInferenceProfile
/// Region reference lists Middle East (UAE) `me-central-1` among APAC's.
const APAC_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "me-central-1",
];
const JP_REGIONS: &[&str] = &["ap-northeast-1", "ap-northeast-3"];
const AU_REGIONS: &[&str] = &["ap-southeast-2", "ap-southeast-4"];
const CA_REGIONS: &[&str] = &["ca-central-1", "ca-west-1"];
const IN_REGIONS: &[&str] = &["ap-south-1", "ap-south-2"];
/// "The destination Regions for Global cross-Region inference profiles include all commercial
/// Regions" (user guide); a few of them here.
const GLOBAL_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "ap-northeast-1",
    "sa-east-1",
];

/// Amazon Bedrock User Guide, "Supported Regions and models for inference profiles": a
/// cross-Region (system-defined) profile is named after its model, carries a geography prefix
/// (`us.`, `eu.`, `apac.`, `global.`), is callable from its source Regions and routes to its
/// destination Regions; GetInferenceProfile's `models` lists one foundation-model ARN per
/// destination Region. The Region lists here are the guide's US and EU sets for these models as
/// of 2025; the guide notes some profiles route differently depending on the source Region, which
/// this small catalogue does not model (every source Region routes to all of its geography's).
/// One profile per other geography prefix the tool accepts (`apac.`, `jp.`, `au.`, `ca.`,
/// `in.`, `global.`) is shaped the same way, with a plausible region set for the geography,
/// so that each prefix can be created and read back.
const SYSTEM_PROFILES: &[SystemProfile] = &[
    SystemProfile {
        id: "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        name: "US Anthropic Claude 3.7 Sonnet",
        model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        model_name: "Anthropic Claude 3.7 Sonnet",
        regions: US_REGIONS,
    },
    SystemProfile {
        id: "us.anthropic.claude-3-5-haiku-20241022-v1:0",
        name: "US Anthropic Claude 3.5 Haiku",
        model: "anthropic.claude-3-5-haiku-20241022-v1:0",
        model_name: "Anthropic Claude 3.5 Haiku",
        regions: US_REGIONS,
    },
    SystemProfile {
        id: "us.amazon.nova-lite-v1:0",
        name: "US Nova Lite",
        model: "amazon.nova-lite-v1:0",
        model_name: "Nova Lite",
        regions: US_REGIONS,
    },
    SystemProfile {
        id: "eu.anthropic.claude-3-7-sonnet-20250219-v1:0",
        name: "EU Anthropic Claude 3.7 Sonnet",
        model: "anthropic.claude-3-7-sonnet-20250219-v1:0",
        model_name: "Anthropic Claude 3.7 Sonnet",
        regions: EU_REGIONS,
    },
    SystemProfile {
        id: "apac.anthropic.claude-sonnet-4-20250514-v1:0",
        name: "APAC Anthropic Claude Sonnet 4",
        model: "anthropic.claude-sonnet-4-20250514-v1:0",
        model_name: "Anthropic Claude Sonnet 4",
        regions: APAC_REGIONS,
    },
    SystemProfile {
        id: "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "JP Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: JP_REGIONS,
    },
    SystemProfile {
        id: "au.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "AU Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: AU_REGIONS,
    },
    SystemProfile {
        id: "ca.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "CA Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: CA_REGIONS,
    },
    SystemProfile {
        id: "in.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "IN Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: IN_REGIONS,
    },
    SystemProfile {
        id: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        name: "Global Anthropic Claude Sonnet 4.5",
        model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        model_name: "Anthropic Claude Sonnet 4.5",
        regions: GLOBAL_REGIONS,
    },
];

/// When the catalogue's profiles were created, as GetInferenceProfile shows it.
const SYSTEM_PROFILE_CREATED: &str = "2025-02-24T00:00:00Z";

impl SystemProfile {
    fn available_in(&self, region: &str) -> bool {
        self.regions.contains(&region)
    }

    fn arn(&self, ctx: &Ctx) -> String {
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{}",
            ctx.region, ctx.account, self.id
        )
    }

    fn models(&self) -> Vec<String> {
        self.regions
            .iter()
            .map(|r| format!("arn:aws:bedrock:{r}::foundation-model/{}", self.model))
            .collect()
    }

    fn json(&self, ctx: &Ctx) -> Value {
        let regions = match self.regions {
            [] => String::new(),
            [one] => one.to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        json!({
            "inferenceProfileName": self.name,
            "description": format!("Routes requests to {} in {regions}.", self.model_name),
            "createdAt": SYSTEM_PROFILE_CREATED,
            "updatedAt": SYSTEM_PROFILE_CREATED,
            "inferenceProfileArn": self.arn(ctx),
            "models": self.models().iter().map(|m| json!({"modelArn": m})).collect::<Vec<_>>(),
            "inferenceProfileId": self.id,
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        })
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
    fn context(&self, state: &State, request: &StrictRequest) -> Ctx {
        let account = access_key_id(&request.headers)
            .and_then(|k| state.access_keys.get(&k).cloned())
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
        let region = request
            .signing_region()
            .unwrap_or_else(|| "us-east-1".to_string());
        Ctx { account, region }
    }

    fn bedrock(&self, request: &StrictRequest) -> Option<Reply> {
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

// ---------------------------------------------------------------------------
// Cost Explorer (awsJson 1.1, `X-Amz-Target: AWSInsightsIndexService.<Op>`, signing name `ce`)

/// The Cost Explorer operations answered here (tagging only for anomaly monitors and
/// subscriptions and cost categories, the resources the stand-in holds; any other ARN is moto's).
const CE_OPERATIONS: [&str; 18] = [
    "ListCostAllocationTags",
    "UpdateCostAllocationTagsStatus",
    "CreateCostCategoryDefinition",
    "DescribeCostCategoryDefinition",
    "UpdateCostCategoryDefinition",
    "DeleteCostCategoryDefinition",
    "ListCostCategoryDefinitions",
    "CreateAnomalyMonitor",
    "GetAnomalyMonitors",
    "UpdateAnomalyMonitor",
    "DeleteAnomalyMonitor",
    "CreateAnomalySubscription",
    "GetAnomalySubscriptions",
    "UpdateAnomalySubscription",
    "DeleteAnomalySubscription",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Default page sizes. Cost Explorer API reference, ListCostAllocationTags: "By default, the
/// request returns 100 results"; GetAnomalyMonitors and GetAnomalySubscriptions document no
/// default, 100 is used for them too.
const CE_DEFAULT_PAGE: usize = 100;

/// AWS Cost Anomaly Detection FAQ: "CAD allows you to create up to one AWS Service Monitor and
/// 500 custom monitors (Linked Accounts, Cost Allocation Tags, Cost Categories). You can attach
/// up to the maximum of all 501 monitors to an alert subscription." (An older version of the
/// FAQ said 101.)
const MAX_CUSTOM_MONITORS: usize = 500;
const MAX_SUBSCRIPTION_MONITORS: usize = 501;

/// Cost Explorer API reference, ResourceTag / TagResource: "you can assign a maximum of 50
/// user-tags to one resource" (TooManyTagsException).
const CE_MAX_TAGS: usize = 50;

fn ce_validation(message: String) -> Reply {
    json_error(400, "ValidationException", &message, Value::Null)
}

/// What AWS answers a member (linked) account of an organization that asks about cost-allocation
/// tags: `AccessDeniedException` (HTTP 400) "Failed to list Cost Allocation Tags: Linked account
/// doesn't have access to cost allocation tags." (hashicorp/terraform-provider-aws#37636) and
/// "Failed to update Cost Allocation Tag: Linked account doesn't have access to cost allocation
/// tags." (2i2c-org/infrastructure#4932, runs-on/runs-on#458). The Billing user guide,
/// "Activating user-defined cost allocation tags": only the management account can activate
/// them.
fn linked_account_denied(action: &str) -> Reply {
    json_error(
        400,
        "AccessDeniedException",
        &format!("Failed to {action}: Linked account doesn't have access to cost allocation tags."),
        Value::Null,
    )
}

fn invalid_next_token() -> Reply {
    json_error(
        400,
        "InvalidNextTokenException",
        "The pagination token is invalid. Try again without a pagination token.",
        Value::Null,
    )
}

fn unknown_monitor(arn: &str) -> Reply {
    json_error(
        400,
        "UnknownMonitorException",
        &format!("Cost anomaly monitor {arn} does not exist for the account."),
        Value::Null,
    )
}

fn unknown_subscription(arn: &str) -> Reply {
    json_error(
        400,
        "UnknownSubscriptionException",
        &format!("Cost anomaly subscription {arn} does not exist for the account."),
        Value::Null,
    )
}

/// `MaxResults` of a CE listing: a positive integer, `default` when absent.
fn max_results(body: &Value, field: &str, max: i64, default: usize) -> Result<usize, Reply> {
    match &body[field] {
        Value::Null => Ok(default),
        v => match v.as_i64() {
            Some(n) if (1..=max).contains(&n) => Ok(n as usize),
            _ => Err(ce_validation(constraint_message(
                &v.to_string(),
                field,
                &format!("Member must have value between 1 and {max}"),
            ))),
        },
    }
}

fn string_list<'a>(body: &'a Value, key: &str) -> Result<Vec<&'a str>, Reply> {
    optional_list(body, key, key)
        .map_err(ce_validation)?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| ce_validation(format!("Value {v} at '{key}' is not a string")))
        })
        .collect()
}

impl StandIn {
    fn cost_explorer(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("AWSInsightsIndexService.")?;
        if !CE_OPERATIONS.contains(&op) {
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
        let tagging = matches!(op, "TagResource" | "UntagResource" | "ListTagsForResource");
        let arn = body["ResourceArn"].as_str().unwrap_or_default();
        if tagging
            && ![
                ":anomalymonitor/",
                ":anomalysubscription/",
                ":costcategory/",
            ]
            .iter()
            .any(|kind| arn.contains(kind))
        {
            return None;
        }
        let cost_category =
            op.contains("CostCategoryDefinition") || (tagging && arn.contains(":costcategory/"));
        let mut state = self.lock();
        let ctx = self.context(&state, request);
        let acct = state.account(&ctx.account);
        if cost_category && acct.member {
            return Some(cost_categories_denied(op));
        }
        let result = match op {
            "ListCostAllocationTags" => list_cost_allocation_tags(acct, &body),
            "UpdateCostAllocationTagsStatus" => update_cost_allocation_tags(acct, &body),
            "CreateCostCategoryDefinition" => create_cost_category(acct, &ctx, &body),
            "DescribeCostCategoryDefinition" => describe_cost_category(acct, &body),
            "UpdateCostCategoryDefinition" => update_cost_category(acct, &body),
            "DeleteCostCategoryDefinition" => delete_cost_category(acct, &body),
            "ListCostCategoryDefinitions" => list_cost_categories(acct, &body),
            "CreateAnomalyMonitor" => create_monitor(acct, &ctx, &body),
            "GetAnomalyMonitors" => get_monitors(acct, &body),
            "UpdateAnomalyMonitor" => update_monitor(acct, &body),
            "DeleteAnomalyMonitor" => delete_monitor(acct, &body),
            "CreateAnomalySubscription" => create_subscription(acct, &ctx, &body),
            "GetAnomalySubscriptions" => get_subscriptions(acct, &body),
            "UpdateAnomalySubscription" => update_subscription(acct, &body),
            "DeleteAnomalySubscription" => delete_subscription(acct, &body),
            "TagResource" => tag_ce_resource(acct, &body),
            "UntagResource" => untag_ce_resource(acct, &body),
            "ListTagsForResource" => list_ce_resource_tags(acct, &body),
            _ => return None,
        };
        Some(result.map(json_ok).unwrap_or_else(|e| e))
    }
}

// -- cost-allocation tags ---------------------------------------------------------

fn cost_allocation_tag_json(t: &CostAllocationTag) -> Value {
    let mut v = json!({
        "TagKey": t.key,
        "Type": t.tag_type,
        "Status": t.status,
        "LastUsedDate": t.last_used,
    });
    if let (Some(d), Some(o)) = (&t.last_updated, v.as_object_mut()) {
        o.insert("LastUpdatedDate".into(), json!(d));
    }
    v
}

/// Cost Explorer API reference, ListCostAllocationTags: optional filters `Status`
/// (Active|Inactive), `TagKeys` (1–100 keys), `Type` (AWSGenerated|UserDefined); `MaxResults`
/// 1–1000, 100 by default; `NextToken` (InvalidNextTokenException when not valid). The list
/// holds only keys billing has seen (Billing user guide, "Activating user-defined cost
/// allocation tags": a tag key appears on the Cost allocation tags page after AWS has seen it on
/// a resource's billed usage, up to 24 hours after it is applied).
fn list_cost_allocation_tags(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
    if acct.member {
        return Err(linked_account_denied("list Cost Allocation Tags"));
    }
    let status = optional_str(body, "Status", "status").map_err(ce_validation)?;
    if let Some(s) = status {
        check_enum(s, "status", &["Active", "Inactive"]).map_err(ce_validation)?;
    }
    let kind = optional_str(body, "Type", "type").map_err(ce_validation)?;
    if let Some(k) = kind {
        check_enum(k, "type", &["AWSGenerated", "UserDefined"]).map_err(ce_validation)?;
    }
    let keys = string_list(body, "TagKeys")?;
    if !body["TagKeys"].is_null() && !(1..=100).contains(&keys.len()) {
        return Err(ce_validation(constraint_message(
            &format!("{keys:?}"),
            "tagKeys",
            "Member must have length between 1 and 100",
        )));
    }
    for key in &keys {
        check_string(key, "tagKeys.member", 0, 1024, None).map_err(ce_validation)?;
    }
    let max = max_results(body, "MaxResults", 1000, CE_DEFAULT_PAGE)?;
    let token = optional_str(body, "NextToken", "nextToken").map_err(ce_validation)?;
    let items: Vec<Value> = acct
        .cost_allocation_tags
        .values()
        .filter(|t| status.is_none_or(|s| t.status == s))
        .filter(|t| kind.is_none_or(|k| t.tag_type == k))
        .filter(|t| keys.is_empty() || keys.contains(&t.key.as_str()))
        .map(cost_allocation_tag_json)
        .collect();
    let scope = format!("ListCostAllocationTags|{status:?}|{kind:?}|{keys:?}");
    let (items, next) = page(&items, token, max, &scope).map_err(|()| invalid_next_token())?;
    let mut out = json!({ "CostAllocationTags": items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

/// Cost Explorer API reference, UpdateCostAllocationTagsStatus: "Updates status for cost
/// allocation tags in bulk, with maximum batch size of 20" (1–20 entries, else a validation
/// error); setting the status a tag already has "doesn't have any effect". A key that cannot be
/// updated is not an error of the call: HTTP 200 with an `Errors` entry per key. The reference's
/// Example 2 shows the entry for a key AWS does not know: `{"TagKey": "tagC", "Code":
/// "TagKeysNotFoundException", "Message": "Failed to update Cost Allocation Tag: tagC"}`.
fn update_cost_allocation_tags(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if acct.member {
        return Err(linked_account_denied("update Cost Allocation Tag"));
    }
    let entries = match &body["CostAllocationTagsStatus"] {
        Value::Null => return Err(ce_validation(missing("costAllocationTagsStatus"))),
        Value::Array(a) => a,
        other => {
            return Err(ce_validation(format!(
                "Value {other} at 'costAllocationTagsStatus' is not a list"
            )));
        }
    };
    if entries.is_empty() || entries.len() > 20 {
        let constraint = if entries.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 20"
        };
        return Err(ce_validation(constraint_message(
            &format!("[{} entries]", entries.len()),
            "costAllocationTagsStatus",
            constraint,
        )));
    }
    let mut updates = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = |m: &str| format!("costAllocationTagsStatus.{}.member.{m}", i + 1);
        let key = required_str(entry, "TagKey", &field("tagKey")).map_err(ce_validation)?;
        check_string(key, &field("tagKey"), 0, 1024, None).map_err(ce_validation)?;
        let status = required_str(entry, "Status", &field("status")).map_err(ce_validation)?;
        check_enum(status, &field("status"), &["Active", "Inactive"]).map_err(ce_validation)?;
        updates.push((key, status));
    }
    let mut errors = Vec::new();
    for (key, status) in updates {
        match acct.cost_allocation_tags.get_mut(key) {
            Some(tag) => {
                if tag.status != status {
                    tag.status = status.to_string();
                    tag.last_updated = Some(zoned_now());
                }
            }
            None => errors.push(json!({
                "TagKey": key,
                "Code": "TagKeysNotFoundException",
                "Message": format!("Failed to update Cost Allocation Tag: {key}"),
            })),
        }
    }
    Ok(json!({ "Errors": errors }))
}

// -- anomaly monitors and subscriptions -------------------------------------------

// Cost Explorer API reference, ResourceTag: keys 1–128, values 0–256, of
// `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`.
pattern!(CE_TAG, r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$");
// Cost Explorer API reference, AnomalySubscription.MonitorArnList (Arn) and Subscriber.Address.
pattern!(
    CE_ARN,
    "arn:aws[-a-z0-9]*:[a-z0-9]+:[-a-z0-9]*:[0-9]{12}:[-a-zA-Z0-9/:_]+"
);
pattern!(
    SUBSCRIBER_ADDRESS,
    r"(^[a-zA-Z0-9.!#$%&'*+=?^_‘{|}~-]+@[a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)+$)|(^arn:(aws[a-zA-Z-]*):sns:[a-zA-Z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]+(\.fifo)?$)"
);

/// Cost Explorer API reference, CreateAnomalyMonitor / TagResource `ResourceTags`: "Although the
/// maximum number of array members is 200, you can assign a maximum of 50 user-tags to one
/// resource"; keys at most 128 and values 256 characters of letters, numbers, spaces and
/// `_.:/=+@-`; "Keys and values are trimmed for any leading or trailing whitespaces"; "Don't use
/// aws: as a prefix for your keys".
fn ce_tags(list: &[Value], field: &str) -> Result<Vec<(String, String)>, Reply> {
    if list.len() > 200 {
        return Err(ce_validation(constraint_message(
            &format!("[{} tags]", list.len()),
            field,
            "Member must have length less than or equal to 200",
        )));
    }
    let mut tags = Vec::new();
    for (i, tag) in list.iter().enumerate() {
        let at = |m: &str| format!("{field}.{}.member.{m}", i + 1);
        let key = required_str(tag, "Key", &at("key")).map_err(ce_validation)?;
        check_string(key, &at("key"), 1, 128, pat(&CE_TAG)).map_err(ce_validation)?;
        let value = required_str(tag, "Value", &at("value")).map_err(ce_validation)?;
        check_string(value, &at("value"), 0, 256, pat(&CE_TAG)).map_err(ce_validation)?;
        let key = key.trim();
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(ce_validation(format!(
                "The aws: prefix is reserved for AWS use and cannot be used in a tag key: {key}"
            )));
        }
        tags.push((key.to_string(), value.trim().to_string()));
    }
    Ok(tags)
}

fn too_many_ce_tags(arn: &str) -> Reply {
    json_error(
        400,
        "TooManyTagsException",
        "A resource can have at most 50 user tags.",
        json!({ "ResourceName": arn }),
    )
}

const EXPRESSION_ROOTS: [&str; 6] = ["And", "Or", "Not", "Dimensions", "Tags", "CostCategories"];

/// Cost Explorer API reference, Expression: "Because each Expression can have only one operator,
/// the service returns an error if more than one is specified", with the message "Expression has
/// more than one roots. Only one root operator is allowed for each expression: And, Or, Not,
/// Dimensions, Tags, CostCategories".
fn expression_root(e: &Value) -> Result<&'static str, String> {
    if !e.is_object() {
        return Err(format!("Expression {e} is not an object"));
    }
    let present: Vec<&'static str> = EXPRESSION_ROOTS
        .iter()
        .copied()
        .filter(|k| !e[*k].is_null())
        .collect();
    match present.as_slice() {
        [one] => Ok(one),
        [] => Err("Expression has no root. One root operator is required for each expression: And, Or, Not, Dimensions, Tags, CostCategories".into()),
        _ => Err("Expression has more than one roots. Only one root operator is allowed for each expression: And, Or, Not, Dimensions, Tags, CostCategories".into()),
    }
}

fn expression_values(part: &Value) -> Vec<&str> {
    part["Values"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
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
fn create_monitor(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
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
fn get_monitors(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
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
fn update_monitor(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
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
fn delete_monitor(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = monitor_index(acct, body)?;
    acct.anomaly_monitors.remove(i);
    Ok(json!({}))
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
fn create_subscription(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
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
fn get_subscriptions(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
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
fn update_subscription(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
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
fn delete_subscription(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let i = subscription_index(acct, body)?;
    acct.anomaly_subscriptions.remove(i);
    Ok(json!({}))
}

/// Cost Explorer API reference, ResourceNotFoundException: "The specified ARN in the request
/// doesn't exist", with `ResourceName`.
fn ce_not_found(arn: &str) -> Reply {
    json_error(
        400,
        "ResourceNotFoundException",
        &format!("The specified ARN in the request doesn't exist: {arn}"),
        json!({ "ResourceName": arn }),
    )
}

/// The tags of the anomaly monitor, subscription or cost category a CE tagging request names.
/// Cost Explorer API reference, TagResource: ResourceNotFoundException.
fn ce_resource_tags<'a>(
    acct: &'a mut AccountState,
    body: &Value,
) -> Result<(String, &'a mut BTreeMap<String, String>), Reply> {
    let arn = required_str(body, "ResourceArn", "resourceArn").map_err(ce_validation)?;
    check_string(arn, "resourceArn", 20, 2048, pat(&CE_ARN)).map_err(ce_validation)?;
    if let Some(m) = acct.anomaly_monitors.iter_mut().find(|m| m.arn == arn) {
        return Ok((m.arn.clone(), &mut m.tags));
    }
    if let Some(s) = acct.anomaly_subscriptions.iter_mut().find(|s| s.arn == arn) {
        return Ok((s.arn.clone(), &mut s.tags));
    }
    if let Some(c) = acct.cost_categories.iter_mut().find(|c| c.arn == arn) {
        return Ok((c.arn.clone(), &mut c.tags));
    }
    Err(ce_not_found(arn))
}

/// Cost Explorer API reference, TagResource: "If you specify a new tag key for the resource,
/// this tag is appended … If you specify a tag key that is already associated with the resource,
/// the new tag value you specify replaces the previous value"; 50 user tags at most.
fn tag_ce_resource(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["ResourceTags"].is_null() {
        return Err(ce_validation(missing("resourceTags")));
    }
    let tags = ce_tags(
        optional_list(body, "ResourceTags", "resourceTags").map_err(ce_validation)?,
        "resourceTags",
    )?;
    let (arn, existing) = ce_resource_tags(acct, body)?;
    let mut merged = existing.clone();
    merged.extend(tags);
    if merged.len() > CE_MAX_TAGS {
        return Err(too_many_ce_tags(&arn));
    }
    *existing = merged;
    Ok(json!({}))
}

/// Cost Explorer API reference, UntagResource: `ResourceTagKeys` (at most 200); "If you specify
/// a tag key that doesn't exist, it's ignored."
fn untag_ce_resource(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    if body["ResourceTagKeys"].is_null() {
        return Err(ce_validation(missing("resourceTagKeys")));
    }
    let keys = string_list(body, "ResourceTagKeys")?;
    if keys.len() > 200 {
        return Err(ce_validation(constraint_message(
            &format!("[{} keys]", keys.len()),
            "resourceTagKeys",
            "Member must have length less than or equal to 200",
        )));
    }
    for key in &keys {
        check_string(key, "resourceTagKeys.member", 1, 128, pat(&CE_TAG)).map_err(ce_validation)?;
    }
    let (_, existing) = ce_resource_tags(acct, body)?;
    for key in keys {
        existing.remove(key);
    }
    Ok(json!({}))
}

/// Cost Explorer API reference, ListTagsForResource: `{"ResourceTags": [{"Key", "Value"}]}`.
fn list_ce_resource_tags(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
    let (_, existing) = ce_resource_tags(acct, body)?;
    let tags: Vec<Value> = existing
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({ "ResourceTags": tags }))
}

// -- cost categories ---------------------------------------------------------------

/// Cost Explorer API reference, CostCategoryRuleVersion: the only rule schema version.
const COST_CATEGORY_RULE_VERSION: &str = "CostCategoryExpression.v1";

/// Billing user guide, "Quotas and restrictions", Cost categories: "The total number of cost
/// categories for a management account: 50"; "The number of cost category rules for a cost
/// category (API): 500" (also the API reference's `Rules` length, 1–500); "The number of split
/// charge rules for a cost category: 10" (the reference's `SplitChargeRules`, 1–10).
const MAX_COST_CATEGORIES: usize = 50;
const MAX_COST_CATEGORY_RULES: usize = 500;
const MAX_SPLIT_CHARGE_RULES: usize = 10;

/// ListCostCategoryDefinitions page size without `MaxResults`. The reference says only "The
/// request can have a MaxResults range up to 100"; a small default page makes a caller that
/// ignores `NextToken` visible.
const COST_CATEGORY_DEFAULT_PAGE: usize = 10;

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

/// Cost Explorer API reference, CostCategoryName and CostCategoryValue: 1–50 characters of
/// `^(?! )[\p{L}\p{N}\p{Z}-_]*(?<! )$` (Billing user guide, "Quotas and restrictions": numbers,
/// Unicode letters, space "if it's not used at the beginning or end of the name", underscore
/// and dash). The regex crate has no look-around: the same language is written without it; the
/// message quotes the reference's pattern.
static COST_CATEGORY_NAME: LazyLock<(Regex, &'static str)> = LazyLock::new(|| {
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
fn cost_category_failure(action: &str, detail: &str) -> Reply {
    ce_validation(format!("Failed to {action} Cost Category: {detail}"))
}

/// What a member (linked) account gets from every cost-category operation. Billing user guide,
/// "Creating cost categories": "Cost categories are available only to management accounts of
/// AWS Organizations" (an older version: "Regular accounts and the management account in AWS
/// Organizations have default access to create cost categories"). The answer AWS gives a member
/// account is not documented; the stand-in answers as Cost Explorer does for cost-allocation
/// tags (see [`linked_account_denied`]): AccessDeniedException, HTTP 400, "Failed to …: Linked
/// account doesn't have access to …".
fn cost_categories_denied(op: &str) -> Reply {
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

fn check_category_name(value: &str, field: &str) -> Result<(), Reply> {
    check_string(value, field, 1, 50, pat(&COST_CATEGORY_NAME)).map_err(ce_validation)
}

/// A list member that must be a JSON array when present.
fn list_at<'a>(body: &'a Value, key: &str, field: &str) -> Result<Option<&'a [Value]>, Reply> {
    match &body[key] {
        Value::Null => Ok(None),
        Value::Array(a) => Ok(Some(a)),
        other => Err(ce_validation(format!(
            "Value {other} at '{field}' is not a list"
        ))),
    }
}

/// A list's length against the model's bounds.
fn check_length(list: &[Value], field: &str, min: usize, max: usize) -> Result<(), Reply> {
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
fn strings_at<'a>(
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
fn check_cost_category_rules(rules: &[Value], action: &str) -> Result<(), Reply> {
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
fn check_split_charge_rules(rules: &[Value], action: &str) -> Result<(), Reply> {
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
fn create_cost_category(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
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
fn describe_cost_category(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
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
fn update_cost_category(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
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
fn delete_cost_category(acct: &mut AccountState, body: &Value) -> Result<Value, Reply> {
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
fn list_cost_categories(acct: &AccountState, body: &Value) -> Result<Value, Reply> {
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

// ---------------------------------------------------------------------------
// Data Exports (awsJson 1.1, `X-Amz-Target: AWSBillingAndCostManagementDataExports.<Op>`,
// signing name `bcm-data-exports`, us-east-1 only)

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
const CUR2_TABLE: &str = "COST_AND_USAGE_REPORT";

/// Data Exports user guide, "Creating data exports": "You can create the following number of
/// exports per table: Cost and Usage Report 2.0 (CUR 2.0): 5 exports".
const MAX_CUR2_EXPORTS: usize = 5;

/// ListExports / ListTagsForResource page size without `MaxResults` (not documented).
const DATA_EXPORTS_DEFAULT_PAGE: usize = 20;

/// Data Exports user guide, table dictionary, "Cost and Usage Report (CUR) 2.0 — Table
/// configurations": the properties of COST_AND_USAGE_REPORT and their valid values
/// (TIME_GRANULARITY HOURLY|DAILY|MONTHLY; the INCLUDE_* switches TRUE|FALSE; BILLING_VIEW_ARN
/// the billing view whose data is exported).
const CUR2_PROPERTIES: [(&str, &[&str]); 6] = [
    ("TIME_GRANULARITY", &["HOURLY", "DAILY", "MONTHLY"]),
    ("INCLUDE_RESOURCES", &["TRUE", "FALSE"]),
    ("INCLUDE_SPLIT_COST_ALLOCATION_DATA", &["TRUE", "FALSE"]),
    ("INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY", &["TRUE", "FALSE"]),
    ("INCLUDE_CAPACITY_RESERVATION_DATA", &["TRUE", "FALSE"]),
    ("INCLUDE_IAM_PRINCIPAL_DATA", &["TRUE", "FALSE"]),
];

/// Columns that exist only when a table configuration adds them (table dictionary: INCLUDE_RESOURCES
/// "adds the line_item_resource_id column to the table schema"; split cost allocation data adds
/// the `split_line_item_*` columns; the capacity reservation columns are "Added by: INCLUDE
/// CAPACITY RESERVATION DATA"; INCLUDE_IAM_PRINCIPAL_DATA adds `line_item_iam_principal`).
/// Selecting one without its configuration is refused with "The columns in the query provided
/// are not a subset of the table COST_AND_USAGE_REPORT" (the service's message,
/// hashicorp/terraform-provider-aws#43893, #37126).
const CONFIGURED_COLUMNS: [(&str, bool, &str); 4] = [
    ("line_item_resource_id", false, "INCLUDE_RESOURCES"),
    (
        "split_line_item_",
        true,
        "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
    ),
    (
        "capacity_reservation_",
        true,
        "INCLUDE_CAPACITY_RESERVATION_DATA",
    ),
    (
        "line_item_iam_principal",
        false,
        "INCLUDE_IAM_PRINCIPAL_DATA",
    ),
];

// Data Exports API reference, Export.Name and the billing view ARN shape
// (`arn:aws:billing::{account}:billingview/primary`).
pattern!(EXPORT_NAME, r"[0-9A-Za-z\-_]+");
pattern!(
    EXPORT_ARN,
    "arn:aws[-a-z0-9]*:(bcm-data-exports):[-a-z0-9]*:[0-9]{12}:[-a-zA-Z0-9/:_]+"
);
pattern!(
    BILLING_VIEW_ARN,
    r"arn:aws[-a-z]*:billing::[0-9]{12}:billingview/[-a-zA-Z0-9_+=.@:/]+"
);
static QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^\s*SELECT\s+(.+?)\s+FROM\s+([A-Za-z0-9_]+)(\s+WHERE\s+.+?)?\s*;?\s*$")
        .expect("query pattern compiles")
});
static COLUMN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(\*|[A-Za-z_][A-Za-z0-9_]*(\[\s*'[^']*'\s*\])?)$"#)
        .expect("column pattern compiles")
});

fn exports_validation(message: String) -> Reply {
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

/// The columns and table of a query statement.
fn parse_query(query: &str) -> Option<(Vec<String>, String)> {
    let caps = QUERY.captures(query)?;
    let columns = caps
        .get(1)?
        .as_str()
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    Some((columns, caps.get(2)?.as_str().to_string()))
}

/// The table configurations GetExport shows: those set, plus `BILLING_VIEW_ARN` for CUR 2.0.
/// AWS adds `arn:aws:billing::{account}:billingview/primary` when the request did not set it
/// (hashicorp/terraform-provider-aws#43978 and PR #43983: "if COST_AND_USAGE_REPORT.
/// BILLING_VIEW_ARN is not included in table_configuration, it is automatically added in the
/// refreshed state").
fn table_configurations_as_read(e: &DataExport) -> BTreeMap<String, BTreeMap<String, String>> {
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

/// A validated `Export` of a CreateExport or UpdateExport request.
struct ExportInput {
    name: String,
    description: Option<String>,
    query: String,
    table_configurations: BTreeMap<String, BTreeMap<String, String>>,
    destination: Value,
    refresh_cadence: Value,
}

/// Data Exports API reference, Export / DataQuery / DestinationConfigurations / S3Destination /
/// S3OutputConfigurations / RefreshCadence: `Name` 1–128 of `[0-9A-Za-z\-_]+`, `Description`
/// 0–1024, `QueryStatement` 1–36000 (an SQL `SELECT … FROM <table>`, user guide "Data query"),
/// `TableConfigurations` (table → property → value), `S3Bucket`, `S3Prefix`, `S3Region` and
/// `S3OutputConfigurations` (OutputType CUSTOM|ATHENA|REDSHIFT, Format TEXT_OR_CSV|PARQUET,
/// Compression GZIP|PARQUET, Overwrite CREATE_NEW_REPORT|OVERWRITE_REPORT) required,
/// `RefreshCadence.Frequency` SYNCHRONOUS.
///
/// The format and the compression go together: TEXT_OR_CSV with GZIP, PARQUET with PARQUET (the
/// API reference lists the two enums without saying so; the Data Exports console offers the two
/// pairs only, and every published example uses one of them). Only the CUR 2.0 table is served
/// here.
fn parse_export_input(ctx: &Ctx, export: &Value) -> Result<ExportInput, Reply> {
    let v = exports_validation;
    if export.is_null() {
        return Err(v(missing("export")));
    }
    let name = required_str(export, "Name", "export.name").map_err(v)?;
    check_string(name, "export.name", 1, 128, pat(&EXPORT_NAME)).map_err(v)?;
    let description = optional_str(export, "Description", "export.description").map_err(v)?;
    if let Some(d) = description {
        check_string(d, "export.description", 0, 1024, None).map_err(v)?;
    }
    let data_query = &export["DataQuery"];
    if data_query.is_null() {
        return Err(v(missing("export.dataQuery")));
    }
    let query = required_str(
        data_query,
        "QueryStatement",
        "export.dataQuery.queryStatement",
    )
    .map_err(v)?;
    check_string(query, "export.dataQuery.queryStatement", 1, 36000, None).map_err(v)?;
    let Some((columns, table)) = parse_query(query) else {
        return Err(v(format!(
            "The query statement is not a supported SQL statement (SELECT <columns> FROM <table> [WHERE …]): {query}"
        )));
    };
    if !table.eq_ignore_ascii_case(CUR2_TABLE) {
        return Err(v(format!(
            "Table {table} is not served by the test stand-in (it serves {CUR2_TABLE} only)."
        )));
    }
    if let Some(bad) = columns.iter().find(|c| !COLUMN.is_match(c)) {
        return Err(v(format!(
            "The query statement could not be parsed near column {bad:?}."
        )));
    }

    let mut table_configurations = BTreeMap::new();
    match &data_query["TableConfigurations"] {
        Value::Null => {}
        Value::Object(tables) => {
            for (t, properties) in tables {
                if !t.eq_ignore_ascii_case(&table) {
                    return Err(v(format!(
                        "Table configurations are given for {t}, which the query does not select from."
                    )));
                }
                let Value::Object(properties) = properties else {
                    return Err(v(format!("The table configuration of {t} is not a map.")));
                };
                let mut props = BTreeMap::new();
                for (key, value) in properties {
                    let Some(value) = value.as_str() else {
                        return Err(v(format!("Table property {key} is not a string.")));
                    };
                    if key == "BILLING_VIEW_ARN" {
                        check_string(value, "BILLING_VIEW_ARN", 1, 2048, pat(&BILLING_VIEW_ARN))
                            .map_err(v)?;
                        if value.split(':').nth(4) != Some(ctx.account.as_str()) {
                            return Err(v(format!(
                                "The billing view {value} does not belong to account {}.",
                                ctx.account
                            )));
                        }
                    } else if let Some((_, allowed)) = CUR2_PROPERTIES
                        .iter()
                        .find(|(name, _)| *name == key.as_str())
                    {
                        check_enum(value, key, allowed).map_err(v)?;
                    } else {
                        return Err(v(format!("{key} is not a table property of {CUR2_TABLE}.")));
                    }
                    props.insert(key.clone(), value.to_string());
                }
                table_configurations.insert(t.clone(), props);
            }
        }
        other => return Err(v(format!("TableConfigurations {other} is not a map."))),
    }
    let property = |key: &str| {
        table_configurations
            .values()
            .find_map(|p| p.get(key))
            .map(String::as_str)
    };
    for column in &columns {
        let base = column
            .split('[')
            .next()
            .unwrap_or(column)
            .to_ascii_lowercase();
        for (name, prefix, config) in CONFIGURED_COLUMNS {
            let matches = if prefix {
                base.starts_with(name)
            } else {
                base == name
            };
            if matches && property(config) != Some("TRUE") {
                return Err(v(format!(
                    "The columns in the query provided are not a subset of the table {CUR2_TABLE}"
                )));
            }
        }
    }

    let destination = &export["DestinationConfigurations"]["S3Destination"];
    if destination.is_null() {
        return Err(v(missing("export.destinationConfigurations.s3Destination")));
    }
    let at = |m: &str| format!("export.destinationConfigurations.s3Destination.{m}");
    let bucket = required_str(destination, "S3Bucket", &at("s3Bucket")).map_err(v)?;
    check_string(bucket, &at("s3Bucket"), 0, 1024, None).map_err(v)?;
    let prefix = required_str(destination, "S3Prefix", &at("s3Prefix")).map_err(v)?;
    check_string(prefix, &at("s3Prefix"), 0, 1024, None).map_err(v)?;
    let region = required_str(destination, "S3Region", &at("s3Region")).map_err(v)?;
    check_string(region, &at("s3Region"), 0, 1024, None).map_err(v)?;
    let owner = optional_str(destination, "S3BucketOwner", &at("s3BucketOwner")).map_err(v)?;
    if let Some(o) = owner {
        static ACCOUNT_ID: LazyLock<(Regex, &str)> =
            LazyLock::new(|| (anchored("[0-9]{12}"), "[0-9]{12}"));
        check_string(o, &at("s3BucketOwner"), 12, 12, pat(&ACCOUNT_ID)).map_err(v)?;
    }
    let output = &destination["S3OutputConfigurations"];
    if output.is_null() {
        return Err(v(missing(&at("s3OutputConfigurations"))));
    }
    let out_at = |m: &str| at(&format!("s3OutputConfigurations.{m}"));
    let mut output_config = Map::new();
    for (key, field, allowed) in [
        (
            "OutputType",
            "outputType",
            &["CUSTOM", "ATHENA", "REDSHIFT"][..],
        ),
        ("Format", "format", &["TEXT_OR_CSV", "PARQUET"][..]),
        ("Compression", "compression", &["GZIP", "PARQUET"][..]),
        (
            "Overwrite",
            "overwrite",
            &["CREATE_NEW_REPORT", "OVERWRITE_REPORT"][..],
        ),
    ] {
        let value = required_str(output, key, &out_at(field)).map_err(v)?;
        check_enum(value, &out_at(field), allowed).map_err(v)?;
        output_config.insert(key.to_string(), json!(value));
    }
    let format = output_config
        .get("Format")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let compression = output_config
        .get("Compression")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if (format == "PARQUET") != (compression == "PARQUET") {
        return Err(v(format!(
            "Format {format} cannot be used with compression {compression}: PARQUET files use PARQUET compression and TEXT_OR_CSV files GZIP."
        )));
    }
    let mut s3 = json!({
        "S3Bucket": bucket,
        "S3Prefix": prefix,
        "S3Region": region,
        "S3OutputConfigurations": Value::Object(output_config),
    });
    if let (Some(o), Some(m)) = (owner, s3.as_object_mut()) {
        m.insert("S3BucketOwner".into(), json!(o));
    }
    let cadence = &export["RefreshCadence"];
    if cadence.is_null() {
        return Err(v(missing("export.refreshCadence")));
    }
    let frequency =
        required_str(cadence, "Frequency", "export.refreshCadence.frequency").map_err(v)?;
    check_enum(
        frequency,
        "export.refreshCadence.frequency",
        &["SYNCHRONOUS"],
    )
    .map_err(v)?;

    Ok(ExportInput {
        name: name.to_string(),
        description: description.map(str::to_string),
        query: query.to_string(),
        table_configurations,
        destination: json!({ "S3Destination": s3 }),
        refresh_cadence: json!({ "Frequency": frequency }),
    })
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
    fn data_exports(&self, request: &StrictRequest) -> Option<Reply> {
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

// ---------------------------------------------------------------------------
// AWS Budgets: budget actions (awsJson 1.1, `X-Amz-Target: AWSBudgetServiceGateway.<Op>`,
// signing name `budgets`)

/// The budget-action operations answered here. Every other Budgets operation (budgets,
/// notifications, subscribers, tagging) goes to moto.
const BUDGET_ACTION_OPERATIONS: [&str; 8] = [
    "CreateBudgetAction",
    "DescribeBudgetAction",
    "DescribeBudgetActionsForBudget",
    "DescribeBudgetActionsForAccount",
    "UpdateBudgetAction",
    "DeleteBudgetAction",
    "ExecuteBudgetAction",
    "DescribeBudgetActionHistories",
];

/// Which budgets exist. An action belongs to a budget (API reference: CreateBudgetAction,
/// DescribeBudgetActionsForBudget and the rest list NotFoundException, "We can't locate the
/// resource that you specified"; an action's ARN is `budget/<name>/action/<id>`, the form
/// terraform-provider-aws builds for `aws_budgets_budget_action`). The budgets are moto's and
/// the stand-in cannot read moto, so it learns them from moto's successful answers to these
/// operations as they pass through the proxy ([`StrictRule::rewrite`], which sees only requests
/// that reached moto): CreateBudget, DescribeBudget and DescribeBudgets name budgets that exist
/// (in the request's `AccountId`, which is how moto keys them); DeleteBudget removes one, and
/// its actions with it (API reference, DeleteBudget: "Deleting a budget also deletes the
/// notifications and subscribers that are associated with that budget"; that its actions go
/// too is not documented and chosen here, they are its sub-resources). An action on a budget
/// the stand-in does not know is answered NotFoundException. A budget made with the direct
/// clients is known once read through the proxy, or after [`StandIn::add_budget`].
pub const BUDGET_OBSERVED_OPERATIONS: [&str; 4] = [
    "CreateBudget",
    "DescribeBudget",
    "DescribeBudgets",
    "DeleteBudget",
];

/// Budgets API reference, ActionStatus.
pub const BUDGET_ACTION_STATUSES: [&str; 10] = [
    "STANDBY",
    "PENDING",
    "EXECUTION_IN_PROGRESS",
    "EXECUTION_SUCCESS",
    "EXECUTION_FAILURE",
    "REVERSE_IN_PROGRESS",
    "REVERSE_SUCCESS",
    "REVERSE_FAILURE",
    "RESET_IN_PROGRESS",
    "RESET_FAILURE",
];

/// The statuses in which an action is being worked on: UpdateBudgetAction, DeleteBudgetAction
/// and ExecuteBudgetAction are refused with ResourceLockedException (the reference lists it for
/// exactly these three operations: "the server rejected that particular method for the
/// requested resource"). That an action cannot be deleted while it runs: hashicorp/
/// terraform-provider-aws#33015 ("Adds guard to deletion, since an action cannot be deleted
/// while in progress"); that it cannot be updated either is chosen to match.
const LOCKED_ACTION_STATUSES: [&str; 3] = [
    "EXECUTION_IN_PROGRESS",
    "REVERSE_IN_PROGRESS",
    "RESET_IN_PROGRESS",
];

/// The actions per budget. No quota is documented (Billing user guide, "Quotas and
/// restrictions", names none for actions; "You can apply multiple budget actions to a single
/// alert"); the stand-in allows as many as one page of `Actions` holds (API reference,
/// `Actions`: at most 100 members) and answers CreationLimitExceededException past it.
const MAX_ACTIONS_PER_BUDGET: usize = 100;

/// Page size of the action listings without `MaxResults`. Not documented (the reference: "The
/// maximum is 100"); a small page makes a caller that ignores `NextToken` visible.
const BUDGETS_DEFAULT_PAGE: usize = 10;

// Budgets API reference, shapes AccountId, ActionId, RoleArn, PolicyArn, Role/Group/User,
// PolicyId, TargetId, Region, InstanceId.
pattern!(BUDGETS_ACCOUNT_ID, r"\d{12}");
pattern!(
    ACTION_ID,
    "^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$"
);
pattern!(
    BUDGETS_ROLE_ARN,
    r"^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]{1})?:iam::\d{12}:role(\u002F[\u0021-\u007F]+\u002F|\u002F)[\w+=,.@-]+$"
);
pattern!(
    BUDGETS_POLICY_ARN,
    r"^arn:aws(-cn|-us-gov|-iso|-iso-[a-z]{1})?:iam::(\d{12}|aws):policy(\u002F[\u0021-\u007F]+\u002F|\u002F)[\w+=,.@-]+$"
);
pattern!(
    IAM_PRINCIPAL_NAME,
    r"^([\u0021-\u007F]+\u002F)?[\w+=,.@-]+$"
);
pattern!(SCP_POLICY_ID, r"^p-[0-9a-zA-Z_]{8,128}$");
pattern!(
    SCP_TARGET_ID,
    r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$)|(\d{12})"
);
pattern!(SSM_REGION, r"^\w{2}-\w+(-\w+)?-\d$");
pattern!(
    SSM_INSTANCE_ID,
    r"^i-(\w{8}|\w{17})$|^[a-zA-Z]([\w-]{0,61}\w)?$"
);

/// Budgets API reference, BudgetName: 1–100 characters of
/// `^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$` ("The ":" and "\" characters,
/// and the "/action/" substring, aren't allowed"). The regex crate has no look-ahead: the
/// same language is checked piecewise; the message quotes the reference's pattern.
const BUDGET_NAME_PATTERN: &str = r"^(?![^:\\]*/action/|(?i).*<script>.*</script>.*)[^:\\]+$";
static SCRIPT_ELEMENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<script>.*</script>").expect("script pattern compiles"));

fn check_budget_name(value: &str, field: &str) -> Result<(), String> {
    check_string(value, field, 1, 100, None)?;
    if value.contains([':', '\\']) || value.contains("/action/") || SCRIPT_ELEMENT.is_match(value) {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {BUDGET_NAME_PATTERN}"),
        ));
    }
    Ok(())
}

/// Budgets' model has no ValidationException: an invalid input value is InvalidParameterException
/// ("An error on the client occurred. Typically, the cause is an invalid input value"), HTTP
/// 400, `Message` (the member of every Budgets error shape). The constraint messages are AWS's
/// usual request-validation wording.
fn budgets_invalid(message: String) -> Reply {
    json_error(400, "InvalidParameterException", &message, Value::Null)
}

fn budget_not_found(account: &str, budget: &str) -> Reply {
    json_error(
        400,
        "NotFoundException",
        &format!("Unable to get budget: {budget} - the budget doesn't exist in account {account}."),
        Value::Null,
    )
}

fn budget_action_not_found(budget: &str, action_id: &str) -> Reply {
    json_error(
        400,
        "NotFoundException",
        &format!("Unable to find action {action_id} of budget {budget}."),
        Value::Null,
    )
}

fn budget_action_locked(a: &BudgetAction, what: &str) -> Reply {
    json_error(
        400,
        "ResourceLockedException",
        &format!(
            "Action {} is in status {}: {what} is not possible now.",
            a.action_id, a.status
        ),
        Value::Null,
    )
}

/// `AccountId` (API reference: required in every action operation, 12 digits). A caller can
/// address only its own account: another account ID is answered AccessDeniedException ("You are
/// not authorized to use this operation with the given parameters"; not documented for this
/// case, chosen).
fn check_budgets_account(ctx: &Ctx, body: &Value) -> Result<(), Reply> {
    let account = required_str(body, "AccountId", "accountId").map_err(budgets_invalid)?;
    check_string(account, "accountId", 12, 12, pat(&BUDGETS_ACCOUNT_ID))
        .map_err(budgets_invalid)?;
    if account != ctx.account {
        return Err(json_error(
            400,
            "AccessDeniedException",
            &format!(
                "You are not authorized to use this operation with the given parameters: account {account} is not the caller's account {}.",
                ctx.account
            ),
            Value::Null,
        ));
    }
    Ok(())
}

/// `BudgetName` of a request, checked, and known (see [`BUDGET_OBSERVED_OPERATIONS`]).
fn known_budget<'a>(acct: &AccountState, ctx: &Ctx, body: &'a Value) -> Result<&'a str, Reply> {
    let budget = budget_name_of(body)?;
    if !acct.budgets.contains(budget) {
        return Err(budget_not_found(&ctx.account, budget));
    }
    Ok(budget)
}

fn budget_name_of(body: &Value) -> Result<&str, Reply> {
    let budget = required_str(body, "BudgetName", "budgetName").map_err(budgets_invalid)?;
    check_budget_name(budget, "budgetName").map_err(budgets_invalid)?;
    Ok(budget)
}

/// The index of the action `ActionId` (a UUID: API reference, ActionId, 36 characters of the
/// UUID pattern) of the request's budget; NotFoundException when the budget or the action is
/// unknown.
fn budget_action_index(acct: &AccountState, ctx: &Ctx, body: &Value) -> Result<usize, Reply> {
    let id = required_str(body, "ActionId", "actionId").map_err(budgets_invalid)?;
    check_string(id, "actionId", 36, 36, pat(&ACTION_ID)).map_err(budgets_invalid)?;
    let budget = known_budget(acct, ctx, body)?;
    acct.budget_actions
        .iter()
        .position(|a| a.budget_name == budget && a.action_id == id)
        .ok_or_else(|| budget_action_not_found(budget, id))
}

/// A list member of strings, each `min`–`max` characters of `pattern`, the list `min_items`–
/// `max_items` long. `None` when absent.
#[allow(clippy::too_many_arguments)]
fn string_items(
    parent: &Value,
    key: &str,
    field: &str,
    min_items: usize,
    max_items: usize,
    min: usize,
    max: usize,
    pattern: Option<(&Regex, &str)>,
) -> Result<Option<Vec<String>>, String> {
    let list = match &parent[key] {
        Value::Null => return Ok(None),
        Value::Array(a) => a,
        other => return Err(format!("Value {other} at '{field}' is not a list")),
    };
    if list.len() < min_items || list.len() > max_items {
        let constraint = if list.len() < min_items {
            format!("Member must have length greater than or equal to {min_items}")
        } else {
            format!("Member must have length less than or equal to {max_items}")
        };
        return Err(constraint_message(
            &format!("[{} members]", list.len()),
            field,
            &constraint,
        ));
    }
    list.iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| format!("Value {v} at '{field}.member' is not a string"))?;
            check_string(s, &format!("{field}.member"), min, max, pattern)?;
            Ok(s.to_string())
        })
        .collect::<Result<Vec<_>, String>>()
        .map(Some)
}

/// `ActionThreshold` (API reference: `ActionThresholdValue`, a NotificationThreshold, a double
/// 0–15,000,000,000,000; `ActionThresholdType` PERCENTAGE | ABSOLUTE_VALUE; both required).
fn parse_action_threshold(t: &Value) -> Result<(f64, String), String> {
    if !t.is_object() {
        return Err(missing("actionThreshold"));
    }
    let value = match &t["ActionThresholdValue"] {
        Value::Null => return Err(missing("actionThreshold.actionThresholdValue")),
        v => v.as_f64().ok_or_else(|| {
            format!("Value {v} at 'actionThreshold.actionThresholdValue' is not a number")
        })?,
    };
    if !(0.0..=15_000_000_000_000.0).contains(&value) {
        return Err(constraint_message(
            &value.to_string(),
            "actionThreshold.actionThresholdValue",
            "Member must have value between 0 and 15000000000000",
        ));
    }
    let kind = required_str(
        t,
        "ActionThresholdType",
        "actionThreshold.actionThresholdType",
    )?;
    check_enum(
        kind,
        "actionThreshold.actionThresholdType",
        &["PERCENTAGE", "ABSOLUTE_VALUE"],
    )?;
    Ok((value, kind.to_string()))
}

/// `Definition`. API reference, Action.ActionType: "This field also determines the format for
/// definition": APPLY_IAM_POLICY takes `IamActionDefinition`, APPLY_SCP_POLICY
/// `ScpActionDefinition`, RUN_SSM_DOCUMENTS `SsmActionDefinition`; the stand-in refuses a
/// definition with another member or more than one (the message is not documented).
/// - IamActionDefinition: `PolicyArn` required (25–684, PolicyArn pattern); `Roles`, `Groups`,
///   `Users` lists of 1–100 names (1–576, 1–640 for groups, of the Role/Group/User pattern),
///   "There must be at least one role" (group, user) for a list that is given, and at least one
///   of the three lists must be given (an IAM policy attached to nobody does nothing; the
///   service's message is not documented);
/// - ScpActionDefinition: `PolicyId` (10–130, `^p-[0-9a-zA-Z_]{8,128}$`) and `TargetIds` (1–100
///   IDs of 12–68 characters, an OU or an account) required;
/// - SsmActionDefinition: `ActionSubType` STOP_EC2_INSTANCES | STOP_RDS_INSTANCES, `Region`
///   (9–20) and `InstanceIds` (1–100 IDs of 1–63 characters) required.
///
/// Returns the definition as stored (only the matching member, with the members the reference
/// defines) and the IAM part.
fn parse_action_definition(
    action_type: &str,
    d: &Value,
) -> Result<(Value, Option<IamActionDefinition>), String> {
    const MEMBERS: [&str; 3] = [
        "IamActionDefinition",
        "ScpActionDefinition",
        "SsmActionDefinition",
    ];
    if !d.is_object() {
        return Err(missing("definition"));
    }
    let expected = match action_type {
        "APPLY_IAM_POLICY" => "IamActionDefinition",
        "APPLY_SCP_POLICY" => "ScpActionDefinition",
        _ => "SsmActionDefinition",
    };
    let present: Vec<&str> = MEMBERS
        .iter()
        .copied()
        .filter(|m| !d[*m].is_null())
        .collect();
    if present != [expected] {
        return Err(format!(
            "An action of type {action_type} needs Definition.{expected} and no other definition; got [{}].",
            present.join(", ")
        ));
    }
    let m = &d[expected];
    let member = format!("definition.{}", lower_first(expected));
    let field = |f: &str| format!("{member}.{f}");
    match expected {
        "IamActionDefinition" => {
            let policy = required_str(m, "PolicyArn", &field("policyArn"))?;
            check_string(
                policy,
                &field("policyArn"),
                25,
                684,
                pat(&BUDGETS_POLICY_ARN),
            )?;
            let principals = |key: &str, max: usize| {
                string_items(
                    m,
                    key,
                    &field(&lower_first(key)),
                    1,
                    100,
                    1,
                    max,
                    pat(&IAM_PRINCIPAL_NAME),
                )
            };
            let roles = principals("Roles", 576)?;
            let groups = principals("Groups", 640)?;
            let users = principals("Users", 576)?;
            if roles.is_none() && groups.is_none() && users.is_none() {
                return Err(format!(
                    "{member} must name at least one of Roles, Groups or Users."
                ));
            }
            let mut stored = json!({ "PolicyArn": policy });
            for (key, list) in [("Roles", &roles), ("Groups", &groups), ("Users", &users)] {
                if let (Some(list), Some(o)) = (list, stored.as_object_mut()) {
                    o.insert(key.into(), json!(list));
                }
            }
            let iam = IamActionDefinition {
                policy_arn: policy.to_string(),
                roles: roles.unwrap_or_default(),
                groups: groups.unwrap_or_default(),
                users: users.unwrap_or_default(),
            };
            Ok((json!({ expected: stored }), Some(iam)))
        }
        "ScpActionDefinition" => {
            let policy = required_str(m, "PolicyId", &field("policyId"))?;
            check_string(policy, &field("policyId"), 10, 130, pat(&SCP_POLICY_ID))?;
            let targets = string_items(
                m,
                "TargetIds",
                &field("targetIds"),
                1,
                100,
                12,
                68,
                pat(&SCP_TARGET_ID),
            )?
            .ok_or_else(|| missing(&field("targetIds")))?;
            Ok((
                json!({ expected: { "PolicyId": policy, "TargetIds": targets } }),
                None,
            ))
        }
        _ => {
            let sub_type = required_str(m, "ActionSubType", &field("actionSubType"))?;
            check_enum(
                sub_type,
                &field("actionSubType"),
                &["STOP_EC2_INSTANCES", "STOP_RDS_INSTANCES"],
            )?;
            let region = required_str(m, "Region", &field("region"))?;
            check_string(region, &field("region"), 9, 20, pat(&SSM_REGION))?;
            let instances = string_items(
                m,
                "InstanceIds",
                &field("instanceIds"),
                1,
                100,
                1,
                63,
                pat(&SSM_INSTANCE_ID),
            )?
            .ok_or_else(|| missing(&field("instanceIds")))?;
            Ok((
                json!({ expected: {
                    "ActionSubType": sub_type,
                    "Region": region,
                    "InstanceIds": instances,
                } }),
                None,
            ))
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `Subscribers` (API reference, Subscribers: 1–11; Subscriber: `SubscriptionType` SNS | EMAIL
/// and `Address` required, "the value of Address can't contain line breaks"). Budgets API
/// reference, Notification: "A notification can have one SNS subscriber and up to 10 email
/// subscribers, for a total of 11 subscribers" (an action notifies like an alert: Billing user
/// guide, "Configuring AWS Budgets actions", "Use the same alert settings when you defined this
/// threshold"). An SNS address must be an SNS topic ARN (user guide: "enter the Amazon Resource
/// Name (ARN) for your Amazon SNS topic"; the service's message is not documented).
fn parse_budget_subscribers(v: &Value) -> Result<Vec<BudgetSubscriber>, String> {
    let list = match v {
        Value::Null => return Err(missing("subscribers")),
        Value::Array(a) => a,
        other => return Err(format!("Value {other} at 'subscribers' is not a list")),
    };
    if list.is_empty() || list.len() > 11 {
        let constraint = if list.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 11"
        };
        return Err(constraint_message(
            &format!("[{} subscribers]", list.len()),
            "subscribers",
            constraint,
        ));
    }
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        let at = |m: &str| format!("subscribers.{}.member.{m}", i + 1);
        let kind = required_str(s, "SubscriptionType", &at("subscriptionType"))?;
        check_enum(kind, &at("subscriptionType"), &["SNS", "EMAIL"])?;
        let address = required_str(s, "Address", &at("address"))?;
        check_string(address, &at("address"), 1, usize::MAX, None)?;
        if address.contains(['\n', '\r']) {
            return Err(format!(
                "The address of subscriber {} can't contain line breaks.",
                i + 1
            ));
        }
        if kind == "SNS" && !(address.starts_with("arn:") && address.contains(":sns:")) {
            return Err(format!("{address} is not an Amazon SNS topic ARN."));
        }
        out.push(BudgetSubscriber {
            subscription_type: kind.to_string(),
            address: address.to_string(),
        });
    }
    let count = |kind: &str| out.iter().filter(|s| s.subscription_type == kind).count();
    if count("SNS") > 1 {
        return Err("An action can have at most 1 SNS subscriber.".into());
    }
    if count("EMAIL") > 10 {
        return Err(format!(
            "An action can have at most 10 email subscribers; {} were given.",
            count("EMAIL")
        ));
    }
    Ok(out)
}

/// `ExecutionRoleArn` (API reference: 32–618 characters of the RoleArn pattern; "Roles and
/// actions must be in the same account", so a role of another account is refused).
fn parse_execution_role(ctx: &Ctx, arn: &str) -> Result<(), String> {
    check_string(arn, "executionRoleArn", 32, 618, pat(&BUDGETS_ROLE_ARN))?;
    if arn.split(':').nth(4) != Some(ctx.account.as_str()) {
        return Err(format!(
            "The execution role {arn} is not in account {}: roles and actions must be in the same account.",
            ctx.account
        ));
    }
    Ok(())
}

/// What a create or update sets.
struct ActionInput {
    notification_type: String,
    action_type: String,
    threshold: (f64, String),
    definition: Value,
    iam: Option<IamActionDefinition>,
    execution_role_arn: String,
    approval_model: String,
    subscribers: Vec<BudgetSubscriber>,
}

/// The members of CreateBudgetAction (all required: API reference) or of UpdateBudgetAction
/// (all optional; what is not given stays as `base` has it, and `ActionType` cannot change).
fn parse_action_input(
    ctx: &Ctx,
    body: &Value,
    base: Option<&BudgetAction>,
) -> Result<ActionInput, String> {
    let notification_type = match (
        optional_str(body, "NotificationType", "notificationType")?,
        base,
    ) {
        (Some(n), _) => {
            check_enum(n, "notificationType", &["ACTUAL", "FORECASTED"])?;
            n.to_string()
        }
        (None, Some(b)) => b.notification_type.clone(),
        (None, None) => return Err(missing("notificationType")),
    };
    let action_type = match base {
        Some(b) => b.action_type.clone(),
        None => {
            let t = required_str(body, "ActionType", "actionType")?;
            check_enum(
                t,
                "actionType",
                &["APPLY_IAM_POLICY", "APPLY_SCP_POLICY", "RUN_SSM_DOCUMENTS"],
            )?;
            t.to_string()
        }
    };
    let threshold = match (&body["ActionThreshold"], base) {
        (Value::Null, Some(b)) => (b.threshold_value, b.threshold_type.clone()),
        (t, _) => parse_action_threshold(t)?,
    };
    let (definition, iam) = match (&body["Definition"], base) {
        (Value::Null, Some(b)) => (b.definition.clone(), b.iam.clone()),
        (d, _) => parse_action_definition(&action_type, d)?,
    };
    let execution_role_arn = match (
        optional_str(body, "ExecutionRoleArn", "executionRoleArn")?,
        base,
    ) {
        (Some(r), _) => {
            parse_execution_role(ctx, r)?;
            r.to_string()
        }
        (None, Some(b)) => b.execution_role_arn.clone(),
        (None, None) => return Err(missing("executionRoleArn")),
    };
    let approval_model = match (optional_str(body, "ApprovalModel", "approvalModel")?, base) {
        (Some(m), _) => {
            check_enum(m, "approvalModel", &["AUTOMATIC", "MANUAL"])?;
            m.to_string()
        }
        (None, Some(b)) => b.approval_model.clone(),
        (None, None) => return Err(missing("approvalModel")),
    };
    let subscribers = match (&body["Subscribers"], base) {
        (Value::Null, Some(b)) => b.subscribers.clone(),
        (s, _) => parse_budget_subscribers(s)?,
    };
    Ok(ActionInput {
        notification_type,
        action_type,
        threshold,
        definition,
        iam,
        execution_role_arn,
        approval_model,
        subscribers,
    })
}

/// Budgets API reference, ResourceTagList: at most 200 tags, keys 1–128 and values 0–256
/// characters.
fn budget_action_tags(body: &Value) -> Result<BTreeMap<String, String>, String> {
    let list = optional_list(body, "ResourceTags", "resourceTags")?;
    if list.len() > 200 {
        return Err(constraint_message(
            &format!("[{} tags]", list.len()),
            "resourceTags",
            "Member must have length less than or equal to 200",
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, tag)| {
            let at = |m: &str| format!("resourceTags.{}.member.{m}", i + 1);
            let key = required_str(tag, "Key", &at("key"))?;
            check_string(key, &at("key"), 1, 128, None)?;
            let value = required_str(tag, "Value", &at("value"))?;
            check_string(value, &at("value"), 0, 256, None)?;
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

/// Budgets API reference, Action: every member is required in an answer.
fn budget_action_json(a: &BudgetAction) -> Value {
    json!({
        "ActionId": a.action_id,
        "BudgetName": a.budget_name,
        "NotificationType": a.notification_type,
        "ActionType": a.action_type,
        "ActionThreshold": {
            "ActionThresholdValue": a.threshold_value,
            "ActionThresholdType": a.threshold_type,
        },
        "Definition": a.definition,
        "ExecutionRoleArn": a.execution_role_arn,
        "ApprovalModel": a.approval_model,
        "Status": a.status,
        "Subscribers": a.subscribers.iter().map(|s| json!({
            "SubscriptionType": s.subscription_type,
            "Address": s.address,
        })).collect::<Vec<_>>(),
    })
}

/// Appends a history entry for the action's current status (API reference, ActionHistory:
/// `Timestamp`, `Status` "of action at the time of the event", `EventType`,
/// `ActionHistoryDetails` with `Message` and the `Action`).
fn record_action_event(a: &mut BudgetAction, event_type: &str, message: &str) {
    let entry = ActionHistoryEntry {
        timestamp: epoch_seconds(),
        status: a.status.clone(),
        event_type: event_type.to_string(),
        message: message.to_string(),
        action: budget_action_json(a),
    };
    a.history.push(entry);
}

/// `MaxResults` of an action listing (API reference, MaxResults: 1–100).
fn budgets_max_results(body: &Value) -> Result<usize, Reply> {
    match &body["MaxResults"] {
        Value::Null => Ok(BUDGETS_DEFAULT_PAGE),
        v => match v.as_i64() {
            Some(n) if (1..=100).contains(&n) => Ok(n as usize),
            _ => Err(budgets_invalid(constraint_message(
                &v.to_string(),
                "maxResults",
                "Member must have value between 1 and 100",
            ))),
        },
    }
}

fn budgets_page(items: &[Value], body: &Value, scope: &str, key: &str) -> Result<Value, Reply> {
    let max = budgets_max_results(body)?;
    let token = optional_str(body, "NextToken", "nextToken").map_err(budgets_invalid)?;
    let (items, next) = page(items, token, max, scope).map_err(|()| {
        json_error(
            400,
            "InvalidNextTokenException",
            "The pagination token is invalid.",
            Value::Null,
        )
    })?;
    let mut out = json!({ key: items });
    if let (Some(next), Some(o)) = (next, out.as_object_mut()) {
        o.insert("NextToken".into(), json!(next));
    }
    Ok(out)
}

impl StandIn {
    fn budget_actions_op(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        let op = target.strip_prefix("AWSBudgetServiceGateway.")?;
        if !BUDGET_ACTION_OPERATIONS.contains(&op) {
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
        if let Err(e) = check_budgets_account(&ctx, &body) {
            return Some(e);
        }
        let progress = state.budget_action_progress;
        let acct = state.account(&ctx.account);
        let result = match op {
            "CreateBudgetAction" => create_budget_action(acct, &ctx, &body),
            "DescribeBudgetAction" => describe_budget_action(acct, &ctx, &body),
            "DescribeBudgetActionsForBudget" => {
                describe_budget_actions_for_budget(acct, &ctx, &body)
            }
            "DescribeBudgetActionsForAccount" => describe_budget_actions_for_account(acct, &body),
            "UpdateBudgetAction" => update_budget_action(acct, &ctx, &body),
            "DeleteBudgetAction" => delete_budget_action(acct, &ctx, &body),
            "ExecuteBudgetAction" => execute_budget_action(acct, &ctx, &body, progress),
            "DescribeBudgetActionHistories" => describe_budget_action_histories(acct, &ctx, &body),
            _ => return None,
        };
        Some(result.map(json_ok).unwrap_or_else(|e| e))
    }

    /// Learns budgets from moto's successful answers (see [`BUDGET_OBSERVED_OPERATIONS`]).
    fn observe_budgets(&self, request: &StrictRequest, reply: &Reply) {
        if reply.status != 200 || !BUDGET_OBSERVED_OPERATIONS.contains(&request.operation.as_str())
        {
            return;
        }
        let Some(body) = request.json() else { return };
        let Some(account) = body["AccountId"].as_str() else {
            return;
        };
        let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        let mut state = self.lock();
        let acct = state.account(account);
        match request.operation.as_str() {
            "CreateBudget" => {
                if let Some(name) = body["Budget"]["BudgetName"].as_str() {
                    acct.budgets.insert(name.to_string());
                }
            }
            "DescribeBudget" => {
                if let Some(name) = answer["Budget"]["BudgetName"].as_str() {
                    acct.budgets.insert(name.to_string());
                }
            }
            "DescribeBudgets" => {
                for b in answer["Budgets"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                {
                    if let Some(name) = b["BudgetName"].as_str() {
                        acct.budgets.insert(name.to_string());
                    }
                }
            }
            "DeleteBudget" => {
                if let Some(name) = body["BudgetName"].as_str() {
                    acct.budgets.remove(name);
                    acct.budget_actions.retain(|a| a.budget_name != name);
                }
            }
            _ => {}
        }
    }
}

/// Budgets API reference, CreateBudgetAction: every member but `ResourceTags` required; answers
/// `AccountId`, `BudgetName` and `ActionId` ("A system-generated universally unique identifier
/// (UUID) for the action"). A new action waits for its threshold in `STANDBY` (Billing user
/// guide, "Configuring AWS Budgets actions": "Standby - AWS Budgets is actively evaluating the
/// action"). Not documented, chosen: an action identical to one the budget has (same
/// notification type, threshold, type and definition) is DuplicateRecordException; a member
/// account's APPLY_SCP_POLICY action is AccessDeniedException (see
/// [`StandIn::set_member_account`]); past [`MAX_ACTIONS_PER_BUDGET`],
/// CreationLimitExceededException.
fn create_budget_action(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let budget = budget_name_of(body)?;
    let input = parse_action_input(ctx, body, None).map_err(budgets_invalid)?;
    let tags = budget_action_tags(body).map_err(budgets_invalid)?;
    if acct.member && input.action_type == "APPLY_SCP_POLICY" {
        return Err(json_error(
            400,
            "AccessDeniedException",
            "Only the management account of an organization can apply service control policies.",
            Value::Null,
        ));
    }
    if !acct.budgets.contains(budget) {
        return Err(budget_not_found(&ctx.account, budget));
    }
    let of_budget = || {
        acct.budget_actions
            .iter()
            .filter(|a| a.budget_name == budget)
    };
    if of_budget().any(|a| {
        a.notification_type == input.notification_type
            && a.action_type == input.action_type
            && (a.threshold_value, &a.threshold_type) == (input.threshold.0, &input.threshold.1)
            && a.definition == input.definition
    }) {
        return Err(json_error(
            400,
            "DuplicateRecordException",
            &format!("Budget {budget} already has this action."),
            Value::Null,
        ));
    }
    if of_budget().count() >= MAX_ACTIONS_PER_BUDGET {
        return Err(json_error(
            400,
            "CreationLimitExceededException",
            &format!("A budget can have at most {MAX_ACTIONS_PER_BUDGET} actions."),
            Value::Null,
        ));
    }
    let mut action = BudgetAction {
        account: ctx.account.clone(),
        budget_name: budget.to_string(),
        action_id: uuid(),
        notification_type: input.notification_type,
        action_type: input.action_type,
        threshold_value: input.threshold.0,
        threshold_type: input.threshold.1,
        definition: input.definition,
        iam: input.iam,
        execution_role_arn: input.execution_role_arn,
        approval_model: input.approval_model,
        status: "STANDBY".into(),
        subscribers: input.subscribers,
        tags,
        history: Vec::new(),
        progress: None,
    };
    record_action_event(&mut action, "CREATE_ACTION", "The action was created.");
    let id = action.action_id.clone();
    acct.budget_actions.push(action);
    Ok(json!({ "AccountId": ctx.account, "BudgetName": budget, "ActionId": id }))
}

/// Budgets API reference, DescribeBudgetAction: `AccountId`, `BudgetName`, `Action`;
/// NotFoundException.
fn describe_budget_action(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    let a = &mut acct.budget_actions[i];
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": a.budget_name,
        "Action": budget_action_as_read(a),
    }))
}

/// The action as one read shows it, moving an execution in progress on by one read (see
/// [`ActionProgress`]).
fn budget_action_as_read(a: &mut BudgetAction) -> Value {
    let shown = match &mut a.progress {
        None => a.status.clone(),
        Some(p) if p.stale_reads > 0 => {
            p.stale_reads -= 1;
            p.before.clone()
        }
        Some(p) if p.in_progress_reads > 0 => {
            p.in_progress_reads -= 1;
            a.status.clone()
        }
        Some(p) => {
            a.status = p.after.clone();
            a.progress = None;
            record_action_event(a, "SYSTEM", &format!("The action is now {}.", a.status));
            a.status.clone()
        }
    };
    let mut json = budget_action_json(a);
    json["Status"] = json!(shown);
    json
}

/// Budgets API reference, DescribeBudgetActionsForBudget: `Actions` of the budget (creation
/// order), `MaxResults` 1–100, `NextToken` (InvalidNextTokenException); NotFoundException for
/// an unknown budget.
fn describe_budget_actions_for_budget(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let budget = known_budget(acct, ctx, body)?.to_string();
    let items: Vec<Value> = acct
        .budget_actions
        .iter_mut()
        .filter(|a| a.budget_name == budget)
        .map(budget_action_as_read)
        .collect();
    budgets_page(
        &items,
        body,
        &format!("DescribeBudgetActionsForBudget|{budget}"),
        "Actions",
    )
}

/// Budgets API reference, DescribeBudgetActionsForAccount: every action of the account
/// (creation order), paged as above.
fn describe_budget_actions_for_account(
    acct: &mut AccountState,
    body: &Value,
) -> Result<Value, Reply> {
    let items: Vec<Value> = acct
        .budget_actions
        .iter_mut()
        .map(budget_action_as_read)
        .collect();
    budgets_page(&items, body, "DescribeBudgetActionsForAccount", "Actions")
}

/// Budgets API reference, UpdateBudgetAction: `ActionId` and the members to change (not the
/// type); answers `OldAction` and `NewAction`; NotFoundException; ResourceLockedException while
/// the action is being worked on ([`LOCKED_ACTION_STATUSES`]). The status is kept (not
/// documented).
fn update_budget_action(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    let old = acct.budget_actions[i].clone();
    let input = parse_action_input(ctx, body, Some(&old)).map_err(budgets_invalid)?;
    if LOCKED_ACTION_STATUSES.contains(&old.status.as_str()) {
        return Err(budget_action_locked(&old, "UpdateBudgetAction"));
    }
    let a = &mut acct.budget_actions[i];
    a.notification_type = input.notification_type;
    a.threshold_value = input.threshold.0;
    a.threshold_type = input.threshold.1;
    a.definition = input.definition;
    a.iam = input.iam;
    a.execution_role_arn = input.execution_role_arn;
    a.approval_model = input.approval_model;
    a.subscribers = input.subscribers;
    record_action_event(a, "UPDATE_ACTION", "The action was updated.");
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": a.budget_name,
        "OldAction": budget_action_json(&old),
        "NewAction": budget_action_json(a),
    }))
}

/// Budgets API reference, DeleteBudgetAction: answers the deleted `Action`; NotFoundException;
/// ResourceLockedException while the action is being worked on ([`LOCKED_ACTION_STATUSES`]).
/// Its history goes with it.
fn delete_budget_action(acct: &mut AccountState, ctx: &Ctx, body: &Value) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    if LOCKED_ACTION_STATUSES.contains(&acct.budget_actions[i].status.as_str()) {
        return Err(budget_action_locked(
            &acct.budget_actions[i],
            "DeleteBudgetAction",
        ));
    }
    let removed = acct.budget_actions.remove(i);
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": removed.budget_name,
        "Action": budget_action_json(&removed),
    }))
}

/// The status an `ExecutionType` leads to from `status`, if it is allowed there. The API
/// reference gives only the names (ExecutionType APPROVE_BUDGET_ACTION, RETRY_BUDGET_ACTION,
/// REVERSE_BUDGET_ACTION, RESET_BUDGET_ACTION; the ActionStatus values); the Billing user
/// guide, "Configuring AWS Budgets actions", gives the workflow: a pending action ("Requires
/// approval") is run by approving it; "You can review and undo previously completed actions"
/// (reverse, from EXECUTION_SUCCESS); "Reversed - The action was undone"; "If you want AWS
/// Budgets to re-evaluate the reversed action during the same period, you can choose Reset"
/// (from REVERSE_SUCCESS back to STANDBY). RETRY re-runs the step that failed
/// (EXECUTION_FAILURE, REVERSE_FAILURE, RESET_FAILURE); that is chosen from the names. A failed
/// execution may be reversed too: it may have attached the policy to some principals before
/// failing, and undoing it is what reverse is for (chosen; the reference does not exclude it).
/// Each step completes at once, or as [`StandIn::set_budget_action_progress`] says (its
/// `*_IN_PROGRESS` status from [`in_progress_status`]).
fn execution_transition(execution_type: &str, status: &str) -> Option<&'static str> {
    match (execution_type, status) {
        ("APPROVE_BUDGET_ACTION", "PENDING") => Some("EXECUTION_SUCCESS"),
        ("RETRY_BUDGET_ACTION", "EXECUTION_FAILURE") => Some("EXECUTION_SUCCESS"),
        ("RETRY_BUDGET_ACTION", "REVERSE_FAILURE") => Some("REVERSE_SUCCESS"),
        ("RETRY_BUDGET_ACTION", "RESET_FAILURE") => Some("STANDBY"),
        ("REVERSE_BUDGET_ACTION", "EXECUTION_SUCCESS" | "EXECUTION_FAILURE") => {
            Some("REVERSE_SUCCESS")
        }
        ("RESET_BUDGET_ACTION", "REVERSE_SUCCESS") => Some("STANDBY"),
        _ => None,
    }
}

/// The status an execution shows while it runs, by the status it leads to.
fn in_progress_status(after: &str) -> &'static str {
    match after {
        "EXECUTION_SUCCESS" => "EXECUTION_IN_PROGRESS",
        "REVERSE_SUCCESS" => "REVERSE_IN_PROGRESS",
        _ => "RESET_IN_PROGRESS",
    }
}

/// Budgets API reference, ExecuteBudgetAction: `ExecutionType` required; answers `AccountId`,
/// `BudgetName`, `ActionId`, `ExecutionType`. An execution type the action's status does not
/// allow ([`execution_transition`]) is ResourceLockedException: the reference lists it for
/// ExecuteBudgetAction ("the server rejected that particular method for the requested
/// resource") and says nothing more; InvalidParameterException is kept for malformed input.
/// Each execution adds an EXECUTE_ACTION history entry.
fn execute_budget_action(
    acct: &mut AccountState,
    ctx: &Ctx,
    body: &Value,
    progress: Option<(usize, usize)>,
) -> Result<Value, Reply> {
    let kind = required_str(body, "ExecutionType", "executionType").map_err(budgets_invalid)?;
    check_enum(
        kind,
        "executionType",
        &[
            "APPROVE_BUDGET_ACTION",
            "RETRY_BUDGET_ACTION",
            "REVERSE_BUDGET_ACTION",
            "RESET_BUDGET_ACTION",
        ],
    )
    .map_err(budgets_invalid)?;
    let i = budget_action_index(acct, ctx, body)?;
    let a = &mut acct.budget_actions[i];
    let Some(next) = execution_transition(kind, &a.status) else {
        return Err(budget_action_locked(a, kind));
    };
    match progress {
        Some((stale_reads, in_progress_reads)) => {
            a.progress = Some(ActionProgress {
                before: a.status.clone(),
                stale_reads,
                in_progress_reads,
                after: next.to_string(),
            });
            a.status = in_progress_status(next).to_string();
        }
        None => a.status = next.to_string(),
    }
    let now = a.status.clone();
    record_action_event(
        a,
        "EXECUTE_ACTION",
        &format!("{kind}: the action is now {now}."),
    );
    Ok(json!({
        "AccountId": ctx.account,
        "BudgetName": a.budget_name,
        "ActionId": a.action_id,
        "ExecutionType": kind,
    }))
}

/// Budgets API reference, DescribeBudgetActionHistories: `ActionHistories` of the action,
/// optionally within `TimePeriod` (`Start`, `End`, epoch seconds; inclusive here), paged by
/// `MaxResults` (1–100) and `NextToken`; NotFoundException. Newest first (Billing user guide,
/// "Configuring AWS Budgets actions": "Action history, listing the newest actions at the
/// top").
fn describe_budget_action_histories(
    acct: &AccountState,
    ctx: &Ctx,
    body: &Value,
) -> Result<Value, Reply> {
    let i = budget_action_index(acct, ctx, body)?;
    let a = &acct.budget_actions[i];
    let period = &body["TimePeriod"];
    let bound = |key: &str| match &period[key] {
        Value::Null => Ok(None),
        v => v.as_f64().map(Some).ok_or_else(|| {
            budgets_invalid(format!(
                "Value {v} at 'timePeriod.{}' is not a timestamp",
                lower_first(key)
            ))
        }),
    };
    let (start, end) = (bound("Start")?, bound("End")?);
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(budgets_invalid(
            "The start of the time period must come before its end.".into(),
        ));
    }
    let items: Vec<Value> = a
        .history
        .iter()
        .rev()
        .filter(|h| start.is_none_or(|s| h.timestamp >= s) && end.is_none_or(|e| h.timestamp <= e))
        .map(|h| {
            json!({
                "Timestamp": h.timestamp,
                "Status": h.status,
                "EventType": h.event_type,
                "ActionHistoryDetails": { "Message": h.message, "Action": h.action },
            })
        })
        .collect();
    budgets_page(
        &items,
        body,
        &format!(
            "DescribeBudgetActionHistories|{}|{start:?}|{end:?}",
            a.action_id
        ),
        "ActionHistories",
    )
}

// ---------------------------------------------------------------------------
// CloudWatch Logs: Logs Insights query definitions (awsJson 1.1,
// `X-Amz-Target: Logs_20140328.<Op>`, signing name `logs`)

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
    fn query_definitions_op(&self, request: &StrictRequest) -> Option<Reply> {
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

/// Every pattern above compiles (a bad one would panic in the proxy thread at first use).
pub fn patterns_compile() {
    for p in [
        &PROFILE_NAME,
        &PROFILE_DESCRIPTION,
        &IDEMPOTENCY_TOKEN,
        &MODEL_SOURCE_ARN,
        &PROFILE_IDENTIFIER,
        &FOUNDATION_MODEL_ARN,
        &BEDROCK_TAG,
        &PAGINATION_TOKEN,
        &CE_TAG,
        &CE_ARN,
        &SUBSCRIBER_ADDRESS,
        &EXPORT_NAME,
        &EXPORT_ARN,
        &BILLING_VIEW_ARN,
        &COST_CATEGORY_NAME,
        &ZONED_DATE_TIME,
        &RESOURCE_TYPE,
        &BUDGETS_ACCOUNT_ID,
        &ACTION_ID,
        &BUDGETS_ROLE_ARN,
        &BUDGETS_POLICY_ARN,
        &IAM_PRINCIPAL_NAME,
        &SCP_POLICY_ID,
        &SCP_TARGET_ID,
        &SSM_REGION,
        &SSM_INSTANCE_ID,
        &LOG_GROUP_NAME,
        &CLIENT_TOKEN,
        &QUERY_PARAMETER_NAME,
    ] {
        LazyLock::force(p);
    }
    LazyLock::force(&QUERY);
    LazyLock::force(&COLUMN);
    LazyLock::force(&SCRIPT_ELEMENT);
}
