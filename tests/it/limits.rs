//! Spend limits per person and team (issue 32): `limits run --once` against moto with
//! invocation-log objects seeded in the stack's bucket, checked in moto's IAM and S3.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{Datelike, Utc};
use serde_json::{Value, json};

use crate::support::env::{ACCOUNT, BUCKET, REGION, TestEnv};
use crate::support::proxy::{AnswerWith, StrictRequest, StrictRule, Verdict};

const POLICY: &str = "bedrock-monitor-limits-bedrock-monitor";

/// Prices set in the config so the figures below can be computed by hand: per 1,000 tokens
/// $1 input, $2 output, $0.10 cache read, $1.25 cache write.
const CONFIG: &str = r#"
[pricing."acme.model-v1"]
input_per_1k = 1.0
output_per_1k = 2.0
cache_read_per_1k = 0.1
cache_write_per_1k = 1.25

[[inference_profiles]]
name = "team-a"
model = "acme.model-v1"

[[limits]]
name = "people"
principals = ["arn:aws:iam::*:user/alice", "arn:aws:iam::*:user/bob", "arn:aws:sts::*:assumed-role/Developers/*"]
exempt = ["arn:aws:iam::*:user/bob"]
period = "month"
usd = 2.0
warn_percent = 50
action = "block"

[[limits]]
name = "team"
inference_profile = "team-a"
period = "day"
usd = 0.5
action = "alert"
"#;

fn user(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

fn session(name: &str) -> String {
    format!("arn:aws:sts::{ACCOUNT}:assumed-role/Developers/{name}")
}

/// One invocation-log record as Bedrock writes it (Bedrock user guide, the example log).
fn record(principal: &str, model: &str, input: u64, output: u64, cache: (u64, u64)) -> String {
    let mut input_obj = json!({"inputContentType": "application/json", "inputBodyJson": {"messages": []}, "inputTokenCount": input});
    if cache.0 > 0 {
        input_obj["cacheReadInputTokenCount"] = json!(cache.0);
    }
    if cache.1 > 0 {
        input_obj["cacheWriteInputTokenCount"] = json!(cache.1);
    }
    json!({
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "accountId": ACCOUNT,
        "identity": {"arn": principal},
        "region": REGION,
        "requestId": format!("r-{principal}-{input}"),
        "operation": "Converse",
        "modelId": model,
        "input": input_obj,
        "output": {"outputContentType": "application/json", "outputBodyJson": {}, "outputTokenCount": output},
    })
    .to_string()
}

fn log_key(name: &str) -> String {
    let now = Utc::now();
    format!(
        "bedrock/AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{REGION}/{:04}/{:02}/{:02}/{}/{name}.json.gz",
        now.year(),
        now.month(),
        now.day(),
        now.format("%H")
    )
}

fn put_log(env: &TestEnv, name: &str, records: &[String]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(records.join("\n").as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    env.block_on(
        env.aws
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(log_key(name))
            .body(ByteStream::from(body))
            .send(),
    )
    .expect("put log object");
}

/// The bucket, the users, the role and the topic, made directly in moto (no bucket policy:
/// moto applies the stack's TLS-only Deny without its condition, see docs/testing.md).
fn setup(env: &TestEnv) -> String {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    env.block_on(async {
        env.aws
            .s3
            .create_bucket()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        for name in ["alice", "bob", "carol"] {
            env.aws
                .iam
                .create_user()
                .user_name(name)
                .send()
                .await
                .unwrap();
        }
        env.aws
            .iam
            .create_role()
            .role_name("Developers")
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap();
        env.aws
            .sns
            .create_topic()
            .name("bedrock-usage-alerts")
            .send()
            .await
            .unwrap();
    });
    // The application profile lives in the stand-in, reached through the proxy.
    let through_proxy = bedrock_monitor::aws::emulator_clients(&env.proxy.url(), REGION);
    env.block_on(
        through_proxy
            .bedrock
            .create_inference_profile()
            .inference_profile_name("team-a")
            .model_source(
                aws_sdk_bedrock::types::InferenceProfileModelSource::CopyFrom(format!(
                    "arn:aws:bedrock:{REGION}::foundation-model/acme.model-v1"
                )),
            )
            .send(),
    )
    .expect("profile")
    .inference_profile_arn()
    .to_string()
}

/// Messages published to SNS through the proxy.
fn record_published(env: &TestEnv) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    env.proxy
        .add_rule_first(Arc::new(AnswerWith(move |r: &StrictRequest| {
            if r.operation == "Publish"
                && let Some(m) = r.form("Message")
            {
                sink.lock().unwrap().push(m);
            }
            None
        })));
    seen
}

fn user_policy(env: &TestEnv, name: &str) -> Option<Value> {
    env.block_on(
        env.aws
            .iam
            .get_user_policy()
            .user_name(name)
            .policy_name(POLICY)
            .send(),
    )
    .ok()
    .map(|o| decode(o.policy_document()))
}

fn role_policy(env: &TestEnv) -> Option<Value> {
    env.block_on(
        env.aws
            .iam
            .get_role_policy()
            .role_name("Developers")
            .policy_name(POLICY)
            .send(),
    )
    .ok()
    .map(|o| decode(o.policy_document()))
}

fn decode(doc: &str) -> Value {
    let text = percent_encoding::percent_decode_str(doc)
        .decode_utf8()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn role_id(env: &TestEnv) -> String {
    env.block_on(env.aws.iam.get_role().role_name("Developers").send())
        .unwrap()
        .role()
        .unwrap()
        .role_id()
        .to_string()
}

fn row<'a>(rows: &'a Value, limit: &str, subject: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["limit"] == limit && r["subject"] == subject)
        .unwrap_or_else(|| panic!("no row {limit} {subject} in {rows:#}"))
}

