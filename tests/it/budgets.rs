//! The `budgets` component.
//!
//! moto 5 serves CreateBudget, DescribeBudget, DeleteBudget and the notification create /
//! describe / delete calls, but answers UpdateBudget, UpdateNotification,
//! DescribeSubscribersForNotification and ListTagsForResource with HTTP 500. The update paths
//! (and everything that needs readable subscribers or tags) are therefore tested with
//! aws-smithy-mocks; the create / delete paths, idempotence and the degraded reads against moto.
#![allow(deprecated)] // Budget::cost_filters: budgets of an earlier release carry CostFilters.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_budgets::Client;
use aws_sdk_budgets::operation::create_budget::{CreateBudgetInput, CreateBudgetOutput};
use aws_sdk_budgets::operation::create_notification::CreateNotificationOutput;
use aws_sdk_budgets::operation::create_subscriber::{
    CreateSubscriberInput, CreateSubscriberOutput,
};
use aws_sdk_budgets::operation::delete_budget::DeleteBudgetOutput;
use aws_sdk_budgets::operation::delete_notification::{
    DeleteNotificationInput, DeleteNotificationOutput,
};
use aws_sdk_budgets::operation::delete_subscriber::{
    DeleteSubscriberInput, DeleteSubscriberOutput,
};
use aws_sdk_budgets::operation::describe_budget::{DescribeBudgetError, DescribeBudgetOutput};
use aws_sdk_budgets::operation::describe_notifications_for_budget::DescribeNotificationsForBudgetOutput;
use aws_sdk_budgets::operation::describe_subscribers_for_notification::DescribeSubscribersForNotificationOutput;
use aws_sdk_budgets::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_budgets::operation::tag_resource::TagResourceOutput;
use aws_sdk_budgets::operation::update_budget::{UpdateBudgetInput, UpdateBudgetOutput};
use aws_sdk_budgets::operation::update_notification::{
    UpdateNotificationInput, UpdateNotificationOutput,
};
use aws_sdk_budgets::operation::update_subscriber::UpdateSubscriberOutput;
use aws_sdk_budgets::types::error::NotFoundException;
use aws_sdk_budgets::types::{
    Budget, BudgetType, CalculatedSpend, ComparisonOperator, Dimension, Expression,
    ExpressionDimensionValues, MatchOption, Metric, Notification, NotificationType, ResourceTag,
    Spend, Subscriber, SubscriptionType, ThresholdType, TimeUnit,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use bedrock_monitor::aws::{emulator_clients, offline_clients, test_account};
use bedrock_monitor::config::{BudgetConfig, Config, TagFilter};
use bedrock_monitor::engine::{
    Action, ComponentId, Context, Diff, HealthLevel, Node, Ownership, Step,
};
use bedrock_monitor::resources::budgets::{Budgets, NAME_EVIDENCE};

use crate::support::env::{ACCOUNT, REGION, TestEnv, resource};
use crate::support::snapshot::{bedrock_spend_filter, budget_filter};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:bedrock-usage-alerts";
const BUDGET: &str = "BedrockUsageBudget";

use crate::support::Notes;

fn context(clients: bedrock_monitor::aws::Clients, config: Config) -> Context {
    let cx = Context::new(config, test_account(), clients, Arc::new(Notes::default()));
    cx.set_topic_arn(TOPIC);
    cx
}

fn mocked_context(budgets: Client, config: Config) -> Context {
    let mut clients = offline_clients();
    clients.budgets = budgets;
    context(clients, config)
}

fn notification(kind: &str, threshold: f64) -> Notification {
    Notification::builder()
        .notification_type(NotificationType::from(kind))
        .comparison_operator(ComparisonOperator::GreaterThan)
        .threshold(threshold)
        .threshold_type(ThresholdType::Percentage)
        .build()
        .unwrap()
}

fn subscriber(kind: &str, address: &str) -> Subscriber {
    Subscriber::builder()
        .subscription_type(SubscriptionType::from(kind))
        .address(address)
        .build()
        .unwrap()
}

/// What the mocked AWS holds for `BedrockUsageBudget`.
#[derive(Clone)]
struct Account {
    /// `None`: the budget does not exist.
    limit: Option<&'static str>,
    notifications: Vec<(&'static str, f64)>,
    /// `None`: DescribeSubscribersForNotification answers HTTP 500 (as on moto).
    subscribers: Option<Vec<(&'static str, &'static str)>>,
    /// `None`: ListTagsForResource answers HTTP 500 (as on moto).
    tags: Option<Vec<(&'static str, &'static str)>>,
    /// The budget has only the deprecated `CostFilters = {Service: [Amazon Bedrock]}` that an
    /// earlier release wrote, instead of the Bedrock-spend `FilterExpression`.
    legacy_filter: bool,
    /// The budget has the `FilterExpression` of the previous release, which named "Amazon
    /// Bedrock" and the Marketplace suffix only (and so missed "Amazon Bedrock Service").
    previous_release_filter: bool,
    /// The budget was created without `Metrics` (every budget of an earlier release).
    no_metrics: bool,
}

/// The Bedrock-spend filter as the SDK type, built here from the API reference's shape:
/// every service named Bedrock, gross usage (credits and refunds left out).
fn spend_expression() -> Expression {
    let service = Expression::builder()
        .dimensions(
            ExpressionDimensionValues::builder()
                .key(Dimension::Service)
                .values("Bedrock")
                .match_options(MatchOption::Contains)
                .build()
                .unwrap(),
        )
        .build();
    let credits = Expression::builder()
        .dimensions(
            ExpressionDimensionValues::builder()
                .key(Dimension::RecordType)
                .values("Credit")
                .values("Refund")
                .match_options(MatchOption::Equals)
                .build()
                .unwrap(),
        )
        .build();
    Expression::builder()
        .and(service)
        .and(Expression::builder().not(credits).build())
        .build()
}

/// The filter the previous release wrote: "Amazon Bedrock", or a name ending with the
/// Marketplace suffix.
fn previous_release_expression() -> Expression {
    let dim = |value: &str, option: MatchOption| {
        Expression::builder()
            .dimensions(
                ExpressionDimensionValues::builder()
                    .key(Dimension::Service)
                    .values(value)
                    .match_options(option)
                    .build()
                    .unwrap(),
            )
            .build()
    };
    Expression::builder()
        .or(dim("Amazon Bedrock", MatchOption::Equals))
        .or(dim("(Amazon Bedrock Edition)", MatchOption::EndsWith))
        .build()
}

impl Account {
    /// Exactly what the default config asks for, with readable subscribers and tags.
    fn converged() -> Account {
        Account {
            limit: Some("100.0"),
            notifications: vec![("ACTUAL", 80.0), ("FORECASTED", 100.0)],
            subscribers: Some(vec![("SNS", TOPIC)]),
            tags: Some(vec![("bedrock-monitor:stack", "bedrock-monitor")]),
            legacy_filter: false,
            previous_release_filter: false,
            no_metrics: false,
        }
    }
}

/// The write calls the mocked client received, with the inputs the tests look at.
#[derive(Default)]
struct Writes {
    ops: Mutex<Vec<&'static str>>,
    create_budget: Mutex<Vec<CreateBudgetInput>>,
    update_budget: Mutex<Vec<UpdateBudgetInput>>,
    update_notification: Mutex<Vec<UpdateNotificationInput>>,
    delete_notification: Mutex<Vec<DeleteNotificationInput>>,
    create_subscriber: Mutex<Vec<CreateSubscriberInput>>,
    delete_subscriber: Mutex<Vec<DeleteSubscriberInput>>,
}

impl Writes {
    fn ops(&self) -> Vec<&'static str> {
        self.ops.lock().unwrap().clone()
    }
}

fn read_rules(account: &Account) -> Vec<Rule> {
    let mut rules = Vec::new();
    let a = account.clone();
    let legacy_filter = a.legacy_filter;
    let previous_release_filter = a.previous_release_filter;
    let with_metrics = !a.no_metrics && !a.legacy_filter && !a.previous_release_filter;
    rules.push(match a.limit {
        None => mock!(Client::describe_budget).then_error(|| {
            DescribeBudgetError::NotFoundException(
                NotFoundException::builder()
                    .message("Unable to get budget: the budget doesn't exist.")
                    .meta(
                        ErrorMetadata::builder()
                            .code("NotFoundException")
                            .message("the budget doesn't exist")
                            .build(),
                    )
                    .build(),
            )
        }),
        Some(limit) => mock!(Client::describe_budget).then_output(move || {
            let budget = Budget::builder()
                .budget_name(BUDGET)
                .budget_type(BudgetType::Cost)
                .time_unit(TimeUnit::Monthly)
                .budget_limit(Spend::builder().amount(limit).unit("USD").build().unwrap());
            let budget = if legacy_filter {
                budget.cost_filters("Service", vec!["Amazon Bedrock".to_string()])
            } else if previous_release_filter {
                budget.filter_expression(previous_release_expression())
            } else {
                budget.filter_expression(spend_expression())
            };
            let budget = if with_metrics {
                budget.metrics(Metric::UnblendedCost)
            } else {
                budget
            };
            DescribeBudgetOutput::builder()
                .budget(
                    budget
                        .calculated_spend(
                            CalculatedSpend::builder()
                                .actual_spend(
                                    Spend::builder().amount("12.5").unit("USD").build().unwrap(),
                                )
                                .forecasted_spend(
                                    Spend::builder().amount("120").unit("USD").build().unwrap(),
                                )
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
        }),
    });
    let notifications = a.notifications.clone();
    rules.push(
        mock!(Client::describe_notifications_for_budget).then_output(move || {
            DescribeNotificationsForBudgetOutput::builder()
                .set_notifications(Some(
                    notifications
                        .iter()
                        .map(|(k, t)| notification(k, *t))
                        .collect(),
                ))
                .build()
        }),
    );
    rules.push(match a.subscribers.clone() {
        Some(subs) => mock!(Client::describe_subscribers_for_notification).then_output(move || {
            DescribeSubscribersForNotificationOutput::builder()
                .set_subscribers(Some(subs.iter().map(|(k, a)| subscriber(k, a)).collect()))
                .build()
        }),
        None => mock!(Client::describe_subscribers_for_notification)
            .sequence()
            .http_status(500, Some("<!doctype html><title>500</title>".into()))
            .repeatedly()
            .build(),
    });
    rules.push(match a.tags.clone() {
        Some(tags) => mock!(Client::list_tags_for_resource).then_output(move || {
            ListTagsForResourceOutput::builder()
                .set_resource_tags(Some(
                    tags.iter()
                        .map(|(k, v)| ResourceTag::builder().key(*k).value(*v).build().unwrap())
                        .collect(),
                ))
                .build()
        }),
        None => mock!(Client::list_tags_for_resource)
            .sequence()
            .http_status(500, Some("<!doctype html><title>500</title>".into()))
            .repeatedly()
            .build(),
    });
    rules
}

fn write_rules(w: &Arc<Writes>) -> Vec<Rule> {
    macro_rules! record {
        ($op:ident, $name:literal, $output:expr) => {{
            let w = w.clone();
            mock!(Client::$op).then_compute_output(move |_req| {
                w.ops.lock().unwrap().push($name);
                $output
            })
        }};
        ($op:ident, $name:literal, $field:ident, $output:expr) => {{
            let w = w.clone();
            mock!(Client::$op).then_compute_output(move |req| {
                w.ops.lock().unwrap().push($name);
                w.$field.lock().unwrap().push(req.clone());
                $output
            })
        }};
    }
    vec![
        record!(
            create_budget,
            "CreateBudget",
            create_budget,
            CreateBudgetOutput::builder().build()
        ),
        record!(
            update_budget,
            "UpdateBudget",
            update_budget,
            UpdateBudgetOutput::builder().build()
        ),
        record!(
            update_notification,
            "UpdateNotification",
            update_notification,
            UpdateNotificationOutput::builder().build()
        ),
        record!(
            create_notification,
            "CreateNotification",
            CreateNotificationOutput::builder().build()
        ),
        record!(
            delete_notification,
            "DeleteNotification",
            delete_notification,
            DeleteNotificationOutput::builder().build()
        ),
        record!(
            create_subscriber,
            "CreateSubscriber",
            create_subscriber,
            CreateSubscriberOutput::builder().build()
        ),
        record!(
            delete_subscriber,
            "DeleteSubscriber",
            delete_subscriber,
            DeleteSubscriberOutput::builder().build()
        ),
        record!(
            update_subscriber,
            "UpdateSubscriber",
            UpdateSubscriberOutput::builder().build()
        ),
        record!(
            tag_resource,
            "TagResource",
            TagResourceOutput::builder().build()
        ),
        record!(
            delete_budget,
            "DeleteBudget",
            DeleteBudgetOutput::builder().build()
        ),
    ]
}

/// A context whose budgets client is mocked to hold `account`, and the writes it receives.
fn mocked(account: &Account, config: Config) -> (Context, Arc<Writes>) {
    let writes = Arc::new(Writes::default());
    let rules: Vec<Rule> = read_rules(account)
        .into_iter()
        .chain(write_rules(&writes))
        .collect();
    let client = mock_client!(aws_sdk_budgets, RuleMode::MatchAny, rules.iter());
    (mocked_context(client, config), writes)
}

async fn plan(step: &Arc<dyn Step>, cx: &Context) -> Diff {
    step.refresh(cx).await.expect("read budgets");
    step.plan(cx).expect("a plan after a read")
}

fn change<'a>(diff: &'a Diff, field: &str) -> &'a bedrock_monitor::engine::FieldChange {
    diff.changes
        .iter()
        .find(|c| c.field == field)
        .unwrap_or_else(|| panic!("no change of {field} in {diff:#?}"))
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_budget_makes_no_write() {
    let (cx, writes) = mocked(&Account::converged(), Config::default());
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Unchanged, "{diff:#?}");
    assert!(diff.notes.is_empty(), "{diff:#?}");
    assert_eq!(
        step.ownership(&cx),
        Some(Ownership::Managed {
            evidence: "tag bedrock-monitor:stack=bedrock-monitor".into()
        })
    );
    let applied = step.apply(&cx).await.expect("apply");
    assert_eq!(applied.action, Action::Unchanged);
    assert!(writes.ops().is_empty(), "{:?}", writes.ops());
}

#[tokio::test(start_paused = true)]
async fn a_changed_limit_updates_the_budget() {
    let mut config = Config::default();
    config.budgets[0].limit_usd = 150.0;
    let (cx, writes) = mocked(&Account::converged(), config);
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Update);
    let c = change(&diff, "BedrockUsageBudget.limit_usd");
    assert_eq!((c.old.as_f64(), c.new.as_f64()), (Some(100.0), Some(150.0)));
    assert_eq!(diff.changes.len(), 1, "{diff:#?}");

    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["UpdateBudget"]);
    let input = writes.update_budget.lock().unwrap()[0].clone();
    assert_eq!(input.account_id(), Some(ACCOUNT));
    let budget = input.new_budget().expect("new budget");
    assert_eq!(budget.budget_name(), BUDGET);
    assert_eq!(budget.budget_type(), &BudgetType::Cost);
    assert_eq!(budget.time_unit(), &TimeUnit::Monthly);
    let limit = budget.budget_limit().expect("limit");
    assert_eq!(limit.amount().parse::<f64>().unwrap(), 150.0);
    assert_eq!(limit.unit(), "USD");
    assert_eq!(
        budget.filter_expression().map(budget_filter),
        Some(bedrock_spend_filter(None))
    );
    assert!(budget.cost_filters().is_none());
}

