//! Property tests of the checker against simulated correct systems and against the brute-force
//! reference in `common/brute_force.rs`, plus hand-written regressions.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`), so a run is reproducible.

use crate::common;

use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use common::workloads::workload;
use common::{
    checker, checker_with, jsonl, minimize, mutate, permutation_reference, reference, run,
    simulate, to_jsonl, SimParams, Tape, Workload,
};
use photofinish_history::{Event, History, Value};

fn describe(w: &dyn Workload, events: &[Event]) -> String {
    format!(
        "model {} (workload {}), init {}, history:\n{}",
        w.model(),
        w.label(),
        w.init(),
        to_jsonl(events)
    )
}

// =============================================================================================
// (a) Histories of a correct simulated system are valid.

/// `(processes, operations, fault percentage, tape)`.
fn simulation(
    max_ops: usize,
    max_fault_pct: usize,
) -> impl Strategy<Value = (usize, usize, usize, Vec<u32>)> {
    (
        2..=5usize,
        1..=max_ops,
        0..=max_fault_pct,
        vec(any::<u32>(), 0..=max_ops * 12),
    )
}

/// Checks `cases` simulated histories of up to `max_ops` operations. Indeterminate operations
/// multiply the states the search must keep (each indeterminate dequeue may have removed any
/// element at any moment), so long histories get at most `max_faults` faults.
fn simulated_histories_are_valid(
    label: &str,
    max_ops: usize,
    max_fault_pct: usize,
    max_faults: usize,
    cases: u32,
) {
    run(
        cases,
        simulation(max_ops, max_fault_pct),
        |(procs, ops, fault_pct, tape)| {
            let mut w = workload(label);
            let events = simulate(
                w.as_mut(),
                &mut Tape::new(tape),
                SimParams {
                    procs,
                    ops,
                    fault_pct,
                    max_faults,
                },
            );
            let history = common::history(&events);
            // A Jepsen independent cas-register history of cas operations alone reads as plain
            // `[expected new]` pairs, as the crate documents: it is not this workload's history.
            let ambiguous = w.label().ends_with("-independent")
                && w.model() == "cas-register"
                && history.operations.iter().all(|op| op.f == "cas");
            prop_assume!(!ambiguous);
            let verdict = checker(w.model(), &w.init(), &history);
            if verdict == Ok(false) && ops <= 10 {
                // Small enough for the reference: shrink to a minimal disagreement.
                let disagree = |events: &[Event]| {
                    let history = common::history(events);
                    checker(w.model(), &w.init(), &history)
                        != reference(w.model(), &w.init(), &history)
                };
                if disagree(&events) {
                    let minimal = minimize(&events, disagree);
                    return Err(TestCaseError::fail(format!(
                        "a correct execution was judged invalid; {}\nminimized disagreement \
                         with the reference: {}",
                        describe(w.as_ref(), &events),
                        describe(w.as_ref(), &minimal)
                    )));
                }
            }
            prop_assert_eq!(
                verdict.clone(),
                Ok(true),
                "a correct execution was judged {:?}; {}",
                verdict,
                describe(w.as_ref(), &events)
            );
            if ops <= 10 {
                // Sanity check of the reference (and of the simulator) on the same history.
                let expected = reference(w.model(), &w.init(), &history);
                prop_assert_eq!(
                    expected.clone(),
                    Ok(true),
                    "the REFERENCE judged a correct execution {:?}; {}",
                    expected,
                    describe(w.as_ref(), &events)
                );
            }
            Ok(())
        },
    );
}

/// Small histories with many faults, then long ones with a few.
macro_rules! valid_simulations {
    ($($test:ident: $label:literal, $long_faults:literal;)*) => {$(
        #[test]
        fn $test() {
            simulated_histories_are_valid($label, 10, 20, usize::MAX, 1000);
            simulated_histories_are_valid($label, 200, 8, $long_faults, 200);
        }
    )*};
}

valid_simulations! {
    simulated_register_is_valid: "register", 25;
    simulated_cas_register_is_valid: "cas-register", 25;
    simulated_kv_strings_is_valid: "kv-str", 25;
    simulated_kv_appends_is_valid: "kv-append", 25;
    simulated_kv_lists_is_valid: "kv-list", 25;
    simulated_multi_register_is_valid: "multi-register", 25;
    simulated_counter_is_valid: "counter", 25;
    simulated_decimal_counter_is_valid: "counter-decimal", 25;
    simulated_independent_register_is_valid: "register-independent", 25;
    simulated_independent_cas_register_is_valid: "cas-register-independent", 25;
    simulated_independent_counter_is_valid: "counter-independent", 25;
    simulated_set_is_valid: "set", 25;
    simulated_queue_is_valid: "queue", 6;
    simulated_mutex_is_valid: "mutex", 25;
    simulated_create_once_is_valid: "create-once", 25;
}

