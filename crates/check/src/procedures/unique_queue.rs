//! The unique-elements queue procedure: deciding a `queue` partition whose enqueued values are
//! all distinct, in O(n log n), where the generic search is exponential in the number of
//! concurrent enqueues still in the queue.
//!
//! It applies to a partition of a queue model (see [`Model::queue_access`]) in which no value
//! is enqueued twice, nor enqueued while it was in the queue from the start. Elements that no
//! dequeue returned may repeat: the model has made them anonymous, and nothing tells them
//! apart. Anything else is left to the generic search, with the reason.
//!
//! # Why it is exact
//!
//! With unique values, every ok dequeue of `x` names the one enqueue of `x`, and the queue's
//! order of elements is the order of their enqueues. The bad patterns of Henzinger et al.
//! (Aspect-oriented linearizability proofs, CONCUR 2013) and Emmi & Enea (Sound, complete,
//! and tractable linearizability monitoring for concurrent collections, POPL 2018) are checked
//! first, each with a witness of a few operations: a dequeue of a value never enqueued, a value
//! dequeued twice, a dequeue that completed before its enqueue began, and two elements whose
//! enqueues are ordered in real time and whose dequeues are ordered the other way.
//!
//! Then one sweep of the events in real-time order builds a linearization. Elements leave a
//! queue in the order they went in, so it builds that order, taking elements out one by one;
//! each element taken out went in at the earliest point it could: just after its enqueue began
//! and after every element taken out before it went in (and after every empty dequeue). The
//! next element taken out must have gone in before every element still in the queue whose
//! enqueue has completed: before the first of those *blockers* to complete. At each step it
//! makes a choice that an exchange argument shows is never worse than any other:
//!
//! 1. An element whose dequeue has begun is taken out at once by that dequeue if its enqueue
//!    began before the first blocker's completed. Taking it first only moves later elements'
//!    entry points later, and every one of them can still go in: its enqueue completes after
//!    the first blocker's, or has not completed yet.
//! 2. An empty dequeue takes effect as soon as no element is in the queue: no blocker whose
//!    dequeue returned it, and no more blockers no dequeue returned than indeterminate
//!    dequeues (`info`, or never completed) begun and not yet spent, which then take them out.
//!    Earlier is better: every element still to go in must go in after it.
//! 3. An element no ok dequeue returned (its enqueue completed ok, or it was in the queue from
//!    the start) stays for ever unless an indeterminate dequeue took it out: one may take effect
//!    at any point after it began, and removes the front. One is spent on the first blocker
//!    only when that blocker must leave before something that has begun (an element's dequeue
//!    it is ahead of, an empty dequeue), and it must leave in every linearization. Never
//!    earlier: any indeterminate dequeue begun so far will do as well later, and an element
//!    that never has to leave is better left, keeping the dequeue for one that will.
//! 4. An indeterminate enqueue of an element no dequeue returned is left out; one whose
//!    element a dequeue returned took effect, and is placed like any other, though it never
//!    completes.
//!
//! When the sweep reaches the completion of an operation it could not place (a dequeue whose
//! element is behind a blocker that cannot leave in time, an empty dequeue during which some
//! element had to be in the queue), the partition has no linearization.
//!
//! Every answer is checked before it is given. A "linearizable" answer comes with the
//! linearization, replayed (through [`Model::step`] itself when the queue stays small) and
//! checked against real time. A "not linearizable" answer comes with operations that alone
//! have no linearization, decided again by this procedure and, when few, by the generic search.
//! If either check fails the procedure declines and the generic search decides.

use std::collections::{BTreeSet, VecDeque};

use rustc_hash::FxHashMap;

use photofinish_history::{History, Value};

use super::{generic_search_agrees, in_real_time, positions, Conflict, Decision, NEVER};
use crate::model::{Model, QueueAccess};
use crate::search::budget::Budget;
use crate::search::partition::{PEvent, Partition};

