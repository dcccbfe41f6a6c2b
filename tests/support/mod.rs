//! Shared support for the integration tests (and, for `proxy`, the benchmarks).
#![allow(dead_code, unused_imports)]

pub mod env;
pub mod moto;
pub mod proxy;
pub mod snapshot;

pub use moto::Moto;
pub use proxy::{Call, FaultKind, Proxy, ProxyOptions};
