//! The running totals of one month, one small JSON object in the stack's bucket, read and
//! written with S3 conditional writes so that two passes never double count or lose an update.
//!
//! Amazon S3 user guide, "How to prevent object overwrites with conditional writes": a
//! PutObject with `If-None-Match: *` succeeds only when no object has the key, one with
//! `If-Match: ETAG` only when the object's ETag is that one; otherwise S3 answers
//! `412 Precondition Failed`, and `409 ConditionalRequestConflict` when a concurrent write
//! conflicts ("retry"). Either means another pass wrote first: the pass reads again and redoes
//! its work on top (`super::pass`). A PutObject with `If-Match` on a key that no longer exists
//! is answered `404 NoSuchKey`, treated the same way.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, AwsResultExt, Clients};
use crate::cost::prices::Tokens;

/// The layout of the state object; another version is refused rather than misread.
pub const STATE_VERSION: u32 = 1;

/// Where the tool keeps its limits state in the stack's bucket, beside (never under) the
/// invocation logs' prefix, so the logs' lifecycle rule and `cleanup --purge-data` leave it.
pub fn state_key(stack: &str, month: &str) -> String {
    format!("bedrock-monitor/limits/{stack}/{month}.json")
}

/// `YYYY-MM` of `now` (UTC).
pub fn month_of(now: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", now.year(), now.month())
}

/// The month before `month` (`YYYY-MM`).
pub fn previous_month(month: &str) -> Option<String> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let before = first.pred_opt()?;
    Some(format!("{:04}-{:02}", before.year(), before.month()))
}

/// Spend and tokens of one principal (or profile) in a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub usd: f64,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Records of a model with no price (their tokens are above, their cost is not).
    pub unpriced_records: u64,
}

impl Totals {
    pub fn add(&mut self, tokens: &Tokens, usd: Option<f64>) {
        self.invocations += 1;
        self.input_tokens += tokens.input;
        self.output_tokens += tokens.output;
        self.cache_read_tokens += tokens.cache_read;
        self.cache_write_tokens += tokens.cache_write;
        match usd {
            Some(usd) => self.usd += usd,
            None => self.unpriced_records += 1,
        }
    }
}

/// Where a limit stands for one principal (or a team's profile) in the current period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The period the entry belongs to: `YYYY-MM-DD` for a day limit, `YYYY-MM` for a month.
    pub period: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_at: Option<DateTime<Utc>>,
    /// An alert-only limit crossed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_at: Option<DateTime<Utc>>,
    /// Unblocked by hand (`limits unblock`): not blocked again in this period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<DateTime<Utc>>,
}

/// A notice for the alert topic; published once, after the state that records it is written,
/// then dropped (the standing remembers that it was sent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub at: DateTime<Utc>,
    /// `warned`, `blocked` or `unblocked`.
    pub kind: String,
    pub limit: String,
    pub subject: String,
    pub message: String,
    #[serde(default)]
    pub published: bool,
}

/// What the tool has denied, as it last wrote it: IAM users with the tool's inline deny, and
/// per role the `aws:userid` values (`ROLEID:SESSION`) its role policy denies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Enforced {
    pub users: BTreeSet<String>,
    pub roles: BTreeMap<String, BTreeSet<String>>,
    /// Per blocked user, the long-term Bedrock API keys (service-specific credential IDs) the
    /// tool turned off: only these are turned on again when the block is lifted. Absent in a
    /// state written before keys were turned off (read as none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_keys: BTreeMap<String, BTreeSet<String>>,
}

impl Enforced {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.roles.values().all(BTreeSet::is_empty)
            && self.api_keys.values().all(BTreeSet::is_empty)
    }
}

/// The state of one month.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub month: String,
    /// The UTC day the `*_day` totals are of.
    pub day: String,
    /// Every log object counted, by folder (the key up to its last '/') and name: a late
    /// delivery into an old folder is still new here, which a time watermark would miss.
    pub objects: BTreeMap<String, BTreeSet<String>>,
    pub principals_month: BTreeMap<String, Totals>,
    pub principals_day: BTreeMap<String, Totals>,
    /// Spend through application inference profiles, by the `modelId` the logs show.
    pub profiles_month: BTreeMap<String, Totals>,
    pub profiles_day: BTreeMap<String, Totals>,
    /// Records outside this month in the objects read (a late delivery of last month's calls),
    /// counted nowhere else.
    pub records_outside_month: u64,
    /// Per limit, per subject (principal ARN, or `profile:NAME`).
    pub standings: BTreeMap<String, BTreeMap<String, Standing>>,
    pub enforced: Enforced,
    pub notices: Vec<Notice>,
}

impl State {
    pub fn new(month: &str, day: &str) -> State {
        State {
            version: STATE_VERSION,
            month: month.to_string(),
            day: day.to_string(),
            ..State::default()
        }
    }

