//! Seeded transaction histories from a simulated database, for tests and benchmarks.
//!
//! Clients (one per process) run transactions of up to `max_mops` micro-operations over a pool
//! of `keys` active keys; a key written `max_writes_per_key` times is retired for a fresh one,
//! as Jepsen's generators do, so that list reads stay short. A scheduler interleaves the
//! clients' steps at random. The simulated database commits each transaction at one instant
//! and answers its reads according to [`SimIsolation`]:
//! - `Serializable`: the transaction runs whole at its commit instant, which lies between its
//!   invocation and its completion: the history is strictly serializable.
//! - `SnapshotIsolation`: reads see the snapshot taken when the transaction began; a
//!   transaction whose written keys changed since its snapshot aborts (first committer wins).
//!   Write skew (G2-item) shows up; G-single does not.
//! - `ReadCommitted`: every read sees the latest committed state; writes apply at commit with
//!   no conflict check: read skew (G-single) and lost updates show up.
//!
//! Some transactions abort (`fail`, no effect) and some crash (`info`: committed or not, at
//! random); a process whose transaction crashed is replaced by a new one, as in Jepsen.

use std::borrow::Cow;
use std::io::{self, Write};

use photofinish_history::{Event, EventKind, Process, Value};

use crate::txns::Workload;

/// How the simulated database isolates transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimIsolation {
    Serializable,
    SnapshotIsolation,
    ReadCommitted,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    pub workload: Workload,
    pub transactions: usize,
    /// Concurrent clients.
    pub processes: usize,
    /// Active keys at any time.
    pub keys: usize,
    /// Micro-operations per transaction: 1 to this many.
    pub max_mops: usize,
    pub max_writes_per_key: usize,
    pub isolation: SimIsolation,
    /// Share of micro-operations that read.
    pub read_fraction: f64,
    /// Share of transactions that abort on their own.
    pub fail_rate: f64,
    /// Share of transactions whose client crashes: the outcome is unknown.
    pub info_rate: f64,
    pub seed: u64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            workload: Workload::ListAppend,
            transactions: 1000,
            processes: 50,
            keys: 100,
            max_mops: 4,
            max_writes_per_key: 32,
            isolation: SimIsolation::Serializable,
            read_fraction: 0.5,
            fail_rate: 0.02,
            info_rate: 0.01,
            seed: 1,
        }
    }
}

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

#[derive(Clone, Copy, Debug)]
enum Planned {
    Write { key: u64, value: u64 },
    Read { key: u64 },
}

/// A key's committed versions: (commit instant, state). For a list the state is its length
/// (lists only grow, so the list at any instant is a prefix of the latest); for a register,
/// the value (0: never written).
#[derive(Clone, Debug, Default)]
struct KeyHistory {
    versions: Vec<(u64, u64)>,
    /// Every element appended, in commit order (list-append).
    elements: Vec<u64>,
}

impl KeyHistory {
    fn at(&self, instant: u64) -> u64 {
        let i = self.versions.partition_point(|&(t, _)| t <= instant);
        if i == 0 {
            0
        } else {
            self.versions[i - 1].1
        }
    }

    fn last_commit(&self) -> u64 {
        self.versions.last().map_or(0, |v| v.0)
    }
}

struct Running {
    process: i64,
    mops: Vec<Planned>,
    /// Steps left before the commit instant, and after it before the completion.
    before: u32,
    after: u32,
    snapshot: u64,
    /// Reads answered so far (read committed answers each as it happens).
    seen: Vec<Option<Value>>,
    result: Option<(EventKind, Vec<Value>)>,
}

struct Db {
    workload: Workload,
    isolation: SimIsolation,
    keys: Vec<KeyHistory>,
    clock: u64,
}

impl Db {
    fn read(&self, key: u64, instant: u64) -> Value {
        let k = &self.keys[key as usize];
        let state = k.at(instant);
        match self.workload {
            Workload::ListAppend => Value::List(
                k.elements[..state as usize]
                    .iter()
                    .map(|&e| Value::Int(e as i64))
                    .collect(),
            ),
            Workload::RwRegister => {
                if state == 0 {
                    Value::Null
                } else {
                    Value::Int(state as i64)
                }
            }
        }
    }