fn cents(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 100.0).round() as i64
}

fn userids(policy: &Value) -> Value {
    policy["Statement"][0]["Condition"]["StringEquals"]["aws:userid"].clone()
}

#[test]
fn a_pass_counts_each_object_once_blocks_who_went_over_and_unblock_lifts_it() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    let profile_arn = setup(&env);
    let published = record_published(&env);
    let m = "us.acme.model-v1"; // a cross-Region profile ID: priced as the model
    put_log(
        &env,
        "first",
        &[
            record(&user("alice"), m, 1000, 500, (2000, 400)), // 1 + 1 + 0.2 + 0.5 = 2.70
            record(&user("bob"), m, 3000, 0, (0, 0)),          // 3.00, exempt
            record(&session("dana"), m, 500, 800, (0, 0)),     // 0.5 + 1.6 = 2.10
            record(&session("erin"), m, 100, 100, (0, 0)),     // 0.30
            record(&user("carol"), &profile_arn, 200, 100, (0, 0)), // 0.40 through team-a
        ],
    );

    let run = env.run(&["limits", "run", "--once", "--output", "json"]);
    run.assert_code(0);
    let out = run.json();
    assert_eq!(out["objects_read"], 1);
    assert_eq!(out["records_counted"], 5);
    let rows = &out["rows"];
    assert_eq!(
        cents(&row(rows, "people", &user("alice"))["spend_usd"]),
        270
    );
    assert_eq!(row(rows, "people", &user("alice"))["state"], "blocked");
    assert_eq!(
        cents(&row(rows, "people", &session("dana"))["spend_usd"]),
        210
    );
    assert_eq!(row(rows, "people", &session("dana"))["state"], "blocked");
    assert_eq!(
        cents(&row(rows, "people", &session("erin"))["spend_usd"]),
        30
    );
    assert_eq!(row(rows, "people", &session("erin"))["state"], "ok");
    assert_eq!(cents(&row(rows, "team", "profile:team-a")["spend_usd"]), 40);
    assert_eq!(row(rows, "team", "profile:team-a")["state"], "warned");
    assert!(
        !rows.to_string().contains("user/bob"),
        "bob is exempt: {rows:#}"
    );

    // The denies, read back from moto: alice's inline policy; on the role, only dana's session.
    let alice = user_policy(&env, "alice").expect("alice is denied");
    let actions = alice["Statement"][0]["Action"].as_array().unwrap().clone();
    assert!(actions.contains(&json!("bedrock:InvokeModel")));
    assert!(actions.contains(&json!("bedrock-mantle:CreateInference")));
    assert_eq!(alice["Statement"][0]["Effect"], "Deny");
    assert!(
        user_policy(&env, "bob").is_none(),
        "an exempt principal is never blocked"
    );
    assert!(
        user_policy(&env, "carol").is_none(),
        "carol is named by no limit"
    );
    let id = role_id(&env);
    let role = role_policy(&env).expect("the role's policy");
    assert_eq!(userids(&role), json!([format!("{id}:dana")]));
    let messages = published.lock().unwrap().clone();
    assert_eq!(messages.len(), 5, "{messages:#?}"); // alice warned+blocked, dana warned+blocked, team warned
    assert!(
        messages
            .iter()
            .any(|m| m.contains("alice") && m.contains("blocked"))
    );

    // status names who is blocked this period.
    let status = env.run(&["status", "--output", "json"]).json();
    assert_eq!(
        status["blocked"],
        json!([user("alice"), session("dana")]),
        "{:#}",
        status["blocked"]
    );

    // A second pass changes nothing.
    env.proxy.clear();
    let again = env.run(&["limits", "run", "--once", "--output", "json"]);
    again.assert_code(0);
    assert_eq!(again.json()["objects_read"], 0);
    assert_eq!(env.writes(), Vec::<String>::new());
    assert_eq!(
        published.lock().unwrap().len(),
        5,
        "nothing is notified twice"
    );

    // An object delivered after the pass is counted in the next one, and nothing twice.
    put_log(
        &env,
        "second",
        &[record(&session("erin"), m, 2000, 0, (0, 0))],
    );
    let third = env.run(&["limits", "run", "--once", "--output", "json"]);
    third.assert_code(0);
    let out = third.json();
    assert_eq!(out["objects_read"], 1);
    assert_eq!(
        cents(&row(&out["rows"], "people", &session("erin"))["spend_usd"]),
        230
    );
    assert_eq!(
        cents(&row(&out["rows"], "people", &user("alice"))["spend_usd"]),
        270
    );
    assert_eq!(
        userids(&role_policy(&env).unwrap()),
        json!([format!("{id}:dana"), format!("{id}:erin")])
    );

    // `unblock` refuses without a terminal and without --yes, and touches nothing.
    env.proxy.clear();
    let refused = env.run(&["limits", "unblock", &session("dana")]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(env.proxy.calls().is_empty());
    // With --yes it lifts dana's block; the role's policy keeps erin's.
    let lifted = env.run(&[
        "limits",
        "unblock",
        &session("dana"),
        "--yes",
        "--output",
        "json",
    ]);
    lifted.assert_code(0);
    assert_eq!(lifted.json()["released"], json!(["people"]));
    assert_eq!(
        userids(&role_policy(&env).unwrap()),
        json!([format!("{id}:erin")])
    );
    let shown = env.run(&["limits", "--output", "json"]);
    shown.assert_code(0);
    assert_eq!(
        row(&shown.json()["rows"], "people", &session("dana"))["state"],
        "released"
    );
    // A released principal is not blocked again this period.
    env.run(&["limits", "run", "--once"]).assert_code(0);
    assert_eq!(
        userids(&role_policy(&env).unwrap()),
        json!([format!("{id}:erin")])
    );
    let csv = env.run(&["limits", "--output", "csv"]);

    // Every call of these passes, status and unblock is in `permissions` (the deny writes in
    // the bootstrap policy), scoped to the named users and roles.
    crate::first_run::assert_permissions_cover_calls(&env, &[], 20);
    csv.assert_code(0);
    assert!(
        csv.stdout.starts_with("limit,subject,period,spend_usd"),
        "{}",
        csv.stdout
    );
}

