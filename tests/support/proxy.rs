//! A recording, fault-injecting HTTP/1.1 reverse proxy for tests and benchmarks.
//!
//! The proxy runs on its own thread with its own tokio runtime, so plain
//! synchronous `#[test]` functions can use it. Every request is read in full,
//! classified (AWS service and operation), recorded, optionally delayed,
//! and then either forwarded unchanged to the upstream (normally a
//! `moto_server`) or answered with an injected fault.
//!
//! This file is self-contained (it depends on crates only) so that benchmark
//! binaries can include it with `#[path = "../tests/support/proxy.rs"] mod proxy;`.
#![allow(dead_code)]

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, EXPECT, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// How the proxy behaves; change it at run time with [`Proxy::set_options`].
#[derive(Clone, Debug)]
pub struct ProxyOptions {
    /// Delay added before each recorded request is forwarded (or faulted).
    pub latency: Duration,
    /// Probability (0.0..=1.0) that a recorded request gets a fault instead
    /// of being forwarded.
    pub fault_rate: f64,
    /// Seed of the random generator deciding faults: the same seed gives the
    /// same fault sequence for the same sequence of requests.
    pub seed: u64,
    /// The faults to choose from (uniformly) when one fires. Empty: no faults.
    pub fault_kinds: Vec<FaultKind>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            latency: Duration::ZERO,
            fault_rate: 0.0,
            seed: 0,
            fault_kinds: FaultKind::ALL.to_vec(),
        }
    }
}

/// An injected fault. All of them are retried by the AWS SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 500 with an internal-error body in the service's protocol.
    ServerError,
    /// The service's throttling error (400 `Throttling` / `ThrottlingException`,
    /// S3 503 `SlowDown`, Bedrock 429 `ThrottlingException`).
    Throttle,
    /// The request is read, then the connection is closed without a response.
    Drop,
}

impl FaultKind {
    pub const ALL: [FaultKind; 3] = [FaultKind::ServerError, FaultKind::Throttle, FaultKind::Drop];
}

/// One request that reached the proxy.
#[derive(Clone, Debug)]
pub struct Call {
    /// SigV4 signing name from the `Authorization` credential scope
    /// (`iam`, `s3`, `logs`, `bedrock`, `monitoring`, `sns`, `budgets`, `sts`, …),
    /// or `"unknown"`.
    pub service: String,
    /// API operation name (`CreateRole`, `PutBucketVersioning`, …), or
    /// `"{METHOD} {path}"` when it cannot be told.
    pub operation: String,
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// False for read operations.
    pub write: bool,
    /// A digest of the request body: with method and path, what makes two requests the same
    /// request (the benchmark and the call-count test look for repeated reads).
    pub body_digest: u64,
    /// `ACCESS_KEY/REGION` of the signature: the same request with other credentials (another
    /// account's assumed role) or in another region is another request.
    pub signer: String,
    /// The injected fault, if any (then the request was not forwarded).
    pub fault: Option<FaultKind>,
    /// Status of the answer sent back; `None` while in flight or when the
    /// connection was dropped.
    pub status: Option<u16>,
    /// When the proxy received the request head.
    pub started: Instant,
    /// When the proxy finished answering (equal to `started` while in flight).
    pub finished: Instant,
}

