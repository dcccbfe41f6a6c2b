//! The saved Logs Insights queries on Bedrock's invocation logs: the catalogue the `queries`
//! component saves as query definitions and `bedrock-monitor query` runs.
//!
//! They read the invocation-log schema (`modelId`, `identity.arn`, `requestId`, `errorCode`,
//! `input.inputTokenCount`, `output.outputTokenCount`), and every value from the raw `@message`
//! with `parse`: Logs Insights discovers at most 200 fields per event, and a long or streamed
//! record puts its token counts past that limit, where a field query silently counts nothing
//! (see `report::principals`).

use std::collections::BTreeMap;

use crate::config::Config;
use crate::report::pricing::{self, Price};

/// One saved query.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedQuery {
    /// Its name (the last part of the query definition's name, after the folder).
    pub name: &'static str,
    pub description: &'static str,
    pub text: String,
}

/// Logs Insights' limit on a query string (PutQueryDefinition, StartQuery).
pub const MAX_QUERY_LENGTH: usize = 10_000;

/// The `parse` regular expressions for invocation-log fields, one definition for the saved
/// queries and the report's per-principal query (literals, so both can `concat!` them).
macro_rules! invocation_log_pattern {
    (model) => {
        r#"/"modelId"\s*:\s*"(?<model>[^"]*)"/"#
    };
    (principal) => {
        r#"/"identity"\s*:\s*\{\s*"arn"\s*:\s*"(?<principal>[^"]*)"/"#
    };
    // The first count: the `input` object comes before `output`.
    (input_tokens) => {
        r#"/"inputTokenCount"\s*:\s*(?<in_tokens>\d+)/"#
    };
    // The last count: a streamed response repeats the counts inside its final chunk first.
    (output_tokens) => {
        r#"/.*"outputTokenCount"\s*:\s*(?<out_tokens>\d+)/"#
    };
    (request_id) => {
        r#"/"requestId"\s*:\s*"(?<request_id>[^"]*)"/"#
    };
    (error_code) => {
        r#"/"errorCode"\s*:\s*"(?<error_code>[^"]*)"/"#
    };
    // Converse responses report their latency in the body's metrics.
    (latency) => {
        r#"/"latencyMs"\s*:\s*(?<latency_ms>\d+)/"#
    };
}
pub(crate) use invocation_log_pattern;

const MODEL: &str = concat!("parse @message ", invocation_log_pattern!(model));
const PRINCIPAL: &str = concat!("parse @message ", invocation_log_pattern!(principal));
const INPUT_TOKENS: &str = concat!("parse @message ", invocation_log_pattern!(input_tokens));
const OUTPUT_TOKENS: &str = concat!("parse @message ", invocation_log_pattern!(output_tokens));
const REQUEST_ID: &str = concat!("parse @message ", invocation_log_pattern!(request_id));
const ERROR_CODE: &str = concat!("parse @message ", invocation_log_pattern!(error_code));
const LATENCY: &str = concat!("parse @message ", invocation_log_pattern!(latency));

/// Every saved query, for `config` (its `[pricing]` entries price the expensive requests).
pub fn catalog(config: &Config) -> Vec<SavedQuery> {
    vec![
        SavedQuery {
            name: "tokens-by-model",
            description: "invocations and input/output tokens per model",
            text: format!(
                "{MODEL}\n| {INPUT_TOKENS}\n| {OUTPUT_TOKENS}\n\
                 | stats count(*) as invocations, sum(in_tokens) as input_tokens, sum(out_tokens) as output_tokens by model\n\
                 | sort input_tokens desc"
            ),
        },
        SavedQuery {
            name: "most-expensive-requests",
            description: "the 50 costliest requests, priced in the query with the report's price table",
            text: format!(
                "{MODEL}\n| {PRINCIPAL}\n| {REQUEST_ID}\n| {INPUT_TOKENS}\n| {OUTPUT_TOKENS}\n\
                 | filter ispresent(in_tokens)\n\
                 | fields tolower(model) as m, coalesce(out_tokens, 0) as out_n\n\
                 | fields ({}) / 1000 as cost_usd\n\
                 | sort cost_usd desc\n\
                 | limit 50\n\
                 | display @timestamp, request_id, principal, model, in_tokens, out_n, cost_usd",
                cost_expression(&price_table(config))
            ),
        },
        SavedQuery {
            name: "requests-per-hour",
            description: "requests per hour",
            text: "stats count(*) as requests by bin(1h) as hour\n| sort hour asc".to_string(),
        },
        SavedQuery {
            name: "latency-by-model",
            description: "average and p99 latency per model (Converse calls report it in their logs)",
            text: format!(
                "{MODEL}\n| {LATENCY}\n| filter ispresent(latency_ms)\n\
                 | stats count(*) as requests, avg(latency_ms) as avg_ms, pct(latency_ms, 99) as p99_ms by model\n\
                 | sort avg_ms desc"
            ),
        },
        SavedQuery {
            name: "errors-by-model",
            description: "failed requests per model and error code",
            text: format!(
                "{MODEL}\n| {ERROR_CODE}\n| filter ispresent(error_code)\n\
                 | stats count(*) as errors by model, error_code\n\
                 | sort errors desc"
            ),
        },
        SavedQuery {
            name: "usage-by-principal",
            description: "invocations and tokens per IAM principal and model (the query of `report --by-principal`)",
            text: crate::report::principals::PRINCIPAL_QUERY.to_string(),
        },
        SavedQuery {
            name: "usage-by-inference-profile",
            description: "invocations and tokens per application inference profile",
            text: format!(
                "{MODEL}\n| {INPUT_TOKENS}\n| {OUTPUT_TOKENS}\n\
                 | filter model like /application-inference-profile/\n\
                 | stats count(*) as invocations, sum(in_tokens) as input_tokens, sum(out_tokens) as output_tokens by model as profile\n\
                 | sort input_tokens desc"
            ),
        },
    ]
}

