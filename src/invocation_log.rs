//! The invocation-log schema as the tool reads it: the `parse` patterns that take each field
//! from the raw record. Both the saved queries and `report --by-principal` use them.
//!
//! Fields are read from the raw `@message` rather than as discovered fields: Logs Insights
//! discovers at most 200 fields per event, and a long or streamed record puts its token counts
//! past that limit, where a field query silently counts nothing (see `report::principals`).

/// The `parse` regular expressions for invocation-log fields, one definition for the saved
/// queries and the report's per-principal query (literals, so both can `concat!` them).
macro_rules! invocation_log_pattern {
    (model) => {
        r#"/"modelId"\s*:\s*"(?<model>[^"]*)"/"#
    };
    (principal) => {
        r#"/"identity"\s*:\s*\{\s*"arn"\s*:\s*"(?<principal>[^"]*)"/"#
    };
    // The first count: the `input` object comes before `output`.
    (input_tokens) => {
        r#"/"inputTokenCount"\s*:\s*(?<in_tokens>\d+)/"#
    };
    // The last count: a streamed response repeats the counts inside its final chunk first.
    (output_tokens) => {
        r#"/.*"outputTokenCount"\s*:\s*(?<out_tokens>\d+)/"#
    };
    // Prompt-cache counts, in the record's `input` object (absent when nothing was cached).
    (cache_read) => {
        r#"/"cacheReadInputTokenCount"\s*:\s*(?<cache_read>\d+)/"#
    };
    (cache_write) => {
        r#"/"cacheWriteInputTokenCount"\s*:\s*(?<cache_write>\d+)/"#
    };
    (request_id) => {
        r#"/"requestId"\s*:\s*"(?<request_id>[^"]*)"/"#
    };
    (error_code) => {
        r#"/"errorCode"\s*:\s*"(?<error_code>[^"]*)"/"#
    };
    // Converse responses report their latency in the body's metrics.
    (latency) => {
        r#"/"latencyMs"\s*:\s*(?<latency_ms>\d+)/"#
    };
}
pub(crate) use invocation_log_pattern;
