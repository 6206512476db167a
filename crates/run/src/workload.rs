//! Workloads: which operations each process issues, matching one of the checker's models.
//!
//! Every worker draws from its own generator, seeded from the run's seed and the worker's
//! number, so a seed reproduces each worker's sequence of operations exactly (the interleaving
//! is the system's business).

use std::fmt;
use std::str::FromStr;

use photofinish_history::Value;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::controls::{KeyDist, KeyDraw, Mix};
use crate::names::by_name;
use crate::{Completion, Invocation};

/// The kinds of workload, one per model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    /// Reads and writes of unique values.
    Register,
    /// Reads, writes and compare-and-sets over a few small values, so that cas often succeeds.
    CasRegister,
    /// Increments by one, and reads.
    Counter,
    /// Adds of unique elements, occasional reads of the whole set.
    Set,
    /// Enqueues of unique elements and dequeues.
    Queue,
    /// Each process acquires, holds for a moment, and releases.
    Mutex,
    /// All processes create the same fresh key at about the same time, key after key.
    CreateOnce,
    /// Keys holding lists: `get` reads a key's whole list (`null` while it has none), `append`
    /// adds a unique element at its end, and, when `--mix` gives it a weight, `put` replaces
    /// the list with a one-element list. A lost or reordered append shows in a later `get`.
    Kv,
    /// Transactions (`txn`) of one to four micro-operations `[read key null]` / `[write key
    /// value]` over a few registers named `x0`, `x1`...; each transaction must take effect at
    /// once, reading what the transactions before it wrote.
    MultiRegister,
    /// Transactions (`txn`) of one to four micro-operations `["append", k, v]` (a unique `v`
    /// added at the end of list `k`) and `["r", k, null]` (completing with the whole list)
    /// over keys `0`, `1`...: Elle's list-append, checked by `photofinish_txn` for the
    /// anomalies of each isolation level (G0 ... G2-item, lost update, G1a/G1b).
    ListAppend,
    /// Transactions (`txn`) of one to four micro-operations `["w", k, v]` (a value unique per
    /// key) and `["r", k, null]` (completing with the value, `null` before any write) over
    /// registers `0`, `1`...: Elle's rw-register, checked like list-append.
    RwRegister,
    /// Jepsen's bank: `transfer` moves `{"from": a, "to": b, "amount": n}` between two of the
    /// accounts `0`, `1`..., each starting with [`BANK_BALANCE`]; `read` returns every
    /// balance at once (`{"0": 98, "1": 102, ...}`), which must add up to the starting total.
    Bank,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 12] = [
        WorkloadKind::Register,
        WorkloadKind::CasRegister,
        WorkloadKind::Counter,
        WorkloadKind::Set,
        WorkloadKind::Queue,
        WorkloadKind::Mutex,
        WorkloadKind::CreateOnce,
        WorkloadKind::Kv,
        WorkloadKind::MultiRegister,
        WorkloadKind::ListAppend,
        WorkloadKind::RwRegister,
        WorkloadKind::Bank,
    ];

    /// The checker model that states what the workload's system promises.
    pub fn model(self) -> &'static str {
        match self {
            WorkloadKind::Register => "register",
            WorkloadKind::CasRegister => "cas-register",
            WorkloadKind::Counter => "counter",
            WorkloadKind::Set => "set",
            WorkloadKind::Queue => "queue",
            WorkloadKind::Mutex => "mutex",
            WorkloadKind::CreateOnce => "create-once",
            WorkloadKind::Kv => "kv",
            WorkloadKind::MultiRegister => "multi-register",
            WorkloadKind::ListAppend => "list-append",
            WorkloadKind::RwRegister => "rw-register",
            WorkloadKind::Bank => "bank",
        }
    }

    /// Whether the workload's histories are checked by the transactional checker
    /// (`photofinish_txn`: anomalies against a consistency model, or bank's totals) rather
    /// than for linearizability.
    pub fn transactional(self) -> bool {
        matches!(
            self,
            WorkloadKind::ListAppend | WorkloadKind::RwRegister | WorkloadKind::Bank
        )
    }

    /// The operations the workload issues, with the weights of its default mix (for
    /// `multi-register`, the micro-operations inside a transaction).
    pub fn operations(self) -> &'static [(&'static str, u32)] {
        match self {
            WorkloadKind::Register => &[("read", 1), ("write", 1)],
            WorkloadKind::CasRegister => &[("read", 2), ("write", 1), ("cas", 2)],
            WorkloadKind::Counter => &[("read", 1), ("add", 3)],
            WorkloadKind::Set => &[("read", 1), ("add", 19)],
            WorkloadKind::Queue => &[("enqueue", 1), ("dequeue", 1)],
            WorkloadKind::Mutex => &[("acquire", 1), ("release", 1)],
            WorkloadKind::CreateOnce => &[("create", 1)],
            // Puts only by --mix: a put that overwrites concurrent appends leaves the checker
            // many orders to try (at 20 clients on one key it does not decide in a minute),
            // where appends alone are pinned down by every read.
            WorkloadKind::Kv => &[("get", 1), ("put", 0), ("append", 1)],
            WorkloadKind::MultiRegister | WorkloadKind::RwRegister => &[("read", 1), ("write", 1)],
            WorkloadKind::ListAppend => &[("read", 1), ("append", 1)],
            WorkloadKind::Bank => &[("read", 1), ("transfer", 1)],
        }
    }

    /// Whether `--mix` can choose among the operations: not when each follows from the last
    /// (a mutex's release from its acquire) or there is only one.
    pub fn mixable(self) -> bool {
        !matches!(self, WorkloadKind::Mutex | WorkloadKind::CreateOnce)
    }

    /// Whether writes can draw their values from a range (`--values`): the workloads whose
    /// values are overwritten, not accumulated.
    pub fn takes_values(self) -> bool {
        matches!(
            self,
            WorkloadKind::Register
                | WorkloadKind::CasRegister
                | WorkloadKind::Kv
                | WorkloadKind::MultiRegister
        )
    }

    /// The operation that reads a key, for `--final-read`; `None` for workloads without one.
    fn read_op(self) -> Option<&'static str> {
        match self {
            WorkloadKind::Register
            | WorkloadKind::CasRegister
            | WorkloadKind::Counter
            | WorkloadKind::Set => Some("read"),
            WorkloadKind::Kv => Some("get"),
            WorkloadKind::MultiRegister | WorkloadKind::ListAppend | WorkloadKind::RwRegister => {
                Some("txn")
            }
            WorkloadKind::Bank => Some("read"),
            WorkloadKind::Queue => Some("dequeue"),
            WorkloadKind::Mutex | WorkloadKind::CreateOnce => None,
        }
    }

    /// Whether the run always ends with a final read of every key (`--final-read` or not):
    /// counters, sets, queues and banks, whose lost updates only a last look finds.
    fn always_reads_finally(self) -> bool {
        matches!(
            self,
            WorkloadKind::Counter | WorkloadKind::Set | WorkloadKind::Queue | WorkloadKind::Bank
        )
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.model())
    }
}

