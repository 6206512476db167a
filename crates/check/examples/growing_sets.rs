//! Benchmark of the grow-only set procedure: seeded, generated `set` histories of 10^5
//! operations from 10 and 100 clients (unique elements, reads of the whole set now and then and
//! at the end; valid, with 1% crashed adds, and with a planted fault: a lost element, an element
//! nothing added, an element seen before its add began), each checked `--runs` times; prints
//! the verdict, whether it is the expected one, the median check time, and the median time to
//! read and check the file in this process. With `--photofinish BIN`, also the median
//! whole-process time of `BIN check` on the same file.
//!
//! ```text
//! cargo run --release -p photofinish-check --example growing_sets -- \
//!     [--ops N] [--runs N] [--search auto|generic] [--photofinish target/release/photofinish]
//! ```

use std::fmt::Write as _;

mod common;

use common::{Bench, Rng, Table};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    /// A read misses an element whose add completed before it began.
    Lost,
    /// A read holds an element nothing added.
    Phantom,
    /// A read holds an element whose add began only after it completed.
    Early,
}

#[derive(Clone, Copy)]
struct Shape {
    procs: usize,
    ops: usize,
    /// Percent of adds that crash: end `info` or never complete, their effect applied or not.
    crash_pct: u64,
    /// Reads per thousand operations.
    reads_permille: u64,
    fault: Fault,
    seed: u64,
}

/// One line of the history; a read's result is kept apart, to plant a fault in it.
enum Line {
    Text(String),
    ReadOk { process: usize, result: usize },
}

/// An operation that completed, for planting a fault.
struct Done {
    /// The element added, or the index of the read's result.
    add: Option<i64>,
    read: Option<usize>,
    invoke_line: usize,
    complete_line: usize,
}

/// A linearizable set history of `shape` (then, if asked, one fault planted), and how many
/// elements its reads returned in all.
fn generate(shape: Shape) -> (String, usize) {
    let mut rng = Rng::seeded(shape.seed);
    let mut lines: Vec<Line> = Vec::with_capacity(shape.ops * 2 + 2);
    let mut results: Vec<Vec<i64>> = Vec::new();
    let mut state: Vec<i64> = Vec::new();
    let mut next_element: i64 = 0;
    let mut next_process = shape.procs;
    // Per slot: its process, and its open operation (element added or `None` for a read,
    // invocation line, and once its effect happened, `Some` with the read's result index).
    type Open = (Option<i64>, usize, Option<usize>);
    let mut slots: Vec<(usize, Option<Open>)> = (0..shape.procs).map(|p| (p, None)).collect();
    let mut invoked = 0;
    let mut done: Vec<Done> = Vec::new();
    let event = |kind: &str, f: &str, value: &str, process: usize| {
        Line::Text(format!(
            r#"{{"type":"{kind}","f":"{f}","value":{value},"process":{process}}}"#
        ))
    };
    loop {
        let busy = slots.iter().filter(|s| s.1.is_some()).count();
        if invoked >= shape.ops && busy == 0 {
            break;
        }
        let slot = rng.below(shape.procs as u64) as usize;
        let (process, open) = &mut slots[slot];
        match open.take() {
            None if invoked < shape.ops => {
                invoked += 1;
                let add = if rng.below(1000) < shape.reads_permille {
                    None
                } else {
                    next_element += 1;
                    Some(next_element - 1)
                };
                lines.push(match add {
                    Some(e) => event("invoke", "add", &e.to_string(), *process),
                    None => event("invoke", "read", "null", *process),
                });
                *open = Some((add, lines.len(), None));
            }
            None => {}
            Some((add, invoke_line, None)) => {
                if let Some(e) = add {
                    if rng.chance(shape.crash_pct) {
                        // Crashes: before or after its effect; says info, or nothing at all.
                        if rng.chance(50) {
                            state.push(e);
                        }
                        if rng.chance(50) {
                            lines.push(event("info", "add", &e.to_string(), *process));
                        }
                        *process = next_process;
                        next_process += 1;
                        continue;
                    }
                    state.push(e);
                } else {
                    results.push(state.clone());
                }
                *open = Some((add, invoke_line, Some(results.len().wrapping_sub(1))));
            }
            Some((add, invoke_line, Some(result))) => {
                let (add, read) = match add {
                    Some(e) => {
                        lines.push(event("ok", "add", &e.to_string(), *process));
                        (Some(e), None)
                    }
                    None => {
                        lines.push(Line::ReadOk {
                            process: *process,
                            result,
                        });
                        (None, Some(result))
                    }
                };
                done.push(Done {
                    add,
                    read,
                    invoke_line,
                    complete_line: lines.len(),
                });
            }
        }
    }
    // A final read by a fresh process, after everything.
    lines.push(event("invoke", "read", "null", next_process));
    results.push(state.clone());
    lines.push(Line::ReadOk {
        process: next_process,
        result: results.len() - 1,
    });
    plant(shape.fault, &mut results, &done);
    let elements = results.iter().map(Vec::len).sum();
    let mut text = String::new();
    for line in lines {
        match line {
            Line::Text(t) => {
                let _ = writeln!(text, "{t}");
            }
            Line::ReadOk { process, result } => {
                let mut set = results[result].clone();
                set.sort_unstable();
                let shown: Vec<String> = set.iter().map(i64::to_string).collect();
                let _ = writeln!(
                    text,
                    r#"{{"type":"ok","f":"read","value":[{}],"process":{process}}}"#,
                    shown.join(",")
                );
            }
        }
    }
    (text, elements)
}

