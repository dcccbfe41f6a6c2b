//! Running one Logs Insights query to its end: `StartQuery` over a log group and a window, then
//! `GetQueryResults` with backoff until it completes, fails or runs out of time (then it is
//! stopped). Used by the report's log-based figures and by `bedrock-monitor query`.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};

use crate::aws::{AwsError, AwsResultExt};

use super::window::Window;

/// How a query ended, when it did not simply fail with an AWS error.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryEnd {
    /// Completed: the rows, each a list of (field, value).
    Rows(Vec<Vec<(String, String)>>),
    /// The log group does not exist.
    NoLogGroup,
    /// Logs Insights ended it with this status (Failed, Cancelled, Timeout...).
    Ended(String),
    /// Still running after `timeout` (and then stopped).
    TimedOut(Duration),
}

/// Runs `query` over `log_group` for `window`; `on_poll` is told the status and the records
/// scanned so far (for a progress line). AWS errors other than a missing log group (denied,
/// malformed query) are errors.
pub async fn run(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
    window: &Window,
    query: &str,
    timeout: Duration,
    mut on_poll: impl FnMut(&str, f64),
) -> Result<QueryEnd, AwsError> {
    let started = logs
        .start_query()
        .log_group_name(log_group)
        .start_time(window.start.timestamp())
        .end_time(window.end.timestamp())
        .query_string(query)
        .send()
        .await
        .aws("logs:StartQuery");
    let started = match started {
        Ok(out) => out,
        Err(e) if e.code_is(&["ResourceNotFoundException"]) => return Ok(QueryEnd::NoLogGroup),
        Err(e) => return Err(e),
    };
    let Some(query_id) = started.query_id().filter(|id| !id.is_empty()) else {
        return Err(AwsError::bad_response("logs:StartQuery", "queryId"));
    };

    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        let out = logs
            .get_query_results()
            .query_id(query_id)
            .send()
            .await
            .aws("logs:GetQueryResults")?;
        let scanned = out.statistics().map(|s| s.records_scanned()).unwrap_or(0.0);
        match out.status() {
            Some(QueryStatus::Complete) => return Ok(QueryEnd::Rows(rows(out.results()))),
            Some(QueryStatus::Running) | Some(QueryStatus::Scheduled) | None => {
                on_poll(
                    out.status().map(|s| s.as_str()).unwrap_or("Scheduled"),
                    scanned,
                );
            }
            Some(other) => return Ok(QueryEnd::Ended(other.as_str().to_string())),
        }
        if tokio::time::Instant::now() + delay > deadline {
            // Best effort: the query stops by itself at its own time limit anyway.
            let _ = logs.stop_query().query_id(query_id).send().await;
            return Ok(QueryEnd::TimedOut(timeout));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn rows(results: &[Vec<ResultField>]) -> Vec<Vec<(String, String)>> {
    results
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|f| Some((f.field()?.to_string(), f.value()?.to_string())))
                // `@ptr` is Logs Insights' pointer to the record, not a result column.
                .filter(|(field, _)| field != "@ptr")
                .collect()
        })
        .collect()
}
