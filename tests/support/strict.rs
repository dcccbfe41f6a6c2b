//! "Strict AWS": rules the test proxy applies where moto accepts a request that AWS rejects,
//! or answers otherwise. Every end-to-end test runs behind them (`TestEnv` installs them), so
//! the suite fails when the tool sends what AWS would refuse. Each rule names the AWS document
//! it follows.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::proxy::{FollowUp, Protocol, Proxy, Reply, StrictRequest, StrictRule, Verdict};

/// The installed rules that tests inspect.
pub struct Installed {
    pub s3_conflicts: Arc<S3ConfigurationConflicts>,
    pub bucket_owner: Arc<ExpectedBucketOwner>,
}

/// Installs every rule below on `proxy`.
pub fn install(proxy: &Proxy) -> Installed {
    let installed = Installed {
        s3_conflicts: Arc::new(S3ConfigurationConflicts::default()),
        bucket_owner: Arc::new(ExpectedBucketOwner::default()),
    };
    reinstall(proxy, &installed);
    installed
}

/// Installs the rules again after `Proxy::clear_rules`, keeping what the stateful ones learned
/// (which account owns which bucket).
pub fn reinstall(proxy: &Proxy, installed: &Installed) {
    proxy.add_rule(installed.s3_conflicts.clone());
    proxy.add_rule(Arc::new(AlarmEvaluationLimits));
    proxy.add_rule(Arc::new(BudgetLimits::default()));
    proxy.add_rule(Arc::new(NoDashboardTags));
    proxy.add_rule(Arc::new(AlarmsStartInInsufficientData));
    proxy.add_rule(Arc::new(HeadBucketElsewhereIs400));
    proxy.add_rule(Arc::new(TagsAtBucketCreation));
    proxy.add_rule(installed.bucket_owner.clone());
    proxy.add_rule(Arc::new(BudgetFilterOnlyWhenAsked));
}

/// Amazon S3 API reference, "Error responses": `OperationAborted` (409), "A conflicting
/// conditional operation is currently in progress against this resource. Try again." S3
/// answers it to a configuration write on a bucket while another one on the same bucket is in
/// progress (seen by terraform-provider-aws #7628 and Ansible #67811 right after
/// CreateBucket). moto applies them all at once; here each bucket-configuration write is "in
/// progress" for a short hold, and a second one on the same bucket meanwhile gets the 409.
#[derive(Default)]
pub struct S3ConfigurationConflicts {
    in_progress: Mutex<BTreeMap<String, u32>>,
    /// Every 409 this rule answered, by operation.
    pub conflicts: Mutex<Vec<String>>,
}

