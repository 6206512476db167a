//! The fault proxy: a TCP proxy per link that forwards bytes untouched until told otherwise,
//! then delays them, holds them (a partition), throttles them or resets the connections.
//!
//! Every proxy runs on this crate's own runtime thread (see [`crate::wait_for_ctrl_c`] for the
//! one blocking helper), so [`Proxy::start`] is a plain function that works from any thread.
//! Faults are switched at run time through a [`ProxyHandle`], which is cheap to clone and
//! affects connections already open as well as new ones.

mod connection;
mod faults;
mod sniff;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use faults::{Direction, Faults};

/// Where a proxy listens, where it forwards to, and how it tells its clients apart.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// The address to listen on: `127.0.0.1:0` (a free loopback port) unless set.
    pub listen: SocketAddr,
    /// The address every accepted connection is forwarded to.
    pub upstream: SocketAddr,
    /// An HTTP request header whose value names the client of each connection, read from the
    /// first request before anything is forwarded. This is how one proxy in front of a cluster
    /// member tells its peers apart, so that a partition can cut some of them and not others
    /// (etcd sends its own advertised peer URL as `X-PeerURLs`). `None`: every connection is
    /// anonymous.
    pub source_header: Option<String>,
    /// How long connecting to the upstream may take before the client's connection is reset.
    pub connect_timeout: Duration,
}

impl ProxyConfig {
    /// A proxy on a free loopback port forwarding to `upstream`.
    pub fn new(upstream: SocketAddr) -> ProxyConfig {
        ProxyConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream,
            source_header: None,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A running proxy. Dropping it closes its port and every connection through it, and returns
/// once they are closed.
pub struct Proxy {
    handle: ProxyHandle,
    listen_addr: SocketAddr,
    /// Disconnected once the accept loop and every connection task have ended (in a mutex so
    /// that a proxy can be shared between threads).
    finished: Mutex<mpsc::Receiver<()>>,
}

/// Switches a proxy's faults at run time. Clones control the same proxy.
#[derive(Clone)]
pub struct ProxyHandle {
    shared: Arc<Shared>,
}

/// What the accept loop, the connections and the handles share.
pub(crate) struct Shared {
    pub(crate) upstream: SocketAddr,
    pub(crate) source_header: Option<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) faults: watch::Sender<Faults>,
    /// Bumped by [`ProxyHandle::reset_connections`]; every connection open at that moment
    /// resets itself.
    pub(crate) resets: watch::Sender<u64>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) open: AtomicUsize,
    pub(crate) accepted: AtomicU64,
}

impl Proxy {
    /// Binds the listening socket and starts accepting. Fails only if the address cannot be
    /// bound.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use std::time::{Duration, Instant};
    /// use photofinish_faults::{Proxy, ProxyConfig};
    ///
    /// // A one-line echo service stands in for a real upstream.
    /// let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let upstream_addr = upstream.local_addr().unwrap();
    /// std::thread::spawn(move || {
    ///     let (mut socket, _) = upstream.accept().unwrap();
    ///     let mut buf = [0; 64];
    ///     while let Ok(n @ 1..) = socket.read(&mut buf) {
    ///         socket.write_all(&buf[..n]).unwrap();
    ///     }
    /// });
    ///
    /// let proxy = Proxy::start(ProxyConfig::new(upstream_addr)).unwrap();
    /// proxy.handle().set_latency(Duration::from_millis(30), Duration::ZERO);
    /// let mut client = std::net::TcpStream::connect(proxy.listen_addr()).unwrap();
    /// let started = Instant::now();
    /// client.write_all(b"ping").unwrap();
    /// let mut answer = [0; 4];
    /// client.read_exact(&mut answer).unwrap();
    /// assert_eq!(&answer, b"ping");
    /// assert!(started.elapsed() >= Duration::from_millis(30));
    /// ```
    pub fn start(config: ProxyConfig) -> io::Result<Proxy> {
        let runtime = crate::runtime::handle();
        let listener = {
            let _entered = runtime.enter();
            let std_listener = std::net::TcpListener::bind(config.listen)?;
            std_listener.set_nonblocking(true)?;
            TcpListener::from_std(std_listener)?
        };
        let listen_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: config.upstream,
            source_header: config.source_header,
            connect_timeout: config.connect_timeout,
            faults: watch::Sender::new(Faults::default()),
            resets: watch::Sender::new(0),
            shutdown: CancellationToken::new(),
            open: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
        });
        let (done, finished) = mpsc::channel();
        runtime.spawn(accept_loop(listener, Arc::clone(&shared), done));
        Ok(Proxy {
            handle: ProxyHandle { shared },
            listen_addr,
            finished: Mutex::new(finished),
        })
    }

    /// The address clients connect to.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen_addr
    }

    /// The address connections are forwarded to.
    pub fn upstream_addr(&self) -> SocketAddr {
        self.handle.shared.upstream
    }

    /// A handle that switches this proxy's faults.
    pub fn handle(&self) -> ProxyHandle {
        self.handle.clone()
    }
}

