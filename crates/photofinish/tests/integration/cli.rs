//! The `photofinish` command: verdicts, exit codes, and precise errors for bad input.

use crate::common::photofinish;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Writes `content` to a fresh file named `name` and returns its path.
fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn check(model: &str, path: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["check", "--model", model, path.to_str().unwrap()];
    args.extend_from_slice(extra);
    photofinish(&args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_bundled_example_shows_the_lost_update() {
    let example = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/lost-update.jsonl"
    ));
    let out = check("counter", &example, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("could not place"), "{text}");
    assert!(text.contains("INVALID"), "{text}");
}

#[test]
fn json_output_carries_the_explanation() {
    let h = file(
        "stale.jsonl",
        concat!(
            r#"{"type":"invoke","f":"write","value":1,"process":0}"#,
            "\n",
            r#"{"type":"ok","f":"write","value":1,"process":0}"#,
            "\n",
            r#"{"type":"invoke","f":"read","value":null,"process":1}"#,
            "\n",
            r#"{"type":"ok","f":"read","value":0,"process":1}"#,
            "\n",
        ),
    );
    let out = check("register", &h, &["--init", "0", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "invalid");
    let failure = &report["failures"][0];
    assert_eq!(failure["stuck"]["f"], "read");
    assert_eq!(failure["stuck"]["result"], 0);
    assert_eq!(failure["possible_states"], serde_json::json!([1]));
    assert_eq!(failure["prefix"][0]["op"]["f"], "write");
    assert_eq!(failure["prefix"][0]["state"], 1);
}

#[test]
fn a_valid_history_exits_zero() {
    let h = file(
        "ok.jsonl",
        concat!(
            r#"{"type":"invoke","f":"write","value":1,"process":0}"#,
            "\n",
            r#"{"type":"invoke","f":"read","value":null,"process":1}"#,
            "\n",
            r#"{"type":"ok","f":"read","value":1,"process":1}"#,
            "\n",
            r#"{"type":"info","f":"write","value":1,"process":0}"#,
            "\n",
        ),
    );
    let out = check("register", &h, &["--init", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn bad_input_exits_two_with_the_place() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (name, model, content, expected fragment of the error)
        ("syntax.jsonl", "register", "{\"type\":\"invoke\",\"f\":\"read\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"read\" \"process\":0}\n", "syntax.jsonl:2:"),
        ("kind.jsonl", "register", "{\"type\":\"started\",\"f\":\"read\",\"process\":0}\n", "invoke, ok, fail or info"),
        ("process.jsonl", "register", "{\"type\":\"invoke\",\"f\":\"read\",\"process\":[1]}\n", "`process` must be an integer"),
        ("orphan.jsonl", "register", "{\"type\":\"ok\",\"f\":\"read\",\"value\":1,\"process\":4}\n", "no matching invoke"),
        ("twice.jsonl", "register", "{\"type\":\"invoke\",\"f\":\"read\",\"process\":4}\n{\"type\":\"invoke\",\"f\":\"write\",\"value\":1,\"process\":4}\n", "twice.jsonl:2:1: process 4 invokes `write` while its `read`"),
        ("unknown-f.jsonl", "cas-register", "{\"type\":\"invoke\",\"f\":\"incr\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"incr\",\"process\":0}\n", "unknown-f.jsonl:1: unknown f `incr`"),
        ("cas-shape.jsonl", "cas-register", "{\"type\":\"invoke\",\"f\":\"cas\",\"value\":3,\"process\":0}\n{\"type\":\"ok\",\"f\":\"cas\",\"value\":3,\"process\":0}\n", "cas expects [expected, new]"),
        ("counter-type.jsonl", "counter", "{\"type\":\"invoke\",\"f\":\"add\",\"value\":\"one\",\"process\":0}\n{\"type\":\"ok\",\"f\":\"add\",\"value\":\"one\",\"process\":0}\n", "must be an integer"),
        ("garbage.txt", "register", "hello world\n", "cannot tell the format"),
    ];
    for (name, model, content, expected) in cases {
        let out = check(model, &file(name, content), &[]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{name}: {}", stderr(&out));
    }
}

#[test]
fn usage_errors_exit_two() {
    let h = file("u.jsonl", "");
    for args in [
        vec!["check", "--model", "nope", h.to_str().unwrap()],
        vec![
            "check",
            "--model",
            "register",
            "--init",
            "{bad",
            h.to_str().unwrap(),
        ],
        vec!["check", "--model", "register", "/nonexistent/history.jsonl"],
        vec![
            "check",
            "--model",
            "register",
            "--timeout",
            "-1",
            h.to_str().unwrap(),
        ],
        vec!["frobnicate"],
    ] {
        let out = photofinish(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_torn_last_line_is_recovered_with_a_warning() {
    let h = file(
        "torn.jsonl",
        "{\"type\":\"invoke\",\"f\":\"write\",\"value\":1,\"process\":0}\n{\"type\":\"ok\",\"f\":\"write\",\"value\":1,\"process\":0}\n{\"type\":\"invoke\",\"f\":\"re",
    );
    let out = check("register", &h, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning") && stderr(&out).contains("torn"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_empty_history_proves_nothing() {
    let h = file("empty.jsonl", "");
    let out = check("cas-register", &h, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("nothing was tested"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_history_with_only_failed_operations_proves_nothing() {
    let h = file(
        "failed.jsonl",
        "{\"type\":\"invoke\",\"f\":\"cas\",\"value\":[1,2],\"process\":0}\n{\"type\":\"fail\",\"f\":\"cas\",\"value\":[1,2],\"process\":0}\n",
    );
    let out = check("cas-register", &h, &["--init", "0"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn a_history_of_timeouts_only_proves_nothing() {
    let mut text = String::new();
    for p in 0..4 {
        text += &format!("{{\"type\":\"invoke\",\"f\":\"write\",\"value\":{p},\"process\":{p}}}\n");
        text += &format!("{{\"type\":\"info\",\"f\":\"write\",\"value\":{p},\"process\":{p}}}\n");
    }
    let h = file("timeouts.jsonl", &text);
    let out = check("register", &h, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("UNKNOWN") && stdout.contains("nothing was tested"),
        "{stdout}"
    );
}

/// `n` concurrent writes of distinct values, then reads that no order explains: the search must
/// try many orders before it can say so.
fn conflicting_writes(n: usize) -> String {
    let mut text = String::new();
    for p in 0..n {
        text += &format!("{{\"type\":\"invoke\",\"f\":\"write\",\"value\":{p},\"process\":{p}}}\n");
    }
    for p in 0..n {
        text += &format!("{{\"type\":\"ok\",\"f\":\"write\",\"value\":{p},\"process\":{p}}}\n");
    }
    for p in 0..n {
        text += &format!("{{\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"process\":{p}}}\n{{\"type\":\"ok\",\"f\":\"read\",\"value\":{},\"process\":{p}}}\n", (p * 5) % n);
    }
    text
}

#[test]
fn the_memory_ceiling_turns_into_unknown() {
    let h = file("big.jsonl", &conflicting_writes(12));
    let out = check("register", &h, &["--max-memory", "0", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "{report}");
    assert!(report["undecided"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("memory"));
}

#[test]
fn the_timeout_turns_into_unknown() {
    let text = conflicting_writes(14);
    let out = check(
        "register",
        &file("slow.jsonl", &text),
        &["--timeout", "0.000001", "--json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Either decided in the first slice of work, or honestly unknown: never a guess.
    match out.status.code() {
        Some(3) => {
            assert_eq!(report["verdict"], "unknown");
            assert!(report["undecided"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("time"));
        }
        Some(1) => assert_eq!(report["verdict"], "invalid"),
        other => panic!("unexpected exit {other:?}"),
    }
}

/// `photofinish models | head -0`: a reader that has gone away ends photofinish quietly by
/// SIGPIPE, as it ends other command-line tools, never with a panic message.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::os::unix::process::ExitStatusExt;

    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .arg("models")
        .stdout(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(SIGPIPE), "{:?}", out.status);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

/// SIGPIPE's number on Linux (the tests do not depend on libc for one constant).
const SIGPIPE: i32 = 13;

/// A procedure's counterexample left as it was found (two reads of sets neither inside the
/// other: shrinking would misrepresent the conflict) is not called a budget-limited shrink.
#[test]
fn an_unshrunk_counterexample_says_so() {
    let history = file(
        "incomparable-reads.jsonl",
        r#"{"type":"invoke","process":0,"f":"add","value":1}
{"type":"invoke","process":1,"f":"add","value":2}
{"type":"invoke","process":2,"f":"read","value":null}
{"type":"invoke","process":3,"f":"read","value":null}
{"type":"ok","process":2,"f":"read","value":[1]}
{"type":"ok","process":3,"f":"read","value":[2]}
{"type":"ok","process":0,"f":"add","value":1}
{"type":"ok","process":1,"f":"add","value":2}
"#,
    );
    let out = check("set", &history, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("these 4 operations alone cannot be explained (as the procedure that decided the history found them, not shrunk)"),
        "{text}"
    );
    assert!(!text.contains("budget"), "{text}");
}
