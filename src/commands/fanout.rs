//! The commands over `[targets]`: plan, apply, status, cleanup and report for every (account,
//! region) at once, each target with its own credentials and engine (`crate::targets`). Output
//! groups by target, then a summary across targets; JSON is `{"targets": [{"account",
//! "region", ..., "error"}], ...}`; the exit code is the worst target's.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::aws::{Account, ConnectOptions, load_sdk_config};
use crate::cli::{ApplyArgs, CleanupArgs, OutputFormat, PlanArgs, ReportArgs, StatusArgs};
use crate::commands::{CommandError, ExitStatus, Session, cleanup, plan, status};
use crate::config::LoadedConfig;
use crate::config::targets::TargetsConfig;
use crate::engine::recovery::NonInteractive;
use crate::engine::{
    ComponentId, Context, Interrupt, Operation, Progress, QuietProgress, Step, execute,
};
use crate::report::{ReportOptions, Window, build_report};
use crate::resources;
use crate::targets::{self, Resolved, Skipped, Target};
use crate::ui::is_interactive;
use crate::ui::prompt::Prompter;

/// One target's part of the result.
#[derive(Debug)]
pub struct TargetEntry {
    pub target: Target,
    /// The single-target result as JSON (its own `account`/`region` replaced by the target's).
    pub result: Option<Value>,
    /// The single-target result as text.
    pub text: String,
    pub error: Option<String>,
    pub status: ExitStatus,
}

/// A command's result over every target.
#[derive(Debug)]
pub struct FanOut {
    pub stack: String,
    pub command: &'static str,
    pub targets: Vec<TargetEntry>,
    pub skipped: Vec<Skipped>,
    pub interrupted: bool,
    /// Figures across targets (report: grand totals).
    pub totals: Option<Value>,
}

fn severity(s: ExitStatus) -> u8 {
    match s {
        ExitStatus::Success => 0,
        ExitStatus::Changes => 1,
        ExitStatus::Failure => 2,
        ExitStatus::InvalidInput => 3,
        ExitStatus::Interrupted => 4,
    }
}

impl FanOut {
    /// The worst target's exit status (interrupted above all).
    pub fn exit_status(&self) -> ExitStatus {
        if self.interrupted {
            return ExitStatus::Interrupted;
        }
        self.targets
            .iter()
            .map(|t| t.status)
            .max_by_key(|s| severity(*s))
            .unwrap_or(ExitStatus::Success)
    }
}

impl Serialize for FanOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| {
                let mut entry = match &t.result {
                    Some(Value::Object(map)) => map.clone(),
                    _ => Map::new(),
                };
                entry.insert("account".into(), Value::String(t.target.account.clone()));
                entry.insert("region".into(), Value::String(t.target.region.clone()));
                entry.insert(
                    "error".into(),
                    t.error.clone().map(Value::String).unwrap_or(Value::Null),
                );
                entry.insert("exit_code".into(), Value::from(t.status.code()));
                Value::Object(entry)
            })
            .collect();
        let mut doc = Map::new();
        doc.insert("stack".into(), Value::String(self.stack.clone()));
        doc.insert("command".into(), Value::String(self.command.into()));
        doc.insert("targets".into(), Value::Array(targets));
        doc.insert(
            "skipped".into(),
            serde_json::to_value(&self.skipped).unwrap_or(Value::Null),
        );
        doc.insert("interrupted".into(), Value::Bool(self.interrupted));
        if let Some(totals) = &self.totals {
            doc.insert("totals".into(), totals.clone());
        }
        Value::Object(doc).serialize(s)
    }
}

