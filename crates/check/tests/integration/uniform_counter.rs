//! The uniform-adds counter procedure: it agrees with the generic search and with the
//! brute-force reference on generated counter histories of adds of 1 and reads (valid and
//! mutated, with `info` and failed adds and crashed processes), and decides hand-written ones
//! right, with a report that says which procedure decided and why.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`). The local run of 10^5 histories:
//! `PROPTEST_CASES=100000 cargo test -p photofinish-check --profile ci --test integration uniform_counter`.

use crate::common;

use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use common::workloads::workload;
use common::{config, jsonl, mutate, reference, simulate, to_jsonl, SimParams, Tape, CHECK_BUDGET};
use photofinish_check::{
    check_model, CheckOptions, Report, SearchChoice, Verdict, GENERIC_SEARCH, NOTHING_TESTED,
    UNIFORM_COUNTER,
};
use photofinish_history::{Event, History, Value};

fn report(init: &Value, history: &History, search: SearchChoice) -> Report {
    let options = CheckOptions {
        timeout: Some(CHECK_BUDGET),
        max_memory: 2 << 30,
        search,
        ..CheckOptions::default()
    };
    check_model("counter", Some(init), None, history, &options).expect("the history is checkable")
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

/// How many partitions the counter procedure decided.
fn by_procedure(report: &Report) -> usize {
    report
        .procedures
        .iter()
        .filter(|p| p.name == UNIFORM_COUNTER)
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

/// A simulated history of a correct counter (adds of 1, reads), then mutated.
fn generate((procs, ops, fault_pct, mutations, sim_tape, mutation_tape): Input) -> Vec<Event> {
    let mut w = workload("counter-unit");
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
/// give one verdict; returns it and whether the procedure decided every partition there was.
fn agree(
    events: &[Event],
    with_reference: bool,
) -> Result<(Result<bool, String>, bool), TestCaseError> {
    let init = Value::Int(0);
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
        let expected = reference("counter", &init, &history);
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
    // The workload adds only 1, and mutations change only results and endings: declining
    // means a certificate failed its check, which is a bug.
    prop_assert!(
        declined.is_empty(),
        "the procedure declined: {:?}; {}",
        declined,
        shown()
    );
    // A history that tested nothing (every operation failed or crashed) has no partition for
    // the procedure to decide: it counts as decided.
    Ok((
        verdict(&auto),
        by_procedure(&auto) > 0 || auto.procedures.is_empty(),
    ))
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

/// Many concurrent clients and many faults (indeterminate and failed adds, crashes):
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
        let auto = report(&Value::Int(0), &history, SearchChoice::Auto);
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

fn add(process: i64, ending: &str) -> String {
    op(process, "add", "1", ending, "1")
}

fn read(process: i64, result: i64) -> String {
    op(process, "read", "null", "ok", &result.to_string())
}

/// Checks `text` every way; returns the procedure's report.
#[track_caller]
fn decided(init: &str, text: &str, valid: bool) -> Report {
    let init = Value::from_json_str(init).expect("init is JSON");
    let history = jsonl(text);
    assert_eq!(
        reference("counter", &init, &history),
        Ok(valid),
        "the reference disagrees with the test:\n{text}"
    );
    let generic = report(&init, &history, SearchChoice::Generic);
    assert_eq!(verdict(&generic), Ok(valid), "generic search:\n{text}");
    let auto = report(&init, &history, SearchChoice::Auto);
    assert_eq!(verdict(&auto), Ok(valid), "auto:\n{text}");
    assert_eq!(
        auto.procedures[0].name, UNIFORM_COUNTER,
        "not decided by the procedure: {:?}",
        auto.procedures
    );
    auto
}

fn reason(report: &Report) -> &str {
    &report.failures[0].reason
}

fn witness_size(report: &Report) -> Option<usize> {
    report.witness.as_ref().map(|w| w.operations.len())
}

#[test]
fn reads_of_the_count_are_valid() {
    let text = add(0, "ok") + &read(1, 1) + &add(0, "ok") + &add(2, "ok") + &read(1, 3);
    decided("0", &text, true);
    decided("5", &(add(0, "ok") + &read(1, 6)), true);
}

#[test]
fn a_lost_increment_is_invalid() {
    let text = add(0, "ok") + &add(1, "ok") + &read(2, 1);
    let report = decided("0", &text, false);
    assert!(
        reason(&report).contains("but 2 adds had completed before it began"),
        "{}",
        reason(&report)
    );
    assert_eq!(witness_size(&report), Some(3));
}

#[test]
fn a_read_too_high_is_invalid() {
    let text = add(0, "ok") + &read(1, 2);
    let report = decided("0", &text, false);
    assert!(
        reason(&report).contains("but only 1 had begun when it completed"),
        "{}",
        reason(&report)
    );
    // A value no number of adds makes.
    let report = decided("0", &(add(0, "ok") + &read(1, -1)), false);
    assert!(
        reason(&report).contains("which no number of adds of 1 to 0 makes"),
        "{}",
        reason(&report)
    );
    assert_eq!(witness_size(&report), Some(1));
}

#[test]
fn reads_going_backwards_are_invalid() {
    // Two concurrent adds; one read sees both, a later one sees one.
    let text = r#"{"type":"invoke","f":"add","value":1,"process":0}
{"type":"invoke","f":"add","value":1,"process":1}
"#
    .to_string()
        + &read(2, 2)
        + &read(3, 1)
        + r#"{"type":"ok","f":"add","value":1,"process":0}
{"type":"ok","f":"add","value":1,"process":1}
"#;
    // The generic search explains which read is stuck, and shrinks the procedure's witness.
    let report = decided("0", &text, false);
    assert!(report
        .witness
        .as_ref()
        .is_some_and(|w| w.minimal && w.operations.len() <= 4));
}

#[test]
fn info_adds_may_or_may_not_have_taken_effect() {
    let info = add(0, "info");
    decided("0", &(info.clone() + &read(1, 0)), true);
    decided("0", &(info.clone() + &read(1, 1)), true);
    decided("0", &(info.clone() + &read(1, 1) + &read(1, 0)), false);
    // A crashed add may take effect long after.
    let crashed = add(0, "pending");
    decided(
        "0",
        &(crashed.clone() + &read(1, 0) + &read(1, 0) + &read(1, 1)),
        true,
    );
    decided("0", &(crashed + &read(1, 2)), false);
    // A failed add did nothing.
    let report = decided("0", &(add(0, "fail") + &read(1, 1)), false);
    assert!(
        reason(&report).contains("nothing is added to 0"),
        "{}",
        reason(&report)
    );
}

#[test]
fn reads_between_adds_need_room_for_them() {
    // A read of 1 and a later read of 3 need two adds between them; only one can be.
    let text = add(0, "ok") + &read(1, 1) + &add(2, "ok") + &read(1, 3);
    decided("0", &text, false);
    let text = op(0, "add", "1", "pending", "")
        + &add(2, "ok")
        + &read(1, 1)
        + &add(3, "ok")
        + &read(1, 3);
    decided("0", &text, true);
}

#[test]
fn increments_without_argument_count_one() {
    let text = op(0, "incr", "null", "ok", "null") + &add(1, "ok") + &read(2, 2);
    decided("0", &text, true);
}

#[test]
fn mixed_amounts_go_to_the_generic_search() {
    let text = op(0, "add", "2", "ok", "2") + &add(1, "ok") + &read(2, 3);
    let history = jsonl(&text);
    let auto = report(&Value::Int(0), &history, SearchChoice::Auto);
    assert_eq!(verdict(&auto), Ok(true));
    assert_eq!(auto.procedures[0].name, GENERIC_SEARCH);
    assert!(
        auto.procedures[0]
            .why
            .as_deref()
            .is_some_and(|why| why.contains("different amounts")),
        "{:?}",
        auto.procedures
    );
    let text = op(0, "add", "-1", "ok", "-1") + &read(2, -1);
    let auto = report(&Value::Int(0), &jsonl(&text), SearchChoice::Auto);
    assert_eq!(verdict(&auto), Ok(true));
    assert_eq!(auto.procedures[0].name, GENERIC_SEARCH);
}

#[test]
fn decimal_amounts_count_in_units() {
    let text = op(0, "add", "0.5", "ok", "0.5") + &op(1, "add", "0.5", "ok", "0.5") + &read(2, 1);
    decided("0", &text, true);
    let text = op(0, "add", "0.5", "ok", "0.5") + &op(2, "read", "null", "ok", "0.25");
    let report = decided("0", &text, false);
    assert!(
        reason(&report).contains("no number of adds of 0.5 to 0 makes"),
        "{}",
        reason(&report)
    );
}

#[test]
fn what_earlier_reads_saw_and_adds_completed_since_add_up() {
    // The first read saw the one add begun then, still open; another add begins and completes;
    // a read begun after that sees one add: too few, though only one had completed.
    let text = op(0, "add", "1", "pending", "")
        + &read(1, 1)
        + &add(2, "ok")
        + &read(3, 1)
        + r#"{"type":"ok","f":"add","value":1,"process":0}
"#;
    let report = decided("0", &text, false);
    assert!(
        report.witness.as_ref().is_some_and(|w| w.minimal),
        "{:?}",
        report.witness
    );
    // Had the first read been able to see the second add, it would be valid.
    let text = op(0, "add", "1", "pending", "")
        + r#"{"type":"invoke","f":"add","value":1,"process":2}
"# + &read(1, 1)
        + r#"{"type":"ok","f":"add","value":1,"process":2}
"# + &read(3, 1)
        + r#"{"type":"ok","f":"add","value":1,"process":0}
"#;
    decided("0", &text, true);
}
