//! Command-line types (clap). No behaviour here: `commands/` acts on these.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str =
    "Set up, check, report on and tear down Amazon Bedrock usage monitoring from one TOML file";

const LONG_ABOUT: &str = "\
Set up, check, report on and tear down Amazon Bedrock usage monitoring from one TOML file.

bedrock-monitor provisions an IAM role for Bedrock logging, an S3 log bucket, a CloudWatch log
group, Bedrock model invocation logging, a CloudWatch dashboard, an SNS alert topic with email
subscriptions, CloudWatch alarms and AWS Budgets, and keeps them in line with the config.

Quick start (examples of every command are at the end of this help):
  bedrock-monitor init --email ops@example.com
  bedrock-monitor plan
  bedrock-monitor apply";

const EXAMPLES: &str = "\
Examples:
  bedrock-monitor init --email ops@example.com   write bedrock-monitor.toml
  bedrock-monitor validate                        check the config, no AWS call
  bedrock-monitor plan                            show what apply would change
  bedrock-monitor apply                           converge the account (asks first)
  bedrock-monitor status                          drift and health of every component
  bedrock-monitor report --hours 24               usage and estimated cost
  bedrock-monitor cleanup                         remove what this stack created

Credentials and region come from the usual AWS chain (environment, profile, SSO, instance role).";

#[derive(Debug, Parser)]
#[command(
    name = "bedrock-monitor",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ValidateArgs {
    /// Also check that FILE can be the limits runner's Lambda package: a Linux executable for
    /// x86_64 or arm64 that runs on Amazon Linux 2023 (static, or glibc 2.34 at most). Without
    /// FILE: this binary
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub runner: Option<Option<PathBuf>>,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Config file [default: bedrock-monitor.toml, built-in defaults if absent]
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "BEDROCK_MONITOR_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// AWS region (overrides `stack.region`; default: AWS_REGION). With [targets], repeat it
    /// to run in some of the configured regions only
    #[arg(long = "region", global = true, value_name = "REGION", action = clap::ArgAction::Append)]
    pub regions: Vec<String>,

    /// With [targets]: run in this account only (repeatable)
    #[arg(long = "account", global = true, value_name = "ACCOUNT_ID", action = clap::ArgAction::Append)]
    pub accounts: Vec<String>,

    /// AWS profile from ~/.aws/config
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Send every AWS call to this endpoint (an emulator such as moto)
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Result format on stdout (csv and html: `report` only)
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Never prompt (also when CI is set or stdin is not a terminal)
    #[arg(long, global = true)]
    pub non_interactive: bool,

    /// More detail on stderr: -v shows each AWS call, -vv the SDK's own logs
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// No progress or notes on stderr, only errors
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Colour on stderr
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Attempts per AWS call for throttling and transient errors (overrides `aws.max_attempts`)
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,
}

impl GlobalArgs {
    /// The one region of a single-target run: `--region`, else `AWS_REGION`.
    pub fn region(&self) -> Option<String> {
        match self.regions.as_slice() {
            [one, ..] => Some(one.clone()),
            [] => std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Csv,
    /// `report` only: one self-contained page with charts (no network needed to view it)
    Html,
    /// `report --source cur` only: the Bedrock lines as FOCUS 1.2 rows (CSV; Parquet with
    /// `--out FILE.parquet`)
    Focus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter config
    #[command(
        after_help = "Example:\n  bedrock-monitor init --email ops@example.com\n  bedrock-monitor init --config prod.toml --force"
    )]
    Init(InitArgs),

