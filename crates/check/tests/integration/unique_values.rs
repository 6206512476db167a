//! The unique-values procedure for registers: it agrees with the generic search and with the
//! brute-force reference on generated histories, and decides hand-written ones right, with a
//! report that says which procedure decided and why.
//!
//! Every property runs with a fixed seed (override with `PROPTEST_RNG_SEED`, and the number of
//! cases with `PROPTEST_CASES`).

use crate::common;

use common::procedures::{
    by_procedure, generate, inputs, op, reason, report, tally, verdict, Procedure,
};
use common::{jsonl, run};
use photofinish_check::{
    check_model, CheckOptions, Report, SearchChoice, Verdict, GENERIC_SEARCH, UNIQUE_VALUES,
};
use photofinish_history::Value;

/// Every written value is unique here: the procedure never declines (it would if its own
/// certificate failed its check), and decides whatever was tested.
const PROCEDURE: Procedure = Procedure::deciding_all(UNIQUE_VALUES);

/// The workloads: a register and a compare-and-set register, each writing unique values.
const LABELS: [&str; 2] = ["register-unique", "cas-register-unique"];

/// The highest percentage of faulty operations in a generated history.
const FAULT_PCT: usize = 20;

/// How many partitions the unique-values procedure decided.
fn by_unique_values(report: &Report) -> usize {
    by_procedure(report, UNIQUE_VALUES)
}

#[test]
fn procedure_agrees_with_generic_search_and_reference() {
    let strategy = (0..LABELS.len(), inputs(4, 10, FAULT_PCT, 4));
    let (decided, total) = tally(5000, strategy, |(which, input)| {
        let auto = PROCEDURE.agree(&generate(LABELS[which], input), true)?;
        Ok((verdict(&auto), by_unique_values(&auto) > 0))
    });
    assert!(decided * 10 >= total * 9, "the procedure decided too few");
}

/// Longer histories, too long for the reference: the procedure and the generic search agree.
#[test]
fn procedure_agrees_with_generic_search_on_longer_histories() {
    let strategy = (0..LABELS.len(), inputs(6, 40, FAULT_PCT, 3));
    run(600, strategy, |(which, input)| {
        PROCEDURE
            .agree(&generate(LABELS[which], input), false)
            .map(drop)
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

#[test]
fn stale_read_is_invalid_with_a_three_operation_witness() {
    let text = op(0, "write", "1", "ok", "1")
        + &op(0, "write", "2", "ok", "2")
        + &op(1, "read", "null", "ok", "1");
    let report = PROCEDURE.decided("register", "null", &text, false);
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
    let report = PROCEDURE.decided("register", "null", &text, false);
    assert!(reason(&report).contains("it read 7, which no operation wrote"));
    assert_eq!(report.witness.as_ref().map(|w| w.operations.len()), Some(1));
}

#[test]
fn read_of_a_failed_write_is_invalid() {
    let text = op(0, "write", "1", "fail", "1") + &op(1, "read", "null", "ok", "1");
    PROCEDURE.decided("register", "null", &text, false);
    // A failed cas did not happen either.
    let text = op(0, "cas", "[0,1]", "fail", "[0,1]") + &op(1, "read", "null", "ok", "1");
    PROCEDURE.decided("cas-register", "0", &text, false);
    let text = op(0, "cas", "[0,1]", "fail", "[0,1]") + &op(1, "read", "null", "ok", "0");
    PROCEDURE.decided("cas-register", "0", &text, true);
}

#[test]
fn read_that_completed_before_its_write_began_is_invalid() {
    let text = op(1, "read", "null", "ok", "1") + &op(0, "write", "1", "ok", "1");
    let report = PROCEDURE.decided("register", "null", &text, false);
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
    PROCEDURE.decided("register", "null", text, true);
}

#[test]
fn observed_info_write_took_effect() {
    // Seen, then the old value again: invalid. Seen, then only itself: valid.
    let text = op(0, "write", "1", "ok", "1")
        + &op(1, "write", "2", "info", "2")
        + &op(0, "read", "null", "ok", "2")
        + &op(2, "read", "null", "ok", "1");
    PROCEDURE.decided("register", "null", &text, false);
    let text = op(0, "write", "1", "ok", "1")
        + &op(1, "write", "2", "info", "2")
        + &op(0, "read", "null", "ok", "1")
        + &op(2, "read", "null", "ok", "2")
        + &op(0, "read", "null", "ok", "2");
    PROCEDURE.decided("register", "null", &text, true);
    // A write that never completed, seen long after.
    let text = op(1, "write", "2", "pending", "")
        + &op(0, "write", "1", "ok", "1")
        + &op(0, "read", "null", "ok", "1")
        + &op(2, "read", "null", "ok", "2");
    PROCEDURE.decided("register", "null", &text, true);
}

#[test]
fn unobserved_info_write_may_never_take_effect() {
    for ending in ["info", "pending"] {
        let text = op(0, "write", "1", "ok", "1")
            + &op(1, "write", "2", ending, "2")
            + &op(0, "read", "null", "ok", "1");
        PROCEDURE.decided("register", "null", &text, true);
    }
}

#[test]
fn reads_of_the_initial_value_come_first() {
    let text = op(0, "read", "null", "ok", "null")
        + &op(0, "write", "1", "ok", "1")
        + &op(1, "read", "null", "ok", "null");
    let report = PROCEDURE.decided("register", "null", &text, false);
    assert!(
        reason(&report).contains("initial value"),
        "{}",
        reason(&report)
    );
    let text = op(0, "read", "null", "ok", "0")
        + &op(0, "write", "1", "info", "1")
        + &op(1, "read", "null", "ok", "0");
    PROCEDURE.decided("register", "0", &text, true);
}

#[test]
fn cas_chains_follow_one_order() {
    // 0 -> 1 -> 2, reads in between.
    let chain = op(0, "cas", "[0,1]", "ok", "[0,1]")
        + &op(1, "read", "null", "ok", "1")
        + &op(0, "cas", "[1,2]", "ok", "[1,2]")
        + &op(1, "read", "null", "ok", "2");
    PROCEDURE.decided("cas-register", "0", &chain, true);
    // A read of 1 after the cas to 2 completed is stale.
    PROCEDURE.decided(
        "cas-register",
        "0",
        &(chain.clone() + &op(2, "read", "null", "ok", "1")),
        false,
    );
    // Two cas both replaced 1.
    let twice = op(0, "write", "1", "ok", "1")
        + &op(1, "cas", "[1,2]", "ok", "[1,2]")
        + &op(2, "cas", "[1,3]", "ok", "[1,3]");
    let report = PROCEDURE.decided("cas-register", "0", &twice, false);
    assert!(
        reason(&report).contains("both replaced 1"),
        "{}",
        reason(&report)
    );
    // ... unless one of them is indeterminate and nothing saw its value.
    let maybe = op(0, "write", "1", "ok", "1")
        + &op(1, "cas", "[1,2]", "ok", "[1,2]")
        + &op(2, "cas", "[1,3]", "info", "[1,3]");
    PROCEDURE.decided("cas-register", "0", &maybe, true);
    // Seen, it took effect.
    PROCEDURE.decided(
        "cas-register",
        "0",
        &(maybe + &op(3, "read", "null", "ok", "3")),
        false,
    );
    // A loop of cas: each expects what the other wrote.
    let ring = op(0, "cas", "[1,2]", "ok", "[1,2]") + &op(1, "cas", "[2,1]", "ok", "[2,1]");
    let report = PROCEDURE.decided("cas-register", "0", &ring, false);
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
    PROCEDURE.decided("cas-register", "0", &needed, true);
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
