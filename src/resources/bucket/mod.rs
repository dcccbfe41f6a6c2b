//! `bucket`: the S3 archive of invocation logs: created in the configured region, versioned,
//! expired by a lifecycle rule, encrypted, closed to the public, readable for Bedrock's
//! deliveries only, TLS-only, tagged.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, Delete, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    ObjectIdentifier, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{Action, ComponentId, Context, Diff, Health, Ownership, Permission, Resource};
use crate::resources::kms::{self, BUCKET_KEY, KeyCheck};
use crate::resources::{absent_if, ownership_from_tags, retry_while, tags_field};
use std::time::Duration;

pub struct Bucket;

/// The lifecycle rule this tool owns; other rules on the bucket are kept as they are.
pub const LIFECYCLE_RULE_ID: &str = "bedrock-monitor-log-expiry";

/// The bucket (`None`: no bucket has the name) and, with `bucket.kms_key_arn`, what its key's
/// policy allows Bedrock.
#[derive(Debug, Clone)]
pub struct BucketRead {
    pub bucket: Option<BucketState>,
    pub key: Option<KeyCheck>,
}

#[derive(Debug, Clone)]
pub struct BucketState {
    pub region: String,
    pub versioning: Option<String>,
    pub lifecycle_rules: Vec<LifecycleRule>,
    pub encryption: Value,
    pub public_access_block: Value,
    pub policy: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

/// What one managed bucket should be. The log bucket and the CUR export's bucket share the
/// reading, comparing and writing below; each describes itself with a spec.
pub struct BucketSpec {
    /// The component whose progress notes the bucket's waits appear under.
    pub component: ComponentId,
    pub name: String,
    /// SSE-KMS with this key; `None`: SSE-S3.
    pub kms_key_arn: Option<String>,
    /// The lifecycle rule this tool owns on the bucket; `None`: none.
    pub lifecycle: Option<LifecycleSpec>,
    /// This tool's policy statements (others' statements on the bucket are kept).
    pub policy: Value,
    pub tags: BTreeMap<String, String>,
    /// What to do when a bucket of that name is in another region.
    pub region_hint: &'static str,
}

/// A lifecycle rule of this tool's, identified on the bucket by `rule_id`.
pub struct LifecycleSpec {
    pub rule_id: &'static str,
    pub prefix: String,
    /// Current versions expire after this many days; `None`: they stay.
    pub expire_after_days: Option<i32>,
    pub noncurrent_expire_after_days: i32,
}

/// One bucket-configuration write.
#[derive(Debug, Clone, Copy)]
enum SettingWrite {
    Versioning,
    Lifecycle,
    Encryption,
    PublicAccessBlock,
    Policy,
    Tags,
}

impl Bucket {
    /// The log bucket's spec.
    pub fn spec(cx: &Context) -> Result<BucketSpec, AwsError> {
        let b = &cx.config.bucket;
        let policy = docs::render(
            "bucket-policy",
            json!({
                "account_id": cx.account.id,
                "partition": cx.partition(),
                "region": cx.region,
                "bucket": cx.bucket_name(),
                "delivery_paths": Self::delivery_paths(cx),
            }),
        )?;
        Ok(BucketSpec {
            component: ComponentId::Bucket,
            name: cx.bucket_name(),
            kms_key_arn: b.kms_key_arn.clone(),
            lifecycle: Some(LifecycleSpec {
                rule_id: LIFECYCLE_RULE_ID,
                prefix: b.key_prefix.clone(),
                expire_after_days: Some(b.expire_after_days),
                noncurrent_expire_after_days: b.noncurrent_expire_after_days,
            }),
            policy,
            tags: cx.config.tags(),
            region_hint: "Bedrock delivers logs only to a bucket in its own region: choose another `bucket.name` (or deploy to that region)",
        })
    }

