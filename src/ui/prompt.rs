//! Questions on a terminal (dialoguer, on stderr), and the refusal to ask without one.

use std::sync::Arc;

use async_trait::async_trait;
use dialoguer::theme::ColorfulTheme;
use dialoguer::{Confirm, Select};

use crate::engine::recovery::{NonInteractive, backoff};
use crate::engine::{Decision, FailedStep, Progress, Recovery, adoption};
use crate::ui::progress::{Mode, UiProgress};

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error(
        "{question} needs an answer, and there is no terminal to ask on (non-interactive, CI, or stdin is not a terminal); pass {flag} to answer yes"
    )]
    NotInteractive { question: String, flag: String },
    #[error("prompt failed: {0}")]
    Io(String),
}

pub struct Prompter {
    pub interactive: bool,
}

impl Prompter {
    /// Ask a yes/no question; `flag` is the option that answers it without a terminal.
    pub fn confirm(&self, question: &str, flag: &str) -> Result<bool, PromptError> {
        if !self.interactive {
            return Err(PromptError::NotInteractive {
                question: format!("\"{question}\""),
                flag: flag.to_string(),
            });
        }
        match Confirm::with_theme(&ColorfulTheme::default())
            .with_prompt(question)
            .default(false)
            .interact_opt()
        {
            Ok(answer) => Ok(answer.unwrap_or(false)),
            // Ctrl-C or a closed terminal is a "no".
            Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                Ok(false)
            }
            Err(e) => Err(PromptError::Io(e.to_string())),
        }
    }
}

/// Asks the user what to do about a failed step: retry, skip (with its dependents), show the
/// details, or abort. Steps already running go on while the question waits.
pub struct InteractiveRecovery {
    pub progress: Arc<dyn Progress>,
}

#[async_trait]
impl Recovery for InteractiveRecovery {
    async fn decide(&self, failed: &FailedStep) -> Decision {
        let failed = failed.clone();
        let progress = self.progress.clone();
        // Another stack's resources stay refused whatever the answer: nothing to ask.
        if failed.error.code_is(&[adoption::OTHER_STACK]) {
            return Decision::Fail;
        }
        let adopting = failed.error.code_is(&[adoption::NOT_MANAGED]);
        let answer = tokio::task::spawn_blocking(move || {
            let mut decision = Decision::Abort;
            progress.suspend(&mut || {
                decision = if adopting {
                    ask_adopt(&failed)
                } else {
                    ask(&failed)
                }
            });
            decision
        })
        .await;
        answer.unwrap_or(Decision::Abort)
    }
}

/// The skip choice, naming the steps that wait for this one.
fn skip_label(failed: &FailedStep, what: &str) -> String {
    if failed.dependents.is_empty() {
        what.to_string()
    } else {
        format!(
            "{what} (also skips {})",
            failed
                .dependents
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// A step found resources of its names that this stack does not own: adopt them (the step
/// runs again with consent), leave them (the step and its dependents are skipped), or abort.
fn ask_adopt(failed: &FailedStep) -> Decision {
    let e = &failed.error;
    eprintln!();
    eprintln!(
        "{} {} ({}): exists, not managed",
        console::style("!").yellow().bold().for_stderr(),
        failed.id,
        failed.name
    );
    eprintln!("  {}", e.message);
    let items = [
        format!(
            "Adopt it: mark it as this stack's and bring it to the config (what {} does)",
            adoption::flag(failed.id)
        ),
        skip_label(failed, "Leave it as it is and skip this step"),
        "Abort (finish running steps, then stop)".to_string(),
    ];
    let choice = Select::with_theme(&ColorfulTheme::default())
        .with_prompt(format!("Adopt the existing {}?", failed.id))
        .items(&items)
        .default(1)
        .interact_opt();
    match choice {
        Ok(Some(0)) => Decision::Adopt,
        Ok(Some(1)) => Decision::Skip,
        // Abort, Esc, Ctrl-C, or a terminal that went away.
        _ => Decision::Abort,
    }
}

fn ask(failed: &FailedStep) -> Decision {
    let e = &failed.error;
    eprintln!();
    eprintln!(
        "{} {} ({}) failed",
        console::style("✗").red().bold().for_stderr(),
        failed.id,
        failed.name
    );
    if !e.operation.is_empty() {
        eprintln!("  call:  {}", e.operation);
    }
    if let Some(code) = &e.code {
        eprintln!("  code:  {code}");
    }
    eprintln!("  error: {}", e.message);
    if let Some(hint) = &e.hint {
        eprintln!("  hint:  {hint}");
    }
    let items = [
        "Retry this step".to_string(),
        skip_label(failed, "Skip this step and continue"),
        "Show details".to_string(),
        "Abort (finish running steps, then stop)".to_string(),
    ];
    loop {
        let choice = Select::with_theme(&ColorfulTheme::default())
            .with_prompt(format!("What now? (attempt {})", failed.attempt))
            .items(&items)
            .default(0)
            .interact_opt();
        match choice {
            Ok(Some(0)) => {
                return Decision::Retry(backoff(std::time::Duration::from_millis(500), 1));
            }
            Ok(Some(1)) => return Decision::Skip,
            Ok(Some(2)) => {
                eprintln!("  component: {} ({})", failed.id, failed.name);
                let call = if e.operation.is_empty() {
                    "(none)"
                } else {
                    &e.operation
                };
                eprintln!("  call:      {call}");
                eprintln!("  code:      {}", e.code.as_deref().unwrap_or("(none)"));
                eprintln!("  message:   {}", e.message);
                if let Some(hint) = &e.hint {
                    eprintln!("  hint:      {hint}");
                }
                if !failed.dependents.is_empty() {
                    let names: Vec<&str> = failed.dependents.iter().map(|d| d.as_str()).collect();
                    eprintln!("  waiting:   {}", names.join(", "));
                }
                let chain = e.details.as_deref().unwrap_or("(no SDK error chain)");
                eprintln!("  details:   {chain}");
            }
            // Abort, Esc, Ctrl-C, or a terminal that went away.
            _ => return Decision::Abort,
        }
    }
}

/// How a run that writes reports progress and meets a failed step: with one target, spinners
/// (or lines in a log) and, on a terminal, a question; over many targets, quiet (each target's
/// result says what happened) and never a question, since questions from targets running side
/// by side could not say which target they are about. Without a question a failed step is
/// retried `retries` times.
pub fn progress_and_recovery(
    single_target: bool,
    quiet: bool,
    interactive: bool,
    retries: u32,
) -> (Arc<dyn Progress>, Arc<dyn Recovery>) {
    if !single_target {
        return (
            Arc::new(crate::engine::QuietProgress),
            Arc::new(NonInteractive::new(retries)),
        );
    }
    let progress: Arc<dyn Progress> = Arc::new(UiProgress::new(Mode::detect(quiet)));
    let recovery: Arc<dyn Recovery> = if interactive {
        Arc::new(InteractiveRecovery {
            progress: progress.clone(),
        })
    } else {
        Arc::new(NonInteractive::new(retries))
    };
    (progress, recovery)
}