impl S3ConfigurationConflicts {
    pub fn conflicts(&self) -> Vec<String> {
        self.conflicts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How long a bucket-configuration write counts as in progress.
const S3_HOLD: Duration = Duration::from_millis(40);

fn is_bucket_configuration_write(request: &StrictRequest) -> bool {
    request.service == "s3"
        && matches!(request.method.as_str(), "PUT" | "DELETE")
        && request.path.contains('?')
        && request
            .path
            .split('?')
            .next()
            .is_some_and(|p| p.trim_matches('/').split('/').count() == 1)
        && (request.operation.starts_with("PutBucket")
            || request.operation.starts_with("DeleteBucket")
            || request.operation == "PutPublicAccessBlock"
            || request.operation == "DeletePublicAccessBlock")
}

impl StrictRule for S3ConfigurationConflicts {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if !is_bucket_configuration_write(request) {
            return Verdict::Forward;
        }
        let Some(bucket) = request.bucket() else {
            return Verdict::Forward;
        };
        let mut in_progress = self.in_progress.lock().unwrap_or_else(|p| p.into_inner());
        let count = in_progress.entry(bucket.to_string()).or_default();
        if *count > 0 {
            drop(in_progress);
            self.conflicts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(request.operation.clone());
            // `finished` is not called for answered requests: nothing to undo.
            return Verdict::Answer(Reply::error(
                Protocol::S3,
                409,
                "OperationAborted",
                "A conflicting conditional operation is currently in progress against this resource. Please try again.",
            ));
        }
        *count += 1;
        Verdict::Hold(S3_HOLD)
    }

    fn finished(&self, request: &StrictRequest) {
        if !is_bucket_configuration_write(request) {
            return;
        }
        if let Some(bucket) = request.bucket() {
            let mut in_progress = self.in_progress.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(count) = in_progress.get_mut(bucket) {
                *count = count.saturating_sub(1);
            }
        }
    }
}

/// CloudWatch API reference, PutMetricAlarm: "The maximum value of EvaluationPeriods × Period
/// is 86,400 seconds (one day) for alarms with a period of less than an hour, and 604,800
/// seconds (seven days) otherwise"; periods are 10, 20, 30 or a multiple of 60. moto accepts
/// any.
pub struct AlarmEvaluationLimits;

impl StrictRule for AlarmEvaluationLimits {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if request.service != "monitoring" || request.operation != "PutMetricAlarm" {
            return Verdict::Forward;
        }
        let number = |key: &str| request.form(key).and_then(|v| v.parse::<i64>().ok());
        let (Some(period), Some(evaluations)) = (number("Period"), number("EvaluationPeriods"))
        else {
            return Verdict::Forward;
        };
        let invalid = |message: String| {
            Verdict::Answer(Reply::error(
                Protocol::Query,
                400,
                "ValidationError",
                &message,
            ))
        };
        if !(matches!(period, 10 | 20 | 30) || (period >= 60 && period % 60 == 0)) {
            return invalid(format!(
                "The parameter Period must be 10, 20, 30, or a multiple of 60 (got {period})."
            ));
        }
        if period < 3600 && period * evaluations > 86_400 {
            return invalid(
                "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400).".into(),
            );
        }
        if period * evaluations > 604_800 {
            return invalid(
                "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must be <= 604800).".into(),
            );
        }
        Verdict::Forward
    }
}

/// AWS Budgets API reference and user guide ("Budget alerts"): a notification has at most one
/// SNS subscriber and 10 email subscribers, a budget at most 10 notifications, and forecasted
/// notifications are not available for DAILY budgets. moto accepts all of it.
#[derive(Default)]
pub struct BudgetLimits {
    /// Time unit of each budget created through the proxy, for CreateNotification.
    time_units: Mutex<BTreeMap<String, String>>,
}

fn invalid_budget(message: &str) -> Verdict {
    Verdict::Answer(Reply::error(
        Protocol::Json,
        400,
        "InvalidParameterException",
        message,
    ))
}

fn subscriber_problem(subscribers: &[Value]) -> Option<String> {
    let count = |kind: &str| {
        subscribers
            .iter()
            .filter(|s| s["SubscriptionType"] == kind)
            .count()
    };
    if count("SNS") > 1 {
        return Some("A notification can have at most 1 SNS subscriber.".into());
    }
    if count("EMAIL") > 10 {
        return Some(format!(
            "A notification can have at most 10 email subscribers; {} were given.",
            count("EMAIL")
        ));
    }
    None
}

