//! Tests of the test harness itself: `support::moto` and `support::proxy`.
//!
//! These talk HTTP directly (plain TCP or hyper), never through the AWS SDK,
//! so they check the harness independently of the tool.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::HeaderMap;
use hyper::header::HeaderValue;
use hyper_util::rt::TokioIo;

use crate::support::proxy::{Protocol, classify, protocol_of};
use crate::support::{FaultKind, Moto, Proxy, ProxyOptions};

/// An upstream nobody listens on: forwarded requests get a 502 from the proxy.
const DEAD_UPSTREAM: &str = "http://127.0.0.1:1";

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=00"
    )
}

#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn addr_of(base: &str) -> SocketAddr {
    base.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{base} is not http://IP:PORT: {e}"))
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
/// An error means the connection ended without a response.
fn send(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<RawResponse> {
    let addr = addr_of(base);
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    stream.flush()?;

    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    if raw.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed without a response",
        ));
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("response without end of headers: {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(RawResponse {
        status,
        headers,
        body: body.to_string(),
    })
}

fn sts_get_caller_identity(base: &str) -> std::io::Result<RawResponse> {
    send(
        base,
        "POST",
        "/",
        &[
            ("Authorization", &auth("sts")),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
}

fn logs_request(base: &str, operation: &str, body: &str) -> std::io::Result<RawResponse> {
    send(
        base,
        "POST",
        "/",
        &[
            ("Authorization", &auth("logs")),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", &format!("Logs_20140328.{operation}")),
        ],
        body,
    )
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn moto_starts_resets_and_is_killed_on_drop() {
    let moto = Moto::start();
    let pid = moto.pid();
    let url = moto.url();
    assert_eq!(url, format!("http://127.0.0.1:{}", moto.port()));
    assert!(pid_alive(pid), "moto_server pid {pid} should be running");

    let answer = send(&url, "GET", "/moto-api/", &[], "").expect("GET /moto-api/ on moto");
    assert_eq!(answer.status, 200, "GET /moto-api/: {answer:?}");

    // Create a log group, reset, and check it is gone.
    let created = logs_request(&url, "CreateLogGroup", r#"{"logGroupName":"before-reset"}"#)
        .expect("CreateLogGroup on moto");
    assert_eq!(created.status, 200, "CreateLogGroup: {created:?}");
    moto.reset();
    let described =
        logs_request(&url, "DescribeLogGroups", "{}").expect("DescribeLogGroups on moto");
    assert_eq!(described.status, 200, "DescribeLogGroups: {described:?}");
    assert!(
        !described.body.contains("before-reset"),
        "reset should forget log groups: {}",
        described.body
    );

    drop(moto);
    assert!(
        !pid_alive(pid),
        "moto_server pid {pid} should be gone after Moto is dropped"
    );
    assert!(
        TcpStream::connect_timeout(&addr_of(&url), Duration::from_millis(500)).is_err(),
        "nothing should listen on {url} after Moto is dropped"
    );
}

#[test]
fn proxy_forwards_query_and_json_requests_and_records_them() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto.url());

    let identity = sts_get_caller_identity(&proxy.url()).expect("STS through the proxy");
    assert_eq!(identity.status, 200, "GetCallerIdentity: {identity:?}");
    assert!(
        identity.body.contains("<GetCallerIdentityResponse"),
        "moto's answer should come back unchanged: {}",
        identity.body
    );
    assert!(
        identity.header("x-amzn-requestid").is_some(),
        "upstream headers should be copied: {:?}",
        identity.headers
    );

    let created = logs_request(
        &proxy.url(),
        "CreateLogGroup",
        r#"{"logGroupName":"through-proxy"}"#,
    )
    .expect("CreateLogGroup through the proxy");
    assert_eq!(created.status, 200, "CreateLogGroup: {created:?}");

    // The moto API is forwarded but not recorded.
    let api = send(&proxy.url(), "GET", "/moto-api/", &[], "").expect("moto-api via proxy");
    assert_eq!(api.status, 200);

    // The body reached moto: the group exists, seen directly on moto.
    let direct =
        logs_request(&moto.url(), "DescribeLogGroups", "{}").expect("DescribeLogGroups on moto");
    assert!(
        direct.body.contains("through-proxy"),
        "CreateLogGroup should have reached moto: {}",
        direct.body
    );

    let calls = proxy.calls();
    assert_eq!(calls.len(), 2, "two recorded calls expected: {calls:#?}");
    let sts = &calls[0];
    assert_eq!(sts.service, "sts");
    assert_eq!(sts.operation, "GetCallerIdentity");
    assert_eq!(sts.method, "POST");
    assert_eq!(sts.path, "/");
    assert!(!sts.write, "GetCallerIdentity is a read");
    assert_eq!(sts.fault, None);
    assert_eq!(sts.status, Some(200));
    assert!(sts.finished >= sts.started);

    let logs = &calls[1];
    assert_eq!(logs.service, "logs");
    assert_eq!(logs.operation, "CreateLogGroup");
    assert!(logs.write, "CreateLogGroup is a write");
    assert!(logs.started >= sts.finished, "arrival order kept");

    let writes = proxy.writes();
    assert_eq!(writes.len(), 1, "one write expected: {writes:#?}");
    assert_eq!(writes[0].operation, "CreateLogGroup");

    // A faulted write is recorded, flagged, not forwarded, and not a write.
    proxy.clear();
    assert!(proxy.calls().is_empty(), "clear() forgets calls");
    proxy.set_options(ProxyOptions {
        fault_rate: 1.0,
        fault_kinds: vec![FaultKind::ServerError],
        ..ProxyOptions::default()
    });
    let faulted = logs_request(
        &proxy.url(),
        "CreateLogGroup",
        r#"{"logGroupName":"never-forwarded"}"#,
    )
    .expect("faulted CreateLogGroup");
    assert_eq!(faulted.status, 500, "injected fault: {faulted:?}");
    proxy.set_options(ProxyOptions::default());
    let after = logs_request(&proxy.url(), "DescribeLogGroups", "{}").expect("DescribeLogGroups");
    assert_eq!(after.status, 200);
    assert!(
        !after.body.contains("never-forwarded"),
        "a faulted request must not reach moto: {}",
        after.body
    );
    let calls = proxy.calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0].fault, Some(FaultKind::ServerError));
    assert!(calls[0].write);
    assert_eq!(calls[1].operation, "DescribeLogGroups");
    assert!(!calls[1].write, "DescribeLogGroups is a read");
    assert!(proxy.writes().is_empty(), "faulted writes are not writes");
}

