//! What a limits pass may do, as plain statements: the one list that both the operator's
//! policy (`permissions`) and the runner's execution role (`resources::limits_runner`) are
//! made from, so the two cannot drift apart.

use crate::config::Config;

/// One IAM allow statement: its `Sid`, actions and resource ARNs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: &'static str,
    pub actions: Vec<&'static str>,
    pub resources: Vec<String>,
}

/// Where the pass runs: the names its statements are scoped to.
pub struct Scope<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    /// The stack's bucket (the invocation logs and the limits' state).
    pub bucket: &'a str,
    /// The alert topic's ARN.
    pub topic_arn: &'a str,
}

fn statement(sid: &'static str, actions: &[&'static str], resources: Vec<String>) -> Statement {
    Statement {
        sid,
        actions: actions.to_vec(),
        resources,
    }
}

/// The invocation-log objects and the limits' state object in the stack's bucket, the alert
/// topic, and the denies on the users and roles the limits name, nothing else. Empty without
/// `[[limits]]`. The deny writes (`iam:Put/DeleteUserPolicy`, `iam:Put/DeleteRolePolicy`) are
/// IAM writes: whoever may write a role's inline policy could grant that role anything, so the
/// operator's policy puts them in its bootstrap part.
pub fn statements(config: &Config, at: &Scope) -> Vec<Statement> {
    if config.limits.is_empty() {
        return Vec::new();
    }
    let iam =
        |kind: &str, name: &str| format!("arn:{}:iam::{}:{kind}/{name}", at.partition, at.account);
    let mut users = Vec::new();
    let mut roles = Vec::new();
    for pattern in config.limits.iter().flat_map(|l| &l.principals) {
        let resource = pattern.splitn(6, ':').nth(5).unwrap_or_default();
        if let Some(name) = resource.strip_prefix("user/") {
            // A user's ARN may carry a path: the name is its last part.
            let name = name.rsplit('/').next().unwrap_or(name);
            users.push(iam("user", name));
            users.push(iam("user", &format!("*/{name}")));
        } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
            let role = rest.split('/').next().unwrap_or(rest);
            // A session's ARN drops the role's path.
            roles.push(iam("role", role));
            roles.push(iam("role", &format!("*/{role}")));
        }
    }
    users.sort();
    users.dedup();
    roles.sort();
    roles.dedup();
    let bucket = format!("arn:{}:s3:::{}", at.partition, at.bucket);
    let mut out = vec![
        statement(
            "LimitsReadInvocationLogs",
            &["s3:ListBucket"],
            vec![bucket.clone()],
        ),
        // The log objects Bedrock delivers, and the limits' state.
        statement(
            "LimitsReadObjects",
            &["s3:GetObject"],
            vec![format!("{bucket}/*")],
        ),
        statement(
            "LimitsWriteState",
            &["s3:PutObject"],
            vec![format!(
                "{bucket}/bedrock-monitor/limits/{}/*",
                config.stack.name
            )],
        ),
        statement(
            "LimitsNotify",
            &["sns:Publish"],
            vec![at.topic_arn.to_string()],
        ),
    ];
    if !users.is_empty() {
        out.push(statement(
            "LimitsDenyUsers",
            &[
                "iam:GetUserPolicy",
                "iam:PutUserPolicy",
                "iam:DeleteUserPolicy",
                // The user's long-term Bedrock API keys, turned off while blocked.
                "iam:ListServiceSpecificCredentials",
                "iam:UpdateServiceSpecificCredential",
            ],
            users,
        ));
    }
    if !roles.is_empty() {
        out.push(statement(
            "LimitsDenySessions",
            &[
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:PutRolePolicy",
                "iam:DeleteRolePolicy",
            ],
            roles,
        ));
    }
    out
}

/// Where the digest runs: what its statements are scoped to beyond the pass's [`Scope`].
pub struct DigestScope<'a> {
    pub pass: Scope<'a>,
    pub region: &'a str,
    /// The invocation log group (`[log_group] name`): the per-principal breakdown's query.
    pub log_group: &'a str,
}

