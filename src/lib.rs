//! bedrock-monitor: set up, check, report on and tear down Amazon Bedrock usage monitoring.
//!
//! Data flows one way: config → desired state → observed state → plan → execution → result.
//!
//! ARCHITECTURE.md is the way in: how a run goes from `main` to AWS and back, the layer table
//! (which `tests/it/architecture.rs` checks), errors, output and tests.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cost;
pub mod digest;
pub mod docs;
pub mod engine;
pub mod exit;
pub mod invocation_log;
pub mod limits;
pub mod log_objects;
pub mod queries;
pub mod quotas;
pub mod report;
pub mod resources;
pub mod runner;
pub mod targets;
pub mod ui;
