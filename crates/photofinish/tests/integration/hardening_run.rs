//! `photofinish run` against misbehaving systems (the reproducers of `../shared/repro`): every
//! wait has a bound, every answer a size limit, and nothing a target says reaches the terminal
//! as a raw control character. Peak memory is measured with `/usr/bin/time -v`, as a user
//! would.

use crate::common::text;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REPRO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/repro");

/// The most resident memory a run against a misbehaving target may use, in KiB.
const RSS_LIMIT_KIB: u64 = 200 * 1024;

fn repro(name: &str) -> String {
    format!("{REPRO}/{name}")
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-hardening-run-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn assert_no_raw_escape(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !bytes.contains(&0x1b),
            "{what}: raw ESC on {stream}:\n{}",
            text(out)
        );
    }
}

/// `photofinish run ARGS`, quiet, under `/usr/bin/time -v`: the output (time's report on
/// stderr), the wall-clock seconds and the peak resident memory in KiB.
fn measured_run(args: &[&str]) -> (Output, f64, u64) {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_photofinish"))
        .args(["run"])
        .args(args)
        .output()
        .expect("/usr/bin/time runs (scripts/test installs it)");
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    let field = |name: &str| {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("no `{name}` in:\n{report}"))
            .trim()
            .to_string()
    };
    let seconds = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        .split(':')
        .fold(0.0, |acc, part| acc * 60.0 + part.parse::<f64>().unwrap());
    let rss = field("Maximum resident set size (kbytes):")
        .parse()
        .unwrap();
    (out, seconds, rss)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photofinish"))
        .arg("run")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A process this test started, killed when dropped.
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

/// `../shared/repro/http-misbehaving-server.py` in `mode`, and a workload file for it.
fn misbehaving_http(mode: &str, dir: &Path) -> (Started, PathBuf) {
    let port = free_port();
    let server = Command::new("python3")
        .arg(repro("http-misbehaving-server.py"))
        .arg(port.to_string())
        .arg(mode)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs (scripts/test installs it)");
    let server = Started(server);
    wait_for_port(port);
    let spec = std::fs::read_to_string(repro("http-service-down.toml"))
        .unwrap()
        .replace("127.0.0.1:18099", &format!("127.0.0.1:{port}"));
    let file = dir.join(format!("{mode}.toml"));
    std::fs::write(&file, spec).unwrap();
    (server, file)
}

