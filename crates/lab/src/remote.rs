//! The objects table across a network: a small TCP service in front of a store, the connection
//! pool a replica reaches it with, and the link between them run by photofinish's fault proxy.
//!
//! Everywhere else in the lab the store is in the replica's memory and its round trips are
//! simulated. Here the round trip is real, so the nemesis can slow it the way a congested
//! network or a loaded database does, and the demo shows what that does to a check-then-create:
//! with nothing slowing the link its window is one loopback round trip and two clients rarely
//! fall into it; with 10 ms added to each round trip they fall into it on nearly every
//! fingerprint.
//!
//! The protocol is one line each way per call: `exists FP` answered `yes` or `no`, `insert FP`
//! answered `ok`, `insert-if-absent FP` answered `yes` (this call created it) or `no`.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use photofinish_run::faults::{Links, ProxyConfig};
use rand::Rng;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreConfig};
use crate::strategies::{named_strategies, Expectation};

named_strategies! {
    /// How a request creates the object unless it exists, when the objects table is across a
    /// network link.
    RemoteCreateStrategy {
        /// Asks the table whether the fingerprint exists, then inserts: the window between the
        /// two is one round trip, as long as the network makes it.
        CheckThenCreate = "check-then-create",
        /// One insert-if-absent: the table's unique index decides, however slow the link.
        UniqueCreate = "unique-create",
    }
}

/// The name of the link between the replicas and the objects table, as the nemesis and the
/// history's fault events call it.
pub const LINK: &str = "objects-db";

/// The longest line either side sends: a verb and a fingerprint.
const MAX_LINE: u64 = 1024;

/// A call that takes longer than this (a partitioned link) ends in an error: the replica
/// answers that it cannot tell what happened.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

impl RemoteCreateStrategy {
    pub fn expectation(self) -> Expectation {
        match self {
            RemoteCreateStrategy::CheckThenCreate => Expectation::Racy,
            RemoteCreateStrategy::UniqueCreate => Expectation::Safe,
        }
    }

    /// Creates the object unless it exists; `Ok(true)` if this request created it. An error
    /// means the link failed, perhaps after an insert was sent: nobody knows whether it was.
    pub async fn create(self, table: &ObjectsClient, fingerprint: &str) -> io::Result<bool> {
        match self {
            RemoteCreateStrategy::CheckThenCreate => {
                if table.call("exists", fingerprint).await? == "yes" {
                    return Ok(false);
                }
                table.call("insert", fingerprint).await?;
                Ok(true)
            }
            RemoteCreateStrategy::UniqueCreate => {
                Ok(table.call("insert-if-absent", fingerprint).await? == "yes")
            }
        }
    }
}

/// The handler's own work before it asks the table (parsing, authentication, a feature-flag
/// lookup): 0-4 ms, different for every request, as in a real service. It spreads requests that
/// arrived together, so that with a fast link their checks rarely overlap, and only a slow one
/// lets them. Slept on a blocking thread: Tokio's timer rounds to whole milliseconds, which
/// would bunch the requests back together.
pub(crate) async fn handler_work() {
    let work = Duration::from_micros(rand::rng().random_range(0..=4000));
    // A failed join (the runtime shutting down) only skips the wait.
    let _ = tokio::task::spawn_blocking(move || std::thread::sleep(work)).await;
}

/// Whether a fingerprint can travel in one protocol line.
pub fn is_sendable(fingerprint: &str) -> bool {
    !fingerprint.is_empty()
        && fingerprint.len() < 256
        && !fingerprint
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
}

/// The objects table's service, its own store behind it, and the fault proxy in front of it.
/// Dropping it stops the service and closes the proxy.
pub struct RemoteObjects {
    store: Arc<Store>,
    links: Arc<Links>,
    client: Arc<ObjectsClient>,
    stop: CancellationToken,
}

impl RemoteObjects {
    /// Starts the service on a free loopback port and the proxy [`LINK`] in front of it. The
    /// store answers without simulated delay: the only round trip is the network's. Must be
    /// called within a Tokio runtime, which then serves the calls.
    pub async fn start(cache_lag: Duration) -> io::Result<RemoteObjects> {
        let store = Arc::new(Store::new(StoreConfig {
            latency: (Duration::ZERO, Duration::ZERO),
            cache_lag,
        }));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let service = listener.local_addr()?;
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, Arc::clone(&store), stop.clone()));
        let mut links = Links::default();
        links
            .start(LINK, ProxyConfig::new(service))
            .map_err(io::Error::other)?;
        let proxy = links
            .listen_addr(LINK)
            .ok_or_else(|| io::Error::other("the objects link did not start"))?;
        Ok(RemoteObjects {
            store,
            links: Arc::new(links),
            client: Arc::new(ObjectsClient::new(proxy)),
            stop,
        })
    }

    /// The table's own store: the ground truth after a run.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The link the nemesis faults.
    pub fn links(&self) -> Arc<Links> {
        Arc::clone(&self.links)
    }

    /// The pool every replica reaches the table through (via the proxy).
    pub fn client(&self) -> Arc<ObjectsClient> {
        Arc::clone(&self.client)
    }
}

