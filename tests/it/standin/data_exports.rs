//! The stand-in's Data Exports (`data_exports.rs`, `data_export_input.rs` in
//! `tests/support/standin/`), through the real SDK clients as in `tests/it/standin.rs`.

use std::collections::HashMap;

use crate::support::env::{ACCOUNT, REGION, TestEnv};

use super::{code, error, through_proxy};

const QUERY: &str = "SELECT line_item_usage_account_id, line_item_product_code, line_item_unblended_cost FROM COST_AND_USAGE_REPORT";

fn export(
    name: &str,
    query: &str,
    config: &[(&str, &str)],
    format: &str,
    compression: &str,
) -> aws_sdk_bcmdataexports::types::Export {
    use aws_sdk_bcmdataexports::types::{
        CompressionOption, DataQuery, DestinationConfigurations, Export, FormatOption,
        FrequencyOption, OverwriteOption, RefreshCadence, S3Destination, S3OutputConfigurations,
        S3OutputType,
    };
    let config: HashMap<String, String> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Export::builder()
        .name(name)
        .description("CUR 2.0 for Bedrock")
        .data_query(
            DataQuery::builder()
                .query_statement(query)
                .table_configurations("COST_AND_USAGE_REPORT", config)
                .build()
                .expect("query"),
        )
        .destination_configurations(
            DestinationConfigurations::builder()
                .s3_destination(
                    S3Destination::builder()
                        .s3_bucket("cur-bucket")
                        .s3_prefix("cur2")
                        .s3_region(REGION)
                        .s3_output_configurations(
                            S3OutputConfigurations::builder()
                                .output_type(S3OutputType::Custom)
                                .format(FormatOption::from(format))
                                .compression(CompressionOption::from(compression))
                                .overwrite(OverwriteOption::OverwriteReport)
                                .build()
                                .expect("output"),
                        )
                        .build()
                        .expect("destination"),
                )
                .build(),
        )
        .refresh_cadence(
            RefreshCadence::builder()
                .frequency(FrequencyOption::Synchronous)
                .build()
                .expect("cadence"),
        )
        .build()
        .expect("export")
}

