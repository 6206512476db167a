//! `cargo bench -p photofinish-history --bench read`: how fast each reader ingests a history of
//! 10^6 events, as a table of medians.
//!
//! The same generated history (a cas register driven by 10 processes: writes, reads and
//! compare-and-sets, some failing or timing out) is written in every format the crate reads and
//! read back whole (JSON Lines parses its lines on every CPU, the other formats on one thread;
//! the CPU column sums all threads). Set `PHOTOFINISH_BENCH_RUNS` to change how many runs each
//! median is taken over, `PHOTOFINISH_BENCH_EVENTS` to change the history's size, and
//! `PHOTOFINISH_BENCH_ONLY` to a format's name (`JSON Lines`, ...) to time that format alone.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use photofinish_history::{read_path, Format};

fn runs() -> usize {
    env_number("PHOTOFINISH_BENCH_RUNS", 7)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// One operation of the generated history: (process, f, invocation value, outcome, result).
struct Op {
    process: u32,
    f: &'static str,
    value: String,
    outcome: &'static str,
    result: String,
}

/// A deterministic pseudo-random history, without a dependency on a random number crate.
fn operations(count: usize) -> Vec<Op> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    (0..count)
        .map(|i| {
            let process = (i % 10) as u32;
            let outcome = match next(20) {
                0 => "info",
                1 => "fail",
                _ => "ok",
            };
            match next(3) {
                0 => {
                    let v = next(5).to_string();
                    Op {
                        process,
                        f: "write",
                        value: v.clone(),
                        outcome,
                        result: v,
                    }
                }
                1 => Op {
                    process,
                    f: "read",
                    value: "null".into(),
                    outcome,
                    result: next(5).to_string(),
                },
                _ => {
                    let pair = (next(5), next(5));
                    Op {
                        process,
                        f: "cas",
                        value: format!("[{},{}]", pair.0, pair.1),
                        outcome,
                        result: format!("[{},{}]", pair.0, pair.1),
                    }
                }
            }
        })
        .collect()
}

/// Every event in order: each operation's invocation, then its completion, with 10 operations
/// open at a time.
fn events(ops: &[Op]) -> impl Iterator<Item = (&Op, bool)> {
    ops.chunks(10).flat_map(|chunk| {
        chunk
            .iter()
            .map(|op| (op, true))
            .chain(chunk.iter().map(|op| (op, false)))
    })
}

fn write_jsonl(ops: &[Op], array: bool) -> String {
    let mut out = String::new();
    if array {
        out.push_str("[\n");
    }
    let mut first = true;
    for (op, invoke) in events(ops) {
        if array && !first {
            out.push_str(",\n");
        }
        first = false;
        let (kind, value) = if invoke {
            ("invoke", &op.value)
        } else {
            (op.outcome, &op.result)
        };
        let _ = write!(
            out,
            r#"{{"type":"{kind}","f":"{}","value":{value},"process":{},"time":{}}}"#,
            op.f,
            op.process,
            out.len()
        );
        if !array {
            out.push('\n');
        }
    }
    if array {
        out.push_str("\n]\n");
    }
    out
}

fn edn_value(json: &str) -> String {
    json.replace(',', " ").replace("null", "nil")
}

fn write_edn(ops: &[Op]) -> String {
    let mut out = String::new();
    for (op, invoke) in events(ops) {
        let (kind, value) = if invoke {
            ("invoke", &op.value)
        } else {
            (op.outcome, &op.result)
        };
        let _ = writeln!(
            out,
            "{{:type :{kind}, :f :{}, :value {}, :process {}, :time {}}}",
            op.f,
            edn_value(value),
            op.process,
            out.len()
        );
    }
    out
}

fn write_jepsen_log(ops: &[Op]) -> String {
    let mut out = String::new();
    for (op, invoke) in events(ops) {
        let (kind, value) = if invoke {
            ("invoke", &op.value)
        } else {
            (op.outcome, &op.result)
        };
        let _ = writeln!(
            out,
            "INFO  jepsen.util - {}\t:{kind}\t:{}\t{}",
            op.process,
            op.f,
            edn_value(value)
        );
    }
    out
}

/// The time this process's threads have run on a CPU, from Linux's scheduler statistics: unlike
/// wall time, it does not count the time other processes on a busy machine took the CPU. Summed
/// over the threads alive (the reader's worker threads stay alive between reads). `None`
/// elsewhere.
fn cpu_time() -> Option<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(nanos))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let ops = operations(env_number("PHOTOFINISH_BENCH_EVENTS", 1_000_000) / 2);
    let dir = std::env::temp_dir().join(format!("photofinish-read-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<(&str, Format, String)> = vec![
        ("JSON Lines", Format::JsonLines, write_jsonl(&ops, false)),
        ("JSON array", Format::JsonLines, write_jsonl(&ops, true)),
        ("EDN", Format::Edn, write_edn(&ops)),
        ("Jepsen log", Format::JepsenLog, write_jepsen_log(&ops)),
    ];
    println!(
        "photofinish-history reading benchmark: median of {} runs, {} CPUs\n",
        runs(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| format | events | MB | median ms | events/s | MB/s | median CPU ms | events/CPU s |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let only = std::env::var("PHOTOFINISH_BENCH_ONLY").ok();
    for (name, format, text) in files {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let path = dir.join(name.replace(' ', "-"));
        std::fs::write(&path, &text).unwrap();
        let mb = text.len() as f64 / 1e6;
        drop(text);
        bench_file(name, &path, format, mb);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn bench_file(name: &str, path: &Path, format: Format, mb: f64) {
    let mut samples = Vec::new();
    let mut cpu_samples = Vec::new();
    let mut events = 0;
    for _ in 0..runs() {
        let cpu_start = cpu_time();
        let start = Instant::now();
        match read_path(path, Some(format)) {
            Ok(history) => events = history.event_count,
            Err(e) => {
                println!(
                    "| {name} | - | {mb:.1} | cannot read: {} | | | | |",
                    e.to_string().chars().take(60).collect::<String>()
                );
                return;
            }
        }
        samples.push(start.elapsed());
        if let (Some(before), Some(after)) = (cpu_start, cpu_time()) {
            cpu_samples.push(after - before);
        }
    }
    let elapsed = median(samples);
    let secs = elapsed.as_secs_f64();
    let cpu = if cpu_samples.is_empty() {
        "n/a | n/a".to_string()
    } else {
        let cpu = median(cpu_samples).as_secs_f64();
        format!("{:.1} | {:.2e}", cpu * 1e3, events as f64 / cpu)
    };
    println!(
        "| {name} | {events} | {mb:.1} | {:.1} | {:.2e} | {:.0} | {cpu} |",
        secs * 1e3,
        events as f64 / secs,
        mb / secs
    );
}
