//! The in-process recorder catches a lost update in a racy Rust counter and passes a correct one.

use std::sync::atomic::{AtomicI64, Ordering};

use photofinish::checker::{check_model, CheckOptions, Verdict};
use photofinish::history::{History, Recorder};

const THREADS: i64 = 4;
const ADDS_PER_THREAD: i64 = 300;

/// Runs `THREADS` threads that each add 1 to a shared counter `ADDS_PER_THREAD` times with
/// `increment`, reading it now and then, and returns the recorded history and the final value.
fn run(increment: fn(&AtomicI64)) -> (History, i64) {
    let counter = AtomicI64::new(0);
    let recorder = Recorder::new();
    std::thread::scope(|s| {
        for process in 0..THREADS {
            let (counter, recorder) = (&counter, &recorder);
            s.spawn(move || {
                for i in 0..ADDS_PER_THREAD {
                    let op = recorder.invoke(process, "add", 1);
                    increment(counter);
                    op.ok(1);
                    if i % 10 == 0 {
                        let op = recorder.invoke(process, "read", None::<i64>);
                        op.ok(counter.load(Ordering::SeqCst));
                    }
                }
            });
        }
    });
    let op = recorder.invoke(THREADS, "read", None::<i64>);
    let final_value = counter.load(Ordering::SeqCst);
    op.ok(final_value);
    (
        recorder
            .history()
            .expect("the recorder's history is well formed"),
        final_value,
    )
}

/// The bug teams keep writing post-mortems about: read, add, write back.
fn racy_increment(counter: &AtomicI64) {
    let seen = counter.load(Ordering::SeqCst);
    std::thread::yield_now();
    counter.store(seen + 1, Ordering::SeqCst);
}

fn atomic_increment(counter: &AtomicI64) {
    counter.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_racy_counter_loses_updates_and_the_checker_says_so() {
    // The race needs two threads to interleave between load and store; on a busy machine a
    // run can happen not to lose anything, and then the history is honestly valid. Retry until
    // an update was really lost, then the checker must find it.
    for _ in 0..50 {
        let (history, final_value) = run(racy_increment);
        let report =
            check_model("counter", None, None, &history, &CheckOptions::default()).unwrap();
        if final_value == THREADS * ADDS_PER_THREAD {
            assert_ne!(report.verdict, Verdict::Unknown);
            continue;
        }
        assert_eq!(
            report.verdict,
            Verdict::Invalid,
            "lost updates went unnoticed"
        );
        let failure = &report.failures[0];
        assert!(failure.stuck.as_ref().is_some_and(|op| op.f == "read"));
        return;
    }
    panic!("50 racy runs never lost an update");
}

#[test]
fn an_atomic_counter_passes() {
    let (history, final_value) = run(atomic_increment);
    assert_eq!(final_value, THREADS * ADDS_PER_THREAD);
    let report = check_model("counter", None, None, &history, &CheckOptions::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Valid, "{report:?}");
    assert_eq!(report.operations, history.operations.len());
}
