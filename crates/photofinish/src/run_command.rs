//! `photofinish run`: drive a workload against a real system, then check what was recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use photofinish::checker::{default_init, CheckOptions, Report, Verdict};
use photofinish::faults::{FaultKind, FaultTarget, NemesisConfig, ServerKind};
use photofinish::history::{escape_and_clip, Format};
use photofinish::runner::controls::{KeyDist, Mix};
use photofinish::runner::run_blocking;
use photofinish::runner::targets::etcd::{EtcdRead, EtcdTarget};
use photofinish::runner::targets::exec::ExecTarget;
use photofinish::runner::targets::http::{HttpSpec, HttpTarget};
use photofinish::runner::targets::postgres::{Isolation, PostgresTarget, PostgresVariant};
use photofinish::runner::targets::redis::{RedisTarget, RedisVariant};
use photofinish::runner::{
    NemesisPlan, Phase, RunConfig, RunError, Summary, Target, Workload, WorkloadKind,
};
use photofinish::{check_history, terminal, CheckRequest, Checked, Error, ModelChoice};

use crate::faults_args::{EtcdClusterFlags, RedisClusterFlags, SpawnFlags};
use crate::txn_run_command;
use crate::{emit_json, guard_outputs, json_file, options, usage_error, warn, write_html};

#[derive(clap::Args)]
pub struct RunArgs {
    /// Boxed: a target's flags outweigh every other command's.
    #[command(subcommand)]
    target: Box<TargetArgs>,
}

