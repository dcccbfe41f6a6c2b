//! `limits-runner` (with `[[limits]]`): the limits pass run in the account every
//! `interval_minutes`. Three parts, all named `<stack>-limits-runner`:
//!
//! - the function: this binary as an AWS Lambda function on the custom runtime
//!   `provided.al2023` (handler `bootstrap`, which the runtime ignores but `CreateFunction`
//!   takes), its zip holding the package as `bootstrap` and the config as
//!   `bedrock-monitor.toml` (what `commands::lambda` loads in `LAMBDA_TASK_ROOT`);
//! - its execution role, allowed exactly what a pass needs (`limits::access`), what the spend
//!   digest needs when `[chat] digest` is set (it publishes it after the pass), and its own logs;
//! - an EventBridge Scheduler schedule that invokes it with `runner::lambda::SCHEDULE_INPUT`,
//!   through a role that may invoke that function only.
//!
//! The code is compared by `CodeSha256` (the zip's SHA-256, base64; Lambda API reference,
//! `FunctionConfiguration`): `runner::zip` builds the same bytes for the same files, so a
//! second `apply` uploads nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::aws::{AwsError, AwsResultExt};
use crate::docs;
use crate::engine::{ComponentId, Context, Diff, Foreign, Ownership, Permission, Resource};
use crate::resources::iam::delete_role_and_policies;
use crate::resources::{absent_if, foreign_by_tags, tags_field};
use crate::runner::package::Architecture;

mod function;
mod roles;
mod schedule;

use roles::Which;

pub struct LimitsRunner;

/// What a limits pass may do in this target ([`crate::limits::access`]): the runner's role
/// holds exactly these, and the operator's policy has them for `limits run --once`.
pub fn pass_statements(cx: &Context) -> Vec<crate::limits::access::Statement> {
    let bucket = cx.bucket_name();
    let topic_arn = cx.topic_arn();
    let at = crate::limits::access::Scope {
        partition: cx.partition(),
        account: &cx.account.id,
        bucket: &bucket,
        topic_arn: &topic_arn,
    };
    crate::limits::access::statements(&cx.config, &at)
}

/// What the spend digest may do in this target ([`crate::limits::access::digest_statements`]):
/// the runner publishes it after its pass, and the operator with `digest --publish`.
pub fn digest_statements(cx: &Context) -> Vec<crate::limits::access::Statement> {
    let bucket = cx.bucket_name();
    let topic_arn = cx.topic_arn();
    let at = crate::limits::access::DigestScope {
        pass: crate::limits::access::Scope {
            partition: cx.partition(),
            account: &cx.account.id,
            bucket: &bucket,
            topic_arn: &topic_arn,
        },
        region: &cx.region,
        log_group: &cx.config.log_group.name,
    };
    crate::limits::access::digest_statements(&cx.config, &at)
}

/// The custom runtime on Amazon Linux 2023 (Lambda Developer Guide, "Lambda runtimes":
/// `provided.al2023`, OS-only runtime).
const RUNTIME: &str = "provided.al2023";
/// A custom runtime runs the zip's `bootstrap` whatever the handler says; `bootstrap` is the
/// name the Developer Guide's custom-runtime examples give it ("Building a custom runtime").
const HANDLER: &str = "bootstrap";
/// The config file name in the zip: what `commands::lambda` reads from `LAMBDA_TASK_ROOT`.
const CONFIG_FILE: &str = "bedrock-monitor.toml";
/// Seconds a pass may take. The tool's own bound, well under Lambda's 900-second maximum
/// (Lambda quotas, "Function timeout"): a pass reads only the objects no earlier pass counted.
const TIMEOUT_SECONDS: i32 = 300;
/// The function's memory in MB (Lambda takes 128 to 10,240; Lambda quotas, "Function memory
/// allocation"). The tool's own choice: the limits benchmark's pass stays under 256 MiB.
const MEMORY_MB: i32 = 512;
/// The execution role's inline policy, and the scheduler role's.
const POLICY_NAME: &str = "bedrock-monitor-limits-runner";
/// Lambda answers this for a function that does not exist (Lambda API reference,
/// `GetFunction` errors).
const LAMBDA_NOT_FOUND: &[&str] = &["ResourceNotFoundException"];
/// And Scheduler for a schedule (`GetSchedule` errors).
const SCHEDULE_NOT_FOUND: &[&str] = &["ResourceNotFoundException"];
/// Schedules made without a group go to the group `default` (Scheduler API reference,
/// `CreateSchedule`, `GroupName`).
const SCHEDULE_GROUP: &str = "default";

