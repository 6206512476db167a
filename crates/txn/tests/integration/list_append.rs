//! list-append: a known history for every anomaly, and valid ones with failed, indeterminate
//! and crashed transactions.

use crate::common;

use common::{check, concurrent, models, names, sequential, t, with};
use photofinish_txn::cycles::StepKind;
use photofinish_txn::{ConsistencyModel as M, Verdict, Workload};
use serde_json::json;

const W: Workload = Workload::ListAppend;

fn verdict(text: &str, model: M) -> Verdict {
    check(text, W, model).verdict
}

#[test]
fn a_serial_history_is_valid_at_every_level() {
    let h = sequential(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["r", "x", [1]], ["append", "x", 2]])),
        t(0, json!([["r", "x", [1, 2]], ["r", "y", null]])),
    ]);
    for model in M::ALL {
        let r = check(&h, W, model);
        assert_eq!(r.verdict, Verdict::Valid, "{model}: {:?}", r.anomalies);
        assert!(r.anomalies.is_empty());
    }
}

#[test]
fn g0_write_cycle() {
    // x says T1 then T2; y says T2 then T1.
    let h = concurrent(&[
        t(0, json!([["append", "x", 1], ["append", "y", 1]])),
        t(1, json!([["append", "x", 2], ["append", "y", 2]])),
        t(2, json!([["r", "x", [1, 2]], ["r", "y", [2, 1]]])),
    ]);
    let r = check(&h, W, M::ReadUncommitted);
    assert_eq!(names(&r), ["G0"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(models(&r).len(), 6);
    let steps = &r.anomalies[0].steps;
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s.kind == StepKind::Ww));
    assert!(
        steps[0]
            .because
            .starts_with("T1 < T2: T1 appended 1 to key \"x\" and T2 appended 2 right after it")
            || steps[0].because.starts_with(
                "T2 < T1: T2 appended 2 to key \"y\" and T1 appended 1 right after it"
            ),
        "{}",
        steps[0].because
    );
}

