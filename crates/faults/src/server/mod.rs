//! Throwaway servers: one process on a free loopback port with its data in a temporary
//! directory, which can be killed and restarted on the same data and port, paused and resumed,
//! and which is stopped, with its directory removed, when dropped.

pub(crate) mod etcd;
pub(crate) mod postgres;
pub(crate) mod redis;
mod user;

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use crate::probe::{self, Probe};
use crate::process;
use crate::Error;

pub use user::POSTGRES_USER;

/// The servers this crate can start, from their Debian packages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// `redis-server` from the PATH (package redis-server).
    Redis,
    /// The newest PostgreSQL under `/usr/lib/postgresql/*/bin` (package postgresql).
    Postgres,
    /// `etcd` from the PATH (package etcd-server).
    Etcd,
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Redis => "redis",
            ServerKind::Postgres => "postgres",
            ServerKind::Etcd => "etcd",
        }
    }

    /// The kind named `name` (`redis`, `postgres` or `etcd`).
    pub fn parse(name: &str) -> Option<ServerKind> {
        match name {
            "redis" => Some(ServerKind::Redis),
            "postgres" | "postgresql" => Some(ServerKind::Postgres),
            "etcd" => Some(ServerKind::Etcd),
            _ => None,
        }
    }

    /// What an extra setting looks like for this kind, for usage messages.
    pub fn setting_example(self) -> &'static str {
        match self {
            ServerKind::Redis => "'appendonly yes' (a redis.conf line)",
            ServerKind::Postgres => "'synchronous_commit=off' (a -c setting)",
            ServerKind::Etcd => "'snapshot-count=1000' (an etcd flag without its dashes)",
        }
    }
}

impl std::fmt::Display for ServerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How to start servers.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Extra settings, passed through: `appendonly yes` for Redis (a redis.conf line),
    /// `synchronous_commit=off` for PostgreSQL (a `-c` setting), `snapshot-count=1000` for etcd
    /// (a flag). They come after photofinish's own defaults, so they win.
    pub settings: Vec<String>,
    /// How long a server may take to accept work after it is started or restarted.
    pub ready_timeout: Duration,
    /// Where the temporary directories go (default: the system's temporary directory).
    pub temp_root: Option<PathBuf>,
    /// Cancelling this interrupts any wait for a server (Ctrl-C during start-up, say); the wait
    /// then fails with [`Error::interrupted`] set, and what was started is dropped.
    pub stop: CancellationToken,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            settings: Vec::new(),
            ready_timeout: Duration::from_secs(30),
            temp_root: None,
            stop: CancellationToken::new(),
        }
    }
}

/// How to run a server's process again: the same program, arguments and user each time.
#[derive(Clone, Debug)]
pub(crate) struct Launch {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub user: Option<user::User>,
    pub probe: Probe,
    /// How to ask the server to stop on its own before it is killed (PostgreSQL removes its
    /// shared memory segment on a clean stop); `None`: SIGKILL straight away.
    pub stop_signal: Option<libc::c_int>,
}

/// One throwaway server process on a free loopback port, its data in a temporary directory. It
/// can be killed and restarted on the same data and port, paused and resumed; dropping it stops
/// it and removes the directory.
pub struct Server {
    name: String,
    kind: ServerKind,
    addr: SocketAddr,
    launch: Launch,
    child: Option<Child>,
    paused: bool,
    ready_timeout: Duration,
    stop: CancellationToken,
    log: PathBuf,
    // Dropped last: the process must be gone before its directory goes.
    dir: TempDir,
}

