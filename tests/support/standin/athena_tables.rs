//! Amazon Athena's table metadata (awsJson 1.1, `X-Amz-Target: AmazonAthena.<Op>`, signing
//! name `athena`): `GetTableMetadata`, which moto 5.2.1's Athena does not serve. Every other
//! Athena operation (queries, their results, workgroups) goes to moto.
//!
//! Written from the Athena API reference, GetTableMetadata: the request's `CatalogName`
//! (1-256 characters), `DatabaseName` and `TableName` (1-128 each) are required, `WorkGroup`
//! (`[a-zA-Z0-9._-]{1,128}`) is optional; the answer is `TableMetadata` with `Name`,
//! `CreateTime`, `LastAccessTime`, `TableType`, `Columns` and `PartitionKeys` (each a `Name`,
//! `Type` and `Comment`) and `Parameters`; the errors are InternalServerException,
//! InvalidRequestException ("something is wrong with the input to the request", HTTP 400) and
//! MetadataException ("an exception that Athena received when it called a custom metastore").
//!
//! The tables are AWS's data, seeded by the tests ([`StandIn::put_athena_table`]), per account,
//! Region and data catalog (`AwsDataCatalog` is the account's Glue Data Catalog). Names match
//! case-insensitively, as Glue keeps them in lower case. What Athena answers for a table or
//! database the catalog does not have is not in the reference; the stand-in answers as AWS was
//! reported to (DyfanJones/noctua issue 205, July 2023: `MetadataException (HTTP 400). Entity
//! Not Found (Service: AmazonDataCatalog; Status Code: 400; Error Code:
//! EntityNotFoundException; …)`), which moto's own Athena GetDatabase also answers for a
//! missing database. A catalog the stand-in has no table in is answered the same way (not
//! documented either). The workgroup is checked against its pattern only: the workgroups are
//! moto's.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::common::{
    anchored, check_string, epoch_seconds, json_error, json_ok, optional_str, pat, required_str,
    uuid,
};
use super::{DEFAULT_ACCOUNT, Reply, StandIn, StrictRequest};

/// A table in an Athena data catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct AthenaTable {
    pub region: String,
    pub catalog: String,
    pub database: String,
    pub name: String,
    /// `(name, type)` in order, types as Glue writes them (`string`, `map<string,string>`).
    pub columns: Vec<(String, String)>,
    pub partition_keys: Vec<(String, String)>,
    pub parameters: Vec<(String, String)>,
    /// Seconds since the epoch.
    pub created: f64,
}

impl AthenaTable {
    /// A table in `region`'s `AwsDataCatalog`.
    pub fn new(
        region: &str,
        database: &str,
        name: &str,
        columns: &[(&str, &str)],
        partition_keys: &[(&str, &str)],
    ) -> AthenaTable {
        let own = |items: &[(&str, &str)]| {
            items
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect()
        };
        AthenaTable {
            region: region.to_string(),
            catalog: "AwsDataCatalog".into(),
            database: database.to_string(),
            name: name.to_string(),
            columns: own(columns),
            partition_keys: own(partition_keys),
            parameters: vec![("classification".into(), "parquet".into())],
            created: epoch_seconds(),
        }
    }

    /// The same table in another data catalog.
    pub fn in_catalog(mut self, catalog: &str) -> AthenaTable {
        self.catalog = catalog.to_string();
        self
    }

    fn is(&self, region: &str, catalog: &str, database: &str, name: &str) -> bool {
        self.region == region
            && self.catalog == catalog
            && self.database.eq_ignore_ascii_case(database)
            && self.name.eq_ignore_ascii_case(name)
    }
}

// Athena API reference, GetTableMetadata, `WorkGroup`.
pattern!(WORKGROUP, r"[a-zA-Z0-9._-]{1,128}");

impl StandIn {
    /// Adds (or replaces) a table of the default account, as creating it in Glue or with an
    /// Athena DDL query would.
    pub fn put_athena_table(&self, table: AthenaTable) {
        self.put_athena_table_of(DEFAULT_ACCOUNT, table);
    }

    /// [`Self::put_athena_table`] for another account.
    pub fn put_athena_table_of(&self, account: &str, table: AthenaTable) {
        self.mutate_account(account, |a| {
            a.athena_tables
                .retain(|t| !t.is(&table.region, &table.catalog, &table.database, &table.name));
            a.athena_tables.push(table);
        });
    }

    pub(super) fn athena_tables_op(&self, request: &StrictRequest) -> Option<Reply> {
        let target = request.headers.get("x-amz-target")?.to_str().ok()?;
        if target != "AmazonAthena.GetTableMetadata" {
            return None;
        }
        let Some(body) = request.json().filter(Value::is_object) else {
            return Some(json_error(
                400,
                "InvalidRequestException",
                "The request body is not a JSON object.",
                Value::Null,
            ));
        };
        let state = self.lock();
        let ctx = self.context(&state, request);
        let input = || -> Result<(String, String, String), String> {
            let catalog = required_str(&body, "CatalogName", "catalogName")?;
            check_string(catalog, "catalogName", 1, 256, None)?;
            let database = required_str(&body, "DatabaseName", "databaseName")?;
            check_string(database, "databaseName", 1, 128, None)?;
            let table = required_str(&body, "TableName", "tableName")?;
            check_string(table, "tableName", 1, 128, None)?;
            if let Some(workgroup) = optional_str(&body, "WorkGroup", "workGroup")? {
                check_string(workgroup, "workGroup", 1, 128, pat(&WORKGROUP))?;
            }
            Ok((catalog.into(), database.into(), table.into()))
        };
        let (catalog, database, name) = match input() {
            Ok(names) => names,
            Err(message) => {
                return Some(json_error(
                    400,
                    "InvalidRequestException",
                    &message,
                    Value::Null,
                ));
            }
        };
        let found = state.accounts.get(&ctx.account).and_then(|a| {
            a.athena_tables
                .iter()
                .find(|t| t.is(&ctx.region, &catalog, &database, &name))
        });
        Some(match found {
            Some(t) => json_ok(json!({ "TableMetadata": table_metadata(t) })),
            None => json_error(
                400,
                "MetadataException",
                &format!(
                    "Entity Not Found (Service: AmazonDataCatalog; Status Code: 400; Error \
                     Code: EntityNotFoundException; Request ID: {}; Proxy: null)",
                    uuid()
                ),
                Value::Null,
            ),
        })
    }
}

/// Athena API reference, TableMetadata and Column.
fn table_metadata(t: &AthenaTable) -> Value {
    let columns = |items: &[(String, String)]| -> Vec<Value> {
        items
            .iter()
            .map(|(n, ty)| json!({ "Name": n, "Type": ty }))
            .collect()
    };
    json!({
        "Name": t.name.to_lowercase(),
        "CreateTime": t.created,
        "LastAccessTime": 0.0,
        "TableType": "EXTERNAL_TABLE",
        "Columns": columns(&t.columns),
        "PartitionKeys": columns(&t.partition_keys),
        "Parameters": t
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<String, Value>>(),
    })
}
