//! The unique-elements queue procedure: it agrees with the generic search and with the
//! brute-force reference on generated queue histories (valid and mutated, with `info`
//! operations and crashed processes), and decides hand-written ones right, with a report that
//! says which procedure decided and why.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`). The local run of 10^5 histories:
//! `PROPTEST_CASES=100000 cargo test -p photofinish-check --profile ci --test unique_queue`.

use crate::common;

use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use common::workloads::workload;
use common::{config, jsonl, mutate, reference, simulate, to_jsonl, SimParams, Tape, CHECK_BUDGET};
use photofinish_check::{
    check_model, CheckOptions, Report, SearchChoice, Verdict, GENERIC_SEARCH, NOTHING_TESTED,
    UNIQUE_QUEUE,
};
use photofinish_history::{Event, History, Value};

fn report(init: &Value, history: &History, search: SearchChoice) -> Report {
    let options = CheckOptions {
        timeout: Some(CHECK_BUDGET),
        max_memory: 2 << 30,
        search,
        ..CheckOptions::default()
    };
    check_model("queue", Some(init), None, history, &options).expect("the history is checkable")
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

/// How many partitions the queue procedure decided.
fn by_procedure(report: &Report) -> usize {
    report
        .procedures
        .iter()
        .filter(|p| p.name == UNIQUE_QUEUE)
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

/// `(processes, operations, fault percentage, mutations, simulation tape, mutation tape)`.
type Input = (usize, usize, usize, usize, Vec<u32>, Vec<u32>);

fn inputs(max_procs: usize, max_ops: usize, max_mutations: usize) -> impl Strategy<Value = Input> {
    (
        2..=max_procs,
        1..=max_ops,
        0..=25usize,
        0..=max_mutations,
        vec(any::<u32>(), 0..=max_ops * 12),
        vec(any::<u32>(), 0..=24),
    )
}

/// A simulated history of a correct queue (enqueues of distinct integers), then mutated.
fn generate((procs, ops, fault_pct, mutations, sim_tape, mutation_tape): Input) -> Vec<Event> {
    let mut w = workload("queue");
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
    events
}

/// The procedure, the generic search and (when `with_reference`) the brute-force reference
/// give one verdict; returns it and whether the procedure decided.
fn agree(
    events: &[Event],
    with_reference: bool,
) -> Result<(Result<bool, String>, bool), TestCaseError> {
    let init = Value::List(Vec::new());
    let history = common::history(events);
    let auto = report(&init, &history, SearchChoice::Auto);
    let generic = report(&init, &history, SearchChoice::Generic);
    let shown = || format!("history:\n{}", to_jsonl(events));
    // The generic search may run out of memory on the longest histories (and the memory it
    // held may leave the next check's budget spent): only verdicts both gave are compared.
    if with_reference || (verdict(&generic).is_ok() && verdict(&auto).is_ok()) {
        prop_assert_eq!(
            verdict(&auto),
            verdict(&generic),
            "auto and generic disagree; {}; auto {:?}",
            shown(),
            auto.procedures
        );
    }
    prop_assert_eq!(by_procedure(&generic), 0);
    if with_reference {
        let expected = reference("queue", &init, &history);
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
    let declined: Vec<&String> = auto
        .procedures
        .iter()
        .filter(|p| p.name == GENERIC_SEARCH)
        .filter_map(|p| p.why.as_ref())
        .collect();
    // The workload enqueues distinct values, and mutations change only results: declining
    // means a certificate failed its check, which is a bug.
    prop_assert!(
        declined.is_empty(),
        "the procedure declined: {:?}; {}",
        declined,
        shown()
    );
    Ok((verdict(&auto), by_procedure(&auto) > 0))
}

/// Small histories, checked three ways. CI runs 3000; the local run, 10^5 (see the module doc).
#[test]
fn procedure_agrees_with_generic_search_and_reference() {
    let valid = Cell::new(0usize);
    let invalid = Cell::new(0usize);
    let decided = Cell::new(0usize);
    run(3000, inputs(4, 10, 4), |input| {
        let events = generate(input);
        let (verdict, by_procedure) = agree(&events, true)?;
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
    run(400, inputs(6, 30, 3), |input| {
        let events = generate(input);
        let _ = agree(&events, false)?;
        Ok(())
    });
}

/// Many concurrent clients and many faults (indeterminate enqueues and dequeues, crashes):
/// the procedure and the generic search agree.
#[test]
fn procedure_agrees_with_generic_search_under_many_faults() {
    run(
        60,
        (
            Just(5usize),
            12..=20usize,
            20..=40usize,
            0..=3usize,
            vec(any::<u32>(), 0..=480),
            vec(any::<u32>(), 0..=24),
        ),
        |input| {
            let events = generate(input);
            let _ = agree(&events, false)?;
            Ok(())
        },
    );
}

/// Correct executions with many concurrent clients and faults are valid, by the procedure.
#[test]
fn correct_executions_are_valid() {
    run(200, inputs(12, 300, 0), |input| {
        let events = generate(input);
        let history = common::history(&events);
        let auto = report(&Value::List(Vec::new()), &history, SearchChoice::Auto);
        prop_assert_eq!(verdict(&auto), Ok(true), "{}", to_jsonl(&events));
        prop_assert!(
            by_procedure(&auto) > 0 || history.operations.is_empty(),
            "{:?}",
            auto.procedures
        );
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

fn enq(process: i64, v: i64, ending: &str) -> String {
    op(process, "enqueue", &v.to_string(), ending, &v.to_string())
}

fn deq(process: i64, ending: &str, result: &str) -> String {
    op(process, "dequeue", "null", ending, result)
}

/// Checks `text` every way; returns the procedure's report.
#[track_caller]
fn decided(init: &str, text: &str, valid: bool) -> Report {
    let init = Value::from_json_str(init).expect("init is JSON");
    let history = jsonl(text);
    assert_eq!(
        reference("queue", &init, &history),
        Ok(valid),
        "the reference disagrees with the test:\n{text}"
    );
    let generic = report(&init, &history, SearchChoice::Generic);
    assert_eq!(verdict(&generic), Ok(valid), "generic search:\n{text}");
    let auto = report(&init, &history, SearchChoice::Auto);
    assert_eq!(verdict(&auto), Ok(valid), "auto:\n{text}");
    assert_eq!(
        auto.procedures[0].name, UNIQUE_QUEUE,
        "not decided by the procedure: {:?}",
        auto.procedures
    );
    auto
}

fn reason(report: &Report) -> &str {
    &report.failures[0].reason
}

#[test]
fn dequeue_of_a_value_never_enqueued_is_invalid() {
    let text = enq(0, 1, "ok") + &deq(1, "ok", "7");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("returned 7, which no operation enqueued"),
        "{}",
        reason(&report)
    );
    assert_eq!(report.witness.as_ref().map(|w| w.operations.len()), Some(1));
}

#[test]
fn value_dequeued_twice_is_invalid() {
    let text = enq(0, 1, "ok") + &deq(1, "ok", "1") + &deq(2, "ok", "1");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("both returned 1"),
        "{}",
        reason(&report)
    );
}

#[test]
fn dequeue_before_its_enqueue_began_is_invalid() {
    let text = deq(1, "ok", "1") + &enq(0, 1, "ok");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("began after that"),
        "{}",
        reason(&report)
    );
}

#[test]
fn elements_come_out_in_the_order_they_went_in() {
    let text = enq(0, 1, "ok") + &enq(0, 2, "ok") + &deq(1, "ok", "2") + &deq(1, "ok", "1");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("in the order they went in"),
        "{}",
        reason(&report)
    );
    assert_eq!(report.witness.as_ref().map(|w| w.operations.len()), Some(4));
    // Concurrent enqueues may go in either order.
    let text = r#"{"type":"invoke","f":"enqueue","value":1,"process":0}
{"type":"invoke","f":"enqueue","value":2,"process":1}
{"type":"ok","f":"enqueue","value":1,"process":0}
{"type":"ok","f":"enqueue","value":2,"process":1}
"#
    .to_string()
        + &deq(2, "ok", "2")
        + &deq(2, "ok", "1");
    decided("[]", &text, true);
}

#[test]
fn lost_element_is_invalid_unless_an_indeterminate_dequeue_took_it() {
    // 1 is never dequeued, yet 2, enqueued after it, is.
    let text = enq(0, 1, "ok") + &enq(0, 2, "ok") + &deq(1, "ok", "2");
    decided("[]", &text, false);
    // A dequeue that timed out may have taken it.
    let text = enq(0, 1, "ok") + &enq(0, 2, "ok") + &deq(3, "info", "null") + &deq(1, "ok", "2");
    decided("[]", &text, true);
    // Not if that dequeue began after 2 was dequeued.
    let text = enq(0, 1, "ok") + &enq(0, 2, "ok") + &deq(1, "ok", "2") + &deq(3, "pending", "");
    decided("[]", &text, false);
}

#[test]
fn empty_dequeue_needs_an_empty_queue() {
    let text = enq(0, 1, "ok") + &deq(1, "ok", "null");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("found the queue empty"),
        "{}",
        reason(&report)
    );
    // Dequeued first, it is fine.
    let text = enq(0, 1, "ok") + &deq(1, "ok", "1") + &deq(1, "ok", "null");
    decided("[]", &text, true);
    // The initial elements are in the queue.
    decided("[5]", &deq(1, "ok", "null"), false);
    decided("[5]", &(deq(1, "ok", "5") + &deq(1, "ok", "null")), true);
}

#[test]
fn info_enqueue_took_effect_when_its_element_was_dequeued() {
    let text = enq(0, 1, "info") + &deq(1, "ok", "1") + &deq(1, "ok", "null");
    decided("[]", &text, true);
    // Unobserved, it may never have happened: the queue may be empty.
    let text = enq(0, 1, "info") + &deq(1, "ok", "null");
    decided("[]", &text, true);
    // Observed, it happened before a later empty dequeue... which is fine after the dequeue.
    let text = enq(0, 1, "pending") + &deq(1, "ok", "null") + &deq(2, "ok", "1");
    decided("[]", &text, true);
}

#[test]
fn repeated_values_fall_back_to_the_generic_search_and_say_why() {
    let text = enq(0, 1, "ok") + &enq(0, 1, "ok") + &deq(1, "ok", "1") + &deq(1, "ok", "1");
    let history = jsonl(&text);
    let init = Value::List(Vec::new());
    let auto = report(&init, &history, SearchChoice::Auto);
    assert_eq!(auto.verdict, Verdict::Valid);
    assert_eq!(auto.procedures[0].name, GENERIC_SEARCH);
    let why = auto.procedures[0].why.as_deref().unwrap_or_default();
    assert!(why.contains("1 is enqueued more than once"), "{why}");
}
