//! `[[limits]]`: spend limits per person (IAM users, role sessions) or per team (an application
//! inference profile), per UTC day or month, enforced by `limits run --once` (`crate::limits`).
//! The ARN patterns and the rule that each can match a caller's ARN live here, so that a
//! pattern that could never match is refused before any AWS call.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::rules::Checker;
use super::{Config, PathPart};

/// `warn_percent` when not given: warn at four fifths of the limit.
pub const DEFAULT_WARN_PERCENT: f64 = 80.0;

/// The periods a limit can have; both are UTC calendar periods.
pub const PERIODS: &[&str] = &["day", "month"];

/// What crossing a limit does.
pub const ACTIONS: &[&str] = &["alert", "block"];

/// One `[[limits]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitConfig {
    pub name: String,
    /// ARN patterns (`*` matches any run of characters) of the callers each held to the limit
    /// on their own: IAM users (`arn:aws:iam::*:user/alice`) and role sessions
    /// (`arn:aws:sts::*:assumed-role/Developers/*`, each session name its own person).
    #[serde(default)]
    pub principals: Vec<String>,
    /// A team-wide limit instead: the spend through this configured application inference
    /// profile (its `[[inference_profiles]]` name), whoever called it.
    #[serde(default)]
    pub inference_profile: Option<String>,
    /// `day` or `month`, UTC.
    pub period: String,
    pub usd: f64,
    #[serde(default = "default_warn_percent")]
    pub warn_percent: f64,
    /// `alert` (warn and report) or `block` (also deny Bedrock inference until the period turns).
    #[serde(default = "default_action")]
    pub action: String,
    /// Patterns of principals never held to this limit.
    #[serde(default)]
    pub exempt: Vec<String>,
}

fn default_warn_percent() -> f64 {
    DEFAULT_WARN_PERCENT
}

fn default_action() -> String {
    "alert".into()
}

impl LimitConfig {
    pub fn blocks(&self) -> bool {
        self.action == "block"
    }

    /// Whether this limit holds `arn` (one of its patterns matches and no exemption does).
    pub fn holds(&self, arn: &str) -> bool {
        self.principals.iter().any(|p| pattern_matches(p, arn))
            && !self.exempt.iter().any(|p| pattern_matches(p, arn))
    }
}

/// Whether `pattern` matches `text`, where `*` matches any run of characters (`/` and `:`
/// included, as in IAM's ARN patterns) and every other character itself, case-sensitively.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last `*`: linear in practice.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Why `pattern` can never match the ARN a caller shows in Bedrock's invocation logs
/// (`identity.arn`), if it cannot. Callers are IAM users (`arn:PARTITION:iam::ACCOUNT:user/
/// [PATH/]NAME`, which is also how a long-term Bedrock API key shows: it belongs to an IAM
/// user) and role sessions (`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`); IAM user
/// guide, "IAM identifiers", the ARN formats of users and assumed-role sessions.
pub fn pattern_problem(pattern: &str) -> Option<String> {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return Some(
            "is not an ARN pattern: use arn:aws:iam::ACCOUNT:user/NAME or \
             arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION (`*` for any part)"
                .into(),
        );
    };
    let partition_ok =
        partition.contains('*') || ["aws", "aws-cn", "aws-us-gov"].contains(&partition);
    let account_ok = account.contains('*')
        || (account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()));
    if arn != "arn" || !partition_ok {
        return Some("must start with arn:aws: (or arn:aws-cn:, arn:aws-us-gov:)".into());
    }
    if !region.is_empty() && region != "*" {
        return Some(format!(
            "names region {region:?}, but IAM and STS ARNs have none: leave it empty (arn:aws:iam::…)"
        ));
    }
    if !account_ok {
        return Some(format!(
            "account {account:?} is not a 12-digit account ID or a pattern with `*`"
        ));
    }
    match service {
        "iam" if resource.starts_with("user/") && resource.len() > "user/".len() => None,
        "iam" if resource.starts_with("role/") => Some(
            "names a role, but calls are made by the role's sessions: use \
             arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION (SESSION `*` for each session)"
                .into(),
        ),
        "sts" => {
            let Some(rest) = resource.strip_prefix("assumed-role/") else {
                return Some(
                    "an STS caller is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION".into(),
                );
            };
            match rest.split_once('/') {
                Some((role, session)) if !role.is_empty() && !session.is_empty() => (role
                    .contains('/'))
                .then(|| {
                    "a role session ARN is assumed-role/ROLE/SESSION: the role's name has no '/'"
                        .into()
                }),
                _ => Some(
                    "a role session ARN is assumed-role/ROLE/SESSION: name the role and the \
                     session (`*` for every session)"
                        .into(),
                ),
            }
        }
        _ => Some(
            "matches neither an IAM user (arn:aws:iam::ACCOUNT:user/NAME) nor a role session \
             (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION), the callers Bedrock logs"
                .into(),
        ),
    }
}

