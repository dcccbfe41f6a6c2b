//! Validation rules: AWS naming rules and the values each service accepts, checked before any
//! AWS call so that a bad config fails fast and names the field.

use std::collections::BTreeSet;

use super::{
    Config, Endpoint, MAX_BUDGET_NOTIFICATIONS, PathPart, VALID_RETENTION_DAYS, Violation,
    builtin_alarm_is_mantle, builtin_alarm_keys,
};

/// A stand-in account ID for checking a bucket name before the real one is known: every account
/// ID has exactly 12 digits, so the length check stays exact.
const SAMPLE_ACCOUNT_ID: &str = "123456789012";

pub(super) struct Checker {
    violations: Vec<Violation>,
}

fn path(parts: &[&str]) -> Vec<PathPart> {
    parts
        .iter()
        .map(|p| PathPart::Key((*p).to_string()))
        .collect()
}

impl Checker {
    pub(super) fn new() -> Checker {
        Checker {
            violations: Vec::new(),
        }
    }

    pub(super) fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    pub(super) fn push(&mut self, v: Violation) {
        self.violations.push(v);
    }

    pub(super) fn fail(&mut self, path: Vec<PathPart>, message: impl Into<String>) {
        self.violations.push(Violation {
            path,
            message: message.into(),
            at_key: false,
        });
    }

    /// A violation by a key's name rather than its value.
    fn fail_key(&mut self, path: Vec<PathPart>, message: impl Into<String>) {
        self.violations.push(Violation {
            path,
            message: message.into(),
            at_key: true,
        });
    }

    pub(super) fn check(&mut self, ok: bool, path: Vec<PathPart>, message: impl Into<String>) {
        if !ok {
            self.fail(path, message);
        }
    }
}

/// The rules of the core settings (stack, role, bucket, log group, dashboard, alerts, alarms,
/// budgets, pricing); `region` is where the stack is deployed, when known before connecting:
/// rules that tie a value to the region (KMS keys) are checked only then. The other sections'
/// rules (attribution, budget actions, targets) use the [`Checker`] and the predicates here.
pub(super) fn check(config: &Config, region: Option<&str>, c: &mut Checker) {
    if let Some(region) = region {
        check_key_regions(config, region, c);
    }
    check_stack(config, c);
    check_aws(config, c);
    check_role(config, c);
    check_bucket(config, c);
    check_log_group(config, c);
    check_dashboard(config, c);
    check_alerts(config, c);
    check_alarms(config, c);
    check_budgets(config, c);
    check_pricing(config, c);
}

fn check_stack(config: &Config, c: &mut Checker) {
    let name = &config.stack.name;
    c.check(
        !name.is_empty()
            && name.len() <= 128
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)),
        path(&["stack", "name"]),
        format!("{name:?} is not a valid stack name: use 1-128 letters, digits, '-', '_' or '.'"),
    );
    if let Some(region) = &config.stack.region {
        c.check(
            is_region(region),
            path(&["stack", "region"]),
            format!("{region:?} is not an AWS region name (for example \"us-east-1\")"),
        );
    }
    let at = vec![PathPart::Key("stack".into()), PathPart::Key("tags".into())];
    for problem in tag_problems(&config.stack.tags, &at) {
        c.push(problem);
    }
}

/// What is wrong with user tags under `at` (reserved prefixes, the stack marker, lengths and
/// characters AWS's tagging rules allow).
pub(super) fn tag_problems(
    tags: &std::collections::BTreeMap<String, String>,
    at: &[PathPart],
) -> Vec<Violation> {
    let mut c = Checker {
        violations: Vec::new(),
    };
    for (key, value) in tags {
        let mut p = at.to_vec();
        p.push(PathPart::Key(key.clone()));
        if key.to_ascii_lowercase().starts_with("aws:") {
            c.fail_key(
                p.clone(),
                format!("tag key {key:?} uses the reserved prefix \"aws:\"; choose another key"),
            );
        }
        if key == super::STACK_TAG_KEY {
            c.fail_key(
                p.clone(),
                format!("tag key {key:?} is set by the tool from stack.name; remove it"),
            );
        }
        if !(!key.is_empty() && key.chars().count() <= 128 && tag_chars_ok(key)) {
            c.fail_key(
            p.clone(),
            format!("tag key {key:?} must be 1-128 characters of letters, digits, spaces and _ . : / = + - @"),
        );
        }
        c.check(
            value.chars().count() <= 256 && tag_chars_ok(value),
            p,
            format!("tag value {value:?} must be at most 256 characters of letters, digits, spaces and _ . : / = + - @"),
        );
    }
    c.violations
}

