//! Servers and clusters on loopback with a proxy on every link: clients reach each node
//! through a proxy of its own, a Redis replica reaches its primary through a proxy of its own,
//! and etcd members reach each other through a proxy in front of each member that tells them
//! apart, so that a partition can cut exactly the links between two sides.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::probe::{self, redis_command};
use crate::server::{etcd, free_addr, redis, temp_dir, Server, ServerKind, ServerOptions};
use crate::{Direction, Error, Proxy, ProxyConfig, ProxyHandle};

/// What to start.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub kind: ServerKind,
    /// How many servers: for Redis a primary and `nodes - 1` replicas, for etcd the members,
    /// for PostgreSQL 1.
    pub nodes: usize,
    pub options: ServerOptions,
}

impl ClusterSpec {
    /// One server of `kind` behind a proxy.
    pub fn single(kind: ServerKind) -> ClusterSpec {
        ClusterSpec {
            kind,
            nodes: 1,
            options: ServerOptions::default(),
        }
    }

    /// A Redis primary and `replicas` replicas.
    pub fn redis_replicas(replicas: usize) -> ClusterSpec {
        ClusterSpec {
            nodes: 1 + replicas,
            ..ClusterSpec::single(ServerKind::Redis)
        }
    }

    /// An etcd cluster of `members` members.
    pub fn etcd_members(members: usize) -> ClusterSpec {
        ClusterSpec {
            nodes: members,
            ..ClusterSpec::single(ServerKind::Etcd)
        }
    }
}

/// What a node is to the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The only server.
    Single,
    /// The Redis primary.
    Primary,
    /// A Redis replica, replicating from the primary.
    Replica,
    /// An etcd member.
    Member,
}

/// One server of a cluster and the proxies in front of it.
pub struct Node {
    name: String,
    role: Role,
    server: Mutex<Server>,
    server_addr: SocketAddr,
    client_proxy: Proxy,
    /// etcd: the proxy every peer reaches this member through.
    peer_proxy: Option<Proxy>,
    /// etcd: this member's advertised peer URL, which names it to the peer proxies.
    peer_url: Option<String>,
    /// A Redis replica: the proxy its replication link to the primary goes through.
    replication_proxy: Option<Proxy>,
}

impl Node {
    /// `n1`, `n2`, ...
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Where clients connect: the node's client proxy.
    pub fn client_addr(&self) -> SocketAddr {
        self.client_proxy.listen_addr()
    }

    /// The server's own client address, bypassing every fault.
    pub fn server_addr(&self) -> SocketAddr {
        self.server_addr
    }

    /// The client proxy, to fault this node's clients alone.
    pub fn client_proxy(&self) -> ProxyHandle {
        self.client_proxy.handle()
    }

    /// The server, locked (the nemesis locks it while it kills or restarts it).
    pub fn server(&self) -> MutexGuard<'_, Server> {
        self.server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every proxy that carries this node's traffic with other nodes.
    fn peer_proxies(&self) -> impl Iterator<Item = &Proxy> {
        self.peer_proxy.iter().chain(&self.replication_proxy)
    }
}

/// Servers on loopback with a proxy on every link: clients reach each node through a proxy of
/// its own, a Redis replica reaches its primary through a proxy of its own, and etcd members
/// reach each other through a proxy in front of each member that tells them apart, so that a
/// [partition](Self::partition) cuts exactly the links between its two sides. Dropping it stops
/// every server, closes every proxy and removes every temporary directory.
///
/// ```
/// use photofinish_faults::{Cluster, ClusterSpec, Role};
///
/// let cluster = Cluster::start(&ClusterSpec::redis_replicas(1)).unwrap();
/// for node in cluster.nodes() {
///     println!("{} ({:?}) at {}", node.name(), node.role(), cluster.url(node));
/// }
/// assert_eq!(cluster.node(1).role(), Role::Replica);
/// cluster.partition(&[1]).unwrap(); // the replica cut off from the primary; clients reach both
/// cluster.heal();
/// ```
pub struct Cluster {
    kind: ServerKind,
    nodes: Vec<Node>,
}