fn at(i: usize, field: &str) -> Vec<PathPart> {
    vec![
        PathPart::Key("limits".into()),
        PathPart::Index(i),
        PathPart::Key(field.into()),
    ]
}

fn at_item(i: usize, field: &str, j: usize) -> Vec<PathPart> {
    let mut p = at(i, field);
    p.push(PathPart::Index(j));
    p
}

pub(super) fn check(config: &Config, c: &mut Checker) {
    let mut names = BTreeSet::new();
    let profiles: BTreeSet<&str> = config
        .inference_profiles
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for (i, l) in config.limits.iter().enumerate() {
        c.check(
            !l.name.is_empty()
                && l.name.len() <= 64
                && l.name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch)),
            at(i, "name"),
            format!(
                "{:?} is not a limit name: use 1-64 letters, digits, '-', '_' or '.'",
                l.name
            ),
        );
        c.check(
            names.insert(l.name.as_str()),
            at(i, "name"),
            format!(
                "limit {:?} is defined twice: limit names are unique",
                l.name
            ),
        );
        c.check(
            PERIODS.contains(&l.period.as_str()),
            at(i, "period"),
            format!(
                "{:?} is not a period: use \"day\" or \"month\" (UTC)",
                l.period
            ),
        );
        c.check(
            l.usd.is_finite() && l.usd > 0.0,
            at(i, "usd"),
            format!("{} is not a limit: give US dollars above 0", l.usd),
        );
        c.check(
            l.warn_percent.is_finite() && (1.0..=100.0).contains(&l.warn_percent),
            at(i, "warn_percent"),
            format!(
                "{} is not a share of the limit: use a percentage from 1 to 100",
                l.warn_percent
            ),
        );
        c.check(
            ACTIONS.contains(&l.action.as_str()),
            at(i, "action"),
            format!(
                "{:?} is not an action: use \"alert\" or \"block\"",
                l.action
            ),
        );
        match (&l.inference_profile, l.principals.is_empty()) {
            (None, true) => c.fail(
                at(i, "principals"),
                "name who the limit holds: `principals` (ARN patterns) or `inference_profile` \
                 (a team-wide limit)",
            ),
            (Some(_), false) => c.fail(
                at(i, "inference_profile"),
                "give either `principals` or `inference_profile`, not both: make two limits",
            ),
            (Some(profile), true) => {
                c.check(
                    profiles.contains(profile.as_str()),
                    at(i, "inference_profile"),
                    format!(
                        "{profile:?} is not an [[inference_profiles]] name of this config; \
                         configured: {}",
                        if profiles.is_empty() {
                            "none".to_string()
                        } else {
                            profiles.iter().copied().collect::<Vec<_>>().join(", ")
                        }
                    ),
                );
                // Blocking a team would deny principals the config does not name.
                c.check(
                    !l.blocks(),
                    at(i, "action"),
                    "a team-wide limit can only alert: blocking would deny every caller of the \
                     profile, principals this config does not name; list them in `principals` \
                     to block each one",
                );
            }
            (None, false) => {}
        }
        for (j, p) in l.principals.iter().enumerate() {
            if let Some(why) = pattern_problem(p) {
                c.fail(at_item(i, "principals", j), format!("{p:?} {why}"));
            }
        }
        for (j, p) in l.exempt.iter().enumerate() {
            if let Some(why) = pattern_problem(p) {
                c.fail(at_item(i, "exempt", j), format!("{p:?} {why}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_match_any_run_including_separators() {
        let p = "arn:aws:sts::*:assumed-role/Developers/*";
        assert!(pattern_matches(
            p,
            "arn:aws:sts::123456789012:assumed-role/Developers/alice"
        ));
        assert!(!pattern_matches(
            p,
            "arn:aws:sts::123456789012:assumed-role/Admins/alice"
        ));
        assert!(pattern_matches("a*c*e", "abcde"));
        assert!(!pattern_matches("a*c*e", "abcdf"));
        assert!(pattern_matches("*", ""));
        assert!(!pattern_matches(
            "arn:aws:iam::*:user/bob",
            "arn:aws:iam::1:user/bobby"
        ));
    }

    #[test]
    fn patterns_that_cannot_match_a_caller_are_refused() {
        assert!(pattern_problem("arn:aws:iam::*:user/alice").is_none());
        assert!(pattern_problem("arn:aws:iam::123456789012:user/team/*").is_none());
        assert!(pattern_problem("arn:aws:sts::*:assumed-role/Developers/*").is_none());
        assert!(pattern_problem("alice").is_some());
        assert!(pattern_problem("arn:aws:iam::*:role/Developers").is_some());
        assert!(pattern_problem("arn:aws:s3:::bucket").is_some());
        assert!(pattern_problem("arn:aws:iam:us-east-1:*:user/a").is_some());
        assert!(pattern_problem("arn:aws:sts::*:assumed-role/Developers").is_some());
        assert!(pattern_problem("arn:aws:iam::12:user/a").is_some());
    }
}
