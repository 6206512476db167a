//! Shared by the integration tests: a brute-force reference checker, simulated workloads for
//! every built-in model, a simulator of correct concurrent executions, and history mutations.

#![allow(dead_code)]

pub mod brute_force;
pub mod procedures;
pub mod workloads;

use std::time::Duration;

use photofinish_check::models::{
    Counter, CreateOnce, Kv, MultiRegister, Mutex, Queue, Register, Set,
};
use photofinish_check::{check_model, CheckOptions, Model, NilReads, Verdict};
use photofinish_history::{Event, EventKind, History, Outcome, Process, Value};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

pub use brute_force::brute_force;
pub use workloads::{OpSpec, Workload};

/// A finite tape of random choices. Proptest generates the tape and shrinks it (shorter, smaller
/// numbers), which shrinks the simulated execution; an exhausted tape answers 0, which always
/// means "the simplest choice".
pub struct Tape {
    data: Vec<u32>,
    pos: usize,
}

impl Tape {
    pub fn new(data: Vec<u32>) -> Tape {
        Tape { data, pos: 0 }
    }

    /// A choice in `0..n` (0 when the tape is exhausted). `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0);
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v as usize % n
    }

    /// True with probability `percent`%; false when the tape is exhausted.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) >= 100 - percent.min(100)
    }

    /// One of `items`.
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// The proptest configuration of every property: a fixed seed (so runs are reproducible and do
/// not flake) unless `PROPTEST_RNG_SEED` is set, `cases` unless `PROPTEST_CASES` is set, and no
/// regression files.
pub fn config(cases: u32) -> Config {
    let mut config = Config {
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0x7068_6f74_6f66_696e);
    }
    config
}

/// Runs the property `test` on `cases` inputs from `strategy` (see [`config`]), failing the
/// test with the minimal failing input.
pub fn run<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Events.

pub fn invoke_event(process: i64, spec: &OpSpec) -> Event {
    with_key(
        Event::new(
            EventKind::Invoke,
            Process::Client(process),
            spec.f.clone(),
            spec.value.clone(),
        ),
        spec,
    )
}

pub fn completion_event(kind: EventKind, process: i64, spec: &OpSpec, value: Value) -> Event {
    with_key(
        Event::new(kind, Process::Client(process), spec.f.clone(), value),
        spec,
    )
}

fn with_key(event: Event, spec: &OpSpec) -> Event {
    match &spec.key {
        Some(key) => event.with_key(key.clone()),
        None => event,
    }
}

/// The events as JSON Lines, the form a history file has (and the form to report it in).
pub fn to_jsonl(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| serde_json::to_string(e).expect("events serialize") + "\n")
        .collect()
}

/// The history of `events`, read back from its JSON Lines text as a history file is: so its
/// lists of integers are compact ([`Value::Ints`]), as every reader keeps them, and the
/// checker is tested on the values it meets in real files.
pub fn history(events: &[Event]) -> History {
    let from_text = jsonl(&to_jsonl(events));
    debug_assert_eq!(
        from_text.operations,
        History::from_events(events.iter().cloned())
            .expect("a well-formed history")
            .operations
    );
    from_text
}

/// Parses a history written as JSON Lines.
pub fn jsonl(text: &str) -> History {
    photofinish_history::read_str(text, "test", Some(photofinish_history::Format::JsonLines))
        .expect("a well-formed history")
}

// ---------------------------------------------------------------------------------------------
// The two checkers.

/// How long the checker may take on one test history before the test calls it too slow.
pub const CHECK_BUDGET: Duration = Duration::from_secs(60);

/// The crate's verdict: `Ok(true)` valid, `Ok(false)` invalid, `Err` if the history was
/// rejected, or (with a message saying so) if the checker could not decide within
/// [`CHECK_BUDGET`] and 2 GiB, which on these small histories means it is far too slow.
pub fn checker(model: &str, init: &Value, history: &History) -> Result<bool, String> {
    checker_with(model, init, history, false)
}

/// [`checker`], deciding every partition when `all_partitions`.
pub fn checker_with(
    model: &str,
    init: &Value,
    history: &History,
    all_partitions: bool,
) -> Result<bool, String> {
    let options = CheckOptions {
        timeout: Some(CHECK_BUDGET),
        max_memory: 2 << 30,
        all_partitions,
        ..CheckOptions::default()
    };
    let report =
        check_model(model, Some(init), None, history, &options).map_err(|e| e.to_string())?;
    match report.verdict {
        Verdict::Valid => Ok(true),
        Verdict::Invalid => Ok(false),
        // A history in which nothing completed ok is consistent with every model: the checker
        // says so honestly as "unknown", the reference as "valid".
        Verdict::Unknown if report.reason.as_deref() == Some(photofinish_check::NOTHING_TESTED) => {
            Ok(true)
        }
        Verdict::Unknown => Err(format!(
            "UNDECIDED: the checker gave up after {:?}: {:?}",
            report.elapsed, report.undecided
        )),
    }
}

