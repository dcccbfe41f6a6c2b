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
    pub kms_key: Option<String>,
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
        match &self.kms_key {
            Some(k) => writeln!(
                f,
                "  the bucket, log group and topic are encrypted with {k}; `bedrock-monitor permissions --key-policies` prints what its key policy needs"
            )?,
            None => writeln!(
                f,
                "  no KMS key: the logs (every prompt and response) are encrypted with AWS-managed keys; to control who can read them, use a key of your own (`init --kms-key ARN`, or kms_key_arn in [bucket], [log_group] and [alerts])"
            )?,
        }
        writeln!(
            f,
            "Next: `bedrock-monitor plan` to see what apply would create."
        )
    }
}

/// The example text with the region and email set. Values are written as TOML strings by the
/// TOML serializer, so no input can break the file.
pub fn starter_config(region: Option<&str>, email: Option<&str>, kms_key: Option<&str>) -> String {
    let mut text = config::EXAMPLE.to_string();
    if let Some(key) = kms_key {
        let value = toml::Value::String(key.to_string());
        // The bucket's, the log group's and the topic's commented keys, in that order.
        text = text.replace(
            "# kms_key_arn = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
            &format!("kms_key_arn = {value}"),
        );
    }
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
    let kms_key = args.kms_key.as_deref().map(str::trim);
    let region = detect_region(session).await;
    let text = starter_config(region.as_deref(), email.as_deref(), kms_key);
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
        kms_key: kms_key.map(str::to_string),
    })?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_config_fills_region_and_email_and_validates() {
        let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let text = starter_config(Some("eu-west-1"), Some("ops@example.com"), Some(key));
        let c = config::parse(&text, "t.toml").expect("valid");
        assert_eq!(c.stack.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.alerts.emails, vec!["ops@example.com"]);
        for set in [
            &c.bucket.kms_key_arn,
            &c.log_group.kms_key_arn,
            &c.alerts.kms_key_arn,
        ] {
            assert_eq!(set.as_deref(), Some(key));
        }
        let plain = starter_config(None, None, None);
        assert_eq!(plain, config::EXAMPLE);
    }

    #[test]
    fn quotes_in_values_cannot_break_the_file() {
        let text = starter_config(Some("us-east-1\"\n[evil]"), None, None);
        let err = config::parse(&text, "t.toml")
            .expect_err("an odd region fails validation, not parsing");
        assert!(err.to_string().contains("stack.region"), "{err}");
    }
}
