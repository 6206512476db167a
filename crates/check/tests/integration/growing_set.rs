//! The grow-only set procedure: it agrees with the generic search and with the brute-force
//! reference on generated set histories (repeated and unique elements, indeterminate and
//! crashed adds, failed ones, mutated results), decides hand-written ones right with a reason
//! in real-time terms, and decides the reproducers the generic search could not.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`).

use crate::common;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use common::procedures::{by_procedure, generate, inputs, reason, tally, verdict, Case, Procedure};
use common::{jsonl, run, to_jsonl};
use photofinish_check::{
    check_model, CheckOptions, Report, SearchChoice, Verdict, GENERIC_SEARCH, GROWING_SET,
};
use photofinish_history::{read_path, History, Value};

/// The procedure applies to every set partition: it never declines (it would if its own
/// certificate failed its check), and decides whatever was tested.
const PROCEDURE: Procedure = Procedure::deciding_all(GROWING_SET);

/// The workloads: adds of repeated elements, and adds of unique ones.
const LABELS: [&str; 2] = ["set", "set-unique"];

/// The highest percentage of faulty operations in a generated history.
const FAULT_PCT: usize = 20;

/// The procedure's report of `history` from `init`, choosing the procedure as `search` says.
fn report(init: &Value, history: &History, search: SearchChoice) -> Report {
    common::procedures::report("set", init, history, search)
}

/// The procedure agrees with the generic search and (when `with_reference`) the reference,
/// and an invalid report has a witness and a reason.
fn agree(case: &Case, with_reference: bool) -> Result<Report, TestCaseError> {
    let auto = PROCEDURE.agree(case, with_reference)?;
    if auto.verdict == Verdict::Invalid {
        prop_assert!(
            !auto.failures[0].reason.is_empty(),
            "an invalid report without a reason; init {}, history:\n{}",
            case.init,
            to_jsonl(&case.events)
        );
    }
    Ok(auto)
}

#[test]
fn procedure_agrees_with_generic_search_and_reference() {
    let strategy = (0..LABELS.len(), inputs(4, 10, FAULT_PCT, 4));
    tally(5000, strategy, |(which, input)| {
        let auto = agree(&generate(LABELS[which], input), true)?;
        Ok((verdict(&auto), by_procedure(&auto, GROWING_SET) > 0))
    });
}

/// Longer histories, too long for the reference: the procedure and the generic search agree.
#[test]
fn procedure_agrees_with_generic_search_on_longer_histories() {
    let strategy = (0..LABELS.len(), inputs(6, 40, FAULT_PCT, 3));
    run(600, strategy, |(which, input)| {
        agree(&generate(LABELS[which], input), false).map(drop)
    });
}

/// Correct executions with many concurrent clients and faults are valid, by the procedure.
#[test]
fn correct_executions_are_valid() {
    let strategy = (0..LABELS.len(), inputs(12, 300, FAULT_PCT, 0));
    run(200, strategy, |(which, input)| {
        PROCEDURE.finds_valid(&generate(LABELS[which], input))
    });
}

// =============================================================================================
// Hand-written histories. Each is decided by the procedure, the generic search and the
// reference alike.

fn invoke(process: i64, f: &str, value: &str) -> String {
    format!("{{\"type\":\"invoke\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n")
}

fn end(process: i64, ending: &str, f: &str, value: &str) -> String {
    format!("{{\"type\":\"{ending}\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n")
}

/// An add of `element` that ended `ending` (`pending`: never completed).
fn add(process: i64, element: &str, ending: &str) -> String {
    match ending {
        "pending" => invoke(process, "add", element),
        _ => invoke(process, "add", element) + &end(process, ending, "add", element),
    }
}

fn read(process: i64, seen: &str) -> String {
    invoke(process, "read", "null") + &end(process, "ok", "read", seen)
}

/// Checks `text` every way, and that an invalid verdict has a witness; returns the
/// procedure's report.
#[track_caller]
fn decided(init: &str, text: &str, valid: bool) -> Report {
    let auto = PROCEDURE.decided("set", init, text, valid);
    if !valid {
        assert!(auto.witness.is_some(), "no witness:\n{text}");
    }
    auto
}

/// The history line on which the stuck operation began.
fn stuck_line(report: &Report) -> usize {
    report.failures[0]
        .stuck
        .as_ref()
        .expect("a stuck operation")
        .invoke_line
}

#[test]
fn a_read_that_misses_an_acknowledged_add_is_invalid_with_a_small_witness() {
    let text = add(0, "1", "ok") + &add(0, "2", "ok") + &read(1, "[1]");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains(
            "misses 2, yet the `add` of 2 by process 0 (line 4) completed before it began"
        ),
        "{}",
        reason(&report)
    );
    assert_eq!(stuck_line(&report), 5);
    let witness = report.witness.as_ref().expect("a witness");
    assert!(witness.minimal);
    assert_eq!(witness.operations.len(), 3, "{witness:?}");
    assert!(!report.diagnosis.is_empty(), "the model's diagnosis runs");
    // Concurrent with the read, the add may take effect after it.
    let text = add(0, "1", "ok")
        + &invoke(0, "add", "2")
        + &read(1, "[1]")
        + &end(0, "ok", "add", "2")
        + &read(1, "[1,2]");
    decided("[]", &text, true);
}

