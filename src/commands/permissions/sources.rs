//! The calls commands make outside any component: who am I, the metrics and log queries of
//! `status`, `report` and `query`, the bill, the CUR export, the Price List.

use serde_json::json;

use crate::engine::{Context, Permission};
use crate::report::cur::ExportLocation;

/// The log group's ARNs (the group, and its streams for queries).
fn log_group(cx: &Context) -> [String; 2] {
    let group = format!(
        "arn:{}:logs:{}:{}:log-group:{}",
        cx.partition(),
        cx.region,
        cx.account.id,
        cx.config.log_group.name
    );
    let streams = format!("{group}:*");
    [group, streams]
}

/// What `report` and `query` read: metrics, the invocation logs through Logs Insights, the
/// names of application inference profiles.
pub(super) fn reader(cx: &Context) -> Vec<(String, Permission)> {
    vec![
        (
            "ReadBedrockMetrics".into(),
            Permission::new(
                &["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"],
                ["*".to_string()],
            ),
        ),
        (
            "QueryInvocationLogs".into(),
            Permission::new(&["logs:StartQuery"], log_group(cx)),
        ),
        (
            // report: names the application inference profiles it finds in the metrics.
            "NameInferenceProfiles".into(),
            Permission::new(&["bedrock:ListInferenceProfiles"], ["*".to_string()]),
        ),
        (
            "ReadQueryResults".into(),
            Permission::new(
                &["logs:GetQueryResults", "logs:StopQuery"],
                ["*".to_string()],
            ),
        ),
        (
            // quotas (and the quota alarms): the applied quotas, the open increase requests,
            // and the model list that ties a quota's name to a model; none of these list
            // calls takes a resource (Service Authorization Reference, Service Quotas).
            "ReadBedrockQuotas".into(),
            Permission::new(
                &[
                    "servicequotas:ListServiceQuotas",
                    "servicequotas:ListRequestedServiceQuotaChangeHistory",
                    "bedrock:ListFoundationModels",
                ],
                ["*".to_string()],
            ),
        ),
    ]
}

/// `quotas request`: an increase of Bedrock's quotas only, in this account and Region (the
/// quota ARN `arn:…:servicequotas:REGION:ACCOUNT:bedrock/L-…`). Service Quotas opens the
/// support case through its own service-linked role, made on the account's first request.
pub(super) fn quota_increase(cx: &Context) -> (String, Permission) {
    (
        "RequestBedrockQuotaIncrease".into(),
        Permission::new(
            &["servicequotas:RequestServiceQuotaIncrease"],
            [format!(
                "arn:{}:servicequotas:{}:{}:{}/*",
                cx.partition(),
                cx.region,
                cx.account.id,
                crate::quotas::SERVICE_CODE
            )],
        ),
    )
}

/// The commands' own calls for the everyday policy: the reader's, who am I, the Price List.
pub(super) fn commands(cx: &Context) -> Vec<(String, Permission)> {
    let mut out = vec![who_am_i()];
    out.extend(reader(cx));
    out.push(quota_increase(cx));
    out.push(price_list());
    out
}

pub(super) fn who_am_i() -> (String, Permission) {
    (
        "WhoAmI".into(),
        Permission::new(&["sts:GetCallerIdentity"], ["*".to_string()]),
    )
}

/// `prices update` reads the AWS Price List (public prices) and Bedrock's model catalogue
/// (`ListFoundationModels`, which names the Price List's models by ID); neither API has
/// resources to scope to (Service Authorization Reference). It runs where the operator runs,
/// so a fleet's operator policy has it too.
pub(super) fn price_list() -> (String, Permission) {
    (
        "ReadPriceList".into(),
        Permission::new(
            &["pricing:GetProducts", "bedrock:ListFoundationModels"],
            ["*".to_string()],
        ),
    )
}

