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
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 7] = [
        WorkloadKind::Register,
        WorkloadKind::CasRegister,
        WorkloadKind::Counter,
        WorkloadKind::Set,
        WorkloadKind::Queue,
        WorkloadKind::Mutex,
        WorkloadKind::CreateOnce,
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
        }
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

/// A workload: its kind, over how many keys (each key an independent object, checked on its
/// own), by how many clients.
#[derive(Clone, Debug)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub keys: usize,
    pub clients: usize,
}

impl Workload {
    pub fn new(kind: WorkloadKind, keys: usize, clients: usize) -> Workload {
        Workload {
            kind,
            keys: keys.max(1),
            clients: clients.max(1),
        }
    }

    /// The key names the workload uses, in the order generators number them. With one key the
    /// history carries no key at all (create-once always names its keys).
    pub fn key(&self, index: usize) -> Option<Value> {
        (self.keys > 1 || self.kind == WorkloadKind::CreateOnce).then_some(Value::Int(index as i64))
    }

    pub fn generator(&self, seed: u64, worker: usize) -> Generator {
        Generator {
            workload: self.clone(),
            worker,
            rng: ChaCha8Rng::seed_from_u64(
                seed ^ (worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ),
            issued: 0,
            held: None,
        }
    }

    /// Operations one extra process performs after the workers stop, so that the history ends
    /// with what the system finally holds: a read of every counter and set, and a dequeue of
    /// every queue, repeated until it is empty (see [`drains`]). Lost updates that no read in
    /// the middle happened to see show up there.
    pub fn final_reads(&self) -> Vec<Invocation> {
        let f = match self.kind {
            WorkloadKind::Counter | WorkloadKind::Set => "read",
            WorkloadKind::Queue => "dequeue",
            _ => return Vec::new(),
        };
        (0..self.keys)
            .map(|k| Invocation::new(f, self.key(k), Value::Null))
            .collect()
    }
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
    issued: u64,
    /// The key of the lock this worker holds, for the mutex workload.
    held: Option<usize>,
}

impl Generator {
    /// The next operation.
    pub fn next_op(&mut self) -> Invocation {
        let n = self.issued;
        self.issued += 1;
        let keys = self.workload.keys;
        let key_index = self.rng.random_range(0..keys);
        let key = self.workload.key(key_index);
        // Values unique across the whole run: this worker's n-th value.
        let unique = Value::Int((n * self.workload.clients as u64 + self.worker as u64 + 1) as i64);
        let roll: f64 = self.rng.random();
        match self.workload.kind {
            WorkloadKind::Register if roll < 0.5 => Invocation::new("read", key, Value::Null),
            WorkloadKind::Register => Invocation::new("write", key, unique),
            WorkloadKind::CasRegister => {
                let small = |rng: &mut ChaCha8Rng| Value::Int(rng.random_range(0..5));
                if roll < 0.4 {
                    Invocation::new("read", key, Value::Null)
                } else if roll < 0.6 {
                    let v = small(&mut self.rng);
                    Invocation::new("write", key, v)
                } else {
                    let expected = small(&mut self.rng);
                    let new = small(&mut self.rng);
                    Invocation::new("cas", key, Value::List(vec![expected, new]))
                }
            }
            WorkloadKind::Counter if roll < 0.25 => Invocation::new("read", key, Value::Null),
            WorkloadKind::Counter => Invocation::new("add", key, Value::Int(1)),
            WorkloadKind::Set if roll < 0.05 => Invocation::new("read", key, Value::Null),
            WorkloadKind::Set => Invocation::new("add", key, unique),
            WorkloadKind::Queue if roll < 0.5 => Invocation::new("enqueue", key, unique),
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
        }
    }

    /// Tells the generator how `op` ended, for workloads whose next step depends on it.
    pub fn observe(&mut self, op: &Invocation, completion: &Completion) {
        if self.workload.kind != WorkloadKind::Mutex {
            return;
        }
        let key_index = match &op.key {
            Some(Value::Int(k)) => *k as usize,
            _ => 0,
        };
        match (op.f.as_str(), completion) {
            ("acquire", Completion::Ok(_)) => self.held = Some(key_index),
            // Released, or refused because the lock was no longer ours: either way not held.
            ("release", Completion::Ok(_) | Completion::Fail(_)) => self.held = None,
            // Unknown: a fresh process takes over, holding nothing.
            (_, Completion::Info(_)) => self.held = None,
            _ => {}
        }
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