    fn desired_lifecycle(spec: &BucketSpec) -> Value {
        let Some(l) = &spec.lifecycle else {
            return Value::Null;
        };
        json!({
            "id": l.rule_id,
            "status": "Enabled",
            "prefix": l.prefix,
            "expire_after_days": l.expire_after_days,
            "noncurrent_expire_after_days": l.noncurrent_expire_after_days,
            "abort_incomplete_upload_after_days": 1,
        })
    }

    fn desired_encryption(spec: &BucketSpec) -> Value {
        match &spec.kms_key_arn {
            Some(key) => encryption_value("aws:kms", Some(key.as_str()), true),
            None => encryption_value("AES256", None, false),
        }
    }

    fn desired_public_access_block() -> Value {
        json!({
            "block_public_acls": true,
            "ignore_public_acls": true,
            "block_public_policy": true,
            "restrict_public_buckets": true,
        })
    }

    /// The object ARNs Bedrock may write its logs to. AWS's examples give the key prefix
    /// without a trailing '/' and the path as `prefix/AWSLogs/...`; the config's prefix ends in
    /// '/', and Bedrock may add its own separator, so both `prefix/AWSLogs/...` and
    /// `prefix//AWSLogs/...` are allowed (the role's policy and the lifecycle rule, on
    /// `prefix*`, cover both already).
    pub fn delivery_paths(cx: &Context) -> Vec<String> {
        let base = format!("arn:{}:s3:::{}/", cx.partition(), cx.bucket_name());
        let tail = format!("AWSLogs/{}/BedrockModelInvocationLogs/*", cx.account.id);
        let prefix = &cx.config.bucket.key_prefix;
        if prefix.is_empty() {
            return vec![format!("{base}{tail}")];
        }
        let trimmed = prefix.trim_end_matches('/');
        vec![
            format!("{base}{trimmed}/{tail}"),
            format!("{base}{trimmed}//{tail}"),
        ]
    }

    /// This tool's statements plus any other statements already on the bucket.
    fn desired_policy(spec: &BucketSpec, observed: Option<&Value>) -> Value {
        docs::merge_statements(spec.policy.clone(), observed)
    }

    fn desired(
        cx: &Context,
        spec: &BucketSpec,
        state: Option<&BucketState>,
    ) -> Vec<(String, Value)> {
        vec![
            ("region".into(), json!(cx.region)),
            ("versioning".into(), json!("Enabled")),
            ("lifecycle_rule".into(), Self::desired_lifecycle(spec)),
            ("encryption".into(), Self::desired_encryption(spec)),
            (
                "public_access_block".into(),
                Self::desired_public_access_block(),
            ),
            (
                "policy".into(),
                Self::desired_policy(spec, state.and_then(|s| s.policy.as_ref())),
            ),
            ("tags".into(), json!(spec.tags)),
        ]
    }

    fn our_rule(spec: &BucketSpec, rules: &[LifecycleRule]) -> Value {
        let Some(l) = &spec.lifecycle else {
            return Value::Null;
        };
        rules
            .iter()
            .find(|r| r.id() == Some(l.rule_id))
            .map(|r| {
                json!({
                    "id": l.rule_id,
                    "status": r.status().as_str(),
                    "prefix": r.filter().and_then(|f| f.prefix()).unwrap_or_default(),
                    "expire_after_days": r.expiration().and_then(|e| e.days()),
                    "noncurrent_expire_after_days": r.noncurrent_version_expiration().and_then(|n| n.noncurrent_days()),
                    "abort_incomplete_upload_after_days": r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()),
                })
            })
            .unwrap_or(Value::Null)
    }