#[derive(clap::Subcommand)]
enum TargetArgs {
    /// A real Redis server. Variants: counter get-set (racy) | incr; mutex set-nx-px (racy,
    /// expiring lock) | set-nx-owned; create-once check-then-set (racy) | set-nx; cas-register
    /// lua; register, set, queue plain; kv list (RPUSH, LRANGE) | get-set (racy: the list as
    /// JSON text, read then written back); multi-register watch (WATCH, MGET, MULTI/EXEC,
    /// retried) | read-then-write (racy: MGET, then MULTI/EXEC without WATCH); list-append
    /// multi-exec (each transaction one MULTI/EXEC of RPUSH and LRANGE). The default is the
    /// safe one.
    Redis {
        /// A redis:// URL or host:port.
        #[arg(long, default_value = "redis://127.0.0.1:6379")]
        url: String,
        /// How the client implements the workload (see above).
        #[arg(long)]
        variant: Option<String>,
        /// Expiry of set-nx-px locks.
        #[arg(long, default_value = "100ms", value_parser = options::wait)]
        lock_ttl: Duration,
        #[command(flatten)]
        run: RunFlags,
        #[command(flatten)]
        spawn: SpawnFlags,
        #[command(flatten)]
        cluster: RedisClusterFlags,
    },
    /// A real PostgreSQL server. Variants: counter update-add | select-update (racy at read
    /// committed) | for-update | serializable (retries); create-once check-then-insert (racy,
    /// no unique constraint) | unique-insert; cas-register conditional-update; register update;
    /// kv update-append (array_append) | select-update (racy at read committed) | for-update |
    /// serializable; multi-register for-update (one transaction locking its rows in key order)
    /// | select-update (racy below serializable) | serializable (retries). Transactional
    /// workloads, one transaction per operation at --isolation, never retried (an abort is
    /// recorded as failed): list-append (upsert v || [e]), rw-register (upsert), bank
    /// (SELECT both balances, then UPDATE each).
    Postgres {
        /// A connection string: 'host=127.0.0.1 port=5432 user=postgres dbname=postgres'.
        #[arg(long, required_unless_present = "spawn")]
        url: Option<String>,
        /// How the client implements the workload (see above).
        #[arg(long)]
        variant: Option<String>,
        /// Transaction isolation: read-committed, repeatable-read, serializable.
        #[arg(long, default_value = "read-committed")]
        isolation: String,
        #[command(flatten)]
        run: RunFlags,
        #[command(flatten)]
        spawn: SpawnFlags,
    },
    /// etcd (v3 API, through its JSON gateway). Workloads: register (put, range), cas-register
    /// (txn on the value), create-once (txn on create_revision = 0), counter (txn
    /// compare-and-swap loop).
    Etcd {
        /// Client URLs, comma-separated: http://127.0.0.1:2379,... (worker i uses the i mod
        /// n-th).
        #[arg(long, default_value = "http://127.0.0.1:2379", value_delimiter = ',')]
        endpoints: Vec<String>,
        /// How reads are served: linearizable, or serializable (from the member's own state,
        /// possibly stale).
        #[arg(long, default_value = "linearizable")]
        read: String,
        /// The most bytes of an answer read (64 B to 1 GiB; 512KiB, 1MiB...). A longer answer
        /// is not read further: a write is then indeterminate (info), a read failed.
        #[arg(long, default_value = "1MiB", value_parser = options::answer_bytes)]
        max_answer_bytes: usize,
        #[command(flatten)]
        run: RunFlags,
        #[command(flatten)]
        spawn: SpawnFlags,
        #[command(flatten)]
        cluster: EtcdClusterFlags,
    },
    /// Your own HTTP service, described by a workload file (TOML): the workload, the base URL
    /// (or several replicas), one request template per operation with the statuses and bodies
    /// that mean ok and fail and where the result is, setup and teardown requests, and fault
    /// proxies ([[proxy]]) for the nemesis. See the README and examples/http/.
    Http {
        /// The workload file.
        file: PathBuf,
        #[command(flatten)]
        run: RunFlags,
        /// The most bytes of a response body read (64 B to 1 GiB; 512KiB, 1MiB...). A longer
        /// body makes its operation indeterminate (info), and none of it is recorded.
        #[arg(long, default_value = "1MiB", value_parser = options::answer_bytes)]
        max_answer_bytes: usize,
        /// Faults on the file's [[proxy]] links during the run, drawn in turn (seeded by
        /// --seed): partition, latency, comma-separated. Each start and end goes into the
        /// history.
        #[arg(long, value_name = "FAULTS")]
        nemesis: Option<String>,
        /// Quiet time before each fault (more than 0, at most 365 days).
        #[arg(long, default_value = "2s", value_parser = options::wait)]
        nemesis_interval: Duration,
        /// How long each fault lasts (more than 0, at most 365 days).
        #[arg(long, default_value = "2s", value_parser = options::wait)]
        nemesis_duration: Duration,
    },
    /// Any program speaking photofinish's JSON Lines protocol, one instance per client:
    /// photofinish writes {"f":..,"key":..,"value":..} per line to its stdin, the program
    /// answers {"type":"ok","value":..}, {"type":"fail","error":..} (certainly no effect) or
    /// {"type":"info","error":..} (unknown) per line on stdout. Before the run one instance gets
    /// {"f":"setup","workload":..,"keys":..} and answers ok when the system is reset. A program
    /// may print {"type":"ready"} once, before anything else, when it has started (see
    /// --start-timeout). kv sends {"f":"get"|"put"|"append","key":K,"value":..} (put's value a
    /// one-element list; get answers the key's list, or null); multi-register sends
    /// {"f":"txn","value":[["read","x0",null],["write","x1",5]]} and wants the same list back
    /// with the reads' values filled in.
    Exec {
        #[command(flatten)]
        run: RunFlags,
        /// The longest answer line read from the program (64 B to 1 GiB; 512KiB, 1MiB...). A
        /// longer line makes its operation indeterminate (info); the program is stopped and
        /// the next process gets a new one.
        #[arg(long, default_value = "1MiB", value_parser = options::answer_bytes)]
        max_answer_bytes: usize,
        /// The program and its arguments, after `--`. No shell is involved.
        #[arg(last = true, required = true, value_name = "PROGRAM")]
        command: Vec<String>,
    },
}

