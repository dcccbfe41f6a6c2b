//! The IAM-propagation retry of PutModelInvocationLoggingConfiguration. moto accepts the call
//! at once, so the error real Bedrock returns for a while after the role is created is
//! produced here with aws-smithy-mocks. Time is paused: the backoff sleeps cost nothing.

use std::sync::Arc;

use aws_sdk_bedrock::operation::get_model_invocation_logging_configuration::GetModelInvocationLoggingConfigurationOutput;
use aws_sdk_bedrock::operation::put_model_invocation_logging_configuration::{
    PutModelInvocationLoggingConfigurationError, PutModelInvocationLoggingConfigurationOutput,
};
use aws_sdk_bedrock::types::error::ValidationException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use bedrock_monitor::aws::{offline_clients, test_account};
use bedrock_monitor::config::Config;
use bedrock_monitor::engine::{Context, Node};
use bedrock_monitor::resources::logging::Logging;

use crate::support::Notes;

fn validation_error(message: &str) -> PutModelInvocationLoggingConfigurationError {
    PutModelInvocationLoggingConfigurationError::ValidationException(
        ValidationException::builder()
            .message(message)
            .meta(
                ErrorMetadata::builder()
                    .code("ValidationException")
                    .message(message)
                    .build(),
            )
            .build(),
    )
}

const PROPAGATION: &str = "Failed to validate permissions for log group: /aws/bedrock/modelinvocations, with role: arn:aws:iam::123456789012:role/BedrockCloudWatchLoggingRole. Verify the IAM role permissions are correct.";

fn context(bedrock: aws_sdk_bedrock::Client, notes: Arc<Notes>) -> Context {
    let mut clients = offline_clients();
    clients.bedrock = bedrock;
    Context::new(Config::default(), test_account(), clients, notes)
}

fn logging_off() -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_bedrock::Client::get_model_invocation_logging_configuration)
        .then_output(|| GetModelInvocationLoggingConfigurationOutput::builder().build())
}

#[tokio::test(start_paused = true)]
async fn propagation_error_is_retried_until_it_clears() {
    let get = logging_off();
    let put = mock!(aws_sdk_bedrock::Client::put_model_invocation_logging_configuration)
        .sequence()
        .error(|| validation_error(PROPAGATION))
        .times(3)
        .output(|| PutModelInvocationLoggingConfigurationOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_bedrock, RuleMode::MatchAny, [&get, &put]);
    let notes = Arc::new(Notes::default());
    let cx = context(client, notes.clone());

    let step = Node::new(Logging);
    let diff = step
        .apply(&cx)
        .await
        .expect("converges once IAM has propagated");
    assert_eq!(diff.action, bedrock_monitor::engine::Action::Create);
    assert_eq!(put.num_calls(), 4);
    let notes = notes.0.lock().unwrap();
    assert_eq!(notes.len(), 3, "one note per wait: {notes:?}");
    assert!(notes[0].contains("IAM propagation"), "{notes:?}");
}

#[tokio::test(start_paused = true)]
async fn propagation_error_gives_up_after_about_two_minutes() {
    let get = logging_off();
    let put = mock!(aws_sdk_bedrock::Client::put_model_invocation_logging_configuration)
        .sequence()
        .error(|| validation_error(PROPAGATION))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_bedrock, RuleMode::MatchAny, [&get, &put]);
    let cx = context(client, Arc::new(Notes::default()));

    let started = tokio::time::Instant::now();
    let err = Node::new(Logging).apply(&cx).await.expect_err("gives up");
    let waited = started.elapsed().as_secs();
    assert!((60..=125).contains(&waited), "waited {waited}s");
    assert_eq!(err.code.as_deref(), Some("ValidationException"));
    assert!(err.hint.unwrap_or_default().contains("trust policy"));
    assert!(put.num_calls() > 3);
}

#[tokio::test(start_paused = true)]
async fn other_validation_errors_are_not_retried() {
    let get = logging_off();
    let put = mock!(aws_sdk_bedrock::Client::put_model_invocation_logging_configuration)
        .sequence()
        .error(|| validation_error("1 validation error detected: Value at 'loggingConfig' failed"))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_bedrock, RuleMode::MatchAny, [&get, &put]);
    let cx = context(client, Arc::new(Notes::default()));
    Node::new(Logging)
        .apply(&cx)
        .await
        .expect_err("fails at once");
    assert_eq!(put.num_calls(), 1);
}
