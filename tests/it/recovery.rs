//! Failure recovery (issue 5), end to end against moto through the fault-injecting proxy:
//! - a flaky API (20 % of requests answered with a 5xx, a throttling error or a dropped
//!   connection) still converges, with exit 0, to the same end state as a fault-free run,
//!   for twenty seeds;
//! - SIGKILL after each write of a run, then a rerun: the same end state, nothing duplicated
//!   or orphaned;
//! - SIGINT: calls in flight finish, the summary is printed, exit 130, and a rerun converges;
//!   a second SIGINT stops at once;
//! - without a terminal, a failed step (the bucket name taken in another region) fails, blocks
//!   only its dependents, never prompts, and `--on-error retry:N` retries it;
//! - with a terminal (a pseudo-terminal made here with libc), the prompt's Retry, Skip, Show
//!   details and Abort, Ctrl-C at the prompt, and steps that go on (or wait) while it asks.
//!
//! "The same end state" is [`snapshot`]: every role, bucket, log group, topic, alarm,
//! dashboard and budget in moto, normalised.

use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::env::{BUCKET, REGION, TestEnv, resource};
use crate::support::process::{Spawned, sigint, wait_for_writes};
use crate::support::pty::{DOWN, ENTER, PtyChild};
use crate::support::snapshot::{diff, snapshot};
use crate::support::{FaultKind, ProxyOptions};

/// The whole default stack with an email subscription, and SDK retries quick enough for tests
/// (the defaults wait up to 20 s between attempts).
const CONFIG: &str = r#"
[aws]
initial_backoff_ms = 20
max_backoff_seconds = 1

[alerts]
emails = ["ops@example.com", "oncall@example.com"]

[stack.tags]
Project = "genai"

[[inference_profiles]]
name = "team-search"
model = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
tags = { Team = "search" }

[cost_allocation]

[cur_export]

[anomaly_detection]
threshold_usd = 100

[queries]

[[budgets]]
name = "BedrockUsageBudget"
limit_usd = 100

[budgets.action]
threshold_percent = 100
deny_roles = ["app-role"]
"#;

/// What AWS has seen on billed usage before the runs: the keys can be activated.
fn billed_tag_keys(env: &TestEnv) {
    env.standin.tag_keys_seen_in_billing(&["Project", "Team"]);
}

/// What a fault-free `apply` of [`CONFIG`] leaves, computed once per test process in its own
/// fresh environment.
struct Clean {
    snapshot: Value,
    /// Writes the proxy forwarded during that run.
    writes: usize,
}

fn clean() -> &'static Clean {
    static CLEAN: OnceLock<Clean> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let env = TestEnv::new();
        env.write_config(CONFIG);
        billed_tag_keys(&env);
        env.run(&["apply", "--yes"]).assert_code(0);
        let writes = env.proxy.writes().len();
        let snapshot = snapshot(&env);
        // The reference must be the whole stack, or every comparison below proves little.
        assert!(
            snapshot["s3"][BUCKET].is_object()
                && snapshot["iam"]["BedrockCloudWatchLoggingRole"].is_object()
                && snapshot["bedrock_logging"]["cloudwatch"].is_object()
                && snapshot["sns"]["bedrock-usage-alerts"].is_object()
                && snapshot["alarms"]["count"].as_u64().unwrap_or(0) >= 7
                && snapshot["standin"].to_string().contains("team-search")
                && snapshot["standin"]
                    .to_string()
                    .contains("bedrock-monitor-bedrock-cur"),
            "the clean run did not build the stack: {snapshot:#}"
        );
        Clean { snapshot, writes }
    })
}

/// Forget everything in moto and in the proxy: a fresh account, cheaper than a new moto.
fn reset(env: &TestEnv) {
    env.proxy.set_options(ProxyOptions::default());
    env.moto.reset();
    env.standin.reset();
    billed_tag_keys(env);
    env.proxy.clear();
    env.write_config(CONFIG);
}

#[track_caller]
fn assert_clean_state(env: &TestEnv, context: &str) {
    let expected = &clean().snapshot;
    let actual = snapshot(env);
    let d = diff(expected, &actual);
    assert!(
        d.is_empty(),
        "{context}: the end state differs from a clean run's:\n{d}"
    );
}

