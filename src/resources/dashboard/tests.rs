use serde_json::json;

use super::body::*;
use super::*;
use crate::config::Config;
use crate::cost::metric_math::MAX_SEARCH_QUERY_LEN;

fn body(config: &Config) -> Value {
    render_body(config, "aws", "123456789012", "us-east-1", &[], None).expect("renders")
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
    let b =
        render_body(&config, "aws", "123456789012", "us-east-1", &profiles, None).expect("renders");
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

mod quota_section {
    use super::*;
    use crate::config::QuotasConfig;
    use crate::cost::catalogue::CatalogModel;
    use crate::quotas::{ListedQuota, QuotaBook};

    const HAIKU_US: &str = "us.anthropic.claude-3-haiku-20240307-v1:0";
    const GPT: &str = "openai.gpt-oss-120b-1:0";
    const GPT_GLOBAL: &str = "global.openai.gpt-oss-120b-1:0";

    /// Haiku's cross-Region TPM and RPM quotas and gpt-oss' in-Region TPM quota, named as
    /// ListServiceQuotas names them.
    fn book(haiku_tpm: f64) -> QuotaBook {
        let listed = |code: &str, name: &str, value: f64| ListedQuota {
            code: code.into(),
            name: name.into(),
            value,
            adjustable: true,
        };
        QuotaBook::new(
            vec![
                listed(
                    "L-DCADBC78",
                    "Cross-region model inference tokens per minute for Anthropic Claude 3 Haiku",
                    haiku_tpm,
                ),
                listed(
                    "L-616A3F5B",
                    "Cross-region model inference requests per minute for Anthropic Claude 3 Haiku",
                    2_000.0,
                ),
                listed(
                    "L-9DC5F595",
                    "On-demand model inference tokens per minute for OpenAI GPT OSS 120B",
                    1_000_000.0,
                ),
            ],
            &[
                CatalogModel {
                    id: "anthropic.claude-3-haiku-20240307-v1:0".into(),
                    name: "Claude 3 Haiku".into(),
                    provider: "Anthropic".into(),
                },
                CatalogModel {
                    id: GPT.into(),
                    name: "gpt-oss-120b".into(),
                    provider: "OpenAI".into(),
                },
            ],
        )
    }

    fn config(models: &[&str]) -> Config {
        Config {
            quotas: Some(QuotasConfig {
                alarm_percent: 80.0,
                models: models.iter().map(|m| m.to_string()).collect(),
                ttft_p90_ms: Some(2500.0),
            }),
            ..Config::default()
        }
    }

    fn with_quotas(config: &Config, book: &QuotaBook) -> Value {
        render_body(config, "aws", "123456789012", "us-east-1", &[], Some(book)).expect("renders")
    }

    fn titled<'a>(body: &'a Value, start: &str) -> Vec<&'a Value> {
        body["widgets"]
            .as_array()
            .expect("widgets")
            .iter()
            .filter(|w| {
                w["properties"]["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(start))
            })
            .collect()
    }

    fn one<'a>(body: &'a Value, start: &str) -> &'a Value {
        match titled(body, start).as_slice() {
            [w] => w,
            other => panic!("{} widgets titled {start}…: {body:#}", other.len()),
        }
    }

    /// Two widgets never cover the same cell of the 24-column grid.
    fn assert_no_overlap(body: &Value) {
        let mut cells = std::collections::BTreeSet::new();
        for w in body["widgets"].as_array().expect("widgets") {
            let n = |k: &str| w[k].as_u64().expect("position") as u32;
            assert!(n("x") + n("width") <= 24, "{w}");
            for x in n("x")..n("x") + n("width") {
                for y in n("y")..n("y") + n("height") {
                    assert!(cells.insert((x, y)), "two widgets at ({x}, {y}): {w}");
                }
            }
        }
    }

    #[test]
    fn each_model_is_drawn_against_the_quota_of_its_scope_and_the_alarm_share() {
        let config = config(&[HAIKU_US, GPT, GPT_GLOBAL]);
        let b = with_quotas(&config, &book(4_000_000.0));
        assert_no_overlap(&b);

        let tpm = one(&b, &format!("{HAIKU_US}: tokens per minute"));
        let p = &tpm["properties"];
        assert_eq!(
            p["metrics"],
            json!([["AWS/Bedrock", "EstimatedTPMQuotaUsage", "ModelId", HAIKU_US,
                {"stat": "Sum", "label": format!("{HAIKU_US} TPM")}]])
        );
        assert_eq!(
            (p["period"].clone(), p["stat"].clone()),
            (json!(60), json!("Sum"))
        );
        assert_eq!(tpm["width"], 12, "the RPM graph is beside it");
        assert_eq!(
            p["annotations"]["horizontal"],
            json!([
                {"value": 4_000_000.0, "label": "quota L-DCADBC78 (cross-Region TPM): 4,000,000",
                 "color": "#d62728", "fill": "above"},
                {"value": 3_200_000.0, "label": "alarm at 80% of the quota: 3,200,000",
                 "color": "#ff7f0e"},
            ])
        );
        let rpm = one(&b, &format!("{HAIKU_US}: requests per minute"));
        assert_eq!(rpm["properties"]["metrics"][0][1], "Invocations");
        assert_eq!(
            (rpm["x"].clone(), rpm["y"].clone()),
            (json!(12), tpm["y"].clone())
        );
        let lines = &rpm["properties"]["annotations"]["horizontal"];
        assert_eq!(lines[0]["value"], 2_000.0);
        assert_eq!(lines[1]["value"], 1_600.0);

        // No RPM quota listed for gpt-oss (removed in May 2026): one full-width graph.
        let gpt = one(&b, &format!("{GPT}: tokens per minute"));
        assert_eq!(gpt["width"], 24);
        assert_eq!(
            gpt["properties"]["annotations"]["horizontal"][0]["value"],
            1_000_000.0
        );
        assert!(titled(&b, &format!("{GPT}: requests")).is_empty());

        // No quota of the global scope: the graph without a line, and the text says why.
        let global = one(&b, &format!("{GPT_GLOBAL}: tokens per minute"));
        assert!(
            global["properties"].get("annotations").is_none(),
            "{global}"
        );
        assert!(
            global["properties"]["title"]
                .as_str()
                .unwrap()
                .ends_with("no quota of its scope to draw")
        );
        let text = b["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w["properties"]["markdown"].as_str())
            .find(|m| m.starts_with("**Quota headroom**"))
            .expect("the section's text");
        assert!(
            text.contains(&format!("`{GPT_GLOBAL}` (TPM, global cross-Region)")),
            "{text}"
        );
        assert!(text.contains("in us-east-1"), "{text}");

        // One TTFT graph: p50, p90 and p99 of every named model, the p90 alarm as a line.
        let ttft = one(&b, "Time to first token");
        let metrics = ttft["properties"]["metrics"].as_array().unwrap();
        assert_eq!(metrics.len(), 9);
        assert_eq!(
            metrics[1],
            json!(["AWS/Bedrock", "TimeToFirstToken", "ModelId", HAIKU_US,
                {"stat": "p90", "label": format!("{HAIKU_US} p90")}])
        );
        assert_eq!(ttft["properties"]["period"], 300);
        assert_eq!(
            ttft["properties"]["annotations"]["horizontal"][0]["value"],
            2500.0
        );
    }

    /// A raised quota moves its lines and nothing else in the body.
    #[test]
    fn a_raised_quota_changes_only_its_annotations() {
        let config = config(&[HAIKU_US, GPT]);
        let before = with_quotas(&config, &book(4_000_000.0));
        let after = with_quotas(&config, &book(5_000_000.0));
        let (wb, wa) = (
            before["widgets"].as_array().unwrap(),
            after["widgets"].as_array().unwrap(),
        );
        assert_eq!(wb.len(), wa.len());
        let changed: Vec<(&Value, &Value)> = wb.iter().zip(wa).filter(|(a, b)| a != b).collect();
        assert_eq!(changed.len(), 1, "{changed:#?}");
        let (old, new) = changed[0];
        let mut old = old.clone();
        old["properties"]["annotations"] = new["properties"]["annotations"].clone();
        assert_eq!(&old, new, "only the annotations differ");
        assert_eq!(
            new["properties"]["annotations"]["horizontal"][0]["label"],
            "quota L-DCADBC78 (cross-Region TPM): 5,000,000"
        );
        assert_eq!(
            new["properties"]["annotations"]["horizontal"][1]["value"],
            4_000_000.0
        );
    }

    #[test]
    fn without_quotas_or_their_book_there_is_no_section() {
        let plain = body(&Config::default());
        let config = config(&[HAIKU_US]);
        assert_eq!(
            body(&config),
            plain,
            "no book read: nothing drawn from guesses"
        );
        let with = with_quotas(&config, &book(4_000_000.0));
        let n = |b: &Value| b["widgets"].as_array().unwrap().len();
        assert_eq!(
            n(&with),
            n(&plain) + 4,
            "the text, TPM, RPM and TTFT graphs"
        );
        assert_eq!(
            with["widgets"].as_array().unwrap()[..n(&plain)],
            plain["widgets"].as_array().unwrap()[..],
            "the section goes below the rest"
        );
    }

    /// CloudWatch's limits: at most 500 widgets a body and (the smaller documented figure) 100
    /// metrics a widget; models beyond room are named, not silently dropped.
    #[test]
    fn many_models_stay_within_cloudwatchs_limits() {
        let models: Vec<String> = (0..600)
            .map(|i| format!("us.acme.model-{i:03}-v1:0"))
            .collect();
        let refs: Vec<&str> = models.iter().map(String::as_str).collect();
        let b = with_quotas(&config(&refs), &book(4_000_000.0));
        let widgets = b["widgets"].as_array().unwrap();
        assert_eq!(widgets.len(), 500, "filled to CloudWatch's limit");
        let others = body(&Config::default())["widgets"]
            .as_array()
            .unwrap()
            .len();
        for w in &widgets[others..] {
            if let Some(m) = w["properties"]["metrics"].as_array() {
                assert!(
                    m.len() <= 100,
                    "{} metrics in {}",
                    m.len(),
                    w["properties"]["title"]
                );
            }
        }
        assert_no_overlap(&b);
        let ttft = titled(&b, "Time to first token");
        assert!(ttft.len() > 1);
        assert!(
            ttft[0]["properties"]["title"]
                .as_str()
                .unwrap()
                .contains(&format!("part 1 of {}", ttft.len()))
        );
        let text = widgets
            .iter()
            .filter_map(|w| w["properties"]["markdown"].as_str())
            .find(|m| m.starts_with("**Quota headroom**"))
            .expect("the section's text");
        assert!(text.contains("at most 500 widgets"), "{text}");
        assert!(text.contains("`us.acme.model-599-v1:0`"), "{text}");
        let drawn = titled(&b, "us.acme.model-").len();
        assert!(!text.contains(&format!("`{}`.", models[drawn - 1])));
        assert!(text.contains(&format!("`{}`", models[drawn])), "{text}");
    }
}