impl Cluster {
    /// Starts the servers and their proxies and waits until the cluster accepts work (every
    /// Redis replica's link is up; every etcd member is healthy).
    pub fn start(spec: &ClusterSpec) -> Result<Cluster, Error> {
        let what = format!("{} cluster of {}", spec.kind, spec.nodes);
        if spec.nodes == 0 {
            return Err(Error::new(
                what,
                "starting",
                "a cluster needs at least one server",
            ));
        }
        match spec.kind {
            ServerKind::Redis => start_redis(spec),
            ServerKind::Etcd => start_etcd(spec),
            ServerKind::Postgres if spec.nodes == 1 => {
                let server = Server::start(ServerKind::Postgres, &spec.options)?;
                let node = fronted(server, Role::Single)?;
                Ok(Cluster {
                    kind: ServerKind::Postgres,
                    nodes: vec![node],
                })
            }
            ServerKind::Postgres => Err(Error::new(
                what,
                "starting",
                "PostgreSQL runs as a single server here (no replicas)",
            )),
        }
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node at `index` (0 is `n1`).
    pub fn node(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// The index of the node named `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.name == name)
    }

    /// What a client of `node` connects to, through its proxy: `redis://127.0.0.1:PORT`,
    /// `host=127.0.0.1 port=PORT user=postgres dbname=postgres`, or `http://127.0.0.1:PORT`.
    pub fn url(&self, node: &Node) -> String {
        let addr = node.client_addr();
        match self.kind {
            ServerKind::Redis => format!("redis://{addr}"),
            ServerKind::Postgres => format!(
                "host={} port={} user=postgres dbname=postgres",
                addr.ip(),
                addr.port()
            ),
            ServerKind::Etcd => etcd::url(addr),
        }
    }

    /// The client addresses of every node, in order.
    pub fn client_addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(Node::client_addr).collect()
    }

    /// Every process of every server, for checks that nothing is left behind.
    pub fn processes(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .flat_map(|n| n.server().processes())
            .collect()
    }

    /// Every server's temporary directory.
    pub fn dirs(&self) -> Vec<PathBuf> {
        self.nodes
            .iter()
            .map(|n| n.server().dir().to_path_buf())
            .collect()
    }

    /// SIGKILL to node `index`'s server and everything it started.
    pub fn kill(&self, index: usize) -> Result<(), Error> {
        self.nodes[index].server().kill()
    }

    /// Starts node `index`'s server again on its data and port, and waits until it is ready.
    pub fn restart(&self, index: usize) -> Result<(), Error> {
        self.nodes[index].server().restart()
    }

    /// SIGSTOP to node `index`'s server.
    pub fn pause(&self, index: usize) -> Result<(), Error> {
        self.nodes[index].server().pause()
    }

    /// SIGCONT to node `index`'s server.
    pub fn resume(&self, index: usize) -> Result<(), Error> {
        self.nodes[index].server().resume()
    }