    fn lifecycle_rule(l: &LifecycleSpec) -> Result<LifecycleRule, AwsError> {
        Ok(LifecycleRule::builder()
            .id(l.rule_id)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(&l.prefix).build())
            .set_expiration(
                l.expire_after_days
                    .map(|days| LifecycleExpiration::builder().days(days).build()),
            )
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(l.noncurrent_expire_after_days)
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(1)
                    .build(),
            )
            .build()?)
    }

    /// The bucket's region: `Ok(None)` when no bucket has the name. A bucket of another
    /// account answers 403; that name is taken.
    async fn locate(cx: &Context, name: &str) -> Result<Option<String>, AwsError> {
        let head = cx.aws.s3.head_bucket().bucket(name).send().await;
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
        match cx.aws.s3.get_bucket_versioning().bucket(name).send().await {
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

    fn region_error(cx: &Context, spec: &BucketSpec, region: &str) -> AwsError {
        AwsError {
            operation: "s3:ListBucket".into(),
            code: Some("BucketInAnotherRegion".into()),
            message: format!(
                "bucket {} exists in {region}, not in {}",
                spec.name, cx.region
            ),
            hint: Some(spec.region_hint.into()),
            details: None,
        }
    }

    fn tagging(
        spec: &BucketSpec,
        observed: &BTreeMap<String, String>,
    ) -> Result<Tagging, AwsError> {
        // PutBucketTagging replaces the whole set: keep tags set by others.
        let mut all = observed.clone();
        all.extend(spec.tags.clone());
        let tags = all
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Tagging::builder().set_tag_set(Some(tags)).build()?)
    }

    fn encryption_configuration(
        spec: &BucketSpec,
    ) -> Result<ServerSideEncryptionConfiguration, AwsError> {
        let default = match &spec.kms_key_arn {
            Some(key) => ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(key)
                .build()?,
            None => ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?,
        };
        // Written for both modes, compared only for SSE-KMS (see `encryption_value`).
        Ok(ServerSideEncryptionConfiguration::builder()
            .rules(
                ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(true)
                    .build(),
            )
            .build()?)
    }

    /// The settings writes `diff` calls for, in order.
    fn writes(diff: &Diff) -> Vec<SettingWrite> {
        let wanted = [
            // Closed to the public first: the bucket is never open while the rest is written.
            ("public_access_block", SettingWrite::PublicAccessBlock),
            ("encryption", SettingWrite::Encryption),
            ("versioning", SettingWrite::Versioning),
            ("lifecycle_rule", SettingWrite::Lifecycle),
            ("policy", SettingWrite::Policy),
            ("tags", SettingWrite::Tags),
        ];
        wanted
            .into_iter()
            .filter(|(field, _)| diff.touches(field))
            .map(|(_, write)| write)
            .collect()
    }

    async fn put_setting(
        cx: &Context,
        spec: &BucketSpec,
        state: &Option<BucketState>,
        observed_tags: &BTreeMap<String, String>,
        write: SettingWrite,
    ) -> Result<(), AwsError> {
        let s3 = &cx.aws.s3;
        let name = spec.name.as_str();
        match write {
            SettingWrite::Versioning => s3
                .put_bucket_versioning()
                .bucket(name)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .aws("s3:PutBucketVersioning")
                .map(|_| ()),
            SettingWrite::Lifecycle => {
                let mut rules: Vec<LifecycleRule> = state
                    .as_ref()
                    .map(|s| s.lifecycle_rules.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|r| {
                        spec.lifecycle
                            .as_ref()
                            .is_none_or(|l| r.id() != Some(l.rule_id))
                    })
                    .collect();
                if let Some(l) = &spec.lifecycle {
                    rules.push(Self::lifecycle_rule(l)?);
                }
                let config = BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()?;
                s3.put_bucket_lifecycle_configuration()
                    .bucket(name)
                    .lifecycle_configuration(config)
                    .send()
                    .await
                    .aws("s3:PutLifecycleConfiguration")
                    .map(|_| ())
            }
            SettingWrite::Encryption => s3
                .put_bucket_encryption()
                .bucket(name)
                .server_side_encryption_configuration(Self::encryption_configuration(spec)?)
                .send()
                .await
                .aws("s3:PutEncryptionConfiguration")
                .map(|_| ()),
            SettingWrite::PublicAccessBlock => s3
                .put_public_access_block()
                .bucket(name)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .aws("s3:PutBucketPublicAccessBlock")
                .map(|_| ()),
            SettingWrite::Policy => {
                let policy =
                    Self::desired_policy(spec, state.as_ref().and_then(|s| s.policy.as_ref()));
                s3.put_bucket_policy()
                    .bucket(name)
                    .policy(policy.to_string())
                    .send()
                    .await
                    .aws("s3:PutBucketPolicy")
                    .map(|_| ())
            }
            SettingWrite::Tags => s3
                .put_bucket_tagging()
                .bucket(name)
                .tagging(Self::tagging(spec, observed_tags)?)
                .send()
                .await
                .aws("s3:PutBucketTagging")
                .map(|_| ()),
        }
    }

    /// The settings writes `diff` calls for, one after another: S3 answers a configuration
    /// write on a bucket while another one is in progress with 409 OperationAborted, which the
    /// SDK does not retry. That answer (and NoSuchBucket, which S3 may give for a moment right
    /// after CreateBucket) is retried with backoff.
    async fn put_settings(
        cx: &Context,
        spec: &BucketSpec,
        state: &Option<BucketState>,
        diff: &Diff,
        observed_tags: &BTreeMap<String, String>,
    ) -> Result<(), AwsError> {
        for write in Self::writes(diff) {
            retry_while(
                cx,
                spec.component,
                Duration::from_secs(60),
                "S3 is still applying the bucket's previous change",
                |e| e.code_is(&["NoSuchBucket", "OperationAborted"]),
                || Self::put_setting(cx, spec, state, observed_tags, write),
            )
            .await?;
        }
        Ok(())
    }

    /// How many object versions and delete markers the bucket holds (what a purge removes).
    pub async fn count_versions(cx: &Context) -> Result<u64, AwsError> {
        Self::count_versions_of(cx, &cx.bucket_name()).await
    }

    /// [`Bucket::count_versions`] of any bucket.
    pub async fn count_versions_of(cx: &Context, name: &str) -> Result<u64, AwsError> {
        let mut count = 0u64;
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = cx
                .aws
                .s3
                .list_object_versions()
                .bucket(name)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await;
            let Some(page) = absent_if(page.aws("s3:ListBucketVersions"), &["NoSuchBucket"])?
            else {
                return Ok(0);
            };
            count += page.versions().len() as u64 + page.delete_markers().len() as u64;
            if page.is_truncated() != Some(true) {
                return Ok(count);
            }
            key_marker = page.next_key_marker().map(str::to_string);
            version_marker = page.next_version_id_marker().map(str::to_string);
            if key_marker.is_none() {
                return Ok(count);
            }
        }
    }

    /// Delete every version and delete marker, 1000 per request.
    async fn empty(cx: &Context, component: ComponentId, name: &str) -> Result<(), AwsError> {
        let s3 = &cx.aws.s3;
        loop {
            let page = s3
                .list_object_versions()
                .bucket(name)
                .max_keys(1000)
                .send()
                .await
                .aws("s3:ListBucketVersions")?;
            let mut objects = Vec::new();
            for v in page.versions() {
                if let Some(key) = v.key() {
                    objects.push(
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(v.version_id().map(str::to_string))
                            .build()?,
                    );
                }
            }
            for m in page.delete_markers() {
                if let Some(key) = m.key() {
                    objects.push(
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(m.version_id().map(str::to_string))
                            .build()?,
                    );
                }
            }
            if objects.is_empty() {
                return Ok(());
            }
            let n = objects.len();
            let out = s3
                .delete_objects()
                .bucket(name)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .aws("s3:DeleteObjectVersion")?;
            if let Some(err) = out.errors().first() {
                return Err(AwsError {
                    operation: "s3:DeleteObjectVersion".into(),
                    code: err.code().map(str::to_string),
                    message: format!(
                        "{} of {n} object versions could not be deleted; first: {} ({})",
                        out.errors().len(),
                        err.key().unwrap_or_default(),
                        err.message().unwrap_or_default()
                    ),
                    hint: Some("check for object lock or legal holds on the bucket, then run cleanup again".into()),
                    details: None,
                });
            }
            cx.note(component, &format!("deleted {n} object versions"));
        }
    }
}