/// The brute-force reference's verdict, with the model built exactly as `check_model` builds
/// it (same initial value, same inference of what a `nil` read means).
pub fn reference(model: &str, init: &Value, history: &History) -> Result<bool, String> {
    with_model(model, init, history, Naive::Recursion)
}

/// The verdict of trying every permutation, for tiny histories: checks the reference.
pub fn permutation_reference(model: &str, init: &Value, history: &History) -> Result<bool, String> {
    with_model(model, init, history, Naive::Permutations)
}

#[derive(Clone, Copy)]
enum Naive {
    Recursion,
    Permutations,
}

fn with_model(model: &str, init: &Value, history: &History, how: Naive) -> Result<bool, String> {
    fn run<M: Model>(model: &M, history: &History, how: Naive) -> Result<bool, String> {
        match how {
            Naive::Recursion => brute_force(model, history),
            Naive::Permutations => brute_force::by_permutations(model, history),
        }
    }
    let unwrapped = unwrap_independent(model, history);
    let history = &unwrapped;
    let ops = &history.operations;
    match model {
        "register" | "cas-register" => run(
            &Register::new(
                init.clone(),
                model == "cas-register",
                NilReads::infer(init, ops, false),
            ),
            history,
            how,
        ),
        "kv" => run(
            &Kv {
                init: init.clone(),
                nil_reads: NilReads::infer(init, ops, true),
            },
            history,
            how,
        ),
        "multi-register" => run(
            &MultiRegister::new(init, NilReads::infer(init, ops, false))?,
            history,
            how,
        ),
        "counter" => run(
            &Counter::for_history(init, history).map_err(|e| e.to_string())?,
            history,
            how,
        ),
        "set" => run(&Set::new(init)?, history, how),
        "queue" => run(&Queue::new(init)?, history, how),
        "mutex" => run(
            &Mutex {
                init_held: init == &Value::Bool(true),
            },
            history,
            how,
        ),
        "create-once" => run(
            &CreateOnce {
                init_exists: init == &Value::Bool(true),
            },
            history,
            how,
        ),
        other => panic!("no reference for model {other}"),
    }
}

/// The reference's own reading of Jepsen independent histories, as the crate documents it
/// (`split_independent`): under a model other than `kv`, `create-once` and `multi-register`, a
/// history in which every operation's value is a `[key value]` tuple, every `ok` result that is
/// not `null` a tuple of the same key, and no operation has a `key` field, is the histories of
/// its keys, unless every operation is a `cas` of a `cas-register` (whose pairs are
/// `[expected new]`). Returns the history with the tuples unwrapped into `key`, value and
/// result; any other history as it is.
pub fn unwrap_independent(model: &str, history: &History) -> History {
    let tuple_key = |v: &Value| v.as_pair().map(|(key, _)| key.into_owned());
    let splittable_model = !matches!(model, "kv" | "create-once" | "multi-register");
    let all_tuples = !history.operations.is_empty()
        && history.operations.iter().all(|op| {
            let key = tuple_key(&op.value);
            op.key.is_none()
                && key.is_some()
                && (op.outcome != Outcome::Ok
                    || op.result == Value::Null
                    || tuple_key(&op.result) == key)
        });
    let cas_pairs_only =
        model == "cas-register" && history.operations.iter().all(|op| op.f == "cas");
    let independent = splittable_model && all_tuples && !cas_pairs_only;
    let mut unwrapped = history.clone();
    if independent {
        for op in &mut unwrapped.operations {
            let inner = |v: &Value| {
                v.as_pair()
                    .map_or_else(|| v.clone(), |(_, inner)| inner.into_owned())
            };
            op.key = tuple_key(&op.value);
            op.value = inner(&op.value);
            op.result = inner(&op.result);
        }
    }
    unwrapped
}

// ---------------------------------------------------------------------------------------------
// Simulating a correct (linearizable) system.

/// The shape of a simulated run.
#[derive(Clone, Copy, Debug)]
pub struct SimParams {
    /// Concurrent client slots.
    pub procs: usize,
    /// Operations invoked in all.
    pub ops: usize,
    /// The chance, in percent, that an operation about to take effect instead ends `info`,
    /// crashes or fails without effect; and, separately, that one that took effect then ends
    /// `info` or crashes. 0 for no faults.
    pub fault_pct: usize,
    /// At most this many faults in all: each indeterminate operation may double the search.
    pub max_faults: usize,
}

