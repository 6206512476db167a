//! An exec program's start-up is not an operation: a program that takes seconds to start, run
//! with an operation timeout shorter than that, completes its operations instead of spiralling
//! into timeouts; one that never starts stops the run early with the reason.

use crate::common::text;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/exec/file_counter.py"
);
const REPRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// Python that sleeps `seconds`, prints the `ready` line if asked, then is the file counter
/// keeping its total in `state`.
fn slow_file_counter(seconds: f64, ready: bool, state: &std::path::Path) -> String {
    format!(
        "import runpy, sys, time\n\
         time.sleep({seconds})\n\
         if {ready}:\n    print('{{\"type\":\"ready\"}}', flush=True)\n\
         sys.argv = ['file_counter.py', {state:?}, '--lock']\n\
         runpy.run_path({CLIENT:?}, run_name='__main__')\n",
        ready = if ready { "True" } else { "False" },
        state = state.display().to_string(),
    )
}

/// `photofinish run exec -w counter --quiet ARGS -o HISTORY -- PROGRAM...`.
fn run(name: &str, args: &[&str], program: &[&str]) -> (Output, Duration) {
    let history = scratch(&format!("{name}.jsonl"));
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(["run", "exec", "-w", "counter", "--quiet"])
        .args(args)
        .arg("--output")
        .arg(&history)
        .arg("--")
        .args(program)
        .output()
        .expect("photofinish runs");
    (out, started.elapsed())
}

#[test]
fn a_program_that_takes_3_s_to_start_completes_its_operations_with_a_1_s_op_timeout() {
    for ready in [false, true] {
        let name = if ready { "slow-ready" } else { "slow-silent" };
        let program = slow_file_counter(3.0, ready, &scratch(&format!("{name}.json")));
        let (out, elapsed) = run(
            name,
            &["-c", "4", "-n", "40", "--op-timeout", "1s"],
            &["python3", "-c", &program],
        );
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "ready line: {ready}: {all}");
        assert!(all.contains("operations: 41 in"), "{all}");
        assert!(all.contains(", 0 info (indeterminate)"), "{all}");
        assert!(!all.contains("stopped early"), "{all}");
        // Setup and the clients each start once, in 3 s: no start-up after a timeout.
        assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}: {all}");
    }
}

#[test]
fn a_program_that_never_answers_its_first_operation_stops_the_run_early() {
    let program = format!("{REPRO}/exec-misbehaving.py");
    let (out, elapsed) = run(
        "never-starts",
        &["-c", "4", "--start-timeout", "1s", "--op-timeout", "1s"],
        &["python3", &program, "hang"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains(
            "14 of the first 14 operations waited in vain for the program to start (no ready \
             line, no answer within 1 s): raise --start-timeout or check the program"
        ),
        "{all}"
    );
    assert!(!all.contains("VALID"), "{all}");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}: {all}");
}

#[test]
fn a_program_ready_but_too_slow_to_answer_is_told_to_raise_the_op_timeout() {
    let program = "import sys, time\n\
                   print('{\"type\":\"ready\"}', flush=True)\n\
                   for line in sys.stdin:\n    \
                       time.sleep(0 if '\"setup\"' in line else 5)\n    \
                       print('{\"type\":\"ok\"}', flush=True)\n";
    let (out, elapsed) = run(
        "ready-but-slow",
        &["-c", "4", "--op-timeout", "1s"],
        &["python3", "-c", program],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains(
            "14 of the first 14 operations timed out: raise --op-timeout (now 1 s) or check the \
             program"
        ),
        "{all}"
    );
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}: {all}");
}
