//! Faults on demand, on one machine, on loopback.
//!
//! Races hide until timing lines up: a cache lags, a process pauses past a lock's expiry, a
//! server restarts without its data, a follower answers from an old state. This crate makes
//! those moments happen, without SSH, containers or a second machine:
//!
//! - [`Server`]: a throwaway Redis, PostgreSQL or etcd from the Debian packages, on a free
//!   loopback port with its data in a temporary directory; it can be killed (SIGKILL to every
//!   process it started) and restarted on the same data and port, paused (SIGSTOP) and
//!   resumed. PostgreSQL runs as an unprivileged system user ([`POSTGRES_USER`]) when this
//!   runs as root.
//! - [`Proxy`]: a TCP proxy per link that adds latency and jitter, holds bytes one way or both
//!   (a partition that closes nothing), limits bandwidth or resets connections, each switched
//!   on and off at run time through a [`ProxyHandle`]. With no fault on it adds a few tens of
//!   microseconds per round trip (`cargo bench -p photofinish-faults`).
//! - [`Cluster`]: servers behind proxies on every link: a Redis primary and replicas, or an
//!   etcd cluster whose members reach each other through proxies that tell them apart, so a
//!   [partition](Cluster::partition) cuts exactly the links between two sides.
//! - [`Links`]: named proxies in front of servers someone else runs, for faults between a
//!   service and its own database or cache.
//! - [`Nemesis`]: faults on a seeded [`Schedule`]: kill, pause, partition and latency, an
//!   interval apart, each lasting a duration, on any [`FaultTarget`] (a cluster, or links),
//!   with every start and end reported as a [`NemesisEvent`] for the history. A server that
//!   does not come back is an [`Error`] naming the server, the step and the last lines of its
//!   log.
//!
//! Nothing outlives its owner: dropping a server, proxy, cluster or nemesis stops what it
//! started and removes its directories, and servers get SIGKILL from the kernel if the process
//! that started them dies. [`ServerOptions::stop`] interrupts a start-up (Ctrl-C).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use photofinish_faults::{Cluster, ClusterSpec, FaultKind, Nemesis, NemesisConfig, ServerKind};
//!
//! // A Redis behind a proxy, and a nemesis that cuts its clients off now and then.
//! let cluster = Arc::new(Cluster::start(&ClusterSpec::single(ServerKind::Redis)).unwrap());
//! println!("clients connect to {}", cluster.url(cluster.node(0)));
//! let mut config = NemesisConfig::new(vec![FaultKind::Partition]);
//! config.interval = Duration::from_millis(50);
//! config.duration = Duration::from_millis(50);
//! let nemesis = Nemesis::start(Arc::clone(&cluster), config, |event: photofinish_faults::NemesisEvent| {
//!     println!("{}", serde_json::to_string(&event.to_event()).unwrap());
//! })
//! .unwrap();
//! std::thread::sleep(Duration::from_millis(300)); // the run
//! nemesis.stop().unwrap(); // the partition in force, if any, heals
//! ```

mod cluster;
mod error;
mod nemesis;
mod probe;
mod process;
mod proxy;
mod runtime;
mod server;
mod target;

pub use cluster::{Cluster, ClusterSpec, Node, Role};
pub use error::Error;
pub use nemesis::{
    Fault, FaultKind, FaultWindow, Nemesis, NemesisConfig, NemesisEvent, NemesisReport,
    NemesisSink, Schedule,
};
pub use proxy::{Direction, Faults, Proxy, ProxyConfig, ProxyHandle};
pub use runtime::wait_for_ctrl_c;
pub use server::{Server, ServerKind, ServerOptions, POSTGRES_USER};
pub use target::{FaultTarget, Links};