impl fmt::Display for FanOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.targets {
            writeln!(f, "== {} ==", t.target.label())?;
            match &t.error {
                Some(e) if t.text.is_empty() => writeln!(f, "error: {e}\n")?,
                _ => writeln!(f, "{}", t.text.trim_end())?,
            }
            writeln!(f)?;
        }
        let mut table = comfy_table::Table::new();
        table
            .load_style(crate::ui::TABLE_STYLE)
            .force_no_tty()
            .set_header(vec!["Target", "Result"]);
        for t in &self.targets {
            let result = match (&t.error, t.status) {
                (Some(e), _) => format!("failed: {}", first_line(e)),
                (None, ExitStatus::Success) => "ok".into(),
                (None, ExitStatus::Changes) => "changes".into(),
                (None, other) => format!("exit {}", other.code()),
            };
            table.add_row(vec![t.target.label(), result]);
        }
        for s in &self.skipped {
            table.add_row(vec![s.account.clone(), format!("skipped: {}", s.reason)]);
        }
        writeln!(f, "{} over {} targets:", self.command, self.targets.len())?;
        writeln!(f, "{table}")?;
        if let Some(totals) = &self.totals {
            writeln!(f, "Totals across targets: {totals}")?;
        }
        let failed: Vec<String> = self
            .targets
            .iter()
            .filter(|t| t.error.is_some())
            .map(|t| t.target.label())
            .collect();
        if self.interrupted {
            writeln!(
                f,
                "Interrupted: targets not started are listed as such; run it again to finish."
            )?;
        } else if !failed.is_empty() {
            writeln!(
                f,
                "{} target(s) failed: {}. Run the command again: converged targets do nothing.",
                failed.len(),
                failed.join(", ")
            )?;
        }
        Ok(())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// An account's SDK configuration and identity once its role is assumed, or why not.
type AccountSlot = tokio::sync::OnceCell<Result<(aws_types::SdkConfig, Account), String>>;

/// What every target shares: the caller, the base SDK configuration, the resolved targets.
struct Fleet {
    base: aws_types::SdkConfig,
    /// The caller's STS client (it assumes the role in each account).
    sts: aws_sdk_sts::Client,
    /// Each account's SDK configuration and identity, built once (one AssumeRole per account,
    /// shared by its regions), or why the account cannot be worked in.
    accounts: std::collections::BTreeMap<String, AccountSlot>,
    caller: Account,
    resolved: Resolved,
    config: crate::config::Config,
}

async fn fleet(session: &Session, loaded: &LoadedConfig) -> Result<Fleet, CommandError> {
    let Some(targets) = &loaded.config.targets else {
        return Err(CommandError::Usage("no [targets] in the config".into()));
    };
    let options = ConnectOptions {
        region: targets.regions.first().cloned(),
        profile: session.globals.profile.clone(),
        endpoint_url: session.globals.endpoint_url.clone(),
        max_attempts: session.globals.max_attempts,
    };
    let base = load_sdk_config(&options, None, &loaded.config.aws).await;
    let home = crate::aws::Clients::from_sdk_config(&base)?;
    let caller = home.account().await?;
    let config = &loaded.config;
    let payer = [
        crate::engine::ComponentId::CostAllocationTags,
        crate::engine::ComponentId::AnomalyDetection,
        crate::engine::ComponentId::CurExport,
    ]
    .iter()
    .any(|id| resources::is_configured(*id, config));
    let resolved = targets::resolve(
        &home,
        &caller,
        targets,
        &session.globals.accounts,
        &session.globals.regions,
        payer,
    )
    .await?;
    if resolved.targets.is_empty() {
        return Err(CommandError::Usage(
            "no target left: every account is excluded, not ACTIVE, or narrowed away by --account"
                .into(),
        ));
    }
    let accounts = resolved
        .targets
        .iter()
        .map(|t| (t.account.clone(), tokio::sync::OnceCell::new()))
        .collect();
    Ok(Fleet {
        base,
        sts: home.sts.clone(),
        accounts,
        caller,
        resolved,
        config: loaded.config.clone(),
    })
}

/// One target's context and steps, ready to run.
struct Prepared {
    cx: Arc<Context>,
    steps: Vec<Arc<dyn Step>>,
}

