//! Integration tests: one binary, one module per area.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod harness;
mod logging_retry;
mod logging_stack;
mod report;