/// What every target shares: the workload, the load, the recording and the check.
#[derive(clap::Args)]
struct RunFlags {
    /// The workload: register, cas-register, counter, set, queue, mutex, create-once, kv,
    /// multi-register (for http, the workload file says); transactional, checked for the
    /// anomalies of --consistency-model: list-append (postgres, redis, exec, http),
    /// rw-register (postgres, exec, http), bank (postgres, exec).
    #[arg(long, short)]
    workload: Option<String>,
    /// list-append, rw-register: the consistency model the system promises; the run fails
    /// (exit 1) only when the history violates it. One of read-uncommitted, read-committed,
    /// snapshot-isolation, repeatable-read, serializable, strict-serializable
    /// [default: strict-serializable].
    #[arg(long, value_name = "MODEL")]
    consistency_model: Option<String>,
    /// Independent keys (objects) the operations spread over, 1 to 100000; each is checked on
    /// its own; for multi-register, the registers its transactions span, default 3; for
    /// list-append and rw-register the keys, for bank the accounts, default 5 (for http, the
    /// workload file says).
    #[arg(long, value_parser = options::keys)]
    keys: Option<usize>,
    /// How often each operation is drawn, as weights: read=2,write=1,cas=1. Operations not
    /// named are never drawn. The names are the workload's: register read, write; cas-register
    /// read, write, cas; counter and set read, add; queue enqueue, dequeue; kv get, put,
    /// append (put only when given a weight: puts over concurrent appends make the check
    /// much slower); multi-register and rw-register read, write, list-append read, append (the
    /// micro-operations inside each transaction); bank read, transfer.
    /// Not for mutex and create-once. A mix without reads is allowed; the summary says what it
    /// leaves unchecked.
    #[arg(long, value_name = "OP=WEIGHT,...")]
    mix: Option<String>,
    /// Writes draw their values from 0 to N-1, so values repeat (register, cas-register, kv
    /// put, multi-register; for cas-register the expected and new values of a cas too, as
    /// in Knossos's classic workload). Without it every write is unique (a cas expects what
    /// its client last saw), which lets the checker use its fast unique-values procedure;
    /// with it the checker uses its general search. Appends, adds and enqueues stay unique.
    #[arg(long, value_name = "N", value_parser = options::values)]
    values: Option<u64>,
    /// How operations spread over the keys: uniform, or zipf[:EXPONENT] (key k drawn in
    /// proportion to 1/(k+1)^EXPONENT, default 1: a few hot keys).
    #[arg(long, default_value = "uniform", value_name = "DIST")]
    key_dist: String,
    /// After the last operation, one more client reads every key once (register,
    /// cas-register, kv; multi-register: one transaction reading every register), recorded and
    /// checked like any other operation. Counters, sets and queues always end with it.
    #[arg(long)]
    final_read: bool,
    /// Named phases from the start of the run, NAME:DURATION,...: e.g. warmup:5s,steady:30s.
    /// Every phase's operations are issued, recorded and checked alike; the summary gives each
    /// phase its operations, throughput and latency, and a phase named `warmup` is left out of
    /// the run's headline throughput and latency. Without --ops or --duration the run lasts
    /// as long as its phases; operations after the last phase count in it.
    #[arg(long, value_name = "NAME:DURATION,...", value_parser = options::phases)]
    phase: Option<options::Phases>,
    /// Concurrent clients, each a process in the history (1 to 10000).
    #[arg(long, short, default_value_t = 10, value_parser = options::clients)]
    clients: usize,
    /// Stop after this many operations (default 1000, or unlimited with --duration).
    #[arg(long, short = 'n', value_parser = options::ops)]
    ops: Option<u64>,
    /// Stop after this long, e.g. 30s or 2m (at most 365 days).
    #[arg(long, value_parser = options::wait)]
    duration: Option<Duration>,
    /// At most this many operations per second, over all clients (0.001 to 1e9).
    #[arg(long, value_parser = options::rate)]
    rate: Option<f64>,
    /// Seed for the operations each client issues (default: from the clock, and printed).
    #[arg(long)]
    seed: Option<u64>,
    /// An operation unanswered after this long is recorded as indeterminate (info).
    #[arg(long, default_value = "5s", value_parser = options::wait)]
    op_timeout: Duration,
    /// How long a client program may take to start (exec): until its {"type":"ready"} line or
    /// first answer the operation timeout does not run, and start-up gets this instead.
    #[arg(long, default_value = "30s", value_parser = options::wait)]
    start_timeout: Duration,
    /// The longest wait for the system outside operations: its setup (for exec, the program's
    /// answer to setup), the final reads, the end of the faults. A system that is not ready
    /// in time ends the run with exit 3, naming the step; the history so far is kept.
    #[arg(long, default_value = "30s", value_parser = options::wait)]
    setup_timeout: Duration,
    /// The history file to write (default: runs/<workload>-<time>.jsonl, with -2, -3... added
    /// when runs start within the same second). It must not exist yet.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Force every batch of events to disk, so a crash of the machine loses nothing either.
    #[arg(long)]
    fsync: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Give the checker at most this long, then answer "unknown" (exit 3).
    #[arg(long, value_parser = options::wait)]
    check_timeout: Option<Duration>,
    /// Also write the HTML report to this file (refused before the run when it is the
    /// history, or an existing file that is not a report photofinish wrote).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the summary and the report as one JSON object; with --json=FILE, write it to FILE
    /// (and print the summary and report as text).
    #[arg(long, value_name = "FILE", num_args = 0..=1, require_equals = true, default_missing_value = "-")]
    json: Option<PathBuf>,
    /// Write --html and --json files over an existing file that is not a report photofinish
    /// wrote, or through a symbolic link (never over the history).
    #[arg(long)]
    force: bool,
}