struct Active {
    spec: OpSpec,
    /// `None` until the operation's atomic effect has happened: then `Some(Ok(result))`, or
    /// `Some(Err(()))` when its precondition was false and it failed without effect.
    effect: Option<Result<Value, ()>>,
}

struct Slot {
    process: i64,
    active: Option<Active>,
}

/// Runs `ops` operations from `procs` concurrent clients against an atomic object (the
/// workload's own sequential implementation) and records what the clients saw.
///
/// Every operation's effect happens atomically at some moment between its invocation and its
/// completion event, so the history is linearizable by construction. With faults, an operation
/// may instead end `info` or crash (never complete), with its effect either already applied,
/// applied at some later moment (even after its `info`), or never; or end `fail` without any
/// effect. A process whose operation ended `info` or crashed is replaced by a fresh one.
pub fn simulate(workload: &mut dyn Workload, tape: &mut Tape, params: SimParams) -> Vec<Event> {
    workload.reset();
    let mut slots: Vec<Slot> = (0..params.procs)
        .map(|p| Slot {
            process: p as i64,
            active: None,
        })
        .collect();
    let mut next_process = params.procs as i64;
    // Indeterminate operations whose effect has not happened yet, and still may.
    let mut limbo: Vec<OpSpec> = Vec::new();
    let mut invoked = 0;
    let mut faults = 0;
    let mut step = 0;
    let mut events = Vec::new();
    loop {
        if !limbo.is_empty() && tape.chance(10) {
            let late = limbo.swap_remove(tape.below(limbo.len()));
            // Its result is never seen; a failed precondition just means no effect.
            let _ = workload.apply(&late, tape);
        }
        let ready: Vec<usize> = (0..slots.len())
            .filter(|&s| slots[s].active.is_some() || invoked < params.ops)
            .collect();
        if ready.is_empty() {
            break;
        }
        // Rotating the choice makes an exhausted tape (all zeros) a round robin, not one
        // client running alone while the others' operations stay open.
        step += 1;
        let slot = &mut slots[ready[(tape.below(ready.len()) + step) % ready.len()]];
        let process = slot.process;
        match slot.active.take() {
            None => {
                let spec = workload.generate(tape);
                events.push(invoke_event(process, &spec));
                invoked += 1;
                slot.active = Some(Active { spec, effect: None });
            }
            Some(Active { spec, effect: None }) => {
                if faults < params.max_faults && tape.chance(params.fault_pct) {
                    faults += 1;
                    match tape.below(3) {
                        0 => {
                            // Times out before taking effect; may still take effect later.
                            let value = spec.value.clone();
                            events.push(completion_event(EventKind::Info, process, &spec, value));
                            limbo.push(spec);
                            slot.process = next_process;
                            next_process += 1;
                        }
                        1 => {
                            // Crashes before taking effect; may still take effect later.
                            limbo.push(spec);
                            slot.process = next_process;
                            next_process += 1;
                        }
                        _ => {
                            // Rejected without taking effect.
                            let value = spec.value.clone();
                            events.push(completion_event(EventKind::Fail, process, &spec, value));
                        }
                    }
                } else {
                    let effect = workload.apply(&spec, tape);
                    slot.active = Some(Active {
                        spec,
                        effect: Some(effect),
                    });
                }
            }
            Some(Active {
                spec,
                effect: Some(effect),
            }) => {
                if faults < params.max_faults && tape.chance(params.fault_pct) {
                    faults += 1;
                    // Took effect (or failed), but the client never learns the answer.
                    if tape.chance(50) {
                        let value = spec.value.clone();
                        events.push(completion_event(EventKind::Info, process, &spec, value));
                    }
                    slot.process = next_process;
                    next_process += 1;
                } else {
                    let event = match effect {
                        Ok(result) => completion_event(EventKind::Ok, process, &spec, result),
                        Err(()) => {
                            completion_event(EventKind::Fail, process, &spec, spec.value.clone())
                        }
                    };
                    events.push(event);
                }
            }
        }
    }
    events
}

// ---------------------------------------------------------------------------------------------
// Mutations: small edits that may make a valid history invalid.

/// The invocation that `completion` (an index into `events`) completes.
fn invocation_of(events: &[Event], completion: usize) -> Option<usize> {
    let process = events[completion].process;
    (0..completion)
        .rev()
        .find(|&i| events[i].process == process)
        .filter(|&i| events[i].kind == EventKind::Invoke)
}

fn spec_of(event: &Event) -> OpSpec {
    OpSpec {
        f: event.f.clone(),
        key: event.key.clone(),
        value: event.value.clone(),
    }
}

