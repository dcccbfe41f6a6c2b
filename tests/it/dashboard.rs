//! The `dashboard` component against moto: every widget of the body as moto stores it (the
//! marker, SEARCH expressions or one line per model, p99 latency, the cost metric math, the
//! delivery metrics, the alarm ARNs, the log query's record fields), JSON comparison (a
//! re-spaced body is no change), repair of an edited dashboard, ownership and delete.
//!
//! moto limits (DESIGN.md, issue 3): it does not evaluate SEARCH or metric math, so only the
//! body's structure can be checked; and it cannot tag dashboards (TagResource answers
//! ResourceNotFoundException, ListTagsForResource []), so against moto ownership always comes
//! from the marker widget. Real AWS tags the dashboard and the tag is the evidence.

use std::sync::Arc;

use bedrock_monitor::aws::test_account;
use bedrock_monitor::config::Config;
use bedrock_monitor::engine::{Action, ComponentId, Context, Node, Ownership};
use bedrock_monitor::resources::dashboard::Dashboard;
use serde_json::{Value, json};

use crate::support::env::{ACCOUNT, LOG_GROUP, REGION, TestEnv, resource};

const NAME: &str = "BedrockUsageMonitoring";
const STACK: &str = "bedrock-monitor";

const BUILTIN_ALARMS: [&str; 12] = [
    "Bedrock-HighInputTokenUsage",
    "Bedrock-HighErrorRate",
    "Bedrock-UnusualInvocationSpike",
    "Bedrock-HighLatency",
    "Bedrock-ServerErrors",
    "Bedrock-Throttles",
    "Bedrock-InvocationLogDeliveryFailures",
    "Bedrock-InvocationLogS3DeliveryFailures",
    "Bedrock-InvocationLargeDataDeliveryFailures",
    "Bedrock-Mantle-HighInputTokenUsage",
    "Bedrock-Mantle-HighErrorRate",
    "Bedrock-Mantle-UnusualInferenceSpike",
];

use crate::support::Notes;

/// A context whose clients talk to moto directly (the library path, without the binary).
fn context(env: &TestEnv, config: Config) -> (Context, Arc<Notes>) {
    let notes = Arc::new(Notes::default());
    let cx = Context::new(config, test_account(), env.aws.clone(), notes.clone());
    (cx, notes)
}

fn stored_body(env: &TestEnv) -> Value {
    let out = env
        .block_on(
            env.aws
                .cloudwatch
                .get_dashboard()
                .dashboard_name(NAME)
                .send(),
        )
        .expect("the dashboard exists");
    serde_json::from_str(out.dashboard_body().expect("body")).expect("body is JSON")
}

fn put_body(env: &TestEnv, body: &str) {
    env.block_on(
        env.aws
            .cloudwatch
            .put_dashboard()
            .dashboard_name(NAME)
            .dashboard_body(body)
            .send(),
    )
    .expect("put dashboard");
}

fn widgets(body: &Value) -> &Vec<Value> {
    body["widgets"].as_array().expect("widgets")
}

fn widget<'a>(body: &'a Value, title: &str) -> &'a Value {
    widgets(body)
        .iter()
        .find(|w| {
            w["properties"]["title"]
                .as_str()
                .is_some_and(|t| t.starts_with(title))
        })
        .unwrap_or_else(|| panic!("no widget titled {title:?} in {body:#}"))
}

