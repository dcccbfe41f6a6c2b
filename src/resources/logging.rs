//! `logging`: Bedrock model invocation logging (one configuration per account and region),
//! delivering to the log group (through the role, large bodies to the bucket) and to the bucket.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_bedrock::types::{CloudWatchConfig, LoggingConfig, S3Config};
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::engine::{
    ComponentId, Context, Diff, Health, HealthLevel, Ownership, Permission, Resource,
};
use crate::resources::retry_while;

pub struct Logging;

/// The configuration as JSON fields (absent when logging is off).
#[derive(Debug, Clone)]
pub struct LoggingState {
    pub cloudwatch: Value,
    pub s3: Value,
    pub text: bool,
    pub image: bool,
    pub embedding: bool,
    pub video: bool,
    pub audio: bool,
}

/// How long to retry the IAM-propagation error after the role is created. AWS documents no
/// bound; the Terraform provider waits a minute, and two minutes covers what users report.
const PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

/// The error Bedrock gives while a new role (or its policy) is not yet visible to it.
pub fn is_propagation_error(e: &AwsError) -> bool {
    e.code_is(&["ValidationException"])
        && e.message
            .to_ascii_lowercase()
            .contains("failed to validate permissions")
}

impl Logging {
    fn desired_cloudwatch(cx: &Context) -> Value {
        let large = cx.config.invocation_logging.large_data_to_s3;
        json!({
            "log_group": cx.config.log_group.name,
            "role_arn": cx.role_arn(),
            "large_data_bucket": large.then(|| cx.bucket_name()),
            "large_data_key_prefix": large.then(|| cx.config.bucket.key_prefix.clone()),
        })
    }

    fn desired_s3(cx: &Context) -> Value {
        json!({"bucket": cx.bucket_name(), "key_prefix": cx.config.bucket.key_prefix})
    }

    fn desired(cx: &Context) -> Vec<(String, Value)> {
        let l = &cx.config.invocation_logging;
        vec![
            ("cloudwatch".into(), Self::desired_cloudwatch(cx)),
            ("s3".into(), Self::desired_s3(cx)),
            ("text_delivery".into(), json!(l.text)),
            ("image_delivery".into(), json!(l.image)),
            ("embedding_delivery".into(), json!(l.embedding)),
            ("video_delivery".into(), json!(l.video)),
        ]
        .into_iter()
        .chain(l.audio.map(|a| ("audio_delivery".into(), json!(a))))
        .collect()
    }

    /// Whether an existing configuration delivers to this stack's log group and bucket.
    pub fn points_at_this_stack(cx: &Context, state: &LoggingState) -> bool {
        let log_group_ours = state.cloudwatch.is_null()
            || state.cloudwatch["log_group"] == json!(cx.config.log_group.name);
        let bucket_ours = state.s3.is_null() || state.s3["bucket"] == json!(cx.bucket_name());
        log_group_ours && bucket_ours
    }

    fn describe(state: &LoggingState) -> String {
        let mut places = Vec::new();
        if let Some(g) = state.cloudwatch["log_group"].as_str() {
            places.push(format!("log group {g}"));
        }
        if let Some(b) = state.s3["bucket"].as_str() {
            places.push(format!("bucket {b}"));
        }
        places.join(" and ")
    }

