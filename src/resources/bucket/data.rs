//! What `cleanup --purge-data` does to a bucket of this stack's: it deletes only what the tool
//! wrote there, the object versions and delete markers under the spec's prefix, and the bucket
//! itself only when nothing else is left in it. A bucket that still holds objects outside the
//! prefix (another team's, in a bucket that was adopted) is kept and given back: this stack's
//! policy statements, lifecycle rule and stack tag come off, so that it is no longer this
//! stack's and a second cleanup leaves it alone. Its versioning, encryption and public-access
//! block stay as they are.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{BucketLifecycleConfiguration, Delete, ObjectIdentifier, Tagging};
use serde::Serialize;

use super::{Bucket, BucketSpec, BucketState};
use crate::aws::{AwsError, AwsResultExt};
use crate::config::STACK_TAG_KEY;
use crate::docs;
use crate::engine::{ComponentId, Context};
use crate::resources::absent_if;

/// DeleteObjects takes at most 1000 keys a request (Amazon S3 API reference, DeleteObjects).
const DELETE_BATCH: i32 = 1000;

/// What a purge of one bucket would do, for the question before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurgeScope {
    pub bucket: String,
    /// The prefix the tool's data lies under.
    pub prefix: String,
    /// Object versions and delete markers under the prefix: deleted.
    pub under_prefix: u64,
    /// Object versions and delete markers elsewhere in the bucket: kept, and with them the
    /// bucket.
    pub elsewhere: u64,
}

impl PurgeScope {
    /// "4 object versions under s3://b/bedrock/, then the bucket (nothing else is in it)".
    pub fn describe(&self) -> String {
        let versions = |n: u64| format!("{n} object version{}", if n == 1 { "" } else { "s" });
        let then = if self.elsewhere == 0 {
            "then the bucket (nothing else is in it)".to_string()
        } else {
            format!(
                "not the bucket: it keeps {} outside that prefix, which bedrock-monitor did not write",
                versions(self.elsewhere)
            )
        };
        format!(
            "{} under s3://{}/{}, {then}",
            versions(self.under_prefix),
            self.bucket,
            self.prefix
        )
    }
}

