//! `quotas`: each model's applied Bedrock quotas beside its per-minute use (peak, p99, the
//! busiest minute) over the last `--days`, across `[targets]` like `report`; and `quotas
//! request`, which prints what AWS support asks for with an increase and, once confirmed,
//! requests it. Reads need `servicequotas:ListServiceQuotas`,
//! `servicequotas:ListRequestedServiceQuotaChangeHistory`, `bedrock:ListFoundationModels`,
//! `cloudwatch:ListMetrics` and `cloudwatch:GetMetricData`; a request adds
//! `servicequotas:RequestServiceQuotaIncrease`.

use std::fmt;

use serde::Serialize;

use crate::aws::AwsResultExt;
use crate::cli::{QuotaKindArg, QuotaRequestArgs, QuotasArgs, QuotasCommand};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::engine::{Interrupt, QuietProgress};
use crate::quotas::{self, Kind, Scope};
use crate::report::quotas::{self as headroom, QuotaReport, QuotaRow, Request};
use crate::targets::{Needs, Summary};
use crate::ui::is_interactive;
use crate::ui::prompt::Prompter;

pub async fn run(session: &Session, args: &QuotasArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    // Input first: nothing below reaches AWS with a window CloudWatch cannot serve.
    let window = headroom::window(args.days, chrono::Utc::now()).map_err(CommandError::Usage)?;
    let request = Request {
        window,
        days: args.days,
        models: loaded
            .config
            .quotas
            .as_ref()
            .map(|q| q.models.clone())
            .unwrap_or_default(),
        alarm_percent: loaded.config.quotas.as_ref().map(|q| q.alarm_percent),
    };
    if let Some(QuotasCommand::Request(request_args)) = &args.command {
        return increase(session, &loaded, request_args, request).await;
    }
    let fleet = session.fleet(&loaded, Needs::ClientsOnly).await?;
    let outcomes = fleet
        .run(&fleet.usage_targets(), &Interrupt::default(), |target| {
            let (fleet, request) = (&fleet, &request);
            async move {
                let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                let report = headroom::read(&clients, request).await?;
                Ok::<_, CommandError>((report, ExitStatus::Success))
            }
        })
        .await?;
    let summary = Summary::new(&fleet, "quotas", outcomes, false);
    let status = summary.exit_status();
    session.show_result_or_csv(&summary, |report| report.to_csv())?;
    Ok(status)
}

fn kind_of(arg: QuotaKindArg) -> Kind {
    match arg {
        QuotaKindArg::TokensPerMinute => Kind::TokensPerMinute,
        QuotaKindArg::RequestsPerMinute => Kind::RequestsPerMinute,
        QuotaKindArg::TokensPerDay => Kind::TokensPerDay,
    }
}

/// How many of the busiest minutes (days) the request lists.
const BUSIEST_LISTED: usize = 5;

/// What AWS support asks for with a Bedrock quota increase (the Bedrock user guide's
/// "Request an increase for Amazon Bedrock quotas", and AWS's published request template:
/// model, Region, cross-Region profile, steady state (p50) and peak (p90) use), and the
/// request once made.
#[derive(Debug, Serialize)]
pub struct IncreaseRequest {
    pub model_id: String,
    pub scope: Scope,
    pub region: String,
    pub account: String,
    pub kind: Kind,
    pub quota_code: String,
    pub quota_name: String,
    pub current_quota: f64,
    pub desired_value: f64,
    pub days: u32,
    /// The use of this kind (tokens or requests per minute, tokens per day), and of the other
    /// per-minute kind beside it.
    pub usage: Vec<QuotaRow>,
    /// The busiest minutes (days) of this kind: (start, use).
    pub busiest: Vec<(String, f64)>,
    /// Set once the request is made.
    pub request_id: Option<String>,
    pub status: Option<String>,
    pub case_id: Option<String>,
}

impl fmt::Display for IncreaseRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Quota increase for {} ({}) in {} (account {})",
            self.model_id,
            self.scope.as_str().replace('_', "-"),
            self.region,
            self.account
        )?;
        writeln!(f, "  quota:    {} {}", self.quota_code, self.quota_name)?;
        writeln!(
            f,
            "  current:  {}\n  desired:  {}",
            self.current_quota, self.desired_value
        )?;
        for row in &self.usage {
            writeln!(
                f,
                "  {} over {} days: steady (p50) {}, p90 {}, p99 {}, peak {}{}",
                row.kind.abbreviation(),
                self.days,
                row.p50,
                row.p90,
                row.p99,
                row.peak,
                row.busiest
                    .as_deref()
                    .map(|b| format!(" at {b}"))
                    .unwrap_or_default()
            )?;
        }
        if !self.busiest.is_empty() {
            writeln!(f, "  busiest:")?;
            for (when, value) in &self.busiest {
                writeln!(f, "    {when}  {value}")?;
            }
        }
        match &self.request_id {
            Some(id) => writeln!(
                f,
                "Requested: {id} ({}{}). `bedrock-monitor quotas` lists it while it is open.",
                self.status.as_deref().unwrap_or("?"),
                self.case_id
                    .as_deref()
                    .map(|c| format!(", support case {c}"))
                    .unwrap_or_default()
            ),
            None => Ok(()),
        }
    }
}