impl Server {
    /// Starts a single server of `kind`, named `n1`, on a free loopback port, and waits until
    /// it accepts work.
    ///
    /// ```
    /// use std::io::{BufRead, BufReader, Write};
    /// use photofinish_faults::{Server, ServerKind, ServerOptions};
    ///
    /// // A tiny Redis client: one inline command, one answer line.
    /// let call = |server: &Server, command: &str| {
    ///     let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    ///     stream.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    ///     let mut reader = BufReader::new(stream);
    ///     let mut line = String::new();
    ///     reader.read_line(&mut line).unwrap();
    ///     if line.starts_with('$') {
    ///         line.clear();
    ///         reader.read_line(&mut line).unwrap();
    ///     }
    ///     line.trim_end().to_string()
    /// };
    ///
    /// let mut options = ServerOptions::default();
    /// options.settings = vec!["appendonly yes".into(), "appendfsync always".into()];
    /// let mut redis = Server::start(ServerKind::Redis, &options).unwrap();
    /// assert_eq!(call(&redis, "SET k v"), "+OK");
    /// redis.kill().unwrap(); // SIGKILL, as a crash would
    /// redis.restart().unwrap(); // the same data directory, the same port
    /// assert_eq!(call(&redis, "GET k"), "v"); // the fsynced log kept it
    /// ```
    pub fn start(kind: ServerKind, options: &ServerOptions) -> Result<Server, Error> {
        let name = "n1";
        match kind {
            ServerKind::Redis => {
                let addr = free_addr()?;
                let dir = temp_dir(kind, name, options)?;
                let launch = redis::launch(addr, dir.path(), None, &options.settings)?;
                Server::spawn(name, kind, addr, launch, dir, options)
            }
            ServerKind::Postgres => postgres::start(name, options),
            ServerKind::Etcd => etcd::start_single(name, options),
        }
    }

    /// A server that is not started yet: its directory is ready, `launch` says how to run it.
    pub(crate) fn prepare(
        name: &str,
        kind: ServerKind,
        addr: SocketAddr,
        launch: Launch,
        dir: TempDir,
        options: &ServerOptions,
    ) -> Server {
        Server {
            name: name.to_string(),
            kind,
            addr,
            launch,
            child: None,
            paused: false,
            ready_timeout: options.ready_timeout,
            stop: options.stop.clone(),
            log: dir.path().join("server.log"),
            dir,
        }
    }

    /// Starts the process the first time and waits until it is ready.
    pub(crate) fn spawn(
        name: &str,
        kind: ServerKind,
        addr: SocketAddr,
        launch: Launch,
        dir: TempDir,
        options: &ServerOptions,
    ) -> Result<Server, Error> {
        let mut server = Server::prepare(name, kind, addr, launch, dir, options);
        server.run("starting")?;
        Ok(server)
    }

