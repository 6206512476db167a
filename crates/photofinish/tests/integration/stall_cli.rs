//! Stall detection end to end: `photofinish run` against a program whose two locks are taken in
//! opposite orders (it deadlocks after a while) and against a Redis server paused with SIGSTOP
//! mid-run. Each run must say when the stall began, how long it lasted and who waited on what,
//! in the summary, the history (start-stall events), `--json` and the HTML report, and exit 3
//! since it ended stalled; the same program with one lock order must not stall.

use crate::common::text;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use photofinish::history::stall::{detect, recorded, StallRule, STALL_START};

const PROGRAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/programs/lock_order_counter.py"
);

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-stall-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn photofinish() -> Command {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
}

/// The outputs of one run: its history, JSON and HTML report.
struct Outputs {
    history: PathBuf,
    json: PathBuf,
    html: PathBuf,
}

impl Outputs {
    fn in_dir(dir: &Path) -> Outputs {
        Outputs {
            history: dir.join("h.jsonl"),
            json: dir.join("run.json"),
            html: dir.join("h.html"),
        }
    }

    fn args(&self) -> Vec<String> {
        vec![
            "-o".into(),
            s(&self.history).into(),
            format!("--json={}", s(&self.json)),
            "--html".into(),
            s(&self.html).into(),
        ]
    }
}

fn exec_run(dir: &Path, fixed_order: bool) -> (Output, Outputs) {
    let outputs = Outputs::in_dir(dir);
    let state = dir.join("counter.json");
    let mut command = photofinish();
    command
        .args([
            "run",
            "exec",
            "-w",
            "counter",
            "-c",
            "4",
            "--duration",
            "5s",
        ])
        .args(["--op-timeout", "2s", "--setup-timeout", "1s", "--seed", "1"])
        .arg("--quiet")
        .args(outputs.args())
        .args(["--", "python3", PROGRAM, s(&state)]);
    if fixed_order {
        command.arg("--fixed-order");
    }
    (command.output().expect("the binary runs"), outputs)
}

/// Asserts what every report of a run that ended stalled says.
fn assert_ended_stalled(out: &Output, outputs: &Outputs) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    // The summary and the report: when, how long, who waited on what, and the exit reason.
    assert!(all.contains("stall:      from t = "), "{all}");
    assert!(
        all.contains("clients waited and nothing completed for"),
        "{all}"
    );
    assert!(all.contains("  waiting:  "), "{all}");
    assert!(all.contains("the run ended stalled"), "{all}");
    assert!(
        all.contains("*** UNKNOWN: the run ended stalled: from t = "),
        "{all}"
    );

    // The history: a start-stall event of the nemesis, no stop (it ended stalled), and the
    // pure detection over the same events finds the same stall.
    let history = photofinish::history::read_path(&outputs.history, None).unwrap();
    let starts: Vec<_> = history
        .nemesis
        .iter()
        .filter(|n| n.f == STALL_START)
        .collect();
    assert!(!starts.is_empty(), "no start-stall event");
    let recorded = recorded(&history);
    let detected = detect(&history, &StallRule::default());
    assert_eq!(recorded.len(), detected.len(), "{recorded:?}\n{detected:?}");
    for (run, replay) in recorded.iter().zip(&detected) {
        // The run times its events a moment after the journal does.
        assert!(
            (run.since_ns - replay.since_ns).abs() < 50_000_000,
            "{run:?} {replay:?}"
        );
        assert_eq!(run.until_ns.is_none(), replay.until_ns.is_none());
        assert_eq!(run.waiting_count, replay.waiting_count);
    }
    assert!(recorded.last().unwrap().ongoing());

    // --json: the summary's stalls, the report's, and the reason for exit 3.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs.json).unwrap()).unwrap();
    let stalls = json["summary"]["stalls"].as_array().unwrap();
    assert!(!stalls.is_empty(), "{json}");
    assert!(stalls.last().unwrap()["until_ns"].is_null(), "{json}");
    assert!(
        !stalls[0]["waiting"].as_array().unwrap().is_empty(),
        "{json}"
    );
    assert!(!json["report"]["stalls"].as_array().unwrap().is_empty());
    assert!(json["ended_stalled"]
        .as_str()
        .unwrap()
        .starts_with("the run ended stalled"));

    // The HTML report shades the stall: its data has one, open at the end.
    let page = std::fs::read_to_string(&outputs.html).unwrap();
    assert!(page.contains(r#""stalls":[["#), "no stall in the page data");
    assert!(page.contains("stall: nothing completed"), "no legend entry");
}

#[test]
fn a_lock_order_deadlock_is_a_stall_and_the_run_exits_3() {
    let dir = scratch("deadlock");
    let (out, outputs) = exec_run(&dir, false);
    assert_ended_stalled(&out, &outputs);
    // Recheck: `check` shows the recorded stall too.
    let check = photofinish()
        .args(["check", s(&outputs.history)])
        .output()
        .unwrap();
    let all = text(&check);
    assert!(all.contains("stall:      from t = "), "{all}");
    assert!(all.contains("the history ended stalled"), "{all}");
}

/// With one lock order nothing deadlocks: the run ends with its operations answered. A quiet
/// second can still happen on a loaded machine (a client process not scheduled for a second
/// is a stall by the rule, 10 × p99 and at least 1 s, and is reported as one), so the test
/// asks that every stall ended on its own, no operation waiting out its timeout (a deadlock's
/// operations would), not that none was seen.
#[test]
fn one_lock_order_never_stalls() {
    let dir = scratch("fixed-order");
    let (out, outputs) = exec_run(&dir, true);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains("ended stalled"), "{all}");
    assert!(all.contains(" 0 indeterminate)"), "{all}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&outputs.json).unwrap()).unwrap();
    let stalls = json["summary"]["stalls"].as_array().unwrap();
    assert!(
        stalls.iter().all(|stall| !stall["until_ns"].is_null()),
        "{json}"
    );
    assert!(json["ended_stalled"].is_null());
    let page = std::fs::read_to_string(&outputs.html).unwrap();
    if stalls.is_empty() {
        assert!(page.contains(r#""stalls":[]"#));
        assert!(!all.contains("stall:"), "{all}");
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process this test started, resumed and killed when dropped.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.id().to_string()])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_redis_paused_mid_run_is_a_stall_and_the_run_exits_3() {
    let dir = scratch("paused-redis");
    let port = free_port();
    let redis = Command::new("redis-server")
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (scripts/test installs it)");
    let redis = Started(redis);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis never listened on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let outputs = Outputs::in_dir(&dir);
    let url = format!("redis://127.0.0.1:{port}");
    let run = photofinish()
        .args(["run", "redis", "--url", &url, "-w", "counter", "-c", "8"])
        .args(["--duration", "4s", "--rate", "2000", "--op-timeout", "2s"])
        .args(["--setup-timeout", "1s", "--seed", "1", "--quiet"])
        .args(outputs.args())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Paused once the run is well under way, and not resumed before it ends.
    std::thread::sleep(Duration::from_millis(1500));
    let paused = Command::new("kill")
        .args(["-STOP", &redis.0.id().to_string()])
        .status()
        .unwrap();
    assert!(paused.success());
    let out = run.wait_with_output().unwrap();
    drop(redis);
    assert_ended_stalled(&out, &outputs);
    let summary = text(&out);
    assert!(
        summary.contains("8 of 8 clients waited") || summary.contains("of 8 clients waited"),
        "{summary}"
    );
}
