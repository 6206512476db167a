//! The race lab: an in-process HTTP service with the classic races and their fixes, and a
//! demo that drives each through photofinish's HTTP target and checks the history.
//!
//! The point is to show, on a laptop and in seconds, that the checker catches what code review
//! misses: a check-then-create through a lagging cache (and five ways teams try to fix it), a
//! read-modify-write of integers and of decimal amounts, a lock that only holds within one
//! replica, a document written back over another writer's change, a record copied while it is
//! written, a value used after its lock was freed, two locks taken in opposite orders (a
//! deadlock, caught as a stall). Each runs next to its fix, and the demo
//! succeeds only if every race is caught and every fix passes. [`compare`] puts one scenario's
//! options side by side with what each costs in latency.
//!
//! What `photofinish demo` does:
//!
//! ```
//! let report = photofinish_lab::demo_blocking(&photofinish_lab::DemoOptions::default())?;
//! println!("{report}");
//! assert!(report.succeeded(), "every race caught, every fix passed");
//! assert_eq!(report.exit_code(), 0);
//! # Ok::<(), photofinish_lab::DemoError>(())
//! ```

mod balance;
mod compare;
mod create;
mod deadlock;
mod demo;
mod drive;
mod remote;
mod scenarios;
mod server;
mod snapshot;
mod stale_read;
mod store;
mod strategies;

pub use balance::BalanceStrategy;
pub use compare::{compare, compare_blocking, CompareError, CompareOptions, Comparison};
pub use create::{CreateStrategy, LOCK_TTL, STALL};
pub use deadlock::DeadlockStrategy;
pub use demo::{
    demo, demo_blocking, DemoError, DemoOptions, DemoReport, DemoRow, FaultSplit, Progress,
};
pub use drive::{drive, Drive, Figures, LabWorkload};
pub use remote::{ObjectsClient, RemoteCreateStrategy, RemoteObjects, LINK};
pub use scenarios::{
    default_scenarios, describe, scenario_runs, Driver, LabFault, Scenario, Strategy, SCENARIOS,
};
pub use server::Lab;
pub use snapshot::SnapshotStrategy;
pub use stale_read::StaleReadStrategy;
pub use store::{Status, Store, StoreConfig, RECORD_FIELDS};
pub use strategies::{CounterStrategy, Expectation, ReplicaState, StatusStrategy};