// =============================================================================================
// (b) On small, possibly mutated histories, the checker agrees with the brute-force reference.

/// `(processes, operations, fault percentage, mutations, simulation tape, mutation tape)`.
type Mutated = (usize, usize, usize, usize, Vec<u32>, Vec<u32>);

fn mutated(max_ops: usize) -> impl Strategy<Value = Mutated> {
    (
        2..=4usize,
        2..=max_ops,
        0..=20usize,
        0..=4usize,
        vec(any::<u32>(), 0..=150),
        vec(any::<u32>(), 0..=24),
    )
}

/// A small history: simulated, then mutated.
fn mutated_history(
    w: &mut dyn Workload,
    (procs, ops, fault_pct, mutations, sim_tape, mutation_tape): Mutated,
) -> (Vec<Event>, History) {
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
    let history = common::history(&events);
    (events, history)
}

fn agrees_with_reference(label: &str, cases: u32) {
    let valid = Cell::new(0usize);
    let invalid = Cell::new(0usize);
    let rejected = Cell::new(0usize);
    run(cases, mutated(10), |input| {
        let mut w = workload(label);
        let (events, history) = mutated_history(w.as_mut(), input);
        let expected = reference(w.model(), &w.init(), &history);
        let actual = checker(w.model(), &w.init(), &history);
        match &expected {
            Ok(true) => valid.set(valid.get() + 1),
            Ok(false) => invalid.set(invalid.get() + 1),
            Err(_) => rejected.set(rejected.get() + 1),
        }
        if actual != expected && actual.is_ok() && expected.is_ok() {
            let disagree = |events: &[Event]| {
                let history = common::history(events);
                checker(w.model(), &w.init(), &history) != reference(w.model(), &w.init(), &history)
            };
            let minimal = minimize(&events, disagree);
            let history = common::history(&minimal);
            return Err(TestCaseError::fail(format!(
                "checker says valid={:?}, reference says valid={:?}; {}\n\
                 minimized (checker {:?}, reference {:?}): {}",
                actual,
                expected,
                describe(w.as_ref(), &events),
                checker(w.model(), &w.init(), &history),
                reference(w.model(), &w.init(), &history),
                describe(w.as_ref(), &minimal),
            )));
        }
        prop_assert_eq!(
            actual.clone(),
            expected.clone(),
            "checker {:?}, reference {:?}; {}",
            actual,
            expected,
            describe(w.as_ref(), &events)
        );
        // Deciding every partition changes how much is reported, not the verdict.
        let all = checker_with(w.model(), &w.init(), &history, true);
        prop_assert_eq!(
            all,
            actual,
            "all_partitions changed the verdict; {}",
            describe(w.as_ref(), &events)
        );
        Ok(())
    });
    let (valid, invalid, rejected) = (valid.get(), invalid.get(), rejected.get());
    eprintln!("{label}: {valid} valid, {invalid} invalid, {rejected} rejected histories");
    let total = valid + invalid + rejected;
    assert!(
        valid * 10 >= total && invalid * 10 >= total,
        "{label}: too lopsided to test both verdicts: {valid} valid, {invalid} invalid of {total}"
    );
}

/// The reference itself agrees with an even more naive one (every subset of the indeterminate
/// operations, every order) on tiny histories.
#[test]
fn reference_agrees_with_trying_every_permutation() {
    let labels: Vec<&str> = common::workloads::all_workloads()
        .iter()
        .chain(&common::workloads::independent_workloads())
        .map(|w| w.label())
        .collect();
    let strategy = (0..labels.len(), mutated(6));
    run(1000, strategy, |(which, input)| {
        let mut w = workload(labels[which]);
        let (events, history) = mutated_history(w.as_mut(), input);
        let recursion = reference(w.model(), &w.init(), &history);
        let permutations = permutation_reference(w.model(), &w.init(), &history);
        prop_assert_eq!(
            recursion,
            permutations,
            "the two references disagree; {}",
            describe(w.as_ref(), &events)
        );
        Ok(())
    });
}

