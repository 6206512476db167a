//! The dependency graph between transactions, in compressed sparse rows: one offset per
//! transaction, then every edge's target and kinds in two flat vectors. No allocation per
//! edge, and a million transactions fit in a few tens of megabytes.
//!
//! Real-time order is not stored as edges (it would take one per pair of transactions that do
//! not overlap). [`Realtime`] keeps the completions in order instead; strongly connected
//! components see it as a chain of *time nodes*, one per completion: a transaction points to
//! the time node of its completion, each time node to the next, and the time node of the last
//! completion before a transaction's invocation points to that transaction. A path through
//! time nodes exists exactly when one transaction completed before another began.

use crate::txns::{Txns, NEVER};

/// Kinds of dependency, as bits: an edge may carry several.
pub mod kind {
    /// Write-write: the second transaction overwrote (or appended after) the first's write.
    pub const WW: u8 = 1;
    /// Write-read: the second transaction read what the first wrote.
    pub const WR: u8 = 2;
    /// Read-write (anti-dependency): the second transaction overwrote what the first read.
    pub const RW: u8 = 4;
    /// The same process ran the first transaction, then the second.
    pub const PROCESS: u8 = 8;
    /// The dependency (ww or rw) is known only because real-time order fixed the version
    /// order: sound under strict serializability alone.
    pub const DERIVED: u8 = 16;
    /// The data dependencies.
    pub const DATA: u8 = WW | WR | RW;
}

/// An edge to add, before the graph is built.
pub type Edge = (u32, u32, u8);

/// Transactions and their dependencies.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    nodes: usize,
    offsets: Vec<u32>,
    targets: Vec<u32>,
    kinds: Vec<u8>,
}

impl Graph {
    /// Builds the graph of `nodes` transactions from `edges`. Self-edges are dropped (a
    /// transaction depending on itself is an internal matter, checked elsewhere); edges
    /// between the same pair are merged, except that derived and observed dependencies stay
    /// apart so that a cycle can tell which it used.
    pub fn build(nodes: usize, edges: Vec<Edge>) -> Graph {
        let mut counts = vec![0u32; nodes + 1];
        for &(from, to, _) in &edges {
            if from != to {
                counts[from as usize + 1] += 1;
            }
        }
        for i in 1..=nodes {
            counts[i] += counts[i - 1];
        }
        let total = counts[nodes] as usize;
        let mut cursor = counts.clone();
        let mut targets = vec![0u32; total];
        let mut kinds = vec![0u8; total];
        for (from, to, k) in edges {
            if from == to {
                continue;
            }
            let slot = &mut cursor[from as usize];
            targets[*slot as usize] = to;
            kinds[*slot as usize] = k;
            *slot += 1;
        }
        // Sort and merge each row in place.
        let mut offsets = Vec::with_capacity(nodes + 1);
        offsets.push(0u32);
        let mut write = 0usize;
        let mut row: Vec<(u32, u8)> = Vec::new();
        for v in 0..nodes {
            let (start, end) = (counts[v] as usize, counts[v + 1] as usize);
            row.clear();
            row.extend((start..end).map(|i| (targets[i], kinds[i])));
            row.sort_unstable_by_key(|&(t, k)| (t, k & kind::DERIVED));
            let mut i = 0;
            while i < row.len() {
                let (t, mut k) = row[i];
                let derived = k & kind::DERIVED;
                i += 1;
                while i < row.len() && row[i].0 == t && row[i].1 & kind::DERIVED == derived {
                    k |= row[i].1;
                    i += 1;
                }
                targets[write] = t;
                kinds[write] = k;
                write += 1;
            }
            offsets.push(write as u32);
        }
        targets.truncate(write);
        kinds.truncate(write);
        targets.shrink_to_fit();
        kinds.shrink_to_fit();
        Graph {
            nodes,
            offsets,
            targets,
            kinds,
        }
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }

    pub fn edge_count(&self) -> usize {
        self.targets.len()
    }

