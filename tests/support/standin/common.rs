//! What the stand-in's services share: the wire form of their answers (restJson and awsJson 1.1
//! successes and errors), request IDs, clocks in each service's timestamp format, pagination
//! tokens, and the request validation the API references describe (lengths, patterns, enums,
//! required members).

use std::sync::LazyLock;

use bytes::Bytes;
use hyper::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use regex::Regex;
use serde_json::{Value, json};

use super::Reply;

fn request_id() -> String {
    uuid()
}

/// A random version-4 UUID.
pub(super) fn uuid() -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        8 + fastrand::u8(..4),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48),
    )
}

pub(super) fn reply(status: u16, content_type: &'static str, body: &Value) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert(HeaderName::from_static("x-amzn-requestid"), id);
    }
    Reply {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    }
}

const REST_JSON: &str = "application/json";
pub(super) const AWS_JSON: &str = "application/x-amz-json-1.1";

/// A restJson (Bedrock) success.
pub(super) fn rest_ok(status: u16, body: Value) -> Reply {
    reply(status, REST_JSON, &body)
}

/// A restJson error: `x-amzn-ErrorType` names it, the body carries `message` (and any extra
/// members of the error shape).
pub(super) fn rest_error(status: u16, code: &str, message: &str, extra: Value) -> Reply {
    let mut body = json!({ "message": message });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    let mut r = reply(status, REST_JSON, &body);
    if let Ok(v) = HeaderValue::from_str(code) {
        r.headers
            .insert(HeaderName::from_static("x-amzn-errortype"), v);
    }
    r
}

/// An awsJson 1.1 (Cost Explorer, Data Exports) success.
pub(super) fn json_ok(body: Value) -> Reply {
    reply(200, AWS_JSON, &body)
}

/// An awsJson 1.1 error: `__type` names it, `Message` says it (the member name in these
/// services' error shapes), plus any extra members.
pub(super) fn json_error(status: u16, code: &str, message: &str, extra: Value) -> Reply {
    let mut body = json!({ "__type": code, "Message": message });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
        b.extend(extra);
    }
    reply(status, AWS_JSON, &body)
}

/// The access key ID of the request's SigV4 credential scope.
pub(super) fn access_key_id(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let start = auth.find("Credential=")? + "Credential=".len();
    let credential = auth[start..].split([',', ' ']).next()?;
    let key = credential.split('/').next()?;
    (!key.is_empty()).then(|| key.to_string())
}

/// Decodes `%XX` escapes (not `+`: the SDKs escape spaces as `%20`).
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(super) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// ISO 8601 with milliseconds, as restJson and the Data Exports timestamps are sent.
pub(super) fn now_iso() -> String {
    now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Seconds since the epoch, as awsJson sends timestamps by default (Budgets).
pub(super) fn epoch_seconds() -> f64 {
    now().timestamp_millis() as f64 / 1000.0
}

/// Milliseconds since the epoch (CloudWatch Logs' `Timestamp`).
pub(super) fn epoch_millis() -> i64 {
    now().timestamp_millis()
}

/// Cost Explorer's `ZonedDateTime`: `2024-06-01T00:00:00Z`.
pub(super) fn zoned_now() -> String {
    now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(super) fn month_start() -> String {
    now().format("%Y-%m-01T00:00:00Z").to_string()
}

/// Cost Explorer's `YearMonthDay`.
pub(super) fn today() -> String {
    now().format("%Y-%m-%d").to_string()
}

/// An opaque pagination token for `offset` in a listing whose filters are `scope`.
pub(super) fn encode_token(scope: &str, offset: usize) -> String {
    format!("{scope}\u{1}{offset}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The offset in a token made by [`encode_token`] for the same scope, if it is one.
pub(super) fn decode_token(token: &str, scope: &str) -> Option<usize> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (s, offset) = text.split_once('\u{1}')?;
    (s == scope).then(|| offset.parse().ok()).flatten()
}

/// One page of `items`: the page and the token for the next one. `Err(())` for a token that is
/// not one of ours for this listing.
pub(super) fn page<T: Clone>(
    items: &[T],
    token: Option<&str>,
    max: usize,
    scope: &str,
) -> Result<(Vec<T>, Option<String>), ()> {
    let start = match token {
        None => 0,
        Some(t) => decode_token(t, scope)
            .filter(|o| *o <= items.len())
            .ok_or(())?,
    };
    let end = (start + max).min(items.len());
    let next = (end < items.len()).then(|| encode_token(scope, end));
    Ok((items[start..end].to_vec(), next))
}

// -- validation ----------------------------------------------------------------

/// The message AWS's request validation gives: "1 validation error detected: Value 'x' at
/// 'field' failed to satisfy constraint: …".
pub(super) fn constraint_message(value: &str, field: &str, constraint: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
    )
}

/// Checks a string member's length (in characters) and pattern, as the API reference gives
/// them. `Err` carries the validation message.
pub(super) fn check_string(
    value: &str,
    field: &str,
    min: usize,
    max: usize,
    pattern: Option<(&Regex, &str)>,
) -> Result<(), String> {
    let len = value.chars().count();
    if len < min {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if let Some((re, text)) = pattern
        && !re.is_match(value)
    {
        return Err(constraint_message(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {text}"),
        ));
    }
    Ok(())
}

pub(super) fn check_enum(value: &str, field: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(constraint_message(
            value,
            field,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        ))
    }
}

pub(super) fn missing(field: &str) -> String {
    format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    )
}

/// A required string member.
pub(super) fn required_str<'a>(body: &'a Value, key: &str, field: &str) -> Result<&'a str, String> {
    match &body[key] {
        Value::String(s) => Ok(s),
        Value::Null => Err(missing(field)),
        other => Err(format!("Value {other} at '{field}' is not a string")),
    }
}

/// An optional string member.
pub(super) fn optional_str<'a>(
    body: &'a Value,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, String> {
    match &body[key] {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        other => Err(format!("Value {other} at '{field}' is not a string")),
    }
}

/// An optional list member (absent: empty).
pub(super) fn optional_list<'a>(
    body: &'a Value,
    key: &str,
    field: &str,
) -> Result<&'a [Value], String> {
    match &body[key] {
        Value::Array(a) => Ok(a),
        Value::Null => Ok(&[]),
        other => Err(format!("Value {other} at '{field}' is not a list")),
    }
}

/// An anchored regex from an API-reference pattern.
pub(super) fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("API reference pattern compiles")
}

// `pub(super)`: `patterns_compile` in standin.rs forces every one.
macro_rules! pattern {
    ($name:ident, $text:expr) => {
        pub(super) static $name: LazyLock<(Regex, &'static str)> =
            LazyLock::new(|| (anchored($text), $text));
    };
}

pub(super) fn pat(
    p: &'static LazyLock<(Regex, &'static str)>,
) -> Option<(&'static Regex, &'static str)> {
    let (re, text) = &**p;
    Some((re, text))
}
