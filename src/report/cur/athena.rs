//! The Athena engine: the same aggregation as one SQL query over the user's CUR 2.0 table
//! (`[cur_export] athena = { workgroup, catalog, database, table, output }`), for bills too big
//! to read on one machine: the documented table, or one that exists already (the Cloud
//! Intelligence Dashboards', an older one).
//!
//! First the table's columns and partition keys ([`super::table`], `GetTableMetadata`): a
//! table without a column the report needs ends the run before anything is billed, and the
//! query names only the columns the table has. Then `StartQueryExecution`, then `GetQueryExecution` with backoff until the query leaves
//! QUEUED/RUNNING, then `GetQueryResults` page by page (1,000 rows each; the first row of the
//! first page is the header). The query groups by what the report groups by plus the product,
//! usage type and line item type, so the one definition of Bedrock spend and the usage-type → model mapping are
//! applied to its rows by the same [`Aggregator`] as the embedded engine's; its `WHERE` only
//! narrows the scan (partitions of the billing periods touched, where the table has them; the
//! report's days; products whose code or name can be Bedrock). Athena bills the bytes it scans (USD 5 per TB, at least
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
use super::schema::{
    ACCOUNT, COST, LINE_ITEM_TYPE, PRINCIPAL, PRODUCT, PRODUCT_CODE, RESOURCE_ID, USAGE_AMOUNT,
    USAGE_START, USAGE_TYPE,
};
use super::table::{BILLING_PERIOD, BillingPeriod, Table};
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
    /// The table queried, and where its `billing_period` is.
    pub table: Table,
    pub sql: String,
}

/// A string as a SQL literal (`'` doubled).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A NULL of `kind` where the table lacks a column the query would name.
fn null(kind: &str) -> String {
    format!("CAST(NULL AS {kind})")
}

