use super::*;

fn problems(text: &str) -> Vec<Problem> {
    match parse(text, "t.toml") {
        Ok(_) => panic!("expected {text:?} to be rejected"),
        Err(ConfigError::Invalid(p)) => p,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn one_problem(text: &str) -> Problem {
    let p = problems(text);
    assert_eq!(p.len(), 1, "expected one problem, got {p:#?}");
    p.into_iter().next().expect("one problem")
}

#[test]
fn example_config_parses_and_equals_defaults() {
    let parsed = parse(EXAMPLE, "config.example.toml").expect("example parses");
    let defaults = Config::default();
    // The example spells out some built-in alarm values; the resulting alarms are the same.
    assert_eq!(parsed.alarm_specs(), defaults.alarm_specs());
    assert_eq!(
        Config {
            alarms: Default::default(),
            ..parsed
        },
        defaults
    );
}

#[test]
fn empty_config_is_all_defaults() {
    let c = parse("", "t.toml").expect("empty parses");
    assert_eq!(c, Config::default());
    assert_eq!(c.budgets.len(), 1);
    assert_eq!(c.alarm_specs().len(), 12);
}

#[test]
fn invalid_toml_names_line_and_column() {
    let p = one_problem("[stack]\nname = \"x\"\nregion = \n");
    assert_eq!(p.line, Some(3));
    assert!(p.column.is_some());
}

#[test]
fn unknown_key_is_rejected_with_its_location() {
    let p = one_problem("[bucket]\nname = \"abc-logs\"\nnmae = \"x\"\n");
    assert_eq!(p.line, Some(3), "{p}");
    assert_eq!(p.column, Some(1), "{p}");
    assert!(p.message.contains("unknown field `nmae`"), "{p}");
    assert_eq!(p.field, "bucket.nmae");
}

#[test]
fn wrong_type_is_rejected() {
    let p = one_problem("[log_group]\nretention_days = \"thirty\"\n");
    assert_eq!(p.line, Some(2));
    assert!(p.message.contains("wrong type"), "{p}");
    assert_eq!(p.field, "log_group.retention_days");
}

#[test]
fn retention_must_be_a_value_cloudwatch_accepts() {
    let p = one_problem("[log_group]\nretention_days = 31\n");
    assert_eq!((p.line, p.column), (Some(2), Some(18)));
    assert_eq!(p.field, "log_group.retention_days");
    assert!(
        p.message.contains("does not accept a retention of 31 days"),
        "{p}"
    );
    assert!(
        p.to_string()
            .starts_with("t.toml:2:18: log_group.retention_days: ")
    );
}

#[test]
fn naming_rules() {
    for (text, field) in [
        ("[bucket]\nname = \"Bad_Bucket\"\n", "bucket.name"),
        ("[bucket]\nname = \"ab\"\n", "bucket.name"),
        ("[bucket]\nname = \"logs-{acount}\"\n", "bucket.name"),
        (
            "[bucket]\nname = \"{account_id}-{account_id}-{account_id}-{account_id}-{account_id}\"\n",
            "bucket.name",
        ),
        ("[iam_role]\nname = \"has space\"\n", "iam_role.name"),
        (
            "[iam_role]\nname = \"a23456789012345678901234567890123456789012345678901234567890123456\"\n",
            "iam_role.name",
        ),
        ("[log_group]\nname = \"bad*name\"\n", "log_group.name"),
        ("[dashboard]\nname = \"my dashboard\"\n", "dashboard.name"),
        ("[alerts]\ntopic_name = \"a.b\"\n", "alerts.topic_name"),
    ] {
        let p = one_problem(text);
        assert_eq!(p.field, field, "{text}");
        assert_eq!(p.line, Some(2), "{text}: {p}");
    }
}

#[test]
fn email_threshold_budget_tag_kms_period() {
    let p = one_problem("[alerts]\nemails = [\"ops@example.com\", \"not-an-email\"]\n");
    assert_eq!(p.field, "alerts.emails[1]");
    assert_eq!((p.line, p.column), (Some(2), Some(30)));

    let p = one_problem("[alarms.high_error_rate]\nthreshold = -1\n");
    assert_eq!(p.field, "alarms.high_error_rate.threshold");
    assert!(p.message.contains("negative"));

    let p = one_problem("[[budgets]]\nname = \"b\"\nlimit_usd = 0\n");
    assert_eq!(p.field, "budgets[0].limit_usd");
    assert_eq!(p.line, Some(3));

    let p = one_problem("[[budgets]]\nname = \"a\"\n[[budgets]]\nname = \"b\"\nlimit_usd = -5\n");
    assert_eq!(p.field, "budgets[1].limit_usd");
    assert_eq!(p.line, Some(5));

    let p = one_problem("[stack.tags]\n\"aws:cost\" = \"x\"\n");
    assert_eq!(p.field, "stack.tags.\"aws:cost\"");
    assert!(p.message.contains("reserved"));

    let p = one_problem("[bucket]\nkms_key_arn = \"alias/my-key\"\n");
    assert_eq!(p.field, "bucket.kms_key_arn");

    let p = one_problem("[alarms.throttles]\nperiod_seconds = 45\n");
    assert_eq!(p.field, "alarms.throttles.period_seconds");
    assert!(p.message.contains("60 or a multiple of 60"), "{p}");
}

/// PutMetricAlarm (AWS API reference, "Period" and "EvaluationPeriods"): 10, 20, 30 or a
/// multiple of 60; period × evaluation periods at most one day under an hour, seven days above.
#[test]
fn alarm_periods_follow_cloudwatch_rules() {
    // Sub-minute periods are high-resolution: rejected with the reason, 20 included.
    for period in [10, 20, 30] {
        let p = one_problem(&format!("[alarms.throttles]\nperiod_seconds = {period}\n"));
        assert_eq!(p.field, "alarms.throttles.period_seconds");
        assert!(p.message.contains("high-resolution"), "{p}");
        assert!(p.message.contains("INSUFFICIENT_DATA"), "{p}");
    }
    // The built-in period (300 s) applies when only evaluation_periods is set.
    let p = one_problem("[alarms.high_latency]\nevaluation_periods = 300\n");
    assert_eq!(p.field, "alarms.high_latency.evaluation_periods");
    assert_eq!(p.line, Some(2));
    assert!(p.message.contains("300 × 300 = 90000"), "{p}");
    assert!(p.message.contains("one day"), "{p}");
    // Exactly one day is allowed; an hour's period may look back seven days, not more.
    parse(
        "[alarms.high_latency]\nevaluation_periods = 288\n\
         [alarms.invocation_spike]\nevaluation_periods = 168\n",
        "t.toml",
    )
    .expect("one day at 5 minutes, seven days at one hour");
    let p = one_problem("[alarms.invocation_spike]\nevaluation_periods = 169\n");
    assert!(p.message.contains("seven days"), "{p}");
    let custom = "[alarms.mine]\nmetric = \"Invocations\"\nstatistic = \"Sum\"\n\
                  comparison = \"GreaterThanThreshold\"\nthreshold = 1\n";
    let p = one_problem(&format!(
        "{custom}period_seconds = 1800\nevaluation_periods = 49\n"
    ));
    assert_eq!(p.field, "alarms.mine.evaluation_periods");
    let p = one_problem(&format!("{custom}evaluation_periods = 0\n"));
    assert_eq!(p.field, "alarms.mine.evaluation_periods");
}

/// AWS Budgets: no FORECASTED notifications on DAILY budgets; at most 10 notifications; names
/// without ':', '\' or "/action/".
#[test]
fn budget_rules_follow_aws_budgets() {
    let p = one_problem(
        "[[budgets]]\nname = \"d\"\ntime_unit = \"DAILY\"\n\
         [[budgets.notifications]]\ntype = \"FORECASTED\"\nthreshold_percent = 100\n",
    );
    assert_eq!(p.field, "budgets[0].notifications[0].type");
    assert!(p.message.contains("DAILY"), "{p}");

    // Without notifications, a daily budget gets two ACTUAL ones.
    let c = parse(
        "[[budgets]]\nname = \"d\"\ntime_unit = \"DAILY\"\n",
        "t.toml",
    )
    .expect("valid");
    let kinds: Vec<(String, f64)> = c.budgets[0]
        .notifications()
        .into_iter()
        .map(|n| (n.kind, n.threshold_percent))
        .collect();
    assert_eq!(kinds, [("ACTUAL".into(), 80.0), ("ACTUAL".into(), 100.0)]);
    assert_eq!(
        Config::default().budgets[0].notifications()[1].kind,
        "FORECASTED"
    );

    let many: String = (1..=11)
        .map(|i| format!("[[budgets.notifications]]\ntype = \"ACTUAL\"\nthreshold_percent = {i}\n"))
        .collect();
    let p = one_problem(&format!("[[budgets]]\nname = \"b\"\n{many}"));
    assert_eq!(p.field, "budgets[0].notifications");
    assert!(p.message.contains("at most 10"), "{p}");

    for name in [r"team/action/x", r"a:b", r"a\\b"] {
        let p = one_problem(&format!("[[budgets]]\nname = \"{name}\"\n"));
        assert_eq!(p.field, "budgets[0].name", "{name}");
    }
}

/// A KMS key must be in the stack's region (CloudWatch Logs and S3 use keys of their region).
#[test]
fn kms_keys_must_be_in_the_stack_region() {
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let p = one_problem(&format!(
        "[stack]\nregion = \"us-east-1\"\n[log_group]\nkms_key_arn = \"{key}\"\n"
    ));
    assert_eq!(p.field, "log_group.kms_key_arn");
    assert_eq!(p.line, Some(4));
    assert!(
        p.message.contains("eu-west-1") && p.message.contains("us-east-1"),
        "{p}"
    );
    // --region overrides stack.region.
    let text = format!("[stack]\nregion = \"us-east-1\"\n[bucket]\nkms_key_arn = \"{key}\"\n");
    assert!(parse_in_region(&text, "t.toml", Some("eu-west-1")).is_ok());
    let p = match parse_in_region(&text, "t.toml", Some("us-west-2")) {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("expected a problem, got {other:?}"),
    };
    assert_eq!(p[0].field, "bucket.kms_key_arn");
    // Without a known region the rule waits for the connection.
    let unregioned = parse(&format!("[bucket]\nkms_key_arn = \"{key}\"\n"), "t.toml")
        .expect("no region to check against yet");
    assert_eq!(
        rules::key_region_problems(&unregioned, "us-east-1").len(),
        1
    );
    assert!(rules::key_region_problems(&unregioned, "eu-west-1").is_empty());
}

#[test]
fn valid_kms_key_and_periods_pass() {
    let c = parse(
        "[bucket]\nkms_key_arn = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n\
         [alarms.throttles]\nperiod_seconds = 60\n[alarms.server_errors]\nperiod_seconds = 120\n",
        "t.toml",
    )
    .expect("valid");
    assert!(c.bucket.kms_key_arn.is_some());
}

#[test]
fn custom_alarm_needs_metric_statistic_comparison_threshold() {
    let p = problems("[alarms.mine]\nmetric = \"OutputTokenCount\"\n");
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(
        p.iter()
            .all(|p| p.field == "alarms.mine" && p.line == Some(1))
    );

    let c = parse(
        "[alarms.mine]\nmetric = \"OutputTokenCount\"\nstatistic = \"Sum\"\ncomparison = \"GreaterThanThreshold\"\nthreshold = 5\nmodel_id = \"m\"\n\
         [alarms.throttles]\nenabled = false\nthreshold = 3\n",
        "t.toml",
    )
    .expect("valid");
    let specs = c.alarm_specs();
    assert_eq!(specs.len(), 13);
    let mine = specs
        .iter()
        .find(|s| s.key == "mine")
        .expect("custom alarm");
    assert_eq!(mine.name, "Bedrock-mine");
    assert_eq!(mine.period_seconds, 300);
    assert_eq!(mine.model_id.as_deref(), Some("m"));
    let t = specs
        .iter()
        .find(|s| s.key == "throttles")
        .expect("builtin");
    assert!(!t.enabled);
    assert_eq!(t.threshold, 3.0);
}

#[test]
fn mantle_alarms_read_their_own_namespace_and_cannot_be_moved_or_given_a_profile() {
    let c = Config::default();
    let mantle: Vec<(String, String)> = c
        .alarm_specs()
        .into_iter()
        .filter(|s| s.endpoint == Endpoint::Mantle)
        .map(|s| (s.name, s.metric))
        .collect();
    assert_eq!(
        mantle,
        [
            ("Bedrock-Mantle-HighInputTokenUsage", "TotalInputTokens"),
            ("Bedrock-Mantle-HighErrorRate", "InferenceClientErrors"),
            ("Bedrock-Mantle-UnusualInferenceSpike", "Inferences"),
        ]
        .map(|(n, m)| (n.to_string(), m.to_string()))
    );

    let custom = parse(
        "[alarms.mine]\nendpoint = \"mantle\"\nmetric = \"TotalOutputTokens\"\nstatistic = \"Sum\"\n\
         comparison = \"GreaterThanThreshold\"\nthreshold = 5\nmodel_id = \"m\"\n",
        "t.toml",
    )
    .expect("valid");
    let mine = custom
        .alarm_specs()
        .into_iter()
        .find(|s| s.key == "mine")
        .expect("custom alarm");
    assert_eq!(mine.endpoint, Endpoint::Mantle);

    let p = one_problem("[alarms.high_input_tokens]\nendpoint = \"mantle\"\n");
    assert_eq!(p.field, "alarms.high_input_tokens.endpoint");
    assert!(
        p.message.contains("mantle_high_input_tokens"),
        "{}",
        p.message
    );

    let p = one_problem("[alarms.mine]\nendpoint = \"openai\"\n");
    assert_eq!(p.field, "alarms.mine.endpoint");

    let profiles = "[[inference_profiles]]\nname = \"team\"\nmodel = \"anthropic.claude-3-5-haiku-20241022-v1:0\"\n";
    let p = one_problem(&format!(
        "{profiles}[alarms.mantle_high_input_tokens]\ninference_profile = \"team\"\n"
    ));
    assert_eq!(p.field, "alarms.mantle_high_input_tokens.inference_profile");
    assert!(p.message.contains("bedrock-runtime"), "{}", p.message);
}

#[test]
fn several_problems_are_all_reported() {
    let p = problems("[log_group]\nretention_days = 2\n[bucket]\nname = \"UPPER\"\n");
    assert_eq!(p.len(), 2);
    let text = ConfigError::Invalid(p).to_string();
    assert!(text.contains("2 problems in the config"), "{text}");
}

#[test]
fn explicit_missing_file_is_an_error_but_default_may_be_absent() {
    let dir = std::env::temp_dir().join(format!("bm-config-test-{}", std::process::id()));
    let missing = dir.join("nope.toml");
    assert!(matches!(
        load(&missing, true, None),
        Err(ConfigError::Read { .. })
    ));
    let loaded = load(&missing, false, None).expect("defaults");
    assert!(matches!(loaded.source, Source::Defaults));
}

#[test]
fn tags_include_the_stack_tag() {
    let c = parse(
        "[stack]\nname = \"team-a\"\n[stack.tags]\nProject = \"x\"\n",
        "t.toml",
    )
    .expect("valid");
    let tags = c.tags();
    assert_eq!(tags.get(STACK_TAG_KEY).map(String::as_str), Some("team-a"));
    assert_eq!(tags.get("Project").map(String::as_str), Some("x"));
}

#[test]
fn cost_allocation_keys_default_to_stack_and_profile_tag_keys() {
    let c = parse(
        "[stack.tags]\nProject = \"p\"\n\n[[inference_profiles]]\nname = \"team-search\"\nmodel = \"anthropic.claude-3-5-haiku-20241022-v1:0\"\ntags = { Team = \"search\" }\n\n[cost_allocation]\n",
        "t.toml",
    )
    .expect("valid");
    assert_eq!(c.cost_allocation_keys(), vec!["Project", "Team"]);
    assert!(c.cost_allocation.as_ref().is_some_and(|a| a.enabled));
}

#[test]
fn limits_runner_interval_and_package() {
    let parsed = parse(
        "[limits_runner]\npackage = \"target/runner/bootstrap\"\n",
        "t.toml",
    )
    .expect("parses");
    let runner = parsed.limits_runner.expect("section");
    assert_eq!(runner.interval_minutes, 5);
    assert_eq!(runner.schedule_expression(), "rate(5 minutes)");
    assert_eq!(runner.package.as_deref(), Some("target/runner/bootstrap"));
    let one = parse("[limits_runner]\ninterval_minutes = 1\n", "t.toml").expect("parses");
    assert_eq!(
        one.limits_runner.expect("section").schedule_expression(),
        "rate(1 minute)"
    );

    for bad in ["0", "1441"] {
        let p = one_problem(&format!("[limits_runner]\ninterval_minutes = {bad}\n"));
        assert_eq!(p.field, "limits_runner.interval_minutes");
        assert_eq!(p.line, Some(2));
        assert!(p.message.contains("from 1 to 1440"), "{p}");
    }
    let p = one_problem("[limits_runner]\npackage = \" \"\n");
    assert_eq!(p.field, "limits_runner.package");
    let p = one_problem("[limits_runner]\ninterval = 5\n");
    assert!(p.message.contains("interval"), "{p}");
    let p = one_problem("[limits_runner]\ninterval_minutes = -5\n");
    assert_eq!(p.field, "limits_runner.interval_minutes");
}

/// The runner's roles carry the region (one account may run it in several), and must fit
/// IAM's 64 characters in the longest region.
#[test]
fn a_stack_name_too_long_for_the_runners_roles_is_refused_with_limits_only() {
    use crate::config::limits_runner::{MAX_STACK_NAME_WITH_LIMITS, scheduler_role_name};
    let limit = "[[limits]]\nname = \"p\"\nprincipals = [\"arn:aws:iam::*:user/a\"]\nperiod = \"day\"\nusd = 1\n";
    let fits = "s".repeat(MAX_STACK_NAME_WITH_LIMITS);
    assert_eq!(scheduler_role_name(&fits, "us-isof-south-1").len(), 64);
    parse(&format!("[stack]\nname = \"{fits}\"\n{limit}"), "t.toml").expect("fits");
    let long = format!("{fits}x");
    let p = one_problem(&format!("[stack]\nname = \"{long}\"\n{limit}"));
    assert_eq!(p.field, "stack.name");
    assert_eq!(p.line, Some(2));
    assert!(p.message.contains("at most 32 characters"), "{p}");
    parse(&format!("[stack]\nname = \"{long}\"\n"), "t.toml").expect("no limits, no rule");
}

/// The runner is deployed for `[[limits]]`, for `[chat] digest`, or both; not for neither.
#[test]
fn the_runner_is_wanted_by_limits_or_a_digest() {
    let limit = "[[limits]]\nname = \"p\"\nprincipals = [\"arn:aws:iam::*:user/a\"]\nperiod = \"day\"\nusd = 1\n";
    let digest = "[chat]\nslack = [{ workspace_id = \"T0123ABCD\", channel_id = \"C0123ABCD\" }]\ndigest = \"weekly\"\n";
    assert!(!parse("", "t.toml").expect("parses").wants_runner());
    assert!(parse(limit, "t.toml").expect("parses").wants_runner());
    assert!(parse(digest, "t.toml").expect("parses").wants_runner());
    let chat_only =
        "[chat]\nslack = [{ workspace_id = \"T0123ABCD\", channel_id = \"C0123ABCD\" }]\n";
    assert!(!parse(chat_only, "t.toml").expect("parses").wants_runner());
}

#[test]
fn cur_export_read_owner_is_an_account_id_and_needs_read() {
    let p = one_problem("[cur_export]\nread = \"s3://b-cur/cur2/x\"\nread_owner = \"2222\"\n");
    assert_eq!(
        (p.field.as_str(), p.line),
        ("cur_export.read_owner", Some(3))
    );
    assert!(p.to_string().contains("12 digits"), "{p}");
    let p = one_problem("[cur_export]\nread_owner = \"222222222222\"\n");
    assert_eq!(p.field, "cur_export.read_owner");
    assert!(p.to_string().contains("read ="), "{p}");
    assert!(
        parse(
            "[cur_export]\nread = \"s3://b-cur/cur2/x\"\nread_owner = \"222222222222\"\n",
            "t.toml"
        )
        .is_ok()
    );
}

#[test]
fn cur_export_read_is_an_s3_uri_of_an_export_with_a_valid_bucket() {
    for bad in [
        "\"https://b/cur2/cid-cur2\"",
        "\"s3://Bad_Bucket/cur2/cid-cur2\"",
        "\"s3://cid-data-123456789012\"",
        "\"s3://cid-data-123456789012/cur2//cid-cur2\"",
        "\"s3://cid-data-123456789012/cur2/cid cur2\"",
        "\"s3://cid-data-123456789012/cur2/cid-cur2/data\"",
    ] {
        let text = format!("[cur_export]\nprefix = \"cur\"\nread = {bad}\n");
        let p = one_problem(&text);
        assert_eq!(p.field, "cur_export.read", "{bad}");
        assert_eq!(p.line, Some(3), "{bad}: {p}");
    }
    let ok = parse(
        "[cur_export]\nread = \"s3://cid-data-123456789012/cur2/123456789012/cid-cur2/\"\n",
        "t.toml",
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
    assert_eq!(
        crate::config::parse_export_uri("s3://cid-data-123456789012/cur2/123456789012/cid-cur2"),
        Ok(crate::config::ExportUri {
            bucket: "cid-data-123456789012".into(),
            prefix: "cur2/123456789012".into(),
            export: "cid-cur2".into(),
            owner: None,
        })
    );
    assert_eq!(
        crate::config::parse_export_uri("s3://b-cur/my-export").map(|u| (u.prefix, u.export)),
        Ok((String::new(), "my-export".into()))
    );
}

#[test]
fn cur_export_athena_catalog_is_an_athena_data_catalog_name() {
    let athena = |catalog: &str| {
        format!(
            "[cur_export]\nathena = {{ {catalog}database = \"cid_data_export\", table = \"cur2\" }}\n"
        )
    };
    let parsed = parse(&athena(""), "t.toml").expect("parses");
    let a = parsed
        .cur_export
        .and_then(|c| c.athena)
        .expect("athena section");
    assert_eq!(
        a.catalog, "AwsDataCatalog",
        "the Glue Data Catalog by default"
    );
    assert!(parse(&athena("catalog = \"cross_account@cid-1\", "), "t.toml").is_ok());
    for bad in ["", "my catalog", "catalog/other", &"c".repeat(128)] {
        let p = one_problem(&athena(&format!("catalog = \"{bad}\", ")));
        assert_eq!(p.field, "cur_export.athena.catalog", "{bad:?}: {p}");
        assert_eq!(p.line, Some(2), "{bad:?}: {p}");
    }
}

#[test]
fn cur_export_athena_location_is_an_s3_uri_with_a_valid_bucket() {
    for bad in ["\"https://b/cur2/\"", "\"s3://Bad_Bucket/cur2/\""] {
        let p = one_problem(&format!(
            "[cur_export]\nathena = {{ database = \"d\", table = \"t\", location = {bad} }}\n"
        ));
        assert_eq!(p.field, "cur_export.athena.location", "{bad}: {p}");
    }
    assert!(
        parse(
            "[cur_export]\nathena = { database = \"d\", table = \"t\", location = \"s3://cid-data-exports/cur2/\" }\n",
            "t.toml"
        )
        .is_ok()
    );
}