    /// Parse and check the config; makes no AWS call
    #[command(
        after_help = "Example:\n  bedrock-monitor validate --config prod.toml\n  bedrock-monitor validate --runner target/runner/bootstrap"
    )]
    Validate(ValidateArgs),

    /// Read the account and show what apply would change, field by field
    #[command(
        after_help = "Example:\n  bedrock-monitor plan\n  bedrock-monitor plan --detailed-exitcode   # 0: nothing to do, 2: changes, 1: error"
    )]
    Plan(PlanArgs),

    /// Converge the account to the config (shows the plan and asks first)
    #[command(
        after_help = "Example:\n  bedrock-monitor apply\n  bedrock-monitor apply --yes --output json   # in CI\n  bedrock-monitor apply --adopt all           # take over what the old scripts made\n\nA failed or interrupted apply is finished by running apply again: nothing is kept locally.\nA resource of a configured name without this stack's tag is changed only with --adopt (or a yes on a terminal); another stack's never."
    )]
    Apply(ApplyArgs),

    /// Drift and health of every component: in sync, drifted, missing, not managed
    #[command(
        after_help = "Example:\n  bedrock-monitor status\n  bedrock-monitor status --detailed-exitcode   # 0: in sync, 2: drift, 1: error"
    )]
    Status(StatusArgs),

    /// Remove what this stack manages (its tag proves it), in reverse dependency order
    #[command(
        after_help = "Example:\n  bedrock-monitor cleanup                      # keeps the bucket and log group (data)\n  bedrock-monitor cleanup --purge-data --yes   # also the logs under the key prefix\n  bedrock-monitor cleanup --keep topic --keep budgets"
    )]
    Cleanup(CleanupArgs),

    /// Usage and estimated cost per model from CloudWatch metrics
    #[command(
        after_help = "Example:\n  bedrock-monitor report --hours 24\n  bedrock-monitor report --start 2026-11-01 --end 2026-11-08 --output csv\n  bedrock-monitor report --compare --start 2026-11-01 --output html --out bedrock-2026-11.html"
    )]
    Report(ReportArgs),

    /// Run a saved Logs Insights query over the invocation logs (no stack needed)
    #[command(
        after_help = "Example:\n  bedrock-monitor query --list\n  bedrock-monitor query tokens-by-model --hours 6\n  bedrock-monitor query most-expensive-requests --start 2026-11-01 --output csv"
    )]
    Query(QueryArgs),

    /// Approve a budget action waiting for approval, or reverse one that has fired
    #[command(
        after_help = "Example:\n  bedrock-monitor budget-action approve BedrockUsageBudget\n  bedrock-monitor budget-action reverse BedrockUsageBudget --yes   # after raising the limit"
    )]
    BudgetAction(BudgetActionArgs),

    /// Print the least-privilege IAM policy for running this tool with this config
    #[command(
        after_help = "Example:\n  bedrock-monitor permissions > bedrock-monitor-operator-policy.json\n  bedrock-monitor permissions --bootstrap > bedrock-monitor-bootstrap-policy.json   # IAM writes, once\n  bedrock-monitor permissions --read-only --with-billing > bedrock-monitor-reader-policy.json"
    )]
    Permissions(PermissionsArgs),

    /// Save Bedrock's token prices from the AWS Price List API for report and the dashboard
    #[command(
        after_help = "Example:\n  bedrock-monitor prices update                  # every region, to ~/.cache/bedrock-monitor/prices.json\n  bedrock-monitor prices update --region eu-central-1 --region us-east-1 --out prices.json"
    )]
    Prices(PricesArgs),

    /// Bedrock quotas beside each model's busiest minute, and quota increase requests
    #[command(
        after_help = "Example:\n  bedrock-monitor quotas                      # the last 14 days, per minute\n  bedrock-monitor quotas --days 7 --output csv\n  bedrock-monitor quotas request --model us.anthropic.claude-haiku-4-5-20251001-v1:0 --kind tokens-per-minute --value 4000000"
    )]
    Quotas(QuotasArgs),

    /// Spend per person or team against the [[limits]], one enforcement pass, or an unblock
    #[command(
        after_help = "Example:\n  bedrock-monitor limits                      # who spent what of which limit this period\n  bedrock-monitor limits run --once           # one pass: count new logs, warn, block, lift\n  bedrock-monitor limits unblock arn:aws:sts::123456789012:assumed-role/Developers/alice --yes"
    )]
    Limits(LimitsArgs),

    /// The spend digest ([chat] digest): print it, or publish it to the alert topic once a period
    #[command(
        after_help = "Example:\n  bedrock-monitor digest                      # this period's digest, as email shows it\n  bedrock-monitor digest --output json        # with the chat notification it sends\n  bedrock-monitor digest --publish            # send it, unless this period's was sent (cron)"
    )]
    Digest(DigestArgs),

    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  bedrock-monitor completions bash > /etc/bash_completion.d/bedrock-monitor"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Alert email address to subscribe to the alert topic
    #[arg(long)]
    pub email: Option<String>,
    /// A customer-managed KMS key (ARN) to encrypt the invocation logs (bucket and log group)
    /// and the alert topic with: the logs hold every prompt and response
    #[arg(long, value_name = "ARN")]
    pub kms_key: Option<String>,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 2 when something would change, 0 when nothing would, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Show what adopting this component's existing resources would change (repeatable, or
    /// `all`), as `apply --adopt` would
    #[arg(long, value_name = "COMPONENT", value_parser = parse_adopt)]
    pub adopt: Vec<Adopt>,
    #[command(flatten)]
    pub runner: RunnerArg,
}