#[test]
fn an_exec_program_that_never_answers_setup_is_a_clear_error_within_the_setup_timeout() {
    let dir = scratch("hang-setup");
    let history = dir.join("h.jsonl");
    let started = Instant::now();
    let out = run(&[
        "exec",
        "-w",
        "counter",
        "--quiet",
        "--setup-timeout",
        "1s",
        "-o",
        s(&history),
        "--",
        "python3",
        &repro("exec-hang-setup.py"),
    ]);
    let elapsed = started.elapsed();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        all.contains("exec: setup got no answer within 1 s"),
        "{all}"
    );
    assert!(all.contains("nothing was tested"), "{all}");
    assert!(
        all.contains(&format!("the history so far is in {}", history.display())),
        "{all}"
    );
    // The history says what was attempted, and reads as an empty history.
    let recorded = std::fs::read_to_string(&history).unwrap();
    assert!(recorded.starts_with(r#"{"photofinish":"#), "{recorded}");
    assert_eq!(recorded.lines().count(), 1, "{recorded}");
}

#[test]
fn a_paused_redis_is_a_clear_error_within_the_setup_timeout() {
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
    wait_for_port(port);
    let paused = Command::new("kill")
        .args(["-STOP", &redis.0.id().to_string()])
        .status()
        .unwrap();
    assert!(paused.success());
    let history = dir.join("h.jsonl");
    let url = format!("redis://127.0.0.1:{port}");
    let started = Instant::now();
    let out = run(&[
        "redis",
        "--url",
        &url,
        "-w",
        "counter",
        "--quiet",
        "--setup-timeout",
        "1s",
        "-o",
        s(&history),
    ]);
    let elapsed = started.elapsed();
    drop(redis);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert!(
        all.contains("redis: setup got no answer within 1 s"),
        "{all}"
    );
    assert!(std::fs::read_to_string(&history)
        .unwrap()
        .starts_with(r#"{"photofinish":"#));
}

/// A program that answers everything but the final read (by worker 1, with one client):
/// the final reads end at the setup timeout, recorded as indeterminate, although each
/// operation could wait far longer.
#[test]
fn final_reads_end_at_the_setup_timeout() {
    let dir = scratch("final-read");
    let history = dir.join("h.jsonl");
    let program = r#"
import os, sys, time
final = os.environ.get("PHOTOFINISH_WORKER") == "1"
for line in sys.stdin:
    if final and '"read"' in line:
        time.sleep(3600)
    print('{"type":"ok","value":0}' if '"read"' in line else '{"type":"ok"}', flush=True)
"#;
    let started = Instant::now();
    let out = run(&[
        "exec",
        "-w",
        "counter",
        "--quiet",
        "-c",
        "1",
        "-n",
        "5",
        "--seed",
        "3",
        "--op-timeout",
        "60s",
        "--setup-timeout",
        "1s",
        "-o",
        s(&history),
        "--",
        "python3",
        "-c",
        program,
    ]);
    let elapsed = started.elapsed();
    let all = text(&out);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}: {all}");
    assert!(all.contains("final read: no answer within 1 s"), "{all}");
    let recorded = std::fs::read_to_string(&history).unwrap();
    assert!(
        recorded.contains(r#""error":"final read: no answer within 1 s""#),
        "{recorded}"
    );
    assert!(matches!(out.status.code(), Some(0..=3)), "{all}");
}

#[test]
fn an_endless_answer_line_is_info_and_memory_stays_bounded() {
    let dir = scratch("endless-line");
    let history = dir.join("h.jsonl");
    let (out, seconds, rss_kib) = measured_run(&[
        "exec",
        "-w",
        "counter",
        "--quiet",
        "-c",
        "4",
        "-n",
        "8",
        "-o",
        s(&history),
        "--",
        "python3",
        &repro("exec-endless-line.py"),
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(
        all.contains("answer longer than 1048576 bytes, not read further"),
        "{all}"
    );
    assert!(rss_kib < RSS_LIMIT_KIB, "peak RSS {rss_kib} KiB");
    assert!(seconds < 30.0, "{seconds} s");
    // What is recorded of each answer is a short prefix, never the whole.
    let size = std::fs::metadata(&history).unwrap().len();
    assert!(size < 64 << 10, "the history holds {size} bytes");
    eprintln!("exec-endless-line.py: peak RSS {} MiB", rss_kib / 1024);
}

#[test]
fn answers_over_a_smaller_bound_are_info_with_the_reason() {
    let dir = scratch("bigline");
    let history = dir.join("h.jsonl");
    // A 10 MB answer line, and a 10 MB error text.
    let out = run(&[
        "exec",
        "-w",
        "counter",
        "--quiet",
        "-c",
        "2",
        "-n",
        "4",
        "--max-answer-bytes",
        "64KiB",
        "-o",
        s(&history),
        "--",
        "python3",
        &repro("exec-misbehaving.py"),
        "bigerr",
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("answer longer than 65536 bytes"), "{all}");
    assert!(all.len() < 16 << 10, "{} bytes of output", all.len());
    assert!(std::fs::metadata(&history).unwrap().len() < 64 << 10);
}

#[test]
fn http_bodies_of_100_mb_or_without_end_are_info_and_memory_stays_bounded() {
    let dir = scratch("http-bodies");
    for mode in ["infinite", "huge"] {
        let (_server, spec) = misbehaving_http(mode, &dir);
        let history = dir.join(format!("{mode}.jsonl"));
        let (out, _, rss_kib) = measured_run(&[
            "http",
            "--quiet",
            "-c",
            "1",
            "-n",
            "3",
            "--seed",
            "1",
            s(&spec),
            "-o",
            s(&history),
        ]);
        let all = text(&out);
        assert!(matches!(out.status.code(), Some(0 | 3)), "{mode}: {all}");
        assert!(
            all.contains("the response body is longer than 1048576 bytes (not read further)"),
            "{mode}: {all}"
        );
        assert!(rss_kib < RSS_LIMIT_KIB, "{mode}: peak RSS {rss_kib} KiB");
        let size = std::fs::metadata(&history).unwrap().len();
        assert!(size < 64 << 10, "{mode}: the history holds {size} bytes");
        eprintln!(
            "http-misbehaving-server.py {mode}: peak RSS {} MiB",
            rss_kib / 1024
        );
    }
}

#[test]
fn escapes_from_a_target_reach_the_terminal_escaped() {
    let dir = scratch("ansi");
    let exec = |name: &str, args: &[&str]| {
        let history = dir.join(format!("{name}.jsonl"));
        let mut command = vec![
            "exec", "-w", "counter", "--quiet", "-c", "2", "-n", "6", "-o",
        ];
        command.push(s(&history));
        command.push("--");
        command.extend_from_slice(args);
        run(&command)
    };
    let ansi = repro("exec-ansi-error.py");
    let out = exec("ansi-error", &["python3", &ansi]);
    assert_no_raw_escape("exec-ansi-error.py", &out);
    assert!(text(&out).contains(r"\u{1b}[2J\u{1b}[H"), "{}", text(&out));
    let misbehaving = repro("exec-misbehaving.py");
    for mode in ["garbage", "binary", "ansi"] {
        let out = exec(mode, &["python3", &misbehaving, mode]);
        assert_no_raw_escape(&format!("exec-misbehaving.py {mode}"), &out);
        assert!(matches!(out.status.code(), Some(0..=3)), "{}", text(&out));
    }
    // What a program writes on standard error is passed on, escaped.
    let out = exec(
        "stderr",
        &[
            "python3",
            "-c",
            "import sys\nfor l in sys.stdin:\n  sys.stderr.write('\\x1b[2Jnoise\\n'); sys.stderr.flush()\n  print('{\"type\":\"ok\",\"value\":0}' if '\"read\"' in l else '{\"type\":\"ok\"}', flush=True)",
        ],
    );
    assert_no_raw_escape("a program's standard error", &out);
    assert!(text(&out).contains(r"\u{1b}[2Jnoise"), "{}", text(&out));
    // And the JSON output escapes as JSON does.
    let history = dir.join("json.jsonl");
    let out = run(&[
        "exec",
        "-w",
        "counter",
        "-c",
        "2",
        "-n",
        "6",
        "--json",
        "-o",
        s(&history),
        "--",
        "python3",
        &ansi,
    ]);
    assert_no_raw_escape("run --json", &out);

    let (_server, spec) = misbehaving_http("ansi", &dir);
    let history = dir.join("http-ansi.jsonl");
    let out = run(&[
        "http",
        "--quiet",
        "-c",
        "2",
        "-n",
        "6",
        s(&spec),
        "-o",
        s(&history),
    ]);
    assert_no_raw_escape("http-misbehaving-server.py ansi", &out);
    assert!(matches!(out.status.code(), Some(0..=3)), "{}", text(&out));
}