/// What reading, converging and (with `--purge-data`) emptying and deleting a bucket needs.
pub fn bucket_permissions(partition: &str, name: &str) -> Vec<Permission> {
    let bucket = format!("arn:{partition}:s3:::{name}");
    vec![
        Permission::new(
            &[
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:CreateBucket",
                "s3:GetBucketVersioning",
                "s3:PutBucketVersioning",
                "s3:GetLifecycleConfiguration",
                "s3:PutLifecycleConfiguration",
                "s3:GetEncryptionConfiguration",
                "s3:PutEncryptionConfiguration",
                "s3:GetBucketPublicAccessBlock",
                "s3:PutBucketPublicAccessBlock",
                "s3:GetBucketPolicy",
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
                "s3:GetBucketTagging",
                "s3:PutBucketTagging",
                "s3:ListBucketVersions",
                "s3:DeleteBucket",
            ],
            [bucket.clone()],
        ),
        // Only `cleanup --purge-data` empties a bucket.
        Permission::new(
            &["s3:DeleteObject", "s3:DeleteObjectVersion"],
            [format!("{bucket}/*")],
        ),
    ]
}

/// Encryption as compared: what the mode means. SSE-S3 (AES256) has no key and no use for a
/// bucket key (AWS may report the flag either way), so only the algorithm counts for it.
fn encryption_value(algorithm: &str, kms_key_id: Option<&str>, bucket_key: bool) -> Value {
    if algorithm == "AES256" {
        json!({"algorithm": "AES256"})
    } else {
        json!({"algorithm": algorithm, "kms_key_id": kms_key_id, "bucket_key_enabled": bucket_key})
    }
}