/// Several S3 requests over one kept-alive client connection, the way the SDK
/// talks: the proxy must keep the connection usable and copy heads and bodies.
#[test]
fn proxy_keeps_connections_alive_and_copies_s3_answers() {
    let moto = Moto::start();
    let proxy = Proxy::start(&moto.url());
    let addr = proxy.addr();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime for the hyper client");
    let results: Vec<(String, u16, HeaderMap, Bytes)> = runtime.block_on(async move {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the proxy");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake with the proxy");
        tokio::spawn(connection);

        let versioning = "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                          <Status>Enabled</Status></VersioningConfiguration>";
        let steps: [(&str, &str, &str); 6] = [
            ("PUT", "/harness-bucket", ""),
            ("PUT", "/harness-bucket?versioning", versioning),
            ("GET", "/harness-bucket?versioning", ""),
            ("PUT", "/harness-bucket/dir/key.txt", "hello"),
            ("HEAD", "/harness-bucket/dir/key.txt", ""),
            ("GET", "/harness-bucket/dir/key.txt?x-id=GetObject", ""),
        ];
        let mut results = Vec::new();
        for (method, path, body) in steps {
            sender
                .ready()
                .await
                .unwrap_or_else(|e| panic!("connection not reusable before {method} {path}: {e}"));
            let request = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header("host", addr.to_string())
                .header("authorization", auth("s3"))
                .header("content-length", body.len())
                .body(Full::new(Bytes::from(body)))
                .expect("build request");
            let response = sender
                .send_request(request)
                .await
                .unwrap_or_else(|e| panic!("{method} {path} through the proxy: {e}"));
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .unwrap_or_else(|e| panic!("read {method} {path} body: {e}"))
                .to_bytes();
            results.push((format!("{method} {path}"), parts.status.as_u16(), parts.headers, body));
        }
        results
    });

    for (request, status, _, body) in &results {
        assert_eq!(*status, 200, "{request}: {}", String::from_utf8_lossy(body));
    }
    let versioning = String::from_utf8_lossy(&results[2].3);
    assert!(
        versioning.contains("<Status>Enabled</Status>"),
        "GetBucketVersioning: {versioning}"
    );
    assert_eq!(
        results[4].2.get("content-length"),
        Some(&HeaderValue::from_static("5")),
        "HEAD keeps the upstream Content-Length: {:?}",
        results[4].2
    );
    assert_eq!(&results[5].3[..], b"hello", "GetObject body");

    let operations: Vec<(String, bool)> = proxy
        .calls()
        .into_iter()
        .map(|c| {
            assert_eq!(c.service, "s3");
            (c.operation, c.write)
        })
        .collect();
    let expected = [
        ("CreateBucket", true),
        ("PutBucketVersioning", true),
        ("GetBucketVersioning", false),
        ("PutObject", true),
        ("HeadObject", false),
        ("GetObject", false),
    ];
    assert_eq!(
        operations,
        expected
            .iter()
            .map(|(o, w)| (o.to_string(), *w))
            .collect::<Vec<_>>()
    );
    assert_eq!(proxy.writes().len(), 3);
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