impl Fleet {
    /// The command's result over every target.
    fn fan_out<T: Serialize + fmt::Display>(
        &self,
        command: &'static str,
        outcomes: Vec<targets::TargetOutcome<(T, ExitStatus)>>,
        interrupted: bool,
        totals: Option<Value>,
    ) -> FanOut {
        FanOut {
            stack: self.config.stack.name.clone(),
            command,
            targets: outcomes
                .into_iter()
                .map(|o| entry(o.target, o.result))
                .collect(),
            skipped: self.resolved.skipped.clone(),
            interrupted,
            totals,
        }
    }

    fn regions_of(&self, account: &str) -> Vec<String> {
        self.resolved
            .targets
            .iter()
            .filter(|t| t.account == account && (t.primary || !t.payer))
            .map(|t| t.region.clone())
            .collect()
    }

    async fn prepare(&self, target: &Target) -> Result<Prepared, String> {
        self.prepare_with(target, Arc::new(QuietProgress)).await
    }

    async fn prepare_with(
        &self,
        target: &Target,
        progress: Arc<dyn Progress>,
    ) -> Result<Prepared, String> {
        let (account_config, account) = self.assumed(&target.account).await?;
        let clients =
            targets::clients_in(&account_config, &target.region).map_err(|e| e.to_string())?;
        let mut regions = self.regions_of(&target.account);
        if regions.is_empty() {
            regions.push(target.region.clone());
        }
        let cx =
            Context::new(self.config.clone(), account, clients, progress).with_regions(regions);
        let steps = resources::steps_for(&self.config)
            .into_iter()
            .filter(|s| target.runs(s.id()))
            .collect();
        Ok(Prepared {
            cx: Arc::new(cx),
            steps,
        })
    }

    /// The account's SDK configuration and identity: its role assumed once (see
    /// [`targets::assume_account`]), shared by its regions.
    async fn assumed(&self, account: &str) -> Result<(aws_types::SdkConfig, Account), String> {
        let (Some(t), Some(cell)) = (&self.config.targets, self.accounts.get(account)) else {
            return Err(format!("account {account} is not a target"));
        };
        cell.get_or_init(|| async {
            targets::assume_account(&self.base, &self.sts, &self.caller, t, account)
                .await
                .map_err(|e| {
                    format!(
                        "could not work in account {account} as role {}: {e}",
                        t.role_name
                    )
                })
        })
        .await
        .clone()
    }

    /// Runs `work` for every one of `targets` ([`targets::run_all`]), with each account's
    /// role assumed ahead of its turn.
    async fn run<T, F, Fut>(
        &self,
        targets: &[Target],
        interrupt: &Interrupt,
        work: F,
    ) -> Vec<targets::TargetOutcome<T>>
    where
        F: Fn(Target) -> Fut + Sync,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let concurrency = self
            .config
            .targets
            .as_ref()
            .map_or_else(|| TargetsConfig::default().concurrency, |t| t.concurrency);
        targets::run_all(
            targets,
            concurrency,
            interrupt,
            |account| async move {
                // A failure is kept in the account's slot and reported by its targets.
                let _ = self.assumed(&account).await;
            },
            work,
        )
        .await
    }
}

fn entry<T: Serialize + fmt::Display>(
    target: Target,
    result: Result<(T, ExitStatus), String>,
) -> TargetEntry {
    match result {
        Ok((value, status)) => TargetEntry {
            target,
            text: value.to_string(),
            result: serde_json::to_value(&value).ok(),
            error: None,
            status,
        },
        Err(error) => TargetEntry {
            target,
            result: None,
            text: String::new(),
            error: Some(error),
            status: ExitStatus::Failure,
        },
    }
}

fn finish(session: &Session, report: FanOut) -> Result<ExitStatus, CommandError> {
    session.printer.result(&report)?;
    Ok(report.exit_status())
}

