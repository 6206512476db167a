//! `cargo bench -p photofinish-report --bench render`: how big report pages are and how fast
//! they render, in Rust and in headless Chromium.
//!
//! 1. Porcupine's c50-bad history (checked with `kv`, init `""`): the page's size, the time to
//!    render it in Rust, and the time headless Chromium takes from navigation to the first
//!    complete frame (the goal: under 2 MB and under 2 s).
//! 2. A generated history of 10^5 timed operations over 10 keys and 50 processes, without a
//!    check: the same measures, and the bytes per operation.
//!
//! The Chromium part needs `/usr/bin/chromium`, Node and `npm ci` in `browser-test/`
//! (`scripts/test` installs them); without them it is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use photofinish_check::{check_model, CheckOptions};
use photofinish_history::{read_path, Event, EventKind, History, Process, Value};
use photofinish_report::render_html;

fn median_time(runs: usize, mut f: impl FnMut() -> String) -> (Duration, String) {
    let mut samples = Vec::with_capacity(runs);
    let mut page = String::new();
    for _ in 0..runs {
        let start = Instant::now();
        page = f();
        samples.push(start.elapsed());
    }
    samples.sort();
    (samples[runs / 2], page)
}

/// Timed writes and reads over `keys` keys by `procs` processes, some failing or timing out.
fn generated(ops: usize, procs: i64, keys: i64) -> History {
    let mut events = Vec::with_capacity(ops * 2);
    let mut time = 1_700_000_000_000_000_000i64;
    let mut open: Vec<Option<(String, i64, Value)>> = vec![None; procs as usize];
    let mut started = 0;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    while started < ops || open.iter().any(Option::is_some) {
        let p = (next() % procs as u64) as usize;
        time += (next() % 200_000) as i64;
        let event = match open[p].take() {
            Some((f, key, value)) => {
                let kind = match next() % 50 {
                    0 => EventKind::Info,
                    1 | 2 => EventKind::Fail,
                    _ => EventKind::Ok,
                };
                let result = if f == "read" {
                    Value::Int((next() % 100) as i64)
                } else {
                    value
                };
                Event::new(kind, Process::Client(p as i64), f, result).with_key(key)
            }
            None if started < ops => {
                started += 1;
                let key = (next() % keys as u64) as i64;
                let (f, value) = if next() % 2 == 0 {
                    ("write", Value::Int((next() % 100) as i64))
                } else {
                    ("read", Value::Null)
                };
                open[p] = Some((f.to_string(), key, value.clone()));
                Event::new(EventKind::Invoke, Process::Client(p as i64), f, value).with_key(key)
            }
            None => continue,
        };
        events.push(Event {
            time: Some(time),
            ..event
        });
    }
    History::from_events(events).expect("generated events pair up")
}

/// Milliseconds from navigation to the first complete frame, per page, from `bench.js`.
fn chromium_ready_ms(pages: &[PathBuf]) -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser-test");
    if !Path::new("/usr/bin/chromium").exists() || !dir.join("node_modules").exists() {
        return None;
    }
    let out = Command::new("node")
        .arg(dir.join("bench.js"))
        .args(pages)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("bench.js failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-bench");
    std::fs::create_dir_all(&out_dir).expect("target/ is writable");
    let mut pages = Vec::new();

    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/porcupine/kv/c50-bad.txt");
    match read_path(&corpus, None) {
        Ok(history) => {
            let init = Value::from("");
            let report = check_model("kv", Some(&init), None, &history, &CheckOptions::default())
                .expect("c50-bad checks");
            let (time, page) =
                median_time(15, || render_html(&history, Some(&report), "c50-bad.txt"));
            report_line(
                "c50-bad (kv, checked)",
                history.operations.len(),
                page.len(),
                time,
            );
            let path = out_dir.join("c50-bad.html");
            std::fs::write(&path, page).expect("the page is written");
            pages.push(path);
        }
        Err(e) => eprintln!("skipping c50-bad: {e}"),
    }

    let history = generated(100_000, 50, 10);
    let (time, page) = median_time(5, || render_html(&history, None, "generated 10^5"));
    report_line(
        "generated 10^5 (timed, 10 keys)",
        history.operations.len(),
        page.len(),
        time,
    );
    let path = out_dir.join("generated-100k.html");
    std::fs::write(&path, page).expect("the page is written");
    pages.push(path);

    match chromium_ready_ms(&pages) {
        Some(text) => print!("{text}"),
        None => println!("headless Chromium: skipped (needs /usr/bin/chromium and `npm ci` in crates/report/browser-test)"),
    }
}

fn report_line(name: &str, ops: usize, bytes: usize, time: Duration) {
    println!(
        "{name:<34} {ops:>7} ops  {:>8.1} KiB  {:>6.0} bytes/op  rendered in Rust in {:>7.2} ms (median)",
        bytes as f64 / 1024.0,
        bytes as f64 / ops as f64,
        time.as_secs_f64() * 1e3
    );
}
