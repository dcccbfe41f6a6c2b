//! What to do when a step fails. The interactive implementation (a prompt) lives in the UI;
//! the engine only sees this trait.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::engine::{ComponentId, adoption};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Run the step again after this pause.
    Retry(Duration),
    /// Give up on this step and mark its dependents skipped; carry on with the rest.
    Skip,
    /// Record the failure; dependents are blocked; carry on with the rest.
    Fail,
    /// Start no more steps; let running ones finish.
    Abort,
    /// The step refused to change resources this stack does not own: the user agrees to
    /// adopt them, so run it again at once with their consent (another stack's resources
    /// stay refused).
    Adopt,
}

#[derive(Debug, Clone)]
pub struct FailedStep {
    pub id: ComponentId,
    pub name: String,
    pub error: AwsError,
    /// 1 for the first failure of this step in this run.
    pub attempt: u32,
    /// Steps that cannot run unless this one succeeds (directly or not).
    pub dependents: Vec<ComponentId>,
}

#[async_trait]
pub trait Recovery: Send + Sync {
    async fn decide(&self, failed: &FailedStep) -> Decision;
}

/// Never asks: retries a failed step `retries` more times with exponential backoff, then fails
/// it (CI's `--on-error retry:N`; `retries = 0` is fail-fast per step).
pub struct NonInteractive {
    pub retries: u32,
    pub base_delay: Duration,
}

impl NonInteractive {
    pub fn new(retries: u32) -> Self {
        NonInteractive {
            retries,
            base_delay: Duration::from_secs(2),
        }
    }
}

#[async_trait]
impl Recovery for NonInteractive {
    async fn decide(&self, failed: &FailedStep) -> Decision {
        // Only consent changes these; trying again without it cannot.
        if failed
            .error
            .code_is(&[adoption::NOT_MANAGED, adoption::OTHER_STACK])
        {
            return Decision::Fail;
        }
        if failed.attempt <= self.retries {
            Decision::Retry(backoff(self.base_delay, failed.attempt))
        } else {
            Decision::Fail
        }
    }
}

/// Exponential backoff with full jitter, capped at 30 s.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(5));
    let capped = exp.min(Duration::from_secs(30));
    let millis = capped.as_millis() as u64;
    Duration::from_millis(millis / 2 + fastrand::u64(0..=millis / 2))
}

/// Answers from a script, for tests of the engine's decisions; `Fail` once the script runs out.
pub struct ScriptedRecovery {
    answers: Mutex<VecDeque<Decision>>,
    pub asked: Mutex<Vec<FailedStep>>,
}

impl ScriptedRecovery {
    pub fn new(answers: impl IntoIterator<Item = Decision>) -> Self {
        ScriptedRecovery {
            answers: Mutex::new(answers.into_iter().collect()),
            asked: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl Recovery for ScriptedRecovery {
    async fn decide(&self, failed: &FailedStep) -> Decision {
        self.asked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(failed.clone());
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or(Decision::Fail)
    }
}