/// A running proxy; shut down (and its thread joined) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream` (e.g. `http://127.0.0.1:5000`)
    /// with no faults and no latency.
    pub fn start(upstream: &str) -> Proxy {
        Proxy::start_with(upstream, ProxyOptions::default())
    }

    /// Starts a proxy in front of `upstream` with the given options.
    pub fn start_with(upstream: &str, options: ProxyOptions) -> Proxy {
        Proxy::start_sharded(&[upstream.to_string()], options)
    }

    /// Starts a proxy in front of several upstreams that share the accounts out: an account's
    /// `AssumeRole` goes to its upstream (accounts are dealt out in turn), and every call made
    /// with the credentials it returned follows; everything else goes to the first one. The
    /// benchmark runs one moto process per core this way: one Python process serves only so
    /// many calls a second, while AWS serves each account on its own.
    pub fn start_sharded(upstreams: &[String], options: ProxyOptions) -> Proxy {
        assert!(!upstreams.is_empty(), "proxy: no upstream");
        let upstreams: Vec<String> = upstreams
            .iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect();
        for upstream in &upstreams {
            let parsed: hyper::Uri = upstream
                .parse()
                .unwrap_or_else(|e| panic!("proxy upstream {upstream:?} is not a URL: {e}"));
            assert!(
                parsed.scheme_str() == Some("http") && parsed.authority().is_some(),
                "proxy upstream {upstream:?} must be an http://host:port URL"
            );
        }

        let listener =
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("proxy: bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("proxy: make the listener non-blocking");
        let addr = listener.local_addr().expect("proxy: listener address");

        let shared = Arc::new(Shared {
            upstreams,
            routes: Mutex::new(Routes::default()),
            state: Mutex::new(State::new(options)),
            strict: Mutex::new(Vec::new()),
        });
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("proxy-{}", addr.port()))
            .spawn(move || serve(listener, thread_shared, shutdown_rx, ready_tx))
            .expect("proxy: spawn the server thread");
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("proxy failed to start: {e}"),
            Err(_) => panic!("proxy thread ended before it was ready"),
        }

        Proxy {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// The proxy's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxy's listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every recorded request, in arrival order (faulted ones included).
    pub fn calls(&self) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .map(|r| r.call.clone())
            .collect()
    }

    /// Writes that were forwarded: `calls()` with `write` and no fault.
    pub fn writes(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.write && c.fault.is_none())
            .collect()
    }

    /// Forgets the recorded calls.
    pub fn clear(&self) {
        self.shared.lock().calls.clear();
    }

    /// Replaces the options; the fault generator is re-seeded with `options.seed`.
    pub fn set_options(&self, options: ProxyOptions) {
        let mut state = self.shared.lock();
        state.rng = fastrand::Rng::with_seed(options.seed);
        state.options = options;
    }

    /// The current options.
    pub fn options(&self) -> ProxyOptions {
        self.shared.lock().options.clone()
    }

    /// Adds a rule that answers (or rewrites answers) as AWS would where the upstream does
    /// not. Rules are consulted in the order they were added.
    pub fn add_rule(&self, rule: Arc<dyn StrictRule>) {
        self.shared
            .strict
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    /// Adds a rule ahead of every other (one that changes requests the others then see).
    pub fn add_rule_first(&self, rule: Arc<dyn StrictRule>) {
        self.shared
            .strict
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(0, rule);
    }

    /// Removes every strict rule.
    pub fn clear_rules(&self) {
        self.shared
            .strict
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("upstreams", &self.shared.upstreams)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Server

struct Shared {
    /// Upstream base URLs without a trailing slash (usually one; see [`Proxy::start_sharded`]).
    upstreams: Vec<String>,
    routes: Mutex<Routes>,
    state: Mutex<State>,
    /// Rules that answer as AWS would where the upstream (moto) does not; kept apart from
    /// `ProxyOptions` so that resetting latency and faults keeps them.
    strict: Mutex<Vec<Arc<dyn StrictRule>>>,
}

/// Which upstream serves which account, with several upstreams.
#[derive(Default)]
struct Routes {
    by_account: std::collections::HashMap<String, usize>,
    by_access_key: std::collections::HashMap<String, usize>,
}

/// The account of an `sts:AssumeRole` request (Query protocol) for its role ARN.
fn assumed_account(body: &[u8]) -> Option<String> {
    let form = std::str::from_utf8(body).ok()?;
    if form_value(form, "Action").as_deref() != Some("AssumeRole") {
        return None;
    }
    let arn = form_value(form, "RoleArn")?;
    arn.split(':').nth(4).map(str::to_string)
}

impl Shared {
    /// The upstream for a request, and whether it is an `AssumeRole` (whose answer says
    /// which credentials belong there).
    fn route(&self, headers: &HeaderMap, path: &str, body: &[u8]) -> (usize, bool) {
        if self.upstreams.len() == 1 {
            return (0, false);
        }
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(account) = assumed_account(body) {
            let next = routes.by_account.len() % self.upstreams.len();
            let shard = *routes.by_account.entry(account).or_insert(next);
            return (shard, true);
        }
        let key = credential_scope(headers, path).map(|scope| scope[0].clone());
        let shard = key
            .and_then(|k| routes.by_access_key.get(&k).copied())
            .unwrap_or(0);
        (shard, false)
    }

    /// Credentials an `AssumeRole` answer handed out act on the upstream that answered.
    fn learn(&self, shard: usize, answer: &[u8]) {
        let text = String::from_utf8_lossy(answer);
        let key = text
            .split_once("<AccessKeyId>")
            .and_then(|(_, rest)| rest.split_once("</AccessKeyId>"))
            .map(|(key, _)| key.trim().to_string());
        if let Some(key) = key {
            let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
            routes.by_access_key.insert(key, shard);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not hide the recorded calls.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct State {
    options: ProxyOptions,
    rng: fastrand::Rng,
    calls: Vec<Recorded>,
    next_id: u64,
}

struct Recorded {
    id: u64,
    call: Call,
}

impl State {
    fn new(options: ProxyOptions) -> State {
        State {
            rng: fastrand::Rng::with_seed(options.seed),
            options,
            calls: Vec::new(),
            next_id: 0,
        }
    }

    /// One draw per recorded request, so the sequence depends only on the
    /// seed and the number of requests.
    fn draw_fault(&mut self) -> Option<FaultKind> {
        let roll = self.rng.f64();
        let kinds = &self.options.fault_kinds;
        if kinds.is_empty() || roll >= self.options.fault_rate {
            return None;
        }
        Some(kinds[self.rng.usize(..kinds.len())])
    }
}

struct Context {
    shared: Arc<Shared>,
    client: Client<HttpConnector, Full<Bytes>>,
}

fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = ready.send(Err(format!("build the tokio runtime: {e}")));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = ready.send(Err(format!("register the listener: {e}")));
                return;
            }
        };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let context = Arc::new(Context { shared, client });
        let _ = ready.send(Ok(()));

        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let context = Arc::clone(&context);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request| {
                            handle(request, Arc::clone(&context))
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(true)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    });
    // Dropping the runtime here cancels the connection tasks.
}

/// Returned by the service to make hyper close the connection without answering.
#[derive(Debug)]
struct CloseConnection(&'static str);

impl fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for CloseConnection {}

fn digest(body: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

async fn handle(
    request: Request<Incoming>,
    context: Arc<Context>,
) -> Result<Response<Full<Bytes>>, CloseConnection> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(CloseConnection("could not read the request body")),
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());

    if path.starts_with("/moto-api") {
        return Ok(forward(&context, &parts, &path, body).await);
    }

    let classification = classify(parts.method.as_str(), &path, &parts.headers, &body);
    let protocol = protocol_of(&classification.service, &path, &parts.headers, &body);
    let classification_view = (
        classification.service.clone(),
        classification.operation.clone(),
        protocol,
    );

    let (id, latency, fault) = {
        let mut state = context.shared.lock();
        let fault = state.draw_fault();
        let id = state.next_id;
        state.next_id += 1;
        let latency = state.options.latency;
        state.calls.push(Recorded {
            id,
            call: Call {
                service: classification.service,
                operation: classification.operation,
                method: parts.method.to_string(),
                path: path.clone(),
                write: classification.write,
                body_digest: digest(&body),
                signer: signer(&parts.headers, &path),
                fault,
                status: None,
                started,
                finished: started,
            },
        });
        (id, latency, fault)
    };

    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let result = match fault {
        Some(FaultKind::Drop) => Err(CloseConnection("injected fault: dropped connection")),
        Some(kind) => Ok(fault_response(kind, protocol)),
        None => Ok(strict_forward(&context, &parts, &path, body, &classification_view).await),
    };

    let finished = Instant::now();
    let status = result.as_ref().ok().map(|r| r.status().as_u16());
    let mut state = context.shared.lock();
    if let Some(recorded) = state.calls.iter_mut().rev().find(|r| r.id == id) {
        recorded.call.finished = finished;
        recorded.call.status = status;
    }
    drop(state);
    result
}

/// Forwards a request, consulting the strict rules first (which may answer instead, or hold
/// the request) and letting them rewrite the upstream's answer.
async fn strict_forward(
    context: &Arc<Context>,
    parts: &hyper::http::request::Parts,
    path: &str,
    body: Bytes,
    (service, operation, protocol): &(String, String, Protocol),
) -> Response<Full<Bytes>> {
    let rules = context
        .shared
        .strict
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if rules.is_empty() {
        return forward(context, parts, path, body).await;
    }
    let request = StrictRequest {
        service: service.clone(),
        operation: operation.clone(),
        method: parts.method.to_string(),
        path: path.to_string(),
        headers: parts.headers.clone(),
        body: body.clone(),
        protocol: *protocol,
    };
    // `finished` runs when this is dropped: also when the client goes away mid-request (a
    // killed run) and hyper drops this future, so no request stays "in progress" forever.
    let mut admitted = Admitted {
        rules: Vec::new(),
        request: request.clone(),
    };
    let mut hold = Duration::ZERO;
    let mut answer = None;
    let mut request = request;
    for rule in &rules {
        match rule.before(&request) {
            Verdict::Forward => admitted.rules.push(Arc::clone(rule)),
            Verdict::ForwardAs(other) => {
                request = other;
                admitted.request = request.clone();
                admitted.rules.push(Arc::clone(rule));
            }
            Verdict::Hold(d) => {
                hold = hold.max(d);
                admitted.rules.push(Arc::clone(rule));
            }
            Verdict::Answer(reply) => {
                answer = Some(reply);
                break;
            }
        }
    }
    let Some(reply) = answer else {
        // Forwarded on a task of its own: AWS completes a request whose client went away (a
        // killed run), and so does the upstream here, follow-ups included. `finished` runs
        // when the task is done with it.
        let task = tokio::spawn(forward_and_follow(
            Arc::clone(context),
            parts.clone(),
            request.path.clone(),
            request.body.clone(),
            admitted,
            hold,
            *protocol,
        ));
        return match task.await {
            Ok(reply) => reply.into_response(),
            Err(e) => bad_gateway(format!("forwarding task: {e}")),
        };
    };
    drop(admitted);
    reply.into_response()
}

/// Forwards an admitted request after its hold, lets the rules rewrite the answer, then sends
/// their follow-ups.
async fn forward_and_follow(
    context: Arc<Context>,
    parts: hyper::http::request::Parts,
    path: String,
    body: Bytes,
    admitted: Admitted,
    hold: Duration,
    protocol: Protocol,
) -> Reply {
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let upstream = forward(&context, &parts, &path, body).await;
    let (head, body) = upstream.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let mut reply = Reply {
        status: head.status.as_u16(),
        headers: head.headers,
        body,
    };
    let request = &admitted.request;
    for rule in &admitted.rules {
        if let Some(rewritten) = rule.rewrite(request, &reply) {
            reply = rewritten;
        }
    }
    for rule in &admitted.rules {
        if let Some(follow_up) = rule.follow_up(request, &reply)
            && let Err(message) = send_follow_up(&context, &parts, follow_up).await
        {
            reply = Reply::error(protocol, 500, "ProxyFollowUpFailed", &message);
        }
    }
    reply
}

/// Sends a rule's [`FollowUp`] upstream with the original request's credentials (moto tells
/// the account by them); an answer other than 2xx is an error.
async fn send_follow_up(
    context: &Context,
    original: &hyper::http::request::Parts,
    follow_up: FollowUp,
) -> Result<(), String> {
    let mut builder = Request::builder()
        .method(follow_up.method.as_str())
        .uri(&follow_up.path);
    for name in [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "host",
    ] {
        if let Some(value) = original.headers.get(name) {
            builder = builder.header(name, value.clone());
        }
    }
    builder = builder
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header(CONTENT_TYPE, "application/xml")
        .header(CONTENT_LENGTH, follow_up.body.len());
    let (parts, ()) = builder
        .body(())
        .map_err(|e| format!("follow-up {}: {e}", follow_up.path))?
        .into_parts();
    let response = forward(context, &parts, &follow_up.path, follow_up.body).await;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "follow-up {} {} answered {}",
            follow_up.method,
            follow_up.path,
            response.status()
        ))
    }
}