/// What exists of the runner.
#[derive(Debug, Clone)]
pub struct RunnerState {
    pub execution_role: Option<ObservedRole>,
    pub scheduler_role: Option<ObservedRole>,
    pub function: Option<ObservedFunction>,
    pub schedule: Option<ObservedSchedule>,
    /// The denies the limits passes made, as the state objects record them: `cleanup` lifts
    /// them (they are this stack's even when the runner was never deployed and a cron job ran
    /// the passes).
    pub blocks: crate::limits::lift::Recorded,
    /// The package as it would be uploaded (read from disk, not AWS), or why there is none:
    /// an error only for `apply`, so that `cleanup` and `status` work without a package.
    pub code: std::sync::Arc<LazyCode>,
}

/// The zip, built the first time a diff or an apply asks for it: `cleanup` never does, and
/// zipping a large executable is seconds of CPU that must not hold up the other reads.
pub struct LazyCode {
    config: crate::config::Config,
    built: std::sync::OnceLock<Result<Code, AwsError>>,
}

impl LazyCode {
    fn new(config: &crate::config::Config) -> LazyCode {
        LazyCode {
            config: config.clone(),
            built: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> &Result<Code, AwsError> {
        self.built.get_or_init(|| LimitsRunner::code(&self.config))
    }
}

impl std::fmt::Debug for LazyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.built.get() {
            Some(code) => code.fmt(f),
            None => f.write_str("(not built yet)"),
        }
    }
}

pub use crate::resources::iam::ObservedRole;

#[derive(Debug, Clone)]
pub struct ObservedFunction {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub architecture: Option<String>,
    pub role: Option<String>,
    pub timeout: Option<i32>,
    pub memory: Option<i32>,
    pub code_sha256: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ObservedSchedule {
    pub expression: String,
    pub flexible_window: String,
    pub target_arn: String,
    pub role_arn: String,
    pub input: Option<String>,
    pub state: Option<String>,
}

/// The zip `apply` would upload.
#[derive(Debug, Clone)]
pub struct Code {
    pub zip: std::sync::Arc<Vec<u8>>,
    pub sha256: String,
    pub architecture: Architecture,
    pub source: PathBuf,
}

impl LimitsRunner {
    fn name(cx: &Context) -> String {
        format!("{}-limits-runner", cx.config.stack.name)
    }

    /// IAM is global to an account, and one account may run a runner in several regions
    /// (`[targets]`): each region's roles carry its name, so that no region's apply rewrites
    /// another's policy (which names its own function, bucket and topic).
    fn execution_role_name(cx: &Context) -> String {
        crate::config::limits_runner::execution_role_name(&cx.config.stack.name, &cx.region)
    }

    fn scheduler_role_name(cx: &Context) -> String {
        crate::config::limits_runner::scheduler_role_name(&cx.config.stack.name, &cx.region)
    }

    fn role_arn(cx: &Context, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", cx.partition(), cx.account.id)
    }

