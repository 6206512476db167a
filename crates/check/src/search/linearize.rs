//! The search for a linearization of one partition.
//!
//! The search walks the partition's events in real-time order and linearizes operations only
//! when it must: at the return of an operation that is not yet linearized, it places that
//! operation, possibly after some other open operations (Lowe's just-in-time linearization).
//! Any linearization can be rearranged this way, so nothing is missed, and configurations stay
//! small: (event position, model state, which open operations are already linearized, how many
//! indeterminate operations of each kind were used). Configurations already explored are
//! memoised and never explored again (Wing & Gong's search with Lowe's cache).
//!
//! Three things keep it fast on real histories:
//! - States and operations are interned to integers and transitions are cached, so the memo
//!   hashes a few machine words whatever the model's state looks like.
//! - Indeterminate operations with the same arguments are interchangeable once invoked (none of
//!   them ever returns), so the configuration counts them instead of naming them. Porcupine
//!   and Knossos tell them apart, which multiplies the states by the ways to choose them.
//! - In a partition where the model says states only grow (appends, adds), a state that can no
//!   longer become what the next read observed is abandoned at once.

use std::sync::atomic::{AtomicUsize, Ordering};

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};
use smallvec::SmallVec;

use super::budget::{Budget, Exceeded};
use super::partition::{PEvent, Partition};
use crate::model::{Fifo, Model};
use photofinish_history::Value;

const NONE: u32 = u32::MAX;
/// Stands in the memo for any state that only a write can make readable again (see
/// `Search::doomed`).
const DOOMED: u32 = u32::MAX - 1;
/// The longest stretch of events `Search::window_is_safe` inspects.
const MAX_WINDOW: u32 = 4096;
/// How many states are kept to explain a failure.
const MAX_STUCK_STATES: usize = 8;

/// Bounds on one partition's search.
pub(crate) struct Limits<'a> {
    /// The check's time and memory, shared by every partition.
    pub budget: &'a Budget,
    /// What this search may hold by its own estimate (which cannot see what states keep on
    /// the heap: the budget's reading of resident memory covers that).
    pub max_search_bytes: usize,
    /// The lowest index of a partition found not linearizable so far, when the check stops at
    /// the first failure in the file.
    pub first_failure: Option<&'a AtomicUsize>,
    /// This partition's index, in the order of first events.
    pub index: usize,
    /// The most configurations this search may explore: a budget of work rather than time,
    /// so that what it decides does not depend on how loaded the machine is.
    pub max_configurations: u64,
}

impl Limits<'_> {
    /// Whether a partition earlier in the file has failed, so this one need not be decided.
    pub fn cancelled(&self) -> bool {
        self.first_failure
            .is_some_and(|first| first.load(Ordering::Relaxed) < self.index)
    }
}

/// Where the search got stuck, in partition-local operation indices.
pub(crate) struct Stuck<S> {
    /// The operation no order could place: one whose return could not be reached with any
    /// order of the open operations, or a read no reachable state could grow into.
    pub op: u32,
    /// The longest linearization found, in order.
    pub prefix: Vec<u32>,
    /// The states in which `op` was tried, after everything that must precede it. Empty if no
    /// configuration got as far as `op`'s invocation: see `states_before`.
    pub states: Vec<S>,
    /// When `states` is empty: the event position at which the search last had states, and
    /// those states, none of which could become what `op` saw.
    pub states_before: Option<(u32, Vec<S>)>,
    /// The operations concurrent with `op`: invoked before it returned, and returned after it
    /// was invoked (or never).
    pub concurrent: Vec<u32>,
}

pub(crate) enum SearchResult<S> {
    Linearizable,
    NotLinearizable(Stuck<S>),
    /// The search stopped: out of time or memory, or cancelled.
    Undecided(Undecided),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Undecided {
    Timeout,
    Memory,
    Cancelled,
    /// More configurations than `Limits::max_configurations`.
    Work,
}

#[derive(Clone)]
struct Config {
    pos: u32,
    state: u32,
    /// Bit per slot: the open determinate operation in that slot is already linearized.
    lin: SmallVec<[u64; 2]>,
    /// (indeterminate class, how many of it were used), sorted by class.
    used: SmallVec<[(u32, u32); 2]>,
    /// The linearization so far, as a node in `Search::path`.
    path: u32,
}

#[derive(Clone, Copy)]
enum Candidate {
    /// The operation returning at this position.
    Target,
    /// Another open determinate operation.
    Open(u32),
    /// One more indeterminate operation of this class.
    Indeterminate(u32),
}

type Candidates = SmallVec<[Candidate; 8]>;
/// Open determinate operations with their slots.
type OpenOps = SmallVec<[(usize, u32); 16]>;

struct Frame {
    config: Config,
    candidates: Candidates,
    next: usize,
}

/// The set of explored configurations. Keys are variable-length runs of words stored end to
/// end in one arena, so inserting a configuration costs no allocation of its own.
#[derive(Default)]
struct Memo {
    table: HashTable<usize>,
    /// Each key as its length followed by its words.
    arena: Vec<u64>,
}

impl Memo {
    fn key_at(arena: &[u64], offset: usize) -> &[u64] {
        let len = arena[offset] as usize;
        &arena[offset + 1..offset + 1 + len]
    }

