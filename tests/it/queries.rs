//! Saved Logs Insights queries (issue 15, part 2): `bedrock-monitor query` against moto (which
//! runs StartQuery over events the test writes, though it does not evaluate `stats`), its
//! errors and time limit (answers moto cannot give come from a proxy rule), and the `queries`
//! component's definitions in the harness's stand-in (moto has no query definitions).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::env::{LOG_GROUP, TestEnv};
use crate::support::proxy::{AnswerWith, Protocol, Reply, StrictRequest};

const STREAM: &str = "aws/bedrock/modelinvocations";

fn write_records(env: &TestEnv, records: &[Value]) {
    let logs = &env.aws.logs;
    env.block_on(async {
        logs.create_log_group()
            .log_group_name(LOG_GROUP)
            .send()
            .await
            .expect("CreateLogGroup");
        logs.create_log_stream()
            .log_group_name(LOG_GROUP)
            .log_stream_name(STREAM)
            .send()
            .await
            .expect("CreateLogStream");
        let now = chrono::Utc::now().timestamp_millis() - 30 * 60 * 1000;
        let mut put = logs
            .put_log_events()
            .log_group_name(LOG_GROUP)
            .log_stream_name(STREAM);
        for (i, r) in records.iter().enumerate() {
            put = put.log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now + i as i64)
                    .message(r.to_string())
                    .build()
                    .expect("event"),
            );
        }
        put.send().await.expect("PutLogEvents");
    });
}

fn record(request: &str, model: &str, input: u64, output: u64) -> Value {
    json!({
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "accountId": "123456789012",
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/app/session"},
        "region": "us-east-1",
        "requestId": request,
        "operation": "Converse",
        "modelId": model,
        "input": {"inputContentType": "application/json", "inputTokenCount": input},
        "output": {"outputContentType": "application/json", "outputTokenCount": output}
    })
}