impl FromStr for WorkloadKind {
    type Err = String;

    fn from_str(name: &str) -> Result<WorkloadKind, String> {
        by_name(&WorkloadKind::ALL, name, WorkloadKind::model, "workload")
    }
}

/// The most micro-operations in one `multi-register`, `list-append` or `rw-register`
/// transaction.
pub const MAX_MICRO_OPS: usize = 4;

/// What every `bank` account holds when the run starts.
pub const BANK_BALANCE: i64 = 100;

/// The most one `bank` transfer moves.
pub const MAX_TRANSFER: i64 = 5;

/// A workload: its kind, over how many keys (each key an independent object, checked on its
/// own; for `multi-register`, the registers its transactions span), by how many clients, and
/// the controls that shape its operations.
///
/// ```
/// use photofinish_run::controls::{KeyDist, Mix};
/// use photofinish_run::{Workload, WorkloadKind};
///
/// let workload = Workload::new(WorkloadKind::Register, 8, 4)
///     .with_mix(Mix::parse(WorkloadKind::Register, "read=3,write=1").unwrap())
///     .with_values(Some(4)).unwrap()
///     .with_key_dist(KeyDist::Zipf(1.0))
///     .with_final_read(true).unwrap();
/// let mut generator = workload.generator(7, 0);
/// let op = generator.next_op();
/// assert!(op.f == "read" || op.value.as_i64().is_some_and(|v| (0..4).contains(&v)));
/// assert_eq!(workload.final_reads().len(), 8);
/// ```
#[derive(Clone, Debug)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub keys: usize,
    pub clients: usize,
    mix: Mix,
    /// Set by the caller (not the workload's default mix).
    mix_given: bool,
    values: Option<u64>,
    key_dist: KeyDist,
    final_read: bool,
}