impl Drop for RemoteObjects {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn serve(listener: TcpListener, store: Arc<Store>, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        // A failed accept (out of descriptors) is retried with the next connection.
        if let Ok((socket, _)) = accepted {
            let store = Arc::clone(&store);
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    // A connection that breaks ends only itself.
                    _ = answer(socket, &store) => {}
                }
            });
        }
    }
}

/// Answers one connection's calls, one line each, until it closes or sends nonsense.
async fn answer(socket: TcpStream, store: &Store) -> io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    while let Some(line) = read_line(&mut read).await? {
        let answer = match line.split_once(' ') {
            Some(("exists", fp)) if store.object_exists(fp).await => "yes",
            Some(("exists", _)) => "no",
            Some(("insert", fp)) => {
                store.insert_object(fp).await;
                "ok"
            }
            Some(("insert-if-absent", fp)) if store.insert_object_if_absent(fp).await => "yes",
            Some(("insert-if-absent", _)) => "no",
            _ => return Err(io::Error::other(format!("unknown call {line:?}"))),
        };
        write.write_all(format!("{answer}\n").as_bytes()).await?;
    }
    Ok(())
}

/// One line without its newline; `None` at the end of the stream. A line longer than
/// [`MAX_LINE`] is an error, never buffered whole.
async fn read_line<R: AsyncBufRead + Unpin>(read: &mut R) -> io::Result<Option<String>> {
    let mut line = String::new();
    let n = (&mut *read).take(MAX_LINE).read_line(&mut line).await?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a line longer than the protocol allows, or cut short",
        ));
    }
    line.pop();
    Ok(Some(line))
}

/// Connections to the objects table, reused call after call, one call at a time each.
pub struct ObjectsClient {
    address: SocketAddr,
    idle: Mutex<Vec<BufReader<TcpStream>>>,
}

impl ObjectsClient {
    pub fn new(address: SocketAddr) -> ObjectsClient {
        ObjectsClient {
            address,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `verb fingerprint` and returns the answer line. A connection is returned to the
    /// pool only after a whole answer, so a broken or timed-out one is never reused.
    pub async fn call(&self, verb: &str, fingerprint: &str) -> io::Result<String> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut connection = match idle {
            Some(connection) => connection,
            None => BufReader::new(TcpStream::connect(self.address).await?),
        };
        let answer = tokio::time::timeout(CALL_TIMEOUT, async {
            connection
                .get_mut()
                .write_all(format!("{verb} {fingerprint}\n").as_bytes())
                .await?;
            read_line(&mut connection)
                .await?
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "the table hung up"))
        })
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the table did not answer"))??;
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(connection);
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_options_create_through_the_link() {
        let remote = RemoteObjects::start(Duration::ZERO).await.unwrap();
        let table = remote.client();
        for strategy in RemoteCreateStrategy::ALL {
            let fp = strategy.name();
            assert!(strategy.create(&table, fp).await.unwrap());
            assert!(!strategy.create(&table, fp).await.unwrap());
            assert_eq!(remote.store().objects_with(fp), 1);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn latency_on_the_link_lets_two_concurrent_checks_both_create() {
        let remote = RemoteObjects::start(Duration::ZERO).await.unwrap();
        let links = remote.links();
        photofinish_run::faults::FaultTarget::slow(
            &*links,
            0,
            Duration::from_millis(20),
            Duration::ZERO,
        );
        let creates: Vec<_> = (0..2)
            .map(|_| {
                let table = remote.client();
                tokio::spawn(async move {
                    RemoteCreateStrategy::CheckThenCreate
                        .create(&table, "7")
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut created = 0;
        for create in creates {
            created += usize::from(create.await.unwrap());
        }
        assert_eq!(created, 2, "both checks ran before either insert");
        assert_eq!(remote.store().objects_with("7"), 2);
    }

    #[test]
    fn fingerprints_that_cannot_travel_are_refused() {
        assert!(is_sendable("42"));
        assert!(!is_sendable(""));
        assert!(!is_sendable("a b"));
        assert!(!is_sendable("a\nexists b"));
    }
}