    /// The whole configuration to put. `PutModelInvocationLoggingConfiguration` replaces
    /// every field (Bedrock API reference, LoggingConfig: each delivery flag is optional, and
    /// one left out is off), so what the config does not set is carried over from what the
    /// account has: audio delivery when `[invocation_logging] audio` is unset. The fields are
    /// all of the SDK's `LoggingConfig` (a unit test fails when the SDK gains one).
    fn request(cx: &Context, observed: Option<&LoggingState>) -> Result<LoggingConfig, AwsError> {
        let l = &cx.config.invocation_logging;
        let audio = l.audio.or(observed.map(|o| o.audio)).unwrap_or(false);
        let prefix = &cx.config.bucket.key_prefix;
        let bucket = cx.bucket_name();
        let s3_config = |b: &str| {
            S3Config::builder()
                .bucket_name(b)
                .set_key_prefix((!prefix.is_empty()).then(|| prefix.clone()))
                .build()
        };
        let mut cloudwatch = CloudWatchConfig::builder()
            .log_group_name(&cx.config.log_group.name)
            .role_arn(cx.role_arn());
        if l.large_data_to_s3 {
            cloudwatch = cloudwatch.large_data_delivery_s3_config(s3_config(&bucket)?);
        }
        Ok(LoggingConfig::builder()
            .cloud_watch_config(cloudwatch.build()?)
            .s3_config(s3_config(&bucket)?)
            .text_data_delivery_enabled(l.text)
            .image_data_delivery_enabled(l.image)
            .embedding_data_delivery_enabled(l.embedding)
            .video_data_delivery_enabled(l.video)
            .audio_data_delivery_enabled(audio)
            .build())
    }
}

#[async_trait]
impl Resource for Logging {
    type State = Option<LoggingState>;

    fn id(&self) -> ComponentId {
        ComponentId::Logging
    }

    fn name(&self, cx: &Context) -> String {
        format!("model invocation logging ({})", cx.region)
    }

