//! What a system under test must provide: a way to open a client and a client that performs
//! operations.

use std::future::Future;

use tokio_util::sync::CancellationToken;

use crate::{Completion, Invocation};

/// A system under test. The runner opens one [`Client`] per concurrent process and opens a new
/// one whenever an operation ends indeterminately, so that a connection in an unknown state is
/// never reused.
pub trait Target: Send + Sync + 'static {
    type Client: Client;

    /// A short description for the summary, such as `redis 127.0.0.1:6390 (counter by GET+SET)`.
    fn describe(&self) -> String;

    /// Brings the system to the workload's initial state (deletes keys, creates tables), once,
    /// before any client starts.
    fn setup(&self) -> impl Future<Output = Result<(), String>> + Send;

    /// Opens the client for `worker` (0-based). An error here records nothing: no operation was
    /// attempted.
    fn connect(&self, worker: usize) -> impl Future<Output = Result<Self::Client, String>> + Send;
}

/// One process's connection to the system. It performs one operation at a time.
pub trait Client: Send + 'static {
    /// Performs `op`. The runner bounds it with the operation timeout, so a client need not time
    /// out on its own; it must report a lost connection as [`Completion::Info`] unless it knows
    /// the request was never sent. An answer that shows the run cannot go on (a result the
    /// workload cannot describe, say) is [`Completion::Halt`]: recorded as `info`, it stops
    /// every client.
    fn invoke(&mut self, op: &Invocation) -> impl Future<Output = Completion> + Send;

    /// For a client that takes time to start (a program that loads its libraries and connects
    /// before it can answer): a signal it sets once started. Until then the operation timeout
    /// does not run: the runner gives the start-up the start timeout
    /// ([`RunConfig::start_timeout`](crate::RunConfig::start_timeout)), and the operation its
    /// operation timeout from the moment the client is started. `None` (the default): the
    /// client is ready once connected.
    fn started(&self) -> Option<Started> {
        None
    }
}

/// Whether a client has finished starting up, shared between the client, which sets it, and
/// the runner, which waits for it (see [`Client::started`]).
///
/// ```
/// use photofinish_run::Started;
///
/// let started = Started::new();
/// let seen_by_the_runner = started.clone();
/// assert!(!seen_by_the_runner.is_set());
/// started.set();
/// assert!(seen_by_the_runner.is_set());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Started(CancellationToken);

impl Started {
    /// Not started yet.
    pub fn new() -> Started {
        Started::default()
    }

    /// Marks the client started; every clone sees it.
    pub fn set(&self) {
        self.0.cancel();
    }

    pub fn is_set(&self) -> bool {
        self.0.is_cancelled()
    }

    /// Resolves once the client is started.
    pub async fn wait(&self) {
        self.0.cancelled().await
    }
}
