//! One file per subcommand. Each returns a result type that is both `Serialize` (for
//! `--output json`) and `Display` (text), and an [`ExitStatus`].

pub mod apply;
pub mod budget_action;
pub mod cleanup;
pub mod fanout;
pub mod init;
pub mod permissions;
pub mod plan;
pub mod query;
pub mod report;
pub mod status;
pub mod validate;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::aws::{AwsError, Clients, ConnectOptions};
use crate::cli::GlobalArgs;
use crate::config::{self, ConfigError, LoadedConfig};
use crate::engine::{Context, FieldChange, Progress};
use crate::ui::Printer;
use crate::ui::prompt::PromptError;

/// Process exit codes (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done; nothing to do, or everything done.
    Success,
    /// An AWS call or a step failed (the summary says which).
    Failure,
    /// `--detailed-exitcode`: changes pending or drift found.
    Changes,
    /// The config (or a flag) is invalid; no AWS call was made.
    InvalidInput,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::InvalidInput => 3,
            ExitStatus::Interrupted => 130,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl CommandError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CommandError::Config(_) | CommandError::Usage(_) => ExitStatus::InvalidInput,
            CommandError::Prompt(PromptError::NotInteractive { .. }) => ExitStatus::InvalidInput,
            _ => ExitStatus::Failure,
        }
    }
}

/// The global options and the printer, shared by every command.
pub struct Session {
    pub globals: GlobalArgs,
    pub printer: Printer,
}

impl Session {
    pub fn config_path(&self) -> (PathBuf, bool) {
        match &self.globals.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(config::DEFAULT_CONFIG_FILE), false),
        }
    }

    /// Load and validate the config: nothing touches AWS before this succeeds.
    pub fn load_config(&self) -> Result<LoadedConfig, CommandError> {
        let (path, explicit) = self.config_path();
        let region = self.globals.region();
        if let Some(region) = &region
            && let Some(problem) = config::region_problem(region)
        {
            return Err(CommandError::Usage(format!(
                "--region/AWS_REGION {region:?}: {problem}"
            )));
        }
        let loaded = config::load(&path, explicit, region.as_deref())?;
        self.check_narrowing(&loaded.config)?;
        if let config::Source::Defaults = loaded.source {
            self.printer.note(format!(
                "no {} here: using the built-in defaults (`bedrock-monitor init` writes one)",
                config::DEFAULT_CONFIG_FILE
            ));
        }
        Ok(loaded)
    }

    /// `--account` and repeated `--region` narrow a run over [targets]; without targets only one
    /// `--region` makes sense.
    fn check_narrowing(&self, config: &config::Config) -> Result<(), CommandError> {
        let g = &self.globals;
        match &config.targets {
            None if g.regions.len() > 1 || !g.accounts.is_empty() => Err(CommandError::Usage(
                "--account and a repeated --region choose among [targets]; this config has no [targets] section".into(),
            )),
            None => Ok(()),
            Some(t) => {
                for r in &g.regions {
                    if !t.regions.contains(r) {
                        return Err(CommandError::Usage(format!(
                            "--region {r}: not one of [targets] regions ({})",
                            t.regions.join(", ")
                        )));
                    }
                }
                for a in &g.accounts {
                    if !config::targets::account_id_ok(a) {
                        return Err(CommandError::Usage(format!(
                            "--account {a:?}: an account ID has 12 digits"
                        )));
                    }
                }
                Ok(())
            }
        }
    }

    /// AWS clients only (no call made yet).
    pub async fn clients(&self, loaded: &LoadedConfig) -> Result<Clients, CommandError> {
        let options = ConnectOptions {
            region: self.globals.region(),
            profile: self.globals.profile.clone(),
            endpoint_url: self.globals.endpoint_url.clone(),
            max_attempts: self.globals.max_attempts,
        };
        Ok(Clients::connect(
            &options,
            loaded.config.stack.region.as_deref(),
            &loaded.config.aws,
        )
        .await?)
    }

    /// Clients plus the caller's account (`sts:GetCallerIdentity`), for commands that name
    /// resources by account.
    pub async fn connect(
        &self,
        loaded: &LoadedConfig,
        progress: Arc<dyn Progress>,
    ) -> Result<Arc<Context>, CommandError> {
        let clients = self.clients(loaded).await?;
        // The region may come from the profile only: check what depends on it before any call.
        let problems = config::rules::key_region_problems(&loaded.config, &clients.region);
        if !problems.is_empty() {
            return Err(CommandError::Usage(format!(
                "{} (region {} from the AWS profile)",
                problems.join("; "),
                clients.region
            )));
        }
        let account = clients.account().await?;
        tracing::debug!(account = %account.id, region = %clients.region, "connected");
        Ok(Arc::new(Context::new(
            loaded.config.clone(),
            account,
            clients,
            progress,
        )))
    }
}