impl StrictRule for BudgetLimits {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if request.service != "budgets" {
            return Verdict::Forward;
        }
        let Some(body) = request.json() else {
            return Verdict::Forward;
        };
        let forecast_on_daily = "Forecasted notifications are not supported for DAILY budgets.";
        match request.operation.as_str() {
            "CreateBudget" => {
                let time_unit = body["Budget"]["TimeUnit"].as_str().unwrap_or_default();
                let list = body["NotificationsWithSubscribers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if list.len() > 10 {
                    return invalid_budget("A budget can have at most 10 notifications.");
                }
                for n in &list {
                    if time_unit == "DAILY" && n["Notification"]["NotificationType"] == "FORECASTED"
                    {
                        return invalid_budget(forecast_on_daily);
                    }
                    let subscribers = n["Subscribers"].as_array().cloned().unwrap_or_default();
                    if let Some(problem) = subscriber_problem(&subscribers) {
                        return invalid_budget(&problem);
                    }
                }
                if let Some(name) = body["Budget"]["BudgetName"].as_str() {
                    self.time_units
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name.to_string(), time_unit.to_string());
                }
            }
            "CreateNotification" => {
                let daily = body["BudgetName"].as_str().is_some_and(|name| {
                    self.time_units
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(name)
                        .is_some_and(|t| t == "DAILY")
                });
                if daily && body["Notification"]["NotificationType"] == "FORECASTED" {
                    return invalid_budget(forecast_on_daily);
                }
                let subscribers = body["Subscribers"].as_array().cloned().unwrap_or_default();
                if let Some(problem) = subscriber_problem(&subscribers) {
                    return invalid_budget(&problem);
                }
            }
            _ => {}
        }
        Verdict::Forward
    }
}

/// CloudWatch API reference, TagResource: "Currently, the only CloudWatch resources that can be
/// tagged are alarms and Contributor Insights rules." moto accepts dashboard ARNs.
pub struct NoDashboardTags;

impl StrictRule for NoDashboardTags {
    fn before(&self, request: &StrictRequest) -> Verdict {
        let tagging = matches!(
            request.operation.as_str(),
            "TagResource" | "UntagResource" | "ListTagsForResource"
        );
        let dashboard = request
            .form("ResourceARN")
            .is_some_and(|arn| arn.contains(":dashboard/"));
        if request.service == "monitoring" && tagging && dashboard {
            return Verdict::Answer(Reply::error(
                Protocol::Query,
                400,
                "InvalidParameterValue",
                "Only alarms and Contributor Insights rules can be tagged.",
            ));
        }
        Verdict::Forward
    }
}

/// CloudWatch user guide, "Alarm states": a new alarm starts in INSUFFICIENT_DATA until its
/// first evaluation. moto starts it in OK ("Unchecked: Initial alarm creation"); this rule shows
/// such an alarm as AWS would, so that what the tool does with a brand-new alarm is what it
/// would do on AWS.
pub struct AlarmsStartInInsufficientData;

const INITIAL_REASON: &str = "<StateReason>Unchecked: Initial alarm creation</StateReason>";

impl StrictRule for AlarmsStartInInsufficientData {
    fn before(&self, _request: &StrictRequest) -> Verdict {
        Verdict::Forward
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.service != "monitoring" || request.operation != "DescribeAlarms" {
            return None;
        }
        let text = std::str::from_utf8(&reply.body).ok()?;
        if !text.contains(INITIAL_REASON) {
            return None;
        }
        let rewritten = text.replace(
            &format!("<StateValue>OK</StateValue>{INITIAL_REASON}"),
            &format!("<StateValue>INSUFFICIENT_DATA</StateValue>{INITIAL_REASON}"),
        );
        Some(Reply {
            status: reply.status,
            headers: reply.headers.clone(),
            body: Bytes::from(rewritten),
        })
    }
}

/// Amazon S3 API reference, HeadBucket: asked of the wrong region, S3 may answer "400 Bad
/// Request" with no body (and not always the `x-amz-bucket-region` header) rather than a 301.
/// moto answers 200 with the bucket's region; this rule gives the harder answer.
pub struct HeadBucketElsewhereIs400;

impl StrictRule for HeadBucketElsewhereIs400 {
    fn before(&self, _request: &StrictRequest) -> Verdict {
        Verdict::Forward
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.service != "s3" || request.operation != "HeadBucket" {
            return None;
        }
        let bucket_region = reply.headers.get("x-amz-bucket-region")?.to_str().ok()?;
        let asked = request.signing_region()?;
        (bucket_region != asked).then(|| Reply::empty(400))
    }
}