macro_rules! agreements {
    ($($test:ident: $label:literal,)*) => {$(
        #[test]
        fn $test() {
            agrees_with_reference($label, 5000);
        }
    )*};
}

agreements! {
    register_agrees_with_reference: "register",
    cas_register_agrees_with_reference: "cas-register",
    kv_strings_agrees_with_reference: "kv-str",
    kv_appends_agrees_with_reference: "kv-append",
    kv_lists_agrees_with_reference: "kv-list",
    multi_register_agrees_with_reference: "multi-register",
    counter_agrees_with_reference: "counter",
    decimal_counter_agrees_with_reference: "counter-decimal",
    independent_register_agrees_with_reference: "register-independent",
    independent_cas_register_agrees_with_reference: "cas-register-independent",
    independent_counter_agrees_with_reference: "counter-independent",
    set_agrees_with_reference: "set",
    set_unique_agrees_with_reference: "set-unique",
    queue_agrees_with_reference: "queue",
    mutex_agrees_with_reference: "mutex",
    create_once_agrees_with_reference: "create-once",
}

// =============================================================================================
// (c) Hand-written regressions. Each is checked by both the checker and the reference.

fn verdicts(model: &str, init: &str, text: &str) -> (Result<bool, String>, Result<bool, String>) {
    let init = Value::from_json_str(init).expect("init is JSON");
    let history = jsonl(text);
    (
        checker(model, &init, &history),
        reference(model, &init, &history),
    )
}

#[track_caller]
fn assert_valid(model: &str, init: &str, text: &str) {
    let (actual, expected) = verdicts(model, init, text);
    assert_eq!(
        expected,
        Ok(true),
        "the reference disagrees with the test:\n{text}"
    );
    assert_eq!(
        actual,
        Ok(true),
        "checker: {model} with init {init}:\n{text}"
    );
}

#[track_caller]
fn assert_invalid(model: &str, init: &str, text: &str) {
    let (actual, expected) = verdicts(model, init, text);
    assert_eq!(
        expected,
        Ok(false),
        "the reference disagrees with the test:\n{text}"
    );
    assert_eq!(
        actual,
        Ok(false),
        "checker: {model} with init {init}:\n{text}"
    );
}

#[test]
fn read_concurrent_with_write_sees_either_value() {
    for seen in [1, 2] {
        assert_valid(
            "register",
            "null",
            &format!(
                r#"{{"type":"invoke","f":"write","value":1,"process":0}}
{{"type":"ok","f":"write","value":1,"process":0}}
{{"type":"invoke","f":"write","value":2,"process":0}}
{{"type":"invoke","f":"read","value":null,"process":1}}
{{"type":"ok","f":"read","value":{seen},"process":1}}
{{"type":"ok","f":"write","value":2,"process":0}}
"#
            ),
        );
    }
}

#[test]
fn stale_read_after_completed_write_is_invalid() {
    assert_invalid(
        "register",
        "null",
        r#"{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"write","value":1,"process":0}
{"type":"invoke","f":"write","value":2,"process":0}
{"type":"ok","f":"write","value":2,"process":0}
{"type":"invoke","f":"read","value":null,"process":1}
{"type":"ok","f":"read","value":1,"process":1}
"#,
    );
}

#[test]
fn info_write_may_take_effect_late() {
    // The write times out, a read long after still sees the old value, and a later read sees
    // the new one: the write took effect between them.
    assert_valid(
        "register",
        "null",
        r#"{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"write","value":1,"process":0}
{"type":"invoke","f":"write","value":2,"process":1}
{"type":"info","f":"write","value":2,"process":1}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":1,"process":0}
{"type":"invoke","f":"read","value":null,"process":2}
{"type":"ok","f":"read","value":1,"process":2}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":2,"process":0}
"#,
    );
    // But once seen, it cannot be undone.
    assert_invalid(
        "register",
        "null",
        r#"{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"write","value":1,"process":0}
{"type":"invoke","f":"write","value":2,"process":1}
{"type":"info","f":"write","value":2,"process":1}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":2,"process":0}
{"type":"invoke","f":"read","value":null,"process":2}
{"type":"ok","f":"read","value":1,"process":2}
"#,
    );
}

