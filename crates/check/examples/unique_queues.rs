//! Benchmark of the unique-elements queue procedure: seeded, generated `queue` histories of
//! 10^5 operations from 10 and 100 clients (distinct enqueued integers, the queue kept about a
//! hundred elements long; 1% of operations crash: they end `info` or never complete, a crashed
//! enqueue takes effect or not, a crashed dequeue takes the front element out at once or
//! later), valid and with a fault planted in the second half (elements lost, one more than
//! crashed dequeues could explain; an element dequeued twice; two elements reordered), each checked `--runs` times; prints the verdict,
//! whether it is the expected one, the procedure that decided, the operations of the witness
//! of an invalid one, the median check time, and the median time to read and check the file
//! in this process. With `--photofinish BIN`, also the
//! median whole-process time of `BIN check` on the same file.
//!
//! ```text
//! cargo run --release -p photofinish-check --example unique_queues -- \
//!     [--ops N] [--runs N] [--search auto|generic] [--photofinish target/release/photofinish]
//! ```

use std::collections::VecDeque;
use std::fmt::Write as _;

mod common;

use common::{Bench, Rng, Table};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    /// The queue drops elements whose enqueues completed (one more than the crashed dequeues
    /// that could have taken them out): later elements come out, they never.
    Lost,
    /// A dequeue returns the front element without taking it out: the next returns it again.
    Duplicated,
    /// The queue moves its last element to the front, and the front one to the back, though
    /// the front one's enqueue completed before the last one's began.
    Reordered,
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

/// An open operation: the element enqueued (`None` for a dequeue), and once its effect
/// happened, its result.
struct Open {
    enqueue: Option<i64>,
    result: Option<Option<i64>>,
}

/// The simulated queue, and when each element's enqueue began and completed ok.
struct Queue {
    elements: VecDeque<i64>,
    began: Vec<usize>,
    acknowledged: Vec<Option<usize>>,
    fault: Fault,
    planted: bool,
    /// The next dequeue keeps the front element (a planted duplicate).
    keep_next: bool,
    /// Per element: its enqueue crashed.
    crashed: Vec<bool>,
    /// Crashed dequeues that took out an element whose enqueue crashed: for all the history
    /// tells, they may have taken out any other element, and the enqueue never happened.
    spare: usize,
}

impl Queue {
    /// Plants the fault, once, if it can be planted now.
    fn plant(&mut self) {
        if self.planted || self.fault == Fault::None {
            return;
        }
        let acked = |q: &Queue, i: usize| q.acknowledged[q.elements[i] as usize];
        match self.fault {
            Fault::None => {}
            // One more element than the crashed dequeues whose element nothing else shows
            // could have taken out instead.
            Fault::Lost => {
                let lose: Vec<usize> = (0..self.elements.len())
                    .filter(|&i| acked(self, i).is_some())
                    .take(self.spare + 1)
                    .collect();
                if lose.len() == self.spare + 1
                    && lose.last().is_some_and(|&i| i + 1 < self.elements.len())
                {
                    for &i in lose.iter().rev() {
                        self.elements.remove(i);
                    }
                    self.planted = true;
                }
            }
            Fault::Duplicated => {
                self.keep_next = true;
                self.planted = true;
            }
            Fault::Reordered => {
                let last = self.elements.len().saturating_sub(1);
                if last > 0 {
                    if let Some(done) = acked(self, 0) {
                        if done < self.began[self.elements[last] as usize] {
                            self.elements.swap(0, last);
                            self.planted = true;
                        }
                    }
                }
            }
        }
    }

    /// A crashed dequeue takes out the front element.
    fn crashed_dequeue(&mut self) {
        if let Some(v) = self.elements.pop_front() {
            if self.crashed[v as usize] {
                self.spare += 1;
            }
        }
    }

    fn dequeue(&mut self) -> Option<i64> {
        if std::mem::take(&mut self.keep_next) {
            return self.elements.front().copied();
        }
        self.elements.pop_front()
    }
}

