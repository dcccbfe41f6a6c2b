//! The dashboard's body: the values `templates/dashboard.json.j2` sees and the estimated-cost
//! widgets (metric math over the price table, by model or by profile, or SEARCH when no model
//! list is given).

use serde::Serialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::cost::metric_math::{
    CostGroup, MANTLE, RUNTIME, Schema, cost_groups, priced_metrics, priced_terms,
    search_price_table, sum_of_series,
};
use crate::cost::prices::{Price, lookup};
use crate::docs;
use crate::quotas::QuotaBook;

use super::marker;
use super::quotas::{self, QuotaPanel};

/// CloudWatch evaluates at most 100 SEARCH expressions per graph; each cost group takes one
/// per priced token metric (two to four), so a config with many distinct prices gets further
/// cost widgets, each with the total of its own groups.
const MAX_SEARCHES_PER_WIDGET: usize = 100;

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
    /// With `[quotas]`: the quota section, below the rest.
    quotas: Option<QuotaPanel>,
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

/// The dashboard body for `config` in `region` of account `account_id`; with `[quotas]` and
/// the quota book read for it, the quota section too (without the book, none: the section
/// draws applied quotas, never guessed ones).
pub fn render_body(
    config: &Config,
    partition: &str,
    account_id: &str,
    region: &str,
    profiles: &[ProfileLine],
    quota_book: Option<&QuotaBook>,
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
    let mut values = Values {
        markdown,
        region,
        period: config.dashboard.period_seconds,
        models: &config.dashboard.models,
        cost_widgets: cost_widgets(config, region, profiles),
        alarm_arns,
        log_group: &config.log_group.name,
        profiles,
        quotas: None,
    };
    let body = docs::render("dashboard", &values)?;
    let (Some(wanted), Some(book)) = (&config.quotas, quota_book) else {
        return Ok(body);
    };
    // The section takes what room the rest of the body leaves under CloudWatch's limit.
    let others = body["widgets"].as_array().map_or(0, Vec::len);
    values.quotas = Some(quotas::panel(wanted, book, region, others));
    docs::render("dashboard", &values)
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