pub async fn plan(
    session: &Session,
    loaded: &LoadedConfig,
    args: &PlanArgs,
) -> Result<ExitStatus, CommandError> {
    let fleet = fleet(session, loaded).await?;
    let interrupt = Interrupt::default();
    let outcomes = fleet
        .run(&fleet.resolved.targets, &interrupt, |t| {
            let fleet = &fleet;
            async move {
                let p = fleet.prepare(&t).await?;
                let report = plan::compute(&p.cx, &p.steps).await;
                let status = report.exit_status(args.detailed_exitcode);
                Ok((report, status))
            }
        })
        .await;
    finish(session, fleet.fan_out("plan", outcomes, false, None))
}

pub async fn status(
    session: &Session,
    loaded: &LoadedConfig,
    args: &StatusArgs,
) -> Result<ExitStatus, CommandError> {
    let fleet = fleet(session, loaded).await?;
    let interrupt = Interrupt::default();
    let outcomes = fleet
        .run(&fleet.resolved.targets, &interrupt, |t| {
            let fleet = &fleet;
            async move {
                let p = fleet.prepare(&t).await?;
                let report = status::collect(&p.cx, &p.steps, &|_| {}).await;
                let code = report.exit_status(args.detailed_exitcode);
                Ok((report, code))
            }
        })
        .await;
    finish(session, fleet.fan_out("status", outcomes, false, None))
}

/// Plans every target, shows the plans, asks once, then converges every target that has
/// changes. With `--yes` there is nothing to ask: each target plans and converges in one go,
/// so an account's slot frees as soon as it is done and only the targets in flight are held.
/// A foreign logging configuration is replaced only with `--adopt-logging`.
pub async fn apply(
    session: &Session,
    loaded: &LoadedConfig,
    args: &ApplyArgs,
) -> Result<ExitStatus, CommandError> {
    let fleet = fleet(session, loaded).await?;
    let interrupt = Interrupt::default();
    let watcher = watch_interrupt(interrupt.clone());
    // An account's other regions use the logging role its first region creates: their
    // logging steps wait for that step (`WaitsForRole`), their other steps go ahead.
    let role_ready: std::collections::BTreeMap<String, RoleReady> = fleet
        .resolved
        .targets
        .iter()
        .filter(|t| t.primary)
        .map(|t| (t.account.clone(), RoleReady::new()))
        .collect();
    let plan_target = |t: Target| {
        let fleet = &fleet;
        let progress: Arc<dyn Progress> = match role_ready.get(&t.account) {
            Some(signal) if t.primary => Arc::new(signal.clone()),
            _ => Arc::new(QuietProgress),
        };
        let signal = role_ready.get(&t.account).cloned();
        async move {
            let mut p = fleet.prepare_with(&t, progress).await?;
            if let Some(signal) = signal.filter(|_| !t.primary) {
                p.steps = p
                    .steps
                    .into_iter()
                    .map(|step| WaitsForRole::wrap(step, &signal))
                    .collect();
            }
            p.cx.set_adopt_logging(args.adopt_logging);
            let report = plan::compute(&p.cx, &p.steps).await;
            Ok::<_, String>((p, report))
        }
    };
    let show_plan = |t: &Target, report: &plan::PlanReport| {
        if report.has_changes() && !session.printer.quiet {
            eprintln!("== {} ==\n{report}", t.label());
        }
    };
    let outcomes = if args.yes {
        fleet
            .run(&fleet.resolved.targets, &interrupt, |t| {
                let planned = plan_target(t.clone());
                let interrupt = interrupt.clone();
                let signal = role_ready.get(&t.account).cloned();
                async move {
                    let result = match planned.await {
                        Ok((p, report)) => {
                            show_plan(&t, &report);
                            converge(&t, &p, signal.as_ref(), interrupt).await
                        }
                        Err(e) => Err(e),
                    };
                    release_role(&t, signal.as_ref());
                    result
                }
            })
            .await
    } else {
        let planned = fleet
            .run(&fleet.resolved.targets, &interrupt, plan_target)
            .await;
        let changes = planned
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .any(|(_, r)| r.has_changes());
        for o in &planned {
            if let Ok((_, r)) = &o.result {
                show_plan(&o.target, r);
            }
        }
        let prompter = Prompter {
            interactive: is_interactive(session.globals.non_interactive),
        };
        if changes && !prompter.confirm("Apply these changes to every target above?", "--yes")? {
            watcher.abort();
            session.printer.note("Nothing applied.");
            return Ok(ExitStatus::Success);
        }
        let by_label: std::collections::BTreeMap<String, Result<Prepared, String>> = planned
            .into_iter()
            .map(|o| (o.target.label(), o.result.map(|(p, _)| p)))
            .collect();
        fleet
            .run(&fleet.resolved.targets, &interrupt, |t| {
                let prepared = by_label.get(&t.label());
                let interrupt = interrupt.clone();
                let signal = role_ready.get(&t.account).cloned();
                async move {
                    let result = match prepared {
                        Some(Ok(p)) => converge(&t, p, signal.as_ref(), interrupt).await,
                        Some(Err(e)) => Err(e.clone()),
                        None => Err("not planned".to_string()),
                    };
                    release_role(&t, signal.as_ref());
                    result
                }
            })
            .await
    };
    watcher.abort();
    finish(
        session,
        fleet.fan_out("apply", outcomes, interrupt.is_set(), None),
    )
}

