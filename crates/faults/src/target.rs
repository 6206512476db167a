//! What a nemesis can fault: a [`Cluster`] of servers it started, or [`Links`], proxies in
//! front of servers someone else runs (a service's own database or cache), which can be
//! partitioned and slowed but not killed or paused.

use std::time::Duration;

use crate::nemesis::FaultKind;
use crate::{Cluster, Direction, Error, Proxy, ProxyConfig, ProxyHandle};

/// Nodes a nemesis can fault, by index. Kinds of fault a target does not
/// [support](Self::supports) are refused when the nemesis starts.
pub trait FaultTarget: Send + Sync + 'static {
    /// The nodes' names, in index order.
    fn node_names(&self) -> Vec<String>;

    fn supports(&self, kind: FaultKind) -> bool;

    /// SIGKILL node `node`'s server.
    fn kill(&self, node: usize) -> Result<(), Error> {
        Err(unsupported(self, node, FaultKind::Kill))
    }

    /// Starts node `node`'s server again, and waits until it is ready.
    fn restart(&self, node: usize) -> Result<(), Error> {
        Err(unsupported(self, node, FaultKind::Kill))
    }

    /// SIGSTOP node `node`'s server.
    fn pause(&self, node: usize) -> Result<(), Error> {
        Err(unsupported(self, node, FaultKind::Pause))
    }

    /// SIGCONT node `node`'s server.
    fn resume(&self, node: usize) -> Result<(), Error> {
        Err(unsupported(self, node, FaultKind::Pause))
    }

    /// Cuts `isolated` off (from the other nodes, or from their clients).
    fn partition(&self, isolated: &[usize]) -> Result<(), Error>;

    /// Ends every partition.
    fn heal(&self);

    /// Slows node `node`'s links.
    fn slow(&self, node: usize, latency: Duration, jitter: Duration);

    /// Ends every slowdown.
    fn clear_latency(&self);

    /// Who a partition of `isolated` cuts them off from, for the event: node names, or
    /// `clients`.
    fn cut_off_from(&self, isolated: &[usize]) -> Vec<String>;
}

fn unsupported<T: FaultTarget + ?Sized>(target: &T, node: usize, kind: FaultKind) -> Error {
    let name = target.node_names().get(node).cloned().unwrap_or_default();
    Error::new(
        name,
        kind.name(),
        format!("{kind} needs a server photofinish started"),
    )
}

impl FaultTarget for Cluster {
    fn node_names(&self) -> Vec<String> {
        self.nodes().iter().map(|n| n.name().to_string()).collect()
    }

    fn supports(&self, _kind: FaultKind) -> bool {
        true
    }

    fn kill(&self, node: usize) -> Result<(), Error> {
        Cluster::kill(self, node)
    }

    fn restart(&self, node: usize) -> Result<(), Error> {
        Cluster::restart(self, node)
    }

    fn pause(&self, node: usize) -> Result<(), Error> {
        Cluster::pause(self, node)
    }

    fn resume(&self, node: usize) -> Result<(), Error> {
        Cluster::resume(self, node)
    }

    fn partition(&self, isolated: &[usize]) -> Result<(), Error> {
        Cluster::partition(self, isolated)
    }

    fn heal(&self) {
        Cluster::heal(self)
    }

    fn slow(&self, node: usize, latency: Duration, jitter: Duration) {
        Cluster::slow(self, node, latency, jitter)
    }

    fn clear_latency(&self) {
        Cluster::clear_latency(self)
    }

    fn cut_off_from(&self, isolated: &[usize]) -> Vec<String> {
        if self.len() == 1 {
            return vec!["clients".into()];
        }
        self.nodes()
            .iter()
            .enumerate()
            .filter(|(i, _)| !isolated.contains(i))
            .map(|(_, n)| n.name().to_string())
            .collect()
    }
}

/// Named proxies in front of servers photofinish did not start. A partition of a link holds
/// its bytes both ways; latency slows it. Dropping it closes the proxies.
///
/// ```
/// use photofinish_faults::{FaultTarget, Links, ProxyConfig};
///
/// let database = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let mut links = Links::default();
/// let handle = links
///     .start("db", ProxyConfig::new(database.local_addr().unwrap()))
///     .unwrap();
/// println!("point the service at {}", links.listen_addr("db").unwrap());
/// links.partition(&[0]).unwrap();
/// assert!(handle.faults().hold_to_upstream && handle.faults().hold_to_client);
/// links.heal();
/// assert!(handle.faults().is_clear());
/// ```
#[derive(Default)]
pub struct Links {
    links: Vec<(String, Proxy)>,
}

impl Links {
    /// Starts a proxy named `name` and adds it; returns its handle.
    pub fn start(&mut self, name: &str, config: ProxyConfig) -> Result<ProxyHandle, Error> {
        let upstream = config.upstream;
        let proxy = Proxy::start(config)
            .map_err(|e| Error::new(name, format!("starting a proxy to {upstream}"), e))?;
        let handle = proxy.handle();
        self.links.push((name.to_string(), proxy));
        Ok(handle)
    }

    /// The address clients of link `name` connect to.
    pub fn listen_addr(&self, name: &str) -> Option<std::net::SocketAddr> {
        self.links
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, proxy)| proxy.listen_addr())
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }
}

impl FaultTarget for Links {
    fn node_names(&self) -> Vec<String> {
        self.links.iter().map(|(name, _)| name.clone()).collect()
    }

    fn supports(&self, kind: FaultKind) -> bool {
        matches!(kind, FaultKind::Partition | FaultKind::Latency)
    }

    fn partition(&self, isolated: &[usize]) -> Result<(), Error> {
        self.heal();
        for &i in isolated {
            let (_, proxy) = self.links.get(i).ok_or_else(|| {
                Error::new("links", "partitioning", format!("there is no link {i}"))
            })?;
            proxy.blackhole(Direction::Both);
        }
        Ok(())
    }

    fn heal(&self) {
        for (_, proxy) in &self.links {
            proxy.heal();
        }
    }

    fn slow(&self, node: usize, latency: Duration, jitter: Duration) {
        if let Some((_, proxy)) = self.links.get(node) {
            proxy.set_latency(latency, jitter);
        }
    }

    fn clear_latency(&self) {
        for (_, proxy) in &self.links {
            proxy.set_latency(Duration::ZERO, Duration::ZERO);
        }
    }

    fn cut_off_from(&self, _isolated: &[usize]) -> Vec<String> {
        vec!["clients".into()]
    }
}
