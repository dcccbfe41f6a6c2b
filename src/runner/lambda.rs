//! The AWS Lambda custom-runtime loop: how this binary, deployed as the `bootstrap` of a
//! `provided.al2023` function, takes its invocations and answers them.
//!
//! Written from the AWS Lambda Developer Guide, "Using the Lambda runtime API for custom
//! runtimes" (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html, API version
//! 2018-06-01) and "Building a custom runtime for AWS Lambda"
//! (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html):
//! - the API's host and port are in `AWS_LAMBDA_RUNTIME_API`; every path starts with the
//!   version, `/2018-06-01`;
//! - `GET /runtime/invocation/next` blocks until there is an event (the guide: set no timeout
//!   on it, the process may be frozen between events); the body is the event, the headers
//!   carry `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//!   `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! - `POST /runtime/invocation/{request id}/response` with the result, or
//!   `POST /runtime/invocation/{request id}/error` with `{"errorMessage", "errorType",
//!   "stackTrace"}` and the `Lambda-Runtime-Function-Error-Type` header (the guide recommends
//!   `Category.Reason` names such as `Runtime.UnknownReason`); both answer 202;
//! - `POST /runtime/init/error` (same body and header) when initialisation fails, after which
//!   the runtime exits; a 500 from any of them means the environment is beyond repair and the
//!   runtime should exit promptly.
//!
//! The handler is a parameter, so the loop knows nothing of what a pass does: a failing or
//! panicking invocation is reported on `/error` and the loop asks for the next one. Only a
//! failure to talk to the runtime API itself ends it (Lambda then starts a new environment).
//!
//! Not done: the `_X_AMZN_TRACE_ID` variable the guide asks runtimes to set from
//! `Lambda-Runtime-Trace-Id`. Setting a variable in a running multi-threaded process is unsound
//! (`std::env::set_var` is `unsafe` for that reason) and the tool does not use X-Ray; the trace
//! ID is handed to the handler in [`Invocation`] instead.

use std::future::Future;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The variable Lambda sets to the runtime API's `host:port` (runtimes-api.html).
pub const RUNTIME_API_VARIABLE: &str = "AWS_LAMBDA_RUNTIME_API";

/// The runtime API version every path starts with (runtimes-api.html).
const API_VERSION: &str = "2018-06-01";

/// The header that names an error's type on `/error` and `/init/error` (runtimes-api.html).
const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";

/// One invocation as `/next` hands it over: the event and the headers the handler may need.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`: names the invocation in `/response` and `/error`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`: when the function times out, in Unix milliseconds.
    pub deadline_ms: Option<u64>,
    /// `Lambda-Runtime-Invoked-Function-Arn`: the function, version or alias invoked.
    pub function_arn: Option<String>,
    /// `Lambda-Runtime-Trace-Id`: the X-Ray tracing header.
    pub trace_id: Option<String>,
    /// The body of `/next`: the event from the function's trigger.
    pub event: Value,
}

/// What a failed invocation or initialisation reports: the body the runtime API documents
/// (`errorMessage`, `errorType`, `stackTrace`), and `error_type` again in the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionError {
    #[serde(rename = "errorType")]
    pub error_type: String,
    #[serde(rename = "errorMessage")]
    pub message: String,
    /// Rust errors carry a chain of causes, not frames: each cause is one line here.
    #[serde(rename = "stackTrace")]
    pub stack_trace: Vec<String>,
}

impl FunctionError {
    /// An error of `error_type` (the guide's `Category.Reason` form, e.g. `Limits.PassFailed`)
    /// whose message is `error`'s and whose trace is its chain of sources.
    pub fn new(error_type: impl Into<String>, error: &dyn std::error::Error) -> FunctionError {
        let mut stack_trace = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            stack_trace.push(cause.to_string());
            source = cause.source();
        }
        FunctionError {
            error_type: error_type.into(),
            message: error.to_string(),
            stack_trace,
        }
    }

    /// An error with a message and no chain.
    pub fn message(error_type: impl Into<String>, message: impl Into<String>) -> FunctionError {
        FunctionError {
            error_type: error_type.into(),
            message: message.into(),
            stack_trace: Vec::new(),
        }
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

/// The input the runner's EventBridge Scheduler schedule sends to the function. Scheduler
/// replaces each `<aws.scheduler.…>` keyword in a target's input with its value when it invokes
/// the target ("Adding context attributes in EventBridge Scheduler",
/// https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html);
/// without an input it would send nothing the pass could tell a retry by.
pub const SCHEDULE_INPUT: &str = r#"{"schedule_arn":"<aws.scheduler.schedule-arn>","scheduled_time":"<aws.scheduler.scheduled-time>","execution_id":"<aws.scheduler.execution-id>","attempt_number":"<aws.scheduler.attempt-number>"}"#;

/// [`SCHEDULE_INPUT`] as the function receives it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ScheduledEvent {
    /// The schedule's ARN.
    pub schedule_arn: String,
    /// When the schedule was due (e.g. `2022-03-22T18:59:43Z`), not when it ran.
    pub scheduled_time: chrono::DateTime<chrono::Utc>,
    /// Scheduler's ID for this attempted invocation.
    pub execution_id: String,
    /// Which attempt this is, from 1 (a string: the keyword is replaced inside quotes).
    pub attempt_number: String,
}

