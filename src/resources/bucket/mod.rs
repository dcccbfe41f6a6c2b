//! `bucket`: the S3 archive of invocation logs: created in the configured region, versioned,
//! expired by a lifecycle rule, encrypted, closed to the public, readable for Bedrock's
//! deliveries only, TLS-only, tagged (at creation, so that no run leaves it untagged).
//!
//! Every S3 call that takes it names the target account as `ExpectedBucketOwner` (the
//! `x-amz-expected-bucket-owner` header; Amazon S3 API reference, e.g. HeadBucket: "If the
//! account ID that you provide does not match the actual owner of the bucket, the request fails
//! with the HTTP status code 403 Forbidden (access denied)"), so that a bucket of the same name
//! in someone else's account is never read, written or emptied. CreateBucket does not take it.
//! What `cleanup --purge-data` removes is in [`data`].

mod data;
mod read;

pub use data::PurgeScope;

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{
    Action, ComponentId, Context, Diff, Foreign, Health, Ownership, Permission, Resource,
};
use crate::resources::kms::{self, BUCKET_KEY, KeyCheck};
use crate::resources::{foreign_by_tags, ownership_from_tags, retry_while, tags_field};
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
    /// The key prefix the tool's data lies under (with a trailing '/'): all that
    /// `cleanup --purge-data` deletes.
    pub purge_prefix: String,
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
            purge_prefix: Self::purge_prefix(cx),
        })
    }

    /// Where the log archive lies: the key prefix, or without one Bedrock's own delivery path
    /// `AWSLogs/<account>/BedrockModelInvocationLogs/` (Bedrock user guide, "Monitor model
    /// invocation using CloudWatch Logs and Amazon S3", the bucket policy's object ARN).
    pub fn purge_prefix(cx: &Context) -> String {
        let prefix = &cx.config.bucket.key_prefix;
        if prefix.is_empty() {
            format!("AWSLogs/{}/BedrockModelInvocationLogs/", cx.account.id)
        } else {
            prefix.clone()
        }
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

    fn tag_list(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, AwsError> {
        Ok(tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()?)
    }

    fn tagging(
        spec: &BucketSpec,
        observed: &BTreeMap<String, String>,
    ) -> Result<Tagging, AwsError> {
        // PutBucketTagging replaces the whole set: keep tags set by others.
        let mut all = observed.clone();
        all.extend(spec.tags.clone());
        Ok(Tagging::builder()
            .set_tag_set(Some(Self::tag_list(&all)?))
            .build()?)
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
                .expected_bucket_owner(&cx.account.id)
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
                    .expected_bucket_owner(&cx.account.id)
                    .lifecycle_configuration(config)
                    .send()
                    .await
                    .aws("s3:PutLifecycleConfiguration")
                    .map(|_| ())
            }
            SettingWrite::Encryption => s3
                .put_bucket_encryption()
                .bucket(name)
                .expected_bucket_owner(&cx.account.id)
                .server_side_encryption_configuration(Self::encryption_configuration(spec)?)
                .send()
                .await
                .aws("s3:PutEncryptionConfiguration")
                .map(|_| ()),
            SettingWrite::PublicAccessBlock => s3
                .put_public_access_block()
                .bucket(name)
                .expected_bucket_owner(&cx.account.id)
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
                    .expected_bucket_owner(&cx.account.id)
                    .policy(policy.to_string())
                    .send()
                    .await
                    .aws("s3:PutBucketPolicy")
                    .map(|_| ())
            }
            SettingWrite::Tags => s3
                .put_bucket_tagging()
                .bucket(name)
                .expected_bucket_owner(&cx.account.id)
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
        // A bucket created just now got its tags with CreateBucket already; they are written
        // again all the same, for endpoints that create the bucket and drop them (moto 5.2.1
        // does, and so may other S3-compatible stores): one write, and the bucket is tagged
        // wherever it was made.
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
                // CreateBucket with tags (S3 user guide, "Creating a general purpose bucket
                // with tags": s3:CreateBucket and s3:TagResource).
                "s3:TagResource",
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

    fn foreign(&self, cx: &Context, read: &Self::State) -> Vec<Foreign> {
        Self::foreign_bucket(cx, &cx.bucket_name(), &read.bucket)
            .into_iter()
            .collect()
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
        let Some(state) = &read.bucket else {
            return Ok(());
        };
        Self::purge(cx, &Self::spec(cx)?, state).await
    }
}

impl Bucket {
    /// The bucket `name`, when it exists in this region without this stack's tag (one in
    /// another region is refused for its region, whoever owns it).
    pub fn foreign_bucket(
        cx: &Context,
        name: &str,
        state: &Option<BucketState>,
    ) -> Option<Foreign> {
        let s = state.as_ref().filter(|s| s.region == cx.region)?;
        foreign_by_tags(cx, format!("bucket {name}"), &s.tags)
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
            // us-east-1 is the one region that must not be named as a location constraint.
            let location = (cx.region != "us-east-1")
                .then(|| BucketLocationConstraint::from(cx.region.as_str()));
            // Tagged at creation (CreateBucketConfiguration `Tags`, which needs s3:TagResource;
            // S3 user guide, "Creating a general purpose bucket with tags"): a run stopped
            // right after this call leaves a bucket that is already this stack's, so the next
            // run carries on instead of finding an untagged bucket it may not adopt.
            let configuration = CreateBucketConfiguration::builder()
                .set_location_constraint(location)
                .set_tags(Some(Self::tag_list(&spec.tags)?))
                .build();
            let create = s3
                .create_bucket()
                .bucket(&name)
                .create_bucket_configuration(configuration);
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
}
