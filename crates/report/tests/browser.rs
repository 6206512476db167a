//! Report pages in a real headless Chromium: they render without errors, load nothing, open on
//! the counterexample with its operations highlighted, show markup from the history as text
//! without running it, and hover/click works. Screenshots go to `target/report-screenshots/`.
//!
//! Needs Debian's `/usr/bin/chromium`, Node, and `npm ci` in `crates/report/browser-test`
//! (`scripts/test` installs all three). Where they are missing the test fails under CI
//! (`CI=true`) and is skipped with a message elsewhere.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value as Json};

use photofinish_check::{check_model, CheckOptions, Report, Verdict};
use photofinish_history::{read_path, Event, EventKind, History, Process, Value};
use photofinish_report::render_html;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What is missing to run the browser, if anything.
fn missing_browser() -> Option<String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("/usr/bin/chromium (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node".into());
    }
    let playwright = manifest_dir().join("browser-test/node_modules/playwright-core");
    if !playwright.exists() {
        return Some(format!(
            "{} (npm ci in crates/report/browser-test)",
            playwright.display()
        ));
    }
    None
}

/// Fails under CI, where a skipped browser test would hide a broken report; elsewhere says
/// what is skipped.
fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the browser test needs {what}; scripts/test installs it");
    }
    eprintln!("skipping part of the browser test: {what} is missing (scripts/test installs it)");
}

fn out_dir() -> PathBuf {
    let dir = manifest_dir().join("../../target/report-screenshots");
    std::fs::create_dir_all(&dir).expect("target/ is writable");
    dir
}

/// Writes the page and returns the browser script's expectations for it, with the
/// counterexample of the report's first failure.
fn page_spec(name: &str, history: &History, report: Option<&Report>, title: &str) -> Json {
    let dir = out_dir();
    let file = dir.join(format!("{name}.html"));
    std::fs::write(&file, render_html(history, report, title)).expect("the page is written");
    let mut spec = json!({
        "file": file,
        "screenshot": dir.join(format!("{name}.png")),
    });
    if let Some(failure) = report.and_then(|r| r.failures.first()) {
        let stuck = failure
            .stuck
            .as_ref()
            .expect("a failure names the stuck operation")
            .id;
        let steps: Vec<usize> = failure.prefix.iter().map(|s| s.op.id).collect();
        let concurrent: Vec<usize> = failure.concurrent.iter().map(|op| op.id).collect();
        let mut highlighted: Vec<usize> = steps.iter().chain(&concurrent).copied().collect();
        highlighted.push(stuck);
        highlighted.sort_unstable();
        highlighted.dedup();
        spec["stuck"] = json!(stuck);
        spec["steps"] = json!(steps);
        spec["concurrent"] = json!(concurrent);
        spec["highlighted"] = json!(highlighted);
        spec["partition"] = json!(failure.key.as_ref().map(Value::to_json_string));
    }
    spec
}

fn corpus(path: &str) -> Option<PathBuf> {
    let file = manifest_dir().join("../../../shared/corpus").join(path);
    file.exists().then_some(file)
}

fn checked(path: &Path, model: &str, init: Value) -> (History, Report) {
    let history = read_path(path, None).expect("the corpus file reads");
    let report = check_model(model, Some(&init), None, &history, &CheckOptions::default())
        .expect("the corpus file checks");
    assert_eq!(report.verdict, Verdict::Invalid, "{}", path.display());
    (history, report)
}

fn ev(kind: EventKind, p: i64, f: &str, v: impl Into<Value>) -> Event {
    Event::new(kind, Process::Client(p), f, v.into())
}