    pub fn counted(&self, key: &str) -> bool {
        let (folder, name) = split_key(key);
        self.objects.get(folder).is_some_and(|s| s.contains(name))
    }

    pub fn mark_counted(&mut self, key: &str) {
        let (folder, name) = split_key(key);
        self.objects
            .entry(folder.to_string())
            .or_default()
            .insert(name.to_string());
    }

    pub fn object_count(&self) -> usize {
        self.objects.values().map(BTreeSet::len).sum()
    }
}

fn split_key(key: &str) -> (&str, &str) {
    key.rsplit_once('/').unwrap_or(("", key))
}

/// The state as read, with the ETag a conditional write must name (`None`: no object yet).
pub struct Loaded {
    pub state: Option<State>,
    pub etag: Option<String>,
}

/// An object's bytes and ETag, `None` when there is no object at the key: what the limits'
/// state and the digest's record are read with.
pub async fn get_with_etag(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>, AwsError> {
    let got = clients
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(owner)
        .send()
        .await
        .aws("s3:GetObject");
    let out = match got {
        Ok(out) => out,
        Err(e) if e.code_is(&["NoSuchKey"]) => return Ok(None),
        Err(e) => return Err(e),
    };
    let etag = out.e_tag().map(str::to_string);
    let body = out
        .body
        .collect()
        .await
        .map_err(|e| AwsError::bad_response("s3:GetObject", &format!("{key}: {e}")))?
        .into_bytes()
        .to_vec();
    Ok(Some((body, etag)))
}

/// Writes `body` with `If-Match: etag` over the object read, `If-None-Match: *` when there was
/// none; `Ok(None)` when another writer came first, else the new ETag.
pub async fn put_conditional(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key: &str,
    etag: Option<&str>,
    body: Vec<u8>,
) -> Result<Option<String>, AwsError> {
    let request = clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .expected_bucket_owner(owner)
        .content_type("application/json")
        .body(ByteStream::from(body));
    let request = match etag {
        Some(etag) => request.if_match(etag),
        None => request.if_none_match("*"),
    };
    match request.send().await.aws("s3:PutObject") {
        Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
        Err(e)
            if e.code_is(&[
                "PreconditionFailed",
                "ConditionalRequestConflict",
                "NoSuchKey",
                "HTTP 412",
                "HTTP 409",
            ]) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Reads the state object; none is `Loaded { state: None, etag: None }`.
pub async fn load(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key: &str,
) -> Result<Loaded, AwsError> {
    let Some((body, etag)) = get_with_etag(clients, bucket, owner, key).await? else {
        return Ok(Loaded {
            state: None,
            etag: None,
        });
    };
    let state: State = serde_json::from_slice(&body).map_err(|e| {
        AwsError::setup(
            format!("s3://{bucket}/{key} is not a limits state this version reads: {e}"),
            "move the object aside (the next pass recounts the month from the logs)",
        )
    })?;
    if state.version != STATE_VERSION {
        return Err(AwsError::setup(
            format!(
                "s3://{bucket}/{key} has layout version {}, this binary reads {STATE_VERSION}",
                state.version
            ),
            "run the same bedrock-monitor version everywhere (the runner and the CLI)",
        ));
    }
    Ok(Loaded {
        state: Some(state),
        etag,
    })
}

/// How a conditional write ended.
pub enum Saved {
    Written,
    /// Another pass wrote first (412, 409, or the object went away): read again and redo.
    Conflict,
}

/// Writes `state`: `If-Match: etag` over the object read, `If-None-Match: *` when there was
/// none.
pub async fn save(
    clients: &Clients,
    bucket: &str,
    owner: &str,
    key: &str,
    etag: Option<&str>,
    state: &State,
) -> Result<Saved, AwsError> {
    let body = serde_json::to_vec(state)
        .map_err(|e| AwsError::bad_response("s3:PutObject", &format!("{key}: {e}")))?;
    Ok(
        match put_conditional(clients, bucket, owner, key, etag, body).await? {
            Some(_) => Saved::Written,
            None => Saved::Conflict,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_turn_over_years() {
        assert_eq!(previous_month("2026-01").as_deref(), Some("2025-12"));
        assert_eq!(previous_month("2026-07").as_deref(), Some("2026-06"));
    }

    #[test]
    fn objects_are_counted_by_folder_and_name() {
        let mut s = State::new("2026-05", "2026-05-03");
        s.mark_counted("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/05/03/10/a.json.gz");
        assert!(
            s.counted("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/05/03/10/a.json.gz")
        );
        assert!(
            !s.counted("p/AWSLogs/1/BedrockModelInvocationLogs/us-east-1/2026/05/03/11/a.json.gz")
        );
        assert_eq!(s.object_count(), 1);
    }
}
