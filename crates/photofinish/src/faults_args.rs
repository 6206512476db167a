//! The flags that make `photofinish run` start its own servers and fault them during the run:
//! `--spawn`, `--server-arg`, `--nemesis`, `--nemesis-interval`, `--nemesis-duration`, and for
//! clusters `--replicas` and `--read-from` (redis) and `--members` (etcd).

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use photofinish::faults::{wait_for_ctrl_c, FaultKind, NemesisConfig, ServerKind};
use photofinish::runner::spawn::{SpawnSpec, Spawned};
use photofinish::runner::{CancellationToken, NemesisPlan};
use photofinish::terminal::sanitize;

use crate::{options, usage_error};

/// Servers photofinish starts, and faults on them.
#[derive(clap::Args)]
pub struct SpawnFlags {
    /// Start a throwaway server on a free loopback port (its data in a temporary directory),
    /// run against it through a fault proxy, and stop it at the end; --url is not used.
    #[arg(long)]
    spawn: bool,
    /// A setting for the spawned server, repeatable: 'appendonly yes' (redis),
    /// 'synchronous_commit=off' (postgres), 'snapshot-count=1000' (etcd).
    #[arg(long = "server-arg", value_name = "SETTING", requires = "spawn")]
    server_args: Vec<String>,
    /// Faults during the run, drawn in turn (seeded by --seed): kill, pause, partition,
    /// latency, comma-separated. Each start and end goes into the history. Needs --spawn.
    #[arg(long, value_name = "FAULTS", requires = "spawn")]
    nemesis: Option<String>,
    /// Quiet time before each fault (more than 0, at most 365 days).
    #[arg(long, default_value = "2s", value_parser = options::wait)]
    nemesis_interval: Duration,
    /// How long each fault lasts (more than 0, at most 365 days).
    #[arg(long, default_value = "2s", value_parser = options::wait)]
    nemesis_duration: Duration,
}

/// A Redis primary with replicas.
#[derive(clap::Args)]
pub struct RedisClusterFlags {
    /// With --spawn: also start this many replicas of the primary, each replicating through a
    /// proxy of its own (so partition cuts a replica off).
    #[arg(long, default_value_t = 0, requires = "spawn")]
    replicas: usize,
    /// Where reads go: primary, or replica (with --replicas; worker i reads from replica
    /// i mod N).
    #[arg(long, value_enum, default_value = "primary")]
    read_from: ReadFrom,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReadFrom {
    Primary,
    Replica,
}

/// An etcd cluster.
#[derive(clap::Args)]
pub struct EtcdClusterFlags {
    /// With --spawn: how many members (peer links through proxies, so partition isolates a
    /// member from the others). Clients spread over the members.
    #[arg(long, default_value_t = 1, requires = "spawn")]
    members: usize,
}

/// The servers of one run; they stop when this is dropped.
pub struct Servers {
    spawned: Spawned,
    plan: Option<NemesisPlan>,
}

impl Servers {
    /// The nemesis to run beside the clients, if one was asked for.
    pub fn plan(&self) -> Option<NemesisPlan> {
        self.plan.clone()
    }

    pub fn urls(&self) -> Vec<String> {
        self.spawned.urls()
    }

    pub fn primary_url(&self) -> String {
        self.spawned.primary_url()
    }
}

impl SpawnFlags {
    /// Starts the servers when --spawn is given: `nodes` of them.
    pub fn start(&self, kind: ServerKind, nodes: usize) -> Result<Option<Servers>, ExitCode> {
        if !self.spawn {
            return Ok(None);
        }
        let faults = match &self.nemesis {
            Some(list) => Some(
                FaultKind::parse_list(list).map_err(|e| usage_error(format!("--nemesis: {e}")))?,
            ),
            None => None,
        };
        let spec = SpawnSpec {
            nodes,
            settings: self.server_args.clone(),
            ..SpawnSpec::new(kind)
        };
        eprintln!(
            "photofinish: starting {} {kind} server{} on loopback",
            nodes,
            if nodes == 1 { "" } else { "s" }
        );
        let spawned = Spawned::start(&spec, interrupt()).map_err(|message| {
            eprintln!("photofinish: {}", sanitize(&message));
            ExitCode::from(2)
        })?;
        for server in spawned.describe() {
            eprintln!("photofinish: started {}", sanitize(&server.to_string()));
        }
        let plan = faults.map(|faults| {
            let mut config = NemesisConfig::new(faults);
            config.interval = self.nemesis_interval;
            config.duration = self.nemesis_duration;
            spawned.nemesis(config)
        });
        Ok(Some(Servers { spawned, plan }))
    }
}

impl RedisClusterFlags {
    /// How many Redis servers to start: the primary and the replicas.
    pub fn nodes(&self) -> usize {
        1 + self.replicas
    }

    /// The replicas' URLs when reads go to them.
    pub fn readers(&self, servers: Option<&Servers>) -> Result<Vec<String>, ExitCode> {
        if self.read_from == ReadFrom::Primary {
            return Ok(Vec::new());
        }
        match servers {
            Some(servers) if self.replicas > 0 => Ok(servers.spawned.replica_urls()),
            _ => Err(usage_error(
                "--read-from replica needs --spawn --replicas N (N at least 1)".into(),
            )),
        }
    }
}

impl EtcdClusterFlags {
    pub fn nodes(&self) -> usize {
        self.members
    }
}

/// Cancelled at the first Ctrl-C, which interrupts a server's start-up (the run itself stops
/// on its own Ctrl-C handler); the second Ctrl-C ends the process at once. Once this is
/// called, SIGINT no longer ends the process by itself, so what was started is always stopped.
fn interrupt() -> CancellationToken {
    static TOKEN: OnceLock<CancellationToken> = OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let token = CancellationToken::new();
            let watched = token.clone();
            std::thread::spawn(move || {
                while wait_for_ctrl_c().is_ok() {
                    if watched.is_cancelled() {
                        std::process::exit(130);
                    }
                    eprintln!("photofinish: stopping (Ctrl-C again to quit at once)");
                    watched.cancel();
                }
            });
            token
        })
        .clone()
}