fn metrics(widget: &Value) -> &Vec<Value> {
    widget["properties"]["metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("no metrics in {widget:#}"))
}

/// The expressions (SEARCH or math) of a metric widget.
fn expressions(widget: &Value) -> Vec<String> {
    metrics(widget)
        .iter()
        .filter_map(|m| m[0]["expression"].as_str().map(str::to_string))
        .collect()
}

fn search(metric: &str, stat: &str) -> String {
    format!("SEARCH('{{AWS/Bedrock,ModelId}} MetricName=\"{metric}\"', '{stat}', 300)")
}

/// What every configuration shares: marker, period and region, delivery health, alarms, logs.
fn check_common_widgets(body: &Value) {
    let first = &widgets(body)[0];
    assert_eq!(first["type"], "text", "the marker comes first: {body:#}");
    let markdown = first["properties"]["markdown"].as_str().expect("markdown");
    assert!(
        markdown.contains(&format!("managed by bedrock-monitor stack `{STACK}`")),
        "{markdown}"
    );
    assert!(markdown.contains("overwritten by `bedrock-monitor apply`"));

    for w in widgets(body).iter().filter(|w| w["type"] == "metric") {
        assert_eq!(w["properties"]["region"], REGION, "{w:#}");
        assert_eq!(w["properties"]["period"], 300, "{w:#}");
    }

    let delivery = widget(body, "Invocation-log delivery");
    let names: Vec<&str> = metrics(delivery)
        .iter()
        .map(|m| {
            assert_eq!(m[0], "AWS/Bedrock");
            assert!(m[2].is_object(), "no dimension: {m}");
            m[1].as_str().expect("metric name")
        })
        .collect();
    assert_eq!(
        names,
        [
            "ModelInvocationLogsCloudWatchDeliverySuccess",
            "ModelInvocationLogsCloudWatchDeliveryFailure",
            "ModelInvocationLogsS3DeliverySuccess",
            "ModelInvocationLogsS3DeliveryFailure",
            "ModelInvocationLargeDataS3DeliverySuccess",
            "ModelInvocationLargeDataS3DeliveryFailure",
        ]
    );

    let alarms = widget(body, "Alarm status");
    assert_eq!(alarms["type"], "alarm");
    let arns: Vec<String> = BUILTIN_ALARMS
        .iter()
        .map(|n| format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{n}"))
        .collect();
    assert_eq!(alarms["properties"]["alarms"], json!(arns));

    let log = widget(body, "Recent invocations");
    assert_eq!(log["type"], "log");
    assert_eq!(log["properties"]["region"], REGION);
    let query = log["properties"]["query"].as_str().expect("query");
    assert_eq!(
        query,
        format!(
            "SOURCE '{LOG_GROUP}' | fields @timestamp, modelId, identity.arn, \
             input.inputTokenCount, output.outputTokenCount | sort @timestamp desc | limit 50"
        )
    );
    // The old scripts' mistake: a top-level field real records do not have.
    let fields: Vec<&str> = query
        .split(['|', ','])
        .map(str::trim)
        .map(|f| f.trim_start_matches("fields "))
        .collect();
    assert!(!fields.contains(&"inputTokenCount"), "{query}");
    assert!(!fields.contains(&"outputTokenCount"), "{query}");
}

/// Without a model list: SEARCH expressions everywhere, cost as math over SEARCHes.
fn check_search_widgets(body: &Value) {
    check_common_widgets(body);
    assert_eq!(
        expressions(widget(body, "Invocations")),
        [search("Invocations", "Sum")]
    );
    assert_eq!(
        expressions(widget(body, "Input and output tokens")),
        [
            search("InputTokenCount", "Sum"),
            search("OutputTokenCount", "Sum")
        ]
    );
    assert_eq!(
        expressions(widget(body, "Invocation latency")),
        [
            search("InvocationLatency", "Average"),
            search("InvocationLatency", "p99")
        ]
    );
    assert_eq!(
        expressions(widget(body, "Client errors")),
        [
            search("InvocationClientErrors", "Sum"),
            search("InvocationServerErrors", "Sum"),
            search("InvocationThrottles", "Sum"),
        ]
    );

    let cost = widget(body, "Estimated cost");
    let all = metrics(cost);
    let visible: Vec<&Value> = all.iter().filter(|m| m[0]["visible"] != false).collect();
    assert_eq!(visible.len(), 1, "only the total is drawn: {cost:#}");
    assert_eq!(visible[0][0]["id"], "total");
    let exprs = expressions(cost);
    let searches: Vec<&String> = exprs.iter().filter(|e| e.starts_with("SEARCH(")).collect();
    assert!(
        searches.len() >= 20 && searches.len() <= 100,
        "{}",
        searches.len()
    );
    // Input and output tokens, and the prompt cache's reads and writes where the model has
    // a price for them.
    // The prompt cache's metrics go by two names on AWS's own pages (the blog's dashboard
    // widget: `CacheReadInputTokenCount`; the user guide: `CacheReadInputTokens`): the SEARCH
    // asks for either.
    for s in &searches {
        assert!(
            [
                "MetricName=\"InputTokenCount\"",
                "MetricName=\"OutputTokenCount\"",
                "(MetricName=\"CacheReadInputTokenCount\" OR MetricName=\"CacheReadInputTokens\")",
                "(MetricName=\"CacheWriteInputTokenCount\" OR MetricName=\"CacheWriteInputTokens\")",
            ]
            .iter()
            .any(|m| s.starts_with(&format!("SEARCH('{{AWS/Bedrock,ModelId}} {m} "))),
            "{s}"
        );
        assert!(s.ends_with("', 'Sum', 300)"), "{s}");
    }
    assert!(
        searches.iter().any(|s| s
            .contains("MetricName=\"CacheReadInputTokens\") ModelId=anthropic-claude-3-5-haiku")),
        "{searches:#?}"
    );
    // Claude 3 Haiku at its built-in price; regional Sonnet 4.5 excludes the global key.
    let haiku = exprs
        .iter()
        .position(|e| {
            e.contains("MetricName=\"InputTokenCount\" ModelId=anthropic-claude-3-haiku'")
        })
        .unwrap_or_else(|| panic!("no Haiku 3 SEARCH in {exprs:#?}"));
    let id = all[haiku][0]["id"].as_str().expect("id");
    let n = id.trim_start_matches("in");
    assert!(
        exprs.contains(&format!(
            // Sums of SEARCH results stay series whether one model or many match.
            "SUM([in{n},in{n}*0])/1000*0.00025 + SUM([out{n},out{n}*0])/1000*0.00125"
        )),
        "{exprs:#?}"
    );
    assert!(
        exprs
            .iter()
            .any(|e| e.contains("ModelId=anthropic-claude-sonnet-4-5")
                && e.contains("NOT ModelId=global-anthropic-claude-sonnet-4-5")),
        "{exprs:#?}"
    );
    let total = visible[0][0]["expression"].as_str().expect("total");
    let costs = exprs.iter().filter(|e| e.contains("/1000*")).count();
    assert!(costs * 2 <= searches.len() && searches.len() <= costs * 4);
    // The Mantle endpoint's models, in a widget of their own, by their own names.
    let mantle = expressions(widget(body, "Estimated cost of the Mantle endpoint"));
    assert!(
        mantle
            .iter()
            .any(|e| e
                .starts_with("SEARCH('{AWS/BedrockMantle,Model} MetricName=\"TotalInputTokens\" ")),
        "{mantle:#?}"
    );
    assert_eq!(
        total,
        format!(
            "SUM([{}])",
            (0..costs)
                .map(|i| format!("cost{i}"))
                .collect::<Vec<_>>()
                .join(",")
        )
    );
}

fn model_config(models: &[&str]) -> Config {
    let mut config = Config::default();
    config.dashboard.models = models.iter().map(|m| m.to_string()).collect();
    config
}

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const NOVA: &str = "us.amazon.nova-pro-v1:0";
const COHERE: &str = "cohere.command-r-v1:0";

/// With a model list: one line per model and metric, no SEARCH.
fn check_model_widgets(body: &Value) {
    check_common_widgets(body);
    assert!(!body.to_string().contains("SEARCH("), "{body:#}");
    fn line(metric: &str, model: &str, stat: &str, label: &str) -> Value {
        let options = json!({"stat": stat, "label": label});
        json!(["AWS/Bedrock", metric, "ModelId", model, options])
    }
    assert_eq!(
        json!(metrics(widget(body, "Invocations"))),
        json!([
            line("Invocations", HAIKU, "Sum", HAIKU),
            line("Invocations", NOVA, "Sum", NOVA),
            line("Invocations", COHERE, "Sum", COHERE),
        ])
    );
    let latency = metrics(widget(body, "Invocation latency"));
    assert_eq!(latency.len(), 6);
    assert_eq!(
        latency[1],
        line("InvocationLatency", HAIKU, "p99", &format!("{HAIKU} p99"))
    );
    assert_eq!(metrics(widget(body, "Input and output tokens")).len(), 6);
    assert_eq!(metrics(widget(body, "Client errors")).len(), 9);

    let cost = widget(body, "Estimated cost");
    let title = cost["properties"]["title"].as_str().expect("title");
    assert!(title.contains(&format!("no price for {COHERE}")), "{title}");
    let all = metrics(cost);
    assert!(
        all.contains(&json!(["AWS/Bedrock", "InputTokenCount", "ModelId", HAIKU,
        {"id": "in0", "visible": false}]))
    );
    assert!(
        all.contains(&json!(["AWS/Bedrock", "OutputTokenCount", "ModelId", NOVA,
        {"id": "out1", "visible": false}]))
    );
    assert_eq!(
        expressions(cost),
        [
            "in0/1000*0.00025 + out0/1000*0.00125",
            // Nova Pro's cache reads at 0.25 × its input price.
            // (Under either of the two names AWS's pages give the cache metrics.)
            "in1/1000*0.0008 + out1/1000*0.0032 + (cread1+cread1x1)/1000*0.0002",
            "SUM([cost0,cost1])",
        ]
    );
}

#[test]
fn the_resource_creates_the_dashboard_and_then_finds_nothing_to_do() {
    let env = TestEnv::new();
    let (cx, notes) = context(&env, Config::default());
    let step = Node::new(Dashboard);

    env.block_on(step.refresh(&cx)).expect("read");
    assert_eq!(step.ownership(&cx), Some(Ownership::Missing));
    let plan = step.plan(&cx).expect("plan");
    assert_eq!(plan.action, Action::Create);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].field, "body");

    let done = env.block_on(step.apply(&cx)).expect("apply");
    assert_eq!(done.action, Action::Create);
    let body = stored_body(&env);
    check_search_widgets(&body);
    assert_eq!(body, plan.changes[0].new, "moto holds what the plan showed");
    // CloudWatch cannot tag dashboards: the step does not try (nothing to note).
    let notes = notes.0.lock().unwrap().clone();
    assert!(notes.iter().all(|n| !n.contains("tag")), "{notes:?}");

    env.block_on(step.refresh(&cx)).expect("read again");
    assert_eq!(step.plan(&cx).expect("plan").action, Action::Unchanged);
    assert_eq!(
        step.ownership(&cx),
        Some(Ownership::Managed {
            evidence: format!("marker widget naming stack {STACK}")
        })
    );

    // Compared as JSON: the same body re-spaced (as AWS may return it) is no change.
    put_body(&env, &serde_json::to_string_pretty(&body).expect("pretty"));
    env.block_on(step.refresh(&cx)).expect("read");
    assert_eq!(step.plan(&cx).expect("plan").action, Action::Unchanged);

    env.block_on(step.delete(&cx)).expect("delete");
    let gone = env.block_on(
        env.aws
            .cloudwatch
            .get_dashboard()
            .dashboard_name(NAME)
            .send(),
    );
    assert!(gone.is_err(), "deleted");
    env.block_on(step.refresh(&cx)).expect("read");
    assert_eq!(step.ownership(&cx), Some(Ownership::Missing));
    env.block_on(step.delete(&cx))
        .expect("deleting an absent dashboard is fine");
}

#[test]
fn the_resource_draws_one_line_per_listed_model() {
    let env = TestEnv::new();
    let (cx, _) = context(&env, model_config(&[HAIKU, NOVA, COHERE]));
    let step = Node::new(Dashboard);
    env.block_on(step.apply(&cx)).expect("apply");
    check_model_widgets(&stored_body(&env));
    env.block_on(step.refresh(&cx)).expect("read");
    assert_eq!(step.plan(&cx).expect("plan").action, Action::Unchanged);
}

#[test]
fn a_foreign_dashboard_is_not_managed_and_an_edited_one_is_repaired() {
    let env = TestEnv::new();
    let foreign = json!({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2,
        "properties": {"markdown": "Team dashboard"}}]});
    put_body(&env, &foreign.to_string());
    let (cx, _) = context(&env, Config::default());
    let step = Node::new(Dashboard);
    env.block_on(step.refresh(&cx)).expect("read");
    match step.ownership(&cx) {
        Some(Ownership::NotManaged { reason }) => {
            assert!(reason.contains(NAME), "{reason}")
        }
        other => panic!("expected not managed, got {other:?}"),
    }
    let plan = step.plan(&cx).expect("plan");
    assert_eq!(plan.action, Action::Update);
    assert_eq!(plan.changes[0].field, "body");
    assert_eq!(plan.changes[0].old, foreign);

    // Someone's dashboard is overwritten only with consent (`--adopt dashboard`).
    let (other, _) = context(&env, {
        let mut c = Config::default();
        c.stack.name = "team-b".into();
        c
    });
    let refused = env
        .block_on(step.apply(&other))
        .expect_err("refused without consent");
    assert_eq!(refused.code.as_deref(), Some("NotManagedByThisStack"));
    assert!(refused.message.contains("marker widget"), "{refused:?}");
    assert_eq!(stored_body(&env), foreign);
    other.allow_adoption(ComponentId::Dashboard);
    env.block_on(step.apply(&other)).expect("apply as team-b");
    env.block_on(step.refresh(&cx)).expect("read");
    match step.ownership(&cx) {
        Some(Ownership::NotManaged { reason }) => assert!(reason.contains("team-b"), "{reason}"),
        other => panic!("expected not managed, got {other:?}"),
    }
    // Another stack's marker is never overwritten, consent or not.
    cx.allow_adoption(ComponentId::Dashboard);
    let theirs = stored_body(&env);
    let refused = env
        .block_on(step.apply(&cx))
        .expect_err("another stack's dashboard");
    assert_eq!(refused.code.as_deref(), Some("ManagedByAnotherStack"));
    assert_eq!(stored_body(&env), theirs);

    // Our dashboard, edited by hand (a widget removed): an update of `body`, then repaired.
    env.block_on(
        env.aws
            .cloudwatch
            .delete_dashboards()
            .dashboard_names(NAME)
            .send(),
    )
    .expect("team-b's dashboard gone");
    env.block_on(step.refresh(&cx)).expect("read");
    env.block_on(step.apply(&cx)).expect("apply");
    let ours = stored_body(&env);
    let mut edited = ours.clone();
    edited["widgets"].as_array_mut().expect("widgets").pop();
    put_body(&env, &edited.to_string());
    env.block_on(step.refresh(&cx)).expect("read");
    assert!(matches!(
        step.ownership(&cx),
        Some(Ownership::Managed { .. })
    ));
    let plan = step.plan(&cx).expect("plan");
    assert_eq!(plan.action, Action::Update);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].field, "body");
    assert_eq!(plan.changes[0].old, edited);
    assert_eq!(plan.changes[0].new, ours);
    env.block_on(step.apply(&cx)).expect("repair");
    assert_eq!(stored_body(&env), ours);
}

