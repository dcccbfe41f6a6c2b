//! Sending the digest once per period: the last digest's time is one small object in the
//! stack's bucket, beside the limits' state, and a digest is sent only by the run that wrote
//! it with a conditional write (`If-Match` the ETag read, `If-None-Match: *` when there was
//! none: Amazon S3 user guide, "How to prevent object overwrites with conditional writes";
//! `412 Precondition Failed` or `409 ConditionalRequestConflict` when another writer came
//! first). Two runners, or a runner and a cron job, never both send.
//!
//! One publish carries both renderings (Amazon SNS API reference, `Publish`,
//! `MessageStructure`: with `json`, `Message` "must be a syntactically valid JSON object" and
//! "contain at least a top-level JSON key of "default" with a value that is a string"; other
//! top-level keys name a protocol): `email` gets the readable text, every other protocol the
//! custom notification. AWS Chatbot reads only the custom-notification format (its
//! administrator guide, "Custom notifications"); the notification is under `https` and under
//! `default` too, so that the chat channels get it whatever protocol their subscription uses
//! (the pages read for this name none).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::config::Config;
use crate::limits::state;

use super::Digest;

/// The record's layout; another is refused rather than misread.
pub const RECORD_VERSION: u32 = 1;

/// SNS: a message is at most 262,144 bytes (Amazon SNS API reference, `Publish`, `Message`).
pub const MAX_MESSAGE_BYTES: usize = 262_144;

/// SNS: a subject is at most 100 printable ASCII characters (Amazon SNS API reference,
/// `Publish`, `Subject`).
pub const MAX_SUBJECT_CHARS: usize = 100;

/// Where the last digest's record is: beside (never under) the invocation logs' prefix, like
/// the limits' state, so the logs' lifecycle rule and `cleanup --purge-data` leave it.
pub fn record_key(stack: &str) -> String {
    format!("bedrock-monitor/digest/{stack}/last.json")
}

/// The last digest sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub version: u32,
    pub sent_at: DateTime<Utc>,
    pub frequency: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

/// What a publishing run did.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// Whether this run sent the digest.
    pub sent: bool,
    /// Why not, or what was sent.
    pub reason: String,
    pub bucket: String,
    pub record_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// When the digest before this run was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sent: Option<DateTime<Utc>>,
    /// The digest sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
}

impl std::fmt::Display for Published {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.reason)?;
        if let Some(d) = &self.digest {
            writeln!(f)?;
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The record and its ETag, or none.
struct Loaded {
    record: Option<Record>,
    etag: Option<String>,
}

async fn load(clients: &Clients, bucket: &str, owner: &str, key: &str) -> Result<Loaded, AwsError> {
    let read = state::get_with_etag(clients, bucket, owner, key)
        .await
        .map_err(|e| {
            e.with_hint(format!(
                "s3://{bucket}: run `bedrock-monitor apply` to create the stack's bucket"
            ))
        })?;
    let Some((body, etag)) = read else {
        return Ok(Loaded {
            record: None,
            etag: None,
        });
    };
    let record: Record = serde_json::from_slice(&body).map_err(|e| {
        AwsError::setup(
            format!("s3://{bucket}/{key} is not a digest record this version reads: {e}"),
            "delete the object (the next run sends a digest and writes it again)",
        )
    })?;
    if record.version != RECORD_VERSION {
        return Err(AwsError::setup(
            format!(
                "s3://{bucket}/{key} has layout version {}, this binary reads {RECORD_VERSION}",
                record.version
            ),
            "run the same bedrock-monitor version everywhere (the runner and the CLI)",
        ));
    }
    Ok(Loaded {
        record: Some(record),
        etag,
    })
}

/// The SNS message: the notification for chat (and any other protocol), text for email.
pub fn message(digest: &Digest) -> Result<String, AwsError> {
    let notification = digest.notification().to_string();
    let text = digest.to_text();
    let body = json!({
        "default": notification,
        "https": notification,
        "email": text,
    })
    .to_string();
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(AwsError::setup(
            format!(
                "the digest is {} bytes, more than the {MAX_MESSAGE_BYTES} an SNS message holds",
                body.len()
            ),
            "shorten the stack's names (the digest lists at most five models and principals)",
        ));
    }
    Ok(body)
}