impl Workload {
    pub fn new(kind: WorkloadKind, keys: usize, clients: usize) -> Workload {
        Workload {
            kind,
            keys: keys.max(1),
            clients: clients.max(1),
            mix: Mix::default_for(kind),
            mix_given: false,
            values: None,
            key_dist: KeyDist::Uniform,
            final_read: false,
        }
    }

    /// Draws operations by `mix` (see [`Mix::parse`], which checks it fits the workload).
    pub fn with_mix(mut self, mix: Mix) -> Workload {
        self.mix = mix;
        self.mix_given = true;
        self
    }

    /// Writes draw their values from `0..n`, so values repeat (`None`: every write's value is
    /// unique, which lets the checker use its fast unique-values procedure, and a
    /// `cas-register` cas expects what its client last saw). Appends stay unique. Refused for workloads whose values accumulate.
    pub fn with_values(mut self, values: Option<u64>) -> Result<Workload, String> {
        if let Some(n) = values {
            if !self.kind.takes_values() {
                return Err(format!(
                    "--values applies to register, cas-register, kv and multi-register, whose writes overwrite; the {} workload's values must stay unique",
                    self.kind
                ));
            }
            if n == 0 {
                return Err("--values must be at least 1".to_string());
            }
        }
        self.values = values;
        Ok(self)
    }

    /// Spreads operations over the keys by `dist`.
    pub fn with_key_dist(mut self, dist: KeyDist) -> Workload {
        self.key_dist = dist;
        self
    }

    /// After the last operation, one process reads every key once (see [`Workload::final_reads`]).
    /// Refused for workloads that have no read.
    pub fn with_final_read(mut self, final_read: bool) -> Result<Workload, String> {
        if final_read && self.kind.read_op().is_none() {
            return Err(format!(
                "the {} workload has no read operation: --final-read does not apply",
                self.kind
            ));
        }
        self.final_read = final_read;
        Ok(self)
    }

    pub fn mix(&self) -> &Mix {
        &self.mix
    }

    pub fn values(&self) -> Option<u64> {
        self.values
    }

    pub fn key_dist(&self) -> KeyDist {
        self.key_dist
    }

    pub fn final_read(&self) -> bool {
        self.final_read
    }

