//! Validation's common ground: the `Checker` each section's rules report to, and the AWS naming
//! rules and values that more than one section (or a command) checks, kept here rather than in
//! one of the sections that use them. Each section's own rules are beside its types (`stack`,
//! `logging`, `alarms`, …); the KMS keys' regions are checked here because the rule spans three
//! sections.
//! All of it runs before any AWS call, so that a bad config fails fast and names the field.

use super::{Config, PathPart, Violation};

pub(super) struct Checker {
    violations: Vec<Violation>,
}

pub(super) fn path(parts: &[&str]) -> Vec<PathPart> {
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

pub(super) fn tag_chars_ok(s: &str) -> bool {
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

pub(super) fn check_key_regions(config: &Config, region: &str, c: &mut Checker) {
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

pub(super) fn check_kms_key(arn: &str, p: Vec<PathPart>, c: &mut Checker) {
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