const NONE: u32 = u32::MAX;

/// The most work (operations times the longest queue) for which a linearization is also
/// replayed through [`Model::step`], which copies the queue at every step.
const MODEL_REPLAY_WORK: usize = 10_000_000;

/// The most operations placed before a conflict for which the conflict carries them as the
/// prefix of a linearization, for the report to show the states before it.
const PREFIX_OPERATIONS: usize = 20_000;

/// Whether the procedure can apply to `model`'s partitions at all.
pub(crate) fn applies<M: Model>(model: &M) -> bool {
    model.queue_elements(&model.init()).is_some()
}

/// Decides `part`, or says why the procedure does not apply to it. `budget` bounds the
/// cross-check of a counterexample by the generic search.
pub(crate) fn decide<M: Model>(
    model: &M,
    history: &History,
    part: &Partition<M::Op>,
    budget: &Budget,
) -> Decision {
    let init_state = model.init();
    let Some(init) = model.queue_elements(&init_state) else {
        return Decision::NotApplicable("the model is not a queue".to_string());
    };
    let queues = match Queues::new(model, history, part, &init) {
        Ok(queues) => queues,
        Err(why) => return Decision::NotApplicable(why),
    };
    match queues.decide() {
        Ok(order) if queues.certifies(model, &init, &order) => Decision::Linearizable,
        Ok(_) => Decision::NotApplicable(
            "its linearization failed the replay check (a bug: please report it)".to_string(),
        ),
        Err(mut conflict) => {
            conflict.witness = queues.narrower(model, &init, &conflict);
            if queues.confirms(model, &init, &conflict, budget) {
                Decision::NotLinearizable(conflict)
            } else {
                Decision::NotApplicable(
                    "its counterexample failed the cross-check (a bug: please report it)"
                        .to_string(),
                )
            }
        }
    }
}

/// The fewest operations a counterexample narrowed to the latest ones starts from; each try
/// takes four times as many.
const NARROWEST: usize = 64;

/// An element that must go through the queue.
struct Element<'a> {
    /// `None` for an element no dequeue returned whose value the model forgot.
    value: Option<&'a Value>,
    /// Its enqueue; `NONE` for an element in the queue from the start.
    enq: u32,
    /// Its ok dequeue; `NONE` when no ok dequeue returned it.
    deq: u32,
}

/// The partition in queue terms.
struct Queues<'a, M: Model> {
    history: &'a History,
    part: &'a Partition<M::Op>,
    access: Vec<QueueAccess<'a>>,
    /// Event positions; `NEVER` for an operation that never returns.
    invoked: Vec<u32>,
    returned: Vec<u32>,
    /// The elements: first those in the queue from the start, in order.
    elements: Vec<Element<'a>>,
    initial: usize,
    /// Per operation: its element (an enqueue, an ok dequeue), or `NONE`.
    element_of: Vec<u32>,
    /// Ok dequeues of a value no element has; values dequeued more than once, with their
    /// dequeues.
    unknown: Vec<u32>,
    twice: Vec<(u32, Vec<u32>)>,
}

/// Where the sweep got stuck.
#[derive(Clone, Copy)]
enum Stuck {
    /// The dequeue of this element completed, and the element could not be taken.
    Dequeue(u32),
    /// This empty dequeue completed, and the queue could not have been empty since it began.
    Empty(u32),
}