/// The email's subject: the title, printable ASCII only, cut to SNS's limit.
pub fn subject(digest: &Digest) -> String {
    digest
        .title()
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

/// `[chat] digest` in the account and region of `clients`: sends the digest when a period has
/// passed since the last one (what the runner calls after each pass, and `digest --publish`).
pub async fn maybe_publish(
    clients: &Clients,
    config: &Config,
    account: &str,
    partition: &str,
    now: DateTime<Utc>,
) -> Result<Published, AwsError> {
    let bucket = config.bucket.resolved_name(account, &clients.region);
    let key = record_key(&config.stack.name);
    let skipped = |reason: String, last_sent: Option<DateTime<Utc>>| Published {
        sent: false,
        reason,
        bucket: bucket.clone(),
        record_key: key.clone(),
        message_id: None,
        last_sent,
        digest: None,
    };
    let Some((frequency, days)) = config
        .chat
        .as_ref()
        .and_then(|c| c.digest.clone().zip(c.digest_days()))
    else {
        return Ok(skipped(
            "no digest configured ([chat] digest)".to_string(),
            None,
        ));
    };
    let loaded = load(clients, &bucket, account, &key).await?;
    let last_sent = loaded.record.as_ref().map(|r| r.sent_at);
    if !super::due(last_sent, days, now) {
        return Ok(skipped(
            format!(
                "the {frequency} digest is not due: the last was sent at {}",
                last_sent.map(|t| t.to_rfc3339()).unwrap_or_default()
            ),
            last_sent,
        ));
    }
    let digest = super::build(clients, config, account, partition, &frequency, days, now).await?;
    let body = message(&digest)?;
    let record = Record {
        version: RECORD_VERSION,
        sent_at: now,
        frequency: frequency.clone(),
        window_start: digest.window.start,
        window_end: digest.window.end,
    };
    let bytes = serde_json::to_vec(&record)
        .map_err(|e| AwsError::bad_response("s3:PutObject", &format!("{key}: {e}")))?;
    // Claimed before sending: the run whose write wins sends; the other stops here.
    let Some(claimed) = state::put_conditional(
        clients,
        &bucket,
        account,
        &key,
        loaded.etag.as_deref(),
        bytes,
    )
    .await?
    else {
        return Ok(skipped(
            format!("another run recorded a {frequency} digest first; not sent twice"),
            last_sent,
        ));
    };
    let topic = format!(
        "arn:{partition}:sns:{}:{account}:{}",
        clients.region, config.alerts.topic_name
    );
    let sent = clients
        .sns
        .publish()
        .topic_arn(&topic)
        .subject(subject(&digest))
        .message_structure("json")
        .message(body)
        .send()
        .await
        .aws("sns:Publish");
    match sent {
        Ok(out) => Ok(Published {
            sent: true,
            reason: format!("the {frequency} digest was published to {topic}"),
            bucket,
            record_key: key,
            message_id: out.message_id().map(str::to_string),
            last_sent,
            digest: Some(digest),
        }),
        Err(e) => {
            // Give the period back so the next run sends it: the old record again (or none),
            // only over this run's own write.
            let restore = match &loaded.record {
                Some(old) => serde_json::to_vec(old).ok(),
                None => None,
            };
            let undone = match restore {
                Some(bytes) => {
                    state::put_conditional(clients, &bucket, account, &key, Some(&claimed), bytes)
                        .await
                        .map(|w| w.is_some())
                }
                None => delete(clients, &bucket, account, &key).await.map(|()| true),
            };
            let note = match undone {
                Ok(true) => "the record was put back, so the next run tries again".to_string(),
                Ok(false) | Err(_) => format!(
                    "the record s3://{bucket}/{key} still says it was sent: delete it to send \
                     this period's digest"
                ),
            };
            Err(e.with_hint(format!(
                "the alert topic {topic}: run `bedrock-monitor apply` to create it; {note}"
            )))
        }
    }
}

async fn delete(clients: &Clients, bucket: &str, owner: &str, key: &str) -> Result<(), AwsError> {
    clients
        .s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(owner)
        .send()
        .await
        .aws("s3:DeleteObject")
        .map(|_| ())
}
