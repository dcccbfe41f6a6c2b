//! The saved Logs Insights queries on Bedrock's invocation logs: the catalogue the `queries`
//! component saves as query definitions and `bedrock-monitor query` runs.
//!
//! They read the invocation-log schema (`modelId`, `identity.arn`, `requestId`, `errorCode`,
//! `input.inputTokenCount`, `output.outputTokenCount`), and every value from the raw `@message`
//! with `parse`: Logs Insights discovers at most 200 fields per event, and a long or streamed
//! record puts its token counts past that limit, where a field query silently counts nothing
//! (see `report::principals`).

use crate::config::{Config, PathPart, Violation};
use crate::cost::insights::cost_expression;
use crate::invocation_log::invocation_log_pattern;

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

const MODEL: &str = concat!("parse @message ", invocation_log_pattern!(model));
const PRINCIPAL: &str = concat!("parse @message ", invocation_log_pattern!(principal));
const INPUT_TOKENS: &str = concat!("parse @message ", invocation_log_pattern!(input_tokens));
const OUTPUT_TOKENS: &str = concat!("parse @message ", invocation_log_pattern!(output_tokens));
const REQUEST_ID: &str = concat!("parse @message ", invocation_log_pattern!(request_id));
const ERROR_CODE: &str = concat!("parse @message ", invocation_log_pattern!(error_code));
const LATENCY: &str = concat!("parse @message ", invocation_log_pattern!(latency));
const CACHE_READ: &str = concat!("parse @message ", invocation_log_pattern!(cache_read));
const CACHE_WRITE: &str = concat!("parse @message ", invocation_log_pattern!(cache_write));

/// The Logs Insights query: invocations and tokens per principal and model, read from the raw
/// record. The input count is the first `inputTokenCount` (the `input` object comes before
/// `output`); the output count is the last `outputTokenCount` (a streamed response repeats the
/// counts inside its final chunk's `amazon-bedrock-invocationMetrics`, before the record's own
/// `output.outputTokenCount`). `counted` is how many records had an input count to read.
pub const PRINCIPAL_QUERY: &str = concat!(
    "parse @message ",
    invocation_log_pattern!(principal),
    "\n| parse @message ",
    invocation_log_pattern!(model),
    "\n| parse @message ",
    invocation_log_pattern!(input_tokens),
    "\n| parse @message ",
    invocation_log_pattern!(output_tokens),
    "\n| stats count(*) as invocations, sum(in_tokens) as input_tokens, sum(out_tokens) as output_tokens, count(in_tokens) as counted by principal, model\n| sort invocations desc\n| limit 10000"
);

/// Every saved query, for `config` (its `[pricing]` entries price the expensive requests).
pub fn catalog(config: &Config) -> Vec<SavedQuery> {
    catalog_with_profiles(config, &[])
}

/// [`catalog`] for a stack whose application inference profiles are known, as (ID, the model
/// they were copied from): the costliest-requests query prices calls through them too.
pub fn catalog_with_profiles(config: &Config, profiles: &[(String, String)]) -> Vec<SavedQuery> {
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
            description: "the 50 costliest requests, priced in the query with the report's price table (prompt-cache tokens too)",
            text: format!(
                "{MODEL}\n| {PRINCIPAL}\n| {REQUEST_ID}\n| {INPUT_TOKENS}\n| {OUTPUT_TOKENS}\n\
                 | {CACHE_READ}\n| {CACHE_WRITE}\n\
                 | filter ispresent(in_tokens)\n\
                 | fields tolower(model) as m, coalesce(out_tokens, 0) as out_n, coalesce(cache_read, 0) as cr_n, coalesce(cache_write, 0) as cw_n\n\
                 | fields ({}) / 1000 as cost_usd\n\
                 | sort cost_usd desc\n\
                 | limit 50\n\
                 | display @timestamp, request_id, principal, model, in_tokens, out_n, cr_n, cw_n, cost_usd",
                cost_expression(config, profiles)
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
            text: PRINCIPAL_QUERY.to_string(),
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

/// The config's problems that only the catalogue can see: with `[queries]`, a saved query that
/// the `[pricing]` entries (each priced in the most-expensive-requests query) make longer than
/// Logs Insights accepts. Checked with the config's own rules (`config::load`).
pub fn config_violations(config: &Config) -> Vec<Violation> {
    if config.queries.is_none() {
        return Vec::new();
    }
    catalog(config)
        .into_iter()
        .filter(|q| q.text.len() > MAX_QUERY_LENGTH)
        .map(|q| Violation {
            path: vec![PathPart::Key("pricing".into())],
            message: format!(
                "the saved query {} prices requests with every [pricing] entry and would be {} characters, over Logs Insights' {}: remove entries or [queries]",
                q.name,
                q.text.len(),
                MAX_QUERY_LENGTH
            ),
            at_key: false,
        })
        .collect()
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
}
