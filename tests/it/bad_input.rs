//! Bad input is a clear error naming file, line, column, field and rule; it exits 3 and makes
//! no AWS call, whatever the command.

use crate::support::env::TestEnv;

/// (config text, expected "line:column: field", words of the rule)
const CASES: &[(&str, &str, &str)] = &[
    (
        "[chat]\nslack = [{ workspace_id = \"C0123ABCD\", channel_id = \"C0123ABCD\" }]\n",
        "2:27: chat.slack[0].workspace_id",
        "not a Slack workspace ID",
    ),
    (
        "[chat]\nslack = [{ workspace_id = \"T0123ABCD\", channel_id = \"#alerts\" }]\n",
        "2:53: chat.slack[0].channel_id",
        "not a Slack channel ID",
    ),
    (
        "[chat]\nteams = [{ team_id = \"ops\", channel_id = \"19%3aa%40thread.tacv2\", tenant_id = \"11111111-2222-3333-4444-555555555555\" }]\n",
        "2:22: chat.teams[0].team_id",
        "not a Microsoft Teams team id",
    ),
    (
        "[chat]\nslack = [{ workspace_id = \"T0123ABCD\", channel_id = \"C0123ABCD\" }]\ndigest = \"hourly\"\n",
        "3:10: chat.digest",
        "not a digest frequency",
    ),
    (
        "[chat]\nslack = [{ workspace_id = \"T0123ABCD\", channel_id = \"C0123ABCD\" }]\ndigest = \"Weekly\"\n",
        "3:10: chat.digest",
        "not a digest frequency: use \"daily\" or \"weekly\"",
    ),
    (
        "[limits_runner]\ninterval_minutes = 0\n",
        "2:20: limits_runner.interval_minutes",
        "from 1 to 1440",
    ),
    ("[stack\nname = \"x\"\n", "1:7", "unclosed table"),
    (
        "[bucket]\nnmae = \"x\"\n",
        "2:1: bucket.nmae",
        "unknown field `nmae`",
    ),
    (
        "[log_group]\nretention_days = 31\n",
        "2:18: log_group.retention_days",
        "does not accept a retention of 31 days",
    ),
    (
        "[log_group]\nretention_days = \"30\"\n",
        "2:18: log_group.retention_days",
        "wrong type",
    ),
    (
        "[bucket]\nname = \"My_Logs\"\n",
        "2:8: bucket.name",
        "not a valid S3 bucket name",
    ),
    (
        "[iam_role]\nname = \"bad role\"\n",
        "2:8: iam_role.name",
        "not a valid IAM role name",
    ),
    (
        "[log_group]\nname = \"logs:bad\"\n",
        "2:8: log_group.name",
        "not a valid log group name",
    ),
    (
        "[dashboard]\nname = \"my dashboard\"\n",
        "2:8: dashboard.name",
        "not a valid dashboard name",
    ),
    (
        "[alerts]\nemails = [\"ops.example.com\"]\n",
        "2:11: alerts.emails[0]",
        "not an email address",
    ),
    (
        "[alarms.high_error_rate]\nthreshold = -5\n",
        "2:13: alarms.high_error_rate.threshold",
        "negative",
    ),
    (
        "[alarms.throttles]\nperiod_seconds = 45\n",
        "2:18: alarms.throttles.period_seconds",
        "60 or a multiple of 60",
    ),
    (
        "[[budgets]]\nname = \"b\"\nlimit_usd = 0\n",
        "3:13: budgets[0].limit_usd",
        "must be more than 0",
    ),
    (
        "[[budgets]]\nname = \"b\"\nlimit_usd = -10\n",
        "3:13: budgets[0].limit_usd",
        "must be more than 0",
    ),
    (
        "[stack.tags]\n\"aws:team\" = \"x\"\n",
        "2:1: stack.tags.\"aws:team\"",
        "reserved prefix",
    ),
    (
        "[bucket]\nkms_key_arn = \"alias/logs\"\n",
        "2:15: bucket.kms_key_arn",
        "not a KMS key ARN",
    ),
    // PutMetricAlarm: period × evaluation periods at most a day under an hour (the built-in
    // period, 300 s, counts when only evaluation_periods is set).
    (
        "[alarms.high_latency]\nevaluation_periods = 300\n",
        "2:22: alarms.high_latency.evaluation_periods",
        "at most one day",
    ),
    (
        "[alarms.throttles]\nperiod_seconds = 20\n",
        "2:18: alarms.throttles.period_seconds",
        "high-resolution",
    ),
    // AWS Budgets: no forecasted alerts on daily budgets; no "/action/" in names.
    (
        "[[budgets]]\nname = \"d\"\ntime_unit = \"DAILY\"\n[[budgets.notifications]]\ntype = \"FORECASTED\"\nthreshold_percent = 100\n",
        "5:8: budgets[0].notifications[0].type",
        "FORECASTED alerts for DAILY budgets",
    ),
    (
        "[[budgets]]\nname = \"team/action/x\"\n",
        "2:8: budgets[0].name",
        "/action/",
    ),
    // A KMS key outside the stack's region (CloudWatch Logs and S3 use keys of their region).
    (
        "[stack]\nregion = \"us-east-1\"\n[log_group]\nkms_key_arn = \"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n",
        "4:15: log_group.kms_key_arn",
        "the key is in eu-west-1",
    ),
];