/// Run `work` for each item on `workers` threads, each with its own environment (reset before
/// every item). Returns the failures (item and panic message), after every item has run.
fn on_workers<T: Send + std::fmt::Debug>(
    items: Vec<T>,
    workers: usize,
    work: impl Fn(&TestEnv, &T) + Sync,
) -> Vec<String> {
    let queue = Mutex::new(items.into_iter().collect::<std::collections::VecDeque<T>>());
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let env = TestEnv::new();
                loop {
                    let Some(item) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front()
                    else {
                        break;
                    };
                    reset(&env);
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| work(&env, &item)));
                    if let Err(panic) = outcome {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "(no message)".into());
                        failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(format!("{item:?}: {message}"));
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap_or_else(|p| p.into_inner())
}

// ----- a flaky API -----

/// Seeds of the flaky runs: at least ten, each a different sequence of faults.
const SEEDS: u64 = 20;

#[test]
fn a_flaky_api_converges_to_a_clean_runs_state_for_every_seed() {
    let reference = clean();
    // (seed, calls, faulted calls, fault kinds) of each run.
    let stats = Mutex::new(Vec::new());
    let failures = on_workers((1..=SEEDS).collect(), 3, |env, &seed| {
        env.proxy.set_options(ProxyOptions {
            latency: Duration::ZERO,
            fault_rate: 0.2,
            seed,
            fault_kinds: FaultKind::ALL.to_vec(),
        });
        let run = env.run(&["apply", "--yes", "-o", "json"]);
        let calls = env.proxy.calls();
        env.proxy.set_options(ProxyOptions::default());
        let faulted: Vec<FaultKind> = calls.iter().filter_map(|c| c.fault).collect();
        stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((seed, calls.len(), faulted.clone()));
        // On failure, say which calls were faulted and how each attempt ended.
        let timeline: Vec<String> = calls
            .iter()
            .map(|c| {
                format!(
                    "{}:{} fault={:?} status={:?} at +{} ms",
                    c.service,
                    c.operation,
                    c.fault,
                    c.status,
                    c.started.duration_since(calls[0].started).as_millis()
                )
            })
            .collect();
        assert_eq!(
            run.code,
            0,
            "seed {seed}: exit code\nstdout:\n{}\nstderr:\n{}\ncalls:\n{}",
            run.stdout,
            run.stderr,
            timeline.join("\n")
        );
        let doc = run.json();
        assert_eq!(doc["interrupted"], false, "{doc:#}");
        assert!(!faulted.is_empty(), "seed {seed}: no call was faulted");
        let actual = snapshot(env);
        let d = diff(&reference.snapshot, &actual);
        assert!(
            d.is_empty(),
            "seed {seed} ({} faults in {} calls): the end state differs from a clean run's:\n{d}\nstderr:\n{}",
            faulted.len(),
            calls.len(),
            run.stderr
        );
    });
    assert!(
        failures.is_empty(),
        "{} of {SEEDS} seeded runs failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The faults really happened, of every kind, at about the rate asked for.
    let stats = stats.into_inner().unwrap_or_else(|p| p.into_inner());
    let calls: usize = stats.iter().map(|s| s.1).sum();
    let faults: Vec<FaultKind> = stats.iter().flat_map(|s| s.2.clone()).collect();
    for kind in FaultKind::ALL {
        assert!(faults.contains(&kind), "no {kind:?} in {stats:?}");
    }
    let rate = faults.len() as f64 / calls as f64;
    assert!(
        (0.12..=0.28).contains(&rate),
        "{} faults in {calls} calls: {rate:.2}",
        faults.len()
    );
}

// ----- SIGKILL and SIGINT -----

const SLOW: Duration = Duration::from_millis(40);

/// The SIGINT cases assert what had not started yet when the signal arrived; on a loaded
/// machine signal delivery can lag by tens of milliseconds, so they leave a wider window.
const SLOWER: Duration = Duration::from_millis(150);

fn slow(env: &TestEnv) {
    slow_by(env, SLOW);
}

fn slow_by(env: &TestEnv, latency: Duration) {
    env.proxy.set_options(ProxyOptions {
        latency,
        fault_rate: 0.0,
        seed: 0,
        fault_kinds: Vec::new(),
    });
}

#[test]
fn sigkill_at_any_point_then_a_rerun_gives_a_clean_runs_state() {
    let total = clean().writes;
    assert!(total >= 10, "a clean run made only {total} writes");
    // After every write but the last two (the run must still be going).
    let points: Vec<usize> = (1..total - 1).collect();
    let failures = on_workers(points, 3, |env, &k| {
        slow(env);
        let mut child = Spawned::start(env.command(&["apply", "--yes"]));
        let reached = wait_for_writes(env, &mut child, k);
        // Somewhere in the 40 ms that write is in flight, different for each point.
        std::thread::sleep(Duration::from_millis((k as u64 * 7) % 40));
        // SIGKILL, by the pid this test spawned.
        let _ = child.child.kill();
        let (status, _, stderr) = child.finish();
        assert!(
            reached,
            "kill at write {k}: the run ended before it ({status}): {stderr}"
        );
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL),
            "kill at write {k}: {status}"
        );
        let written = env.proxy.writes().len();

        env.proxy.set_options(ProxyOptions::default());
        let rerun = env.run(&["apply", "--yes"]);
        rerun.assert_code(0);
        assert_clean_state(env, &format!("killed after {written} of {total} writes"));
    });
    assert!(
        failures.is_empty(),
        "{} kill points failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// What a run killed right after `CreateTopic` leaves (the topic with SNS's default policy),
/// without the timing: a rerun must give a clean run's topic, policy included.
#[test]
fn a_topic_left_by_a_killed_run_converges_like_a_clean_run() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    billed_tag_keys(&env);
    env.block_on(
        env.aws
            .sns
            .create_topic()
            .name("bedrock-usage-alerts")
            .attributes("DisplayName", "Bedrock Usage Alerts")
            .tags(
                aws_sdk_sns::types::Tag::builder()
                    .key("bedrock-monitor:stack")
                    .value("bedrock-monitor")
                    .build()
                    .expect("tag"),
            )
            .tags(
                aws_sdk_sns::types::Tag::builder()
                    .key("Project")
                    .value("genai")
                    .build()
                    .expect("tag"),
            )
            .send(),
    )
    .expect("create the topic");
    env.run(&["apply", "--yes"]).assert_code(0);
    assert_clean_state(&env, "rerun after a run killed right after CreateTopic");
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Interrupt {
    /// One Ctrl-C, the text summary.
    Text,
    /// One Ctrl-C, `-o json`.
    Json,
    /// Ctrl-C twice: the second one stops at once.
    Twice,
}

#[test]
fn sigint_finishes_calls_in_flight_prints_the_summary_and_exits_130() {
    let total = clean().writes;
    // Early (the steps that wait for others have not started), in the middle, and late.
    let points = vec![
        (1, Interrupt::Text),
        (1, Interrupt::Json),
        (total / 2, Interrupt::Json),
        (total * 4 / 5, Interrupt::Text),
        (1, Interrupt::Twice),
    ];
    let failures = on_workers(points, 2, |env, &(k, mode)| {
        slow_by(env, SLOWER);
        let args: &[&str] = if mode == Interrupt::Json {
            &["apply", "--yes", "-o", "json"]
        } else {
            &["apply", "--yes"]
        };
        let mut child = Spawned::start(env.command(args));
        assert!(
            wait_for_writes(env, &mut child, k),
            "interrupt at write {k}: the run ended before it"
        );
        sigint(&child);
        if mode == Interrupt::Twice {
            // Calls take 150 ms at the proxy: the steps are still running.
            std::thread::sleep(Duration::from_millis(20));
            sigint(&child);
        }
        let (status, stdout, stderr) = child.finish();
        let context = format!("{mode:?} SIGINT at write {k}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(status.code(), Some(130), "{status}: {context}");
        assert!(
            stderr.contains("interrupted: finishing the calls in flight"),
            "{context}"
        );
        match mode {
            Interrupt::Twice => {
                assert!(stderr.contains("stopped at once"), "{context}");
            }
            Interrupt::Json => {
                let doc: Value = serde_json::from_str(&stdout)
                    .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {context}"));
                assert_eq!(doc["interrupted"], true, "{context}");
                let actions: Vec<&str> = doc["resources"]
                    .as_array()
                    .map(|r| r.iter().filter_map(|r| r["action"].as_str()).collect())
                    .unwrap_or_default();
                // The steps running at the interrupt finished.
                assert!(actions.contains(&"created"), "{actions:?}: {context}");
                assert!(!actions.contains(&"failed"), "{actions:?}: {context}");
                if k == 1 {
                    // The steps waiting for others never started.
                    for id in ["logging", "alarms"] {
                        let r = resource(&doc, id);
                        assert_eq!(r["action"], "skipped", "{id}: {context}");
                        assert!(
                            r["reason"].as_str().unwrap_or("").contains("interrupted"),
                            "{id}: {context}"
                        );
                    }
                }
            }
            Interrupt::Text => {
                // Every component has its line, then what to do.
                for id in ["role", "bucket", "log-group", "logging", "topic", "alarms"] {
                    summary_line(&stdout, id);
                }
                if k == 1 {
                    assert!(stdout.contains("Apply interrupted"), "{context}");
                    assert!(stdout.contains("not done: logging"), "{context}");
                    assert!(
                        stdout.contains("Run `bedrock-monitor apply` again"),
                        "{context}"
                    );
                }
            }
        }
        if mode != Interrupt::Twice {
            // Calls in flight finished: every request the proxy took got its answer.
            let unanswered: Vec<String> = env
                .proxy
                .calls()
                .into_iter()
                .filter(|c| c.status.is_none())
                .map(|c| format!("{}:{}", c.service, c.operation))
                .collect();
            assert!(
                unanswered.is_empty(),
                "unanswered {unanswered:?}: {context}"
            );
        }

        env.proxy.set_options(ProxyOptions::default());
        env.run(&["apply", "--yes"]).assert_code(0);
        assert_clean_state(env, &format!("rerun after {mode:?} SIGINT at write {k}"));
    });
    assert!(
        failures.is_empty(),
        "{} interrupted runs failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ----- a step that fails for good: the bucket name is taken in another region -----

fn delete_west_bucket(env: &TestEnv) {
    let west = bedrock_monitor::aws::emulator_clients(&env.moto.url(), "us-west-2");
    env.block_on(west.s3.delete_bucket().bucket(BUCKET).send())
        .expect("delete the us-west-2 bucket");
}

fn bucket_region(env: &TestEnv) -> Option<String> {
    snapshot(env)["s3"][BUCKET]["location"]
        .as_str()
        .map(str::to_string)
}

#[test]
fn without_a_terminal_a_failed_step_blocks_only_its_dependents_and_never_prompts() {
    let env = TestEnv::new();
    env.write_config(CONFIG);
    env.bucket_in_us_west_2();

    let run = env.run(&["apply", "--yes", "-o", "json"]);
    run.assert_code(1);
    assert!(!run.stderr.contains("What now?"), "{}", run.stderr);
    let doc = run.json();
    let bucket = resource(&doc, "bucket");
    assert_eq!(bucket["action"], "failed", "{doc:#}");
    assert!(
        bucket["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("us-west-2"),
        "{bucket:#}"
    );
    assert_eq!(bucket["attempts"], 1, "{bucket:#}");
    let logging = resource(&doc, "logging");
    assert_eq!(logging["action"], "blocked", "{doc:#}");
    assert_eq!(logging["blocked_by"], serde_json::json!(["bucket"]));
    for id in ["role", "log-group", "dashboard", "topic", "alarms"] {
        assert_eq!(resource(&doc, id)["action"], "created", "{id}: {doc:#}");
    }

    // moto agrees: everything independent of the bucket exists, logging is off, and the
    // bucket is still the other region's.
    let state = snapshot(&env);
    let clean = &clean().snapshot;
    for part in ["iam", "logs", "dashboards", "sns", "alarms", "budgets"] {
        let d = diff(&clean[part], &state[part]);
        assert!(d.is_empty(), "{part} differs from a clean run's:\n{d}");
    }
    assert!(
        state["bedrock_logging"].is_null(),
        "{:#}",
        state["bedrock_logging"]
    );
    assert_eq!(bucket_region(&env).as_deref(), Some("us-west-2"));

    // The text summary names the failed step with its error, and the blocked one.
    let run = env.run(&["apply", "--yes"]);
    run.assert_code(1);
    assert!(!run.stderr.contains("What now?"), "{}", run.stderr);
    assert!(
        summary_line(&run.stdout, "bucket").ends_with("failed"),
        "{}",
        run.stdout
    );
    assert!(
        summary_line(&run.stdout, "logging").ends_with("blocked"),
        "{}",
        run.stdout
    );
    for text in [
        "error: s3:ListBucket failed (BucketInAnotherRegion): bucket bedrock-logs-123456789012 exists in us-west-2",
        "choose another `bucket.name`",
        "not attempted because bucket did not succeed",
        "not done: bucket, logging",
    ] {
        assert!(run.stdout.contains(text), "{text:?} in:\n{}", run.stdout);
    }

    // --on-error retry:2: the step is tried twice more (reading the bucket again each time),
    // then fails; still exit 1.
    env.proxy.clear();
    let run = env.run(&["apply", "--yes", "-o", "json", "--on-error", "retry:2"]);
    run.assert_code(1);
    assert!(!run.stderr.contains("What now?"), "{}", run.stderr);
    let doc = run.json();
    let bucket = resource(&doc, "bucket");
    assert_eq!(bucket["action"], "failed", "{doc:#}");
    assert_eq!(bucket["attempts"], 3, "{bucket:#}");
    assert_eq!(resource(&doc, "logging")["action"], "blocked", "{doc:#}");
    let heads = env
        .proxy
        .calls()
        .iter()
        .filter(|c| c.operation == "HeadBucket" && c.path.starts_with(&format!("/{BUCKET}")))
        .count();
    assert!(
        heads >= 3,
        "HeadBucket {heads} times: plan, then once per retry"
    );
    assert!(
        run.stderr.contains("retrying (attempt 3)"),
        "{}",
        run.stderr
    );
}

// ----- the interactive prompt, through a pseudo-terminal -----

const PROMPT: &str = "What now?";

/// A terminal session on a stack whose bucket name is taken in us-west-2, stopped at the
/// prompt about the bucket.
fn at_the_prompt(env: &TestEnv) -> (PtyChild, usize) {
    env.write_config(CONFIG);
    billed_tag_keys(env);
    env.bucket_in_us_west_2();
    let mut pty = PtyChild::spawn(env.command(&["apply", "--yes"]));
    let at = pty.expect_after(0, PROMPT);
    // The choices are drawn after the question: wait for the last one (on a loaded machine
    // the terminal's reader can see the question before them).
    pty.expect_after(at, "Abort");
    let screen = pty.screen();
    // What failed, why, and what to do, before the question.
    for text in [
        "bucket",
        "BucketInAnotherRegion",
        "us-west-2",
        "choose another `bucket.name`",
        "Retry this step",
        "Skip this step and continue (also skips logging)",
        "Show details",
        "Abort",
    ] {
        assert!(screen.contains(text), "{text:?} not shown:\n{screen}");
    }
    (pty, at)
}

#[test]
fn prompt_show_details_then_retry_after_the_cause_is_removed_completes() {
    let env = TestEnv::new();
    let (mut pty, at) = at_the_prompt(&env);

    // Show details: the error chain, then the same question again.
    pty.keys(&[DOWN, DOWN, ENTER]);
    let chosen = pty.expect_after(at, "· Show details");
    let asked_again = pty.expect_after(chosen, PROMPT);
    let screen = pty.screen();
    let details = without_escapes(
        screen
            .get(chosen..asked_again - PROMPT.len())
            .unwrap_or_default(),
    );
    let details = details.trim().trim_end_matches('?').trim();
    assert!(
        !details.is_empty(),
        "Show details showed nothing before asking again:\n{screen}"
    );

    // The cause goes away; Retry is the default answer.
    delete_west_bucket(&env);
    pty.keys(&[ENTER]);
    let (status, stdout, screen) = pty.finish();
    assert_eq!(
        status.code(),
        Some(0),
        "{status}\nstdout:\n{stdout}\nterminal:\n{screen}"
    );
    assert!(stdout.contains("Apply complete"), "{stdout}");
    assert!(
        !screen.contains("(attempt 2)"),
        "asked again after the retry succeeded:\n{screen}"
    );
    assert_eq!(bucket_region(&env).as_deref(), Some(REGION));
    assert_clean_state(&env, "retry from the prompt");
}

/// Terminal output without its escape sequences (cursor moves, line clears).
fn without_escapes(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters final-byte (0x40..=0x7e).
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\x40'..='\x7e').contains(&c) {
                    break;
                }
            }
        }
    }
    out
}

/// The summary line of component `id` in the text summary.
fn summary_line<'a>(stdout: &'a str, id: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no summary line for {id}:\n{stdout}"))
}

