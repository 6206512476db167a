//! The unique-values procedure: deciding a register partition whose written values are all
//! distinct, in O(n log n), where the generic search is exponential in the number of concurrent
//! operations.
//!
//! It applies to a partition of a register model (see [`Model::register_access`]: `register`,
//! `cas-register`, each key of `kv` without appends) in which every write's value and every
//! cas's new value is written by one operation only and differs from the initial value. Failed
//! operations are not in a partition (they did not happen); a read whose result is unknown is
//! not either. Anything else (a value written twice, an append) is left to the generic search,
//! with the reason.
//!
//! # Why it is exact
//!
//! With unique values, every read of `v` (and every cas expecting `v`) names the one operation
//! that wrote `v`, so in any linearization it comes after that write and before whatever next
//! changes the value: a successful cas expecting `v`, of which there can be only one, since
//! `v` never comes back. Following these links from each plain write (and from the initial
//! value) gives a *chain*: the write, the reads of its value, the cas that replaced it, the
//! reads of the cas's value, and so on. This is Gibbons & Korach's "write clusters" (Testing
//! shared memories, SIAM J. Comput. 1997) extended to cas. Then:
//!
//! 1. Which operations must be placed: every `ok` one, and an indeterminate (`info`, never
//!    completed) write or cas only if an operation that must be placed needed its value. One
//!    that nothing needed may be left out of any linearization: only left-out operations could
//!    have seen its value.
//! 2. Inside a linearization, a chain's operations are contiguous, in the chain's order: any
//!    other operation in between would leave a value the chain's next operation cannot see
//!    (it is never written again). Reads of one value may take any order among themselves.
//! 3. So the partition is linearizable exactly when (a) every needed value was written (or is
//!    the initial value) and replaced by at most one cas, and no cas chain loops; (b) inside
//!    each chain, no operation completed before an earlier one in the chain's order began;
//!    (c) the chain of the initial value can go first; (d) the chains can be ordered so that
//!    none has an operation that completed before an operation of an earlier chain began.
//! 4. (d) is a topological order of "chain C must precede chain D when some operation of C
//!    completed before some operation of D began": C precedes D when min-return(C) <
//!    max-invoke(D). Repeatedly taking a chain nothing remaining must precede (Kahn's
//!    algorithm, with two heaps) finds an order, or gets stuck; when it is stuck, the chain G
//!    with the earliest min-return and the one with the next earliest, G2, must each precede
//!    the other: a two-chain cycle, Gibbons & Korach's overlapping zones.
//!
//! Every answer is checked before it is given. A "linearizable" answer comes with the
//! linearization, replayed through [`Model::step`] and checked against real time (every ok
//! operation placed once, none after an operation that completed before it began). A "not
//! linearizable" answer comes with a handful of operations that alone have no linearization
//! for the same reason; they are decided again by this procedure and, when few, by the generic
//! search. If either check fails the procedure declines and the generic search decides: a
//! wrong verdict is worse than a slow one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use photofinish_history::{History, Value};

use super::{generic_search_agrees, in_real_time, positions, Conflict, Decision, NEVER};
use crate::model::{Model, RegisterAccess};
use crate::search::budget::Budget;
use crate::search::partition::Partition;

const NONE: u32 = u32::MAX;
/// The value id of the initial value.
const INIT: u32 = 0;

/// Whether the procedure can apply to `model`'s partitions at all.
pub(crate) fn applies<M: Model>(model: &M) -> bool {
    model.register_value(&model.init()).is_some()
}

/// Decides `part`, or says why the procedure does not apply to it. `budget` bounds the
/// cross-check of a counterexample by the generic search.
pub(crate) fn decide<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    budget: &Budget,
) -> Decision {
    let registers = match Registers::new(model, history, part) {
        Ok(registers) => registers,
        Err(why) => return Decision::NotApplicable(why),
    };
    match registers.decide() {
        Ok(order) if certifies(model, part, &order) => Decision::Linearizable,
        Ok(_) => Decision::NotApplicable(
            "its linearization failed the replay check (a bug: please report it)".to_string(),
        ),
        Err(conflict) if confirms(model, history, part, &conflict, budget) => {
            Decision::NotLinearizable(conflict)
        }
        Err(_) => Decision::NotApplicable(
            "its counterexample failed the cross-check (a bug: please report it)".to_string(),
        ),
    }
}