/// The limits runner's package named on the command line, for the commands that compare or
/// deploy it (`plan`, `apply`, `status`): give all three the same one.
#[derive(Debug, Args, Clone, Default)]
pub struct RunnerArg {
    /// The limits runner's Lambda package (a Linux executable for Amazon Linux 2023, e.g. the
    /// one scripts/build-runner prints), instead of `[limits_runner] package` or this binary
    #[arg(long = "runner", value_name = "PATH")]
    pub package: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Replace a Bedrock logging configuration that points at other destinations
    #[arg(long)]
    pub adopt_logging: bool,
    /// Adopt this component's existing resources of the configured names that lack the
    /// stack's tag (repeatable, or `all`): apply tags them and brings them to the config.
    /// Another stack's resources are never adopted
    #[arg(long, value_name = "COMPONENT", value_parser = parse_adopt)]
    pub adopt: Vec<Adopt>,
    /// What to do when a step fails without a terminal: `fail`, or `retry:N` (N more tries)
    #[arg(long, value_name = "POLICY", default_value = "fail", value_parser = parse_on_error)]
    pub on_error: OnError,
    #[command(flatten)]
    pub runner: RunnerArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    Fail,
    Retry(u32),
}

fn parse_on_error(s: &str) -> Result<OnError, String> {
    if s == "fail" {
        return Ok(OnError::Fail);
    }
    match s.strip_prefix("retry:").map(str::parse::<u32>) {
        Some(Ok(n)) if n <= 10 => Ok(OnError::Retry(n)),
        _ => Err("expected `fail` or `retry:N` with N from 0 to 10 (e.g. retry:3)".into()),
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit 2 when anything is drifted or missing, 0 when all is in sync, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub runner: RunnerArg,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// Delete without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Leave this component in place (repeatable): role, bucket, log-group, logging,
    /// dashboard, topic, alarms, budgets
    #[arg(long, value_name = "COMPONENT", value_parser = parse_component)]
    pub keep: Vec<crate::engine::ComponentId>,
    /// Also delete the log group and, in the buckets, every object version under the tool's
    /// key prefix (the bucket too when nothing else is in it): the logs are lost
    #[arg(long)]
    pub purge_data: bool,
}

/// What `--adopt` names: one component, or every component that can adopt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adopt {
    All,
    One(crate::engine::ComponentId),
}

