//! list-append: every key is a list, appends add unique elements, reads return the whole list.
//!
//! A read of `[1 2 3]` is a version of the key and names its order at once: the longest read
//! of each key is the version order, and every other read must be a prefix of it (else the
//! reads are an `incompatible-order`). From the order follow the dependencies:
//! - ww: the writer of the element just before an append wrote first;
//! - wr: a read ending in element `e` depends on the transaction that appended `e`;
//! - rw: a read ending in `e` (or empty) precedes the transaction that appended the element
//!   after `e`.
//!
//! An append that no read saw comes after every element some read saw (the list only grows,
//! and the longest read is one of its states). Only what committed transactions read is used:
//! a transaction that failed or whose outcome is unknown may not have committed, and Adya's
//! anomalies concern committed transactions. Indeterminate transactions still take part
//! through their appends: if a read saw one, it committed.

use photofinish_history::Outcome;

use crate::anomaly::AnomalyKind;
use crate::explain::{self, txn_name, txn_ref, Findings};
use crate::graph::{kind, Edge};
use crate::report::Finding;
use crate::txns::{MopKind, Txns, UNKNOWN};

/// The version before the first append: the empty list.
pub const INIT: u32 = u32::MAX - 2;

/// What list-append inferred from a history.
pub struct Inferred {
    pub edges: Vec<Edge>,
    pub findings: Findings,
    /// Per key: the version order, from its longest committed read.
    pub orders: Vec<Vec<u32>>,
}

/// A committed transaction's read of a key. The version order comes from every read; the
/// dependencies only from *external* reads, the first read of a key before the transaction
/// appends to it: what it saw of other transactions.
#[derive(Clone, Copy)]
struct ExternalRead {
    key: u32,
    txn: u32,
    /// Index of the micro-operation in [`Txns::mops`].
    mop: u32,
    /// The list read, an index into [`Txns::list_spans`].
    span: u32,
    external: bool,
}

/// The external reads of transaction `t`: for each key, the first read before any append of
/// its own to that key.
pub(crate) fn external_reads(txns: &Txns, t: u32, mut each: impl FnMut(u32, u32, u32)) {
    let txn = &txns.txns[t as usize];
    let mops = txns.mops_of(t);
    for (i, m) in mops.iter().enumerate() {
        if m.kind != MopKind::Read || m.value == UNKNOWN {
            continue;
        }
        let earlier = &mops[..i];
        if earlier.iter().any(|e| e.key == m.key) {
            continue;
        }
        each(m.key, txn.mop_start + i as u32, m.value);
    }
}

/// Who appended each element of the key being analysed: arrays indexed by element (value
/// id), valid where stamped with the key. Lookups are array reads, not hash probes: they
/// happen once per element of every read.
struct KeyWriters {
    stamp: Vec<u32>,
    txn: Vec<u32>,
    /// The appending micro-operation, an index into [`Txns::mops`].
    mop: Vec<u32>,
    key: u32,
}

impl KeyWriters {
    fn new(values: usize) -> KeyWriters {
        KeyWriters {
            stamp: vec![u32::MAX; values],
            txn: vec![0; values],
            mop: vec![0; values],
            key: u32::MAX,
        }
    }

    #[inline]
    fn get(&self, e: u32) -> Option<(u32, u32)> {
        (self.stamp[e as usize] == self.key).then(|| (self.txn[e as usize], self.mop[e as usize]))
    }
}