/// Whether the binary runs the dashboard step (it is registered in `all_steps`).
fn registered() -> bool {
    bedrock_monitor::resources::all_steps()
        .iter()
        .any(|s| s.id() == ComponentId::Dashboard)
}

#[test]
fn apply_creates_the_dashboard_and_a_second_apply_writes_nothing() {
    assert!(registered(), "the dashboard step is not in all_steps()");
    let env = TestEnv::new();
    let plan = env.run(&["plan", "-o", "json"]);
    plan.assert_code(0);
    let doc = plan.json();
    assert_eq!(resource(&doc, "dashboard")["action"], "create", "{doc:#}");
    assert_eq!(resource(&doc, "dashboard")["name"], NAME);

    let first = env.run(&["apply", "--yes", "-o", "json"]);
    first.assert_code(0);
    let doc = first.json();
    assert_eq!(resource(&doc, "dashboard")["action"], "created", "{doc:#}");
    check_search_widgets(&stored_body(&env));
    // CloudWatch's TagResource: "the only CloudWatch resources that can be tagged are alarms
    // and Contributor Insights rules": no tag call names the dashboard (the strict proxy
    // would refuse one).
    let dashboard_tagging: Vec<String> = env
        .proxy
        .calls()
        .into_iter()
        .filter(|c| c.service == "monitoring" && c.operation.contains("Tag"))
        .filter(|c| c.status != Some(200))
        .map(|c| format!("{} {:?}", c.operation, c.status))
        .collect();
    assert!(dashboard_tagging.is_empty(), "{dashboard_tagging:?}");

    env.proxy.clear();
    let second = env.run(&["apply", "--yes"]);
    second.assert_code(0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote: {:?}",
        env.writes()
    );
    let reads: Vec<String> = env.proxy.calls().into_iter().map(|c| c.operation).collect();
    assert!(reads.iter().any(|o| o == "GetDashboard"), "{reads:?}");
}

