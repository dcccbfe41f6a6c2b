//! The function: its package zipped with the config, read back from `GetFunction`, created
//! or updated where the diff says.

use std::time::Duration;

use super::*;
use crate::aws::AwsResultExt;
use crate::resources::{absent_if, retry_while};
use crate::runner::package;

impl LimitsRunner {
    /// The package: `[limits_runner] package`, else the running binary when it qualifies;
    /// with the config it is run with, zipped.
    pub(super) fn code(config: &crate::config::Config) -> Result<Code, AwsError> {
        let named = config
            .limits_runner
            .as_ref()
            .and_then(|r| r.package_path(None));
        let (source, built) = match named {
            Some(path) => {
                let built = package::check(&path).map_err(|e| {
                    AwsError::setup(
                        format!("the limits runner's package {e}"),
                        "run scripts/build-runner and set [limits_runner] package to the path it prints beside the zip (target/runner/bootstrap)",
                    )
                })?;
                (path, built)
            }
            None => {
                let (path, built) = package::check_running_binary().map_err(|e| {
                    AwsError::setup(
                        format!("no limits runner package: [limits_runner] package is not set, and the running binary {}", e.reason),
                        "run scripts/build-runner and set [limits_runner] package to the path it prints beside the zip (target/runner/bootstrap)",
                    )
                })?;
                (path, built)
            }
        };
        let executable = std::fs::read(&source).map_err(|e| {
            AwsError::setup(
                format!("cannot read the limits runner's package {}: {e}", source.display()),
                "check [limits_runner] package",
            )
        })?;
        // The config the function runs with: as loaded, without `[limits_runner]`, which is
        // about deploying the function, not about a pass (its package path is a path on this
        // machine, and a new interval must change the schedule only, not the code).
        let mut config = config.clone();
        config.limits_runner = None;
        let text = toml::to_string(&config).map_err(|e| {
            AwsError::setup(
                format!("cannot write the limits runner's config: {e}"),
                "report this as a bug",
            )
        })?;
        let zip = crate::runner::zip::build(&[
            crate::runner::zip::Entry {
                name: "bootstrap",
                data: &executable,
                mode: 0o755,
            },
            crate::runner::zip::Entry {
                name: CONFIG_FILE,
                data: text.as_bytes(),
                mode: 0o644,
            },
        ])
        .map_err(|e| AwsError::setup(format!("cannot zip the limits runner: {e}"), "check [limits_runner] package"))?;
        Ok(Code {
            sha256: crate::runner::zip::code_sha256(&zip),
            zip: std::sync::Arc::new(zip),
            architecture: built.architecture,
            source,
        })
    }

    pub(super) async fn read_function(cx: &Context) -> Result<Option<ObservedFunction>, AwsError> {
        let got = absent_if(
            cx.aws
                .lambda
                .get_function()
                .function_name(Self::name(cx))
                .send()
                .await
                .aws("lambda:GetFunction"),
            LAMBDA_NOT_FOUND,
        )?;
        let Some(got) = got else { return Ok(None) };
        let Some(c) = got.configuration() else {
            return Err(AwsError::bad_response("lambda:GetFunction", "Configuration"));
        };
        Ok(Some(ObservedFunction {
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            handler: c.handler().map(str::to_string),
            architecture: c.architectures().first().map(|a| a.as_str().to_string()),
            role: c.role().map(str::to_string),
            timeout: c.timeout(),
            memory: c.memory_size(),
            code_sha256: c.code_sha256().map(str::to_string),
            tags: got
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }))
    }

    pub(super) fn architecture(code: &Code) -> aws_sdk_lambda::types::Architecture {
        aws_sdk_lambda::types::Architecture::from(code.architecture.lambda_name())
    }

    pub(super) async fn put_function(
        cx: &Context,
        state: &RunnerState,
        code: &Code,
        diff: &Diff,
    ) -> Result<(), AwsError> {
        let lambda = &cx.aws.lambda;
        let name = Self::name(cx);
        let role = Self::role_arn(cx, &Self::execution_role_name(cx));
        let zip = aws_smithy_types::Blob::new(code.zip.as_slice());
        if state.function.is_none() {
            // A role just made may not be assumable by Lambda for seconds (IAM eventual
            // consistency): CreateFunction answers InvalidParameterValueException then.
            retry_while(
                cx,
                ComponentId::LimitsRunner,
                Duration::from_secs(60),
                "waiting for the new execution role to become assumable",
                |e| e.code_is(&["InvalidParameterValueException"]),
                || async {
                    lambda
                        .create_function()
                        .function_name(&name)
                        .runtime(aws_sdk_lambda::types::Runtime::from(RUNTIME))
                        .handler(HANDLER)
                        .role(&role)
                        .architectures(Self::architecture(code))
                        .timeout(TIMEOUT_SECONDS)
                        .memory_size(MEMORY_MB)
                        .description("Enforces bedrock-monitor's [[limits]] (managed by bedrock-monitor)")
                        .code(
                            aws_sdk_lambda::types::FunctionCode::builder()
                                .zip_file(zip.clone())
                                .build(),
                        )
                        .set_tags(Some(cx.config.tags().into_iter().collect()))
                        .send()
                        .await
                        .aws("lambda:CreateFunction")
                },
            )
            .await?;
            return Ok(());
        }
        if diff.touches("function.code_sha256") || diff.touches("function.architecture") {
            lambda
                .update_function_code()
                .function_name(&name)
                .zip_file(zip)
                .architectures(Self::architecture(code))
                .send()
                .await
                .aws("lambda:UpdateFunctionCode")?;
        }
        if ["runtime", "handler", "role", "timeout", "memory"]
            .iter()
            .any(|f| diff.touches(&format!("function.{f}")))
        {
            // The code update above may still be in progress: Lambda refuses another update
            // meanwhile with ResourceConflictException (Lambda Developer Guide, "Lambda
            // function states").
            retry_while(
                cx,
                ComponentId::LimitsRunner,
                Duration::from_secs(60),
                "waiting for the function's code update to finish",
                |e| e.code_is(&["ResourceConflictException"]),
                || async {
                    lambda
                        .update_function_configuration()
                        .function_name(&name)
                        .runtime(aws_sdk_lambda::types::Runtime::from(RUNTIME))
                        .handler(HANDLER)
                        .role(&role)
                        .timeout(TIMEOUT_SECONDS)
                        .memory_size(MEMORY_MB)
                        .send()
                        .await
                        .aws("lambda:UpdateFunctionConfiguration")
                },
            )
            .await?;
        }
        if diff.touches("function.tags") {
            lambda
                .tag_resource()
                .resource(Self::function_arn(cx))
                .set_tags(Some(cx.config.tags().into_iter().collect()))
                .send()
                .await
                .aws("lambda:TagResource")?;
        }
        Ok(())
    }
}
