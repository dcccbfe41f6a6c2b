//! `cur-export`: a CUR 2.0 export (Data Exports, served in us-east-1 only) of the account's cost
//! and usage, daily, as Parquet overwritten in place, with IAM principal data
//! (`line_item_iam_principal`: who made each Bedrock call) and resource IDs (which inference
//! profile), into a bucket of its own: other retention than the logs, and Data Exports writes
//! a test object at the bucket's root. The bucket is managed by the same code as the log
//! bucket (see [`BucketSpec`]), with the policy Data Exports needs.
//!
//! Only the table properties the tool sets are compared: AWS adds others to the table
//! configuration it returns (`BILLING_VIEW_ARN`, the account's primary billing view, and
//! properties such as `INCLUDE_CAPACITY_RESERVATION_DATA` that new table versions bring), and
//! those are not drift. A billing view other than the primary one is, since the export would
//! then cover other costs than the tool means.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use aws_sdk_bcmdataexports::types::{
    CompressionOption, DataQuery, DestinationConfigurations, Export, FormatOption, FrequencyOption,
    OverwriteOption, RefreshCadence, ResourceTag, S3Destination, S3OutputConfigurations,
    S3OutputType,
};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{
    ComponentId, Context, Diff, FieldChange, Foreign, Health, HealthLevel, Ownership, Permission,
    Resource,
};
use crate::resources::bucket::{
    Bucket, BucketSpec, BucketState, LifecycleSpec, bucket_permissions,
};
use crate::resources::{
    absent_if, foreign_by_tags, ownership_from_tags, tagged_by_stack, tags_field,
};

pub struct CurExport;

#[derive(Debug, Clone)]
pub struct ObservedExport {
    pub arn: String,
    pub settings: Value,
    pub status: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default)]
pub struct CurState {
    pub bucket: Option<BucketState>,
    pub export: Option<ObservedExport>,
}

const TABLE: &str = "COST_AND_USAGE_REPORT";
const NOT_FOUND: &[&str] = &["ResourceNotFoundException"];
/// Old versions of the overwritten files are kept this long (the current ones stay).
const NONCURRENT_DAYS: i32 = 30;

/// The CUR 2.0 columns exported: who (account, IAM principal), what (service, usage type,
/// operation, resource: the inference profile), when, how much, and the tags and cost
/// categories that attribute it. IAM principal and session tags are only in `tags` (keys
/// prefixed `iamPrincipal/`; CUR 2.0 user guide, "Tags column"), not in `resource_tags`, so
/// attribution by principal tag needs `tags`; `resource_tags` and `cost_category` stay for
/// queries written against earlier exports. `product` (a map) carries the product's name,
/// the only place a Marketplace-billed model ("Claude 3 Haiku (Amazon Bedrock Edition)") is
/// named: `report --source cur` needs it to count and name those models.
const COLUMNS: &[&str] = &[
    "bill_billing_period_start_date",
    "line_item_usage_account_id",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "product_servicecode",
    "product",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_line_item_type",
    "line_item_line_item_description",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "product_region_code",
    "resource_tags",
    "cost_category",
    "tags",
];
const IAM_PRINCIPAL_COLUMN: &str = "line_item_iam_principal";

impl CurExport {
    fn enabled(cx: &Context) -> bool {
        cx.config.cur_export.as_ref().is_some_and(|c| c.enabled)
    }

    fn bucket_name(cx: &Context) -> String {
        cx.config
            .cur_export
            .as_ref()
            .map(|c| c.resolved_bucket(&cx.account.id))
            .unwrap_or_default()
    }

    fn prefix(cx: &Context) -> String {
        cx.config
            .cur_export
            .as_ref()
            .map(|c| c.prefix.clone())
            .unwrap_or_default()
    }

    fn include_iam_principal(cx: &Context) -> bool {
        cx.config
            .cur_export
            .as_ref()
            .is_some_and(|c| c.include_iam_principal)
    }

    pub fn spec(cx: &Context) -> Result<BucketSpec, AwsError> {
        let name = Self::bucket_name(cx);
        let policy = docs::render(
            "cur-bucket-policy",
            json!({"partition": cx.partition(), "account_id": cx.account.id, "bucket": name}),
        )?;
        Ok(BucketSpec {
            component: ComponentId::CurExport,
            lifecycle: Some(LifecycleSpec {
                rule_id: "bedrock-monitor-cur-versions",
                prefix: Self::prefix(cx),
                expire_after_days: None,
                noncurrent_expire_after_days: NONCURRENT_DAYS,
            }),
            kms_key_arn: None,
            policy,
            tags: cx.config.tags(),
            region_hint: "the export's bucket is created in the stack's region: choose another `cur_export.bucket` (names are global)",
            purge_prefix: Self::purge_prefix(cx),
            name,
        })
    }