    fn function_arn(cx: &Context) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            cx.partition(),
            cx.region,
            cx.account.id,
            Self::name(cx)
        )
    }

    fn schedule_arn(cx: &Context) -> String {
        format!(
            "arn:{}:scheduler:{}:{}:schedule/{SCHEDULE_GROUP}/{}",
            cx.partition(),
            cx.region,
            cx.account.id,
            Self::name(cx)
        )
    }

    /// Lambda's default log group for the function (Lambda Developer Guide, "Sending Lambda
    /// function logs to CloudWatch Logs": `/aws/lambda/<function name>`).
    fn log_group_arn(cx: &Context) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:/aws/lambda/{}",
            cx.partition(),
            cx.region,
            cx.account.id,
            Self::name(cx)
        )
    }

    fn desired(cx: &Context, code: &Result<Code, AwsError>) -> Vec<(String, Value)> {
        // Without a package the code's fields show what is missing, so `plan` shows a change
        // and `apply` stops with what to do.
        let (architecture, sha256) = match code {
            Ok(code) => (
                json!(code.architecture.lambda_name()),
                json!(code.sha256),
            ),
            Err(e) => {
                let missing = json!(format!("no package: {}", e.message));
                (missing.clone(), missing)
            }
        };
        let tags = json!(cx.config.tags());
        let interval = cx
            .config
            .limits_runner
            .clone()
            .unwrap_or_default()
            .schedule_expression();
        vec![
            ("execution_role.trust".into(), Self::trust(cx, "lambda.amazonaws.com")),
            ("execution_role.policy".into(), Self::execution_policy(cx)),
            ("execution_role.tags".into(), tags.clone()),
            ("scheduler_role.trust".into(), Self::trust(cx, "scheduler.amazonaws.com")),
            ("scheduler_role.policy".into(), Self::scheduler_policy(cx)),
            ("scheduler_role.tags".into(), tags.clone()),
            ("function.runtime".into(), json!(RUNTIME)),
            ("function.handler".into(), json!(HANDLER)),
            ("function.architecture".into(), architecture),
            ("function.role".into(), json!(Self::role_arn(cx, &Self::execution_role_name(cx)))),
            ("function.timeout".into(), json!(TIMEOUT_SECONDS)),
            ("function.memory".into(), json!(MEMORY_MB)),
            ("function.code_sha256".into(), sha256),
            ("function.tags".into(), tags),
            ("schedule.expression".into(), json!(interval)),
            // OFF: the pass runs at its time, so the time to block stays `interval_minutes`
            // (Scheduler API reference, `FlexibleTimeWindow.Mode`: OFF | FLEXIBLE).
            ("schedule.flexible_window".into(), json!("OFF")),
            ("schedule.target".into(), json!(Self::function_arn(cx))),
            ("schedule.role".into(), json!(Self::role_arn(cx, &Self::scheduler_role_name(cx)))),
            ("schedule.input".into(), json!(crate::runner::lambda::SCHEDULE_INPUT)),
            ("schedule.state".into(), json!("ENABLED")),
        ]
    }

    fn observed(cx: &Context, state: &RunnerState, field: &str) -> Value {
        let role = |r: &Option<ObservedRole>, part: &str| match r {
            None => Value::Null,
            Some(r) => match part {
                "trust" => r.trust.clone().unwrap_or(Value::Null),
                "policy" => r.permissions.clone().unwrap_or(Value::Null),
                _ => tags_field(&cx.config.tags(), &r.tags).0,
            },
        };
        let f = state.function.as_ref();
        let s = state.schedule.as_ref();
        match field.split_once('.') {
            Some(("execution_role", part)) => role(&state.execution_role, part),
            Some(("scheduler_role", part)) => role(&state.scheduler_role, part),
            Some(("function", part)) => match (f, part) {
                (None, _) => Value::Null,
                (Some(f), "runtime") => json!(f.runtime),
                (Some(f), "handler") => json!(f.handler),
                (Some(f), "architecture") => json!(f.architecture),
                (Some(f), "role") => json!(f.role),
                (Some(f), "timeout") => json!(f.timeout),
                (Some(f), "memory") => json!(f.memory),
                (Some(f), "code_sha256") => json!(f.code_sha256),
                (Some(f), _) => tags_field(&cx.config.tags(), &f.tags).0,
            },
            Some(("schedule", part)) => match (s, part) {
                (None, _) => Value::Null,
                (Some(s), "expression") => json!(s.expression),
                (Some(s), "flexible_window") => json!(s.flexible_window),
                (Some(s), "target") => json!(s.target_arn),
                (Some(s), "role") => json!(s.role_arn),
                (Some(s), "input") => json!(s.input),
                (Some(s), _) => json!(s.state),
            },
            _ => Value::Null,
        }
    }

}