    /// The node's name, such as `n1`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The server's own address (clients of a [`Cluster`](crate::Cluster) use its proxy).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The temporary directory holding the data and the log; removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The file the server's standard output and error go to.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        process::tail(&self.log, lines)
    }

    /// The main process's id, unless it is killed.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The main process and everything it started (PostgreSQL's backends, a Redis fork).
    pub fn processes(&self) -> Vec<u32> {
        self.pid().map_or_else(Vec::new, process::tree)
    }

    /// Whether the process runs (or is paused): started and neither killed nor exited.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// A description for messages: `redis n1 (127.0.0.1:40113)`.
    pub fn describe(&self) -> String {
        format!("{} {} ({})", self.kind, self.name, self.addr)
    }

    /// SIGKILL to the server and everything it started, as a crash would; returns once every
    /// one of those processes is gone. The data directory and port stay for [`restart`].
    ///
    /// [`restart`]: Self::restart
    pub fn kill(&mut self) -> Result<(), Error> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let members = process::signal_tree(child.id(), libc::SIGKILL);
        self.paused = false;
        let _ = child.wait();
        if process::wait_gone(&members, Duration::from_secs(10)) {
            Ok(())
        } else {
            Err(Error::new(
                self.describe(),
                "killing",
                "some of its processes survived SIGKILL for 10 s",
            ))
        }
    }

    /// Starts the server again on the same data directory and port, and waits until it accepts
    /// work. Kills it first if it still runs.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.kill()?;
        self.run("restarting")
    }

    /// SIGSTOP to the server and everything it started: it keeps its connections and answers
    /// nothing until [`resume`](Self::resume).
    pub fn pause(&mut self) -> Result<(), Error> {
        let pid = self.running_pid("pausing")?;
        process::signal_tree(pid, libc::SIGSTOP);
        self.paused = true;
        Ok(())
    }

    /// SIGCONT to the server and everything it started.
    pub fn resume(&mut self) -> Result<(), Error> {
        let pid = self.running_pid("resuming")?;
        process::signal_tree(pid, libc::SIGCONT);
        self.paused = false;
        Ok(())
    }

    fn running_pid(&mut self, step: &str) -> Result<u32, Error> {
        if !self.is_running() {
            return Err(
                Error::new(self.describe(), step, "the server is not running")
                    .with_log(self.log_tail(20)),
            );
        }
        Ok(self.pid().expect("a running server has a process"))
    }

    /// Starts the process and waits until it is ready.
    fn run(&mut self, step: &str) -> Result<(), Error> {
        self.launch_process(step)?;
        self.wait_ready(step)
    }

    pub(crate) fn launch_process(&mut self, step: &str) -> Result<(), Error> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| {
                Error::new(
                    self.describe(),
                    step,
                    format!("cannot open {}: {e}", self.log.display()),
                )
            })?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::new(self.describe(), step, e))?;
        let mut command = Command::new(&self.launch.program);
        command
            .args(&self.launch.args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if let Some(user) = &self.launch.user {
            user.apply(&mut command);
        }
        let child = process::spawn(command).map_err(|e| {
            Error::new(
                self.describe(),
                step,
                format!("cannot run {}: {e}", self.launch.program.display()),
            )
        })?;
        self.child = Some(child);
        self.paused = false;
        Ok(())
    }

    /// Waits until the probe says ready, the process exits, the timeout passes or the stop
    /// token is cancelled.
    pub(crate) fn wait_ready(&mut self, step: &str) -> Result<(), Error> {
        let started = Instant::now();
        let what = format!("{step}: {}", self.launch.probe.describe());
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(Error::new(
                        self.describe(),
                        what,
                        format!("the server exited ({status})"),
                    )
                    .with_log(self.log_tail(20)));
                }
            }
            // Each question gets only the time left, so that the wait ends on time.
            let left = self.ready_timeout.saturating_sub(started.elapsed());
            let last = match self.launch.probe.check(left.min(probe::TIMEOUT)) {
                Ok(()) => return Ok(()),
                Err(why) => why,
            };
            if self.stop.is_cancelled() {
                let mut error = Error::new(self.describe(), what, "interrupted");
                error.interrupted = true;
                return Err(error);
            }
            if started.elapsed() >= self.ready_timeout {
                return Err(Error::new(
                    self.describe(),
                    what,
                    format!(
                        "not ready after {:?} (last answer: {last})",
                        self.ready_timeout
                    ),
                )
                .with_log(self.log_tail(20)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server for good: asks it to stop when it has a clean way to, kills it after
    /// a few seconds or straight away otherwise, and waits until every process is gone.
    fn shut_down(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let pid = child.id();
        if let Some(signal) = self.launch.stop_signal {
            if self.paused {
                process::signal_tree(pid, libc::SIGCONT);
            }
            process::signal(pid, signal);
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.kill();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("pid", &self.pid())
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// A loopback address with a port nobody listens on right now.
pub(crate) fn free_addr() -> Result<SocketAddr, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|e| Error::new("photofinish", "finding a free loopback port", e))
}

/// A new temporary directory for one server.
pub(crate) fn temp_dir(
    kind: ServerKind,
    name: &str,
    options: &ServerOptions,
) -> Result<TempDir, Error> {
    let root = options.temp_root.clone().unwrap_or_else(std::env::temp_dir);
    tempfile::Builder::new()
        .prefix(&format!("photofinish-{kind}-{name}-"))
        .tempdir_in(&root)
        .map_err(|e| {
            Error::new(
                format!("{kind} {name}"),
                "creating its temporary directory",
                format!("in {}: {e}", root.display()),
            )
        })
}

/// `program` found on the PATH, or an error saying which package provides it.
pub(crate) fn find_program(program: &str, package: &str) -> Result<PathBuf, Error> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::new(
                "photofinish",
                format!("looking for {program}"),
                format!("{program} is not on the PATH (install the Debian package {package})"),
            )
        })
}