impl std::ops::Deref for Proxy {
    type Target = ProxyHandle;

    fn deref(&self) -> &ProxyHandle {
        &self.handle
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.handle.shared.shutdown.cancel();
        // Blocking on the proxies' own thread would stall the tasks being waited for.
        if !crate::runtime::on_proxy_thread() {
            let finished = self
                .finished
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = finished.recv_timeout(Duration::from_secs(5));
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, done: mpsc::Sender<()>) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.shutdown.cancelled() => break,
        };
        match accepted {
            Ok((client, _)) => {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(connection::serve(client, Arc::clone(&shared), done.clone()));
            }
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

impl ProxyHandle {
    /// The faults in force now.
    pub fn faults(&self) -> Faults {
        self.shared.faults.borrow().clone()
    }

    /// Replaces every fault at once.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.faults.send_replace(faults);
    }

    /// Changes some faults, keeping the others.
    pub fn update(&self, change: impl FnOnce(&mut Faults)) {
        self.shared.faults.send_modify(change);
    }

    /// Every round trip takes `latency` longer, give or take up to `jitter` (uniformly); bytes
    /// are never reordered. `Duration::ZERO` for both switches it off.
    pub fn set_latency(&self, latency: Duration, jitter: Duration) {
        self.update(|f| {
            f.latency = latency;
            f.jitter = jitter;
        });
    }

    /// Holds the bytes going `direction` on every connection, new or open: they are not
    /// delivered (and the sender's buffers fill), and no connection is closed, until
    /// [`heal`](Self::heal).
    pub fn blackhole(&self, direction: Direction) {
        self.update(|f| {
            f.hold_to_upstream |= direction.to_upstream();
            f.hold_to_client |= direction.to_client();
        });
    }

    /// Holds both directions of the connections whose [source](ProxyConfig::source_header) is
    /// one of `sources`, and of connections whose source is unknown (they may come from one of
    /// them). Replaces the previous set; an empty set holds nothing.
    pub fn hold_sources<I, S>(&self, sources: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let sources = sources.into_iter().map(Into::into).collect();
        self.update(|f| f.held_sources = sources);
    }

    /// Ends every blackhole: held bytes are delivered, in order.
    pub fn heal(&self) {
        self.update(|f| {
            f.hold_to_upstream = false;
            f.hold_to_client = false;
            f.held_sources.clear();
        });
    }

    /// At most `bytes_per_second` in each direction of each connection; `None` lifts the limit.
    pub fn set_bandwidth(&self, bytes_per_second: Option<u64>) {
        self.update(|f| f.bandwidth = bytes_per_second.map(|b| b.max(1)));
    }

    /// Switches every fault off (held bytes are delivered).
    pub fn clear(&self) {
        self.set_faults(Faults::default());
    }

    /// Resets every open connection: both its client and its upstream get a TCP RST. New
    /// connections are not affected. Returns how many connections were open.
    pub fn reset_connections(&self) -> usize {
        let open = self.connections();
        self.shared
            .resets
            .send_modify(|generation| *generation += 1);
        open
    }

    /// How many connections are open through the proxy now.
    pub fn connections(&self) -> usize {
        self.shared.open.load(Ordering::Relaxed)
    }

    /// How many connections the proxy has accepted since it started.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// The address connections are forwarded to.
    pub fn upstream_addr(&self) -> SocketAddr {
        self.shared.upstream
    }
}

/// Connects to the upstream, within the proxy's connect timeout.
pub(crate) async fn connect_upstream(shared: &Shared) -> io::Result<TcpStream> {
    match tokio::time::timeout(shared.connect_timeout, TcpStream::connect(shared.upstream)).await {
        Ok(connected) => connected,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "connecting to the upstream timed out",
        )),
    }
}
