//! A stateful stand-in for the AWS operations moto does not serve (its server answers them with
//! HTTP 500, which the SDK retries): Bedrock application inference profiles, Cost Explorer
//! cost-allocation tags, cost categories and Cost Anomaly Detection, Data Exports, AWS Budgets
//! budget actions, CloudWatch Logs Insights query definitions, Service Quotas for Amazon
//! Bedrock, AWS Chatbot and Athena's table metadata. It is a [`StrictRule`] on the
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
//!
//! The code is one file per service under `standin/`, each with the state tests read, its test
//! controls and its handlers; this file holds the accounts, the dispatch by signing name and
//! the controls that span services, `standin/common.rs` what the services share.
#![allow(dead_code)]
// The error of every handler is the AWS error answer itself; these run once per request.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex, MutexGuard};

use super::proxy::{Reply, StrictRequest, StrictRule, Verdict};

// Paths of their own: examples/aws_standin.rs includes this file from another directory.
// `common` first: the files after it use its `pattern!` macro.
#[path = "standin/common.rs"]
#[macro_use]
mod common;
#[path = "standin/anomaly_monitors.rs"]
mod anomaly_monitors;
#[path = "standin/anomaly_subscriptions.rs"]
mod anomaly_subscriptions;
#[path = "standin/athena_tables.rs"]
mod athena_tables;
#[path = "standin/bedrock_profiles.rs"]
mod bedrock_profiles;
#[path = "standin/budget_action_execution.rs"]
mod budget_action_execution;
#[path = "standin/budget_action_input.rs"]
mod budget_action_input;
#[path = "standin/budget_actions.rs"]
mod budget_actions;
#[path = "standin/chatbot.rs"]
mod chatbot;
#[path = "standin/cost_allocation_tags.rs"]
mod cost_allocation_tags;
#[path = "standin/cost_categories.rs"]
mod cost_categories;
#[path = "standin/cost_category_rules.rs"]
mod cost_category_rules;
#[path = "standin/cost_explorer.rs"]
mod cost_explorer;
#[path = "standin/data_export_input.rs"]
mod data_export_input;
#[path = "standin/data_exports.rs"]
mod data_exports;
#[path = "standin/models.rs"]
mod models;
#[path = "standin/pricelist.rs"]
mod pricelist;
#[path = "standin/query_definitions.rs"]
mod query_definitions;
#[path = "standin/service_credentials.rs"]
mod service_credentials;
#[path = "standin/service_quota_catalogue.rs"]
mod service_quota_catalogue;
#[path = "standin/service_quotas.rs"]
mod service_quotas;
#[path = "standin/snapshot.rs"]
mod snapshot;
#[path = "standin/system_profiles.rs"]
mod system_profiles;

pub use anomaly_monitors::AnomalyMonitor;
pub use anomaly_subscriptions::{AnomalySubscription, Subscriber};
pub use athena_tables::AthenaTable;
pub use bedrock_profiles::InferenceProfile;
pub use budget_actions::{
    ActionHistoryEntry, ActionProgress, BUDGET_ACTION_STATUSES, BUDGET_OBSERVED_OPERATIONS,
    BudgetAction, BudgetSubscriber, IamActionDefinition,
};
pub use chatbot::{ChatConfiguration, ChatbotState};
pub use cost_allocation_tags::CostAllocationTag;
pub use cost_categories::CostCategory;
pub use data_exports::{DATA_EXPORTS_REGION, DataExport};
pub use models::FoundationModel;
pub use pricelist::{FIXTURE_OFFERS, fixture};
pub use query_definitions::QueryDefinition;
pub use service_credentials::ServiceCredential;
pub use service_quota_catalogue::{
    ANY_SCOPE, CROSS_REGION, DEFAULT_BEDROCK_QUOTAS, DefaultQuota, GLOBAL_CROSS_REGION, ON_DEMAND,
    REQUESTS_PER_MINUTE, TOKENS_PER_DAY, TOKENS_PER_MINUTE, bedrock_quota_models,
};
pub use service_quotas::{AppliedQuota, QuotaRequest, REQUEST_STATUSES};

use bedrock_profiles::{
    BEDROCK_TAG, FOUNDATION_MODEL_ARN, IDEMPOTENCY_TOKEN, MODEL_SOURCE_ARN, PAGINATION_TOKEN,
    PROFILE_DESCRIPTION, PROFILE_IDENTIFIER, PROFILE_NAME,
};
use budget_action_input::{
    ACTION_ID, BUDGETS_ACCOUNT_ID, BUDGETS_POLICY_ARN, BUDGETS_ROLE_ARN, IAM_PRINCIPAL_NAME,
    SCP_POLICY_ID, SCP_TARGET_ID, SCRIPT_ELEMENT, SSM_INSTANCE_ID, SSM_REGION,
};
use common::access_key_id;
use cost_categories::{COST_CATEGORY_NAME, RESOURCE_TYPE, ZONED_DATE_TIME};
use cost_explorer::{CE_ARN, CE_TAG, SUBSCRIBER_ADDRESS};
use data_export_input::{BILLING_VIEW_ARN, COLUMN, EXPORT_ARN, EXPORT_NAME, QUERY};
use query_definitions::{CLIENT_TOKEN, LOG_GROUP_NAME, QUERY_PARAMETER_NAME};
use service_quotas::{NEXT_TOKEN, QUOTA_CODE, SERVICE_CODE};

/// moto's account, the one every unregistered access key maps to.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

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
    /// Service Quotas' applied `bedrock` quotas by Region, in listing order: AWS's data, seeded
    /// by tests (not part of [`StandIn::snapshot`]).
    pub bedrock_quotas: BTreeMap<String, Vec<AppliedQuota>>,
    /// Quota increase requests, all Regions, in the order they were made.
    pub quota_requests: Vec<QuotaRequest>,
    /// AWS Chatbot: authorised workspaces and teams (seeded by tests), channel configurations.
    pub chatbot: ChatbotState,
    /// IAM service-specific credentials (long-term Bedrock API keys), in creation order.
    pub service_credentials: Vec<ServiceCredential>,
    /// Athena data catalogs' tables, all Regions: AWS's data, seeded by tests (not part of
    /// [`StandIn::snapshot`]: the tool never writes one).
    pub athena_tables: Vec<AthenaTable>,
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
            && self.quota_requests.is_empty()
            && self.chatbot.configurations.is_empty()
            && self.service_credentials.is_empty()
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

    fn context(&self, state: &State, request: &StrictRequest) -> Ctx {
        let account = access_key_id(&request.headers)
            .and_then(|k| state.access_keys.get(&k).cloned())
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
        let region = request
            .signing_region()
            .unwrap_or_else(|| "us-east-1".to_string());
        Ctx { account, region }
    }

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

    fn collect<T>(&self, f: impl Fn(&AccountState) -> Vec<T>) -> Vec<T> {
        self.lock().accounts.values().flat_map(f).collect()
    }
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
            "servicequotas" => self.service_quotas_op(request),
            "chatbot" => self.chatbot_op(request),
            "iam" => self.service_credentials_op(request),
            "athena" => self.athena_tables_op(request),
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

/// Every pattern of the services compiles (a bad one would panic in the proxy thread at first use).
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
        &SERVICE_CODE,
        &QUOTA_CODE,
        &NEXT_TOKEN,
        &athena_tables::WORKGROUP,
    ] {
        LazyLock::force(p);
    }
    for p in chatbot::patterns() {
        LazyLock::force(p);
    }
    LazyLock::force(&QUERY);
    LazyLock::force(&COLUMN);
    LazyLock::force(&SCRIPT_ELEMENT);
}