    /// The controls set beyond the workload's defaults, as the history's header records them
    /// under `options`.
    pub fn controls_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut controls = serde_json::Map::new();
        if self.mix_given {
            controls.insert("mix".into(), self.mix.to_json());
        }
        if let Some(values) = self.values {
            controls.insert("values".into(), values.into());
        }
        if self.key_dist != KeyDist::Uniform {
            controls.insert("key_dist".into(), self.key_dist.to_string().into());
        }
        if self.final_read {
            controls.insert("final_read".into(), true.into());
        }
        controls
    }

    /// What makes the check of this workload weak or empty, for the summary: a mix without
    /// reads, say, where nothing observes what was written.
    pub fn caveats(&self) -> Vec<String> {
        let mut caveats = Vec::new();
        let reads_finally = self.final_read || self.kind.always_reads_finally();
        let (read, write) = match self.kind {
            WorkloadKind::Register
            | WorkloadKind::CasRegister
            | WorkloadKind::MultiRegister
            | WorkloadKind::RwRegister => {
                ("read", self.mix.weight("write") + self.mix.weight("cas"))
            }
            WorkloadKind::ListAppend => ("read", self.mix.weight("append")),
            WorkloadKind::Bank => ("read", self.mix.weight("transfer")),
            WorkloadKind::Counter | WorkloadKind::Set => ("read", self.mix.weight("add")),
            WorkloadKind::Kv => ("get", self.mix.weight("put") + self.mix.weight("append")),
            WorkloadKind::Queue => ("dequeue", self.mix.weight("enqueue")),
            WorkloadKind::Mutex | WorkloadKind::CreateOnce => return caveats,
        };
        if self.mix.weight(read) == 0 {
            caveats.push(if reads_finally {
                format!("the mix has no {read}: only the final reads observe what was written")
            } else {
                format!(
                    "the mix has no {read}: nothing observes what was written, so the check cannot find a lost or stale write (add --final-read or a {read} weight)"
                )
            });
        }
        if write == 0 {
            caveats.push(
                "the mix changes nothing: every read can only see the initial state".to_string(),
            );
        }
        if self
            .values
            .is_some_and(|n| n < self.keys as u64 && self.kind == WorkloadKind::MultiRegister)
        {
            caveats
                .push("--values is below the number of registers: many writes repeat".to_string());
        }
        caveats
    }

    /// The key names the workload uses, in the order generators number them. With one key the
    /// history carries no key at all (create-once and kv always name their keys; the keys of
    /// multi-register, list-append, rw-register and bank are inside their operations' values).
    pub fn key(&self, index: usize) -> Option<Value> {
        match self.kind {
            WorkloadKind::MultiRegister
            | WorkloadKind::ListAppend
            | WorkloadKind::RwRegister
            | WorkloadKind::Bank => None,
            WorkloadKind::CreateOnce | WorkloadKind::Kv => Some(Value::Int(index as i64)),
            _ => (self.keys > 1).then_some(Value::Int(index as i64)),
        }
    }

    /// The name of register `index` of `multi-register`: `x0`, `x1`...
    pub fn register(index: usize) -> Value {
        Value::Str(format!("x{index}"))
    }

    /// The state the target's setup brings the system to, when the checker's default for the
    /// model does not say it: every `multi-register` register absent (`null`); every `bank`
    /// account at [`BANK_BALANCE`] (from which a later check takes the total and the
    /// accounts).
    pub fn init(&self) -> Option<Value> {
        match self.kind {
            WorkloadKind::MultiRegister => Some(Value::Map(
                (0..self.keys)
                    .map(|k| (Workload::register(k), Value::Null))
                    .collect(),
            )),
            WorkloadKind::Bank => Some(Value::Map(
                (0..self.keys)
                    .map(|k| (Value::Int(k as i64), Value::Int(BANK_BALANCE)))
                    .collect(),
            )),
            _ => None,
        }
    }

    pub fn generator(&self, seed: u64, worker: usize) -> Generator {
        Generator {
            workload: self.clone(),
            worker,
            rng: ChaCha8Rng::seed_from_u64(
                seed ^ (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ),
            keys: KeyDraw::new(self.key_dist, self.keys),
            issued: 0,
            held: None,
            seen: Vec::new(),
        }
    }

    /// Operations one extra process performs after the workers stop, so that the history ends
    /// with what the system finally holds: a read of every counter and set, and a dequeue of
    /// every queue, repeated until it is empty (see [`drains`]); with `--final-read`, also a
    /// read of every register and kv key, and for `multi-register` one transaction reading
    /// every register. Lost updates that no read in the middle happened to see show up there.
    pub fn final_reads(&self) -> Vec<Invocation> {
        if !(self.final_read || self.kind.always_reads_finally()) {
            return Vec::new();
        }
        let Some(f) = self.kind.read_op() else {
            return Vec::new();
        };
        match self.kind {
            WorkloadKind::MultiRegister => {
                let reads = (0..self.keys)
                    .map(|k| micro("read", Workload::register(k), Value::Null))
                    .collect();
                return vec![Invocation::new(f, None, Value::List(reads))];
            }
            WorkloadKind::ListAppend | WorkloadKind::RwRegister => {
                let reads = (0..self.keys)
                    .map(|k| micro("r", Value::Int(k as i64), Value::Null))
                    .collect();
                return vec![Invocation::new(f, None, Value::List(reads))];
            }
            WorkloadKind::Bank => return vec![Invocation::new(f, None, Value::Null)],
            _ => {}
        }
        (0..self.keys)
            .map(|k| Invocation::new(f, self.key(k), Value::Null))
            .collect()
    }
}

/// A micro-operation of a `multi-register` transaction: `[f, key, value]`.
fn micro(f: &str, key: Value, value: Value) -> Value {
    Value::List(vec![Value::from(f), key, value])
}

