//! The AWS side: one `SdkConfig` (credential chain, region, profile, endpoint, retries and
//! timeouts), the service clients built from it, and the classification of AWS errors into
//! [`AwsError`]s that name the operation, the AWS error code and what to do next.

pub mod profiles;

use std::fmt;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::region::Region;
use serde::Serialize;

use crate::config::AwsSettings;

/// Where and how to connect, from the command line, the environment and the config.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub max_attempts: Option<u32>,
}

/// Service clients sharing one configuration.
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub endpoint_url: Option<String>,
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub bedrock: aws_sdk_bedrock::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    pub budgets: aws_sdk_budgets::Client,
    pub kms: aws_sdk_kms::Client,
    pub costexplorer: aws_sdk_costexplorer::Client,
    /// Data Exports (CUR 2.0) has one endpoint, in us-east-1, whatever the stack's region.
    pub dataexports: aws_sdk_bcmdataexports::Client,
    pub organizations: aws_sdk_organizations::Client,
    /// `report --source cur --engine athena`.
    pub athena: aws_sdk_athena::Client,
    /// Service Quotas: the applied Bedrock quotas and requests to raise them (issue 31).
    pub servicequotas: aws_sdk_servicequotas::Client,
    /// The limits runner's function (`resources::limits_runner`).
    pub lambda: aws_sdk_lambda::Client,
    /// The limits runner's schedule (EventBridge Scheduler).
    pub scheduler: aws_sdk_scheduler::Client,
    /// AWS Chatbot's channel configurations (`resources::chat`), in [`CHATBOT_REGION`].
    pub chatbot: aws_sdk_chatbot::Client,
}

/// The partition a region is in, for ARNs built before any call names it (AWS General
/// Reference, "Amazon Resource Names": `aws-cn` for the China Regions, `aws-us-gov` for
/// AWS GovCloud (US), `aws` for the rest).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The region the tool asks AWS Chatbot in. Its API is served in us-east-2, us-west-2,
/// eu-west-1 and ap-southeast-1 only, and its configurations are the account's, whichever of
/// them is asked (AWS Chatbot API reference, Welcome: "AWS Chatbot APIs are currently available
/// in the following Regions [...] The AWS Chatbot console can only be used in US East (Ohio).
/// Your configuration data however, is stored in each of the relevant available Regions";
/// AWS General Reference, "Amazon Q Developer in chat applications endpoints"): us-east-2,
/// where the console that authorises workspaces is.
pub const CHATBOT_REGION: &str = "us-east-2";

/// The only region Data Exports (`bcm-data-exports`) is served in.
pub const DATA_EXPORTS_REGION: &str = "us-east-1";

/// The Price List API (`api.pricing`) is served in us-east-1, eu-central-1 and ap-south-1 only;
/// the tool asks us-east-1 whatever region it works in (the prices of every region are there).
pub const PRICE_LIST_REGION: &str = "us-east-1";

/// A Price List client in [`PRICE_LIST_REGION`], with the credentials, endpoint, retries and
/// timeouts every other client gets.
pub async fn price_list_client(
    options: &ConnectOptions,
    settings: &AwsSettings,
) -> aws_sdk_pricing::Client {
    let options = ConnectOptions {
        region: Some(PRICE_LIST_REGION.to_string()),
        ..options.clone()
    };
    let sdk = load_sdk_config(&options, None, settings).await;
    aws_sdk_pricing::Client::from_conf(
        aws_sdk_pricing::config::Builder::from(&sdk)
            .interceptor(CallLog)
            .build(),
    )
}

/// A Bedrock (control plane) client in `region`, with the credentials, endpoint, retries and
/// timeouts every other client gets: for reads outside a target (the model catalogue).
pub async fn bedrock_client(
    options: &ConnectOptions,
    region: &str,
    settings: &AwsSettings,
) -> aws_sdk_bedrock::Client {
    let options = ConnectOptions {
        region: Some(region.to_string()),
        ..options.clone()
    };
    let sdk = load_sdk_config(&options, None, settings).await;
    aws_sdk_bedrock::Client::from_conf(
        aws_sdk_bedrock::config::Builder::from(&sdk)
            .interceptor(CallLog)
            .build(),
    )
}