/// The strict rules that let a request through, told when it is done (see `strict_forward`).
struct Admitted {
    rules: Vec<Arc<dyn StrictRule>>,
    request: StrictRequest,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        for rule in &self.rules {
            rule.finished(&self.request);
        }
    }
}

/// Hop-by-hop response headers that belong to the upstream connection only.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

async fn forward(
    context: &Context,
    parts: &hyper::http::request::Parts,
    path: &str,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let (shard, assuming) = context.shared.route(&parts.headers, path, &body);
    let uri = format!("{}{}", context.shared.upstreams[shard], path);
    let mut builder = Request::builder()
        .method(parts.method.clone())
        .uri(&uri)
        .version(Version::HTTP_11);
    if let Some(headers) = builder.headers_mut() {
        for (name, value) in &parts.headers {
            // The body is already read in full; the upstream must not wait
            // for a `100 Continue` exchange. A length that is no longer the body's (a rule
            // changed the body) is left to hyper to set.
            let stale_length = name == CONTENT_LENGTH
                && value.to_str().ok().and_then(|v| v.parse::<usize>().ok()) != Some(body.len());
            if name != EXPECT && !stale_length {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    let request = match builder.body(Full::new(body)) {
        Ok(request) => request,
        Err(e) => return bad_gateway(format!("build upstream request {uri}: {e}")),
    };
    let response = match context.client.request(request).await {
        Ok(response) => response,
        Err(e) => return bad_gateway(format!("upstream request {uri}: {e:?}")),
    };
    let (upstream_parts, upstream_body) = response.into_parts();
    let body = match upstream_body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return bad_gateway(format!("upstream response body {uri}: {e}")),
    };
    if assuming && upstream_parts.status.is_success() {
        context.shared.learn(shard, &body);
    }

    let mut response = Response::new(Full::new(body));
    *response.status_mut() = upstream_parts.status;
    let headers = response.headers_mut();
    for (name, value) in &upstream_parts.headers {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        // hyper sets Content-Length from the buffered body; a HEAD answer
        // keeps the upstream's (it has no body to measure).
        if name == CONTENT_LENGTH && parts.method != Method::HEAD {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    response
}

fn bad_gateway(message: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("proxy: {message}"))));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

// ---------------------------------------------------------------------------
// Faults

/// The wire protocol of a request, which decides the shape of error answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// awsQuery (IAM, STS, SNS, CloudWatch): form body, XML `ErrorResponse`.
    Query,
    /// awsJson (CloudWatch Logs, Budgets): `X-Amz-Target`, JSON `__type`.
    Json,
    /// S3 restXml: XML `Error`.
    S3,
    /// restJson (Bedrock): `x-amzn-ErrorType` header.
    RestJson,
}

/// Tells the protocol of a request from its signing name and shape.
pub fn protocol_of(service: &str, path: &str, headers: &HeaderMap, body: &[u8]) -> Protocol {
    if service == "s3" {
        return Protocol::S3;
    }
    if headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    if QUERY_SERVICES.contains(&service) || query_action(path, body).is_some() {
        return Protocol::Query;
    }
    Protocol::RestJson
}

const QUERY_SERVICES: [&str; 12] = [
    "iam",
    "sts",
    "sns",
    "monitoring",
    "sqs",
    "ec2",
    "autoscaling",
    "cloudformation",
    "elasticloadbalancing",
    "rds",
    "ses",
    "elasticache",
];

fn fault_response(kind: FaultKind, protocol: Protocol) -> Response<Full<Bytes>> {
    let (status, content_type, error_type, body): (u16, &str, Option<&str>, String) =
        match (kind, protocol) {
            (FaultKind::ServerError, Protocol::Query) => (
                500,
                "text/xml",
                None,
                query_error("Receiver", "InternalFailure", "injected fault"),
            ),
            (FaultKind::Throttle, Protocol::Query) => (
                400,
                "text/xml",
                None,
                query_error("Sender", "Throttling", "Rate exceeded"),
            ),
            (FaultKind::ServerError, Protocol::Json) => (
                500,
                "application/x-amz-json-1.1",
                None,
                r#"{"__type":"InternalFailure","message":"injected fault"}"#.to_string(),
            ),
            (FaultKind::Throttle, Protocol::Json) => (
                400,
                "application/x-amz-json-1.1",
                None,
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
            ),
            (FaultKind::ServerError, Protocol::S3) => (
                500,
                "application/xml",
                None,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <Error><Code>InternalError</Code><Message>injected fault</Message>\
                 <RequestId>proxy</RequestId></Error>"
                    .to_string(),
            ),
            (FaultKind::Throttle, Protocol::S3) => (
                503,
                "application/xml",
                None,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>\
                 <RequestId>proxy</RequestId></Error>"
                    .to_string(),
            ),
            (FaultKind::ServerError, Protocol::RestJson) => (
                500,
                "application/json",
                Some("InternalServerException"),
                r#"{"message":"injected fault"}"#.to_string(),
            ),
            (FaultKind::Throttle, Protocol::RestJson) => (
                429,
                "application/json",
                Some("ThrottlingException"),
                r#"{"message":"Too many requests"}"#.to_string(),
            ),
            (FaultKind::Drop, _) => unreachable!("dropped connections have no response"),
        };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).expect("valid fault status");
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("content type"),
    );
    headers.insert(
        HeaderName::from_static("x-amzn-requestid"),
        HeaderValue::from_static("proxy-fault"),
    );
    if protocol == Protocol::S3 {
        headers.insert(
            HeaderName::from_static("x-amz-request-id"),
            HeaderValue::from_static("proxy-fault"),
        );
    }
    if let Some(error_type) = error_type {
        headers.insert(
            HeaderName::from_static("x-amzn-errortype"),
            HeaderValue::from_static(error_type),
        );
    }
    response
}