#[test]
fn indeterminate_write_need_not_take_effect() {
    // Timed out, and never completed at all.
    for ending in [r#"{"type":"info","f":"write","value":2,"process":1}"#, ""] {
        assert_valid(
            "register",
            "null",
            &format!(
                r#"{{"type":"invoke","f":"write","value":1,"process":0}}
{{"type":"ok","f":"write","value":1,"process":0}}
{{"type":"invoke","f":"write","value":2,"process":1}}
{ending}
{{"type":"invoke","f":"read","value":null,"process":0}}
{{"type":"ok","f":"read","value":1,"process":0}}
"#
            ),
        );
    }
}

#[test]
fn failed_cas_has_no_effect() {
    let history = |seen: i64| {
        format!(
            r#"{{"type":"invoke","f":"cas","value":[0,1],"process":0}}
{{"type":"fail","f":"cas","value":[0,1],"process":0}}
{{"type":"invoke","f":"read","value":null,"process":1}}
{{"type":"ok","f":"read","value":{seen},"process":1}}
"#
        )
    };
    assert_valid("cas-register", "0", &history(0));
    assert_invalid("cas-register", "0", &history(1));
}

#[test]
fn two_creations_of_one_key_are_invalid() {
    let history = |second: &str| {
        format!(
            r#"{{"type":"invoke","f":"create","value":null,"key":"k","process":0}}
{{"type":"invoke","f":"create","value":null,"key":"{second}","process":1}}
{{"type":"ok","f":"create","value":"created","key":"k","process":0}}
{{"type":"ok","f":"create","value":"created","key":"{second}","process":1}}
"#
        )
    };
    assert_invalid("create-once", "false", &history("k"));
    assert_valid("create-once", "false", &history("other"));
}

#[test]
fn counter_lost_update_is_invalid() {
    let history = |seen: i64| {
        format!(
            r#"{{"type":"invoke","f":"add","value":1,"process":0}}
{{"type":"invoke","f":"add","value":1,"process":1}}
{{"type":"ok","f":"add","value":1,"process":0}}
{{"type":"ok","f":"add","value":1,"process":1}}
{{"type":"invoke","f":"read","value":null,"process":0}}
{{"type":"ok","f":"read","value":{seen},"process":0}}
"#
        )
    };
    assert_invalid("counter", "0", &history(1));
    assert_valid("counter", "0", &history(2));
}

#[test]
fn two_mutex_holders_are_invalid() {
    assert_invalid(
        "mutex",
        "false",
        r#"{"type":"invoke","f":"acquire","value":null,"process":0}
{"type":"ok","f":"acquire","value":null,"process":0}
{"type":"invoke","f":"acquire","value":null,"process":1}
{"type":"ok","f":"acquire","value":null,"process":1}
"#,
    );
    // With a release that may have happened in between, it is fine.
    assert_valid(
        "mutex",
        "false",
        r#"{"type":"invoke","f":"acquire","value":null,"process":0}
{"type":"ok","f":"acquire","value":null,"process":0}
{"type":"invoke","f":"release","value":null,"process":0}
{"type":"info","f":"release","value":null,"process":0}
{"type":"invoke","f":"acquire","value":null,"process":1}
{"type":"ok","f":"acquire","value":null,"process":1}
"#,
    );
}

#[test]
fn queue_elements_no_dequeue_returned_still_count() {
    // Element 1 is never returned, so the search keeps it anonymous; it still blocks the
    // dequeue of 2 and makes the queue non-empty.
    assert_invalid(
        "queue",
        "[]",
        r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
{"type":"ok","f":"enqueue","value":1,"process":0}
{"type":"invoke","f":"enqueue","value":2,"process":0}
{"type":"ok","f":"enqueue","value":2,"process":0}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":2,"process":1}
"#,
    );
    assert_invalid(
        "queue",
        "[]",
        r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
{"type":"ok","f":"enqueue","value":1,"process":0}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":null,"process":1}
"#,
    );
    // An indeterminate dequeue may have taken it.
    assert_valid(
        "queue",
        "[]",
        r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
{"type":"ok","f":"enqueue","value":1,"process":0}
{"type":"invoke","f":"dequeue","value":null,"process":2}
{"type":"info","f":"dequeue","value":null,"process":2}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":null,"process":1}
"#,
    );
}

#[test]
fn queue_dequeue_out_of_order_is_invalid() {
    assert_invalid(
        "queue",
        "[]",
        r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
{"type":"ok","f":"enqueue","value":1,"process":0}
{"type":"invoke","f":"enqueue","value":2,"process":0}
{"type":"ok","f":"enqueue","value":2,"process":0}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":2,"process":1}
"#,
    );
    // Concurrent enqueues may land in either order.
    assert_valid(
        "queue",
        "[]",
        r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
{"type":"invoke","f":"enqueue","value":2,"process":2}
{"type":"ok","f":"enqueue","value":1,"process":0}
{"type":"ok","f":"enqueue","value":2,"process":2}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":2,"process":1}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":1,"process":1}
{"type":"invoke","f":"dequeue","value":null,"process":1}
{"type":"ok","f":"dequeue","value":null,"process":1}
"#,
    );
}