fn tag_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|ch| ch.is_alphanumeric() || ch == ' ' || "_.:/=+-@".contains(ch))
}

pub fn is_region(s: &str) -> bool {
    // e.g. us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts
            .first()
            .is_some_and(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

fn check_aws(config: &Config, c: &mut Checker) {
    let a = &config.aws;
    c.check(
        (1..=20).contains(&a.max_attempts),
        path(&["aws", "max_attempts"]),
        format!("{} is out of range: use 1 to 20 attempts", a.max_attempts),
    );
    c.check(
        a.initial_backoff_ms >= 1 && a.initial_backoff_ms <= 60_000,
        path(&["aws", "initial_backoff_ms"]),
        "must be between 1 and 60000 milliseconds",
    );
    c.check(
        a.max_backoff_seconds >= 1 && a.max_backoff_seconds <= 300,
        path(&["aws", "max_backoff_seconds"]),
        "must be between 1 and 300 seconds",
    );
    c.check(
        a.attempt_timeout_seconds >= 1,
        path(&["aws", "attempt_timeout_seconds"]),
        "must be at least 1 second",
    );
    c.check(
        a.operation_timeout_seconds >= a.attempt_timeout_seconds,
        path(&["aws", "operation_timeout_seconds"]),
        "must be at least aws.attempt_timeout_seconds",
    );
}

fn iam_name_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "+=,.@_-".contains(ch))
}

fn check_role(config: &Config, c: &mut Checker) {
    let r = &config.iam_role;
    c.check(
        iam_name_ok(&r.name, 64),
        path(&["iam_role", "name"]),
        format!(
            "{:?} is not a valid IAM role name: use 1-64 letters, digits and + = , . @ _ -",
            r.name
        ),
    );
    c.check(
        iam_name_ok(&r.policy_name, 128),
        path(&["iam_role", "policy_name"]),
        format!(
            "{:?} is not a valid IAM policy name: use 1-128 letters, digits and + = , . @ _ -",
            r.policy_name
        ),
    );
}

/// S3 general-purpose bucket naming rules.
pub fn bucket_name_problem(name: &str) -> Option<&'static str> {
    if name.len() < 3 || name.len() > 63 {
        return Some("must be 3-63 characters long");
    }
    if !name
        .chars()
        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '.' || ch == '-')
    {
        return Some("may contain only lowercase letters, digits, dots and hyphens");
    }
    let first_last_ok =
        |ch: Option<char>| ch.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_last_ok(name.chars().next()) || !first_last_ok(name.chars().last()) {
        return Some("must begin and end with a lowercase letter or digit");
    }
    if name.contains("..") {
        return Some("must not contain two adjacent dots");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("must not be formatted as an IP address");
    }
    if name.starts_with("xn--") || name.starts_with("sthree-") || name.starts_with("amzn-s3-demo-")
    {
        return Some("must not start with the reserved prefixes xn--, sthree- or amzn-s3-demo-");
    }
    if name.ends_with("-s3alias")
        || name.ends_with("--ol-s3")
        || name.ends_with(".mrap")
        || name.ends_with("--x-s3")
    {
        return Some("must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3)");
    }
    None
}