/// Amazon S3 API reference, CreateBucket: `CreateBucketConfiguration` may carry `Tags`, "an
/// array of tags that you can apply to the bucket that you're creating" (S3 user guide,
/// "Creating a general purpose bucket with tags"). moto 5.2.1 creates the bucket and drops
/// them; this rule applies them as AWS would, with a PutBucketTagging to moto before the
/// answer goes back, so the bucket is tagged from the moment it exists.
pub struct TagsAtBucketCreation;

/// The `<Tag>` elements of a CreateBucket body's `<Tags>`, as sent.
fn creation_tags(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, rest) = text.split_once("<Tags>")?;
    let (tags, _) = rest.split_once("</Tags>")?;
    (!tags.trim().is_empty()).then(|| tags.to_string())
}

impl StrictRule for TagsAtBucketCreation {
    fn before(&self, _request: &StrictRequest) -> Verdict {
        Verdict::Forward
    }

    fn follow_up(&self, request: &StrictRequest, reply: &Reply) -> Option<FollowUp> {
        if request.service != "s3" || request.operation != "CreateBucket" {
            return None;
        }
        if !(200..300).contains(&reply.status) {
            return None;
        }
        let tags = creation_tags(&request.body)?;
        let bucket = request.bucket()?;
        Some(FollowUp {
            method: "PUT".into(),
            path: format!("/{bucket}?tagging"),
            body: Bytes::from(format!(
                "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{tags}</TagSet></Tagging>"
            )),
        })
    }
}

/// moto's account for credentials it did not hand out with AssumeRole.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// Amazon S3 API reference (every operation that takes it, e.g. HeadBucket):
/// `x-amz-expected-bucket-owner`, "The account ID of the expected bucket owner. If the account
/// ID that you provide does not match the actual owner of the bucket, the request fails with
/// the HTTP status code 403 Forbidden (access denied)." moto ignores the header.
///
/// A bucket's owner is the account whose credentials created it through the proxy (accounts
/// of assumed credentials are learned from AssumeRole's answers); a bucket the proxy did not
/// see created is moto's default account's (the tests' own clients create them there). S3
/// calls of operations that take the header and arrive without it are recorded in `missing`:
/// `TestEnv` fails a test whose binary sent one, so the whole suite shows that every call
/// names the owner.
#[derive(Default)]
pub struct ExpectedBucketOwner {
    /// Access key ID → account, from AssumeRole answers.
    accounts: Mutex<BTreeMap<String, String>>,
    /// Bucket → owning account, from CreateBucket requests that succeeded.
    owners: Mutex<BTreeMap<String, String>>,
    /// `Operation bucket` of S3 calls that could name the owner and did not.
    missing: Mutex<Vec<String>>,
    /// `Operation bucket expected=… owner=…` of every call this rule refused.
    pub refused: Mutex<Vec<String>>,
}

/// S3 operations that do not take `ExpectedBucketOwner` (Amazon S3 API reference).
const WITHOUT_EXPECTED_OWNER: [&str; 3] = ["CreateBucket", "ListBuckets", "ListDirectoryBuckets"];

impl ExpectedBucketOwner {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// S3 calls that could have named the bucket owner and did not.
    pub fn missing(&self) -> Vec<String> {
        Self::lock(&self.missing).clone()
    }

    /// Forgets the recorded missing headers (for tests that send such calls themselves).
    pub fn clear_missing(&self) {
        Self::lock(&self.missing).clear();
    }

    pub fn refused(&self) -> Vec<String> {
        Self::lock(&self.refused).clone()
    }

    fn account_of(&self, request: &StrictRequest) -> String {
        request
            .access_key()
            .and_then(|key| Self::lock(&self.accounts).get(&key).cloned())
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string())
    }

    fn refuse(&self, request: &StrictRequest, expected: &str, owner: &str) -> Reply {
        Self::lock(&self.refused).push(format!(
            "{} {} expected={expected} owner={owner}",
            request.operation,
            request.bucket().unwrap_or_default()
        ));
        if request.method == "HEAD" {
            return Reply::empty(403);
        }
        Reply::error(Protocol::S3, 403, "AccessDenied", "Access Denied")
    }
}

