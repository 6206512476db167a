//! `photofinish run` against targets that cannot be used: the run stops early with the reason,
//! keeps the history so far, and never reports VALID (the reproducers in ../shared/repro).

use crate::common::text;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const REPRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro");

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-early-stop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// `photofinish run ARGS...` with the history in a fresh scratch file; the output, how long
/// it took and the history's text.
fn run(name: &str, args: &[&str]) -> (Output, Duration, String) {
    let history = scratch(&format!("{name}.jsonl"));
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .arg("run")
        .args(args.iter().take_while(|a| **a != "--"))
        .arg("--output")
        .arg(&history)
        .args(args.iter().skip_while(|a| **a != "--"))
        .output()
        .expect("photofinish runs");
    let recorded = std::fs::read_to_string(&history).unwrap_or_default();
    (out, started.elapsed(), recorded)
}

/// The run stopped early, said `reason`, exited 3 and kept what it recorded.
fn assert_stopped_early(out: &Output, elapsed: Duration, recorded: &str, reason: &str) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("stopped early after"), "{all}");
    assert!(all.contains(reason), "{all}");
    assert!(all.contains("UNKNOWN: the run stopped early"), "{all}");
    assert!(!all.contains("VALID"), "{all}");
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}: {all}");
    assert!(recorded.lines().count() > 14, "{recorded}");
}

#[test]
fn a_service_that_refuses_every_connection_stops_the_run_early() {
    let spec = format!("{REPRO}/http-service-down.toml");
    let (out, elapsed, recorded) = run("service-down", &["http", "--quiet", "-c", "2", &spec]);
    assert_stopped_early(
        &out,
        elapsed,
        &recorded,
        "of the first 14 operations could not connect",
    );
    assert!(
        text(&out).contains("check that the system is running and listening there"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_program_that_answers_garbage_stops_the_run_early() {
    let garbage = format!("{REPRO}/exec-garbage.py");
    let (out, elapsed, recorded) = run(
        "garbage-answers",
        &[
            "exec", "-w", "counter", "--quiet", "-c", "2", "--", "python3", &garbage,
        ],
    );
    assert_stopped_early(
        &out,
        elapsed,
        &recorded,
        "14 of the first 14 operations got no usable answer: client program: bad answer",
    );
    assert!(text(&out).contains(": check the program"), "{}", text(&out));
}

#[test]
fn misbehaving_programs_stop_the_run_early_with_the_reason() {
    let program = format!("{REPRO}/exec-misbehaving.py");
    for (mode, reason) in [
        (
            "garbage",
            "got no usable answer: client program: bad answer",
        ),
        (
            "binary",
            "got no usable answer: client program: the answer is not UTF-8",
        ),
        ("exit", "got no usable answer: client program exited"),
        ("crash", "got no usable answer: client program exited"),
    ] {
        // Named apart from the other tests' histories: tests run in parallel, in one process.
        let (out, elapsed, recorded) = run(
            &format!("misbehaving-{mode}"),
            &[
                "exec", "-w", "counter", "--quiet", "-c", "2", "--", "python3", &program, mode,
            ],
        );
        assert_stopped_early(&out, elapsed, &recorded, reason);
    }
}
