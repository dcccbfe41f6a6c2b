//! The invocation-log objects Bedrock delivers to the stack's bucket: which to read for a month,
//! and the records in each.
//!
//! Where they lie: Bedrock writes under `<keyPrefix>/AWSLogs/<account>/BedrockModelInvocationLogs/`
//! (Bedrock user guide, "Monitor model invocation using CloudWatch Logs and Amazon S3": the
//! bucket policy's object ARN). Below that the guide says nothing; delivered objects are
//! `<region>/<YYYY>/<MM>/<DD>/<HH>/<name>.json.gz` (observed deliveries, as public tools that read
//! them record), large request or response bodies under a `data/` folder, and the
//! `amazon-bedrock-logs-permission-check` object beside `AWSLogs/`. This module lists the
//! month's folder under each child of the base (a region, or a year when there is no region
//! level), reads `.json.gz` and `.json` objects outside `data/`, and decides by each record's
//! own `timestamp` which day and month it belongs to.
//!
//! A record (the guide's example log, the fields the tool's saved queries read in
//! `crate::invocation_log`): `timestamp`, `accountId`, `region`, `identity.arn`, `modelId`,
//! `input.inputTokenCount`, `input.cacheReadInputTokenCount`,
//! `input.cacheWriteInputTokenCount`, `output.outputTokenCount`, and `requestMetadata`: the
//! caller's own key-value tags, a top-level object of strings (Bedrock user guide, "Per-request
//! metadata tagging": set by `requestMetadata` in Converse/ConverseStream or the
//! `X-Amzn-Bedrock-Request-Metadata` header of InvokeModel/InvokeModelWithResponseStream, and
//! recorded in the invocation log). The guide shows the request, not the record; a delivered
//! Converse record published with its fields (schemaVersion 1.0, in a 2025 talk's slides on
//! analysing ModelInvocationLog with Athena) has it at the top level beside `output`:
//! `"requestMetadata": {"traceId": "…"}`. An object holds one or more records, one JSON document
//! after another (one a line); both gzipped and plain objects are read.
//!
//! Used by the limits pass (the month's objects) and by `report` (`--by meta:KEY` and
//! `--allocate meta:KEY`: every record of the window, with its request metadata).

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::StreamExt;
use serde::Deserialize;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::cost::prices::Tokens;

/// The bases Bedrock may deliver under for `key_prefix` (see
/// `resources::bucket::Bucket::delivery_paths`: with a prefix, Bedrock may or may not add its
/// own '/').
pub fn bases(key_prefix: &str, account: &str) -> Vec<String> {
    let tail = format!("AWSLogs/{account}/BedrockModelInvocationLogs/");
    if key_prefix.is_empty() {
        return vec![tail];
    }
    let trimmed = key_prefix.trim_end_matches('/');
    vec![format!("{trimmed}/{tail}"), format!("{trimmed}//{tail}")]
}

/// Whether a listed key is an invocation-log object (not a large body, not the permission
/// check).
pub fn is_log_object(key: &str) -> bool {
    (key.ends_with(".json.gz") || key.ends_with(".json")) && !key.contains("/data/")
}

/// Every key under `prefix`, every page (S3 API reference, ListObjectsV2: at most 1,000 keys
/// an answer, `NextContinuationToken` while `IsTruncated`).
async fn list_all(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    prefix: &str,
    delimiter: bool,
) -> Result<(Vec<String>, Vec<String>), AwsError> {
    let (mut keys, mut folders) = (Vec::new(), Vec::new());
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .expected_bucket_owner(owner)
            .prefix(prefix)
            .set_delimiter(delimiter.then(|| "/".to_string()))
            .set_continuation_token(token.clone())
            .send()
            .await
            .aws("s3:ListBucket")?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_string),
        );
        folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix())
                .map(str::to_string),
        );
        match page.next_continuation_token().filter(|t| !t.is_empty()) {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
            _ => return Ok((keys, folders)),
        }
    }
}

