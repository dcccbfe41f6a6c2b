//! The Lambda custom-runtime loop (`bedrock_monitor::runner::lambda`) against a runtime API served on
//! loopback (`support::runtime_api`): scheduled events answered on `/response`, failing and
//! panicking invocations reported on `/error` with the documented body and header while the
//! loop goes on polling, a failed initialisation on `/runtime/init/error`.
//!
//! The loop runs in-process with a test handler: the handler is a parameter, and the binary
//! gets its own (the limits pass) where the engine lives.

use std::time::Duration;

use bedrock_monitor::runner::lambda::{
    FunctionError, Invocation, RuntimeApi, RuntimeError, SCHEDULE_INPUT, ScheduledEvent, run,
};
use serde_json::{Value, json};

use crate::support::runtime_api::FakeRuntimeApi;

/// The runner schedule's input as EventBridge Scheduler fills it in.
fn scheduled_event(execution_id: &str, time: &str) -> Value {
    let filled = SCHEDULE_INPUT
        .replace(
            "<aws.scheduler.schedule-arn>",
            "arn:aws:scheduler:us-east-1:123456789012:schedule/default/bedrock-monitor-limits",
        )
        .replace("<aws.scheduler.scheduled-time>", time)
        .replace("<aws.scheduler.execution-id>", execution_id)
        .replace("<aws.scheduler.attempt-number>", "1");
    serde_json::from_str(&filled).expect("the schedule input is JSON once filled in")
}

/// Answers with what it read from the event; fails or panics when the execution ID says so.
async fn test_handler(invocation: Invocation) -> Result<Value, FunctionError> {
    let event = ScheduledEvent::parse(&invocation.event)?;
    match event.execution_id.as_str() {
        "fail" => Err(FunctionError::message(
            "Test.PassFailed",
            "the pass could not read the state object",
        )),
        "panic" => panic!("the handler panicked"),
        _ => Ok(json!({
            "request_id": invocation.request_id,
            "scheduled_time": event.scheduled_time.to_rfc3339(),
            "function_arn": invocation.function_arn,
            "has_deadline": invocation.deadline_ms.is_some(),
        })),
    }
}

#[tokio::test]
async fn lambda_runtime_answers_scheduled_events_and_survives_failing_ones() {
    let fake = FakeRuntimeApi::start().await;
    let api = RuntimeApi::new(&fake.address).expect("address");
    let runtime =
        tokio::spawn(
            async move { run(&api, async { Ok::<_, FunctionError>(test_handler) }).await },
        );

    fake.invoke(
        "req-1",
        scheduled_event("d32c5kddcf5bb8c3", "2026-12-07T09:00:00Z"),
    );
    let post = fake.next_post().await;
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-1/response");
    assert_eq!(post.error_type, None);
    assert_eq!(
        post.body,
        json!({
            "request_id": "req-1",
            "scheduled_time": "2026-12-07T09:00:00+00:00",
            "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:bedrock-monitor-limits",
            "has_deadline": true,
        })
    );

    fake.invoke("req-2", scheduled_event("fail", "2026-12-07T09:05:00Z"));
    let post = fake.next_post().await;
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-2/error");
    assert_eq!(post.error_type.as_deref(), Some("Test.PassFailed"));
    assert_eq!(
        post.body,
        json!({
            "errorType": "Test.PassFailed",
            "errorMessage": "the pass could not read the state object",
            "stackTrace": [],
        })
    );

    fake.invoke("req-3", scheduled_event("panic", "2026-12-07T09:10:00Z"));
    let post = fake.next_post().await;
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-3/error");
    assert_eq!(post.error_type.as_deref(), Some("Runtime.HandlerPanicked"));
    assert!(
        post.body["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("panicked")),
        "{}",
        post.body
    );

    // An event that is not the schedule's input is the handler's to refuse, not a crash.
    fake.invoke(
        "req-4",
        json!({"detail-type": "Scheduled Event", "source": "aws.events"}),
    );
    let post = fake.next_post().await;
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-4/error");
    assert_eq!(post.error_type.as_deref(), Some("Event.Invalid"));

    // Still polling after all of that: the next scheduled event is answered as the first was.
    fake.invoke("req-5", scheduled_event("e5", "2026-12-07T09:15:00Z"));
    let post = fake.next_post().await;
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-5/response");
    assert_eq!(post.body["scheduled_time"], "2026-12-07T09:15:00+00:00");
    fake.wait_for_polls(6).await;
    assert!(
        !runtime.is_finished(),
        "the loop stopped: {:?}",
        runtime.await
    );
    runtime.abort();
}

#[tokio::test]
async fn lambda_runtime_reports_a_failed_initialisation_and_stops() {
    let fake = FakeRuntimeApi::start().await;
    let api = RuntimeApi::new(&fake.address).expect("address");
    let init = async {
        Err::<fn(Invocation) -> std::future::Ready<Result<Value, FunctionError>>, _>(
            FunctionError::message(
                "Runtime.ConfigInvalid",
                "bedrock-monitor.toml:3:1: limits.usd: must be more than 0",
            ),
        )
    };
    let outcome = tokio::time::timeout(Duration::from_secs(30), run(&api, init))
        .await
        .expect("run returns after a failed initialisation");
    assert!(
        matches!(&outcome, Err(RuntimeError::InitFailed(e)) if e.error_type == "Runtime.ConfigInvalid"),
        "{outcome:?}"
    );
    let post = fake.next_post().await;
    assert_eq!(post.path, "/2018-06-01/runtime/init/error");
    assert_eq!(post.error_type.as_deref(), Some("Runtime.ConfigInvalid"));
    assert_eq!(
        post.body["errorMessage"],
        "bedrock-monitor.toml:3:1: limits.usd: must be more than 0"
    );
    assert_eq!(
        fake.polls(),
        0,
        "no invocation is asked for after init failed"
    );
}

#[tokio::test]
async fn lambda_runtime_stops_when_the_api_is_gone() {
    // A port nothing listens on: the loop ends with an error naming the URL, it does not spin.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    drop(listener);
    let api = RuntimeApi::new(&address).expect("address");
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        run(&api, async { Ok::<_, FunctionError>(test_handler) }),
    )
    .await
    .expect("run returns when the runtime API is unreachable");
    let error = outcome.expect_err("no runtime API");
    assert!(
        matches!(error, RuntimeError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("/2018-06-01/runtime/invocation/next"),
        "{error}"
    );
}
