//! Benchmark of the unique-values procedure: seeded, generated register histories of 10^5
//! operations from 10, 50 and 100 clients (valid, with a planted stale read, with 1% `info`
//! writes, with compare-and-sets), each checked five times; prints the verdict, whether it is
//! the expected one, and the median check time, and the median time to read and check the file
//! in this process. With `--photofinish BIN`, also the median whole-process time of
//! `BIN check` on the same file.
//!
//! ```text
//! cargo run --release -p photofinish-check --example unique_registers -- \
//!     [--ops N] [--runs N] [--search auto|generic] [--photofinish target/release/photofinish]
//! ```

use std::fmt::Write as _;

mod common;

use common::{Bench, Rng, Table};

#[derive(Clone, Copy)]
struct Shape {
    procs: usize,
    ops: usize,
    /// Percent of writes that end `info` (their effect applied, or not, at random).
    info_pct: u64,
    /// Percent of operations that are compare-and-sets (a `cas-register` history).
    cas_pct: u64,
    stale_read: bool,
    seed: u64,
}

#[derive(Clone)]
enum Kind {
    Read,
    Write(i64),
    Cas(i64, i64),
}

struct Open {
    process: usize,
    kind: Kind,
    /// The result once the effect happened: `Some(Ok(value))`, `Some(Err(()))` for a cas that
    /// found another value.
    effect: Option<Result<i64, ()>>,
}

/// One completed operation, for planting the stale read.
struct Done {
    kind: Kind,
    ok: bool,
    invoke_line: usize,
    complete_line: usize,
}

/// A linearizable history of `shape` as JSON Lines (then, if asked, one read made stale).
fn generate(shape: Shape) -> String {
    let mut rng = Rng::seeded(shape.seed);
    let mut lines: Vec<String> = Vec::with_capacity(shape.ops * 2);
    let mut state: i64 = 0;
    let mut next_value: i64 = 1;
    let mut next_process = shape.procs;
    let mut slots: Vec<(usize, Option<(Open, usize)>)> =
        (0..shape.procs).map(|p| (p, None)).collect();
    let mut invoked = 0;
    let mut done: Vec<Done> = Vec::new();
    let event = |kind: &str, f: &str, value: &str, process: usize| {
        format!(r#"{{"type":"{kind}","f":"{f}","value":{value},"process":{process}}}"#)
    };
    let args = |kind: &Kind| match kind {
        Kind::Read => ("read", "null".to_string()),
        Kind::Write(v) => ("write", v.to_string()),
        Kind::Cas(e, n) => ("cas", format!("[{e},{n}]")),
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
                let roll = rng.below(100);
                let kind = if roll < shape.cas_pct {
                    let expected = if rng.chance(80) { state } else { state - 1 };
                    next_value += 1;
                    Kind::Cas(expected, next_value - 1)
                } else if roll < shape.cas_pct + (100 - shape.cas_pct) / 2 {
                    Kind::Read
                } else {
                    next_value += 1;
                    Kind::Write(next_value - 1)
                };
                let (f, value) = args(&kind);
                lines.push(event("invoke", f, &value, *process));
                let line = lines.len();
                *open = Some((
                    Open {
                        process: *process,
                        kind,
                        effect: None,
                    },
                    line,
                ));
            }
            None => {}
            Some((mut op, invoke_line)) => {
                if op.effect.is_none() {
                    let info = matches!(op.kind, Kind::Write(_)) && rng.chance(shape.info_pct);
                    if info && rng.chance(50) {
                        // Times out before taking effect, and never does.
                        let (f, value) = args(&op.kind);
                        lines.push(event("info", f, &value, op.process));
                        *process = next_process;
                        next_process += 1;
                        continue;
                    }
                    op.effect = Some(match op.kind {
                        Kind::Read => Ok(state),
                        Kind::Write(v) => {
                            state = v;
                            Ok(v)
                        }
                        Kind::Cas(e, n) if e == state => {
                            state = n;
                            Ok(n)
                        }
                        Kind::Cas(..) => Err(()),
                    });
                    if info {
                        // Took effect, but the client never learns it.
                        let (f, value) = args(&op.kind);
                        lines.push(event("info", f, &value, op.process));
                        *process = next_process;
                        next_process += 1;
                        continue;
                    }
                    *open = Some((op, invoke_line));
                } else {
                    let (f, value) = args(&op.kind);
                    let (kind, result) = match (&op.kind, op.effect) {
                        (Kind::Read, Some(Ok(v))) => ("ok", v.to_string()),
                        (_, Some(Ok(_))) => ("ok", value),
                        _ => ("fail", value),
                    };
                    lines.push(event(kind, f, &result, op.process));
                    done.push(Done {
                        kind: op.kind.clone(),
                        ok: kind == "ok",
                        invoke_line,
                        complete_line: lines.len(),
                    });
                }
            }
        }
    }
    if shape.stale_read {
        plant_stale_read(&mut lines, &done);
    }
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        let _ = writeln!(text, "{line}");
    }
    text
}

/// Makes a read in the middle of the history return the value of a write that a later write
/// overwrote, both completed before the read began: a stale read no order explains.
fn plant_stale_read(lines: &mut [String], done: &[Done]) {
    let value_written = |d: &Done| match d.kind {
        Kind::Write(v) | Kind::Cas(_, v) if d.ok => Some(v),
        _ => None,
    };
    for read in done[done.len() / 2..]
        .iter()
        .filter(|d| matches!(d.kind, Kind::Read))
    {
        // The write that completed last before the read began, and one that completed before
        // that write began.
        let Some(second) = done
            .iter()
            .filter(|d| value_written(d).is_some() && d.complete_line < read.invoke_line)
            .max_by_key(|d| d.complete_line)
        else {
            continue;
        };
        let Some(first) = done
            .iter()
            .filter(|d| value_written(d).is_some() && d.complete_line < second.invoke_line)
            .max_by_key(|d| d.complete_line)
        else {
            continue;
        };
        let stale = value_written(first).expect("a write");
        let line = &mut lines[read.complete_line - 1];
        let at = line.find("\"value\":").expect("a value") + "\"value\":".len();
        let end = at + line[at..].find(',').expect("a process after the value");
        line.replace_range(at..end, &stale.to_string());
        return;
    }
    panic!("no read to make stale");
}

/// The table: as wide as its longest history name.
const TABLE: Table = Table {
    history: 34,
    own: &[],
    decided_by: None,
    check: 10,
};

fn main() {
    let mut bench = Bench::from_args("unique-registers", TABLE);
    for procs in [10, 50, 100] {
        for (label, info_pct, cas_pct, stale_read) in [
            ("valid", 0, 0, false),
            ("stale read", 0, 0, true),
            ("1% info writes", 1, 0, false),
            ("1% info writes, stale read", 1, 0, true),
            ("cas 30%, stale read", 1, 30, true),
        ] {
            let shape = Shape {
                procs,
                ops: bench.ops,
                info_pct,
                cas_pct,
                stale_read,
                seed: procs as u64 * 1000 + info_pct * 10 + cas_pct + stale_read as u64,
            };
            let model = if cas_pct > 0 {
                "cas-register"
            } else {
                "register"
            };
            let name = format!("{procs} clients, {label}");
            let m = bench.measure(&name, &generate(shape), model, "0");
            bench.row(m, !stale_read, Vec::new());
        }
    }
    bench.finish();
}