fn query_error(kind: &str, code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>proxy</RequestId></ErrorResponse>"
    )
}

// ---------------------------------------------------------------------------
// Classification

/// What a request is, as far as the recorder is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    pub service: String,
    pub operation: String,
    pub write: bool,
}

/// Classifies a request: AWS service (SigV4 signing name), operation and
/// whether it is a write. `path` is the path and query as received.
pub fn classify(method: &str, path: &str, headers: &HeaderMap, body: &[u8]) -> Classification {
    let service = signing_service(headers, path).unwrap_or_else(|| "unknown".to_string());
    let method = method.to_ascii_uppercase();
    let fallback = || format!("{method} {path}");
    let read_method = method == "GET" || method == "HEAD";

    let (operation, write) = if service == "s3" {
        let operation = s3_operation(&method, path, headers).unwrap_or_else(fallback);
        (operation, !read_method)
    } else if let Some(operation) = json_target(headers) {
        let write = !is_read_operation(&operation);
        (operation, write)
    } else if let Some(operation) = query_action(path, body) {
        let write = !is_read_operation(&operation);
        (operation, write)
    } else if let Some(operation) = rpc_v2_operation(path) {
        let write = !is_read_operation(&operation);
        (operation, write)
    } else if let Some(operation) = bedrock_operation(&method, path) {
        let write = !is_read_operation(operation);
        (operation.to_string(), write)
    } else if let Some(operation) = (service == "chatbot")
        .then(|| chatbot_operation(path))
        .flatten()
    {
        let write = !is_read_operation(&operation);
        (operation, write)
    } else {
        (fallback(), !read_method)
    };
    Classification {
        service,
        operation,
        write,
    }
}

