//! `dashboard`: the CloudWatch dashboard `[dashboard] name` (default `BedrockUsageMonitoring`),
//! rendered from `templates/dashboard.json.j2`: a marker text widget naming the stack,
//! invocations, tokens, average and p99 latency, errors and throttles, estimated cost (metric
//! math over the price table `report` uses), invocation-log delivery health, alarm status and
//! a Logs Insights table of recent invocations.
//!
//! The body is compared as JSON, so a dashboard AWS returns re-spaced or reordered is not
//! rewritten. CloudWatch can tag only alarms and Contributor Insights rules (TagResource's API
//! reference), so the dashboard carries no tags: the marker widget, which names the stack, is
//! the proof of ownership.

use async_trait::async_trait;
use aws_sdk_cloudwatch::operation::put_dashboard::PutDashboardError;
use serde::Serialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::config::Config;
use crate::cost::metric_math::{
    CostGroup, MANTLE, RUNTIME, Schema, cost_groups, priced_metrics, priced_terms,
    search_price_table, sum_of_series,
};
use crate::cost::prices::{Price, lookup};
use crate::docs;
use crate::engine::adoption::Mark;
use crate::engine::{ComponentId, Context, Diff, Foreign, Ownership, Permission, Resource};
use crate::resources::absent_if;

pub struct Dashboard;

#[derive(Debug, Clone)]
pub struct DashboardState {
    /// The body as JSON (a string when AWS returned something that is not JSON).
    pub body: Value,
}

/// `GetDashboard` answers `ResourceNotFound` (real AWS, moto); the other code is for endpoints
/// that use the usual suffix.
const NOT_FOUND: &[&str] = &["ResourceNotFound", "ResourceNotFoundException"];

/// The start of the marker sentence, followed by the stack name in backquotes.
const MARKER_PREFIX: &str = "managed by bedrock-monitor stack `";

/// CloudWatch evaluates at most 100 SEARCH expressions per graph; each cost group takes one
/// per priced token metric (two to four), so a config with many distinct prices gets further
/// cost widgets, each with the total of its own groups.
const MAX_SEARCHES_PER_WIDGET: usize = 100;

/// The sentence of the marker widget that names stack `stack`; `ownership` looks for it.
pub fn marker(stack: &str) -> String {
    format!("{MARKER_PREFIX}{stack}`")
}

/// The stack named by the first text widget's marker, if the body has one.
pub fn marker_stack(body: &Value) -> Option<String> {
    let markdown = body
        .get("widgets")?
        .as_array()?
        .iter()
        .find(|w| w.get("type").and_then(Value::as_str) == Some("text"))?
        .get("properties")?
        .get("markdown")?
        .as_str()?;
    let rest = &markdown[markdown.find(MARKER_PREFIX)? + MARKER_PREFIX.len()..];
    rest.find('`').map(|end| rest[..end].to_string())
}

impl Dashboard {
    /// Dashboards are global in their account: the ARN has no region.
    pub fn arn(cx: &Context) -> String {
        format!(
            "arn:{}:cloudwatch::{}:dashboard/{}",
            cx.partition(),
            cx.account.id,
            cx.dashboard_name()
        )
    }

    pub fn body(cx: &Context) -> Result<Value, AwsError> {
        let profiles: Vec<ProfileLine> = cx
            .config
            .profiles()
            .iter()
            .map(|p| ProfileLine {
                name: p.name.clone(),
                model_id: cx.profile_model_id(&p.name),
            })
            .collect();
        render_body(
            &cx.config,
            cx.partition(),
            &cx.account.id,
            &cx.region,
            &profiles,
        )
        .map_err(AwsError::from)
    }
}

/// The values the template sees (documented at the top of the template).
#[derive(Debug, Serialize)]
struct Values<'a> {
    markdown: String,
    region: &'a str,
    period: i32,
    models: &'a [String],
    cost_widgets: Vec<CostWidget>,
    alarm_arns: Vec<String>,
    log_group: &'a str,
    profiles: &'a [ProfileLine],
}

/// An application inference profile's lines: labelled by its name, selected by the ID that
/// CloudWatch's `ModelId` dimension shows for calls through it.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileLine {
    pub name: String,
    pub model_id: String,
}

/// One estimated-cost widget: metric math (`metrics`), or, when nothing can be priced, a text
/// widget saying why (`text`).
#[derive(Debug, Serialize)]
struct CostWidget {
    title: String,
    metrics: Vec<Value>,
    text: Option<String>,
}