/// Infers version orders, dependencies and the anomalies visible without cycles.
pub fn infer(txns: &Txns) -> Inferred {
    let mut findings = Findings::default();
    let key_count = txns.keys.len();
    let mut reads: Vec<ExternalRead> = Vec::new();
    let mut appends: Vec<(u32, u32, u32)> = Vec::new(); // (key, txn, mop)
    for (t, txn) in txns.txns.iter().enumerate() {
        let t = t as u32;
        let mops = txns.mops_of(t);
        if txn.committed() {
            check_internal(txns, t, &mut findings);
            for (i, m) in mops.iter().enumerate() {
                if m.kind == MopKind::Read && m.value != UNKNOWN {
                    reads.push(ExternalRead {
                        key: m.key,
                        txn: t,
                        mop: txn.mop_start + i as u32,
                        span: m.value,
                        external: !mops[..i].iter().any(|e| e.key == m.key),
                    });
                }
            }
        }
        for (i, m) in mops.iter().enumerate() {
            if m.kind == MopKind::Append {
                appends.push((m.key, t, txn.mop_start + i as u32));
            }
        }
    }
    reads.sort_unstable_by_key(|r| (r.key, r.txn, r.mop));
    appends.sort_unstable();
    let intermediate = intermediate_appends(txns);
    let failed = |t: u32| txns.txns[t as usize].outcome == Outcome::Fail;

    let mut orders: Vec<Vec<u32>> = vec![Vec::new(); key_count];
    let mut edges: Vec<Edge> = Vec::with_capacity(reads.len() * 3 + appends.len() * 2);
    let mut writers = KeyWriters::new(txns.values.len());
    // Position of each element in the current key's order, valid when stamped with the key.
    let mut position = vec![0u32; txns.values.len()];
    let mut stamp = vec![u32::MAX; txns.values.len()];
    // (version, reader) of the current key's reads, sorted.
    let mut readers: Vec<(u32, u32)> = Vec::new();
    let mut lost: Vec<(u32, u32)> = Vec::new();

    let (mut r, mut a) = (0usize, 0usize);
    for key in 0..key_count as u32 {
        let r_end = r + reads[r..].partition_point(|x| x.key == key);
        let a_end = a + appends[a..].partition_point(|x| x.0 == key);
        let key_reads = &reads[r..r_end];
        let key_appends = &appends[a..a_end];
        r = r_end;
        a = a_end;
        if key_reads.is_empty() && key_appends.is_empty() {
            continue;
        }
        writers.key = key;
        for &(_, t, mop) in key_appends {
            let e = txns.mops[mop as usize].value as usize;
            writers.stamp[e] = key;
            writers.txn[e] = t;
            writers.mop[e] = mop;
        }

        // The version order: the longest read, each element once.
        let longest = key_reads
            .iter()
            .enumerate()
            .max_by_key(|(i, x)| (txns.list(x.span).len(), std::cmp::Reverse(*i)))
            .map(|(_, x)| *x);
        let order = &mut orders[key as usize];
        if let Some(longest) = longest {
            let list = txns.list(longest.span);
            for &e in list {
                if stamp[e as usize] == key {
                    continue;
                }
                stamp[e as usize] = key;
                position[e as usize] = order.len() as u32;
                order.push(e);
            }
            if order.len() < list.len() {
                duplicate_elements(txns, longest.txn, longest.mop, &mut findings);
            }
        }
        let order = &orders[key as usize];

        // Every other read must be a prefix of the order.
        let mut incompatible_reported = false;
        readers.clear();
        lost.clear();
        for x in key_reads {
            let list = txns.list(x.span);
            let prefix = list.len() <= order.len() && order[..list.len()] == *list;
            if !prefix {
                let is_longest = longest.is_some_and(|l| l.mop == x.mop);
                if !is_longest && has_duplicates(list) {
                    duplicate_elements(txns, x.txn, x.mop, &mut findings);
                }
                if !incompatible_reported && longest.is_some_and(|l| !is_prefix_of(txns, l, x)) {
                    incompatible_reported = true;
                    incompatible(txns, longest.expect("checked"), *x, &mut findings);
                }
                for &e in list {
                    if stamp[e as usize] != key {
                        check_element(txns, &writers, key, e, x, &mut findings);
                    }
                }
            }
            // wr: the writer of the last element precedes the reader.
            if let Some(&last) = list.last() {
                if let Some((w, wmop)) = writers.get(last) {
                    if w != x.txn && !failed(w) {
                        if x.external {
                            edges.push((w, x.txn, kind::WR));
                        }
                        if intermediate[wmop as usize] {
                            intermediate_read(txns, key, last, w, x, &mut findings);
                        }
                    }
                }
            }
            if x.external {
                let version = list.last().copied().unwrap_or(INIT);
                readers.push((version, x.txn));
                let appended = txns
                    .mops_of(x.txn)
                    .iter()
                    .any(|m| m.kind == MopKind::Append && m.key == key);
                if appended {
                    lost.push((version, x.txn));
                }
            }
        }
        readers.sort_unstable();
        if let Some(longest) = longest {
            for &e in order {
                check_element(txns, &writers, key, e, &longest, &mut findings);
            }
        }

        // ww and rw: what came just before each append.
        let last_seen = order.last().copied().unwrap_or(INIT);
        for &(_, t, mop) in key_appends {
            if failed(t) {
                continue;
            }
            let e = txns.mops[mop as usize].value;
            let prev = if stamp[e as usize] == key {
                let p = position[e as usize] as usize;
                if p == 0 {
                    INIT
                } else {
                    order[p - 1]
                }
            } else {
                last_seen
            };
            if prev != INIT {
                if let Some((w, _)) = writers.get(prev) {
                    if w != t && !failed(w) {
                        edges.push((w, t, kind::WW));
                    }
                }
            }
            let from = readers.partition_point(|&(v, _)| v < prev);
            for &(v, reader) in &readers[from..] {
                if v != prev {
                    break;
                }
                if reader != t {
                    edges.push((reader, t, kind::RW));
                }
            }
        }

        // Lost update: committed transactions that read the same version and appended.
        lost.sort_unstable();
        let mut i = 0;
        while i < lost.len() {
            let version = lost[i].0;
            let end = i + lost[i..].partition_point(|&(v, _)| v == version);
            if end - i > 1 {
                let ts: Vec<u32> = lost[i..end].iter().map(|&(_, t)| t).collect();
                lost_update(txns, key, version, &ts, &mut findings);
            }
            i = end;
        }
    }
    Inferred {
        edges,
        findings,
        orders,
    }
}

