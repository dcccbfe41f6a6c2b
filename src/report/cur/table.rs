//! The Athena table the Athena engine queries, as Athena describes it before any query runs:
//! its columns and partition keys (`GetTableMetadata`), so that the query names only columns
//! the table has and prunes on `billing_period` only where the table can.
//!
//! Tables over a CUR 2.0 export differ. The one docs/report.md shows is partitioned by
//! `billing_period` alone. The Cloud Intelligence Dashboards' (`cid_data_export.cur2`, from
//! the data-exports-aggregation.yaml template of
//! aws-solutions-library-samples/cloud-intelligence-dashboards-data-collection) is partitioned
//! by `source_account_id`, `report_name`, `data` and `billing_period`, one table over every
//! payer's export; the template added its `tags` column in January 2026 (commit 653f455) and
//! `line_item_iam_principal` in April 2026 (3044bff), and a table made before then keeps its
//! columns until its crawler merges new ones. Other tables may have no `billing_period` at
//! all. A missing column the report cannot do without ([`REQUIRED`]) ends the run before the
//! query, so nothing is scanned or billed; a missing optional one is left out of the query
//! (NULL in its place) and a note says what the report lacks for it.
//!
//! Why Athena's `GetTableMetadata` and not Glue's `GetTable`: it is the engine that runs the
//! query saying what it sees, for any catalog it can query (`AwsDataCatalog` is the account's
//! Glue Data Catalog; another Glue catalog or a federated one registered in Athena works the
//! same); it is in the Athena SDK the engine already uses (no second, large SDK crate); and
//! its permission is `athena:GetTableMetadata` on the data catalog (Service Authorization
//! Reference, Amazon Athena: resource type `datacatalog`, required), beside the
//! `glue:GetTable` on the table that the query itself already needs.

use std::collections::BTreeMap;

use aws_sdk_athena::types::Column;
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt};
use crate::config::CurAthenaConfig;

use super::schema::{
    ACCOUNT, COST, LINE_ITEM_TYPE, PRINCIPAL, PRINCIPAL_OPTION, PRODUCT, REQUIRED, RESOURCE_ID,
    RESOURCE_TAGS, TAGS, USAGE_AMOUNT, USAGE_START, principals_missing,
};
use super::{Dimension, Request};

/// The partition the query prunes on: `BILLING_PERIOD=YYYY-MM` in the export's folders, the
/// `billing_period` partition key of both the documented table and CID's.
pub const BILLING_PERIOD: &str = "billing_period";

/// Where the table has `billing_period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    /// A partition key: `billing_period IN (…)` reads only those periods' partitions.
    Partition,
    /// A column: the filter holds, but every period's data is scanned.
    Column,
    /// Neither (or not a string the `YYYY-MM` literals compare to): only the usage dates
    /// filter, and every period's data is scanned.
    Absent,
}

/// A table's columns and partition keys, by lower-case name (Glue keeps names in lower case;
/// Athena matches them case-insensitively).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub catalog: String,
    /// `database.table`, as the messages name it.
    pub name: String,
    /// Name → type (`string`, `map<string,string>`, …; empty when Athena gives none).
    #[serde(skip)]
    columns: BTreeMap<String, String>,
    #[serde(skip)]
    partition_keys: BTreeMap<String, String>,
    pub billing_period: BillingPeriod,
}

impl Table {
    /// The table from its columns and partition keys, each `(name, type)`.
    pub fn new<'a>(
        catalog: &str,
        database: &str,
        table: &str,
        columns: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
        partition_keys: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Table {
        let columns = by_name(columns);
        let partition_keys = by_name(partition_keys);
        // The query compares it to 'YYYY-MM' literals: a string type (Hive's `string`,
        // `varchar(n)`, `char(n)`), or none given.
        let text = |t: &String| {
            t.is_empty()
                || t.starts_with("string")
                || t.starts_with("varchar")
                || t.starts_with("char")
        };
        let billing_period = if partition_keys.get(BILLING_PERIOD).is_some_and(text) {
            BillingPeriod::Partition
        } else if columns.get(BILLING_PERIOD).is_some_and(text) {
            BillingPeriod::Column
        } else {
            BillingPeriod::Absent
        };
        Table {
            catalog: catalog.to_string(),
            name: format!("{database}.{table}"),
            columns,
            partition_keys,
            billing_period,
        }
    }