/// The dashboard body for `config` in `region` of account `account_id`.
pub fn render_body(
    config: &Config,
    partition: &str,
    account_id: &str,
    region: &str,
    profiles: &[ProfileLine],
) -> Result<Value, docs::RenderError> {
    let stack = &config.stack.name;
    let markdown = format!(
        "**Bedrock usage**, {}: edits here are overwritten by `bedrock-monitor apply`. \
         Costs are estimates from token counts (the saved Price List prices, else the built-in ones, and `[pricing]`, as in \
         `bedrock-monitor report`).",
        marker(stack)
    );
    let alarm_arns = config
        .alarm_specs()
        .into_iter()
        .filter(|a| a.enabled)
        .map(|a| {
            format!(
                "arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{}",
                a.name
            )
        })
        .collect();
    let values = Values {
        markdown,
        region,
        period: config.dashboard.period_seconds,
        models: &config.dashboard.models,
        cost_widgets: cost_widgets(config, region, profiles),
        alarm_arns,
        log_group: &config.log_group.name,
        profiles,
    };
    docs::render("dashboard", values)
}

/// With a model list, one line per listed model (and profile); otherwise SEARCH expressions,
/// for the runtime endpoint and, in widgets of their own, the Mantle endpoint.
fn cost_widgets(config: &Config, region: &str, profiles: &[ProfileLine]) -> Vec<CostWidget> {
    if config.dashboard.models.is_empty() {
        let mut widgets = search_cost_widgets(config, region, RUNTIME, profiles);
        widgets.extend(search_cost_widgets(config, region, MANTLE, &[]));
        widgets
    } else {
        vec![listed_cost_widget(config, region, profiles)]
    }
}

/// Hidden series for `model`'s priced token metrics (`{id}{i}`), and the cost expression over
/// them.
fn model_cost_lines(
    metrics: &mut Vec<Value>,
    model: &str,
    i: &str,
    price: &Price,
    label: &str,
) -> Value {
    let mut terms = Vec::new();
    for m in priced_metrics(RUNTIME, price) {
        // One hidden series per name the metric is published under (the prompt cache's two,
        // see CACHE_READ_METRICS): an account publishes one of them, so their sum is it.
        let ids: Vec<String> = m
            .metrics
            .iter()
            .enumerate()
            .map(|(n, name)| {
                let id = if n == 0 {
                    format!("{}{i}", m.id)
                } else {
                    format!("{}{n}x{i}", m.id)
                };
                metrics.push(json!(["AWS/Bedrock", name, "ModelId", model,
                    {"id": id, "visible": false}]));
                id
            })
            .collect();
        let term = match ids.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join("+")),
        };
        terms.push((term, m.per_1k));
    }
    json!([{
        "expression": priced_terms(&terms),
        "id": format!("cost{i}"),
        "label": label,
    }])
}

/// Calls through the stack's application inference profiles: CloudWatch counts them under the
/// profile's ID, which no model key matches, so each is priced by the model it was copied
/// from (its configured source, which also says global or regional). IDs `p{n}`.
fn profile_cost_lines(
    config: &Config,
    region: &str,
    profiles: &[ProfileLine],
    metrics: &mut Vec<Value>,
    costs: &mut Vec<String>,
) {
    for (n, line) in profiles.iter().enumerate() {
        let Some(source) = config.profiles().iter().find(|p| p.name == line.name) else {
            continue;
        };
        let Some(found) = lookup(&source.model, Some(region), &config.pricing) else {
            continue;
        };
        let i = format!("p{n}");
        let mut cost = model_cost_lines(
            metrics,
            &line.model_id,
            &i,
            &found.price,
            &format!("{} (profile)", line.name),
        );
        cost[0]["visible"] = json!(false);
        metrics.push(cost);
        costs.push(format!("cost{i}"));
    }
}

/// With a model list: per priced model, its token sums by kind (hidden) and their cost at the
/// model's prices, the stack's application profiles likewise, then the total. Models without a
/// price are named in the title, never priced as another model.
fn listed_cost_widget(config: &Config, region: &str, profiles: &[ProfileLine]) -> CostWidget {
    let mut metrics = Vec::new();
    let mut costs = Vec::new();
    let mut unpriced = Vec::new();
    for (i, model) in config.dashboard.models.iter().enumerate() {
        let Some(found) = lookup(model, Some(region), &config.pricing) else {
            unpriced.push(model.as_str());
            continue;
        };
        let cost = model_cost_lines(&mut metrics, model, &i.to_string(), &found.price, model);
        metrics.push(cost);
        costs.push(format!("cost{i}"));
    }
    profile_cost_lines(config, region, profiles, &mut metrics, &mut costs);
    let mut title = "Estimated cost (USD)".to_string();
    if !unpriced.is_empty() {
        title.push_str(&format!(
            "; no price for {} (add [pricing] entries)",
            unpriced.join(", ")
        ));
    }
    if costs.is_empty() {
        return CostWidget {
            title,
            metrics: Vec::new(),
            text: Some(
                "None of the models in `[dashboard] models` has a price: add `[pricing]` entries \
                 for them to see an estimate here."
                    .into(),
            ),
        };
    }
    metrics.push(total(&costs, "Total"));
    CostWidget {
        title,
        metrics,
        text: None,
    }
}

