//! `photofinish run http` with a transactional workload file: the shipped
//! examples/http/rest-list-append.toml against the example REST service, whose locked
//! transactions are strict serializable and whose racy ones (each micro-operation on its own)
//! are caught by the transactional checker; rw-register through the service's register
//! transactions; and an answer that is not the completed list of micro-operations, which halts
//! the run at once with the file's line.

use crate::common::{photofinish, text};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-http-txn-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/http")
        .join(name)
}

/// examples/http/rest_service.py on a free port, stopped when dropped.
struct Service {
    child: Child,
    url: String,
}

impl Service {
    fn start(racy: bool) -> Service {
        let mut command = Command::new("python3");
        command
            .arg(example("rest_service.py"))
            .args(["--port", "0"])
            .stdout(Stdio::piped());
        if racy {
            command.arg("--racy");
        }
        let mut child = command.spawn().expect("python3 starts");
        let mut url = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut url)
            .expect("the service prints its URL");
        assert!(url.starts_with("http://"), "{url:?}");
        Service {
            child,
            url: url.trim().to_string(),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shipped `file` with its base URL pointed at `url` and `edit` applied, written as
/// `name`.toml in the scratch directory.
fn workload_file(file: &str, url: &str, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let shipped = std::fs::read_to_string(example(file)).unwrap();
    let text = edit(shipped.replace("http://127.0.0.1:8080", url));
    let path = scratch().join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// `photofinish run http FILE` with 10 clients, `ops` operations and `seed`, into a fresh
/// history.
fn run(file: &Path, ops: &str, seed: &str) -> Output {
    let history = file.with_extension(format!("{seed}.jsonl"));
    let _ = std::fs::remove_file(&history);
    photofinish(&[
        "run",
        "http",
        file.to_str().unwrap(),
        "-c",
        "10",
        "-n",
        ops,
        "--seed",
        seed,
        "--quiet",
        "-o",
        history.to_str().unwrap(),
    ])
}

#[test]
fn locked_list_append_transactions_are_strict_serializable() {
    let service = Service::start(false);
    let file = workload_file("rest-list-append.toml", &service.url, "locked", |t| t);
    let out = run(&file, "1000", "3");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("list-append history: 1000 operations (1000 committed"),
        "{stdout}"
    );
    assert!(stdout.contains("VALID for strict-serializable"), "{stdout}");

    // rw-register through the service's register transactions, which take `r` and `w`.
    let file = workload_file("rest-multi-register.toml", &service.url, "rw", |t| {
        t.replace(
            r#"workload = "multi-register""#,
            r#"workload = "rw-register""#,
        )
    });
    let out = run(&file, "1000", "3");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("VALID for strict-serializable"),
        "{}",
        text(&out)
    );
}

#[test]
fn racy_transactions_interleave_and_show_read_skew() {
    let service = Service::start(true);
    let file = workload_file("rest-list-append.toml", &service.url, "racy", |t| t);
    // Interleaving depends on timing: a few bounded rounds, each of 1000 transactions.
    let caught = (1..=3).find_map(|round| {
        let out = run(&file, "1000", &round.to_string());
        (out.status.code() == Some(1)).then_some(out)
    });
    let out = caught.expect("three racy runs were never INVALID");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("INVALID for strict-serializable"),
        "{stdout}"
    );
    // A transaction's micro-operations run apart: one reads a list before another's append
    // and appends after it (read skew), and appends to one list interleave (a write cycle).
    assert!(
        stdout.contains("G-single [forbidden]: read skew"),
        "{stdout}"
    );
    assert!(stdout.contains("G0 [forbidden]"), "{stdout}");
}

#[test]
fn an_answer_that_is_not_the_completed_list_halts_the_run_at_its_line() {
    let service = Service::start(false);
    // The whole body, {"value": [...]}, where the list of micro-operations belongs.
    let file = workload_file("rest-list-append.toml", &service.url, "shape", |t| {
        t.replace(r#"value = "/value""#, r#"value = """#)
    });
    let out = run(&file, "1000", "3");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    let line = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .position(|l| l == "[ops.txn]")
        .unwrap()
        + 1;
    assert!(
        all.contains(&format!("{}:{line} ([ops.txn])", file.display())),
        "{all}"
    );
    assert!(
        all.contains("a list-append transaction completes with its list of micro-operations"),
        "{all}"
    );
    assert!(all.contains("UNKNOWN"), "{all}");
    let committed: usize = all
        .lines()
        .find_map(|l| l.strip_prefix("list-append history: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(committed < 100, "the run went on: {all}");
}