impl TargetArgs {
    fn flags(&self) -> &RunFlags {
        match self {
            TargetArgs::Redis { run, .. }
            | TargetArgs::Postgres { run, .. }
            | TargetArgs::Etcd { run, .. }
            | TargetArgs::Http { run, .. }
            | TargetArgs::Exec { run, .. } => run,
        }
    }
}

/// What is refused before anything starts: a history file that already holds one, and
/// reports that would overwrite the history, each other, or a file photofinish did not write.
fn preflight(flags: &RunFlags) -> Result<(), ExitCode> {
    if let Some(history) = &flags.output {
        if std::fs::metadata(history).is_ok_and(|m| m.len() > 0) {
            return Err(usage_error(format!(
                "{} already holds a history; give another file with --output",
                history.display()
            )));
        }
    }
    let history: Vec<&Path> = flags.output.as_deref().into_iter().collect();
    guard_outputs(
        &history,
        &[flags.html.as_deref(), json_file(&flags.json)],
        flags.force,
    )
}

pub fn run(args: RunArgs) -> ExitCode {
    if let Err(code) = preflight(args.target.flags()) {
        return code;
    }
    match *args.target {
        TargetArgs::Redis {
            url,
            variant,
            lock_ttl,
            run,
            spawn,
            cluster,
        } => {
            let servers = match spawn.start(ServerKind::Redis, cluster.nodes()) {
                Ok(servers) => servers,
                Err(code) => return code,
            };
            let readers = match cluster.readers(servers.as_ref()) {
                Ok(readers) => readers,
                Err(code) => return code,
            };
            let url = servers.as_ref().map_or(url, |s| s.primary_url());
            let nemesis = servers.as_ref().and_then(|s| s.plan());
            with_workload(run, nemesis, |workload| {
                let kind = workload.kind;
                let variant = match variant {
                    Some(name) => RedisVariant::parse(kind, &name)?,
                    None => RedisVariant::default_for(kind)?,
                };
                RedisTarget::new(&url, kind, variant)?
                    .with_lock_ttl(lock_ttl)
                    .with_readers(&readers)
            })
        }
        TargetArgs::Postgres {
            url,
            variant,
            isolation,
            run,
            spawn,
        } => {
            let servers = match spawn.start(ServerKind::Postgres, 1) {
                Ok(servers) => servers,
                Err(code) => return code,
            };
            let url = servers
                .as_ref()
                .map_or(url.unwrap_or_default(), |s| s.primary_url());
            let nemesis = servers.as_ref().and_then(|s| s.plan());
            with_workload(run, nemesis, |workload| {
                let kind = workload.kind;
                let variant = match variant {
                    Some(name) => PostgresVariant::parse(kind, &name)?,
                    None => PostgresVariant::default_for(kind)?,
                };
                let isolation: Isolation = isolation.parse()?;
                PostgresTarget::new(&url, kind, variant, isolation, workload.keys)
            })
        }
        TargetArgs::Etcd {
            endpoints,
            read,
            max_answer_bytes,
            run,
            spawn,
            cluster,
        } => {
            let read: EtcdRead = match read.parse() {
                Ok(read) => read,
                Err(message) => return usage_error(message),
            };
            let servers = match spawn.start(ServerKind::Etcd, cluster.nodes()) {
                Ok(servers) => servers,
                Err(code) => return code,
            };
            let endpoints = servers.as_ref().map_or(endpoints, |s| s.urls());
            let nemesis = servers.as_ref().and_then(|s| s.plan());
            with_workload(run, nemesis, |workload| {
                EtcdTarget::new(&endpoints, workload.kind, read)
                    .map(|target| target.with_max_body_bytes(max_answer_bytes))
            })
        }
        TargetArgs::Http {
            file,
            run,
            max_answer_bytes,
            nemesis,
            nemesis_interval,
            nemesis_duration,
        } => {
            if run.workload.is_some() || run.keys.is_some() {
                return usage_error(format!(
                    "the workload and its keys come from {}; drop --workload and --keys",
                    file.display()
                ));
            }
            let spec = match HttpSpec::from_path(&file) {
                Ok(spec) => spec,
                Err(e) => return usage_error(e.to_string()),
            };
            let faults = match nemesis.as_deref().map(FaultKind::parse_list).transpose() {
                Ok(faults) => faults,
                Err(e) => return usage_error(format!("--nemesis: {e}")),
            };
            if faults.is_some() && spec.proxy.is_empty() {
                return usage_error(format!(
                    "--nemesis faults the [[proxy]] links of the workload file, and {} declares none",
                    file.display()
                ));
            }
            let workload = match controlled(spec.workload(run.clients.max(1)), &run) {
                Ok(workload) => workload,
                Err(message) => return usage_error(message),
            };
            let target = match HttpTarget::new(spec) {
                Ok(target) => target.with_max_body_bytes(max_answer_bytes),
                Err(e) => return usage_error(format!("{}: {e}", file.display())),
            };
            // The links forward for the whole run, faulted or not: the service reaches its
            // store through them.
            let links = match target.spec().start_proxies() {
                Ok(links) => Arc::new(links),
                Err(e) => return usage_error(format!("{}: {e}", file.display())),
            };
            for name in links.node_names() {
                if let Some(addr) = links.listen_addr(&name) {
                    eprintln!("photofinish: proxy {} on {addr}", terminal::sanitize(&name));
                }
            }
            let plan = faults.map(|faults| {
                let mut config = NemesisConfig::new(faults);
                config.interval = nemesis_interval;
                config.duration = nemesis_duration;
                NemesisPlan::new(Arc::clone(&links) as _, config)
            });
            let teardown = target.clone();
            let setup_timeout = run.setup_timeout;
            let code = run_target(target, workload, run, plan);
            if let Err(e) = teardown.teardown_blocking(setup_timeout) {
                eprintln!("photofinish: {}", terminal::sanitize(&e));
            }
            code
        }
        TargetArgs::Exec {
            run,
            max_answer_bytes,
            command,
        } => {
            let Some((program, rest)) = command.split_first() else {
                return usage_error("exec needs a program after `--`".into());
            };
            with_workload(run, None, |workload| {
                Ok(ExecTarget::new(program, rest.to_vec(), workload.clone())
                    .with_max_answer_bytes(max_answer_bytes))
            })
        }
    }
}

