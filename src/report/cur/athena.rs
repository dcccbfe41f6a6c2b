//! The Athena engine: the same aggregation as one SQL query over the user's CUR 2.0 table
//! (`[cur_export] athena = { workgroup, database, table, output }`), for bills too big to read
//! on one machine.
//!
//! `StartQueryExecution`, then `GetQueryExecution` with backoff until the query leaves
//! QUEUED/RUNNING, then `GetQueryResults` page by page (1,000 rows each; the first row of the
//! first page is the header). The query groups by what the report groups by plus the product,
//! usage type and line item type, so the one definition of Bedrock spend and the usage-type → model mapping are
//! applied to its rows by the same [`Aggregator`] as the embedded engine's; its `WHERE` only
//! narrows the scan (partitions of the billing periods touched, the report's days, products
//! whose code or name can be Bedrock). Athena bills the bytes it scans (USD 5 per TB, at least
//! 10 MB per query): the report prints both.

use std::time::Duration;

use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};
use chrono::NaiveDate;
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt};
use crate::config::CurAthenaConfig;
use crate::cost::line_item::TAX;
use crate::cost::spend::{PRODUCT_CODE_PREFIX, SERVICE_NAME_WORD};

use super::aggregate::{Aggregator, Line};
use super::layout::{ExportLocation, periods};
use super::reader::PRODUCT_NAME_KEYS;
use super::tags::{Column, TagKey};
use super::{Dimension, Request};

/// Athena's price per TB scanned (us-east-1 list price) and its minimum per query.
const USD_PER_TB: f64 = 5.0;
const MIN_BILLED_BYTES: u64 = 10 * 1024 * 1024;
/// Polling: first wait, cap, and how long a query may run before the report gives up.
const FIRST_POLL: Duration = Duration::from_millis(200);
const MAX_POLL: Duration = Duration::from_secs(5);
const MAX_WAIT: Duration = Duration::from_secs(30 * 60);
/// Rows per `GetQueryResults` page (the API's maximum).
const PAGE_ROWS: i32 = 1000;

/// What the query cost and how it ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AthenaStats {
    pub query_execution_id: String,
    pub workgroup: String,
    pub data_scanned_bytes: u64,
    /// At USD 5 per TB scanned, at least 10 MB.
    pub cost_usd: f64,
    pub engine_execution_ms: Option<i64>,
    pub polls: u32,
    pub result_pages: u32,
    pub result_rows: u64,
    pub sql: String,
}