async fn increase(
    session: &Session,
    loaded: &crate::config::LoadedConfig,
    args: &QuotaRequestArgs,
    mut request: Request,
) -> Result<ExitStatus, CommandError> {
    let kind = kind_of(args.kind);
    if !(args.value.is_finite() && args.value > 0.0) {
        return Err(CommandError::Usage(format!(
            "--value {}: give the quota wanted, a number above 0 (and above the current quota)",
            args.value
        )));
    }
    if !crate::config::attribution::model_id_ok(&args.model) {
        return Err(CommandError::Usage(format!(
            "--model {:?}: not a model ID; give one as CloudWatch's ModelId shows it, e.g. \
             us.anthropic.claude-haiku-4-5-20251001-v1:0",
            args.model
        )));
    }
    request.models = vec![args.model.clone()];
    let cx = session
        .connect(loaded, std::sync::Arc::new(QuietProgress))
        .await?;
    let read = headroom::read_all(&cx.aws, &request).await?;
    let report: &QuotaReport = &read.report;
    if !read.book.offers(&args.model) {
        return Err(CommandError::Usage(format!(
            "--model {:?}: Bedrock lists no such model in {} (ListFoundationModels); check \
             the ID (`bedrock-monitor quotas` lists the models in use)",
            args.model, cx.region
        )));
    }
    let Some(limit) = read.book.limit(&args.model, kind) else {
        return Err(CommandError::Usage(format!(
            "{}: no applied {} quota for its model and scope ({}) in {}; `bedrock-monitor \
             quotas` lists the quotas and those it could not tie to a model",
            args.model,
            kind.as_str(),
            Scope::of_model_id(&args.model).as_str(),
            cx.region
        )));
    };
    if limit.note.is_some() {
        return Err(CommandError::Usage(format!(
            "{}: its {} is {} ({}); request the in-Region quota {} instead",
            args.model,
            kind.as_str(),
            limit.note.unwrap_or_default(),
            limit.quota.name,
            limit.quota.code
        )));
    }
    if args.value <= limit.quota.value {
        return Err(CommandError::Usage(format!(
            "--value {}: the applied quota {} is already {}; ask for more than that",
            args.value, limit.quota.code, limit.quota.value
        )));
    }
    if let Some(open) = report
        .open_requests
        .iter()
        .find(|r| r.quota_code == limit.quota.code)
    {
        return Err(CommandError::Usage(format!(
            "{} already has an open increase request ({}, {}); AWS allows one at a time",
            limit.quota.code, open.id, open.status
        )));
    }
    let usage: Vec<QuotaRow> = report
        .rows
        .iter()
        .filter(|r| r.model_id == args.model)
        .cloned()
        .collect();
    let busiest = read.busiest(&args.model, kind, BUSIEST_LISTED);
    let mut summary = IncreaseRequest {
        model_id: args.model.clone(),
        scope: Scope::of_model_id(&args.model),
        region: cx.region.clone(),
        account: cx.account.id.clone(),
        kind,
        quota_code: limit.quota.code.clone(),
        quota_name: limit.quota.name.clone(),
        current_quota: limit.quota.value,
        desired_value: args.value,
        days: request.days,
        usage,
        busiest,
        request_id: None,
        status: None,
        case_id: None,
    };
    session.printer.show(&summary);
    let prompter = Prompter {
        interactive: is_interactive(session.globals.non_interactive),
    };
    let question = format!(
        "Request {} = {} (now {}) from AWS?",
        limit.quota.code, args.value, limit.quota.value
    );
    if !args.yes && !prompter.confirm(&question, "--yes")? {
        session.printer.note("Nothing requested.");
        return Ok(ExitStatus::Success);
    }
    let out = cx
        .aws
        .servicequotas
        .request_service_quota_increase()
        .service_code(quotas::SERVICE_CODE)
        .quota_code(&limit.quota.code)
        .desired_value(args.value)
        .send()
        .await
        .aws("servicequotas:RequestServiceQuotaIncrease")?;
    if let Some(made) = out.requested_quota() {
        summary.request_id = made.id().map(str::to_string);
        summary.status = made.status().map(|s| s.as_str().to_string());
        summary.case_id = made.case_id().map(str::to_string);
    }
    session.printer.result(&summary)?;
    Ok(ExitStatus::Success)
}