/// For every micro-operation: whether it is an append that its transaction follows with
/// another append to the same key (so no other transaction should ever read it last).
fn intermediate_appends(txns: &Txns) -> Vec<bool> {
    let mut intermediate = vec![false; txns.mops.len()];
    for (t, txn) in txns.txns.iter().enumerate() {
        let mops = txns.mops_of(t as u32);
        for (i, m) in mops.iter().enumerate() {
            if m.kind == MopKind::Append
                && mops[i + 1..]
                    .iter()
                    .any(|later| later.kind == MopKind::Append && later.key == m.key)
            {
                intermediate[txn.mop_start as usize + i] = true;
            }
        }
    }
    intermediate
}

fn has_duplicates(list: &[u32]) -> bool {
    if list.len() < 2 {
        return false;
    }
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).any(|w| w[0] == w[1])
}

fn is_prefix_of(txns: &Txns, long: ExternalRead, short: &ExternalRead) -> bool {
    let (l, s) = (txns.list(long.span), txns.list(short.span));
    s.len() <= l.len() && l[..s.len()] == *s
}

/// What a transaction knows of a key it touched: the list it last read (a span), if any,
/// and what it appended since.
#[derive(Default)]
struct Seen {
    read: Option<u32>,
    appended: Vec<u32>,
}

/// Internal consistency, non-repeatable reads and future reads of a committed transaction.
fn check_internal(txns: &Txns, t: u32, findings: &mut Findings) {
    let mops = txns.mops_of(t);
    let mut state: Vec<(u32, Seen)> = Vec::new();
    for (i, m) in mops.iter().enumerate() {
        let slot = match state.iter().position(|(k, _)| *k == m.key) {
            Some(s) => s,
            None => {
                state.push((m.key, Seen::default()));
                state.len() - 1
            }
        };
        match m.kind {
            MopKind::Append => state[slot].1.appended.push(m.value),
            MopKind::Read if m.value != UNKNOWN => {
                let seen = txns.list(m.value);
                // Future read: an element this transaction appends only later.
                let later = mops[i + 1..].iter().find(|l| {
                    l.kind == MopKind::Append && l.key == m.key && seen.contains(&l.value)
                });
                if let Some(later) = later {
                    findings.add(AnomalyKind::FutureRead, || Finding {
                        kind: AnomalyKind::FutureRead,
                        summary: format!(
                            "{} read key {} as {}, which holds {}: the element it appends only later, in {}",
                            txn_name(t),
                            explain::key(txns, m.key),
                            explain::list(txns, seen),
                            explain::value(txns, later.value),
                            explain::mop(txns, later),
                        ),
                        transactions: vec![txn_ref(txns, t)],
                        steps: Vec::new(),
                    });
                }
                let known = &state[slot].1;
                let expected = |known: &Seen| {
                    let mut whole = known
                        .read
                        .map(|r| txns.list(r).to_vec())
                        .unwrap_or_default();
                    whole.extend(&known.appended);
                    explain::list(txns, &whole)
                };
                if !seen.ends_with(&known.appended) {
                    let wanted = match known.read {
                        Some(_) => expected(known),
                        None => {
                            format!("a list ending in {}", explain::list(txns, &known.appended))
                        }
                    };
                    findings.add(AnomalyKind::Internal, || Finding {
                        kind: AnomalyKind::Internal,
                        summary: format!(
                            "{} read key {} as {}, which lacks what it appended itself: expected {}",
                            txn_name(t),
                            explain::key(txns, m.key),
                            explain::list(txns, seen),
                            wanted
                        ),
                        transactions: vec![txn_ref(txns, t)],
                        steps: Vec::new(),
                    });
                } else if let Some(read) = known.read {
                    let prefix = &seen[..seen.len() - known.appended.len()];
                    if prefix != txns.list(read) {
                        findings.add(AnomalyKind::NonRepeatableRead, || Finding {
                            kind: AnomalyKind::NonRepeatableRead,
                            summary: format!(
                                "{} read key {} as {}, then as {}: another transaction's change showed up mid-transaction (expected {})",
                                txn_name(t),
                                explain::key(txns, m.key),
                                explain::list(txns, txns.list(read)),
                                explain::list(txns, seen),
                                expected(known)
                            ),
                            transactions: vec![txn_ref(txns, t)],
                            steps: Vec::new(),
                        });
                    }
                }
                state[slot].1 = Seen {
                    read: Some(m.value),
                    appended: Vec::new(),
                };
            }
            _ => {}
        }
    }
}

