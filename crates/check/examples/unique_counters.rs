//! Benchmark of the uniform-adds counter procedure: seeded, generated `counter` histories of
//! 10^5 operations from 10 and 100 clients, as `run -w counter` makes them (adds of 1 and
//! reads, half each, then a final read; 1% of operations crash: they end `info` or never
//! complete, a crashed add takes effect at once, later, or never), valid and with a fault
//! planted in the second half (a lost increment: an acknowledged add that never took effect,
//! in a history whose crashed adds never take effect, so none can stand in for it; a read
//! higher than every add begun could make; a read lower than one that completed before it
//! began), each checked `--runs` times; prints the verdict, whether it is the expected one, the
//! procedure that decided, the operations of the witness of an invalid one, the median check
//! time, and the median time to read and check the file in this process. With
//! `--photofinish BIN`, also the median whole-process time of `BIN check` on the same file.
//!
//! ```text
//! cargo run --release -p photofinish-check --example unique_counters -- \
//!     [--ops N] [--runs N] [--search auto|generic] [--photofinish target/release/photofinish]
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use photofinish_check::{check_model, CheckOptions, SearchChoice, Verdict};
use photofinish_history::{read_path, read_str, Format, Value};

/// xorshift64*: a small seeded generator, so every run checks the same histories.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    /// One acknowledged add never takes effect, and no crashed add ever does.
    Lost,
    /// One read returns one more than every add begun so far could make.
    TooHigh,
    /// One read returns one less than a read that completed before it began.
    Backwards,
}

#[derive(Clone, Copy)]
struct Shape {
    procs: usize,
    ops: usize,
    /// Percent of operations that crash.
    crash_pct: u64,
    fault: Fault,
    seed: u64,
}

/// An open operation: an add or a read, and once its effect happened, its result.
struct Open {
    add: bool,
    result: Option<i64>,
}