#[test]
fn the_period_turning_lifts_the_blocks_of_the_last_one() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    setup(&env);
    // Last month's state: alice blocked then, her deny in place.
    let now = Utc::now();
    let this_month = format!("{:04}-{:02}", now.year(), now.month());
    let last = chrono::NaiveDate::from_ymd_opt(now.year(), now.month(), 1)
        .unwrap()
        .pred_opt()
        .unwrap();
    let last_month = format!("{:04}-{:02}", last.year(), last.month());
    let state = json!({
        "version": 1, "month": last_month, "day": format!("{last_month}-28"),
        "objects": {}, "principals_month": {}, "principals_day": {}, "profiles_month": {},
        "profiles_day": {}, "records_outside_month": 0,
        "standings": {"people": {user("alice"): {"period": last_month, "warned_at": "2020-01-01T00:00:00Z", "blocked_at": "2020-01-01T00:00:00Z"}}},
        "enforced": {"users": ["alice"], "roles": {}},
        "notices": [],
    });
    env.block_on(
        env.aws
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(format!(
                "bedrock-monitor/limits/bedrock-monitor/{last_month}.json"
            ))
            .body(ByteStream::from(state.to_string().into_bytes()))
            .send(),
    )
    .unwrap();
    env.block_on(
        env.aws
            .iam
            .put_user_policy()
            .user_name("alice")
            .policy_name(POLICY)
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:InvokeModel","Resource":"*"}]}"#)
            .send(),
    )
    .unwrap();
    let published = record_published(&env);
    let run = env.run(&["limits", "run", "--once", "--output", "json"]);
    run.assert_code(0);
    assert!(
        user_policy(&env, "alice").is_none(),
        "the old period's deny is lifted"
    );
    assert_eq!(
        run.json()["iam_changes"][0]["operation"],
        "iam:DeleteUserPolicy"
    );
    let messages = published.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("unblocked"), "{messages:?}");
    let this_state = env.block_on(
        env.aws
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(format!(
                "bedrock-monitor/limits/bedrock-monitor/{this_month}.json"
            ))
            .send(),
    );
    assert!(this_state.is_ok(), "this month's state is created");
}

