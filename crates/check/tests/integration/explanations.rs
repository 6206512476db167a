//! The explanation of a failure is true and plain: the states the stuck operation was tried in,
//! only the operations concurrent with it, a witness from which no operation can be removed, and
//! the same counterexample on every run.

use std::collections::BTreeSet;

use photofinish_check::{check_model, CheckOptions, Report, Verdict};
use photofinish_history::{read_path, read_str, History, Value};

fn check(model: &str, text: &str) -> Report {
    let history = read_str(text, "test.jsonl", None).unwrap();
    check_model(model, None, None, &history, &CheckOptions::default()).unwrap()
}

fn event(kind: &str, process: i64, f: &str, value: &str) -> String {
    format!("{{\"type\":\"{kind}\",\"f\":\"{f}\",\"value\":{value},\"process\":{process}}}\n")
}

/// The lines of `text` that hold the operations of `report`'s witness, and nothing else.
fn witness_only(text: &str, report: &Report, skip: Option<usize>) -> String {
    let witness = report.witness.as_ref().expect("a witness");
    let lines: BTreeSet<usize> = witness
        .operations
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .flat_map(|(_, op)| std::iter::once(op.invoke_line).chain(op.complete_line))
        .collect();
    text.lines()
        .enumerate()
        .filter(|(i, _)| lines.contains(&(i + 1)))
        .map(|(_, l)| format!("{l}\n"))
        .collect()
}

/// The witness alone is invalid, and without any one of its operations it is valid.
fn assert_one_minimal(model: &str, text: &str, report: &Report) {
    let witness = report.witness.as_ref().expect("a witness");
    assert!(witness.minimal, "{witness:?}");
    assert_eq!(
        check(model, &witness_only(text, report, None)).verdict,
        Verdict::Invalid
    );
    for skip in 0..witness.operations.len() {
        let rest = witness_only(text, report, Some(skip));
        let verdict = check(model, &rest).verdict;
        assert!(
            verdict == Verdict::Valid || (rest.is_empty() && verdict == Verdict::Unknown),
            "without operation {skip} the witness is still {verdict:?}:\n{rest}"
        );
    }
}

/// Two writes complete one after another, a third times out, then a read returns the first
/// value. The read was tried after both writes: in state 2, or 3 if the open write took effect.
/// The completed writes are not "open at that moment"; the one that timed out is.
#[test]
fn the_stuck_read_was_tried_after_everything_that_precedes_it() {
    let mut text = String::new();
    text += &event("invoke", 0, "write", "1");
    text += &event("ok", 0, "write", "1");
    text += &event("invoke", 1, "write", "2");
    text += &event("ok", 1, "write", "2");
    text += &event("invoke", 2, "write", "3");
    text += &event("invoke", 3, "read", "null");
    text += &event("ok", 3, "read", "1");
    text += &event("info", 2, "write", "3");
    let report = check("register", &text);
    assert_eq!(report.verdict, Verdict::Invalid);
    let failure = &report.failures[0];
    let states: BTreeSet<Value> = failure.possible_states.iter().cloned().collect();
    assert_eq!(states, BTreeSet::from([Value::Int(2), Value::Int(3)]));
    let concurrent: Vec<i64> = failure.concurrent.iter().map(|op| op.process).collect();
    assert_eq!(concurrent, vec![2]);
    assert!(
        report.diagnosis[0].message.contains("stale read"),
        "{:?}",
        report.diagnosis
    );
}

