//! `report`: usage and estimated cost per model from CloudWatch metrics. Needs only
//! `cloudwatch:ListMetrics` and `cloudwatch:GetMetricData` (plus `logs:StartQuery` and
//! `logs:GetQueryResults` with `--by-principal`); works with no stack applied.

use std::borrow::Cow;
use std::path::Path;

use clap::ValueEnum;

use crate::cli::{OutputFormat, ReportArgs, ReportSource};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::cost::prices;
use crate::engine::Interrupt;
use crate::report::{Report, ReportOptions, Window, build_report, cur, html};
use crate::targets::{Needs, Summary, Target};

pub async fn run(session: &Session, args: &ReportArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    // The window is input: check it before any AWS call.
    let window = Window::from_flags(
        args.hours,
        args.start.as_deref(),
        args.end.as_deref(),
        chrono::Utc::now(),
    )
    .map_err(|e| CommandError::Usage(e.to_string()))?;
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        return Err(CommandError::Usage(format!(
            "--tolerance {}: give a percentage of 0 or more",
            args.tolerance
        )));
    }
    if let Some(key) = &args.by_tag
        && (key.trim().is_empty() || key.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(CommandError::Usage(format!(
            "--by-tag {key:?}: give a user cost-allocation tag key (not empty, not \"aws:\")"
        )));
    }
    let format = session.printer.format;
    if let Some(out) = &args.out {
        check_out(out, format)?;
    }
    if args.source == ReportSource::Cur {
        if args.by_principal || args.by_tag.is_some() {
            return Err(CommandError::Usage(
                "with --source cur, group with --by principal or --by tag:KEY (--by-principal \
                 and --by-tag read the invocation logs and Cost Explorer)"
                    .into(),
            ));
        }
        let (status, bytes) = cur(session, args, &loaded, window).await?;
        if let Some(bytes) = bytes {
            deliver(session, args.out.as_deref(), &bytes)?;
        }
        return Ok(status);
    }
    if format == OutputFormat::Focus {
        return Err(CommandError::Usage(
            "--output focus writes the bill's lines as FOCUS rows: use it with --source cur".into(),
        ));
    }
    if args.cur.is_some() || args.cur_owner.is_some() {
        return Err(CommandError::Usage(
            "--cur and --cur-owner name the CUR 2.0 export --source cur reads: add --source cur"
                .into(),
        ));
    }
    if args.allocate.is_some() {
        return Err(CommandError::Usage(
            "--allocate goes with --source cur (it splits the bill); for usage by a \
             request-metadata key from the logs, use --source logs --by meta:KEY"
                .into(),
        ));
    }
    let by_meta = logs_meta_key(args)?;
    if (by_meta.is_none() && !args.by.is_empty()) || args.engine.is_some() {
        return Err(CommandError::Usage(
            "--by and --engine go with --source cur (the CUR 2.0 export); with --source logs, \
             --by takes one meta:KEY"
                .into(),
        ));
    }
    let billing = args.source == ReportSource::Billing || args.compare || args.by_tag.is_some();
    let options = ReportOptions {
        metrics: args.source == ReportSource::Metrics && args.by_tag.is_none(),
        by_tag: args.by_tag.clone(),
        by_meta,
        billing,
        compare_tolerance_percent: args.compare.then_some(args.tolerance),
        logs: args.source == ReportSource::Logs || args.compare,
        // The page's daily chart needs the day rows; they cost no extra call.
        daily: args.daily || format == OutputFormat::Html,
        ..ReportOptions::from_config(&loaded.config, args.by_principal)
    };
    let fleet = session.fleet(&loaded, Needs::ClientsOnly).await?;
    let outcomes = fleet
        .run(&fleet.usage_targets(), &Interrupt::default(), |target| {
            let (fleet, window, options) = (&fleet, &window, &options);
            async move {
                let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                let report = build_report(&clients, fleet.config(), window, options).await?;
                Ok::<_, CommandError>((report, ExitStatus::Success))
            }
        })
        .await?;
    let summary = Summary::new(&fleet, "report", outcomes, false);
    let status = summary.exit_status();
    // On stderr whatever the format: the JSON says it too (`prices.stale`).
    let used = prices::PricesUsed::of(prices::active(), chrono::Utc::now().date_naive());
    if options.metrics
        && let Some(warning) = used.warning()
    {
        session.printer.warn(warning);
    }
    let text = if format == OutputFormat::Csv {
        if args.by_principal {
            session
                .printer
                .note("the per-principal breakdown is in the text, json and html outputs");
        }
        csv(&summary, args, billing)?
    } else {
        let summary = if fleet.is_single() {
            summary
        } else {
            let totals = totals(&summary);
            summary.with_totals(totals)
        };
        if format == OutputFormat::Html {
            // The page shows exactly what `--output json` prints.
            let doc = serde_json::to_value(&summary).map_err(std::io::Error::other)?;
            let page = html::Page {
                stack: &fleet.config().stack.name,
                generated_at: chrono::Utc::now(),
            };
            html::render(&doc, &page).map_err(std::io::Error::other)?
        } else {
            session.printer.render(&summary)?
        }
    };
    deliver(session, args.out.as_deref(), text.as_bytes())?;
    Ok(status)
}