/// The sweep's state.
struct Sweep {
    /// The event position being processed: where what is placed now takes effect.
    now: i64,
    /// Elements not yet taken out whose enqueue completed, in order of completion (those
    /// taken out since are skipped): every element taken out next must have gone in before
    /// the first of them.
    blockers: VecDeque<u32>,
    in_blockers: Vec<bool>,
    /// How many of the blockers an ok dequeue returned, and how many it did not.
    known_blockers: usize,
    unknown_blockers: usize,
    /// Per element: taken out of the queue.
    taken: Vec<bool>,
    /// Per element: its enqueue has begun, its dequeue has begun.
    enq_begun: Vec<bool>,
    deq_begun: Vec<bool>,
    /// Elements an ok dequeue returned whose enqueue and dequeue have both begun, not taken
    /// out: (enqueue invocation, element).
    ready: BTreeSet<(i64, u32)>,
    /// Empty dequeues begun and not placed; indeterminate dequeues begun and not spent.
    empties: Vec<u32>,
    tokens: Vec<u32>,
    /// The latest point at which an element taken out went in, or an empty dequeue took
    /// effect: every element still to go in goes in after it.
    last: i64,
    /// Per operation placed: (event position it takes effect just after, order of placing).
    points: Vec<(i64, u64, u32)>,
    placed: Vec<bool>,
}

impl<'a, M: Model> Queues<'a, M> {
    fn new(
        model: &'a M,
        history: &'a History,
        part: &'a Partition<M::Op>,
        init: &[Option<&'a Value>],
    ) -> Result<Queues<'a, M>, String> {
        let n = part.ops.len();
        let mut access = Vec::with_capacity(n);
        for o in &part.ops {
            match model.queue_access(&o.op) {
                Some(a) => access.push(a),
                None => {
                    return Err(format!(
                        "`{}` is no enqueue or dequeue",
                        history.operations[o.history_id()].f.escape_debug()
                    ))
                }
            }
        }
        let (invoked, returned) = positions(part);
        let mut elements: Vec<Element<'a>> = Vec::new();
        let mut by_value: FxHashMap<&'a Value, u32> = FxHashMap::default();
        let repeated = |v: &Value| format!("values repeat: {v} is enqueued more than once");
        for &value in init {
            if let Some(v) = value {
                if by_value.insert(v, elements.len() as u32).is_some() {
                    return Err(format!(
                        "values repeat: {v} is in the queue more than once at the start"
                    ));
                }
            }
            elements.push(Element {
                value,
                enq: NONE,
                deq: NONE,
            });
        }
        let initial = elements.len();
        let mut element_of = vec![NONE; n];
        for o in 0..n {
            if let QueueAccess::Enqueue(value) = access[o] {
                if let Some(v) = value {
                    if by_value.insert(v, elements.len() as u32).is_some() {
                        return Err(repeated(v));
                    }
                }
                element_of[o] = elements.len() as u32;
                elements.push(Element {
                    value,
                    enq: o as u32,
                    deq: NONE,
                });
            }
        }
        let mut unknown = Vec::new();
        let mut dequeues: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        for o in 0..n {
            if let QueueAccess::Dequeue(v) = access[o] {
                match by_value.get(v) {
                    Some(&x) => {
                        element_of[o] = x;
                        dequeues.entry(x).or_default().push(o as u32);
                    }
                    None => unknown.push(o as u32),
                }
            }
        }
        let mut twice = Vec::new();
        for (x, deqs) in dequeues {
            if deqs.len() > 1 {
                twice.push((x, deqs));
            } else {
                elements[x as usize].deq = deqs[0];
            }
        }
        twice.sort_unstable();
        Ok(Queues {
            history,
            part,
            access,
            invoked,
            returned,
            elements,
            initial,
            element_of,
            unknown,
            twice,
        })
    }

    /// An element's enqueue invocation and return, on a time line where the elements in the
    /// queue from the start were enqueued one after the other before anything else.
    fn enq_span(&self, x: u32) -> (i64, i64) {
        let e = &self.elements[x as usize];
        if e.enq == NONE {
            let at = 2 * x as i64 - 2 * self.initial as i64 - 2;
            return (at, at + 1);
        }
        let ret = self.returned[e.enq as usize];
        (
            self.invoked[e.enq as usize] as i64,
            if ret == NEVER { i64::MAX } else { ret as i64 },
        )
    }