#[test]
fn a_read_of_an_element_nothing_added_is_invalid() {
    let text = add(0, "1", "ok") + &read(1, "[1,7]");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("it read 7, which no operation added"),
        "{}",
        reason(&report)
    );
    assert_eq!(report.witness.as_ref().map(|w| w.operations.len()), Some(1));
    // A failed add did not happen.
    let text = add(0, "1", "fail") + &read(1, "[1]");
    decided("[]", &text, false);
}

#[test]
fn a_read_that_misses_an_initial_element_is_invalid() {
    let text = add(0, "1", "ok") + &read(1, "[1]");
    let report = decided("[5]", &text, false);
    assert!(
        reason(&report).contains("it misses 5, which the set held from the start"),
        "{}",
        reason(&report)
    );
    // Adding an initial element again changes nothing, wherever it goes.
    let text = read(1, "[5]") + &add(0, "5", "ok") + &read(1, "[5]");
    decided("[5]", &text, true);
}

#[test]
fn a_read_that_saw_an_element_before_its_add_began_is_invalid() {
    let text = read(1, "[3]") + &add(0, "3", "ok");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("saw 3 before any add of it began"),
        "{}",
        reason(&report)
    );
    // With the element added twice, the first add counts.
    let text = add(2, "3", "ok") + &read(1, "[3]") + &add(0, "3", "ok");
    decided("[]", &text, true);
}