/// The first free name of `runs/<workload>-<time>[-N].jsonl`: two runs started within the same
/// second (one command after another in a script) each get a history of their own instead of
/// the second being refused.
fn default_history(dir: &Path, workload: &str, secs: u64) -> PathBuf {
    (1..)
        .map(|n| match n {
            1 => dir.join(format!("{workload}-{secs}.jsonl")),
            n => dir.join(format!("{workload}-{secs}-{n}.jsonl")),
        })
        .find(|path| std::fs::symlink_metadata(path).is_err())
        .expect("an unused name")
}

/// Parses the workload, builds the target for it, runs and checks.
fn with_workload<T: Target>(
    flags: RunFlags,
    nemesis: Option<NemesisPlan>,
    target: impl FnOnce(&Workload) -> Result<T, String>,
) -> ExitCode {
    let Some(name) = &flags.workload else {
        return usage_error("--workload is required".into());
    };
    let kind: WorkloadKind = match name.parse() {
        Ok(kind) => kind,
        Err(message) => return usage_error(message),
    };
    let default_keys = match kind {
        WorkloadKind::MultiRegister => MULTI_REGISTER_KEYS,
        kind if kind.transactional() => TXN_KEYS,
        _ => 1,
    };
    let keys = flags.keys.unwrap_or(default_keys);
    let workload = match controlled(Workload::new(kind, keys, flags.clients), &flags) {
        Ok(workload) => workload,
        Err(message) => return usage_error(message),
    };
    match target(&workload) {
        Ok(target) => run_target(target, workload, flags, nemesis),
        Err(message) => usage_error(message),
    }
}