#[test]
// The closures return the SDK's own (large) error type.
#[allow(clippy::result_large_err)]
fn standin_data_exports() {
    use aws_sdk_bcmdataexports::types::ResourceTag;

    let env = TestEnv::new();
    let aws = through_proxy(&env);
    let de = &aws.dataexports;
    let daily = [
        ("TIME_GRANULARITY", "DAILY"),
        ("INCLUDE_RESOURCES", "FALSE"),
    ];

    let arn = env
        .block_on(
            de.create_export()
                .export(export("bedrock-cur", QUERY, &daily, "PARQUET", "PARQUET"))
                .resource_tags(
                    ResourceTag::builder()
                        .key("Project")
                        .value("a")
                        .build()
                        .expect("tag"),
                )
                .send(),
        )
        .expect("CreateExport")
        .export_arn()
        .expect("ExportArn")
        .to_string();
    let arn_shape = regex::Regex::new(&format!(
        "^arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/bedrock-cur-[0-9a-f-]{{36}}$"
    ))
    .expect("regex");
    assert!(arn_shape.is_match(&arn), "{arn}");

    // GetExport adds BILLING_VIEW_ARN to what was set.
    let got = env
        .block_on(de.get_export().export_arn(&arn).send())
        .expect("GetExport");
    let exported = got.export().expect("Export");
    assert_eq!(exported.name(), "bedrock-cur");
    let configs = exported
        .data_query()
        .and_then(|q| q.table_configurations())
        .and_then(|t| t.get("COST_AND_USAGE_REPORT"))
        .expect("CUR table configuration");
    assert_eq!(
        configs.get("BILLING_VIEW_ARN").map(String::as_str),
        Some(format!("arn:aws:billing::{ACCOUNT}:billingview/primary").as_str())
    );
    assert_eq!(
        configs.get("TIME_GRANULARITY").map(String::as_str),
        Some("DAILY")
    );
    assert_eq!(
        got.export_status()
            .and_then(|s| s.status_code())
            .map(|c| c.as_str()),
        Some("HEALTHY")
    );
    assert!(got.export_status().and_then(|s| s.created_at()).is_some());
    assert_eq!(
        exported
            .destination_configurations()
            .and_then(|d| d.s3_destination())
            .map(|s| s.s3_bucket()),
        Some("cur-bucket")
    );

    // Refused: the same name, PARQUET with GZIP, a bad granularity, a column that needs a
    // configuration, another table, an unknown property.
    let create = |e| env.block_on(de.create_export().export(e).send());
    assert_eq!(
        code(create(export(
            "bedrock-cur",
            QUERY,
            &daily,
            "PARQUET",
            "PARQUET"
        ))),
        "ValidationException"
    );
    assert_eq!(
        code(create(export("other", QUERY, &daily, "PARQUET", "GZIP"))),
        "ValidationException"
    );
    assert_eq!(
        code(create(export(
            "other",
            QUERY,
            &[("TIME_GRANULARITY", "WEEKLY")],
            "TEXT_OR_CSV",
            "GZIP"
        ))),
        "ValidationException"
    );
    let with_resources =
        "SELECT line_item_resource_id, line_item_unblended_cost FROM COST_AND_USAGE_REPORT";
    let (column_code, message) = error(create(export(
        "other",
        with_resources,
        &daily,
        "TEXT_OR_CSV",
        "GZIP",
    )));
    assert_eq!(column_code, "ValidationException");
    assert_eq!(
        message,
        "The columns in the query provided are not a subset of the table COST_AND_USAGE_REPORT"
    );
    assert_eq!(
        code(create(export(
            "other",
            "SELECT * FROM FOCUS_1_0_AWS",
            &[],
            "PARQUET",
            "PARQUET"
        ))),
        "ValidationException"
    );
    assert_eq!(
        code(create(export(
            "other",
            QUERY,
            &[("INCLUDE_EVERYTHING", "TRUE")],
            "PARQUET",
            "PARQUET"
        ))),
        "ValidationException"
    );

    // With INCLUDE_RESOURCES the column is there; a CSV export.
    let second = create(export(
        "with-resources",
        with_resources,
        &[("INCLUDE_RESOURCES", "TRUE")],
        "TEXT_OR_CSV",
        "GZIP",
    ))
    .expect("with INCLUDE_RESOURCES")
    .export_arn()
    .expect("arn")
    .to_string();

    // List and page.
    let page = env
        .block_on(de.list_exports().max_results(1).send())
        .expect("ListExports");
    assert_eq!(page.exports().len(), 1);
    let rest = env
        .block_on(
            de.list_exports()
                .max_results(1)
                .set_next_token(page.next_token().map(str::to_string))
                .send(),
        )
        .expect("second page");
    assert_eq!(rest.exports().len(), 1);
    assert!(rest.next_token().is_none());
    let mut names: Vec<&str> = page
        .exports()
        .iter()
        .chain(rest.exports())
        .map(|e| e.export_name())
        .collect();
    names.sort();
    assert_eq!(names, ["bedrock-cur", "with-resources"]);

    // Update overwrites every parameter.
    env.block_on(
        de.update_export()
            .export_arn(&arn)
            .export(export(
                "bedrock-cur",
                QUERY,
                &[("TIME_GRANULARITY", "HOURLY")],
                "PARQUET",
                "PARQUET",
            ))
            .send(),
    )
    .expect("UpdateExport");
    let updated = env.standin.exports();
    let ours = updated
        .iter()
        .find(|e| e.name == "bedrock-cur")
        .expect("ours");
    assert_eq!(
        ours.table_configurations["COST_AND_USAGE_REPORT"]["TIME_GRANULARITY"],
        "HOURLY"
    );
    assert!(
        !ours.table_configurations["COST_AND_USAGE_REPORT"].contains_key("INCLUDE_RESOURCES"),
        "replaced, not merged"
    );

    // Outside the tool: a description changed in the console.
    assert!(
        env.standin
            .set_export_description("bedrock-cur", Some("changed"))
    );
    let got = env
        .block_on(de.get_export().export_arn(&arn).send())
        .expect("GetExport");
    assert_eq!(got.export().and_then(|e| e.description()), Some("changed"));

    // Tags.
    env.block_on(
        de.untag_resource()
            .resource_arn(&arn)
            .resource_tag_keys("Project")
            .send(),
    )
    .expect("UntagResource");
    env.block_on(
        de.tag_resource()
            .resource_arn(&arn)
            .resource_tags(
                ResourceTag::builder()
                    .key("Owner")
                    .value("me")
                    .build()
                    .expect("tag"),
            )
            .send(),
    )
    .expect("TagResource");
    let tags = env
        .block_on(de.list_tags_for_resource().resource_arn(&arn).send())
        .expect("ListTagsForResource");
    let tags: Vec<(&str, &str)> = tags
        .resource_tags()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("Owner", "me")]);

    // Unknown ARNs.
    let unknown = format!("arn:aws:bcm-data-exports:us-east-1:{ACCOUNT}:export/nothing-here");
    match env.block_on(de.get_export().export_arn(&unknown).send()) {
        Err(e) => assert!(
            e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()),
            "{e:?}"
        ),
        Ok(v) => panic!("an unknown export read: {v:?}"),
    }
    assert_eq!(
        code(env.block_on(de.delete_export().export_arn(&unknown).send())),
        "ResourceNotFoundException"
    );

    // The quota: five CUR 2.0 exports.
    for i in 0..3 {
        create(export(
            &format!("more-{i}"),
            QUERY,
            &[],
            "PARQUET",
            "PARQUET",
        ))
        .expect("export");
    }
    assert_eq!(
        code(create(export("sixth", QUERY, &[], "PARQUET", "PARQUET"))),
        "ServiceQuotaExceededException"
    );

    // The snapshot: by name, BILLING_VIEW_ARN included, no ARNs or timestamps.
    let snapshot = env.standin.snapshot();
    let cur = &snapshot[ACCOUNT]["data_exports"]["bedrock-cur"];
    assert_eq!(
        cur["table_configurations"]["COST_AND_USAGE_REPORT"]["BILLING_VIEW_ARN"],
        format!("arn:aws:billing::{ACCOUNT}:billingview/primary")
    );
    assert!(!snapshot.to_string().contains(&arn));

    // Delete.
    let deleted = env
        .block_on(de.delete_export().export_arn(&second).send())
        .expect("DeleteExport");
    assert_eq!(deleted.export_arn(), Some(second.as_str()));
    assert_eq!(env.standin.exports().len(), 4);

    // A member account creates exports of its own data like any account.
    env.block_on(de.delete_export().export_arn(&arn).send())
        .expect("make room under the quota");
    env.standin.set_member_account(true);
    create(export("member-cur", QUERY, &[], "PARQUET", "PARQUET"))
        .expect("a member account's export");

    // Reset forgets everything (the recovery tests reset between items).
    env.standin.reset();
    assert_eq!(env.standin.snapshot(), serde_json::json!({}));
}
