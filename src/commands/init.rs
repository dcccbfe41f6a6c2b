//! `init`: write the commented starter config (the text of `config.example.toml`), with the
//! region the AWS configuration resolves to and the alert email filled in.

use std::fmt;
use std::io::IsTerminal;

use serde::Serialize;

use crate::cli::InitArgs;
use crate::commands::{CommandError, ExitStatus, Session};
use crate::config::{self, rules::email_ok};

#[derive(Debug, Serialize)]
pub struct InitReport {
    pub path: String,
    pub region: Option<String>,
    pub email: Option<String>,
}

impl fmt::Display for InitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Wrote {}", self.path)?;
        match &self.region {
            Some(r) => writeln!(f, "  region: {r}")?,
            None => writeln!(
                f,
                "  region: not set (no AWS region configured here); set `region` in [stack] or pass --region"
            )?,
        }
        match &self.email {
            Some(e) => writeln!(f, "  alerts go to {e} (AWS will ask it to confirm)")?,
            None => writeln!(f, "  no alert email yet: add one to `emails` in [alerts]")?,
        }
        writeln!(
            f,
            "Next: `bedrock-monitor plan` to see what apply would create."
        )
    }
}

/// The example text with the region and email set. Values are written as TOML strings by the
/// TOML serializer, so no input can break the file.
pub fn starter_config(region: Option<&str>, email: Option<&str>) -> String {
    let mut text = config::EXAMPLE.to_string();
    if let Some(region) = region {
        let value = toml::Value::String(region.to_string());
        text = text.replacen("# region = \"us-east-1\"", &format!("region = {value}"), 1);
    }
    if let Some(email) = email {
        let value = toml::Value::String(email.to_string());
        text = text.replacen("emails = []", &format!("emails = [{value}]"), 1);
    }
    text
}

async fn detect_region(session: &Session) -> Option<String> {
    if let Some(r) = &session.globals.region() {
        return Some(r.clone());
    }
    let mut provider = aws_config::default_provider::region::DefaultRegionChain::builder();
    if let Some(profile) = &session.globals.profile {
        provider = provider.profile_name(profile);
    }
    provider.build().region().await.map(|r| r.to_string())
}

pub async fn run(session: &Session, args: &InitArgs) -> Result<ExitStatus, CommandError> {
    let (path, _) = session.config_path();
    if path.exists() && !args.force {
        return Err(CommandError::Usage(format!(
            "{} already exists; pass --force to overwrite it, or --config to write another file",
            path.display()
        )));
    }
    let interactive = crate::ui::is_interactive(session.globals.non_interactive)
        && std::io::stdout().is_terminal();
    let email = match &args.email {
        Some(e) => Some(e.trim().to_string()),
        None if interactive => {
            let answer: String =
                dialoguer::Input::with_theme(&dialoguer::theme::ColorfulTheme::default())
                    .with_prompt("Alert email address (empty for none)")
                    .allow_empty(true)
                    .validate_with(|input: &String| {
                        if input.trim().is_empty() || email_ok(input.trim()) {
                            Ok(())
                        } else {
                            Err("not an email address (like ops@example.com)")
                        }
                    })
                    .interact_text()
                    .map_err(|e| CommandError::Usage(format!("prompt failed: {e}")))?;
            Some(answer.trim().to_string()).filter(|a| !a.is_empty())
        }
        None => None,
    };
    if let Some(e) = &email
        && !email_ok(e)
    {
        return Err(CommandError::Usage(format!(
            "--email {e:?} is not an email address (like ops@example.com)"
        )));
    }
    let region = detect_region(session).await;
    let text = starter_config(region.as_deref(), email.as_deref());
    // Never write something `validate` would reject.
    config::parse_with(
        &text,
        &path.display().to_string(),
        None,
        crate::queries::config_violations,
    )?;
    std::fs::write(&path, text)?;
    session.printer.result(&InitReport {
        path: path.display().to_string(),
        region,
        email,
    })?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_config_fills_region_and_email_and_validates() {
        let text = starter_config(Some("eu-west-1"), Some("ops@example.com"));
        let c = config::parse(&text, "t.toml").expect("valid");
        assert_eq!(c.stack.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.alerts.emails, vec!["ops@example.com"]);
        let plain = starter_config(None, None);
        assert_eq!(plain, config::EXAMPLE);
    }

    #[test]
    fn quotes_in_values_cannot_break_the_file() {
        let text = starter_config(Some("us-east-1\"\n[evil]"), None);
        let err = config::parse(&text, "t.toml")
            .expect_err("an odd region fails validation, not parsing");
        assert!(err.to_string().contains("stack.region"), "{err}");
    }
}