/// Whether `order` is a linearization of `part`: every operation that completed ok placed
/// once, each a legal step of the model from its initial state, and none placed after an
/// operation that completed before it began.
fn certifies<M: Model>(model: &M, part: &Partition<M::Op>, order: &[u32]) -> bool {
    if !in_real_time(part, order) {
        return false;
    }
    let mut state = model.init();
    for &o in order {
        match model.step(&state, &part.ops[o as usize].op) {
            Some(next) => state = next,
            None => return false,
        }
    }
    true
}

/// Whether the conflict's witness, alone, has no linearization: decided again by this
/// procedure, and by the generic search when it is small.
fn confirms<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    conflict: &Conflict,
    budget: &Budget,
) -> bool {
    if conflict.witness.binary_search(&conflict.stuck).is_err() {
        return false;
    }
    let witness = part.subset(&conflict.witness);
    let Ok(registers) = Registers::new(model, history, &witness) else {
        return false;
    };
    if registers.decide().is_ok() {
        return false;
    }
    generic_search_agrees(model, &witness, budget)
}

/// The partition in register terms.
struct Registers<'a, M: Model> {
    history: &'a History,
    part: &'a Partition<M::Op>,
    init: Value,
    model: &'a M,
    /// What each operation does; its values are in `needs` and `leaves` (the values
    /// themselves, for messages, from [`Registers::access`]).
    kinds: Vec<Kind>,
    /// Event positions; `NEVER` for an operation that never returns.
    invoked: Vec<u32>,
    returned: Vec<u32>,
    /// The value id each operation needs the register to hold (a read's value, a cas's
    /// expected one), or `NONE` (a write).
    needs: Vec<u32>,
    /// The value id each operation leaves (a write's, a cas's new one), or `NONE` (a read).
    leaves: Vec<u32>,
    /// Per value id: the one operation that writes it (`NONE` for the initial value and for
    /// values nothing wrote).
    writer: Vec<u32>,
    /// The values, for messages: value id `v > 0` is `values[v - 1]`.
    values: Vec<&'a Value>,
}

/// What a register operation does, without its values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    Cas,
}

/// A chain: a write (or the initial value), the reads of its value, the cas that replaced it,
/// the reads of that value, and so on, in the order they must take.
struct Chain {
    /// Its operations: a range of the one vector all chains share (see [`ChainOps`]).
    ops: std::ops::Range<usize>,
    /// Its first operation.
    head: u32,
    /// The latest invocation among its operations, and that operation.
    last_invoked: (u32, u32),
    /// The earliest return among its operations, and that operation.
    first_returned: (u32, u32),
}

/// The operations of every chain, one after the other, and room to mark where a chain's
/// blocks start while it is built: one allocation for all chains instead of two per chain.
#[derive(Default)]
struct ChainOps {
    all: Vec<u32>,
    starts: Vec<usize>,
}

/// Which operations must be placed, and the value clusters they form.
struct Clusters {
    /// Per operation: the operation that needed its value, for an indeterminate operation that
    /// must be placed because of it; `NONE` otherwise.
    needed_by: Vec<u32>,
    /// Per value id `v`: the reads of it that must be placed, in order of invocation, are
    /// `reader_ops[reader_start[v]..reader_start[v + 1]]`. One flat vector rather than one per
    /// value: a history of 10^6 events has half a million values.
    reader_start: Vec<u32>,
    reader_ops: Vec<u32>,
    /// Per value id: the cas that replaced it, if one must be placed.
    replaced_by: Vec<u32>,
}