/// The query for the request over `table`: one row per group, product, usage type (and day
/// with `--daily`). A column the table lacks is a NULL of its type, so the rows keep their
/// shape ([`Table::check`] says what that costs).
pub fn sql(
    config: &CurAthenaConfig,
    table: &Table,
    request: &Request,
    start: NaiveDate,
    end: NaiveDate,
) -> String {
    let column = |name: &str, kind: &str| {
        if table.has(name) {
            name.to_string()
        } else {
            null(kind)
        }
    };
    let product_name = if table.has(PRODUCT) {
        format!(
            "COALESCE({})",
            PRODUCT_NAME_KEYS
                .iter()
                .map(|k| format!("element_at({PRODUCT}, {})", literal(k)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        null("varchar")
    };
    let maps = [Column::Tags, Column::ResourceTags];
    let mut select: Vec<String> = Vec::new();
    for (i, d) in request.by.iter().enumerate() {
        let expr = match d {
            Dimension::Principal => column(PRINCIPAL, "varchar"),
            // The maps narrowed to the keys that can be the one asked for (every form of it
            // ends with the same letters and digits); which one it is, and which of several
            // wins, is decided by the same [`TagKey`] as the embedded engine's. Athena engine
            // version 3 runs Trino's functions: `map_filter` takes a lambda (Map functions),
            // `\p{L}`/`\p{N}` are Unicode categories (Regular expression functions), a map with
            // varchar keys casts to JSON and `json_format` gives its text (JSON functions).
            Dimension::Tag(key) => {
                let suffix = literal(&format!("%{}", TagKey::new(key).suffix()));
                let narrowed = |map: Column| {
                    let name = map.name();
                    if !table.has(name) {
                        return null("varchar");
                    }
                    format!(
                        "json_format(CAST(map_filter({name}, (k, v) -> \
                         lower(regexp_replace(k, '[^\\p{{L}}\\p{{N}}]', '')) LIKE {suffix}) AS JSON))"
                    )
                };
                select.push(format!("{} AS r{i}", narrowed(Column::ResourceTags)));
                narrowed(Column::Tags)
            }
            Dimension::Profile => column(RESOURCE_ID, "varchar"),
            // The model comes from the usage type, which every row carries.
            Dimension::Model => null("varchar"),
            Dimension::Account => column(ACCOUNT, "varchar"),
        };
        select.push(format!("{expr} AS d{i}"));
    }
    if request.by.iter().any(|d| matches!(d, Dimension::Tag(_))) {
        // Every key the lines have, so a key found nowhere can be answered with the keys there
        // are (few distinct sets: a handful of extra groups).
        for map in maps {
            let name = map.name();
            let keys = if table.has(name) {
                format!("json_format(CAST(array_sort(map_keys({name})) AS JSON))")
            } else {
                null("varchar")
            };
            select.push(format!("{keys} AS {name}_keys"));
        }
    }
    if request.daily {
        select.push(format!(
            "date_format({USAGE_START}, '%Y-%m-%d') AS usage_day"
        ));
    }
    // Usage, or a credit, refund or discount that the report shows apart.
    select.push(format!(
        "{} AS line_item_type",
        column(LINE_ITEM_TYPE, "varchar")
    ));
    let mut keys: Vec<String> = (1..=select.len()).map(|n| n.to_string()).collect();
    select.push(format!("{PRODUCT_CODE} AS product_code"));
    select.push(format!("{product_name} AS product_name"));
    select.push(format!("{USAGE_TYPE} AS usage_type"));
    let n = select.len();
    keys.extend([n - 2, n - 1, n].iter().map(|k| k.to_string()));
    select.push(format!("SUM({COST}) AS cost"));
    select.push(format!("SUM({}) AS usage", column(USAGE_AMOUNT, "double")));
    select.push("COUNT(*) AS line_items".into());
    let mut filters = Vec::new();
    if table.billing_period != BillingPeriod::Absent {
        let partitions = periods(start, end)
            .iter()
            .map(|p| literal(p))
            .collect::<Vec<_>>()
            .join(", ");
        filters.push(format!("{BILLING_PERIOD} IN ({partitions})"));
    }
    filters.push(format!("{USAGE_START} >= TIMESTAMP '{start} 00:00:00'"));
    filters.push(format!("{USAGE_START} < TIMESTAMP '{end} 00:00:00'"));
    if table.has(LINE_ITEM_TYPE) {
        filters.push(format!(
            "COALESCE({LINE_ITEM_TYPE}, '') <> {}",
            literal(TAX)
        ));
    }
    let code = format!(
        "{PRODUCT_CODE} LIKE {}",
        literal(&format!("{PRODUCT_CODE_PREFIX}%"))
    );
    filters.push(if table.has(PRODUCT) {
        format!(
            "({code} OR {product_name} LIKE {})",
            literal(&format!("%{SERVICE_NAME_WORD}%"))
        )
    } else {
        code
    });
    format!(
        "SELECT {select}\nFROM \"{db}\".\"{table}\"\nWHERE {filters}\nGROUP BY {keys}",
        select = select.join(",\n       "),
        db = config.database,
        table = config.table,
        filters = filters.join("\n  AND "),
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
    // Before anything is billed: a table the report cannot use ends the run here.
    let table = super::table::describe(athena, config).await?;
    aggregator.notes.extend(table.check(request)?);
    let query = sql(config, &table, request, start, end);
    let mut start_query = athena
        .start_query_execution()
        .query_string(&query)
        .work_group(&config.workgroup)
        .query_execution_context(
            QueryExecutionContext::builder()
                .catalog(&config.catalog)
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
        table,
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
                        "check that the table is over a CUR 2.0 export ({} for this config) with \
                         the types of the CREATE EXTERNAL TABLE in docs/report.md, \"The Athena \
                         table\" (the query is in the Athena console's history)",
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

    fn request(by: &[&str], daily: bool) -> Request {
        super::super::test_request(by, daily)
    }

    fn config() -> CurAthenaConfig {
        CurAthenaConfig {
            workgroup: "primary".into(),
            catalog: "AwsDataCatalog".into(),
            database: "cur".into(),
            table: "bedrock_cur".into(),
            output: None,
            location: None,
        }
    }

    /// The columns of the CREATE EXTERNAL TABLE in docs/report.md, less those in `without`,
    /// partitioned by `partitions`.
    fn table(without: &[&str], partitions: &[&str]) -> Table {
        let columns = [
            ("line_item_usage_account_id", "string"),
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_product_code", "string"),
            ("product", "map<string,string>"),
            ("line_item_usage_type", "string"),
            ("line_item_line_item_type", "string"),
            ("line_item_resource_id", "string"),
            ("line_item_usage_amount", "double"),
            ("line_item_unblended_cost", "double"),
            ("resource_tags", "map<string,string>"),
            ("tags", "map<string,string>"),
            ("line_item_iam_principal", "string"),
        ];
        Table::new(
            "AwsDataCatalog",
            "cur",
            "bedrock_cur",
            columns
                .into_iter()
                .filter(|(n, _)| !without.contains(n))
                .map(|(n, t)| (n, Some(t))),
            partitions.iter().map(|p| (*p, Some("string"))),
        )
    }

    #[test]
    fn the_query_prunes_partitions_and_groups_as_asked() {
        let r = request(&["principal", "tag:iamPrincipal/team"], true);
        let (start, end) = r.days();
        let q = sql(&config(), &table(&[], &["billing_period"]), &r, start, end);
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
    fn the_query_names_only_the_columns_the_table_has() {
        let r = request(&["principal", "tag:team", "account"], false);
        let (start, end) = r.days();
        // An older table: no prefixed tags map, no principals, no product map, and not
        // partitioned by billing period.
        let old = table(
            &["tags", "line_item_iam_principal", "product"],
            &["year", "month"],
        );
        let q = sql(&config(), &old, &r, start, end);
        for absent in [
            "line_item_iam_principal",
            "map_filter(tags",
            "map_keys(tags)",
            "product,",
            "element_at",
            "billing_period",
        ] {
            assert!(!q.contains(absent), "{absent} in {q}");
        }
        assert!(q.contains("CAST(NULL AS varchar) AS d0"), "{q}");
        assert!(q.contains("map_filter(resource_tags"), "{q}");
        assert!(q.contains("CAST(NULL AS varchar) AS d1"), "{q}");
        assert!(q.contains("CAST(NULL AS varchar) AS tags_keys"), "{q}");
        assert!(q.contains("line_item_usage_account_id AS d2"), "{q}");
        assert!(q.contains("CAST(NULL AS varchar) AS product_name"), "{q}");
        assert!(
            q.contains("WHERE line_item_usage_start_date >= TIMESTAMP '2026-10-30 00:00:00'"),
            "{q}"
        );
        assert!(
            q.contains("AND line_item_product_code LIKE 'AmazonBedrock%'\nGROUP BY"),
            "{q}"
        );
        // The Cloud Intelligence Dashboards' table: four partition keys, billing_period last.
        let cid = table(
            &[],
            &["source_account_id", "report_name", "data", "billing_period"],
        );
        let q = sql(&config(), &cid, &r, start, end);
        assert!(
            q.contains("WHERE billing_period IN ('2026-10', '2026-11')"),
            "{q}"
        );
    }

    #[test]
    fn literals_are_quoted() {
        assert_eq!(literal("it's"), "'it''s'");
    }
}