/// A queue history of `shape` (linearizable unless a fault is planted), as JSON Lines.
fn generate(shape: Shape) -> String {
    let mut rng = Rng::seeded(shape.seed);
    let mut text = String::new();
    let mut line = 0usize;
    let mut event = |text: &mut String, kind: &str, f: &str, value: &str, process: usize| {
        let _ = writeln!(
            text,
            r#"{{"type":"{kind}","f":"{f}","value":{value},"process":{process}}}"#
        );
        line += 1;
        line
    };
    let mut queue = Queue {
        elements: VecDeque::new(),
        began: Vec::new(),
        acknowledged: Vec::new(),
        fault: shape.fault,
        planted: false,
        keep_next: false,
        crashed: Vec::new(),
        spare: 0,
    };
    let mut slots: Vec<(usize, Option<Open>)> = (0..shape.procs).map(|p| (p, None)).collect();
    let mut next_process = shape.procs;
    let mut invoked = 0;
    // Crashed dequeues whose effect has not happened yet.
    let mut limbo = 0usize;
    loop {
        let busy = slots.iter().filter(|s| s.1.is_some()).count();
        if invoked >= shape.ops && busy == 0 {
            break;
        }
        if limbo > 0 && !queue.elements.is_empty() && rng.chance(10) {
            limbo -= 1;
            queue.crashed_dequeue();
        }
        if invoked >= shape.ops / 2 {
            queue.plant();
        }
        let slot = rng.below(shape.procs as u64) as usize;
        let (process, open) = &mut slots[slot];
        match open.take() {
            None if invoked < shape.ops => {
                invoked += 1;
                let len = queue.elements.len();
                let enqueue_pct = if len < 80 {
                    70
                } else if len > 120 {
                    30
                } else {
                    50
                };
                let enqueue = if rng.chance(enqueue_pct) {
                    let v = queue.began.len() as i64;
                    let at = event(&mut text, "invoke", "enqueue", &v.to_string(), *process);
                    queue.began.push(at);
                    queue.acknowledged.push(None);
                    queue.crashed.push(false);
                    Some(v)
                } else {
                    event(&mut text, "invoke", "dequeue", "null", *process);
                    None
                };
                *open = Some(Open {
                    enqueue,
                    result: None,
                });
            }
            None => {}
            Some(Open {
                enqueue,
                result: None,
            }) => {
                if rng.chance(shape.crash_pct) {
                    // Crashes: an enqueue takes effect or not; a dequeue takes the front out,
                    // now or later. It says info, or nothing at all.
                    match enqueue {
                        Some(v) if rng.chance(50) => queue.elements.push_back(v),
                        Some(_) => {}
                        None if !queue.elements.is_empty() && rng.chance(50) => {
                            queue.crashed_dequeue();
                        }
                        None => limbo += 1,
                    }
                    if let Some(v) = enqueue {
                        queue.crashed[v as usize] = true;
                    }
                    if rng.chance(50) {
                        let (f, value) = match enqueue {
                            Some(v) => ("enqueue", v.to_string()),
                            None => ("dequeue", "null".to_string()),
                        };
                        event(&mut text, "info", f, &value, *process);
                    }
                    *process = next_process;
                    next_process += 1;
                    continue;
                }
                let result = match enqueue {
                    Some(v) => {
                        queue.elements.push_back(v);
                        Some(v)
                    }
                    None => queue.dequeue(),
                };
                *open = Some(Open {
                    enqueue,
                    result: Some(result),
                });
            }
            Some(Open {
                enqueue,
                result: Some(result),
            }) => {
                let shown = result.map_or("null".to_string(), |v| v.to_string());
                match enqueue {
                    Some(v) => {
                        let at = event(&mut text, "ok", "enqueue", &shown, *process);
                        queue.acknowledged[v as usize] = Some(at);
                    }
                    None => {
                        event(&mut text, "ok", "dequeue", &shown, *process);
                    }
                }
            }
        }
    }
    assert!(
        queue.planted || shape.fault == Fault::None,
        "the fault could not be planted"
    );
    text
}

/// The table: as wide as its longest history name and procedure name.
const TABLE: Table = Table {
    history: 46,
    own: &[],
    decided_by: Some(22),
    check: 9,
};

fn main() {
    let mut bench = Bench::from_args("unique-queues", TABLE);
    for procs in [10, 100] {
        for (label, crash_pct, fault) in [
            ("valid", 0, Fault::None),
            ("1% crashed", 1, Fault::None),
            ("1% crashed, lost elements", 1, Fault::Lost),
            ("1% crashed, a duplicated element", 1, Fault::Duplicated),
            ("1% crashed, a reordered element", 1, Fault::Reordered),
        ] {
            let shape = Shape {
                procs,
                ops: bench.ops,
                crash_pct,
                fault,
                seed: procs as u64 * 1000 + crash_pct * 100 + fault as u64,
            };
            let name = format!("{procs} clients, {label}");
            let m = bench.measure(&name, &generate(shape), "queue", "[]");
            bench.row(m, fault == Fault::None, Vec::new());
        }
    }
    bench.finish();
}