#[test]
fn every_bad_input_class_is_rejected_before_any_aws_call() {
    let env = TestEnv::new();
    for (text, location, rule) in CASES {
        env.write_config(text);
        for args in [
            &["validate"][..],
            &["plan"],
            &["apply", "--yes"],
            &["status"],
            &["cleanup", "--yes", "--purge-data"],
            &["report"],
            &["permissions"],
            &["digest"],
            &["digest", "--publish"],
        ] {
            let command = args[0];
            let run = env.run(args);
            assert_eq!(run.code, 3, "{command} with {text:?}: {run:?}");
            assert!(
                run.stderr
                    .contains(&format!("bedrock-monitor.toml:{location}")),
                "{command} with {text:?} should point at {location}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains(rule),
                "{command} with {text:?} should name the rule {rule:?}: {}",
                run.stderr
            );
            assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
        }
    }
    assert!(
        env.proxy.calls().is_empty(),
        "bad input must not reach AWS: {:?}",
        env.proxy.calls()
    );
}

#[test]
fn a_missing_explicit_config_and_bad_flags_are_errors() {
    let env = TestEnv::new();
    let run = env.run(&["--config", "nope.toml", "plan"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("nope.toml"), "{}", run.stderr);

    let run = env.run(&["--region", "moon-base", "plan"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("not an AWS region"), "{}", run.stderr);

    let run = env.run(&["plan", "--no-such-flag"]);
    assert_eq!(run.code, 64, "{run:?}");
    assert!(env.proxy.calls().is_empty());
}

/// A runner package that cannot run on Lambda's Amazon Linux 2023 is refused by name and
/// reason, before any AWS call; one that can is described.
#[test]
fn a_runner_package_that_is_not_a_linux_executable_is_refused() {
    let env = TestEnv::new();
    std::fs::write(env.dir.path().join("notes.txt"), "not a program\n").expect("write");
    env.write_config("[limits_runner]\npackage = \"notes.txt\"\n");
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("notes.txt: is not an ELF executable"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("scripts/build-runner"),
        "{}",
        run.stderr
    );

    let source = env.dir.path().join("main.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").expect("write");
    let status = std::process::Command::new("gcc")
        .args(["-static", "-O", "-o"])
        .arg(env.dir.path().join("bootstrap"))
        .arg(&source)
        .status()
        .expect("run gcc");
    assert!(status.success(), "gcc -static failed");
    env.write_config("[limits_runner]\npackage = \"bootstrap\"\ninterval_minutes = 10\n");
    let run = env.run(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("can be the limits runner's package: a static Linux executable for"),
        "{}",
        run.stdout
    );
    let run = env.run(&["validate", "--runner", "notes.txt"]);
    assert_eq!(run.code, 3, "--runner overrides the config: {run:?}");
    // `apply --runner` and `plan --runner` check what they name before any AWS call, with
    // `[[limits]]` (without, there is no runner to deploy).
    env.write_config(
        "[[limits]]\nname = \"p\"\nprincipals = [\"arn:aws:iam::*:user/a\"]\nperiod = \"day\"\nusd = 1\n",
    );
    for command in ["apply", "plan"] {
        let run = env.run(&[command, "--runner", "notes.txt"]);
        assert_eq!(run.code, 3, "{command} --runner: {run:?}");
        assert!(
            run.stderr.contains("notes.txt: is not an ELF executable"),
            "{}",
            run.stderr
        );
    }
    assert!(env.proxy.calls().is_empty(), "{:?}", env.proxy.calls());
}
