//! Diagnoses never claim what a history does not prove: on random small histories (simulated
//! correct runs, then mutated), a partition that the brute-force reference in
//! `common/brute_force.rs` finds linearizable gets no diagnosis at all. Each diagnosis is also
//! checked for form: lines sorted and present in the history, no raw control characters.

use crate::common;

use std::cell::Cell;
use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use common::brute_force::brute_force;
use common::workloads::{all_workloads, workload};
use common::{config, minimize, mutate, simulate, to_jsonl, SimParams, Tape, Workload};
use photofinish_check::models::{
    Counter, CreateOnce, Kv, MultiRegister, Mutex, Queue, Register, Set,
};
use photofinish_check::{Diagnosis, Model, NilReads};
use photofinish_history::{Event, History, Operation, Value};

/// `(processes, operations, fault percentage, mutations, simulation tape, mutation tape)`.
type Mutated = (usize, usize, usize, usize, Vec<u32>, Vec<u32>);

fn mutated(max_ops: usize) -> impl Strategy<Value = Mutated> {
    (
        2..=4usize,
        2..=max_ops,
        0..=25usize,
        0..=4usize,
        vec(any::<u32>(), 0..=150),
        vec(any::<u32>(), 0..=24),
    )
}

fn mutated_events(
    w: &mut dyn Workload,
    (procs, ops, fault_pct, mutations, sim_tape, mutation_tape): Mutated,
) -> Vec<Event> {
    let params = SimParams {
        procs,
        ops,
        fault_pct,
        max_faults: usize::MAX,
    };
    let mut events = simulate(w, &mut Tape::new(sim_tape), params);
    let mut tape = Tape::new(mutation_tape);
    let mut next_process = 1000;
    for _ in 0..mutations {
        mutate(w, &mut events, &mut tape, &mut next_process);
    }
    events
}

/// The partition an operation belongs to, as the checker splits histories: its key field, or
/// for kv a `[key, value]` pair, or for create-once the key given as the value.
fn partition_key(model: &str, op: &Operation) -> Option<Value> {
    if op.key.is_some() {
        return op.key.clone();
    }
    match model {
        "kv" => photofinish_check::keyed_parts(op)
            .ok()
            .map(|(key, _, _)| key),
        "create-once" => Some(op.value.clone()),
        _ => None,
    }
}

/// What one history showed: per partition, whether the reference found it linearizable and
/// the diagnosis it got.
struct Outcome {
    partitions: Vec<(bool, Vec<Diagnosis>)>,
}

/// Splits the history into partitions, asks the reference about each on its own (with the
/// model built once, from the whole history, as `check_model` builds it) and diagnoses each.
fn diagnose_partitions<M: Model>(
    model: &M,
    name: &str,
    events: &[Event],
    history: &History,
) -> Result<Outcome, String> {
    let mut partitions: BTreeMap<Option<Value>, Vec<&Operation>> = BTreeMap::new();
    for op in &history.operations {
        partitions
            .entry(partition_key(name, op))
            .or_default()
            .push(op);
    }
    let mut outcome = Outcome {
        partitions: Vec::new(),
    };
    for ops in partitions.values() {
        // Events are numbered from line 1 by `History::from_events`.
        let lines: Vec<usize> = ops
            .iter()
            .flat_map(|op| std::iter::once(op.invoke_line).chain(op.complete_line))
            .collect();
        let own: Vec<Event> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| lines.contains(&(i + 1)))
            .map(|(_, e)| e.clone())
            .collect();
        let linearizable = brute_force(model, &common::history(&own))?;
        let diagnosis = model.diagnose(ops);
        for d in &diagnosis {
            if d.lines.is_empty()
                || d.lines.windows(2).any(|w| w[0] >= w[1])
                || d.lines.iter().any(|l| *l == 0 || *l > events.len())
            {
                return Err(format!("badly formed lines in {d:?}"));
            }
            if d.message.chars().any(char::is_control) {
                return Err(format!("a control character in {d:?}"));
            }
        }
        outcome.partitions.push((linearizable, diagnosis));
    }
    Ok(outcome)
}