impl Clusters {
    /// The reads of value `v` that must be placed, in order of invocation.
    fn readers(&self, v: u32) -> &[u32] {
        let (start, end) = (
            self.reader_start[v as usize],
            self.reader_start[v as usize + 1],
        );
        &self.reader_ops[start as usize..end as usize]
    }
}

impl<'a, M: Model> Registers<'a, M> {
    fn new(
        model: &'a M,
        history: &'a History,
        part: &'a Partition<M::Op>,
    ) -> Result<Registers<'a, M>, String> {
        let init_state = model.init();
        let init = model
            .register_value(&init_state)
            .ok_or("the model is not a register")?
            .clone();
        let n = part.ops.len();
        let (invoked, returned) = positions(part);
        let mut ids: FxHashMap<&'a Value, u32> = FxHashMap::default();
        let mut values: Vec<&'a Value> = Vec::new();
        let mut needs = vec![NONE; n];
        let mut leaves = vec![NONE; n];
        let mut kinds = Vec::with_capacity(n);
        // A cas that expects what it writes: said after repeated values, the likelier reason.
        let mut same_cas: Option<&Value> = None;
        for (o, part_op) in part.ops.iter().enumerate() {
            let Some(access) = model.register_access(&part_op.op) else {
                return Err(format!(
                    "`{}` is no read, write or compare-and-set",
                    history.operations[part_op.history_id()].f.escape_debug()
                ));
            };
            let (kind, need, leave) = match access {
                RegisterAccess::Read(v) => (Kind::Read, Some(v), None),
                RegisterAccess::Write(v) => (Kind::Write, None, Some(v)),
                RegisterAccess::Cas { expected, new } => {
                    if expected == new && same_cas.is_none() {
                        same_cas = Some(new);
                    }
                    (Kind::Cas, Some(expected), Some(new))
                }
            };
            kinds.push(kind);
            for (slot, value) in [(&mut needs[o], need), (&mut leaves[o], leave)] {
                if let Some(v) = value {
                    *slot = if *v == init {
                        INIT
                    } else {
                        *ids.entry(v).or_insert_with(|| {
                            values.push(v);
                            values.len() as u32
                        })
                    };
                }
            }
        }
        let mut writes = vec![0u32; values.len() + 1];
        for &leave in &leaves {
            if leave != NONE {
                writes[leave as usize] += 1;
            }
        }
        if writes[INIT as usize] > 0 {
            let times = writes[INIT as usize];
            return Err(format!(
                "values repeat: the initial value {init} is written again ({times} time{})",
                if times == 1 { "" } else { "s" }
            ));
        }
        let repeated = writes.iter().filter(|&&w| w > 1).count();
        if let Some((most, &count)) = writes
            .iter()
            .enumerate()
            .filter(|(_, &w)| w > 1)
            .max_by_key(|(v, &w)| (w, Reverse(*v)))
        {
            return Err(format!(
                "values repeat: {count} writes of {}{}",
                values[most - 1],
                match repeated - 1 {
                    0 => String::new(),
                    1 => ", and 1 other value is written more than once".to_string(),
                    more => format!(", and {more} other values are written more than once"),
                }
            ));
        }
        if let Some(v) = same_cas {
            return Err(format!("a cas writes the value it expects ({v})"));
        }
        let mut writer = vec![NONE; values.len() + 1];
        for (o, &leave) in leaves.iter().enumerate() {
            if leave != NONE {
                writer[leave as usize] = o as u32;
            }
        }
        Ok(Registers {
            history,
            part,
            init,
            model,
            kinds,
            invoked,
            returned,
            needs,
            leaves,
            writer,
            values,
        })
    }

    /// What operation `o` does, with its values.
    fn access(&self, o: u32) -> RegisterAccess<'a> {
        self.model
            .register_access(&self.part.ops[o as usize].op)
            .expect("every operation was found to be a register access when the partition was read")
    }

    fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Decides the partition: a linearization of every operation that must be placed, or why
    /// there is none.
    fn decide(&self) -> Result<Vec<u32>, Conflict> {
        let clusters = self.clusters()?;
        let mut visited = vec![false; self.values.len() + 1];
        let mut ops = ChainOps::default();
        let init_chain =
            if !clusters.readers(INIT).is_empty() || clusters.replaced_by[INIT as usize] != NONE {
                Some(self.chain(None, INIT, &clusters, &mut visited, &mut ops)?)
            } else {
                None
            };
        let mut chains = Vec::new();
        for o in 0..self.len() as u32 {
            if self.must_place(o, &clusters) && self.kinds[o as usize] == Kind::Write {
                chains.push(self.chain(
                    Some(o),
                    self.leaves[o as usize],
                    &clusters,
                    &mut visited,
                    &mut ops,
                )?);
            }
        }
        // A cas that must be placed but no chain reached: its value was written by a cas that
        // expected a value only a later cas of the loop wrote.
        for o in 0..self.len() as u32 {
            if self.must_place(o, &clusters)
                && self.kinds[o as usize] == Kind::Cas
                && !visited[self.leaves[o as usize] as usize]
            {
                return Err(self.cas_loop(o, &clusters));
            }
        }
        let mut order = Vec::with_capacity(self.len());
        if let Some(first) = &init_chain {
            if let Some(other) = chains.iter().min_by_key(|c| c.first_returned.0) {
                if other.first_returned.0 < first.last_invoked.0 {
                    return Err(self.initial_value_late(first, other, &clusters));
                }
            }
            order.extend(&ops.all[first.ops.clone()]);
        }
        self.order_chains(&chains, &ops, order, &clusters)
    }

    fn must_place(&self, o: u32, clusters: &Clusters) -> bool {
        !self.part.ops[o as usize].indeterminate || clusters.needed_by[o as usize] != NONE
    }

    /// Which operations must be placed, and the clusters of each value.
    fn clusters(&self) -> Result<Clusters, Conflict> {
        let n = self.len();
        let mut needed_by = vec![NONE; n];
        let mut determinate: Vec<u32> = (0..n as u32)
            .filter(|&o| !self.part.ops[o as usize].indeterminate)
            .collect();
        determinate.sort_by_key(|&o| self.returned[o as usize]);
        for &o in &determinate {
            let need = self.needs[o as usize];
            if need != NONE && need != INIT && self.writer[need as usize] == NONE {
                return Err(self.never_written(o, &needed_by));
            }
        }
        let mut placed = vec![false; n];
        for &o in &determinate {
            placed[o as usize] = true;
        }
        let mut stack = determinate;
        while let Some(o) = stack.pop() {
            let need = self.needs[o as usize];
            if need == NONE || need == INIT {
                continue;
            }
            let w = self.writer[need as usize];
            if w == NONE {
                return Err(self.never_written(o, &needed_by));
            }
            if !placed[w as usize] {
                placed[w as usize] = true;
                needed_by[w as usize] = o;
                stack.push(w);
            }
        }
        let values = self.values.len() + 1;
        let is_placed_read = |o: usize| placed[o] && self.kinds[o] == Kind::Read;
        // Count the reads of each value, then lay them out value after value.
        let mut reader_start = vec![0u32; values + 1];
        for o in (0..n).filter(|&o| is_placed_read(o)) {
            reader_start[self.needs[o] as usize + 1] += 1;
        }
        for v in 0..values {
            reader_start[v + 1] += reader_start[v];
        }
        let mut fill = reader_start.clone();
        let mut reader_ops = vec![NONE; reader_start[values] as usize];
        for o in (0..n).filter(|&o| is_placed_read(o)) {
            let slot = &mut fill[self.needs[o] as usize];
            reader_ops[*slot as usize] = o as u32;
            *slot += 1;
        }
        let mut clusters = Clusters {
            needed_by,
            reader_start,
            reader_ops,
            replaced_by: vec![NONE; values],
        };
        for o in 0..n as u32 {
            if !placed[o as usize] {
                continue;
            }
            let need = self.needs[o as usize];
            if self.kinds[o as usize] == Kind::Cas {
                let earlier = clusters.replaced_by[need as usize];
                if earlier != NONE {
                    return Err(self.replaced_twice(earlier, o, &clusters));
                }
                clusters.replaced_by[need as usize] = o;
            }
        }
        for v in 0..values {
            let (start, end) = (clusters.reader_start[v], clusters.reader_start[v + 1]);
            clusters.reader_ops[start as usize..end as usize]
                .sort_unstable_by_key(|&o| self.invoked[o as usize]);
        }
        Ok(clusters)
    }

    /// The chain that starts with `head` (a write of `value`; `None` for the initial value),
    /// or the two of its operations that happened in the wrong order.
    fn chain(
        &self,
        head: Option<u32>,
        value: u32,
        clusters: &Clusters,
        visited: &mut [bool],
        chain_ops: &mut ChainOps,
    ) -> Result<Chain, Conflict> {
        // The operations in order, and where each block (operations that may take any order
        // among themselves) starts.
        let first = chain_ops.all.len();
        let (all, starts) = (&mut chain_ops.all, &mut chain_ops.starts);
        starts.clear();
        if let Some(w) = head {
            starts.push(all.len());
            all.push(w);
        }
        let mut v = value;
        while !visited[v as usize] {
            visited[v as usize] = true;
            let readers = clusters.readers(v);
            if !readers.is_empty() {
                starts.push(all.len());
                all.extend(readers);
            }
            let cas = clusters.replaced_by[v as usize];
            if cas == NONE {
                break;
            }
            starts.push(all.len());
            all.push(cas);
            v = self.leaves[cas as usize];
        }
        starts.push(all.len());
        let ops = &all[..];
        // Before each block: the latest invocation of the blocks before it.
        let mut latest: Option<(u32, u32)> = None;
        let mut first_returned = (NEVER, NONE);
        for bounds in starts.windows(2) {
            let block = &ops[bounds[0]..bounds[1]];
            if let Some((at, a)) = latest {
                if let Some(&b) = block
                    .iter()
                    .filter(|&&b| self.returned[b as usize] < at)
                    .min_by_key(|&&b| self.returned[b as usize])
                {
                    return Err(self.out_of_order(a, b, clusters));
                }
            }
            for &o in block {
                let (i, r) = (self.invoked[o as usize], self.returned[o as usize]);
                if latest.is_none_or(|(at, _)| i > at) {
                    latest = Some((i, o));
                }
                if r < first_returned.0 {
                    first_returned = (r, o);
                }
            }
        }
        Ok(Chain {
            ops: first..all.len(),
            head: all[first],
            last_invoked: latest.unwrap_or((0, NONE)),
            first_returned,
        })
    }

    /// Orders the chains (Kahn's algorithm): each time, a chain that no remaining chain must
    /// precede. Appends their operations to `order`.
    fn order_chains(
        &self,
        chains: &[Chain],
        chain_ops: &ChainOps,
        mut order: Vec<u32>,
        clusters: &Clusters,
    ) -> Result<Vec<u32>, Conflict> {
        type Heap = BinaryHeap<Reverse<(u32, usize)>>;
        let mut by_invoked: Heap = chains
            .iter()
            .enumerate()
            .map(|(i, c)| Reverse((c.last_invoked.0, i)))
            .collect();
        let mut by_returned: Heap = chains
            .iter()
            .enumerate()
            .map(|(i, c)| Reverse((c.first_returned.0, i)))
            .collect();
        let mut placed = vec![false; chains.len()];
        // The least entry of `heap` other than chain `not`, dropping placed chains on the way.
        let least_but = |heap: &mut Heap, placed: &[bool], not: usize| -> Option<(u32, usize)> {
            while heap.peek().is_some_and(|Reverse((_, i))| placed[*i]) {
                heap.pop();
            }
            let Reverse(top) = *heap.peek()?;
            if top.1 != not {
                return Some(top);
            }
            heap.pop();
            while heap.peek().is_some_and(|Reverse((_, i))| placed[*i]) {
                heap.pop();
            }
            let next = heap.peek().map(|Reverse(e)| *e);
            heap.push(Reverse(top));
            next
        };
        loop {
            // The chain whose first return is earliest: it must precede every chain with an
            // operation invoked after that return.
            let Some((first_return, g)) = least_but(&mut by_returned, &placed, usize::MAX) else {
                return Ok(order);
            };
            // Any other chain may go next if it was invoked entirely before that return.
            let next = match least_but(&mut by_invoked, &placed, g) {
                Some((invoked, i)) if invoked < first_return => i,
                _ => match least_but(&mut by_returned, &placed, g) {
                    // Or that chain itself, if it was invoked entirely before every other
                    // chain's first return. If not, the two must each precede the other.
                    Some((second_return, g2)) if chains[g].last_invoked.0 > second_return => {
                        return Err(self.chains_cross(&chains[g], &chains[g2], order, clusters));
                    }
                    _ => g,
                },
            };
            placed[next] = true;
            order.extend(&chain_ops.all[chains[next].ops.clone()]);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Conflicts.

    /// Operations that alone have no linearization for the same reason as the whole: `key`,
    /// with, for each, the write of the value it needs, and for an indeterminate one the
    /// operation that needed what it wrote (so that it must still be placed).
    fn witness(&self, key: &[u32], needed_by: &[u32]) -> Vec<u32> {
        let mut keep = vec![false; self.len()];
        let mut stack = key.to_vec();
        while let Some(o) = stack.pop() {
            if std::mem::replace(&mut keep[o as usize], true) {
                continue;
            }
            let need = self.needs[o as usize];
            if need != NONE && need != INIT && self.writer[need as usize] != NONE {
                stack.push(self.writer[need as usize]);
            }
            if needed_by[o as usize] != NONE {
                stack.push(needed_by[o as usize]);
            }
        }
        (0..self.len() as u32)
            .filter(|&o| keep[o as usize])
            .collect()
    }

    fn conflict(&self, stuck: u32, reason: String, key: &[u32], needed_by: &[u32]) -> Conflict {
        Conflict {
            stuck,
            reason,
            prefix: Vec::new(),
            witness: self.witness(key, needed_by),
            state_size: 1,
            shrink: true,
        }
    }

    fn never_written(&self, o: u32, needed_by: &[u32]) -> Conflict {
        let value = self.value(self.needs[o as usize]);
        let saw = match self.kinds[o as usize] {
            Kind::Read => "it read",
            _ => "it expected",
        };
        self.conflict(
            o,
            format!("{saw} {value}, which no operation wrote and which is not the initial value"),
            &[o],
            needed_by,
        )
    }

    fn replaced_twice(&self, earlier: u32, later: u32, clusters: &Clusters) -> Conflict {
        let (first, second) = if self.invoked[earlier as usize] < self.invoked[later as usize] {
            (earlier, later)
        } else {
            (later, earlier)
        };
        self.conflict(
            second,
            format!(
                "{} and {} both replaced {}, which was written only once",
                self.op(first, Moment::Began),
                self.op(second, Moment::Began),
                self.value(self.needs[second as usize])
            ),
            &[first, second],
            &clusters.needed_by,
        )
    }

    fn cas_loop(&self, start: u32, clusters: &Clusters) -> Conflict {
        let mut ring = vec![start];
        let mut o = start;
        while ring.len() <= self.len() {
            o = self.writer[self.needs[o as usize] as usize];
            if o == NONE || o == start {
                break;
            }
            ring.push(o);
        }
        let shown: Vec<String> = ring
            .iter()
            .take(3)
            .map(|&c| self.op(c, Moment::Began))
            .collect();
        self.conflict(
            start,
            format!(
                "{}{} each expected a value that only another of them wrote, so none of them can be first",
                shown.join(", "),
                if ring.len() > 3 {
                    format!(" and {} more compare-and-sets", ring.len() - 3)
                } else {
                    String::new()
                }
            ),
            &ring,
            &clusters.needed_by,
        )
    }

    /// `early` comes before `late` in their chain, yet `late` completed before `early` began.
    /// The operation that cannot be placed is the one whose constraint shows first: a read
    /// that must precede what replaced its value, or else an operation that depends on
    /// `early` (it saw or replaced a value only `early` leads to).
    fn out_of_order(&self, early: u32, late: u32, clusters: &Clusters) -> Conflict {
        let (stuck, reason) = if self.kinds[early as usize] == Kind::Read {
            (
                early,
                format!(
                    "{} must take effect before {} (each value is written once, so the register's values follow one order), but it began only after that one completed",
                    self.op(early, Moment::Began),
                    self.op(late, Moment::Completed),
                ),
            )
        } else {
            (
                late,
                format!(
                    "{} must take effect after {} (it saw or replaced a value that only follows that one), but it completed before that one began",
                    self.op(late, Moment::Completed),
                    self.op(early, Moment::Began),
                ),
            )
        };
        self.conflict(stuck, reason, &[early, late], &clusters.needed_by)
    }

    fn initial_value_late(&self, first: &Chain, other: &Chain, clusters: &Clusters) -> Conflict {
        let (late, early) = (first.last_invoked.1, other.first_returned.1);
        self.conflict(
            late,
            format!(
                "{} belongs before every write, with the initial value {} (which nothing writes again), yet {} completed before it began",
                self.op(late, Moment::Began),
                self.init,
                self.op(early, Moment::Completed),
            ),
            &[late, early],
            &clusters.needed_by,
        )
    }

    fn chains_cross(
        &self,
        g: &Chain,
        g2: &Chain,
        prefix: Vec<u32>,
        clusters: &Clusters,
    ) -> Conflict {
        let (a1, b1) = (g.first_returned.1, g2.last_invoked.1);
        let (a2, b2) = (g2.first_returned.1, g.last_invoked.1);
        debug_assert!(self.returned[a1 as usize] < self.invoked[b1 as usize]);
        debug_assert!(self.returned[a2 as usize] < self.invoked[b2 as usize]);
        let stuck = if self.invoked[b1 as usize] > self.invoked[b2 as usize] {
            b1
        } else {
            b2
        };
        let (x, y) = (self.head_value(g), self.head_value(g2));
        let mut conflict = self.conflict(
            stuck,
            format!(
                "the writes of {x} and {y} cannot be ordered: {} completed before {} began, and {} completed before {} began",
                self.op(a1, Moment::Completed),
                self.op(b1, Moment::Began),
                self.op(a2, Moment::Completed),
                self.op(b2, Moment::Began),
            ),
            &[a1, b1, a2, b2],
            &clusters.needed_by,
        );
        conflict.prefix = prefix;
        conflict
    }

    // ---------------------------------------------------------------------------------------
    // Words.

    fn value(&self, id: u32) -> String {
        if id == INIT {
            self.init.to_string()
        } else {
            self.values[id as usize - 1].to_string()
        }
    }

    fn head_value(&self, chain: &Chain) -> String {
        self.value(self.leaves[chain.head as usize])
    }

    /// "the `read` of 1 by process 3 (line 12)", the line of the invocation or completion.
    fn op(&self, o: u32, moment: Moment) -> String {
        let op = &self.history.operations[self.part.ops[o as usize].history_id()];
        let what = match self.access(o) {
            RegisterAccess::Read(v) | RegisterAccess::Write(v) => format!(" of {v}"),
            RegisterAccess::Cas { expected, new } => format!(" from {expected} to {new}"),
        };
        let line = match moment {
            Moment::Began => op.invoke_line,
            Moment::Completed => op.complete_line.unwrap_or(op.invoke_line),
        };
        format!(
            "the `{}`{what} by process {} (line {line})",
            op.f, op.process
        )
    }
}

#[derive(Clone, Copy)]
enum Moment {
    Began,
    Completed,
}