fn check_bucket(config: &Config, c: &mut Checker) {
    let b = &config.bucket;
    let without_placeholders = b.name.replace("{account_id}", "").replace("{region}", "");
    if without_placeholders.contains('{') || without_placeholders.contains('}') {
        c.fail(
            path(&["bucket", "name"]),
            format!(
                "{:?} has an unknown placeholder: only {{account_id}} and {{region}} are replaced",
                b.name
            ),
        );
    } else {
        let region = config.stack.region.as_deref().unwrap_or("us-east-1");
        let resolved = b.resolved_name(SAMPLE_ACCOUNT_ID, region);
        if let Some(rule) = bucket_name_problem(&resolved) {
            c.fail(
                path(&["bucket", "name"]),
                format!("{:?} is not a valid S3 bucket name: it {rule}", b.name),
            );
        }
    }
    let prefix = &b.key_prefix;
    c.check(
        prefix.is_empty()
            || (!prefix.starts_with('/') && prefix.ends_with('/') && prefix.len() <= 512),
        path(&["bucket", "key_prefix"]),
        format!(
            "{prefix:?} must be empty or a path like \"bedrock/\": no leading '/', ending in '/'"
        ),
    );
    c.check(
        !prefix.contains('*') && !prefix.contains('"') && !prefix.contains("//"),
        path(&["bucket", "key_prefix"]),
        format!("{prefix:?} must not contain '*', '\"' or '//'"),
    );
    c.check(
        b.expire_after_days >= 1,
        path(&["bucket", "expire_after_days"]),
        format!(
            "{} days: objects can expire after at least 1 day",
            b.expire_after_days
        ),
    );
    c.check(
        b.noncurrent_expire_after_days >= 1,
        path(&["bucket", "noncurrent_expire_after_days"]),
        format!(
            "{} days: noncurrent versions can expire after at least 1 day",
            b.noncurrent_expire_after_days
        ),
    );
    if let Some(arn) = &b.kms_key_arn {
        check_kms_key(arn, path(&["bucket", "kms_key_arn"]), c);
    }
}

/// The region in a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`).
pub fn kms_key_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| is_region(r))
}

/// CloudWatch Logs and S3 use a KMS key only in their own region: a key elsewhere makes
/// CreateLogGroup / PutBucketEncryption fail (or, for the bucket, Bedrock's deliveries).
/// The key-region rules as `field: message` lines, for a region learned only when connecting
/// (from the profile).
pub fn key_region_problems(config: &Config, region: &str) -> Vec<String> {
    let mut c = Checker {
        violations: Vec::new(),
    };
    check_key_regions(config, region, &mut c);
    c.violations
        .into_iter()
        .map(|v| format!("{}: {}", v.field_name(), v.message))
        .collect()
}

fn check_key_regions(config: &Config, region: &str, c: &mut Checker) {
    let keys = [
        (
            &config.log_group.kms_key_arn,
            "log_group",
            "CloudWatch Logs encrypts a log group only with a key in the log group's region",
        ),
        (
            &config.bucket.kms_key_arn,
            "bucket",
            "S3 encrypts with a KMS key only in the bucket's region",
        ),
        (
            &config.alerts.kms_key_arn,
            "alerts",
            "SNS encrypts a topic with a KMS key of the topic's region (AWS KMS developer guide, \"Multi-Region keys\": a KMS key is used in the Region it is in)",
        ),
    ];
    for (arn, section, rule) in keys {
        let Some(arn) = arn else { continue };
        if let Some(key_region) = kms_key_region(arn)
            && key_region != region
        {
            c.fail(
                path(&[section, "kms_key_arn"]),
                format!(
                    "the key is in {key_region} but the stack deploys to {region}: {rule}; use a key in {region}"
                ),
            );
        }
    }
}

fn check_kms_key(arn: &str, p: Vec<PathPart>, c: &mut Checker) {
    // arn:<partition>:kms:<region>:<account>:key/<key-id>
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && is_region(parts[3])
        && parts[4].len() == 12
        && parts[4].chars().all(|ch| ch.is_ascii_digit())
        && parts[5].strip_prefix("key/").is_some_and(|id| {
            !id.is_empty() && id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        });
    c.check(
        ok,
        p,
        format!("{arn:?} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID); aliases are not accepted"),
    );
}

