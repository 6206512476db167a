//! rw-register: every key is a register; writes put unique values, reads return the current
//! one (`nil` before any write).
//!
//! A read names its writer, but unlike a list it says nothing about the order of versions, so
//! the version order is inferred only from what is sound:
//! - the initial state (`nil`) precedes every written value (always);
//! - a committed transaction that read `a` from a key and then wrote `b` to it puts `a` before
//!   `b`: otherwise it would have overwritten a later version it did not see, a G1c cycle with
//!   the writer of `a`. Sound for read committed and stronger;
//! - under strict serializability only, real-time order: if committed transaction `U`
//!   completed before `T` began and both touched the key, the version `U` left (its write, or
//!   what it read) precedes what `T` read or wrote. These dependencies are marked *derived*,
//!   and a cycle that needs one is a `-realtime` anomaly.
//!
//! Only direct relations become edges; longer chains are paths of ww edges, which keeps the
//! anti-dependency count of every cycle (and so its class) exact.

use photofinish_history::Outcome;
use rustc_hash::FxHashMap;

use crate::anomaly::AnomalyKind;
use crate::cycles::StepKind;
use crate::explain::{self, txn_name, txn_ref, Findings};
use crate::graph::{kind, Edge};
use crate::report::Finding;
use crate::txns::{MopKind, Txns, WriteIndex, NEVER, NIL, UNKNOWN};

/// Why one version precedes another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// This transaction read the first version, then wrote the second.
    WritesFollowReads(u32),
    /// The first transaction, which left the first version, completed before the second,
    /// which read or wrote the second version, began.
    Realtime(u32, u32),
}

/// The inferred version orders.
#[derive(Clone, Debug, Default)]
pub struct Versions {
    /// `(key, earlier, later, why)`, sorted by key.
    relations: Vec<(u32, u32, u32, Reason)>,
}

impl Versions {
    fn of_key(&self, key: u32) -> &[(u32, u32, u32, Reason)] {
        let s = self.relations.partition_point(|r| r.0 < key);
        let e = self.relations.partition_point(|r| r.0 <= key);
        &self.relations[s..e]
    }

    /// Why step `a -> b` of kind `data` holds.
    pub(crate) fn because(
        &self,
        txns: &Txns,
        writes: &WriteIndex,
        a: u32,
        b: u32,
        data: StepKind,
        derived: bool,
    ) -> String {
        let writer = |key: u32, v: u32| writes.writer(key, v).map(|(w, _)| w);
        let reason_text = |r: Reason, earlier: u32, later: u32| {
            match r {
            Reason::WritesFollowReads(t) => format!(
                "{} read {} before writing {}",
                txn_name(t),
                explain::value(txns, earlier),
                explain::value(txns, later)
            ),
            Reason::Realtime(u, t) => format!(
                "{}, which left {}, completed (line {}) before {} began (line {}), and strict serializability keeps real-time order",
                txn_name(u),
                explain::value(txns, earlier),
                txns.txns[u as usize].complete_line,
                txn_name(t),
                txns.txns[t as usize].invoke_line
            ),
        }
        };
        match data {
            StepKind::Wr => {
                for (key, v) in external_reads(txns, b) {
                    if v != NIL && writer(key, v) == Some(a) {
                        return format!(
                            "{} wrote {} to key {} and {} read it",
                            txn_name(a),
                            explain::value(txns, v),
                            explain::key(txns, key),
                            txn_name(b)
                        );
                    }
                }
            }
            StepKind::Ww => {
                for &(key, earlier, later, reason) in &self.relations {
                    let is_derived = matches!(reason, Reason::Realtime(..));
                    if is_derived == derived
                        && writer(key, earlier) == Some(a)
                        && writer(key, later) == Some(b)
                    {
                        return format!(
                            "{} wrote {} to key {}, then {} wrote {}: {}",
                            txn_name(a),
                            explain::value(txns, earlier),
                            explain::key(txns, key),
                            txn_name(b),
                            explain::value(txns, later),
                            reason_text(reason, earlier, later)
                        );
                    }
                }
            }
            StepKind::Rw => {
                for (key, v) in external_reads(txns, a) {
                    if v == NIL && !derived {
                        if let Some(m) = txns
                            .mops_of(b)
                            .iter()
                            .find(|m| m.kind == MopKind::Write && m.key == key)
                        {
                            return format!(
                                "{} read key {} as nil, the initial state, which {}'s write of {} follows",
                                txn_name(a),
                                explain::key(txns, key),
                                txn_name(b),
                                explain::value(txns, m.value)
                            );
                        }
                    }
                    for &(k, earlier, later, reason) in self.of_key(key) {
                        let is_derived = matches!(reason, Reason::Realtime(..));
                        if k == key
                            && earlier == v
                            && is_derived == derived
                            && writer(key, later) == Some(b)
                        {
                            return format!(
                                "{} read key {} as {}, which {}'s write of {} follows: {}",
                                txn_name(a),
                                explain::key(txns, key),
                                explain::value(txns, v),
                                txn_name(b),
                                explain::value(txns, later),
                                reason_text(reason, earlier, later)
                            );
                        }
                    }
                }
            }
            _ => {}
        }
        format!("{} dependency", data.name())
    }
}

