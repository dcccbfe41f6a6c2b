//! A Lambda runtime API on loopback, for testing the custom-runtime loop (`src/runner/lambda.rs`).
//!
//! It answers as the AWS Lambda Developer Guide's "Using the Lambda runtime API for custom
//! runtimes" describes (API version 2018-06-01): `GET /2018-06-01/runtime/invocation/next`
//! holds the request open until the test queues an event, then answers 200 with the event and
//! the `Lambda-Runtime-*` headers; `POST …/invocation/{id}/response`, `…/{id}/error` and
//! `/runtime/init/error` answer 202 and are recorded for the test to read. Other paths get
//! 404, as a wrong path would from Lambda.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc};

/// The schedule's event as EventBridge Scheduler would send it (the runner's
/// `SCHEDULE_INPUT` with its context attributes filled in), for execution `id`.
pub fn scheduled_event(schedule: &str, id: &str) -> Value {
    serde_json::from_str(
        &bedrock_monitor::runner::lambda::SCHEDULE_INPUT
            .replace(
                "<aws.scheduler.schedule-arn>",
                &format!("arn:aws:scheduler:us-east-1:123456789012:schedule/default/{schedule}"),
            )
            .replace("<aws.scheduler.scheduled-time>", "2026-12-07T10:00:00Z")
            .replace("<aws.scheduler.execution-id>", id)
            .replace("<aws.scheduler.attempt-number>", "1"),
    )
    .expect("event")
}

/// What the runtime posted.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    /// `Lambda-Runtime-Function-Error-Type`, when sent.
    pub error_type: Option<String>,
    pub body: Value,
}

struct Shared {
    events: Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    posts: mpsc::UnboundedSender<Post>,
    polls: AtomicUsize,
}

pub struct FakeRuntimeApi {
    /// `host:port`, as Lambda puts it in `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    events: mpsc::UnboundedSender<(String, Value)>,
    posts: Mutex<mpsc::UnboundedReceiver<Post>>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

/// How long a test waits for the runtime to post something.
const POST_WAIT: Duration = Duration::from_secs(30);

impl FakeRuntimeApi {
    /// Serves on 127.0.0.1 at a free port, on the calling test's runtime.
    pub async fn start() -> FakeRuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("runtime API: bind 127.0.0.1:0");
        let address = listener
            .local_addr()
            .expect("runtime API: address")
            .to_string();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (posts_tx, posts_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            posts: posts_tx,
            polls: AtomicUsize::new(0),
        });
        let serving = Arc::clone(&shared);
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        answer(request, Arc::clone(&shared))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeRuntimeApi {
            address,
            events: events_tx,
            posts: Mutex::new(posts_rx),
            shared,
            server,
        }
    }

    /// Queues an invocation: the next `GET …/next` hands it over.
    pub fn invoke(&self, request_id: &str, event: Value) {
        self.events
            .send((request_id.to_string(), event))
            .expect("runtime API: queue an event");
    }

    /// The next thing the runtime posted (waits up to 30 s).
    pub async fn next_post(&self) -> Post {
        let mut posts = self.posts.lock().await;
        tokio::time::timeout(POST_WAIT, posts.recv())
            .await
            .expect("the runtime posted nothing within 30 s")
            .expect("runtime API: posts channel closed")
    }

    /// How many `GET …/next` requests arrived so far.
    pub fn polls(&self) -> usize {
        self.shared.polls.load(Ordering::SeqCst)
    }

    /// Waits (up to 30 s) until at least `n` `GET …/next` requests have arrived.
    pub async fn wait_for_polls(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + POST_WAIT;
        while self.polls() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the runtime asked for {} invocation(s), expected {n}",
                self.polls()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeRuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type Answer = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: &str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}

async fn answer(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Answer, std::convert::Infallible> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let Some(resource) = path.strip_prefix("/2018-06-01") else {
        return Ok(reply(StatusCode::NOT_FOUND, "no such API version"));
    };
    if parts.method == Method::GET && resource == "/runtime/invocation/next" {
        shared.polls.fetch_add(1, Ordering::SeqCst);
        let next = shared.events.lock().await.recv().await;
        let Some((request_id, event)) = next else {
            return Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, "shutting down"));
        };
        let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
        let mut response = reply(StatusCode::OK, &event.to_string());
        let headers = response.headers_mut();
        let mut set = |name: &'static str, value: String| {
            headers.insert(name, value.parse().expect("header value"));
        };
        set("Lambda-Runtime-Aws-Request-Id", request_id);
        set("Lambda-Runtime-Deadline-Ms", deadline.to_string());
        set(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bedrock-monitor-limits".into(),
        );
        set(
            "Lambda-Runtime-Trace-Id",
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into(),
        );
        return Ok(response);
    }
    let posted = parts.method == Method::POST
        && (resource == "/runtime/init/error"
            || (resource.starts_with("/runtime/invocation/")
                && (resource.ends_with("/response") || resource.ends_with("/error"))));
    if !posted {
        return Ok(reply(StatusCode::NOT_FOUND, "no such resource"));
    }
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    let error_type = parts
        .headers
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let _ = shared.posts.send(Post {
        path,
        error_type,
        body,
    });
    Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
}