    /// Cuts the nodes in `isolated` off from the others: every link between the two sides
    /// holds its bytes both ways (nothing is closed). With a single server, its clients are
    /// cut off from it instead. Replaces any partition in force.
    pub fn partition(&self, isolated: &[usize]) -> Result<(), Error> {
        if let Some(&bad) = isolated.iter().find(|&&i| i >= self.nodes.len()) {
            return Err(Error::new(
                format!("{} cluster", self.kind),
                "partitioning",
                format!("there is no node {bad}"),
            ));
        }
        self.heal();
        if self.nodes.len() == 1 {
            if !isolated.is_empty() {
                self.nodes[0].client_proxy.blackhole(Direction::Both);
            }
            return Ok(());
        }
        let cut = |a: usize, b: usize| isolated.contains(&a) != isolated.contains(&b);
        match self.kind {
            ServerKind::Etcd => {
                for (k, node) in self.nodes.iter().enumerate() {
                    let held = self
                        .nodes
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| cut(j, k))
                        .filter_map(|(_, other)| other.peer_url.clone());
                    if let Some(proxy) = &node.peer_proxy {
                        proxy.hold_sources(held);
                    }
                }
            }
            ServerKind::Redis => {
                let primary = self.primary();
                for (r, node) in self.nodes.iter().enumerate() {
                    if let (Some(link), true) = (&node.replication_proxy, cut(r, primary)) {
                        link.blackhole(Direction::Both);
                    }
                }
            }
            ServerKind::Postgres => {}
        }
        Ok(())
    }

    /// Ends every partition: held bytes are delivered.
    pub fn heal(&self) {
        for node in &self.nodes {
            node.client_proxy.heal();
            for proxy in node.peer_proxies() {
                proxy.heal();
            }
        }
    }

    /// Slows node `index`: its clients' round trips, and what it sends its peers, take
    /// `latency` (± `jitter`) longer. For a Redis primary that is every replication link.
    pub fn slow(&self, index: usize, latency: Duration, jitter: Duration) {
        let node = &self.nodes[index];
        node.client_proxy.set_latency(latency, jitter);
        if let Some(proxy) = &node.peer_proxy {
            proxy.set_latency(latency, jitter);
        }
        let primary = node.role == Role::Primary;
        for (i, other) in self.nodes.iter().enumerate() {
            if let (Some(link), true) = (&other.replication_proxy, primary || i == index) {
                link.set_latency(latency, jitter);
            }
        }
    }

    /// Ends every slowdown.
    pub fn clear_latency(&self) {
        for node in &self.nodes {
            node.client_proxy
                .set_latency(Duration::ZERO, Duration::ZERO);
            for proxy in node.peer_proxies() {
                proxy.set_latency(Duration::ZERO, Duration::ZERO);
            }
        }
    }

    /// The Redis primary's index (0).
    fn primary(&self) -> usize {
        self.nodes
            .iter()
            .position(|n| n.role == Role::Primary)
            .unwrap_or(0)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Replicas before what they replicate from; each node's server is stopped and waited
        // for before its proxies close and its directory goes.
        while let Some(node) = self.nodes.pop() {
            drop(node);
        }
    }
}

/// A client proxy in front of `server`, making it a node.
fn fronted(server: Server, role: Role) -> Result<Node, Error> {
    let server_addr = server.addr();
    let client_proxy = start_proxy(ProxyConfig::new(server_addr), &server.describe())?;
    Ok(Node {
        name: server.name().to_string(),
        role,
        server: Mutex::new(server),
        server_addr,
        client_proxy,
        peer_proxy: None,
        peer_url: None,
        replication_proxy: None,
    })
}

fn start_proxy(config: ProxyConfig, for_what: &str) -> Result<Proxy, Error> {
    let upstream = config.upstream;
    Proxy::start(config)
        .map_err(|e| Error::new(for_what, format!("starting a proxy to {upstream}"), e))
}

fn start_redis(spec: &ClusterSpec) -> Result<Cluster, Error> {
    let options = &spec.options;
    let role = if spec.nodes == 1 {
        Role::Single
    } else {
        Role::Primary
    };
    let primary = fronted(Server::start(ServerKind::Redis, options)?, role)?;
    let primary_addr = primary.server_addr;
    let mut cluster = Cluster {
        kind: ServerKind::Redis,
        nodes: vec![primary],
    };
    for i in 2..=spec.nodes {
        let name = format!("n{i}");
        let link = start_proxy(ProxyConfig::new(primary_addr), &format!("redis {name}"))?;
        let addr = free_addr()?;
        let dir = temp_dir(ServerKind::Redis, &name, options)?;
        let launch = redis::launch(
            addr,
            dir.path(),
            Some(link.listen_addr()),
            &options.settings,
        )?;
        let server = Server::spawn(&name, ServerKind::Redis, addr, launch, dir, options)?;
        let mut node = fronted(server, Role::Replica)?;
        node.replication_proxy = Some(link);
        cluster.nodes.push(node);
    }
    for node in cluster.nodes.iter().filter(|n| n.role == Role::Replica) {
        wait_for_link(node, options)?;
    }
    Ok(cluster)
}