/// A string as a SQL literal (`'` doubled).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The query for the request: one row per group, product, usage type (and day with `--daily`).
pub fn sql(
    config: &CurAthenaConfig,
    request: &Request,
    start: NaiveDate,
    end: NaiveDate,
) -> String {
    let product_name = format!(
        "COALESCE({})",
        PRODUCT_NAME_KEYS
            .iter()
            .map(|k| format!("element_at(product, {})", literal(k)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut select: Vec<String> = Vec::new();
    for (i, d) in request.by.iter().enumerate() {
        let expr = match d {
            Dimension::Principal => "line_item_iam_principal".to_string(),
            // The maps narrowed to the keys that can be the one asked for (every form of it
            // ends with the same letters and digits); which one it is, and which of several
            // wins, is decided by the same [`TagKey`] as the embedded engine's. Athena engine
            // version 3 runs Trino's functions: `map_filter` takes a lambda (Map functions),
            // `\p{L}`/`\p{N}` are Unicode categories (Regular expression functions), a map with
            // varchar keys casts to JSON and `json_format` gives its text (JSON functions).
            Dimension::Tag(key) => {
                let suffix = literal(&format!("%{}", TagKey::new(key).suffix()));
                let narrowed = |map: &str| {
                    format!(
                        "json_format(CAST(map_filter({map}, (k, v) -> \
                         lower(regexp_replace(k, '[^\\p{{L}}\\p{{N}}]', '')) LIKE {suffix}) AS JSON))"
                    )
                };
                select.push(format!("{} AS r{i}", narrowed(Column::ResourceTags.name())));
                narrowed(Column::Tags.name())
            }
            Dimension::Profile => "line_item_resource_id".to_string(),
            // The model comes from the usage type, which every row carries.
            Dimension::Model => "CAST(NULL AS varchar)".to_string(),
            Dimension::Account => "line_item_usage_account_id".to_string(),
        };
        select.push(format!("{expr} AS d{i}"));
    }
    if request.by.iter().any(|d| matches!(d, Dimension::Tag(_))) {
        // Every key the lines have, so a key found nowhere can be answered with the keys there
        // are (few distinct sets: a handful of extra groups).
        for column in [Column::Tags, Column::ResourceTags] {
            let name = column.name();
            select.push(format!(
                "json_format(CAST(array_sort(map_keys({name})) AS JSON)) AS {name}_keys"
            ));
        }
    }
    if request.daily {
        select.push("date_format(line_item_usage_start_date, '%Y-%m-%d') AS usage_day".into());
    }
    // Usage, or a credit, refund or discount that the report shows apart.
    select.push("line_item_line_item_type AS line_item_type".into());
    let mut keys: Vec<String> = (1..=select.len()).map(|n| n.to_string()).collect();
    select.push("line_item_product_code AS product_code".into());
    select.push(format!("{product_name} AS product_name"));
    select.push("line_item_usage_type AS usage_type".into());
    let n = select.len();
    keys.extend([n - 2, n - 1, n].iter().map(|k| k.to_string()));
    select.push("SUM(line_item_unblended_cost) AS cost".into());
    select.push("SUM(line_item_usage_amount) AS usage".into());
    select.push("COUNT(*) AS line_items".into());
    let partitions = periods(start, end)
        .iter()
        .map(|p| literal(p))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {select}\nFROM \"{db}\".\"{table}\"\nWHERE billing_period IN ({partitions})\n  \
         AND line_item_usage_start_date >= TIMESTAMP '{start} 00:00:00'\n  \
         AND line_item_usage_start_date < TIMESTAMP '{end} 00:00:00'\n  \
         AND COALESCE(line_item_line_item_type, '') <> {tax}\n  \
         AND (line_item_product_code LIKE {code} OR {product_name} LIKE {name})\n\
         GROUP BY {keys}",
        select = select.join(",\n       "),
        db = config.database,
        table = config.table,
        tax = literal(TAX),
        code = literal(&format!("{PRODUCT_CODE_PREFIX}%")),
        name = literal(&format!("%{SERVICE_NAME_WORD}%")),
        keys = keys.join(", "),
    )
}

/// The entries of a map the query returned as JSON (`{"key": "value", …}`); none for NULL or
/// anything else.
fn json_map(column: Column, text: Option<&str>) -> Vec<(Column, String, Option<String>)> {
    let parsed: Option<serde_json::Map<String, serde_json::Value>> =
        text.and_then(|t| serde_json::from_str(t).ok());
    parsed
        .into_iter()
        .flatten()
        .map(|(k, v)| (column, k, v.as_str().map(str::to_string)))
        .collect()
}

/// The strings of an array the query returned as JSON (`["a", "b"]`).
fn json_strings(text: Option<&str>) -> Vec<String> {
    text.and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(t).ok())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// Runs the query and feeds its rows to `aggregator`.
pub async fn run(
    athena: &aws_sdk_athena::Client,
    config: &CurAthenaConfig,
    location: &ExportLocation,
    request: &Request,
    aggregator: &mut Aggregator,
) -> Result<AthenaStats, AwsError> {
    let (start, end) = aggregator.days();
    let query = sql(config, request, start, end);
    let mut start_query = athena
        .start_query_execution()
        .query_string(&query)
        .work_group(&config.workgroup)
        .query_execution_context(
            QueryExecutionContext::builder()
                .database(&config.database)
                .build(),
        );
    if let Some(output) = &config.output {
        start_query = start_query.result_configuration(
            ResultConfiguration::builder()
                .output_location(output)
                .build(),
        );
    }
    let started = start_query.send().await.aws("athena:StartQueryExecution")?;
    let Some(id) = started.query_execution_id().map(str::to_string) else {
        return Err(AwsError::bad_response(
            "athena:StartQueryExecution",
            "QueryExecutionId",
        ));
    };
    let mut stats = AthenaStats {
        query_execution_id: id.clone(),
        workgroup: config.workgroup.clone(),
        data_scanned_bytes: 0,
        cost_usd: 0.0,
        engine_execution_ms: None,
        polls: 0,
        result_pages: 0,
        result_rows: 0,
        sql: query,
    };
    let mut wait = FIRST_POLL;
    let mut waited = Duration::ZERO;
    loop {
        stats.polls += 1;
        let got = athena
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .aws("athena:GetQueryExecution")?;
        let execution = got.query_execution();
        let status = execution.and_then(|e| e.status());
        let state = status.and_then(|s| s.state()).cloned();
        if let Some(s) = execution.and_then(|e| e.statistics()) {
            stats.data_scanned_bytes = s.data_scanned_in_bytes().unwrap_or(0).max(0) as u64;
            stats.engine_execution_ms = s.engine_execution_time_in_millis();
        }
        let reason = || {
            status
                .and_then(|s| {
                    s.athena_error()
                        .and_then(|e| e.error_message())
                        .or(s.state_change_reason())
                })
                .unwrap_or("no reason given")
                .to_string()
        };
        match state {
            Some(QueryExecutionState::Succeeded) => break,
            Some(QueryExecutionState::Failed) => {
                return Err(AwsError::setup(
                    format!(
                        "the Athena query {id} over {}.{} failed: {}",
                        config.database,
                        config.table,
                        reason()
                    ),
                    format!(
                        "check that the table exists over {} with the columns of the CREATE EXTERNAL \
                         TABLE in docs/report.md, \"The Athena table\" (the query is in the \
                         Athena console's history)",
                        location.data_uri()
                    ),
                ));
            }
            Some(QueryExecutionState::Cancelled) => {
                return Err(AwsError::setup(
                    format!("the Athena query {id} was cancelled: {}", reason()),
                    "someone (or the workgroup's data limit) stopped it: run the report again",
                ));
            }
            _ => {}
        }
        if waited >= MAX_WAIT {
            return Err(AwsError::setup(
                format!(
                    "the Athena query {id} is still running after {} minutes",
                    MAX_WAIT.as_secs() / 60
                ),
                "see it in the Athena console, or narrow the window",
            ));
        }
        tokio::time::sleep(wait).await;
        waited += wait;
        wait = (wait * 2).min(MAX_POLL);
    }
    let billed = stats.data_scanned_bytes.max(MIN_BILLED_BYTES) as f64;
    stats.cost_usd = super::super::round_cost(billed / 1e12 * USD_PER_TB);

    let tag_count = request
        .by
        .iter()
        .filter(|d| matches!(d, Dimension::Tag(_)))
        .count();
    let mut header: Option<Vec<String>> = None;
    let mut token: Option<String> = None;
    loop {
        stats.result_pages += 1;
        let page = athena
            .get_query_results()
            .query_execution_id(&id)
            .max_results(PAGE_ROWS)
            .set_next_token(token.clone())
            .send()
            .await
            .aws("athena:GetQueryResults")?;
        let rows = page.result_set().map(|r| r.rows()).unwrap_or_default();
        for row in rows {
            let values: Vec<Option<&str>> = row.data().iter().map(|d| d.var_char_value()).collect();
            let Some(names) = &header else {
                header = Some(values.iter().map(|v| v.unwrap_or("").to_string()).collect());
                continue;
            };
            stats.result_rows += 1;
            let at = |name: &str| {
                names
                    .iter()
                    .position(|n| n == name)
                    .and_then(|i| values.get(i).copied().flatten())
            };
            let number = |name: &str| {
                at(name)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0)
            };
            let mut principal = None;
            let mut resource = None;
            let mut account = None;
            let mut entries: Vec<(Column, String, Option<String>)> = Vec::new();
            for (i, d) in request.by.iter().enumerate() {
                let v = at(&format!("d{i}"));
                match d {
                    Dimension::Principal => principal = v,
                    Dimension::Tag(_) => {
                        entries.extend(json_map(Column::Tags, v));
                        entries.extend(json_map(Column::ResourceTags, at(&format!("r{i}"))));
                    }
                    Dimension::Profile => resource = v,
                    Dimension::Model => {}
                    Dimension::Account => account = v,
                }
            }
            let tags: Vec<Option<&str>> = if tag_count == 0 {
                Vec::new()
            } else {
                for column in [Column::Tags, Column::ResourceTags] {
                    for key in json_strings(at(&format!("{}_keys", column.name()))) {
                        aggregator.tags.see(column, &key);
                    }
                }
                aggregator.tags.pick(
                    entries
                        .iter()
                        .map(|(c, k, v)| (*c, k.as_str(), v.as_deref())),
                )
            };
            let day = at("usage_day")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .unwrap_or(start);
            aggregator.add(&Line {
                day,
                product_code: at("product_code").unwrap_or(""),
                service_name: at("product_name").unwrap_or(""),
                usage_type: at("usage_type").unwrap_or(""),
                principal,
                tags: &tags,
                resource_id: resource,
                account,
                region: None,
                focus: None,
                line_item_type: at("line_item_type"),
                cost: number("cost"),
                usage: number("usage"),
                count: number("line_items").max(0.0) as u64,
            });
        }
        match page.next_token() {
            Some(next) if !next.is_empty() && Some(next) != token.as_deref() => {
                token = Some(next.to_string());
            }
            _ => break,
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::report::window::Window;

    fn request(by: &[&str], daily: bool) -> Request {
        let config = Config {
            cur_export: Some(Default::default()),
            ..Config::default()
        };
        let window = Window {
            start: chrono::DateTime::parse_from_rfc3339("2026-10-30T00:00:00Z")
                .expect("time")
                .into(),
            end: chrono::DateTime::parse_from_rfc3339("2026-11-02T00:00:00Z")
                .expect("time")
                .into(),
        };
        let by: Vec<String> = by.iter().map(|s| s.to_string()).collect();
        Request::new(&config, window, &by, daily, Some("embedded")).expect("request")
    }

    #[test]
    fn the_query_prunes_partitions_and_groups_as_asked() {
        let config = CurAthenaConfig {
            workgroup: "primary".into(),
            database: "cur".into(),
            table: "bedrock_cur".into(),
            output: None,
        };
        let r = request(&["principal", "tag:iamPrincipal/team"], true);
        let (start, end) = r.days();
        let q = sql(&config, &r, start, end);
        assert!(q.contains("FROM \"cur\".\"bedrock_cur\""), "{q}");
        assert!(
            q.contains("billing_period IN ('2026-10', '2026-11')"),
            "{q}"
        );
        assert!(q.contains("TIMESTAMP '2026-10-30 00:00:00'"), "{q}");
        assert!(q.contains("TIMESTAMP '2026-11-02 00:00:00'"), "{q}");
        assert!(q.contains("line_item_iam_principal AS d0"), "{q}");
        assert!(
            q.contains(
                "json_format(CAST(map_filter(tags, (k, v) -> \
                 lower(regexp_replace(k, '[^\\p{L}\\p{N}]', '')) LIKE '%team') AS JSON)) AS d1"
            ),
            "{q}"
        );
        assert!(q.contains("map_filter(resource_tags"), "{q}");
        assert!(q.contains("AS r1"), "{q}");
        assert!(
            q.contains("array_sort(map_keys(tags)) AS JSON)) AS tags_keys"),
            "{q}"
        );
        assert!(q.contains("AS usage_day"), "{q}");
        assert!(
            q.contains("line_item_line_item_type AS line_item_type"),
            "{q}"
        );
        assert!(q.contains("GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"), "{q}");
        assert!(
            q.contains("line_item_product_code LIKE 'AmazonBedrock%'"),
            "{q}"
        );
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(literal("it's"), "'it''s'");
    }
}