/// Six adds complete one after another, a seventh times out, then a read returns 3. The search
/// gives up on every order as soon as the counter passes 3 (adds never decrease it), before the
/// read began: the report says so and shows that state, never the 3 the read saw.
#[test]
fn a_counter_read_below_the_completed_adds_shows_where_the_search_stopped() {
    let mut text = String::new();
    for p in 0..6 {
        text += &event("invoke", p, "add", "1");
        text += &event("ok", p, "add", "1");
    }
    text += &event("invoke", 7, "add", "1");
    text += &event("invoke", 8, "read", "null");
    text += &event("ok", 8, "read", "3");
    text += &event("info", 7, "add", "1");
    let report = check("counter", &text);
    assert_eq!(report.verdict, Verdict::Invalid);
    let failure = &report.failures[0];
    assert!(failure.possible_states.is_empty());
    let earlier = failure.earlier_states.as_ref().expect("earlier states");
    assert_eq!(
        (earlier.before_line, earlier.states.clone()),
        (10, vec![Value::Int(4)])
    );
    let concurrent: Vec<i64> = failure.concurrent.iter().map(|op| op.process).collect();
    assert_eq!(concurrent, vec![7]);
    assert!(
        report.diagnosis[0]
            .message
            .contains("6 adds completed before it began"),
        "{:?}",
        report.diagnosis
    );
    // Four adds and the read: without any one of them, the rest is explained.
    assert_eq!(report.witness.as_ref().unwrap().operations.len(), 5);
    assert_one_minimal("counter", &text, &report);
}

/// The demo's counter race in small: three read-modify-write increments acknowledged, a read
/// that saw one. Two of the adds and the read are the whole story.
#[test]
fn a_lost_increment_shrinks_to_a_minimal_witness() {
    let mut text = String::new();
    for p in 0..3 {
        text += &event("invoke", p, "add", "1");
    }
    for p in 0..3 {
        text += &event("ok", p, "add", "1");
    }
    text += &event("invoke", 3, "read", "null");
    text += &event("ok", 3, "read", "1");
    let report = check("counter", &text);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.witness.as_ref().unwrap().operations.len(), 3);
    assert_one_minimal("counter", &text, &report);
}

/// The demo's create-once race in small: three concurrent creates of one key through a lagging
/// cache all answer "created". Any two of them are the witness.
#[test]
fn a_duplicate_create_shrinks_to_two_creates() {
    let mut text = String::new();
    for p in 0..3 {
        text += &format!(
            "{{\"type\":\"invoke\",\"f\":\"create\",\"key\":\"order-7\",\"process\":{p}}}\n"
        );
    }
    for p in 0..3 {
        text += &format!("{{\"type\":\"ok\",\"f\":\"create\",\"key\":\"order-7\",\"value\":\"created\",\"process\":{p}}}\n");
    }
    let report = check("create-once", &text);
    assert_eq!(report.verdict, Verdict::Invalid);
    assert_eq!(report.witness.as_ref().unwrap().operations.len(), 2);
    assert_one_minimal("create-once", &text, &report);
    assert!(
        report.diagnosis[0].message.contains("created 3 times"),
        "{:?}",
        report.diagnosis
    );
}

/// Porcupine's c50-bad fails in several keys; the report names the same one, the same stuck
/// operation and the same witness however the threads run (here, 20 checks at once).
#[test]
fn the_counterexample_is_the_same_on_every_run() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/porcupine/kv/c50-bad.txt");
    let history: History = read_path(&path, None).unwrap();
    let fingerprint = |report: &Report| {
        let failure = &report.failures[0];
        let witness: Vec<usize> = report
            .witness
            .iter()
            .flat_map(|w| w.operations.iter().map(|op| op.invoke_line))
            .collect();
        (
            failure.key.clone(),
            failure.stuck.as_ref().map(|op| op.invoke_line),
            witness,
        )
    };
    let init = Value::Str(String::new());
    let fingerprints: Vec<_> = std::thread::scope(|scope| {
        // Four at once: more threads than cores, so the runs interleave as `check` and `report`
        // of the same file do. (The witness has a 5 s safety cap besides its work budget; twenty
        // runs of about a second each on two loaded cores would reach it, and a capped witness
        // may be cut at another step: the verdict, key and stuck operation would still agree.)
        let runs: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let report =
                        check_model("kv", Some(&init), None, &history, &CheckOptions::default())
                            .unwrap();
                    assert_eq!(report.verdict, Verdict::Invalid);
                    fingerprint(&report)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert!(
        fingerprints.iter().all(|f| *f == fingerprints[0]),
        "{fingerprints:?}"
    );
    assert_eq!(fingerprints[0].0, Some(Value::Str("0".to_string())));
}
