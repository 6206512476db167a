//! Ingest alone: reads history files with [`photofinish_history::read_path`] several times and
//! prints, per file, the median wall time, events per second the CPU time of all threads, and the peak resident memory of
//! this process during the first read (so bytes per event include the reader's buffers and
//! everything a [`photofinish_history::History`] holds).
//!
//! ```text
//! cargo run --release -p photofinish-history --example ingest -- [--runs N] FILE...
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use photofinish_history::read_path;

/// The peak resident set of this process so far, in bytes (Linux's `VmHWM`); `None` elsewhere.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The CPU time this process's threads have used, from Linux's scheduler statistics (summed over
/// the threads alive: the reader's worker threads stay alive between reads); `None` elsewhere.
/// On a busy machine it shows the work apart from the waiting for a CPU.
fn cpu_time() -> Option<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(nanos))
}

/// Resets the peak resident set to the current one (Linux: writing 5 to `clear_refs`), so that
/// each file's peak is its own.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let mut runs = 5;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or_else(|| {
                        eprintln!("--runs needs a number above 0");
                        std::process::exit(2)
                    })
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        eprintln!("usage: ingest [--runs N] FILE...");
        std::process::exit(2);
    }
    println!("| file | events | MB | median ms | events/s | MB/s | CPU ms | peak RSS MB | RSS bytes/event |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for path in files {
        let mb = std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / 1e6);
        let mut samples = Vec::new();
        let mut cpu_samples = Vec::new();
        let mut events = 0;
        let mut rss = None;
        reset_peak_rss();
        for _ in 0..runs {
            let cpu_started = cpu_time();
            let started = Instant::now();
            let history = match read_path(&path, None) {
                Ok(history) => history,
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(2);
                }
            };
            samples.push(started.elapsed());
            if let (Some(before), Some(after)) = (cpu_started, cpu_time()) {
                cpu_samples.push(after - before);
            }
            events = history.event_count;
            rss = rss.or_else(peak_rss);
        }
        let secs = median(samples).as_secs_f64();
        let rss = rss.unwrap_or(0);
        let cpu = if cpu_samples.is_empty() {
            "n/a".to_string()
        } else {
            format!("{:.0}", median(cpu_samples).as_secs_f64() * 1e3)
        };
        println!(
            "| {} | {events} | {mb:.1} | {:.1} | {:.2e} | {:.0} | {cpu} | {:.1} | {:.0} |",
            path.display(),
            secs * 1e3,
            events as f64 / secs,
            mb / secs,
            rss as f64 / 1e6,
            rss as f64 / events.max(1) as f64
        );
    }
}