/// A blocked user's long-term Bedrock API keys (IAM service-specific credentials for
/// `bedrock.amazonaws.com`, served by the stand-in) are turned off with the deny; a second pass
/// writes nothing; `unblock` turns on again only the key the tool turned off, not the one the
/// owner had turned off, nor another user's or another service's.
#[test]
fn a_blocked_users_bedrock_api_keys_are_turned_off_and_on_again() {
    use aws_sdk_iam::types::StatusType;
    let env = TestEnv::new();
    env.write_config(CONFIG);
    setup(&env);
    let iam = bedrock_monitor::aws::emulator_clients(&env.proxy.url(), REGION).iam;
    let create = |user: &str, service: &str| {
        env.block_on(
            iam.create_service_specific_credential()
                .user_name(user)
                .service_name(service)
                .send(),
        )
        .expect("create credential")
        .service_specific_credential()
        .expect("credential")
        .service_specific_credential_id()
        .to_string()
    };
    let in_use = create("alice", "bedrock.amazonaws.com");
    let owner_turned_off = create("alice", "bedrock.amazonaws.com");
    let codecommit = create("alice", "codecommit.amazonaws.com");
    let carols = create("carol", "bedrock.amazonaws.com");
    env.block_on(
        iam.update_service_specific_credential()
            .user_name("alice")
            .service_specific_credential_id(&owner_turned_off)
            .status(StatusType::Inactive)
            .send(),
    )
    .expect("turn off");
    let status = |user: &str, id: &str| -> String {
        env.block_on(
            iam.list_service_specific_credentials()
                .user_name(user)
                .send(),
        )
        .expect("list")
        .service_specific_credentials()
        .iter()
        .find(|c| c.service_specific_credential_id() == id)
        .map(|c| c.status().as_str().to_string())
        .unwrap_or_default()
    };

    // $3 against alice's $2 limit.
    put_log(
        &env,
        "over",
        &[record(&user("alice"), "acme.model-v1", 1000, 1000, (0, 0))],
    );
    let first = env.run(&["limits", "run", "--once", "--output", "json"]);
    first.assert_code(0);
    assert!(user_policy(&env, "alice").is_some());
    assert_eq!(status("alice", &in_use), "Inactive");
    assert_eq!(status("alice", &owner_turned_off), "Inactive");
    assert_eq!(status("alice", &codecommit), "Active", "another service's");
    assert_eq!(status("carol", &carols), "Active", "another user's");
    let changes = first.json()["iam_changes"].to_string();
    assert!(
        changes.contains("iam:UpdateServiceSpecificCredential"),
        "{changes}"
    );
    // The delay from the call to its object's delivery, measured from Last-Modified: here the
    // object was put right after the record was made.
    let delay = &first.json()["delivery_delay"];
    assert_eq!(delay["records"], 1, "{delay}");
    assert!(
        delay["max_seconds"].as_u64().is_some_and(|s| s < 60),
        "{delay}"
    );

    env.proxy.clear();
    env.run(&["limits", "run", "--once"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());

    env.run(&["limits", "unblock", &user("alice"), "--yes"])
        .assert_code(0);
    assert!(user_policy(&env, "alice").is_none());
    assert_eq!(status("alice", &in_use), "Active", "the tool's is on again");
    assert_eq!(
        status("alice", &owner_turned_off),
        "Inactive",
        "the owner's stays off"
    );
}

/// `cleanup` lifts every block the passes made (here from `limits run --once`, with no runner
/// deployed), touches nothing else on the blocked user and role, clears the record, and a
/// second cleanup has nothing left to do.
#[test]
fn cleanup_lifts_every_block_the_passes_made() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    setup(&env);
    let own = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}"#;
    env.block_on(async {
        env.aws
            .iam
            .put_user_policy()
            .user_name("alice")
            .policy_name("her-own")
            .policy_document(own)
            .send()
            .await
            .unwrap();
        env.aws
            .iam
            .put_role_policy()
            .role_name("Developers")
            .policy_name("their-own")
            .policy_document(own)
            .send()
            .await
            .unwrap();
    });
    // $3 each against a $2 limit.
    put_log(
        &env,
        "over",
        &[
            record(&user("alice"), "acme.model-v1", 1000, 1000, (0, 0)),
            record(&session("dave"), "acme.model-v1", 1000, 1000, (0, 0)),
        ],
    );
    env.run(&["limits", "run", "--once"]).assert_code(0);
    assert!(user_policy(&env, "alice").is_some());
    assert!(role_policy(&env).is_some());

    let plan = env.run(&["cleanup", "--yes"]);
    plan.assert_code(0);
    assert!(
        plan.stdout.contains("lifted every block the limits made"),
        "{}",
        plan.stdout
    );
    assert!(
        user_policy(&env, "alice").is_none(),
        "alice's deny is lifted"
    );
    assert!(role_policy(&env).is_none(), "dave's session deny is lifted");
    env.block_on(async {
        let mine = env
            .aws
            .iam
            .list_user_policies()
            .user_name("alice")
            .send()
            .await
            .unwrap();
        assert_eq!(mine.policy_names(), ["her-own"]);
        let theirs = env
            .aws
            .iam
            .list_role_policies()
            .role_name("Developers")
            .send()
            .await
            .unwrap();
        assert_eq!(theirs.policy_names(), ["their-own"]);
    });
    let now = Utc::now();
    let key = format!(
        "bedrock-monitor/limits/bedrock-monitor/{:04}-{:02}.json",
        now.year(),
        now.month()
    );
    let state: Value = env.block_on(async {
        let got = env
            .aws
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await
            .unwrap();
        serde_json::from_slice(&got.body.collect().await.unwrap().into_bytes()).unwrap()
    });
    assert_eq!(state["enforced"], json!({"users": [], "roles": {}}));

    env.proxy.clear();
    env.run(&["cleanup", "--yes"]).assert_code(0);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}