/// What rw-register inferred from a history.
pub struct Inferred {
    pub edges: Vec<Edge>,
    pub findings: Findings,
    pub versions: Versions,
}

/// The external reads of transaction `t`: `(key, value or NIL)` of each first read of a key
/// before any write of its own to it, when the value is known.
fn external_reads(txns: &Txns, t: u32) -> Vec<(u32, u32)> {
    let mops = txns.mops_of(t);
    let mut out = Vec::new();
    for (i, m) in mops.iter().enumerate() {
        if m.kind == MopKind::Read
            && m.value != UNKNOWN
            && !mops[..i].iter().any(|e| e.key == m.key)
        {
            out.push((m.key, m.value));
        }
    }
    out
}

/// Each key's final write in transaction `t`: `(key, value)`.
fn final_writes(txns: &Txns, t: u32) -> Vec<(u32, u32)> {
    let mops = txns.mops_of(t);
    let mut out: Vec<(u32, u32)> = Vec::new();
    for m in mops.iter().filter(|m| m.kind == MopKind::Write) {
        match out.iter_mut().find(|(k, _)| *k == m.key) {
            Some(slot) => slot.1 = m.value,
            None => out.push((m.key, m.value)),
        }
    }
    out
}

/// Infers version orders, dependencies and the anomalies visible without cycles.
pub fn infer(txns: &Txns, writes: &WriteIndex) -> Inferred {
    let mut findings = Findings::default();
    let mut relations: Vec<(u32, u32, u32, Reason)> = Vec::new();
    // (key, version, reader) of every committed external read.
    let mut reads: Vec<(u32, u32, u32)> = Vec::new();
    let mut edges: Vec<Edge> = Vec::new();
    let mut lost: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();

    for (t, txn) in txns.txns.iter().enumerate() {
        let t = t as u32;
        if !txn.committed() {
            continue;
        }
        check_internal(txns, writes, t, &mut findings);
        let finals = final_writes(txns, t);
        for (key, v) in external_reads(txns, t) {
            reads.push((key, v, t));
            if let Some(&(_, b)) = finals.iter().find(|(k, _)| *k == key) {
                lost.entry((key, v)).or_default().push(t);
                if v != NIL {
                    relations.push((key, v, b, Reason::WritesFollowReads(t)));
                }
            }
            if v == NIL {
                continue;
            }
            match writes.writer(key, v) {
                None => findings.add(AnomalyKind::GarbageRead, || Finding {
                    kind: AnomalyKind::GarbageRead,
                    summary: format!(
                        "{} read key {} as {}, but no transaction wrote {} to key {}",
                        txn_name(t),
                        explain::key(txns, key),
                        explain::value(txns, v),
                        explain::value(txns, v),
                        explain::key(txns, key)
                    ),
                    transactions: vec![txn_ref(txns, t)],
                    steps: Vec::new(),
                }),
                Some((w, _)) if w == t => {}
                Some((w, j)) => {
                    let writer = &txns.txns[w as usize];
                    if writer.outcome == Outcome::Fail {
                        findings.add(AnomalyKind::G1a, || Finding {
                            kind: AnomalyKind::G1a,
                            summary: format!(
                                "{} read key {} as {}, written by {}, which failed",
                                txn_name(t),
                                explain::key(txns, key),
                                explain::value(txns, v),
                                txn_name(w)
                            ),
                            transactions: vec![txn_ref(txns, t), txn_ref(txns, w)],
                            steps: Vec::new(),
                        });
                        continue;
                    }
                    edges.push((w, t, kind::WR));
                    let overwritten = txns.mops_of(w)[j as usize + 1..]
                        .iter()
                        .any(|m| m.kind == MopKind::Write && m.key == key);
                    if overwritten {
                        findings.add(AnomalyKind::G1b, || Finding {
                            kind: AnomalyKind::G1b,
                            summary: format!(
                                "{} read key {} as {}: but {} wrote key {} again after {}, so that value never committed",
                                txn_name(t),
                                explain::key(txns, key),
                                explain::value(txns, v),
                                txn_name(w),
                                explain::key(txns, key),
                                explain::value(txns, v)
                            ),
                            transactions: vec![txn_ref(txns, t), txn_ref(txns, w)],
                            steps: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    let mut collisions: Vec<((u32, u32), Vec<u32>)> =
        lost.into_iter().filter(|(_, ts)| ts.len() > 1).collect();
    collisions.sort_unstable();
    for ((key, v), ts) in collisions {
        let seen = if v == NIL {
            "nil (the initial state)".to_string()
        } else {
            explain::value(txns, v)
        };
        findings.add(AnomalyKind::LostUpdate, || Finding {
            kind: AnomalyKind::LostUpdate,
            summary: format!(
                "{} all read key {} as {} and wrote it, and all committed: each overwrote the others' updates without seeing them",
                ts.iter().map(|&t| txn_name(t)).collect::<Vec<_>>().join(", "),
                explain::key(txns, key),
                seen
            ),
            transactions: ts.iter().map(|&t| txn_ref(txns, t)).collect(),
            steps: Vec::new(),
        });
    }

    realtime_relations(txns, &mut relations);
    relations.sort_unstable_by_key(|r| (r.0, r.1, r.2, matches!(r.3, Reason::Realtime(..))));
    relations.dedup_by_key(|r| (r.0, r.1, r.2, matches!(r.3, Reason::Realtime(..))));
    reads.sort_unstable();

    let readers_of = |key: u32, v: u32| -> &[(u32, u32, u32)] {
        let s = reads.partition_point(|r| (r.0, r.1) < (key, v));
        let e = reads.partition_point(|r| (r.0, r.1) <= (key, v));
        &reads[s..e]
    };
    let live = |t: u32| txns.txns[t as usize].outcome != Outcome::Fail;
    for &(key, earlier, later, reason) in &relations {
        let derived = if matches!(reason, Reason::Realtime(..)) {
            kind::DERIVED
        } else {
            0
        };
        let Some((w_later, _)) = writes.writer(key, later) else {
            continue;
        };
        if !live(w_later) {
            continue;
        }
        if let Some((w_earlier, _)) = writes.writer(key, earlier) {
            if live(w_earlier) && w_earlier != w_later {
                edges.push((w_earlier, w_later, kind::WW | derived));
            }
        }
        for &(_, _, reader) in readers_of(key, earlier) {
            if reader != w_later {
                edges.push((reader, w_later, kind::RW | derived));
            }
        }
    }
    // The initial state precedes every version; readers of it precede the writers of the
    // versions nothing else is known to precede (the rest follow those by ww paths).
    let mut has_predecessor: rustc_hash::FxHashSet<(u32, u32)> = Default::default();
    for &(key, _, later, reason) in &relations {
        if matches!(reason, Reason::WritesFollowReads(_)) {
            has_predecessor.insert((key, later));
        }
    }
    let mut minimal: Vec<(u32, u32)> = Vec::new();
    for (t, txn) in txns.txns.iter().enumerate() {
        if txn.outcome == Outcome::Fail {
            continue;
        }
        for (key, value) in final_writes(txns, t as u32) {
            if !has_predecessor.contains(&(key, value)) {
                minimal.push((key, t as u32));
            }
        }
    }
    minimal.sort_unstable();
    for (key, writer) in minimal {
        for &(_, _, reader) in readers_of(key, NIL) {
            if reader != writer {
                edges.push((reader, writer, kind::RW));
            }
        }
    }
    Inferred {
        edges,
        findings,
        versions: Versions { relations },
    }
}

/// Real-time relations between versions (strict serializability only), per key, keeping for
/// each key the frontier of committed transactions no later completed one follows.
fn realtime_relations(txns: &Txns, relations: &mut Vec<(u32, u32, u32, Reason)>) {
    // Events per key: (position, key, is_completion, txn).
    let mut events: Vec<(u64, u32, bool, u32)> = Vec::new();
    for (t, txn) in txns.txns.iter().enumerate() {
        if txn.outcome == Outcome::Fail {
            continue;
        }
        let mut keys: Vec<u32> = txns.mops_of(t as u32).iter().map(|m| m.key).collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            events.push((txn.invoked_at, key, false, t as u32));
            if txn.committed() && txn.completed_at != NEVER {
                events.push((txn.completed_at, key, true, t as u32));
            }
        }
    }
    events.sort_unstable_by_key(|e| (e.1, e.0));
    let mut frontier: Vec<u32> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let key = events[i].1;
        frontier.clear();
        while i < events.len() && events[i].1 == key {
            let (_, _, completion, t) = events[i];
            i += 1;
            let txn = &txns.txns[t as usize];
            if completion {
                frontier.retain(|&u| txns.txns[u as usize].completed_at >= txn.invoked_at);
                frontier.push(t);
                continue;
            }
            let t_in = external_reads(txns, t)
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
                .filter(|_| txn.committed());
            let t_out = final_writes(txns, t)
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v);
            for &u in &frontier {
                let Some(u_out) = version_left(txns, u, key) else {
                    continue;
                };
                if u_out == NIL {
                    continue;
                }
                for later in [t_in, t_out].into_iter().flatten() {
                    if later != NIL && later != u_out {
                        relations.push((key, u_out, later, Reason::Realtime(u, t)));
                    }
                }
            }
        }
    }
}

/// The version of `key` transaction `u` left: its final write, else what it read.
fn version_left(txns: &Txns, u: u32, key: u32) -> Option<u32> {
    final_writes(txns, u)
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .or_else(|| {
            external_reads(txns, u)
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
        })
}

/// Internal consistency, non-repeatable reads and future reads of a committed transaction.
fn check_internal(txns: &Txns, writes: &WriteIndex, t: u32, findings: &mut Findings) {
    let mops = txns.mops_of(t);
    // Per key: the last value written, and the last value read.
    let mut state: Vec<(u32, Option<u32>, Option<u32>)> = Vec::new();
    for (i, m) in mops.iter().enumerate() {
        let slot = match state.iter().position(|(k, _, _)| *k == m.key) {
            Some(s) => s,
            None => {
                state.push((m.key, None, None));
                state.len() - 1
            }
        };
        match m.kind {
            MopKind::Write => state[slot].1 = Some(m.value),
            MopKind::Read if m.value != UNKNOWN => {
                if m.value != NIL {
                    if let Some((w, j)) = writes.writer(m.key, m.value) {
                        if w == t && j as usize > i {
                            findings.add(AnomalyKind::FutureRead, || Finding {
                                kind: AnomalyKind::FutureRead,
                                summary: format!(
                                    "{} read key {} as {}, which it writes only later",
                                    txn_name(t),
                                    explain::key(txns, m.key),
                                    explain::value(txns, m.value)
                                ),
                                transactions: vec![txn_ref(txns, t)],
                                steps: Vec::new(),
                            });
                        }
                    }
                }
                let (_, written, read) = state[slot];
                match (written, read) {
                    (Some(w), _) if w != m.value => findings.add(AnomalyKind::Internal, || Finding {
                        kind: AnomalyKind::Internal,
                        summary: format!(
                            "{} read key {} as {} after writing {} to it itself",
                            txn_name(t),
                            explain::key(txns, m.key),
                            read_text(txns, m.value),
                            read_text(txns, w)
                        ),
                        transactions: vec![txn_ref(txns, t)],
                        steps: Vec::new(),
                    }),
                    (None, Some(r)) if r != m.value => {
                        findings.add(AnomalyKind::NonRepeatableRead, || Finding {
                            kind: AnomalyKind::NonRepeatableRead,
                            summary: format!(
                                "{} read key {} as {}, then as {}: another transaction's write showed up mid-transaction",
                                txn_name(t),
                                explain::key(txns, m.key),
                                read_text(txns, r),
                                read_text(txns, m.value)
                            ),
                            transactions: vec![txn_ref(txns, t)],
                            steps: Vec::new(),
                        })
                    }
                    _ => {}
                }
                state[slot].2 = Some(m.value);
            }
            _ => {}
        }
    }
}

fn read_text(txns: &Txns, v: u32) -> String {
    if v == NIL {
        "nil".to_string()
    } else {
        explain::value(txns, v)
    }
}
