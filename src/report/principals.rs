//! `--by-principal`: who used which model, from the model-invocation log group.
//!
//! Logs Insights discovers at most 200 fields in each JSON event (CloudWatch Logs user guide,
//! "Supported logs and discovered fields"). An invocation-log record puts the request and
//! response bodies (`input.inputBodyJson`, `output.outputBodyJson`, one entry per chunk for a
//! streamed response) before the token counts, so in long or streamed records
//! `input.inputTokenCount` and `output.outputTokenCount` are never discovered, and a query on
//! them counts 0 tokens without a warning. The query therefore reads every value it needs
//! from the raw `@message` with `parse` and a regular expression, which does not depend on
//! field discovery, counts the records whose token counts could not be read, and the report
//! compares its totals with CloudWatch's metrics for the same window.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::ResultField;
use serde::Serialize;

use crate::aws::AwsError;
use crate::config::PriceConfig;
use crate::cost::prices;

use super::insights::{self, QueryEnd};
use super::window::Window;
use super::{round_cost, to_count};
use crate::queries::PRINCIPAL_QUERY;

/// The most rows [`PRINCIPAL_QUERY`] returns: its `limit`, which is also what Logs Insights
/// returns at most when a query sets none (CloudWatch Logs user guide, "limit"). Rows are
/// sorted by invocations, so a cut list keeps the busiest principal-model pairs.
pub const ROW_LIMIT: usize = 10_000;

/// A note for the report when the query returned [`ROW_LIMIT`] rows: Logs Insights cut the
/// list there, so principals are missing from it and its totals (also the logs source's)
/// undercount; nothing in the answer says so otherwise.
pub fn truncation_note(rows: usize) -> Option<String> {
    (rows >= ROW_LIMIT).then(|| {
        "the per-principal list stopped at Logs Insights' 10,000-row limit: it shows the 10,000 \
         principal-model pairs with the most invocations, and its totals leave the others out; \
         use a shorter window (--hours, or --start/--end) to see them all"
            .to_string()
    })
}

/// How long to wait for the query before stopping it.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(180);

/// One principal's use of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrincipalUsage {
    /// `identity.arn` of the caller, or `(unknown)` for records without one.
    pub principal: String,
    pub model_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Records whose token counts could not be read (their tokens are missing above).
    pub uncounted_records: u64,
    pub cost_usd: Option<f64>,
    pub price_key: Option<String>,
}

/// A parsed result row, before pricing.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalRow {
    pub principal: String,
    pub model_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Records of this principal and model whose token counts could not be read.
    pub uncounted: u64,
}

/// The breakdown, or why there is none (a note for the report).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Rows(Vec<PrincipalUsage>),
    Unavailable(String),
}

const UNKNOWN_PRINCIPAL: &str = "(unknown)";

/// Runs the query over `log_group` for the window and prices the rows. A missing log group, a
/// query that fails or times out, and an endpoint that does not evaluate `stats` give
/// [`Outcome::Unavailable`]; other AWS errors (such as missing permissions) are errors.
pub async fn fetch(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
    window: &Window,
    pricing: &BTreeMap<String, PriceConfig>,
    region: &str,
) -> Result<Outcome, AwsError> {
    let end = insights::run(
        logs,
        log_group,
        window,
        PRINCIPAL_QUERY,
        QUERY_TIMEOUT,
        |_, _| {},
    )
    .await?;
    Ok(match end {
        QueryEnd::Rows(rows) => match parse_rows(&rows) {
            Ok(rows) if rows.is_empty() => Outcome::Unavailable(format!(
                "no invocation-log records in {log_group} for this window: is invocation \
                 logging to CloudWatch Logs on? (`bedrock-monitor status`)"
            )),
            Ok(rows) => Outcome::Rows(price_rows(rows, pricing, region)),
            Err(why) => Outcome::Unavailable(why),
        },
        QueryEnd::NoLogGroup => Outcome::Unavailable(log_group_missing(log_group)),
        QueryEnd::Ended(status) => Outcome::Unavailable(format!(
            "the Logs Insights query over {log_group} ended with status {status}; no \
             per-principal breakdown"
        )),
        QueryEnd::TimedOut(after) => Outcome::Unavailable(format!(
            "the Logs Insights query over {log_group} did not finish within {} s; no \
             per-principal breakdown (try a shorter window)",
            after.as_secs()
        )),
    })
}