/// Holds the first write of the limits state until a second pass has written its own.
struct HoldFirstStateWrite {
    held: AtomicBool,
}

impl StrictRule for HoldFirstStateWrite {
    fn before(&self, r: &StrictRequest) -> Verdict {
        if r.operation == "PutObject"
            && r.path.contains("bedrock-monitor/limits/")
            && !self.held.swap(true, Ordering::SeqCst)
        {
            return Verdict::Hold(Duration::from_secs(6));
        }
        Verdict::Forward
    }
}

/// Two passes race: the first pass's state write is held at the proxy while a second pass
/// counts the same objects and writes first. moto 5.2.1 enforces `If-None-Match: *` and
/// `If-Match` on PutObject (its s3/responses.py answers 412 PreconditionFailed, as the S3 user
/// guide's "conditional writes" says AWS does), but checks and writes without a lock, so the
/// proxy's hold serializes the two writes to make the conflict certain. The held pass gets the
/// 412, reads again and counts nothing twice.
#[test]
fn two_passes_racing_count_each_object_once() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    setup(&env);
    put_log(
        &env,
        "raced",
        &[
            record(&session("dana"), "us.acme.model-v1", 500, 0, (0, 0)), // 0.50
            record(&user("alice"), "us.acme.model-v1", 100, 0, (0, 0)),   // 0.10
        ],
    );
    let rule = Arc::new(HoldFirstStateWrite {
        held: AtomicBool::new(false),
    });
    env.proxy.add_rule_first(rule.clone());
    std::thread::scope(|s| {
        let first = s.spawn(|| env.run(&["limits", "run", "--once", "--output", "json"]));
        while !rule.held.load(Ordering::SeqCst) {
            assert!(
                !first.is_finished(),
                "the first pass ended before writing its state"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let second = env.run(&["limits", "run", "--once", "--output", "json"]);
        second.assert_code(0);
        assert_eq!(second.json()["objects_read"], 1);
        let first = first.join().unwrap();
        first.assert_code(0);
        let out = first.json();
        assert!(out["conflicts"].as_u64().unwrap() >= 1, "{out:#}");
        assert_eq!(
            out["objects_read"], 0,
            "the object was counted by the other pass"
        );
        assert_eq!(
            cents(&row(&out["rows"], "people", &session("dana"))["spend_usd"]),
            50
        );
    });
    let shown = env.run(&["limits", "--output", "json"]);
    assert_eq!(
        cents(&row(&shown.json()["rows"], "people", &user("alice"))["spend_usd"]),
        10
    );
}

#[test]
fn bad_limits_are_refused_before_any_call() {
    let env = TestEnv::new();
    env.write_config(
        r#"
[[limits]]
name = "a"
principals = ["arn:aws:iam::*:role/Developers"]
period = "week"
usd = 0

[[limits]]
name = "a"
principals = ["alice"]
period = "day"
usd = 5
action = "stop"
"#,
    );
    env.proxy.clear();
    let run = env.run(&["limits", "run", "--once"]);
    run.assert_code(3);
    for needle in [
        "limits[0].principals[0]",
        "calls are made by the role's sessions",
        "limits[0].period: \"week\" is not a period",
        "limits[0].usd: 0 is not a limit",
        "limits[1].name: limit \"a\" is defined twice",
        "limits[1].principals[0]: \"alice\" is not an ARN pattern",
        "limits[1].action: \"stop\" is not an action",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
    assert!(env.proxy.calls().is_empty());
}

/// The binary as the runner's Lambda function: started with no arguments and
/// `AWS_LAMBDA_RUNTIME_API` set (a runtime API served on loopback by the test), it takes a
/// schedule's event, runs one pass against moto and answers with its summary; a pass that
/// fails is answered on `/error` and the process goes on taking events.
#[test]
fn the_binary_runs_a_pass_per_scheduled_event_as_a_lambda_function() {
    use crate::support::runtime_api::FakeRuntimeApi;

    let env = TestEnv::new();
    let config = env.write_config(CONFIG);
    setup(&env);
    put_log(
        &env,
        "first",
        &[record(
            &user("alice"),
            "us.acme.model-v1",
            1000,
            500,
            (2000, 400),
        )],
    );
    let fake = env.block_on(FakeRuntimeApi::start());
    let mut cmd = env.command(&[]);
    cmd.env("AWS_LAMBDA_RUNTIME_API", &fake.address)
        .env("BEDROCK_MONITOR_CONFIG", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("start the binary as a Lambda function");
    let event =
        |id: &str| crate::support::runtime_api::scheduled_event("bedrock-monitor-limits", id);

    fake.invoke("req-1", event("e1"));
    let post = env.block_on(fake.next_post());
    assert_eq!(
        post.path, "/2018-06-01/runtime/invocation/req-1/response",
        "{post:?}"
    );
    assert_eq!(post.body["objects_read"], 1, "{:#}", post.body);
    assert_eq!(
        cents(&row(&post.body["rows"], "people", &user("alice"))["spend_usd"]),
        270
    );
    assert!(
        user_policy(&env, "alice").is_some(),
        "alice is denied by the pass"
    );

    // The state object cannot be read: the pass fails, Lambda is told, the process goes on.
    env.proxy.add_rule(Arc::new(AnswerWith(|r: &StrictRequest| {
        (r.service == "s3" && r.method == "GET" && r.path.contains("bedrock-monitor/limits/")).then(
            || {
                crate::support::proxy::Reply::error(
                    crate::support::proxy::Protocol::S3,
                    403,
                    "AccessDenied",
                    "Access Denied",
                )
            },
        )
    })));
    fake.invoke("req-2", event("e2"));
    let post = env.block_on(fake.next_post());
    assert_eq!(
        post.path, "/2018-06-01/runtime/invocation/req-2/error",
        "{post:?}"
    );
    assert_eq!(post.error_type.as_deref(), Some("Limits.PassFailed"));
    env.block_on(fake.wait_for_polls(3));
    assert!(child.try_wait().expect("child").is_none(), "still running");
    child.kill().expect("stop the function");
    let _ = child.wait();
}
