//! The unique-values procedure for registers: it agrees with the generic search and with the
//! brute-force reference on generated histories, and decides hand-written ones right, with a
//! report that says which procedure decided and why.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`).

use crate::common;

use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use common::workloads::workload;
use common::{config, jsonl, mutate, reference, simulate, to_jsonl, SimParams, Tape, CHECK_BUDGET};
use photofinish_check::{
    check_model, CheckOptions, Report, SearchChoice, Verdict, GENERIC_SEARCH, NOTHING_TESTED,
    UNIQUE_VALUES,
};
use photofinish_history::{Event, History, Value};

const LABELS: [&str; 2] = ["register-unique", "cas-register-unique"];

fn report(model: &str, init: &Value, history: &History, search: SearchChoice) -> Report {
    let options = CheckOptions {
        timeout: Some(CHECK_BUDGET),
        max_memory: 2 << 30,
        search,
        ..CheckOptions::default()
    };
    check_model(model, Some(init), None, history, &options).expect("the history is checkable")
}

/// `Ok(valid)`, or `Err` when undecided; a history that tested nothing counts as valid, as the
/// reference sees it.
fn verdict(report: &Report) -> Result<bool, String> {
    match report.verdict {
        Verdict::Valid => Ok(true),
        Verdict::Invalid => Ok(false),
        Verdict::Unknown if report.reason.as_deref() == Some(NOTHING_TESTED) => Ok(true),
        Verdict::Unknown => Err(format!("undecided: {:?}", report.undecided)),
    }
}