#[async_trait]
impl Resource for Bucket {
    type State = BucketRead;

    fn id(&self) -> ComponentId {
        ComponentId::Bucket
    }

    fn name(&self, cx: &Context) -> String {
        cx.bucket_name()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let spec = Self::spec(cx)?;
        let (bucket, key) = tokio::join!(
            Self::read_bucket(cx, &spec),
            kms::check_configured(cx, &cx.config.bucket.kms_key_arn, &BUCKET_KEY)
        );
        Ok(BucketRead {
            bucket: bucket?,
            key,
        })
    }

    fn diff(&self, cx: &Context, read: &Self::State) -> Diff {
        let key = &cx.config.bucket.kms_key_arn;
        let diff = match Self::spec(cx) {
            Ok(spec) => Self::bucket_diff(cx, &spec, &read.bucket),
            Err(e) => Diff::unchanged().with_note(e.to_string()),
        };
        kms::with_note(diff, cx, key, &BUCKET_KEY, &read.key)
    }

    fn health(&self, cx: &Context, read: &Self::State) -> Vec<Health> {
        kms::health_facts(cx, &cx.config.bucket.kms_key_arn, &BUCKET_KEY, &read.key)
    }

    async fn apply(&self, cx: &Context, read: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        Self::apply_bucket(cx, &Self::spec(cx)?, &read.bucket, diff).await
    }

    fn ownership(&self, cx: &Context, read: &Self::State) -> Ownership {
        match &read.bucket {
            None => Ownership::Missing,
            Some(s) if s.region != cx.region => Ownership::NotManaged {
                reason: format!("a bucket of that name exists in {}", s.region),
            },
            Some(s) => ownership_from_tags(cx, &s.tags),
        }
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        bucket_permissions(cx.partition(), &cx.bucket_name())
            .into_iter()
            .chain(
                cx.config
                    .bucket
                    .kms_key_arn
                    .iter()
                    .map(|key| Permission::new(&["kms:GetKeyPolicy"], [key.clone()])),
            )
            .collect()
    }