/// A stale read whose values are markup: the page must show them as text, never run them.
fn markup_history() -> History {
    let script = "<script>alert(1)</script>";
    let img = "\"'><img src=x onerror=\"window.__pwned=true;alert(2)\"></div>";
    History::from_events([
        ev(EventKind::Invoke, 0, "write", script),
        ev(EventKind::Ok, 0, "write", script),
        ev(EventKind::Invoke, 1, "write", img),
        ev(EventKind::Invoke, 2, "read", Value::Null),
        ev(EventKind::Ok, 1, "write", img),
        ev(
            EventKind::Ok,
            2,
            "read",
            "</script><script>alert(3)</script>",
        ),
    ])
    .expect("the events pair up")
}

/// A timed history with nemesis windows, errors and timeouts, for the statistics panel.
fn timed_history() -> History {
    let mut events = Vec::new();
    let mut time = 5_000_000_000i64;
    for i in 0..400i64 {
        let p = i % 5;
        time += 2_000_000 + (i * 7919 % 13) * 100_000;
        if i % 100 == 30 || i % 100 == 70 {
            let f = if i % 100 == 30 { "start" } else { "stop" };
            for kind in [EventKind::Invoke, EventKind::Info] {
                let mut e = Event::new(kind, Process::Nemesis, f, Value::Null);
                e.time = Some(time);
                events.push(e);
            }
        }
        let (f, v) = if i % 3 == 0 {
            ("read", Value::Null)
        } else {
            ("write", Value::Int(i))
        };
        let mut invoke = ev(EventKind::Invoke, p, f, v.clone());
        invoke.time = Some(time);
        let slow = (30..70).contains(&(i % 100));
        let kind = match i % 41 {
            0 if slow => EventKind::Info,
            3 => EventKind::Fail,
            _ => EventKind::Ok,
        };
        let mut done = ev(kind, p, f, if f == "read" { Value::Int(i - 1) } else { v });
        done.time = Some(time + if slow { 8_000_000 } else { 1_000_000 } + i * 2_000);
        if kind != EventKind::Ok {
            done.error = Some(Value::from(if kind == EventKind::Info {
                "timeout"
            } else {
                "conflict"
            }));
        }
        events.push(invoke);
        events.push(done);
    }
    History::from_events(events).expect("the events pair up")
}

#[test]
fn reports_render_in_headless_chromium() {
    if let Some(what) = missing_browser() {
        missing(&what);
        return;
    }
    let mut specs = Vec::new();

    match corpus("porcupine/etcd/etcd_000.log") {
        Some(path) => {
            let (history, report) = checked(&path, "cas-register", Value::Null);
            specs.push(page_spec(
                "etcd_000",
                &history,
                Some(&report),
                "etcd_000.log",
            ));
        }
        None => missing("../shared/corpus/porcupine/etcd/etcd_000.log"),
    }
    match corpus("porcupine/kv/c50-bad.txt") {
        Some(path) => {
            let (history, report) = checked(&path, "kv", Value::from(""));
            specs.push(page_spec("c50-bad", &history, Some(&report), "c50-bad.txt"));
        }
        None => missing("../shared/corpus/porcupine/kv/c50-bad.txt"),
    }

    let history = markup_history();
    let report = check_model("register", None, None, &history, &CheckOptions::default()).unwrap();
    assert_eq!(report.verdict, Verdict::Invalid);
    let title = "<b>title</b></title><script>alert(4)</script>";
    let mut spec = page_spec("markup", &history, Some(&report), title);
    spec["texts"] = json!([
        title,
        r#"p2 read → "</script><script>alert(3)</script>""#,
        r#""<script>alert(1)</script>""#,
    ]);
    specs.push(spec);

    let mut spec = page_spec("timed-no-model", &timed_history(), None, "timed run");
    spec["charts"] = json!(true);
    spec["texts"] = json!(["No model checked", "timeout", "conflict", "nemesis window"]);
    specs.push(spec);

    let spec_file = out_dir().join("spec.json");
    std::fs::write(&spec_file, serde_json::to_string_pretty(&specs).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(manifest_dir().join("browser-test/check-reports.js"))
        .arg(&spec_file)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the pages failed in Chromium:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
