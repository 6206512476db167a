//! Faults on demand on one machine.
//!
//! Races hide until timing lines up. This crate makes the timing happen, on loopback:
//!
//! - [`Proxy`]: a TCP proxy per link that adds latency and jitter, holds bytes one way or both
//!   (a partition that closes nothing), throttles bandwidth or resets connections, each
//!   switched on and off at run time through a [`ProxyHandle`].
//!
//! Everything this crate starts is stopped when the value that started it is dropped.

mod cluster;
mod error;
mod nemesis;
mod probe;
mod process;
mod proxy;
mod runtime;
mod server;

pub use cluster::{Cluster, ClusterSpec, Node, Role};
pub use error::Error;
pub use nemesis::{
    Fault, FaultKind, FaultWindow, Nemesis, NemesisConfig, NemesisEvent, NemesisReport,
    NemesisSink, Schedule,
};
pub use proxy::{Direction, Faults, Proxy, ProxyConfig, ProxyHandle};
pub use runtime::wait_for_ctrl_c;
pub use server::{Server, ServerKind, ServerOptions, POSTGRES_USER};
