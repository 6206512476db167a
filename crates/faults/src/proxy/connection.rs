//! One proxied connection: two pumps, one per direction, each copying bytes straight through
//! while no fault applies and queueing them with a due time while one does.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::faults::Direction;
use super::{connect_upstream, sniff, Shared};

/// How much one read takes at most.
const CHUNK: usize = 32 * 1024;
/// How much a pump queues (delayed or throttled) before it stops reading, so that a slow link
/// pushes back on its sender the way a full TCP window would.
const MAX_QUEUED: usize = 1 << 20;
/// A throttled pump writes in slices of this share of a second's worth of bytes.
const SLICES_PER_SECOND: u64 = 50;

/// How a connection ended.
enum Ending {
    /// Both sides closed, each after the other's bytes were delivered.
    Closed,
    /// A side failed (reset by its peer, say): the other gets a reset too.
    Broken,
    /// Reset on request.
    Reset,
    /// The proxy is shutting down.
    Shutdown,
}

/// Serves one accepted client until the connection ends. `_done` is dropped when it does,
/// which is how dropping the proxy knows every connection is gone.
pub(crate) async fn serve(mut client: TcpStream, shared: Arc<Shared>, _done: mpsc::Sender<()>) {
    let _open = Open::count(&shared.open);
    let _ = client.set_nodelay(true);
    let mut resets = shared.resets.subscribe();
    let (first, source) = match &shared.source_header {
        Some(header) => tokio::select! {
            sniffed = sniff::sniff(&mut client, header) => sniffed,
            () = shared.shutdown.cancelled() => return,
        },
        None => (Vec::new(), None),
    };
    let upstream = tokio::select! {
        connected = connect_upstream(&shared) => connected,
        () = shared.shutdown.cancelled() => return,
        _ = resets.changed() => Err(io::Error::other("reset")),
    };
    let Ok(mut upstream) = upstream else {
        // As close to "connection refused" as a connection already accepted can get.
        reset(&client);
        return;
    };
    let _ = upstream.set_nodelay(true);

    let ending = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        let source = source.as_deref();
        let to_upstream = pump(
            client_read,
            upstream_write,
            Direction::ToUpstream,
            first,
            &shared,
            source,
        );
        let to_client = pump(
            upstream_read,
            client_write,
            Direction::ToClient,
            Vec::new(),
            &shared,
            source,
        );
        tokio::select! {
            pumped = async { tokio::try_join!(to_upstream, to_client) } => match pumped {
                Ok(_) => Ending::Closed,
                Err(_) => Ending::Broken,
            },
            _ = resets.changed() => Ending::Reset,
            () = shared.shutdown.cancelled() => Ending::Shutdown,
        }
    };
    match ending {
        Ending::Broken | Ending::Reset => {
            reset(&client);
            reset(&upstream);
        }
        Ending::Closed | Ending::Shutdown => {}
    }
}

/// Makes the coming close send a TCP RST instead of a FIN.
fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Counts a connection as open for as long as it lives.
struct Open<'a>(&'a AtomicUsize);

impl<'a> Open<'a> {
    fn count(open: &'a AtomicUsize) -> Open<'a> {
        open.fetch_add(1, Ordering::Relaxed);
        Open(open)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Bytes read but not yet delivered.
struct Chunk {
    due: Instant,
    data: Vec<u8>,
    /// How much of `data` is already written.
    written: usize,
}

/// Copies one direction until its reader ends, then closes the writer (a half close, so the
/// other direction goes on). Returns an error when either side fails.
async fn pump(
    mut reader: ReadHalf<'_>,
    mut writer: WriteHalf<'_>,
    direction: Direction,
    first: Vec<u8>,
    shared: &Shared,
    source: Option<&str>,
) -> io::Result<()> {
    let mut faults = shared.faults.subscribe();
    let mut queue: VecDeque<Chunk> = VecDeque::new();
    let mut queued = first.len();
    if !first.is_empty() {
        queue.push_back(Chunk {
            due: Instant::now(),
            data: first,
            written: 0,
        });
    }
    let mut buf = vec![0u8; CHUNK];
    let mut rng = SmallRng::from_rng(&mut rand::rng());
    let mut last_due = Instant::now();
    let mut paced_until = Instant::now();
    let mut eof = false;
    loop {
        let flow = faults.borrow_and_update().flow(direction, source);
        if eof && queue.is_empty() {
            return writer.shutdown().await;
        }
        if flow.is_plain() && queue.is_empty() {
            // The fast path: a straight copy. A fault switched on meanwhile applies from the
            // next bytes on, so there is nothing to watch but the socket; seeing a change costs
            // one comparison of the channel's version per read.
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                eof = true;
            } else if faults.has_changed().unwrap_or(false) {
                let flow = faults.borrow_and_update().flow(direction, source);
                last_due = (Instant::now() + flow.delay(&mut rng)).max(last_due);
                queue.push_back(Chunk {
                    due: last_due,
                    data: buf[..n].to_vec(),
                    written: 0,
                });
                queued += n;
            } else {
                writer.write_all(&buf[..n]).await?;
            }
            continue;
        }

        let can_read = !eof && !flow.hold && queued < MAX_QUEUED;
        let next_write = (!flow.hold)
            .then(|| queue.front().map(|chunk| chunk.due.max(paced_until)))
            .flatten();
        tokio::select! {
            read = reader.read(&mut buf), if can_read => {
                let n = read?;
                if n == 0 {
                    eof = true;
                } else {
                    last_due = (Instant::now() + flow.delay(&mut rng)).max(last_due);
                    queue.push_back(Chunk { due: last_due, data: buf[..n].to_vec(), written: 0 });
                    queued += n;
                }
            }
            () = tokio::time::sleep_until(next_write.unwrap_or_else(Instant::now)), if next_write.is_some() => {
                let started = Instant::now();
                let Some(chunk) = queue.front_mut() else { continue };
                let left = chunk.data.len() - chunk.written;
                let step = match flow.bandwidth {
                    Some(rate) => left.min((rate / SLICES_PER_SECOND).max(1) as usize),
                    None => left,
                };
                writer.write_all(&chunk.data[chunk.written..chunk.written + step]).await?;
                chunk.written += step;
                queued -= step;
                if chunk.written == chunk.data.len() {
                    queue.pop_front();
                }
                if let Some(rate) = flow.bandwidth {
                    paced_until = paced_until.max(started)
                        + Duration::from_secs_f64(step as f64 / rate as f64);
                }
            }
            _ = faults.changed() => {}
        }
    }
}
