//! `limits`: where every `[[limits]]` subject stands this period (spend, limit, share, state),
//! across `[targets]` like `report`; `limits run --once`: one enforcement pass
//! (`crate::limits::run_once`, what the runner calls); `limits unblock PRINCIPAL`: lifts a
//! block by hand for the rest of its period (asks first, or `--yes`).

use std::fmt;

use serde::Serialize;

use crate::cli::{LimitsArgs, LimitsCommand, LimitsUnblockArgs, OutputFormat};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::{Interrupt, QuietProgress};
use crate::limits::{self, PassOutcome, Row};
use crate::targets::{Needs, Summary};
use crate::ui::csv::Writer;
use crate::ui::is_interactive;
use crate::ui::prompt::Prompter;

/// `limits`: the rows of one target.
#[derive(Debug, Serialize)]
pub struct LimitsReport {
    pub rows: Vec<Row>,
}

const CSV_COLUMNS: [&str; 10] = [
    "limit",
    "subject",
    "period",
    "spend_usd",
    "limit_usd",
    "share_percent",
    "invocations",
    "state",
    "since",
    "action",
];

impl LimitsReport {
    fn to_csv(&self) -> Result<String, csv::Error> {
        let mut w = Writer::new();
        w.write_record(CSV_COLUMNS)?;
        for r in &self.rows {
            w.write_record([
                r.limit.clone(),
                r.subject.clone(),
                r.period.clone(),
                format!("{:.2}", r.spend_usd),
                format!("{:.2}", r.limit_usd),
                format!("{:.1}", r.share_percent),
                r.invocations.to_string(),
                r.state.clone(),
                r.since.map(|s| s.to_rfc3339()).unwrap_or_default(),
                r.action.clone(),
            ])?;
        }
        w.into_string()
    }
}

fn write_rows(f: &mut fmt::Formatter<'_>, rows: &[Row]) -> fmt::Result {
    if rows.is_empty() {
        return writeln!(f, "No spend against any limit this period.");
    }
    for r in rows {
        write!(
            f,
            "{:<20} {:<60} ${:>9.2} of ${:>9.2} {:>6.1}%  {}",
            r.limit, r.subject, r.spend_usd, r.limit_usd, r.share_percent, r.state
        )?;
        if let Some(since) = r.since {
            write!(f, " since {}", since.format("%Y-%m-%d %H:%M UTC"))?;
        }
        if r.unpriced_records > 0 {
            write!(f, " ({} records unpriced)", r.unpriced_records)?;
        }
        writeln!(f)?;
    }
    Ok(())
}

impl fmt::Display for LimitsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rows(f, &self.rows)
    }
}

impl fmt::Display for PassOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Pass over s3://{}: {} new log objects, {} records counted{}.",
            self.bucket,
            self.objects_read,
            self.records_counted,
            if self.conflicts > 0 {
                format!(
                    " (started over {} times: another pass wrote first)",
                    self.conflicts
                )
            } else {
                String::new()
            }
        )?;
        if let Some(d) = &self.delivery_delay {
            writeln!(
                f,
                "  log delivery delay (call to object): median {} s, 95th percentile {} s, max {} s over {} records",
                d.median_seconds, d.p95_seconds, d.max_seconds, d.records
            )?;
        }
        for c in &self.iam_changes {
            writeln!(f, "  {} {}", c.operation, c.principal)?;
        }
        for n in &self.notices {
            writeln!(f, "  notified: {n}")?;
        }
        for l in &self.released {
            writeln!(f, "  unblocked under limit {l}")?;
        }
        write_rows(f, &self.rows)
    }
}

pub async fn run(session: &Session, args: &LimitsArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    if loaded.config.limits.is_empty() {
        return Err(CommandError::Usage(
            "the config has no [[limits]]: add one (docs/configuration.md#limits)".into(),
        ));
    }
    if let Some(LimitsCommand::Unblock(unblock_args)) = &args.command {
        return unblock(session, &loaded, unblock_args).await;
    }
    let run_pass = matches!(args.command, Some(LimitsCommand::Run(_)));
    if run_pass && session.printer.format == OutputFormat::Csv {
        return Err(CommandError::Usage(
            "--output csv is for `limits` itself; use text or json with `limits run`".into(),
        ));
    }
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    let now = chrono::Utc::now();
    let config = &loaded.config;
    if run_pass {
        let outcomes = fleet
            .run(&fleet.usage_targets(), &Interrupt::default(), |target| {
                let fleet = &fleet;
                async move {
                    let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                    let partition = crate::aws::partition_of(&target.region);
                    let outcome =
                        limits::run_pass(&clients, config, &target.account, partition, now, None)
                            .await?;
                    Ok::<_, CommandError>((outcome, ExitStatus::Success))
                }
            })
            .await?;
        let summary = Summary::new(&fleet, "limits run", outcomes, false);
        session.printer.result(&summary)?;
        return Ok(summary.exit_status());
    }
    let outcomes = fleet
        .run(&fleet.usage_targets(), &Interrupt::default(), |target| {
            let fleet = &fleet;
            async move {
                let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                let partition = crate::aws::partition_of(&target.region);
                let rows =
                    limits::standings(&clients, config, &target.account, partition, now).await?;
                Ok::<_, CommandError>((LimitsReport { rows }, ExitStatus::Success))
            }
        })
        .await?;
    let summary = Summary::new(&fleet, "limits", outcomes, false);
    let status = summary.exit_status();
    session.show_result_or_csv(&summary, |report| report.to_csv())?;
    Ok(status)
}

async fn unblock(
    session: &Session,
    loaded: &crate::config::LoadedConfig,
    args: &LimitsUnblockArgs,
) -> Result<ExitStatus, CommandError> {
    let prompter = Prompter {
        interactive: is_interactive(session.globals.non_interactive),
    };
    let question = format!(
        "Give Bedrock inference back to {} for the rest of its limit's period?",
        args.principal
    );
    // Asked before any AWS call: without a terminal and without --yes nothing is touched.
    if !args.yes && !prompter.confirm(&question, "--yes")? {
        session.printer.note("Nothing done.");
        return Ok(ExitStatus::Success);
    }
    let cx = session
        .connect(loaded, std::sync::Arc::new(QuietProgress))
        .await?;
    let outcome = limits::run_pass(
        &cx.aws,
        &loaded.config,
        &cx.account.id,
        cx.partition(),
        chrono::Utc::now(),
        Some(&args.principal),
    )
    .await?;
    session.printer.result(&outcome)?;
    Ok(ExitStatus::Success)
}
