//! Histories that remember what they were recorded with: `check FILE` and `report FILE` take
//! the model and initial value from the header line, `check -` reads standard input, and
//! `report` gives the verdict line and the exit codes of `check`.

use crate::common::photofinish;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// `photofinish ARGS` with `input` on standard input.
fn photofinish_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-header-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A counter that started at 5: two adds, then a read of 7, which only that start explains.
const FROM_FIVE: &str = r#"{"photofinish":{"version":"0.1.0","model":"counter","init":5,"seed":1}}
{"type":"invoke","f":"add","value":1,"process":0}
{"type":"ok","f":"add","value":1,"process":0}
{"type":"invoke","f":"add","value":1,"process":1}
{"type":"ok","f":"add","value":1,"process":1}
{"type":"invoke","f":"read","value":null,"process":2}
{"type":"ok","f":"read","value":7,"process":2}
"#;

#[test]
fn check_takes_the_model_and_init_from_the_header() {
    let h = file("from-five.jsonl", FROM_FIVE);
    let out = photofinish(&["check", h.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("photofinish: model counter, init 5, from the history's header"),
        "{}",
        stderr(&out)
    );
    // --init wins over the header's: from 0, a read of 7 after two adds is impossible.
    let out = photofinish(&["check", "--init", "0", h.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("model counter, from the history's header"));
    // --model wins too, and then the header's init (for another model) is not used.
    let out = photofinish(&["check", "--model", "counter", h.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the header's init is the counter's"
    );
    assert!(!stderr(&out).contains("model counter"), "{}", stderr(&out));
}

#[test]
fn without_a_model_or_a_header_the_usage_error_lists_the_models() {
    let h = file(
        "bare.jsonl",
        "{\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"process\":0}\n",
    );
    let out = photofinish(&["check", h.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("names no model"), "{err}");
    for model in [
        "register",
        "cas-register",
        "counter",
        "create-once",
        "list-append",
    ] {
        assert!(err.contains(model), "{err}");
    }
    let out = photofinish(&["report", h.to_str().unwrap(), "--init", "0", "-o", "x.html"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--init needs a model"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_dash_reads_standard_input_in_any_format() {
    let out = photofinish_stdin(&["check", "-"], FROM_FIVE);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("from the history's header"));
    let edn = "{:type :invoke, :f :write, :value 1, :process 0}\n{:type :ok, :f :write, :value 1, :process 0}\n{:type :invoke, :f :read, :value nil, :process 1}\n{:type :ok, :f :read, :value 2, :process 1}\n";
    let out = photofinish_stdin(&["check", "--model", "register", "-"], edn);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = photofinish_stdin(&["check", "--model", "register", "--json", "-"], edn);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "invalid");
    // Errors name standard input.
    let out = photofinish_stdin(
        &["check", "--model", "register", "-"],
        "{\"type\":\"ok\" x}\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("<stdin>:1:"), "{}", stderr(&out));
    // A transactional model reads standard input too.
    let txn = r#"{"type":"invoke","f":"txn","value":[["append","x",1]],"process":0}
{"type":"ok","f":"txn","value":[["append","x",1]],"process":0}
"#;
    let out = photofinish_stdin(&["check", "--model", "list-append", "-"], txn);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn report_gives_the_verdict_line_and_the_exit_codes_of_check() {
    let dir = std::env::temp_dir().join(format!("photofinish-header-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let h = file("report-from-five.jsonl", FROM_FIVE);
    let page = dir.join("from-five.html");
    let out = photofinish(&["report", h.to_str().unwrap(), "-o", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("VALID: the history is linearizable  [exit 0]"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("from the history's header"));

    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/lost-update.jsonl"
    );
    let out = photofinish(&[
        "report",
        example,
        "--model",
        "counter",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
    assert!(stdout(&out).contains("[exit 1]"), "{}", stdout(&out));

    let nothing = file(
        "nothing.jsonl",
        "{\"photofinish\":{\"model\":\"counter\"}}\n",
    );
    let out = photofinish(&[
        "report",
        nothing.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("UNKNOWN: nothing was tested"),
        "{}",
        stdout(&out)
    );

    // No model anywhere: the page shows the history, and the exit code is 0.
    let out = photofinish(&["report", example, "-o", page.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains("[exit"), "{}", stdout(&out));
}