#[test]
fn a_read_that_misses_what_an_earlier_read_saw_is_invalid() {
    // The add is open throughout: only the reads' order says it took effect.
    let text = invoke(0, "add", "1") + &read(1, "[1]") + &read(2, "[]");
    decided("[]", &text, false);
    // On a partition too long for the generic search to explain, the procedure's reason is
    // the one given.
    let long = sequential_set(5_000, None)
        + &invoke(0, "add", "5000")
        + &read(
            1,
            &format!(
                "[{}]",
                (0..=5000)
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        )
        + &read(
            2,
            &format!(
                "[{}]",
                (0..5000)
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
    let report = report(&Value::Null, &jsonl(&long), SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(
        reason(&report).contains("misses 5000, yet the `read` by process 1 (line 10103), which saw it, completed before it began"),
        "{}",
        reason(&report)
    );
    assert_eq!(stuck_line(&report), 10104);
    assert_eq!(
        report.diagnosis[0].message,
        "read on line 10105 misses element 5000 that the read on line 10103 returned before it began"
    );
}

#[test]
fn reads_that_each_miss_what_the_other_saw_are_invalid() {
    // Both reads overlap both adds.
    let text = invoke(2, "read", "null")
        + &invoke(3, "read", "null")
        + &add(0, "1", "ok")
        + &add(1, "2", "ok")
        + &end(2, "ok", "read", "[1]")
        + &end(3, "ok", "read", "[2]");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report)
            .contains("saw 1 but not 2, and the `read` by process 3 (line 2) saw 2 but not 1"),
        "{}",
        reason(&report)
    );
    assert_eq!(report.witness.as_ref().map(|w| w.operations.len()), Some(4));
}

#[test]
fn adds_in_real_time_order_must_show_in_that_order() {
    // The add of 1 completed before the add of 2 began, so no read can see 2 without 1; the
    // read overlaps both adds, so nothing else rules it out.
    let text = invoke(2, "read", "null")
        + &add(0, "1", "ok")
        + &add(1, "2", "ok")
        + &end(2, "ok", "read", "[2]");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("saw 2 but not 1, yet the `add` of 1 by process 0 (line 3) completed before the first add of 2"),
        "{}",
        reason(&report)
    );
    // The other way round it is fine.
    let text = invoke(2, "read", "null")
        + &add(0, "1", "ok")
        + &add(1, "2", "ok")
        + &end(2, "ok", "read", "[1]");
    decided("[]", &text, true);
}

#[test]
fn indeterminate_adds_may_or_may_not_take_effect() {
    for ending in ["info", "pending"] {
        // Unseen: it may never have happened.
        let text = add(0, "1", ending) + &read(1, "[]") + &read(1, "[]");
        decided("[]", &text, true);
        // Seen long after it began: it took effect.
        let text = add(0, "1", ending) + &read(1, "[]") + &read(1, "[1]");
        decided("[]", &text, true);
        // Seen, then missed: invalid.
        let text = add(0, "1", ending) + &read(1, "[1]") + &read(1, "[]");
        decided("[]", &text, false);
    }
}

#[test]
fn sets_with_keys_are_decided_key_by_key() {
    let keyed = |process: i64, key: &str, f: &str, value: &str, result: &str| {
        format!(
            "{{\"type\":\"invoke\",\"f\":\"{f}\",\"key\":\"{key}\",\"value\":{value},\"process\":{process}}}\n{{\"type\":\"ok\",\"f\":\"{f}\",\"key\":\"{key}\",\"value\":{result},\"process\":{process}}}\n"
        )
    };
    let text = keyed(0, "a", "add", "1", "1")
        + &keyed(1, "b", "add", "1", "1")
        + &keyed(2, "a", "read", "null", "[1]")
        + &keyed(2, "b", "read", "null", "[1]");
    let history = jsonl(&text);
    let valid = report(&Value::Null, &history, SearchChoice::Auto);
    assert_eq!(valid.verdict, Verdict::Valid);
    assert_eq!(by_procedure(&valid, GROWING_SET), 2);
    let lost = text + &keyed(2, "b", "read", "null", "[]");
    let invalid = report(&Value::Null, &jsonl(&lost), SearchChoice::Auto);
    assert_eq!(invalid.verdict, Verdict::Invalid);
    assert_eq!(invalid.failures[0].key, Some(Value::from("b")));
}

#[test]
fn a_spent_budget_is_unknown_not_a_verdict() {
    let text = add(0, "1", "ok") + &read(1, "[1]");
    let options = CheckOptions {
        timeout: Some(std::time::Duration::ZERO),
        ..CheckOptions::default()
    };
    let report = check_model("set", None, None, &jsonl(&text), &options).unwrap();
    assert_eq!(report.verdict, Verdict::Unknown);
}

#[test]
fn the_generic_search_is_used_when_asked_for() {
    let text = add(0, "1", "ok") + &read(1, "[1]");
    let report = report(&Value::Null, &jsonl(&text), SearchChoice::Generic);
    assert_eq!(report.verdict, Verdict::Valid);
    assert_eq!(report.procedures[0].name, GENERIC_SEARCH);
}

// =============================================================================================
// Reproducers: histories the generic search left `unknown` (or decided only slowly).

fn repro(name: &str) -> History {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro/").to_string() + name;
    read_path(std::path::Path::new(&path), None).expect("the reproducer reads")
}

#[test]
fn a_set_that_lost_elements_after_a_crash_is_invalid() {
    let history = repro("set-lost-after-info.jsonl");
    let report = report(&Value::Null, &history, SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.procedures[0].name, GROWING_SET);
    assert!(
        reason(&report).contains(
            "misses 0, yet the `add` of 0 by process 0 (line 2) completed before it began"
        ),
        "{}",
        reason(&report)
    );
}

#[test]
fn a_set_of_five_thousand_that_lost_one_element_is_invalid() {
    let history = repro("set-5000-bad.jsonl");
    let report = report(&Value::Null, &history, SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.procedures[0].name, GROWING_SET);
    assert!(
        reason(&report).contains("misses 1195"),
        "{}",
        reason(&report)
    );
}

/// What `../shared/repro/set-seq.py N` writes: `n` sequential adds by 10 processes, a full
/// read every 100 adds; the last read without `lost`, if given.
fn sequential_set(n: usize, lost: Option<usize>) -> String {
    let mut text = String::new();
    for i in 0..n {
        text += &add((i % 10) as i64, &i.to_string(), "ok");
        if i % 100 == 99 {
            let seen: Vec<String> = (0..=i)
                .filter(|&e| i + 1 < n || Some(e) != lost)
                .map(|e| e.to_string())
                .collect();
            text += &read(100, &format!("[{}]", seen.join(",")));
        }
    }
    text
}

#[test]
fn a_long_sequential_set_is_valid_and_one_lost_element_is_not() {
    let text = sequential_set(5_000, None);
    let report = report(&Value::Null, &jsonl(&text), SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Valid);
    assert_eq!(report.procedures[0].name, GROWING_SET);
    let lost = sequential_set(5_000, Some(17));
    let report = self::report(&Value::Null, &jsonl(&lost), SearchChoice::Auto);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert!(reason(&report).contains("misses 17"), "{}", reason(&report));
}

/// Sets of integers and strings together: reads of integers alone come compact from the
/// reader ([`Value::Ints`]) and the procedure reads them as values beside the others.
#[test]
fn sets_of_mixed_elements_are_decided_on_values() {
    let history = jsonl(&(add(0, "1", "ok") + &read(1, "[1]")));
    let read_result = &history.operations[1].result;
    assert!(read_result.as_ints().is_some(), "{read_result:?}");
    let text = add(0, "1", "ok")
        + &read(1, "[1]")
        + &add(0, "\"a\"", "ok")
        + &read(1, "[1,\"a\"]")
        + &add(0, "2", "ok")
        + &read(1, "[\"a\",2,1]");
    decided("[]", &text, true);
    let text = add(0, "1", "ok") + &add(0, "\"a\"", "ok") + &read(1, "[1,\"a\"]") + &read(1, "[1]");
    let report = decided("[]", &text, false);
    assert!(
        reason(&report).contains("misses \"a\""),
        "{}",
        reason(&report)
    );
    // An initial set of strings with reads of integers alone: the reads miss it.
    decided("[\"a\"]", &(add(0, "1", "ok") + &read(1, "[1]")), false);
}