/// Once an account's first region is done (or failed), its other regions stop waiting for
/// the logging role.
fn release_role(target: &Target, signal: Option<&RoleReady>) {
    if let Some(signal) = signal.filter(|_| target.primary) {
        signal.set();
    }
}

/// Converges one planned target.
async fn converge(
    target: &Target,
    p: &Prepared,
    role_ready: Option<&RoleReady>,
    interrupt: Interrupt,
) -> Result<(crate::commands::apply::ApplyReport, ExitStatus), String> {
    let reports = execute(
        p.cx.clone(),
        p.steps.clone(),
        Operation::Apply,
        Arc::new(NonInteractive::new(0)),
        interrupt.clone(),
    )
    .await;
    release_role(target, role_ready);
    let ok = reports.iter().all(|r| r.outcome.is_success());
    let report = crate::commands::apply::ApplyReport {
        stack: p.cx.config.stack.name.clone(),
        account: p.cx.account.id.clone(),
        region: p.cx.region.clone(),
        resources: reports
            .into_iter()
            .map(|mut r| {
                r.ids = p.cx.ids(r.id);
                r
            })
            .collect(),
        interrupted: interrupt.is_set(),
        notes: p.cx.take_notices(),
    };
    let status = if ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    };
    Ok((report, status))
}

/// Finds what each target would delete, asks once, then deletes it everywhere (with `--yes`,
/// each target finds and deletes in one go).
pub async fn cleanup(
    session: &Session,
    loaded: &LoadedConfig,
    args: &CleanupArgs,
) -> Result<ExitStatus, CommandError> {
    let fleet = fleet(session, loaded).await?;
    let interrupt = Interrupt::default();
    let watcher = watch_interrupt(interrupt.clone());
    let classify = |t: Target| {
        let fleet = &fleet;
        async move {
            let p = fleet.prepare(&t).await?;
            p.cx.purge_data
                .store(args.purge_data, std::sync::atomic::Ordering::SeqCst);
            let (entries, doomed) =
                cleanup::classify(&p.cx, &p.steps, &args.keep, args.purge_data).await;
            Ok::<_, String>(Classified { p, entries, doomed })
        }
    };
    let outcomes = if args.yes {
        fleet
            .run(&fleet.resolved.targets, &interrupt, |t| {
                let classified = classify(t);
                let interrupt = interrupt.clone();
                async move { delete_doomed(&classified.await?, interrupt).await }
            })
            .await
    } else {
        let classified = fleet
            .run(&fleet.resolved.targets, &interrupt, classify)
            .await;
        let total: usize = classified
            .iter()
            .filter_map(|o| o.result.as_ref().ok())
            .map(|c| c.doomed.len())
            .sum();
        if total > 0 {
            let prompter = Prompter {
                interactive: is_interactive(session.globals.non_interactive),
            };
            if !session.printer.quiet {
                for o in &classified {
                    if let Ok(c) = &o.result {
                        for s in &c.doomed {
                            eprintln!(
                                "  - {} {:<10} {}",
                                o.target.label(),
                                s.id().as_str(),
                                s.name(&c.p.cx)
                            );
                        }
                    }
                }
            }
            if !prompter.confirm(
                &format!("Delete these {total} components across targets?"),
                "--yes",
            )? {
                watcher.abort();
                session.printer.note("Nothing deleted.");
                return Ok(ExitStatus::Success);
            }
        }
        let by_label: std::collections::BTreeMap<String, _> = classified
            .into_iter()
            .map(|o| (o.target.label(), o.result))
            .collect();
        fleet
            .run(&fleet.resolved.targets, &interrupt, |t| {
                let classified = by_label.get(&t.label());
                let interrupt = interrupt.clone();
                async move {
                    match classified {
                        Some(Ok(c)) => delete_doomed(c, interrupt).await,
                        Some(Err(e)) => Err(e.clone()),
                        None => Err("not read".to_string()),
                    }
                }
            })
            .await
    };
    watcher.abort();
    finish(
        session,
        fleet.fan_out("cleanup", outcomes, interrupt.is_set(), None),
    )
}