fn duplicate_elements(txns: &Txns, t: u32, mop: u32, findings: &mut Findings) {
    let m = txns.mops[mop as usize];
    findings.add(AnomalyKind::DuplicateElements, || Finding {
        kind: AnomalyKind::DuplicateElements,
        summary: format!(
            "{} read key {} as {}, which holds an element twice",
            txn_name(t),
            explain::key(txns, m.key),
            explain::list(txns, txns.list(m.value)),
        ),
        transactions: vec![txn_ref(txns, t)],
        steps: Vec::new(),
    });
}

fn incompatible(txns: &Txns, a: ExternalRead, b: ExternalRead, findings: &mut Findings) {
    findings.add(AnomalyKind::IncompatibleOrder, || Finding {
        kind: AnomalyKind::IncompatibleOrder,
        summary: format!(
            "key {}: {} read {} and {} read {}; neither is a prefix of the other, so no single order of appends explains both",
            explain::key(txns, a.key),
            txn_name(a.txn),
            explain::list(txns, txns.list(a.span)),
            txn_name(b.txn),
            explain::list(txns, txns.list(b.span)),
        ),
        transactions: vec![txn_ref(txns, a.txn), txn_ref(txns, b.txn)],
        steps: Vec::new(),
    });
}

/// An element of a committed read whose writer failed (G1a) or does not exist (garbage).
fn check_element(
    txns: &Txns,
    writers: &KeyWriters,
    key: u32,
    e: u32,
    reader: &ExternalRead,
    findings: &mut Findings,
) {
    match writers.get(e) {
        None => findings.add(AnomalyKind::GarbageRead, || Finding {
            kind: AnomalyKind::GarbageRead,
            summary: format!(
                "{} read key {} as {}, but no transaction appended {} to key {}",
                txn_name(reader.txn),
                explain::key(txns, key),
                explain::list(txns, txns.list(reader.span)),
                explain::value(txns, e),
                explain::key(txns, key),
            ),
            transactions: vec![txn_ref(txns, reader.txn)],
            steps: Vec::new(),
        }),
        Some((w, _)) if txns.txns[w as usize].outcome == Outcome::Fail => {
            findings.add(AnomalyKind::G1a, || Finding {
                kind: AnomalyKind::G1a,
                summary: format!(
                    "{} read key {} as {}, which holds {}: appended by {}, which failed",
                    txn_name(reader.txn),
                    explain::key(txns, key),
                    explain::list(txns, txns.list(reader.span)),
                    explain::value(txns, e),
                    txn_name(w),
                ),
                transactions: vec![txn_ref(txns, reader.txn), txn_ref(txns, w)],
                steps: Vec::new(),
            })
        }
        Some(_) => {}
    }
}

fn intermediate_read(
    txns: &Txns,
    key: u32,
    e: u32,
    writer: u32,
    reader: &ExternalRead,
    findings: &mut Findings,
) {
    findings.add(AnomalyKind::G1b, || Finding {
        kind: AnomalyKind::G1b,
        summary: format!(
            "{} read key {} as {}, ending in {}: but {} appended more to key {} after {}, so that state never committed",
            txn_name(reader.txn),
            explain::key(txns, key),
            explain::list(txns, txns.list(reader.span)),
            explain::value(txns, e),
            txn_name(writer),
            explain::key(txns, key),
            explain::value(txns, e),
        ),
        transactions: vec![txn_ref(txns, reader.txn), txn_ref(txns, writer)],
        steps: Vec::new(),
    });
}

fn lost_update(txns: &Txns, key: u32, version: u32, ts: &[u32], findings: &mut Findings) {
    let seen = if version == INIT {
        "[] (the initial state)".to_string()
    } else {
        format!("a list ending in {}", explain::value(txns, version))
    };
    let names: Vec<String> = ts.iter().map(|&t| txn_name(t)).collect();
    findings.add(AnomalyKind::LostUpdate, || Finding {
        kind: AnomalyKind::LostUpdate,
        summary: format!(
            "{} all read key {} as {} and appended to it, and all committed: in any serial order the later ones would have seen the earlier ones' appends",
            names.join(", "),
            explain::key(txns, key),
            seen
        ),
        transactions: ts.iter().map(|&t| txn_ref(txns, t)).collect(),
        steps: Vec::new(),
    });
}