/// A budget an earlier release created filters with the deprecated CostFilters on the
/// "Amazon Bedrock" service alone, which misses Marketplace-billed models (Claude): the filter
/// is replaced by the Bedrock-spend FilterExpression with one UpdateBudget (an update, not a
/// replacement: the limit, period and notifications stay).
#[tokio::test(start_paused = true)]
async fn a_budget_of_the_previous_release_gets_the_new_filter_by_update() {
    let account = Account {
        legacy_filter: true,
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Update);
    // The filter, and the metrics a budget of that release was created without.
    assert_eq!(diff.changes.len(), 2, "{diff:#?}");
    let c = change(&diff, "BedrockUsageBudget.filter");
    assert_eq!(
        c.old,
        serde_json::json!({"CostFilters": {"Service": ["Amazon Bedrock"]}})
    );
    assert_eq!(c.new, bedrock_spend_filter(None));

    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["UpdateBudget"]);
    let input = writes.update_budget.lock().unwrap()[0].clone();
    let budget = input.new_budget().expect("new budget");
    assert_eq!(
        budget.filter_expression().map(budget_filter),
        Some(bedrock_spend_filter(None))
    );
    assert!(
        budget.cost_filters().is_none(),
        "the deprecated form is not written"
    );
    assert_eq!(budget.budget_limit().map(|l| l.amount()), Some("100"));
    assert_eq!(budget.time_unit(), &TimeUnit::Monthly);
}