/// Whether a final operation repeats until it comes back empty: draining a queue. Besides
/// catching lost elements, it tells the checker the order of every element still queued,
/// which otherwise it would have to guess among all orders of the concurrent enqueues.
pub fn drains(op: &Invocation) -> bool {
    op.f == "dequeue"
}

/// At most this many dequeues drain one queue at the end of a run.
pub const MAX_DRAIN: usize = 1_000_000;

/// How long a mutex holder sometimes stalls while holding its lock.
pub const LONG_PAUSE: std::time::Duration = std::time::Duration::from_millis(150);

/// One worker's stream of operations.
pub struct Generator {
    workload: Workload,
    worker: usize,
    rng: ChaCha8Rng,
    keys: KeyDraw,
    issued: u64,
    /// The key of the lock this worker holds, for the mutex workload.
    held: Option<usize>,
    /// Per key index: the value this worker last saw the register hold, for the cas-register
    /// workload's unique values (see [`Generator::cas_from_what_was_seen`]).
    seen: Vec<Option<Value>>,
}

impl Generator {
    /// The next operation.
    pub fn next_op(&mut self) -> Invocation {
        let n = self.issued;
        self.issued += 1;
        let key_index = self.keys.draw(&mut self.rng);
        let key = self.workload.key(key_index);
        // Values unique across the whole run: this worker's n-th value.
        let unique = self.unique(n);
        let roll: f64 = self.rng.random();
        let f = self.workload.mix.pick(roll);
        match self.workload.kind {
            WorkloadKind::Register | WorkloadKind::Counter | WorkloadKind::Set if f == "read" => {
                Invocation::new("read", key, Value::Null)
            }
            WorkloadKind::Register => {
                let v = self.value_or(unique);
                Invocation::new("write", key, v)
            }
            WorkloadKind::CasRegister => match (f, self.workload.values) {
                ("read", _) => Invocation::new("read", key, Value::Null),
                ("write", None) => Invocation::new("write", key, unique),
                // Unique values: a cas from what this worker last saw, to a new value.
                (_, None) => match self.seen.get(key_index).cloned().flatten() {
                    Some(expected) => {
                        Invocation::new("cas", key, Value::List(vec![expected, unique]))
                    }
                    // Nothing known of this register yet: learn its value first.
                    None => Invocation::new("read", key, Value::Null),
                },
                // `--values N`: Knossos's classic workload, every value drawn from 0..N.
                ("write", Some(range)) => {
                    let v = Value::Int(self.rng.random_range(0..range) as i64);
                    Invocation::new("write", key, v)
                }
                (_, Some(range)) => {
                    let expected = Value::Int(self.rng.random_range(0..range) as i64);
                    let new = Value::Int(self.rng.random_range(0..range) as i64);
                    Invocation::new("cas", key, Value::List(vec![expected, new]))
                }
            },
            WorkloadKind::Counter => Invocation::new("add", key, Value::Int(1)),
            WorkloadKind::Set => Invocation::new("add", key, unique),
            WorkloadKind::Queue if f == "enqueue" => Invocation::new("enqueue", key, unique),
            WorkloadKind::Queue => Invocation::new("dequeue", key, Value::Null),
            WorkloadKind::Mutex => match self.held {
                Some(held) => Invocation::new("release", self.workload.key(held), Value::Null),
                None => Invocation::new("acquire", key, Value::Null),
            },
            WorkloadKind::CreateOnce => {
                // Every worker walks the same keys in the same order, so each key is created by
                // all of them at about the same moment: the window check-then-act races lose.
                Invocation::new("create", self.workload.key(n as usize), Value::Null)
            }
            WorkloadKind::Kv => match f {
                "get" => Invocation::new("get", key, Value::Null),
                "put" => {
                    let v = self.value_or(unique);
                    Invocation::new("put", key, Value::List(vec![v]))
                }
                _ => Invocation::new("append", key, unique),
            },
            WorkloadKind::MultiRegister => self.transaction(n, key_index),
            WorkloadKind::ListAppend | WorkloadKind::RwRegister => self.txn_micro_ops(n, key_index),
            WorkloadKind::Bank if f == "read" => Invocation::new("read", None, Value::Null),
            WorkloadKind::Bank => self.transfer(key_index),
        }
    }