    fn hash(key: &[u64]) -> u64 {
        FxBuildHasher.hash_one(key)
    }

    /// Adds `key`; false if it was already there.
    fn insert(&mut self, key: &[u64]) -> bool {
        let hash = Memo::hash(key);
        let Memo { table, arena } = self;
        if table
            .find(hash, |&o| Memo::key_at(arena, o) == key)
            .is_some()
        {
            return false;
        }
        let offset = arena.len();
        arena.push(key.len() as u64);
        arena.extend_from_slice(key);
        table.insert_unique(hash, offset, |&o| Memo::hash(Memo::key_at(arena, o)));
        true
    }

    fn bytes(&self) -> usize {
        self.arena.len() * 8 + self.table.capacity() * 9
    }
}

struct Search<'m, M: Model> {
    model: &'m M,
    events: &'m [PEvent],
    // Interning.
    classes: Vec<&'m M::Op>,
    class_of_op: Vec<u32>,
    states: Vec<M::State>,
    state_ids: FxHashMap<M::State, u32>,
    transitions: FxHashMap<u64, u32>,
    // Real-time structure.
    invoke_pos: Vec<u32>,
    return_pos: Vec<u32>,
    slot_of: Vec<u32>,
    /// Per slot: (invocation position, operation), in order.
    slot_timeline: Vec<Vec<(u32, u32)>>,
    words: usize,
    /// Per indeterminate class: its operations in invocation order, and its model class.
    indeterminate_members: Vec<Vec<u32>>,
    indeterminate_model_class: Vec<u32>,
    // Pruning by observations.
    /// Per event position: the first observation invoked after it.
    next_observation: Vec<u32>,
    /// Per observation: the last position at which an operation that may reset the state
    /// toward it can still be linearized (`NONE`: any position).
    reset_deadline: Vec<u32>,
    /// Per observed operation kind: the kinds that may reset the state toward it, sorted.
    resetters: FxHashMap<u32, Vec<u32>>,
    /// Per operation: succeeds in every reachable state and reveals nothing.
    unconditional: Vec<bool>,
    /// Per operation: never changes any state.
    read_only: Vec<bool>,
    /// Per operation: the insertions a first-in-first-out model says must be linearized
    /// before it (see `Model::fifo`). Empty altogether when no model order applies.
    must_follow: Vec<Vec<u32>>,
    /// Per indeterminate operation: (its indeterminate class, its index among the members).
    indeterminate_slot: Vec<(u32, u32)>,
    /// Per operation kind: leaves the same state whatever it is applied to.
    overwrites: Vec<bool>,
    /// Per event position: whether states there that need a write are interchangeable.
    window_safe: FxHashMap<u32, bool>,
    reach: FxHashMap<u64, bool>,
    // Search state.
    memo: Memo,
    path: Vec<(u32, u32)>,
    stack: Vec<Frame>,
    key: Vec<u64>,
    configurations: u64,
    deepest: u32,
    deepest_path: u32,
    deepest_states: Vec<u32>,
    /// The observation no state at the deepest point could grow into, if that is what stopped it.
    deepest_blame: Option<u32>,
    /// Per operation: states in which it was tried (at its return, or placed early while
    /// open) and could not take effect, or which could no longer grow into what it read.
    tried: Vec<SmallVec<[u32; 2]>>,
}

/// Decides whether one partition is linearizable; also says how many configurations it explored.
pub(crate) fn linearize<M: Model>(
    model: &M,
    part: &Partition<M::Op>,
    limits: &Limits,
) -> (SearchResult<M::State>, u64) {
    let mut search = Search::new(model, part);
    let result = search.run(limits);
    let configurations = search.configurations;
    search.release();
    (result, configurations)
}

/// Above this many memoised words, a search's tables are freed on a thread of their own:
/// freeing millions of states takes long enough to overrun a time budget the answer already met.
const FREE_IN_BACKGROUND_WORDS: usize = 1 << 22;

impl<'m, M: Model> Search<'m, M> {
    fn new(model: &'m M, part: &'m Partition<M::Op>) -> Search<'m, M> {
        let n = part.ops.len();
        let mut class_ids: FxHashMap<&M::Op, u32> = FxHashMap::default();
        let mut classes = Vec::new();
        let class_of_op: Vec<u32> = part
            .ops
            .iter()
            .map(|o| {
                *class_ids.entry(&o.op).or_insert_with(|| {
                    classes.push(&o.op);
                    classes.len() as u32 - 1
                })
            })
            .collect();

