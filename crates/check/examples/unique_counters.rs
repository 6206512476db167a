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

mod common;

use common::{Bench, Rng, Table};

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
    let mut rng = Rng::seeded(shape.seed);
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

/// The table: as wide as its longest history name and procedure name.
const TABLE: Table = Table {
    history: 40,
    own: &[],
    decided_by: Some(16),
    check: 9,
};

fn main() {
    let mut bench = Bench::from_args("unique-counters", TABLE);
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
                ops: bench.ops,
                crash_pct,
                fault,
                seed: procs as u64 * 1000 + crash_pct * 100 + fault as u64,
            };
            let name = format!("{procs} clients, {label}");
            let m = bench.measure(&name, &generate(shape), "counter", "0");
            bench.row(m, fault == Fault::None, Vec::new());
        }
    }
    bench.finish();
}
