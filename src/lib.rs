//! bedrock-monitor: set up, check, report on and tear down Amazon Bedrock usage monitoring.
//!
//! Data flows one way: config → desired state → observed state → plan → execution → result.
//!
//! Layers, lowest first (ARCHITECTURE.md has the map; `tests/it/architecture.rs` checks it):
//! `exit`, `invocation_log` and `config` use nothing; `cost` uses config; `aws`, `docs`,
//! `engine` and `queries` sit above them; `resources` above the engine; `cli`, `ui`, `report`
//! and `targets` above those; `commands` on top. No command uses another, and no two modules
//! under the same parent use each other.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cost;
pub mod docs;
pub mod engine;
pub mod exit;
pub mod invocation_log;
pub mod queries;
pub mod report;
pub mod resources;
pub mod targets;
pub mod ui;