fn total(costs: &[String], label: &str) -> Value {
    json!([{
        "expression": sum_of_series(costs),
        "id": "total",
        "label": label,
    }])
}

/// Without a model list, the cost must cover models nobody listed, so it is metric math over
/// SEARCH expressions, one per priced token metric (input, output, and the prompt cache's
/// reads and writes where the price has them) per group of price-table keys:
///
/// - The table is the one `report` uses: the built-in rows with `[pricing]` entries replacing
///   and adding rows. A model is priced by its longest matching key, so a key's SEARCH
///   excludes, with `NOT`, the longer keys that contain it (`anthropic.claude-sonnet-4-5` is not
///   priced as `global.anthropic.claude-sonnet-4-5`, nor the reverse).
/// - Keys with the same price share one SEARCH (`(ModelId=a OR ModelId=b)`); widgets are cut
///   so that each has at most CloudWatch's 100 SEARCHes per graph.
/// - CloudWatch matches SEARCH terms by tokens (runs of letters and digits), not substrings, so
///   keys are written as their tokens joined by `-` (`anthropic-claude-3-haiku`), a partial
///   match of consecutive tokens; a key that ends inside a token (`nova-pr`) matches nothing
///   here although `report` would use it. Two keys of equal length that both match one model
///   would count it twice (`report` takes one); the built-in table has no such pair.
/// - The Mantle endpoint's models (`AWS/BedrockMantle`, dimension `Model`) get widgets of
///   their own, priced by the same keys (it has no cache metrics).
/// - The stack's application profiles are added to the first widget (see
///   [`profile_cost_lines`]).
///
/// Models that match no key are left out of the estimate, as `report` leaves them unpriced.
fn search_cost_widgets(
    config: &Config,
    region: &str,
    schema: Schema,
    profiles: &[ProfileLine],
) -> Vec<CostWidget> {
    let groups = cost_groups(&search_price_table(config, region));
    // Cut the groups into widgets of at most MAX_SEARCHES_PER_WIDGET SEARCHes.
    let mut parts: Vec<Vec<&CostGroup>> = vec![Vec::new()];
    let mut searches = 0;
    for group in &groups {
        let n = priced_metrics(schema, &group.price).len();
        if searches + n > MAX_SEARCHES_PER_WIDGET
            && let Some(last) = parts.last()
            && !last.is_empty()
        {
            parts.push(Vec::new());
            searches = 0;
        }
        searches += n;
        if let Some(last) = parts.last_mut() {
            last.push(group);
        }
    }
    let count = parts.len();
    let what = if schema == MANTLE {
        "Estimated cost of the Mantle endpoint"
    } else {
        "Estimated cost"
    };
    parts
        .into_iter()
        .enumerate()
        .map(|(n, part)| {
            let period = config.dashboard.period_seconds;
            let mut metrics = Vec::new();
            let mut costs = Vec::new();
            for (i, group) in part.iter().enumerate() {
                let label = group.keys.join(" | ");
                let mut terms = Vec::new();
                for m in priced_metrics(schema, &group.price) {
                    let id = format!("{}{i}", m.id);
                    metrics.push(json!([{
                        "expression": group.search_in(schema, m.metrics, period),
                        "id": id,
                        "label": format!("{label} {}", m.label()),
                        "visible": false,
                    }]));
                    // A SEARCH may match one model or many: sum either way.
                    terms.push((sum_of_series(&[id]), m.per_1k));
                }
                metrics.push(json!([{
                    "expression": priced_terms(&terms),
                    "id": format!("cost{i}"),
                    "label": label,
                    "visible": false,
                }]));
                costs.push(format!("cost{i}"));
            }
            if n == 0 {
                profile_cost_lines(config, region, profiles, &mut metrics, &mut costs);
            }
            let (title, label) = if count == 1 {
                (
                    format!("{what} (USD, models with a known price)"),
                    "Total".to_string(),
                )
            } else {
                (
                    format!(
                        "{what} (USD, models with a known price), part {} of {count}",
                        n + 1
                    ),
                    format!("Total of part {}", n + 1),
                )
            };
            metrics.push(total(&costs, &label));
            CostWidget {
                title,
                metrics,
                text: None,
            }
        })
        .collect()
}

#[async_trait]
impl Resource for Dashboard {
    type State = Option<DashboardState>;

    fn id(&self) -> ComponentId {
        ComponentId::Dashboard
    }