/// True for operations that change nothing: `Get*`, `List*`, `Describe*`,
/// `Head*`, and a few others (log queries, policy simulation, STS tokens).
pub fn is_read_operation(operation: &str) -> bool {
    const READ_PREFIXES: [&str; 4] = ["Get", "List", "Describe", "Head"];
    const READ_OPERATIONS: [&str; 10] = [
        "FilterLogEvents",
        "StartQuery",
        "StopQuery",
        "TestMetricFilter",
        "SimulatePrincipalPolicy",
        "SimulateCustomPolicy",
        "AssumeRole",
        "AssumeRoleWithWebIdentity",
        "AssumeRoleWithSAML",
        "DecodeAuthorizationMessage",
    ];
    READ_PREFIXES.iter().any(|p| operation.starts_with(p)) || READ_OPERATIONS.contains(&operation)
}

/// The SigV4 credential (`AKID/DATE/REGION/SERVICE/aws4_request`) from the `Authorization`
/// header, or from a presigned URL's `X-Amz-Credential`.
fn credential_scope(headers: &HeaderMap, path: &str) -> Option<Vec<String>> {
    let from_header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let start = auth.find("Credential=")? + "Credential=".len();
            let rest = &auth[start..];
            let end = rest
                .find(|c: char| c == ',' || c.is_whitespace())
                .unwrap_or(rest.len());
            Some(rest[..end].to_string())
        });
    let credential = from_header.or_else(|| {
        let (_, query) = path.split_once('?')?;
        form_value(query, "X-Amz-Credential")
    })?;
    let scope: Vec<String> = credential.split('/').map(str::to_string).collect();
    (scope.len() >= 5 && scope[scope.len() - 1] == "aws4_request").then_some(scope)
}

