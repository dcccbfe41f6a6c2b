//! Data Exports: the checks of the `Export` of a CreateExport or UpdateExport request (its CUR
//! 2.0 query, table configurations, destination and refresh cadence).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use super::common::{anchored, check_enum, check_string, missing, optional_str, pat, required_str};
use super::data_exports::{CUR2_TABLE, exports_validation};
use super::{Ctx, Reply};

/// Data Exports user guide, table dictionary, "Cost and Usage Report (CUR) 2.0 — Table
/// configurations": the properties of COST_AND_USAGE_REPORT and their valid values
/// (TIME_GRANULARITY HOURLY|DAILY|MONTHLY; the INCLUDE_* switches TRUE|FALSE; BILLING_VIEW_ARN
/// the billing view whose data is exported).
const CUR2_PROPERTIES: [(&str, &[&str]); 6] = [
    ("TIME_GRANULARITY", &["HOURLY", "DAILY", "MONTHLY"]),
    ("INCLUDE_RESOURCES", &["TRUE", "FALSE"]),
    ("INCLUDE_SPLIT_COST_ALLOCATION_DATA", &["TRUE", "FALSE"]),
    ("INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY", &["TRUE", "FALSE"]),
    ("INCLUDE_CAPACITY_RESERVATION_DATA", &["TRUE", "FALSE"]),
    ("INCLUDE_IAM_PRINCIPAL_DATA", &["TRUE", "FALSE"]),
];

/// Columns that exist only when a table configuration adds them (table dictionary: INCLUDE_RESOURCES
/// "adds the line_item_resource_id column to the table schema"; split cost allocation data adds
/// the `split_line_item_*` columns; the capacity reservation columns are "Added by: INCLUDE
/// CAPACITY RESERVATION DATA"; INCLUDE_IAM_PRINCIPAL_DATA adds `line_item_iam_principal`).
/// Selecting one without its configuration is refused with "The columns in the query provided
/// are not a subset of the table COST_AND_USAGE_REPORT" (the service's message,
/// hashicorp/terraform-provider-aws#43893, #37126).
const CONFIGURED_COLUMNS: [(&str, bool, &str); 4] = [
    ("line_item_resource_id", false, "INCLUDE_RESOURCES"),
    (
        "split_line_item_",
        true,
        "INCLUDE_SPLIT_COST_ALLOCATION_DATA",
    ),
    (
        "capacity_reservation_",
        true,
        "INCLUDE_CAPACITY_RESERVATION_DATA",
    ),
    (
        "line_item_iam_principal",
        false,
        "INCLUDE_IAM_PRINCIPAL_DATA",
    ),
];

// Data Exports API reference, Export.Name and the billing view ARN shape
// (`arn:aws:billing::{account}:billingview/primary`).
pattern!(EXPORT_NAME, r"[0-9A-Za-z\-_]+");
pattern!(
    EXPORT_ARN,
    "arn:aws[-a-z0-9]*:(bcm-data-exports):[-a-z0-9]*:[0-9]{12}:[-a-zA-Z0-9/:_]+"
);
pattern!(
    BILLING_VIEW_ARN,
    r"arn:aws[-a-z]*:billing::[0-9]{12}:billingview/[-a-zA-Z0-9_+=.@:/]+"
);
pub(super) static QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)^\s*SELECT\s+(.+?)\s+FROM\s+([A-Za-z0-9_]+)(\s+WHERE\s+.+?)?\s*;?\s*$")
        .expect("query pattern compiles")
});
pub(super) static COLUMN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(\*|[A-Za-z_][A-Za-z0-9_]*(\[\s*'[^']*'\s*\])?)$"#)
        .expect("column pattern compiles")
});

/// The columns and table of a query statement.
pub(super) fn parse_query(query: &str) -> Option<(Vec<String>, String)> {
    let caps = QUERY.captures(query)?;
    let columns = caps
        .get(1)?
        .as_str()
        .split(',')
        .map(|c| c.trim().to_string())
        .collect();
    Some((columns, caps.get(2)?.as_str().to_string()))
}

/// A validated `Export` of a CreateExport or UpdateExport request.
pub(super) struct ExportInput {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) query: String,
    pub(super) table_configurations: BTreeMap<String, BTreeMap<String, String>>,
    pub(super) destination: Value,
    pub(super) refresh_cadence: Value,
}

