//! The uniform-adds counter procedure: it agrees with the generic search and with the
//! brute-force reference on generated counter histories of adds of 1 and reads (valid and
//! mutated, with `info` and failed adds and crashed processes), and decides hand-written ones
//! right, with a report that says which procedure decided and why.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`). The local run of 10^5 histories:
//! `PROPTEST_CASES=100000 cargo test -p photofinish-check --profile ci --test integration uniform_counter`.

use crate::common;

use common::procedures::{
    by_procedure, generate, inputs, many_faults, op, reason, report, tally, verdict, Procedure,
};
use common::{jsonl, run};
use photofinish_check::{Report, SearchChoice, GENERIC_SEARCH, UNIFORM_COUNTER};
use photofinish_history::Value;

/// The workload adds only 1, and mutations change only results and endings: the procedure
/// never declines with a reason (that would mean a certificate failed its check). The generic
/// search may give up on the longer histories.
const PROCEDURE: Procedure = Procedure::deciding_most(UNIFORM_COUNTER);

/// The workload: adds of 1 and reads.
const WORKLOAD: &str = "counter-unit";

/// The highest percentage of faulty operations in a generated history.
const FAULT_PCT: usize = 25;

/// Small histories, checked three ways. CI runs 3000; the local run, 10^5 (see the module doc).
#[test]
fn procedure_agrees_with_generic_search_and_reference() {
    let (decided, total) = tally(3000, inputs(4, 10, FAULT_PCT, 4), |input| {
        let auto = PROCEDURE.agree(&generate(WORKLOAD, input), true)?;
        // A history that tested nothing (every operation failed or crashed) has no partition
        // for the procedure to decide: it counts as decided.
        let decided = by_procedure(&auto, UNIFORM_COUNTER) > 0 || auto.procedures.is_empty();
        Ok((verdict(&auto), decided))
    });
    assert!(decided * 10 >= total * 9, "the procedure decided too few");
}

/// Longer histories, too long for the reference: the procedure and the generic search agree.
#[test]
fn procedure_agrees_with_generic_search_on_longer_histories() {
    run(400, inputs(6, 30, FAULT_PCT, 3), |input| {
        PROCEDURE.agree(&generate(WORKLOAD, input), false).map(drop)
    });
}

/// Many concurrent clients and many faults (indeterminate and failed adds, crashes):
/// the procedure and the generic search agree.
#[test]
fn procedure_agrees_with_generic_search_under_many_faults() {
    run(60, many_faults(), |input| {
        PROCEDURE.agree(&generate(WORKLOAD, input), false).map(drop)
    });
}

/// Correct executions with many concurrent clients and faults are valid, by the procedure.
#[test]
fn correct_executions_are_valid() {
    run(200, inputs(12, 300, FAULT_PCT, 0), |input| {
        PROCEDURE.finds_valid(&generate(WORKLOAD, input))
    });
}

// =============================================================================================
// Hand-written histories. Each is decided by the procedure, the generic search and the
// reference alike.

fn add(process: i64, ending: &str) -> String {
    op(process, "add", "1", ending, "1")
}

fn read(process: i64, result: i64) -> String {
    op(process, "read", "null", "ok", &result.to_string())
}

/// Checks `text` every way; returns the procedure's report.
#[track_caller]
fn decided(init: &str, text: &str, valid: bool) -> Report {
    PROCEDURE.decided("counter", init, text, valid)
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
    let auto = report("counter", &Value::Int(0), &history, SearchChoice::Auto);
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
    let auto = report("counter", &Value::Int(0), &jsonl(&text), SearchChoice::Auto);
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
