//! Finding cycles of a given shape in a strongly connected region of the dependency graph,
//! and naming a cycle by the edges it uses.
//!
//! A search is a breadth-first search from a start transaction back to itself over the product
//! of the graph with a small automaton: the automaton remembers what the shape needs (was the
//! last edge an anti-dependency, has a process or real-time edge been used, ...). Cycles are
//! rotated so that the start is where the shape is easiest to pin down: a G-single starts with
//! its anti-dependency, a G2-item between two adjacent ones. Breadth-first order makes the
//! cycle found the shortest through its start; the search tries several starts, within a
//! budget of edges examined, and keeps the shortest.
//!
//! Real-time edges are never materialised: from a transaction that completed at position `c`,
//! every transaction of the region invoked after `c` is one real-time step away. Transactions
//! are numbered in invocation order, so those form a suffix of the region, and each automaton
//! state sweeps each suffix only once per search.

use serde::Serialize;

use crate::graph::{kind, Graph};
use crate::txns::{Txns, NEVER};

/// What one step of a cycle rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Write-write: the second transaction's write follows the first's in the version order.
    Ww,
    /// Write-read: the second transaction read the first's write.
    Wr,
    /// Read-write: the second transaction overwrote the version the first read.
    Rw,
    /// The same process ran the first transaction, then the second.
    Process,
    /// The first transaction completed before the second was invoked.
    Realtime,
}

impl StepKind {
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Ww => "ww",
            StepKind::Wr => "wr",
            StepKind::Rw => "rw",
            StepKind::Process => "process",
            StepKind::Realtime => "realtime",
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(code: u8) -> StepKind {
        match code & 7 {
            0 => StepKind::Ww,
            1 => StepKind::Wr,
            2 => StepKind::Rw,
            3 => StepKind::Process,
            _ => StepKind::Realtime,
        }
    }
}

/// One edge of a cycle: `from` must precede `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Step {
    pub from: u32,
    pub to: u32,
    pub kind: StepKind,
    /// A ww or rw dependency known only from real-time order (rw-register under strict
    /// serializability).
    pub derived: bool,
}

/// The shape a search looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Write-write edges only.
    G0,
    /// Write-write and write-read edges, at least one write-read.
    G1c,
    /// Exactly one anti-dependency.
    GSingle,
    /// At least two anti-dependencies, no two adjacent.
    GNonadjacent,
    /// At least two anti-dependencies, two of them adjacent.
    G2Item,
    /// Any cycle with no two adjacent anti-dependencies (the kinds snapshot isolation forbids).
    AnyNonadjacent,
    /// Any cycle over the data kinds given.
    Any(u8),
}

/// Which edges besides data dependencies a search may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Data,
    Process,
    Realtime,
}

/// A shape, the extra edges allowed, and whether at least one of those must be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub shape: Shape,
    pub scope: Scope,
    pub require_special: bool,
}

impl Pattern {
    fn data_kinds(&self) -> u8 {
        match self.shape {
            Shape::G0 => kind::WW,
            Shape::G1c => kind::WW | kind::WR,
            Shape::Any(mask) => mask & kind::DATA,
            _ => kind::DATA,
        }
    }

    fn tracks_last_rw(&self) -> bool {
        matches!(self.shape, Shape::GNonadjacent | Shape::AnyNonadjacent)
    }

    /// Automaton states per node.
    fn stride(&self) -> usize {
        if self.tracks_last_rw() {
            8
        } else if self.require_special {
            2
        } else {
            1
        }
    }

    /// The fewest steps a cycle of this shape can have: a search stops when it finds one.
    fn shortest_possible(&self) -> usize {
        match self.shape {
            Shape::GNonadjacent => 4,
            _ => 2,
        }
    }