fn check_log_group(config: &Config, c: &mut Checker) {
    let l = &config.log_group;
    c.check(
        !l.name.is_empty()
            && l.name.len() <= 512
            && l.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "._-/#".contains(ch))
            && !l.name.starts_with("aws/"),
        path(&["log_group", "name"]),
        format!(
            "{:?} is not a valid log group name: use 1-512 letters, digits and . _ - / #, not starting with \"aws/\"",
            l.name
        ),
    );
    c.check(
        VALID_RETENTION_DAYS.contains(&l.retention_days),
        path(&["log_group", "retention_days"]),
        format!(
            "CloudWatch Logs does not accept a retention of {} days; use one of {}",
            l.retention_days,
            VALID_RETENTION_DAYS
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    if let Some(arn) = &l.kms_key_arn {
        check_kms_key(arn, path(&["log_group", "kms_key_arn"]), c);
    }
}

fn dashboard_period_ok(p: i32) -> bool {
    matches!(p, 1 | 5 | 10 | 30) || (p >= 60 && p % 60 == 0)
}

fn check_dashboard(config: &Config, c: &mut Checker) {
    let d = &config.dashboard;
    c.check(
        !d.name.is_empty()
            && d.name.len() <= 255
            && d.name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
        path(&["dashboard", "name"]),
        format!(
            "{:?} is not a valid dashboard name: use 1-255 letters, digits, '-' and '_'",
            d.name
        ),
    );
    c.check(
        dashboard_period_ok(d.period_seconds),
        path(&["dashboard", "period_seconds"]),
        format!(
            "{} seconds is not a CloudWatch period: use 1, 5, 10, 30 or a multiple of 60",
            d.period_seconds
        ),
    );
    let mut seen = BTreeSet::new();
    for (i, model) in d.models.iter().enumerate() {
        let p = vec![
            PathPart::Key("dashboard".into()),
            PathPart::Key("models".into()),
            PathPart::Index(i),
        ];
        c.check(
            !model.trim().is_empty() && !model.contains('"') && !model.contains('\''),
            p.clone(),
            format!("{model:?} is not a model ID"),
        );
        c.check(
            seen.insert(model),
            p,
            format!("model {model:?} is listed twice"),
        );
    }
}

/// A pragmatic email check: what SNS would reject outright, not full RFC 5322.
pub fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && domain.len() <= 255
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !email
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control() || "<>(),;:\"[]\\".contains(ch))
        && domain
            .chars()
            .all(|ch| ch.is_alphanumeric() || ch == '.' || ch == '-')
}

fn check_alerts(config: &Config, c: &mut Checker) {
    let a = &config.alerts;
    c.check(
        !a.topic_name.is_empty()
            && a.topic_name.len() <= 256
            && a.topic_name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
        path(&["alerts", "topic_name"]),
        format!(
            "{:?} is not a valid SNS topic name: use 1-256 letters, digits, '-' and '_'",
            a.topic_name
        ),
    );
    c.check(
        a.display_name.chars().count() <= 100,
        path(&["alerts", "display_name"]),
        "must be at most 100 characters",
    );
    let mut seen = BTreeSet::new();
    for (i, email) in a.emails.iter().enumerate() {
        let p = vec![
            PathPart::Key("alerts".into()),
            PathPart::Key("emails".into()),
            PathPart::Index(i),
        ];
        c.check(
            email_ok(email),
            p.clone(),
            format!("{email:?} is not an email address (like \"ops@example.com\")"),
        );
        c.check(
            seen.insert(email.to_ascii_lowercase()),
            p,
            format!("{email:?} is listed twice"),
        );
    }
    if let Some(arn) = &a.kms_key_arn {
        check_kms_key(arn, path(&["alerts", "kms_key_arn"]), c);
    }
}