/// The registers a multi-register run spans unless --keys says otherwise: enough for
/// transactions over several, few enough that they collide.
const MULTI_REGISTER_KEYS: usize = 3;

/// The keys (bank: accounts) a list-append, rw-register or bank run spans unless --keys says
/// otherwise: few, so that transactions conflict and each isolation level shows what it lets
/// through.
const TXN_KEYS: usize = 5;

/// `workload` with the run's controls: --mix, --values, --key-dist, --final-read.
fn controlled(workload: Workload, flags: &RunFlags) -> Result<Workload, String> {
    let kind = workload.kind;
    let mut workload = workload;
    if let Some(mix) = &flags.mix {
        workload = workload.with_mix(Mix::parse(kind, mix).map_err(|e| format!("--mix: {e}"))?);
    }
    let key_dist: KeyDist = flags
        .key_dist
        .parse()
        .map_err(|e| format!("--key-dist: {e}"))?;
    workload
        .with_key_dist(key_dist)
        .with_values(flags.values)
        .map_err(|e| format!("--values: {e}"))?
        .with_final_read(flags.final_read)
        .map_err(|e| format!("--final-read: {e}"))
}

fn run_target<T: Target>(
    target: T,
    workload: Workload,
    flags: RunFlags,
    nemesis: Option<NemesisPlan>,
) -> ExitCode {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let txn_options = if workload.kind.transactional() || flags.consistency_model.is_some() {
        match txn_run_command::options(
            &workload,
            flags.consistency_model.as_deref(),
            flags.check_timeout,
        ) {
            Ok(options) => Some(options),
            Err(message) => return usage_error(message),
        }
    } else {
        None
    };
    let history = match flags.output {
        Some(path) => path,
        None => {
            let dir = PathBuf::from("runs");
            if let Err(e) = std::fs::create_dir_all(&dir) {
                return usage_error(format!("cannot create {}: {e}", dir.display()));
            }
            default_history(&dir, &workload.kind.to_string(), started.as_secs())
        }
    };
    if std::fs::metadata(&history).is_ok_and(|m| m.len() > 0) {
        return usage_error(format!(
            "{} already holds a history; give another file with --output",
            history.display()
        ));
    }
    let seed = flags.seed.unwrap_or(started.as_nanos() as u64 % 1_000_000);
    let mut config = RunConfig::new(workload, &history);
    config.phases = flags.phase.clone().map(|p| p.0).unwrap_or_default();
    // Phases alone set how long the run lasts.
    let duration = flags.duration.or_else(|| {
        (flags.ops.is_none() && !config.phases.is_empty()).then(|| Phase::total(&config.phases))
    });
    config.ops = flags
        .ops
        .or(if duration.is_some() { None } else { Some(1000) });
    config.duration = duration;
    config.rate = flags.rate;
    config.seed = seed;
    config.op_timeout = flags.op_timeout;
    config.start_timeout = flags.start_timeout;
    config.setup_timeout = flags.setup_timeout;
    config.fsync = flags.fsync;
    config.progress = !flags.quiet && flags.json.is_none();
    // The run's setup brings the system to the model's initial state: record it as known.
    config.header.init = config
        .workload
        .init()
        .or_else(|| default_init(config.workload.kind.model()));
    config.nemesis = nemesis;
    if let Some(options) = &txn_options {
        txn_run_command::record_model(&mut config, options);
    }
    let options = CheckOptions {
        timeout: flags.check_timeout,
        ..CheckOptions::default()
    };
    let to_stdout = flags.json.as_deref() == Some(Path::new("-"));
    if !to_stdout {
        eprintln!(
            "photofinish: {}",
            terminal::sanitize(&format!(
                "{} by {} clients, seed {seed}, history {}",
                target.describe(),
                config.workload.clients,
                history.display()
            ))
        );
    }
    let summary = match run_blocking(target, &config) {
        Ok(summary) => summary,
        Err(error @ RunError::Unready { .. }) => return unready(&error, &history),
        Err(e) => return usage_error(e.to_string()),
    };
    if let Some(txn_options) = &txn_options {
        let outputs = txn_run_command::Outputs {
            html: flags.html.as_deref(),
            json: flags.json.as_deref(),
            seed,
        };
        return txn_run_command::check_and_show(&config, summary, txn_options, outputs);
    }
    let mut checked = match check_recorded(&config, options, summary) {
        Ok(checked) => checked,
        Err(failed) => {
            let (summary, error) = *failed;
            return check_failed(&summary, &error, flags.json.as_deref(), seed, &history);
        }
    };
    let exit_code = verdict_after_early_stop(&mut checked.report, &checked.summary);
    warn(&checked.history);
    let stalled = photofinish::liveness::ended_stalled(&checked.summary, checked.report.verdict);
    if let Some(html) = &flags.html {
        if let Err(code) = write_html(html, &history, &checked.history, Some(&checked.report)) {
            return code;
        }
    }
    if let Some(json) = &flags.json {
        let both = serde_json::json!({
            "seed": seed,
            "history": history,
            "summary": checked.summary,
            "report": checked.report,
            "ended_stalled": stalled,
        });
        if let Err(code) = emit_json(json, &both) {
            return code;
        }
    }
    if !to_stdout {
        println!(
            "{}",
            terminal::sanitize(&shown(&checked.summary).to_string())
        );
        if let Some(reason) = &checked.report.reason {
            println!("{}\n", nothing_tested_banner(reason, &checked.summary));
        }
        print!("{}", terminal::render_exiting(&checked.report, exit_code));
        if let Some(reason) = &stalled {
            println!("*** UNKNOWN: {} ***  [exit 3]", terminal::sanitize(reason));
        }
        let history = terminal::sanitize(&history.display().to_string());
        println!("history: {history}");
        println!(
            "rerun the same operations with --seed {seed}; recheck with: photofinish check {history}"
        );
    }
    // A run that ended stalled proves nothing about liveness it could not see: exit 3, unless
    // the history is INVALID or the early stop already chose its code.
    let code = match stalled {
        Some(_) if exit_code == 0 => 3,
        _ => exit_code,
    };
    ExitCode::from(code)
}

