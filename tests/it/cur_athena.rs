//! `report --source cur` through Athena over a table that exists already: the Cloud
//! Intelligence Dashboards' `cid_data_export.cur2` (partitioned by `source_account_id`,
//! `report_name`, `data` and `billing_period`, per the data-exports-aggregation.yaml template
//! of aws-solutions-library-samples/cloud-intelligence-dashboards-data-collection), an older
//! version of it without `tags` and `line_item_iam_principal`, a table without a
//! `billing_period`, and tables the report cannot use. The table is read first
//! (`GetTableMetadata`, the stand-in's: moto has none); the query runs in moto's Athena, whose
//! records of query executions hold the SQL that was sent, and its results are queued there:
//! what the query would return for the generator's lines.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use regex::Regex;
use serde_json::{Value, json};

use crate::cur::{
    ALICE, assert_to_the_cent, athena_env_with, athena_row, expected, lines, periods, queue_athena,
    rows,
};
use crate::support::cur::{CurLine, period};
use crate::support::env::{REGION, Run, TestEnv};
use crate::support::standin::AthenaTable;

const CID_CONFIG: &str = "[cur_export]\nenabled = false\nread = \"s3://cid-123456789012-data-exports/cur2/123456789012/cid-cur2\"\nathena = { database = \"cid_data_export\", table = \"cur2\", output = \"s3://athena-results-123456789012/bedrock/\" }\n";

/// The CID table's partition keys, in the template's order.
const CID_PARTITIONS: [(&str, &str); 4] = [
    ("source_account_id", "string"),
    ("report_name", "string"),
    ("data", "string"),
    ("billing_period", "string"),
];

/// Columns of the CID CUR 2.0 table with the template's types: those the report reads and a
/// few it does not. `without` leaves some out, as older versions of the template did (before
/// January 2026 no `tags`, before April 2026 no `line_item_iam_principal`).
fn cid_columns(without: &[&str]) -> Vec<(&'static str, &'static str)> {
    [
        ("bill_billing_period_start_date", "timestamp"),
        ("bill_payer_account_id", "string"),
        ("cost_category", "map<string,string>"),
        ("line_item_line_item_type", "string"),
        ("line_item_product_code", "string"),
        ("line_item_resource_id", "string"),
        ("line_item_iam_principal", "string"),
        ("line_item_net_unblended_cost", "double"),
        ("line_item_unblended_cost", "double"),
        ("line_item_usage_account_id", "string"),
        ("line_item_usage_amount", "double"),
        ("line_item_usage_end_date", "timestamp"),
        ("line_item_usage_start_date", "timestamp"),
        ("line_item_usage_type", "string"),
        ("product", "map<string,string>"),
        ("product_region_code", "string"),
        ("product_servicecode", "string"),
        ("resource_tags", "map<string,string>"),
        ("tags", "map<string,string>"),
    ]
    .into_iter()
    .filter(|(n, _)| !without.contains(n))
    .collect()
}

fn cid_table(without: &[&str], partitions: &[(&str, &str)]) -> AthenaTable {
    AthenaTable::new(
        REGION,
        "cid_data_export",
        "cur2",
        &cid_columns(without),
        partitions,
    )
}

/// An environment with the CID config, `table` in the stand-in's `AwsDataCatalog` and the
/// results bucket.
fn cid_env(table: AthenaTable) -> TestEnv {
    athena_env_with(CID_CONFIG, table)
}