/// Appends of "1" and "2" race a put of "x"; then, sequentially, `tail`.
fn kv_put_racing_appends(tail: &str) -> String {
    format!(
        r#"{{"type":"invoke","f":"append","key":"a","value":"1","process":0}}
{{"type":"invoke","f":"append","key":"a","value":"2","process":1}}
{{"type":"invoke","f":"put","key":"a","value":"x","process":2}}
{{"type":"ok","f":"append","key":"a","value":"1","process":0}}
{{"type":"ok","f":"put","key":"a","value":"x","process":2}}
{{"type":"ok","f":"append","key":"a","value":"2","process":1}}
{tail}"#
    )
}

fn kv_reads(seen: &[&str]) -> String {
    seen.iter()
        .map(|s| {
            format!(
                r#"{{"type":"invoke","f":"get","key":"a","value":null,"process":3}}
{{"type":"ok","f":"get","key":"a","value":"{s}","process":3}}
"#
            )
        })
        .collect()
}

#[test]
fn kv_put_resets_appends() {
    // The put came after both appends, or between them, or before both.
    for seen in ["x", "x1", "x2", "x12", "x21"] {
        assert_valid("kv", "null", &kv_put_racing_appends(&kv_reads(&[seen])));
    }
    // A put replaces the whole value: nothing before it survives.
    for seen in ["1x", "12x", "2", "12", "1", ""] {
        assert_invalid("kv", "null", &kv_put_racing_appends(&kv_reads(&[seen])));
    }
    // Reads are sequential: once "x" is seen with every append done, nothing more can appear.
    assert_invalid(
        "kv",
        "null",
        &kv_put_racing_appends(&kv_reads(&["x", "x1"])),
    );
    assert_valid(
        "kv",
        "null",
        &kv_put_racing_appends(&kv_reads(&["x2", "x2"])),
    );
    // A later append extends the put: appends completed before the put began are gone.
    let later = format!(
        r#"{{"type":"invoke","f":"put","key":"a","value":"y","process":2}}
{{"type":"ok","f":"put","key":"a","value":"y","process":2}}
{{"type":"invoke","f":"append","key":"a","value":"3","process":0}}
{{"type":"ok","f":"append","key":"a","value":"3","process":0}}
{}"#,
        kv_reads(&["y3"])
    );
    assert_valid("kv", "null", &kv_put_racing_appends(&later));
    assert_invalid(
        "kv",
        "null",
        &kv_put_racing_appends(&later.replace(r#""value":"y3""#, r#""value":"y13""#)),
    );
    // Other keys are independent.
    assert_valid(
        "kv",
        "null",
        &kv_put_racing_appends(
            r#"{"type":"invoke","f":"get","key":"b","value":null,"process":3}
{"type":"ok","f":"get","key":"b","value":null,"process":3}
"#,
        ),
    );
}

#[test]
fn multi_register_reads_see_committed_writes() {
    let history = |seen: i64| {
        format!(
            r#"{{"type":"invoke","f":"txn","value":[["write","x",1],["write","y",1]],"process":0}}
{{"type":"ok","f":"txn","value":[["write","x",1],["write","y",1]],"process":0}}
{{"type":"invoke","f":"txn","value":[["read","x",null],["read","y",null]],"process":1}}
{{"type":"ok","f":"txn","value":[["read","x",1],["read","y",{seen}]],"process":1}}
"#
        )
    };
    assert_valid("multi-register", r#"{"x":0,"y":0}"#, &history(1));
    assert_invalid("multi-register", r#"{"x":0,"y":0}"#, &history(0));
}

#[test]
fn set_read_misses_a_completed_add() {
    assert_invalid(
        "set",
        "[]",
        r#"{"type":"invoke","f":"add","value":1,"process":0}
{"type":"ok","f":"add","value":1,"process":0}
{"type":"invoke","f":"read","value":null,"process":1}
{"type":"ok","f":"read","value":[],"process":1}
"#,
    );
}

// Found by the properties above (in a version of the search that placed any operation leaving
// the state unchanged as soon as it was legal): a write of the value the register already holds
// is not read-only. It may have to be linearized after another write, and then it changes the
// state.

#[test]
fn open_write_of_the_current_value_may_come_after_another_write() {
    // The second write of 1 is still open when the write of 2 returns; it must be placed after
    // the write of 2 for the read to see 1.
    assert_valid(
        "register",
        "null",
        r#"{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"write","value":1,"process":0}
{"type":"invoke","f":"write","value":1,"process":1}
{"type":"invoke","f":"write","value":2,"process":2}
{"type":"ok","f":"write","value":2,"process":2}
{"type":"ok","f":"write","value":1,"process":1}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":1,"process":0}
"#,
    );
}

#[test]
fn returning_write_of_the_current_value_may_come_after_another_write() {
    // The write of 1 returns while the write of 2 is open: the write of 2 may go first.
    assert_valid(
        "register",
        "null",
        r#"{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"write","value":1,"process":0}
{"type":"invoke","f":"write","value":2,"process":1}
{"type":"invoke","f":"write","value":1,"process":2}
{"type":"ok","f":"write","value":1,"process":2}
{"type":"ok","f":"write","value":2,"process":1}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":1,"process":0}
"#,
    );
    // The same with the initial value, then a cas that needs it.
    assert_valid(
        "cas-register",
        "0",
        r#"{"type":"invoke","f":"write","value":1,"process":1}
{"type":"invoke","f":"write","value":0,"process":2}
{"type":"ok","f":"write","value":0,"process":2}
{"type":"ok","f":"write","value":1,"process":1}
{"type":"invoke","f":"cas","value":[0,2],"process":1}
{"type":"ok","f":"cas","value":[0,2],"process":1}
"#,
    );
}

#[test]
fn operations_that_change_nothing_now_may_change_something_later() {
    // kv: appending "" to a string changes nothing, but to nil it makes "".
    assert_valid(
        "kv",
        "null",
        r#"{"type":"invoke","f":"put","key":"k","value":"a","process":0}
{"type":"ok","f":"put","key":"k","value":"a","process":0}
{"type":"invoke","f":"put","key":"k","value":null,"process":1}
{"type":"invoke","f":"append","key":"k","value":"","process":2}
{"type":"ok","f":"append","key":"k","value":"","process":2}
{"type":"ok","f":"put","key":"k","value":null,"process":1}
{"type":"invoke","f":"get","key":"k","value":null,"process":0}
{"type":"ok","f":"get","key":"k","value":"","process":0}
"#,
    );
    // multi-register: a transaction writing what is already there.
    assert_valid(
        "multi-register",
        r#"{"x":0,"y":0}"#,
        r#"{"type":"invoke","f":"txn","value":[["write","x",0],["write","y",0]],"process":1}
{"type":"invoke","f":"txn","value":[["write","x",1]],"process":2}
{"type":"ok","f":"txn","value":[["write","x",1]],"process":2}
{"type":"ok","f":"txn","value":[["write","x",0],["write","y",0]],"process":1}
{"type":"invoke","f":"txn","value":[["read","x",null]],"process":0}
{"type":"ok","f":"txn","value":[["read","x",0]],"process":0}
"#,
    );
    // counter: adding 0 really changes nothing, and the read after both adds sees 5.
    assert_valid(
        "counter",
        "0",
        r#"{"type":"invoke","f":"add","value":5,"process":1}
{"type":"invoke","f":"add","value":0,"process":2}
{"type":"ok","f":"add","value":0,"process":2}
{"type":"ok","f":"add","value":5,"process":1}
{"type":"invoke","f":"read","value":null,"process":0}
{"type":"ok","f":"read","value":5,"process":0}
"#,
    );
}

#[test]
fn kv_keys_given_as_jepsen_tuples() {
    // Jepsen's independent histories give [key, value] pairs instead of a key field.
    let history = |seen: i64| {
        format!(
            r#"{{"type":"invoke","f":"write","value":["a",1],"process":0}}
{{"type":"ok","f":"write","value":["a",1],"process":0}}
{{"type":"invoke","f":"write","value":["b",2],"process":1}}
{{"type":"ok","f":"write","value":["b",2],"process":1}}
{{"type":"invoke","f":"read","value":["a",null],"process":0}}
{{"type":"ok","f":"read","value":["a",{seen}],"process":0}}
"#
        )
    };
    assert_valid("kv", "null", &history(1));
    assert_invalid("kv", "null", &history(2));
}