        let mut invoke_pos = vec![NONE; n];
        let mut return_pos = vec![NONE; n];
        let mut slot_of = vec![NONE; n];
        let mut slot_timeline: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut free_slots: Vec<u32> = Vec::new();
        let mut indeterminate_index: FxHashMap<u32, u32> = FxHashMap::default();
        let mut indeterminate_members: Vec<Vec<u32>> = Vec::new();
        let mut indeterminate_model_class = Vec::new();
        let mut indeterminate_slot = vec![(NONE, NONE); n];
        for (pos, event) in part.events.iter().enumerate() {
            let pos = pos as u32;
            match *event {
                PEvent::Invoke(o) => {
                    invoke_pos[o as usize] = pos;
                    if part.ops[o as usize].indeterminate {
                        let class = class_of_op[o as usize];
                        let d = *indeterminate_index.entry(class).or_insert_with(|| {
                            indeterminate_members.push(Vec::new());
                            indeterminate_model_class.push(class);
                            indeterminate_members.len() as u32 - 1
                        });
                        let members = &mut indeterminate_members[d as usize];
                        indeterminate_slot[o as usize] = (d, members.len() as u32);
                        members.push(o);
                    } else {
                        let slot = free_slots.pop().unwrap_or_else(|| {
                            slot_timeline.push(Vec::new());
                            slot_timeline.len() as u32 - 1
                        });
                        slot_of[o as usize] = slot;
                        slot_timeline[slot as usize].push((pos, o));
                    }
                }
                PEvent::Return(o) => {
                    return_pos[o as usize] = pos;
                    free_slots.push(slot_of[o as usize]);
                }
            }
        }

        let next_observation = next_observations(model, part);
        let (reset_deadline, resetters) = reset_deadlines(
            model,
            part,
            &classes,
            &class_of_op,
            &invoke_pos,
            &return_pos,
        );
        let must_follow = fifo_order(model, part, &invoke_pos, &return_pos);
        let all_ops: Vec<&M::Op> = part.ops.iter().map(|o| &o.op).collect();
        let unconditional = model.unconditional(&all_ops);
        let overwrites = classes.iter().map(|op| model.overwrites(op)).collect();