    /// Whether the query can name `column` (a column or a partition key).
    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column) || self.partition_keys.contains_key(column)
    }

    /// A column the query computes on whose type it cannot compute with: the usage start is
    /// compared to `TIMESTAMP` literals and formatted by `date_format` (Trino's date and time
    /// functions take a timestamp), the cost and usage amount are summed (`sum` takes numbers).
    /// `(column, its type, what it must be)`; a column Athena gives no type for passes.
    fn mistyped(&self) -> Option<(&'static str, String, &'static str)> {
        let type_of = |c: &str| {
            self.columns
                .get(c)
                .or_else(|| self.partition_keys.get(c))
                .filter(|t| !t.is_empty())
        };
        let numeric = |t: &str| {
            [
                "double", "float", "real", "decimal", "bigint", "int", "smallint", "tinyint",
            ]
            .iter()
            .any(|n| t.starts_with(n))
        };
        if let Some(t) = type_of(USAGE_START).filter(|t| !t.starts_with("timestamp")) {
            return Some((USAGE_START, t.clone(), "a timestamp"));
        }
        for column in [COST, USAGE_AMOUNT] {
            if let Some(t) = type_of(column).filter(|t| !numeric(t)) {
                return Some((column, t.clone(), "a number (double)"));
            }
        }
        None
    }

    /// The table as a reference to it and to where its columns are described.
    fn subject(&self) -> String {
        format!("the Athena table {} (catalog {})", self.name, self.catalog)
    }

    /// Whether the table can answer `request`: an error for a column the report cannot do
    /// without, else the notes for the optional ones it lacks.
    pub fn check(&self, request: &Request) -> Result<Vec<String>, AwsError> {
        if let Some(missing) = REQUIRED.iter().find(|c| !self.has(c)) {
            return Err(AwsError::setup(
                format!(
                    "{} has no {missing} column, which the report cannot do without: no query \
                     was run (nothing scanned or billed)",
                    self.subject()
                ),
                format!(
                    "point [cur_export] athena at a table over a CUR 2.0 export (database and \
                     table; the Cloud Intelligence Dashboards' is cid_data_export.cur2), or add \
                     the column to this one (ALTER TABLE {} ADD COLUMNS ({missing} …), or run \
                     the crawler that keeps it); docs/report.md, \"An existing Athena table\"",
                    self.name
                ),
            ));
        }
        if let Some((column, found, wanted)) = self.mistyped() {
            return Err(AwsError::setup(
                format!(
                    "{} has {column} of type {found}, where the query needs {wanted}: no query \
                     was run (nothing scanned or billed)",
                    self.subject()
                ),
                format!(
                    "a table crawled from CSV types every column as a string: point [cur_export] \
                     athena at a table over the export's Parquet files, or define the column as \
                     {wanted} (CUR 2.0 data dictionary: {USAGE_START} timestamp, {COST} and \
                     {USAGE_AMOUNT} double); docs/report.md, \"An existing Athena table\""
                ),
            ));
        }
        let mut notes = Vec::new();
        let lacks = |column: &str| !self.has(column);
        let add_column = |column: &str, kind: &str| {
            format!(
                "add the column to the table (ALTER TABLE {} ADD COLUMNS ({column} {kind}), or \
                 run the crawler that keeps it)",
                self.name
            )
        };
        for d in &request.by {
            match d {
                Dimension::Principal if lacks(PRINCIPAL) => notes.push(principals_missing(
                    &self.subject(),
                    &format!(
                        "so its export was made without {PRINCIPAL_OPTION}, or the table was \
                         defined before the export had the column"
                    ),
                    &format!(
                        "turn the option on for the export (new data only) and {}",
                        add_column(PRINCIPAL, "string")
                    ),
                )),
                Dimension::Tag(key) if lacks(TAGS) && lacks(RESOURCE_TAGS) => notes.push(format!(
                    "tag:{key}: {} has neither a tags nor a resource_tags column: every row is \
                     unattributed by tag; {}",
                    self.subject(),
                    add_column(TAGS, "map<string,string>")
                )),
                Dimension::Tag(key) if lacks(TAGS) => notes.push(format!(
                    "tag:{key}: {} has no tags column (the map with prefixed keys, \
                     iamPrincipal/, accountTag/, costCategory/, resourceTags/): only \
                     resource_tags is read, so IAM principal, account and cost category tags \
                     are not found; {}",
                    self.subject(),
                    add_column(TAGS, "map<string,string>")
                )),
                Dimension::Profile if lacks(RESOURCE_ID) => notes.push(format!(
                    "{} has no {RESOURCE_ID} column: every row is unattributed by profile; {}",
                    self.subject(),
                    add_column(RESOURCE_ID, "string")
                )),
                Dimension::Account if lacks(ACCOUNT) => notes.push(format!(
                    "{} has no {ACCOUNT} column: every row is unattributed by account; {}",
                    self.subject(),
                    add_column(ACCOUNT, "string")
                )),
                _ => {}
            }
        }
        if lacks(PRODUCT) {
            notes.push(format!(
                "{} has no product column: Marketplace-billed models (\"… (Amazon Bedrock \
                 Edition)\") cannot be recognised and models cannot be named; {}",
                self.subject(),
                add_column(PRODUCT, "map<string,string>")
            ));
        }
        if lacks(LINE_ITEM_TYPE) {
            notes.push(format!(
                "{} has no {LINE_ITEM_TYPE} column: credits, refunds and tax cannot be told \
                 from usage and are counted as usage; {}",
                self.subject(),
                add_column(LINE_ITEM_TYPE, "string")
            ));
        }
        if lacks(USAGE_AMOUNT) {
            notes.push(format!(
                "{} has no {USAGE_AMOUNT} column: usage amounts are shown as 0; {}",
                self.subject(),
                add_column(USAGE_AMOUNT, "double")
            ));
        }
        if self.billing_period != BillingPeriod::Partition {
            // Athena bills the bytes a query scans: without the partition, every period's.
            notes.push(format!(
                "{} is not partitioned by {BILLING_PERIOD}: the query filters on the usage \
                 dates, but Athena scans (and bills) every billing period's data; partition \
                 it by {BILLING_PERIOD} (docs/report.md, \"The Athena table\")",
                self.subject()
            ));
        }
        Ok(notes)
    }
}