/// The SigV4 signing name from the request's credential scope ([`credential_scope`]).
pub fn signing_service(headers: &HeaderMap, path: &str) -> Option<String> {
    let scope = credential_scope(headers, path)?;
    let service = &scope[scope.len() - 2];
    (!service.is_empty()).then(|| service.clone())
}

/// Who asked, and where: the access key and region of the request's credential scope.
fn signer(headers: &HeaderMap, path: &str) -> String {
    credential_scope(headers, path)
        .map(|scope| format!("{}/{}", scope[0], scope[scope.len() - 3]))
        .unwrap_or_default()
}

/// awsJson: the part of `X-Amz-Target` after the last `.`.
fn json_target(headers: &HeaderMap) -> Option<String> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    let operation = target.rsplit('.').next()?;
    (!operation.is_empty()).then(|| operation.to_string())
}

/// awsQuery: `Action=` in the form body, else in the query string.
fn query_action(path: &str, body: &[u8]) -> Option<String> {
    let from_body = std::str::from_utf8(body)
        .ok()
        .filter(|b| !b.trim_start().starts_with(['{', '<']))
        .and_then(|b| form_value(b.trim(), "Action"));
    from_body
        .or_else(|| {
            let (_, query) = path.split_once('?')?;
            form_value(query, "Action")
        })
        .filter(|a| !a.is_empty())
}

/// Smithy rpcv2: `/service/{Service}/operation/{Operation}`.
fn rpc_v2_operation(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["service", _, "operation", operation] if !operation.is_empty() => {
            Some(operation.to_string())
        }
        _ => None,
    }
}

/// Bedrock (control plane) operations used by the tool, by method and path.
fn bedrock_operation(method: &str, path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let operation = match (method, path) {
        ("GET", "/logging/modelinvocations") => "GetModelInvocationLoggingConfiguration",
        ("PUT", "/logging/modelinvocations") => "PutModelInvocationLoggingConfiguration",
        ("DELETE", "/logging/modelinvocations") => "DeleteModelInvocationLoggingConfiguration",
        ("POST", "/listTagsForResource") => "ListTagsForResource",
        ("POST", "/tagResource") => "TagResource",
        ("POST", "/untagResource") => "UntagResource",
        ("GET", "/foundation-models") => "ListFoundationModels",
        ("GET", "/inference-profiles") => "ListInferenceProfiles",
        ("POST", "/inference-profiles") => "CreateInferenceProfile",
        ("GET", "/guardrails") => "ListGuardrails",
        ("GET", p) if p.starts_with("/foundation-models/") => "GetFoundationModel",
        ("GET", p) if p.starts_with("/inference-profiles/") => "GetInferenceProfile",
        ("DELETE", p) if p.starts_with("/inference-profiles/") => "DeleteInferenceProfile",
        _ => return None,
    };
    Some(operation)
}

/// AWS Chatbot's operation from its path: every operation is a POST to the operation's name in
/// kebab case, `ms-teams` for `MicrosoftTeams` (AWS Chatbot API reference, e.g. `POST
/// /list-ms-teams-channel-configurations` for ListMicrosoftTeamsChannelConfigurations).
fn chatbot_operation(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let name = path.strip_prefix('/')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
        return None;
    }
    let pascal: String = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    Some(pascal.replace("MsTeams", "MicrosoftTeams"))
}