/// The previous release's filter ("Amazon Bedrock" or a Marketplace name) misses the newer
/// "Amazon Bedrock Service" billing name: one UpdateBudget writes the current definition, and
/// nothing else changes.
#[tokio::test(start_paused = true)]
async fn a_budget_with_the_previous_filter_converges_with_one_update() {
    let account = Account {
        previous_release_filter: true,
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Update);
    assert_eq!(diff.changes.len(), 2, "{diff:#?}");
    let c = change(&diff, "BedrockUsageBudget.filter");
    assert_eq!(c.old, budget_filter(&previous_release_expression()));
    assert_eq!(c.new, bedrock_spend_filter(None));
    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["UpdateBudget"]);
    let input = writes.update_budget.lock().unwrap()[0].clone();
    let budget = input.new_budget().expect("new budget");
    assert_eq!(
        budget.filter_expression().map(budget_filter),
        Some(bedrock_spend_filter(None))
    );
}

/// A budget created with a filter and no `Metrics` breaks its history in the console
/// ("Selected metrics cannot be null", terraform-provider-aws #46866): it gets
/// `UnblendedCost` by one UpdateBudget, which carries `FilterExpression` and `Metrics` and not
/// the deprecated `CostTypes` (the API takes one pair or the other, not both).
#[tokio::test(start_paused = true)]
#[allow(deprecated)]
async fn a_budget_without_metrics_gets_them_by_one_update() {
    let account = Account {
        no_metrics: true,
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Update);
    assert_eq!(diff.changes.len(), 1, "{diff:#?}");
    let c = change(&diff, "BedrockUsageBudget.metrics");
    assert_eq!(c.old, serde_json::json!([]));
    assert_eq!(c.new, serde_json::json!(["UnblendedCost"]));
    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["UpdateBudget"]);
    let input = writes.update_budget.lock().unwrap()[0].clone();
    let budget = input.new_budget().expect("new budget");
    assert_eq!(budget.metrics(), [Metric::UnblendedCost]);
    assert!(budget.cost_types().is_none(), "{budget:?}");
    assert_eq!(
        budget.filter_expression().map(budget_filter),
        Some(bedrock_spend_filter(None))
    );
}