/// Names and types in lower case, by name.
fn by_name<'a>(
    items: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    items
        .into_iter()
        .map(|(n, t)| (n.to_lowercase(), t.unwrap_or("").to_lowercase()))
        .collect()
}

fn pairs(columns: &[Column]) -> impl Iterator<Item = (&str, Option<&str>)> {
    columns.iter().map(|c| (c.name(), c.r#type()))
}

/// Reads the table's columns and partition keys (`GetTableMetadata`, Athena API reference:
/// `CatalogName`, `DatabaseName`, `TableName`, and `WorkGroup`, "required if requesting an IAM
/// Identity Center enabled AWS Glue Data Catalog"; the answer's `TableMetadata` has `Columns`
/// and `PartitionKeys`, each a name and a type).
pub async fn describe(
    athena: &aws_sdk_athena::Client,
    config: &CurAthenaConfig,
) -> Result<Table, AwsError> {
    let got = athena
        .get_table_metadata()
        .catalog_name(&config.catalog)
        .database_name(&config.database)
        .table_name(&config.table)
        .work_group(&config.workgroup)
        .send()
        .await
        .aws("athena:GetTableMetadata")
        .map_err(|e| {
            // Athena answers a table or database that is not in the catalog with
            // MetadataException, Glue's EntityNotFoundException in its message.
            if e.message.contains("EntityNotFound") || e.message.contains("not found") {
                let hint = format!(
                    "check [cur_export] athena: database {:?}, table {:?}, catalog {:?} (SHOW \
                     TABLES IN {} in the Athena console lists the database's tables; the Cloud \
                     Intelligence Dashboards' table is database = \"cid_data_export\", table = \
                     \"cur2\")",
                    config.database, config.table, config.catalog, config.database
                );
                e.with_hint(hint)
            } else {
                e
            }
        })?;
    let Some(metadata) = got.table_metadata() else {
        return Err(AwsError::bad_response(
            "athena:GetTableMetadata",
            "TableMetadata",
        ));
    };
    Ok(Table::new(
        &config.catalog,
        &config.database,
        &config.table,
        pairs(metadata.columns()),
        pairs(metadata.partition_keys()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(by: &[&str]) -> Request {
        super::super::test_request(by, false)
    }

    const CORE: [(&str, Option<&str>); 7] = [
        ("line_item_usage_start_date", Some("timestamp")),
        ("line_item_product_code", Some("string")),
        ("line_item_usage_type", Some("string")),
        ("line_item_unblended_cost", Some("double")),
        ("line_item_usage_amount", Some("double")),
        ("line_item_line_item_type", Some("string")),
        ("product", Some("map<string,string>")),
    ];

    fn table(extra: &[(&'static str, Option<&'static str>)], partitions: &[&'static str]) -> Table {
        Table::new(
            "AwsDataCatalog",
            "cid_data_export",
            "cur2",
            CORE.iter().chain(extra).copied(),
            partitions.iter().map(|p| (*p, Some("string"))),
        )
    }

    /// A table crawled from CSV types every column as a string: refused before the query.
    #[test]
    fn columns_the_query_computes_on_must_have_their_types() {
        let typed = |start: &'static str, cost: &'static str| {
            Table::new(
                "AwsDataCatalog",
                "cur",
                "t",
                [
                    ("line_item_usage_start_date", Some(start)),
                    ("line_item_product_code", Some("string")),
                    ("line_item_usage_type", Some("string")),
                    ("line_item_unblended_cost", Some(cost)),
                ],
                [("billing_period", Some("string"))],
            )
        };
        let r = request(&["model"]);
        assert!(typed("timestamp", "double").check(&r).is_ok());
        assert!(typed("timestamp(3)", "decimal(18,6)").check(&r).is_ok());
        let e = typed("string", "double")
            .check(&r)
            .expect_err("string start");
        assert!(
            e.message
                .contains("line_item_usage_start_date of type string"),
            "{e}"
        );
        let e = typed("timestamp", "string")
            .check(&r)
            .expect_err("string cost");
        assert!(
            e.message
                .contains("line_item_unblended_cost of type string"),
            "{e}"
        );
    }

    #[test]
    fn billing_period_prunes_only_as_a_string_partition_key() {
        let cid = table(
            &[],
            &["source_account_id", "report_name", "data", "billing_period"],
        );
        assert_eq!(cid.billing_period, BillingPeriod::Partition);
        assert!(cid.has("source_account_id") && cid.has("billing_period"));
        let column = table(&[("billing_period", Some("string"))], &[]);
        assert_eq!(column.billing_period, BillingPeriod::Column);
        let dated = Table::new(
            "AwsDataCatalog",
            "cur",
            "t",
            CORE,
            [("billing_period", Some("date"))],
        );
        assert_eq!(dated.billing_period, BillingPeriod::Absent);
        let notes = table(&[], &["year", "month"])
            .check(&request(&["model"]))
            .expect("usable");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("not partitioned by billing_period")),
            "{notes:?}"
        );
        assert!(cid.check(&request(&["model"])).expect("usable").is_empty());
    }

    #[test]
    fn a_missing_required_column_names_the_table_the_column_and_the_fix() {
        let t = Table::new(
            "AwsDataCatalog",
            "cur",
            "old_cur",
            CORE.iter()
                .copied()
                .filter(|(n, _)| *n != "line_item_usage_type"),
            [("billing_period", Some("string"))],
        );
        let e = t.check(&request(&["model"])).expect_err("refused");
        let text = e.to_string();
        assert!(
            text.contains("cur.old_cur") && text.contains("line_item_usage_type"),
            "{text}"
        );
        assert!(text.contains("nothing scanned or billed"), "{text}");
        assert!(
            text.contains("ALTER TABLE cur.old_cur ADD COLUMNS"),
            "{text}"
        );
    }

    #[test]
    fn missing_optional_columns_are_notes_for_the_dimensions_asked() {
        let t = table(
            &[("resource_tags", Some("map<string,string>"))],
            &["billing_period"],
        );
        let notes = t
            .check(&request(&["principal", "tag:iamPrincipal/team"]))
            .expect("usable");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("principals are missing"), "{notes:?}");
        assert!(notes[0].contains("INCLUDE_IAM_PRINCIPAL_DATA"), "{notes:?}");
        assert!(notes[1].contains("only resource_tags is read"), "{notes:?}");
        // By model nothing is missing.
        assert!(t.check(&request(&["model"])).expect("usable").is_empty());
    }
}