/// The report's price table as the query sees it: built-in keys, then `[pricing]` keys
/// (which win on an equal key), lower-case.
fn price_table(config: &Config) -> BTreeMap<String, Price> {
    let mut table: BTreeMap<String, Price> = pricing::builtin_prices()
        .iter()
        .map(|(k, p)| (k.to_ascii_lowercase(), *p))
        .collect();
    for (k, p) in &config.pricing {
        table.insert(k.trim().to_ascii_lowercase(), Price::from(p));
    }
    table
}

/// Per-request cost in thousandths of a dollar per 1,000 tokens: for each key, `strcontains`
/// (1 or 0) picks its price, times `1 - strcontains` of every longer key that contains it, so
/// that the longest matching key prices the request, as in the report.
fn cost_expression(table: &BTreeMap<String, Price>) -> String {
    let terms: Vec<String> = table
        .iter()
        .map(|(key, price)| {
            let overridden: String = table
                .keys()
                .filter(|longer| longer.len() > key.len() && longer.contains(key.as_str()))
                .map(|longer| format!(" * (1 - strcontains(m, {}))", quote(longer)))
                .collect();
            format!(
                "strcontains(m, {}){overridden} * (in_tokens * {} + out_n * {})",
                quote(key),
                price.input_per_1k,
                price.output_per_1k
            )
        })
        .collect();
    if terms.is_empty() {
        "0".to_string()
    } else {
        terms.join(" + ")
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The saved query called `name`.
pub fn find(config: &Config, name: &str) -> Option<SavedQuery> {
    catalog(config).into_iter().find(|q| q.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_fits_logs_insights_limit_and_reads_tokens_from_the_message() {
        for q in catalog(&Config::default()) {
            assert!(
                q.text.len() <= MAX_QUERY_LENGTH,
                "{}: {}",
                q.name,
                q.text.len()
            );
            assert!(!q.text.contains("input.inputTokenCount"), "{}", q.name);
        }
    }

    #[test]
    fn the_longest_matching_key_prices_a_request() {
        let expr = cost_expression(&price_table(&Config::default()));
        // The regional Claude 4.5 key is switched off where the global key matches.
        assert!(expr.contains(
            "strcontains(m, \"anthropic.claude-sonnet-4-5\") * (1 - strcontains(m, \"global.anthropic.claude-sonnet-4-5\"))"
        ));
        // Evaluate it as Logs Insights would for one request, with the report's lookup.
        let table = price_table(&Config::default());
        for model in [
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "anthropic.claude-3-5-haiku-20241022-v1:0",
        ] {
            let m = model.to_ascii_lowercase();
            let has = |k: &str| if m.contains(k) { 1.0 } else { 0.0 };
            let per_1k: f64 = table
                .iter()
                .map(|(key, price)| {
                    let off: f64 = table
                        .keys()
                        .filter(|l| l.len() > key.len() && l.contains(key.as_str()))
                        .map(|l| 1.0 - has(l))
                        .product();
                    has(key) * off * (1000.0 * price.input_per_1k + 1000.0 * price.output_per_1k)
                })
                .sum();
            let expected = pricing::lookup(model, &BTreeMap::new()).expect("priced");
            let want = 1000.0 * expected.price.input_per_1k + 1000.0 * expected.price.output_per_1k;
            assert!((per_1k - want).abs() < 1e-9, "{model}: {per_1k} vs {want}");
        }
    }
}