const COMPARISONS: &[&str] = &[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

fn statistic_ok(s: &str) -> bool {
    STATISTICS.contains(&s)
        || s.strip_prefix('p')
            .and_then(|n| n.parse::<f64>().ok())
            .is_some_and(|n| n > 0.0 && n < 100.0)
}

/// Why CloudWatch (or Bedrock's metrics) rule out `period` for an alarm, if they do.
/// PutMetricAlarm accepts 10, 20, 30 and multiples of 60; the first three are for
/// high-resolution metrics, and Bedrock publishes one-minute data, so such an alarm would see
/// no datapoint in most periods, lapse into INSUFFICIENT_DATA, and cost more.
pub fn alarm_period_problem(period: i32) -> Option<String> {
    match period {
        10 | 20 | 30 => Some(format!(
            "a {period}-second period is for high-resolution metrics; Bedrock publishes \
             one-minute data, so this alarm would mostly see no data (INSUFFICIENT_DATA) and \
             cost more as a high-resolution alarm: use 60 or a multiple of 60"
        )),
        p if p >= 60 && p % 60 == 0 => None,
        _ => Some(format!(
            "CloudWatch alarms do not accept a period of {period} seconds: use 60 or a multiple of 60"
        )),
    }
}

/// PutMetricAlarm's limit on how far back an alarm looks: period × evaluation periods at most
/// one day when the period is under an hour, at most seven days otherwise.
pub fn evaluation_span_problem(period: i32, evaluation_periods: i32) -> Option<String> {
    let span = i64::from(period) * i64::from(evaluation_periods);
    let (limit, what) = if period < 3600 {
        (86_400, "one day (86400 seconds) for periods under an hour")
    } else {
        (604_800, "seven days (604800 seconds)")
    };
    (span > limit).then(|| {
        format!(
            "period_seconds × evaluation_periods is {period} × {evaluation_periods} = {span} \
             seconds; CloudWatch allows at most {what}"
        )
    })
}

fn check_alarms(config: &Config, c: &mut Checker) {
    let builtin: BTreeSet<&str> = builtin_alarm_keys().collect();
    for (key, a) in &config.alarms {
        let p = |field: &str| {
            vec![
                PathPart::Key("alarms".into()),
                PathPart::Key(key.clone()),
                PathPart::Key(field.into()),
            ]
        };
        if !builtin.contains(key.as_str()) {
            for (field, present) in [
                ("metric", a.metric.is_some()),
                ("statistic", a.statistic.is_some()),
                ("comparison", a.comparison.is_some()),
                ("threshold", a.threshold.is_some()),
            ] {
                if !present {
                    c.fail(
                        vec![PathPart::Key("alarms".into()), PathPart::Key(key.clone())],
                        format!(
                            "`{key}` is not a built-in alarm ({}), so it defines a new alarm and needs `{field}`",
                            builtin.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
        if a.endpoint.is_some() {
            c.check(
                !builtin.contains(key.as_str()),
                p("endpoint"),
                "a built-in alarm's endpoint is fixed (its metric exists only there); the Mantle \
                 endpoint has alarms of its own, mantle_high_input_tokens, \
                 mantle_high_error_rate and mantle_inference_spike",
            );
        }
        if let Some(name) = &a.name {
            c.check(
                !name.is_empty() && name.len() <= 255 && !name.chars().any(|ch| ch.is_control()),
                p("name"),
                format!("{name:?} is not a valid alarm name: use 1-255 printable characters"),
            );
        }
        if let Some(metric) = &a.metric {
            c.check(
                !metric.is_empty()
                    && metric.len() <= 255
                    && metric
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch)),
                p("metric"),
                format!("{metric:?} is not a metric name (for example \"OutputTokenCount\")"),
            );
        }
        if let Some(s) = &a.statistic {
            c.check(
                statistic_ok(s),
                p("statistic"),
                format!(
                    "{s:?} is not a statistic: use one of {} or a percentile like p99",
                    STATISTICS.join(", ")
                ),
            );
        }
        if let Some(cmp) = &a.comparison {
            c.check(
                COMPARISONS.contains(&cmp.as_str()),
                p("comparison"),
                format!(
                    "{cmp:?} is not a comparison: use one of {}",
                    COMPARISONS.join(", ")
                ),
            );
        }
        if let Some(problem) = a.period_seconds.and_then(alarm_period_problem) {
            c.fail(p("period_seconds"), problem);
        }
        if let Some(n) = a.evaluation_periods {
            c.check(
                n >= 1,
                p("evaluation_periods"),
                format!("{n} is out of range: an alarm evaluates at least 1 period"),
            );
        }
        if let Some(t) = a.threshold {
            c.check(
                t.is_finite() && t >= 0.0,
                p("threshold"),
                format!("{t} is negative: Bedrock metrics are counts and durations, so a threshold must be 0 or more"),
            );
        }
        if let Some(m) = &a.model_id {
            c.check(
                !m.trim().is_empty() && m.len() <= 1024,
                p("model_id"),
                "must be a model ID like \"anthropic.claude-3-haiku-20240307-v1:0\"",
            );
        }
        if let Some(name) = &a.inference_profile {
            c.check(
                a.endpoint != Some(Endpoint::Mantle) && !builtin_alarm_is_mantle(key),
                p("inference_profile"),
                "inference profiles are called through bedrock-runtime: a Mantle endpoint \
                 alarm cannot watch one (use model_id to watch one Mantle model)",
            );
            c.check(
                a.model_id.is_none(),
                p("inference_profile"),
                "set model_id or inference_profile, not both: both name the ModelId dimension",
            );
            c.check(
                config.profiles().iter().any(|pr| &pr.name == name),
                p("inference_profile"),
                format!("{name:?} is not the name of an [[inference_profiles]] entry"),
            );
        }
    }
    for spec in config.alarm_specs() {
        if alarm_period_problem(spec.period_seconds).is_some() || spec.evaluation_periods < 1 {
            continue; // already reported above
        }
        if let Some(problem) = evaluation_span_problem(spec.period_seconds, spec.evaluation_periods)
        {
            let set = config.alarms.get(&spec.key);
            let field = if set.is_some_and(|a| a.evaluation_periods.is_some()) {
                "evaluation_periods"
            } else {
                "period_seconds"
            };
            let mut at = vec![
                PathPart::Key("alarms".into()),
                PathPart::Key(spec.key.clone()),
            ];
            if set.is_some_and(|a| a.evaluation_periods.is_some() || a.period_seconds.is_some()) {
                at.push(PathPart::Key(field.into()));
            }
            c.fail(at, problem);
        }
    }
    let mut names = BTreeSet::new();
    for spec in config.alarm_specs() {
        if !names.insert(spec.name.clone()) {
            c.fail(
                vec![
                    PathPart::Key("alarms".into()),
                    PathPart::Key(spec.key.clone()),
                ],
                format!(
                    "alarm name {:?} is used by two alarms; give each a distinct `name`",
                    spec.name
                ),
            );
        }
    }
}

const TIME_UNITS: &[&str] = &["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"];

fn check_budgets(config: &Config, c: &mut Checker) {
    let mut names = BTreeSet::new();
    for (i, b) in config.budgets.iter().enumerate() {
        let p = |field: &str| {
            vec![
                PathPart::Key("budgets".into()),
                PathPart::Index(i),
                PathPart::Key(field.into()),
            ]
        };
        c.check(
            !b.name.is_empty()
                && b.name.len() <= 100
                && !b.name.contains(':')
                && !b.name.contains('\\')
                && !b.name.contains("/action/")
                && !b.name.chars().any(|ch| ch.is_control()),
            p("name"),
            format!(
                "{:?} is not a valid budget name: 1-100 characters without ':', '\\' or \"/action/\" (AWS Budgets' naming rule)",
                b.name
            ),
        );
        c.check(
            names.insert(b.name.clone()),
            p("name"),
            format!("budget name {:?} is used twice", b.name),
        );
        c.check(
            b.limit_usd.is_finite() && b.limit_usd > 0.0,
            p("limit_usd"),
            format!("{} USD: a budget limit must be more than 0", b.limit_usd),
        );
        c.check(
            TIME_UNITS.contains(&b.time_unit.as_str()),
            p("time_unit"),
            format!(
                "{:?} is not a budget period: use one of {}",
                b.time_unit,
                TIME_UNITS.join(", ")
            ),
        );
        if let Some(tf) = &b.tag_filter {
            c.check(
                !tf.key.is_empty()
                    && !tf.key.to_ascii_lowercase().starts_with("aws:")
                    && tag_chars_ok(&tf.key),
                p("tag_filter"),
                format!(
                    "tag key {:?} must be a user cost-allocation tag key (not empty, not \"aws:\")",
                    tf.key
                ),
            );
        }
        let notifications = b.notifications.as_deref().unwrap_or_default();
        if notifications.len() > MAX_BUDGET_NOTIFICATIONS {
            c.fail(
                p("notifications"),
                format!(
                    "{} notifications: AWS Budgets allows at most {MAX_BUDGET_NOTIFICATIONS} per budget",
                    notifications.len()
                ),
            );
        }
        for (j, n) in notifications.iter().enumerate() {
            let np = |field: &str| {
                vec![
                    PathPart::Key("budgets".into()),
                    PathPart::Index(i),
                    PathPart::Key("notifications".into()),
                    PathPart::Index(j),
                    PathPart::Key(field.into()),
                ]
            };
            c.check(
                n.kind == "ACTUAL" || n.kind == "FORECASTED",
                np("type"),
                format!(
                    "{:?} is not a notification type: use ACTUAL or FORECASTED",
                    n.kind
                ),
            );
            c.check(
                !(n.kind == "FORECASTED" && b.time_unit == "DAILY"),
                np("type"),
                "AWS Budgets does not send FORECASTED alerts for DAILY budgets: use ACTUAL, or a \
                 MONTHLY, QUARTERLY or ANNUALLY budget",
            );
            c.check(
                n.threshold_percent.is_finite()
                    && n.threshold_percent > 0.0
                    && n.threshold_percent <= 1000.0,
                np("threshold_percent"),
                format!(
                    "{}: a threshold must be more than 0 and at most 1000 percent",
                    n.threshold_percent
                ),
            );
        }
        let mut kinds = BTreeSet::new();
        for (j, n) in notifications.iter().enumerate() {
            if !kinds.insert((n.kind.clone(), n.threshold_percent.to_bits())) {
                c.fail(
                    vec![
                        PathPart::Key("budgets".into()),
                        PathPart::Index(i),
                        PathPart::Key("notifications".into()),
                        PathPart::Index(j),
                    ],
                    "the same notification type and threshold is listed twice",
                );
            }
        }
    }
}

fn check_pricing(config: &Config, c: &mut Checker) {
    for (key, price) in &config.pricing {
        let p = |field: &str| {
            vec![
                PathPart::Key("pricing".into()),
                PathPart::Key(key.clone()),
                PathPart::Key(field.into()),
            ]
        };
        if key.trim().is_empty() {
            c.fail(
                vec![PathPart::Key("pricing".into())],
                "a pricing key must be a model ID or part of one",
            );
        }
        c.check(
            price.input_per_1k.is_finite() && price.input_per_1k >= 0.0,
            p("input_per_1k"),
            "a price must be 0 or more (USD per 1,000 input tokens)",
        );
        c.check(
            price.output_per_1k.is_finite() && price.output_per_1k >= 0.0,
            p("output_per_1k"),
            "a price must be 0 or more (USD per 1,000 output tokens)",
        );
        for (field, value, what) in [
            (
                "cache_read_per_1k",
                price.cache_read_per_1k,
                "prompt-cache read",
            ),
            (
                "cache_write_per_1k",
                price.cache_write_per_1k,
                "prompt-cache write",
            ),
            (
                "cache_write_1h_per_1k",
                price.cache_write_1h_per_1k,
                "1-hour prompt-cache write",
            ),
        ] {
            c.check(
                value.is_none_or(|v| v.is_finite() && v >= 0.0),
                p(field),
                format!("a price must be 0 or more (USD per 1,000 {what} tokens)"),
            );
        }
    }
}