    /// Decides the partition: a linearization of every operation that must be placed, or why
    /// there is none.
    fn decide(&self) -> Result<Vec<u32>, Conflict> {
        self.bad_patterns()?;
        let nx = self.elements.len();
        let mut sweep = Sweep {
            now: i64::MIN / 2,
            blockers: VecDeque::new(),
            in_blockers: vec![false; nx],
            known_blockers: 0,
            unknown_blockers: 0,
            taken: vec![false; nx],
            enq_begun: vec![false; nx],
            deq_begun: vec![false; nx],
            ready: BTreeSet::new(),
            empties: Vec::new(),
            tokens: Vec::new(),
            last: i64::MIN / 2,
            points: Vec::with_capacity(self.access.len()),
            placed: vec![false; self.access.len()],
        };
        for x in 0..self.initial as u32 {
            sweep.enq_begun[x as usize] = true;
            self.block(&mut sweep, x);
        }
        for (pos, event) in self.part.events.iter().enumerate() {
            sweep.now = pos as i64;
            match *event {
                PEvent::Invoke(o) => {
                    let x = self.element_of[o as usize];
                    match self.access[o as usize] {
                        QueueAccess::Enqueue(_) => sweep.enq_begun[x as usize] = true,
                        QueueAccess::Dequeue(_) => sweep.deq_begun[x as usize] = true,
                        QueueAccess::DequeueEmpty => sweep.empties.push(o),
                        QueueAccess::DequeueUnknown => sweep.tokens.push(o),
                    }
                    if x != NONE
                        && self.elements[x as usize].deq != NONE
                        && sweep.enq_begun[x as usize]
                        && sweep.deq_begun[x as usize]
                        && !sweep.taken[x as usize]
                    {
                        sweep.ready.insert((self.enq_span(x).0, x));
                    }
                }
                PEvent::Return(o) => {
                    let x = self.element_of[o as usize];
                    match self.access[o as usize] {
                        QueueAccess::Enqueue(_) if !sweep.taken[x as usize] => {
                            self.block(&mut sweep, x)
                        }
                        QueueAccess::Dequeue(_) if !sweep.taken[x as usize] => {
                            return Err(self.stuck(&sweep, Stuck::Dequeue(x)));
                        }
                        QueueAccess::DequeueEmpty if !sweep.placed[o as usize] => {
                            return Err(self.stuck(&sweep, Stuck::Empty(o)));
                        }
                        _ => {}
                    }
                }
            }
            self.settle(&mut sweep);
        }
        // The elements nothing took out stay, behind all the others.
        let staying: Vec<u32> = sweep.blockers.iter().copied().collect();
        for u in staying {
            if !sweep.taken[u as usize] {
                let enq = self.elements[u as usize].enq;
                if enq != NONE {
                    let at = sweep.last.max(self.enq_span(u).0);
                    self.place(&mut sweep, enq, at);
                }
            }
        }
        let mut points = sweep.points;
        points.sort_unstable();
        Ok(points.into_iter().map(|(_, _, o)| o).collect())
    }

    /// `x`'s enqueue completed (or it was there from the start), and nothing took it out yet.
    fn block(&self, sweep: &mut Sweep, x: u32) {
        sweep.blockers.push_back(x);
        sweep.in_blockers[x as usize] = true;
        if self.elements[x as usize].deq != NONE {
            sweep.known_blockers += 1;
        } else {
            sweep.unknown_blockers += 1;
        }
    }

    /// Places operation `o` to take effect just after event position `at`, after everything
    /// placed there before it.
    fn place(&self, sweep: &mut Sweep, o: u32, at: i64) {
        let order = sweep.points.len() as u64;
        sweep.points.push((at, order, o));
        sweep.placed[o as usize] = true;
    }