    /// Runs `txn` at the current instant: reads as the isolation level answers them, own
    /// writes visible to later reads; returns the completed micro-operations, or `None` if it
    /// must abort.
    fn commit(&mut self, txn: &mut Running) -> Option<Vec<Value>> {
        self.clock += 1;
        let now = self.clock;
        if self.isolation == SimIsolation::SnapshotIsolation {
            let conflict = txn.mops.iter().any(|m| match m {
                Planned::Write { key, .. } => self.keys[*key as usize].last_commit() > txn.snapshot,
                Planned::Read { .. } => false,
            });
            if conflict {
                return None;
            }
        }
        let mut out = Vec::with_capacity(txn.mops.len());
        let mut own: Vec<(u64, Vec<u64>)> = Vec::new();
        for (i, m) in txn.mops.iter().enumerate() {
            match *m {
                Planned::Write { key, value } => {
                    match own.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, vs)) => vs.push(value),
                        None => own.push((key, vec![value])),
                    }
                    out.push(mop_value(
                        self.workload,
                        true,
                        key,
                        Value::Int(value as i64),
                    ));
                }
                Planned::Read { key } => {
                    let mine = own
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| v.as_slice());
                    let base = match self.isolation {
                        // A transaction that wrote the key holds its lock: it reads the
                        // version it wrote over, the latest.
                        SimIsolation::ReadCommitted if mine.is_some() => self.read(key, now - 1),
                        SimIsolation::Serializable => self.read(key, now - 1),
                        SimIsolation::SnapshotIsolation => self.read(key, txn.snapshot),
                        SimIsolation::ReadCommitted => txn.seen[i].clone().unwrap_or_default(),
                    };
                    let v = match (self.workload, mine) {
                        (_, None) => base,
                        (Workload::ListAppend, Some(mine)) => {
                            let mut list = base.as_list().map(Cow::into_owned).unwrap_or_default();
                            list.extend(mine.iter().map(|&e| Value::Int(e as i64)));
                            Value::List(list)
                        }
                        (Workload::RwRegister, Some(mine)) => {
                            Value::Int(*mine.last().expect("a write") as i64)
                        }
                    };
                    out.push(mop_value(self.workload, false, key, v));
                }
            }
        }
        for (key, values) in own {
            let k = &mut self.keys[key as usize];
            let state = match self.workload {
                Workload::ListAppend => {
                    k.elements.extend(&values);
                    k.elements.len() as u64
                }
                Workload::RwRegister => *values.last().expect("a write"),
            };
            k.versions.push((now, state));
        }
        Some(out)
    }
}

fn mop_value(workload: Workload, write: bool, key: u64, v: Value) -> Value {
    let f = match (write, workload) {
        (false, _) => "r",
        (true, Workload::ListAppend) => "append",
        (true, Workload::RwRegister) => "w",
    };
    Value::List(vec![Value::Str(f.into()), Value::Int(key as i64), v])
}

fn invocation(workload: Workload, mops: &[Planned]) -> Value {
    Value::List(
        mops.iter()
            .map(|m| match *m {
                Planned::Write { key, value } => {
                    mop_value(workload, true, key, Value::Int(value as i64))
                }
                Planned::Read { key } => mop_value(workload, false, key, Value::Null),
            })
            .collect(),
    )
}