/// One target's components, sorted into kept and to be deleted.
struct Classified {
    p: Prepared,
    entries: Vec<cleanup::CleanupEntry>,
    doomed: Vec<Arc<dyn Step>>,
}

/// Deletes what [`Classified`] says is the stack's, and reports every component.
async fn delete_doomed(
    c: &Classified,
    interrupt: Interrupt,
) -> Result<(cleanup::CleanupReport, ExitStatus), String> {
    let p = &c.p;
    let mut entries = c.entries.clone();
    if !c.doomed.is_empty() {
        let outcomes = execute(
            p.cx.clone(),
            c.doomed.clone(),
            Operation::Delete,
            Arc::new(NonInteractive::new(0)),
            interrupt.clone(),
        )
        .await;
        for o in outcomes {
            entries.push(cleanup::CleanupEntry {
                id: o.id,
                name: o.name,
                action: o.outcome.as_str().into(),
                reason: o.reason,
                error: o.error,
            });
        }
    }
    entries.sort_by_key(|e| p.steps.iter().position(|s| s.id() == e.id));
    let report = cleanup::CleanupReport {
        stack: p.cx.config.stack.name.clone(),
        account: p.cx.account.id.clone(),
        region: p.cx.region.clone(),
        resources: entries,
        interrupted: interrupt.is_set(),
        notes: p.cx.take_notices(),
    };
    let status = if report.failed() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    };
    Ok((report, status))
}

/// Usage per target (each target's own report), and grand totals across targets.
pub async fn report(
    session: &Session,
    loaded: &LoadedConfig,
    window: &Window,
    options: &ReportOptions,
    _args: &ReportArgs,
) -> Result<ExitStatus, CommandError> {
    let fleet = fleet(session, loaded).await?;
    let interrupt = Interrupt::default();
    // Usage is regional, not account-wide: every target reports, the payer-only one excepted.
    let report_targets: Vec<Target> = fleet
        .resolved
        .targets
        .iter()
        .filter(|t| t.primary || !t.payer)
        .cloned()
        .collect();
    let outcomes = fleet
        .run(&report_targets, &interrupt, |t| {
            let fleet = &fleet;
            async move {
                let p = fleet.prepare(&t).await?;
                build_report(&p.cx.aws, &fleet.config, window, options)
                    .await
                    .map(|r| (r, ExitStatus::Success))
                    .map_err(|e| e.to_string())
            }
        })
        .await;
    let mut invocations = 0u64;
    let mut input = 0u64;
    let mut output = 0u64;
    let mut cost = 0.0f64;
    let mut csv_rows = Vec::new();
    for o in &outcomes {
        if let Ok((r, _)) = &o.result {
            invocations += r.totals.invocations;
            input += r.totals.input_tokens;
            output += r.totals.output_tokens;
            cost += r.totals.cost_usd;
            if session.printer.format == OutputFormat::Csv {
                let csv = r
                    .to_csv()
                    .map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
                for (i, line) in csv.lines().enumerate() {
                    if i == 0 {
                        if csv_rows.is_empty() {
                            csv_rows.push(format!("account,region,{line}"));
                        }
                    } else {
                        csv_rows.push(format!("{},{},{line}", o.target.account, o.target.region));
                    }
                }
            }
        }
    }
    let totals = serde_json::json!({
        "invocations": invocations,
        "input_tokens": input,
        "output_tokens": output,
        "cost_usd": crate::report::round_cost(cost),
    });
    let fan = fleet.fan_out("report", outcomes, false, Some(totals));
    if session.printer.format == OutputFormat::Csv {
        for line in csv_rows {
            println!("{line}");
        }
        return Ok(fan.exit_status());
    }
    finish(session, fan)
}

