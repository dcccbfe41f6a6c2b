//! A CUR object in S3 as the Parquet reader's `AsyncFileReader`: ranged `GetObject`s through
//! the SDK's S3 client, the footer first (one GET for a guess at its size), the bytes fetched
//! counted for the report's `scan`.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::future::BoxFuture;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::aws::{AwsError, AwsResultExt};

/// The footer of a large object is usually within its last 64 KiB: one GET instead of two. A
/// small object's guess is a sixteenth of it, so the footer GET does not fetch the columns the
/// report leaves out.
const FOOTER_HINT: usize = 64 * 1024;

fn footer_hint(size: u64) -> usize {
    usize::try_from(size / 16)
        .unwrap_or(FOOTER_HINT)
        .clamp(8, FOOTER_HINT)
}

/// An S3 object as Parquet's `AsyncFileReader`: ranged `GetObject`s, counting the bytes.
pub struct S3Object {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    /// The account that owns the bucket (`ExpectedBucketOwner`).
    owner: String,
    size: u64,
    /// The bytes fetched so far.
    pub(super) read: Arc<AtomicU64>,
    /// The object's tail as fetched for the footer (offset, bytes): a small object is all
    /// tail, and its column chunks are then served from here instead of fetched again.
    tail: Option<(u64, Bytes)>,
}

impl S3Object {
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: &str,
        key: &str,
        size: u64,
        owner: &str,
    ) -> S3Object {
        S3Object {
            client,
            bucket: bucket.to_string(),
            key: key.to_string(),
            owner: owner.to_string(),
            size,
            read: Arc::new(AtomicU64::new(0)),
            tail: None,
        }
    }

    async fn range(&mut self, range: Range<u64>) -> Result<Bytes, AwsError> {
        if range.start >= range.end {
            return Ok(Bytes::new());
        }
        if let Some((offset, tail)) = &self.tail
            && range.start >= *offset
            && range.end <= offset + tail.len() as u64
        {
            let from = (range.start - offset) as usize;
            let to = (range.end - offset) as usize;
            return Ok(tail.slice(from..to));
        }
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .expected_bucket_owner(&self.owner)
            .key(&self.key)
            .range(format!("bytes={}-{}", range.start, range.end - 1))
            .send()
            .await
            .aws("s3:GetObject")?;
        let body = out.body.collect().await.map_err(|e| {
            AwsError::setup(
                format!(
                    "reading s3://{}/{} was cut short: {e}",
                    self.bucket, self.key
                ),
                "try again",
            )
        })?;
        let bytes = body.into_bytes();
        self.read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if range.end == self.size && self.tail.is_none() {
            self.tail = Some((range.start, bytes.clone()));
        }
        Ok(bytes)
    }
}

impl AsyncFileReader for S3Object {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        Box::pin(async move {
            self.range(range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        })
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        Box::pin(async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(footer_hint(size)))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        })
    }
}
