//! The stand-in's Athena table metadata (`athena_tables.rs` in `tests/support/standin/`),
//! through the real SDK clients as in `tests/it/standin.rs`.

use crate::support::env::{REGION, TestEnv};
use crate::support::standin::AthenaTable;

use super::{error, through_proxy, with_key};

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_athena_table_metadata() {
    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let athena = &aws.athena;
    env.standin.put_athena_table(AthenaTable::new(
        REGION,
        "cid_data_export",
        "cur2",
        &[
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_unblended_cost", "double"),
            ("tags", "map<string,string>"),
        ],
        &[
            ("source_account_id", "string"),
            ("report_name", "string"),
            ("data", "string"),
            ("billing_period", "string"),
        ],
    ));
    env.standin.put_athena_table(
        AthenaTable::new(REGION, "shared", "cur2", &[("x", "string")], &[]).in_catalog("payer"),
    );
    let get = |catalog: &str, database: &str, table: &str, workgroup: Option<&str>| {
        env.block_on(
            athena
                .get_table_metadata()
                .catalog_name(catalog)
                .database_name(database)
                .table_name(table)
                .set_work_group(workgroup.map(str::to_string))
                .send(),
        )
    };

    // The table as seeded: columns and partition keys in order, with their types; names match
    // case-insensitively.
    let got = get("AwsDataCatalog", "CID_DATA_EXPORT", "Cur2", Some("primary"))
        .expect("GetTableMetadata");
    let t = got.table_metadata().expect("TableMetadata");
    assert_eq!(t.name(), "cur2");
    assert_eq!(t.table_type(), Some("EXTERNAL_TABLE"));
    let names = |cs: &[aws_sdk_athena::types::Column]| -> Vec<(String, String)> {
        cs.iter()
            .map(|c| (c.name().to_string(), c.r#type().unwrap_or("").to_string()))
            .collect()
    };
    assert_eq!(
        names(t.columns()),
        [
            ("line_item_usage_start_date", "timestamp"),
            ("line_item_unblended_cost", "double"),
            ("tags", "map<string,string>"),
        ]
        .map(|(n, ty)| (n.to_string(), ty.to_string()))
    );
    let keys: Vec<String> = names(t.partition_keys())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        keys,
        ["source_account_id", "report_name", "data", "billing_period"]
    );
    assert_eq!(
        t.parameters()
            .and_then(|p| p.get("classification"))
            .map(String::as_str),
        Some("parquet")
    );

    // Another catalog holds its own tables.
    assert!(get("payer", "shared", "cur2", None).is_ok());
    let (code, message) = error(get("AwsDataCatalog", "shared", "cur2", None));
    assert_eq!(code, "MetadataException");
    assert!(message.contains("EntityNotFoundException"), "{message}");

    // A missing table or database, as AWS answers it.
    for (database, table) in [("cid_data_export", "cur"), ("cur", "cur2")] {
        let (code, message) = error(get("AwsDataCatalog", database, table, None));
        assert_eq!(code, "MetadataException", "{database}.{table}");
        assert!(
            message.starts_with("Entity Not Found (Service: AmazonDataCatalog"),
            "{message}"
        );
    }

    // Another Region's catalog and another account's are not this one.
    env.standin
        .register_access_key("AKIAOTHERACCOUNT0001", "210987654321");
    for elsewhere in [
        with_key(&env, "testing", "us-west-2"),
        with_key(&env, "AKIAOTHERACCOUNT0001", REGION),
    ] {
        let (code, _) = error(
            env.block_on(
                elsewhere
                    .athena
                    .get_table_metadata()
                    .catalog_name("AwsDataCatalog")
                    .database_name("cid_data_export")
                    .table_name("cur2")
                    .send(),
            ),
        );
        assert_eq!(code, "MetadataException");
    }

    // The reference's constraints: names 1-128, the workgroup's pattern.
    for (database, table, workgroup) in [
        ("", "cur2", None),
        ("cid_data_export", &*"t".repeat(129), None),
        ("cid_data_export", "cur2", Some("no spaces")),
    ] {
        let (code, message) = error(get("AwsDataCatalog", database, table, workgroup));
        assert_eq!(code, "InvalidRequestException", "{message}");
        assert!(
            message.contains("failed to satisfy constraint"),
            "{message}"
        );
    }

    // Athena's other operations are moto's: its default workgroup is there.
    let groups = env
        .block_on(athena.list_work_groups().send())
        .expect("ListWorkGroups from moto");
    assert!(
        groups
            .work_groups()
            .iter()
            .any(|g| g.name() == Some("primary")),
        "{groups:?}"
    );
}
