//! `digest`: the spend digest of `[chat] digest` (`crate::digest`), printed as email shows it
//! (or, with `--output json`, with the chat notification it sends), across `[targets]` like
//! `report`; `digest --publish` sends it to the alert topic once per period, the fallback (with
//! cron) where no limits runner is deployed to send it.

use std::fmt;

use serde::Serialize;

use crate::cli::{DigestArgs, OutputFormat};
use crate::commands::{CommandError, ExitStatus, Session};
use crate::digest::{self, Digest};
use crate::engine::Interrupt;
use crate::targets::{Needs, Summary};

/// `digest` without `--publish`: the digest, the chat notification and the email text.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub digest: Digest,
    /// The AWS Chatbot custom notification, as published.
    pub notification: serde_json::Value,
    /// The email subscribers' text.
    pub email: String,
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.email)
    }
}

/// The weekly digest's days when the config names none (`digest` without `[chat] digest`
/// only prints).
const DEFAULT_FREQUENCY: (&str, u32) = ("weekly", 7);

pub async fn run(session: &Session, args: &DigestArgs) -> Result<ExitStatus, CommandError> {
    let loaded = session.load_config()?;
    let configured = loaded
        .config
        .chat
        .as_ref()
        .and_then(|c| c.digest.clone().zip(c.digest_days()));
    if args.publish && configured.is_none() {
        return Err(CommandError::Usage(
            "--publish sends the digest [chat] digest configures: set digest = \"daily\" or \
             \"weekly\" under [chat] (docs/configuration.md#chat)"
                .into(),
        ));
    }
    if session.printer.format == OutputFormat::Csv {
        return Err(CommandError::Usage(
            "--output csv is not a digest format: use text or json".into(),
        ));
    }
    let (frequency, days) =
        configured.unwrap_or((DEFAULT_FREQUENCY.0.to_string(), DEFAULT_FREQUENCY.1));
    let fleet = session.fleet(&loaded, Needs::Identity).await?;
    let now = chrono::Utc::now();
    let config = &loaded.config;
    if args.publish {
        let outcomes = fleet
            .run(&fleet.usage_targets(), &Interrupt::default(), |target| {
                let fleet = &fleet;
                async move {
                    let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                    let partition = crate::aws::partition_of(&target.region);
                    let published =
                        digest::maybe_publish(&clients, config, &target.account, partition, now)
                            .await?;
                    Ok::<_, CommandError>((published, ExitStatus::Success))
                }
            })
            .await?;
        let summary = Summary::new(&fleet, "digest", outcomes, false);
        session.printer.result(&summary)?;
        return Ok(summary.exit_status());
    }
    let outcomes = fleet
        .run(&fleet.usage_targets(), &Interrupt::default(), |target| {
            let (fleet, frequency) = (&fleet, &frequency);
            async move {
                let clients = fleet.clients(&target).await.map_err(CommandError::from)?;
                let partition = crate::aws::partition_of(&target.region);
                let digest = digest::build(
                    &clients,
                    config,
                    &target.account,
                    partition,
                    frequency,
                    days,
                    now,
                )
                .await?;
                let preview = Preview {
                    notification: digest.notification(),
                    email: digest.to_text(),
                    digest,
                };
                Ok::<_, CommandError>((preview, ExitStatus::Success))
            }
        })
        .await?;
    let summary = Summary::new(&fleet, "digest", outcomes, false);
    session.printer.result(&summary)?;
    Ok(summary.exit_status())
}
