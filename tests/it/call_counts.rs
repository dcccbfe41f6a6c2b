//! Pins the AWS calls of a converged stack (issue 8's regression test; not timed): a no-op
//! apply, a plan and a status issue no write, repeat no read, and stay within the documented
//! read budget (docs/performance.md).

use std::collections::BTreeMap;

use crate::support::env::TestEnv;

/// Reads of a no-op apply or plan of the default stack with one email address: STS 1, role 2,
/// bucket 7, log group 2, logging 1, dashboard 1 (it has no tags to read), topic 3, alarms 1
/// (by prefix: every built-in alarm is named under it) + one tag read per alarm (12: nine on the runtime endpoint's metrics, three on Mantle's), budgets 5
/// (budget, notifications, two subscriber lists, tags).
pub const MAX_CONVERGED_READS: usize = 35;

fn check(env: &TestEnv, args: &[&str], max_reads: usize) {
    env.proxy.clear();
    env.run(args).assert_code(0);
    // moto answers DescribeSubscribersForNotification and budgets' ListTagsForResource with
    // HTTP 500, and the SDK retries each once: those attempts are the emulator's, not reads
    // the tool chose to make, so only calls that got a real answer are counted.
    let calls: Vec<_> = env
        .proxy
        .calls()
        .into_iter()
        .filter(|c| c.status.is_some_and(|s| s < 500))
        .collect();
    let writes: Vec<String> = calls
        .iter()
        .filter(|c| c.write)
        .map(|c| format!("{}:{}", c.service, c.operation))
        .collect();
    assert!(writes.is_empty(), "{args:?} wrote {writes:?}");
    // The same request: operation (JSON protocols name it in a header), path and body.
    let mut seen: BTreeMap<(String, String, u64), usize> = BTreeMap::new();
    for c in &calls {
        *seen
            .entry((c.operation.clone(), c.path.clone(), c.body_digest))
            .or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();

    assert!(repeated.is_empty(), "{args:?} repeated reads: {repeated:?}");
    assert!(
        calls.len() <= max_reads,
        "{args:?} made {} reads, more than the documented {max_reads}: {:#?}",
        calls.len(),
        calls
            .iter()
            .map(|c| format!("{}:{}", c.service, c.operation))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_converged_stack_costs_only_the_documented_reads() {
    let env = TestEnv::new();
    env.write_config("[alerts]\nemails = [\"ops@example.com\"]\n");
    env.run(&["apply", "--yes"]).assert_code(0);
    check(&env, &["apply", "--yes"], MAX_CONVERGED_READS);
    check(&env, &["plan"], MAX_CONVERGED_READS);
    // status also reads the log-delivery metrics and looks for Bedrock's permission-check
    // object in the bucket.
    check(&env, &["status"], MAX_CONVERGED_READS + 2);
}

/// The cost-attribution components' reads of a converged stack, on top of
/// [`MAX_CONVERGED_READS`]: Organizations 1 (is this the payer account?, once for all of
/// them); inference profiles 1 list + 1 tag read per profile; cost-allocation tags 1 list;
/// the CUR export 3 (list, get, tags) + its bucket 7; anomaly detection 7 (cost categories
/// list, describe, tags; monitors, tags; subscriptions, tags); saved queries 1 (the folder's
/// definitions); a budget action 5 (the deny policy and its version, the execution role and
/// its inline policy, the budget's actions).
pub const ATTRIBUTION_READS: usize = 1 + (1 + 1) + 1 + (3 + 7) + 7 + 1 + 5;

#[test]
fn the_cost_attribution_components_add_only_their_documented_reads() {
    let env = TestEnv::new();
    env.write_config(
        r#"[alerts]
emails = ["ops@example.com"]

[stack.tags]
Team = "platform"

[[inference_profiles]]
name = "team-search"
model = "anthropic.claude-3-5-haiku-20241022-v1:0"

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
"#,
    );
    env.standin.tag_keys_seen_in_billing(&["Team"]);
    env.run(&["apply", "--yes"]).assert_code(0);
    check(
        &env,
        &["apply", "--yes"],
        MAX_CONVERGED_READS + ATTRIBUTION_READS,
    );
    check(&env, &["plan"], MAX_CONVERGED_READS + ATTRIBUTION_READS);
    check(
        &env,
        &["status"],
        MAX_CONVERGED_READS + ATTRIBUTION_READS + 2,
    );
}
