//! Drives many concurrent clients against a real system and records what they saw as a
//! history the checker can judge.
//!
//! A [`Target`] opens [`Client`]s; a [`Workload`](workload::Workload) says which operations
//! they issue; [`run`] (or [`run_blocking`]) drives them, appending every invocation and
//! completion to a JSON Lines file as it happens, and returns a [`Summary`]. A run notices
//! when operations wait and none completes ([`StallOptions`]): it records the stall in the
//! history and its summary says who waited on what.

mod bounded_body;
mod client;
pub mod controls;
mod early_stop;
mod journal;
mod names;
pub mod nemesis;
mod op;
pub mod phases;
mod runner;
pub mod spawn;
mod stall;
mod summary;
pub mod targets;
mod transaction;
pub mod workload;

pub use bounded_body::DEFAULT_MAX_BODY_BYTES;
pub use client::{Client, Started, Target};
pub use nemesis::{FaultSummary, NemesisPlan};
pub use op::{cannot_connect_error, Completion, Halt, HaltKind, Invocation, CANNOT_CONNECT};
pub use phases::{Phase, PhaseFigures};
pub use photofinish_faults as faults;
pub use runner::{run, run_blocking, RunConfig, RunError};
pub use stall::{StallOptions, WATCH_INTERVAL};
pub use summary::{format_micros, write_stalls, Latency, Summary};
pub use tokio_util::sync::CancellationToken;
pub use workload::{Workload, WorkloadKind};