/// The SDK configuration: credential chain (or profile), region, endpoint, retries, timeouts.
pub async fn load_sdk_config(
    options: &ConnectOptions,
    config_region: Option<&str>,
    settings: &AwsSettings,
) -> aws_types::SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(options.max_attempts.unwrap_or(settings.max_attempts))
        .with_initial_backoff(Duration::from_millis(settings.initial_backoff_ms))
        .with_max_backoff(Duration::from_secs(settings.max_backoff_seconds));
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(settings.operation_timeout_seconds))
        .operation_attempt_timeout(Duration::from_secs(settings.attempt_timeout_seconds))
        .connect_timeout(Duration::from_secs(10))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    let explicit_region = options
        .region
        .clone()
        .or_else(|| config_region.map(str::to_string));
    if let Some(region) = explicit_region {
        loader = loader.region(Region::new(region));
    }
    if let Some(url) = &options.endpoint_url {
        // Emulators do not compute the newer default checksums; real AWS keeps the defaults.
        loader = loader
            .endpoint_url(url)
            .request_checksum_calculation(
                aws_smithy_types::checksum_config::RequestChecksumCalculation::WhenRequired,
            )
            .response_checksum_validation(
                aws_smithy_types::checksum_config::ResponseChecksumValidation::WhenRequired,
            );
    }
    loader.load().await
}

/// Logs each AWS call and each attempt's HTTP status at debug level (`-v`).
#[derive(Debug)]
struct CallLog;

impl aws_smithy_runtime_api::client::interceptors::Intercept for CallLog {
    fn name(&self) -> &'static str {
        "bedrock-monitor call log"
    }

    fn read_after_attempt(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef<'_>,
        _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let metadata = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>();
        let (service, operation) = metadata
            .map(|m| (m.service(), m.name()))
            .unwrap_or(("?", "?"));
        match context.response() {
            Some(response) => tracing::debug!(
                target: "bedrock_monitor::aws_call",
                "{service}.{operation} → HTTP {}",
                response.status().as_u16()
            ),
            None => tracing::debug!(
                target: "bedrock_monitor::aws_call",
                "{service}.{operation} → no response (connection failed or timed out)"
            ),
        }
        Ok(())
    }
}

/// The caller's account, learned from `sts:GetCallerIdentity`.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub partition: String,
    pub caller_arn: String,
}

impl Clients {
    /// Builds clients. `config_region` (from `stack.region`) is used when neither `--region` nor
    /// `AWS_REGION` gave one; the profile's region is the last resort.
    pub async fn connect(
        options: &ConnectOptions,
        config_region: Option<&str>,
        settings: &AwsSettings,
    ) -> Result<Clients, AwsError> {
        let sdk = load_sdk_config(options, config_region, settings).await;
        Clients::from_sdk_config(&sdk)
    }

    /// Clients for an already-built `SdkConfig` (also how tests build offline clients).
    pub fn from_sdk_config(sdk: &aws_types::SdkConfig) -> Result<Clients, AwsError> {
        let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            AwsError::setup(
                "no AWS region is configured",
                "set `region` in [stack], pass --region, or set AWS_REGION",
            )
        })?;
        let endpoint_url = sdk.endpoint_url().map(str::to_string);
        // Every client logs its calls (shown with -v).
        macro_rules! client {
            ($sdk_crate:ident) => {
                $sdk_crate::Client::from_conf(
                    $sdk_crate::config::Builder::from(sdk)
                        .interceptor(CallLog)
                        .build(),
                )
            };
        }
        let s3_config = aws_sdk_s3::config::Builder::from(sdk)
            // Emulators serve buckets by path, not by virtual host names.
            .force_path_style(endpoint_url.is_some())
            .interceptor(CallLog)
            .build();
        Ok(Clients {
            region,
            endpoint_url,
            sts: client!(aws_sdk_sts),
            iam: client!(aws_sdk_iam),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            logs: client!(aws_sdk_cloudwatchlogs),
            bedrock: client!(aws_sdk_bedrock),
            cloudwatch: client!(aws_sdk_cloudwatch),
            sns: client!(aws_sdk_sns),
            budgets: client!(aws_sdk_budgets),
            kms: client!(aws_sdk_kms),
            costexplorer: client!(aws_sdk_costexplorer),
            dataexports: aws_sdk_bcmdataexports::Client::from_conf(
                aws_sdk_bcmdataexports::config::Builder::from(sdk)
                    .region(Region::new(DATA_EXPORTS_REGION))
                    .interceptor(CallLog)
                    .build(),
            ),
            organizations: client!(aws_sdk_organizations),
            athena: client!(aws_sdk_athena),
            servicequotas: client!(aws_sdk_servicequotas),
            lambda: client!(aws_sdk_lambda),
            scheduler: client!(aws_sdk_scheduler),
            chatbot: aws_sdk_chatbot::Client::from_conf(
                aws_sdk_chatbot::config::Builder::from(sdk)
                    .region(Region::new(CHATBOT_REGION))
                    .interceptor(CallLog)
                    .build(),
            ),
        })
    }

    pub async fn account(&self) -> Result<Account, AwsError> {
        let out = self.sts.get_caller_identity().send().await.map_err(|e| {
            AwsError::from_sdk("sts:GetCallerIdentity", e).in_region(&self.region, None)
        })?;
        let id = out.account().unwrap_or_default().to_string();
        let caller_arn = out.arn().unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(AwsError::setup(
                "sts:GetCallerIdentity returned no account ID",
                "check the credentials in use (`aws sts get-caller-identity`)",
            ));
        }
        let partition = caller_arn
            .split(':')
            .nth(1)
            .filter(|p| p.starts_with("aws"))
            .unwrap_or("aws")
            .to_string();
        Ok(Account {
            id,
            partition,
            caller_arn,
        })
    }
}