/// What the query returns for `lines` over `[start, end)`, grouped by `key` as `d0`: the lines
/// its `WHERE` keeps (the days, no tax, products whose code or name can be Bedrock), summed
/// per group, line item type, product and usage type, header first.
fn answer(
    lines: &[CurLine],
    start: NaiveDate,
    end: NaiveDate,
    key: impl Fn(&CurLine) -> Option<String>,
) -> Value {
    type Group = (Option<String>, String, String, String, String);
    let mut groups: BTreeMap<Group, (f64, f64, u64)> = BTreeMap::new();
    for l in lines.iter().filter(|l| {
        l.day >= start
            && l.day < end
            && l.line_item_type != "Tax"
            && (l.product_code.starts_with("AmazonBedrock") || l.product_name.contains("Bedrock"))
    }) {
        let g = groups
            .entry((
                key(l),
                l.line_item_type.clone(),
                l.product_code.clone(),
                l.product_name.clone(),
                l.usage_type.clone(),
            ))
            .or_insert((0.0, 0.0, 0));
        g.0 += l.cost;
        g.1 += l.usage;
        g.2 += 1;
    }
    let mut out = vec![athena_row(&[
        Some("d0"),
        Some("line_item_type"),
        Some("product_code"),
        Some("product_name"),
        Some("usage_type"),
        Some("cost"),
        Some("usage"),
        Some("line_items"),
    ])];
    for ((d0, kind, code, name, usage_type), (cost, usage, count)) in groups {
        let (cost, usage, count) = (cost.to_string(), usage.to_string(), count.to_string());
        out.push(athena_row(&[
            d0.as_deref(),
            Some(&kind),
            Some(&code),
            Some(&name),
            Some(&usage_type),
            Some(&cost),
            Some(&usage),
            Some(&count),
        ]));
    }
    json!([{ "rows": out, "column_info": [] }])
}

/// The columns (and partition keys) a query names: CUR 2.0 names outside string literals that
/// are not an output alias (`… AS product_code`).
fn columns_named(sql: &str) -> BTreeSet<String> {
    let literals = Regex::new(r"'[^']*'").expect("regex");
    let token = Regex::new(
        r"(AS\s+)?\b(line_item_[a-z_]+|bill_[a-z_]+|product(?:_[a-z_]+)?|resource_tags|tags|cost_category|billing_period|source_account_id|report_name)\b",
    )
    .expect("regex");
    let text = literals.replace_all(sql, "''");
    token
        .captures_iter(&text)
        .filter(|c| c.get(1).is_none())
        .map(|c| c[2].to_string())
        .collect()
}

/// The queries moto's Athena ran: (SQL, catalog, database), oldest first.
fn queries_run(env: &TestEnv) -> Vec<(String, Option<String>, Option<String>)> {
    env.block_on(async {
        let listed = env
            .aws
            .athena
            .list_query_executions()
            .send()
            .await
            .expect("ListQueryExecutions");
        let mut out = Vec::new();
        for id in listed.query_execution_ids() {
            let got = env
                .aws
                .athena
                .get_query_execution()
                .query_execution_id(id)
                .send()
                .await
                .expect("GetQueryExecution");
            let e = got.query_execution().expect("QueryExecution");
            let context = e.query_execution_context();
            out.push((
                e.query().unwrap_or_default().to_string(),
                context.and_then(|c| c.catalog()).map(str::to_string),
                context.and_then(|c| c.database()).map(str::to_string),
            ));
        }
        out
    })
}

/// Every column the SQL names is one the table has.
#[track_caller]
fn assert_names_only_columns_of(sql: &str, table: &AthenaTable) {
    let has: BTreeSet<String> = table
        .columns
        .iter()
        .chain(&table.partition_keys)
        .map(|(n, _)| n.clone())
        .collect();
    let named = columns_named(sql);
    assert!(
        named.is_subset(&has),
        "the query names {:?}, which the table lacks:\n{sql}",
        named.difference(&has).collect::<Vec<_>>()
    );
}

fn operations(env: &TestEnv) -> Vec<String> {
    env.proxy.calls().into_iter().map(|c| c.operation).collect()
}

fn report(env: &TestEnv, start: NaiveDate, end: NaiveDate, by: &str) -> Run {
    crate::cur::cur_report(env, start, end, &["--by", by, "-o", "json"])
}

