//! The lock-order deadlock scenario: opposite lock orders stall (and the run stops soon after,
//! ending stalled, with the stall recorded in the history), one lock order passes without a
//! stall.

use photofinish_history::stall::{recorded, STALL_START};
use photofinish_lab::{demo_blocking, scenario_runs, DemoOptions, Expectation};

#[test]
fn opposite_lock_orders_stall_and_one_order_passes() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        dir: Some(dir.path().to_path_buf()),
        scenarios: scenario_runs("deadlock", &[3]).unwrap(),
        ..DemoOptions::default()
    };
    let started = std::time::Instant::now();
    let report = demo_blocking(&options).unwrap();
    let table = report.to_string();
    println!("{table}");
    assert!(report.succeeded(), "{table}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{table}"
    );
    let [deadlock, fixed] = &report.rows[..] else {
        panic!("two rows: {table}");
    };
    assert_eq!(
        (deadlock.strategy, deadlock.expected),
        ("opposite-order", Expectation::Stalls)
    );
    let stall = deadlock.stall.as_deref().expect("a stall");
    assert!(
        stall.contains("clients waited and nothing completed for"),
        "{stall}"
    );
    assert!(table.contains("STALLED"), "{table}");
    assert!(table.contains("yes: stall caught"), "{table}");
    let history = photofinish_history::read_path(&deadlock.history, None).unwrap();
    assert!(history.nemesis.iter().any(|n| n.f == STALL_START));
    assert!(
        recorded(&history).last().unwrap().ongoing(),
        "ended stalled"
    );

    assert_eq!(fixed.strategy, "fixed-order");
    assert_eq!(fixed.verdict, photofinish_check::Verdict::Valid, "{table}");
    assert_eq!(fixed.stall, None, "{table}");
    assert!(fixed.ops >= options.ops, "{table}");
}