    /// Takes `x` out of the queue now, by `deq` (its own dequeue, or an indeterminate one): it
    /// went in as early as it could, after every element taken out before it.
    fn take(&self, sweep: &mut Sweep, x: u32, deq: u32) {
        let e = &self.elements[x as usize];
        let went_in = sweep.last.max(self.enq_span(x).0);
        if e.enq != NONE {
            self.place(sweep, e.enq, went_in);
        }
        self.place(sweep, deq, sweep.now);
        sweep.last = went_in;
        sweep.taken[x as usize] = true;
        if sweep.in_blockers[x as usize] {
            if e.deq != NONE {
                sweep.known_blockers -= 1;
            } else {
                sweep.unknown_blockers -= 1;
            }
        }
    }

    /// The first blocker not taken out yet.
    fn front(&self, sweep: &mut Sweep) -> Option<u32> {
        while let Some(&b) = sweep.blockers.front() {
            if sweep.taken[b as usize] {
                sweep.blockers.pop_front();
            } else {
                return Some(b);
            }
        }
        None
    }

    /// Places whatever can take effect now, as the module doc says.
    fn settle(&self, sweep: &mut Sweep) {
        loop {
            let front = self.front(sweep);
            let bound = front.map_or(i64::MAX, |f| self.enq_span(f).1);
            // A dequeue whose element can be at the front.
            if let Some(&(began, x)) = sweep.ready.first() {
                if began < bound {
                    sweep.ready.remove(&(began, x));
                    self.take(sweep, x, self.elements[x as usize].deq);
                    continue;
                }
            }
            // Empty dequeues, once every element that went in is out (those no dequeue
            // returned, by indeterminate dequeues).
            if !sweep.empties.is_empty()
                && sweep.known_blockers == 0
                && sweep.unknown_blockers <= sweep.tokens.len()
            {
                while let Some(u) = self.front(sweep) {
                    let token = sweep.tokens.pop().expect("a token per blocker");
                    self.take(sweep, u, token);
                }
                let empties = std::mem::take(&mut sweep.empties);
                for o in empties {
                    self.place(sweep, o, sweep.now);
                }
                sweep.last = sweep.last.max(sweep.now);
                continue;
            }
            // An element no dequeue returned, ahead of an element whose dequeue has begun:
            // it must go first, and only an indeterminate dequeue can take it.
            if let Some(u) = front {
                if self.elements[u as usize].deq == NONE && !sweep.ready.is_empty() {
                    if let Some(token) = sweep.tokens.pop() {
                        self.take(sweep, u, token);
                        continue;
                    }
                }
            }
            return;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Bad patterns, found before the sweep.

    fn bad_patterns(&self) -> Result<(), Conflict> {
        if let Some(&d) = self.unknown.first() {
            let v = self.dequeued(d);
            return Err(self.conflict(
                d,
                format!(
                    "{} returned {v}, which no operation enqueued and which was not in the queue at the start",
                    self.op(d, Moment::Completed)
                ),
                vec![d],
            ));
        }
        if let Some((x, deqs)) = self.twice.first() {
            let (first, second) = (deqs[0], deqs[1]);
            let mut witness = vec![first, second];
            let enq = self.elements[*x as usize].enq;
            if enq != NONE {
                witness.push(enq);
            }
            let v = self.dequeued(first);
            return Err(self.conflict(
                second,
                format!(
                    "{} and {} both returned {v}, which went into the queue once",
                    self.op(first, Moment::Completed),
                    self.op(second, Moment::Completed)
                ),
                witness,
            ));
        }
        for (x, e) in self.elements.iter().enumerate() {
            if e.deq != NONE
                && e.enq != NONE
                && self.returned[e.deq as usize] < self.invoked[e.enq as usize]
            {
                return Err(self.conflict(
                    e.deq,
                    format!(
                        "{} returned {}, yet the only enqueue of it, {}, began after that",
                        self.op(e.deq, Moment::Completed),
                        self.value_of(x as u32),
                        self.op(e.enq, Moment::Began)
                    ),
                    vec![e.enq, e.deq],
                ));
            }
        }
        self.fifo_order()
    }

    /// Two elements enqueued one after the other in real time and dequeued the other way round.
    fn fifo_order(&self) -> Result<(), Conflict> {
        // Elements an ok dequeue returned, by enqueue invocation; the earliest dequeue return
        // among each suffix.
        let mut known: Vec<u32> = (0..self.elements.len() as u32)
            .filter(|&x| self.elements[x as usize].deq != NONE)
            .collect();
        known.sort_unstable_by_key(|&x| self.enq_span(x).0);
        let deq_ret = |x: u32| self.returned[self.elements[x as usize].deq as usize];
        let mut suffix_min: Vec<u32> = vec![NONE; known.len() + 1];
        for i in (0..known.len()).rev() {
            let x = known[i];
            let best = suffix_min[i + 1];
            suffix_min[i] = if best == NONE || deq_ret(x) < deq_ret(best) {
                x
            } else {
                best
            };
        }
        for &a in &known {
            let after = self.enq_span(a).1;
            let from = known.partition_point(|&b| self.enq_span(b).0 <= after);
            let b = suffix_min[from];
            if b == NONE {
                continue;
            }
            let (da, db) = (self.elements[a as usize].deq, self.elements[b as usize].deq);
            if self.returned[db as usize] < self.invoked[da as usize] {
                let mut witness = vec![da, db];
                for x in [a, b] {
                    let enq = self.elements[x as usize].enq;
                    if enq != NONE {
                        witness.push(enq);
                    }
                }
                let ahead = match self.elements[a as usize].enq {
                    NONE => format!("{} was in the queue from the start", self.value_of(a)),
                    enq => format!(
                        "{} completed before {} began",
                        self.op(enq, Moment::Completed),
                        self.op(self.elements[b as usize].enq, Moment::Began)
                    ),
                };
                return Err(self.conflict(
                    db,
                    format!(
                        "{} completed before {} began, yet {ahead}: a queue returns elements in the order they went in",
                        self.op(db, Moment::Completed),
                        self.op(da, Moment::Began),
                    ),
                    witness,
                ));
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Where the sweep got stuck.

    fn stuck(&self, sweep: &Sweep, stuck: Stuck) -> Conflict {
        let pos = sweep.now;
        let first = |sweep: &Sweep| {
            sweep
                .blockers
                .iter()
                .copied()
                .find(|&b| !sweep.taken[b as usize])
        };
        let no_token_before = !(0..self.access.len()).any(|t| {
            matches!(self.access[t], QueueAccess::DequeueUnknown) && (self.invoked[t] as i64) < pos
        });
        let (op, what, witness) = match stuck {
            Stuck::Dequeue(x) => {
                let e = &self.elements[x as usize];
                let f = first(sweep).expect("a dequeue is stuck behind an element");
                let fe = &self.elements[f as usize];
                let what = format!(
                    "{} returned {}, but {} went in ahead of it, and",
                    self.op(e.deq, Moment::Completed),
                    self.value_of(x),
                    self.element_words(f)
                );
                if fe.deq != NONE {
                    (
                        e.deq,
                        format!(
                            "{what} {} began only after that",
                            self.op(fe.deq, Moment::Began)
                        ),
                        vec![e.deq, e.enq, fe.enq, fe.deq],
                    )
                } else if no_token_before {
                    (
                        e.deq,
                        format!("{what} no dequeue returned it, nor could any have removed it"),
                        vec![e.deq, e.enq, fe.enq],
                    )
                } else {
                    (
                        e.deq,
                        format!("{what} no dequeue returned it, nor could an indeterminate dequeue have removed it in time"),
                        self.prefix_witness(pos),
                    )
                }
            }
            Stuck::Empty(o) => {
                let began = self.invoked[o as usize] as i64;
                let present = sweep.blockers.iter().copied().find(|&b| {
                    let be = &self.elements[b as usize];
                    !sweep.taken[b as usize]
                        && self.enq_span(b).1 < began
                        && if be.deq != NONE {
                            !sweep.deq_begun[b as usize]
                        } else {
                            no_token_before
                        }
                });
                let what = format!("{} found the queue empty", self.op(o, Moment::Completed));
                match present {
                    Some(b) => {
                        let be = &self.elements[b as usize];
                        let after = if be.deq != NONE {
                            format!("was dequeued only by {}, which began after that", self.op(be.deq, Moment::Began))
                        } else {
                            "no dequeue returned it, nor could any have removed it".to_string()
                        };
                        (
                            o,
                            format!("{what}, but {} went in before it began, and {after}", self.element_words(b)),
                            vec![o, be.enq, be.deq],
                        )
                    }
                    None => (
                        o,
                        format!("{what}, but from its beginning to its end some element was in the queue that no dequeue could have taken out in time"),
                        self.prefix_witness(pos),
                    ),
                }
            }
        };
        let witness: Vec<u32> = witness.into_iter().filter(|&w| w != NONE).collect();
        let mut conflict = self.conflict(op, what, witness);
        // The report replays the prefix through the model, which copies the queue at every
        // step: a long one costs more than the last steps it shows are worth.
        if sweep.points.len() <= PREFIX_OPERATIONS {
            let mut points = sweep.points.clone();
            points.sort_unstable();
            conflict.prefix = points.into_iter().map(|(_, _, o)| o).collect();
        }
        conflict
    }

    /// The operations begun before event position `pos`, with the enqueues and dequeues of
    /// their elements, and every indeterminate dequeue: what the sweep had seen when it got
    /// stuck. Any linearization of the partition, without the other operations, would be one
    /// of these: an element they hold is removed by the same dequeue.
    fn prefix_witness(&self, pos: i64) -> Vec<u32> {
        let mut keep = vec![false; self.access.len()];
        for o in 0..self.access.len() {
            if (self.invoked[o] as i64) < pos
                || matches!(self.access[o], QueueAccess::DequeueUnknown)
            {
                keep[o] = true;
                let x = self.element_of[o];
                if x != NONE {
                    let e = &self.elements[x as usize];
                    for p in [e.enq, e.deq] {
                        if p != NONE {
                            keep[p as usize] = true;
                        }
                    }
                }
            }
        }
        (0..self.access.len() as u32)
            .filter(|&o| keep[o as usize])
            .collect()
    }

    // ---------------------------------------------------------------------------------------
    // Certificates.

    /// Whether `order` is a linearization: every operation that completed ok placed once, in
    /// real-time order, each a legal step of the queue; replayed through the model itself when
    /// the queue stays small enough for that to be cheap.
    fn certifies(&self, model: &M, init: &[Option<&'a Value>], order: &[u32]) -> bool {
        if !in_real_time(self.part, order) {
            return false;
        }
        let mut queue: VecDeque<Option<&Value>> = init.iter().copied().collect();
        let mut longest = queue.len();
        for &o in order {
            longest = longest.max(queue.len() + 1);
            let legal = match self.access[o as usize] {
                QueueAccess::Enqueue(v) => {
                    queue.push_back(v);
                    true
                }
                QueueAccess::Dequeue(v) => queue.pop_front() == Some(Some(v)),
                QueueAccess::DequeueEmpty => queue.is_empty(),
                QueueAccess::DequeueUnknown => queue.pop_front().is_some(),
            };
            if !legal {
                return false;
            }
        }
        if order.len().saturating_mul(longest.max(1)) > MODEL_REPLAY_WORK {
            return true;
        }
        let mut state = model.init();
        for &o in order {
            match model.step(&state, &self.part.ops[o as usize].op) {
                Some(next) => state = next,
                None => return false,
            }
        }
        true
    }

    /// A witness of fewer operations than `conflict`'s when it is large (every operation begun
    /// before the sweep got stuck): its latest 64, 256, 1024... operations, with the enqueues
    /// and dequeues of their elements, the first that alone has no linearization either.
    fn narrower(&self, model: &M, init: &[Option<&'a Value>], conflict: &Conflict) -> Vec<u32> {
        let witness = &conflict.witness;
        let mut by_start: Vec<u32> = witness.clone();
        by_start.sort_unstable_by_key(|&o| std::cmp::Reverse(self.invoked[o as usize]));
        let mut size = NARROWEST;
        while size * 2 < witness.len() {
            let from = self.invoked[by_start[size - 1] as usize];
            let mut keep: Vec<u32> = vec![conflict.stuck];
            for &o in witness {
                if self.invoked[o as usize] >= from {
                    keep.push(o);
                    let x = self.element_of[o as usize];
                    if x != NONE {
                        let e = &self.elements[x as usize];
                        keep.extend([e.enq, e.deq].into_iter().filter(|&p| p != NONE));
                    }
                }
            }
            keep.sort_unstable();
            keep.dedup();
            let sub = self.part.subset(&keep);
            if Queues::new(model, self.history, &sub, init).is_ok_and(|q| q.decide().is_err()) {
                return keep;
            }
            size *= 4;
        }
        witness.clone()
    }

    /// Whether the conflict's witness, alone, has no linearization: decided again by this
    /// procedure, and by the generic search when it is small.
    fn confirms(
        &self,
        model: &M,
        init: &[Option<&'a Value>],
        conflict: &Conflict,
        budget: &Budget,
    ) -> bool {
        if conflict.witness.binary_search(&conflict.stuck).is_err() {
            return false;
        }
        let witness = self.part.subset(&conflict.witness);
        let Ok(queues) = Queues::new(model, self.history, &witness, init) else {
            return false;
        };
        queues.decide().is_err() && generic_search_agrees(model, &witness, budget)
    }

    // ---------------------------------------------------------------------------------------
    // Words.

    /// A conflict with its witness. The generic shrinker may not shrink a witness of several
    /// operations: it would drop the enqueue of a dequeued element and explain the rest as a
    /// dequeue of a value nothing enqueued, which says less than the order that is wrong.
    fn conflict(&self, stuck: u32, reason: String, mut witness: Vec<u32>) -> Conflict {
        witness.sort_unstable();
        witness.dedup();
        Conflict {
            stuck,
            reason,
            prefix: Vec::new(),
            shrink: witness.len() == 1,
            witness,
            state_size: 1,
        }
    }

    /// The value an ok dequeue returned.
    fn dequeued(&self, o: u32) -> &'a Value {
        match self.access[o as usize] {
            QueueAccess::Dequeue(v) => v,
            _ => unreachable!("operation {o} is no dequeue of a value"),
        }
    }

    /// An element's value, as the history wrote it.
    fn value_of(&self, x: u32) -> String {
        let e = &self.elements[x as usize];
        match (e.value, e.enq) {
            (Some(v), _) => v.to_string(),
            (None, NONE) => "an element".to_string(),
            (None, enq) => self.history.operations[self.part.ops[enq as usize].history_id()]
                .value
                .to_string(),
        }
    }

    /// "3 (enqueued by ...)", "3 (in the queue from the start)".
    fn element_words(&self, x: u32) -> String {
        match self.elements[x as usize].enq {
            NONE => format!("{}, in the queue from the start,", self.value_of(x)),
            enq => format!(
                "{}, enqueued by {},",
                self.value_of(x),
                self.op(enq, Moment::Completed)
            ),
        }
    }

    /// "the `dequeue` by process 3 (line 12)", "the `enqueue` of 7 by process 1 (line 9)", the
    /// line of the invocation or completion.
    fn op(&self, o: u32, moment: Moment) -> String {
        let op = &self.history.operations[self.part.ops[o as usize].history_id()];
        let what = match self.access[o as usize] {
            QueueAccess::Enqueue(_) => format!(" of {}", op.value),
            _ => String::new(),
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