/// A value for text output: strings bare, the rest as compact JSON.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A field change for text output: short values on one line, documents as a line diff.
pub fn render_change(out: &mut String, change: &FieldChange, indent: &str) {
    let old = show_value(&change.old);
    let new = show_value(&change.new);
    // Two objects differing only in short members (an alarm's threshold, its OK actions): one
    // line each.
    if let (Value::Object(a), Value::Object(b)) = (&change.old, &change.new) {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let differing: Vec<&String> = keys
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .collect();
        let scalar = |v: Option<&Value>| match v {
            Some(Value::Object(_)) | Some(Value::Array(_)) => {
                v.is_some_and(|v| v.to_string().len() <= 120)
            }
            _ => true,
        };
        if differing
            .iter()
            .all(|k| scalar(a.get(*k)) && scalar(b.get(*k)))
        {
            for k in differing {
                let show = |v: Option<&Value>| show_value(v.unwrap_or(&Value::Null));
                let _ = writeln!(
                    out,
                    "{indent}{}.{k}: {} → {}",
                    change.field,
                    show(a.get(k)),
                    show(b.get(k))
                );
            }
            return;
        }
    }
    if change.old.is_object() && change.new.is_null() {
        let _ = writeln!(out, "{indent}{}: delete", change.field);
        return;
    }
    if change.old.is_null() && change.new.is_object() && change.new.to_string().len() > 100 {
        let _ = writeln!(out, "{indent}{}: create", change.field);
        return;
    }
    let is_document = change.old.is_object() || change.new.is_object();
    if !is_document || (old.len() + new.len() < 100) {
        let _ = writeln!(out, "{indent}{}: {old} → {new}", change.field);
        return;
    }
    let _ = writeln!(out, "{indent}{}:", change.field);
    let pretty = |v: &Value| match v {
        Value::Null => String::new(),
        v => serde_json::to_string_pretty(v).unwrap_or_default(),
    };
    let (a, b) = (pretty(&change.old), pretty(&change.new));
    let diff = similar::TextDiff::from_lines(&a, &b);
    for op in diff.iter_all_changes() {
        let sign = match op.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => " ",
        };
        let _ = write!(out, "{indent}  {sign} {}", op.value());
        if op.missing_newline() {
            out.push('\n');
        }
    }
}

/// Run the parsed command line; errors are printed here, on stderr.
pub fn run(cli: crate::cli::Cli) -> ExitStatus {
    use crate::cli::{Command, OutputFormat};
    let g = &cli.global;
    init_tracing(g.verbose, g.quiet);
    let printer = Printer::new(g.output, g.quiet, g.verbose, g.color);
    if g.output == OutputFormat::Csv
        && !matches!(cli.command, Command::Report(_) | Command::Query(_))
    {
        printer.error("--output csv is only for `report` and `query`; use text or json");
        return ExitStatus::InvalidInput;
    }
    let session = Session {
        globals: cli.global.clone(),
        printer,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            session
                .printer
                .error(format!("cannot start the async runtime: {e}"));
            return ExitStatus::Failure;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Validate => validate::run(&session),
            Command::Plan(args) => plan::run(&session, args).await,
            Command::Apply(args) => apply::run(&session, args).await,
            Command::Report(args) => report::run(&session, args).await,
            Command::Query(args) => query::run(&session, args).await,
            Command::BudgetAction(args) => budget_action::run(&session, args).await,
            Command::Status(args) => status::run(&session, args).await,
            Command::Cleanup(args) => cleanup::run(&session, args).await,
            Command::Init(args) => init::run(&session, args).await,
            Command::Permissions(args) => permissions::run(&session, args).await,
            Command::Completions(args) => {
                let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
                clap_complete::generate(
                    args.shell,
                    &mut command,
                    "bedrock-monitor",
                    &mut std::io::stdout(),
                );
                Ok(ExitStatus::Success)
            }
        }
    });
    match result {
        Ok(status) => status,
        Err(e) => {
            session.printer.error(&e);
            e.exit_status()
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        // aws-config warns about every provider it tried (IMDS off an EC2 host...); the tool
        // reports what matters in its own words.
        (_, 0) => "warn,aws_config=error",
        (_, 1) => "warn,aws_config=error,bedrock_monitor=debug",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(verbose > 1)
        .try_init();
}