/// How many partitions the unique-values procedure decided.
fn by_unique_values(report: &Report) -> usize {
    report
        .procedures
        .iter()
        .filter(|p| p.name == UNIQUE_VALUES)
        .map(|p| p.partitions)
        .sum()
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(config(cases));
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

/// `(workload, processes, operations, fault percentage, mutations, simulation tape, mutation
/// tape)`.
type Input = (usize, usize, usize, usize, usize, Vec<u32>, Vec<u32>);

fn inputs(max_procs: usize, max_ops: usize, max_mutations: usize) -> impl Strategy<Value = Input> {
    (
        0..LABELS.len(),
        2..=max_procs,
        1..=max_ops,
        0..=20usize,
        0..=max_mutations,
        vec(any::<u32>(), 0..=max_ops * 12),
        vec(any::<u32>(), 0..=24),
    )
}

/// A simulated history of a correct register, then mutated.
fn generate(
    (which, procs, ops, fault_pct, mutations, sim_tape, mutation_tape): Input,
) -> (&'static str, Value, Vec<Event>) {
    let mut w = workload(LABELS[which]);
    let params = SimParams {
        procs,
        ops,
        fault_pct,
        max_faults: usize::MAX,
    };
    let mut events = simulate(w.as_mut(), &mut Tape::new(sim_tape), params);
    let mut tape = Tape::new(mutation_tape);
    let mut next_process = 1000;
    for _ in 0..mutations {
        mutate(w.as_ref(), &mut events, &mut tape, &mut next_process);
    }
    (w.model(), w.init(), events)
}

/// The procedure, the generic search and (when `with_reference`) the brute-force reference
/// give one verdict; returns it and whether the procedure decided.
fn agree(
    model: &str,
    init: &Value,
    events: &[Event],
    with_reference: bool,
) -> Result<(Result<bool, String>, bool), TestCaseError> {
    let history = common::history(events);
    let auto = report(model, init, &history, SearchChoice::Auto);
    let generic = report(model, init, &history, SearchChoice::Generic);
    let shown = || format!("model {model}, init {init}, history:\n{}", to_jsonl(events));
    prop_assert_eq!(
        verdict(&auto),
        verdict(&generic),
        "auto and generic disagree; {}",
        shown()
    );
    prop_assert_eq!(by_unique_values(&generic), 0);
    // Every written value is unique here: the procedure never declines (it would if its own
    // certificate failed its check), and decides whatever was tested.
    prop_assert!(
        auto.procedures.iter().all(|p| p.name == UNIQUE_VALUES),
        "the procedure declined: {:?}; {}",
        auto.procedures,
        shown()
    );
    if with_reference {
        let expected = reference(model, init, &history);
        prop_assert_eq!(
            verdict(&auto),
            expected,
            "auto disagrees with the reference; {}",
            shown()
        );
    }
    if auto.verdict == Verdict::Invalid {
        prop_assert!(
            auto.witness.is_some(),
            "an invalid report without a witness; {}",
            shown()
        );
    }
    Ok((verdict(&auto), by_unique_values(&auto) > 0))
}

#[test]
fn procedure_agrees_with_generic_search_and_reference() {
    let valid = Cell::new(0usize);
    let invalid = Cell::new(0usize);
    let decided = Cell::new(0usize);
    run(5000, inputs(4, 10, 4), |input| {
        let (model, init, events) = generate(input);
        let (verdict, by_procedure) = agree(model, &init, &events, true)?;
        match verdict {
            Ok(true) => valid.set(valid.get() + 1),
            Ok(false) => invalid.set(invalid.get() + 1),
            Err(_) => {}
        }
        if by_procedure {
            decided.set(decided.get() + 1);
        }
        Ok(())
    });
    let (valid, invalid, decided) = (valid.get(), invalid.get(), decided.get());
    eprintln!("{valid} valid, {invalid} invalid; the procedure decided {decided}");
    let total = valid + invalid;
    assert!(valid * 10 >= total && invalid * 10 >= total, "too lopsided");
    assert!(decided * 10 >= total * 9, "the procedure decided too few");
}

/// Longer histories, too long for the reference: the procedure and the generic search agree.
#[test]
fn procedure_agrees_with_generic_search_on_longer_histories() {
    run(600, inputs(6, 40, 3), |input| {
        let (model, init, events) = generate(input);
        let _ = agree(model, &init, &events, false)?;
        Ok(())
    });
}

/// Correct executions with many concurrent clients and faults are valid, by the procedure.
#[test]
fn correct_executions_are_valid() {
    run(200, inputs(12, 300, 0), |input| {
        let (model, init, events) = generate(input);
        let history = common::history(&events);
        let auto = report(model, &init, &history, SearchChoice::Auto);
        prop_assert_eq!(verdict(&auto), Ok(true), "{}", to_jsonl(&events));
        prop_assert!(by_unique_values(&auto) > 0 || history.operations.is_empty());
        Ok(())
    });
}

// =============================================================================================
// Hand-written histories. Each is decided by the procedure, the generic search and the
// reference alike.

fn op(process: i64, f: &str, value: &str, ending: &str, result: &str) -> String {
    let invoke = format!(r#"{{"type":"invoke","f":"{f}","value":{value},"process":{process}}}"#);
    match ending {
        "pending" => invoke + "\n",
        _ => format!(
            "{invoke}\n{{\"type\":\"{ending}\",\"f\":\"{f}\",\"value\":{result},\"process\":{process}}}\n"
        ),
    }
}

/// Checks `text` every way; returns the procedure's report.
#[track_caller]
fn decided(model: &str, init: &str, text: &str, valid: bool) -> Report {
    let init = Value::from_json_str(init).expect("init is JSON");
    let history = jsonl(text);
    assert_eq!(
        reference(model, &init, &history),
        Ok(valid),
        "the reference disagrees with the test:\n{text}"
    );
    let generic = report(model, &init, &history, SearchChoice::Generic);
    assert_eq!(verdict(&generic), Ok(valid), "generic search:\n{text}");
    let auto = report(model, &init, &history, SearchChoice::Auto);
    assert_eq!(verdict(&auto), Ok(valid), "auto:\n{text}");
    assert_eq!(
        auto.procedures[0].name, UNIQUE_VALUES,
        "not decided by the procedure: {:?}",
        auto.procedures
    );
    auto
}

fn reason(report: &Report) -> &str {
    &report.failures[0].reason
}

#[test]
fn stale_read_is_invalid_with_a_three_operation_witness() {
    let text = op(0, "write", "1", "ok", "1")
        + &op(0, "write", "2", "ok", "2")
        + &op(1, "read", "null", "ok", "1");
    let report = decided("register", "null", &text, false);
    assert!(
        reason(&report).contains("the writes of 1 and 2 cannot be ordered"),
        "{}",
        reason(&report)
    );
    let stuck = report.failures[0]
        .stuck
        .as_ref()
        .expect("a stuck operation");
    assert_eq!((stuck.f.as_str(), stuck.invoke_line), ("read", 5));
    let witness = report.witness.as_ref().expect("a witness");
    assert!(witness.minimal);
    assert_eq!(witness.operations.len(), 3);
    assert!(!report.diagnosis.is_empty(), "the model's diagnosis runs");
}

#[test]
fn read_of_a_value_never_written_is_invalid() {
    let text = op(0, "write", "1", "ok", "1") + &op(1, "read", "null", "ok", "7");
    let report = decided("register", "null", &text, false);
    assert!(reason(&report).contains("it read 7, which no operation wrote"));
    assert_eq!(report.witness.as_ref().map(|w| w.operations.len()), Some(1));
}

#[test]
fn read_of_a_failed_write_is_invalid() {
    let text = op(0, "write", "1", "fail", "1") + &op(1, "read", "null", "ok", "1");
    decided("register", "null", &text, false);
    // A failed cas did not happen either.
    let text = op(0, "cas", "[0,1]", "fail", "[0,1]") + &op(1, "read", "null", "ok", "1");
    decided("cas-register", "0", &text, false);
    let text = op(0, "cas", "[0,1]", "fail", "[0,1]") + &op(1, "read", "null", "ok", "0");
    decided("cas-register", "0", &text, true);
}

#[test]
fn read_that_completed_before_its_write_began_is_invalid() {
    let text = op(1, "read", "null", "ok", "1") + &op(0, "write", "1", "ok", "1");
    let report = decided("register", "null", &text, false);
    assert!(
        reason(&report).contains("must take effect after the `write` of 1"),
        "{}",
        reason(&report)
    );
    // Concurrent, it is fine.
    let text = r#"{"type":"invoke","f":"read","value":null,"process":1}
{"type":"invoke","f":"write","value":1,"process":0}
{"type":"ok","f":"read","value":1,"process":1}
{"type":"ok","f":"write","value":1,"process":0}
"#;
    decided("register", "null", text, true);
}

#[test]
fn observed_info_write_took_effect() {
    // Seen, then the old value again: invalid. Seen, then only itself: valid.
    let text = op(0, "write", "1", "ok", "1")
        + &op(1, "write", "2", "info", "2")
        + &op(0, "read", "null", "ok", "2")
        + &op(2, "read", "null", "ok", "1");
    decided("register", "null", &text, false);
    let text = op(0, "write", "1", "ok", "1")
        + &op(1, "write", "2", "info", "2")
        + &op(0, "read", "null", "ok", "1")
        + &op(2, "read", "null", "ok", "2")
        + &op(0, "read", "null", "ok", "2");
    decided("register", "null", &text, true);
    // A write that never completed, seen long after.
    let text = op(1, "write", "2", "pending", "")
        + &op(0, "write", "1", "ok", "1")
        + &op(0, "read", "null", "ok", "1")
        + &op(2, "read", "null", "ok", "2");
    decided("register", "null", &text, true);
}

#[test]
fn unobserved_info_write_may_never_take_effect() {
    for ending in ["info", "pending"] {
        let text = op(0, "write", "1", "ok", "1")
            + &op(1, "write", "2", ending, "2")
            + &op(0, "read", "null", "ok", "1");
        decided("register", "null", &text, true);
    }
}

#[test]
fn reads_of_the_initial_value_come_first() {
    let text = op(0, "read", "null", "ok", "null")
        + &op(0, "write", "1", "ok", "1")
        + &op(1, "read", "null", "ok", "null");
    let report = decided("register", "null", &text, false);
    assert!(
        reason(&report).contains("initial value"),
        "{}",
        reason(&report)
    );
    let text = op(0, "read", "null", "ok", "0")
        + &op(0, "write", "1", "info", "1")
        + &op(1, "read", "null", "ok", "0");
    decided("register", "0", &text, true);
}

#[test]
fn cas_chains_follow_one_order() {
    // 0 -> 1 -> 2, reads in between.
    let chain = op(0, "cas", "[0,1]", "ok", "[0,1]")
        + &op(1, "read", "null", "ok", "1")
        + &op(0, "cas", "[1,2]", "ok", "[1,2]")
        + &op(1, "read", "null", "ok", "2");
    decided("cas-register", "0", &chain, true);
    // A read of 1 after the cas to 2 completed is stale.
    decided(
        "cas-register",
        "0",
        &(chain.clone() + &op(2, "read", "null", "ok", "1")),
        false,
    );
    // Two cas both replaced 1.
    let twice = op(0, "write", "1", "ok", "1")
        + &op(1, "cas", "[1,2]", "ok", "[1,2]")
        + &op(2, "cas", "[1,3]", "ok", "[1,3]");
    let report = decided("cas-register", "0", &twice, false);
    assert!(
        reason(&report).contains("both replaced 1"),
        "{}",
        reason(&report)
    );
    // ... unless one of them is indeterminate and nothing saw its value.
    let maybe = op(0, "write", "1", "ok", "1")
        + &op(1, "cas", "[1,2]", "ok", "[1,2]")
        + &op(2, "cas", "[1,3]", "info", "[1,3]");
    decided("cas-register", "0", &maybe, true);
    // Seen, it took effect.
    decided(
        "cas-register",
        "0",
        &(maybe + &op(3, "read", "null", "ok", "3")),
        false,
    );
    // A loop of cas: each expects what the other wrote.
    let ring = op(0, "cas", "[1,2]", "ok", "[1,2]") + &op(1, "cas", "[2,1]", "ok", "[2,1]");
    let report = decided("cas-register", "0", &ring, false);
    assert!(
        reason(&report).contains("only another of them wrote"),
        "{}",
        reason(&report)
    );
    // An indeterminate cas that a later cas needed.
    let needed = op(0, "write", "1", "ok", "1")
        + &op(1, "cas", "[1,2]", "info", "[1,2]")
        + &op(0, "cas", "[2,3]", "ok", "[2,3]")
        + &op(0, "read", "null", "ok", "3");
    decided("cas-register", "0", &needed, true);
}

#[test]
fn repeated_values_fall_back_to_the_generic_search_and_say_why() {
    let text = op(0, "write", "1", "ok", "1")
        + &op(0, "write", "2", "ok", "2")
        + &op(0, "write", "1", "ok", "1")
        + &op(1, "read", "null", "ok", "1");
    let history = jsonl(&text);
    let report = report("register", &Value::Null, &history, SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Valid);
    assert_eq!(report.procedures.len(), 1);
    assert_eq!(report.procedures[0].name, GENERIC_SEARCH);
    assert_eq!(
        report.procedures[0].why.as_deref(),
        Some("values repeat: 2 writes of 1")
    );
    // A cas that expects what it writes is said only when no value repeats.
    let text = op(0, "write", "1", "ok", "1") + &op(1, "cas", "[1,1]", "ok", "[1,1]");
    let report = self::report(
        "cas-register",
        &Value::Int(0),
        &jsonl(&text),
        SearchChoice::Auto,
    );
    assert_eq!(
        report.procedures[0].why.as_deref(),
        Some("values repeat: 2 writes of 1")
    );
    let text = op(1, "cas", "[1,1]", "ok", "[1,1]");
    let report = self::report(
        "cas-register",
        &Value::Int(0),
        &jsonl(&text),
        SearchChoice::Auto,
    );
    assert_eq!(
        report.procedures[0].why.as_deref(),
        Some("a cas writes the value it expects (1)")
    );
    // Writing the initial value again is a repeat too.
    let text = op(0, "write", "0", "ok", "0") + &op(1, "read", "null", "ok", "0");
    let report = self::report(
        "register",
        &Value::Int(0),
        &jsonl(&text),
        SearchChoice::Auto,
    );
    assert_eq!(report.procedures[0].name, GENERIC_SEARCH);
    assert!(report.procedures[0]
        .why
        .as_deref()
        .is_some_and(|why| why.contains("initial value 0 is written again")));
}

#[test]
fn kv_keys_are_decided_one_by_one() {
    let keyed = |key: &str, f: &str, value: &str, result: &str, process: i64| {
        format!(
            "{{\"type\":\"invoke\",\"f\":\"{f}\",\"key\":\"{key}\",\"value\":{value},\"process\":{process}}}\n{{\"type\":\"ok\",\"f\":\"{f}\",\"key\":\"{key}\",\"value\":{result},\"process\":{process}}}\n"
        )
    };
    let text = keyed("a", "put", "\"x\"", "\"x\"", 0)
        + &keyed("b", "put", "\"y\"", "\"y\"", 1)
        + &keyed("a", "get", "null", "\"x\"", 2)
        + &keyed("b", "append", "\"z\"", "\"z\"", 1)
        + &keyed("b", "get", "null", "\"yz\"", 2);
    let history = jsonl(&text);
    let report = report("kv", &Value::Null, &history, SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Valid);
    let names: Vec<(&str, usize)> = report
        .procedures
        .iter()
        .map(|p| (p.name.as_str(), p.partitions))
        .collect();
    assert_eq!(names, [(UNIQUE_VALUES, 1), (GENERIC_SEARCH, 1)]);
    assert!(report.procedures[1]
        .why
        .as_deref()
        .is_some_and(|why| why.contains("`append` is no read, write or compare-and-set")));
    // A stale get on one key: invalid, found by the procedure.
    let stale =
        text + &keyed("a", "put", "\"w\"", "\"w\"", 0) + &keyed("a", "get", "null", "\"x\"", 2);
    let report = self::report("kv", &Value::Null, &jsonl(&stale), SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.failures[0].key, Some(Value::from("a")));
}

#[test]
fn jepsen_independent_registers_are_decided_by_the_procedure() {
    let tuple = |process: i64, f: &str, key: i64, value: &str, result: &str| {
        format!(
            "{{\"type\":\"invoke\",\"f\":\"{f}\",\"value\":[{key},{value}],\"process\":{process}}}\n{{\"type\":\"ok\",\"f\":\"{f}\",\"value\":[{key},{result}],\"process\":{process}}}\n"
        )
    };
    let text = tuple(0, "write", 0, "1", "1")
        + &tuple(1, "write", 1, "1", "1")
        + &tuple(0, "cas", 0, "[1,2]", "[1,2]")
        + &tuple(1, "read", 0, "null", "2")
        + &tuple(1, "read", 1, "null", "1");
    let report = report(
        "cas-register",
        &Value::Int(0),
        &jsonl(&text),
        SearchChoice::Auto,
    );
    assert_eq!(report.verdict, Verdict::Valid);
    assert_eq!(by_unique_values(&report), 2);
}

#[test]
fn a_spent_budget_is_unknown_not_a_verdict() {
    let text = op(0, "write", "1", "ok", "1") + &op(1, "read", "null", "ok", "1");
    let options = CheckOptions {
        timeout: Some(std::time::Duration::ZERO),
        ..CheckOptions::default()
    };
    let report = check_model("register", None, None, &jsonl(&text), &options).unwrap();
    assert_eq!(report.verdict, Verdict::Unknown);
}
