use serde_json::json;

use super::body::*;
use super::*;
use crate::config::Config;
use crate::cost::metric_math::MAX_SEARCH_QUERY_LEN;

fn body(config: &Config) -> Value {
    render_body(config, "aws", "123456789012", "us-east-1", &[]).expect("renders")
}

fn widget<'a>(body: &'a Value, title: &str) -> &'a Value {
    body["widgets"]
        .as_array()
        .and_then(|ws| {
            ws.iter().find(|w| {
                w["properties"]["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(title))
            })
        })
        .unwrap_or_else(|| panic!("no widget {title} in {body:#}"))
}

fn expressions(widget: &Value) -> Vec<String> {
    widget["properties"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m[0]["expression"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn marker_names_the_stack_and_is_found_again() {
    let mut config = Config::default();
    config.stack.name = "team-a".into();
    let b = body(&config);
    assert_eq!(b["widgets"][0]["type"], "text");
    let markdown = b["widgets"][0]["properties"]["markdown"].as_str().unwrap();
    assert!(
        markdown.contains("managed by bedrock-monitor stack `team-a`"),
        "{markdown}"
    );
    assert!(
        markdown.contains("overwritten by `bedrock-monitor apply`"),
        "{markdown}"
    );
    assert_eq!(marker_stack(&b).as_deref(), Some("team-a"));
    assert_eq!(marker_stack(&json!({"widgets": []})), None);
    assert_eq!(
        marker_stack(&json!({"widgets": [{"type": "text", "properties": {"markdown": "hi"}}]})),
        None
    );
}

#[test]
fn without_a_model_list_every_metric_widget_searches() {
    let config = Config::default();
    let b = body(&config);
    let inv = widget(&b, "Invocations");
    assert_eq!(
        expressions(inv),
        vec!["SEARCH('{AWS/Bedrock,ModelId} MetricName=\"Invocations\"', 'Sum', 300)"]
    );
    assert_eq!(inv["properties"]["period"], 300);
    assert_eq!(inv["properties"]["region"], "us-east-1");
    let latency = expressions(widget(&b, "Invocation latency"));
    assert!(latency.iter().any(|e| e.contains("'p99'")), "{latency:?}");
    assert!(
        latency.iter().any(|e| e.contains("'Average'")),
        "{latency:?}"
    );
    let errors = expressions(widget(&b, "Client errors"));
    for m in [
        "InvocationClientErrors",
        "InvocationServerErrors",
        "InvocationThrottles",
    ] {
        assert!(errors.iter().any(|e| e.contains(m)), "{m}: {errors:?}");
    }
    // No widget names a model.
    assert!(!b.to_string().contains("\"ModelId\","), "{b:#}");
}

/// Calls through an application profile are counted under its ID: the cost widget prices
/// them by what the profile was copied from, here a global profile at the global price.
#[test]
fn profile_traffic_is_priced_by_its_source() {
    let mut config = Config::default();
    config.inference_profiles = Some(vec![crate::config::InferenceProfileConfig {
        name: "team-a".into(),
        model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0".into(),
        description: None,
        tags: Default::default(),
    }]);
    let profiles = [ProfileLine {
        name: "team-a".into(),
        model_id: "abcdef123456".into(),
    }];
    let b = render_body(&config, "aws", "123456789012", "us-east-1", &profiles).expect("renders");
    let cost = widget(&b, "Estimated cost");
    let metrics = cost["properties"]["metrics"].as_array().unwrap();
    assert!(
        metrics.contains(&json!(["AWS/Bedrock", "InputTokenCount", "ModelId",
        "abcdef123456", {"id": "inp0", "visible": false}]))
    );
    let exprs = expressions(cost);
    assert!(
        exprs.contains(
            &"inp0/1000*0.003 + outp0/1000*0.015 + (creadp0+cread1xp0)/1000*0.0003 + (cwritep0+cwrite1xp0)/1000*0.00375"
                .to_string()
        ),
        "{exprs:#?}"
    );
    let total = exprs.last().unwrap();
    assert!(total.contains("costp0"), "{total}");
}

#[test]
fn with_a_model_list_each_model_has_its_own_lines() {
    let mut config = Config::default();
    config.dashboard.models = vec![
        "anthropic.claude-3-haiku-20240307-v1:0".into(),
        "cohere.command-r-v1:0".into(),
    ];
    config.dashboard.period_seconds = 60;
    let b = body(&config);
    assert!(!b.to_string().contains("SEARCH("), "{b:#}");
    let inv = widget(&b, "Invocations");
    assert_eq!(
        inv["properties"]["metrics"],
        json!([
            ["AWS/Bedrock", "Invocations", "ModelId", "anthropic.claude-3-haiku-20240307-v1:0",
                {"stat": "Sum", "label": "anthropic.claude-3-haiku-20240307-v1:0"}],
            ["AWS/Bedrock", "Invocations", "ModelId", "cohere.command-r-v1:0",
                {"stat": "Sum", "label": "cohere.command-r-v1:0"}]
        ])
    );
    assert_eq!(inv["properties"]["period"], 60);
    let latency = &widget(&b, "Invocation latency")["properties"]["metrics"];
    assert_eq!(latency.as_array().unwrap().len(), 4);
    assert_eq!(latency[1][4]["stat"], "p99");
    // Haiku is priced, Command R is not: it is named in the title, never priced.
    let cost = widget(&b, "Estimated cost");
    let title = cost["properties"]["title"].as_str().unwrap();
    assert!(
        title.contains("no price for cohere.command-r-v1:0"),
        "{title}"
    );
    assert_eq!(
        expressions(cost),
        vec![
            "in0/1000*0.00025 + out0/1000*0.00125",
            // One priced model: still an array of two, so the total is a series.
            "SUM([cost0,cost0*0])"
        ]
    );
}

#[test]
fn nothing_priced_gives_a_text_widget() {
    let mut config = Config::default();
    config.dashboard.models = vec!["cohere.command-r-v1:0".into()];
    let b = body(&config);
    let texts: Vec<&str> = b["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "text")
        .filter_map(|w| w["properties"]["markdown"].as_str())
        .collect();
    assert!(texts.iter().any(|t| t.contains("has a price")), "{texts:?}");
}

#[test]
fn the_cost_widget_is_metric_math_over_searches_with_a_visible_total() {
    let b = body(&Config::default());
    let cost = widget(&b, "Estimated cost");
    let metrics = cost["properties"]["metrics"].as_array().unwrap();
    let (hidden, visible): (Vec<&Value>, Vec<&Value>) =
        metrics.iter().partition(|m| m[0]["visible"] == false);
    assert_eq!(visible.len(), 1, "only the total is drawn");
    assert_eq!(visible[0][0]["id"], "total");
    assert!(
        visible[0][0]["expression"]
            .as_str()
            .unwrap()
            .starts_with("SUM([cost0,")
    );
    let searches = hidden
        .iter()
        .filter(|m| m[0]["expression"].as_str().unwrap().starts_with("SEARCH("))
        .count();
    assert!(searches <= 100, "{searches} SEARCH expressions");
    assert_eq!(searches % 2, 0);
    let text = cost.to_string();
    // Haiku 3 alone at its price; Sonnet 4.5 excludes its global row.
    assert!(text.contains("ModelId=anthropic-claude-3-haiku"), "{text}");
    assert!(
        text.contains("NOT ModelId=global-anthropic-claude-sonnet-4-5"),
        "{text}"
    );
    assert!(text.contains("SUM([in0,in0*0])/1000*"), "{text}");
    for m in metrics {
        if let Some(e) = m[0]["expression"]
            .as_str()
            .filter(|e| e.starts_with("SEARCH("))
        {
            let query = e.split('\'').nth(1).unwrap();
            assert!(query.len() <= MAX_SEARCH_QUERY_LEN, "{e}");
        }
    }
}

#[test]
fn alarm_widget_lists_enabled_alarms_and_log_widget_uses_record_fields() {
    let mut config = Config::default();
    config.alarms.insert(
        "throttles".into(),
        crate::config::AlarmConfig {
            enabled: Some(false),
            ..Default::default()
        },
    );
    let b = body(&config);
    let alarms = &widget(&b, "Alarm status")["properties"]["alarms"];
    let arns: Vec<&str> = alarms
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        arns.contains(
            &"arn:aws:cloudwatch:us-east-1:123456789012:alarm:Bedrock-HighInputTokenUsage"
        )
    );
    assert!(
        !arns.iter().any(|a| a.ends_with(":Bedrock-Throttles")),
        "{arns:?}"
    );
    assert_eq!(arns.len(), 11);
    let log = widget(&b, "Recent invocations");
    assert_eq!(log["type"], "log");
    let query = log["properties"]["query"].as_str().unwrap();
    assert!(
        query.starts_with("SOURCE '/aws/bedrock/modelinvocations' |"),
        "{query}"
    );
    for field in [
        "modelId",
        "identity.arn",
        "input.inputTokenCount",
        "output.outputTokenCount",
    ] {
        assert!(query.contains(field), "{query}");
    }
    assert!(!query.contains(", inputTokenCount"), "{query}");
}