/// What the spend digest (`crate::digest`, `[chat] digest`) reads and writes: the same reads
/// as `report --by-principal --source billing` (metrics, the log query, the profiles' names,
/// Cost Explorer), the configured budgets' spend (`DescribeBudget` is authorised as
/// `budgets:ViewBudget`: Service Authorization Reference, AWS Budgets), its own record of the
/// last digest beside the limits' state, and the alert topic. Empty without a digest. Listed
/// here, beside the pass's, because the runner that runs the pass publishes the digest: its
/// role is made from both lists, and so is the operator's policy (`digest --publish`).
pub fn digest_statements(config: &Config, at: &DigestScope) -> Vec<Statement> {
    let Some(_) = config.chat.as_ref().and_then(|c| c.digest_days()) else {
        return Vec::new();
    };
    let (partition, account) = (at.pass.partition, at.pass.account);
    let bucket = format!("arn:{partition}:s3:::{}", at.pass.bucket);
    let group = format!(
        "arn:{partition}:logs:{}:{account}:log-group:{}",
        at.region, at.log_group
    );
    let mut budgets: Vec<String> = config
        .budgets
        .iter()
        .map(|b| format!("arn:{partition}:budgets::{account}:budget/{}", b.name))
        .collect();
    budgets.sort();
    budgets.dedup();
    let mut reads = vec![format!(
        "{bucket}/bedrock-monitor/digest/{}/*",
        config.stack.name
    )];
    if !config.limits.is_empty() {
        reads.push(format!(
            "{bucket}/bedrock-monitor/limits/{}/*",
            config.stack.name
        ));
    }
    let mut out = vec![
        // ListMetrics and GetMetricData take no resource (Service Authorization Reference,
        // Amazon CloudWatch); neither do Cost Explorer's reads nor ListInferenceProfiles.
        statement(
            "DigestReadUsage",
            &[
                "cloudwatch:ListMetrics",
                "cloudwatch:GetMetricData",
                "bedrock:ListInferenceProfiles",
                "ce:GetCostAndUsage",
                "ce:GetCostForecast",
                "logs:GetQueryResults",
                "logs:StopQuery",
            ],
            vec!["*".to_string()],
        ),
        statement(
            "DigestQueryInvocationLogs",
            &["logs:StartQuery"],
            vec![group.clone(), format!("{group}:*")],
        ),
        // Its own record, and (who is blocked) the month's limits state.
        statement("DigestReadRecords", &["s3:GetObject"], reads),
        statement(
            // Put back (or removed) when the publish fails, so the next run sends it.
            "DigestWriteRecord",
            &["s3:PutObject", "s3:DeleteObject"],
            vec![format!(
                "{bucket}/bedrock-monitor/digest/{}/*",
                config.stack.name
            )],
        ),
        statement(
            "DigestPublish",
            &["sns:Publish"],
            vec![at.pass.topic_arn.to_string()],
        ),
    ];
    if !budgets.is_empty() {
        out.push(statement(
            "DigestReadBudgets",
            &["budgets:ViewBudget"],
            budgets,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> DigestScope<'static> {
        DigestScope {
            pass: Scope {
                partition: "aws",
                account: "123456789012",
                bucket: "logs",
                topic_arn: "arn:aws:sns:us-east-1:123456789012:alerts",
            },
            region: "us-east-1",
            log_group: "/aws/bedrock/modelinvocations",
        }
    }

    #[test]
    fn the_digest_gets_its_reads_its_record_and_the_topic_only_when_configured() {
        let none = crate::config::parse(
            "[chat]\nslack = [{ workspace_id = \"T1\", channel_id = \"C1\" }]\n",
            "t.toml",
        )
        .unwrap();
        assert!(digest_statements(&none, &scope()).is_empty());
        let config = crate::config::parse(
            "[chat]\nslack = [{ workspace_id = \"T1\", channel_id = \"C1\" }]\ndigest = \"daily\"\n",
            "t.toml",
        )
        .unwrap();
        let statements = digest_statements(&config, &scope());
        let by_sid = |sid: &str| {
            statements
                .iter()
                .find(|s| s.sid == sid)
                .unwrap_or_else(|| panic!("{sid} in {statements:?}"))
        };
        assert_eq!(
            by_sid("DigestWriteRecord").resources,
            ["arn:aws:s3:::logs/bedrock-monitor/digest/bedrock-monitor/*"]
        );
        assert_eq!(
            by_sid("DigestReadBudgets").resources,
            ["arn:aws:budgets::123456789012:budget/BedrockUsageBudget"]
        );
        assert_eq!(
            by_sid("DigestPublish").resources,
            ["arn:aws:sns:us-east-1:123456789012:alerts"]
        );
        // No limits: the limits' state is not read.
        assert_eq!(by_sid("DigestReadRecords").resources.len(), 1);
    }
}
