//! Servers photofinish starts for a run (`--spawn`): a throwaway Redis, PostgreSQL or etcd, or
//! a cluster of them, on free loopback ports behind fault proxies, and what the targets need to
//! reach them. The servers stop when the last handle to the [`Spawned`] goes.

use std::sync::Arc;
use std::time::Duration;

use photofinish_faults::{Cluster, ClusterSpec, NemesisConfig, Role, ServerKind, ServerOptions};
use tokio_util::sync::CancellationToken;

use crate::NemesisPlan;

/// What to start: the kind of server, how many, and settings passed through to each.
#[derive(Clone, Debug)]
pub struct SpawnSpec {
    pub kind: ServerKind,
    /// Redis: the primary and its replicas; etcd: the members; PostgreSQL: 1.
    pub nodes: usize,
    /// `appendonly yes` (a redis.conf line), `synchronous_commit=off` (a PostgreSQL `-c`
    /// setting), `snapshot-count=1000` (an etcd flag).
    pub settings: Vec<String>,
    /// How long a server may take to accept work when started or restarted.
    pub ready_timeout: Duration,
}

impl SpawnSpec {
    /// One server of `kind`, no extra settings, 30 s to become ready.
    pub fn new(kind: ServerKind) -> SpawnSpec {
        SpawnSpec {
            kind,
            nodes: 1,
            settings: Vec::new(),
            ready_timeout: Duration::from_secs(30),
        }
    }
}

/// Servers started for a run, reached through proxies.
///
/// ```
/// use photofinish_run::faults::ServerKind;
/// use photofinish_run::spawn::{Spawned, SpawnSpec};
/// use photofinish_run::CancellationToken;
///
/// let mut spec = SpawnSpec::new(ServerKind::Redis);
/// spec.nodes = 2; // a primary and a replica
/// let spawned = Spawned::start(&spec, CancellationToken::new()).unwrap();
/// assert!(spawned.primary_url().starts_with("redis://127.0.0.1:"));
/// assert_eq!(spawned.replica_urls().len(), 1);
/// drop(spawned); // both servers stop, their directories go
/// ```
pub struct Spawned {
    cluster: Arc<Cluster>,
}

impl Spawned {
    /// Starts the servers and waits until they accept work. Cancelling `stop` interrupts the
    /// wait (Ctrl-C), and what was started is stopped again.
    pub fn start(spec: &SpawnSpec, stop: CancellationToken) -> Result<Spawned, String> {
        let cluster_spec = ClusterSpec {
            kind: spec.kind,
            nodes: spec.nodes,
            options: ServerOptions {
                settings: spec.settings.clone(),
                ready_timeout: spec.ready_timeout,
                stop,
                ..ServerOptions::default()
            },
        };
        let cluster = Cluster::start(&cluster_spec).map_err(|e| {
            if e.interrupted {
                format!("interrupted while starting {}", e.server)
            } else {
                format!("cannot start the {} to test: {e}", spec.kind)
            }
        })?;
        Ok(Spawned {
            cluster: Arc::new(cluster),
        })
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// Every node's client URL, through its proxy, in node order.
    pub fn urls(&self) -> Vec<String> {
        self.cluster
            .nodes()
            .iter()
            .map(|node| self.cluster.url(node))
            .collect()
    }

    /// The URL of the first node: the Redis primary, the only server, or etcd's first member.
    pub fn primary_url(&self) -> String {
        self.cluster.url(self.cluster.node(0))
    }

    /// The URLs of the Redis replicas.
    pub fn replica_urls(&self) -> Vec<String> {
        self.cluster
            .nodes()
            .iter()
            .filter(|node| node.role() == Role::Replica)
            .map(|node| self.cluster.url(node))
            .collect()
    }

    /// A nemesis faulting these servers.
    pub fn nemesis(&self, config: NemesisConfig) -> NemesisPlan {
        NemesisPlan::new(Arc::clone(&self.cluster) as _, config)
    }

    /// Each server's one-line description, such as `redis n1 (127.0.0.1:40113)`.
    pub fn describe(&self) -> Vec<String> {
        self.cluster
            .nodes()
            .iter()
            .map(|node| node.server().describe())
            .collect()
    }
}