    /// Where the export's files lie: under the configured prefix (as a folder), or without
    /// one in the export's own folder (Data Exports user guide, "Understanding export
    /// delivery": `<prefix>/<export name>/...`).
    fn purge_prefix(cx: &Context) -> String {
        let prefix = Self::prefix(cx);
        let prefix = prefix.trim_matches('/');
        if prefix.is_empty() {
            format!("{}/", cx.config.cur_export_name())
        } else {
            format!("{prefix}/")
        }
    }

    fn query(cx: &Context) -> String {
        let mut columns: Vec<&str> = COLUMNS.to_vec();
        if Self::include_iam_principal(cx) {
            columns.push(IAM_PRINCIPAL_COLUMN);
        }
        format!("SELECT {} FROM {TABLE}", columns.join(", "))
    }

    fn table_configuration(cx: &Context) -> BTreeMap<String, String> {
        let flag = |b: bool| if b { "TRUE" } else { "FALSE" }.to_string();
        [
            ("TIME_GRANULARITY", "DAILY".to_string()),
            ("INCLUDE_RESOURCES", flag(true)),
            (
                "INCLUDE_IAM_PRINCIPAL_DATA",
                flag(Self::include_iam_principal(cx)),
            ),
            ("INCLUDE_SPLIT_COST_ALLOCATION_DATA", flag(false)),
            ("INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY", flag(false)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn description(cx: &Context) -> String {
        format!(
            "Cost and usage with IAM principals for Bedrock attribution (bedrock-monitor stack {})",
            cx.config.stack.name
        )
    }

    fn desired_export(cx: &Context) -> Value {
        json!({
            "description": Self::description(cx),
            "query": Self::query(cx),
            "table_configuration": Self::table_configuration(cx),
            "destination": {
                "bucket": Self::bucket_name(cx),
                "prefix": Self::prefix(cx),
                "region": cx.region,
                "output_type": "CUSTOM",
                "format": "PARQUET",
                "compression": "PARQUET",
                "overwrite": "OVERWRITE_REPORT",
            },
            "refresh": "SYNCHRONOUS",
        })
    }

    /// The primary billing view Data Exports adds when none is given.
    fn default_billing_view(cx: &Context) -> String {
        format!(
            "arn:{}:billing::{}:billingview/primary",
            cx.partition(),
            cx.account.id
        )
    }

    fn observed_export(cx: &Context, e: &Export) -> Value {
        let query = e.data_query();
        let set = Self::table_configuration(cx);
        let default_view = Self::default_billing_view(cx);
        let table: BTreeMap<String, String> = query
            .and_then(|q| q.table_configurations())
            .and_then(|t| t.get(TABLE))
            .map(|m| {
                m.iter()
                    .filter(|(k, v)| {
                        set.contains_key(k.as_str())
                            || (k.as_str() == "BILLING_VIEW_ARN" && **v != default_view)
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let s3 = e
            .destination_configurations()
            .and_then(|d| d.s3_destination());
        let out = s3.and_then(|s| s.s3_output_configurations());
        json!({
            "description": e.description().unwrap_or_default(),
            "query": query.map(|q| q.query_statement()).unwrap_or_default(),
            "table_configuration": table,
            "destination": {
                "bucket": s3.map(|s| s.s3_bucket()),
                "prefix": s3.map(|s| s.s3_prefix()),
                "region": s3.map(|s| s.s3_region()),
                "output_type": out.map(|o| o.output_type().as_str()),
                "format": out.map(|o| o.format().as_str()),
                "compression": out.map(|o| o.compression().as_str()),
                "overwrite": out.map(|o| o.overwrite().as_str()),
            },
            "refresh": e.refresh_cadence().map(|r| r.frequency().as_str()),
        })
    }

    fn sdk_export(cx: &Context) -> Result<Export, AwsError> {
        let tables: HashMap<String, HashMap<String, String>> = [(
            TABLE.to_string(),
            Self::table_configuration(cx).into_iter().collect(),
        )]
        .into_iter()
        .collect();
        Ok(Export::builder()
            .name(cx.config.cur_export_name())
            .description(Self::description(cx))
            .data_query(
                DataQuery::builder()
                    .query_statement(Self::query(cx))
                    .set_table_configurations(Some(tables))
                    .build()?,
            )
            .destination_configurations(
                DestinationConfigurations::builder()
                    .s3_destination(
                        S3Destination::builder()
                            .s3_bucket(Self::bucket_name(cx))
                            .s3_prefix(Self::prefix(cx))
                            .s3_region(&cx.region)
                            .s3_output_configurations(
                                S3OutputConfigurations::builder()
                                    .output_type(S3OutputType::Custom)
                                    .format(FormatOption::Parquet)
                                    .compression(CompressionOption::Parquet)
                                    .overwrite(OverwriteOption::OverwriteReport)
                                    .build()?,
                            )
                            .build()?,
                    )
                    .build(),
            )
            .refresh_cadence(
                RefreshCadence::builder()
                    .frequency(FrequencyOption::Synchronous)
                    .build()?,
            )
            .build()?)
    }

    fn sdk_tags(cx: &Context) -> Result<Vec<ResourceTag>, AwsError> {
        cx.config
            .tags()
            .iter()
            .map(|(k, v)| Ok(ResourceTag::builder().key(k).value(v).build()?))
            .collect()
    }

    /// Every tag of the export, following `NextToken` (Data Exports API reference,
    /// ListTagsForResource: paged by `MaxResults` and `NextToken`; its default page size is
    /// not documented); `None` when the export is gone.
    async fn read_tags(
        exports: &aws_sdk_bcmdataexports::Client,
        arn: &str,
    ) -> Result<Option<BTreeMap<String, String>>, AwsError> {
        let mut tags = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let page = absent_if(
                exports
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .aws("bcm-data-exports:ListTagsForResource"),
                NOT_FOUND,
            )?;
            let Some(page) = page else { return Ok(None) };
            tags.extend(
                page.resource_tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string())),
            );
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() != Some(next) => token = Some(next.to_string()),
                _ => return Ok(Some(tags)),
            }
        }
    }

    async fn read_export(cx: &Context) -> Result<Option<ObservedExport>, AwsError> {
        let name = cx.config.cur_export_name();
        let exports = &cx.aws.dataexports;
        let arn = crate::aws::find_data_export_arn(exports, &name).await?;
        let Some(arn) = arn else {
            return Ok(None);
        };
        let (got, tags) = tokio::join!(
            exports.get_export().export_arn(&arn).send(),
            Self::read_tags(exports, &arn),
        );
        let Some(got) = absent_if(got.aws("bcm-data-exports:GetExport"), NOT_FOUND)? else {
            return Ok(None);
        };
        let tags = tags?.unwrap_or_default();
        let Some(export) = got.export() else {
            return Ok(None);
        };
        cx.set_id(ComponentId::CurExport, "export", &arn);
        Ok(Some(ObservedExport {
            settings: Self::observed_export(cx, export),
            status: got
                .export_status()
                .and_then(|s| s.status_code())
                .map(|c| c.as_str().to_string()),
            arn,
            tags,
        }))
    }

    /// The export, when this stack owns it.
    async fn delete_owned_export(cx: &Context, state: &CurState) -> Result<(), AwsError> {
        if let Some(e) = state.export.as_ref().filter(|e| Self::owned(cx, &e.tags)) {
            absent_if(
                cx.aws
                    .dataexports
                    .delete_export()
                    .export_arn(&e.arn)
                    .send()
                    .await
                    .aws("bcm-data-exports:DeleteExport"),
                NOT_FOUND,
            )?;
            cx.forget_id(ComponentId::CurExport, "export");
        }
        Ok(())
    }

    /// The export first (it writes to the bucket), then the bucket when data may be purged.
    async fn remove(cx: &Context, state: &CurState) -> Result<(), AwsError> {
        Self::delete_owned_export(cx, state).await?;
        let Some(bucket) = state.bucket.as_ref().filter(|b| Self::owned(cx, &b.tags)) else {
            return Ok(());
        };
        if cx.purge_data.load(Ordering::SeqCst) {
            Bucket::purge(cx, &Self::spec(cx)?, bucket).await?;
        } else {
            cx.notice(format!(
                "cur-export: bucket {} was kept: it holds the exported cost data; pass --purge-data to delete it",
                Self::bucket_name(cx)
            ));
        }
        Ok(())
    }

    fn owned(cx: &Context, tags: &BTreeMap<String, String>) -> bool {
        matches!(ownership_from_tags(cx, tags), Ownership::Managed { .. })
    }
}

#[async_trait]
impl Resource for CurExport {
    type State = CurState;

    fn id(&self) -> ComponentId {
        ComponentId::CurExport
    }

    /// An optional component: only when its section asks for it.
    fn configured(&self, config: &crate::config::Config) -> bool {
        config.cur_export.is_some()
    }

    /// Billing keeps it for the payer account: once, in the caller's own account.
    fn scope(&self) -> crate::engine::Scope {
        crate::engine::Scope::Payer
    }

    fn name(&self, cx: &Context) -> String {
        cx.config.cur_export_name()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        cx.require_payer(
            "the CUR 2.0 export of the organization's costs",
            "cur_export",
        )
        .await?;
        let spec = Self::spec(cx)?;
        let (bucket, export) = tokio::join!(Bucket::read_bucket(cx, &spec), Self::read_export(cx));
        Ok(CurState {
            bucket: bucket?,
            export: export?,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        if !Self::enabled(cx) {
            let mut changes = Vec::new();
            if let Some(e) = state.export.as_ref().filter(|e| Self::owned(cx, &e.tags)) {
                changes.push(FieldChange {
                    field: "export".into(),
                    old: json!(e.arn),
                    new: Value::Null,
                });
            }
            return Diff::removing(changes).with_note(
                "[cur_export] enabled = false: the export is deleted; its bucket stays until `cleanup --purge-data`",
            );
        }
        let bucket_diff = match Self::spec(cx) {
            Ok(spec) => Bucket::bucket_diff(cx, &spec, &state.bucket),
            Err(e) => Diff::unchanged().with_note(e.to_string()),
        };
        let mut changes: Vec<FieldChange> = bucket_diff
            .changes
            .into_iter()
            .map(|c| FieldChange {
                field: format!("bucket.{}", c.field),
                ..c
            })
            .collect();
        let mut notes = bucket_diff.notes;
        let desired = Self::desired_export(cx);
        let tags = cx.config.tags();
        match &state.export {
            None => changes.push(FieldChange {
                field: "export".into(),
                old: Value::Null,
                new: desired,
            }),
            Some(e) => {
                if e.settings != desired {
                    let principal =
                        |v: &Value| v["table_configuration"]["INCLUDE_IAM_PRINCIPAL_DATA"].clone();
                    if principal(&e.settings) != principal(&desired) {
                        // Data Exports API reference, UpdateExport: "Updates an existing data
                        // export by overwriting all export parameters", the data query and its
                        // table configurations among them: the flag changes in place, no
                        // replacement (and so no second export against the quota of five).
                        notes.push(format!(
                            "IAM principal data is switched {} on the existing export by UpdateExport (same export, same files); deliveries from then on {} `line_item_iam_principal`",
                            if Self::include_iam_principal(cx) { "on" } else { "off" },
                            if Self::include_iam_principal(cx) { "carry" } else { "drop" },
                        ));
                    }
                    changes.push(FieldChange {
                        field: "export".into(),
                        old: e.settings.clone(),
                        new: desired,
                    });
                }
                let (old, new) = tags_field(&tags, &e.tags);
                if old != new {
                    changes.push(FieldChange {
                        field: "export.tags".into(),
                        old,
                        new,
                    });
                }
            }
        }
        if state.export.is_none() {
            notes.push(
                "Data Exports delivers the first files within 24 hours, then refreshes them daily"
                    .into(),
            );
        }
        Diff::of(changes, state.export.is_some() || state.bucket.is_some()).with_notes(notes)
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        if !Self::enabled(cx) {
            return Self::delete_owned_export(cx, state).await;
        }
        // The bucket and its policy first: Data Exports checks them when the export is made.
        let spec = Self::spec(cx)?;
        let bucket_diff = Bucket::bucket_diff(cx, &spec, &state.bucket);
        if bucket_diff.is_change() {
            Bucket::apply_bucket(cx, &spec, &state.bucket, &bucket_diff).await?;
        }
        let exports = &cx.aws.dataexports;
        match &state.export {
            None => {
                let out = exports
                    .create_export()
                    .export(Self::sdk_export(cx)?)
                    .set_resource_tags(Some(Self::sdk_tags(cx)?))
                    .send()
                    .await
                    .aws("bcm-data-exports:CreateExport")
                    .map_err(|e| {
                        if e.code_is(&["ServiceQuotaExceededException"]) {
                            e.with_hint("an account can have at most 5 CUR 2.0 exports: delete an unused one in the Billing console (Data Exports)")
                        } else {
                            e
                        }
                    })?;
                if let Some(arn) = out.export_arn() {
                    cx.set_id(ComponentId::CurExport, "export", arn);
                }
            }
            Some(e) => {
                if diff.changes.iter().any(|c| c.field == "export") {
                    exports
                        .update_export()
                        .export_arn(&e.arn)
                        .export(Self::sdk_export(cx)?)
                        .send()
                        .await
                        .aws("bcm-data-exports:UpdateExport")?;
                }
                if diff.touches("export.tags") {
                    exports
                        .tag_resource()
                        .resource_arn(&e.arn)
                        .set_resource_tags(Some(Self::sdk_tags(cx)?))
                        .send()
                        .await
                        .aws("bcm-data-exports:TagResource")?;
                }
            }
        }
        Ok(())
    }

    /// The export and its bucket, when they exist without this stack's tag (with the export
    /// switched off only this stack's export is deleted, nothing else written).
    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        if !Self::enabled(cx) {
            return Vec::new();
        }
        let export = state.export.as_ref().and_then(|e| {
            let what = format!("data export {}", cx.config.cur_export_name());
            foreign_by_tags(cx, what, &e.tags)
        });
        let bucket = Bucket::foreign_bucket(cx, &Self::bucket_name(cx), &state.bucket);
        export.into_iter().chain(bucket).collect()
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let export = state
            .export
            .as_ref()
            .map(|e| ownership_from_tags(cx, &e.tags));
        let bucket = match &state.bucket {
            Some(b) if b.region != cx.region => Some(Ownership::NotManaged {
                reason: format!("a bucket of that name exists in {}", b.region),
            }),
            Some(b) => Some(ownership_from_tags(cx, &b.tags)),
            None => None,
        };
        match (export, bucket) {
            (None, None) => Ownership::Missing,
            (Some(Ownership::Managed { evidence }), _)
            | (None, Some(Ownership::Managed { evidence })) => Ownership::Managed { evidence },
            (Some(Ownership::NotManaged { reason }), _) => Ownership::NotManaged {
                reason: format!("export {reason}"),
            },
            (_, Some(Ownership::NotManaged { reason })) => Ownership::NotManaged {
                reason: format!("bucket {reason}"),
            },
            _ => Ownership::Missing,
        }
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        state
            .export
            .iter()
            .map(|e| Health {
                subject: cx.config.cur_export_name(),
                level: match e.status.as_deref() {
                    Some("UNHEALTHY") => HealthLevel::Alarm,
                    _ => HealthLevel::Ok,
                },
                detail: format!(
                    "{} ({}) into s3://{}/{}",
                    e.arn,
                    e.status.as_deref().unwrap_or("status unknown"),
                    Self::bucket_name(cx),
                    Self::prefix(cx)
                ),
            })
            .collect()
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let exports = format!(
            "arn:{}:bcm-data-exports:us-east-1:{}:export/*",
            cx.partition(),
            cx.account.id
        );
        let mut permissions = vec![
            // ListExports and CreateExport take no resource; the rest act on exports of this
            // account (their ARNs end in a generated ID).
            Permission::new(
                &[
                    "bcm-data-exports:ListExports",
                    "bcm-data-exports:CreateExport",
                ],
                ["*".to_string()],
            ),
            Permission::new(
                &[
                    "bcm-data-exports:GetExport",
                    "bcm-data-exports:ListTagsForResource",
                ],
                [exports.clone()],
            ),
            // Only the stack's export (by its tag) may be changed or deleted.
            Permission {
                condition: Some(tagged_by_stack(cx)),
                ..Permission::new(
                    &[
                        "bcm-data-exports:UpdateExport",
                        "bcm-data-exports:DeleteExport",
                        "bcm-data-exports:TagResource",
                    ],
                    [exports],
                )
            },
            // CreateExport and UpdateExport need the CUR service to read the billing data.
            Permission::new(&["cur:PutReportDefinition"], ["*".to_string()]),
            Permission::new(&["organizations:DescribeOrganization"], ["*".to_string()]),
        ];
        permissions.extend(bucket_permissions(cx.partition(), &Self::bucket_name(cx)));
        permissions
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        Self::remove(cx, state).await
    }
}