/// A run that stopped early proves nothing beyond an anomaly it already recorded: unless the
/// history so far is INVALID (exit 1 wins), the verdict becomes `unknown` with the reason, and
/// the exit code is the halt's (2: the workload does not fit the target; 3: the target could
/// not be tested). Returns the exit code.
fn verdict_after_early_stop(report: &mut Report, summary: &Summary) -> u8 {
    match &summary.stopped_early {
        Some(halt) if report.verdict != Verdict::Invalid => {
            report.verdict = Verdict::Unknown;
            report.reason = Some(format!("the run stopped early: {}", halt.reason));
            halt.kind.exit_code()
        }
        _ => report.verdict.exit_code() as u8,
    }
}

/// Reads back the history the run wrote and checks it against the workload's model (with the
/// initial value its header records), as [`photofinish::run_and_check`] does; on an error
/// the run's summary comes back with it, so that it is still shown.
fn check_recorded(
    config: &RunConfig,
    options: CheckOptions,
    summary: Summary,
) -> Result<Checked, Box<(Summary, Error)>> {
    let origin = config.history.display().to_string();
    let history = match photofinish::history::read_path(&config.history, Some(Format::JsonLines)) {
        Ok(history) => history,
        Err(e) => return Err(Box::new((summary, e.into()))),
    };
    let model = config.workload.kind.model();
    let choice = ModelChoice::choose(Some(model), None, history.header.as_ref());
    let mut request = CheckRequest::new(model);
    request.init = choice.and_then(|choice| choice.init);
    request.options = options;
    match check_history(&history, &origin, &request) {
        Ok(report) => Ok(Checked {
            summary,
            history,
            report,
        }),
        Err(e) => Err(Box::new((summary, e))),
    }
}