#[test]
fn g1a_aborted_read() {
    let h = concurrent(&[
        with(0, "fail", json!([["append", "x", 1]])),
        t(1, json!([["r", "x", [1]]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G1a"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(verdict(&h, M::ReadUncommitted), Verdict::Valid);
    assert!(r.anomalies[0]
        .summary
        .contains("appended by T1, which failed"));
}

#[test]
fn g1b_intermediate_read_is_also_a_g_single() {
    // T2 saw T1's first append but not its second: an intermediate read, and T2 missed a
    // write of a transaction it read from (G-single).
    let h = concurrent(&[
        t(0, json!([["append", "x", 1], ["append", "x", 2]])),
        t(1, json!([["r", "x", [1]]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G-single", "G1b"]);
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn g1c_circular_information_flow() {
    let h = concurrent(&[
        t(0, json!([["append", "x", 1], ["r", "y", [1]]])),
        t(1, json!([["append", "x", 2], ["append", "y", 1]])),
        t(2, json!([["r", "x", [1, 2]]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G1c"]);
    assert_eq!(models(&r)[0], "read-committed");
    assert_eq!(verdict(&h, M::ReadUncommitted), Verdict::Valid);
    let kinds: Vec<StepKind> = r.anomalies[0].steps.iter().map(|s| s.kind).collect();
    assert!(kinds.contains(&StepKind::Wr) && kinds.contains(&StepKind::Ww));
}

#[test]
fn g_single_read_skew() {
    let h = concurrent(&[
        t(0, json!([["append", "x", 1], ["append", "y", 1]])),
        t(1, json!([["append", "x", 2], ["r", "y", []]])),
        t(2, json!([["r", "x", [1, 2]]])),
    ]);
    let r = check(&h, W, M::Serializable);
    assert_eq!(names(&r), ["G-single"]);
    assert_eq!(
        models(&r),
        [
            "snapshot-isolation",
            "repeatable-read",
            "serializable",
            "strict-serializable"
        ]
    );
    assert_eq!(verdict(&h, M::ReadCommitted), Verdict::Valid);
    let f = &r.anomalies[0];
    assert!(f
        .steps
        .iter()
        .any(|s| s.because == "T2 < T1: T2 read key \"y\" as [] (empty), without T1's append of 1, the next element"),
        "{:#?}", f.steps);
    assert_eq!(f.transactions[0].invoke_line, 2);
    assert_eq!(f.transactions[0].complete_line, Some(5));
}

#[test]
fn g2_item_write_skew_is_allowed_by_snapshot_isolation() {
    let h = concurrent(&[
        t(0, json!([["r", "x", []], ["append", "y", 1]])),
        t(1, json!([["r", "y", []], ["append", "x", 1]])),
    ]);
    let r = check(&h, W, M::SnapshotIsolation);
    assert_eq!(names(&r), ["G2-item"]);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(
        models(&r),
        ["repeatable-read", "serializable", "strict-serializable"]
    );
    assert_eq!(verdict(&h, M::RepeatableRead), Verdict::Invalid);
    assert!(r.anomalies[0].steps.iter().all(|s| s.kind == StepKind::Rw));
}

#[test]
fn g_nonadjacent_is_forbidden_by_snapshot_isolation() {
    let h = concurrent(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["r", "x", [1]], ["r", "y", []]])),
        t(2, json!([["append", "y", 1]])),
        t(3, json!([["r", "y", [1]], ["r", "x", []]])),
    ]);
    let r = check(&h, W, M::SnapshotIsolation);
    assert_eq!(names(&r), ["G-nonadjacent"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(verdict(&h, M::ReadCommitted), Verdict::Valid);
    assert_eq!(r.anomalies[0].steps.len(), 4);
}

#[test]
fn adjacent_anti_dependencies_are_not_a_snapshot_isolation_violation() {
    // Elle's check that rw, rw, wr, rw, wr chains are not mistaken for a cycle: the edges
    // T5 -wr-> T1, T2 -rw-> T1, T3 -rw-> T2, T3 -wr-> T4, T5 -rw-> T4 close no loop.
    let h = concurrent(&[
        t(0, json!([["r", "x", [5]], ["append", "y", 1]])),
        t(1, json!([["r", "y", []], ["append", "z", 2]])),
        t(2, json!([["r", "z", []], ["append", "t", 3]])),
        t(3, json!([["r", "t", [3]], ["append", "u", 4]])),
        t(4, json!([["r", "u", []], ["append", "x", 5]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.anomalies);
    assert!(names(&r).is_empty());
}

#[test]
fn lost_update_is_also_write_skew() {
    let h = sequential(&[t(0, json!([["append", "x", 0]]))])
        + &concurrent(&[
            t(1, json!([["r", "x", [0]], ["append", "x", 1]])),
            t(2, json!([["r", "x", [0]], ["append", "x", 2]])),
        ]);
    let r = check(&h, W, M::SnapshotIsolation);
    assert_eq!(names(&r), ["G2-item", "lost-update"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(verdict(&h, M::ReadCommitted), Verdict::Valid);
}

#[test]
fn one_transaction_appending_twice_after_a_read_is_no_lost_update() {
    let h = sequential(&[
        t(
            0,
            json!([["r", "x", []], ["append", "x", 1], ["append", "x", 2]]),
        ),
        t(1, json!([["r", "x", [1, 2]]])),
    ]);
    assert!(check(&h, W, M::StrictSerializable).anomalies.is_empty());
}

#[test]
fn internal_inconsistency() {
    let h = sequential(&[t(
        0,
        json!([["r", "x", []], ["append", "x", 1], ["r", "x", []]]),
    )]);
    let r = check(&h, W, M::ReadUncommitted);
    assert_eq!(names(&r), ["internal"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(
        r.anomalies[0]
            .summary
            .contains("which lacks what it appended itself: expected [1]"),
        "{}",
        r.anomalies[0].summary
    );
    // An unknown prefix: only the end is known.
    let h = sequential(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["append", "x", 3], ["r", "x", [1, 2]]])),
    ]);
    let r = check(&h, W, M::ReadUncommitted);
    assert!(
        names(&r).contains(&"internal".to_string()),
        "{:?}",
        names(&r)
    );
}

#[test]
fn non_repeatable_read_is_allowed_by_read_committed_only() {
    // T2 reads x, T3's append commits, T2 appends and reads again: it sees T3's append.
    let h = sequential(&[t(0, json!([["append", "x", 1]]))])
        + &concurrent(&[
            t(
                1,
                json!([["r", "x", [1]], ["append", "x", 3], ["r", "x", [1, 2, 3]]]),
            ),
            t(2, json!([["append", "x", 2]])),
        ])
        + &sequential(&[t(0, json!([["r", "x", [1, 2, 3]]]))]);
    let r = check(&h, W, M::ReadCommitted);
    assert!(
        names(&r).contains(&"non-repeatable-read".to_string()),
        "{:?}",
        names(&r)
    );
    assert!(!names(&r).contains(&"internal".to_string()));
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.anomalies);
    assert_eq!(check(&h, W, M::RepeatableRead).verdict, Verdict::Invalid);
}

#[test]
fn future_read() {
    let h = sequential(&[t(0, json!([["r", "x", [1]], ["append", "x", 1]]))]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["future-read"]);
    assert_eq!(verdict(&h, M::ReadUncommitted), Verdict::Valid);
}

#[test]
fn duplicate_elements() {
    let h = sequential(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["r", "x", [1, 1]]])),
    ]);
    let r = check(&h, W, M::ReadUncommitted);
    assert_eq!(names(&r), ["duplicate-elements"]);
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn incompatible_orders() {
    let h = concurrent(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["append", "x", 2]])),
        t(2, json!([["r", "x", [1, 2]]])),
        t(3, json!([["r", "x", [2, 1]]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["incompatible-order"]);
    assert!(r.anomalies[0].summary.contains("[1 2]") && r.anomalies[0].summary.contains("[2 1]"));
    assert_eq!(verdict(&h, M::ReadUncommitted), Verdict::Valid);
}

#[test]
fn garbage_read() {
    let h = sequential(&[t(0, json!([["r", "x", [9]]]))]);
    let r = check(&h, W, M::ReadUncommitted);
    assert_eq!(names(&r), ["garbage-read"]);
    assert!(r.anomalies[0].summary.contains("no transaction appended 9"));
}

#[test]
fn stale_read_is_a_realtime_g_single() {
    let h = sequential(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["append", "x", 2]])),
        t(2, json!([["r", "x", [1]]])),
        t(3, json!([["r", "x", [1, 2]]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(names(&r), ["G-single-realtime"]);
    assert_eq!(models(&r), ["strict-serializable"]);
    assert_eq!(verdict(&h, M::Serializable), Verdict::Valid);
    let steps = &r.anomalies[0].steps;
    assert!(steps.iter().any(|s| s.kind == StepKind::Realtime
        && s.because == "T2 < T3: T2 completed (line 4) before T3 was invoked (line 5)"));
}

#[test]
fn stale_read_by_the_same_process_is_a_process_g_single() {
    let h = sequential(&[
        t(0, json!([["append", "x", 1]])),
        t(1, json!([["append", "x", 2]])),
        t(1, json!([["r", "x", [1]]])),
        t(2, json!([["r", "x", [1, 2]]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(names(&r), ["G-single-process"]);
    assert_eq!(verdict(&h, M::Serializable), Verdict::Valid);
}

#[test]
fn indeterminate_transactions_may_have_committed() {
    // An info append that a later read saw, and one that nobody saw.
    let h = sequential(&[
        with(0, "info", json!([["append", "x", 1]])),
        with(1, "info", json!([["append", "x", 2]])),
        t(2, json!([["r", "x", [1]]])),
        with(3, "pending", json!([["append", "y", 1]])),
        t(4, json!([["r", "y", [1]]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.anomalies);
    assert_eq!((r.committed, r.indeterminate), (2, 3));
}

#[test]
fn a_crashed_process_orders_nothing() {
    // Process 0's append crashed (info); the same process number reads later and does not
    // see it. The append may take effect after the read, so nothing is wrong.
    let h = sequential(&[
        with(0, "info", json!([["append", "x", 1]])),
        t(0, json!([["r", "x", []]])),
        t(1, json!([["r", "x", [1]]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.anomalies);
}

#[test]
fn what_failed_and_indeterminate_transactions_read_is_ignored() {
    let h = concurrent(&[
        with(0, "fail", json!([["r", "x", [7]], ["append", "x", 1]])),
        with(1, "info", json!([["r", "x", [8]]])),
        t(2, json!([["r", "x", []]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.anomalies);
}

#[test]
fn nothing_committed_is_unknown() {
    let h = concurrent(&[with(0, "fail", json!([["append", "x", 1]]))]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert_eq!(r.verdict.exit_code(), 3);
}

#[test]
fn control_characters_from_the_history_are_escaped() {
    let h = concurrent(&[
        t(
            0,
            json!([["r", "x\u{1b}[2J", []], ["append", "y", "\u{7}bell"]]),
        ),
        t(1, json!([["r", "y", []], ["append", "x\u{1b}[2J", 1]])),
    ]);
    let r = check(&h, W, M::Serializable);
    let text = photofinish_txn::terminal::render(&r);
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text}");
    assert!(text.contains("x\\u001b[2J"), "{text}");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains('\u{1b}'));
}