/// An AWS call that failed, with what a user needs to act on it.
#[derive(Debug, Clone, Serialize)]
pub struct AwsError {
    /// `service:Operation`, also the IAM action it needs (e.g. `iam:CreateRole`).
    pub operation: String,
    pub code: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The full error chain, for "show details".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operation.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{} failed", self.operation)?;
            if let Some(code) = &self.code {
                write!(f, " ({code})")?;
            }
            write!(f, ": {}", self.message)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let details = format!("{}", DisplayErrorContext(&err));
        let unreadable = |why: &str| {
            (
                Some("UnreadableResponse".to_string()),
                format!("could not read AWS's answer to {operation}: {why}"),
            )
        };
        let (code, message) = match &err {
            // A 2xx answer the SDK could not parse: say so, with the parser's reason, rather
            // than an "unhandled error" with a success status.
            SdkError::ServiceError(service)
                if service.err().code().is_none() && service.raw().status().is_success() =>
            {
                unreadable(&parser_reason(&err))
            }
            SdkError::ResponseError(_) => unreadable(&parser_reason(&err)),
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().map(str::to_string).or_else(|| {
                    // Bodiless errors (HEAD requests) only have a status.
                    Some(format!("HTTP {}", service.raw().status().as_u16()))
                });
                let message = e
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string());
                (code, message)
            }
            SdkError::TimeoutError(_) => (
                Some("Timeout".into()),
                "the call timed out after all retries".into(),
            ),
            SdkError::DispatchFailure(d) => {
                let msg = if d.is_io() {
                    "could not reach the AWS endpoint (connection failed)"
                } else {
                    "the request could not be sent"
                };
                (Some("DispatchFailure".into()), format!("{msg}: {details}"))
            }
            _ => (None, details.clone()),
        };
        let mut e = AwsError {
            operation: operation.to_string(),
            code,
            message,
            hint: None,
            details: Some(details),
        };
        e.hint = default_hint(&e);
        e
    }

    /// An error before or outside an AWS call (missing region, bad response).
    pub fn setup(message: impl Into<String>, hint: impl Into<String>) -> AwsError {
        AwsError {
            operation: String::new(),
            code: None,
            message: message.into(),
            hint: Some(hint.into()),
            details: None,
        }
    }

    /// A failed call whose response lacked something the tool needs.
    pub fn bad_response(operation: &str, what: &str) -> AwsError {
        AwsError {
            operation: operation.to_string(),
            code: None,
            message: format!("the response has no {what}"),
            hint: Some("this is unexpected from AWS; run again with -v and report it".into()),
            details: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> AwsError {
        self.hint = Some(hint.into());
        self
    }

    pub fn code_is(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// Whether AWS refused the credentials themselves (rather than what they may do).
    pub fn is_credentials_refused(&self) -> bool {
        self.code_is(CREDENTIALS_REFUSED)
    }

    /// The hint for a call made in `region` (for `account`, when known). Credentials refused
    /// in an opt-in region most likely mean the region is not enabled for the account: AWS
    /// answers such calls as if it did not know the credentials, which the generic hint would
    /// call expired. Calls to global services (IAM, Organizations, Budgets, Cost Explorer,
    /// Data Exports) do not go to the region and keep their hint.
    pub fn in_region(mut self, region: &str, account: Option<&str>) -> AwsError {
        let global = GLOBAL_SERVICES
            .iter()
            .any(|p| self.operation.starts_with(p));
        if self.is_credentials_refused() && !global && is_opt_in_region(region) {
            let who = account.map_or("the account".to_string(), |a| format!("account {a}"));
            self.hint = Some(format!(
                "{region} is an opt-in region, and AWS refuses credentials there until the region is enabled for {who}: enable it (AWS console, Account > AWS Regions, or `aws account enable-region --region-name {region}`) or leave it out of the regions; if it is enabled, the session token may come from the global STS endpoint, whose tokens are valid only in default regions (use a regional STS endpoint, or make global tokens valid in all regions in the IAM account settings)"
            ));
        }
        self
    }

    pub fn is_access_denied(&self) -> bool {
        self.code_is(&[
            "AccessDenied",
            "AccessDeniedException",
            "AuthorizationError",
            "UnauthorizedOperation",
            "HTTP 403",
        ])
    }
}

/// The innermost cause of an SDK error: for a response that could not be parsed, the parser's
/// own words (which element, which value).
fn parser_reason<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    let mut reason = err.to_string();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && text != "unhandled error" {
            reason = text;
        }
        source = cause.source();
    }
    reason
}