impl ScheduledEvent {
    /// The event, or an error of type `Event.Invalid` saying what is wrong with it.
    pub fn parse(event: &Value) -> Result<ScheduledEvent, FunctionError> {
        serde_json::from_value(event.clone()).map_err(|e| {
            FunctionError::message(
                "Event.Invalid",
                format!(
                    "the invocation's event is not the runner schedule's input ({e}); \
                     invoke the function from its schedule, or with an event shaped like \
                     {SCHEDULE_INPUT}"
                ),
            )
        })
    }
}

/// Why the loop stopped: the runtime API could not be reached or refused what it was sent.
/// Lambda replaces an environment whose runtime exits, so the caller exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{variable} is {value:?}, not a host:port; this mode runs only inside AWS Lambda")]
    BadAddress {
        variable: &'static str,
        value: String,
    },
    #[error("the Lambda runtime API at {url} did not answer: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the Lambda runtime API answered {status} to {method} {url}: {body}")]
    Refused {
        method: &'static str,
        url: String,
        status: StatusCode,
        body: String,
    },
    #[error("the Lambda runtime API's invocation from {url} has no Lambda-Runtime-Aws-Request-Id")]
    NoRequestId { url: String },
    #[error("initialisation failed ({0}); reported to the Lambda runtime API")]
    InitFailed(FunctionError),
}

/// The runtime API at one address, over plain HTTP/1.1 (it is on loopback inside the
/// execution environment).
#[derive(Clone)]
pub struct RuntimeApi {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl RuntimeApi {
    /// The API at `address` (`host:port`, as `AWS_LAMBDA_RUNTIME_API` gives it).
    pub fn new(address: &str) -> Result<RuntimeApi, RuntimeError> {
        let address = address.trim();
        let bad = || RuntimeError::BadAddress {
            variable: RUNTIME_API_VARIABLE,
            value: address.to_string(),
        };
        // A scheme or a path would make every URL below wrong: the variable is host:port.
        if address.is_empty() || address.contains('/') || !address.contains(':') {
            return Err(bad());
        }
        let base = format!("http://{address}/{API_VERSION}");
        if base.parse::<hyper::Uri>().is_err() {
            return Err(bad());
        }
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(RuntimeApi { base, client })
    }

