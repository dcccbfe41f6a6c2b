//! bedrock-monitor: set up, check, report on and tear down Amazon Bedrock usage monitoring.
//!
//! Data flows one way: config → desired state → observed state → plan → execution → result.

pub mod aws;
pub mod config;
pub mod engine;