/// A counter history of `shape` (linearizable unless a fault is planted), as JSON Lines.
fn generate(shape: Shape) -> String {
    let mut rng = Rng(shape.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut text = String::new();
    let event = |text: &mut String, kind: &str, f: &str, value: &str, process: usize| {
        let _ = writeln!(
            text,
            r#"{{"type":"{kind}","f":"{f}","value":{value},"process":{process}}}"#
        );
    };
    let mut count = 0i64;
    let mut begun_adds = 0i64;
    // The highest value a read completed with so far.
    let mut highest_read: Option<i64> = None;
    let mut planted = false;
    let mut slots: Vec<(usize, Option<Open>)> = (0..shape.procs).map(|p| (p, None)).collect();
    let mut next_process = shape.procs;
    let mut invoked = 0;
    // Crashed adds whose effect has not happened yet.
    let mut limbo = 0usize;
    loop {
        let busy = slots.iter().filter(|s| s.1.is_some()).count();
        if invoked >= shape.ops && busy == 0 {
            break;
        }
        if limbo > 0 && rng.chance(10) {
            limbo -= 1;
            count += 1;
        }
        let plant = !planted && invoked >= shape.ops / 2;
        let slot = rng.below(shape.procs as u64) as usize;
        let (process, open) = &mut slots[slot];
        match open.take() {
            None if invoked < shape.ops => {
                invoked += 1;
                let add = rng.chance(50);
                if add {
                    begun_adds += 1;
                    event(&mut text, "invoke", "add", "1", *process);
                } else {
                    event(&mut text, "invoke", "read", "null", *process);
                }
                // A read that goes backwards must begin after the highest read completed.
                let floor = if plant && shape.fault == Fault::Backwards && !add {
                    highest_read.filter(|&h| h > 0)
                } else {
                    None
                };
                *open = Some(Open {
                    add,
                    result: floor.map(|h| h - 1),
                });
                if floor.is_some() {
                    planted = true;
                }
            }
            None => {}
            Some(Open { add, result: None }) => {
                if rng.chance(shape.crash_pct) {
                    // Crashes: an add takes effect now, later, or never. It says info, or
                    // nothing at all.
                    if add && shape.fault != Fault::Lost {
                        match rng.below(4) {
                            0 | 1 => count += 1,
                            2 => limbo += 1,
                            _ => {}
                        }
                    }
                    if rng.chance(50) {
                        let (f, value) = if add { ("add", "1") } else { ("read", "null") };
                        event(&mut text, "info", f, value, *process);
                    }
                    *process = next_process;
                    next_process += 1;
                    continue;
                }
                let result = if add {
                    if plant && shape.fault == Fault::Lost {
                        planted = true;
                    } else {
                        count += 1;
                    }
                    1
                } else if plant && shape.fault == Fault::TooHigh {
                    // Returns at once, before any other add can begin.
                    planted = true;
                    let high = (begun_adds + 1).to_string();
                    event(&mut text, "ok", "read", &high, *process);
                    continue;
                } else {
                    count
                };
                *open = Some(Open {
                    add,
                    result: Some(result),
                });
            }
            Some(Open {
                add,
                result: Some(result),
            }) => {
                if add {
                    event(&mut text, "ok", "add", "1", *process);
                } else {
                    event(&mut text, "ok", "read", &result.to_string(), *process);
                    highest_read = highest_read.max(Some(result));
                }
            }
        }
    }
    // The final read, once everything else is done.
    count += limbo as i64;
    event(&mut text, "invoke", "read", "null", next_process);
    event(&mut text, "ok", "read", &count.to_string(), next_process);
    assert!(
        planted || shape.fault == Fault::None,
        "the fault could not be planted"
    );
    text
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut ops = 100_000;
    let mut runs = 5;
    let mut search = SearchChoice::Auto;
    let mut binary: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match arg.as_str() {
            "--ops" => ops = value().parse().expect("--ops N"),
            "--runs" => runs = value().parse().expect("--runs N"),
            "--search" => {
                search = match value().as_str() {
                    "generic" => SearchChoice::Generic,
                    _ => SearchChoice::Auto,
                }
            }
            "--photofinish" => binary = Some(PathBuf::from(value())),
            other => panic!("unknown argument {other}"),
        }
    }
    let dir = std::env::temp_dir().join(format!("unique-counters-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    println!(
        "{:<40} {:>8} {:>9} {:>9} {:>16} {:>8} {:>9} {:>10} {:>10}",
        "history",
        "events",
        "verdict",
        "expected",
        "decided by",
        "witness",
        "check ms",
        "read+check",
        "process ms"
    );
    let mut wrong = 0;
    for procs in [10, 100] {
        for (label, crash_pct, fault) in [
            ("valid", 0, Fault::None),
            ("1% crashed", 1, Fault::None),
            ("1% crashed, a lost increment", 1, Fault::Lost),
            ("1% crashed, a read too high", 1, Fault::TooHigh),
            ("1% crashed, reads backwards", 1, Fault::Backwards),
        ] {
            let shape = Shape {
                procs,
                ops,
                crash_pct,
                fault,
                seed: procs as u64 * 1000 + crash_pct * 100 + fault as u64,
            };
            let text = generate(shape);
            let path = dir.join(format!(
                "{procs}-{}.jsonl",
                label.replace([' ', ',', '%'], "-")
            ));
            std::fs::write(&path, &text).expect("the history is written");
            let history = read_str(&text, "bench", Some(Format::JsonLines)).expect("well formed");
            let options = CheckOptions {
                search,
                ..CheckOptions::default()
            };
            let init = Value::Int(0);
            let mut verdict = Verdict::Unknown;
            let mut decided_by = String::new();
            let mut witness = "-".to_string();
            let checks: Vec<Duration> = (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    let report = check_model("counter", Some(&init), None, &history, &options)
                        .expect("checkable");
                    verdict = report.verdict;
                    if let Some(w) = &report.witness {
                        witness = w.operations.len().to_string();
                    }
                    decided_by = report
                        .procedures
                        .first()
                        .map_or("-".to_string(), |p| p.name.replace(" procedure", ""));
                    started.elapsed()
                })
                .collect();
            let whole: Vec<Duration> = (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    let history = read_path(&path, Some(Format::JsonLines)).expect("readable");
                    check_model("counter", Some(&init), None, &history, &options)
                        .expect("checkable");
                    started.elapsed()
                })
                .collect();
            let process = binary.as_ref().map_or("-".to_string(), |bin| {
                ms(median(
                    (0..runs)
                        .map(|_| {
                            let started = Instant::now();
                            Command::new(bin)
                                .args(["check", "--model", "counter", "--init", "0"])
                                .arg(&path)
                                .output()
                                .expect("photofinish runs");
                            started.elapsed()
                        })
                        .collect(),
                ))
            });
            let expected = if fault == Fault::None {
                Verdict::Valid
            } else {
                Verdict::Invalid
            };
            if verdict != expected {
                wrong += 1;
            }
            println!(
                "{:<40} {:>8} {:>9} {:>9} {:>16} {:>8} {:>9} {:>10} {:>10}",
                format!("{procs} clients, {label}"),
                history.event_count,
                format!("{verdict:?}"),
                if verdict == expected { "yes" } else { "NO" },
                decided_by,
                witness,
                ms(median(checks)),
                ms(median(whole)),
                process
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if wrong > 0 {
        eprintln!("{wrong} histories got the wrong verdict");
        std::process::exit(1);
    }
}
