//! Integration tests: one binary, one module per area.

#[path = "../support/mod.rs"]
mod support;

mod adoption;
mod alerting;
mod architecture;
mod attribution;
mod bad_input;
mod billing;
mod budget_actions;
mod budgets;
mod call_counts;
mod chat;
mod cur;
mod cur_adjustments;
mod cur_allocate;
mod cur_athena;
mod cur_focus;
mod cur_html;
mod cur_read;
mod cur_tags;
mod dashboard;
mod digest;
mod docs;
mod first_run;
mod harness;
mod lambda_runtime;
mod lifecycle;
mod limits;
mod limits_runner;
mod logging_retry;
mod logging_stack;
mod paging;
mod prices;
mod queries;
mod quotas;
mod recovery;
mod report;
mod report_html;
mod standin;
mod strict_aws;
mod targets;