    fn depends_on(&self) -> &'static [ComponentId] {
        &[
            ComponentId::Role,
            ComponentId::Bucket,
            ComponentId::LogGroup,
        ]
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let out = cx
            .aws
            .bedrock
            .get_model_invocation_logging_configuration()
            .send()
            .await
            .aws("bedrock:GetModelInvocationLoggingConfiguration")?;
        let Some(config) = out.logging_config() else {
            return Ok(None);
        };
        if config.cloud_watch_config().is_none() && config.s3_config().is_none() {
            return Ok(None);
        }
        let cloudwatch = config
            .cloud_watch_config()
            .map(|c| {
                let large = c.large_data_delivery_s3_config();
                json!({
                    "log_group": c.log_group_name(),
                    "role_arn": c.role_arn(),
                    "large_data_bucket": large.map(|s| s.bucket_name()),
                    "large_data_key_prefix": large.map(|s| s.key_prefix().unwrap_or_default()),
                })
            })
            .unwrap_or(Value::Null);
        let s3 = config
            .s3_config()
            .map(|s| json!({"bucket": s.bucket_name(), "key_prefix": s.key_prefix().unwrap_or_default()}))
            .unwrap_or(Value::Null);
        Ok(Some(LoggingState {
            cloudwatch,
            s3,
            text: config.text_data_delivery_enabled().unwrap_or(false),
            image: config.image_data_delivery_enabled().unwrap_or(false),
            embedding: config.embedding_data_delivery_enabled().unwrap_or(false),
            video: config.video_data_delivery_enabled().unwrap_or(false),
            audio: config.audio_data_delivery_enabled().unwrap_or(false),
        }))
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let desired = Self::desired(cx);
        let Some(s) = state else {
            return Diff::create(desired);
        };
        let diff = Diff::compare(desired, |field| match field {
            "cloudwatch" => s.cloudwatch.clone(),
            "s3" => s.s3.clone(),
            "text_delivery" => json!(s.text),
            "image_delivery" => json!(s.image),
            "embedding_delivery" => json!(s.embedding),
            "video_delivery" => json!(s.video),
            "audio_delivery" => json!(s.audio),
            _ => Value::Null,
        });
        if diff.is_change() && !Self::points_at_this_stack(cx, s) {
            let mut diff = diff;
            diff.replaces_foreign = true;
            return diff.with_note(format!(
                "invocation logging already delivers to {}, which this stack does not own; apply replaces it only after you confirm or with --adopt-logging",
                Self::describe(s)
            ));
        }
        diff
    }

    async fn apply(&self, cx: &Context, state: &Self::State, _diff: &Diff) -> Result<(), AwsError> {
        if let Some(s) = state
            && !Self::points_at_this_stack(cx, s)
            && !cx.adopt_logging()
        {
            return Err(AwsError {
                operation: "bedrock:PutModelInvocationLoggingConfiguration".into(),
                code: Some("LoggingOwnedElsewhere".into()),
                message: format!(
                    "invocation logging in {} already delivers to {}",
                    cx.region,
                    Self::describe(s)
                ),
                hint: Some(
                    "pass --adopt-logging to replace it with this stack's configuration".into(),
                ),
                details: None,
            });
        }
        let request = Self::request(cx, state.as_ref())?;
        retry_while(
            cx,
            ComponentId::Logging,
            PROPAGATION_BUDGET,
            "Bedrock cannot use the new role yet (IAM propagation)",
            is_propagation_error,
            || async {
                cx.aws
                    .bedrock
                    .put_model_invocation_logging_configuration()
                    .logging_config(request.clone())
                    .send()
                    .await
                    .aws("bedrock:PutModelInvocationLoggingConfiguration")
            },
        )
        .await
        .map_err(|e| {
            if is_propagation_error(&e) {
                e.with_hint("the role is still not usable by Bedrock after two minutes; check its trust policy, then run apply again")
            } else {
                e
            }
        })?;
        Ok(())
    }

    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        match state {
            None => Ownership::Missing,
            Some(s) if Self::points_at_this_stack(cx, s) => Ownership::Managed {
                evidence: "delivers to this stack's log group and bucket".into(),
            },
            Some(s) => Ownership::NotManaged {
                reason: format!("delivers to {}", Self::describe(s)),
            },
        }
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let role = cx.configured_role_arn();
        vec![
            // Invocation logging has no resource-level permissions.
            Permission::new(
                &[
                    "bedrock:GetModelInvocationLoggingConfiguration",
                    "bedrock:PutModelInvocationLoggingConfiguration",
                    "bedrock:DeleteModelInvocationLoggingConfiguration",
                ],
                ["*".to_string()],
            ),
            // PutModelInvocationLoggingConfiguration hands the role to Bedrock.
            Permission {
                condition: Some(
                    json!({"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}),
                ),
                ..Permission::new(&["iam:PassRole"], [role])
            },
        ]
    }

    fn health(&self, cx: &Context, state: &Self::State) -> Vec<Health> {
        let subject = format!("invocation logging ({})", cx.region);
        vec![match state {
            None => Health {
                subject,
                level: HealthLevel::Alarm,
                detail: "off: Bedrock invocations are not logged".into(),
            },
            Some(s) if !Self::points_at_this_stack(cx, s) => Health {
                subject,
                level: HealthLevel::Warning,
                detail: format!(
                    "on, but delivering to {}, not to this stack",
                    Self::describe(s)
                ),
            },
            Some(s) => Health {
                subject,
                level: HealthLevel::Ok,
                detail: format!("on, delivering to {}", Self::describe(s)),
            },
        }]
    }

    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        if state.is_none() {
            return Ok(());
        }
        cx.aws
            .bedrock
            .delete_model_invocation_logging_configuration()
            .send()
            .await
            .aws("bedrock:DeleteModelInvocationLoggingConfiguration")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrock::types::LoggingConfig;

    /// Every field of the SDK's `LoggingConfig` is either set from the config or carried over
    /// by `Logging::request`: a field the SDK adds later would be switched off by every apply
    /// without a plan line, so this fails until it is handled there (and named here).
    #[test]
    fn every_logging_config_field_is_handled() {
        let handled = [
            "cloud_watch_config",
            "s3_config",
            "text_data_delivery_enabled",
            "image_data_delivery_enabled",
            "embedding_data_delivery_enabled",
            "video_data_delivery_enabled",
            "audio_data_delivery_enabled",
        ];
        let debug = format!("{:?}", LoggingConfig::builder().build());
        let inner = debug
            .trim_start_matches("LoggingConfig {")
            .trim_end_matches('}');
        let fields: Vec<&str> = inner
            .split(", ")
            .filter_map(|f| f.split(':').next())
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        assert_eq!(fields, handled, "{debug}");
    }
}
