//! One file per subcommand. Each returns a result type that is both `Serialize` (for
//! `--output json`) and `Display` (text), and an [`ExitStatus`].

pub mod apply;
pub mod budget_action;
pub mod cleanup;
pub mod init;
pub mod permissions;
pub mod plan;
pub mod query;
pub mod report;
pub mod status;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;

use crate::aws::{AwsError, Clients, ConnectOptions};
use crate::cli::GlobalArgs;
use crate::config::{self, ConfigError, LoadedConfig};
use crate::engine::{Context, Progress};
pub use crate::exit::ExitStatus;
use crate::targets::{Fleet, FleetError, FleetOptions, Needs};
use crate::ui::Printer;
use crate::ui::prompt::PromptError;

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
    /// A target could not be worked in (its role could not be assumed, say).
    #[error("{0}")]
    Target(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<FleetError> for CommandError {
    fn from(e: FleetError) -> CommandError {
        match e {
            FleetError::Usage(message) => CommandError::Usage(message),
            FleetError::Aws(e) => CommandError::Aws(e),
        }
    }
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
        let loaded = config::load_with(
            &path,
            explicit,
            region.as_deref(),
            crate::queries::config_violations,
        )?;
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

    /// Where and how to connect: `--region`, `--profile`, `--endpoint-url`, `--max-attempts`.
    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            region: self.globals.region(),
            profile: self.globals.profile.clone(),
            endpoint_url: self.globals.endpoint_url.clone(),
            max_attempts: self.globals.max_attempts,
        }
    }

    fn fleet_options(&self) -> FleetOptions {
        FleetOptions {
            connect: self.connect_options(),
            accounts: self.globals.accounts.clone(),
            regions: self.globals.regions.clone(),
        }
    }

    /// The targets the command runs over: one without `[targets]`, else every (account,
    /// region) they resolve to, narrowed by `--account`/`--region`.
    pub async fn fleet(&self, loaded: &LoadedConfig, needs: Needs) -> Result<Fleet, CommandError> {
        Ok(Fleet::open(&self.fleet_options(), &loaded.config, needs).await?)
    }

    /// AWS clients only (no call made yet).
    pub async fn clients(&self, loaded: &LoadedConfig) -> Result<Clients, CommandError> {
        Ok(Clients::connect(
            &self.connect_options(),
            loaded.config.stack.region.as_deref(),
            &loaded.config.aws,
        )
        .await?)
    }

    /// The caller's own account and region as an engine context (`sts:GetCallerIdentity`),
    /// whatever `[targets]` says, for commands that act there only.
    pub async fn connect(
        &self,
        loaded: &LoadedConfig,
        progress: Arc<dyn Progress>,
    ) -> Result<Arc<Context>, CommandError> {
        let fleet = Fleet::caller(&self.fleet_options(), &loaded.config, Needs::Identity).await?;
        Ok(fleet.caller_context(progress).await?)
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