#[test]
fn query_lists_and_runs_saved_queries_over_the_invocation_logs() {
    let env = TestEnv::new();
    let list = env.run(&["query", "--list", "-o", "json"]);
    list.assert_code(0);
    let names: Vec<String> = list.json()["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|q| q["name"].as_str().unwrap_or_default().to_string())
        .collect();
    for expected in [
        "tokens-by-model",
        "most-expensive-requests",
        "requests-per-hour",
        "latency-by-model",
        "errors-by-model",
        "usage-by-principal",
        "usage-by-inference-profile",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }

    write_records(
        &env,
        &[
            record("r-1", "anthropic.claude-3-5-haiku-20241022-v1:0", 1200, 300),
            record("r-2", "amazon.nova-lite-v1:0", 800, 100),
        ],
    );
    env.proxy.clear();
    let run = env.run(&["query", "tokens-by-model", "--hours", "2", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["query"], "tokens-by-model");
    assert_eq!(doc["log_group"], LOG_GROUP);
    // moto returns one row per matching record rather than evaluating `stats` (and only the
    // `@ptr` pointer, which is not a result column): both records were queried.
    assert_eq!(doc["rows"].as_array().map(Vec::len), Some(2), "{doc:#}");
    let started: Vec<_> = env
        .proxy
        .calls()
        .into_iter()
        .filter(|c| c.operation == "StartQuery")
        .collect();
    assert_eq!(started.len(), 1);
    // The query text is the saved one: token counts parsed from the raw message.
    let csv = env.run(&["query", "tokens-by-model", "-o", "csv"]);
    csv.assert_code(0);
    let text = env.run(&["query", "tokens-by-model"]);
    text.assert_code(0);
    assert!(text.stdout.contains("rows"), "{}", text.stdout);
}

#[test]
fn query_errors_say_why() {
    let env = TestEnv::new();
    // An unknown name: usage error naming the saved queries, no AWS call.
    let run = env.run(&["query", "nope"]);
    run.assert_code(3);
    assert!(run.stderr.contains("tokens-by-model"), "{}", run.stderr);
    assert!(env.proxy.calls().is_empty());
    // No log group: invocation logging is not set up.
    let run = env.run(&["query", "requests-per-hour"]);
    run.assert_code(1);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);

    write_records(&env, &[record("r-1", "amazon.nova-lite-v1:0", 1, 1)]);
    // A query Logs Insights fails (moto always completes one: the answer is set here).
    env.proxy.add_rule(Arc::new(AnswerWith(|r: &StrictRequest| {
        (r.operation == "GetQueryResults").then(|| {
            let mut reply = Reply::error(Protocol::Json, 200, "", "");
            reply.body = json!({"status": "Failed", "results": []})
                .to_string()
                .into();
            reply
        })
    })));
    let run = env.run(&["query", "requests-per-hour"]);
    run.assert_code(1);
    assert!(run.stderr.contains("status Failed"), "{}", run.stderr);
    env.proxy.clear_rules();
    // One that never finishes: stopped at --timeout, and said so.
    env.proxy.add_rule(Arc::new(AnswerWith(|r: &StrictRequest| {
        (r.operation == "GetQueryResults").then(|| {
            let mut reply = Reply::error(Protocol::Json, 200, "", "");
            reply.body =
                json!({"status": "Running", "results": [], "statistics": {"recordsScanned": 42.0}})
                    .to_string()
                    .into();
            reply
        })
    })));
    let run = env.run(&["query", "requests-per-hour", "--timeout", "2"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("did not finish within 2 s"),
        "{}",
        run.stderr
    );
    assert!(
        env.proxy.calls().iter().any(|c| c.operation == "StopQuery"),
        "the query was not stopped"
    );
}

#[test]
fn the_queries_component_saves_them_in_the_stacks_folder() {
    let env = TestEnv::new();
    // Someone else's saved query, in another folder: never touched.
    let foreign = env.block_on(async {
        bedrock_monitor::aws::emulator_clients(&env.proxy.url(), crate::support::env::REGION)
            .logs
            .put_query_definition()
            .name("team-x/my-query")
            .query_string("fields @message | limit 5")
            .send()
            .await
            .expect("PutQueryDefinition")
            .query_definition_id()
            .unwrap_or_default()
            .to_string()
    });
    env.write_config("[queries]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    let ours = |env: &TestEnv| {
        env.standin
            .query_definitions()
            .into_iter()
            .filter(|d| d.name.starts_with("bedrock-monitor/"))
            .collect::<Vec<_>>()
    };
    let saved = ours(&env);
    assert_eq!(saved.len(), 7, "{saved:#?}");
    for d in &saved {
        assert_eq!(d.log_group_names, vec![LOG_GROUP.to_string()], "{}", d.name);
        if d.name.ends_with("/tokens-by-model") {
            assert!(
                d.query_string.contains("parse @message"),
                "{}",
                d.query_string
            );
        }
    }

    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    env.run(&["status", "--detailed-exitcode"]).assert_code(0);

    // Edited in the console: drift, put back by one write.
    assert!(
        env.standin
            .set_query_string("bedrock-monitor/tokens-by-model", "fields @message")
    );
    let status = env.run(&["status", "--detailed-exitcode", "-o", "json"]);
    status.assert_code(2);
    assert!(
        status
            .stdout
            .contains("definitions.bedrock-monitor/tokens-by-model"),
        "{}",
        status.stdout
    );
    env.proxy.clear();
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(env.writes(), vec!["logs:PutQueryDefinition"]);

    // Switched off: the stack's go, the other folder's stays.
    env.write_config("[queries]\nenabled = false\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert!(ours(&env).is_empty());
    env.write_config("[queries]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_eq!(ours(&env).len(), 7);
    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(ours(&env).is_empty());
    let left: Vec<String> = env
        .standin
        .query_definitions()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left, vec![foreign]);
}

/// `report --by-principal` says, in text and JSON, when Logs Insights' 10,000-row limit cut the
/// list (issue 21): the answer itself does not. moto does not evaluate `stats`, so a proxy rule
/// gives the query's answer: 10,000 rows, as many as the query's `limit`.
#[test]
fn by_principal_says_when_the_row_limit_cut_the_list() {
    let env = TestEnv::new();
    write_records(&env, &[record("r-1", "amazon.nova-lite-v1:0", 10, 5)]);
    let rows: Vec<Value> = (0..10_000)
        .map(|i| {
            json!([
                {"field": "principal", "value": format!("arn:aws:iam::123456789012:user/u{i}")},
                {"field": "model", "value": "amazon.nova-lite-v1:0"},
                {"field": "invocations", "value": "1"},
                {"field": "input_tokens", "value": "10"},
                {"field": "output_tokens", "value": "5"},
                {"field": "counted", "value": "1"},
            ])
        })
        .collect();
    let body = json!({"status": "Complete", "results": rows}).to_string();
    env.proxy
        .add_rule(Arc::new(AnswerWith(move |r: &StrictRequest| {
            (r.operation == "GetQueryResults").then(|| {
                let mut reply = Reply::error(Protocol::Json, 200, "", "");
                reply.body = body.clone().into();
                reply
            })
        })));
    let run = env.run(&["report", "--by-principal", "--hours", "2", "-o", "json"]);
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(
        doc["principals"].as_array().map(Vec::len),
        Some(10_000),
        "{:#}",
        doc["notes"]
    );
    let notes = doc["notes"].to_string();
    assert!(notes.contains("10,000-row limit"), "{notes}");
    let text = env.run(&["report", "--by-principal", "--hours", "2"]);
    text.assert_code(0);
    assert!(
        text.stdout.contains("10,000-row limit"),
        "{}",
        text.stdout
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