/// `[spend] count_credits_and_refunds = true`: the filter keeps credits and refunds in (AWS
/// Budgets' own default); by default they are left out and the budget measures gross usage.
#[tokio::test(start_paused = true)]
async fn credits_and_refunds_count_only_when_asked() {
    let mut config = Config::default();
    config.spend.count_credits_and_refunds = true;
    let (cx, _) = mocked(&Account::converged(), config);
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    let c = change(&diff, "BedrockUsageBudget.filter");
    assert_eq!(
        c.new,
        serde_json::json!({"Dimensions": {"Key": "SERVICE", "Values": ["Bedrock"], "MatchOptions": ["CONTAINS"]}})
    );
    assert_eq!(
        c.old["And"][1],
        serde_json::json!({"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"], "MatchOptions": ["EQUALS"]}}})
    );
}

/// `[spend] include_agentcore = false`: the filter takes AgentCore out with a `Not`.
#[tokio::test(start_paused = true)]
async fn agentcore_can_be_left_out_of_the_budget() {
    let mut config = Config::default();
    config.spend.include_agentcore = false;
    let (cx, _) = mocked(&Account::converged(), config);
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    let c = change(&diff, "BedrockUsageBudget.filter");
    assert_eq!(
        c.new,
        serde_json::json!({"And": [
            {"Dimensions": {"Key": "SERVICE", "Values": ["Bedrock"], "MatchOptions": ["CONTAINS"]}},
            {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"], "MatchOptions": ["EQUALS"]}}},
            {"Not": {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock AgentCore"], "MatchOptions": ["EQUALS"]}}},
        ]})
    );
}

#[tokio::test(start_paused = true)]
async fn a_limit_aws_returns_as_an_integer_string_is_equal() {
    let account = Account {
        limit: Some("100"),
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    assert_eq!(plan(&step, &cx).await.action, Action::Unchanged);
    step.apply(&cx).await.expect("apply");
    assert!(writes.ops().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_changed_threshold_updates_the_notification() {
    let mut config = Config::default();
    config.budgets[0].notifications = Some(vec![
        bedrock_monitor::config::BudgetNotification {
            kind: "ACTUAL".into(),
            threshold_percent: 90.0,
        },
        bedrock_monitor::config::BudgetNotification {
            kind: "FORECASTED".into(),
            threshold_percent: 100.0,
        },
    ]);
    let (cx, writes) = mocked(&Account::converged(), config);
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    let c = change(&diff, "BedrockUsageBudget.notifications");
    assert_eq!(c.old, serde_json::json!(["ACTUAL:80", "FORECASTED:100"]));
    assert_eq!(c.new, serde_json::json!(["ACTUAL:90", "FORECASTED:100"]));

    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["UpdateNotification"]);
    let input = writes.update_notification.lock().unwrap()[0].clone();
    assert_eq!(input.budget_name(), Some(BUDGET));
    let old = input.old_notification().expect("old");
    let new = input.new_notification().expect("new");
    assert_eq!(old.notification_type(), &NotificationType::Actual);
    assert_eq!(old.threshold(), 80.0);
    assert_eq!(new.notification_type(), &NotificationType::Actual);
    assert_eq!(new.threshold(), 90.0);
    assert_eq!(new.comparison_operator(), &ComparisonOperator::GreaterThan);
    assert_eq!(new.threshold_type(), Some(&ThresholdType::Percentage));
}

/// Budget alerts reach the emails through the topic, never directly: a direct EMAIL subscriber
/// as well would send every alert twice to an address subscribed to the topic (and AWS Budgets
/// takes at most 10 email subscribers per notification). Configured emails therefore change
/// nothing on the budget.
#[tokio::test(start_paused = true)]
async fn emails_reach_budget_alerts_through_the_topic_only() {
    let mut config = Config::default();
    config.alerts.emails = (1..=12).map(|i| format!("ops{i}@example.com")).collect();
    let (cx, writes) = mocked(&Account::converged(), config);
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Unchanged, "{diff:#?}");
    step.apply(&cx).await.expect("apply");
    assert!(writes.ops().is_empty(), "{:?}", writes.ops());
}

#[tokio::test(start_paused = true)]
async fn a_removed_email_is_unsubscribed() {
    let account = Account {
        subscribers: Some(vec![("SNS", TOPIC), ("EMAIL", "old@example.com")]),
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["DeleteSubscriber", "DeleteSubscriber"]);
    for i in writes.delete_subscriber.lock().unwrap().iter() {
        assert_eq!(i.subscriber().map(|s| s.address()), Some("old@example.com"));
    }
}

#[tokio::test(start_paused = true)]
async fn notifications_are_added_and_removed_to_match_the_config() {
    // An extra ACTUAL notification at 50 % and no forecast notification: the 80 % one stays,
    // the 50 % one goes, the forecast one is created.
    let account = Account {
        notifications: vec![("ACTUAL", 80.0), ("ACTUAL", 50.0)],
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    step.apply(&cx).await.expect("apply");
    assert_eq!(
        writes.ops(),
        vec!["DeleteNotification", "CreateNotification"]
    );
    let deleted = writes.delete_notification.lock().unwrap()[0].clone();
    assert_eq!(deleted.notification().map(|n| n.threshold()), Some(50.0));
}

#[tokio::test(start_paused = true)]
async fn a_missing_budget_is_created_with_notifications_subscribers_and_tags() {
    let mut config = Config::default();
    config.alerts.emails = vec!["ops@example.com".into()];
    config.budgets[0].tag_filter = Some(TagFilter {
        key: "Project".into(),
        value: "a".into(),
    });
    let account = Account {
        limit: None,
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, config);
    let step = Node::new(Budgets);
    assert_eq!(step.ownership(&cx), None);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Create);
    assert_eq!(step.ownership(&cx), Some(Ownership::Missing));
    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["CreateBudget"]);
    let input = writes.create_budget.lock().unwrap()[0].clone();
    let budget = input.budget().expect("budget");
    assert_eq!(
        budget.filter_expression().map(budget_filter),
        Some(bedrock_spend_filter(Some(("Project", "a"))))
    );
    assert!(budget.cost_filters().is_none());
    let nws = input.notifications_with_subscribers();
    assert_eq!(nws.len(), 2);
    for n in nws {
        let mut subs: Vec<(String, String)> = n
            .subscribers()
            .iter()
            .map(|s| (s.subscription_type().as_str().into(), s.address().into()))
            .collect();
        subs.sort();
        assert_eq!(subs, vec![("SNS".into(), TOPIC.into())]);
    }
    let tags: Vec<(&str, &str)> = input
        .resource_tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert!(tags.contains(&("bedrock-monitor:stack", "bedrock-monitor")));
}

#[tokio::test(start_paused = true)]
async fn unreadable_subscribers_and_tags_are_not_compared() {
    // moto's answer to DescribeSubscribersForNotification and ListTagsForResource. The new
    // email cannot be compared, so nothing is written; the plan says why.
    let account = Account {
        subscribers: None,
        tags: None,
        ..Account::converged()
    };
    let mut config = Config::default();
    config.alerts.emails = vec!["ops@example.com".into()];
    let (cx, writes) = mocked(&account, config);
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    assert_eq!(diff.action, Action::Unchanged, "{diff:#?}");
    assert_eq!(diff.notes.len(), 1, "{diff:#?}");
    assert!(
        diff.notes[0].contains("subscribers") && diff.notes[0].contains("tags"),
        "{diff:#?}"
    );
    assert!(diff.notes[0].contains("not compared"), "{diff:#?}");
    assert_eq!(
        step.ownership(&cx),
        Some(Ownership::Managed {
            evidence: NAME_EVIDENCE.into()
        })
    );
    step.apply(&cx).await.expect("apply");
    assert!(writes.ops().is_empty(), "{:?}", writes.ops());
}

#[tokio::test(start_paused = true)]
async fn an_untagged_budget_is_not_managed_until_adopted() {
    let account = Account {
        tags: Some(vec![]),
        ..Account::converged()
    };
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    let diff = plan(&step, &cx).await;
    change(&diff, "BedrockUsageBudget.tags");
    assert!(matches!(
        step.ownership(&cx),
        Some(Ownership::NotManaged { .. })
    ));
    // Not without consent (`--adopt budgets`): nothing is written.
    let refused = step.apply(&cx).await.expect_err("refused without consent");
    assert_eq!(refused.code.as_deref(), Some("NotManagedByThisStack"));
    assert!(writes.ops().is_empty(), "{:?}", writes.ops());
    cx.allow_adoption(ComponentId::Budgets);
    step.apply(&cx).await.expect("apply");
    assert_eq!(writes.ops(), vec!["TagResource"]);

    // Cleanup leaves someone else's budget alone.
    let (cx, writes) = mocked(&account, Config::default());
    let step = Node::new(Budgets);
    step.refresh(&cx).await.expect("read");
    step.delete(&cx).await.expect("delete");
    assert!(writes.ops().is_empty(), "{:?}", writes.ops());
}

#[tokio::test(start_paused = true)]
async fn status_reports_spend_against_the_limit() {
    let (cx, _) = mocked(&Account::converged(), Config::default());
    let step = Node::new(Budgets);
    step.refresh(&cx).await.expect("read");
    let health = step.health(&cx);
    assert_eq!(health.len(), 1, "{health:?}");
    // 12.50 spent, 120 forecast against 100.
    assert_eq!(health[0].level, HealthLevel::Warning);
    assert!(health[0].detail.contains("12.50"), "{health:?}");
}

// ----- against moto -----

fn two_budgets() -> Config {
    let mut config = Config::default();
    config.alerts.emails = vec!["ops@example.com".into()];
    config.budgets.push(BudgetConfig {
        name: "ProjectA".into(),
        limit_usd: 50.0,
        tag_filter: Some(TagFilter {
            key: "Project".into(),
            value: "a".into(),
        }),
        ..BudgetConfig::default()
    });
    config
}

fn describe(env: &TestEnv, name: &str) -> Option<Budget> {
    match env.block_on(
        env.aws
            .budgets
            .describe_budget()
            .account_id(ACCOUNT)
            .budget_name(name)
            .send(),
    ) {
        Ok(out) => out.budget().cloned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("DescribeBudget {name}: {e:?}"),
    }
}

fn notifications(env: &TestEnv, name: &str) -> Vec<Notification> {
    env.block_on(
        env.aws
            .budgets
            .describe_notifications_for_budget()
            .account_id(ACCOUNT)
            .budget_name(name)
            .send(),
    )
    .expect("notifications")
    .notifications()
    .to_vec()
}

fn notification_set(env: &TestEnv, name: &str) -> Vec<(String, f64, String, String)> {
    let mut set: Vec<_> = notifications(env, name)
        .iter()
        .map(|n| {
            (
                n.notification_type().as_str().to_string(),
                n.threshold(),
                n.comparison_operator().as_str().to_string(),
                n.threshold_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    set.sort_by(|a, b| a.0.cmp(&b.0));
    set
}

#[track_caller]
fn check_budget(env: &TestEnv, name: &str, limit: f64, tag_value: Option<&str>) {
    let budget = describe(env, name).unwrap_or_else(|| panic!("budget {name} exists"));
    let amount = budget.budget_limit().expect("limit").amount();
    assert_eq!(amount.parse::<f64>().unwrap(), limit, "{name}");
    assert_eq!(budget.budget_limit().unwrap().unit(), "USD");
    assert_eq!(budget.time_unit(), &TimeUnit::Monthly);
    assert_eq!(budget.budget_type(), &BudgetType::Cost);
    assert_eq!(
        budget.filter_expression().map(budget_filter),
        Some(bedrock_spend_filter(tag_value.map(|v| ("Project", v)))),
        "{name}"
    );
    assert!(
        budget.cost_filters().is_none(),
        "{name}: {:?}",
        budget.cost_filters()
    );
    assert_eq!(
        notification_set(env, name),
        vec![
            (
                "ACTUAL".to_string(),
                80.0,
                "GREATER_THAN".to_string(),
                "PERCENTAGE".to_string()
            ),
            (
                "FORECASTED".to_string(),
                100.0,
                "GREATER_THAN".to_string(),
                "PERCENTAGE".to_string()
            ),
        ]
    );
}

#[test]
fn moto_library_two_budgets_created_then_a_second_apply_only_reads() {
    let env = TestEnv::new();
    // Through the recording proxy, so the tool's writes can be counted.
    let cx = context(emulator_clients(&env.proxy.url(), REGION), two_budgets());
    let step = Node::new(Budgets);
    let applied = env.block_on(step.apply(&cx)).expect("apply");
    assert_eq!(applied.action, Action::Create);
    assert_eq!(
        env.writes(),
        vec!["budgets:CreateBudget", "budgets:CreateBudget"]
    );
    check_budget(&env, BUDGET, 100.0, None);
    check_budget(&env, "ProjectA", 50.0, Some("a"));

    env.proxy.clear();
    let step = Node::new(Budgets);
    let started = Instant::now();
    let diff = env.block_on(plan(&step, &cx));
    let applied = env.block_on(step.apply(&cx)).expect("second apply");
    let took = started.elapsed();
    assert_eq!(diff.action, Action::Unchanged, "{diff:#?}");
    assert_eq!(applied.action, Action::Unchanged);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // moto cannot serve subscribers or tags: one retry each, not the client's whole budget.
    assert!(
        took < Duration::from_secs(4),
        "the degraded read took {took:?}"
    );
    assert!(
        diff.notes
            .iter()
            .any(|n| n.contains("subscribers") && n.contains("not compared")),
        "{diff:#?}"
    );
    assert_eq!(
        step.ownership(&cx),
        Some(Ownership::Managed {
            evidence: NAME_EVIDENCE.into()
        })
    );

    env.block_on(step.delete(&cx)).expect("delete");
    assert!(describe(&env, BUDGET).is_none());
    assert!(describe(&env, "ProjectA").is_none());
    let step = Node::new(Budgets);
    env.block_on(step.refresh(&cx)).expect("read");
    assert_eq!(step.ownership(&cx), Some(Ownership::Missing));
    env.block_on(step.delete(&cx))
        .expect("a second delete is a no-op");
}

#[test]
fn moto_library_a_deleted_notification_is_recreated() {
    let env = TestEnv::new();
    let cx = context(
        emulator_clients(&env.proxy.url(), REGION),
        Config::default(),
    );
    env.block_on(Node::new(Budgets).apply(&cx)).expect("create");
    let forecast = notifications(&env, BUDGET)
        .into_iter()
        .find(|n| n.notification_type() == &NotificationType::Forecasted)
        .expect("forecast notification");
    env.block_on(
        env.aws
            .budgets
            .delete_notification()
            .account_id(ACCOUNT)
            .budget_name(BUDGET)
            .notification(forecast)
            .send(),
    )
    .expect("delete notification");
    assert_eq!(notifications(&env, BUDGET).len(), 1);

    env.proxy.clear();
    let step = Node::new(Budgets);
    let diff = env.block_on(plan(&step, &cx));
    assert_eq!(diff.action, Action::Update);
    let c = change(&diff, "BedrockUsageBudget.notifications");
    assert_eq!(c.old, serde_json::json!(["ACTUAL:80"]));
    env.block_on(step.apply(&cx)).expect("repair");
    assert_eq!(env.writes(), vec!["budgets:CreateNotification"]);
    check_budget(&env, BUDGET, 100.0, None);
}

// ----- through the binary -----

#[test]
fn apply_creates_budgets_and_a_second_apply_only_reads() {
    let env = TestEnv::new();
    env.write_config(
        "[alerts]\nemails = [\"ops@example.com\"]\n\n\
         [[budgets]]\nname = \"BedrockUsageBudget\"\nlimit_usd = 100\n\n\
         [[budgets]]\nname = \"ProjectA\"\nlimit_usd = 50\n\
         tag_filter = { key = \"Project\", value = \"a\" }\n",
    );
    let first = env.run(&["apply", "--yes", "-o", "json"]);
    first.assert_code(0);
    let doc = first.json();
    assert_eq!(resource(&doc, "budgets")["action"], "created", "{doc:#}");
    check_budget(&env, BUDGET, 100.0, None);
    check_budget(&env, "ProjectA", 50.0, Some("a"));

    env.proxy.clear();
    let started = Instant::now();
    let second = env.run(&["apply", "--yes", "-o", "json"]);
    second.assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote: {:?}",
        env.writes()
    );
    eprintln!(
        "second apply of the whole stack took {:?}",
        started.elapsed()
    );

    let plan = env.run(&["plan", "--detailed-exitcode", "-o", "json"]);
    plan.assert_code(0);
    let doc = plan.json();
    let budgets = resource(&doc, "budgets");
    assert_eq!(budgets["action"], "unchanged", "{budgets:#}");
    assert!(
        budgets["notes"].as_array().is_some_and(|n| n
            .iter()
            .any(|n| n.as_str().unwrap_or("").contains("subscribers"))),
        "the plan says what it could not compare: {budgets:#}"
    );
    assert!(env.writes().is_empty());
}

#[test]
fn apply_creates_the_default_budget_and_repairs_a_drifted_notification_set() {
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    check_budget(&env, BUDGET, 100.0, None);

    let actual = notifications(&env, BUDGET)
        .into_iter()
        .find(|n| n.notification_type() == &NotificationType::Actual)
        .expect("actual notification");
    env.block_on(
        env.aws
            .budgets
            .delete_notification()
            .account_id(ACCOUNT)
            .budget_name(BUDGET)
            .notification(actual)
            .send(),
    )
    .expect("delete notification");

    let plan = env.run(&["plan", "--detailed-exitcode", "-o", "json"]);
    plan.assert_code(2);
    let doc = plan.json();
    assert_eq!(resource(&doc, "budgets")["action"], "update", "{doc:#}");

    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["budgets:CreateNotification"]);
    check_budget(&env, BUDGET, 100.0, None);
}

/// The whole stack through the executor (topic first, its ARN recorded from SDK responses).
fn stack_steps(config: &Config) -> Vec<Arc<dyn Step>> {
    bedrock_monitor::resources::steps_for(config)
}

fn run_stack(env: &TestEnv, config: &Config) -> Vec<bedrock_monitor::engine::StepReport> {
    let cx = Arc::new(context_without_topic(
        emulator_clients(&env.proxy.url(), REGION),
        config.clone(),
    ));
    env.block_on(bedrock_monitor::engine::execute(
        cx,
        stack_steps(config),
        bedrock_monitor::engine::Operation::Apply,
        Arc::new(bedrock_monitor::engine::ScriptedRecovery::new([])),
        bedrock_monitor::engine::Interrupt::default(),
    ))
}

fn context_without_topic(clients: bedrock_monitor::aws::Clients, config: Config) -> Context {
    Context::new(config, test_account(), clients, Arc::new(Notes::default()))
}

#[test]
fn executor_whole_stack_with_two_budgets_then_no_writes() {
    let env = TestEnv::new();
    let config = two_budgets();
    let first = run_stack(&env, &config);
    for r in &first {
        assert!(r.outcome.is_success(), "{r:#?}");
    }
    let budgets = first
        .iter()
        .find(|r| r.id == ComponentId::Budgets)
        .expect("budgets step");
    assert_eq!(budgets.outcome.as_str(), "created");
    check_budget(&env, BUDGET, 100.0, None);
    check_budget(&env, "ProjectA", 50.0, Some("a"));

    env.proxy.clear();
    let started = Instant::now();
    let second = run_stack(&env, &config);
    for r in &second {
        assert_eq!(r.outcome.as_str(), "unchanged", "{r:#?}");
    }
    assert!(
        env.writes().is_empty(),
        "second apply wrote {:?}",
        env.writes()
    );
    eprintln!("second apply of the whole stack: {:?}", started.elapsed());
}