impl StrictRule for ExpectedBucketOwner {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if request.service != "s3" || WITHOUT_EXPECTED_OWNER.contains(&request.operation.as_str()) {
            return Verdict::Forward;
        }
        let Some(bucket) = request.bucket() else {
            return Verdict::Forward;
        };
        let Some(expected) = request.header("x-amz-expected-bucket-owner") else {
            Self::lock(&self.missing).push(format!("{} {bucket}", request.operation));
            return Verdict::Forward;
        };
        let known = Self::lock(&self.owners).get(bucket).cloned();
        match known {
            Some(owner) if owner != expected => {
                Verdict::Answer(self.refuse(request, expected, &owner))
            }
            Some(_) => Verdict::Forward,
            // Not seen created: moto's default account's, if it exists. Whether it does is
            // moto's answer, so a read goes through and `rewrite` decides; a write naming
            // another account is refused here, before moto applies it.
            None if expected != DEFAULT_ACCOUNT
                && !super::proxy::is_read_operation(&request.operation) =>
            {
                Verdict::Answer(self.refuse(request, expected, DEFAULT_ACCOUNT))
            }
            None => Verdict::Forward,
        }
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.service == "sts" && request.operation == "AssumeRole" {
            let text = String::from_utf8_lossy(&reply.body);
            let between = |open: &str, close: &str| {
                text.split_once(open)
                    .and_then(|(_, rest)| rest.split_once(close))
                    .map(|(value, _)| value.trim().to_string())
            };
            let key = between("<AccessKeyId>", "</AccessKeyId>");
            // arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
            let account = between("<Arn>", "</Arn>")
                .and_then(|arn| arn.split(':').nth(4).map(str::to_string));
            if let (Some(key), Some(account)) = (key, account) {
                Self::lock(&self.accounts).insert(key, account);
            }
            return None;
        }
        if request.service != "s3" || !(200..300).contains(&reply.status) {
            return None;
        }
        let bucket = request.bucket()?.to_string();
        match request.operation.as_str() {
            "CreateBucket" => {
                let account = self.account_of(request);
                Self::lock(&self.owners).entry(bucket).or_insert(account);
                None
            }
            "DeleteBucket" => {
                Self::lock(&self.owners).remove(&bucket);
                None
            }
            _ => {
                let expected = request.header("x-amz-expected-bucket-owner")?;
                let seen = Self::lock(&self.owners).contains_key(&bucket);
                (!seen && expected != DEFAULT_ACCOUNT)
                    .then(|| self.refuse(request, expected, DEFAULT_ACCOUNT))
            }
        }
    }
}

/// AWS Budgets API reference, DescribeBudget and DescribeBudgets, request parameter
/// `ShowFilterExpression`: "Specifies whether the response includes the filter expression
/// associated with the budget." AWS leaves `FilterExpression` out of the answer unless the
/// request sets it to true; moto always returns it, so a tool that forgets the flag would see
/// its filter here and never on AWS (every plan a filter change, every apply an UpdateBudget).
pub struct BudgetFilterOnlyWhenAsked;

impl StrictRule for BudgetFilterOnlyWhenAsked {
    fn before(&self, _request: &StrictRequest) -> Verdict {
        Verdict::Forward
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.service != "budgets"
            || !matches!(
                request.operation.as_str(),
                "DescribeBudget" | "DescribeBudgets"
            )
        {
            return None;
        }
        let asked = request
            .json()
            .is_some_and(|b| b["ShowFilterExpression"] == Value::Bool(true));
        if asked {
            return None;
        }
        let mut body: Value = serde_json::from_slice(&reply.body).ok()?;
        let mut removed = false;
        if let Some(budget) = body.get_mut("Budget").and_then(Value::as_object_mut) {
            removed |= budget.remove("FilterExpression").is_some();
        }
        if let Some(budgets) = body.get_mut("Budgets").and_then(Value::as_array_mut) {
            for budget in budgets.iter_mut().filter_map(Value::as_object_mut) {
                removed |= budget.remove("FilterExpression").is_some();
            }
        }
        removed.then(|| Reply {
            status: reply.status,
            headers: reply.headers.clone(),
            body: Bytes::from(body.to_string()),
        })
    }
}