/// Set once an account's logging role step has finished (or its first region is done):
/// that account's other regions wait for it.
#[derive(Clone)]
struct RoleReady {
    sender: Arc<tokio::sync::watch::Sender<bool>>,
}

impl RoleReady {
    fn new() -> RoleReady {
        RoleReady {
            sender: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    fn set(&self) {
        self.sender.send_replace(true);
    }

    /// Waits for the role, at most ten minutes (then the region goes on and its logging step
    /// retries while IAM has no role).
    async fn wait(&self) {
        let mut receiver = self.sender.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(600),
            receiver.wait_for(|ready| *ready),
        )
        .await;
    }
}

/// A step of an account's other region that uses the logging role (the logging step): the
/// role is created by the account's first region, so converging waits for it there, while
/// the region's other steps go ahead.
struct WaitsForRole {
    step: Arc<dyn Step>,
    ready: RoleReady,
}

impl WaitsForRole {
    fn wrap(step: Arc<dyn Step>, ready: &RoleReady) -> Arc<dyn Step> {
        if step.depends_on().contains(&ComponentId::Role) {
            Arc::new(WaitsForRole {
                step,
                ready: ready.clone(),
            })
        } else {
            step
        }
    }
}

#[async_trait::async_trait]
impl Step for WaitsForRole {
    fn id(&self) -> ComponentId {
        self.step.id()
    }
    fn name(&self, cx: &Context) -> String {
        self.step.name(cx)
    }
    fn depends_on(&self) -> &'static [ComponentId] {
        self.step.depends_on()
    }
    async fn refresh(&self, cx: &Context) -> Result<(), crate::aws::AwsError> {
        self.step.refresh(cx).await
    }
    fn plan(&self, cx: &Context) -> Option<crate::engine::Diff> {
        self.step.plan(cx)
    }
    async fn apply(&self, cx: &Context) -> Result<crate::engine::Diff, crate::aws::AwsError> {
        self.ready.wait().await;
        self.step.apply(cx).await
    }
    fn ownership(&self, cx: &Context) -> Option<crate::engine::Ownership> {
        self.step.ownership(cx)
    }
    async fn delete(&self, cx: &Context) -> Result<(), crate::aws::AwsError> {
        self.step.delete(cx).await
    }
    fn health(&self, cx: &Context) -> Vec<crate::engine::Health> {
        self.step.health(cx)
    }
    fn permissions(&self, cx: &Context) -> Vec<crate::engine::Permission> {
        self.step.permissions(cx)
    }
}

impl Progress for RoleReady {
    fn step_started(&self, _: ComponentId, _: &str) {}
    fn step_note(&self, _: ComponentId, _: &str) {}
    fn step_finished(&self, id: ComponentId, _: &str, _: bool) {
        if id == ComponentId::Role {
            self.set();
        }
    }
}

/// Ctrl-C: stop starting targets (and steps); calls in flight finish.
fn watch_interrupt(interrupt: Interrupt) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupt.trigger();
        }
    })
}
