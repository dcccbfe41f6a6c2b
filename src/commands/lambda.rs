//! The binary as the limits runner's Lambda function: started by Lambda as `bootstrap` with no
//! arguments and `AWS_LAMBDA_RUNTIME_API` set, it loads the config packaged beside it once,
//! then runs one limits pass (`limits run --once`) per invocation (the schedule's events) and
//! answers each with the pass's summary, or with an invocation error when the pass fails.
//! After the pass it publishes the spend digest when `[chat] digest` is set and one is due.

use std::path::PathBuf;

use crate::aws::{Clients, ConnectOptions};
use crate::config;
use crate::exit::ExitStatus;
use crate::runner::lambda::{self, FunctionError, Invocation, RuntimeApi};

/// Where the config is: this variable's path, else `bedrock-monitor.toml` in the function's
/// code directory (`LAMBDA_TASK_ROOT`, the Lambda developer guide's "Defined runtime
/// environment variables"), where the runner's package puts it.
pub const CONFIG_VARIABLE: &str = "BEDROCK_MONITOR_CONFIG";

/// `Some(exit status)` when the process was started as a Lambda function (the runtime API's
/// variable set and no arguments), after serving until the runtime API goes away; `None`
/// for an ordinary command line.
pub fn serve_if_lambda() -> Option<ExitStatus> {
    if std::env::args_os().len() > 1 {
        return None;
    }
    let api = RuntimeApi::from_env()?;
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return Some(ExitStatus::Failure);
        }
    };
    let served = runtime.block_on(async {
        let api = api?;
        lambda::run(&api, init()).await
    });
    Some(match served {
        Ok(()) => ExitStatus::Success,
        Err(e) => {
            tracing::error!("the Lambda runtime loop ended: {e}");
            ExitStatus::Failure
        }
    })
}

/// Logs go to stderr, which Lambda sends to the function's log group.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,bedrock_monitor=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

fn config_path() -> PathBuf {
    if let Some(path) = std::env::var_os(CONFIG_VARIABLE) {
        return PathBuf::from(path);
    }
    let root =
        std::env::var_os("LAMBDA_TASK_ROOT").map_or_else(|| PathBuf::from("."), PathBuf::from);
    root.join(config::DEFAULT_CONFIG_FILE)
}

type Handler = Box<
    dyn Fn(
            Invocation,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<serde_json::Value, FunctionError>> + Send>,
        > + Send
        + Sync,
>;

/// Loads and checks the config and builds the clients, once per environment: a config that
/// does not load is an initialisation error Lambda shows, not a failed pass every few minutes.
async fn init() -> Result<Handler, FunctionError> {
    let path = config_path();
    let loaded = config::load_with(&path, true, None, crate::queries::config_violations)
        .map_err(|e| FunctionError::new("Runtime.ConfigInvalid", &e))?;
    if !loaded.config.wants_runner() {
        return Err(FunctionError::message(
            "Runtime.ConfigInvalid",
            format!(
                "{}: no [[limits]] and no [chat] digest: the runner has nothing to do",
                path.display()
            ),
        ));
    }
    let clients = Clients::connect(
        &ConnectOptions::default(),
        loaded.config.stack.region.as_deref(),
        &loaded.config.aws,
    )
    .await
    .map_err(|e| FunctionError::new("Runtime.ClientsUnavailable", &e))?;
    let shared = std::sync::Arc::new((clients, loaded.config));
    Ok(Box::new(move |invocation: Invocation| {
        let shared = shared.clone();
        Box::pin(async move {
            // The schedule's event says when the pass was due; the pass runs for now.
            if let Err(e) = lambda::ScheduledEvent::parse(&invocation.event) {
                tracing::warn!(
                    "invocation {}: not a schedule's event: {e}",
                    invocation.request_id
                );
            }
            let now = chrono::Utc::now();
            let (clients, config) = (&shared.0, &shared.1);
            // Without `[[limits]]` the runner is the digest's own schedule: no pass.
            let (mut summary, account, region) = if config.limits.is_empty() {
                let account = clients
                    .account()
                    .await
                    .map_err(|e| FunctionError::new("Digest.AccountUnknown", &e))?;
                (serde_json::json!({}), account.id, clients.region.clone())
            } else {
                let outcome = crate::limits::run_once(clients, config, now)
                    .await
                    .map_err(|e| FunctionError::new("Limits.PassFailed", &e))?;
                let summary = serde_json::to_value(&outcome)
                    .map_err(|e| FunctionError::new("Limits.SummaryUnwritable", &e))?;
                (summary, outcome.account, outcome.region)
            };
            // The digest rides on the pass: its failure is in the summary and the logs, never
            // the pass's failure (the blocks are already in place).
            if let Some(map) = summary.as_object_mut() {
                map.insert(
                    "digest".into(),
                    digest(clients, config, &account, &region, now).await,
                );
            }
            Ok(summary)
        })
    }))
}

/// `[chat] digest` after the pass: sent when due (`crate::digest::maybe_publish`), as a JSON
/// value for the invocation's summary; `null` without a digest.
async fn digest(
    clients: &Clients,
    config: &config::Config,
    account: &str,
    region: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    if config.digest_days().is_none() {
        return serde_json::Value::Null;
    }
    let partition = crate::aws::partition_of(region);
    match crate::digest::maybe_publish(clients, config, account, partition, now).await {
        Ok(published) => {
            tracing::info!("digest: {}", published.reason);
            serde_json::json!({"sent": published.sent, "reason": published.reason})
        }
        Err(e) => {
            tracing::error!("digest: {e}");
            serde_json::json!({"sent": false, "error": e.to_string()})
        }
    }
}