        let mut search = Search {
            model,
            events: &part.events,
            classes,
            class_of_op,
            states: Vec::new(),
            state_ids: FxHashMap::default(),
            transitions: FxHashMap::default(),
            invoke_pos,
            return_pos,
            slot_of,
            words: slot_timeline.len().div_ceil(64).max(1),
            slot_timeline,
            indeterminate_members,
            indeterminate_model_class,
            next_observation,
            reset_deadline,
            resetters,
            unconditional,
            read_only: part.ops.iter().map(|o| model.read_only(&o.op)).collect(),
            must_follow,
            indeterminate_slot,
            overwrites,
            window_safe: FxHashMap::default(),
            reach: FxHashMap::default(),
            memo: Memo::default(),
            path: Vec::new(),
            stack: Vec::new(),
            key: Vec::new(),
            configurations: 0,
            deepest: 0,
            deepest_path: NONE,
            deepest_states: Vec::new(),
            deepest_blame: None,
            tried: vec![SmallVec::new(); n],
        };
        search.intern(model.init());
        search
    }

    fn intern(&mut self, state: M::State) -> u32 {
        if let Some(&id) = self.state_ids.get(&state) {
            return id;
        }
        let id = self.states.len() as u32;
        self.states.push(state.clone());
        self.state_ids.insert(state, id);
        id
    }

    /// The state after applying an operation of model class `class`, cached.
    fn step(&mut self, state: u32, class: u32) -> Option<u32> {
        let key = (u64::from(state) << 32) | u64::from(class);
        if let Some(&next) = self.transitions.get(&key) {
            return (next != NONE).then_some(next);
        }
        let next = match self
            .model
            .step(&self.states[state as usize], self.classes[class as usize])
        {
            Some(s) => self.intern(s),
            None => NONE,
        };
        self.transitions.insert(key, next);
        (next != NONE).then_some(next)
    }

    /// Whether `state` can still become what the next observation invoked after `pos` saw.
    /// That observation is linearized after everything placed so far, so if no operation that
    /// could reset the state is left, the state must grow into what it saw.
    fn alive(&mut self, state: u32, pos: u32) -> bool {
        let observation = self.next_observation[pos as usize];
        observation == NONE
            || pos <= self.reset_deadline[observation as usize]
            || self.reaches(state, observation)
    }

    /// An open observation not yet linearized that `config`'s state can no longer grow into.
    /// Like the next observation, it will be linearized after everything placed so far. This is
    /// what stops the search from placing an operation that a concurrent read, still open,
    /// shows had not happened yet: without it, the mistake is found only when that read
    /// returns, after every combination of the operations in between has been tried.
    fn open_observation_out_of_reach(
        &mut self,
        config: &Config,
        open: &[(usize, u32)],
    ) -> Option<u32> {
        open.iter().find_map(|&(slot, op)| {
            let linearized = config.lin[slot / 64] & (1u64 << (slot % 64)) != 0;
            // Non-observations have no deadline (`NONE`), so they never qualify.
            let prunable = !linearized && config.pos > self.reset_deadline[op as usize];
            (prunable && !self.reaches(config.state, op)).then_some(op)
        })
    }

    fn reaches(&mut self, state: u32, observation: u32) -> bool {
        let class = self.class_of_op[observation as usize];
        let key = (u64::from(state) << 32) | u64::from(class);
        if let Some(&reaches) = self.reach.get(&key) {
            return reaches;
        }
        let reaches = self
            .model
            .may_reach(&self.states[state as usize], self.classes[class as usize]);
        self.reach.insert(key, reaches);
        reaches
    }

    /// Whether `state` at `pos` is one of the interchangeable states that no read can see
    /// before a write replaces them.
    ///
    /// Such a state cannot grow into what the next observation `g` saw, so some write toward
    /// `g` must come first. If every operation that could be placed before that write succeeds
    /// in any state and reveals nothing, and every write toward `g` overwrites whatever was
    /// there, then all such states have the same future: they differ only until the write,
    /// and nothing observes them before it. The memo then keys them alike.
    fn doomed(&mut self, state: u32, pos: u32) -> bool {
        let g = self.next_observation[pos as usize];
        if g == NONE || self.reset_deadline[g as usize] == 0 || self.reaches(state, g) {
            return false;
        }
        if let Some(&safe) = self.window_safe.get(&pos) {
            return safe;
        }
        let safe = self.window_is_safe(pos, g);
        self.window_safe.insert(pos, safe);
        safe
    }

    /// Whether every operation that could be placed between `pos` and the last write toward
    /// observation `g` is harmless to the states `doomed` treats alike.
    fn window_is_safe(&self, pos: u32, g: u32) -> bool {
        let deadline = self.reset_deadline[g as usize];
        // A window longer than this costs more to inspect at every position than treating
        // its states apart does.
        if deadline == NONE || deadline.saturating_sub(pos) > MAX_WINDOW {
            return false;
        }
        let resetters = &self.resetters[&self.class_of_op[g as usize]];
        let g_op = self.classes[self.class_of_op[g as usize] as usize];
        // An operation is harmless if it succeeds alike in all those states and keeps them
        // unreadable, or if it fails in all of them: an observation of a state that can still
        // become what `g` saw cannot be one of them.
        let harmless = |o: u32| {
            let class = self.class_of_op[o as usize];
            let op = self.classes[class as usize];
            o == g
                || self.unconditional[o as usize]
                    && (self.overwrites[class as usize] || resetters.binary_search(&class).is_err())
                || self
                    .model
                    .observed_state(op)
                    .is_some_and(|seen| self.model.may_reach(&seen, g_op))
        };
        let open_ok = self.open_at(pos).all(|(_, o)| harmless(o));
        let upcoming_ok = self.events
            [pos as usize + 1..=(deadline as usize).min(self.events.len() - 1)]
            .iter()
            .all(|e| match *e {
                PEvent::Invoke(o) => harmless(o),
                PEvent::Return(_) => true,
            });
        let indeterminate_ok = self
            .indeterminate_members
            .iter()
            .all(|members| self.invoke_pos[members[0] as usize] > deadline || harmless(members[0]));
        open_ok && upcoming_ok && indeterminate_ok
    }

    /// Moves through events that need no choice: invocations, and returns of operations
    /// already linearized. Returns true at the end of the partition.
    fn advance(&self, config: &mut Config) -> bool {
        while let Some(event) = self.events.get(config.pos as usize) {
            match *event {
                PEvent::Invoke(_) => config.pos += 1,
                PEvent::Return(o) => {
                    let slot = self.slot_of[o as usize] as usize;
                    let (word, bit) = (slot / 64, 1u64 << (slot % 64));
                    if config.lin[word] & bit == 0 {
                        return false;
                    }
                    config.lin[word] &= !bit;
                    config.pos += 1;
                }
            }
        }
        true
    }

    fn run(&mut self, limits: &Limits) -> SearchResult<M::State> {
        let mut root = Config {
            pos: 0,
            state: 0,
            lin: SmallVec::from_elem(0, self.words),
            used: SmallVec::new(),
            path: NONE,
        };
        if self.advance(&mut root) {
            return SearchResult::Linearizable;
        }
        self.enter(root);
        let mut iterations = 0u64;
        while !self.stack.is_empty() {
            iterations += 1;
            // Often enough that a search whose steps are slow (big states) still stops on time.
            if iterations.is_multiple_of(64) {
                if let Some(reason) = self.over_limits(limits) {
                    return SearchResult::Undecided(reason);
                }
            }
            let Some(frame) = self.stack.last_mut() else {
                break;
            };
            if frame.next == frame.candidates.len() {
                self.stack.pop();
                continue;
            }
            let candidate = frame.candidates[frame.next];
            frame.next += 1;
            let (pos, state) = (frame.config.pos, frame.config.state);
            let PEvent::Return(target) = self.events[pos as usize] else {
                unreachable!("frames are only made at returns");
            };
            if !self.fifo_allows(candidate, target) {
                continue;
            }
            match candidate {
                Candidate::Target => {
                    let Some(next) = self.step(state, self.class_of_op[target as usize]) else {
                        self.note_tried(target, state);
                        continue;
                    };
                    let mut config = self.top_config();
                    config.state = next;
                    config.pos += 1;
                    config.path = self.extend_path(target, config.path);
                    if self.advance(&mut config) {
                        return SearchResult::Linearizable;
                    }
                    self.enter(config);
                }
                Candidate::Open(op) => {
                    let Some(next) = self.step(state, self.class_of_op[op as usize]) else {
                        self.note_tried(op, state);
                        continue;
                    };
                    let mut config = self.top_config();
                    config.state = next;
                    let slot = self.slot_of[op as usize] as usize;
                    config.lin[slot / 64] |= 1u64 << (slot % 64);
                    config.path = self.extend_path(op, config.path);
                    self.enter(config);
                }
                Candidate::Indeterminate(class) => {
                    let model_class = self.indeterminate_model_class[class as usize];
                    // An indeterminate operation that changes nothing is the same as never
                    // taking effect, which the search already covers.
                    let Some(next) = self.step(state, model_class).filter(|&n| n != state) else {
                        continue;
                    };
                    let mut config = self.top_config();
                    config.state = next;
                    let taken = match config.used.binary_search_by_key(&class, |&(c, _)| c) {
                        Ok(i) => {
                            config.used[i].1 += 1;
                            config.used[i].1 - 1
                        }
                        Err(i) => {
                            config.used.insert(i, (class, 1));
                            0
                        }
                    };
                    let op = self.indeterminate_members[class as usize][taken as usize];
                    config.path = self.extend_path(op, config.path);
                    self.enter(config);
                }
            }
        }
        SearchResult::NotLinearizable(self.stuck())
    }

    /// Whether every insertion that must precede the candidate's operation is linearized in
    /// the top frame's configuration.
    fn fifo_allows(&self, candidate: Candidate, target: u32) -> bool {
        if self.must_follow.is_empty() {
            return true;
        }
        let Some(frame) = self.stack.last() else {
            return true;
        };
        let config = &frame.config;
        let op = match candidate {
            Candidate::Target => target,
            Candidate::Open(op) => op,
            Candidate::Indeterminate(class) => {
                let members = &self.indeterminate_members[class as usize];
                members[used_of(config, class) as usize]
            }
        };
        self.must_follow[op as usize]
            .iter()
            .all(|&before| self.is_linearized(config, before))
    }

    fn is_linearized(&self, config: &Config, op: u32) -> bool {
        let o = op as usize;
        if self.invoke_pos[o] > config.pos {
            return false;
        }
        let (class, index) = self.indeterminate_slot[o];
        if class != NONE {
            return used_of(config, class) > index;
        }
        if self.return_pos[o] < config.pos {
            return true;
        }
        let slot = self.slot_of[o] as usize;
        config.lin[slot / 64] & (1u64 << (slot % 64)) != 0
    }

    fn top_config(&self) -> Config {
        self.stack
            .last()
            .map(|f| f.config.clone())
            .expect("called with a frame on the stack")
    }

    fn extend_path(&mut self, op: u32, parent: u32) -> u32 {
        self.path.push((op, parent));
        self.path.len() as u32 - 1
    }

    fn over_limits(&self, limits: &Limits) -> Option<Undecided> {
        if limits.cancelled() {
            return Some(Undecided::Cancelled);
        }
        if self.configurations > limits.max_configurations {
            return Some(Undecided::Work);
        }
        match limits.budget.exceeded() {
            Some(Exceeded::Time) => return Some(Undecided::Timeout),
            Some(Exceeded::Memory) => return Some(Undecided::Memory),
            None => {}
        }
        let bytes = self.memo.bytes()
            + self.path.len() * 8
            + self.transitions.len() * 16
            + self.states.len() * (2 * std::mem::size_of::<M::State>() + 32);
        (bytes > limits.max_search_bytes).then_some(Undecided::Memory)
    }

    /// Frees the search's tables, on a thread of its own when they are big (see
    /// `FREE_IN_BACKGROUND_WORDS`).
    fn release(self) {
        if self.memo.arena.len() < FREE_IN_BACKGROUND_WORDS {
            return;
        }
        let tables = (
            self.memo,
            self.states,
            self.state_ids,
            self.transitions,
            self.reach,
            self.path,
            self.stack,
        );
        // Should no thread be had, the tables are freed here, when the error drops the closure.
        let _ = std::thread::Builder::new()
            .name("photofinish-free".into())
            .spawn(move || drop(tables));
    }

    /// Remembers that `op` was tried in `state` and could not take effect there.
    fn note_tried(&mut self, op: u32, state: u32) {
        let tried = &mut self.tried[op as usize];
        if tried.len() < MAX_STUCK_STATES && !tried.contains(&state) {
            tried.push(state);
        }
    }

    /// Explores `config` unless it was explored before or cannot lead anywhere.
    fn enter(&mut self, mut config: Config) {
        if !self.alive(config.state, config.pos) {
            let observation = self.next_observation[config.pos as usize];
            self.note_depth(&config, Some(observation));
            return;
        }
        // The operations open here, found once for the uses below.
        let open: OpenOps = self.open_at(config.pos).collect();
        if let Some(observation) = self.open_observation_out_of_reach(&config, &open) {
            // The observation is open here, so everything that must precede it is placed:
            // this is a state it was, in effect, tried in.
            self.note_tried(observation, config.state);
            self.note_depth(&config, Some(observation));
            return;
        }
        let target_preserves = self.place_preserving_ops(&mut config, &open);
        let memo_state = if self.doomed(config.state, config.pos) {
            DOOMED
        } else {
            config.state
        };
        self.key.clear();
        self.key
            .push((u64::from(config.pos) << 32) | u64::from(memo_state));
        self.key.extend_from_slice(&config.lin);
        self.key.extend(
            config
                .used
                .iter()
                .map(|&(c, n)| (u64::from(c) << 32) | u64::from(n)),
        );
        if !self.memo.insert(&self.key) {
            return;
        }
        self.configurations += 1;

        self.note_depth(&config, None);

        let candidates = if target_preserves {
            smallvec::smallvec![Candidate::Target]
        } else {
            self.candidates(&config, &open)
        };
        self.stack.push(Frame {
            config,
            candidates,
            next: 0,
        });
    }

    /// Remembers the deepest point the search reached, to explain a failure. `blame` is the
    /// observation that made a configuration hopeless before its own return was reached; a
    /// configuration that did reach its return is the better explanation at equal depth.
    fn note_depth(&mut self, config: &Config, blame: Option<u32>) {
        let deeper = config.pos > self.deepest
            || self.deepest_states.is_empty()
            || config.pos == self.deepest && blame.is_none() && self.deepest_blame.is_some();
        if deeper {
            self.deepest = config.pos;
            self.deepest_path = config.path;
            self.deepest_blame = blame;
            self.deepest_states.clear();
        }
        if config.pos == self.deepest
            && blame == self.deepest_blame
            && self.deepest_states.len() < MAX_STUCK_STATES
            && !self.deepest_states.contains(&config.state)
        {
            self.deepest_states.push(config.state);
        }
    }

    /// Linearizes at once every open read-only operation that is legal now (a read of the
    /// current value). Placing such an operation now is never worse than placing it later: it
    /// changes no state, and later it might no longer be legal. (An operation that merely
    /// leaves *this* state unchanged, like a write of the current value, does not qualify: later
    /// it could restore a value.) Without
    /// this, k concurrent reads of one value make 2^k equivalent configurations. Returns whether
    /// the returning operation itself is such an operation, in which case placing it is the
    /// only choice worth trying.
    fn place_preserving_ops(&mut self, config: &mut Config, open: &[(usize, u32)]) -> bool {
        let pos = config.pos;
        let PEvent::Return(target) = self.events[pos as usize] else {
            return false;
        };
        for &(slot, op) in open {
            let linearized = config.lin[slot / 64] & (1u64 << (slot % 64)) != 0;
            if linearized || op == target || !self.read_only[op as usize] {
                continue;
            }
            if self.step(config.state, self.class_of_op[op as usize]) == Some(config.state) {
                config.lin[slot / 64] |= 1u64 << (slot % 64);
                config.path = self.extend_path(op, config.path);
            }
        }
        self.read_only[target as usize]
            && self.step(config.state, self.class_of_op[target as usize]) == Some(config.state)
    }

    /// What may be linearized next at a return: the returning operation itself first (the
    /// common case in a correct history), then any other open operation, then one more
    /// indeterminate operation of each kind still available.
    ///
    /// Identical operations are interchangeable, so of several candidates that are the same
    /// model operation only the one that must return first is tried: any linearization that
    /// places another of them first stays legal when the two swap places, and reaches the same
    /// states. The returning operation must return first of all, and an indeterminate
    /// operation never has to return. Without this, k concurrent `add 1`s make k! orders.
    fn candidates(&mut self, config: &Config, open: &[(usize, u32)]) -> Candidates {
        let pos = config.pos;
        let PEvent::Return(target) = self.events[pos as usize] else {
            unreachable!("candidates are only needed at returns");
        };
        let target_class = self.class_of_op[target as usize];
        // (model class, its open operation that returns first)
        let mut earliest: SmallVec<[(u32, u32); 16]> = SmallVec::new();
        for &(slot, op) in open {
            let linearized = config.lin[slot / 64] & (1u64 << (slot % 64)) != 0;
            let class = self.class_of_op[op as usize];
            if linearized || op == target || class == target_class {
                continue;
            }
            match earliest.iter_mut().find(|(c, _)| *c == class) {
                Some(entry) => {
                    if self.return_pos[op as usize] < self.return_pos[entry.1 as usize] {
                        entry.1 = op;
                    }
                }
                None => earliest.push((class, op)),
            }
        }
        let mut candidates: Candidates = smallvec::smallvec![Candidate::Target];
        // Try first what lets the returning operation take effect at once: in a correct
        // history that is the write a read saw, or the enqueue a dequeue took, and the search
        // goes straight on.
        // (Only when it cannot take effect now: probing interns states, which for big states
        // such as sets costs more than the order saves.)
        let target_blocked = self.step(config.state, target_class).is_none();
        let mut opens: SmallVec<[(bool, u32); 16]> = SmallVec::new();
        for &(_, op) in &earliest {
            let enables = target_blocked
                && self
                    .step(config.state, self.class_of_op[op as usize])
                    .is_some_and(|next| self.step(next, target_class).is_some());
            opens.push((!enables, op));
        }
        opens.sort_by_key(|&(later, _)| later);
        candidates.extend(opens.iter().map(|&(_, op)| Candidate::Open(op)));
        for (class, members) in self.indeterminate_members.iter().enumerate() {
            let model_class = self.indeterminate_model_class[class];
            if model_class == target_class || earliest.iter().any(|&(c, _)| c == model_class) {
                continue;
            }
            let invoked = members.partition_point(|&o| self.invoke_pos[o as usize] < pos);
            if invoked == 0 {
                continue;
            }
            let used = config
                .used
                .binary_search_by_key(&(class as u32), |&(c, _)| c)
                .map_or(0, |i| config.used[i].1 as usize);
            if used < invoked {
                candidates.push(Candidate::Indeterminate(class as u32));
            }
        }
        candidates
    }

    /// The determinate operations open at `pos` (invoked before, returning at or after), with
    /// their slots.
    fn open_at(&self, pos: u32) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.slot_timeline
            .iter()
            .enumerate()
            .filter_map(move |(slot, timeline)| {
                let i = timeline.partition_point(|&(at, _)| at < pos);
                let &(_, op) = timeline.get(i.checked_sub(1)?)?;
                (self.return_pos[op as usize] >= pos).then_some((slot, op))
            })
    }

    fn stuck(&self) -> Stuck<M::State> {
        let mut prefix = Vec::new();
        let mut node = self.deepest_path;
        while node != NONE {
            let (op, parent) = self.path[node as usize];
            prefix.push(op);
            node = parent;
        }
        prefix.reverse();
        let op = match (self.deepest_blame, self.events.get(self.deepest as usize)) {
            (Some(observation), _) => observation,
            (None, Some(PEvent::Return(o))) => *o,
            _ => NONE,
        };
        let states_of = |ids: &[u32]| -> Vec<M::State> {
            ids.iter()
                .map(|&s| self.states[s as usize].clone())
                .collect()
        };
        let tried = self.tried.get(op as usize).map_or(&[][..], |t| &t[..]);
        let states_before = (tried.is_empty() && !self.deepest_states.is_empty())
            .then(|| (self.deepest, states_of(&self.deepest_states)));
        Stuck {
            op,
            prefix,
            states: states_of(tried),
            states_before,
            concurrent: self.concurrent_with(op),
        }
    }

    /// The operations whose intervals overlap `op`'s, in order of invocation.
    fn concurrent_with(&self, op: u32) -> Vec<u32> {
        let Some(&invoked) = self.invoke_pos.get(op as usize) else {
            return Vec::new();
        };
        let returned = self.return_pos[op as usize];
        let mut concurrent: Vec<u32> = (0..self.invoke_pos.len() as u32)
            .filter(|&o| {
                o != op
                    && self.invoke_pos[o as usize] < returned
                    && (self.return_pos[o as usize] == NONE
                        || self.return_pos[o as usize] > invoked)
            })
            .collect();
        concurrent.sort_by_key(|&o| self.invoke_pos[o as usize]);
        concurrent
    }
}