/// Generates the events of a history, in real-time order.
pub fn generate(config: &GenConfig) -> Vec<Event> {
    let mut rng = Rng::new(config.seed);
    let mut db = Db {
        workload: config.workload,
        isolation: config.isolation,
        keys: Vec::new(),
        clock: 0,
    };
    let key_count = config.keys.max(1);
    // Active keys and how often each was written; written values count up per key.
    let mut active: Vec<u64> = (0..key_count as u64).collect();
    db.keys.resize(key_count, KeyHistory::default());
    let mut writes_to: Vec<usize> = vec![0; key_count];
    let mut next_value: Vec<u64> = vec![1; key_count];
    let mut clients: Vec<Option<Running>> = (0..config.processes.max(1)).map(|_| None).collect();
    let mut process_ids: Vec<i64> = (0..config.processes.max(1) as i64).collect();
    let mut started = 0usize;
    let mut events = Vec::with_capacity(config.transactions * 2);
    let mut busy = 0usize;
    while started < config.transactions || busy > 0 {
        let c = rng.below(clients.len());
        let time = Some(events.len() as i64 * 1000);
        match clients[c].take() {
            None if started < config.transactions => {
                let n = 1 + rng.below(config.max_mops.max(1));
                let mut mops = Vec::with_capacity(n);
                for _ in 0..n {
                    let slot = rng.below(active.len());
                    let key = active[slot];
                    if rng.chance(config.read_fraction) {
                        mops.push(Planned::Read { key });
                    } else {
                        let value = next_value[key as usize];
                        next_value[key as usize] += 1;
                        writes_to[key as usize] += 1;
                        mops.push(Planned::Write { key, value });
                        if writes_to[key as usize] >= config.max_writes_per_key {
                            let fresh = db.keys.len() as u64;
                            db.keys.push(KeyHistory::default());
                            writes_to.push(0);
                            next_value.push(1);
                            active[slot] = fresh;
                        }
                    }
                }
                let process = process_ids[c];
                let mut event = Event::new(
                    EventKind::Invoke,
                    Process::Client(process),
                    "txn",
                    invocation(config.workload, &mops),
                );
                event.time = time;
                events.push(event);
                let n = mops.len();
                clients[c] = Some(Running {
                    process,
                    mops,
                    before: 1 + rng.below(3) as u32,
                    after: rng.below(3) as u32,
                    snapshot: db.clock,
                    seen: vec![None; n],
                    result: None,
                });
                started += 1;
                busy += 1;
            }
            None => {}
            Some(mut txn) => {
                if txn.result.is_none() && txn.before > 0 {
                    txn.before -= 1;
                    if db.isolation == SimIsolation::ReadCommitted {
                        // One more read sees the latest committed state now.
                        let next = (0..txn.mops.len()).find(|&i| {
                            matches!(txn.mops[i], Planned::Read { .. }) && txn.seen[i].is_none()
                        });
                        if let Some(i) = next {
                            if let Planned::Read { key } = txn.mops[i] {
                                txn.seen[i] = Some(db.read(key, db.clock));
                            }
                        }
                    }
                    clients[c] = Some(txn);
                    continue;
                }
                if txn.result.is_none() {
                    for i in 0..txn.mops.len() {
                        if let (Planned::Read { key }, None) = (txn.mops[i], &txn.seen[i]) {
                            txn.seen[i] = Some(db.read(key, db.clock));
                        }
                    }
                    let crash = rng.chance(config.info_rate);
                    let abort = rng.chance(config.fail_rate);
                    txn.result = Some(if abort {
                        (EventKind::Fail, Vec::new())
                    } else if crash {
                        // Committed or not: nobody will know.
                        if rng.chance(0.5) {
                            let _ = db.commit(&mut txn);
                        }
                        (EventKind::Info, Vec::new())
                    } else {
                        match db.commit(&mut txn) {
                            Some(done) => (EventKind::Ok, done),
                            None => (EventKind::Fail, Vec::new()),
                        }
                    });
                }
                if txn.after > 0 {
                    txn.after -= 1;
                    clients[c] = Some(txn);
                    continue;
                }
                let (kind, done) = txn.result.take().expect("decided");
                let value = match kind {
                    EventKind::Ok => Value::List(done),
                    _ => invocation(config.workload, &txn.mops),
                };
                let mut event = Event::new(kind, Process::Client(txn.process), "txn", value);
                event.time = time;
                events.push(event);
                if kind == EventKind::Info {
                    process_ids[c] += clients.len() as i64;
                }
                busy -= 1;
            }
        }
    }
    events
}

/// Writes events as JSON Lines, the form `photofinish` and Elle's tools read.
pub fn write_jsonl(events: &[Event], out: &mut impl Write) -> io::Result<()> {
    for event in events {
        serde_json::to_writer(&mut *out, event).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use photofinish_history::History;

    #[test]
    fn same_seed_same_history() {
        let config = GenConfig {
            transactions: 200,
            ..GenConfig::default()
        };
        assert_eq!(generate(&config), generate(&config));
        let other = GenConfig {
            seed: 2,
            ..config.clone()
        };
        assert_ne!(generate(&config), generate(&other));
    }

    #[test]
    fn every_transaction_is_invoked_and_most_complete() {
        let config = GenConfig {
            transactions: 500,
            ..GenConfig::default()
        };
        let events = generate(&config);
        let h = History::from_events(events).unwrap();
        assert_eq!(h.operations.len(), 500);
        let ok = h
            .operations
            .iter()
            .filter(|o| o.outcome == photofinish_history::Outcome::Ok)
            .count();
        assert!(ok > 400, "{ok}");
    }
}