/// The Cost Explorer read of `report --source billing`, only when asked for: Cost Explorer
/// cannot scope it to a resource.
pub(super) fn billing() -> Vec<(String, Permission)> {
    vec![(
        "ReadBilledSpend".into(),
        Permission::new(
            &["ce:GetCostAndUsage", "ce:GetCostForecast"],
            ["*".to_string()],
        ),
    )]
}

/// `report --source cur`, when `[cur_export]` is configured: find the export and its status
/// (Data Exports has no resource for listing; its ARNs end in a generated ID), read the
/// export's objects (and list them, only under the export's prefix), and with `[cur_export]
/// athena` read the table's columns, run the query in its workgroup over the Glue table,
/// writing results to its output location.
///
/// With `[cur_export] read`, the report reads that export instead and never asks Data Exports
/// about it (it may be another account's): the objects under its folder only, and with
/// `read_owner` only in a bucket of that account. Every S3 statement here carries
/// `s3:ResourceAccount` (AWS What's New, 2020-12-21, "New IAM condition keys for Amazon S3":
/// it restricts access "to S3 buckets that are owned by specified AWS Accounts"), so a bucket
/// of the same name in another account is refused by IAM as by `ExpectedBucketOwner`.
pub(super) fn cur_report(cx: &Context) -> Vec<(String, Permission)> {
    let existing = cx.config.cur_export.as_ref().and_then(|c| {
        let uri = crate::config::parse_export_uri(c.read.as_deref()?).ok()?;
        Some(crate::config::ExportUri {
            owner: c.read_owner.clone(),
            ..uri
        })
    });
    let location = match &existing {
        Some(uri) => ExportLocation::existing(uri, &cx.account.id),
        None => match ExportLocation::from_config(&cx.config, &cx.account.id) {
            Some(location) => location,
            None => return Vec::new(),
        },
    };
    let partition = cx.partition();
    let bucket = format!("arn:{partition}:s3:::{}", location.bucket);
    let prefix = location.export_prefix();
    let owner = json!({"s3:ResourceAccount": location.owner});
    let mut list = Permission::new(&["s3:ListBucket"], [bucket.clone()]);
    list.condition = Some(json!({
        "StringLike": {"s3:prefix": [format!("{prefix}*")]},
        "StringEquals": owner,
    }));
    let mut read = Permission::new(&["s3:GetObject"], [format!("{bucket}/{prefix}*")]);
    read.condition = Some(json!({"StringEquals": owner}));
    let mut out = if existing.is_some() {
        vec![
            ("ReadExistingCurExport".to_string(), read),
            ("ListExistingCurExport".to_string(), list),
        ]
    } else {
        vec![
            (
                "FindCurExport".to_string(),
                Permission::new(&["bcm-data-exports:ListExports"], ["*".to_string()]),
            ),
            (
                "ReadCurExportStatus".to_string(),
                Permission::new(
                    &["bcm-data-exports:GetExport"],
                    [format!(
                        "arn:{partition}:bcm-data-exports:us-east-1:{}:export/*",
                        cx.account.id
                    )],
                ),
            ),
            ("ReadCurExport".to_string(), read),
            ("ListCurExport".to_string(), list),
        ]
    };
    let Some(athena) = cx
        .config
        .cur_export
        .as_ref()
        .and_then(|c| c.athena.as_ref())
    else {
        return out;
    };
    let (region, account) = (&cx.region, &cx.account.id);
    out.push((
        "QueryCurWithAthena".into(),
        Permission::new(
            &[
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
            ],
            [format!(
                "arn:{partition}:athena:{region}:{account}:workgroup/{}",
                athena.workgroup
            )],
        ),
    ));
    // The table's columns and partition keys before the query (`report::cur::table`):
    // GetTableMetadata takes only the data catalog as its resource (Service Authorization
    // Reference, Amazon Athena: `datacatalog`, required, ARN
    // `arn:${Partition}:athena:${Region}:${Account}:datacatalog/${DataCatalogName}`), so no
    // narrower grant exists for it; the Glue reads below, which a query over the Glue Data
    // Catalog needs (Athena user guide, "Identity and Access Management in Athena"), are the
    // ones scoped to the table.
    out.push((
        "ReadCurTableColumns".into(),
        Permission::new(
            &["athena:GetTableMetadata"],
            [format!(
                "arn:{partition}:athena:{region}:{account}:datacatalog/{}",
                athena.catalog
            )],
        ),
    ));
    out.push((
        "ReadCurTable".into(),
        Permission::new(
            &["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            [
                format!("arn:{partition}:glue:{region}:{account}:catalog"),
                format!(
                    "arn:{partition}:glue:{region}:{account}:database/{}",
                    athena.database
                ),
                format!(
                    "arn:{partition}:glue:{region}:{account}:table/{}/{}",
                    athena.database, athena.table
                ),
            ],
        ),
    ));
    out.push((
        "ReadCurExportBucket".into(),
        Permission::new(&["s3:GetBucketLocation"], [bucket]),
    ));
    // A table over other data than the export's folder (`athena.location`): Athena reads its
    // objects with the caller's permissions (Athena user guide, "Control access to Amazon S3
    // from Athena": "users must have permission to access Amazon S3 buckets in order to query
    // them with Athena"; AWS Knowledge Center, "athena-access-iam": s3:GetObject and
    // s3:ListBucket on the table's location, s3:GetBucketLocation on its bucket).
    if let Some(table_data) = athena
        .location
        .as_deref()
        .and_then(|l| l.strip_prefix("s3://"))
    {
        let (data_bucket, data_prefix) = table_data.split_once('/').unwrap_or((table_data, ""));
        let data_prefix = data_prefix.trim_end_matches('/');
        let data_prefix = if data_prefix.is_empty() {
            String::new()
        } else {
            format!("{data_prefix}/")
        };
        let data_bucket = format!("arn:{partition}:s3:::{data_bucket}");
        out.push((
            "ReadCurTableData".into(),
            Permission::new(&["s3:GetObject"], [format!("{data_bucket}/{data_prefix}*")]),
        ));
        let mut list = Permission::new(&["s3:ListBucket"], [data_bucket.clone()]);
        if !data_prefix.is_empty() {
            list.condition =
                Some(json!({"StringLike": {"s3:prefix": [format!("{data_prefix}*")]}}));
        }
        out.push(("ListCurTableData".into(), list));
        out.push((
            "FindCurTableDataBucket".into(),
            Permission::new(&["s3:GetBucketLocation"], [data_bucket]),
        ));
    }
    if let Some(output) = athena
        .output
        .as_deref()
        .and_then(|o| o.strip_prefix("s3://"))
    {
        let output = output.trim_end_matches('/');
        let out_bucket = output.split('/').next().unwrap_or(output);
        out.push((
            "WriteAthenaResults".into(),
            Permission::new(
                &["s3:GetObject", "s3:PutObject"],
                [format!("arn:{partition}:s3:::{output}/*")],
            ),
        ));
        out.push((
            "FindAthenaResultsBucket".into(),
            Permission::new(
                &["s3:GetBucketLocation", "s3:ListBucket"],
                [format!("arn:{partition}:s3:::{out_bucket}")],
            ),
        ));
    }
    out
}

/// `limits` and `limits run --once`/`unblock` (with `[[limits]]`): what a pass needs
/// (`resources::limits_runner::pass_statements`, the list the runner's role is made from).
pub(super) fn limits(cx: &Context) -> Vec<(String, Permission)> {
    crate::resources::limits_runner::pass_statements(cx)
        .into_iter()
        .map(|s| (s.sid.to_string(), Permission::new(&s.actions, s.resources)))
        .collect()
}

/// `digest --publish` (with `[chat] digest`): what the digest reads and writes
/// (`resources::limits_runner::digest_statements`, the list the runner's role also holds).
pub(super) fn digest(cx: &Context) -> Vec<(String, Permission)> {
    crate::resources::limits_runner::digest_statements(cx)
        .into_iter()
        .map(|s| (s.sid.to_string(), Permission::new(&s.actions, s.resources)))
        .collect()
}