    /// The state after taking a step of `kind` from state `st`, or `None` if the shape
    /// forbids it. `first`: the step leaves the start.
    #[inline]
    fn advance(&self, st: u8, first: bool, kind: StepKind, derived: bool) -> Option<u8> {
        let special = match kind {
            StepKind::Process => {
                if self.scope != Scope::Process {
                    return None;
                }
                true
            }
            StepKind::Realtime => {
                if self.scope != Scope::Realtime {
                    return None;
                }
                true
            }
            data => {
                let bit = match data {
                    StepKind::Ww => kind::WW,
                    StepKind::Wr => kind::WR,
                    _ => kind::RW,
                };
                if self.data_kinds() & bit == 0 || (derived && self.scope != Scope::Realtime) {
                    return None;
                }
                derived
            }
        };
        let rw = kind == StepKind::Rw;
        if first {
            let ok = match self.shape {
                Shape::G1c => kind == StepKind::Wr,
                Shape::GSingle | Shape::GNonadjacent | Shape::G2Item => rw,
                _ => true,
            };
            if !ok {
                return None;
            }
        } else {
            match self.shape {
                Shape::GSingle if rw => return None,
                Shape::GNonadjacent | Shape::AnyNonadjacent if rw && st & LAST_RW != 0 => {
                    return None
                }
                _ => {}
            }
        }
        let mut next = st;
        if special && self.require_special {
            next |= SPECIAL;
        }
        if self.tracks_last_rw() {
            next = if rw { next | LAST_RW } else { next & !LAST_RW };
            match self.shape {
                Shape::GNonadjacent if rw && !first => next |= MARK,
                Shape::AnyNonadjacent if rw && first => next |= MARK,
                _ => {}
            }
        }
        Some(next)
    }

    /// Whether a step of `kind` from state `st` back to the start closes a cycle of the shape.
    #[inline]
    fn closes(&self, st: u8, kind: StepKind, derived: bool) -> bool {
        let Some(end) = self.advance(st, false, kind, derived) else {
            return false;
        };
        if self.require_special && end & SPECIAL == 0 {
            return false;
        }
        let rw = kind == StepKind::Rw;
        match self.shape {
            Shape::G2Item => rw,
            Shape::GNonadjacent => !rw && end & MARK != 0,
            Shape::AnyNonadjacent => !(rw && end & MARK != 0),
            _ => true,
        }
    }

    /// Whether transaction `v` (with these out-edge kinds) can start a cycle of the shape.
    fn can_start(&self, kinds_out: u8) -> bool {
        match self.shape {
            Shape::G1c => kinds_out & kind::WR != 0,
            Shape::GSingle | Shape::GNonadjacent | Shape::G2Item => kinds_out & kind::RW != 0,
            _ => true,
        }
    }
}

const SPECIAL: u8 = 1;
const LAST_RW: u8 = 2;
/// G-nonadjacent: a second anti-dependency was taken. Any-nonadjacent: the first step was one.
const MARK: u8 = 4;

const ROOT: u32 = u32::MAX;

/// Reusable buffers for cycle searches over one graph.
pub struct CycleSearch<'a> {
    graph: &'a Graph,
    txns: &'a Txns,
    /// Global transaction to its index in the current region, valid when `stamp` matches.
    local: Vec<u32>,
    stamp: Vec<u32>,
    generation: u32,
    /// The region's transactions, sorted: also their invocation order.
    members: Vec<u32>,
    invoked: Vec<u64>,
    seen: Vec<u32>,
    epoch: u32,
    parent: Vec<u32>,
    via: Vec<u8>,
}

/// Edges examined so far, against a limit.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub spent: u64,
    pub limit: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget { spent: 0, limit }
    }

    pub fn exhausted(&self) -> bool {
        self.spent >= self.limit
    }
}