impl Bucket {
    /// Object versions and delete markers under `prefix` (`""`: the whole bucket); 0 when
    /// there is no such bucket.
    pub async fn count_versions_of(
        cx: &Context,
        name: &str,
        prefix: &str,
    ) -> Result<u64, AwsError> {
        let mut count = 0u64;
        let mut key_marker: Option<String> = None;
        let mut version_marker: Option<String> = None;
        loop {
            let page = cx
                .aws
                .s3
                .list_object_versions()
                .bucket(name)
                .expected_bucket_owner(&cx.account.id)
                .set_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
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

    /// What purging `spec`'s bucket would delete, and what it would leave.
    pub async fn purge_scope(cx: &Context, spec: &BucketSpec) -> Result<PurgeScope, AwsError> {
        let (under, all) = tokio::join!(
            Self::count_versions_of(cx, &spec.name, &spec.purge_prefix),
            Self::count_versions_of(cx, &spec.name, ""),
        );
        let under = under?;
        Ok(PurgeScope {
            bucket: spec.name.clone(),
            prefix: spec.purge_prefix.clone(),
            under_prefix: under,
            elsewhere: all?.saturating_sub(under),
        })
    }

    /// Deletes what the tool wrote in the bucket, then the bucket when nothing else is in it;
    /// otherwise gives the bucket back (see the module's comment).
    pub async fn purge(
        cx: &Context,
        spec: &BucketSpec,
        state: &BucketState,
    ) -> Result<(), AwsError> {
        let s3 = &cx.aws.s3;
        let name = spec.name.as_str();
        let owner = cx.account.id.as_str();
        // This stack's policy statements go first: the TLS-only deny could block the deletes
        // (moto applies it without its condition). Others' statements stay.
        if let Some(observed) = &state.policy {
            match docs::without_statements(&spec.policy, observed) {
                None => {
                    absent_if(
                        s3.delete_bucket_policy()
                            .bucket(name)
                            .expected_bucket_owner(owner)
                            .send()
                            .await
                            .aws("s3:DeleteBucketPolicy"),
                        &["NoSuchBucket", "NoSuchBucketPolicy"],
                    )?;
                }
                Some(theirs) => {
                    s3.put_bucket_policy()
                        .bucket(name)
                        .expected_bucket_owner(owner)
                        .policy(theirs.to_string())
                        .send()
                        .await
                        .aws("s3:PutBucketPolicy")?;
                }
            }
        }
        Self::empty_prefix(cx, spec.component, name, &spec.purge_prefix).await?;
        let left = Self::count_versions_of(cx, name, "").await?;
        if left == 0 {
            absent_if(
                s3.delete_bucket()
                    .bucket(name)
                    .expected_bucket_owner(owner)
                    .send()
                    .await
                    .aws("s3:DeleteBucket"),
                &["NoSuchBucket"],
            )?;
            return Ok(());
        }
        Self::give_back(cx, spec, state).await?;
        cx.notice(format!(
            "{}: bucket {name} was kept: after deleting what lay under {}, it still holds {left} object version{} that bedrock-monitor did not write; this stack's policy statements, lifecycle rule and tag {STACK_TAG_KEY} were removed from it",
            spec.component,
            spec.purge_prefix,
            if left == 1 { "" } else { "s" }
        ));
        Ok(())
    }

    /// Takes this stack's lifecycle rule and stack tag off a bucket that stays. The IAM actions
    /// named on the errors are the ones S3 authorizes the calls as (S3 API reference:
    /// DeleteBucketLifecycle needs s3:PutLifecycleConfiguration, DeleteBucketTagging
    /// s3:PutBucketTagging), already in the bucket's permissions.
    async fn give_back(
        cx: &Context,
        spec: &BucketSpec,
        state: &BucketState,
    ) -> Result<(), AwsError> {
        let s3 = &cx.aws.s3;
        let name = spec.name.as_str();
        let owner = cx.account.id.as_str();
        if let Some(l) = &spec.lifecycle {
            let rules: Vec<_> = state
                .lifecycle_rules
                .iter()
                .filter(|r| r.id() != Some(l.rule_id))
                .cloned()
                .collect();
            if rules.len() != state.lifecycle_rules.len() {
                if rules.is_empty() {
                    s3.delete_bucket_lifecycle()
                        .bucket(name)
                        .expected_bucket_owner(owner)
                        .send()
                        .await
                        .aws("s3:PutLifecycleConfiguration")?;
                } else {
                    s3.put_bucket_lifecycle_configuration()
                        .bucket(name)
                        .expected_bucket_owner(owner)
                        .lifecycle_configuration(
                            BucketLifecycleConfiguration::builder()
                                .set_rules(Some(rules))
                                .build()?,
                        )
                        .send()
                        .await
                        .aws("s3:PutLifecycleConfiguration")?;
                }
            }
        }
        // Only the stack tag: it is what made the bucket this stack's. Other keys (cost
        // allocation tags) may have been there before it was adopted.
        let rest: BTreeMap<String, String> = state
            .tags
            .iter()
            .filter(|(k, _)| k.as_str() != STACK_TAG_KEY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if rest.len() != state.tags.len() {
            if rest.is_empty() {
                s3.delete_bucket_tagging()
                    .bucket(name)
                    .expected_bucket_owner(owner)
                    .send()
                    .await
                    .aws("s3:PutBucketTagging")?;
            } else {
                s3.put_bucket_tagging()
                    .bucket(name)
                    .expected_bucket_owner(owner)
                    .tagging(
                        Tagging::builder()
                            .set_tag_set(Some(Self::tag_list(&rest)?))
                            .build()?,
                    )
                    .send()
                    .await
                    .aws("s3:PutBucketTagging")?;
            }
        }
        Ok(())
    }

    /// Deletes every version and delete marker under `prefix`, a page at a time.
    async fn empty_prefix(
        cx: &Context,
        component: ComponentId,
        name: &str,
        prefix: &str,
    ) -> Result<(), AwsError> {
        let s3 = &cx.aws.s3;
        loop {
            let page = s3
                .list_object_versions()
                .bucket(name)
                .expected_bucket_owner(&cx.account.id)
                .set_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
                .max_keys(DELETE_BATCH)
                .send()
                .await;
            let Some(page) = absent_if(page.aws("s3:ListBucketVersions"), &["NoSuchBucket"])?
            else {
                return Ok(());
            };
            let mut objects = Vec::new();
            let found = page
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    page.delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                );
            for (key, version) in found {
                // S3 filters by the prefix already; checked again so that nothing outside it
                // is ever deleted, whatever the endpoint answered.
                if let Some(key) = key.filter(|k| k.starts_with(prefix)) {
                    objects.push(
                        ObjectIdentifier::builder()
                            .key(key)
                            .set_version_id(version.map(str::to_string))
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
                .expected_bucket_owner(&cx.account.id)
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
                        "{} of {n} object versions under s3://{name}/{prefix} could not be deleted; first: {} ({})",
                        out.errors().len(),
                        err.key().unwrap_or_default(),
                        err.message().unwrap_or_default()
                    ),
                    hint: Some("check for object lock or legal holds on the bucket, then run cleanup again".into()),
                    details: None,
                });
            }
            cx.note(
                component,
                &format!("deleted {n} object versions under s3://{name}/{prefix}"),
            );
        }
    }
}