/// `--by meta:KEY` with `--source logs`: the key, checked; `None` without `--by`.
fn logs_meta_key(args: &ReportArgs) -> Result<Option<String>, CommandError> {
    let [only] = args.by.as_slice() else {
        return match args.by.as_slice() {
            [] => Ok(None),
            _ => Err(CommandError::Usage(
                "--by: with --source logs give one meta:KEY".into(),
            )),
        };
    };
    match crate::report::meta::parse_key("--by", only) {
        None => Ok(None),
        Some(_) if args.source != ReportSource::Logs => Err(CommandError::Usage(format!(
            "--by {only}: request metadata is in the invocation logs: use --source logs \
             (or --source cur --allocate {only} to split the bill by it)"
        ))),
        Some(parsed) => parsed.map(Some).map_err(CommandError::Usage),
    }
}

/// The rendered report to `--out` (whole or not at all: an existing file is replaced only
/// once the new one is complete) or to stdout.
fn deliver(session: &Session, out: Option<&Path>, bytes: &[u8]) -> Result<(), CommandError> {
    match out {
        Some(path) => {
            crate::ui::files::replace_private(path, bytes).map_err(|e| {
                CommandError::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot write the report to {}: {e}", path.display()),
                ))
            })?;
            session
                .printer
                .note(format!("report written to {}", path.display()));
        }
        None => session.printer.output(bytes)?,
    }
    Ok(())
}