    /// The API named by `AWS_LAMBDA_RUNTIME_API`, or `None` when the variable is unset (the
    /// binary is not running inside Lambda).
    pub fn from_env() -> Option<Result<RuntimeApi, RuntimeError>> {
        let address = std::env::var(RUNTIME_API_VARIABLE).ok()?;
        Some(RuntimeApi::new(&address))
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        error_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(hyper::http::response::Parts, Bytes), RuntimeError> {
        let url = format!("{}{path}", self.base);
        let mut request = Request::builder().method(method.clone()).uri(&url);
        if let Some(error_type) = error_type {
            request = request.header(ERROR_TYPE_HEADER, error_type);
        }
        if !body.is_empty() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let unreachable =
            |source: Box<dyn std::error::Error + Send + Sync>| RuntimeError::Unreachable {
                url: url.clone(),
                source,
            };
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unreachable(e.into()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| unreachable(e.into()))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| unreachable(e.into()))?
            .to_bytes();
        if !parts.status.is_success() {
            return Err(RuntimeError::Refused {
                method: if method == Method::GET { "GET" } else { "POST" },
                url,
                status: parts.status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok((parts, body))
    }

    /// `GET /runtime/invocation/next`: waits (without a timeout) for the next event.
    pub async fn next(&self) -> Result<Invocation, RuntimeError> {
        let path = "/runtime/invocation/next";
        let (parts, body) = self.send(Method::GET, path, None, Vec::new()).await?;
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let request_id = header("Lambda-Runtime-Aws-Request-Id")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| RuntimeError::NoRequestId {
                url: format!("{}{path}", self.base),
            })?;
        // An event that is not JSON still gets an answer: the handler sees it as a string and
        // decides, rather than the loop dying on it.
        let event = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        Ok(Invocation {
            request_id,
            deadline_ms: header("Lambda-Runtime-Deadline-Ms").and_then(|v| v.parse().ok()),
            function_arn: header("Lambda-Runtime-Invoked-Function-Arn"),
            trace_id: header("Lambda-Runtime-Trace-Id"),
            event,
        })
    }

    /// `POST /runtime/invocation/{id}/response` with the handler's result.
    pub async fn respond(&self, request_id: &str, result: &Value) -> Result<(), RuntimeError> {
        let path = format!("/runtime/invocation/{}/response", path_segment(request_id));
        let body = serde_json::to_vec(result).unwrap_or_default();
        self.send(Method::POST, &path, None, body).await.map(drop)
    }

    /// `POST /runtime/invocation/{id}/error` with the handler's error.
    pub async fn fail(&self, request_id: &str, error: &FunctionError) -> Result<(), RuntimeError> {
        let path = format!("/runtime/invocation/{}/error", path_segment(request_id));
        self.post_error(&path, error).await
    }

    /// `POST /runtime/init/error`: initialisation failed; the caller exits next.
    pub async fn init_failed(&self, error: &FunctionError) -> Result<(), RuntimeError> {
        self.post_error("/runtime/init/error", error).await
    }

    async fn post_error(&self, path: &str, error: &FunctionError) -> Result<(), RuntimeError> {
        let body = serde_json::to_vec(error).unwrap_or_default();
        self.send(Method::POST, path, Some(&error.error_type), body)
            .await
            .map(drop)
    }
}

/// RFC 3986's unreserved characters stay as they are (a UUID is unchanged); the rest is
/// escaped.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The request ID as one path segment: Lambda's IDs are UUIDs, but nothing the API sends is
/// pasted into a URL unescaped.
fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// Initialises, then serves invocations until the runtime API fails.
///
/// `init` runs once and gives the handler; when it fails, the error goes to
/// `/runtime/init/error` and this returns [`RuntimeError::InitFailed`]. Each invocation runs
/// the handler on its own task, so a panic in it is reported like an error (type
/// `Runtime.HandlerPanicked`) and the next invocation is taken as usual.
pub async fn run<Init, H, Fut>(api: &RuntimeApi, init: Init) -> Result<(), RuntimeError>
where
    Init: Future<Output = Result<H, FunctionError>>,
    H: Fn(Invocation) -> Fut,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    let handler = match init.await {
        Ok(handler) => handler,
        Err(error) => {
            api.init_failed(&error).await?;
            return Err(RuntimeError::InitFailed(error));
        }
    };
    loop {
        let invocation = api.next().await?;
        let request_id = invocation.request_id.clone();
        let outcome = match tokio::spawn(handler(invocation)).await {
            Ok(outcome) => outcome,
            Err(join) => Err(FunctionError::message(
                "Runtime.HandlerPanicked",
                format!("the handler stopped unexpectedly: {join}"),
            )),
        };
        match outcome {
            Ok(result) => match api.respond(&request_id, &result).await {
                Ok(()) => {}
                // 400 and 413 (payload too large) are about this response, not the
                // environment: say so on /error and go on.
                Err(RuntimeError::Refused { status, body, .. }) if status.is_client_error() => {
                    let error = FunctionError::message(
                        "Runtime.ResponseRejected",
                        format!("the runtime API refused the response ({status}): {body}"),
                    );
                    tracing::error!("invocation {request_id}: {error}");
                    api.fail(&request_id, &error).await?;
                }
                Err(e) => return Err(e),
            },
            Err(error) => {
                tracing::error!("invocation {request_id} failed: {error}");
                api.fail(&request_id, &error).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_host_and_port_only() {
        assert!(RuntimeApi::new("127.0.0.1:9001").is_ok());
        assert!(RuntimeApi::new(" 169.254.100.1:9001\n").is_ok());
        for bad in [
            "",
            "http://127.0.0.1:9001",
            "127.0.0.1:9001/2018-06-01",
            "localhost",
        ] {
            let err = RuntimeApi::new(bad).err().expect(bad);
            assert!(
                err.to_string().contains("AWS_LAMBDA_RUNTIME_API"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn an_error_body_has_the_documented_fields() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let error = FunctionError::new("Limits.PassFailed", &Outer(std::io::Error::other("inner")));
        let body = serde_json::to_value(&error).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "errorType": "Limits.PassFailed",
                "errorMessage": "outer",
                "stackTrace": ["inner"],
            })
        );
    }

    #[test]
    fn the_schedule_input_filled_in_is_a_scheduled_event() {
        let filled = SCHEDULE_INPUT
            .replace(
                "<aws.scheduler.schedule-arn>",
                "arn:aws:scheduler:us-east-1:123456789012:schedule/default/bedrock-monitor-limits",
            )
            .replace("<aws.scheduler.scheduled-time>", "2022-03-22T18:59:43Z")
            .replace("<aws.scheduler.execution-id>", "d32c5kddcf5bb8c3")
            .replace("<aws.scheduler.attempt-number>", "1");
        let event =
            ScheduledEvent::parse(&serde_json::from_str(&filled).expect("json")).expect("event");
        assert_eq!(
            event.scheduled_time.to_rfc3339(),
            "2022-03-22T18:59:43+00:00"
        );
        assert_eq!(event.attempt_number, "1");
        let wrong = ScheduledEvent::parse(&serde_json::json!({"detail-type": "Scheduled Event"}))
            .expect_err("not the schedule's input");
        assert_eq!(wrong.error_type, "Event.Invalid");
        assert!(wrong.message.contains("schedule_arn"), "{}", wrong.message);
    }

    #[test]
    fn a_request_id_is_one_path_segment() {
        assert_eq!(
            path_segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(path_segment("a/../b c"), "a%2F..%2Fb%20c");
    }
}