/// Error codes with which AWS refuses the credentials of a request: unknown or invalid keys
/// or session token (`InvalidAccessKeyId` is S3's).
const CREDENTIALS_REFUSED: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
];

/// Operation prefixes of services whose calls do not go to the stack's region.
const GLOBAL_SERVICES: &[&str] = &[
    "iam:",
    "organizations:",
    "budgets:",
    "ce:",
    "bcm-data-exports:",
    "cur:",
];

/// The regions every account of the commercial partition has enabled: those launched before
/// March 20, 2019 (AWS Account Management reference, "Enable or disable AWS Regions in your
/// account": later ones are opt-in, disabled until enabled for the account).
const DEFAULT_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// The ARN of the Data Exports export named `name`, `None` when there is none. Exports are
/// found only by listing (GetExport takes an ARN); the pages stop at the first match.
pub async fn find_data_export_arn(
    exports: &aws_sdk_bcmdataexports::Client,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let mut next = None;
    loop {
        let page = exports
            .list_exports()
            .set_next_token(next)
            .send()
            .await
            .aws("bcm-data-exports:ListExports")?;
        if let Some(export) = page.exports().iter().find(|e| e.export_name() == name) {
            return Ok(Some(export.export_arn().to_string()));
        }
        match page.next_token() {
            Some(token) => next = Some(token.to_string()),
            None => return Ok(None),
        }
    }
}

/// Whether `region` is an opt-in region (disabled by default). Every commercial region not in
/// [`DEFAULT_REGIONS`] is, new ones included; the GovCloud, China and ISO partitions have no
/// such regions.
pub fn is_opt_in_region(region: &str) -> bool {
    let other_partition = ["us-gov-", "cn-", "us-iso", "eu-isoe-"]
        .iter()
        .any(|p| region.starts_with(p));
    !other_partition && !DEFAULT_REGIONS.contains(&region)
}

fn default_hint(e: &AwsError) -> Option<String> {
    if e.is_access_denied() {
        return Some(format!(
            "the credentials in use lack `{}`; grant it (see `bedrock-monitor permissions`) or use another profile",
            e.operation
        ));
    }
    match e.code.as_deref() {
        Some("ExpiredToken" | "ExpiredTokenException" | "InvalidClientTokenId" | "UnrecognizedClientException" | "InvalidAccessKeyId") => {
            Some("the credentials are expired or invalid; refresh them (e.g. `aws sso login`) and run again".into())
        }
        Some("DispatchFailure") => Some(
            "check the network, the region and --endpoint-url; a rerun continues where this stopped".into(),
        ),
        Some("Timeout") => Some("AWS did not answer in time; run the command again".into()),
        Some("UnreadableResponse") => Some(
            "the endpoint answered something the AWS SDK cannot parse: check --endpoint-url and any proxy in between, then run again with -v".into(),
        ),
        _ => None,
    }
}

