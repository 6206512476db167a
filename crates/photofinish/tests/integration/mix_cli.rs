//! `photofinish run` with the workload controls (--mix, --values, --key-dist, --final-read,
//! --phase) and the kv and multi-register workloads: bad flags are usage errors (exit 2) that
//! say what is wrong before anything starts, and real runs against a spawned Redis give the
//! verdicts their variants promise and record the controls in the history's header.

use crate::common::{photofinish, text};
use std::path::PathBuf;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-mix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// A run against an address nothing listens on: a flag refused before the run never gets there.
fn refused(workload: &str, flags: &[&str]) -> String {
    let history = scratch(&format!("refused-{workload}-{}.jsonl", flags.join("_")));
    let mut args = vec![
        "run",
        "redis",
        "--url",
        "127.0.0.1:1",
        "--quiet",
        "-w",
        workload,
        "--output",
        history.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    let out = photofinish(&args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!history.exists(), "nothing was recorded");
    text(&out)
}

#[test]
fn a_mix_naming_an_operation_the_workload_lacks_lists_the_ones_it_has() {
    let message = refused("cas-register", &["--mix", "read=2,swap=1"]);
    assert!(
        message.contains("--mix: the cas-register workload has no operation `swap`: expected one of read, write, cas"),
        "{message}"
    );
    let message = refused("mutex", &["--mix", "acquire=1"]);
    assert!(message.contains("--mix does not apply"), "{message}");
    let message = refused("register", &["--mix", "read=0,write=0"]);
    assert!(message.contains("draws nothing"), "{message}");
    let message = refused("register", &["--mix", "read=x"]);
    assert!(message.contains("whole number"), "{message}");
}

#[test]
fn values_key_spread_final_reads_and_phases_are_checked_before_the_run() {
    let message = refused("counter", &["--values", "3"]);
    assert!(
        message.contains("--values applies to register, cas-register, kv and multi-register"),
        "{message}"
    );
    let message = refused("register", &["--values", "0"]);
    assert!(message.contains("whole number from 1"), "{message}");
    let message = refused("register", &["--key-dist", "pareto"]);
    assert!(
        message.contains("expected uniform, zipf or zipf:EXPONENT"),
        "{message}"
    );
    let message = refused("register", &["--key-dist", "zipf:0"]);
    assert!(message.contains("above 0"), "{message}");
    let message = refused("create-once", &["--final-read"]);
    assert!(message.contains("no read operation"), "{message}");
    let message = refused("register", &["--phase", "warmup"]);
    assert!(message.contains("NAME:DURATION"), "{message}");
    let message = refused("register", &["--phase", "warmup:5s,warmup:1s"]);
    assert!(message.contains("given twice"), "{message}");
}

/// `photofinish run redis --spawn` of `workload` with `flags`; the exit code, the output and
/// the history's header line.
fn run_spawned(name: &str, workload: &str, flags: &[&str]) -> (Option<i32>, String, String) {
    let history = scratch(&format!("{name}.jsonl"));
    let mut args = vec![
        "run",
        "redis",
        "--spawn",
        "--quiet",
        "--seed",
        "13",
        "-w",
        workload,
        "--output",
        history.to_str().unwrap(),
    ];
    args.extend_from_slice(flags);
    let out = photofinish(&args);
    let header = std::fs::read_to_string(&history)
        .ok()
        .and_then(|h| h.lines().next().map(str::to_string))
        .unwrap_or_default();
    (out.status.code(), text(&out), header)
}

#[test]
fn kv_appends_through_get_then_set_are_lost_and_the_header_records_the_controls() {
    let (code, output, header) = run_spawned(
        "kv-get-set",
        "kv",
        &[
            "--variant",
            "get-set",
            "--keys",
            "3",
            "-n",
            "2000",
            "--mix",
            "get=1,put=1,append=4",
            "--key-dist",
            "zipf:1.1",
            "--final-read",
            "--values",
            "2",
        ],
    );
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("missing"), "{output}");
    for recorded in [
        r#""mix":{"append":4,"get":1,"put":1}"#,
        r#""key_dist":"zipf:1.1""#,
        r#""final_read":true"#,
        r#""values":2"#,
    ] {
        assert!(header.contains(recorded), "{recorded} in {header}");
    }
}

#[test]
fn multi_register_transactions_under_watch_are_valid_and_phases_split_the_figures() {
    let (code, output, header) = run_spawned(
        "multi-watch",
        "multi-register",
        &[
            "--phase",
            "warmup:1s,steady:1s",
            "--rate",
            "500",
            "--values",
            "4",
        ],
    );
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("phase:      warmup 0.0-1.0 s"), "{output}");
    assert!(output.contains("phase:      steady 1.0-2.0 s"), "{output}");
    assert!(output.contains("after warmup"), "{output}");
    assert!(
        header.contains(r#""init":{"x0":null,"x1":null,"x2":null}"#),
        "{header}"
    );
    assert!(header.contains(r#""values":4"#), "{header}");
}

#[test]
fn repeated_register_values_are_decided_by_the_general_search() {
    let (code, output, _) = run_spawned(
        "register-values",
        "register",
        &["--values", "3", "--keys", "2", "-n", "1000", "--final-read"],
    );
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("by the generic search"), "{output}");
    assert!(!output.contains("unique-values procedure in"), "{output}");
}

#[test]
fn a_mix_without_reads_says_what_it_leaves_unchecked() {
    let (code, output, _) = run_spawned(
        "register-no-reads",
        "register",
        &["--mix", "write=1", "-n", "200"],
    );
    assert_eq!(code, Some(0), "{output}");
    assert!(
        output.contains("note:       the mix has no read: nothing observes what was written"),
        "{output}"
    );
}

#[test]
fn a_stale_read_among_repeated_values_is_still_found() {
    // Values 1 and 2 each written twice: the unique-values procedure cannot apply, and the
    // general search must still see that the last read returns a value overwritten before it.
    let history = scratch("stale-repeated.jsonl");
    let events = [
        r#"{"photofinish":{"model":"register"}}"#,
        r#"{"type":"invoke","process":0,"f":"write","value":1,"time":1}"#,
        r#"{"type":"ok","process":0,"f":"write","value":1,"time":2}"#,
        r#"{"type":"invoke","process":0,"f":"write","value":2,"time":3}"#,
        r#"{"type":"ok","process":0,"f":"write","value":2,"time":4}"#,
        r#"{"type":"invoke","process":0,"f":"write","value":1,"time":5}"#,
        r#"{"type":"ok","process":0,"f":"write","value":1,"time":6}"#,
        r#"{"type":"invoke","process":0,"f":"write","value":2,"time":7}"#,
        r#"{"type":"ok","process":0,"f":"write","value":2,"time":8}"#,
        r#"{"type":"invoke","process":1,"f":"read","value":null,"time":9}"#,
        r#"{"type":"ok","process":1,"f":"read","value":1,"time":10}"#,
    ];
    std::fs::write(&history, events.join("\n") + "\n").unwrap();
    let out = photofinish(&["check", history.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("generic search"), "{}", text(&out));
}