/// S3 (path-style) operation from method, path, query and headers.
pub fn s3_operation(method: &str, path: &str, headers: &HeaderMap) -> Option<String> {
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let has = |key: &str| params.iter().any(|(k, _)| k == key);
    let value = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };

    // The Rust SDK names many S3 operations itself: `?x-id=GetObject`.
    if let Some(x_id) = value("x-id").filter(|v| !v.is_empty()) {
        return Some(x_id.to_string());
    }

    let trimmed = raw_path.trim_start_matches('/');
    let (bucket, key) = match trimmed.split_once('/') {
        Some((bucket, key)) => (bucket, key),
        None => (trimmed, ""),
    };
    let verb = match method {
        "GET" => "Get",
        "PUT" => "Put",
        "DELETE" => "Delete",
        _ => "",
    };

    if bucket.is_empty() {
        return (method == "GET").then(|| "ListBuckets".to_string());
    }

    if key.is_empty() {
        // Bucket subresources: (query key, operation suffix, delete name).
        const SUBRESOURCES: [(&str, &str, &str); 17] = [
            ("versioning", "BucketVersioning", ""),
            (
                "lifecycle",
                "BucketLifecycleConfiguration",
                "DeleteBucketLifecycle",
            ),
            ("encryption", "BucketEncryption", "DeleteBucketEncryption"),
            (
                "publicAccessBlock",
                "PublicAccessBlock",
                "DeletePublicAccessBlock",
            ),
            ("policyStatus", "BucketPolicyStatus", ""),
            ("policy", "BucketPolicy", "DeleteBucketPolicy"),
            ("tagging", "BucketTagging", "DeleteBucketTagging"),
            ("acl", "BucketAcl", ""),
            (
                "ownershipControls",
                "BucketOwnershipControls",
                "DeleteBucketOwnershipControls",
            ),
            ("notification", "BucketNotificationConfiguration", ""),
            ("logging", "BucketLogging", ""),
            ("cors", "BucketCors", "DeleteBucketCors"),
            ("website", "BucketWebsite", "DeleteBucketWebsite"),
            (
                "replication",
                "BucketReplication",
                "DeleteBucketReplication",
            ),
            ("object-lock", "ObjectLockConfiguration", ""),
            ("accelerate", "BucketAccelerateConfiguration", ""),
            ("requestPayment", "BucketRequestPayment", ""),
        ];
        if has("location") {
            return (method == "GET").then(|| "GetBucketLocation".to_string());
        }
        for (subresource, suffix, delete_name) in SUBRESOURCES {
            if has(subresource) {
                return match method {
                    "GET" | "PUT" => Some(format!("{verb}{suffix}")),
                    "DELETE" if !delete_name.is_empty() => Some(delete_name.to_string()),
                    _ => None,
                };
            }
        }
        return match method {
            "POST" if has("delete") => Some("DeleteObjects".to_string()),
            "GET" if has("versions") => Some("ListObjectVersions".to_string()),
            "GET" if has("uploads") => Some("ListMultipartUploads".to_string()),
            "GET" if value("list-type") == Some("2") => Some("ListObjectsV2".to_string()),
            "GET" if params.is_empty() || has("prefix") || has("marker") => {
                Some("ListObjects".to_string())
            }
            "PUT" if params.is_empty() => Some("CreateBucket".to_string()),
            "HEAD" if params.is_empty() => Some("HeadBucket".to_string()),
            "DELETE" if params.is_empty() => Some("DeleteBucket".to_string()),
            _ => None,
        };
    }

    // Object operations.
    if has("tagging") {
        return match method {
            "GET" | "PUT" | "DELETE" => Some(format!("{verb}ObjectTagging")),
            _ => None,
        };
    }
    if has("acl") {
        return match method {
            "GET" | "PUT" => Some(format!("{verb}ObjectAcl")),
            _ => None,
        };
    }
    let operation = match method {
        "POST" if has("uploads") => "CreateMultipartUpload",
        "POST" if has("uploadId") => "CompleteMultipartUpload",
        "PUT" if has("uploadId") && has("partNumber") => "UploadPart",
        "GET" if has("uploadId") => "ListParts",
        "DELETE" if has("uploadId") => "AbortMultipartUpload",
        "PUT" if headers.contains_key("x-amz-copy-source") => "CopyObject",
        "PUT" => "PutObject",
        "GET" => "GetObject",
        "HEAD" => "HeadObject",
        "DELETE" => "DeleteObject",
        _ => return None,
    };
    Some(operation.to_string())
}

/// The decoded value of `key` in an `application/x-www-form-urlencoded` string.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// Decodes `%XX` escapes and `+` (as a space).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// Strict AWS: where moto accepts what AWS rejects, or answers otherwise