/// `result.aws("iam:GetRole")?` turns an SDK error into an [`AwsError`].
pub trait AwsResultExt<T> {
    fn aws(self, operation: &str) -> Result<T, AwsError>;
}

impl<T, E> AwsResultExt<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    fn aws(self, operation: &str) -> Result<T, AwsError> {
        self.map_err(|e| AwsError::from_sdk(operation, e))
    }
}

/// Clients with static test credentials for `endpoint` (an emulator), configured as
/// `--endpoint-url` would configure them. For tests and the benchmark.
pub fn emulator_clients(endpoint: &str, region: &str) -> Clients {
    let sdk = aws_types::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .request_checksum_calculation(
            aws_smithy_types::checksum_config::RequestChecksumCalculation::WhenRequired,
        )
        .response_checksum_validation(
            aws_smithy_types::checksum_config::ResponseChecksumValidation::WhenRequired,
        )
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("testing", "testing", None, None, "static"),
            ),
        )
        .build();
    match Clients::from_sdk_config(&sdk) {
        Ok(c) => c,
        Err(_) => unreachable!("the region is set above"),
    }
}

/// Clients no call can succeed with (a closed loopback port), for unit tests.
pub fn offline_clients() -> Clients {
    emulator_clients("http://127.0.0.1:9", "us-east-1")
}

pub fn test_account() -> Account {
    Account {
        id: "123456789012".into(),
        partition: "aws".into(),
        caller_arn: "arn:aws:iam::123456789012:user/test".into(),
    }
}

/// SDK builders reject a missing required field; every field the tool sets comes from a
/// validated config, so this is a bug in the tool, not in the input.
impl From<aws_smithy_types::error::operation::BuildError> for AwsError {
    fn from(e: aws_smithy_types::error::operation::BuildError) -> Self {
        AwsError::setup(
            format!("internal error building an AWS request: {e}"),
            "report this as a bug",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(operation: &str, code: &str) -> AwsError {
        let mut e = AwsError {
            operation: operation.into(),
            code: Some(code.into()),
            message: "The security token included in the request is invalid.".into(),
            hint: None,
            details: None,
        };
        e.hint = default_hint(&e);
        e
    }

    #[test]
    fn opt_in_regions_are_those_not_enabled_by_default() {
        for region in [
            "me-central-1",
            "ap-east-1",
            "af-south-1",
            "ca-west-1",
            "mx-central-1",
        ] {
            assert!(is_opt_in_region(region), "{region}");
        }
        for region in [
            "us-east-1",
            "eu-west-1",
            "ap-northeast-3",
            "us-gov-west-1",
            "cn-north-1",
        ] {
            assert!(!is_opt_in_region(region), "{region}");
        }
    }

    #[test]
    fn refused_credentials_in_an_opt_in_region_name_the_region_not_expiry() {
        for code in ["UnrecognizedClientException", "InvalidClientTokenId"] {
            let e = refused("logs:DescribeLogGroups", code)
                .in_region("me-central-1", Some("111111111111"));
            let hint = e.hint.unwrap_or_default();
            assert!(hint.contains("me-central-1 is an opt-in region"), "{hint}");
            assert!(hint.contains("account 111111111111"), "{hint}");
            assert!(!hint.contains("expired"), "{hint}");
        }
        // In a default region, or on a global service, the credentials are what is wrong.
        let e = refused("logs:DescribeLogGroups", "UnrecognizedClientException")
            .in_region("us-east-1", None);
        assert!(e.hint.unwrap_or_default().contains("expired or invalid"));
        let e = refused("iam:GetRole", "InvalidClientTokenId").in_region("me-central-1", None);
        assert!(e.hint.unwrap_or_default().contains("expired or invalid"));
        // Expired is expired, wherever.
        let e = refused("logs:DescribeLogGroups", "ExpiredTokenException")
            .in_region("me-central-1", None);
        assert!(e.hint.unwrap_or_default().contains("expired"));
    }
}