/// Per event position, the first observation (a read revealing the whole state) invoked after it.
fn next_observations<M: Model>(model: &M, part: &Partition<M::Op>) -> Vec<u32> {
    let mut next_observation = vec![NONE; part.events.len() + 1];
    let mut next = NONE;
    for pos in (0..part.events.len()).rev() {
        next_observation[pos] = next;
        if let PEvent::Invoke(o) = part.events[pos] {
            let op = &part.ops[o as usize];
            if !op.indeterminate && model.observed_state(&op.op).is_some() {
                next = o;
            }
        }
    }
    next_observation
}

/// Above this many (observation kind, operation kind) pairs, working out which operations may
/// reset the state toward which observation costs more than the pruning saves.
const MAX_RESET_PAIRS: usize = 4_000_000;

/// For each observation, the last return position of an operation that may reset the state
/// toward it and could be linearized before it (invoked before it returns). Indeterminate
/// operations never return, so any of them makes the deadline `NONE`.
fn reset_deadlines<M: Model>(
    model: &M,
    part: &Partition<M::Op>,
    classes: &[&M::Op],
    class_of_op: &[u32],
    invoke_pos: &[u32],
    return_pos: &[u32],
) -> (Vec<u32>, FxHashMap<u32, Vec<u32>>) {
    let observations: Vec<u32> = (0..part.ops.len() as u32)
        .filter(|&o| {
            let op = &part.ops[o as usize];
            !op.indeterminate && model.observed_state(&op.op).is_some()
        })
        .collect();
    let mut deadline = vec![NONE; part.ops.len()];
    let mut observed_classes: Vec<u32> = observations
        .iter()
        .map(|&o| class_of_op[o as usize])
        .collect();
    observed_classes.sort_unstable();
    observed_classes.dedup();
    let mut resetters: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    if observations.is_empty() || observed_classes.len() * classes.len() > MAX_RESET_PAIRS {
        return (deadline, resetters);
    }
    // Per operation kind: its operations' invocation positions, and the running maximum of
    // their return positions, in invocation order.
    let mut members: Vec<Vec<(u32, u32)>> = vec![Vec::new(); classes.len()];
    for (o, &class) in class_of_op.iter().enumerate() {
        let returned = return_pos[o];
        let running = members[class as usize].last().map_or(returned, |&(_, m)| {
            if m == NONE || returned == NONE {
                NONE
            } else {
                m.max(returned)
            }
        });
        members[class as usize].push((invoke_pos[o], running));
    }
    for &observed in &observed_classes {
        let resetting = (0..classes.len() as u32)
            .filter(|&c| model.may_reset(classes[c as usize], classes[observed as usize]))
            .collect();
        resetters.insert(observed, resetting);
    }
    for &o in &observations {
        let until = return_pos[o as usize];
        let mut latest = 0u32;
        for &c in &resetters[&class_of_op[o as usize]] {
            let list = &members[c as usize];
            let n = list.partition_point(|&(invoked, _)| invoked < until);
            if n > 0 {
                let r = list[n - 1].1;
                latest = if r == NONE { NONE } else { latest.max(r) };
                if latest == NONE {
                    break;
                }
            }
        }
        deadline[o as usize] = latest;
    }
    (deadline, resetters)
}

