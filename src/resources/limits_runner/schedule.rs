//! The schedule: read back from `GetSchedule`, created or replaced where the diff says.

use std::time::Duration;

use super::*;
use crate::aws::AwsResultExt;
use crate::resources::{absent_if, created_or_exists, retry_while};

impl LimitsRunner {
    pub(super) async fn read_schedule(cx: &Context) -> Result<Option<ObservedSchedule>, AwsError> {
        let got = absent_if(
            cx.aws
                .scheduler
                .get_schedule()
                .name(Self::name(cx))
                .group_name(SCHEDULE_GROUP)
                .send()
                .await
                .aws("scheduler:GetSchedule"),
            SCHEDULE_NOT_FOUND,
        )?;
        let Some(s) = got else { return Ok(None) };
        let target = s.target();
        Ok(Some(ObservedSchedule {
            expression: s.schedule_expression().unwrap_or_default().to_string(),
            flexible_window: s
                .flexible_time_window()
                .map(|w| w.mode().as_str().to_string())
                .unwrap_or_default(),
            target_arn: target.map(|t| t.arn().to_string()).unwrap_or_default(),
            role_arn: target.map(|t| t.role_arn().to_string()).unwrap_or_default(),
            input: target.and_then(|t| t.input()).map(str::to_string),
            state: s.state().map(|s| s.as_str().to_string()),
        }))
    }

    pub(super) async fn put_schedule(cx: &Context, state: &RunnerState) -> Result<(), AwsError> {
        use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target};
        let scheduler = &cx.aws.scheduler;
        let bad = |e: aws_sdk_scheduler::error::BuildError| {
            AwsError::setup(e.to_string(), "report this as a bug")
        };
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(bad)?;
        let target = Target::builder()
            .arn(Self::function_arn(cx))
            .role_arn(Self::role_arn(cx, &Self::scheduler_role_name(cx)))
            .input(crate::runner::lambda::SCHEDULE_INPUT)
            .build()
            .map_err(bad)?;
        let expression = cx
            .config
            .limits_runner
            .clone()
            .unwrap_or_default()
            .schedule_expression();
        if state.schedule.is_none() {
            // Scheduler checks that it may assume the role: a role just made can be refused
            // for seconds (ValidationException) until IAM has it everywhere.
            retry_while(
                cx,
                ComponentId::LimitsRunner,
                Duration::from_secs(60),
                "waiting for the new scheduler role to become assumable",
                |e| e.code_is(&["ValidationException"]),
                || async {
                    created_or_exists(
                        scheduler
                            .create_schedule()
                            .name(Self::name(cx))
                            .group_name(SCHEDULE_GROUP)
                            .schedule_expression(&expression)
                            .flexible_time_window(window.clone())
                            .target(target.clone())
                            .state(ScheduleState::Enabled)
                            .description("Runs bedrock-monitor's limits pass (managed by bedrock-monitor)")
                            .send()
                            .await
                            .aws("scheduler:CreateSchedule"),
                        &["ConflictException"],
                    )
                },
            )
            .await
        } else {
            // UpdateSchedule replaces every field (Scheduler API reference, UpdateSchedule).
            scheduler
                .update_schedule()
                .name(Self::name(cx))
                .group_name(SCHEDULE_GROUP)
                .schedule_expression(&expression)
                .flexible_time_window(window)
                .target(target)
                .state(ScheduleState::Enabled)
                .description("Runs bedrock-monitor's limits pass (managed by bedrock-monitor)")
                .send()
                .await
                .aws("scheduler:UpdateSchedule")
                .map(|_| ())
        }
    }
}