/// A request as a strict rule sees it.
#[derive(Clone, Debug)]
pub struct StrictRequest {
    /// SigV4 signing name (`s3`, `monitoring`, `budgets`, …).
    pub service: String,
    pub operation: String,
    pub method: String,
    /// Path and query as received.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub protocol: Protocol,
}

impl StrictRequest {
    /// A form parameter of an awsQuery request (`Period`, `EvaluationPeriods`, …).
    pub fn form(&self, key: &str) -> Option<String> {
        std::str::from_utf8(&self.body)
            .ok()
            .and_then(|b| form_value(b.trim(), key))
    }

    /// The body of an awsJson request as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The bucket of a path-style S3 request.
    pub fn bucket(&self) -> Option<&str> {
        let path = self.path.split('?').next().unwrap_or(&self.path);
        path.trim_start_matches('/')
            .split('/')
            .next()
            .filter(|b| !b.is_empty())
    }

    /// The access key ID of the request's SigV4 credential.
    pub fn access_key(&self) -> Option<String> {
        credential_scope(&self.headers, &self.path).map(|scope| scope[0].clone())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The region of the request's SigV4 credential scope.
    pub fn signing_region(&self) -> Option<String> {
        let auth = self.headers.get("authorization")?.to_str().ok()?;
        let start = auth.find("Credential=")? + "Credential=".len();
        let scope: Vec<&str> = auth[start..].split([',', ' ']).next()?.split('/').collect();
        (scope.len() >= 5).then(|| scope[scope.len() - 3].to_string())
    }
}

/// An answer: status, headers, body.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// An AWS error in the request's protocol, as the service would send it.
    pub fn error(protocol: Protocol, status: u16, code: &str, message: &str) -> Reply {
        let (content_type, body) = match protocol {
            Protocol::Query => (
                "text/xml",
                query_error(
                    if status >= 500 { "Receiver" } else { "Sender" },
                    code,
                    message,
                ),
            ),
            Protocol::Json => (
                "application/x-amz-json-1.1",
                serde_json::json!({"__type": code, "Message": message}).to_string(),
            ),
            Protocol::S3 => (
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>proxy-strict</RequestId></Error>"
                ),
            ),
            Protocol::RestJson => (
                "application/json",
                serde_json::json!({"message": message}).to_string(),
            ),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(
            HeaderName::from_static("x-amzn-requestid"),
            HeaderValue::from_static("proxy-strict"),
        );
        if protocol == Protocol::RestJson
            && let Ok(v) = HeaderValue::from_str(code)
        {
            headers.insert(HeaderName::from_static("x-amzn-errortype"), v);
        }
        Reply {
            status,
            headers,
            body: Bytes::from(body),
        }
    }

    /// A body-less answer (what S3 sends to HEAD requests).
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        for (name, value) in &self.headers {
            if name == CONTENT_LENGTH || HOP_BY_HOP.contains(&name.as_str()) {
                continue;
            }
            response.headers_mut().append(name.clone(), value.clone());
        }
        response
    }
}

/// What a strict rule decides about a request before it is forwarded.
pub enum Verdict {
    Forward,
    /// Forward after this long: the request is "in progress" meanwhile.
    Hold(Duration),
    /// Answer this instead of forwarding.
    Answer(Reply),
    /// Go on with this request instead (a page size the test imposes): the rules after this
    /// one, the upstream and every rewrite see it.
    ForwardAs(StrictRequest),
}

/// One AWS behaviour moto lacks. Each implementation names the AWS document it follows.
pub trait StrictRule: Send + Sync {
    fn before(&self, request: &StrictRequest) -> Verdict;
    /// Replace the upstream's answer (after forwarding), if AWS would answer otherwise.
    fn rewrite(&self, _request: &StrictRequest, _reply: &Reply) -> Option<Reply> {
        None
    }
    /// The request was answered (forwarded or not), for rules that track requests in flight.
    fn finished(&self, _request: &StrictRequest) {}
    /// A request to send upstream after this one was forwarded and answered `reply`, before
    /// the answer goes back: what AWS does as part of the request and moto does not.
    fn follow_up(&self, _request: &StrictRequest, _reply: &Reply) -> Option<FollowUp> {
        None
    }
}

/// A request a rule has the proxy send upstream (see [`StrictRule::follow_up`]).
#[derive(Clone, Debug)]
pub struct FollowUp {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub body: Bytes,
}

/// A rule from a closure, for one-off answers in tests.
pub struct AnswerWith<F>(pub F);

impl<F> StrictRule for AnswerWith<F>
where
    F: Fn(&StrictRequest) -> Option<Reply> + Send + Sync,
{
    fn before(&self, request: &StrictRequest) -> Verdict {
        match (self.0)(request) {
            Some(reply) => Verdict::Answer(reply),
            None => Verdict::Forward,
        }
    }
}