fn topic_exists(env: &TestEnv) -> bool {
    env.block_on(env.aws.sns.list_topics().send())
        .map(|t| !t.topics().is_empty())
        .unwrap_or(false)
}

fn alarm_count(env: &TestEnv) -> usize {
    env.block_on(env.aws.cloudwatch.describe_alarms().send())
        .map(|a| a.metric_alarms().len())
        .unwrap_or(0)
}

#[test]
fn prompt_skip_marks_the_dependents_skipped_and_exits_1() {
    let env = TestEnv::new();
    // Slow calls: the topic is still being created when the bucket's question comes up.
    slow(&env);
    let (mut pty, _) = at_the_prompt(&env);

    // While the question waits, the steps already running finish (the topic)...
    let deadline = Instant::now() + Duration::from_secs(20);
    while !topic_exists(&env) {
        assert!(
            Instant::now() < deadline,
            "the topic step did not go on while the prompt waited:\n{}",
            pty.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // ...and the steps waiting for them (the alarms wait for the topic) do not start.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        alarm_count(&env),
        0,
        "alarms started while the prompt waited"
    );
    assert!(
        !env.writes().iter().any(|w| w.ends_with(":PutMetricAlarm")),
        "{:?}",
        env.writes()
    );

    pty.keys(&[DOWN, ENTER]);
    let (status, stdout, screen) = pty.finish();
    assert_eq!(
        status.code(),
        Some(1),
        "{status}\nstdout:\n{stdout}\nterminal:\n{screen}"
    );
    assert!(
        summary_line(&stdout, "bucket").ends_with("skipped"),
        "{stdout}"
    );
    assert!(
        summary_line(&stdout, "logging").ends_with("skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped because bucket was skipped"),
        "{stdout}"
    );
    for id in ["role", "log-group", "dashboard", "topic", "alarms"] {
        assert!(
            summary_line(&stdout, id).ends_with("created"),
            "{id}: {stdout}"
        );
    }
    assert!(stdout.contains("not done: bucket, logging"), "{stdout}");
    assert_eq!(bucket_region(&env).as_deref(), Some("us-west-2"));
    assert_eq!(alarm_count(&env), 12);
}

#[test]
fn prompt_abort_stops_with_the_summary_and_a_non_zero_exit() {
    let env = TestEnv::new();
    let (mut pty, _) = at_the_prompt(&env);
    pty.keys(&[DOWN, DOWN, DOWN, ENTER]);
    let (status, stdout, screen) = pty.finish();
    assert_eq!(
        status.code(),
        Some(1),
        "{status}\nstdout:\n{stdout}\nterminal:\n{screen}"
    );
    assert!(
        summary_line(&stdout, "bucket").ends_with("failed"),
        "{stdout}"
    );
    assert!(stdout.contains("Apply incomplete"), "{stdout}");
    assert!(
        stdout.contains("Run `bedrock-monitor apply` again"),
        "{stdout}"
    );
    // Logging waits for the bucket: it never started.
    let logging = summary_line(&stdout, "logging");
    assert!(!logging.ends_with("created"), "{stdout}");
    let state = snapshot(&env);
    assert!(
        state["bedrock_logging"].is_null(),
        "{:#}",
        state["bedrock_logging"]
    );
}

#[test]
fn prompt_ctrl_c_is_abort() {
    let env = TestEnv::new();
    let (mut pty, _) = at_the_prompt(&env);
    pty.keys(&["\x03"]);
    let (status, stdout, screen) = pty.finish();
    let context = format!("{status}\nstdout:\n{stdout}\nterminal:\n{screen}");
    assert!(
        matches!(status.code(), Some(1 | 130)),
        "Ctrl-C at the prompt: {context}"
    );
    assert!(
        summary_line(&stdout, "bucket").ends_with("failed"),
        "{context}"
    );
    assert!(
        !summary_line(&stdout, "logging").ends_with("created"),
        "{context}"
    );
    assert!(
        stdout.contains("Run `bedrock-monitor apply` again"),
        "{context}"
    );
}