    /// A list-append or rw-register transaction of one to [`MAX_MICRO_OPS`] micro-operations
    /// in Jepsen's notation (`["append", k, v]` or `["w", k, v]`, and `["r", k, null]`), the
    /// first on key `first`. Keys repeat within a transaction, so a read before a write of
    /// the same key (the shape of a lost update) is frequent; values are unique across the
    /// run, which the checker needs to tell versions apart.
    ///
    /// The writes of a transaction go to their keys in ascending order (the reads stay where
    /// they were drawn). A database that locks each row it writes until commit, as PostgreSQL
    /// does at every level, deadlocks two transactions that write the same keys in opposite
    /// orders, and its detector waits a second (`deadlock_timeout`) before it aborts one,
    /// while every client queued behind them waits too: a run of few keys would measure
    /// deadlocks and little else. Writes in one order never wait in a cycle, and the
    /// anomalies under test (read skew, lost update, write skew) need only reads before
    /// writes, which stay.
    fn txn_micro_ops(&mut self, n: u64, first: usize) -> Invocation {
        let write = if self.workload.kind == WorkloadKind::ListAppend {
            "append"
        } else {
            "w"
        };
        let len = self.rng.random_range(1..=MAX_MICRO_OPS);
        // (write?, key) for each micro-operation.
        let mut drawn: Vec<(bool, usize)> = (0..len)
            .map(|j| {
                let key = if j == 0 {
                    first
                } else {
                    self.keys.draw(&mut self.rng)
                };
                let roll: f64 = self.rng.random();
                (self.workload.mix.pick(roll) != "read", key)
            })
            .collect();
        let mut write_keys: Vec<usize> =
            drawn.iter().filter(|(w, _)| *w).map(|(_, k)| *k).collect();
        write_keys.sort_unstable();
        let mut sorted = write_keys.into_iter();
        for (write, key) in drawn.iter_mut() {
            if *write {
                *key = sorted.next().unwrap_or(*key);
            }
        }
        let micros = drawn
            .into_iter()
            .enumerate()
            .map(|(j, (is_write, key))| {
                let key = Value::Int(key as i64);
                if is_write {
                    micro(write, key, self.unique(n * MAX_MICRO_OPS as u64 + j as u64))
                } else {
                    micro("r", key, Value::Null)
                }
            })
            .collect();
        Invocation::new("txn", None, Value::List(micros))
    }

    /// A bank transfer of 1 to [`MAX_TRANSFER`] from account `from` (drawn by the key
    /// distribution) to any other account (to itself when there is only one).
    fn transfer(&mut self, from: usize) -> Invocation {
        let keys = self.workload.keys;
        // Any other account, uniformly.
        let to = if keys > 1 {
            (from + 1 + self.rng.random_range(0..keys - 1)) % keys
        } else {
            from
        };
        let amount = self.rng.random_range(1..=MAX_TRANSFER);
        let value = Value::Map(
            [
                ("from", Value::Int(from as i64)),
                ("to", Value::Int(to as i64)),
                ("amount", Value::Int(amount)),
            ]
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
        );
        Invocation::new("transfer", None, value)
    }

    /// Worker `worker`'s `n`-th unique value: no other worker's and no other `n`'s.
    fn unique(&self, n: u64) -> Value {
        let clients = self.workload.clients as u64;
        Value::Int((n * clients + self.worker as u64 + 1) as i64)
    }

    /// A value from `0..--values`, or `unique` without a range.
    fn value_or(&mut self, unique: Value) -> Value {
        match self.workload.values {
            Some(range) => Value::Int(self.rng.random_range(0..range) as i64),
            None => unique,
        }
    }

    /// A transaction of one to [`MAX_MICRO_OPS`] micro-operations, the first on register
    /// `first`, each a read or a write by the mix. A register may come up twice, so that reads
    /// then writes of one register, the pattern that non-atomic transactions get wrong, are
    /// frequent.
    fn transaction(&mut self, n: u64, first: usize) -> Invocation {
        let len = self.rng.random_range(1..=MAX_MICRO_OPS);
        let mut micros = Vec::with_capacity(len);
        for j in 0..len {
            let register = if j == 0 {
                first
            } else {
                self.keys.draw(&mut self.rng)
            };
            let roll: f64 = self.rng.random();
            let op = if self.workload.mix.pick(roll) == "read" {
                micro("read", Workload::register(register), Value::Null)
            } else {
                // Unique across the run: this transaction's n, and the micro-op's place in it.
                let unique = self.unique(n * MAX_MICRO_OPS as u64 + j as u64);
                let v = self.value_or(unique);
                micro("write", Workload::register(register), v)
            };
            micros.push(op);
        }
        Invocation::new("txn", None, Value::List(micros))
    }