/// A run whose history could not be checked (a result of a shape the model cannot read):
/// the run's summary, then the error, exit 2.
pub(crate) fn check_failed(
    summary: &Summary,
    error: &Error,
    json: Option<&Path>,
    seed: u64,
    history: &Path,
) -> ExitCode {
    match json {
        Some(json) => {
            let both = serde_json::json!({
                "seed": seed,
                "history": history,
                "summary": summary,
                "error": error.to_string(),
            });
            if let Err(code) = emit_json(json, &both) {
                return code;
            }
        }
        None => println!("{}", terminal::sanitize(&shown(summary).to_string())),
    }
    if json != Some(Path::new("-")) {
        println!(
            "{}",
            terminal::sanitize(&format!("history: {}", history.display()))
        );
    }
    usage_error(format!("cannot check the run's history: {error}"))
}

/// The longest error message the summary shows, in characters.
const ERROR_CHARS: usize = 300;

/// The summary as the terminal shows it: each error message escaped and clipped (messages
/// that are the same once clipped are counted together).
pub(crate) fn shown(summary: &Summary) -> Summary {
    let mut errors = BTreeMap::new();
    for (message, count) in &summary.errors {
        *errors
            .entry(escape_and_clip(message, ERROR_CHARS))
            .or_default() += count;
    }
    Summary {
        target: escape_and_clip(&summary.target, ERROR_CHARS),
        errors,
        stopped_early: summary.stopped_early.clone().map(|mut halt| {
            halt.reason = escape_and_clip(&halt.reason, ERROR_CHARS);
            halt
        }),
        ..summary.clone()
    }
}

/// A system that never became ready: the step and the wait, where the history is, exit 3.
fn unready(error: &RunError, history: &Path) -> ExitCode {
    eprintln!("photofinish: {}", terminal::sanitize(&error.to_string()));
    let kept = if history.exists() {
        format!("the history so far is in {}", history.display())
    } else {
        "no history was written".to_string()
    };
    println!(
        "{}",
        terminal::sanitize(&format!(
            "UNKNOWN: the system never became ready, so nothing was tested; {kept}  [exit 3]"
        ))
    );
    ExitCode::from(3)
}

/// The line that stands out when the run tested nothing: why, in capitals, and where to look.
fn nothing_tested_banner(reason: &str, summary: &Summary) -> String {
    format!(
        "*** UNKNOWN: {} ***\n    {} ok, {} failed, {} indeterminate: the errors above say why; this run proves nothing",
        photofinish::history::escape_and_clip(reason, 200),
        summary.ok,
        summary.fail,
        summary.info
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_histories_never_collide_within_a_second() {
        let dir = std::env::temp_dir().join(format!("pf-default-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = default_history(&dir, "counter", 7);
        assert_eq!(first, dir.join("counter-7.jsonl"));
        std::fs::write(&first, "x").unwrap();
        let second = default_history(&dir, "counter", 7);
        assert_eq!(second, dir.join("counter-7-2.jsonl"));
        std::fs::write(&second, "").unwrap();
        assert_eq!(
            default_history(&dir, "counter", 7),
            dir.join("counter-7-3.jsonl")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