#[test]
fn the_cloud_intelligence_dashboards_table_is_pruned_by_billing_period_and_read_to_the_cent() {
    let (_, p2) = periods();
    let lines = lines(p2);
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let table = cid_table(&[], &CID_PARTITIONS);
    let env = cid_env(table.clone());
    queue_athena(&env, answer(&lines, start, end, |l| l.principal.clone()));
    let doc = report(&env, start, end, "principal").json();
    assert_eq!(doc["engine"], "athena");
    assert_to_the_cent(
        &rows(&doc, "principal_arn"),
        &expected(&lines, start, end, |l| l.principal.clone()),
    );
    assert_eq!(doc["athena"]["table"]["name"], "cid_data_export.cur2");
    assert_eq!(doc["athena"]["table"]["billing_period"], "partition");
    let notes = doc["notes"].to_string();
    assert!(
        !notes.contains("cid_data_export.cur2"),
        "nothing is missing from this table: {notes}"
    );

    // The table was read before the query, and the query is the one moto ran: in the CID
    // database of the Glue Data Catalog, pruned to the two billing periods, naming only the
    // table's columns.
    let ops = operations(&env);
    let metadata = ops.iter().position(|o| o == "GetTableMetadata");
    let started = ops.iter().position(|o| o == "StartQueryExecution");
    assert!(
        matches!((metadata, started), (Some(m), Some(s)) if m < s),
        "{ops:?}"
    );
    let run = queries_run(&env);
    assert_eq!(run.len(), 1, "{run:?}");
    let (sql, catalog, database) = &run[0];
    assert_eq!(catalog.as_deref(), Some("AwsDataCatalog"));
    assert_eq!(database.as_deref(), Some("cid_data_export"));
    assert!(sql.contains("FROM \"cid_data_export\".\"cur2\""), "{sql}");
    assert!(
        sql.contains(&format!(
            "WHERE billing_period IN ('{}', '{}')",
            period(start),
            period(p2)
        )),
        "{sql}"
    );
    assert!(sql.contains("line_item_iam_principal AS d0"), "{sql}");
    assert_names_only_columns_of(sql, &table);
}

