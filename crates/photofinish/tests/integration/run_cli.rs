//! `photofinish run` end to end, with the exec target and the tiny client program in
//! examples/exec: verdicts, and what survives when photofinish is killed or interrupted.

use crate::common::text;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/exec/file_counter.py"
);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("photofinish-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// `photofinish run exec` of the file counter, with `extra` flags before `--`.
fn run_command(history: &PathBuf, state: &str, lock: bool, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_photofinish"));
    command.args([
        "run",
        "exec",
        "--workload",
        "counter",
        "--quiet",
        "--output",
    ]);
    command
        .arg(history)
        .args(extra)
        .args(["--", "python3", CLIENT]);
    command.arg(scratch(state));
    if lock {
        command.arg("--lock");
    }
    command
}

fn output(mut command: Command) -> Output {
    command.output().expect("photofinish runs")
}

/// `photofinish check HISTORY`: the model comes from the history's header.
fn check(history: &PathBuf) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .arg("check")
        .arg(history)
        .output()
        .expect("photofinish runs")
}

#[test]
fn a_racy_file_counter_is_caught_and_a_locked_one_passes() {
    let flags = ["--clients", "20", "--ops", "2000", "--seed", "1"];
    let racy = scratch("racy.jsonl");
    let page = scratch("racy.html");
    let mut html = flags.to_vec();
    html.extend(["--html", page.to_str().unwrap()]);
    let out = output(run_command(&racy, "racy.json", false, &html));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("2001 in"), "{}", text(&out));
    assert!(text(&out).contains("Not linearizable"), "{}", text(&out));
    let page = std::fs::read_to_string(&page).expect("--html writes the report");
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);

    let locked = scratch("locked.jsonl");
    let out = output(run_command(&locked, "locked.json", true, &flags));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("VALID"), "{}", text(&out));
}

#[test]
fn a_run_never_appends_to_an_existing_history() {
    let history = scratch("existing.jsonl");
    std::fs::write(&history, "{}\n").unwrap();
    let out = output(run_command(&history, "existing.json", true, &[]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("already holds a history"));
}

fn lines(history: &PathBuf) -> usize {
    std::fs::read_to_string(history).map_or(0, |t| t.lines().count())
}

/// Starts a long run and returns it once `history` has at least `min_lines` lines.
fn start_long_run(history: &PathBuf, state: &str, min_lines: usize) -> Child {
    let mut command = run_command(
        history,
        state,
        true,
        &["--clients", "20", "--duration", "60s"],
    );
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("photofinish starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines(history) < min_lines {
        assert!(Instant::now() < deadline, "the run recorded too little");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn after_sigkill_the_history_on_disk_is_complete_and_checkable() {
    let history = scratch("killed.jsonl");
    let mut run = start_long_run(&history, "killed.json", 400);
    run.kill().unwrap(); // SIGKILL: no chance to clean up
    run.wait().unwrap();
    let recorded = std::fs::read_to_string(&history).unwrap();
    // Every line but possibly a torn last one is a whole event.
    let whole = recorded.lines().filter(|l| l.ends_with('}')).count();
    assert!(whole + 1 >= recorded.lines().count());
    let out = check(&history);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // At most one operation per process was left without its completion.
    let invokes = recorded.matches(r#""type":"invoke""#).count();
    let completions = recorded.matches(r#""type":"ok""#).count();
    assert!(invokes >= completions && invokes - completions <= 20);
}

#[test]
fn ctrl_c_ends_the_run_with_a_verdict_and_no_pending_operation() {
    let history = scratch("interrupted.jsonl");
    let run = start_long_run(&history, "interrupted.json", 400);
    let status = Command::new("kill")
        .args(["-INT", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("(interrupted)"), "{}", text(&out));
    let recorded = std::fs::read_to_string(&history).unwrap();
    assert!(
        recorded.starts_with(r#"{"photofinish":"#),
        "the header comes first"
    );
    let invokes = recorded.matches(r#""type":"invoke""#).count();
    // Besides the header, every line is a client's event or a stall the run noticed (a
    // machine under load can keep 20 programs from answering for a second).
    let stalls = recorded.matches(r#""process":"nemesis""#).count();
    let completions = recorded.lines().count() - 1 - invokes - stalls;
    assert_eq!(invokes, completions, "every invocation has its completion");
}

#[test]
fn the_demo_catches_every_race_and_passes_every_fix() {
    let dir = scratch("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .expect("photofinish runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("demo passed"), "{}", text(&out));
}

#[test]
fn a_run_records_what_it_was_made_with_and_check_reads_it_back() {
    let history = scratch("header.jsonl");
    let out = output(run_command(
        &history,
        "header.json",
        true,
        &["--clients", "3", "--ops", "30", "--seed", "42"],
    ));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "recheck with: photofinish check {}",
            history.display()
        )),
        "{}",
        text(&out)
    );
    let first = std::fs::read_to_string(&history).unwrap();
    let header: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    let header = &header["photofinish"];
    assert_eq!(header["model"], "counter");
    assert_eq!(header["workload"], "counter");
    assert_eq!(header["init"], 0);
    assert_eq!(header["seed"], 42);
    assert_eq!(header["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(header["options"]["clients"], 3);
    assert_eq!(header["options"]["ops"], 30);
    assert!(
        header["target"]
            .as_str()
            .unwrap()
            .contains("file_counter.py"),
        "{header}"
    );
    let out = check(&history);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("model counter, init 0, from the history's header"),
        "{stderr}"
    );
}

const REPRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro");

#[test]
fn a_run_in_which_every_operation_is_indeterminate_tested_nothing_and_exits_3() {
    let history = scratch("garbage.jsonl");
    let out = output({
        let mut command = Command::new(env!("CARGO_BIN_EXE_photofinish"));
        command
            .args(["run", "exec", "--workload", "counter", "--quiet"])
            .args(["--clients", "2", "--ops", "12", "--output"])
            .arg(&history)
            .args(["--", "python3"])
            .arg(format!("{REPRO}/exec-garbage.py"));
        command
    });
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("0 ok, 0 fail"), "{all}");
    assert!(
        all.contains("*** UNKNOWN: nothing was tested: no operation completed ok ***"),
        "{all}"
    );
    assert!(!all.contains("VALID"), "{all}");
}

#[test]
fn an_http_run_against_a_service_that_is_down_tested_nothing_and_exits_3() {
    let history = scratch("down.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .args(["run", "http", "--quiet", "--clients", "2", "--ops", "10"])
        .arg(format!("{REPRO}/http-service-down.toml"))
        .arg("--output")
        .arg(&history)
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("nothing was tested: no operation completed ok"),
        "{all}"
    );
    assert!(
        all.contains("Connection refused")
            || all.contains("connection refused")
            || all.contains("cannot connect"),
        "{all}"
    );
    assert!(!all.contains("VALID"), "{all}");
}