/// The log objects of `month` (`YYYY-MM`) under every base, sorted.
pub async fn month_objects(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    bases: &[String],
    month: &str,
) -> Result<Vec<String>, AwsError> {
    let month_path = month.replace('-', "/");
    let year = month.get(..4).unwrap_or_default();
    let mut found = Vec::new();
    for base in bases {
        let (_, children) = list_all(clients, bucket, owner, base, true).await?;
        for child in children {
            let level = child
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default();
            // A year level right under the base (no region level): its month is below it.
            let prefix = if level.len() == 4 && level.chars().all(|c| c.is_ascii_digit()) {
                if level != year {
                    continue;
                }
                format!("{base}{month_path}/")
            } else {
                format!("{child}{month_path}/")
            };
            let (keys, _) = list_all(clients, bucket, owner, &prefix, false).await?;
            found.extend(keys.into_iter().filter(|k| is_log_object(k)));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// One record's part the limits and the report need.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub timestamp: DateTime<Utc>,
    pub principal: String,
    pub model_id: String,
    pub tokens: Tokens,
    /// `accountId`, when the record has it.
    pub account: Option<String>,
    /// `region`: where the call was made (and billed).
    pub region: Option<String>,
    /// `requestMetadata`: the caller's tags; a value that is not a string is left out.
    pub metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawRecord {
    timestamp: Option<String>,
    #[serde(rename = "accountId")]
    account_id: Option<String>,
    region: Option<String>,
    identity: Option<RawIdentity>,
    #[serde(rename = "modelId")]
    model_id: Option<String>,
    input: Option<RawInput>,
    output: Option<RawOutput>,
    #[serde(rename = "requestMetadata")]
    request_metadata: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawIdentity {
    arn: Option<String>,
}

#[derive(Deserialize)]
struct RawInput {
    #[serde(rename = "inputTokenCount")]
    input_tokens: Option<u64>,
    #[serde(rename = "cacheReadInputTokenCount")]
    cache_read: Option<u64>,
    #[serde(rename = "cacheWriteInputTokenCount")]
    cache_write: Option<u64>,
}

#[derive(Deserialize)]
struct RawOutput {
    #[serde(rename = "outputTokenCount")]
    output_tokens: Option<u64>,
}

/// The records of one object's bytes (gzipped or not); records without a timestamp are
/// counted in `skipped`, never guessed.
pub fn parse(bytes: &[u8]) -> Result<(Vec<Record>, u64), String> {
    let text;
    let data: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| format!("not a readable gzip file: {e}"))?;
        text = out;
        &text
    } else {
        bytes
    };
    let mut records = Vec::new();
    let mut skipped = 0;
    for raw in serde_json::Deserializer::from_slice(data).into_iter::<RawRecord>() {
        let raw = raw.map_err(|e| format!("not JSON records: {e}"))?;
        let Some(timestamp) = raw
            .timestamp
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            skipped += 1;
            continue;
        };
        let input = raw.input.as_ref();
        records.push(Record {
            timestamp: timestamp.with_timezone(&Utc),
            principal: raw
                .identity
                .and_then(|i| i.arn)
                .unwrap_or_else(|| "(unknown)".to_string()),
            model_id: raw.model_id.unwrap_or_default(),
            tokens: Tokens {
                input: input.and_then(|i| i.input_tokens).unwrap_or(0),
                output: raw.output.and_then(|o| o.output_tokens).unwrap_or(0),
                cache_read: input.and_then(|i| i.cache_read).unwrap_or(0),
                cache_write: input.and_then(|i| i.cache_write).unwrap_or(0),
                cache_write_1h: 0,
            },
            account: raw.account_id.filter(|a| !a.is_empty()),
            region: raw.region.filter(|r| !r.is_empty()),
            metadata: raw
                .request_metadata
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect(),
        });
    }
    Ok((records, skipped))
}

/// Reads one object and its records.
pub async fn read(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key: &str,
) -> Result<(Vec<Record>, u64), AwsError> {
    read_delivered(clients, bucket, owner, key)
        .await
        .map(|(records, skipped, _)| (records, skipped))
}

/// [`read`], with when the object was delivered: its `Last-Modified` (S3 API reference,
/// GetObject: "Date and time when the object was last modified"; Bedrock writes each log object
/// once), from which the delay between a call and its log's delivery is measured.
pub async fn read_delivered(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key: &str,
) -> Result<(Vec<Record>, u64, Option<DateTime<Utc>>), AwsError> {
    let out = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(owner)
        .send()
        .await
        .aws("s3:GetObject")?;
    let delivered = out
        .last_modified()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| AwsError::bad_response("s3:GetObject", &format!("{key}: {e}")))?
        .into_bytes();
    let (records, skipped) = parse(&body).map_err(|why| {
        AwsError::bad_response("s3:GetObject", &format!("s3://{bucket}/{key}: {why}"))
    })?;
    Ok((records, skipped, delivered))
}

/// Objects read at once: S3 round trips overlap, memory stays a few objects.
const READ_CONCURRENCY: usize = 8;

/// What [`fold_between`] read: the objects of every month the days touch and of the month
/// after the last (a record near midnight at a month's end is delivered in the next month's
/// folder; each record is placed by its own `timestamp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DaysRead {
    pub objects: u64,
    /// Records of the days, each handed to the fold.
    pub records: u64,
    /// Records without a timestamp (not counted).
    pub skipped: u64,
}