impl<'a> CycleSearch<'a> {
    pub fn new(graph: &'a Graph, txns: &'a Txns) -> CycleSearch<'a> {
        let n = graph.nodes();
        CycleSearch {
            graph,
            txns,
            local: vec![0; n],
            stamp: vec![0; n],
            generation: 0,
            members: Vec::new(),
            invoked: Vec::new(),
            seen: Vec::new(),
            epoch: 0,
            parent: Vec::new(),
            via: Vec::new(),
        }
    }

    /// Restricts searches to `region` (transactions, sorted; other nodes are ignored).
    pub fn set_region(&mut self, region: &[u32]) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let n = self.graph.nodes() as u32;
        self.members.clear();
        self.members
            .extend(region.iter().copied().filter(|&v| v < n));
        self.invoked.clear();
        for (i, &v) in self.members.iter().enumerate() {
            self.local[v as usize] = i as u32;
            self.stamp[v as usize] = self.generation;
            self.invoked.push(self.txns.txns[v as usize].invoked_at);
        }
    }

    pub fn region(&self) -> &[u32] {
        &self.members
    }

    #[inline]
    fn local_of(&self, v: u32) -> Option<u32> {
        (self.stamp[v as usize] == self.generation).then(|| self.local[v as usize])
    }

    /// The shortest closed walk of `pattern` found in the region within `budget`, trying starts
    /// in order. A closed walk may pass a transaction twice (in different automaton states);
    /// [`simple_cycles`] splits it.
    pub fn find(
        &mut self,
        pattern: Pattern,
        budget: &mut Budget,
        first_only: bool,
    ) -> Option<Vec<Step>> {
        let stride = pattern.stride();
        let m = self.members.len();
        if self.seen.len() < m * stride {
            self.seen.resize(m * stride, 0);
            self.parent.resize(m * stride, 0);
            self.via.resize(m * stride, 0);
        }
        let mut best: Option<Vec<Step>> = None;
        for start in 0..m as u32 {
            if budget.exhausted() {
                break;
            }
            if best
                .as_ref()
                .is_some_and(|b| b.len() <= pattern.shortest_possible())
            {
                break;
            }
            let global = self.members[start as usize];
            let (targets, kinds) = self.graph.out(global);
            let out = targets
                .iter()
                .zip(kinds)
                .filter(|(t, _)| self.local_of(**t).is_some())
                .fold(0u8, |acc, (_, k)| acc | k);
            if !pattern.can_start(out) {
                continue;
            }
            let limit = best.as_ref().map_or(usize::MAX, Vec::len);
            if let Some(walk) = self.bfs(pattern, start, limit, budget) {
                if best.as_ref().is_none_or(|b| walk.len() < b.len()) {
                    best = Some(walk);
                }
                if first_only {
                    break;
                }
            }
        }
        best
    }

    /// Breadth-first search from `start` back to itself; only walks shorter than `limit`.
    fn bfs(
        &mut self,
        pattern: Pattern,
        start: u32,
        limit: usize,
        budget: &mut Budget,
    ) -> Option<Vec<Step>> {
        let stride = pattern.stride();
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.epoch = 1;
        }
        let epoch = self.epoch;
        let m = self.members.len() as u32;
        // Per automaton state: the start of the suffix of the region already reached by a
        // real-time step from that state.
        let mut swept = [m; 8];
        let mut frontier: Vec<(u32, u8)> = vec![(start, 0)];
        let mut next: Vec<(u32, u8)> = Vec::new();
        let mut depth = 0usize;
        let mut first = true;
        while !frontier.is_empty() {
            // A closing step now makes a walk of depth + 1 steps.
            if depth + 1 >= limit {
                return None;
            }
            for &(v, st) in &frontier {
                if budget.exhausted() {
                    return None;
                }
                let global = self.members[v as usize];
                let (targets, kinds) = self.graph.out(global);
                budget.spent += targets.len() as u64 + 1;
                for (&t, &k) in targets.iter().zip(kinds) {
                    let Some(w) = self.local_of(t) else { continue };
                    let derived = k & kind::DERIVED != 0;
                    for step in step_kinds(k) {
                        if w == start {
                            if !first && pattern.closes(st, step, derived) {
                                return Some(self.walk(pattern, start, v, st, step, derived));
                            }
                            continue;
                        }
                        let Some(st2) = pattern.advance(st, first, step, derived) else {
                            continue;
                        };
                        self.reach(
                            w, st2, v, st, step, derived, first, stride, epoch, &mut next,
                        );
                    }
                }
                if pattern.scope == Scope::Realtime {
                    let txn = &self.txns.txns[global as usize];
                    if txn.committed() && txn.completed_at != NEVER {
                        let from = self.invoked.partition_point(|&i| i <= txn.completed_at) as u32;
                        // The start's own steps are first steps, which the automaton treats
                        // apart: they sweep without marking.
                        let sweep_end = if first { m } else { swept[st as usize] };
                        if from < sweep_end {
                            if !first {
                                swept[st as usize] = from;
                            }
                            budget.spent += (sweep_end - from) as u64;
                            for w in from..sweep_end {
                                if w == start {
                                    if !first && pattern.closes(st, StepKind::Realtime, false) {
                                        return Some(self.walk(
                                            pattern,
                                            start,
                                            v,
                                            st,
                                            StepKind::Realtime,
                                            false,
                                        ));
                                    }
                                    continue;
                                }
                                let Some(st2) =
                                    pattern.advance(st, first, StepKind::Realtime, false)
                                else {
                                    continue;
                                };
                                self.reach(
                                    w,
                                    st2,
                                    v,
                                    st,
                                    StepKind::Realtime,
                                    false,
                                    first,
                                    stride,
                                    epoch,
                                    &mut next,
                                );
                            }
                        }
                    }
                }
            }
            std::mem::swap(&mut frontier, &mut next);
            next.clear();
            depth += 1;
            first = false;
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn reach(
        &mut self,
        w: u32,
        st2: u8,
        v: u32,
        st: u8,
        step: StepKind,
        derived: bool,
        first: bool,
        stride: usize,
        epoch: u32,
        next: &mut Vec<(u32, u8)>,
    ) {
        let slot = w as usize * stride + st2 as usize;
        if self.seen[slot] == epoch {
            return;
        }
        self.seen[slot] = epoch;
        self.parent[slot] = if first {
            ROOT
        } else {
            v * stride as u32 + st as u32
        };
        self.via[slot] = step.code() | if derived { 8 } else { 0 };
        next.push((w, st2));
    }

    /// The walk that ends with the step `kind` from `(v, st)` back to `start`.
    fn walk(
        &self,
        pattern: Pattern,
        start: u32,
        v: u32,
        st: u8,
        kind: StepKind,
        derived: bool,
    ) -> Vec<Step> {
        let stride = pattern.stride() as u32;
        let g = |local: u32| self.members[local as usize];
        let mut steps = vec![Step {
            from: g(v),
            to: g(start),
            kind,
            derived,
        }];
        let mut slot = v * stride + st as u32;
        loop {
            let node = slot / stride;
            let code = self.via[slot as usize];
            let parent = self.parent[slot as usize];
            let from = if parent == ROOT {
                start
            } else {
                parent / stride
            };
            steps.push(Step {
                from: g(from),
                to: g(node),
                kind: StepKind::from_code(code),
                derived: code & 8 != 0,
            });
            if parent == ROOT {
                break;
            }
            slot = parent;
        }
        steps.reverse();
        steps
    }
}