#[async_trait]
impl Resource for LimitsRunner {
    type State = RunnerState;

    fn id(&self) -> ComponentId {
        ComponentId::LimitsRunner
    }

    fn name(&self, cx: &Context) -> String {
        Self::name(cx)
    }

    /// It publishes to the topic and reads the bucket.
    fn depends_on(&self) -> &'static [ComponentId] {
        &[ComponentId::Bucket, ComponentId::Topic]
    }

    fn configured(&self, config: &crate::config::Config) -> bool {
        config.wants_runner()
    }

    async fn read(&self, cx: &Context) -> Result<Self::State, AwsError> {
        let code = std::sync::Arc::new(LazyCode::new(&cx.config));
        let execution_role = Self::execution_role_name(cx);
        let scheduler_role = Self::scheduler_role_name(cx);
        let (execution_role, scheduler_role, function, schedule, blocks) = tokio::join!(
            Self::read_role(cx, &execution_role),
            Self::read_role(cx, &scheduler_role),
            Self::read_function(cx),
            Self::read_schedule(cx),
            crate::limits::lift::recorded(&cx.aws, &cx.config, &cx.account.id, chrono::Utc::now()),
        );
        Ok(RunnerState {
            execution_role: execution_role?,
            scheduler_role: scheduler_role?,
            function: function?,
            schedule: schedule?,
            blocks: blocks?,
            code,
        })
    }

    fn diff(&self, cx: &Context, state: &Self::State) -> Diff {
        let desired = Self::desired(cx, state.code.get());
        let exists = state.execution_role.is_some()
            || state.scheduler_role.is_some()
            || state.function.is_some()
            || state.schedule.is_some();
        if !exists {
            let note = match state.code.get() {
                Ok(code) => format!("package: {}", code.source.display()),
                Err(e) => e.to_string(),
            };
            return Diff::create(desired).with_note(note);
        }
        let mut diff = Diff::compare(desired, |field| Self::observed(cx, state, field));
        // Policies are equal when they mean the same, whatever IAM did to their layout.
        diff.changes.retain(|c| {
            !(c.field.ends_with(".trust") || c.field.ends_with(".policy"))
                || c.old.is_null()
                || !docs::same_policy(&c.old, &c.new)
        });
        Diff::of(diff.changes, true)
    }

    async fn apply(&self, cx: &Context, state: &Self::State, diff: &Diff) -> Result<(), AwsError> {
        // Nothing is made without a package, so no role waits for a function that cannot come.
        // Built already by the diff that led here; on a worker that may block, it is not.
        let lazy = state.code.clone();
        let built = tokio::task::spawn_blocking(move || lazy.get().clone())
            .await
            .map_err(|e| AwsError::setup(format!("building the limits runner's zip failed: {e}"), "report this as a bug"))?;
        let code = &built?;
        Self::put_role(cx, diff, Which::Execution, state.execution_role.is_some()).await?;
        Self::put_function(cx, state, code, diff).await?;
        Self::put_role(cx, diff, Which::Scheduler, state.scheduler_role.is_some()).await?;
        if diff.touches("schedule") {
            Self::put_schedule(cx, state).await?;
        }
        Ok(())
    }

    /// The function carries the stack's tag (schedules take no tags); without a function,
    /// the execution role's.
    fn ownership(&self, cx: &Context, state: &Self::State) -> Ownership {
        let tags = state
            .function
            .as_ref()
            .map(|f| &f.tags)
            .or(state.execution_role.as_ref().map(|r| &r.tags))
            .or(state.scheduler_role.as_ref().map(|r| &r.tags));
        match tags {
            Some(tags) => crate::resources::ownership_from_tags(cx, tags),
            None if state.schedule.is_some() => Ownership::NotManaged {
                reason: format!(
                    "schedule {} exists without this stack's function or roles",
                    Self::name(cx)
                ),
            },
            None if !state.blocks.is_empty() => Ownership::Managed {
                evidence: format!(
                    "the denies recorded in this stack's limits state ({})",
                    state.blocks.blocks.join(", ")
                ),
            },
            None => Ownership::Missing,
        }
    }

    fn foreign(&self, cx: &Context, state: &Self::State) -> Vec<Foreign> {
        let name = Self::name(cx);
        let mut out = Vec::new();
        if let Some(f) = &state.function {
            out.extend(foreign_by_tags(cx, format!("Lambda function {name}"), &f.tags));
        }
        if let Some(r) = &state.execution_role {
            out.extend(foreign_by_tags(
                cx,
                format!("role {}", Self::execution_role_name(cx)),
                &r.tags,
            ));
        }
        if let Some(r) = &state.scheduler_role {
            out.extend(foreign_by_tags(
                cx,
                format!("role {}", Self::scheduler_role_name(cx)),
                &r.tags,
            ));
        }
        out
    }

    fn permissions(&self, cx: &Context) -> Vec<Permission> {
        let roles = [
            Self::role_arn(cx, &Self::execution_role_name(cx)),
            Self::role_arn(cx, &Self::scheduler_role_name(cx)),
        ];
        let pass = |role: String, service: &str| Permission {
            condition: Some(json!({"StringEquals": {"iam:PassedToService": service}})),
            ..Permission::new(&["iam:PassRole"], [role])
        };
        vec![
            Permission::new(
                &[
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:CreateRole",
                    "iam:TagRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:PutRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:DeleteRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:DetachRolePolicy",
                    "iam:DeleteRole",
                ],
                roles.clone(),
            ),
            // CreateFunction and UpdateFunctionConfiguration hand the execution role to
            // Lambda; Create/UpdateSchedule hand the scheduler role to Scheduler.
            pass(roles[0].clone(), "lambda.amazonaws.com"),
            pass(roles[1].clone(), "scheduler.amazonaws.com"),
            Permission::new(
                &[
                    "lambda:GetFunction",
                    "lambda:CreateFunction",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:TagResource",
                    "lambda:DeleteFunction",
                ],
                [Self::function_arn(cx)],
            ),
            Permission::new(
                &[
                    "scheduler:GetSchedule",
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                ],
                [Self::schedule_arn(cx)],
            ),
        ]
    }

    /// The schedule and the function go first, so no pass runs while the blocks are lifted;
    /// the roles last, so a failure before leaves the runner's permissions with it.
    async fn delete(&self, cx: &Context, state: &Self::State) -> Result<(), AwsError> {
        let name = Self::name(cx);
        if state.schedule.is_some() {
            absent_if(
                cx.aws
                    .scheduler
                    .delete_schedule()
                    .name(&name)
                    .group_name(SCHEDULE_GROUP)
                    .send()
                    .await
                    .aws("scheduler:DeleteSchedule"),
                SCHEDULE_NOT_FOUND,
            )?;
        }
        if state.function.is_some() {
            absent_if(
                cx.aws
                    .lambda
                    .delete_function()
                    .function_name(&name)
                    .send()
                    .await
                    .aws("lambda:DeleteFunction"),
                LAMBDA_NOT_FOUND,
            )?;
        }
        if !state.blocks.is_empty() {
            let lifted =
                crate::limits::lift::lift(&cx.aws, &cx.config, &cx.account.id, &state.blocks)
                    .await?;
            if !lifted.is_empty() {
                cx.notice(format!(
                    "limits-runner: lifted every block the limits made ({})",
                    state.blocks.blocks.join(", ")
                ));
            }
        }
        if state.scheduler_role.is_some() {
            delete_role_and_policies(&cx.aws.iam, &Self::scheduler_role_name(cx)).await?;
        }
        if state.execution_role.is_some() {
            delete_role_and_policies(&cx.aws.iam, &Self::execution_role_name(cx)).await?;
        }
        Ok(())
    }
}