#[test]
fn an_older_table_without_principals_or_tags_reports_with_the_note_and_a_query_that_runs() {
    let (_, p2) = periods();
    let lines = lines(p2);
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    // The template before April 2026: no line_item_iam_principal; before January 2026: no
    // tags either.
    let table = cid_table(&["line_item_iam_principal", "tags"], &CID_PARTITIONS);
    let env = cid_env(table.clone());

    // By principal: the query leaves the column out (NULL), so every row is unattributed;
    // the total is whole, and the note says why, naming the table.
    queue_athena(&env, answer(&lines, start, end, |_| None));
    let doc = report(&env, start, end, "principal").json();
    let total: f64 = expected(&lines, start, end, |_| None).values().sum();
    assert_to_the_cent(
        &rows(&doc, "principal_arn"),
        &BTreeMap::from([(None, total)]),
    );
    let notes = doc["notes"].to_string();
    for needed in [
        "principals are missing",
        "cid_data_export.cur2",
        "Include caller identity (IAM principal) allocation data",
        "ADD COLUMNS (line_item_iam_principal string)",
    ] {
        assert!(notes.contains(needed), "{needed}: {notes}");
    }

    // By tag: only resource_tags is read, and the note says what that leaves out.
    let alice_team = |l: &CurLine| {
        (l.principal.as_deref() == Some(ALICE)).then(|| r#"{"user_team":"search"}"#.to_string())
    };
    let mut resource_answer = answer(&lines, start, end, alice_team);
    // The query returns the narrowed resource_tags as r0 and their keys, and NULL for what
    // would come from the missing tags column (d0, tags_keys): the first column is r0, and
    // each row gets its resource_tags_keys.
    if let Some(rows) = resource_answer[0]["rows"].as_array_mut() {
        for (i, row) in rows.iter_mut().enumerate() {
            let keys = if i == 0 {
                json!({"VarCharValue": "resource_tags_keys"})
            } else if row["Data"][0].get("VarCharValue").is_some() {
                json!({"VarCharValue": r#"["user_team"]"#})
            } else {
                json!({"VarCharValue": "[]"})
            };
            if let Some(data) = row["Data"].as_array_mut() {
                data.push(keys);
            }
        }
        rows[0]["Data"][0] = json!({"VarCharValue": "r0"});
    }
    queue_athena(&env, resource_answer);
    let doc = report(&env, start, end, "tag:team").json();
    let by_team = rows(&doc, "tag:team");
    let search: f64 = expected(&lines, start, end, |l| {
        (l.principal.as_deref() == Some(ALICE)).then(|| "search".to_string())
    })[&Some("search".to_string())];
    assert_eq!(
        crate::cur::cents(by_team[&Some("search".to_string())]),
        crate::cur::cents(search),
        "{by_team:?}"
    );
    let notes = doc["notes"].to_string();
    assert!(notes.contains("only resource_tags is read"), "{notes}");

    // Both queries name only the table's columns: neither would fail in Athena.
    let run = queries_run(&env);
    assert_eq!(run.len(), 2, "{run:?}");
    for (sql, _, _) in &run {
        assert!(!sql.contains("line_item_iam_principal"), "{sql}");
        assert!(sql.contains("billing_period IN ("), "{sql}");
        assert_names_only_columns_of(sql, &table);
    }
    assert!(
        run[1].0.contains("map_filter(resource_tags"),
        "{}",
        run[1].0
    );
}

#[test]
fn a_table_without_billing_period_is_filtered_by_date_only() {
    let (_, p2) = periods();
    let lines = lines(p2);
    let (start, end) = (p2 - Duration::days(3), p2 + Duration::days(3));
    let table = cid_table(&[], &[("year", "string"), ("month", "string")]);
    let env = cid_env(table.clone());
    queue_athena(&env, answer(&lines, start, end, |l| l.principal.clone()));
    let doc = report(&env, start, end, "principal").json();
    assert_to_the_cent(
        &rows(&doc, "principal_arn"),
        &expected(&lines, start, end, |l| l.principal.clone()),
    );
    assert_eq!(doc["athena"]["table"]["billing_period"], "absent");
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("not partitioned by billing_period"),
        "{notes}"
    );
    let run = queries_run(&env);
    let sql = &run[0].0;
    assert!(!sql.contains("billing_period"), "{sql}");
    assert!(
        sql.contains(&format!(
            "WHERE line_item_usage_start_date >= TIMESTAMP '{start} 00:00:00'"
        )),
        "{sql}"
    );
    assert_names_only_columns_of(sql, &table);
}

#[test]
fn a_table_the_report_cannot_use_is_refused_before_any_query() {
    // A required column missing: the table, the column and the fix, exit 1.
    let env = cid_env(cid_table(&["line_item_unblended_cost"], &CID_PARTITIONS));
    let run = env.run(&["report", "--source", "cur", "--by", "principal"]);
    run.assert_code(1);
    for needed in [
        "cid_data_export.cur2",
        "line_item_unblended_cost",
        "nothing scanned or billed",
        "ALTER TABLE cid_data_export.cur2 ADD COLUMNS",
    ] {
        assert!(run.stderr.contains(needed), "{needed}: {}", run.stderr);
    }
    assert!(
        operations(&env).iter().any(|o| o == "GetTableMetadata"),
        "the table was read"
    );
    assert!(
        !operations(&env).iter().any(|o| o == "StartQueryExecution"),
        "no query was started"
    );
    assert!(queries_run(&env).is_empty(), "moto ran no query");

    // No such table: Athena's answer and what to check, exit 1, no query.
    let env = cid_env(cid_table(&[], &CID_PARTITIONS));
    env.write_config(&CID_CONFIG.replace("table = \"cur2\"", "table = \"cur_2\""));
    let run = env.run(&["report", "--source", "cur"]);
    run.assert_code(1);
    for needed in [
        "athena:GetTableMetadata",
        "MetadataException",
        "table \"cur_2\"",
        "SHOW TABLES IN cid_data_export",
    ] {
        assert!(run.stderr.contains(needed), "{needed}: {}", run.stderr);
    }
    assert!(queries_run(&env).is_empty(), "moto ran no query");
}