    /// Profile lines need the profiles' IDs, which AWS assigns at creation.
    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::InferenceProfiles]
    }

    fn name(&self, cx: &Context) -> String {
        cx.dashboard_name()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let dashboard = cx
            .aws
            .cloudwatch
            .get_dashboard()
            .dashboard_name(cx.dashboard_name())
            .send()
            .await;
        let Some(dashboard) = absent_if(dashboard.aws("cloudwatch:GetDashboard"), NOT_FOUND)?
        else {
            return Ok(None);
        };
        let body = match dashboard.dashboard_body() {
            Some(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
            }
            None => Value::Null,
        };
        Ok(Some(DashboardState { body }))
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let desired = match Self::body(cx) {
            Ok(body) => vec![("body".to_string(), body)],
            Err(e) => return Diff::unchanged().with_note(e.to_string()),
        };
        match state {
            None => Diff::create(desired),
            // serde_json::Value equality: key order and spacing do not matter.
            Some(s) => Diff::compare(desired, |_| s.body.clone()),
        }
    }

    async fn apply(
        &self,
        cx: &Context,
        _state: &Self::State,
        _diff: &Diff,
    ) -> Result<(), AwsError> {
        let id = ComponentId::Dashboard;
        let name = &cx.dashboard_name();
        let body = Self::body(cx)?;
        let cw = &cx.aws.cloudwatch;
        let put = cw
            .put_dashboard()
            .dashboard_name(name)
            .dashboard_body(body.to_string())
            .send()
            .await;
        let out = match put {
            Ok(out) => out,
            Err(e) => {
                let rejected: Vec<String> = e
                    .as_service_error()
                    .and_then(|se| match se {
                        PutDashboardError::DashboardInvalidInputError(invalid) => {
                            Some(validation_messages(invalid.dashboard_validation_messages()))
                        }
                        _ => None,
                    })
                    .unwrap_or_default();
                let mut err = AwsError::from_sdk("cloudwatch:PutDashboard", e);
                if !rejected.is_empty() {
                    err.message = format!("{}: {}", err.message, rejected.join("; "));
                    err = err.with_hint(
                        "CloudWatch rejected the dashboard bedrock-monitor rendered: a bug in \
                         the tool; report it with these messages",
                    );
                }
                return Err(err);
            }
        };
        for message in validation_messages(out.dashboard_validation_messages()) {
            cx.note(
                id,
                &format!("CloudWatch warns about the dashboard: {message}"),
            );
        }
        Ok(())
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let Some(state) = state else {
            return Ownership::Missing;
        };
        let stack = &cx.config.stack.name;
        match marker_stack(&state.body) {
            Some(named) if &named == stack => Ownership::Managed {
                evidence: format!("marker widget naming stack {stack}"),
            },
            Some(other) => Ownership::NotManaged {
                reason: format!(
                    "its marker widget names stack {other}: it belongs to another stack"
                ),
            },
            None => Ownership::NotManaged {
                reason: format!(
                    "a dashboard named {} exists without a marker widget naming stack {stack}",
                    cx.dashboard_name()
                ),
            },
        }
    }

    /// PutDashboard replaces the whole body: a dashboard without this stack's marker is
    /// someone's work, overwritten only with consent.
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        let Some(state) = state else {
            return Vec::new();
        };
        let what = format!("dashboard {}", cx.dashboard_name());
        match marker_stack(&state.body) {
            Some(named) if named == cx.config.stack.name => Vec::new(),
            other => vec![Foreign::new(what, other.as_deref()).marked_by(Mark::MarkerWidget)],
        }
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        vec![Permission::new(
            &[
                "cloudwatch:GetDashboard",
                "cloudwatch:PutDashboard",
                "cloudwatch:DeleteDashboards",
            ],
            [Self::arn(cx)],
        )]
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        if state.is_none() {
            return Ok(());
        }
        absent_if(
            cx.aws
                .cloudwatch
                .delete_dashboards()
                .dashboard_names(cx.dashboard_name())
                .send()
                .await
                .aws("cloudwatch:DeleteDashboards"),
            NOT_FOUND,
        )?;
        Ok(())
    }
}

fn validation_messages(
    messages: &[aws_sdk_cloudwatch::types::DashboardValidationMessage],
) -> Vec<String> {
    messages
        .iter()
        .map(|m| match (m.data_path(), m.message()) {
            (Some(path), Some(message)) => format!("{path}: {message}"),
            (None, Some(message)) => message.to_string(),
            (Some(path), None) => path.to_string(),
            (None, None) => "(no message)".to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let b =
            render_body(&config, "aws", "123456789012", "us-east-1", &profiles).expect("renders");
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
        assert!(arns.contains(
            &"arn:aws:cloudwatch:us-east-1:123456789012:alarm:Bedrock-HighInputTokenUsage"
        ));
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
}
