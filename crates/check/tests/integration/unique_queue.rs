//! The unique-elements queue procedure: it agrees with the generic search and with the
//! brute-force reference on generated queue histories (valid and mutated, with `info`
//! operations and crashed processes), and decides hand-written ones right, with a report that
//! says which procedure decided and why.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`). The local run of 10^5 histories:
//! `PROPTEST_CASES=100000 cargo test -p photofinish-check --profile ci --test integration unique_queue`.

use crate::common;

use common::procedures::{
    by_procedure, generate, inputs, many_faults, op, reason, report, tally, verdict, Procedure,
};
use common::{jsonl, run};
use photofinish_check::{Report, SearchChoice, Verdict, GENERIC_SEARCH, UNIQUE_QUEUE};
use photofinish_history::Value;

/// The workload enqueues distinct values, and mutations change only results: the procedure
/// never declines with a reason (that would mean a certificate failed its check). The generic
/// search may give up on the longer histories.
const PROCEDURE: Procedure = Procedure::deciding_most(UNIQUE_QUEUE);

/// The workload: enqueues of distinct integers and dequeues.
const WORKLOAD: &str = "queue";

/// The highest percentage of faulty operations in a generated history.
const FAULT_PCT: usize = 25;

/// Small histories, checked three ways. CI runs 3000; the local run, 10^5 (see the module doc).
#[test]
fn procedure_agrees_with_generic_search_and_reference() {
    let (decided, total) = tally(3000, inputs(4, 10, FAULT_PCT, 4), |input| {
        let auto = PROCEDURE.agree(&generate(WORKLOAD, input), true)?;
        Ok((verdict(&auto), by_procedure(&auto, UNIQUE_QUEUE) > 0))
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

/// Many concurrent clients and many faults (indeterminate enqueues and dequeues, crashes):
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

fn enq(process: i64, v: i64, ending: &str) -> String {
    op(process, "enqueue", &v.to_string(), ending, &v.to_string())
}

fn deq(process: i64, ending: &str, result: &str) -> String {
    op(process, "dequeue", "null", ending, result)
}

/// Checks `text` every way; returns the procedure's report.
#[track_caller]
fn decided(init: &str, text: &str, valid: bool) -> Report {
    PROCEDURE.decided("queue", init, text, valid)
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
    let auto = report("queue", &init, &history, SearchChoice::Auto);
    assert_eq!(auto.verdict, Verdict::Valid);
    assert_eq!(auto.procedures[0].name, GENERIC_SEARCH);
    let why = auto.procedures[0].why.as_deref().unwrap_or_default();
    assert!(why.contains("1 is enqueued more than once"), "{why}");
}