/// How many operations of indeterminate class `class` `config` has used.
fn used_of(config: &Config, class: u32) -> u32 {
    config
        .used
        .binary_search_by_key(&class, |&(c, _)| c)
        .map_or(0, |i| config.used[i].1)
}

/// Per operation, the insertions that must be linearized before it, from the order in which
/// their elements came out (see `Model::fifo`). Only pairs of concurrent insertions need it:
/// real time already orders the others. Empty (no entry at all) unless every element goes in
/// once and comes out at most once, since only then does a removal name its insertion.
fn fifo_order<M: Model>(
    model: &M,
    part: &Partition<M::Op>,
    invoke_pos: &[u32],
    return_pos: &[u32],
) -> Vec<Vec<u32>> {
    let n = part.ops.len();
    let mut inserted: FxHashMap<&Value, u32> = FxHashMap::default();
    let mut removed: FxHashMap<&Value, u32> = FxHashMap::default();
    let mut is_insertion = vec![false; n];
    for (o, op) in part.ops.iter().enumerate() {
        let unique = match model.fifo(&op.op) {
            None => true,
            Some(Fifo::In(v)) => {
                is_insertion[o] = true;
                inserted.insert(v, o as u32).is_none()
            }
            Some(Fifo::Out(_)) if op.indeterminate => true,
            Some(Fifo::Out(v)) => removed.insert(v, o as u32).is_none(),
        };
        if !unique {
            return Vec::new();
        }
    }
    if removed.is_empty() {
        return Vec::new();
    }
    let mut must_follow = vec![Vec::new(); n];
    // Per insertion: the (invocation, return) positions of the removal of its element.
    let mut removal: FxHashMap<u32, (u32, u32)> = FxHashMap::default();
    for (value, &insert) in &inserted {
        if let Some(&out) = removed.get(value) {
            removal.insert(insert, (invoke_pos[out as usize], return_pos[out as usize]));
        }
    }
    // `a` must precede `b` if `a`'s element came out before `b`'s removal began.
    let mut relate = |a: u32, b: u32| {
        if let (Some(&(_, a_out)), Some(&(b_in, _))) = (removal.get(&a), removal.get(&b)) {
            if a_out < b_in {
                must_follow[b as usize].push(a);
            }
        }
    };
    // Insertions invoked and not yet returned (indeterminate ones never return).
    let mut active: Vec<u32> = Vec::new();
    for event in &part.events {
        match *event {
            PEvent::Invoke(y) if is_insertion[y as usize] => {
                for &x in &active {
                    relate(x, y);
                    relate(y, x);
                }
                active.push(y);
            }
            PEvent::Return(y) if is_insertion[y as usize] => active.retain(|&x| x != y),
            PEvent::Invoke(_) | PEvent::Return(_) => {}
        }
    }
    must_follow
}