/// moto refuses every object request on a bucket whose policy has a Deny that matches the
/// action, whatever the Deny's condition (moto's S3 backend: "Conditions are not taken into
/// account"), so the stack's TLS-only deny (`aws:SecureTransport` = false; Amazon S3 user
/// guide, "Security best practices for Amazon S3", enforcing encryption in transit) refuses
/// the tool's own object reads and writes, which in AWS go over TLS and never meet it.
///
/// This rule stores such a policy in moto without the statements that deny plain HTTP only,
/// and answers `GetBucketPolicy` through the proxy with the policy as it was put, so the tool
/// sees what AWS would hold. Opt-in (`TestEnv::objects_over_tls`): a test that reads the policy
/// from moto directly, bypassing the proxy, sees the stored one.
#[derive(Default)]
pub struct TlsOnlyDenyMetOverTls {
    originals: Mutex<BTreeMap<String, Bytes>>,
}

/// A statement that denies only requests that are not over TLS.
fn denies_plain_http_only(statement: &Value) -> bool {
    let secure = &statement["Condition"]["Bool"]["aws:SecureTransport"];
    statement["Effect"] == "Deny"
        && statement["Condition"]
            .as_object()
            .is_some_and(|c| c.len() == 1)
        && statement["Condition"]["Bool"]
            .as_object()
            .is_some_and(|b| b.len() == 1)
        && (secure == "false" || secure == &Value::Bool(false))
}

impl StrictRule for TlsOnlyDenyMetOverTls {
    fn before(&self, request: &StrictRequest) -> Verdict {
        if request.service != "s3" {
            return Verdict::Forward;
        }
        let Some(bucket) = request.bucket().map(str::to_string) else {
            return Verdict::Forward;
        };
        let mut originals = self.originals.lock().unwrap_or_else(|p| p.into_inner());
        match request.operation.as_str() {
            "PutBucketPolicy" => {
                let Ok(mut policy) = serde_json::from_slice::<Value>(&request.body) else {
                    return Verdict::Forward;
                };
                let Some(statements) = policy["Statement"].as_array_mut() else {
                    return Verdict::Forward;
                };
                let before = statements.len();
                statements.retain(|s| !denies_plain_http_only(s));
                if statements.len() == before {
                    originals.remove(&bucket);
                    return Verdict::Forward;
                }
                originals.insert(bucket, request.body.clone());
                if statements.is_empty() {
                    return Verdict::Answer(Reply {
                        status: 204,
                        headers: Default::default(),
                        body: Bytes::new(),
                    });
                }
                let mut stored = request.clone();
                stored.body = Bytes::from(policy.to_string());
                // The SDK's checksum of the body it sent would not match the stored one.
                for name in [
                    "content-md5",
                    "x-amz-checksum-crc32",
                    "x-amz-sdk-checksum-algorithm",
                ] {
                    stored.headers.remove(name);
                }
                Verdict::ForwardAs(stored)
            }
            "DeleteBucketPolicy" | "DeleteBucket" => {
                originals.remove(&bucket);
                Verdict::Forward
            }
            _ => Verdict::Forward,
        }
    }

    fn rewrite(&self, request: &StrictRequest, reply: &Reply) -> Option<Reply> {
        if request.service != "s3" || request.operation != "GetBucketPolicy" {
            return None;
        }
        let bucket = request.bucket()?;
        let original = self
            .originals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(bucket)
            .cloned()?;
        let mut headers = reply.headers.clone();
        headers.remove(hyper::header::CONTENT_LENGTH);
        headers.insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        Some(Reply {
            status: 200,
            headers,
            body: original,
        })
    }
}