    /// Tells the generator how `op` ended, for workloads whose next step depends on it.
    pub fn observe(&mut self, op: &Invocation, completion: &Completion) {
        let key_index = match &op.key {
            Some(Value::Int(k)) => *k as usize,
            _ => 0,
        };
        if self.workload.kind == WorkloadKind::CasRegister && self.workload.values.is_none() {
            self.cas_from_what_was_seen(key_index, op, completion);
            return;
        }
        if self.workload.kind != WorkloadKind::Mutex {
            return;
        }
        match (op.f.as_str(), completion) {
            ("acquire", Completion::Ok(_)) => self.held = Some(key_index),
            // Released, or refused because the lock was no longer ours: either way not held.
            ("release", Completion::Ok(_) | Completion::Fail(_)) => self.held = None,
            // Unknown: a fresh process takes over, holding nothing.
            (_, Completion::Info(_)) => self.held = None,
            _ => {}
        }
    }

    /// Keeps what `op` says the register `key_index` holds, for the next cas to expect.
    ///
    /// Without `--values`, every value a cas-register run writes is unique (writes and a cas's
    /// new value alike), which lets the checker decide the history in polynomial time at any
    /// number of clients; drawn from a few values, as Knossos's classic workload does, its
    /// check is exponential in the clients (no decision at 100). A cas then expects the value
    /// this worker last saw: what it read, wrote or set. Two workers that saw the same value
    /// and both succeed in replacing it are a lost update the checker names.
    fn cas_from_what_was_seen(&mut self, key_index: usize, op: &Invocation, done: &Completion) {
        let known = match (op.f.as_str(), done) {
            ("read", Completion::Ok(value)) => Some(value.clone()).filter(|v| !v.is_null()),
            ("write", Completion::Ok(_)) => Some(op.value.clone()),
            ("cas", Completion::Ok(_)) => match op.value.as_list().as_deref() {
                Some([_, new]) => Some(new.clone()),
                _ => None,
            },
            // A refused cas: the register holds something else. Anything indeterminate: it
            // may hold either. Read before the next cas.
            _ => None,
        };
        if self.seen.len() <= key_index {
            self.seen.resize(key_index + 1, None);
        }
        self.seen[key_index] = known;
    }

    /// How long to wait before the next operation. A mutex holder holds its lock for a moment,
    /// and now and then for much longer, as a process does when it stalls in a garbage
    /// collection or a page fault: the pause that lets a lock's expiry hand it to a second
    /// holder.
    pub fn pause(&mut self) -> Option<std::time::Duration> {
        use std::time::Duration;
        if self.workload.kind != WorkloadKind::Mutex || self.held.is_none() {
            return None;
        }
        Some(if self.rng.random_bool(0.02) {
            LONG_PAUSE
        } else {
            Duration::from_micros(self.rng.random_range(0..2000))
        })
    }