/// The kinds a step along an edge with these kind bits can be, data kinds first in the order
/// that keeps anti-dependencies for last.
#[inline]
fn step_kinds(k: u8) -> impl Iterator<Item = StepKind> {
    [
        (kind::WW, StepKind::Ww),
        (kind::WR, StepKind::Wr),
        (kind::RW, StepKind::Rw),
        (kind::PROCESS, StepKind::Process),
    ]
    .into_iter()
    .filter(move |(bit, _)| k & bit != 0)
    .map(|(_, s)| s)
}

/// Splits a closed walk into simple cycles (each transaction once), in order of where they
/// close along the walk.
pub fn simple_cycles(walk: &[Step]) -> Vec<Vec<Step>> {
    let mut cycles = Vec::new();
    let mut path: Vec<Step> = Vec::new();
    for &step in walk {
        path.push(step);
        // Does the path now return to a transaction it left earlier?
        if let Some(pos) = path.iter().position(|s| s.from == step.to) {
            cycles.push(path.split_off(pos));
        }
    }
    cycles
}

/// The anomaly class of a cycle, from the edges it uses (Adya; Elle's naming): the data class
/// (G0, G1c, G-single, G-nonadjacent, G2-item) with `-process` when a step rests on process
/// order and `-realtime` when one rests on real-time order.
pub fn classify(cycle: &[Step]) -> crate::anomaly::AnomalyKind {
    use crate::anomaly::{AnomalyKind, CycleClass, Variant};
    let rw = cycle.iter().filter(|s| s.kind == StepKind::Rw).count();
    let wr = cycle.iter().any(|s| s.kind == StepKind::Wr);
    let n = cycle.len();
    let adjacent =
        (0..n).any(|i| cycle[i].kind == StepKind::Rw && cycle[(i + 1) % n].kind == StepKind::Rw);
    let class = match rw {
        0 if wr => CycleClass::G1c,
        0 => CycleClass::G0,
        1 => CycleClass::GSingle,
        _ if adjacent => CycleClass::G2Item,
        _ => CycleClass::GNonadjacent,
    };
    let variant = if cycle
        .iter()
        .any(|s| s.kind == StepKind::Realtime || s.derived)
    {
        Variant::Realtime
    } else if cycle.iter().any(|s| s.kind == StepKind::Process) {
        Variant::Process
    } else {
        Variant::Data
    };
    AnomalyKind::Cycle(class, variant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::{AnomalyKind, CycleClass, Variant};

    fn step(from: u32, to: u32, kind: StepKind) -> Step {
        Step {
            from,
            to,
            kind,
            derived: false,
        }
    }

    #[test]
    fn classification_follows_the_edges() {
        use StepKind::*;
        let cases = [
            (vec![step(0, 1, Ww), step(1, 0, Ww)], CycleClass::G0),
            (vec![step(0, 1, Ww), step(1, 0, Wr)], CycleClass::G1c),
            (vec![step(0, 1, Rw), step(1, 0, Wr)], CycleClass::GSingle),
            (vec![step(0, 1, Rw), step(1, 0, Rw)], CycleClass::G2Item),
            (
                vec![
                    step(0, 1, Rw),
                    step(1, 2, Wr),
                    step(2, 3, Rw),
                    step(3, 0, Ww),
                ],
                CycleClass::GNonadjacent,
            ),
        ];
        for (cycle, class) in cases {
            assert_eq!(classify(&cycle), AnomalyKind::Cycle(class, Variant::Data));
        }
        assert_eq!(
            classify(&[step(0, 1, Ww), step(1, 0, Realtime)]),
            AnomalyKind::Cycle(CycleClass::G0, Variant::Realtime)
        );
        assert_eq!(
            classify(&[step(0, 1, Rw), step(1, 0, Process)]),
            AnomalyKind::Cycle(CycleClass::GSingle, Variant::Process)
        );
    }

    #[test]
    fn closed_walks_split_into_simple_cycles() {
        use StepKind::*;
        // 0 -> 1 -> 2 -> 1 -> 0
        let walk = [
            step(0, 1, Ww),
            step(1, 2, Rw),
            step(2, 1, Rw),
            step(1, 0, Wr),
        ];
        let cycles = simple_cycles(&walk);
        assert_eq!(cycles.len(), 2);
        assert_eq!(cycles[0], vec![step(1, 2, Rw), step(2, 1, Rw)]);
        assert_eq!(cycles[1], vec![step(0, 1, Ww), step(1, 0, Wr)]);
    }
}