fn indices(events: &[Event], keep: impl Fn(&Event) -> bool) -> Vec<usize> {
    (0..events.len()).filter(|&i| keep(&events[i])).collect()
}

/// Applies one random mutation to `events`, keeping the history well formed (a mutation that
/// would not is not applied). `next_process` supplies fresh process ids.
pub fn mutate(
    workload: &dyn Workload,
    events: &mut Vec<Event>,
    tape: &mut Tape,
    next_process: &mut i64,
) {
    let before = events.clone();
    let observing: Vec<(usize, OpSpec)> = indices(events, |e| e.kind == EventKind::Ok)
        .into_iter()
        .filter_map(|c| Some((c, spec_of(&events[invocation_of(events, c)?]))))
        .filter(|(_, spec)| workload.observes(spec))
        .collect();
    let choice = tape.below(7);
    if choice <= 2 && !observing.is_empty() {
        // Change the result of an ok operation that returns something.
        let (c, spec) = tape.pick(&observing);
        events[c].value = workload.random_result(&spec, &events[c].value, tape);
    } else if choice <= 3 {
        // Change how an operation ended: ok, fail or info. Mostly to ok, which constrains more.
        let done = indices(events, |e| e.kind != EventKind::Invoke);
        if done.is_empty() {
            return;
        }
        let c = tape.pick(&done);
        let Some(i) = invocation_of(events, c) else {
            return;
        };
        let spec = spec_of(&events[i]);
        let kind = match (events[c].kind, tape.below(4)) {
            (EventKind::Ok, 0 | 1) => EventKind::Fail,
            (EventKind::Ok, _) => EventKind::Info,
            (_, 0) => EventKind::Fail,
            (_, 1) => EventKind::Info,
            _ => EventKind::Ok,
        };
        events[c].value = if kind == EventKind::Ok {
            workload.random_result(&spec, &events[c].value, tape)
        } else {
            spec.value.clone()
        };
        events[c].kind = kind;
    } else if choice == 4 {
        // Drop a completion: the operation never completes, its process never runs again.
        let done = indices(events, |e| e.kind != EventKind::Invoke);
        if done.is_empty() {
            return;
        }
        let c = tape.pick(&done);
        let process = events[c].process;
        events.remove(c);
        let fresh = Process::Client(*next_process);
        *next_process += 1;
        for e in &mut events[c..] {
            if e.process == process {
                e.process = fresh;
            }
        }
    } else if events.len() >= 2 {
        if choice == 5 {
            // Swap two adjacent events.
            let i = tape.below(events.len() - 1);
            events.swap(i, i + 1);
        } else {
            // Move one event elsewhere.
            let from = tape.below(events.len());
            let event = events.remove(from);
            let to = tape.below(events.len() + 1);
            events.insert(to, event);
        }
    }
    if History::from_events(events.iter().cloned()).is_err() {
        *events = before;
    }
}

// ---------------------------------------------------------------------------------------------
// Minimizing a failing history.

/// Greedily shrinks `events` while `still_fails`: removes whole operations (invocation and
/// completion), then completions (leaving the operation pending, its process retired), until
/// no single removal keeps the failure. Never goes down to no operations at all: the checker
/// calls such a history invalid on purpose (the run recorded nothing), which is not the
/// disagreement being minimized.
pub fn minimize(events: &[Event], still_fails: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let mut best = events.to_vec();
    let well_formed = |events: &[Event]| {
        events.iter().any(|e| e.kind == EventKind::Invoke)
            && History::from_events(events.iter().cloned()).is_ok()
    };
    let mut next_process = 1_000_000;
    'shrink: loop {
        // Remove an operation.
        for i in 0..best.len() {
            if best[i].kind != EventKind::Invoke {
                continue;
            }
            let mut candidate = best.clone();
            let process = candidate[i].process;
            candidate.remove(i);
            if let Some(c) = (i..candidate.len()).find(|&c| candidate[c].process == process) {
                if candidate[c].kind != EventKind::Invoke {
                    candidate.remove(c);
                }
            }
            if well_formed(&candidate) && still_fails(&candidate) {
                best = candidate;
                continue 'shrink;
            }
        }
        // Drop a completion.
        for c in 0..best.len() {
            if best[c].kind == EventKind::Invoke {
                continue;
            }
            let mut candidate = best.clone();
            let process = candidate[c].process;
            candidate.remove(c);
            let fresh = Process::Client(next_process);
            for e in &mut candidate[c..] {
                if e.process == process {
                    e.process = fresh;
                }
            }
            if well_formed(&candidate) && still_fails(&candidate) {
                next_process += 1;
                best = candidate;
                continue 'shrink;
            }
        }
        return best;
    }
}