/// Data Exports API reference, Export / DataQuery / DestinationConfigurations / S3Destination /
/// S3OutputConfigurations / RefreshCadence: `Name` 1–128 of `[0-9A-Za-z\-_]+`, `Description`
/// 0–1024, `QueryStatement` 1–36000 (an SQL `SELECT … FROM <table>`, user guide "Data query"),
/// `TableConfigurations` (table → property → value), `S3Bucket`, `S3Prefix`, `S3Region` and
/// `S3OutputConfigurations` (OutputType CUSTOM|ATHENA|REDSHIFT, Format TEXT_OR_CSV|PARQUET,
/// Compression GZIP|PARQUET, Overwrite CREATE_NEW_REPORT|OVERWRITE_REPORT) required,
/// `RefreshCadence.Frequency` SYNCHRONOUS.
///
/// The format and the compression go together: TEXT_OR_CSV with GZIP, PARQUET with PARQUET (the
/// API reference lists the two enums without saying so; the Data Exports console offers the two
/// pairs only, and every published example uses one of them). Only the CUR 2.0 table is served
/// here.
pub(super) fn parse_export_input(ctx: &Ctx, export: &Value) -> Result<ExportInput, Reply> {
    let v = exports_validation;
    if export.is_null() {
        return Err(v(missing("export")));
    }
    let name = required_str(export, "Name", "export.name").map_err(v)?;
    check_string(name, "export.name", 1, 128, pat(&EXPORT_NAME)).map_err(v)?;
    let description = optional_str(export, "Description", "export.description").map_err(v)?;
    if let Some(d) = description {
        check_string(d, "export.description", 0, 1024, None).map_err(v)?;
    }
    let data_query = &export["DataQuery"];
    if data_query.is_null() {
        return Err(v(missing("export.dataQuery")));
    }
    let query = required_str(
        data_query,
        "QueryStatement",
        "export.dataQuery.queryStatement",
    )
    .map_err(v)?;
    check_string(query, "export.dataQuery.queryStatement", 1, 36000, None).map_err(v)?;
    let Some((columns, table)) = parse_query(query) else {
        return Err(v(format!(
            "The query statement is not a supported SQL statement (SELECT <columns> FROM <table> [WHERE …]): {query}"
        )));
    };
    if !table.eq_ignore_ascii_case(CUR2_TABLE) {
        return Err(v(format!(
            "Table {table} is not served by the test stand-in (it serves {CUR2_TABLE} only)."
        )));
    }
    if let Some(bad) = columns.iter().find(|c| !COLUMN.is_match(c)) {
        return Err(v(format!(
            "The query statement could not be parsed near column {bad:?}."
        )));
    }

    let mut table_configurations = BTreeMap::new();
    match &data_query["TableConfigurations"] {
        Value::Null => {}
        Value::Object(tables) => {
            for (t, properties) in tables {
                if !t.eq_ignore_ascii_case(&table) {
                    return Err(v(format!(
                        "Table configurations are given for {t}, which the query does not select from."
                    )));
                }
                let Value::Object(properties) = properties else {
                    return Err(v(format!("The table configuration of {t} is not a map.")));
                };
                let mut props = BTreeMap::new();
                for (key, value) in properties {
                    let Some(value) = value.as_str() else {
                        return Err(v(format!("Table property {key} is not a string.")));
                    };
                    if key == "BILLING_VIEW_ARN" {
                        check_string(value, "BILLING_VIEW_ARN", 1, 2048, pat(&BILLING_VIEW_ARN))
                            .map_err(v)?;
                        if value.split(':').nth(4) != Some(ctx.account.as_str()) {
                            return Err(v(format!(
                                "The billing view {value} does not belong to account {}.",
                                ctx.account
                            )));
                        }
                    } else if let Some((_, allowed)) = CUR2_PROPERTIES
                        .iter()
                        .find(|(name, _)| *name == key.as_str())
                    {
                        check_enum(value, key, allowed).map_err(v)?;
                    } else {
                        return Err(v(format!("{key} is not a table property of {CUR2_TABLE}.")));
                    }
                    props.insert(key.clone(), value.to_string());
                }
                table_configurations.insert(t.clone(), props);
            }
        }
        other => return Err(v(format!("TableConfigurations {other} is not a map."))),
    }
    let property = |key: &str| {
        table_configurations
            .values()
            .find_map(|p| p.get(key))
            .map(String::as_str)
    };
    for column in &columns {
        let base = column
            .split('[')
            .next()
            .unwrap_or(column)
            .to_ascii_lowercase();
        for (name, prefix, config) in CONFIGURED_COLUMNS {
            let matches = if prefix {
                base.starts_with(name)
            } else {
                base == name
            };
            if matches && property(config) != Some("TRUE") {
                return Err(v(format!(
                    "The columns in the query provided are not a subset of the table {CUR2_TABLE}"
                )));
            }
        }
    }

    let destination = &export["DestinationConfigurations"]["S3Destination"];
    if destination.is_null() {
        return Err(v(missing("export.destinationConfigurations.s3Destination")));
    }
    let at = |m: &str| format!("export.destinationConfigurations.s3Destination.{m}");
    let bucket = required_str(destination, "S3Bucket", &at("s3Bucket")).map_err(v)?;
    check_string(bucket, &at("s3Bucket"), 0, 1024, None).map_err(v)?;
    let prefix = required_str(destination, "S3Prefix", &at("s3Prefix")).map_err(v)?;
    check_string(prefix, &at("s3Prefix"), 0, 1024, None).map_err(v)?;
    let region = required_str(destination, "S3Region", &at("s3Region")).map_err(v)?;
    check_string(region, &at("s3Region"), 0, 1024, None).map_err(v)?;
    let owner = optional_str(destination, "S3BucketOwner", &at("s3BucketOwner")).map_err(v)?;
    if let Some(o) = owner {
        static ACCOUNT_ID: LazyLock<(Regex, &str)> =
            LazyLock::new(|| (anchored("[0-9]{12}"), "[0-9]{12}"));
        check_string(o, &at("s3BucketOwner"), 12, 12, pat(&ACCOUNT_ID)).map_err(v)?;
    }
    let output = &destination["S3OutputConfigurations"];
    if output.is_null() {
        return Err(v(missing(&at("s3OutputConfigurations"))));
    }
    let out_at = |m: &str| at(&format!("s3OutputConfigurations.{m}"));
    let mut output_config = Map::new();
    for (key, field, allowed) in [
        (
            "OutputType",
            "outputType",
            &["CUSTOM", "ATHENA", "REDSHIFT"][..],
        ),
        ("Format", "format", &["TEXT_OR_CSV", "PARQUET"][..]),
        ("Compression", "compression", &["GZIP", "PARQUET"][..]),
        (
            "Overwrite",
            "overwrite",
            &["CREATE_NEW_REPORT", "OVERWRITE_REPORT"][..],
        ),
    ] {
        let value = required_str(output, key, &out_at(field)).map_err(v)?;
        check_enum(value, &out_at(field), allowed).map_err(v)?;
        output_config.insert(key.to_string(), json!(value));
    }
    let format = output_config
        .get("Format")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let compression = output_config
        .get("Compression")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if (format == "PARQUET") != (compression == "PARQUET") {
        return Err(v(format!(
            "Format {format} cannot be used with compression {compression}: PARQUET files use PARQUET compression and TEXT_OR_CSV files GZIP."
        )));
    }
    let mut s3 = json!({
        "S3Bucket": bucket,
        "S3Prefix": prefix,
        "S3Region": region,
        "S3OutputConfigurations": Value::Object(output_config),
    });
    if let (Some(o), Some(m)) = (owner, s3.as_object_mut()) {
        m.insert("S3BucketOwner".into(), json!(o));
    }
    let cadence = &export["RefreshCadence"];
    if cadence.is_null() {
        return Err(v(missing("export.refreshCadence")));
    }
    let frequency =
        required_str(cadence, "Frequency", "export.refreshCadence.frequency").map_err(v)?;
    check_enum(
        frequency,
        "export.refreshCadence.frequency",
        &["SYNCHRONOUS"],
    )
    .map_err(v)?;

    Ok(ExportInput {
        name: name.to_string(),
        description: description.map(str::to_string),
        query: query.to_string(),
        table_configurations,
        destination: json!({ "S3Destination": s3 }),
        refresh_cadence: json!({ "Frequency": frequency }),
    })
}