#[test]
fn classification_of_requests() {
    let s3 = headers(&[("authorization", &auth("s3"))]);
    let cases: [(&str, &str, &str, bool); 24] = [
        ("GET", "/", "ListBuckets", false),
        ("PUT", "/b", "CreateBucket", true),
        ("HEAD", "/b", "HeadBucket", false),
        ("DELETE", "/b", "DeleteBucket", true),
        ("PUT", "/b?versioning", "PutBucketVersioning", true),
        ("GET", "/b?versioning", "GetBucketVersioning", false),
        (
            "PUT",
            "/b?lifecycle",
            "PutBucketLifecycleConfiguration",
            true,
        ),
        (
            "GET",
            "/b?lifecycle",
            "GetBucketLifecycleConfiguration",
            false,
        ),
        ("DELETE", "/b?lifecycle", "DeleteBucketLifecycle", true),
        ("PUT", "/b?encryption", "PutBucketEncryption", true),
        ("GET", "/b?publicAccessBlock", "GetPublicAccessBlock", false),
        (
            "DELETE",
            "/b?publicAccessBlock",
            "DeletePublicAccessBlock",
            true,
        ),
        ("PUT", "/b?policy", "PutBucketPolicy", true),
        ("DELETE", "/b?tagging", "DeleteBucketTagging", true),
        ("GET", "/b?location", "GetBucketLocation", false),
        ("GET", "/b?versions&prefix=x", "ListObjectVersions", false),
        ("GET", "/b?list-type=2&prefix=a%2Fb", "ListObjectsV2", false),
        ("POST", "/b?delete", "DeleteObjects", true),
        ("PUT", "/b/k/e/y", "PutObject", true),
        ("GET", "/b/key", "GetObject", false),
        ("HEAD", "/b/key", "HeadObject", false),
        ("DELETE", "/b/key", "DeleteObject", true),
        ("DELETE", "/b/key?x-id=DeleteObject", "DeleteObject", true),
        ("OPTIONS", "/b/key", "OPTIONS /b/key", true),
    ];
    for (method, path, operation, write) in cases {
        let c = classify(method, path, &s3, b"");
        assert_eq!(c.service, "s3", "{method} {path}");
        assert_eq!(c.operation, operation, "{method} {path}");
        assert_eq!(c.write, write, "{method} {path} write");
    }

    let bedrock = headers(&[("authorization", &auth("bedrock"))]);
    let cases: [(&str, &str, &str, bool); 8] = [
        (
            "GET",
            "/logging/modelinvocations",
            "GetModelInvocationLoggingConfiguration",
            false,
        ),
        (
            "PUT",
            "/logging/modelinvocations",
            "PutModelInvocationLoggingConfiguration",
            true,
        ),
        (
            "DELETE",
            "/logging/modelinvocations",
            "DeleteModelInvocationLoggingConfiguration",
            true,
        ),
        ("POST", "/listTagsForResource", "ListTagsForResource", false),
        ("POST", "/tagResource", "TagResource", true),
        ("POST", "/untagResource", "UntagResource", true),
        ("GET", "/custom-models", "GET /custom-models", false),
        (
            "POST",
            "/model-customization-jobs",
            "POST /model-customization-jobs",
            true,
        ),
    ];
    for (method, path, operation, write) in cases {
        let c = classify(method, path, &bedrock, br#"{"resourceARN":"arn"}"#);
        assert_eq!(c.service, "bedrock", "{method} {path}");
        assert_eq!(c.operation, operation, "{method} {path}");
        assert_eq!(c.write, write, "{method} {path} write");
    }

    // awsQuery: Action in the body or the query string.
    for (service, body, path, operation, write) in [
        (
            "iam",
            "Action=CreateRole&Version=2010-05-08&RoleName=r",
            "/",
            "CreateRole",
            true,
        ),
        (
            "iam",
            "Version=2010-05-08&Action=GetRole&RoleName=r",
            "/",
            "GetRole",
            false,
        ),
        (
            "sns",
            "",
            "/?Action=ListTopics&Version=2010-03-31",
            "ListTopics",
            false,
        ),
        (
            "sns",
            "Action=Subscribe&Protocol=email",
            "/",
            "Subscribe",
            true,
        ),
        (
            "monitoring",
            "Action=PutMetricAlarm&AlarmName=a",
            "/",
            "PutMetricAlarm",
            true,
        ),
        (
            "monitoring",
            "Action=GetMetricData",
            "/",
            "GetMetricData",
            false,
        ),
        (
            "sts",
            "Action=GetCallerIdentity&Version=2011-06-15",
            "/",
            "GetCallerIdentity",
            false,
        ),
    ] {
        let h = headers(&[
            ("authorization", &auth(service)),
            ("content-type", "application/x-www-form-urlencoded"),
        ]);
        let c = classify("POST", path, &h, body.as_bytes());
        assert_eq!(
            (c.service.as_str(), c.operation.as_str(), c.write),
            (service, operation, write)
        );
        assert_eq!(
            protocol_of(service, path, &h, body.as_bytes()),
            Protocol::Query
        );
    }

    // awsJson: X-Amz-Target after the last dot.
    for (service, target, operation, write) in [
        (
            "logs",
            "Logs_20140328.CreateLogGroup",
            "CreateLogGroup",
            true,
        ),
        (
            "logs",
            "Logs_20140328.PutRetentionPolicy",
            "PutRetentionPolicy",
            true,
        ),
        ("logs", "Logs_20140328.StartQuery", "StartQuery", false),
        (
            "logs",
            "Logs_20140328.GetQueryResults",
            "GetQueryResults",
            false,
        ),
        (
            "logs",
            "Logs_20140328.FilterLogEvents",
            "FilterLogEvents",
            false,
        ),
        (
            "budgets",
            "AWSBudgetServiceGateway.DescribeBudgets",
            "DescribeBudgets",
            false,
        ),
        (
            "budgets",
            "AWSBudgetServiceGateway.CreateBudget",
            "CreateBudget",
            true,
        ),
    ] {
        let h = headers(&[("authorization", &auth(service)), ("x-amz-target", target)]);
        let c = classify("POST", "/", &h, b"{}");
        assert_eq!(
            (c.service.as_str(), c.operation.as_str(), c.write),
            (service, operation, write)
        );
        assert_eq!(protocol_of(service, "/", &h, b"{}"), Protocol::Json);
    }

    // No Authorization header.
    let c = classify("GET", "/whatever?x=1", &HeaderMap::new(), b"");
    assert_eq!(c.service, "unknown");
    assert_eq!(c.operation, "GET /whatever?x=1");
    assert!(!c.write);
}

/// Sends one request of the given protocol to `base`.
fn request_for(base: &str, protocol: Protocol) -> std::io::Result<RawResponse> {
    match protocol {
        Protocol::Query => sts_get_caller_identity(base),
        Protocol::Json => logs_request(base, "CreateLogGroup", r#"{"logGroupName":"g"}"#),
        Protocol::S3 => send(
            base,
            "PUT",
            "/some-bucket?versioning",
            &[("Authorization", &auth("s3"))],
            "<VersioningConfiguration/>",
        ),
        Protocol::RestJson => send(
            base,
            "GET",
            "/logging/modelinvocations",
            &[("Authorization", &auth("bedrock"))],
            "",
        ),
    }
}

#[test]
fn injected_errors_have_the_protocol_shape() {
    let proxy = Proxy::start(DEAD_UPSTREAM);
    // (protocol, kind, status, body fragment, header to check)
    // (protocol, fault, status, error code, header name and value)
    type Case<'a> = (
        Protocol,
        FaultKind,
        u16,
        &'a str,
        Option<(&'a str, &'a str)>,
    );
    let cases: [Case; 8] = [
        (
            Protocol::Query,
            FaultKind::ServerError,
            500,
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>",
            None,
        ),
        (
            Protocol::Query,
            FaultKind::Throttle,
            400,
            "<Code>Throttling</Code>",
            None,
        ),
        (
            Protocol::Json,
            FaultKind::ServerError,
            500,
            r#"{"__type":"InternalFailure","message":"injected fault"}"#,
            Some(("content-type", "application/x-amz-json-1.1")),
        ),
        (
            Protocol::Json,
            FaultKind::Throttle,
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            Some(("content-type", "application/x-amz-json-1.1")),
        ),
        (
            Protocol::S3,
            FaultKind::ServerError,
            500,
            "<Error><Code>InternalError</Code><Message>injected fault</Message>",
            None,
        ),
        (
            Protocol::S3,
            FaultKind::Throttle,
            503,
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>",
            None,
        ),
        (
            Protocol::RestJson,
            FaultKind::ServerError,
            500,
            r#"{"message":"injected fault"}"#,
            Some(("x-amzn-errortype", "InternalServerException")),
        ),
        (
            Protocol::RestJson,
            FaultKind::Throttle,
            429,
            r#"{"message":"Too many requests"}"#,
            Some(("x-amzn-errortype", "ThrottlingException")),
        ),
    ];
    for (protocol, kind, status, fragment, header) in cases {
        proxy.clear();
        proxy.set_options(ProxyOptions {
            fault_rate: 1.0,
            fault_kinds: vec![kind],
            ..ProxyOptions::default()
        });
        let response = request_for(&proxy.url(), protocol)
            .unwrap_or_else(|e| panic!("{protocol:?} {kind:?}: no response: {e}"));
        assert_eq!(
            response.status, status,
            "{protocol:?} {kind:?}: {response:?}"
        );
        assert!(
            response.body.contains(fragment),
            "{protocol:?} {kind:?}: body {:?} should contain {fragment:?}",
            response.body
        );
        assert!(
            response.header("x-amzn-requestid").is_some(),
            "{protocol:?} {kind:?}: x-amzn-RequestId missing: {:?}",
            response.headers
        );
        if let Some((name, value)) = header {
            assert_eq!(
                response.header(name),
                Some(value),
                "{protocol:?} {kind:?}: header {name}"
            );
        }
        let calls = proxy.calls();
        assert_eq!(calls.len(), 1, "{protocol:?} {kind:?}: {calls:#?}");
        assert_eq!(calls[0].fault, Some(kind));
        assert_eq!(calls[0].status, Some(status));
        assert!(proxy.writes().is_empty(), "faulted calls are not writes");
    }

    // Without faults the dead upstream gives a 502 (so the faults above were
    // answered by the proxy itself).
    proxy.set_options(ProxyOptions::default());
    let response = request_for(&proxy.url(), Protocol::Json).expect("502 from the proxy");
    assert_eq!(response.status, 502, "{response:?}");
}

#[test]
fn drop_fault_closes_the_connection_without_a_response() {
    let proxy = Proxy::start_with(
        DEAD_UPSTREAM,
        ProxyOptions {
            fault_rate: 1.0,
            fault_kinds: vec![FaultKind::Drop],
            ..ProxyOptions::default()
        },
    );
    for protocol in [
        Protocol::Query,
        Protocol::Json,
        Protocol::S3,
        Protocol::RestJson,
    ] {
        match request_for(&proxy.url(), protocol) {
            Err(_) => {}
            Ok(response) => panic!("{protocol:?}: expected a dropped connection, got {response:?}"),
        }
    }
    let calls = proxy.calls();
    assert_eq!(calls.len(), 4, "{calls:#?}");
    for call in &calls {
        assert_eq!(call.fault, Some(FaultKind::Drop), "{call:?}");
        assert_eq!(call.status, None, "{call:?}");
    }
    assert_eq!(
        calls.iter().map(|c| c.service.as_str()).collect::<Vec<_>>(),
        ["sts", "logs", "s3", "bedrock"]
    );
}

fn fault_sequence(proxy: &Proxy, requests: usize) -> Vec<Option<FaultKind>> {
    proxy.clear();
    for _ in 0..requests {
        // Dropped connections are errors; the others get a 502 or a fault.
        let _ = request_for(&proxy.url(), Protocol::Json);
    }
    proxy.calls().into_iter().map(|c| c.fault).collect()
}

#[test]
fn same_seed_gives_the_same_fault_sequence() {
    let options = |seed| ProxyOptions {
        fault_rate: 0.5,
        seed,
        ..ProxyOptions::default()
    };
    let first = Proxy::start_with(DEAD_UPSTREAM, options(7));
    let second = Proxy::start_with(DEAD_UPSTREAM, options(7));
    let other = Proxy::start_with(DEAD_UPSTREAM, options(8));

    let a = fault_sequence(&first, 30);
    let b = fault_sequence(&second, 30);
    let c = fault_sequence(&other, 30);
    assert_eq!(a.len(), 30);
    assert_eq!(a, b, "same seed, same sequence");
    assert_ne!(a, c, "another seed should give another sequence");
    assert!(
        a.iter().any(Option::is_none),
        "rate 0.5 leaves some requests alone: {a:?}"
    );
    for kind in FaultKind::ALL {
        assert!(
            a.contains(&Some(kind)),
            "{kind:?} should occur in 30 requests: {a:?}"
        );
    }

    // set_options re-seeds.
    first.set_options(options(7));
    assert_eq!(
        fault_sequence(&first, 30),
        a,
        "set_options re-seeds the generator"
    );
}

#[test]
fn latency_is_added_to_each_request() {
    let latency = Duration::from_millis(300);
    let proxy = Proxy::start_with(
        DEAD_UPSTREAM,
        ProxyOptions {
            latency,
            ..ProxyOptions::default()
        },
    );
    let began = Instant::now();
    let response = request_for(&proxy.url(), Protocol::Json).expect("answer from the proxy");
    let elapsed = began.elapsed();
    assert_eq!(response.status, 502);
    assert!(
        elapsed >= latency,
        "took {elapsed:?}, latency is {latency:?}"
    );
    let calls = proxy.calls();
    assert_eq!(calls.len(), 1);
    let handled = calls[0].finished - calls[0].started;
    assert!(
        handled >= latency,
        "call took {handled:?}, latency is {latency:?}"
    );

    proxy.set_options(ProxyOptions::default());
    let began = Instant::now();
    request_for(&proxy.url(), Protocol::Json).expect("answer from the proxy");
    assert!(
        began.elapsed() < latency,
        "latency removed by set_options, took {:?}",
        began.elapsed()
    );
}

#[test]
fn dropping_the_proxy_stops_it() {
    let proxy = Proxy::start(DEAD_UPSTREAM);
    let addr = proxy.addr();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok());
    drop(proxy);
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err(),
        "nothing should listen on {addr} after the proxy is dropped"
    );
}
