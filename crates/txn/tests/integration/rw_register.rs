//! rw-register: known histories for each anomaly it can infer, and valid ones.

use crate::common;

use common::{check, concurrent, models, names, sequential, t, with};
use photofinish_txn::{ConsistencyModel as M, Verdict, Workload};
use serde_json::json;

const W: Workload = Workload::RwRegister;

#[test]
fn a_serial_history_is_valid() {
    let h = sequential(&[
        t(0, json!([["w", "x", 1]])),
        t(1, json!([["r", "x", 1], ["w", "x", 2]])),
        t(0, json!([["r", "x", 2], ["r", "y", null]])),
    ]);
    for model in M::ALL {
        let r = check(&h, W, model);
        assert_eq!(r.verdict, Verdict::Valid, "{model}: {:#?}", r.anomalies);
    }
}

#[test]
fn g0_from_writes_following_reads() {
    // T2 read x = 1 before writing x = 2; T1 read y = 2 before writing y = 1.
    let h = concurrent(&[
        t(0, json!([["w", "x", 1], ["r", "y", 2], ["w", "y", 1]])),
        t(1, json!([["r", "x", 1], ["w", "x", 2], ["w", "y", 2]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G0"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    // The version order rests on read committed's guarantees, so read uncommitted stands.
    assert!(!models(&r).contains(&"read-uncommitted"));
    assert_eq!(check(&h, W, M::ReadUncommitted).verdict, Verdict::Valid);
    let because: Vec<&str> = r.anomalies[0]
        .steps
        .iter()
        .map(|s| s.because.as_str())
        .collect();
    assert!(
        because
            .iter()
            .any(|b| b.contains("T2 read 1 before writing 2")),
        "{because:#?}"
    );
}

#[test]
fn g1a_aborted_read() {
    let h = concurrent(&[
        with(0, "fail", json!([["w", "x", 1]])),
        t(1, json!([["r", "x", 1]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G1a"]);
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn g1b_intermediate_read() {
    let h = concurrent(&[
        t(0, json!([["w", "x", 1], ["w", "x", 2]])),
        t(1, json!([["r", "x", 1]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G1b"]);
}

#[test]
fn g1c_circular_information_flow() {
    let h = concurrent(&[
        t(0, json!([["w", "x", 1], ["r", "y", 1]])),
        t(1, json!([["r", "x", 1], ["w", "y", 1]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["G1c"]);
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn g_single_read_skew() {
    let h = concurrent(&[
        t(0, json!([["w", "x", 1], ["w", "y", 1]])),
        t(1, json!([["r", "x", 1], ["r", "y", null]])),
    ]);
    let r = check(&h, W, M::SnapshotIsolation);
    assert_eq!(names(&r), ["G-single"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(check(&h, W, M::ReadCommitted).verdict, Verdict::Valid);
    assert!(r.anomalies[0].steps.iter().any(|s| s.because
        == "T2 < T1: T2 read key \"y\" as nil, the initial state, which T1's write of 1 follows"));
}

#[test]
fn g2_item_write_skew() {
    let h = concurrent(&[
        t(0, json!([["r", "x", null], ["w", "y", 1]])),
        t(1, json!([["r", "y", null], ["w", "x", 1]])),
    ]);
    let r = check(&h, W, M::RepeatableRead);
    assert_eq!(names(&r), ["G2-item"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(check(&h, W, M::SnapshotIsolation).verdict, Verdict::Valid);
}

#[test]
fn lost_update() {
    let h = sequential(&[t(0, json!([["w", "x", 0]]))])
        + &concurrent(&[
            t(1, json!([["r", "x", 0], ["w", "x", 1]])),
            t(2, json!([["r", "x", 0], ["w", "x", 2]])),
        ]);
    let r = check(&h, W, M::SnapshotIsolation);
    assert_eq!(names(&r), ["G2-item", "lost-update"]);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(check(&h, W, M::ReadCommitted).verdict, Verdict::Valid);
}

#[test]
fn internal_non_repeatable_and_future_reads() {
    let h = sequential(&[t(0, json!([["w", "x", 1], ["r", "x", null]]))]);
    assert_eq!(names(&check(&h, W, M::ReadUncommitted)), ["internal"]);
    let h = concurrent(&[
        t(0, json!([["r", "x", null], ["r", "x", 1]])),
        t(1, json!([["w", "x", 1]])),
    ]);
    let r = check(&h, W, M::ReadCommitted);
    assert_eq!(names(&r), ["non-repeatable-read"]);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(check(&h, W, M::SnapshotIsolation).verdict, Verdict::Invalid);
    let h = sequential(&[t(0, json!([["r", "x", 1], ["w", "x", 1]]))]);
    assert_eq!(names(&check(&h, W, M::ReadCommitted)), ["future-read"]);
}

#[test]
fn garbage_read() {
    let h = sequential(&[t(0, json!([["r", "x", 5]]))]);
    let r = check(&h, W, M::ReadUncommitted);
    assert_eq!(names(&r), ["garbage-read"]);
    assert_eq!(r.verdict, Verdict::Invalid);
}

#[test]
fn real_time_orders_versions_under_strict_serializability_only() {
    // T1 wrote 1, T2 wrote 2 after T1 completed, and T3 read 1 after T2 completed: stale.
    let h = sequential(&[
        t(0, json!([["w", "x", 1]])),
        t(1, json!([["w", "x", 2]])),
        t(2, json!([["r", "x", 1]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    // T3's read of 1 after T2 completed also puts 2 before 1, against 1 before 2: a cycle of
    // write dependencies that real time implies (G0-realtime) besides the stale read itself.
    assert_eq!(names(&r), ["G0-realtime", "G-single-realtime"]);
    assert_eq!(models(&r), ["strict-serializable"]);
    assert!(r.anomalies[0].steps.iter().any(|s| s.derived));
    assert_eq!(check(&h, W, M::Serializable).verdict, Verdict::Valid);
    // Concurrent writes impose no order.
    let h = concurrent(&[t(0, json!([["w", "x", 1]])), t(1, json!([["w", "x", 2]]))])
        + &sequential(&[t(2, json!([["r", "x", 1]]))]);
    assert_eq!(check(&h, W, M::StrictSerializable).verdict, Verdict::Valid);
}

#[test]
fn indeterminate_writes_may_have_committed() {
    let h = sequential(&[
        with(0, "info", json!([["w", "x", 1]])),
        t(1, json!([["r", "x", 1]])),
        with(2, "pending", json!([["w", "y", 1]])),
        t(3, json!([["r", "y", null]])),
    ]);
    let r = check(&h, W, M::StrictSerializable);
    assert_eq!(r.verdict, Verdict::Valid, "{:#?}", r.anomalies);
}