/// Plants `fault` in a read of the second half of the history.
fn plant(fault: Fault, results: &mut [Vec<i64>], done: &[Done]) {
    let reads = || {
        done[done.len() / 2..]
            .iter()
            .filter_map(|d| Some((d, d.read?)))
    };
    match fault {
        Fault::None => {}
        Fault::Lost => {
            for (read, r) in reads() {
                let mut acknowledged = done.iter().filter_map(|d| match d.add {
                    Some(e) if d.complete_line < read.invoke_line => Some(e),
                    _ => None,
                });
                if let Some(e) = acknowledged.next_back() {
                    results[r].retain(|&x| x != e);
                    return;
                }
            }
            panic!("no read to make lose an element");
        }
        Fault::Phantom => {
            let (_, r) = reads().next().expect("a read");
            results[r].push(-7);
        }
        Fault::Early => {
            for (read, r) in reads() {
                let later = done.iter().find_map(|d| match d.add {
                    Some(e) if d.invoke_line > read.complete_line => Some(e),
                    _ => None,
                });
                if let Some(e) = later {
                    results[r].push(e);
                    return;
                }
            }
            panic!("no read to make see an element early");
        }
    }
}

/// The table: as wide as its longest history name, plus the elements its reads returned.
const TABLE: Table = Table {
    history: 46,
    own: &[("elements", 9)],
    decided_by: None,
    check: 10,
};

fn main() {
    let mut bench = Bench::from_args("growing-sets", TABLE);
    for procs in [10, 100] {
        for (label, crash_pct, reads_permille, fault) in [
            ("valid", 0, 1, Fault::None),
            ("1% crashed adds", 1, 1, Fault::None),
            ("1% crashed, a lost element", 1, 1, Fault::Lost),
            ("1% crashed, an element never added", 1, 1, Fault::Phantom),
            ("1% crashed, an element seen early", 1, 1, Fault::Early),
            ("final read only", 1, 0, Fault::None),
        ] {
            let shape = Shape {
                procs,
                ops: bench.ops,
                crash_pct,
                reads_permille,
                fault,
                seed: procs as u64 * 1000 + crash_pct * 100 + fault as u64,
            };
            let (text, elements) = generate(shape);
            let name = format!("{procs} clients, {label}");
            let m = bench.measure(&name, &text, "set", "[]");
            bench.row(m, fault == Fault::None, vec![elements.to_string()]);
        }
    }
    bench.finish();
}