/// Hands every record of the UTC days `[start, end)` in the stack's log bucket to `each`, one
/// object at a time and in the objects' key order (so sums come out the same on every run).
/// Nothing is kept: a caller's memory grows with what it folds the records into, not with the
/// records of the window (a month of a busy account is millions).
pub async fn fold_between(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key_prefix: &str,
    (start, end): (NaiveDate, NaiveDate),
    mut each: impl FnMut(Record),
) -> Result<DaysRead, AwsError> {
    let bases = bases(key_prefix, owner);
    let mut keys = Vec::new();
    for month in months(start, end) {
        keys.extend(month_objects(clients, bucket, owner, &bases, &month).await?);
    }
    keys.sort();
    keys.dedup();
    let mut out = DaysRead {
        objects: keys.len() as u64,
        ..DaysRead::default()
    };
    let mut reads = futures::stream::iter(keys)
        .map(|key| async move { read(clients, bucket, owner, &key).await })
        .buffered(READ_CONCURRENCY);
    while let Some(read) = reads.next().await {
        let (records, skipped) = read?;
        out.skipped += skipped;
        for record in records {
            let day = record.timestamp.date_naive();
            if day >= start && day < end {
                out.records += 1;
                each(record);
            }
        }
    }
    Ok(out)
}

/// `YYYY-MM` of every month from `start`'s to the one holding `end` (inclusive).
fn months(start: NaiveDate, end: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = (start.year(), start.month());
    while (y, m) <= (end.year(), end.month()) {
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzipped_records_one_a_line_are_read() {
        let lines = concat!(
            r#"{"schemaType":"ModelInvocationLog","timestamp":"2026-05-03T10:00:00Z","identity":{"arn":"arn:aws:iam::1:user/a"},"modelId":"m","input":{"inputBodyJson":{"x":[1,2]},"inputTokenCount":10,"cacheReadInputTokenCount":4},"output":{"outputTokenCount":5}}"#,
            "\n",
            r#"{"timestamp":"2026-05-03T10:00:01Z","identity":{"arn":"arn:aws:iam::1:user/b"},"modelId":"m","input":{"inputTokenCount":1},"output":{"outputTokenCount":2}}"#,
            "\n",
            r#"{"identity":{"arn":"arn:aws:iam::1:user/c"}}"#,
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(lines.as_bytes()).unwrap();
        let (records, skipped) = parse(&gz.finish().unwrap()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(skipped, 1);
        assert_eq!(records[0].tokens.input, 10);
        assert_eq!(records[0].tokens.cache_read, 4);
        assert_eq!(records[0].tokens.output, 5);
        assert_eq!(records[1].principal, "arn:aws:iam::1:user/b");
        assert!(records[0].metadata.is_empty());
        assert!(parse(b"not json").is_err());
    }

    /// `requestMetadata` as the user guide's per-request metadata page shows it: a top-level
    /// object of strings; a value of another type is left out, never turned into text.
    #[test]
    fn request_metadata_account_and_region_are_read() {
        let line = r#"{"timestamp":"2026-05-03T10:00:00Z","accountId":"123456789012","region":"us-east-1","identity":{"arn":"arn:aws:iam::1:user/a"},"modelId":"m","input":{"inputTokenCount":10},"output":{"outputTokenCount":5},"requestMetadata":{"user":"ana","team":"search","n":3}}"#;
        let (records, _) = parse(line.as_bytes()).unwrap();
        let r = &records[0];
        assert_eq!(r.metadata.get("user").map(String::as_str), Some("ana"));
        assert_eq!(r.metadata.get("team").map(String::as_str), Some("search"));
        assert!(!r.metadata.contains_key("n"));
        assert_eq!(r.account.as_deref(), Some("123456789012"));
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn months_cover_the_days_and_the_next_delivery() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            months(d("2026-11-20"), d("2026-12-01")),
            ["2026-11", "2026-12"]
        );
        assert_eq!(
            months(d("2026-12-31"), d("2027-01-02")),
            ["2026-12", "2027-01"]
        );
    }

    #[test]
    fn only_log_objects_are_read() {
        assert!(is_log_object(
            "b/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/05/03/10/x.json.gz"
        ));
        assert!(!is_log_object(
            "b/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/05/03/10/data/x.json.gz"
        ));
        assert!(!is_log_object("b/amazon-bedrock-logs-permission-check"));
        assert_eq!(
            bases("", "1"),
            vec!["AWSLogs/1/BedrockModelInvocationLogs/"]
        );
        assert_eq!(bases("bedrock/", "1").len(), 2);
    }
}
