//! `photofinish run postgres -w list-append | rw-register | bank`: the transactional
//! workloads run against a PostgreSQL the command starts (--spawn), checked by the
//! transactional checker; exit codes, the JSON report, the header that lets `check` recheck
//! the history, and the flags refused for these workloads.

use crate::common::{photofinish, text};
use std::path::PathBuf;
use std::process::Output;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-txn-run-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// `photofinish run postgres --spawn` of `workload` at `isolation` with 12 clients, seed 5,
/// into a fresh history `name`.jsonl, with `extra` flags.
fn run(
    name: &str,
    workload: &str,
    isolation: &str,
    ops: &str,
    extra: &[&str],
) -> (Output, PathBuf) {
    let history = scratch(&format!("{name}.jsonl"));
    let mut args = vec![
        "run",
        "postgres",
        "--spawn",
        "-w",
        workload,
        "--isolation",
        isolation,
        "-c",
        "12",
        "-n",
        ops,
        "--seed",
        "5",
        "--quiet",
        "-o",
        history.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (photofinish(&args), history)
}

#[test]
fn serializable_list_append_is_valid_and_rechecks_from_its_header() {
    let json = scratch("ser.json");
    let (out, history) = run(
        "ser",
        "list-append",
        "serializable",
        "1000",
        &[&format!("--json={}", json.display())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("VALID for strict-serializable"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["seed"], 5);
    assert_eq!(report["report"]["workload"], "list-append");
    assert_eq!(report["report"]["verdict"], "valid");
    assert_eq!(report["report"]["consistency_model"], "strict-serializable");
    assert!(report["summary"]["ok"].as_u64().unwrap() > 0, "{report}");
    let header = std::fs::read_to_string(&history).unwrap();
    let header = header.lines().next().unwrap();
    assert!(header.contains(r#""model":"list-append""#), "{header}");
    assert!(
        header.contains(r#""consistency_model":"strict-serializable""#),
        "{header}"
    );

    // `check` takes the model, and the consistency model, from the header.
    let out = photofinish(&["check", history.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("model list-append, from the history's header"));
    assert!(text(&out).contains("consistency model strict-serializable, from the history's header"));
}

#[test]
fn read_committed_rw_register_violates_serializability_but_not_read_committed() {
    let html = scratch("rc.html");
    let (out, history) = run(
        "rc",
        "rw-register",
        "read-committed",
        "2000",
        &["--html", html.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("INVALID for strict-serializable"),
        "{stdout}"
    );
    assert!(stdout.contains("lost-update [forbidden]"), "{stdout}");
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("lost-update"));
    // The same history against what read committed promises.
    let out = photofinish(&[
        "check",
        history.to_str().unwrap(),
        "--consistency-model",
        "read-committed",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let (out, _) = run(
        "rc-model",
        "rw-register",
        "read-committed",
        "1000",
        &["--consistency-model", "read-committed"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn bank_totals_break_at_read_committed_and_hold_at_serializable() {
    let (out, history) = run(
        "bank-rc",
        "bank",
        "read-committed",
        "2000",
        &["--keys", "3"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("wrong-total"), "{}", text(&out));
    // The header records the accounts' starting balances: `check` knows the total.
    let out = photofinish(&["check", history.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        !text(&out).contains("the total was not given"),
        "{}",
        text(&out)
    );

    let (out, _) = run("bank-ser", "bank", "serializable", "1000", &["--keys", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn flags_that_do_not_fit_a_transactional_workload_are_usage_errors() {
    let url = "host=127.0.0.1 port=1 user=postgres dbname=postgres";
    let refused = |args: &[&str]| {
        let out = photofinish(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let message = refused(&[
        "run",
        "postgres",
        "--url",
        url,
        "-w",
        "bank",
        "--consistency-model",
        "serializable",
    ]);
    assert!(
        message.contains("applies to the list-append and rw-register"),
        "{message}"
    );
    let message = refused(&[
        "run",
        "postgres",
        "--url",
        url,
        "-w",
        "counter",
        "--consistency-model",
        "serializable",
    ]);
    assert!(message.contains("not counter"), "{message}");
    let message = refused(&[
        "run",
        "postgres",
        "--url",
        url,
        "-w",
        "list-append",
        "--consistency-model",
        "snapshot",
    ]);
    assert!(message.contains("snapshot-isolation"), "{message}");
    let message = refused(&[
        "run",
        "postgres",
        "--url",
        url,
        "-w",
        "rw-register",
        "--values",
        "3",
    ]);
    assert!(message.contains("must stay unique"), "{message}");
    let message = refused(&[
        "run",
        "postgres",
        "--url",
        url,
        "-w",
        "list-append",
        "--mix",
        "w=1",
    ]);
    assert!(
        message.contains("expected one of read, append"),
        "{message}"
    );
    let message = refused(&["run", "redis", "-w", "rw-register"]);
    assert!(
        message.contains("the redis target does not run the rw-register"),
        "{message}"
    );
    let message = refused(&["run", "etcd", "-w", "bank"]);
    assert!(message.contains("does not run the bank"), "{message}");
}

#[test]
fn an_exec_program_runs_list_append_too() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/exec/file_list_append.py"
    );
    let exec = |name: &str, lock: bool| {
        let history = scratch(&format!("{name}.jsonl"));
        let state = scratch(&format!("{name}.json"));
        let mut args = vec![
            "run",
            "exec",
            "-w",
            "list-append",
            "-c",
            "6",
            "-n",
            "300",
            "--seed",
            "3",
            "--quiet",
            "-o",
            history.to_str().unwrap(),
            "--",
            "python3",
            script,
            state.to_str().unwrap(),
        ];
        if lock {
            args.push("--lock");
        }
        photofinish(&args)
    };
    // Each micro-operation on its own: appends overwrite each other, reads see half of
    // other transactions.
    let out = exec("exec-racy", false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // Each transaction under a lock.
    let out = exec("exec-locked", true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("VALID for strict-serializable"));
}

#[test]
fn a_killed_server_leaves_indeterminate_transactions_and_serializable_still_holds() {
    let json = scratch("kill.json");
    let history = scratch("kill.jsonl");
    let out = photofinish(&[
        "run",
        "postgres",
        "--spawn",
        "--nemesis",
        "kill",
        "--nemesis-interval",
        "500ms",
        "--nemesis-duration",
        "500ms",
        "-w",
        "list-append",
        "--isolation",
        "serializable",
        "-c",
        "10",
        "--duration",
        "3s",
        "--op-timeout",
        "1s",
        "--seed",
        "3",
        "--quiet",
        "-o",
        history.to_str().unwrap(),
        &format!("--json={}", json.display()),
    ]);
    // Transactions cut off by the kill may or may not have committed: `info`, which the
    // checker weighs both ways; what committed survives the restart.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(run["summary"]["info"].as_u64().unwrap() > 0, "{run}");
    assert!(run["report"]["indeterminate"].as_u64().unwrap() > 0);
    assert_eq!(run["report"]["verdict"], "valid");
}

#[test]
fn redis_list_append_in_multi_exec_is_strict_serializable() {
    let history = scratch("redis.jsonl");
    let out = photofinish(&[
        "run",
        "redis",
        "--spawn",
        "-w",
        "list-append",
        "-c",
        "10",
        "-n",
        "2000",
        "--seed",
        "5",
        "--quiet",
        "-o",
        history.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("MULTI, RPUSH/LRANGE, EXEC"), "{stdout}");
    assert!(stdout.contains("2000 committed"), "{stdout}");
    assert!(stdout.contains("VALID for strict-serializable"), "{stdout}");
}
