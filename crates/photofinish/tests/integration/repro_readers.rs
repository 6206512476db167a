//! The reproducers in `../shared/repro` that the history readers mishandled, each with the
//! behaviour `../shared/repro/README.md` asks for: through the library, and through the
//! `photofinish check` command where the reader's answer decides what a user sees.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use photofinish::history::{read_path, read_with, Format, Outcome, ReadOptions, Value};

fn repro(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/repro"
    ))
    .join(name)
}

fn check(model: &str, args: &[&str], file: &PathBuf) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(["check", "--model", model])
        .args(args)
        .arg(file)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Nothing the command printed holds a raw control character but line endings and tabs.
fn assert_no_raw_controls(out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let printed = text(bytes);
        assert!(
            !printed
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "raw control character on {stream}: {printed:?}"
        );
    }
}

#[test]
fn huge_int_collapse_is_invalid_with_exact_integers() {
    let file = repro("huge-int-collapse.jsonl");
    let history = read_path(&file, None).unwrap();
    let write = &history.operations[0];
    let read = &history.operations[1];
    assert_eq!(write.value.to_json_string(), "18446744073709551615");
    assert_eq!(read.result.to_json_string(), "18446744073709551614");
    assert_ne!(write.value, read.result);
    let out = check("register", &[], &file);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("18446744073709551614"));
}

#[test]
fn hostile_type_is_escaped_in_the_error() {
    let out = check("register", &[], &repro("hostile-type.jsonl"));
    assert_eq!(out.status.code(), Some(2));
    assert_no_raw_controls(&out);
    assert!(text(&out.stderr).contains("hostile-type.jsonl:1:9: `type` must be invoke, ok, fail or info, found `\\u{1b}[2J\\u{1b}[Hinvoke`"), "{}", text(&out.stderr));
}

#[test]
fn hostile_process_is_escaped_in_the_error() {
    let out = check("register", &[], &repro("hostile-process.jsonl"));
    assert_eq!(out.status.code(), Some(2));
    assert_no_raw_controls(&out);
    assert!(
        text(&out.stderr).contains("found \"\\u{1b}[2Jnem\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn hostile_f_is_read_as_data_and_escaped_in_reader_errors() {
    let file = repro("hostile-f.jsonl");
    let history = read_path(&file, None).unwrap();
    assert_eq!(history.operations[0].f, "\u{1b}[2J\u{1b}[Hwrite");
    // An error the reader raises about such an operation quotes its `f` escaped.
    let bytes = std::fs::read(&file).unwrap();
    let first = bytes.split_inclusive(|&b| b == b'\n').next().unwrap();
    let twice = [first, first].concat();
    let err = read_with(twice.as_slice(), "h.jsonl", &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("invokes `\\u{1b}[2J\\u{1b}[Hwrite`"), "{err}");
}

#[test]
fn hostile_key_values_and_html_are_read_whole_and_printed_escaped() {
    for name in [
        "hostile-key.jsonl",
        "hostile-values.jsonl",
        "hostile-html.jsonl",
    ] {
        let file = repro(name);
        let history = read_path(&file, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(history.warnings.is_empty(), "{name}");
        assert!(!history.operations.is_empty(), "{name}");
        let out = check("register", &[], &file);
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{name}: {}",
            text(&out.stderr)
        );
        assert_no_raw_controls(&out);
    }
    let values = read_path(&repro("hostile-values.jsonl"), None).unwrap();
    assert_eq!(
        values.operations[0].value,
        Value::from("\u{1b}[2J\u{1b}[H\u{1b}]0;pwned\u{7}CLEARED")
    );
}

/// A torn Jepsen log: the last line, without its newline, is dropped with a warning and the
/// rest is checked.
fn assert_torn_log(name: &str, events: u64) -> Output {
    let file = repro(name);
    let history = read_path(&file, None).unwrap();
    assert_eq!(history.event_count, events, "{name}");
    assert_eq!(history.warnings.len(), 1, "{name}");
    assert!(
        history.warnings[0].contains("ignored a torn last line"),
        "{name}: {:?}",
        history.warnings
    );
    let out = check("register", &[], &file);
    assert!(
        text(&out.stderr).contains("torn last line"),
        "{name}: {}",
        text(&out.stderr)
    );
    out
}

#[test]
fn torn_jepsen_log_f_is_a_warning() {
    let out = assert_torn_log("torn-jepsen-log-f.log", 2);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn torn_jepsen_log_value_is_a_warning_not_a_silent_invalid() {
    let out = assert_torn_log("torn-jepsen-log-value.log", 3);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn torn_jepsen_log_completion_is_a_warning() {
    let out = assert_torn_log("torn-jepsen-log-completion.log", 1);
    // One write, its completion torn off: nothing is contradicted, and nothing completed ok.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        text(&out.stderr)
    );
    let history = read_path(&repro("torn-jepsen-log-completion.log"), None).unwrap();
    assert_eq!(history.operations[0].outcome, Outcome::Pending);
}

#[test]
fn cr_only_line_endings_are_read() {
    let file = repro("cr-only.jsonl");
    let history = read_path(&file, None).unwrap();
    assert_eq!(history.event_count, 4);
    assert!(history.warnings.is_empty());
    assert_eq!(history.operations[1].complete_line, Some(4));
    // Write 1, then read 2: invalid, now that the lines are seen.
    let out = check("register", &[], &file);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

#[test]
fn a_byte_order_mark_is_skipped() {
    for (name, format) in [("bom.jsonl", Format::JsonLines), ("bom.edn", Format::Edn)] {
        let file = repro(name);
        for given in [None, Some(format)] {
            let history = read_path(&file, given).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(history.event_count, 2, "{name}");
            assert_eq!(history.operations[0].outcome, Outcome::Ok, "{name}");
        }
        let out = check("register", &[], &file);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn an_endless_line_ends_in_a_clear_error() {
    let out = check(
        "register",
        &["--format", "jsonl"],
        &PathBuf::from("/dev/zero"),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "/dev/zero:1:1: the line is longer than 16 MiB, the most one record may hold"
        ),
        "{stderr}"
    );
}

#[test]
fn a_pipe_is_read_like_a_file() {
    // Standard input cannot seek: detection must read ahead and keep what it read.
    for name in ["cr-only.jsonl", "bom.edn", "torn-jepsen-log-value.log"] {
        let mut cat = Command::new("cat")
            .arg(repro(name))
            .stdout(Stdio::piped())
            .spawn()
            .expect("cat runs");
        let pipe = BufReader::with_capacity(16, cat.stdout.take().unwrap());
        let piped = read_with(pipe, "-", &ReadOptions::default()).unwrap();
        cat.wait().unwrap();
        let file = read_path(&repro(name), None).unwrap();
        assert_eq!(piped.event_count, file.event_count, "{name}");
        assert_eq!(piped.operations, file.operations, "{name}");
    }
}