/// Waits until a replica reports its link to the primary up (its first full sync done).
fn wait_for_link(node: &Node, options: &ServerOptions) -> Result<(), Error> {
    let step = "waiting for the replication link to the primary to be up";
    let started = Instant::now();
    loop {
        let left = options.ready_timeout.saturating_sub(started.elapsed());
        let info = redis_command(
            node.server_addr,
            "INFO replication",
            left.min(probe::TIMEOUT),
        )
        .unwrap_or_default();
        if info.contains("master_link_status:up") {
            return Ok(());
        }
        let server = node.server();
        if options.stop.is_cancelled() {
            let mut error = Error::new(server.describe(), step, "interrupted");
            error.interrupted = true;
            return Err(error);
        }
        if started.elapsed() >= options.ready_timeout {
            return Err(Error::new(
                server.describe(),
                step,
                format!("still down after {:?}", options.ready_timeout),
            )
            .with_log(server.log_tail(20)));
        }
        drop(server);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Where one etcd member will listen, and its proxies, before any member starts.
struct PlannedMember {
    name: String,
    addrs: etcd::MemberAddrs,
    client_proxy: Proxy,
    peer_proxy: Proxy,
}

fn plan_member(name: String) -> Result<PlannedMember, Error> {
    let client = free_addr()?;
    let peer = free_addr()?;
    let what = format!("etcd {name}");
    let client_proxy = start_proxy(ProxyConfig::new(client), &what)?;
    let peer_proxy = start_proxy(
        ProxyConfig {
            // etcd names the sending member by its advertised peer URL on every raft request:
            // the peer proxy can hold some members' connections and not others'.
            source_header: Some("X-PeerURLs".into()),
            ..ProxyConfig::new(peer)
        },
        &what,
    )?;
    let addrs = etcd::MemberAddrs {
        client,
        advertised_client: client_proxy.listen_addr(),
        peer,
        advertised_peer: peer_proxy.listen_addr(),
    };
    Ok(PlannedMember {
        name,
        addrs,
        client_proxy,
        peer_proxy,
    })
}

fn start_etcd(spec: &ClusterSpec) -> Result<Cluster, Error> {
    let options = &spec.options;
    let planned = (1..=spec.nodes)
        .map(|i| plan_member(format!("n{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let initial_cluster = planned
        .iter()
        .map(|p| format!("{}={}", p.name, etcd::url(p.addrs.advertised_peer)))
        .collect::<Vec<_>>()
        .join(",");
    let token = etcd::cluster_token();
    let role = if spec.nodes == 1 {
        Role::Single
    } else {
        Role::Member
    };
    let mut cluster = Cluster {
        kind: ServerKind::Etcd,
        nodes: Vec::new(),
    };
    for p in planned {
        let dir = temp_dir(ServerKind::Etcd, &p.name, options)?;
        let launch = etcd::launch(
            &p.name,
            &p.addrs,
            &initial_cluster,
            &token,
            dir.path(),
            &options.settings,
        )?;
        let mut server = Server::prepare(
            &p.name,
            ServerKind::Etcd,
            p.addrs.client,
            launch,
            dir,
            options,
        );
        // Every member starts before any is waited for: a member is healthy only in a quorum.
        server.launch_process("starting")?;
        cluster.nodes.push(Node {
            name: p.name,
            role,
            server: Mutex::new(server),
            server_addr: p.addrs.client,
            client_proxy: p.client_proxy,
            peer_url: Some(etcd::url(p.addrs.advertised_peer)),
            peer_proxy: Some(p.peer_proxy),
            replication_proxy: None,
        });
    }
    for node in &cluster.nodes {
        node.server().wait_ready("starting")?;
    }
    Ok(cluster)
}