/// [`diagnose_partitions`] with the built-in model `name`, made as `check_model` makes it.
fn diagnose_with(name: &str, init: &Value, events: &[Event]) -> Result<Outcome, String> {
    let history = common::history(events);
    let ops = &history.operations;
    let flag = |v: &Value| v == &Value::Bool(true);
    match name {
        "register" | "cas-register" => diagnose_partitions(
            &Register::new(
                init.clone(),
                name == "cas-register",
                NilReads::infer(init, ops, false),
            ),
            name,
            events,
            &history,
        ),
        "kv" => diagnose_partitions(
            &Kv {
                init: init.clone(),
                nil_reads: NilReads::infer(init, ops, true),
            },
            name,
            events,
            &history,
        ),
        "multi-register" => diagnose_partitions(
            &MultiRegister::new(init, NilReads::infer(init, ops, false))?,
            name,
            events,
            &history,
        ),
        "counter" => diagnose_partitions(
            &Counter::for_history(init, &history).map_err(|e| e.to_string())?,
            name,
            events,
            &history,
        ),
        "set" => diagnose_partitions(&Set::new(init)?, name, events, &history),
        "queue" => diagnose_partitions(&Queue::new(init)?, name, events, &history),
        "mutex" => diagnose_partitions(
            &Mutex {
                init_held: flag(init),
            },
            name,
            events,
            &history,
        ),
        "create-once" => diagnose_partitions(
            &CreateOnce {
                init_exists: flag(init),
            },
            name,
            events,
            &history,
        ),
        other => panic!("no model {other}"),
    }
}

/// A diagnosis given to a partition the reference finds linearizable: a false claim.
fn false_claim(model: &str, init: &Value, events: &[Event]) -> Option<Vec<Diagnosis>> {
    let outcome = diagnose_with(model, init, events).ok()?;
    outcome
        .partitions
        .into_iter()
        .find(|(linearizable, diagnosis)| *linearizable && !diagnosis.is_empty())
        .map(|(_, diagnosis)| diagnosis)
}

fn never_a_false_claim(label: &str, cases: u32) {
    let invalid = Cell::new(0usize);
    let diagnosed = Cell::new(0usize);
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&mutated(10), |input| {
        let mut w = workload(label);
        let events = mutated_events(w.as_mut(), input);
        let (model, init) = (w.model(), w.init());
        let Ok(outcome) = diagnose_with(model, &init, &events) else {
            // The model rejects the history: nothing is checked, nothing diagnosed.
            return Ok(());
        };
        for (linearizable, diagnosis) in &outcome.partitions {
            if *linearizable && !diagnosis.is_empty() {
                let minimal = minimize(&events, |e| false_claim(model, &init, e).is_some());
                return Err(TestCaseError::fail(format!(
                    "model {model} (workload {label}), init {init}: a linearizable partition got \
                     {:#?}\nminimized history:\n{}\nits diagnosis: {:#?}",
                    diagnosis,
                    to_jsonl(&minimal),
                    false_claim(model, &init, &minimal)
                )));
            }
            if !linearizable {
                invalid.set(invalid.get() + 1);
                diagnosed.set(diagnosed.get() + usize::from(!diagnosis.is_empty()));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (invalid, diagnosed) = (invalid.get(), diagnosed.get());
    eprintln!("{label}: {diagnosed} of {invalid} non-linearizable partitions diagnosed");
    if label != "multi-register" {
        assert!(
            diagnosed * 5 >= invalid,
            "{label}: too few diagnoses to say the test exercises them: {diagnosed} of {invalid}"
        );
    }
}

macro_rules! soundness {
    ($($test:ident: $label:literal,)*) => {$(
        #[test]
        fn $test() {
            never_a_false_claim($label, 4000);
        }
    )*};
}

soundness! {
    register_diagnosis_is_sound: "register",
    cas_register_diagnosis_is_sound: "cas-register",
    register_unique_diagnosis_is_sound: "register-unique",
    cas_register_unique_diagnosis_is_sound: "cas-register-unique",
    kv_strings_diagnosis_is_sound: "kv-str",
    kv_appends_diagnosis_is_sound: "kv-append",
    kv_lists_diagnosis_is_sound: "kv-list",
    counter_diagnosis_is_sound: "counter",
    unit_counter_diagnosis_is_sound: "counter-unit",
    decimal_counter_diagnosis_is_sound: "counter-decimal",
    set_diagnosis_is_sound: "set",
    set_unique_diagnosis_is_sound: "set-unique",
    queue_diagnosis_is_sound: "queue",
    mutex_diagnosis_is_sound: "mutex",
    create_once_diagnosis_is_sound: "create-once",
}

#[test]
fn every_workload_is_covered() {
    let covered = [
        "register",
        "cas-register",
        "register-unique",
        "cas-register-unique",
        "kv-str",
        "kv-append",
        "kv-list",
        "counter",
        "counter-unit",
        "counter-decimal",
        "set",
        "set-unique",
        "queue",
        "mutex",
        "create-once",
        // Transactions get no diagnosis; nothing to check.
        "multi-register",
    ];
    for w in all_workloads() {
        assert!(
            covered.contains(&w.label()),
            "{} has no soundness test",
            w.label()
        );
    }
}