    /// The edges leaving `v`: targets and kinds.
    #[inline]
    pub fn out(&self, v: u32) -> (&[u32], &[u8]) {
        let (s, e) = (
            self.offsets[v as usize] as usize,
            self.offsets[v as usize + 1] as usize,
        );
        (&self.targets[s..e], &self.kinds[s..e])
    }

    /// The kinds of the edges from `a` to `b` (0 if none), observed and derived together.
    pub fn kinds_between(&self, a: u32, b: u32) -> u8 {
        let (targets, kinds) = self.out(a);
        targets
            .iter()
            .zip(kinds)
            .filter(|(t, _)| **t == b)
            .fold(0, |acc, (_, k)| acc | k)
    }
}

/// Real-time order: which transactions completed before which began.
#[derive(Clone, Debug, Default)]
pub struct Realtime {
    /// Number of transactions (graph nodes); time node `i` is node `txns + i`.
    txns: usize,
    /// For each transaction: the time node of its completion, if it committed; `u32::MAX`
    /// otherwise (a transaction that failed, or whose outcome is unknown, precedes nothing).
    completion: Vec<u32>,
    /// For each time node `i`: the transactions whose last preceding completion is `i`, in
    /// compressed rows.
    entering_offsets: Vec<u32>,
    entering: Vec<u32>,
}

impl Realtime {
    /// Real-time order of `txns`: a committed transaction precedes every transaction invoked
    /// after it completed.
    pub fn build(txns: &Txns) -> Realtime {
        let n = txns.txns.len();
        let mut completions: Vec<(u64, u32)> = txns
            .txns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.committed() && t.completed_at != NEVER)
            .map(|(i, t)| (t.completed_at, i as u32))
            .collect();
        completions.sort_unstable();
        let mut completion = vec![u32::MAX; n];
        for (rank, &(_, t)) in completions.iter().enumerate() {
            completion[t as usize] = rank as u32;
        }
        // Transactions are in invocation order, so one pass pairs each with the completions
        // before it.
        let times = completions.len();
        let mut counts = vec![0u32; times + 1];
        let mut last_before = vec![u32::MAX; n];
        let mut c = 0usize;
        for (i, t) in txns.txns.iter().enumerate() {
            while c < times && completions[c].0 < t.invoked_at {
                c += 1;
            }
            if c > 0 {
                last_before[i] = (c - 1) as u32;
                counts[c] += 1;
            }
        }
        for i in 1..=times {
            counts[i] += counts[i - 1];
        }
        let mut cursor = counts.clone();
        let mut entering = vec![0u32; counts[times] as usize];
        for (i, &time) in last_before.iter().enumerate() {
            if time != u32::MAX {
                let slot = &mut cursor[time as usize];
                entering[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        Realtime {
            txns: n,
            completion,
            entering_offsets: counts,
            entering,
        }
    }

    /// Number of time nodes.
    pub fn times(&self) -> usize {
        self.entering_offsets.len().saturating_sub(1)
    }

    /// The time node (as a graph node, numbered after the transactions) where `t` completed.
    #[inline]
    pub fn completion_node(&self, t: u32) -> Option<u32> {
        let c = self.completion[t as usize];
        (c != u32::MAX).then(|| self.txns as u32 + c)
    }

    /// The transactions that time node `time` (0-based, not a graph node number) leads into.
    #[inline]
    pub fn entering(&self, time: u32) -> &[u32] {
        let (s, e) = (
            self.entering_offsets[time as usize] as usize,
            self.entering_offsets[time as usize + 1] as usize,
        );
        &self.entering[s..e]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_sorted_and_merged() {
        let g = Graph::build(
            3,
            vec![
                (0, 2, kind::WW),
                (0, 1, kind::RW),
                (0, 2, kind::WR),
                (1, 1, kind::WW),
                (0, 2, kind::RW | kind::DERIVED),
            ],
        );
        let (t, k) = g.out(0);
        assert_eq!(t, [1, 2, 2]);
        assert_eq!(k, [kind::RW, kind::WW | kind::WR, kind::RW | kind::DERIVED]);
        assert_eq!(g.out(1).0.len(), 0);
        assert_eq!(
            g.kinds_between(0, 2),
            kind::WW | kind::WR | kind::RW | kind::DERIVED
        );
    }
}
