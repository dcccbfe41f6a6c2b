//! `report`: usage and estimated cost per model from CloudWatch metrics. Needs only
//! `cloudwatch:ListMetrics` and `cloudwatch:GetMetricData` (plus `logs:StartQuery` and
//! `logs:GetQueryResults` with `--by-principal`); works with no stack applied.

use crate::cli::{OutputFormat, ReportArgs, ReportSource};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::report::{ReportOptions, Window, build_report};

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
    let billing = args.source == ReportSource::Billing || args.compare || args.by_tag.is_some();
    let options = ReportOptions {
        metrics: args.source == ReportSource::Metrics && args.by_tag.is_none(),
        by_tag: args.by_tag.clone(),
        billing,
        compare_tolerance_percent: args.compare.then_some(args.tolerance),
        logs: args.source == ReportSource::Logs || args.compare,
        daily: args.daily,
        ..ReportOptions::from_config(&loaded.config, args.by_principal)
    };
    if loaded.config.targets.is_some() {
        return crate::commands::fanout::report(session, &loaded, &window, &options, args).await;
    }
    let clients = session.clients(&loaded).await?;
    let report = build_report(&clients, &loaded.config, &window, &options).await?;
    match session.printer.format {
        OutputFormat::Csv => {
            let csv = if args.by_tag.is_some() {
                report.by_tag_to_csv()
            } else if args.daily {
                report.daily_to_csv()
            } else if billing && !args.compare {
                report.billing_to_csv()
            } else {
                report.to_csv()
            }
            .map_err(|e| CommandError::Io(std::io::Error::other(e)))?;
            print!("{csv}");
            if args.by_principal {
                session
                    .printer
                    .note("the per-principal breakdown is in the text and json outputs");
            }
        }
        _ => session.printer.result(&report)?,
    }
    Ok(ExitStatus::Success)
}