/// The note for a log group that does not exist.
pub fn log_group_missing(log_group: &str) -> String {
    format!(
        "invocation logging is off or the log group {log_group} does not exist: run \
         `bedrock-monitor apply` first; no per-principal breakdown"
    )
}

/// Parses `GetQueryResults` rows of [`PRINCIPAL_QUERY`]. Logs Insights leaves out fields that
/// are empty in a row, so a missing `identity.arn` is `(unknown)` and missing token sums are
/// zero. A row without `invocations` means the endpoint did not evaluate `stats` (it returned
/// raw records instead): that is an error message, not a guess.
pub fn parse_query_results(rows: &[Vec<ResultField>]) -> Result<Vec<PrincipalRow>, String> {
    let pairs: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|f| Some((f.field()?.to_string(), f.value()?.to_string())))
                .collect()
        })
        .collect();
    parse_rows(&pairs)
}

/// [`parse_query_results`] on rows as (field, value) pairs.
pub fn parse_rows(rows: &[Vec<(String, String)>]) -> Result<Vec<PrincipalRow>, String> {
    let mut parsed = Vec::with_capacity(rows.len());
    for row in rows {
        let field = |name: &str| {
            row.iter()
                .find(|(f, _)| f == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let Some(invocations) = field("invocations") else {
            return Err(
                "this endpoint returned Logs Insights rows without the `stats` fields \
                        it was asked for (it does not evaluate `stats` queries); no \
                        per-principal breakdown"
                    .to_string(),
            );
        };
        let number = |name: &str, text: Option<&str>| -> Result<u64, String> {
            match text {
                None => Ok(0),
                Some(t) => t.parse::<f64>().map(to_count).map_err(|_| {
                    format!("Logs Insights returned `{t}` for {name}, which is not a number")
                }),
            }
        };
        let invocations = number("invocations", Some(invocations))?;
        let counted = number("counted", field("counted"))?;
        parsed.push(PrincipalRow {
            principal: field("principal").unwrap_or(UNKNOWN_PRINCIPAL).to_string(),
            model_id: field("model").unwrap_or(UNKNOWN_PRINCIPAL).to_string(),
            invocations,
            input_tokens: number("input_tokens", field("input_tokens"))?,
            output_tokens: number("output_tokens", field("output_tokens"))?,
            uncounted: invocations.saturating_sub(counted),
        });
    }
    Ok(parsed)
}

/// Prices each row with the same table as the models, sorted by cost (unpriced last), then
/// invocations.
pub fn price_rows(
    rows: Vec<PrincipalRow>,
    pricing: &BTreeMap<String, PriceConfig>,
    region: &str,
) -> Vec<PrincipalUsage> {
    let mut priced: Vec<PrincipalUsage> = rows
        .into_iter()
        .map(|row| {
            let price = prices::lookup(&row.model_id, Some(region), pricing);
            PrincipalUsage {
                cost_usd: price
                    .as_ref()
                    .map(|m| round_cost(m.price.cost(row.input_tokens, row.output_tokens))),
                price_key: price.map(|m| m.key),
                principal: row.principal,
                model_id: row.model_id,
                invocations: row.invocations,
                input_tokens: row.input_tokens,
                output_tokens: row.output_tokens,
                uncounted_records: row.uncounted,
            }
        })
        .collect();
    priced.sort_by(|a, b| {
        super::cost_order(a.cost_usd, b.cost_usd)
            .then(b.invocations.cmp(&a.invocations))
            .then_with(|| a.principal.cmp(&b.principal))
            .then_with(|| a.model_id.cmp(&b.model_id))
    });
    priced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[(&str, &str)]) -> Vec<ResultField> {
        fields
            .iter()
            .map(|(f, v)| ResultField::builder().field(*f).value(*v).build())
            .collect()
    }

    // moto's Logs Insights does not evaluate `stats` (it returns one row of `@ptr` per record),
    // so the parsing of real `stats` results is covered here, on rows shaped like the ones
    // CloudWatch Logs returns for PRINCIPAL_QUERY.
    #[test]
    fn parses_stats_rows() {
        let rows = vec![
            row(&[
                (
                    "principal",
                    "arn:aws:sts::123456789012:assumed-role/app/i-1",
                ),
                ("model", "us.anthropic.claude-3-5-haiku-20241022-v1:0"),
                ("invocations", "12"),
                ("input_tokens", "150000"),
                ("output_tokens", "20000"),
                ("counted", "12"),
            ]),
            // No identity, no output tokens (Logs Insights leaves out empty fields), and one
            // record whose counts could not be read.
            row(&[
                ("model", "cohere.command-r-v1:0"),
                ("invocations", "3"),
                ("input_tokens", "900"),
                ("counted", "2"),
            ]),
        ];
        let parsed = parse_query_results(&rows).unwrap();
        assert_eq!(
            parsed[0],
            PrincipalRow {
                principal: "arn:aws:sts::123456789012:assumed-role/app/i-1".into(),
                model_id: "us.anthropic.claude-3-5-haiku-20241022-v1:0".into(),
                invocations: 12,
                input_tokens: 150_000,
                output_tokens: 20_000,
                uncounted: 0,
            }
        );
        assert_eq!(parsed[1].principal, "(unknown)");
        assert_eq!(parsed[1].output_tokens, 0);
        assert_eq!(parsed[1].uncounted, 1);

        let priced = price_rows(parsed, &BTreeMap::new(), "us-east-1");
        assert_eq!(
            priced[0].model_id,
            "us.anthropic.claude-3-5-haiku-20241022-v1:0"
        );
        // 150 × 0.0008 + 20 × 0.004 = 0.20
        assert_eq!(priced[0].cost_usd, Some(0.2));
        assert_eq!(
            priced[0].price_key.as_deref(),
            Some("anthropic.claude-3-5-haiku")
        );
        assert_eq!(priced[1].cost_usd, None);
    }

    #[test]
    fn a_list_cut_at_the_row_limit_says_so() {
        assert!(
            PRINCIPAL_QUERY.ends_with(&format!("| limit {ROW_LIMIT}")),
            "the query's limit is ROW_LIMIT"
        );
        assert_eq!(ROW_LIMIT, 10_000, "the note says 10,000");
        assert_eq!(truncation_note(ROW_LIMIT - 1), None);
        let note = truncation_note(ROW_LIMIT).unwrap_or_default();
        assert!(note.contains("10,000-row limit"), "{note}");
    }

    #[test]
    fn raw_records_instead_of_stats_are_reported_not_guessed() {
        // What moto returns for a `stats` query: the records' pointers.
        let rows = vec![row(&[("@ptr", "0")]), row(&[("@ptr", "1")])];
        let err = parse_query_results(&rows).unwrap_err();
        assert!(err.contains("does not evaluate `stats`"), "{err}");
    }

    #[test]
    fn non_numeric_values_are_errors() {
        let rows = vec![row(&[("invocations", "many")])];
        let err = parse_query_results(&rows).unwrap_err();
        assert!(err.contains("`many`"), "{err}");
    }

    /// The `parse` patterns of [`PRINCIPAL_QUERY`], as Logs Insights runs them: the first
    /// match of each regular expression in `@message`, its named groups as fields.
    fn parse_like_logs_insights(message: &str) -> BTreeMap<String, String> {
        let mut fields = BTreeMap::new();
        for line in PRINCIPAL_QUERY.lines() {
            let Some(pattern) = line
                .trim_start_matches("| ")
                .strip_prefix("parse @message /")
                .and_then(|rest| rest.strip_suffix('/'))
            else {
                continue;
            };
            let re = regex::Regex::new(pattern).expect("the query's pattern is a valid regex");
            if let Some(caps) = re.captures(message) {
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        fields.insert(name.to_string(), m.as_str().to_string());
                    }
                }
            }
        }
        fields
    }

    /// An invocation-log record as Bedrock writes it (model-invocation-logging user guide):
    /// the bodies come before the counts.
    fn record(
        input_body: &str,
        output_body: &str,
        input_tokens: u64,
        output_tokens: u64,
    ) -> String {
        format!(
            r#"{{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-11-20T10:00:00Z","accountId":"123456789012","identity":{{"arn":"arn:aws:sts::123456789012:assumed-role/app/i-1"}},"region":"us-east-1","requestId":"r-1","operation":"ConverseStream","modelId":"us.anthropic.claude-3-7-sonnet-20250219-v1:0","input":{{"inputContentType":"application/json","inputBodyJson":{input_body},"inputTokenCount":{input_tokens}}},"output":{{"outputContentType":"application/json","outputBodyJson":{output_body},"outputTokenCount":{output_tokens}}}}}"#
        )
    }

    #[test]
    fn the_query_reads_counts_from_short_records() {
        let message = record(
            r#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#,
            r#"{"output":{"message":{"content":[{"text":"hello"}]}},"usage":{"inputTokens":9,"outputTokens":4}}"#,
            9,
            4,
        );
        let fields = parse_like_logs_insights(&message);
        assert_eq!(
            fields["principal"],
            "arn:aws:sts::123456789012:assumed-role/app/i-1"
        );
        assert_eq!(
            fields["model"],
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
        );
        assert_eq!(fields["in_tokens"], "9");
        assert_eq!(fields["out_tokens"], "4");
    }

    /// A streamed response with 400 chunks (far more than the 200 fields Logs Insights
    /// discovers) whose last chunk repeats the counts: the query still reads the record's own.
    #[test]
    fn the_query_reads_counts_past_the_field_limit_of_streamed_records() {
        let mut chunks: Vec<String> = (0..400)
            .map(|i| format!(r#"{{"contentBlockDelta":{{"delta":{{"text":"word{i} "}},"contentBlockIndex":0}}}}"#))
            .collect();
        chunks.push(
            r#"{"metadata":{"usage":{"inputTokens":506,"outputTokens":4576}},"amazon-bedrock-invocationMetrics":{"inputTokenCount":506,"outputTokenCount":4576,"invocationLatency":9000,"firstByteLatency":400}}"#
                .to_string(),
        );
        let long_prompt: Vec<String> = (0..300)
            .map(|i| format!(r#"{{"role":"user","content":[{{"text":"part {i}"}}]}}"#))
            .collect();
        let message = record(
            &format!(r#"{{"messages":[{}]}}"#, long_prompt.join(",")),
            &format!("[{}]", chunks.join(",")),
            506,
            4576,
        );
        assert!(
            message.matches(':').count() > 1000,
            "a record with many fields"
        );
        let fields = parse_like_logs_insights(&message);
        assert_eq!(fields["in_tokens"], "506");
        assert_eq!(fields["out_tokens"], "4576");
        assert_eq!(
            fields["model"],
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
        );
    }

    /// A failed invocation has no output: its input count is read, its output is absent, and
    /// `count(in_tokens)` still counts it as read.
    #[test]
    fn a_record_without_counts_is_not_counted() {
        let message = r#"{"schemaType":"ModelInvocationLog","identity":{"arn":"arn:aws:iam::1:user/u"},"modelId":"m","input":{"inputBodyJson":{}}}"#;
        let fields = parse_like_logs_insights(message);
        assert!(!fields.contains_key("in_tokens"));
        assert!(!fields.contains_key("out_tokens"));
        assert_eq!(fields["principal"], "arn:aws:iam::1:user/u");
    }
}
