//! One file per subcommand. Each returns a result type that is both `Serialize` (for
//! `--output json`) and `Display` (text), and an [`ExitStatus`].

pub mod apply;
pub mod budget_action;
pub mod cleanup;
pub mod digest;
pub mod init;
pub mod lambda;
pub mod limits;
pub mod permissions;
pub mod plan;
pub mod prices;
pub mod query;
pub mod quotas;
pub mod report;
pub mod status;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;

use crate::aws::{AwsError, Clients, ConnectOptions};
use crate::cli::GlobalArgs;
use crate::config::{self, ConfigError, LoadedConfig};
use crate::engine::{Context, Interrupt, Progress, QuietProgress, Recovery};
pub use crate::exit::ExitStatus;
use crate::targets::{
    Fleet, FleetError, FleetOptions, Needs, Prepared, Summary, Target, TargetOutcome,
};
use crate::ui::Printer;
use crate::ui::interrupt::watch_ctrl_c;
use crate::ui::prompt::{PromptError, Prompter, progress_and_recovery};

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
    /// A target could not be worked in (its role could not be assumed, say). Boxed: it carries
    /// the target and the AWS error, and every command's result would otherwise be that large.
    #[error(transparent)]
    Target(Box<crate::targets::TargetError>),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Prices(#[from] crate::cost::prices::PriceFileError),
    /// A file named as the runner's package that cannot be one.
    #[error(transparent)]
    Package(#[from] crate::runner::package::NotAPackage),
}

impl From<FleetError> for CommandError {
    fn from(e: FleetError) -> CommandError {
        match e {
            FleetError::Usage(message) => CommandError::Usage(message),
            FleetError::Aws(e) => CommandError::Aws(e),
            FleetError::Target(e) => CommandError::from(e),
        }
    }
}

impl From<crate::targets::TargetError> for CommandError {
    fn from(e: crate::targets::TargetError) -> CommandError {
        CommandError::Target(Box::new(e))
    }
}

impl CommandError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            CommandError::Config(_)
            | CommandError::Usage(_)
            | CommandError::Prices(_)
            | CommandError::Package(_) => ExitStatus::InvalidInput,
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

    /// [`Session::load_config`] for the commands that compare or deploy the limits runner:
    /// `--runner PATH` stands for `[limits_runner] package`. With `check`, a package the
    /// config or the flag names is checked here, so a file that cannot be one stops `plan` or
    /// `apply` before any AWS call; `status` does not ask (it reports the rest of the stack
    /// and shows the function's code as unknown). The running binary, used when none is
    /// named, is checked by the component, which says what to do when it does not qualify.
    pub fn load_config_with_runner(
        &self,
        runner: &crate::cli::RunnerArg,
        check: bool,
    ) -> Result<LoadedConfig, CommandError> {
        let mut loaded = self.load_config()?;
        if let Some(path) = &runner.package {
            loaded
                .config
                .limits_runner
                .get_or_insert_with(Default::default)
                .package = Some(path.display().to_string());
        }
        let named = loaded
            .config
            .limits_runner
            .as_ref()
            .and_then(|r| r.package_path(None));
        if let Some(path) = named
            && check
            && loaded.config.wants_runner()
        {
            crate::runner::package::check(&path)?;
        }
        Ok(loaded)
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
    pub(crate) fn connect_options(&self) -> ConnectOptions {
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
            progress: self.printer.activity("targets", "done"),
        }
    }

    /// The targets the command runs over: one without `[targets]`, else every (account,
    /// region) they resolve to, narrowed by `--account`/`--region`.
    pub async fn fleet(&self, loaded: &LoadedConfig, needs: Needs) -> Result<Fleet, CommandError> {
        Ok(Fleet::open(&self.fleet_options(), &loaded.config, needs).await?)
    }

    /// Runs `read` on every target of `fleet` (nothing is written, so no progress is shown),
    /// prints each target's result (one target's as it is, many as a summary) and ends as the
    /// worst target did.
    pub async fn read_each_target<T, F, Fut>(
        &self,
        fleet: &Fleet,
        command: &'static str,
        read: F,
    ) -> Result<ExitStatus, CommandError>
    where
        T: serde::Serialize + std::fmt::Display,
        F: Fn(Prepared) -> Fut + Sync,
        Fut: std::future::Future<Output = (T, ExitStatus)>,
    {
        let outcomes = fleet
            .run(fleet.targets(), &Interrupt::default(), |target| {
                let read = &read;
                async move {
                    let prepared = fleet
                        .prepare(&target, Arc::new(QuietProgress))
                        .await
                        .map_err(CommandError::from)?;
                    Ok::<_, CommandError>(read(prepared).await)
                }
            })
            .await?;
        let summary = Summary::new(fleet, command, outcomes, false);
        self.printer.result(&summary)?;
        Ok(summary.exit_status())
    }

    /// The summary as the output format asks: with `--output csv`, one table (a single
    /// target's as it is; over many, each row led by its target's account and region), else
    /// the usual rendering.
    pub fn show_result_or_csv<T: serde::Serialize + std::fmt::Display>(
        &self,
        summary: &Summary<T>,
        to_csv: impl Fn(&T) -> Result<String, ::csv::Error>,
    ) -> Result<(), CommandError> {
        if self.printer.format != crate::cli::OutputFormat::Csv {
            self.printer.result(summary)?;
            return Ok(());
        }
        let mut text = String::new();
        let many = !summary.is_single();
        for (target, result) in summary.results() {
            let csv = to_csv(result).map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
            for (i, line) in csv.lines().enumerate() {
                match (i, many) {
                    (_, false) => text.push_str(&format!("{line}\n")),
                    (0, true) if text.is_empty() => {
                        text.push_str(&format!("account,region,{line}\n"))
                    }
                    (0, true) => {}
                    (_, true) => {
                        text.push_str(&format!("{},{},{line}\n", target.account, target.region))
                    }
                }
            }
        }
        self.printer.output(&text)?;
        Ok(())
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

/// What a command that writes (`apply`, `cleanup`) has for its targets: where progress goes,
/// what to do about a failed step, the question-asker, and Ctrl-C.
pub struct WriteRun<'a> {
    pub fleet: &'a Fleet,
    pub progress: Arc<dyn Progress>,
    pub recovery: Arc<dyn Recovery>,
    pub prompter: Prompter,
    pub interrupt: Interrupt,
    /// Where what the user reads goes (and whether `-q` hides it).
    pub printer: &'a Printer,
}

/// A command that reads each target, shows what it would change, and changes it once the user
/// agrees. What it does to one target is the command's; the flow over targets is
/// [`Session::read_then_write`], written once.
#[async_trait::async_trait]
pub trait ReadThenWrite: Sync {
    /// What reading a target gives: what writing it would do, with its context.
    type Read: Send + Sync;
    /// One target's result.
    type Written: serde::Serialize + std::fmt::Display + Send;
    /// The command's name in the summary over targets.
    const COMMAND: &'static str;
    /// What the user is told when they answer no.
    const DECLINED: &'static str;

    async fn read(&self, run: &WriteRun<'_>, target: &Target) -> Result<Self::Read, CommandError>;

    /// How many changes writing would make (none: nothing to ask).
    fn changes(&self, read: &Self::Read) -> usize;

    /// Shows on stderr what writing `target` would do.
    fn show(&self, run: &WriteRun<'_>, target: &Target, read: &Self::Read);

    /// The question before any write, for `total` changes.
    fn question(&self, run: &WriteRun<'_>, total: usize) -> String;

    /// Questions after the first yes, asked once for every target they concern; `answered`
    /// when `--yes` answered the first. `false` stops the run before any write.
    async fn confirm_more(
        &self,
        run: &WriteRun<'_>,
        reads: &mut [&mut Self::Read],
        answered: bool,
    ) -> Result<bool, CommandError>;

    async fn write(
        &self,
        run: &WriteRun<'_>,
        target: &Target,
        read: Self::Read,
    ) -> (Self::Written, ExitStatus);
}

type Outcomes<T> = Vec<TargetOutcome<(T, ExitStatus)>>;

impl Session {
    /// Runs `command` over `fleet`. With `yes` nothing is asked, so each target reads and
    /// writes in one go and only the targets in flight are held. Otherwise every target is
    /// read and shown, one question covers them all, then each is written. Failed steps are
    /// retried `retries` times where nobody is asked about them.
    pub async fn read_then_write<C: ReadThenWrite>(
        &self,
        fleet: &Fleet,
        command: &C,
        yes: bool,
        retries: u32,
    ) -> Result<ExitStatus, CommandError> {
        let interactive = crate::ui::is_interactive(self.globals.non_interactive);
        let (progress, recovery) =
            progress_and_recovery(fleet.is_single(), self.printer.quiet, interactive, retries);
        let run = WriteRun {
            fleet,
            progress,
            recovery,
            prompter: Prompter { interactive },
            interrupt: Interrupt::default(),
            printer: &self.printer,
        };
        let outcomes = if yes {
            Self::read_and_write_each(&run, command).await?
        } else {
            match Self::read_all_ask_once_write(&run, command).await? {
                Some(outcomes) => outcomes,
                None => {
                    self.printer.note(C::DECLINED);
                    return Ok(ExitStatus::Success);
                }
            }
        };
        let summary = Summary::new(fleet, C::COMMAND, outcomes, run.interrupt.is_set());
        self.printer.result(&summary)?;
        Ok(summary.exit_status())
    }

    async fn read_and_write_each<C: ReadThenWrite>(
        run: &WriteRun<'_>,
        command: &C,
    ) -> Result<Outcomes<C::Written>, CommandError> {
        let fleet = run.fleet;
        let watcher = watch_ctrl_c(run.interrupt.clone());
        let outcomes = fleet
            .run(fleet.targets(), &run.interrupt, |target| async move {
                let result = async {
                    let mut read = command.read(run, &target).await?;
                    command.show(run, &target, &read);
                    // Questions come from one target only: targets side by side could not
                    // say which one they are about.
                    if fleet.is_single()
                        && !command.confirm_more(run, &mut [&mut read], true).await?
                    {
                        return Err(CommandError::Usage(C::DECLINED.into()));
                    }
                    Ok(command.write(run, &target, read).await)
                }
                .await;
                // Done or failed, the account's other regions stop waiting for it.
                fleet.converged(&target);
                result
            })
            .await;
        watcher.abort();
        outcomes
    }

    async fn read_all_ask_once_write<C: ReadThenWrite>(
        run: &WriteRun<'_>,
        command: &C,
    ) -> Result<Option<Outcomes<C::Written>>, CommandError> {
        let fleet = run.fleet;
        let (mut ready, failed) = fleet
            .run_first_pass(fleet.targets(), &run.interrupt, |target| async move {
                command.read(run, &target).await
            })
            .await?;
        for o in &failed {
            fleet.converged(&o.target);
        }
        for (target, read) in &ready {
            command.show(run, target, read);
        }
        let total: usize = ready.iter().map(|(_, read)| command.changes(read)).sum();
        if total > 0
            && !run
                .prompter
                .confirm(&command.question(run, total), "--yes")?
        {
            return Ok(None);
        }
        let mut reads: Vec<&mut C::Read> = ready.iter_mut().map(|(_, read)| read).collect();
        if !command.confirm_more(run, &mut reads, false).await? {
            return Ok(None);
        }
        let watcher = watch_ctrl_c(run.interrupt.clone());
        let outcomes = fleet
            .run_second_pass(ready, failed, &run.interrupt, |target, read| async move {
                let written = command.write(run, &target, read).await;
                fleet.converged(&target);
                Ok::<_, CommandError>(written)
            })
            .await;
        watcher.abort();
        Ok(Some(outcomes?))
    }
}

/// Run the parsed command line; errors are printed here, on stderr.
pub fn run(cli: crate::cli::Cli) -> ExitStatus {
    use crate::cli::{Command, OutputFormat};
    let g = &cli.global;
    init_tracing(g.verbose, g.quiet);
    let printer = Printer::new(g.output, g.quiet, g.verbose, g.color);
    if g.output == OutputFormat::Csv
        && !matches!(
            cli.command,
            Command::Report(_) | Command::Query(_) | Command::Quotas(_) | Command::Limits(_)
        )
    {
        printer.error(
            "--output csv is only for `report`, `query`, `quotas` and `limits`; use text or json",
        );
        return ExitStatus::InvalidInput;
    }
    if g.output == OutputFormat::Focus && !matches!(cli.command, Command::Report(_)) {
        printer.error("--output focus is only for `report --source cur`; use text or json");
        return ExitStatus::InvalidInput;
    }
    if g.output == OutputFormat::Html && !matches!(cli.command, Command::Report(_)) {
        printer.error("--output html is only for `report`; use text or json");
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
        if prices_matter(&cli.command) {
            use_saved_prices()?;
        }
        match &cli.command {
            Command::Validate(args) => validate::run(&session, args),
            Command::Plan(args) => plan::run(&session, args).await,
            Command::Apply(args) => apply::run(&session, args).await,
            Command::Report(args) => report::run(&session, args).await,
            Command::Query(args) => query::run(&session, args).await,
            Command::BudgetAction(args) => budget_action::run(&session, args).await,
            Command::Status(args) => status::run(&session, args).await,
            Command::Cleanup(args) => cleanup::run(&session, args).await,
            Command::Init(args) => init::run(&session, args).await,
            Command::Permissions(args) => permissions::run(&session, args).await,
            Command::Prices(args) => prices::run(&session, args).await,
            Command::Quotas(args) => quotas::run(&session, args).await,
            Command::Limits(args) => limits::run(&session, args).await,
            Command::Digest(args) => digest::run(&session, args).await,
            Command::Completions(args) => {
                let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
                let mut script = Vec::new();
                clap_complete::generate(args.shell, &mut command, "bedrock-monitor", &mut script);
                session.printer.output(&script)?;
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

/// The commands that price tokens: `report` from the metrics or the logs (the bill and the CUR
/// carry their own costs), `query` (the saved queries' cost expression), and those that render
/// the dashboard or the saved queries (`plan`, `apply`, `status` compare them with what is
/// deployed). Only these are stopped by a price file that cannot be read.
fn prices_matter(command: &crate::cli::Command) -> bool {
    use crate::cli::{Command, ReportSource};
    match command {
        Command::Report(args) => {
            args.compare || matches!(args.source, ReportSource::Metrics | ReportSource::Logs)
        }
        Command::Query(_) | Command::Plan(_) | Command::Apply(_) | Command::Status(_) => true,
        // Limits price every record of the invocation logs.
        Command::Limits(_) => true,
        // The digest's figures are report's estimate.
        Command::Digest(_) => true,
        _ => false,
    }
}

/// Makes the price file `prices update` saved the one this run prices with, when there is one
/// (the built-in table otherwise). A file that cannot be read stops the run before any AWS call:
/// prices from a half-read file would be wrong without a word.
fn use_saved_prices() -> Result<(), CommandError> {
    use crate::cost::prices;
    if let Some(path) = prices::default_file()
        && let Some(book) = prices::PriceBook::load(&path)?
    {
        tracing::debug!("prices from {}", path.display());
        prices::install(book);
    }
    Ok(())
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
