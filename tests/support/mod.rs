//! Shared support for the integration tests (and, for `proxy`, the benchmarks).
#![allow(dead_code, unused_imports)]

pub mod browser;
pub mod cur;
pub mod env;
pub mod moto;
pub mod paging;
pub mod process;
pub mod proxy;
pub mod pty;
pub mod runtime_api;
pub mod snapshot;
pub mod standin;
pub mod strict;

pub use moto::Moto;
pub use proxy::{Call, FaultKind, Proxy, ProxyOptions};

use std::sync::Mutex;

use bedrock_monitor::engine::{ComponentId, Progress};

/// A progress sink that keeps the notes steps report (retry reasons, degraded reads).
#[derive(Default)]
pub struct Notes(pub Mutex<Vec<String>>);

impl Progress for Notes {
    fn step_started(&self, _: ComponentId, _: &str) {}
    fn step_note(&self, _: ComponentId, message: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message.to_string());
    }
    fn step_finished(&self, _: ComponentId, _: &str, _: bool) {}
}