#[test]
fn apply_with_a_model_list_draws_one_line_per_model() {
    assert!(registered(), "the dashboard step is not in all_steps()");
    let env = TestEnv::new();
    env.write_config(&format!(
        "[dashboard]\nmodels = [\"{HAIKU}\", \"{NOVA}\", \"{COHERE}\"]\n"
    ));
    env.run(&["apply", "--yes"]).assert_code(0);
    check_model_widgets(&stored_body(&env));
}

#[test]
fn an_edited_dashboard_shows_as_an_update_of_body_and_apply_repairs_it() {
    assert!(registered(), "the dashboard step is not in all_steps()");
    let env = TestEnv::new();
    env.run(&["apply", "--yes"]).assert_code(0);
    let ours = stored_body(&env);
    let mut edited = ours.clone();
    edited["widgets"][1]["properties"]["title"] = json!("Renamed by hand");
    put_body(&env, &edited.to_string());

    env.proxy.clear();
    let plan = env.run(&["plan", "--detailed-exitcode", "-o", "json"]);
    plan.assert_code(2);
    let doc = plan.json();
    let entry = resource(&doc, "dashboard");
    assert_eq!(entry["action"], "update", "{doc:#}");
    let fields: Vec<&str> = entry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(fields, ["body"]);
    assert!(env.writes().is_empty(), "plan wrote: {:?}", env.writes());

    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(stored_body(&env), ours);
    env.proxy.clear();
    env.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}