    async fn delete(&self, cx: &Context, read: &Self::State) -> Result<(), AwsError> {
        if read.bucket.is_none() {
            return Ok(());
        }
        Self::delete_bucket(cx, &Self::spec(cx)?).await
    }
}

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
            s3.get_bucket_lifecycle_configuration().bucket(&name).send(),
            s3.get_bucket_encryption().bucket(&name).send(),
            s3.get_public_access_block().bucket(&name).send(),
            s3.get_bucket_policy().bucket(&name).send(),
            s3.get_bucket_tagging().bucket(&name).send(),
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

    pub fn bucket_diff(cx: &Context, spec: &BucketSpec, state: &Option<BucketState>) -> Diff {
        let desired = Self::desired(cx, spec, state.as_ref());
        let Some(state) = state else {
            return Diff::create(desired);
        };
        let mut diff = Diff::compare(desired, |field| match field {
            "region" => json!(state.region),
            "versioning" => json!(state.versioning),
            "lifecycle_rule" => Self::our_rule(spec, &state.lifecycle_rules),
            "encryption" => state.encryption.clone(),
            "public_access_block" => state.public_access_block.clone(),
            "policy" => state.policy.clone().unwrap_or(Value::Null),
            "tags" => tags_field(&spec.tags, &state.tags).0,
            _ => Value::Null,
        });
        diff.changes.retain(|c| {
            !(c.field == "policy" && !c.old.is_null() && docs::same_policy(&c.old, &c.new))
        });
        if diff.changes.is_empty() {
            diff.action = Action::Unchanged;
        }
        if state.region != cx.region {
            diff = diff.with_note(Self::region_error(cx, spec, &state.region).to_string());
        }
        diff
    }

    pub async fn apply_bucket(
        cx: &Context,
        spec: &BucketSpec,
        state: &Option<BucketState>,
        diff: &Diff,
    ) -> Result<(), AwsError> {
        let name = spec.name.clone();
        let s3 = &cx.aws.s3;
        let observed_tags = state.as_ref().map(|s| s.tags.clone()).unwrap_or_default();
        if let Some(s) = state {
            if s.region != cx.region {
                return Err(Self::region_error(cx, spec, &s.region));
            }
        } else {
            let mut create = s3.create_bucket().bucket(&name);
            // us-east-1 is the one region that must not be named as a location constraint.
            if cx.region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(cx.region.as_str()))
                        .build(),
                );
            }
            match create.send().await.aws("s3:CreateBucket") {
                Ok(_) => {}
                // Created by an earlier, interrupted run of this tool.
                Err(e) if e.code_is(&["BucketAlreadyOwnedByYou"]) => {}
                Err(e) if e.code_is(&["BucketAlreadyExists"]) => {
                    return Err(e.with_hint(
                        "bucket names are global and another account owns this one: choose another `bucket.name`",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        Self::put_settings(cx, spec, state, diff, &observed_tags).await
    }

    pub async fn delete_bucket(cx: &Context, spec: &BucketSpec) -> Result<(), AwsError> {
        let name = spec.name.clone();
        let s3 = &cx.aws.s3;
        // The policy's deny statement could block the deletes below: remove it first.
        absent_if(
            s3.delete_bucket_policy()
                .bucket(&name)
                .send()
                .await
                .aws("s3:DeleteBucketPolicy"),
            &["NoSuchBucket", "NoSuchBucketPolicy"],
        )?;
        Self::empty(cx, spec.component, &name).await?;
        absent_if(
            s3.delete_bucket()
                .bucket(&name)
                .send()
                .await
                .aws("s3:DeleteBucket"),
            &["NoSuchBucket"],
        )?;
        Ok(())
    }
}