/// Whether `--out` names a Parquet file (`.parquet`, any case): with `--output focus`, the
/// FOCUS rows are written as Parquet; any other name gets CSV.
fn is_parquet(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// `--out` is input: a file in a directory that exists, checked before any AWS call (the
/// write itself can still fail, on permissions or a full disk, and says so). A `.parquet`
/// name is only for the FOCUS rows: no other output is Parquet, and text or JSON in a file
/// named so would fool whatever reads it.
fn check_out(path: &Path, format: OutputFormat) -> Result<(), CommandError> {
    if is_parquet(path) && format != OutputFormat::Focus {
        return Err(CommandError::Usage(format!(
            "--out {}: only the FOCUS rows are written as Parquet (--source cur --output \
             focus); for --output {}, give a file name that does not end in .parquet",
            path.display(),
            format
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        )));
    }
    if path.is_dir() {
        return Err(CommandError::Usage(format!(
            "--out {}: is a directory; give a file name",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(CommandError::Usage(format!(
            "--out {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// `--source cur`: the CUR 2.0 export of the payer account (the export is one per
/// organization, so one target reads it however many the fleet has). The rendered result,
/// or `None` when the target failed with CSV or FOCUS output (then the failure is on stderr
/// and no file is written).
async fn cur(
    session: &Session,
    args: &ReportArgs,
    loaded: &crate::config::LoadedConfig,
    window: crate::report::Window,
) -> Result<(ExitStatus, Option<Vec<u8>>), CommandError> {
    let mut request = cur::Request::reading(
        &loaded.config,
        window,
        &args.by,
        args.daily,
        args.engine.as_deref(),
        args.cur.as_deref(),
    )
    .and_then(|r| r.owned_by(args.cur_owner.as_deref()))
    .and_then(|r| r.allocate(args.allocate.as_deref()))
    .and_then(|r| r.focus(session.printer.format == OutputFormat::Focus))
    .map_err(CommandError::Usage)?;
    request.progress = session
        .printer
        .activity("reading the CUR export", "objects");
    let fleet = session.fleet(loaded, Needs::ClientsOnly).await?;
    let payer: Vec<Target> = fleet
        .targets()
        .iter()
        .filter(|t| t.payer)
        .take(1)
        .cloned()
        .collect();
    let targets = if payer.is_empty() {
        fleet.targets().iter().take(1).cloned().collect()
    } else {
        payer
    };
    let outcomes = fleet
        .run(&targets, &Interrupt::default(), |target| {
            let (fleet, request) = (&fleet, &request);
            async move {
                let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                let report = cur::fetch(&clients, fleet.config(), request).await?;
                Ok::<_, CommandError>((report, ExitStatus::Success))
            }
        })
        .await?;
    let summary = Summary::new(&fleet, "report", outcomes, false);
    let status = summary.exit_status();
    let format = session.printer.format;
    let table = matches!(format, OutputFormat::Csv | OutputFormat::Focus);
    if table && summary.results().next().is_none() {
        // A table of nothing would hide the failure; the summary says which target and why.
        session.printer.error(&summary);
        return Ok((status, None));
    }
    let io =
        |e: Box<dyn std::error::Error + Send + Sync>| CommandError::Io(std::io::Error::other(e));
    let bytes = match format {
        OutputFormat::Csv => {
            let mut text = String::new();
            for (_, report) in summary.results() {
                text.push_str(&report.to_csv().map_err(|e| io(e.into()))?);
            }
            text.into_bytes()
        }
        OutputFormat::Focus => {
            let rows = focus_rows(&summary);
            if args.out.as_deref().is_some_and(is_parquet) {
                rows.to_parquet().map_err(|e| io(e.into()))?
            } else {
                rows.to_csv().map_err(|e| io(e.into()))?.into_bytes()
            }
        }
        OutputFormat::Html => {
            // The page shows exactly what `--output json` prints.
            let doc = serde_json::to_value(&summary).map_err(std::io::Error::other)?;
            let page = html::Page {
                stack: &fleet.config().stack.name,
                generated_at: chrono::Utc::now(),
            };
            html::render(&doc, &page)
                .map_err(std::io::Error::other)?
                .into_bytes()
        }
        OutputFormat::Text | OutputFormat::Json => session.printer.render(&summary)?.into_bytes(),
    };
    Ok((status, Some(bytes)))
}

/// The FOCUS rows of every target that read the export (one in practice: the payer's).
fn focus_rows(summary: &Summary<cur::CurReport>) -> Cow<'_, cur::focus::FocusRows> {
    let mut all = summary.results().filter_map(|(_, r)| r.focus.as_ref());
    let Some(first) = all.next() else {
        return Cow::Owned(cur::focus::FocusRows::default());
    };
    let mut rows = Cow::Borrowed(first);
    for more in all {
        rows.to_mut().merge(more.clone());
    }
    rows
}

/// The CSV that fits the options; over many targets, one table with the target's account and
/// region first.
fn csv(
    summary: &Summary<Report>,
    args: &ReportArgs,
    billing: bool,
) -> Result<String, CommandError> {
    let one = |report: &Report| {
        if let Some(meta) = &report.by_meta {
            meta.to_csv()
        } else if args.by_tag.is_some() {
            report.by_tag_to_csv()
        } else if args.daily {
            report.daily_to_csv()
        } else if billing && !args.compare {
            report.billing_to_csv()
        } else {
            report.to_csv()
        }
        .map_err(|e| CommandError::Io(std::io::Error::other(e)))
    };
    let results: Vec<(&Target, &Report)> = summary.results().collect();
    if let [(_, only)] = results.as_slice()
        && summary.is_single()
    {
        return one(only);
    }
    let mut out = String::new();
    for (target, report) in results {
        for (i, line) in one(report)?.lines().enumerate() {
            match i {
                0 if out.is_empty() => out.push_str(&format!("account,region,{line}\n")),
                0 => {}
                _ => out.push_str(&format!("{},{},{line}\n", target.account, target.region)),
            }
        }
    }
    Ok(out)
}

/// Usage and estimated cost summed over every target's report.
fn totals(summary: &Summary<Report>) -> serde_json::Value {
    let (mut invocations, mut input, mut output, mut cost) = (0u64, 0u64, 0u64, 0.0f64);
    for (_, r) in summary.results() {
        invocations += r.totals.invocations;
        input += r.totals.input_tokens;
        output += r.totals.output_tokens;
        cost += r.totals.cost_usd;
    }
    serde_json::json!({
        "invocations": invocations,
        "input_tokens": input,
        "output_tokens": output,
        "cost_usd": crate::report::round_cost(cost),
    })
}
