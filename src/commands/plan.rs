//! `plan`: read the account and show, per component, create / update (which fields) /
//! unchanged, or "exists, not managed" where a resource of a configured name is not this
//! stack's (`--adopt` shows what adopting it would change). Read-only.

use crate::cli::PlanArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::plan::{self, PlanReport};
use crate::targets::Needs;

/// 1 when a component could not be read; with `--detailed-exitcode`, 2 for changes.
pub fn exit_status(report: &PlanReport, detailed: bool) -> ExitStatus {
    if report.errors().next().is_some() {
        ExitStatus::Failure
    } else if detailed && report.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

pub async fn run(session: &Session, args: &PlanArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config_with_runner(&args.runner, true)?;
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    session
        .read_each_target(&fleet, "plan", |p| async move {
            for id in crate::cli::adopted(&args.adopt) {
                p.cx.allow_adoption(id);
            }
            let report = plan::compute(&p.cx, &p.steps).await;
            let status = exit_status(&report, args.detailed_exitcode);
            (report, status)
        })
        .await
}
