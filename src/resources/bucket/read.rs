//! Reading a bucket: where it is (HeadBucket, or GetBucketLocation when S3 does not say) and,
//! in this region, each setting this tool manages. Every call names the target account as the
//! expected owner (see the parent module).

use std::collections::BTreeMap;

use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::{Value, json};

use super::{Bucket, BucketSpec, BucketState, encryption_value};
use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::Context;
use crate::resources::absent_if;

impl Bucket {
    pub async fn read_bucket(
        cx: &Context,
        spec: &BucketSpec,
    ) -> Result<Option<BucketState>, AwsError> {
        let name = spec.name.clone();
        let Some(region) = Self::locate(cx, &name).await? else {
            return Ok(None);
        };
        if region != cx.region {
            // Settings of a bucket in another region are not ours to read or change.
            return Ok(Some(BucketState {
                region,
                versioning: None,
                lifecycle_rules: Vec::new(),
                encryption: Value::Null,
                public_access_block: Value::Null,
                policy: None,
                tags: BTreeMap::new(),
            }));
        }
        let s3 = &cx.aws.s3;
        let (versioning, lifecycle, encryption, pab, policy, tagging) = tokio::join!(
            Self::read_versioning(cx, &name),
            s3.get_bucket_lifecycle_configuration()
                .bucket(&name)
                .expected_bucket_owner(&cx.account.id)
                .send(),
            s3.get_bucket_encryption()
                .bucket(&name)
                .expected_bucket_owner(&cx.account.id)
                .send(),
            s3.get_public_access_block()
                .bucket(&name)
                .expected_bucket_owner(&cx.account.id)
                .send(),
            s3.get_bucket_policy()
                .bucket(&name)
                .expected_bucket_owner(&cx.account.id)
                .send(),
            s3.get_bucket_tagging()
                .bucket(&name)
                .expected_bucket_owner(&cx.account.id)
                .send(),
        );
        let lifecycle_rules = absent_if(
            lifecycle.aws("s3:GetLifecycleConfiguration"),
            &["NoSuchLifecycleConfiguration"],
        )?
        .map(|l| l.rules().to_vec())
        .unwrap_or_default();
        let encryption = absent_if(
            encryption.aws("s3:GetEncryptionConfiguration"),
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )?
        .and_then(|e| {
            let rule = e
                .server_side_encryption_configuration()?
                .rules()
                .first()?
                .clone();
            let default = rule.apply_server_side_encryption_by_default()?;
            Some(encryption_value(
                default.sse_algorithm().as_str(),
                default.kms_master_key_id(),
                rule.bucket_key_enabled().unwrap_or(false),
            ))
        })
        .unwrap_or(Value::Null);
        let public_access_block = absent_if(
            pab.aws("s3:GetBucketPublicAccessBlock"),
            &["NoSuchPublicAccessBlockConfiguration"],
        )?
        .and_then(|p| {
            let c = p.public_access_block_configuration()?;
            Some(json!({
                "block_public_acls": c.block_public_acls().unwrap_or(false),
                "ignore_public_acls": c.ignore_public_acls().unwrap_or(false),
                "block_public_policy": c.block_public_policy().unwrap_or(false),
                "restrict_public_buckets": c.restrict_public_buckets().unwrap_or(false),
            }))
        })
        .unwrap_or(Value::Null);
        let policy = absent_if(policy.aws("s3:GetBucketPolicy"), &["NoSuchBucketPolicy"])?
            .and_then(|p| p.policy().and_then(docs::parse_policy));
        let tags = absent_if(tagging.aws("s3:GetBucketTagging"), &["NoSuchTagSet"])?
            .map(|t| {
                t.tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(BucketState {
            region,
            versioning: versioning?,
            lifecycle_rules,
            encryption,
            public_access_block,
            policy,
            tags,
        }))
    }

    /// The bucket's region: `Ok(None)` when no bucket has the name. A bucket of another
    /// account answers 403; that name is taken.
    async fn locate(cx: &Context, name: &str) -> Result<Option<String>, AwsError> {
        let head = cx
            .aws
            .s3
            .head_bucket()
            .bucket(name)
            .expected_bucket_owner(&cx.account.id)
            .send()
            .await;
        match head {
            Ok(out) => Ok(Some(out.bucket_region().unwrap_or(&cx.region).to_string())),
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => Ok(None),
            // Another region: S3 answers 301, or sometimes 400, usually with the region in a
            // header; without it, GetBucketLocation (served from any region) tells.
            Err(SdkError::ServiceError(e)) if matches!(e.raw().status().as_u16(), 301 | 400) => {
                match e.raw().headers().get("x-amz-bucket-region") {
                    Some(region) => Ok(Some(region.to_string())),
                    None => Self::location(cx, name).await.map(Some),
                }
            }
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 403 => Err(AwsError {
                operation: "s3:ListBucket".into(),
                code: Some("AccessDenied".into()),
                message: format!("bucket {name} exists but this account cannot access it"),
                hint: Some(
                    "bucket names are global and this one belongs to another account (or your credentials lack s3:ListBucket); choose another `bucket.name`".into(),
                ),
                details: None,
            }),
            Err(e) => Err(AwsError::from_sdk("s3:ListBucket", e)),
        }
    }

    /// The bucket's region from GetBucketLocation (no constraint means us-east-1, "EU" is the
    /// legacy name of eu-west-1).
    async fn location(cx: &Context, name: &str) -> Result<String, AwsError> {
        let out = cx
            .aws
            .s3
            .get_bucket_location()
            .bucket(name)
            .expected_bucket_owner(&cx.account.id)
            .send()
            .await
            .aws("s3:GetBucketLocation")?;
        Ok(match out.location_constraint().map(|c| c.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(region) => region.to_string(),
        })
    }

    async fn read_versioning(cx: &Context, name: &str) -> Result<Option<String>, AwsError> {
        match cx
            .aws
            .s3
            .get_bucket_versioning()
            .bucket(name)
            .expected_bucket_owner(&cx.account.id)
            .send()
            .await
        {
            Ok(out) => Ok(out.status().map(|s| s.as_str().to_string())),
            Err(err) => {
                // moto 5 names the response's root element GetBucketVersioningResponse instead
                // of VersioningConfiguration, which the SDK's parser rejects; the body is
                // otherwise what S3 sends, so read the status from it.
                if let Some(raw) = err.raw_response()
                    && let Some(text) = raw.body().bytes().map(String::from_utf8_lossy)
                    && text.contains("GetBucketVersioningResponse")
                {
                    return Ok(text
                        .split("<Status>")
                        .nth(1)
                        .and_then(|rest| rest.split("</Status>").next())
                        .map(str::to_string));
                }
                Err(AwsError::from_sdk("s3:GetBucketVersioning", err))
            }
        }
    }
}