/// The components `--adopt` values name, each once.
pub fn adopted(values: &[Adopt]) -> Vec<crate::engine::ComponentId> {
    let mut out: Vec<crate::engine::ComponentId> = Vec::new();
    for v in values {
        let ids: Vec<crate::engine::ComponentId> = match v {
            Adopt::All => crate::engine::ComponentId::ALL
                .iter()
                .copied()
                .filter(|c| c.adoptable())
                .collect(),
            Adopt::One(c) => vec![*c],
        };
        for id in ids {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

fn parse_adopt(s: &str) -> Result<Adopt, String> {
    use crate::engine::ComponentId;
    if s == "all" {
        return Ok(Adopt::All);
    }
    let adoptable = || {
        ComponentId::ALL
            .iter()
            .filter(|c| c.adoptable())
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match ComponentId::parse(s) {
        Some(ComponentId::Logging) => {
            Err("the logging configuration is replaced with --adopt-logging, not --adopt".into())
        }
        Some(c) if c.adoptable() => Ok(Adopt::One(c)),
        Some(c) => Err(format!(
            "`{c}` has nothing to adopt (it is not found by a name another owner could hold); use `all` or one of: {}",
            adoptable()
        )),
        None => Err(format!(
            "unknown component `{s}`; use `all` or one of: {}",
            adoptable()
        )),
    }
}

fn parse_component(s: &str) -> Result<crate::engine::ComponentId, String> {
    crate::engine::ComponentId::parse(s).ok_or_else(|| {
        format!(
            "unknown component `{s}`; use one of: {}",
            crate::engine::ComponentId::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Window length in hours [default: 24]; alone: the last N hours
    #[arg(long, value_name = "N")]
    pub hours: Option<u32>,
    /// Window start: a date (2026-11-01, midnight UTC) or an RFC 3339 time
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Window end [default: now]: a date or an RFC 3339 time
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
    /// Add usage per caller (IAM principal) from the invocation logs
    #[arg(long)]
    pub by_principal: bool,
    /// Where the figures come from: CloudWatch metrics (an estimate, free) or the bill (Cost
    /// Explorer, $0.01 per request, 24-48 hours late)
    #[arg(long, value_enum, default_value = "metrics")]
    pub source: ReportSource,
    /// Metrics, invocation logs and bill side by side per model, flagging differences above
    /// --tolerance
    #[arg(long, conflicts_with = "source")]
    pub compare: bool,
    /// Billed spend per value of this cost-allocation tag, with an "untagged" row (reads the bill)
    #[arg(long, value_name = "KEY", conflicts_with = "compare")]
    pub by_tag: Option<String>,
    /// Add one row per UTC day (a bar chart in text output)
    #[arg(long)]
    pub daily: bool,
    /// Write the result to FILE instead of stdout (in any --output format; with --output focus,
    /// a FILE ending in .parquet gets Parquet, any other name CSV)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With --compare: the difference in percent that is flagged
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 2.0,
        requires = "compare"
    )]
    pub tolerance: f64,
    /// With --source cur: group by principal, tag:KEY, profile, model or account (repeat or
    /// separate with commas for several) [default: principal]. With --source logs:
    /// meta:KEY, usage by a request-metadata key (from the invocation-log objects in S3)
    #[arg(long, value_name = "DIMENSION")]
    pub by: Vec<String>,
    /// With --source cur: split the bill among the values of a request-metadata key
    /// (meta:KEY) in proportion to their tokens in the invocation logs
    #[arg(long, value_name = "meta:KEY")]
    pub allocate: Option<String>,
    /// With --source cur: read this existing CUR 2.0 export (Parquet or gzip CSV) instead of
    /// [cur_export]'s [default: [cur_export] read, else the tool's own export]
    #[arg(long, value_name = "s3://BUCKET/PREFIX/EXPORT")]
    pub cur: Option<String>,
    /// With --cur (or [cur_export] read): the account that owns the export's bucket, when it is
    /// not yours (a management or data-collection account's) [default: [cur_export]
    /// read_owner, else the caller's account]
    #[arg(long, value_name = "ACCOUNT")]
    pub cur_owner: Option<String>,
    /// With --source cur: read the export's files (embedded) or query them with Athena
    /// [default: athena when [cur_export] athena is set, else embedded]
    #[arg(long, value_name = "ENGINE")]
    pub engine: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportSource {
    /// Usage from CloudWatch metrics, priced with the price table
    Metrics,
    /// Billed spend from Cost Explorer
    Billing,
    /// Invocations and tokens counted from the invocation log group (Logs Insights)
    Logs,
    /// Billed spend per IAM principal, tag, profile, model or account from the CUR 2.0 export
    /// ([cur_export])
    Cur,
}

#[derive(Debug, Args)]
pub struct BudgetActionArgs {
    /// approve: deny Bedrock now (a pending manual action); reverse: give it back
    #[arg(value_enum)]
    pub verb: BudgetActionVerb,
    /// The budget whose action it is (`[[budgets]] name`)
    pub budget: String,
    /// Do it without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BudgetActionVerb {
    Approve,
    Reverse,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The saved query to run (see --list)
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// List the saved queries with a line each
    #[arg(long, conflicts_with_all = ["hours", "start", "end"])]
    pub list: bool,
    /// Window length in hours [default: 24]; alone: the last N hours
    #[arg(long, value_name = "N")]
    pub hours: Option<u32>,
    /// Window start: a date (2026-11-01, midnight UTC) or an RFC 3339 time
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Window end [default: now]: a date or an RFC 3339 time
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
    /// Give up (and stop the query) after this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// Add the Cost Explorer reads of `report --source billing` (ce:GetCostAndUsage, ce:GetCostForecast)
    #[arg(long)]
    pub with_billing: bool,
    /// The one-time policy with the IAM and Organizations writes (roles, the deny policies),
    /// for whoever first applies the stack or changes those parts; the everyday policy has none
    #[arg(long, conflicts_with = "read_only")]
    pub bootstrap: bool,
    /// Only what `report` and `query` need: metrics, the log queries, the bill with --with-billing
    #[arg(long)]
    pub read_only: bool,
    /// The statements each configured KMS key's policy needs (per key ARN), instead of a policy
    #[arg(long, conflicts_with_all = ["bootstrap", "read_only", "with_billing"])]
    pub key_policies: bool,
}

#[derive(Debug, Args)]
pub struct LimitsArgs {
    #[command(subcommand)]
    pub command: Option<LimitsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum LimitsCommand {
    /// One enforcement pass: count the invocation logs delivered since the last pass, warn,
    /// block who went over, lift blocks whose period ended (what the runner does on a schedule)
    Run(LimitsRunArgs),
    /// Lift a principal's block by hand for the rest of the period (asks first, or --yes)
    Unblock(LimitsUnblockArgs),
}

#[derive(Debug, Args)]
pub struct LimitsRunArgs {
    /// Run one pass and exit (the only mode: the runner's schedule repeats it)
    #[arg(long, required = true)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct LimitsUnblockArgs {
    /// The blocked principal's ARN, as `bedrock-monitor limits` lists it
    pub principal: String,
    /// Do it without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Publish it to the alert topic (chat channels and email) and record that it was sent;
    /// nothing is sent when this period's digest already was
    #[arg(long)]
    pub publish: bool,
}

#[derive(Debug, Args)]
pub struct QuotasArgs {
    #[command(subcommand)]
    pub command: Option<QuotasCommand>,
    /// Days of per-minute use to read, ending now (1-15: CloudWatch keeps per-minute data 15 days)
    #[arg(long, value_name = "N", default_value_t = 14, global = true)]
    pub days: u32,
}

#[derive(Debug, Subcommand)]
pub enum QuotasCommand {
    /// Print what AWS support asks for with a quota increase (the quota, steady and peak use,
    /// the busiest minutes), then, once confirmed, request it (servicequotas:RequestServiceQuotaIncrease)
    Request(QuotaRequestArgs),
}

#[derive(Debug, Args)]
pub struct QuotaRequestArgs {
    /// The model ID as CloudWatch shows it (a us./eu./global. profile ID for its cross-Region quota)
    #[arg(long, value_name = "MODEL_ID")]
    pub model: String,
    /// Which quota of the model
    #[arg(long, value_enum)]
    pub kind: QuotaKindArg,
    /// The quota wanted (tokens or requests), above the current one
    #[arg(long, value_name = "N")]
    pub value: f64,
    /// Request it without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuotaKindArg {
    TokensPerMinute,
    RequestsPerMinute,
    TokensPerDay,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct PricesArgs {
    #[command(subcommand)]
    pub command: PricesCommand,
}

#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Read every Bedrock offer of the Price List API (pricing:GetProducts, in us-east-1) and
    /// write the price file report, the dashboard and the saved queries use. --region (repeatable)
    /// keeps those regions only
    Update(PricesUpdateArgs),
}

#[derive(Debug, Args)]
pub struct PricesUpdateArgs {
    /// Where to write the price file (default: $XDG_CACHE_HOME/bedrock-monitor/prices.json, else
    /// ~/.cache/bedrock-monitor/prices.json, which is where the other commands look)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}
