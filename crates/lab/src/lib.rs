//! The race lab: an in-process HTTP service with the classic races and their fixes, and a
//! demo that drives each through photofinish's HTTP target and checks the history.
//!
//! The point is to show, on a laptop and in seconds, that the checker catches what code review
//! misses: a check-then-create through a lagging cache, a read-modify-write, a lock that only
//! holds within one replica, a document written back over another writer's change. Each runs
//! next to its fix, and the demo succeeds only if every race is caught and every fix passes.
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

mod demo;
mod scenarios;
mod server;
mod store;
mod strategies;

pub use demo::{demo, demo_blocking, DemoError, DemoOptions, DemoReport, DemoRow, Progress};
pub use scenarios::{default_scenarios, Scenario, Strategy};
pub use server::Lab;
pub use store::{Status, Store, StoreConfig};
pub use strategies::{CounterStrategy, CreateStrategy, Expectation, ReplicaState, StatusStrategy};