    /// What the worker must still do before it stops, so that it leaves nothing held.
    pub fn finish(&mut self) -> Option<Invocation> {
        self.held
            .map(|k| Invocation::new("release", self.workload.key(k), Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_reproduces_each_workers_operations() {
        let workload = Workload::new(WorkloadKind::CasRegister, 3, 4);
        let ops = |seed| {
            let mut g = workload.generator(seed, 2);
            (0..50).map(|_| g.next_op()).collect::<Vec<_>>()
        };
        assert_eq!(ops(7), ops(7));
        assert_ne!(ops(7), ops(8));
    }

    #[test]
    fn cas_registers_write_unique_values_and_expect_what_was_seen() {
        let workload = Workload::new(WorkloadKind::CasRegister, 1, 2);
        let mut g = workload.generator(3, 1);
        let mut written = std::collections::HashSet::new();
        let mut seen: Option<Value> = None;
        let mut cases = 0;
        for _ in 0..500 {
            let op = g.next_op();
            match op.f.as_str() {
                "read" => {
                    // The register holds a value once someone wrote one.
                    let value = Value::Int(7 + cases);
                    g.observe(&op, &Completion::Ok(value.clone()));
                    seen = Some(value);
                }
                "write" => {
                    assert!(
                        written.insert(op.value.clone()),
                        "{:?} written twice",
                        op.value
                    );
                    g.observe(&op, &Completion::Ok(Value::Null));
                    seen = Some(op.value.clone());
                }
                "cas" => {
                    let Some((expected, new)) = op.value.as_pair() else {
                        panic!("cas without [expected, new]: {:?}", op.value);
                    };
                    let (expected, new) = (expected.as_ref(), new.as_ref());
                    assert_eq!(Some(expected), seen.as_ref(), "a cas expects what was seen");
                    assert!(written.insert(new.clone()), "{new:?} written twice");
                    // Refused: nothing is known until the next read.
                    g.observe(&op, &Completion::Fail("value differs".into()));
                    seen = None;
                    cases += 1;
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert!(cases > 50, "{cases} cas");
    }

    #[test]
    fn unique_values_differ_across_workers() {
        let workload = Workload::new(WorkloadKind::Set, 1, 3);
        let mut seen = std::collections::HashSet::new();
        for worker in 0..3 {
            let mut g = workload.generator(1, worker);
            for _ in 0..100 {
                let op = g.next_op();
                if op.f == "add" {
                    assert!(seen.insert(op.value.clone()), "{:?} repeated", op.value);
                }
            }
        }
    }

    #[test]
    fn transactions_write_unique_values_in_key_order() {
        for (kind, write) in [
            (WorkloadKind::ListAppend, "append"),
            (WorkloadKind::RwRegister, "w"),
        ] {
            let workload = Workload::new(kind, 5, 3);
            let mut seen = std::collections::HashSet::new();
            for worker in 0..3 {
                let mut g = workload.generator(9, worker);
                for _ in 0..200 {
                    let op = g.next_op();
                    assert_eq!((op.f.as_str(), &op.key), ("txn", &None));
                    let mops = op.value.as_list_of_values().unwrap();
                    assert!((1..=MAX_MICRO_OPS).contains(&mops.len()));
                    let mut last_write_key = -1;
                    for mop in mops {
                        let [Value::Str(f), Value::Int(k), v] = mop.as_list_of_values().unwrap()
                        else {
                            panic!("{mop}");
                        };
                        assert!((0..5).contains(k));
                        if f == write {
                            assert!(*k >= last_write_key, "{}", op.value);
                            last_write_key = *k;
                            assert!(seen.insert(v.clone()), "{v} repeated");
                        } else {
                            assert_eq!((f.as_str(), v), ("r", &Value::Null));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn bank_transfers_move_money_between_two_accounts() {
        let workload = Workload::new(WorkloadKind::Bank, 3, 2);
        let mut g = workload.generator(4, 1);
        let (mut reads, mut transfers) = (0, 0);
        for _ in 0..200 {
            let op = g.next_op();
            if op.f == "read" {
                reads += 1;
                continue;
            }
            transfers += 1;
            let field = |name: &str| match &op.value {
                Value::Map(m) => m[&Value::from(name)].as_i64().unwrap(),
                other => panic!("{other}"),
            };
            assert_ne!(field("from"), field("to"));
            assert!((1..=MAX_TRANSFER).contains(&field("amount")));
        }
        assert!(reads > 0 && transfers > 0);
        assert_eq!(workload.final_reads().len(), 1);
        assert_eq!(
            workload.init().unwrap().to_json_string(),
            r#"{"0":100,"1":100,"2":100}"#
        );
    }

    #[test]
    fn mutex_workers_release_what_they_acquired() {
        let workload = Workload::new(WorkloadKind::Mutex, 2, 1);
        let mut g = workload.generator(3, 0);
        let acquire = g.next_op();
        assert_eq!(acquire.f, "acquire");
        g.observe(&acquire, &Completion::Ok(Value::Null));
        let release = g.next_op();
        assert_eq!(
            (release.f.as_str(), &release.key),
            ("release", &acquire.key)
        );
        g.observe(&acquire, &Completion::Ok(Value::Null));
        assert_eq!(g.finish().map(|op| op.f), Some("release".to_string()));
    }
}
